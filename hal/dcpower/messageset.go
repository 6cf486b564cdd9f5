package dcpower

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"periph.io/x/conn/v3/physic"
)

// Errors of this package.
var (
	// ErrMessageSet is wrapped by every message set mistake.
	ErrMessageSet = errors.New("dcpower: invalid message set")
	// ErrUnknownSet is returned by Lookup for a name it does not ship.
	ErrUnknownSet = errors.New("dcpower: unknown message set")
)

// Field is one value in a frame's data.
type Field struct {
	// Name says what it carries. Command frames: "voltage" (V), "current"
	// (A), "on" (On when the output is on, else Off) and "const" (Value
	// always). Status frames: "voltage", "current" and "fault" (any bit
	// of Mask set means the module has a fault).
	Name string `yaml:"name"`
	// Byte is the first byte, Size the width in bytes (1, 2 or 4).
	Byte int `yaml:"byte"`
	Size int `yaml:"size"`
	// Little selects little-endian byte order; the default is big endian.
	Little bool `yaml:"little"`
	// Signed reads the raw value as two's complement.
	Signed bool `yaml:"signed"`
	// Scale is the unit per count of voltage and current (0.1 for
	// 0.1 V steps); Offset is added after scaling.
	Scale  float64 `yaml:"scale"`
	Offset float64 `yaml:"offset"`
	// On, Off and Value are the raw values of "on" and "const"; Mask the
	// fault bits.
	On    uint32 `yaml:"on"`
	Off   uint32 `yaml:"off"`
	Value uint32 `yaml:"value"`
	Mask  uint32 `yaml:"mask"`
}

// Frame is one message of the set.
type Frame struct {
	// ID is the identifier with the address bits zero; a module's
	// identifier is ID | (address & AddressMask) << AddressShift.
	ID           uint32 `yaml:"id"`
	AddressShift uint   `yaml:"address_shift"`
	AddressMask  uint32 `yaml:"address_mask"`
	// Length is the data length; Fields what is in it.
	Length int     `yaml:"length"`
	Fields []Field `yaml:"fields"`
}

// Ratings are one module's limits.
type Ratings struct {
	MinVoltage float64 `yaml:"min_voltage_v"`
	MaxVoltage float64 `yaml:"max_voltage_v"`
	MaxCurrent float64 `yaml:"max_current_a"`
	MaxPower   float64 `yaml:"max_power_w"`
}

// MessageSet is a module family's CAN messages.
type MessageSet struct {
	Name  string `yaml:"name"`
	Title string `yaml:"title"`
	// Extended selects 29-bit identifiers.
	Extended bool `yaml:"extended"`
	// PeriodMS is how often each module gets its command (default 100);
	// TimeoutMS how long a module may stay silent before it counts as
	// offline (default five periods).
	PeriodMS  int     `yaml:"period_ms"`
	TimeoutMS int     `yaml:"timeout_ms"`
	Module    Ratings `yaml:"module"`
	Command   Frame   `yaml:"command"`
	Status    Frame   `yaml:"status"`
}

// Period returns the command period.
func (s *MessageSet) Period() time.Duration {
	if s.PeriodMS <= 0 {
		return 100 * time.Millisecond
	}
	return time.Duration(s.PeriodMS) * time.Millisecond
}

// Timeout returns how long a module may stay silent.
func (s *MessageSet) Timeout() time.Duration {
	if s.TimeoutMS <= 0 {
		return 5 * s.Period()
	}
	return time.Duration(s.TimeoutMS) * time.Millisecond
}

// field returns the frame's field called name, or nil.
func (f *Frame) field(name string) *Field {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			return &f.Fields[i]
		}
	}
	return nil
}

// id returns the identifier of the module at address a.
func (f *Frame) id(a int) uint32 { return f.ID | (uint32(a)&f.AddressMask)<<f.AddressShift }

// address returns the module address of identifier id, and whether id is
// this frame's.
func (f *Frame) address(id uint32) (int, bool) {
	mask := f.AddressMask << f.AddressShift
	if id&^mask != f.ID {
		return 0, false
	}
	return int(id & mask >> f.AddressShift), true
}

// Validate checks that s can be encoded and decoded.
func (s *MessageSet) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: %s", ErrMessageSet, s.Name, fmt.Sprintf(format, args...))
	}
	if s.Name == "" {
		return bad("no name")
	}
	if s.PeriodMS < 0 || s.TimeoutMS < 0 {
		return bad("negative period or timeout")
	}
	if s.Timeout() <= s.Period() {
		return bad("timeout %v must exceed the period %v", s.Timeout(), s.Period())
	}
	m := s.Module
	if !(m.MaxVoltage > 0 && m.MaxCurrent > 0 && m.MaxPower > 0 && m.MinVoltage >= 0 && m.MinVoltage < m.MaxVoltage) {
		return bad("module ratings %+v", m)
	}
	maxID := uint32(0x7FF)
	if s.Extended {
		maxID = 0x1FFFFFFF
	}
	for _, fr := range []struct {
		key      string
		f        *Frame
		names    map[string]bool
		required []string
	}{
		{"command", &s.Command, map[string]bool{"voltage": true, "current": true, "on": true, "const": true}, []string{"voltage", "current"}},
		{"status", &s.Status, map[string]bool{"voltage": true, "current": true, "fault": true}, []string{"voltage", "current"}},
	} {
		f := fr.f
		if f.AddressMask == 0 || f.AddressShift > 28 {
			return bad("%s: no address bits", fr.key)
		}
		if f.ID&(f.AddressMask<<f.AddressShift) != 0 {
			return bad("%s: id %#x has address bits set", fr.key, f.ID)
		}
		if f.ID|f.AddressMask<<f.AddressShift > maxID {
			return bad("%s: identifiers beyond %#x", fr.key, maxID)
		}
		if f.Length < 1 || f.Length > 8 {
			return bad("%s: length %d, want 1-8", fr.key, f.Length)
		}
		used := make([]string, f.Length)
		seen := map[string]bool{}
		for _, fd := range f.Fields {
			k := fr.key + "." + fd.Name
			switch {
			case !fr.names[fd.Name]:
				return bad("%s: unknown field", k)
			case seen[fd.Name] && fd.Name != "const":
				return bad("%s: twice", k)
			case fd.Size != 1 && fd.Size != 2 && fd.Size != 4:
				return bad("%s: size %d, want 1, 2 or 4", k, fd.Size)
			case fd.Byte < 0 || fd.Byte+fd.Size > f.Length:
				return bad("%s: bytes %d-%d outside the frame", k, fd.Byte, fd.Byte+fd.Size-1)
			case (fd.Name == "voltage" || fd.Name == "current") && (!(fd.Scale > 0) || math.IsInf(fd.Scale, 0)):
				return bad("%s: scale %v, want > 0", k, fd.Scale)
			case fd.Name == "fault" && fd.Mask == 0:
				return bad("%s: no mask", k)
			}
			for b := fd.Byte; b < fd.Byte+fd.Size; b++ {
				if used[b] != "" {
					return bad("%s: byte %d already holds %s", k, b, used[b])
				}
				used[b] = fd.Name
			}
			seen[fd.Name] = true
		}
		for _, r := range fr.required {
			if !seen[r] {
				return bad("%s: no %s field", fr.key, r)
			}
		}
	}
	if s.Command.ID == s.Status.ID && s.Command.AddressShift == s.Status.AddressShift {
		return bad("command and status share identifiers")
	}
	return nil
}

// ratings returns one module's limits as physic values.
func (s *MessageSet) limits() (minV, maxV physic.ElectricPotential, maxI physic.ElectricCurrent, maxP physic.Power) {
	m := s.Module
	return physic.ElectricPotential(m.MinVoltage * float64(physic.Volt)), physic.ElectricPotential(m.MaxVoltage * float64(physic.Volt)),
		physic.ElectricCurrent(m.MaxCurrent * float64(physic.Ampere)), physic.Power(m.MaxPower * float64(physic.Watt))
}

// put writes raw into b at f.
func (f *Field) put(b []byte, raw uint32) {
	for i := range f.Size {
		shift := 8 * (f.Size - 1 - i)
		if f.Little {
			shift = 8 * i
		}
		b[f.Byte+i] = byte(raw >> shift)
	}
}

// get reads f's raw value from b.
func (f *Field) get(b []byte) uint32 {
	var raw uint32
	for i := range f.Size {
		shift := 8 * (f.Size - 1 - i)
		if f.Little {
			shift = 8 * i
		}
		raw |= uint32(b[f.Byte+i]) << shift
	}
	return raw
}

// encode returns the raw value of the physical value x (V or A), rounded
// and clamped to the field's range.
func (f *Field) encode(x float64) uint32 {
	n := math.Round((x - f.Offset) / f.Scale)
	bits := 8 * f.Size
	lo, hi := 0.0, math.Exp2(float64(bits))-1
	if f.Signed {
		lo, hi = -math.Exp2(float64(bits-1)), math.Exp2(float64(bits-1))-1
	}
	n = math.Max(lo, math.Min(hi, n))
	return uint32(int64(n)) & uint32(uint64(1)<<bits-1)
}

// decode returns the physical value of f in b.
func (f *Field) decode(b []byte) float64 {
	raw := f.get(b)
	v := float64(raw)
	if f.Signed {
		bits := 8 * f.Size
		if raw&(1<<(bits-1)) != 0 {
			v -= math.Exp2(float64(bits))
		}
	}
	return v*f.Scale + f.Offset
}

// ParseMessageSet reads and validates a message set from YAML.
func ParseMessageSet(text []byte) (*MessageSet, error) {
	var s MessageSet
	dec := yaml.NewDecoder(bytes.NewReader(text))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMessageSet, err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

//go:embed sets/*.yaml
var setFiles embed.FS

// shippedSets parses the embedded sets; the tests check every one.
func shippedSets() (map[string]*MessageSet, error) {
	ents, err := setFiles.ReadDir("sets")
	if err != nil {
		return nil, err
	}
	out := map[string]*MessageSet{}
	var errs []error
	for _, e := range ents {
		text, err := setFiles.ReadFile("sets/" + e.Name())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s, err := ParseMessageSet(text)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.Name(), err))
			continue
		}
		if want := strings.TrimSuffix(e.Name(), ".yaml"); s.Name != want {
			errs = append(errs, fmt.Errorf("%s: names set %q", e.Name(), s.Name))
			continue
		}
		out[s.Name] = s
	}
	return out, errors.Join(errs...)
}

// Lookup returns a fresh copy of the shipped message set called name.
func Lookup(name string) (*MessageSet, error) {
	sets, err := shippedSets()
	if s, ok := sets[name]; ok {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w %q (have %v)", ErrUnknownSet, name, Names())
}

// Names returns the shipped message sets' names, sorted.
func Names() []string {
	sets, _ := shippedSets()
	out := make([]string, 0, len(sets))
	for n := range sets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
