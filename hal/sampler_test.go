package hal_test

// The Sampler tests run in virtual time on a clock.Fake with a sample
// function standing in for a driver's reads; no hardware is involved (the
// drivers themselves are tested against periph's gpiotest, i2ctest and
// spitest fakes and the project's fakes, there being no GPIO chip, ADC or
// SPI device on the test machines). A sample that "takes time" advances
// the fake clock itself, as a blocking ADC conversion would let the wall
// clock run.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/pilot/pilottest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// op is one step of a Debouncer script: Sample(v), Break() or Set(v).
type op struct {
	do      string // "sample", "break" or "set"
	v       int
	changed bool // what Sample or Set must report
	value   int  // Value() after the step
}

func sample(v int, changed bool, value int) op { return op{"sample", v, changed, value} }
func set(v int, changed bool, value int) op    { return op{"set", v, changed, value} }
func brk(value int) op                         { return op{"break", 0, false, value} }

func TestDebouncer(t *testing.T) {
	cases := []struct {
		name    string
		initial int
		n       int
		script  []op
	}{
		{"the n-th equal sample changes the value", 0, 3, []op{
			sample(1, false, 0), sample(1, false, 0), sample(1, true, 1), sample(1, false, 1),
		}},
		{"another value restarts the run", 0, 3, []op{
			sample(1, false, 0), sample(1, false, 0), sample(2, false, 0), sample(1, false, 0),
			sample(1, false, 0), sample(1, true, 1),
		}},
		{"a sample of the value breaks a run towards another", 0, 3, []op{
			sample(1, false, 0), sample(1, false, 0), sample(0, false, 0),
			sample(1, false, 0), sample(1, false, 0), sample(1, true, 1),
		}},
		{"Break restarts the run and keeps the value", 5, 2, []op{
			sample(1, false, 5), brk(5), sample(1, false, 5), sample(1, true, 1), brk(1),
		}},
		{"Set takes a value at once and ends the run", 0, 3, []op{
			sample(2, false, 0), sample(2, false, 0), set(1, true, 1),
			sample(2, false, 1), sample(2, false, 1), sample(2, true, 2),
		}},
		{"Set of the value reports no change", 4, 3, []op{
			set(4, false, 4), sample(7, false, 4), set(4, false, 4), sample(7, false, 4), sample(7, false, 4),
		}},
		{"one direction Set, the other debounced (the pilot's interlock)", 1, 3, []op{
			sample(0, false, 1), sample(0, false, 1), sample(0, true, 0), sample(0, false, 0),
			set(1, true, 1), sample(0, false, 1), sample(0, false, 1), sample(0, true, 0),
		}},
		{"n 1 reports every change once", 0, 1, []op{
			sample(1, true, 1), sample(1, false, 1), sample(2, true, 2), sample(0, true, 0),
		}},
		{"n below 1 counts as 1", 0, -2, []op{
			sample(3, true, 3), sample(3, false, 3),
		}},
		{"a long run settles once and breaks like a short one", 0, 2, slices.Concat(
			[]op{sample(1, false, 0), sample(1, true, 1)},
			slices.Repeat([]op{sample(1, false, 1)}, 1000),
			[]op{sample(2, false, 1), sample(1, false, 1), sample(2, false, 1), sample(2, true, 2)},
		)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := hal.NewDebouncer(c.initial, c.n)
			if d.Value() != c.initial {
				t.Fatalf("initial Value() = %d, want %d", d.Value(), c.initial)
			}
			for i, s := range c.script {
				var changed bool
				switch s.do {
				case "sample":
					changed = d.Sample(s.v)
				case "set":
					changed = d.Set(s.v)
				case "break":
					d.Break()
				}
				if changed != s.changed || d.Value() != s.value {
					t.Fatalf("step %d (%s %d): changed %v, value %d; want %v, %d", i, s.do, s.v, changed, d.Value(), s.changed, s.value)
				}
			}
		})
	}
}

func TestDebouncerZeroValue(t *testing.T) {
	var d hal.Debouncer[string]
	if d.Value() != "" || !d.Sample("x") || d.Value() != "x" || d.Sample("x") {
		t.Fatalf("zero Debouncer: value %q; want it to take every sample at once", d.Value())
	}
}

// ExampleDebouncer settles a contact that bounces: three equal reads in a
// row make a new level.
func ExampleDebouncer() {
	d := hal.NewDebouncer(false, 3)
	for _, closed := range []bool{true, false, true, true, true, true, false} {
		if d.Sample(closed) {
			fmt.Println("contact closed:", d.Value())
		}
	}
	// Output: contact closed: true
}

// sampled records what a Sampler did: when each sample started, and the
// events the sink received.
type sampled struct {
	clk      *clock.Fake
	mu       sync.Mutex // guards the fields below
	at       []time.Duration
	events   []int // Event.Connector of each delivered event, a sequence number
	inFlight atomic.Int32
	overlap  atomic.Bool // sample or sink ran while the other (or itself) did
}

func (s *sampled) enter() {
	if s.inFlight.Add(1) != 1 {
		s.overlap.Store(true)
	}
}

func (s *sampled) leave() { s.inFlight.Add(-1) }

// sample returns a sample function that records its start, runs cost on
// the clock (a slow read) and returns two numbered events.
func (s *sampled) sample(cost func(n int) time.Duration) func(context.Context) []hal.Event {
	n := 0
	return func(context.Context) []hal.Event {
		s.enter()
		defer s.leave()
		n++
		s.mu.Lock()
		s.at = append(s.at, s.clk.Now().Sub(t0))
		s.mu.Unlock()
		if d := cost(n); d > 0 {
			s.clk.Advance(d)
		}
		return []hal.Event{{Connector: 2*n - 1}, {Connector: 2 * n}}
	}
}

func (s *sampled) sink(e hal.Event) {
	s.enter()
	defer s.leave()
	s.mu.Lock()
	s.events = append(s.events, e.Connector)
	s.mu.Unlock()
}

func (s *sampled) times() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.at)
}

// start runs sp in a goroutine until the test ends or the returned stop is
// called; stop returns Run's error.
func start(t *testing.T, sp hal.Sampler, s *sampled, f func(context.Context) []hal.Event) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sp.Run(ctx, s.sink, f) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestSamplerCadence(t *testing.T) {
	none := func(int) time.Duration { return 0 }
	cases := []struct {
		name string
		rest bool
		cost func(n int) time.Duration // how long sample n takes
		step []time.Duration           // each Advance, once the timer is armed
		want []time.Duration           // when the samples started
	}{
		{"every period", false, none,
			[]time.Duration{ms(10), ms(10), ms(10)}, []time.Duration{ms(10), ms(20), ms(30)}},
		{"fixed rate: a read's time counts against the period", false, func(int) time.Duration { return ms(3) },
			[]time.Duration{ms(10), ms(7), ms(7)}, []time.Duration{ms(10), ms(20), ms(30)}},
		{"fixed rate: a sample slower than the period is followed at once", false,
			func(n int) time.Duration {
				if n == 1 {
					return ms(15)
				}
				return 0
			},
			[]time.Duration{ms(10), 0, ms(10)}, []time.Duration{ms(10), ms(25), ms(35)}},
		{"rest: a full period after each sample", true, func(int) time.Duration { return ms(3) },
			[]time.Duration{ms(10), ms(10), ms(10)}, []time.Duration{ms(10), ms(23), ms(36)}},
		{"rest without cost is every period", true, none,
			[]time.Duration{ms(10), ms(10)}, []time.Duration{ms(10), ms(20)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			s := &sampled{clk: clk}
			stop := start(t, hal.Sampler{Period: ms(10), Rest: c.rest, Clock: clk}, s, s.sample(c.cost))
			for _, d := range c.step {
				pilottest.WaitTimers(t, clk, 1) // one timer, armed between samples
				clk.Advance(d)
			}
			pilottest.WaitTimers(t, clk, 1)
			if got := s.times(); !slices.Equal(got, c.want) {
				t.Fatalf("samples at %v, want %v", got, c.want)
			}
			if err := stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			var want []int
			for i := range 2 * len(c.want) {
				want = append(want, i+1)
			}
			if !slices.Equal(s.events, want) {
				t.Fatalf("sink got %v, want %v: every event, in order", s.events, want)
			}
			if s.overlap.Load() {
				t.Fatal("sample and sink ran concurrently")
			}
		})
	}
}

func TestSamplerStops(t *testing.T) {
	clk := clock.NewFake(t0)
	s := &sampled{clk: clk}
	stop := start(t, hal.Sampler{Period: ms(10), Clock: clk}, s, s.sample(func(int) time.Duration { return 0 }))
	pilottest.Step(t, clk, 1, 2, ms(10))
	if err := stop(); err != nil {
		t.Fatalf("Run after ctx ended: %v, want nil", err)
	}
	if n := clk.Pending(); n != 0 {
		t.Fatalf("%d timers pending after Run returned, want 0", n)
	}
	clk.Advance(time.Second)
	if got := s.times(); len(got) != 2 {
		t.Fatalf("samples at %v, want 2 and none after Run returned", got)
	}
}

func TestSamplerEndedContext(t *testing.T) {
	clk := clock.NewFake(t0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	err := hal.Sampler{Period: ms(10), Clock: clk}.Run(ctx, func(hal.Event) {}, func(context.Context) []hal.Event {
		calls++
		return nil
	})
	if err != nil || calls != 0 || clk.Pending() != 0 {
		t.Fatalf("Run with an ended ctx: err %v, %d samples, %d timers; want nil, 0, 0", err, calls, clk.Pending())
	}
}

// A sample in progress when ctx ends is finished, its events delivered, and
// it had ctx to give up on.
func TestSamplerFinishesTheSampleInProgress(t *testing.T) {
	clk := clock.NewFake(t0)
	var got []hal.Event
	entered, release := make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- hal.Sampler{Period: ms(10), Clock: clk}.Run(ctx, func(e hal.Event) { got = append(got, e) },
			func(ctx context.Context) []hal.Event {
				close(entered)
				<-release
				return []hal.Event{{Kind: hal.RCDTripped, Detail: fmt.Sprint("ctx: ", ctx.Err())}}
			})
	}()
	pilottest.WaitTimers(t, clk, 1)
	clk.Advance(ms(10))
	<-entered
	cancel()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []hal.Event{{Kind: hal.RCDTripped, Detail: "ctx: context canceled"}}
	if !slices.Equal(got, want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
}

func TestSamplerRefusesBadArguments(t *testing.T) {
	f := func(context.Context) []hal.Event { return nil }
	cases := []struct {
		name   string
		period time.Duration
		sink   hal.Sink
		sample func(context.Context) []hal.Event
	}{
		{"zero period", 0, func(hal.Event) {}, f},
		{"negative period", -ms(1), func(hal.Event) {}, f},
		{"nil sink", ms(1), nil, f},
		{"nil sample", ms(1), func(hal.Event) {}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			err := hal.Sampler{Period: c.period, Clock: clk}.Run(context.Background(), c.sink, c.sample)
			if err == nil || clk.Pending() != 0 {
				t.Fatalf("Run: err %v, %d timers; want an error and no timer", err, clk.Pending())
			}
		})
	}
}
