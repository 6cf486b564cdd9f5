package dcpower

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter/can"
	"periph.io/x/conn/v3/physic"
)

// Options configure a Group.
type Options struct {
	// Name names the group in logs, e.g. "connector 1 modules".
	Name string
	// Set is the modules' message set; Addresses the modules' addresses.
	// Required.
	Set       *MessageSet
	Addresses []int
	// Bus is the CAN interface. Required.
	Bus can.FrameSource
	// Fault, when set, is called from Run's goroutine when a module
	// faults or falls silent while the output is on (a board turns it into
	// a hal.SupplyFault event), with a detail for people.
	Fault func(detail string)
	// Clock paces the commands and times the silence; nil means the wall
	// clock.
	Clock clock.Clock
	// Logger receives module changes; nil means slog.Default().
	Logger *slog.Logger
}

// module is one module's last status.
type module struct {
	addr     int
	v        physic.ElectricPotential
	i        physic.ElectricCurrent
	fault    bool
	seen     time.Time // last status frame; zero: never
	reported bool      // its loss was reported through Fault
}

// Group is power modules in parallel on one CAN bus, as one
// hal.PowerSupply. Safe for concurrent use.
type Group struct {
	o Options

	mu   sync.Mutex // guards on, setV, setI and mods
	on   bool
	setV physic.ElectricPotential
	setI physic.ElectricCurrent
	mods []*module
}

var _ hal.PowerSupply = (*Group)(nil)

// New checks o and returns the Group; nothing is sent before Run.
func New(o Options) (*Group, error) {
	if o.Set == nil || o.Bus == nil || len(o.Addresses) == 0 {
		return nil, errors.New("dcpower: message set, bus and module addresses are required")
	}
	if err := o.Set.Validate(); err != nil {
		return nil, err
	}
	g := &Group{o: o}
	seen := map[int]bool{}
	for _, a := range o.Addresses {
		for _, f := range []*Frame{&o.Set.Command, &o.Set.Status} {
			if a < 0 || uint32(a)&^f.AddressMask != 0 {
				return nil, fmt.Errorf("dcpower: module address %d does not fit the mask %#x", a, f.AddressMask)
			}
		}
		if seen[a] {
			return nil, fmt.Errorf("dcpower: module address %d twice", a)
		}
		seen[a] = true
		g.mods = append(g.mods, &module{addr: a})
	}
	g.o.Clock = clock.Or(o.Clock)
	if g.o.Logger == nil {
		g.o.Logger = slog.Default()
	}
	if g.o.Name == "" {
		g.o.Name = "power modules (" + o.Set.Name + ")"
	}
	return g, nil
}

// IDs returns the identifiers of the modules' status frames, for a CAN
// socket's receive filter.
func (g *Group) IDs() []uint32 {
	var out []uint32
	for _, m := range g.mods {
		out = append(out, g.o.Set.Status.id(m.addr))
	}
	return out
}

// String implements hal.Resource.
func (g *Group) String() string { return g.o.Name }

// Halt implements hal.Resource: the output goes off, and the modules are
// told so at once.
func (g *Group) Halt() error { return g.Off() }

// Set implements hal.PowerSupply: each module online gets v and its share
// of i from the next command on (at once, without waiting for the period).
func (g *Group) Set(v physic.ElectricPotential, i physic.ElectricCurrent) error {
	if v < 0 || i < 0 {
		return fmt.Errorf("%s: negative setpoint %v, %v", g, v, i)
	}
	g.mu.Lock()
	g.on, g.setV, g.setI = true, v, i
	g.mu.Unlock()
	return g.send()
}

// Off implements hal.PowerSupply; the modules are told at once.
func (g *Group) Off() error {
	g.mu.Lock()
	g.on, g.setV, g.setI = false, 0, 0
	g.mu.Unlock()
	return g.send()
}

// onlineLocked reports whether m counts; g.mu is held.
func (g *Group) onlineLocked(m *module, now time.Time) bool {
	return !m.seen.IsZero() && now.Sub(m.seen) <= g.o.Set.Timeout() && !m.fault
}

// Limits implements hal.PowerSupply: the ratings of the modules online
// added up (voltage limits are each module's).
func (g *Group) Limits() hal.SupplyLimits {
	minV, maxV, maxI, maxP := g.o.Set.limits()
	now := g.o.Clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, m := range g.mods {
		if g.onlineLocked(m, now) {
			n++
		}
	}
	if n == 0 {
		return hal.SupplyLimits{}
	}
	return hal.SupplyLimits{MinVoltage: minV, MaxVoltage: maxV,
		MaxCurrent: physic.ElectricCurrent(n) * maxI, MaxPower: physic.Power(n) * maxP}
}

// Output implements hal.PowerSupply: the highest voltage and the sum of
// the currents the modules online report.
func (g *Group) Output() (physic.ElectricPotential, physic.ElectricCurrent) {
	now := g.o.Clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	var v physic.ElectricPotential
	var i physic.ElectricCurrent
	for _, m := range g.mods {
		if g.onlineLocked(m, now) {
			v = max(v, m.v)
			i += m.i
		}
	}
	return v, i
}

// Run receives status frames and sends the commands every period until ctx
// ends (then it returns nil) or the bus fails.
func (g *Group) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recvErr := make(chan error, 1)
	go func() {
		for {
			f, err := g.o.Bus.Recv(ctx)
			if err != nil {
				if ctx.Err() != nil {
					err = nil
				}
				recvErr <- err
				cancel()
				return
			}
			g.receive(f)
		}
	}()
	for {
		if err := g.Tick(); err != nil && ctx.Err() == nil {
			g.o.Logger.Warn("power module command failed", "group", g.o.Name, "err", err)
		}
		if !clock.Sleep(ctx, g.o.Clock, g.o.Set.Period()) {
			break
		}
	}
	return <-recvErr
}

// Tick is one period of Run: it reports modules lost while the output is
// on and sends every module its command.
func (g *Group) Tick() error {
	now := g.o.Clock.Now()
	var lost []string
	g.mu.Lock()
	for _, m := range g.mods {
		down := !g.onlineLocked(m, now)
		if down && g.on && !m.reported {
			m.reported = true
			why := "silent"
			if m.fault {
				why = "fault"
			}
			lost = append(lost, fmt.Sprintf("module %d %s", m.addr, why))
		}
		if !down {
			m.reported = false
		}
	}
	g.mu.Unlock()
	if f := g.o.Fault; f != nil {
		for _, d := range lost {
			f(fmt.Sprintf("%s: %s", g.o.Name, d))
		}
	}
	return g.send()
}

// send sends every module its command now.
func (g *Group) send() error {
	now := g.o.Clock.Now()
	set := g.o.Set
	g.mu.Lock()
	n := 0
	for _, m := range g.mods {
		if g.onlineLocked(m, now) {
			n++
		}
	}
	on, v, share := g.on, g.setV, physic.ElectricCurrent(0)
	if n > 0 {
		share = g.setI / physic.ElectricCurrent(n)
	}
	frames := make([]can.Frame, 0, len(g.mods))
	for _, m := range g.mods {
		data := make([]byte, set.Command.Length)
		mon := on && g.onlineLocked(m, now)
		mv, mi := v, share
		if !mon {
			mv, mi = 0, 0
		}
		for i := range set.Command.Fields {
			f := &set.Command.Fields[i]
			switch f.Name {
			case "voltage":
				f.put(data, f.encode(float64(mv)/float64(physic.Volt)))
			case "current":
				f.put(data, f.encode(float64(mi)/float64(physic.Ampere)))
			case "on":
				if mon {
					f.put(data, f.On)
				} else {
					f.put(data, f.Off)
				}
			case "const":
				f.put(data, f.Value)
			}
		}
		frames = append(frames, can.Frame{ID: set.Command.id(m.addr), Extended: set.Extended, Data: data})
	}
	g.mu.Unlock()
	var errs []error
	for _, f := range frames {
		if err := g.o.Bus.Send(f); err != nil {
			errs = append(errs, fmt.Errorf("%s: send %#x: %w", g.o.Name, f.ID, err))
		}
	}
	return errors.Join(errs...)
}

// receive takes one frame: a module's status, or something else (ignored).
func (g *Group) receive(f can.Frame) {
	set := g.o.Set
	if f.Remote || f.Extended != set.Extended || len(f.Data) < set.Status.Length {
		return
	}
	a, ok := set.Status.address(f.ID)
	if !ok {
		return
	}
	now := g.o.Clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, m := range g.mods {
		if m.addr != a {
			continue
		}
		for i := range set.Status.Fields {
			fd := &set.Status.Fields[i]
			switch fd.Name {
			case "voltage":
				m.v = physic.ElectricPotential(max(0, fd.decode(f.Data)) * float64(physic.Volt))
			case "current":
				m.i = physic.ElectricCurrent(max(0, fd.decode(f.Data)) * float64(physic.Ampere))
			case "fault":
				fault := fd.get(f.Data)&fd.Mask != 0
				if fault != m.fault {
					g.o.Logger.Warn("power module fault changed", "group", g.o.Name, "module", a, "fault", fault)
				}
				m.fault = fault
			}
		}
		m.seen = now
	}
}
