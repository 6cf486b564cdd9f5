package station

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
)

// reserve asks for a reservation and checks the answer.
func (r *rig) reserve(res Reservation, want ReservationResult) {
	r.t.Helper()
	got, err := r.st.Reserve(r.ctx(), res)
	if err != nil {
		r.t.Fatalf("Reserve(%+v): %v", res, err)
	}
	if got != want {
		r.t.Fatalf("Reserve(%+v) = %s, want %s", res, got, want)
	}
	r.settle()
}

// presentCard shows a card at connector n and checks the error.
func (r *rig) presentCard(n int, tag string, want error) {
	r.t.Helper()
	if err := r.st.PresentCard(r.ctx(), n, tag); !errors.Is(err, want) {
		r.t.Fatalf("PresentCard(%d, %s) = %v, want %v", n, tag, err, want)
	}
	r.settle()
}

func TestReservationAnswers(t *testing.T) {
	exp := t0.Add(10 * time.Minute)
	tests := []struct {
		name  string
		setup func(r *rig)
		res   Reservation
		want  ReservationResult
	}{
		{"free connector", nil, Reservation{ID: 1, Connector: 1, IDTag: "A", Expiry: exp}, ReservationAccepted},
		{"expiry passed", nil, Reservation{ID: 1, Connector: 1, IDTag: "A", Expiry: t0}, ReservationRejected},
		{"no token", nil, Reservation{ID: 1, Connector: 1, Expiry: exp}, ReservationRejected},
		{"faulted", func(r *rig) { r.event(hal.Event{Connector: 1, Kind: hal.RCDTripped}) },
			Reservation{ID: 1, Connector: 1, IDTag: "A", Expiry: exp}, ReservationFaulted},
		{"unavailable", func(r *rig) {
			if _, err := r.st.SetAvailability(r.ctx(), 1, false); err != nil {
				r.t.Fatal(err)
			}
			r.settle()
		}, Reservation{ID: 1, Connector: 1, IDTag: "A", Expiry: exp}, ReservationUnavailable},
		{"vehicle plugged in", func(r *rig) { r.pilot(1, hal.PilotB) },
			Reservation{ID: 1, Connector: 1, IDTag: "A", Expiry: exp}, ReservationOccupied},
		{"charging", func(r *rig) { r.charging(1, "X") },
			Reservation{ID: 1, Connector: 1, IDTag: "A", Expiry: exp}, ReservationOccupied},
		{"reserved by another id", func(r *rig) {
			r.reserve(Reservation{ID: 7, Connector: 1, IDTag: "B", Expiry: exp}, ReservationAccepted)
		}, Reservation{ID: 1, Connector: 1, IDTag: "A", Expiry: exp}, ReservationOccupied},
		{"same id replaces", func(r *rig) {
			r.reserve(Reservation{ID: 1, Connector: 1, IDTag: "B", Expiry: exp}, ReservationAccepted)
		}, Reservation{ID: 1, Connector: 1, IDTag: "A", Expiry: exp.Add(time.Hour)}, ReservationAccepted},
		{"connector 0, one free", nil, Reservation{ID: 1, Connector: 0, IDTag: "A", Expiry: exp}, ReservationAccepted},
		{"connector 0, none free", func(r *rig) { r.pilot(1, hal.PilotB) },
			Reservation{ID: 1, Connector: 0, IDTag: "A", Expiry: exp}, ReservationOccupied},
		{"connector 0 holds the last free one", func(r *rig) {
			r.reserve(Reservation{ID: 9, Connector: 0, IDTag: "B", Expiry: exp}, ReservationAccepted)
		}, Reservation{ID: 1, Connector: 1, IDTag: "A", Expiry: exp}, ReservationOccupied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOpts{noMeter: true})
			if tc.setup != nil {
				tc.setup(r)
			}
			r.reserve(tc.res, tc.want)
		})
	}
	r := newRig(t, rigOpts{noMeter: true})
	if _, err := r.st.Reserve(r.ctx(), Reservation{ID: 1, Connector: 2, IDTag: "A", Expiry: exp}); !errors.Is(err, ErrNoConnector) {
		t.Errorf("unknown connector: %v, want ErrNoConnector", err)
	}
}

// A reserved connector starts only for its token or group, and the session
// consumes the reservation.
func TestReservationUsed(t *testing.T) {
	r := newRig(t, rigOpts{noMeter: true, auth: map[string]AuthResult{
		"GROUPED": {Status: AuthAccepted, ParentIDTag: "FLEET"},
	}})
	exp := t0.Add(10 * time.Minute)
	r.reserve(Reservation{ID: 42, Connector: 1, IDTag: "A", ParentIDTag: "FLEET", Expiry: exp}, ReservationAccepted)
	if c := r.conn(1); c.Status != Reserved || c.ReservationID != 42 {
		t.Fatalf("status %s reservation %d, want Reserved 42", c.Status, c.ReservationID)
	}
	r.presentCard(1, "OTHER", ErrReserved)
	if err := r.st.Start(r.ctx(), 1, "OTHER", StartOptions{Remote: true, SkipAuthorization: true}); !errors.Is(err, ErrReserved) {
		t.Fatalf("remote start for another tag: %v, want ErrReserved", err)
	}
	r.pilot(1, hal.PilotB)
	if c := r.conn(1); c.Status != Preparing || c.Session != nil {
		t.Fatalf("plugged in: %s session %v, want Preparing without session", c.Status, c.Session != nil)
	}
	r.presentCard(1, "GROUPED", nil) // same group as the reservation
	starts := r.rep.startsCopy()
	if len(starts) != 1 || starts[0].ReservationID != 42 || starts[0].IDTag != "GROUPED" {
		t.Fatalf("starts %+v, want one with reservation 42", starts)
	}
	if got, _ := r.st.Reservations(r.ctx()); len(got) != 0 {
		t.Fatalf("reservations after use: %+v", got)
	}
	r.presentCard(1, "GROUPED", nil) // stops
	r.pilot(1, hal.PilotA)
	if c := r.conn(1); c.Status != Available {
		t.Fatalf("after the session: %s, want Available", c.Status)
	}
}

func TestReservationEnds(t *testing.T) {
	exp := t0.Add(10 * time.Minute)
	t.Run("expiry", func(t *testing.T) {
		r := newRig(t, rigOpts{noMeter: true})
		r.reserve(Reservation{ID: 1, Connector: 1, IDTag: "A", Expiry: exp}, ReservationAccepted)
		r.advance(10*time.Minute - time.Second)
		if c := r.conn(1); c.Status != Reserved {
			t.Fatalf("before expiry: %s", c.Status)
		}
		r.advance(time.Second)
		if c := r.conn(1); c.Status != Available {
			t.Fatalf("at expiry: %s, want Available", c.Status)
		}
		r.presentCard(1, "B", nil) // anyone may start now
	})
	t.Run("cancel", func(t *testing.T) {
		r := newRig(t, rigOpts{noMeter: true})
		r.reserve(Reservation{ID: 1, Connector: 1, IDTag: "A", Expiry: exp}, ReservationAccepted)
		if ok, err := r.st.CancelReservation(r.ctx(), 2); ok || err != nil {
			t.Fatalf("cancel unknown: %v %v", ok, err)
		}
		if ok, err := r.st.CancelReservation(r.ctx(), 1); !ok || err != nil {
			t.Fatalf("cancel: %v %v", ok, err)
		}
		r.settle()
		if c := r.conn(1); c.Status != Available {
			t.Fatalf("after cancel: %s", c.Status)
		}
	})
	t.Run("fault", func(t *testing.T) {
		r := newRig(t, rigOpts{noMeter: true})
		r.reserve(Reservation{ID: 1, Connector: 1, IDTag: "A", Expiry: exp}, ReservationAccepted)
		r.event(hal.Event{Connector: 1, Kind: hal.RCDTripped})
		r.hw[0].rcd.set(false)
		r.event(hal.Event{Connector: 1, Kind: hal.FaultCleared, Cleared: hal.RCDTripped})
		if c := r.conn(1); c.Status != Available {
			t.Fatalf("after a fault: %s, want Available (the fault ended the reservation)", c.Status)
		}
	})
	t.Run("free charging waits for the token", func(t *testing.T) {
		free := DefaultConfig()
		free.FreeCharging = true
		r := newRig(t, rigOpts{noMeter: true, cfg: &free})
		r.reserve(Reservation{ID: 1, Connector: 1, IDTag: "A", Expiry: exp}, ReservationAccepted)
		r.pilot(1, hal.PilotC)
		if c := r.conn(1); c.Session != nil {
			t.Fatal("free charging started on a reserved connector")
		}
		r.presentCard(1, "A", nil)
		if c := r.conn(1); c.Status != Charging {
			t.Fatalf("with the reserved token: %s", c.Status)
		}
	})
}

// A connector-0 reservation keeps one connector free for its token.
func TestReservationConnectorZero(t *testing.T) {
	r := newRig(t, rigOpts{n: 2, noMeter: true})
	exp := t0.Add(10 * time.Minute)
	r.reserve(Reservation{ID: 5, Connector: 0, IDTag: "A", Expiry: exp}, ReservationAccepted)
	if a, b := r.conn(1).Status, r.conn(2).Status; a != Available || b != Available {
		t.Fatalf("two free for one reservation: %s %s, want both Available", a, b)
	}
	r.charging(1, "B")
	if s := r.conn(2).Status; s != Reserved {
		t.Fatalf("last free connector: %s, want Reserved", s)
	}
	r.presentCard(2, "C", ErrReserved)
	r.presentCard(2, "A", nil)
	r.pilot(2, hal.PilotB)
	starts := r.rep.startsCopy()
	if got := starts[len(starts)-1]; got.Connector != 2 || got.ReservationID != 5 {
		t.Fatalf("start %+v, want connector 2 with reservation 5", got)
	}
	if got, _ := r.st.Reservations(r.ctx()); len(got) != 0 {
		t.Fatalf("reservations after use: %+v", got)
	}
}

// Reservations survive a restart; one that expired meanwhile does not.
func TestReservationPersists(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "evsed.db"))
	defer db.Close()
	clk := clock.NewFake(t0)
	r1 := newRig(t, rigOpts{n: 2, noMeter: true, db: db, clk: clk})
	r1.reserve(Reservation{ID: 1, Connector: 1, IDTag: "A", Expiry: t0.Add(time.Hour)}, ReservationAccepted)
	r1.reserve(Reservation{ID: 2, Connector: 2, IDTag: "B", Expiry: t0.Add(time.Minute)}, ReservationAccepted)
	r1.shutdown()
	clk.Advance(2 * time.Minute) // the station is down while reservation 2 expires
	r2 := newRig(t, rigOpts{n: 2, noMeter: true, db: db, clk: clk})
	if a, b := r2.conn(1).Status, r2.conn(2).Status; a != Reserved || b != Available {
		t.Fatalf("after restart: %s %s, want Reserved Available", a, b)
	}
	got, err := r2.st.Reservations(r2.ctx())
	if err != nil || len(got) != 1 || got[0].ID != 1 || !got[0].Expiry.Equal(t0.Add(time.Hour)) {
		t.Fatalf("reservations after restart: %+v %v", got, err)
	}
	r2.presentCard(1, "B", ErrReserved)
}
