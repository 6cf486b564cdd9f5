package main

import (
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/evsed/evsed/hal/sim"
	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/station"
)

func TestSimAPIErrors(t *testing.T) {
	tests := []struct {
		name string
		do   func(s simAPI) error
		want error // nil = success
	}{
		{name: "plug", do: func(s simAPI) error { return s.Plug(1) }},
		{name: "charge unplugged", do: func(s simAPI) error { return s.Charge(2) }, want: localapi.ErrSimState},
		{name: "pause unplugged", do: func(s simAPI) error { return s.Pause(1) }, want: localapi.ErrSimState},
		{name: "unplug unplugged", do: func(s simAPI) error { return s.Unplug(1) }, want: localapi.ErrSimState},
		{name: "unknown connector", do: func(s simAPI) error { return s.Plug(3) }, want: station.ErrNoConnector},
		{name: "fault", do: func(s simAPI) error { return s.Fault(1, localapi.FaultRCD) }},
		{name: "fault unknown connector", do: func(s simAPI) error { return s.Fault(9, localapi.FaultClear) }, want: station.ErrNoConnector},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := sim.New(sim.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			err = tt.do(simAPI{b})
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSimAPIKindsMatch(t *testing.T) {
	// Every kind the API accepts must be one the simulator knows.
	for _, k := range localapi.FaultKinds() {
		b, err := sim.New(sim.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if err := (simAPI{b}).Fault(1, k); err != nil {
			t.Errorf("Fault(1, %q) = %v", k, err)
		}
	}
}

func TestSimDCAPI(t *testing.T) {
	newDC := func(t *testing.T) *sim.DCBoard {
		t.Helper()
		b, err := sim.NewDC(sim.DCOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Halt() })
		return b
	}
	tests := []struct {
		name string
		do   func(s simDCAPI) error
		want error // nil = success
	}{
		{name: "plug", do: func(s simDCAPI) error { return s.Plug(1) }},
		{name: "charge unplugged", do: func(s simDCAPI) error { return s.Charge(1) }, want: localapi.ErrSimState},
		{name: "unplug unplugged", do: func(s simDCAPI) error { return s.Unplug(1) }, want: localapi.ErrSimState},
		{name: "unknown connector", do: func(s simDCAPI) error { return s.Plug(2) }, want: station.ErrNoConnector},
		{name: "fault unknown connector", do: func(s simDCAPI) error { return s.Fault(2, localapi.FaultIsolation) }, want: station.ErrNoConnector},
		{name: "rcd is not a DC fault", do: func(s simDCAPI) error { return s.Fault(1, localapi.FaultRCD) }, want: sim.ErrFaultKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do(simDCAPI{newDC(t)})
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// Every kind the API accepts for a DC board is one the DC simulator
	// knows, and each reaches the board.
	for _, k := range (simDCAPI{}).FaultKinds() {
		b := newDC(t)
		if err := (simDCAPI{b}).Fault(1, k); err != nil {
			t.Errorf("Fault(1, %q) = %v", k, err)
		}
		st, err := b.State(1)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{
			localapi.FaultIsolation: st.IsolationFault, localapi.FaultPrecharge: st.PrechargeFault,
			localapi.FaultModule: st.ModuleFault, localapi.FaultWeld: st.Welded, localapi.FaultMeter: st.MeterFault,
			localapi.FaultEmergencyStop: st.EmergencyStop,
		}
		for kind, on := range got {
			if on != (kind == k) {
				t.Errorf("after fault %q: %s is %v", k, kind, on)
			}
		}
	}
}

func TestOpenBoardSimDC(t *testing.T) {
	ob, err := openBoard("sim-dc", slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Board.Halt()
	s, ok := ob.Sim.(simDCAPI)
	if !ok {
		t.Fatalf("Sim = %T, want simDCAPI", ob.Sim)
	}
	if !slices.Equal(s.FaultKinds(), localapi.DCFaultKinds()) {
		t.Errorf("fault kinds %v", s.FaultKinds())
	}
	cs := ob.Board.Connectors()
	if len(cs) != 1 || cs[0].DC == nil || ob.Meters[1] == nil {
		t.Errorf("connectors %+v, meters %v: want one DC connector with a meter", cs, ob.Meters)
	}
}
