package smartcharging

import (
	"math"
	"slices"
	"time"
)

// Session is the transaction running on the queried connector.
type Session struct {
	// Start is when the transaction started: the anchor of Relative
	// schedules.
	Start time.Time
	// TransactionID is the transaction's id, compared with the binding of
	// Tx profiles.
	TransactionID string
}

// Query says what Evaluate computes.
type Query struct {
	// Connector is the connector (2.0.1: EVSE) to evaluate; 0 is the
	// station as a whole, for which only StationMax profiles count.
	Connector int
	// Start and Duration bound the curve; Duration <= 0 gives an empty
	// curve.
	Start    time.Time
	Duration time.Duration
	// Unit is the unit of the result; the zero RateUnit is Amperes.
	Unit RateUnit
	// Location is the station's time zone, in which Recurring profiles
	// repeat at the same wall-clock time; nil is UTC.
	Location *time.Location
	// Voltage is the nominal phase voltage for converting between units,
	// in V; <= 0 is DefaultVoltage.
	Voltage float64
	// Phases is the number of phases of the connector (of the grid
	// connection when Connector is 0), for converting between units; <= 0
	// is DefaultPhases.
	Phases int
	// Session is the connector's running transaction; nil when none runs.
	// The transaction is taken to run throughout the query. It is ignored
	// when Connector is 0.
	Session *Session
	// Purposes, when not nil, restricts the evaluation to the purposes
	// listed: {PurposeTxDefault, PurposeTx} gives a connector's own limit
	// without the station's cap, {PurposeStationMax} the cap alone. A Tx
	// profile hides TxDefault only when both are listed. An empty, non-nil
	// slice gives no limit at all.
	Purposes []Purpose
}

// Evaluate returns the limit in force for q.Connector over the query's
// range, computed from profiles by the rules of the package documentation:
// the lower of the StationMax limit and the connector's own (Tx if one
// applies, else TxDefault), each the highest stack level that applies.
// Profiles of no concern to the connector are ignored, and so are profiles
// that are not well formed (Validate would refuse their structure).
// Evaluate does not modify profiles or keep them.
func Evaluate(profiles []Profile, q Query) Curve {
	start := q.Start.Round(0) // no monotonic reading: instants only
	unit := q.Unit
	if unit != Watts {
		unit = Amperes
	}
	c := Curve{Unit: unit, Start: start, End: start}
	if q.Duration <= 0 {
		return c
	}
	c.End = start.Add(q.Duration)
	e := evaluator{q: &q, start: start, end: c.End, unit: unit, loc: q.Location, rel: start}
	if e.loc == nil {
		e.loc = time.UTC
	}
	if q.Connector == 0 {
		q.Session = nil
	}
	if q.Session != nil {
		e.rel = q.Session.Start.Round(0)
	}
	e.cands = make([]candidate, 0, len(profiles))
	n := 0
	for i := range profiles {
		n += len(profiles[i].Schedule.Periods)
	}
	e.segs = make([]segment, 0, n+n/2)
	for i := range profiles {
		e.add(&profiles[i])
	}
	c.Steps = e.sweep(q.Duration)
	return c
}

// group is one of the three contests of stack levels.
type group uint8

const (
	groupStation group = iota
	groupTx
	groupDefault
	groups
)

// segment is one period of one profile, as it applies within the query:
// from and to are offsets from the query's start, from < to; limit and
// minRate are in the query's unit.
type segment struct {
	from, to       time.Duration
	limit, minRate float64
	phases         int
}

// candidate is a profile that takes part: its contest, its rank in it
// (higher wins) and its segments, segs[lo:hi], in order and disjoint.
// cur is the sweep's position in them.
type candidate struct {
	group       group
	rank        int
	lo, hi, cur int
}

// evaluator holds one evaluation's working state.
type evaluator struct {
	q          *Query
	start, end time.Time
	unit       RateUnit
	loc        *time.Location
	rel        time.Time // anchor of Relative schedules
	cands      []candidate
	segs       []segment
}

// wants reports whether the query lets purpose p take part.
func (e *evaluator) wants(p Purpose) bool {
	return e.q.Purposes == nil || slices.Contains(e.q.Purposes, p)
}

// classify says which contest p takes part in, with which rank, if any.
func (e *evaluator) classify(p *Profile) (group, int, bool) {
	n := e.q.Connector
	switch p.Purpose {
	case PurposeStationMax:
		return groupStation, p.StackLevel, p.Connector == 0 && e.wants(PurposeStationMax)
	case PurposeTxDefault:
		// At one stack level the connector's own profile beats the one of
		// connector 0: ranks interleave so that it sits just above.
		rank := 2 * p.StackLevel
		if p.Connector == n {
			rank++
		}
		return groupDefault, rank, n > 0 && (p.Connector == n || p.Connector == 0) && e.wants(PurposeTxDefault)
	case PurposeTx:
		s := e.q.Session
		ok := n > 0 && p.Connector == n && s != nil &&
			(p.TransactionID == "" || p.TransactionID == s.TransactionID) && e.wants(PurposeTx)
		return groupTx, p.StackLevel, ok
	}
	return 0, 0, false
}

// add lays out the segments of p within the query and its validity.
func (e *evaluator) add(p *Profile) {
	if !p.wellFormed() {
		return
	}
	g, rank, ok := e.classify(p)
	if !ok {
		return
	}
	lo, hi := e.start, e.end
	if p.ValidFrom.After(lo) {
		lo = p.ValidFrom
	}
	if !p.ValidTo.IsZero() && p.ValidTo.Before(hi) {
		hi = p.ValidTo
	}
	if !lo.Before(hi) {
		return
	}
	first := len(e.segs)
	dur := p.Schedule.Duration
	switch p.Kind {
	case KindAbsolute, KindRelative:
		anchor := e.rel
		if p.Kind == KindAbsolute {
			anchor = p.Schedule.Start
			if anchor.IsZero() {
				anchor = p.Installed
			}
		}
		stop := hi
		if dur > 0 {
			if end := anchor.Add(dur); end.Before(stop) {
				stop = end
			}
		}
		e.run(p, anchor, lo, stop)
	case KindRecurring:
		e.recur(p, lo, hi)
	}
	if len(e.segs) > first {
		e.cands = append(e.cands, candidate{group: g, rank: rank, lo: first, hi: len(e.segs), cur: first})
	}
}

// recur lays out the recurrences of p that overlap [lo, hi). Recurrence k
// starts k days (weeks) after the start, at the start's local wall-clock
// time, and lasts until the schedule's duration ends or recurrence k+1
// starts, whichever comes first.
func (e *evaluator) recur(p *Profile, lo, hi time.Time) {
	s := p.Schedule.Start
	days := 1
	if p.Recurrency == RecurWeekly {
		days = 7
	}
	ls := s.In(e.loc)
	y, m, d := ls.Date()
	hh, mm, ss := ls.Clock()
	ns := ls.Nanosecond()
	at := func(k int) time.Time {
		if k == 0 {
			return s // the instant the CSMS gave, even in a repeated hour
		}
		return wallInstant(y, m, d+k*days, hh, mm, ss, ns, e.loc)
	}
	k := 0
	if lo.After(s) {
		// Start one recurrence early: the one in force at lo may have
		// begun on the previous local date (period).
		ly, lm, ld := lo.In(e.loc).Date()
		k = max((civilDay(ly, lm, ld)-civilDay(y, m, d))/days-1, 0)
	}
	dur := p.Schedule.Duration
	for r := at(k); r.Before(hi); k++ {
		next := at(k + 1)
		stop := next
		if dur > 0 {
			if end := r.Add(dur); end.Before(stop) {
				stop = end
			}
		}
		if stop.After(hi) {
			stop = hi
		}
		if stop.After(lo) {
			e.run(p, r, lo, stop)
		}
		r = next
	}
}

// run lays out the periods of p's schedule started at anchor, cut to
// [lo, stop).
func (e *evaluator) run(p *Profile, anchor, lo, stop time.Time) {
	ps := p.Schedule.Periods
	for i := range ps {
		from := anchor.Add(ps[i].Start)
		if !from.Before(stop) {
			return
		}
		to := stop
		if i+1 < len(ps) {
			if t := anchor.Add(ps[i+1].Start); t.Before(to) {
				to = t
			}
		}
		if from.Before(lo) {
			from = lo
		}
		if !from.Before(to) {
			continue
		}
		e.segs = append(e.segs, segment{
			from:    from.Sub(e.start),
			to:      to.Sub(e.start),
			limit:   Convert(ps[i].Limit, p.Schedule.Unit, e.unit, e.q.Phases, ps[i].Phases, e.q.Voltage),
			minRate: Convert(p.Schedule.MinRate, p.Schedule.Unit, e.unit, e.q.Phases, ps[i].Phases, e.q.Voltage),
			phases:  ps[i].Phases,
		})
	}
}

// sweep walks the query from its start to d, an elementary interval at a
// time (between two consecutive segment boundaries of any candidate), and
// returns the merged steps.
func (e *evaluator) sweep(d time.Duration) []Step {
	// Merging leaves far fewer steps than boundaries, typically: start
	// small rather than reserve one step per segment.
	steps := make([]Step, 0, min(len(e.segs)+1, 64))
	none := Step{Limit: math.Inf(1)}
	for cur := time.Duration(0); cur < d; {
		next := d
		best := [groups]int{-1, -1, -1}
		for ci := range e.cands {
			c := &e.cands[ci]
			for c.cur < c.hi && e.segs[c.cur].to <= cur {
				c.cur++
			}
			if c.cur == c.hi {
				continue
			}
			s := &e.segs[c.cur]
			if s.from > cur {
				next = min(next, s.from)
				continue
			}
			next = min(next, s.to)
			// Highest rank wins; a tie (which a Store never holds) goes to
			// the lower limit, then to the profile listed first.
			if b := best[c.group]; b < 0 || c.rank > e.cands[b].rank ||
				(c.rank == e.cands[b].rank && s.limit < e.segs[e.cands[b].cur].limit) {
				best[c.group] = ci
			}
		}
		of := func(ci int) Step {
			if ci < 0 {
				return none
			}
			s := &e.segs[e.cands[ci].cur]
			return Step{Limit: s.limit, Phases: s.phases, MinRate: s.minRate}
		}
		own := best[groupTx]
		if own < 0 {
			own = best[groupDefault]
		}
		st := minStep(of(best[groupStation]), of(own))
		st.At = e.start.Add(cur)
		steps = appendStep(steps, st)
		cur = next
	}
	return steps
}

// civilDay numbers the date y-m-d: consecutive dates get consecutive
// numbers.
func civilDay(y int, m time.Month, d int) int {
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// wallInstant returns the instant at which the clocks in loc read the
// given local date and time (the date is normalized as time.Date does).
// Across a change of offset the wall clock is resolved as calendars do
// (RFC 5545): a time that occurs twice (clocks set back) is its first
// occurrence; a time that does not occur (clocks set forward) is read with
// the offset in force before the change, so it lands as much after the
// change as it would have been after the last valid time (02:30 on the
// spring change in Europe/Berlin is 03:30 CEST).
func wallInstant(y int, m time.Month, d, hh, mm, ss, ns int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, hh, mm, ss, ns, loc)
	if loc == time.UTC {
		return t
	}
	// The offsets in force two days either side. Zones do not change
	// offset twice within four days, so when these agree no change is
	// near and time.Date's answer is the only one.
	naive := time.Date(y, m, d, hh, mm, ss, ns, time.UTC)
	_, before := naive.Add(-48 * time.Hour).In(loc).Zone()
	_, after := naive.Add(48 * time.Hour).In(loc).Zone()
	if before == after {
		return t
	}
	early := naive.Add(-time.Duration(before) * time.Second) // read with the old offset
	late := naive.Add(-time.Duration(after) * time.Second)   // read with the new offset
	_, eo := early.In(loc).Zone()
	_, lo := late.In(loc).Zone()
	switch okEarly, okLate := eo == before, lo == after; {
	case okEarly && okLate: // a repeated time: the first occurrence
		if late.Before(early) {
			return late.In(loc)
		}
		return early.In(loc)
	case okLate:
		return late.In(loc)
	default: // a valid time with the old offset, or a skipped one
		return early.In(loc)
	}
}
