package ocppclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"github.com/evsed/evsed/ocppclient/certstore"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEndpointURL(t *testing.T) {
	tests := []struct {
		name, base, id, want string
	}{
		{"plain", "ws://h:9000/ocpp", "CP1", "ws://h:9000/ocpp/CP1"},
		{"trailing slash", "ws://h/ocpp/", "CP1", "ws://h/ocpp/CP1"},
		{"many slashes", "wss://h/ocpp//", "CP1", "wss://h/ocpp/CP1"},
		{"no path", "ws://h", "CP1", "ws://h/CP1"},
		{"root path", "ws://h/", "CP1", "ws://h/CP1"},
		{"escaped id", "ws://h/ocpp", "CP 1/a?b", "ws://h/ocpp/CP%201%2Fa%3Fb"},
		{"escaped base", "ws://h/my%20csms/", "CP1", "ws://h/my%20csms/CP1"},
		{"query kept", "ws://h/ocpp?tenant=7", "CP1", "ws://h/ocpp/CP1?tenant=7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := endpointURL(tc.base, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"http://h/ocpp", "ws://", "://x", "h/ocpp"} {
		if got, err := endpointURL(bad, "CP1"); err == nil {
			t.Errorf("endpointURL(%q) = %s, want error", bad, got)
		}
	}
}

func TestNewValidation(t *testing.T) {
	cert := tls.Certificate{Certificate: [][]byte{{1}}}
	ok := Options{URL: "ws://h/ocpp", ChargePointID: "CP1", Subprotocols: []string{"ocpp1.6"}}
	tests := []struct {
		name    string
		tweak   func(*Options)
		wantErr string // "" means New succeeds
	}{
		{"minimal", func(*Options) {}, ""},
		{"no id", func(o *Options) { o.ChargePointID = "" }, "ChargePointID"},
		{"no subprotocol", func(o *Options) { o.Subprotocols = nil }, "subprotocol"},
		{"bad scheme", func(o *Options) { o.URL = "http://h" }, "scheme"},
		{"profile 1 ws", func(o *Options) { o.SecurityProfile, o.Password = 1, "pw" }, ""},
		{"profile 1 no password", func(o *Options) { o.SecurityProfile = 1 }, "password"},
		{"profile 2 over ws", func(o *Options) { o.SecurityProfile, o.Password = 2, "pw" }, "wss"},
		{"profile 2 wss", func(o *Options) { o.SecurityProfile, o.Password, o.URL = 2, "pw", "wss://h" }, ""},
		{"profile 3 over ws", func(o *Options) {
			o.SecurityProfile, o.TLS = 3, &tls.Config{Certificates: []tls.Certificate{cert}}
		}, "wss"},
		{"profile 3 no cert", func(o *Options) { o.SecurityProfile, o.URL = 3, "wss://h" }, "certificate"},
		{"profile 3", func(o *Options) {
			o.SecurityProfile, o.URL, o.TLS = 3, "wss://h", &tls.Config{Certificates: []tls.Certificate{cert}}
		}, ""},
		{"profile 4", func(o *Options) { o.SecurityProfile = 4 }, "profile"},
		{"backoff inverted", func(o *Options) { o.BackoffMin, o.BackoffMax = time.Minute, time.Second }, "Backoff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.tweak(&o)
			c, err := New(o)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if c.opts.CallTimeout != 30*time.Second || c.opts.BackoffMin != time.Second || c.opts.BackoffMax != 5*time.Minute {
					t.Fatalf("defaults not filled in: %+v", c.opts)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New: %v, want error mentioning %q", err, tc.wantErr)
			}
		})
	}
}

func TestTLSConfigEnforcesTLS12(t *testing.T) {
	for _, in := range []*tls.Config{nil, {}, {MinVersion: tls.VersionTLS10}, {MinVersion: tls.VersionTLS13}} {
		got := tlsConfig(in)
		want := uint16(tls.VersionTLS12)
		if in != nil && in.MinVersion > want {
			want = in.MinVersion
		}
		if got.MinVersion != want {
			t.Errorf("tlsConfig(%+v).MinVersion = %x, want %x", in, got.MinVersion, want)
		}
		if in != nil && in.MinVersion == tls.VersionTLS10 && got == in {
			t.Error("tlsConfig modified the caller's config")
		}
	}
}

// TLS 1.2 is held to the security whitepaper's cipher suites unless the
// configuration names its own, which are kept.
func TestTLSConfigWhitepaperSuites(t *testing.T) {
	if got := tlsConfig(nil).CipherSuites; !slices.Equal(got, certstore.CipherSuites()) {
		t.Errorf("default suites %v, want the whitepaper's %v", got, certstore.CipherSuites())
	}
	own := []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
	if got := tlsConfig(&tls.Config{CipherSuites: own}).CipherSuites; !slices.Equal(got, own) {
		t.Errorf("own suites became %v", got)
	}
}

func TestBackoffGrowth(t *testing.T) {
	const lo, hi = time.Second, time.Minute
	tests := []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{0, 0.5, 1 * time.Second},
		{1, 0.5, 2 * time.Second},
		{2, 0.5, 4 * time.Second},
		{3, 0.5, 8 * time.Second},
		{5, 0.5, 32 * time.Second},
		{6, 0.5, time.Minute},      // 64 s capped
		{100, 0.5, time.Minute},    // no overflow
		{3, 0, 6 * time.Second},    // -25 %
		{3, 0.75, 9 * time.Second}, // +12.5 %
		{0, 0, time.Second},        // never below lo
		{100, 0.999, time.Minute},  // never above hi
		{100, 0, 45 * time.Second}, // jitter also at the cap
		{1, 0.25, 1750 * time.Millisecond},
	}
	for _, tc := range tests {
		if got := backoff(tc.n, lo, hi, tc.r); got != tc.want {
			t.Errorf("backoff(%d, r=%v) = %v, want %v", tc.n, tc.r, got, tc.want)
		}
	}
}

func TestBackoffJitterBounds(t *testing.T) {
	const lo, hi = time.Second, 5 * time.Minute
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 20 {
		base := lo << min(n, 30)
		base = min(base, hi)
		seen := map[time.Duration]bool{}
		for range 200 {
			d := backoff(n, lo, hi, rng.Float64())
			if d < lo || d > hi || d < base*3/4 || d > base*5/4 {
				t.Fatalf("attempt %d: %v outside [%v, %v] and +-25%% of %v", n, d, lo, hi, base)
			}
			seen[d] = true
		}
		if len(seen) < 50 {
			t.Fatalf("attempt %d: only %d distinct delays in 200 draws: no jitter", n, len(seen))
		}
	}
}

func TestSubprotocol(t *testing.T) {
	tests := []struct {
		name    string
		server  []string
		offered []string
		want    string // "" means the handshake must fail with ErrNoSubprotocol
	}{
		{"exact", []string{"ocpp1.6"}, []string{"ocpp1.6"}, "ocpp1.6"},
		{"server picks its own preference", []string{"ocpp1.6"}, []string{"ocpp2.0.1", "ocpp1.6"}, "ocpp1.6"},
		{"none in common", []string{"ocpp2.0.1"}, []string{"ocpp1.6"}, ""},
		{"server without subprotocol", nil, []string{"ocpp1.6"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCSMS(t)
			f.subprotocols = tc.server
			f.start()
			opts, _ := testOptions(t, f)
			opts.Subprotocols = tc.offered
			c := runClient(t, opts)
			if tc.want != "" {
				waitFor(t, "registered", c.Registered)
				if got := c.Status().Subprotocol; got != tc.want {
					t.Fatalf("subprotocol %q, want %q", got, tc.want)
				}
				return
			}
			waitFor(t, "a connect error", func() bool { return c.Status().LastError != nil })
			if err := c.Status().LastError; !errors.Is(err, ErrNoSubprotocol) {
				t.Fatalf("LastError = %v, want ErrNoSubprotocol", err)
			}
			if c.Connected() {
				t.Fatal("connected without a subprotocol")
			}
		})
	}
}

func TestBasicAuth(t *testing.T) {
	tests := []struct {
		name     string
		profile  int
		password string
		want     string
	}{
		{"profile 0 sends no credentials", 0, "ignored-secret", ""},
		{"profile 1", 1, "s3cret:with-colon",
			"Basic " + base64.StdEncoding.EncodeToString([]byte("CP-1:s3cret:with-colon"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCSMS(t).start()
			opts, _ := testOptions(t, f)
			opts.SecurityProfile, opts.Password = tc.profile, tc.password
			c := runClient(t, opts)
			f.accept()
			waitFor(t, "registered", c.Registered)
			n, auth := f.stats()
			if n != 1 || auth[0] != tc.want {
				t.Fatalf("handshakes %d, Authorization %q; want 1, %q", n, auth, tc.want)
			}
			f.mu.Lock()
			path := f.paths[0]
			f.mu.Unlock()
			if path != "/ocpp/CP-1" {
				t.Fatalf("path %q, want /ocpp/CP-1", path)
			}
		})
	}
}

func TestUnauthorizedRetries(t *testing.T) {
	f := newFakeCSMS(t)
	f.refuse = func(n int) int {
		if n <= 2 {
			return 401
		}
		return 0
	}
	f.start()
	opts, clk := testOptions(t, f)
	opts.SecurityProfile, opts.Password = 1, "wrong-then-fixed"
	c := runClient(t, opts)
	waitFor(t, "the first refusal", func() bool { return c.Status().LastError != nil })
	if err := c.Status().LastError; !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("LastError = %v, want ErrUnauthorized", err)
	}
	if c.Connected() {
		t.Fatal("connected after 401")
	}
	advanceUntil(t, clk, opts.BackoffMin, "registration after two refusals", c.Registered)
	n, auth := f.stats()
	if n != 3 {
		t.Fatalf("%d handshakes, want 3", n)
	}
	for i, a := range auth {
		if !strings.HasPrefix(a, "Basic ") {
			t.Errorf("handshake %d without Basic auth: %q", i+1, a)
		}
	}
}

func TestSecurityProfile2(t *testing.T) {
	otherCA := x509.NewCertPool()
	otherCA.AddCert(selfSignedCert(t))

	tests := []struct {
		name      string
		serverTLS *tls.Config
		clientTLS func(ca *x509.CertPool) *tls.Config
		wantOK    bool
	}{
		{"right CA", nil, func(ca *x509.CertPool) *tls.Config { return &tls.Config{RootCAs: ca} }, true},
		{"wrong CA", nil, func(*x509.CertPool) *tls.Config { return &tls.Config{RootCAs: otherCA} }, false},
		{"system roots", nil, func(*x509.CertPool) *tls.Config { return nil }, false},
		{"server stuck at TLS 1.1, client asks for 1.0",
			&tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11},
			func(ca *x509.CertPool) *tls.Config {
				return &tls.Config{RootCAs: ca, MinVersion: tls.VersionTLS10}
			}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCSMS(t).startTLS(tc.serverTLS)
			ca := x509.NewCertPool()
			ca.AddCert(f.srv.Certificate())
			opts, _ := testOptions(t, f)
			opts.SecurityProfile, opts.Password, opts.TLS = 2, "tls-secret", tc.clientTLS(ca)
			c := runClient(t, opts)
			if tc.wantOK {
				waitFor(t, "registered", c.Registered)
				_, auth := f.stats()
				want := "Basic " + base64.StdEncoding.EncodeToString([]byte("CP-1:tls-secret"))
				if auth[0] != want {
					t.Fatalf("Authorization %q, want %q", auth[0], want)
				}
				return
			}
			waitFor(t, "a TLS error", func() bool { return c.Status().LastError != nil })
			if c.Connected() {
				t.Fatal("connected although TLS should have failed")
			}
			if n, _ := f.stats(); n != 0 {
				t.Fatalf("server saw %d HTTP requests, want none before TLS succeeds", n)
			}
			t.Logf("refused as expected: %v", c.Status().LastError)
		})
	}
}

func TestRunTwice(t *testing.T) {
	f := newFakeCSMS(t).start()
	opts, _ := testOptions(t, f)
	c := runClient(t, opts)
	waitFor(t, "registered", c.Registered)
	if err := c.Run(context.Background()); err == nil {
		t.Fatal("second Run returned nil")
	}
}

// selfSignedCert returns a fresh CA certificate that signed nothing the
// test servers use (httptest servers all share one built-in certificate).
func selfSignedCert(t *testing.T) *x509.Certificate {
	cert, _ := testCA(t)
	return cert
}

// testCA returns a fresh self-signed CA and its key.
func testCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key := testKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Unix(0, 0),
		NotAfter:              time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// testClientCert returns a charge point certificate signed by ca.
func testClientCert(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey) tls.Certificate {
	t.Helper()
	key := testKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "CP-1", Organization: []string{"evsed test"}},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func testKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestSecurityProfile3(t *testing.T) {
	ca, caKey := testCA(t)
	cpCAs := x509.NewCertPool()
	cpCAs.AddCert(ca)
	tests := []struct {
		name   string
		certs  func() []tls.Certificate
		wantOK bool
	}{
		{"certificate from the CSMS's CA", func() []tls.Certificate { return []tls.Certificate{testClientCert(t, ca, caKey)} }, true},
		{"certificate from another CA", func() []tls.Certificate {
			other, otherKey := testCA(t)
			return []tls.Certificate{testClientCert(t, other, otherKey)}
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCSMS(t).startTLS(&tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: cpCAs})
			serverCA := x509.NewCertPool()
			serverCA.AddCert(f.srv.Certificate())
			opts, _ := testOptions(t, f)
			opts.SecurityProfile = 3
			opts.TLS = &tls.Config{RootCAs: serverCA, Certificates: tc.certs()}
			c := runClient(t, opts)
			if !tc.wantOK {
				waitFor(t, "a TLS error", func() bool { return c.Status().LastError != nil })
				if n, _ := f.stats(); n != 0 || c.Connected() {
					t.Fatalf("handshakes %d connected %v, want the TLS handshake refused", n, c.Connected())
				}
				return
			}
			waitFor(t, "registered", c.Registered)
			if _, auth := f.stats(); auth[0] != "" {
				t.Fatalf("profile 3 sent Authorization %q", auth[0])
			}
		})
	}
}
