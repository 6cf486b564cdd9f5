package ocpp16

import (
	"context"
	"testing"
	"time"

	"github.com/evsed/evsed/station"
)

// TestPricingStateMadeOnFirstUse: a charger that gets no price message and
// has ended no session holds no California Pricing state; the first
// session end makes it, and two connectors' ended sessions are kept apart
// (the second end of a connector replaces its first).
func TestPricingStateMadeOnFirstUse(t *testing.T) {
	r := newRig(t, map[string]string{KeyCustomIdleFeeAfterStop: "true"})
	r.c.StatusChanged(station.StatusChange{Connector: 1, Status: station.Preparing, At: r.clk.Now()})
	r.withSession(1, "s-1", t0)
	if err := r.c.SessionStarted(context.Background(), station.SessionStart{Connector: 1, SessionID: "s-1", IDTag: "A", At: t0}); err != nil {
		t.Fatal(err)
	}
	if n := r.c.endedConnector(1); n != 0 {
		t.Fatalf("endedConnector = %d before any session ended", n)
	}
	if p := r.c.pricing.Load(); p != nil {
		t.Fatalf("pricing state %+v before any price message or ended session, want none", p)
	}

	r.withTx(2, "s-2", "B", 22)
	r.endSession(2, "s-2", station.ReasonLocal)
	r.endSession(1, "s-1", station.ReasonLocal)
	r.withTx(1, "s-3", "C", 33)
	r.endSession(1, "s-3", station.ReasonLocal)
	p := r.c.pricing.Load()
	if p == nil {
		t.Fatal("no pricing state after a session ended")
	}
	p.mu.Lock()
	ended := len(p.ended)
	p.mu.Unlock()
	if ended != 2 {
		t.Fatalf("%d ended sessions kept, want one per connector (2)", ended)
	}
	for tx, want := range map[int]int{22: 2, 33: 1} {
		if n := r.c.endedConnector(tx); n != want {
			t.Errorf("endedConnector(%d) = %d, want %d", tx, n, want)
		}
	}
	// A new session on connector 1 forgets its ended one.
	if err := r.c.SessionStarted(context.Background(), station.SessionStart{Connector: 1, SessionID: "s-4", IDTag: "D", At: t0}); err != nil {
		t.Fatal(err)
	}
	if n := r.c.endedConnector(33); n != 0 {
		t.Errorf("endedConnector(33) = %d after a new session on its connector, want 0", n)
	}
}

// TestStatusTrackerKeepsTimes: the tracker keeps a status's time to the
// microsecond (the wire has milliseconds), the same instant in UTC, and a
// zero time as zero; a connector with no status is unknown.
func TestStatusTrackerKeepsTimes(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"zero", time.Time{}, time.Time{}},
		{"UTC", time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC), time.Date(2025, 6, 1, 12, 0, 0, 123456000, time.UTC)},
		{"zone", time.Date(2025, 6, 1, 14, 0, 0, 5000, time.FixedZone("CEST", 7200)), time.Date(2025, 6, 1, 12, 0, 0, 5000, time.UTC)},
		{"far future", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newStatusTracker(2)
			if _, ok := tr.latest(1); ok {
				t.Fatal("connector 1 known before any status")
			}
			in := station.StatusChange{Connector: 1, Status: station.Faulted, Error: station.ErrorCode("GroundFailure"), Info: "rcd", At: tc.at}
			tr.update(in)
			got, ok := tr.latest(1)
			if !ok || got.version != 1 {
				t.Fatalf("latest = %+v, %v; want version 1", got, ok)
			}
			want := in
			want.At = tc.want
			if got.StatusChange != want || got.At.Location() != time.UTC && !tc.at.IsZero() {
				t.Fatalf("latest = %+v, want %+v", got.StatusChange, want)
			}
			if p := tr.pending(false); len(p) != 1 || p[0].Connector != 1 {
				t.Fatalf("pending = %+v, want connector 1", p)
			}
			tr.markSent(1, got.version)
			if p := tr.pending(false); len(p) != 0 {
				t.Fatalf("pending after markSent = %+v, want none", p)
			}
		})
	}
}
