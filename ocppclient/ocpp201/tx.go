package ocpp201

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/station"
)

// Transactions (functional block E).
//
// A 2.0.1 transaction is not the station's session: TxStartPoint and
// TxStopPoint say when it begins and ends, and it may begin before the
// session (at EVConnected) or outlive it (until the cable is unplugged).
// The adapter keeps, per EVSE, the conditions the points name and derives
// them from the station's facts:
//
//   - EVConnected (and ParkingBayOccupancy, which has no sensor here): a
//     StatusChange to Charging, SuspendedEV, SuspendedEVSE or Finishing,
//     or to Preparing with the pilot in B, C or D (the snapshot's pilot:
//     Preparing alone also means "authorized, waiting for the plug");
//     any SessionStart; it ends with a StatusChange to Available,
//     Unavailable or Faulted, or Preparing with the pilot in A.
//   - Authorized: a SessionStart (the station reports one once the token
//     is authorized and the EV plugged in); it ends with the SessionEnd.
//   - PowerPathClosed (and DataSigned, which is not signed here): both of
//     the above.
//   - EnergyTransfer: a StatusChange to Charging; it ends when the status
//     leaves Charging.
//
// The transaction starts when the first condition of TxStartPoint holds,
// and ends when a condition of TxStopPoint that held stops holding. Its id
// is generated here (32 hex digits); seqNo counts its events from 0.
// Every event is queued durably (Started as KindStart, Updated as
// KindMeter, Ended as KindStop) keyed by the transaction id, with
// offline=true when queued while not registered. No bbolt commit is made
// when an event is queued: the queue's entry is the durable fact. After
// the Started event is delivered the adapter records the transaction (one
// commit), raises that record's seqNo bound once per 64 delivered events,
// and forgets the transaction when its Ended event is delivered; on
// restart it rebuilds the open transactions from those records and the
// events still queued.

// evseState is what the adapter knows of one EVSE. Guarded by txMu.
type evseState struct {
	connected, authorized, charging bool
	// status is the station's latest status of the connector.
	status station.Status
	// session is the station's running session; "" when none.
	session string
	// idToken is the session's token.
	idToken string
	// remote is a RequestStartTransaction waiting for its session.
	remote *remoteStart
	// tx is the open transaction; nil when none.
	tx *txState
}

type remoteStart struct {
	id    int
	token string
}

// txState is an open transaction. Guarded by txMu.
type txState struct {
	id  string
	seq int // the next seqNo
	// state is the chargingState last reported.
	state ChargingState
	// held records which stop conditions have held during the
	// transaction.
	held map[string]bool
	// stopReason is the reason of the session's end while the
	// transaction outlives it; "" while none. dcReason is the DC
	// sequence's reason with it, "" when none.
	stopReason station.StopReason
	dcReason   station.DCReason
	// end is the latest reading, for an Ended event after the session.
	end           meter.Reading
	remoteStartID *int
	// session is the station session bound to the transaction.
	session string
	// delivered marks that the Started event was answered (the store has
	// the record).
	delivered bool
	// started is when the transaction began (the anchor of Relative
	// charging profiles); after a restart, when it was recovered.
	started time.Time
}

func newTxID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// evse returns the state of EVSE n (1..NumEVSEs), or nil. txMu is held.
func (c *Charger) evse(n int) *evseState {
	if n < 1 || n >= len(c.evses) {
		return nil
	}
	return c.evses[n]
}

// conditions returns which transaction points hold for e.
func conditions(e *evseState) map[string]bool {
	return map[string]bool{
		"ParkingBayOccupancy": e.connected,
		"EVConnected":         e.connected,
		"Authorized":          e.authorized,
		"DataSigned":          e.connected && e.authorized,
		"PowerPathClosed":     e.connected && e.authorized,
		"EnergyTransfer":      e.charging,
	}
}

// chargingState is the 2.0.1 charging state of e.
func chargingState(e *evseState) ChargingState {
	switch {
	case e.status == station.Charging:
		return ChargingStateCharging
	case e.status == station.SuspendedEV:
		return ChargingStateSuspendedEV
	case e.status == station.SuspendedEVSE:
		return ChargingStateSuspendedEVSE
	case e.connected:
		return ChargingStateEVConnected
	}
	return ChargingStateIdle
}

// event is one TransactionEvent in the making.
type event struct {
	kind    TransactionEventKind
	trigger TriggerReason
	at      time.Time
	values  []MeterValue
	token   string
	reason  Reason
	resID   int
}

// step re-evaluates EVSE n after its conditions changed: it starts or
// ends the transaction, or reports a changed charging state, with trigger
// as the reason. txMu is held.
func (c *Charger) step(n int, trigger TriggerReason, at time.Time, ev event) error {
	e := c.evse(n)
	if e == nil {
		return nil
	}
	cond := conditions(e)
	if e.tx == nil {
		start := false
		for _, p := range c.listVar(refTxStartPoint) {
			start = start || cond[p]
		}
		if !start {
			return nil
		}
		ev.kind, ev.trigger, ev.at = TransactionEventKindStarted, trigger, at
		return c.startTx(n, e, ev)
	}
	for p, v := range cond {
		if v {
			e.tx.held[p] = true
		}
	}
	stop := false
	for _, p := range c.listVar(refTxStopPoint) {
		stop = stop || (e.tx.held[p] && !cond[p])
	}
	if stop {
		ev.kind, ev.trigger, ev.at = TransactionEventKindEnded, trigger, at
		return c.emit(n, e, ev)
	}
	if st := chargingState(e); st != e.tx.state || ev.token != "" || len(ev.values) > 0 || ev.trigger != "" {
		ev.kind, ev.at = TransactionEventKindUpdated, at
		if ev.trigger == "" {
			ev.trigger = trigger
		}
		return c.emit(n, e, ev)
	}
	return nil
}

func (c *Charger) startTx(n int, e *evseState, ev event) error {
	prevRemote := e.remote
	e.tx = &txState{id: newTxID(), held: map[string]bool{}, session: e.session, started: ev.at}
	c.pricingTxStarted(n)
	for p, v := range conditions(e) {
		if v {
			e.tx.held[p] = true
		}
	}
	if e.remote != nil && e.authorized {
		id := e.remote.id
		e.tx.remoteStartID = &id
		ev.trigger = TriggerReasonRemoteStart
		e.remote = nil
	}
	if e.authorized && ev.token == "" {
		ev.token = e.idToken
	}
	if err := c.emit(n, e, ev); err != nil {
		// Not queued (a full disk): no transaction yet, so that the
		// station's report of the fact again starts it then.
		e.tx, e.remote = nil, prevRemote
		return err
	}
	return nil
}

// emit queues one TransactionEvent of e's transaction and advances it.
// txMu is held.
func (c *Charger) emit(n int, e *evseState, ev event) error {
	tx := e.tx
	state := chargingState(e)
	req := &TransactionEventRequest{
		EventType:     ev.kind,
		Timestamp:     NewDateTime(ev.at),
		TriggerReason: ev.trigger,
		SeqNo:         tx.seq,
		TransactionInfo: Transaction{
			TransactionID: tx.id,
			RemoteStartID: nil,
		},
		MeterValue: ev.values,
	}
	if state != tx.state || ev.kind != TransactionEventKindUpdated {
		req.TransactionInfo.ChargingState = state
	}
	if ev.kind == TransactionEventKindStarted {
		connector := 1
		req.EVSE = &EVSE{ID: n, ConnectorID: &connector}
		req.TransactionInfo.RemoteStartID = tx.remoteStartID
	} else if ev.trigger == TriggerReasonRemoteStart {
		req.TransactionInfo.RemoteStartID = tx.remoteStartID
	}
	if ev.kind == TransactionEventKindEnded {
		req.TransactionInfo.StoppedReason = ev.reason
		if req.TransactionInfo.StoppedReason == "" {
			req.TransactionInfo.StoppedReason = txStoppedReason(tx.stopReason, tx.dcReason, e)
		}
		req.TransactionInfo.ChargingState = ""
	}
	if ev.token != "" {
		req.IDToken = &IDToken{IDToken: ev.token, Type: tokenKind(ev.token)}
	}
	if ev.resID != 0 {
		id := ev.resID
		req.ReservationID = &id
	}
	if !c.isOnline() {
		t := true
		req.Offline = &t
	}
	kind := ocppclient.KindMeter
	switch ev.kind {
	case TransactionEventKindStarted:
		kind = ocppclient.KindStart
	case TransactionEventKindEnded:
		kind = ocppclient.KindStop
	}
	if err := req.Validate(); err != nil {
		c.log.Error("ocpp201 queuing a TransactionEvent that breaks the schema", "transactionId", tx.id, "err", err)
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("ocpp201 TransactionEvent: %w", err)
	}
	if _, err := c.queue.Enqueue(ocppclient.Entry{Kind: kind, Action: ActionTransactionEvent, Key: tx.id, Payload: payload}); err != nil {
		return fmt.Errorf("ocpp201 TransactionEvent %s of %s: %w", ev.kind, tx.id, err)
	}
	c.log.Debug("ocpp201 queued TransactionEvent", "eventType", ev.kind, "transactionId", tx.id, "seqNo", tx.seq, "trigger", ev.trigger)
	tx.seq++
	if req.TransactionInfo.ChargingState != "" {
		tx.state = req.TransactionInfo.ChargingState
	}
	if ev.kind == TransactionEventKindEnded {
		e.tx = nil
		c.txEnded(n, tx.id)
		c.pricingTxEnded(n, tx.id, req.Offline != nil)
	}
	return nil
}

// stoppedReason maps the reason the station's session ended with.
func stoppedReason(r station.StopReason, e *evseState) Reason {
	switch r {
	case station.ReasonDeAuthorized:
		return ReasonDeAuthorized
	case station.ReasonEmergencyStop:
		return ReasonEmergencyStop
	case station.ReasonEVDisconnected:
		return ReasonEVDisconnected
	case station.ReasonHardReset, station.ReasonSoftReset:
		return ReasonImmediateReset
	case station.ReasonLocal:
		return ReasonLocal
	case station.ReasonPowerLoss:
		return ReasonPowerLoss
	case station.ReasonReboot:
		return ReasonReboot
	case station.ReasonRemote:
		return ReasonRemote
	case station.ReasonUnlockCommand:
		return ReasonOther
	case "":
		if !e.connected {
			return ReasonEVDisconnected
		}
		return ReasonLocal
	}
	return ReasonOther
}

// txStoppedReason is the stoppedReason of a session that ended for r and,
// on a DC connector, dc (the DC sequence's reason, "" when it did not end
// the session): the DC reason names the cause more precisely than r
// (Other for most of them).
func txStoppedReason(r station.StopReason, dc station.DCReason, e *evseState) Reason {
	if dc != "" {
		return dcStoppedReason(dc)
	}
	return stoppedReason(r, e)
}

// dcStoppedReason maps why the DC sequence ended a session to 2.0.1's
// ReasonEnumType. 2.0.1 has no reason for a power switch (a welded or
// failed contactor), a supply fault or a vehicle that went silent: those
// are Other, their detail in the connector's fault and the log.
func dcStoppedReason(dc station.DCReason) Reason {
	switch dc {
	case station.DCEVStopped:
		return ReasonStoppedByEV
	case station.DCIsolationFault:
		return ReasonGroundFault
	case station.DCParameterTimeout, station.DCCableCheckTimeout, station.DCPreChargeTimeout, station.DCPowerDownTimeout:
		return ReasonTimeout
	case station.DCEmergencyStop:
		return ReasonEmergencyStop
	}
	return ReasonOther
}

// dcStopTrigger is stopTrigger for a session the DC sequence may have
// ended: the vehicle stopping is a change of its charging state, a lost
// vehicle lost communication, and the faults and timeouts are abnormal
// conditions.
func dcStopTrigger(r station.StopReason, dc station.DCReason) TriggerReason {
	switch dc {
	case "":
		return stopTrigger(r)
	case station.DCEVStopped:
		return TriggerReasonChargingStateChanged
	case station.DCVehicleLost:
		return TriggerReasonEVCommunicationLost
	}
	return TriggerReasonAbnormalCondition
}

// stopTrigger is the triggerReason of an event caused by a session end.
func stopTrigger(r station.StopReason) TriggerReason {
	switch r {
	case station.ReasonRemote:
		return TriggerReasonRemoteStop
	case station.ReasonDeAuthorized:
		return TriggerReasonDeauthorized
	case station.ReasonEVDisconnected:
		return TriggerReasonEVCommunicationLost
	case station.ReasonHardReset, station.ReasonSoftReset:
		return TriggerReasonResetCommand
	case station.ReasonUnlockCommand:
		return TriggerReasonUnlockCommand
	case station.ReasonLocal:
		return TriggerReasonStopAuthorized
	}
	return TriggerReasonAbnormalCondition
}

// tokenKind guesses the IdTokenType of a token the station knows only as
// a string: "FREE" (free charging) is NoAuthorization; tokens of 8, 14 or
// 20 hex digits are card UIDs (ISO14443); anything else is Central (a
// token the CSMS handed out, e.g. in a remote start).
func tokenKind(token string) IDTokenKind {
	if token == station.FreeIDTag {
		return IDTokenKindNoAuthorization
	}
	if n := len(token); n == 8 || n == 14 || n == 20 {
		if _, err := hex.DecodeString(token); err == nil {
			return IDTokenKindISO14443
		}
	}
	return IDTokenKindCentral
}

// StatusChanged implements station.Reporter: it records the status for
// StatusNotification and moves the transaction points. It does not block
// on the network.
func (c *Charger) StatusChanged(s station.StatusChange) {
	c.logFault(s)
	c.status.update(s)
	c.reservationsStatusChanged(s)
	if s.Connector < 1 {
		return
	}
	connected := false
	switch s.Status {
	case station.Charging, station.SuspendedEV, station.SuspendedEVSE, station.Finishing:
		connected = true
	case station.Preparing:
		connected = c.pilotConnected(s.Connector)
	}
	c.txMu.Lock()
	defer c.txMu.Unlock()
	e := c.evse(s.Connector)
	if e == nil {
		return
	}
	trigger := TriggerReasonChargingStateChanged
	switch {
	case connected && !e.connected:
		trigger = TriggerReasonCablePluggedIn
	case !connected && e.connected:
		trigger = TriggerReasonEVCommunicationLost
	}
	if !connected && e.session == "" && e.authorized {
		e.authorized = false // an authorization that timed out waiting for the plug
		trigger = TriggerReasonEVConnectTimeout
	}
	e.status, e.connected, e.charging = s.Status, connected || e.session != "" && s.Status == station.Preparing, s.Status == station.Charging
	if err := c.step(s.Connector, trigger, s.At, event{}); err != nil {
		c.log.Error("ocpp201 TransactionEvent on status change not queued", "evse", s.Connector, "err", err)
	}
}

// pilotConnected reports whether the station's snapshot shows a vehicle
// on the connector (pilot B, C or D); without a snapshot, true.
func (c *Charger) pilotConnected(n int) bool {
	st, err := c.station()
	if err != nil {
		return true
	}
	snap, err := st.Status(context.Background())
	if err != nil {
		return true
	}
	for _, cs := range snap.Connectors {
		if cs.ID == n {
			return cs.Pilot == hal.PilotUnknown || cs.Pilot == hal.PilotB || cs.Pilot == hal.PilotC || cs.Pilot == hal.PilotD
		}
	}
	return true
}

// SessionStarted implements station.Reporter: the session's token makes
// the EVSE Authorized (and connected); the transaction starts now or, if
// it is already open, reports the authorization. It returns once the
// event is durable.
func (c *Charger) SessionStarted(ctx context.Context, s station.SessionStart) error {
	txID, err := c.sessionStarted(s)
	if err != nil {
		return err
	}
	c.pricingSessionStarted(ctx, s)
	c.transactionLimits(ctx, s.Connector, s.IDTag, txID)
	return nil
}

// sessionStarted is SessionStarted's transaction step; it returns the
// open transaction of the EVSE ("" when none).
func (c *Charger) sessionStarted(s station.SessionStart) (string, error) {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	e := c.evse(s.Connector)
	if e == nil {
		return "", fmt.Errorf("ocpp201: session on unknown EVSE %d", s.Connector)
	}
	if e.session == s.SessionID || (e.tx != nil && e.tx.session == s.SessionID) {
		c.log.Warn("ocpp201 session start reported again", "session", s.SessionID)
		return "", nil
	}
	// Put back if the event cannot be queued: the station reports the
	// start again, and it must not then look reported.
	prevSession, prevToken, prevAuthorized, prevConnected, prevRemote := e.session, e.idToken, e.authorized, e.connected, e.remote
	var prevTxSession string
	var prevRemoteStartID *int
	if e.tx != nil {
		prevTxSession, prevRemoteStartID = e.tx.session, e.tx.remoteStartID
	}
	undo := func() {
		e.session, e.idToken, e.authorized, e.connected, e.remote = prevSession, prevToken, prevAuthorized, prevConnected, prevRemote
		if e.tx != nil {
			e.tx.session, e.tx.remoteStartID = prevTxSession, prevRemoteStartID
		}
	}
	e.session, e.idToken, e.authorized, e.connected = s.SessionID, s.IDTag, true, true
	trigger := TriggerReasonAuthorized
	ev := event{token: s.IDTag, resID: s.ReservationID}
	if values := c.beginValues(s); len(values) > 0 && e.tx == nil {
		ev.values = values
	}
	if e.tx != nil {
		e.tx.session = s.SessionID
		if e.remote != nil {
			id := e.remote.id
			e.tx.remoteStartID = &id
			e.remote = nil
			trigger = TriggerReasonRemoteStart
		}
		ev.trigger = trigger
	}
	if s.ReservationID != 0 {
		c.reservationUsed(s.ReservationID)
	}
	if err := c.step(s.Connector, trigger, s.At, ev); err != nil {
		undo()
		return "", err
	}
	if e.tx == nil {
		return "", nil
	}
	c.attach(s.SessionID, e.tx.id)
	return e.tx.id, nil
}

// attach tells the station the session's transaction id, off the
// Reporter's goroutine.
func (c *Charger) attach(session, txID string) {
	st, err := c.station()
	if err != nil {
		return
	}
	c.background.Go(func() {
		if err := st.AttachTransactionID(context.Background(), session, txID); err != nil {
			c.log.Warn("ocpp201 attach transactionId", "session", session, "err", err)
		}
	})
}

// beginValues are the TxStartedMeasurands of a session's start (only the
// energy register is known then).
func (c *Charger) beginValues(s station.SessionStart) []MeterValue {
	r := meter.Reading{Time: s.At, Fields: meter.FieldEnergyImport, EnergyImport: s.MeterStart}
	return meterValues(r, s.At, ReadingContextTransactionBegin, c.measurands(refTxStartedMeasurands))
}

// SampleTaken implements station.Reporter. A sample of an EVSE with an
// open transaction is an Updated event (TxUpdatedMeasurands, trigger
// MeterValuePeriodic; clock-aligned ones AlignedDataCtrlr.Measurands,
// trigger MeterValueClock); a clock-aligned sample outside one is a
// MeterValues sent best effort.
func (c *Charger) SampleTaken(ctx context.Context, s station.Sample) error {
	ref, trigger, rc := refTxUpdatedMeasurands, TriggerReasonMeterValuePeriodic, ReadingContextSamplePeriodic
	if s.Context == station.ContextClock {
		ref, trigger, rc = refAlignedMeasurands, TriggerReasonMeterValueClock, ReadingContextSampleClock
	}
	at := s.At
	if at.IsZero() {
		at = s.Reading.Time
	}
	values := meterValuesDC(s.Reading, s.DC, at, rc, c.measurands(ref))
	c.txMu.Lock()
	e := c.evse(s.Connector)
	if e != nil && e.tx != nil {
		e.tx.end = s.Reading
		if len(values) == 0 {
			c.txMu.Unlock()
			return nil
		}
		err := c.emit(s.Connector, e, event{kind: TransactionEventKindUpdated, trigger: trigger, at: at, values: values})
		c.txMu.Unlock()
		return err
	}
	c.txMu.Unlock()
	if s.Context == station.ContextClock && len(values) > 0 {
		c.sendIdle(&MeterValuesRequest{EVSEID: s.Connector, MeterValue: values})
	}
	return nil
}

// sendIdle sends a MeterValues on its own goroutine when registered.
func (c *Charger) sendIdle(req *MeterValuesRequest) {
	caller := c.transport()
	if caller == nil {
		return
	}
	c.background.Go(func() {
		if err := call(c.runContext(), caller, ActionMeterValues, req, &MeterValuesResponse{}); err != nil {
			c.log.Debug("ocpp201 idle meter values not sent", "evse", req.EVSEID, "err", err)
		}
	})
}

// SessionEnded implements station.Reporter: the EVSE is no longer
// Authorized; the transaction ends now if TxStopPoint says so (with
// TxEndedMeasurands of the begin and end readings), else it reports the
// end of the authorization and goes on until its stop point. It returns
// once the event is durable.
func (c *Charger) SessionEnded(ctx context.Context, s station.SessionEnd) error {
	if err := c.sessionEnded(s); err != nil {
		return err
	}
	c.refreshLimits(ctx)
	return nil
}

// sessionEnded is SessionEnded's transaction step.
func (c *Charger) sessionEnded(s station.SessionEnd) error {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	e := c.evse(s.Connector)
	if e == nil {
		return fmt.Errorf("ocpp201: session end on unknown EVSE %d", s.Connector)
	}
	if e.session != s.SessionID && (e.tx == nil || e.tx.session != s.SessionID) {
		if e.tx == nil || e.tx.session != "" {
			c.log.Warn("ocpp201 session end of no open transaction", "session", s.SessionID, "evse", s.Connector)
			return nil
		}
		// A transaction recovered after a restart, its session unknown.
	}
	e.session, e.authorized = "", false
	if s.Reason == station.ReasonEVDisconnected {
		e.connected = false
	}
	ev := event{}
	if e.tx != nil {
		e.tx.stopReason, e.tx.dcReason = s.Reason, s.DCReason
		e.tx.end = s.End
		ev.reason = txStoppedReason(s.Reason, s.DCReason, e)
		if s.DCReason != "" {
			c.log.Info("ocpp201 DC sequence ended the session", "evse", s.Connector, "session", s.SessionID,
				"dcReason", s.DCReason, "stoppedReason", ev.reason)
		}
		if s.IDTag != "" && s.IDTag != e.idToken {
			ev.token = s.IDTag
		}
		ev.values = c.endValues(s)
	}
	e.idToken = ""
	return c.step(s.Connector, dcStopTrigger(s.Reason, s.DCReason), s.At, ev)
}

// endValues are the TxEndedMeasurands of the begin and end readings.
func (c *Charger) endValues(s station.SessionEnd) []MeterValue {
	want := c.measurands(refTxEndedMeasurands)
	var out []MeterValue
	for _, r := range []struct {
		reading meter.Reading
		ctx     ReadingContext
	}{{s.Begin, ReadingContextTransactionBegin}, {s.End, ReadingContextTransactionEnd}} {
		at := r.reading.Time
		if at.IsZero() {
			if r.ctx == ReadingContextTransactionBegin {
				continue
			}
			at = s.At
		}
		if r.ctx == ReadingContextTransactionEnd && !r.reading.Fields.Has(meter.FieldEnergyImport) {
			r.reading.Fields |= meter.FieldEnergyImport
			r.reading.EnergyImport = s.MeterStop
		}
		out = append(out, meterValues(r.reading, at, r.ctx, want)...)
	}
	return out
}

// txEnded runs what waited for the end of EVSE n's transaction txID: the
// end of its TxProfiles, a Reset OnIdle. txMu is held.
func (c *Charger) txEnded(n int, txID string) {
	c.background.Go(func() {
		c.transactionEndedLimits(c.runContext(), txID)
		c.runScheduled(n)
	})
}

// openTransaction returns the open transaction id of EVSE n, or "".
func (c *Charger) openTransaction(n int) string {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	if e := c.evse(n); e != nil && e.tx != nil {
		return e.tx.id
	}
	return ""
}

// findTransaction returns the EVSE and session of an open transaction.
func (c *Charger) findTransaction(id string) (evse int, session string, ok bool) {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	for n, e := range c.evses {
		if e != nil && e.tx != nil && e.tx.id == id {
			return n, e.session, true
		}
	}
	return 0, "", false
}

// anyTransaction reports whether a transaction is open on any EVSE.
func (c *Charger) anyTransaction() bool {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	return slices.ContainsFunc(c.evses, func(e *evseState) bool { return e != nil && e.tx != nil })
}

// Prepare implements ocppclient.DeliveryHooks: every payload goes as
// queued (transaction ids are the adapter's own, and the offline flag is
// set when the event is queued).
func (c *Charger) Prepare(e ocppclient.Entry) (json.RawMessage, error) { return e.Payload, nil }

// Delivered implements ocppclient.DeliveryHooks. For a TransactionEvent it
// keeps the transaction's record (see the overview above), shows the
// driver the answer's texts and cost (pricing.go), updates the
// authorization cache from idTokenInfo and deauthorizes the session when
// the CSMS did not accept its token.
func (c *Charger) Delivered(e ocppclient.Entry, resp json.RawMessage) error {
	if e.Action != ActionTransactionEvent {
		return nil
	}
	var req TransactionEventRequest
	if err := json.Unmarshal(e.Payload, &req); err != nil {
		c.log.Error("ocpp201 queued TransactionEvent unreadable", "seq", e.Seq, "err", err)
		return nil
	}
	id := req.TransactionInfo.TransactionID
	if err := c.recordDelivered(&req); err != nil {
		return err
	}
	var conf TransactionEventResponse
	if err := DecodeResponse(e.Action, resp, &conf); err != nil {
		c.log.Warn("ocpp201 TransactionEvent answer", "transactionId", id, "err", err)
		return nil
	}
	c.pricingDelivered(context.Background(), &req, &conf)
	if conf.IDTokenInfo == nil {
		return nil
	}
	if req.IDToken != nil {
		c.cacheToken(req.IDToken.IDToken, *conf.IDTokenInfo)
	}
	if conf.IDTokenInfo.Status != AuthorizationStatusAccepted && req.EventType != TransactionEventKindEnded {
		_, session, ok := c.findTransaction(id)
		if !ok || session == "" {
			return nil
		}
		c.log.Info("ocpp201 token refused in TransactionEvent answer", "transactionId", id, "status", conf.IDTokenInfo.Status)
		if st, err := c.station(); err == nil {
			if err := st.Deauthorize(context.Background(), session); err != nil {
				c.log.Warn("ocpp201 deauthorize", "session", session, "err", err)
			}
		}
	}
	return nil
}

// recordDelivered keeps the store's record of a transaction whose event
// was delivered.
func (c *Charger) recordDelivered(req *TransactionEventRequest) error {
	id := req.TransactionInfo.TransactionID
	switch req.EventType {
	case TransactionEventKindEnded:
		if err := c.store.deleteTx(id); err != nil {
			c.log.Warn("ocpp201 forget transaction", "transactionId", id, "err", err)
		}
		return nil
	case TransactionEventKindStarted:
		evse := 0
		if req.EVSE != nil {
			evse = req.EVSE.ID
		}
		_, session, _ := c.findTransaction(id)
		return c.store.putTx(id, txRecord{EVSE: evse, Session: session, SeqHi: req.SeqNo + seqReserve})
	}
	rec, found, err := c.store.txRecord(id)
	if err != nil || !found || req.SeqNo < rec.SeqHi-1 {
		return err
	}
	rec.SeqHi = req.SeqNo + seqReserve
	return c.store.putTx(id, rec)
}

// Abandoned implements ocppclient.DeliveryHooks: a transaction message the
// CSMS refused MessageAttempts times is logged for a human; it stays in
// the dead-letter bucket.
func (c *Charger) Abandoned(e ocppclient.Entry, last *ocppclient.CallError) {
	c.log.Error("ocpp201 message abandoned after repeated failures; kept in the dead-letter bucket",
		"action", e.Action, "key", e.Key, "seq", e.Seq, "attempts", e.Attempts, "err", last, "payload", string(e.Payload))
}

// recoverTransactions rebuilds the open transactions after a restart from
// the store's records and the queued events.
func (c *Charger) recoverTransactions() error {
	c.evses = make([]*evseState, c.opts.NumEVSEs+1)
	for n := 1; n <= c.opts.NumEVSEs; n++ {
		c.evses[n] = &evseState{status: station.Available}
	}
	recs, err := c.store.txRecords()
	if err != nil {
		return err
	}
	type seen struct {
		evse    int
		next    int
		queued  int // the highest queued seqNo + 1; 0 while none is queued
		ended   bool
		session string
	}
	open := map[string]*seen{}
	for id, r := range recs {
		if !r.Ended {
			open[id] = &seen{evse: r.EVSE, next: r.SeqHi, session: r.Session}
		}
	}
	entries, err := c.queue.Entries()
	if err != nil {
		return err
	}
	for _, en := range entries {
		if en.Action != ActionTransactionEvent {
			continue
		}
		var req TransactionEventRequest
		if json.Unmarshal(en.Payload, &req) != nil {
			continue
		}
		s := open[req.TransactionInfo.TransactionID]
		if s == nil {
			s = &seen{}
			open[req.TransactionInfo.TransactionID] = s
		}
		if req.EVSE != nil {
			s.evse = req.EVSE.ID
		}
		s.queued = max(s.queued, req.SeqNo+1)
		s.ended = s.ended || req.EventType == TransactionEventKindEnded
	}
	for _, s := range open {
		// A queued event is exact: events are queued in seqNo order and
		// leave the queue in that order, so the last one written is still
		// there. Only when every event was delivered does the next seqNo
		// come from the store's reserve, which may skip some.
		if s.queued > 0 {
			s.next = s.queued
		}
	}
	for id, s := range open {
		e := c.evse(s.evse)
		if s.ended || e == nil {
			continue
		}
		if e.tx != nil {
			c.log.Warn("ocpp201 two open transactions on one EVSE after restart; keeping one", "evse", s.evse, "transactionId", id)
			continue
		}
		// The conditions that held are unknown; the session, if it
		// resumes, reports again. The transaction ends at the first fact
		// that breaks a stop point.
		e.tx = &txState{id: id, seq: s.next, held: map[string]bool{"EVConnected": true, "Authorized": true,
			"PowerPathClosed": true, "DataSigned": true, "ParkingBayOccupancy": true, "EnergyTransfer": true},
			session: s.session, delivered: true, started: c.clk.Now()}
		e.connected, e.authorized, e.session = true, s.session != "", s.session
	}
	return nil
}
