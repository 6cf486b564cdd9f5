package display

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/devices/v3/aip31068"
)

func TestLayout(t *testing.T) {
	tests := []struct {
		name       string
		s          hal.Screen
		rows, cols int
		multi      bool
		want       []string
	}{
		{"price only", hal.Screen{PriceText: "0.30 EUR/kWh"}, 2, 16, false,
			[]string{"0.30 EUR/kWh    ", "                "}},
		{"running estimate offline", hal.Screen{PriceText: "0,30 €/kWh", Cost: "EUR 1.20", Estimated: true, Offline: true}, 2, 16, false,
			[]string{"0,30 EUR/kWh    ", "~EUR 1.20       "}},
		{"offline when it fits", hal.Screen{Cost: "EUR 1.20", Offline: true}, 2, 20, false,
			[]string{"                    ", "offline EUR 1.20    "}},
		{"final on two connectors", hal.Screen{Connector: 2, PriceText: "Thank you", Cost: "USD 3.31", Final: true}, 2, 20, true,
			[]string{"Thank you           ", "#2 Total USD 3.31   "}},
		{"wrapped on four lines", hal.Screen{PriceText: "Member price 0.25 USD per kWh plus 1.00 USD per session and more",
			Cost: "USD 0.75", QRCode: "https://r.example/1"}, 4, 20, false,
			[]string{"Member price 0.25   ", "USD per kWh plus    ", "1.00 USD per session", "USD 0.75 receipt: QR"}},
		{"long word cut", hal.Screen{PriceText: "https://prices.example/station/1"}, 2, 16, false,
			[]string{"https://prices.e", "                "}},
		{"one line", hal.Screen{PriceText: "0.30/kWh"}, 1, 8, false, []string{"0.30/kWh"}},
	}
	for _, tc := range tests {
		if got := Layout(tc.s, tc.rows, tc.cols, tc.multi); !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// The LCD driven through periph's AIP31068 driver on a recorded I²C bus
// (periph's i2ctest): the lines go to the controller as data writes, and a
// line that did not change is not written again.
func TestLCDOnAIP31068(t *testing.T) {
	bus := &i2ctest.Record{}
	dev, err := aip31068.New(bus, 0x3e, nil, 2, 16)
	if err != nil {
		t.Fatal(err)
	}
	lcd, err := NewLCD(dev, Options{Name: "front"})
	if err != nil {
		t.Fatal(err)
	}
	written := func(line string) int {
		n := 0
		for _, op := range bus.Ops {
			// A data write is the control byte 0x40 and the characters.
			if len(op.W) > 1 && op.W[0] == 0x40 && bytes.Equal(op.W[1:], []byte(line)) {
				n++
			}
		}
		return n
	}
	if err := lcd.Show(hal.Screen{Connector: 1, PriceText: "0.30 EUR/kWh", Cost: "EUR 0.60", Estimated: true}); err != nil {
		t.Fatal(err)
	}
	if written("0.30 EUR/kWh    ") != 1 || written("~EUR 0.60       ") != 1 {
		t.Fatalf("lines not written; ops %v", bus.Ops)
	}
	if err := lcd.Show(hal.Screen{Connector: 1, PriceText: "0.30 EUR/kWh", Cost: "EUR 0.90", Estimated: true}); err != nil {
		t.Fatal(err)
	}
	if written("0.30 EUR/kWh    ") != 1 || written("~EUR 0.90       ") != 1 {
		t.Errorf("the unchanged line was written again, or the new one not")
	}
	for _, op := range bus.Ops {
		if op.Addr != 0x3e {
			t.Fatalf("write to address %#x", op.Addr)
		}
	}
	before := len(bus.Ops)
	if err := lcd.Halt(); err != nil || len(bus.Ops) == before {
		t.Errorf("Halt: %v, %d new bus ops", err, len(bus.Ops)-before)
	}
	if !strings.HasPrefix(lcd.String(), "display front") {
		t.Errorf("String() = %q", lcd.String())
	}
}
