package certstore

import "errors"

// Errors of the Store and of the rule helpers. They are wrapped with detail
// (which certificate, what is wrong); test with errors.Is. The comments say
// which OCPP status an adapter answers for each.
var (
	// ErrInvalid: the data is not a certificate (PEM or DER) of the kind
	// asked for: not parseable, not a CA certificate where a root is
	// installed, a self-signature that does not verify, or an issuer that
	// is not installed. InstallCertificate: Rejected.
	ErrInvalid = errors.New("certstore: invalid certificate")
	// ErrExpired: the certificate is outside its validity period at the
	// store clock's now. InstallCertificate: Rejected; CertificateSigned:
	// Rejected.
	ErrExpired = errors.New("certstore: certificate outside its validity period")
	// ErrWeakKey: the key is not RSA of at least Options.MinRSABits or
	// ECDSA of at least Options.MinECBits, or of another algorithm.
	// InstallCertificate: Rejected.
	ErrWeakKey = errors.New("certstore: key too weak or of an unsupported algorithm")
	// ErrFull: installing would exceed Options.MaxCertificates.
	// InstallCertificate: Rejected (the whitepaper's "more certificates
	// than allowed").
	ErrFull = errors.New("certstore: certificate store full")
	// ErrNotFound: no installed root certificate matches the hash data.
	// DeleteCertificate: NotFound.
	ErrNotFound = errors.New("certstore: certificate not found")
	// ErrInUse: the certificate may not be deleted: it is the last CSMS
	// root while TLS is in use, or the charge point's own certificate.
	// DeleteCertificate: Failed.
	ErrInUse = errors.New("certstore: certificate in use")
	// ErrNoPendingCSR: a client certificate arrived but no CSR is
	// outstanding and it does not match the current key either.
	// CertificateSigned: Rejected.
	ErrNoPendingCSR = errors.New("certstore: no certificate signing request outstanding")
	// ErrKeyMismatch: the client certificate is not for our key.
	// CertificateSigned: Rejected.
	ErrKeyMismatch = errors.New("certstore: certificate does not match our key")
	// ErrUntrusted: a certificate chain does not verify against the
	// installed roots. CertificateSigned: Rejected.
	ErrUntrusted = errors.New("certstore: certificate chain not trusted")
	// ErrNoClientCertificate: profile 3 or a renewal check without a
	// client certificate installed.
	ErrNoClientCertificate = errors.New("certstore: no client certificate installed")
	// ErrNoRoots: TLS asked for while no CSMS root certificate is
	// installed.
	ErrNoRoots = errors.New("certstore: no CSMS root certificate installed")
	// ErrNoRollback: RollbackClient without a previous identity.
	ErrNoRollback = errors.New("certstore: no previous client identity")
	// ErrCorrupt: a file under the store's directory is not what the
	// store wrote.
	ErrCorrupt = errors.New("certstore: corrupt store")

	// ErrProfile: a security profile outside 0..3, or one without TLS
	// where TLS is asked for. ChangeConfiguration: Rejected.
	ErrProfile = errors.New("certstore: unknown security profile")
	// ErrDowngrade: a lower security profile than the one in use. The
	// whitepaper (A00.FR.005) forbids lowering it over OCPP.
	// ChangeConfiguration: Rejected.
	ErrDowngrade = errors.New("certstore: security profile may not be lowered")
	// ErrMissingPrerequisite: the profile asked for needs a certificate or
	// an AuthorizationKey that is not installed. ChangeConfiguration:
	// Rejected.
	ErrMissingPrerequisite = errors.New("certstore: security profile prerequisites missing")
	// ErrAuthorizationKey: an AuthorizationKey that breaks the whitepaper's
	// rule (16 to 40 printable ASCII characters). ChangeConfiguration:
	// Rejected.
	ErrAuthorizationKey = errors.New("certstore: invalid AuthorizationKey")
)
