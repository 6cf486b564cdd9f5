// Package qr encodes the QR codes the driver sees (a receipt or payment
// link with a session's final cost) once, for every place that shows them:
// the web page (an SVG) and a graphic display (the module grid). The
// symbol itself comes from a maintained QR code library
// (github.com/piglig/go-qr, MIT); this package only fixes the choices
// (error correction, quiet zone) and draws the grid.
package qr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	goqr "github.com/piglig/go-qr"
)

// QuietZone is the light margin around a symbol, in modules, that ISO/IEC
// 18004 asks for so that a reader finds the symbol.
const QuietZone = 4

// ErrEmpty is returned by Encode for an empty text: there is nothing to
// encode.
var ErrEmpty = errors.New("qr: empty text")

// Code is one QR code symbol: a square of Size x Size modules, each dark or
// light. It is immutable and safe for concurrent use.
type Code struct {
	text string
	size int
	dark []bool // row-major, size*size
}

// Encode returns the smallest symbol that holds text (UTF-8, byte mode
// where it must, numeric or alphanumeric where it can) at error correction
// level L, raised to a higher level when that fits in the same size. A
// small symbol matters more than a high level here: the codes are shown on
// a clean screen, and on a 64-pixel display a smaller symbol has larger
// modules. It fails for an empty text and one too long for any symbol
// (more than about 2900 bytes).
func Encode(text string) (*Code, error) {
	if text == "" {
		return nil, ErrEmpty
	}
	q, err := goqr.EncodeText(text, goqr.Low)
	if err != nil {
		return nil, fmt.Errorf("qr: encode %d bytes: %w", len(text), err)
	}
	c := &Code{text: text, size: q.Size(), dark: make([]bool, q.Size()*q.Size())}
	for y := range c.size {
		for x := range c.size {
			c.dark[y*c.size+x] = q.Module(x, y)
		}
	}
	return c, nil
}

// Text is the text the symbol encodes.
func (c *Code) Text() string { return c.text }

// Size is the side of the symbol in modules (21 for version 1, 4 more per
// version), without the quiet zone.
func (c *Code) Size() int { return c.size }

// Dark reports whether the module at column x, row y (0-based, from the top
// left) is dark; outside the symbol (the quiet zone) it is light.
func (c *Code) Dark(x, y int) bool {
	return x >= 0 && y >= 0 && x < c.size && y < c.size && c.dark[y*c.size+x]
}

// SVG draws the symbol with its quiet zone as a standalone SVG image, one
// user unit per module, dark modules black on white: a path of one
// horizontal run per row segment, a few hundred bytes for a short link.
// It scales to any size the page gives it; crispEdges keeps the modules
// sharp.
func (c *Code) SVG() []byte {
	n := c.size + 2*QuietZone
	var b strings.Builder
	b.Grow(256 + c.size*c.size/2)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y := range c.size {
		for x := 0; x < c.size; {
			if !c.Dark(x, y) {
				x++
				continue
			}
			run := 1
			for c.Dark(x+run, y) {
				run++
			}
			b.WriteString("M")
			b.WriteString(strconv.Itoa(x + QuietZone))
			b.WriteString(" ")
			b.WriteString(strconv.Itoa(y + QuietZone))
			b.WriteString("h")
			b.WriteString(strconv.Itoa(run))
			b.WriteString("v1h-")
			b.WriteString(strconv.Itoa(run))
			b.WriteString("z")
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return []byte(b.String())
}
