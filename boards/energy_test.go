package boards

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/meter/modbus"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// TestGridMeterSharesTheLine: a Modbus grid meter on the line of the
// connectors' meters shares their bus, and reads its currents per phase.
func TestGridMeterSharesTheLine(t *testing.T) {
	regs := newRegisters()
	url := serveModbusTCP(t, regs)
	for _, unit := range []uint8{1, 2, 3} {
		for i, v := range []float32{230, 230, 230} {
			regs.float32(unit, uint16(2*i), v)
		}
		regs.float32(unit, 0x46, 50)
	}
	// The grid meter, unit 3: 12.5, 3.25 and 7 A.
	for i, v := range []float32{12.5, 3.25, 7} {
		regs.float32(3, 0x06+uint16(2*i), v)
	}
	m := `{driver: modbus, model: sdm630, bus: "` + url + `", unit: UNIT}`
	text := twoBoard(strings.Replace(m, "UNIT", "1", 1), strings.Replace(m, "UNIT", "2", 1))
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	opts := newFakeHW().opts(clk)
	opts.GridMeter = []byte(strings.Replace(m, "UNIT", "3", 1))
	built := openFile(t, text, opts)
	g, ok := built.GridMeter.(*modbus.Meter)
	m1, _ := built.Meters[1].(*modbus.Meter)
	if !ok || m1 == nil || g.Bus() != m1.Bus() || len(built.meters.buses) != 1 || len(built.Meters) != 2 {
		t.Fatalf("grid meter %v, connector meters %v (%d buses): want a modbus grid meter on the connectors' bus", built.GridMeter, built.Meters, len(built.meters.buses))
	}
	r, err := g.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := [3]physic.ElectricCurrent{12500 * physic.MilliAmpere, 3250 * physic.MilliAmpere, 7 * physic.Ampere}
	if !r.Fields.Has(meter.FieldCurrent) || r.Current != want {
		t.Errorf("grid reading currents %v (fields %b), want %v", r.Current, r.Fields, want)
	}
}

// TestBrokenGridMeter: a grid meter block is checked like a connector's
// meter block, and against the connectors' meters.
func TestBrokenGridMeter(t *testing.T) {
	const sdm1 = `{driver: modbus, model: sdm630, bus: "rtu:///dev/ttyUSB0", unit: 1}`
	const sdm2 = `{driver: modbus, model: sdm630, bus: "rtu:///dev/ttyUSB0", unit: 2}`
	text := twoBoard(sdm1, sdm2)
	cases := []struct{ name, grid, want string }{
		{"unit of a connector's meter", `{driver: modbus, model: sdm630, bus: "rtu:///dev/ttyUSB0", unit: 1}`,
			"grid_meter.unit: unit 1 on rtu:/dev/ttyUSB0 used twice (already connector 1 meter)"},
		{"the line under another URL", `{driver: modbus, model: sdm630, bus: "rtu:///dev/ttyUSB0?baud=19200", unit: 3}`,
			`grid_meter.bus: "rtu:///dev/ttyUSB0?baud=19200" is the line rtu:/dev/ttyUSB0`},
		{"unknown key", `{driver: modbus, model: sdm630, bus: "rtu:///dev/ttyUSB0", unit: 3, baud: 9600}`, "field baud not found"},
		{"sim on a real board", `{driver: sim}`, "grid_meter.driver: sim is for the simulated board"},
		{"a house on a modbus meter", `{driver: modbus, model: sdm630, bus: "rtu:///dev/ttyUSB0", unit: 3, house: {base: 2A}}`,
			"grid_meter.house: only for a grid meter of driver sim"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := t.TempDir() + "/board.yaml"
			writeFile(t, path, text)
			opts := newFakeHW().opts(clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)))
			opts.GridMeter = []byte(c.grid)
			b, err := Open(path, opts)
			if err == nil {
				b.Board.Halt()
				b.Close()
			}
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant one containing %q", err, c.want)
			}
		})
	}
}

// TestSimGridMeter: on the simulated board, driver sim builds the
// simulated house, whose grid meter sees the house, the roof and the
// simulated connectors.
func TestSimGridMeter(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 6, 21, 13, 0, 0, 0, time.UTC))
	b, err := Open("sim", OpenOptions{Clock: clk, GridMeter: []byte(`{driver: sim, house: {base: 3A, pv_peak: 6.9kW}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if b.House == nil || b.GridMeter == nil {
		t.Fatalf("house %v grid meter %v, want both", b.House, b.GridMeter)
	}
	r, err := b.GridMeter.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pv := b.House.PVCurrents(clk.Now())
	if pv[0] <= 0 || r.Current[0] != 3*physic.Ampere-pv[0] {
		t.Errorf("grid current %v with %v of PV, want 3 A less the PV", r.Current[0], pv[0])
	}
	for _, bad := range []struct{ grid, want string }{
		{`{driver: modbus, model: sdm630, bus: "tcp://192.0.2.1", unit: 1}`, `grid_meter.driver: "modbus": the simulated board's grid meter is driver sim`},
		{`{driver: sim, house: {clouds: 2}}`, "grid_meter.house.clouds: 2, want 0-1"},
		{`{driver: sim, house: {pv_peak: 5kWh}}`, `"5kWh"`},
	} {
		if _, err := Open("sim", OpenOptions{Clock: clk, GridMeter: []byte(bad.grid)}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("grid meter %s: err = %v, want one containing %q", bad.grid, err, bad.want)
		}
	}
}

// writeFile writes a test file.
func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLimitInput: a board file's limit_input becomes Built.LimitInput, active
// low by default; the simulated board always has one; a pin used twice is
// refused.
func TestLimitInput(t *testing.T) {
	const sdm = `{driver: sim}`
	hw := newFakeHW()
	hw.pin("GPIO5").L = gpio.Low // the contact is closed at start
	built := openFile(t, twoBoard(sdm, sdm)+"limit_input: {pin: GPIO5}\n", hw.opts(clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))))
	if built.LimitInput == nil || !built.LimitInput.Active() {
		t.Fatalf("limit input %v, want one, active (low)", built.LimitInput)
	}
	plain := openFile(t, twoBoard(sdm, sdm), newFakeHW().opts(nil))
	if plain.LimitInput != nil {
		t.Errorf("board without limit_input: %v, want none", plain.LimitInput)
	}
	sim, err := Open("sim", OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sim.LimitInput == nil || sim.LimitInput.Active() {
		t.Errorf("sim limit input %v, want one, released", sim.LimitInput)
	}
	_, err = Load("t.yaml", []byte(twoBoard(sdm, sdm)+"limit_input: {pin: GPIO17}\n"))
	if err == nil || !strings.Contains(err.Error(), "limit_input.pin: pin GPIO17 used twice") {
		t.Errorf("limit input on the contactor's pin: %v", err)
	}
}

// TestPhaseSwitch: a three-phase connector's phase_switch becomes its
// hal.PhaseSwitch on three phases; one on a single-phase connector is
// refused; the simulated board gets one with sim.phase_switch.
func TestPhaseSwitch(t *testing.T) {
	const sdm = `{driver: sim}`
	text := strings.Replace(twoBoard(sdm, sdm), "    contactor: {driver: relay, out: {pin: GPIO17}}\n",
		"    contactor: {driver: relay, out: {pin: GPIO17}}\n    phase_switch: {driver: relay, out: {pin: GPIO6}}\n", 1)
	hw := newFakeHW()
	built := openFile(t, text, hw.opts(nil))
	cs := built.Board.Connectors()
	if cs[0].PhaseSwitch == nil || cs[0].PhaseSwitch.Phases() != 3 || cs[1].PhaseSwitch != nil {
		t.Fatalf("phase switches %v, %v: want one on connector 1, on three phases", cs[0].PhaseSwitch, cs[1].PhaseSwitch)
	}
	if hw.pin("GPIO6").Read() != gpio.Low {
		t.Error("phase relay not driven to three phases (low) at start")
	}
	bad := strings.Replace(twoBoard(sdm, sdm), "    contactor: {driver: relay, out: {pin: GPIO27}}\n",
		"    contactor: {driver: relay, out: {pin: GPIO27}}\n    phase_switch: {driver: relay, out: {pin: GPIO6}}\n", 1)
	if _, err := Load("t.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "connectors[1].phase_switch: only for a three-phase connector") {
		t.Errorf("phase switch on a single-phase connector: %v", err)
	}
	b, err := Load("s.yaml", []byte("name: s\ndescription: sim with a phase relay\nplatform: sim\nsim: {phase_switch: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !b.Sim.PhaseSwitch {
		t.Error("sim.phase_switch not read")
	}
	path := t.TempDir() + "/s.yaml"
	writeFile(t, path, b.Text)
	sb, err := Open(path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sb.Board.Connectors()[0].PhaseSwitch == nil {
		t.Error("simulated board without its phase relay")
	}
}
