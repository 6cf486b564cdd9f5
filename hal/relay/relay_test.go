package relay_test

// These tests drive the parts through periph's gpiotest.Pin (this machine
// has no GPIO chip), in virtual time on a clock.Fake.

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/pilot/pilottest"
	"github.com/evsed/evsed/hal/relay"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// pilotState is a settable pilot view.
type pilotState struct {
	mu sync.Mutex
	s  hal.PilotState
}

func (p *pilotState) State() hal.PilotState { p.mu.Lock(); defer p.mu.Unlock(); return p.s }
func (p *pilotState) set(s hal.PilotState)  { p.mu.Lock(); p.s = s; p.mu.Unlock() }

func pin(name string, l gpio.Level) *gpiotest.Pin { return &gpiotest.Pin{N: name, L: l} }

func kinds(evs []hal.Event) []hal.EventKind {
	var out []hal.EventKind
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func TestContactorInterlock(t *testing.T) {
	cases := []struct {
		state  hal.PilotState
		closes bool
	}{
		{hal.PilotUnknown, false}, {hal.PilotA, false}, {hal.PilotB, false}, {hal.PilotC, true},
		{hal.PilotD, true}, {hal.PilotE, false}, {hal.PilotF, false},
	}
	for _, c := range cases {
		t.Run(c.state.String(), func(t *testing.T) {
			out := pin("GPIO17", gpio.Low)
			ps := &pilotState{s: c.state}
			k, err := relay.NewContactor(relay.ContactorOptions{Connector: 1, Out: out, Active: gpio.Low, Pilot: ps})
			if err != nil {
				t.Fatal(err)
			}
			if out.Read() != gpio.High {
				t.Fatal("active-low contactor not driven open (High) by New")
			}
			err = k.Close()
			if c.closes != (err == nil) || (!c.closes && !errors.Is(err, hal.ErrInterlock)) {
				t.Fatalf("Close in %v: %v", c.state, err)
			}
			want := gpio.High
			if c.closes {
				want = gpio.Low
			}
			if out.Read() != want || k.Closed() != c.closes {
				t.Fatalf("pin %v closed %v, want %v %v", out.Read(), k.Closed(), want, c.closes)
			}
			if err := k.Halt(); err != nil || out.Read() != gpio.High || k.Closed() {
				t.Fatalf("after Halt: pin %v closed %v err %v", out.Read(), k.Closed(), err)
			}
		})
	}
}

func TestContactorFeedback(t *testing.T) {
	clk := clock.NewFake(t0)
	out, fb := pin("GPIO17", gpio.Low), pin("GPIO27", gpio.Low)
	ps := &pilotState{s: hal.PilotC}
	k, err := relay.NewContactor(relay.ContactorOptions{
		Connector: 2, Out: out, Active: gpio.High, Feedback: fb, FeedbackActive: gpio.High,
		Settle: 50 * time.Millisecond, Clock: clk,
		Pilot: ps})
	if err != nil {
		t.Fatal(err)
	}
	setFB := func(l gpio.Level) { fb.Lock(); fb.L = l; fb.Unlock() }
	steps := []struct {
		name string
		do   func()
		adv  time.Duration
		want []hal.EventKind
	}{
		{"open and agreeing", nil, time.Second, nil},
		{"closed, feedback lags within settle", func() { _ = k.Close() }, 40 * time.Millisecond, nil},
		{"closed, feedback never came", nil, 10 * time.Millisecond, []hal.EventKind{hal.ContactorFailed}},
		{"reported once", nil, 10 * time.Millisecond, nil},
		{"feedback arrives", func() { setFB(gpio.High) }, 0, []hal.EventKind{hal.FaultCleared}},
		{"opened, contact still closed within settle", func() { _ = k.Open() }, 49 * time.Millisecond, nil},
		{"welded", nil, time.Millisecond, []hal.EventKind{hal.ContactorWelded}},
	}
	for _, s := range steps {
		if s.do != nil {
			s.do()
		}
		clk.Advance(s.adv)
		if got := kinds(k.Poll()); !slices.Equal(got, s.want) {
			t.Fatalf("%s: events %v, want %v", s.name, got, s.want)
		}
	}
	ps.set(hal.PilotC)
	if err := k.Close(); !errors.Is(err, hal.ErrInterlock) {
		t.Fatalf("Close while welded: %v, want ErrInterlock", err)
	}
	if out.Read() != gpio.Low {
		t.Fatal("coil energized while welded")
	}
}

func TestWatchReportsInVirtualTime(t *testing.T) {
	clk := clock.NewFake(t0)
	fault := pin("GPIO22", gpio.High) // active low: High is healthy
	k, _ := relay.NewContactor(relay.ContactorOptions{Connector: 1, Out: pin("GPIO17", gpio.Low), Active: gpio.High, Pilot: &pilotState{s: hal.PilotC}, Clock: clk})
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := relay.NewRCD(relay.RCDOptions{Connector: 1, Fault: fault, FaultActive: gpio.Low, Interlock: k, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []hal.Event
	var at []time.Duration
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- relay.Watch(ctx, clk, 10*time.Millisecond, func(e hal.Event) {
			mu.Lock()
			got, at = append(got, e), append(at, clk.Now().Sub(t0))
			mu.Unlock()
		}, r)
	}()
	pilottest.Step(t, clk, 1, 3, 10*time.Millisecond)
	fault.Lock()
	fault.L = gpio.Low // trip between polls
	fault.Unlock()
	clk.Advance(5 * time.Millisecond)
	pilottest.Step(t, clk, 1, 1, 5*time.Millisecond)
	if k.Closed() {
		t.Fatal("RCD trip left the contactor closed")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(kinds(got), []hal.EventKind{hal.RCDTripped}) || at[0] != 40*time.Millisecond {
		t.Fatalf("events %v at %v, want RCDTripped at 40ms", kinds(got), at)
	}
	if !r.Tripped() {
		t.Fatal("Tripped() false while the fault input is active")
	}
}

// rcdModule is a test output wired, as on an RCD module, to the module's
// fault output: driving it active trips the module when trips is true.
type rcdModule struct {
	*gpiotest.Pin
	fault *gpiotest.Pin
	trips bool // the module reacts to its test input
	stuck bool // the fault output stays after the test
}

func (m *rcdModule) Out(l gpio.Level) error {
	if m.trips {
		m.fault.Lock()
		if l == gpio.High {
			m.fault.L = gpio.Low
		} else if !m.stuck {
			m.fault.L = gpio.High
		}
		m.fault.Unlock()
	}
	return m.Pin.Out(l)
}

func TestRCDSelfTest(t *testing.T) {
	cases := []struct {
		name         string
		trips, stuck bool
		err          error
	}{
		{"trips and clears", true, false, nil},
		{"does not trip", false, false, relay.ErrSelfTest},
		{"does not clear", true, true, relay.ErrSelfTest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			fault := pin("GPIO22", gpio.High)
			test := &rcdModule{Pin: pin("GPIO24", gpio.Low), fault: fault, trips: c.trips, stuck: c.stuck}
			r, err := relay.NewRCD(relay.RCDOptions{Connector: 1, Fault: fault, FaultActive: gpio.Low, Test: test, TestActive: gpio.High, TestTimeout: 20 * time.Millisecond, Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- r.SelfTest(context.Background()) }()
			var res error
			for finished := false; !finished; {
				select {
				case res = <-done:
					finished = true
				default:
					if clk.Pending() > 0 {
						clk.Advance(time.Millisecond)
					}
				}
			}
			if !errors.Is(res, c.err) || (c.err == nil) != (res == nil) {
				t.Fatalf("SelfTest: %v, want %v", res, c.err)
			}
			if test.Read() != gpio.Low {
				t.Fatal("test output left active")
			}
			if evs := r.Poll(); c.err == nil && len(evs) != 0 {
				t.Fatalf("self-test trip reported: %v", evs)
			}
		})
	}
}

func TestLockMotorWithFeedback(t *testing.T) {
	cases := []struct {
		name    string
		engages bool
		err     error
		poll    []hal.EventKind
	}{
		{"engages", true, nil, nil},
		{"jammed", false, relay.ErrLockFailed, []hal.EventKind{hal.LockFailed}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			lp, up, fb := pin("GPIO5", gpio.High), pin("GPIO6", gpio.High), pin("GPIO13", gpio.Low)
			l, err := relay.NewLock(relay.LockOptions{Connector: 1, LockPin: lp, UnlockPin: up, Active: gpio.High, Pulse: 200 * time.Millisecond, Feedback: fb, FeedbackActive: gpio.High, Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			if lp.Read() != gpio.Low || up.Read() != gpio.Low {
				t.Fatal("New left the motor running")
			}
			done := make(chan error, 1)
			go func() { done <- l.Lock() }()
			pilottest.WaitTimers(t, clk, 1)
			if lp.Read() != gpio.High || up.Read() != gpio.Low {
				t.Fatalf("during the pulse: lock %v unlock %v, want High Low", lp.Read(), up.Read())
			}
			if c.engages {
				fb.Lock()
				fb.L = gpio.High
				fb.Unlock()
			}
			clk.Advance(200 * time.Millisecond)
			if err := <-done; !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
				t.Fatalf("Lock: %v, want %v", err, c.err)
			}
			if lp.Read() != gpio.Low {
				t.Fatal("motor still driven after the pulse")
			}
			if l.Locked() != c.engages {
				t.Fatalf("Locked() = %v, want %v", l.Locked(), c.engages)
			}
			if got := kinds(l.Poll()); !slices.Equal(got, c.poll) {
				t.Fatalf("Poll: %v, want %v", got, c.poll)
			}
		})
	}
}

func TestLockActuatorWithoutFeedback(t *testing.T) {
	clk := clock.NewFake(t0)
	act := pin("GPIO16", gpio.Low)
	l, err := relay.NewLock(relay.LockOptions{Connector: 1, Actuator: act, Active: gpio.Low, Pulse: 10 * time.Millisecond, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if act.Read() != gpio.High {
		t.Fatal("active-low actuator held by New")
	}
	done := make(chan error, 1)
	go func() { done <- l.Lock() }()
	pilottest.WaitTimers(t, clk, 1)
	clk.Advance(10 * time.Millisecond)
	if err := <-done; err != nil || !l.Locked() || act.Read() != gpio.Low {
		t.Fatalf("Lock: %v, locked %v pin %v", err, l.Locked(), act.Read())
	}
	if err := l.Halt(); err != nil || act.Read() != gpio.Low {
		t.Fatal("Halt released the lock")
	}
	if _, err := relay.NewLock(relay.LockOptions{LockPin: act}); err == nil {
		t.Fatal("a lock with one motor pin was accepted")
	}
}

func TestIndicator(t *testing.T) {
	ready, busy, fault := pin("GPIO20", gpio.High), pin("GPIO21", gpio.High), pin("GPIO26", gpio.High)
	in, err := relay.NewIndicator(relay.IndicatorOptions{Connector: 1, Ready: ready, Busy: busy, Fault: fault, Active: gpio.High})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		show hal.Indication
		want [3]gpio.Level
	}{
		{hal.ShowOff, [3]gpio.Level{gpio.Low, gpio.Low, gpio.Low}},
		{hal.ShowAvailable, [3]gpio.Level{gpio.High, gpio.Low, gpio.Low}},
		{hal.ShowOccupied, [3]gpio.Level{gpio.Low, gpio.High, gpio.Low}},
		{hal.ShowCharging, [3]gpio.Level{gpio.High, gpio.High, gpio.Low}},
		{hal.ShowFault, [3]gpio.Level{gpio.Low, gpio.Low, gpio.High}},
	}
	for _, c := range cases {
		if err := in.Show(c.show); err != nil {
			t.Fatal(err)
		}
		if got := [3]gpio.Level{ready.Read(), busy.Read(), fault.Read()}; got != c.want {
			t.Errorf("Show(%d): LEDs %v, want %v", c.show, got, c.want)
		}
	}
	if err := in.Halt(); err != nil || fault.Read() != gpio.Low {
		t.Fatal("Halt left an LED on")
	}
}

// TestInput: the limit input takes its level at start without an event,
// reports a debounced change once, and ignores a bounce shorter than the
// debounce.
func TestInput(t *testing.T) {
	p := pin("GPIO5", gpio.High) // active low: released
	in, err := relay.NewInput(relay.InputOptions{Name: "limit input", Pin: p, Active: gpio.Low, Debounce: 3})
	if err != nil {
		t.Fatal(err)
	}
	if in.Active() {
		t.Fatal("active at start with the pin released")
	}
	poll := func(n int) []hal.Event {
		var evs []hal.Event
		for range n {
			evs = append(evs, in.Poll()...)
		}
		return evs
	}
	setLevel := func(l gpio.Level) { p.Lock(); p.L = l; p.Unlock() }
	setLevel(gpio.Low)
	if evs := poll(2); len(evs) != 0 {
		t.Fatalf("after 2 polls of 3: %v, want none yet", evs)
	}
	setLevel(gpio.High) // a bounce
	if evs := poll(3); len(evs) != 0 || in.Active() {
		t.Fatalf("bounce: %v, active %v; want nothing", evs, in.Active())
	}
	setLevel(gpio.Low)
	evs := poll(5)
	if len(evs) != 1 || evs[0].Kind != hal.InputChanged || !evs[0].Active || evs[0].Connector != 0 || !in.Active() {
		t.Fatalf("asserted: %+v, active %v; want one InputChanged(true) for connector 0", evs, in.Active())
	}
	setLevel(gpio.High)
	if evs := poll(3); len(evs) != 1 || evs[0].Active || in.Active() {
		t.Fatalf("released: %+v, active %v; want one InputChanged(false)", evs, in.Active())
	}
	if _, err := relay.NewInput(relay.InputOptions{}); err == nil {
		t.Error("NewInput without a pin: no error")
	}
}

// closedFlag is a contactor's Closed for the phase switch's interlock.
type closedFlag struct {
	mu     sync.Mutex
	closed bool
}

func (c *closedFlag) Closed() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.closed }

// TestPhaseSwitch: the relay starts on three phases, switches to one with
// the contactor open, and refuses under a closed contactor.
func TestPhaseSwitch(t *testing.T) {
	out := pin("GPIO6", gpio.High)
	k := &closedFlag{}
	s, err := relay.NewPhaseSwitch(relay.PhaseSwitchOptions{Connector: 1, Out: out, Active: gpio.High, Contactor: k})
	if err != nil {
		t.Fatal(err)
	}
	if s.Phases() != 3 || out.Read() != gpio.Low {
		t.Fatalf("at start: %d phases, out %v; want 3, low", s.Phases(), out.Read())
	}
	if err := s.SetPhases(1); err != nil || s.Phases() != 1 || out.Read() != gpio.High {
		t.Fatalf("to one phase: %v, %d phases, out %v", err, s.Phases(), out.Read())
	}
	k.mu.Lock()
	k.closed = true
	k.mu.Unlock()
	if err := s.SetPhases(3); !errors.Is(err, hal.ErrInterlock) || s.Phases() != 1 || out.Read() != gpio.High {
		t.Fatalf("under load: %v, %d phases; want ErrInterlock, unchanged", err, s.Phases())
	}
}
