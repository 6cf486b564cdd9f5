package firmware_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient/certstore"
	"github.com/evsed/evsed/ocppclient/certstore/certtest"
	"github.com/evsed/evsed/ocppclient/firmware"
)

// How a fileServer answers a request that carries a Range.
type rangeMode int

const (
	serveContent rangeMode = iota // net/http's ServeContent: Range, If-Range, ETag, Last-Modified
	ignoreRange                   // always the whole file, 200
	wrongRange                    // a 206 that does not start where asked
	refuseRange                   // 416
)

// version is one content of the served file.
type version struct {
	body []byte
	etag string // "" sends none
}

// seen is what the server saw of one request and answered.
type seen struct {
	rng, ifRange, acceptEncoding string
	status                       int
}

// fileServer serves one file at /fw.bin with the standard library's
// range support, and misbehaves on demand.
type fileServer struct {
	*httptest.Server
	mode    rangeMode
	modtime time.Time // Last-Modified; zero sends none
	// cut maps a request (1-based) to the body bytes after which its
	// connection is cut.
	cut map[int]int64
	// stall, when set, makes a cut request wait, after its bytes are
	// out, until the client goes away; stalled is closed then.
	stall   bool
	stalled chan struct{}
	// change maps a request (1-based) to the version served from it on.
	change map[int]version

	mu   sync.Mutex // guards cur and reqs
	cur  version
	reqs []seen
}

func newFileServer(t *testing.T, v version, mode rangeMode) *fileServer {
	t.Helper()
	fs := &fileServer{cur: v, mode: mode, cut: map[int]int64{}, change: map[int]version{}, stalled: make(chan struct{})}
	fs.Server = httptest.NewServer(http.HandlerFunc(fs.serve))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *fileServer) url() string { return fs.URL + "/fw.bin" }

func (fs *fileServer) requests() []seen {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return slices.Clone(fs.reqs)
}

func (fs *fileServer) serve(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	n := len(fs.reqs) + 1
	if v, ok := fs.change[n]; ok {
		fs.cur = v
	}
	v := fs.cur
	fs.reqs = append(fs.reqs, seen{rng: r.Header.Get("Range"), ifRange: r.Header.Get("If-Range"), acceptEncoding: r.Header.Get("Accept-Encoding")})
	fs.mu.Unlock()
	cw := &cutWriter{ResponseWriter: w, limit: -1, record: func(code int) {
		fs.mu.Lock()
		fs.reqs[n-1].status = code
		fs.mu.Unlock()
	}}
	if c, ok := fs.cut[n]; ok {
		cw.limit = c
		if fs.stall {
			cw.hold = func() {
				close(fs.stalled)
				<-r.Context().Done()
			}
		}
	}
	if v.etag != "" {
		w.Header().Set("ETag", v.etag)
	}
	size := int64(len(v.body))
	switch rng := r.Header.Get("Range"); {
	case rng != "" && fs.mode == wrongRange:
		w.Header().Set("Content-Range", fmt.Sprintf("bytes 10-%d/%d", size-1, size))
		w.Header().Set("Content-Length", strconv.FormatInt(size-10, 10))
		cw.WriteHeader(http.StatusPartialContent)
		cw.Write(v.body[10:])
	case rng != "" && fs.mode == refuseRange:
		w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", size))
		cw.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
	case fs.mode == ignoreRange:
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		cw.WriteHeader(http.StatusOK)
		cw.Write(v.body)
	default:
		http.ServeContent(cw, r, "fw.bin", fs.modtime, bytes.NewReader(v.body))
	}
}

// cutWriter records the status and cuts the connection after limit body
// bytes (-1: never).
type cutWriter struct {
	http.ResponseWriter
	limit   int64
	written int64
	hold    func()
	record  func(code int)
}

func (c *cutWriter) WriteHeader(code int) {
	c.record(code)
	c.ResponseWriter.WriteHeader(code)
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if c.limit < 0 || c.written+int64(len(p)) <= c.limit {
		c.written += int64(len(p))
		return c.ResponseWriter.Write(p)
	}
	c.ResponseWriter.Write(p[:c.limit-c.written])
	c.ResponseWriter.(http.Flusher).Flush()
	if c.hold != nil {
		c.hold()
	}
	panic(http.ErrAbortHandler) // closes the connection mid-body
}

// rig is one Updater with what a test watches of it.
type rig struct {
	u   *firmware.Updater
	clk *clock.Fake
	ch  chan firmware.Notice
	log *syncBuffer
	// last is the last notice until saw.
	last firmware.Notice
}

// newRig builds an Updater on dir at now; opts' Dir, Clock, OnStatus and
// Logger are set here, and its Installer defaults to a recorder.
func newRig(t *testing.T, dir string, now time.Time, opts firmware.Options) *rig {
	t.Helper()
	r := &rig{clk: clock.NewFake(now), ch: make(chan firmware.Notice, 64), log: &syncBuffer{}}
	opts.Dir, opts.Clock, opts.Logger = dir, r.clk, slog.New(slog.NewTextHandler(r.log, nil))
	opts.OnStatus = func(n firmware.Notice) { r.ch <- n }
	if opts.Installer == nil {
		opts.Installer = &recorder{}
	}
	u, err := firmware.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r.u = u
	return r
}

// until drives the fake clock and collects statuses until stop says so
// of the statuses so far, or a final status (then it waits for the
// update's end).
func (r *rig) until(t *testing.T, stop func([]firmware.Status) bool) []firmware.Status {
	t.Helper()
	var got []firmware.Status
	for {
		select {
		case n := <-r.ch:
			r.last = n
			got = append(got, n.Status)
			if n.Status.Final() {
				r.u.Wait()
				return got
			}
			if stop != nil && stop(got) {
				return got
			}
		default:
			if r.clk.Pending() > 0 {
				r.clk.Advance(time.Minute)
			} else {
				runtime.Gosched()
			}
		}
	}
}

// syncBuffer is a log sink safe for the update's goroutine.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// dirFiles lists the names in dir.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// TestDownloadResumes cuts the first download after some bytes and
// checks what the second attempt asks and what ends up installed, for
// servers that honour ranges and for those that do not.
func TestDownloadResumes(t *testing.T) {
	f := newFixture(t)
	v2 := bytes.Repeat([]byte("evsed firmware image v3\n"), 3000)
	const cut = 40000
	mark := fmt.Sprintf("bytes=%d-", cut)
	cases := []struct {
		name    string
		etag    string
		modtime time.Time
		mode    rangeMode
		change  []byte // served from the second request on, under another ETag
		signed  bool
		want    []seen // from the second request on
		image   []byte // what the install hook gets; nil: f.image
	}{
		{name: "ETag, signed: appends the rest", etag: `"v2"`, signed: true,
			want: []seen{{rng: mark, ifRange: `"v2"`, status: http.StatusPartialContent}}},
		{name: "Last-Modified only", modtime: t0.Add(-time.Hour),
			want: []seen{{rng: mark, ifRange: t0.Add(-time.Hour).Format(http.TimeFormat), status: http.StatusPartialContent}}},
		{name: "weak ETag: starts over", etag: `W/"v2"`,
			want: []seen{{status: http.StatusOK}}},
		{name: "no validator: starts over",
			want: []seen{{status: http.StatusOK}}},
		{name: "server ignores Range: 200 starts over", etag: `"v2"`, mode: ignoreRange,
			want: []seen{{rng: mark, ifRange: `"v2"`, status: http.StatusOK}}},
		{name: "file changed: If-Range gets all of it", etag: `"v2"`, change: v2,
			want:  []seen{{rng: mark, ifRange: `"v2"`, status: http.StatusOK}},
			image: v2},
		{name: "Content-Range elsewhere: asks again without Range", etag: `"v2"`, mode: wrongRange,
			want: []seen{{rng: mark, ifRange: `"v2"`, status: http.StatusPartialContent}, {status: http.StatusOK}}},
		{name: "416: asks again without Range", etag: `"v2"`, mode: refuseRange,
			want: []seen{{rng: mark, ifRange: `"v2"`, status: http.StatusRequestedRangeNotSatisfiable}, {status: http.StatusOK}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFileServer(t, version{body: f.image, etag: tc.etag}, tc.mode)
			srv.modtime = tc.modtime
			srv.cut[1] = cut
			if tc.change != nil {
				srv.change[2] = version{body: tc.change, etag: `"v3"`}
			}
			rec := &recorder{}
			r := newRig(t, t.TempDir(), t0, firmware.Options{Installer: rec, Roots: f.store})
			req := firmware.Request{ID: 3, Location: srv.url(), Retries: 1, RetryInterval: 30 * time.Second}
			if tc.signed {
				req.SigningCertificate, req.Signature = f.signer.PEM(), f.sig
			}
			if _, err := r.u.Start(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			got := r.until(t, nil)
			want := []firmware.Status{firmware.Downloading, firmware.Downloading, firmware.Downloaded}
			if tc.signed {
				want = append(want, firmware.SignatureVerified)
			}
			want = append(want, firmware.Installing, firmware.Installed)
			if !slices.Equal(got, want) {
				t.Fatalf("statuses %v, want %v", got, want)
			}
			reqs := srv.requests()
			if reqs[0].rng != "" || reqs[0].status != http.StatusOK {
				t.Fatalf("first request %+v", reqs[0])
			}
			for _, s := range reqs {
				if s.acceptEncoding != "identity" {
					t.Fatalf("Accept-Encoding %q: a compressed body would break ranges", s.acceptEncoding)
				}
			}
			later := reqs[1:]
			for i := range later {
				later[i].acceptEncoding = ""
			}
			if !slices.Equal(later, tc.want) {
				t.Fatalf("later requests %+v, want %+v", later, tc.want)
			}
			image := tc.image
			if image == nil {
				image = f.image
			}
			if len(rec.got) != 1 || !bytes.Equal(rec.got[0], image) {
				t.Fatalf("installed %d images, the image right: %v", len(rec.got), len(rec.got) == 1 && bytes.Equal(rec.got[0], image))
			}
		})
	}
}

// TestDownloadBounds fails attempts whose image is too large for MaxSize
// or for the free space.
func TestDownloadBounds(t *testing.T) {
	cases := []struct {
		name    string
		length  string // Content-Length sent; "" sends the body chunked
		body    int
		maxSize int64
		want    error
	}{
		{"announced beyond MaxSize", "5000", 5000, 4096, firmware.ErrTooLarge},
		{"chunked beyond MaxSize", "", 5000, 4096, firmware.ErrTooLarge},
		{"announced beyond the free space", strconv.FormatInt(1<<55, 10), 100, 1 << 60, firmware.ErrNoSpace},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == firmware.ErrNoSpace && runtime.GOOS != "linux" && runtime.GOOS != "darwin" && runtime.GOOS != "freebsd" {
				t.Skip("no free-space check on " + runtime.GOOS)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tc.length != "" {
					w.Header().Set("Content-Length", tc.length)
				}
				w.Write(bytes.Repeat([]byte{'x'}, tc.body))
			}))
			t.Cleanup(srv.Close)
			dir := t.TempDir()
			r := newRig(t, dir, t0, firmware.Options{MaxSize: tc.maxSize})
			if _, err := r.u.Start(context.Background(), firmware.Request{Location: srv.URL + "/fw.bin"}); err != nil {
				t.Fatal(err)
			}
			var last firmware.Notice
			for n := range r.ch {
				if last = n; n.Status.Final() {
					break
				}
			}
			r.u.Wait()
			if last.Status != firmware.DownloadFailed || !errors.Is(last.Err, tc.want) {
				t.Fatalf("ended %v (%v), want DownloadFailed with %v", last.Status, last.Err, tc.want)
			}
			if left := dirFiles(t, dir); len(left) != 0 {
				t.Fatalf("left %v", left)
			}
		})
	}
}

// blockingInstaller waits in Install until its context ends.
type blockingInstaller struct{ entered chan struct{} }

func (b *blockingInstaller) Install(ctx context.Context, _ string, _ firmware.Request) (firmware.Outcome, error) {
	close(b.entered)
	<-ctx.Done()
	return firmware.Done, ctx.Err()
}

// pendingInstaller is a PendingInstaller that says an install of id
// took effect.
type pendingInstaller struct {
	recorder
	id int
}

func (p *pendingInstaller) PendingRequest() (int, bool) { return p.id, true }

// stopper is a certificate store's roots that a test can take away.
type stopper struct {
	*certstore.Store
	gone bool
}

func (s *stopper) ManufacturerRoots() (*x509.CertPool, error) {
	if s.gone {
		return nil, errors.New("no manufacturer roots")
	}
	return s.Store.ManufacturerRoots()
}

// TestResumeAfterRestart stops an Updater in each phase (its context
// ends, as the process would), starts a new one on the same Dir, later,
// and checks that Resume carries the update to its end, reporting the
// phase it resumed first.
func TestResumeAfterRestart(t *testing.T) {
	f := newFixture(t)
	shortCert := f.root.MustIssue(certtest.Spec{Name: "short-lived signer", CodeSigning: true, NotAfter: t0.Add(30 * time.Minute)})
	const cut = 50000
	type phaseCase struct {
		name string
		req  firmware.Request // Location filled in
		// first process: its stop point (after this status; Downloading
		// means once the stalling server has sent cut bytes), idle and
		// installer
		stopAfter firmware.Status
		idleA     bool // WaitIdle blocks
		blockA    bool // Install blocks
		// between: damage the kept image, take the roots away
		damage, noRoots bool
		// second process
		later      time.Duration // its clock, after t0
		installerB firmware.Installer
		firstA     []firmware.Status
		wantB      []firmware.Status
		requests   int
		rangeAsked bool // the second process's request carries Range
	}
	s := func(ss ...firmware.Status) []firmware.Status { return ss }
	const (
		dsch, dl, dled, sv = firmware.DownloadScheduled, firmware.Downloading, firmware.Downloaded, firmware.SignatureVerified
		isch, ing, ied     = firmware.InstallScheduled, firmware.Installing, firmware.Installed
	)
	signed := firmware.Request{ID: 11, SigningCertificate: f.signer.PEM(), Signature: f.sig, Origin: "ocpp1.6/SignedUpdateFirmware"}
	with := func(r firmware.Request, edit func(*firmware.Request)) firmware.Request { edit(&r); return r }
	cases := []phaseCase{
		{name: "mid-download: resumes with Range", req: signed, stopAfter: dl, later: time.Minute,
			firstA: s(dl), wantB: s(dl, dled, sv, ing, ied), requests: 2, rangeAsked: true},
		{name: "download scheduled: waits for it again", req: with(signed, func(r *firmware.Request) { r.RetrieveAt = t0.Add(time.Hour) }),
			stopAfter: dsch, later: 10 * time.Minute, firstA: s(dsch), wantB: s(dsch, dl, dled, sv, ing, ied), requests: 1},
		{name: "download scheduled, its date passed while down", req: with(signed, func(r *firmware.Request) { r.RetrieveAt = t0.Add(time.Hour) }),
			stopAfter: dsch, later: 2 * time.Hour, firstA: s(dsch), wantB: s(dl, dled, sv, ing, ied), requests: 1},
		{name: "downloaded, waiting for idle: verifies again", req: signed, stopAfter: sv, idleA: true, later: time.Minute,
			firstA: s(dl, dled, sv), wantB: s(dled, sv, ing, ied), requests: 1},
		{name: "install scheduled: waits for it again", req: with(signed, func(r *firmware.Request) { r.InstallAt = t0.Add(3 * time.Hour) }),
			stopAfter: isch, later: time.Hour, firstA: s(dl, dled, sv, isch), wantB: s(isch, ing, ied), requests: 1},
		{name: "install scheduled, image damaged while down: downloads again", req: with(signed, func(r *firmware.Request) { r.InstallAt = t0.Add(3 * time.Hour) }),
			stopAfter: isch, damage: true, later: time.Hour, firstA: s(dl, dled, sv, isch), wantB: s(dl, dled, sv, isch, ing, ied), requests: 2},
		{name: "signing certificate expired while down: checked as of acceptance",
			req:       firmware.Request{ID: 12, SigningCertificate: shortCert.PEM(), Signature: sign(t, shortCert, f.image), RetrieveAt: t0.Add(10 * time.Minute)},
			stopAfter: dsch, later: 2 * time.Hour, firstA: s(dsch), wantB: s(dl, dled, sv, ing, ied), requests: 1},
		{name: "manufacturer roots gone while down", req: with(signed, func(r *firmware.Request) { r.RetrieveAt = t0.Add(time.Hour) }),
			stopAfter: dsch, noRoots: true, later: time.Minute, firstA: s(dsch), wantB: s(firmware.InvalidSignature), requests: 0},
		{name: "interrupted install: fails", req: signed, stopAfter: ing, blockA: true, later: time.Minute,
			firstA: s(dl, dled, sv, ing), wantB: s(firmware.InstallationFailed), requests: 1},
		{name: "install took effect: ends silently", req: signed, stopAfter: ing, blockA: true, later: time.Minute,
			installerB: &pendingInstaller{id: 11}, firstA: s(dl, dled, sv, ing), wantB: nil, requests: 1},
		{name: "unsigned, mid-download", req: firmware.Request{}, stopAfter: dl, later: time.Minute,
			firstA: s(dl), wantB: s(dl, dled, ing, ied), requests: 2, rangeAsked: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFileServer(t, version{body: f.image, etag: `"img-11"`}, serveContent)
			if tc.stopAfter == dl {
				srv.cut[1], srv.stall = cut, true
			}
			dir := t.TempDir()
			roots := &stopper{Store: f.store}
			req := tc.req
			req.Location = srv.url()

			// The first process, stopped at its phase.
			optsA := firmware.Options{Roots: roots}
			entered := make(chan struct{})
			if tc.blockA {
				optsA.Installer = &blockingInstaller{entered: entered}
			}
			if tc.idleA {
				optsA.Idle = firmware.IdleFunc(func(ctx context.Context) error { close(entered); <-ctx.Done(); return ctx.Err() })
			}
			a := newRig(t, dir, t0, optsA)
			ctxA, stopA := context.WithCancel(context.Background())
			if _, err := a.u.Start(ctxA, req); err != nil {
				t.Fatal(err)
			}
			gotA := a.until(t, func(ss []firmware.Status) bool { return ss[len(ss)-1] == tc.stopAfter })
			switch {
			case tc.stopAfter == dl:
				<-srv.stalled
				waitSize(t, filepath.Join(dir, "image.bin"), cut)
			case tc.idleA || tc.blockA:
				<-entered
			}
			stopA()
			a.u.Wait()
			if !slices.Equal(gotA, tc.firstA) {
				t.Fatalf("first process: %v, want %v", gotA, tc.firstA)
			}
			if !slices.Contains(dirFiles(t, dir), firmware.StateFile) {
				t.Fatalf("stopped update left no state file: %v", dirFiles(t, dir))
			}
			if tc.damage {
				img := filepath.Join(dir, "image.bin")
				b, err := os.ReadFile(img)
				if err != nil {
					t.Fatal(err)
				}
				b[7] ^= 0xff
				if err := os.WriteFile(img, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			roots.gone = tc.noRoots

			// The second process.
			rec := &recorder{}
			var inst firmware.Installer = rec
			if tc.installerB != nil {
				inst = tc.installerB
			}
			b := newRig(t, dir, t0.Add(tc.later), firmware.Options{Roots: roots, Installer: inst})
			if !b.u.Resume(context.Background()) {
				t.Fatal("Resume found no update")
			}
			if b.u.Resume(context.Background()) {
				t.Fatal("a second Resume resumed again")
			}
			var gotB []firmware.Status
			if tc.wantB != nil {
				gotB = b.until(t, nil)
			} else {
				b.u.Wait()
				if len(b.ch) != 0 || b.u.Last().Status != firmware.Idle {
					t.Fatalf("a finished install reported %v", b.u.Last())
				}
			}
			if !slices.Equal(gotB, tc.wantB) {
				t.Fatalf("second process: %v, want %v", gotB, tc.wantB)
			}
			if n := b.last; gotB != nil && (n.RequestID != req.ID || n.Signed != req.Signed() || n.Origin != req.Origin) {
				t.Fatalf("resumed notice %+v for request %d (signed %v, origin %q)", n, req.ID, req.Signed(), req.Origin)
			}
			reqs := srv.requests()
			if len(reqs) != tc.requests {
				t.Fatalf("%d requests, want %d: %+v", len(reqs), tc.requests, reqs)
			}
			if tc.rangeAsked {
				if want := (seen{rng: fmt.Sprintf("bytes=%d-", cut), ifRange: `"img-11"`, acceptEncoding: "identity", status: http.StatusPartialContent}); reqs[1] != want {
					t.Fatalf("resumed request %+v, want %+v", reqs[1], want)
				}
			}
			if slices.Contains(tc.wantB, ied) {
				if len(rec.got) != 1 || !bytes.Equal(rec.got[0], f.image) {
					t.Fatal("the install hook did not get the image, whole")
				}
			} else if rec.calls.Load() != 0 {
				t.Fatal("the install hook ran")
			}
			if slices.Contains(tc.wantB, dl) && b.clk.Now().Before(tc.req.RetrieveAt) {
				t.Fatalf("downloaded at %v, before the retrieve date", b.clk.Now())
			}
			if slices.Contains(tc.wantB, ied) && b.clk.Now().Before(tc.req.InstallAt) {
				t.Fatalf("installed at %v, before the install date", b.clk.Now())
			}
			if left := dirFiles(t, dir); len(left) != 0 {
				t.Fatalf("the ended update left %v", left)
			}
		})
	}
}

// TestResumeCorruptState removes a state file that does not parse, with
// the image, logs it, and resumes nothing.
func TestResumeCorruptState(t *testing.T) {
	f := newFixture(t)
	// A real state file, from an update stopped while scheduled.
	dir := t.TempDir()
	a := newRig(t, dir, t0, firmware.Options{Roots: f.store})
	ctx, stop := context.WithCancel(context.Background())
	if _, err := a.u.Start(ctx, firmware.Request{ID: 5, Location: "http://127.0.0.1:1/fw.bin", RetrieveAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	stop()
	a.u.Wait()
	good, err := os.ReadFile(filepath.Join(dir, firmware.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("state file %s has no %s", good, old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"not JSON", []byte("\x00\x01garbage")},
		{"empty", nil},
		{"cut short", good[:len(good)/2]},
		{"unknown phase", edit(`"DownloadScheduled"`, `"Charging"`)},
		{"final phase", edit(`"DownloadScheduled"`, `"Installed"`)},
		{"downloaded without a digest", edit(`"DownloadScheduled"`, `"Downloaded"`)},
		{"not an http location", edit(`"http://127.0.0.1:1/fw.bin"`, `"ftp://127.0.0.1/fw.bin"`)},
		{"another version", edit(`"version":1`, `"version":99`)},
		{"trailing data", append(slices.Clone(good), []byte(`{}`)...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, firmware.StateFile), tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "image.bin"), []byte("partial"), 0o600); err != nil {
				t.Fatal(err)
			}
			r := newRig(t, dir, t0, firmware.Options{Roots: f.store})
			if r.u.Resume(context.Background()) {
				t.Fatal("Resume resumed a corrupt state")
			}
			r.u.Wait()
			if left := dirFiles(t, dir); len(left) != 0 {
				t.Fatalf("left %v", left)
			}
			if !strings.Contains(r.log.String(), "level=ERROR") || !strings.Contains(r.log.String(), "state file unusable") {
				t.Fatalf("not logged as an error: %q", r.log.String())
			}
			if len(r.ch) != 0 || r.u.Last().Status != firmware.Idle {
				t.Fatalf("reported %v", r.u.Last())
			}
		})
	}
	// An image without a state file goes, quietly.
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "image.bin"), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := newRig(t, dir, t0, firmware.Options{}); r.u.Resume(context.Background()) || strings.Contains(r.log.String(), "level=ERROR") {
		t.Fatalf("no state: resumed, or logged %q", r.log.String())
	}
	if left := dirFiles(t, dir); len(left) != 0 {
		t.Fatalf("left %v", left)
	}

	// The real file resumes (the cases fail for what they change), and
	// Cancel removes it.
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, firmware.StateFile), good, 0o600); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, dir, t0, firmware.Options{Roots: f.store})
	if !r.u.Resume(context.Background()) {
		t.Fatalf("the real state file did not resume: %s", r.log.String())
	}
	if n := <-r.ch; n.Status != firmware.DownloadScheduled || n.RequestID != 5 || n.Signed {
		t.Fatalf("resumed with %+v", n)
	}
	if !r.u.Cancel() {
		t.Fatal("Cancel found no update")
	}
	if left := dirFiles(t, dir); len(left) != 0 {
		t.Fatalf("a canceled update left %v", left)
	}
}

// waitSize waits until the file at path has size bytes: the download
// has written what the server sent before the test stops it. (A size
// that never comes hangs the test until go test's timeout.)
func waitSize(t *testing.T, path string, size int64) {
	t.Helper()
	for {
		if fi, err := os.Stat(path); err == nil && fi.Size() == size {
			return
		}
		runtime.Gosched()
	}
}

// TestStateWrites counts the state file's writes over an update whose
// download breaks once: one per phase or attempt and one for the
// validator, however many chunks the image takes.
func TestStateWrites(t *testing.T) {
	f := newFixture(t)
	image := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB: several fsyncs of the partial file
	srv := newFileServer(t, version{body: image, etag: `"big"`}, serveContent)
	srv.cut[1] = 1<<20 + 12345
	clk := clock.NewFake(t0)
	log := &syncBuffer{}
	ch := make(chan firmware.Notice, 64)
	u, err := firmware.New(firmware.Options{
		Dir: t.TempDir(), Installer: &recorder{}, Roots: f.store, Clock: clk, OnStatus: func(n firmware.Notice) { ch <- n },
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{u: u, clk: clk, ch: ch, log: log}
	req := firmware.Request{ID: 9, Location: srv.url(), Retries: 2, InstallAt: t0.Add(time.Hour),
		SigningCertificate: f.signer.PEM(), Signature: sign(t, f.signer, image)}
	if _, err := u.Start(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got := r.until(t, nil); got[len(got)-1] != firmware.Installed {
		t.Fatalf("statuses %v", got)
	}
	var phases []string
	for _, line := range strings.Split(log.String(), "\n") {
		if strings.Contains(line, `msg="firmware state saved"`) {
			_, rest, _ := strings.Cut(line, "phase=")
			p, _, _ := strings.Cut(rest, " ")
			_, att, _ := strings.Cut(line, "attempt=")
			phases = append(phases, p+"#"+att)
		}
	}
	want := []string{"Downloading#1", "Downloading#1", "Downloading#2", "Downloaded#2", "InstallScheduled#2", "Installing#2"}
	if !slices.Equal(phases, want) {
		t.Fatalf("state writes %v, want %v", phases, want)
	}
}
