package station

import (
	"context"
	"sync"
	"time"

	"github.com/evsed/evsed/meter"
)

// fact is one item for the journal goroutine: statusFact, startFact,
// sampleFact, endFact, txFact, availFact or cleanFact.
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
)

// journal is the unbounded FIFO between the loop and the journal goroutine:
// push never blocks, so a slow Reporter never delays the loop.
type journal struct {
	mu      sync.Mutex // guards items, closed
	items   []fact
	closed  bool
	wake    chan struct{} // capacity 1: "items may be non-empty"
	closing chan struct{} // closed by close: stop waiting to retry
}

func newJournal() *journal {
	return &journal{wake: make(chan struct{}, 1), closing: make(chan struct{})}
}

// push appends f; after close it is dropped.
func (j *journal) push(f fact) {
	j.mu.Lock()
	if !j.closed {
		j.items = append(j.items, f)
	}
	j.mu.Unlock()
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// close makes next return false once the items are drained.
func (j *journal) close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.closed {
		j.closed = true
		close(j.closing)
	}
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// next waits for the oldest fact; false once closed and drained.
func (j *journal) next() (fact, bool) {
	for {
		j.mu.Lock()
		if len(j.items) > 0 {
			f := j.items[0]
			j.items[0] = nil
			j.items = j.items[1:]
			j.mu.Unlock()
			return f, true
		}
		closed := j.closed
		j.mu.Unlock()
		if closed {
			return nil, false
		}
		<-j.wake
	}
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
// journal is closed and drained, and acknowledges each to the loop. Session
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
		s.rep.StatusChanged(f.StatusChange)
	case startFact:
		// The record goes first, marked pending: were it saved only after
		// the Reporter took the start, a power cut in between would leave
		// a start (a StartTransaction) that no later run knows to stop.
		pending := f.rec
		pending.StartPending = true
		if err := st.saveSession(pending); err != nil {
			s.log.Error("station: persist session", "session", f.rec.ID, "err", err)
		}
		if !s.retry(ctx, j, 0, "SessionStarted", func() error { return s.rep.SessionStarted(ctx, f.start) }) {
			return nil
		}
		f.rec.StartPending = false
		if err := st.saveSession(f.rec); err != nil {
			s.log.Error("station: persist session", "session", f.rec.ID, "err", err)
		}
		id := f.start.SessionID
		return func(l *loop) { l.onStartDurable(id) }
	case sampleFact:
		attempts := idleSampleAttempts
		if f.SessionID != "" {
			attempts = 0
		}
		ok := s.retry(ctx, j, attempts, "SampleTaken", func() error { return s.rep.SampleTaken(ctx, f.Sample) })
		if ok && f.SessionID != "" && f.Reading.Fields.Has(meter.FieldEnergyImport) {
			if err := st.setLastEnergy(f.SessionID, f.Reading.EnergyImport); err != nil {
				s.log.Error("station: persist last energy", "session", f.SessionID, "err", err)
			}
		}
	case endFact:
		if s.retry(ctx, j, 0, "SessionEnded", func() error { return s.rep.SessionEnded(ctx, f.end) }) {
			if err := st.deleteSession(f.end.SessionID); err != nil {
				s.log.Error("station: forget session", "session", f.end.SessionID, "err", err)
			}
		}
	case txFact:
		if err := st.setTransactionID(f.sessionID, f.txID); err != nil {
			s.log.Error("station: persist transaction id", "session", f.sessionID, "err", err)
		}
	case availFact:
		if err := st.saveAvailability(f.connector, f.on); err != nil {
			s.log.Error("station: persist availability", "connector", f.connector, "err", err)
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
		s.log.Warn("station: reporter refused a fact", "fact", what, "attempt", n, "err", err)
		if attempts > 0 && n >= attempts {
			return false
		}
		select {
		case <-j.closing:
			return false
		default:
		}
		t := s.clk.NewTimer(wait)
		select {
		case <-t.C():
		case <-j.closing:
			t.Stop()
			return false
		case <-ctx.Done():
			t.Stop()
			return false
		}
		wait = min(2*wait, retryMax)
	}
}
