package modbus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// MeterOptions tune a Meter. The zero value (or a nil *MeterOptions) gives
// the defaults documented on each field.
type MeterOptions struct {
	// FailAfter is the number of consecutive reads without an answer after
	// which Read reports meter.ErrNoResponse (the station then raises
	// PowerMeterFailure); earlier misses report ErrMissed. Zero means 3.
	FailAfter int
	// MaxPower is the most power the meter can plausibly see. An energy
	// register that grows by more than MaxPower × elapsed time × 1.5 (plus
	// one register step) since the last good reading is implausible. Zero
	// means 50 kW.
	MaxPower physic.Power
}

// jumpFactor is the margin over MaxPower × elapsed before an energy step is
// implausible: meters integrate over their own, drifting, clock.
const jumpFactor = 1.5

// slot says where one register's bytes are in the answers of a Read.
type slot struct {
	req int // index into Meter.reqs
	off int // byte offset in that request's answer
	dec decoder
}

// energyMark is the last good value of one energy register.
type energyMark struct {
	valid bool
	value meter.Energy
	at    time.Time
}

// Meter reads one meter (one unit id) on a Bus. It implements meter.Meter
// and is safe for concurrent use; concurrent Reads run one after another.
type Meter struct {
	bus   *Bus
	model *Model
	unit  uint8
	name  string
	reqs  []request // planned once: the fewest reads covering the model
	slots []slot
	opts  MeterOptions

	readMu sync.Mutex // serializes Read, so that marks advance in order

	mu       sync.Mutex    // guards failures and marks
	failures int           // consecutive reads without an answer
	marks    [2]energyMark // import, export
}

var _ meter.Meter = (*Meter)(nil)

// NewMeter returns the meter of the given model at unit id unit on b. The
// unit id is 1..247 on a serial line and 0..255 over Modbus TCP; each unit
// id may be claimed by one Meter per Bus. m must stay unmodified while the
// Meter lives.
func NewMeter(b *Bus, m *Model, unit int, o *MeterOptions) (*Meter, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	lo, hi := b.UnitRange()
	if unit < lo || unit > hi {
		return nil, fmt.Errorf("modbus: unit id %d on %s, want %d..%d", unit, b, lo, hi)
	}
	if err := b.claim(uint8(unit)); err != nil {
		return nil, err
	}
	mt := &Meter{
		bus:   b,
		model: m,
		unit:  uint8(unit),
		name:  fmt.Sprintf("%s@%s#%d", m.Name, b, unit),
		reqs:  plan(m),
	}
	if o != nil {
		mt.opts = *o
	}
	if mt.opts.FailAfter <= 0 {
		mt.opts.FailAfter = 3
	}
	if mt.opts.MaxPower <= 0 {
		mt.opts.MaxPower = 50 * physic.KiloWatt
	}
	for _, r := range m.Registers {
		d, err := newDecoder(r)
		if err != nil {
			return nil, err // unreachable: Validate built the same decoders
		}
		for i, q := range mt.reqs {
			if q.Function == r.Function && r.Addr >= q.Addr && r.end() <= int(q.Addr)+int(q.Qty) {
				mt.slots = append(mt.slots, slot{req: i, off: 2 * int(r.Addr-q.Addr), dec: d})
				break
			}
		}
	}
	return mt, nil
}

// String implements meter.Meter, e.g. "sdm630@rtu:/dev/ttyUSB0#1".
func (m *Meter) String() string { return m.name }

// Bus returns the bus the meter is on, shared with the other meters of its
// line.
func (m *Meter) Bus() *Bus { return m.bus }

// Model returns the meter's model.
func (m *Meter) Model() *Model { return m.model }

// Healthy reports whether the meter has missed fewer than FailAfter reads in
// a row.
func (m *Meter) Healthy() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failures < m.opts.FailAfter
}

// Failures returns the number of consecutive reads without an answer; a
// good read resets it.
func (m *Meter) Failures() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failures
}

// Rebase forgets the last good energy values, so that the next reading is
// accepted as is: for commissioning after a meter was replaced or reset.
func (m *Meter) Rebase() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.marks = [2]energyMark{}
}

// Read implements meter.Meter. It sends the planned requests and decodes
// the answers. Errors:
//   - a request without an answer wraps ErrMissed, or meter.ErrNoResponse
//     from the FailAfter-th consecutive miss on (until a read succeeds);
//   - an energy register that went backwards or jumped wraps
//     meter.ErrImplausible: the Reading is still returned with the other
//     values, the implausible energy field cleared, and the last good
//     register kept as the reference for the next read;
//   - a Modbus exception (a map that does not fit the meter) and ctx
//     errors are returned wrapped, without counting as a miss.
func (m *Meter) Read(ctx context.Context) (meter.Reading, error) {
	m.readMu.Lock()
	defer m.readMu.Unlock()
	answers := make([][]byte, len(m.reqs))
	for i, q := range m.reqs {
		data, err := m.bus.read(ctx, m.unit, q)
		if err == nil {
			answers[i] = data
			continue
		}
		if errors.Is(err, ErrNoAnswer) {
			return meter.Reading{}, m.missed(err)
		}
		return meter.Reading{}, fmt.Errorf("modbus read %s: %w", m.name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures = 0
	r, steps, err := m.decode(answers)
	if err != nil {
		return meter.Reading{}, fmt.Errorf("modbus read %s: %w", m.name, err)
	}
	if err := m.checkEnergy(&r, steps); err != nil {
		return r, fmt.Errorf("modbus read %s: %w", m.name, err)
	}
	return r, nil
}

// missed counts a read without an answer and returns its error.
func (m *Meter) missed(err error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures++
	if m.failures >= m.opts.FailAfter {
		return fmt.Errorf("modbus read %s: %w (%d reads in a row): %w", m.name, meter.ErrNoResponse, m.failures, err)
	}
	return fmt.Errorf("modbus read %s: %w (%d of %d): %w", m.name, ErrMissed, m.failures, m.opts.FailAfter, err)
}

// decode fills a Reading from the answers and returns the resolution (mWh)
// of the import and export registers.
func (m *Meter) decode(answers [][]byte) (meter.Reading, [2]int64, error) {
	r := meter.Reading{Time: m.bus.opts.Clock.Now(), Fields: m.model.Fields(), DC: m.model.DC}
	var steps [2]int64
	for _, s := range m.slots {
		b := answers[s.req][s.off:]
		reg := s.dec.reg
		if reg.Quantity == PowerFactor {
			f, err := s.dec.float(b)
			if err != nil {
				return meter.Reading{}, steps, err
			}
			r.PowerFactor = meter.PowerFactor(f)
			continue
		}
		v, step, err := s.dec.base(b)
		if err != nil {
			return meter.Reading{}, steps, err
		}
		switch reg.Quantity {
		case EnergyImport:
			r.EnergyImport, steps[0] = meter.Energy(v), step
		case EnergyExport:
			r.EnergyExport, steps[1] = meter.Energy(v), step
		case PowerTotal:
			r.Power = physic.Power(v)
		case PowerPhase:
			r.PowerPhase[reg.Phase-1] = physic.Power(v)
		case Current:
			r.Current[reg.Phase-1] = physic.ElectricCurrent(v)
		case Voltage:
			r.Voltage[reg.Phase-1] = physic.ElectricPotential(v)
		case Frequency:
			r.Frequency = physic.Frequency(v)
		}
	}
	if r.Fields&(meter.FieldPowerPhases|meter.FieldCurrent|meter.FieldVoltage) != 0 {
		r.Phases = m.model.Phases
	}
	return r, steps, nil
}

// checkEnergy compares the energy registers of r with the last good ones;
// m.mu is held. An implausible register is cleared from r and not kept.
func (m *Meter) checkEnergy(r *meter.Reading, steps [2]int64) error {
	var errs []error
	for i, f := range [2]meter.Field{meter.FieldEnergyImport, meter.FieldEnergyExport} {
		if !r.Fields.Has(f) {
			continue
		}
		v := &r.EnergyImport
		name := "import"
		if i == 1 {
			v, name = &r.EnergyExport, "export"
		}
		last := m.marks[i]
		var bad error
		switch {
		case !last.valid:
		case *v < last.value:
			bad = fmt.Errorf("%w: energy %s went backwards from %v to %v", meter.ErrImplausible, name, last.value, *v)
		default:
			elapsed := max(r.Time.Sub(last.at), 0)
			// MaxPower in nW × elapsed in h gives nWh; 1e6 nWh = 1 mWh.
			allowed := float64(m.opts.MaxPower)/1e6*elapsed.Hours()*jumpFactor + float64(steps[i])
			if float64(*v-last.value) > allowed {
				bad = fmt.Errorf("%w: energy %s jumped by %v in %v (max %v at %v)",
					meter.ErrImplausible, name, *v-last.value, elapsed, meter.Energy(allowed), m.opts.MaxPower)
			}
		}
		if bad != nil {
			errs = append(errs, bad)
			r.Fields &^= f
			*v = 0
			continue
		}
		m.marks[i] = energyMark{valid: true, value: *v, at: r.Time}
	}
	return errors.Join(errs...)
}
