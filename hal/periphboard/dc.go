package periphboard

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/chademo"
	"github.com/evsed/evsed/hal/dcpower"
	"github.com/evsed/evsed/hal/isolation"
	"github.com/evsed/evsed/hal/relay"
	"github.com/evsed/evsed/meter/can"
	"github.com/evsed/evsed/meter/modbus"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// VehicleProtocol names how a DC connector talks to the vehicle.
type VehicleProtocol string

// The vehicle protocols New builds.
const (
	// VehicleCHAdeMO is CHAdeMO over CAN (hal/chademo) with its sequence
	// lines on GPIO.
	VehicleCHAdeMO VehicleProtocol = "chademo"
)

// PowerSpec is a DC connector's power modules: a hal/dcpower Group on a
// CAN interface.
type PowerSpec struct {
	Interface string // SocketCAN interface, e.g. "can0"; shared with other users of it
	Set       *dcpower.MessageSet
	Addresses []int
}

// IsolationSpec is a DC connector's isolation monitor on a Modbus line,
// which it may share with the meters (Env.Modbus returns the line's one
// Bus).
type IsolationSpec struct {
	Bus   string // the bus URL, as meters write it (modbus.NewBus)
	Unit  int
	Model *isolation.Model
}

// DCContactorSpec wires the two poles of the DC contactors, each a relay
// with its mirror contact.
type DCContactorSpec struct {
	Plus, Minus                 Pin
	FeedbackPlus, FeedbackMinus Pin
	Settle                      time.Duration
}

// VehicleSpec is the vehicle side of a DC connector.
type VehicleSpec struct {
	Protocol VehicleProtocol
	// Interface is the CAN interface to the vehicle; the connector's own
	// (CHAdeMO has one bus per connector).
	Interface string
	// Timeout is how long the vehicle may be silent; 0 means the
	// protocol's default.
	Timeout time.Duration
	// D1, D2, Permission and Proximity are CHAdeMO's sequence lines (see
	// chademo.Lines): two outputs, two inputs.
	D1, D2, Permission, Proximity Pin
}

// DCSpec makes a connector a DC one (hal.DC): the ConnectorSpec's Pilot,
// Cable, Contactor and PhaseSwitch are unused, and its MaxCurrent is the
// DC output rating.
type DCSpec struct {
	Power      PowerSpec
	Isolation  IsolationSpec
	Contactors DCContactorSpec
	Vehicle    VehicleSpec
	// EmergencyStop is the connector's emergency stop button (Active
	// means pressed); the zero Pin means none.
	EmergencyStop Pin
	// MaxVoltage, MaxCurrent and MaxPower are the connector's rating;
	// zero means no limit beyond the supply's.
	MaxVoltage physic.ElectricPotential
	MaxCurrent physic.ElectricCurrent
	MaxPower   physic.Power
}

// dcParts are one DC connector's pins and buses, looked up.
type dcParts struct {
	plus, minus, fbPlus, fbMinus, estop, d1, d2, perm, prox gpio.PinIO
	power, vehicle                                          can.FrameSource
	iso                                                     *modbus.Bus
}

// lookupDC finds a DC connector's pins and buses without driving anything.
func lookupDC(d *DCSpec, pinOf func(Pin) (gpio.PinIO, error), env Env) (*dcParts, error) {
	if env.CAN == nil || env.Modbus == nil {
		return nil, errors.New("a DC connector needs Env.CAN and Env.Modbus")
	}
	p := &dcParts{}
	var errs []error
	get := func(dst *gpio.PinIO, pin Pin, required bool) {
		if pin.Name == "" && required {
			errs = append(errs, errors.New("DC: a required pin is not wired"))
			return
		}
		var err error
		*dst, err = pinOf(pin)
		errs = append(errs, err)
	}
	c := d.Contactors
	get(&p.plus, c.Plus, true)
	get(&p.minus, c.Minus, true)
	get(&p.fbPlus, c.FeedbackPlus, true)
	get(&p.fbMinus, c.FeedbackMinus, true)
	get(&p.estop, d.EmergencyStop, false)
	v := d.Vehicle
	if v.Protocol != VehicleCHAdeMO {
		errs = append(errs, fmt.Errorf("DC: unknown vehicle protocol %q", v.Protocol))
	}
	get(&p.d1, v.D1, true)
	get(&p.d2, v.D2, true)
	get(&p.perm, v.Permission, true)
	get(&p.prox, v.Proximity, true)
	var err error
	if p.power, err = env.CAN(d.Power.Interface); err != nil {
		errs = append(errs, fmt.Errorf("power modules: CAN %s: %w", d.Power.Interface, err))
	}
	if p.vehicle, err = env.CAN(v.Interface); err != nil {
		errs = append(errs, fmt.Errorf("vehicle: CAN %s: %w", v.Interface, err))
	}
	if p.iso, err = env.Modbus(d.Isolation.Bus); err != nil {
		errs = append(errs, fmt.Errorf("isolation monitor: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// pinOutput is a chademo.Output on a GPIO.
type pinOutput struct {
	pin    gpio.PinOut
	active gpio.Level
}

// Set implements chademo.Output.
func (o pinOutput) Set(on bool) error {
	l := !o.active
	if on {
		l = o.active
	}
	return o.pin.Out(l)
}

// dcContactor is the two poles of a DC connector's contactors as one
// hal.Contactor. It is safe for concurrent use (each pole is).
type dcContactor struct {
	name        string
	plus, minus *relay.Contactor
}

var (
	_ hal.Contactor         = (*dcContactor)(nil)
	_ hal.ContactorFeedback = (*dcContactor)(nil)
)

// String implements hal.Resource.
func (c *dcContactor) String() string { return c.name }

// Close implements hal.Contactor: minus, then plus; if plus refuses, minus
// opens again.
func (c *dcContactor) Close() error {
	if err := c.minus.Close(); err != nil {
		return err
	}
	if err := c.plus.Close(); err != nil {
		return errors.Join(err, c.minus.Open())
	}
	return nil
}

// Open implements hal.Contactor: both poles, whatever either answers.
func (c *dcContactor) Open() error { return errors.Join(c.plus.Open(), c.minus.Open()) }

// Halt implements hal.Resource: it opens.
func (c *dcContactor) Halt() error { return c.Open() }

// Closed implements hal.Contactor: either pole commanded closed.
func (c *dcContactor) Closed() bool { return c.plus.Closed() || c.minus.Closed() }

// FeedbackClosed implements hal.ContactorFeedback: either pole's mirror
// contact says closed (a welded pole keeps the pair from counting as
// open).
func (c *dcContactor) FeedbackClosed() bool {
	return c.plus.FeedbackClosed() || c.minus.FeedbackClosed()
}

// estop is a DC connector's emergency stop button: pressed, it turns the
// supply off and opens the contactors (the driver-level interlock) before
// the EmergencyStop event goes out.
type estop struct {
	*relay.Input
	conn   int
	supply hal.PowerSupply
	k      hal.Contactor
}

// Poll implements relay.Poller.
func (e *estop) Poll() []hal.Event {
	var out []hal.Event
	for _, ev := range e.Input.Poll() {
		if ev.Active {
			_ = e.k.Open()     // the station sees the event next and faults the connector
			_ = e.supply.Off() // a CAN write: after the contactors
		}
		out = append(out, hal.Event{Connector: e.conn, Kind: hal.EmergencyStop, Active: ev.Active, Detail: ev.Detail})
	}
	return out
}

// plugLines polls the CHAdeMO inputs, then the plug that reads them.
type plugLines struct {
	perm, prox *relay.Input
	plug       *chademo.Plug
}

// Poll implements relay.Poller; the inputs' own InputChanged events are
// not the board's (they would read as the limit input).
func (p plugLines) Poll() []hal.Event {
	p.perm.Poll()
	p.prox.Poll()
	return p.plug.Poll()
}

// dcRunner is a DC part with a receive or poll loop.
type dcRunner interface {
	Run(ctx context.Context) error
}

// sinkHolder hands events of parts built before Run to Run's sink; events
// while no Run is under way are dropped (nothing polls then).
type sinkHolder struct {
	mu   sync.Mutex // guards sink
	sink hal.Sink
}

func (h *sinkHolder) set(s hal.Sink) {
	h.mu.Lock()
	h.sink = s
	h.mu.Unlock()
}

func (h *sinkHolder) emit(ev hal.Event) {
	h.mu.Lock()
	s := h.sink
	h.mu.Unlock()
	if s != nil {
		s(ev)
	}
}

// lateState is the contactors' interlock before the plug exists: the
// contactors are built (open) first, and refuse to close until the plug
// is set.
type lateState struct{ plug *chademo.Plug }

// State implements relay.PilotState.
func (l *lateState) State() hal.PilotState {
	if l.plug == nil {
		return hal.PilotUnknown
	}
	return l.plug.State()
}

// dcConnector builds a DC outlet on its looked-up parts: the contactors
// first (driven open), then the supply (off until told otherwise), the
// vehicle with its lines (d1 and d2 off), the isolation monitor and the
// emergency stop; then the AC-side parts the connector shares with AC
// outlets (RCD, lock, indicator).
func (b *Board) dcConnector(c ConnectorSpec, dp *dcParts, ps *parts, env Env) error {
	d := c.DC
	interlock := &lateState{}
	pole := func(name string, out, fb gpio.PinIO, o, f Pin) (*relay.Contactor, error) {
		k, err := relay.NewContactor(relay.ContactorOptions{
			Connector: c.ID, Out: out, Active: o.Active, Feedback: fb, FeedbackActive: f.Active,
			Settle: d.Contactors.Settle, Pilot: interlock, Clock: b.clk,
		})
		if err != nil {
			return nil, fmt.Errorf("DC contactor %s: %w", name, err)
		}
		return k, nil
	}
	plus, err := pole("plus", dp.plus, dp.fbPlus, d.Contactors.Plus, d.Contactors.FeedbackPlus)
	if err != nil {
		return err
	}
	minus, err := pole("minus", dp.minus, dp.fbMinus, d.Contactors.Minus, d.Contactors.FeedbackMinus)
	if err != nil {
		_ = plus.Open()
		return err
	}
	k := &dcContactor{name: fmt.Sprintf("connector %d DC contactors", c.ID), plus: plus, minus: minus}
	b.contactors = append(b.contactors, k)
	b.pollers = append(b.pollers, plus, minus)

	id := c.ID
	supply, err := dcpower.New(dcpower.Options{
		Name: fmt.Sprintf("connector %d power modules", id), Set: d.Power.Set, Addresses: d.Power.Addresses,
		Bus: dp.power, Clock: b.clk, Logger: env.Logger,
		Fault: func(detail string) {
			b.events.emit(hal.Event{Connector: id, Kind: hal.SupplyFault, Detail: detail})
		},
	})
	if err != nil {
		return err
	}
	b.supplies = append(b.supplies, supply)
	b.runners = append(b.runners, supply)

	input := func(name string, pin gpio.PinIO, p Pin, debounce int) (*relay.Input, error) {
		return relay.NewInput(relay.InputOptions{Name: fmt.Sprintf("connector %d %s", id, name), Pin: pin, Active: p.Active, Debounce: debounce})
	}
	perm, err := input("CHAdeMO permission", dp.perm, d.Vehicle.Permission, lineDebounce)
	if err != nil {
		return err
	}
	prox, err := input("CHAdeMO proximity", dp.prox, d.Vehicle.Proximity, lineDebounce)
	if err != nil {
		return err
	}
	vehicle, err := chademo.New(chademo.Options{
		Bus: dp.vehicle, Connector: id, Sink: b.events.emit, Timeout: d.Vehicle.Timeout,
		Clock: b.clk, Logger: env.Logger,
		Lines: &chademo.Lines{
			D1: pinOutput{dp.d1, d.Vehicle.D1.Active}, D2: pinOutput{dp.d2, d.Vehicle.D2.Active},
			Permission: perm, Proximity: prox,
		},
	})
	if err != nil {
		return err
	}
	plug := vehicle.Plug()
	plug.SetInterlock(k)
	interlock.plug = plug
	b.pollers = append(b.pollers, plugLines{perm: perm, prox: prox, plug: plug})
	b.runners = append(b.runners, vehicle)
	b.halts = append(b.halts, vehicle)

	mon, err := isolation.New(isolation.Options{
		Bus: dp.iso, Unit: d.Isolation.Unit, Model: d.Isolation.Model, Connector: id,
		Sink: b.events.emit, Clock: b.clk, Logger: env.Logger,
	})
	if err != nil {
		return err
	}
	b.runners = append(b.runners, mon)
	b.halts = append(b.halts, mon)

	hdc := &hal.DC{
		Supply: supply, Isolation: mon, Vehicle: vehicle,
		MaxVoltage: d.MaxVoltage, MaxCurrent: d.MaxCurrent, MaxPower: d.MaxPower,
	}
	if dp.estop != nil {
		in, err := input("emergency stop", dp.estop, d.EmergencyStop, 1)
		if err != nil {
			return err
		}
		b.pollers = append(b.pollers, &estop{Input: in, conn: id, supply: supply, k: k})
		hdc.EmergencyStop = in
	}
	if err := hdc.Validate(); err != nil {
		return err
	}
	hc := hal.Connector{ID: id, Pilot: plug, Contactor: k, MaxCurrent: d.MaxCurrent, DC: hdc}
	if err := b.sharedParts(c, ps, k, &hc); err != nil {
		return err
	}
	b.conns = append(b.conns, hc)
	return nil
}

// lineDebounce is the polls a CHAdeMO input must hold a new level: 30 ms
// at the default poll, past a relay contact's bounce.
const lineDebounce = 3
