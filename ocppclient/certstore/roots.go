package certstore

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"
)

// Entry is one installed root certificate as List reports it.
type Entry struct {
	// Use is what the certificate is installed for.
	Use Use
	// HashData names the certificate, in the algorithm List was asked for.
	HashData HashData
	// Certificate is the certificate; shared, do not modify it.
	Certificate *x509.Certificate
}

// parseCertificates reads one or more certificates, PEM (CERTIFICATE
// blocks, text before the first one skipped as openssl writes it; other
// blocks are refused) or a single DER certificate.
func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	trimmed := bytes.TrimSpace(data)
	if !bytes.Contains(trimmed, []byte("-----BEGIN")) {
		// DER as it came: trimming could cut bytes of the signature.
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, err
		}
		return []*x509.Certificate{c}, nil
	}
	var certs []*x509.Certificate
	rest := trimmed
	for len(bytes.TrimSpace(rest)) > 0 {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("malformed PEM")
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("unexpected PEM block %q", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no certificate")
	}
	return certs, nil
}

// checkKey refuses a public key weaker than the options allow.
func (s *Store) checkKey(pub any) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < s.opts.MinRSABits {
			return fmt.Errorf("%w: RSA %d bits, at least %d", ErrWeakKey, n, s.opts.MinRSABits)
		}
	case *ecdsa.PublicKey:
		if n := k.Curve.Params().BitSize; n < s.opts.MinECBits {
			return fmt.Errorf("%w: EC %d bits, at least %d", ErrWeakKey, n, s.opts.MinECBits)
		}
	default:
		return fmt.Errorf("%w: %T", ErrWeakKey, pub)
	}
	return nil
}

// checkValidity refuses a certificate outside its validity at now.
func checkValidity(c *x509.Certificate, now time.Time) error {
	if now.Before(c.NotBefore) {
		return fmt.Errorf("%w: valid from %s", ErrExpired, c.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(c.NotAfter) {
		return fmt.Errorf("%w: expired %s", ErrExpired, c.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// Install validates data, one certificate in PEM or DER, and installs it
// as a root of use u. It returns the certificate's SHA-256 hash data.
// Installing a certificate that is installed already succeeds and writes
// nothing.
//
// The certificate must be a CA (basic constraints with CA set, and the
// certificate-signing key usage when it states key usages), within its
// validity at the store's now, with an RSA key of at least
// Options.MinRSABits or an EC key of at least Options.MinECBits. A
// self-signed certificate must verify its own signature; one that is not
// self-signed must be signed by a certificate installed for u already.
// Errors wrap ErrInvalid, ErrExpired, ErrWeakKey or ErrFull, or are I/O
// errors (InstallCertificate Failed).
func (s *Store) Install(u Use, data []byte) (HashData, error) {
	if u.dir() == "" {
		return HashData{}, fmt.Errorf("%w: unknown use %d", ErrInvalid, u)
	}
	certs, err := parseCertificates(data)
	if err != nil {
		return HashData{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(certs) != 1 {
		return HashData{}, fmt.Errorf("%w: %d certificates, want one", ErrInvalid, len(certs))
	}
	c := certs[0]
	name := c.Subject.String()
	if !c.BasicConstraintsValid || !c.IsCA {
		return HashData{}, fmt.Errorf("%w: %s is not a CA certificate", ErrInvalid, name)
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return HashData{}, fmt.Errorf("%w: %s may not sign certificates", ErrInvalid, name)
	}
	if err := checkValidity(c, s.clk.Now()); err != nil {
		return HashData{}, fmt.Errorf("install %s: %w", name, err)
	}
	if err := s.checkKey(c.PublicKey); err != nil {
		return HashData{}, fmt.Errorf("install %s: %w", name, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	issuer, err := s.issuerOf(u, c)
	if err != nil {
		return HashData{}, err
	}
	hd, err := ComputeHashData(c, issuer, SHA256)
	if err != nil {
		return HashData{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	file := fingerprint(c) + ".pem"
	rs := s.roots[u]
	if slices.ContainsFunc(rs, func(r root) bool { return r.file == file }) {
		return hd, nil
	}
	if len(rs) >= s.opts.MaxCertificates {
		return HashData{}, fmt.Errorf("%w: %d %s certificates installed", ErrFull, len(rs), u)
	}
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	if err := writeFile(filepath.Join(s.opts.Dir, u.dir(), file), pemData); err != nil {
		return HashData{}, fmt.Errorf("certstore: install %s: %w", name, err)
	}
	s.roots[u] = append(slices.Clip(rs), root{cert: c, file: file})
	return hd, nil
}

// issuerOf returns the certificate that issued c: c itself when it is
// self-signed, or an installed root of u whose key verifies c's signature.
// s.mu must be held.
func (s *Store) issuerOf(u Use, c *x509.Certificate) (*x509.Certificate, error) {
	if bytes.Equal(c.RawIssuer, c.RawSubject) {
		if err := c.CheckSignatureFrom(c); err != nil {
			// A self-issued certificate signed by another key of the
			// same name: look for that key among the installed ones.
			if is := s.installedIssuer(u, c); is != nil {
				return is, nil
			}
			return nil, fmt.Errorf("%w: %s: self-signature: %v", ErrInvalid, c.Subject, err)
		}
		return c, nil
	}
	if is := s.installedIssuer(u, c); is != nil {
		return is, nil
	}
	return nil, fmt.Errorf("%w: %s is not self-signed and its issuer %s is not installed", ErrInvalid, c.Subject, c.Issuer)
}

// installedIssuer returns the installed root of u that signed c, or nil.
// s.mu must be held.
func (s *Store) installedIssuer(u Use, c *x509.Certificate) *x509.Certificate {
	for _, r := range s.roots[u] {
		if bytes.Equal(r.cert.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(r.cert) == nil {
			return r.cert
		}
	}
	return nil
}

// List returns the root certificates installed for u, with their hash data
// in algorithm a (SHA256 when empty), in install order; none is an empty
// slice (GetInstalledCertificateIds NotFound). The zero Use lists every
// use.
func (s *Store) List(u Use, a HashAlgorithm) ([]Entry, error) {
	if a == "" {
		a = SHA256
	}
	if _, ok := a.hash(); !ok {
		return nil, fmt.Errorf("certstore: list: unknown hash algorithm %q", a)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Entry
	for _, cu := range uses {
		if u != 0 && cu != u {
			continue
		}
		for _, r := range s.roots[cu] {
			hd, err := s.hashData(cu, r.cert, a)
			if err != nil {
				return nil, fmt.Errorf("certstore: list: %w", err)
			}
			out = append(out, Entry{Use: cu, HashData: hd, Certificate: r.cert})
		}
	}
	return out, nil
}

// hashData computes the hash data of an installed root of u. s.mu must be
// held. A root whose issuer was deleted after it keeps hashing against
// itself, which names it uniquely still.
func (s *Store) hashData(u Use, c *x509.Certificate, a HashAlgorithm) (HashData, error) {
	issuer := c
	if !bytes.Equal(c.RawIssuer, c.RawSubject) || c.CheckSignatureFrom(c) != nil {
		if is := s.installedIssuer(u, c); is != nil {
			issuer = is
		}
	}
	return ComputeHashData(c, issuer, a)
}

// Delete removes the installed root certificate that h names, whatever its
// use, and returns that use. tlsInUse says that the connection to the CSMS
// runs a profile with TLS (2 or 3): the last CSMS root is then kept, as the
// whitepaper wants the root in use kept. Errors wrap ErrNotFound, ErrInUse
// (also when h names the charge point's own certificate, which OCPP does
// not let a CSMS delete), or are I/O errors.
func (s *Store) Delete(h HashData, tlsInUse bool) (Use, error) {
	if _, ok := h.Algorithm.hash(); !ok {
		return 0, fmt.Errorf("%w: unknown hash algorithm %q", ErrNotFound, h.Algorithm)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ident != nil {
		leaf := s.ident.chain[0]
		for _, issuer := range slices.Concat(s.ident.chain[1:], s.certificates(CSMSRoot)) {
			if hd, err := ComputeHashData(leaf, issuer, h.Algorithm); err == nil && hd.Matches(h) {
				return 0, fmt.Errorf("%w: the charge point certificate cannot be deleted", ErrInUse)
			}
		}
	}
	for _, u := range uses {
		for i, r := range s.roots[u] {
			hd, err := s.hashData(u, r.cert, h.Algorithm)
			if err != nil || !hd.Matches(h) {
				continue
			}
			if u == CSMSRoot && tlsInUse && len(s.roots[u]) == 1 {
				return u, fmt.Errorf("%w: %s is the last CSMS root and TLS is in use", ErrInUse, r.cert.Subject)
			}
			if err := removeFile(filepath.Join(s.opts.Dir, u.dir(), r.file)); err != nil {
				return u, fmt.Errorf("certstore: delete %s: %w", r.cert.Subject, err)
			}
			s.roots[u] = slices.Delete(slices.Clone(s.roots[u]), i, i+1)
			return u, nil
		}
	}
	return 0, fmt.Errorf("%w: serial %s", ErrNotFound, h.SerialNumber)
}

// Certificates returns the root certificates installed for u, in install
// order. The slice is the caller's; the certificates are shared.
func (s *Store) Certificates(u Use) []*x509.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.certificates(u)
}

// certificates is Certificates with s.mu held.
func (s *Store) certificates(u Use) []*x509.Certificate {
	out := make([]*x509.Certificate, 0, len(s.roots[u]))
	for _, r := range s.roots[u] {
		out = append(out, r.cert)
	}
	return out
}

// Pool returns a new pool of the root certificates installed for u, and
// false when there are none.
func (s *Store) Pool(u Use) (*x509.CertPool, bool) {
	certs := s.Certificates(u)
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p, len(certs) > 0
}

// ManufacturerRoots returns the installed manufacturer roots, the pool
// against which firmware signing certificates are checked. It satisfies
// the firmware package's Roots interface.
func (s *Store) ManufacturerRoots() (*x509.CertPool, error) {
	p, ok := s.Pool(ManufacturerRoot)
	if !ok {
		return nil, fmt.Errorf("%w: no manufacturer root certificate installed", ErrUntrusted)
	}
	return p, nil
}
