// Package firmware runs a charge point's firmware updates: the download
// at a retrieve date with retries, the check of a signed firmware's
// signing certificate and signature, the wait for the charger to be idle,
// and the installation through a replaceable hook (OCPP 1.6
// UpdateFirmware and the whitepaper's SignedUpdateFirmware, OCPP 2.0.1
// functional block L).
//
// The package is version-neutral: the adapters translate their requests to
// Request, and the Status values reported through Options.OnStatus to
// their notifications. Status values carry the OCPP 2.0.1 and 1.6
// SignedFirmwareStatusNotification names; Status.Core maps them to the
// plain 1.6 FirmwareStatusNotification, which has fewer.
//
// # The flow
//
// Start checks a request at once, so that the adapter can answer it: the
// location must be an http or https URL; a signed request's signing
// certificate must chain to an installed manufacturer root (Options.Roots)
// and be valid now (else ErrInvalidCertificate: 1.6 SignedUpdateFirmware
// InvalidCertificate, 2.0.1 UpdateFirmware InvalidCertificate, with the
// InvalidFirmwareSigningCertificate security event), and its signature
// must be base64. A request started while another runs cancels that one
// (AcceptedCanceled). The update then runs on its own goroutine:
//
//	DownloadScheduled          when RetrieveAt is in the future, until then
//	Downloading                each attempt; a failed attempt is retried
//	                           after RetryInterval, Retries times, and
//	                           resumes where the previous one broke off
//	DownloadFailed             all attempts failed: the end
//	Downloaded
//	SignatureVerified          signed requests: the signature over the
//	InvalidSignature           SHA-256 of the image verified, or not (the end;
//	                           InvalidFirmwareSignature security event)
//	InstallScheduled           when InstallAt is in the future, until then
//	                           (then, silently, until Options.Idle says no
//	                           session runs)
//	Installing
//	Installed                  the hook installed it and nothing restarts, or
//	InstallRebooting           the hook restarts the agent (the new agent
//	                           reports Installed once it runs), or
//	InstallationFailed         the hook failed, or
//	InstallVerificationFailed  the hook's verification of the image failed
//
// Nothing is installed before the signature has verified: the image is
// downloaded to Options.Dir, hashed, and handed to the hook only after
// that. The downloaded file is removed when the update ends, whatever the
// outcome. All waits go through Options.Clock.
//
// # Dropped downloads
//
// A partial image is kept between attempts. The next attempt asks for
// the rest (Range: bytes=N-) under If-Range with the validator of the
// response the image started with: its ETag when strong, else its
// Last-Modified when strong (RFC 9110); with neither, it starts over. A
// 206 whose Content-Range continues the image (same start, same length,
// same validator) is appended; a 200 (a server without ranges, or a file
// that changed) starts over from byte 0, and so do a 416 and a 206 that
// does not continue it. The SHA-256 that the signature is checked
// against always covers the whole file: the kept prefix is hashed again
// from the disk. An image longer than Options.MaxSize, or than the free
// space of Dir's file system less Options.MinFree, fails the attempt
// (ErrTooLarge, ErrNoSpace). Bodies are asked for uncompressed, so that
// byte ranges are ranges of the image.
//
// # Restarts
//
// The running update lives in a small file, StateFile in Options.Dir: its
// request, its phase, the attempt count, the partial image's validator
// and, once downloaded, the image's SHA-256. It is written (temporary
// file, fsync, rename, directory fsync) when Start accepts a request and
// then once per phase or download attempt, and once more when a download
// starts over under a new validator: never per chunk, for flash. The
// partial image itself is fsync'd every MiB. An update canceled or ended
// removes the file and the image; one whose context ends (the process
// stops) keeps them, and so, of course, does a power cut or a kill.
//
// Updater.Resume, called once at start, carries such an update on and
// reports the phase it resumes through OnStatus (see Resume for each
// phase). A state file that does not parse is removed with a logged
// error. An update that a restart interrupted while Installing ends
// silently when its Installer is a PendingInstaller that says the
// install took effect (Executable: the marker, whose confirmation
// reports Installed), and with InstallationFailed otherwise: an install
// is never run twice.
//
// # The install hook
//
// Installer is the step that puts the image in place. Executable is the
// default for an agent that is one binary: it replaces the binary
// atomically, keeping the previous one beside it, and leaves a marker so
// that a new binary that fails to come up is rolled back (see Executable).
package firmware
