package sim

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// TestHouseIsAFunctionOfTimeAndSeed: the same seed gives the same house
// whatever the order of the reads; another seed other clouds; the roof is
// dark at night, and at noon under a clear sky makes its peak.
func TestHouseIsAFunctionOfTimeAndSeed(t *testing.T) {
	opts := HouseOptions{
		Base:      []LoadStep{{Current: [3]physic.ElectricCurrent{2 * physic.Ampere, 1 * physic.Ampere, 3 * physic.Ampere}}, {At: 18 * time.Hour, Current: [3]physic.ElectricCurrent{8 * physic.Ampere}}},
		LoadNoise: 500 * physic.MilliAmpere,
		PV:        PV{Peak: 8 * physic.KiloWatt, Clouds: 0.5, Noise: 0.05, Sunrise: 6 * time.Hour, Sunset: 18 * time.Hour},
		Seed:      42,
	}
	a, err := NewHouse(opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewHouse(opts)
	opts.Seed = 43
	c, _ := NewHouse(opts)
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var times []time.Time
	for m := 0; m < 24*60; m += 7 {
		times = append(times, day.Add(time.Duration(m)*time.Minute+13*time.Second))
	}
	differ := 0
	for i := range times {
		fwd, back := times[i], times[len(times)-1-i]
		if a.PVPower(fwd) != b.PVPower(fwd) || a.Load(back) != b.Load(back) {
			t.Fatalf("same seed, different house at %v", fwd)
		}
		if a.PVPower(fwd) != c.PVPower(fwd) {
			differ++
		}
	}
	if differ == 0 {
		t.Error("seeds 42 and 43 give the same clouds")
	}
	if p := a.PVPower(day.Add(3 * time.Hour)); p != 0 {
		t.Errorf("PV at 03:00: %v, want 0", p)
	}
	clear, _ := NewHouse(HouseOptions{PV: PV{Peak: 8 * physic.KiloWatt, Sunrise: 6 * time.Hour, Sunset: 18 * time.Hour}})
	if p := clear.PVPower(day.Add(12 * time.Hour)); p != 8*physic.KiloWatt {
		t.Errorf("clear noon: %v, want the 8 kW peak", p)
	}
	if l := a.Load(day.Add(19 * time.Hour)); l[0] < 7500*physic.MilliAmpere || l[0] > 8500*physic.MilliAmpere || l[1] > 500*physic.MilliAmpere {
		t.Errorf("load at 19:00 %v, want the evening step: 8 A +-0.5 on L1, 0-0.5 A on L2", l)
	}
	for _, bad := range []HouseOptions{
		{PV: PV{Clouds: 1.5}},
		{PV: PV{Phases: 2}},
		{Base: []LoadStep{{At: time.Hour}, {At: time.Hour}}},
		{PV: PV{Sunrise: 20 * time.Hour, Sunset: 6 * time.Hour}},
	} {
		if _, err := NewHouse(bad); err == nil {
			t.Errorf("NewHouse(%+v): no error", bad)
		}
	}
}

// TestGridMeter: the grid meter reads the house, the roof and the board's
// connectors, export negative; it fails and freezes on demand.
func TestGridMeter(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	house, err := NewHouse(HouseOptions{
		Base:  []LoadStep{{Current: [3]physic.ElectricCurrent{2 * physic.Ampere, 2 * physic.Ampere, 2 * physic.Ampere}}},
		PV:    PV{Peak: 6900 * physic.Watt, Phases: 3, Sunrise: 6 * time.Hour, Sunset: 18 * time.Hour},
		Clock: clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{Connectors: 1, Clock: clk, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	g := house.GridMeter(b)
	ctx := context.Background()
	r, err := g.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 2 A of load, 10 A of PV per phase: 8 A of export.
	if r.Current != [3]physic.ElectricCurrent{-8 * physic.Ampere, -8 * physic.Ampere, -8 * physic.Ampere} ||
		r.Power != -5520*physic.Watt || !r.Fields.Has(meter.FieldCurrent|meter.FieldPowerPhases) {
		t.Errorf("reading %+v, want 8 A of export per phase, -5.52 kW", r)
	}
	// An EV drawing 16 A on three phases turns it into 8 A of import.
	p := b.Connectors()[0]
	if err := b.Plug(1); err != nil {
		t.Fatal(err)
	}
	if err := b.Charge(1); err != nil {
		t.Fatal(err)
	}
	if err := p.Pilot.Offer(16 * physic.Ampere); err != nil {
		t.Fatal(err)
	}
	if err := p.Contactor.Close(); err != nil {
		t.Fatal(err)
	}
	if r, _ := g.Read(ctx); r.Current[0] < 7900*physic.MilliAmpere || r.Current[0] > 8*physic.Ampere {
		t.Errorf("with the EV: %v on L1, want about 8 A of import", r.Current[0])
	}
	g.Freeze(true)
	last, _ := g.Read(ctx)
	clk.Advance(time.Minute)
	if r, _ := g.Read(ctx); !r.Time.Equal(last.Time) {
		t.Errorf("frozen: reading of %v, want the old one of %v", r.Time, last.Time)
	}
	g.Freeze(false)
	g.Fail(true)
	if _, err := g.Read(ctx); !errors.Is(err, meter.ErrNoResponse) {
		t.Errorf("failing: %v, want ErrNoResponse", err)
	}
}

// TestPhaseRelay: the phase relay refuses to switch under a closed
// contactor; on one phase the EV draws on L1 only.
func TestPhaseRelay(t *testing.T) {
	clk := clock.NewFake(t0)
	b, err := New(Options{Connectors: 1, PhaseSwitch: true, Clock: clk, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	hc := b.Connectors()[0]
	ps := hc.PhaseSwitch
	if ps == nil || ps.Phases() != 3 {
		t.Fatalf("phase switch %v, want one on three phases", ps)
	}
	if err := b.Plug(1); err != nil {
		t.Fatal(err)
	}
	if err := b.Charge(1); err != nil {
		t.Fatal(err)
	}
	if err := hc.Pilot.Offer(10 * physic.Ampere); err != nil {
		t.Fatal(err)
	}
	if err := hc.Contactor.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ps.SetPhases(1); !errors.Is(err, hal.ErrInterlock) || ps.Phases() != 3 {
		t.Fatalf("switch under load: %v, %d phases; want ErrInterlock, 3", err, ps.Phases())
	}
	if err := hc.Contactor.Open(); err != nil {
		t.Fatal(err)
	}
	if err := ps.SetPhases(1); err != nil {
		t.Fatal(err)
	}
	if err := hc.Contactor.Close(); err != nil {
		t.Fatal(err)
	}
	m := b.Measurement(1)
	if m.Current[0] < 9900*physic.MilliAmpere || m.Current[1] != 0 || m.Current[2] != 0 {
		t.Errorf("on one phase: currents %v, want about 10 A on L1 only", m.Current)
	}
	if st, _ := b.State(1); st.Phases != 1 || st.PhaseSwitches != 1 {
		t.Errorf("state phases %d switches %d, want 1 and 1", st.Phases, st.PhaseSwitches)
	}
	one, _ := New(Options{Connectors: 1, Phases: 1, PhaseSwitch: true, Clock: clk, Logger: quiet})
	if one.Connectors()[0].PhaseSwitch != nil {
		t.Error("a single-phase outlet got a phase relay")
	}
}

// TestLimitInputEvents: SetInput reports a change once, for connector 0.
func TestLimitInputEvents(t *testing.T) {
	r := newRig(t, Options{Connectors: 1})
	in := r.b.Input()
	r.b.SetInput(true)
	r.b.SetInput(true)
	r.b.SetInput(false)
	evs := r.drain()
	var got []bool
	for _, e := range evs {
		if e.Kind == hal.InputChanged && e.Connector == 0 {
			got = append(got, e.Active)
		}
	}
	if len(got) != 2 || !got[0] || got[1] || in.Active() {
		t.Fatalf("input events %v (active now %v), want [true false], released", got, in.Active())
	}
}
