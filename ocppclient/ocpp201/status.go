package ocpp201

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/station"
)

// Availability (functional block G): StatusNotification per EVSE, one
// connector each. StatusNotification is not a transaction message: only
// the latest 2.0.1 status of each connector is ever sent, and a station
// status change that maps to the same 2.0.1 status (Preparing to
// Charging: both Occupied) sends nothing.

// connectorStatus maps the station's 1.6-named status: the statuses of a
// connector in use are Occupied.
func connectorStatus(s station.Status) ConnectorStatus {
	switch s {
	case station.Available:
		return ConnectorStatusAvailable
	case station.Reserved:
		return ConnectorStatusReserved
	case station.Unavailable:
		return ConnectorStatusUnavailable
	case station.Faulted:
		return ConnectorStatusFaulted
	case station.Preparing, station.Charging, station.SuspendedEV, station.SuspendedEVSE, station.Finishing:
		return ConnectorStatusOccupied
	}
	return ConnectorStatusFaulted
}

// faultDetail is what a station status says of a fault beyond 2.0.1's
// Faulted: the station's error code (the 1.6 ChargePointErrorCode names:
// GroundFailure for an isolation fault, PowerSwitchFailure for a welded or
// failed contactor, InternalError for a supply fault, OtherError with info
// "emergency stop") and its detail. 2.0.1's StatusNotification has no room
// for either; a NotifyEvent would carry them, and until the adapter sends
// one they go to the log. ok is false when s is no fault.
func faultDetail(s station.StatusChange) (code station.ErrorCode, info string, ok bool) {
	if s.Status != station.Faulted && (s.Error == "" || s.Error == station.NoError) {
		return "", "", false
	}
	code = s.Error
	if code == "" {
		code = station.NoError
	}
	return code, s.Info, true
}

// logFault logs the detail of a fault status that 2.0.1 cannot report.
func (c *Charger) logFault(s station.StatusChange) {
	code, info, ok := faultDetail(s)
	if !ok {
		return
	}
	c.log.Warn("ocpp201 connector fault", "evse", s.Connector, "status", s.Status, "errorCode", code, "info", info)
}

type trackedEVSE struct {
	status  ConnectorStatus
	at      time.Time
	known   bool
	version uint64
	sent    uint64
}

// statusTracker keeps the latest status of each EVSE (index id, 0
// unused) and what the CSMS has acknowledged.
type statusTracker struct {
	mu     sync.Mutex // guards evses
	evses  []trackedEVSE
	notify func()
}

func newStatusTracker(n int, notify func()) *statusTracker {
	return &statusTracker{evses: make([]trackedEVSE, n+1), notify: notify}
}

func (t *statusTracker) wake() { t.notify() }

// update records a station status of an EVSE; a change of the 2.0.1
// status makes it dirty. Connector 0 facts are not reported: 2.0.1 has
// no station-wide connector status, and the station reports every
// connector too.
func (t *statusTracker) update(s station.StatusChange) {
	if !t.set(s, false) {
		return
	}
	t.wake()
}

// fill records s only for an EVSE with no status yet.
func (t *statusTracker) fill(s station.StatusChange) { t.set(s, true) }

func (t *statusTracker) set(s station.StatusChange, onlyUnknown bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.Connector < 1 || s.Connector >= len(t.evses) {
		return false
	}
	e := &t.evses[s.Connector]
	cs := connectorStatus(s.Status)
	if (onlyUnknown && e.known) || (e.known && e.status == cs) {
		return false
	}
	e.status, e.at, e.known = cs, s.At, true
	e.version++
	return true
}

type pendingStatus struct {
	evse    int
	status  ConnectorStatus
	at      time.Time
	version uint64
}

func (t *statusTracker) pending(all bool) []pendingStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []pendingStatus
	for n, e := range t.evses {
		if e.known && (all || e.sent != e.version) {
			out = append(out, pendingStatus{n, e.status, e.at, e.version})
		}
	}
	return out
}

func (t *statusTracker) markSent(n int, v uint64) {
	t.mu.Lock()
	if n > 0 && n < len(t.evses) && t.evses[n].sent < v {
		t.evses[n].sent = v
	}
	t.mu.Unlock()
}

func (t *statusTracker) latest(n int) (pendingStatus, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n < 1 || n >= len(t.evses) || !t.evses[n].known {
		return pendingStatus{}, false
	}
	e := t.evses[n]
	return pendingStatus{n, e.status, e.at, e.version}, true
}

// kickStatuses starts the sender goroutine unless one runs.
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

func (c *Charger) sendLoop(ctx context.Context) {
	defer c.senders.Done()
	for {
		c.mu.Lock()
		c.resend = false
		c.mu.Unlock()
		if caller := c.transport(); caller != nil {
			if err := c.sendStatuses(ctx, caller, false); err != nil && ctx.Err() == nil {
				c.log.Warn("ocpp201 status notification", "err", err)
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

// sendAllStatuses reports every EVSE's status at connect time, taking the
// ones the station has not reported yet from a snapshot.
func (c *Charger) sendAllStatuses(ctx context.Context, caller ocppclient.Caller) error {
	if st, err := c.station(); err == nil {
		if snap, err := st.Status(ctx); err != nil {
			c.log.Warn("ocpp201 station status for StatusNotification", "err", err)
		} else {
			for _, cs := range snap.Connectors {
				c.status.fill(station.StatusChange{Connector: cs.ID, Status: cs.Status, At: snap.At})
			}
		}
	}
	return c.sendStatuses(ctx, caller, true)
}

func statusRequest(p pendingStatus, now time.Time) *StatusNotificationRequest {
	at := p.at
	if at.IsZero() {
		at = now
	}
	return &StatusNotificationRequest{Timestamp: NewDateTime(at), ConnectorStatus: p.status, EVSEID: p.evse, ConnectorID: 1}
}

// sendStatuses sends the tracked statuses (all, or the dirty ones). A
// CALLERROR counts as sent; a transport error stops the round.
func (c *Charger) sendStatuses(ctx context.Context, caller ocppclient.Caller, all bool) error {
	for _, p := range c.status.pending(all) {
		err := call(ctx, caller, ActionStatusNotification, statusRequest(p, c.clk.Now()), &StatusNotificationResponse{})
		var ce *ocppclient.CallError
		switch {
		case err == nil:
		case errors.As(err, &ce):
			c.log.Warn("ocpp201 status notification refused", "evse", p.evse, "err", err)
		default:
			return err
		}
		c.status.markSent(p.evse, p.version)
	}
	return nil
}
