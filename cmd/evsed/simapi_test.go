package main

import (
	"errors"
	"io"
	"log/slog"
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
