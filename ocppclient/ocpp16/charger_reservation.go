package ocpp16

import (
	"context"
	"errors"

	"github.com/evsed/evsed/station"
)

// Reservation profile (OCPP 1.6 sections 3.11, 5.13 and 5.3): the station
// holds the reservations (version-neutral); the adapter maps the requests
// and answers. A transaction that uses a reservation carries its id in
// StartTransaction.req (SessionStarted).

// reserveNow answers a ReserveNow.
func (c *Charger) reserveNow(ctx context.Context, st Station, r *ReserveNowRequest) *ReserveNowResponse {
	rejected := &ReserveNowResponse{Status: ReservationStatusRejected}
	switch {
	case r.ConnectorID > c.connectors():
		c.log.Info("ocpp16 ReserveNow rejected: no such connector", "connector", r.ConnectorID)
		return rejected
	case r.ConnectorID == 0 && !c.cfg.Bool(KeyReserveConnectorZeroSupported):
		c.log.Info("ocpp16 ReserveNow rejected: ReserveConnectorZeroSupported is false")
		return rejected
	}
	res, err := st.Reserve(ctx, station.Reservation{
		ID: r.ReservationID, Connector: r.ConnectorID, IDTag: r.IDTag, ParentIDTag: r.ParentIDTag,
		Expiry: r.ExpiryDate.Time,
	})
	if err != nil {
		if !errors.Is(err, station.ErrNoConnector) {
			c.log.Warn("ocpp16 ReserveNow", "reservation", r.ReservationID, "err", err)
		}
		return rejected
	}
	out := ReservationStatus(res)
	if !out.IsValid() {
		out = ReservationStatusRejected
	}
	c.log.Info("ocpp16 ReserveNow", "reservation", r.ReservationID, "connector", r.ConnectorID, "status", out)
	return &ReserveNowResponse{Status: out}
}

// cancelReservation answers a CancelReservation.
func (c *Charger) cancelReservation(ctx context.Context, st Station, r *CancelReservationRequest) *CancelReservationResponse {
	found, err := st.CancelReservation(ctx, r.ReservationID)
	if err != nil {
		c.log.Warn("ocpp16 CancelReservation", "reservation", r.ReservationID, "err", err)
	}
	if err != nil || !found {
		return &CancelReservationResponse{Status: CancelReservationStatusRejected}
	}
	return &CancelReservationResponse{Status: CancelReservationStatusAccepted}
}

// reservedFor returns the reservation holding connector n, if any.
func reservedFor(rs []station.Reservation, n int) (station.Reservation, bool) {
	for _, r := range rs {
		if r.Connector == n {
			return r, true
		}
	}
	return station.Reservation{}, false
}
