package ocppclient

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/gorilla/websocket"
)

// The tests below talk to a scripted fake CSMS over real websockets on
// loopback. Real time appears only as a generous bound on how long a test
// waits for something that must happen; no assertion depends on it.

// testWait bounds every wait for an event that must happen.
const testWait = 10 * time.Second

// testT0 is the fake clock's start.
var testT0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// fakeCSMS is a websocket server that hands each accepted connection to the
// test and records the handshakes it saw.
type fakeCSMS struct {
	t     *testing.T
	srv   *httptest.Server
	conns chan *csmsConn

	// Set before the first connection; read by the server goroutines.
	subprotocols []string        // offered by the upgrader; nil: none
	refuse       func(n int) int // HTTP status to refuse handshake n (1-based) with, 0 accepts
	noPong       bool            // do not answer the client's pings

	mu         sync.Mutex // guards handshakes, auth, paths
	handshakes int
	auth       []string // Authorization header of every handshake
	paths      []string // escaped request path of every handshake
}

// newFakeCSMS returns a stopped fake CSMS; configure it, then call start or
// startTLS.
func newFakeCSMS(t *testing.T) *fakeCSMS {
	f := &fakeCSMS{t: t, conns: make(chan *csmsConn, 16), subprotocols: []string{"ocpp1.6"}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	return f
}

func (f *fakeCSMS) start() *fakeCSMS {
	f.srv.Start()
	f.t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCSMS) startTLS(cfg *tls.Config) *fakeCSMS {
	f.srv.TLS = cfg
	f.srv.StartTLS()
	f.t.Cleanup(f.srv.Close)
	return f
}

// url is the endpoint to give the client (without the charge point id).
func (f *fakeCSMS) url() string {
	u := f.srv.URL
	u = strings.Replace(u, "https://", "wss://", 1)
	u = strings.Replace(u, "http://", "ws://", 1)
	return u + "/ocpp"
}

func (f *fakeCSMS) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.handshakes++
	n := f.handshakes
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.paths = append(f.paths, r.URL.EscapedPath())
	f.mu.Unlock()
	if f.refuse != nil {
		if code := f.refuse(n); code != 0 {
			http.Error(w, http.StatusText(code), code)
			return
		}
	}
	up := websocket.Upgrader{Subprotocols: f.subprotocols}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &csmsConn{t: f.t, ws: ws, in: make(chan []byte, 64), closed: make(chan struct{})}
	if f.noPong {
		ws.SetPingHandler(func(string) error { return nil })
	}
	f.conns <- c
	defer close(c.closed)
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return
		}
		c.in <- b
	}
}

// stats returns the number of handshakes so far and their Authorization
// headers.
func (f *fakeCSMS) stats() (int, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.handshakes, append([]string(nil), f.auth...)
}

// accept returns the next accepted connection.
func (f *fakeCSMS) accept() *csmsConn {
	f.t.Helper()
	select {
	case c := <-f.conns:
		return c
	case <-time.After(testWait):
		f.t.Fatal("fake CSMS: no connection")
		return nil
	}
}

// csmsConn is the server side of one connection.
type csmsConn struct {
	t      *testing.T
	ws     *websocket.Conn
	in     chan []byte   // every message the client sent, in order
	closed chan struct{} // closed when the client's side went away
	wmu    sync.Mutex    // serializes send
}

// next returns the next frame the client sent, parsed.
func (c *csmsConn) next() Frame {
	c.t.Helper()
	select {
	case b := <-c.in:
		f, err := ParseFrame(b)
		if err != nil {
			c.t.Fatalf("client sent a bad frame %s: %v", b, err)
		}
		return f
	case <-time.After(testWait):
		c.t.Fatal("fake CSMS: no frame from the client")
		return Frame{}
	}
}

// nextCallError returns the type, id and error code of the next frame the
// client sent, read without ParseFrame's checks, so that a CALLERROR that
// echoes an id ParseFrame refuses can still be inspected.
func (c *csmsConn) nextCallError() (MessageType, string, ErrorCode) {
	c.t.Helper()
	select {
	case b := <-c.in:
		var (
			elems []json.RawMessage
			typ   MessageType
			id    string
			code  ErrorCode
		)
		if err := json.Unmarshal(b, &elems); err != nil || len(elems) < 3 {
			c.t.Fatalf("client sent %s: %v", b, err)
		}
		for i, v := range []any{&typ, &id, &code} {
			if err := json.Unmarshal(elems[i], v); err != nil {
				c.t.Fatalf("client sent %s: element %d: %v", b, i, err)
			}
		}
		return typ, id, code
	case <-time.After(testWait):
		c.t.Fatal("fake CSMS: no frame from the client")
		return 0, "", ""
	}
}

// nextCall returns the next frame and checks that it is a CALL of action.
func (c *csmsConn) nextCall(action string) Frame {
	c.t.Helper()
	f := c.next()
	if f.Type != MsgCall || f.Action != action {
		c.t.Fatalf("got %v %q, want CALL %s", f.Type, f.Action, action)
	}
	return f
}

// send writes a raw frame.
func (c *csmsConn) send(raw string) {
	c.t.Helper()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(raw)); err != nil {
		c.t.Fatalf("fake CSMS send: %v", err)
	}
}

// result answers CALL id with payload.
func (c *csmsConn) result(id, payload string) {
	c.t.Helper()
	c.send(`[3,` + mustJSON(c.t, id) + `,` + payload + `]`)
}

// assertQuiet checks that the client has sent nothing it should not have.
// A correct client never sends here, so the short real pause cannot make
// the test fail wrongly; it only gives a broken client the chance to show.
func (c *csmsConn) assertQuiet(why string) {
	c.t.Helper()
	select {
	case b := <-c.in:
		c.t.Fatalf("%s: client sent %s", why, b)
	case <-time.After(50 * time.Millisecond):
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testOptions returns Options for a client of f on a fake clock.
func testOptions(t *testing.T, f *fakeCSMS) (Options, *clock.Fake) {
	clk := clock.NewFake(testT0)
	return Options{
		URL:           f.url(),
		ChargePointID: "CP-1",
		Subprotocols:  []string{"ocpp1.6"},
		CallTimeout:   30 * time.Second,
		BackoffMin:    time.Second,
		BackoffMax:    4 * time.Second,
		Clock:         clk,
		Logger:        slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}, clk
}

// runClient builds a client and runs it until the test ends.
func runClient(t *testing.T, opts Options) *Client {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.rand = func() float64 { return 0.5 }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(testWait):
			t.Error("Run did not return after cancel")
		}
	})
	return c
}

// waitFor polls cond until it holds, failing the test after testWait.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// advanceUntil moves the fake clock in steps of d until cond holds: for
// waits (back-off) armed by goroutines the test cannot synchronize with.
func advanceUntil(t *testing.T, clk *clock.Fake, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		clk.Advance(d)
		time.Sleep(time.Millisecond)
	}
}

// callAsync runs c.Call in a goroutine and returns its result channel.
func callAsync(c Caller, action string, req any, resp any) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- c.Call(context.Background(), action, req, resp) }()
	return ch
}

// waitErr waits for a callAsync result.
func waitErr(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(testWait):
		t.Fatal("Call did not return")
		return nil
	}
}

// registered starts a client against a fresh fake CSMS and waits until it
// is registered (no OnConnect).
func registered(t *testing.T, tweak func(*Options)) (*Client, *clock.Fake, *csmsConn) {
	t.Helper()
	f := newFakeCSMS(t).start()
	opts, clk := testOptions(t, f)
	if tweak != nil {
		tweak(&opts)
	}
	c := runClient(t, opts)
	sc := f.accept()
	waitFor(t, "registered", c.Registered)
	return c, clk, sc
}
