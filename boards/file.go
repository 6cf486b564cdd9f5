package boards

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/periphboard"
	"github.com/evsed/evsed/hal/pilot"
	halsim "github.com/evsed/evsed/hal/sim"
	"github.com/evsed/evsed/meter"
	"go.yaml.in/yaml/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// ErrInvalid is wrapped by every board file mistake Load reports.
var ErrInvalid = errors.New("boards: invalid board file")

// Platforms a board file may name.
const (
	PlatformSim         = "sim"
	PlatformRaspberryPi = "raspberrypi"
)

// quantity is a physic unit read from a YAML string such as "32A" or
// "1.65V", through the unit's own parser.
type quantity[T any, P interface {
	*T
	Set(string) error
}] struct{ V T }

// UnmarshalYAML parses the unit.
func (q *quantity[T, P]) UnmarshalYAML(n *yaml.Node) error {
	if err := P(&q.V).Set(n.Value); err != nil {
		return fmt.Errorf("line %d: %q: %w", n.Line, n.Value, err)
	}
	return nil
}

type (
	amps  = quantity[physic.ElectricCurrent, *physic.ElectricCurrent]
	volts = quantity[physic.ElectricPotential, *physic.ElectricPotential]
	hertz = quantity[physic.Frequency, *physic.Frequency]
	ohms  = quantity[physic.ElectricResistance, *physic.ElectricResistance]
)

// duration is a time.Duration read from "100ms".
type duration struct{ D time.Duration }

// UnmarshalYAML parses the duration.
func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	d.D = v
	return nil
}

// The board file schema. Optional sections are pointers; see the shipped
// files in files/ for every key.
type (
	fileBoard struct {
		Name        string          `yaml:"name"`
		Description string          `yaml:"description"`
		Platform    string          `yaml:"platform"`
		Poll        *duration       `yaml:"poll"`
		Sim         *fileSim        `yaml:"sim"`
		Connectors  []fileConnector `yaml:"connectors"`
		CardReaders []fileReader    `yaml:"card_readers"`
		// LimitInput is the grid operator's limit signal (a ripple control
		// receiver's or a control box's contact): a GPIO input.
		LimitInput *filePin `yaml:"limit_input"`
		// Displays are driver displays shared by several connectors (or
		// serving all of them); a connector's own is its display block.
		Displays []fileDisplay `yaml:"displays"`
	}
	fileSim struct {
		Connectors  int   `yaml:"connectors"`
		MaxCurrent  *amps `yaml:"max_current"`
		Phases      int   `yaml:"phases"`
		PhaseSwitch bool  `yaml:"phase_switch"`
		// DC makes the simulated board a DC charger (see fileSimDC).
		DC *fileSimDC `yaml:"dc"`
	}
	// fileSimDC is the simulated DC charger: each connector's rating,
	// its power modules and the simulated EV.
	fileSimDC struct {
		MaxVoltage *volts `yaml:"max_voltage"`
		MaxCurrent *amps  `yaml:"max_current"`
		MaxPower   *watts `yaml:"max_power"`
		Modules    int    `yaml:"modules"`
		Module     *struct {
			MinVoltage *volts `yaml:"min_voltage"`
			MaxVoltage *volts `yaml:"max_voltage"`
			MaxCurrent *amps  `yaml:"max_current"`
			MaxPower   *watts `yaml:"max_power"`
		} `yaml:"module"`
		EV *struct {
			CapacityKWh  float64 `yaml:"capacity_kwh"`
			SoC          float64 `yaml:"soc"`
			TargetSoC    float64 `yaml:"target_soc"`
			EmptyVoltage *volts  `yaml:"empty_voltage"`
			FullVoltage  *volts  `yaml:"full_voltage"`
			MaxVoltage   *volts  `yaml:"max_voltage"`
			MaxCurrent   *amps   `yaml:"max_current"`
			MaxPower     *watts  `yaml:"max_power"`
			TaperFrom    float64 `yaml:"taper_from"`
		} `yaml:"ev"`
	}
	filePin struct {
		Pin    string `yaml:"pin"`
		Active string `yaml:"active"`
	}
	fileConnector struct {
		ID         int            `yaml:"id"`
		MaxCurrent *amps          `yaml:"max_current"`
		Phases     int            `yaml:"phases"`
		Meter      *fileMeter     `yaml:"meter"`
		Pilot      *filePilot     `yaml:"pilot"`
		Cable      *fileCable     `yaml:"cable"`
		Contactor  *fileContactor `yaml:"contactor"`
		RCD        *fileRCD       `yaml:"rcd"`
		Lock       *fileLock      `yaml:"lock"`
		Indicator  *fileIndicator `yaml:"indicator"`
		// PhaseSwitch is the 1-phase/3-phase relay of a three-phase
		// connector (see doc.go).
		PhaseSwitch *filePhaseSwitch `yaml:"phase_switch"`
		// Display is the connector's own driver display (see doc.go).
		Display *fileDisplay `yaml:"display"`
		// DC makes the connector a DC one (see dc.go and doc.go).
		DC *fileDC `yaml:"dc"`
	}
	// fileDisplay is a driver display on I2C: a connector's display
	// block, or an entry of the board's displays with the connectors it
	// serves.
	fileDisplay struct {
		Driver     string `yaml:"driver"`
		Bus        string `yaml:"bus"`
		Address    *int   `yaml:"address"`
		Rows       int    `yaml:"rows"`
		Cols       int    `yaml:"cols"`
		Connectors []int  `yaml:"connectors"`
	}
	filePhaseSwitch struct {
		Driver string   `yaml:"driver"`
		Out    *filePin `yaml:"out"`
	}
	filePilot struct {
		Driver     string     `yaml:"driver"`
		PWM        *filePin   `yaml:"pwm"`
		Enable     *filePin   `yaml:"enable"`
		SampleRate *hertz     `yaml:"sample_rate"`
		Debounce   int        `yaml:"debounce"`
		DiodeEvery int        `yaml:"diode_every"`
		Sense      *fileSense `yaml:"sense"`
	}
	fileSense struct {
		Driver      string `yaml:"driver"`
		Bus         string `yaml:"bus"`
		Address     *int   `yaml:"address"`
		HighChannel *int   `yaml:"high_channel"`
		LowChannel  *int   `yaml:"low_channel"`
		FullScale   *volts `yaml:"full_scale"`
		Rate        *hertz `yaml:"rate"`
		Divider     *struct {
			Offset *volts   `yaml:"offset"`
			Scale  *float64 `yaml:"scale"`
		} `yaml:"divider"`
	}
	fileCable struct {
		Driver     string `yaml:"driver"`
		MaxCurrent *amps  `yaml:"max_current"`
		Channel    *int   `yaml:"channel"`
		Supply     *volts `yaml:"supply"`
		PullUp     *ohms  `yaml:"pull_up"`
	}
	fileContactor struct {
		Driver   string    `yaml:"driver"`
		Out      *filePin  `yaml:"out"`
		Feedback *filePin  `yaml:"feedback"`
		Settle   *duration `yaml:"settle"`
	}
	fileRCD struct {
		Driver      string    `yaml:"driver"`
		Fault       *filePin  `yaml:"fault"`
		Test        *filePin  `yaml:"test"`
		TestTimeout *duration `yaml:"test_timeout"`
	}
	fileLock struct {
		Driver   string    `yaml:"driver"`
		Lock     *filePin  `yaml:"lock"`
		Unlock   *filePin  `yaml:"unlock"`
		Actuator *filePin  `yaml:"actuator"`
		Feedback *filePin  `yaml:"feedback"`
		Pulse    *duration `yaml:"pulse"`
	}
	fileIndicator struct {
		Driver string   `yaml:"driver"`
		Ready  *filePin `yaml:"ready"`
		Busy   *filePin `yaml:"busy"`
		Fault  *filePin `yaml:"fault"`
	}
	fileReader struct {
		Driver    string    `yaml:"driver"`
		Connector int       `yaml:"connector"`
		SPI       string    `yaml:"spi"`
		Reset     *filePin  `yaml:"reset"`
		IRQ       *filePin  `yaml:"irq"`
		Interval  *duration `yaml:"interval"`
	}
)

// Board is a loaded, validated board file.
type Board struct {
	Info
	// Spec is the hardware description for periphboard; empty for
	// simulated boards.
	Spec periphboard.Spec
	// Sim holds a simulated board's parameters; nil for real boards.
	Sim *SimParams
	// Meters are the connectors' meter bindings by connector ID; a
	// connector without a meter block has no entry.
	Meters map[int]MeterBinding
	// Text is the board file as read.
	Text string

	// fileMeters are the connectors' meter blocks by connector ID, for
	// checking a grid meter against them (Open).
	fileMeters map[int]*fileMeter
	phases     map[int]int
	// isoUnits are the isolation monitors' units on their lines, checked
	// with the meters' against a grid meter (Open).
	isoUnits []isoUnit
}

// SimParams are a simulated board's parameters.
type SimParams struct {
	Connectors int
	MaxCurrent physic.ElectricCurrent
	Phases     int
	// PhaseSwitch gives every three-phase outlet a phase relay.
	PhaseSwitch bool
	// DC, when set, makes the board the simulated DC charger (hal/sim
	// NewDC) with these options (Connectors, Clock and Logger are filled
	// in by Open); MaxCurrent, Phases and PhaseSwitch are then unused.
	DC *halsim.DCOptions
}

// problems collects a file's mistakes as "file: key: what" lines.
type problems struct {
	file string
	list []string
}

func (p *problems) add(key, format string, args ...any) {
	p.list = append(p.list, fmt.Sprintf("%s: %s: %s", p.file, key, fmt.Sprintf(format, args...)))
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return fmt.Errorf("%w:\n  %s", ErrInvalid, strings.Join(p.list, "\n  "))
}

// rpiPin matches the BCM GPIO names periph gives a Raspberry Pi's header.
var rpiPin = regexp.MustCompile(`^GPIO([0-9]|1[0-9]|2[0-7])$`)

// rpiPWM are the pins with hardware PWM on a Pi 4/5 header.
func rpiPWM(name string) bool {
	switch name {
	case "GPIO12", "GPIO13", "GPIO18", "GPIO19":
		return true
	}
	return false
}

// rpiBusPins are the header pins a bus takes on a Pi.
func rpiBusPins(kind, name string) []string {
	switch kind + ":" + name {
	case "i2c:1":
		return []string{"GPIO2", "GPIO3"}
	case "spi:SPI0.0":
		return []string{"GPIO8", "GPIO9", "GPIO10", "GPIO11"}
	case "spi:SPI0.1":
		return []string{"GPIO7", "GPIO9", "GPIO10", "GPIO11"}
	}
	return nil
}

// Load parses and validates a board file's text; file names it in
// messages. Every mistake is reported, each naming the file, the key path
// and what is wrong; nothing touches hardware.
func Load(file string, text []byte) (*Board, error) {
	var fb fileBoard
	dec := yaml.NewDecoder(bytes.NewReader(text))
	dec.KnownFields(true)
	if err := dec.Decode(&fb); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, file, err)
	}
	p := &problems{file: file}
	b := &Board{
		Info:   Info{Name: fb.Name, Description: fb.Description, Source: file},
		Meters: map[int]MeterBinding{},
		Text:   string(text),
	}
	if fb.Name == "" {
		p.add("name", "missing")
	}
	if fb.Description == "" || strings.Contains(fb.Description, "\n") {
		p.add("description", "want one line")
	}
	switch fb.Platform {
	case PlatformSim:
		b.Simulated = true
		b.Sim = validateSim(p, fb)
	case PlatformRaspberryPi:
		b.Spec, b.isoUnits = validateReal(p, fb, b.Meters)
		b.fileMeters, b.phases = map[int]*fileMeter{}, map[int]int{}
		for _, c := range fb.Connectors {
			if c.Meter != nil {
				b.fileMeters[c.ID], b.phases[c.ID] = c.Meter, c.Phases
			}
		}
	case "":
		p.add("platform", "missing (want %s or %s)", PlatformSim, PlatformRaspberryPi)
	default:
		p.add("platform", "unknown platform %q (want %s or %s)", fb.Platform, PlatformSim, PlatformRaspberryPi)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return b, nil
}

func validateSim(p *problems, fb fileBoard) *SimParams {
	if len(fb.Connectors) > 0 || len(fb.CardReaders) > 0 {
		p.add("connectors", "a simulated board has no wiring; use sim.connectors")
	}
	if fb.LimitInput != nil {
		p.add("limit_input", "a simulated board has no wiring; its limit input is always there (set from the simulation)")
	}
	if len(fb.Displays) > 0 {
		p.add("displays", "a simulated board has no wiring; what its displays would show is in the status")
	}
	s := &SimParams{Connectors: 2, MaxCurrent: 32 * physic.Ampere, Phases: 3}
	if fb.Sim == nil {
		return s
	}
	if fb.Sim.Connectors != 0 {
		s.Connectors = fb.Sim.Connectors
	}
	if s.Connectors < 1 || s.Connectors > 64 {
		p.add("sim.connectors", "%d, want 1-64", s.Connectors)
	}
	if fb.Sim.MaxCurrent != nil {
		s.MaxCurrent = fb.Sim.MaxCurrent.V
		checkCurrent(p, "sim.max_current", s.MaxCurrent)
	}
	if fb.Sim.Phases != 0 {
		s.Phases = fb.Sim.Phases
	}
	if s.Phases != 1 && s.Phases != 3 {
		p.add("sim.phases", "%d, want 1 or 3", s.Phases)
	}
	s.PhaseSwitch = fb.Sim.PhaseSwitch
	if s.PhaseSwitch && s.Phases != 3 {
		p.add("sim.phase_switch", "only for three-phase outlets")
	}
	if fb.Sim.DC != nil {
		if fb.Sim.MaxCurrent != nil || fb.Sim.Phases != 0 || fb.Sim.PhaseSwitch {
			p.add("sim.dc", "a DC board has no max_current, phases or phase_switch (use sim.dc.max_current)")
		}
		s.DC = validateSimDC(p, fb.Sim.DC)
	}
	return s
}

// validateSimDC checks the simulated DC charger's block; zero values mean
// the simulator's defaults.
func validateSimDC(p *problems, f *fileSimDC) *halsim.DCOptions {
	o := &halsim.DCOptions{Modules: f.Modules}
	pos := func(key string, ok bool) {
		if !ok {
			p.add(key, "must be positive")
		}
	}
	if f.MaxVoltage != nil {
		o.MaxVoltage = f.MaxVoltage.V
		pos("sim.dc.max_voltage", o.MaxVoltage > 0)
	}
	if f.MaxCurrent != nil {
		o.MaxCurrent = f.MaxCurrent.V
		pos("sim.dc.max_current", o.MaxCurrent > 0)
	}
	if f.MaxPower != nil {
		o.MaxPower = f.MaxPower.V
		pos("sim.dc.max_power", o.MaxPower > 0)
	}
	if f.Modules < 0 || f.Modules > 64 {
		p.add("sim.dc.modules", "%d, want 1-64", f.Modules)
	}
	if m := f.Module; m != nil {
		if m.MinVoltage != nil {
			o.Module.MinVoltage = m.MinVoltage.V
			pos("sim.dc.module.min_voltage", o.Module.MinVoltage > 0)
		}
		if m.MaxVoltage != nil {
			o.Module.MaxVoltage = m.MaxVoltage.V
			pos("sim.dc.module.max_voltage", o.Module.MaxVoltage > 0)
		}
		if m.MaxCurrent != nil {
			o.Module.MaxCurrent = m.MaxCurrent.V
			pos("sim.dc.module.max_current", o.Module.MaxCurrent > 0)
		}
		if m.MaxPower != nil {
			o.Module.MaxPower = m.MaxPower.V
			pos("sim.dc.module.max_power", o.Module.MaxPower > 0)
		}
	}
	if e := f.EV; e != nil {
		ev := &o.EV
		ev.Capacity = meter.EnergyFromWh(e.CapacityKWh * 1000)
		ev.SoC, ev.TargetSoC, ev.TaperFrom = e.SoC, e.TargetSoC, e.TaperFrom
		for _, v := range []struct {
			key string
			in  *volts
			out *physic.ElectricPotential
		}{{"empty_voltage", e.EmptyVoltage, &ev.EmptyVoltage}, {"full_voltage", e.FullVoltage, &ev.FullVoltage}, {"max_voltage", e.MaxVoltage, &ev.MaxVoltage}} {
			if v.in != nil {
				*v.out = v.in.V
				pos("sim.dc.ev."+v.key, v.in.V > 0)
			}
		}
		if e.MaxCurrent != nil {
			ev.MaxCurrent = e.MaxCurrent.V
			pos("sim.dc.ev.max_current", ev.MaxCurrent > 0)
		}
		if e.MaxPower != nil {
			ev.MaxPower = e.MaxPower.V
			pos("sim.dc.ev.max_power", ev.MaxPower > 0)
		}
	}
	// The simulator checks the rest (voltage order, percent ranges): build
	// one to report it here, at load time, with the file's name.
	if _, err := halsim.NewDC(*o); err != nil {
		p.add("sim.dc", "%v", err)
	}
	return o
}

func checkCurrent(p *problems, key string, a physic.ElectricCurrent) {
	if a < hal.MinOffer || a > hal.MaxOffer {
		p.add(key, "current %v out of range (6-80 A)", a)
	}
}

// pinUse tracks which key took which pin.
type pinUse map[string]string

// pin validates a pin entry and records it; required says whether a nil
// entry is a mistake.
func (u pinUse) pin(p *problems, key string, fp *filePin, defActive gpio.Level, required bool) periphboard.Pin {
	if fp == nil {
		if required {
			p.add(key, "missing")
		}
		return periphboard.Pin{}
	}
	out := periphboard.Pin{Name: fp.Pin, Active: defActive}
	switch fp.Active {
	case "":
	case "high":
		out.Active = gpio.High
	case "low":
		out.Active = gpio.Low
	default:
		p.add(key+".active", "bad level %q (want high or low)", fp.Active)
	}
	switch {
	case fp.Pin == "":
		p.add(key+".pin", "missing")
	case !rpiPin.MatchString(fp.Pin):
		p.add(key+".pin", "unknown pin %q (a Raspberry Pi has GPIO0-GPIO27)", fp.Pin)
	case u[fp.Pin] != "":
		p.add(key+".pin", "pin %s used twice (already %s)", fp.Pin, u[fp.Pin])
	default:
		u[fp.Pin] = key
	}
	return out
}

func dur(d *duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.D
}

func validateReal(p *problems, fb fileBoard, meters map[int]MeterBinding) (periphboard.Spec, []isoUnit) {
	s := periphboard.Spec{Name: fb.Name, Poll: dur(fb.Poll)}
	var isos []isoUnit
	if fb.Sim != nil {
		p.add("sim", "only for platform sim")
	}
	if len(fb.Connectors) == 0 {
		p.add("connectors", "missing: a board needs at least one connector")
	}
	used := pinUse{}
	// Buses first, so that a pin clashing with a bus names the bus.
	for i, c := range fb.Connectors {
		if c.Pilot != nil && c.Pilot.Sense != nil {
			for _, g := range rpiBusPins("i2c", c.Pilot.Sense.Bus) {
				if used[g] == "" {
					used[g] = fmt.Sprintf("connectors[%d].pilot.sense.bus (I2C %s)", i, c.Pilot.Sense.Bus)
				}
			}
		}
	}
	// A display shares its I2C bus with the ADCs: the bus's pins are
	// taken once, by whichever part names the bus first.
	displayBus := func(key, bus string) {
		for _, g := range rpiBusPins("i2c", bus) {
			if used[g] == "" {
				used[g] = fmt.Sprintf("%s.bus (I2C %s)", key, bus)
			}
		}
	}
	for i, c := range fb.Connectors {
		if c.Display != nil {
			displayBus(fmt.Sprintf("connectors[%d].display", i), c.Display.Bus)
		}
	}
	for i, d := range fb.Displays {
		displayBus(fmt.Sprintf("displays[%d]", i), d.Bus)
	}
	for i, r := range fb.CardReaders {
		for _, g := range rpiBusPins("spi", r.SPI) {
			if used[g] == "" {
				used[g] = fmt.Sprintf("card_readers[%d].spi (%s)", i, r.SPI)
			}
		}
	}
	ids := map[int]bool{}
	mc := newMeterCheck(p)
	dc := newDCCheck(p, mc, p.file)
	for i, c := range fb.Connectors {
		k := fmt.Sprintf("connectors[%d]", i)
		cs := periphboard.ConnectorSpec{ID: c.ID, Phases: c.Phases}
		if c.ID < 1 {
			p.add(k+".id", "missing or < 1 (connectors are numbered from 1)")
		} else if ids[c.ID] {
			p.add(k+".id", "connector %d defined twice", c.ID)
		}
		ids[c.ID] = true
		if c.DC != nil {
			if c.Meter != nil {
				if mb, ok := mc.check(k+".meter", c.Meter, 1); ok {
					checkDCMeter(p, k+".meter", mb)
					meters[c.ID] = mb
				}
			}
			isos = append(isos, dc.connector(k, &c, used, &cs)...)
			validateShared(p, k, c, used, &cs)
			s.Connectors = append(s.Connectors, cs)
			continue
		}
		if c.MaxCurrent == nil {
			p.add(k+".max_current", "missing")
		} else {
			cs.MaxCurrent = c.MaxCurrent.V
			checkCurrent(p, k+".max_current", cs.MaxCurrent)
		}
		if c.Phases != 1 && c.Phases != 3 {
			p.add(k+".phases", "%d, want 1 or 3", c.Phases)
		}
		if c.Meter != nil {
			if mb, ok := mc.check(k+".meter", c.Meter, c.Phases); ok {
				meters[c.ID] = mb
			}
		}
		var sense *fileSense
		if c.Pilot == nil {
			p.add(k+".pilot", "missing")
		} else {
			sense = validatePilot(p, k+".pilot", c.Pilot, used, &cs)
		}
		validateCable(p, k+".cable", c.Cable, sense, &cs)
		if c.Contactor == nil {
			p.add(k+".contactor", "missing")
		} else {
			kk := k + ".contactor"
			checkDriver(p, kk, c.Contactor.Driver, "relay")
			cs.Contactor = periphboard.ContactorSpec{
				Out:      used.pin(p, kk+".out", c.Contactor.Out, gpio.High, true),
				Feedback: used.pin(p, kk+".feedback", c.Contactor.Feedback, gpio.High, false),
				Settle:   dur(c.Contactor.Settle),
			}
		}
		validateShared(p, k, c, used, &cs)
		if ps := c.PhaseSwitch; ps != nil {
			kk := k + ".phase_switch"
			checkDriver(p, kk, ps.Driver, "relay")
			if c.Phases != 3 {
				p.add(kk, "only for a three-phase connector")
			}
			cs.PhaseSwitch = used.pin(p, kk+".out", ps.Out, gpio.High, true)
		}
		s.Connectors = append(s.Connectors, cs)
	}
	dc.finish(fb.Connectors)
	for i, r := range fb.CardReaders {
		k := fmt.Sprintf("card_readers[%d]", i)
		checkDriver(p, k, r.Driver, "mfrc522")
		if rpiBusPins("spi", r.SPI) == nil {
			p.add(k+".spi", "unknown SPI port %q (want SPI0.0 or SPI0.1)", r.SPI)
		}
		if r.Connector != 0 && !ids[r.Connector] {
			p.add(k+".connector", "no connector %d", r.Connector)
		}
		s.CardReaders = append(s.CardReaders, periphboard.CardReaderSpec{
			Connector: r.Connector, SPI: r.SPI, Interval: dur(r.Interval),
			Reset: used.pin(p, k+".reset", r.Reset, gpio.Low, true),
			IRQ:   used.pin(p, k+".irq", r.IRQ, gpio.Low, true),
		})
	}
	// A relay contact to ground with a pull-up reads low when closed:
	// active low unless the file says otherwise.
	s.LimitInput = used.pin(p, "limit_input", fb.LimitInput, gpio.Low, false)
	s.Displays = validateDisplays(p, fb)
	return s, isos
}

// validateShared checks the parts AC and DC connectors have alike: RCD,
// lock and indicator.
func validateShared(p *problems, k string, c fileConnector, used pinUse, cs *periphboard.ConnectorSpec) {
	if r := c.RCD; r != nil {
		kk := k + ".rcd"
		checkDriver(p, kk, r.Driver, "gpio")
		cs.RCD = &periphboard.RCDSpec{
			Fault:       used.pin(p, kk+".fault", r.Fault, gpio.Low, true),
			Test:        used.pin(p, kk+".test", r.Test, gpio.High, false),
			TestTimeout: dur(r.TestTimeout),
		}
	}
	if l := c.Lock; l != nil {
		kk := k + ".lock"
		ls := &periphboard.LockSpec{Pulse: dur(l.Pulse)}
		switch l.Driver {
		case "motor":
			ls.LockPin = used.pin(p, kk+".lock", l.Lock, gpio.High, true)
			ls.UnlockPin = used.pin(p, kk+".unlock", l.Unlock, gpio.High, true)
			if l.Actuator != nil {
				p.add(kk+".actuator", "not for driver motor")
			}
		case "actuator":
			ls.Actuator = used.pin(p, kk+".actuator", l.Actuator, gpio.High, true)
			if l.Lock != nil || l.Unlock != nil {
				p.add(kk, "lock/unlock pins are for driver motor")
			}
		default:
			checkDriver(p, kk, l.Driver, "motor", "actuator")
		}
		ls.Feedback = used.pin(p, kk+".feedback", l.Feedback, gpio.High, false)
		cs.Lock = ls
		if c.Cable != nil && c.Cable.Driver == "tethered" {
			p.add(kk, "a tethered cable has no lock")
		}
	}
	if in := c.Indicator; in != nil {
		kk := k + ".indicator"
		checkDriver(p, kk, in.Driver, "leds")
		cs.Indicator = &periphboard.IndicatorSpec{
			Ready: used.pin(p, kk+".ready", in.Ready, gpio.High, false),
			Busy:  used.pin(p, kk+".busy", in.Busy, gpio.High, false),
			Fault: used.pin(p, kk+".fault", in.Fault, gpio.High, false),
		}
	}
}

// Display drivers a board file may name.
const (
	displaySSD1306  = string(periphboard.DisplaySSD1306)
	displayAIP31068 = string(periphboard.DisplayAIP31068)
)

// validateDisplays checks the connectors' display blocks and the board's
// displays: each connector is served by one display at most, and two
// displays on one bus have different addresses.
func validateDisplays(p *problems, fb fileBoard) []periphboard.DisplaySpec {
	ids := map[int]bool{}
	var all []int
	for _, c := range fb.Connectors {
		if c.ID >= 1 && !ids[c.ID] {
			ids[c.ID] = true
			all = append(all, c.ID)
		}
	}
	served := map[int]string{}   // connector ID -> key of its display
	addrs := map[string]string{} // "bus@address" -> key of the display there
	var out []periphboard.DisplaySpec
	add := func(k string, fd *fileDisplay, conns []int) {
		d, ok := displaySpec(p, k, fd)
		if ok {
			at := fmt.Sprintf("%s@%#x", d.Bus, d.Addr)
			if addrs[at] != "" {
				p.add(k+".address", "address %#x on I2C bus %s used twice (already %s)", d.Addr, d.Bus, addrs[at])
				ok = false
			}
			addrs[at] = k
		}
		seen := map[int]bool{}
		for _, id := range conns {
			switch {
			case seen[id]:
				p.add(k+".connectors", "connector %d listed twice", id)
				ok = false
				continue
			case served[id] != "":
				p.add(k+".connectors", "connector %d already has a display (%s)", id, served[id])
				ok = false
			}
			seen[id] = true
			if served[id] != "" {
				continue
			}
			served[id] = k
			d.Connectors = append(d.Connectors, id)
		}
		if ok {
			out = append(out, d)
		}
	}
	for i, c := range fb.Connectors {
		if c.Display == nil {
			continue
		}
		k := fmt.Sprintf("connectors[%d].display", i)
		if len(c.Display.Connectors) > 0 {
			p.add(k+".connectors", "only in a top-level displays entry (a connector's display block serves that connector)")
		}
		add(k, c.Display, []int{c.ID})
	}
	for i := range fb.Displays {
		fd := &fb.Displays[i]
		k := fmt.Sprintf("displays[%d]", i)
		conns := fd.Connectors
		if len(conns) == 0 {
			conns = all // no list: a station display, serving every connector
		}
		var known []int
		for _, id := range conns {
			if !ids[id] {
				p.add(k+".connectors", "no connector %d", id)
				continue
			}
			known = append(known, id)
		}
		add(k, fd, known)
	}
	return out
}

// displaySpec checks one display's driver, bus, address and size.
func displaySpec(p *problems, k string, fd *fileDisplay) (periphboard.DisplaySpec, bool) {
	n := len(p.list)
	d := periphboard.DisplaySpec{Driver: periphboard.DisplayDriver(fd.Driver), Bus: fd.Bus, Rows: fd.Rows, Cols: fd.Cols}
	checkDriver(p, k, fd.Driver, displaySSD1306, displayAIP31068)
	switch {
	case fd.Bus == "":
		p.add(k+".bus", "missing (the I2C bus, \"1\")")
	case rpiBusPins("i2c", fd.Bus) == nil:
		p.add(k+".bus", "unknown I2C bus %q (want \"1\")", fd.Bus)
	}
	// The 7-bit address; modules are often labelled with the 8-bit write
	// address, twice it.
	want := map[string][]int{displaySSD1306: {0x3c, 0x3d}, displayAIP31068: {0x3e}}[fd.Driver]
	wantText := map[string]string{displaySSD1306: "0x3c or 0x3d", displayAIP31068: "0x3e"}[fd.Driver]
	switch a := fd.Address; {
	case want == nil:
	case a == nil:
		p.add(k+".address", "missing (%s)", wantText)
	case slices.Contains(want, *a):
		d.Addr = uint16(*a)
	case slices.Contains(want, *a>>1) && *a&1 == 0:
		p.add(k+".address", "%#x is the 8-bit write address; write the 7-bit address %#x", *a, *a>>1)
	default:
		p.add(k+".address", "%#x, want %s (%s)", *a, wantText, fd.Driver)
	}
	switch fd.Driver {
	case displaySSD1306:
		if fd.Rows != 0 {
			p.add(k+".rows", "only for driver aip31068 (an SSD1306 is 128x64 pixels)")
		}
		if fd.Cols != 0 {
			p.add(k+".cols", "only for driver aip31068 (an SSD1306 is 128x64 pixels)")
		}
	case displayAIP31068:
		switch {
		case fd.Rows == 0:
			p.add(k+".rows", "missing (2 or 4: the LCD's lines)")
		case fd.Cols == 0:
			p.add(k+".cols", "missing (16 or 20: the LCD's characters a line)")
		default:
			if err := periphboard.CheckLCDSize(fd.Rows, fd.Cols); err != nil {
				key := k + ".rows"
				if fd.Rows == 2 || fd.Rows == 4 {
					key = k + ".cols"
				}
				p.add(key, "%v", err)
			}
		}
	}
	return d, len(p.list) == n
}

func checkDriver(p *problems, key, got string, want ...string) {
	for _, w := range want {
		if got == w {
			return
		}
	}
	if got == "" {
		p.add(key+".driver", "missing (want %s)", strings.Join(want, " or "))
		return
	}
	p.add(key+".driver", "unknown driver %q (want %s)", got, strings.Join(want, " or "))
}

func validatePilot(p *problems, k string, fp *filePilot, used pinUse, cs *periphboard.ConnectorSpec) *fileSense {
	checkDriver(p, k, fp.Driver, "pwm")
	ps := &cs.Pilot
	ps.PWM = used.pin(p, k+".pwm", fp.PWM, gpio.High, true)
	if ps.PWM.Name != "" && rpiPin.MatchString(ps.PWM.Name) && !rpiPWM(ps.PWM.Name) {
		p.add(k+".pwm.pin", "%s has no hardware PWM (use GPIO12, GPIO13, GPIO18 or GPIO19)", ps.PWM.Name)
	}
	ps.Enable = used.pin(p, k+".enable", fp.Enable, gpio.High, false)
	if fp.SampleRate != nil {
		ps.SampleRate = fp.SampleRate.V
		if ps.SampleRate < 10*physic.Hertz || ps.SampleRate > 2*physic.KiloHertz {
			p.add(k+".sample_rate", "%v, want 10 Hz-2 kHz", ps.SampleRate)
		}
	}
	if fp.Debounce < 0 || fp.Debounce > 50 {
		p.add(k+".debounce", "%d, want 1-50 (0: default %d)", fp.Debounce, pilot.DefaultDebounce)
	}
	if fp.DiodeEvery < 0 {
		p.add(k+".diode_every", "%d, want >= 1 (0: default %d)", fp.DiodeEvery, pilot.DefaultDiodeEvery)
	}
	ps.Debounce, ps.DiodeEvery = fp.Debounce, fp.DiodeEvery
	se := fp.Sense
	if se == nil {
		p.add(k+".sense", "missing ADC: the pilot must be sensed")
		return nil
	}
	ks := k + ".sense"
	checkDriver(p, ks, se.Driver, "ads1115")
	base := periphboard.ADC{Bus: se.Bus, FullScale: 4096 * physic.MilliVolt, Rate: 860 * physic.Hertz}
	if rpiBusPins("i2c", se.Bus) == nil {
		p.add(ks+".bus", "unknown I2C bus %q (want \"1\")", se.Bus)
	}
	if se.Address == nil {
		p.add(ks+".address", "missing (0x48-0x4b)")
	} else if *se.Address < 0x48 || *se.Address > 0x4b {
		p.add(ks+".address", "%#x, want 0x48-0x4b", *se.Address)
	} else {
		base.Addr = uint16(*se.Address)
	}
	if se.FullScale != nil {
		base.FullScale = se.FullScale.V
		if base.FullScale <= 0 || base.FullScale > 6144*physic.MilliVolt {
			p.add(ks+".full_scale", "%v, want up to 6.144 V", base.FullScale)
		}
	}
	if se.Rate != nil {
		base.Rate = se.Rate.V
		if base.Rate < 8*physic.Hertz || base.Rate > 860*physic.Hertz {
			p.add(ks+".rate", "%v, want 8-860 Hz (ADS1115)", base.Rate)
		}
	}
	if se.Divider == nil || se.Divider.Offset == nil || se.Divider.Scale == nil {
		p.add(ks+".divider", "missing (offset and scale of the CP front end)")
	} else if *se.Divider.Scale <= 0 || *se.Divider.Scale > 1000 {
		p.add(ks+".divider.scale", "%v, want 0-1000", *se.Divider.Scale)
	} else {
		base.Divider = pilot.Scale(se.Divider.Offset.V, int64(*se.Divider.Scale*1e6+0.5))
	}
	chans := map[int]string{}
	channel := func(key string, c *int, required bool) *periphboard.ADC {
		if c == nil {
			if required {
				p.add(key, "missing (0-3)")
			}
			return nil
		}
		if *c < 0 || *c > 3 {
			p.add(key, "channel %d, want 0-3", *c)
			return nil
		}
		if chans[*c] != "" {
			p.add(key, "channel %d used twice (already %s)", *c, chans[*c])
		}
		chans[*c] = key
		a := base
		a.Channel = *c
		return &a
	}
	if h := channel(ks+".high_channel", se.HighChannel, true); h != nil {
		ps.High = *h
	}
	ps.Low = channel(ks+".low_channel", se.LowChannel, false)
	return se
}

func validateCable(p *problems, k string, fc *fileCable, sense *fileSense, cs *periphboard.ConnectorSpec) {
	if fc == nil {
		p.add(k, "missing (driver pp or tethered)")
		return
	}
	switch fc.Driver {
	case "tethered":
		if fc.MaxCurrent == nil {
			p.add(k+".max_current", "missing: a tethered cable's rating")
			return
		}
		cs.Cable.Fixed = fc.MaxCurrent.V
		checkCurrent(p, k+".max_current", fc.MaxCurrent.V)
	case "pp":
		if fc.Channel == nil || *fc.Channel < 0 || *fc.Channel > 3 {
			p.add(k+".channel", "missing or not 0-3 (the PP input on the pilot's ADC)")
		} else if sense != nil && ((sense.HighChannel != nil && *sense.HighChannel == *fc.Channel) || (sense.LowChannel != nil && *sense.LowChannel == *fc.Channel)) {
			p.add(k+".channel", "channel %d already used by the pilot", *fc.Channel)
		} else if cs.Pilot.High.Divider.Den != 0 {
			a := cs.Pilot.High
			a.Channel = *fc.Channel
			a.Divider = pilot.Scale(0, 1_000_000) // the PP node is read as is
			cs.Cable.PP = &a
		}
		if fc.Supply == nil || fc.Supply.V <= 0 {
			p.add(k+".supply", "missing (the PP pull-up's supply, e.g. 3.3V)")
		} else {
			cs.Cable.Supply = fc.Supply.V
		}
		if fc.PullUp == nil || fc.PullUp.V <= 0 {
			p.add(k+".pull_up", "missing (e.g. 330Ohm)")
		} else {
			cs.Cable.PullUp = fc.PullUp.V
		}
	default:
		checkDriver(p, k, fc.Driver, "pp", "tethered")
	}
}
