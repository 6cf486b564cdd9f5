package haltest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/evsed/evsed/hal"
)

// Board is a fake hal.Board over fake connectors: the test emits events,
// Run delivers them to the sink.
type Board struct {
	name  string
	conns []hal.Connector

	mu      sync.Mutex // guards pending and sink
	pending []hal.Event
	sink    hal.Sink // the running Run's sink; nil when not running
}

var _ hal.Board = (*Board)(nil)

// NewBoard returns a Board named name with the connectors of cs, in order.
func NewBoard(name string, cs ...*Connector) *Board {
	b := &Board{name: name}
	for _, c := range cs {
		b.conns = append(b.conns, c.HAL())
	}
	return b
}

// String implements hal.Resource.
func (b *Board) String() string { return "board " + b.name }

// Name implements hal.Board.
func (b *Board) Name() string { return b.name }

// Connectors implements hal.Board.
func (b *Board) Connectors() []hal.Connector { return b.conns }

// Halt implements hal.Board: it halts every part of every connector.
func (b *Board) Halt() error {
	var errs []error
	for _, c := range b.conns {
		for _, r := range []hal.Resource{c.Contactor, c.Pilot, c.Lock, c.RCD, c.Indicator} {
			errs = append(errs, r.Halt())
		}
	}
	return errors.Join(errs...)
}

// Emit reports e: to the running Run's sink, synchronously on the caller's
// goroutine, or, when Run is not running, once it runs, in order.
func (b *Board) Emit(e hal.Event) {
	b.mu.Lock()
	sink := b.sink
	if sink == nil {
		b.pending = append(b.pending, e)
	}
	b.mu.Unlock()
	if sink != nil {
		sink(e)
	}
}

// Run implements hal.Board: it delivers the events emitted so far, then
// those emitted until ctx ends.
func (b *Board) Run(ctx context.Context, sink hal.Sink) error {
	if sink == nil {
		return errors.New("haltest: nil sink")
	}
	for {
		b.mu.Lock()
		evs := b.pending
		b.pending = nil
		if len(evs) == 0 {
			if b.sink != nil {
				b.mu.Unlock()
				return errors.New("haltest: board already running")
			}
			b.sink = sink
			b.mu.Unlock()
			break
		}
		b.mu.Unlock()
		for _, e := range evs {
			sink(e)
		}
	}
	<-ctx.Done()
	b.mu.Lock()
	b.sink = nil
	b.mu.Unlock()
	return nil
}

// Events records the events a board reports, for tests. Use its Sink method
// as the hal.Sink; it buffers up to 1024 events without blocking the board.
type Events struct {
	ch chan hal.Event
}

// NewEvents returns an empty recorder.
func NewEvents() *Events { return &Events{ch: make(chan hal.Event, 1024)} }

// Sink records e; it is a hal.Sink. A full buffer blocks the board, which a
// test that reads its events never reaches.
func (r *Events) Sink(e hal.Event) { r.ch <- e }

// StuckAfter bounds how long Next waits before failing the test: events
// arrive from another goroutine, and no event at all means a hang (a
// deadlock, a missing emit), not a slow machine.
const StuckAfter = 30 * time.Second

// Next returns the next event, failing t if none arrives within StuckAfter.
func (r *Events) Next(t TB) hal.Event {
	t.Helper()
	select {
	case e := <-r.ch:
		return e
	case <-time.After(StuckAfter):
		t.Fatalf("haltest: no event within %v", StuckAfter)
		return hal.Event{}
	}
}

// Until returns the events up to and including the first one for which
// stop returns true, failing t as Next does.
func (r *Events) Until(t TB, stop func(hal.Event) bool) []hal.Event {
	t.Helper()
	var out []hal.Event
	for {
		e := r.Next(t)
		out = append(out, e)
		if stop(e) {
			return out
		}
	}
}

// TB is the part of testing.TB that Events uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}
