package certstore_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient/certstore"
	"github.com/evsed/evsed/ocppclient/certstore/certtest"
	"github.com/evsed/evsed/ocppclient/secevents"
)

// wsServer starts a TLS websocket server on loopback with cfg, answering
// each connection with one text message: the common name of the client
// certificate, or "anonymous".
func wsServer(t *testing.T, cfg *tls.Config) *httptest.Server {
	t.Helper()
	up := websocket.Upgrader{Subprotocols: []string{"ocpp1.6"}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		who := "anonymous"
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			who = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		_ = c.WriteMessage(websocket.TextMessage, []byte(who))
	}))
	srv.TLS = cfg
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// dial connects to srv with cfg and returns the first message.
func dial(srv *httptest.Server, cfg *tls.Config) (string, error) { return dialWith(srv, cfg, false) }

// dialWith is dial, through certstore.DialTLS when own is set.
func dialWith(srv *httptest.Server, cfg *tls.Config, own bool) (string, error) {
	d := websocket.Dialer{TLSClientConfig: cfg, HandshakeTimeout: 10 * time.Second, Subprotocols: []string{"ocpp1.6"}}
	if own {
		d.NetDialTLSContext = certstore.DialTLS(cfg, nil)
	}
	url := "wss" + strings.TrimPrefix(srv.URL, "https") + "/CP1"
	c, _, err := d.DialContext(context.Background(), url, nil)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_, msg, err := c.ReadMessage()
	return string(msg), err
}

// pki is the test hierarchy: a CSMS root with a server certificate and a
// charge point certificate issued through the store's CSR.
type pki struct {
	root, server *certtest.Cert
}

func newPKI(t *testing.T) pki {
	t.Helper()
	root := certtest.MustRoot(certtest.Spec{Name: "CSMS root"})
	return pki{root: root, server: root.MustIssue(certtest.Spec{Name: "csms.test", Server: true})}
}

func serverConfig(c *certtest.Cert) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.TLS()}}
}

func TestProfile2(t *testing.T) {
	p := newPKI(t)
	wrongRoot := certtest.MustRoot(certtest.Spec{Name: "CSMS root"}) // same name, other key
	expired := p.root.MustIssue(certtest.Spec{Name: "csms.test", Server: true,
		NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.Add(-time.Minute)})
	tls11 := serverConfig(p.server)
	tls11.MinVersion, tls11.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	cbcOnly := serverConfig(p.server)
	cbcOnly.MaxVersion = tls.VersionTLS12
	cbcOnly.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}

	cases := []struct {
		name    string
		install *certtest.Cert
		server  *tls.Config
		wantErr string // "" means the connection succeeds
		event   secevents.Type
	}{
		{"right root", p.root, serverConfig(p.server), "", ""},
		{"TLS 1.2 only server", p.root, func() *tls.Config { c := serverConfig(p.server); c.MaxVersion = tls.VersionTLS12; return c }(), "", ""},
		{"wrong root", wrongRoot, serverConfig(p.server), "certificate signed by unknown authority", secevents.InvalidCsmsCertificate},
		{"expired server certificate", p.root, serverConfig(expired), "expired", secevents.InvalidCsmsCertificate},
		{"TLS 1.1 only server", p.root, tls11, "protocol version", secevents.InvalidTLSVersion},
		{"server with a forbidden cipher suite", p.root, cbcOnly, "handshake failure", secevents.InvalidTLSCipherSuite},
	}
	for _, tc := range cases {
		for _, own := range []bool{false, true} {
			name := tc.name
			if own {
				name += " through DialTLS"
			}
			t.Run(name, func(t *testing.T) {
				s := open(t, t.TempDir(), clock.NewFake(now))
				if _, err := s.Install(certstore.CSMSRoot, tc.install.PEM()); err != nil {
					t.Fatal(err)
				}
				cfg, err := s.TLSConfig(2)
				if err != nil {
					t.Fatal(err)
				}
				if cfg.MinVersion != tls.VersionTLS12 || cfg.GetClientCertificate != nil || len(cfg.Certificates) != 0 {
					t.Fatalf("profile 2 config: min %x, client certificate set", cfg.MinVersion)
				}
				srv := wsServer(t, tc.server)
				who, err := dialWith(srv, cfg, own)
				switch {
				case tc.wantErr == "" && err != nil:
					t.Fatalf("dial: %v", err)
				case tc.wantErr == "" && who != "anonymous":
					t.Fatalf("server saw %q, want anonymous", who)
				case tc.wantErr != "" && err == nil:
					t.Fatal("dial succeeded, want a TLS failure")
				case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
					t.Fatalf("dial error %q, want one mentioning %q", err, tc.wantErr)
				}
				if ev, ok := secevents.FromTLSError(err); ev.Type != tc.event || ok != (tc.event != "") {
					t.Fatalf("FromTLSError(%v) = %v, %v; want %q", err, ev.Type, ok, tc.event)
				}
			})
		}
	}
}

func TestProfile2UsesInstalledRootsOnly(t *testing.T) {
	s := open(t, t.TempDir(), clock.NewFake(now))
	if _, err := s.TLSConfig(2); !errors.Is(err, certstore.ErrNoRoots) {
		t.Fatalf("TLSConfig(2) without roots = %v, want ErrNoRoots", err)
	}
	if _, err := s.TLSConfig(1); !errors.Is(err, certstore.ErrProfile) {
		t.Fatalf("TLSConfig(1) = %v, want ErrProfile", err)
	}
	p := newPKI(t)
	if _, err := s.Install(certstore.CSMSRoot, p.root.PEM()); err != nil {
		t.Fatal(err)
	}
	cfg, _ := s.TLSConfig(2)
	sys, err := x509.SystemCertPool()
	if err == nil && cfg.RootCAs.Equal(sys) {
		t.Fatal("profile 2 trusts the system pool")
	}
	if !cfg.RootCAs.Equal(p.root.Pool()) {
		t.Fatal("profile 2 pool is not exactly the installed CSMS roots")
	}
	want := map[uint16]bool{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: true, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: true,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: true, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: true,
	}
	if len(cfg.CipherSuites) != len(want) {
		t.Fatalf("cipher suites %v", cfg.CipherSuites)
	}
	for _, c := range cfg.CipherSuites {
		if !want[c] {
			t.Fatalf("cipher suite %s not allowed", tls.CipherSuiteName(c))
		}
	}
}

// TestProfile3 presents the client certificate obtained by the CSR round
// trip to a server that requires and verifies one; the same server refuses
// a profile 2 client, which has none.
func TestProfile3(t *testing.T) {
	p := newPKI(t)
	s := open(t, t.TempDir(), clock.NewFake(now))
	if _, err := s.Install(certstore.CSMSRoot, p.root.PEM()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TLSConfig(3); !errors.Is(err, certstore.ErrNoClientCertificate) {
		t.Fatalf("TLSConfig(3) without client certificate = %v", err)
	}
	csr, err := s.CreateCSR(certstore.CSRSubject{CommonName: "EVSED-0042", Organization: "Example CPO"})
	if err != nil {
		t.Fatal(err)
	}
	leaf, _, err := p.root.SignCSR(csr, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.InstallClientChain(leaf.PEM()); err != nil {
		t.Fatal(err)
	}

	mtls := serverConfig(p.server)
	mtls.ClientAuth = tls.RequireAndVerifyClientCert
	mtls.ClientCAs = p.root.Pool()
	srv := wsServer(t, mtls)

	cfg3, err := s.TLSConfig(3)
	if err != nil {
		t.Fatal(err)
	}
	who, err := dial(srv, cfg3)
	if err != nil {
		t.Fatalf("profile 3 dial: %v", err)
	}
	if who != "EVSED-0042" {
		t.Fatalf("server saw client %q, want EVSED-0042", who)
	}

	cfg2, _ := s.TLSConfig(2)
	_, err = dial(srv, cfg2)
	if err == nil {
		t.Fatal("server accepted a client without certificate")
	}
	if ev, _ := secevents.FromTLSError(err); ev.Type != secevents.FailedToAuthenticateAtCsms {
		t.Fatalf("a refused client read as %q (%v), want FailedToAuthenticateAtCsms", ev.Type, err)
	}
	mtls12 := mtls.Clone()
	mtls12.MaxVersion = tls.VersionTLS12
	srv12 := wsServer(t, mtls12)
	if who, err := dialWith(srv12, cfg3, true); err != nil || who != "EVSED-0042" {
		t.Fatalf("profile 3 over TLS 1.2: %q, %v", who, err)
	}
	_, err = dialWith(srv12, cfg2, true)
	if ev, _ := secevents.FromTLSError(err); err == nil || ev.Type != secevents.FailedToAuthenticateAtCsms {
		t.Fatalf("TLS 1.2 server refusing a client without certificate: %v read as %q", err, ev.Type)
	}

	// A renewed certificate is presented from the next handshake on,
	// with the same configuration.
	csr2, _ := s.CreateCSR(certstore.CSRSubject{CommonName: "EVSED-0042-renewed"})
	leaf2, _, _ := p.root.SignCSR(csr2, now.Add(-time.Hour), now.AddDate(2, 0, 0))
	if err := s.InstallClientChain(leaf2.PEM()); err != nil {
		t.Fatal(err)
	}
	if who, err := dial(srv, cfg3); err != nil || who != "EVSED-0042-renewed" {
		t.Fatalf("after renewal the server saw %q, %v", who, err)
	}
}
