package smartcharging

import (
	"testing"
	"time"
)

// benchProfiles returns 10 stacked TxDefault profiles of connector 1 with
// 24 periods each: the even stack levels Absolute (hourly periods, each
// profile valid for a different part of the day), the odd ones Recurring
// Daily (half-hourly periods over 12 hours, starting at different local
// times).
func benchProfiles(loc *time.Location) []Profile {
	day := time.Date(2025, 6, 2, 0, 0, 0, 0, loc)
	out := make([]Profile, 0, 10)
	for i := range 10 {
		p := Profile{ID: i + 1, Connector: 1, StackLevel: i, Purpose: PurposeTxDefault, Kind: KindAbsolute,
			Schedule: Schedule{Unit: Amperes}}
		step := time.Hour
		if i%2 == 1 {
			p.Kind, p.Recurrency = KindRecurring, RecurDaily
			p.Schedule.Start = day.AddDate(0, 0, -3).Add(time.Duration(i) * time.Hour)
			p.Schedule.Duration = 12 * time.Hour
			step = 30 * time.Minute
		} else {
			p.Schedule.Start = day.Add(-time.Duration(i) * time.Hour)
			p.ValidFrom = day.Add(time.Duration(i) * 2 * time.Hour)
			p.ValidTo = p.ValidFrom.Add(10 * time.Hour)
		}
		if i == 0 {
			p.ValidFrom, p.ValidTo = time.Time{}, time.Time{}
		}
		for j := range 24 {
			p.Schedule.Periods = append(p.Schedule.Periods, Period{Start: time.Duration(j) * step, Limit: float64(6 + (i*7+j*5)%26)})
		}
		out = append(out, p)
	}
	return out
}

// BenchmarkComposite10x24 is one GetCompositeSchedule of a connector over
// a day: Evaluate of 10 stacked profiles of 24 periods, then Periods.
func BenchmarkComposite10x24(b *testing.B) {
	loc := berlin(b)
	ps := benchProfiles(loc)
	q := Query{Connector: 1, Start: time.Date(2025, 6, 2, 0, 0, 0, 0, loc), Duration: 86400 * time.Second,
		Location: loc, Session: &Session{Start: time.Date(2025, 6, 1, 23, 0, 0, 0, loc), TransactionID: "1"}}
	var n int
	b.ReportAllocs()
	for b.Loop() {
		c := Evaluate(ps, q)
		n = len(c.Periods())
	}
	b.ReportMetric(float64(n), "periods")
}

// BenchmarkCompositeStation is a GetCompositeSchedule of connector 0 on a
// station of 4 connectors: the StationMax curve and the minimum of it and
// the sum of the connectors' own curves, each capped by its rating.
func BenchmarkCompositeStation(b *testing.B) {
	loc := berlin(b)
	ps := benchProfiles(loc)
	for i := range ps {
		ps[i].Connector = 0 // every connector's default
	}
	ps = append(ps, Profile{ID: 99, Purpose: PurposeStationMax, Kind: KindRecurring, Recurrency: RecurDaily,
		Schedule: Schedule{Start: time.Date(2025, 1, 1, 17, 0, 0, 0, loc), Duration: 4 * time.Hour, Unit: Watts,
			Periods: []Period{{Limit: 22000}, {Start: time.Hour, Limit: 11000}}}})
	start := time.Date(2025, 6, 2, 0, 0, 0, 0, loc)
	b.ReportAllocs()
	for b.Loop() {
		own := make([]Curve, 4)
		for c := range own {
			own[c] = Evaluate(ps, Query{Connector: c + 1, Start: start, Duration: 24 * time.Hour, Location: loc,
				Purposes: []Purpose{PurposeTx, PurposeTxDefault}}).Cap(32)
		}
		station := Evaluate(ps, Query{Start: start, Duration: 24 * time.Hour, Location: loc})
		_ = Min(station, Sum(own...)).Periods()
	}
}
