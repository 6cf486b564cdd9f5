package station

import (
	"math"
	"slices"
	"time"

	"periph.io/x/conn/v3/physic"
)

// NoLimit, as a LimitStep's Current, means the step sets no limit.
const NoLimit physic.ElectricCurrent = math.MaxInt64

// LimitStep is one step of a LimitSchedule: from At until the next step's
// At, at most Current per phase may be offered.
type LimitStep struct {
	At time.Time
	// Current is the most that may be offered, per phase; NoLimit for none.
	Current physic.ElectricCurrent
	// MinCurrent is the least current worth offering (a charging profile's
	// minChargingRate: the EV charges inefficiently below it); 0 when not
	// given. When the share a connector would get is below it, the
	// connector is offered nothing (SuspendedEVSE) instead.
	MinCurrent physic.ElectricCurrent
}

// LimitSchedule is a limit that changes over time, as the composite of the
// CSMS's charging profiles: steps in increasing At order, each holding until
// the next. Before the first step, and for a nil schedule, there is no
// limit; the last step holds until the schedule is replaced, so a schedule
// computed over a horizon must be renewed before it runs out. The station
// arms a timer at every step boundary; it does not poll.
type LimitSchedule []LimitStep

// at returns the step in force at t (NoLimit when none).
func (s LimitSchedule) at(t time.Time) LimitStep {
	i, found := slices.BinarySearchFunc(s, t, func(st LimitStep, t time.Time) int { return st.At.Compare(t) })
	if !found {
		i--
	}
	if i < 0 {
		return LimitStep{At: t, Current: NoLimit}
	}
	return s[i]
}

// next returns the first boundary after t, or the zero time when none.
func (s LimitSchedule) next(t time.Time) time.Time {
	i, found := slices.BinarySearchFunc(s, t, func(st LimitStep, t time.Time) int { return st.At.Compare(t) })
	if found {
		i++
	}
	if i < len(s) {
		return s[i].At
	}
	return time.Time{}
}

// normalized returns a sorted copy of s without steps that change nothing,
// so that timers fire only where the limit changes.
func (s LimitSchedule) normalized() LimitSchedule {
	out := slices.Clone(s)
	slices.SortStableFunc(out, func(a, b LimitStep) int { return a.At.Compare(b.At) })
	merged := out[:0]
	for i, st := range out {
		if st.Current < 0 {
			st.Current = 0
		}
		switch {
		case i+1 < len(out) && out[i+1].At.Equal(st.At):
			continue // a later step at the same instant wins
		case len(merged) > 0 && merged[len(merged)-1].Current == st.Current &&
			merged[len(merged)-1].MinCurrent == st.MinCurrent:
			continue
		}
		merged = append(merged, st)
	}
	return merged
}

// Load sharing.
//
// The connectors share one supply: Options.SiteLimit (the site fuse, from
// the config file) and the CSMS's station-wide limit (ChargePointMaxProfile)
// cap the sum of the currents offered, per phase. The sum is taken over
// every connector whatever its phases, as if every one drew on the same
// phase: conservative for a mix of 1- and 3-phase vehicles, and right for
// the worst phase.
//
// The shares follow these rules, re-applied after every change of any
// connector and at every step of a schedule:
//   - a connector is offered current only while its session may draw
//     (authorized, start durable, no fault) and a vehicle is plugged in;
//   - each connector is capped by its own limit: its rating, the config, and
//     its CSMS limit (TxProfile or TxDefaultProfile);
//   - when the caps fit in the budget every connector gets its cap;
//     otherwise every session is first given the least worth offering
//     (6 A, or its MinCurrent), in the order the sessions started, as long
//     as that fits (the others are offered nothing, SuspendedEVSE), and the
//     rest is shared equally among the vehicles that draw (CP state C or
//     D), up to their caps; a vehicle that does not draw (B, paused) keeps
//     only the least;
//   - a lower offer applies at once; a higher one waits until the
//     connector's duty cycle has not changed for evReaction (IEC 61851-1:
//     the vehicle follows a new duty cycle within 5 s, so changing it more
//     often achieves nothing; a PWM that starts from none, after a plug-in
//     or a fault, is read afresh and does not wait), and until every
//     current it needs is free:
//     a connector whose offer was lowered may still draw the old current
//     for evReaction, and that current counts against the budget until then.
//
// So at every instant the currents the vehicles may draw, by what they were
// last offered within evReaction, sum to at most the budget (the property
// test checks it), and a vehicle's duty cycle rises at most once per
// evReaction.

// evReaction is how long a vehicle may take to follow a new duty cycle
// (IEC 61851-1: 5 s). Offers do not rise more often than this.
const evReaction = 5 * time.Second

// shareStep is the resolution of the shares: 0.1 A, the resolution of OCPP
// limits, so that shares do not change by noise-sized amounts.
const shareStep = 100 * physic.MilliAmpere

// demand is one connector's claim on the budget.
type demand struct {
	cap   physic.ElectricCurrent // its own limit, >= floor
	floor physic.ElectricCurrent // the least worth offering (>= hal.MinOffer)
	draws bool                   // the vehicle asks for energy (C or D)
}

// share divides budget (per phase; NoLimit for none) among the demands,
// which are in priority order (the earliest session first), by the rules
// above. The result is the target offer of each, 0 or within
// [floor, cap].
func share(budget physic.ElectricCurrent, ds []demand) []physic.ElectricCurrent {
	out := make([]physic.ElectricCurrent, len(ds))
	total := physic.ElectricCurrent(0)
	for _, d := range ds {
		total = satAdd(total, d.cap)
	}
	if budget == NoLimit || total <= budget {
		for i, d := range ds {
			out[i] = d.cap
		}
		return out
	}
	left := budget
	for i, d := range ds {
		if d.floor <= left {
			out[i] = d.floor
			left -= d.floor
		}
	}
	// Water-filling among the admitted vehicles that draw: the smallest
	// headroom is served first, and what it cannot use goes to the rest.
	var fill []int
	for i, d := range ds {
		if out[i] > 0 && d.draws && d.cap > out[i] {
			fill = append(fill, i)
		}
	}
	slices.SortStableFunc(fill, func(a, b int) int {
		ha, hb := ds[a].cap-out[a], ds[b].cap-out[b]
		switch {
		case ha < hb:
			return -1
		case ha > hb:
			return 1
		}
		return 0
	})
	for k, i := range fill {
		each := left / physic.ElectricCurrent(len(fill)-k)
		each -= each % shareStep
		if head := ds[i].cap - out[i]; head <= each {
			out[i] += head
			left -= head
			continue
		}
		// Every remaining one has more headroom than the equal share:
		// they all get it, the same to the 0.1 A.
		for _, j := range fill[k:] {
			out[j] += each
		}
		break
	}
	return out
}

// satAdd adds currents, saturating at NoLimit.
func satAdd(a, b physic.ElectricCurrent) physic.ElectricCurrent {
	if a > NoLimit-b {
		return NoLimit
	}
	return a + b
}
