package station

import (
	"context"
	"slices"
	"time"
)

// Reservation holds a connector for one id tag, or its group, until Expiry
// (OCPP 1.6 ReserveNow; 2.0.1 maps its EVSE reservations to it).
type Reservation struct {
	// ID is the CSMS's reservation id: a new reservation with the id of an
	// existing one replaces it.
	ID int `json:"id"`
	// Connector is the connector held; 0 holds none in particular but
	// keeps one connector free for the tag as long as the reservation lasts.
	Connector int `json:"connector"`
	// IDTag is the token the connector is held for; ParentIDTag, when not
	// empty, admits every token of that group as well.
	IDTag       string    `json:"idTag"`
	ParentIDTag string    `json:"parentIdTag,omitempty"`
	Expiry      time.Time `json:"expiry"`
}

// ReservationResult answers Reserve (OCPP ReservationStatus names).
type ReservationResult string

// Reservation answers.
const (
	ReservationAccepted    ReservationResult = "Accepted"
	ReservationFaulted     ReservationResult = "Faulted"
	ReservationOccupied    ReservationResult = "Occupied"
	ReservationRejected    ReservationResult = "Rejected"
	ReservationUnavailable ReservationResult = "Unavailable"
)

// reservation is an accepted Reservation, owned by the loop.
type reservation struct{ Reservation }

// matches reports whether a token (and its group, as the Authorizer gave
// it; "" when unknown) may use the reservation: the token or its group
// equals the reservation's token or group.
func (r *reservation) matches(idTag, parent string) bool {
	for _, a := range []string{idTag, parent} {
		if a != "" && (a == r.IDTag || a == r.ParentIDTag) {
			return true
		}
	}
	return false
}

// Reserve holds a connector for a token, as OCPP 1.6 ReserveNow defines
// it: Faulted, Unavailable or Occupied (a session, a vehicle, a pending
// start or another reservation) when the connector (for 0: the station) is
// so; Rejected for an empty token or an expiry that has passed; a
// reservation with the id of an existing one replaces it (the old one stays
// when the new one is refused). A connector-0 reservation is accepted while
// more connectors are free than connector-0 reservations hold. While it
// lasts, a reserved connector starts only for the reservation's token or
// group (ErrReserved otherwise), and free charging does not start on it.
// The reservation ends when its session starts (which reports the
// reservation id), at Expiry, on CancelReservation, or when its connector
// (for 0: the station) becomes Faulted or Unavailable. Reservations persist
// across restarts.
func (s *Station) Reserve(ctx context.Context, r Reservation) (ReservationResult, error) {
	var res ReservationResult
	err := s.call(ctx, func(l *loop, done func(error)) {
		var err error
		res, err = l.reserve(r)
		done(err)
	})
	if err != nil {
		return "", err
	}
	return res, nil
}

// CancelReservation ends the reservation with the given id; it reports
// whether there was one.
func (s *Station) CancelReservation(ctx context.Context, id int) (bool, error) {
	var found bool
	err := s.call(ctx, func(l *loop, done func(error)) {
		if r := l.reservations[id]; r != nil {
			found = true
			l.dropReservation(r, "cancelled")
		}
		done(nil)
	})
	return found, err
}

// Reservations returns the reservations in force, by id.
func (s *Station) Reservations(ctx context.Context) ([]Reservation, error) {
	var out []Reservation
	err := s.call(ctx, func(l *loop, done func(error)) {
		for _, r := range l.reservations {
			out = append(out, r.Reservation)
		}
		done(nil)
	})
	slices.SortFunc(out, func(a, b Reservation) int { return a.ID - b.ID })
	return out, err
}

// free reports whether c could take a new session now: Available.
func (c *conn) free() bool {
	return c.idle() && !c.pilot.VehicleConnected() && !c.finishing
}

func (l *loop) reserve(r Reservation) (ReservationResult, error) {
	if r.Connector != 0 && l.conn(r.Connector) == nil {
		return "", ErrNoConnector
	}
	if r.IDTag == "" || !r.Expiry.After(l.s.opts.Clock.Now()) {
		return ReservationRejected, nil
	}
	old := l.reservations[r.ID]
	if res := l.canReserve(r, old); res != ReservationAccepted {
		return res, nil
	}
	if old != nil {
		l.dropReservation(old, "replaced")
	}
	if l.reservations == nil {
		l.reservations = map[int]*reservation{}
	}
	l.reservations[r.ID] = &reservation{r}
	l.emit(resvFact{r: r})
	l.s.logger().Info("station: reserved", "reservation", r.ID, "connector", r.Connector, "idTag", r.IDTag, "expiry", r.Expiry)
	l.armResvTimer()
	l.apply(nil)
	return ReservationAccepted, nil
}

// canReserve answers a reservation request as if ignore (the reservation it
// replaces) did not exist.
func (l *loop) canReserve(r Reservation, ignore *reservation) ReservationResult {
	zero := 0
	for _, o := range l.reservations {
		if o != ignore && o.Connector == 0 {
			zero++
		}
	}
	freeFor := func(c *conn) bool {
		return c.free() && (c.reservation == nil || c.reservation == ignore)
	}
	if r.Connector != 0 {
		c := l.conn(r.Connector)
		switch {
		case c.faulted():
			return ReservationFaulted
		case !c.operative:
			return ReservationUnavailable
		case !freeFor(c):
			return ReservationOccupied
		}
		others := 0
		for _, o := range l.conns {
			if o != c && freeFor(o) {
				others++
			}
		}
		if others < zero {
			return ReservationOccupied // the free ones are held for connector 0
		}
		return ReservationAccepted
	}
	allFaulted, allOff, free := true, true, 0
	for _, c := range l.conns {
		allFaulted = allFaulted && c.faulted()
		allOff = allOff && (!c.operative || c.faulted())
		if freeFor(c) {
			free++
		}
	}
	switch {
	case allFaulted:
		return ReservationFaulted
	case allOff || l.stationOff:
		return ReservationUnavailable
	case free <= zero:
		return ReservationOccupied
	}
	return ReservationAccepted
}

// dropReservation ends r; the holds are derived again after the input.
func (l *loop) dropReservation(r *reservation, why string) {
	if l.reservations[r.ID] != r {
		return
	}
	delete(l.reservations, r.ID)
	l.emit(resvFact{r: r.Reservation, del: true})
	l.s.logger().Info("station: reservation ended", "reservation", r.ID, "connector", r.Connector, "why", why)
	l.holdsDirty = true
	l.armResvTimer()
}

// admits decides whether connector c may start a session for idTag (of
// group parent, "" when unknown) under the reservations: it returns the id
// of the reservation the session uses (0 for none) and false when the
// reservations hold c for someone else.
func (l *loop) admits(c *conn, idTag, parent string) (int, bool) {
	if r := c.reservation; r != nil {
		if r.matches(idTag, parent) {
			return r.ID, true
		}
		return 0, false
	}
	var zero []*reservation
	for _, r := range l.reservations {
		if r.Connector == 0 {
			zero = append(zero, r)
		}
	}
	if len(zero) == 0 {
		return 0, true
	}
	// The one that expires first is used first.
	slices.SortFunc(zero, func(a, b *reservation) int {
		if c := a.Expiry.Compare(b.Expiry); c != 0 {
			return c
		}
		return a.ID - b.ID
	})
	for _, r := range zero {
		if r.matches(idTag, parent) {
			return r.ID, true
		}
	}
	free := 0
	for _, o := range l.conns {
		if o != c && o.free() && o.reservation == nil {
			free++
		}
	}
	return 0, free >= len(zero)
}

// refreshHolds derives which connectors the reservations hold and returns
// those whose hold changed, so that their status is reported again.
func (l *loop) refreshHolds() []*conn {
	l.holdsDirty = false
	zero := 0
	for _, r := range l.reservations {
		if r.Connector == 0 {
			zero++
		}
	}
	free := 0
	for _, c := range l.conns {
		if c.free() && l.reservationOf(c) == nil {
			free++
		}
	}
	var changed []*conn
	for _, c := range l.conns {
		r := l.reservationOf(c)
		held := r == nil && zero > 0 && free <= zero && c.free()
		if r != c.reservation || held != c.heldForAny {
			c.reservation, c.heldForAny = r, held
			changed = append(changed, c)
		}
	}
	return changed
}

// reservationOf returns the reservation of connector c in particular.
func (l *loop) reservationOf(c *conn) *reservation {
	for _, r := range l.reservations {
		if r.Connector == c.id {
			return r
		}
	}
	return nil
}

// endReservationsOf ends the reservations that a connector's new status
// (connector 0: the station's) terminates: Faulted or Unavailable.
func (l *loop) endReservationsOf(connector int, st Status) {
	if st != Faulted && st != Unavailable {
		return
	}
	for _, r := range l.reservations {
		if r.Connector == connector {
			l.dropReservation(r, "connector "+string(st))
		}
	}
}

// armResvTimer arms the expiry timer at the earliest expiry.
func (l *loop) armResvTimer() {
	if l.resvTimer != nil {
		l.resvTimer.Stop()
		l.resvTimer = nil
	}
	var first time.Time
	for _, r := range l.reservations {
		if first.IsZero() || r.Expiry.Before(first) {
			first = r.Expiry
		}
	}
	if first.IsZero() || l.ended() {
		return
	}
	s := l.s
	l.resvTimer = s.opts.Clock.AfterFunc(max(0, first.Sub(s.opts.Clock.Now())), func() {
		s.post(func(l *loop) { l.expireReservations() })
	})
}

// expireReservations ends the reservations whose expiry has come.
func (l *loop) expireReservations() {
	now := l.s.opts.Clock.Now()
	for _, r := range l.reservations {
		if !now.Before(r.Expiry) {
			l.dropReservation(r, "expired")
		}
	}
	l.armResvTimer()
}
