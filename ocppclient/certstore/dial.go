package certstore

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
)

// HandshakeError is a failed TLS handshake of DialTLS, with how far it
// got: a TLS alert from the server says little ("handshake failure"), and
// the stage tells a refused cipher suite (before the server's certificate)
// from a refused client (after it).
type HandshakeError struct {
	// Addr is the address dialed.
	Addr string
	// Verified: the server's certificate had been verified when the
	// handshake failed.
	Verified bool
	// ClientCertificateRequested: the server had asked for a client
	// certificate.
	ClientCertificateRequested bool
	// Err is the handshake's error.
	Err error
}

// Error implements error.
func (e *HandshakeError) Error() string {
	return fmt.Sprintf("tls handshake with %s: %v", e.Addr, e.Err)
}

// Unwrap returns Err.
func (e *HandshakeError) Unwrap() error { return e.Err }

// ServerVerified reports Verified; secevents.FromTLSError reads it through
// an interface.
func (e *HandshakeError) ServerVerified() bool { return e.Verified }

// DialFunc dials a network connection, as net.Dialer.DialContext does.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// DialTLS returns a dial function for a websocket dialer
// (gorilla/websocket's Dialer.NetDialTLSContext) that connects with dial
// (nil means a zero net.Dialer; a transport passes its own to keep its
// socket deadlines) and runs the TLS handshake with a copy of cfg, taking
// the server name from the address when cfg has none. The handshake ends
// with ctx. A failed handshake returns a *HandshakeError. cfg is
// typically TLSConfig's; it is not modified.
func DialTLS(cfg *tls.Config, dial DialFunc) DialFunc {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c := cfg.Clone()
		if c.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			c.ServerName = host
		}
		herr := &HandshakeError{Addr: addr}
		verify := c.VerifyConnection
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			if verify != nil {
				if err := verify(cs); err != nil {
					return err
				}
			}
			herr.Verified = true
			return nil
		}
		getCert := c.GetClientCertificate
		c.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			herr.ClientCertificateRequested = true
			if getCert != nil {
				return getCert(cri)
			}
			if len(c.Certificates) > 0 {
				return &c.Certificates[0], nil
			}
			return &tls.Certificate{}, nil // none: the server decides
		}
		tc := tls.Client(raw, c)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			herr.Err = err
			return nil, herr
		}
		return tc, nil
	}
}
