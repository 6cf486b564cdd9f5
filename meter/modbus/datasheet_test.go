package modbus

import (
	"context"
	"testing"

	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// TestDatasheetVectors loads hand-written register words, laid out as the
// makers' documents describe them, and checks the decoded values. Unlike
// the truth-based tests, whose encoder follows the model table, this pins
// the tables themselves: addresses, types, word orders and scales.
func TestDatasheetVectors(t *testing.T) {
	type words = map[uint16]uint16
	for _, tc := range []struct {
		model string
		fn    Function
		regs  words
		check func(r meter.Reading) bool
	}{
		{"sdm630", Input, words{
			0x0048: 0x4640, 0x0049: 0xE6B6, // import 12345.678 kWh, float32 high word first
			0x0004: 0x4365, 0x0005: 0xCCCD, // voltage L3 229.8 V
			0x0010: 0xC4BB, 0x0011: 0x899A, // power L3 -1500.3 W
			0x0046: 0x4248, 0x0047: 0x6666, // 50.1 Hz
		}, func(r meter.Reading) bool {
			return r.EnergyImport == 12345678*meter.WattHour && r.Voltage[2] == 2298*physic.Volt/10 &&
				r.PowerPhase[2] == -15003*physic.Watt/10 && r.Frequency == 501*physic.Hertz/10
		}},
		{"sdm72dm", Input, words{0x0034: 0x450F, 0x0035: 0xC800}, func(r meter.Reading) bool {
			return r.Power == 23005*physic.Watt/10
		}},
		{"sdm120", Input, words{0x000C: 0x450F, 0x000D: 0xC800, 0x004A: 0x4640, 0x004B: 0xE6B6}, func(r meter.Reading) bool {
			return r.Power == 23005*physic.Watt/10 && r.PowerPhase[0] == r.Power && r.EnergyExport == 12345678*meter.WattHour
		}},
		{"abb-b23", Holding, words{
			0x5000: 0x0000, 0x5001: 0x0001, 0x5002: 0x2A05, 0x5003: 0xF201, // 5 000 000 001 × 0.01 kWh
			0x5B04: 0x0000, 0x5B05: 0x08FA, // voltage L3 2298 × 0.1 V
			0x5B10: 0x0000, 0x5B11: 0x0497, // current L3 1175 × 0.01 A
			0x5B1A: 0xFFFD, 0x5B1B: 0xB5F2, // power L3 -150030 × 0.01 W
			0x5B2C: 0x1391, // 5009 × 0.01 Hz
			0x5B3A: 0x03DB, // PF 987 × 0.001
		}, func(r meter.Reading) bool {
			return r.EnergyImport == 5000000001*10*meter.WattHour && r.Voltage[2] == 2298*physic.Volt/10 &&
				r.Current[2] == 1175*physic.Ampere/100 && r.PowerPhase[2] == -15003*physic.Watt/10 &&
				r.Frequency == 5009*physic.Hertz/100 && r.PowerFactor == 0.987
		}},
		{"em340", Holding, words{
			0x0034: 0xE240, 0x0035: 0x0001, // import 123456 × 0.1 kWh, low word first
			0x004E: 0x000C, 0x004F: 0x0000, // export 12 × 0.1 kWh
			0x0010: 0x2DE6, 0x0011: 0x0000, // current L3 11750 × 0.001 A
			0x0016: 0xC565, 0x0017: 0xFFFF, // power L3 -15003 × 0.1 W
			0x0033: 0x01F5, // 501 × 0.1 Hz
			0x0031: 0x03DB, // PF sys 987 × 0.001
		}, func(r meter.Reading) bool {
			return r.EnergyImport == 123456*100*meter.WattHour && r.EnergyExport == 1200*meter.WattHour &&
				r.Current[2] == 1175*physic.Ampere/100 && r.PowerPhase[2] == -15003*physic.Watt/10 &&
				r.Frequency == 501*physic.Hertz/10 && r.PowerFactor == 0.987
		}},
		{"pzem017", Input, words{
			0x0000: 0x9C40,                 // 40000 × 0.01 V = 400 V
			0x0001: 0x4E20,                 // 20000 × 0.01 A = 200 A
			0x0002: 0x3500, 0x0003: 0x000C, // 800000 × 0.1 W = 80 kW, low word first
			0x0004: 0x3039, 0x0005: 0x0001, // 77881 Wh, low word first
		}, func(r meter.Reading) bool {
			return r.DC && r.Phases == 1 && r.Voltage[0] == 400*physic.Volt && r.Current[0] == 200*physic.Ampere &&
				r.Power == 80*physic.KiloWatt && r.EnergyImport == 77881*meter.WattHour
		}},
	} {
		t.Run(tc.model, func(t *testing.T) {
			s := newSim()
			s.units[1] = &device{regs: map[Function]map[uint16]uint16{tc.fn: tc.regs}}
			r, err := ReadOnce(context.Background(), serveTCP(t, s), tc.model, 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(r) {
				t.Errorf("decoded:\n%s", Format(r))
			}
		})
	}
}
