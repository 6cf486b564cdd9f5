package boards

// Driver displays are opened here on periph's i2ctest.Record: this kernel
// has no I2C bus (no /dev/i2c-*), so the tests check the bus traffic the
// real drivers (periph's ssd1306 and aip31068 under hal/display) send.

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/periphboard"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
)

// withConnectorDisplay adds a display block to connector id (1 or 2) of
// twoBoard; block is flow style.
func withConnectorDisplay(text string, id int, block string) string {
	pin := map[int]string{1: "GPIO17", 2: "GPIO27"}[id]
	line := "    contactor: {driver: relay, out: {pin: " + pin + "}}\n"
	return strings.Replace(text, line, line+"    display: "+block+"\n", 1)
}

func TestDisplayBlocks(t *testing.T) {
	const sdm = `{driver: sim}`
	base := twoBoard(sdm, sdm)
	oled := `{driver: ssd1306, bus: "1", address: 0x3c}`
	lcd := `{driver: aip31068, bus: "1", address: 0x3e, rows: 4, cols: 20}`
	spec := func(drv periphboard.DisplayDriver, addr uint16, rows, cols int, conns ...int) periphboard.DisplaySpec {
		return periphboard.DisplaySpec{Driver: drv, Bus: "1", Addr: addr, Rows: rows, Cols: cols, Connectors: conns}
	}
	valid := []struct {
		name string
		text string
		want []periphboard.DisplaySpec
	}{
		{"none", base, nil},
		{"a connector's own", withConnectorDisplay(base, 2, oled),
			[]periphboard.DisplaySpec{spec(periphboard.DisplaySSD1306, 0x3c, 0, 0, 2)}},
		{"one each", withConnectorDisplay(withConnectorDisplay(base, 1, lcd), 2, `{driver: ssd1306, bus: "1", address: 0x3d}`),
			[]periphboard.DisplaySpec{spec(periphboard.DisplayAIP31068, 0x3e, 4, 20, 1), spec(periphboard.DisplaySSD1306, 0x3d, 0, 0, 2)}},
		{"shared, listed", base + "displays:\n  - {driver: ssd1306, bus: \"1\", address: 0x3d, connectors: [2, 1]}\n",
			[]periphboard.DisplaySpec{spec(periphboard.DisplaySSD1306, 0x3d, 0, 0, 2, 1)}},
		{"shared by every connector", base + "displays:\n  - {driver: aip31068, bus: \"1\", address: 0x3e, rows: 2, cols: 16}\n",
			[]periphboard.DisplaySpec{spec(periphboard.DisplayAIP31068, 0x3e, 2, 16, 1, 2)}},
		{"own and shared on one bus", withConnectorDisplay(base, 1, oled) + "displays:\n  - {driver: aip31068, bus: \"1\", address: 0x3e, rows: 2, cols: 20, connectors: [2]}\n",
			[]periphboard.DisplaySpec{spec(periphboard.DisplaySSD1306, 0x3c, 0, 0, 1), spec(periphboard.DisplayAIP31068, 0x3e, 2, 20, 2)}},
	}
	for _, c := range valid {
		t.Run(c.name, func(t *testing.T) {
			b, err := Load("t.yaml", []byte(c.text))
			if err != nil {
				t.Fatal(err)
			}
			got := b.Spec.Displays
			if len(got) != len(c.want) {
				t.Fatalf("displays %+v, want %+v", got, c.want)
			}
			for i := range got {
				g, w := got[i], c.want[i]
				if g.Driver != w.Driver || g.Bus != w.Bus || g.Addr != w.Addr || g.Rows != w.Rows || g.Cols != w.Cols || !slices.Equal(g.Connectors, w.Connectors) {
					t.Errorf("display %d: %+v, want %+v", i, g, w)
				}
			}
		})
	}

	broken := []struct {
		name string
		text string
		want []string // each must be in the error, once
	}{
		{"unknown driver", withConnectorDisplay(base, 1, `{driver: st7567, bus: "1", address: 0x3c}`),
			[]string{`t.yaml: connectors[0].display.driver: unknown driver "st7567" (want ssd1306 or aip31068)`}},
		{"missing driver", withConnectorDisplay(base, 1, `{bus: "1", address: 0x3c}`),
			[]string{"t.yaml: connectors[0].display.driver: missing (want ssd1306 or aip31068)"}},
		{"unknown bus", withConnectorDisplay(base, 1, `{driver: ssd1306, bus: "7", address: 0x3c}`),
			[]string{`t.yaml: connectors[0].display.bus: unknown I2C bus "7" (want "1")`}},
		{"missing bus", withConnectorDisplay(base, 1, `{driver: ssd1306, address: 0x3c}`),
			[]string{`t.yaml: connectors[0].display.bus: missing (the I2C bus, "1")`}},
		{"oled address", withConnectorDisplay(base, 1, `{driver: ssd1306, bus: "1", address: 0x3e}`),
			[]string{"t.yaml: connectors[0].display.address: 0x3e, want 0x3c or 0x3d (ssd1306)"}},
		{"8-bit address", withConnectorDisplay(base, 1, `{driver: ssd1306, bus: "1", address: 0x78}`),
			[]string{"t.yaml: connectors[0].display.address: 0x78 is the 8-bit write address; write the 7-bit address 0x3c"}},
		{"lcd address", withConnectorDisplay(base, 1, `{driver: aip31068, bus: "1", address: 0x27, rows: 2, cols: 16}`),
			[]string{"t.yaml: connectors[0].display.address: 0x27, want 0x3e (aip31068)"}},
		{"missing address", withConnectorDisplay(base, 1, `{driver: aip31068, bus: "1", rows: 2, cols: 16}`),
			[]string{"t.yaml: connectors[0].display.address: missing (0x3e)"}},
		{"rows on an oled", withConnectorDisplay(base, 1, `{driver: ssd1306, bus: "1", address: 0x3c, rows: 2, cols: 16}`),
			[]string{"t.yaml: connectors[0].display.rows: only for driver aip31068", "t.yaml: connectors[0].display.cols: only for driver aip31068"}},
		{"lcd without rows", withConnectorDisplay(base, 1, `{driver: aip31068, bus: "1", address: 0x3e, cols: 16}`),
			[]string{"t.yaml: connectors[0].display.rows: missing (2 or 4"}},
		{"lcd without cols", withConnectorDisplay(base, 1, `{driver: aip31068, bus: "1", address: 0x3e, rows: 2}`),
			[]string{"t.yaml: connectors[0].display.cols: missing (16 or 20"}},
		{"lcd rows", withConnectorDisplay(base, 1, `{driver: aip31068, bus: "1", address: 0x3e, rows: 3, cols: 16}`),
			[]string{"t.yaml: connectors[0].display.rows: 3 rows, want 2 or 4"}},
		{"lcd cols", withConnectorDisplay(base, 1, `{driver: aip31068, bus: "1", address: 0x3e, rows: 2, cols: 40}`),
			[]string{"t.yaml: connectors[0].display.cols: 40 columns, want 16 or 20"}},
		{"4x16 lcd", withConnectorDisplay(base, 1, `{driver: aip31068, bus: "1", address: 0x3e, rows: 4, cols: 16}`),
			[]string{"t.yaml: connectors[0].display.cols: 4 rows need 20 columns"}},
		{"connectors in a connector's block", withConnectorDisplay(base, 1, `{driver: ssd1306, bus: "1", address: 0x3c, connectors: [1, 2]}`),
			[]string{"t.yaml: connectors[0].display.connectors: only in a top-level displays entry"}},
		{"connector listed twice", base + "displays:\n  - {driver: ssd1306, bus: \"1\", address: 0x3c, connectors: [1, 2, 1]}\n",
			[]string{"t.yaml: displays[0].connectors: connector 1 listed twice"}},
		{"listed twice, and another display's", withConnectorDisplay(base, 2, oled) + "displays:\n  - {driver: ssd1306, bus: \"1\", address: 0x3d, connectors: [2, 2]}\n",
			[]string{"t.yaml: displays[0].connectors: connector 2 listed twice", "t.yaml: displays[0].connectors: connector 2 already has a display (connectors[1].display)"}},
		{"unknown connector", base + "displays:\n  - {driver: ssd1306, bus: \"1\", address: 0x3c, connectors: [1, 3]}\n",
			[]string{"t.yaml: displays[0].connectors: no connector 3"}},
		{"connector with two displays", withConnectorDisplay(base, 2, oled) + "displays:\n  - {driver: ssd1306, bus: \"1\", address: 0x3d}\n",
			[]string{"t.yaml: displays[0].connectors: connector 2 already has a display (connectors[1].display)"}},
		{"two displays at one address", withConnectorDisplay(withConnectorDisplay(base, 1, oled), 2, oled),
			[]string{"t.yaml: connectors[1].display.address: address 0x3c on I2C bus 1 used twice (already connectors[0].display)"}},
		{"unknown key", withConnectorDisplay(base, 1, `{driver: ssd1306, bus: "1", address: 0x3c, size: 2}`),
			[]string{"field size not found"}},
		{"display pins are the bus's", withConnectorDisplay(strings.Replace(base, "out: {pin: GPIO27}", "out: {pin: GPIO3}", 1), 1, oled),
			[]string{"t.yaml: connectors[1].contactor.out.pin: pin GPIO3 used twice (already connectors[0].pilot.sense.bus (I2C 1))"}},
		{"on the simulated board", "name: s\ndescription: sim\nplatform: sim\ndisplays:\n  - {driver: ssd1306, bus: \"1\", address: 0x3c}\n",
			[]string{"t.yaml: displays: a simulated board has no wiring"}},
	}
	for _, c := range broken {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load("t.yaml", []byte(c.text))
			if err == nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			for _, w := range c.want {
				if n := strings.Count(err.Error(), w); n != 1 {
					t.Errorf("err = %v\nwant %q once, got it %d times", err, w, n)
				}
			}
		})
	}
}

// idleBus answers every read with zeros: an AiP31068's busy flag clear.
type idleBus struct{}

func (idleBus) String() string                  { return "idle" }
func (idleBus) Tx(_ uint16, _, r []byte) error  { clear(r); return nil }
func (idleBus) SetSpeed(physic.Frequency) error { return nil }

var _ i2c.Bus = idleBus{}

// fakeI2C hands out one recorded bus per name and counts the opens.
type fakeI2C struct {
	mu    sync.Mutex
	buses map[string]*i2ctest.Record
	opens map[string]int
}

func newFakeI2C() *fakeI2C {
	return &fakeI2C{buses: map[string]*i2ctest.Record{}, opens: map[string]int{}}
}

func (f *fakeI2C) open(name string) (i2c.Bus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opens[name]++
	if f.buses[name] == nil {
		f.buses[name] = &i2ctest.Record{Bus: idleBus{}}
	}
	return f.buses[name], nil
}

// ops returns the writes to addr on bus name from op from on.
func (f *fakeI2C) ops(name string, addr uint16, from int) [][]byte {
	f.mu.Lock()
	r := f.buses[name]
	f.mu.Unlock()
	if r == nil {
		return nil
	}
	r.Lock()
	defer r.Unlock()
	var out [][]byte
	for _, op := range r.Ops[from:] {
		if op.Addr == addr && len(op.W) > 0 {
			out = append(out, op.W)
		}
	}
	return out
}

func (f *fakeI2C) count(name string) int {
	f.mu.Lock()
	r := f.buses[name]
	f.mu.Unlock()
	if r == nil {
		return 0
	}
	r.Lock()
	defer r.Unlock()
	return len(r.Ops)
}

// TestOpenSharedOLED: one SSD1306 declared for both connectors is built on
// the I2C bus the ADS1115s use (opened once), initialised there, given to
// both connectors, shows the connector's number, and is switched off by
// the board's Halt.
func TestOpenSharedOLED(t *testing.T) {
	const sdm = `{driver: sim}`
	text := twoBoard(sdm, sdm) + "displays:\n  - {driver: ssd1306, bus: \"1\", address: 0x3d, connectors: [1, 2]}\n"
	hw, bus := newFakeHW(), newFakeI2C()
	opts := hw.opts(nil)
	opts.ADC = nil // the ADS1115s open their bus through opts.I2C too
	opts.I2C = bus.open
	built := openFile(t, text, opts)
	if bus.opens["1"] != 1 || len(bus.opens) != 1 {
		t.Fatalf("I2C opens %v, want bus 1 once, shared by the ADS1115s and the display", bus.opens)
	}
	cs := built.Board.Connectors()
	d := cs[0].Display
	if d == nil || cs[1].Display != d {
		t.Fatalf("displays %v, %v: want one, on both connectors", cs[0].Display, cs[1].Display)
	}
	if !strings.Contains(d.String(), "ssd1306 0x3d on I2C 1") {
		t.Errorf("display %q", d)
	}
	// Initialised: periph's SSD1306 set-up is one command stream ending in
	// display on (0xAF), sent to the module's address and nowhere else.
	init := bus.ops("1", 0x3d, 0)
	if len(init) == 0 || init[0][0] != 0x00 || init[0][1] != 0xAE || init[0][len(init[0])-1] != 0xAF {
		t.Fatalf("writes to 0x3d at open: % x, want the SSD1306 init sequence first", init)
	}
	if n := bus.count("1"); n != len(init) {
		t.Errorf("%d bus ops at open, %d of them to the display: the ADS1115s were touched", n, len(init))
	}
	from := bus.count("1")
	if err := cs[1].Display.Show(hal.Screen{Connector: 2, PriceText: "0.30 EUR/kWh", Cost: "EUR 1.20"}); err != nil {
		t.Fatal(err)
	}
	lit := 0
	for _, w := range bus.ops("1", 0x3d, from) {
		if w[0] == 0x40 { // a data stream: pixels
			for _, b := range w[1:] {
				if b != 0 {
					lit++
				}
			}
		}
	}
	if lit == 0 {
		t.Fatal("Show drew no pixels on the module")
	}
	from = bus.count("1")
	if err := built.Board.Halt(); err != nil {
		t.Fatal(err)
	}
	off := bus.ops("1", 0x3d, from)
	if len(off) == 0 || !bytes.Equal(off[len(off)-1], []byte{0x00, 0xAE}) {
		t.Fatalf("writes at Halt % x, want the frame cleared and display off (00 ae) last", off)
	}
}

// TestOpenConnectorLCD: a connector's own AiP31068 LCD goes to that
// connector only, is initialised at 0x3e and shows the cost on its last
// line; the other connector has no display.
func TestOpenConnectorLCD(t *testing.T) {
	const sdm = `{driver: sim}`
	text := withConnectorDisplay(twoBoard(sdm, sdm), 2, `{driver: aip31068, bus: "1", address: 0x3e, rows: 4, cols: 20}`)
	hw, bus := newFakeHW(), newFakeI2C()
	opts := hw.opts(nil) // scripted ADCs: the bus is the display's alone
	opts.I2C = bus.open
	built := openFile(t, text, opts)
	cs := built.Board.Connectors()
	if cs[0].Display != nil || cs[1].Display == nil {
		t.Fatalf("displays %v, %v: want none on connector 1, an LCD on 2", cs[0].Display, cs[1].Display)
	}
	// periph's aip31068 set-up: function set with two-line mode (0x28),
	// display on, clear (0x01), home, entry mode; each a command write.
	var cmds []byte
	for _, w := range bus.ops("1", 0x3e, 0) {
		if len(w) == 2 && w[0] == 0x00 {
			cmds = append(cmds, w[1])
		}
	}
	if !bytes.Contains(cmds, []byte{0x28}) || !bytes.Contains(cmds, []byte{0x01}) {
		t.Fatalf("commands to 0x3e at open % x, want the AiP31068 init (28 ... 01 ...)", cmds)
	}
	from := bus.count("1")
	if err := cs[1].Display.Show(hal.Screen{Connector: 2, PriceText: "0.30 EUR/kWh", Cost: "EUR 1.20", Final: true}); err != nil {
		t.Fatal(err)
	}
	want := append([]byte{0x40}, "Total EUR 1.20      "...) // one connector: no "#2"
	found := false
	for _, w := range bus.ops("1", 0x3e, from) {
		found = found || bytes.Equal(w, want)
	}
	if !found {
		t.Fatalf("writes % x, want the last line %q", bus.ops("1", 0x3e, from), want[1:])
	}
	from = bus.count("1")
	if err := built.Board.Halt(); err != nil {
		t.Fatal(err)
	}
	cleared := false
	for _, w := range bus.ops("1", 0x3e, from) {
		cleared = cleared || bytes.Equal(w, []byte{0x00, 0x01})
	}
	if !cleared {
		t.Fatalf("writes at Halt % x, want a clear (00 01)", bus.ops("1", 0x3e, from))
	}
}

// TestOpenDisplayMissing: a display that does not answer fails Open with
// an error naming it, after the outputs were made safe.
func TestOpenDisplayMissing(t *testing.T) {
	const sdm = `{driver: sim}`
	text := withConnectorDisplay(twoBoard(sdm, sdm), 1, `{driver: ssd1306, bus: "1", address: 0x3c}`)
	hw := newFakeHW()
	opts := hw.opts(nil)
	opts.I2C = func(string) (i2c.Bus, error) { return &i2ctest.Playback{DontPanic: true}, nil }
	path := t.TempDir() + "/board.yaml"
	writeFile(t, path, text)
	_, err := Open(path, opts)
	if err == nil || !strings.Contains(err.Error(), "display ssd1306 0x3c on I2C 1") {
		t.Fatalf("err = %v, want one naming the display", err)
	}
	if hw.pin("GPIO17").Read() != gpio.Low || hw.pin("GPIO27").Read() != gpio.Low {
		t.Error("contactor outputs not left open")
	}
}

// TestShippedDisplayExample: the commented display example of rpi-ads1115,
// uncommented, is a valid display block.
func TestShippedDisplayExample(t *testing.T) {
	text, err := files.ReadFile("files/rpi-ads1115.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	on := false
	for _, l := range strings.Split(string(text), "\n") {
		switch {
		case l == "    # display:":
			on = true
		case on && !strings.HasPrefix(l, "    #   "):
			on = false
		}
		if on {
			l = strings.Replace(l, "# ", "", 1)
		}
		lines = append(lines, l)
	}
	uncommented := strings.Join(lines, "\n")
	if uncommented == string(text) {
		t.Fatal("rpi-ads1115.yaml has no commented display example")
	}
	b, err := Load("rpi-ads1115.yaml", []byte(uncommented))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Spec.Displays) != 1 || b.Spec.Displays[0].Driver != periphboard.DisplaySSD1306 || !slices.Equal(b.Spec.Displays[0].Connectors, []int{1}) {
		t.Fatalf("displays %+v, want the SSD1306 of connector 1", b.Spec.Displays)
	}
	shipped, err := Load("rpi-ads1115.yaml", text)
	if err != nil || len(shipped.Spec.Displays) != 0 {
		t.Fatalf("shipped board: %v, displays %+v: want none (the example is commented out)", err, shipped.Spec.Displays)
	}
}
