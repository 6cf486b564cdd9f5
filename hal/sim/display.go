package sim

import (
	"fmt"

	"github.com/evsed/evsed/hal"
)

// display is a connector's simulated driver display: it keeps what it was
// told to show, for the status API and tests (Board.Screen).
type display conn

var _ hal.Display = (*display)(nil)

// displayFlags say whether a connector's display shows a screen, and that
// screen's flags; its texts are in conn.screen.
type displayFlags uint8

const (
	displayOn displayFlags = 1 << iota // not blank
	displayFinal
	displayEstimated
	displayOffline
)

// screenText is the text of a shown screen. A connector keeps it only while
// some text is not empty: the screens of a station without tariff texts (a
// fleet's thousands of them: "offline", or nothing) are flags alone.
type screenText struct {
	language, priceText, cost, qrCode string
}

// String implements hal.Resource.
func (d *display) String() string { return fmt.Sprintf("%s connector %d display", d.b.name, d.id) }

// Halt implements hal.Resource: the display goes blank.
func (d *display) Halt() error {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	d.display, d.screen = 0, nil
	return nil
}

// Show implements hal.Display. A screen for another connector is an error:
// each simulated connector has a display of its own.
func (d *display) Show(s hal.Screen) error {
	if s.Connector != int(d.id) {
		return fmt.Errorf("hal/sim: %s: screen for connector %d", d, s.Connector)
	}
	f := displayOn
	if s.Final {
		f |= displayFinal
	}
	if s.Estimated {
		f |= displayEstimated
	}
	if s.Offline {
		f |= displayOffline
	}
	t := screenText{language: s.Language, priceText: s.PriceText, cost: s.Cost, qrCode: s.QRCode}
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	d.display = f
	switch {
	case t == screenText{}:
		d.screen = nil
	case d.screen == nil:
		d.screen = &t
	default:
		*d.screen = t // Board.Screen copies it under the lock
	}
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
	if c.display&displayOn == 0 {
		return hal.Screen{}, true
	}
	s := hal.Screen{
		Connector: n,
		Final:     c.display&displayFinal != 0,
		Estimated: c.display&displayEstimated != 0,
		Offline:   c.display&displayOffline != 0,
	}
	if t := c.screen; t != nil {
		s.Language, s.PriceText, s.Cost, s.QRCode = t.language, t.priceText, t.cost, t.qrCode
	}
	return s, true
}
