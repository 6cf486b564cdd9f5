package boards

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	halsim "github.com/evsed/evsed/hal/sim"
	"github.com/evsed/evsed/meter"
)

// ErrUnknown is wrapped by Open for a name no board has.
var ErrUnknown = errors.New("boards: unknown board")

// SourceBuiltin is the Info.Source of boards compiled into evsed.
const SourceBuiltin = "builtin"

// Info describes a board for `evsed boards`.
type Info struct {
	Name        string
	Description string
	// Source says where the board comes from: SourceBuiltin, or (once board
	// files exist) the path of its board file.
	Source string
	// Simulated is true for boards whose Built.Sim is set.
	Simulated bool
}

// OpenOptions configure Open. The zero value opens with the wall clock,
// slog.Default() and each board's defaults.
type OpenOptions struct {
	// Clock is the time base of simulated boards and meters; nil means the
	// wall clock.
	Clock clock.Clock
	// Logger receives the board's logs; nil means slog.Default().
	Logger *slog.Logger
	// Connectors is the number of outlets of a simulated board; 0 means its
	// default (2). Real boards have the number their board file says and
	// ignore it.
	Connectors int
}

// Built is an opened board. Its values live until the board is halted and
// dropped; the caller runs Board.Run and calls Board.Halt on exit.
type Built struct {
	Board hal.Board
	// Meters holds each connector's meter by connector ID; a connector
	// without a meter has no entry.
	Meters map[int]meter.Meter
	// Sim is the simulated board behind Board, for the local API's /sim
	// routes; nil for real hardware (the API answers 409 then).
	Sim *halsim.Board
}

// entry is one known board: what List shows and how Open builds it.
type entry struct {
	info Info
	open func(OpenOptions) (*Built, error)
}

// registry returns the known boards, in List order. It builds the list on
// each call so that the package has no mutable state.
func registry() []entry {
	return []entry{{
		info: Info{
			Name:        "sim",
			Description: "simulated board: EV model per connector (plug, charge, pause, faults), simulated meters",
			Source:      SourceBuiltin,
			Simulated:   true,
		},
		open: openSim,
	}}
}

// List returns the known boards, sorted by name.
func List() []Info {
	var out []Info
	for _, e := range registry() {
		out = append(out, e.info)
	}
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Open builds the board called name. An unknown name gives an error wrapping
// ErrUnknown that lists the known boards.
func Open(name string, opts OpenOptions) (*Built, error) {
	var names []string
	for _, e := range registry() {
		if e.info.Name == name {
			b, err := e.open(opts)
			if err != nil {
				return nil, fmt.Errorf("boards: open %s: %w", name, err)
			}
			return b, nil
		}
		names = append(names, e.info.Name)
	}
	return nil, fmt.Errorf("%w %q (known boards: %s)", ErrUnknown, name, strings.Join(names, ", "))
}

// openSim builds the simulated board with a simulated meter per connector.
func openSim(opts OpenOptions) (*Built, error) {
	b, err := halsim.New(halsim.Options{Connectors: opts.Connectors, Clock: opts.Clock, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	meters := make(map[int]meter.Meter)
	for _, c := range b.Connectors() {
		meters[c.ID] = b.Meter(c.ID)
	}
	return &Built{Board: b, Meters: meters, Sim: b}, nil
}
