package display

import (
	"bytes"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/display/qr"
	goqr "github.com/piglig/go-qr"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/devices/v3/ssd1306/image1bit"
)

// These tests drive periph's SSD1306 driver on a recorded I²C bus
// (i2ctest.Record): this kernel has no I²C, and a real module would only
// show what the recorded transfers say.

// frameOf rebuilds the SSD1306's display RAM (128x64) from the recorded
// transfers: a command transfer (control byte 0x00) of a page address and
// the column's two nibbles places the next data transfer (control byte
// 0x40), which fills columns of that page.
func frameOf(t *testing.T, ops []i2ctest.IO) *image1bit.VerticalLSB {
	t.Helper()
	img := image1bit.NewVerticalLSB(image.Rect(0, 0, 128, 64))
	page, col := -1, 0
	for _, op := range ops {
		switch {
		case len(op.W) == 4 && op.W[0] == 0x00 && op.W[1]&0xF8 == 0xB0 && op.W[2] < 0x10 && op.W[3]&0xF0 == 0x10:
			page, col = int(op.W[1]&7), int(op.W[2])|int(op.W[3]&0x0F)<<4
		case len(op.W) > 1 && op.W[0] == 0x40:
			if page < 0 {
				t.Fatalf("data before a page address: % x", op.W)
			}
			copy(img.Pix[page*img.Stride+col:], op.W[1:])
			col += len(op.W) - 1
		}
	}
	return img
}

// readText reads n characters of the 5x7 font back from img, the first
// with its top left at x, y, at scale; a cell that is no glyph reads '\x00'.
func readText(img *image1bit.VerticalLSB, x, y, n, scale int) string {
	var b strings.Builder
	for i := range n {
		found := byte(0)
		for r := byte(0x20); r <= 0x7e && found == 0; r++ {
			match := true
			for gy := 0; gy < cellH && match; gy++ {
				for gx := 0; gx < cellW && match; gx++ {
					want := gx < glyphW && gy < glyphH && glyphRow(r, gy)&(0x10>>gx) != 0
					match = bool(img.BitAt(x+(i*cellW+gx)*scale, y+gy*scale)) == want
				}
			}
			if match {
				found = r
			}
		}
		b.WriteByte(found)
	}
	return strings.TrimRight(b.String(), " ")
}

func TestSSD1306InitAndQRCode(t *testing.T) {
	bus := &i2ctest.Record{}
	oled, err := NewSSD1306(bus, 0, Options{Name: "front"})
	if err != nil {
		t.Fatal(err)
	}
	if len(bus.Ops) == 0 || bus.Ops[0].Addr != SSD1306Addr {
		t.Fatalf("no init at %#x: %v", SSD1306Addr, bus.Ops)
	}
	// The init sequence: one command transfer that starts with display
	// off, sets 64 multiplexed rows, the charge pump and horizontal
	// addressing over 128 columns and 8 pages, and ends with display on.
	init := bus.Ops[0].W
	for _, want := range [][]byte{{0x00, 0xAE}, {0xA8, 0x3F}, {0x8D, 0x14}, {0x20, 0x00}, {0x21, 0x00, 0x7F}, {0x22, 0x00, 0x07}} {
		if !bytes.Contains(init, want) {
			t.Errorf("init % x lacks % x", init, want)
		}
	}
	if !bytes.HasPrefix(init, []byte{0x00, 0xAE}) || init[len(init)-1] != 0xAF {
		t.Errorf("init % x: want display off first and on last", init)
	}
	if f := frameOf(t, bus.Ops); !bytes.Equal(f.Pix, make([]byte, 1024)) {
		t.Error("the display is not cleared at start")
	}

	const link = "https://receipts.example/101"
	scr := hal.Screen{Connector: 1, PriceText: "Thank you: 2.05 USD", Cost: "USD 2.05", Final: true, QRCode: link}
	if err := oled.Show(scr); err != nil {
		t.Fatal(err)
	}
	frame := frameOf(t, bus.Ops)
	code, err := qr.Encode(link)
	if err != nil {
		t.Fatal(err)
	}
	// A 25-module symbol on a 64-pixel square: 2 pixels a module, centred
	// (7 pixels of lit margin), in the right half.
	const scale, ox, oy = 2, 64 + 7, 7
	if code.Size() != 25 {
		t.Fatalf("symbol of %d modules, the test expects 25", code.Size())
	}
	for y := 64 - 64; y < 64; y++ {
		for x := 64; x < 128; x++ {
			dark := code.Dark(floorDiv(x-ox, scale), floorDiv(y-oy, scale))
			if lit := bool(frame.BitAt(x, y)); lit == dark {
				t.Fatalf("pixel %d,%d lit %v; module %d,%d dark %v", x, y, lit, floorDiv(x-ox, scale), floorDiv(y-oy, scale), dark)
			}
		}
	}
	// And a reader decodes the square as a camera would see it.
	sq := image.NewGray(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			if frame.BitAt(64+x, y) {
				sq.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	if got, err := goqr.Decode(sq); err != nil || got != link {
		t.Errorf("the drawn QR code reads %q, %v; want %q", got, err, link)
	}
	// The texts on the left: the price text wrapped in 10 columns, the
	// final cost at the bottom under "Total".
	for _, tc := range []struct {
		y    int
		want string
	}{{0, "Thank you:"}, {8, "2.05 USD"}, {64 - 15, "Total"}, {64 - 7, "USD 2.05"}} {
		if got := readText(frame, 0, tc.y, 10, 1); got != tc.want {
			t.Errorf("text at y %d = %q, want %q", tc.y, got, tc.want)
		}
	}

	// The same screen again sends nothing; Halt blanks the display and
	// switches it off.
	before := len(bus.Ops)
	if err := oled.Show(scr); err != nil || len(bus.Ops) != before {
		t.Errorf("Show of the same screen: %v, %d transfers", err, len(bus.Ops)-before)
	}
	if err := oled.Halt(); err != nil {
		t.Fatal(err)
	}
	if f := frameOf(t, bus.Ops); !bytes.Equal(f.Pix, make([]byte, 1024)) {
		t.Error("Halt left pixels lit")
	}
	if last := bus.Ops[len(bus.Ops)-1].W; !bytes.Equal(last, []byte{0x00, 0xAE}) {
		t.Errorf("Halt's last transfer % x, want display off (00 ae)", last)
	}
	if !strings.HasPrefix(oled.String(), "display front") {
		t.Errorf("String() = %q", oled.String())
	}
}

func floorDiv(a, b int) int {
	if a < 0 {
		return -1 // outside the symbol: quiet zone
	}
	return a / b
}

// A module strapped to the other address gets every transfer there.
func TestSSD1306OtherAddress(t *testing.T) {
	bus := &i2ctest.Record{}
	oled, err := NewSSD1306(bus, 0x3D, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := oled.Show(hal.Screen{PriceText: "0.30 EUR/kWh"}); err != nil {
		t.Fatal(err)
	}
	for _, op := range bus.Ops {
		if op.Addr != 0x3D {
			t.Fatalf("transfer to %#x, want 0x3d", op.Addr)
		}
	}
	if _, err := NewSSD1306(bus, 0x80, Options{}); err == nil {
		t.Error("address 0x80 accepted")
	}
}

func TestRender(t *testing.T) {
	type line struct {
		x, y, scale int
		want        string
	}
	tests := []struct {
		name  string
		s     hal.Screen
		multi bool
		lines []line
	}{
		{"price only", hal.Screen{PriceText: "0.30 EUR/kWh"}, false,
			[]line{{0, 0, 1, "0.30 EUR/kWh"}, {0, 8, 1, ""}}},
		{"running cost large", hal.Screen{PriceText: "Member price 0.25 USD/kWh + 1.00 USD", Cost: "USD 1.10"}, false,
			[]line{{0, 0, 1, "Member price 0.25"}, {0, 8, 1, "USD/kWh + 1.00 USD"}, {0, 64 - 14, 2, "USD 1.10"}}},
		{"estimate offline on two connectors", hal.Screen{Connector: 2, PriceText: "0,30 €/kWh", Cost: "EUR 2.00", Estimated: true, Offline: true}, true,
			[]line{{0, 0, 1, "#2 offline"}, {0, 8, 1, "0,30 EUR/kWh"}, {0, 64 - 22, 1, "Estimate"}, {0, 64 - 14, 2, "EUR 2.00"}}},
		{"cost too long for the large font", hal.Screen{Cost: "JPY 123456.00"}, false,
			[]line{{0, 64 - 7, 1, "JPY 123456.00"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := Render(tt.s, image.Rect(0, 0, 128, 64), tt.multi)
			for _, l := range tt.lines {
				if got := readText(img, l.x, l.y, 21/l.scale, l.scale); got != l.want {
					t.Errorf("at %d,%d x%d: %q, want %q", l.x, l.y, l.scale, got, l.want)
				}
			}
			// Without a QR code nothing is drawn in a lit square.
			if tt.s.QRCode == "" && img.BitAt(127, 63) {
				t.Error("corner pixel lit without a QR code")
			}
		})
	}
}

// A text no symbol fitting 64 pixels holds is left out: the texts keep the
// whole width.
func TestRenderQRCodeTooLarge(t *testing.T) {
	s := hal.Screen{PriceText: "Receipt by e-mail", Cost: "EUR 9.99", Final: true, QRCode: "https://r.example/" + strings.Repeat("x", 400)}
	img := Render(s, image.Rect(0, 0, 128, 64), false)
	if got := readText(img, 0, 0, 21, 1); got != "Receipt by e-mail" {
		t.Errorf("first line %q", got)
	}
	if img.BitAt(127, 0) {
		t.Error("a QR square is drawn for a symbol that does not fit")
	}
}
