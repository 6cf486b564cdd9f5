package station

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/hal"
	"pgregory.net/rapid"
)

// The safety property tests drive random event sequences into a station and
// check after every step (and, on the fakes, at every Close) that the
// contactor is closed only while the rules of DESIGN.md allow it. Uniform
// random events rarely get a session as far as a closed contactor, which
// leaves the dangerous transitions untested; so the generators are weighted:
// a "charge" macro plugs in, authorizes and asks for energy, faults are rare
// in most runs, and the dangerous steps are drawn often once energy flows.
// Both tests fail when fewer than half of their runs ever close the
// contactor: that guards the generator against silently degrading.

// action is a weighted step of a property test's generator. Its weight
// depends on whether the contactor is closed: while energy flows the
// dangerous steps are drawn more often, and the charge macro, which then has
// nothing to do, less.
type action struct {
	name string
	// open and closed are the relative frequencies while the contactor is
	// open and closed; 0 leaves the action out.
	open, closed int
	do           func(rt *rapid.T)
}

// pick draws one of actions by the weight for closed. Shrinking draws
// towards the first, so the first should be harmless.
func pick(rt *rapid.T, actions []action, closed bool) action {
	weight := func(a action) int {
		if closed {
			return a.closed
		}
		return a.open
	}
	total := 0
	for _, a := range actions {
		total += weight(a)
	}
	n := rapid.IntRange(0, total-1).Draw(rt, "action")
	for _, a := range actions {
		if n < weight(a) {
			return a
		}
		n -= weight(a)
	}
	panic("unreachable: n is below the total weight")
}

// advances are the clock steps drawn: around the 6 s in which an EV must
// stop drawing after the PWM stopped, around timeout (the
// ConnectionTimeout), past a minute (the journal's longest retry wait and
// the sample interval) and long enough for several meter reads.
func advances(timeout time.Duration) []time.Duration {
	d := []time.Duration{500 * time.Millisecond, time.Second, 3 * time.Second,
		5900 * time.Millisecond, 6 * time.Second, 6100 * time.Millisecond, 7 * time.Second, 61 * time.Second, 90 * time.Second}
	for _, t := range []time.Duration{timeout - time.Second, timeout, timeout + time.Second} {
		if t > 0 {
			d = append(d, t)
		}
	}
	return d
}

// coverage counts, over the runs of one property test, what the generator
// reached: runs that closed the contactor, and dangerous steps taken while
// it was closed, by kind.
type coverage struct {
	runs, closed, dangerous int
	fromClosed              map[string]int
}

// report logs the coverage and fails t when the generator degraded: fewer
// than half of the runs closed the contactor, or fewer than half took a
// dangerous step while it was closed. The counts per kind are logged only:
// the rarer kinds meet a closed contactor a few times in a hundred runs, too
// few to require each without a flaky test.
func (c *coverage) report(t *testing.T, kinds []string) {
	t.Helper()
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s %d", k, c.fromClosed[k]))
	}
	t.Logf("%d runs: %d (%.0f %%) closed the contactor, %d (%.0f %%) then took a dangerous step; dangerous steps from closed: %s",
		c.runs, c.closed, 100*float64(c.closed)/float64(max(c.runs, 1)),
		c.dangerous, 100*float64(c.dangerous)/float64(max(c.runs, 1)), strings.Join(parts, ", "))
	if t.Failed() || c.runs < 20 {
		return // shrinking reruns skew the counts; too few runs say nothing
	}
	if 2*c.closed < c.runs {
		t.Errorf("the generator degraded: only %d of %d runs closed the contactor, want at least half", c.closed, c.runs)
	}
	if 2*c.dangerous < c.runs {
		t.Errorf("the generator degraded: only %d of %d runs took a dangerous step with the contactor closed, want at least half", c.dangerous, c.runs)
	}
}

// world is what the property test knows independently of the station: the
// faults it injected and not yet cleared, and the sessions it deauthorized.
// It is only touched on the loop goroutine (see propRun.change), so that a
// change of the world and the station learning of it are one step.
type world struct {
	welded, switchFailed, diode, lockFault bool
	plugged                                bool // a vehicle is plugged in
	deauthorized                           map[string]bool
}

// faulted reports whether a fault the world injected is active.
func (w *world) faulted() bool { return w.welded || w.switchFailed || w.diode || w.lockFault }

// inLoop runs f on the loop goroutine and waits for it.
func (r *rig) inLoop(f func(l *loop)) {
	r.t.Helper()
	if err := r.st.call(r.ctx(), func(l *loop, done func(error)) { f(l); done(nil) }); err != nil {
		r.t.Fatalf("inLoop: %v", err)
	}
}

// unsafe returns why connector 1's contactor may not be closed now, or "".
// It runs on the loop goroutine: at every Close (from the fake contactor)
// and after every step.
func unsafe(l *loop, h *hw, rep *recReporter, w *world) string {
	var why []string
	if s := h.pilot.State(); !s.VehicleReady() {
		why = append(why, "CP "+s.String())
	}
	if a := h.pilot.pwm(); a < hal.MinOffer {
		why = append(why, fmt.Sprintf("PWM offers %v", a))
	}
	if !h.lock.Locked() {
		why = append(why, "lock open")
	}
	if h.rcd.Tripped() {
		why = append(why, "RCD tripped")
	}
	if w.faulted() {
		why = append(why, fmt.Sprintf("fault %+v", *w))
	}
	sess := l.conns[0].sess
	switch {
	case sess == nil:
		why = append(why, "no session")
	case w.deauthorized[sess.id]:
		why = append(why, "session deauthorized")
	case !slices.ContainsFunc(rep.startsCopy(), func(s SessionStart) bool { return s.SessionID == sess.id }):
		why = append(why, "session start not recorded")
	case !sess.authorized || !sess.durable:
		why = append(why, fmt.Sprintf("session authorized=%v durable=%v", sess.authorized, sess.durable))
	}
	if len(why) == 0 {
		return ""
	}
	return fmt.Sprint(why)
}

// propRun is one run of TestSafetyProperty: a rig on fakes, the world, and
// what the run reached.
type propRun struct {
	rt      *rapid.T
	r       *rig
	h       *hw
	w       *world
	ctx     context.Context
	timeout time.Duration // the ConnectionTimeout in force
	// repDown is set once the Reporter went down in this run: the journal
	// may then wait for a retry on the virtual clock, so steps settle
	// without waiting for it.
	repDown bool

	step       int
	closedOnce bool
	dangerous  map[string]int // dangerous steps taken with the contactor closed
}

// change posts a change of the world together with the event that tells
// the station about it, as one message of the loop.
func (p *propRun) change(f func(), ev hal.Event) {
	p.r.inLoop(func(l *loop) {
		f()
		l.onEvent(ev)
	})
}

// closed reports whether the fake contactor is closed.
func (p *propRun) closed() bool { return p.h.contactor.Closed() }

// do runs one step, lets the station settle and checks the invariant.
// kind names the step in failures; a dangerous step (one after which the
// rules demand an open contactor, or that puts energy at risk) is counted
// when it meets a closed contactor. With mustOpen the contactor must be open
// after the step whatever else holds.
func (p *propRun) do(kind string, dangerous, mustOpen bool, f func()) {
	p.step++
	if dangerous && p.closed() {
		p.dangerous[kind]++
	}
	f()
	p.quiet()
	p.check(kind, mustOpen)
}

// quiet waits until no authorization or meter read is in flight and,
// unless the Reporter went down in this run, every fact is delivered.
func (p *propRun) quiet() {
	p.r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.r.st.settle(ctx, !p.repDown); err != nil {
		p.rt.Fatalf("step %d: settle: %v", p.step, err)
	}
}

// check verifies the invariant after a step: a closed contactor satisfies
// every rule, the station's view of it matches the hardware's, a fault the
// world knows has the PWM off and the connector Faulted, and no Close so far
// broke a rule.
func (p *propRun) check(kind string, mustOpen bool) {
	h, w := p.h, p.w
	var why []string
	p.r.inLoop(func(l *loop) {
		c := l.conns[0]
		closed := h.contactor.Closed()
		if closed {
			p.closedOnce = true
			if u := unsafe(l, h, p.r.rep, w); u != "" {
				why = append(why, "contactor closed although "+u)
			}
			h.meter.mu.Lock()
			if h.meter.failed >= meterFailLimit {
				why = append(why, fmt.Sprintf("contactor closed although the meter failed %d reads in a row", h.meter.failed))
			}
			h.meter.mu.Unlock()
			if mustOpen {
				why = append(why, "contactor still closed")
			}
		}
		if c.closed != closed {
			why = append(why, fmt.Sprintf("station believes contactor closed=%v, hardware %v", c.closed, closed))
		}
		if w.faulted() || h.rcd.Tripped() || h.pilot.State() == hal.PilotE {
			if a := h.pilot.pwm(); a != 0 {
				why = append(why, fmt.Sprintf("fault active (%+v, RCD %v, CP %v) but PWM offers %v", *w, h.rcd.Tripped(), h.pilot.State(), a))
			}
			if c.status != Faulted {
				why = append(why, fmt.Sprintf("fault active (%+v, RCD %v, CP %v) but status %s", *w, h.rcd.Tripped(), h.pilot.State(), c.status))
			}
		}
	})
	h.contactor.mu.Lock()
	why = append(why, h.contactor.violations...)
	h.contactor.mu.Unlock()
	if len(why) > 0 {
		p.rt.Fatalf("step %d (%s): %s", p.step, kind, strings.Join(why, "; "))
	}
}

// pilot senses CP state s, telling the station. Leaving C/D (C->B, ->A,
// E, F) must open the contactor; A also clears the faults that a new plug-in
// checks again.
//
// A vehicle that leaves while StopTransactionOnEVSideDisconnect is set takes
// its session with it: the next vehicle must not charge on it. Whether a
// vehicle is plugged in is the world's knowledge, not the CP's: that covers
// an unplug behind E or F (a tethered cable pulled while the station drives
// -12 V for a fault), see TestUnplugBehindFaultEndsSession.
func (p *propRun) pilot(kind string, s hal.PilotState) {
	var left bool // a plugged-in vehicle left with the key set
	p.do(kind, !s.VehicleReady(), !s.VehicleReady(), func() {
		p.r.inLoop(func(l *loop) {
			was := p.h.pilot.State()
			p.h.pilot.set(s)
			switch s {
			case hal.PilotA:
				left = p.w.plugged && was != hal.PilotA && l.cfg.StopTransactionOnEVSideDisconnect
				p.w.plugged = false
				p.w.diode, p.w.lockFault = false, false
			case hal.PilotB, hal.PilotC, hal.PilotD:
				p.w.plugged = true
			}
			l.onEvent(hal.Event{Connector: 1, Kind: hal.PilotChanged, Pilot: s})
		})
	})
	if !left {
		return
	}
	var sess string
	p.r.inLoop(func(l *loop) {
		if c := l.conns[0]; c.sess != nil {
			sess = c.sess.id
		}
	})
	if sess != "" {
		p.rt.Fatalf("step %d (%s): the vehicle left with StopTransactionOnEVSideDisconnect set, but session %s still runs", p.step, kind, sess)
	}
}

// faults are the hardware faults the property tests inject.
var faults = []hal.EventKind{hal.RCDTripped, hal.ContactorWelded, hal.ContactorFailed, hal.DiodeFault, hal.LockFailed}

// fault injects k: the world changes and the station hears of it. The
// contactor must be open afterwards.
func (p *propRun) fault(k hal.EventKind) {
	h, w := p.h, p.w
	p.do("fault "+k.String(), true, true, func() {
		p.change(func() {
			switch k {
			case hal.RCDTripped:
				h.rcd.set(true)
			case hal.ContactorWelded:
				w.welded = true
			case hal.ContactorFailed:
				w.switchFailed = true
			case hal.DiodeFault:
				w.diode = true
			case hal.LockFailed:
				// The lock let go: its feedback says so.
				w.lockFault = true
				h.lock.mu.Lock()
				h.lock.locked = false
				h.lock.mu.Unlock()
			}
		}, hal.Event{Connector: 1, Kind: k})
	})
}

// clearFaults clears fault k (0: all) in the world and tells the station.
func (p *propRun) clearFaults(k hal.EventKind) {
	h, w := p.h, p.w
	p.do("clear", false, false, func() {
		p.change(func() {
			if k == 0 || k == hal.RCDTripped {
				h.rcd.set(false)
			}
			if k == 0 || k == hal.ContactorWelded {
				w.welded = false
			}
			if k == 0 || k == hal.ContactorFailed {
				w.switchFailed = false
			}
			if k == 0 || k == hal.DiodeFault {
				w.diode = false
			}
			if k == 0 || k == hal.LockFailed {
				w.lockFault = false
			}
		}, hal.Event{Connector: 1, Kind: hal.FaultCleared, Cleared: k})
	})
}

// meterFails makes every meter read fail, or succeed again.
func (p *propRun) meterFails(fail bool) {
	p.h.meter.mu.Lock()
	defer p.h.meter.mu.Unlock()
	p.h.meter.fail = fail
}

// setReporter makes the Reporter refuse (down) or accept facts.
func (p *propRun) setReporter(down bool) {
	p.do("reporter", false, false, func() {
		p.r.rep.mu.Lock()
		p.r.rep.down = down
		p.r.rep.mu.Unlock()
		p.repDown = p.repDown || down
	})
}

// state returns connector 1's sensed CP state and whether it has a session.
func (p *propRun) state() (hal.PilotState, bool) {
	var (
		s    hal.PilotState
		sess bool
	)
	p.r.inLoop(func(l *loop) { s, sess = p.h.pilot.State(), l.conns[0].sess != nil })
	return s, sess
}

// charge is the macro that makes runs reach a closed contactor: plug in,
// authorize (by card or remote start, before or after plugging in, unless a
// session runs already or charging is free) and ask for energy. Each part
// is a step of its own, checked as any other.
func (p *propRun) charge(rt *rapid.T) {
	tag := rapid.SampledFrom([]string{"A", "A", "A", "B", "BAD"}).Draw(rt, "tag")
	how := rapid.SampledFrom([]string{"card", "card first", "remote", "remote unauthorized", "none"}).Draw(rt, "how")
	authorize := func() {
		if _, sess := p.state(); sess {
			return // a card with the session's tag would stop it
		}
		switch how {
		case "card", "card first":
			p.do("card", false, false, func() { _ = p.r.st.PresentCard(p.ctx, 1, tag) })
		case "remote", "remote unauthorized":
			p.do("remote start", false, false, func() {
				_ = p.r.st.Start(p.ctx, 1, tag, StartOptions{Remote: true, SkipAuthorization: how == "remote unauthorized"})
			})
		}
	}
	if how == "card first" {
		authorize()
	}
	if s, _ := p.state(); !s.VehicleConnected() {
		p.pilot("plug", hal.PilotB)
	}
	if how != "card first" {
		authorize()
	}
	p.pilot("EV ready", rapid.SampledFrom([]hal.PilotState{hal.PilotC, hal.PilotC, hal.PilotD}).Draw(rt, "ready"))
}

// propKinds are the dangerous steps the fake property test reports.
var propKinds = []string{
	"C->B", "unplug", "CP E", "CP F", "fault RCDTripped", "fault ContactorWelded", "fault ContactorFailed",
	"fault DiodeFault", "fault LockFailed", "lock jams", "lock slips", "meter fails", "unavailable", "deauthorize", "reset",
	"config", "remote stop", "card", "unlock", "advance",
}

// TestSafetyProperty drives random event sequences into a station on fakes
// and checks, at every contactor Close and after every step, that the
// contactor is closed only while the CP is in C/D, the PWM offers >= 6 A,
// the lock is engaged, no fault is active and an authorized session's start
// has been recorded; that steps after which the rules demand an open
// contactor leave it open; and that a known fault has the PWM off and the
// connector Faulted.
func TestSafetyProperty(t *testing.T) {
	cov := &coverage{fromClosed: map[string]int{}}
	defer cov.report(t, propKinds)
	rapid.Check(t, func(rt *rapid.T) {
		cfg := Config{
			ConnectionTimeout:                 rapid.SampledFrom([]time.Duration{0, 30 * time.Second, 60 * time.Second}).Draw(rt, "timeout"),
			FreeCharging:                      rapid.IntRange(0, 3).Draw(rt, "free") == 0,
			StopTransactionOnEVSideDisconnect: rapid.Bool().Draw(rt, "stopOnDisconnect"),
			UnlockConnectorOnEVSideDisconnect: rapid.Bool().Draw(rt, "unlockOnDisconnect"),
			StopTransactionOnInvalidID:        rapid.Bool().Draw(rt, "stopOnInvalid"),
			MeterSampleInterval:               time.Minute,
		}
		// trouble scales the faults and failures of the run: most runs
		// have few, so that sessions get to charge; some have many.
		trouble := rapid.SampledFrom([]int{0, 0, 1, 2}).Draw(rt, "trouble")
		// Inline meter reads make the number of reads per clock step, and
		// so when a failing meter faults, the same in every replay: rapid
		// can then shrink a failure.
		r := newRig(t, rigOpts{cfg: &cfg, auth: map[string]AuthResult{"BAD": {Status: AuthInvalid}}, inline: true})
		defer r.shutdown()
		p := &propRun{rt: rt, r: r, h: r.hw[0], w: &world{deauthorized: map[string]bool{}},
			ctx: r.ctx(), timeout: cfg.ConnectionTimeout, dangerous: map[string]int{}}
		var lp *loop
		r.inLoop(func(l *loop) { lp = l })
		h := p.h
		h.contactor.mu.Lock()
		h.contactor.check = func() string { return unsafe(lp, h, r.rep, p.w) }
		h.contactor.mu.Unlock()

		actions := []action{
			{"advance", 5, 4, func(rt *rapid.T) {
				d := rapid.SampledFrom(advances(p.timeout)).Draw(rt, "advance")
				p.do("advance", true, false, func() { r.clk.Advance(d) })
			}},
			{"charge", 12, 1, p.charge},
			{"C->B", 1, 3, func(*rapid.T) { p.pilot("C->B", hal.PilotB) }},
			{"B->C", 2, 0, func(*rapid.T) { p.pilot("B->C", hal.PilotC) }},
			{"unplug", 1, 2, func(*rapid.T) { p.pilot("unplug", hal.PilotA) }},
			{"CP E/F", trouble, 2, func(rt *rapid.T) {
				s := rapid.SampledFrom([]hal.PilotState{hal.PilotE, hal.PilotF}).Draw(rt, "bad CP")
				p.pilot("CP "+s.String(), s)
			}},
			{"fault", 2 * trouble, 8, func(rt *rapid.T) { p.fault(rapid.SampledFrom(faults).Draw(rt, "fault")) }},
			{"clear", 2 + trouble, 1, func(rt *rapid.T) {
				p.clearFaults(rapid.SampledFrom(append([]hal.EventKind{0}, faults...)).Draw(rt, "cleared"))
			}},
			// A jammed lock is found at the next Lock: the next plug-in, or
			// the re-lock when a CP change makes the station apply again.
			{"lock jams", trouble, 2, func(*rapid.T) { p.do("lock jams", true, false, func() { h.lock.setFail(true) }) }},
			{"lock frees", 1, 0, func(*rapid.T) {
				p.do("lock frees", false, false, func() { h.lock.setFail(false); h.lock.setSlips(false) })
			}},
			// A slipping lock says yes to Lock and no through its feedback:
			// only the feedback may let the contactor close.
			{"lock slips", trouble, 1, func(*rapid.T) { p.do("lock slips", true, false, func() { h.lock.setSlips(true) }) }},
			{"meter fails", trouble, 2, func(*rapid.T) { p.do("meter fails", true, false, func() { p.meterFails(true) }) }},
			{"meter reads", 1, 1, func(*rapid.T) { p.do("meter reads", false, false, func() { p.meterFails(false) }) }},
			{"reporter", trouble, trouble, func(rt *rapid.T) { p.setReporter(rapid.Bool().Draw(rt, "down")) }},
			{"repair", 2, 0, func(*rapid.T) {
				p.clearFaults(0)
				h.lock.setFail(false)
				h.lock.setSlips(false)
				p.meterFails(false)
				p.setReporter(false)
				p.do("available", false, false, func() { _, _ = r.st.SetAvailability(p.ctx, 0, true) })
			}},
			{"deauthorize", 1, 2, func(*rapid.T) {
				p.do("deauthorize", true, false, func() {
					r.inLoop(func(l *loop) {
						if s := l.conns[0].sess; s != nil {
							if err := l.deauthorize(s.id); err == nil && !l.cfg.StopTransactionOnInvalidID {
								p.w.deauthorized[s.id] = true
							}
						}
					})
				})
			}},
			{"remote stop", 1, 2, func(*rapid.T) {
				p.do("remote stop", true, true, func() { _ = r.st.Stop(p.ctx, 1, ReasonRemote) })
			}},
			{"card", 1, 3, func(rt *rapid.T) {
				tag := rapid.SampledFrom([]string{"A", "B", "BAD", FreeIDTag}).Draw(rt, "card")
				reader := rapid.IntRange(0, 1).Draw(rt, "reader")
				p.do("card", true, false, func() { _ = r.st.PresentCard(p.ctx, reader, tag) })
			}},
			{"start", 1, 0, func(rt *rapid.T) {
				tag := rapid.SampledFrom([]string{"A", "BAD"}).Draw(rt, "startTag")
				skip := rapid.Bool().Draw(rt, "skip")
				p.do("remote start", false, false, func() {
					_ = r.st.Start(p.ctx, 1, tag, StartOptions{Remote: true, SkipAuthorization: skip})
				})
			}},
			{"availability", 1, 4, func(rt *rapid.T) {
				which := rapid.IntRange(0, 1).Draw(rt, "which")
				on := rapid.Bool().Draw(rt, "on")
				kind := "available"
				if !on {
					kind = "unavailable"
				}
				p.do(kind, !on, false, func() { _, _ = r.st.SetAvailability(p.ctx, which, on) })
			}},
			{"unlock", 1, 2, func(*rapid.T) {
				p.do("unlock", true, true, func() { _, _ = r.st.Unlock(p.ctx, 1) })
			}},
			{"reset", 1, 2, func(rt *rapid.T) {
				reason := rapid.SampledFrom([]StopReason{ReasonSoftReset, ReasonHardReset}).Draw(rt, "reset")
				// Not through Reset, which waits for the journal: with the
				// Reporter down that wait lasts until the clock moves.
				p.do("reset", true, true, func() { r.inLoop(func(l *loop) { l.reset(reason, func(error) {}) }) })
			}},
			{"config", 1, 2, func(rt *rapid.T) {
				c := cfg
				c.ConnectionTimeout = rapid.SampledFrom([]time.Duration{0, 30 * time.Second, 60 * time.Second}).Draw(rt, "newTimeout")
				c.StopTransactionOnInvalidID = rapid.Bool().Draw(rt, "newStopOnInvalid")
				c.StopTransactionOnEVSideDisconnect = rapid.Bool().Draw(rt, "newStopOnDisconnect")
				c.UnlockConnectorOnEVSideDisconnect = rapid.Bool().Draw(rt, "newUnlockOnDisconnect")
				c.FreeCharging = rapid.Bool().Draw(rt, "newFree")
				p.do("config", true, false, func() { _ = r.st.SetConfig(p.ctx, c) })
				p.timeout = c.ConnectionTimeout
			}},
		}
		steps := rapid.IntRange(10, 60).Draw(rt, "steps")
		for range steps {
			pick(rt, actions, p.closed()).do(rt)
		}
		cov.runs++
		if p.closedOnce {
			cov.closed++
		}
		if len(p.dangerous) > 0 {
			cov.dangerous++
		}
		for k, n := range p.dangerous {
			cov.fromClosed[k] += n
		}
	})
}

// TestUnplugBehindFaultEndsSession: a vehicle on a tethered cable (no lock)
// trips the RCD; the station drives -12 V, so the CP reads F whatever the
// vehicle does, and the driver unplugs and leaves. When the RCD is reset the
// CP reads A. With StopTransactionOnEVSideDisconnect the session must have
// ended: otherwise the next vehicle charges on it, without a token, billed
// to the previous driver.
func TestUnplugBehindFaultEndsSession(t *testing.T) {
	cfg := DefaultConfig()
	r := newRig(t, rigOpts{cfg: &cfg, noLock: true})
	card("A", nil)(r)
	r.pilot(1, hal.PilotC)
	r.check("charging", 1, want{status: Charging, closed: true, session: true})
	raise(hal.RCDTripped)(r)
	r.hw[0].rcd.set(true)
	r.pilot(1, hal.PilotF) // -12 V driven: the vehicle leaves unseen
	r.pilot(1, hal.PilotA)
	r.hw[0].rcd.set(false)
	clear(hal.RCDTripped)(r)
	if ends := r.rep.endsCopy(); len(ends) != 1 || ends[0].Reason != ReasonEVDisconnected {
		t.Errorf("ends %+v, want the session ended EVDisconnected", ends)
	}
	r.pilot(1, hal.PilotB) // the next vehicle, without a token
	r.pilot(1, hal.PilotC)
	r.check("next vehicle", 1, want{status: Preparing})
}
