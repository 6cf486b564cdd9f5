// Package pilottest provides fakes for testing code built on package pilot:
// a scripted analog Channel standing in for the CP/PP front end and its ADC
// (this project's test machines have no ADC), and a helper that steps a fake
// clock one sampler period at a time.
package pilottest

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"periph.io/x/conn/v3/physic"
)

// ErrADC is what a Channel returns for a scripted failure (Fail).
var ErrADC = errors.New("pilottest: scripted ADC failure")

// Channel is a fake pilot.Channel. Each Read returns the next voltage of the
// script, then the last one for ever; Set replaces the script with one
// value. It is safe for concurrent use.
type Channel struct {
	mu     sync.Mutex // guards the fields below
	script []physic.ElectricPotential
	fail   bool
	reads  int
}

// NewChannel returns a Channel playing vs.
func NewChannel(vs ...physic.ElectricPotential) *Channel {
	return &Channel{script: vs}
}

// Play appends vs to the script.
func (c *Channel) Play(vs ...physic.ElectricPotential) {
	c.mu.Lock()
	c.script = append(c.script, vs...)
	c.mu.Unlock()
}

// Set makes every further Read return v.
func (c *Channel) Set(v physic.ElectricPotential) {
	c.mu.Lock()
	c.script, c.fail = []physic.ElectricPotential{v}, false
	c.mu.Unlock()
}

// Fail makes Reads fail with ErrADC until the next Set.
func (c *Channel) Fail() {
	c.mu.Lock()
	c.fail = true
	c.mu.Unlock()
}

// Reads returns how many Reads there were.
func (c *Channel) Reads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads
}

// Read implements pilot.Channel.
func (c *Channel) Read(ctx context.Context) (physic.ElectricPotential, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	if c.fail {
		return 0, ErrADC
	}
	if len(c.script) == 0 {
		return 0, nil
	}
	v := c.script[0]
	if len(c.script) > 1 {
		c.script = c.script[1:]
	}
	return v, nil
}

// TB is the part of testing.TB the helpers use.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// WaitTimers waits until clk has exactly n pending timers: the samplers
// under test have taken their sample and re-armed. It gives up (failing
// the test) after a generous wall-clock grace, which only a hung sampler
// reaches; it is a synchronization, not a timing assertion.
func WaitTimers(t TB, clk *clock.Fake, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for clk.Pending() != n {
		if time.Now().After(deadline) {
			t.Fatalf("pilottest: %d pending timers, want %d", clk.Pending(), n)
		}
		runtime.Gosched()
	}
}

// Step advances clk by d, k times, each time after the n samplers have
// re-armed their timers, and returns once they have handled the last tick.
func Step(t TB, clk *clock.Fake, n, k int, d time.Duration) {
	t.Helper()
	for range k {
		WaitTimers(t, clk, n)
		clk.Advance(d)
	}
	WaitTimers(t, clk, n)
}
