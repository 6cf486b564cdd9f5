package can

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// Options tune a Meter. The zero value (or a nil *Options) gives the
// defaults documented on each field.
type Options struct {
	// Name names the meter in logs and errors, e.g. "ivt-s@can0". Empty
	// means "can".
	Name string
	// StaleCycles is how many of its channel's cycles a value stays fresh
	// after it was received: 3 tolerates two lost frames. Zero means 3.
	StaleCycles int
	// MinStale is the least time a value stays fresh whatever its cycle,
	// because a 20 ms cycle times 3 is shorter than the scheduling hiccups
	// of a loaded single-board computer. Zero means 100 ms; negative means
	// none.
	MinStale time.Duration
	// Clock stamps received frames and judges freshness; nil means
	// clock.Real.
	Clock clock.Clock
	// Logger receives malformed frames at debug level; nil discards them.
	Logger *slog.Logger
}

// value is the latest sample of one channel.
type value struct {
	Sample
	at time.Time // receive time; zero: never received
}

// Meter is a CAN energy meter: Run receives the frames a Decoder
// understands and keeps the latest value of each channel; Read assembles a
// meter.Reading from the fresh ones without touching the bus. Safe for
// concurrent use; Run must run for Read to see anything.
type Meter struct {
	src   FrameSource
	dec   Decoder
	chans []Channel
	opts  Options
	stale []time.Duration // per channel
	first [Temperature + 1]int

	mu       sync.Mutex // guards the fields below
	latest   []value
	bad      int          // malformed frames received
	lastWh   meter.Energy // energy counter of the last good Read
	haveLast bool
}

var _ meter.Meter = (*Meter)(nil)

// New returns a Meter that reads src through dec. The Decoder must have an
// Energy channel: the energy counter is what a charger bills.
func New(src FrameSource, dec Decoder, o *Options) (*Meter, error) {
	m := &Meter{src: src, dec: dec, chans: dec.Channels()}
	if o != nil {
		m.opts = *o
	}
	if m.opts.Name == "" {
		m.opts.Name = "can"
	}
	if m.opts.StaleCycles <= 0 {
		m.opts.StaleCycles = 3
	}
	if m.opts.MinStale == 0 {
		m.opts.MinStale = 100 * time.Millisecond
	}
	m.opts.Clock = clock.Or(m.opts.Clock)
	if m.opts.Logger == nil {
		m.opts.Logger = slog.New(slog.DiscardHandler)
	}
	for i := range m.first {
		m.first[i] = -1
	}
	for i, c := range m.chans {
		if c.Quantity < Current || c.Quantity > Temperature || c.Cycle <= 0 {
			return nil, fmt.Errorf("%w: channel %q: quantity %v, cycle %v", ErrConfig, c.Name, c.Quantity, c.Cycle)
		}
		if m.first[c.Quantity] < 0 {
			m.first[c.Quantity] = i
		}
		m.stale = append(m.stale, max(time.Duration(m.opts.StaleCycles)*c.Cycle, m.opts.MinStale))
	}
	if m.first[Energy] < 0 {
		return nil, fmt.Errorf("%w: %s has no energy channel", ErrConfig, m.opts.Name)
	}
	m.latest = make([]value, len(m.chans))
	return m, nil
}

// String implements meter.Meter.
func (m *Meter) String() string { return m.opts.Name }

// Run receives frames until ctx ends (it then returns nil) or the source
// fails (it returns the error). Call it once, in its own goroutine.
func (m *Meter) Run(ctx context.Context) error {
	for {
		f, err := m.src.Recv(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("can receive %s: %w", m.opts.Name, err)
		}
		m.handle(f)
	}
}

// handle stores the sample that f carries, if any.
func (m *Meter) handle(f Frame) {
	s, ok, err := m.dec.Decode(f)
	if !ok {
		return
	}
	if err == nil && (s.Channel < 0 || s.Channel >= len(m.chans)) {
		err = fmt.Errorf("decoder returned channel %d of %d", s.Channel, len(m.chans))
	}
	now := m.opts.Clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.bad++
		m.opts.Logger.Debug("can meter: bad frame", "meter", m.opts.Name, "id", f.ID, "err", err)
		return
	}
	m.latest[s.Channel] = value{Sample: s, at: now}
}

// BadFrames returns how many malformed frames of the meter were dropped.
func (m *Meter) BadFrames() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bad
}

// Value is the latest sample of one channel, for diagnostics (the
// temperature, the auxiliary voltages).
type Value struct {
	Channel  Channel
	Sample   Sample
	Received time.Time // zero if nothing was received yet
	Fresh    bool      // received within the staleness bound
}

// Values returns the latest value of every channel, in the Decoder's
// channel order. The slice is the caller's.
func (m *Meter) Values() []Value {
	now := m.opts.Clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Value, len(m.chans))
	for i, v := range m.latest {
		out[i] = Value{Channel: m.chans[i], Sample: v.Sample, Received: v.at, Fresh: m.fresh(i, now)}
	}
	return out
}

// fresh reports whether channel i's value is recent enough at now; m.mu
// must be held.
func (m *Meter) fresh(i int, now time.Time) bool {
	at := m.latest[i].at
	return !at.IsZero() && now.Sub(at) <= m.stale[i]
}

// Rebase forgets the last good energy counter, so that the next reading is
// accepted as is: after the shunt was replaced or its counter reset.
func (m *Meter) Rebase() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.haveLast = false
}

// Read implements meter.Meter from the values Run received; it does not
// block. The Reading's Time is when the energy counter was received; its
// Fields hold the energy import register and each of power, current
// (Current[0]) and output voltage (Voltage[0]) whose value is fresh. The
// Reading is marked DC: the CAN meters this package reads are shunts on a
// DC output, with one current and one voltage. Errors:
//   - the energy counter missing or stale: meter.ErrNoResponse;
//   - a fatal status flag (channel, measurement or system error, not
//     overcurrent) on a value the Reading carries: a *StatusError;
//   - the energy counter below the last good one, or negative (a shunt
//     mounted reversed, see IVTSOptions.Reversed): meter.ErrImplausible,
//     with the Reading still returned without its energy field.
func (m *Meter) Read(ctx context.Context) (meter.Reading, error) {
	if err := ctx.Err(); err != nil {
		return meter.Reading{}, err
	}
	now := m.opts.Clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	ei := m.first[Energy]
	e := m.latest[ei]
	if e.at.IsZero() {
		return meter.Reading{}, fmt.Errorf("can read %s: %w: no %s frame received", m.opts.Name, meter.ErrNoResponse, m.chans[ei].Name)
	}
	if !m.fresh(ei, now) {
		return meter.Reading{}, fmt.Errorf("can read %s: %w: stale reading reported (%s last received %v ago, bound %v)",
			m.opts.Name, meter.ErrNoResponse, m.chans[ei].Name, now.Sub(e.at), m.stale[ei])
	}
	r := meter.Reading{Time: e.at, Fields: meter.FieldEnergyImport, EnergyImport: meter.Energy(e.Value), DC: true}
	var status error
	check := func(i int) {
		if s := m.latest[i].Status; s&statusFatal != 0 && status == nil {
			status = &StatusError{Channel: m.chans[i].Name, Status: s}
		}
	}
	check(ei)
	for _, q := range []Quantity{Power, Current, Voltage} {
		i := m.first[q]
		if i < 0 || !m.fresh(i, now) {
			continue
		}
		check(i)
		v := m.latest[i].Value
		switch q {
		case Power:
			r.Fields |= meter.FieldPower
			r.Power = physic.Power(v)
		case Current:
			r.Fields |= meter.FieldCurrent
			r.Current[0] = physic.ElectricCurrent(v)
			r.Phases = 1
		case Voltage:
			r.Fields |= meter.FieldVoltage
			r.Voltage[0] = physic.ElectricPotential(v)
			r.Phases = 1
		}
	}
	if status != nil {
		return meter.Reading{}, fmt.Errorf("can read %s: %w", m.opts.Name, status)
	}
	var bad error
	switch {
	case r.EnergyImport < 0:
		bad = fmt.Errorf("energy counter %v is negative (shunt mounted reversed?)", r.EnergyImport)
	case m.haveLast && r.EnergyImport < m.lastWh:
		bad = fmt.Errorf("energy counter went back from %v to %v", m.lastWh, r.EnergyImport)
	}
	if bad != nil {
		r.Fields &^= meter.FieldEnergyImport
		r.EnergyImport = 0
		return r, fmt.Errorf("can read %s: %w: %w", m.opts.Name, meter.ErrImplausible, bad)
	}
	m.lastWh, m.haveLast = r.EnergyImport, true
	return r, nil
}
