package certstore

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// CSRSubject is the subject of the charge point's certificate signing
// request.
type CSRSubject struct {
	// CommonName is the charge point's serial number (1.6
	// chargePointSerialNumber, 2.0.1 SerialNumber). Required.
	CommonName string
	// Organization is the CPO's name (1.6 CpoName, 2.0.1
	// OrganizationName); "" leaves it out.
	Organization string
	// Country is an ISO 3166 two-letter country code; "" leaves it out.
	Country string
}

// CreateCSR generates a new key pair of Options.KeyType, keeps the private
// key in the store (the pending key, mode 0600, replacing the key of an
// earlier CSR still unanswered) and returns a PEM PKCS #10 certificate
// signing request for it, signed with it, as SignCertificate carries it.
// The current client identity stays in use until InstallClientChain
// installs the certificate issued for the new key.
func (s *Store) CreateCSR(subj CSRSubject) ([]byte, error) {
	if subj.CommonName == "" {
		return nil, errors.New("certstore: csr: no common name")
	}
	key, err := generateKey(s.opts.KeyType)
	if err != nil {
		return nil, fmt.Errorf("certstore: csr: generate key: %w", err)
	}
	name := pkix.Name{CommonName: subj.CommonName}
	if subj.Organization != "" {
		name.Organization = []string{subj.Organization}
	}
	if subj.Country != "" {
		name.Country = []string{subj.Country}
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: name}, key)
	if err != nil {
		return nil, fmt.Errorf("certstore: csr: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("certstore: csr: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := writeFile(filepath.Join(s.opts.Dir, clientDir, pendingFile), keyPEM); err != nil {
		return nil, fmt.Errorf("certstore: csr: keep key: %w", err)
	}
	s.pending = key
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// generateKey returns a new private key of type t.
func generateKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	}
	return nil, fmt.Errorf("unknown key type %d", t)
}

// parseKey reads a PKCS #8 private key that can sign.
func parseKey(der []byte) (crypto.Signer, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	sg, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key of type %T cannot sign", k)
	}
	return sg, nil
}

// samePublicKey reports whether pub is the public half of key.
func samePublicKey(key crypto.Signer, pub any) bool {
	k, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(pub)
}

// InstallClientChain validates chain, the PEM certificate chain a CSMS
// sends in CertificateSigned (leaf first, then any intermediate CAs), and
// installs it as the charge point's client certificate with the key it was
// issued for: the pending key of the last CreateCSR or, for a chain
// re-issued for it, the current key. The identity it replaces is kept for
// RollbackClient.
//
// The leaf must be for that key, within its validity at the store's now,
// with a key strong enough (as for Install), and must chain through the
// given intermediates to an installed CSMS root, for client
// authentication. Errors wrap ErrInvalid, ErrNoPendingCSR, ErrKeyMismatch,
// ErrExpired, ErrWeakKey or ErrUntrusted (CertificateSigned Rejected and
// the InvalidChargePointCertificate security event), or are I/O errors.
func (s *Store) InstallClientChain(chain []byte) error {
	certs, err := parseCertificates(chain)
	if err != nil {
		return fmt.Errorf("%w: client chain: %v", ErrInvalid, err)
	}
	leaf := certs[0]
	now := s.clk.Now()
	if err := checkValidity(leaf, now); err != nil {
		return fmt.Errorf("client certificate %s: %w", leaf.Subject, err)
	}
	if err := s.checkKey(leaf.PublicKey); err != nil {
		return fmt.Errorf("client certificate %s: %w", leaf.Subject, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var key crypto.Signer
	switch {
	case s.pending != nil && samePublicKey(s.pending, leaf.PublicKey):
		key = s.pending
	case s.ident != nil && samePublicKey(s.ident.key, leaf.PublicKey):
		key = s.ident.key
	case s.pending == nil:
		return fmt.Errorf("%w: and %s is not for the current key", ErrNoPendingCSR, leaf.Subject)
	default:
		return fmt.Errorf("%w: %s", ErrKeyMismatch, leaf.Subject)
	}
	if err := s.verifyClient(certs, now); err != nil {
		return err
	}
	id := &identity{key: key, chain: certs}
	data, err := encodeIdentity(id)
	if err != nil {
		return fmt.Errorf("certstore: install client chain: %w", err)
	}
	dir := filepath.Join(s.opts.Dir, clientDir)
	if s.ident != nil {
		old, err := encodeIdentity(s.ident)
		if err != nil {
			return fmt.Errorf("certstore: install client chain: %w", err)
		}
		if err := writeFile(filepath.Join(dir, previousFile), old); err != nil {
			return fmt.Errorf("certstore: install client chain: keep previous: %w", err)
		}
		s.prev = s.ident
	}
	if err := writeFile(filepath.Join(dir, identityFile), data); err != nil {
		return fmt.Errorf("certstore: install client chain: %w", err)
	}
	s.ident = id
	if key == s.pending {
		s.pending = nil
		if err := removeFile(filepath.Join(dir, pendingFile)); err != nil {
			return fmt.Errorf("certstore: install client chain: drop pending key: %w", err)
		}
	}
	return nil
}

// verifyClient checks that certs (leaf first) chain to an installed CSMS
// root for client authentication at now. s.mu must be held.
func (s *Store) verifyClient(certs []*x509.Certificate, now time.Time) error {
	roots := x509.NewCertPool()
	for _, c := range s.certificates(CSMSRoot) {
		roots.AddCert(c)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return fmt.Errorf("%w: client certificate %s: %v", ErrUntrusted, certs[0].Subject, err)
	}
	return nil
}

// RollbackClient puts back the client identity that the last
// InstallClientChain replaced, for a transport whose first connection with
// the new certificate failed; the failed one becomes the previous one, so
// that a second call undoes the first. Errors wrap ErrNoRollback or are
// I/O errors.
func (s *Store) RollbackClient() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prev == nil {
		return ErrNoRollback
	}
	dir := filepath.Join(s.opts.Dir, clientDir)
	prev, err := encodeIdentity(s.prev)
	if err != nil {
		return fmt.Errorf("certstore: rollback: %w", err)
	}
	var cur []byte
	if s.ident != nil {
		if cur, err = encodeIdentity(s.ident); err != nil {
			return fmt.Errorf("certstore: rollback: %w", err)
		}
	}
	if err := writeFile(filepath.Join(dir, identityFile), prev); err != nil {
		return fmt.Errorf("certstore: rollback: %w", err)
	}
	if cur != nil {
		if err := writeFile(filepath.Join(dir, previousFile), cur); err != nil {
			return fmt.Errorf("certstore: rollback: keep failed identity: %w", err)
		}
	}
	s.ident, s.prev = s.prev, s.ident
	return nil
}

// ClientCertificate returns the charge point's client certificate chain
// with its key, as TLS presents it. The value is the caller's; the key
// inside is shared. Errors wrap ErrNoClientCertificate.
func (s *Store) ClientCertificate() (*tls.Certificate, error) {
	s.mu.Lock()
	id := s.ident
	s.mu.Unlock()
	if id == nil {
		return nil, ErrNoClientCertificate
	}
	tc := &tls.Certificate{PrivateKey: id.key, Leaf: id.chain[0]}
	for _, c := range id.chain {
		tc.Certificate = append(tc.Certificate, c.Raw)
	}
	return tc, nil
}

// ClientChain returns the installed client certificate chain, leaf first,
// or nil when none is installed. The certificates are shared.
func (s *Store) ClientChain() []*x509.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ident == nil {
		return nil
	}
	return append([]*x509.Certificate(nil), s.ident.chain...)
}

// RenewalDue reports whether the client certificate expires within
// Options.RenewBefore of the store's now (or has expired), so that the
// adapter starts a SignCertificate, and when it expires. Errors wrap
// ErrNoClientCertificate.
func (s *Store) RenewalDue() (due bool, notAfter time.Time, err error) {
	s.mu.Lock()
	id := s.ident
	s.mu.Unlock()
	if id == nil {
		return false, time.Time{}, ErrNoClientCertificate
	}
	na := id.chain[0].NotAfter
	return !s.clk.Now().Add(s.opts.RenewBefore).Before(na), na, nil
}

// encodeIdentity writes id as PEM: the PKCS #8 key, then the chain.
func encodeIdentity(id *identity) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(id.key)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		return nil, err
	}
	for _, c := range id.chain {
		if err := pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// decodeIdentity reads what encodeIdentity wrote, checking that the leaf
// is for the key.
func decodeIdentity(data []byte) (*identity, error) {
	b, rest := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, errors.New("no private key first")
	}
	key, err := parseKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	chain, err := parseCertificates(rest)
	if err != nil {
		return nil, err
	}
	if !samePublicKey(key, chain[0].PublicKey) {
		return nil, errors.New("certificate is not for the key")
	}
	return &identity{key: key, chain: chain}, nil
}
