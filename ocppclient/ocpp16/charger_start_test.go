package ocpp16

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/evsed/evsed/station"
)

// Start returns at once; a status that changed before it is sent once it
// has started, heartbeats run while started, and stop disarms them.
func TestStartSendsEarlierStatusAndStopEndsHeartbeats(t *testing.T) {
	r := newRig(t, nil)
	r.register()                                          // boot answered with a 30 s interval
	base := len(r.caller.Calls(ActionStatusNotification)) // OnConnect's
	r.c.StatusChanged(station.StatusChange{Connector: 1, Status: station.Preparing, Error: station.NoError, At: t0})
	if n := len(r.caller.Calls(ActionStatusNotification)) - base; n != 0 {
		t.Fatalf("%d StatusNotifications before Start, want 0", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	stop := r.c.Start(ctx)
	c := r.caller.next(t)
	var req StatusNotificationRequest
	if err := json.Unmarshal(c.Payload, &req); err != nil || c.Action != ActionStatusNotification {
		t.Fatalf("got %s %s, want a StatusNotification", c.Action, c.Payload)
	}
	if req.ConnectorID != 1 || req.Status != ChargePointStatusPreparing {
		t.Errorf("sent %+v, want connector 1 Preparing", req)
	}

	waitTimers(r.clk, 1)
	r.clk.Advance(30 * time.Second)
	if n := len(r.caller.Calls(ActionHeartbeat)); n != 1 {
		t.Fatalf("%d heartbeats after one interval, want 1", n)
	}
	cancel()
	stop()
	r.clk.Advance(time.Minute)
	if n := len(r.caller.Calls(ActionHeartbeat)); n != 1 {
		t.Errorf("%d heartbeats after stop, want still 1", n)
	}
	r.c.StatusChanged(station.StatusChange{Connector: 2, Status: station.Faulted, Error: station.GroundFailure, At: t0})
	if n := len(r.caller.Calls(ActionStatusNotification)) - base; n != 1 {
		t.Errorf("%d StatusNotifications after stop, want still 1 (OnConnect sends the rest)", n)
	}
}
