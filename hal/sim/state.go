package sim

import (
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	metersim "github.com/evsed/evsed/meter/sim"
	"periph.io/x/conn/v3/physic"
)

// Snapshots of the model for the local API and tests.

// ConnectorState is a snapshot of one simulated connector, for the local API
// and tests.
type ConnectorState struct {
	Plugged       bool
	Charging      bool // the EV asks for energy (Charge, not yet Pause or full)
	Full          bool // the EV's battery reached its capacity
	Pilot         hal.PilotState
	PWM           bool                   // the pilot runs PWM
	Offered       physic.ElectricCurrent // what the EV reads from the duty cycle; 0 without PWM
	Closed        bool                   // the contactor's commanded state
	Energized     bool                   // electrically closed: commanded or welded
	Welded        bool
	RCDTripped    bool
	DiodeFault    bool
	MeterFault    bool
	Locked        bool
	Indication    hal.Indication
	Phases        int          // phases connected now (the phase relay's)
	PhaseSwitches int          // times the phase relay switched
	Power         physic.Power // what the EV draws
	EVEnergy      meter.Energy // into the EV since plug-in
	Meter         metersim.Measurement
}

// State returns a snapshot of connector n.
func (b *Board) State(n int) (ConnectorState, error) {
	c, err := b.conn(n)
	if err != nil {
		return ConnectorState{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	offered, _ := evOffered(c)
	m := b.measure(c)
	return ConnectorState{
		Plugged:       c.plugged,
		Charging:      c.wantCharge && !c.full,
		Full:          c.full,
		Pilot:         c.sensed,
		PWM:           c.out == outPWM,
		Offered:       offered,
		Closed:        c.closed,
		Energized:     c.closed || c.welded,
		Welded:        c.welded,
		RCDTripped:    c.rcd,
		DiodeFault:    c.diode,
		MeterFault:    c.meterFail,
		Locked:        c.locked,
		Indication:    c.shown,
		Phases:        int(c.phases),
		PhaseSwitches: int(c.phaseSwitches),
		Power:         m.Power(),
		EVEnergy:      c.evEnergy(),
		Meter:         m,
	}, nil
}

// Power returns what the EV at connector n draws now; 0 for a connector
// that does not exist.
func (b *Board) Power(n int) physic.Power {
	return b.Measurement(n).Power()
}

// Measurement returns the voltage and current per phase at connector n's
// meter (the supply voltage on every wired phase, the EV's current on the
// phases it draws on); the zero value for a connector that does not exist.
func (b *Board) Measurement(n int) metersim.Measurement {
	c, err := b.conn(n)
	if err != nil {
		return metersim.Measurement{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.measure(c)
}
