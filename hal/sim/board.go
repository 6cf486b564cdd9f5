package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	metersim "github.com/evsed/evsed/meter/sim"
	"periph.io/x/conn/v3/physic"
)

// Errors of the control methods, wrapped with detail; test with errors.Is.
var (
	// ErrNoConnector means a connector number outside 1..N.
	ErrNoConnector = errors.New("hal/sim: no such connector")
	// ErrTransition means the EV cannot do that now (Charge while unplugged,
	// Plug while plugged in).
	ErrTransition = errors.New("hal/sim: invalid transition")
	// ErrFaultKind means a fault kind other than those of FaultKind.
	ErrFaultKind = errors.New("hal/sim: unknown fault kind")
	// ErrRunning means Run or Start was called while the board runs (a
	// Run not returned, a Start not stopped).
	ErrRunning = errors.New("hal/sim: board already running")
)

// FaultKind is a fault the simulator can inject, by the names the CLI and the
// local API use.
type FaultKind string

// Fault kinds.
const (
	// FaultRCD trips the connector's RCD: RCDTripped event, RCD.Tripped true,
	// contactor opened by the driver.
	FaultRCD FaultKind = "rcd"
	// FaultWeld welds the contactor: it stays electrically closed whatever
	// its command; ContactorWelded is reported when it is commanded open (at
	// once if it is open already).
	FaultWeld FaultKind = "weld"
	// FaultDiode reports a missing or shorted EV diode: DiodeFault event,
	// contactor opened by the driver.
	FaultDiode FaultKind = "diode"
	// FaultMeter makes the connector's meter fail every read with
	// meter.ErrNoResponse. It has no hal event: the station notices by
	// reading.
	FaultMeter FaultKind = "meter"
	// FaultClear clears every fault of the connector and reports
	// FaultCleared (Cleared 0: all kinds).
	FaultClear FaultKind = "clear"
)

// ForceOpenDelay is how long the contactor driver keeps the contactor closed
// after the PWM stopped while the EV stays in C (IEC 61851-1: the EV has 6 s
// to stop drawing current).
const ForceOpenDelay = 6 * time.Second

// maxQueued bounds the events waiting for Run; beyond it new events are
// dropped (and the loss logged), so that a board nobody runs cannot grow
// without bound.
const maxQueued = 4096

// EV describes the simulated vehicle at a connector. Zero fields mean the
// defaults.
type EV struct {
	// MaxCurrent is the most the EV draws per phase; 0 means 32 A.
	MaxCurrent physic.ElectricCurrent
	// Phases is how many phases the EV charges on, 1-3; 0 means 3. It
	// draws on min(Phases, connector phases).
	Phases int
	// Capacity is the energy after which the EV, full, goes back to B by
	// itself, counted from when it was plugged in; 0 means never.
	Capacity meter.Energy
}

// withDefaults checks e and fills its zero fields.
func (e EV) withDefaults() (EV, error) {
	switch {
	case e.MaxCurrent < 0:
		return e, fmt.Errorf("hal/sim: negative EV max current %v", e.MaxCurrent)
	case e.Phases < 0 || e.Phases > 3:
		return e, fmt.Errorf("hal/sim: EV phases %d, want 1-3", e.Phases)
	case e.Capacity < 0:
		return e, fmt.Errorf("hal/sim: negative EV capacity %v", e.Capacity)
	}
	if e.MaxCurrent == 0 {
		e.MaxCurrent = 32 * physic.Ampere
	}
	if e.Phases == 0 {
		e.Phases = 3
	}
	return e, nil
}

// Options configure a Board. The zero value is the default "sim" board: 2
// connectors of 32 A on 3 phases at 230 V, each with a 32 A three-phase EV of
// unlimited capacity, meters starting at 0, on the wall clock.
type Options struct {
	// Name is what Name returns; "" means "sim".
	Name string
	// Connectors is the number of outlets; 0 means 2.
	Connectors int
	// MaxCurrent is each outlet's rating per phase, 6-80 A; 0 means 32 A.
	// Pilot.Offer clamps to it.
	MaxCurrent physic.ElectricCurrent
	// Phases is each outlet's number of phases, 1 or 3; 0 means 3.
	Phases int
	// Voltage is the supply's nominal phase-to-neutral voltage; 0 means 230 V.
	Voltage physic.ElectricPotential
	// EV is the vehicle model of every connector (see SetEV to change one).
	EV EV
	// MeterStart is every meter's initial import register.
	MeterStart meter.Energy
	// Clock is the time base; nil means the wall clock.
	Clock clock.Clock
	// Logger receives debug logs of the simulation; nil means slog.Default().
	Logger *slog.Logger
}

// output is what the pilot generator drives.
type output uint8

const (
	outStandby  output = iota // steady +12 V, no PWM
	outPWM                    // 1 kHz PWM offering conn.offer
	outNegative               // steady -12 V: state F, EVSE not available
)

// conn is one simulated outlet. The fields after the first block are guarded
// by Board.mu.
type conn struct {
	id         int
	maxCurrent physic.ElectricCurrent
	phases     int
	meter      *metersim.Meter
	hal        hal.Connector

	ev           EV
	out          output
	offer        physic.ElectricCurrent // with outPWM: the current offered (>= 6 A)
	plugged      bool
	wantCharge   bool // the EV asks for energy (Charge, not yet Pause)
	evReady      bool // the EV presents C
	full         bool // the battery reached ev.Capacity since plug-in
	sensed       hal.PilotState
	closed       bool // commanded state of the contactor
	welded       bool
	rcd          bool
	diode        bool
	meterFail    bool
	locked       bool
	shown        hal.Indication
	meas         metersim.Measurement // what the meter was last told
	battery      metersim.Integrator  // energy into the EV since plug-in
	batteryTimer clock.Timer          // fires when the battery is due full; nil when none
	batteryGen   uint64               // invalidates stale battery timer callbacks
	forceTimer   clock.Timer          // the 6 s rule; nil when not armed
	forceGen     uint64               // invalidates stale force-open callbacks
}

// Board is a simulated EVSE board. Build it with New; it is safe for
// concurrent use.
type Board struct {
	name     string
	clk      clock.Clock
	log      *slog.Logger
	voltage  physic.ElectricPotential
	conns    []*conn // index id-1; the slice is immutable
	halConns []hal.Connector

	// mu guards the mutable fields of every conn. It is never held while
	// calling the sink; the meters' locks nest inside it.
	mu sync.Mutex

	qmu     sync.Mutex // guards queue, dropped, running, sink and pumping
	queue   []hal.Event
	dropped int
	running bool
	wake    chan struct{} // capacity 1: the queue may be non-empty
	// sink is the sink of Start, nil unless started; pumping says a pump
	// goroutine is delivering to it (it alone, so events stay in order).
	sink    hal.Sink
	pumping bool
	pumpWG  sync.WaitGroup // the pump goroutine, if any
}

var _ hal.Board = (*Board)(nil)

// New builds a board from o. Nothing runs until Run; the control methods and
// hal parts work before it, their events waiting in the queue.
func New(o Options) (*Board, error) {
	if o.Connectors < 0 {
		return nil, fmt.Errorf("hal/sim: %d connectors", o.Connectors)
	}
	if o.Connectors == 0 {
		o.Connectors = 2
	}
	if o.MaxCurrent == 0 {
		o.MaxCurrent = 32 * physic.Ampere
	}
	if o.MaxCurrent < hal.MinOffer || o.MaxCurrent > hal.MaxOffer {
		return nil, fmt.Errorf("hal/sim: connector max current %v, want 6-80 A", o.MaxCurrent)
	}
	if o.Phases == 0 {
		o.Phases = 3
	}
	if o.Phases != 1 && o.Phases != 3 {
		return nil, fmt.Errorf("hal/sim: %d phases, want 1 or 3", o.Phases)
	}
	if o.Voltage == 0 {
		o.Voltage = 230 * physic.Volt
	}
	if o.Voltage < 0 {
		return nil, fmt.Errorf("hal/sim: negative voltage %v", o.Voltage)
	}
	ev, err := o.EV.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.Name == "" {
		o.Name = "sim"
	}
	b := &Board{
		name:    o.Name,
		clk:     clock.Or(o.Clock),
		log:     o.Logger,
		voltage: o.Voltage,
		wake:    make(chan struct{}, 1),
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	b.log = b.log.With("board", o.Name)
	now := b.clk.Now()
	for id := 1; id <= o.Connectors; id++ {
		c := &conn{id: id, maxCurrent: o.MaxCurrent, phases: o.Phases, ev: ev, sensed: hal.PilotA}
		c.meas = b.measure(c)
		c.meter, err = metersim.New(metersim.Options{
			Name:    fmt.Sprintf("%s meter %d", o.Name, id),
			Clock:   b.clk,
			Start:   o.MeterStart,
			Initial: c.meas,
		})
		if err != nil {
			return nil, fmt.Errorf("hal/sim: connector %d: %w", id, err)
		}
		c.battery.Reset(now, 0, 0)
		c.hal = hal.Connector{
			ID:         id,
			Pilot:      &pilot{b, c},
			Contactor:  &contactor{b, c},
			Lock:       &lock{b, c},
			RCD:        &rcd{b, c},
			Indicator:  &indicator{b, c},
			MaxCurrent: o.MaxCurrent,
			Phases:     o.Phases,
		}
		b.conns = append(b.conns, c)
		b.halConns = append(b.halConns, c.hal)
	}
	return b, nil
}

// String implements hal.Board.
func (b *Board) String() string { return "board " + b.name }

// Name implements hal.Board.
func (b *Board) Name() string { return b.name }

// Connectors implements hal.Board.
func (b *Board) Connectors() []hal.Connector { return b.halConns }

// Meter returns connector n's simulated meter, or nil when there is no such
// connector. It lives as long as the board.
func (b *Board) Meter(n int) *metersim.Meter {
	if n < 1 || n > len(b.conns) {
		return nil
	}
	return b.conns[n-1].meter
}

// Halt implements hal.Board: every contactor is commanded open, every pilot
// drives -12 V, every indicator goes off. Locks stay as they are.
func (b *Board) Halt() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		b.openLocked(c, "halt")
		c.out, c.offer = outNegative, 0
		c.shown = hal.ShowOff
		b.update(c)
	}
	return nil
}

// Run implements hal.Board. It delivers the events queued before it, then
// reports every connector's current CP state (Detail "initial state"), then
// delivers events in order until ctx ends, and returns nil then. Only one Run
// (or Start) may run at a time; the sink is called from Run's goroutine only.
func (b *Board) Run(ctx context.Context, sink hal.Sink) error {
	if sink == nil {
		return errors.New("hal/sim: nil sink")
	}
	b.qmu.Lock()
	if b.running {
		b.qmu.Unlock()
		return ErrRunning
	}
	b.running = true
	b.qmu.Unlock()
	defer func() {
		b.qmu.Lock()
		b.running = false
		b.qmu.Unlock()
	}()

	b.mu.Lock()
	for _, c := range b.conns {
		b.emit(hal.Event{Connector: c.id, Kind: hal.PilotChanged, Pilot: c.sensed, Detail: "initial state"})
	}
	b.mu.Unlock()

	for {
		b.qmu.Lock()
		evs, dropped := b.queue, b.dropped
		b.queue, b.dropped = nil, 0
		b.qmu.Unlock()
		if dropped > 0 {
			b.log.Warn("simulated events dropped: queue full", "dropped", dropped)
		}
		for _, e := range evs {
			sink(e)
		}
		if len(evs) > 0 {
			continue // more may have arrived while the sink ran
		}
		select {
		case <-ctx.Done():
			return nil
		case <-b.wake:
		}
	}
}

// Start delivers events to sink as Run does (the queued ones, then every
// connector's current CP state, then each one in order), but from a
// goroutine that runs only while events are pending, rather than from a
// goroutine kept waiting for them: a fleet of thousands of simulated boards,
// each reporting a few events an hour, then costs no goroutine stack for
// them. The sink is called from one goroutine at a time, never with the
// board's locks held, so it may block (a full station inbox).
//
// stop ends the delivery: events that were not handed to the sink stay
// queued, and stop waits for a sink call in progress to return. Only one
// Run or Start may be active at a time; after stop, Run or Start may be
// called again.
func (b *Board) Start(sink hal.Sink) (stop func(), err error) {
	if sink == nil {
		return nil, errors.New("hal/sim: nil sink")
	}
	b.qmu.Lock()
	if b.running {
		b.qmu.Unlock()
		return nil, ErrRunning
	}
	b.running = true
	b.sink = sink
	b.qmu.Unlock()

	// The first of these starts the pump, which delivers the events queued
	// before Start ahead of them.
	b.mu.Lock()
	for _, c := range b.conns {
		b.emit(hal.Event{Connector: c.id, Kind: hal.PilotChanged, Pilot: c.sensed, Detail: "initial state"})
	}
	b.mu.Unlock()

	var once sync.Once
	return func() {
		once.Do(func() {
			b.qmu.Lock()
			b.sink = nil
			b.qmu.Unlock()
			b.pumpWG.Wait()
			b.qmu.Lock()
			b.running = false
			b.qmu.Unlock()
		})
	}, nil
}

// startPumpLocked starts the pump goroutine unless it runs; b.qmu is held.
func (b *Board) startPumpLocked() {
	if b.pumping || b.sink == nil {
		return
	}
	b.pumping = true
	b.pumpWG.Add(1)
	go b.pump()
}

// pump hands the queued events to Start's sink, oldest first, one at a
// time (so that stop leaves the rest queued), and ends when the queue is
// empty or Start's stop was called.
func (b *Board) pump() {
	defer b.pumpWG.Done()
	for {
		b.qmu.Lock()
		sink, dropped := b.sink, b.dropped
		if sink == nil || len(b.queue) == 0 && dropped == 0 {
			b.pumping = false
			if len(b.queue) == 0 {
				b.queue = nil // an idle board keeps no backlog array
			}
			b.qmu.Unlock()
			return
		}
		b.dropped = 0
		var e hal.Event
		ok := len(b.queue) > 0
		if ok {
			e = b.queue[0]
			b.queue[0] = hal.Event{}
			b.queue = b.queue[1:]
		}
		b.qmu.Unlock()
		if dropped > 0 {
			b.log.Warn("simulated events dropped: queue full", "dropped", dropped)
		}
		if ok {
			sink(e)
		}
	}
}

// emit queues e for Run or Start. It never blocks; b.mu is held by the
// caller, so the queue's order is the order of the state changes.
func (b *Board) emit(e hal.Event) {
	b.qmu.Lock()
	if len(b.queue) >= maxQueued {
		b.dropped++
	} else {
		b.queue = append(b.queue, e)
	}
	b.startPumpLocked()
	b.qmu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// conn returns connector n or an ErrNoConnector error.
func (b *Board) conn(n int) (*conn, error) {
	if n < 1 || n > len(b.conns) {
		return nil, fmt.Errorf("%w: %d (have 1-%d)", ErrNoConnector, n, len(b.conns))
	}
	return b.conns[n-1], nil
}

// do runs f on connector n under b.mu and brings the model up to date.
func (b *Board) do(n int, f func(c *conn) error) error {
	c, err := b.conn(n)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := f(c); err != nil {
		return err
	}
	b.update(c)
	return nil
}

// Plug plugs an EV into connector n: CP goes A -> B. The EV's battery count
// starts at 0.
func (b *Board) Plug(n int) error {
	return b.do(n, func(c *conn) error {
		if c.plugged {
			return fmt.Errorf("%w: connector %d: already plugged in", ErrTransition, n)
		}
		c.plugged, c.wantCharge, c.full = true, false, false
		c.battery.Reset(b.clk.Now(), 0, 0)
		b.log.Debug("EV plugged in", "connector", n)
		return nil
	})
}

// Charge makes the EV at connector n ask for energy: it goes to C as soon as
// the pilot offers PWM (at once if it does). Charging an EV that already
// asks is not an error.
func (b *Board) Charge(n int) error {
	return b.do(n, func(c *conn) error {
		switch {
		case !c.plugged:
			return fmt.Errorf("%w: connector %d: no EV plugged in", ErrTransition, n)
		case c.full:
			return fmt.Errorf("%w: connector %d: the EV's battery is full", ErrTransition, n)
		}
		c.wantCharge = true
		b.log.Debug("EV asks for energy", "connector", n)
		return nil
	})
}

// Pause makes the EV at connector n stop asking for energy: back to B.
// Pausing an EV that does not ask is not an error.
func (b *Board) Pause(n int) error {
	return b.do(n, func(c *conn) error {
		if !c.plugged {
			return fmt.Errorf("%w: connector %d: no EV plugged in", ErrTransition, n)
		}
		c.wantCharge = false
		b.log.Debug("EV pauses", "connector", n)
		return nil
	})
}

// Unplug removes the EV from connector n: CP goes to A from wherever it was.
func (b *Board) Unplug(n int) error {
	return b.do(n, func(c *conn) error {
		if !c.plugged {
			return fmt.Errorf("%w: connector %d: no EV plugged in", ErrTransition, n)
		}
		c.plugged, c.wantCharge = false, false
		b.log.Debug("EV unplugged", "connector", n)
		return nil
	})
}

// Swipe presents the card idTag at connector n's reader: a CardPresented
// event.
func (b *Board) Swipe(n int, idTag string) error {
	return b.do(n, func(c *conn) error {
		if idTag == "" {
			return fmt.Errorf("hal/sim: connector %d: empty id tag", n)
		}
		b.emit(hal.Event{Connector: n, Kind: hal.CardPresented, IDTag: idTag})
		return nil
	})
}

// Fault injects (or, with FaultClear, clears) a fault at connector n.
// Injecting a fault that is active already changes nothing and reports
// nothing.
func (b *Board) Fault(n int, kind FaultKind) error {
	return b.do(n, func(c *conn) error {
		switch kind {
		case FaultRCD:
			if c.rcd {
				return nil
			}
			c.rcd = true
			b.emit(hal.Event{Connector: n, Kind: hal.RCDTripped, Detail: "simulated residual current"})
			b.openLocked(c, "RCD tripped")
		case FaultWeld:
			if c.welded {
				return nil
			}
			c.welded = true
			if !c.closed {
				b.emit(hal.Event{Connector: n, Kind: hal.ContactorWelded, Detail: "feedback closed while commanded open"})
			}
		case FaultDiode:
			if c.diode {
				return nil
			}
			c.diode = true
			b.emit(hal.Event{Connector: n, Kind: hal.DiodeFault, Detail: "simulated diode fault"})
			b.openLocked(c, "diode fault")
		case FaultMeter:
			c.meterFail = true
			c.meter.Fail(true)
		case FaultClear:
			c.rcd, c.welded, c.diode, c.meterFail = false, false, false, false
			c.meter.Fail(false)
			b.emit(hal.Event{Connector: n, Kind: hal.FaultCleared, Detail: "simulated faults cleared"})
		default:
			return fmt.Errorf("%w: %q (want rcd, weld, diode, meter or clear)", ErrFaultKind, kind)
		}
		b.log.Debug("simulated fault", "connector", n, "kind", string(kind))
		return nil
	})
}

// SetEV replaces the EV model of connector n; the battery count is kept.
func (b *Board) SetEV(n int, ev EV) error {
	ev, err := ev.withDefaults()
	if err != nil {
		return err
	}
	return b.do(n, func(c *conn) error {
		c.ev = ev
		return nil
	})
}

// ConnectorState is a snapshot of one simulated connector, for the local API
// and tests.
type ConnectorState struct {
	Plugged    bool
	Charging   bool // the EV asks for energy (Charge, not yet Pause or full)
	Full       bool // the EV's battery reached its capacity
	Pilot      hal.PilotState
	PWM        bool                   // the pilot runs PWM
	Offered    physic.ElectricCurrent // what the EV reads from the duty cycle; 0 without PWM
	Closed     bool                   // the contactor's commanded state
	Energized  bool                   // electrically closed: commanded or welded
	Welded     bool
	RCDTripped bool
	DiodeFault bool
	MeterFault bool
	Locked     bool
	Indication hal.Indication
	Power      physic.Power // what the EV draws
	EVEnergy   meter.Energy // into the EV since plug-in
	Meter      metersim.Measurement
}

// State returns a snapshot of connector n.
func (b *Board) State(n int) (ConnectorState, error) {
	c, err := b.conn(n)
	if err != nil {
		return ConnectorState{}, err
	}
	now := b.clk.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	c.battery.Advance(now)
	offered, _ := evOffered(c)
	return ConnectorState{
		Plugged:    c.plugged,
		Charging:   c.wantCharge && !c.full,
		Full:       c.full,
		Pilot:      c.sensed,
		PWM:        c.out == outPWM,
		Offered:    offered,
		Closed:     c.closed,
		Energized:  c.closed || c.welded,
		Welded:     c.welded,
		RCDTripped: c.rcd,
		DiodeFault: c.diode,
		MeterFault: c.meterFail,
		Locked:     c.locked,
		Indication: c.shown,
		Power:      c.meas.Power(),
		EVEnergy:   c.battery.Import(),
		Meter:      c.meas,
	}, nil
}

// Power returns what the EV at connector n draws now; 0 for a connector
// that does not exist.
func (b *Board) Power(n int) physic.Power {
	return b.Measurement(n).Power()
}

// Measurement returns the voltage and current per phase at connector n's
// meter (the supply voltage on every wired phase, the EV's current on the
// phases it draws on); the zero value for a connector that does not exist.
func (b *Board) Measurement(n int) metersim.Measurement {
	c, err := b.conn(n)
	if err != nil {
		return metersim.Measurement{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return c.meas
}

// evOffered returns the current the EV reads from the pilot: the current of
// the duty cycle (quantized as a real EV decodes it), or false without PWM.
func evOffered(c *conn) (physic.ElectricCurrent, bool) {
	if c.out != outPWM {
		return 0, false
	}
	d, ok := hal.DutyFor(c.offer)
	if !ok {
		return 0, false
	}
	return hal.CurrentFor(d)
}

// sense returns the CP state the pilot's ADC would see.
func sense(c *conn) hal.PilotState {
	switch {
	case c.out == outNegative:
		return hal.PilotF // -12 V driven: the EV's resistors do not show
	case !c.plugged:
		return hal.PilotA
	case c.evReady:
		return hal.PilotC
	default:
		return hal.PilotB
	}
}

// measure returns what c's meter sees: supply voltage on the wired phases,
// and the EV's current while it is in C/D behind an electrically closed
// contactor.
func (b *Board) measure(c *conn) metersim.Measurement {
	m := metersim.Measurement{Phases: c.phases}
	for i := range c.phases {
		m.Voltage[i] = b.voltage
	}
	if !c.sensed.VehicleReady() || !(c.closed || c.welded) {
		return m
	}
	a, ok := evOffered(c)
	if !ok {
		return m
	}
	a = min(a, c.ev.MaxCurrent)
	for i := range min(c.ev.Phases, c.phases) {
		m.Current[i] = a
	}
	return m
}

// openLocked commands c's contactor open, as the station or the driver's
// own safety path does; a welded contactor reports it. b.mu is held.
func (b *Board) openLocked(c *conn, why string) {
	if !c.closed {
		return
	}
	c.closed = false
	b.log.Debug("contactor opened", "connector", c.id, "why", why)
	if c.welded {
		b.emit(hal.Event{Connector: c.id, Kind: hal.ContactorWelded, Detail: "feedback closed while commanded open (" + why + ")"})
	}
}

// update brings c's derived state up to date after any change: battery, the
// EV's CP state, the driver's safety reactions, the meter and the timers.
// b.mu is held.
func (b *Board) update(c *conn) {
	now := b.clk.Now()

	c.battery.Advance(now)
	if c.plugged && !c.full && c.ev.Capacity > 0 && c.battery.Import() >= c.ev.Capacity {
		c.full = true
		b.log.Debug("EV battery full", "connector", c.id, "energy", c.battery.Import())
	}

	switch {
	case !c.plugged || !c.wantCharge || c.full:
		c.evReady = false
	case c.out == outPWM:
		c.evReady = true // an EV waiting in B goes to C when PWM appears
	}

	if s := sense(c); s != c.sensed {
		old := c.sensed
		c.sensed = s
		b.emit(hal.Event{Connector: c.id, Kind: hal.PilotChanged, Pilot: s})
		if old.VehicleReady() && !s.VehicleReady() {
			// The driver's fast path: no waiting for the station.
			b.openLocked(c, "pilot "+old.String()+"->"+s.String())
		}
	}

	// The 6 s rule: armed once when the PWM stops under a closed contactor
	// while the EV stays in C, disarmed when any of that ends.
	forceDue := c.closed && c.sensed.VehicleReady() && c.out != outPWM
	switch {
	case forceDue && c.forceTimer == nil:
		c.forceGen++
		gen := c.forceGen
		c.forceTimer = b.clk.AfterFunc(ForceOpenDelay, func() { b.forceOpen(c, gen) })
	case !forceDue && c.forceTimer != nil:
		c.forceTimer.Stop()
		c.forceTimer = nil
		c.forceGen++
	}

	if m := b.measure(c); m != c.meas {
		c.meas = m
		c.meter.Update(m)
	}
	c.battery.SetPower(now, c.meas.Power())

	if c.batteryTimer != nil {
		c.batteryTimer.Stop()
		c.batteryTimer = nil
	}
	c.batteryGen++
	if c.plugged && !c.full && c.ev.Capacity > 0 {
		if d, ok := c.battery.Until(c.ev.Capacity); ok {
			gen := c.batteryGen
			c.batteryTimer = b.clk.AfterFunc(d, func() { b.batteryDue(c, gen) })
		}
	}
}

// forceOpen is the 6 s rule's timer callback.
func (b *Board) forceOpen(c *conn, gen uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gen != c.forceGen || c.forceTimer == nil {
		return // disarmed (or re-armed) after this timer was set
	}
	c.forceTimer = nil
	c.forceGen++
	b.log.Warn("PWM stopped while the EV stays in C: contactor forced open", "connector", c.id, "after", ForceOpenDelay)
	b.openLocked(c, "PWM stopped for 6 s in C")
	b.update(c)
}

// batteryDue is the battery timer's callback: update sees that the battery
// is full, unless a later update superseded this timer.
func (b *Board) batteryDue(c *conn, gen uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gen != c.batteryGen {
		return
	}
	b.update(c)
}
