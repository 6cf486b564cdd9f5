package main

import (
	"errors"

	"github.com/evsed/evsed/hal/sim"
	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/station"
)

// simAPI adapts a simulated board to localapi.Sim, translating its errors to
// the ones the API maps to status codes.
type simAPI struct{ b *sim.Board }

var _ localapi.Sim = simAPI{}

// Plug implements localapi.Sim.
func (s simAPI) Plug(n int) error { return simErr(s.b.Plug(n)) }

// Charge implements localapi.Sim.
func (s simAPI) Charge(n int) error { return simErr(s.b.Charge(n)) }

// Pause implements localapi.Sim.
func (s simAPI) Pause(n int) error { return simErr(s.b.Pause(n)) }

// Unplug implements localapi.Sim.
func (s simAPI) Unplug(n int) error { return simErr(s.b.Unplug(n)) }

// Fault implements localapi.Sim.
func (s simAPI) Fault(n int, kind string) error { return simErr(s.b.Fault(n, sim.FaultKind(kind))) }

// simDCAPI adapts a simulated DC board (sim-dc) to localapi.Sim: its
// fault kinds are the DC ones (localapi.DCFaultKinds).
type simDCAPI struct{ b *sim.DCBoard }

var (
	_ localapi.Sim         = simDCAPI{}
	_ localapi.FaultLister = simDCAPI{}
)

// Plug implements localapi.Sim.
func (s simDCAPI) Plug(n int) error { return simErr(s.b.Plug(n)) }

// Charge implements localapi.Sim.
func (s simDCAPI) Charge(n int) error { return simErr(s.b.Charge(n)) }

// Pause implements localapi.Sim: for DC the EV stops asking, which ends
// the charge.
func (s simDCAPI) Pause(n int) error { return simErr(s.b.Pause(n)) }

// Unplug implements localapi.Sim.
func (s simDCAPI) Unplug(n int) error { return simErr(s.b.Unplug(n)) }

// Fault implements localapi.Sim.
func (s simDCAPI) Fault(n int, kind string) error { return simErr(s.b.Fault(n, sim.FaultKind(kind))) }

// FaultKinds implements localapi.FaultLister.
func (simDCAPI) FaultKinds() []string { return localapi.DCFaultKinds() }

// mappedError keeps the simulator's message and adds the sentinel the API
// understands.
type mappedError struct{ err, kind error }

func (e mappedError) Error() string   { return e.err.Error() }
func (e mappedError) Unwrap() []error { return []error{e.err, e.kind} }

func simErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sim.ErrNoConnector):
		return mappedError{err, station.ErrNoConnector}
	case errors.Is(err, sim.ErrTransition):
		return mappedError{err, localapi.ErrSimState}
	default:
		return err
	}
}
