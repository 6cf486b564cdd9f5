package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	metersim "github.com/evsed/evsed/meter/sim"
	"periph.io/x/conn/v3/physic"
)

// Errors of the control methods, wrapped with detail; test with errors.Is.
var (
	// ErrNoConnector means a connector number outside 1..N.
	ErrNoConnector = errors.New("hal/sim: no such connector")
	// ErrTransition means the EV cannot do that now (Charge while unplugged,
	// Plug while plugged in).
	ErrTransition = errors.New("hal/sim: invalid transition")
	// ErrFaultKind means a fault kind other than those of FaultKind.
	ErrFaultKind = errors.New("hal/sim: unknown fault kind")
	// ErrRunning means Run or Start was called while the board runs (a
	// Run not returned, a Start not stopped).
	ErrRunning = errors.New("hal/sim: board already running")
)

// Options configure a Board. The zero value is the default "sim" board: 2
// connectors of 32 A on 3 phases at 230 V, each with a 32 A three-phase EV of
// unlimited capacity, meters starting at 0, on the wall clock.
type Options struct {
	// Name is what Name returns; "" means "sim".
	Name string
	// Connectors is the number of outlets; 0 means 2.
	Connectors int
	// MaxCurrent is each outlet's rating per phase, 6-80 A; 0 means 32 A.
	// Pilot.Offer clamps to it.
	MaxCurrent physic.ElectricCurrent
	// Phases is each outlet's number of phases, 1 or 3; 0 means 3.
	Phases int
	// PhaseSwitch gives each three-phase outlet a phase relay
	// (hal.PhaseSwitch), starting on three phases.
	PhaseSwitch bool
	// Voltage is the supply's nominal phase-to-neutral voltage; 0 means 230 V.
	Voltage physic.ElectricPotential
	// EV is the vehicle model of every connector (see SetEV to change one).
	EV EV
	// MeterStart is every meter's initial import register.
	MeterStart meter.Energy
	// Clock is the time base; nil means the wall clock.
	Clock clock.Clock
	// Logger receives debug logs of the simulation; nil means slog.Default().
	Logger *slog.Logger
}

// Board is a simulated EVSE board. Build it with New; it is safe for
// concurrent use.
type Board struct {
	name       string
	clk        clock.Clock
	log        *slog.Logger // without the board's name: see logAt
	voltage    physic.ElectricPotential
	maxCurrent physic.ElectricCurrent // every outlet's rating per phase
	conns      []conn                 // index id-1; the slice is immutable
	wired      uint8                  // phases wired to every outlet, 1 or 3
	// phaseSwitch gives every outlet a phase relay between 1 and wired.
	phaseSwitch bool

	// mu guards the mutable fields of every conn, and input. It is never
	// held while calling the sink; the meters' locks nest inside it.
	mu    sync.Mutex
	input bool // the limit input is asserted (SetInput)

	events eventQueue
}

var _ hal.Board = (*Board)(nil)

// New builds a board from o. Nothing runs until Run; the control methods and
// hal parts work before it, their events waiting in the queue.
func New(o Options) (*Board, error) {
	if o.Connectors < 0 {
		return nil, fmt.Errorf("hal/sim: %d connectors", o.Connectors)
	}
	if o.Connectors == 0 {
		o.Connectors = 2
	}
	if o.Connectors > math.MaxInt32 {
		return nil, fmt.Errorf("hal/sim: %d connectors", o.Connectors)
	}
	if o.MaxCurrent == 0 {
		o.MaxCurrent = 32 * physic.Ampere
	}
	if o.MaxCurrent < hal.MinOffer || o.MaxCurrent > hal.MaxOffer {
		return nil, fmt.Errorf("hal/sim: connector max current %v, want 6-80 A", o.MaxCurrent)
	}
	if o.Phases == 0 {
		o.Phases = 3
	}
	if o.Phases != 1 && o.Phases != 3 {
		return nil, fmt.Errorf("hal/sim: %d phases, want 1 or 3", o.Phases)
	}
	if o.Voltage == 0 {
		o.Voltage = 230 * physic.Volt
	}
	if o.Voltage < 0 {
		return nil, fmt.Errorf("hal/sim: negative voltage %v", o.Voltage)
	}
	ev, err := o.EV.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.Name == "" {
		o.Name = "sim"
	}
	b := &Board{
		// One allocation for all connectors rather than one each.
		conns:       make([]conn, o.Connectors),
		name:        o.Name,
		clk:         clock.Or(o.Clock),
		log:         o.Logger,
		voltage:     o.Voltage,
		maxCurrent:  o.MaxCurrent,
		wired:       uint8(o.Phases),
		phaseSwitch: o.PhaseSwitch && o.Phases == 3,
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	for i := range b.conns {
		c := &b.conns[i]
		c.b, c.id, c.phases, c.sensed = b, int32(i+1), b.wired, hal.PilotA
		c.setEV(ev)
		c.meter, err = metersim.New(metersim.Options{
			Name:    fmt.Sprintf("%s meter %d", o.Name, i+1),
			Clock:   b.clk,
			Start:   o.MeterStart,
			Initial: b.measure(c),
		})
		if err != nil {
			return nil, fmt.Errorf("hal/sim: connector %d: %w", i+1, err)
		}
		c.plugImport = o.MeterStart
	}
	return b, nil
}

// logAt writes a log record with the board's name as attribute "board", as
// b.log.With("board", name) would, but derives that logger only for a
// record the handler writes: a fleet holds thousands of boards that hardly
// ever log, and a logger kept per board costs each of them ~100 B.
func (b *Board) logAt(level slog.Level, msg string, args ...any) { b.output(level, msg, args) }

// debug is logAt at slog.LevelDebug.
func (b *Board) debug(msg string, args ...any) { b.output(slog.LevelDebug, msg, args) }

// output is logAt's body; its caller's caller is the record's source.
func (b *Board) output(level slog.Level, msg string, args []any) {
	ctx := context.Background()
	if !b.log.Enabled(ctx, level) {
		return
	}
	var pc [1]uintptr
	runtime.Callers(3, pc[:]) // skip Callers, output and logAt or debug
	r := slog.NewRecord(time.Now(), level, msg, pc[0])
	r.Add(args...)
	_ = b.log.Handler().WithAttrs([]slog.Attr{slog.String("board", b.name)}).Handle(ctx, r)
}

// String implements hal.Board.
func (b *Board) String() string { return "board " + b.name }

// Name implements hal.Board.
func (b *Board) Name() string { return b.name }

// Connectors implements hal.Board. The slice is made anew at each call
// (callers take it once, when they wire the station), so that the board
// keeps no second copy of what the station keeps.
func (b *Board) Connectors() []hal.Connector {
	out := make([]hal.Connector, 0, len(b.conns))
	for i := range b.conns {
		c := &b.conns[i]
		hc := hal.Connector{
			ID:         int(c.id),
			Pilot:      (*pilot)(c),
			Contactor:  (*contactor)(c),
			Lock:       (*lock)(c),
			RCD:        (*rcd)(c),
			Indicator:  (*indicator)(c),
			Display:    (*display)(c),
			MaxCurrent: b.maxCurrent,
			Phases:     int(b.wired),
		}
		if b.phaseSwitch {
			hc.PhaseSwitch = (*phaseRelay)(c)
		}
		out = append(out, hc)
	}
	return out
}

// Meter returns connector n's simulated meter, or nil when there is no such
// connector. It lives as long as the board.
func (b *Board) Meter(n int) *metersim.Meter {
	if n < 1 || n > len(b.conns) {
		return nil
	}
	return b.conns[n-1].meter
}

// Halt implements hal.Board: every contactor is commanded open, every pilot
// drives -12 V, every indicator goes off. Locks stay as they are.
func (b *Board) Halt() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.conns {
		c := &b.conns[i]
		b.openLocked(c, "halt")
		c.out, c.offer = outNegative, 0
		c.shown = hal.ShowOff
		b.update(c)
	}
	return nil
}

// conn returns connector n or an ErrNoConnector error.
func (b *Board) conn(n int) (*conn, error) {
	if n < 1 || n > len(b.conns) {
		return nil, fmt.Errorf("%w: %d (have 1-%d)", ErrNoConnector, n, len(b.conns))
	}
	return &b.conns[n-1], nil
}

// do runs f on connector n under b.mu and brings the model up to date.
func (b *Board) do(n int, f func(c *conn) error) error {
	c, err := b.conn(n)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := f(c); err != nil {
		return err
	}
	b.update(c)
	return nil
}
