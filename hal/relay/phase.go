package relay

import (
	"errors"
	"fmt"
	"sync"

	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/gpio"
)

// PhaseSwitchOptions configure a PhaseSwitch.
type PhaseSwitchOptions struct {
	// Connector is the 1-based connector ID, for names.
	Connector int
	// Out drives the relay that connects L2 and L3. Required.
	Out gpio.PinOut
	// Active is the level that selects one phase (L2 and L3 open); the
	// other level, which New drives, connects three.
	Active gpio.Level
	// Contactor is the connector's contactor: SetPhases is refused while
	// it is closed. Required.
	Contactor interface{ Closed() bool }
}

// PhaseSwitch is a relay-driven 1-phase/3-phase switch. It is safe for
// concurrent use.
type PhaseSwitch struct {
	name   string
	out    gpio.PinOut
	active gpio.Level
	k      interface{ Closed() bool }

	mu     sync.Mutex // guards phases
	phases int
}

var _ hal.PhaseSwitch = (*PhaseSwitch)(nil)

// NewPhaseSwitch drives the relay to three phases.
func NewPhaseSwitch(o PhaseSwitchOptions) (*PhaseSwitch, error) {
	if o.Out == nil || o.Contactor == nil {
		return nil, errors.New("relay: phase switch needs an output and its contactor")
	}
	s := &PhaseSwitch{name: fmt.Sprintf("connector %d phase switch", o.Connector), out: o.Out, active: o.Active, k: o.Contactor, phases: 3}
	if err := s.out.Out(inactive(s.active)); err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	return s, nil
}

// String implements hal.Resource.
func (s *PhaseSwitch) String() string { return s.name }

// Halt implements hal.Resource; the relay stays as it is.
func (s *PhaseSwitch) Halt() error { return nil }

// SetPhases implements hal.PhaseSwitch; it refuses with hal.ErrInterlock
// while the contactor is closed.
func (s *PhaseSwitch) SetPhases(n int) error {
	if n != 1 && n != 3 {
		return fmt.Errorf("%s: %d phases, want 1 or 3", s.name, n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.k.Closed() {
		return fmt.Errorf("%s: %w: contactor closed", s.name, hal.ErrInterlock)
	}
	l := inactive(s.active)
	if n == 1 {
		l = s.active
	}
	if err := s.out.Out(l); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	s.phases = n
	return nil
}

// Phases implements hal.PhaseSwitch: the commanded state.
func (s *PhaseSwitch) Phases() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.phases
}
