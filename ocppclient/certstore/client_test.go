package certstore_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient/certstore"
	"github.com/evsed/evsed/ocppclient/certstore/certtest"
)

func parseCSR(t *testing.T, data []byte) *x509.CertificateRequest {
	t.Helper()
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE REQUEST" {
		t.Fatalf("CSR is not PEM: %q", data)
	}
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.CheckSignature(); err != nil {
		t.Fatalf("CSR signature: %v", err)
	}
	return csr
}

// TestSignCertificateRoundTrip runs SignCertificate -> CertificateSigned
// against a test CA: the CSR carries the serial and the CPO name, the
// signed chain (through a sub-CA) is installed and survives a restart,
// and the pending key is gone.
func TestSignCertificateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewFake(now)
	s := open(t, dir, clk)
	root := certtest.MustRoot(certtest.Spec{Name: "CPO root"})
	sub := root.MustIssue(certtest.Spec{Name: "CPO sub-CA", CA: true})
	if _, err := s.Install(certstore.CSMSRoot, root.PEM()); err != nil {
		t.Fatal(err)
	}

	csrPEM, err := s.CreateCSR(certstore.CSRSubject{CommonName: "EVSED-0042", Organization: "Example CPO"})
	if err != nil {
		t.Fatal(err)
	}
	csr := parseCSR(t, csrPEM)
	if csr.Subject.CommonName != "EVSED-0042" || len(csr.Subject.Organization) != 1 || csr.Subject.Organization[0] != "Example CPO" {
		t.Fatalf("CSR subject %v", csr.Subject)
	}
	if _, err := os.Stat(filepath.Join(dir, "client", "pending.key")); err != nil {
		t.Fatalf("pending key not kept: %v", err)
	}

	leaf, _, err := sub.SignCSR(csrPEM, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	chain := append(leaf.PEM(), sub.PEM()...)
	if err := s.InstallClientChain(chain); err != nil {
		t.Fatalf("InstallClientChain: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "client", "pending.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("pending key left after install: %v", err)
	}
	tc, err := s.ClientCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if len(tc.Certificate) != 2 || !tc.Leaf.Equal(leaf.Cert) {
		t.Fatalf("client certificate: %d certs, leaf %v", len(tc.Certificate), tc.Leaf.Subject)
	}
	if !s.Inventory().ClientCertificate {
		t.Fatal("Inventory does not report the client certificate")
	}

	s2 := open(t, dir, clk)
	tc2, err := s2.ClientCertificate()
	if err != nil || !tc2.Leaf.Equal(leaf.Cert) {
		t.Fatalf("after reopen: %v, %v", tc2, err)
	}
	// The CSMS re-sending the same chain is accepted (current key).
	if err := s2.InstallClientChain(chain); err != nil {
		t.Fatalf("re-install of the same chain: %v", err)
	}
}

func TestInstallClientChainRefuses(t *testing.T) {
	root := certtest.MustRoot(certtest.Spec{Name: "CPO root"})
	other := certtest.MustRoot(certtest.Spec{Name: "other root"})
	cases := []struct {
		name  string
		chain func(csr []byte) []byte
		want  error
	}{
		{"not for our key", func([]byte) []byte {
			return root.MustIssue(certtest.Spec{Name: "SN", Client: true}).PEM()
		}, certstore.ErrKeyMismatch},
		{"untrusted issuer", func(csr []byte) []byte {
			c, _, _ := other.SignCSR(csr, now.Add(-time.Hour), now.AddDate(1, 0, 0))
			return c.PEM()
		}, certstore.ErrUntrusted},
		{"expired", func(csr []byte) []byte {
			c, _, _ := root.SignCSR(csr, now.AddDate(-1, 0, 0), now.Add(-time.Hour))
			return c.PEM()
		}, certstore.ErrExpired},
		{"server certificate only", func(csr []byte) []byte {
			b, _ := pem.Decode(csr)
			r, _ := x509.ParseCertificateRequest(b.Bytes)
			return root.MustIssue(certtest.Spec{Name: "SN", Server: true, PublicKey: r.PublicKey}).PEM()
		}, certstore.ErrUntrusted},
		{"garbage", func([]byte) []byte { return []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") }, certstore.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, t.TempDir(), clock.NewFake(now))
			if _, err := s.Install(certstore.CSMSRoot, root.PEM()); err != nil {
				t.Fatal(err)
			}
			csr, err := s.CreateCSR(certstore.CSRSubject{CommonName: "SN"})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.InstallClientChain(tc.chain(csr)); !errors.Is(err, tc.want) {
				t.Fatalf("InstallClientChain = %v, want %v", err, tc.want)
			}
			if _, err := s.ClientCertificate(); !errors.Is(err, certstore.ErrNoClientCertificate) {
				t.Fatalf("a refused chain was installed: %v", err)
			}
		})
	}
	t.Run("no CSR", func(t *testing.T) {
		s := open(t, t.TempDir(), clock.NewFake(now))
		if _, err := s.Install(certstore.CSMSRoot, root.PEM()); err != nil {
			t.Fatal(err)
		}
		leaf := root.MustIssue(certtest.Spec{Name: "SN", Client: true})
		if err := s.InstallClientChain(leaf.PEM()); !errors.Is(err, certstore.ErrNoPendingCSR) {
			t.Fatalf("InstallClientChain without CSR = %v, want ErrNoPendingCSR", err)
		}
	})
}

// issueClient runs one CSR round trip on s with root, valid until
// notAfter.
func issueClient(t *testing.T, s *certstore.Store, root *certtest.Cert, notAfter time.Time) *certtest.Cert {
	t.Helper()
	csr, err := s.CreateCSR(certstore.CSRSubject{CommonName: "SN"})
	if err != nil {
		t.Fatal(err)
	}
	leaf, _, err := root.SignCSR(csr, now.Add(-time.Hour), notAfter)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.InstallClientChain(leaf.PEM()); err != nil {
		t.Fatal(err)
	}
	return leaf
}

func TestRenewalDueAndRollback(t *testing.T) {
	clk := clock.NewFake(now)
	dir := t.TempDir()
	s, err := certstore.Open(certstore.Options{Dir: dir, Clock: clk, RenewBefore: 10 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RenewalDue(); !errors.Is(err, certstore.ErrNoClientCertificate) {
		t.Fatalf("RenewalDue without certificate = %v", err)
	}
	root := certtest.MustRoot(certtest.Spec{Name: "CPO root"})
	if _, err := s.Install(certstore.CSMSRoot, root.PEM()); err != nil {
		t.Fatal(err)
	}
	expiry := now.Add(30 * 24 * time.Hour)
	first := issueClient(t, s, root, expiry)
	for _, step := range []struct {
		at  time.Time
		due bool
	}{
		{now, false},
		{expiry.Add(-10*24*time.Hour - time.Second), false},
		{expiry.Add(-10 * 24 * time.Hour), true},
		{expiry.Add(time.Hour), true},
	} {
		clk.Set(step.at)
		due, na, err := s.RenewalDue()
		if err != nil || due != step.due || !na.Equal(first.Cert.NotAfter) {
			t.Fatalf("at %v: RenewalDue = %v, %v, %v; want due=%v", step.at, due, na, err, step.due)
		}
	}

	clk2 := clock.NewFake(now)
	s2 := open(t, dir, clk2)
	if err := s2.RollbackClient(); !errors.Is(err, certstore.ErrNoRollback) {
		t.Fatalf("RollbackClient with one identity = %v", err)
	}
	second := issueClient(t, s2, root, now.AddDate(1, 0, 0))
	if tc, _ := s2.ClientCertificate(); !tc.Leaf.Equal(second.Cert) {
		t.Fatal("second certificate not in use")
	}
	if err := s2.RollbackClient(); err != nil {
		t.Fatal(err)
	}
	if tc, _ := s2.ClientCertificate(); !tc.Leaf.Equal(first.Cert) {
		t.Fatal("rollback did not restore the first certificate")
	}
	s3 := open(t, dir, clk2)
	if tc, _ := s3.ClientCertificate(); !tc.Leaf.Equal(first.Cert) {
		t.Fatal("rollback not durable")
	}
	if err := s3.RollbackClient(); err != nil {
		t.Fatal(err)
	}
	if tc, _ := s3.ClientCertificate(); !tc.Leaf.Equal(second.Cert) {
		t.Fatal("second rollback did not undo the first")
	}
}

func TestDeleteRefusesClientCertificate(t *testing.T) {
	s := open(t, t.TempDir(), clock.NewFake(now))
	root := certtest.MustRoot(certtest.Spec{Name: "CPO root"})
	if _, err := s.Install(certstore.CSMSRoot, root.PEM()); err != nil {
		t.Fatal(err)
	}
	leaf := issueClient(t, s, root, now.AddDate(1, 0, 0))
	hd, err := certstore.ComputeHashData(leaf.Cert, root.Cert, certstore.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(hd, false); !errors.Is(err, certstore.ErrInUse) {
		t.Fatalf("Delete(client certificate) = %v, want ErrInUse", err)
	}
}

func TestProfileReady(t *testing.T) {
	clk := clock.NewFake(now)
	s := open(t, t.TempDir(), clk)
	root := certtest.MustRoot(certtest.Spec{Name: "CPO root"})
	check := func(step string, want map[int]error) {
		t.Helper()
		for n, w := range want {
			if err := s.ProfileReady(n); !errors.Is(err, w) {
				t.Errorf("%s: ProfileReady(%d) = %v, want %v", step, n, err, w)
			}
		}
	}
	check("empty", map[int]error{0: nil, 1: nil, 2: certstore.ErrMissingPrerequisite, 3: certstore.ErrMissingPrerequisite, 4: certstore.ErrProfile})
	if _, err := s.Install(certstore.CSMSRoot, root.PEM()); err != nil {
		t.Fatal(err)
	}
	check("root", map[int]error{2: nil, 3: certstore.ErrMissingPrerequisite})
	issueClient(t, s, root, now.AddDate(0, 1, 0))
	check("client certificate", map[int]error{2: nil, 3: nil})
	clk.Advance(40 * 24 * time.Hour)
	check("client certificate expired", map[int]error{2: nil, 3: certstore.ErrMissingPrerequisite})
}
