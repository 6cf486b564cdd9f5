package sim

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/physic"
)

// BenchmarkSafety measures the simulated driver's own interlock: the time
// from the EV's (or the RCD's) change, as a control call of the board, until
// that call returns with the contactor commanded open. The driver opens
// inside the call, under the board's lock, without waiting for the station,
// so the figure is an upper bound of the driver's reaction that also counts
// the rest of the model's update (meter, event queue). The sim has no state
// E; hal.PilotF is what the station drives, not an EV event.
//
// Each iteration is one event; run with -benchtime=10000x for 10,000 events.
// Re-arming (EV back in C, contactor closed) is not timed, and ns/op is
// suppressed because it would mix both.
func BenchmarkSafety(b *testing.B) {
	cases := []struct {
		name    string
		trigger func(*Board) error
		rearm   func(*Board) error
	}{
		{"CtoB", func(s *Board) error { return s.Pause(1) }, func(s *Board) error { return s.Charge(1) }},
		{"CtoA", func(s *Board) error { return s.Unplug(1) }, func(s *Board) error {
			if err := s.Plug(1); err != nil {
				return err
			}
			return s.Charge(1)
		}},
		{"RCD", func(s *Board) error { return s.Fault(1, FaultRCD) }, func(s *Board) error { return s.Fault(1, FaultClear) }},
		{"diode", func(s *Board) error { return s.Fault(1, FaultDiode) }, func(s *Board) error { return s.Fault(1, FaultClear) }},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			s, err := New(Options{Connectors: 1, Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			// A running board with a sink that keeps up, so that the event
			// queue behaves as under a station.
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx, func(hal.Event) {}) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					b.Error(err)
				}
			}()
			hw := s.Connectors()[0]
			if err := s.Plug(1); err != nil {
				b.Fatal(err)
			}
			if err := s.Charge(1); err != nil {
				b.Fatal(err)
			}
			if err := hw.Pilot.Offer(32 * physic.Ampere); err != nil {
				b.Fatal(err)
			}

			lat := make([]time.Duration, 0, 10000)
			for b.Loop() {
				if err := hw.Contactor.Close(); err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				err := tc.trigger(s)
				t1 := time.Now()
				if err != nil {
					b.Fatal(err)
				}
				if hw.Contactor.Closed() {
					b.Fatal("the driver left the contactor closed")
				}
				lat = append(lat, t1.Sub(t0))
				if err := tc.rearm(s); err != nil {
					b.Fatal(err)
				}
			}
			reportLatency(b, lat)
		})
	}
}

// reportLatency reports the median, 99th percentile and maximum of lat as
// ns/event metrics, the form scripts/bench reads; it sorts lat. The same
// few lines live in station's benchmark: test files cannot share code
// across packages without a helper package, which the benchmarks do not
// justify.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Nanoseconds()) }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(at(0.50), "p50-ns/event")
	b.ReportMetric(at(0.99), "p99-ns/event")
	b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds()), "max-ns/event")
}
