package ocpp201

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/station"
)

// Reservation (functional block H): the station holds the reservations
// (version-neutral; see station.Reserve); the adapter maps ReserveNow and
// CancelReservation onto it and tells the CSMS when a reservation ends
// without being used or cancelled (H04 ReservationStatusUpdate: Expired at
// its expiryDateTime, Removed when the station dropped it earlier, e.g. on
// a connector becoming Faulted or Unavailable). The station does not
// report a reservation's end, so the adapter keeps the reservations it
// accepted (in its store, so that a restart still reports them) and
// compares them with the station's at the earliest expiry and after a
// status change to Faulted or Unavailable. A transaction that uses a
// reservation carries its reservationId (the station's SessionStart).
// ReservationStatusUpdate goes through the durable queue.

var (
	refReservationEnabled     = devicemodel.ReservationEnabled
	refReservationNonSpecific = devicemodel.ReservationNonEvseSpecific
)

// resvBucket maps a reservation id (decimal) to the trackedReservation.
var resvBucket = []byte("reservations")

// trackedReservation is an accepted reservation the adapter watches.
type trackedReservation struct {
	EVSE   int       `json:"evse"`
	Expiry time.Time `json:"expiry"`
}

// resvState is the reservations the adapter watches.
type resvState struct {
	mu    sync.Mutex // guards the fields below
	held  map[int]trackedReservation
	timer clock.Timer
}

// loadReservations reads the watched reservations from the store.
func (c *Charger) loadReservations() error {
	c.resv.held = map[int]trackedReservation{}
	return c.store.view(resvBucket, func(b *bbolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			id, err := strconv.Atoi(string(k))
			var r trackedReservation
			if err == nil && json.Unmarshal(v, &r) == nil {
				c.resv.held[id] = r
			}
			return nil
		})
	})
}

func (s *store) putReservation(id int, r *trackedReservation) error {
	return s.update(resvBucket, func(b *bbolt.Bucket) error {
		if r == nil {
			return b.Delete([]byte(strconv.Itoa(id)))
		}
		v, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return b.Put([]byte(strconv.Itoa(id)), v)
	})
}

// connectorType is the ConnectorType of EVSE n's connector.
func (c *Charger) connectorType(n int) ConnectorKind {
	return ConnectorKind(c.vars.String(devicemodel.ConnectorVariable(n, 1, "ConnectorType")))
}

// reserveNow answers a ReserveNow (H01): for one EVSE, or, without an
// evseId and with ReservationCtrlr.NonEvseSpecific, for any; a
// connectorType that no (chosen) EVSE has is Rejected.
func (c *Charger) reserveNow(ctx context.Context, st Station, r *ReserveNowRequest) any {
	rejected := func(code, why string) *ReserveNowResponse {
		c.log.Info("ocpp201 ReserveNow rejected", "reservation", r.ID, "why", why)
		return &ReserveNowResponse{Status: ReserveNowStatusRejected, StatusInfo: statusInfo(code, why)}
	}
	if !c.boolVar(refReservationEnabled) {
		return rejected("NotEnabled", "reservations are disabled (ReservationCtrlr.Enabled)")
	}
	n := 0
	if r.EVSEID != nil {
		n = *r.EVSEID
		if n < 1 || n > c.opts.NumEVSEs {
			return rejected("UnknownEvse", "no such EVSE")
		}
	} else if !c.boolVar(refReservationNonSpecific) {
		return rejected("UnknownEvse", "a reservation needs an EVSE (ReservationCtrlr.NonEvseSpecific)")
	}
	if t := r.ConnectorType; t != "" && t != ConnectorKindUnknown {
		ok := false
		for e := 1; e <= c.opts.NumEVSEs; e++ {
			ok = ok || ((n == 0 || e == n) && c.connectorType(e) == t)
		}
		if !ok {
			return rejected("UnknownConnectorType", "no connector of type "+string(t))
		}
	}
	res := station.Reservation{ID: r.ID, Connector: n, IDTag: r.IDToken.IDToken, Expiry: r.ExpiryDateTime.Time}
	if r.GroupIDToken != nil {
		res.ParentIDTag = r.GroupIDToken.IDToken
	}
	got, err := st.Reserve(ctx, res)
	if err != nil {
		if !errors.Is(err, station.ErrNoConnector) {
			c.log.Warn("ocpp201 ReserveNow", "reservation", r.ID, "err", err)
		}
		return rejected("Rejected", "the station refused the reservation")
	}
	out := ReserveNowStatus(got)
	if !out.IsValid() {
		out = ReserveNowStatusRejected
	}
	c.log.Info("ocpp201 ReserveNow", "reservation", r.ID, "evse", n, "status", out)
	if out == ReserveNowStatusAccepted {
		c.watchReservation(r.ID, trackedReservation{EVSE: n, Expiry: res.Expiry})
	}
	return &ReserveNowResponse{Status: out}
}

// cancelReservation answers a CancelReservation (H03).
func (c *Charger) cancelReservation(ctx context.Context, st Station, r *CancelReservationRequest) any {
	found, err := st.CancelReservation(ctx, r.ReservationID)
	if err != nil {
		c.log.Warn("ocpp201 CancelReservation", "reservation", r.ReservationID, "err", err)
	}
	if err != nil || !found {
		return &CancelReservationResponse{Status: CancelReservationStatusRejected}
	}
	c.forgetReservation(r.ReservationID)
	return &CancelReservationResponse{Status: CancelReservationStatusAccepted}
}

// watchReservation starts watching an accepted reservation.
func (c *Charger) watchReservation(id int, r trackedReservation) {
	if err := c.store.putReservation(id, &r); err != nil {
		c.log.Warn("ocpp201 keep reservation", "reservation", id, "err", err)
	}
	c.resv.mu.Lock()
	c.resv.held[id] = r
	c.resv.mu.Unlock()
	c.armReservations()
}

// forgetReservation stops watching a reservation (used or cancelled); it
// reports whether it was watched.
func (c *Charger) forgetReservation(id int) bool {
	c.resv.mu.Lock()
	_, ok := c.resv.held[id]
	delete(c.resv.held, id)
	c.resv.mu.Unlock()
	if ok {
		if err := c.store.putReservation(id, nil); err != nil {
			c.log.Warn("ocpp201 forget reservation", "reservation", id, "err", err)
		}
		c.armReservations()
	}
	return ok
}

// reservationUsed is called when a session uses a reservation; txMu may
// be held, so the store is written off this goroutine.
func (c *Charger) reservationUsed(id int) {
	c.resv.mu.Lock()
	_, ok := c.resv.held[id]
	c.resv.mu.Unlock()
	if ok {
		c.background.Go(func() { c.forgetReservation(id) })
	}
}

// armReservations arms the check at the earliest expiry watched.
func (c *Charger) armReservations() {
	c.resv.mu.Lock()
	defer c.resv.mu.Unlock()
	var first time.Time
	for _, r := range c.resv.held {
		if first.IsZero() || r.Expiry.Before(first) {
			first = r.Expiry
		}
	}
	if c.resv.timer != nil {
		c.resv.timer.Stop()
		c.resv.timer = nil
	}
	if first.IsZero() {
		return
	}
	// A little after the expiry, so that the station's own timer has
	// ended the reservation.
	d := max(0, first.Sub(c.clk.Now())) + time.Second
	c.resv.timer = c.clk.AfterFunc(d, func() { c.checkReservations(c.runContext()) })
}

// checkReservations compares the watched reservations with the station's
// and reports the ones that ended: Expired at or after their expiry,
// Removed before it.
func (c *Charger) checkReservations(ctx context.Context) {
	st, err := c.station()
	if err != nil {
		return
	}
	c.resv.mu.Lock()
	watched := len(c.resv.held)
	c.resv.mu.Unlock()
	if watched == 0 {
		return
	}
	live, err := st.Reservations(ctx)
	if err != nil {
		c.log.Warn("ocpp201 reservations", "err", err)
		return
	}
	in := map[int]bool{}
	for _, r := range live {
		in[r.ID] = true
	}
	now := c.clk.Now()
	type ended struct {
		id     int
		status ReservationUpdateStatus
	}
	var gone []ended
	c.resv.mu.Lock()
	for id, r := range c.resv.held {
		if in[id] {
			continue
		}
		s := ReservationUpdateStatusRemoved
		if !now.Before(r.Expiry) {
			s = ReservationUpdateStatusExpired
		}
		gone = append(gone, ended{id, s})
	}
	c.resv.mu.Unlock()
	for _, g := range gone {
		if !c.forgetReservation(g.id) {
			continue // used or cancelled meanwhile
		}
		c.log.Info("ocpp201 reservation ended", "reservation", g.id, "status", g.status)
		c.queueNotification(ActionReservationStatusUpdate, &ReservationStatusUpdateRequest{ReservationID: g.id, ReservationUpdateStatus: g.status})
	}
	c.armReservations()
}

// reservationsStatusChanged checks the reservations after a connector
// became Faulted or Unavailable, which ends the reservations on it.
func (c *Charger) reservationsStatusChanged(s station.StatusChange) {
	if s.Status != station.Faulted && s.Status != station.Unavailable {
		return
	}
	c.resv.mu.Lock()
	watched := len(c.resv.held)
	c.resv.mu.Unlock()
	if watched > 0 {
		c.background.Go(func() { c.checkReservations(c.runContext()) })
	}
}

// stopReservations disarms the expiry check.
func (c *Charger) stopReservations() {
	c.resv.mu.Lock()
	defer c.resv.mu.Unlock()
	if c.resv.timer != nil {
		c.resv.timer.Stop()
		c.resv.timer = nil
	}
}
