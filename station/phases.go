package station

import (
	"fmt"
	"time"

	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/physic"
)

// One-phase / three-phase switching, for connectors whose board has a
// phase relay (hal.Connector.PhaseSwitch). In the solar modes a surplus
// too small for 6 A on three phases (4.1 kW) may still charge on one
// (1.4 kW): the connector goes down to one phase once the surplus has
// stayed below the three-phase stop current for StopDelay while it would
// carry one phase at StartCurrent (minpv: below 6 A, whatever it carries),
// and back to three once it has carried StartCurrent on three for
// StartDelay. Fast mode always charges on three.
//
// A switch never happens under load, and the vehicle gets a pause: the PWM
// stops (the session is SuspendedEVSE), the contactor opens, the relay
// switches with the contactor open, and only PhaseSwitchPause later is
// current offered again, which the vehicle reads as a fresh start. Two
// switches are at least PhaseSwitchInterval apart.

// phaseState is a connector's phase-switching bookkeeping.
// phaseSwitch is a connector's phase relay: what it connects (phases; see
// activePhases) and the switching's bookkeeping. Connectors without
// hw.PhaseSwitch have none.
type phaseSwitch struct {
	phases int
	phaseState
}

type phaseState struct {
	since     time.Time // when the condition to switch began to hold; zero when it does not
	switching bool      // a switch is under way: nothing is offered
	target    int       // the phases being switched to
	relayDone bool      // the relay has switched; resumeAt is set
	resumeAt  time.Time // when current is offered again
	lastAt    time.Time // when the last switch ended; zero when none this run
}

// Defaults of the phase switching (SolarConfig).
const (
	defaultPhasePause    = 2 * time.Minute
	defaultPhaseInterval = 10 * time.Minute
)

// activePhases is how many phases c connects now.
// switchingPhases reports whether a phase switch is under way on c:
// nothing is offered meanwhile.
func (c *conn) switchingPhases() bool { return c.phaseSw != nil && c.phaseSw.switching }

func (c *conn) activePhases() int {
	if c.phaseSw != nil && c.phaseSw.phases > 0 {
		return c.phaseSw.phases
	}
	return min(max(c.hw().Phases, 1), 3)
}

// updatePhases decides whether c should switch phases, given share, the
// surplus available to it summed over the phases (known false: no fresh
// grid reading), and starts the switch.
func (l *loop) updatePhases(c *conn, share physic.ElectricCurrent, known bool, now time.Time) {
	ps := c.phaseSw // nil exactly without hw.PhaseSwitch
	if ps == nil {
		return
	}
	if c.hw().Phases != 3 || ps.switching || c.sess == nil {
		ps.since = time.Time{}
		return
	}
	cfg := l.s.opts.Solar.withDefaults()
	want, hold := ps.phases, time.Duration(0)
	switch {
	case !c.mode().solar():
		want = 3
	case !known:
	case ps.phases == 3:
		low := cfg.StopCurrent
		if c.mode() == ModeMinPV {
			low = hal.MinOffer
		}
		// A vehicle that charges on one phase anyway gains nothing.
		if share/3 < low && c.solarPhases() == 3 && (c.mode() == ModeMinPV || share >= cfg.StartCurrent) {
			want, hold = 1, cfg.StopDelay
		}
	case ps.phases == 1:
		if share/3 >= cfg.StartCurrent {
			want, hold = 3, cfg.StartDelay
		}
	}
	if want == ps.phases {
		ps.since = time.Time{}
		return
	}
	if ps.since.IsZero() {
		ps.since = now
	}
	if now.Sub(ps.since) < hold || (!ps.lastAt.IsZero() && now.Sub(ps.lastAt) < cfg.PhaseSwitchInterval) {
		return
	}
	c.logger().Info("station: phase switch: pausing", "from", ps.phases, "to", want, "surplus", share)
	ps.phaseState = phaseState{switching: true, target: want, lastAt: ps.lastAt}
}

// phaseResume ends the switches whose pause is over; apply calls it before
// deriving the shares.
func (l *loop) phaseResume(now time.Time) {
	for _, c := range l.conns {
		ps := c.phaseSw
		if ps != nil && ps.switching && ps.relayDone && !now.Before(ps.resumeAt) {
			c.logger().Info("station: phase switch done: charging again", "phases", ps.phases)
			ps.phaseState = phaseState{lastAt: now}
		}
	}
}

// phaseRelays switches the relays of the connectors whose contactor has
// opened for a switch; apply calls it once the hardware has been
// commanded. A relay that refuses ends the switch where it is.
func (l *loop) phaseRelays(now time.Time) {
	cfg := l.s.opts.Solar.withDefaults()
	for _, c := range l.conns {
		ps := c.phaseSw
		if ps == nil || !ps.switching || ps.relayDone || c.closed {
			continue
		}
		if err := c.hw().PhaseSwitch.SetPhases(ps.target); err != nil {
			c.logger().Warn("station: phase switch refused", "to", ps.target, "err", err)
			ps.phases = c.hw().PhaseSwitch.Phases()
			ps.relayDone, ps.resumeAt = true, now.Add(cfg.PhaseSwitchPause)
			continue
		}
		ps.phases = ps.target
		ps.relayDone, ps.resumeAt = true, now.Add(cfg.PhaseSwitchPause)
	}
}

// nextPhaseResume is the earliest end of a switch's pause; zero when none.
func (l *loop) nextPhaseResume() time.Time {
	var next time.Time
	for _, c := range l.conns {
		if ps := c.phaseSw; ps != nil && ps.switching && ps.relayDone && (next.IsZero() || ps.resumeAt.Before(next)) {
			next = ps.resumeAt
		}
	}
	return next
}

// phaseInfo describes a switch under way; "" when none.
func (c *conn) phaseInfo(now time.Time) string {
	ps := c.phaseSw
	switch {
	case ps == nil || !ps.switching:
		return ""
	case !ps.relayDone:
		return fmt.Sprintf("switching to %d phase(s): waiting for the contactor to open", ps.target)
	}
	return fmt.Sprintf("switched to %d phase(s): pausing until %s", ps.phases, ps.resumeAt.UTC().Format(time.RFC3339))
}

// resetPhases puts an idle connector's phase relay back on all its phases
// (at start, and when a session ends): no vehicle charges, the contactor
// is open, and the next session starts as the connector is wired.
func (l *loop) resetPhases(c *conn) {
	ps := c.hw().PhaseSwitch
	if ps == nil || c.closed || c.sess != nil {
		return
	}
	c.phaseSw.phaseState = phaseState{lastAt: c.phaseSw.lastAt}
	if c.phaseSw.phases == c.hw().Phases {
		return
	}
	if err := ps.SetPhases(c.hw().Phases); err != nil {
		c.logger().Warn("station: phase relay back to all phases", "err", err)
	}
	c.phaseSw.phases = ps.Phases()
}
