package firmware

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"os"
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
	// ErrTooLarge: the image is larger than Options.MaxSize (a failed
	// download attempt).
	ErrTooLarge = errors.New("firmware: image too large")
	// ErrNoSpace: the rest of the image does not fit in the free space
	// of Options.Dir's file system, less Options.MinFree (a failed
	// download attempt).
	ErrNoSpace = errors.New("firmware: not enough free space for the image")
)

// errCanceled is the cause with which Cancel (or a new Start) ends an
// update: its files are removed, where an update that ends with its
// context keeps them for Resume.
var errCanceled = errors.New("firmware: update canceled")

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
	// Origin is the caller's tag for the request (say, which adapter and
	// message took it), opaque to this package: kept in the StateFile
	// and carried by every Notice, so that the notices of an update
	// resumed by a new process reach the adapter that accepted it. ""
	// is fine.
	Origin string
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
	// Signed says the update is a signed one (Request.Signed): the 1.6
	// adapter sends SignedFirmwareStatusNotification for it, also when
	// the update was resumed by a new process.
	Signed bool
	// Origin is the Request's Origin.
	Origin string
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

// PendingInstaller is an Installer that can tell, after a restart, that
// an install it began took effect and waits for the new firmware to
// confirm itself (Executable). Resume asks it about an update that a
// restart interrupted while Installing: pending with the same request
// ID, the restart was the install's own and the update ends silently
// (whoever confirms reports Installed); otherwise the update reports
// InstallationFailed.
type PendingInstaller interface {
	Installer
	// PendingRequest returns the ID of the request whose install waits
	// for confirmation, and false when none does.
	PendingRequest() (id int, pending bool)
}

var _ PendingInstaller = (*Executable)(nil)

// Options configure an Updater. Zero values are documented per field.
type Options struct {
	// Dir is where images are downloaded, and where the running
	// update's StateFile is kept; created (mode 0700) when missing. One
	// Updater per Dir. Required.
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
	// MinFree is how many bytes a download leaves free on Dir's file
	// system, for the durable queue and the logs beside it; 0 means 16
	// MiB, a negative value skips the check (and so does a platform
	// where the free space cannot be asked).
	MinFree int64
	// Logger receives progress; nil means slog.Default().
	Logger *slog.Logger
}

// Defaults of Options.
const (
	defaultAttemptTimeout = 30 * time.Minute
	defaultRetryInterval  = time.Minute
	defaultMaxSize        = 256 << 20
	defaultMinFree        = 16 << 20
)

// Updater runs one firmware update at a time. It is safe for concurrent
// use.
type Updater struct {
	opts Options
	clk  clock.Clock
	hc   *http.Client
	log  *slog.Logger

	startMu sync.Mutex // serializes Start, Resume and Cancel, so that one update runs at a time
	// resumable says that neither Resume nor Start has run yet; guarded
	// by startMu.
	resumable bool

	job job.Runner // the running update

	mu   sync.Mutex // guards last and stop
	last Notice
	// stop ends the latest update with a cause; nil before the first.
	stop context.CancelCauseFunc
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
	if opts.MinFree == 0 {
		opts.MinFree = defaultMinFree
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
	return &Updater{opts: opts, clk: clock.Or(opts.Clock), hc: hc, log: opts.Logger, last: Notice{Status: Idle}, resumable: true}, nil
}

// Start checks req (see the package doc) and, when it passes, writes it
// to the StateFile (so that the acceptance survives a restart) and starts
// the update on its own goroutine, which runs until the update ends, ctx
// ends, or Cancel or another Start cancels it. canceled reports that an
// update was running and was canceled (AcceptedCanceled). Errors wrap
// ErrLocation, ErrInvalidCertificate or ErrInvalidSignature; a request
// refused leaves a running update alone.
//
// An update whose ctx ends keeps its StateFile and partial image, for
// Resume in the next process; one that ends, or is canceled, removes
// them.
func (u *Updater) Start(ctx context.Context, req Request) (canceled bool, err error) {
	if err := checkLocation(req.Location); err != nil {
		return false, err
	}
	now := u.clk.Now()
	var sig *signature
	if req.Signed() {
		if sig, err = u.checkSigned(req, now); err != nil {
			return false, err
		}
	}
	u.startMu.Lock()
	defer u.startMu.Unlock()
	u.resumable = false
	canceled = u.cancel()
	up := &update{u: u, sig: sig, st: state{
		Version: stateVersion, Phase: Downloading, Request: saveRequest(req), Accepted: now, Size: -1,
	}}
	if req.RetrieveAt.After(now) {
		up.st.Phase = DownloadScheduled
	}
	up.save()
	u.launch(ctx, up, false)
	return canceled, nil
}

// Cancel stops the running update, if any, and waits for its goroutine to
// end; it reports whether one was running. A canceled update reports no
// further status, and its StateFile and image are removed.
func (u *Updater) Cancel() bool {
	u.startMu.Lock()
	defer u.startMu.Unlock()
	return u.cancel()
}

// cancel is Cancel with startMu held.
func (u *Updater) cancel() bool {
	u.mu.Lock()
	stop := u.stop
	u.mu.Unlock()
	if stop != nil {
		stop(errCanceled)
	}
	return u.job.Cancel()
}

// launch runs up on its own goroutine under a context that cancel ends
// with errCanceled.
func (u *Updater) launch(ctx context.Context, up *update, resumed bool) {
	rctx, stop := context.WithCancelCause(ctx)
	u.mu.Lock()
	u.stop = stop
	u.mu.Unlock()
	u.job.Go(rctx, func(jctx context.Context) {
		defer stop(nil)
		up.run(jctx, resumed)
	})
}

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
// roots as of at (when the request was accepted), and decodes its
// signature.
func (u *Updater) checkSigned(req Request, at time.Time) (*signature, error) {
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
		Roots: roots, Intermediates: inter, CurrentTime: at,
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
