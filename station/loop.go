package station

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evsed/evsed/hal"
)

// msg is one input of the loop: a closure run on the loop goroutine, which
// alone owns the loop state. Hardware events, meter readings, timer expiries,
// authorization answers, journal acknowledgements and API requests are all
// msgs, so they are handled one at a time in the order they arrived.
type msg func(*loop)

// loop is the state of a running station. Every field is owned by the loop
// goroutine; nothing else may touch it.
type loop struct {
	s     *Station
	ctx   context.Context // the run's context; auth and meter goroutines derive from it
	cfg   Config
	conns []*conn

	journal *journal
	store   store

	// Asynchronous work the loop has started and not yet seen finish: used by
	// settle, so that tests in virtual time know when the station is quiet.
	authsInFlight  int
	readsInFlight  int
	journalPending int
	settleWaiters  []settleWaiter

	// stationOff is set by SetAvailability(0, false): connector 0 reports
	// Unavailable once every connector is.
	stationOff bool
	// status0 is the last status reported for connector 0; booted says
	// every connector has reported, so that connector 0 may.
	status0 Status
	booted  bool

	meterTick, alignedTick *repeater
}

// Timeouts of work the loop delegates to other goroutines.
const (
	// authTimeout bounds one Authorizer call; a timeout refuses the token.
	authTimeout = 30 * time.Second
	// meterPeriod is how often each meter is read by default
	// (Options.MeterReadInterval).
	meterPeriod = time.Second
	// readTimeout bounds one meter read.
	readTimeout = 5 * time.Second
	// meterFailLimit consecutive failed reads fault the connector.
	meterFailLimit = 3
)

// Run drives the station until ctx ends. On return every connector's hardware
// has been halted and pending facts have been handed to the Reporter (Run
// therefore waits for a blocked Reporter). Run may be called once.
func (s *Station) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("station: Run called twice")
	}
	defer s.haltOnPanic()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	l := &loop{s: s, ctx: ctx, cfg: normalize(s.opts.Config), store: store{db: s.opts.DB, bucket: s.bucket}}
	s.intervals.periodic.Store(int64(l.cfg.MeterSampleInterval))
	s.intervals.aligned.Store(int64(l.cfg.ClockAlignedInterval))
	saved, err := l.store.load()
	if err != nil {
		s.haltAll()
		close(s.loopDone)
		return err
	}

	l.journal = newJournal()
	// Facts pending at shutdown are still delivered: the journal's context
	// outlives the run's.
	jdone := make(chan struct{})
	go func() {
		defer s.haltOnPanic()
		defer close(jdone)
		s.runJournal(context.WithoutCancel(ctx), l.journal, l.store)
	}()

	workers := make(chan struct{}, len(s.opts.Connectors)+1)
	nworkers := 0
	for i, cc := range s.opts.Connectors {
		c := newConn(cc, s.log)
		l.conns = append(l.conns, c)
		if cc.Meter != nil && !s.opts.InlineMeterReads {
			c.readReq = make(chan struct{}, 1)
			nworkers++
			go func() {
				defer s.haltOnPanic()
				defer func() { workers <- struct{}{} }()
				s.runSampler(ctx, i+1, cc.Meter, c.readReq)
			}()
		}
	}
	boardErr := make(chan error, 1)
	if b := s.opts.Board; b != nil {
		nworkers++
		go func() {
			defer s.haltOnPanic()
			defer func() { workers <- struct{}{} }()
			if err := b.Run(ctx, s.Event); err != nil && ctx.Err() == nil {
				boardErr <- fmt.Errorf("station: board %s: %w", b.Name(), err)
				cancel()
			}
		}()
	}

	l.boot(saved)
	for {
		select {
		case m := <-s.inbox:
			m(l)
			l.checkSettled()
			continue
		case <-ctx.Done():
		}
		break
	}

	l.shutdown()
	close(s.loopDone)
	for range nworkers {
		<-workers
	}
	l.journal.close()
	<-jdone
	if err := l.store.markClean(); err != nil {
		s.log.Error("station: clean-shutdown marker", "err", err)
	}
	select {
	case err := <-boardErr:
		return err
	default:
		return nil
	}
}

// shutdown stops the timers and puts every hardware resource in its safe
// state. Sessions stay recorded: the next Run resumes or ends them.
func (l *loop) shutdown() {
	l.meterTick.stop()
	l.alignedTick.stop()
	for _, c := range l.conns {
		c.stopTimers()
		c.closed = false
	}
	l.s.haltAll()
}

// haltAll halts every hal resource, contactors first.
// haltOnPanic, deferred first in every goroutine the station starts, puts
// the hardware in its safe state before a panic carries on: Go cannot
// recover another goroutine's panic, so the binary's own recover would
// never see one raised here, and the contactor must not stay closed while
// the process dies.
func (s *Station) haltOnPanic() {
	if r := recover(); r != nil {
		s.log.Error("station: panic: halting the hardware", "panic", r)
		s.haltAll()
		if b := s.opts.Board; b != nil {
			if err := b.Halt(); err != nil {
				s.log.Error("station: halt board", "err", err)
			}
		}
		panic(r)
	}
}

func (s *Station) haltAll() {
	halt := func(r hal.Resource) {
		if r == nil {
			return
		}
		if err := r.Halt(); err != nil {
			s.log.Error("station: halt", "resource", r.String(), "err", err)
		}
	}
	for _, cc := range s.opts.Connectors {
		halt(cc.Hardware.Contactor)
	}
	for _, cc := range s.opts.Connectors {
		hw := cc.Hardware
		halt(hw.Pilot)
		// A nil interface field stays nil; a typed nil is the board's bug.
		if hw.Lock != nil {
			halt(hw.Lock)
		}
		if hw.RCD != nil {
			halt(hw.RCD)
		}
		if hw.Indicator != nil {
			halt(hw.Indicator)
		}
	}
	if s.opts.Board != nil {
		halt(s.opts.Board)
	}
}

// post hands m to the loop, waiting while the inbox is full; after the loop
// has stopped m is dropped.
func (s *Station) post(m msg) {
	select {
	case s.inbox <- m:
	case <-s.loopDone:
	}
}

// call runs f on the loop and waits for it to call done (possibly later,
// from another msg). Results f writes into the caller's variables are
// visible to the caller once call returns nil.
func (s *Station) call(ctx context.Context, f func(l *loop, done func(error))) error {
	reply := make(chan error, 1)
	m := func(l *loop) {
		once := false
		f(l, func(err error) {
			if !once {
				once = true
				reply <- err
			}
		})
	}
	select {
	case s.inbox <- m:
	case <-s.loopDone:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-s.loopDone:
		select {
		case err := <-reply:
			return err
		default:
			return ErrStopped
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// settleWaiter is a settle call waiting for the loop to be quiet.
type settleWaiter struct {
	done    func(error)
	journal bool // also wait for every fact to be delivered
}

// settle returns once the loop has no asynchronous work outstanding: no
// authorization or meter read in flight and, with journal, every fact
// delivered. Tests use it to step through scenarios in virtual time without
// sleeping. With journal it waits forever while the journal retries a
// failing Reporter on a clock that does not move.
func (s *Station) settle(ctx context.Context, journal bool) error {
	return s.call(ctx, func(l *loop, done func(error)) {
		l.settleWaiters = append(l.settleWaiters, settleWaiter{done, journal})
		l.checkSettled()
	})
}

// checkSettled answers the settle waiters whose wait is over.
func (l *loop) checkSettled() {
	if len(l.settleWaiters) == 0 || l.authsInFlight+l.readsInFlight > 0 {
		return
	}
	keep := l.settleWaiters[:0]
	for _, w := range l.settleWaiters {
		if w.journal && l.journalPending > 0 {
			keep = append(keep, w)
			continue
		}
		w.done(nil)
	}
	l.settleWaiters = keep
}

// emit queues a fact for the journal goroutine.
func (l *loop) emit(f fact) {
	l.journalPending++
	l.journal.push(f)
}

// conn returns connector n (1-based) or nil.
func (l *loop) conn(n int) *conn {
	if n < 1 || n > len(l.conns) {
		return nil
	}
	return l.conns[n-1]
}

// sessionConn returns the connector running the session id, or nil.
func (l *loop) sessionConn(id string) *conn {
	for _, c := range l.conns {
		if c.sess != nil && c.sess.id == id {
			return c
		}
	}
	return nil
}

// normalize makes negative durations zero, which is what they mean.
func normalize(c Config) Config {
	for _, d := range []*time.Duration{&c.ConnectionTimeout, &c.MeterSampleInterval, &c.ClockAlignedInterval} {
		if *d < 0 {
			*d = 0
		}
	}
	return c
}

// setConfig adopts c. Intervals reach running timers through the Station's
// atomics at their next expiry; timers that were off are started.
func (l *loop) setConfig(c Config) {
	l.cfg = normalize(c)
	l.s.intervals.periodic.Store(int64(l.cfg.MeterSampleInterval))
	l.s.intervals.aligned.Store(int64(l.cfg.ClockAlignedInterval))
	if l.alignedTick.done() {
		l.alignedTick = l.startAligned()
	}
	for _, c := range l.conns {
		if c.sess != nil && c.periodic.done() {
			c.periodic = l.startPeriodic(c)
		}
	}
}

// snapshot describes every connector.
func (l *loop) snapshot() Snapshot {
	snap := Snapshot{At: l.s.clk.Now()}
	for _, c := range l.conns {
		cs := ConnectorSnapshot{
			ID:        c.id,
			Status:    c.status,
			Error:     c.errCode,
			Pilot:     c.pilot,
			Offered:   c.offered,
			Contactor: c.closed,
			Fault:     c.info,
			Meter:     c.reading,
		}
		if c.sess != nil {
			cs.Session = &SessionSnapshot{
				ID:            c.sess.id,
				IDTag:         c.sess.idTag,
				TransactionID: c.sess.txID,
				Energy:        max(0, c.reading.EnergyImport-c.sess.meterStart),
				StartedAt:     c.sess.startedAt,
			}
		}
		snap.Connectors = append(snap.Connectors, cs)
	}
	return snap
}
