package haltest

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/physic"
)

// Call is one command a fake received.
type Call struct {
	Resource string // the fake's name, e.g. "pilot 1"
	// Op is the method: Offer, Unavailable, Close, Open, Lock, Unlock, Show,
	// SelfTest or Halt.
	Op         string
	Current    physic.ElectricCurrent // Offer's argument
	Indication hal.Indication         // Show's argument
	Err        error                  // what the call returned
}

// String formats c for comparisons and failure messages, e.g.
// "pilot 1 Offer(16A)", "contactor 1 Close: <error>".
func (c Call) String() string {
	s := c.Resource + " " + c.Op
	switch c.Op {
	case "Offer":
		s += "(" + c.Current.String() + ")"
	case "Show":
		s += fmt.Sprintf("(%d)", c.Indication)
	}
	if c.Err != nil {
		s += ": " + c.Err.Error()
	}
	return s
}

// Log records the calls of the fakes that share it, in the order they
// arrived. The zero value is ready; it is safe for concurrent use.
type Log struct {
	mu    sync.Mutex // guards calls
	calls []Call
}

func (l *Log) add(c Call) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

// Calls returns a copy of the calls so far.
func (l *Log) Calls() []Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Call(nil), l.calls...)
}

// Strings returns the calls so far as Call.String gives them.
func (l *Log) Strings() []string {
	var out []string
	for _, c := range l.Calls() {
		out = append(out, c.String())
	}
	return out
}

// String joins Strings with "; ", for failure messages.
func (l *Log) String() string { return strings.Join(l.Strings(), "; ") }

// Reset forgets the calls so far.
func (l *Log) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}

// fake is what every fake shares: a name, a log, injected errors. Its
// mutex also guards the embedding fake's state.
type fake struct {
	name string
	log  *Log
	mu   sync.Mutex       // guards errs and the embedding fake's state
	errs map[string]error // op -> error to return
}

// String implements hal.Resource.
func (f *fake) String() string { return f.name }

// Fail makes every later call of op (a method name, e.g. "Close") return err
// without changing the fake's state; a nil err clears it.
func (f *fake) Fail(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.errs == nil {
		f.errs = map[string]error{}
	}
	f.errs[op] = err
}

// call records c and returns the injected error for c.Op; f.mu is held.
func (f *fake) call(c Call) error {
	c.Resource = f.name
	c.Err = f.errs[c.Op]
	f.log.add(c)
	return c.Err
}

// Pilot is a fake hal.Pilot. State returns what SetState set (PilotA at
// first); Offer and Unavailable only record.
type Pilot struct {
	fake
	state       hal.PilotState
	offered     physic.ElectricCurrent
	unavailable bool
}

var _ hal.Pilot = (*Pilot)(nil)

// NewPilot returns a Pilot named name that records into log (nil: no log).
func NewPilot(name string, log *Log) *Pilot {
	return &Pilot{fake: fake{name: name, log: log}, state: hal.PilotA}
}

// SetState sets what State returns, as a sensed CP state would change.
func (p *Pilot) SetState(s hal.PilotState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = s
}

// Offered returns the last current offered and whether the pilot is at -12 V
// (Unavailable or Halt since the last Offer).
func (p *Pilot) Offered() (a physic.ElectricCurrent, unavailable bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.offered, p.unavailable
}

// Offer implements hal.Pilot.
func (p *Pilot) Offer(a physic.ElectricCurrent) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.call(Call{Op: "Offer", Current: a}); err != nil {
		return err
	}
	p.offered, p.unavailable = a, false
	return nil
}

// Unavailable implements hal.Pilot.
func (p *Pilot) Unavailable() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.call(Call{Op: "Unavailable"}); err != nil {
		return err
	}
	p.offered, p.unavailable = 0, true
	return nil
}

// Halt implements hal.Resource: as Unavailable, recorded as Halt.
func (p *Pilot) Halt() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.call(Call{Op: "Halt"}); err != nil {
		return err
	}
	p.offered, p.unavailable = 0, true
	return nil
}

// State implements hal.Pilot.
func (p *Pilot) State() hal.PilotState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// Contactor is a fake hal.Contactor. It closes whenever told, unless
// Fail("Close", hal.ErrInterlock) says otherwise.
type Contactor struct {
	fake
	closed bool
}

var _ hal.Contactor = (*Contactor)(nil)

// NewContactor returns a Contactor named name that records into log.
func NewContactor(name string, log *Log) *Contactor {
	return &Contactor{fake: fake{name: name, log: log}}
}

// Close implements hal.Contactor.
func (k *Contactor) Close() error { return k.set("Close", true) }

// Open implements hal.Contactor.
func (k *Contactor) Open() error { return k.set("Open", false) }

// Halt implements hal.Resource: as Open, recorded as Halt.
func (k *Contactor) Halt() error { return k.set("Halt", false) }

func (k *Contactor) set(op string, closed bool) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.call(Call{Op: op}); err != nil {
		return err
	}
	k.closed = closed
	return nil
}

// Closed implements hal.Contactor.
func (k *Contactor) Closed() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.closed
}

// Lock is a fake hal.Lock. Halt leaves it as it is.
type Lock struct {
	fake
	locked bool
}

var _ hal.Lock = (*Lock)(nil)

// NewLock returns a Lock named name that records into log.
func NewLock(name string, log *Log) *Lock { return &Lock{fake: fake{name: name, log: log}} }

// Lock implements hal.Lock.
func (l *Lock) Lock() error { return l.set("Lock", true) }

// Unlock implements hal.Lock.
func (l *Lock) Unlock() error { return l.set("Unlock", false) }

func (l *Lock) set(op string, locked bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.call(Call{Op: op}); err != nil {
		return err
	}
	l.locked = locked
	return nil
}

// Halt implements hal.Resource.
func (l *Lock) Halt() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.call(Call{Op: "Halt"})
}

// Locked implements hal.Lock.
func (l *Lock) Locked() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.locked
}

// RCD is a fake hal.RCD whose level the test sets with SetTripped.
type RCD struct {
	fake
	tripped bool
}

var _ hal.RCD = (*RCD)(nil)

// NewRCD returns an RCD named name that records into log.
func NewRCD(name string, log *Log) *RCD { return &RCD{fake: fake{name: name, log: log}} }

// SetTripped sets what Tripped returns. Reporting the trip is the test's
// business (Board.Emit).
func (r *RCD) SetTripped(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tripped = on
}

// Tripped implements hal.RCD.
func (r *RCD) Tripped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tripped
}

// SelfTest implements hal.RCD: it records the call and returns the error set
// with Fail("SelfTest", err).
func (r *RCD) SelfTest(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.call(Call{Op: "SelfTest"})
}

// Halt implements hal.Resource.
func (r *RCD) Halt() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.call(Call{Op: "Halt"})
}

// Indicator is a fake hal.Indicator.
type Indicator struct {
	fake
	shown hal.Indication
}

var _ hal.Indicator = (*Indicator)(nil)

// NewIndicator returns an Indicator named name that records into log.
func NewIndicator(name string, log *Log) *Indicator {
	return &Indicator{fake: fake{name: name, log: log}}
}

// Show implements hal.Indicator.
func (i *Indicator) Show(s hal.Indication) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if err := i.call(Call{Op: "Show", Indication: s}); err != nil {
		return err
	}
	i.shown = s
	return nil
}

// Shown returns the last indication shown.
func (i *Indicator) Shown() hal.Indication {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.shown
}

// Halt implements hal.Resource: the light goes off, recorded as Halt.
func (i *Indicator) Halt() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if err := i.call(Call{Op: "Halt"}); err != nil {
		return err
	}
	i.shown = hal.ShowOff
	return nil
}

// Connector is a set of fakes for one outlet, named "pilot N",
// "contactor N", "lock N", "rcd N" and "indicator N".
type Connector struct {
	ID        int
	Pilot     *Pilot
	Contactor *Contactor
	Lock      *Lock
	RCD       *RCD
	Indicator *Indicator
}

// NewConnector returns fakes for outlet id that record into log.
func NewConnector(id int, log *Log) *Connector {
	n := func(part string) string { return fmt.Sprintf("%s %d", part, id) }
	return &Connector{
		ID:        id,
		Pilot:     NewPilot(n("pilot"), log),
		Contactor: NewContactor(n("contactor"), log),
		Lock:      NewLock(n("lock"), log),
		RCD:       NewRCD(n("rcd"), log),
		Indicator: NewIndicator(n("indicator"), log),
	}
}

// HAL returns the hal view of c: a 32 A three-phase outlet with every part.
func (c *Connector) HAL() hal.Connector {
	return hal.Connector{
		ID: c.ID, Pilot: c.Pilot, Contactor: c.Contactor, Lock: c.Lock, RCD: c.RCD,
		Indicator: c.Indicator, MaxCurrent: 32 * physic.Ampere, Phases: 3,
	}
}
