package station

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/station/tariff"
)

// msg is one input of the loop: a closure run on the loop goroutine, which
// alone owns the loop state. Hardware events, meter readings, timer expiries,
// authorization answers, journal acknowledgements and API requests are all
// msgs, so they are handled one at a time in the order they arrived.
type msg func(*loop)

// loop is the state of a running station. Every field is owned by the
// goroutine that holds the loop (Station.active: the one in Launch until it
// has booted, then serve); nothing else may touch it.
type loop struct {
	s     *Station
	ctx   context.Context // the run's context; auth and meter goroutines derive from it
	cfg   Config
	conns []*conn

	journal *journal
	store   store
	// What finish needs of Launch: cancel ends the run's context when
	// Launch derived one (nil: the caller's is used as is); stopBoard stops
	// a board that could Start; workers counts out the nworkers
	// goroutines of the station's own; boardErr is the board's failure;
	// stopped is done once finish has run (wait).
	cancel    context.CancelFunc
	stopBoard func()
	workers   chan struct{}
	boardErr  error
	stopped   sync.WaitGroup

	// settleWaiters wait for the loop to be quiet (see the counters of
	// asynchronous work below).
	settleWaiters []settleWaiter

	// orphans are the sessions of a previous run waiting for their
	// connector's meter to be read to end (see endOrphan); nil after.
	orphans []orphan

	// ticks makes the meter reads and the samples (see ticker).
	ticks *ticker

	// stationSched is the station-wide limit schedule (SetLimits(0, ...));
	// nil for none (see stationSchedule).
	stationSched *LimitSchedule
	// grid is the grid meter's state (Options.Grid); stationExt the
	// station-wide external limit (nil: none).
	grid       *gridState // nil without a grid meter (see gridState)
	stationExt *ExternalLimit
	siteSeen   *limitSeen // the site's limit as last reported; nil before the first report
	// meterRound counts the meter ticks, so that a grid reading is paired
	// with the connectors' readings of its tick.
	meterRound uint64
	// limitTimer fires at limitDue, the next change of a limit schedule or
	// the time a held-back rise may go ahead (wake); nil when none.
	limitTimer clock.Timer
	limitDue   time.Time
	wake       time.Time

	// reservations are the accepted reservations, by id; resvTimer fires
	// at the earliest expiry.
	reservations map[int]*reservation
	resvTimer    clock.Timer

	// defaultTariff prices sessions without a tariff of their own (see
	// SetTariff); nil: none.
	defaultTariff *tariff.Tariff

	// The counters and flags come last, together, so that they pack.
	//
	// Asynchronous work the loop has started and not yet seen finish: used by
	// settle, so that tests in virtual time know when the station is quiet.
	// displaysInFlight counts screens handed to the displays' goroutine and
	// not yet shown.
	journalPending                                 int
	authsInFlight, readsInFlight, displaysInFlight int32
	nworkers                                       int32 // see workers
	// status0 is the last status reported for connector 0 (see booted).
	status0 status0Code
	// stationOff is set by SetAvailability(0, false): connector 0 reports
	// Unavailable once every connector is.
	stationOff bool
	// booted says every connector has reported, so that connector 0 may.
	booted bool
	// inputActive is the level of Options.LimitInput.
	inputActive bool
	// applying is set while apply runs; again says a nested apply asked
	// for the shares to be derived again.
	applying, again bool
	// holdsDirty says a reservation ended or changed since the holds were
	// last derived (refreshHolds).
	holdsDirty bool
	// offline says the back end is unreachable (SetOnline).
	offline bool
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
// therefore waits for a blocked Reporter). Run may be called once, and not
// after Launch.
func (s *Station) Run(ctx context.Context) error {
	wait, err := s.Launch(ctx)
	if err != nil {
		return err
	}
	return wait()
}

// Launch starts the station as Run does, but returns once it has booted:
// from then on its inputs are handled, one at a time and in order, on a
// goroutine that runs only while some are waiting, so that an idle station
// keeps no goroutine of its own (the fleet simulator runs thousands). When
// ctx ends the station stops as Run does; wait, which may be called once,
// returns what Run would return, once it has stopped. An error from Launch
// itself (the stored sessions could not be read) means nothing runs and
// the hardware has been halted. Launch (or Run) may be called once.
func (s *Station) Launch(ctx context.Context) (wait func() error, err error) {
	if !s.started.CompareAndSwap(false, true) {
		return nil, errors.New("station: Run or Launch called twice")
	}
	defer s.haltOnPanic()
	starter, canStart := s.opts.Board.(eventStarter)
	// workers collects the ends of the station's own goroutines: a
	// sampler per meter (unless read inline) and the board's Run (unless
	// it can Start). A fleet station has none, and no channel.
	nworkers := 0
	for _, cc := range s.opts.Connectors {
		if cc.Meter != nil && !s.opts.InlineMeterReads {
			nworkers++
		}
	}
	if s.opts.Board != nil && !canStart {
		nworkers++
	}
	gm := s.opts.Grid.Meter
	if gm != nil && !s.opts.InlineMeterReads {
		nworkers++
	}
	// A context derived from the caller's costs a cancelCtx, its Done
	// channel and an entry in the parent's children (some 400 bytes, times
	// thousands in the fleet simulator). Only the station's own goroutines
	// need one, so that finish can end them (after Shutdown, or when a
	// board's Run fails); otherwise the run's context is the caller's.
	var cancel context.CancelFunc
	if nworkers > 0 {
		ctx, cancel = context.WithCancel(ctx)
	}

	bucket := []byte(s.opts.Bucket)
	if len(bucket) == 0 {
		bucket = []byte("station")
	}
	l := &loop{s: s, ctx: ctx, cancel: cancel, cfg: normalize(s.opts.Config), store: store{db: s.opts.DB, bucket: bucket}}
	if p := s.opts.EnergyFile; p != "" && s.opts.DB != nil {
		ef, err := openEnergyFile(p)
		if err != nil {
			// The database still takes the checkpoints: more writes, no
			// loss.
			s.logger().Warn("station: energy checkpoints go to the database", "err", err)
		} else {
			l.store.energy = ef
		}
	}
	s.intervals.periodic.Store(int64(l.cfg.MeterSampleInterval))
	s.intervals.aligned.Store(int64(l.cfg.ClockAlignedInterval))
	saved, err := l.store.load()
	if err != nil {
		if cancel != nil {
			cancel()
		}
		s.haltAll()
		close(s.loopDone)
		_ = l.store.energy.close()
		return nil, err
	}

	l.journal = newJournal(l.deliverFacts)

	// A board that can Start delivers its events from now on; they wait in
	// the inbox until the loop has booted. Starting it before the samplers
	// lets a failure end the run's context before anything derives from it.
	l.stopBoard = func() {}
	if canStart {
		stop, err := starter.Start(s.Event)
		if err != nil {
			l.boardErr = fmt.Errorf("station: board %s: %w", s.opts.Board.Name(), err)
			if l.cancel == nil {
				ctx, l.cancel = context.WithCancel(ctx)
				l.ctx = ctx
			}
			l.cancel()
		} else {
			l.stopBoard = stop
		}
	}

	var workers chan struct{}
	if nworkers > 0 {
		workers = make(chan struct{}, nworkers)
	}
	l.workers, l.nworkers = workers, int32(nworkers)
	period := s.opts.MeterReadInterval
	if period <= 0 {
		period = meterPeriod
	}
	l.ticks = newTicker(s, period, len(s.opts.Connectors))
	l.conns = make([]*conn, 0, len(s.opts.Connectors))
	for i, cc := range s.opts.Connectors {
		c := newConn(&s.opts.Connectors[i], s)
		l.conns = append(l.conns, c)
		if cc.Meter != nil && !s.opts.InlineMeterReads {
			c.readReq = make(chan struct{}, 1)
			go func() {
				defer s.haltOnPanic()
				defer func() { workers <- struct{}{} }()
				s.runSampler(ctx, i+1, cc.Meter, c.readReq)
			}()
		}
	}
	if gm != nil {
		l.grid = &gridState{}
	}
	if gm != nil && !s.opts.InlineMeterReads {
		l.grid.readReq = make(chan struct{}, 1)
		go func() {
			defer s.haltOnPanic()
			defer func() { workers <- struct{}{} }()
			s.runGridSampler(ctx, gm, l.grid.readReq)
		}()
	}
	if b := s.opts.Board; b != nil && !canStart {
		// The board's failure is set before the goroutine counts itself
		// out on workers, so that finish reads it after collecting them.
		go func() {
			defer s.haltOnPanic()
			defer func() { workers <- struct{}{} }()
			if err := b.Run(ctx, s.Event); err != nil && ctx.Err() == nil {
				l.boardErr = fmt.Errorf("station: board %s: %w", b.Name(), err)
				cancel()
			}
		}()
	}

	// The inputs that came before boot (Event may be called before Run)
	// wait in the inbox: New gave the loop to Launch, which hands it
	// to serve once booted. The shutdown runs on the goroutine that holds
	// the loop when ctx ends (see serve), after the input it is handling.
	l.stopped.Add(1)
	l.boot(saved)
	s.loop = l
	context.AfterFunc(ctx, s.kick)
	go s.serve()
	return l.wait, nil
}

// deliverFacts is the journal's delivery goroutine. It reads only what
// Launch set before the first fact: the run's context, the journal and the
// store.
func (l *loop) deliverFacts() {
	defer l.s.haltOnPanic()
	// Facts pending at shutdown are still delivered: the journal's context
	// outlives the run's. Its retries stop waiting once the loop is done.
	l.s.runJournal(context.WithoutCancel(l.ctx), l.journal, l.store)
}

// finish stops the station once the run's context has ended: it halts the
// hardware, waits for the station's goroutines and lets wait return Run's
// result.
func (l *loop) finish() {
	s := l.s
	l.shutdown()
	close(s.loopDone)
	l.stopBoard()
	if l.cancel != nil {
		l.cancel() // ends the workers after a Shutdown; the journal outlives it
	}
	for range l.nworkers {
		<-l.workers
	}
	l.journal.close()
	if err := l.store.markClean(); err != nil {
		s.logger().Error("station: clean-shutdown marker", "err", err)
	}
	if err := l.store.energy.close(); err != nil {
		s.logger().Error("station: energy file", "err", err)
	}
	l.stopped.Done()
}

// wait is what Launch returns: it waits for finish and returns the board's
// failure, if any.
func (l *loop) wait() error {
	l.stopped.Wait()
	return l.boardErr
}

// Shutdown ends the run as the end of Launch's context does: the loop
// halts the hardware after the input it is handling, and Launch's wait
// returns. It does not wait; called before Launch, the run ends as soon as
// it has booted. (A caller that would otherwise derive a context only to
// end the run early spares the station its cost, which the fleet
// simulator pays thousands of times.)
func (s *Station) Shutdown() {
	s.stopReq.Store(true)
	s.kick()
}

// ended says the run is over: its context ended, or Shutdown was called.
func (l *loop) ended() bool { return l.ctx.Err() != nil || l.s.stopReq.Load() }

// kick makes sure the inbox is served: it starts serve unless a goroutine
// holds the loop already.
func (s *Station) kick() {
	if s.active.CompareAndSwap(false, true) {
		go s.serve()
	}
}

// serve handles inputs while some are waiting, on a goroutine that holds
// the loop (s.active); it gives the loop up when the inbox is empty. Once
// the run's context has ended it stops the station instead, and keeps the
// loop for good.
func (s *Station) serve() {
	defer s.haltOnPanic()
	l := s.loop
	for {
		if l.ended() {
			l.finish()
			return
		}
		select {
		case m := <-s.inbox:
			m(l)
			if l.holdsDirty {
				l.apply(nil)
			}
			l.checkSettled()
			continue
		default:
		}
		s.active.Store(false)
		// An input or the end of ctx that came after the look above
		// finds active false and starts a serve of its own, unless this
		// one takes the loop back first.
		if len(s.inbox) == 0 && !l.ended() || !s.active.CompareAndSwap(false, true) {
			return
		}
	}
}

// eventStarter is a board that can deliver its events without a goroutine
// kept waiting for them (hal/sim's Board): Start calls the sink from a
// goroutine of its own only while events are pending, and stop ends that and
// waits for a sink call in progress. The station then starts it instead of
// running its Run on a goroutine of the station's.
type eventStarter interface {
	Start(sink hal.Sink) (stop func(), err error)
}

// shutdown stops the timers and puts every hardware resource in its safe
// state. Sessions stay recorded: the next Run resumes or ends them.
func (l *loop) shutdown() {
	l.ticks.close()
	if l.limitTimer != nil {
		l.limitTimer.Stop()
	}
	if l.resvTimer != nil {
		l.resvTimer.Stop()
	}
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
		s.logger().Error("station: panic: halting the hardware", "panic", r)
		s.haltAll()
		if b := s.opts.Board; b != nil {
			if err := b.Halt(); err != nil {
				s.logger().Error("station: halt board", "err", err)
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
			s.logger().Error("station: halt", "resource", r.String(), "err", err)
		}
	}
	for _, cc := range s.opts.Connectors {
		if dc := cc.Hardware.DC; dc != nil {
			halt(dc.Supply) // current off first: the contactors open at once anyway
		}
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
		if hw.Display != nil {
			halt(hw.Display)
		}
		if dc := hw.DC; dc != nil {
			halt(dc.Vehicle)
			halt(dc.Isolation)
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
		s.kick()
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
		s.kick()
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
	if len(l.settleWaiters) == 0 || l.authsInFlight+l.readsInFlight+l.displaysInFlight > 0 {
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

// emit queues a fact for the journal's delivery goroutine.
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

// setConfig adopts c. A changed sampling interval takes effect at once:
// its timers are re-armed from now (a clock-aligned interval changed from
// 15 min to 5 s must not wait for the next quarter hour); timers that were
// off are started, and an interval set to 0 stops its timers.
func (l *loop) setConfig(c Config) {
	old := l.cfg
	l.cfg = normalize(c)
	l.s.intervals.periodic.Store(int64(l.cfg.MeterSampleInterval))
	l.s.intervals.aligned.Store(int64(l.cfg.ClockAlignedInterval))
	if l.cfg.ClockAlignedInterval != old.ClockAlignedInterval || l.ticks.stopped(tickAligned) {
		l.startAligned()
	}
	for _, c := range l.conns {
		if c.sess == nil {
			continue
		}
		if l.cfg.MeterSampleInterval != old.MeterSampleInterval || l.ticks.stopped(tickAligned+c.id) {
			l.startPeriodic(c)
		}
	}
}

// snapshot describes every connector.
func (l *loop) snapshot() Snapshot {
	snap := Snapshot{At: l.s.opts.Clock.Now()}
	for _, c := range l.conns {
		cs := ConnectorSnapshot{
			ID:           c.id,
			Status:       c.status,
			Error:        c.errCode.errorCode(),
			Pilot:        c.pilot,
			Offered:      c.offered,
			MaxCurrent:   c.hw().MaxCurrent,
			Limit:        min(c.hw().MaxCurrent, c.schedule().at(snap.At).Current),
			Phases:       c.hw().Phases,
			ActivePhases: c.activePhases(),
			Contactor:    c.closed,
			Fault:        c.info,
			Meter:        c.reading,
		}
		if r := c.reservation; r != nil {
			cs.ReservationID = r.ID
		}
		cs.Mode = c.mode()
		cs.Target, cs.Reason, cs.ReasonInfo = c.target, c.why.reason, c.why.info
		if c.ext.activeAt(snap.At) {
			e := *c.ext
			cs.External = &e
		}
		cs.Solar = l.solarSnapshot(c, snap.At)
		cs.DC = c.dcStatus()
		cs.Display = l.driverDisplay(c)
		if c.sess != nil {
			cs.Session = &SessionSnapshot{
				ID:            c.sess.id,
				IDTag:         c.sess.idTag,
				TransactionID: c.sess.txID,
				Energy:        max(0, c.reading.EnergyImport-c.sess.meterStart()),
				StartedAt:     c.sess.startedAt,
			}
		}
		snap.Connectors = append(snap.Connectors, cs)
	}
	snap.Site = l.siteSnapshot(snap.At)
	return snap
}
