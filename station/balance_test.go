package station

import (
	"fmt"
	"testing"
	"time"

	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/physic"
	"pgregory.net/rapid"
)

// setLimits gives connector n (0: the station) a schedule.
func (r *rig) setLimits(n int, s LimitSchedule) {
	r.t.Helper()
	if err := r.st.SetLimits(r.ctx(), n, s); err != nil {
		r.t.Fatal(err)
	}
	r.settle()
}

// lastChange returns connector n's latest PWM change.
func (r *rig) lastChange(n int) pwmChange {
	h := r.hw[n-1].pilot.changes()
	if len(h) == 0 {
		return pwmChange{}
	}
	return h[len(h)-1]
}

// TestScheduleReachesThePilot: every step of a connector's limit schedule
// changes the PWM at its boundary, in virtual time with no delay; below
// 6 A the session is suspended (SuspendedEVSE), not stopped; a rise within
// 5 s of the last change waits for the 5 s.
func TestScheduleReachesThePilot(t *testing.T) {
	free := DefaultConfig()
	free.FreeCharging = true
	r := newRig(t, rigOpts{cfg: &free, noMeter: true})
	r.pilot(1, hal.PilotC)
	if got := r.hw[0].pilot.pwm(); got != 32*amp {
		t.Fatalf("offer before limits = %v, want 32 A", got)
	}
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	r.setLimits(1, LimitSchedule{
		{At: at(10), Current: 16 * amp},
		{At: at(20), Current: 4 * amp},
		{At: at(30), Current: 20 * amp},
		{At: at(32), Current: 25 * amp}, // 2 s after a change: waits until 35 s
		{At: at(40), Current: NoLimit},
	})
	steps := []struct {
		until  float64 // advance to this offset (s)
		want   physic.ElectricCurrent
		status Status
		change float64 // when the PWM last changed
	}{
		{9.9, 32 * amp, Charging, 0},
		{10, 16 * amp, Charging, 10},
		{20, 0, SuspendedEVSE, 20},
		{30, 20 * amp, Charging, 30},
		{32, 20 * amp, Charging, 30},
		{35, 25 * amp, Charging, 35},
		{40, 32 * amp, Charging, 40},
	}
	for _, s := range steps {
		r.advance(at(s.until).Sub(r.clk.Now()))
		c := r.conn(1)
		if got := r.hw[0].pilot.pwm(); got != s.want || c.Status != s.status || c.Session == nil {
			t.Errorf("at %gs: offer %v, status %s, session %v; want %v, %s, a session", s.until, got, c.Status, c.Session != nil, s.want, s.status)
		}
		if s.until >= 10 {
			if got := r.lastChange(1).at; !got.Equal(at(s.change)) {
				t.Errorf("at %gs: PWM changed at %v, want %gs (no delay after the boundary)", s.until, got.Sub(t0), s.change)
			}
		}
	}
	if c := r.conn(1); c.Limit != 32*amp || c.MaxCurrent != 32*amp || c.Phases != 3 {
		t.Errorf("snapshot limit %v max %v phases %d", c.Limit, c.MaxCurrent, c.Phases)
	}
}

// TestStationLimitSharedFairly: two vehicles under a station limit share it;
// when one leaves the other gets its share once the leaver has had 5 s to
// stop drawing.
func TestStationLimitSharedFairly(t *testing.T) {
	free := DefaultConfig()
	free.FreeCharging = true
	r := newRig(t, rigOpts{n: 2, cfg: &free, noMeter: true, siteLimit: 40 * amp})
	r.setLimits(0, LimitSchedule{{At: t0, Current: 32 * amp}})
	r.pilot(1, hal.PilotC)
	if got := r.hw[0].pilot.pwm(); got != 32*amp {
		t.Fatalf("one vehicle: %v, want 32 A", got)
	}
	r.pilot(2, hal.PilotB)
	// The newcomer's 6 A is free only once connector 1 has had 5 s to
	// follow its lowering.
	if a, b := r.hw[0].pilot.pwm(), r.hw[1].pilot.pwm(); a != 26*amp || b != 0 {
		t.Fatalf("second plugged in: %v + %v, want 26 A + 0 A", a, b)
	}
	r.advance(5 * time.Second)
	if a, b := r.hw[0].pilot.pwm(), r.hw[1].pilot.pwm(); a != 26*amp || b != 6*amp {
		t.Fatalf("second plugged in, 5 s later: %v + %v, want 26 A + 6 A", a, b)
	}
	r.pilot(2, hal.PilotC)
	// Connector 2 may rise only once connector 1 has had 5 s to follow its
	// lowering to 16 A.
	if a, b := r.hw[0].pilot.pwm(), r.hw[1].pilot.pwm(); a != 16*amp || b != 6*amp {
		t.Fatalf("both draw, at once: %v + %v, want 16 A + 6 A", a, b)
	}
	r.advance(5 * time.Second)
	if a, b := r.hw[0].pilot.pwm(), r.hw[1].pilot.pwm(); a != 16*amp || b != 16*amp {
		t.Fatalf("both draw, 5 s later: %v + %v, want 16 A each", a, b)
	}
	r.pilot(1, hal.PilotA) // leaves
	if b := r.hw[1].pilot.pwm(); b != 16*amp {
		t.Fatalf("right after the unplug: %v, want 16 A", b)
	}
	r.advance(5 * time.Second)
	if b := r.hw[1].pilot.pwm(); b != 32*amp {
		t.Fatalf("5 s after the unplug: %v, want 32 A", b)
	}
	r.setLimits(0, nil)
	r.advance(5 * time.Second)
	if b := r.hw[1].pilot.pwm(); b != 32*amp {
		t.Fatalf("site limit 40 A, one vehicle: %v, want its 32 A", b)
	}
}

// TestLoadSharingProperty drives three connectors on a 32 A fuse through
// random arrivals, departures, pauses and connector limits in virtual time,
// and checks the PWM history: the vehicles' possible draw (the most each
// was offered within the last 5 s) never sums above the fuse, a running
// PWM never rises twice within 5 s, and once things are quiet the fuse is
// used (no vehicle below its limit while current is left).
func TestLoadSharingProperty(t *testing.T) {
	const fuse = 32 * amp
	rapid.Check(t, func(rt *rapid.T) {
		free := DefaultConfig()
		free.FreeCharging = true
		r := newRig(t, rigOpts{n: 3, cfg: &free, noMeter: true, noLock: true, siteLimit: fuse})
		defer r.shutdown()
		caps := []physic.ElectricCurrent{32 * amp, 32 * amp, 32 * amp}
		states := []hal.PilotState{hal.PilotA, hal.PilotA, hal.PilotA}
		steps := rapid.IntRange(5, 40).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			n := rapid.IntRange(1, 3).Draw(rt, "connector")
			switch rapid.IntRange(0, 5).Draw(rt, "action") {
			case 0, 1: // the vehicle changes state: A -> B -> C <-> B -> A
				next := map[hal.PilotState][]hal.PilotState{
					hal.PilotA: {hal.PilotB, hal.PilotC},
					hal.PilotB: {hal.PilotC, hal.PilotA},
					hal.PilotC: {hal.PilotB, hal.PilotA},
				}[states[n-1]]
				states[n-1] = next[rapid.IntRange(0, len(next)-1).Draw(rt, "to")]
				r.pilot(n, states[n-1])
			case 2: // the CSMS limits the connector
				a := rapid.SampledFrom([]physic.ElectricCurrent{4 * amp, 8 * amp, 13 * amp, 32 * amp}).Draw(rt, "cap")
				caps[n-1] = a
				r.setLimits(n, LimitSchedule{{At: r.clk.Now(), Current: a}})
			default:
				ms := rapid.IntRange(0, 8000).Draw(rt, "ms")
				r.advance(time.Duration(ms) * time.Millisecond)
			}
		}
		// Quiet: every held-back rise goes ahead. In small steps: a timer
		// the loop arms while handling an expiry must see the clock move
		// again (the fake clock does not wait for the loop between timers).
		for range 30 {
			r.advance(500 * time.Millisecond)
		}

		hist := make([][]pwmChange, 3)
		for i := range hist {
			hist[i] = r.hw[i].pilot.changes()
		}
		if msg := checkDrawBound(hist, fuse); msg != "" {
			rt.Fatal(msg)
		}
		for i, h := range hist {
			for k := 1; k < len(h); k++ {
				rise := h[k].a > h[k-1].a && h[k-1].a > 0
				if rise && h[k].at.Sub(h[k-1].at) < evReaction {
					rt.Fatalf("connector %d: PWM rose from %v to %v %v after its previous change", i+1, h[k-1].a, h[k].a, h[k].at.Sub(h[k-1].at))
				}
			}
		}
		// Quiet: the fuse is used.
		var sum physic.ElectricCurrent
		below := false
		for i := range 3 {
			a := r.hw[i].pilot.pwm()
			sum += a
			if states[i] == hal.PilotC && a < min(caps[i], 32*amp) && caps[i] >= 6*amp {
				below = true
			}
		}
		if below && sum < fuse-3*shareStep {
			rt.Fatalf("quiet: offers %v, %v, %v (sum %v) leave the fuse unused while a vehicle is below its limit",
				r.hw[0].pilot.pwm(), r.hw[1].pilot.pwm(), r.hw[2].pilot.pwm(), sum)
		}
	})
}

// checkDrawBound checks, at every change in the histories, that the most
// each pilot offered within the last evReaction sums to at most fuse.
func checkDrawBound(hist [][]pwmChange, fuse physic.ElectricCurrent) string {
	offerAt := func(h []pwmChange, t time.Time) physic.ElectricCurrent {
		a := physic.ElectricCurrent(0)
		for _, c := range h {
			if c.at.After(t) {
				break
			}
			a = c.a
		}
		return a
	}
	maxIn := func(h []pwmChange, from, to time.Time) physic.ElectricCurrent {
		m := offerAt(h, from)
		for _, c := range h {
			if c.at.After(from) && !c.at.After(to) {
				m = max(m, c.a)
			}
		}
		return m
	}
	for _, h := range hist {
		for _, c := range h {
			var sum physic.ElectricCurrent
			var parts []physic.ElectricCurrent
			for _, o := range hist {
				m := maxIn(o, c.at.Add(-evReaction), c.at)
				sum += m
				parts = append(parts, m)
			}
			if sum > fuse {
				return fmt.Sprintf("at %v the vehicles may draw %v (sum %v), above the %v fuse", c.at.Sub(t0), parts, sum, fuse)
			}
		}
	}
	return ""
}

// The limit in force becomes the pilot's duty cycle by IEC 61851-1 (duty
// = A / 0.6 from 6 A to 51 A, A / 2.5 + 64 above, no PWM below 6 A).
func TestLimitToDuty(t *testing.T) {
	tests := []struct {
		limit physic.ElectricCurrent
		offer physic.ElectricCurrent
		duty  hal.DutyPerMille // 0: no PWM
	}{
		{NoLimit, 63 * amp, 892},
		{60 * amp, 60 * amp, 880},
		{32 * amp, 32 * amp, 533},
		{16 * amp, 16 * amp, 266},
		{13300 * physic.MilliAmpere, 13300 * physic.MilliAmpere, 221},
		{6 * amp, 6 * amp, 100},
		{5900 * physic.MilliAmpere, 0, 0},
	}
	for _, tc := range tests {
		free := DefaultConfig()
		free.FreeCharging = true
		r := newRig(t, rigOpts{cfg: &free, noMeter: true, maxCurrent: 63 * amp})
		r.setLimits(1, LimitSchedule{{At: t0, Current: tc.limit}})
		r.pilot(1, hal.PilotC)
		got := r.hw[0].pilot.pwm()
		d, ok := hal.DutyFor(got)
		if got != tc.offer || (ok && d != tc.duty) || (!ok && tc.duty != 0) {
			t.Errorf("limit %v: offer %v duty %v, want %v duty %v", tc.limit, got, d, tc.offer, tc.duty)
		}
		r.shutdown()
	}
}
