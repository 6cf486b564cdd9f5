package periphboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/display"
	"github.com/evsed/evsed/hal/pilot"
	"github.com/evsed/evsed/hal/relay"
	"github.com/evsed/evsed/hal/rfid"
	"github.com/evsed/evsed/meter/can"
	"github.com/evsed/evsed/meter/modbus"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi/spireg"
	"periph.io/x/devices/v3/ads1x15"
	"periph.io/x/devices/v3/aip31068"
	"periph.io/x/devices/v3/mfrc522"
)

// Pin names a GPIO as periph knows it ("GPIO18") and its active level. The
// zero value (Name "") means no pin.
type Pin struct {
	Name   string
	Active gpio.Level
}

// ADC is one ADS1x15 input.
type ADC struct {
	Bus     string // I2C bus name as periph knows it ("1"); "" means the first
	Addr    uint16 // 7-bit address, 0x48-0x4B
	Channel int    // single-ended input 0-3
	// FullScale is the gain's range (the ADS1115 picks the smallest range
	// that holds it): 6.144, 4.096, 2.048, 1.024, 0.512 or 0.256 V.
	FullScale physic.ElectricPotential
	// Rate is the conversion rate asked of the chip; the ADS1115 has 8-860
	// samples/s.
	Rate    physic.Frequency
	Divider pilot.Divider
}

// PilotSpec wires a connector's control pilot.
type PilotSpec struct {
	PWM        Pin // hardware-PWM pin; Active is ignored (high is +12 V)
	Enable     Pin
	High       ADC
	Low        *ADC // nil: no diode check
	SampleRate physic.Frequency
	Debounce   int
	DiodeEvery int
}

// CableSpec says how the cable's ampacity is known: Fixed for a tethered
// cable, PP for a socket's proximity pilot.
type CableSpec struct {
	Fixed  physic.ElectricCurrent
	PP     *ADC
	Supply physic.ElectricPotential
	PullUp physic.ElectricResistance
}

// ContactorSpec wires a contactor.
type ContactorSpec struct {
	Out      Pin
	Feedback Pin
	Settle   time.Duration
}

// RCDSpec wires an RCD monitor.
type RCDSpec struct {
	Fault       Pin
	Test        Pin
	TestTimeout time.Duration
}

// LockSpec wires a lock: motor pins or one actuator pin.
type LockSpec struct {
	LockPin, UnlockPin, Actuator Pin
	Feedback                     Pin
	Pulse                        time.Duration
}

// IndicatorSpec wires status LEDs; all share Ready's active level.
type IndicatorSpec struct {
	Ready, Busy, Fault Pin
}

// ConnectorSpec is one outlet.
type ConnectorSpec struct {
	ID         int
	MaxCurrent physic.ElectricCurrent
	Phases     int
	Pilot      PilotSpec
	Cable      CableSpec
	Contactor  ContactorSpec
	RCD        *RCDSpec
	Lock       *LockSpec
	Indicator  *IndicatorSpec
	// PhaseSwitch is the relay that switches a three-phase connector
	// between one and three phases (Active selects one); the zero Pin
	// means none.
	PhaseSwitch Pin
	// DC, when set, makes the outlet a DC connector (see DCSpec): Pilot,
	// Cable, Contactor and PhaseSwitch are then unused; RCD, Lock and
	// Indicator are built as on an AC outlet.
	DC *DCSpec
}

// CardReaderSpec is an MFRC522 on SPI.
type CardReaderSpec struct {
	Connector int    // 0: station-wide
	SPI       string // SPI port name as periph knows it ("/dev/spidev0.0"); "" means the first
	Reset     Pin
	IRQ       Pin
	Interval  time.Duration
}

// DisplayDriver names the chip of a driver display.
type DisplayDriver string

// The driver displays New builds.
const (
	// DisplaySSD1306 is an SSD1306 128x64 OLED module on I²C (hal/display
	// NewSSD1306), at 0x3C or 0x3D.
	DisplaySSD1306 DisplayDriver = "ssd1306"
	// DisplayAIP31068 is a character LCD with an AiP31068 controller on
	// I²C (periph's aip31068 under hal/display NewLCD), at 0x3E.
	DisplayAIP31068 DisplayDriver = "aip31068"
)

// DisplaySpec is a driver display on an I²C bus, serving one or more
// connectors: each of them gets it as its hal.Connector.Display.
type DisplaySpec struct {
	// Name names the display in logs; "" means driver, address and bus.
	Name   string
	Driver DisplayDriver
	Bus    string // I²C bus name as periph knows it ("1"), shared with the ADS1115s on it
	Addr   uint16 // 7-bit address; 0 means the driver's usual one
	// Rows and Cols are a character LCD's size (2x16, 2x20 or 4x20);
	// unused by the OLED, which is 128x64 pixels.
	Rows, Cols int
	// Connectors are the IDs of the connectors the display shows, at
	// least one; more than one makes it show the connector's number.
	Connectors []int
}

// CheckLCDSize says whether periph's AiP31068 driver addresses an LCD of
// rows x cols characters correctly: 2x16, 2x20 and 4x20 (it has no line
// addresses for a 4x16 glass).
func CheckLCDSize(rows, cols int) error {
	switch {
	case rows != 2 && rows != 4:
		return fmt.Errorf("%d rows, want 2 or 4", rows)
	case cols != 16 && cols != 20:
		return fmt.Errorf("%d columns, want 16 or 20", cols)
	case rows == 4 && cols != 20:
		return fmt.Errorf("4 rows need 20 columns (the AiP31068 driver has no line addresses for 4x%d)", cols)
	}
	return nil
}

// Spec is a whole board, as a validated board file describes it.
type Spec struct {
	Name        string
	Connectors  []ConnectorSpec
	CardReaders []CardReaderSpec
	// Displays are the driver displays, built once the outputs are in
	// their safe states; each connector is served by at most one.
	Displays []DisplaySpec
	// Poll is the period of the input watch (contactor feedback, RCD,
	// lock, limit input); 0 means 10 ms.
	Poll time.Duration
	// LimitInput is the station-wide input of the grid operator's limit
	// signal (see hal.Input); the zero Pin means none.
	LimitInput Pin
}

// Env reaches the hardware. Nil functions mean periph's: host drivers
// initialized once, pins from gpioreg, I2C buses from i2creg shared by every
// ADS1115 and display on them, SPI ports from spireg.
type Env struct {
	Pins       func(name string) (gpio.PinIO, error)
	ADC        func(a ADC) (pilot.Channel, error)
	CardReader func(c CardReaderSpec, reset gpio.PinOut, irq gpio.PinIn) (rfid.UIDReader, error)
	// I2C opens the I²C bus periph calls name; New calls it once per bus
	// and shares the handle among the displays and (with a nil ADC) the
	// ADS1115s on it. The bus stays the caller's: the board does not close
	// it. Nil means i2creg (host drivers initialized first), closed by
	// Close. Tests inject periph's i2ctest buses here.
	I2C func(name string) (i2c.Bus, error)
	// CAN returns a DC connector's view of the CAN interface iface (its
	// power modules', its vehicle's); several parts on one interface each
	// get their own view of the one socket, which stays the caller's.
	// Required by DC connectors: there is no default.
	CAN func(iface string) (can.FrameSource, error)
	// Modbus returns the one Bus of the Modbus line url (an isolation
	// monitor shares it with the meters on it); it stays the caller's.
	// Required by DC connectors: there is no default.
	Modbus func(url string) (*modbus.Bus, error)
	Clock  clock.Clock
	Logger *slog.Logger
}

// Board is a hal.Board on real (or injected) hardware.
type Board struct {
	name    string
	conns   []hal.Connector
	pilots  []*pilot.Pilot
	pollers []relay.Poller
	readers []*rfid.Reader
	input   *relay.Input // the limit input; nil when none
	// contactors halt first (AC and DC), then the DC supplies, then
	// halts: the rest, in build order.
	contactors []hal.Contactor
	supplies   []hal.PowerSupply
	halts      []hal.Resource
	runners    []dcRunner  // the DC parts' receive and poll loops
	events     sinkHolder  // Run's sink, for the DC parts built before it
	closers    []io.Closer // buses opened by the default Env
	poll       time.Duration
	clk        clock.Clock

	mu      sync.Mutex // guards running
	running bool
}

var _ hal.Board = (*Board)(nil)

// periphEnv is the default Env's state: one I2C bus handle and one ADS1x15
// per address, so that several channels share a bus owner.
type periphEnv struct {
	once    sync.Once
	initErr error
	open    func(name string) (i2c.Bus, error) // Env.I2C; nil means i2creg
	buses   map[string]i2c.Bus
	devs    map[string]*ads1x15.Dev
	closers []io.Closer
}

func (p *periphEnv) init() error {
	p.once.Do(func() {
		if err := hostInit(); err != nil {
			p.initErr = fmt.Errorf("periph host init: %w", err)
		}
	})
	return p.initErr
}

func (p *periphEnv) pin(name string) (gpio.PinIO, error) {
	if err := p.init(); err != nil {
		return nil, err
	}
	if pin := gpioreg.ByName(name); pin != nil {
		return pin, nil
	}
	return nil, fmt.Errorf("no GPIO pin %q on this machine (is this the board the file describes?)", name)
}

// bus returns the one handle of the I2C bus called name, opening it on
// first use: through Env.I2C when given, else i2creg (then closed by
// Board.Close).
func (p *periphEnv) bus(name string) (i2c.Bus, error) {
	if bus, ok := p.buses[name]; ok {
		return bus, nil
	}
	var bus i2c.Bus
	if p.open != nil {
		b, err := p.open(name)
		if err != nil {
			return nil, fmt.Errorf("open I2C bus %q: %w", name, err)
		}
		bus = b
	} else {
		if err := p.init(); err != nil {
			return nil, err
		}
		b, err := i2creg.Open(name)
		if err != nil {
			return nil, fmt.Errorf("open I2C bus %q: %w", name, err)
		}
		bus = b
		p.closers = append(p.closers, b)
	}
	p.buses[name] = bus
	return bus, nil
}

func (p *periphEnv) adc(a ADC) (pilot.Channel, error) {
	bus, err := p.bus(a.Bus)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s@%#x", a.Bus, a.Addr)
	dev, ok := p.devs[key]
	if !ok {
		var err error
		if dev, err = ads1x15.NewADS1115(bus, &ads1x15.Opts{I2cAddress: a.Addr}); err != nil {
			return nil, fmt.Errorf("ADS1115 %s: %w", key, err)
		}
		p.devs[key] = dev
	}
	pin, err := dev.PinForChannel(ads1x15.Channel0+ads1x15.Channel(a.Channel), a.FullScale, a.Rate, ads1x15.SaveEnergy)
	if err != nil {
		return nil, fmt.Errorf("ADS1115 %s channel %d: %w", key, a.Channel, err)
	}
	return pilot.NewAnalog(pin, a.Divider)
}

func (p *periphEnv) cardReader(c CardReaderSpec, reset gpio.PinOut, irq gpio.PinIn) (rfid.UIDReader, error) {
	if err := p.init(); err != nil {
		return nil, err
	}
	port, err := spireg.Open(c.SPI)
	if err != nil {
		return nil, fmt.Errorf("open SPI port %q: %w", c.SPI, err)
	}
	p.closers = append(p.closers, port)
	return mfrc522.NewSPI(port, reset, irq)
}

// New builds the board: it looks up every pin and ADC channel first, and
// only then drives outputs to their safe states (contactors open, pilots at
// -12 V, LEDs off). The displays come after that, on their shared I2C
// buses, each set as the hal.Connector.Display of its connectors and
// halted (blanked) after the safety parts. On error, what was opened is
// closed.
func New(s Spec, env Env) (_ *Board, err error) {
	pe := &periphEnv{open: env.I2C, buses: map[string]i2c.Bus{}, devs: map[string]*ads1x15.Dev{}}
	if env.Pins == nil {
		env.Pins = pe.pin
	}
	if env.ADC == nil {
		env.ADC = pe.adc
	}
	if env.CardReader == nil {
		env.CardReader = pe.cardReader
	}
	b := &Board{name: s.Name, poll: s.Poll, clk: clock.Or(env.Clock)}
	if b.poll == 0 {
		b.poll = 10 * time.Millisecond
	}
	defer func() {
		b.closers = pe.closers
		if err != nil {
			_ = b.Close()
		}
	}()
	pins := map[string]gpio.PinIO{}
	pinOf := func(p Pin) (gpio.PinIO, error) {
		if p.Name == "" {
			return nil, nil
		}
		if g, ok := pins[p.Name]; ok {
			return g, nil
		}
		g, err := env.Pins(p.Name)
		if err != nil {
			return nil, err
		}
		pins[p.Name] = g
		return g, nil
	}
	// Look everything up before driving anything.
	all := make([]parts, len(s.Connectors))
	dcs := make([]*dcParts, len(s.Connectors))
	for i, c := range s.Connectors {
		p := &all[i]
		var errs []error
		get := func(dst *gpio.PinIO, pin Pin) {
			var err error
			*dst, err = pinOf(pin)
			errs = append(errs, err)
		}
		if c.DC != nil {
			var err error
			dcs[i], err = lookupDC(c.DC, pinOf, env)
			errs = append(errs, err)
		} else {
			get(&p.pwm, c.Pilot.PWM)
			get(&p.enable, c.Pilot.Enable)
			get(&p.out, c.Contactor.Out)
			get(&p.fb, c.Contactor.Feedback)
		}
		if c.RCD != nil {
			get(&p.fault, c.RCD.Fault)
			get(&p.test, c.RCD.Test)
		}
		if c.Lock != nil {
			get(&p.lock, c.Lock.LockPin)
			get(&p.unlock, c.Lock.UnlockPin)
			get(&p.act, c.Lock.Actuator)
			get(&p.lfb, c.Lock.Feedback)
		}
		if c.Indicator != nil {
			get(&p.ready, c.Indicator.Ready)
			get(&p.busy, c.Indicator.Busy)
			get(&p.flt, c.Indicator.Fault)
		}
		get(&p.phase, c.PhaseSwitch)
		if c.DC != nil {
			if err := errors.Join(errs...); err != nil {
				return nil, fmt.Errorf("periphboard %s: connector %d: %w", s.Name, c.ID, err)
			}
			continue
		}
		var e error
		p.high, e = env.ADC(c.Pilot.High)
		errs = append(errs, e)
		if c.Pilot.Low != nil {
			p.low, e = env.ADC(*c.Pilot.Low)
			errs = append(errs, e)
		}
		if c.Cable.PP != nil {
			p.pp, e = env.ADC(*c.Cable.PP)
			errs = append(errs, e)
		}
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("periphboard %s: connector %d: %w", s.Name, c.ID, err)
		}
	}
	for i, c := range s.Connectors {
		build := func() error { return b.connector(c, &all[i], env) }
		if c.DC != nil {
			build = func() error { return b.dcConnector(c, dcs[i], &all[i], env) }
		}
		if err := build(); err != nil {
			_ = b.Halt() // what was built goes back to its safe state
			return nil, fmt.Errorf("periphboard %s: connector %d: %w", s.Name, c.ID, err)
		}
	}
	if s.LimitInput.Name != "" {
		g, err := pinOf(s.LimitInput)
		if err != nil {
			return nil, fmt.Errorf("periphboard %s: limit input: %w", s.Name, err)
		}
		in, err := relay.NewInput(relay.InputOptions{Name: "limit input", Pin: g, Active: s.LimitInput.Active})
		if err != nil {
			return nil, fmt.Errorf("periphboard %s: %w", s.Name, err)
		}
		b.input = in
		b.pollers = append(b.pollers, in)
	}
	for _, d := range s.Displays {
		if err := b.display(d, pe); err != nil {
			return nil, fmt.Errorf("periphboard %s: %w", s.Name, err)
		}
	}
	for _, c := range s.CardReaders {
		reset, err := pinOf(c.Reset)
		if err != nil {
			return nil, fmt.Errorf("periphboard %s: card reader: %w", s.Name, err)
		}
		irq, err := pinOf(c.IRQ)
		if err != nil {
			return nil, fmt.Errorf("periphboard %s: card reader: %w", s.Name, err)
		}
		dev, err := env.CardReader(c, reset, irq)
		if err != nil {
			return nil, fmt.Errorf("periphboard %s: card reader: %w", s.Name, err)
		}
		r, err := rfid.New(rfid.Options{Connector: c.Connector, Dev: dev, Interval: c.Interval, Clock: b.clk, Logger: env.Logger})
		if err != nil {
			return nil, err
		}
		b.readers = append(b.readers, r)
		b.halts = append(b.halts, r)
	}
	return b, nil
}

// display builds d on its (shared) bus and gives it to its connectors. It
// runs after every connector's outputs are safe: the display's
// initialisation is bus traffic that may fail or take milliseconds.
func (b *Board) display(d DisplaySpec, pe *periphEnv) error {
	if d.Addr == 0 {
		switch d.Driver {
		case DisplaySSD1306:
			d.Addr = display.SSD1306Addr
		case DisplayAIP31068:
			d.Addr = 0x3e // the chip's only address
		}
	}
	if d.Name == "" {
		d.Name = fmt.Sprintf("%s %#x on I2C %s", d.Driver, d.Addr, d.Bus)
	}
	idx := make([]int, 0, len(d.Connectors))
	for _, id := range d.Connectors {
		i := slices.IndexFunc(b.conns, func(c hal.Connector) bool { return c.ID == id })
		switch {
		case i < 0:
			return fmt.Errorf("display %s: no connector %d", d.Name, id)
		case b.conns[i].Display != nil:
			return fmt.Errorf("display %s: connector %d already has %v", d.Name, id, b.conns[i].Display)
		}
		idx = append(idx, i)
	}
	if len(idx) == 0 {
		return fmt.Errorf("display %s: serves no connector", d.Name)
	}
	bus, err := pe.bus(d.Bus)
	if err != nil {
		return fmt.Errorf("display %s: %w", d.Name, err)
	}
	o := display.Options{Name: d.Name, Rows: d.Rows, Cols: d.Cols, Connectors: len(idx)}
	var shown hal.Display
	switch d.Driver {
	case DisplaySSD1306:
		o.Rows, o.Cols = 0, 0
		oled, err := display.NewSSD1306(bus, d.Addr, o)
		if err != nil {
			return fmt.Errorf("display %s: %w", d.Name, err)
		}
		shown = oled
	case DisplayAIP31068:
		if err := CheckLCDSize(d.Rows, d.Cols); err != nil {
			return fmt.Errorf("display %s: %w", d.Name, err)
		}
		// The backlight, when it is not wired on, is another chip: the
		// board file has no key for it yet.
		dev, err := aip31068.New(bus, d.Addr, nil, d.Rows, d.Cols)
		if err != nil {
			return fmt.Errorf("display %s: %w", d.Name, err)
		}
		lcd, err := display.NewLCD(dev, o)
		if err != nil {
			return err
		}
		shown = lcd
	default:
		return fmt.Errorf("display %s: unknown driver %q", d.Name, d.Driver)
	}
	for _, i := range idx {
		b.conns[i].Display = shown
	}
	b.halts = append(b.halts, shown) // after the safety parts
	return nil
}

// outOrNil turns a missing pin into a nil interface, not a typed nil.
func outOrNil(p gpio.PinIO) gpio.PinOut {
	if p == nil {
		return nil
	}
	return p
}

func inOrNil(p gpio.PinIO) gpio.PinIn {
	if p == nil {
		return nil
	}
	return p
}

// parts are one connector's pins and channels, looked up; nil where the
// board file names none.
type parts struct {
	pwm, enable, out, fb, fault, test, lock, unlock, act, lfb, ready, busy, flt, phase gpio.PinIO
	high, low, pp                                                                      pilot.Channel
}

// connector builds one outlet's drivers on its looked-up parts.
func (b *Board) connector(c ConnectorSpec, ps *parts, env Env) error {
	pwm, enable, out, fb := ps.pwm, ps.enable, ps.out, ps.fb
	high, low, pp := ps.high, ps.low, ps.pp
	var cable pilot.Cable
	switch {
	case c.Cable.PP != nil:
		prox, err := pilot.NewProximity(pp, c.Cable.Supply, c.Cable.PullUp)
		if err != nil {
			return err
		}
		cable = prox
	case c.Cable.Fixed > 0:
		cable = pilot.Fixed(c.Cable.Fixed)
	}
	p, err := pilot.New(pilot.Options{
		Connector: c.ID, PWM: pwm, Enable: outOrNil(enable), EnableActive: c.Pilot.Enable.Active,
		High: high, Low: low, SampleRate: c.Pilot.SampleRate, Debounce: c.Pilot.Debounce,
		DiodeEvery: c.Pilot.DiodeEvery, MaxCurrent: c.MaxCurrent, Cable: cable,
		Clock: b.clk, Logger: env.Logger,
	})
	if err != nil {
		return err
	}
	k, err := relay.NewContactor(relay.ContactorOptions{
		Connector: c.ID, Out: out, Active: c.Contactor.Out.Active,
		Feedback: inOrNil(fb), FeedbackActive: c.Contactor.Feedback.Active,
		Settle: c.Contactor.Settle, Pilot: p, Clock: b.clk,
	})
	if err != nil {
		return err
	}
	p.SetInterlock(k)
	b.contactors = append(b.contactors, k) // contactors halt first
	b.halts = append(b.halts, p)
	b.pilots = append(b.pilots, p)
	b.pollers = append(b.pollers, k)
	hc := hal.Connector{ID: c.ID, Pilot: p, Contactor: k, MaxCurrent: c.MaxCurrent, Phases: c.Phases}
	if err := b.sharedParts(c, ps, k, &hc); err != nil {
		return err
	}
	if ps.phase != nil {
		sw, err := relay.NewPhaseSwitch(relay.PhaseSwitchOptions{
			Connector: c.ID, Out: ps.phase, Active: c.PhaseSwitch.Active, Contactor: k,
		})
		if err != nil {
			return err
		}
		hc.PhaseSwitch = sw
		b.halts = append(b.halts, sw)
	}
	b.conns = append(b.conns, hc)
	return nil
}

// sharedParts builds the parts AC and DC outlets have alike: the RCD
// (opening k on a trip), the lock and the indicator.
func (b *Board) sharedParts(c ConnectorSpec, ps *parts, k hal.Contactor, hc *hal.Connector) error {
	fault, test := ps.fault, ps.test
	lockP, unlockP, act, lfb, ready, busy, flt := ps.lock, ps.unlock, ps.act, ps.lfb, ps.ready, ps.busy, ps.flt
	if c.RCD != nil {
		r, err := relay.NewRCD(relay.RCDOptions{
			Connector: c.ID, Fault: fault, FaultActive: c.RCD.Fault.Active,
			Test: outOrNil(test), TestActive: c.RCD.Test.Active, TestTimeout: c.RCD.TestTimeout,
			Interlock: k, Clock: b.clk,
		})
		if err != nil {
			return err
		}
		hc.RCD = r
		b.pollers = append(b.pollers, r)
		b.halts = append(b.halts, r)
	}
	if c.Lock != nil {
		active := c.Lock.Actuator.Active
		if c.Lock.Actuator.Name == "" {
			active = c.Lock.LockPin.Active
		}
		l, err := relay.NewLock(relay.LockOptions{
			Connector: c.ID, LockPin: outOrNil(lockP), UnlockPin: outOrNil(unlockP), Actuator: outOrNil(act),
			Active: active, Pulse: c.Lock.Pulse, Feedback: inOrNil(lfb), FeedbackActive: c.Lock.Feedback.Active,
			Clock: b.clk,
		})
		if err != nil {
			return err
		}
		hc.Lock = l
		b.pollers = append(b.pollers, l)
		b.halts = append(b.halts, l)
	}
	if c.Indicator != nil {
		in, err := relay.NewIndicator(relay.IndicatorOptions{
			Connector: c.ID, Ready: outOrNil(ready), Busy: outOrNil(busy), Fault: outOrNil(flt),
			Active: c.Indicator.Ready.Active,
		})
		if err != nil {
			return err
		}
		hc.Indicator = in
		b.halts = append(b.halts, in)
	}
	return nil
}

// String implements hal.Resource.
func (b *Board) String() string { return "board " + b.name }

// Name implements hal.Board.
func (b *Board) Name() string { return b.name }

// Connectors implements hal.Board.
func (b *Board) Connectors() []hal.Connector { return b.conns }

// LimitInput returns the board's limit input, or nil (a nil interface)
// when the board file names none. Its changes arrive through Run's sink.
func (b *Board) LimitInput() hal.Input {
	if b.input == nil {
		return nil
	}
	return b.input
}

// Pilot returns connector id's pilot driver (for its Latency), or nil.
func (b *Board) Pilot(id int) *pilot.Pilot {
	for i, c := range b.conns {
		if c.ID == id {
			return b.pilots[i]
		}
	}
	return nil
}

// Halt implements hal.Board: every contactor opens first (AC and DC), then
// the DC supplies turn off, then pilots go to -12 V, CHAdeMO's d1 and d2
// release, RCD test outputs release, lock motors stop and LEDs go off. It
// tries every part and joins the errors.
func (b *Board) Halt() error {
	var errs []error
	halt := func(r hal.Resource) {
		if err := r.Halt(); err != nil {
			errs = append(errs, fmt.Errorf("%v: %w", r, err))
		}
	}
	for _, k := range b.contactors {
		halt(k)
	}
	for _, s := range b.supplies {
		halt(s)
	}
	for _, r := range b.halts {
		halt(r)
	}
	return errors.Join(errs...)
}

// Close releases the buses the board opened; call it after Halt, when the
// board is no longer used.
func (b *Board) Close() error {
	var errs []error
	for _, c := range b.closers {
		errs = append(errs, c.Close())
	}
	b.closers = nil
	return errors.Join(errs...)
}

// Run implements hal.Board: one sampling goroutine per pilot, one watching
// the inputs, one per card reader, and for each DC connector the loops of
// its power modules, vehicle and isolation monitor, each calling sink. It
// returns when ctx ends (nil) or a sampler or CAN loop fails.
func (b *Board) Run(ctx context.Context, sink hal.Sink) error {
	if sink == nil {
		return errors.New("periphboard: nil sink")
	}
	b.mu.Lock()
	if b.running {
		b.mu.Unlock()
		return errors.New("periphboard: board already running")
	}
	b.running = true
	b.mu.Unlock()
	b.events.set(sink)
	defer func() {
		b.events.set(nil)
		b.mu.Lock()
		b.running = false
		b.mu.Unlock()
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(b.pilots)+len(b.readers)+len(b.runners)+1)
	start := func(f func() error) {
		wg.Go(func() {
			if err := f(); err != nil {
				errs <- err
				cancel()
			}
		})
	}
	for _, p := range b.pilots {
		start(func() error { return p.Run(ctx, sink) })
	}
	if len(b.pollers) > 0 {
		start(func() error { return relay.Watch(ctx, b.clk, b.poll, sink, b.pollers...) })
	}
	for _, r := range b.readers {
		start(func() error { return r.Run(ctx, sink) })
	}
	for _, r := range b.runners {
		start(func() error { return r.Run(ctx) })
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// Samplers is the number of clock timers a running board keeps armed
// between ticks: tests stepping a clock.Fake wait for that many.
func (b *Board) Samplers() int {
	n := len(b.pilots) + len(b.readers) + len(b.runners)
	if len(b.pollers) > 0 {
		n++
	}
	return n
}
