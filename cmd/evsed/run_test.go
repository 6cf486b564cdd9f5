package main

import (
	"context"
	"strings"
	"testing"

	"github.com/evsed/evsed/cmd/evsed/internal/config"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// fakeBoard is a board of n 32 A three-phase connectors without parts.
type fakeBoard struct{ conns []hal.Connector }

func newFakeBoard(n int) *fakeBoard {
	b := &fakeBoard{}
	for i := 1; i <= n; i++ {
		b.conns = append(b.conns, hal.Connector{ID: i, MaxCurrent: 32 * physic.Ampere, Phases: 3})
	}
	return b
}

func (b *fakeBoard) String() string                               { return "fake board" }
func (b *fakeBoard) Halt() error                                  { return nil }
func (b *fakeBoard) Name() string                                 { return "fake" }
func (b *fakeBoard) Connectors() []hal.Connector                  { return b.conns }
func (b *fakeBoard) Run(ctx context.Context, sink hal.Sink) error { <-ctx.Done(); return nil }

type namedMeter string

func (m namedMeter) String() string                              { return string(m) }
func (m namedMeter) Read(context.Context) (meter.Reading, error) { return meter.Reading{}, nil }

func TestConnectorConfigs(t *testing.T) {
	tests := []struct {
		name      string
		over      map[int]config.Connector
		wantMax   []physic.ElectricCurrent
		wantPhase []int
		wantErr   string
	}{
		{name: "no overrides", wantMax: []physic.ElectricCurrent{32 * physic.Ampere, 32 * physic.Ampere}, wantPhase: []int{3, 3}},
		{name: "lower current and phases", over: map[int]config.Connector{2: {MaxCurrentA: 16, Phases: 1}},
			wantMax: []physic.ElectricCurrent{32 * physic.Ampere, 16 * physic.Ampere}, wantPhase: []int{3, 1}},
		{name: "fractional current", over: map[int]config.Connector{1: {MaxCurrentA: 6.5}},
			wantMax: []physic.ElectricCurrent{6500 * physic.MilliAmpere, 32 * physic.Ampere}, wantPhase: []int{3, 3}},
		{name: "above rating", over: map[int]config.Connector{1: {MaxCurrentA: 40}}, wantErr: "exceeds the board's rating"},
		{name: "unknown connector", over: map[int]config.Connector{3: {Phases: 1}}, wantErr: "has no connector 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &openedBoard{Board: newFakeBoard(2), Meters: map[int]meter.Meter{1: namedMeter("m1")}}
			got, err := connectorConfigs(b, tt.over)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range got {
				if c.Hardware.MaxCurrent != tt.wantMax[i] || c.Hardware.Phases != tt.wantPhase[i] {
					t.Errorf("connector %d: %s %d phases, want %s %d", c.Hardware.ID, c.Hardware.MaxCurrent, c.Hardware.Phases, tt.wantMax[i], tt.wantPhase[i])
				}
			}
			if got[0].Meter == nil || got[0].Meter.String() != "m1" || got[1].Meter != nil {
				t.Errorf("meters = %v, %v; want m1 on connector 1 only", got[0].Meter, got[1].Meter)
			}
			if b.Board.Connectors()[0].MaxCurrent != 32*physic.Ampere {
				t.Error("overrides changed the board's own connector values")
			}
		})
	}
}
