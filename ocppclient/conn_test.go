package ocppclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
)

func TestCallRoundTrip(t *testing.T) {
	c, _, sc := registered(t, nil)
	var resp struct {
		CurrentTime string `json:"currentTime"`
	}
	ch := callAsync(c, "Heartbeat", struct{}{}, &resp)
	f := sc.nextCall("Heartbeat")
	if string(f.Payload) != "{}" {
		t.Fatalf("payload %s, want {}", f.Payload)
	}
	if len(f.ID) == 0 || len(f.ID) > 36 {
		t.Fatalf("message id %q: want 1..36 characters", f.ID)
	}
	sc.result(f.ID, `{"currentTime":"2025-06-01T12:00:00Z"}`)
	if err := waitErr(t, ch); err != nil {
		t.Fatalf("Call: %v", err)
	}
	if resp.CurrentTime != "2025-06-01T12:00:00Z" {
		t.Fatalf("resp %+v", resp)
	}

	// Ids never repeat.
	ch = callAsync(c, "Heartbeat", nil, nil)
	g := sc.nextCall("Heartbeat")
	if g.ID == f.ID {
		t.Fatalf("id %q reused", g.ID)
	}
	sc.result(g.ID, `{}`)
	if err := waitErr(t, ch); err != nil {
		t.Fatal(err)
	}
}

func TestCallErrorReturned(t *testing.T) {
	c, _, sc := registered(t, nil)
	ch := callAsync(c, "DataTransfer", map[string]string{"vendorId": "x"}, nil)
	f := sc.nextCall("DataTransfer")
	sc.send(`[4,"` + f.ID + `","NotSupported","no vendor x",{"hint":1}]`)
	err := waitErr(t, ch)
	var ce *CallError
	if !errors.As(err, &ce) {
		t.Fatalf("Call: %v, want *CallError", err)
	}
	if ce.Code != NotSupported || ce.Description != "no vendor x" || string(ce.Details) != `{"hint":1}` {
		t.Fatalf("got %+v", ce)
	}
}

func TestCallTimeout(t *testing.T) {
	c, clk, sc := registered(t, nil)
	ch := callAsync(c, "Heartbeat", nil, nil)
	f := sc.nextCall("Heartbeat")
	clk.Advance(29 * time.Second)
	select {
	case err := <-ch:
		t.Fatalf("Call returned %v before the timeout", err)
	default:
	}
	clk.Advance(time.Second)
	if err := waitErr(t, ch); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Call: %v, want ErrTimeout", err)
	}

	// The late answer is dropped and the connection stays up.
	sc.result(f.ID, `{"currentTime":"late"}`)
	var resp map[string]string
	ch = callAsync(c, "Heartbeat", nil, &resp)
	g := sc.nextCall("Heartbeat")
	sc.result(g.ID, `{"currentTime":"fresh"}`)
	if err := waitErr(t, ch); err != nil || resp["currentTime"] != "fresh" {
		t.Fatalf("Call after timeout: %v %v", err, resp)
	}
	if !c.Registered() {
		t.Fatal("connection dropped after a call timeout")
	}
}

func TestCallContextCancelKeepsSlot(t *testing.T) {
	c, _, sc := registered(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan error, 1)
	go func() { cancelled <- c.Call(ctx, "Heartbeat", nil, nil) }()
	f := sc.nextCall("Heartbeat")
	cancel()
	if err := waitErr(t, cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("Call: %v, want context.Canceled", err)
	}
	// The cancelled CALL is still unanswered: the next one must wait.
	ch := callAsync(c, "StatusNotification", nil, nil)
	sc.assertQuiet("second CALL while the cancelled one is unanswered")
	sc.result(f.ID, `{}`)
	g := sc.nextCall("StatusNotification")
	sc.result(g.ID, `{}`)
	if err := waitErr(t, ch); err != nil {
		t.Fatal(err)
	}
}

func TestOneCallInFlight(t *testing.T) {
	c, _, sc := registered(t, nil)
	first := callAsync(c, "Heartbeat", nil, nil)
	f := sc.nextCall("Heartbeat")
	second := callAsync(c, "StatusNotification", map[string]any{"connectorId": 1}, nil)
	waitFor(t, "the second Call to queue", func() bool { return c.waiting.Load() == 1 })
	sc.assertQuiet("second CALL before the first was answered")
	sc.result(f.ID, `{}`)
	if err := waitErr(t, first); err != nil {
		t.Fatal(err)
	}
	g := sc.nextCall("StatusNotification")
	sc.result(g.ID, `{}`)
	if err := waitErr(t, second); err != nil {
		t.Fatal(err)
	}
}

func TestInboundCallWhileOutboundPending(t *testing.T) {
	handler := HandlerFunc(func(ctx context.Context, action string, payload json.RawMessage) (any, error) {
		return map[string]string{"status": "Accepted"}, nil
	})
	c, _, sc := registered(t, func(o *Options) { o.Handler = handler })
	out := callAsync(c, "Heartbeat", nil, nil)
	f := sc.nextCall("Heartbeat")
	sc.send(`[2,"srv-1","Reset",{"type":"Soft"}]`)
	got := sc.next()
	if got.Type != MsgCallResult || got.ID != "srv-1" || string(got.Payload) != `{"status":"Accepted"}` {
		t.Fatalf("answer %+v", got)
	}
	sc.result(f.ID, `{}`)
	if err := waitErr(t, out); err != nil {
		t.Fatal(err)
	}
}

func TestInboundCallAnswers(t *testing.T) {
	tests := []struct {
		name     string
		handler  Handler
		wantCode ErrorCode // "" means CALLRESULT
		wantBody string    // the CALLRESULT payload
	}{
		{"result", HandlerFunc(func(context.Context, string, json.RawMessage) (any, error) {
			return map[string]string{"status": "Accepted"}, nil
		}), "", `{"status":"Accepted"}`},
		{"nil result", HandlerFunc(func(context.Context, string, json.RawMessage) (any, error) {
			return nil, nil
		}), "", `{}`},
		{"no handler", nil, NotImplemented, ""},
		{"call error", HandlerFunc(func(context.Context, string, json.RawMessage) (any, error) {
			return nil, Errorf(NotSupported, "no")
		}), NotSupported, ""},
		{"wrapped call error", HandlerFunc(func(context.Context, string, json.RawMessage) (any, error) {
			return nil, fmt.Errorf("adapter: %w", Errorf(PropertyConstraintViolation, "bad"))
		}), PropertyConstraintViolation, ""},
		{"plain error", HandlerFunc(func(context.Context, string, json.RawMessage) (any, error) {
			return nil, errors.New("disk on fire")
		}), InternalError, ""},
		{"panic", HandlerFunc(func(context.Context, string, json.RawMessage) (any, error) {
			panic("boom")
		}), InternalError, ""},
		{"non-object result", HandlerFunc(func(context.Context, string, json.RawMessage) (any, error) {
			return "Accepted", nil
		}), InternalError, ""},
		{"unencodable result", HandlerFunc(func(context.Context, string, json.RawMessage) (any, error) {
			return map[string]any{"f": func() {}}, nil
		}), InternalError, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _, sc := registered(t, func(o *Options) { o.Handler = tc.handler })
			for i := range 2 { // twice: the client survives the first
				id := fmt.Sprintf("in-%d", i)
				sc.send(`[2,"` + id + `","Reset",{"type":"Hard"}]`)
				got := sc.next()
				if got.ID != id {
					t.Fatalf("answer to %q, want %q", got.ID, id)
				}
				if tc.wantCode == "" {
					if got.Type != MsgCallResult || string(got.Payload) != tc.wantBody {
						t.Fatalf("got %v %s, want CALLRESULT %s", got.Type, got.Payload, tc.wantBody)
					}
					continue
				}
				if got.Type != MsgCallError || got.Err.Code != tc.wantCode {
					t.Fatalf("got %+v, want CALLERROR %s", got, tc.wantCode)
				}
				if tc.wantCode == InternalError && strings.Contains(got.Err.Description, "fire") {
					t.Fatalf("internal detail leaked to the CSMS: %q", got.Err.Description)
				}
			}
			if !c.Registered() {
				t.Fatal("client dropped the connection")
			}
		})
	}
}

func TestMalformedInboundFrames(t *testing.T) {
	probe := HandlerFunc(func(ctx context.Context, action string, payload json.RawMessage) (any, error) {
		if action != "Probe" {
			return nil, fmt.Errorf("handler called for %s", action)
		}
		return map[string]bool{"ok": true}, nil
	})
	c, _, sc := registered(t, func(o *Options) { o.Handler = probe })
	long37 := strings.Repeat("L", 37)
	tests := []struct {
		name     string
		raw      string
		wantID   string // "" means dropped without an answer
		wantCode ErrorCode
	}{
		{"not json", `hello`, "", ""},
		{"truncated", `[2,"t1","Reset",{`, "", ""},
		{"object", `{"a":1}`, "", ""},
		{"empty array", `[]`, "", ""},
		{"numeric id", `[2,5,"Reset",{}]`, "", ""},
		{"empty id", `[2,"","Reset",{}]`, "", ""},
		{"binary garbage", "\x00\xff\xfe", "", ""},
		{"type as string", `["2","m1","Reset",{}]`, "m1", ProtocolError},
		{"type as float", `[2.5,"m2","Reset",{}]`, "m2", ProtocolError},
		{"unknown type", `[7,"m3","Reset",{}]`, "m3", ProtocolError},
		{"call too short", `[2,"m4","Reset"]`, "m4", ProtocolError},
		{"call too long", `[2,"m5","Reset",{},{}]`, "m5", ProtocolError},
		{"action not string", `[2,"m6",7,{}]`, "m6", ProtocolError},
		{"payload array", `[2,"m7","Reset",[]]`, "m7", FormationViolation},
		{"payload string", `[2,"m8","Reset","x"]`, "m8", FormationViolation},
		{"payload null", `[2,"m9","Reset",null]`, "m9", FormationViolation},
		{"callresult unknown id", `[3,"nope",{}]`, "", ""},
		{"callerror unknown id", `[4,"nope","GenericError","",{}]`, "", ""},
		{"malformed callresult", `[3,"nope"]`, "", ""},
		{"call id of 37 characters", `[2,"` + long37 + `","Reset",{}]`, long37, ProtocolError},
		{"call id of 37 characters, bad payload too", `[2,"` + long37 + `","Reset",[]]`, long37, ProtocolError},
		{"callresult id of 37 characters", `[3,"` + long37 + `",{}]`, "", ""},
		{"callerror id of 37 characters", `[4,"` + long37 + `","GenericError","",{}]`, "", ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc.send(tc.raw)
			// The reader answers a bad frame before it reads the probe, so
			// the probe's answer comes after any answer to tc.raw.
			probeID := fmt.Sprintf("probe-%d", i)
			sc.send(`[2,"` + probeID + `","Probe",{}]`)
			if tc.wantID != "" {
				// Loosely parsed: an echoed over-long id is no frame
				// ParseFrame would accept.
				typ, id, code := sc.nextCallError()
				if typ != MsgCallError || id != tc.wantID || code != tc.wantCode {
					t.Fatalf("got %v %q %s, want CALLERROR %q %s", typ, id, code, tc.wantID, tc.wantCode)
				}
			}
			got := sc.next()
			if got.Type != MsgCallResult || got.ID != probeID {
				t.Fatalf("got %v %q %+v, want the probe's CALLRESULT", got.Type, got.ID, got.Err)
			}
		})
	}
	if !c.Registered() {
		t.Fatal("client dropped the connection")
	}
}

func TestMalformedAnswerFailsPendingCall(t *testing.T) {
	c, _, sc := registered(t, nil)
	ch := callAsync(c, "Heartbeat", nil, nil)
	f := sc.nextCall("Heartbeat")
	sc.send(`[3,"` + f.ID + `","not an object"]`)
	err := waitErr(t, ch)
	var fe *FrameError
	if !errors.As(err, &fe) || fe.ID != f.ID {
		t.Fatalf("Call: %v, want a *FrameError for %s", err, f.ID)
	}
}

func TestKeepalive(t *testing.T) {
	tests := []struct {
		name          string
		noPong        bool
		wantReconnect bool
	}{
		{"pongs keep the connection", false, false},
		{"missing pong drops it", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCSMS(t)
			f.noPong = tc.noPong
			f.start()
			opts, clk := testOptions(t, f)
			opts.PingInterval = 10 * time.Second
			c := runClient(t, opts)
			sc := f.accept()
			waitFor(t, "registered", c.Registered)
			cn := c.registeredConn()
			for tick := range 3 {
				clk.Advance(opts.PingInterval) // the ping goes out or the conn drops
				if tc.noPong && tick == 1 {
					break
				}
				if !tc.noPong {
					waitFor(t, "pong", cn.heard.Load)
				}
			}
			if !tc.wantReconnect {
				if n, _ := f.stats(); n != 1 || cn.cause() != nil {
					t.Fatalf("handshakes %d, conn closed by %v; want the first conn up", n, cn.cause())
				}
				return
			}
			if cn.cause() == nil || !strings.Contains(cn.cause().Error(), "keepalive") {
				t.Fatalf("conn closed by %v, want keepalive", cn.cause())
			}
			select {
			case <-sc.closed:
			case <-time.After(testWait):
				t.Fatal("server still sees the connection")
			}
			advanceUntil(t, clk, opts.BackoffMin, "reconnect", func() bool {
				n, _ := f.stats()
				return n == 2 && c.Registered()
			})
		})
	}
}

func TestOnConnectGating(t *testing.T) {
	f := newFakeCSMS(t).start()
	opts, clk := testOptions(t, f)
	type boot struct {
		caller Caller
		result chan error
	}
	boots := make(chan boot)
	opts.OnConnect = func(ctx context.Context, cl Caller) error {
		b := boot{cl, make(chan error)}
		boots <- b
		select {
		case err := <-b.result:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c := runClient(t, opts)

	for attempt, fail := range []bool{true, false} {
		sc := f.accept()
		b := <-boots
		if !c.Connected() || c.Registered() {
			t.Fatalf("attempt %d: connected %v registered %v during OnConnect", attempt, c.Connected(), c.Registered())
		}
		if err := c.Call(context.Background(), "Heartbeat", nil, nil); !errors.Is(err, ErrOffline) {
			t.Fatalf("Call during OnConnect: %v, want ErrOffline", err)
		}
		// The caller handed to OnConnect bypasses the gate.
		var resp struct{ Status string }
		ch := callAsync(b.caller, "BootNotification", map[string]string{"chargePointVendor": "evsed"}, &resp)
		bn := sc.nextCall("BootNotification")
		sc.result(bn.ID, `{"status":"Accepted","currentTime":"2025-06-01T12:00:00Z","interval":300}`)
		if err := waitErr(t, ch); err != nil || resp.Status != "Accepted" {
			t.Fatalf("BootNotification: %v %+v", err, resp)
		}
		if fail {
			b.result <- errors.New("boot rejected")
			select {
			case <-sc.closed:
			case <-time.After(testWait):
				t.Fatal("connection kept after OnConnect failed")
			}
			if c.Registered() {
				t.Fatal("registered although OnConnect failed")
			}
			waitFor(t, "the error recorded", func() bool { return c.Status().LastError != nil })
			if err := c.Status().LastError; !strings.Contains(err.Error(), "boot rejected") {
				t.Fatalf("LastError %v", err)
			}
			advanceUntil(t, clk, opts.BackoffMin, "reconnect", func() bool { n, _ := f.stats(); return n == 2 })
			continue
		}
		b.result <- nil
		waitFor(t, "registered", c.Registered)
		ch = callAsync(c, "Heartbeat", nil, nil)
		hb := sc.nextCall("Heartbeat")
		sc.result(hb.ID, `{}`)
		if err := waitErr(t, ch); err != nil {
			t.Fatalf("Call after registration: %v", err)
		}
	}
}

func TestOfflineBeforeRun(t *testing.T) {
	c, err := New(Options{URL: "ws://127.0.0.1:1/ocpp", ChargePointID: "CP", Subprotocols: []string{"ocpp1.6"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Call(context.Background(), "Heartbeat", nil, nil); !errors.Is(err, ErrOffline) {
		t.Fatalf("Call: %v, want ErrOffline", err)
	}
	if s := c.Status(); s.State != StateOffline || s.Connected() || s.Registered() {
		t.Fatalf("status %+v", s)
	}
}

// TestOnCallAndSmallBuffers runs calls through tiny websocket buffers and a
// shared write-buffer pool: frames larger than the buffers still go through
// whole, and OnCall reports each completed CALL once, with its latency on
// the injected clock and its outcome.
func TestOnCallAndSmallBuffers(t *testing.T) {
	done := make(chan CallDone, 4)
	c, clk, sc := registered(t, func(o *Options) {
		o.ReadBufferSize, o.WriteBufferSize = 64, 64
		o.WriteBufferPool = &sync.Pool{}
		o.OnCall = func(d CallDone) { done <- d }
	})
	big := strings.Repeat("x", 1000)
	ch := callAsync(c, "DataTransfer", map[string]string{"vendorId": "v", "data": big}, nil)
	f := sc.nextCall("DataTransfer")
	if !strings.Contains(string(f.Payload), big) {
		t.Fatalf("payload of %d bytes arrived cut: %d bytes", len(big), len(f.Payload))
	}
	clk.Advance(3 * time.Second)
	sc.result(f.ID, `{"status":"Accepted","data":"`+big+`"}`)
	if err := waitErr(t, ch); err != nil {
		t.Fatal(err)
	}
	if d := <-done; d.Action != "DataTransfer" || d.Latency != 3*time.Second || d.Err != nil {
		t.Fatalf("OnCall got %+v, want DataTransfer after 3s without error", d)
	}

	ch = callAsync(c, "Heartbeat", nil, nil)
	g := sc.nextCall("Heartbeat")
	sc.send(`[4,"` + g.ID + `","InternalError","down",{}]`)
	waitErr(t, ch)
	var ce *CallError
	if d := <-done; d.Action != "Heartbeat" || !errors.As(d.Err, &ce) {
		t.Fatalf("OnCall got %+v, want Heartbeat with a CallError", d)
	}
	select {
	case d := <-done:
		t.Fatalf("unexpected extra OnCall %+v", d)
	default:
	}
}

// TestStopInEveryPhase stops a Client while it waits out a back-off, while
// its dial hangs on a server that never answers the handshake, and
// through the end of Launch's context: each time Launch's wait returns,
// without the back-off timer or the dial timeout (both on a virtual clock
// that never moves) having fired.
func TestStopInEveryPhase(t *testing.T) {
	// A listener that accepts and then says nothing: the handshake hangs.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()
	// A port nobody listens on: every dial is refused at once.
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL := "ws://" + refused.Addr().String() + "/ocpp"
	refused.Close()

	tests := []struct {
		name string
		url  string
		// until reports the phase the Client must be in before it is
		// stopped.
		until func(c *Client) bool
		// viaContext stops it by ending Launch's context instead of Stop.
		viaContext bool
	}{
		{"back-off", refusedURL, func(c *Client) bool { return c.Status().LastError != nil }, false},
		{"back-off via context", refusedURL, func(c *Client) bool { return c.Status().LastError != nil }, true},
		{"dial", "ws://" + silent.Addr().String() + "/ocpp", func(c *Client) bool { return c.Status().State == StateConnecting }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC))
			c, err := New(Options{URL: tc.url, ChargePointID: "CP", Subprotocols: []string{"ocpp1.6"},
				Clock: clk, CallTimeout: time.Hour, BackoffMin: time.Hour, BackoffMax: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			wait, err := c.Launch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for !tc.until(c) {
				if time.Now().After(deadline) {
					t.Fatalf("never reached the phase: status %+v", c.Status())
				}
				time.Sleep(time.Millisecond)
			}
			if tc.viaContext {
				cancel()
			} else {
				c.Stop()
				c.Stop() // a second Stop changes nothing
			}
			done := make(chan error, 1)
			go func() { done <- wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("wait: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("wait did not return after the stop: status %+v", c.Status())
			}
			if s := c.Status(); s.State != StateOffline {
				t.Fatalf("state after stop %v, want offline", s.State)
			}
		})
	}
}

// TestDialTimesOutOnSilentServer dials a server that accepts the TCP
// connection and never answers the websocket handshake: after CallTimeout
// on the injected clock the dial gives up with an error that says so, and
// the Client backs off to try again, instead of waiting for ever.
func TestDialTimesOutOnSilentServer(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			accepted <- conn
		}
	}()
	clk := clock.NewFake(time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC))
	c, err := New(Options{URL: "ws://" + silent.Addr().String() + "/ocpp", ChargePointID: "CP",
		Subprotocols: []string{"ocpp1.6"}, Clock: clk, CallTimeout: 30 * time.Second, BackoffMin: time.Hour, BackoffMax: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := c.Launch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = wait()
	}()
	select {
	case conn := <-accepted:
		defer conn.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("the Client never connected")
	}
	// The dial's timer is armed before the TCP connect: advancing now
	// reaches it.
	deadline := time.Now().Add(10 * time.Second)
	for c.Status().LastError == nil {
		if time.Now().After(deadline) {
			t.Fatalf("dial still waiting after CallTimeout: %+v", c.Status())
		}
		clk.Advance(30 * time.Second)
		time.Sleep(time.Millisecond)
	}
	if err := c.Status().LastError; !strings.Contains(err.Error(), "no handshake within 30s") {
		t.Fatalf("last error %v, want the handshake timeout", err)
	}
}
