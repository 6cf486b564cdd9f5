package ocpp16

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/station"
)

// unknownTxID is patched into a StopTransaction whose StartTransaction was
// abandoned (refused TransactionMessageAttempts times), so that no id was
// ever assigned. The queue is FIFO, so this is the only way to reach a Stop
// without an id; sending it beats blocking every later message, and if the
// CSMS refuses it too it is dead-lettered and kept on disk for billing.
const unknownTxID = -1

// wh converts an energy register to the integer Wh of meterStart and
// meterStop, rounding down like the register's own display, so that
// meterStop - meterStart never exceeds what was measured.
func wh(e meter.Energy) int { return int(e / meter.WattHour) }

// SessionStarted implements station.Reporter: it queues a StartTransaction
// and returns once it is durable.
func (c *Charger) SessionStarted(ctx context.Context, s station.SessionStart) error {
	req := &StartTransactionRequest{
		ConnectorID: s.Connector,
		IDTag:       s.IDTag,
		MeterStart:  wh(s.MeterStart),
		Timestamp:   NewDateTime(s.At),
	}
	if s.ReservationID != 0 {
		id := s.ReservationID
		req.ReservationID = &id
	}
	if dup, err := c.reported(ActionStartTransaction, s.SessionID); err != nil || dup {
		return err
	}
	if err := c.enqueue(ocppclient.KindStart, ActionStartTransaction, s.SessionID, req); err != nil {
		return err
	}
	// Before this returns the station lets no energy flow: the limits of
	// the new transaction are in force by then.
	c.sessionStartedLimits(ctx, s)
	c.pricingSessionStarted(ctx, s)
	return nil
}

// reported tells whether the StartTransaction (or StopTransaction) of a
// session is already queued or was already answered. The station reports
// session steps at least once: a power cut between its Reporter call and
// its own bookkeeping makes the next run report the step again, possibly
// with other content (an end seen as EVDisconnected before the cut and as
// PowerLoss after it). A second StartTransaction would open a second
// transaction at the CSMS that nothing ever stops, and a second
// StopTransaction would contradict the first, so the step is queued once
// per session.
func (c *Charger) reported(action, session string) (bool, error) {
	rec, found, err := c.tx.record(session)
	if err != nil {
		return false, err
	}
	if found && (action == ActionStartTransaction || !rec.StoppedAt.IsZero()) {
		c.log.Warn("ocpp16 session step reported again; already answered", "action", action, "session", session)
		return true, nil
	}
	kind := ocppclient.KindStart
	if action == ActionStopTransaction {
		kind = ocppclient.KindStop
	}
	queued, err := c.queue.Find(kind, session, action)
	if err != nil {
		return false, fmt.Errorf("ocpp16 %s of session %s: %w", action, session, err)
	}
	if queued {
		c.log.Warn("ocpp16 session step reported again; already queued", "action", action, "session", session)
	}
	return queued, nil
}

// SampleTaken implements station.Reporter. A sample of a session is queued
// as a MeterValues of its transaction (the transactionId is filled in at
// send time); a sample of an idle connector is sent best effort when
// registered and dropped otherwise, as it bills nothing. The measurands are
// those of MeterValuesAlignedData for clock-aligned samples and of
// MeterValuesSampledData otherwise; a sample that has none of them is not
// sent.
func (c *Charger) SampleTaken(ctx context.Context, s station.Sample) error {
	key := KeyMeterValuesSampledData
	if s.Context == station.ContextClock {
		key = KeyMeterValuesAlignedData
	}
	values := sampledValuesDC(s.Reading, s.DC, ReadingContext(s.Context), c.cfg.Measurands(key))
	if len(values) == 0 {
		return nil
	}
	req := &MeterValuesRequest{
		ConnectorID: s.Connector,
		MeterValue:  []MeterValue{{Timestamp: NewDateTime(sampleTime(s.At, s.Reading)), SampledValue: values}},
	}
	if s.SessionID != "" {
		return c.enqueue(ocppclient.KindMeter, ActionMeterValues, s.SessionID, req)
	}
	c.sendIdle(req)
	return nil
}

// sampleTime is when a sample was taken: the fact's time, else the
// reading's.
func sampleTime(at time.Time, r meter.Reading) time.Time {
	if at.IsZero() {
		return r.Time
	}
	return at
}

// sendIdle sends an idle MeterValues on its own goroutine, at most one at a
// time, so that a slow CSMS neither delays the station's next fact nor piles
// up goroutines.
func (c *Charger) sendIdle(req *MeterValuesRequest) {
	caller := c.transport()
	if caller == nil {
		return
	}
	if !c.idleSending.CompareAndSwap(false, true) {
		c.log.Debug("ocpp16 idle meter values dropped: previous one still in flight", "connector", req.ConnectorID)
		return
	}
	c.background.Go(func() {
		defer c.idleSending.Store(false)
		if err := call(context.Background(), caller, ActionMeterValues, req, &MeterValuesResponse{}); err != nil {
			c.log.Debug("ocpp16 idle meter values not sent", "connector", req.ConnectorID, "err", err)
		}
	})
}

// SessionEnded implements station.Reporter: it queues a StopTransaction
// (the transactionId is filled in at send time) with the reason and, per
// StopTxnSampledData, the begin and end readings as transaction data, and
// returns once it is durable.
func (c *Charger) SessionEnded(ctx context.Context, s station.SessionEnd) error {
	reason := Reason(s.Reason)
	if !reason.IsValid() {
		reason = ReasonOther
	}
	req := &StopTransactionRequest{
		IDTag:     s.IDTag,
		MeterStop: wh(s.MeterStop),
		Timestamp: NewDateTime(s.At),
		// Reason is always explicit, Local included, so that the CSMS
		// never has to rely on the default.
		Reason: reason,
	}
	measurands := c.cfg.Measurands(KeyStopTxnSampledData)
	endAt := s.End.Time
	if endAt.IsZero() {
		endAt = s.At
	}
	for _, r := range []struct {
		reading meter.Reading
		ctx     ReadingContext
		at      time.Time
	}{
		{s.Begin, ReadingContextTransactionBegin, s.Begin.Time},
		{s.End, ReadingContextTransactionEnd, endAt},
	} {
		if r.at.IsZero() {
			continue // a reading without a time cannot be a MeterValue
		}
		if v := sampledValues(r.reading, r.ctx, measurands); len(v) > 0 {
			req.TransactionData = append(req.TransactionData, MeterValue{Timestamp: NewDateTime(r.at), SampledValue: v})
		}
	}
	if dup, err := c.reported(ActionStopTransaction, s.SessionID); err != nil || dup {
		return err
	}
	if err := c.enqueue(ocppclient.KindStop, ActionStopTransaction, s.SessionID, req); err != nil {
		return err
	}
	c.sessionEndedLimits(ctx, s)
	c.pricingSessionEnded(s)
	return nil
}

// enqueue stores a transaction message durably. A message that breaks the
// schema (an id tag longer than 20 characters from a card reader) is still
// queued, since it is a billing record: the CSMS may refuse it, and then it
// ends in the dead-letter bucket, where it is kept.
func (c *Charger) enqueue(kind ocppclient.EntryKind, action, session string, req interface{ Validate() error }) error {
	if err := req.Validate(); err != nil {
		c.log.Error("ocpp16 queuing a message that breaks the schema", "action", action, "session", session, "err", err)
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("ocpp16 %s: %w", action, err)
	}
	e, err := c.queue.Enqueue(ocppclient.Entry{Kind: kind, Action: action, Key: session, Payload: payload})
	if err != nil {
		return fmt.Errorf("ocpp16 %s of session %s: %w", action, session, err)
	}
	c.log.Debug("ocpp16 queued", "action", action, "session", session, "seq", e.Seq)
	return nil
}

// Prepare implements ocppclient.DeliveryHooks: it fills in the
// transactionId of a session's MeterValues and StopTransaction from the
// durable map that Delivered keeps. A MeterValues of a transaction with no
// id (its StartTransaction was abandoned) is sent without one. A
// ConnectorUnplugged queued before its transaction had an id gets it too.
func (c *Charger) Prepare(e ocppclient.Entry) (json.RawMessage, error) {
	if e.Action == ActionDataTransfer && e.Key != "" {
		return c.prepareUnplugged(e)
	}
	if e.Key == "" || (e.Action != ActionMeterValues && e.Action != ActionStopTransaction) {
		return e.Payload, nil
	}
	id, err := c.tx.TransactionID(e.Key)
	switch {
	case errors.Is(err, errNoTxID) && e.Action == ActionMeterValues:
		return e.Payload, nil
	case errors.Is(err, errNoTxID):
		c.log.Error("ocpp16 StopTransaction of a session without transactionId", "session", e.Key, "seq", e.Seq)
		id = unknownTxID
	case err != nil:
		return nil, err
	}
	return patchTransactionID(e.Payload, id)
}

// patchTransactionID sets the "transactionId" member of a JSON object,
// keeping every other member as it is.
func patchTransactionID(payload json.RawMessage, id int) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(payload, &obj); err != nil {
		return nil, fmt.Errorf("ocpp16 patch transactionId: %w", err)
	}
	obj["transactionId"] = json.RawMessage(strconv.Itoa(id))
	return json.Marshal(obj)
}

// Delivered implements ocppclient.DeliveryHooks. For a StartTransaction it
// stores the assigned transactionId durably before returning, since the
// queue forgets the entry right after; then it tells the station, and
// deauthorizes the session if the CSMS refused its id tag. A StopTransaction
// retires its transaction. Both update the authorization cache with the
// idTagInfo.
func (c *Charger) Delivered(e ocppclient.Entry, resp json.RawMessage) error {
	switch e.Action {
	case ActionStartTransaction:
		return c.startDelivered(e, resp)
	case ActionStopTransaction:
		var conf StopTransactionResponse
		if err := DecodeResponse(e.Action, resp, &conf); err != nil {
			// The CSMS has the Stop; an answer we cannot read changes
			// nothing worth sending it again for.
			c.log.Warn("ocpp16 StopTransaction answer", "session", e.Key, "err", err)
		} else if conf.IdTagInfo != nil {
			c.cacheIDTag(e.Payload, *conf.IdTagInfo)
		}
		if err := c.tx.Stopped(e.Key, c.clk.Now()); err != nil {
			c.log.Warn("ocpp16 retire transaction", "session", e.Key, "err", err)
		}
	}
	return nil
}

func (c *Charger) startDelivered(e ocppclient.Entry, resp json.RawMessage) error {
	var conf StartTransactionResponse
	if err := DecodeResponse(e.Action, resp, &conf); err != nil {
		// Without a transactionId nothing of this session can be
		// reported: ask again (the CSMS sees a duplicate Start, which is
		// better than a lost one).
		return fmt.Errorf("ocpp16 StartTransaction answer of session %s: %w", e.Key, err)
	}
	if err := c.tx.Put(e.Key, conf.TransactionID); err != nil {
		return err
	}
	c.log.Info("ocpp16 transaction started", "session", e.Key, "transactionId", conf.TransactionID,
		"idTagStatus", conf.IdTagInfo.Status)
	c.cacheIDTag(e.Payload, conf.IdTagInfo)

	st, err := c.station()
	if err != nil {
		c.log.Warn("ocpp16 transactionId not attached", "session", e.Key, "err", err)
		return nil
	}
	// The station's loop answers these quickly, and returns ErrStopped
	// once it has stopped, so the drain cannot hang on them.
	ctx := context.Background()
	if err := st.AttachTransactionID(ctx, e.Key, strconv.Itoa(conf.TransactionID)); err != nil {
		c.log.Warn("ocpp16 attach transactionId", "session", e.Key, "err", err)
	}
	if conf.IdTagInfo.Status != AuthorizationStatusAccepted {
		c.log.Info("ocpp16 id tag refused at StartTransaction", "session", e.Key, "status", conf.IdTagInfo.Status)
		if err := st.Deauthorize(ctx, e.Key); err != nil {
			c.log.Warn("ocpp16 deauthorize", "session", e.Key, "err", err)
		}
	}
	return nil
}

// cacheIDTag updates the authorization cache from the idTagInfo answering
// a Start or Stop whose payload names the tag.
func (c *Charger) cacheIDTag(payload json.RawMessage, info IdTagInfo) {
	var req struct {
		IDTag string `json:"idTag"`
	}
	if json.Unmarshal(payload, &req) != nil || req.IDTag == "" {
		return
	}
	c.updateCache(req.IDTag, info)
}

// Abandoned implements ocppclient.DeliveryHooks. A transaction message the
// CSMS refused TransactionMessageAttempts times is a billing problem for a
// human: it is logged at error level with everything needed to find it in
// the dead-letter bucket.
func (c *Charger) Abandoned(e ocppclient.Entry, last *ocppclient.CallError) {
	c.log.Error("ocpp16 transaction message abandoned after repeated CALLERRORs; kept in the dead-letter bucket",
		"action", e.Action, "session", e.Key, "seq", e.Seq, "attempts", e.Attempts,
		"enqueuedAt", e.EnqueuedAt, "err", last, "payload", string(e.Payload))
}

// configChanged is the Config's OnChange hook: it applies a change live.
func (c *Charger) configChanged(key, value string) {
	switch key {
	case KeyHeartbeatInterval:
		c.scheduleHeartbeat()
	case KeyTransactionMessageAttempts, KeyTransactionMessageRetryInterval:
		c.applyRetryPolicy()
	case KeyMeterValueSampleInterval, KeyClockAlignedDataInterval, KeyConnectionTimeOut,
		KeyStopTransactionOnEVSideDisconnect, KeyUnlockConnectorOnEVSideDisconnect, KeyStopTransactionOnInvalidID:
		c.applyStationConfig()
	}
	if pricingKey(key) {
		c.applyDefaultPrice(context.Background())
	}
	if c.opts.OnConfigChange != nil {
		c.opts.OnConfigChange(key, value)
	}
}

func (c *Charger) applyRetryPolicy() {
	c.queue.SetRetryPolicy(c.cfg.Int(KeyTransactionMessageAttempts), c.cfg.Duration(KeyTransactionMessageRetryInterval))
}

// applyStationConfig pushes the station-behaviour keys to the station.
func (c *Charger) applyStationConfig() {
	st, err := c.station()
	if err != nil {
		return // SetStation will be given a station built with StationConfig
	}
	ctx := context.Background()
	cur, err := st.Config(ctx)
	if err != nil {
		c.log.Warn("ocpp16 read station config", "err", err)
		return
	}
	if err := st.SetConfig(ctx, c.StationConfig(cur)); err != nil {
		c.log.Warn("ocpp16 apply station config", "err", err)
	}
}

// StationConfig returns base with the fields that OCPP 1.6 configuration
// keys govern replaced by the keys' current values. The binary builds the
// station's initial Config with it, so that values the CSMS set before a
// restart apply from the start.
func (c *Charger) StationConfig(base station.Config) station.Config {
	base.MeterSampleInterval = c.cfg.Duration(KeyMeterValueSampleInterval)
	base.ClockAlignedInterval = c.cfg.Duration(KeyClockAlignedDataInterval)
	base.ConnectionTimeout = c.cfg.Duration(KeyConnectionTimeOut)
	base.StopTransactionOnEVSideDisconnect = c.cfg.Bool(KeyStopTransactionOnEVSideDisconnect)
	base.UnlockConnectorOnEVSideDisconnect = c.cfg.Bool(KeyUnlockConnectorOnEVSideDisconnect)
	base.StopTransactionOnInvalidID = c.cfg.Bool(KeyStopTransactionOnInvalidID)
	return base
}
