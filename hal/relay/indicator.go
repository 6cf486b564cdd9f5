package relay

import (
	"errors"
	"fmt"
	"sync"

	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/gpio"
)

// IndicatorOptions name up to three LEDs; nil pins are absent. What each
// indication lights:
//
//	Available: Ready          Occupied: Busy
//	Charging:  Ready and Busy Fault:    Fault
//	Off:       none
type IndicatorOptions struct {
	Connector          int
	Ready, Busy, Fault gpio.PinOut
	// Active is the level that lights an LED.
	Active gpio.Level
}

// Indicator is a connector's status LEDs. It is safe for concurrent use.
type Indicator struct {
	name   string
	pins   [3]gpio.PinOut // ready, busy, fault
	active gpio.Level

	mu    sync.Mutex // guards shown and serializes pin writes
	shown hal.Indication
}

var _ hal.Indicator = (*Indicator)(nil)

// NewIndicator builds the indicator, LEDs off.
func NewIndicator(o IndicatorOptions) (*Indicator, error) {
	in := &Indicator{
		name:   fmt.Sprintf("connector %d indicator", o.Connector),
		pins:   [3]gpio.PinOut{o.Ready, o.Busy, o.Fault},
		active: o.Active,
	}
	return in, in.Show(hal.ShowOff)
}

// String implements hal.Resource.
func (in *Indicator) String() string { return in.name }

// Halt implements hal.Indicator: LEDs off.
func (in *Indicator) Halt() error { return in.Show(hal.ShowOff) }

// Shown returns the last indication shown.
func (in *Indicator) Shown() hal.Indication {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.shown
}

// Show implements hal.Indicator.
func (in *Indicator) Show(i hal.Indication) error {
	var on [3]bool
	switch i {
	case hal.ShowAvailable:
		on[0] = true
	case hal.ShowOccupied:
		on[1] = true
	case hal.ShowCharging:
		on[0], on[1] = true, true
	case hal.ShowFault:
		on[2] = true
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	var errs []error
	for k, p := range in.pins {
		if p == nil {
			continue
		}
		l := inactive(in.active)
		if on[k] {
			l = in.active
		}
		errs = append(errs, p.Out(l))
	}
	in.shown = i
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: %w", in.name, err)
	}
	return nil
}
