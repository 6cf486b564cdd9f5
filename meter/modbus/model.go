package modbus

import (
	"fmt"
	"math"
	"sort"

	"github.com/evsed/evsed/meter"
)

// Quantity names the value of a meter.Reading that a register carries.
// Per-phase quantities take a Register.Phase of 1..3.
type Quantity string

// Quantities a register can carry.
const (
	EnergyImport Quantity = "energy_import" // active energy delivered to the vehicle
	EnergyExport Quantity = "energy_export" // active energy fed back
	PowerTotal   Quantity = "power"         // total active power, signed (negative: export)
	PowerPhase   Quantity = "power_phase"   // active power of one phase
	Current      Quantity = "current"       // current of one phase
	Voltage      Quantity = "voltage"       // voltage of one phase to neutral
	Frequency    Quantity = "frequency"     // line frequency
	PowerFactor  Quantity = "power_factor"  // total power factor, -1..1
)

// Function is the Modbus function that reads a register.
type Function string

// Register functions.
const (
	Input   Function = "input"   // read input registers, function code 4
	Holding Function = "holding" // read holding registers, function code 3
)

// Type is the encoding of a register value on the wire. Bytes within a 16-bit
// register are big-endian, as Modbus defines; WordOrder orders the registers
// of a multi-register value.
type Type string

// Register types.
const (
	Int16   Type = "int16"
	Uint16  Type = "uint16"
	Int32   Type = "int32"
	Uint32  Type = "uint32"
	Float32 Type = "float32" // IEEE 754 single precision
	Int64   Type = "int64"
	Uint64  Type = "uint64"
)

// Words returns the number of 16-bit registers a value of type t occupies,
// or 0 for an unknown type.
func (t Type) Words() int {
	switch t {
	case Int16, Uint16:
		return 1
	case Int32, Uint32, Float32:
		return 2
	case Int64, Uint64:
		return 4
	}
	return 0
}

// WordOrder orders the 16-bit registers of a multi-register value. The zero
// value is BigWords.
type WordOrder string

// Word orders.
const (
	BigWords    WordOrder = ""       // most significant word first (the Modbus custom)
	LittleWords WordOrder = "little" // least significant word first (Carlo Gavazzi)
)

// Unit is the unit of a register value once multiplied by its Scale.
type Unit string

// Units, by the quantity they measure.
const (
	KWh  Unit = "kWh"
	Wh   Unit = "Wh"
	W    Unit = "W"
	KW   Unit = "kW"
	V    Unit = "V"
	A    Unit = "A"
	MA   Unit = "mA"
	Hz   Unit = "Hz"
	None Unit = "" // dimensionless: power factor
)

// baseUnits returns how many base units of the Reading field (mWh, nW, nA,
// nV, µHz, or 1 for the power factor) make one u, and whether u measures q.
func baseUnits(q Quantity, u Unit) (int64, bool) {
	switch q {
	case EnergyImport, EnergyExport:
		switch u {
		case KWh:
			return int64(meter.KiloWattHour), true
		case Wh:
			return int64(meter.WattHour), true
		}
	case PowerTotal, PowerPhase:
		switch u {
		case W:
			return 1e9, true
		case KW:
			return 1e12, true
		}
	case Current:
		switch u {
		case A:
			return 1e9, true
		case MA:
			return 1e6, true
		}
	case Voltage:
		if u == V {
			return 1e9, true
		}
	case Frequency:
		if u == Hz {
			return 1e6, true
		}
	case PowerFactor:
		if u == None {
			return 1, true
		}
	}
	return 0, false
}

// field returns the Reading field a quantity fills, or 0 if q is unknown.
func (q Quantity) field() meter.Field {
	switch q {
	case EnergyImport:
		return meter.FieldEnergyImport
	case EnergyExport:
		return meter.FieldEnergyExport
	case PowerTotal:
		return meter.FieldPower
	case PowerPhase:
		return meter.FieldPowerPhases
	case Current:
		return meter.FieldCurrent
	case Voltage:
		return meter.FieldVoltage
	case Frequency:
		return meter.FieldFrequency
	case PowerFactor:
		return meter.FieldPowerFactor
	}
	return 0
}

// perPhase reports whether q takes a phase number.
func (q Quantity) perPhase() bool { return q == PowerPhase || q == Current || q == Voltage }

// Register says where one value lives and how to decode it: the value in Unit
// is the raw register value times Scale. Integer registers decode exactly
// (the product is computed in rational arithmetic, so 0.01 kWh steps give
// exact mWh); float32 registers decode from the shortest decimal that
// round-trips the float32 (what the meter displays), rounded to the nearest
// base unit. The struct tags let a board file describe a generic meter.
type Register struct {
	Quantity Quantity  `json:"quantity" yaml:"quantity"`
	Phase    int       `json:"phase,omitempty" yaml:"phase,omitempty"` // 1..3 for per-phase quantities, else 0
	Addr     uint16    `json:"addr" yaml:"addr"`                       // protocol address, 0-based (register 30001 is 0)
	Function Function  `json:"function" yaml:"function"`
	Type     Type      `json:"type" yaml:"type"`
	Order    WordOrder `json:"order,omitempty" yaml:"order,omitempty"`
	Scale    float64   `json:"scale" yaml:"scale"` // multiplier from the raw value to Unit; must be > 0
	Unit     Unit      `json:"unit" yaml:"unit"`
}

// end returns the address after the last word of r.
func (r Register) end() int { return int(r.Addr) + r.Type.Words() }

// Model is the register map of one meter type. Models are read-only once
// built; a Meter keeps a pointer to its Model.
type Model struct {
	Name   string // lower-case identifier used in board files and the CLI, e.g. "sdm630"
	Title  string // maker and type for people, with the source of the map
	Phases int    // 1 or 3
	// MaxRegs bounds the registers of one request: the Modbus limit is 125
	// (used when 0); Eastron meters answer at most 40 values (80 registers).
	MaxRegs int
	// MaxGap is the number of unmapped registers a request may span to merge
	// two runs into one request; 0 merges only contiguous runs. Set it only
	// where the meter answers reads of the registers in between.
	MaxGap    int
	Registers []Register
	// DC marks the meter of a DC circuit (a DC charger's output): its
	// Readings carry meter.Reading.DC, with the DC voltage and current as
	// phase 1's. A DC model has Phases 1 and no per-phase power, frequency
	// or power factor.
	DC bool
}

// maxRegs returns the effective per-request limit.
func (m *Model) maxRegs() int {
	if m.MaxRegs == 0 {
		return 125
	}
	return m.MaxRegs
}

// Fields returns the Reading fields the model fills.
func (m *Model) Fields() meter.Field {
	var f meter.Field
	for _, r := range m.Registers {
		f |= r.Quantity.field()
	}
	return f
}

// Validate checks that m can be read and decoded: known quantities, types,
// functions and units that fit their quantity, a positive finite scale,
// addresses in range, one register per value, registers of different values
// that do not partly overlap, and every phase of a per-phase quantity.
func (m *Model) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: %s", ErrModel, m.Name, fmt.Sprintf(format, args...))
	}
	if m.Name == "" {
		return bad("no name")
	}
	if m.Phases != 1 && m.Phases != 3 {
		return bad("phases %d, want 1 or 3", m.Phases)
	}
	if m.MaxRegs < 0 || m.MaxRegs > 125 {
		return bad("max registers %d, want 1..125 (0 for 125)", m.MaxRegs)
	}
	if m.MaxGap < 0 {
		return bad("max gap %d is negative", m.MaxGap)
	}
	if m.DC && m.Phases != 1 {
		return bad("a DC meter has phases %d, want 1", m.Phases)
	}
	if len(m.Registers) == 0 {
		return bad("no registers")
	}
	type key struct {
		q     Quantity
		phase int
	}
	seen := make(map[key]bool)
	phases := make(map[Quantity]int)
	for i, r := range m.Registers {
		if r.Quantity.field() == 0 {
			return bad("register %d: unknown quantity %q", i, r.Quantity)
		}
		if m.DC && (r.Quantity == PowerPhase || r.Quantity == Frequency || r.Quantity == PowerFactor) {
			return bad("register %d: a DC meter has no %s", i, r.Quantity)
		}
		if r.Quantity.perPhase() {
			if r.Phase < 1 || r.Phase > m.Phases {
				return bad("register %d (%s): phase %d, want 1..%d", i, r.Quantity, r.Phase, m.Phases)
			}
		} else if r.Phase != 0 {
			return bad("register %d (%s): phase %d on a total", i, r.Quantity, r.Phase)
		}
		k := key{r.Quantity, r.Phase}
		if seen[k] {
			return bad("register %d: second register for %s phase %d", i, r.Quantity, r.Phase)
		}
		seen[k] = true
		phases[r.Quantity]++
		if r.Function != Input && r.Function != Holding {
			return bad("register %d (%s): unknown function %q", i, r.Quantity, r.Function)
		}
		if r.Type.Words() == 0 {
			return bad("register %d (%s): unknown type %q", i, r.Quantity, r.Type)
		}
		if r.Order != BigWords && r.Order != LittleWords {
			return bad("register %d (%s): unknown word order %q", i, r.Quantity, r.Order)
		}
		if !(r.Scale > 0) || math.IsInf(r.Scale, 0) {
			return bad("register %d (%s): scale %v, want > 0", i, r.Quantity, r.Scale)
		}
		if _, ok := baseUnits(r.Quantity, r.Unit); !ok {
			return bad("register %d (%s): unit %q does not measure it", i, r.Quantity, r.Unit)
		}
		if r.end() > 0x10000 {
			return bad("register %d (%s): ends past address 0xffff", i, r.Quantity)
		}
		if r.Type.Words() > m.maxRegs() {
			return bad("register %d (%s): wider than %d registers per request", i, r.Quantity, m.maxRegs())
		}
		if _, err := newDecoder(r); err != nil {
			return bad("register %d (%s): %v", i, r.Quantity, err)
		}
	}
	for q, n := range phases {
		if q.perPhase() && n != m.Phases {
			return bad("%s has %d of %d phases", q, n, m.Phases)
		}
	}
	// Two values may share a register (a single-phase meter's total power is
	// its L1 power) only when they read it the same way; a partial overlap
	// is a typo in the map.
	regs := append([]Register(nil), m.Registers...)
	sort.Slice(regs, func(i, j int) bool {
		if regs[i].Function != regs[j].Function {
			return regs[i].Function < regs[j].Function
		}
		return regs[i].Addr < regs[j].Addr
	})
	for i := 1; i < len(regs); i++ {
		a, b := regs[i-1], regs[i]
		if a.Function != b.Function || a.end() <= int(b.Addr) {
			continue
		}
		if a.Addr != b.Addr || a.Type != b.Type || a.Order != b.Order {
			return bad("%s at %#04x overlaps %s at %#04x", b.Quantity, b.Addr, a.Quantity, a.Addr)
		}
	}
	return nil
}

// GenericConfig describes a meter that is not shipped, from a board file.
type GenericConfig struct {
	Phases    int        `json:"phases" yaml:"phases"`                       // 1 or 3
	MaxRegs   int        `json:"maxRegs,omitempty" yaml:"maxRegs,omitempty"` // see Model.MaxRegs
	MaxGap    int        `json:"maxGap,omitempty" yaml:"maxGap,omitempty"`   // see Model.MaxGap
	Registers []Register `json:"registers" yaml:"registers"`
	DC        bool       `json:"dc,omitempty" yaml:"dc,omitempty"` // see Model.DC
}

// Generic returns the validated model "generic" described by c. The returned
// Model does not share memory with c.
func Generic(c GenericConfig) (*Model, error) {
	m := &Model{
		Name:      "generic",
		Title:     "generic Modbus meter (registers from configuration)",
		Phases:    c.Phases,
		MaxRegs:   c.MaxRegs,
		MaxGap:    c.MaxGap,
		Registers: append([]Register(nil), c.Registers...),
		DC:        c.DC,
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Lookup returns the shipped model called name. The Model is shared and must
// not be modified. "generic" is not shipped: build it with Generic.
func Lookup(name string) (*Model, error) {
	for _, m := range shipped {
		if m.Name == name {
			return m, nil
		}
	}
	if name == "generic" {
		return nil, fmt.Errorf("%w %q: its registers come from configuration (use Generic)", ErrUnknownModel, name)
	}
	return nil, fmt.Errorf("%w %q (have %v)", ErrUnknownModel, name, Names())
}

// Names returns the names of the shipped models, sorted.
func Names() []string {
	names := make([]string, 0, len(shipped))
	for _, m := range shipped {
		names = append(names, m.Name)
	}
	sort.Strings(names)
	return names
}
