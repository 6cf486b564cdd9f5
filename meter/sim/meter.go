package sim

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unique"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// Measurement is the electrical state at the meter's terminals, as the
// metered thing pushes it with Update. Power factor is 1: power per phase is
// voltage times current.
type Measurement struct {
	// Phases is how many phases the meter is wired to, 1 or 3; values of
	// higher indices are ignored. 0 means 3.
	Phases  int
	Voltage [3]physic.ElectricPotential // to neutral, per phase
	Current [3]physic.ElectricCurrent   // per phase; negative is export
}

// phases returns the number of phases in use (Phases with 0 meaning 3).
func (m Measurement) phases() int {
	if m.Phases <= 0 || m.Phases > 3 {
		return 3
	}
	return m.Phases
}

// PhasePower returns the active power of phase i (0-based), computed in mV ×
// mA so that it cannot overflow for any real voltage and current.
func (m Measurement) PhasePower(i int) physic.Power {
	if i < 0 || i >= m.phases() {
		return 0
	}
	mv := int64(m.Voltage[i] / physic.MilliVolt)
	ma := int64(m.Current[i] / physic.MilliAmpere)
	return physic.Power(mv*ma) * physic.MicroWatt
}

// Power returns the total active power of all phases.
func (m Measurement) Power() physic.Power {
	var p physic.Power
	for i := range m.phases() {
		p += m.PhasePower(i)
	}
	return p
}

// Options configure a Meter. The zero value is a 50 Hz meter named "sim"
// starting at 0 Wh on the wall clock.
type Options struct {
	// Name is what String returns; "" means "sim".
	Name string
	// Clock is the time base of the integration; nil means the wall clock.
	Clock clock.Clock
	// Start is the initial import register; it must not be negative.
	Start meter.Energy
	// Frequency is the grid frequency reported; 0 means 50 Hz.
	Frequency physic.Frequency
	// Initial is the measurement until the first Update; the zero value is
	// 3 phases with no voltage and no current.
	Initial Measurement
}

// Meter is a simulated energy meter. It is safe for concurrent use; its lock
// is a leaf (no method calls out while holding it), so a simulator may call
// Update while holding its own lock.
//
// The fleet simulator holds thousands of meters, so the fields are laid out
// to fit the 160 B allocation class: the name is interned (a fleet has a
// handful of distinct names), the measurement is kept without its int-sized
// phase count, which shares a word with failing.
type Meter struct {
	name unique.Handle[string]
	clk  clock.Clock
	freq physic.Frequency

	mu      sync.Mutex // guards the fields below
	integ   Integrator
	voltage [3]physic.ElectricPotential // of the last Update (or Initial)
	current [3]physic.ElectricCurrent   // of the last Update (or Initial)
	phases  uint8                       // of the last Update, normalized to 1-3
	failing bool
}

var _ meter.Meter = (*Meter)(nil)

// New builds a Meter whose registers start at o.Start now.
func New(o Options) (*Meter, error) {
	if o.Start < 0 {
		return nil, fmt.Errorf("meter sim: negative start register %v", o.Start)
	}
	if o.Name == "" {
		o.Name = "sim"
	}
	m := &Meter{name: unique.Make(o.Name), clk: clock.Or(o.Clock), freq: o.Frequency}
	if m.freq == 0 {
		m.freq = 50 * physic.Hertz
	}
	m.setLocked(o.Initial)
	now := m.clk.Now()
	m.integ.Reset(now, o.Start, 0)
	m.integ.SetPower(now, o.Initial.Power())
	return m, nil
}

// setLocked records x as the values at the terminals; m.mu is held (or m
// not shared yet).
func (m *Meter) setLocked(x Measurement) {
	m.voltage, m.current, m.phases = x.Voltage, x.Current, uint8(x.phases())
}

// measurement returns what setLocked recorded; m.mu is held.
func (m *Meter) measurement() Measurement {
	return Measurement{Phases: int(m.phases), Voltage: m.voltage, Current: m.current}
}

// String implements meter.Meter.
func (m *Meter) String() string { return m.name.Value() }

// Update records that the metered values changed to x now: energy up to now
// is integrated with the previous power, from now on with x's. The metered
// thing must call it on every change for the registers to be exact.
func (m *Meter) Update(x Measurement) {
	now := m.clk.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setLocked(x)
	m.integ.SetPower(now, x.Power())
}

// Fail switches the simulated communication failure on or off: while on,
// Read returns an error wrapping meter.ErrNoResponse. The registers keep
// counting, as a real meter's do when only its bus fails.
func (m *Meter) Fail(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failing = on
}

// Energy returns the import register now, failure or not; for tests and the
// simulator's status.
func (m *Meter) Energy() meter.Energy {
	now := m.clk.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.integ.Advance(now)
	return m.integ.Import()
}

// Until returns how long from now the import register takes to reach
// target at the current power, as Integrator.Until: 0, true when it has;
// false when the current power never gets there. The simulated board's EV
// is full at a register value, and sets its timer with it.
func (m *Meter) Until(target meter.Energy) (time.Duration, bool) {
	now := m.clk.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.integ.Advance(now)
	return m.integ.Until(target)
}

// Read implements meter.Meter. It does not block.
func (m *Meter) Read(ctx context.Context) (meter.Reading, error) {
	if err := ctx.Err(); err != nil {
		return meter.Reading{}, fmt.Errorf("meter %s: read: %w", m, err)
	}
	now := m.clk.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing {
		return meter.Reading{}, fmt.Errorf("meter %s: read: %w", m, errSimulated)
	}
	m.integ.Advance(now)
	meas := m.measurement()
	r := meter.Reading{
		Time: now,
		Fields: meter.FieldEnergyImport | meter.FieldEnergyExport | meter.FieldPower |
			meter.FieldPowerPhases | meter.FieldCurrent | meter.FieldVoltage |
			meter.FieldFrequency | meter.FieldPowerFactor,
		Phases:       meas.phases(),
		EnergyImport: m.integ.Import(),
		EnergyExport: m.integ.Export(),
		Power:        meas.Power(),
		Frequency:    m.freq,
		PowerFactor:  1,
	}
	for i := range r.Phases {
		r.PowerPhase[i] = meas.PhasePower(i)
		r.Current[i] = meas.Current[i]
		r.Voltage[i] = meas.Voltage[i]
	}
	return r, nil
}

// errSimulated is the failure Fail switches on; it wraps meter.ErrNoResponse
// so that callers treat it as a meter that does not answer.
var errSimulated = fmt.Errorf("simulated failure: %w", meter.ErrNoResponse)
