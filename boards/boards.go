package boards

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/periphboard"
	"github.com/evsed/evsed/hal/pilot"
	"github.com/evsed/evsed/hal/rfid"
	halsim "github.com/evsed/evsed/hal/sim"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
)

// files holds the shipped board files; they are read-only.
//
//go:embed files/*.yaml
var files embed.FS

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
	// board file's number (2 for sim). Real boards have the number their
	// board file says and ignore it.
	Connectors int
	// Pins looks up a real board's GPIO pins by name; nil means periph's
	// host drivers and registry (Linux only). Tests inject fakes here.
	Pins func(name string) (gpio.PinIO, error)
	// ADC opens a pilot or proximity ADC channel; nil means an ADS1115 on
	// periph's I2C registry.
	ADC func(a periphboard.ADC) (pilot.Channel, error)
	// CardReader opens a card reader chip; nil means an MFRC522 on periph's
	// SPI registry.
	CardReader func(c periphboard.CardReaderSpec, reset gpio.PinOut, irq gpio.PinIn) (rfid.UIDReader, error)
	// I2C opens a real board's I2C bus by its periph name ("1") for the
	// displays, and for the ADS1115s when ADC is nil; it is called once
	// per bus, and the bus stays the caller's. Nil means periph's i2creg
	// (Linux only), closed when the board is. Tests inject i2ctest buses.
	I2C func(name string) (i2c.Bus, error)
	// CAN opens the CAN interface iface for meters that receive the frame
	// identifiers ids; nil means SocketCAN (Linux only). Tests inject
	// cantest sources here.
	CAN func(iface string, ids []uint32) (CANSource, error)
	// GridMeter is the YAML text of the grid meter's block (see grid.go):
	// the keys of a connector's meter block, or driver sim with a house on
	// the simulated board. Nil means no grid meter (Built.GridMeter nil).
	GridMeter []byte
}

// Built is an opened board and its meters. Its values live until the
// board is halted and closed. The caller runs Board.Run and RunMeters, each
// in its own goroutine under one context, and on exit cancels that context,
// waits for both to return, calls Board.Halt and then Close.
type Built struct {
	Board hal.Board
	// Meters holds each connector's meter by connector ID; a connector
	// without a meter has no entry.
	Meters map[int]meter.Meter
	// Sim is the simulated board behind Board, for the local API's /sim
	// routes; nil for real hardware (the API answers 409 then).
	Sim *halsim.Board
	// SimDC is the simulated DC charger behind Board (board sim-dc), for
	// the local API's /sim routes; nil otherwise.
	SimDC *halsim.DCBoard
	// MeterBindings are the meter blocks of a real board's connectors, by
	// connector ID, as validated: what Meters were built from.
	MeterBindings map[int]MeterBinding
	// GridMeter is the grid meter of OpenOptions.GridMeter, for
	// station.GridOptions.Meter; nil without one. A Modbus grid meter on a
	// connector meter's line shares its bus; Close closes it with them.
	GridMeter meter.Meter
	// House is the simulated house behind a sim grid meter; nil otherwise.
	House *halsim.House
	// LimitInput is the board's limit input (the board file's
	// limit_input; always there on the simulated board), for
	// station.Options.LimitInput; nil when the board has none.
	LimitInput hal.Input

	meters *meterSet // nil for simulated boards
}

// RunMeters runs what the meters need in the background, the receive loops
// of CAN meters, until ctx ends; it then returns nil. If a CAN interface
// fails (it went down), it stops the other loops and returns the error:
// the meters on it would only go stale, which the station reports as a
// meter failure, while a restart reopens the socket. On a board without
// CAN meters it just waits for ctx. Call it once.
func (b *Built) RunMeters(ctx context.Context) error {
	if b.meters == nil {
		<-ctx.Done()
		return nil
	}
	return b.meters.run(ctx)
}

// Close closes the meters' Modbus buses and CAN sockets; the meters fail
// their reads afterwards. Call it once RunMeters has returned and the board
// is halted. The board's pins are not released: Board.Halt leaves them
// safe.
func (b *Built) Close() error {
	if b.meters == nil {
		return nil
	}
	return b.meters.close()
}

// shipped loads the embedded board files, in file name order. They are
// validated by the tests; a broken one is reported by List's caller as an
// Open error rather than hidden.
func shipped() ([]*Board, error) {
	ents, err := files.ReadDir("files")
	if err != nil {
		return nil, err
	}
	var out []*Board
	var errs []error
	for _, e := range ents {
		text, err := files.ReadFile("files/" + e.Name())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		b, err := Load("boards/"+e.Name(), text)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		b.Source = SourceBuiltin
		out = append(out, b)
	}
	return out, errors.Join(errs...)
}

// List returns the shipped boards: sim (the default) first, then the others
// sorted by name.
func List() []Info {
	bs, _ := shipped()
	var out []Info
	for _, b := range bs {
		out = append(out, b.Info)
	}
	slices.SortFunc(out, func(a, b Info) int {
		switch {
		case a.Name == "sim":
			return -1
		case b.Name == "sim":
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// isPath reports whether nameOrPath names a file rather than a shipped
// board.
func isPath(nameOrPath string) bool {
	return strings.ContainsRune(nameOrPath, os.PathSeparator) || strings.ContainsRune(nameOrPath, '/') ||
		strings.HasSuffix(nameOrPath, ".yaml") || strings.HasSuffix(nameOrPath, ".yml")
}

// find returns the shipped board called name, or the board file at a path,
// validated.
func find(nameOrPath string) (*Board, error) {
	if isPath(nameOrPath) {
		text, err := os.ReadFile(nameOrPath)
		if err != nil {
			return nil, fmt.Errorf("boards: %w", err)
		}
		return Load(nameOrPath, text)
	}
	bs, err := shipped()
	var names []string
	for _, b := range bs {
		if b.Name == nameOrPath {
			return b, nil
		}
	}
	if err != nil {
		return nil, err
	}
	for _, i := range List() {
		names = append(names, i.Name)
	}
	return nil, fmt.Errorf("%w %q (known boards: %s)", ErrUnknown, nameOrPath, strings.Join(names, ", "))
}

// Show returns the board file of a shipped board or a path, as text, after
// validating it: what `evsed boards show NAME` prints.
func Show(nameOrPath string) (string, error) {
	b, err := find(nameOrPath)
	if err != nil {
		return "", err
	}
	return b.Text, nil
}

// Open builds the board called nameOrPath: a shipped board's name, or the
// path of a board file. The file is validated completely before any pin is
// touched. An unknown name gives an error wrapping ErrUnknown that lists the
// known boards; a broken file one wrapping ErrInvalid that names the file
// and key of every mistake.
func Open(nameOrPath string, opts OpenOptions) (*Built, error) {
	b, err := find(nameOrPath)
	if err != nil {
		return nil, err
	}
	var built *Built
	if b.Sim != nil {
		built, err = openSim(b, opts)
	} else {
		built, err = openReal(b, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("boards: open %s: %w", b.Name, err)
	}
	return built, nil
}

// openReal builds a board through the periph drivers, and its meters. The
// meters come first: opening a CAN socket may fail, and nothing is to be
// undone then but the other meters' buses.
func openReal(b *Board, opts OpenOptions) (*Built, error) {
	if opts.GridMeter != nil {
		// Check it against the connectors' meters, then build it with
		// them, as meter 0.
		fm, err := parseGridMeter(opts.GridMeter)
		if err != nil {
			return nil, err
		}
		p := &problems{file: b.Source}
		mc := newMeterCheck(p)
		for id, cm := range b.fileMeters {
			mc.check(fmt.Sprintf("connector %d meter", id), cm, b.phases[id])
		}
		for _, iu := range b.isoUnits {
			mc.line(iu.key, iu.url, &iu.unit)
		}
		p.list = nil // validated at Load: only the grid meter's mistakes count
		if fm.Driver == MeterSim {
			p.add(gridKey+".driver", "sim is for the simulated board")
		}
		bind, _ := mc.check(gridKey, fm, 1)
		if err := p.err(); err != nil {
			return nil, err
		}
		withGrid := *b
		withGrid.Meters = maps.Clone(b.Meters)
		withGrid.Meters[0] = bind
		b = &withGrid
	}
	ms, err := buildMeters(b, opts)
	if err != nil {
		return nil, err
	}
	var grid meter.Meter
	if opts.GridMeter != nil {
		grid = ms.meters[0]
		delete(ms.meters, 0)
		delete(b.Meters, 0) // the clone's
	}
	canOf, busOf := ms.dcEnv()
	pb, err := periphboard.New(b.Spec, periphboard.Env{
		Pins: opts.Pins, ADC: opts.ADC, CardReader: opts.CardReader, I2C: opts.I2C,
		CAN: canOf, Modbus: busOf, Clock: opts.Clock, Logger: opts.Logger,
	})
	if err != nil {
		return nil, errors.Join(err, ms.close())
	}
	return &Built{Board: pb, Meters: ms.meters, MeterBindings: b.Meters, GridMeter: grid, LimitInput: pb.LimitInput(), meters: ms}, nil
}

// openSim builds the simulated board with a simulated meter per connector.
func openSim(f *Board, opts OpenOptions) (*Built, error) {
	n := opts.Connectors
	if n == 0 {
		n = f.Sim.Connectors
	}
	if f.Sim.DC != nil {
		return openSimDC(f, n, opts)
	}
	b, err := halsim.New(halsim.Options{Name: f.Name, Connectors: n, MaxCurrent: f.Sim.MaxCurrent, Phases: f.Sim.Phases,
		PhaseSwitch: f.Sim.PhaseSwitch, Clock: opts.Clock, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	meters := make(map[int]meter.Meter)
	for _, c := range b.Connectors() {
		meters[c.ID] = b.Meter(c.ID)
	}
	built := &Built{Board: b, Meters: meters, Sim: b, LimitInput: b.Input()}
	if opts.GridMeter != nil {
		fm, err := parseGridMeter(opts.GridMeter)
		if err != nil {
			return nil, err
		}
		p := &problems{file: f.Source}
		if fm.Driver != MeterSim {
			p.add(gridKey+".driver", "%q: the simulated board's grid meter is driver sim (the simulated house)", fm.Driver)
		}
		newMeterCheck(p).check(gridKey, fm, 1)
		ho := houseOptions(p, fm.House)
		if err := p.err(); err != nil {
			return nil, err
		}
		ho.Clock = opts.Clock
		house, err := halsim.NewHouse(ho)
		if err != nil {
			return nil, err
		}
		built.House, built.GridMeter = house, house.GridMeter(b)
	}
	return built, nil
}

// openSimDC builds the simulated DC charger with its DC meters.
func openSimDC(f *Board, n int, opts OpenOptions) (*Built, error) {
	if opts.GridMeter != nil {
		return nil, errors.New("a grid meter is not supported on the simulated DC board yet")
	}
	o := *f.Sim.DC
	o.Name, o.Connectors, o.Clock, o.Logger = f.Name, n, opts.Clock, opts.Logger
	b, err := halsim.NewDC(o)
	if err != nil {
		return nil, err
	}
	meters := make(map[int]meter.Meter)
	for _, c := range b.Connectors() {
		meters[c.ID] = b.Meter(c.ID)
	}
	return &Built{Board: b, Meters: meters, SimDC: b}, nil
}
