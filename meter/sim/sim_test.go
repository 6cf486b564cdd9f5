package sim

import (
	"context"
	"errors"
	"math"
	"math/big"
	"testing"
	"time"
	"unsafe"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// threePhase returns a 230 V three-phase measurement drawing a on each phase.
func threePhase(a physic.ElectricCurrent) Measurement {
	v := 230 * physic.Volt
	return Measurement{Phases: 3, Voltage: [3]physic.ElectricPotential{v, v, v}, Current: [3]physic.ElectricCurrent{a, a, a}}
}

func TestMeasurementPower(t *testing.T) {
	cases := []struct {
		name string
		m    Measurement
		want physic.Power
	}{
		{"zero", Measurement{}, 0},
		{"16 A three-phase is 11.04 kW", threePhase(16 * physic.Ampere), 11040 * physic.Watt},
		{"32 A three-phase is 22.08 kW", threePhase(32 * physic.Ampere), 22080 * physic.Watt},
		{"single phase ignores L2 and L3", func() Measurement {
			m := threePhase(10 * physic.Ampere)
			m.Phases = 1
			return m
		}(), 2300 * physic.Watt},
		{"export is negative", threePhase(-1 * physic.Ampere), -690 * physic.Watt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.m.Power(); got != c.want {
				t.Fatalf("Power() = %v, want %v", got, c.want)
			}
		})
	}
}

// step is a scenario step: after advancing the clock by dt, the metered
// values change to m.
type step struct {
	dt time.Duration
	m  Measurement
}

func TestMeterIntegratesExactly(t *testing.T) {
	// 11 kW at 230 V three-phase is 15.942.. A: not an integer number of mA,
	// so the scenarios use a single phase at 1 V to hit round powers exactly.
	watts := func(w int64) Measurement {
		return Measurement{Phases: 1, Voltage: [3]physic.ElectricPotential{physic.Volt}, Current: [3]physic.ElectricCurrent{physic.ElectricCurrent(w) * physic.Ampere}}
	}
	cases := []struct {
		name      string
		start     meter.Energy
		initial   Measurement
		steps     []step
		readEvery time.Duration // 0: read only at the end
		want      meter.Energy
	}{
		{
			name:    "11 kW for 1 h is 11000 Wh",
			initial: watts(11000),
			steps:   []step{{time.Hour, watts(0)}},
			want:    11000 * meter.WattHour,
		},
		{
			name:    "11 kW for 1 h with pauses in between",
			initial: watts(11000),
			steps: []step{
				{20 * time.Minute, watts(0)}, {7 * time.Minute, watts(11000)},
				{25 * time.Minute, watts(3000)}, {time.Second, watts(11000)},
				{15 * time.Minute, watts(0)},
			},
			// 11 kW for 60 min; 3 kW for 1 s = 0.8333 Wh
			want: 11000*meter.WattHour + 833*meter.MilliWattHour,
		},
		{
			name:      "11 kW for 1 h read every 1.3 s",
			initial:   watts(11000),
			steps:     []step{{time.Hour, watts(0)}},
			readEvery: 1300 * time.Millisecond,
			want:      11000 * meter.WattHour,
		},
		{
			// Each read adds 1/60 mWh: only the carried remainders count.
			name:      "60 W read every 1 ms for 1 min keeps the sub-mWh remainders",
			initial:   watts(60),
			steps:     []step{{time.Minute, watts(0)}},
			readEvery: time.Millisecond,
			want:      meter.WattHour,
		},
		{
			name:    "starting register counts on",
			start:   123456 * meter.WattHour,
			initial: watts(7000),
			steps:   []step{{30 * time.Minute, watts(0)}},
			want:    123456*meter.WattHour + 3500*meter.WattHour,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			m, err := New(Options{Clock: clk, Start: c.start, Initial: c.initial})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for _, s := range c.steps {
				if c.readEvery > 0 {
					for left := s.dt; left > 0; left -= c.readEvery {
						clk.Advance(min(left, c.readEvery))
						if _, err := m.Read(ctx); err != nil {
							t.Fatal(err)
						}
					}
				} else {
					clk.Advance(s.dt)
				}
				m.Update(s.m)
			}
			clk.Advance(time.Hour) // at 0 W after the last step: nothing more counts
			r, err := m.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r.EnergyImport != c.want {
				t.Fatalf("import = %v, want %v", r.EnergyImport, c.want)
			}
			if r.EnergyExport != 0 {
				t.Fatalf("export = %v, want 0", r.EnergyExport)
			}
		})
	}
}

func TestMeterReading(t *testing.T) {
	clk := clock.NewFake(t0)
	m, err := New(Options{Name: "sim-1", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	m.Update(threePhase(16 * physic.Ampere))
	clk.Advance(time.Minute)
	r, err := m.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := meter.FieldEnergyImport | meter.FieldPower | meter.FieldPowerPhases |
		meter.FieldCurrent | meter.FieldVoltage | meter.FieldFrequency
	if !r.Fields.Has(want) {
		t.Fatalf("fields %b lack %b", r.Fields, want)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"time", r.Time, t0.Add(time.Minute)},
		{"phases", r.Phases, 3},
		{"power", r.Power, 11040 * physic.Watt},
		{"L2 power", r.PowerPhase[1], 3680 * physic.Watt},
		{"L3 current", r.Current[2], 16 * physic.Ampere},
		{"L1 voltage", r.Voltage[0], 230 * physic.Volt},
		{"frequency", r.Frequency, 50 * physic.Hertz},
		{"energy after 1 min at 11.04 kW", r.EnergyImport, 184 * meter.WattHour},
		{"name", m.String(), "sim-1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestMeterFailure(t *testing.T) {
	clk := clock.NewFake(t0)
	m, err := New(Options{Clock: clk, Initial: threePhase(16 * physic.Ampere)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m.Fail(true)
	clk.Advance(time.Minute)
	if _, err := m.Read(ctx); !errors.Is(err, meter.ErrNoResponse) {
		t.Fatalf("Read while failing: err = %v, want ErrNoResponse", err)
	}
	clk.Advance(time.Minute)
	m.Fail(false)
	r, err := m.Read(ctx)
	if err != nil {
		t.Fatalf("Read after recovery: %v", err)
	}
	// The register counted on through the failure: 2 min at 11.04 kW.
	if want := 368 * meter.WattHour; r.EnergyImport != want {
		t.Fatalf("import = %v, want %v", r.EnergyImport, want)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Read(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read with a cancelled context: err = %v, want context.Canceled", err)
	}
}

func TestNewRejectsNegativeStart(t *testing.T) {
	if _, err := New(Options{Start: -1}); err == nil {
		t.Fatal("New accepted a negative start register")
	}
}

func TestIntegratorExport(t *testing.T) {
	var g Integrator
	g.Reset(t0, 0, 0)
	g.SetPower(t0, -2*physic.KiloWatt)
	g.Advance(t0.Add(90 * time.Minute))
	if g.Export() != 3*meter.KiloWattHour || g.Import() != 0 {
		t.Fatalf("import %v export %v, want 0 and 3 kWh", g.Import(), g.Export())
	}
}

func TestIntegratorUntil(t *testing.T) {
	cases := []struct {
		name   string
		power  physic.Power
		pre    time.Duration // integrated before asking
		target meter.Energy
		want   time.Duration
		ok     bool
	}{
		{"reached already", physic.KiloWatt, time.Hour, meter.KiloWattHour, 0, true},
		{"no power never reaches", 0, 0, meter.WattHour, 0, false},
		{"export never reaches", -physic.KiloWatt, 0, meter.WattHour, 0, false},
		{"11 kW to 11 kWh is 1 h", 11 * physic.KiloWatt, 0, 11 * meter.KiloWattHour, time.Hour, true},
		{"remainder counts: 3 W needs 3.6 s for 3 mWh", 3 * physic.Watt, time.Second, 3 * meter.MilliWattHour, 2600 * time.Millisecond, true},
		{"rounds up to a whole ns", 7 * physic.Watt, 0, meter.MilliWattHour, 514285715 * time.Nanosecond, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var g Integrator
			g.Reset(t0, 0, 0)
			g.SetPower(t0, c.power)
			now := t0.Add(c.pre)
			g.Advance(now)
			d, ok := g.Until(c.target)
			if ok != c.ok || d != c.want {
				t.Fatalf("Until(%v) = %v, %v; want %v, %v", c.target, d, ok, c.want, c.ok)
			}
			if !ok || d == 0 {
				return
			}
			// Exactly at d the target is reached, one ns earlier it is not.
			before := g
			before.Advance(now.Add(d - 1))
			g.Advance(now.Add(d))
			if before.Import() >= c.target || g.Import() < c.target {
				t.Fatalf("at d-1ns import %v, at d %v; target %v", before.Import(), g.Import(), c.target)
			}
		})
	}
}

// TestIntegratorExtremes checks the 128-bit path against math/big up to the
// largest register an Energy holds, and that products too large for one
// 128-by-64-bit division (which overflow the register anyway) do not panic.
func TestIntegratorExtremes(t *testing.T) {
	cases := []struct {
		name string
		p    physic.Power
		d    time.Duration
	}{
		{"1 nW for 1 ns", 1, 1},
		{"22 kW for 10 years", 22 * physic.KiloWatt, 10 * 365 * 24 * time.Hour},
		{"9.2 GW for 100 years", math.MaxInt64, 100 * 365 * 24 * time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var g Integrator
			g.Reset(t0, 0, 0)
			g.SetPower(t0, c.p)
			g.Advance(t0.Add(c.d))
			want := new(big.Int).Mul(big.NewInt(int64(c.p)), big.NewInt(int64(c.d)))
			want.Quo(want, new(big.Int).SetUint64(perMilliWattHour))
			if got := big.NewInt(int64(g.Import())); got.Cmp(want) != 0 {
				t.Fatalf("import %v mWh, want %v", got, want)
			}
		})
	}
	var g Integrator
	g.SetPower(t0, math.MaxInt64)
	g.Advance(t0.Add(math.MaxInt64)) // must not panic in bits.Div64
	if g.Power() != math.MaxInt64 {
		t.Fatal("power lost")
	}
}

// The fleet simulator holds thousands of meters: 160 B (64-bit) is a Go
// allocation size class, and one byte more costs 16 per meter.
func TestMeterSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the size is budgeted for 64-bit platforms")
	}
	if got := unsafe.Sizeof(Meter{}); got > 160 {
		t.Errorf("Meter is %d B, budget 160 B", got)
	}
}

// Updates that do not change the values change nothing in the registers:
// a simulator may call Update on every change of its own state.
func TestRepeatedUpdatesCountTheSame(t *testing.T) {
	clk := clock.NewFake(t0)
	x := threePhase(16 * physic.Ampere)
	once, err := New(Options{Clock: clk, Initial: x})
	if err != nil {
		t.Fatal(err)
	}
	often, err := New(Options{Clock: clk, Initial: x})
	if err != nil {
		t.Fatal(err)
	}
	for range 7919 { // 1 h in steps of 454.6 ms
		clk.Advance(time.Hour / 7919)
		often.Update(x)
	}
	if a, b := once.Energy(), often.Energy(); a != b || a == 0 {
		t.Fatalf("import %v with one Update, %v with an Update per step; want equal and > 0", a, b)
	}
}

// Until says when the import register reaches a value at the current
// power: advancing by it reaches the value, a nanosecond less does not.
func TestMeterUntil(t *testing.T) {
	x := threePhase(16 * physic.Ampere) // 11040 W
	cases := []struct {
		name    string
		initial Measurement
		start   meter.Energy
		target  meter.Energy
		want    time.Duration // with ok
		ok      bool
	}{
		{"11.04 kW to 11.04 kWh", x, 0, 11040 * meter.WattHour, time.Hour, true},
		{"on top of the start register", x, 500 * meter.WattHour, 500*meter.WattHour + 184*meter.WattHour, time.Minute, true},
		{"reached already", x, 2 * meter.WattHour, meter.WattHour, 0, true},
		{"no power", Measurement{}, 0, meter.WattHour, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			m, err := New(Options{Clock: clk, Initial: c.initial, Start: c.start})
			if err != nil {
				t.Fatal(err)
			}
			d, ok := m.Until(c.target)
			if d != c.want || ok != c.ok {
				t.Fatalf("Until = %v, %v; want %v, %v", d, ok, c.want, c.ok)
			}
			if !ok || d == 0 {
				return
			}
			clk.Advance(d - 1)
			if e := m.Energy(); e >= c.target {
				t.Errorf("%v before: import %v, already at %v", time.Nanosecond, e, c.target)
			}
			clk.Advance(1)
			if e := m.Energy(); e != c.target {
				t.Errorf("after %v: import %v, want %v", d, e, c.target)
			}
		})
	}
}
