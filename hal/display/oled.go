package display

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"strings"
	"sync"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/display/qr"
	"periph.io/x/conn/v3/display"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/devices/v3/ssd1306"
	"periph.io/x/devices/v3/ssd1306/image1bit"
)

// OLED is a hal.Display on a small monochrome graphic display, such as the
// common 128x64 SSD1306 module: the price text in a small font, the cost
// in a large one, and the QR code of a receipt. Like LCD it may serve
// several connectors, showing the screen it was given last. It is safe
// for concurrent use.
type OLED struct {
	name  string
	multi bool

	mu    sync.Mutex // guards d, shown and code
	d     display.Drawer
	shown *image1bit.VerticalLSB // the frame on the display; nil when unknown
	code  *qr.Code               // the last QR code drawn, to skip encoding it again
}

var _ hal.Display = (*OLED)(nil)

// SSD1306Addr is the usual I²C address of an SSD1306 module; the other
// one, chosen by a solder jumper, is 0x3D.
const SSD1306Addr = 0x3C

// NewSSD1306 opens an SSD1306 128x64 OLED at addr (0 means SSD1306Addr)
// on bus, initialises it and clears it. The OLED owns the device from then
// on; the bus stays the caller's.
func NewSSD1306(bus i2c.Bus, addr uint16, o Options) (*OLED, error) {
	if bus == nil {
		return nil, errors.New("display: no I²C bus")
	}
	if addr == 0 {
		addr = SSD1306Addr
	}
	if addr > 0x7f {
		return nil, fmt.Errorf("display: I²C address %#x is not a 7-bit address", addr)
	}
	opts := ssd1306.DefaultOpts
	dev, err := ssd1306.NewI2C(readdress{bus, addr}, &opts)
	if err != nil {
		return nil, fmt.Errorf("display: SSD1306 at %#x on %s: %w", addr, bus, err)
	}
	if o.Name == "" {
		o.Name = fmt.Sprintf("ssd1306 %#x on %s", addr, bus)
	}
	return NewOLED(dev, o)
}

// readdress sends the transfers periph's SSD1306 driver makes (it always
// uses SSD1306Addr) to the module's address.
type readdress struct {
	i2c.Bus
	addr uint16
}

func (r readdress) Tx(addr uint16, w, rd []byte) error {
	if addr == SSD1306Addr {
		addr = r.addr
	}
	return r.Bus.Tx(addr, w, rd)
}

// NewOLED wraps a periph graphic display, which it clears. Options.Rows
// and Cols are ignored: the layout follows the display's size. The OLED
// owns d from then on.
func NewOLED(d display.Drawer, o Options) (*OLED, error) {
	if d == nil {
		return nil, errors.New("display: no graphic display")
	}
	if b := d.Bounds(); b.Dx() < 32 || b.Dy() < 16 {
		return nil, fmt.Errorf("display %s: %v is too small", d, b.Size())
	}
	if o.Name == "" {
		o.Name = d.String()
	}
	l := &OLED{name: o.Name, multi: o.Connectors > 1, d: d}
	if err := l.draw(image1bit.NewVerticalLSB(d.Bounds())); err != nil {
		return nil, err
	}
	return l, nil
}

// String implements hal.Resource.
func (l *OLED) String() string { return "display " + l.name }

// Halt implements hal.Resource: the display is cleared and switched off
// (the next Show switches it on again).
func (l *OLED) Halt() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.drawLocked(image1bit.NewVerticalLSB(l.d.Bounds())); err != nil {
		return err
	}
	if err := l.d.Halt(); err != nil {
		return fmt.Errorf("display %s: off: %w", l.name, err)
	}
	return nil
}

// Show implements hal.Display: it draws Render's frame, unless the display
// shows it already.
func (l *OLED) Show(s hal.Screen) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var code *qr.Code
	switch {
	case s.QRCode == "":
	case l.code != nil && l.code.Text() == s.QRCode:
		code = l.code
	default:
		// A text no symbol holds is shown without its code.
		code, _ = qr.Encode(s.QRCode)
		l.code = code
	}
	return l.drawLocked(render(s, code, l.d.Bounds(), l.multi))
}

func (l *OLED) draw(f *image1bit.VerticalLSB) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.drawLocked(f)
}

func (l *OLED) drawLocked(f *image1bit.VerticalLSB) error {
	if l.shown != nil && bytes.Equal(l.shown.Pix, f.Pix) {
		return nil
	}
	if err := l.d.Draw(f.Rect, f, f.Rect.Min); err != nil {
		l.shown = nil
		return fmt.Errorf("display %s: draw: %w", l.name, err)
	}
	l.shown = f
	return nil
}

// Render returns the frame of s on a graphic display of the given bounds:
// lit pixels are text, on a dark background.
//
//   - The top line says the connector's number (multi) and "offline".
//   - The price text is wrapped below it in the 5x7 font (21 characters a
//     line on a 128-pixel display).
//   - The cost is at the bottom, twice the size when it fits, with "Total"
//     (final) or "Estimate" (computed by the charger) above it.
//   - A QR code takes a square of the display's height at the right edge:
//     a lit square with the dark modules, each scale x scale pixels, where
//     scale is the largest that leaves at least one module of quiet zone
//     each side, the symbol centred in it. The text then has the left part
//     of the display. A symbol too large for the display is left out.
func Render(s hal.Screen, bounds image.Rectangle, multi bool) *image1bit.VerticalLSB {
	var code *qr.Code
	if s.QRCode != "" {
		code, _ = qr.Encode(s.QRCode)
	}
	return render(s, code, bounds, multi)
}

func render(s hal.Screen, code *qr.Code, bounds image.Rectangle, multi bool) *image1bit.VerticalLSB {
	img := image1bit.NewVerticalLSB(bounds)
	text := bounds
	if origin, scale, ok := qrPlace(code, bounds); ok {
		text.Max.X = bounds.Max.X - bounds.Dy()
		drawQR(img, code, image.Rect(text.Max.X, bounds.Min.Y, bounds.Max.X, bounds.Max.Y), origin, scale)
	}
	cols := text.Dx() / cellW
	rows := text.Dy() / cellH
	x0, y := text.Min.X, text.Min.Y

	var status []string
	if multi {
		status = append(status, fmt.Sprintf("#%d", s.Connector))
	}
	if s.Offline {
		status = append(status, "offline")
	}
	if len(status) > 0 {
		drawText(img, x0, y, pad(strings.Join(status, " "), cols), 1)
		y += cellH
		rows--
	}

	// The cost block at the bottom: a label line, and the amount large when
	// it fits.
	cost := ascii(s.Cost)
	var label string
	switch {
	case cost == "":
	case s.Final:
		label = "Total"
	case s.Estimated:
		label = "Estimate"
	}
	scale := 2
	if len(cost)*cellW*2 > text.Dx() || rows < 3 {
		scale = 1
	}
	costRows := 0
	if cost != "" {
		costRows = scale
		if label != "" {
			costRows++
		}
		bottom := text.Max.Y - cellH*scale + scale // the glyph's last row sits on the edge
		drawText(img, x0, bottom, pad(cost, cols/scale), scale)
		if label != "" {
			drawText(img, x0, bottom-cellH, pad(label, cols), 1)
		}
	}
	for _, line := range wrap(ascii(s.PriceText), cols, max(rows-costRows, 0)) {
		drawText(img, x0, y, line, 1)
		y += cellH
	}
	return img
}

// qrPlace says where the symbol goes in the square of side bounds.Dy() at
// the right edge: its top left pixel and its module size; false when there
// is no symbol or it does not fit.
func qrPlace(code *qr.Code, bounds image.Rectangle) (image.Point, int, bool) {
	if code == nil {
		return image.Point{}, 0, false
	}
	side := bounds.Dy()
	if bounds.Dx() < 2*side-side/2 {
		return image.Point{}, 0, false // no room left for the cost
	}
	scale := side / (code.Size() + 2)
	if scale < 1 {
		return image.Point{}, 0, false
	}
	margin := (side - code.Size()*scale) / 2
	return image.Pt(bounds.Max.X-side+margin, bounds.Min.Y+margin), scale, true
}

// drawQR lights the square box and draws the dark modules of code in it,
// with the symbol's top left at origin.
func drawQR(img *image1bit.VerticalLSB, code *qr.Code, box image.Rectangle, origin image.Point, scale int) {
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			dark := x >= origin.X && y >= origin.Y && code.Dark((x-origin.X)/scale, (y-origin.Y)/scale)
			img.SetBit(x, y, image1bit.Bit(!dark))
		}
	}
}
