package boards

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
)

func TestList(t *testing.T) {
	got := List()
	if len(got) == 0 || got[0].Name != "sim" || !got[0].Simulated || got[0].Source != SourceBuiltin {
		t.Fatalf("List() = %+v, want sim first, simulated, built in", got)
	}
	for _, i := range got {
		if i.Description == "" {
			t.Errorf("board %s has no description", i.Name)
		}
	}
}

func TestOpen(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	cases := []struct {
		name    string
		board   string
		opts    OpenOptions
		conns   int
		errIs   error
		errText string
	}{
		{"sim with defaults", "sim", OpenOptions{Clock: clk}, 2, nil, ""},
		{"sim with 5 connectors", "sim", OpenOptions{Clock: clk, Connectors: 5}, 5, nil, ""},
		{"sim with bad options", "sim", OpenOptions{Connectors: -1}, 0, nil, "boards: open sim"},
		{"unknown name lists the known boards", "rpi-evse", OpenOptions{}, 0, ErrUnknown, `"rpi-evse" (known boards: sim, rpi-ads1115, rpi-dc-example, rpi-relay, sim-dc)`},
		{"names are case-sensitive", "SIM", OpenOptions{}, 0, ErrUnknown, "known boards: sim"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Open(c.board, c.opts)
			if c.errText != "" {
				if err == nil || !strings.Contains(err.Error(), c.errText) || (c.errIs != nil && !errors.Is(err, c.errIs)) {
					t.Fatalf("err = %v, want one containing %q (is %v)", err, c.errText, c.errIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Sim == nil || b.Board.Name() != "sim" {
				t.Fatalf("Built = %+v, want the sim board", b)
			}
			cs := b.Board.Connectors()
			if len(cs) != c.conns || len(b.Meters) != c.conns {
				t.Fatalf("%d connectors and %d meters, want %d", len(cs), len(b.Meters), c.conns)
			}
			for _, hc := range cs {
				m := b.Meters[hc.ID]
				if m == nil {
					t.Fatalf("no meter for connector %d", hc.ID)
				}
				r, err := m.Read(context.Background())
				if err != nil {
					t.Fatalf("meter %d: %v", hc.ID, err)
				}
				if !r.Time.Equal(clk.Now()) {
					t.Fatalf("meter %d reads at %v, not on the injected clock", hc.ID, r.Time)
				}
			}
			// The meters are the sim's: a simulated meter fault reaches them.
			if err := b.Sim.Fault(1, "meter"); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Meters[1].Read(context.Background()); err == nil {
				t.Fatal("meter 1 reads after a simulated meter fault")
			}
		})
	}
}
