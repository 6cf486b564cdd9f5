package logupload_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient/logupload"
	"github.com/evsed/evsed/ocppclient/secevents"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// line is one log line with the time it belongs to.
type line struct {
	at   time.Time
	text string
}

// agentLogs writes two rotated slog JSON files with one line a minute
// from t0 for n minutes, a continuation line after every tenth, and
// returns every line with its time (continuations carry the time of the
// line before).
func agentLogs(t *testing.T, dir string, n int) []line {
	t.Helper()
	var all []line
	var older, newer bytes.Buffer
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Minute)
		l := fmt.Sprintf(`{"time":"%s","level":"INFO","msg":"tick","n":%d}`, at.Format(time.RFC3339Nano), i)
		buf := &older
		if i >= n/2 {
			buf = &newer
		}
		buf.WriteString(l + "\n")
		all = append(all, line{at, l})
		if i%10 == 0 {
			c := fmt.Sprintf("\tgoroutine trace %d", i)
			buf.WriteString(c + "\n")
			all = append(all, line{at, c})
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "evsed.log.1"), older.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "evsed.log"), newer.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	old := t0.Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "evsed.log.1"), old, old); err != nil {
		t.Fatal(err)
	}
	return all
}

// received is what the test server got.
type received struct {
	mu      sync.Mutex
	method  string
	path    string
	entries map[string]string
	name    string
}

func untar(t *testing.T, r io.Reader) map[string]string {
	gz, err := gzip.NewReader(r)
	if err != nil {
		t.Errorf("gzip: %v", err)
		return nil
	}
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Errorf("tar: %v", err)
			return nil
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = string(b)
	}
}

// uploadServer answers the first fail requests with failCode, then 200.
func uploadServer(t *testing.T, fail, failCode int) (*httptest.Server, *received) {
	t.Helper()
	rec := &received{}
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		n++
		if n <= fail {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(failCode)
			return
		}
		rec.method, rec.path = r.Method, r.URL.Path
		body := io.Reader(r.Body)
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			f, h, err := r.FormFile("file")
			if err != nil {
				t.Errorf("multipart: %v", err)
				w.WriteHeader(400)
				return
			}
			defer f.Close()
			rec.name, body = h.Filename, f
		}
		rec.entries = untar(t, body)
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(srv.Close)
	return srv, rec
}

func run(t *testing.T, u *logupload.Uploader, clk *clock.Fake, ch chan logupload.Notice, req logupload.Request) (string, []logupload.Status) {
	t.Helper()
	name, _, err := u.Start(context.Background(), req)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	var got []logupload.Status
	for {
		select {
		case n := <-ch:
			got = append(got, n.Status)
			if n.Status.Final() {
				u.Wait()
				return name, got
			}
		default:
			if clk.Pending() > 0 {
				clk.Advance(time.Minute)
			} else {
				runtime.Gosched()
			}
		}
	}
}

func newUploader(t *testing.T, m logupload.Method) (*logupload.Uploader, *clock.Fake, chan logupload.Notice, string) {
	t.Helper()
	clk := clock.NewFake(t0.Add(24 * time.Hour))
	ch := make(chan logupload.Notice, 64)
	dir := t.TempDir()
	u, err := logupload.New(logupload.Options{Dir: dir, Prefix: "CP1", Method: m, Clock: clk,
		OnStatus: func(n logupload.Notice) { ch <- n }})
	if err != nil {
		t.Fatal(err)
	}
	return u, clk, ch, dir
}

// TestUploadWindow uploads the agent log and the security log for a
// window and checks that the server received exactly the lines of that
// window, by PUT and by multipart POST.
func TestUploadWindow(t *testing.T) {
	logDir := t.TempDir()
	all := agentLogs(t, logDir, 120)
	sec, err := secevents.OpenLog(secevents.LogOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sec.Close()
	for i := range 12 {
		if _, err := sec.Append(secevents.Event{Type: secevents.InvalidMessages, Time: t0.Add(time.Duration(i) * 10 * time.Minute), TechInfo: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	from, to := t0.Add(30*time.Minute), t0.Add(75*time.Minute)
	var wantAgent strings.Builder
	for _, l := range all {
		if !l.at.Before(from) && !l.at.After(to) {
			wantAgent.WriteString(l.text + "\n")
		}
	}
	var wantSec bytes.Buffer
	if _, err := sec.WriteWindow(&wantSec, from, to); err != nil {
		t.Fatal(err)
	}
	if strings.Count(wantSec.String(), "\n") != 5 { // minutes 30, 40, 50, 60, 70
		t.Fatalf("security window: %q", wantSec.String())
	}

	for _, tc := range []struct {
		name   string
		method logupload.Method
	}{{"PUT", logupload.Put}, {"POST multipart", logupload.PostMultipart}} {
		t.Run(tc.name, func(t *testing.T) {
			u, clk, ch, dir := newUploader(t, tc.method)
			srv, rec := uploadServer(t, 0, 0)
			name, got := run(t, u, clk, ch, logupload.Request{
				ID: 5, Location: srv.URL + "/logs/", From: from, To: to,
				Sources: []logupload.Source{&logupload.Files{Entry: "evsed.log", Glob: filepath.Join(logDir, "evsed.log*")}, sec},
			})
			if !slices.Equal(got, []logupload.Status{logupload.Uploading, logupload.Uploaded}) {
				t.Fatalf("statuses %v", got)
			}
			if name != "CP1-20260302T100000Z.tar.gz" {
				t.Fatalf("file name %q", name)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			wantMethod, wantPath := http.MethodPut, "/logs/"+name
			if tc.method == logupload.PostMultipart {
				wantMethod, wantPath = http.MethodPost, "/logs/"+name
				if rec.name != name {
					t.Fatalf("multipart file name %q", rec.name)
				}
			}
			if rec.method != wantMethod || rec.path != wantPath {
				t.Fatalf("got %s %s, want %s %s", rec.method, rec.path, wantMethod, wantPath)
			}
			if rec.entries["evsed.log"] != wantAgent.String() {
				t.Fatalf("agent log entry:\n%s\nwant:\n%s", rec.entries["evsed.log"], wantAgent.String())
			}
			if rec.entries["security.log"] != wantSec.String() {
				t.Fatalf("security log entry %q, want %q", rec.entries["security.log"], wantSec.String())
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Fatalf("archive dir keeps %d files", len(left))
			}
		})
	}
}

func TestUploadRetriesAndRefusals(t *testing.T) {
	logDir := t.TempDir()
	agentLogs(t, logDir, 10)
	src := []logupload.Source{&logupload.Files{Entry: "evsed.log", Glob: filepath.Join(logDir, "evsed.log*")}}
	cases := []struct {
		name     string
		fail     int
		code     int
		retries  int
		want     []logupload.Status
		wantDiag string
		wantLog  string
	}{
		{"500 then OK", 2, 500, 2, []logupload.Status{logupload.Uploading, logupload.Uploading, logupload.Uploading, logupload.Uploaded}, "Uploaded", "Uploaded"},
		{"500 beyond retries", 3, 500, 1, []logupload.Status{logupload.Uploading, logupload.Uploading, logupload.UploadFailed}, "UploadFailed", "UploadFailure"},
		{"403", 1, 403, 3, []logupload.Status{logupload.Uploading, logupload.PermissionDenied}, "UploadFailed", "PermissionDenied"},
		{"405", 1, 405, 3, []logupload.Status{logupload.Uploading, logupload.NotSupportedOperation}, "UploadFailed", "NotSupportedOperation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, clk, ch, _ := newUploader(t, logupload.Put)
			srv, _ := uploadServer(t, tc.fail, tc.code)
			start := clk.Now()
			_, got := run(t, u, clk, ch, logupload.Request{Location: srv.URL + "/up", Retries: tc.retries, RetryInterval: 45 * time.Second, Sources: src})
			if !slices.Equal(got, tc.want) {
				t.Fatalf("statuses %v, want %v", got, tc.want)
			}
			last := got[len(got)-1]
			if last.Diagnostics() != tc.wantDiag || last.Log() != tc.wantLog {
				t.Fatalf("%s maps to %q / %q", last, last.Diagnostics(), last.Log())
			}
			if retries := len(got) - 2; retries > 0 && clk.Now().Sub(start) < time.Duration(retries)*45*time.Second {
				t.Fatalf("retries did not wait: %v", clk.Now().Sub(start))
			}
		})
	}
}

func TestStartRefuses(t *testing.T) {
	u, _, _, _ := newUploader(t, logupload.Put)
	src := []logupload.Source{&logupload.Files{Entry: "x", Glob: "none"}}
	if _, _, err := u.Start(context.Background(), logupload.Request{Location: "ftp://127.0.0.1/logs/", Sources: src}); !errors.Is(err, logupload.ErrLocation) {
		t.Fatalf("ftp: %v", err)
	}
	if _, _, err := u.Start(context.Background(), logupload.Request{Location: "http://127.0.0.1/"}); !errors.Is(err, logupload.ErrNoSources) {
		t.Fatalf("no sources: %v", err)
	}
}

func TestLineTime(t *testing.T) {
	want := time.Date(2026, 3, 1, 10, 0, 0, 500000000, time.UTC)
	for _, l := range []string{
		`{"time":"2026-03-01T10:00:00.5Z","level":"INFO","msg":"x"}`,
		`time=2026-03-01T10:00:00.5Z level=INFO msg=x`,
		`2026-03-01T10:00:00.5Z INFO x`,
	} {
		if got, ok := logupload.LineTime([]byte(l)); !ok || !got.Equal(want) {
			t.Errorf("LineTime(%q) = %v, %v", l, got, ok)
		}
	}
	for _, l := range []string{"", "\tat main.go:12", `{"level":"INFO"}`} {
		if _, ok := logupload.LineTime([]byte(l)); ok {
			t.Errorf("LineTime(%q) found a time", l)
		}
	}
}
