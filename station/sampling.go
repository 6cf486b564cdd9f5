package station

import (
	"cmp"
	"context"
	"slices"
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

// ticker makes the station's sampling ticks: the meter reads, Sample.Clock
// and each connector's Sample.Periodic, from one clock timer armed for the
// earliest of them rather than a repeater (and timer) each, which the fleet
// simulator's thousands of stations would all carry. Each tick behaves as a
// repeater of its own would: it is re-armed inside the timer's callback
// from the time it was due, so that a Fake clock advanced over several
// periods fires every one, in order, and the ticks do not drift; ticks due
// at the same instant fire in the order they were armed, as separate
// timers would; after a clock jump a tick carries on from now. Its methods
// are safe for concurrent use; the loop starts and stops ticks, the
// timer's callback fires them.
type ticker struct {
	s      *Station
	period time.Duration // of the meter reads

	mu sync.Mutex // guards the fields below
	// ticks are the meter reads (tickMeter), Sample.Clock (tickAligned)
	// and connector n's Sample.Periodic (tickAligned+n).
	ticks []tick
	t     clock.Timer // nil until first armed
	at    time.Time   // when t fires; zero when it is not armed
	seq   uint64      // counts the arms, for the order of ticks due together
	// firing is set while the callback fires ticks (off the lock): it
	// re-arms t when done, and nothing else does meanwhile.
	firing bool
	closed bool // stopped for good (shutdown)
}

// tick is one of a ticker's ticks.
type tick struct {
	due time.Time // zero: stopped
	seq uint64    // the ticker's seq when it was armed
	// sess is the session of a Sample.Periodic tick, so that a tick that
	// fires once more after its session ended samples nothing.
	sess *session
}

// The ticks of a ticker.
const (
	tickMeter   = 0
	tickAligned = 1 // connector n's Sample.Periodic is tickAligned+n
)

// newTicker returns a ticker for a station with n connectors whose meters
// are read every period; every tick is stopped.
func newTicker(s *Station, period time.Duration, n int) *ticker {
	return &ticker{s: s, period: period, ticks: make([]tick, tickAligned+1+n)}
}

// next is the delay of tick i after from; <= 0 stops it. The sampling
// intervals are read at every expiry (see Station.intervals).
func (k *ticker) next(i int, from time.Time) time.Duration {
	switch i {
	case tickMeter:
		return k.period
	case tickAligned:
		return nextAligned(from, time.Duration(k.s.intervals.aligned.Load()))
	}
	return time.Duration(k.s.intervals.periodic.Load())
}

// start arms tick i from now, for sess (Sample.Periodic; else nil); it
// stays stopped when next says so. A run of the tick that is firing may
// still fire once.
func (k *ticker) start(i int, sess *session) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return
	}
	now := k.s.opts.Clock.Now()
	k.ticks[i] = tick{}
	if d := k.next(i, now); d > 0 {
		k.seq++
		k.ticks[i] = tick{due: now.Add(d), seq: k.seq, sess: sess}
	}
	k.arm(now)
}

// stop stops tick i; a run of it that is firing may still fire once.
func (k *ticker) stop(i int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ticks[i].due.IsZero() {
		return
	}
	k.ticks[i] = tick{}
	if !k.closed {
		k.arm(k.s.opts.Clock.Now())
	}
}

// stopped reports whether tick i is stopped.
func (k *ticker) stopped(i int) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.ticks[i].due.IsZero()
}

// close stops every tick for good.
func (k *ticker) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	for i := range k.ticks {
		k.ticks[i] = tick{}
	}
	if k.t != nil && !k.at.IsZero() {
		k.t.Stop()
	}
	k.at = time.Time{}
}

// arm points the timer at the earliest tick, or stops it when every tick
// is; k.mu must be held. While the callback fires it leaves that to the
// callback.
func (k *ticker) arm(now time.Time) {
	if k.firing {
		return
	}
	var next time.Time
	for _, t := range k.ticks {
		if !t.due.IsZero() && (next.IsZero() || t.due.Before(next)) {
			next = t.due
		}
	}
	switch {
	case next.Equal(k.at):
		// Armed for it already, or stopped with nothing to arm.
	case next.IsZero():
		k.t.Stop()
	case k.t == nil:
		k.t = k.s.opts.Clock.AfterFunc(next.Sub(now), k.fire)
	default:
		k.t.Reset(next.Sub(now))
	}
	k.at = next
}

// fired is a tick the callback fires.
type fired struct {
	i    int
	due  time.Time
	seq  uint64
	sess *session
}

// fire is the timer's callback: it fires the ticks that are due, in the
// order they fall due (those due together in the order they were armed),
// then re-arms each from the time it was due and the timer for the next.
func (k *ticker) fire() {
	k.mu.Lock()
	k.at = time.Time{}
	if k.closed || k.firing {
		// A callback of an earlier arm is firing: it fires what is due
		// and re-arms once done.
		k.mu.Unlock()
		return
	}
	now := k.s.opts.Clock.Now()
	var due []fired
	for i, t := range k.ticks {
		if !t.due.IsZero() && !t.due.After(now) {
			due = append(due, fired{i, t.due, t.seq, t.sess})
		}
	}
	slices.SortFunc(due, func(a, b fired) int {
		if c := a.due.Compare(b.due); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	k.firing = true
	k.mu.Unlock()

	// Off the lock: posting waits while the inbox is full, and the loop
	// starts and stops ticks.
	for _, f := range due {
		k.post(f.i, f.due, f.sess)
	}

	now = k.s.opts.Clock.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.firing = false
	if k.closed {
		return
	}
	for _, f := range due {
		t := &k.ticks[f.i]
		if t.seq != f.seq || t.due.IsZero() {
			continue // stopped or started again meanwhile
		}
		at := f.due
		d := k.next(f.i, at)
		if d > 0 && at.Add(d).Before(now) {
			// The clock jumped past the next tick as well (a suspended
			// process, a clock step): carry on from now rather than fire
			// a burst of stale ticks.
			at, d = now, k.next(f.i, now)
		}
		if d <= 0 {
			*t = tick{}
			continue
		}
		k.seq++
		t.due, t.seq = at.Add(d), k.seq
	}
	k.arm(now)
}

// post hands the loop what tick i, due at at, does.
func (k *ticker) post(i int, at time.Time, sess *session) {
	s := k.s
	switch i {
	case tickMeter:
		s.post(meterTick)
	case tickAligned:
		s.post(func(l *loop) {
			if l.cfg.ClockAlignedInterval == 0 {
				return // disabled since the tick was armed
			}
			for _, c := range l.conns {
				if c.meter() != nil {
					l.sample(c, ContextClock, at)
				}
			}
		})
	default:
		n := i - tickAligned
		s.post(func(l *loop) {
			if l.cfg.MeterSampleInterval == 0 {
				return // disabled since the tick was armed
			}
			if c := l.conn(n); c.sess != nil && c.sess == sess {
				l.sample(c, ContextPeriodic, at)
			}
		})
	}
}

// meterTick is the meter tick's input of the loop.
func meterTick(l *loop) { l.readMeters() }

// startPeriodic arms Sample.Periodic for c's session, at the interval of
// the current Config (re-read at every expiry).
func (l *loop) startPeriodic(c *conn) {
	if c.meter() == nil || c.sess == nil {
		return
	}
	l.ticks.start(tickAligned+c.id, c.sess)
}

// stopPeriodic stops c's Sample.Periodic.
func (l *loop) stopPeriodic(c *conn) { l.ticks.stop(tickAligned + c.id) }

// startAligned arms Sample.Clock for every connector with a meter.
func (l *loop) startAligned() { l.ticks.start(tickAligned, nil) }

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
		if c.meter() == nil || c.readBusy {
			continue
		}
		c.readBusy, c.readRound = true, uint32(l.meterRound)
		l.readsInFlight++
		if c.readReq == nil {
			r, err := c.meter().Read(l.ctx)
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
		t := s.opts.Clock.AfterFunc(readTimeout, cancel)
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
		c.logger().Warn("station: meter read", "meter", c.meter().String(), "err", err, "consecutive", c.readFails)
		if c.readFails >= meterFailLimit {
			l.endOrphans(n, nil)
			if _, ok := c.faults[faultMeter]; !ok {
				l.addFault(c, faultMeter, "meter: "+err.Error())
			}
		}
		return
	}
	if r.Time.IsZero() {
		r.Time = l.s.opts.Clock.Now()
	}
	c.readFails = 0
	c.reading, c.reading1st = r, true
	l.endOrphans(n, &r)
	l.priceReading(c)
	if _, ok := c.faults[faultMeter]; ok {
		l.clearFault(c, faultMeter)
		l.apply(c)
	}
}
