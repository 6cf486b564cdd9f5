package pilot_test

// These tests drive the pilot through periph's gpiotest.Pin (this machine
// has no GPIO chip) and a scripted fake ADC channel (pilottest.Channel), in
// virtual time on a clock.Fake.

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/pilot"
	"github.com/evsed/evsed/hal/pilot/pilottest"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const mV = physic.MilliVolt

// seen is an event with the virtual time it was reported at.
type seen struct {
	at time.Duration // since t0
	ev hal.Event
}

// recorder collects events from the sampler goroutine.
type recorder struct {
	clk *clock.Fake
	mu  sync.Mutex // guards evs
	evs []seen
}

func (r *recorder) sink(e hal.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, seen{r.clk.Now().Sub(t0), e})
	r.mu.Unlock()
}

func (r *recorder) events() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.evs)
}

// contactor is a fake interlocked contactor recording when it was opened.
type contactor struct {
	clk    *clock.Fake
	mu     sync.Mutex // guards opened
	opened []time.Duration
}

func (c *contactor) Open() error {
	c.mu.Lock()
	c.opened = append(c.opened, c.clk.Now().Sub(t0))
	c.mu.Unlock()
	return nil
}

func (c *contactor) opens() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.opened)
}

// rig is a pilot under test, sampling at 500 Hz (2 ms) with debounce 3.
type rig struct {
	clk       *clock.Fake
	pwm, en   *gpiotest.Pin
	high, low *pilottest.Channel
	p         *pilot.Pilot
	rec       *recorder
	con       *contactor
	cancel    func()
	done      chan error
	period    time.Duration
}

func newRig(t *testing.T, o pilot.Options) *rig {
	t.Helper()
	clk := clock.NewFake(t0)
	r := &rig{
		clk:    clk,
		pwm:    &gpiotest.Pin{N: "GPIO18", Num: 18, L: gpio.High},
		en:     &gpiotest.Pin{N: "GPIO23", Num: 23},
		high:   pilottest.NewChannel(),
		low:    pilottest.NewChannel(-12 * physic.Volt),
		rec:    &recorder{clk: clk},
		con:    &contactor{clk: clk},
		period: 2 * time.Millisecond,
	}
	o.Connector, o.PWM, o.Enable, o.EnableActive = 1, r.pwm, r.en, gpio.High
	o.High, o.Low, o.Clock = r.high, r.low, clk
	if o.SampleRate == 0 {
		o.SampleRate = 500 * physic.Hertz
	}
	if o.DiodeEvery == 0 {
		o.DiodeEvery = 1
	}
	p, err := pilot.New(o)
	if err != nil {
		t.Fatal(err)
	}
	p.SetInterlock(r.con)
	r.p = p
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- p.Run(ctx, r.rec.sink) }()
	t.Cleanup(r.stop)
	return r
}

func (r *rig) stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
		r.cancel = nil
	}
}

// samples lets the sampler take k samples.
func (r *rig) samples(t *testing.T, k int) { pilottest.Step(t, r.clk, 1, k, r.period) }

// ms is n sample periods of 2 ms.
func ms(n int) time.Duration { return time.Duration(n) * 2 * time.Millisecond }

func TestNewDrivesMinus12BeforeEnabling(t *testing.T) {
	r := newRig(t, pilot.Options{})
	if r.pwm.Read() != gpio.Low || r.en.Read() != gpio.High {
		t.Fatalf("after New: PWM pin %v, enable %v; want Low (-12 V) and High (enabled)", r.pwm.Read(), r.en.Read())
	}
	if _, running := r.p.Duty(); running {
		t.Fatal("PWM runs after New")
	}
}

func TestOffer(t *testing.T) {
	cases := []struct {
		name    string
		max     physic.ElectricCurrent
		offer   physic.ElectricCurrent
		level   gpio.Level
		duty    gpio.Duty
		freq    physic.Frequency
		running bool
	}{
		{"below 6 A holds +12 V", 0, 5 * physic.Ampere, gpio.High, 0, 0, false},
		{"16 A is 26.6 %", 0, 16 * physic.Ampere, gpio.Low, gpio.Duty(266 * int64(gpio.DutyMax) / 1000), physic.KiloHertz, true},
		{"32 A is 53.3 %", 0, 32 * physic.Ampere, gpio.Low, gpio.Duty(533 * int64(gpio.DutyMax) / 1000), physic.KiloHertz, true},
		{"capped at the connector max", 20 * physic.Ampere, 32 * physic.Ampere, gpio.Low, gpio.Duty(333 * int64(gpio.DutyMax) / 1000), physic.KiloHertz, true},
		{"63 A is 89.2 %", 0, 63 * physic.Ampere, gpio.Low, gpio.Duty(892 * int64(gpio.DutyMax) / 1000), physic.KiloHertz, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, pilot.Options{MaxCurrent: c.max})
			if err := r.p.Offer(c.offer); err != nil {
				t.Fatal(err)
			}
			r.pwm.Lock()
			l, d, f := r.pwm.L, r.pwm.D, r.pwm.F
			r.pwm.Unlock()
			if _, running := r.p.Duty(); running != c.running {
				t.Fatalf("PWM running %v, want %v", running, c.running)
			}
			if c.running && (d != c.duty || f != c.freq) {
				t.Fatalf("PWM %v at %v, want %v at %v", d, f, c.duty, c.freq)
			}
			if !c.running && l != c.level {
				t.Fatalf("pin %v, want %v", l, c.level)
			}
			if err := r.p.Halt(); err != nil || r.pwm.Read() != gpio.Low {
				t.Fatalf("after Halt: pin %v err %v, want Low (-12 V)", r.pwm.Read(), err)
			}
			if _, running := r.p.Duty(); running {
				t.Fatal("PWM runs after Halt")
			}
		})
	}
}

// cpFor returns k samples of the nominal high-side voltage of s, with a
// ±400 mV ripple that stays inside the band.
func cpFor(s hal.PilotState, k int) []physic.ElectricPotential {
	v, _ := hal.NominalVoltage(s)
	out := make([]physic.ElectricPotential, k)
	for i := range out {
		out[i] = v + physic.ElectricPotential((i%3)-1)*400*mV
	}
	return out
}

func TestStatesDebouncedInVirtualTime(t *testing.T) {
	r := newRig(t, pilot.Options{})
	for _, s := range []hal.PilotState{hal.PilotA, hal.PilotB, hal.PilotC, hal.PilotD, hal.PilotE, hal.PilotF} {
		r.high.Play(cpFor(s, 5)...)
	}
	r.samples(t, 30)
	var got []seen
	for _, e := range r.rec.events() {
		if e.ev.Kind == hal.PilotChanged {
			got = append(got, e)
		}
	}
	want := []struct {
		at time.Duration
		s  hal.PilotState
	}{
		// Each state starts at sample 5k+1 (virtual time 2 ms each) and is
		// reported on its third sample.
		{ms(3), hal.PilotA}, {ms(8), hal.PilotB}, {ms(13), hal.PilotC},
		{ms(18), hal.PilotD}, {ms(23), hal.PilotE}, {ms(28), hal.PilotF},
	}
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %d PilotChanged", got, len(want))
	}
	for i, w := range want {
		if got[i].at != w.at || got[i].ev.Pilot != w.s || got[i].ev.Connector != 1 {
			t.Errorf("event %d: %v at %v, want %v at %v", i, got[i].ev.Pilot, got[i].at, w.s, w.at)
		}
	}
	if r.p.State() != hal.PilotF {
		t.Fatalf("State() = %v, want F", r.p.State())
	}
}

func TestNoiseAtBandEdges(t *testing.T) {
	cases := []struct {
		name   string
		script []physic.ElectricPotential
		want   []hal.PilotState
		at     []time.Duration
	}{
		{"edges inside the band count", []physic.ElectricPotential{10100 * mV, 7900 * mV, 9000 * mV, 9000 * mV}, []hal.PilotState{hal.PilotB}, []time.Duration{ms(3)}},
		{"gap sample restarts the run", []physic.ElectricPotential{9000 * mV, 9000 * mV, 7500 * mV, 9000 * mV, 9000 * mV, 9000 * mV}, []hal.PilotState{hal.PilotB}, []time.Duration{ms(6)}},
		{"flicker between B and C never settles", []physic.ElectricPotential{9000 * mV, 6000 * mV, 9000 * mV, 6000 * mV, 9000 * mV, 6000 * mV, 7500 * mV}, nil, nil},
		{"a single spike does not change the state", append(cpFor(hal.PilotC, 4), 9000*mV, 6000*mV, 6000*mV, 6000*mV), []hal.PilotState{hal.PilotC}, []time.Duration{ms(3)}},
		{"beyond +13.1 V is no state", []physic.ElectricPotential{13200 * mV, 13200 * mV, 13200 * mV, 13200 * mV}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, pilot.Options{})
			r.high.Play(c.script...)
			r.samples(t, len(c.script))
			var got []hal.PilotState
			var at []time.Duration
			for _, e := range r.rec.events() {
				got, at = append(got, e.ev.Pilot), append(at, e.at)
			}
			if !slices.Equal(got, c.want) || !slices.Equal(at, c.at) {
				t.Fatalf("states %v at %v, want %v at %v", got, at, c.want, c.at)
			}
		})
	}
}

func TestCToBOpensContactorWithinDebounceBudget(t *testing.T) {
	r := newRig(t, pilot.Options{})
	if err := r.p.Offer(32 * physic.Ampere); err != nil {
		t.Fatal(err)
	}
	r.high.Play(cpFor(hal.PilotC, 10)...)
	r.samples(t, 10)
	if r.p.State() != hal.PilotC || len(r.con.opens()) != 0 {
		t.Fatalf("state %v, opens %v; want C and a closed contactor", r.p.State(), r.con.opens())
	}
	// The EV goes to B just after sample 10 (t = 20 ms): the worst case.
	change := ms(10)
	r.high.Set(9 * physic.Volt)
	r.samples(t, 5)
	opens := r.con.opens()
	if len(opens) != 1 {
		t.Fatalf("contactor opened %d times, want once", len(opens))
	}
	if lat := opens[0] - change; lat > r.p.Latency() || r.p.Latency() != 6*time.Millisecond {
		t.Fatalf("opened %v after C->B, budget %v (want 6 ms: 3 samples at 500 Hz)", lat, r.p.Latency())
	}
	evs := r.rec.events()
	last := evs[len(evs)-1]
	if last.ev.Pilot != hal.PilotB || last.at != opens[0] {
		t.Fatalf("last event %+v, want PilotChanged B at %v, with the interlock", last, opens[0])
	}
}

func TestInterlockOnNoisyLeaveOfC(t *testing.T) {
	// The CP leaves C into noise that settles on no state: the interlock
	// still opens after Debounce samples outside C/D.
	r := newRig(t, pilot.Options{})
	r.high.Play(cpFor(hal.PilotC, 4)...)
	r.high.Play(7500*mV, 9000*mV, 7600*mV, 9000*mV)
	r.samples(t, 8)
	if opens := r.con.opens(); len(opens) != 1 || opens[0] != ms(7) {
		t.Fatalf("opens %v, want one at %v", opens, ms(7))
	}
	if r.p.State() != hal.PilotC {
		t.Fatalf("state %v, want C kept (no state settled)", r.p.State())
	}
}

func TestInterlockRearmsOnOneSampleInC(t *testing.T) {
	// Noise outside C/D opens the contactor while the debounced state stays
	// C, so the station may close it again. One sample back in C re-arms
	// the interlock (it does not wait for Debounce of them): the next exit
	// from C opens the contactor again, Debounce samples after it.
	r := newRig(t, pilot.Options{})
	r.high.Play(cpFor(hal.PilotC, 4)...)
	r.high.Play(7500*mV, 7500*mV, 7500*mV) // no state: opens at sample 7
	r.high.Play(6000 * mV)                 // one sample in C
	r.high.Play(cpFor(hal.PilotB, 4)...)   // opens again at sample 11
	r.samples(t, 12)
	if opens := r.con.opens(); !slices.Equal(opens, []time.Duration{ms(7), ms(11)}) {
		t.Fatalf("opens %v, want at %v and %v", opens, ms(7), ms(11))
	}
	if r.p.State() != hal.PilotB {
		t.Fatalf("state %v, want B", r.p.State())
	}
}

func TestDiodeFault(t *testing.T) {
	r := newRig(t, pilot.Options{})
	if err := r.p.Offer(16 * physic.Ampere); err != nil {
		t.Fatal(err)
	}
	r.high.Set(6 * physic.Volt)
	r.samples(t, 5)
	// The diode shorts: the low side follows the high side up.
	r.low.Set(-2 * physic.Volt)
	r.samples(t, 3)
	r.low.Set(-12 * physic.Volt)
	r.samples(t, 3)
	var kinds []hal.EventKind
	var at []time.Duration
	for _, e := range r.rec.events() {
		kinds, at = append(kinds, e.ev.Kind), append(at, e.at)
	}
	wantKinds := []hal.EventKind{hal.PilotChanged, hal.DiodeFault, hal.FaultCleared}
	wantAt := []time.Duration{ms(3), ms(8), ms(11)}
	if !slices.Equal(kinds, wantKinds) || !slices.Equal(at, wantAt) {
		t.Fatalf("events %v at %v, want %v at %v", kinds, at, wantKinds, wantAt)
	}
	if ev := r.rec.events()[2].ev; ev.Cleared != hal.DiodeFault {
		t.Fatalf("FaultCleared clears %v, want DiodeFault", ev.Cleared)
	}
	if opens := r.con.opens(); len(opens) != 1 || opens[0] != ms(8) {
		t.Fatalf("contactor opens %v, want one at the diode fault", opens)
	}
}

func TestNoDiodeCheckWithoutPWM(t *testing.T) {
	r := newRig(t, pilot.Options{})
	r.high.Set(9 * physic.Volt) // B, no PWM: the low side reads +9 V
	r.low.Set(9 * physic.Volt)
	r.samples(t, 10)
	for _, e := range r.rec.events() {
		if e.ev.Kind == hal.DiodeFault {
			t.Fatalf("diode fault %+v without PWM", e)
		}
	}
	if r.low.Reads() != 0 {
		t.Fatalf("low side read %d times without PWM", r.low.Reads())
	}
}

func TestADCFailureOpensAndReportsUnknown(t *testing.T) {
	r := newRig(t, pilot.Options{})
	r.high.Set(6 * physic.Volt)
	r.samples(t, 3)
	r.high.Fail()
	r.samples(t, 3)
	evs := r.rec.events()
	if len(evs) != 2 || evs[1].ev.Pilot != hal.PilotUnknown || evs[1].at != ms(6) {
		t.Fatalf("events %+v, want C then Unknown at %v", evs, ms(6))
	}
	if opens := r.con.opens(); len(opens) != 1 {
		t.Fatalf("contactor opens %v, want one", opens)
	}
}

func TestCableCapsOffer(t *testing.T) {
	cases := []struct {
		name  string
		cable pilot.Cable
		duty  hal.DutyPerMille
		pwm   bool
		err   error
	}{
		{"13 A cable", pilot.Fixed(13 * physic.Ampere), 216, true, nil},
		{"63 A cable leaves the offer", pilot.Fixed(63 * physic.Ampere), 533, true, nil},
		{"no cable offers nothing", pilot.Fixed(0), 0, false, pilot.ErrNoCable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, pilot.Options{Cable: c.cable})
			r.high.Set(9 * physic.Volt)
			r.samples(t, 3)
			err := r.p.Offer(32 * physic.Ampere)
			if !errors.Is(err, c.err) {
				t.Fatalf("Offer: %v, want %v", err, c.err)
			}
			d, running := r.p.Duty()
			if d != c.duty || running != c.pwm {
				t.Fatalf("duty %v running %v, want %v %v", d, running, c.duty, c.pwm)
			}
		})
	}
}

func TestRunTwice(t *testing.T) {
	r := newRig(t, pilot.Options{})
	r.samples(t, 1)
	if err := r.p.Run(context.Background(), func(hal.Event) {}); !errors.Is(err, pilot.ErrRunning) {
		t.Fatalf("second Run: %v, want ErrRunning", err)
	}
}
