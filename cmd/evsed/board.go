package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/evsed/evsed/boards"
	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/meter"
)

// openedBoard is what the wiring needs from an opened board.
type openedBoard struct {
	Board hal.Board
	// Meters are the board's meters by connector id; a connector without
	// one has no entry.
	Meters map[int]meter.Meter
	// Sim drives the simulated vehicles; nil when the board is not
	// simulated.
	Sim localapi.Sim
	// RunMeters feeds the meters that need a receiver (CAN) until ctx ends;
	// Close releases the meter buses (serial ports, sockets) after the
	// board is halted. Both are no-ops for boards without such meters.
	RunMeters func(ctx context.Context) error
	Close     func() error
	// GridMeter is the meter at the house connection (station.grid.meter),
	// nil without one; LimitInput the board's limit input, nil without
	// one.
	GridMeter  meter.Meter
	LimitInput hal.Input
}

// openBoard opens the built-in board called name, or the board file at
// that path, with the grid meter of the YAML block gridMeter (nil: none).
func openBoard(name string, log *slog.Logger, gridMeter []byte) (*openedBoard, error) {
	b, err := boards.Open(name, boards.OpenOptions{Clock: clock.Real{}, Logger: log, GridMeter: gridMeter})
	if err != nil {
		return nil, err
	}
	ob := &openedBoard{Board: b.Board, Meters: b.Meters, RunMeters: b.RunMeters, Close: b.Close,
		GridMeter: b.GridMeter, LimitInput: b.LimitInput}
	// A nil *sim.Board (or *sim.DCBoard) must stay a nil interface: the
	// API tests Sim == nil.
	switch {
	case b.Sim != nil:
		ob.Sim = simAPI{b.Sim}
	case b.SimDC != nil:
		ob.Sim = simDCAPI{b.SimDC}
	}
	return ob, nil
}

// cmdBoards implements `evsed boards` (list the built-in boards) and
// `evsed boards show NAME|FILE` (print one board file, validated).
func cmdBoards(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "show" {
		return cmdBoardsShow(args[1:], stdout, stderr)
	}
	if len(args) != 0 {
		fmt.Fprintf(stderr, "evsed boards: takes no arguments but show NAME|FILE, got %q\n%s", args[0], usageText)
		return exitUsage
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, b := range boards.List() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", b.Name, b.Source, b.Description)
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "evsed boards: %v\n", err)
		return exitError
	}
	return exitOK
}

// cmdBoardsShow implements `evsed boards show NAME|FILE`: it prints the
// board file as written, comments included (they document the wiring),
// once it has passed the same validation as `evsed run --board`.
func cmdBoardsShow(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintf(stderr, "evsed boards show: want one board NAME or FILE\n%s", usageText)
		return exitUsage
	}
	text, err := boards.Show(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "evsed boards show: %v\n", err)
		return exitError
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	if _, err := io.WriteString(stdout, text); err != nil {
		fmt.Fprintf(stderr, "evsed boards show: %v\n", err)
		return exitError
	}
	return exitOK
}
