package station

import (
	"errors"
	"fmt"
	"time"

	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/physic"
)

// The DC sequence (IEC 61851-23) of connectors with hal.Connector.DC set.
// It runs on the loop like everything else: applyConn hands a DC connector
// to applyDC, which reads the vehicle's request, the supply's output and
// the isolation monitor (cached values, no I/O), decides the step and
// commands the supply, the contactors, the lock and the pilot. While a step
// is under way a control tick (DCConfig.ControlPeriod) calls it again, so
// that timeouts and the current demand need no event.
//
// Plug-in and authorization are the station's ordinary session rules; once
// a durable, authorized session runs the sequence goes Parameters,
// CableCheck, PreCharge, Charging. Whatever ends the energy (the session
// ends, the vehicle stops, a step fails) goes PowerDown, WeldingCheck,
// Finished: the current falls to zero before the contactors open, and the
// plug is released only once the contactors are seen open and the cable
// below 60 V. A fault (emergency stop, insulation fault, supply fault, a
// welded contactor, any AC-side fault) skips the ramp: supply off and
// contactors open at once, and the session ends.

// DCConfig tunes the DC sequence. The zero value means each field's
// default.
type DCConfig struct {
	// ControlPeriod is how often the loop runs a DC connector's step while
	// one is under way; 0 means 100 ms.
	ControlPeriod time.Duration
	// ParameterTimeout bounds the wait for the vehicle's charge parameters
	// once the session runs (a vehicle that communicates but does not ask
	// for energy yet waits without limit, as an AC vehicle in B does); 0
	// means 60 s.
	ParameterTimeout time.Duration
	// CableCheckTimeout bounds the cable check; 0 means 30 s.
	CableCheckTimeout time.Duration
	// PreChargeTimeout bounds the precharge; 0 means 10 s.
	PreChargeTimeout time.Duration
	// PowerDownTimeout bounds the wait for the current to fall below
	// PowerDownCurrent and the vehicle to open its contactors; after it
	// the contactors open anyway. 0 means 3 s.
	PowerDownTimeout time.Duration
	// WeldingTimeout bounds the welding check: by then the contactor
	// feedback must say open and the cable be below 60 V, else the
	// connector faults (PowerSwitchFailure). 0 means 5 s.
	WeldingTimeout time.Duration
	// VehicleTimeout is how long the vehicle may stop communicating while
	// energy is under way; 0 means 2 s.
	VehicleTimeout time.Duration
	// TestCurrent is the current limit of the cable check and the
	// precharge; 0 means 2 A (DIN 70121's precharge limit).
	TestCurrent physic.ElectricCurrent
	// VoltageTolerance is how close the output must come to the cable
	// check voltage; 0 means 20 V.
	VoltageTolerance physic.ElectricPotential
	// PowerDownCurrent is the current below which the contactors may
	// open; 0 means 5 A.
	PowerDownCurrent physic.ElectricCurrent
	// IsolationWarning and IsolationFault are the insulation resistance
	// thresholds per volt of the connector's rated voltage (IEC 61851-23:
	// above 500 ohm/V valid, 100-500 ohm/V a warning, below 100 ohm/V a
	// fault): 0 means 500 ohm and 100 ohm, that is 500 and 100 ohm/V.
	IsolationWarning, IsolationFault physic.ElectricResistance
}

// withDefaults fills the zero fields.
func (d DCConfig) withDefaults() DCConfig {
	def := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&d.ControlPeriod, 100*time.Millisecond)
	def(&d.ParameterTimeout, 60*time.Second)
	def(&d.CableCheckTimeout, 30*time.Second)
	def(&d.PreChargeTimeout, 10*time.Second)
	def(&d.PowerDownTimeout, 3*time.Second)
	def(&d.WeldingTimeout, 5*time.Second)
	def(&d.VehicleTimeout, 2*time.Second)
	if d.TestCurrent <= 0 {
		d.TestCurrent = 2 * physic.Ampere
	}
	if d.VoltageTolerance <= 0 {
		d.VoltageTolerance = 20 * physic.Volt
	}
	if d.PowerDownCurrent <= 0 {
		d.PowerDownCurrent = 5 * physic.Ampere
	}
	if d.IsolationWarning <= 0 {
		d.IsolationWarning = 500 * physic.Ohm
	}
	if d.IsolationFault <= 0 {
		d.IsolationFault = 100 * physic.Ohm
	}
	return d
}

// DCReason says why the DC sequence ended a session, for SessionEnd and the
// status. Adapters map it: OCPP 2.0.1 stoppedReason StoppedByEV for
// DCEVStopped, GroundFault for DCIsolationFault, Timeout for the
// timeouts, EmergencyStop for DCEmergencyStop, and so on.
type DCReason string

// DC end reasons.
const (
	DCEVStopped         DCReason = "EVStopped"         // the vehicle asked to stop (full, or its driver)
	DCVehicleError      DCReason = "VehicleError"      // the vehicle reported a fault
	DCVehicleLost       DCReason = "VehicleLost"       // the vehicle stopped communicating
	DCParameterTimeout  DCReason = "ParameterTimeout"  // no charge parameters from the vehicle
	DCCableCheckTimeout DCReason = "CableCheckTimeout" // test voltage or isolation result not reached
	DCPreChargeTimeout  DCReason = "PreChargeTimeout"  // the vehicle did not close onto the matched voltage
	DCIsolationFault    DCReason = "IsolationFault"    // insulation resistance below the fault threshold
	DCEmergencyStop     DCReason = "EmergencyStop"     // an emergency stop button
	DCSupplyFault       DCReason = "SupplyFault"       // a power module failed
	DCWeldDetected      DCReason = "WeldDetected"      // a contactor did not open
	DCHardwareFault     DCReason = "HardwareFault"     // another fault of the connector
	DCPowerDownTimeout  DCReason = "PowerDownTimeout"  // the current did not fall in time: contactors opened under load
	DCContactorFailure  DCReason = "ContactorFailure"  // the contactors did not close
	DCLockFailure       DCReason = "LockFailure"       // the plug lock let go under voltage
	DCOvervoltage       DCReason = "Overvoltage"       // the output rose above the vehicle's maximum
	DCNoSupply          DCReason = "NoSupply"          // no power module online
)

// DCStatus is a DC connector's sequence state and values, in snapshots and
// samples.
type DCStatus struct {
	Step hal.DCStep
	// SoC is the vehicle's state of charge in percent; -1 when unknown.
	SoC int
	// TargetVoltage and TargetCurrent are what the vehicle asks for now;
	// PresentVoltage and PresentCurrent what the output delivers (the cable
	// voltage where the board measures it).
	TargetVoltage, PresentVoltage physic.ElectricPotential
	TargetCurrent, PresentCurrent physic.ElectricCurrent
	// OfferedCurrent and OfferedPower are the most the charger allows now:
	// the supply's and the connector's limits, and any limit of the back
	// end (OCPP Current.Offered and Power.Offered).
	OfferedCurrent physic.ElectricCurrent
	OfferedPower   physic.Power
	// Demanded is the current limit last commanded to the supply.
	Demanded physic.ElectricCurrent
	// Isolation is the latest valid insulation resistance (0 when none)
	// and IsolationStatus its classification.
	Isolation       physic.ElectricResistance
	IsolationStatus hal.IsolationStatus
	// EVMaxVoltage, EVMaxCurrent and EVMaxPower are the vehicle's limits.
	EVMaxVoltage physic.ElectricPotential
	EVMaxCurrent physic.ElectricCurrent
	EVMaxPower   physic.Power
	// Reason is why the sequence last ended a session on this connector;
	// "" until then, and again once the next session starts.
	Reason DCReason
}

// dcState is a DC connector's sequence state, owned by the loop.
type dcState struct {
	step  hal.DCStep
	since time.Time // when step was entered

	req   hal.VehicleRequest
	heard time.Time // when the vehicle was last seen communicating
	iso   hal.IsolationReading
	isoSt hal.IsolationStatus
	outV  physic.ElectricPotential // supply output
	outI  physic.ElectricCurrent
	cable physic.ElectricPotential // plug side: CableVoltage, else outV

	testV   physic.ElectricPotential // the cable check's test voltage
	reached time.Time                // when the output reached testV; zero before
	maxV    physic.ElectricPotential // the most the output may be set to now
	offerI  physic.ElectricCurrent
	offerP  physic.Power
	setV    physic.ElectricPotential // commanded supply setpoint
	setI    physic.ElectricCurrent
	on      bool // the supply is commanded on

	// reason is shown in the status; endReason is picked up by the next
	// endSession (dcReason).
	reason, endReason DCReason

	tick *repeater
}

func newDCState() *dcState {
	return &dcState{step: hal.DCIdle, isoSt: hal.IsolationInvalid}
}

// dcReason returns (and forgets) why the DC sequence ends the session
// endSession is ending; "" on AC connectors.
func (c *conn) dcReason() DCReason {
	if c.dc == nil {
		return ""
	}
	r := c.dc.endReason
	c.dc.endReason = ""
	return r
}

// energized reports whether the step may have the contactors closed.
func (d *dcState) energized() bool {
	switch d.step {
	case hal.DCCableCheck, hal.DCPreCharge, hal.DCCharging, hal.DCPowerDown:
		return true
	}
	return false
}

// active reports whether the step needs the control tick.
func (d *dcState) active() bool {
	return d.energized() || d.step == hal.DCParameters || d.step == hal.DCWeldingCheck
}

func (d *dcState) enter(s hal.DCStep, now time.Time) {
	if d.step == s {
		return
	}
	d.step, d.since = s, now
	if s == hal.DCCableCheck {
		d.reached = time.Time{}
	}
}

// ratedVoltage is the voltage the isolation thresholds are relative to.
func ratedVoltage(hw *hal.DC) physic.ElectricPotential {
	v := hw.Supply.Limits().MaxVoltage
	if hw.MaxVoltage > 0 && (v == 0 || hw.MaxVoltage < v) {
		v = hw.MaxVoltage
	}
	return v
}

// classifyIsolation rates an insulation reading against the thresholds
// per volt of rated.
func classifyIsolation(r hal.IsolationReading, rated physic.ElectricPotential, cfg DCConfig) hal.IsolationStatus {
	if !r.Valid {
		return hal.IsolationInvalid
	}
	volts := physic.ElectricResistance(rated / physic.Volt)
	switch {
	case r.Resistance < cfg.IsolationFault*volts:
		return hal.IsolationFault
	case r.Resistance < cfg.IsolationWarning*volts:
		return hal.IsolationWarning
	}
	return hal.IsolationValid
}

// isolationFaulty reports whether c's isolation monitor still reads a
// fault: an isolation fault does not clear then.
func (l *loop) isolationFaulty(c *conn) bool {
	if c.dc == nil {
		return false
	}
	hw := c.hw().DC
	return classifyIsolation(hw.Isolation.Reading(), ratedVoltage(hw), l.s.opts.DC) == hal.IsolationFault
}

// dcLimits are the inputs of the current demand: what the vehicle asks,
// what the supply can, the connector's rating and the back end's limit.
type dcLimits struct {
	req    hal.VehicleRequest
	supply hal.SupplyLimits
	rating *hal.DC
	// limit is the station's limit for the connector (OCPP profile,
	// external limit, connector MaxCurrent); NoLimit for none.
	limit physic.ElectricCurrent
	// outV is the output voltage now.
	outV physic.ElectricPotential
}

// dcDemand computes the current demand: the voltage setpoint, the current
// commanded, and the current and power offered. The current never exceeds
// the vehicle's target or maximum, the supply's limit, the connector's
// rating or the station's limit, and current times the higher of the
// output and setpoint voltage never exceeds the supply's, the connector's
// or the vehicle's power limit.
func dcDemand(in dcLimits) (v physic.ElectricPotential, i, offerI physic.ElectricCurrent, offerP physic.Power) {
	maxV := in.supply.MaxVoltage
	lowerV := func(x physic.ElectricPotential) {
		if x > 0 && x < maxV {
			maxV = x
		}
	}
	lowerV(in.rating.MaxVoltage)
	lowerV(in.req.MaxVoltage)
	v = max(0, min(in.req.TargetVoltage, maxV))

	offerI = max(0, min(in.supply.MaxCurrent, in.limit))
	if r := in.rating.MaxCurrent; r > 0 {
		offerI = min(offerI, r)
	}
	offerP = in.supply.MaxPower
	lowerP := func(x physic.Power) {
		if x > 0 && (offerP <= 0 || x < offerP) {
			offerP = x
		}
	}
	lowerP(in.rating.MaxPower)
	if offerP > 0 {
		offerI = min(offerI, currentFor(offerP, max(in.outV, v)))
	}
	i = min(offerI, max(0, in.req.TargetCurrent))
	if m := in.req.MaxCurrent; m > 0 {
		i = min(i, m)
	}
	if p := in.req.MaxPower; p > 0 {
		i = min(i, currentFor(p, max(in.outV, v)))
	}
	return v, max(0, i), offerI, offerP
}

// currentFor is the most current that stays within power p at voltage v,
// rounded down to a milliampere; unlimited below 1 V.
func currentFor(p physic.Power, v physic.ElectricPotential) physic.ElectricCurrent {
	if v < physic.Volt {
		return NoLimit
	}
	mW := int64(p / physic.MilliWatt)
	mV := int64((v + physic.MilliVolt - 1) / physic.MilliVolt) // rounded up
	return physic.ElectricCurrent(mW*1000/mV) * physic.MilliAmpere
}

// onEmergencyStop raises or clears the emergency stop fault of the
// connector of ev, or of every connector for Connector 0.
func (l *loop) onEmergencyStop(ev hal.Event) {
	targets := l.conns
	if ev.Connector != 0 {
		c := l.conn(ev.Connector)
		if c == nil {
			l.s.logger().Warn("station: emergency stop for unknown connector", "connector", ev.Connector)
			return
		}
		targets = []*conn{c}
	}
	for _, c := range targets {
		if ev.Active {
			l.addFault(c, faultEmergency, "emergency stop")
			continue
		}
		l.clearFault(c, faultEmergency)
		l.apply(c)
	}
}

// raiseDC records fault k from within applyDC (which then takes the
// faulted path itself, without re-entering apply).
func (l *loop) raiseDC(c *conn, k faultKind, detail string) {
	if _, ok := c.faults[k]; !ok {
		c.logger().Warn("station: fault", "code", k.code(), "detail", detail, "step", c.dc.step)
	}
	c.setFault(k, detail)
}

// dcFaultReason maps the active faults to the reason a session ends for.
func (c *conn) dcFaultReason() (StopReason, DCReason) {
	switch {
	case c.hasFault(faultEmergency):
		return ReasonEmergencyStop, DCEmergencyStop
	case c.hasFault(faultIsolation):
		return ReasonOther, DCIsolationFault
	case c.hasFault(faultWeld):
		return ReasonOther, DCWeldDetected
	case c.hasFault(faultSupply):
		return ReasonOther, DCSupplyFault
	case c.hasFault(faultSwitch):
		return ReasonOther, DCContactorFailure
	case c.hasFault(faultLock):
		return ReasonOther, DCLockFailure
	}
	return ReasonOther, DCHardwareFault
}

func (c *conn) hasFault(k faultKind) bool {
	_, ok := c.faults[k]
	return ok
}

// dcEnd ends c's session because of the DC sequence: r is reported with
// it. endSession applies c again, which powers down.
func (l *loop) dcEnd(c *conn, reason StopReason, r DCReason) {
	c.dc.reason, c.dc.endReason = r, r
	c.logger().Info("station: DC sequence ends the session", "step", c.dc.step, "reason", r)
	if c.sess != nil {
		l.endSession(c, reason, "")
	}
}

// readDC refreshes the cached vehicle, supply and isolation values.
func (l *loop) readDC(c *conn, now time.Time) {
	d, hw := c.dc, c.hw().DC
	d.req = hw.Vehicle.Request()
	if d.req.Communicating {
		d.heard = now
	}
	d.outV, d.outI = hw.Supply.Output()
	d.cable = d.outV
	if hw.CableVoltage != nil {
		d.cable = hw.CableVoltage.Voltage()
	}
	d.iso = hw.Isolation.Reading()
	d.isoSt = classifyIsolation(d.iso, ratedVoltage(hw), l.s.opts.DC)
}

// applyDC is applyConn for a DC connector.
func (l *loop) applyDC(c *conn) {
	d, hw, cfg := c.dc, c.hw().DC, l.s.opts.DC
	now := l.s.opts.Clock.Now()
	l.readDC(c, now)

	// Conditions that fault the connector at once.
	if hw.EmergencyStop != nil && hw.EmergencyStop.Active() {
		l.raiseDC(c, faultEmergency, "emergency stop")
	}
	if d.energized() && d.isoSt == hal.IsolationFault {
		l.raiseDC(c, faultIsolation, fmt.Sprintf("insulation resistance %v below %v/V", d.iso.Resistance, cfg.IsolationFault))
	}
	if d.on && hw.Supply.Limits().MaxCurrent <= 0 {
		l.raiseDC(c, faultSupply, "no power module online")
	}

	// The station's limit for the connector, and the demand.
	w, _, _ := l.connCap(c, now)
	v, i, offerI, offerP := dcDemand(dcLimits{req: d.req, supply: hw.Supply.Limits(), rating: hw, limit: w.a, outV: d.outV})
	d.offerI, d.offerP = offerI, offerP
	c.why, c.target = limitWhy{}, 0
	if d.step == hal.DCCharging {
		c.why, c.target = w, i
	}

	if c.faulted() {
		l.dcSafe(c, now)
		return
	}

	plugged := c.pilot.VehicleConnected()
	want := c.energyAllowed() && plugged
	switch d.step {
	case hal.DCIdle, hal.DCAuthorize, hal.DCFinished:
		switch {
		case c.pilot == hal.PilotA:
			// Only A says the vehicle left: F is what the station drives
			// itself while faulted, whatever the vehicle does.
			d.enter(hal.DCIdle, now)
		case !plugged:
		case want:
			d.reason = ""
			d.enter(hal.DCParameters, now)
		case d.step == hal.DCIdle:
			d.enter(hal.DCAuthorize, now)
		}
	}
	switch d.step {
	case hal.DCParameters:
		switch {
		case !want:
			d.enter(hal.DCPowerDown, now)
		case d.req.Error != "":
			l.dcEnd(c, ReasonOther, DCVehicleError)
			return
		case d.req.Communicating && d.req.Stop:
			l.dcEnd(c, ReasonOther, DCEVStopped)
			return
		case d.req.Communicating && d.req.Ready && c.pilot.VehicleReady() && c.lockHeld() && offerI >= physic.Ampere:
			d.testV = hw.Supply.Limits().MaxVoltage
			if m := hw.MaxVoltage; m > 0 && m < d.testV {
				d.testV = m
			}
			if m := d.req.MaxVoltage; m > 0 && m < d.testV {
				d.testV = m
			}
			d.enter(hal.DCCableCheck, now)
		case !d.req.Communicating && now.Sub(d.since) >= cfg.ParameterTimeout:
			l.dcEnd(c, ReasonOther, DCParameterTimeout)
			return
		}
	case hal.DCCableCheck, hal.DCPreCharge, hal.DCCharging:
		switch {
		case !want:
			d.enter(hal.DCPowerDown, now)
		case d.req.Error != "":
			l.dcEnd(c, ReasonOther, DCVehicleError)
			return
		case now.Sub(d.heard) > cfg.VehicleTimeout:
			l.dcEnd(c, ReasonOther, DCVehicleLost)
			return
		case d.req.Communicating && (d.req.Stop || !d.req.Ready) || !c.pilot.VehicleReady():
			l.dcEnd(c, ReasonOther, DCEVStopped)
			return
		case !c.lockHeld():
			l.raiseDC(c, faultLock, "lock released under voltage")
			l.dcSafe(c, now)
			return
		case d.req.MaxVoltage > 0 && d.outV > d.req.MaxVoltage+cfg.VoltageTolerance:
			l.dcEnd(c, ReasonOther, DCOvervoltage)
			return
		}
	}
	switch d.step {
	case hal.DCCableCheck:
		if d.req.Closed {
			// Its contactors must stay open until the precharge has
			// matched the voltage.
			l.dcEnd(c, ReasonOther, DCVehicleError)
			return
		}
		if d.reached.IsZero() && absV(d.outV-d.testV) <= cfg.VoltageTolerance {
			d.reached = now
		}
		switch {
		case !d.reached.IsZero() && d.iso.Valid && !d.iso.At.Before(d.reached):
			if d.isoSt == hal.IsolationFault {
				l.raiseDC(c, faultIsolation, fmt.Sprintf("cable check: insulation resistance %v at %v", d.iso.Resistance, d.testV))
				l.dcSafe(c, now)
				return
			}
			if d.isoSt == hal.IsolationWarning {
				c.logger().Warn("station: cable check: low insulation resistance", "resistance", d.iso.Resistance)
			}
			d.enter(hal.DCPreCharge, now)
		case now.Sub(d.since) >= cfg.CableCheckTimeout:
			l.dcEnd(c, ReasonOther, DCCableCheckTimeout)
			return
		}
	case hal.DCPreCharge:
		switch {
		case d.req.Closed:
			d.enter(hal.DCCharging, now)
		case now.Sub(d.since) >= cfg.PreChargeTimeout:
			l.dcEnd(c, ReasonOther, DCPreChargeTimeout)
			return
		}
	case hal.DCCharging:
		if d.req.Communicating && !d.req.Closed {
			l.dcEnd(c, ReasonOther, DCEVStopped)
			return
		}
	}
	if d.step == hal.DCPowerDown {
		quiet := absI(d.outI) <= cfg.PowerDownCurrent && (!d.req.Closed || !d.req.Communicating)
		switch {
		case quiet || !c.closed || !c.pilot.VehicleConnected():
			// A CP outside B-D (the plug pulled, a CP fault) opens at once:
			// there is no vehicle left to ramp down for.
			d.enter(hal.DCWeldingCheck, now)
		case now.Sub(d.since) >= cfg.PowerDownTimeout:
			c.logger().Warn("station: power down timed out: opening the contactors", "current", d.outI)
			if d.reason == "" {
				d.reason = DCPowerDownTimeout
			}
			d.enter(hal.DCWeldingCheck, now)
		}
	}
	if d.step == hal.DCWeldingCheck && l.dcWeldCheck(c, now) {
		l.dcSafe(c, now)
		return
	}

	// Command the hardware for the step.
	switch d.step {
	case hal.DCCableCheck:
		l.dcClose(c)
		l.dcSet(c, d.testV, min(cfg.TestCurrent, offerI))
	case hal.DCPreCharge:
		l.dcClose(c)
		pi := min(cfg.TestCurrent, offerI)
		if t := d.req.TargetCurrent; t > 0 {
			pi = min(pi, t) // DIN 70121: the EV's precharge current limit
		}
		l.dcSet(c, min(max(0, d.req.TargetVoltage), maxSetV(hw, d.req)), pi)
	case hal.DCCharging:
		l.dcClose(c)
		l.dcSet(c, v, i)
	case hal.DCPowerDown:
		l.dcOff(c)
	default:
		l.dcOff(c)
		l.dcOpen(c)
	}
	if c.faulted() { // the contactor failed to close
		l.dcSafe(c, now)
		return
	}
	l.dcPilot(c, plugged)
	l.dcLock(c)
	l.dcFinish(c, now)
}

// maxSetV is the most the output may be set to for req.
func maxSetV(hw *hal.DC, req hal.VehicleRequest) physic.ElectricPotential {
	v := hw.Supply.Limits().MaxVoltage
	for _, m := range []physic.ElectricPotential{hw.MaxVoltage, req.MaxVoltage} {
		if m > 0 && m < v {
			v = m
		}
	}
	return v
}

// dcWeldCheck runs the welding check; it reports true when it raised the
// weld fault. Finished follows once the feedback says open and the cable
// is below 60 V.
func (l *loop) dcWeldCheck(c *conn, now time.Time) bool {
	d := c.dc
	l.dcOff(c)
	l.dcOpen(c)
	fbClosed := false
	if fb, ok := c.hw().Contactor.(hal.ContactorFeedback); ok {
		fbClosed = fb.FeedbackClosed()
	}
	switch {
	case !fbClosed && d.cable < hal.SafeVoltage:
		d.enter(hal.DCFinished, now)
	case now.Sub(d.since) >= l.s.opts.DC.WeldingTimeout:
		detail := fmt.Sprintf("welding check: cable at %v after opening", d.cable)
		if fbClosed {
			detail = "welding check: contactor feedback closed after opening"
		}
		if !c.hasFault(faultWeld) {
			l.raiseDC(c, faultWeld, detail)
			return true
		}
	}
	return false
}

// dcSafe is the faulted path: supply off and contactors open at once, the
// pilot at -12 V, the session ended, and the welding check watching the
// cable fall below 60 V before the plug is released.
func (l *loop) dcSafe(c *conn, now time.Time) {
	d := c.dc
	l.dcOff(c)
	l.dcOpen(c)
	if c.out != pilotUnavailable {
		if err := c.hw().Pilot.Unavailable(); err != nil {
			c.logger().Error("station: pilot", "err", err)
			c.out = pilotUnset
		} else {
			c.out = pilotUnavailable
		}
	}
	c.offered = 0
	if d.active() && d.step != hal.DCWeldingCheck {
		d.enter(hal.DCWeldingCheck, now)
	}
	if d.step == hal.DCWeldingCheck {
		l.dcWeldCheck(c, now)
	}
	if c.sess != nil {
		reason, r := c.dcFaultReason()
		l.dcEnd(c, reason, r) // applies c again, faulted: lands below
		return
	}
	l.dcLock(c)
	l.dcFinish(c, now)
}

// dcFinish tells the vehicle, reports the status and keeps the tick.
func (l *loop) dcFinish(c *conn, now time.Time) {
	d, hw := c.dc, c.hw().DC
	rep := hal.ChargerReport{
		Step:           d.step,
		PresentVoltage: d.cable,
		PresentCurrent: d.outI,
		MaxVoltage:     maxSetV(hw, hal.VehicleRequest{}),
		MaxCurrent:     d.offerI,
		MaxPower:       d.offerP,
		Isolation:      d.isoSt,
		Stop:           c.sess == nil || d.step == hal.DCPowerDown || d.step == hal.DCWeldingCheck || d.step == hal.DCFinished,
		Fault:          c.faulted(),
		Locked:         c.hw().Lock != nil && c.lockCmd,
	}
	hw.Vehicle.Report(rep)
	l.report(c)
	l.dcArmTick(c)
}

// dcArmTick runs the control tick while a step is under way.
func (l *loop) dcArmTick(c *conn) {
	d := c.dc
	switch {
	case d.active() && d.tick.done():
		s, n := l.s, c.id
		period := s.opts.DC.ControlPeriod
		d.tick = startRepeater(s.opts.Clock, func(time.Time) time.Duration { return period }, func(time.Time) {
			s.post(func(l *loop) {
				if c := l.conn(n); c != nil && c.dc.active() {
					l.apply(c)
				}
			})
		})
	case !d.active() && d.tick != nil:
		d.tick.stop()
		d.tick = nil
	}
}

// dcSet commands the supply on at v, i (only when that changes).
func (l *loop) dcSet(c *conn, v physic.ElectricPotential, i physic.ElectricCurrent) {
	d := c.dc
	if d.on && d.setV == v && d.setI == i {
		return
	}
	if err := c.hw().DC.Supply.Set(v, i); err != nil {
		c.logger().Error("station: DC supply", "voltage", v, "current", i, "err", err)
		l.raiseDC(c, faultSupply, "supply: "+err.Error())
		return
	}
	d.on, d.setV, d.setI = true, v, i
}

// dcOff turns the supply off.
func (l *loop) dcOff(c *conn) {
	d := c.dc
	if !d.on {
		return
	}
	if err := c.hw().DC.Supply.Off(); err != nil {
		c.logger().Error("station: DC supply off", "err", err)
		return // d.on stays: every later apply tries again
	}
	d.on, d.setV, d.setI = false, 0, 0
}

// dcClose closes the DC contactors; an interlock refusal waits for the
// next step, other errors fault the connector.
func (l *loop) dcClose(c *conn) {
	if c.closed {
		return
	}
	switch err := c.hw().Contactor.Close(); {
	case err == nil:
		c.closed = true
	case errors.Is(err, hal.ErrInterlock):
		c.logger().Warn("station: DC contactor interlock", "err", err)
	default:
		l.raiseDC(c, faultSwitch, "close: "+err.Error())
	}
}

// dcOpen opens the DC contactors.
func (l *loop) dcOpen(c *conn) {
	if !c.closed {
		return
	}
	if err := c.hw().Contactor.Open(); err != nil {
		c.setFault(faultSwitch, "open: "+err.Error())
		c.logger().Error("station: DC contactor did not open", "err", err)
		return
	}
	c.closed = false
}

// dcPilot drives the CP: 5 % duty while a session runs (where the pilot
// can), steady +12 V otherwise.
func (l *loop) dcPilot(c *conn, plugged bool) {
	digital := c.sess != nil && plugged
	if dp, ok := c.hw().Pilot.(hal.DigitalPilot); ok && digital {
		if c.out != pilotDigital {
			if err := dp.Digital(); err != nil {
				c.logger().Error("station: pilot", "err", err)
				c.out = pilotUnset
				return
			}
			c.out = pilotDigital
		}
		return
	}
	if c.out != pilotOffer || c.offered != 0 {
		if err := c.hw().Pilot.Offer(0); err != nil {
			c.logger().Error("station: pilot", "err", err)
			c.out = pilotUnset
			return
		}
		c.out, c.offered = pilotOffer, 0
	}
}

// dcLock holds the plug from the session's start until the welding check
// has passed, and releases it then.
func (l *loop) dcLock(c *conn) {
	if c.hw().Lock == nil {
		return
	}
	d := c.dc
	hold := d.active() || c.sess != nil && c.pilot.VehicleConnected() || c.switchFaulted()
	if hold {
		if !c.lockCmd || !c.hw().Lock.Locked() {
			if err := c.hw().Lock.Lock(); err != nil {
				l.raiseDC(c, faultLock, "lock: "+err.Error())
				return
			}
			c.lockCmd = true
		}
		return
	}
	if c.lockCmd && (d.step == hal.DCFinished || d.step == hal.DCIdle) {
		l.release(c)
	}
}

// dcFinished reports whether c is a DC connector whose charge ended with
// the vehicle still plugged in: free charging waits for a new plug-in
// rather than start again (after a fault cleared, say).
func (c *conn) dcFinished() bool {
	return c.dc != nil && (c.dc.step == hal.DCFinished || c.dc.step == hal.DCWeldingCheck)
}

// dcUnlockSafe reports whether c's plug may be released: on AC always;
// on DC once the contactors are open and the cable below 60 V.
func (c *conn) dcUnlockSafe() bool {
	if c.dc == nil {
		return true
	}
	return !c.closed && !c.dc.active() && c.dc.cable < hal.SafeVoltage
}

// deriveDC is derive for a DC connector with a session; false leaves the
// status to the AC rules (no session: Finishing, Preparing, Available...).
func (c *conn) deriveDC() (Status, bool) {
	d := c.dc
	if c.sess == nil || !c.sess.durable {
		return "", false
	}
	switch d.step {
	case hal.DCCableCheck, hal.DCPreCharge:
		return Charging, true
	case hal.DCCharging:
		if d.offerI < physic.Ampere {
			return SuspendedEVSE, true
		}
		return Charging, true
	case hal.DCParameters:
		switch {
		case !c.pilot.VehicleConnected():
			return SuspendedEV, true
		case d.offerI < physic.Ampere:
			return SuspendedEVSE, true
		case d.req.Communicating && !d.req.Ready:
			return SuspendedEV, true
		}
		return Preparing, true
	}
	return "", false
}

// dcStatus is the status of a DC connector's sequence.
func (c *conn) dcStatus() *DCStatus {
	d := c.dc
	if d == nil {
		return nil
	}
	st := &DCStatus{
		Step:            d.step,
		SoC:             d.req.SoC,
		TargetVoltage:   d.req.TargetVoltage,
		TargetCurrent:   d.req.TargetCurrent,
		PresentVoltage:  d.cable,
		PresentCurrent:  d.outI,
		OfferedCurrent:  d.offerI,
		OfferedPower:    d.offerP,
		Demanded:        d.setI,
		IsolationStatus: d.isoSt,
		EVMaxVoltage:    d.req.MaxVoltage,
		EVMaxCurrent:    d.req.MaxCurrent,
		EVMaxPower:      d.req.MaxPower,
		Reason:          d.reason,
	}
	if !d.req.Communicating && d.req.SoC == 0 {
		st.SoC = -1
	}
	if d.iso.Valid {
		st.Isolation = d.iso.Resistance
	}
	return st
}

func absV(v physic.ElectricPotential) physic.ElectricPotential { return max(v, -v) }
func absI(i physic.ElectricCurrent) physic.ElectricCurrent     { return max(i, -i) }
