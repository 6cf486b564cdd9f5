package station

import (
	"errors"
	"log/slog"
	"time"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/internal/lazylog"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// faultKind is a condition that faults a connector. The constants are in
// order of precedence: the lowest active kind names the ErrorCode reported.
type faultKind uint8

const (
	faultWeld      faultKind = iota + 1 // contactor welded: cleared only by the hardware
	faultSwitch                         // contactor did not close, or failed to open
	faultRCD                            // residual current
	faultLock                           // lock did not engage
	faultDiode                          // vehicle diode missing or shorted
	faultPilotE                         // CP at 0 V
	faultPilotF                         // CP at -12 V while the EVSE did not drive it
	faultMeter                          // meterFailLimit consecutive failed reads
	faultEmergency                      // DC: emergency stop pressed
	faultIsolation                      // DC: insulation fault (isolation monitor or cable check)
	faultSupply                         // DC: the power supply (a module) failed
)

// code is the OCPP error code of k.
func (k faultKind) code() ErrorCode {
	switch k {
	case faultWeld, faultSwitch:
		return PowerSwitchFailure
	case faultRCD:
		return GroundFailure
	case faultLock:
		return ConnectorLockFailure
	case faultDiode, faultPilotE, faultPilotF:
		return EVCommunicationError
	case faultMeter:
		return PowerMeterFailure
	case faultIsolation:
		return GroundFailure
	case faultEmergency:
		return OtherError
	case faultSupply:
		return InternalError
	}
	return InternalError
}

// faultFor maps a hal event kind to the fault it raises or clears.
func faultFor(k hal.EventKind) (faultKind, bool) {
	switch k {
	case hal.ContactorWelded:
		return faultWeld, true
	case hal.ContactorFailed:
		return faultSwitch, true
	case hal.RCDTripped:
		return faultRCD, true
	case hal.LockFailed:
		return faultLock, true
	case hal.DiodeFault:
		return faultDiode, true
	case hal.IsolationAlarm:
		return faultIsolation, true
	case hal.SupplyFault:
		return faultSupply, true
	}
	return 0, false
}

// pilotOut is what the station last commanded the pilot generator to do.
type pilotOut uint8

const (
	pilotUnset       pilotOut = iota // nothing commanded yet, or the last command failed
	pilotOffer                       // Offer(conn.offered): PWM, or steady +12 V for 0
	pilotUnavailable                 // steady -12 V (state F)
	pilotDigital                     // DC: 5 % duty, high-level communication (hal.DigitalPilot)
)

// availChange is a SetAvailability waiting for a session to end.
type availChange uint8

const (
	availNone availChange = iota
	availOn
	availOff
)

// conn is one connector's state, owned by the loop. The fleet simulator
// holds thousands: state that most connectors never use (solar modes,
// phase switching, pricing, DC, limit reports) hangs off a pointer made
// when needed, and the small fields come last, together, so that they
// pack.
type conn struct {
	id int
	// st is the station, for hw, meter and logger.
	st *Station

	faults map[faultKind]string // nil until the first fault

	pending *pending // a start waiting for authorization or a plug
	sess    *session // its Sample.Periodic is a tick of the loop's ticker

	// sched is the connector's limit schedule from the CSMS (SetLimits;
	// nil for none, see schedule); grant is what the load sharing allows
	// it now (see rebalance), never above MaxCurrent. Below hal.MinOffer
	// no energy is offered.
	sched *LimitSchedule
	grant physic.ElectricCurrent
	// changedAt is when the offered current last changed; after a
	// decrease the vehicle may draw held until heldUntil (evReaction).
	changedAt time.Time
	held      physic.ElectricCurrent
	heldUntil time.Time
	// reservation is the reservation that holds this connector, nil when
	// none; heldForAny (below) says connector-0 reservations need it
	// (every idle connector is held for them).
	reservation *reservation

	// ext is the connector's external limit (SetExternalLimit); nil when
	// none. solar is the solar modes' bookkeeping, nil while it is all
	// zero (outside a solar session); the charge mode is chargeMode below.
	ext   *ExternalLimit
	solar *solarState
	// why is the limit that set the connector's target at the last
	// apply, for the status (zero without a demand).
	why    limitWhy
	target physic.ElectricCurrent
	// limitSeen is what was last reported to a LimitReporter; nil before
	// the first report (and always without a LimitReporter).
	limitSeen *limitSeen
	// phaseSw is the phase relay's state; nil without hw.PhaseSwitch.
	phaseSw *phaseSwitch

	// The latest good meter reading and the read bookkeeping (also
	// readFails, reading1st and readBusy below; the sessions of a
	// previous run waiting for a reading are the loop's orphans).
	reading meter.Reading
	readReq chan struct{} // to the sampler; nil without a meter

	// Commanded hardware state, so that apply commands changes only (also
	// out, closed and lockCmd below).
	offered physic.ElectricCurrent

	// Last reported status (also errCode below, as a code).
	status Status
	info   string

	// price is the driver display and the session's pricing; nil until
	// used (see pricingOf).
	price *pricing

	// dc is the DC sequence's state; nil on AC connectors.
	dc *dcState

	readFails int32  // consecutive failed reads
	readRound uint32 // the meter tick of the read in flight (its low 32 bits)
	errCode   errorCode
	pilot     hal.PilotState // last sensed
	operative bool           // Available per SetAvailability
	scheduled availChange
	finishing bool // a session ended and the cable is still plugged in
	// heldForAny: see reservation.
	heldForAny bool
	// chargeMode is the connector's charge mode (see mode).
	chargeMode modeCode
	reading1st bool // a reading arrived since Run started
	readBusy   bool // a read request is with the sampler
	out        pilotOut
	closed     bool
	lockCmd    bool // Lock commanded (and not since unlocked or failed)
	// bare is the pricing state while price is nil (see bareState).
	bare bareState
}

// newConn returns the state of the connector cc, which is one of st's
// Options.Connectors (see hw).
func newConn(cc *ConnectorConfig, st *Station) *conn {
	c := &conn{
		id:         cc.Hardware.ID,
		st:         st,
		operative:  true,
		chargeMode: modeCodeOf(cc.Mode),
	}
	if cc.Hardware.PhaseSwitch != nil {
		c.phaseSw = &phaseSwitch{}
	}
	if cc.Hardware.DC != nil {
		c.dc = newDCState()
	}
	return c
}

// hw is the connector's hardware. It and meter are looked up in the
// station's Options rather than kept beside them: the fleet simulator
// holds thousands of connectors.
func (c *conn) hw() *hal.Connector { return &c.st.opts.Connectors[c.id-1].Hardware }

// meter is the connector's meter; nil when it has none.
func (c *conn) meter() meter.Meter { return c.st.opts.Connectors[c.id-1].Meter }

// schedule is the connector's limit schedule; nil for none.
func (c *conn) schedule() LimitSchedule {
	if c.sched == nil {
		return nil
	}
	return *c.sched
}

// errorCode is an ErrorCode as a connector keeps its last reported one: a
// byte rather than a string. 0 is "", before the first report.
type errorCode uint8

// Error codes, in the order of the constants.
const (
	codeNoError errorCode = iota + 1
	codeConnectorLockFailure
	codeEVCommunicationError
	codeGroundFailure
	codeInternalError
	codeOtherError
	codePowerMeterFailure
	codePowerSwitchFailure
	codeReaderFailure
)

// codeOfError returns the code of e, one of the constants (derive returns
// only those; any other value would read back as "").
func codeOfError(e ErrorCode) errorCode {
	switch e {
	case "":
		return 0
	case NoError:
		return codeNoError
	case ConnectorLockFailure:
		return codeConnectorLockFailure
	case EVCommunicationError:
		return codeEVCommunicationError
	case GroundFailure:
		return codeGroundFailure
	case InternalError:
		return codeInternalError
	case OtherError:
		return codeOtherError
	case PowerMeterFailure:
		return codePowerMeterFailure
	case PowerSwitchFailure:
		return codePowerSwitchFailure
	case ReaderFailure:
		return codeReaderFailure
	}
	return 0
}

func (c errorCode) errorCode() ErrorCode {
	switch c {
	case codeNoError:
		return NoError
	case codeConnectorLockFailure:
		return ConnectorLockFailure
	case codeEVCommunicationError:
		return EVCommunicationError
	case codeGroundFailure:
		return GroundFailure
	case codeInternalError:
		return InternalError
	case codeOtherError:
		return OtherError
	case codePowerMeterFailure:
		return PowerMeterFailure
	case codePowerSwitchFailure:
		return PowerSwitchFailure
	case codeReaderFailure:
		return ReaderFailure
	}
	return ""
}

// logger is the connector's logger: the station's with the connector. It
// is derived for each line rather than kept: connectors log now and then,
// and a logger each costs the fleet simulator's thousands of connectors
// more than the lines do.
func (c *conn) logger() *slog.Logger {
	return lazylog.With(c.st.logger(), "connector", c.id)
}

func (c *conn) faulted() bool { return len(c.faults) > 0 }

// setFault records k as active with detail, without anything else
// addFault does. The map is made with the first fault: most connectors
// never have one.
func (c *conn) setFault(k faultKind, detail string) {
	if c.faults == nil {
		c.faults = make(map[faultKind]string)
	}
	c.faults[k] = detail
}

// fault returns the reported error code and detail of the active faults.
func (c *conn) fault() (ErrorCode, string) {
	var best faultKind
	for k := range c.faults {
		if best == 0 || k < best {
			best = k
		}
	}
	if best == 0 {
		return NoError, ""
	}
	return best.code(), c.faults[best]
}

// switchFaulted reports whether the contactor may not be open although
// commanded so: the plug must then stay locked.
func (c *conn) switchFaulted() bool {
	_, w := c.faults[faultWeld]
	_, f := c.faults[faultSwitch]
	return w || f
}

// energyAllowed is the station's side of the safety rule: a session that is
// authorized and durable, and no fault.
func (c *conn) energyAllowed() bool {
	return c.sess != nil && c.sess.durable && c.sess.authorized && !c.faulted()
}

// lockHeld reports whether the plug is held (or there is no lock).
func (c *conn) lockHeld() bool { return c.hw().Lock == nil || c.hw().Lock.Locked() }

// stopTimers stops the connector's timers.
func (c *conn) stopTimers() {
	if c.dc != nil {
		c.dc.tick.stop()
		c.dc.tick = nil
	}
	if c.pending != nil && c.pending.timer != nil {
		c.pending.timer.Stop()
	}
}

// addFault raises k (detail for logs and status Info) and makes the
// connector safe at once.
func (l *loop) addFault(c *conn, k faultKind, detail string) {
	if _, ok := c.faults[k]; !ok {
		c.logger().Warn("station: fault", "code", k.code(), "detail", detail)
	}
	if detail == "" {
		detail = string(k.code())
	}
	c.setFault(k, detail)
	if k == faultLock {
		c.lockCmd = false
	}
	l.cancelPending(c, ErrUnavailable)
	l.apply(c)
}

// clearFault clears k; an RCD that still reports a trip stays faulted.
func (l *loop) clearFault(c *conn, k faultKind) {
	if _, ok := c.faults[k]; !ok {
		return
	}
	if k == faultRCD && c.hw().RCD != nil && c.hw().RCD.Tripped() {
		return
	}
	if k == faultIsolation && l.isolationFaulty(c) {
		return
	}
	delete(c.faults, k)
	c.logger().Info("station: fault cleared", "code", k.code())
}

// apply is called after every change of a connector's state (c), or of the
// limits (c nil): it re-derives every connector's share of the supply
// (shareTargets, lower, raise) and commands the connectors whose share fell, then those
// whose share rose, then c, and re-arms the limit timer. A call made while
// apply runs (a fault raised while commanding) commands c at once and has
// the shares derived again before apply returns.
func (l *loop) apply(c *conn) {
	if l.applying {
		l.again = true
		if c != nil {
			l.applyConn(c)
		}
		return
	}
	l.applying = true
	defer func() { l.applying = false }()
	for round := 0; round < 4; round++ {
		l.again = false
		held := l.refreshHolds()
		now := l.s.opts.Clock.Now()
		l.gridCheck(now)
		l.expireExternal(now)
		l.phaseResume(now)
		order, target, floor := l.shareTargets(now)
		for _, o := range l.lower(order, target) {
			l.applyConn(o)
		}
		raised, wake := l.raise(now, order, target, floor)
		l.wake = wake
		for _, o := range raised {
			l.applyConn(o)
		}
		for _, o := range held {
			l.applyConn(o) // reports Reserved, or no longer
		}
		if c != nil {
			l.applyConn(c)
		}
		for _, o := range l.conns {
			if o.dc != nil && o != c {
				l.applyConn(o) // outside the sharing: limits reach it here
			}
		}
		if !l.again && !l.holdsDirty {
			break
		}
	}
	l.phaseRelays(l.s.opts.Clock.Now())
	l.reportLimits(l.s.opts.Clock.Now())
	l.armLimitTimer()
}

// applyConn is the safety core: it derives what c's hardware should do from
// the connector's state and commands the changes, opening before reducing
// the PWM and offering before closing. It then reports the status if it
// changed.
func (l *loop) applyConn(c *conn) {
	if c.dc != nil {
		l.applyDC(c)
		return
	}
	hw := c.hw()
	offer := physic.ElectricCurrent(0)
	if c.energyAllowed() {
		offer = c.grant
		if offer < hal.MinOffer {
			offer = 0
		}
	}

	// Hold the plug while a session may use it; command again when the
	// feedback says the lock let go.
	if hw.Lock != nil && c.sess != nil && c.pilot.VehicleConnected() && !c.faulted() &&
		(!c.lockCmd || !hw.Lock.Locked()) {
		if err := hw.Lock.Lock(); err != nil {
			l.addFault(c, faultLock, "lock: "+err.Error()) // re-enters apply, now faulted
			return
		}
		c.lockCmd = true
	}

	wantClosed := offer >= hal.MinOffer && c.pilot.VehicleReady() && c.lockHeld()
	if c.closed && !wantClosed {
		if err := hw.Contactor.Open(); err != nil {
			// Keep c.closed: every later apply tries again.
			c.setFault(faultSwitch, "open: "+err.Error())
			c.logger().Error("station: contactor did not open", "err", err)
		} else {
			c.closed = false
		}
	}

	if c.faulted() {
		offer = 0
		if c.out != pilotUnavailable {
			if err := hw.Pilot.Unavailable(); err != nil {
				c.logger().Error("station: pilot", "err", err)
				c.out = pilotUnset
			} else {
				c.out = pilotUnavailable
			}
		}
		c.noteOffer(c.offered, 0, l.s.opts.Clock.Now())
		c.offered = 0
	} else if c.out != pilotOffer || c.offered != offer {
		was := c.offered
		if err := hw.Pilot.Offer(offer); err != nil {
			c.logger().Error("station: pilot", "offer", offer, "err", err)
			c.out, c.offered, wantClosed = pilotUnset, 0, false
		} else {
			c.out, c.offered = pilotOffer, offer
		}
		c.noteOffer(was, c.offered, l.s.opts.Clock.Now())
	}

	if wantClosed && !c.closed && !c.faulted() {
		switch err := hw.Contactor.Close(); {
		case err == nil:
			c.closed = true
		case errors.Is(err, hal.ErrInterlock):
			// The driver's view of the pilot lags ours; its next event
			// brings us here again.
			c.logger().Warn("station: contactor interlock", "err", err)
		default:
			l.addFault(c, faultSwitch, "close: "+err.Error())
			return
		}
	}
	l.report(c)
}

// derive computes the connector's status from its state.
func (c *conn) derive() (Status, ErrorCode, string) {
	if c.faulted() {
		code, info := c.fault()
		return Faulted, code, info
	}
	if c.dc != nil {
		if st, ok := c.deriveDC(); ok {
			return st, NoError, ""
		}
	}
	switch {
	case c.sess != nil:
		switch {
		case c.closed:
			return Charging, NoError, ""
		case !c.sess.durable:
			return Preparing, NoError, ""
		case !c.pilot.VehicleConnected():
			return SuspendedEV, NoError, ""
		case c.offered < hal.MinOffer:
			return SuspendedEVSE, NoError, ""
		case c.pilot.VehicleReady():
			// Offered but not closed: the lock or the driver holds back.
			return SuspendedEVSE, NoError, ""
		default:
			return SuspendedEV, NoError, ""
		}
	case !c.operative:
		return Unavailable, NoError, ""
	case c.finishing:
		return Finishing, NoError, ""
	case c.pending != nil || c.pilot.VehicleConnected():
		return Preparing, NoError, ""
	case c.reservation != nil || c.heldForAny:
		return Reserved, NoError, ""
	}
	return Available, NoError, ""
}

// report emits a StatusChange when the connector's status, error code or
// detail changed, updates its indicator, and re-derives connector 0.
func (l *loop) report(c *conn) {
	st, code, info := c.derive()
	if st == c.status && code == c.errCode.errorCode() && info == c.info {
		return
	}
	c.status, c.errCode, c.info = st, codeOfError(code), info
	l.emit(statusFact{StatusChange{Connector: c.id, Status: st, Error: code, Info: info, At: l.s.opts.Clock.Now()}})
	l.endReservationsOf(c.id, st)
	l.priceStatus(c)
	if c.hw().Indicator != nil {
		if err := c.hw().Indicator.Show(indication(st)); err != nil {
			c.logger().Warn("station: indicator", "err", err)
		}
	}
	l.report0()
}

// report0 derives and reports connector 0, the station as a whole: Faulted
// when every connector is, Unavailable when SetAvailability(0, false) made
// every connector Unavailable, else Available.
func (l *loop) report0() {
	if !l.booted {
		return // boot reports it once every connector has a status
	}
	faulted, off := true, l.stationOff
	for _, c := range l.conns {
		faulted = faulted && c.status == Faulted
		off = off && c.status == Unavailable
	}
	st, code := Available, status0Available
	switch {
	case faulted:
		st, code = Faulted, status0Faulted
	case off:
		st, code = Unavailable, status0Unavailable
	}
	if code != l.status0 {
		l.status0 = code
		l.emit(statusFact{StatusChange{Connector: 0, Status: st, Error: NoError, At: l.s.opts.Clock.Now()}})
		l.endReservationsOf(0, st)
	}
}

// status0Code is the status last reported for connector 0, as a byte.
type status0Code uint8

const (
	status0None status0Code = iota // none reported yet
	status0Available
	status0Faulted
	status0Unavailable
)

// indication maps a status to the status light.
func indication(s Status) hal.Indication {
	switch s {
	case Available:
		return hal.ShowAvailable
	case Charging:
		return hal.ShowCharging
	case Faulted:
		return hal.ShowFault
	case Unavailable:
		return hal.ShowOff
	}
	return hal.ShowOccupied
}

// onEvent handles a hardware event.
func (l *loop) onEvent(ev hal.Event) {
	switch ev.Kind {
	case hal.CardPresented:
		l.presentCard(ev.Connector, ev.IDTag, func(error) {})
		return
	case hal.InputChanged:
		l.onInput(ev)
		return
	case hal.EmergencyStop:
		l.onEmergencyStop(ev)
		return
	}
	c := l.conn(ev.Connector)
	if c == nil {
		l.s.logger().Warn("station: event for unknown connector", "connector", ev.Connector, "kind", ev.Kind)
		return
	}
	switch ev.Kind {
	case hal.PilotChanged:
		l.onPilot(c, ev.Pilot)
	case hal.VehicleChanged:
		l.apply(c)
	case hal.FaultCleared:
		if ev.Cleared == 0 {
			for _, k := range []faultKind{faultWeld, faultSwitch, faultRCD, faultLock, faultDiode, faultIsolation, faultSupply} {
				l.clearFault(c, k)
			}
		} else if k, ok := faultFor(ev.Cleared); ok {
			l.clearFault(c, k)
		}
		l.apply(c)
	default:
		k, ok := faultFor(ev.Kind)
		if !ok {
			c.logger().Warn("station: unknown event", "kind", ev.Kind)
			return
		}
		detail := ev.Detail
		if detail == "" {
			detail = ev.Kind.String()
		}
		l.addFault(c, k, detail)
	}
}

// onPilot handles a new CP state: faults E and F, plug-in and unplug.
func (l *loop) onPilot(c *conn, p hal.PilotState) {
	was := c.pilot
	c.pilot = p
	switch p {
	case hal.PilotE:
		l.addFault(c, faultPilotE, "CP state E")
		return
	case hal.PilotF:
		// -12 V is what the station itself drives while Unavailable() is
		// commanded: only unexpected F is a fault.
		if c.out != pilotUnavailable {
			l.addFault(c, faultPilotF, "CP state F")
			return
		}
	case hal.PilotA, hal.PilotB, hal.PilotC, hal.PilotD:
		l.clearFault(c, faultPilotE)
		l.clearFault(c, faultPilotF)
		if p == hal.PilotA {
			// A new plug-in gets a fresh diode check and lock attempt.
			l.clearFault(c, faultDiode)
			l.clearFault(c, faultLock)
		}
	}
	switch {
	case p == hal.PilotA && was != hal.PilotA:
		// From B, C or D, and also from E, F or unknown: while the station
		// drives -12 V for a fault the CP reads F whatever the vehicle does,
		// so a tethered cable pulled then is only seen as A once the fault
		// clears. Missing it would let the next vehicle charge on the
		// previous driver's session.
		l.onUnplug(c)
	case !was.VehicleConnected() && p.VehicleConnected():
		l.onPlug(c)
	}
	l.apply(c)
}

// onPlug starts a session when a start is authorized and waiting, or in
// free-charging mode. Otherwise the connector is Preparing and stays so
// until a token arrives or the vehicle leaves: the ConnectionTimeout of OCPP
// 1.6 applies to authorize-first only.
func (l *loop) onPlug(c *conn) {
	c.finishing = false
	switch {
	case c.sess != nil:
		// A suspended session's vehicle is back: apply re-locks.
	case c.pending != nil && c.pending.authorized:
		p := c.pending
		l.beginSession(c, p.idTag, p.parent, p.reservation)
	case l.cfg.FreeCharging && c.pending == nil && c.operative && !c.faulted() && !c.dcFinished():
		if resv, ok := l.admits(c, FreeIDTag, ""); ok {
			l.beginSession(c, FreeIDTag, "", resv)
		}
	}
}

// onUnplug ends or suspends the session per the EV-side-disconnect keys.
func (l *loop) onUnplug(c *conn) {
	c.finishing = false
	if c.sess == nil {
		return
	}
	if l.cfg.StopTransactionOnEVSideDisconnect {
		l.endSession(c, ReasonEVDisconnected, "")
		return
	}
	// Open first: the session stays, suspended, until stopped otherwise.
	l.apply(c)
	if l.cfg.UnlockConnectorOnEVSideDisconnect {
		l.release(c)
	}
}

// release unlocks the plug unless the contactor may still be closed.
func (l *loop) release(c *conn) bool {
	if c.hw().Lock == nil || c.closed || c.switchFaulted() || !c.dcUnlockSafe() {
		return false
	}
	c.lockCmd = false
	if err := c.hw().Lock.Unlock(); err != nil {
		c.logger().Error("station: unlock", "err", err)
		return false
	}
	return true
}
