package modbus

import (
	"errors"
	"reflect"
	"testing"

	"github.com/evsed/evsed/meter"
	"go.yaml.in/yaml/v3"
)

func TestShippedModelsValidate(t *testing.T) {
	all := meter.FieldEnergyImport | meter.FieldEnergyExport | meter.FieldPower | meter.FieldPowerPhases |
		meter.FieldCurrent | meter.FieldVoltage | meter.FieldFrequency | meter.FieldPowerFactor
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			m, err := Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Validate(); err != nil {
				t.Fatal(err)
			}
			if m.Title == "" {
				t.Error("no title")
			}
			want := all
			if m.DC {
				want = meter.FieldEnergyImport | meter.FieldPower | meter.FieldCurrent | meter.FieldVoltage
			}
			if got := m.Fields(); got != want {
				t.Errorf("fields %b, want %b", got, want)
			}
			for _, q := range plan(m) {
				if q.Qty == 0 || int(q.Qty) > m.maxRegs() {
					t.Errorf("request %+v exceeds %d registers", q, m.maxRegs())
				}
			}
		})
	}
	if len(Names()) != 7 {
		t.Errorf("shipped %v, want 7 models", Names())
	}
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"sdm630", true}, {"em340", true}, {"abb-b24", true}, {"generic", false}, {"SDM630", false}, {"", false},
	} {
		m, err := Lookup(tc.name)
		if tc.ok != (err == nil) || (err == nil && m.Name != tc.name) {
			t.Errorf("Lookup(%q) = %v, %v", tc.name, m, err)
		}
		if err != nil && !errors.Is(err, ErrUnknownModel) {
			t.Errorf("Lookup(%q) error %v does not wrap ErrUnknownModel", tc.name, err)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	good := func() *Model {
		return &Model{Name: "t", Phases: 1, Registers: []Register{
			{Quantity: EnergyImport, Addr: 0, Function: Input, Type: Uint32, Scale: 1, Unit: Wh},
			{Quantity: Voltage, Phase: 1, Addr: 2, Function: Input, Type: Uint16, Scale: 0.1, Unit: V},
		}}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("base model: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(m *Model)
	}{
		{"no name", func(m *Model) { m.Name = "" }},
		{"phases 2", func(m *Model) { m.Phases = 2 }},
		{"max regs 126", func(m *Model) { m.MaxRegs = 126 }},
		{"negative gap", func(m *Model) { m.MaxGap = -1 }},
		{"DC on three phases", func(m *Model) { m.DC, m.Phases = true, 3 }},
		{"DC with a frequency", func(m *Model) {
			m.DC = true
			m.Registers = append(m.Registers, Register{Quantity: Frequency, Addr: 4, Function: Input, Type: Uint16, Scale: 0.01, Unit: Hz})
		}},
		{"no registers", func(m *Model) { m.Registers = nil }},
		{"unknown quantity", func(m *Model) { m.Registers[0].Quantity = "energy" }},
		{"unknown type", func(m *Model) { m.Registers[0].Type = "int24" }},
		{"unknown function", func(m *Model) { m.Registers[0].Function = "coil" }},
		{"unknown order", func(m *Model) { m.Registers[0].Order = "middle" }},
		{"zero scale", func(m *Model) { m.Registers[0].Scale = 0 }},
		{"negative scale", func(m *Model) { m.Registers[0].Scale = -0.1 }},
		{"wrong unit", func(m *Model) { m.Registers[0].Unit = V }},
		{"phase on a total", func(m *Model) { m.Registers[0].Phase = 1 }},
		{"phase out of range", func(m *Model) { m.Registers[1].Phase = 2 }},
		{"missing phases", func(m *Model) { m.Phases = 3 }},
		{"past 0xffff", func(m *Model) { m.Registers[0].Addr = 0xffff }},
		{"second register for a field", func(m *Model) { m.Registers[1] = m.Registers[0]; m.Registers[1].Addr = 8 }},
		{"partial overlap", func(m *Model) { m.Registers[1].Addr = 1 }},
		{"same address, other type", func(m *Model) {
			m.Registers = append(m.Registers, Register{Quantity: EnergyExport, Addr: 0, Function: Input, Type: Int32, Scale: 1, Unit: Wh})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := good()
			tc.mutate(m)
			if err := m.Validate(); !errors.Is(err, ErrModel) {
				t.Fatalf("Validate = %v, want ErrModel", err)
			}
		})
	}
	// Another function, or the same register read the same way, is no overlap.
	m := good()
	m.Registers = append(m.Registers,
		Register{Quantity: EnergyExport, Addr: 0, Function: Holding, Type: Uint32, Scale: 1, Unit: Wh},
		Register{Quantity: PowerPhase, Phase: 1, Addr: 2, Function: Input, Type: Uint16, Scale: 1, Unit: W},
	)
	if err := m.Validate(); err != nil {
		t.Fatalf("identical reads of one register, or another function: %v", err)
	}
}

func TestGeneric(t *testing.T) {
	cfg := GenericConfig{Phases: 1, Registers: []Register{
		{Quantity: EnergyImport, Addr: 0x10, Function: Holding, Type: Uint32, Order: LittleWords, Scale: 1, Unit: Wh},
		{Quantity: PowerTotal, Addr: 0x20, Function: Holding, Type: Int16, Scale: 10, Unit: W},
	}}
	m, err := Generic(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "generic" || m.Fields() != meter.FieldEnergyImport|meter.FieldPower {
		t.Errorf("got %+v", m)
	}
	cfg.Registers[0].Addr = 0x99 // the model must not share the slice
	if m.Registers[0].Addr != 0x10 {
		t.Error("Generic shares the register slice with its config")
	}
	if _, err := Generic(GenericConfig{Phases: 1}); !errors.Is(err, ErrModel) {
		t.Errorf("empty generic: %v, want ErrModel", err)
	}
}

func TestPlan(t *testing.T) {
	f := func(q Quantity, addr uint16, fn Function, typ Type) Register {
		return Register{Quantity: q, Addr: addr, Function: fn, Type: typ, Scale: 1, Unit: map[Quantity]Unit{
			EnergyImport: Wh, EnergyExport: Wh, PowerTotal: W, Frequency: Hz, PowerFactor: None}[q]}
	}
	for _, tc := range []struct {
		name string
		m    *Model
		want []request
	}{
		{"sdm630 one request", sdm630, []request{{Input, 0x0000, 76}}},
		{"sdm120 one request", sdm120, []request{{Input, 0x0000, 76}}},
		{"abb two blocks", abbB23, []request{{Holding, 0x5000, 8}, {Holding, 0x5B00, 59}}},
		{"em340 one request", em340, []request{{Holding, 0x0000, 80}}},
		{"contiguous only", &Model{Name: "c", Phases: 1, Registers: []Register{
			f(EnergyImport, 0, Input, Uint32), f(EnergyExport, 2, Input, Uint32), f(PowerTotal, 5, Input, Int16),
		}}, []request{{Input, 0, 4}, {Input, 5, 1}}},
		{"gap bridged", &Model{Name: "g", Phases: 1, MaxGap: 1, Registers: []Register{
			f(EnergyImport, 0, Input, Uint32), f(EnergyExport, 2, Input, Uint32), f(PowerTotal, 5, Input, Int16),
		}}, []request{{Input, 0, 6}}},
		{"functions apart", &Model{Name: "f", Phases: 1, MaxGap: 10, Registers: []Register{
			f(EnergyImport, 0, Holding, Uint32), f(EnergyExport, 2, Input, Uint32),
		}}, []request{{Input, 2, 2}, {Holding, 0, 2}}},
		{"bounded by max regs", &Model{Name: "b", Phases: 1, MaxRegs: 4, MaxGap: 10, Registers: []Register{
			f(EnergyImport, 0, Input, Uint32), f(EnergyExport, 2, Input, Uint32), f(PowerTotal, 4, Input, Int16),
		}}, []request{{Input, 0, 4}, {Input, 4, 1}}},
		{"shared register read once", &Model{Name: "s", Phases: 1, Registers: []Register{
			f(PowerTotal, 7, Input, Int16), {Quantity: PowerPhase, Phase: 1, Addr: 7, Function: Input, Type: Int16, Scale: 1, Unit: W},
		}}, []request{{Input, 7, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.m.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := plan(tc.m); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("plan = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestGenericFromYAML decodes a generic meter as a board file will write it.
func TestGenericFromYAML(t *testing.T) {
	const doc = `
phases: 1
maxGap: 6
registers:
  - {quantity: energy_import, addr: 0x0100, function: holding, type: uint32, order: little, scale: 0.01, unit: kWh}
  - {quantity: power, addr: 0x0108, function: holding, type: int16, scale: 1, unit: W}
`
	var cfg GenericConfig
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	m, err := Generic(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := Register{Quantity: EnergyImport, Addr: 0x100, Function: Holding, Type: Uint32, Order: LittleWords, Scale: 0.01, Unit: KWh}
	if m.Registers[0] != want || m.MaxGap != 6 {
		t.Errorf("decoded %+v", m)
	}
	if got := plan(m); !reflect.DeepEqual(got, []request{{Holding, 0x100, 9}}) {
		t.Errorf("plan %+v", got)
	}
}
