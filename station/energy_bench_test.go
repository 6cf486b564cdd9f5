package station

import (
	"slices"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/sim"
	"periph.io/x/conn/v3/physic"
)

// BenchmarkGridReaction measures the reaction from a step of the house's
// load to the PWM change: a 16 A connector behind a 25 A fuse charges at
// 16 A beside a 3 A house, and at a random instant between two grid
// readings (1 s apart) the house's load rises by 10 A per phase. Reported:
// the virtual time from the step to the lowered duty cycle (median and
// max, which the reading interval bounds) and the wall-clock cost of the
// loop from the meter tick to the pilot command (median and max).
//
//	go test -run '^$' -bench BenchmarkGridReaction ./station/
func BenchmarkGridReaction(b *testing.B) {
	house := newHouse(b, sim.HouseOptions{Base: []sim.LoadStep{{Current: phases3(3 * amp)}}})
	r := newRig(b, rigOpts{cfg: freeCharging(), noLock: true, maxCurrent: 16 * amp, house: house, inline: true,
		grid: GridOptions{Fuse: 25 * amp, Margin: amp, Fallback: 6 * amp}})
	p := r.hw[0].pilot
	p.mu.Lock()
	p.wall = clock.Real{}
	p.mu.Unlock()
	r.pilot(1, hal.PilotC)
	r.run(10*time.Second, time.Second)
	var virt, wall []time.Duration
	i := 0
	for b.Loop() {
		i++
		// Steps at 1-999 ms after a reading, spread evenly.
		offset := time.Duration(1+(i*389)%999) * time.Millisecond
		r.advance(offset)
		house.SetExtraLoad(phases3(10 * amp))
		stepAt := r.clk.Now()
		tick := t0.Add((stepAt.Sub(t0)/time.Second + 1) * time.Second)
		wallBefore := clock.Real{}.Now()
		r.advance(tick.Sub(stepAt))
		ch := r.lastChange(1)
		if ch.a != 11*amp || ch.at.Before(stepAt) {
			b.Fatalf("step %d: PWM %v at %v, want 11 A after the step at %v", i, ch.a, ch.at.Sub(t0), stepAt.Sub(t0))
		}
		virt = append(virt, ch.at.Sub(stepAt))
		wall = append(wall, ch.wall.Sub(wallBefore))
		// Back to 16 A: the rise waits evReaction. The clock stays on the
		// readings' grid (ticks every second from t0).
		house.SetExtraLoad(phases3(0))
		r.run(evReaction+time.Second, time.Second)
		if got := p.pwm(); got != 16*amp {
			b.Fatalf("step %d: back at %v, want 16 A", i, got)
		}
	}
	med := func(d []time.Duration) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[len(s)/2]
	}
	b.ReportMetric(float64(med(virt))/float64(time.Millisecond), "virt-median-ms")
	b.ReportMetric(float64(slices.Max(virt))/float64(time.Millisecond), "virt-max-ms")
	b.ReportMetric(float64(med(wall))/float64(time.Microsecond), "wall-median-µs")
	b.ReportMetric(float64(slices.Max(wall))/float64(time.Microsecond), "wall-max-µs")
	b.ReportMetric(float64(len(virt)), "steps")
}

// BenchmarkSolarCloudyHour counts the contactor switches (a close or an
// open each) and the closes of a pv session per simulated hour under a broken, noisy sky (cloudyHouse: clouds every
// 2 min on average, +-10 % noise), one seed per iteration, with the
// default SolarConfig and, for comparison, with hysteresis and minimum
// times all but off.
//
//	go test -run '^$' -bench BenchmarkSolarCloudyHour ./station/
func BenchmarkSolarCloudyHour(b *testing.B) {
	for _, tc := range []struct {
		name string
		cfg  SolarConfig
	}{
		{"defaults", SolarConfig{}},
		{"no-hysteresis", SolarConfig{StartCurrent: 6100 * physic.MilliAmpere, StopCurrent: 6000 * physic.MilliAmpere,
			StartDelay: time.Second, StopDelay: time.Second, MinOnTime: time.Second, MinOffTime: time.Second}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var counts, closes []int
			seed := uint64(0)
			for b.Loop() {
				seed++
				house := cloudyHouse(b, seed)
				r := newRig(b, rigOpts{cfg: freeCharging(), noLock: true, maxCurrent: 16 * amp, house: house, inline: true,
					grid: GridOptions{Fuse: 25 * amp, Margin: amp, Fallback: 6 * amp}, solar: tc.cfg, modes: []ChargeMode{ModePV}})
				r.pilot(1, hal.PilotC)
				r.run(10*time.Minute, time.Second) // past the start
				before := len(r.hw[0].contactor.history())
				r.run(time.Hour, time.Second)
				h := r.hw[0].contactor.history()[before:]
				n := 0
				for _, sw := range h {
					if sw.closed {
						n++
					}
				}
				counts, closes = append(counts, len(h)), append(closes, n)
				r.shutdown()
			}
			mean := func(xs []int) float64 {
				sum := 0
				for _, x := range xs {
					sum += x
				}
				return float64(sum) / float64(len(xs))
			}
			b.ReportMetric(mean(counts), "switches/h")
			b.ReportMetric(float64(slices.Max(counts)), "max-switches/h")
			b.ReportMetric(mean(closes), "closes/h")
		})
	}
}
