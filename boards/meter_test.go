package boards

// Meter bindings are built here against a real Modbus TCP server
// (simonvetter/modbus) on loopback and against cantest sources for CAN,
// with the GPIO parts on the fakes of file_test.go.

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/meter/can"
	"github.com/evsed/evsed/meter/can/cantest"
	"github.com/evsed/evsed/meter/modbus"
	mb "github.com/simonvetter/modbus"
	"periph.io/x/conn/v3/physic"
)

// registers is a Modbus server's register image: per unit id, input and
// holding registers by address; unset registers read 0. Safe for
// concurrent use.
type registers struct {
	mu      sync.Mutex // guards the fields below
	input   map[uint8]map[uint16]uint16
	holding map[uint8]map[uint16]uint16
	clients map[string]bool // remote addresses that sent a request
}

func newRegisters() *registers {
	return &registers{input: map[uint8]map[uint16]uint16{}, holding: map[uint8]map[uint16]uint16{}, clients: map[string]bool{}}
}

func (r *registers) set(img map[uint8]map[uint16]uint16, unit uint8, addr uint16, words ...uint16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if img[unit] == nil {
		img[unit] = map[uint16]uint16{}
	}
	for i, w := range words {
		img[unit][addr+uint16(i)] = w
	}
}

// float32 stores v at an input register pair, high word first (Eastron).
func (r *registers) float32(unit uint8, addr uint16, v float32) {
	b := math.Float32bits(v)
	r.set(r.input, unit, addr, uint16(b>>16), uint16(b))
}

func (r *registers) read(img map[uint8]map[uint16]uint16, unit uint8, addr, qty uint16, client string) ([]uint16, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clients[client] = true
	regs, ok := img[unit]
	if !ok {
		return nil, mb.ErrGWTargetFailedToRespond
	}
	out := make([]uint16, qty)
	for i := range out {
		out[i] = regs[addr+uint16(i)]
	}
	return out, nil
}

func (r *registers) clientCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.clients)
}

// HandleCoils, HandleDiscreteInputs, HandleHoldingRegisters and
// HandleInputRegisters implement mb.RequestHandler.
func (r *registers) HandleCoils(*mb.CoilsRequest) ([]bool, error) { return nil, mb.ErrIllegalFunction }
func (r *registers) HandleDiscreteInputs(*mb.DiscreteInputsRequest) ([]bool, error) {
	return nil, mb.ErrIllegalFunction
}
func (r *registers) HandleHoldingRegisters(q *mb.HoldingRegistersRequest) ([]uint16, error) {
	if q.IsWrite {
		return nil, mb.ErrIllegalFunction
	}
	return r.read(r.holding, q.UnitId, q.Addr, q.Quantity, q.ClientAddr)
}
func (r *registers) HandleInputRegisters(q *mb.InputRegistersRequest) ([]uint16, error) {
	return r.read(r.input, q.UnitId, q.Addr, q.Quantity, q.ClientAddr)
}

// serveModbusTCP serves regs on a free loopback port and returns its URL.
func serveModbusTCP(t *testing.T, regs *registers) string {
	t.Helper()
	// The server takes a URL, not a listener: find a free port first.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv, err := mb.NewServer(&mb.ServerConfiguration{URL: "tcp://" + addr, MaxClients: 4}, regs)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	return "tcp://" + addr
}

// twoConnectors is a valid two-connector board; METER1 and METER2 are
// replaced by each connector's meter block (flow style).
const twoConnectors = `name: two
description: two-outlet test board
platform: raspberrypi
connectors:
  - id: 1
    max_current: 32A
    phases: 3
    meter: METER1
    pilot:
      driver: pwm
      pwm: {pin: GPIO18}
      sense: {driver: ads1115, bus: "1", address: 0x48, high_channel: 0, low_channel: 1, divider: {offset: 1.65V, scale: 7.272727}}
    cable: {driver: tethered, max_current: 32A}
    contactor: {driver: relay, out: {pin: GPIO17}}
  - id: 2
    max_current: 16A
    phases: 1
    meter: METER2
    pilot:
      driver: pwm
      pwm: {pin: GPIO19}
      sense: {driver: ads1115, bus: "1", address: 0x49, high_channel: 0, low_channel: 1, divider: {offset: 1.65V, scale: 7.272727}}
    cable: {driver: tethered, max_current: 16A}
    contactor: {driver: relay, out: {pin: GPIO27}}
`

func twoBoard(meter1, meter2 string) string {
	return strings.NewReplacer("METER1", meter1, "METER2", meter2).Replace(twoConnectors)
}

// openFile writes text to a board file and opens it on fake hardware.
func openFile(t *testing.T, text string, opts OpenOptions) *Built {
	t.Helper()
	path := filepath.Join(t.TempDir(), "board.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Board.Halt()
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

func TestShippedBoardsBuildTheirMeters(t *testing.T) {
	bs, err := shipped()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"rpi-ads1115": "sdm630@rtu:/dev/ttyUSB0#1", "rpi-relay": "sdm120@rtu:/dev/ttyAMA0#1",
		"rpi-dc-example": "pzem017@rtu:/dev/ttyUSB0#1"}
	for _, b := range bs {
		if b.Simulated {
			continue
		}
		t.Run(b.Name, func(t *testing.T) {
			for _, c := range b.Spec.Connectors {
				if _, ok := b.Meters[c.ID]; !ok {
					t.Errorf("connector %d has no meter binding", c.ID)
				}
			}
			// The serial lines are opened by the first read, so building
			// the meters touches nothing here.
			opts := newFakeHW().opts(clock.NewFake(time.Unix(0, 0)))
			// A DC board's CAN interfaces are fakes here: no AF_CAN.
			opts.CAN = func(string, []uint32) (CANSource, error) { return closingSource{cantest.NewSource()}, nil }
			built, err := Open(b.Name, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer built.Close()
			m, ok := built.Meters[1].(*modbus.Meter)
			if !ok || m.String() != want[b.Name] {
				t.Fatalf("connector 1 meter %v, want the modbus meter %s", built.Meters[1], want[b.Name])
			}
		})
	}
}

func TestModbusTCPMetersShareOneBus(t *testing.T) {
	regs := newRegisters()
	url := serveModbusTCP(t, regs)
	// Unit 1: an SDM630 (float32 input registers).
	for i, v := range []float32{230.1, 231.2, 229.8} {
		regs.float32(1, uint16(2*i), v)
	}
	for i, v := range []float32{16.05, 15.98, 16.1} {
		regs.float32(1, 0x06+uint16(2*i), v)
	}
	regs.float32(1, 0x34, 11040.5)
	regs.float32(1, 0x46, 50.02)
	regs.float32(1, 0x48, 1234.567)
	// Unit 2: a meter described in the board file: holding registers,
	// energy as uint32 in 0.01 kWh, power int32 in W, voltage and current
	// as uint16 in 0.1 V and 0.01 A.
	const e = 123456 // 1234.56 kWh
	regs.set(regs.holding, 2, 0x10, e>>16, e&0xFFFF, 0, 3680, 2301, 1600)
	generic := `{driver: modbus, model: generic, bus: "` + url + `", unit: 2, timeout: 1s, generic: {phases: 1, registers: [
      {quantity: energy_import, addr: 0x10, function: holding, type: uint32, scale: 0.01, unit: kWh},
      {quantity: power, addr: 0x12, function: holding, type: int32, scale: 1, unit: W},
      {quantity: voltage, phase: 1, addr: 0x14, function: holding, type: uint16, scale: 0.1, unit: V},
      {quantity: current, phase: 1, addr: 0x15, function: holding, type: uint16, scale: 0.01, unit: A}]}}`
	text := twoBoard(`{driver: modbus, model: sdm630, bus: "`+url+`", unit: 1, max_power: 24kW}`, generic)

	clk := clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	built := openFile(t, text, newFakeHW().opts(clk))
	m1, ok1 := built.Meters[1].(*modbus.Meter)
	m2, ok2 := built.Meters[2].(*modbus.Meter)
	if !ok1 || !ok2 {
		t.Fatalf("meters %v, %v: want two modbus meters", built.Meters[1], built.Meters[2])
	}
	if m1.Bus() != m2.Bus() || len(built.meters.buses) != 1 {
		t.Fatalf("buses %p and %p (%d opened): want one shared Bus", m1.Bus(), m2.Bus(), len(built.meters.buses))
	}
	ctx := context.Background()
	r1, err := m1.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r1.EnergyImport != 1234567*meter.WattHour || r1.Phases != 3 ||
		r1.Voltage != [3]physic.ElectricPotential{230100 * physic.MilliVolt, 231200 * physic.MilliVolt, 229800 * physic.MilliVolt} ||
		r1.Current[2] != 16100*physic.MilliAmpere || r1.Power != 11040500*physic.MilliWatt ||
		r1.Frequency != 50020*physic.MilliHertz || !r1.Time.Equal(clk.Now()) {
		t.Errorf("sdm630 reading %+v", r1)
	}
	r2, err := m2.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r2.EnergyImport != 1234560*meter.WattHour || r2.Power != 3680*physic.Watt ||
		r2.Voltage[0] != 230100*physic.MilliVolt || r2.Current[0] != 16*physic.Ampere || r2.Phases != 1 {
		t.Errorf("generic reading %+v", r2)
	}
	// One Bus is one connection: both units were asked over it.
	if n := regs.clientCount(); n != 1 {
		t.Errorf("%d client connections, want 1", n)
	}
	if err := built.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m1.Read(ctx); !errors.Is(err, modbus.ErrClosed) {
		t.Fatalf("read after Close: %v, want ErrClosed", err)
	}
}

// ivtFrame is an IVT-S result frame: result n at base+n with value v.
func ivtFrame(base uint32, n int, v int32) can.Frame {
	d := []byte{byte(n), 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(d[2:], uint32(v))
	return can.Frame{ID: base + uint32(n), Data: d}
}

func TestCANMetersShareOneInterface(t *testing.T) {
	src := cantest.NewSource()
	var opened []string
	var filter []uint32
	opts := newFakeHW().opts(clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)))
	opts.CAN = func(iface string, ids []uint32) (CANSource, error) {
		opened = append(opened, iface)
		filter = ids
		return closingSource{src}, nil
	}
	text := twoBoard(`{driver: can, model: ivt-s, interface: can0}`,
		`{driver: can, model: ivt-s, interface: can0, base_id: 0x531, command_id: 0x412, reversed: true, stale_cycles: 5}`)
	built := openFile(t, text, opts)
	if strings.Join(opened, ",") != "can0" || len(filter) != 16 {
		t.Fatalf("opened %v with %d ids, want can0 once with both shunts' 16 ids", opened, len(filter))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- built.RunMeters(ctx) }()
	if err := src.Deliver(
		ivtFrame(0x521, 0, 200000), ivtFrame(0x521, 1, 400000), ivtFrame(0x521, 5, 80000), ivtFrame(0x521, 7, 1500),
		ivtFrame(0x531, 0, -100000), ivtFrame(0x531, 7, -700),
	); err != nil {
		t.Fatal(err)
	}
	// Deliver returns once the line's pump came back for the next frame,
	// which is after it handed the last one over, not after the meter
	// stored it: stop the loops before reading.
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("RunMeters: %v", err)
	}
	r1, err := built.Meters[1].Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r1.EnergyImport != 1500*meter.WattHour || r1.Current[0] != 200*physic.Ampere ||
		r1.Voltage[0] != 400*physic.Volt || r1.Power != 80*physic.KiloWatt || built.Meters[1].String() != "ivt-s@can0#1" {
		t.Errorf("%s reading %+v", built.Meters[1], r1)
	}
	r2, err := built.Meters[2].Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Reversed: the shunt's negative counts are energy to the vehicle.
	if r2.EnergyImport != 700*meter.WattHour || r2.Current[0] != 100*physic.Ampere || r2.Fields.Has(meter.FieldVoltage) {
		t.Errorf("%s reading %+v", built.Meters[2], r2)
	}
}

func TestCANInterfaceFailureStopsRunMeters(t *testing.T) {
	src := cantest.NewSource()
	opts := newFakeHW().opts(clock.Real{})
	opts.CAN = func(string, []uint32) (CANSource, error) { return closingSource{src}, nil }
	built := openFile(t, twoBoard(`{driver: can, model: ivt-s, interface: can0}`, `{driver: sim}`), opts)
	done := make(chan error, 1)
	go func() { done <- built.RunMeters(context.Background()) }()
	down := errors.New("network is down")
	if err := src.Fail(down); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, down) || !strings.Contains(err.Error(), "can0") {
		t.Fatalf("RunMeters = %v, want the interface's error", err)
	}
	// The sim stand-in reads 0 W on a single phase.
	r, err := built.Meters[2].Read(context.Background())
	if err != nil || r.Power != 0 || r.Phases != 1 {
		t.Fatalf("sim meter: %+v, %v", r, err)
	}
}

func TestCANOpenFailureFailsOpen(t *testing.T) {
	opts := newFakeHW().opts(clock.Real{})
	opts.CAN = func(string, []uint32) (CANSource, error) { return nil, errors.New("no such device") }
	text := twoBoard(`{driver: modbus, model: sdm630, bus: "tcp://127.0.0.1:1", unit: 1}`, `{driver: can, model: ivt-s, interface: can9}`)
	path := filepath.Join(t.TempDir(), "board.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, opts)
	if err == nil || !strings.Contains(err.Error(), "can can9: no such device") {
		t.Fatalf("err = %v", err)
	}
}

// closingSource gives a cantest.Source the Close a CANSource needs.
type closingSource struct{ *cantest.Source }

func (closingSource) Close() error { return nil }

func TestBrokenMeterBlocks(t *testing.T) {
	const sdm = `{driver: modbus, model: sdm630, bus: "rtu:///dev/ttyUSB0", unit: 1}`
	const ok2 = `{driver: modbus, model: sdm120, bus: "rtu:///dev/ttyUSB0", unit: 2}`
	if _, err := Load("t.yaml", []byte(twoBoard(sdm, ok2))); err != nil {
		t.Fatalf("valid board: %v", err)
	}
	cases := []struct {
		name           string
		meter1, meter2 string
		want           string
	}{
		{"missing driver", `{model: sdm630, bus: "rtu:///dev/ttyUSB0", unit: 1}`, ok2,
			"t.yaml: connectors[0].meter.driver: missing (want sim, modbus or can"},
		{"unknown driver", `{driver: mbus}`, ok2, `t.yaml: connectors[0].meter.driver: unknown driver "mbus"`},
		{"unknown modbus model", `{driver: modbus, model: sdm999, bus: "rtu:///dev/ttyUSB0", unit: 1}`, ok2,
			`t.yaml: connectors[0].meter.model: unknown modbus model "sdm999" (known: abb-b23, abb-b24, em340, pzem017, sdm120, sdm630, sdm72dm, generic)`},
		{"bad URL scheme", `{driver: modbus, model: sdm630, bus: "serial:/dev/ttyUSB0", unit: 1}`, ok2,
			`t.yaml: connectors[0].meter.bus: modbus: bad bus URL "serial:/dev/ttyUSB0": scheme must be rtu, tcp or rtuovertcp`},
		{"bad parity", `{driver: modbus, model: sdm630, bus: "rtu:///dev/ttyUSB0?parity=X", unit: 1}`, ok2,
			`t.yaml: connectors[0].meter.bus: modbus: bad bus URL "rtu:///dev/ttyUSB0?parity=X": bad parity "X"`},
		{"missing bus", `{driver: modbus, model: sdm630, unit: 1}`, ok2, "t.yaml: connectors[0].meter.bus: missing"},
		{"unit 0 on a serial line", `{driver: modbus, model: sdm630, bus: "rtu:///dev/ttyUSB0", unit: 0}`, ok2,
			"t.yaml: connectors[0].meter.unit: 0, want 1-247 on rtu:/dev/ttyUSB0"},
		{"unit 256 over TCP", `{driver: modbus, model: sdm630, bus: "tcp://192.0.2.1", unit: 256}`, ok2,
			"t.yaml: connectors[0].meter.unit: 256, want 0-255 on tcp:192.0.2.1:502"},
		{"missing unit", `{driver: modbus, model: sdm630, bus: "tcp://192.0.2.1"}`, ok2, "t.yaml: connectors[0].meter.unit: missing"},
		{"unit used twice", sdm, `{driver: modbus, model: sdm120, bus: "rtu:///dev/ttyUSB0", unit: 1}`,
			"t.yaml: connectors[1].meter.unit: unit 1 on rtu:/dev/ttyUSB0 used twice (already connectors[0].meter)"},
		{"one line, two URLs", sdm, `{driver: modbus, model: sdm120, bus: "rtu:///dev/ttyUSB0?baud=19200", unit: 2}`,
			`t.yaml: connectors[1].meter.bus: "rtu:///dev/ttyUSB0?baud=19200" is the line rtu:/dev/ttyUSB0 of connectors[0].meter.bus`},
		{"line timing disagrees", `{driver: modbus, model: sdm630, bus: "rtu:///dev/ttyUSB0", unit: 1, frame_delay: 20ms}`,
			`{driver: modbus, model: sdm120, bus: "rtu:///dev/ttyUSB0", unit: 2, frame_delay: 30ms}`,
			"t.yaml: connectors[1].meter.frame_delay: differs from connectors[0].meter.frame_delay on the same line rtu:/dev/ttyUSB0"},
		{"timeout out of range", `{driver: modbus, model: sdm630, bus: "rtu:///dev/ttyUSB0", unit: 1, timeout: 1m}`, ok2,
			"t.yaml: connectors[0].meter.timeout: 1m0s, want up to 5s"},
		{"attempts out of range", `{driver: modbus, model: sdm630, bus: "rtu:///dev/ttyUSB0", unit: 1, attempts: 9}`, ok2,
			"t.yaml: connectors[0].meter.attempts: 9, want 1-5"},
		{"negative fail_after", `{driver: modbus, model: sdm630, bus: "rtu:///dev/ttyUSB0", unit: 1, fail_after: -1}`, ok2,
			"t.yaml: connectors[0].meter.fail_after: -1"},
		{"max_power not a power", `{driver: modbus, model: sdm630, bus: "rtu:///dev/ttyUSB0", unit: 1, max_power: 22kWh}`, ok2,
			`t.yaml: line 8: "22kWh"`},
		{"single-phase meter on three phases", `{driver: modbus, model: sdm120, bus: "rtu:///dev/ttyUSB0", unit: 1}`, ok2,
			"t.yaml: connectors[0].meter.model: sdm120 measures 1 phase(s), the connector has 3"},
		{"generic without registers", `{driver: modbus, model: generic, bus: "rtu:///dev/ttyUSB0", unit: 1}`, ok2,
			"t.yaml: connectors[0].meter.generic: missing: model generic needs its register map"},
		{"generic map invalid", sdm, `{driver: modbus, model: generic, bus: "rtu:///dev/ttyUSB0", unit: 2, generic: {phases: 1, registers: [
        {quantity: energy_import, addr: 0, function: input, type: float32, scale: 1, unit: kW}]}}`,
			`t.yaml: connectors[1].meter.generic: modbus: invalid meter model "generic": register 0 (energy_import): unit "kW" does not measure it`},
		{"generic map with an unknown key", sdm, `{driver: modbus, model: generic, bus: "rtu:///dev/ttyUSB0", unit: 2, generic: {phases: 1, registers: [
        {quantity: energy_import, address: 0, function: input, type: float32, scale: 1, unit: kWh}]}}`,
			"field address not found"},
		{"registers on a shipped model", `{driver: modbus, model: sdm630, bus: "rtu:///dev/ttyUSB0", unit: 1, generic: {phases: 3}}`, ok2,
			"t.yaml: connectors[0].meter.generic: only for model generic"},
		{"CAN key on a modbus meter", `{driver: modbus, model: sdm630, bus: "rtu:///dev/ttyUSB0", unit: 1, interface: can0}`, ok2,
			"t.yaml: connectors[0].meter.interface: not for driver modbus"},
		{"modbus key on a CAN meter", `{driver: can, model: ivt-s, interface: can0, unit: 1}`, ok2,
			"t.yaml: connectors[0].meter.unit: not for driver can"},
		{"keys on the sim meter", `{driver: sim, model: sdm630}`, ok2, "t.yaml: connectors[0].meter.model: not for driver sim"},
		{"unknown CAN model", `{driver: can, model: ivt-x, interface: can0}`, ok2,
			`t.yaml: connectors[0].meter.model: unknown can model "ivt-x" (known: ivt-s)`},
		{"missing CAN interface", `{driver: can, model: ivt-s}`, ok2, "t.yaml: connectors[0].meter.interface: missing"},
		{"bad base id", `{driver: can, model: ivt-s, interface: can0, base_id: 0x800}`, ok2,
			"t.yaml: connectors[0].meter.base_id: 0x800, want an 11-bit identifier"},
		{"result block past 11 bits", `{driver: can, model: ivt-s, interface: can0, base_id: 0x7FC}`, ok2,
			"t.yaml: connectors[0].meter: can: invalid meter configuration: ivt-s ids 0x7FC..0x803"},
		{"bad output voltage", `{driver: can, model: ivt-s, interface: can0, output_voltage: 4}`, ok2,
			"t.yaml: connectors[0].meter.output_voltage: U4, want 1, 2 or 3"},
		{"shunts on the same ids", `{driver: can, model: ivt-s, interface: can0}`, `{driver: can, model: ivt-s, interface: can0, base_id: 0x525, command_id: 0x412}`,
			"t.yaml: connectors[1].meter.base_id: frame id 0x525 on can0 already received by connectors[0].meter"},
		{"negative staleness", `{driver: can, model: ivt-s, interface: can0, min_stale: -1s}`, ok2,
			"t.yaml: connectors[0].meter.min_stale: -1s, want up to 1m0s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load("t.yaml", []byte(twoBoard(c.meter1, c.meter2)))
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant one containing %q", err, c.want)
			}
		})
	}
}
