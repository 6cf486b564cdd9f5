package sim

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/haltest"
	"periph.io/x/conn/v3/physic"
)

// Start delivers what Run would, in the same order, refuses to run twice,
// and after stop keeps later events queued for the next Start.
func TestStart(t *testing.T) {
	b, err := New(Options{Clock: clock.NewFake(t0), Connectors: 2, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Plug(2); err != nil { // before Start: the event waits
		t.Fatal(err)
	}
	ev := haltest.NewEvents()
	var firstCalls atomic.Int32
	stop, err := b.Start(func(e hal.Event) {
		firstCalls.Add(1)
		ev.Sink(e)
	})
	if err != nil {
		t.Fatal(err)
	}
	got := ev.Until(t, func(e hal.Event) bool { return e.Connector == 2 && e.Detail == "initial state" })
	want := []hal.Event{
		{Connector: 2, Kind: hal.PilotChanged, Pilot: hal.PilotB},
		{Connector: 1, Kind: hal.PilotChanged, Pilot: hal.PilotA, Detail: "initial state"},
		{Connector: 2, Kind: hal.PilotChanged, Pilot: hal.PilotB, Detail: "initial state"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	if _, err := b.Start(ev.Sink); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Start: err = %v, want ErrRunning", err)
	}
	if err := b.Run(context.Background(), ev.Sink); !errors.Is(err, ErrRunning) {
		t.Fatalf("Run while started: err = %v, want ErrRunning", err)
	}
	if err := b.Swipe(1, "live"); err != nil {
		t.Fatal(err)
	}
	if e := ev.Next(t); e.Kind != hal.CardPresented || e.IDTag != "live" {
		t.Fatalf("event %+v, want the card live", e)
	}

	stop()
	stop() // a second stop does nothing
	if err := b.Swipe(1, "later"); err != nil {
		t.Fatal(err)
	}
	other := haltest.NewEvents()
	stop2, err := b.Start(other.Sink)
	if err != nil {
		t.Fatalf("Start after stop: %v", err)
	}
	defer stop2()
	if e := other.Next(t); e.Kind != hal.CardPresented || e.IDTag != "later" {
		t.Fatalf("first event after restart %+v, want the card swiped while stopped", e)
	}
	if n := firstCalls.Load(); n != 4 {
		t.Errorf("the first sink was called %d times, want 4 (none after stop)", n)
	}
}

// The deadlock rule holds with Start as with Run: a sink that commands the
// contactor synchronously works, since the sink is never called with the
// board's locks held.
func TestStartSinkMayCallBack(t *testing.T) {
	b, err := New(Options{Clock: clock.NewFake(t0), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	k := b.Connectors()[0].Contactor
	var closes atomic.Int32
	ev := haltest.NewEvents()
	stop, err := b.Start(func(e hal.Event) {
		if e.Kind == hal.PilotChanged && e.Pilot == hal.PilotC {
			if err := k.Close(); err == nil {
				closes.Add(1)
			}
		}
		ev.Sink(e)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	waitInitial(t, b, ev)
	for _, f := range []func() error{
		func() error { return b.Plug(1) },
		func() error { return b.Charge(1) },
		func() error { return b.Connectors()[0].Pilot.Offer(16 * physic.Ampere) },
		func() error { return b.Swipe(1, "end") },
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	ev.Until(t, func(e hal.Event) bool { return e.Kind == hal.CardPresented })
	if closes.Load() != 1 || !k.Closed() {
		t.Fatalf("sink closed the contactor %d times, closed=%v; want once, true", closes.Load(), k.Closed())
	}
}
