package station

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/physic"
)

// BenchmarkLimitBoundary measures, on the wall clock, the delay from a
// limit schedule's step boundary to the pilot's new offer: the station's
// timer firing, the inbox hop and the load sharing. Each iteration gives
// the charging connector a schedule whose step lies 5 ms ahead and waits
// for the offer it causes, alternately stopping the PWM (4 A: below 6 A)
// and starting it again (16 A: a PWM that starts is not held back by the
// 5 s rule), so that every step changes the pilot. In virtual time the
// same delay is 0 (TestScheduleReachesThePilot).
func BenchmarkLimitBoundary(b *testing.B) {
	p := &timedPilot{offers: make(chan timedOffer, 16)}
	p.sensed = hal.PilotA
	cfg := DefaultConfig()
	cfg.FreeCharging = true
	hw := hal.Connector{ID: 1, Pilot: p, Contactor: &fakeContactor{id: 1}, MaxCurrent: 32 * physic.Ampere, Phases: 3}
	st, err := New(Options{ID: "bench", Connectors: []ConnectorConfig{{Hardware: hw}}, Config: cfg,
		Clock: clock.Real{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	st.Event(pilotEvent(hal.PilotC)) // the pilot's own State stays A, as at boot
	p.wait(b, 32*physic.Ampere)      // the free session charges

	lat := make([]time.Duration, 0, 1000)
	amps := []physic.ElectricCurrent{4 * physic.Ampere, 16 * physic.Ampere}
	want := []physic.ElectricCurrent{0, 16 * physic.Ampere}
	i := 0
	for b.Loop() {
		at := time.Now().Add(5 * time.Millisecond)
		if err := st.SetLimits(ctx, 1, LimitSchedule{{At: at, Current: amps[i%2]}}); err != nil {
			b.Fatal(err)
		}
		got := p.wait(b, want[i%2])
		lat = append(lat, got.Sub(at))
		i++
	}
	reportLatency(b, lat)
}

// timedOffer is one Offer the timedPilot saw.
type timedOffer struct {
	a  physic.ElectricCurrent
	at time.Time
}

// timedPilot is a fakePilot that stamps every offer on the wall clock.
type timedPilot struct {
	fakePilot
	offers chan timedOffer
	mu     sync.Mutex // guards last
	last   physic.ElectricCurrent
}

func (p *timedPilot) Offer(a physic.ElectricCurrent) error {
	now := time.Now()
	if a < hal.MinOffer {
		a = 0
	}
	p.mu.Lock()
	changed := a != p.last
	p.last = a
	p.mu.Unlock()
	if changed {
		p.offers <- timedOffer{a, now}
	}
	return p.fakePilot.Offer(a)
}

// wait returns when the pilot offers a.
func (p *timedPilot) wait(b *testing.B, a physic.ElectricCurrent) time.Time {
	for {
		select {
		case o := <-p.offers:
			if o.a == a {
				return o.at
			}
		case <-time.After(safetyStuck):
			b.Fatalf("no offer of %v within %v", a, safetyStuck)
		}
	}
}
