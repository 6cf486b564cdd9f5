package boards

// Real boards are built here on periph's gpiotest.Pin and scripted fake
// ADC channels (this machine has no GPIO chip, I2C bus or SPI port), in
// virtual time on a clock.Fake.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/periphboard"
	"github.com/evsed/evsed/hal/pilot"
	"github.com/evsed/evsed/hal/pilot/pilottest"
	"github.com/evsed/evsed/hal/rfid"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
)

func TestShippedBoardsLoad(t *testing.T) {
	bs, err := shipped()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"sim": true, "rpi-ads1115": false, "rpi-dc-example": false, "rpi-relay": false, "sim-dc": true}
	for _, b := range bs {
		sim, ok := want[b.Name]
		if !ok {
			t.Errorf("unexpected shipped board %s", b.Name)
			continue
		}
		delete(want, b.Name)
		if b.Simulated != sim || (b.Sim != nil) != sim {
			t.Errorf("%s: simulated %v, want %v", b.Name, b.Simulated, sim)
		}
		if !sim && len(b.Spec.Connectors) == 0 {
			t.Errorf("%s: no connectors", b.Name)
		}
	}
	if len(want) != 0 {
		t.Fatalf("boards not shipped: %v", want)
	}
	names := []string{}
	for _, i := range List() {
		names = append(names, i.Name)
	}
	if strings.Join(names, ",") != "sim,rpi-ads1115,rpi-dc-example,rpi-relay,sim-dc" {
		t.Fatalf("List() = %v", names)
	}
	text, err := Show("rpi-relay")
	if err != nil || !strings.Contains(text, "driver: tethered") {
		t.Fatalf("Show(rpi-relay) = %q, %v", text, err)
	}
}

// minimal is a valid board file the broken cases edit.
const minimal = `name: t
description: test board
platform: raspberrypi
connectors:
  - id: 1
    max_current: 16A
    phases: 1
    pilot:
      driver: pwm
      pwm: {pin: GPIO18}
      sense:
        driver: ads1115
        bus: "1"
        address: 0x48
        high_channel: 0
        low_channel: 1
        divider: {offset: 1.65V, scale: 7.272727}
    cable: {driver: tethered, max_current: 16A}
    contactor:
      driver: relay
      out: {pin: GPIO17, active: high}
`

func TestBrokenBoardFiles(t *testing.T) {
	if _, err := Load("t.yaml", []byte(minimal)); err != nil {
		t.Fatalf("minimal board: %v", err)
	}
	cases := []struct {
		name     string
		old, new string
		want     string
	}{
		{"unknown pin", "GPIO17, active", "GPIO99, active", `t.yaml: connectors[0].contactor.out.pin: unknown pin "GPIO99"`},
		{"pin used twice", "GPIO17, active", "GPIO18, active", "t.yaml: connectors[0].contactor.out.pin: pin GPIO18 used twice (already connectors[0].pilot.pwm)"},
		{"pin taken by the I2C bus", "GPIO17, active", "GPIO2, active", "t.yaml: connectors[0].contactor.out.pin: pin GPIO2 used twice (already connectors[0].pilot.sense.bus (I2C 1))"},
		{"missing ADC", "      sense:\n", "      nosense:\n", "field nosense not found"},
		{"missing sense section", "      sense:\n        driver: ads1115\n        bus: \"1\"\n        address: 0x48\n        high_channel: 0\n        low_channel: 1\n        divider: {offset: 1.65V, scale: 7.272727}\n", "", "t.yaml: connectors[0].pilot.sense: missing ADC"},
		{"current too high", "max_current: 16A\n    phases", "max_current: 90A\n    phases", "t.yaml: connectors[0].max_current: current 90A out of range (6-80 A)"},
		{"current too low", "tethered, max_current: 16A", "tethered, max_current: 5A", "t.yaml: connectors[0].cable.max_current: current 5A out of range (6-80 A)"},
		{"unknown driver", "driver: relay", "driver: solenoid", `t.yaml: connectors[0].contactor.driver: unknown driver "solenoid" (want relay)`},
		{"bad level", "active: high", "active: up", `t.yaml: connectors[0].contactor.out.active: bad level "up" (want high or low)`},
		{"no hardware PWM", "pwm: {pin: GPIO18}", "pwm: {pin: GPIO4}", "t.yaml: connectors[0].pilot.pwm.pin: GPIO4 has no hardware PWM"},
		{"ADC channel twice", "low_channel: 1", "low_channel: 0", "t.yaml: connectors[0].pilot.sense.low_channel: channel 0 used twice"},
		{"bad address", "address: 0x48", "address: 0x50", "t.yaml: connectors[0].pilot.sense.address: 0x50, want 0x48-0x4b"},
		{"bad unit", "max_current: 16A\n    phases", "max_current: 16V\n    phases", "t.yaml: line 6"},
		{"unknown platform", "platform: raspberrypi", "platform: beaglebone", `t.yaml: platform: unknown platform "beaglebone"`},
		{"phases", "phases: 1", "phases: 2", "t.yaml: connectors[0].phases: 2, want 1 or 3"},
		{"missing contactor", "    contactor:\n      driver: relay\n      out: {pin: GPIO17, active: high}\n", "", "t.yaml: connectors[0].contactor: missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := strings.Replace(minimal, c.old, c.new, 1)
			if text == minimal {
				t.Fatalf("case does not change the file")
			}
			_, err := Load("t.yaml", []byte(text))
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant one containing %q", err, c.want)
			}
		})
	}
}

func TestOpenFromPath(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(minimal, "GPIO17", "GPIO18", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(bad, OpenOptions{Pins: func(string) (gpio.PinIO, error) {
		t.Fatal("a pin was looked up for an invalid board file")
		return nil, nil
	}})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), bad+": connectors[0].contactor.out.pin") {
		t.Fatalf("err = %v", err)
	}
}

// fakeHW hands out gpiotest pins and scripted ADC channels by name.
type fakeHW struct {
	mu   sync.Mutex
	pins map[string]*gpiotest.Pin
	adcs map[int]*pilottest.Channel // by channel number
}

func newFakeHW() *fakeHW {
	return &fakeHW{pins: map[string]*gpiotest.Pin{}, adcs: map[int]*pilottest.Channel{}}
}

func (h *fakeHW) pin(name string) *gpiotest.Pin {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, ok := h.pins[name]
	if !ok {
		p = &gpiotest.Pin{N: name}
		h.pins[name] = p
	}
	return p
}

func (h *fakeHW) adc(ch int) *pilottest.Channel {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.adcs[ch]
	if !ok {
		c = pilottest.NewChannel()
		h.adcs[ch] = c
	}
	return c
}

func (h *fakeHW) opts(clk clock.Clock) OpenOptions {
	return OpenOptions{
		Clock: clk,
		Pins:  func(name string) (gpio.PinIO, error) { return h.pin(name), nil },
		ADC:   func(a periphboard.ADC) (pilot.Channel, error) { return h.adc(a.Channel), nil },
		CardReader: func(periphboard.CardReaderSpec, gpio.PinOut, gpio.PinIn) (rfid.UIDReader, error) {
			return noCard{}, nil
		},
	}
}

type noCard struct{}

func (noCard) ReadUID(time.Duration) ([]byte, error) { return nil, errors.New("no card") }
func (noCard) Halt() error                           { return nil }

func TestRPiBoardCToBOpensContactor(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	hw := newFakeHW()
	// Healthy inputs: RCD fault output inactive (high), contactor mirror
	// open (low), lock switch unlocked (low); PP codes a 32 A cable
	// (220 Ω against 330 Ω to 3.3 V: 1.32 V).
	hw.pin("GPIO22").L = gpio.High
	hw.adc(2).Set(1320 * physic.MilliVolt)
	built, err := Open("rpi-ads1115", hw.opts(clk))
	if err != nil {
		t.Fatal(err)
	}
	if built.Sim != nil || built.MeterBindings[1].Model != "sdm630" {
		t.Fatalf("built %+v, want a real board with the sdm630 binding", built)
	}
	pb := built.Board.(*periphboard.Board)
	conn := built.Board.Connectors()[0]
	if hw.pin("GPIO18").Read() != gpio.Low || hw.pin("GPIO23").Read() != gpio.High || hw.pin("GPIO17").Read() != gpio.Low {
		t.Fatal("after Open: want pilot -12 V (GPIO18 low), stage enabled (GPIO23 high), contactor open (GPIO17 low)")
	}
	if err := conn.Contactor.Close(); !errors.Is(err, hal.ErrInterlock) {
		t.Fatalf("Close before the EV is in C: %v, want ErrInterlock", err)
	}

	var mu sync.Mutex
	var evs []hal.Event
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- built.Board.Run(ctx, func(e hal.Event) { mu.Lock(); evs = append(evs, e); mu.Unlock() })
	}()
	const period = 2 * time.Millisecond // rpi-ads1115 samples at 500 Hz
	step := func(k int) { pilottest.Step(t, clk, pb.Samplers(), k, period) }
	high, low := hw.adc(0), hw.adc(1)
	low.Set(-12 * physic.Volt)
	high.Set(9 * physic.Volt) // EV plugged in
	step(5)
	if err := conn.Pilot.Offer(32 * physic.Ampere); err != nil {
		t.Fatal(err)
	}
	high.Set(6 * physic.Volt) // EV asks for energy
	step(5)
	if err := conn.Contactor.Close(); err != nil {
		t.Fatal(err)
	}
	hw.pin("GPIO27").Out(gpio.High) // mirror contact follows
	step(50)                        // past the 100 ms settle: feedback agrees
	if hw.pin("GPIO17").Read() != gpio.High {
		t.Fatal("contactor pin not closed")
	}
	// C -> B just after a sample.
	high.Set(9 * physic.Volt)
	changed := clk.Now()
	budget := pb.Pilot(1).Latency()
	step(int(budget / period))
	if hw.pin("GPIO17").Read() != gpio.Low || conn.Contactor.Closed() {
		t.Fatalf("contactor still closed %v after C->B (budget %v)", clk.Now().Sub(changed), budget)
	}
	if budget != 6*time.Millisecond {
		t.Fatalf("budget %v, want 3 samples at 500 Hz = 6 ms", budget)
	}
	hw.pin("GPIO27").Out(gpio.Low)
	step(1)
	if err := built.Board.Halt(); err != nil {
		t.Fatal(err)
	}
	if hw.pin("GPIO18").Read() != gpio.Low {
		t.Fatal("Halt left the pilot off -12 V")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var states []string
	for _, e := range evs {
		if e.Kind == hal.PilotChanged {
			states = append(states, e.Pilot.String())
		} else if e.Kind != hal.FaultCleared {
			t.Errorf("unexpected event %v: %s", e.Kind, e.Detail)
		}
	}
	if strings.Join(states, "") != "BCB" {
		t.Fatalf("pilot events %v, want B C B", states)
	}
}

func TestOpenRealBoardWithoutHardware(t *testing.T) {
	// With no injected pins, the real periph path runs: on a machine
	// without the Pi's GPIO it must fail with a clear error, not panic.
	_, err := Open("rpi-relay", OpenOptions{})
	if err == nil {
		t.Skip("this machine has the board's GPIO pins")
	}
	if !strings.Contains(err.Error(), "boards: open rpi-relay") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}
