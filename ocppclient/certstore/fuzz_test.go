package certstore_test

import (
	"errors"
	"testing"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient/certstore"
	"github.com/evsed/evsed/ocppclient/certstore/certtest"
)

// FuzzCSMSInput feeds what a CSMS controls (InstallCertificate's
// certificate, CertificateSigned's chain, DeleteCertificate's hash data)
// to a store: nothing may panic, and an error is one of the documented
// ones.
func FuzzCSMSInput(f *testing.F) {
	root := certtest.MustRoot(certtest.Spec{Name: "seed"})
	f.Add(root.PEM(), "SHA256", "00ff")
	f.Add(root.Cert.Raw, "SHA384", "")
	f.Add(append(root.PEM(), root.PEM()...), "MD5", "0x01")
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n"), "", "zz")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, alg, serial string) {
		s, err := certstore.Open(certstore.Options{Dir: dir, Clock: clock.NewFake(now), MaxCertificates: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Install(certstore.CSMSRoot, data); err != nil &&
			!errors.Is(err, certstore.ErrInvalid) && !errors.Is(err, certstore.ErrExpired) &&
			!errors.Is(err, certstore.ErrWeakKey) && !errors.Is(err, certstore.ErrFull) {
			t.Fatalf("Install: undocumented error %v", err)
		}
		if err := s.InstallClientChain(data); err == nil {
			t.Fatal("a chain without a CSR was installed")
		}
		h := certstore.HashData{Algorithm: certstore.HashAlgorithm(alg), IssuerNameHash: string(data), IssuerKeyHash: serial, SerialNumber: serial}
		if _, err := s.Delete(h, true); err != nil && !errors.Is(err, certstore.ErrNotFound) && !errors.Is(err, certstore.ErrInUse) {
			t.Fatalf("Delete: undocumented error %v", err)
		}
	})
}
