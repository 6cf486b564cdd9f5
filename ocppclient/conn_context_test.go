package ocppclient

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestConnIsTheHandlersContext: the context a handler gets is the
// connection itself. It is live while the connection is, and once the
// connection closes it is done, with context.Canceled, and so is every
// context derived from it, through the conn's AfterFunc rather than a
// goroutine per derived context.
func TestConnIsTheHandlersContext(t *testing.T) {
	type derived struct {
		ctx                   context.Context
		err                   error // the handler's ctx.Err() while serving
		afterRan, stoppedRuns atomic.Bool
		stopBefore, stopAfter func() bool
	}
	var got atomic.Pointer[derived]
	handled := make(chan struct{})
	opts := func(o *Options) {
		o.Handler = HandlerFunc(func(ctx context.Context, _ string, _ json.RawMessage) (any, error) {
			d := &derived{err: ctx.Err()}
			child, cancel := context.WithCancel(ctx)
			t.Cleanup(cancel)
			timed, cancelTimed := context.WithTimeout(child, time.Hour)
			t.Cleanup(cancelTimed)
			d.ctx = timed
			d.stopAfter = context.AfterFunc(ctx, func() { d.afterRan.Store(true) })
			d.stopBefore = context.AfterFunc(ctx, func() { d.stoppedRuns.Store(true) })
			got.Store(d)
			close(handled)
			return map[string]string{"status": "Accepted"}, nil
		})
	}
	c, _, sc := registered(t, opts)
	cn := c.registeredConn()
	goroutines := runtime.NumGoroutine()
	sc.send(`[2,"ctx-1","Reset",{"type":"Soft"}]`)
	<-handled
	if f := sc.next(); f.Type != MsgCallResult || f.ID != "ctx-1" {
		t.Fatalf("the CALL was answered with %+v, want its CALLRESULT", f)
	}
	d := got.Load()
	if d.err != nil {
		t.Fatalf("handler ctx.Err() = %v while the connection is up, want nil", d.err)
	}
	if _, ok := d.ctx.Deadline(); !ok {
		t.Fatal("the derived WithTimeout context has no deadline")
	}
	if n := runtime.NumGoroutine(); n > goroutines+2 {
		// (the handler's goroutine may still be on its way out)
		t.Errorf("%d goroutines after deriving contexts, %d before: a goroutine per derived context?", n, goroutines)
	}
	if !d.stopBefore() {
		t.Fatal("stop of an AfterFunc registered on the open connection reported false")
	}
	if d.stopBefore() {
		t.Fatal("a second stop reported true")
	}
	select {
	case <-d.ctx.Done():
		t.Fatal("derived context done while the connection is up")
	default:
	}

	_ = sc.ws.Close() // the CSMS goes away
	select {
	case <-d.ctx.Done():
	case <-time.After(testWait):
		t.Fatal("derived context not done after the connection closed")
	}
	if err := d.ctx.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("derived ctx.Err() = %v, want context.Canceled", err)
	}
	if err := cn.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("conn Err() = %v, want context.Canceled", err)
	}
	if cause := context.Cause(cn); !errors.Is(cause, context.Canceled) {
		t.Fatalf("context.Cause(conn) = %v, want context.Canceled", cause)
	}
	waitFor(t, "the AfterFunc to run", d.afterRan.Load)
	if d.stopAfter() {
		t.Fatal("stop of an AfterFunc that ran reported true")
	}
	if d.stoppedRuns.Load() {
		t.Fatal("a stopped AfterFunc ran")
	}

	// Registered on a closed connection, a function runs at once.
	ran := make(chan struct{})
	if stop := cn.AfterFunc(func() { close(ran) }); stop() {
		t.Fatal("stop of an AfterFunc registered after the close reported true")
	}
	select {
	case <-ran:
	case <-time.After(testWait):
		t.Fatal("AfterFunc on a closed connection did not run")
	}
}

// TestSenderSlotOrder: the sender slot goes to its waiters in arrival
// order; a waiter whose context ends leaves the line without taking it.
func TestSenderSlotOrder(t *testing.T) {
	var c Client
	if err := c.acquire(context.Background()); err != nil {
		t.Fatalf("acquire of a free slot: %v", err)
	}
	got := make(chan string, 3)
	wait := func(ctx context.Context, name string, ahead int32) {
		go func() {
			if err := c.acquire(ctx); err != nil {
				got <- name + ": " + err.Error()
				return
			}
			got <- name
		}()
		waitFor(t, name+" to wait", func() bool { return c.waiting.Load() == ahead+1 })
	}
	quitter, quit := context.WithCancel(context.Background())
	wait(context.Background(), "first", 0)
	wait(quitter, "quitter", 1)
	wait(context.Background(), "last", 2)

	quit()
	if g := <-got; g != "quitter: "+context.Canceled.Error() {
		t.Fatalf("got %q, want the quitter to give up", g)
	}
	for _, want := range []string{"first", "last"} {
		select {
		case g := <-got:
			t.Fatalf("%q took the slot before it was released", g)
		default:
		}
		c.release()
		if g := <-got; g != want {
			t.Fatalf("slot went to %q, want %q", g, want)
		}
	}
	c.release()
	c.mu.Lock()
	busy, waiters := c.busy, c.waiters
	c.mu.Unlock()
	if busy || waiters != nil {
		t.Fatalf("after the last release: busy %v, waiters %v; want a free slot and no array held", busy, waiters)
	}
}

// TestKeepaliveAndCallTimeoutShareATimer: the connection's one timer keeps
// both deadlines: pings go out every PingInterval while a CALL waits, the
// CALL times out at CallTimeout and not at a ping tick, and the keepalive
// goes on after it. Idle with pings off, no timer stays armed.
func TestKeepaliveAndCallTimeoutShareATimer(t *testing.T) {
	const ping = 10 * time.Second
	c, clk, sc := registered(t, func(o *Options) { o.PingInterval = ping })
	cn := c.registeredConn()
	if n := clk.Pending(); n != 1 {
		t.Fatalf("%d timers armed on a registered idle connection with pings, want 1", n)
	}
	ch := callAsync(c, "Heartbeat", nil, nil)
	sc.nextCall("Heartbeat")
	waitFor(t, "the call to be pending", func() bool { return clk.Pending() == 1 })
	for elapsed := ping; elapsed < 30*time.Second; elapsed += ping {
		clk.Advance(ping)
		waitFor(t, "the pong", cn.heard.Load) // a ping went out and was answered
		select {
		case err := <-ch:
			t.Fatalf("Call returned %v after %v, before its timeout", err, elapsed)
		default:
		}
	}
	clk.Advance(ping) // 30 s: the call timeout and a ping tick
	if err := waitErr(t, ch); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Call: %v, want ErrTimeout", err)
	}
	waitFor(t, "the pong", cn.heard.Load)
	clk.Advance(ping)
	waitFor(t, "the pong after the timeout", cn.heard.Load)
	if err := cn.cause(); err != nil {
		t.Fatalf("connection closed by %v", err)
	}
	if n := clk.Pending(); n != 1 {
		t.Fatalf("%d timers armed after the call, want the keepalive's 1", n)
	}

	c2, clk2, sc2 := registered(t, nil) // no pings
	ch = callAsync(c2, "Heartbeat", nil, nil)
	f := sc2.nextCall("Heartbeat")
	waitFor(t, "the call's timer", func() bool { return clk2.Pending() == 1 })
	sc2.result(f.ID, `{}`)
	if err := waitErr(t, ch); err != nil {
		t.Fatal(err)
	}
	if n := clk2.Pending(); n != 0 {
		t.Fatalf("%d timers armed on an idle connection without pings, want 0", n)
	}
	if s := c2.Status(); s.Subprotocol != "ocpp1.6" {
		t.Fatalf("Status().Subprotocol = %q, want ocpp1.6 (from the connection)", s.Subprotocol)
	}
}

// TestAdaptersWithOne: Options.Adapters with one entry (what the fleet
// simulator offers) is that adapter: it registers, answers the CSMS and
// has its queue drained, and Options' own Handler is not used.
func TestAdaptersWithOne(t *testing.T) {
	f := newFakeCSMS(t).start()
	opts, clk := testOptions(t, f)
	v16 := &versionAdapter{name: "ocpp1.6", queue: drainQueue(t, clk, QueueOptions{Bucket: "q16"})}
	drainEnqueue(t, v16.queue, KindMeter, "MeterValues", `{"v":"1.6"}`)
	opts.Handler = HandlerFunc(func(context.Context, string, json.RawMessage) (any, error) {
		return map[string]string{"adapter": "Options.Handler"}, nil
	})
	opts.Adapters = map[string]Adapter{"ocpp1.6": v16.adapter()}
	c := runClient(t, opts)

	cs := f.accept()
	boot := cs.nextCall("BootNotification")
	cs.result(boot.ID, `{}`)
	queued := cs.nextCall("MeterValues")
	cs.result(queued.ID, `{}`)
	cs.send(`[2,"in-1","GetConfiguration",{}]`)
	if answer := cs.next(); answer.Type != MsgCallResult || string(answer.Payload) != `{"adapter":"ocpp1.6"}` {
		t.Fatalf("answer %v %s, want the adapter's", answer.Type, answer.Payload)
	}
	waitFor(t, "the queue to drain", func() bool { return v16.queue.Len() == 0 })
	if n := v16.registered.Load(); n != 1 {
		t.Fatalf("adapter registered %d times, want 1", n)
	}
	if got := c.Status(); got.Subprotocol != "ocpp1.6" || got.Queued != 0 || !got.Registered() {
		t.Fatalf("status %+v", got)
	}
}

// TestChargePointIDFromURL: the id the Client names in an HTTP 401 error
// is the one it was given, read back from the endpoint URL.
func TestChargePointIDFromURL(t *testing.T) {
	for _, tc := range []struct{ base, id string }{
		{"ws://h:9000/ocpp", "CP1"},
		{"ws://h/ocpp/", "CP 1/a?b"},
		{"ws://h", "x%y"},
		{"ws://h/my%20csms/", "CP1"},
		{"ws://h/ocpp?tenant=7", "CP#1"},
	} {
		c, err := New(Options{URL: tc.base, ChargePointID: tc.id, Subprotocols: []string{"ocpp1.6"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.chargePointID(); got != tc.id {
			t.Errorf("%s + %q: chargePointID() = %q", tc.base, tc.id, got)
		}
	}
}
