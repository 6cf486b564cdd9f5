package ocppclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stallingAnswer is a TriggerMessage answer whose encoding waits, up to a
// short real pause, for the CSMS to have received a frame: a client that
// started the follow-up before its answer was out shows it every time,
// while a correct one only pays the pause.
type stallingAnswer struct{ csms *atomic.Pointer[csmsConn] }

func (a stallingAnswer) MarshalJSON() ([]byte, error) {
	for deadline := time.Now().Add(20 * time.Millisecond); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if sc := a.csms.Load(); sc != nil && len(sc.in) > 0 {
			break
		}
	}
	return []byte(`{"status":"Accepted"}`), nil
}

// TestFollowUpAfterAnswer plays TriggerMessage: the handler answers and
// asks, through a follow-up, for a StatusNotification sent with Client.Call.
// The CSMS must get the CALLRESULT before the CALL, every time, also while
// another outbound CALL holds the sender slot (the follow-up then waits for
// it). Run it with -count=20 -race.
func TestFollowUpAfterAnswer(t *testing.T) {
	for _, busy := range []bool{false, true} {
		t.Run(fmt.Sprintf("slot busy %v", busy), func(t *testing.T) {
			var (
				client   atomic.Pointer[Client]
				server   atomic.Pointer[csmsConn]
				runs     atomic.Int32
				followed = make(chan error, 1)
			)
			handler := HandlerFunc(func(ctx context.Context, action string, _ json.RawMessage) (any, error) {
				if action != "TriggerMessage" {
					return nil, Errorf(NotImplemented, "%s", action)
				}
				return WithFollowUp(stallingAnswer{&server}, func(ctx context.Context) {
					runs.Add(1)
					followed <- client.Load().Call(ctx, "StatusNotification",
						map[string]any{"connectorId": 1, "errorCode": "NoError", "status": "Available"}, nil)
				}), nil
			})
			c, _, sc := registered(t, func(o *Options) { o.Handler = handler })
			client.Store(c)
			server.Store(sc)
			const triggers = 10
			for i := range triggers {
				var (
					out      <-chan error
					inFlight Frame
				)
				if busy {
					out = callAsync(c, "Heartbeat", nil, nil)
					inFlight = sc.nextCall("Heartbeat")
				}
				id := fmt.Sprintf("trig-%d", i)
				sc.send(`[2,"` + id + `","TriggerMessage",{"requestedMessage":"StatusNotification"}]`)
				got := sc.next()
				if got.Type != MsgCallResult || got.ID != id || string(got.Payload) != `{"status":"Accepted"}` {
					t.Fatalf("trigger %d: first frame %v %q %s, want the CALLRESULT of %s", i, got.Type, got.ID, got.Payload, id)
				}
				if busy {
					// The follow-up waits for the slot: nothing before
					// the Heartbeat is answered.
					sc.assertQuiet("the follow-up CALL while the Heartbeat is in flight")
					sc.result(inFlight.ID, `{}`)
					if err := waitErr(t, out); err != nil {
						t.Fatal(err)
					}
				}
				sn := sc.nextCall("StatusNotification")
				sc.result(sn.ID, `{}`)
				if err := waitErr(t, followed); err != nil {
					t.Fatalf("trigger %d: the follow-up's Call: %v", i, err)
				}
			}
			if n := runs.Load(); n != triggers {
				t.Fatalf("follow-ups ran %d times, want %d", n, triggers)
			}
		})
	}
}

// startStoppable runs a client like runClient and returns a stop that ends
// Run and waits for it, and so for every goroutine of the connection.
func startStoppable(t *testing.T, opts Options) (*Client, func()) {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	c.rand = func() float64 { return 0.5 }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
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
	}
	t.Cleanup(stop)
	return c, stop
}

// TestFollowUpOnlyWhenAnswered checks when a follow-up runs: exactly once
// after a CALLRESULT was written, never after a CALLERROR, whatever the
// handler's result. Run is stopped before counting, so that a follow-up
// that would run late has run.
func TestFollowUpOnlyWhenAnswered(t *testing.T) {
	tests := []struct {
		name     string
		result   func(then func(context.Context)) (any, error)
		wantCode ErrorCode // "" means CALLRESULT
		wantBody string
		wantRuns int32
	}{
		{"answered", func(then func(context.Context)) (any, error) {
			return WithFollowUp(map[string]string{"status": "Accepted"}, then), nil
		}, "", `{"status":"Accepted"}`, 1},
		{"pointer", func(then func(context.Context)) (any, error) {
			return &FollowUp{Response: map[string]string{"status": "Accepted"}, Then: then}, nil
		}, "", `{"status":"Accepted"}`, 1},
		{"nil response", func(then func(context.Context)) (any, error) {
			return WithFollowUp(nil, then), nil
		}, "", `{}`, 1},
		{"nil then", func(func(context.Context)) (any, error) {
			return WithFollowUp(map[string]string{"status": "Accepted"}, nil), nil
		}, "", `{"status":"Accepted"}`, 0},
		{"panicking then", func(then func(context.Context)) (any, error) {
			return WithFollowUp(map[string]string{"status": "Accepted"}, func(ctx context.Context) {
				then(ctx)
				panic("follow-up on fire")
			}), nil
		}, "", `{"status":"Accepted"}`, 1},
		{"handler error", func(then func(context.Context)) (any, error) {
			return WithFollowUp(map[string]string{"status": "Accepted"}, then), Errorf(NotSupported, "no")
		}, NotSupported, "", 0},
		{"response not an object", func(then func(context.Context)) (any, error) {
			return WithFollowUp("Accepted", then), nil
		}, InternalError, "", 0},
		{"response unencodable", func(then func(context.Context)) (any, error) {
			return WithFollowUp(map[string]any{"f": func() {}}, then), nil
		}, InternalError, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var runs atomic.Int32
			then := func(context.Context) { runs.Add(1) }
			f := newFakeCSMS(t).start()
			opts, _ := testOptions(t, f)
			opts.Handler = HandlerFunc(func(context.Context, string, json.RawMessage) (any, error) {
				return tc.result(then)
			})
			c, stop := startStoppable(t, opts)
			sc := f.accept()
			waitFor(t, "registered", c.Registered)
			for i := range 2 { // twice: the connection survives the first
				id := fmt.Sprintf("in-%d", i)
				sc.send(`[2,"` + id + `","TriggerMessage",{"requestedMessage":"Heartbeat"}]`)
				got := sc.next()
				switch {
				case got.ID != id:
					t.Fatalf("answer to %q, want %q", got.ID, id)
				case tc.wantCode == "" && (got.Type != MsgCallResult || string(got.Payload) != tc.wantBody):
					t.Fatalf("got %v %s, want CALLRESULT %s", got.Type, got.Payload, tc.wantBody)
				case tc.wantCode != "" && (got.Type != MsgCallError || got.Err.Code != tc.wantCode):
					t.Fatalf("got %+v, want CALLERROR %s", got, tc.wantCode)
				}
			}
			if !c.Registered() {
				t.Fatal("the connection dropped")
			}
			stop()
			if n := runs.Load(); n != 2*tc.wantRuns {
				t.Fatalf("follow-up ran %d times for 2 CALLs, want %d", n, 2*tc.wantRuns)
			}
		})
	}
}

// TestFollowUpNotRunWhenAnswerLost: the connection is gone by the time the
// handler returns, so the answer cannot be written and the follow-up must
// not run.
func TestFollowUpNotRunWhenAnswerLost(t *testing.T) {
	var (
		runs     atomic.Int32
		client   atomic.Pointer[Client]
		returned = make(chan struct{})
	)
	f := newFakeCSMS(t).start()
	opts, _ := testOptions(t, f)
	var server atomic.Pointer[csmsConn]
	opts.Handler = HandlerFunc(func(context.Context, string, json.RawMessage) (any, error) {
		c := client.Load()
		c.mu.Lock()
		cn := c.conn
		c.mu.Unlock()
		_ = server.Load().ws.Close() // the CSMS goes away before the answer
		// done is closed after the socket is, so the write must fail.
		<-cn.done
		defer close(returned)
		return WithFollowUp(map[string]string{"status": "Accepted"}, func(context.Context) { runs.Add(1) }), nil
	})
	c, stop := startStoppable(t, opts)
	client.Store(c)
	sc := f.accept()
	server.Store(sc)
	waitFor(t, "registered", c.Registered)
	sc.send(`[2,"lost-1","TriggerMessage",{"requestedMessage":"Heartbeat"}]`)
	select {
	case <-returned:
	case <-time.After(testWait):
		t.Fatal("the handler did not return")
	}
	stop()
	if n := runs.Load(); n != 0 {
		t.Fatalf("follow-up ran %d times after its answer was lost", n)
	}
}

// TestFollowUpDoesNotHoldUpShutdown: a follow-up whose Call the CSMS never
// answers ends with the connection, and Run returns.
func TestFollowUpDoesNotHoldUpShutdown(t *testing.T) {
	var client atomic.Pointer[Client]
	followed := make(chan error, 1)
	f := newFakeCSMS(t).start()
	opts, _ := testOptions(t, f)
	opts.Handler = HandlerFunc(func(context.Context, string, json.RawMessage) (any, error) {
		return WithFollowUp(map[string]string{"status": "Accepted"}, func(ctx context.Context) {
			followed <- client.Load().Call(ctx, "StatusNotification", map[string]any{"connectorId": 0}, nil)
		}), nil
	})
	c, stop := startStoppable(t, opts)
	client.Store(c)
	sc := f.accept()
	waitFor(t, "registered", c.Registered)
	sc.send(`[2,"t-1","TriggerMessage",{"requestedMessage":"StatusNotification"}]`)
	if got := sc.next(); got.Type != MsgCallResult || got.ID != "t-1" {
		t.Fatalf("got %v %q, want the CALLRESULT of t-1", got.Type, got.ID)
	}
	sc.nextCall("StatusNotification") // never answered
	stop()                            // fails the test if Run hangs
	err := waitErr(t, followed)
	if !errors.Is(err, context.Canceled) && !errors.Is(err, ErrOffline) {
		t.Fatalf("the follow-up's Call: %v, want it ended by the shutdown", err)
	}
}
