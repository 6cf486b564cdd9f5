package station

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/physic"
)

// fakeBoard hands its Sink to the test and records Halt.
type fakeBoard struct {
	conns  []hal.Connector
	sinks  chan hal.Sink
	mu     sync.Mutex // guards halted
	halted bool
}

func (b *fakeBoard) String() string              { return "fake board" }
func (b *fakeBoard) Name() string                { return "fake" }
func (b *fakeBoard) Connectors() []hal.Connector { return b.conns }
func (b *fakeBoard) Halt() error                 { b.mu.Lock(); b.halted = true; b.mu.Unlock(); return nil }
func (b *fakeBoard) Run(ctx context.Context, sink hal.Sink) error {
	b.sinks <- sink
	<-ctx.Done()
	return nil
}

// With Options.Board, Run runs the board with the station as its Sink and
// halts it on return; a station-wide card reader starts and stops sessions.
func TestBoardAndSharedReader(t *testing.T) {
	p1, p2 := &fakePilot{id: 1, sensed: hal.PilotA}, &fakePilot{id: 2, sensed: hal.PilotA}
	c1, c2 := &fakeContactor{id: 1}, &fakeContactor{id: 2}
	b := &fakeBoard{sinks: make(chan hal.Sink, 1), conns: []hal.Connector{
		{ID: 1, Pilot: p1, Contactor: c1, MaxCurrent: 16 * physic.Ampere},
		{ID: 2, Pilot: p2, Contactor: c2, MaxCurrent: 16 * physic.Ampere},
	}}
	rep := &recReporter{}
	st, err := New(Options{
		Connectors: []ConnectorConfig{{Hardware: b.conns[0]}, {Hardware: b.conns[1]}},
		Board:      b, Reporter: rep, Config: DefaultConfig(),
		Clock: clock.NewFake(t0), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	sink := <-b.sinks
	r := &rig{t: t, st: st, rep: rep}

	p2.set(hal.PilotC)
	sink(hal.Event{Connector: 2, Kind: hal.PilotChanged, Pilot: hal.PilotC})
	sink(hal.Event{Connector: 0, Kind: hal.CardPresented, IDTag: "A"})
	r.settle()
	if !c2.Closed() || c1.Closed() {
		t.Fatalf("shared reader: contactors %v %v, want only 2 closed", c1.Closed(), c2.Closed())
	}
	if off := p2.pwm(); off != 16*physic.Ampere {
		t.Errorf("offered %v, want the connector's 16 A", off)
	}
	sink(hal.Event{Connector: 0, Kind: hal.CardPresented, IDTag: "A"})
	r.settle()
	if c2.Closed() {
		t.Error("same token at the shared reader did not stop the session")
	}
	if ends := rep.endsCopy(); len(ends) != 1 || ends[0].Connector != 2 || ends[0].Reason != ReasonLocal {
		t.Errorf("ends %+v", ends)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.halted {
		t.Error("board not halted")
	}
}

func TestNewValidates(t *testing.T) {
	pilot, cont := &fakePilot{}, &fakeContactor{}
	ok := hal.Connector{ID: 1, Pilot: pilot, Contactor: cont, MaxCurrent: 16 * physic.Ampere}
	tests := []struct {
		name  string
		conns []ConnectorConfig
		ok    bool
	}{
		{"none", nil, false},
		{"good", []ConnectorConfig{{Hardware: ok}}, true},
		{"wrong id", []ConnectorConfig{{Hardware: hal.Connector{ID: 2, Pilot: pilot, Contactor: cont, MaxCurrent: 16 * physic.Ampere}}}, false},
		{"no max current", []ConnectorConfig{{Hardware: hal.Connector{ID: 1, Pilot: pilot, Contactor: cont}}}, false},
		{"no contactor", []ConnectorConfig{{Hardware: hal.Connector{ID: 1, Pilot: pilot, MaxCurrent: 16 * physic.Ampere}}}, false},
	}
	for _, tc := range tests {
		if _, err := New(Options{Connectors: tc.conns}); (err == nil) != tc.ok {
			t.Errorf("%s: New error %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
