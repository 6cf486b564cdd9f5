package sim

import (
	"log/slog"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	metersim "github.com/evsed/evsed/meter/sim"
	"periph.io/x/conn/v3/physic"
)

// The electrical model of a connector: what the pilot drives and the EV
// presents, what the pilot's ADC senses, what the meter measures, and the
// driver's own safety reactions (the fast open when the CP leaves C/D, the
// 6 s rule). Every function here runs with Board.mu held, but for the timer
// callbacks (forceOpen, batteryDue), which take it.

// ForceOpenDelay is how long the contactor driver keeps the contactor closed
// after the PWM stopped while the EV stays in C (IEC 61851-1: the EV has 6 s
// to stop drawing current).
const ForceOpenDelay = 6 * time.Second

// output is what the pilot generator drives.
type output uint8

const (
	outStandby  output = iota // steady +12 V, no PWM
	outPWM                    // 1 kHz PWM offering conn.offer
	outNegative               // steady -12 V: state F, EVSE not available
)

// conn is one simulated outlet. The fields after the first block are guarded
// by Board.mu.
//
// A fleet simulator builds thousands of connectors, so conn is kept small
// (88 B on 64-bit): what is the same for every outlet of a board lives in
// Board, the measurement and the EV's energy are derived (measure,
// evEnergy) rather than kept, the EV's model is held in compact fields, and
// what most connectors never use (the timers, the display's texts) is
// allocated on first use.
type conn struct {
	b     *Board
	meter *metersim.Meter

	offer physic.ElectricCurrent // with outPWM: the current offered (>= 6 A)
	// plugImport is the meter's import register when the EV was plugged in:
	// the EV's energy is what the meter counted since (evEnergy). The meter
	// sees the same power at the same instants as the EV would, so a second
	// integrator for the battery would only repeat it.
	plugImport meter.Energy
	// The EV model (see EV), its phases below.
	evMaxCurrent physic.ElectricCurrent
	evCapacity   meter.Energy
	timers       *connTimers // nil until a timer is first armed
	// screen holds the display's texts; nil while they are all empty (the
	// flags below say whether anything is shown).
	screen *screenText

	id            int32  // 1-based, immutable
	phaseSwitches uint32 // times the phase relay switched
	phases        uint8  // phases connected now: Board.wired, or 1 by the phase relay
	evPhases      uint8  // 1-3
	out           output
	sensed        hal.PilotState
	shown         hal.Indication
	display       displayFlags // what the display shows, with screen
	plugged       bool
	wantCharge    bool // the EV asks for energy (Charge, not yet Pause)
	evReady       bool // the EV presents C
	full          bool // the battery reached evCapacity since plug-in
	closed        bool // commanded state of the contactor
	welded        bool
	rcd           bool
	diode         bool
	meterFail     bool
	locked        bool
}

// connTimers are a connector's timers, allocated when one is first armed
// (most simulated connectors never arm one) and kept from then on, so that
// the generations stay monotonic. Guarded by Board.mu.
type connTimers struct {
	battery    clock.Timer // fires when the battery is due full; nil when none
	batteryGen uint64      // invalidates stale battery timer callbacks
	force      clock.Timer // the 6 s rule; nil when not armed
	forceGen   uint64      // invalidates stale force-open callbacks
}

// evEnergy returns the energy into the EV since it was plugged in (since
// New while none was). b.mu is held.
func (c *conn) evEnergy() meter.Energy { return c.meter.Energy() - c.plugImport }

// setEV makes ev (with defaults filled in) the model of c's EV.
func (c *conn) setEV(ev EV) {
	c.evMaxCurrent, c.evCapacity, c.evPhases = ev.MaxCurrent, ev.Capacity, uint8(ev.Phases)
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
	m := metersim.Measurement{Phases: int(c.phases)}
	for i := range m.Phases {
		m.Voltage[i] = b.voltage
	}
	if !c.sensed.VehicleReady() || !(c.closed || c.welded) {
		return m
	}
	a, ok := evOffered(c)
	if !ok {
		return m
	}
	a = min(a, c.evMaxCurrent)
	for i := range min(c.evPhases, c.phases) {
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
	b.debug("contactor opened", "connector", c.id, "why", why)
	if c.welded {
		b.emit(hal.Event{Connector: int(c.id), Kind: hal.ContactorWelded, Detail: "feedback closed while commanded open (" + why + ")"})
	}
}

// update brings c's derived state up to date after any change: the battery,
// the EV's CP state, the driver's safety reactions, the meter and the
// timers.
// b.mu is held.
func (b *Board) update(c *conn) {
	if c.plugged && !c.full && c.evCapacity > 0 {
		if e := c.evEnergy(); e >= c.evCapacity {
			c.full = true
			b.debug("EV battery full", "connector", c.id, "energy", e)
		}
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
		b.emit(hal.Event{Connector: int(c.id), Kind: hal.PilotChanged, Pilot: s})
		if old.VehicleReady() && !s.VehicleReady() {
			// The driver's fast path: no waiting for the station.
			b.openLocked(c, "pilot "+old.String()+"->"+s.String())
		}
	}

	// The 6 s rule: armed once when the PWM stops under a closed contactor
	// while the EV stays in C, disarmed when any of that ends.
	t := c.timers
	forceDue := c.closed && c.sensed.VehicleReady() && c.out != outPWM
	switch {
	case forceDue && (t == nil || t.force == nil):
		t = c.armTimers()
		t.forceGen++
		gen := t.forceGen
		t.force = b.clk.AfterFunc(ForceOpenDelay, func() { b.forceOpen(c, gen) })
	case !forceDue && t != nil && t.force != nil:
		t.force.Stop()
		t.force = nil
		t.forceGen++
	}

	// The meter is told on every update, changed or not: integrating an
	// unchanged power is exact, and so the connector keeps no copy of what
	// it last told the meter.
	c.meter.Update(b.measure(c))

	if t != nil {
		if t.battery != nil {
			t.battery.Stop()
			t.battery = nil
		}
		t.batteryGen++
	}
	if c.plugged && !c.full && c.evCapacity > 0 {
		if d, ok := c.meter.Until(c.plugImport + c.evCapacity); ok {
			t = c.armTimers()
			gen := t.batteryGen
			t.battery = b.clk.AfterFunc(d, func() { b.batteryDue(c, gen) })
		}
	}
}

// armTimers returns c's timers, allocating them on first use. b.mu is held.
func (c *conn) armTimers() *connTimers {
	if c.timers == nil {
		c.timers = new(connTimers)
	}
	return c.timers
}

// forceOpen is the 6 s rule's timer callback.
func (b *Board) forceOpen(c *conn, gen uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := c.timers
	if gen != t.forceGen || t.force == nil {
		return // disarmed (or re-armed) after this timer was set
	}
	t.force = nil
	t.forceGen++
	b.logAt(slog.LevelWarn, "PWM stopped while the EV stays in C: contactor forced open", "connector", c.id, "after", ForceOpenDelay)
	b.openLocked(c, "PWM stopped for 6 s in C")
	b.update(c)
}

// batteryDue is the battery timer's callback: update sees that the battery
// is full, unless a later update superseded this timer.
func (b *Board) batteryDue(c *conn, gen uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gen != c.timers.batteryGen {
		return
	}
	b.update(c)
}
