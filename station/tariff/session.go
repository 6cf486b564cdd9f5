package tariff

import (
	"time"

	"github.com/evsed/evsed/meter"
)

// State is what the session does, for the time prices.
type State uint8

// Session states.
const (
	// Charging: the time counts as charging time (whether or not the
	// vehicle draws power: the OCPP "Charging" cost state).
	Charging State = iota + 1
	// Idle: the vehicle occupies the connector without charging; the
	// time counts as idle time after the tariff's IdleGrace.
	Idle
)

// String returns "Charging" or "Idle".
func (s State) String() string {
	switch s {
	case Charging:
		return "Charging"
	case Idle:
		return "Idle"
	}
	return "State(?)"
}

// Cost is a session's cost at one moment.
type Cost struct {
	// Currency is the tariff's.
	Currency string
	// Energy, ChargingTime, IdleTime and Fixed are the parts, each rounded
	// down to the millionth.
	Energy, ChargingTime, IdleTime, Fixed Money
	// Total is the sum of the parts, raised to MinCost and lowered to
	// MaxCost; TotalWithTax adds the tariff's TaxRate.
	Total, TotalWithTax Money
	// Delivered, ChargingFor and IdleFor are what the parts price.
	Delivered   meter.Energy
	ChargingFor time.Duration
	IdleFor     time.Duration
}

// Accumulator scales: energy parts add price x mWh (a kWh is 1e6 mWh) and
// time parts price x ms (an hour is 3.6e6 ms), so that no rounding happens
// until a Cost is read. int64 holds 9.2e18: a price of 10 units per kWh (1e7
// Money) over 900 MWh, or per hour over 29 years.
const (
	mWhPerKWh = int64(meter.KiloWattHour)
	msPerHour = int64(time.Hour / time.Millisecond)
)

// Session prices one charging session. Build it with NewSession; feed it
// every meter sample (Update) and state change (SetState) in time order.
// Times before the latest one are taken as the latest one.
type Session struct {
	t   Tariff
	loc *time.Location
	// bounds are t's times of day where a price may change.
	bounds []TimeOfDay

	last       time.Time
	lastEnergy meter.Energy
	state      State
	// idleSince is the start of the current idle stretch.
	idleSince time.Time

	energyAcc, chargingAcc, idleAcc int64
	fixed                           Money
	delivered                       meter.Energy
	chargingFor, idleFor            time.Duration
}

// NewSession starts pricing a session at start, with the meter's register
// at energy and the session in state (Charging when 0). loc is the time
// zone of the tariff's times of day; nil means UTC. The fixed fee in force
// at start is charged at once.
func NewSession(t Tariff, loc *time.Location, start time.Time, energy meter.Energy, state State) *Session {
	if loc == nil {
		loc = time.UTC
	}
	if state == 0 {
		state = Charging
	}
	s := &Session{t: t, loc: loc, bounds: t.boundaries(), last: start, lastEnergy: energy, state: state, idleSince: start}
	s.fixed = pick(t.FixedFee, start, loc)
	return s
}

// Tariff returns the tariff in force.
func (s *Session) Tariff() Tariff { return s.t }

// State returns the current state.
func (s *Session) State() State { return s.state }

// SetTariff prices what follows at with t (a CSMS sent new prices): what
// came before keeps the old prices, and no second fixed fee is charged.
func (s *Session) SetTariff(at time.Time, t Tariff) {
	s.Update(at, s.lastEnergy)
	s.t, s.bounds = t, t.boundaries()
}

// SetState prices the time up to at in the old state and what follows in
// st.
func (s *Session) SetState(at time.Time, st State) {
	s.Update(at, s.lastEnergy)
	if st != s.state && st == Idle {
		s.idleSince = s.last
	}
	if st != 0 {
		s.state = st
	}
}

// Update adds the energy and time up to at, given the meter's register
// then. The energy since the last update is spread evenly over the time
// since, so that a price change in between prices each part of it at its
// own price. A register that went back (a meter replaced) adds nothing and
// becomes the new reference.
func (s *Session) Update(at time.Time, energy meter.Energy) {
	if at.Before(s.last) {
		at = s.last
	}
	dE := max(energy-s.lastEnergy, 0)
	total := at.Sub(s.last)
	if total <= 0 {
		// No time: the energy takes the price in force now.
		s.addEnergy(s.last, dE)
		s.lastEnergy = energy
		return
	}
	from, left := s.last, dE
	for from.Before(at) {
		to := s.nextBoundary(from)
		if to.After(at) {
			to = at
		}
		part := left
		if to.Before(at) {
			part = meter.Energy(int64(dE) * int64(to.Sub(from)/time.Millisecond) / max(int64(total/time.Millisecond), 1))
			part = min(part, left)
		}
		left -= part
		s.addEnergy(from, part)
		s.addTime(from, to)
		from = to
	}
	s.last, s.lastEnergy = at, energy
}

// addEnergy prices e at the energy price in force at at.
func (s *Session) addEnergy(at time.Time, e meter.Energy) {
	if e <= 0 {
		return
	}
	s.delivered += e
	s.energyAcc += int64(pick(s.t.Energy, at, s.loc)) * int64(e)
}

// addTime prices [from, to), which no price boundary crosses, in the
// current state.
func (s *Session) addTime(from, to time.Time) {
	switch s.state {
	case Charging:
		d := to.Sub(from)
		s.chargingFor += d
		s.chargingAcc += int64(pick(s.t.ChargingTime, from, s.loc)) * int64(d/time.Millisecond)
	case Idle:
		if free := s.idleSince.Add(s.t.IdleGrace); from.Before(free) {
			from = free
			if to.Before(free) {
				from = to
			}
		}
		d := to.Sub(from)
		if d <= 0 {
			return
		}
		s.idleFor += d
		s.idleAcc += int64(pick(s.t.IdleTime, from, s.loc)) * int64(d/time.Millisecond)
	}
}

// nextBoundary is the first time after t at which a price may change: a
// boundary time of day on t's day or the next, in the tariff's zone, or the
// end of the idle grace. Wall-clock times that a DST change skips fall on
// the instant Go normalizes them to, which is still after t.
func (s *Session) nextBoundary(t time.Time) time.Time {
	lt := t.In(s.loc)
	var best time.Time
	consider := func(c time.Time) {
		if c.After(t) && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	for day := 0; day < 2; day++ {
		y, m, d := lt.Date()
		for _, b := range s.bounds {
			h := time.Duration(b) / time.Hour
			mins := (time.Duration(b) % time.Hour) / time.Minute
			consider(time.Date(y, m, d+day, int(h), int(mins), 0, 0, s.loc))
		}
	}
	if s.state == Idle && s.t.IdleGrace > 0 {
		consider(s.idleSince.Add(s.t.IdleGrace))
	}
	if best.IsZero() {
		best = t.Add(24 * time.Hour)
	}
	return best
}

// Cost returns the cost so far (up to the last Update or SetState).
func (s *Session) Cost() Cost {
	c := Cost{
		Currency:     s.t.Currency,
		Energy:       Money(s.energyAcc / mWhPerKWh),
		ChargingTime: Money(s.chargingAcc / msPerHour),
		IdleTime:     Money(s.idleAcc / msPerHour),
		Fixed:        s.fixed,
		Delivered:    s.delivered,
		ChargingFor:  s.chargingFor,
		IdleFor:      s.idleFor,
	}
	c.Total = c.Energy + c.ChargingTime + c.IdleTime + c.Fixed
	if s.t.MinCost > 0 && c.Total < s.t.MinCost {
		c.Total = s.t.MinCost
	}
	if s.t.MaxCost > 0 && c.Total > s.t.MaxCost {
		c.Total = s.t.MaxCost
	}
	c.TotalWithTax = s.t.TaxRate.WithTax(c.Total)
	return c
}
