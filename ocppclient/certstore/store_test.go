package certstore_test

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient/certstore"
	"github.com/evsed/evsed/ocppclient/certstore/certtest"
)

// now is the virtual time of the tests; the certtest defaults are valid
// then.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func open(t *testing.T, dir string, clk clock.Clock) *certstore.Store {
	t.Helper()
	s, err := certstore.Open(certstore.Options{Dir: dir, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// keyBits returns the issuer key bits as OCSP hashes them, computed
// independently of the package: the uncompressed EC point, or the PKCS #1
// RSA public key.
func keyBits(t *testing.T, c *x509.Certificate) []byte {
	t.Helper()
	switch k := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		e, err := k.ECDH()
		if err != nil {
			t.Fatal(err)
		}
		return e.Bytes()
	case *rsa.PublicKey:
		return x509.MarshalPKCS1PublicKey(k)
	}
	t.Fatalf("key %T", c.PublicKey)
	return nil
}

func hexSum256(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestInstallListHashData(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, clock.NewFake(now))
	ec := certtest.MustRoot(certtest.Spec{Name: "CSMS root EC", Serial: 0x0fff})
	rsaRoot := certtest.MustRoot(certtest.Spec{Name: "Maker root RSA", Key: certtest.RSA2048, Serial: 0x1234abcd})

	hd, err := s.Install(certstore.CSMSRoot, ec.PEM())
	if err != nil {
		t.Fatal(err)
	}
	want := certstore.HashData{
		Algorithm:      certstore.SHA256,
		IssuerNameHash: hexSum256(ec.Cert.RawIssuer),
		IssuerKeyHash:  hexSum256(keyBits(t, ec.Cert)),
		SerialNumber:   "fff",
	}
	if hd != want {
		t.Fatalf("hash data\n got %+v\nwant %+v", hd, want)
	}
	if _, err := s.Install(certstore.ManufacturerRoot, rsaRoot.Cert.Raw); err != nil { // DER
		t.Fatalf("install DER: %v", err)
	}
	openssl := append([]byte("subject=CN = CSMS root EC\nissuer=CN = CSMS root EC\n"), ec.PEM()...)
	if got, err := s.Install(certstore.CSMSRoot, openssl); err != nil || got != want {
		t.Fatalf("install PEM after openssl's text: %+v, %v", got, err)
	}
	if _, err := s.Install(certstore.CSMSRoot, ec.PEM()); err != nil {
		t.Fatalf("second install of the same certificate: %v", err)
	}

	got, err := s.List(certstore.CSMSRoot, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].HashData != want {
		t.Fatalf("List(CSMSRoot) = %+v, want one entry %+v", got, want)
	}
	got, err = s.List(certstore.ManufacturerRoot, certstore.SHA512)
	if err != nil {
		t.Fatal(err)
	}
	n := sha512.Sum512(rsaRoot.Cert.RawIssuer)
	k := sha512.Sum512(keyBits(t, rsaRoot.Cert))
	if len(got) != 1 || got[0].HashData.IssuerNameHash != hex.EncodeToString(n[:]) ||
		got[0].HashData.IssuerKeyHash != hex.EncodeToString(k[:]) || got[0].HashData.SerialNumber != "1234abcd" {
		t.Fatalf("List(ManufacturerRoot, SHA512) = %+v", got)
	}
	all, _ := s.List(0, certstore.SHA256)
	if len(all) != 2 || all[0].Use != certstore.CSMSRoot || all[1].Use != certstore.ManufacturerRoot {
		t.Fatalf("List(all) = %+v", all)
	}

	// A sub-CA is hashed against its installed issuer.
	sub := ec.MustIssue(certtest.Spec{Name: "CSMS sub-CA", CA: true})
	hd, err = s.Install(certstore.CSMSRoot, sub.PEM())
	if err != nil {
		t.Fatalf("install sub-CA under an installed root: %v", err)
	}
	if hd.IssuerKeyHash != hexSum256(keyBits(t, ec.Cert)) || hd.IssuerNameHash != hexSum256(sub.Cert.RawIssuer) {
		t.Fatalf("sub-CA hash data %+v not computed against its issuer", hd)
	}
}

func TestInstallRefuses(t *testing.T) {
	root := certtest.MustRoot(certtest.Spec{Name: "root"})
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"garbage", []byte("not a certificate"), certstore.ErrInvalid},
		{"private key PEM", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}}), certstore.ErrInvalid},
		{"two certificates", append(root.PEM(), certtest.MustRoot(certtest.Spec{}).PEM()...), certstore.ErrInvalid},
		{"leaf, not a CA", root.MustIssue(certtest.Spec{Name: "leaf", Server: true}).PEM(), certstore.ErrInvalid},
		{"sub-CA with its issuer missing", root.MustIssue(certtest.Spec{Name: "sub", CA: true}).PEM(), certstore.ErrInvalid},
		{"expired", certtest.MustRoot(certtest.Spec{NotAfter: now.Add(-time.Hour)}).PEM(), certstore.ErrExpired},
		{"not yet valid", certtest.MustRoot(certtest.Spec{NotBefore: now.Add(time.Hour), NotAfter: now.AddDate(1, 0, 0)}).PEM(), certstore.ErrExpired},
		{"RSA 1024", certtest.MustRoot(certtest.Spec{Key: certtest.RSA1024}).PEM(), certstore.ErrWeakKey},
		{"EC P-224", certtest.MustRoot(certtest.Spec{Key: certtest.ECDSA224}).PEM(), certstore.ErrWeakKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, t.TempDir(), clock.NewFake(now))
			if _, err := s.Install(certstore.CSMSRoot, tc.data); !errors.Is(err, tc.want) {
				t.Fatalf("Install = %v, want %v", err, tc.want)
			}
			if got, _ := s.List(0, ""); len(got) != 0 {
				t.Fatalf("refused certificate listed: %+v", got)
			}
		})
	}
	t.Run("full", func(t *testing.T) {
		s, err := certstore.Open(certstore.Options{Dir: t.TempDir(), Clock: clock.NewFake(now), MaxCertificates: 2})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if _, err := s.Install(certstore.CSMSRoot, certtest.MustRoot(certtest.Spec{}).PEM()); err != nil {
				t.Fatalf("install %d: %v", i, err)
			}
		}
		if _, err := s.Install(certstore.CSMSRoot, certtest.MustRoot(certtest.Spec{}).PEM()); !errors.Is(err, certstore.ErrFull) {
			t.Fatalf("third install = %v, want ErrFull", err)
		}
		if _, err := s.Install(certstore.ManufacturerRoot, certtest.MustRoot(certtest.Spec{}).PEM()); err != nil {
			t.Fatalf("the limit is per use: %v", err)
		}
	})
}

func TestDelete(t *testing.T) {
	s := open(t, t.TempDir(), clock.NewFake(now))
	a := certtest.MustRoot(certtest.Spec{Name: "A", Serial: 0x0a0b})
	b := certtest.MustRoot(certtest.Spec{Name: "B"})
	m := certtest.MustRoot(certtest.Spec{Name: "M"})
	ha, _ := s.Install(certstore.CSMSRoot, a.PEM())
	hb, _ := s.Install(certstore.CSMSRoot, b.PEM())
	hm, _ := s.Install(certstore.ManufacturerRoot, m.PEM())

	unknown := ha
	unknown.SerialNumber = "ffff"
	if _, err := s.Delete(unknown, false); !errors.Is(err, certstore.ErrNotFound) {
		t.Fatalf("Delete(unknown) = %v, want ErrNotFound", err)
	}
	// The CSMS may spell the hex in upper case and the serial with
	// leading zeroes, and use another algorithm.
	spelled := certstore.HashData{
		Algorithm:      ha.Algorithm,
		IssuerNameHash: strings.ToUpper(ha.IssuerNameHash),
		IssuerKeyHash:  strings.ToUpper(ha.IssuerKeyHash),
		SerialNumber:   "00A0B",
	}
	if u, err := s.Delete(spelled, true); err != nil || u != certstore.CSMSRoot {
		t.Fatalf("Delete(A) = %v, %v", u, err)
	}
	if _, err := s.Delete(hb, true); !errors.Is(err, certstore.ErrInUse) {
		t.Fatalf("Delete(last CSMS root, TLS in use) = %v, want ErrInUse", err)
	}
	l384, _ := s.List(certstore.ManufacturerRoot, certstore.SHA384)
	if u, err := s.Delete(l384[0].HashData, true); err != nil || u != certstore.ManufacturerRoot {
		t.Fatalf("Delete(M by SHA384) = %v, %v", u, err)
	}
	if _, err := s.Delete(hm, false); !errors.Is(err, certstore.ErrNotFound) {
		t.Fatalf("second Delete(M) = %v, want ErrNotFound", err)
	}
	if _, err := s.Delete(hb, false); err != nil {
		t.Fatalf("Delete(last CSMS root, no TLS) = %v", err)
	}
	if got, _ := s.List(0, ""); len(got) != 0 {
		t.Fatalf("left after deleting all: %+v", got)
	}
}

func TestPersistenceAndModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	s := open(t, dir, clock.NewFake(now))
	root := certtest.MustRoot(certtest.Spec{Name: "root"})
	hd, err := s.Install(certstore.CSMSRoot, root.PEM())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCSR(certstore.CSRSubject{CommonName: "SN1"}); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Loosened modes are tightened on open, and the content is read back.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "csms", "*.pem"))
	if len(files) != 1 {
		t.Fatalf("csms files %v", files)
	}
	if err := os.Chmod(files[0], 0o644); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, dir, clock.NewFake(now))
	got, _ := s2.List(certstore.CSMSRoot, "")
	if len(got) != 1 || got[0].HashData != hd {
		t.Fatalf("after reopen: %+v", got)
	}
	for p, want := range map[string]fs.FileMode{dir: 0o700, files[0]: 0o600} {
		if fi, _ := os.Stat(p); fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v after open, want %v", p, fi.Mode().Perm(), want)
		}
	}

	// A file the store did not write is refused.
	if err := os.WriteFile(filepath.Join(dir, "csms", "0000.pem"), root.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := certstore.Open(certstore.Options{Dir: dir}); !errors.Is(err, certstore.ErrCorrupt) {
		t.Fatalf("Open with a misnamed file = %v, want ErrCorrupt", err)
	}
}

func TestCheckProfileChange(t *testing.T) {
	all := certstore.Inventory{CSMSRoot: true, ClientCertificate: true, AuthorizationKey: true}
	cases := []struct {
		name      string
		cur, next int
		have      certstore.Inventory
		want      error
	}{
		{"same", 2, 2, certstore.Inventory{}, nil},
		{"0 to 1 with key", 0, 1, certstore.Inventory{AuthorizationKey: true}, nil},
		{"0 to 1 without key", 0, 1, certstore.Inventory{}, certstore.ErrMissingPrerequisite},
		{"1 to 2 with root and key", 1, 2, certstore.Inventory{CSMSRoot: true, AuthorizationKey: true}, nil},
		{"1 to 2 without root", 1, 2, certstore.Inventory{AuthorizationKey: true}, certstore.ErrMissingPrerequisite},
		{"2 to 3 without client certificate", 2, 3, certstore.Inventory{CSMSRoot: true, AuthorizationKey: true}, certstore.ErrMissingPrerequisite},
		{"2 to 3 without root", 2, 3, certstore.Inventory{ClientCertificate: true}, certstore.ErrMissingPrerequisite},
		{"1 to 3", 1, 3, certstore.Inventory{CSMSRoot: true, ClientCertificate: true}, nil},
		{"3 to 2", 3, 2, all, certstore.ErrDowngrade},
		{"2 to 1", 2, 1, all, certstore.ErrDowngrade},
		{"1 to 0", 1, 0, all, certstore.ErrDowngrade},
		{"unknown", 1, 4, all, certstore.ErrProfile},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := certstore.CheckProfileChange(tc.cur, tc.next, tc.have); !errors.Is(err, tc.want) {
				t.Fatalf("CheckProfileChange(%d, %d, %+v) = %v, want %v", tc.cur, tc.next, tc.have, err, tc.want)
			}
		})
	}
}

func TestCheckAuthorizationKey(t *testing.T) {
	cases := []struct {
		key string
		ok  bool
	}{
		{strings.Repeat("a", 15), false},
		{strings.Repeat("a", 16), true},
		{strings.Repeat("Z9", 20), true},
		{strings.Repeat("a", 41), false},
		{strings.Repeat("a", 15) + "\n", false},
		{strings.Repeat("a", 15) + "é", false},
		{"", false},
	}
	for _, tc := range cases {
		err := certstore.CheckAuthorizationKey(tc.key)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, certstore.ErrAuthorizationKey)) {
			t.Errorf("CheckAuthorizationKey(%q) = %v, want ok=%v", tc.key, err, tc.ok)
		}
		if err != nil && len(tc.key) > 0 && strings.Contains(err.Error(), tc.key) {
			t.Errorf("error %q reveals the key", err)
		}
	}
}
