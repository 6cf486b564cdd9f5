package station

import (
	"slices"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"
)

const amp = physic.Ampere

func TestShare(t *testing.T) {
	d := func(capA float64, draws bool) demand {
		return demand{cap: physic.ElectricCurrent(capA * float64(amp)), floor: 6 * amp, draws: draws}
	}
	tests := []struct {
		name   string
		budget physic.ElectricCurrent
		ds     []demand
		want   []float64 // amperes
	}{
		{"no budget: every cap", NoLimit, []demand{d(32, true), d(16, false)}, []float64{32, 16}},
		{"caps fit", 48 * amp, []demand{d(32, true), d(16, true)}, []float64{32, 16}},
		{"equal split", 32 * amp, []demand{d(32, true), d(32, true)}, []float64{16, 16}},
		{"three on 32 A", 32 * amp, []demand{d(32, true), d(32, true), d(32, true)}, []float64{10.6, 10.6, 10.6}},
		{"small cap leaves the rest to the others", 32 * amp, []demand{d(8, true), d(32, true), d(32, true)}, []float64{8, 12, 12}},
		{"paused EV keeps the floor", 32 * amp, []demand{d(32, true), d(32, false), d(32, true)}, []float64{13, 6, 13}},
		{"no room for the last", 16 * amp, []demand{d(32, true), d(32, true), d(32, true)}, []float64{8, 8, 0}},
		{"the earliest session keeps its floor", 16 * amp, []demand{d(32, false), d(32, true), d(32, true)}, []float64{6, 10, 0}},
		{"only paused", 20 * amp, []demand{d(32, false), d(32, false)}, []float64{6, 6}},
		{"budget below any floor", 5 * amp, []demand{d(32, true)}, []float64{0}},
		{"cap below share", 20 * amp, []demand{d(6, true), d(32, true)}, []float64{6, 14}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := share(tc.budget, tc.ds)
			var sum physic.ElectricCurrent
			for i, g := range got {
				sum += g
				if want := physic.ElectricCurrent(tc.want[i] * float64(amp)); g != want {
					t.Errorf("share %d = %v, want %v", i, g, want)
				}
				if g != 0 && (g < tc.ds[i].floor || g > tc.ds[i].cap) {
					t.Errorf("share %d = %v outside [%v, %v]", i, g, tc.ds[i].floor, tc.ds[i].cap)
				}
			}
			if tc.budget != NoLimit && sum > tc.budget {
				t.Errorf("shares sum to %v, above the budget %v", sum, tc.budget)
			}
		})
	}
}

func TestLimitSchedule(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	sched := LimitSchedule{
		{At: at(100), Current: 10 * amp},
		{At: at(0), Current: 16 * amp},
		{At: at(200), Current: 10 * amp}, // same as before: merged away
		{At: at(300), Current: NoLimit},
		{At: at(300), Current: 20 * amp}, // a later step at the same instant wins
	}.normalized()
	if len(sched) != 3 {
		t.Fatalf("normalized = %v, want 3 steps", sched)
	}
	tests := []struct {
		at   int
		want physic.ElectricCurrent
		next int // -1: none
	}{
		{-1, NoLimit, 0},
		{0, 16 * amp, 100},
		{99, 16 * amp, 100},
		{100, 10 * amp, 300},
		{250, 10 * amp, 300},
		{300, 20 * amp, -1},
		{9999, 20 * amp, -1},
	}
	for _, tc := range tests {
		if got := sched.at(at(tc.at)).Current; got != tc.want {
			t.Errorf("at(%d) = %v, want %v", tc.at, got, tc.want)
		}
		next := sched.next(at(tc.at))
		if tc.next < 0 && !next.IsZero() || tc.next >= 0 && !next.Equal(at(tc.next)) {
			t.Errorf("next(%d) = %v, want %d", tc.at, next, tc.next)
		}
	}
	if got := LimitSchedule(nil).at(t0).Current; got != NoLimit {
		t.Errorf("nil schedule limits to %v", got)
	}
	if !slices.IsSortedFunc(sched, func(a, b LimitStep) int { return a.At.Compare(b.At) }) {
		t.Error("normalized schedule not sorted")
	}
}
