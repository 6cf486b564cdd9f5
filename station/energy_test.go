package station

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/sim"
	"periph.io/x/conn/v3/physic"
	"pgregory.net/rapid"
)

// phases3 is a on every phase.
func phases3(a physic.ElectricCurrent) [3]physic.ElectricCurrent {
	return [3]physic.ElectricCurrent{a, a, a}
}

// newHouse builds a simulated house for a test, on a fake clock at t0
// that the rig then shares (rigOpts.clk: newHouse's clock).
func newHouse(t testing.TB, o sim.HouseOptions) *sim.House {
	t.Helper()
	if o.Clock == nil {
		o.Clock = clock.NewFake(t0)
	}
	h, err := sim.NewHouse(o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// run advances virtual time by d in steps of at most step, letting the
// station catch up after each: the meter ticks then read the world at
// their own instant.
func (r *rig) run(d, step time.Duration) {
	r.t.Helper()
	for d > 0 {
		s := min(d, step)
		r.advance(s)
		d -= s
	}
}

// site returns the site snapshot.
func (r *rig) site() SiteSnapshot {
	r.t.Helper()
	snap, err := r.st.Status(r.ctx())
	if err != nil {
		r.t.Fatalf("Status: %v", err)
	}
	return snap.Site
}

// freeCharging is the configuration of the energy tests: sessions start on
// plug-in.
func freeCharging() *Config {
	c := DefaultConfig()
	c.FreeCharging = true
	return &c
}

// TestGridLoadManagement: on a 25 A fuse with a 1 A margin, one 16 A
// connector gets what the house leaves, falls at the next reading when the
// house's load rises, is suspended when less than 6 A is left, and comes
// back when the load falls; the status names the reason. The meters are
// read inline and by samplers: the grid reading is paired with the
// connector's reading of its tick either way.
func TestGridLoadManagement(t *testing.T) {
	for _, inline := range []bool{true, false} {
		t.Run(fmt.Sprintf("inline=%v", inline), func(t *testing.T) { testGridLoadManagement(t, inline) })
	}
}

func testGridLoadManagement(t *testing.T, inline bool) {
	house := newHouse(t, sim.HouseOptions{Base: []sim.LoadStep{{Current: phases3(3 * amp)}}})
	r := newRig(t, rigOpts{cfg: freeCharging(), noLock: true, maxCurrent: 16 * amp, house: house, inline: inline,
		grid: GridOptions{Fuse: 25 * amp, Margin: amp, Fallback: 6 * amp}, limits: true})
	r.pilot(1, hal.PilotC)
	r.run(2*time.Second, 500*time.Millisecond)
	if got, c := r.hw[0].pilot.pwm(), r.conn(1); got != 16*amp || c.Reason != LimitConnector {
		t.Fatalf("3 A house: offer %v reason %q, want 16 A connector", got, c.Reason)
	}
	steps := []struct {
		name   string
		extra  physic.ElectricCurrent // added to the 3 A base
		after  time.Duration
		want   physic.ElectricCurrent
		reason LimitReason
		status Status
	}{
		{"cooker on: 12 A house", 9 * amp, time.Second, 12 * amp, LimitSite, Charging},
		{"heat pump too: 20 A house", 17 * amp, time.Second, 0, LimitSite, SuspendedEVSE},
		{"heat pump off: 12 A house again", 9 * amp, time.Second, 12 * amp, LimitSite, Charging},
		{"cooker off, 1 s later: rise waits", 0, time.Second, 12 * amp, LimitConnector, Charging},
		{"cooker off, 6 s later", 0, 5 * time.Second, 16 * amp, LimitConnector, Charging},
	}
	for _, s := range steps {
		house.SetExtraLoad(phases3(s.extra))
		r.run(s.after, 250*time.Millisecond)
		c := r.conn(1)
		if got := r.hw[0].pilot.pwm(); got != s.want || c.Reason != s.reason || c.Status != s.status {
			t.Errorf("%s: offer %v reason %q status %s, want %v %q %s", s.name, got, c.Reason, c.Status, s.want, s.reason, s.status)
		}
	}
	site := r.site()
	if !site.GridMeter || site.Fallback || site.Warning != "" || site.OtherLoad != phases3(3*amp) || site.Available != 21*amp {
		t.Errorf("site %+v, want a fresh grid meter, other load 3 A, 21 A available", site)
	}
	// The events stream saw every change of connector 1's offer and
	// reason, in order.
	var got []string
	for _, c := range r.limits.changesCopy() {
		if c.Connector == 1 {
			got = append(got, fmt.Sprintf("%v %s", c.Offered, c.Reason))
		}
	}
	want := []string{"16A connector", "12A site", "0A site", "12A site", "12A connector", "16A connector"}
	if !slices.Equal(got, want) {
		t.Errorf("limit changes of connector 1:\n got %q\nwant %q", got, want)
	}
}

// TestGridMeterLost: a grid meter that stops answering, or answers with
// stale readings, brings the fallback current within its timeout of the
// last fresh reading, with a warning in the status; fresh readings
// recover, in sampler mode as inline.
func TestGridMeterLost(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inline bool
		break_ func(g *sim.GridMeter, on bool)
	}{
		{"no answer, sampler", false, (*sim.GridMeter).Fail},
		{"no answer, inline", true, (*sim.GridMeter).Fail},
		{"stale readings", true, (*sim.GridMeter).Freeze},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const timeout = 4 * time.Second
			house := newHouse(t, sim.HouseOptions{})
			r := newRig(t, rigOpts{cfg: freeCharging(), noLock: true, maxCurrent: 16 * amp, house: house, inline: tc.inline,
				grid: GridOptions{Fuse: 25 * amp, Margin: amp, Fallback: 6 * amp, Timeout: timeout}})
			r.pilot(1, hal.PilotC)
			r.run(3*time.Second, 100*time.Millisecond)
			if got := r.hw[0].pilot.pwm(); got != 16*amp {
				t.Fatalf("meter fine: offer %v, want 16 A", got)
			}
			last := r.site().LastReading
			tc.break_(r.grid, true)
			r.run(10*time.Second, 100*time.Millisecond)
			var fellAt time.Time
			for _, ch := range r.hw[0].pilot.changes() {
				if ch.at.After(last) && ch.a == 6*amp {
					fellAt = ch.at
					break
				}
			}
			if fellAt.IsZero() || fellAt.After(last.Add(timeout)) {
				t.Fatalf("fallback at %v, want within %v of the last fresh reading at %v", fellAt.Sub(t0), timeout, last.Sub(t0))
			}
			site := r.site()
			if got := r.hw[0].pilot.pwm(); got != 6*amp || !site.Fallback || !strings.Contains(site.Warning, "grid meter lost") {
				t.Fatalf("lost: offer %v, site %+v; want 6 A, fallback and a warning", got, site)
			}
			if c := r.conn(1); c.Reason != LimitSite || !strings.Contains(c.ReasonInfo, "lost") {
				t.Errorf("lost: reason %q (%s), want site, grid meter lost", c.Reason, c.ReasonInfo)
			}
			tc.break_(r.grid, false)
			r.run(2*time.Second, 100*time.Millisecond)
			site = r.site()
			if got := r.hw[0].pilot.pwm(); got != 16*amp || site.Fallback || site.Warning != "" {
				t.Fatalf("back: offer %v, site %+v; want 16 A, no fallback, no warning", got, site)
			}
		})
	}
}

// TestGridMeterNeverAnswers: a grid meter that does not answer from the
// start gives the fallback current at once, and the warning once its
// timeout has passed.
func TestGridMeterNeverAnswers(t *testing.T) {
	house := newHouse(t, sim.HouseOptions{})
	g := sim.NewGridMeter(house, nil)
	g.Fail(true)
	r := newRig(t, rigOpts{cfg: freeCharging(), noLock: true, maxCurrent: 16 * amp, house: house,
		grid: GridOptions{Meter: g, Fuse: 25 * amp, Fallback: 8 * amp}})
	r.pilot(1, hal.PilotC)
	if got, site := r.hw[0].pilot.pwm(), r.site(); got != 8*amp || !site.Fallback || site.Warning != "" || !site.LastReading.IsZero() {
		t.Fatalf("at start: offer %v, site %+v; want the 8 A fallback, no warning yet", got, site)
	}
	r.run(defaultGridTimeout, 500*time.Millisecond)
	if got, site := r.hw[0].pilot.pwm(), r.site(); got != 8*amp || !strings.Contains(site.Warning, "no response") {
		t.Fatalf("after the timeout: offer %v, site %+v; want 8 A and a warning saying why", got, site)
	}
	g.Fail(false)
	r.run(6*time.Second, 500*time.Millisecond)
	if got, site := r.hw[0].pilot.pwm(), r.site(); got != 16*amp || site.Fallback || site.Warning != "" {
		t.Fatalf("answering: offer %v, site %+v; want 16 A", got, site)
	}
}

// TestLowestLimitWins: the connector's rating, its profile, its external
// limit, the station's profile, external limit and limit input and the grid
// connection each cap the offer; the lowest wins and names the reason.
func TestLowestLimitWins(t *testing.T) {
	tests := []struct {
		name     string
		profile  physic.ElectricCurrent // connector profile; 0 none
		station  physic.ElectricCurrent // station profile; 0 none
		ext      physic.ElectricCurrent // connector external; 0 none
		stExt    physic.ElectricCurrent // station external; 0 none
		input    bool
		fuse     physic.ElectricCurrent // 0 means 40 A
		want     physic.ElectricCurrent
		reason   LimitReason
		infoPart string
	}{
		{"rating", 0, 0, 0, 0, false, 0, 20 * amp, LimitConnector, "rating"},
		{"grid", 0, 0, 0, 0, false, 22 * amp, 18 * amp, LimitSite, "main fuse"},
		{"profile below the grid", 16 * amp, 0, 0, 0, false, 22 * amp, 16 * amp, LimitProfile, "connector"},
		{"connector profile", 14 * amp, 0, 0, 0, false, 0, 14 * amp, LimitProfile, "connector"},
		{"station profile below it", 14 * amp, 12 * amp, 0, 0, false, 0, 12 * amp, LimitProfile, "station"},
		{"external below both", 14 * amp, 12 * amp, 10 * amp, 0, false, 0, 10 * amp, LimitExternal, "connector external"},
		{"station external lower still", 14 * amp, 12 * amp, 10 * amp, 8 * amp, false, 0, 8 * amp, LimitExternal, "station external"},
		{"input lowest", 14 * amp, 12 * amp, 10 * amp, 8 * amp, true, 0, 7 * amp, LimitExternal, "input"},
		{"equal: external named first", 10 * amp, 0, 10 * amp, 0, false, 0, 10 * amp, LimitExternal, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			house := newHouse(t, sim.HouseOptions{Base: []sim.LoadStep{{Current: phases3(4 * amp)}}})
			r := newRig(t, rigOpts{cfg: freeCharging(), noLock: true, maxCurrent: 20 * amp, house: house, inline: true,
				grid:       GridOptions{Fuse: cmp.Or(tc.fuse, 40*amp), Fallback: 6 * amp},
				inputLimit: 7 * amp})
			if tc.profile > 0 {
				r.setLimits(1, LimitSchedule{{At: t0, Current: tc.profile}})
			}
			if tc.station > 0 {
				r.setLimits(0, LimitSchedule{{At: t0, Current: tc.station}})
			}
			if tc.ext > 0 {
				if err := r.st.SetExternalLimit(r.ctx(), 1, ExternalLimit{Current: tc.ext, Source: "test"}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.stExt > 0 {
				if err := r.st.SetExternalLimit(r.ctx(), 0, ExternalLimit{Current: tc.stExt}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.input {
				r.event(hal.Event{Kind: hal.InputChanged, Active: true})
			}
			r.pilot(1, hal.PilotC)
			r.run(time.Second, 500*time.Millisecond)
			c := r.conn(1)
			if got := r.hw[0].pilot.pwm(); got != tc.want || c.Target != tc.want || c.Reason != tc.reason || !strings.Contains(c.ReasonInfo, tc.infoPart) {
				t.Errorf("offer %v target %v reason %q (%s), want %v %q (%s)", got, c.Target, c.Reason, c.ReasonInfo, tc.want, tc.reason, tc.infoPart)
			}
			if site := r.site(); site.InputActive != tc.input || (tc.stExt > 0) != (site.External != nil) {
				t.Errorf("site input %v external %v, want %v, %v", site.InputActive, site.External, tc.input, tc.stExt > 0)
			}
		})
	}
}

// TestExternalLimitExpires: an external limit with an expiry lowers the
// offer at once and lapses at its Until; one that has expired already, or
// a negative one, is refused.
func TestExternalLimitExpires(t *testing.T) {
	r := newRig(t, rigOpts{cfg: freeCharging(), noLock: true, noMeter: true})
	r.pilot(1, hal.PilotC)
	until := t0.Add(30 * time.Second)
	if err := r.st.SetExternalLimit(r.ctx(), 1, ExternalLimit{Current: 10 * amp, Until: until, Source: "hems"}); err != nil {
		t.Fatal(err)
	}
	r.settle()
	c := r.conn(1)
	if got := r.hw[0].pilot.pwm(); got != 10*amp || c.External == nil || c.External.Source != "hems" || c.Reason != LimitExternal {
		t.Fatalf("limited: offer %v external %+v reason %q, want 10 A from hems", got, c.External, c.Reason)
	}
	r.clk.Set(until.Add(-time.Millisecond))
	r.settle()
	if got := r.hw[0].pilot.pwm(); got != 10*amp {
		t.Fatalf("just before expiry: %v, want 10 A", got)
	}
	r.advance(time.Millisecond)
	if got, c := r.hw[0].pilot.pwm(), r.conn(1); got != 32*amp || c.External != nil || c.Reason != LimitConnector {
		t.Fatalf("at expiry: offer %v external %+v reason %q, want 32 A, none", got, c.External, c.Reason)
	}
	if ch := r.lastChange(1); !ch.at.Equal(until) {
		t.Errorf("rose at %v, want at the expiry %v", ch.at.Sub(t0), until.Sub(t0))
	}
	if err := r.st.SetExternalLimit(r.ctx(), 1, ExternalLimit{Current: 10 * amp, Until: t0}); !errors.Is(err, ErrInvalidLimit) {
		t.Errorf("expired limit: %v, want ErrInvalidLimit", err)
	}
	if err := r.st.SetExternalLimit(r.ctx(), 1, ExternalLimit{Current: -amp}); !errors.Is(err, ErrInvalidLimit) {
		t.Errorf("negative limit: %v, want ErrInvalidLimit", err)
	}
	if err := r.st.SetExternalLimit(r.ctx(), 3, ExternalLimit{Current: amp}); !errors.Is(err, ErrNoConnector) {
		t.Errorf("connector 3: %v, want ErrNoConnector", err)
	}
	if err := r.st.SetExternalLimit(r.ctx(), 0, ExternalLimit{Current: 4 * amp}); err != nil {
		t.Fatal(err)
	}
	r.settle()
	if got, c := r.hw[0].pilot.pwm(), r.conn(1); got != 0 || c.Status != SuspendedEVSE || c.Session == nil {
		t.Errorf("station external 4 A: offer %v status %s, want no PWM, SuspendedEVSE, session kept", got, c.Status)
	}
	if err := r.st.ClearExternalLimit(r.ctx(), 0); err != nil {
		t.Fatal(err)
	}
	r.settle()
	if got := r.hw[0].pilot.pwm(); got != 32*amp {
		t.Errorf("cleared: %v, want 32 A", got)
	}
}

// TestLimitInput: the simulated board's limit input, read at start and
// followed through its events, forces the reduced current and shows in the
// status.
func TestLimitInput(t *testing.T) {
	b, err := sim.New(sim.Options{Connectors: 1})
	if err != nil {
		t.Fatal(err)
	}
	b.SetInput(true)
	r := newRig(t, rigOpts{cfg: freeCharging(), noLock: true, noMeter: true, limitInput: b.Input(), inputLimit: 6 * amp})
	r.pilot(1, hal.PilotC)
	if got, site := r.hw[0].pilot.pwm(), r.site(); got != 6*amp || !site.InputActive || site.InputLimit != 6*amp {
		t.Fatalf("input active at start: offer %v, site %+v; want 6 A", got, site)
	}
	r.event(hal.Event{Kind: hal.InputChanged, Active: false})
	r.advance(evReaction)
	if got, site := r.hw[0].pilot.pwm(), r.site(); got != 32*amp || site.InputActive {
		t.Fatalf("input released: offer %v, site input %v; want 32 A", got, site.InputActive)
	}
	r.event(hal.Event{Kind: hal.InputChanged, Active: true})
	if got, c := r.hw[0].pilot.pwm(), r.conn(1); got != 6*amp || c.Reason != LimitExternal {
		t.Fatalf("input active again: offer %v reason %q; want 6 A, external", got, c.Reason)
	}
}

// TestSiteLimitProperty drives two 16 A connectors behind a 25 A main fuse
// (1 A margin) through random house loads, PV roofs with clouds and noise,
// arrivals, departures, pauses and connector profiles, in virtual time,
// sampling the world every 250 ms. The house load plus what the vehicles
// draw never exceeds the fuse on any phase for longer than the reaction
// budget (one grid reading plus the sampling step), and no offer is ever
// above the connector's charging profile.
func TestSiteLimitProperty(t *testing.T) {
	const (
		fuse     = 25 * amp
		sample   = 250 * time.Millisecond
		reaction = time.Second + sample // one reading interval, as sampled
	)
	rapid.Check(t, func(rt *rapid.T) {
		house := newHouse(t, sim.HouseOptions{
			Base:      []sim.LoadStep{{Current: phases3(2 * amp)}},
			LoadNoise: 300 * physic.MilliAmpere,
			PV: sim.PV{
				Peak:        physic.Power(rapid.IntRange(0, 9).Draw(rt, "pv kW")) * physic.KiloWatt,
				Clouds:      rapid.Float64Range(0, 0.7).Draw(rt, "clouds"),
				CloudLength: time.Minute,
				Noise:       0.03,
			},
			Seed: rapid.Uint64().Draw(rt, "seed"),
		})
		r := newRig(t, rigOpts{n: 2, cfg: freeCharging(), noLock: true, maxCurrent: 16 * amp, house: house, inline: true,
			grid: GridOptions{Fuse: fuse, Margin: amp, Fallback: 6 * amp}})
		defer r.shutdown()

		// profile is each connector's profile now; seen how much of its
		// PWM history has been checked against it. Every change of the
		// PWM is checked against the profile in force when it was made.
		profile := []physic.ElectricCurrent{NoLimit, NoLimit}
		seen := []int{0, 0}
		checkOffers := func() {
			for i, h := range r.hw {
				hist := h.pilot.changes()
				for _, ch := range hist[seen[i]:] {
					if ch.a > profile[i] {
						rt.Fatalf("connector %d offered %v at %v, above its %v profile", i+1, ch.a, ch.at.Sub(t0), profile[i])
					}
				}
				seen[i] = len(hist)
			}
		}
		states := []hal.PilotState{hal.PilotA, hal.PilotA}
		var overSince time.Time // the fuse is exceeded since; zero when not
		worst := time.Duration(0)
		look := func() {
			checkOffers()
			now := r.clk.Now()
			var ours physic.ElectricCurrent
			for _, h := range r.hw {
				ours += evDraw(h, 32*amp)
			}
			net := house.Net(now, phases3(ours))
			over := ours > 0 && max(net[0], net[1], net[2]) > fuse
			switch {
			case over && overSince.IsZero():
				overSince = now
			case !over && !overSince.IsZero():
				worst = max(worst, now.Sub(overSince))
				overSince = time.Time{}
			}
		}
		steps := rapid.IntRange(5, 30).Draw(rt, "steps")
		for range steps {
			n := rapid.IntRange(1, 2).Draw(rt, "connector")
			switch rapid.IntRange(0, 6).Draw(rt, "action") {
			case 0, 1:
				next := map[hal.PilotState][]hal.PilotState{
					hal.PilotA: {hal.PilotB, hal.PilotC},
					hal.PilotB: {hal.PilotC, hal.PilotA},
					hal.PilotC: {hal.PilotB, hal.PilotA},
				}[states[n-1]]
				states[n-1] = next[rapid.IntRange(0, len(next)-1).Draw(rt, "to")]
				r.pilot(n, states[n-1])
			case 2:
				a := rapid.SampledFrom([]physic.ElectricCurrent{5 * amp, 8 * amp, 10 * amp, 13 * amp, NoLimit}).Draw(rt, "profile")
				checkOffers()
				profile[n-1] = a // what SetLimits changes, it changes under a
				r.setLimits(n, LimitSchedule{{At: r.clk.Now(), Current: a}})
			case 3, 4: // a load switches on or off, on each phase
				var extra [3]physic.ElectricCurrent
				for p := range extra {
					extra[p] = physic.ElectricCurrent(rapid.IntRange(0, 20).Draw(rt, "load A")) * amp
				}
				house.SetExtraLoad(extra)
			default:
				d := time.Duration(rapid.IntRange(1, 32).Draw(rt, "samples")) * sample
				for ; d > 0; d -= sample {
					r.advance(sample)
					look()
				}
			}
			look()
		}
		for range 8 {
			r.advance(sample)
			look()
		}
		if !overSince.IsZero() {
			worst = max(worst, r.clk.Now().Sub(overSince))
		}
		if worst > reaction {
			rt.Fatalf("the house load plus the vehicles exceeded the %v fuse for %v, beyond the %v reaction budget", fuse, worst, reaction)
		}
	})
}
