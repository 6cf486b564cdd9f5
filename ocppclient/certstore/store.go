package certstore

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
)

// Use is what an installed root certificate is for. The adapters map their
// enums to it: 1.6 CentralSystemRootCertificate and 2.0.1
// CSMSRootCertificate to CSMSRoot, ManufacturerRootCertificate to
// ManufacturerRoot. The zero Use is none of them.
type Use uint8

// Uses of root certificates.
const (
	// CSMSRoot roots verify the CSMS's TLS server certificate and the
	// charge point's own client certificate.
	CSMSRoot Use = iota + 1
	// ManufacturerRoot roots verify firmware signing certificates.
	ManufacturerRoot
)

// uses lists every Use, in the order List reports them.
var uses = []Use{CSMSRoot, ManufacturerRoot}

// dir is the sub-directory of the store that holds certificates of u.
func (u Use) dir() string {
	switch u {
	case CSMSRoot:
		return "csms"
	case ManufacturerRoot:
		return "manufacturer"
	}
	return ""
}

// String returns the name of u as the package doc's layout spells it.
func (u Use) String() string {
	if d := u.dir(); d != "" {
		return d
	}
	return fmt.Sprintf("Use(%d)", uint8(u))
}

// KeyType is the kind of key pair CreateCSR generates. The zero KeyType is
// ECDSA on P-256.
type KeyType uint8

// Key types for Options.KeyType.
const (
	// ECDSAP256 is ECDSA on NIST P-256 (the zero value).
	ECDSAP256 KeyType = iota
	// ECDSAP384 is ECDSA on NIST P-384.
	ECDSAP384
	// RSA2048 is RSA with a 2048-bit modulus.
	RSA2048
	// RSA3072 is RSA with a 3072-bit modulus.
	RSA3072
)

// Options configure a Store. Zero values are documented per field.
type Options struct {
	// Dir is the store's directory, created (mode 0700) when missing.
	// Required.
	Dir string
	// Clock tells the time for validity checks and TLS verification; nil
	// means the wall clock.
	Clock clock.Clock
	// MinRSABits is the smallest RSA modulus accepted, in bits; 0 means
	// 2048, the whitepaper's minimum.
	MinRSABits int
	// MinECBits is the smallest elliptic-curve size accepted, in bits; 0
	// means 256.
	MinECBits int
	// MaxCertificates bounds the root certificates installed per Use (1.6
	// CertificateStoreMaxLength); 0 means 16.
	MaxCertificates int
	// KeyType is the key CreateCSR generates; the zero value is ECDSA
	// P-256.
	KeyType KeyType
	// RenewBefore is how long before its expiry the client certificate is
	// due for renewal (RenewalDue); 0 means 30 days.
	RenewBefore time.Duration
}

// Defaults of Options.
const (
	defaultMinRSABits      = 2048
	defaultMinECBits       = 256
	defaultMaxCertificates = 16
	defaultRenewBefore     = 30 * 24 * time.Hour
)

// File modes of the store.
const (
	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600
)

// Names under the client sub-directory.
const (
	clientDir    = "client"
	identityFile = "identity.pem"
	previousFile = "identity.prev.pem"
	pendingFile  = "pending.key"
)

// root is one installed root certificate.
type root struct {
	cert *x509.Certificate
	// file is the certificate's file name, its fingerprint plus ".pem".
	file string
}

// identity is a private key with the certificate chain issued for it.
type identity struct {
	key   crypto.Signer
	chain []*x509.Certificate // leaf first
}

// Store is a certificate store under a directory; see the package doc.
type Store struct {
	opts Options
	clk  clock.Clock

	mu sync.Mutex // guards roots, ident, prev, pending and every file write
	// roots holds the installed certificates per Use, in install order
	// (by file modification time, then name, after a restart).
	roots map[Use][]root
	// ident is the current client identity, nil when none; prev the one
	// before it, nil when none; pending the key of the outstanding CSR.
	ident, prev *identity
	pending     crypto.Signer
}

// Open returns the store kept under opts.Dir, creating the directory when
// it is missing and reading what an earlier Store installed. It writes
// nothing else. Errors wrap ErrCorrupt when a file is not what the store
// writes.
func Open(opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, errors.New("certstore: open: no directory")
	}
	if opts.MinRSABits <= 0 {
		opts.MinRSABits = defaultMinRSABits
	}
	if opts.MinECBits <= 0 {
		opts.MinECBits = defaultMinECBits
	}
	if opts.MaxCertificates <= 0 {
		opts.MaxCertificates = defaultMaxCertificates
	}
	if opts.RenewBefore <= 0 {
		opts.RenewBefore = defaultRenewBefore
	}
	if opts.KeyType > RSA3072 {
		return nil, fmt.Errorf("certstore: open: unknown key type %d", opts.KeyType)
	}
	s := &Store{opts: opts, clk: clock.Or(opts.Clock), roots: make(map[Use][]root)}
	for _, sub := range []string{"", CSMSRoot.dir(), ManufacturerRoot.dir(), clientDir} {
		if err := ensureDir(filepath.Join(opts.Dir, sub)); err != nil {
			return nil, fmt.Errorf("certstore: open: %w", err)
		}
	}
	for _, u := range uses {
		rs, err := s.loadRoots(u)
		if err != nil {
			return nil, fmt.Errorf("certstore: open %s roots: %w", u, err)
		}
		s.roots[u] = rs
	}
	var err error
	if s.ident, err = s.loadIdentity(identityFile); err != nil {
		return nil, fmt.Errorf("certstore: open identity: %w", err)
	}
	if s.prev, err = s.loadIdentity(previousFile); err != nil {
		return nil, fmt.Errorf("certstore: open previous identity: %w", err)
	}
	if s.pending, err = s.loadPending(); err != nil {
		return nil, fmt.Errorf("certstore: open pending key: %w", err)
	}
	return s, nil
}

// ensureDir creates dir with dirMode, or tightens the mode of an existing
// one.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: not a directory", dir)
	}
	if fi.Mode().Perm()&^dirMode != 0 {
		return os.Chmod(dir, dirMode)
	}
	return nil
}

// readFile reads a store file, tightening its mode when looser than
// fileMode. A missing file reads as nil, nil.
func readFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&^fileMode != 0 {
		if err := os.Chmod(path, fileMode); err != nil {
			return nil, err
		}
	}
	return os.ReadFile(path)
}

// loadRoots reads the certificates of u.
func (s *Store) loadRoots(u Use) ([]root, error) {
	dir := filepath.Join(s.opts.Dir, u.dir())
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type found struct {
		r   root
		mod time.Time
	}
	var list []found
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".pem") || e.IsDir() {
			if strings.HasPrefix(name, ".tmp-") {
				_ = os.Remove(filepath.Join(dir, name)) // left by a crash mid-write
			}
			continue
		}
		data, err := readFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		certs, err := parseCertificates(data)
		if err != nil || len(certs) != 1 {
			return nil, fmt.Errorf("%w: %s: not one certificate", ErrCorrupt, name)
		}
		if fingerprint(certs[0])+".pem" != name {
			return nil, fmt.Errorf("%w: %s: name is not its fingerprint", ErrCorrupt, name)
		}
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		list = append(list, found{root{cert: certs[0], file: name}, info.ModTime()})
	}
	slices.SortStableFunc(list, func(a, b found) int {
		if c := a.mod.Compare(b.mod); c != 0 {
			return c
		}
		return strings.Compare(a.r.file, b.r.file)
	})
	rs := make([]root, len(list))
	for i, f := range list {
		rs[i] = f.r
	}
	return rs, nil
}

// loadIdentity reads a key and chain file under client/; a missing file is
// no identity.
func (s *Store) loadIdentity(name string) (*identity, error) {
	data, err := readFile(filepath.Join(s.opts.Dir, clientDir, name))
	if err != nil || data == nil {
		return nil, err
	}
	id, err := decodeIdentity(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
	}
	return id, nil
}

// loadPending reads the key of the outstanding CSR, nil when none.
func (s *Store) loadPending() (crypto.Signer, error) {
	data, err := readFile(filepath.Join(s.opts.Dir, clientDir, pendingFile))
	if err != nil || data == nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: %s: no private key", ErrCorrupt, pendingFile)
	}
	k, err := parseKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, pendingFile, err)
	}
	return k, nil
}

// fingerprint is the lower-case hex SHA-256 of c's DER encoding.
func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// writeFile replaces path atomically with data, mode fileMode: a temporary
// file in the same directory, fsync'd, renamed over path, then the
// directory fsync'd.
func writeFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(fileMode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// removeFile removes path, if present, and fsyncs its directory.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir fsyncs a directory so that a rename or removal in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
