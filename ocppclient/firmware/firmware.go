package firmware

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient/internal/job"
)

// Errors of Start and of the hooks. Test with errors.Is.
var (
	// ErrLocation: the location is not an http or https URL. 1.6
	// UpdateFirmware has no answer for it (the download then fails);
	// SignedUpdateFirmware and 2.0.1: Rejected.
	ErrLocation = errors.New("firmware: unsupported location")
	// ErrInvalidCertificate: a signed request's signing certificate does
	// not parse, is outside its validity, or does not chain to an
	// installed manufacturer root. Answer InvalidCertificate.
	ErrInvalidCertificate = errors.New("firmware: invalid signing certificate")
	// ErrInvalidSignature: the signature is not base64, or does not
	// verify over the image (status InvalidSignature).
	ErrInvalidSignature = errors.New("firmware: invalid signature")
	// ErrVerification is wrapped by an Installer whose own check of the
	// image failed (status InstallVerificationFailed rather than
	// InstallationFailed).
	ErrVerification = errors.New("firmware: install verification failed")
	// ErrTooLarge: the image is larger than Options.MaxSize.
	ErrTooLarge = errors.New("firmware: image too large")
)

// Status is the progress of an update, named as OCPP 2.0.1
// FirmwareStatusEnumType and 1.6 SignedFirmwareStatusNotification name it.
type Status string

// Statuses of an update, in the order of the flow (see the package doc).
const (
	// Idle: no update runs (only reported by Last before any update).
	Idle Status = "Idle"
	// DownloadScheduled: waiting for the retrieve date.
	DownloadScheduled Status = "DownloadScheduled"
	// Downloading: a download attempt runs (reported per attempt).
	Downloading Status = "Downloading"
	// DownloadPaused is not reported by this package, which does not
	// pause downloads; it is here for the adapters' mapping.
	DownloadPaused Status = "DownloadPaused"
	// Downloaded: the image is on the charger.
	Downloaded Status = "Downloaded"
	// DownloadFailed: every attempt failed. Final.
	DownloadFailed Status = "DownloadFailed"
	// SignatureVerified: a signed image's signature verified.
	SignatureVerified Status = "SignatureVerified"
	// InvalidSignature: it did not. Final.
	InvalidSignature Status = "InvalidSignature"
	// InstallScheduled: waiting for the install date.
	InstallScheduled Status = "InstallScheduled"
	// Installing: the install hook runs.
	Installing Status = "Installing"
	// InstallRebooting: installed, the agent restarts to run it. Final
	// for this process.
	InstallRebooting Status = "InstallRebooting"
	// Installed: installed and in force. Final.
	Installed Status = "Installed"
	// InstallationFailed: the install hook failed. Final.
	InstallationFailed Status = "InstallationFailed"
	// InstallVerificationFailed: the hook's check of the image failed.
	// Final.
	InstallVerificationFailed Status = "InstallVerificationFailed"
)

// Core maps s to the plain OCPP 1.6 FirmwareStatusNotification status
// (UpdateFirmware), and false for a status it has no counterpart for and
// does not send. InvalidSignature and InstallVerificationFailed, which an
// unsigned update does not reach, map to InstallationFailed.
func (s Status) Core() (string, bool) {
	switch s {
	case Idle, Downloading, Downloaded, DownloadFailed, Installing, Installed, InstallationFailed:
		return string(s), true
	case InvalidSignature, InstallVerificationFailed:
		return string(InstallationFailed), true
	}
	return "", false
}

// Final reports whether s ends an update.
func (s Status) Final() bool {
	switch s {
	case DownloadFailed, InvalidSignature, Installed, InstallRebooting, InstallationFailed, InstallVerificationFailed:
		return true
	}
	return false
}

// Request is one firmware update.
type Request struct {
	// ID is the request id (1.6 signed and 2.0.1 requestId); 0 for a 1.6
	// UpdateFirmware, which has none.
	ID int
	// Location is the http or https URL of the image.
	Location string
	// RetrieveAt is when to download; the zero time or a past one means
	// now.
	RetrieveAt time.Time
	// InstallAt is when to install (2.0.1 installDateTime); the zero time
	// means once downloaded.
	InstallAt time.Time
	// Retries is how many times a failed download is tried again; 0 or
	// less means none. The adapter passes its default when the CSMS sent
	// none.
	Retries int
	// RetryInterval is the wait before a retry; 0 means
	// Options.RetryInterval.
	RetryInterval time.Duration
	// SigningCertificate is the PEM certificate the image was signed
	// with, followed by any intermediate CAs; empty for an unsigned
	// update.
	SigningCertificate []byte
	// Signature is the base64 signature over the SHA-256 of the image:
	// RSA PKCS #1 v1.5 or PSS, or ECDSA (ASN.1 DER or r||s). Required when
	// SigningCertificate is set.
	Signature string
}

// Signed reports whether r is a signed update.
func (r Request) Signed() bool { return len(r.SigningCertificate) > 0 }

// Notice is one status report.
type Notice struct {
	// RequestID is the Request's ID.
	RequestID int
	// Status is the new status.
	Status Status
	// Err says why, for the failure statuses; nil otherwise.
	Err error
}

// Roots gives the manufacturer root certificates that signing
// certificates must chain to. *certstore.Store satisfies it.
type Roots interface {
	ManufacturerRoots() (*x509.CertPool, error)
}

// Idler tells when no charging session runs, so that an install does not
// cut one short. The adapter implements it over the station.
type Idler interface {
	// WaitIdle returns nil once no session runs (at once when none
	// does), or ctx's error.
	WaitIdle(ctx context.Context) error
}

// IdleFunc adapts a function to Idler.
type IdleFunc func(ctx context.Context) error

// WaitIdle implements Idler.
func (f IdleFunc) WaitIdle(ctx context.Context) error { return f(ctx) }

// Outcome is what an Installer did.
type Outcome uint8

// Outcomes of Installer.Install.
const (
	// Done: the image is installed and in force (status Installed).
	Done Outcome = iota
	// Rebooting: the image is installed and the agent restarts to run
	// it (status InstallRebooting); the new agent reports Installed.
	Rebooting
)

// Installer puts a verified image in place. image is a file that stays
// valid until Install returns and is removed after; copy what must stay.
// An error wrapping ErrVerification reports InstallVerificationFailed, any
// other InstallationFailed.
type Installer interface {
	Install(ctx context.Context, image string, req Request) (Outcome, error)
}

// Options configure an Updater. Zero values are documented per field.
type Options struct {
	// Dir is where images are downloaded, created (mode 0700) when
	// missing. Required.
	Dir string
	// Installer installs a verified image. Required.
	Installer Installer
	// Roots checks signing certificates; nil refuses every signed
	// request with ErrInvalidCertificate.
	Roots Roots
	// Idle delays the install until no session runs; nil installs at
	// once.
	Idle Idler
	// OnStatus receives every status, in order, on the update's
	// goroutine; it must not block for long. nil drops them.
	OnStatus func(Notice)
	// Clock drives RetrieveAt, InstallAt and the retry waits, and the
	// validity check of signing certificates; nil means the wall clock.
	Clock clock.Clock
	// HTTPClient downloads; nil means a new http.Client with no timeout
	// of its own (AttemptTimeout bounds each attempt).
	HTTPClient *http.Client
	// AttemptTimeout bounds one download attempt; 0 means 30 minutes.
	AttemptTimeout time.Duration
	// RetryInterval is the wait between attempts when the request has
	// none; 0 means 1 minute.
	RetryInterval time.Duration
	// MaxSize bounds an image, in bytes; 0 means 256 MiB.
	MaxSize int64
	// Logger receives progress; nil means slog.Default().
	Logger *slog.Logger
}

// Defaults of Options.
const (
	defaultAttemptTimeout = 30 * time.Minute
	defaultRetryInterval  = time.Minute
	defaultMaxSize        = 256 << 20
)

// Updater runs one firmware update at a time. It is safe for concurrent
// use.
type Updater struct {
	opts Options
	clk  clock.Clock
	hc   *http.Client
	log  *slog.Logger

	startMu sync.Mutex // serializes Start, so that one update runs at a time

	job job.Runner // the running update

	mu   sync.Mutex // guards last
	last Notice
}

// New returns an Updater for opts.
func New(opts Options) (*Updater, error) {
	if opts.Dir == "" || opts.Installer == nil {
		return nil, errors.New("firmware: new: Dir and Installer are required")
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = defaultAttemptTimeout
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = defaultRetryInterval
	}
	if opts.MaxSize <= 0 {
		opts.MaxSize = defaultMaxSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("firmware: new: %w", err)
	}
	return &Updater{opts: opts, clk: clock.Or(opts.Clock), hc: hc, log: opts.Logger, last: Notice{Status: Idle}}, nil
}

// Start checks req (see the package doc) and, when it passes, starts the
// update on its own goroutine, which runs until the update ends, ctx ends,
// or Cancel or another Start cancels it. canceled reports that an update
// was running and was canceled (AcceptedCanceled). Errors wrap
// ErrLocation, ErrInvalidCertificate or ErrInvalidSignature; a request
// refused leaves a running update alone.
func (u *Updater) Start(ctx context.Context, req Request) (canceled bool, err error) {
	if err := checkLocation(req.Location); err != nil {
		return false, err
	}
	var sig *signature
	if req.Signed() {
		if sig, err = u.checkSigned(req); err != nil {
			return false, err
		}
	}
	u.startMu.Lock()
	defer u.startMu.Unlock()
	canceled = u.Cancel()
	u.job.Go(ctx, func(jctx context.Context) {
		u.run(jctx, req, sig)
	})
	return canceled, nil
}

// Cancel stops the running update, if any, and waits for its goroutine to
// end; it reports whether one was running. A canceled update reports no
// further status.
func (u *Updater) Cancel() bool { return u.job.Cancel() }

// Wait blocks until the running update, if any, has ended.
func (u *Updater) Wait() { u.job.Wait() }

// Last returns the last status reported, Idle before any: what a
// triggered FirmwareStatusNotification reports (1.6 and 2.0.1 send Idle
// when no update runs; the adapter checks Final).
func (u *Updater) Last() Notice {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

// report records and hands on a status, unless ctx has ended.
func (u *Updater) report(ctx context.Context, n Notice) {
	if ctx.Err() != nil {
		return
	}
	u.mu.Lock()
	u.last = n
	u.mu.Unlock()
	u.log.Info("firmware status", "request", n.RequestID, "status", string(n.Status), "err", n.Err)
	if u.opts.OnStatus != nil {
		u.opts.OnStatus(n)
	}
}

// checkLocation accepts http and https URLs with a host.
func checkLocation(loc string) error {
	p, err := url.Parse(loc)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLocation, err)
	}
	if (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("%w: %q is not an http or https URL", ErrLocation, loc)
	}
	return nil
}

// signature is a checked signing certificate with its decoded signature.
type signature struct {
	cert *x509.Certificate
	sig  []byte
}

// checkSigned verifies req's signing certificate against the manufacturer
// roots at the clock's now, and decodes its signature.
func (u *Updater) checkSigned(req Request) (*signature, error) {
	certs, err := parsePEMCertificates(req.SigningCertificate)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidCertificate, err)
	}
	if u.opts.Roots == nil {
		return nil, fmt.Errorf("%w: no manufacturer roots configured", ErrInvalidCertificate)
	}
	roots, err := u.opts.Roots.ManufacturerRoots()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidCertificate, err)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	leaf := certs[0]
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: u.clk.Now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidCertificate, leaf.Subject, err)
	}
	if !codeSigning(leaf) {
		return nil, fmt.Errorf("%w: %s is not for code signing", ErrInvalidCertificate, leaf.Subject)
	}
	sig, err := base64.StdEncoding.DecodeString(req.Signature)
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("%w: not base64", ErrInvalidSignature)
	}
	return &signature{cert: leaf, sig: sig}, nil
}

// codeSigning reports whether c may sign code: it names no extended key
// usage, or code signing or any among them.
func codeSigning(c *x509.Certificate) bool {
	if len(c.ExtKeyUsage) == 0 {
		return true
	}
	for _, k := range c.ExtKeyUsage {
		if k == x509.ExtKeyUsageCodeSigning || k == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// parsePEMCertificates reads CERTIFICATE blocks, at least one.
func parsePEMCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return out, nil
}

// VerifySignature checks sig, made by cert's key over digest (a SHA-256
// sum): RSA PKCS #1 v1.5 or PSS, ECDSA ASN.1 DER or the fixed-size r||s.
// Errors wrap ErrInvalidSignature.
func VerifySignature(cert *x509.Certificate, digest, sig []byte) error {
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig) == nil ||
			rsa.VerifyPSS(pub, crypto.SHA256, digest, sig, nil) == nil {
			return nil
		}
	case *ecdsa.PublicKey:
		if ecdsa.VerifyASN1(pub, digest, sig) {
			return nil
		}
		size := (pub.Curve.Params().BitSize + 7) / 8
		if len(sig) == 2*size {
			r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
			if ecdsa.Verify(pub, digest, r, s) {
				return nil
			}
		}
	default:
		return fmt.Errorf("%w: key type %T", ErrInvalidSignature, cert.PublicKey)
	}
	return fmt.Errorf("%w: does not verify with %s", ErrInvalidSignature, cert.Subject)
}

// run is the update's goroutine.
func (u *Updater) run(ctx context.Context, req Request, sig *signature) {
	id := req.ID
	if d := req.RetrieveAt.Sub(u.clk.Now()); d > 0 {
		u.report(ctx, Notice{RequestID: id, Status: DownloadScheduled})
		if !clock.Sleep(ctx, u.clk, d) {
			return
		}
	}
	path := filepath.Join(u.opts.Dir, "firmware-"+strconv.Itoa(id)+".img")
	defer os.Remove(path)
	interval := req.RetryInterval
	if interval <= 0 {
		interval = u.opts.RetryInterval
	}
	var digest []byte
	var err error
	for attempt := 0; ; attempt++ {
		u.report(ctx, Notice{RequestID: id, Status: Downloading})
		digest, err = u.download(ctx, req.Location, path)
		if err == nil || ctx.Err() != nil {
			break
		}
		u.log.Warn("firmware download failed", "request", id, "attempt", attempt+1, "err", err)
		if attempt >= req.Retries {
			break
		}
		if !clock.Sleep(ctx, u.clk, interval) {
			return
		}
	}
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		u.report(ctx, Notice{RequestID: id, Status: DownloadFailed, Err: err})
		return
	}
	u.report(ctx, Notice{RequestID: id, Status: Downloaded})
	if sig != nil {
		if err := VerifySignature(sig.cert, digest, sig.sig); err != nil {
			u.report(ctx, Notice{RequestID: id, Status: InvalidSignature, Err: err})
			return
		}
		u.report(ctx, Notice{RequestID: id, Status: SignatureVerified})
	}
	if d := req.InstallAt.Sub(u.clk.Now()); d > 0 {
		u.report(ctx, Notice{RequestID: id, Status: InstallScheduled})
		if !clock.Sleep(ctx, u.clk, d) {
			return
		}
	}
	if u.opts.Idle != nil {
		if err := u.opts.Idle.WaitIdle(ctx); err != nil {
			return // only ctx ends the wait
		}
	}
	u.report(ctx, Notice{RequestID: id, Status: Installing})
	out, err := u.opts.Installer.Install(ctx, path, req)
	switch {
	case errors.Is(err, ErrVerification):
		u.report(ctx, Notice{RequestID: id, Status: InstallVerificationFailed, Err: err})
	case err != nil:
		u.report(ctx, Notice{RequestID: id, Status: InstallationFailed, Err: err})
	case out == Rebooting:
		u.report(ctx, Notice{RequestID: id, Status: InstallRebooting})
	default:
		u.report(ctx, Notice{RequestID: id, Status: Installed})
	}
}

// download fetches loc into path, returning the SHA-256 of what it wrote.
func (u *Updater) download(ctx context.Context, loc, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, u.opts.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return nil, fmt.Errorf("firmware: download: %w", err)
	}
	resp, err := u.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("firmware: download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("firmware: download: HTTP %s", resp.Status)
	}
	if resp.ContentLength > u.opts.MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, resp.ContentLength, u.opts.MaxSize)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("firmware: download: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(resp.Body, u.opts.MaxSize+1))
	if err == nil && n > u.opts.MaxSize {
		err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, u.opts.MaxSize)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("firmware: download: after %d bytes: %w", n, err)
	}
	return h.Sum(nil), nil
}
