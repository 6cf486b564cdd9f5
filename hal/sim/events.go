package sim

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/evsed/evsed/hal"
)

// Event delivery: the model queues its events under its board's lock (emit)
// and Run or Start hands them to the sink outside it, in order. The AC and
// the DC board share this queue.

// maxQueued bounds the events waiting for Run or Start; beyond it new events
// are dropped (and the loss logged), so that a board nobody runs cannot grow
// without bound.
const maxQueued = 4096

// eventQueue is a board's event queue and its delivery to a sink. The zero
// value is ready. It keeps no logger: the board passes itself (a logger)
// where the queue may warn, which costs a fleet of thousands of boards
// nothing per board.
type eventQueue struct {
	qmu     sync.Mutex // guards the fields below
	queue   []hal.Event
	dropped int
	// wake (capacity 1: the queue may be non-empty) is made by the first
	// Run: boards that Start, as the fleet's do, never need it.
	wake chan struct{}
	// sink is the sink of Start, nil unless started; pumping says a pump
	// goroutine is delivering to it (it alone, so events stay in order).
	sink hal.Sink
	// pumpDone, when not nil, is closed when the pump goroutine ends; a
	// stop that has to wait for the pump makes it.
	pumpDone chan struct{}
	gen      uint32 // counts Run and Start calls, so that a stale stop does nothing
	running  bool
	pumping  bool
}

// logger is what a board is to its queue: where its warnings go.
type logger interface {
	logAt(level slog.Level, msg string, args ...any)
}

// Run implements hal.Board. It delivers the events queued before it, then
// reports every connector's current CP state (Detail "initial state"), then
// delivers events in order until ctx ends, and returns nil then. Only one Run
// (or Start) may run at a time; the sink is called from Run's goroutine only.
func (b *Board) Run(ctx context.Context, sink hal.Sink) error {
	return b.events.run(ctx, sink, b.initialStates, b)
}

// Start delivers events to sink as Run does (the queued ones, then every
// connector's current CP state, then each one in order), but from a
// goroutine that runs only while events are pending, rather than from a
// goroutine kept waiting for them: a fleet of thousands of simulated boards,
// each reporting a few events an hour, then costs no goroutine stack for
// them. The sink is called from one goroutine at a time, never with the
// board's locks held, so it may block (a full station inbox).
//
// stop ends the delivery: events that were not handed to the sink stay
// queued, and stop waits for a sink call in progress to return. Only one
// Run or Start may be active at a time; after stop, Run or Start may be
// called again.
func (b *Board) Start(sink hal.Sink) (stop func(), err error) {
	return b.events.start(sink, b.initialStates, b)
}

// initialStates queues every connector's current CP state.
func (b *Board) initialStates() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.conns {
		c := &b.conns[i]
		b.emit(hal.Event{Connector: int(c.id), Kind: hal.PilotChanged, Pilot: c.sensed, Detail: "initial state"})
	}
}

// emit queues e for Run or Start. It never blocks; b.mu is held by the
// caller, so the queue's order is the order of the state changes.
func (b *Board) emit(e hal.Event) { b.events.emit(e, b) }

// run is Board.Run's body: initial queues the boards' initial events, log
// takes the queue's warnings.
func (q *eventQueue) run(ctx context.Context, sink hal.Sink, initial func(), log logger) error {
	if sink == nil {
		return errors.New("hal/sim: nil sink")
	}
	q.qmu.Lock()
	if q.running {
		q.qmu.Unlock()
		return ErrRunning
	}
	q.running = true
	q.gen++
	if q.wake == nil {
		q.wake = make(chan struct{}, 1)
	}
	wake := q.wake
	q.qmu.Unlock()
	defer func() {
		q.qmu.Lock()
		q.running = false
		q.qmu.Unlock()
	}()

	initial()

	for {
		q.qmu.Lock()
		evs, dropped := q.queue, q.dropped
		q.queue, q.dropped = nil, 0
		q.qmu.Unlock()
		if dropped > 0 {
			log.logAt(slog.LevelWarn, "simulated events dropped: queue full", "dropped", dropped)
		}
		for _, e := range evs {
			sink(e)
		}
		if len(evs) > 0 {
			continue // more may have arrived while the sink ran
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		}
	}
}

// start is Board.Start's body.
func (q *eventQueue) start(sink hal.Sink, initial func(), log logger) (stop func(), err error) {
	if sink == nil {
		return nil, errors.New("hal/sim: nil sink")
	}
	q.qmu.Lock()
	if q.running {
		q.qmu.Unlock()
		return nil, ErrRunning
	}
	q.running = true
	q.gen++
	gen := q.gen
	q.sink = sink
	q.qmu.Unlock()

	// The first of these starts the pump, which delivers the events queued
	// before Start ahead of them.
	initial()

	// A closure of q and gen rather than a sync.Once: the generation tells a
	// repeated (or stale) stop, and costs a fleet of boards less.
	return func() { q.stop(gen) }, nil
}

// stop is the stop of the Start that made generation gen: it ends the
// delivery and waits for a sink call in progress. It does nothing once that
// Start was stopped, also after a later Run or Start; a concurrent second
// stop waits as the first one does.
func (q *eventQueue) stop(gen uint32) {
	q.qmu.Lock()
	if q.gen != gen || !q.running {
		q.qmu.Unlock()
		return
	}
	q.sink = nil
	done := q.pumpDone
	if q.pumping && done == nil {
		done = make(chan struct{})
		q.pumpDone = done
	}
	q.qmu.Unlock()
	if done != nil {
		<-done
	}
	q.qmu.Lock()
	if q.gen == gen {
		q.running = false
	}
	q.qmu.Unlock()
}

// startPumpLocked starts the pump goroutine unless it runs; q.qmu is held.
func (q *eventQueue) startPumpLocked(log logger) {
	if q.pumping || q.sink == nil {
		return
	}
	q.pumping = true
	go q.pump(log)
}

// pump hands the queued events to Start's sink, oldest first, one at a
// time (so that stop leaves the rest queued), and ends when the queue is
// empty or Start's stop was called.
func (q *eventQueue) pump(log logger) {
	for {
		q.qmu.Lock()
		sink, dropped := q.sink, q.dropped
		if sink == nil || len(q.queue) == 0 && dropped == 0 {
			q.pumping = false
			if len(q.queue) == 0 {
				q.queue = nil // an idle board keeps no backlog array
			}
			if q.pumpDone != nil {
				close(q.pumpDone)
				q.pumpDone = nil
			}
			q.qmu.Unlock()
			return
		}
		q.dropped = 0
		var e hal.Event
		ok := len(q.queue) > 0
		if ok {
			e = q.queue[0]
			q.queue[0] = hal.Event{}
			q.queue = q.queue[1:]
		}
		q.qmu.Unlock()
		if dropped > 0 {
			log.logAt(slog.LevelWarn, "simulated events dropped: queue full", "dropped", dropped)
		}
		if ok {
			sink(e)
		}
	}
}

// emit queues e. It never blocks; the board's lock is held by the caller,
// so the queue's order is the order of the state changes. log is the
// board, for the pump's warnings.
func (q *eventQueue) emit(e hal.Event, log logger) {
	q.qmu.Lock()
	if len(q.queue) >= maxQueued {
		q.dropped++
	} else {
		q.queue = append(q.queue, e)
	}
	q.startPumpLocked(log)
	wake := q.wake
	q.qmu.Unlock()
	select {
	case wake <- struct{}{}:
	default: // a wake-up is pending already, or nobody Runs
	}
}

// idle reports whether every queued event has been handed to the sink.
func (q *eventQueue) idle() bool {
	q.qmu.Lock()
	defer q.qmu.Unlock()
	return len(q.queue) == 0 && !q.pumping
}
