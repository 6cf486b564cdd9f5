package modbus

// The register maps below are facts taken from the makers' published Modbus
// protocol documents, written out as our own data. Addresses are protocol
// addresses (0-based): the documents' register 30001 (input) or 40001
// (holding) is address 0.

// shipped is the read-only catalogue that Lookup searches.
var shipped = []*Model{sdm630, sdm72dm, sdm120, abbB23, abbB24, em340, pzem017}

// eastron3Phase is the three-phase part of the Eastron map shared by the
// SDM630 and the SDM72D-M (v2): float32 input registers, high word first,
// every value 2 registers wide at the addresses the documents list as
// 30001, 30003, ...
func eastron3Phase() []Register {
	f := func(q Quantity, phase int, addr uint16, u Unit) Register {
		return Register{Quantity: q, Phase: phase, Addr: addr, Function: Input, Type: Float32, Scale: 1, Unit: u}
	}
	return []Register{
		f(Voltage, 1, 0x0000, V), // 30001 phase 1 line to neutral volts
		f(Voltage, 2, 0x0002, V),
		f(Voltage, 3, 0x0004, V),
		f(Current, 1, 0x0006, A), // 30007 phase 1 current
		f(Current, 2, 0x0008, A),
		f(Current, 3, 0x000A, A),
		f(PowerPhase, 1, 0x000C, W), // 30013 phase 1 active power
		f(PowerPhase, 2, 0x000E, W),
		f(PowerPhase, 3, 0x0010, W),
		f(PowerTotal, 0, 0x0034, W),   // 30053 total system power
		f(PowerFactor, 0, 0x003E, ""), // 30063 total system power factor
		f(Frequency, 0, 0x0046, Hz),   // 30071 frequency of supply voltages
		f(EnergyImport, 0, 0x0048, KWh),
		f(EnergyExport, 0, 0x004A, KWh), // 30073/30075 import/export active energy
	}
}

// Eastron SDM630 (v1/v2/MCT), from Eastron's "SDM630 Modbus protocol"
// document. Eastron answers at most 40 values (80 registers) per request and
// every address from 0x0000 to 0x004B holds a value, so one request of 76
// registers covers the map.
var sdm630 = &Model{
	Name:      "sdm630",
	Title:     "Eastron SDM630 (Eastron SDM630 Modbus protocol, input registers, float32)",
	Phases:    3,
	MaxRegs:   80,
	MaxGap:    80,
	Registers: eastron3Phase(),
}

// Eastron SDM72D-M, from Eastron's "SDM72D-M-2" Modbus protocol document,
// which uses the SDM630 addresses for the values it has. The first
// (v1) SDM72D-M firmware has only total power and the energy registers;
// describe such a unit with a GenericConfig.
var sdm72dm = &Model{
	Name:      "sdm72dm",
	Title:     "Eastron SDM72D-M v2 (Eastron SDM72D-M-2 Modbus protocol, input registers, float32)",
	Phases:    3,
	MaxRegs:   80,
	MaxGap:    80,
	Registers: eastron3Phase(),
}

// Eastron SDM120 (single phase), from Eastron's "SDM120 Modbus protocol"
// document. Its total power is its only phase's power: one register feeds
// both fields.
var sdm120 = &Model{
	Name:    "sdm120",
	Title:   "Eastron SDM120 (Eastron SDM120 Modbus protocol, input registers, float32)",
	Phases:  1,
	MaxRegs: 80,
	MaxGap:  80,
	Registers: []Register{
		{Quantity: Voltage, Phase: 1, Addr: 0x0000, Function: Input, Type: Float32, Scale: 1, Unit: V},    // 30001 voltage
		{Quantity: Current, Phase: 1, Addr: 0x0006, Function: Input, Type: Float32, Scale: 1, Unit: A},    // 30007 current
		{Quantity: PowerPhase, Phase: 1, Addr: 0x000C, Function: Input, Type: Float32, Scale: 1, Unit: W}, // 30013 active power
		{Quantity: PowerTotal, Addr: 0x000C, Function: Input, Type: Float32, Scale: 1, Unit: W},
		{Quantity: PowerFactor, Addr: 0x001E, Function: Input, Type: Float32, Scale: 1, Unit: None}, // 30031 power factor
		{Quantity: Frequency, Addr: 0x0046, Function: Input, Type: Float32, Scale: 1, Unit: Hz},     // 30071 frequency
		{Quantity: EnergyImport, Addr: 0x0048, Function: Input, Type: Float32, Scale: 1, Unit: KWh}, // 30073 import active energy
		{Quantity: EnergyExport, Addr: 0x004A, Function: Input, Type: Float32, Scale: 1, Unit: KWh}, // 30075 export active energy
	},
}

// abbB2x is the ABB B21/B23/B24 map, from ABB's "B-series (EQ meters) Modbus
// communication" document: holding registers, integers, high word first.
// The energy block starts at 0x5000 (uint64 in 0.01 kWh), the instantaneous
// block at 0x5B00. Every address inside each block holds a value, so a
// request may span the unused ones (L-L voltages, neutral current, reactive
// and apparent power, phase angles) to read the block at once.
func abbB2x() []Register {
	h := func(q Quantity, phase int, addr uint16, t Type, scale float64, u Unit) Register {
		return Register{Quantity: q, Phase: phase, Addr: addr, Function: Holding, Type: t, Scale: scale, Unit: u}
	}
	return []Register{
		h(EnergyImport, 0, 0x5000, Uint64, 0.01, KWh), // active import, 0.01 kWh
		h(EnergyExport, 0, 0x5004, Uint64, 0.01, KWh), // active export, 0.01 kWh
		h(Voltage, 1, 0x5B00, Uint32, 0.1, V),         // L1-N, 0.1 V
		h(Voltage, 2, 0x5B02, Uint32, 0.1, V),
		h(Voltage, 3, 0x5B04, Uint32, 0.1, V),
		h(Current, 1, 0x5B0C, Uint32, 0.01, A), // L1, 0.01 A
		h(Current, 2, 0x5B0E, Uint32, 0.01, A),
		h(Current, 3, 0x5B10, Uint32, 0.01, A),
		h(PowerTotal, 0, 0x5B14, Int32, 0.01, W), // active power total, 0.01 W, signed
		h(PowerPhase, 1, 0x5B16, Int32, 0.01, W),
		h(PowerPhase, 2, 0x5B18, Int32, 0.01, W),
		h(PowerPhase, 3, 0x5B1A, Int32, 0.01, W),
		h(Frequency, 0, 0x5B2C, Uint16, 0.01, Hz),     // 0.01 Hz
		h(PowerFactor, 0, 0x5B3A, Int16, 0.001, None), // total, 0.001
	}
}

// ABB B23 (three-phase, direct connected up to 65 A).
var abbB23 = &Model{
	Name:      "abb-b23",
	Title:     "ABB B23 (ABB B-series Modbus map, holding registers, integers)",
	Phases:    3,
	MaxGap:    125,
	Registers: abbB2x(),
}

// ABB B24 (three-phase, current-transformer connected): same map as the B23.
var abbB24 = &Model{
	Name:      "abb-b24",
	Title:     "ABB B24 (ABB B-series Modbus map, holding registers, integers)",
	Phases:    3,
	MaxGap:    125,
	Registers: abbB2x(),
}

// Carlo Gavazzi EM340, from Carlo Gavazzi's "EM300 series communication
// protocol" document: int32 values with the least significant word first,
// int16 for power factor and frequency. The meter answers function 3 and 4
// alike; we use 3. Every address from 0x0000 to 0x0051 holds a value.
var em340 = &Model{
	Name:   "em340",
	Title:  "Carlo Gavazzi EM340 (EM300 series protocol, int32 LSW first)",
	Phases: 3,
	MaxGap: 125,
	Registers: func() []Register {
		h := func(q Quantity, phase int, addr uint16, t Type, scale float64, u Unit) Register {
			r := Register{Quantity: q, Phase: phase, Addr: addr, Function: Holding, Type: t, Scale: scale, Unit: u}
			if t.Words() > 1 {
				r.Order = LittleWords
			}
			return r
		}
		return []Register{
			h(Voltage, 1, 0x0000, Int32, 0.1, V), // V L1-N, V*10
			h(Voltage, 2, 0x0002, Int32, 0.1, V),
			h(Voltage, 3, 0x0004, Int32, 0.1, V),
			h(Current, 1, 0x000C, Int32, 0.001, A), // A L1, A*1000
			h(Current, 2, 0x000E, Int32, 0.001, A),
			h(Current, 3, 0x0010, Int32, 0.001, A),
			h(PowerPhase, 1, 0x0012, Int32, 0.1, W), // W L1, W*10
			h(PowerPhase, 2, 0x0014, Int32, 0.1, W),
			h(PowerPhase, 3, 0x0016, Int32, 0.1, W),
			h(PowerTotal, 0, 0x0028, Int32, 0.1, W),       // W sys, W*10
			h(PowerFactor, 0, 0x0031, Int16, 0.001, None), // PF sys, PF*1000
			h(Frequency, 0, 0x0033, Int16, 0.1, Hz),       // Hz*10
			h(EnergyImport, 0, 0x0034, Int32, 0.1, KWh),   // kWh (+) TOT, kWh*10
			h(EnergyExport, 0, 0x004E, Int32, 0.1, KWh),   // kWh (-) TOT, kWh*10
		}
	}(),
}

// Peacefair PZEM-017 (and PZEM-003), a DC meter module with an external
// shunt, from the maker's "PZEM-003/017 DC communication module" document:
// the measurements are input registers (function 4) from 0x0000: voltage
// (0.01 V), current (0.01 A), power (0.1 W, 32 bits, low word first) and
// energy (1 Wh, 32 bits, low word first). Its 300 V range fits a bench or a
// low-voltage DC supply rather than a charger for cars, whose meters are
// described with a GenericConfig (dc: true) until a map is shipped.
var pzem017 = &Model{
	Name:   "pzem017",
	Title:  "Peacefair PZEM-017 DC meter (PZEM-003/017 DC communication module, input registers)",
	Phases: 1,
	DC:     true,
	MaxGap: 8,
	Registers: []Register{
		{Quantity: Voltage, Phase: 1, Addr: 0x0000, Function: Input, Type: Uint16, Scale: 0.01, Unit: V},
		{Quantity: Current, Phase: 1, Addr: 0x0001, Function: Input, Type: Uint16, Scale: 0.01, Unit: A},
		{Quantity: PowerTotal, Addr: 0x0002, Function: Input, Type: Uint32, Order: LittleWords, Scale: 0.1, Unit: W},
		{Quantity: EnergyImport, Addr: 0x0004, Function: Input, Type: Uint32, Order: LittleWords, Scale: 1, Unit: Wh},
	},
}
