// Package tariff prices charging sessions, independently of any OCPP
// version: a Tariff as OCPP 2.1's TariffType describes it (an energy price
// per kWh, a time price per hour of charging, an idle price per hour, a
// fixed fee, each possibly several times under time-of-day and day-of-week
// conditions, and a minimum and maximum cost), and a Session that computes
// the running cost of one charging session from meter samples and
// charging/idle state changes, in whatever time the caller's clock gives.
//
// Money is an integer count of millionths of the currency unit, so that
// sums are exact; a Session accumulates every part in finer units still and
// rounds down only when it reports, so that its cost never decreases as
// energy and time grow, and the total is always the sum of its parts
// (clamped to the minimum and maximum cost).
//
// The OCPP 1.6 California Pricing form of a price (kWhPrice, hourPrice,
// flatFee, and an idle price after a grace period) is Simple.
//
// A Session is not safe for concurrent use: the station's loop owns it.
package tariff
