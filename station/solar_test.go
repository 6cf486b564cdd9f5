package station

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/sim"
	"periph.io/x/conn/v3/physic"
)

// cloudyHouse is a house at midday under a broken, noisy sky: a 9 kW roof
// behind clouds that come and go every 2 min on average, +-10 % noise from
// second to second, and 2 A of base load per phase.
func cloudyHouse(t testing.TB, seed uint64) *sim.House {
	return newHouse(t, sim.HouseOptions{
		Base:      []sim.LoadStep{{Current: phases3(2 * amp)}},
		LoadNoise: 500 * physic.MilliAmpere,
		PV:        sim.PV{Peak: 9 * physic.KiloWatt, Clouds: 0.5, CloudLength: 2 * time.Minute, Shade: 0.2, Noise: 0.1},
		Seed:      seed,
	})
}

// periods returns the lengths of the closed and the open periods of a
// contactor's history up to end, without the open period before the first
// close and the last (unfinished) one.
func periods(h []switchChange) (on, off []time.Duration) {
	for i := 1; i < len(h); i++ {
		d := h[i].at.Sub(h[i-1].at)
		if h[i-1].closed {
			on = append(on, d)
		} else {
			off = append(off, d)
		}
	}
	return on, off
}

// TestSolarHysteresis: under a noisy, cloudy sky a pv session does not
// switch the contactor more often than the minimum on and off times allow,
// and still charges from the sun.
func TestSolarHysteresis(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		house := cloudyHouse(t, seed)
		cfg := SolarConfig{MinOnTime: 5 * time.Minute, MinOffTime: 5 * time.Minute}
		r := newRig(t, rigOpts{cfg: freeCharging(), noLock: true, maxCurrent: 16 * amp, house: house, inline: true,
			grid: GridOptions{Fuse: 25 * amp, Margin: amp, Fallback: 6 * amp}, solar: cfg, modes: []ChargeMode{ModePV}})
		r.pilot(1, hal.PilotC)
		r.run(2*time.Hour, time.Second)
		h := r.hw[0].contactor.history()
		on, off := periods(h)
		if len(on) == 0 {
			t.Fatalf("seed %d: the pv session never charged in 2 h of sun and clouds", seed)
		}
		for _, d := range on {
			if d < cfg.MinOnTime {
				t.Errorf("seed %d: closed for only %v, below the %v minimum on time", seed, d, cfg.MinOnTime)
			}
		}
		for _, d := range off {
			if d < cfg.MinOffTime {
				t.Errorf("seed %d: open for only %v, below the %v minimum off time", seed, d, cfg.MinOffTime)
			}
		}
		// Every switch but the first is at least a minimum time after the
		// previous: the count is bounded by the configured times.
		if most := int(2*time.Hour/cfg.MinOnTime) + 1; len(h) > most {
			t.Errorf("seed %d: %d contactor switches in 2 h, want at most %d", seed, len(h), most)
		}
		r.shutdown()
	}
}

// TestSolarModes: pv waits for the start threshold and delay, then follows
// the surplus, offers 6 A while the surplus dips, and pauses after the
// stop delay; minpv always offers 6 A and the surplus above; fast ignores
// the sun.
func TestSolarModes(t *testing.T) {
	cfg := SolarConfig{StartDelay: 30 * time.Second, StopDelay: time.Minute, MinOnTime: time.Minute, MinOffTime: time.Minute}
	newSunny := func(t *testing.T, mode ChargeMode) (*rig, *sim.House) {
		// A flat 1 A house and no roof: the test makes the surplus with
		// negative extra load (a PV roof as the meter sees it).
		house := newHouse(t, sim.HouseOptions{Base: []sim.LoadStep{{Current: phases3(0)}}})
		r := newRig(t, rigOpts{cfg: freeCharging(), noLock: true, maxCurrent: 16 * amp, house: house, inline: true,
			grid: GridOptions{Fuse: 25 * amp, Fallback: 6 * amp}, solar: cfg, modes: []ChargeMode{mode}})
		return r, house
	}
	sun := func(h *sim.House, a physic.ElectricCurrent) { h.SetExtraLoad(phases3(-a)) }

	t.Run("pv", func(t *testing.T) {
		r, house := newSunny(t, ModePV)
		sun(house, 5*amp)
		r.pilot(1, hal.PilotC)
		r.run(time.Minute, time.Second)
		if got, c := r.hw[0].pilot.pwm(), r.conn(1); got != 0 || c.Reason != LimitSolar || c.Solar == nil || c.Solar.On {
			t.Fatalf("5 A of surplus: offer %v reason %q solar %+v; want none, waiting", got, c.Reason, c.Solar)
		}
		sun(house, 10*amp)
		r.run(20*time.Second, time.Second)
		if got, c := r.hw[0].pilot.pwm(), r.conn(1); got != 0 || c.Solar.Pending == "" {
			t.Fatalf("10 A for 20 s: offer %v solar %+v; want none yet, a start pending", got, c.Solar)
		}
		r.run(11*time.Second, time.Second)
		if got := r.hw[0].pilot.pwm(); got != 10*amp {
			t.Fatalf("10 A for 31 s: offer %v, want 10 A", got)
		}
		sun(house, 13*amp)
		r.run(6*time.Second, time.Second)
		if got := r.hw[0].pilot.pwm(); got != 13*amp {
			t.Fatalf("13 A of sun: offer %v, want 13 A", got)
		}
		sun(house, 5*amp) // a cloud: above the 4.5 A stop current
		r.run(2*time.Minute, time.Second)
		if got := r.hw[0].pilot.pwm(); got != 6*amp {
			t.Fatalf("5 A under a cloud: offer %v, want 6 A (from the grid in part)", got)
		}
		sun(house, 2*amp) // below the stop current
		r.run(59*time.Second, time.Second)
		if got := r.hw[0].pilot.pwm(); got != 6*amp {
			t.Fatalf("2 A for 59 s: offer %v, want still 6 A", got)
		}
		r.run(2*time.Second, time.Second)
		if got, c := r.hw[0].pilot.pwm(), r.conn(1); got != 0 || c.Status != SuspendedEVSE || c.Solar.On {
			t.Fatalf("2 A for 61 s: offer %v status %s; want paused, SuspendedEVSE", got, c.Status)
		}
	})
	t.Run("minpv", func(t *testing.T) {
		r, house := newSunny(t, ModeMinPV)
		r.pilot(1, hal.PilotC)
		r.run(2*time.Second, time.Second)
		if got, c := r.hw[0].pilot.pwm(), r.conn(1); got != 6*amp || c.Reason != LimitSolar {
			t.Fatalf("no sun: offer %v reason %q, want 6 A solar", got, c.Reason)
		}
		sun(house, 11*amp)
		r.run(6*time.Second, time.Second)
		if got := r.hw[0].pilot.pwm(); got != 11*amp {
			t.Fatalf("11 A of sun: offer %v, want 11 A", got)
		}
	})
	t.Run("fast", func(t *testing.T) {
		r, _ := newSunny(t, ModeFast)
		r.pilot(1, hal.PilotC)
		if err := r.st.SetChargeMode(r.ctx(), 1, "turbo"); !errors.Is(err, ErrInvalidMode) {
			t.Errorf("mode turbo: %v, want ErrInvalidMode", err)
		}
		r.run(2*time.Second, time.Second)
		if got, c := r.hw[0].pilot.pwm(), r.conn(1); got != 16*amp || c.Mode != ModeFast || c.Solar != nil {
			t.Fatalf("fast: offer %v mode %s solar %v, want 16 A", got, c.Mode, c.Solar)
		}
		if err := r.st.SetChargeMode(r.ctx(), 1, ModePV); err != nil {
			t.Fatal(err)
		}
		r.run(2*time.Second, time.Second)
		if got, c := r.hw[0].pilot.pwm(), r.conn(1); got != 0 || c.Mode != ModePV {
			t.Fatalf("switched to pv without sun: offer %v mode %s, want none, pv", got, c.Mode)
		}
	})
}

// TestSolarModeNeedsGridMeter: the solar modes are refused without a grid
// meter, at New and at SetChargeMode.
func TestSolarModeNeedsGridMeter(t *testing.T) {
	r := newRig(t, rigOpts{noMeter: true})
	if err := r.st.SetChargeMode(r.ctx(), 1, ModePV); !errors.Is(err, ErrNoGridMeter) {
		t.Errorf("SetChargeMode(pv): %v, want ErrNoGridMeter", err)
	}
	hw := r.hw[0]
	_, err := New(Options{Connectors: []ConnectorConfig{{Mode: ModeMinPV, Hardware: hal.Connector{
		ID: 1, Pilot: hw.pilot, Contactor: hw.contactor, MaxCurrent: 16 * amp, Phases: 3}}}})
	if !errors.Is(err, ErrNoGridMeter) {
		t.Errorf("New with minpv: %v, want ErrNoGridMeter", err)
	}
}

// TestPVFollowsSurplusSim runs the station on the simulated board and the
// simulated house in virtual time: a pv session on a sunny morning follows
// the surplus (the roof's output less the house's load) within 10 %.
func TestPVFollowsSurplusSim(t *testing.T) {
	clk := clock.NewFake(t0) // 10:07:30 UTC
	house := newHouse(t, sim.HouseOptions{
		Base:  []sim.LoadStep{{Current: phases3(2 * amp)}},
		PV:    sim.PV{Peak: 11 * physic.KiloWatt},
		Clock: clk,
	})
	b, err := sim.New(sim.Options{Connectors: 1, Clock: clk, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.FreeCharging = true
	st, err := New(Options{
		Connectors: []ConnectorConfig{{Hardware: b.Connectors()[0], Meter: b.Meter(1), Mode: ModePV}},
		Board:      b, Config: cfg, Clock: clk, Logger: slog.New(slog.DiscardHandler), InlineMeterReads: true,
		Grid: GridOptions{Meter: house.GridMeter(b), Fuse: 35 * amp, Margin: amp, Fallback: 6 * amp},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	// step advances virtual time a second at a time; after each, it
	// waits until the station has seen the board's CP state, which the
	// board reports from a goroutine of its own: virtual time must not run
	// ahead of it. The real-time bound only turns a hang into a failure.
	step := func(d time.Duration) {
		for ; d > 0; d -= time.Second {
			clk.Advance(time.Second)
			sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
			for {
				if err := st.settle(sctx, true); err != nil {
					t.Fatalf("settle: %v", err)
				}
				snap, err := st.Status(sctx)
				if err != nil {
					t.Fatalf("Status: %v", err)
				}
				bs, err := b.State(1)
				if err != nil {
					t.Fatal(err)
				}
				if snap.Connectors[0].Pilot == bs.Pilot {
					break
				}
				runtime.Gosched()
			}
			scancel()
		}
	}
	step(time.Second) // booted: the plug-in is seen as one
	if err := b.Plug(1); err != nil {
		t.Fatal(err)
	}
	if err := b.Charge(1); err != nil {
		t.Fatal(err)
	}
	step(3 * time.Minute) // the start delay
	checked, worst := 0, 0.0
	for range 90 { // 1.5 h, every minute
		step(time.Minute)
		now := clk.Now()
		load := house.Load(now)
		surplus := house.PVPower(now) - physic.Power(int64(load[0]+load[1]+load[2])/int64(physic.MilliAmpere)*230)*physic.MilliWatt
		got := b.Power(1)
		worst = max(worst, math.Abs(float64(got-surplus))/float64(surplus))
		if diff := got - surplus; diff > surplus/10 || -diff > surplus/10 {
			t.Errorf("at %s: the EV draws %v, the surplus is %v: more than 10 %% apart", now.Format("15:04"), got, surplus)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("nothing checked")
	}

	t.Logf("pv follows the surplus: %d minutes checked, worst deviation %.1f %%", checked, 100*worst)
}
