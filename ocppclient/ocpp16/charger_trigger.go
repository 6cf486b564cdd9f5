package ocpp16

import (
	"context"
	"strconv"

	"github.com/evsed/evsed/ocppclient"
)

// Remote Trigger (OCPP 1.6 section 5.17). The answer goes first and the
// requested message after it: the handler returns the answer wrapped with
// ocppclient.WithFollowUp, whose follow-up runs once the CALLRESULT is
// written. Triggered messages give current information and are not queued:
// one that cannot be sent (the connection dropped) is lost, as the
// specification allows.
//
// While the BootNotification is Pending the CSMS may trigger messages too
// (section 4.2.1): they go out on the connection being registered. A
// triggered BootNotification then makes the waiting registration retry at
// once rather than after the interval the CSMS gave.

// triggerMessage answers a TriggerMessage and returns the follow-up that
// sends the message.
func (c *Charger) triggerMessage(r *TriggerMessageRequest) any {
	answer := func(s TriggerMessageStatus) *TriggerMessageResponse { return &TriggerMessageResponse{Status: s} }
	if r.ConnectorID != nil && *r.ConnectorID > c.connectors() {
		return answer(TriggerMessageStatusRejected)
	}
	// connectors are the connectors the message is about: the one given,
	// or every one (and, for StatusNotification, the charge point).
	connectors := func(from int) []int {
		if r.ConnectorID != nil {
			return []int{*r.ConnectorID}
		}
		var ids []int
		for n := from; n <= c.connectors(); n++ {
			ids = append(ids, n)
		}
		return ids
	}
	var then func(ctx context.Context)
	switch r.RequestedMessage {
	case MessageTriggerBootNotification:
		then = c.triggeredBoot
	case MessageTriggerHeartbeat:
		then = func(ctx context.Context) {
			c.sendTriggered(ctx, ActionHeartbeat, &HeartbeatRequest{}, &HeartbeatResponse{})
			c.scheduleHeartbeat() // the next one counts from this one
		}
	case MessageTriggerStatusNotification:
		ids := connectors(0)
		then = func(ctx context.Context) { c.triggeredStatuses(ctx, ids) }
	case MessageTriggerMeterValues:
		if r.ConnectorID != nil && *r.ConnectorID == 0 {
			// Connector 0 is the main meter of the charge point, which
			// it does not have: each connector has its own.
			return answer(TriggerMessageStatusRejected)
		}
		ids := connectors(1)
		then = func(ctx context.Context) { c.triggeredMeterValues(ctx, ids) }
	case MessageTriggerDiagnosticsStatusNotification:
		// The upload under way, or Idle, as 1.6 says for a triggered
		// notification with none.
		then = func(ctx context.Context) {
			c.sendTriggered(ctx, ActionDiagnosticsStatusNotification,
				&DiagnosticsStatusNotificationRequest{Status: DiagnosticsStatus(c.triggeredLogStatus().Diagnostics())},
				&DiagnosticsStatusNotificationResponse{})
		}
	case MessageTriggerFirmwareStatusNotification:
		then = func(ctx context.Context) {
			status := FirmwareStatusIdle
			if s, ok := c.triggeredFirmwareStatus().Core(); ok {
				status = FirmwareStatus(s)
			}
			c.sendTriggered(ctx, ActionFirmwareStatusNotification,
				&FirmwareStatusNotificationRequest{Status: status}, &FirmwareStatusNotificationResponse{})
		}
	default:
		return answer(TriggerMessageStatusNotImplemented)
	}
	c.log.Info("ocpp16 TriggerMessage accepted", "message", r.RequestedMessage, "connector", r.ConnectorID)
	return ocppclient.WithFollowUp(answer(TriggerMessageStatusAccepted), then)
}

// triggerCaller returns the Caller for a triggered message: the registered
// transport, or during a Pending registration the connection being
// registered; nil when neither is up.
func (c *Charger) triggerCaller() ocppclient.Caller {
	if caller := c.transport(); caller != nil {
		return caller
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.booting == nil {
		return nil
	}
	return c.booting.caller
}

// sendTriggered sends one triggered message, logging a failure.
func (c *Charger) sendTriggered(ctx context.Context, action string, req, resp any) {
	caller := c.triggerCaller()
	if caller == nil {
		c.log.Warn("ocpp16 triggered message not sent: offline", "action", action)
		return
	}
	if err := call(ctx, caller, action, req, resp); err != nil && ctx.Err() == nil {
		c.log.Warn("ocpp16 triggered message", "action", action, "err", err)
	}
}

// triggeredBoot sends a BootNotification. While the registration is still
// Pending or Rejected the waiting registration loop sends it, at once;
// once accepted it is sent here and its answer updates the registration
// and the heartbeat interval.
func (c *Charger) triggeredBoot(ctx context.Context) {
	c.mu.Lock()
	accepted := c.accepted
	var bootNow chan struct{}
	if c.booting != nil {
		bootNow = c.booting.now
	}
	c.mu.Unlock()
	if !accepted {
		select {
		case bootNow <- struct{}{}: // (nil outside a registration: dropped)
		default: // a retry is already due
		}
		return
	}
	req, err := c.bootRequest()
	if err != nil {
		c.log.Warn("ocpp16 triggered BootNotification", "err", err)
		return
	}
	var resp BootNotificationResponse
	caller := c.transport()
	if caller == nil {
		c.log.Warn("ocpp16 triggered BootNotification not sent: offline")
		return
	}
	if err := call(ctx, caller, ActionBootNotification, req, &resp); err != nil {
		if ctx.Err() == nil {
			c.log.Warn("ocpp16 triggered BootNotification", "err", err)
		}
		return
	}
	c.mu.Lock()
	c.registration = regCode(resp.Status)
	c.mu.Unlock()
	c.log.Info("ocpp16 triggered boot notification answered", "status", resp.Status, "interval", resp.Interval)
	if resp.Status == RegistrationStatusAccepted && resp.Interval > 0 {
		c.setHeartbeatInterval(secondsDuration(resp.Interval))
	}
}

// triggeredStatuses sends the current status of each connector in ids (0:
// the charge point), whether or not it changed since the last one sent.
func (c *Charger) triggeredStatuses(ctx context.Context, ids []int) {
	caller := c.triggerCaller()
	if caller == nil {
		c.log.Warn("ocpp16 triggered StatusNotification not sent: offline")
		return
	}
	if st, err := c.station(); err == nil {
		if snap, err := st.Status(ctx); err == nil {
			for _, s := range snapshotStatuses(snap) {
				c.statuses.fill(s)
			}
		}
	}
	for _, id := range ids {
		s, ok := c.statuses.latest(id)
		if !ok {
			continue
		}
		err := call(ctx, caller, ActionStatusNotification, statusRequest(s.StatusChange), &StatusNotificationResponse{})
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("ocpp16 triggered StatusNotification", "connector", id, "err", err)
			}
			return
		}
		c.statuses.markSent(id, s.version)
	}
}

// triggeredMeterValues sends the latest reading of each connector in ids,
// with the measurands of MeterValuesSampledData and context Trigger, in
// the running transaction when there is one.
func (c *Charger) triggeredMeterValues(ctx context.Context, ids []int) {
	caller := c.triggerCaller()
	st, err := c.station()
	if caller == nil || err != nil {
		c.log.Warn("ocpp16 triggered MeterValues not sent", "offline", caller == nil)
		return
	}
	snap, err := st.Status(ctx)
	if err != nil {
		c.log.Warn("ocpp16 triggered MeterValues: station status", "err", err)
		return
	}
	want := c.cfg.Measurands(KeyMeterValuesSampledData)
	for _, id := range ids {
		if id < 1 || id > len(snap.Connectors) {
			continue
		}
		cs := snap.Connectors[id-1]
		at := cs.Meter.Time
		if at.IsZero() {
			at = snap.At
		}
		values := sampledValuesDC(cs.Meter, cs.DC, ReadingContextTrigger, want)
		if len(values) == 0 {
			c.log.Info("ocpp16 triggered MeterValues: nothing to report", "connector", id)
			continue
		}
		req := &MeterValuesRequest{
			ConnectorID: id,
			MeterValue:  []MeterValue{{Timestamp: NewDateTime(at), SampledValue: values}},
		}
		if cs.Session != nil {
			if tx, err := c.tx.TransactionID(cs.Session.ID); err == nil {
				req.TransactionID = &tx
			} else if n, err := strconv.Atoi(cs.Session.TransactionID); err == nil {
				req.TransactionID = &n
			}
		}
		if err := call(ctx, caller, ActionMeterValues, req, &MeterValuesResponse{}); err != nil {
			if ctx.Err() == nil {
				c.log.Warn("ocpp16 triggered MeterValues", "connector", id, "err", err)
			}
			return
		}
	}
}
