// Package certstore is the certificate store of a charge point: the CSMS
// and manufacturer root certificates a CSMS installs, the charge point's own
// key pair and client certificate, and the TLS client configuration of
// security profiles 2 and 3 built from them (the OCPP 1.6 Security
// Whitepaper's security profiles and certificate management:
// InstallCertificate, GetInstalledCertificateIds, DeleteCertificate,
// SignCertificate, CertificateSigned; OCPP 2.0.1 functional blocks A and
// M).
//
// The package is version-neutral: the 1.6 and the 2.0.1 adapters translate
// their wire types to Use and HashData and their statuses from the errors
// below. It knows no wire format, and its only sense of time is the clock
// it is given (Options.Clock), which also drives the TLS verification, so
// that tests run in virtual time.
//
// # Layout
//
// Everything lives under one directory (Options.Dir), created with mode
// 0700; every file is written with mode 0600, through a temporary file in
// the same directory that is fsync'd and then renamed over the old one, and
// the directory is fsync'd after the rename: a crash or a power cut leaves
// either the old file or the new one, never half of one. Open tightens the
// modes of a directory or file it finds looser.
//
//	<dir>/csms/<fingerprint>.pem           CSMS root certificates (1.6
//	                                       CentralSystemRootCertificate, 2.0.1
//	                                       CSMSRootCertificate)
//	<dir>/manufacturer/<fingerprint>.pem   manufacturer root certificates, which
//	                                       check firmware signing certificates
//	<dir>/client/identity.pem              the private key (PKCS #8) and the
//	                                       signed client certificate chain, leaf
//	                                       first, in one file so that they are
//	                                       replaced together
//	<dir>/client/identity.prev.pem         the identity before the last
//	                                       InstallClientChain, for RollbackClient
//	<dir>/client/pending.key               the key of the outstanding CSR, until
//	                                       its certificate is installed
//
// The fingerprint is the lower-case hexadecimal SHA-256 of the DER
// certificate, so installing the same certificate twice writes nothing.
// The store reads the directory once, in Open, and answers every read from
// memory; only installs and deletes touch the disk. Private keys never
// leave the directory: no method returns one except inside a
// tls.Certificate for the TLS stack.
//
// # Hash data
//
// Installed certificates are named, as both OCPP versions name them, by
// their CertificateHashDataType, computed as RFC 6960 (OCSP) computes a
// CertID: IssuerNameHash is the hash of the DER encoding of the
// certificate's issuer name; IssuerKeyHash is the hash of the issuer's
// public key, that is of the contents of the subjectPublicKey BIT STRING of
// the issuer's certificate (without its tag, length and unused-bits octet);
// SerialNumber is the certificate's serial number in lower-case
// hexadecimal without leading zeroes. The hashes are lower-case hexadecimal.
// A root certificate is its own issuer; a CA certificate that is not
// self-signed is accepted only when its issuer is installed already.
// Matching (Delete) ignores the case of the hexadecimal strings and leading
// zeroes of the serial number, and honours the hash algorithm the CSMS
// names (SHA256, SHA384 or SHA512).
//
// # Security profiles
//
// TLSConfig builds the client side of profiles 2 and 3: TLS 1.2 at least;
// for TLS 1.2 only the four cipher suites the whitepaper allows
// (ECDHE-ECDSA and ECDHE-RSA with AES-128-GCM or AES-256-GCM), TLS 1.3
// suites being fixed by Go; the server's chain verified against the
// installed CSMS roots only, never the system pool; and, for profile 3,
// the client certificate, read at each handshake so that a renewed
// certificate is used from the next connection on. DialTLS runs the
// handshake for a websocket dialer and says, when it fails, how far it got,
// so that the failure can be told apart for the security event it calls
// for (package secevents, FromTLSError). CheckProfileChange and
// CheckAuthorizationKey are the rules an adapter applies to a
// ChangeConfiguration (1.6) or SetVariables (2.0.1) of SecurityProfile and
// AuthorizationKey / BasicAuthPassword.
//
// # Concurrency
//
// A Store is safe for concurrent use. Writes are serialized; a read beside
// a write sees the store before or after it. Returned certificates are
// shared and must not be modified; returned slices belong to the caller.
// Open one Store per directory.
package certstore
