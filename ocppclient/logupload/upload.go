package logupload

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient/internal/job"
)

// Errors of Start and of the statuses. Test with errors.Is.
var (
	// ErrLocation: the location is not an http or https URL (GetLog:
	// Rejected; 1.6 GetDiagnostics, which cannot refuse: report
	// UploadFailed).
	ErrLocation = errors.New("logupload: unsupported location")
	// ErrNoSources: a request without any Source.
	ErrNoSources = errors.New("logupload: no log sources")
	// ErrRefused: the server answered with a status that is not 2xx; the
	// Notice's Err wraps it with the status.
	ErrRefused = errors.New("logupload: upload refused")
)

// Status is the progress of an upload, named as OCPP 2.0.1 and the
// whitepaper's UploadLogStatusEnumType name it, but for UploadFailed
// (their UploadFailure; Log maps it).
type Status string

// Statuses of an upload.
const (
	// Idle: no upload runs (only reported by Last before any upload).
	Idle Status = "Idle"
	// Uploading: an attempt runs (reported per attempt).
	Uploading Status = "Uploading"
	// Uploaded: the server answered 2xx. Final.
	Uploaded Status = "Uploaded"
	// UploadFailed: every attempt failed. Final.
	UploadFailed Status = "UploadFailed"
	// PermissionDenied: the server answered 401 or 403. Final.
	PermissionDenied Status = "PermissionDenied"
	// NotSupportedOperation: the server answered 405 or 501. Final.
	NotSupportedOperation Status = "NotSupportedOperation"
	// BadMessage is not reported by this package (a bad location is
	// refused by Start); it is here for the adapters' mapping. Final.
	BadMessage Status = "BadMessage"
)

// Final reports whether s ends an upload.
func (s Status) Final() bool {
	switch s {
	case Uploaded, UploadFailed, PermissionDenied, NotSupportedOperation, BadMessage:
		return true
	}
	return false
}

// Diagnostics maps s to OCPP 1.6 DiagnosticsStatusNotification, whose
// only failure is UploadFailed.
func (s Status) Diagnostics() string {
	switch s {
	case Idle, Uploading, Uploaded:
		return string(s)
	}
	return string(UploadFailed)
}

// Log maps s to LogStatusNotification (whitepaper and 2.0.1).
func (s Status) Log() string {
	if s == UploadFailed {
		return "UploadFailure"
	}
	return string(s)
}

// Request is one log upload.
type Request struct {
	// ID is the request id (GetLog requestId); 0 for GetDiagnostics.
	ID int
	// Location is the http or https URL to upload to; a path ending in
	// "/" gets the file name appended.
	Location string
	// From and To bound the window of log lines; a zero side is open.
	From, To time.Time
	// Retries is how many times a failed upload is tried again; 0 or
	// less means none.
	Retries int
	// RetryInterval is the wait before a retry; 0 means
	// Options.RetryInterval.
	RetryInterval time.Duration
	// Sources are the logs to collect, one archive entry each. Required.
	Sources []Source
}

// Notice is one status report.
type Notice struct {
	// RequestID is the Request's ID.
	RequestID int
	// Status is the new status.
	Status Status
	// Err says why, for the failure statuses; nil otherwise.
	Err error
}

// Method is how an archive is sent.
type Method uint8

// Methods of Options.Method.
const (
	// Put sends the archive as the body of a PUT (the zero value).
	Put Method = iota
	// PostMultipart sends it as a file field of a multipart/form-data
	// POST.
	PostMultipart
)

// Options configure an Uploader. Zero values are documented per field.
type Options struct {
	// Dir holds the archive while it is uploaded, created (mode 0700)
	// when missing. Required.
	Dir string
	// Prefix starts the archive's file name, "<Prefix>-<time>.tar.gz";
	// "" means "evsed-logs". The charge point id is a good prefix.
	Prefix string
	// Method is how the archive is sent; the zero value is PUT.
	Method Method
	// FormField is the multipart field name of PostMultipart; "" means
	// "file".
	FormField string
	// OnStatus receives every status, in order, on the upload's
	// goroutine; it must not block for long. nil drops them.
	OnStatus func(Notice)
	// Clock stamps the file name and drives the retry waits; nil means
	// the wall clock.
	Clock clock.Clock
	// HTTPClient uploads; nil means a new http.Client (AttemptTimeout
	// bounds each attempt).
	HTTPClient *http.Client
	// AttemptTimeout bounds one upload attempt; 0 means 10 minutes.
	AttemptTimeout time.Duration
	// RetryInterval is the wait between attempts when the request has
	// none; 0 means 1 minute.
	RetryInterval time.Duration
	// Logger receives progress; nil means slog.Default().
	Logger *slog.Logger
}

// Defaults of Options.
const (
	defaultPrefix         = "evsed-logs"
	defaultFormField      = "file"
	defaultAttemptTimeout = 10 * time.Minute
	defaultRetryInterval  = time.Minute
)

// Uploader runs one log upload at a time. It is safe for concurrent use.
type Uploader struct {
	opts Options
	clk  clock.Clock
	hc   *http.Client
	log  *slog.Logger

	startMu sync.Mutex // serializes Start, so that one upload runs at a time

	job job.Runner // the running upload

	mu   sync.Mutex // guards last
	last Notice
}

// New returns an Uploader for opts.
func New(opts Options) (*Uploader, error) {
	if opts.Dir == "" {
		return nil, errors.New("logupload: new: Dir is required")
	}
	if opts.Prefix == "" {
		opts.Prefix = defaultPrefix
	}
	if opts.FormField == "" {
		opts.FormField = defaultFormField
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = defaultAttemptTimeout
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = defaultRetryInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("logupload: new: %w", err)
	}
	return &Uploader{opts: opts, clk: clock.Or(opts.Clock), hc: hc, log: opts.Logger, last: Notice{Status: Idle}}, nil
}

// Start checks req, collects its sources into an archive and starts the
// upload on its own goroutine, which runs until the upload ends, ctx ends
// or Cancel or another Start cancels it. It returns the archive's file
// name (GetDiagnostics fileName, GetLog filename) and whether a running
// upload was canceled (AcceptedCanceled). Errors wrap ErrLocation or
// ErrNoSources, or say why the archive could not be written; a request
// refused leaves a running upload alone.
func (u *Uploader) Start(ctx context.Context, req Request) (fileName string, canceled bool, err error) {
	loc, err := url.Parse(req.Location)
	if err != nil || (loc.Scheme != "http" && loc.Scheme != "https") || loc.Host == "" {
		return "", false, fmt.Errorf("%w: %q is not an http or https URL", ErrLocation, req.Location)
	}
	if len(req.Sources) == 0 {
		return "", false, ErrNoSources
	}
	u.startMu.Lock()
	defer u.startMu.Unlock()
	canceled = u.Cancel()
	fileName = fmt.Sprintf("%s-%s.tar.gz", u.opts.Prefix, u.clk.Now().UTC().Format("20060102T150405Z"))
	archive := filepath.Join(u.opts.Dir, fileName)
	if err := u.collect(archive, req); err != nil {
		os.Remove(archive)
		return "", canceled, err
	}
	if strings.HasSuffix(loc.Path, "/") {
		loc.Path += fileName
	}
	u.job.Go(ctx, func(jctx context.Context) {
		defer os.Remove(archive)
		u.run(jctx, req, loc.String(), archive, fileName)
	})
	return fileName, canceled, nil
}

// Cancel stops the running upload, if any, and waits for its goroutine to
// end; it reports whether one was running. A canceled upload reports no
// further status.
func (u *Uploader) Cancel() bool { return u.job.Cancel() }

// Wait blocks until the running upload, if any, has ended.
func (u *Uploader) Wait() { u.job.Wait() }

// Last returns the last status reported, Idle before any: what a
// triggered notification reports (Idle when no upload runs; the adapter
// checks Final).
func (u *Uploader) Last() Notice {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

// collect writes req's sources into a gzip'd tar at path, one entry per
// source. Each source goes to a temporary file first, since a tar header
// needs the entry's size.
func (u *Uploader) collect(path string, req Request) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("logupload: archive: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("logupload: archive: %w", cerr)
		}
	}()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	now := u.clk.Now()
	for _, src := range req.Sources {
		if err := addEntry(tw, u.opts.Dir, src, req.From, req.To, now); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("logupload: archive: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("logupload: archive: %w", err)
	}
	return nil
}

// addEntry writes src's window as one tar entry, through a temporary file
// in dir.
func addEntry(tw *tar.Writer, dir string, src Source, from, to, now time.Time) error {
	tmp, err := os.CreateTemp(dir, ".entry-")
	if err != nil {
		return fmt.Errorf("logupload: archive %s: %w", src.Name(), err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := src.WriteWindow(tmp, from, to)
	if err != nil {
		return fmt.Errorf("logupload: archive %s: %w", src.Name(), err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("logupload: archive %s: %w", src.Name(), err)
	}
	hdr := &tar.Header{Name: src.Name(), Mode: 0o600, Size: n, ModTime: now, Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("logupload: archive %s: %w", src.Name(), err)
	}
	if _, err := io.CopyN(tw, tmp, n); err != nil {
		return fmt.Errorf("logupload: archive %s: %w", src.Name(), err)
	}
	return nil
}

// report records and hands on a status, unless ctx has ended.
func (u *Uploader) report(ctx context.Context, n Notice) {
	if ctx.Err() != nil {
		return
	}
	u.mu.Lock()
	u.last = n
	u.mu.Unlock()
	u.log.Info("log upload status", "request", n.RequestID, "status", string(n.Status), "err", n.Err)
	if u.opts.OnStatus != nil {
		u.opts.OnStatus(n)
	}
}

// run is the upload's goroutine.
func (u *Uploader) run(ctx context.Context, req Request, loc, archive, name string) {
	interval := req.RetryInterval
	if interval <= 0 {
		interval = u.opts.RetryInterval
	}
	for attempt := 0; ; attempt++ {
		u.report(ctx, Notice{RequestID: req.ID, Status: Uploading})
		code, err := u.upload(ctx, loc, archive, name)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			u.report(ctx, Notice{RequestID: req.ID, Status: Uploaded})
			return
		case code == http.StatusUnauthorized || code == http.StatusForbidden:
			u.report(ctx, Notice{RequestID: req.ID, Status: PermissionDenied, Err: err})
			return
		case code == http.StatusMethodNotAllowed || code == http.StatusNotImplemented:
			u.report(ctx, Notice{RequestID: req.ID, Status: NotSupportedOperation, Err: err})
			return
		}
		u.log.Warn("log upload failed", "request", req.ID, "attempt", attempt+1, "err", err)
		if attempt >= req.Retries {
			u.report(ctx, Notice{RequestID: req.ID, Status: UploadFailed, Err: err})
			return
		}
		if !clock.Sleep(ctx, u.clk, interval) {
			return
		}
	}
}

// upload sends the archive once; it returns the HTTP status when there was
// an answer.
func (u *Uploader) upload(ctx context.Context, loc, archive, name string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, u.opts.AttemptTimeout)
	defer cancel()
	f, err := os.Open(archive)
	if err != nil {
		return 0, fmt.Errorf("logupload: upload: %w", err)
	}
	defer f.Close()
	var req *http.Request
	switch u.opts.Method {
	case PostMultipart:
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			part, err := mw.CreateFormFile(u.opts.FormField, name)
			if err == nil {
				_, err = io.Copy(part, f)
			}
			if err == nil {
				err = mw.Close()
			}
			pw.CloseWithError(err)
		}()
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, loc, pr)
		if err != nil {
			pr.CloseWithError(err)
			return 0, fmt.Errorf("logupload: upload: %w", err)
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
	default:
		fi, err := f.Stat()
		if err != nil {
			return 0, fmt.Errorf("logupload: upload: %w", err)
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPut, loc, f)
		if err != nil {
			return 0, fmt.Errorf("logupload: upload: %w", err)
		}
		req.ContentLength = fi.Size()
		req.Header.Set("Content-Type", "application/gzip")
	}
	resp, err := u.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("logupload: upload: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("%w: HTTP %s", ErrRefused, resp.Status)
	}
	return resp.StatusCode, nil
}
