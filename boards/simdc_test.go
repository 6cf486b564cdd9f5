package boards

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"periph.io/x/conn/v3/physic"
)

// The shipped sim-dc board opens as the simulated DC charger the file
// describes: its ratings, modules and EV reach the hal parts.
func TestOpenSimDC(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	b, err := Open("sim-dc", OpenOptions{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if b.SimDC == nil || b.Sim != nil || b.Board.Name() != "sim-dc" {
		t.Fatalf("Built = %+v, want the DC simulator", b)
	}
	cs := b.Board.Connectors()
	if len(cs) != 1 || cs[0].DC == nil {
		t.Fatalf("connectors %+v, want one DC connector", cs)
	}
	dc := cs[0].DC
	if err := dc.Validate(); err != nil {
		t.Fatal(err)
	}
	lim := dc.Supply.Limits()
	if lim.MaxCurrent != 200*physic.Ampere || lim.MaxPower != 120*physic.KiloWatt || lim.MaxVoltage != 1000*physic.Volt {
		t.Errorf("supply limits %+v, want 4 x 50 A / 30 kW at 1000 V", lim)
	}
	if dc.MaxCurrent != 200*physic.Ampere || cs[0].MaxCurrent != 200*physic.Ampere {
		t.Errorf("rating %v / %v, want 200 A", dc.MaxCurrent, cs[0].MaxCurrent)
	}
	if err := b.SimDC.Plug(1); err != nil {
		t.Fatal(err)
	}
	if r := dc.Vehicle.Request(); !r.Communicating || r.SoC != 20 || r.MaxVoltage != 410*physic.Volt || r.MaxCurrent != 250*physic.Ampere {
		t.Errorf("EV request %+v, want the file's EV at 20 %%", r)
	}
	m, err := b.Meters[1].Read(context.Background())
	if err != nil || !m.DC {
		t.Errorf("DC meter reading %+v, %v", m, err)
	}
	if b.LimitInput != nil || b.GridMeter != nil {
		t.Errorf("DC board with a limit input or grid meter: %+v", b)
	}
}

func TestLoadSimDCMistakes(t *testing.T) {
	for _, tc := range []struct{ name, dc, want string }{
		{"AC keys on a DC board", "  max_current: 32A\n  dc: {}\n", "sim.dc: a DC board has no max_current"},
		{"negative rating", "  dc:\n    max_current: -5A\n", "sim.dc.max_current: must be positive"},
		{"too many modules", "  dc:\n    modules: 100\n", "sim.dc.modules: 100, want 1-64"},
		{"EV voltages out of order", "  dc:\n    ev:\n      empty_voltage: 400V\n      full_voltage: 300V\n", "sim.dc: hal/sim: DC EV voltages"},
		{"SoC out of range", "  dc:\n    ev:\n      soc: 120\n", "sim.dc: hal/sim: invalid DC EV"},
		{"unknown key", "  dc:\n    volts: 3\n", "field volts not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := "name: x\ndescription: x\nplatform: sim\nsim:\n" + tc.dc
			_, err := Load("x.yaml", []byte(text))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load = %v, want ErrInvalid with %q", err, tc.want)
			}
		})
	}
}
