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
//	                           after RetryInterval, Retries times
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
// downloaded to Options.Dir, hashed as it arrives, and handed to the hook
// only after that. The downloaded file is removed when the update ends,
// whatever the outcome. All waits go through Options.Clock.
//
// # The install hook
//
// Installer is the step that puts the image in place. Executable is the
// default for an agent that is one binary: it replaces the binary
// atomically, keeping the previous one beside it, and leaves a marker so
// that a new binary that fails to come up is rolled back (see Executable).
package firmware
