package station

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// Meter reads, Sample.Clock and Sample.Periodic that fall due at the same
// instant happen in the order they were armed, as they would on timers of
// their own: the clock-aligned tick (armed at boot), then each session's
// periodic one (armed a period ago, connector 1 first), then the meter
// read (armed a second ago). So the samples carry the reading of the
// second before.
func TestTicksDueTogether(t *testing.T) {
	cfg := DefaultConfig() // periodic 60 s, clock-aligned 15 min
	r := newRig(t, rigOpts{n: 2, cfg: &cfg, inline: true})
	// Every read returns the seconds since t0 of the read before as Wh
	// (the fake meter takes its energy before it calls draw).
	for _, h := range r.hw {
		m := h.meter
		m.mu.Lock()
		m.draw = func() physic.ElectricCurrent {
			m.energy = meter.Energy(r.clk.Now().Sub(t0)/time.Second) * meter.WattHour
			return 0
		}
		m.mu.Unlock()
	}
	for range 30 {
		r.advance(time.Second)
	}
	r.charging(1, "A") // at t0+30 s: periodic ticks at +90 s, +150 s, ...
	r.charging(2, "B")
	for range 430 { // to 10:15:10, past the clock-aligned tick at +450 s
		r.advance(time.Second)
	}

	type sample struct {
		connector int
		ctx       SampleContext
		at        time.Duration // since t0
		energy    meter.Energy
	}
	var got []sample
	for _, s := range r.rep.samplesCopy() {
		if s.Context == ContextPeriodic || s.Context == ContextClock {
			got = append(got, sample{s.Connector, s.Context, s.At.Sub(t0), s.Reading.EnergyImport})
		}
	}
	var want []sample
	for at := 90 * time.Second; at <= 450*time.Second; at += time.Minute {
		read := meter.Energy(at/time.Second-2) * meter.WattHour // the read of the second before
		if at == 450*time.Second {
			want = append(want, sample{1, ContextClock, at, read}, sample{2, ContextClock, at, read})
		}
		want = append(want, sample{1, ContextPeriodic, at, read}, sample{2, ContextPeriodic, at, read})
	}
	if !slices.Equal(got, want) {
		t.Errorf("samples\n got %v\nwant %v", got, want)
	}
}

// jumpClock is a clock whose timers fire only when the test says so, at
// whatever time it has set: it plays a callback that runs late, after a
// suspended process or a clock step.
type jumpClock struct {
	mu  sync.Mutex // guards now and t
	now time.Time
	t   *jumpTimer // the last timer made
}

type jumpTimer struct {
	c     *jumpClock
	fn    func()
	when  time.Time // zero: stopped
	armed int       // how many times it was armed
}

func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *jumpClock) NewTimer(time.Duration) clock.Timer { panic("not used") }

func (c *jumpClock) AfterFunc(d time.Duration, fn func()) clock.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = &jumpTimer{c: c, fn: fn, when: c.now.Add(d), armed: 1}
	return c.t
}

func (c *jumpClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// timer returns the timer, when it is armed for (zero: stopped) and how
// many times it was armed.
func (c *jumpClock) timer() (*jumpTimer, time.Time, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t == nil {
		return nil, time.Time{}, 0
	}
	return c.t, c.t.when, c.t.armed
}

func (t *jumpTimer) C() <-chan time.Time { panic("not used") }

func (t *jumpTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.when.IsZero()
	t.when = time.Time{}
	return was
}

func (t *jumpTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.when.IsZero()
	t.when, t.armed = t.c.now.Add(d), t.armed+1
	return was
}

// A ticker keeps one timer armed for its earliest tick, stops it when no
// tick is left, fires a tick whose callback ran late once rather than once
// per missed period, and carries on from then; a tick stopped or started
// again while its callback posts is not re-armed from the old due time.
func TestTicker(t *testing.T) {
	type step struct {
		name string
		do   func(k *ticker, c *jumpClock)
		// after the step: the timer's deadline (zero: stopped or none),
		// how many inputs the ticker posted so far, and which ticks are
		// stopped.
		when    time.Duration // since t0; -1: stopped
		posted  int
		stopped []int
	}
	fire := func(at time.Duration) func(k *ticker, c *jumpClock) {
		return func(k *ticker, c *jumpClock) {
			c.set(t0.Add(at))
			tm, _, _ := c.timer()
			tm.fn()
		}
	}
	const periodic1 = tickAligned + 1
	tests := []struct {
		name     string
		periodic time.Duration // the sample interval; the meter reads every second
		steps    []step
	}{{
		name:     "late callback",
		periodic: 10 * time.Second,
		steps: []step{
			{name: "meter starts", do: func(k *ticker, c *jumpClock) { k.start(tickMeter, nil) },
				when: time.Second, stopped: []int{tickAligned, periodic1}},
			{name: "fires on time", do: fire(time.Second), when: 2 * time.Second, posted: 1, stopped: []int{tickAligned, periodic1}},
			{name: "fires 10.5 s late", do: fire(12500 * time.Millisecond),
				when: 13500 * time.Millisecond, posted: 2, stopped: []int{tickAligned, periodic1}},
			{name: "periodic starts later than the next read", do: func(k *ticker, c *jumpClock) { k.start(periodic1, &session{}) },
				when: 13500 * time.Millisecond, posted: 2, stopped: []int{tickAligned}},
			{name: "meter stops: armed for the periodic tick", do: func(k *ticker, c *jumpClock) { k.stop(tickMeter) },
				when: 22500 * time.Millisecond, posted: 2, stopped: []int{tickMeter, tickAligned}},
			{name: "periodic fires", do: fire(22500 * time.Millisecond),
				when: 32500 * time.Millisecond, posted: 3, stopped: []int{tickMeter, tickAligned}},
			{name: "last tick stops: timer stopped", do: func(k *ticker, c *jumpClock) { k.stop(periodic1) },
				when: -1, posted: 3, stopped: []int{tickMeter, tickAligned, periodic1}},
		},
	}, {
		name: "sample interval 0: born stopped",
		steps: []step{
			{name: "periodic does not start", do: func(k *ticker, c *jumpClock) { k.start(periodic1, &session{}) },
				when: -1, stopped: []int{tickMeter, tickAligned, periodic1}},
		},
	}, {
		name:     "closed",
		periodic: 10 * time.Second,
		steps: []step{
			{name: "both start", do: func(k *ticker, c *jumpClock) { k.start(tickMeter, nil); k.start(periodic1, &session{}) },
				when: time.Second, stopped: []int{tickAligned}},
			{name: "close", do: func(k *ticker, c *jumpClock) { k.close() },
				when: -1, stopped: []int{tickMeter, tickAligned, periodic1}},
			{name: "a callback after close fires nothing", do: fire(time.Second),
				when: -1, stopped: []int{tickMeter, tickAligned, periodic1}},
			{name: "nor does a start", do: func(k *ticker, c *jumpClock) { k.start(tickMeter, nil) },
				when: -1, stopped: []int{tickMeter, tickAligned, periodic1}},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &jumpClock{now: t0}
			st, err := New(Options{
				Connectors: []ConnectorConfig{{Hardware: hal.Connector{ID: 1, Pilot: &fakePilot{id: 1}, Contactor: &fakeContactor{id: 1}, MaxCurrent: 16 * physic.Ampere}}},
				Clock:      c, InboxSize: 64,
			})
			if err != nil {
				t.Fatal(err)
			}
			// Not launched: what the ticker posts waits in the inbox.
			st.intervals.periodic.Store(int64(tc.periodic))
			k := newTicker(st, time.Second, 1)
			for _, s := range tc.steps {
				s.do(k, c)
				_, when, _ := c.timer()
				got := when.Sub(t0)
				if when.IsZero() {
					got = -1
				}
				if got != s.when {
					t.Errorf("%s: timer armed for +%v, want +%v", s.name, got, s.when)
				}
				if n := len(st.inbox); n != s.posted {
					t.Errorf("%s: %d inputs posted, want %d", s.name, n, s.posted)
				}
				var stopped []int
				for i := range k.ticks {
					if k.stopped(i) {
						stopped = append(stopped, i)
					}
				}
				if !slices.Equal(stopped, s.stopped) {
					t.Errorf("%s: stopped ticks %v, want %v", s.name, stopped, s.stopped)
				}
			}
		})
	}
}

// A tick the loop starts again while its callback is posting keeps its
// new due time; the callback does not re-arm it from the old one.
func TestTickerRestartWhileFiring(t *testing.T) {
	c := &jumpClock{now: t0}
	st, err := New(Options{
		Connectors: []ConnectorConfig{{Hardware: hal.Connector{ID: 1, Pilot: &fakePilot{id: 1}, Contactor: &fakeContactor{id: 1}, MaxCurrent: 16 * physic.Ampere}}},
		Clock:      c, InboxSize: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	st.intervals.periodic.Store(int64(10 * time.Second))
	k := newTicker(st, time.Second, 1)
	const periodic1 = tickAligned + 1
	k.start(periodic1, &session{})
	st.inbox <- func(*loop) {} // full: the callback's post waits
	c.set(t0.Add(10 * time.Second))
	tm, _, _ := c.timer()
	fired := make(chan struct{})
	go func() {
		defer close(fired)
		tm.fn()
	}()
	// Wait until the callback is posting, then start the tick again at
	// +15 s, as a SetConfig would.
	for {
		k.mu.Lock()
		firing := k.firing
		k.mu.Unlock()
		if firing {
			break
		}
		time.Sleep(time.Millisecond)
	}
	c.set(t0.Add(15 * time.Second))
	k.start(periodic1, &session{})
	<-st.inbox // let the post go through
	<-fired
	_, when, _ := c.timer()
	if want := t0.Add(25 * time.Second); !when.Equal(want) {
		t.Errorf("timer armed for %v, want %v (the restart's)", when.Sub(t0), want.Sub(t0))
	}
	if n := len(st.inbox); n != 1 {
		t.Errorf("%d inputs posted after the first, want 1", n)
	}
}

var _ clock.Clock = (*jumpClock)(nil)
