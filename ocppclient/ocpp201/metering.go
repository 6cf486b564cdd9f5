package ocpp201

import (
	"time"

	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/station"
)

// measurands returns the measurands a SampledDataCtrlr or AlignedDataCtrlr
// variable lists, dropping unknown ones.
func (c *Charger) measurands(r devicemodel.Ref) []Measurand {
	var out []Measurand
	for _, v := range c.listVar(r) {
		if m := Measurand(v); m.IsValid() {
			out = append(out, m)
		}
	}
	return out
}

var (
	linePhases    = [3]Phase{PhaseL1, PhaseL2, PhaseL3}
	neutralPhases = [3]Phase{PhaseL1N, PhaseL2N, PhaseL3N}
)

// meterValues is meterValuesDC without a DC connector's status.
func meterValues(r meter.Reading, at time.Time, ctx ReadingContext, want []Measurand) []MeterValue {
	return meterValuesDC(r, nil, at, ctx, want)
}

// meterValuesDC turns a reading, and on a DC connector its status dc (nil
// on AC), into one MeterValue of the wanted measurands they have; nil when
// they have none. Energy is in Wh, power in W, current in A, voltage in
// V, frequency in Hz, SoC in Percent (unit given with every value but the
// power factor). A DC reading's current and voltage carry no phase.
//
// From dc come SoC (location EV; skipped while unknown), Power.Offered
// (skipped when no power limit applies) and Current.Offered: what the
// charger allows now, the supply, the connector's rating and every limit
// together.
func meterValuesDC(r meter.Reading, dc *station.DCStatus, at time.Time, ctx ReadingContext, want []Measurand) []MeterValue {
	var out []SampledValue
	add := func(m Measurand, v float64, p Phase, unit string) {
		loc := LocationOutlet
		if m == MeasurandSoC {
			loc = LocationEV
		}
		out = append(out, SampledValue{Value: v, Context: ctx, Measurand: m, Phase: p, Location: loc,
			UnitOfMeasure: &UnitOfMeasure{Unit: unit}})
	}
	phases := min(max(r.Phases, 1), 3)
	lines, toNeutral := linePhases[:phases], neutralPhases[:phases]
	if r.DC {
		lines, toNeutral = []Phase{""}, []Phase{""}
	}
	for _, m := range want {
		switch m {
		case MeasurandEnergyActiveImportRegister:
			if r.Fields.Has(meter.FieldEnergyImport) {
				add(m, float64(r.EnergyImport)/float64(meter.WattHour), "", "Wh")
			}
		case MeasurandEnergyActiveExportRegister:
			if r.Fields.Has(meter.FieldEnergyExport) {
				add(m, float64(r.EnergyExport)/float64(meter.WattHour), "", "Wh")
			}
		case MeasurandPowerActiveImport:
			if r.Fields.Has(meter.FieldPower) {
				add(m, float64(r.Power)/1e9, "", "W")
			}
		case MeasurandCurrentImport:
			if r.Fields.Has(meter.FieldCurrent) {
				for i, p := range lines {
					add(m, float64(r.Current[i])/1e9, p, "A")
				}
			}
		case MeasurandVoltage:
			if r.Fields.Has(meter.FieldVoltage) {
				for i, p := range toNeutral {
					add(m, float64(r.Voltage[i])/1e9, p, "V")
				}
			}
		case MeasurandFrequency:
			if r.Fields.Has(meter.FieldFrequency) {
				add(m, float64(r.Frequency)/1e6, "", "Hz")
			}
		case MeasurandPowerFactor:
			if r.Fields.Has(meter.FieldPowerFactor) {
				add(m, float64(r.PowerFactor), "", "")
			}
		case MeasurandSoC:
			if dc != nil && dc.SoC >= 0 {
				add(m, float64(dc.SoC), "", "Percent")
			}
		case MeasurandPowerOffered:
			if dc != nil && dc.OfferedPower > 0 {
				add(m, float64(dc.OfferedPower)/1e9, "", "W")
			}
		case MeasurandCurrentOffered:
			if dc != nil {
				add(m, float64(dc.OfferedCurrent)/1e9, "", "A")
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	for i := range out {
		if out[i].UnitOfMeasure.Unit == "" {
			out[i].UnitOfMeasure = nil
		}
	}
	return []MeterValue{{Timestamp: NewDateTime(at), SampledValue: out}}
}
