package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/haltest"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// quiet discards the simulation's logs.
var quiet = slog.New(slog.DiscardHandler)

// rig is a running board in virtual time with its events recorded.
type rig struct {
	t      *testing.T
	b      *Board
	clk    *clock.Fake
	events *haltest.Events
	marks  int
}

// newRig builds a board from o (Clock set to a Fake) and runs it until the
// test ends. The initial PilotChanged events are consumed.
func newRig(t *testing.T, o Options) *rig {
	t.Helper()
	clk := clock.NewFake(t0)
	o.Clock = clk
	o.Logger = quiet
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, b: b, clk: clk, events: haltest.NewEvents()}
	return r.run()
}

func (r *rig) run() *rig {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.b.Run(ctx, r.events.Sink) }()
	r.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			r.t.Errorf("Run: %v", err)
		}
	})
	waitInitial(r.t, r.b, r.events)
	return r
}

// waitInitial consumes the events up to the last connector's initial
// state, which Run reports first.
func waitInitial(t *testing.T, b *Board, ev *haltest.Events) {
	t.Helper()
	last := len(b.Connectors())
	ev.Until(t, func(e hal.Event) bool { return e.Connector == last && e.Detail == "initial state" })
}

// drain returns the events reported since the last drain: it swipes a
// marker card and collects everything before it, so that "no event" is an
// assertion that cannot pass by waiting too little.
func (r *rig) drain() []hal.Event {
	r.t.Helper()
	r.marks++
	tag := fmt.Sprintf("mark-%d", r.marks)
	if err := r.b.Swipe(1, tag); err != nil {
		r.t.Fatal(err)
	}
	evs := r.events.Until(r.t, func(e hal.Event) bool { return e.Kind == hal.CardPresented && e.IDTag == tag })
	return evs[:len(evs)-1]
}

// conn returns connector n's hal parts.
func (r *rig) conn(n int) hal.Connector { return r.b.Connectors()[n-1] }

// state returns connector n's snapshot.
func (r *rig) state(n int) ConnectorState {
	r.t.Helper()
	s, err := r.b.State(n)
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// do performs a named action on connector 1: an EV action, a pilot or
// contactor command, a fault, or "wait:<duration>".
func (r *rig) do(action string) error {
	c := r.conn(1)
	switch action {
	case "plug":
		return r.b.Plug(1)
	case "charge":
		return r.b.Charge(1)
	case "pause":
		return r.b.Pause(1)
	case "unplug":
		return r.b.Unplug(1)
	case "offer16":
		return c.Pilot.Offer(16 * physic.Ampere)
	case "offer0":
		return c.Pilot.Offer(0)
	case "unavailable":
		return c.Pilot.Unavailable()
	case "close":
		return c.Contactor.Close()
	case "open":
		return c.Contactor.Open()
	case "rcd", "weld", "diode", "meter", "clear":
		return r.b.Fault(1, FaultKind(action))
	}
	if d, ok := strings.CutPrefix(action, "wait:"); ok {
		dur, err := time.ParseDuration(d)
		if err != nil {
			r.t.Fatalf("bad action %q", action)
		}
		r.clk.Advance(dur)
		return nil
	}
	r.t.Fatalf("unknown action %q", action)
	return nil
}

// doAll performs actions that must succeed.
func (r *rig) doAll(actions ...string) {
	r.t.Helper()
	for _, a := range actions {
		if err := r.do(a); err != nil {
			r.t.Fatalf("%s: %v", a, err)
		}
	}
}

// kinds returns the kinds of evs.
func kinds(evs []hal.Event) []hal.EventKind {
	var out []hal.EventKind
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func TestEVTransitions(t *testing.T) {
	type step struct {
		action string
		err    error // wanted error, matched with errors.Is
		pilot  hal.PilotState
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"EV waits in B for PWM, then goes to C", []step{
			{"plug", nil, hal.PilotB}, {"charge", nil, hal.PilotB}, {"offer16", nil, hal.PilotC},
			{"pause", nil, hal.PilotB}, {"charge", nil, hal.PilotC}, {"unplug", nil, hal.PilotA},
		}},
		{"PWM first: charge goes straight to C", []step{
			{"offer16", nil, hal.PilotA}, {"plug", nil, hal.PilotB}, {"charge", nil, hal.PilotC},
			{"charge", nil, hal.PilotC},
		}},
		{"EV stays in C when the PWM stops", []step{
			{"plug", nil, hal.PilotB}, {"offer16", nil, hal.PilotB}, {"charge", nil, hal.PilotC},
			{"offer0", nil, hal.PilotC},
		}},
		{"-12 V senses F whatever the EV does", []step{
			{"plug", nil, hal.PilotB}, {"charge", nil, hal.PilotB}, {"offer16", nil, hal.PilotC},
			{"unavailable", nil, hal.PilotF}, {"unplug", nil, hal.PilotF}, {"offer0", nil, hal.PilotA},
		}},
		{"EV actions need an EV", []step{
			{"charge", ErrTransition, hal.PilotA}, {"pause", ErrTransition, hal.PilotA},
			{"unplug", ErrTransition, hal.PilotA}, {"plug", nil, hal.PilotB},
			{"plug", ErrTransition, hal.PilotB},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, Options{})
			var want []hal.PilotState
			last := hal.PilotA
			for _, s := range c.steps {
				if err := r.do(s.action); !errors.Is(err, s.err) || (err == nil) != (s.err == nil) {
					t.Fatalf("%s: err = %v, want %v", s.action, err, s.err)
				}
				if got := r.conn(1).Pilot.State(); got != s.pilot {
					t.Fatalf("after %s: pilot %v, want %v", s.action, got, s.pilot)
				}
				if s.pilot != last {
					want = append(want, s.pilot)
					last = s.pilot
				}
			}
			var got []hal.PilotState
			for _, e := range r.drain() {
				if e.Kind != hal.PilotChanged || e.Connector != 1 {
					t.Fatalf("unexpected event %+v", e)
				}
				got = append(got, e.Pilot)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("PilotChanged %v, want %v", got, want)
			}
		})
	}
}

func TestControlErrors(t *testing.T) {
	b, err := New(Options{Clock: clock.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		call func() error
		want error // nil: any error
	}{
		{"plug connector 0", func() error { return b.Plug(0) }, ErrNoConnector},
		{"charge connector 3 of 2", func() error { return b.Charge(3) }, ErrNoConnector},
		{"swipe connector -1", func() error { return b.Swipe(-1, "A") }, ErrNoConnector},
		{"fault connector 3", func() error { return b.Fault(3, FaultRCD) }, ErrNoConnector},
		{"unknown fault kind", func() error { return b.Fault(1, "smoke") }, ErrFaultKind},
		{"empty id tag", func() error { return b.Swipe(1, "") }, nil},
		{"state of connector 3", func() error { _, err := b.State(3); return err }, ErrNoConnector},
		{"EV with 4 phases", func() error { return b.SetEV(1, EV{Phases: 4}) }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	if b.Power(3) != 0 || b.Meter(3) != nil {
		t.Fatal("connector 3 of 2 has power or a meter")
	}
}

func TestNewOptions(t *testing.T) {
	cases := []struct {
		name    string
		o       Options
		conns   int
		max     physic.ElectricCurrent
		phases  int
		wantErr bool
	}{
		{"defaults", Options{}, 2, 32 * physic.Ampere, 3, false},
		{"four 16 A single-phase", Options{Connectors: 4, MaxCurrent: 16 * physic.Ampere, Phases: 1}, 4, 16 * physic.Ampere, 1, false},
		{"negative connectors", Options{Connectors: -1}, 0, 0, 0, true},
		{"2 phases", Options{Phases: 2}, 0, 0, 0, true},
		{"5 A outlet", Options{MaxCurrent: 5 * physic.Ampere}, 0, 0, 0, true},
		{"negative EV capacity", Options{EV: EV{Capacity: -1}}, 0, 0, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := New(c.o)
			if (err != nil) != c.wantErr {
				t.Fatalf("New: err = %v, want error %v", err, c.wantErr)
			}
			if err != nil {
				return
			}
			cs := b.Connectors()
			if len(cs) != c.conns {
				t.Fatalf("%d connectors, want %d", len(cs), c.conns)
			}
			for i, hc := range cs {
				if hc.ID != i+1 || hc.MaxCurrent != c.max || hc.Phases != c.phases {
					t.Fatalf("connector %d = id %d, %v, %d phases", i, hc.ID, hc.MaxCurrent, hc.Phases)
				}
				if hc.Pilot == nil || hc.Contactor == nil || hc.Lock == nil || hc.RCD == nil || hc.Indicator == nil {
					t.Fatalf("connector %d lacks a part: %+v", hc.ID, hc)
				}
			}
			if b.Name() != "sim" {
				t.Fatalf("Name = %q", b.Name())
			}
		})
	}
}

func TestInterlock(t *testing.T) {
	cases := []struct {
		name  string
		setup []string
		ok    bool
	}{
		{"no EV", []string{"offer16"}, false},
		{"EV in B with PWM", []string{"plug", "offer16"}, false},
		{"EV in C without PWM", []string{"plug", "offer16", "charge", "offer0"}, false},
		{"pilot at -12 V", []string{"plug", "charge", "offer16", "unavailable"}, false},
		{"RCD tripped", []string{"plug", "charge", "offer16", "rcd"}, false},
		{"diode fault", []string{"plug", "charge", "offer16", "diode"}, false},
		{"EV in C with 16 A", []string{"plug", "charge", "offer16"}, true},
		{"after the fault cleared", []string{"plug", "charge", "offer16", "rcd", "clear"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, Options{})
			r.doAll(c.setup...)
			k := r.conn(1).Contactor
			err := k.Close()
			if c.ok {
				if err != nil || !k.Closed() {
					t.Fatalf("Close: %v, closed %v; want closed", err, k.Closed())
				}
				return
			}
			if !errors.Is(err, hal.ErrInterlock) {
				t.Fatalf("Close: err = %v, want ErrInterlock", err)
			}
			if k.Closed() || r.b.Power(1) != 0 {
				t.Fatalf("refused Close left closed=%v power=%v", k.Closed(), r.b.Power(1))
			}
		})
	}
}

func TestDriverOpensWhenLeavingC(t *testing.T) {
	cases := []struct {
		name   string
		action string
		events []hal.EventKind
	}{
		{"C->B: EV pauses", "pause", []hal.EventKind{hal.PilotChanged}},
		{"C->A: EV unplugged", "unplug", []hal.EventKind{hal.PilotChanged}},
		{"C->F: pilot unavailable", "unavailable", []hal.EventKind{hal.PilotChanged}},
		{"RCD trip", "rcd", []hal.EventKind{hal.RCDTripped}},
		{"diode fault", "diode", []hal.EventKind{hal.DiodeFault}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, Options{})
			r.doAll("plug", "charge", "offer16", "close")
			if r.b.Power(1) <= 0 {
				t.Fatal("no power drawn while charging")
			}
			r.drain()
			r.doAll(c.action)
			// No station involved: the driver itself has opened.
			if r.conn(1).Contactor.Closed() {
				t.Fatal("contactor still closed")
			}
			if p := r.b.Power(1); p != 0 {
				t.Fatalf("power %v after %s, want 0", p, c.action)
			}
			if got := kinds(r.drain()); !slices.Equal(got, c.events) {
				t.Fatalf("events %v, want %v", got, c.events)
			}
		})
	}
}

func TestForceOpenSixSecondsAfterPWMStops(t *testing.T) {
	cases := []struct {
		name    string
		steps   []string
		closed  bool
		drawing bool // the EV draws current at the end (PWM on, contactor closed)
	}{
		{"closed at 5.9 s", []string{"offer0", "wait:5.9s"}, true, false},
		{"open at 6 s", []string{"offer0", "wait:5.9s", "wait:100ms"}, false, false},
		{"repeated Offer(0) does not postpone", []string{"offer0", "wait:3s", "offer0", "wait:3s"}, false, false},
		{"PWM back within 6 s disarms", []string{"offer0", "wait:3s", "offer16", "wait:10s"}, true, true},
		{"PWM stopping again starts anew", []string{"offer0", "wait:3s", "offer16", "offer0", "wait:5.9s"}, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, Options{})
			r.doAll("plug", "charge", "offer16", "close")
			r.doAll(c.steps...)
			if got := r.conn(1).Contactor.Closed(); got != c.closed {
				t.Fatalf("closed = %v, want %v", got, c.closed)
			}
			if got := r.conn(1).Pilot.State(); got != hal.PilotC {
				t.Fatalf("pilot %v, want the EV still in C", got)
			}
			if p := r.b.Power(1); (p > 0) != c.drawing {
				t.Fatalf("EV draws %v, want drawing %v", p, c.drawing)
			}
		})
	}
}

func TestFaultEvents(t *testing.T) {
	cases := []struct {
		name  string
		kind  FaultKind
		event hal.EventKind // 0: none
		check func(t *testing.T, r *rig)
	}{
		{"rcd", FaultRCD, hal.RCDTripped, func(t *testing.T, r *rig) {
			if !r.conn(1).RCD.Tripped() {
				t.Fatal("RCD not tripped")
			}
			if err := r.conn(1).RCD.SelfTest(context.Background()); err == nil {
				t.Fatal("self-test passed while tripped")
			}
		}},
		{"weld while open", FaultWeld, hal.ContactorWelded, func(t *testing.T, r *rig) {
			if s := r.state(1); !s.Energized || s.Closed {
				t.Fatalf("welded: energized %v, commanded %v", s.Energized, s.Closed)
			}
		}},
		{"diode", FaultDiode, hal.DiodeFault, nil},
		{"meter", FaultMeter, 0, func(t *testing.T, r *rig) {
			if _, err := r.b.Meter(1).Read(context.Background()); !errors.Is(err, meter.ErrNoResponse) {
				t.Fatalf("meter read: err = %v, want ErrNoResponse", err)
			}
		}},
		{"clear", FaultClear, hal.FaultCleared, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, Options{})
			if err := r.b.Fault(1, c.kind); err != nil {
				t.Fatal(err)
			}
			evs := r.drain()
			var want []hal.EventKind
			if c.event != 0 {
				want = append(want, c.event)
			}
			if got := kinds(evs); !slices.Equal(got, want) {
				t.Fatalf("events %v, want %v", got, want)
			}
			if c.check != nil {
				c.check(t, r)
			}
			// Injecting the same fault again reports nothing new.
			if c.kind != FaultClear {
				if err := r.b.Fault(1, c.kind); err != nil {
					t.Fatal(err)
				}
				if evs := r.drain(); len(evs) != 0 {
					t.Fatalf("repeated fault reported %v", kinds(evs))
				}
			}
			// Clear resets everything.
			if err := r.b.Fault(1, FaultClear); err != nil {
				t.Fatal(err)
			}
			evs = r.drain()
			if len(evs) != 1 || evs[0].Kind != hal.FaultCleared || evs[0].Cleared != 0 {
				t.Fatalf("clear reported %+v, want one FaultCleared of all kinds", evs)
			}
			s := r.state(1)
			if s.RCDTripped || s.Welded || s.DiodeFault || s.MeterFault || s.Energized {
				t.Fatalf("faults remain after clear: %+v", s)
			}
			if _, err := r.b.Meter(1).Read(context.Background()); err != nil {
				t.Fatalf("meter read after clear: %v", err)
			}
		})
	}
}

func TestWeldedContactor(t *testing.T) {
	r := newRig(t, Options{})
	r.doAll("plug", "charge", "offer16", "close", "weld")
	if evs := r.drain(); slices.Contains(kinds(evs), hal.ContactorWelded) {
		t.Fatal("ContactorWelded reported while commanded closed")
	}
	drawing := r.b.Power(1)
	r.doAll("open")
	if r.conn(1).Contactor.Closed() {
		t.Fatal("Closed() reports the commanded state: want false after Open")
	}
	if p := r.b.Power(1); p != drawing || p == 0 {
		t.Fatalf("welded contactor: power %v after Open, want %v", p, drawing)
	}
	if got := kinds(r.drain()); !slices.Equal(got, []hal.EventKind{hal.ContactorWelded}) {
		t.Fatalf("events after Open %v, want [ContactorWelded]", got)
	}
	// Opening an open contactor again does not repeat the report, so a
	// station that answers the event with Open does not loop.
	r.doAll("open")
	if evs := r.drain(); len(evs) != 0 {
		t.Fatalf("second Open reported %v", kinds(evs))
	}
	// The EV itself stops when it pauses.
	r.doAll("pause")
	if p := r.b.Power(1); p != 0 {
		t.Fatalf("power %v in B", p)
	}
}

func TestWeldedContactorOpenedByDriver(t *testing.T) {
	r := newRig(t, Options{})
	r.doAll("plug", "charge", "offer16", "close", "weld")
	r.drain()
	r.doAll("unavailable")
	if got := kinds(r.drain()); !slices.Equal(got, []hal.EventKind{hal.PilotChanged, hal.ContactorWelded}) {
		t.Fatalf("events %v, want [PilotChanged ContactorWelded]", got)
	}
}

func TestPowerDrawn(t *testing.T) {
	const v = 230
	cases := []struct {
		name    string
		o       Options
		offer   physic.ElectricCurrent
		current physic.ElectricCurrent // per phase, as the EV decodes the duty
		phases  int                    // phases drawing
	}{
		{"16 A offered, 32 A EV", Options{}, 16 * physic.Ampere, 15960 * physic.MilliAmpere, 3},
		{"32 A offered, 16 A EV", Options{EV: EV{MaxCurrent: 16 * physic.Ampere}}, 32 * physic.Ampere, 16 * physic.Ampere, 3},
		{"offer above rating is clamped", Options{MaxCurrent: 16 * physic.Ampere}, 40 * physic.Ampere, 15960 * physic.MilliAmpere, 3},
		{"single-phase EV on three phases", Options{EV: EV{Phases: 1}}, 6 * physic.Ampere, 6 * physic.Ampere, 1},
		{"three-phase EV on one phase", Options{Phases: 1}, 10 * physic.Ampere, 9960 * physic.MilliAmpere, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, c.o)
			r.doAll("plug", "charge")
			if err := r.conn(1).Pilot.Offer(c.offer); err != nil {
				t.Fatal(err)
			}
			r.doAll("close")
			m := r.b.Measurement(1)
			for i := range 3 {
				want := physic.ElectricCurrent(0)
				if i < c.phases {
					want = c.current
				}
				if m.Current[i] != want {
					t.Fatalf("L%d current %v, want %v", i+1, m.Current[i], want)
				}
			}
			want := physic.Power(c.phases) * physic.Power(c.current/physic.MilliAmpere) * v * physic.MilliWatt
			if p := r.b.Power(1); p != want {
				t.Fatalf("power %v, want %v", p, want)
			}
			if r.state(1).Offered > c.offer {
				t.Fatalf("EV reads %v offered, more than %v", r.state(1).Offered, c.offer)
			}
		})
	}
}

func TestMeterFollowsTheEV(t *testing.T) {
	r := newRig(t, Options{MeterStart: 1000 * meter.WattHour})
	// 16 A offered reads as 15.96 A: 3 x 230 V x 15.96 A = 11012.4 W.
	r.doAll("plug", "charge", "offer16", "close", "wait:1h", "pause", "wait:30m", "charge", "wait:1ms")
	if r.conn(1).Contactor.Closed() {
		t.Fatal("contactor closed after the pause; the driver should have opened it")
	}
	r.doAll("close", "wait:30m", "unplug", "wait:2h")
	rd, err := r.b.Meter(1).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// 1.5 h at 11012.4 W on top of 1000 Wh.
	want := 1000*meter.WattHour + 16518600*meter.MilliWattHour
	if rd.EnergyImport != want {
		t.Fatalf("import %v, want %v", rd.EnergyImport, want)
	}
	if rd.Power != 0 || rd.Voltage[2] != 230*physic.Volt {
		t.Fatalf("after unplug: power %v, L3 %v", rd.Power, rd.Voltage[2])
	}
}

func TestBatteryFull(t *testing.T) {
	r := newRig(t, Options{EV: EV{Capacity: meter.KiloWattHour}})
	// 1 kWh at 11012.4 W takes 326.904... s.
	r.doAll("plug", "charge", "offer16", "close")
	r.drain()
	r.doAll("wait:326s")
	if got := r.conn(1).Pilot.State(); got != hal.PilotC {
		t.Fatalf("pilot %v at 326 s, want C", got)
	}
	r.doAll("wait:1s")
	if got := r.conn(1).Pilot.State(); got != hal.PilotB {
		t.Fatalf("pilot %v at 327 s, want B (full)", got)
	}
	if r.conn(1).Contactor.Closed() {
		t.Fatal("contactor closed with the EV full in B")
	}
	s := r.state(1)
	if !s.Full || s.EVEnergy < meter.KiloWattHour || s.EVEnergy > meter.KiloWattHour+meter.WattHour {
		t.Fatalf("full %v with %v in the EV", s.Full, s.EVEnergy)
	}
	if got := kinds(r.drain()); !slices.Equal(got, []hal.EventKind{hal.PilotChanged}) {
		t.Fatalf("events %v, want [PilotChanged]", got)
	}
	if err := r.b.Charge(1); !errors.Is(err, ErrTransition) {
		t.Fatalf("Charge when full: err = %v, want ErrTransition", err)
	}
	r.doAll("unplug", "plug", "charge")
	if got := r.conn(1).Pilot.State(); got != hal.PilotC {
		t.Fatalf("replugged EV: pilot %v, want C", got)
	}
}

func TestHalt(t *testing.T) {
	r := newRig(t, Options{})
	r.doAll("plug", "charge", "offer16", "close")
	if err := r.conn(1).Lock.Lock(); err != nil {
		t.Fatal(err)
	}
	if err := r.conn(1).Indicator.Show(hal.ShowCharging); err != nil {
		t.Fatal(err)
	}
	if err := r.b.Halt(); err != nil {
		t.Fatal(err)
	}
	s := r.state(1)
	checks := []struct {
		name      string
		got, want any
	}{
		{"contactor", s.Closed, false},
		{"pilot", s.Pilot, hal.PilotF},
		{"PWM", s.PWM, false},
		{"power", s.Power, physic.Power(0)},
		{"indicator", s.Indication, hal.ShowOff},
		{"lock stays", s.Locked, true},
		{"connector 2 pilot", r.conn(2).Pilot.State(), hal.PilotF},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	for _, part := range []hal.Resource{r.conn(1).Pilot, r.conn(1).Contactor, r.conn(1).Lock, r.conn(1).RCD, r.conn(1).Indicator} {
		if err := part.Halt(); err != nil {
			t.Errorf("%s Halt: %v", part, err)
		}
	}
}

func TestRun(t *testing.T) {
	clk := clock.NewFake(t0)
	b, err := New(Options{Clock: clk, Connectors: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Plug(2); err != nil { // before Run: the event waits
		t.Fatal(err)
	}
	ev := haltest.NewEvents()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, ev.Sink) }()
	got := ev.Until(t, func(e hal.Event) bool { return e.Connector == 3 })
	want := []hal.Event{
		{Connector: 2, Kind: hal.PilotChanged, Pilot: hal.PilotB},
		{Connector: 1, Kind: hal.PilotChanged, Pilot: hal.PilotA, Detail: "initial state"},
		{Connector: 2, Kind: hal.PilotChanged, Pilot: hal.PilotB, Detail: "initial state"},
		{Connector: 3, Kind: hal.PilotChanged, Pilot: hal.PilotA, Detail: "initial state"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	// Run refuses while the first one runs; the first one is known to run
	// since it delivered events.
	if err := b.Run(ctx, ev.Sink); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Run: err = %v, want ErrRunning", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v after cancel, want nil", err)
	}
}

// TestSinkMayCallBack checks the deadlock rule: a sink that commands the
// contactor synchronously, as a station loop reacting inline would, works.
func TestSinkMayCallBack(t *testing.T) {
	b, err := New(Options{Clock: clock.NewFake(t0), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	k := b.Connectors()[0].Contactor
	var closes atomic.Int32
	ev := haltest.NewEvents()
	sink := func(e hal.Event) {
		if e.Kind == hal.PilotChanged && e.Pilot == hal.PilotC {
			if err := k.Close(); err == nil {
				closes.Add(1)
			}
		}
		ev.Sink(e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, sink) }()
	defer func() { cancel(); <-done }()
	waitInitial(t, b, ev)
	for _, f := range []func() error{
		func() error { return b.Plug(1) },
		func() error { return b.Charge(1) },
		func() error { return b.Connectors()[0].Pilot.Offer(16 * physic.Ampere) },
		func() error { return b.Swipe(1, "end") },
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	ev.Until(t, func(e hal.Event) bool { return e.Kind == hal.CardPresented })
	if closes.Load() != 1 || !k.Closed() {
		t.Fatalf("sink closed the contactor %d times, closed=%v; want once, true", closes.Load(), k.Closed())
	}
}

func TestDisplayKeepsWhatItShows(t *testing.T) {
	b, err := New(Options{Connectors: 2})
	if err != nil {
		t.Fatal(err)
	}
	d := b.Connectors()[1].Display
	if d == nil {
		t.Fatal("connector 2 has no display")
	}
	if s, ok := b.Screen(2); !ok || s != (hal.Screen{}) {
		t.Fatalf("before Show: %+v, %v; want a blank screen", s, ok)
	}
	want := hal.Screen{Connector: 2, PriceText: "0.30 EUR/kWh", Cost: "EUR 1.20", QRCode: "https://pay.example/r/1"}
	if err := d.Show(want); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Screen(2); got != want {
		t.Errorf("Screen(2) = %+v, want %+v", got, want)
	}
	if got, _ := b.Screen(1); got != (hal.Screen{}) {
		t.Errorf("connector 1 shows %+v, want blank", got)
	}
	if err := d.Show(hal.Screen{Connector: 1}); err == nil {
		t.Error("a screen for another connector was accepted")
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Screen(2); got != (hal.Screen{}) {
		t.Errorf("after Halt: %+v, want blank", got)
	}
	if _, ok := b.Screen(3); ok {
		t.Error("Screen(3) of a two-connector board reported ok")
	}
}
