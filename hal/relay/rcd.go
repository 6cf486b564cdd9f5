package relay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/gpio"
)

// RCDOptions configure an RCD.
type RCDOptions struct {
	// Connector is the 1-based connector ID the events carry.
	Connector int
	// Fault reads the RCD module's fault output. Required.
	Fault gpio.PinIn
	// FaultActive is the level meaning "tripped".
	FaultActive gpio.Level
	// Test drives the module's self-test input; nil means none (SelfTest
	// then succeeds at once).
	Test gpio.PinOut
	// TestActive is the level that injects the test current.
	TestActive gpio.Level
	// TestTimeout bounds each half of the self-test (trip, then clear); 0
	// means 500 ms.
	TestTimeout time.Duration
	// Interlock is the contactor opened on a trip, before the event is
	// reported; nil means none.
	Interlock Opener
	// Clock times the self-test; nil means the wall clock.
	Clock clock.Clock
}

// selfTestStep is how often SelfTest reads the fault input.
const selfTestStep = time.Millisecond

// RCD is a residual current monitor behind GPIO. It is safe for concurrent
// use.
type RCD struct {
	conn      int
	name      string
	fault     gpio.PinIn
	faultAct  gpio.Level
	test      gpio.PinOut
	testAct   gpio.Level
	timeout   time.Duration
	interlock Opener
	clk       clock.Clock

	mu       sync.Mutex          // guards reported and testing
	reported hal.Debouncer[bool] // a trip was reported and not yet cleared
	testing  bool                // SelfTest runs: Poll ignores the input
}

var (
	_ hal.RCD = (*RCD)(nil)
	_ Poller  = (*RCD)(nil)
)

// NewRCD configures the input and releases the test output.
func NewRCD(o RCDOptions) (*RCD, error) {
	if o.Fault == nil {
		return nil, errors.New("relay: RCD needs a fault input")
	}
	if o.TestTimeout == 0 {
		o.TestTimeout = 500 * time.Millisecond
	}
	r := &RCD{
		conn: o.Connector, name: fmt.Sprintf("connector %d RCD", o.Connector),
		fault: o.Fault, faultAct: o.FaultActive, test: o.Test, testAct: o.TestActive,
		timeout: o.TestTimeout, interlock: o.Interlock, clk: clock.Or(o.Clock),
		reported: hal.NewDebouncer(false, changeOnly),
	}
	if err := r.fault.In(gpio.PullNoChange, gpio.NoEdge); err != nil {
		return nil, fmt.Errorf("%s: fault input: %w", r.name, err)
	}
	if r.test != nil {
		if err := r.test.Out(inactive(r.testAct)); err != nil {
			return nil, fmt.Errorf("%s: test output: %w", r.name, err)
		}
	}
	return r, nil
}

// String implements hal.Resource.
func (r *RCD) String() string { return r.name }

// Halt implements hal.RCD: the test output is released.
func (r *RCD) Halt() error {
	if r.test == nil {
		return nil
	}
	return r.test.Out(inactive(r.testAct))
}

// Tripped implements hal.RCD: the fault input's level now.
func (r *RCD) Tripped() bool { return r.fault.Read() == r.faultAct }

// Poll implements Poller: a trip opens the interlocked contactor and reports
// RCDTripped; its end reports FaultCleared.
func (r *RCD) Poll() []hal.Event {
	tripped := r.Tripped()
	r.mu.Lock()
	if r.testing || !r.reported.Sample(tripped) {
		r.mu.Unlock()
		return nil
	}
	r.mu.Unlock()
	if !tripped {
		return []hal.Event{{Connector: r.conn, Kind: hal.FaultCleared, Cleared: hal.RCDTripped, Detail: "RCD fault input cleared"}}
	}
	if r.interlock != nil {
		_ = r.interlock.Open() // its own errors are the contactor's to report
	}
	return []hal.Event{{Connector: r.conn, Kind: hal.RCDTripped, Detail: "RCD fault input active"}}
}

// SelfTest implements hal.RCD: it drives the test output, expects the fault
// input to trip within TestTimeout, releases the output and expects the
// input to clear within TestTimeout. The trip it causes is not reported. It
// must not run during a session (it opens nothing, but trips the RCD).
func (r *RCD) SelfTest(ctx context.Context) error {
	if r.test == nil {
		return nil
	}
	r.mu.Lock()
	if r.testing {
		r.mu.Unlock()
		return fmt.Errorf("%s: self-test already running", r.name)
	}
	r.testing = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.testing = false
		r.mu.Unlock()
	}()
	if r.Tripped() {
		return fmt.Errorf("%s: %w: tripped before the test", r.name, ErrSelfTest)
	}
	if err := r.test.Out(r.testAct); err != nil {
		return fmt.Errorf("%s: test output: %w", r.name, err)
	}
	tripErr := r.await(ctx, true)
	if err := r.test.Out(inactive(r.testAct)); err != nil {
		return fmt.Errorf("%s: test output: %w", r.name, err)
	}
	if tripErr != nil {
		return tripErr
	}
	return r.await(ctx, false)
}

// await polls the fault input until it reads tripped, for at most timeout.
func (r *RCD) await(ctx context.Context, tripped bool) error {
	deadline := r.clk.Now().Add(r.timeout)
	for r.Tripped() != tripped {
		if !r.clk.Now().Before(deadline) {
			what := "did not trip"
			if !tripped {
				what = "did not clear"
			}
			return fmt.Errorf("%s: %w: %s within %v", r.name, ErrSelfTest, what, r.timeout)
		}
		if err := wait(ctx, r.clk, selfTestStep); err != nil {
			return err
		}
	}
	return nil
}
