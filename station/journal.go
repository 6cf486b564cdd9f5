package station

import (
	"context"
	"sync"
	"time"

	"github.com/evsed/evsed/meter"
)

// fact is one item for the journal goroutine: statusFact, startFact,
// sampleFact, endFact, txFact, availFact, resvFact, cleanFact or
// limitFact.
type fact any

type (
	statusFact struct{ StatusChange }
	// startFact: the Reporter must record start before rec is persisted
	// and energy may flow.
	startFact struct {
		start SessionStart
		rec   sessionRecord
	}
	sampleFact struct{ Sample }
	// endFact: once recorded, the session's record is removed.
	endFact struct{ end SessionEnd }
	// txFact updates a persisted session's transaction id.
	txFact struct{ sessionID, txID string }
	// availFact persists a connector's availability.
	availFact struct {
		connector int
		on        bool
	}
	// cleanFact writes the clean-restart marker after everything before it,
	// then calls done on the loop (Reset's answer).
	cleanFact struct{ done func(error) }
	// resvFact persists an accepted reservation, or forgets it (del).
	resvFact struct {
		r   Reservation
		del bool
	}
)

// journal is the unbounded FIFO between the loop and the delivery goroutine:
// push never blocks, so a slow Reporter never delays the loop. The delivery
// goroutine runs only while facts are waiting: push starts it when there is
// none, and it exits once it finds the FIFO empty. A station with nothing
// to report (most of the time) then costs no goroutine stack, and one
// goroutine at a time keeps the facts in order.
type journal struct {
	// run drains the FIFO through next until it returns false; push starts
	// it on a new goroutine.
	run func()

	mu      sync.Mutex // guards items, closed, running
	items   []fact
	closed  bool
	running bool // a goroutine is in run; it owns delivery until next says false

	wg sync.WaitGroup // the running delivery goroutine, if any
	// closing is closed by close: stop waiting to retry. Made by the
	// first retry that waits (see closingChan): most stations never
	// retry, and the fleet simulator holds thousands.
	closing chan struct{}
}

func newJournal(run func()) *journal {
	return &journal{run: run}
}

// push appends f and makes sure a goroutine delivers it; after close f is
// dropped.
func (j *journal) push(f fact) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return
	}
	j.items = append(j.items, f)
	if !j.running {
		j.running = true
		j.wg.Add(1)
		go func() {
			defer j.wg.Done()
			j.run()
		}()
	}
}

// close drops later pushes and waits until the facts pushed before it have
// been handled (retries are cut short: see retry).
func (j *journal) close() {
	j.mu.Lock()
	if !j.closed {
		j.closed = true
		if j.closing != nil {
			close(j.closing)
		}
	}
	j.mu.Unlock()
	j.wg.Wait()
}

// closingChan returns a channel closed once the journal closes (at once if
// it has).
func (j *journal) closingChan() <-chan struct{} {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closing == nil {
		j.closing = make(chan struct{})
		if j.closed {
			close(j.closing)
		}
	}
	return j.closing
}

// next returns the oldest fact. With none left it returns false, and the
// caller's goroutine must end: the next push starts another.
func (j *journal) next() (fact, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.items) == 0 {
		j.running = false
		j.items = nil // let an idle station's backlog array go
		return nil, false
	}
	f := j.items[0]
	j.items[0] = nil
	j.items = j.items[1:]
	return f, true
}

// Retry policy of facts the Reporter refused.
const (
	retryMin = time.Second
	retryMax = time.Minute
	// idleSampleAttempts bounds the attempts of a meter sample outside a
	// session: it is not billing data, and one that keeps failing must not
	// hold back the facts behind it for ever. A session's samples are
	// transaction data and are retried like session steps.
	idleSampleAttempts = 3
)

// runJournal hands facts to the Reporter and the store, in order, until the
// journal is empty, and acknowledges each to the loop. Session
// steps are retried with back-off on the station's clock until they succeed
// (once the journal is closing, they get one last attempt: what was not
// recorded stays in the store for the next run).
func (s *Station) runJournal(ctx context.Context, j *journal, st store) {
	for {
		f, ok := j.next()
		if !ok {
			return
		}
		after := s.deliver(ctx, j, st, f)
		s.post(func(l *loop) {
			l.journalPending--
			if after != nil {
				after(l)
			}
		})
	}
}

// deliver records one fact; the returned func, if any, runs on the loop.
func (s *Station) deliver(ctx context.Context, j *journal, st store, f fact) func(*loop) {
	switch f := f.(type) {
	case statusFact:
		s.opts.Reporter.StatusChanged(f.StatusChange)
	case limitFact:
		s.limitRep.LimitChanged(f.LimitChange)
	case startFact:
		// The record goes first, marked pending: were it saved only after
		// the Reporter took the start, a power cut in between would leave
		// a start (a StartTransaction) that no later run knows to stop.
		pending := f.rec
		pending.StartPending = true
		if err := st.saveSession(pending); err != nil {
			s.logger().Error("station: persist session", "session", f.rec.ID, "err", err)
		}
		if !s.retry(ctx, j, 0, "SessionStarted", func() error { return s.opts.Reporter.SessionStarted(ctx, f.start) }) {
			return nil
		}
		f.rec.StartPending = false
		if err := st.saveSession(f.rec); err != nil {
			s.logger().Error("station: persist session", "session", f.rec.ID, "err", err)
		}
		id := f.start.SessionID
		return func(l *loop) { l.onStartDurable(id) }
	case sampleFact:
		attempts := idleSampleAttempts
		if f.SessionID != "" {
			attempts = 0
		}
		ok := s.retry(ctx, j, attempts, "SampleTaken", func() error { return s.opts.Reporter.SampleTaken(ctx, f.Sample) })
		if ok && f.SessionID != "" && f.Reading.Fields.Has(meter.FieldEnergyImport) {
			var err error
			if st.energy != nil {
				err = st.energy.put(f.Connector, f.SessionID, f.Reading.EnergyImport)
			} else {
				err = st.setLastEnergy(f.SessionID, f.Reading.EnergyImport)
			}
			if err != nil {
				s.logger().Error("station: persist last energy", "session", f.SessionID, "err", err)
			}
		}
	case endFact:
		if s.retry(ctx, j, 0, "SessionEnded", func() error { return s.opts.Reporter.SessionEnded(ctx, f.end) }) {
			if err := st.deleteSession(f.end.SessionID); err != nil {
				s.logger().Error("station: forget session", "session", f.end.SessionID, "err", err)
			}
		}
	case txFact:
		if err := st.setTransactionID(f.sessionID, f.txID); err != nil {
			s.logger().Error("station: persist transaction id", "session", f.sessionID, "err", err)
		}
	case availFact:
		if err := st.saveAvailability(f.connector, f.on); err != nil {
			s.logger().Error("station: persist availability", "connector", f.connector, "err", err)
		}
	case resvFact:
		if err := st.saveReservation(f.r, f.del); err != nil {
			s.logger().Error("station: persist reservation", "reservation", f.r.ID, "err", err)
		}
	case cleanFact:
		err := st.markClean()
		return func(*loop) { f.done(err) }
	}
	return nil
}

// retry calls try until it succeeds, attempts (0 = unlimited) are spent, or
// the journal closes; it reports success.
func (s *Station) retry(ctx context.Context, j *journal, attempts int, what string, try func() error) bool {
	wait := retryMin
	for n := 1; ; n++ {
		err := try()
		if err == nil {
			return true
		}
		s.logger().Warn("station: reporter refused a fact", "fact", what, "attempt", n, "err", err)
		if attempts > 0 && n >= attempts {
			return false
		}
		closing := j.closingChan()
		select {
		case <-closing:
			return false
		default:
		}
		t := s.opts.Clock.NewTimer(wait)
		select {
		case <-t.C():
		case <-closing:
			t.Stop()
			return false
		case <-ctx.Done():
			t.Stop()
			return false
		}
		wait = min(2*wait, retryMax)
	}
}
