package sim

import (
	"context"
	"errors"
	"sync"

	"github.com/evsed/evsed/hal"
)

// Event delivery: the model queues its events under the board's lock (emit)
// and Run or Start hands them to the sink outside it, in order.

// maxQueued bounds the events waiting for Run or Start; beyond it new events
// are dropped (and the loss logged), so that a board nobody runs cannot grow
// without bound.
const maxQueued = 4096

// Run implements hal.Board. It delivers the events queued before it, then
// reports every connector's current CP state (Detail "initial state"), then
// delivers events in order until ctx ends, and returns nil then. Only one Run
// (or Start) may run at a time; the sink is called from Run's goroutine only.
func (b *Board) Run(ctx context.Context, sink hal.Sink) error {
	if sink == nil {
		return errors.New("hal/sim: nil sink")
	}
	b.qmu.Lock()
	if b.running {
		b.qmu.Unlock()
		return ErrRunning
	}
	b.running = true
	b.qmu.Unlock()
	defer func() {
		b.qmu.Lock()
		b.running = false
		b.qmu.Unlock()
	}()

	b.mu.Lock()
	for _, c := range b.conns {
		b.emit(hal.Event{Connector: c.id, Kind: hal.PilotChanged, Pilot: c.sensed, Detail: "initial state"})
	}
	b.mu.Unlock()

	for {
		b.qmu.Lock()
		evs, dropped := b.queue, b.dropped
		b.queue, b.dropped = nil, 0
		b.qmu.Unlock()
		if dropped > 0 {
			b.log.Warn("simulated events dropped: queue full", "dropped", dropped)
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
		case <-b.wake:
		}
	}
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
	if sink == nil {
		return nil, errors.New("hal/sim: nil sink")
	}
	b.qmu.Lock()
	if b.running {
		b.qmu.Unlock()
		return nil, ErrRunning
	}
	b.running = true
	b.sink = sink
	b.qmu.Unlock()

	// The first of these starts the pump, which delivers the events queued
	// before Start ahead of them.
	b.mu.Lock()
	for _, c := range b.conns {
		b.emit(hal.Event{Connector: c.id, Kind: hal.PilotChanged, Pilot: c.sensed, Detail: "initial state"})
	}
	b.mu.Unlock()

	var once sync.Once
	return func() {
		once.Do(func() {
			b.qmu.Lock()
			b.sink = nil
			b.qmu.Unlock()
			b.pumpWG.Wait()
			b.qmu.Lock()
			b.running = false
			b.qmu.Unlock()
		})
	}, nil
}

// startPumpLocked starts the pump goroutine unless it runs; b.qmu is held.
func (b *Board) startPumpLocked() {
	if b.pumping || b.sink == nil {
		return
	}
	b.pumping = true
	b.pumpWG.Add(1)
	go b.pump()
}

// pump hands the queued events to Start's sink, oldest first, one at a
// time (so that stop leaves the rest queued), and ends when the queue is
// empty or Start's stop was called.
func (b *Board) pump() {
	defer b.pumpWG.Done()
	for {
		b.qmu.Lock()
		sink, dropped := b.sink, b.dropped
		if sink == nil || len(b.queue) == 0 && dropped == 0 {
			b.pumping = false
			if len(b.queue) == 0 {
				b.queue = nil // an idle board keeps no backlog array
			}
			b.qmu.Unlock()
			return
		}
		b.dropped = 0
		var e hal.Event
		ok := len(b.queue) > 0
		if ok {
			e = b.queue[0]
			b.queue[0] = hal.Event{}
			b.queue = b.queue[1:]
		}
		b.qmu.Unlock()
		if dropped > 0 {
			b.log.Warn("simulated events dropped: queue full", "dropped", dropped)
		}
		if ok {
			sink(e)
		}
	}
}

// emit queues e for Run or Start. It never blocks; b.mu is held by the
// caller, so the queue's order is the order of the state changes.
func (b *Board) emit(e hal.Event) {
	b.qmu.Lock()
	if len(b.queue) >= maxQueued {
		b.dropped++
	} else {
		b.queue = append(b.queue, e)
	}
	b.startPumpLocked()
	b.qmu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}
