package certstore

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strings"

	_ "crypto/sha256" // SHA-256 for crypto.Hash
	_ "crypto/sha512" // SHA-384 and SHA-512 for crypto.Hash
)

// HashAlgorithm names the hash of a HashData, spelled as both OCPP
// versions spell their HashAlgorithmEnumType.
type HashAlgorithm string

// Hash algorithms.
const (
	SHA256 HashAlgorithm = "SHA256"
	SHA384 HashAlgorithm = "SHA384"
	SHA512 HashAlgorithm = "SHA512"
)

// hash returns the crypto.Hash of a, or false for an unknown name.
func (a HashAlgorithm) hash() (crypto.Hash, bool) {
	switch a {
	case SHA256:
		return crypto.SHA256, true
	case SHA384:
		return crypto.SHA384, true
	case SHA512:
		return crypto.SHA512, true
	}
	return 0, false
}

// HashData names a certificate as OCPP's CertificateHashDataType does; see
// the package doc for how each field is computed.
type HashData struct {
	// Algorithm is the hash of IssuerNameHash and IssuerKeyHash.
	Algorithm HashAlgorithm
	// IssuerNameHash is the hex hash of the DER issuer name.
	IssuerNameHash string
	// IssuerKeyHash is the hex hash of the issuer's public key bits.
	IssuerKeyHash string
	// SerialNumber is the serial number in hex, without leading zeroes.
	SerialNumber string
}

// ComputeHashData returns the hash data of cert, issued by issuer (cert
// itself for a self-signed root), with algorithm a.
func ComputeHashData(cert, issuer *x509.Certificate, a HashAlgorithm) (HashData, error) {
	h, ok := a.hash()
	if !ok {
		return HashData{}, fmt.Errorf("certstore: unknown hash algorithm %q", a)
	}
	keyBits, err := publicKeyBits(issuer)
	if err != nil {
		return HashData{}, fmt.Errorf("certstore: hash data: %w", err)
	}
	sum := func(b []byte) string {
		w := h.New()
		w.Write(b)
		return hex.EncodeToString(w.Sum(nil))
	}
	return HashData{
		Algorithm:      a,
		IssuerNameHash: sum(cert.RawIssuer),
		IssuerKeyHash:  sum(keyBits),
		SerialNumber:   cert.SerialNumber.Text(16),
	}, nil
}

// publicKeyBits returns the contents of the subjectPublicKey BIT STRING of
// c, what RFC 6960 hashes for issuerKeyHash.
func publicKeyBits(c *x509.Certificate) ([]byte, error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	rest, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki)
	if err != nil {
		return nil, fmt.Errorf("subject public key info: %w", err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("subject public key info: %d trailing bytes", len(rest))
	}
	return spki.PublicKey.Bytes, nil
}

// Matches reports whether h and o name the same certificate: the same
// algorithm, the same hashes in any case, and the same serial number in any
// case and with or without leading zeroes.
func (h HashData) Matches(o HashData) bool {
	return h.Algorithm == o.Algorithm &&
		strings.EqualFold(h.IssuerNameHash, o.IssuerNameHash) &&
		strings.EqualFold(h.IssuerKeyHash, o.IssuerKeyHash) &&
		strings.EqualFold(trimSerial(h.SerialNumber), trimSerial(o.SerialNumber))
}

// trimSerial drops a "0x" prefix and leading zeroes, keeping one digit.
func trimSerial(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	t := strings.TrimLeft(s, "0")
	if t == "" && s != "" {
		return "0"
	}
	return t
}
