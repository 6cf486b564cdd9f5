package sim

import (
	"context"
	"fmt"

	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/physic"
)

// The hal parts of a simulated connector are thin handles on the board's
// model: every method takes the board's lock, so they are safe for
// concurrent use, and none of them blocks. Each is the connector itself
// under another type, so that handing out the five parts costs nothing:
// a fleet simulator builds thousands of connectors.

type pilot conn

type contactor conn

type lock conn

type rcd conn

type indicator conn

type phaseRelay conn

var (
	_ hal.PhaseSwitch = (*phaseRelay)(nil)
	_ hal.Pilot       = (*pilot)(nil)
	_ hal.Contactor   = (*contactor)(nil)
	_ hal.Lock        = (*lock)(nil)
	_ hal.RCD         = (*rcd)(nil)
	_ hal.Indicator   = (*indicator)(nil)
)

// String implements hal.Resource.
func (p *pilot) String() string { return fmt.Sprintf("%s connector %d pilot", p.b.name, p.id) }

// Halt implements hal.Resource: -12 V, as Unavailable.
func (p *pilot) Halt() error { return p.Unavailable() }

// Offer implements hal.Pilot. Currents above the connector's rating are
// clamped to it; below hal.MinOffer the PWM stops (steady +12 V).
func (p *pilot) Offer(a physic.ElectricCurrent) error {
	b, c := p.b, (*conn)(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	a = min(a, b.maxCurrent)
	if a < hal.MinOffer {
		c.out, c.offer = outStandby, 0
	} else {
		c.out, c.offer = outPWM, a
	}
	b.update(c)
	return nil
}

// Unavailable implements hal.Pilot. The sensed state becomes F, which the
// contactor driver treats like any exit from C: it opens at once.
func (p *pilot) Unavailable() error {
	b, c := p.b, (*conn)(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	c.out, c.offer = outNegative, 0
	b.update(c)
	return nil
}

// State implements hal.Pilot. The simulation has no debounce: it is the
// state of the model now.
func (p *pilot) State() hal.PilotState {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	return p.sensed
}

// String implements hal.Resource.
func (k *contactor) String() string {
	return fmt.Sprintf("%s connector %d contactor", k.b.name, k.id)
}

// Halt implements hal.Resource: as Open.
func (k *contactor) Halt() error { return k.Open() }

// Close implements hal.Contactor. It refuses with hal.ErrInterlock unless the
// sensed state is C or D, the pilot offers at least 6 A by PWM, and neither
// an RCD trip nor a diode fault is active.
func (k *contactor) Close() error {
	b, c := k.b, (*conn)(k)
	b.mu.Lock()
	defer b.mu.Unlock()
	var why string
	switch {
	case !c.sensed.VehicleReady():
		why = "pilot in " + c.sensed.String()
	case c.out != outPWM || c.offer < hal.MinOffer:
		why = "no PWM offered"
	case c.rcd:
		why = "RCD tripped"
	case c.diode:
		why = "diode fault"
	}
	if why != "" {
		return fmt.Errorf("%s: %w: %s", k, hal.ErrInterlock, why)
	}
	c.closed = true
	b.update(c)
	return nil
}

// Open implements hal.Contactor. A welded contactor reports ContactorWelded
// when it goes from commanded closed to commanded open, and keeps conducting.
func (k *contactor) Open() error {
	b, c := k.b, (*conn)(k)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.openLocked(c, "commanded")
	b.update(c)
	return nil
}

// Closed implements hal.Contactor: the commanded state.
func (k *contactor) Closed() bool {
	k.b.mu.Lock()
	defer k.b.mu.Unlock()
	return k.closed
}

// String implements hal.Resource.
func (l *lock) String() string { return fmt.Sprintf("%s connector %d lock", l.b.name, l.id) }

// Halt implements hal.Resource. It leaves the lock as it is (see hal.Lock).
func (l *lock) Halt() error { return nil }

// Lock implements hal.Lock; the simulated lock always engages.
func (l *lock) Lock() error {
	l.b.mu.Lock()
	defer l.b.mu.Unlock()
	l.locked = true
	return nil
}

// Unlock implements hal.Lock.
func (l *lock) Unlock() error {
	l.b.mu.Lock()
	defer l.b.mu.Unlock()
	l.locked = false
	return nil
}

// Locked implements hal.Lock.
func (l *lock) Locked() bool {
	l.b.mu.Lock()
	defer l.b.mu.Unlock()
	return l.locked
}

// String implements hal.Resource.
func (r *rcd) String() string { return fmt.Sprintf("%s connector %d RCD", r.b.name, r.id) }

// Halt implements hal.Resource; an RCD monitor has nothing to make safe.
func (r *rcd) Halt() error { return nil }

// Tripped implements hal.RCD.
func (r *rcd) Tripped() bool {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	return r.rcd
}

// SelfTest implements hal.RCD: it fails while a simulated trip is active.
func (r *rcd) SelfTest(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.Tripped() {
		return fmt.Errorf("%s: self-test: tripped", r)
	}
	return nil
}

// String implements hal.Resource.
func (i *indicator) String() string {
	return fmt.Sprintf("%s connector %d indicator", i.b.name, i.id)
}

// Halt implements hal.Resource: the light goes off.
func (i *indicator) Halt() error { return i.Show(hal.ShowOff) }

// Show implements hal.Indicator; State reports what is shown.
func (i *indicator) Show(s hal.Indication) error {
	i.b.mu.Lock()
	defer i.b.mu.Unlock()
	i.shown = s
	return nil
}

// String implements hal.Resource.
func (r *phaseRelay) String() string {
	return fmt.Sprintf("%s connector %d phase relay", r.b.name, r.id)
}

// Halt implements hal.Resource; the relay stays as it is.
func (r *phaseRelay) Halt() error { return nil }

// SetPhases implements hal.PhaseSwitch. It refuses with hal.ErrInterlock
// while the contactor is electrically closed (commanded or welded).
func (r *phaseRelay) SetPhases(n int) error {
	b, c := r.b, (*conn)(r)
	if n != 1 && n != 3 {
		return fmt.Errorf("%s: %d phases, want 1 or 3", r, n)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if c.closed || c.welded {
		return fmt.Errorf("%s: %w: contactor closed", r, hal.ErrInterlock)
	}
	if int(c.phases) != n {
		c.phases = uint8(n)
		c.phaseSwitches++
		b.debug("phase relay switched", "connector", c.id, "phases", n)
	}
	b.update(c)
	return nil
}

// Phases implements hal.PhaseSwitch.
func (r *phaseRelay) Phases() int {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	return int(r.phases)
}
