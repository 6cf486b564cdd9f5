package ocpp16

import (
	"math"
	"reflect"
	"testing"

	"periph.io/x/conn/v3/physic"

	"github.com/evsed/evsed/meter"
)

func TestFixed(t *testing.T) {
	tests := []struct {
		v        int64
		decimals int
		want     string
	}{
		{0, 3, "0"},
		{1234500, 3, "1234.5"},
		{1234000, 3, "1234"},
		{5, 3, "0.005"},
		{-5, 3, "-0.005"},
		{-1500, 3, "-1.5"},
		{230_100_000_000, 9, "230.1"},
		{1, 9, "0.000000001"},
		{math.MaxInt64, 3, "9223372036854775.807"},
		{math.MinInt64, 3, "-9223372036854775.808"},
		{42, 0, "42"},
	}
	for _, tc := range tests {
		if got := fixed(tc.v, tc.decimals); got != tc.want {
			t.Errorf("fixed(%d, %d) = %q, want %q", tc.v, tc.decimals, got, tc.want)
		}
	}
}

func TestSampledValues(t *testing.T) {
	threePhase := meter.Reading{
		Fields: meter.FieldEnergyImport | meter.FieldEnergyExport | meter.FieldPower | meter.FieldPowerPhases |
			meter.FieldCurrent | meter.FieldVoltage | meter.FieldFrequency | meter.FieldPowerFactor,
		Phases:       3,
		EnergyImport: 12345678 * meter.MilliWattHour,
		EnergyExport: 2 * meter.WattHour,
		Power:        11 * physic.KiloWatt,
		PowerPhase:   [3]physic.Power{3666 * physic.Watt, 3667 * physic.Watt, 3667 * physic.Watt},
		Current:      [3]physic.ElectricCurrent{16 * physic.Ampere, 15500 * physic.MilliAmpere, 16 * physic.Ampere},
		Voltage:      [3]physic.ElectricPotential{230 * physic.Volt, 229900 * physic.MilliVolt, 231 * physic.Volt},
		Frequency:    50 * physic.Hertz,
		PowerFactor:  0.98,
	}
	sv := func(m Measurand, v string, p Phase, u UnitOfMeasure) SampledValue {
		return SampledValue{Value: v, Context: ReadingContextSamplePeriodic, Measurand: m, Phase: p, Location: LocationOutlet, Unit: u}
	}
	tests := []struct {
		name string
		r    meter.Reading
		want []Measurand
		out  []SampledValue
	}{
		{"energy only", threePhase, []Measurand{MeasurandEnergyActiveImportRegister},
			[]SampledValue{sv(MeasurandEnergyActiveImportRegister, "12345.678", "", UnitOfMeasureWh)}},
		{"export register", threePhase, []Measurand{MeasurandEnergyActiveExportRegister},
			[]SampledValue{sv(MeasurandEnergyActiveExportRegister, "2", "", UnitOfMeasureWh)}},
		{"power total and per phase", threePhase, []Measurand{MeasurandPowerActiveImport}, []SampledValue{
			sv(MeasurandPowerActiveImport, "11000", "", UnitOfMeasureW),
			sv(MeasurandPowerActiveImport, "3666", PhaseL1, UnitOfMeasureW),
			sv(MeasurandPowerActiveImport, "3667", PhaseL2, UnitOfMeasureW),
			sv(MeasurandPowerActiveImport, "3667", PhaseL3, UnitOfMeasureW),
		}},
		{"currents and voltages in configured order", threePhase, []Measurand{MeasurandVoltage, MeasurandCurrentImport}, []SampledValue{
			sv(MeasurandVoltage, "230", PhaseL1N, UnitOfMeasureV),
			sv(MeasurandVoltage, "229.9", PhaseL2N, UnitOfMeasureV),
			sv(MeasurandVoltage, "231", PhaseL3N, UnitOfMeasureV),
			sv(MeasurandCurrentImport, "16", PhaseL1, UnitOfMeasureA),
			sv(MeasurandCurrentImport, "15.5", PhaseL2, UnitOfMeasureA),
			sv(MeasurandCurrentImport, "16", PhaseL3, UnitOfMeasureA),
		}},
		{"frequency and power factor carry no unit", threePhase, []Measurand{MeasurandFrequency, MeasurandPowerFactor}, []SampledValue{
			sv(MeasurandFrequency, "50", "", ""),
			sv(MeasurandPowerFactor, "0.98", "", ""),
		}},
		{"single phase meter", meter.Reading{Fields: meter.FieldCurrent | meter.FieldVoltage, Phases: 1,
			Current: [3]physic.ElectricCurrent{10 * physic.Ampere}, Voltage: [3]physic.ElectricPotential{230 * physic.Volt}},
			[]Measurand{MeasurandCurrentImport, MeasurandVoltage}, []SampledValue{
				sv(MeasurandCurrentImport, "10", PhaseL1, UnitOfMeasureA),
				sv(MeasurandVoltage, "230", PhaseL1N, UnitOfMeasureV),
			}},
		{"DC reading has no phase", meter.Reading{Fields: meter.FieldPower | meter.FieldCurrent | meter.FieldVoltage, Phases: 1, DC: true,
			Power: 50232 * physic.Watt, Current: [3]physic.ElectricCurrent{125500 * physic.MilliAmpere},
			Voltage: [3]physic.ElectricPotential{400250 * physic.MilliVolt}},
			[]Measurand{MeasurandPowerActiveImport, MeasurandCurrentImport, MeasurandVoltage}, []SampledValue{
				sv(MeasurandPowerActiveImport, "50232", "", UnitOfMeasureW),
				sv(MeasurandCurrentImport, "125.5", "", UnitOfMeasureA),
				sv(MeasurandVoltage, "400.25", "", UnitOfMeasureV),
			}},
		{"DC power per phase is the total", meter.Reading{Fields: meter.FieldPower | meter.FieldPowerPhases, Phases: 1, DC: true,
			Power: 7 * physic.KiloWatt, PowerPhase: [3]physic.Power{7 * physic.KiloWatt}},
			[]Measurand{MeasurandPowerActiveImport}, []SampledValue{sv(MeasurandPowerActiveImport, "7000", "", UnitOfMeasureW)}},
		{"DC power per phase without a total", meter.Reading{Fields: meter.FieldPowerPhases, Phases: 1, DC: true,
			PowerPhase: [3]physic.Power{7 * physic.KiloWatt}},
			[]Measurand{MeasurandPowerActiveImport}, []SampledValue{sv(MeasurandPowerActiveImport, "7000", "", UnitOfMeasureW)}},
		{"fields the reading lacks are skipped", meter.Reading{Fields: meter.FieldEnergyImport, EnergyImport: 5 * meter.WattHour},
			[]Measurand{MeasurandPowerActiveImport, MeasurandEnergyActiveImportRegister, MeasurandVoltage},
			[]SampledValue{sv(MeasurandEnergyActiveImportRegister, "5", "", UnitOfMeasureWh)}},
		{"nothing wanted", threePhase, nil, nil},
		{"unmapped measurand", threePhase, []Measurand{MeasurandCurrentOffered}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sampledValues(tc.r, ReadingContextSamplePeriodic, tc.want)
			if !reflect.DeepEqual(got, tc.out) {
				t.Errorf("got  %+v\nwant %+v", got, tc.out)
			}
			for _, v := range got {
				if err := Validate(&v); err != nil {
					t.Errorf("%+v breaks the schema: %v", v, err)
				}
			}
		})
	}
}
