package relay

import (
	"errors"
	"fmt"
	"sync"

	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/gpio"
)

// InputOptions configure an Input.
type InputOptions struct {
	// Name names the input in logs, e.g. "limit input".
	Name string
	// Pin reads the signal (a ripple control receiver's or a control
	// box's relay contact). Required.
	Pin gpio.PinIn
	// Active is the level meaning "asserted".
	Active gpio.Level
	// Debounce is how many equal polls make a change; 0 means 5 (50 ms at
	// the default 10 ms poll): a relay contact bounces, and the signal
	// means minutes, not milliseconds.
	Debounce int
}

// Input is a station-wide digital input behind GPIO, such as the grid
// operator's limit signal. It is safe for concurrent use.
type Input struct {
	name   string
	pin    gpio.PinIn
	active gpio.Level

	mu    sync.Mutex          // guards level
	level hal.Debouncer[bool] // the debounced, reported level
}

var (
	_ hal.Input = (*Input)(nil)
	_ Poller    = (*Input)(nil)
)

// NewInput configures the pin as an input and takes its level now as the
// starting level (reported by Active, not as an event).
func NewInput(o InputOptions) (*Input, error) {
	if o.Pin == nil {
		return nil, errors.New("relay: input needs a pin")
	}
	if o.Name == "" {
		o.Name = "input"
	}
	if o.Debounce <= 0 {
		o.Debounce = 5
	}
	in := &Input{name: o.Name, pin: o.Pin, active: o.Active}
	if err := in.pin.In(gpio.PullNoChange, gpio.NoEdge); err != nil {
		return nil, fmt.Errorf("%s: %w", in.name, err)
	}
	in.level = hal.NewDebouncer(in.pin.Read() == in.active, o.Debounce)
	return in, nil
}

// String implements hal.Resource.
func (in *Input) String() string { return in.name }

// Halt implements hal.Resource; an input has nothing to make safe.
func (in *Input) Halt() error { return nil }

// Active implements hal.Input: the debounced level.
func (in *Input) Active() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.level.Value()
}

// Poll implements Poller: a debounced change reports InputChanged
// (Connector 0).
func (in *Input) Poll() []hal.Event {
	v := in.pin.Read() == in.active
	in.mu.Lock()
	changed := in.level.Sample(v)
	in.mu.Unlock()
	if !changed {
		return nil
	}
	detail := in.name + " released"
	if v {
		detail = in.name + " asserted"
	}
	return []hal.Event{{Kind: hal.InputChanged, Active: v, Detail: detail}}
}
