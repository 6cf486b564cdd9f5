package station

import (
	"context"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal/sim"
	"periph.io/x/conn/v3/physic"
)

// simSite is the station on the simulated board and the simulated house,
// in virtual time.
type simSite struct {
	t     *testing.T
	clk   *clock.Fake
	house *sim.House
	board *sim.Board
	st    *Station
}

// newSimSite starts a station with one connector in mode on a simulated
// board (with opts) behind house's grid meter.
func newSimSite(t *testing.T, house *sim.House, bo sim.Options, mode ChargeMode, solar SolarConfig) *simSite {
	t.Helper()
	clk := house.Clock().(*clock.Fake)
	bo.Connectors, bo.Clock, bo.Logger = 1, clk, slog.New(slog.DiscardHandler)
	b, err := sim.New(bo)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.FreeCharging = true
	st, err := New(Options{
		Connectors: []ConnectorConfig{{Hardware: b.Connectors()[0], Meter: b.Meter(1), Mode: mode}},
		Board:      b, Config: cfg, Clock: clk, Logger: slog.New(slog.DiscardHandler), InlineMeterReads: true,
		Grid:  GridOptions{Meter: house.GridMeter(b), Fuse: 35 * amp, Margin: amp, Fallback: 6 * amp},
		Solar: solar,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	s := &simSite{t: t, clk: clk, house: house, board: b, st: st}
	s.step(time.Second) // booted: a plug-in is seen as one
	return s
}

// step advances virtual time a second at a time; after each, it waits
// until the station has seen the board's CP state, which the board
// reports from a goroutine of its own: virtual time must not run ahead of
// it. The real-time bound only turns a hang into a failure. each, when
// set, runs after every second.
func (s *simSite) step(d time.Duration, each ...func()) {
	s.t.Helper()
	for ; d > 0; d -= time.Second {
		s.clk.Advance(time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		for {
			if err := s.st.settle(ctx, true); err != nil {
				s.t.Fatalf("settle: %v", err)
			}
			snap, err := s.st.Status(ctx)
			if err != nil {
				s.t.Fatalf("Status: %v", err)
			}
			bs, err := s.board.State(1)
			if err != nil {
				s.t.Fatal(err)
			}
			if snap.Connectors[0].Pilot == bs.Pilot {
				break
			}
			runtime.Gosched()
		}
		cancel()
		for _, f := range each {
			f()
		}
	}
}

// TestPhaseSwitching: a pv session on a connector with a phase relay goes
// down to one phase when the surplus no longer carries three, and back up
// when it does, each time with the contactor open, a pause without PWM of
// at least PhaseSwitchPause, and switches at least PhaseSwitchInterval
// apart; on one phase it follows the surplus.
func TestPhaseSwitching(t *testing.T) {
	house := newHouse(t, sim.HouseOptions{Base: []sim.LoadStep{{Current: phases3(0)}}})
	solar := SolarConfig{StartDelay: 30 * time.Second, StopDelay: time.Minute, MinOnTime: time.Minute, MinOffTime: time.Minute,
		PhaseSwitchPause: 90 * time.Second, PhaseSwitchInterval: 5 * time.Minute}
	s := newSimSite(t, house, sim.Options{PhaseSwitch: true}, ModePV, solar)
	sun := func(w physic.Power) { // a steady feed-in of w, on three phases
		a := physic.ElectricCurrent(float64(w) / 690 * float64(physic.Ampere) / float64(physic.Watt))
		house.SetExtraLoad(phases3(-a))
	}
	type sample struct {
		at     time.Time
		st     sim.ConnectorState
		phases int // as the station sees them
	}
	var log []sample
	record := func() {
		bs, err := s.board.State(1)
		if err != nil {
			t.Fatal(err)
		}
		snap, err := s.st.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		log = append(log, sample{s.clk.Now(), bs, snap.Connectors[0].ActivePhases})
	}
	if err := s.board.Plug(1); err != nil {
		t.Fatal(err)
	}
	if err := s.board.Charge(1); err != nil {
		t.Fatal(err)
	}
	sun(6 * physic.KiloWatt) // 8.7 A on three phases
	s.step(2*time.Minute, record)
	if st := log[len(log)-1].st; st.Phases != 3 || !st.Closed || st.Power < 5500*physic.Watt {
		t.Fatalf("6 kW of sun: %+v, want charging on three phases at about 6 kW", st)
	}
	sun(2300 * physic.Watt) // 3.3 A on three, 10 A on one
	s.step(5*time.Minute, record)
	last := log[len(log)-1]
	if last.st.Phases != 1 || last.phases != 1 || !last.st.Closed {
		t.Fatalf("2.3 kW of sun for 5 min: %+v (station: %d phases), want charging on one phase", last.st, last.phases)
	}
	if p := last.st.Power; p < 2100*physic.Watt || p > 2300*physic.Watt {
		t.Errorf("on one phase: the EV draws %v, want about the 2.3 kW surplus", p)
	}
	sun(7 * physic.KiloWatt) // 10 A on three
	s.step(10*time.Minute, record)
	last = log[len(log)-1]
	if last.st.Phases != 3 || last.phases != 3 || !last.st.Closed || last.st.Power < 6500*physic.Watt {
		t.Fatalf("7 kW of sun for 10 min: %+v, want charging on three phases again", last.st)
	}

	// The timeline: every switch happened inside a pause without PWM of
	// at least PhaseSwitchPause, and the switches are PhaseSwitchInterval
	// apart. (With the contactor open: the simulated relay refuses to
	// switch otherwise, and the phases would not have changed.)
	var switches []time.Time
	for i := 1; i < len(log); i++ {
		if log[i].st.Phases == log[i-1].st.Phases {
			continue
		}
		switches = append(switches, log[i].at)
		if log[i].st.Closed || log[i].st.PWM {
			t.Errorf("phases switched at %v, and the contactor or the PWM is on", log[i].at.Sub(t0))
		}
		from, to := i, i
		for from > 0 && !log[from-1].st.PWM {
			from--
		}
		for to < len(log) && !log[to].st.PWM {
			to++
		}
		if to == len(log) {
			t.Fatalf("no PWM after the switch at %v", log[i].at.Sub(t0))
		}
		if pause := log[to].at.Sub(log[from].at); pause < solar.PhaseSwitchPause {
			t.Errorf("switch at %v: PWM off for %v, want at least %v", log[i].at.Sub(t0), pause, solar.PhaseSwitchPause)
		}
	}
	if len(switches) != 2 || s.mustState().PhaseSwitches != 2 {
		t.Fatalf("switches at %v (relay count %d), want two", switches, s.mustState().PhaseSwitches)
	}
	if gap := switches[1].Sub(switches[0]); gap < solar.PhaseSwitchInterval {
		t.Errorf("switches %v apart, want at least %v", gap, solar.PhaseSwitchInterval)
	}
}

// mustState returns the simulated connector's state.
func (s *simSite) mustState() sim.ConnectorState {
	s.t.Helper()
	st, err := s.board.State(1)
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}
