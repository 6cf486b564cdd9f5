package chademo

import (
	"errors"
	"fmt"
	"sync"

	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/physic"
)

// Output is one of the charger's sequence outputs (the driver of relay d1
// or d2). Set must not block longer than a pin write.
type Output interface {
	Set(on bool) error
}

// Lines are the CHAdeMO sequence wires at the charger's side of the
// connector (CHAdeMO / IEC 61851-23 annex AA; the pin numbers are the
// connector's):
//
//   - D1 is charge sequence signal 1 (pin 2): the charger's relay d1 puts
//     +12 V on it to start the charge; the EV wakes its CAN and, through
//     it, feeds its contactor drive.
//   - D2 is charge sequence signal 2 (pin 10): the charger's relay d2 pulls
//     it to ground once the insulation test has passed, completing the
//     EV's contactor drive: the EV may close its contactors.
//   - Permission is the vehicle charge permission (pin 4, the EV's switch
//     k): active once the EV has checked the charger's parameters and
//     allows the charge.
//   - Proximity is the connector proximity detection (pin 7, j): active
//     while the plug is in the inlet (the EV side ties it to ground).
//
// Every field is required: a board that wires CHAdeMO wires all four.
type Lines struct {
	D1, D2     Output
	Permission hal.Input
	Proximity  hal.Input
}

func (l *Lines) validate() error {
	if l.D1 == nil || l.D2 == nil || l.Permission == nil || l.Proximity == nil {
		return errors.New("chademo: lines need d1, d2, permission and proximity")
	}
	return nil
}

// Opener is what the plug's interlock needs of the DC contactors;
// hal.Contactor has it.
type Opener interface {
	Open() error
}

// lines is the Vehicle's state of its Lines; guarded by Vehicle.mu.
type lines struct {
	Lines
	d1, d2      bool // last commanded
	granted     bool // the permission line was seen active in this session
	unavailable bool // Plug.Unavailable: both off until the next Offer
	known       bool // d1 and d2 were written at least once
}

// want returns the d1 and d2 levels for the charger's report r: d1 from the
// session's start (Parameters) until the welding check is over, d2 from
// the precharge (the insulation test has passed) until the power down is
// over; both off on a fault and while the plug is unavailable.
func (l *lines) want(r hal.ChargerReport) (d1, d2 bool) {
	if l.unavailable || r.Fault {
		return false, false
	}
	switch r.Step {
	case hal.DCParameters, hal.DCCableCheck, hal.DCWeldingCheck:
		return true, false
	case hal.DCPreCharge, hal.DCCharging, hal.DCPowerDown:
		return true, true
	}
	return false, false
}

// drive writes d1 and d2 where they change; d2 is released before d1 and
// set after it, as the sequence has them.
func (l *lines) drive(d1, d2 bool) error {
	var errs []error
	set := func(o Output, cur *bool, on bool, name string) {
		if l.known && *cur == on {
			return
		}
		if err := o.Set(on); err != nil {
			errs = append(errs, fmt.Errorf("chademo %s: %w", name, err))
			return
		}
		*cur = on
	}
	if !d2 {
		set(l.D2, &l.d2, false, "d2")
	}
	set(l.D1, &l.d1, d1, "d1")
	if d2 {
		set(l.D2, &l.d2, true, "d2")
	}
	if len(errs) == 0 {
		l.known = true
	}
	return errors.Join(errs...)
}

// Plug presents a CHAdeMO connector's lines to the station as its
// hal.Pilot (CHAdeMO has no control pilot): A while the proximity line
// says unplugged, B while plugged in, C once the EV also gives its charge
// permission. Offer and Unavailable do not drive a CP: Unavailable holds
// d1 and d2 off (a fault, or the connector unavailable) until the next
// Offer. Poll reads the lines; a board runs it with its other inputs
// (relay.Watch) after polling the inputs themselves. Safe for concurrent
// use.
type Plug struct {
	v *Vehicle

	mu        sync.Mutex // guards state and interlock
	state     hal.PilotState
	interlock Opener
}

var _ hal.Pilot = (*Plug)(nil)

// Plug returns the Vehicle's plug, nil when Options.Lines is nil.
func (v *Vehicle) Plug() *Plug { return v.plug }

// SetInterlock makes Poll open c as soon as the state leaves C (the
// permission withdrawn or the plug pulled), before the event is reported:
// the driver-level interlock of the DC contactors.
func (p *Plug) SetInterlock(c Opener) {
	p.mu.Lock()
	p.interlock = c
	p.mu.Unlock()
}

// read is the state the lines show now.
func (p *Plug) read() hal.PilotState {
	l := p.v.o.Lines
	switch {
	case !l.Proximity.Active():
		return hal.PilotA
	case !l.Permission.Active():
		return hal.PilotB
	}
	return hal.PilotC
}

// String implements hal.Resource.
func (p *Plug) String() string { return fmt.Sprintf("CHAdeMO plug at connector %d", p.v.o.Connector) }

// Halt implements hal.Resource: d1 and d2 off, as Unavailable.
func (p *Plug) Halt() error { return p.Unavailable() }

// State implements hal.Pilot: the state Poll last saw.
func (p *Plug) State() hal.PilotState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// Offer implements hal.Pilot: CHAdeMO has no current offer on a wire (the
// charger's maximum current goes in 0x108); it ends Unavailable.
func (p *Plug) Offer(physic.ElectricCurrent) error {
	v := p.v
	v.mu.Lock()
	defer v.mu.Unlock()
	v.lines.unavailable = false
	return v.lines.drive(v.lines.want(v.rep))
}

// Unavailable implements hal.Pilot: d1 and d2 off until the next Offer.
func (p *Plug) Unavailable() error {
	v := p.v
	v.mu.Lock()
	defer v.mu.Unlock()
	v.lines.unavailable = true
	return v.lines.drive(false, false)
}

// Poll reads the lines and returns a PilotChanged event when the state
// changed. Leaving C opens the interlocked contactors first; the plug
// pulled (A) also forgets the EV's permission history (ResetSession).
func (p *Plug) Poll() []hal.Event {
	s := p.read()
	p.mu.Lock()
	was, k := p.state, p.interlock
	p.state = s
	p.mu.Unlock()
	if s == was {
		return nil
	}
	if was == hal.PilotC && k != nil {
		if err := k.Open(); err != nil {
			p.v.o.Logger.Error("CHAdeMO interlock: contactors did not open", "connector", p.v.o.Connector, "err", err)
		}
	}
	switch s {
	case hal.PilotA:
		p.v.ResetSession()
	case hal.PilotC:
		p.v.mu.Lock()
		p.v.lines.granted = true
		p.v.mu.Unlock()
	}
	return []hal.Event{{Connector: p.v.o.Connector, Kind: hal.PilotChanged, Pilot: s,
		Detail: "CHAdeMO proximity and permission lines"}}
}
