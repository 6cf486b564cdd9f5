package boards

import (
	"slices"
	"strings"
	"time"

	"github.com/evsed/evsed/meter/can"
	"github.com/evsed/evsed/meter/modbus"
	"periph.io/x/conn/v3/physic"
)

// Meter drivers a connector's meter block may name.
const (
	MeterSim    = "sim"    // a stand-in meter that reads 0 W (meter/sim)
	MeterModbus = "modbus" // a Modbus RTU/TCP meter (meter/modbus)
	MeterCAN    = "can"    // a CAN meter such as an IVT-S shunt (meter/can)
)

// genericModel is the modbus model name whose registers the board file
// spells out.
const genericModel = "generic"

// MeterBinding is a connector's meter as its board file describes it,
// validated: Driver says which of Modbus and CAN is set (neither for
// MeterSim). Open builds the meter from it.
type MeterBinding struct {
	Driver string // MeterSim, MeterModbus or MeterCAN
	// Model is the meter model: a modbus.Lookup name or "generic", or a
	// can.Lookup name; empty for MeterSim.
	Model  string
	Modbus *ModbusBinding
	CAN    *CANBinding
}

// ModbusBinding places a Modbus meter on its bus.
type ModbusBinding struct {
	// Bus is the bus URL as written (see modbus.NewBus). Connectors whose
	// meters share a line write the same URL and share one modbus.Bus.
	Bus  string
	Unit int
	// BusOptions are the line's timing. Every meter on a line may state
	// them; stated values must agree, and unstated ones take the line's.
	BusOptions modbus.Options
	// Meter holds the per-meter failure count and sanity bound.
	Meter modbus.MeterOptions
	// Generic is the register map of model "generic"; nil otherwise.
	Generic *modbus.GenericConfig
}

// CANBinding places a CAN meter on its interface.
type CANBinding struct {
	// Interface is the SocketCAN interface, e.g. "can0". Meters on one
	// interface share one socket.
	Interface string
	// IVTS configures an "ivt-s" meter.
	IVTS can.IVTSOptions
	// Meter holds the staleness bounds; Name, Clock and Logger are filled
	// in by Open.
	Meter can.Options
}

// fileMeter is the meter block of a connector in a board file.
type fileMeter struct {
	Driver string `yaml:"driver"`
	Model  string `yaml:"model"`
	// Modbus.
	Bus        string                `yaml:"bus"`
	Unit       *int                  `yaml:"unit"`
	Timeout    *duration             `yaml:"timeout"`
	Attempts   int                   `yaml:"attempts"`
	FrameDelay *duration             `yaml:"frame_delay"`
	FailAfter  int                   `yaml:"fail_after"`
	MaxPower   *watts                `yaml:"max_power"`
	Generic    *modbus.GenericConfig `yaml:"generic"`
	// CAN.
	Interface     string    `yaml:"interface"`
	BaseID        *int      `yaml:"base_id"`
	CommandID     *int      `yaml:"command_id"`
	Reversed      bool      `yaml:"reversed"`
	OutputVoltage int       `yaml:"output_voltage"`
	StaleCycles   int       `yaml:"stale_cycles"`
	MinStale      *duration `yaml:"min_stale"`
	// House is the simulated house of a sim grid meter (grid.go).
	House *fileHouse `yaml:"house"`
}

// modbusKeys and canKeys name the keys of one driver, to reject them under
// the other.
func (m *fileMeter) modbusKeys() []string {
	var k []string
	add := func(set bool, name string) {
		if set {
			k = append(k, name)
		}
	}
	add(m.Bus != "", "bus")
	add(m.Unit != nil, "unit")
	add(m.Timeout != nil, "timeout")
	add(m.Attempts != 0, "attempts")
	add(m.FrameDelay != nil, "frame_delay")
	add(m.FailAfter != 0, "fail_after")
	add(m.MaxPower != nil, "max_power")
	add(m.Generic != nil, "generic")
	return k
}

func (m *fileMeter) canKeys() []string {
	var k []string
	add := func(set bool, name string) {
		if set {
			k = append(k, name)
		}
	}
	add(m.Interface != "", "interface")
	add(m.BaseID != nil, "base_id")
	add(m.CommandID != nil, "command_id")
	add(m.Reversed, "reversed")
	add(m.OutputVoltage != 0, "output_voltage")
	add(m.StaleCycles != 0, "stale_cycles")
	add(m.MinStale != nil, "min_stale")
	return k
}

// Bounds of the meter block's numbers. A request slower than maxTimeout or
// retried more than maxAttempts times would hold a shared line for longer
// than the station's read period.
const (
	maxTimeout    = 5 * time.Second
	maxAttempts   = 5
	maxFrameDelay = time.Second
	maxStale      = time.Minute
)

// modbusLine is what the loader knows about one physical Modbus line.
type modbusLine struct {
	url   string         // as first written
	name  string         // the line, as modbus.Bus String names it
	key   string         // the first key that wrote it
	units map[int]string // unit id -> key of the meter that has it
	opts  modbus.Options
	set   map[string]string // bus option -> key that stated it
}

// canIface is what the loader knows about one CAN interface.
type canIface struct {
	ids map[uint32]string // frame id -> key of the meter that receives it
}

// meterCheck validates the meter blocks of one board file together, since
// meters share lines and interfaces.
type meterCheck struct {
	p      *problems
	lines  map[string]*modbusLine // by modbus.Bus String (the physical line)
	ifaces map[string]*canIface
}

func newMeterCheck(p *problems) *meterCheck {
	return &meterCheck{p: p, lines: map[string]*modbusLine{}, ifaces: map[string]*canIface{}}
}

// check validates the meter block fm of a connector with phases phases
// at key k and returns its binding; ok is false after a mistake.
func (mc *meterCheck) check(k string, fm *fileMeter, phases int) (MeterBinding, bool) {
	before := len(mc.p.list)
	mb := MeterBinding{Driver: fm.Driver, Model: fm.Model}
	if fm.House != nil && (k != gridKey || fm.Driver != MeterSim) {
		mc.p.add(k+".house", "only for a grid meter of driver sim")
	}
	switch fm.Driver {
	case MeterSim:
		for _, key := range append(fm.modbusKeys(), fm.canKeys()...) {
			mc.p.add(k+"."+key, "not for driver sim")
		}
		if fm.Model != "" {
			mc.p.add(k+".model", "not for driver sim")
		}
	case MeterModbus:
		for _, key := range fm.canKeys() {
			mc.p.add(k+"."+key, "not for driver modbus")
		}
		mb.Modbus = mc.modbus(k, fm, phases)
	case MeterCAN:
		for _, key := range fm.modbusKeys() {
			mc.p.add(k+"."+key, "not for driver can")
		}
		mb.CAN = mc.can(k, fm)
	case "":
		mc.p.add(k+".driver", "missing (want %s, %s or %s; no meter block: no meter)", MeterSim, MeterModbus, MeterCAN)
	default:
		mc.p.add(k+".driver", "unknown driver %q (want %s, %s or %s)", fm.Driver, MeterSim, MeterModbus, MeterCAN)
	}
	return mb, len(mc.p.list) == before
}

func (mc *meterCheck) modbus(k string, fm *fileMeter, phases int) *ModbusBinding {
	p := mc.p
	b := &ModbusBinding{Bus: fm.Bus, Generic: fm.Generic}
	var model *modbus.Model
	switch {
	case fm.Model == "":
		p.add(k+".model", "missing (known: %s)", modbusModels())
	case fm.Model == genericModel:
		if fm.Generic == nil {
			p.add(k+".generic", "missing: model generic needs its register map")
			break
		}
		m, err := modbus.Generic(*fm.Generic)
		if err != nil {
			p.add(k+".generic", "%v", err)
			break
		}
		model = m
	default:
		m, err := modbus.Lookup(fm.Model)
		if err != nil {
			p.add(k+".model", "unknown modbus model %q (known: %s)", fm.Model, modbusModels())
			break
		}
		model = m
		if fm.Generic != nil {
			p.add(k+".generic", "only for model generic")
		}
	}
	if model != nil && model.Phases < phases {
		p.add(k+".model", "%s measures %d phase(s), the connector has %d", fm.Model, model.Phases, phases)
	}

	if fm.Timeout != nil && (fm.Timeout.D <= 0 || fm.Timeout.D > maxTimeout) {
		p.add(k+".timeout", "%v, want up to %v (default 500ms)", fm.Timeout.D, maxTimeout)
	}
	if fm.Attempts < 0 || fm.Attempts > maxAttempts {
		p.add(k+".attempts", "%d, want 1-%d (0: default 2)", fm.Attempts, maxAttempts)
	}
	if fm.FrameDelay != nil && (fm.FrameDelay.D < 0 || fm.FrameDelay.D > maxFrameDelay) {
		p.add(k+".frame_delay", "%v, want 0-%v", fm.FrameDelay.D, maxFrameDelay)
	}
	if fm.FailAfter < 0 {
		p.add(k+".fail_after", "%d, want >= 1 (0: default 3)", fm.FailAfter)
	}
	b.Meter.FailAfter = fm.FailAfter
	b.BusOptions.Attempts = fm.Attempts
	if fm.Timeout != nil {
		b.BusOptions.Timeout = fm.Timeout.D
	}
	if fm.FrameDelay != nil {
		b.BusOptions.FrameDelay = fm.FrameDelay.D
	}
	if fm.MaxPower != nil {
		if fm.MaxPower.V <= 0 {
			p.add(k+".max_power", "%v, want > 0 (default 50kW)", fm.MaxPower.V)
		}
		b.Meter.MaxPower = fm.MaxPower.V
	}

	line := mc.line(k, fm.Bus, fm.Unit)
	if line == nil {
		return b
	}
	b.Unit = *fm.Unit
	bus := line.name
	agree := func(name string, stated bool, same bool, set func()) {
		if !stated {
			return
		}
		if first, ok := line.set[name]; ok && !same {
			p.add(k+"."+name, "differs from %s on the same line %s", first, bus)
			return
		}
		line.set[name] = k + "." + name
		set()
	}
	if fm.Timeout != nil {
		agree("timeout", true, line.opts.Timeout == fm.Timeout.D, func() { line.opts.Timeout = fm.Timeout.D })
	}
	agree("attempts", fm.Attempts != 0, line.opts.Attempts == fm.Attempts, func() { line.opts.Attempts = fm.Attempts })
	if fm.FrameDelay != nil {
		agree("frame_delay", true, line.opts.FrameDelay == fm.FrameDelay.D, func() { line.opts.FrameDelay = fm.FrameDelay.D })
	}
	return b
}

// line validates the bus URL and unit of a Modbus device at key k (a
// meter, an isolation monitor) and takes the unit on the line; nil after a
// mistake.
func (mc *meterCheck) line(k, url string, unit *int) *modbusLine {
	p := mc.p
	if url == "" {
		p.add(k+".bus", "missing (e.g. rtu:///dev/ttyUSB0?baud=9600&parity=N or tcp://host:502)")
		return nil
	}
	// NewBus only parses: the line is opened by the first read.
	bus, err := modbus.NewBus(url, nil)
	if err != nil {
		p.add(k+".bus", "%v", err)
		return nil
	}
	ok := true
	line := mc.lines[bus.String()]
	if line == nil {
		line = &modbusLine{url: url, name: bus.String(), key: k + ".bus", units: map[int]string{}, set: map[string]string{}}
		mc.lines[bus.String()] = line
	} else if line.url != url {
		// One line, one URL: the settings of a shared line are one thing.
		p.add(k+".bus", "%q is the line %s of %s, written %q: write the same URL", url, bus, line.key, line.url)
		ok = false
	}
	if unit == nil {
		p.add(k+".unit", "missing (the device's Modbus address, usually 1)")
		return nil
	}
	lo, hi := bus.UnitRange()
	switch u := *unit; {
	case u < lo || u > hi:
		p.add(k+".unit", "%d, want %d-%d on %s", u, lo, hi, bus)
		ok = false
	case line.units[u] != "":
		p.add(k+".unit", "unit %d on %s used twice (already %s)", u, bus, line.units[u])
		ok = false
	default:
		line.units[u] = k
	}
	if !ok {
		return nil
	}
	return line
}

func (mc *meterCheck) can(k string, fm *fileMeter) *CANBinding {
	p := mc.p
	b := &CANBinding{Interface: fm.Interface}
	switch _, err := can.Lookup(fm.Model); {
	case fm.Model == "":
		p.add(k+".model", "missing (known: %s)", strings.Join(can.Names(), ", "))
	case err != nil:
		p.add(k+".model", "unknown can model %q (known: %s)", fm.Model, strings.Join(can.Names(), ", "))
	}
	if fm.Interface == "" {
		p.add(k+".interface", "missing (the SocketCAN interface, e.g. can0)")
	} else if !canIfaceName(fm.Interface) {
		p.add(k+".interface", "%q is not an interface name", fm.Interface)
	}
	if fm.StaleCycles < 0 {
		p.add(k+".stale_cycles", "%d, want >= 1 (0: default 3)", fm.StaleCycles)
	}
	b.Meter.StaleCycles = fm.StaleCycles
	if fm.MinStale != nil {
		if fm.MinStale.D <= 0 || fm.MinStale.D > maxStale {
			p.add(k+".min_stale", "%v, want up to %v (default 100ms)", fm.MinStale.D, maxStale)
		}
		b.Meter.MinStale = fm.MinStale.D
	}
	if fm.Model != "ivt-s" {
		return b
	}
	o := &b.IVTS
	o.Reversed, o.OutputVoltage = fm.Reversed, fm.OutputVoltage
	id := func(key string, v *int, dst *uint32) {
		if v == nil {
			return
		}
		if *v <= 0 || *v > 0x7FF {
			p.add(k+"."+key, "%#x, want an 11-bit identifier 0x001-0x7ff", *v)
			return
		}
		*dst = uint32(*v)
	}
	id("base_id", fm.BaseID, &o.ResultBase)
	id("command_id", fm.CommandID, &o.CommandID)
	if fm.OutputVoltage < 0 || fm.OutputVoltage > 3 {
		p.add(k+".output_voltage", "U%d, want 1, 2 or 3 (0: default 1)", fm.OutputVoltage)
		return b
	}
	dec, err := can.NewIVTS(o)
	if err != nil {
		p.add(k, "%v", err)
		return b
	}
	if fm.Interface == "" {
		return b
	}
	// Two meters that answer to one identifier on one interface would both
	// take each other's frames.
	ifc := mc.ifaces[fm.Interface]
	if ifc == nil {
		ifc = &canIface{ids: map[uint32]string{}}
		mc.ifaces[fm.Interface] = ifc
	}
	for _, fid := range dec.IDs() {
		if other := ifc.ids[fid]; other != "" {
			p.add(k+".base_id", "frame id %#x on %s already received by %s", fid, fm.Interface, other)
			return b
		}
	}
	for _, fid := range dec.IDs() {
		ifc.ids[fid] = k
	}
	return b
}

// canIfaceName reports whether s can be a Linux network interface name:
// 1-15 characters, none of them '/', ':' or blank.
func canIfaceName(s string) bool {
	return len(s) > 0 && len(s) < 16 && !strings.ContainsAny(s, "/: \t\n")
}

// modbusModels lists the modbus model names a board file may use.
func modbusModels() string {
	return strings.Join(append(slices.Clone(modbus.Names()), genericModel), ", ")
}

// watts is a physic.Power read from "22kW".
type watts = quantity[physic.Power, *physic.Power]
