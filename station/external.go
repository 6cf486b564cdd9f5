package station

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/physic"
)

// ExternalLimit is a limit from outside the charger and its CSMS: an
// energy manager, a home automation system, the grid operator's control
// box (in Germany, EnWG section 14a). It is the most that may be offered
// per phase, to one connector or to every connector together.
type ExternalLimit struct {
	// Current is the most that may be offered per phase; below 6 A no PWM
	// is offered (SuspendedEVSE) while it holds.
	Current physic.ElectricCurrent
	// Until is when the limit expires by itself; the zero time means it
	// holds until cleared or replaced.
	Until time.Time
	// Source names who set it, for the status and logs (e.g. "api"); may
	// be empty.
	Source string
}

// activeAt reports whether e holds at t.
func (e *ExternalLimit) activeAt(t time.Time) bool {
	return e != nil && (e.Until.IsZero() || t.Before(e.Until))
}

// SetExternalLimit sets the external limit of connector n, or with n = 0
// the station's (the most every connector together may draw per phase,
// shared by the load sharing). It replaces an earlier one of the same
// connector, applies at once (a lower offer in this call, a higher one
// after the usual rise delay) and, with an Until, lapses by itself then.
// External limits are kept in memory only: whoever sets them renews them
// after a restart, as energy managers do. A negative Current, or an Until
// that has passed, answers ErrInvalidLimit.
func (s *Station) SetExternalLimit(ctx context.Context, n int, e ExternalLimit) error {
	if e.Current < 0 {
		return fmt.Errorf("%w: negative current %v", ErrInvalidLimit, e.Current)
	}
	return s.call(ctx, func(l *loop, done func(error)) {
		now := l.s.opts.Clock.Now()
		if !e.activeAt(now) {
			done(fmt.Errorf("%w: expired at %s", ErrInvalidLimit, e.Until.UTC().Format(time.RFC3339)))
			return
		}
		lim := e
		if n == 0 {
			l.stationExt = &lim
		} else if c := l.conn(n); c != nil {
			c.ext = &lim
		} else {
			done(ErrNoConnector)
			return
		}
		l.s.logger().Info("station: external limit set", "connector", n, "current", e.Current, "until", e.Until, "source", e.Source)
		l.apply(nil)
		done(nil)
	})
}

// ClearExternalLimit removes the external limit of connector n (0: the
// station's); clearing none is not an error.
func (s *Station) ClearExternalLimit(ctx context.Context, n int) error {
	return s.call(ctx, func(l *loop, done func(error)) {
		if n == 0 {
			l.stationExt = nil
		} else if c := l.conn(n); c != nil {
			c.ext = nil
		} else {
			done(ErrNoConnector)
			return
		}
		l.apply(nil)
		done(nil)
	})
}

// expireExternal drops the external limits that have lapsed at now.
func (l *loop) expireExternal(now time.Time) {
	if e := l.stationExt; e != nil && !e.activeAt(now) {
		l.s.logger().Info("station: external limit expired", "connector", 0)
		l.stationExt = nil
	}
	for _, c := range l.conns {
		if c.ext != nil && !c.ext.activeAt(now) {
			c.logger().Info("station: external limit expired")
			c.ext = nil
		}
	}
}

// nextExternalExpiry is the earliest expiry of an external limit; zero
// when none.
func (l *loop) nextExternalExpiry() time.Time {
	var next time.Time
	consider := func(e *ExternalLimit) {
		if e != nil && !e.Until.IsZero() && (next.IsZero() || e.Until.Before(next)) {
			next = e.Until
		}
	}
	consider(l.stationExt)
	for _, c := range l.conns {
		consider(c.ext)
	}
	return next
}
