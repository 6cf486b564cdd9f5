package clock

import (
	"sort"
	"sync"
	"time"
)

// Fake is a virtual clock for tests: time stands still until Advance moves it.
//
// Timers fire in deadline order during Advance. AfterFunc callbacks run
// synchronously inside Advance, on the caller's goroutine, so that a callback
// which posts an event into a state machine's inbox has done so before Advance
// returns; a test that then sends a request through the same inbox observes the
// effects in order. Fake is safe for concurrent use.
type Fake struct {
	mu     sync.Mutex // guards now, timers, seq
	now    time.Time
	timers []*fakeTimer
	seq    uint64
}

var _ Clock = (*Fake)(nil)

// NewFake returns a Fake clock set to start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now implements Clock.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer implements Clock.
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{clock: f, ch: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

// AfterFunc implements Clock.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	t := &fakeTimer{clock: f, fn: fn}
	t.Reset(d)
	return t
}

// Advance moves the clock forward by d, firing every timer whose deadline is
// reached, in deadline order, with Now set to each deadline as it fires.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	end := f.now.Add(d)
	f.mu.Unlock()
	for {
		f.mu.Lock()
		sort.SliceStable(f.timers, func(i, j int) bool {
			if f.timers[i].when.Equal(f.timers[j].when) {
				return f.timers[i].seq < f.timers[j].seq
			}
			return f.timers[i].when.Before(f.timers[j].when)
		})
		if len(f.timers) == 0 || f.timers[0].when.After(end) {
			f.now = end
			f.mu.Unlock()
			return
		}
		t := f.timers[0]
		f.timers = f.timers[1:]
		t.pending = false
		if t.when.After(f.now) {
			f.now = t.when
		}
		now := f.now
		f.mu.Unlock()
		if t.fn != nil {
			t.fn()
		} else {
			select {
			case t.ch <- now:
			default: // like time.Timer, a full channel drops the tick
			}
		}
	}
}

// Set moves the clock to t (forward only), firing due timers like Advance.
func (f *Fake) Set(t time.Time) {
	if d := t.Sub(f.Now()); d > 0 {
		f.Advance(d)
	}
}

// Pending returns the number of timers waiting to fire: tests use it to know
// that a goroutine has armed its timer before they advance the clock.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

type fakeTimer struct {
	clock   *Fake
	ch      chan time.Time
	fn      func()
	when    time.Time
	seq     uint64
	pending bool // guarded by clock.mu
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	f := t.clock
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.remove(t)
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	f := t.clock
	f.mu.Lock()
	defer f.mu.Unlock()
	was := f.remove(t)
	f.seq++
	t.when, t.seq, t.pending = f.now.Add(d), f.seq, true
	f.timers = append(f.timers, t)
	return was
}

// remove takes t out of the pending list; f.mu must be held.
func (f *Fake) remove(t *fakeTimer) bool {
	if !t.pending {
		return false
	}
	for i, x := range f.timers {
		if x == t {
			f.timers = append(f.timers[:i], f.timers[i+1:]...)
			break
		}
	}
	t.pending = false
	return true
}
