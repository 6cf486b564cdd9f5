// Package meter is the energy meter contract: a Meter returns typed Readings
// that say which fields they carry. Drivers live in sub-packages (sim, modbus,
// can); the station samples them off its event loop, since a Modbus read at
// 9600 baud takes tens of milliseconds.
package meter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3/physic"
)

// Energy is an energy register value in milliwatt-hours. An integer keeps
// billing figures exact; int64 holds 9.2e12 kWh.
type Energy int64

// Energy units.
const (
	MilliWattHour Energy = 1
	WattHour             = 1000 * MilliWattHour
	KiloWattHour         = 1000 * WattHour
)

// Wh returns e in watt-hours.
func (e Energy) Wh() float64 { return float64(e) / float64(WattHour) }

// String formats e in Wh with three decimals, e.g. "1234.500Wh".
func (e Energy) String() string { return fmt.Sprintf("%.3fWh", e.Wh()) }

// EnergyFromWh converts watt-hours, rounding to the nearest mWh.
func EnergyFromWh(wh float64) Energy {
	if wh < 0 {
		return Energy(wh*float64(WattHour) - 0.5)
	}
	return Energy(wh*float64(WattHour) + 0.5)
}

// PowerFactor is a dimensionless power factor, -1..1.
type PowerFactor float64

// Field is a bit set of the values a Reading carries.
type Field uint32

// Fields of a Reading.
const (
	FieldEnergyImport Field = 1 << iota
	FieldEnergyExport
	FieldPower       // total active power
	FieldPowerPhases // active power per phase
	FieldCurrent     // current per phase
	FieldVoltage     // voltage per phase (to neutral)
	FieldFrequency
	FieldPowerFactor
)

// Has reports whether every field of want is set in f.
func (f Field) Has(want Field) bool { return f&want == want }

// Reading is one set of values read from a meter at one time. Per-phase
// arrays are L1, L2, L3; a single-phase meter fills index 0 only and sets
// Phases to 1. A DC meter fills index 0 too, with Phases 1, and sets DC.
type Reading struct {
	Time   time.Time
	Fields Field
	Phases int // 1 or 3; 0 when the reading carries no per-phase values
	// DC marks a reading of a DC circuit (a shunt on a DC charger's output):
	// Current[0] is the DC current, Voltage[0] the voltage between the DC
	// poles, and neither belongs to an AC phase, so reports carry no phase
	// for them. The zero value is an AC reading.
	DC bool

	EnergyImport Energy // import register (energy delivered to the vehicle)
	EnergyExport Energy // export register
	Power        physic.Power
	PowerPhase   [3]physic.Power
	Current      [3]physic.ElectricCurrent
	Voltage      [3]physic.ElectricPotential
	Frequency    physic.Frequency
	PowerFactor  PowerFactor
}

// Meter reads an energy meter. Read may block for the bus round trips; it
// must honour ctx. Implementations are safe for concurrent use unless they
// say otherwise.
type Meter interface {
	// String names the meter for logs, e.g. "sdm630@rtu:/dev/ttyUSB0#1".
	String() string
	// Read returns a fresh reading or an error; a meter that does not answer
	// returns an error wrapping ErrNoResponse.
	Read(ctx context.Context) (Reading, error)
}

// Errors a Meter may wrap.
var (
	// ErrNoResponse means the meter did not answer in time.
	ErrNoResponse = errors.New("meter: no response")
	// ErrImplausible means a reading failed a sanity check (an energy
	// register that went backwards or jumped): it must not be billed.
	ErrImplausible = errors.New("meter: implausible reading")
)
