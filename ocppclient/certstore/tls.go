package certstore

import (
	"crypto/tls"
	"fmt"
)

// CipherSuites returns the TLS 1.2 cipher suites the whitepaper allows:
// ECDHE-ECDSA and ECDHE-RSA with AES-128-GCM-SHA256 or AES-256-GCM-SHA384,
// strongest first within each key type. TLS 1.3 suites are not
// configurable in Go and are all AEAD. The slice is the caller's.
func CipherSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	}
}

// TLSConfig returns the TLS client configuration of security profile 2 or
// 3 (see the package doc). The server's chain is verified against the CSMS
// roots installed when TLSConfig is called, at the store clock's now; the
// host name is checked against the dialed URL as usual. For profile 3 the
// client certificate is read from the store at each handshake, so that a
// certificate installed by InstallClientChain or put back by
// RollbackClient is presented from the next connection on; the handshake
// fails when none is installed then. Build a new configuration after
// installing or deleting a CSMS root (the transport reconnects anyway).
//
// Errors wrap ErrProfile (a profile other than 2 or 3), ErrNoRoots, or
// ErrNoClientCertificate (profile 3 with no client certificate installed).
// The configuration is the caller's.
func (s *Store) TLSConfig(profile int) (*tls.Config, error) {
	if profile != 2 && profile != 3 {
		return nil, fmt.Errorf("%w: profile %d has no TLS", ErrProfile, profile)
	}
	pool, ok := s.Pool(CSMSRoot)
	if !ok {
		return nil, fmt.Errorf("certstore: tls for profile %d: %w", profile, ErrNoRoots)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: CipherSuites(),
		RootCAs:      pool,
		Time:         s.clk.Now,
	}
	if profile == 3 {
		if _, err := s.ClientCertificate(); err != nil {
			return nil, fmt.Errorf("certstore: tls for profile 3: %w", err)
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return s.ClientCertificate()
		}
	}
	return cfg, nil
}
