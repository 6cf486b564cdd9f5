package station

import (
	"context"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/sim"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// simDC runs a station on the simulated DC board in virtual time.
type simDC struct {
	*rig
	board *sim.DCBoard
}

func newSimDC(t *testing.T, o sim.DCOptions, cfg Config) *simDC {
	t.Helper()
	clk := clock.NewFake(t0)
	quiet := slog.New(slog.DiscardHandler)
	o.Clock, o.Logger = clk, quiet
	board, err := sim.NewDC(o)
	if err != nil {
		t.Fatal(err)
	}
	var ccs []ConnectorConfig
	for _, c := range board.Connectors() {
		ccs = append(ccs, ConnectorConfig{Hardware: c, Meter: board.Meter(c.ID)})
	}
	rep := &recReporter{}
	st, err := New(Options{ID: "dc", Connectors: ccs, Board: board, Config: cfg, Clock: clk, Logger: quiet,
		InlineMeterReads: true, Reporter: rep})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{t: t, st: st, clk: clk, rep: rep, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- st.Run(ctx) }()
	t.Cleanup(r.shutdown)
	s := &simDC{rig: r, board: board}
	s.sync()
	return s
}

// sync waits until the board's events are with the station and the
// station is quiet.
func (s *simDC) sync() {
	s.t.Helper()
	for {
		s.settle()
		if s.board.Delivered() {
			s.settle()
			if s.board.Delivered() {
				return
			}
		}
		runtime.Gosched()
	}
}

// run advances virtual time by d in control steps.
func (s *simDC) run(d time.Duration) {
	s.t.Helper()
	for end := s.clk.Now().Add(d); s.clk.Now().Before(end); {
		s.clk.Advance(100 * time.Millisecond)
		s.sync()
	}
}

// until runs until cond holds, at most max; it fails the test then.
func (s *simDC) until(what string, max time.Duration, cond func(ConnectorSnapshot) bool) ConnectorSnapshot {
	s.t.Helper()
	for end := s.clk.Now().Add(max); ; {
		cs := s.conn(1)
		if cond(cs) {
			return cs
		}
		if !s.clk.Now().Before(end) {
			s.t.Fatalf("%s: not within %v: status %s/%s step %s dc %+v", what, max, cs.Status, cs.Error, cs.DC.Step, *cs.DC)
		}
		s.run(100 * time.Millisecond)
	}
}

func atStep(s hal.DCStep) func(ConnectorSnapshot) bool {
	return func(cs ConnectorSnapshot) bool { return cs.DC != nil && cs.DC.Step == s }
}

// A whole DC charge on the simulated board: plug, authorize, cable check,
// precharge, current demand that tapers above 80 %, the EV's stop at its
// target SoC, power down, welding check and unlock.
func TestSimDCFullCharge(t *testing.T) {
	cfg := DefaultConfig()
	cfg.FreeCharging = true
	s := newSimDC(t, sim.DCOptions{EV: sim.DCEV{SoC: 75, TargetSoC: 85, Capacity: 20_000_000}}, cfg)
	if err := s.board.Plug(1); err != nil {
		t.Fatal(err)
	}
	if err := s.board.Charge(1); err != nil {
		t.Fatal(err)
	}
	s.sync()
	s.until("cable check", 2*time.Second, atStep(hal.DCCableCheck))
	s.until("precharge", 10*time.Second, atStep(hal.DCPreCharge))
	cs := s.until("charging", 10*time.Second, atStep(hal.DCCharging))
	if cs.Status != Charging {
		t.Errorf("status %s while charging", cs.Status)
	}
	cs = s.until("current flows", 2*time.Second, func(cs ConnectorSnapshot) bool { return cs.DC.PresentCurrent > 100*physic.Ampere })
	cs = s.until("taper", 30*time.Minute, func(cs ConnectorSnapshot) bool { return cs.DC.SoC >= 82 })
	if cs.DC.TargetCurrent >= 250*physic.Ampere || cs.DC.Demanded > cs.DC.TargetCurrent {
		t.Errorf("no taper at SoC %d: target %v", cs.DC.SoC, cs.DC.TargetCurrent)
	}
	cs = s.until("finished", 30*time.Minute, atStep(hal.DCFinished))
	if cs.DC.Reason != DCEVStopped || cs.Session != nil || cs.Status != Finishing {
		t.Errorf("after the charge: %s reason %q session %v", cs.Status, cs.DC.Reason, cs.Session)
	}
	st, _ := s.board.State(1)
	if st.Locked || st.Energized || st.SupplyOn || st.CableVoltage >= hal.SafeVoltage {
		t.Errorf("board after the charge: %+v", st)
	}
	ends := s.rep.endsCopy()
	// 75 -> 85 % of 20 kWh: 2 kWh through the DC meter.
	if len(ends) != 1 || ends[0].DCReason != DCEVStopped || ends[0].MeterStop < 1950*meter.WattHour || ends[0].MeterStop > 2050*meter.WattHour {
		t.Errorf("ends %+v", ends)
	}
}

// The simulated board's faults, as the local API injects them, reach the
// station as the issue describes: the contactors open, the connector
// faults with the error code the OCPP adapters need, and the session ends.
func TestSimDCFaults(t *testing.T) {
	for _, tc := range []struct {
		kind    sim.FaultKind
		before  bool // inject before plugging in
		code    ErrorCode
		reason  DCReason
		stopped StopReason
	}{
		{sim.FaultIsolation, false, GroundFailure, DCIsolationFault, ReasonOther},
		{sim.FaultModule, false, InternalError, DCSupplyFault, ReasonOther},
		{sim.FaultEmergencyStop, false, OtherError, DCEmergencyStop, ReasonEmergencyStop},
		{sim.FaultPrecharge, true, NoError, DCPreChargeTimeout, ReasonOther},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.FreeCharging = true
			s := newSimDC(t, sim.DCOptions{}, cfg)
			if tc.before {
				if err := s.board.Fault(1, tc.kind); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.board.Plug(1); err != nil {
				t.Fatal(err)
			}
			if err := s.board.Charge(1); err != nil {
				t.Fatal(err)
			}
			s.sync()
			if !tc.before {
				s.until("charging", 20*time.Second, func(cs ConnectorSnapshot) bool { return cs.DC.PresentCurrent > 50*physic.Ampere })
				if err := s.board.Fault(1, tc.kind); err != nil {
					t.Fatal(err)
				}
				s.sync()
				st, _ := s.board.State(1)
				if st.Closed || st.SupplyOn {
					t.Errorf("right after the fault: contactors %v supply %v", st.Closed, st.SupplyOn)
				}
			}
			cs := s.until("ended", 30*time.Second, func(cs ConnectorSnapshot) bool { return cs.Session == nil && cs.DC.Step == hal.DCFinished })
			if cs.Error != tc.code || cs.DC.Reason != tc.reason {
				t.Errorf("status %s/%s reason %q, want %s %q", cs.Status, cs.Error, cs.DC.Reason, tc.code, tc.reason)
			}
			ends := s.rep.endsCopy()
			if len(ends) != 1 || ends[0].Reason != tc.stopped || ends[0].DCReason != tc.reason {
				t.Errorf("ends %+v", ends)
			}
			st, _ := s.board.State(1)
			if st.Energized || st.SupplyOn || st.Locked || st.CableVoltage >= hal.SafeVoltage {
				t.Errorf("board after the end: %+v", st)
			}
		})
	}
}

// A contactor that welds during the charge: the EV stops, the welding
// check finds the contactor closed, the connector faults with
// PowerSwitchFailure and keeps the plug locked.
func TestSimDCWeld(t *testing.T) {
	cfg := DefaultConfig()
	cfg.FreeCharging = true
	s := newSimDC(t, sim.DCOptions{}, cfg)
	if err := s.board.Plug(1); err != nil {
		t.Fatal(err)
	}
	if err := s.board.Charge(1); err != nil {
		t.Fatal(err)
	}
	s.sync()
	s.until("charging", 20*time.Second, atStep(hal.DCCharging))
	if err := s.board.Fault(1, sim.FaultWeld); err != nil {
		t.Fatal(err)
	}
	if err := s.board.Pause(1); err != nil {
		t.Fatal(err)
	}
	s.sync()
	cs := s.until("welding fault", 15*time.Second, func(cs ConnectorSnapshot) bool { return cs.Status == Faulted })
	if cs.Error != PowerSwitchFailure {
		t.Errorf("status %s/%s", cs.Status, cs.Error)
	}
	st, _ := s.board.State(1)
	if !st.Locked || st.SupplyOn || st.Closed {
		t.Errorf("welded: %+v, want locked, supply off, contactors commanded open", st)
	}
	if ends := s.rep.endsCopy(); len(ends) != 1 || ends[0].DCReason != DCEVStopped {
		t.Errorf("ends %+v", ends)
	}
}

// Samples of a DC session carry the DC values the OCPP adapters send as
// SoC, Voltage, Current.Import, Power.Active.Import, Power.Offered and
// Current.Offered.
func TestSimDCSamples(t *testing.T) {
	cfg := DefaultConfig()
	cfg.FreeCharging = true
	cfg.MeterSampleInterval = 10 * time.Second
	s := newSimDC(t, sim.DCOptions{}, cfg)
	if err := s.board.Plug(1); err != nil {
		t.Fatal(err)
	}
	if err := s.board.Charge(1); err != nil {
		t.Fatal(err)
	}
	s.sync()
	s.until("charging", 20*time.Second, atStep(hal.DCCharging))
	s.run(30 * time.Second)
	var got *Sample
	for _, sm := range s.rep.samplesCopy() {
		if sm.Context == ContextPeriodic && sm.DC != nil && sm.DC.Step == hal.DCCharging {
			got = &sm
		}
	}
	if got == nil {
		t.Fatalf("no periodic sample while charging: %+v", s.rep.samplesCopy())
	}
	dc, r := got.DC, got.Reading
	if dc.SoC < 20 || dc.SoC > 30 || dc.OfferedCurrent != 200*physic.Ampere || dc.OfferedPower != 120*physic.KiloWatt {
		t.Errorf("DC values %+v", *dc)
	}
	if !r.DC || r.Current[0] < 150*physic.Ampere || r.Voltage[0] < 330*physic.Volt || r.Power <= 0 || r.EnergyImport <= 0 {
		t.Errorf("reading %+v", r)
	}
	for _, sm := range s.rep.samplesCopy() {
		if sm.Context == ContextTransactionBegin && sm.DC == nil {
			t.Error("Transaction.Begin sample without DC values")
		}
	}
}
