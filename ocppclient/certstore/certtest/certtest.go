// Package certtest builds throw-away certificate authorities and
// certificates for tests of the certificate store, of TLS and of signed
// firmware: every key is generated when asked for, nothing is read from
// disk, and the validity periods are given explicitly so that tests can
// run in virtual time.
package certtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Key kinds for Spec.Key.
const (
	// ECDSA256 is ECDSA on P-256 (the zero value).
	ECDSA256 = iota
	// RSA2048 is RSA with a 2048-bit modulus.
	RSA2048
	// RSA1024 is RSA with a 1024-bit modulus, too weak for the store.
	RSA1024
	// ECDSA224 is ECDSA on P-224, too weak for the store.
	ECDSA224
)

// Spec describes a certificate to issue. Zero values are documented per
// field.
type Spec struct {
	// Name is the subject's common name; "" means "test".
	Name string
	// Organization is the subject's organization; "" leaves it out.
	Organization string
	// NotBefore and NotAfter bound the validity. Both zero mean 2000-01-01
	// to 2100-01-01 UTC; a zero NotAfter alone means 100 years after
	// NotBefore, a zero NotBefore alone a year before NotAfter.
	NotBefore, NotAfter time.Time
	// CA makes a CA certificate.
	CA bool
	// Server and Client set the server and client authentication extended
	// key usages; with neither, none is set (any usage).
	Server, Client bool
	// CodeSigning sets the code signing extended key usage.
	CodeSigning bool
	// IPs and DNS are the subject alternative names; a Server with none
	// gets 127.0.0.1.
	IPs []net.IP
	// DNS names for the subject alternative names.
	DNS []string
	// Key is the kind of key generated (ECDSA256 when zero); ignored when
	// PublicKey is set.
	Key int
	// PublicKey, when set, is the key certified (from a CSR) instead of a
	// generated one; the Cert then has no Key.
	PublicKey crypto.PublicKey
	// Serial is the serial number; 0 means a random one.
	Serial int64
}

// Cert is an issued certificate with its key.
type Cert struct {
	// Cert is the parsed certificate.
	Cert *x509.Certificate
	// Key is its private key, nil when issued for a foreign public key.
	Key crypto.Signer
	// Issuer is the Cert that signed it, nil when self-signed.
	Issuer *Cert
}

// NewRoot returns a self-signed CA certificate for spec (CA is implied).
func NewRoot(spec Spec) (*Cert, error) {
	spec.CA = true
	return issue(spec, nil)
}

// Issue returns a certificate for spec signed by c.
func (c *Cert) Issue(spec Spec) (*Cert, error) { return issue(spec, c) }

// MustIssue is Issue that panics on error, for test tables.
func (c *Cert) MustIssue(spec Spec) *Cert {
	out, err := c.Issue(spec)
	if err != nil {
		panic(err)
	}
	return out
}

// MustRoot is NewRoot that panics on error, for test tables.
func MustRoot(spec Spec) *Cert {
	c, err := NewRoot(spec)
	if err != nil {
		panic(err)
	}
	return c
}

func newKey(kind int) (crypto.Signer, error) {
	switch kind {
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA1024:
		return rsa.GenerateKey(rand.Reader, 1024)
	case ECDSA224:
		return ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	default:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
}

func issue(spec Spec, parent *Cert) (*Cert, error) {
	if spec.Name == "" {
		spec.Name = "test"
	}
	if spec.NotAfter.IsZero() {
		if spec.NotBefore.IsZero() {
			spec.NotBefore = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		spec.NotAfter = spec.NotBefore.AddDate(100, 0, 0)
	} else if spec.NotBefore.IsZero() {
		spec.NotBefore = spec.NotAfter.AddDate(-1, 0, 0)
	}
	var key crypto.Signer
	pub := spec.PublicKey
	if pub == nil {
		var err error
		if key, err = newKey(spec.Key); err != nil {
			return nil, err
		}
		pub = key.Public()
	}
	serial := big.NewInt(spec.Serial)
	if spec.Serial == 0 {
		var err error
		if serial, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120)); err != nil {
			return nil, err
		}
		serial.Add(serial, big.NewInt(1))
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	ski := sha256.Sum256(pubDER)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: spec.Name},
		NotBefore:             spec.NotBefore,
		NotAfter:              spec.NotAfter,
		BasicConstraintsValid: true,
		IsCA:                  spec.CA,
		SubjectKeyId:          ski[:20],
		IPAddresses:           spec.IPs,
		DNSNames:              spec.DNS,
	}
	if spec.Organization != "" {
		tmpl.Subject.Organization = []string{spec.Organization}
	}
	if spec.CA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if _, ok := pub.(*rsa.PublicKey); ok {
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
	}
	if spec.Server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		if len(spec.IPs) == 0 && len(spec.DNS) == 0 {
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		}
	}
	if spec.Client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	if spec.CodeSigning {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageCodeSigning)
	}
	signerCert, signerKey := tmpl, key
	if parent != nil {
		signerCert, signerKey = parent.Cert, parent.Key
	}
	if signerKey == nil {
		return nil, fmt.Errorf("certtest: no key to sign %s", spec.Name)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, pub, signerKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Cert{Cert: cert, Key: key, Issuer: parent}, nil
}

// PEM returns the certificate in PEM.
func (c *Cert) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
}

// ChainPEM returns the certificate and its issuers up to, not including,
// the self-signed root, in PEM, leaf first.
func (c *Cert) ChainPEM() []byte {
	var out []byte
	for x := c; x != nil && x.Issuer != nil; x = x.Issuer {
		out = append(out, x.PEM()...)
	}
	if c.Issuer == nil {
		return c.PEM()
	}
	return out
}

// TLS returns the certificate, its chain up to the root (not included)
// and its key as a tls.Certificate.
func (c *Cert) TLS() tls.Certificate {
	tc := tls.Certificate{PrivateKey: c.Key, Leaf: c.Cert}
	for x := c; x != nil && (x == c || x.Issuer != nil); x = x.Issuer {
		tc.Certificate = append(tc.Certificate, x.Cert.Raw)
	}
	return tc
}

// Pool returns a pool holding c's certificate only.
func (c *Cert) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Cert)
	return p
}

// SignCSR parses a PEM certificate signing request, checks its signature
// and issues a client certificate for its subject and key, signed by c.
func (c *Cert) SignCSR(csrPEM []byte, notBefore, notAfter time.Time) (*Cert, *x509.CertificateRequest, error) {
	b, _ := pem.Decode(csrPEM)
	if b == nil || b.Type != "CERTIFICATE REQUEST" {
		return nil, nil, fmt.Errorf("certtest: not a PEM certificate request")
	}
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil {
		return nil, nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, nil, err
	}
	out, err := c.Issue(Spec{
		Name: csr.Subject.CommonName, NotBefore: notBefore, NotAfter: notAfter,
		Client: true, PublicKey: csr.PublicKey,
	})
	return out, csr, err
}
