package boards

// DC connectors are built here on fakes: periph's gpiotest pins (this
// machine has no GPIO chip), cantest sources for the power modules' and
// the vehicle's CAN interfaces (the kernel the tests run on need not have
// AF_CAN), and a real Modbus TCP server (simonvetter/modbus) on loopback
// for the isolation monitor and the DC meter on one line.

import (
	"context"
	"encoding/binary"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/chademo"
	"github.com/evsed/evsed/meter/can"
	"github.com/evsed/evsed/meter/can/cantest"
	"github.com/evsed/evsed/station"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// dcBoard is a valid one-connector DC board; MODBUS is replaced by the
// line's URL.
const dcBoard = `name: dc
description: DC test board
platform: raspberrypi
connectors:
  - id: 1
    meter: {driver: modbus, model: pzem017, bus: "MODBUS", unit: 1}
    dc:
      max_voltage: 500V
      max_current: 125A
      max_power: 50kW
      power: {bus: can0, family: example, modules: [1, 2]}
      isolation: {bus: "MODBUS", model: bender-iso, unit: 3}
      contactors:
        driver: relay
        plus: {pin: GPIO17}
        minus: {pin: GPIO27}
        feedback_plus: {pin: GPIO22}
        feedback_minus: {pin: GPIO23}
      emergency_stop: {pin: GPIO24}
      vehicle:
        protocol: chademo
        bus: can1
        d1: {pin: GPIO5}
        d2: {pin: GPIO6}
        permission: {pin: GPIO13}
        proximity: {pin: GPIO19}
    lock: {driver: actuator, actuator: {pin: GPIO26}}
`

// secondDC is a second DC connector for the sharing cases; POWER and
// VEHICLE are its power and vehicle buses, ISO its isolation block.
const secondDC = `  - id: 2
    dc:
      max_voltage: 500V
      max_current: 125A
      power: {bus: POWER, family: example, modules: [3]}
      isolation: ISO
      contactors: {driver: relay, plus: {pin: GPIO7}, minus: {pin: GPIO8}, feedback_plus: {pin: GPIO9}, feedback_minus: {pin: GPIO10}}
      vehicle: {protocol: chademo, bus: VEHICLE, d1: {pin: GPIO11}, d2: {pin: GPIO12}, permission: {pin: GPIO20}, proximity: {pin: GPIO21}}
`

func TestLoadDCBoard(t *testing.T) {
	text := strings.ReplaceAll(dcBoard, "MODBUS", "rtu:///dev/ttyUSB0")
	b, err := Load("t.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	d := b.Spec.Connectors[0].DC
	if d == nil || d.MaxVoltage != 500*physic.Volt || d.MaxCurrent != 125*physic.Ampere || d.MaxPower != 50*physic.KiloWatt ||
		d.Power.Interface != "can0" || d.Power.Set.Name != "example" || len(d.Power.Addresses) != 2 ||
		d.Isolation.Model.Name != "bender-iso" || d.Isolation.Unit != 3 || d.Vehicle.Interface != "can1" ||
		d.Contactors.Plus.Name != "GPIO17" || d.Contactors.FeedbackMinus.Name != "GPIO23" || d.EmergencyStop.Name != "GPIO24" {
		t.Fatalf("DC spec %+v", d)
	}
	// The defaults: relays and the button active high, the EV's lines low.
	if d.Contactors.Plus.Active != gpio.High || d.EmergencyStop.Active != gpio.High ||
		d.Vehicle.Permission.Active != gpio.Low || d.Vehicle.Proximity.Active != gpio.Low || d.Vehicle.D1.Active != gpio.High {
		t.Fatalf("active levels %+v", d)
	}
	if b.Spec.Connectors[0].MaxCurrent != 125*physic.Ampere || b.Meters[1].Model != "pzem017" {
		t.Fatalf("connector %+v, meters %+v", b.Spec.Connectors[0], b.Meters)
	}

	// A vendor's message set as a file beside the board file.
	dir := t.TempDir()
	set, err := os.ReadFile(filepath.Join("..", "hal", "dcpower", "sets", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	vendor := strings.Replace(string(set), "name: example", "name: vendor", 1)
	writeFile(t, filepath.Join(dir, "modules.yaml"), vendor)
	path := filepath.Join(dir, "board.yaml")
	b, err = Load(path, []byte(strings.Replace(text, "family: example", "family: ./modules.yaml", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Spec.Connectors[0].DC.Power.Set.Name; got != "vendor" {
		t.Fatalf("message set %q, want the file's", got)
	}
}

func TestBrokenDCBlocks(t *testing.T) {
	base := strings.ReplaceAll(dcBoard, "MODBUS", "rtu:///dev/ttyUSB0")
	two := func(power, vehicle, iso string) string {
		return base + strings.NewReplacer("POWER", power, "VEHICLE", vehicle, "ISO", iso).Replace(secondDC)
	}
	const iso2 = `{bus: "rtu:///dev/ttyUSB0", model: bender-iso, unit: 4}`
	if _, err := Load("t.yaml", []byte(two("can0", "can2", iso2))); err != nil {
		t.Fatalf("two DC connectors sharing can0 and the RS-485 line: %v", err)
	}
	cases := []struct {
		name     string
		text     string
		old, new string
		want     string
	}{
		{"missing rating", base, "      max_voltage: 500V\n", "", "t.yaml: connectors[0].dc.max_voltage: missing"},
		{"AC key on a DC connector", base, "  - id: 1\n", "  - id: 1\n    phases: 3\n", "t.yaml: connectors[0].phases: not for a DC connector"},
		{"pilot on a DC connector", base, "  - id: 1\n", "  - id: 1\n    pilot: {driver: pwm}\n", "t.yaml: connectors[0].pilot: not for a DC connector"},
		{"unknown family", base, "family: example", "family: acme", `t.yaml: connectors[0].dc.power.family: unknown message set "acme" (shipped: example`},
		{"missing family file", base, "family: example", "family: ./none.yaml", "t.yaml: connectors[0].dc.power.family: open none.yaml"},
		{"address beyond the mask", base, "modules: [1, 2]", "modules: [1, 16]", "t.yaml: connectors[0].dc.power.modules: dcpower: module address 16 does not fit the mask 0xf"},
		{"address twice", base, "modules: [1, 2]", "modules: [2, 2]", "t.yaml: connectors[0].dc.power.modules: dcpower: module address 2 twice"},
		{"no modules", base, "modules: [1, 2]", "modules: []", "t.yaml: connectors[0].dc.power.modules: missing"},
		{"bad CAN name", base, "bus: can0", "bus: can/0", `t.yaml: connectors[0].dc.power.bus: "can/0" is not an interface name`},
		{"unknown isolation model", base, "model: bender-iso", "model: iso-x", `t.yaml: connectors[0].dc.isolation.model: unknown isolation monitor model "iso-x" (known: bender-iso)`},
		{"isolation on the meter's unit", base, "model: bender-iso, unit: 3", "model: bender-iso, unit: 1",
			"t.yaml: connectors[0].dc.isolation.unit: unit 1 on rtu:/dev/ttyUSB0 used twice (already connectors[0].meter)"},
		{"isolation line written twice", base, `isolation: {bus: "rtu:///dev/ttyUSB0"`, `isolation: {bus: "rtu:///dev/ttyUSB0?baud=19200"`,
			`t.yaml: connectors[0].dc.isolation.bus: "rtu:///dev/ttyUSB0?baud=19200" is the line rtu:/dev/ttyUSB0 of connectors[0].meter.bus`},
		{"AC meter", base, "model: pzem017", "model: sdm630", "t.yaml: connectors[0].meter.model: sdm630 is an AC meter: a DC connector needs a DC map"},
		{"pin used twice", base, "d2: {pin: GPIO6}", "d2: {pin: GPIO17}", "t.yaml: connectors[0].dc.vehicle.d2.pin: pin GPIO17 used twice (already connectors[0].dc.contactors.plus)"},
		{"missing feedback", base, "        feedback_minus: {pin: GPIO23}\n", "", "t.yaml: connectors[0].dc.contactors.feedback_minus: missing"},
		{"missing contactors driver", base, "        driver: relay\n", "", "t.yaml: connectors[0].dc.contactors.driver: missing (want relay)"},
		{"missing proximity", base, "        proximity: {pin: GPIO19}\n", "", "t.yaml: connectors[0].dc.vehicle.proximity: missing"},
		{"unknown protocol", base, "protocol: chademo", "protocol: gbt", `t.yaml: connectors[0].dc.vehicle.protocol: unknown protocol "gbt" (want chademo`},
		{"missing vehicle", base, "      vehicle:\n", "      novehicle:\n", "field novehicle not found"},
		{"bad settle", base, "        driver: relay\n", "        driver: relay\n        settle: 1m\n", "t.yaml: connectors[0].dc.contactors.settle: 1m0s, want up to 5s"},
		{"modules answering on each other's ids", two("can0", "can2", iso2), "modules: [3]", "modules: [2]",
			"t.yaml: connectors[1].dc.power.modules: status frame id 0x682 on can0 already received by connectors[0].dc.power"},
		{"one vehicle bus for two connectors", two("can0", "can1", iso2), "", "",
			"t.yaml: connectors[1].dc.vehicle.bus: CAN can1 is already the vehicle bus of connectors[0].dc.vehicle"},
		{"power modules on a vehicle bus", two("can1", "can2", iso2), "", "",
			"t.yaml: connectors[0].dc.vehicle.bus: CAN can1 carries the power modules of connectors[1].dc.power: the vehicle's bus is the vehicle's alone"},
		{"a CAN meter on a vehicle bus", base + `  - id: 2
    max_current: 16A
    phases: 1
    meter: {driver: can, model: ivt-s, interface: can1}
    pilot: {driver: pwm, pwm: {pin: GPIO18}, sense: {driver: ads1115, bus: "1", address: 0x48, high_channel: 0, divider: {offset: 1.65V, scale: 7.272727}}}
    cable: {driver: tethered, max_current: 16A}
    contactor: {driver: relay, out: {pin: GPIO4}}
`, "", "", "t.yaml: connectors[0].dc.vehicle.bus: CAN can1 carries the meter of connectors[1]"},
		{"isolation monitors on one unit", two("can0", "can2", `{bus: "rtu:///dev/ttyUSB0", model: bender-iso, unit: 3}`), "", "",
			"t.yaml: connectors[1].dc.isolation.unit: unit 3 on rtu:/dev/ttyUSB0 used twice (already connectors[0].dc.isolation)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := strings.Replace(c.text, c.old, c.new, 1)
			if c.old != "" && text == c.text {
				t.Fatal("case does not change the file")
			}
			_, err := Load("t.yaml", []byte(text))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant one containing %q", err, c.want)
			}
			if !errors.Is(err, ErrInvalid) && !strings.Contains(c.want, "not found") {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

// dcRig is a DC board opened on fakes, with a simulated EV, power modules
// and isolation monitor answering on them.
type dcRig struct {
	t      *testing.T
	hw     *fakeHW
	regs   *registers
	srcs   map[string]*cantest.Source
	built  *Built
	filter map[string][]uint32 // the ids each interface was opened with
}

func newDCRig(t *testing.T) *dcRig {
	t.Helper()
	r := &dcRig{t: t, hw: newFakeHW(), regs: newRegisters(), srcs: map[string]*cantest.Source{}, filter: map[string][]uint32{}}
	// Healthy insulation: 1 MΩ, unit ohm, no alarm (see hal/isolation).
	bits := math.Float32bits(1e6)
	r.regs.set(r.regs.holding, 3, 1000, uint16(bits>>16), uint16(bits), 0x0002, 71)
	r.regs.set(r.regs.input, 1, 0, 0, 0, 0, 0, 0, 0) // the meter reads zeros
	url := serveModbusTCP(t, r.regs)
	// Unplugged and idle: the EV's lines (active low) high, the mirror
	// contacts open (low), the button released (low).
	r.hw.pin("GPIO13").Out(gpio.High)
	r.hw.pin("GPIO19").Out(gpio.High)
	opts := r.hw.opts(clock.Real{})
	var mu sync.Mutex
	opts.CAN = func(iface string, ids []uint32) (CANSource, error) {
		mu.Lock()
		defer mu.Unlock()
		src := cantest.NewSource()
		r.srcs[iface], r.filter[iface] = src, ids
		return closingSource{src}, nil
	}
	r.built = openFile(t, strings.ReplaceAll(dcBoard, "MODBUS", url), opts)
	return r
}

// level reads a fake pin.
func (r *dcRig) level(name string) gpio.Level { return r.hw.pin(name).Read() }

// lastCommand returns the last command frame sent to module a, nil if none.
func (r *dcRig) lastCommand(a int) []byte {
	sent := r.srcs["can0"].Sent()
	for i := len(sent) - 1; i >= 0; i-- {
		if sent[i].ID == 0x600|uint32(a) {
			return sent[i].Data
		}
	}
	return nil
}

// waitFor polls cond (real time: the loops run on goroutines of their
// own) and fails the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestOpenDCBoard(t *testing.T) {
	r := newDCRig(t)
	if strings.Join(sortedKeys(r.filter), ",") != "can0,can1" {
		t.Fatalf("opened %v, want can0 and can1", r.filter)
	}
	if r.filter["can0"] != nil || len(r.filter["can1"]) != 3 {
		t.Fatalf("filters %v: want the power modules' bus unfiltered and CHAdeMO's three frames on can1", r.filter)
	}
	conns := r.built.Board.Connectors()
	if len(conns) != 1 || conns[0].DC == nil {
		t.Fatalf("connectors %+v, want one DC connector", conns)
	}
	c := conns[0]
	d := c.DC
	if d.Supply == nil || d.Isolation == nil || d.Vehicle == nil || d.EmergencyStop == nil || c.Lock == nil ||
		d.MaxVoltage != 500*physic.Volt || c.MaxCurrent != 125*physic.Ampere {
		t.Fatalf("DC parts %+v", d)
	}
	if _, ok := c.Contactor.(hal.ContactorFeedback); !ok {
		t.Fatal("the DC contactors have no feedback")
	}
	if _, ok := d.Vehicle.(*chademo.Vehicle); !ok || c.Pilot.State() != hal.PilotA {
		t.Fatalf("vehicle %T, plug %v: want CHAdeMO, unplugged (A)", d.Vehicle, c.Pilot.State())
	}
	// Safe from the start: contactors open, d1 and d2 off.
	for _, p := range []string{"GPIO17", "GPIO27", "GPIO5", "GPIO6"} {
		if r.level(p) != gpio.Low {
			t.Errorf("%s high after Open", p)
		}
	}
	if err := c.Contactor.Close(); !errors.Is(err, hal.ErrInterlock) {
		t.Fatalf("Close without the EV's permission: %v, want ErrInterlock", err)
	}
	if r.level("GPIO17") != gpio.Low || r.level("GPIO27") != gpio.Low {
		t.Fatal("a refused Close left a pole closed")
	}
}

// ev is a CHAdeMO EV on can1: it sends its three frames every 50 ms with
// the flags set by the test.
type ev struct {
	mu     sync.Mutex // guards status
	status byte
}

func (e *ev) set(status byte) { e.mu.Lock(); e.status = status; e.mu.Unlock() }

func (e *ev) frames() []can.Frame {
	e.mu.Lock()
	st := e.status
	e.mu.Unlock()
	limits := make([]byte, 8)
	binary.LittleEndian.PutUint16(limits[4:], 410) // the EV's maximum
	times := make([]byte, 8)
	req := make([]byte, 8)
	req[0] = 2
	binary.LittleEndian.PutUint16(req[1:], 380) // battery voltage
	req[3] = 0                                  // no current yet
	req[5] = st
	req[6] = 40 // SoC
	return []can.Frame{{ID: chademo.IDEVLimits, Data: limits}, {ID: chademo.IDEVTimes, Data: times}, {ID: chademo.IDEVRequest, Data: req}}
}

func TestStationDrivesDCBoard(t *testing.T) {
	r := newDCRig(t)
	c := r.built.Board.Connectors()[0]
	st, err := station.New(station.Options{
		ID:         "dc",
		Connectors: []station.ConnectorConfig{{Hardware: c, Meter: r.built.Meters[1]}},
		Board:      r.built.Board,
		Config:     func() station.Config { cfg := station.DefaultConfig(); cfg.FreeCharging = true; return cfg }(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	runErr := make(chan error, 2)
	wg.Go(func() { runErr <- st.Run(ctx) })
	wg.Go(func() { runErr <- r.built.RunMeters(ctx) })

	// The modules answer every 50 ms with the voltage they were told and no
	// fault; the EV sends its frames; the mirror contacts follow the coils.
	car := &ev{status: 1<<0 | 1<<3} // charging enabled, its contactors open
	wg.Go(func() {
		for ctx.Err() == nil {
			for _, a := range []int{1, 2} {
				status := make([]byte, 8)
				if cmd := r.lastCommand(a); cmd != nil && cmd[4] == 1 {
					copy(status[:2], cmd[:2])
				}
				if err := r.srcs["can0"].Deliver(can.Frame{ID: 0x680 | uint32(a), Data: status}); err != nil && ctx.Err() == nil {
					t.Errorf("modules: %v", err)
					return
				}
			}
			if err := r.srcs["can1"].Deliver(car.frames()...); err != nil && ctx.Err() == nil {
				t.Errorf("EV: %v", err)
				return
			}
			r.hw.pin("GPIO22").Out(r.level("GPIO17"))
			r.hw.pin("GPIO23").Out(r.level("GPIO27"))
			time.Sleep(50 * time.Millisecond)
		}
	})
	snap := func() station.ConnectorSnapshot {
		s, err := st.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return s.Connectors[0]
	}
	step := func() hal.DCStep {
		if d := snap().DC; d != nil {
			return d.Step
		}
		return ""
	}

	// Plug in: the session starts (free charging) and d1 wakes the EV.
	r.hw.pin("GPIO19").Out(gpio.Low)
	waitFor(t, "d1 on in Parameters", func() bool { return step() == hal.DCParameters && r.level("GPIO5") == gpio.High })
	if r.level("GPIO6") != gpio.Low {
		t.Fatal("d2 on before the insulation test")
	}
	// The EV gives its permission: cable check at the least of the EV's
	// 410 V, the connector's 500 V and the modules' 1000 V, 2 A.
	r.hw.pin("GPIO13").Out(gpio.Low)
	waitFor(t, "the supply at the test voltage", func() bool {
		cmd := r.lastCommand(1)
		return cmd != nil && cmd[4] == 1 && binary.BigEndian.Uint16(cmd[0:]) == 4100
	})
	if cmd := r.lastCommand(2); binary.BigEndian.Uint16(cmd[2:]) != 10 {
		t.Errorf("module 2 current %d×0.1 A, want its half of the 2 A test current", binary.BigEndian.Uint16(cmd[2:]))
	}
	if r.level("GPIO17") != gpio.High || r.level("GPIO27") != gpio.High || r.level("GPIO26") != gpio.High {
		t.Fatal("cable check without both poles closed and the plug locked")
	}
	// A measurement taken after the voltage was reached passes the check:
	// precharge, and d2 lets the EV close its contactors.
	waitFor(t, "precharge after the isolation monitor's reading", func() bool { return step() == hal.DCPreCharge })
	waitFor(t, "d2 on", func() bool { return r.level("GPIO6") == gpio.High })
	if s := snap(); s.DC.IsolationStatus != hal.IsolationValid || s.DC.Isolation != physic.MegaOhm {
		t.Fatalf("isolation %v %v, want the monitor's 1 MΩ, valid", s.DC.IsolationStatus, s.DC.Isolation)
	}

	// The emergency stop: contactors open and the supply off at once.
	r.hw.pin("GPIO24").Out(gpio.High)
	waitFor(t, "contactors open on the emergency stop", func() bool {
		cmd := r.lastCommand(1)
		return r.level("GPIO17") == gpio.Low && r.level("GPIO27") == gpio.Low && cmd[4] == 0
	})
	waitFor(t, "the connector faulted", func() bool { return snap().Status == station.Faulted })
	waitFor(t, "d1 and d2 off after the fault", func() bool { return r.level("GPIO5") == gpio.Low && r.level("GPIO6") == gpio.Low })

	cancel()
	wg.Wait()
	close(runErr)
	for err := range runErr {
		if err != nil {
			t.Errorf("run: %v", err)
		}
	}
}

func TestHaltMakesDCSafe(t *testing.T) {
	r := newDCRig(t)
	c := r.built.Board.Connectors()[0]
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = r.built.Board.Run(ctx, func(hal.Event) {}) })
	wg.Go(func() { _ = r.built.RunMeters(ctx) })
	// Energized by hand: permission and plug in, contactors closed, the
	// supply on, d1 and d2 on.
	r.hw.pin("GPIO13").Out(gpio.Low)
	r.hw.pin("GPIO19").Out(gpio.Low)
	waitFor(t, "the plug in C", func() bool { return c.Pilot.State() == hal.PilotC })
	if err := c.Contactor.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.DC.Supply.Set(400*physic.Volt, 10*physic.Ampere); err != nil {
		t.Fatal(err)
	}
	c.DC.Vehicle.Report(hal.ChargerReport{Step: hal.DCCharging})
	if r.level("GPIO17") != gpio.High || r.level("GPIO5") != gpio.High || r.level("GPIO6") != gpio.High {
		t.Fatal("not energized")
	}
	if err := r.built.Board.Halt(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"GPIO17", "GPIO27", "GPIO5", "GPIO6"} {
		if r.level(p) != gpio.Low {
			t.Errorf("%s high after Halt", p)
		}
	}
	for _, a := range []int{1, 2} {
		if cmd := r.lastCommand(a); cmd == nil || cmd[4] != 0 || binary.BigEndian.Uint16(cmd[0:]) != 0 {
			t.Errorf("module %d's last command %x, want off at 0 V", a, cmd)
		}
	}
	// The CHAdeMO frame says stop.
	var stop bool
	for _, f := range r.srcs["can1"].Sent() {
		if f.ID == chademo.IDChargerSt {
			stop = f.Data[5]&(1<<5) != 0
		}
	}
	if !stop {
		t.Error("the charger's last 0x109 does not say stop")
	}
	cancel()
	wg.Wait()
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
