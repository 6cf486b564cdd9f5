package station

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
)

// pending is a start that waits: for the Authorizer's answer (authorized
// false, reply set) or, authorized, for a plug (timer set).
type pending struct {
	idTag, parent string
	remote        bool
	authorized    bool
	reservation   int         // the reservation the session will use; 0 for none
	reply         func(error) // Start's caller while the Authorizer is asked
	timer         clock.Timer // ConnectionTimeout while authorized and unplugged
}

// session is a running session.
type session struct {
	id, idTag, parent string
	// begin is the reading at the start; its EnergyImport is the
	// session's MeterStart (see meterStart).
	begin     meter.Reading
	startedAt time.Time
	txID      string
	// durable: the Reporter recorded the start; only then may energy flow.
	durable bool
	// authorized is false after a Deauthorize that did not end the session.
	authorized bool
}

// orphan is a session of a previous run that did not resume: it ends with
// reason once its connector's meter has been read.
type orphan struct {
	rec    sessionRecord
	reason StopReason
}

// newSessionID returns 16 random hex digits: unique across restarts without
// persisted counters. crypto/rand does not fail on supported platforms.
func newSessionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// idle reports whether c may take a new start.
func (c *conn) idle() bool {
	return c.sess == nil && c.pending == nil && c.operative && !c.faulted()
}

// requestStart handles Start: done answers once the start is accepted
// (authorized, possibly waiting for a plug) or refused.
func (l *loop) requestStart(n int, idTag string, o StartOptions, done func(error)) {
	c := l.conn(n)
	switch {
	case c == nil:
		done(ErrNoConnector)
		return
	case idTag == "":
		done(fmt.Errorf("%w: empty id tag", ErrNotAuthorized))
		return
	case c.faulted() || !c.operative:
		done(ErrUnavailable)
		return
	case c.sess != nil || c.pending != nil:
		done(ErrBusy)
		return
	}
	p := &pending{idTag: idTag, remote: o.Remote}
	c.pending = p
	if o.SkipAuthorization {
		done(l.accepted(c, p, AuthResult{Status: AuthAccepted}))
		return
	}
	p.reply = done
	l.apply(c) // Preparing while the Authorizer is asked
	l.authorize(idTag, func(l *loop, res AuthResult, err error) {
		if c.pending != p {
			return // cancelled meanwhile, and answered then
		}
		p.reply = nil
		if err := refusal(res, err); err != nil {
			c.pending = nil
			l.apply(c)
			done(err)
			return
		}
		done(l.accepted(c, p, res))
	})
}

// refusal turns an Authorizer answer into nil (Accepted) or an error
// wrapping ErrNotAuthorized.
func refusal(res AuthResult, err error) error {
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotAuthorized, err)
	}
	if res.Status != AuthAccepted {
		return fmt.Errorf("%w: %s", ErrNotAuthorized, res.Status)
	}
	return nil
}

// accepted marks p authorized: with a vehicle present the session begins,
// else the start waits ConnectionTimeout for a plug. A reservation that
// holds c for another token refuses it (ErrReserved), and p is dropped.
func (l *loop) accepted(c *conn, p *pending, res AuthResult) error {
	resv, ok := l.admits(c, p.idTag, res.ParentIDTag)
	if !ok {
		c.logger().Info("station: start refused: connector reserved", "idTag", p.idTag)
		c.pending = nil
		l.apply(c)
		return ErrReserved
	}
	p.authorized, p.parent, p.reservation = true, res.ParentIDTag, resv
	if c.pilot.VehicleConnected() {
		l.beginSession(c, p.idTag, p.parent, p.reservation)
		return nil
	}
	n := c.id
	p.timer = l.s.opts.Clock.AfterFunc(l.cfg.ConnectionTimeout, func() {
		l.s.post(func(l *loop) {
			c := l.conn(n)
			if c.pending != p {
				return
			}
			c.logger().Info("station: no plug within ConnectionTimeout", "idTag", p.idTag)
			c.pending = nil
			l.apply(c)
		})
	})
	l.apply(c)
	return nil
}

// cancelPending drops c's pending start, answering a waiting Start with err.
func (l *loop) cancelPending(c *conn, err error) {
	p := c.pending
	if p == nil {
		return
	}
	c.pending = nil
	if p.timer != nil {
		p.timer.Stop()
	}
	if p.reply != nil {
		p.reply(err)
		p.reply = nil
	}
}

// authorize asks the Authorizer about idTag off the loop, bounded by
// authTimeout on the station's clock, and runs then on the loop with the
// answer.
func (l *loop) authorize(idTag string, then func(l *loop, res AuthResult, err error)) {
	l.authsInFlight++
	s, runCtx := l.s, l.ctx
	go func() {
		defer s.haltOnPanic()
		ctx, cancel := context.WithCancel(runCtx)
		t := s.opts.Clock.AfterFunc(authTimeout, cancel)
		res, err := s.opts.Authorizer.Authorize(ctx, idTag)
		t.Stop()
		cancel()
		s.post(func(l *loop) {
			l.authsInFlight--
			then(l, res, err)
		})
	}()
}

// presentCard stops the session the token (or its parent group) started,
// or else requests a start with it. connector 0 is a station-wide reader.
func (l *loop) presentCard(n int, idTag string, done func(error)) {
	if n != 0 && l.conn(n) == nil {
		done(ErrNoConnector)
		return
	}
	candidates := l.conns
	if n != 0 {
		candidates = []*conn{l.conn(n)}
	}
	grouped := false
	for _, c := range candidates {
		if c.sess == nil {
			continue
		}
		if c.sess.idTag == idTag {
			l.endSession(c, ReasonLocal, idTag)
			done(nil)
			return
		}
		grouped = grouped || c.sess.parent != ""
	}
	if !grouped {
		l.cardStart(n, idTag, done)
		return
	}
	// The token may belong to a running session's group: ask, then stop
	// or start with the same answer.
	l.authorize(idTag, func(l *loop, res AuthResult, err error) {
		if err == nil && res.Status == AuthAccepted && res.ParentIDTag != "" {
			for _, c := range candidates {
				if c.sess != nil && c.sess.parent == res.ParentIDTag {
					l.endSession(c, ReasonLocal, idTag)
					done(nil)
					return
				}
			}
		}
		c := l.cardTarget(n, idTag)
		if c == nil || !c.idle() {
			done(ErrBusy)
			return
		}
		if err := refusal(res, err); err != nil {
			done(err)
			return
		}
		p := &pending{idTag: idTag}
		c.pending = p
		done(l.accepted(c, p, res))
	})
}

// cardStart requests a start for a token that stops nothing.
func (l *loop) cardStart(n int, idTag string, done func(error)) {
	c := l.cardTarget(n, idTag)
	if c == nil {
		done(ErrBusy)
		return
	}
	if p := c.pending; p != nil && p.idTag == idTag {
		done(nil) // the same token again: already being handled
		return
	}
	l.requestStart(c.id, idTag, StartOptions{}, done)
}

// cardTarget is the connector a token read at n is for: n itself, or for a
// station-wide reader the lowest idle connector with a vehicle waiting, else
// the lowest idle one reserved for the token, else the lowest idle one that
// no reservation holds, else the lowest idle one.
func (l *loop) cardTarget(n int, idTag string) *conn {
	if n != 0 {
		return l.conn(n)
	}
	for _, c := range l.conns {
		if c.idle() && c.pilot.VehicleConnected() {
			return c
		}
	}
	for _, c := range l.conns {
		if c.idle() && c.reservation != nil && c.reservation.IDTag == idTag {
			return c
		}
	}
	for _, c := range l.conns {
		if c.idle() && c.reservation == nil {
			return c
		}
	}
	for _, c := range l.conns {
		if c.idle() {
			return c
		}
	}
	return nil
}

// beginSession starts a session on c, using reservation resv (0: none),
// which ends: the start goes to the journal, and energy flows once it is
// durable (onStartDurable).
func (l *loop) beginSession(c *conn, idTag, parent string, resv int) {
	if p := c.pending; p != nil && p.timer != nil {
		p.timer.Stop()
	}
	c.pending, c.finishing = nil, false
	now := l.s.opts.Clock.Now()
	s := &session{
		id:         newSessionID(),
		idTag:      idTag,
		parent:     parent,
		begin:      c.reading,
		startedAt:  now,
		authorized: true,
	}
	c.sess = s
	start := SessionStart{Connector: c.id, SessionID: s.id, IDTag: idTag, MeterStart: s.meterStart(), At: now}
	if r := l.reservations[resv]; resv != 0 && r != nil {
		start.ReservationID = resv
		l.dropReservation(r, "used")
	}
	c.logger().Info("station: session started", "session", s.id, "idTag", idTag, "reservation", start.ReservationID)
	l.emit(startFact{start: start, rec: s.record(c.id)})
	if c.meter() != nil {
		l.emit(sampleFact{Sample{Connector: c.id, SessionID: s.id, Context: ContextTransactionBegin, Reading: c.reading, At: now, DC: c.dcStatus()}})
	}
	l.startPeriodic(c)
	l.priceSessionStarted(c)
	l.apply(c)
}

// meterStart is the energy register at the start of s: kept once, in
// begin, which brings the session under a size class.
func (s *session) meterStart() meter.Energy { return s.begin.EnergyImport }

// record is what the journal persists of s.
func (s *session) record(connector int) sessionRecord {
	return sessionRecord{
		ID: s.id, Connector: connector, IDTag: s.idTag, ParentIDTag: s.parent,
		MeterStart: s.meterStart(), StartedAt: s.startedAt, TransactionID: s.txID,
	}
}

// onStartDurable lets energy flow for a session whose start is recorded.
func (l *loop) onStartDurable(id string) {
	c := l.sessionConn(id)
	if c == nil {
		return // ended before its start was recorded
	}
	c.sess.durable = true
	l.apply(c)
}

// endSession ends c's session: the contactor opens at once, the end goes to
// the journal, the plug is released and a scheduled availability applies.
func (l *loop) endSession(c *conn, reason StopReason, idTag string) {
	s := c.sess
	l.priceSessionEnded(c, l.s.opts.Clock.Now(), c.reading.EnergyImport)
	c.sess = nil
	l.stopPeriodic(c)
	c.finishing = c.pilot.VehicleConnected()

	// The facts are only queued here, so emitting them before apply does not
	// delay the contactor; it puts the end before the status it causes.
	now := l.s.opts.Clock.Now()
	end := c.reading
	stop := end.EnergyImport
	if !c.reading1st {
		stop = s.meterStart() // nothing read this run: bill nothing rather than guess
	}
	if c.meter() != nil {
		l.emit(sampleFact{Sample{Connector: c.id, SessionID: s.id, Context: ContextTransactionEnd, Reading: end, At: now, DC: c.dcStatus()}})
	}
	l.emit(endFact{end: SessionEnd{
		Connector: c.id, SessionID: s.id, IDTag: idTag, MeterStop: stop, At: now,
		Reason: reason, Begin: s.begin, End: end, DCReason: c.dcReason(),
	}})
	c.logger().Info("station: session ended", "session", s.id, "reason", reason)

	switch c.scheduled {
	case availOn:
		l.setOperative(c, true)
	case availOff:
		l.setOperative(c, false)
	}
	c.scheduled = availNone
	l.apply(c) // opens the contactor
	l.release(c)
	l.resetPhases(c)
}

// stopConnector ends n's session, or cancels its pending start.
func (l *loop) stopConnector(n int, reason StopReason) error {
	c := l.conn(n)
	switch {
	case c == nil:
		return ErrNoConnector
	case c.sess != nil:
		l.endSession(c, reason, "")
		return nil
	case c.pending != nil:
		l.cancelPending(c, ErrCancelled)
		l.apply(c)
		return nil
	}
	return ErrNoSession
}

// deauthorize ends or suspends a session whose token was refused late.
func (l *loop) deauthorize(id string) error {
	c := l.sessionConn(id)
	if c == nil {
		return ErrNoSession
	}
	if l.cfg.StopTransactionOnInvalidID {
		l.endSession(c, ReasonDeAuthorized, "")
		return nil
	}
	c.sess.authorized = false
	l.apply(c)
	return nil
}

// unlock ends n's session and releases its lock.
func (l *loop) unlock(n int) (UnlockResult, error) {
	c := l.conn(n)
	if c == nil {
		return "", ErrNoConnector
	}
	if c.hw().Lock == nil {
		return NotSupported, nil
	}
	if c.sess != nil {
		l.endSession(c, ReasonUnlockCommand, "")
	}
	if c.closed || c.switchFaulted() || !c.dcUnlockSafe() {
		return UnlockFailed, nil
	}
	c.lockCmd = false
	if err := c.hw().Lock.Unlock(); err != nil {
		c.logger().Error("station: unlock", "err", err)
		return UnlockFailed, nil
	}
	return Unlocked, nil
}

// reset ends every session with reason; done answers once the journal has
// recorded their ends and the clean-restart marker.
func (l *loop) reset(reason StopReason, done func(error)) {
	for _, c := range l.conns {
		l.cancelPending(c, ErrCancelled)
		if c.sess != nil {
			l.endSession(c, reason, "")
		} else {
			l.apply(c)
		}
	}
	l.emit(cleanFact{done: done})
}

// setAvailability handles SetAvailability for one connector or (0) all.
func (l *loop) setAvailability(n int, on bool) (AvailabilityResult, error) {
	if n == 0 {
		l.stationOff = !on
		res := AvailabilityAccepted
		for _, c := range l.conns {
			if l.setConnAvailability(c, on) == AvailabilityScheduled {
				res = AvailabilityScheduled
			}
		}
		l.report0()
		return res, nil
	}
	c := l.conn(n)
	if c == nil {
		return "", ErrNoConnector
	}
	return l.setConnAvailability(c, on), nil
}

func (l *loop) setConnAvailability(c *conn, on bool) AvailabilityResult {
	if c.sess != nil {
		if c.operative == on {
			c.scheduled = availNone
			return AvailabilityAccepted
		}
		c.scheduled = availOff
		if on {
			c.scheduled = availOn
		}
		return AvailabilityScheduled
	}
	c.scheduled = availNone
	l.setOperative(c, on)
	l.apply(c)
	return AvailabilityAccepted
}

// setOperative changes and persists c's availability.
func (l *loop) setOperative(c *conn, on bool) {
	if c.operative == on {
		return
	}
	c.operative = on
	if !on {
		l.cancelPending(c, ErrUnavailable)
	}
	l.emit(availFact{connector: c.id, on: on})
}

// boot restores the state a previous run left, commands the hardware to a
// known state and reports every status.
func (l *loop) boot(saved saved) {
	l.limitInputState()
	if l.grid != nil {
		l.grid.freshAt = l.s.opts.Clock.Now() // the timeout for the first reading runs from the start
	}
	reason := ReasonPowerLoss
	if saved.clean {
		reason = ReasonReboot
	}
	for _, c := range l.conns {
		c.pilot = c.hw().Pilot.State()
		if ps := c.hw().PhaseSwitch; ps != nil {
			c.phaseSw.phases = ps.Phases()
		}
		if on, ok := saved.avail[c.id]; ok {
			c.operative = on
		}
		if c.hw().RCD != nil && c.hw().RCD.Tripped() {
			c.setFault(faultRCD, "RCD tripped at start")
		}
		if c.pilot == hal.PilotE {
			c.setFault(faultPilotE, "CP state E at start")
		}
		if err := c.hw().Contactor.Open(); err != nil {
			c.setFault(faultSwitch, "open: "+err.Error())
		}
	}
	for _, rec := range saved.sessions {
		if rec.StartPending {
			// The previous run died while its start was being recorded:
			// report it again (the Reporter sees at worst a duplicate,
			// as with any at-least-once delivery), ahead of the end.
			// The reservation, not persisted, is not repeated.
			rec.StartPending = false
			l.emit(startFact{
				start: SessionStart{Connector: rec.Connector, SessionID: rec.ID, IDTag: rec.IDTag,
					MeterStart: rec.MeterStart, At: rec.StartedAt},
				rec: rec,
			})
		}
		c := l.conn(rec.Connector)
		if c != nil && c.sess == nil && l.cfg.ResumeSessionsAfterRestart && c.pilot.VehicleConnected() {
			c.sess = &session{
				id: rec.ID, idTag: rec.IDTag, parent: rec.ParentIDTag,
				begin:     meter.Reading{Time: rec.StartedAt, Fields: meter.FieldEnergyImport, EnergyImport: rec.MeterStart},
				startedAt: rec.StartedAt, txID: rec.TransactionID, durable: true, authorized: true,
			}
			c.logger().Info("station: session resumed", "session", rec.ID)
			continue
		}
		o := orphan{rec: rec, reason: reason}
		if c == nil || c.meter() == nil {
			l.endOrphan(o, nil)
			continue
		}
		l.orphans = append(l.orphans, o)
	}
	now := l.s.opts.Clock.Now()
	for _, r := range saved.reservations {
		if c := l.conn(r.Connector); (r.Connector != 0 && c == nil) || !now.Before(r.Expiry) {
			l.emit(resvFact{r: r, del: true}) // expired while the station was down
			continue
		}
		if l.reservations == nil {
			l.reservations = map[int]*reservation{}
		}
		l.reservations[r.ID] = &reservation{r}
	}
	l.armResvTimer()
	for _, c := range l.conns {
		if c.sess == nil {
			if c.hw().Lock != nil && !c.switchFaulted() {
				if err := c.hw().Lock.Unlock(); err != nil {
					c.logger().Error("station: unlock", "err", err)
				}
			}
		} else {
			l.startPeriodic(c)
		}
		l.apply(c)
	}
	for _, c := range l.conns {
		l.resetPhases(c) // contactors open; a resumed session keeps its phases
	}
	l.booted = true
	l.report0()
	l.ticks.start(tickMeter, nil)
	l.startAligned()
	l.readMeters()
}

// endOrphans ends the orphans waiting for connector n's reading, with
// MeterStop from r (nil: no reading to be had), in the order boot found
// them.
func (l *loop) endOrphans(n int, r *meter.Reading) {
	if len(l.orphans) == 0 {
		return
	}
	keep := l.orphans[:0]
	for _, o := range l.orphans {
		if o.rec.Connector == n {
			l.endOrphan(o, r)
		} else {
			keep = append(keep, o)
		}
	}
	for i := len(keep); i < len(l.orphans); i++ {
		l.orphans[i] = orphan{} // let the records go
	}
	l.orphans = keep
	if len(keep) == 0 {
		l.orphans = nil
	}
}

// endOrphan ends a previous run's session, with MeterStop from r (nil: no
// reading to be had, MeterStop = MeterStart).
func (l *loop) endOrphan(o orphan, r *meter.Reading) {
	begin := meter.Reading{Time: o.rec.StartedAt, Fields: meter.FieldEnergyImport, EnergyImport: o.rec.MeterStart}
	end := meter.Reading{Time: l.s.opts.Clock.Now(), Fields: meter.FieldEnergyImport, EnergyImport: o.rec.MeterStart}
	if r != nil {
		end = *r
	}
	// A meter that reads less than the session already recorded was reset
	// or replaced while the station was down: bill what was recorded, not
	// a negative or smaller figure.
	floor := max(o.rec.MeterStart, o.rec.LastEnergy)
	if end.EnergyImport < floor {
		l.s.logger().Warn("station: meter reads less than the session recorded; ending at the recorded value",
			"session", o.rec.ID, "meter", end.EnergyImport, "recorded", floor)
		end.EnergyImport = floor
		end.Fields |= meter.FieldEnergyImport
	}
	l.s.logger().Info("station: ending session of a previous run", "session", o.rec.ID, "reason", o.reason)
	l.emit(endFact{end: SessionEnd{
		Connector: o.rec.Connector, SessionID: o.rec.ID, MeterStop: end.EnergyImport,
		At: l.s.opts.Clock.Now(), Reason: o.reason, Begin: begin, End: end,
	}})
}
