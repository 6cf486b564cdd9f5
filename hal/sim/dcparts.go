package sim

import (
	"context"
	"fmt"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// The hal parts of a simulated DC connector: handles on the DC board's
// model, each the connector under another type (as the AC parts are).
// Every method takes the board's lock and brings the model up to now.

type (
	dcPilot     dconn
	dcContactor dconn
	dcLock      dconn
	dcSupply    dconn
	dcIsolation dconn
	dcVehicle   dconn
	dcVoltmeter dconn
	dcEstop     DCBoard
	dcMeter     struct {
		c    *dconn
		name string
	}
)

var (
	_ hal.DigitalPilot      = (*dcPilot)(nil)
	_ hal.Contactor         = (*dcContactor)(nil)
	_ hal.ContactorFeedback = (*dcContactor)(nil)
	_ hal.Lock              = (*dcLock)(nil)
	_ hal.PowerSupply       = (*dcSupply)(nil)
	_ hal.IsolationMonitor  = (*dcIsolation)(nil)
	_ hal.Vehicle           = (*dcVehicle)(nil)
	_ hal.Voltmeter         = (*dcVoltmeter)(nil)
	_ hal.Input             = (*dcEstop)(nil)
	_ meter.Meter           = (*dcMeter)(nil)
)

// with runs f on c with the model up to now and derives the rest after.
func (c *dconn) with(f func()) {
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advanceLocked()
	f()
	b.updateLocked(c)
}

// read runs f on c with the model up to now.
func (c *dconn) read(f func()) {
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advanceLocked()
	f()
}

func (p *dcPilot) String() string { return fmt.Sprintf("%s connector %d pilot", p.b.name, p.id) }

// Halt implements hal.Resource: -12 V.
func (p *dcPilot) Halt() error { return p.Unavailable() }

// Offer implements hal.Pilot. A DC connector offers no AC current: any
// offer is a steady +12 V (no PWM), which a CCS EV reads as "not ready".
func (p *dcPilot) Offer(physic.ElectricCurrent) error {
	c := (*dconn)(p)
	c.with(func() { c.digital, c.negative = false, false })
	return nil
}

// Digital implements hal.DigitalPilot: 5 % duty; an EV asked to charge
// goes to C.
func (p *dcPilot) Digital() error {
	c := (*dconn)(p)
	c.with(func() { c.digital, c.negative = true, false })
	return nil
}

// Unavailable implements hal.Pilot: -12 V.
func (p *dcPilot) Unavailable() error {
	c := (*dconn)(p)
	c.with(func() { c.digital, c.negative = false, true })
	return nil
}

// State implements hal.Pilot.
func (p *dcPilot) State() hal.PilotState {
	c := (*dconn)(p)
	var s hal.PilotState
	c.read(func() { s = c.sensed })
	return s
}

func (k *dcContactor) String() string {
	return fmt.Sprintf("%s connector %d DC contactors", k.b.name, k.id)
}

// Halt implements hal.Resource: as Open.
func (k *dcContactor) Halt() error { return k.Open() }

// Close implements hal.Contactor. It refuses with hal.ErrInterlock unless
// the CP is in C and the emergency stop is released.
func (k *dcContactor) Close() error {
	c := (*dconn)(k)
	var err error
	c.with(func() {
		switch {
		case !c.sensed.VehicleReady():
			err = fmt.Errorf("%s: %w: pilot in %s", k, hal.ErrInterlock, c.sensed)
		case c.b.estop:
			err = fmt.Errorf("%s: %w: emergency stop", k, hal.ErrInterlock)
		default:
			c.closed = true
		}
	})
	return err
}

// Open implements hal.Contactor; a welded contactor keeps conducting and
// reports ContactorWelded.
func (k *dcContactor) Open() error {
	c := (*dconn)(k)
	c.with(func() { c.b.openLocked(c, "commanded") })
	return nil
}

// Closed implements hal.Contactor: the commanded state.
func (k *dcContactor) Closed() bool {
	c := (*dconn)(k)
	var v bool
	c.read(func() { v = c.closed })
	return v
}

// FeedbackClosed implements hal.ContactorFeedback: closed when commanded
// or welded.
func (k *dcContactor) FeedbackClosed() bool {
	c := (*dconn)(k)
	var v bool
	c.read(func() { v = c.closed || c.welded })
	return v
}

func (l *dcLock) String() string { return fmt.Sprintf("%s connector %d lock", l.b.name, l.id) }

// Halt implements hal.Resource; the lock stays as it is.
func (l *dcLock) Halt() error { return nil }

// Lock implements hal.Lock.
func (l *dcLock) Lock() error {
	c := (*dconn)(l)
	c.read(func() { c.locked = true })
	return nil
}

// Unlock implements hal.Lock.
func (l *dcLock) Unlock() error {
	c := (*dconn)(l)
	c.read(func() { c.locked = false })
	return nil
}

// Locked implements hal.Lock.
func (l *dcLock) Locked() bool {
	c := (*dconn)(l)
	var v bool
	c.read(func() { v = c.locked })
	return v
}

func (s *dcSupply) String() string {
	return fmt.Sprintf("%s connector %d power modules", s.b.name, s.id)
}

// Halt implements hal.Resource: as Off.
func (s *dcSupply) Halt() error { return s.Off() }

// Set implements hal.PowerSupply.
func (s *dcSupply) Set(v physic.ElectricPotential, i physic.ElectricCurrent) error {
	if v < 0 || i < 0 {
		return fmt.Errorf("%s: negative setpoint %v, %v", s, v, i)
	}
	c := (*dconn)(s)
	c.with(func() {
		lim := c.limits()
		c.on = lim.MaxCurrent > 0
		c.setV, c.setI = toV(min(v, lim.MaxVoltage)), toA(min(i, lim.MaxCurrent))
	})
	return nil
}

// Off implements hal.PowerSupply.
func (s *dcSupply) Off() error {
	c := (*dconn)(s)
	c.with(func() { c.on, c.setV, c.setI = false, 0, 0 })
	return nil
}

// Limits implements hal.PowerSupply.
func (s *dcSupply) Limits() hal.SupplyLimits {
	c := (*dconn)(s)
	var l hal.SupplyLimits
	c.read(func() { l = c.limits() })
	return l
}

// Output implements hal.PowerSupply.
func (s *dcSupply) Output() (physic.ElectricPotential, physic.ElectricCurrent) {
	c := (*dconn)(s)
	var v physic.ElectricPotential
	var i physic.ElectricCurrent
	c.read(func() { v, i = volts(c.outV), amps(c.outI) })
	return v, i
}

func (m *dcIsolation) String() string {
	return fmt.Sprintf("%s connector %d isolation monitor", m.b.name, m.id)
}

// Halt implements hal.Resource; nothing to make safe.
func (m *dcIsolation) Halt() error { return nil }

// Reading implements hal.IsolationMonitor: valid once the cable has held a
// voltage above 60 V steady for a second.
func (m *dcIsolation) Reading() hal.IsolationReading {
	c := (*dconn)(m)
	var r hal.IsolationReading
	c.read(func() { r = c.isolation(c.b.clk.Now()) })
	return r
}

func (v *dcVehicle) String() string { return fmt.Sprintf("%s connector %d EV", v.b.name, v.id) }

// Halt implements hal.Resource: the EV is told to stop.
func (v *dcVehicle) Halt() error {
	c := (*dconn)(v)
	c.with(func() { c.report.Stop = true })
	return nil
}

// Request implements hal.Vehicle.
func (v *dcVehicle) Request() hal.VehicleRequest {
	c := (*dconn)(v)
	var r hal.VehicleRequest
	c.read(func() { r = c.request() })
	return r
}

// Report implements hal.Vehicle.
func (v *dcVehicle) Report(r hal.ChargerReport) {
	c := (*dconn)(v)
	c.with(func() { c.report = r })
}

// Voltage implements hal.Voltmeter.
func (v *dcVoltmeter) Voltage() physic.ElectricPotential {
	c := (*dconn)(v)
	var x physic.ElectricPotential
	c.read(func() { x = volts(c.cableV) })
	return x
}

func (e *dcEstop) String() string { return e.name + " emergency stop" }

// Halt implements hal.Resource; nothing to make safe.
func (e *dcEstop) Halt() error { return nil }

// Active implements hal.Input: pressed.
func (e *dcEstop) Active() bool {
	b := (*DCBoard)(e)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.estop
}

// String implements meter.Meter.
func (m *dcMeter) String() string { return m.name }

// Read implements meter.Meter: a DC reading of the output (energy, power,
// voltage and current).
func (m *dcMeter) Read(ctx context.Context) (meter.Reading, error) {
	if err := ctx.Err(); err != nil {
		return meter.Reading{}, err
	}
	c := m.c
	var r meter.Reading
	var fail bool
	c.read(func() {
		now := c.b.clk.Now()
		c.delivered.Advance(now)
		fail = c.meterFail
		r = meter.Reading{
			Time:         now,
			Fields:       meter.FieldEnergyImport | meter.FieldPower | meter.FieldCurrent | meter.FieldVoltage,
			Phases:       1,
			DC:           true,
			EnergyImport: c.delivered.Import(),
			Power:        physic.Power(c.outI * c.cableV * float64(physic.Watt)),
		}
		r.Current[0], r.Voltage[0] = amps(c.outI), volts(c.cableV)
	})
	if fail {
		return meter.Reading{}, fmt.Errorf("%s: %w", m.name, meter.ErrNoResponse)
	}
	return r, nil
}
