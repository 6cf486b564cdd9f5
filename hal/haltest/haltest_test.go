package haltest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/physic"
)

func TestLogRecordsAcrossParts(t *testing.T) {
	var log Log
	c := NewConnector(1, &log)
	c.Contactor.Fail("Close", hal.ErrInterlock)
	steps := []struct {
		name string
		call func() error
		err  error
	}{
		{"offer", func() error { return c.Pilot.Offer(16 * physic.Ampere) }, nil},
		{"lock", c.Lock.Lock, nil},
		{"refused close", c.Contactor.Close, hal.ErrInterlock},
		{"show", func() error { return c.Indicator.Show(hal.ShowCharging) }, nil},
		{"open", c.Contactor.Open, nil},
		{"unavailable", c.Pilot.Unavailable, nil},
		{"self-test", func() error { return c.RCD.SelfTest(context.Background()) }, nil},
	}
	for _, s := range steps {
		if err := s.call(); !errors.Is(err, s.err) || (err == nil) != (s.err == nil) {
			t.Fatalf("%s: err = %v, want %v", s.name, err, s.err)
		}
	}
	want := []string{
		"pilot 1 Offer(16A)", "lock 1 Lock", "contactor 1 Close: " + hal.ErrInterlock.Error(),
		"indicator 1 Show(3)", "contactor 1 Open", "pilot 1 Unavailable", "rcd 1 SelfTest",
	}
	if got := log.Strings(); !slices.Equal(got, want) {
		t.Fatalf("log\n%q\nwant\n%q", got, want)
	}
	if c.Contactor.Closed() {
		t.Fatal("a refused Close changed the state")
	}
	if a, unavailable := c.Pilot.Offered(); a != 0 || !unavailable {
		t.Fatalf("Offered() = %v, %v after Unavailable", a, unavailable)
	}
	if !c.Lock.Locked() || c.Indicator.Shown() != hal.ShowCharging {
		t.Fatal("lock or indicator state lost")
	}
	log.Reset()
	if len(log.Calls()) != 0 {
		t.Fatal("Reset kept calls")
	}
}

func TestBoardHaltAndEvents(t *testing.T) {
	var log Log
	c1, c2 := NewConnector(1, &log), NewConnector(2, &log)
	b := NewBoard("fake", c1, c2)
	if err := c1.Contactor.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Halt(); err != nil {
		t.Fatal(err)
	}
	if c1.Contactor.Closed() {
		t.Fatal("Halt left the contactor closed")
	}
	if _, unavailable := c2.Pilot.Offered(); !unavailable {
		t.Fatal("Halt left connector 2's pilot on")
	}

	c1.Pilot.SetState(hal.PilotB)
	b.Emit(hal.Event{Connector: 1, Kind: hal.PilotChanged, Pilot: hal.PilotB}) // before Run: waits
	ev := NewEvents()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, ev.Sink) }()
	b.Emit(hal.Event{Connector: 2, Kind: hal.CardPresented, IDTag: "T1"})
	got := []hal.Event{ev.Next(t), ev.Next(t)}
	if got[0].Pilot != hal.PilotB || got[1].IDTag != "T1" {
		t.Fatalf("events %+v out of order", got)
	}
	if c1.Pilot.State() != hal.PilotB {
		t.Fatal("SetState not seen by State")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
