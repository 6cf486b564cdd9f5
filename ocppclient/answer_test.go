package ocppclient

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// A handler may end the Client's Run (an agent reconnecting after a
// ChangeConfiguration of its connection settings): its answer still goes
// out before the connection closes.
func TestAnswerWrittenWhenHandlerEndsRun(t *testing.T) {
	f := newFakeCSMS(t).start()
	opts, _ := testOptions(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var c *Client
	opts.Handler = HandlerFunc(func(context.Context, string, json.RawMessage) (any, error) {
		c.mu.Lock()
		cn := c.conn
		c.mu.Unlock()
		cancel()
		// Answer only once the conn has reacted to the end of its
		// context, so that a close that does not wait for the answer
		// loses it every time rather than now and then.
		waitFor(t, "the conn to see its context end", func() bool {
			cn.mu.Lock()
			defer cn.mu.Unlock()
			return cn.answered != nil || cn.err != nil
		})
		return map[string]string{"status": "Accepted"}, nil
	})
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	sc := f.accept()
	waitFor(t, "registered", c.Registered)

	sc.send(`[2,"srv-1","ChangeConfiguration",{"key":"AuthorizationKey","value":"00"}]`)
	got := sc.next()
	if got.Type != MsgCallResult || got.ID != "srv-1" || string(got.Payload) != `{"status":"Accepted"}` {
		t.Fatalf("answer %+v, want the CALLRESULT of srv-1", got)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	case <-time.After(testWait):
		t.Fatal("Run did not return after its context ended")
	}
}
