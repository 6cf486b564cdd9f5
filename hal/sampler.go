package hal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evsed/evsed/clock"
)

// Drivers poll their inputs rather than wait for edges: a missed edge cannot
// hide a fault, and a poll on the injected clock runs in virtual time in
// tests. The two helpers below are what every polling driver shares: a
// Sampler for the loop (one timer, one goroutine, events in order) and a
// Debouncer for the decision (a new value after N equal samples). What a
// sample reads and which values need confirmation stays with the driver.

// Sampler calls a sampling function every Period on Clock and hands the
// events each sample returns to a Sink. The zero value is not usable: Period
// must be positive.
type Sampler struct {
	// Period is the time between samples.
	Period time.Duration
	// Rest says how Period is counted. False: from the start of one sample
	// to the start of the next, so the rate holds whatever a sample's reads
	// cost, and a sample slower than Period is followed at once (an ADC
	// sampling the CP). True: from the end of one sample, so every sample is
	// followed by a full Period of rest (a card reader whose read blocks
	// while it waits for a card).
	Rest bool
	// Clock times the samples; nil means the wall clock.
	Clock clock.Clock
}

// Run calls sample every Period until ctx ends, and returns nil then. It
// samples on the calling goroutine, so callers start it with go; the first
// sample is taken one Period after Run starts. The events a sample returns
// go to sink in order, from that goroutine, before the next sample; sample
// and sink are never called concurrently with each other or themselves, and
// never after Run returned. A sample in progress when ctx ends is finished
// and the events it returns are delivered; it gets ctx so that a blocking
// read can give up early (and return none).
//
// Run keeps exactly one Clock timer, armed while it waits between samples
// and stopped when it returns: tests stepping a clock.Fake wait for it to be
// pending before they advance. It returns an error at once, without
// sampling, for a non-positive Period or a nil sink or sample.
func (s Sampler) Run(ctx context.Context, sink Sink, sample func(ctx context.Context) []Event) error {
	if s.Period <= 0 {
		return fmt.Errorf("hal: sample period %v, want > 0", s.Period)
	}
	if sink == nil || sample == nil {
		return errors.New("hal: sampler needs a sink and a sample function")
	}
	clk := clock.Or(s.Clock)
	t := clk.NewTimer(s.Period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		}
		start := clk.Now()
		for _, e := range sample(ctx) {
			sink(e)
		}
		next := s.Period
		if !s.Rest {
			next = max(s.Period-clk.Now().Sub(start), 0)
		}
		t.Reset(next)
	}
}

// Debouncer settles a sampled value: it takes a new value only after N equal
// consecutive samples of it, so that noise at a threshold, a contact's
// bounce or one bad read does not change what a driver reports. Break and
// Set cover the samples that are not simply counted: a reading that fits no
// value, and a value that needs no confirmation.
//
// A Debouncer is a value with no goroutine or lock of its own: it belongs to
// the goroutine that samples (or to the lock that guards its owner). The
// zero value holds T's zero value and takes every sample at once (N 1).
type Debouncer[T comparable] struct {
	n     int // samples needed; < 1 counts as 1
	value T   // the settled value
	cand  T   // the value of the current run of equal samples
	run   int // its length, at most n; 0: no run
}

// NewDebouncer returns a Debouncer holding initial that takes a new value
// after n equal consecutive samples; n < 1 counts as 1, which makes the
// Debouncer a change detector.
func NewDebouncer[T comparable](initial T, n int) Debouncer[T] {
	return Debouncer[T]{n: n, value: initial, cand: initial}
}

// Sample counts one sample of v and reports whether it changed the settled
// value: it did when this was the N-th equal sample in a row and v differs
// from the value. A sample equal to the value still counts, so that a run
// towards another value is broken by it.
func (d *Debouncer[T]) Sample(v T) bool {
	n := max(d.n, 1)
	if d.run == 0 || v != d.cand {
		d.cand, d.run = v, 0
	}
	if d.run < n {
		d.run++
	}
	if d.run < n || v == d.value {
		return false
	}
	d.value = v
	return true
}

// Break ends the current run of equal samples and keeps the value: for a
// sample that fits no value (a CP voltage between bands), or a pause in the
// sampling (the diode check while no PWM runs). The next sample starts a new
// run.
func (d *Debouncer[T]) Break() { d.run = 0 }

// Set takes v at once, without confirming samples, ends the current run and
// reports whether the value changed: for values that are facts as soon as
// they are read (a card's UID) and for a decision made elsewhere (an ADC
// that keeps failing makes the CP state unknown).
func (d *Debouncer[T]) Set(v T) bool {
	d.run = 0
	if v == d.value {
		return false
	}
	d.value = v
	return true
}

// Value returns the settled value.
func (d *Debouncer[T]) Value() T { return d.value }
