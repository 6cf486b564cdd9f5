package pilot

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
)

// cycle is a Channel that repeats its voltages for ever, without the lock
// of pilottest.Channel, so that the benchmark measures the sampler.
type cycle struct {
	vs []physic.ElectricPotential
	i  int
}

func (c *cycle) Read(context.Context) (physic.ElectricPotential, error) {
	v := c.vs[c.i%len(c.vs)]
	c.i++
	return v, nil
}

// nopOpener is an interlocked contactor that does nothing.
type nopOpener struct{}

func (nopOpener) Open() error { return nil }

// BenchmarkSample measures the CPU cost of one CP sample on the sampler's
// goroutine (the 500 Hz path), without the timer wait: a CP resting in C
// with PWM and the diode check every 10th sample, and a CP flapping between
// C and B every 4 samples, which changes state, trips the interlock and
// reports an event every 4 samples. The pins are periph's gpiotest fakes:
// test machines have no GPIO chip or ADC.
func BenchmarkSample(b *testing.B) {
	c, bv := 6*physic.Volt, 9*physic.Volt
	cases := []struct {
		name string
		high []physic.ElectricPotential
	}{
		{"steadyC", []physic.ElectricPotential{c}},
		{"flapCB", []physic.ElectricPotential{c, c, c, c, bv, bv, bv, bv}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			p, err := New(Options{
				Connector: 1, PWM: &gpiotest.Pin{N: "GPIO18"}, High: &cycle{vs: tc.high},
				Low: &cycle{vs: []physic.ElectricPotential{-12 * physic.Volt}}, DiodeEvery: 10,
				Clock:  clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)),
				Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				b.Fatal(err)
			}
			p.SetInterlock(nopOpener{})
			if err := p.Offer(32 * physic.Ampere); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var n int
			b.ReportAllocs()
			for b.Loop() {
				n += len(p.sample(ctx))
			}
			if tc.name == "flapCB" && n == 0 {
				b.Fatal("no events while flapping")
			}
		})
	}
}
