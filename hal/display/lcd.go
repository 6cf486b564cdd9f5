package display

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/display"
)

// LCD is a hal.Display on a character display. One LCD may serve several
// connectors: it shows the screen it was given last, with the connector's
// number when it serves more than one. It is safe for concurrent use.
type LCD struct {
	name       string
	rows, cols int
	multi      bool

	mu    sync.Mutex // guards d and shown
	d     display.TextDisplay
	shown []string // the lines on the display; nil when unknown
}

var _ hal.Display = (*LCD)(nil)

// Options configure an LCD or an OLED. The zero value is a 2x16 LCD (an
// OLED takes its size from the device) serving one connector.
type Options struct {
	// Name names the display in logs; "" means the driver's String.
	Name string
	// Rows and Cols are the display's size; 0 means the driver's, else
	// 2 rows and 16 columns.
	Rows, Cols int
	// Connectors is how many connectors share the display; 0 means one.
	Connectors int
}

// NewLCD wraps a periph text display, which it clears. The LCD owns d from
// then on.
func NewLCD(d display.TextDisplay, o Options) (*LCD, error) {
	if d == nil {
		return nil, errors.New("display: no text display")
	}
	if o.Rows == 0 {
		o.Rows = d.Rows()
	}
	if o.Cols == 0 {
		o.Cols = d.Cols()
	}
	if o.Rows <= 0 {
		o.Rows = 2
	}
	if o.Cols <= 0 {
		o.Cols = 16
	}
	if o.Name == "" {
		o.Name = d.String()
	}
	l := &LCD{name: o.Name, rows: o.Rows, cols: o.Cols, multi: o.Connectors > 1, d: d}
	if err := d.Clear(); err != nil {
		return nil, fmt.Errorf("display %s: clear: %w", l.name, err)
	}
	return l, nil
}

// String implements hal.Resource.
func (l *LCD) String() string { return "display " + l.name }

// Halt implements hal.Resource: the display is cleared.
func (l *LCD) Halt() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.shown = nil
	if err := l.d.Clear(); err != nil {
		return fmt.Errorf("display %s: clear: %w", l.name, err)
	}
	return nil
}

// Show implements hal.Display: it writes the lines of Layout that differ
// from what the display shows.
func (l *LCD) Show(s hal.Screen) error {
	lines := Layout(s, l.rows, l.cols, l.multi)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, line := range lines {
		if l.shown != nil && l.shown[i] == line {
			continue
		}
		if err := l.d.MoveTo(l.d.MinRow()+i, l.d.MinCol()); err != nil {
			l.shown = nil
			return fmt.Errorf("display %s: move to row %d: %w", l.name, i, err)
		}
		if _, err := l.d.WriteString(line); err != nil {
			l.shown = nil
			return fmt.Errorf("display %s: write row %d: %w", l.name, i, err)
		}
	}
	l.shown = lines
	return nil
}

// Layout returns the lines of s on a display of rows x cols characters,
// each padded to cols, in the display's ASCII: the cost on the last line
// (marked "~" when estimated, "Total" when final), the offline mark (when
// it fits) and the connector's number (with multi) before it, the price
// text wrapped on the lines above.
func Layout(s hal.Screen, rows, cols int, multi bool) []string {
	rows, cols = max(rows, 1), max(cols, 1)
	var status []string
	if multi {
		status = append(status, fmt.Sprintf("#%d", s.Connector))
	}
	if s.Offline {
		status = append(status, "offline")
	}
	cost := s.Cost
	switch {
	case cost != "" && s.Final:
		cost = "Total " + cost
	case cost != "" && s.Estimated:
		cost = "~" + cost
	}
	last := strings.Join(append(status, cost), " ")
	if len(last) > cols && s.Offline {
		// The cost matters more than the mark: the price text above
		// says offline too.
		last = strings.Join(append(slices.DeleteFunc(status, func(x string) bool { return x == "offline" }), cost), " ")
	}
	if s.QRCode != "" && rows > 2 {
		last = strings.TrimSpace(last + " receipt: QR")
	}
	text := wrap(ascii(s.PriceText), cols, rows-1)
	if rows == 1 {
		text = nil
		if cost == "" {
			last = ascii(s.PriceText)
		}
	}
	out := make([]string, 0, rows)
	out = append(out, text...)
	for len(out) < rows-1 {
		out = append(out, "")
	}
	out = append(out, ascii(last))
	for i, line := range out {
		out[i] = pad(line, cols)
	}
	return out
}

// wrap breaks text into at most n lines of at most cols characters, at
// spaces where it can; what does not fit is cut.
func wrap(text string, cols, n int) []string {
	var out []string
	for _, word := range strings.Fields(text) {
		for len(word) > cols {
			if len(out) == n {
				return out
			}
			out = append(out, word[:cols])
			word = word[cols:]
		}
		switch last := len(out) - 1; {
		case last >= 0 && len(out[last])+1+len(word) <= cols:
			out[last] += " " + word
		case len(out) == n:
			return out
		default:
			out = append(out, word)
		}
	}
	return out
}

// ascii replaces what a character LCD's ROM cannot show: the euro sign
// becomes "EUR", other non-ASCII characters "?".
func ascii(s string) string {
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '€':
			b.WriteString("EUR")
		case r < utf8.RuneSelf && r >= 0x20:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || s[i] < 0x20 {
			return false
		}
	}
	return true
}

// pad cuts or pads s to exactly n characters.
func pad(s string, n int) string {
	if len(s) >= n {
		return s[:n]
	}
	return s + strings.Repeat(" ", n-len(s))
}
