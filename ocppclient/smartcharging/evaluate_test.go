package smartcharging

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	inf = math.Inf(1)
	// t0 is a Monday, midnight UTC.
	t0 = time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)
)

// berlin loads Europe/Berlin, the zone of the DST cases.
func berlin(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone data for Europe/Berlin: %v", err)
	}
	return loc
}

// ps builds periods from (offset, limit) pairs.
func ps(pairs ...any) []Period {
	out := make([]Period, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Period{Start: pairs[i].(time.Duration), Limit: toFloat(pairs[i+1])})
	}
	return out
}

func toFloat(v any) float64 {
	switch v := v.(type) {
	case int:
		return float64(v)
	case float64:
		return v
	}
	panic(fmt.Sprintf("not a number: %v", v))
}

// prof is a builder of profiles for the tables.
type prof Profile

func txDefault(id, conn, stack int) prof {
	return prof{ID: id, Connector: conn, StackLevel: stack, Purpose: PurposeTxDefault, Kind: KindAbsolute,
		Schedule: Schedule{Start: t0, Unit: Amperes}}
}

func txProf(id, conn, stack int) prof {
	p := txDefault(id, conn, stack)
	p.Purpose = PurposeTx
	return p
}

func stationMax(id, stack int) prof {
	p := txDefault(id, 0, stack)
	p.Purpose = PurposeStationMax
	return p
}

func (p prof) periods(pairs ...any) prof {
	p.Schedule.Periods = ps(pairs...)
	return p
}
func (p prof) limit(l float64) prof          { return p.periods(time.Duration(0), l) }
func (p prof) start(t time.Time) prof        { p.Schedule.Start = t; return p }
func (p prof) dur(d time.Duration) prof      { p.Schedule.Duration = d; return p }
func (p prof) unit(u RateUnit) prof          { p.Schedule.Unit = u; return p }
func (p prof) valid(from, to time.Time) prof { p.ValidFrom, p.ValidTo = from, to; return p }
func (p prof) tx(id string) prof             { p.TransactionID = id; return p }
func (p prof) relative() prof                { p.Kind = KindRelative; p.Schedule.Start = time.Time{}; return p }
func (p prof) installed(t time.Time) prof    { p.Schedule.Start = time.Time{}; p.Installed = t; return p }
func (p prof) recurring(r Recurrency) prof   { p.Kind = KindRecurring; p.Recurrency = r; return p }
func (p prof) phases(i, n int) prof {
	p.Schedule.Periods = slices.Clone(p.Schedule.Periods) // p's periods are shared with its source
	p.Schedule.Periods[i].Phases = n
	return p
}
func (p prof) minRate(r float64) prof { p.Schedule.MinRate = r; return p }
func (p prof) P() Profile             { return Profile(p) }

func profiles(ps ...prof) []Profile {
	out := make([]Profile, len(ps))
	for i, p := range ps {
		out[i] = p.P()
	}
	return out
}

// st is an expected step: its offset from the query start, its limit and,
// when not 0, its phases.
type st struct {
	off    time.Duration
	limit  float64
	phases int
}

// render shows a curve as the steps of a table, for comparisons and
// failure messages.
func render(c Curve) string {
	var b strings.Builder
	for _, s := range c.Steps {
		fmt.Fprintf(&b, "%s:%g", s.At.Sub(c.Start), s.Limit)
		if s.Phases != 0 {
			fmt.Fprintf(&b, "/%dph", s.Phases)
		}
		b.WriteString(" ")
	}
	return b.String()
}

func renderWant(ws []st) string {
	var b strings.Builder
	for _, s := range ws {
		fmt.Fprintf(&b, "%s:%g", s.off, s.limit)
		if s.phases != 0 {
			fmt.Fprintf(&b, "/%dph", s.phases)
		}
		b.WriteString(" ")
	}
	return b.String()
}

const (
	h = time.Hour
	m = time.Minute
)

func TestEvaluate(t *testing.T) {
	session := &Session{Start: t0.Add(-30 * m), TransactionID: "42"}
	q := func(conn int, d time.Duration) Query { return Query{Connector: conn, Start: t0, Duration: d} }
	withSession := func(q Query, s *Session) Query { q.Session = s; return q }
	withPurposes := func(q Query, p ...Purpose) Query { q.Purposes = append([]Purpose{}, p...); return q }
	withUnit := func(q Query, u RateUnit, phases int) Query { q.Unit, q.Phases = u, phases; return q }

	tests := []struct {
		name     string
		profiles []Profile
		q        Query
		want     []st
	}{
		{"no profile", nil, q(1, 6*h), []st{{0, inf, 0}}},
		{"zero duration", profiles(txDefault(1, 1, 0).limit(16)), q(1, 0), nil},
		{"higher stack level wins, then falls back",
			profiles(
				txDefault(1, 1, 0).limit(32),
				txDefault(2, 1, 1).limit(16).start(t0.Add(1*h)).dur(2*h),
			), q(1, 6*h), []st{{0, 32, 0}, {1 * h, 16, 0}, {3 * h, 32, 0}}},
		{"higher stack level wins even when higher",
			profiles(txDefault(1, 1, 0).limit(10), txDefault(2, 1, 3).limit(20)),
			q(1, h), []st{{0, 20, 0}}},
		{"overlapping validity windows",
			profiles(
				txDefault(1, 1, 0).limit(30),
				txDefault(2, 1, 1).limit(20).valid(t0.Add(90*m), t0.Add(4*h)),
				txDefault(3, 1, 2).limit(10).valid(t0.Add(1*h), t0.Add(2*h)),
			), q(1, 6*h), []st{{0, 30, 0}, {1 * h, 10, 0}, {2 * h, 20, 0}, {4 * h, 30, 0}}},
		{"validity edges: from included, to excluded, open sides",
			profiles(
				txDefault(1, 1, 1).limit(10).valid(time.Time{}, t0.Add(1*h)),
				txDefault(2, 1, 2).limit(20).valid(t0.Add(2*h), time.Time{}),
			), q(1, 3*h), []st{{0, 10, 0}, {1 * h, inf, 0}, {2 * h, 20, 0}}},
		{"validity outside the query",
			profiles(
				txDefault(1, 1, 1).limit(10).valid(t0.Add(-2*h), t0),
				txDefault(2, 1, 2).limit(20).valid(t0.Add(3*h), t0.Add(4*h)),
			), q(1, 3*h), []st{{0, inf, 0}}},
		{"schedule not begun yet",
			profiles(txDefault(1, 1, 1).limit(10).start(t0.Add(1*h)), txDefault(2, 1, 0).limit(20)),
			q(1, 2*h), []st{{0, 20, 0}, {1 * h, 10, 0}}},
		{"TxDefault: connector's own beats connector 0 at equal stack level",
			profiles(txDefault(1, 0, 1).limit(20), txDefault(2, 1, 1).limit(25)),
			q(1, h), []st{{0, 25, 0}}},
		{"TxDefault: connector 0 at a higher stack level wins",
			profiles(txDefault(1, 0, 2).limit(20), txDefault(2, 1, 1).limit(25)),
			q(1, h), []st{{0, 20, 0}}},
		{"TxDefault: connector 0 applies where the connector's ends",
			profiles(txDefault(1, 0, 0).limit(20), txDefault(2, 1, 5).limit(25).dur(h)),
			q(1, 2*h), []st{{0, 25, 0}, {1 * h, 20, 0}}},
		{"TxDefault of another connector does not apply",
			profiles(txDefault(1, 2, 0).limit(20)),
			q(1, h), []st{{0, inf, 0}}},
		{"Tx without a transaction does not apply",
			profiles(txDefault(1, 1, 0).limit(32), txProf(2, 1, 0).limit(10)),
			q(1, h), []st{{0, 32, 0}}},
		{"Tx with a transaction hides TxDefault, whatever the stack levels",
			profiles(txDefault(1, 1, 5).limit(32), txProf(2, 1, 0).limit(40)),
			withSession(q(1, h), session), []st{{0, 40, 0}}},
		{"Tx bound to the running transaction",
			profiles(txDefault(1, 1, 0).limit(32), txProf(2, 1, 0).limit(10).tx("42")),
			withSession(q(1, h), session), []st{{0, 10, 0}}},
		{"Tx bound to another transaction",
			profiles(txDefault(1, 1, 0).limit(32), txProf(2, 1, 0).limit(10).tx("41")),
			withSession(q(1, h), session), []st{{0, 32, 0}}},
		{"Tx of another connector",
			profiles(txDefault(1, 1, 0).limit(32), txProf(2, 2, 0).limit(10)),
			withSession(q(1, h), session), []st{{0, 32, 0}}},
		{"TxDefault again where the Tx schedule ends",
			profiles(txDefault(1, 1, 0).limit(32), txProf(2, 1, 0).limit(10).dur(h)),
			withSession(q(1, 2*h), session), []st{{0, 10, 0}, {1 * h, 32, 0}}},
		{"Tx stacking",
			profiles(txProf(1, 1, 0).limit(10), txProf(2, 1, 1).limit(8).start(t0.Add(h)).dur(h)),
			withSession(q(1, 3*h), session), []st{{0, 10, 0}, {1 * h, 8, 0}, {2 * h, 10, 0}}},
		{"StationMax caps TxDefault",
			profiles(stationMax(1, 0).limit(20), txDefault(2, 1, 0).limit(32)),
			q(1, h), []st{{0, 20, 0}}},
		{"StationMax above TxDefault",
			profiles(stationMax(1, 0).limit(40), txDefault(2, 1, 0).limit(16)),
			q(1, h), []st{{0, 16, 0}}},
		{"StationMax alone",
			profiles(stationMax(1, 0).limit(40)),
			q(1, h), []st{{0, 40, 0}}},
		{"StationMax caps Tx, by time",
			profiles(stationMax(1, 0).periods(0*h, 40, 1*h, 10), txProf(2, 1, 0).limit(16)),
			withSession(q(1, 2*h), session), []st{{0, 16, 0}, {1 * h, 10, 0}}},
		{"StationMax stacking",
			profiles(stationMax(1, 0).limit(40), stationMax(2, 1).limit(30).start(t0.Add(h)).dur(h)),
			q(0, 3*h), []st{{0, 40, 0}, {1 * h, 30, 0}, {2 * h, 40, 0}}},
		{"connector 0 is StationMax only",
			profiles(stationMax(1, 0).limit(20), txDefault(2, 0, 0).limit(10), txDefault(3, 1, 0).limit(8)),
			q(0, h), []st{{0, 20, 0}}},
		{"StationMax off connector 0 is ignored",
			profiles(prof(stationMax(1, 0).limit(20)).onConnector(1)),
			q(1, h), []st{{0, inf, 0}}},
		{"purposes filter: the connector's own limit",
			profiles(stationMax(1, 0).limit(20), txDefault(2, 1, 0).limit(32)),
			withPurposes(q(1, h), PurposeTx, PurposeTxDefault), []st{{0, 32, 0}}},
		{"purposes filter: StationMax only",
			profiles(stationMax(1, 0).limit(20), txDefault(2, 1, 0).limit(10)),
			withPurposes(q(1, h), PurposeStationMax), []st{{0, 20, 0}}},
		{"purposes filter: TxDefault without Tx is not hidden",
			profiles(txDefault(1, 1, 0).limit(32), txProf(2, 1, 0).limit(10)),
			withPurposes(withSession(q(1, h), session), PurposeTxDefault), []st{{0, 32, 0}}},
		{"purposes filter: empty",
			profiles(txDefault(1, 1, 0).limit(32)),
			withPurposes(q(1, h)), []st{{0, inf, 0}}},
		{"Relative anchored at the transaction start",
			profiles(txDefault(1, 1, 0).relative().periods(0*h, 10, 1*h, 20).dur(2 * h)),
			withSession(q(1, 3*h), session), []st{{0, 10, 0}, {30 * m, 20, 0}, {90 * m, inf, 0}}},
		{"Relative without a transaction anchored at the query start",
			profiles(txDefault(1, 1, 0).relative().periods(0*h, 10, 1*h, 20).dur(2 * h)),
			q(1, 3*h), []st{{0, 10, 0}, {1 * h, 20, 0}, {2 * h, inf, 0}}},
		{"Relative transaction starting later",
			profiles(txDefault(1, 1, 0).relative().limit(10)),
			withSession(q(1, 2*h), &Session{Start: t0.Add(h)}), []st{{0, inf, 0}, {1 * h, 10, 0}}},
		{"Absolute without a start anchored at installation",
			profiles(txDefault(1, 1, 0).periods(0*h, 10, 30*m, 12).installed(t0.Add(h)).dur(h)),
			q(1, 3*h), []st{{0, inf, 0}, {1 * h, 10, 0}, {90 * m, 12, 0}, {2 * h, inf, 0}}},
		{"duration cuts the last period",
			profiles(txDefault(1, 1, 0).periods(0*h, 10, 1*h, 20).dur(90 * m)),
			q(1, 3*h), []st{{0, 10, 0}, {1 * h, 20, 0}, {90 * m, inf, 0}}},
		{"duration ends before a period starts",
			profiles(txDefault(1, 1, 0).periods(0*h, 10, 2*h, 20).dur(1 * h)),
			q(1, 3*h), []st{{0, 10, 0}, {1 * h, inf, 0}}},
		{"schedule started before the query",
			profiles(txDefault(1, 1, 0).periods(0*h, 10, 2*h, 20, 4*h, 30).start(t0.Add(-3 * h))),
			q(1, 2*h), []st{{0, 20, 0}, {1 * h, 30, 0}}},
		{"equal neighbours merged",
			profiles(txDefault(1, 1, 0).periods(0*h, 10, 1*h, 10, 2*h, 12, 3*h, 12)),
			q(1, 4*h), []st{{0, 10, 0}, {2 * h, 12, 0}}},
		{"W to A, 3 phases",
			profiles(txDefault(1, 1, 0).limit(11000).unit(Watts)),
			withUnit(q(1, h), Amperes, 3), []st{{0, 15.9, 0}}},
		{"W to A, 1 phase",
			profiles(txDefault(1, 1, 0).limit(3680).unit(Watts)),
			withUnit(q(1, h), Amperes, 1), []st{{0, 16, 0}}},
		{"A to W, numberPhases absent: 3",
			profiles(txDefault(1, 1, 0).limit(16)),
			withUnit(q(1, h), Watts, 3), []st{{0, 11040, 0}}},
		{"A to W, 1 phase period",
			profiles(txDefault(1, 1, 0).limit(16).phases(0, 1)),
			withUnit(q(1, h), Watts, 3), []st{{0, 3680, 1}}},
		{"A to W, single-phase connector",
			profiles(txDefault(1, 1, 0).limit(16)),
			withUnit(q(1, h), Watts, 1), []st{{0, 3680, 0}}},
		{"mixed units, in A",
			profiles(stationMax(1, 0).limit(11040).unit(Watts), txDefault(2, 1, 0).periods(0*h, 10, h, 32)),
			withUnit(q(1, 2*h), Amperes, 3), []st{{0, 10, 0}, {h, 16, 0}}},
		{"tie (not from a Store): the lower limit, whatever the order",
			profiles(txDefault(1, 1, 2).limit(20), txDefault(2, 1, 2).limit(18), txDefault(3, 1, 2).limit(19)),
			q(1, h), []st{{0, 18, 0}}},
		{"tie at equal limits: the first listed",
			profiles(txDefault(1, 1, 2).limit(18).phases(0, 1), txDefault(2, 1, 2).limit(18).phases(0, 3)),
			q(1, h), []st{{0, 18, 1}}},
		{"phases: the smaller given",
			profiles(stationMax(1, 0).limit(40).phases(0, 1), txDefault(2, 1, 0).limit(16).phases(0, 3)),
			q(1, h), []st{{0, 16, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Evaluate(tt.profiles, tt.q)
			if got, want := render(c), renderWant(tt.want); got != want {
				t.Errorf("steps\n got %s\nwant %s", got, want)
			}
			if !c.Start.Equal(tt.q.Start) || c.End.Sub(c.Start) != max(tt.q.Duration, 0) {
				t.Errorf("range [%s, %s), want %s long from %s", c.Start, c.End, tt.q.Duration, tt.q.Start)
			}
			checkShape(t, c)
		})
	}
}

func (p prof) onConnector(n int) prof { p.Connector = n; return p }

// reporter is the part of testing.TB that rapid.T has too.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// checkShape checks the invariants of a Curve: the first step at Start,
// steps strictly increasing and before End, no equal neighbours.
func checkShape(t reporter, c Curve) {
	t.Helper()
	if !c.Start.Before(c.End) {
		if len(c.Steps) != 0 {
			t.Errorf("empty range with %d steps", len(c.Steps))
		}
		return
	}
	if len(c.Steps) == 0 || !c.Steps[0].At.Equal(c.Start) {
		t.Fatalf("first step not at start: %s", render(c))
	}
	for i := 1; i < len(c.Steps); i++ {
		if !c.Steps[i].At.After(c.Steps[i-1].At) {
			t.Errorf("step %d not after step %d: %s", i, i-1, render(c))
		}
		if c.Steps[i].sameValue(c.Steps[i-1]) {
			t.Errorf("step %d equals step %d: %s", i, i-1, render(c))
		}
	}
	if last := c.Steps[len(c.Steps)-1]; !last.At.Before(c.End) {
		t.Errorf("last step at %s, not before end %s", last.At, c.End)
	}
}

func TestEvaluateMinRate(t *testing.T) {
	ps := profiles(
		stationMax(1, 0).limit(40).minRate(8),
		txDefault(2, 1, 0).limit(16).minRate(6),
	)
	c := Evaluate(ps, Query{Connector: 1, Start: t0, Duration: h})
	if s := c.At(t0); s.MinRate != 8 || s.Limit != 16 {
		t.Errorf("step %+v, want limit 16 and the larger minimum rate 8", s)
	}
	c = Evaluate(ps, Query{Connector: 1, Start: t0, Duration: h, Unit: Watts, Phases: 3})
	if s := c.At(t0); s.MinRate != 8*690 || s.Limit != 16*690 {
		t.Errorf("step %+v in W, want limit 11040 and minimum rate 5520", s)
	}
}

func TestEvaluateSkipsMalformed(t *testing.T) {
	bad := []prof{
		txDefault(1, 1, 9).limit(10).unit(0),
		txDefault(2, 1, 9), // no periods
		txDefault(3, 1, 9).periods(time.Duration(0), 10, time.Duration(0), 11),
		txDefault(4, 1, 9).periods(time.Minute, 10),
		txDefault(5, 1, 9).limit(10).recurring(RecurNone),
		txDefault(6, 1, 9).limit(10).recurring(RecurDaily).start(time.Time{}),
		txDefault(7, 1, 9).limit(10).dur(-time.Hour),
	}
	ps := append(profiles(bad...), txDefault(8, 1, 0).limit(20).P())
	c := Evaluate(ps, Query{Connector: 1, Start: t0, Duration: h})
	if got := render(c); got != "0s:20 " {
		t.Errorf("got %s, want only the well-formed profile", got)
	}
}

func TestEvaluateDoesNotModify(t *testing.T) {
	ps := profiles(txDefault(1, 1, 0).periods(0*h, 10, h, 20).unit(Watts))
	before := fmt.Sprint(ps)
	Evaluate(ps, Query{Connector: 1, Start: t0, Duration: 2 * h})
	if after := fmt.Sprint(ps); after != before {
		t.Errorf("profiles modified:\n%s\n%s", before, after)
	}
}
