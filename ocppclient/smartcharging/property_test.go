package smartcharging

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// The reference evaluator below applies the rules at a single instant,
// straight from their statement, without the segment sweep of Evaluate.
// Where a recurring schedule's wall-clock time falls into a DST gap or
// fold, the answer is a convention (see wallInstant) that TestRecurring
// pins down; the generator keeps recurring starts out of the 02:00 hour so
// that the reference can use time.Date as it is.

// refCase is one generated scenario.
type refCase struct {
	profiles []Profile
	q        Query
}

// refValue is what the rules say holds at one instant.
type refValue struct {
	limit   float64
	phases  int
	minRate float64
	station float64 // the StationMax limit in force, +Inf when none
}

// refWindow returns the start and end of the run of p's schedule that is
// in force at t, if any: end is the zero Time when the run is unbounded.
func refWindow(p *Profile, q *Query, t time.Time) (start, end time.Time, ok bool) {
	dur := p.Schedule.Duration
	switch p.Kind {
	case KindAbsolute:
		start = p.Schedule.Start
		if start.IsZero() {
			start = p.Installed
		}
	case KindRelative:
		start = q.Start
		if q.Session != nil && q.Connector != 0 {
			start = q.Session.Start
		}
	case KindRecurring:
		loc := q.Location
		if loc == nil {
			loc = time.UTC
		}
		every := 1
		if p.Recurrency == RecurWeekly {
			every = 7
		}
		s := p.Schedule.Start.In(loc)
		sDate := time.Date(s.Year(), s.Month(), s.Day(), 12, 0, 0, 0, time.UTC)
		tl := t.In(loc)
		// Walk back over the local dates up to t's until one is a
		// recurrence day whose start is not after t.
		for back := 0; back <= 8; back++ {
			d := time.Date(tl.Year(), tl.Month(), tl.Day()-back, 12, 0, 0, 0, time.UTC)
			days := int(math.Round(d.Sub(sDate).Hours() / 24))
			if days < 0 {
				return time.Time{}, time.Time{}, false
			}
			if days%every != 0 {
				continue
			}
			r := time.Date(d.Year(), d.Month(), d.Day(), s.Hour(), s.Minute(), s.Second(), s.Nanosecond(), loc)
			if days == 0 {
				r = p.Schedule.Start
			}
			if r.After(t) {
				continue
			}
			next := time.Date(d.Year(), d.Month(), d.Day()+every, s.Hour(), s.Minute(), s.Second(), s.Nanosecond(), loc)
			end = next
			if dur > 0 && r.Add(dur).Before(end) {
				end = r.Add(dur)
			}
			return r, end, true
		}
		return time.Time{}, time.Time{}, false
	}
	if dur > 0 {
		end = start.Add(dur)
	}
	return start, end, true
}

// refPeriod returns the period of p in force at t, and whether p applies at
// t at all (validity and schedule).
func refPeriod(p *Profile, q *Query, t time.Time) (Period, bool) {
	if !p.ValidFrom.IsZero() && t.Before(p.ValidFrom) {
		return Period{}, false
	}
	if !p.ValidTo.IsZero() && !t.Before(p.ValidTo) {
		return Period{}, false
	}
	start, end, ok := refWindow(p, q, t)
	if !ok || t.Before(start) || (!end.IsZero() && !t.Before(end)) {
		return Period{}, false
	}
	off := t.Sub(start)
	var in Period
	found := false
	for _, pe := range p.Schedule.Periods {
		if pe.Start <= off {
			in, found = pe, true
		}
	}
	return in, found
}

// refConvert converts a rate to the query's unit, rounded down to 0.1.
func refConvert(v float64, from RateUnit, q *Query, numberPhases int) float64 {
	volts, phases := q.Voltage, q.Phases
	if volts <= 0 {
		volts = 230
	}
	if phases <= 0 {
		phases = 3
	}
	if numberPhases == 0 {
		numberPhases = 3
	}
	to := q.Unit
	if to == 0 {
		to = Amperes
	}
	if from == Watts && to == Amperes {
		v = v / volts / float64(phases)
	}
	if from == Amperes && to == Watts {
		v = v * volts * float64(min(phases, numberPhases))
	}
	return math.Floor(v*10+1e-7) / 10
}

// refAt evaluates the rules at t.
func refAt(c *refCase, t time.Time) refValue {
	q := &c.q
	takes := func(p Purpose) bool { return q.Purposes == nil || slices.Contains(q.Purposes, p) }
	type win struct {
		rank  int
		limit float64
		per   Period
		min   float64
		found bool
	}
	var station, def, tx win
	for i := range c.profiles {
		p := &c.profiles[i]
		var w *win
		rank := p.StackLevel
		switch {
		case p.Purpose == PurposeStationMax && p.Connector == 0 && takes(PurposeStationMax):
			w = &station
		case p.Purpose == PurposeTxDefault && q.Connector != 0 && takes(PurposeTxDefault) &&
			(p.Connector == 0 || p.Connector == q.Connector):
			w = &def
			rank = rank * 10
			if p.Connector == q.Connector {
				rank += 5
			}
		case p.Purpose == PurposeTx && q.Connector != 0 && takes(PurposeTx) && p.Connector == q.Connector &&
			q.Session != nil && (p.TransactionID == "" || p.TransactionID == q.Session.TransactionID):
			w = &tx
		default:
			continue
		}
		per, ok := refPeriod(p, q, t)
		if !ok || (w.found && w.rank >= rank) {
			continue
		}
		*w = win{rank: rank, per: per, found: true,
			limit: refConvert(per.Limit, p.Schedule.Unit, q, per.Phases),
			min:   refConvert(p.Schedule.MinRate, p.Schedule.Unit, q, per.Phases)}
	}
	own := tx
	if !own.found {
		own = def
	}
	v := refValue{limit: math.Inf(1), station: math.Inf(1)}
	for _, w := range []win{station, own} {
		if !w.found {
			continue
		}
		v.limit = math.Min(v.limit, w.limit)
		v.minRate = math.Max(v.minRate, w.min)
		if w.per.Phases != 0 && (v.phases == 0 || w.per.Phases < v.phases) {
			v.phases = w.per.Phases
		}
	}
	if station.found {
		v.station = station.limit
	}
	return v
}

// refInstants lists the instants at which something may change: validity
// edges, schedule and period starts, ends, recurrence starts.
func refInstants(c *refCase) []time.Time {
	var out []time.Time
	loc := c.q.Location
	if loc == nil {
		loc = time.UTC
	}
	for i := range c.profiles {
		p := &c.profiles[i]
		out = append(out, p.ValidFrom, p.ValidTo)
		var starts []time.Time
		switch p.Kind {
		case KindRecurring:
			s := p.Schedule.Start.In(loc)
			for d := -10; d <= 10+int(c.q.Start.Sub(s).Hours()/24)+int(c.q.Duration.Hours()/24); d++ {
				starts = append(starts, time.Date(s.Year(), s.Month(), s.Day()+d, s.Hour(), s.Minute(), s.Second(), s.Nanosecond(), loc))
			}
		default:
			st, _, _ := refWindow(p, &c.q, c.q.Start)
			starts = append(starts, st)
		}
		for _, st := range starts {
			out = append(out, st.Add(p.Schedule.Duration))
			for _, pe := range p.Schedule.Periods {
				out = append(out, st.Add(pe.Start))
			}
		}
	}
	return out
}

// genCase draws a scenario: up to 12 profiles near a DST change or an
// ordinary day, deduplicated as a Store would keep them.
func genCase(t *rapid.T, berlin *time.Location) refCase {
	base := rapid.SampledFrom([]time.Time{
		time.Date(2025, 3, 29, 12, 0, 0, 0, time.UTC),  // the day before spring
		time.Date(2025, 10, 25, 12, 0, 0, 0, time.UTC), // the day before autumn
		time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC),
	}).Draw(t, "base")
	var loc *time.Location
	if rapid.Bool().Draw(t, "berlin") {
		loc = berlin
	}
	// rapid favours small numbers; a duration drawn as days, hours,
	// minutes and seconds, each from its own small range, spreads over
	// [lo, hi] and still lands on whole hours and minutes often.
	secs := func(lo, hi time.Duration, label string) time.Duration {
		d := time.Duration(rapid.IntRange(0, 4).Draw(t, label+".d"))*24*h +
			time.Duration(rapid.IntRange(0, 23).Draw(t, label+".h"))*h +
			time.Duration(rapid.SampledFrom([]int{0, 30, 15, 45, 1, 59}).Draw(t, label+".m"))*m +
			time.Duration(rapid.SampledFrom([]int{0, 1, 30, 59}).Draw(t, label+".s"))*time.Second
		return lo + d%(hi-lo+time.Second)
	}

	q := Query{
		Connector: rapid.SampledFrom([]int{1, 2, 0, 1}).Draw(t, "connector"),
		Start:     base.Add(secs(-12*h, 12*h, "queryStart")),
		Duration:  secs(time.Minute, 30*h, "queryDuration"),
		Unit:      rapid.SampledFrom([]RateUnit{0, Amperes, Watts}).Draw(t, "unit"),
		Location:  loc,
		Voltage:   rapid.SampledFrom([]float64{0, 230, 220}).Draw(t, "voltage"),
		Phases:    rapid.IntRange(0, 3).Draw(t, "phases"),
	}
	// Profiles start around the query, so that they overlap it often.
	instant := func(label string) time.Time { return q.Start.Add(secs(-36*h, 20*h, label)) }
	if rapid.IntRange(0, 2).Draw(t, "session") > 0 {
		q.Session = &Session{Start: q.Start.Add(secs(-10*h, 2*h, "sessionStart")),
			TransactionID: rapid.SampledFrom([]string{"t1", "t2"}).Draw(t, "sessionTx")}
	}
	if rapid.IntRange(0, 3).Draw(t, "filter") == 0 {
		q.Purposes = []Purpose{}
		for _, p := range []Purpose{PurposeStationMax, PurposeTxDefault, PurposeTx} {
			if rapid.Bool().Draw(t, "takes "+p.String()) {
				q.Purposes = append(q.Purposes, p)
			}
		}
	}

	n := rapid.IntRange(0, 6).Draw(t, "profiles") + rapid.IntRange(0, 6).Draw(t, "moreProfiles")
	var ps []Profile
	for i := range n {
		label := func(s string) string { return fmt.Sprintf("p%d.%s", i, s) }
		p := Profile{
			ID:         i + 1,
			StackLevel: rapid.IntRange(0, 3).Draw(t, label("stack")),
			Purpose:    rapid.SampledFrom([]Purpose{PurposeStationMax, PurposeTxDefault, PurposeTx}).Draw(t, label("purpose")),
			Kind:       rapid.SampledFrom([]Kind{KindAbsolute, KindRecurring, KindRelative}).Draw(t, label("kind")),
			Installed:  instant(label("installed")),
		}
		if rapid.IntRange(0, 4).Draw(t, label("reuseID")) == 0 {
			p.ID = rapid.IntRange(1, i+1).Draw(t, label("id")) // a replacement by id
		}
		switch p.Purpose {
		case PurposeTxDefault:
			p.Connector = rapid.IntRange(0, 2).Draw(t, label("connector"))
		case PurposeTx:
			p.Connector = rapid.IntRange(1, 2).Draw(t, label("connector"))
			p.TransactionID = rapid.SampledFrom([]string{"", "t1", "t2"}).Draw(t, label("tx"))
		}
		if p.Kind != KindRelative && (p.Kind == KindRecurring || rapid.Bool().Draw(t, label("hasStart"))) {
			p.Schedule.Start = instant(label("start"))
		}
		if p.Kind == KindRecurring {
			p.Recurrency = rapid.SampledFrom([]Recurrency{RecurDaily, RecurWeekly}).Draw(t, label("recurrency"))
			if loc != nil && p.Schedule.Start.In(loc).Hour() == 2 {
				p.Schedule.Start = p.Schedule.Start.Add(h) // out of the DST gap and fold
			}
		}
		if rapid.IntRange(0, 2).Draw(t, label("hasValidFrom")) == 1 {
			p.ValidFrom = instant(label("validFrom"))
		}
		if rapid.IntRange(0, 2).Draw(t, label("hasValidTo")) == 1 {
			p.ValidTo = instant(label("validTo"))
			if !p.ValidFrom.IsZero() && !p.ValidTo.After(p.ValidFrom) {
				p.ValidTo = p.ValidFrom.Add(secs(time.Second, 24*h, label("validFor")))
			}
		}
		if rapid.Bool().Draw(t, label("hasDuration")) {
			p.Schedule.Duration = secs(time.Second, 30*h, label("duration"))
		}
		p.Schedule.Unit = rapid.SampledFrom([]RateUnit{Amperes, Watts}).Draw(t, label("unit"))
		// A with one decimal up to 69.9, W in whole watts up to 43999.
		rate := func(label string) float64 {
			tens := rapid.IntRange(0, 6).Draw(t, label+".tens")
			units := rapid.IntRange(0, 9).Draw(t, label+".units")
			if p.Schedule.Unit == Watts {
				return float64(tens*7000 + units*700 + rapid.IntRange(0, 699).Draw(t, label+".W"))
			}
			return float64(tens*10+units) + float64(rapid.IntRange(0, 9).Draw(t, label+".tenths"))/10
		}
		if rapid.Bool().Draw(t, label("hasMinRate")) {
			p.Schedule.MinRate = rate(label("minRate"))
		}
		off := time.Duration(0)
		for j := range rapid.IntRange(1, 5).Draw(t, label("periods")) {
			if j > 0 {
				off += secs(time.Second, 8*h, label(fmt.Sprint("gap", j)))
			}
			p.Schedule.Periods = append(p.Schedule.Periods, Period{
				Start:  off,
				Limit:  rate(label(fmt.Sprint("limit", j))),
				Phases: rapid.IntRange(0, 3).Draw(t, label(fmt.Sprint("phases", j))),
			})
		}
		// Replace as a Store does.
		ps = slices.DeleteFunc(ps, func(o Profile) bool {
			return o.ID == p.ID || (o.Connector == p.Connector && o.Purpose == p.Purpose && o.StackLevel == p.StackLevel)
		})
		ps = append(ps, p)
	}
	return refCase{profiles: ps, q: q}
}

func TestEvaluateProperty(t *testing.T) {
	loc := berlin(t)
	lax := Limits{MaxStackLevel: 3, MaxPeriods: 5, MaxInstalled: 100, Units: []RateUnit{Amperes, Watts}}
	rapid.Check(t, func(t *rapid.T) {
		c := genCase(t, loc)
		for _, p := range c.profiles {
			if err := p.Validate(lax); err != nil {
				t.Fatalf("generated an invalid profile: %v", err)
			}
		}
		got := Evaluate(c.profiles, c.q)
		checkShape(t, got)
		if !got.End.Equal(c.q.Start.Add(c.q.Duration)) {
			t.Fatalf("curve ends at %s", got.End)
		}
		// Samples: every minute, every instant at which something may
		// change and the nanosecond before, and every step of the curve.
		var samples []time.Time
		for at := got.Start; at.Before(got.End); at = at.Add(time.Minute) {
			samples = append(samples, at)
		}
		for _, at := range refInstants(&c) {
			samples = append(samples, at, at.Add(-time.Nanosecond))
		}
		for _, s := range got.Steps {
			samples = append(samples, s.At, s.At.Add(-time.Nanosecond))
		}
		for _, at := range samples {
			if at.Before(got.Start) || !at.Before(got.End) {
				continue
			}
			want := refAt(&c, at)
			s := got.At(at)
			if !near(s.Limit, want.limit) || s.Phases != want.phases || !near(s.MinRate, want.minRate) {
				t.Fatalf("at %s (+%s): got limit %v phases %d min %v, want %v %d %v\ncurve %s",
					at.UTC().Format(time.RFC3339Nano), at.Sub(got.Start), s.Limit, s.Phases, s.MinRate,
					want.limit, want.phases, want.minRate, render(got))
			}
			if s.Limit > want.station+1e-9 {
				t.Fatalf("at %s: limit %v above the StationMax in force %v", at, s.Limit, want.station)
			}
		}
	})
}

// near compares limits, allowing for float noise (both infinite is near).
func near(a, b float64) bool {
	if math.IsInf(a, 1) || math.IsInf(b, 1) {
		return a == b
	}
	return math.Abs(a-b) < 1e-6
}
