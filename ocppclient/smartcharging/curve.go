package smartcharging

import (
	"math"
	"sort"
	"time"
)

// Step is one piece of a Curve: from At until the next step's At (or the
// curve's End) the rate is at most Limit.
type Step struct {
	// At is when the step starts.
	At time.Time
	// Limit is the highest rate, in the curve's unit; math.Inf(1) when no
	// profile limits it.
	Limit float64
	// Phases is the number of phases the EV may use; 0 when no profile in
	// force says.
	Phases int
	// MinRate is the minimum charging rate of the profiles in force, in
	// the curve's unit; 0 when none gives one.
	MinRate float64
}

// sameValue reports whether s and o say the same thing, so that o need not
// start a new step after s.
func (s Step) sameValue(o Step) bool {
	return s.Limit == o.Limit && s.Phases == o.Phases && s.MinRate == o.MinRate
}

// Curve is a piecewise-constant rate limit over [Start, End): each step
// holds until the next, the last until End. The first step starts at
// Start, steps are in strictly increasing order of At, and no two
// neighbours say the same (they are merged). A Curve with Start == End has
// no steps. Curves are values: the functions of this package never modify
// a Curve given to them, and return Curves that share no memory with their
// arguments.
type Curve struct {
	// Unit is the unit of every Limit and MinRate of the steps.
	Unit RateUnit
	// Start and End bound the curve, Start included, End excluded.
	Start, End time.Time
	// Steps are the pieces, see Curve.
	Steps []Step
}

// At returns the step in force at t. Outside [Start, End) it returns a step
// at t with no limit: the curve says nothing there.
func (c Curve) At(t time.Time) Step {
	if t.Before(c.Start) || !t.Before(c.End) || len(c.Steps) == 0 {
		return Step{At: t, Limit: math.Inf(1)}
	}
	i := sort.Search(len(c.Steps), func(i int) bool { return c.Steps[i].At.After(t) })
	return c.Steps[i-1]
}

// Periods returns the curve as schedule periods, offsets from Start with
// equal neighbours merged (a step that differs from its predecessor only
// in MinRate, which a Period does not carry, is merged too): what a
// GetCompositeSchedule answer lists. A step with no limit gives a Period
// whose Limit is math.Inf(1); cap the curve first (Cap) where the answer
// must be finite.
func (c Curve) Periods() []Period {
	if len(c.Steps) == 0 {
		return nil
	}
	out := make([]Period, 0, len(c.Steps))
	for _, s := range c.Steps {
		if n := len(out); n > 0 && out[n-1].Limit == s.Limit && out[n-1].Phases == s.Phases {
			continue
		}
		out = append(out, Period{Start: s.At.Sub(c.Start), Limit: s.Limit, Phases: s.Phases})
	}
	return out
}

// Cap returns c with every limit at most limit (in c's unit, rounded down
// to a multiple of 0.1): the hardware's rating, say.
func (c Curve) Cap(limit float64) Curve {
	limit = floorTenth(limit)
	out := Curve{Unit: c.Unit, Start: c.Start, End: c.End, Steps: make([]Step, 0, len(c.Steps))}
	for _, s := range c.Steps {
		s.Limit = math.Min(s.Limit, limit)
		out.Steps = appendStep(out.Steps, s)
	}
	return out
}

// Min returns the lower of a and b at each instant, over the time both
// cover (the intersection of their ranges; empty when they do not
// overlap). Where both limit, Phases is the smaller of the two given and
// MinRate the larger: both profiles' restrictions hold. Both curves must
// be in the same unit; the result has a's.
func Min(a, b Curve) Curve {
	return combine([]Curve{a, b}, minStep)
}

// Sum returns the sum of the curves at each instant, over the time all
// cover: the most the connectors together may draw (a limit of none of
// them makes no limit of the sum). Phases is the largest given, MinRate 0:
// a minimum rate of a sum means nothing. All curves must be in the same
// unit; the result has the first's. Sum of no curve is the zero Curve.
func Sum(cs ...Curve) Curve {
	return combine(cs, sumStep)
}

// minStep combines the steps in force of two limits that both hold.
func minStep(a, b Step) Step {
	out := Step{Limit: math.Min(a.Limit, b.Limit), MinRate: math.Max(a.MinRate, b.MinRate), Phases: a.Phases}
	if b.Phases != 0 && (a.Phases == 0 || b.Phases < a.Phases) {
		out.Phases = b.Phases
	}
	return out
}

// sumStep adds two limits. The sum is rounded to the 0.1 grid again, as
// binary floating point may land just below it.
func sumStep(a, b Step) Step {
	return Step{Limit: floorTenth(a.Limit + b.Limit), Phases: max(a.Phases, b.Phases)}
}

// combine sweeps the curves together, folding the steps in force at each
// instant with op, over the intersection of their ranges.
func combine(cs []Curve, op func(a, b Step) Step) Curve {
	if len(cs) == 0 {
		return Curve{}
	}
	out := Curve{Unit: cs[0].Unit, Start: cs[0].Start, End: cs[0].End}
	n := 0
	for _, c := range cs {
		if c.Start.After(out.Start) {
			out.Start = c.Start
		}
		if c.End.Before(out.End) {
			out.End = c.End
		}
		n += len(c.Steps)
	}
	if !out.Start.Before(out.End) {
		out.End = out.Start
		return out
	}
	for _, c := range cs {
		if len(c.Steps) == 0 {
			return Curve{Unit: out.Unit, Start: out.Start, End: out.Start} // malformed: says nothing
		}
	}
	// idx[i] is the step of cs[i] in force at cur.
	var buf [8]int
	idx := buf[:0]
	for _, c := range cs {
		idx = append(idx, stepIndex(c, out.Start))
	}
	out.Steps = make([]Step, 0, n)
	for cur := out.Start; cur.Before(out.End); {
		next := out.End
		var s Step
		for i, c := range cs {
			for idx[i]+1 < len(c.Steps) && !c.Steps[idx[i]+1].At.After(cur) {
				idx[i]++
			}
			if i == 0 {
				s = c.Steps[idx[i]]
			} else {
				s = op(s, c.Steps[idx[i]])
			}
			if idx[i]+1 < len(c.Steps) && c.Steps[idx[i]+1].At.Before(next) {
				next = c.Steps[idx[i]+1].At
			}
		}
		s.At = cur
		out.Steps = appendStep(out.Steps, s)
		cur = next
	}
	return out
}

// stepIndex returns the index of the step of c in force at t, which lies
// in [c.Start, c.End).
func stepIndex(c Curve, t time.Time) int {
	i := sort.Search(len(c.Steps), func(i int) bool { return c.Steps[i].At.After(t) })
	return max(i-1, 0)
}

// appendStep appends s to steps unless it says what the last one says.
func appendStep(steps []Step, s Step) []Step {
	if n := len(steps); n > 0 && steps[n-1].sameValue(s) {
		return steps
	}
	return append(steps, s)
}
