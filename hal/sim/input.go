package sim

import "github.com/evsed/evsed/hal"

// The board's limit input: the grid operator's control signal that forces
// a reduced current. Tests and the local API's /sim routes set it with
// SetInput; the station reads it through Input and its InputChanged events.

// limitInput is the board's limit input, a handle on the board's model.
type limitInput Board

var _ hal.Input = (*limitInput)(nil)

// Input returns the board's limit input. It lives as long as the board.
func (b *Board) Input() hal.Input { return (*limitInput)(b) }

// SetInput asserts (true) or releases the limit input, reporting an
// InputChanged event (Connector 0) when its level changes.
func (b *Board) SetInput(active bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.input == active {
		return
	}
	b.input = active
	detail := "simulated limit input released"
	if active {
		detail = "simulated limit input asserted"
	}
	b.emit(hal.Event{Kind: hal.InputChanged, Active: active, Detail: detail})
}

// String implements hal.Resource.
func (in *limitInput) String() string { return in.name + " limit input" }

// Halt implements hal.Resource; an input has nothing to make safe.
func (in *limitInput) Halt() error { return nil }

// Active implements hal.Input.
func (in *limitInput) Active() bool {
	b := (*Board)(in)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.input
}
