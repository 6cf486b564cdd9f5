package tariff

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Money is an amount in millionths of the currency unit (1 EUR is
// 1_000_000). An integer keeps prices and costs exact; int64 holds 9.2e12
// units.
type Money int64

// Unit is one unit of the currency (1 EUR, 1 USD) in Money.
const Unit Money = 1_000_000

// FromFloat converts an amount in currency units (as JSON carries it),
// rounding to the nearest millionth. NaN and infinities give 0.
func FromFloat(f float64) Money {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return Money(math.Round(f * float64(Unit)))
}

// Float returns m in currency units, for the wire.
func (m Money) Float() float64 { return float64(m) / float64(Unit) }

// Format returns m in currency units with the given number of decimals
// (0..6), rounded down, e.g. Format(2) of 3_319_999 is "3.31".
func (m Money) Format(decimals int) string {
	decimals = min(max(decimals, 0), 6)
	neg := m < 0
	if neg {
		m = -m
	}
	step := Money(1)
	for range 6 - decimals {
		step *= 10
	}
	m -= m % step
	s := strconv.FormatInt(int64(m/Unit), 10)
	if decimals > 0 {
		frac := fmt.Sprintf("%06d", int64(m%Unit))
		s += "." + frac[:decimals]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// String formats m with two decimals.
func (m Money) String() string { return m.Format(2) }

// TaxRate is a tax rate in hundredths of a percent (1900 is 19 %).
type TaxRate int64

// WithTax returns m with the tax added, rounded down to the millionth.
func (r TaxRate) WithTax(m Money) Money { return m + Money(int64(m)*int64(r)/10000) }

// TimeOfDay is a wall-clock time in the tariff's time zone, as the time
// since midnight (0 to 24 h).
type TimeOfDay time.Duration

// Clock returns the time of day h:m.
func Clock(h, m int) TimeOfDay {
	return TimeOfDay(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

// Conditions say when a price applies. The zero value always applies.
type Conditions struct {
	// From and To bound the time of day, From included, To excluded; To
	// before From wraps midnight (22:00 to 06:00). From == To means the
	// whole day.
	From, To TimeOfDay
	// Days are the days of the week the price applies; empty means all.
	// A span that wraps midnight belongs to the day it starts on.
	Days []time.Weekday
}

// holds reports whether the conditions apply at t, read in loc.
func (c Conditions) holds(t time.Time, loc *time.Location) bool {
	t = t.In(loc)
	// The wall clock, not the time since midnight: on the day clocks go
	// forward 06:00 is five hours after midnight.
	h, m, sec := t.Clock()
	tod := TimeOfDay(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(sec)*time.Second + time.Duration(t.Nanosecond()))
	day := t.Weekday()
	switch {
	case c.From == c.To:
	case c.From < c.To:
		if tod < c.From || tod >= c.To {
			return false
		}
	default: // wraps midnight
		if tod < c.From && tod >= c.To {
			return false
		}
		if tod < c.To {
			day = (day + 6) % 7 // the span began the day before
		}
	}
	return len(c.Days) == 0 || slices.Contains(c.Days, day)
}

// Price is one price of a dimension with the conditions under which it
// applies. Its unit depends on the dimension: per kWh for energy, per hour
// for charging and idle time, once for the fixed fee.
type Price struct {
	Amount     Money
	Conditions Conditions
}

// Tariff is what a session costs. Within each dimension the first Price
// whose conditions hold applies; none means the dimension is free. The
// zero value is free of charge.
type Tariff struct {
	// ID names the tariff for logs and reports; may be empty.
	ID string
	// Currency is the ISO 4217 code (EUR, USD); "" means unknown.
	Currency string
	// Energy is the price per kWh delivered.
	Energy []Price
	// ChargingTime is the price per hour while the session charges.
	ChargingTime []Price
	// IdleTime is the price per hour while the vehicle occupies the
	// connector without charging, after IdleGrace of each idle stretch.
	IdleTime []Price
	// IdleGrace is how long each idle stretch is free; 0 means none.
	IdleGrace time.Duration
	// FixedFee is charged once, at the session's start.
	FixedFee []Price
	// MinCost and MaxCost bound the total; 0 means no bound.
	MinCost, MaxCost Money
	// TaxRate is added to give the cost with tax; 0 means the prices are
	// tax-free or include it already.
	TaxRate TaxRate
}

// Errors of Validate.
var (
	// ErrNegativePrice: a price, bound or rate is below zero.
	ErrNegativePrice = errors.New("tariff: negative price")
	// ErrBadBounds: MaxCost is below MinCost, or a time of day is outside
	// 0..24 h.
	ErrBadBounds = errors.New("tariff: inconsistent bounds")
)

// Validate checks that t can price a session: no negative amounts, times
// of day within the day and MaxCost (when set) at least MinCost.
func (t *Tariff) Validate() error {
	for _, dim := range [][]Price{t.Energy, t.ChargingTime, t.IdleTime, t.FixedFee} {
		for _, p := range dim {
			if p.Amount < 0 {
				return fmt.Errorf("%w: %d", ErrNegativePrice, p.Amount)
			}
			for _, tod := range []TimeOfDay{p.Conditions.From, p.Conditions.To} {
				if tod < 0 || tod > TimeOfDay(24*time.Hour) {
					return fmt.Errorf("%w: time of day %v", ErrBadBounds, time.Duration(tod))
				}
			}
		}
	}
	switch {
	case t.MinCost < 0 || t.MaxCost < 0 || t.TaxRate < 0 || t.IdleGrace < 0:
		return ErrNegativePrice
	case t.MaxCost > 0 && t.MaxCost < t.MinCost:
		return fmt.Errorf("%w: max cost %v below min cost %v", ErrBadBounds, t.MaxCost, t.MinCost)
	}
	return nil
}

// Simple is the tariff of an OCPP 1.6 California Pricing chargingPrice
// (kWhPrice per kWh, hourPrice per hour of charging, flatFee once) with an
// idlePrice (idleHour per hour after grace); every amount applies at all
// times.
func Simple(currency string, kWhPrice, hourPrice, flatFee, idleHour Money, grace time.Duration) Tariff {
	one := func(m Money) []Price {
		if m == 0 {
			return nil
		}
		return []Price{{Amount: m}}
	}
	return Tariff{
		Currency:     currency,
		Energy:       one(kWhPrice),
		ChargingTime: one(hourPrice),
		FixedFee:     one(flatFee),
		IdleTime:     one(idleHour),
		IdleGrace:    grace,
	}
}

// pick returns the amount of the first price of dim that holds at at.
func pick(dim []Price, at time.Time, loc *time.Location) Money {
	for _, p := range dim {
		if p.Conditions.holds(at, loc) {
			return p.Amount
		}
	}
	return 0
}

// boundaries returns the times of day at which some price of t may start or
// stop applying, midnight included, sorted and without repeats.
func (t *Tariff) boundaries() []TimeOfDay {
	out := []TimeOfDay{0}
	for _, dim := range [][]Price{t.Energy, t.ChargingTime, t.IdleTime} {
		for _, p := range dim {
			if p.Conditions.From != p.Conditions.To {
				out = append(out, p.Conditions.From%TimeOfDay(24*time.Hour), p.Conditions.To%TimeOfDay(24*time.Hour))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// String describes the tariff briefly, for logs.
func (t *Tariff) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tariff %q %s", t.ID, t.Currency)
	for _, d := range []struct {
		name string
		dim  []Price
	}{{"kWh", t.Energy}, {"h", t.ChargingTime}, {"idle h", t.IdleTime}, {"fixed", t.FixedFee}} {
		for _, p := range d.dim {
			fmt.Fprintf(&b, " %s/%s", p.Amount, d.name)
		}
	}
	return b.String()
}
