package station

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/physic"
)

// Fakes of a DC connector's parts, sharing one world (dcWorld) that the
// tests change between steps: the supply follows its setpoint at once
// (unless stuck), the vehicle's request is what the test sets, and the
// cable carries the supply's voltage behind closed contactors, else the
// battery's behind the vehicle's closed contactors, else nothing.

type dcWorld struct {
	mu  sync.Mutex // guards every field
	clk clock.Clock

	// Supply.
	lim        hal.SupplyLimits
	on         bool
	setV       physic.ElectricPotential
	setI       physic.ElectricCurrent
	sets       []dcSet // every Set, with the world as it was then
	offs       int
	stuckShort physic.ElectricPotential // the output stays this far below setV
	draw       physic.ElectricCurrent   // current drawn behind closed contactors; <0 means follow setI
	halted     bool

	// Contactors.
	closed, welded bool
	closes         int

	// Lock.
	locked bool

	// Vehicle.
	req     hal.VehicleRequest
	evStuck bool // the vehicle keeps its contactors closed when told to stop
	battery physic.ElectricPotential
	reports []hal.ChargerReport

	// Isolation monitor.
	iso hal.IsolationReading

	// Emergency stop.
	estop bool

	// check, when set, runs at every Set with the world as it is; a
	// non-empty answer is recorded as a violation.
	// limit is the OCPP limit in force, for check.
	limit      physic.ElectricCurrent
	check      func(w *dcWorld, v physic.ElectricPotential, i physic.ElectricCurrent) string
	violations []string
}

// dcSet is one command of the supply.
type dcSet struct {
	at   time.Time
	v    physic.ElectricPotential
	i    physic.ElectricCurrent
	step hal.DCStep // the step the vehicle was last told
}

func newDCWorld(clk clock.Clock) *dcWorld {
	return &dcWorld{
		clk: clk,
		lim: hal.SupplyLimits{MinVoltage: 150 * physic.Volt, MaxVoltage: 1000 * physic.Volt,
			MaxCurrent: 200 * physic.Ampere, MaxPower: 150 * physic.KiloWatt},
		battery: 380 * physic.Volt,
		draw:    -1,
		req: hal.VehicleRequest{Communicating: true, Ready: true, SoC: 40,
			MaxVoltage: 450 * physic.Volt, MaxCurrent: 300 * physic.Ampere, TargetVoltage: 450 * physic.Volt},
		iso: hal.IsolationReading{Resistance: 5 * physic.MegaOhm, Valid: true},
	}
}

func (w *dcWorld) set(f func(w *dcWorld)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(w)
}

// outV is the supply's output voltage; w.mu is held.
func (w *dcWorld) outV() physic.ElectricPotential {
	if !w.on {
		if (w.closed || w.welded) && w.req.Closed {
			return w.battery
		}
		return 0
	}
	return max(0, w.setV-w.stuckShort)
}

func (w *dcWorld) outI() physic.ElectricCurrent {
	if !w.on || !(w.closed || w.welded) || !w.req.Closed {
		if w.draw > 0 && (w.closed || w.welded) {
			return w.draw // a current that does not stop (PowerDown tests)
		}
		return 0
	}
	if w.draw >= 0 {
		return w.draw
	}
	return w.setI
}

func (w *dcWorld) cable() physic.ElectricPotential {
	switch {
	case w.closed || w.welded:
		return w.outV()
	case w.req.Closed:
		return w.battery
	}
	return 0
}

func (w *dcWorld) lastStep() hal.DCStep {
	if n := len(w.reports); n > 0 {
		return w.reports[n-1].Step
	}
	return ""
}

type fakeSupply struct{ w *dcWorld }

func (s fakeSupply) String() string { return "fake supply" }
func (s fakeSupply) Halt() error {
	s.w.set(func(w *dcWorld) { w.on, w.halted = false, true })
	return nil
}
func (s fakeSupply) Set(v physic.ElectricPotential, i physic.ElectricCurrent) error {
	s.w.set(func(w *dcWorld) {
		if w.check != nil {
			if msg := w.check(w, v, i); msg != "" {
				w.violations = append(w.violations, msg)
			}
		}
		w.on, w.setV, w.setI = true, v, i
		w.sets = append(w.sets, dcSet{at: w.clk.Now(), v: v, i: i, step: w.lastStep()})
	})
	return nil
}
func (s fakeSupply) Off() error {
	s.w.set(func(w *dcWorld) { w.on, w.setV, w.setI = false, 0, 0; w.offs++ })
	return nil
}
func (s fakeSupply) Limits() (l hal.SupplyLimits) {
	s.w.set(func(w *dcWorld) { l = w.lim })
	return l
}
func (s fakeSupply) Output() (v physic.ElectricPotential, i physic.ElectricCurrent) {
	s.w.set(func(w *dcWorld) { v, i = w.outV(), w.outI() })
	return v, i
}

type fakeIMD struct{ w *dcWorld }

func (m fakeIMD) String() string { return "fake isolation monitor" }
func (m fakeIMD) Halt() error    { return nil }
func (m fakeIMD) Reading() (r hal.IsolationReading) {
	m.w.set(func(w *dcWorld) {
		r = w.iso
		if r.Valid && r.At.IsZero() {
			r.At = w.clk.Now() // a monitor that measures all the time
		}
	})
	return r
}

type fakeVehicle struct{ w *dcWorld }

func (v fakeVehicle) String() string { return "fake vehicle" }
func (v fakeVehicle) Halt() error    { return nil }
func (v fakeVehicle) Request() (r hal.VehicleRequest) {
	v.w.set(func(w *dcWorld) { r = w.req })
	return r
}
func (v fakeVehicle) Report(r hal.ChargerReport) {
	v.w.set(func(w *dcWorld) {
		w.reports = append(w.reports, r)
		if (r.Stop || r.Fault) && !w.evStuck {
			w.req.Closed = false // as a vehicle told to stop opens its contactors
		}
	})
}

type fakeVoltmeter struct{ w *dcWorld }

func (m fakeVoltmeter) Voltage() (v physic.ElectricPotential) {
	m.w.set(func(w *dcWorld) { v = w.cable() })
	return v
}

type fakeDCContactor struct{ w *dcWorld }

func (k fakeDCContactor) String() string { return "fake DC contactors" }
func (k fakeDCContactor) Halt() error    { return k.Open() }
func (k fakeDCContactor) Close() error {
	k.w.set(func(w *dcWorld) { w.closed = true; w.closes++ })
	return nil
}
func (k fakeDCContactor) Open() error {
	k.w.set(func(w *dcWorld) { w.closed = false })
	return nil
}
func (k fakeDCContactor) Closed() (c bool) {
	k.w.set(func(w *dcWorld) { c = w.closed })
	return c
}
func (k fakeDCContactor) FeedbackClosed() (c bool) {
	k.w.set(func(w *dcWorld) { c = w.closed || w.welded })
	return c
}

type fakeDCLock struct{ w *dcWorld }

func (l fakeDCLock) String() string { return "fake DC lock" }
func (l fakeDCLock) Halt() error    { return nil }
func (l fakeDCLock) Lock() error    { l.w.set(func(w *dcWorld) { w.locked = true }); return nil }
func (l fakeDCLock) Unlock() error  { l.w.set(func(w *dcWorld) { w.locked = false }); return nil }
func (l fakeDCLock) Locked() (b bool) {
	l.w.set(func(w *dcWorld) { b = w.locked })
	return b
}

type fakeEstop struct{ w *dcWorld }

func (e fakeEstop) String() string { return "fake emergency stop" }
func (e fakeEstop) Halt() error    { return nil }
func (e fakeEstop) Active() (a bool) {
	e.w.set(func(w *dcWorld) { a = w.estop })
	return a
}

// dcRig runs a station with one DC connector on the fakes.
type dcRig struct {
	*rig
	w     *dcWorld
	pilot *fakePilot
}

// dcRigOpts shape a dcRig.
type dcRigOpts struct {
	cfg    *Config // nil: DefaultConfig with FreeCharging
	dc     DCConfig
	rating hal.DC // MaxVoltage/MaxCurrent/MaxPower of the connector
	world  func(w *dcWorld)
}

func newDCRig(t testing.TB, o dcRigOpts) *dcRig {
	t.Helper()
	clk := clock.NewFake(t0)
	w := newDCWorld(clk)
	if o.world != nil {
		o.world(w)
	}
	cfg := DefaultConfig()
	cfg.FreeCharging = true
	if o.cfg != nil {
		cfg = *o.cfg
	}
	pilot := &fakePilot{id: 1, sensed: hal.PilotA, clk: clk}
	dc := o.rating
	dc.Supply, dc.Isolation, dc.Vehicle = fakeSupply{w}, fakeIMD{w}, fakeVehicle{w}
	dc.CableVoltage, dc.EmergencyStop = fakeVoltmeter{w}, fakeEstop{w}
	maxI := dc.MaxCurrent
	if maxI == 0 {
		maxI = 500 * physic.Ampere
	}
	rep := &recReporter{}
	st, err := New(Options{
		ID: "dc", Clock: clk, Logger: slog.New(slog.DiscardHandler), Reporter: rep, Config: cfg, DC: o.dc,
		Connectors: []ConnectorConfig{{Hardware: hal.Connector{ID: 1, Pilot: pilot, Contactor: fakeDCContactor{w},
			Lock: fakeDCLock{w}, MaxCurrent: maxI, Phases: 1, DC: &dc}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{t: t, st: st, clk: clk, rep: rep, stop: cancel, done: make(chan error, 1), auth: &fakeAuth{}}
	go func() { r.done <- st.Run(ctx) }()
	t.Cleanup(r.shutdown)
	r.settle()
	return &dcRig{rig: r, w: w, pilot: pilot}
}

// cp senses s on the pilot and tells the station.
func (r *dcRig) cp(s hal.PilotState) {
	r.pilot.set(s)
	r.st.Event(hal.Event{Connector: 1, Kind: hal.PilotChanged, Pilot: s})
	r.settle()
}

// world changes the fakes and tells the station the vehicle changed.
func (r *dcRig) world(f func(w *dcWorld)) {
	r.w.set(f)
	r.event(hal.Event{Connector: 1, Kind: hal.VehicleChanged})
}

// run advances virtual time by d in 100 ms steps.
func (r *dcRig) run(d time.Duration) {
	for end := r.clk.Now().Add(d); r.clk.Now().Before(end); {
		r.advance(min(100*time.Millisecond, end.Sub(r.clk.Now())))
	}
}

// dc is connector 1's DC status.
func (r *dcRig) dc() DCStatus {
	r.t.Helper()
	cs := r.conn(1)
	if cs.DC == nil {
		r.t.Fatal("no DC status")
	}
	return *cs.DC
}

// until runs until connector 1 is at step s (at most max).
func (r *dcRig) until(s hal.DCStep, max time.Duration) {
	r.t.Helper()
	for end := r.clk.Now().Add(max); r.dc().Step != s; {
		if !r.clk.Now().Before(end) {
			cs := r.conn(1)
			r.t.Fatalf("step %s not within %v: at %s (%s/%s %q)", s, max, cs.DC.Step, cs.Status, cs.Error, cs.Fault)
		}
		r.run(100 * time.Millisecond)
	}
}

// charging brings connector 1 to the Charging step: plug in (B), the
// vehicle's C, the precharge answered by the vehicle closing.
func (r *dcRig) charging() {
	r.t.Helper()
	r.cp(hal.PilotB)
	r.cp(hal.PilotC)
	r.until(hal.DCPreCharge, 5*time.Second)
	r.world(func(w *dcWorld) { w.req.Closed = true })
	r.until(hal.DCCharging, time.Second)
}

// state is the fakes' hardware state, for comparisons.
type dcHW struct {
	on, closed, locked bool
}

func (r *dcRig) hw() dcHW {
	var h dcHW
	r.w.set(func(w *dcWorld) { h = dcHW{on: w.on, closed: w.closed, locked: w.locked} })
	return h
}

func (h dcHW) String() string {
	return fmt.Sprintf("supply on=%v contactors closed=%v locked=%v", h.on, h.closed, h.locked)
}
