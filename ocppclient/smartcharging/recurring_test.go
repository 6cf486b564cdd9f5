package smartcharging

import (
	"testing"
	"time"
)

// at is a step expected at an absolute instant, for the cases where the
// instants themselves are the point.
type at struct {
	t     time.Time
	limit float64
}

// utc parses an RFC 3339 instant.
func utc(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRecurring(t *testing.T) {
	loc := berlin(t)
	daily := func(start time.Time, d time.Duration, pairs ...any) Profile {
		return txDefault(1, 1, 0).start(start).dur(d).periods(pairs...).recurring(RecurDaily).P()
	}
	tests := []struct {
		name    string
		profile Profile
		loc     *time.Location
		from    string
		d       time.Duration
		want    []at
	}{
		{"daily across midnight", daily(utc(t, "2025-06-01T22:00:00Z"), 4*h, 0*h, 10, 2*h, 12), nil,
			"2025-06-02T00:00:00Z", 48 * h, []at{
				{utc(t, "2025-06-02T00:00:00Z"), 12},
				{utc(t, "2025-06-02T02:00:00Z"), inf},
				{utc(t, "2025-06-02T22:00:00Z"), 10},
				{utc(t, "2025-06-03T00:00:00Z"), 12},
				{utc(t, "2025-06-03T02:00:00Z"), inf},
				{utc(t, "2025-06-03T22:00:00Z"), 10},
			}},
		{"daily without duration: last period until the next recurrence",
			daily(utc(t, "2025-06-01T22:00:00Z"), 0, 0*h, 10, 2*h, 12), nil,
			"2025-06-02T00:00:00Z", 48 * h, []at{
				{utc(t, "2025-06-02T00:00:00Z"), 12},
				{utc(t, "2025-06-02T22:00:00Z"), 10},
				{utc(t, "2025-06-03T00:00:00Z"), 12},
				{utc(t, "2025-06-03T22:00:00Z"), 10},
			}},
		{"daily, duration beyond a day: cut by the next recurrence",
			daily(utc(t, "2025-06-01T08:00:00Z"), 30*h, 0*h, 10, 20*h, 12, 25*h, 14), nil,
			"2025-06-02T00:00:00Z", 24 * h, []at{
				{utc(t, "2025-06-02T00:00:00Z"), 10},
				{utc(t, "2025-06-02T04:00:00Z"), 12},
				{utc(t, "2025-06-02T08:00:00Z"), 10},
			}},
		{"daily starting in the future", daily(utc(t, "2025-06-02T06:00:00Z"), 2*h, 0*h, 10), nil,
			"2025-06-01T00:00:00Z", 48 * h, []at{
				{utc(t, "2025-06-01T00:00:00Z"), inf},
				{utc(t, "2025-06-02T06:00:00Z"), 10},
				{utc(t, "2025-06-02T08:00:00Z"), inf},
			}},
		{"daily started long ago", daily(utc(t, "2020-01-01T06:00:00Z"), 2*h, 0*h, 10), nil,
			"2025-06-02T07:00:00Z", 24 * h, []at{
				{utc(t, "2025-06-02T07:00:00Z"), 10},
				{utc(t, "2025-06-02T08:00:00Z"), inf},
				{utc(t, "2025-06-03T06:00:00Z"), 10},
			}},
		{"daily in local time, summer", daily(utc(t, "2025-06-01T22:00:00Z"), 2*h, 0*h, 10), loc,
			"2025-06-02T00:00:00Z", 24 * h, []at{
				{utc(t, "2025-06-02T00:00:00Z"), inf},
				{utc(t, "2025-06-02T22:00:00Z"), 10}, // midnight CEST
			}},
		{"weekly", txDefault(1, 1, 0).start(utc(t, "2025-06-02T08:00:00Z")).dur(2 * h).limit(6).recurring(RecurWeekly).P(), nil,
			"2025-06-08T00:00:00Z", 9 * 24 * h, []at{
				{utc(t, "2025-06-08T00:00:00Z"), inf},
				{utc(t, "2025-06-09T08:00:00Z"), 6},
				{utc(t, "2025-06-09T10:00:00Z"), inf},
				{utc(t, "2025-06-16T08:00:00Z"), 6},
				{utc(t, "2025-06-16T10:00:00Z"), inf},
			}},
		{"weekly without duration: a week long", txDefault(1, 1, 0).start(utc(t, "2025-06-02T08:00:00Z")).periods(0*h, 6, 24*h, 10).recurring(RecurWeekly).P(), nil,
			"2025-06-08T00:00:00Z", 9 * 24 * h, []at{
				{utc(t, "2025-06-08T00:00:00Z"), 10},
				{utc(t, "2025-06-09T08:00:00Z"), 6},
				{utc(t, "2025-06-10T08:00:00Z"), 10},
				{utc(t, "2025-06-16T08:00:00Z"), 6},
			}},
		{"weekly across the spring change in Berlin: same wall-clock time",
			txDefault(1, 1, 0).start(utc(t, "2025-03-24T07:00:00Z")).dur(h).limit(6).recurring(RecurWeekly).P(), loc,
			"2025-03-25T00:00:00Z", 7 * 24 * h, []at{
				{utc(t, "2025-03-25T00:00:00Z"), inf},
				{utc(t, "2025-03-31T06:00:00Z"), 6}, // 08:00 CEST
				{utc(t, "2025-03-31T07:00:00Z"), inf},
			}},
		// The clocks go forward at 02:00 CET on 2025-03-30: that day has
		// 23 hours, and the 24 h schedule is cut before its last period.
		{"daily across the spring change in Berlin",
			daily(utc(t, "2025-03-28T23:00:00Z"), 24*h, 0*h, 10, 23*h+30*m, 20), loc,
			"2025-03-28T23:00:00Z", 72 * h, []at{
				{utc(t, "2025-03-28T23:00:00Z"), 10}, // 03-29 00:00 CET
				{utc(t, "2025-03-29T22:30:00Z"), 20},
				{utc(t, "2025-03-29T23:00:00Z"), 10}, // 03-30 00:00 CET, a 23 h day
				{utc(t, "2025-03-31T21:30:00Z"), 20}, // 03-31 00:00 CEST + 23.5 h
				{utc(t, "2025-03-31T22:00:00Z"), 10}, // 04-01 00:00 CEST
			}},
		// The clocks go back at 03:00 CEST on 2025-10-26: that day has 25
		// hours, and its last hour has no limit from a 24 h schedule.
		{"daily across the autumn change in Berlin",
			daily(utc(t, "2025-10-24T22:00:00Z"), 24*h, 0*h, 10, 23*h+30*m, 20), loc,
			"2025-10-24T22:00:00Z", 73 * h, []at{
				{utc(t, "2025-10-24T22:00:00Z"), 10}, // 10-25 00:00 CEST
				{utc(t, "2025-10-25T21:30:00Z"), 20},
				{utc(t, "2025-10-25T22:00:00Z"), 10}, // 10-26 00:00 CEST, a 25 h day
				{utc(t, "2025-10-26T21:30:00Z"), 20},
				{utc(t, "2025-10-26T22:00:00Z"), inf}, // 24 h over, next midnight not yet
				{utc(t, "2025-10-26T23:00:00Z"), 10},  // 10-27 00:00 CET
				{utc(t, "2025-10-27T22:30:00Z"), 20},
			}},
		{"daily across the autumn change in Berlin, no duration",
			daily(utc(t, "2025-10-24T22:00:00Z"), 0, 0*h, 10, 23*h+30*m, 20), loc,
			"2025-10-24T22:00:00Z", 73 * h, []at{
				{utc(t, "2025-10-24T22:00:00Z"), 10},
				{utc(t, "2025-10-25T21:30:00Z"), 20},
				{utc(t, "2025-10-25T22:00:00Z"), 10},
				{utc(t, "2025-10-26T21:30:00Z"), 20}, // for 90 minutes
				{utc(t, "2025-10-26T23:00:00Z"), 10},
				{utc(t, "2025-10-27T22:30:00Z"), 20},
			}},
		// 02:30 does not exist on 2025-03-30 in Berlin: read with the
		// winter offset it is 03:30 CEST.
		{"daily at a skipped wall-clock time",
			daily(utc(t, "2025-03-29T01:30:00Z"), 30*m, 0*h, 10), loc,
			"2025-03-29T00:00:00Z", 72 * h, []at{
				{utc(t, "2025-03-29T00:00:00Z"), inf},
				{utc(t, "2025-03-29T01:30:00Z"), 10}, // 02:30 CET
				{utc(t, "2025-03-29T02:00:00Z"), inf},
				{utc(t, "2025-03-30T01:30:00Z"), 10}, // 03:30 CEST
				{utc(t, "2025-03-30T02:00:00Z"), inf},
				{utc(t, "2025-03-31T00:30:00Z"), 10}, // 02:30 CEST
				{utc(t, "2025-03-31T01:00:00Z"), inf},
			}},
		// 02:30 occurs twice on 2025-10-26 in Berlin: the first time,
		// CEST, counts.
		{"daily at a repeated wall-clock time",
			daily(utc(t, "2025-10-25T00:30:00Z"), 30*m, 0*h, 10), loc,
			"2025-10-25T00:00:00Z", 72 * h, []at{
				{utc(t, "2025-10-25T00:00:00Z"), inf},
				{utc(t, "2025-10-25T00:30:00Z"), 10}, // 02:30 CEST
				{utc(t, "2025-10-25T01:00:00Z"), inf},
				{utc(t, "2025-10-26T00:30:00Z"), 10}, // 02:30 CEST, the first
				{utc(t, "2025-10-26T01:00:00Z"), inf},
				{utc(t, "2025-10-27T01:30:00Z"), 10}, // 02:30 CET
				{utc(t, "2025-10-27T02:00:00Z"), inf},
			}},
		{"recurring with validity",
			txDefault(1, 1, 0).start(utc(t, "2025-06-01T06:00:00Z")).dur(2*h).limit(10).recurring(RecurDaily).
				valid(utc(t, "2025-06-02T07:00:00Z"), utc(t, "2025-06-03T07:00:00Z")).P(), nil,
			"2025-06-02T00:00:00Z", 48 * h, []at{
				{utc(t, "2025-06-02T00:00:00Z"), inf},
				{utc(t, "2025-06-02T07:00:00Z"), 10},
				{utc(t, "2025-06-02T08:00:00Z"), inf},
				{utc(t, "2025-06-03T06:00:00Z"), 10},
				{utc(t, "2025-06-03T07:00:00Z"), inf},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := utc(t, tt.from)
			c := Evaluate([]Profile{tt.profile}, Query{Connector: 1, Start: start, Duration: tt.d, Location: tt.loc})
			checkShape(t, c)
			if len(c.Steps) != len(tt.want) {
				t.Errorf("%d steps, want %d", len(c.Steps), len(tt.want))
			}
			for i := range min(len(c.Steps), len(tt.want)) {
				got, want := c.Steps[i], tt.want[i]
				if !got.At.Equal(want.t) || got.Limit != want.limit {
					t.Errorf("step %d: %s %g, want %s %g", i, got.At.UTC().Format(time.RFC3339), got.Limit,
						want.t.Format(time.RFC3339), want.limit)
				}
			}
		})
	}
}

// TestRecurringWallClock follows a daily profile starting at 07:15 local
// time through a year in Berlin: every recurrence starts at 07:15 on the
// wall clock, whatever the offset.
func TestRecurringWallClock(t *testing.T) {
	loc := berlin(t)
	start := time.Date(2025, 1, 1, 7, 15, 0, 0, loc)
	p := txDefault(1, 1, 0).start(start).dur(h).limit(10).recurring(RecurDaily).P()
	c := Evaluate([]Profile{p}, Query{Connector: 1, Start: start.Add(-h), Duration: 366 * 24 * h, Location: loc})
	checkShape(t, c)
	n := 0
	for _, s := range c.Steps {
		if s.Limit != 10 {
			continue
		}
		n++
		if l := s.At.In(loc); l.Hour() != 7 || l.Minute() != 15 {
			t.Fatalf("recurrence at %s", l)
		}
	}
	if n != 366 {
		t.Errorf("%d recurrences, want 366", n)
	}
}

func TestWallInstant(t *testing.T) {
	loc := berlin(t)
	tests := []struct {
		name   string
		y      int
		mo     time.Month
		d, hh  int
		mm     int
		loc    *time.Location
		wantAt string
	}{
		{"ordinary winter", 2025, 1, 15, 8, 0, loc, "2025-01-15T07:00:00Z"},
		{"ordinary summer", 2025, 7, 15, 8, 0, loc, "2025-07-15T06:00:00Z"},
		{"before the spring gap", 2025, 3, 30, 1, 59, loc, "2025-03-30T00:59:00Z"},
		{"in the spring gap: old offset", 2025, 3, 30, 2, 30, loc, "2025-03-30T01:30:00Z"},
		{"after the spring gap", 2025, 3, 30, 3, 0, loc, "2025-03-30T01:00:00Z"},
		{"before the autumn fold", 2025, 10, 26, 1, 59, loc, "2025-10-25T23:59:00Z"},
		{"in the autumn fold: first", 2025, 10, 26, 2, 30, loc, "2025-10-26T00:30:00Z"},
		{"after the autumn fold", 2025, 10, 26, 3, 0, loc, "2025-10-26T02:00:00Z"},
		{"day overflow normalized", 2025, 3, 60, 12, 0, loc, "2025-04-29T10:00:00Z"},
		{"UTC", 2025, 3, 30, 2, 30, time.UTC, "2025-03-30T02:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wallInstant(tt.y, tt.mo, tt.d, tt.hh, tt.mm, 0, 0, tt.loc)
			if want := utc(t, tt.wantAt); !got.Equal(want) {
				t.Errorf("got %s (%s), want %s", got.UTC().Format(time.RFC3339), got, tt.wantAt)
			}
		})
	}
}
