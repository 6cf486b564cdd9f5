package station

import (
	"context"
	"log/slog"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/sim"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/station/tariff"
)

// fakeDisplay records the screens it was given.
type fakeDisplay struct {
	mu      sync.Mutex // guards screens and halted
	screens []hal.Screen
	halted  bool
}

func (d *fakeDisplay) String() string { return "fake display" }
func (d *fakeDisplay) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.halted = true
	return nil
}
func (d *fakeDisplay) Show(s hal.Screen) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.screens = append(d.screens, s)
	return nil
}
func (d *fakeDisplay) last() hal.Screen {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.screens) == 0 {
		return hal.Screen{}
	}
	return d.screens[len(d.screens)-1]
}

func eur(f float64) tariff.Money { return tariff.FromFloat(f) }

func ptr[T any](v T) *T { return &v }

// The driver sees the price before the session, the station's estimate
// while no back-end cost is known, the back end's cost while online, the
// back end's last cost plus the station's own since while offline, and the
// final cost with its QR code after the session; a new session forgets the
// last driver's costs.
func TestDriverDisplayThroughASession(t *testing.T) {
	disp := &fakeDisplay{}
	r := newRig(t, rigOpts{display: disp})
	simple := tariff.Simple("EUR", eur(0.30), 0, 0, 0, 0)
	if err := r.st.SetTariff(r.ctx(), 0, &simple); err != nil {
		t.Fatal(err)
	}
	if err := r.st.UpdateDisplay(r.ctx(), 0, DisplayUpdate{
		PriceText: ptr("0.30 EUR/kWh"), OfflinePriceText: ptr("0.30 EUR/kWh (offline)"), Language: ptr("en"),
	}); err != nil {
		t.Fatal(err)
	}
	r.settle()
	if d := r.conn(1).Display; d == nil || d.PriceText != "0.30 EUR/kWh" || d.RunningCost != nil || d.Language != "en" {
		t.Fatalf("before the session: %+v", d)
	}
	if got := disp.last(); got.PriceText != "0.30 EUR/kWh" || got.Connector != 1 {
		t.Errorf("display before the session: %+v", got)
	}

	start("TAG", StartOptions{}, nil)(r)
	plug(hal.PilotC)(r)
	energy := func(kWh float64) {
		r.hw[0].meter.set(meter.Energy(kWh*float64(meter.KiloWattHour)), false)
		r.advance(time.Second)
	}
	cost := func(step string, want float64, estimated bool) {
		t.Helper()
		d := r.conn(1).Display
		if d == nil || d.RunningCost == nil {
			t.Fatalf("%s: no running cost: %+v", step, d)
		}
		if rc := d.RunningCost; rc.Amount != eur(want) || rc.Estimated != estimated || rc.Currency != "EUR" {
			t.Errorf("%s: running cost %+v, want %.2f EUR estimated=%v", step, *rc, want, estimated)
		}
	}
	energy(2)
	cost("estimate without a back end", 0.60, true)
	if got := disp.last(); got.Cost != "EUR 0.60" || !got.Estimated || got.Final {
		t.Errorf("display shows %+v, want the estimate EUR 0.60", got)
	}

	if err := r.st.UpdateDisplay(r.ctx(), 1, DisplayUpdate{RunningCost: &DisplayCost{Amount: eur(1), Currency: "EUR"}}); err != nil {
		t.Fatal(err)
	}
	energy(4)
	cost("back end online", 1.00, false)

	if err := r.st.SetOnline(r.ctx(), false); err != nil {
		t.Fatal(err)
	}
	cost("offline: back end's plus the station's since", 1.00+0.60, true)
	if d := r.conn(1).Display; d.PriceText != "0.30 EUR/kWh (offline)" || !d.Offline {
		t.Errorf("offline price text %q offline=%v", d.PriceText, d.Offline)
	}
	energy(5)
	cost("offline, more energy", 1.00+0.90, true)

	if err := r.st.Stop(r.ctx(), 1, ReasonLocal); err != nil {
		t.Fatal(err)
	}
	r.settle()
	d := r.conn(1).Display
	if d.RunningCost != nil || d.FinalCost == nil || d.FinalCost.Amount != eur(1.90) || !d.FinalCost.Estimated {
		t.Fatalf("after the session: %+v final %+v", d, d.FinalCost)
	}
	if err := r.st.SetOnline(r.ctx(), true); err != nil {
		t.Fatal(err)
	}
	if err := r.st.UpdateDisplay(r.ctx(), 1, DisplayUpdate{
		FinalCost: &DisplayCost{Amount: eur(1.85), Currency: "EUR"}, QRCode: ptr("https://receipts.example/1"),
	}); err != nil {
		t.Fatal(err)
	}
	r.settle()
	d = r.conn(1).Display
	if d.FinalCost == nil || d.FinalCost.Amount != eur(1.85) || d.FinalCost.Estimated || d.QRCode != "https://receipts.example/1" {
		t.Errorf("back end's final cost: %+v", d)
	}
	want := hal.Screen{Connector: 1, Language: "en", PriceText: "0.30 EUR/kWh", Cost: "EUR 1.85", Final: true, QRCode: "https://receipts.example/1"}
	if got := disp.last(); got != want {
		t.Errorf("display shows %+v, want %+v", got, want)
	}

	// The next driver starts afresh.
	plug(hal.PilotA)(r)
	start("TAG2", StartOptions{}, nil)(r)
	plug(hal.PilotC)(r)
	d = r.conn(1).Display
	if d.FinalCost != nil || d.QRCode != "" || d.RunningCost == nil || d.RunningCost.Amount != 0 {
		t.Errorf("new session shows the last one's: %+v", d)
	}
}

// A connector's own tariff prices its session and then goes; one that came
// late prices the session from its start.
func TestSetTariffPerConnector(t *testing.T) {
	r := newRig(t, rigOpts{n: 2})
	start("TAG", StartOptions{}, nil)(r)
	plug(hal.PilotC)(r)
	r.hw[0].meter.set(3*meter.KiloWattHour, false)
	r.advance(time.Second)
	if d := r.conn(1).Display; d != nil && d.RunningCost != nil {
		t.Fatalf("a cost without any tariff: %+v", d.RunningCost)
	}
	own := tariff.Simple("USD", eur(0.50), 0, eur(1), 0, 0)
	if err := r.st.SetTariff(r.ctx(), 1, &own); err != nil {
		t.Fatal(err)
	}
	if d := r.conn(1).Display; d == nil || d.RunningCost == nil || d.RunningCost.Amount != eur(2.50) || d.RunningCost.Currency != "USD" {
		t.Fatalf("late tariff: %+v", d)
	}
	if err := r.st.SetTariff(r.ctx(), 3, &own); err != ErrNoConnector {
		t.Errorf("SetTariff(3) = %v, want ErrNoConnector", err)
	}
	bad := tariff.Tariff{Energy: []tariff.Price{{Amount: -1}}}
	if err := r.st.SetTariff(r.ctx(), 1, &bad); err == nil {
		t.Error("a negative price was accepted")
	}
	if err := r.st.Stop(r.ctx(), 1, ReasonLocal); err != nil {
		t.Fatal(err)
	}
	r.settle()
	if d := r.conn(1).Display; d.FinalCost == nil || d.FinalCost.Amount != eur(2.50) {
		t.Errorf("final: %+v", d)
	}
	// The connector's tariff ended with its session: the next one has none.
	plug(hal.PilotA)(r)
	start("TAG", StartOptions{}, nil)(r)
	plug(hal.PilotC)(r)
	if d := r.conn(1).Display; d.RunningCost != nil {
		t.Errorf("next session priced by the last one's tariff: %+v", d.RunningCost)
	}
}

// On the simulated board, the display of each connector keeps what the
// station shows, and it is what the snapshot says.
func TestSimDisplayShowsTheSnapshot(t *testing.T) {
	clk := clock.NewFake(t0)
	quiet := slog.New(slog.DiscardHandler)
	board, err := sim.New(sim.Options{Connectors: 1, Clock: clk, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.FreeCharging = true
	st, err := New(Options{
		ID: "sim", Connectors: []ConnectorConfig{{Hardware: board.Connectors()[0], Meter: board.Meter(1)}},
		Board: board, Config: cfg, Clock: clk, Logger: quiet, InlineMeterReads: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	r := &rig{t: t, st: st, clk: clk}
	simple := tariff.Simple("EUR", eur(0.30), 0, eur(0.50), 0, 0)
	if err := st.SetTariff(r.ctx(), 0, &simple); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateDisplay(r.ctx(), 0, DisplayUpdate{PriceText: ptr("0.30 EUR/kWh + 0.50 EUR")}); err != nil {
		t.Fatal(err)
	}
	if err := board.Plug(1); err != nil {
		t.Fatal(err)
	}
	if err := board.Charge(1); err != nil {
		t.Fatal(err)
	}
	// The board delivers its events on a goroutine of its own: wait for
	// them to arrive (the test binary's timeout guards a hang).
	for r.conn(1).Status != Charging {
		r.settle()
		runtime.Gosched()
	}
	for range 60 {
		r.advance(time.Second)
	}
	cs := r.conn(1)
	if cs.Session == nil || cs.Session.Energy <= 0 || cs.Display == nil || cs.Display.RunningCost == nil {
		t.Fatalf("no priced session: %+v display %+v", cs.Session, cs.Display)
	}
	want := eur(0.50) + tariff.Money(int64(cs.Session.Energy)*int64(eur(0.30))/int64(meter.KiloWattHour))
	if got := cs.Display.RunningCost.Amount; got < want-1 || got > want+1 {
		t.Errorf("running cost %v for %v, want %v", got, cs.Session.Energy, want)
	}
	scr, _ := board.Screen(1)
	if scr.Cost != cs.Display.RunningCost.String() || scr.PriceText != "0.30 EUR/kWh + 0.50 EUR" || !scr.Estimated || scr.Connector != 1 {
		t.Errorf("display shows %+v, snapshot %+v", scr, cs.Display.RunningCost)
	}
}

// A connector whose display was only ever given empty texts, or only went
// offline and back, shows and reports what it did when it kept a pricing
// state for it: the screen with the offline flag, once per change, and an
// empty DriverDisplay in the snapshot once anything was set. It holds no
// pricing state until something is priced or a text is set.
func TestDriverDisplayWithoutPrices(t *testing.T) {
	empty := DisplayUpdate{Language: ptr(""), PriceText: ptr(""), OfflinePriceText: ptr("")}
	type check struct {
		screens []hal.Screen // every screen shown so far
		display *DriverDisplay
		priced  bool // the connector holds a pricing state
	}
	scr := func(offline bool, text string) hal.Screen {
		return hal.Screen{Connector: 1, Offline: offline, PriceText: text}
	}
	tests := []struct {
		name  string
		steps []func(*rig) error
		want  []check // after each step
	}{{
		name: "empty texts, then offline and back, then a price text",
		steps: []func(*rig) error{
			func(r *rig) error { return r.st.SetOnline(r.ctx(), true) },
			func(r *rig) error { return r.st.UpdateDisplay(r.ctx(), 0, empty) },
			func(r *rig) error { return r.st.UpdateDisplay(r.ctx(), 1, empty) },
			func(r *rig) error { return r.st.SetOnline(r.ctx(), false) },
			func(r *rig) error { return r.st.SetOnline(r.ctx(), true) },
			func(r *rig) error {
				return r.st.UpdateDisplay(r.ctx(), 1, DisplayUpdate{PriceText: ptr("0.30 EUR/kWh")})
			},
		},
		want: []check{
			{},
			{screens: []hal.Screen{scr(false, "")}, display: &DriverDisplay{}},
			{screens: []hal.Screen{scr(false, "")}, display: &DriverDisplay{}},
			{screens: []hal.Screen{scr(false, ""), scr(true, "")}, display: &DriverDisplay{Offline: true}},
			{screens: []hal.Screen{scr(false, ""), scr(true, ""), scr(false, "")}, display: &DriverDisplay{}},
			{screens: []hal.Screen{scr(false, ""), scr(true, ""), scr(false, ""), scr(false, "0.30 EUR/kWh")},
				display: &DriverDisplay{PriceText: "0.30 EUR/kWh"}, priced: true},
		},
	}, {
		name: "offline first, then empty texts",
		steps: []func(*rig) error{
			func(r *rig) error { return r.st.SetOnline(r.ctx(), false) },
			func(r *rig) error { return r.st.UpdateDisplay(r.ctx(), 1, empty) },
			func(r *rig) error { return r.st.SetOnline(r.ctx(), true) },
			func(r *rig) error { return r.st.SetOnline(r.ctx(), true) },
			func(r *rig) error { return r.st.UpdateDisplay(r.ctx(), 1, DisplayUpdate{QRCode: ptr("https://pay")}) },
		},
		want: []check{
			{screens: []hal.Screen{scr(true, "")}, display: &DriverDisplay{Offline: true}},
			{screens: []hal.Screen{scr(true, "")}, display: &DriverDisplay{Offline: true}},
			{screens: []hal.Screen{scr(true, ""), scr(false, "")}, display: &DriverDisplay{}},
			{screens: []hal.Screen{scr(true, ""), scr(false, "")}, display: &DriverDisplay{}},
			{screens: []hal.Screen{scr(true, ""), scr(false, ""), {Connector: 1, QRCode: "https://pay"}},
				display: &DriverDisplay{QRCode: "https://pay"}, priced: true},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			disp := &fakeDisplay{}
			r := newRig(t, rigOpts{display: disp})
			for i, step := range tc.steps {
				if err := step(r); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				r.settle()
				w := tc.want[i]
				disp.mu.Lock()
				got := slices.Clone(disp.screens)
				disp.mu.Unlock()
				if !slices.Equal(got, w.screens) {
					t.Errorf("step %d: screens %+v, want %+v", i, got, w.screens)
				}
				if d := r.conn(1).Display; !reflect.DeepEqual(d, w.display) {
					t.Errorf("step %d: snapshot display %+v, want %+v", i, d, w.display)
				}
				if priced := r.pricedConnector(1); priced != w.priced {
					t.Errorf("step %d: pricing state held: %v, want %v", i, priced, w.priced)
				}
			}
		})
	}
}

// pricedConnector reports whether connector n holds a pricing state.
func (r *rig) pricedConnector(n int) bool {
	var priced bool
	err := r.st.call(r.ctx(), func(l *loop, done func(error)) {
		priced = l.conn(n).price != nil
		done(nil)
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return priced
}
