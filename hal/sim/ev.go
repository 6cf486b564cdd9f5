package sim

import (
	"fmt"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// The vehicle at a connector: its model (EV), and the control methods that
// act for the person at the charger (plug in, ask for energy, pause, unplug,
// present a card) or change the vehicle. Each one changes the model through
// Board.do, under the board's lock, which brings the rest of the model up to
// date.

// EV describes the simulated vehicle at a connector. Zero fields mean the
// defaults.
type EV struct {
	// MaxCurrent is the most the EV draws per phase; 0 means 32 A.
	MaxCurrent physic.ElectricCurrent
	// Phases is how many phases the EV charges on, 1-3; 0 means 3. It
	// draws on min(Phases, connector phases).
	Phases int
	// Capacity is the energy after which the EV, full, goes back to B by
	// itself, counted from when it was plugged in; 0 means never.
	Capacity meter.Energy
}

// withDefaults checks e and fills its zero fields.
func (e EV) withDefaults() (EV, error) {
	switch {
	case e.MaxCurrent < 0:
		return e, fmt.Errorf("hal/sim: negative EV max current %v", e.MaxCurrent)
	case e.Phases < 0 || e.Phases > 3:
		return e, fmt.Errorf("hal/sim: EV phases %d, want 1-3", e.Phases)
	case e.Capacity < 0:
		return e, fmt.Errorf("hal/sim: negative EV capacity %v", e.Capacity)
	}
	if e.MaxCurrent == 0 {
		e.MaxCurrent = 32 * physic.Ampere
	}
	if e.Phases == 0 {
		e.Phases = 3
	}
	return e, nil
}

// Plug plugs an EV into connector n: CP goes A -> B. The EV's battery count
// starts at 0.
func (b *Board) Plug(n int) error {
	return b.do(n, func(c *conn) error {
		if c.plugged {
			return fmt.Errorf("%w: connector %d: already plugged in", ErrTransition, n)
		}
		c.plugged, c.wantCharge, c.full = true, false, false
		c.plugImport = c.meter.Energy()
		b.debug("EV plugged in", "connector", n)
		return nil
	})
}

// Charge makes the EV at connector n ask for energy: it goes to C as soon as
// the pilot offers PWM (at once if it does). Charging an EV that already
// asks is not an error.
func (b *Board) Charge(n int) error {
	return b.do(n, func(c *conn) error {
		switch {
		case !c.plugged:
			return fmt.Errorf("%w: connector %d: no EV plugged in", ErrTransition, n)
		case c.full:
			return fmt.Errorf("%w: connector %d: the EV's battery is full", ErrTransition, n)
		}
		c.wantCharge = true
		b.debug("EV asks for energy", "connector", n)
		return nil
	})
}

// Pause makes the EV at connector n stop asking for energy: back to B.
// Pausing an EV that does not ask is not an error.
func (b *Board) Pause(n int) error {
	return b.do(n, func(c *conn) error {
		if !c.plugged {
			return fmt.Errorf("%w: connector %d: no EV plugged in", ErrTransition, n)
		}
		c.wantCharge = false
		b.debug("EV pauses", "connector", n)
		return nil
	})
}

// Unplug removes the EV from connector n: CP goes to A from wherever it was.
func (b *Board) Unplug(n int) error {
	return b.do(n, func(c *conn) error {
		if !c.plugged {
			return fmt.Errorf("%w: connector %d: no EV plugged in", ErrTransition, n)
		}
		c.plugged, c.wantCharge = false, false
		b.debug("EV unplugged", "connector", n)
		return nil
	})
}

// Swipe presents the card idTag at connector n's reader: a CardPresented
// event.
func (b *Board) Swipe(n int, idTag string) error {
	return b.do(n, func(c *conn) error {
		if idTag == "" {
			return fmt.Errorf("hal/sim: connector %d: empty id tag", n)
		}
		b.emit(hal.Event{Connector: n, Kind: hal.CardPresented, IDTag: idTag})
		return nil
	})
}

// SetEV replaces the EV model of connector n; the battery count is kept.
func (b *Board) SetEV(n int, ev EV) error {
	ev, err := ev.withDefaults()
	if err != nil {
		return err
	}
	return b.do(n, func(c *conn) error {
		c.setEV(ev)
		return nil
	})
}
