package sim

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/internal/lazylog"
	"github.com/evsed/evsed/meter"
	metersim "github.com/evsed/evsed/meter/sim"
	"periph.io/x/conn/v3/physic"
)

// The simulated DC charger (board "sim-dc"): CCS connectors, each with a
// power supply of parallel modules, DC contactors with feedback, an
// isolation monitor, a cable-side voltmeter, a DC meter, a lock and an EV
// with a battery model. The model advances in fixed steps (DCOptions.Step)
// on the board's clock while anything is under way, so that voltages ramp
// and batteries fill in virtual time as they would in real time.

// Fault kinds of the DC board, besides FaultWeld, FaultMeter and
// FaultClear.
const (
	// FaultIsolation drops the insulation resistance to 20 kOhm, below
	// every fault threshold: the isolation monitor reports IsolationAlarm.
	FaultIsolation FaultKind = "isolation"
	// FaultPrecharge makes the supply fall 50 V short of the voltage the
	// EV asks for during precharge: the EV never closes its contactors.
	FaultPrecharge FaultKind = "precharge"
	// FaultModule trips the first power module: SupplyFault, and the
	// supply's limits without it.
	FaultModule FaultKind = "module"
	// FaultEmergencyStop presses the board's emergency stop button
	// (FaultClear releases it): EmergencyStop events with Connector 0, and
	// the contactors open by the hardware chain at once.
	FaultEmergencyStop FaultKind = "estop"
)

// DCModule describes one power module. Zero fields mean the defaults.
type DCModule struct {
	// MinVoltage and MaxVoltage bound the output; 0 means 150 V and 1000 V.
	MinVoltage, MaxVoltage physic.ElectricPotential
	// MaxCurrent is 0: 50 A; MaxPower 0: 30 kW.
	MaxCurrent physic.ElectricCurrent
	MaxPower   physic.Power
}

// DCEV describes the simulated EV and its battery. Zero fields mean the
// defaults.
type DCEV struct {
	// Capacity is the battery's usable energy; 0 means 60 kWh.
	Capacity meter.Energy
	// SoC is the state of charge at plug-in, in percent; 0 means 20.
	SoC float64
	// TargetSoC is where the EV stops asking; 0 means 100.
	TargetSoC float64
	// EmptyVoltage and FullVoltage are the open-circuit voltage at 0 and
	// 100 %; 0 means 330 V and 400 V.
	EmptyVoltage, FullVoltage physic.ElectricPotential
	// MaxVoltage is the EV's limit (its constant-voltage target while
	// charging); 0 means 410 V.
	MaxVoltage physic.ElectricPotential
	// MaxCurrent is the most the EV asks for; 0 means 250 A.
	MaxCurrent physic.ElectricCurrent
	// MaxPower is the EV's power limit; 0 means none.
	MaxPower physic.Power
	// Resistance is the battery's internal resistance; 0 means 50 mOhm.
	Resistance physic.ElectricResistance
	// TaperFrom is the SoC in percent above which the EV asks for less
	// current, linearly down to 5 % of MaxCurrent at 100 %; 0 means 80.
	TaperFrom float64
}

func (e DCEV) withDefaults() (DCEV, error) {
	if e.Capacity < 0 || e.SoC < 0 || e.SoC > 100 || e.TargetSoC < 0 || e.TargetSoC > 100 ||
		e.MaxCurrent < 0 || e.MaxPower < 0 || e.Resistance < 0 || e.TaperFrom < 0 || e.TaperFrom >= 100 {
		return e, fmt.Errorf("hal/sim: invalid DC EV %+v", e)
	}
	if e.Capacity == 0 {
		e.Capacity = 60 * meter.KiloWattHour
	}
	if e.SoC == 0 {
		e.SoC = 20
	}
	if e.TargetSoC == 0 {
		e.TargetSoC = 100
	}
	if e.EmptyVoltage == 0 {
		e.EmptyVoltage = 330 * physic.Volt
	}
	if e.FullVoltage == 0 {
		e.FullVoltage = 400 * physic.Volt
	}
	if e.MaxVoltage == 0 {
		e.MaxVoltage = 410 * physic.Volt
	}
	if e.MaxCurrent == 0 {
		e.MaxCurrent = 250 * physic.Ampere
	}
	if e.Resistance == 0 {
		e.Resistance = 50 * physic.MilliOhm
	}
	if e.TaperFrom == 0 {
		e.TaperFrom = 80
	}
	if e.FullVoltage <= e.EmptyVoltage || e.MaxVoltage < e.FullVoltage {
		return e, fmt.Errorf("hal/sim: DC EV voltages: empty %v, full %v, max %v", e.EmptyVoltage, e.FullVoltage, e.MaxVoltage)
	}
	return e, nil
}

// DCOptions configure a DCBoard. The zero value is the default "sim-dc"
// board: one CCS connector rated 1000 V, 200 A, with four 50 A / 30 kW
// modules (200 A, 120 kW), and the default EV.
type DCOptions struct {
	// Name is what Name returns; "" means "sim-dc".
	Name string
	// Connectors is the number of outlets; 0 means 1. Each has its own
	// modules.
	Connectors int
	// Modules is the number of power modules per connector; 0 means 4.
	Modules int
	// Module describes each module.
	Module DCModule
	// MaxVoltage, MaxCurrent and MaxPower are each connector's rating; 0
	// means 1000 V, 200 A and no power limit beyond the modules'.
	MaxVoltage physic.ElectricPotential
	MaxCurrent physic.ElectricCurrent
	MaxPower   physic.Power
	// EV is the vehicle of every connector (SetEV changes one).
	EV DCEV
	// Step is the model's time step; 0 means 100 ms.
	Step time.Duration
	// Clock is the time base; nil means the wall clock.
	Clock clock.Clock
	// Logger receives debug logs; nil means slog.Default().
	Logger *slog.Logger
}

// Model constants.
const (
	// dcSlew is how fast an unloaded output follows its setpoint, V/s.
	dcSlew = 500.0
	// dcDischarge is how fast an open cable discharges, V/s.
	dcDischarge = 1000.0
	// dcMatch is how close the EV wants the precharge voltage, V, and
	// dcMatchFor how long it must stay so before the EV closes.
	dcMatch    = 20.0
	dcMatchFor = 500 * time.Millisecond
	// isoMeasure is how long the isolation monitor needs a stable voltage
	// for a measurement.
	isoMeasure = time.Second
	// isoGood and isoBad are the insulation resistances of a healthy and
	// a faulty system.
	isoGood = 5 * physic.MegaOhm
	isoBad  = 20 * physic.KiloOhm
)

// DCBoard is a simulated DC charger. Build it with NewDC; it is safe for
// concurrent use.
type DCBoard struct {
	name   string
	clk    clock.Clock
	log    *slog.Logger
	step   time.Duration
	module DCModule
	conns  []*dconn // index id-1; immutable

	// mu guards the mutable fields of every dconn, estop and the ticker.
	// It is never held while calling the sink.
	mu      sync.Mutex
	estop   bool
	ticking bool // the model's step timer is armed
	last    time.Time
	tickGen uint64

	events eventQueue
}

var _ hal.Board = (*DCBoard)(nil)

// dconn is one simulated DC outlet; the fields after the first block are
// guarded by DCBoard.mu.
type dconn struct {
	b              *DCBoard
	id             int
	modules        int
	ratedV         physic.ElectricPotential
	ratedI         physic.ElectricCurrent
	ratedP         physic.Power
	meter          *dcMeter
	ev             DCEV
	plugged        bool
	wantCharge     bool
	digital        bool // the pilot runs 5 % PWM
	negative       bool // the pilot drives -12 V
	sensed         hal.PilotState
	locked         bool
	closed, welded bool
	evClosed       bool
	on             bool
	setV           float64 // V
	setI           float64 // A
	outV, outI     float64 // supply output, V and A
	cableV         float64 // plug side, V
	stableSince    time.Time
	matchSince     time.Time // the precharge voltage matched since; zero: it does not
	soc            float64   // 0-1
	report         hal.ChargerReport
	isoFault       bool
	prechargeFault bool
	moduleFault    bool
	meterFail      bool
	lastReq        hal.VehicleRequest
	battery        metersim.Integrator // energy into the EV since plug-in
	delivered      metersim.Integrator // the DC meter's register
}

// NewDC builds a DC board from o. Nothing runs until Run or Start but the
// model's clock, which steps only while a vehicle is plugged in or a
// voltage is up.
func NewDC(o DCOptions) (*DCBoard, error) {
	if o.Connectors < 0 || o.Modules < 0 || o.Step < 0 {
		return nil, fmt.Errorf("hal/sim: invalid DC options")
	}
	o.Connectors = max(o.Connectors, 1)
	if o.Modules == 0 {
		o.Modules = 4
	}
	m := o.Module
	if m.MinVoltage == 0 {
		m.MinVoltage = 150 * physic.Volt
	}
	if m.MaxVoltage == 0 {
		m.MaxVoltage = 1000 * physic.Volt
	}
	if m.MaxCurrent == 0 {
		m.MaxCurrent = 50 * physic.Ampere
	}
	if m.MaxPower == 0 {
		m.MaxPower = 30 * physic.KiloWatt
	}
	if m.MinVoltage >= m.MaxVoltage || m.MaxCurrent < 0 || m.MaxPower < 0 {
		return nil, fmt.Errorf("hal/sim: invalid power module %+v", m)
	}
	if o.MaxVoltage == 0 {
		o.MaxVoltage = 1000 * physic.Volt
	}
	if o.MaxCurrent == 0 {
		o.MaxCurrent = 200 * physic.Ampere
	}
	if o.MaxVoltage < 0 || o.MaxCurrent < 0 || o.MaxPower < 0 {
		return nil, fmt.Errorf("hal/sim: negative DC connector rating")
	}
	ev, err := o.EV.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.Name == "" {
		o.Name = "sim-dc"
	}
	if o.Step == 0 {
		o.Step = 100 * time.Millisecond
	}
	b := &DCBoard{name: o.Name, clk: clock.Or(o.Clock), log: o.Logger, step: o.Step, module: m}
	if b.log == nil {
		b.log = slog.Default()
	}
	b.log = lazylog.With(b.log, "board", o.Name)
	now := b.clk.Now()
	for id := 1; id <= o.Connectors; id++ {
		c := &dconn{b: b, id: id, modules: o.Modules, ratedV: o.MaxVoltage, ratedI: o.MaxCurrent, ratedP: o.MaxPower,
			ev: ev, sensed: hal.PilotA, soc: ev.SoC / 100, report: hal.ChargerReport{Step: hal.DCIdle}}
		c.meter = &dcMeter{c: c, name: fmt.Sprintf("%s DC meter %d", o.Name, id)}
		c.battery.Reset(now, 0, 0)
		c.delivered.Reset(now, 0, 0)
		b.conns = append(b.conns, c)
	}
	b.last = now
	return b, nil
}

// String implements hal.Board.
func (b *DCBoard) String() string { return "board " + b.name }

// Name implements hal.Board.
func (b *DCBoard) Name() string { return b.name }

// Connectors implements hal.Board; the slice is made anew at each call.
func (b *DCBoard) Connectors() []hal.Connector {
	out := make([]hal.Connector, 0, len(b.conns))
	for _, c := range b.conns {
		out = append(out, hal.Connector{
			ID:         c.id,
			Pilot:      (*dcPilot)(c),
			Contactor:  (*dcContactor)(c),
			Lock:       (*dcLock)(c),
			MaxCurrent: c.ratedI,
			Phases:     1,
			DC: &hal.DC{
				Supply:        (*dcSupply)(c),
				Isolation:     (*dcIsolation)(c),
				Vehicle:       (*dcVehicle)(c),
				CableVoltage:  (*dcVoltmeter)(c),
				EmergencyStop: (*dcEstop)(b),
				MaxVoltage:    c.ratedV,
				MaxCurrent:    c.ratedI,
				MaxPower:      c.ratedP,
			},
		})
	}
	return out
}

// Meter returns connector n's DC meter, or nil; it lives as long as the
// board.
func (b *DCBoard) Meter(n int) meter.Meter {
	if n < 1 || n > len(b.conns) {
		return nil
	}
	return b.conns[n-1].meter
}

// EmergencyStopInput returns the board's emergency stop button (active:
// pressed); every connector's DC.EmergencyStop is this one.
func (b *DCBoard) EmergencyStopInput() hal.Input { return (*dcEstop)(b) }

// Halt implements hal.Board: every supply off, every contactor commanded
// open, every pilot at -12 V. Locks stay as they are.
func (b *DCBoard) Halt() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advanceLocked()
	for _, c := range b.conns {
		c.on = false
		b.openLocked(c, "halt")
		c.negative, c.digital = true, false
		b.updateLocked(c)
	}
	return nil
}

// Run implements hal.Board; see Board.Run.
func (b *DCBoard) Run(ctx context.Context, sink hal.Sink) error {
	return b.events.run(ctx, sink, b.initialStates, b)
}

// Start delivers events as Board.Start does.
func (b *DCBoard) Start(sink hal.Sink) (stop func(), err error) {
	return b.events.start(sink, b.initialStates, b)
}

// emit queues e for Run or Start; b.mu is held, as for Board.emit.
func (b *DCBoard) emit(e hal.Event) { b.events.emit(e, b) }

// logAt logs to the board's logger (the queue's warnings).
func (b *DCBoard) logAt(level slog.Level, msg string, args ...any) {
	b.log.Log(context.Background(), level, msg, args...)
}

func (b *DCBoard) initialStates() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		b.emit(hal.Event{Connector: c.id, Kind: hal.PilotChanged, Pilot: c.sensed, Detail: "initial state"})
	}
}

func (b *DCBoard) conn(n int) (*dconn, error) {
	if n < 1 || n > len(b.conns) {
		return nil, fmt.Errorf("%w: %d (have 1-%d)", ErrNoConnector, n, len(b.conns))
	}
	return b.conns[n-1], nil
}

// do runs f on connector n with the model brought up to now.
func (b *DCBoard) do(n int, f func(c *dconn) error) error {
	c, err := b.conn(n)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advanceLocked()
	if err := f(c); err != nil {
		return err
	}
	b.updateLocked(c)
	return nil
}

// Plug plugs the EV into connector n (CP A -> B); its battery starts at
// the EV's SoC.
func (b *DCBoard) Plug(n int) error {
	return b.do(n, func(c *dconn) error {
		if c.plugged {
			return fmt.Errorf("%w: connector %d: already plugged in", ErrTransition, n)
		}
		c.plugged, c.wantCharge, c.evClosed = true, false, false
		c.soc = c.ev.SoC / 100
		c.battery.Reset(b.clk.Now(), 0, 0)
		return nil
	})
}

// Charge makes the EV at connector n ask for energy.
func (b *DCBoard) Charge(n int) error {
	return b.do(n, func(c *dconn) error {
		switch {
		case !c.plugged:
			return fmt.Errorf("%w: connector %d: no EV plugged in", ErrTransition, n)
		case c.full():
			return fmt.Errorf("%w: connector %d: the EV's battery is at its target", ErrTransition, n)
		}
		c.wantCharge = true
		return nil
	})
}

// Pause makes the EV stop asking: for DC that ends the charge (the station
// powers down).
func (b *DCBoard) Pause(n int) error {
	return b.do(n, func(c *dconn) error {
		if !c.plugged {
			return fmt.Errorf("%w: connector %d: no EV plugged in", ErrTransition, n)
		}
		c.wantCharge = false
		return nil
	})
}

// Unplug removes the EV. A real connector is held by its lock; the
// simulation lets go anyway (a broken lock, a test of the station's
// reaction) and reports it.
func (b *DCBoard) Unplug(n int) error {
	return b.do(n, func(c *dconn) error {
		if !c.plugged {
			return fmt.Errorf("%w: connector %d: no EV plugged in", ErrTransition, n)
		}
		if c.locked {
			b.log.Warn("simulated EV pulled out of a locked DC connector", "connector", n)
		}
		c.plugged, c.wantCharge, c.evClosed = false, false, false
		return nil
	})
}

// Swipe presents idTag at connector n's reader.
func (b *DCBoard) Swipe(n int, idTag string) error {
	return b.do(n, func(c *dconn) error {
		if idTag == "" {
			return fmt.Errorf("hal/sim: connector %d: empty id tag", n)
		}
		b.emit(hal.Event{Connector: n, Kind: hal.CardPresented, IDTag: idTag})
		return nil
	})
}

// SetEV replaces connector n's EV model (from the next plug-in for the
// SoC).
func (b *DCBoard) SetEV(n int, ev DCEV) error {
	ev, err := ev.withDefaults()
	if err != nil {
		return err
	}
	return b.do(n, func(c *dconn) error {
		c.ev = ev
		return nil
	})
}

// Fault injects or clears a fault at connector n: isolation, precharge,
// module, weld, meter, estop (board-wide) or clear (every fault of the
// connector, and the emergency stop).
func (b *DCBoard) Fault(n int, kind FaultKind) error {
	return b.do(n, func(c *dconn) error {
		switch kind {
		case FaultIsolation:
			if !c.isoFault {
				c.isoFault = true
				b.emit(hal.Event{Connector: n, Kind: hal.IsolationAlarm, Detail: "simulated insulation fault"})
			}
		case FaultPrecharge:
			c.prechargeFault = true
		case FaultModule:
			if !c.moduleFault {
				c.moduleFault = true
				b.emit(hal.Event{Connector: n, Kind: hal.SupplyFault, Detail: "simulated power module 1 fault"})
			}
		case FaultWeld:
			if !c.welded {
				c.welded = true
				if !c.closed {
					b.emit(hal.Event{Connector: n, Kind: hal.ContactorWelded, Detail: "feedback closed while commanded open"})
				}
			}
		case FaultMeter:
			c.meterFail = true
		case FaultEmergencyStop:
			b.setEstopLocked(true)
		case FaultClear:
			c.isoFault, c.prechargeFault, c.moduleFault, c.welded, c.meterFail = false, false, false, false, false
			b.setEstopLocked(false)
			b.emit(hal.Event{Connector: n, Kind: hal.FaultCleared, Detail: "simulated faults cleared"})
		default:
			return fmt.Errorf("%w: %q (want isolation, precharge, module, weld, meter, estop or clear)", ErrFaultKind, kind)
		}
		b.log.Debug("simulated DC fault", "connector", n, "kind", string(kind))
		return nil
	})
}

// EmergencyStop presses (true) or releases the board's emergency stop.
func (b *DCBoard) EmergencyStop(pressed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advanceLocked()
	b.setEstopLocked(pressed)
}

func (b *DCBoard) setEstopLocked(pressed bool) {
	if b.estop == pressed {
		return
	}
	b.estop = pressed
	if pressed {
		for _, c := range b.conns {
			// The hardware chain: coils and modules lose power at once.
			c.on = false
			b.openLocked(c, "emergency stop")
		}
	}
	b.emit(hal.Event{Kind: hal.EmergencyStop, Active: pressed, Detail: "simulated emergency stop"})
	for _, c := range b.conns {
		b.updateLocked(c)
	}
}

// DCConnectorState is a snapshot of one simulated DC connector.
type DCConnectorState struct {
	Plugged, Charging                                                              bool
	Pilot                                                                          hal.PilotState
	Digital                                                                        bool // the pilot runs 5 % PWM
	Closed                                                                         bool // EVSE contactors commanded
	Energized                                                                      bool // electrically closed: commanded or welded
	EVClosed                                                                       bool // the EV's contactors
	Locked                                                                         bool
	SupplyOn                                                                       bool
	SetVoltage                                                                     physic.ElectricPotential
	SetCurrent                                                                     physic.ElectricCurrent
	Voltage                                                                        physic.ElectricPotential // supply output
	Current                                                                        physic.ElectricCurrent
	CableVoltage                                                                   physic.ElectricPotential
	SoC                                                                            float64 // percent
	BatteryVoltage                                                                 physic.ElectricPotential
	EVEnergy                                                                       meter.Energy
	Request                                                                        hal.VehicleRequest
	Report                                                                         hal.ChargerReport // what the station last told the EV
	Isolation                                                                      hal.IsolationReading
	Welded, IsolationFault, PrechargeFault, ModuleFault, MeterFault, EmergencyStop bool
}

// State returns a snapshot of connector n.
func (b *DCBoard) State(n int) (DCConnectorState, error) {
	c, err := b.conn(n)
	if err != nil {
		return DCConnectorState{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advanceLocked()
	c.battery.Advance(b.clk.Now())
	return DCConnectorState{
		Plugged: c.plugged, Charging: c.wantCharge && !c.full(), Pilot: c.sensed, Digital: c.digital,
		Closed: c.closed, Energized: c.closed || c.welded, EVClosed: c.evClosed, Locked: c.locked,
		SupplyOn: c.on, SetVoltage: volts(c.setV), SetCurrent: amps(c.setI),
		Voltage: volts(c.outV), Current: amps(c.outI), CableVoltage: volts(c.cableV),
		SoC: c.soc * 100, BatteryVoltage: volts(c.ocv()), EVEnergy: c.battery.Import(),
		Request: c.request(), Report: c.report, Isolation: c.isolation(b.clk.Now()),
		Welded: c.welded, IsolationFault: c.isoFault, PrechargeFault: c.prechargeFault,
		ModuleFault: c.moduleFault, MeterFault: c.meterFail, EmergencyStop: b.estop,
	}, nil
}

func volts(v float64) physic.ElectricPotential {
	return physic.ElectricPotential(v * float64(physic.Volt))
}
func amps(a float64) physic.ElectricCurrent {
	return physic.ElectricCurrent(a * float64(physic.Ampere))
}
func toV(v physic.ElectricPotential) float64 { return float64(v) / float64(physic.Volt) }
func toA(a physic.ElectricCurrent) float64   { return float64(a) / float64(physic.Ampere) }
func toW(p physic.Power) float64             { return float64(p) / float64(physic.Watt) }

// full reports whether the battery reached the EV's target SoC.
func (c *dconn) full() bool { return c.soc*100 >= c.ev.TargetSoC }

// ocv is the battery's open-circuit voltage now, V.
func (c *dconn) ocv() float64 {
	e, f := toV(c.ev.EmptyVoltage), toV(c.ev.FullVoltage)
	return e + (f-e)*math.Min(1, math.Max(0, c.soc))
}

// limits are the supply's limits with the modules online.
func (c *dconn) limits() hal.SupplyLimits {
	n := c.modules
	if c.moduleFault {
		n--
	}
	if n <= 0 || c.b.estop {
		return hal.SupplyLimits{}
	}
	m := c.b.module
	return hal.SupplyLimits{MinVoltage: m.MinVoltage, MaxVoltage: m.MaxVoltage,
		MaxCurrent: physic.ElectricCurrent(n) * m.MaxCurrent, MaxPower: physic.Power(n) * m.MaxPower}
}

// evCurrent is the current the EV asks for at its SoC: MaxCurrent up to
// TaperFrom, then less, linearly, to 5 % of it at 100 %.
func (c *dconn) evCurrent() float64 {
	imax := toA(c.ev.MaxCurrent)
	soc := c.soc * 100
	if soc <= c.ev.TaperFrom {
		return imax
	}
	f := (100 - soc) / (100 - c.ev.TaperFrom)
	return imax * math.Max(0.05, f)
}

// request is what the EV tells the station now.
func (c *dconn) request() hal.VehicleRequest {
	if !c.plugged {
		return hal.VehicleRequest{SoC: -1}
	}
	r := hal.VehicleRequest{
		Communicating: true,
		Ready:         c.wantCharge && !c.full(),
		Closed:        c.evClosed,
		Stop:          c.full(),
		SoC:           int(c.soc*100 + 1e-9),
		MaxVoltage:    c.ev.MaxVoltage,
		MaxCurrent:    c.ev.MaxCurrent,
		MaxPower:      c.ev.MaxPower,
		TargetVoltage: c.ev.MaxVoltage,
	}
	switch c.report.Step {
	case hal.DCPreCharge:
		r.TargetVoltage = volts(c.ocv())
	case hal.DCCharging:
		r.TargetCurrent = amps(c.evCurrent())
	}
	return r
}

// isolation is the monitor's reading now.
func (c *dconn) isolation(now time.Time) hal.IsolationReading {
	if c.cableV < toV(hal.SafeVoltage) || now.Sub(c.stableSince) < isoMeasure {
		return hal.IsolationReading{}
	}
	r := hal.IsolationReading{Resistance: isoGood, Valid: true, At: now}
	if c.isoFault {
		r.Resistance = isoBad
	}
	return r
}

// openLocked commands c's contactors open; a welded one reports it.
func (b *DCBoard) openLocked(c *dconn, why string) {
	if !c.closed {
		return
	}
	c.closed = false
	b.log.Debug("DC contactor opened", "connector", c.id, "why", why)
	if c.welded {
		b.emit(hal.Event{Connector: c.id, Kind: hal.ContactorWelded, Detail: "feedback closed while commanded open (" + why + ")"})
	}
}

// advanceLocked steps the model up to now in Step increments (the last
// one shorter). b.mu is held.
func (b *DCBoard) advanceLocked() {
	now := b.clk.Now()
	for b.last.Before(now) {
		dt := min(b.step, now.Sub(b.last))
		b.last = b.last.Add(dt)
		for _, c := range b.conns {
			b.physics(c, b.last, dt.Seconds())
		}
	}
}

// physics advances c by dt seconds to now.
func (b *DCBoard) physics(c *dconn, now time.Time, dt float64) {
	lim := c.limits()
	energized := c.closed || c.welded
	connected := energized && c.evClosed
	ocv := c.ocv()
	r := float64(c.ev.Resistance) / float64(physic.Ohm)
	prevCable := c.cableV
	if !c.on || lim.MaxCurrent == 0 {
		c.outI = 0
		if connected {
			c.outV = ocv
		} else {
			c.outV = math.Max(0, c.outV-dcDischarge*dt)
		}
	} else {
		setV := math.Min(c.setV, toV(lim.MaxVoltage))
		if c.prechargeFault && c.report.Step == hal.DCPreCharge {
			setV -= 50
		}
		setI := math.Min(c.setI, toA(lim.MaxCurrent))
		if connected {
			i := math.Max(0, math.Min(setI, (setV-ocv)/r))
			if p := toW(lim.MaxPower); p > 0 {
				i = math.Min(i, p/math.Max(ocv, 1))
			}
			c.outI, c.outV = i, ocv+i*r
		} else {
			c.outI = 0
			switch d := setV - c.outV; {
			case math.Abs(d) <= dcSlew*dt:
				c.outV = setV
			case d > 0:
				c.outV += dcSlew * dt
			default:
				c.outV -= dcSlew * dt
			}
		}
	}
	switch {
	case energized:
		c.cableV = c.outV
	case c.evClosed:
		c.cableV = ocv
	default:
		c.cableV = math.Max(0, c.cableV-dcDischarge*dt)
	}
	if math.Abs(c.cableV-prevCable) > 1 {
		c.stableSince = now
	}
	p := physic.Power(c.outI * c.outV * float64(physic.Watt))
	c.battery.SetPower(now, p)
	c.delivered.SetPower(now, p)
	if c.plugged {
		capWh := float64(c.ev.Capacity) / float64(meter.WattHour)
		c.soc = c.ev.SoC/100 + c.battery.Import().Wh()/capWh
	}
	b.evLocked(c, now)
}

// evLocked runs the EV's decisions at now: close its contactors onto a
// precharge voltage that has matched the battery's for dcMatchFor, open
// them when the charge ends. b.mu is held.
func (b *DCBoard) evLocked(c *dconn, now time.Time) {
	rep := c.report
	matched := rep.Step == hal.DCPreCharge && math.Abs(c.cableV-c.ocv()) <= dcMatch && c.cableV > toV(hal.SafeVoltage)
	switch {
	case !matched:
		c.matchSince = time.Time{}
	case c.matchSince.IsZero():
		c.matchSince = now
	}
	switch {
	case !c.plugged:
		c.evClosed = false
	case c.evClosed && (rep.Stop || rep.Fault || !c.wantCharge || c.full() ||
		rep.Step != hal.DCPreCharge && rep.Step != hal.DCCharging):
		c.evClosed = false
		b.log.Debug("EV opened its contactors", "connector", c.id)
	case !c.evClosed && c.wantCharge && !c.full() && matched && !rep.Stop && now.Sub(c.matchSince) >= dcMatchFor:
		c.evClosed = true
		b.log.Debug("EV closed its contactors", "connector", c.id, "cable", c.cableV)
	}
}

// updateLocked derives the pilot state and the events after a change, and
// keeps the model's ticker running while anything is under way. b.mu is
// held.
func (b *DCBoard) updateLocked(c *dconn) {
	b.evLocked(c, b.last)
	var s hal.PilotState
	switch {
	case c.negative:
		s = hal.PilotF
	case !c.plugged:
		s = hal.PilotA
	case c.wantCharge && !c.full() && c.digital:
		s = hal.PilotC
	default:
		s = hal.PilotB
	}
	if s != c.sensed {
		c.sensed = s
		b.emit(hal.Event{Connector: c.id, Kind: hal.PilotChanged, Pilot: s})
	}
	req := c.request()
	if req.Communicating != c.lastReq.Communicating || req.Ready != c.lastReq.Ready ||
		req.Closed != c.lastReq.Closed || req.Stop != c.lastReq.Stop {
		b.emit(hal.Event{Connector: c.id, Kind: hal.VehicleChanged})
	}
	c.lastReq = req
	b.armLocked()
}

// busy reports whether the model must step.
func (b *DCBoard) busy() bool {
	for _, c := range b.conns {
		if c.plugged || c.on || c.outV > 0 || c.cableV > 0 || c.closed {
			return true
		}
	}
	return false
}

// armLocked keeps the step timer running while the board is busy.
func (b *DCBoard) armLocked() {
	if b.ticking || !b.busy() {
		return
	}
	b.ticking = true
	b.tickGen++
	gen := b.tickGen
	b.clk.AfterFunc(b.step, func() { b.tick(gen) })
}

// tick is the model's step timer.
func (b *DCBoard) tick(gen uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gen != b.tickGen {
		return
	}
	b.ticking = false
	b.advanceLocked()
	for _, c := range b.conns {
		b.updateLocked(c)
	}
}

// Delivered reports whether every event the board has raised was handed to
// Start's sink (or Run's): tests in virtual time wait for it before they
// look at the station.
func (b *DCBoard) Delivered() bool { return b.events.idle() }
