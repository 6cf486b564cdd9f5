package ocpp16

import (
	"strconv"
	"strings"

	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/station"
)

// phaseNames are the per-phase Phase values of currents and powers, and
// phaseToNeutral those of voltages (measured against neutral), index 0 = L1.
var (
	phaseNames     = [3]Phase{PhaseL1, PhaseL2, PhaseL3}
	phaseToNeutral = [3]Phase{PhaseL1N, PhaseL2N, PhaseL3N}
)

// Decimal scales of periph's physic units: nanowatts, nanoamperes and
// nanovolts, but microhertz.
const (
	nano  = 9
	micro = 6
)

// sampledValues is sampledValuesDC without a DC connector's status: the
// sampled values of a reading alone.
func sampledValues(r meter.Reading, ctx ReadingContext, want []Measurand) []SampledValue {
	return sampledValuesDC(r, nil, ctx, want)
}

// sampledValuesDC maps the fields of r, and of dc on a DC connector (nil
// on AC), to 1.6 sampled values, one measurand of want after the other (in
// want's order, per phase L1..L3 within one), all with context ctx and
// location Outlet but the vehicle's SoC (location EV). Measurands neither
// carries, or that evsed's meters never measure (reactive energy,
// temperature...), are skipped, so the result may be empty.
//
// From dc come SoC (percent, an integer; skipped while unknown),
// Power.Offered and Current.Offered (what the charger allows now: the
// supply, the connector's rating and every limit; a Power.Offered of 0
// means no power limit and is skipped).
//
// Values keep the meter's precision: energies in Wh with up to three
// decimals (the register counts mWh), powers in W, currents in A, voltages
// in V, frequency in Hz, all as plain decimals without exponent or trailing
// zeros. Frequency and Power.Factor carry no unit: 1.6 has no Hz, and a
// factor has none, while an absent unit would be read as Wh only for energy
// measurands.
//
// A DC reading (r.DC) has one current and one voltage, which belong to no
// AC phase: they go without a phase, as does its power; a per-phase power
// is sent only when the reading has no total, since on DC it is the total.
func sampledValuesDC(r meter.Reading, dc *station.DCStatus, ctx ReadingContext, want []Measurand) []SampledValue {
	var out []SampledValue
	add := func(m Measurand, value string, phase Phase, unit UnitOfMeasure) {
		loc := LocationOutlet
		if m == MeasurandSoC {
			loc = LocationEV
		}
		out = append(out, SampledValue{
			Value:     value,
			Context:   ctx,
			Measurand: m,
			Phase:     phase,
			Location:  loc,
			Unit:      unit,
		})
	}
	phases := min(max(r.Phases, 1), 3)
	lines, toNeutral := phaseNames[:phases], phaseToNeutral[:phases]
	if r.DC {
		lines, toNeutral = []Phase{""}, []Phase{""}
	}
	perPhasePower := r.Fields.Has(meter.FieldPowerPhases) && !(r.DC && r.Fields.Has(meter.FieldPower))
	for _, m := range want {
		switch m {
		case MeasurandEnergyActiveImportRegister:
			if r.Fields.Has(meter.FieldEnergyImport) {
				add(m, fixed(int64(r.EnergyImport), 3), "", UnitOfMeasureWh)
			}
		case MeasurandEnergyActiveExportRegister:
			if r.Fields.Has(meter.FieldEnergyExport) {
				add(m, fixed(int64(r.EnergyExport), 3), "", UnitOfMeasureWh)
			}
		case MeasurandPowerActiveImport:
			if r.Fields.Has(meter.FieldPower) {
				add(m, fixed(int64(r.Power), nano), "", UnitOfMeasureW)
			}
			if perPhasePower {
				for i, p := range lines {
					add(m, fixed(int64(r.PowerPhase[i]), nano), p, UnitOfMeasureW)
				}
			}
		case MeasurandCurrentImport:
			if r.Fields.Has(meter.FieldCurrent) {
				for i, p := range lines {
					add(m, fixed(int64(r.Current[i]), nano), p, UnitOfMeasureA)
				}
			}
		case MeasurandVoltage:
			if r.Fields.Has(meter.FieldVoltage) {
				for i, p := range toNeutral {
					add(m, fixed(int64(r.Voltage[i]), nano), p, UnitOfMeasureV)
				}
			}
		case MeasurandFrequency:
			if r.Fields.Has(meter.FieldFrequency) {
				add(m, fixed(int64(r.Frequency), micro), "", "")
			}
		case MeasurandPowerFactor:
			if r.Fields.Has(meter.FieldPowerFactor) {
				add(m, strconv.FormatFloat(float64(r.PowerFactor), 'f', -1, 64), "", "")
			}
		case MeasurandSoC:
			if dc != nil && dc.SoC >= 0 {
				add(m, strconv.Itoa(dc.SoC), "", UnitOfMeasurePercent)
			}
		case MeasurandPowerOffered:
			if dc != nil && dc.OfferedPower > 0 {
				add(m, fixed(int64(dc.OfferedPower), nano), "", UnitOfMeasureW)
			}
		case MeasurandCurrentOffered:
			if dc != nil {
				add(m, fixed(int64(dc.OfferedCurrent), nano), "", UnitOfMeasureA)
			}
		}
	}
	return out
}

// fixed formats v / 10^decimals as a decimal without exponent and without
// trailing fractional zeros: fixed(1234500, 3) is "1234.5", fixed(-5, 3) is
// "-0.005". Integer arithmetic keeps billing values exact, which a float64
// round trip would not for large registers.
func fixed(v int64, decimals int) string {
	neg := v < 0
	// Work on the magnitude as uint64 so that math.MinInt64 does not overflow.
	u := uint64(v)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u, 10)
	if len(s) <= decimals {
		s = strings.Repeat("0", decimals-len(s)+1) + s
	}
	whole, frac := s[:len(s)-decimals], strings.TrimRight(s[len(s)-decimals:], "0")
	if frac != "" {
		whole += "." + frac
	}
	if neg {
		whole = "-" + whole
	}
	return whole
}
