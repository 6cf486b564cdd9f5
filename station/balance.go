package station

import (
	"cmp"
	"context"
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
		if n == 0 {
			l.stationSched = sched
		} else if c := l.conn(n); c != nil {
			c.sched = sched
		} else {
			done(ErrNoConnector)
			return
		}
		l.apply(nil)
		done(nil)
	})
}

// budget is the most every connector together may be offered at now, per
// phase; NoLimit when nothing caps the sum.
func (l *loop) budget(now time.Time) physic.ElectricCurrent {
	b := l.stationSched.at(now).Current
	if site := l.s.opts.SiteLimit; site > 0 {
		b = min(b, site)
	}
	return b
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
		if !c.energyAllowed() || !c.pilot.VehicleConnected() {
			continue
		}
		step := c.sched.at(now)
		capped := min(c.hw.MaxCurrent, step.Current)
		f := max(hal.MinOffer, step.MinCurrent)
		if capped < f {
			continue
		}
		ds = append(ds, demand{cap: capped, floor: f, draws: c.pilot.VehicleReady()})
		owners = append(owners, c)
		floor[c] = f
	}
	shares := share(l.budget(now), ds)
	target = make(map[*conn]physic.ElectricCurrent, len(owners))
	for i, c := range owners {
		target[c] = shares[i]
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
	consider(l.stationSched.next(now))
	for _, c := range l.conns {
		consider(c.sched.next(now))
	}
	return next
}

// armLimitTimer arms the one timer of the limits at the next change, so
// that a schedule's boundary reaches the pilot at that instant, without
// polling.
func (l *loop) armLimitTimer() {
	now := l.s.clk.Now()
	next := l.nextLimitChange(now)
	if next.Equal(l.limitDue) && l.limitTimer != nil {
		return
	}
	if l.limitTimer != nil {
		l.limitTimer.Stop()
		l.limitTimer = nil
	}
	l.limitDue = next
	if next.IsZero() || l.ctx.Err() != nil {
		return
	}
	s := l.s
	l.limitTimer = s.clk.AfterFunc(max(0, next.Sub(now)), func() {
		s.post(func(l *loop) {
			if l.limitDue.Equal(next) {
				l.limitTimer, l.limitDue = nil, time.Time{}
			}
			l.apply(nil)
		})
	})
}
