package station

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/physic"
)

// SetLimits replaces the limit schedule of connector n, or with n = 0 the
// station's: the most every connector together may draw, per phase (the
// CSMS's station-wide limit; Options.SiteLimit applies as well). The
// schedule is typically the composite of the CSMS's charging profiles over
// a horizon; the station applies the step in force at once and arms a timer
// for the next boundary. A nil schedule removes the limit.
func (s *Station) SetLimits(ctx context.Context, n int, sched LimitSchedule) error {
	sched = sched.normalized()
	return s.call(ctx, func(l *loop, done func(error)) {
		var p *LimitSchedule // nil for none: most stations never get one
		if sched != nil {
			p = &sched
		}
		if n == 0 {
			l.stationSched = p
		} else if c := l.conn(n); c != nil {
			c.sched = p
		} else {
			done(ErrNoConnector)
			return
		}
		l.apply(nil)
		done(nil)
	})
}

// stationSchedule is the station-wide limit schedule; nil for none.
func (l *loop) stationSchedule() LimitSchedule {
	if l.stationSched == nil {
		return nil
	}
	return *l.stationSched
}

// budget is the most every connector together may be offered at now, per
// phase; NoLimit when nothing caps the sum.
func (l *loop) budget(now time.Time) physic.ElectricCurrent { return l.budgetWhy(now).a }

// budgetWhy is budget with the limit that sets it: the station-wide
// external limit and limit input, the CSMS's station limit, the charger's
// supply (Options.SiteLimit) and the grid connection (Options.Grid), the
// lowest winning.
func (l *loop) budgetWhy(now time.Time) limitWhy {
	b := limitWhy{a: NoLimit}
	if e := l.stationExt; e.activeAt(now) {
		b.lower(limitWhy{e.Current, LimitExternal, "station external limit" + sourceInfo(e.Source)})
	}
	if l.inputActive {
		b.lower(limitWhy{l.s.opts.InputLimit, LimitExternal, "limit input active"})
	}
	b.lower(limitWhy{l.stationSchedule().at(now).Current, LimitProfile, "station charging profile"})
	if site := l.s.opts.SiteLimit; site > 0 {
		b.lower(limitWhy{site, LimitSite, "station supply limit"})
	}
	if g, ok := l.gridLimit(); ok {
		b.lower(g)
	}
	return b
}

// sourceInfo formats an external limit's source for a reason's detail.
func sourceInfo(src string) string {
	if src == "" {
		return ""
	}
	return " (" + src + ")"
}

// connCap is connector c's own limit at now, before the sharing, with its
// reason and the least worth offering; off says the connector may not
// draw now (a pv session waiting for surplus).
func (l *loop) connCap(c *conn, now time.Time) (w limitWhy, floor physic.ElectricCurrent, off bool) {
	step := c.schedule().at(now)
	w = limitWhy{a: NoLimit}
	if c.ext.activeAt(now) {
		w.lower(limitWhy{c.ext.Current, LimitExternal, "connector external limit" + sourceInfo(c.ext.Source)})
	}
	w.lower(limitWhy{step.Current, LimitProfile, "connector charging profile"})
	if sc, ok, o := c.solarCap(); ok {
		w.lower(sc)
		off = o
	}
	w.lower(limitWhy{c.hw().MaxCurrent, LimitConnector, "connector rating"})
	return w, max(hal.MinOffer, step.MinCurrent), off
}

// drawBound is the most connector c's vehicle may draw at now: what it is
// offered, or is about to be, or was offered until a decrease less than
// evReaction ago.
func (c *conn) drawBound(now time.Time) physic.ElectricCurrent {
	b := max(c.grant, c.offered)
	if now.Before(c.heldUntil) {
		b = max(b, c.held)
	}
	return b
}

// noteOffer records a change of the offered current for the load sharing's
// timing rules; apply calls it whenever the pilot's offer changes.
func (c *conn) noteOffer(from, to physic.ElectricCurrent, now time.Time) {
	if from == to {
		return
	}
	c.changedAt = now
	if to < from {
		if !now.Before(c.heldUntil) {
			c.held = 0
		}
		c.held = max(c.held, from)
		c.heldUntil = now.Add(evReaction)
	}
}

// shareTargets computes every connector's target offer by the
// load-sharing rules (see share), and returns the connectors in priority
// order (the earliest session first; ties, and connectors without a
// session, by id) with their floors.
func (l *loop) shareTargets(now time.Time) (order []*conn, target, floor map[*conn]physic.ElectricCurrent) {
	order = slices.Clone(l.conns)
	slices.SortStableFunc(order, func(a, b *conn) int {
		if a.sess == nil || b.sess == nil {
			return cmp.Compare(a.id, b.id)
		}
		if c := a.sess.startedAt.Compare(b.sess.startedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	var (
		ds     []demand
		owners []*conn
	)
	floor = make(map[*conn]physic.ElectricCurrent, len(order))
	for _, c := range order {
		if c.dc != nil {
			continue // DC connectors are not in the AC sharing (applyDC sets why and target)
		}
		c.why, c.target = limitWhy{}, 0
		if !c.energyAllowed() || !c.pilot.VehicleConnected() {
			continue
		}
		w, f, off := l.connCap(c, now)
		c.why = w
		if off || w.a < f {
			if !off {
				c.why.info += fmt.Sprintf(": %v is below the %v minimum", w.a, f)
			}
			continue
		}
		ds = append(ds, demand{cap: w.a, floor: f, draws: c.pilot.VehicleReady()})
		owners = append(owners, c)
		floor[c] = f
	}
	b := l.budgetWhy(now)
	shares := share(b.a, ds)
	target = make(map[*conn]physic.ElectricCurrent, len(owners))
	for i, c := range owners {
		target[c] = shares[i]
		c.target = shares[i]
		if shares[i] < c.why.a {
			c.why = b
			if shares[i] == 0 {
				c.why.info += ": no 6 A left for this connector"
			}
		}
	}
	return order, target, floor
}

// lower sets the grant of every connector whose target is below it and
// returns them, to be commanded before anything rises.
func (l *loop) lower(order []*conn, target map[*conn]physic.ElectricCurrent) (lowered []*conn) {
	for _, c := range order {
		if t := target[c]; t < c.grant {
			c.grant = t
			lowered = append(lowered, c)
		}
	}
	return lowered
}

// raise sets the grant of every connector whose target is above it, as far
// as the timing rules and the currents still held by other vehicles allow
// (call it once the lowered connectors have been commanded, so that what
// they still hold counts), and returns them, with the earliest time a rise
// held back now may go ahead (zero when none is held back).
func (l *loop) raise(now time.Time, order []*conn, target, floor map[*conn]physic.ElectricCurrent) (raised []*conn, wake time.Time) {
	budget := l.budget(now)
	later := func(t time.Time) {
		if wake.IsZero() || t.Before(wake) {
			wake = t
		}
	}
	for _, c := range order {
		t := target[c]
		if t <= c.grant {
			continue
		}
		// A running PWM rises at most once per evReaction; one that starts
		// (from no PWM) is an offer the vehicle reads afresh, and may go
		// at once.
		if c.offered >= hal.MinOffer && now.Before(c.changedAt.Add(evReaction)) {
			later(c.changedAt.Add(evReaction))
			continue
		}
		g := t
		if budget != NoLimit {
			used := physic.ElectricCurrent(0)
			for _, o := range l.conns {
				if o != c {
					used = satAdd(used, o.drawBound(now))
				}
			}
			if room := max(0, budget-used); room < g {
				g = room - room%shareStep
				// Currents freed by recent decreases become usable
				// when their vehicles have had time to follow.
				for _, o := range l.conns {
					if o != c && now.Before(o.heldUntil) && o.held > max(o.grant, o.offered) {
						later(o.heldUntil)
					}
				}
			}
		}
		if g < floor[c] {
			g = 0 // not worth offering yet
		}
		if g > c.grant {
			c.grant = g
			raised = append(raised, c)
		}
	}
	return raised, wake
}

// nextLimitChange is the earliest time after now at which a schedule
// changes its step or a held-back rise may go ahead; zero when none.
func (l *loop) nextLimitChange(now time.Time) time.Time {
	next := l.wake
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	consider(l.stationSchedule().next(now))
	consider(l.nextExternalExpiry())
	consider(l.gridDeadline())
	consider(l.nextPhaseResume())
	for _, c := range l.conns {
		consider(c.schedule().next(now))
	}
	return next
}

// armLimitTimer arms the one timer of the limits at the next change, so
// that a schedule's boundary reaches the pilot at that instant, without
// polling.
func (l *loop) armLimitTimer() {
	now := l.s.opts.Clock.Now()
	next := l.nextLimitChange(now)
	if next.Equal(l.limitDue) && l.limitTimer != nil {
		return
	}
	if l.limitTimer != nil {
		l.limitTimer.Stop()
		l.limitTimer = nil
	}
	l.limitDue = next
	if next.IsZero() || l.ended() {
		return
	}
	s := l.s
	l.limitTimer = s.opts.Clock.AfterFunc(max(0, next.Sub(now)), func() {
		s.post(func(l *loop) {
			if l.limitDue.Equal(next) {
				l.limitTimer, l.limitDue = nil, time.Time{}
			}
			l.apply(nil)
		})
	})
}
