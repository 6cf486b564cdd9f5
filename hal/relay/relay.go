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

// Errors of the parts, wrapped with detail; test with errors.Is.
var (
	// ErrSelfTest means the RCD did not trip, or did not clear, during its
	// self-test.
	ErrSelfTest = errors.New("relay: RCD self-test failed")
	// ErrLockFailed means the lock feedback disagrees with the command.
	ErrLockFailed = errors.New("relay: lock feedback disagrees")
)

// Poller is a part with inputs to watch. Poll reads them and returns the
// events of what changed since the last Poll; it is called from one
// goroutine at a time.
type Poller interface {
	Poll() []hal.Event
}

// Watch polls parts every period on clk until ctx ends, sending their events
// to sink from its goroutine; it returns nil then. It is a hal.Sampler at a
// fixed rate: the period bounds how late an RCD trip or a weld is seen, and
// one poll of every part costs a few pin reads.
func Watch(ctx context.Context, clk clock.Clock, period time.Duration, sink hal.Sink, parts ...Poller) error {
	if period <= 0 {
		return fmt.Errorf("relay: poll period %v", period)
	}
	s := hal.Sampler{Period: period, Clock: clk}
	return s.Run(ctx, sink, func(context.Context) []hal.Event {
		var evs []hal.Event
		for _, p := range parts {
			evs = append(evs, p.Poll()...)
		}
		return evs
	})
}

// changeOnly is the debounce of every relay input: a Debouncer of one
// sample, which reports each change once. One poll that reads a trip, a
// weld or a released lock reports it; waiting for a second would add a poll
// period to the reaction, and the parts already ignore their inputs while a
// command settles.
const changeOnly = 1

// Opener is what an interlock needs of a contactor; hal.Contactor has it.
type Opener interface {
	Open() error
}

// inactive is the other level.
func inactive(active gpio.Level) gpio.Level { return !active }

// wait blocks for d on clk, or until ctx ends.
func wait(ctx context.Context, clk clock.Clock, d time.Duration) error {
	t := clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}

// PilotState is what the contactor's interlock needs of the pilot driver;
// hal.Pilot has it.
type PilotState interface {
	State() hal.PilotState
}

// ContactorOptions configure a Contactor.
type ContactorOptions struct {
	// Connector is the 1-based connector ID the events carry.
	Connector int
	// Out drives the relay coil. Required.
	Out gpio.PinOut
	// Active is the level that closes the contactor.
	Active gpio.Level
	// Feedback reads the mirror contact; nil means none (no weld detection).
	Feedback gpio.PinIn
	// FeedbackActive is the feedback level meaning "closed".
	FeedbackActive gpio.Level
	// Settle is how long feedback may lag a command before a disagreement
	// counts; 0 means 100 ms.
	Settle time.Duration
	// Pilot is the connector's sensed pilot: Close is refused unless it is
	// in C or D. Required: a contactor without an interlock is a board
	// file mistake.
	Pilot PilotState
	// Clock times Settle; nil means the wall clock.
	Clock clock.Clock
}

// Contactor is a relay-driven contactor. It is safe for concurrent use.
type Contactor struct {
	conn   int
	name   string
	out    gpio.PinOut
	active gpio.Level
	fb     gpio.PinIn
	fbAct  gpio.Level
	settle time.Duration
	pilot  PilotState
	clk    clock.Clock

	mu     sync.Mutex                   // guards the fields below
	closed bool                         // commanded state
	since  time.Time                    // when the command last changed
	fault  hal.Debouncer[hal.EventKind] // reported feedback fault: 0, ContactorWelded or ContactorFailed
}

var (
	_ hal.Contactor = (*Contactor)(nil)
	_ Poller        = (*Contactor)(nil)
)

// NewContactor drives the relay open and configures the feedback input.
func NewContactor(o ContactorOptions) (*Contactor, error) {
	if o.Out == nil || o.Pilot == nil {
		return nil, errors.New("relay: contactor needs an output pin and a pilot interlock")
	}
	if o.Settle == 0 {
		o.Settle = 100 * time.Millisecond
	}
	c := &Contactor{
		conn: o.Connector, name: fmt.Sprintf("connector %d contactor", o.Connector),
		out: o.Out, active: o.Active, fb: o.Feedback, fbAct: o.FeedbackActive,
		settle: o.Settle, pilot: o.Pilot, clk: clock.Or(o.Clock),
		fault: hal.NewDebouncer[hal.EventKind](0, changeOnly),
	}
	c.since = c.clk.Now()
	if err := c.out.Out(inactive(c.active)); err != nil {
		return nil, fmt.Errorf("%s: open: %w", c.name, err)
	}
	if c.fb != nil {
		if err := c.fb.In(gpio.PullNoChange, gpio.NoEdge); err != nil {
			return nil, fmt.Errorf("%s: feedback input: %w", c.name, err)
		}
	}
	return c, nil
}

// String implements hal.Resource.
func (c *Contactor) String() string { return c.name }

// Close implements hal.Contactor. It refuses with hal.ErrInterlock while the
// pilot is not in C or D, and while the contactor is reported welded.
func (c *Contactor) Close() error {
	if s := c.pilot.State(); !s.VehicleReady() {
		return fmt.Errorf("%s: pilot in %v: %w", c.name, s, hal.ErrInterlock)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fault.Value() == hal.ContactorWelded {
		return fmt.Errorf("%s: welded: %w", c.name, hal.ErrInterlock)
	}
	if err := c.out.Out(c.active); err != nil {
		return fmt.Errorf("%s: close: %w", c.name, err)
	}
	if !c.closed {
		c.closed, c.since = true, c.clk.Now()
	}
	return nil
}

// Open implements hal.Contactor.
func (c *Contactor) Open() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.closed, c.since = false, c.clk.Now()
	}
	if err := c.out.Out(inactive(c.active)); err != nil {
		return fmt.Errorf("%s: open: %w", c.name, err)
	}
	return nil
}

// Halt implements hal.Contactor: it opens.
func (c *Contactor) Halt() error { return c.Open() }

// Closed implements hal.Contactor.
func (c *Contactor) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// FeedbackClosed reports what the mirror contact says, and false without
// feedback.
func (c *Contactor) FeedbackClosed() bool {
	return c.fb != nil && c.fb.Read() == c.fbAct
}

// Poll implements Poller: once Settle has passed since the last command, a
// feedback that disagrees reports ContactorWelded (commanded open) or
// ContactorFailed (commanded closed); agreement again reports FaultCleared.
func (c *Contactor) Poll() []hal.Event {
	if c.fb == nil {
		return nil
	}
	fb := c.FeedbackClosed()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clk.Now().Sub(c.since) < c.settle {
		return nil
	}
	var now hal.EventKind
	switch {
	case !c.closed && fb:
		now = hal.ContactorWelded
	case c.closed && !fb:
		now = hal.ContactorFailed
	}
	was := c.fault.Value()
	if !c.fault.Sample(now) {
		return nil
	}
	if now == 0 {
		return []hal.Event{{Connector: c.conn, Kind: hal.FaultCleared, Cleared: was, Detail: "contactor feedback agrees again"}}
	}
	return []hal.Event{{Connector: c.conn, Kind: now, Detail: fmt.Sprintf("commanded closed=%v, feedback closed=%v", c.closed, fb)}}
}
