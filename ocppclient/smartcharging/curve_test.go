package smartcharging

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func TestConvert(t *testing.T) {
	tests := []struct {
		name        string
		limit       float64
		from, to    RateUnit
		phases, nph int
		voltage     float64
		want        float64
	}{
		{"A to A", 16, Amperes, Amperes, 3, 0, 230, 16},
		{"A to A rounded down", 16.09, Amperes, Amperes, 3, 0, 230, 16},
		{"A to A exact tenth kept", 0.3, Amperes, Amperes, 3, 0, 230, 0.3},
		{"A to A tenth from arithmetic kept", 161 * 0.1, Amperes, Amperes, 3, 0, 230, 16.1},
		{"W to W", 11000, Watts, Watts, 3, 0, 230, 11000},
		{"W to A, 3 phases", 11040, Watts, Amperes, 3, 0, 230, 16},
		{"W to A, 3 phases, rounded down", 10000, Watts, Amperes, 3, 0, 230, 14.4}, // 14.49
		{"W to A, 1 phase", 3680, Watts, Amperes, 1, 0, 230, 16},
		{"W to A, 1 phase, rounded down", 3679, Watts, Amperes, 1, 0, 230, 15.9}, // 15.996
		{"W to A ignores numberPhases", 11040, Watts, Amperes, 3, 1, 230, 16},
		{"W to A, 120 V", 1920, Watts, Amperes, 1, 0, 120, 16},
		{"A to W, 3 phases", 16, Amperes, Watts, 3, 3, 230, 11040},
		{"A to W, numberPhases absent is 3", 16, Amperes, Watts, 3, 0, 230, 11040},
		{"A to W, numberPhases 1", 16, Amperes, Watts, 3, 1, 230, 3680},
		{"A to W, 1-phase connector", 16, Amperes, Watts, 1, 3, 230, 3680},
		{"A to W, 2 of 3 phases", 10, Amperes, Watts, 3, 2, 230, 4600},
		{"A to W, fractional", 6.1, Amperes, Watts, 1, 1, 231.3, 1410.9}, // 1410.93
		{"defaults: 230 V, 3 phases", 16, Amperes, Watts, 0, 0, 0, 11040},
		{"zero", 0, Watts, Amperes, 3, 0, 230, 0},
		{"no limit stays none", math.Inf(1), Watts, Amperes, 3, 0, 230, math.Inf(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Convert(tt.limit, tt.from, tt.to, tt.phases, tt.nph, tt.voltage)
			if got != tt.want {
				t.Errorf("Convert(%v %s to %s, %d phases, numberPhases %d, %v V) = %v, want %v",
					tt.limit, tt.from, tt.to, tt.phases, tt.nph, tt.voltage, got, tt.want)
			}
		})
	}
}

// TestFloorTenthNeverUp checks, over a range of values, that rounding
// never adds more than the float noise it tolerates and never takes off a
// tenth or more.
func TestFloorTenthNeverUp(t *testing.T) {
	for i := range 100000 {
		v := float64(i) * 0.0137
		got := floorTenth(v)
		if got > v+1e-9 || v-got >= 0.1 {
			t.Fatalf("floorTenth(%v) = %v", v, got)
		}
		if k := math.Round(got * 10); math.Abs(got*10-k) > 1e-9 {
			t.Fatalf("floorTenth(%v) = %v, not a multiple of 0.1", v, got)
		}
	}
}

// curve builds a curve starting at t0 from (offset, limit) pairs, ending at
// end (an offset).
func curve(end time.Duration, pairs ...any) Curve {
	c := Curve{Unit: Amperes, Start: t0, End: t0.Add(end)}
	for _, p := range ps(pairs...) {
		c.Steps = append(c.Steps, Step{At: t0.Add(p.Start), Limit: p.Limit})
	}
	return c
}

func TestCurveOps(t *testing.T) {
	tests := []struct {
		name string
		got  Curve
		want []st
		end  time.Duration
	}{
		{"min", Min(curve(4*h, 0*h, 10, 2*h, 20), curve(4*h, 0*h, 16, 1*h, 8, 3*h, inf)),
			[]st{{0, 10, 0}, {1 * h, 8, 0}, {3 * h, 20, 0}}, 4 * h},
		{"min merges", Min(curve(4*h, 0*h, 10, 2*h, 20), curve(4*h, 0*h, 30, 2*h, 10)),
			[]st{{0, 10, 0}}, 4 * h},
		{"min over the intersection", Min(curve(4*h, 0*h, 10), Curve{Unit: Amperes, Start: t0.Add(h), End: t0.Add(6 * h),
			Steps: []Step{{At: t0.Add(h), Limit: 5}, {At: t0.Add(3 * h), Limit: 50}}}),
			[]st{{0, 5, 0}, {2 * h, 10, 0}}, 3 * h},
		{"min disjoint", Min(curve(1*h, 0*h, 10), Curve{Unit: Amperes, Start: t0.Add(2 * h), End: t0.Add(3 * h),
			Steps: []Step{{At: t0.Add(2 * h), Limit: 5}}}), nil, 0},
		{"sum", Sum(curve(4*h, 0*h, 10, 2*h, 20), curve(4*h, 0*h, 6.1, 1*h, 8.2), curve(4*h, 0*h, 0.1)),
			[]st{{0, 16.2, 0}, {1 * h, 18.3, 0}, {2 * h, 28.3, 0}}, 4 * h},
		{"sum with no limit", Sum(curve(2*h, 0*h, 10, 1*h, inf), curve(2*h, 0*h, 6)),
			[]st{{0, 16, 0}, {1 * h, inf, 0}}, 2 * h},
		{"sum of one", Sum(curve(2*h, 0*h, 10, 1*h, 12)), []st{{0, 10, 0}, {1 * h, 12, 0}}, 2 * h},
		{"cap", curve(3*h, 0*h, 10, 1*h, 40, 2*h, inf).Cap(32), []st{{0, 10, 0}, {1 * h, 32, 0}}, 3 * h},
		{"cap rounds down", curve(1*h, 0*h, inf).Cap(15.95), []st{{0, 15.9, 0}}, 1 * h},
		{"cap merges", curve(3*h, 0*h, 40, 1*h, 50, 2*h, 10).Cap(16), []st{{0, 16, 0}, {2 * h, 10, 0}}, 3 * h},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := render(tt.got), renderWant(tt.want); got != want {
				t.Errorf("steps\n got %s\nwant %s", got, want)
			}
			if d := tt.got.End.Sub(tt.got.Start); d != tt.end {
				t.Errorf("range %s long, want %s", d, tt.end)
			}
			checkShape(t, tt.got)
		})
	}
	if c := Sum(); c.Start != (time.Time{}) || len(c.Steps) != 0 {
		t.Errorf("Sum() = %+v, want the zero Curve", c)
	}
}

func TestCurveStepsCombined(t *testing.T) {
	a := Curve{Unit: Amperes, Start: t0, End: t0.Add(h), Steps: []Step{{At: t0, Limit: 16, Phases: 3, MinRate: 6}}}
	b := Curve{Unit: Amperes, Start: t0, End: t0.Add(h), Steps: []Step{{At: t0, Limit: 20, Phases: 1, MinRate: 8}}}
	if got, want := Min(a, b).Steps[0], (Step{At: t0, Limit: 16, Phases: 1, MinRate: 8}); got != want {
		t.Errorf("Min: %+v, want %+v", got, want)
	}
	if got, want := Sum(a, b).Steps[0], (Step{At: t0, Limit: 36, Phases: 3}); got != want {
		t.Errorf("Sum: %+v, want %+v", got, want)
	}
}

func TestCurveOpsDoNotModify(t *testing.T) {
	a := curve(3*h, 0*h, 10, 1*h, 40)
	b := curve(3*h, 0*h, 20)
	keepA, keepB := render(a), render(b)
	_ = Min(a, b)
	_ = Sum(a, b)
	_ = a.Cap(5)
	if render(a) != keepA || render(b) != keepB {
		t.Errorf("arguments modified")
	}
}

func TestCurveAt(t *testing.T) {
	c := curve(3*h, 0*h, 10, 1*h, 20, 2*h, 30)
	tests := []struct {
		name string
		t    time.Time
		want float64
	}{
		{"before start", t0.Add(-time.Nanosecond), inf},
		{"at start", t0, 10},
		{"inside", t0.Add(30 * m), 10},
		{"just before a step", t0.Add(h - time.Nanosecond), 10},
		{"at a step", t0.Add(h), 20},
		{"last step", t0.Add(2*h + 59*m), 30},
		{"at end", t0.Add(3 * h), inf},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.At(tt.t).Limit; got != tt.want {
				t.Errorf("At(%s) = %v, want %v", tt.t, got, tt.want)
			}
		})
	}
}

func TestCurvePeriods(t *testing.T) {
	c := Curve{Unit: Amperes, Start: t0, End: t0.Add(4 * h), Steps: []Step{
		{At: t0, Limit: 16, Phases: 3, MinRate: 6},
		{At: t0.Add(h), Limit: 16, Phases: 3, MinRate: 8}, // only MinRate differs: merged
		{At: t0.Add(2 * h), Limit: 16, Phases: 1},
		{At: t0.Add(3 * h), Limit: 10, Phases: 1},
	}}
	want := []Period{{Start: 0, Limit: 16, Phases: 3}, {Start: 2 * h, Limit: 16, Phases: 1}, {Start: 3 * h, Limit: 10, Phases: 1}}
	if got := c.Periods(); !reflect.DeepEqual(got, want) {
		t.Errorf("Periods() = %+v, want %+v", got, want)
	}
	if got := (Curve{}).Periods(); got != nil {
		t.Errorf("empty curve: %+v", got)
	}
	// A GetCompositeSchedule-like evaluation: merged periods, offsets from
	// the start.
	ev := Evaluate(profiles(
		stationMax(1, 0).periods(0*h, 20, 2*h, 20, 3*h, 32),
		txDefault(2, 1, 0).periods(0*h, 16, 1*h, 25),
	), Query{Connector: 1, Start: t0, Duration: 4 * h})
	want = []Period{{Start: 0, Limit: 16}, {Start: h, Limit: 20}, {Start: 3 * h, Limit: 25}}
	if got := ev.Periods(); !reflect.DeepEqual(got, want) {
		t.Errorf("evaluated Periods() = %+v, want %+v", got, want)
	}
}
