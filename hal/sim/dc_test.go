package sim

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// dcRig is a DC board on a fake clock with its events collected.
type dcRig struct {
	t   *testing.T
	clk *clock.Fake
	b   *DCBoard
	c   hal.Connector

	mu     sync.Mutex // guards events
	events []hal.Event
	stop   func()
}

func newDCRig(t *testing.T, o DCOptions) *dcRig {
	t.Helper()
	r := &dcRig{t: t, clk: clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))}
	o.Clock, o.Logger = r.clk, slog.New(slog.DiscardHandler)
	b, err := NewDC(o)
	if err != nil {
		t.Fatal(err)
	}
	r.b, r.c = b, b.Connectors()[0]
	stop, err := b.Start(func(e hal.Event) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, e)
	})
	if err != nil {
		t.Fatal(err)
	}
	r.stop = stop
	t.Cleanup(stop)
	return r
}

// kinds waits for the board's events to be delivered and returns their
// kinds, forgetting them.
func (r *dcRig) kinds() []hal.EventKind {
	for !r.b.Delivered() {
		time.Sleep(time.Millisecond) // the pump runs on its own goroutine
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []hal.EventKind
	for _, e := range r.events {
		out = append(out, e.Kind)
	}
	r.events = nil
	return out
}

func has(ks []hal.EventKind, k hal.EventKind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func (r *dcRig) state() DCConnectorState {
	r.t.Helper()
	s, err := r.b.State(1)
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r *dcRig) must(err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
}

// station plays a minimal station: digital pilot, contactors closed, the
// supply at v with limit i, and the step told to the EV.
func (r *dcRig) station(step hal.DCStep, v physic.ElectricPotential, i physic.ElectricCurrent) {
	r.t.Helper()
	dc := r.c.DC
	r.must(r.c.Pilot.(hal.DigitalPilot).Digital())
	r.must(r.c.Contactor.Close())
	r.must(dc.Supply.Set(v, i))
	dc.Vehicle.Report(hal.ChargerReport{Step: step})
}

func TestDCDefaults(t *testing.T) {
	r := newDCRig(t, DCOptions{})
	if r.b.Name() != "sim-dc" || len(r.b.Connectors()) != 1 {
		t.Fatalf("board %s with %d connectors", r.b.Name(), len(r.b.Connectors()))
	}
	lim := r.c.DC.Supply.Limits()
	want := hal.SupplyLimits{MinVoltage: 150 * physic.Volt, MaxVoltage: 1000 * physic.Volt, MaxCurrent: 200 * physic.Ampere, MaxPower: 120 * physic.KiloWatt}
	if lim != want {
		t.Errorf("limits %+v, want %+v", lim, want)
	}
	if req := r.c.DC.Vehicle.Request(); req.Communicating || req.SoC != -1 {
		t.Errorf("request with nothing plugged in: %+v", req)
	}
}

func TestDCOptionsRejected(t *testing.T) {
	for _, o := range []DCOptions{
		{Connectors: -1},
		{Module: DCModule{MinVoltage: 500 * physic.Volt, MaxVoltage: 400 * physic.Volt}},
		{MaxCurrent: -physic.Ampere},
		{EV: DCEV{SoC: 101}},
		{EV: DCEV{EmptyVoltage: 400 * physic.Volt, FullVoltage: 350 * physic.Volt}},
		{EV: DCEV{MaxVoltage: 390 * physic.Volt}}, // below the full voltage
	} {
		if _, err := NewDC(o); err == nil {
			t.Errorf("NewDC(%+v) accepted", o)
		}
	}
}

// The CP: B when plugged in, C once the EV asks and the pilot runs 5 %;
// the contactors refuse to close before C.
func TestDCPilotAndInterlock(t *testing.T) {
	r := newDCRig(t, DCOptions{})
	r.must(r.b.Plug(1))
	if s := r.c.Pilot.State(); s != hal.PilotB {
		t.Fatalf("plugged: %s", s)
	}
	if err := r.c.Contactor.Close(); !errors.Is(err, hal.ErrInterlock) {
		t.Errorf("Close in B = %v, want ErrInterlock", err)
	}
	r.must(r.b.Charge(1))
	if s := r.c.Pilot.State(); s != hal.PilotB {
		t.Fatalf("charge without 5 %%: %s", s)
	}
	r.must(r.c.Pilot.(hal.DigitalPilot).Digital())
	if s := r.c.Pilot.State(); s != hal.PilotC {
		t.Fatalf("charge with 5 %%: %s", s)
	}
	r.must(r.c.Contactor.Close())
	if ks := r.kinds(); !has(ks, hal.PilotChanged) || !has(ks, hal.VehicleChanged) {
		t.Errorf("events %v, want pilot and vehicle changes", ks)
	}
	r.must(r.c.Pilot.Unavailable())
	if s := r.c.Pilot.State(); s != hal.PilotF {
		t.Errorf("-12 V: %s", s)
	}
}

// A whole charge against the model: the open output follows the setpoint,
// the monitor measures once the voltage is steady, the EV closes onto a
// matched voltage, charges with rising SoC and voltage, tapers, and stops
// at its target; the DC meter counts what flowed.
func TestDCModelCharge(t *testing.T) {
	r := newDCRig(t, DCOptions{EV: DCEV{Capacity: 10 * meter.KiloWattHour, SoC: 70, TargetSoC: 90}})
	dc := r.c.DC
	r.must(r.b.Plug(1))
	r.must(r.b.Charge(1))
	r.station(hal.DCCableCheck, 410*physic.Volt, 2*physic.Ampere)
	r.clk.Advance(500 * time.Millisecond)
	if v := dc.CableVoltage.Voltage(); v >= 410*physic.Volt || v <= 0 {
		t.Errorf("cable at %v after 0.5 s, want a ramp (500 V/s)", v)
	}
	r.clk.Advance(500 * time.Millisecond)
	if v, _ := dc.Supply.Output(); v != 410*physic.Volt {
		t.Errorf("output %v after 1 s, want 410 V", v)
	}
	if iso := dc.Isolation.Reading(); iso.Valid {
		t.Errorf("isolation valid right after the ramp: %+v", iso)
	}
	r.clk.Advance(1100 * time.Millisecond)
	if iso := dc.Isolation.Reading(); !iso.Valid || iso.Resistance != isoGood {
		t.Errorf("isolation after a steady second: %+v", iso)
	}
	ocv := r.state().BatteryVoltage
	r.station(hal.DCPreCharge, ocv, 2*physic.Ampere)
	if req := dc.Vehicle.Request(); req.TargetVoltage != ocv {
		t.Errorf("precharge target %v, want the battery's %v", req.TargetVoltage, ocv)
	}
	r.clk.Advance(time.Second)
	if !r.state().EVClosed || !dc.Vehicle.Request().Closed {
		t.Fatalf("EV did not close onto %v: %+v", ocv, r.state())
	}
	dc.Vehicle.Report(hal.ChargerReport{Step: hal.DCCharging})
	req := dc.Vehicle.Request()
	if req.TargetCurrent != 250*physic.Ampere {
		t.Errorf("target current at 70 %%: %v", req.TargetCurrent)
	}
	r.must(dc.Supply.Set(req.TargetVoltage, req.TargetCurrent))
	r.clk.Advance(time.Second)
	st := r.state()
	if st.Current != 200*physic.Ampere { // the modules' limit
		t.Errorf("current %v, want 200 A", st.Current)
	}
	if st.Voltage <= ocv {
		t.Errorf("terminal voltage %v not above the OCV %v under current", st.Voltage, ocv)
	}
	v0, soc0 := st.BatteryVoltage, st.SoC
	r.clk.Advance(time.Minute)
	st = r.state()
	if st.SoC <= soc0 || st.BatteryVoltage <= v0 {
		t.Errorf("after a minute: SoC %.2f (was %.2f), OCV %v (was %v)", st.SoC, soc0, st.BatteryVoltage, v0)
	}
	// Above 80 % the EV asks for less.
	for r.state().SoC < 85 {
		r.clk.Advance(10 * time.Second)
	}
	if req := dc.Vehicle.Request(); req.TargetCurrent >= 250*physic.Ampere*3/4 {
		t.Errorf("target current at %.1f %%: %v, want a taper", r.state().SoC, req.TargetCurrent)
	}
	for r.state().SoC < 90 {
		r.must(dc.Supply.Set(410*physic.Volt, dc.Vehicle.Request().TargetCurrent))
		r.clk.Advance(10 * time.Second)
	}
	if req := dc.Vehicle.Request(); !req.Stop || req.Ready {
		t.Errorf("at the target SoC: %+v, want a stop", req)
	}
	if !has(r.kinds(), hal.VehicleChanged) {
		t.Error("no VehicleChanged for the stop")
	}
	m, err := r.b.Meter(1).Read(context.Background())
	if err != nil || !m.DC || m.EnergyImport < 1900*meter.WattHour || m.EnergyImport > 2100*meter.WattHour {
		t.Errorf("meter %+v, %v: want about 2 kWh (70 -> 90 %% of 10 kWh)", m, err)
	}
}

func TestDCFaults(t *testing.T) {
	for _, tc := range []struct {
		kind  FaultKind
		event hal.EventKind
		check func(t *testing.T, r *dcRig)
	}{
		{FaultIsolation, hal.IsolationAlarm, func(t *testing.T, r *dcRig) {
			r.clk.Advance(2 * time.Second)
			if iso := r.c.DC.Isolation.Reading(); !iso.Valid || iso.Resistance != isoBad {
				t.Errorf("isolation %+v, want %v", iso, isoBad)
			}
		}},
		{FaultModule, hal.SupplyFault, func(t *testing.T, r *dcRig) {
			if lim := r.c.DC.Supply.Limits(); lim.MaxCurrent != 150*physic.Ampere {
				t.Errorf("limits with a module out: %+v", lim)
			}
		}},
		{FaultEmergencyStop, hal.EmergencyStop, func(t *testing.T, r *dcRig) {
			st := r.state()
			if st.Closed || st.SupplyOn || !r.b.EmergencyStopInput().Active() || r.c.DC.Supply.Limits().MaxCurrent != 0 {
				t.Errorf("emergency stop: %+v", st)
			}
			if err := r.c.Contactor.Close(); !errors.Is(err, hal.ErrInterlock) {
				t.Errorf("Close under emergency stop = %v", err)
			}
		}},
		{FaultWeld, 0, func(t *testing.T, r *dcRig) {
			r.must(r.c.Contactor.Open())
			if !has(r.kinds(), hal.ContactorWelded) {
				t.Error("no ContactorWelded when commanded open")
			}
			if !r.c.Contactor.(hal.ContactorFeedback).FeedbackClosed() || !r.state().Energized {
				t.Error("welded contactor reads open")
			}
		}},
		{FaultPrecharge, 0, func(t *testing.T, r *dcRig) {
			r.station(hal.DCPreCharge, 370*physic.Volt, 2*physic.Ampere)
			r.clk.Advance(3 * time.Second)
			if v, _ := r.c.DC.Supply.Output(); v != 320*physic.Volt || r.state().EVClosed {
				t.Errorf("precharge fault: output %v, EV closed %v", v, r.state().EVClosed)
			}
		}},
		{FaultMeter, 0, func(t *testing.T, r *dcRig) {
			if _, err := r.b.Meter(1).Read(context.Background()); !errors.Is(err, meter.ErrNoResponse) {
				t.Errorf("meter read = %v", err)
			}
		}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			r := newDCRig(t, DCOptions{})
			r.must(r.b.Plug(1))
			r.must(r.b.Charge(1))
			r.station(hal.DCCableCheck, 400*physic.Volt, 2*physic.Ampere)
			r.kinds()
			r.must(r.b.Fault(1, tc.kind))
			if ks := r.kinds(); tc.event != 0 && !has(ks, tc.event) {
				t.Errorf("events %v, want %v", ks, tc.event)
			}
			tc.check(t, r)
			r.must(r.b.Fault(1, FaultClear))
			if ks := r.kinds(); !has(ks, hal.FaultCleared) {
				t.Errorf("clear: events %v", ks)
			}
			st := r.state()
			if st.Welded || st.IsolationFault || st.ModuleFault || st.PrechargeFault || st.MeterFault || st.EmergencyStop {
				t.Errorf("after clear: %+v", st)
			}
		})
	}
	r := newDCRig(t, DCOptions{})
	if err := r.b.Fault(1, "rcd"); !errors.Is(err, ErrFaultKind) {
		t.Errorf("rcd on a DC board = %v", err)
	}
	if err := r.b.Fault(2, FaultWeld); !errors.Is(err, ErrNoConnector) {
		t.Errorf("connector 2 = %v", err)
	}
}

// The model steps only while something is under way: an idle board keeps
// no timer.
func TestDCIdleBoardKeepsNoTimer(t *testing.T) {
	r := newDCRig(t, DCOptions{})
	if n := r.clk.Pending(); n != 0 {
		t.Fatalf("%d timers on an idle board", n)
	}
	r.must(r.b.Plug(1))
	if n := r.clk.Pending(); n != 1 {
		t.Fatalf("%d timers with an EV plugged in", n)
	}
	r.must(r.b.Unplug(1))
	r.clk.Advance(time.Second)
	if n := r.clk.Pending(); n != 0 {
		t.Fatalf("%d timers after unplug", n)
	}
}
