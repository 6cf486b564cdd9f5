package station

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/haltest"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// A panic in any goroutine the station starts kills the process, and Go
// lets no other goroutine recover it: the station must halt the hardware
// itself on the way down. The test runs the panicking station in a child
// process (this test binary again) and checks that the contactor was halted
// before the panic ended it.
func TestPanicInStationGoroutineHaltsHardware(t *testing.T) {
	if os.Getenv("EVSED_STATION_PANIC_CHILD") == "1" {
		panickingStation()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPanicInStationGoroutineHaltsHardware$")
	cmd.Env = append(os.Environ(), "EVSED_STATION_PANIC_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("child exited 0, want a panic:\n%s", out)
	}
	text := string(out)
	halted := strings.Index(text, "HALT connector 1 contactor")
	panicked := strings.Index(text, "panic: meter exploded")
	if halted < 0 || panicked < 0 || halted > panicked {
		t.Fatalf("want the contactor halted before the panic; child output:\n%s", text)
	}
}

// printingContactor reports Halt on stderr, which outlives the process's
// last moments unbuffered.
type printingContactor struct{ closed atomic.Bool }

func (c *printingContactor) String() string { return "connector 1 contactor" }
func (c *printingContactor) Halt() error {
	c.closed.Store(false)
	fmt.Fprintln(os.Stderr, "HALT connector 1 contactor")
	return nil
}
func (c *printingContactor) Close() error { c.closed.Store(true); return nil }
func (c *printingContactor) Open() error  { c.closed.Store(false); return nil }
func (c *printingContactor) Closed() bool { return c.closed.Load() }

// explodingMeter answers its first read and panics at the second, on the
// station's sampler goroutine.
type explodingMeter struct{ reads atomic.Int32 }

func (m *explodingMeter) String() string { return "exploding meter" }
func (m *explodingMeter) Read(context.Context) (meter.Reading, error) {
	if m.reads.Add(1) > 1 {
		panic("meter exploded")
	}
	return meter.Reading{Fields: meter.FieldEnergyImport}, nil
}

func panickingStation() {
	log := &haltest.Log{}
	st, err := New(Options{
		ID: "panic",
		Connectors: []ConnectorConfig{{
			Hardware: hal.Connector{ID: 1, Pilot: haltest.NewPilot("pilot", log), Contactor: &printingContactor{},
				MaxCurrent: 16 * physic.Ampere, Phases: 1},
			Meter: &explodingMeter{},
		}},
		Config: DefaultConfig(),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	// The sampler's second read, a second later on the wall clock, panics.
	st.Run(context.Background())
}
