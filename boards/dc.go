package boards

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/evsed/evsed/hal/chademo"
	"github.com/evsed/evsed/hal/dcpower"
	"github.com/evsed/evsed/hal/isolation"
	"github.com/evsed/evsed/hal/periphboard"
	"github.com/evsed/evsed/meter/can"
	"github.com/evsed/evsed/meter/modbus"
	"periph.io/x/conn/v3/gpio"
)

// The dc block of a real board's connector: the DC charger's parts (see
// doc.go, "DC connectors").
type (
	fileDC struct {
		MaxVoltage    *volts            `yaml:"max_voltage"`
		MaxCurrent    *amps             `yaml:"max_current"`
		MaxPower      *watts            `yaml:"max_power"`
		Power         *filePower        `yaml:"power"`
		Isolation     *fileIsolation    `yaml:"isolation"`
		Contactors    *fileDCContactors `yaml:"contactors"`
		EmergencyStop *filePin          `yaml:"emergency_stop"`
		Vehicle       *fileVehicle      `yaml:"vehicle"`
	}
	filePower struct {
		Bus     string `yaml:"bus"`
		Family  string `yaml:"family"`
		Modules []int  `yaml:"modules"`
	}
	fileIsolation struct {
		Bus   string `yaml:"bus"`
		Model string `yaml:"model"`
		Unit  *int   `yaml:"unit"`
	}
	fileDCContactors struct {
		Driver        string    `yaml:"driver"`
		Plus          *filePin  `yaml:"plus"`
		Minus         *filePin  `yaml:"minus"`
		FeedbackPlus  *filePin  `yaml:"feedback_plus"`
		FeedbackMinus *filePin  `yaml:"feedback_minus"`
		Settle        *duration `yaml:"settle"`
	}
	fileVehicle struct {
		Protocol   string    `yaml:"protocol"`
		Bus        string    `yaml:"bus"`
		Timeout    *duration `yaml:"timeout"`
		D1         *filePin  `yaml:"d1"`
		D2         *filePin  `yaml:"d2"`
		Permission *filePin  `yaml:"permission"`
		Proximity  *filePin  `yaml:"proximity"`
	}
)

// isoUnit is an isolation monitor's place on a Modbus line, kept for
// checking a grid meter against it (Open).
type isoUnit struct {
	key, url string
	unit     int
}

// dcCheck validates the dc blocks of one board file together: CAN
// interfaces are shared by power modules and CAN meters, and belong to
// one vehicle alone.
type dcCheck struct {
	p        *problems
	mc       *meterCheck
	dir      string            // the board file's directory, for message set files
	vehicles map[string]string // CAN interface -> key of the vehicle on it
	order    []string          // the vehicles' interfaces, in file order
	power    map[string]string // CAN interface -> key of the first power block on it
}

func newDCCheck(p *problems, mc *meterCheck, file string) *dcCheck {
	return &dcCheck{p: p, mc: mc, dir: filepath.Dir(file), vehicles: map[string]string{}, power: map[string]string{}}
}

// finish checks, once every connector is known, that no power module or
// CAN meter shares a vehicle's bus: the vehicle's bus is the vehicle's
// alone (it reaches into the car through the connector).
func (dc *dcCheck) finish(conns []fileConnector) {
	for _, bus := range dc.order {
		k := dc.vehicles[bus] + ".bus"
		if other := dc.power[bus]; other != "" {
			dc.p.add(k, "CAN %s carries the power modules of %s: the vehicle's bus is the vehicle's alone", bus, other)
		}
		for i, c := range conns {
			if m := c.Meter; m != nil && m.Driver == MeterCAN && m.Interface == bus {
				dc.p.add(k, "CAN %s carries the meter of connectors[%d]: the vehicle's bus is the vehicle's alone", bus, i)
			}
		}
	}
}

// acOnlyKeys are the keys of an AC connector a DC connector must not have.
func acOnlyKeys(c *fileConnector) []string {
	var k []string
	add := func(set bool, name string) {
		if set {
			k = append(k, name)
		}
	}
	add(c.MaxCurrent != nil, "max_current")
	add(c.Phases != 0, "phases")
	add(c.Pilot != nil, "pilot")
	add(c.Cable != nil, "cable")
	add(c.Contactor != nil, "contactor")
	add(c.PhaseSwitch != nil, "phase_switch")
	return k
}

// connector validates the DC connector c at key k into cs.
func (dc *dcCheck) connector(k string, c *fileConnector, used pinUse, cs *periphboard.ConnectorSpec) []isoUnit {
	p, f := dc.p, c.DC
	for _, key := range acOnlyKeys(c) {
		p.add(k+"."+key, "not for a DC connector (its rating is dc.max_voltage, dc.max_current and dc.max_power; its contactors dc.contactors)")
	}
	k += ".dc"
	d := &periphboard.DCSpec{}
	cs.DC = d
	if f.MaxVoltage == nil {
		p.add(k+".max_voltage", "missing (the connector's rating, e.g. 500V)")
	} else if d.MaxVoltage = f.MaxVoltage.V; d.MaxVoltage <= 0 {
		p.add(k+".max_voltage", "must be positive")
	}
	if f.MaxCurrent == nil {
		p.add(k+".max_current", "missing (the connector's rating, e.g. 125A)")
	} else if d.MaxCurrent = f.MaxCurrent.V; d.MaxCurrent <= 0 {
		p.add(k+".max_current", "must be positive")
	}
	if f.MaxPower != nil {
		if d.MaxPower = f.MaxPower.V; d.MaxPower <= 0 {
			p.add(k+".max_power", "must be positive")
		}
	}
	cs.MaxCurrent = d.MaxCurrent

	// Contactors, button and lines: pins, checked against every other.
	if kc := f.Contactors; kc == nil {
		p.add(k+".contactors", "missing (plus, minus and their feedback)")
	} else {
		kk := k + ".contactors"
		checkDriver(p, kk, kc.Driver, "relay")
		d.Contactors = periphboard.DCContactorSpec{
			Plus:          used.pin(p, kk+".plus", kc.Plus, gpio.High, true),
			Minus:         used.pin(p, kk+".minus", kc.Minus, gpio.High, true),
			FeedbackPlus:  used.pin(p, kk+".feedback_plus", kc.FeedbackPlus, gpio.High, true),
			FeedbackMinus: used.pin(p, kk+".feedback_minus", kc.FeedbackMinus, gpio.High, true),
			Settle:        dur(kc.Settle),
		}
		if kc.Settle != nil && (kc.Settle.D <= 0 || kc.Settle.D > maxTimeout) {
			p.add(kk+".settle", "%v, want up to %v (default 100ms)", kc.Settle.D, maxTimeout)
		}
	}
	// A normally closed button to ground with a pull-up reads high when
	// pressed, and a broken wire reads as pressed: active high.
	d.EmergencyStop = used.pin(p, k+".emergency_stop", f.EmergencyStop, gpio.High, false)
	dc.vehicle(k+".vehicle", f.Vehicle, used, d)
	dc.powerBlock(k+".power", f.Power, d)
	return dc.isolation(k+".isolation", f.Isolation, d)
}

// vehicle validates the vehicle block.
func (dc *dcCheck) vehicle(k string, f *fileVehicle, used pinUse, d *periphboard.DCSpec) {
	p := dc.p
	if f == nil {
		p.add(k, "missing (protocol chademo, its CAN bus and its lines)")
		return
	}
	v := &d.Vehicle
	switch f.Protocol {
	case string(periphboard.VehicleCHAdeMO):
		v.Protocol = periphboard.VehicleCHAdeMO
	case "":
		p.add(k+".protocol", "missing (want %s)", periphboard.VehicleCHAdeMO)
	default:
		p.add(k+".protocol", "unknown protocol %q (want %s; an ISO 15118 stack attaches in code)", f.Protocol, periphboard.VehicleCHAdeMO)
	}
	switch {
	case f.Bus == "":
		p.add(k+".bus", "missing (the vehicle's CAN interface, e.g. can1)")
	case !canIfaceName(f.Bus):
		p.add(k+".bus", "%q is not an interface name", f.Bus)
	case dc.vehicles[f.Bus] != "":
		p.add(k+".bus", "CAN %s is already the vehicle bus of %s: each CHAdeMO connector has its own", f.Bus, dc.vehicles[f.Bus])
	default:
		dc.vehicles[f.Bus] = k
		dc.order = append(dc.order, f.Bus)
		v.Interface = f.Bus
	}
	if f.Timeout != nil {
		if f.Timeout.D <= 0 || f.Timeout.D > maxTimeout {
			p.add(k+".timeout", "%v, want up to %v (default 1s)", f.Timeout.D, maxTimeout)
		}
		v.Timeout = f.Timeout.D
	}
	// d1 and d2 drive relays; the EV pulls permission and proximity to
	// ground, which an opto-coupled input with a pull-up reads low.
	v.D1 = used.pin(p, k+".d1", f.D1, gpio.High, true)
	v.D2 = used.pin(p, k+".d2", f.D2, gpio.High, true)
	v.Permission = used.pin(p, k+".permission", f.Permission, gpio.Low, true)
	v.Proximity = used.pin(p, k+".proximity", f.Proximity, gpio.Low, true)
}

// powerBlock validates the power block: the message set, by name or file,
// and the module addresses, which must not answer on another's identifiers.
func (dc *dcCheck) powerBlock(k string, f *filePower, d *periphboard.DCSpec) {
	p := dc.p
	if f == nil {
		p.add(k, "missing (the power modules: bus, family, modules)")
		return
	}
	ps := &d.Power
	switch {
	case f.Bus == "":
		p.add(k+".bus", "missing (the modules' CAN interface, e.g. can0)")
	case !canIfaceName(f.Bus):
		p.add(k+".bus", "%q is not an interface name", f.Bus)
	default:
		ps.Interface = f.Bus
	}
	switch {
	case f.Family == "":
		p.add(k+".family", "missing (a message set: %s, or the path of a vendor's file)", strings.Join(dcpower.Names(), ", "))
	case isPath(f.Family):
		path := f.Family
		if !filepath.IsAbs(path) {
			path = filepath.Join(dc.dir, path)
		}
		text, err := os.ReadFile(path)
		if err != nil {
			p.add(k+".family", "%v", err)
			break
		}
		set, err := dcpower.ParseMessageSet(text)
		if err != nil {
			p.add(k+".family", "%s: %v", path, err)
			break
		}
		ps.Set = set
	default:
		set, err := dcpower.Lookup(f.Family)
		if err != nil {
			p.add(k+".family", "unknown message set %q (shipped: %s; or the path of a vendor's file)", f.Family, strings.Join(dcpower.Names(), ", "))
			break
		}
		ps.Set = set
	}
	if len(f.Modules) == 0 {
		p.add(k+".modules", "missing (the modules' addresses, e.g. [1, 2])")
		return
	}
	ps.Addresses = slices.Clone(f.Modules)
	if ps.Set == nil {
		return
	}
	// The Group checks the addresses against the set; it sends nothing
	// until it runs, and this one never does.
	g, err := dcpower.New(dcpower.Options{Set: ps.Set, Addresses: ps.Addresses, Bus: noBus{}})
	if err != nil {
		p.add(k+".modules", "%v", err)
		return
	}
	if ps.Interface == "" {
		return
	}
	if dc.power[ps.Interface] == "" {
		dc.power[ps.Interface] = k
	}
	ifc := dc.mc.ifaces[ps.Interface]
	if ifc == nil {
		ifc = &canIface{ids: map[uint32]string{}}
		dc.mc.ifaces[ps.Interface] = ifc
	}
	for _, id := range g.IDs() {
		if other := ifc.ids[id]; other != "" {
			p.add(k+".modules", "status frame id %#x on %s already received by %s", id, ps.Interface, other)
			return
		}
	}
	for _, id := range g.IDs() {
		ifc.ids[id] = k
	}
}

// isolation validates the isolation block: its model and its place on a
// Modbus line, which it may share with meters.
func (dc *dcCheck) isolation(k string, f *fileIsolation, d *periphboard.DCSpec) []isoUnit {
	p := dc.p
	if f == nil {
		p.add(k, "missing (the isolation monitor: bus, model, unit)")
		return nil
	}
	switch m, err := isolation.Lookup(f.Model); {
	case f.Model == "":
		p.add(k+".model", "missing (known: %s)", strings.Join(isolation.Names(), ", "))
	case err != nil:
		p.add(k+".model", "unknown isolation monitor model %q (known: %s)", f.Model, strings.Join(isolation.Names(), ", "))
	default:
		d.Isolation.Model = m
	}
	d.Isolation.Bus = f.Bus
	if dc.mc.line(k, f.Bus, f.Unit) == nil {
		return nil
	}
	d.Isolation.Unit = *f.Unit
	return []isoUnit{{key: k, url: f.Bus, unit: *f.Unit}}
}

// checkDCMeter checks that a DC connector's meter measures DC.
func checkDCMeter(p *problems, k string, mb MeterBinding) {
	if mb.Driver != MeterModbus {
		return // a CAN shunt (ivt-s) measures DC; sim reads nothing
	}
	m, err := modbusModel(mb)
	if err == nil && !m.DC {
		p.add(k+".model", "%s is an AC meter: a DC connector needs a DC map (pzem017, or generic with dc: true)", mb.Model)
	}
}

// noBus is the FrameSource of a Group built only to check its addresses.
type noBus struct{}

func (noBus) Recv(ctx context.Context) (can.Frame, error) {
	<-ctx.Done()
	return can.Frame{}, ctx.Err()
}
func (noBus) Send(can.Frame) error { return errors.New("boards: validation only") }

// chademoIDs are the frames a CHAdeMO vehicle sends, for a socket filter.
func chademoIDs() []uint32 {
	return []uint32{chademo.IDEVLimits, chademo.IDEVTimes, chademo.IDEVRequest}
}

// dcEnv gives periphboard a DC connector's CAN interfaces and Modbus lines
// from the meter set, which owns them.
func (s *meterSet) dcEnv() (func(string) (can.FrameSource, error), func(string) (*modbus.Bus, error)) {
	canOf := func(iface string) (can.FrameSource, error) {
		for _, l := range s.lines {
			if l.iface == iface {
				return l.tap(nil), nil
			}
		}
		return nil, fmt.Errorf("CAN %s was not opened", iface)
	}
	busOf := func(url string) (*modbus.Bus, error) {
		if b, ok := s.byURL[url]; ok {
			return b, nil
		}
		return nil, fmt.Errorf("modbus line %q was not opened", url)
	}
	return canOf, busOf
}
