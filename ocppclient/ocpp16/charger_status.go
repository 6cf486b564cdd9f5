package ocpp16

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/station"
)

// statusTracker keeps the latest status of each connector and what the CSMS
// was last told. StatusNotification is not a transaction message: a status
// that changed while offline is stale, so only the latest one per connector
// is ever sent, and changes in between are coalesced.
type statusTracker struct {
	// mu guards statuses.
	mu sync.Mutex
	// statuses is indexed by connector id (0 = the charge point); it
	// grows to the highest id seen. A slice rather than maps: a charger
	// has a handful of connectors, and the fleet simulator thousands of
	// chargers.
	statuses []trackedConnector
}

// trackedConnector is what the tracker knows of one connector: its newest
// status without the connector id, which is its index (the fleet simulator
// holds thousands of trackers).
type trackedConnector struct {
	status station.Status
	errc   station.ErrorCode
	info   string
	// at is the status's time in microseconds since the Unix epoch
	// (time.Time.UnixMicro), which keeps more than the wire's
	// milliseconds in a third of a time.Time.
	at int64
	// version counts changes, 0 while there is none; sent is the version
	// the CSMS has acknowledged. The connector is dirty while they
	// differ. (2^32 changes of one connector's status are more than a
	// charger sees in its life: one a second for 136 years.)
	version, sent uint32
}

// known reports whether the connector has a status.
func (e *trackedConnector) known() bool { return e.version != 0 }

// set records s as the newest status.
func (e *trackedConnector) set(s station.StatusChange) {
	e.status, e.errc, e.info, e.at = s.Status, s.Error, s.Info, s.At.UnixMicro()
	e.version++
}

// latest returns the newest status of connector id, whose entry e is.
func (e *trackedConnector) latest(id int) trackedStatus {
	var at time.Time // the zero time stays zero
	if e.at != (time.Time{}).UnixMicro() {
		at = time.UnixMicro(e.at).UTC()
	}
	return trackedStatus{station.StatusChange{Connector: id, Status: e.status, Error: e.errc, Info: e.info, At: at}, e.version}
}

// newStatusTracker returns a tracker with room for connectors 0..n. The
// Charger asks for a round of sending (kickStatuses) after an update: the
// tracker holds no function to call, which would cost it an allocation.
func newStatusTracker(n int) *statusTracker {
	return &statusTracker{statuses: make([]trackedConnector, n+1)}
}

// at returns connector id's entry, growing the slice for an id beyond it;
// nil for a negative id. t.mu is held.
func (t *statusTracker) at(id int) *trackedConnector {
	if id < 0 {
		return nil
	}
	for id >= len(t.statuses) {
		t.statuses = append(t.statuses, trackedConnector{})
	}
	return &t.statuses[id]
}

// update records s as its connector's latest status.
func (t *statusTracker) update(s station.StatusChange) {
	t.mu.Lock()
	if e := t.at(s.Connector); e != nil {
		e.set(s)
	}
	t.mu.Unlock()
}

// fill records s only for a connector with no status yet: a snapshot taken
// at connect time must not override a newer fact still on its way.
func (t *statusTracker) fill(s station.StatusChange) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.at(s.Connector); e != nil && !e.known() {
		e.set(s)
	}
}

// pending returns the connectors to report, ascending, with their latest
// status and its version: all known ones, or only the dirty ones.
func (t *statusTracker) pending(all bool) []trackedStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []trackedStatus
	for id := range t.statuses {
		if e := &t.statuses[id]; e.known() && (all || e.sent != e.version) {
			out = append(out, e.latest(id))
		}
	}
	return out
}

// markSent records that version v of connector id was delivered (or
// refused for good). A newer change stays dirty.
func (t *statusTracker) markSent(id int, v uint32) {
	t.mu.Lock()
	if e := t.at(id); e != nil && e.sent < v {
		e.sent = v
	}
	t.mu.Unlock()
}

// latest returns connector id's newest status and its version.
func (t *statusTracker) latest(id int) (trackedStatus, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id < 0 || id >= len(t.statuses) || !t.statuses[id].known() {
		return trackedStatus{}, false
	}
	return t.statuses[id].latest(id), true
}

type trackedStatus struct {
	station.StatusChange
	version uint32
}

// StatusChanged implements station.Reporter: it records the status, and
// the status loop sends it when registered. It never blocks on the network.
func (c *Charger) StatusChanged(s station.StatusChange) {
	c.statuses.update(s)
	c.kickStatuses()
	c.pricingStatus(s)
}

// kickStatuses makes sure the dirty statuses get sent while started: it
// starts the sender goroutine unless one runs, and otherwise has it take
// another round. Changes while not started wait for Start (or for
// OnConnect, which sends everything).
func (c *Charger) kickStatuses() {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx := c.runCtx
	switch {
	case ctx == nil || ctx.Err() != nil:
	case c.sending:
		c.resend = true
	default:
		c.sending = true
		c.senders.Add(1)
		go c.sendLoop(ctx)
	}
}

// sendLoop sends the dirty statuses, again as long as changes come in while
// it sends, and then ends.
func (c *Charger) sendLoop(ctx context.Context) {
	defer c.senders.Done()
	for {
		c.mu.Lock()
		c.resend = false
		c.mu.Unlock()
		if caller := c.transport(); caller != nil { // else OnConnect sends all on the next connect
			if err := c.sendStatuses(ctx, caller, false); err != nil && ctx.Err() == nil {
				c.log.Warn("ocpp16 status notification", "err", err)
			}
		}
		c.mu.Lock()
		if !c.resend || ctx.Err() != nil {
			c.sending = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
	}
}

// sendAllStatuses reports every connector's current status at connect time:
// connector 0 and 1..n. Connectors the station has not reported yet are
// taken from a status snapshot (connector 0 from the connectors: Available
// unless they are all Unavailable or all Faulted).
func (c *Charger) sendAllStatuses(ctx context.Context, caller ocppclient.Caller) error {
	if st, err := c.station(); err == nil {
		if snap, err := st.Status(ctx); err != nil {
			c.log.Warn("ocpp16 station status for StatusNotification", "err", err)
		} else {
			for _, s := range snapshotStatuses(snap) {
				c.statuses.fill(s)
			}
		}
	}
	return c.sendStatuses(ctx, caller, true)
}

// snapshotStatuses turns a snapshot into status facts, connector 0 first.
func snapshotStatuses(snap station.Snapshot) []station.StatusChange {
	if len(snap.Connectors) == 0 {
		return nil
	}
	out := []station.StatusChange{{Connector: 0, Status: station.Available, Error: station.NoError, At: snap.At}}
	allSame := true
	for _, cs := range snap.Connectors {
		out = append(out, station.StatusChange{Connector: cs.ID, Status: cs.Status, Error: cs.Error, Info: cs.Fault, At: snap.At})
		allSame = allSame && cs.Status == snap.Connectors[0].Status
	}
	if first := snap.Connectors[0].Status; allSame && (first == station.Unavailable || first == station.Faulted) {
		out[0].Status = first
	}
	return out
}

// sendStatuses sends the tracked statuses (all, or the dirty ones) through
// caller. A CALLERROR answer is logged and the status counted as sent, since
// the CSMS would refuse it again; a transport error stops the round and
// leaves the rest dirty for the next one.
func (c *Charger) sendStatuses(ctx context.Context, caller ocppclient.Caller, all bool) error {
	for _, s := range c.statuses.pending(all) {
		req := statusRequest(s.StatusChange)
		err := call(ctx, caller, ActionStatusNotification, req, &StatusNotificationResponse{})
		var ce *ocppclient.CallError
		switch {
		case err == nil:
		case errors.As(err, &ce):
			c.log.Warn("ocpp16 status notification refused", "connector", s.Connector, "status", s.Status, "err", err)
		default:
			return err
		}
		c.statuses.markSent(s.Connector, s.version)
	}
	return nil
}

// statusRequest maps a status fact to a StatusNotification. The station's
// statuses and error codes are the 1.6 names; an unknown error code (a
// station newer than the adapter) is sent as OtherError with the original
// in vendorErrorCode rather than breaking the schema.
func statusRequest(s station.StatusChange) *StatusNotificationRequest {
	req := &StatusNotificationRequest{
		ConnectorID: s.Connector,
		Status:      ChargePointStatus(s.Status),
		ErrorCode:   ChargePointErrorCode(s.Error),
		Info:        truncate(s.Info, 50),
	}
	if s.Error == "" {
		req.ErrorCode = ChargePointErrorCodeNoError
	}
	if !req.ErrorCode.IsValid() {
		req.VendorErrorCode = truncate(string(s.Error), 50)
		req.ErrorCode = ChargePointErrorCodeOtherError
	}
	if !req.Status.IsValid() {
		req.Status = ChargePointStatusFaulted
		req.ErrorCode = ChargePointErrorCodeInternalError
	}
	if !s.At.IsZero() {
		req.Timestamp = NewDateTimePtr(s.At)
	}
	return req
}

// truncate cuts s to at most n runes (CiString fields count characters).
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
