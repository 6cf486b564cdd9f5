package sim

import (
	"fmt"

	"github.com/evsed/evsed/hal"
)

// display is a connector's simulated driver display: it keeps what it was
// told to show, for the status API and tests (Board.Screen).
type display conn

var _ hal.Display = (*display)(nil)

// String implements hal.Resource.
func (d *display) String() string { return fmt.Sprintf("%s connector %d display", d.b.name, d.id) }

// Halt implements hal.Resource: the display goes blank.
func (d *display) Halt() error {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	d.screen = nil
	return nil
}

// Show implements hal.Display. A screen for another connector is an error:
// each simulated connector has a display of its own.
func (d *display) Show(s hal.Screen) error {
	if s.Connector != d.id {
		return fmt.Errorf("hal/sim: %s: screen for connector %d", d, s.Connector)
	}
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	d.screen = &s
	return nil
}

// Screen returns what connector n's display shows: the zero Screen while
// blank, false when there is no such connector.
func (b *Board) Screen(n int) (hal.Screen, bool) {
	c, err := b.conn(n)
	if err != nil {
		return hal.Screen{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if c.screen == nil {
		return hal.Screen{}, true
	}
	return *c.screen, true
}
