package isolation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter/modbus"
	"periph.io/x/conn/v3/physic"
)

// Errors of this package.
var (
	// ErrModel is wrapped by every model validation error.
	ErrModel = errors.New("isolation: invalid model")
	// ErrUnknownModel is returned by Lookup for a name it does not ship.
	ErrUnknownModel = errors.New("isolation: unknown model")
)

// Bits is a field of a register word: (word >> Shift) & Mask.
type Bits struct {
	// Word is the register's offset in its channel.
	Word  int    `yaml:"word"`
	Shift uint   `yaml:"shift"`
	Mask  uint16 `yaml:"mask"`
}

func (b Bits) of(words []uint16) uint16 { return words[b.Word] >> b.Shift & b.Mask }

// Channel is one measured value of the device.
type Channel struct {
	// Addr is the first register of the channel; Words how many it spans.
	Addr  uint16 `yaml:"addr"`
	Words int    `yaml:"words"`
	// Value is where the value is: a float32 or integer at ValueWord, in
	// the word order given, times Scale ohms (or volts).
	ValueWord int              `yaml:"value_word"`
	Type      modbus.Type      `yaml:"type"`
	Order     modbus.WordOrder `yaml:"order"`
	Scale     float64          `yaml:"scale"`
	// Alarm, when Mask is set, is the device's alarm state; AlarmValues
	// and ErrorValues list the values that mean an insulation alarm and a
	// device error.
	Alarm       Bits     `yaml:"alarm"`
	AlarmValues []uint16 `yaml:"alarm_values"`
	ErrorValues []uint16 `yaml:"error_values"`
	// Validity, when Mask is set, says whether the value is valid; the
	// values in Invalid mean it is not.
	Validity Bits     `yaml:"validity"`
	Invalid  []uint16 `yaml:"invalid"`
}

// Model is the register map of one isolation monitor type.
type Model struct {
	Name  string `yaml:"name"`
	Title string `yaml:"title"`
	// Function is the Modbus function of the channels.
	Function modbus.Function `yaml:"function"`
	// Resistance is the insulation resistance channel (ohms).
	Resistance Channel `yaml:"resistance"`
	// Poll is how often the device is read; 0 means 1 s.
	Poll time.Duration `yaml:"poll"`
}

// Validate checks that m can be read.
func (m *Model) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: %s", ErrModel, m.Name, fmt.Sprintf(format, args...))
	}
	c := m.Resistance
	switch {
	case m.Name == "":
		return bad("no name")
	case m.Function != modbus.Input && m.Function != modbus.Holding:
		return bad("function %q", m.Function)
	case c.Words < 1 || c.Words > 125 || int(c.Addr)+c.Words > 0x10000:
		return bad("channel of %d registers at %#04x", c.Words, c.Addr)
	case c.Type != modbus.Float32 && c.Type != modbus.Uint16 && c.Type != modbus.Uint32:
		return bad("value type %q, want float32, uint16 or uint32", c.Type)
	case c.ValueWord < 0 || c.ValueWord+c.Type.Words() > c.Words:
		return bad("value at word %d does not fit the channel", c.ValueWord)
	case c.Order != modbus.BigWords && c.Order != modbus.LittleWords:
		return bad("word order %q", c.Order)
	case !(c.Scale > 0) || math.IsInf(c.Scale, 0):
		return bad("scale %v", c.Scale)
	case c.Alarm.Mask != 0 && (c.Alarm.Word < 0 || c.Alarm.Word >= c.Words || c.Alarm.Shift > 15):
		return bad("alarm bits outside the channel")
	case c.Validity.Mask != 0 && (c.Validity.Word < 0 || c.Validity.Word >= c.Words || c.Validity.Shift > 15):
		return bad("validity bits outside the channel")
	case m.Poll < 0:
		return bad("negative poll interval")
	}
	return nil
}

// value decodes the channel's value in ohms; false for a value that is not
// a number.
func (c Channel) value(words []uint16) (float64, bool) {
	n := c.Type.Words()
	var raw uint64
	for i := range n {
		w := c.ValueWord + i
		if c.Order == modbus.LittleWords {
			w = c.ValueWord + n - 1 - i
		}
		raw = raw<<16 | uint64(words[w])
	}
	var v float64
	if c.Type == modbus.Float32 {
		v = float64(math.Float32frombits(uint32(raw)))
	} else {
		v = float64(raw)
	}
	v *= c.Scale
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, false
	}
	return v, true
}

func in(v uint16, set []uint16) bool {
	for _, x := range set {
		if x == v {
			return true
		}
	}
	return false
}

// benderISO is the ISOMETER measured-value channel 1 (see the package doc).
var benderISO = &Model{
	Name:     "bender-iso",
	Title:    "Bender ISOMETER 425/525 families (Modbus RTU, measured-value channel 1 at 1000: insulation resistance)",
	Function: modbus.Holding,
	Resistance: Channel{
		Addr: 1000, Words: 4,
		ValueWord: 0, Type: modbus.Float32, Scale: 1,
		Alarm:       Bits{Word: 2, Shift: 8, Mask: 0x07},
		AlarmValues: []uint16{4, 5}, // warning, alarm
		ErrorValues: []uint16{2},    // device error
		Validity:    Bits{Word: 2, Shift: 6, Mask: 0x03},
		Invalid:     []uint16{3},
	},
}

// shipped is the catalogue Lookup searches.
var shipped = []*Model{benderISO}

// Lookup returns the shipped model called name; it is shared and must not
// be modified.
func Lookup(name string) (*Model, error) {
	for _, m := range shipped {
		if m.Name == name {
			return m, nil
		}
	}
	return nil, fmt.Errorf("%w %q (have %v)", ErrUnknownModel, name, Names())
}

// Names returns the shipped models' names.
func Names() []string {
	out := make([]string, 0, len(shipped))
	for _, m := range shipped {
		out = append(out, m.Name)
	}
	return out
}

// Options configure a Monitor.
type Options struct {
	// Bus is the Modbus line; Unit the device's unit id on it. Required.
	Bus  *modbus.Bus
	Unit int
	// Model is the register map; required.
	Model *Model
	// Connector is the connector the monitor watches, for its events.
	Connector int
	// Sink receives IsolationAlarm and FaultCleared events; nil drops them.
	Sink hal.Sink
	// StaleAfter is how long a measurement stays valid without a fresh
	// answer; 0 means three poll intervals.
	StaleAfter time.Duration
	// Clock stamps measurements and paces polls; nil means the wall clock.
	Clock clock.Clock
	// Logger receives read failures at debug level; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Monitor is one isolation monitor on a Modbus line. It implements
// hal.IsolationMonitor; Run polls it. Safe for concurrent use.
type Monitor struct {
	o    Options
	name string
	poll time.Duration

	mu     sync.Mutex // guards last, alarm, lastOK
	last   hal.IsolationReading
	lastOK time.Time
	alarm  bool
}

var _ hal.IsolationMonitor = (*Monitor)(nil)

// New checks o, claims the unit id on the bus and returns the Monitor.
func New(o Options) (*Monitor, error) {
	if o.Bus == nil || o.Model == nil {
		return nil, errors.New("isolation: bus and model are required")
	}
	if err := o.Model.Validate(); err != nil {
		return nil, err
	}
	if err := o.Bus.Claim(o.Unit); err != nil {
		return nil, err
	}
	o.Clock = clock.Or(o.Clock)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	m := &Monitor{o: o, name: fmt.Sprintf("%s@%s#%d", o.Model.Name, o.Bus, o.Unit), poll: o.Model.Poll}
	if m.poll == 0 {
		m.poll = time.Second
	}
	if m.o.StaleAfter <= 0 {
		m.o.StaleAfter = 3 * m.poll
	}
	return m, nil
}

// String implements hal.Resource.
func (m *Monitor) String() string { return m.name }

// Halt implements hal.Resource; a monitor has nothing to make safe.
func (m *Monitor) Halt() error { return nil }

// Reading implements hal.IsolationMonitor: the latest measurement, invalid
// once it is older than StaleAfter.
func (m *Monitor) Reading() hal.IsolationReading {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.last
	if r.Valid && m.o.Clock.Now().Sub(m.lastOK) > m.o.StaleAfter {
		r.Valid = false
	}
	return r
}

// Run polls the device every poll interval until ctx ends, and returns nil
// then.
func (m *Monitor) Run(ctx context.Context) error {
	for {
		m.Poll(ctx)
		if !clock.Sleep(ctx, m.o.Clock, m.poll) {
			return nil
		}
	}
}

// Poll reads the device once and updates the measurement; Run calls it.
// It returns the read's error (the measurement then goes stale).
func (m *Monitor) Poll(ctx context.Context) error {
	c := m.o.Model.Resistance
	words, err := m.o.Bus.ReadRegisters(ctx, m.o.Unit, m.o.Model.Function, c.Addr, uint16(c.Words))
	if err != nil {
		if ctx.Err() == nil {
			m.o.Logger.Debug("isolation monitor read failed", "monitor", m.name, "err", err)
		}
		return err
	}
	now := m.o.Clock.Now()
	v, ok := c.value(words)
	alarmCode, devErr := uint16(0), false
	if c.Alarm.Mask != 0 {
		alarmCode = c.Alarm.of(words)
		devErr = in(alarmCode, c.ErrorValues)
	}
	if c.Validity.Mask != 0 && in(c.Validity.of(words), c.Invalid) {
		ok = false
	}
	r := hal.IsolationReading{At: now, Valid: ok && !devErr}
	if r.Valid {
		r.Resistance = physic.ElectricResistance(math.Min(v, float64(math.MaxInt64)/float64(physic.Ohm)) * float64(physic.Ohm))
	}
	alarm := c.Alarm.Mask != 0 && in(alarmCode, c.AlarmValues)

	m.mu.Lock()
	was := m.alarm
	m.last, m.lastOK, m.alarm = r, now, alarm
	m.mu.Unlock()

	if s := m.o.Sink; s != nil && alarm != was {
		if alarm {
			s(hal.Event{Connector: m.o.Connector, Kind: hal.IsolationAlarm,
				Detail: fmt.Sprintf("%s: insulation alarm (%v)", m.name, r.Resistance)})
		} else {
			s(hal.Event{Connector: m.o.Connector, Kind: hal.FaultCleared, Cleared: hal.IsolationAlarm,
				Detail: m.name + ": insulation alarm cleared"})
		}
	}
	return nil
}
