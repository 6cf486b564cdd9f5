package sim

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// The simulated house: the loads behind the site's main fuse other than the
// charger (a daily base profile per phase, noise, steps a test adds), a PV
// roof (a clear-sky curve with clouds and noise) and the grid meter that
// sees their sum with the charger's currents. Every value is a function of
// the time and the seed, not of how often it is read, so two runs with the
// same seed see the same house, and the figures are reproducible.

// LoadStep is one step of a daily load profile: from At (since midnight,
// UTC) until the next step's At, the house draws Current per phase.
type LoadStep struct {
	At      time.Duration
	Current [3]physic.ElectricCurrent
}

// PV describes a simulated PV roof. The zero value is no PV.
type PV struct {
	// Peak is the inverter's output at noon under a clear sky.
	Peak physic.Power
	// Phases is how many phases the inverter feeds, equally: 3, or 1 (L1
	// only); 0 means 3.
	Phases int
	// Sunrise and Sunset are the times of day (since midnight, UTC)
	// between which the roof produces, along a half sine; 0 means 6:00
	// and 20:00.
	Sunrise, Sunset time.Duration
	// Clouds is the share of the time a cloud shades the roof, 0-1.
	Clouds float64
	// CloudLength is how long one cloud (or gap between clouds) lasts; 0
	// means 2 min. A cloud comes and goes over a tenth of it.
	CloudLength time.Duration
	// Shade is the output under a cloud as a share of the clear-sky
	// output; 0 means 0.25.
	Shade float64
	// Noise is the second-to-second variation of the output, as a share
	// (0.05: +-5 %).
	Noise float64
}

// HouseOptions configure a House. The zero value is a house drawing 2 A on
// every phase all day, without PV, on the wall clock.
type HouseOptions struct {
	// Base is the daily load profile, steps in increasing At order; the
	// last step holds until midnight, and before the first the last
	// holds (it wraps). Empty means 2 A on every phase.
	Base []LoadStep
	// LoadNoise varies every phase's load by up to +-LoadNoise, anew every
	// second.
	LoadNoise physic.ElectricCurrent
	// PV is the roof; the zero value is none.
	PV PV
	// Seed makes the clouds and the noise; the same seed gives the same
	// house.
	Seed uint64
	// Voltage is the nominal phase voltage; 0 means 230 V.
	Voltage physic.ElectricPotential
	// Clock is the time base; nil means the wall clock.
	Clock clock.Clock
}

// House is a simulated house. It is safe for concurrent use.
type House struct {
	o   HouseOptions
	clk clock.Clock

	mu    sync.Mutex                // guards extra
	extra [3]physic.ElectricCurrent // loads a test added (SetExtraLoad)
}

// NewHouse checks o and builds a House.
func NewHouse(o HouseOptions) (*House, error) {
	if o.Voltage == 0 {
		o.Voltage = 230 * physic.Volt
	}
	if o.Voltage < 0 {
		return nil, fmt.Errorf("hal/sim: house voltage %v", o.Voltage)
	}
	if len(o.Base) == 0 {
		o.Base = []LoadStep{{Current: [3]physic.ElectricCurrent{2 * physic.Ampere, 2 * physic.Ampere, 2 * physic.Ampere}}}
	}
	for i, s := range o.Base {
		if s.At < 0 || s.At >= 24*time.Hour || (i > 0 && s.At <= o.Base[i-1].At) {
			return nil, fmt.Errorf("hal/sim: house load step %d at %v: want increasing times within a day", i, s.At)
		}
	}
	p := &o.PV
	if p.Peak < 0 || p.Clouds < 0 || p.Clouds > 1 || p.Noise < 0 || p.Noise >= 1 || p.Shade < 0 || p.Shade > 1 {
		return nil, fmt.Errorf("hal/sim: PV peak %v, clouds %g, shade %g, noise %g: out of range", p.Peak, p.Clouds, p.Shade, p.Noise)
	}
	if p.Phases == 0 {
		p.Phases = 3
	}
	if p.Phases != 1 && p.Phases != 3 {
		return nil, fmt.Errorf("hal/sim: PV on %d phases, want 1 or 3", p.Phases)
	}
	if p.Sunrise == 0 {
		p.Sunrise = 6 * time.Hour
	}
	if p.Sunset == 0 {
		p.Sunset = 20 * time.Hour
	}
	if p.Sunset <= p.Sunrise {
		return nil, fmt.Errorf("hal/sim: sunset %v not after sunrise %v", p.Sunset, p.Sunrise)
	}
	if p.CloudLength <= 0 {
		p.CloudLength = 2 * time.Minute
	}
	if p.Shade == 0 {
		p.Shade = 0.25
	}
	return &House{o: o, clk: clock.Or(o.Clock)}, nil
}

// SetExtraLoad adds a load per phase to the profile from now on (a
// cooker, a heat pump): tests step the house's load with it. A negative
// load is a generator (a steady feed-in, independent of the sun). The
// zero value removes it.
func (h *House) SetExtraLoad(a [3]physic.ElectricCurrent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.extra = a
}

// Clock is the house's time base.
func (h *House) Clock() clock.Clock { return h.clk }

// Voltage is the house's nominal phase voltage.
func (h *House) Voltage() physic.ElectricPotential { return h.o.Voltage }

// Load returns what the house's loads draw per phase at t (negative where
// SetExtraLoad added more generation than the loads draw).
func (h *House) Load(t time.Time) [3]physic.ElectricCurrent {
	u := t.UTC()
	tod := u.Sub(time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC))
	base := h.o.Base[len(h.o.Base)-1].Current
	for _, s := range h.o.Base {
		if s.At > tod {
			break
		}
		base = s.Current
	}
	h.mu.Lock()
	extra := h.extra
	h.mu.Unlock()
	var out [3]physic.ElectricCurrent
	sec := uint64(t.Unix())
	for p := range out {
		a := base[p]
		if n := h.o.LoadNoise; n > 0 {
			a += physic.ElectricCurrent(float64(n) * (2*unit(h.o.Seed, 1+uint64(p), sec) - 1))
		}
		out[p] = max(0, a) + extra[p]
	}
	return out
}

// PVPower returns what the roof produces at t.
func (h *House) PVPower(t time.Time) physic.Power {
	p := h.o.PV
	if p.Peak == 0 {
		return 0
	}
	u := t.UTC()
	tod := u.Sub(time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC))
	if tod <= p.Sunrise || tod >= p.Sunset {
		return 0
	}
	clear := math.Sin(math.Pi * float64(tod-p.Sunrise) / float64(p.Sunset-p.Sunrise))
	f := clear * h.cloudFactor(t) * (1 + p.Noise*(2*unit(h.o.Seed, 7, uint64(t.Unix()))-1))
	return physic.Power(float64(p.Peak) * max(0, f))
}

// cloudFactor is the share of the clear-sky output that gets through at t:
// 1 in the sun, Shade under a cloud, ramping between them over the first
// tenth of each cloud slot.
func (h *House) cloudFactor(t time.Time) float64 {
	p := h.o.PV
	if p.Clouds == 0 {
		return 1
	}
	n := t.UnixNano()
	slot := n / int64(p.CloudLength)
	if n < 0 && n%int64(p.CloudLength) != 0 {
		slot--
	}
	at := func(k int64) float64 {
		if unit(h.o.Seed, 3, uint64(k)) < p.Clouds {
			return p.Shade
		}
		return 1
	}
	now, prev := at(slot), at(slot-1)
	ramp := int64(p.CloudLength) / 10
	into := n - slot*int64(p.CloudLength)
	if into >= ramp || ramp == 0 {
		return now
	}
	x := float64(into) / float64(ramp)
	return prev + (now-prev)*x
}

// PVCurrents returns what the roof feeds per phase at t, as positive
// currents.
func (h *House) PVCurrents(t time.Time) [3]physic.ElectricCurrent {
	var out [3]physic.ElectricCurrent
	pw := h.PVPower(t)
	if pw == 0 {
		return out
	}
	n := h.o.PV.Phases
	a := physic.ElectricCurrent(float64(pw) / float64(h.o.Voltage) / float64(n) * float64(physic.Ampere))
	for p := range n {
		out[p] = a
	}
	return out
}

// Net returns the current per phase at the grid connection at t with the
// charger drawing ours: loads plus charger minus PV, import positive.
func (h *House) Net(t time.Time, ours [3]physic.ElectricCurrent) [3]physic.ElectricCurrent {
	load, pv := h.Load(t), h.PVCurrents(t)
	var out [3]physic.ElectricCurrent
	for p := range out {
		out[p] = load[p] + ours[p] - pv[p]
	}
	return out
}

// unit is a deterministic uniform value in [0, 1) of (seed, stream, k):
// splitmix64 of their mix.
func unit(seed, stream, k uint64) float64 {
	x := seed ^ stream*0x9e3779b97f4a7c15 ^ k*0xbf58476d1ce4e5b9
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / float64(1<<53)
}

// GridMeter is the meter at the simulated house's grid connection: it
// reads the house's net current per phase with the charger's currents, as
// a real grid meter would (import positive, export negative), with power
// per phase and in total. It is safe for concurrent use.
type GridMeter struct {
	h        *House
	chargers func() [3]physic.ElectricCurrent
	name     string

	mu     sync.Mutex // guards fail, frozen, last
	fail   bool
	frozen bool
	last   meter.Reading
}

var _ meter.Meter = (*GridMeter)(nil)

// NewGridMeter returns the grid meter of h; chargers tells what the
// charger draws per phase at the moment of a read (nil: nothing).
func NewGridMeter(h *House, chargers func() [3]physic.ElectricCurrent) *GridMeter {
	return &GridMeter{h: h, chargers: chargers, name: "sim grid meter"}
}

// GridMeter returns the grid meter of h with board b's connectors as the
// charger.
func (h *House) GridMeter(b *Board) *GridMeter {
	return NewGridMeter(h, b.Currents)
}

// Currents returns what every connector of b draws together, per phase.
func (b *Board) Currents() [3]physic.ElectricCurrent {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out [3]physic.ElectricCurrent
	for i := range b.conns {
		m := b.measure(&b.conns[i])
		for p := range out {
			out[p] += m.Current[p]
		}
	}
	return out
}

// String implements meter.Meter.
func (m *GridMeter) String() string { return m.name }

// Fail switches a communication failure on or off: while on, Read returns
// an error wrapping meter.ErrNoResponse.
func (m *GridMeter) Fail(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = on
}

// Freeze makes Read return the last reading again, with its old Time, as
// a gateway that caches a meter it no longer reaches does; false reads
// afresh.
func (m *GridMeter) Freeze(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.frozen = on
}

// Read implements meter.Meter.
func (m *GridMeter) Read(ctx context.Context) (meter.Reading, error) {
	if err := ctx.Err(); err != nil {
		return meter.Reading{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return meter.Reading{}, fmt.Errorf("%s: %w", m.name, meter.ErrNoResponse)
	}
	if m.frozen && !m.last.Time.IsZero() {
		return m.last, nil
	}
	now := m.h.clk.Now()
	var ours [3]physic.ElectricCurrent
	if m.chargers != nil {
		ours = m.chargers()
	}
	net := m.h.Net(now, ours)
	r := meter.Reading{
		Time:   now,
		Fields: meter.FieldCurrent | meter.FieldVoltage | meter.FieldPowerPhases | meter.FieldPower,
		Phases: 3,
	}
	v := m.h.o.Voltage
	for p := range 3 {
		r.Current[p] = net[p]
		r.Voltage[p] = v
		r.PowerPhase[p] = physic.Power(int64(v/physic.MilliVolt)*int64(net[p]/physic.MilliAmpere)) * physic.MicroWatt
		r.Power += r.PowerPhase[p]
	}
	m.last = r
	return r, nil
}
