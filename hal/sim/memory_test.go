package sim

import (
	"context"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/haltest"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// The fleet simulator holds thousands of boards: these sizes are its
// budget (bytes on 64-bit): a Board fills the 176 B allocation class, two
// connectors (one allocation) the 176 B class too. Growing one moves every
// board into the next class.
func TestStructSizes(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are budgeted for 64-bit platforms")
	}
	cases := []struct {
		name     string
		got, max uintptr
	}{
		{"Board", unsafe.Sizeof(Board{}), 176},
		{"conn", unsafe.Sizeof(conn{}), 88},
	}
	for _, c := range cases {
		if c.got > c.max {
			t.Errorf("%s is %d B, budget %d B", c.name, c.got, c.max)
		}
	}
}

// The display keeps every field of what it shows, with texts or with flags
// alone, and forgets texts that a later screen does not have.
func TestDisplayScreens(t *testing.T) {
	b, err := New(Options{Connectors: 1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	d := b.Connectors()[0].Display
	steps := []struct {
		name string
		show hal.Screen
	}{
		{"all fields", hal.Screen{Connector: 1, Language: "de", PriceText: "0,30 EUR/kWh", Cost: "EUR 3.31",
			Final: true, Estimated: true, QRCode: "https://pay.example/r/2", Offline: true}},
		{"offline only", hal.Screen{Connector: 1, Offline: true}},
		{"one text", hal.Screen{Connector: 1, Cost: "EUR 0.10", Estimated: true}},
		{"another text", hal.Screen{Connector: 1, Language: "en", Final: true}},
		{"nothing set", hal.Screen{Connector: 1}},
	}
	for _, s := range steps {
		if err := d.Show(s.show); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got, ok := b.Screen(1); !ok || got != s.show {
			t.Errorf("%s: Screen(1) = %+v, %v; want %+v", s.name, got, ok, s.show)
		}
	}
	if c := &b.conns[0]; c.screen != nil {
		t.Errorf("texts %+v kept for a screen without any", *c.screen)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Screen(1); got != (hal.Screen{}) {
		t.Errorf("after Halt: %+v, want blank", got)
	}
}

// A connector arms no timer (and allocates none) unless the 6 s rule or a
// battery capacity needs one; once the 6 s rule armed one, it still works.
func TestTimersOnlyWhenNeeded(t *testing.T) {
	r := newRig(t, Options{})
	r.doAll("plug", "charge", "offer16", "close", "wait:1h", "open", "unplug")
	if tm := r.b.conns[0].timers; tm != nil {
		t.Fatalf("timers %+v allocated for a session without capacity or PWM stop", *tm)
	}
	r.doAll("plug", "charge", "offer16", "close", "offer0")
	if tm := r.b.conns[0].timers; tm == nil || tm.force == nil {
		t.Fatal("PWM stopped under a closed contactor in C: no 6 s timer")
	}
	r.doAll("wait:6s")
	if r.state(1).Closed {
		t.Fatal("contactor still closed 6 s after the PWM stopped")
	}
}

// recorder is a slog.Handler that keeps the records it is given, with the
// attributes of WithAttrs.
type recorder struct {
	mu      *sync.Mutex
	records *[]recorded
	attrs   []slog.Attr
}

type recorded struct {
	msg   string
	attrs map[string]string
	file  string
}

func (h recorder) Enabled(context.Context, slog.Level) bool { return true }

func (h recorder) Handle(_ context.Context, r slog.Record) error {
	rec := recorded{msg: r.Message, attrs: map[string]string{}}
	for _, a := range h.attrs {
		rec.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	if r.PC != 0 {
		f, _ := runtime.CallersFrames([]uintptr{r.PC}).Next()
		rec.file = filepath.Base(f.File)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.records = append(*h.records, rec)
	return nil
}

func (h recorder) WithAttrs(as []slog.Attr) slog.Handler {
	return recorder{mu: h.mu, records: h.records, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h recorder) WithGroup(string) slog.Handler { return h }

// The board's records carry its name and the source of the call that
// logged, as a logger made with With would, though the board keeps none.
func TestLogsNameTheBoard(t *testing.T) {
	var recs []recorded
	h := recorder{mu: new(sync.Mutex), records: &recs}
	clk := clock.NewFake(t0)
	b, err := New(Options{Name: "bay", Clock: clk, Logger: slog.New(h)})
	if err != nil {
		t.Fatal(err)
	}
	c := b.Connectors()[0]
	steps := []func() error{
		func() error { return b.Plug(1) },
		func() error { return b.Charge(1) },
		func() error { return c.Pilot.Offer(16 * physic.Ampere) },
		func() error { return c.Contactor.Close() },
		func() error { return c.Pilot.Offer(0) },
	}
	for _, f := range steps {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(ForceOpenDelay)
	want := []recorded{
		{msg: "EV plugged in", attrs: map[string]string{"board": "bay", "connector": "1"}, file: "ev.go"},
		{msg: "EV asks for energy", attrs: map[string]string{"board": "bay", "connector": "1"}, file: "ev.go"},
		{msg: "PWM stopped while the EV stays in C: contactor forced open",
			attrs: map[string]string{"board": "bay", "connector": "1", "after": "6s"}, file: "model.go"},
		{msg: "contactor opened", attrs: map[string]string{"board": "bay", "connector": "1", "why": "PWM stopped for 6 s in C"}, file: "model.go"},
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(recs) != len(want) {
		t.Fatalf("records %+v, want %+v", recs, want)
	}
	for i, w := range want {
		g := recs[i]
		if g.msg != w.msg || g.file != w.file || len(g.attrs) != len(w.attrs) {
			t.Errorf("record %d = %+v, want %+v", i, g, w)
			continue
		}
		for k, v := range w.attrs {
			if g.attrs[k] != v {
				t.Errorf("record %d %q: %s = %q, want %q", i, w.msg, k, g.attrs[k], v)
			}
		}
	}
}

// A stop is good for its own Start only: called again after a later Start,
// it leaves that one delivering.
func TestStaleStopLeavesLaterStart(t *testing.T) {
	b, err := New(Options{Clock: clock.NewFake(t0), Connectors: 1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	first := haltest.NewEvents()
	stop1, err := b.Start(first.Sink)
	if err != nil {
		t.Fatal(err)
	}
	waitInitial(t, b, first)
	stop1()
	second := haltest.NewEvents()
	stop2, err := b.Start(second.Sink)
	if err != nil {
		t.Fatal(err)
	}
	defer stop2()
	waitInitial(t, b, second)
	stop1()
	if err := b.Swipe(1, "still"); err != nil {
		t.Fatal(err)
	}
	if e := second.Next(t); e.Kind != hal.CardPresented || e.IDTag != "still" {
		t.Fatalf("event %+v, want the card still", e)
	}
	if _, err := b.Start(first.Sink); err != ErrRunning {
		t.Fatalf("Start after a stale stop: err = %v, want ErrRunning", err)
	}
}

// stop, and a second stop called meanwhile, return only once the sink call
// in progress has returned.
func TestStopWaitsForTheSink(t *testing.T) {
	b, err := New(Options{Clock: clock.NewFake(t0), Connectors: 1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	release := make(chan struct{})
	var sinkReturned atomic.Bool
	stop, err := b.Start(func(e hal.Event) {
		if e.Kind != hal.CardPresented {
			return
		}
		close(entered)
		<-release
		sinkReturned.Store(true)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Swipe(1, "slow"); err != nil {
		t.Fatal(err)
	}
	<-entered
	stopped := make(chan bool, 2)
	for range 2 {
		go func() {
			stop()
			stopped <- sinkReturned.Load()
		}()
	}
	select {
	case <-stopped:
		t.Fatal("stop returned while the sink was blocked")
	case <-time.After(20 * time.Millisecond): // a chance for a wrong stop to return
	}
	close(release)
	for range 2 {
		if !<-stopped {
			t.Error("stop returned before the sink did")
		}
	}
}

// The EV's energy (read off the meter) counts from its plug-in, whatever
// the meter's register and earlier sessions, and fills its capacity on
// time.
func TestEVEnergySincePlugIn(t *testing.T) {
	r := newRig(t, Options{MeterStart: 1000 * meter.WattHour, EV: EV{Capacity: meter.KiloWattHour}})
	if e := r.state(1).EVEnergy; e != 0 {
		t.Fatalf("EV energy %v before any plug-in, want 0", e)
	}
	// 11012.4 W for 2 min is 367.08 Wh.
	r.doAll("plug", "charge", "offer16", "close", "wait:2m")
	if e := r.state(1).EVEnergy; e != 367080*meter.MilliWattHour {
		t.Fatalf("EV energy %v after 2 min, want 367.08 Wh", e)
	}
	r.doAll("open", "unplug", "wait:1h")
	if e := r.state(1).EVEnergy; e != 367080*meter.MilliWattHour {
		t.Fatalf("EV energy %v after unplugging, want the session's 367.08 Wh", e)
	}
	r.doAll("plug")
	if e := r.state(1).EVEnergy; e != 0 {
		t.Fatalf("EV energy %v at the second plug-in, want 0", e)
	}
	// 1 kWh at 11012.4 W takes 326.904... s.
	r.doAll("charge", "close", "wait:326s")
	if s := r.state(1); s.Full || s.Pilot != hal.PilotC {
		t.Fatalf("at 326 s: full %v, pilot %v; want not full, C", s.Full, s.Pilot)
	}
	r.doAll("wait:1s")
	s := r.state(1)
	if !s.Full || s.Pilot != hal.PilotB || s.EVEnergy != meter.KiloWattHour {
		t.Fatalf("at 327 s: full %v, pilot %v, EV energy %v; want full, B, 1 kWh", s.Full, s.Pilot, s.EVEnergy)
	}
	if rd, err := r.b.Meter(1).Read(context.Background()); err != nil || rd.EnergyImport != 1000*meter.WattHour+367080*meter.MilliWattHour+meter.KiloWattHour {
		t.Fatalf("meter %v, %v; want 2367.08 Wh", rd.EnergyImport, err)
	}
}
