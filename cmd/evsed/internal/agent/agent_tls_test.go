package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"

	"github.com/evsed/evsed/ocppclient/certstore"
	"github.com/evsed/evsed/ocppclient/certstore/certtest"
	"github.com/evsed/evsed/ocppclient/ocpptest"
	"github.com/evsed/evsed/ocppclient/secevents"
)

// tlsCSMS starts ocpp-go's central system over TLS with a server
// certificate for 127.0.0.1 issued by ca; clientCA, when set, makes it
// require a client certificate issued by that CA (profile 3).
func tlsCSMS(t *testing.T, ca *certtest.Cert, password string, clientCA *certtest.Cert) *ocpptest.CSMS {
	t.Helper()
	server := ca.MustIssue(certtest.Spec{Name: "csms.test", Server: true})
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	der, err := x509.MarshalPKCS8PrivateKey(server.Key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, server.ChainPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := &ocpptest.TLSOptions{CertFile: certFile, KeyFile: keyFile}
	if clientCA != nil {
		opts.ClientCAs = clientCA.Pool()
	}
	csms, err := ocpptest.Start(ocpptest.Options{Password: password, TLS: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(csms.Stop)
	return csms
}

// openStore opens a certificate store in a temporary directory with the
// CSMS root ca installed.
func openStore(t *testing.T, ca *certtest.Cert) *certstore.Store {
	t.Helper()
	store, _ := openStoreDir(t, ca)
	return store
}

// openStoreDir is openStore, also returning the store's directory.
func openStoreDir(t *testing.T, ca *certtest.Cert) (*certstore.Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "certs")
	store, err := certstore.Open(certstore.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Install(certstore.CSMSRoot, ca.PEM()); err != nil {
		t.Fatal(err)
	}
	return store, dir
}

// launch runs a and stops it at the end of the test.
func launch(t *testing.T, a *Agent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	wait := a.Launch(ctx)
	t.Cleanup(func() {
		cancel()
		if err := wait(); err != nil {
			t.Errorf("wait = %v, want nil", err)
		}
	})
}

// Security profiles 2 and 3 against ocpp-go's CSMS over real TLS, with the
// trust and the client certificate coming from the certificate store:
// profile 2 checks the server against the store's CSMS root; profile 3
// presents the client certificate the store holds (made from its own CSR
// and signed by the CSMS's CA, as a CertificateSigned would install it).
func TestSecurityProfilesOverTLS(t *testing.T) {
	const key = "0123456789abcdef0123"
	ca := certtest.MustRoot(certtest.Spec{Name: "CSMS CA", CA: true})

	t.Run("profile 2", func(t *testing.T) {
		csms := tlsCSMS(t, ca, key, nil)
		a := newAgent(t, "CPTLS2", csms.URL(), func(o *Options) {
			o.CSMS.SecurityProfile, o.CSMS.Password = 2, key
			o.Certificates = openStore(t, ca)
		})
		launch(t, a)
		if !waitRegistered(a) {
			t.Fatal("no registration over TLS with the store's root")
		}
	})

	t.Run("profile 3", func(t *testing.T) {
		csms := tlsCSMS(t, ca, "", ca)
		store, storeDir := openStoreDir(t, ca)
		csr, err := store.CreateCSR(certstore.CSRSubject{CommonName: "CPTLS3"})
		if err != nil {
			t.Fatal(err)
		}
		client, _, err := ca.SignCSR(csr, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := store.InstallClientChain(client.ChainPEM()); err != nil {
			t.Fatal(err)
		}
		a := newAgent(t, "CPTLS3", csms.URL(), func(o *Options) {
			o.CSMS.SecurityProfile = 3
			o.Certificates = store
			o.Identity.ChargePointSerialNumber = "CPTLS3" // the CSR's common name
		})
		launch(t, a)
		if !waitRegistered(a) {
			t.Fatal("no registration with the store's client certificate")
		}
		// The certificate expires within a day, inside the store's 30-day
		// renewal window: once registered, the agent makes a new key and
		// sends its CSR (SignCertificate), so a pending key appears.
		pending := filepath.Join(storeDir, "client", "pending.key")
		deadline := time.Now().Add(waitLimit)
		for {
			if _, err := os.Stat(pending); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no renewal started for a client certificate about to expire")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})

	t.Run("unknown server certificate", func(t *testing.T) {
		other := certtest.MustRoot(certtest.Spec{Name: "someone else's CA", CA: true})
		csms := tlsCSMS(t, other, key, nil)
		log, err := secevents.OpenLog(secevents.LogOptions{Dir: filepath.Join(t.TempDir(), "security")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { log.Close() })
		a := newAgent(t, "CPTLSBAD", csms.URL(), func(o *Options) {
			o.CSMS.SecurityProfile, o.CSMS.Password = 2, key
			o.Certificates = openStore(t, ca)
			o.SecurityLog = log
		})
		launch(t, a)
		// The charger never registers; it logs InvalidCsmsCertificate
		// once (not at every retry), after StartupOfTheDevice.
		var types []secevents.Type
		deadline := time.Now().Add(waitLimit)
		for {
			events, err := log.Read(time.Time{}, time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			types = types[:0]
			for _, e := range events {
				types = append(types, e.Type)
			}
			if len(types) >= 2 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // several more failed attempts (10-50 ms back-off)
		events, _ := log.Read(time.Time{}, time.Now().Add(time.Hour))
		if len(events) != 2 || events[0].Type != secevents.StartupOfTheDevice || events[1].Type != secevents.InvalidCsmsCertificate {
			var got []secevents.Type
			for _, e := range events {
				got = append(got, e.Type)
			}
			t.Fatalf("security log %v, want StartupOfTheDevice then InvalidCsmsCertificate once", got)
		}
		if a.registered() {
			t.Error("registered with a CSMS whose certificate the store does not trust")
		}
	})
}

// frontDoor stands in front of a plain CSMS on a port of its own: it
// forwards raw TCP until serveTLS, and from then on only accepts TLS,
// which it terminates before forwarding. It is a CSMS operator turning on
// TLS on the endpoint the chargers already use.
type frontDoor struct {
	ln       net.Listener
	backend  string
	tls      atomic.Pointer[tls.Config]
	tlsConns atomic.Int32 // TLS handshakes completed
}

func newFrontDoor(t *testing.T, backendURL string) *frontDoor {
	t.Helper()
	u, err := url.Parse(backendURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f := &frontDoor{ln: ln, backend: u.Host}
	go f.serve()
	return f
}

// url is the endpoint for chargers: the CSMS's path on the front door's
// port, over plain ws.
func (f *frontDoor) url(backendURL string) string {
	u, _ := url.Parse(backendURL)
	u.Host = f.ln.Addr().String()
	return u.String()
}

func (f *frontDoor) serveTLS(cfg *tls.Config) { f.tls.Store(cfg) }

func (f *frontDoor) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			if cfg := f.tls.Load(); cfg != nil {
				tc := tls.Server(c, cfg)
				if err := tc.Handshake(); err != nil {
					return
				}
				f.tlsConns.Add(1)
				c = tc
			}
			b, err := net.Dial("tcp", f.backend)
			if err != nil {
				return
			}
			defer b.Close()
			go func() { _, _ = io.Copy(b, c); b.Close() }()
			_, _ = io.Copy(c, b)
		}()
	}
}

// A CSMS raising SecurityProfile from 1 to 2 over OCPP (the root is in the
// certificate store): the agent reconnects to the same endpoint over TLS,
// wss:// instead of ws:// (1.6 has no key for a second URL), checks the
// server against the store's root, and registers there.
func TestRaiseToProfile2MovesToWSS(t *testing.T) {
	const key = "0123456789abcdef0123"
	ca := certtest.MustRoot(certtest.Spec{Name: "CSMS CA", CA: true})
	csms, err := ocpptest.Start(ocpptest.Options{Password: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(csms.Stop)
	door := newFrontDoor(t, csms.URL())
	a := newAgent(t, "CPRAISE", door.url(csms.URL()), func(o *Options) {
		o.CSMS.SecurityProfile, o.CSMS.Password = 1, key
		o.Certificates = openStore(t, ca)
	})
	launch(t, a)
	if !waitRegistered(a) {
		t.Fatal("no registration at profile 1")
	}

	door.serveTLS(&tls.Config{Certificates: []tls.Certificate{ca.MustIssue(certtest.Spec{Name: "csms.test", Server: true}).TLS()}})
	resp, err := csms.ChangeConfiguration("CPRAISE", "SecurityProfile", "2")
	if err != nil || resp.Status != core.ConfigurationStatusAccepted {
		t.Fatalf("ChangeConfiguration SecurityProfile 2: %+v, %v", resp, err)
	}
	deadline := time.Now().Add(waitLimit)
	for door.tlsConns.Load() == 0 || !a.registered() {
		if time.Now().After(deadline) {
			t.Fatalf("no registration over TLS after the raise (%d TLS handshakes)", door.tlsConns.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if v, _ := a.keys.Value("SecurityProfile"); v != "2" {
		t.Errorf("SecurityProfile %q after the raise, want 2", v)
	}
}
