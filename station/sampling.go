package station

import (
	"context"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/meter"
)

// repeater calls fire at the times next chooses, from clock callbacks. It
// re-arms itself inside the callback rather than from the loop, so that a
// Fake clock advanced over several periods fires every one of them, in
// order. fire gets the time the tick was due, not the time the callback
// ran: samples carry the exact period or clock-aligned boundary, and the
// next tick is due from the last due time, so a late callback does not
// make the ticks drift. A nil *repeater is a stopped one.
type repeater struct {
	clk  clock.Clock
	next func(from time.Time) time.Duration // delay after from; <= 0 stops
	fire func(at time.Time)                 // must not block on the loop's state

	mu      sync.Mutex // guards t, due, stopped
	t       clock.Timer
	due     time.Time
	stopped bool
}

// startRepeater arms a repeater; it is born stopped when next says so.
func startRepeater(clk clock.Clock, next func(time.Time) time.Duration, fire func(time.Time)) *repeater {
	r := &repeater{clk: clk, next: next, fire: fire}
	now := clk.Now()
	d := next(now)
	r.mu.Lock()
	defer r.mu.Unlock()
	if d <= 0 {
		r.stopped = true
		return r
	}
	r.due = now.Add(d)
	r.t = clk.AfterFunc(d, r.tick)
	return r
}

func (r *repeater) tick() {
	r.mu.Lock()
	stopped, due := r.stopped, r.due
	r.mu.Unlock()
	if stopped {
		return
	}
	r.fire(due)
	now := r.clk.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	d := r.next(due)
	if d > 0 && due.Add(d).Before(now) {
		// The clock jumped past the next tick as well (a suspended
		// process, a clock step): carry on from now rather than fire a
		// burst of stale ticks.
		due, d = now, r.next(now)
	}
	if d <= 0 {
		r.stopped = true
		return
	}
	r.due = due.Add(d)
	r.t.Reset(r.due.Sub(now))
}

// stop stops r; a tick already running may still fire once.
func (r *repeater) stop() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	if r.t != nil {
		r.t.Stop()
	}
}

// done reports whether r is stopped (or nil).
func (r *repeater) done() bool {
	if r == nil {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopped
}

// nextAligned is the delay from now to the next multiple of interval since
// midnight UTC; a day's last period is cut short at the next midnight.
func nextAligned(now time.Time, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	u := now.UTC()
	midnight := time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
	next := midnight.Add((u.Sub(midnight)/interval + 1) * interval)
	if tomorrow := midnight.AddDate(0, 0, 1); next.After(tomorrow) {
		next = tomorrow
	}
	return next.Sub(u)
}

// startPeriodic arms Sample.Periodic for c's session, at the interval of
// the current Config (re-read at every expiry).
func (l *loop) startPeriodic(c *conn) *repeater {
	if c.meter == nil || c.sess == nil {
		return nil
	}
	s, n, id := l.s, c.id, c.sess.id
	return startRepeater(s.clk,
		func(time.Time) time.Duration { return time.Duration(s.intervals.periodic.Load()) },
		func(at time.Time) {
			s.post(func(l *loop) {
				if l.cfg.MeterSampleInterval == 0 {
					return // disabled since the timer was armed
				}
				if c := l.conn(n); c.sess != nil && c.sess.id == id {
					l.sample(c, ContextPeriodic, at)
				}
			})
		})
}

// startAligned arms Sample.Clock for every connector with a meter.
func (l *loop) startAligned() *repeater {
	s := l.s
	return startRepeater(s.clk,
		func(now time.Time) time.Duration { return nextAligned(now, time.Duration(s.intervals.aligned.Load())) },
		func(at time.Time) {
			s.post(func(l *loop) {
				if l.cfg.ClockAlignedInterval == 0 {
					return // disabled since the timer was armed
				}
				for _, c := range l.conns {
					if c.meter != nil {
						l.sample(c, ContextClock, at)
					}
				}
			})
		})
}

// sample emits c's latest reading; SessionID is set while a session runs.
func (l *loop) sample(c *conn, ctx SampleContext, at time.Time) {
	if !c.reading1st {
		return // nothing read yet: no value to report
	}
	sm := Sample{Connector: c.id, Context: ctx, Reading: c.reading, At: at, DC: c.dcStatus()}
	if c.sess != nil {
		sm.SessionID = c.sess.id
	}
	l.emit(sampleFact{sm})
}

// readMeters asks every idle sampler for a reading; a meter still busy with
// the previous read is skipped rather than queued. With InlineMeterReads
// the loop reads the meters itself.
func (l *loop) readMeters() {
	l.meterRound++
	for _, c := range l.conns {
		if c.meter == nil || c.readBusy {
			continue
		}
		c.readBusy, c.readRound = true, l.meterRound
		l.readsInFlight++
		if c.readReq == nil {
			r, err := c.meter.Read(l.ctx)
			l.onReading(c.id, r, err)
			continue
		}
		c.readReq <- struct{}{} // cannot block: readBusy keeps it empty
	}
	// After the connectors' reads, so that an inline grid reading finds
	// theirs done.
	l.readGrid(l.meterRound)
}

// runSampler reads m whenever the loop asks, off the loop, until ctx ends.
func (s *Station) runSampler(ctx context.Context, n int, m meter.Meter, req <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-req:
		}
		rctx, cancel := context.WithCancel(ctx)
		t := s.clk.AfterFunc(readTimeout, cancel)
		r, err := m.Read(rctx)
		t.Stop()
		cancel()
		s.post(func(l *loop) { l.onReading(n, r, err) })
	}
}

// onReading keeps a good reading, ends orphans waiting for it, and faults
// the connector after meterFailLimit consecutive failures. A meter fault
// opens the contactor but keeps the session: energy that cannot be measured
// is not delivered, and the session resumes when reads succeed again.
func (l *loop) onReading(n int, r meter.Reading, err error) {
	c := l.conn(n)
	c.readBusy = false
	l.readsInFlight--
	// A grid reading of the same tick may be waiting for this one.
	defer l.useGridReading()
	if err != nil {
		c.readFails++
		c.log.Warn("station: meter read", "meter", c.meter.String(), "err", err, "consecutive", c.readFails)
		if c.readFails >= meterFailLimit {
			for _, o := range c.orphans {
				l.endOrphan(o, nil)
			}
			c.orphans = nil
			if _, ok := c.faults[faultMeter]; !ok {
				l.addFault(c, faultMeter, "meter: "+err.Error())
			}
		}
		return
	}
	if r.Time.IsZero() {
		r.Time = l.s.clk.Now()
	}
	c.readFails = 0
	c.reading, c.reading1st = r, true
	for _, o := range c.orphans {
		l.endOrphan(o, &r)
	}
	c.orphans = nil
	l.priceReading(c)
	if _, ok := c.faults[faultMeter]; ok {
		l.clearFault(c, faultMeter)
		l.apply(c)
	}
}
