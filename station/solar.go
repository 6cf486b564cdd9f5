package station

import (
	"context"
	"fmt"
	"time"

	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/physic"
)

// ChargeMode is how a connector uses the site's supply.
type ChargeMode string

// Charge modes. The zero value "" is ModeFast.
const (
	// ModeFast charges as fast as every limit allows.
	ModeFast ChargeMode = "fast"
	// ModePV charges from the solar surplus only: the session draws once
	// the surplus has supported SolarConfig.StartCurrent for StartDelay,
	// and pauses once it has supported less than StopCurrent for
	// StopDelay, each switch at least MinOnTime or MinOffTime after the
	// previous one.
	ModePV ChargeMode = "pv"
	// ModeMinPV charges at least 6 A, and with the surplus above that.
	ModeMinPV ChargeMode = "minpv"
)

// valid reports whether m is a mode (or "").
func (m ChargeMode) valid() bool {
	switch m {
	case "", ModeFast, ModePV, ModeMinPV:
		return true
	}
	return false
}

// solar reports whether m follows the surplus.
func (m ChargeMode) solar() bool { return m == ModePV || m == ModeMinPV }

// SolarConfig tunes the solar modes. Zero fields mean the defaults, which
// keep a cloudy sky from switching the contactor more than a few times an
// hour.
type SolarConfig struct {
	// StartCurrent is the surplus per phase, on the phases the vehicle
	// charges on, that must be available before a pv session draws; 0
	// means 7 A (the 6 A minimum plus 1 A of hysteresis).
	StartCurrent physic.ElectricCurrent
	// StartDelay is how long StartCurrent must have been available; 0
	// means 1 min.
	StartDelay time.Duration
	// StopCurrent is the surplus per phase below which a drawing pv
	// session counts down StopDelay; meanwhile it is offered 6 A, the
	// difference coming from the grid. 0 means 4.5 A. It must be below
	// StartCurrent: the difference is the hysteresis.
	StopCurrent physic.ElectricCurrent
	// StopDelay is how long the surplus must have stayed below StopCurrent
	// before the session pauses; 0 means 3 min.
	StopDelay time.Duration
	// MinOnTime is the least time between the contactor's closing for a
	// pv session and its pausing; 0 means 5 min.
	MinOnTime time.Duration
	// MinOffTime is the least time between a pause and the next start;
	// 0 means 5 min. A vehicle's on-board charger and the contactor both
	// wear with every switch, and some vehicles need a pause before they
	// charge again.
	MinOffTime time.Duration
	// PhaseSwitchPause is how long a connector with a phase relay offers
	// nothing around a switch between one and three phases (contactor
	// open, relay switched, then current offered afresh); 0 means 2 min.
	PhaseSwitchPause time.Duration
	// PhaseSwitchInterval is the least time between the end of one phase
	// switch and the start of the next; 0 means 10 min.
	PhaseSwitchInterval time.Duration
}

// withDefaults fills the zero fields of s.
func (s SolarConfig) withDefaults() SolarConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if s.StartCurrent <= 0 {
		s.StartCurrent = hal.MinOffer + physic.Ampere
	}
	if s.StopCurrent <= 0 {
		s.StopCurrent = 4500 * physic.MilliAmpere
	}
	def(&s.StartDelay, time.Minute)
	def(&s.StopDelay, 3*time.Minute)
	def(&s.MinOnTime, 5*time.Minute)
	def(&s.MinOffTime, 5*time.Minute)
	def(&s.PhaseSwitchPause, defaultPhasePause)
	def(&s.PhaseSwitchInterval, defaultPhaseInterval)
	return s
}

// solarState is a connector's solar bookkeeping, derived at every grid
// reading (updateSolar).
type solarState struct {
	// surplus is what the surplus supports per phase for this connector,
	// as of the latest grid reading (0 without one).
	surplus physic.ElectricCurrent
	// on says a pv session may draw; switched is when on last changed
	// (zero: never in this session, so no MinOffTime to wait for).
	on       bool
	switched time.Time
	// since is when the condition to switch (start when off, stop when
	// on) began to hold without a break; zero while it does not.
	since time.Time
}

// SolarSnapshot is a solar-mode connector's state.
type SolarSnapshot struct {
	// Surplus is what the solar surplus supports per phase for this
	// connector now.
	Surplus physic.ElectricCurrent
	// On says a pv session may draw (always true in minpv).
	On bool
	// Since is when On last changed; zero when it has not in this session.
	Since time.Time
	// Pending describes a switch under way (a start or stop delay, or a
	// minimum on/off time running); "" when none.
	Pending string
}

// SetChargeMode sets connector n's charge mode (0: every connector). The
// solar modes need a grid meter (ErrNoGridMeter); an unknown mode answers
// ErrInvalidMode. The mode is kept in memory only: the configured one
// applies again after a restart.
func (s *Station) SetChargeMode(ctx context.Context, n int, m ChargeMode) error {
	if !m.valid() {
		return fmt.Errorf("%w: %q (want fast, pv or minpv)", ErrInvalidMode, m)
	}
	if m.solar() && s.opts.Grid.Meter == nil {
		return ErrNoGridMeter
	}
	return s.call(ctx, func(l *loop, done func(error)) {
		var cs []*conn
		if n == 0 {
			cs = l.conns
		} else if c := l.conn(n); c != nil {
			cs = []*conn{c}
		} else {
			done(ErrNoConnector)
			return
		}
		for _, c := range cs {
			if c.mode() != m.orFast() {
				c.logger().Info("station: charge mode", "mode", m.orFast())
				c.chargeMode = modeCodeOf(m)
				if st := c.solar; st != nil {
					*st = solarState{surplus: st.surplus}
				}
			}
		}
		l.updateSolar(l.s.opts.Clock.Now())
		l.apply(nil)
		done(nil)
	})
}

// orFast maps "" to ModeFast.
func (m ChargeMode) orFast() ChargeMode {
	if m == "" {
		return ModeFast
	}
	return m
}

// modeCode is a ChargeMode as a connector keeps it: a byte, not a string.
type modeCode uint8

const (
	modeFast modeCode = iota
	modePV
	modeMinPV
)

// modeCodeOf is the code of a valid m.
func modeCodeOf(m ChargeMode) modeCode {
	switch m {
	case ModePV:
		return modePV
	case ModeMinPV:
		return modeMinPV
	}
	return modeFast
}

// mode is c's charge mode.
func (c *conn) mode() ChargeMode {
	switch c.chargeMode {
	case modePV:
		return ModePV
	case modeMinPV:
		return ModeMinPV
	}
	return ModeFast
}

// solarState returns c's solar bookkeeping, the zero value while it has
// none.
func (c *conn) solarState() solarState {
	if c.solar == nil {
		return solarState{}
	}
	return *c.solar
}

// solarPhases is how many phases c's vehicle charges on: those its meter
// sees current on while it draws, else the connector's.
func (c *conn) solarPhases() int {
	n := c.activePhases()
	if !c.closed {
		return n
	}
	cur := c.phaseCurrents()
	seen := 0
	for p := range n {
		if cur[p] >= physic.Ampere {
			seen++
		}
	}
	if seen == 0 {
		return n
	}
	return seen
}

// updateSolar derives every solar connector's surplus from the latest grid
// reading and switches pv sessions on and off by the SolarConfig rules.
//
// The surplus is the export at the grid meter plus what the solar
// connectors draw themselves, summed over the phases (the meter's
// balance, which is what a PV installation is billed by), shared equally
// among the solar connectors whose vehicle asks for energy, and divided
// by the phases each charges on.
func (l *loop) updateSolar(now time.Time) {
	var solar []*conn
	g := l.gridState()
	known := g.have && !g.lost
	for _, c := range l.conns {
		if c.mode().solar() && c.sess != nil {
			solar = append(solar, c)
		} else {
			c.solar = nil                    // all zero, as a connector outside a solar session has it
			l.updatePhases(c, 0, known, now) // fast: back to three phases
		}
	}
	if len(solar) == 0 {
		return
	}
	var pool physic.ElectricCurrent // summed over the phases
	if known {
		for p := range g.phases {
			pool -= g.net[p]
		}
	}
	var takers []*conn
	for _, c := range solar {
		cur := c.phaseCurrents()
		for p := range cur {
			pool += cur[p]
		}
		if c.energyAllowed() && c.pilot.VehicleReady() {
			takers = append(takers, c)
		}
	}
	if len(takers) == 0 {
		takers = solar // none asks: each is told what it would get alone
	}
	cfg := l.s.opts.Solar.withDefaults()
	for _, c := range solar {
		if c.solar == nil {
			c.solar = &solarState{}
		}
		st := c.solar
		st.surplus = 0
		share := max(0, pool/physic.ElectricCurrent(len(takers)))
		if known && pool > 0 {
			a := share / physic.ElectricCurrent(c.solarPhases())
			st.surplus = a - a%shareStep
		}
		l.updatePhases(c, share, known, now)
		if c.switchingPhases() {
			st.since = time.Time{} // the switch decides for now
			continue
		}
		if c.mode() != ModePV {
			st.on, st.since = true, time.Time{}
			continue
		}
		var want bool // the condition to switch holds
		if st.on {
			want = st.surplus < cfg.StopCurrent
		} else {
			want = st.surplus >= cfg.StartCurrent && c.pilot.VehicleConnected()
		}
		if !want {
			st.since = time.Time{}
			continue
		}
		if st.since.IsZero() {
			st.since = now
		}
		if st.on {
			if now.Sub(st.since) >= cfg.StopDelay && now.Sub(st.switched) >= cfg.MinOnTime {
				c.logger().Info("station: pv: surplus too low: pausing", "surplus", st.surplus)
				st.on, st.switched, st.since = false, now, time.Time{}
			}
			continue
		}
		if now.Sub(st.since) >= cfg.StartDelay && (st.switched.IsZero() || now.Sub(st.switched) >= cfg.MinOffTime) {
			c.logger().Info("station: pv: surplus available: charging", "surplus", st.surplus)
			st.on, st.switched, st.since = true, now, time.Time{}
		}
	}
}

// solarCap is the cap the solar mode puts on c now, with its reason; ok is
// false when the mode puts none (fast), and off says a pv session may not
// draw at all now.
func (c *conn) solarCap() (w limitWhy, ok, off bool) {
	if c.switchingPhases() {
		return limitWhy{0, LimitSolar, "phase switch"}, true, true
	}
	switch c.mode() {
	case ModePV:
		if !c.solarState().on {
			return limitWhy{0, LimitSolar, "pv: waiting for surplus"}, true, true
		}
		return limitWhy{max(hal.MinOffer, c.solarState().surplus), LimitSolar, "pv: solar surplus"}, true, false
	case ModeMinPV:
		return limitWhy{max(hal.MinOffer, c.solarState().surplus), LimitSolar, "minpv: 6 A plus solar surplus"}, true, false
	}
	return limitWhy{}, false, false
}

// solarSnapshot describes c's solar state; nil in fast mode.
func (l *loop) solarSnapshot(c *conn, now time.Time) *SolarSnapshot {
	if !c.mode().solar() {
		return nil
	}
	st := c.solarState()
	s := &SolarSnapshot{Surplus: st.surplus, On: st.on || c.mode() == ModeMinPV, Since: st.switched}
	if info := c.phaseInfo(now); info != "" {
		s.Pending = info
	} else if c.mode() == ModePV && c.sess != nil {
		cfg := l.s.opts.Solar.withDefaults()
		switch {
		case !st.since.IsZero() && st.on:
			s.Pending = fmt.Sprintf("pausing once the surplus has stayed below %v for %v (%v so far)",
				cfg.StopCurrent, cfg.StopDelay, now.Sub(st.since).Round(time.Second))
		case !st.since.IsZero():
			s.Pending = fmt.Sprintf("starting once the surplus has stayed at %v or more for %v (%v so far)",
				cfg.StartCurrent, cfg.StartDelay, now.Sub(st.since).Round(time.Second))
		}
	}
	return s
}
