package smartcharging

import "math"

// Defaults of the conversion between amperes and watts.
const (
	// DefaultVoltage is the nominal phase voltage (line to neutral), in V,
	// used when a Query or Convert is given none: the European 230 V.
	DefaultVoltage = 230.0
	// DefaultPhases is the number of phases assumed when none is given:
	// both OCPP versions read an absent numberPhases as 3, and a connector
	// of unknown wiring is taken to have all three.
	DefaultPhases = 3
)

// Convert returns limit, given in unit from, in unit to, rounded down to a
// multiple of 0.1 (OCPP limits have one decimal; rounding down keeps the
// result within the limit given).
//
// phases is the number of phases the connector (or, for the station, the
// grid connection) has, and numberPhases the number the schedule's period
// allows (0: not given, read as 3); phases <= 0 is read as DefaultPhases
// and voltage <= 0 as DefaultVoltage (in V).
//
//   - W to A divides by voltage × phases: the EV may draw on every phase the
//     connector has, so the current per phase must keep the total power at
//     or below the limit, whatever numberPhases says.
//   - A to W multiplies by voltage × min(numberPhases, phases): the current
//     flows on at most that many phases.
//
// An infinite limit (no limit) stays infinite.
func Convert(limit float64, from, to RateUnit, phases, numberPhases int, voltage float64) float64 {
	if math.IsInf(limit, 1) {
		return limit
	}
	if phases <= 0 {
		phases = DefaultPhases
	}
	if numberPhases <= 0 {
		numberPhases = DefaultPhases
	}
	if voltage <= 0 {
		voltage = DefaultVoltage
	}
	switch {
	case from == Watts && to != Watts:
		limit /= voltage * float64(phases)
	case from != Watts && to == Watts:
		limit *= voltage * float64(min(numberPhases, phases))
	}
	return floorTenth(limit)
}

// floorTenth rounds v down to a multiple of 0.1. A value less than 1e-9
// below a multiple counts as that multiple: it is what binary floating
// point makes of an exact decimal (161 × 0.1 is 16.099999999999998), and
// taking a tenth off for it would be a loss with no safety gained.
func floorTenth(v float64) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	return math.Floor(v*10+1e-8) / 10
}
