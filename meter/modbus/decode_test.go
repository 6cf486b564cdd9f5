package modbus

import (
	"errors"
	"testing"

	"github.com/evsed/evsed/meter"
)

// TestDecode feeds hand-written wire bytes, so that the decoder is checked
// against the datasheets' byte layouts rather than against our encoder.
func TestDecode(t *testing.T) {
	reg := func(q Quantity, typ Type, order WordOrder, scale float64, u Unit) Register {
		return Register{Quantity: q, Function: Holding, Type: typ, Order: order, Scale: scale, Unit: u}
	}
	for _, tc := range []struct {
		name     string
		reg      Register
		wire     []byte
		want     int64 // base units: mWh, nW, nA, nV, µHz
		wantStep int64
	}{
		{"abb uint64 0.01 kWh past 2^32 counts", reg(EnergyImport, Uint64, BigWords, 0.01, KWh),
			[]byte{0x00, 0x00, 0x00, 0x01, 0x2A, 0x05, 0xF2, 0x01}, 5000000001 * 10000, 10000},
		{"em340 int32 LSW first, 0.1 kWh", reg(EnergyImport, Int32, LittleWords, 0.1, KWh),
			[]byte{0xE2, 0x40, 0x00, 0x01}, 123456 * 100000, 100000},
		{"em340 int32 LSW first negative power, 0.1 W", reg(PowerTotal, Int32, LittleWords, 0.1, W),
			[]byte{0xC5, 0x65, 0xFF, 0xFF}, -15003 * 1e8, 1e8},
		{"abb int32 0.01 W negative", reg(PowerTotal, Int32, BigWords, 0.01, W),
			[]byte{0xFF, 0xFF, 0xFF, 0x9C}, -100 * 1e7, 1e7},
		{"uint32 0.1 V", reg(Voltage, Uint32, BigWords, 0.1, V), []byte{0x00, 0x00, 0x08, 0xFD}, 2301 * 1e8, 1e8},
		{"uint32 high bit set stays positive", reg(EnergyExport, Uint32, BigWords, 1, Wh),
			[]byte{0xFF, 0xFF, 0xFF, 0xFF}, 4294967295 * 1000, 1000},
		{"int16 0.1 Hz", reg(Frequency, Int16, BigWords, 0.1, Hz), []byte{0x01, 0xF5}, 50100000, 100000},
		{"uint16 0.01 Hz", reg(Frequency, Uint16, BigWords, 0.01, Hz), []byte{0x13, 0x88}, 50000000, 10000},
		{"int64 LSW first", reg(EnergyImport, Int64, LittleWords, 1, Wh),
			[]byte{0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, 1000, 1000},
		{"mA current", reg(Current, Uint16, BigWords, 1, MA), []byte{0x27, 0x10}, 10_000_000_000, 1_000_000},
		// float32 12345.678 is 0x4640E6B6 (12345.677734375): decoded from
		// its shortest decimal, it gives the 12345.678 kWh the meter shows.
		{"float32 kWh shortest decimal", reg(EnergyImport, Float32, BigWords, 1, KWh),
			[]byte{0x46, 0x40, 0xE6, 0xB6}, 12345678000, 977},
		{"float32 LSW first", reg(Voltage, Float32, LittleWords, 1, V),
			[]byte{0x19, 0x9A, 0x43, 0x66}, 230100000000, 15259},
		{"float32 kW to nW", reg(PowerTotal, Float32, BigWords, 1, KW), []byte{0x3F, 0xC0, 0x00, 0x00}, 1.5e12, 119210},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := newDecoder(tc.reg)
			if err != nil {
				t.Fatal(err)
			}
			got, step, err := d.base(tc.wire)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || step != tc.wantStep {
				t.Errorf("base = %d (step %d), want %d (step %d)", got, step, tc.want, tc.wantStep)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		reg  Register
		wire []byte
	}{
		{"float32 NaN", Register{Quantity: EnergyImport, Type: Float32, Scale: 1, Unit: KWh}, []byte{0x7F, 0xC0, 0, 0}},
		{"float32 +Inf", Register{Quantity: PowerTotal, Type: Float32, Scale: 1, Unit: W}, []byte{0x7F, 0x80, 0, 0}},
		{"uint64 beyond int64 mWh", Register{Quantity: EnergyImport, Type: Uint64, Scale: 1, Unit: KWh},
			[]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}},
		{"int64 overflow on scaling", Register{Quantity: EnergyImport, Type: Int64, Scale: 1, Unit: KWh},
			[]byte{0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := newDecoder(tc.reg)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := d.base(tc.wire); !errors.Is(err, meter.ErrImplausible) {
				t.Fatalf("base error %v, want ErrImplausible", err)
			}
		})
	}
}

func TestDecodePowerFactor(t *testing.T) {
	for _, tc := range []struct {
		name string
		reg  Register
		wire []byte
		want float64
	}{
		{"int16 0.001 negative", Register{Quantity: PowerFactor, Type: Int16, Scale: 0.001}, []byte{0xFC, 0x25}, -0.987},
		{"float32", Register{Quantity: PowerFactor, Type: Float32, Scale: 1}, []byte{0x3F, 0x7C, 0xAC, 0x08}, 0.987},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := newDecoder(tc.reg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.float(tc.wire)
			if err != nil || got != tc.want {
				t.Errorf("float = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
