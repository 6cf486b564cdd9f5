package can

import (
	"fmt"
	"sort"
	"time"
)

// Quantity says what a Channel measures, and so the unit of its Sample
// values, which are those of the physic and meter types.
type Quantity int

// Quantities a CAN meter channel may carry.
const (
	// Current in nA (physic.ElectricCurrent); the first Current channel is
	// the Reading's Current[0]. Positive: towards the vehicle.
	Current Quantity = iota + 1
	// Voltage is the output voltage in nV (physic.ElectricPotential): the
	// Reading's Voltage[0].
	Voltage
	// AuxVoltage is any other voltage input, in nV; not part of a Reading.
	AuxVoltage
	// Power in nW (physic.Power): the Reading's Power. Positive: towards
	// the vehicle.
	Power
	// Energy is a net energy counter in mWh (meter.Energy): the Reading's
	// EnergyImport. It must never run backwards.
	Energy
	// Charge is a charge counter in nC (nA·s); not part of a Reading.
	Charge
	// Temperature in nK (physic.Temperature); not part of a Reading.
	Temperature
)

var quantityNames = [...]string{"", "current", "voltage", "aux-voltage", "power", "energy", "charge", "temperature"}

// String returns the quantity's name, e.g. "current".
func (q Quantity) String() string {
	if q > 0 && int(q) < len(quantityNames) {
		return quantityNames[q]
	}
	return fmt.Sprintf("Quantity(%d)", int(q))
}

// Channel is one value a CAN meter sends cyclically.
type Channel struct {
	Name     string // as the maker calls it, e.g. "U1"
	Quantity Quantity
	// Cycle is how often the meter sends the value; the Meter treats a
	// value older than a few cycles as stale (see Options.StaleCycles).
	Cycle time.Duration
}

// Status is what a meter reports about one value, as bit flags. Drivers
// map their own status bits onto these.
type Status uint8

// Status flags.
const (
	// StatusOvercurrent: the meter's overcurrent detection has tripped.
	// The value itself is valid, so Read does not fail on it.
	StatusOvercurrent Status = 1 << iota
	// StatusChannelError: this value is out of range or its input failed.
	StatusChannelError
	// StatusMeasurementError: some measurement of the meter failed.
	StatusMeasurementError
	// StatusSystemError: the meter reports an internal fault.
	StatusSystemError

	// statusFatal are the flags that make a value unusable for billing.
	statusFatal = StatusChannelError | StatusMeasurementError | StatusSystemError
)

// String lists the set flags, e.g. "channel-error|system-error", or "ok".
func (s Status) String() string {
	if s == 0 {
		return "ok"
	}
	names := []string{"overcurrent", "channel-error", "measurement-error", "system-error"}
	out := ""
	for i, n := range names {
		if s&(1<<i) != 0 {
			if out != "" {
				out += "|"
			}
			out += n
		}
	}
	if rest := s &^ (1<<len(names) - 1); rest != 0 {
		if out != "" {
			out += "|"
		}
		out += fmt.Sprintf("0x%02x", uint8(rest))
	}
	return out
}

// Sample is one decoded value.
type Sample struct {
	Channel int    // index into the Decoder's Channels
	Value   int64  // in the unit of the channel's Quantity
	Status  Status // flags the meter sent with the value
	Seq     uint8  // the meter's message counter, if it has one
}

// Decoder is the model-specific half of a CAN meter: it knows the frame
// layout. Meter does the rest (receiving, freshness, sanity checks), so a
// new CAN meter is a new Decoder; see the package documentation.
type Decoder interface {
	// Channels lists the values the meter sends. The slice is read-only
	// and fixed for the Decoder's life.
	Channels() []Channel
	// IDs lists the frame identifiers the decoder wants, so that the
	// transport can filter in the kernel.
	IDs() []uint32
	// Decode turns one frame into a Sample. ok is false, with a nil error,
	// for a frame that is not the meter's; err reports a frame that is the
	// meter's but malformed.
	Decode(f Frame) (s Sample, ok bool, err error)
}

// Model is a CAN meter the package ships: a name for configuration files
// and a constructor for its Decoder in its default configuration.
type Model struct {
	Name  string // e.g. "ivt-s"
	Title string // maker and product, for people
	// NewDecoder returns a Decoder with the model's factory settings.
	NewDecoder func() (Decoder, error)
}

// models is the read-only catalogue that Lookup searches; a new CAN meter
// adds its entry here.
var models = []Model{
	{
		Name:       "ivt-s",
		Title:      "Isabellenhuette IVT-S shunt (cyclic results on 0x521..0x528)",
		NewDecoder: func() (Decoder, error) { return NewIVTS(nil) },
	},
}

// Lookup returns the shipped model called name.
func Lookup(name string) (Model, error) {
	for _, m := range models {
		if m.Name == name {
			return m, nil
		}
	}
	return Model{}, fmt.Errorf("%w %q (have %v)", ErrUnknownModel, name, Names())
}

// Names returns the names of the shipped models, sorted.
func Names() []string {
	names := make([]string, 0, len(models))
	for _, m := range models {
		names = append(names, m.Name)
	}
	sort.Strings(names)
	return names
}
