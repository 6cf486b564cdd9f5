package station

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/physic"
)

// BenchmarkSafety measures the station's side of the safety rule: the time
// from a hardware event handed to the station (its Sink, as a board's Run
// calls it) until the loop calls Contactor.Open. The driver has its own,
// faster path (hal/sim's BenchmarkSafety); this second layer is what protects
// a board whose driver has none, and it includes the inbox hop and the
// scheduler waking the loop goroutine.
//
// Each iteration is one event; run with -benchtime=10000x for 10,000 events.
// The re-arming between events (back to C, contactor closed again) is not
// timed. ns/op is suppressed because it would mix both.
func BenchmarkSafety(b *testing.B) {
	cases := []struct {
		name    string
		trigger hal.Event // opens the contactor
		rearm   hal.Event // lets it close again
	}{
		{"CtoB", pilotEvent(hal.PilotB), pilotEvent(hal.PilotC)},
		{"CtoE", pilotEvent(hal.PilotE), pilotEvent(hal.PilotC)},
		{"CtoF", pilotEvent(hal.PilotF), pilotEvent(hal.PilotC)},
		{"RCD", hal.Event{Connector: 1, Kind: hal.RCDTripped},
			hal.Event{Connector: 1, Kind: hal.FaultCleared, Cleared: hal.RCDTripped}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			k := &timedContactor{opened: make(chan time.Time, 1), closed: make(chan struct{}, 1)}
			st := safetyStation(b, k)
			// The first C starts a free session; the contactor closes once
			// its start is recorded.
			st.Event(pilotEvent(hal.PilotC))
			k.waitClosed(b)

			lat := make([]time.Duration, 0, 10000)
			for b.Loop() {
				t0 := time.Now()
				st.Event(tc.trigger)
				t1 := k.waitOpened(b)
				lat = append(lat, t1.Sub(t0))
				st.Event(tc.rearm)
				k.waitClosed(b)
			}
			reportLatency(b, lat)
		})
	}
}

func pilotEvent(p hal.PilotState) hal.Event {
	return hal.Event{Connector: 1, Kind: hal.PilotChanged, Pilot: p}
}

// safetyStation runs a one-connector free-charging station with contactor k
// until the benchmark ends. The clock is fake so that no sampling timer
// fires during the measurement; latencies are taken on the wall clock.
func safetyStation(b *testing.B, k *timedContactor) *Station {
	b.Helper()
	cfg := DefaultConfig()
	cfg.FreeCharging = true
	hw := hal.Connector{ID: 1, Pilot: &fakePilot{id: 1, sensed: hal.PilotA}, Contactor: k,
		MaxCurrent: 32 * physic.Ampere, Phases: 3}
	st, err := New(Options{
		ID:         "bench",
		Connectors: []ConnectorConfig{{Hardware: hw}},
		Config:     cfg,
		Clock:      clock.NewFake(t0),
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	})
	return st
}

// safetyStuck only turns a lost command into a failure instead of a hang;
// nothing is asserted about how long a reaction takes.
const safetyStuck = 30 * time.Second

// timedContactor is a hal.Contactor that stamps each Open that opens it
// and signals each Close, so that the benchmark can pair an event with the
// command it caused.
type timedContactor struct {
	opened chan time.Time // capacity 1: the wall time of the last opening Open
	closed chan struct{}  // capacity 1: a Close happened

	mu    sync.Mutex // guards state
	state bool       // commanded closed
}

func (k *timedContactor) String() string { return "bench contactor" }
func (k *timedContactor) Halt() error    { return k.Open() }

func (k *timedContactor) Open() error {
	// Stamp first: the command is issued when the station calls Open.
	now := time.Now()
	k.mu.Lock()
	was := k.state
	k.state = false
	k.mu.Unlock()
	if was {
		select {
		case k.opened <- now:
		default: // nobody is measuring (shutdown)
		}
	}
	return nil
}

func (k *timedContactor) Close() error {
	k.mu.Lock()
	k.state = true
	k.mu.Unlock()
	select {
	case k.closed <- struct{}{}:
	default:
	}
	return nil
}

func (k *timedContactor) Closed() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.state
}

func (k *timedContactor) waitOpened(b *testing.B) time.Time {
	select {
	case t := <-k.opened:
		return t
	case <-time.After(safetyStuck):
		b.Fatalf("contactor not opened within %v", safetyStuck)
		return time.Time{}
	}
}

func (k *timedContactor) waitClosed(b *testing.B) {
	select {
	case <-k.closed:
	case <-time.After(safetyStuck):
		b.Fatalf("contactor not closed within %v", safetyStuck)
	}
}

// reportLatency reports the median, 99th percentile and maximum of lat as
// ns/event metrics, the form scripts/bench reads; it sorts lat. The same
// few lines live in hal/sim's benchmark: test files cannot share code
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
