package can_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/evsed/evsed/meter/can"
)

// Opening a real interface needs AF_CAN and a CAN (or vcan) interface, which
// test machines rarely have; the adapter's frame handling is what
// cantest.Source mirrors. What can be checked everywhere is that a failure
// to open is an error naming the interface, not a panic or a hang.
func TestOpenSocketCANMissingInterface(t *testing.T) {
	s, err := can.OpenSocketCAN("evsed-nocan0", []uint32{0x521})
	if err == nil {
		s.Close()
		t.Fatal("OpenSocketCAN on a missing interface succeeded")
	}
	if runtime.GOOS != "linux" && !errors.Is(err, can.ErrUnsupported) {
		t.Errorf("OpenSocketCAN on %s = %v, want ErrUnsupported", runtime.GOOS, err)
	}
	if runtime.GOOS == "linux" && !strings.Contains(err.Error(), "evsed-nocan0") {
		t.Errorf("OpenSocketCAN error %q does not name the interface", err)
	}
}
