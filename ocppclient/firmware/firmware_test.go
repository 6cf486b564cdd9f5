package firmware_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient/certstore"
	"github.com/evsed/evsed/ocppclient/certstore/certtest"
	"github.com/evsed/evsed/ocppclient/firmware"
)

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// fixture is a manufacturer PKI, a certificate store that trusts it, and
// a signed image.
type fixture struct {
	root, signer *certtest.Cert
	store        *certstore.Store
	image        []byte
	sig          string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := certtest.MustRoot(certtest.Spec{Name: "Maker root"})
	signer := root.MustIssue(certtest.Spec{Name: "Maker firmware signing", CodeSigning: true})
	st, err := certstore.Open(certstore.Options{Dir: t.TempDir(), Clock: clock.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Install(certstore.ManufacturerRoot, root.PEM()); err != nil {
		t.Fatal(err)
	}
	image := bytes.Repeat([]byte("evsed firmware image v2\n"), 4096)
	return &fixture{root: root, signer: signer, store: st, image: image, sig: sign(t, signer, image)}
}

// sign returns the base64 signature of image by c's key over its SHA-256.
func sign(t *testing.T, c *certtest.Cert, image []byte) string {
	t.Helper()
	d := sha256.Sum256(image)
	var opts crypto.SignerOpts = crypto.SHA256
	sig, err := c.Key.Sign(rand.Reader, d[:], opts)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// server serves body at /fw.bin; the first abort requests are cut off
// after half the body, with the full length announced.
func server(t *testing.T, body []byte, abort int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		if r.URL.Path != "/fw.bin" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if int(i) <= abort {
			w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // closes the connection mid-body
		}
		w.Write(body)
	}))
	srv.Config.ErrorLog = nil
	t.Cleanup(srv.Close)
	return srv, &n
}

// recorder is an Installer that keeps what it was handed.
type recorder struct {
	got   [][]byte
	out   firmware.Outcome
	err   error
	calls atomic.Int32
}

func (r *recorder) Install(_ context.Context, image string, _ firmware.Request) (firmware.Outcome, error) {
	r.calls.Add(1)
	b, err := os.ReadFile(image)
	if err != nil {
		return firmware.Done, err
	}
	r.got = append(r.got, b)
	return r.out, r.err
}

// run starts req on u and drives the fake clock until a final status,
// returning every status in order.
func run(t *testing.T, u *firmware.Updater, clk *clock.Fake, notices chan firmware.Notice, req firmware.Request) []firmware.Notice {
	t.Helper()
	if _, err := u.Start(context.Background(), req); err != nil {
		t.Fatalf("Start: %v", err)
	}
	var got []firmware.Notice
	for {
		select {
		case n := <-notices:
			got = append(got, n)
			if n.Status.Final() {
				u.Wait()
				return got
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

func statuses(ns []firmware.Notice) []firmware.Status {
	out := make([]firmware.Status, len(ns))
	for i, n := range ns {
		out[i] = n.Status
	}
	return out
}

func newUpdater(t *testing.T, f *fixture, inst firmware.Installer, idle firmware.Idler) (*firmware.Updater, *clock.Fake, chan firmware.Notice, string) {
	t.Helper()
	clk := clock.NewFake(t0)
	ch := make(chan firmware.Notice, 64)
	dir := t.TempDir()
	u, err := firmware.New(firmware.Options{
		Dir: dir, Installer: inst, Roots: f.store, Idle: idle, Clock: clk,
		OnStatus: func(n firmware.Notice) { ch <- n },
	})
	if err != nil {
		t.Fatal(err)
	}
	return u, clk, ch, dir
}

// TestSignedUpdate downloads a signed image at its retrieve date, checks
// it and installs it with the default executable hook.
func TestSignedUpdate(t *testing.T) {
	f := newFixture(t)
	bin := filepath.Join(t.TempDir(), "evsed")
	if err := os.WriteFile(bin, []byte("old binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	exe := &firmware.Executable{Path: bin}
	var idleAsked atomic.Bool
	idle := firmware.IdleFunc(func(context.Context) error { idleAsked.Store(true); return nil })
	u, clk, ch, dir := newUpdater(t, f, exe, idle)
	srv, _ := server(t, f.image, 0)

	got := run(t, u, clk, ch, firmware.Request{
		ID: 7, Location: srv.URL + "/fw.bin", RetrieveAt: t0.Add(10 * time.Minute),
		SigningCertificate: f.signer.PEM(), Signature: f.sig,
	})
	want := []firmware.Status{firmware.DownloadScheduled, firmware.Downloading, firmware.Downloaded,
		firmware.SignatureVerified, firmware.Installing, firmware.Installed}
	if !slices.Equal(statuses(got), want) {
		t.Fatalf("statuses %v, want %v", statuses(got), want)
	}
	for _, n := range got {
		if n.RequestID != 7 {
			t.Fatalf("notice for request %d", n.RequestID)
		}
	}
	if clk.Now().Before(t0.Add(10 * time.Minute)) {
		t.Fatalf("downloaded at %v, before the retrieve date", clk.Now())
	}
	if !idleAsked.Load() {
		t.Fatal("installed without asking Idle")
	}
	if b, _ := os.ReadFile(bin); !bytes.Equal(b, f.image) {
		t.Fatal("binary not replaced by the image")
	}
	if fi, _ := os.Stat(bin); fi.Mode().Perm() != 0o755 {
		t.Fatalf("binary mode %v", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(bin + ".prev"); string(b) != "old binary" {
		t.Fatalf("previous binary %q", b)
	}
	if !exe.Pending() {
		t.Fatal("no pending marker after install")
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("download dir keeps %d files", len(left))
	}
	if u.Last().Status != firmware.Installed {
		t.Fatalf("Last = %v", u.Last())
	}
}

func TestSignatureRefused(t *testing.T) {
	f := newFixture(t)
	tampered := slices.Clone(f.image)
	tampered[100] ^= 1
	other := f.root.MustIssue(certtest.Spec{Name: "other signer", CodeSigning: true})
	rsaSigner := f.root.MustIssue(certtest.Spec{Name: "RSA signer", Key: certtest.RSA2048})
	cases := []struct {
		name   string
		served []byte
		cert   *certtest.Cert
		sig    string
		want   firmware.Status
	}{
		{"tampered image", tampered, f.signer, f.sig, firmware.InvalidSignature},
		{"signed by another key", f.image, other, f.sig, firmware.InvalidSignature},
		{"RSA PKCS #1 v1.5", f.image, rsaSigner, sign(t, rsaSigner, f.image), firmware.Installed},
		{"RSA, tampered", tampered, rsaSigner, sign(t, rsaSigner, f.image), firmware.InvalidSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			u, clk, ch, _ := newUpdater(t, f, rec, nil)
			srv, _ := server(t, tc.served, 0)
			got := run(t, u, clk, ch, firmware.Request{
				ID: 1, Location: srv.URL + "/fw.bin", SigningCertificate: tc.cert.PEM(), Signature: tc.sig,
			})
			last := got[len(got)-1]
			if last.Status != tc.want {
				t.Fatalf("statuses %v, want final %v", statuses(got), tc.want)
			}
			if tc.want == firmware.InvalidSignature {
				if !errors.Is(last.Err, firmware.ErrInvalidSignature) {
					t.Fatalf("InvalidSignature with error %v", last.Err)
				}
				if rec.calls.Load() != 0 {
					t.Fatal("a refused image reached the install hook")
				}
			} else if len(rec.got) != 1 || !bytes.Equal(rec.got[0], tc.served) {
				t.Fatal("install hook did not get the image")
			}
		})
	}
}

func TestSigningCertificateRefused(t *testing.T) {
	f := newFixture(t)
	stranger := certtest.MustRoot(certtest.Spec{Name: "Maker root"}) // same name, not installed
	expired := f.root.MustIssue(certtest.Spec{Name: "expired", CodeSigning: true, NotAfter: t0.Add(-time.Hour)})
	tlsOnly := f.root.MustIssue(certtest.Spec{Name: "tls", Server: true})
	cases := []struct {
		name string
		cert []byte
		sig  string
		want error
	}{
		{"unknown root", stranger.MustIssue(certtest.Spec{Name: "s", CodeSigning: true}).PEM(), f.sig, firmware.ErrInvalidCertificate},
		{"expired", expired.PEM(), f.sig, firmware.ErrInvalidCertificate},
		{"not for code signing", tlsOnly.PEM(), f.sig, firmware.ErrInvalidCertificate},
		{"not a certificate", []byte("garbage"), f.sig, firmware.ErrInvalidCertificate},
		{"signature not base64", f.signer.PEM(), "!!", firmware.ErrInvalidSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			u, _, ch, _ := newUpdater(t, f, rec, nil)
			_, err := u.Start(context.Background(), firmware.Request{
				Location: "http://127.0.0.1:1/fw.bin", SigningCertificate: tc.cert, Signature: tc.sig,
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Start = %v, want %v", err, tc.want)
			}
			u.Wait()
			if len(ch) != 0 || u.Last().Status != firmware.Idle {
				t.Fatalf("a refused request reported %v", u.Last())
			}
		})
	}
}

func TestDownloadRetries(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name     string
		aborts   int
		retries  int
		want     []firmware.Status
		requests int32
	}{
		{"interrupted twice, two retries", 2, 2, []firmware.Status{
			firmware.Downloading, firmware.Downloading, firmware.Downloading, firmware.Downloaded,
			firmware.Installing, firmware.Installed}, 3},
		{"interrupted twice, one retry", 2, 1, []firmware.Status{
			firmware.Downloading, firmware.Downloading, firmware.DownloadFailed}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			u, clk, ch, _ := newUpdater(t, f, rec, nil)
			srv, n := server(t, f.image, tc.aborts)
			got := run(t, u, clk, ch, firmware.Request{
				Location: srv.URL + "/fw.bin", Retries: tc.retries, RetryInterval: 30 * time.Second,
			})
			if !slices.Equal(statuses(got), tc.want) {
				t.Fatalf("statuses %v, want %v", statuses(got), tc.want)
			}
			if n.Load() != tc.requests {
				t.Fatalf("%d requests, want %d", n.Load(), tc.requests)
			}
			if tc.want[len(tc.want)-1] == firmware.Installed && !bytes.Equal(rec.got[0], f.image) {
				t.Fatal("retried download handed a wrong image to the hook")
			}
			// Each retry waited RetryInterval in virtual time.
			if min := t0.Add(time.Duration(tc.requests-1) * 30 * time.Second); clk.Now().Before(min) {
				t.Fatalf("clock at %v, retries did not wait", clk.Now())
			}
		})
	}
}

func TestInstallWaitsForIdle(t *testing.T) {
	f := newFixture(t)
	called, release := make(chan struct{}), make(chan struct{})
	idle := firmware.IdleFunc(func(ctx context.Context) error {
		close(called)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	rec := &recorder{}
	u, _, ch, _ := newUpdater(t, f, rec, idle)
	srv, _ := server(t, f.image, 0)
	if _, err := u.Start(context.Background(), firmware.Request{Location: srv.URL + "/fw.bin"}); err != nil {
		t.Fatal(err)
	}
	<-called
	var got []firmware.Status
	for len(ch) > 0 {
		got = append(got, (<-ch).Status)
	}
	if !slices.Equal(got, []firmware.Status{firmware.Downloading, firmware.Downloaded}) || rec.calls.Load() != 0 {
		t.Fatalf("before idle: statuses %v, %d installs", got, rec.calls.Load())
	}
	close(release)
	u.Wait()
	if s := u.Last().Status; s != firmware.Installed || rec.calls.Load() != 1 {
		t.Fatalf("after idle: %v, %d installs", s, rec.calls.Load())
	}
}

func TestStartCancelsRunningUpdate(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{}
	u, clk, ch, _ := newUpdater(t, f, rec, nil)
	srv, _ := server(t, f.image, 0)
	canceled, err := u.Start(context.Background(), firmware.Request{ID: 1, Location: srv.URL + "/fw.bin", RetrieveAt: t0.Add(time.Hour)})
	if err != nil || canceled {
		t.Fatalf("first Start = %v, %v", canceled, err)
	}
	if n := <-ch; n.Status != firmware.DownloadScheduled {
		t.Fatalf("first status %v", n.Status)
	}
	if _, err := u.Start(context.Background(), firmware.Request{ID: 2, Location: "ftp://127.0.0.1/fw.bin"}); !errors.Is(err, firmware.ErrLocation) {
		t.Fatalf("ftp location: %v", err)
	}
	got := run(t, u, clk, ch, firmware.Request{ID: 3, Location: srv.URL + "/fw.bin"})
	for _, n := range got {
		if n.RequestID != 3 {
			t.Fatalf("canceled request %d reported %v", n.RequestID, n.Status)
		}
	}
	if rec.calls.Load() != 1 {
		t.Fatalf("%d installs, want 1", rec.calls.Load())
	}
}

func TestStatusCore(t *testing.T) {
	for _, tc := range []struct {
		s    firmware.Status
		want string
		ok   bool
	}{
		{firmware.Downloading, "Downloading", true},
		{firmware.Installed, "Installed", true},
		{firmware.InvalidSignature, "InstallationFailed", true},
		{firmware.DownloadScheduled, "", false},
		{firmware.SignatureVerified, "", false},
		{firmware.InstallRebooting, "", false},
	} {
		if got, ok := tc.s.Core(); got != tc.want || ok != tc.ok {
			t.Errorf("%s.Core() = %q, %v", tc.s, got, ok)
		}
	}
}

func TestInstallOutcomes(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name string
		out  firmware.Outcome
		err  error
		want firmware.Status
	}{
		{"rebooting", firmware.Rebooting, nil, firmware.InstallRebooting},
		{"verification failed", firmware.Done, fmt.Errorf("probe: %w", firmware.ErrVerification), firmware.InstallVerificationFailed},
		{"failed", firmware.Done, errors.New("disk full"), firmware.InstallationFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{out: tc.out, err: tc.err}
			u, clk, ch, _ := newUpdater(t, f, rec, nil)
			srv, _ := server(t, f.image, 0)
			got := run(t, u, clk, ch, firmware.Request{Location: srv.URL + "/fw.bin", InstallAt: t0.Add(time.Hour),
				SigningCertificate: f.signer.PEM(), Signature: f.sig})
			want := []firmware.Status{firmware.Downloading, firmware.Downloaded, firmware.SignatureVerified,
				firmware.InstallScheduled, firmware.Installing, tc.want}
			if !slices.Equal(statuses(got), want) {
				t.Fatalf("statuses %v, want %v", statuses(got), want)
			}
			if clk.Now().Before(t0.Add(time.Hour)) {
				t.Fatalf("installed at %v, before InstallAt", clk.Now())
			}
		})
	}
}
