package sim

import (
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
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
type conn struct {
	b           *Board
	id          int
	maxCurrent  physic.ElectricCurrent
	wired       int  // phases wired to the outlet, 1 or 3
	phaseSwitch bool // a phase relay switches between 1 and wired
	meter       *metersim.Meter

	phases        int // phases connected now: wired, or 1 by the phase relay
	ev            EV
	out           output
	offer         physic.ElectricCurrent // with outPWM: the current offered (>= 6 A)
	plugged       bool
	wantCharge    bool // the EV asks for energy (Charge, not yet Pause)
	evReady       bool // the EV presents C
	full          bool // the battery reached ev.Capacity since plug-in
	sensed        hal.PilotState
	closed        bool // commanded state of the contactor
	welded        bool
	rcd           bool
	diode         bool
	meterFail     bool
	locked        bool
	shown         hal.Indication
	meas          metersim.Measurement // what the meter was last told
	battery       metersim.Integrator  // energy into the EV since plug-in
	batteryTimer  clock.Timer          // fires when the battery is due full; nil when none
	batteryGen    uint64               // invalidates stale battery timer callbacks
	forceTimer    clock.Timer          // the 6 s rule; nil when not armed
	forceGen      uint64               // invalidates stale force-open callbacks
	phaseSwitches int                  // times the phase relay switched
	// screen is what the connector's driver display shows; nil until the
	// station first shows something (a fleet builds thousands of
	// connectors that never do).
	screen *hal.Screen
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
