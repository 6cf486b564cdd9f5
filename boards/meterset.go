package boards

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/meter/can"
	"github.com/evsed/evsed/meter/modbus"
	metersim "github.com/evsed/evsed/meter/sim"
)

// CANSource is a CAN interface as Open uses it: a can.FrameSource that is
// closed when the board is.
type CANSource interface {
	can.FrameSource
	Close() error
}

// openSocketCAN is the default OpenOptions.CAN.
func openSocketCAN(iface string, ids []uint32) (CANSource, error) {
	s, err := can.OpenSocketCAN(iface, ids)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// meterSet is the meters of a board and the buses and sockets they own.
type meterSet struct {
	meters map[int]meter.Meter
	buses  []*modbus.Bus          // one per physical Modbus line
	byURL  map[string]*modbus.Bus // the buses by the URL the board file writes
	lines  []*canLine             // one per CAN interface
}

// close closes every bus and socket of s.
func (s *meterSet) close() error {
	var errs []error
	for _, b := range s.buses {
		if err := b.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", b, err))
		}
	}
	for _, l := range s.lines {
		if l.src == nil {
			continue // not opened: buildMeters failed before or on it
		}
		if err := l.src.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", l.iface, err))
		}
	}
	return errors.Join(errs...)
}

// buildMeters builds the meters the validated board b binds: one
// modbus.Bus per line and one CAN socket per interface, shared by the
// meters on it. On error whatever was opened is closed again.
func buildMeters(b *Board, opts OpenOptions) (*meterSet, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	openCAN := opts.CAN
	if openCAN == nil {
		openCAN = openSocketCAN
	}
	phases := map[int]int{}
	for _, c := range b.Spec.Connectors {
		phases[c.ID] = c.Phases
		if c.DC != nil {
			phases[c.ID] = 1 // a DC meter reads as phase 1
		}
	}
	ids := make([]int, 0, len(b.Meters))
	for id := range b.Meters {
		ids = append(ids, id)
	}
	slices.Sort(ids)

	s := &meterSet{meters: map[int]meter.Meter{}, byURL: map[string]*modbus.Bus{}}
	fail := func(err error) (*meterSet, error) {
		return nil, errors.Join(err, s.close())
	}

	// Lines first: the loader made every meter on a line write the same
	// URL, and the options stated on any of them hold for the line.
	buses := map[string]*modbus.Bus{}
	lineOpts := map[string]*modbus.Options{}
	var urls []string
	for _, id := range ids {
		mb := b.Meters[id].Modbus
		if mb == nil {
			continue
		}
		o := lineOpts[mb.Bus]
		if o == nil {
			o = &modbus.Options{Clock: opts.Clock, Logger: log}
			lineOpts[mb.Bus] = o
			urls = append(urls, mb.Bus)
		}
		o.Timeout = max(o.Timeout, mb.BusOptions.Timeout)
		o.Attempts = max(o.Attempts, mb.BusOptions.Attempts)
		o.FrameDelay = max(o.FrameDelay, mb.BusOptions.FrameDelay)
	}
	// The DC connectors' isolation monitors: on a meter's line, or on a
	// line of their own with the default timing.
	for _, c := range b.Spec.Connectors {
		if c.DC == nil || lineOpts[c.DC.Isolation.Bus] != nil {
			continue
		}
		u := c.DC.Isolation.Bus
		lineOpts[u] = &modbus.Options{Clock: opts.Clock, Logger: log}
		urls = append(urls, u)
	}
	for _, u := range urls {
		bus, err := modbus.NewBus(u, lineOpts[u])
		if err != nil {
			return fail(err)
		}
		buses[u] = bus
		s.byURL[u] = bus
		s.buses = append(s.buses, bus)
	}

	canLines := map[string]*canLine{}
	perIface := map[string]int{}
	for _, id := range ids {
		if cb := b.Meters[id].CAN; cb != nil {
			perIface[cb.Interface]++
		}
	}

	for _, id := range ids {
		bind := b.Meters[id]
		switch bind.Driver {
		case MeterSim:
			m, err := metersim.New(metersim.Options{
				Name:    fmt.Sprintf("sim#%d", id),
				Clock:   opts.Clock,
				Initial: metersim.Measurement{Phases: phases[id]},
			})
			if err != nil {
				return fail(fmt.Errorf("%s: %w", meterName(id), err))
			}
			s.meters[id] = m

		case MeterModbus:
			mb := bind.Modbus
			model, err := modbusModel(bind)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", meterName(id), err))
			}
			mo := mb.Meter
			m, err := modbus.NewMeter(buses[mb.Bus], model, mb.Unit, &mo)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", meterName(id), err))
			}
			s.meters[id] = m

		case MeterCAN:
			cb := bind.CAN
			dec, err := canDecoder(bind)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", meterName(id), err))
			}
			line := canLines[cb.Interface]
			if line == nil {
				line = &canLine{iface: cb.Interface}
				canLines[cb.Interface] = line
				s.lines = append(s.lines, line)
			}
			name := bind.Model + "@" + cb.Interface
			if perIface[cb.Interface] > 1 {
				name = fmt.Sprintf("%s#%d", name, id)
			}
			co := cb.Meter
			co.Name, co.Clock, co.Logger = name, opts.Clock, log
			m, err := can.New(line.tap(dec.IDs()), dec, &co)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", meterName(id), err))
			}
			line.meters = append(line.meters, m)
			s.meters[id] = m
		}
	}
	// The DC connectors' interfaces: the vehicle's with CHAdeMO's frames,
	// the power modules' unfiltered (the message set decides what they
	// answer, in 11 or 29 bits). periphboard taps them (dcEnv).
	for _, c := range b.Spec.Connectors {
		if c.DC == nil {
			continue
		}
		for _, iface := range []string{c.DC.Power.Interface, c.DC.Vehicle.Interface} {
			line := canLines[iface]
			if line == nil {
				line = &canLine{iface: iface}
				canLines[iface] = line
				s.lines = append(s.lines, line)
			}
			if iface == c.DC.Vehicle.Interface {
				line.ids = append(line.ids, chademoIDs()...)
			} else {
				line.unfiltered = true
			}
		}
	}
	// Sockets last, once every meter is known, with the kernel filter on
	// every identifier the interface's meters receive.
	for _, l := range s.lines {
		ids := l.ids
		if l.unfiltered {
			ids = nil
		}
		src, err := openCAN(l.iface, ids)
		if err != nil {
			return fail(fmt.Errorf("can %s: %w", l.iface, err))
		}
		l.src = src
	}
	return s, nil
}

// meterName names meter id in errors: connector id's, or (0) the grid
// meter.
func meterName(id int) string {
	if id == 0 {
		return "grid meter"
	}
	return fmt.Sprintf("connector %d meter", id)
}

// modbusModel returns the model a validated modbus binding names.
func modbusModel(b MeterBinding) (*modbus.Model, error) {
	if b.Model == genericModel {
		return modbus.Generic(*b.Modbus.Generic)
	}
	return modbus.Lookup(b.Model)
}

// canDecoder returns the decoder a validated CAN binding configures.
func canDecoder(b MeterBinding) (can.Decoder, error) {
	if b.Model == "ivt-s" {
		o := b.CAN.IVTS
		return can.NewIVTS(&o)
	}
	m, err := can.Lookup(b.Model)
	if err != nil {
		return nil, err
	}
	return m.NewDecoder()
}

// canLine is one CAN interface shared by the meters on it. A FrameSource
// has one receiver, so the line receives every frame once and hands it to
// each meter through its tap; a meter's Decoder ignores the frames of the
// others.
type canLine struct {
	iface string
	ids   []uint32 // every identifier the meters receive, for the kernel filter
	// unfiltered: a power module group is on the line, whose identifiers
	// the socket does not filter.
	unfiltered bool
	src        CANSource
	taps       []*canTap
	meters     []*can.Meter
}

// tap returns a new meter's FrameSource on l; ids are its frame
// identifiers.
func (l *canLine) tap(ids []uint32) *canTap {
	l.ids = append(l.ids, ids...)
	t := &canTap{line: l, frames: make(chan can.Frame)}
	l.taps = append(l.taps, t)
	return t
}

// pump receives frames until ctx ends (it returns nil) or the interface
// fails, and hands each to every tap.
func (l *canLine) pump(ctx context.Context) error {
	for {
		f, err := l.src.Recv(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("can receive %s: %w", l.iface, err)
		}
		for i, t := range l.taps {
			g := f
			if i > 0 {
				// A received frame's data belongs to its receiver.
				g.Data = slices.Clone(f.Data)
			}
			select {
			case t.frames <- g:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// canTap is one meter's view of a shared canLine.
type canTap struct {
	line   *canLine
	frames chan can.Frame // from the line's pump
}

var _ can.FrameSource = (*canTap)(nil)

// Recv implements can.FrameSource.
func (t *canTap) Recv(ctx context.Context) (can.Frame, error) {
	select {
	case f := <-t.frames:
		return f, nil
	case <-ctx.Done():
		return can.Frame{}, ctx.Err()
	}
}

// Send implements can.FrameSource on the shared interface.
func (t *canTap) Send(f can.Frame) error { return t.line.src.Send(f) }

// run runs the receive loops of s's CAN meters until ctx ends (it returns
// nil) or one fails (it stops the others and returns that error).
func (s *meterSet) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var runs []func(context.Context) error
	for _, l := range s.lines {
		runs = append(runs, l.pump)
		for _, m := range l.meters {
			runs = append(runs, m.Run)
		}
	}
	errc := make(chan error, len(runs))
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r(ctx); err != nil {
				errc <- err
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	wg.Wait()
	return err
}
