package hal

import (
	"fmt"

	"periph.io/x/conn/v3/physic"
)

// IEC 61851-1 limits of the PWM current signal.
const (
	// MinOffer is the least current a PWM may offer: 6 A. Below it the pilot
	// holds a steady +12 V instead.
	MinOffer = 6 * physic.Ampere
	// MaxOffer is the most a PWM can offer: 80 A (96 % duty).
	MaxOffer = 80 * physic.Ampere
	// lowRangeMax is where the 0.6 A/% range ends and the 2.5 A/% range begins.
	lowRangeMax = 51 * physic.Ampere
)

// DutyPerMille is a PWM duty cycle in tenths of a percent (0-1000); it keeps
// the 0.1 % resolution of the standard without floating point.
type DutyPerMille int

// String formats the duty as a percentage, e.g. "53.3%".
func (d DutyPerMille) String() string { return fmt.Sprintf("%d.%d%%", d/10, d%10) }

// DutyFor returns the duty cycle that offers a. It reports ok=false when a is
// below MinOffer (no PWM: steady +12 V); currents above MaxOffer are clamped.
//
//	6 A <= a <= 51 A: duty% = a / 0.6
//	51 A < a <= 80 A: duty% = a / 2.5 + 64
func DutyFor(a physic.ElectricCurrent) (d DutyPerMille, ok bool) {
	if a < MinOffer {
		return 0, false
	}
	if a > MaxOffer {
		a = MaxOffer
	}
	if a <= lowRangeMax {
		// per-mille = a[A] / 0.6 * 10 = a[mA] / 60; round down so that the
		// duty never offers more than asked.
		return DutyPerMille(int64(a/physic.MilliAmpere) / 60), true
	}
	// per-mille = (a[A] / 2.5 + 64) * 10 = a[mA] / 250 + 640
	return DutyPerMille(int64(a/physic.MilliAmpere)/250 + 640), true
}

// CurrentFor is the inverse of DutyFor, as a vehicle reads the pilot: the
// current a duty cycle offers. Duties that IEC 61851 does not assign to a
// current (below 8 %, above 97 %, or in the 85-96 % gap's limits) return
// ok=false; 97 % and above means digital communication only.
func CurrentFor(d DutyPerMille) (a physic.ElectricCurrent, ok bool) {
	switch {
	case d < 80 || d > 970:
		return 0, false
	case d <= 100: // 8-10 %: 6 A
		return MinOffer, true
	case d <= 850:
		return physic.ElectricCurrent(d) * 60 * physic.MilliAmpere, true
	default: // 85-96 %; 96-97 % is 80 A
		a := (physic.ElectricCurrent(d) - 640) * 250 * physic.MilliAmpere
		if a > MaxOffer {
			a = MaxOffer
		}
		return a, true
	}
}

// Voltage bands of the CP high side, IEC 61851-1 table A.4 as evsed applies
// it: nominal +12/+9/+6/+3/0/-12 V, each +-1.1 V.
const bandTolerance = 1100 * physic.MilliVolt

var bands = []struct {
	nominal physic.ElectricPotential
	state   PilotState
}{
	{12 * physic.Volt, PilotA},
	{9 * physic.Volt, PilotB},
	{6 * physic.Volt, PilotC},
	{3 * physic.Volt, PilotD},
	{0, PilotE},
	{-12 * physic.Volt, PilotF},
}

// StateForVoltage maps a sensed CP high-side voltage to its state. A voltage
// in no band (between bands, or beyond them) is PilotUnknown: drivers keep the
// previous debounced state and let the debounce decide.
func StateForVoltage(v physic.ElectricPotential) PilotState {
	for _, b := range bands {
		if v >= b.nominal-bandTolerance && v <= b.nominal+bandTolerance {
			return b.state
		}
	}
	return PilotUnknown
}

// NominalVoltage returns the nominal high-side CP voltage of a state, for
// simulators and tests; Unknown returns 0 and false.
func NominalVoltage(s PilotState) (physic.ElectricPotential, bool) {
	for _, b := range bands {
		if b.state == s {
			return b.nominal, true
		}
	}
	return 0, false
}

// DiodeOK reports whether a CP low-side voltage, sampled while PWM runs, is
// where the vehicle's diode puts it: -12 V +- 1.1 V. Anything else is a diode
// fault (IEC 61851-1: missing diode or short).
func DiodeOK(low physic.ElectricPotential) bool {
	return low >= -12*physic.Volt-bandTolerance && low <= -12*physic.Volt+bandTolerance
}
