package fleet

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Scenario shapes what the simulated drivers do. Zero fields mean the
// defaults given per field.
type Scenario struct {
	// PlugRate is the mean number of plug-ins per station per hour; 0 means
	// 2. The connectors share it: each one's cycle (idle, then a session)
	// lasts Connectors/PlugRate hours on average. When sessions alone are
	// longer than that, the idle time is cut to minIdle and the rate is
	// lower than asked.
	PlugRate float64
	// SwipeMin and SwipeMax bound the delay between plugging in and
	// swiping the card; 0 means 2 s and 20 s.
	SwipeMin, SwipeMax time.Duration
	// ChargeMin and ChargeMax bound the time from the swipe to the unplug;
	// 0 means 10 min and 40 min.
	ChargeMin, ChargeMax time.Duration
	// Sessions is how many sessions each connector plays before it stays
	// idle; 0 means no limit.
	Sessions int
}

// minIdle is the shortest mean idle time between two sessions of a
// connector: a driver needs some time to leave and the next to arrive.
const minIdle = time.Second

// withDefaults fills the zero fields of s and checks it.
func (s Scenario) withDefaults() (Scenario, error) {
	if s.PlugRate == 0 {
		s.PlugRate = 2
	}
	if s.SwipeMin == 0 && s.SwipeMax == 0 {
		s.SwipeMin, s.SwipeMax = 2*time.Second, 20*time.Second
	}
	if s.ChargeMin == 0 && s.ChargeMax == 0 {
		s.ChargeMin, s.ChargeMax = 10*time.Minute, 40*time.Minute
	}
	switch {
	case s.PlugRate < 0:
		return s, fmt.Errorf("fleet: negative plug rate %g", s.PlugRate)
	case s.SwipeMin < 0 || s.SwipeMax < s.SwipeMin:
		return s, fmt.Errorf("fleet: swipe delay %v-%v", s.SwipeMin, s.SwipeMax)
	case s.ChargeMin <= 0 || s.ChargeMax < s.ChargeMin:
		return s, fmt.Errorf("fleet: charge time %v-%v, want 0 < min <= max", s.ChargeMin, s.ChargeMax)
	case s.Sessions < 0:
		return s, fmt.Errorf("fleet: negative session count %d", s.Sessions)
	}
	return s, nil
}

// Session is one planned session of a connector.
type Session struct {
	// Idle is the time from the previous unplug (or the station's start)
	// to the plug-in.
	Idle time.Duration
	// Swipe is the time from the plug-in to the card swipe, when the EV
	// also starts asking for energy.
	Swipe time.Duration
	// Charge is the time from the swipe to the unplug.
	Charge time.Duration
	// Tag is the card's id tag.
	Tag string
}

// planner draws one connector's sessions. It is not safe for concurrent
// use; the driver goroutine owns it. The fleet holds one per connector,
// inside the connector's driven: its generator's state is held here and
// the scenario is the fleet's, shared.
type planner struct {
	pcg      rand.PCG
	rng      rand.Rand // draws from pcg
	sc       *Scenario
	idleMean time.Duration
	drawn    int
}

// init seeds p as the planner of connector (1-based) of the station at
// index (0-based) in a fleet whose stations have conns connectors. The
// stream depends only on seed, index and connector, so that a station's
// plan does not change with the size of the fleet. p must not move
// afterwards: its generator reads p.pcg.
func (p *planner) init(sc *Scenario, seed uint64, index, connector, conns int) {
	cycle := time.Duration(float64(conns) / sc.PlugRate * float64(time.Hour))
	busy := (sc.SwipeMin+sc.SwipeMax)/2 + (sc.ChargeMin+sc.ChargeMax)/2
	p.pcg = *rand.NewPCG(seed, uint64(index)<<16|uint64(connector))
	p.rng = *rand.New(&p.pcg)
	p.sc = sc
	p.idleMean = max(cycle-busy, minIdle)
}

// uniform draws a duration in [lo, hi].
func (p *planner) uniform(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(p.rng.Int64N(int64(hi-lo)+1))
}

// next draws the next session. The first one starts the connector in its
// steady state, as if the fleet had been running for a while: busy (plugged
// in at once, part of its charge time already gone) with the probability a
// connector is busy at a random moment, else idle for an exponential time
// (memoryless, so what is left of an idle period looks like a whole one).
func (p *planner) next() Session {
	first := p.drawn == 0
	p.drawn++
	s := Session{
		Idle:   time.Duration(p.rng.ExpFloat64() * float64(p.idleMean)),
		Swipe:  p.uniform(p.sc.SwipeMin, p.sc.SwipeMax),
		Charge: p.uniform(p.sc.ChargeMin, p.sc.ChargeMax),
		Tag:    fmt.Sprintf("TAG%08X", p.rng.Uint32()),
	}
	// An exponential draw can be large; cap it so that no connector sits
	// out a whole test.
	s.Idle = min(s.Idle, 10*p.idleMean)
	if first {
		busy := float64(s.Swipe + s.Charge)
		if p.rng.Float64() < busy/(busy+float64(p.idleMean)) {
			// Part of the charge time is gone, but never below ChargeMin:
			// the card's authorization must have time to come back.
			s.Idle = 0
			s.Charge = p.uniform(p.sc.ChargeMin, s.Charge)
		}
	}
	return s
}

// Plan returns the first n sessions of connector (1-based) of the station
// at index (0-based) in a fleet with seed and conns connectors per station:
// what the driver plays, for tests and for reproducing a run.
func Plan(sc Scenario, seed uint64, index, connector, conns, n int) ([]Session, error) {
	sc, err := sc.withDefaults()
	if err != nil {
		return nil, err
	}
	p := new(planner)
	p.init(&sc, seed, index, connector, conns)
	out := make([]Session, n)
	for i := range out {
		out[i] = p.next()
	}
	return out, nil
}
