package ocppclient

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/clock"
)

// Defaults of QueueOptions and SetRetryPolicy.
const (
	defaultQueueBucket   = "queue"
	defaultMaxEntries    = 100000
	defaultMaxAttempts   = 3
	defaultRetryInterval = 60 * time.Second
	defaultFlushAfter    = 64
)

// Names of the sub-buckets inside the queue's top-level bucket. The
// top-level bucket's own sequence numbers the entries, so that a Seq is never
// reused, whether the entry is pending, acknowledged or dead-lettered.
var (
	pendingBucket = []byte("pending")
	deadBucket    = []byte("dead")
)

// Errors of the queue. Functions wrap them with context; test with errors.Is.
var (
	// ErrQueueFull: the queue is at QueueOptions.MaxEntries and the new entry
	// has the lowest priority of everything it would have to displace (see
	// Queue for the size policy). Nothing was written.
	ErrQueueFull = errors.New("ocpp: queue full")
	// ErrNotFound: no pending entry has the given Seq (it was acknowledged,
	// marked delivered, dead-lettered or dropped by the size policy).
	ErrNotFound = errors.New("ocpp: queue entry not found")
	// ErrInvalidEntry: Enqueue was given an entry without Action or with an
	// unknown Kind.
	ErrInvalidEntry = errors.New("ocpp: invalid queue entry")
	// ErrCorruptEntry: a stored value could not be decoded.
	ErrCorruptEntry = errors.New("ocpp: corrupt queue entry")
)

// QueueOptions configure a Queue. Zero values are documented per field.
type QueueOptions struct {
	// Bucket is the top-level bucket in the database; "" means "queue".
	// Several Queues may share one database with different buckets.
	Bucket string
	// MaxEntries bounds the queue: past it the oldest KindMeter and KindOther
	// entries are dropped to make room; Start and Stop entries are never
	// dropped, so the queue can exceed the bound when it holds only those.
	// See Queue for the full policy. 0 means 100000.
	MaxEntries int
	// MaxAttempts is TransactionMessageAttempts: after this many failed
	// attempts (see Fail: CALLERROR answers and call timeouts) an entry
	// moves to the dead-letter bucket. 0 means 3.
	MaxAttempts int
	// RetryInterval is TransactionMessageRetryInterval: the wait after the
	// n-th failed attempt is n * RetryInterval. 0 means 60 s.
	RetryInterval time.Duration
	// Clock stamps Entry.EnqueuedAt when the caller left it zero; nil means
	// the wall clock.
	Clock clock.Clock
	// FlushAfter is how many MarkDelivered acknowledgements may wait in
	// memory before one transaction deletes them all from disk (see Queue,
	// Durability). 0 means 64; 1 makes every MarkDelivered as durable as
	// Ack.
	FlushAfter int
}

// Queue is a durable FIFO of Entries in a bbolt database: Enqueue returns
// only after the entry is synced to disk, and entries survive restarts and
// kill -9 until an acknowledgement removes them from disk.
//
// # Durability
//
// Enqueue, Ack, Fail and Flush each run in one db.Update, which bbolt
// fsyncs on commit unless the database was opened with NoSync. The queue
// relies on that: open the database with default options (no NoSync, no
// NoFreelistSync tricks that trade safety) so that "Enqueue returned" means
// "on the platter", which is when a session step may count as done.
//
// MarkDelivered is the drain's acknowledgement, and it does not wait for
// the disk: delivery is at least once, so an answered entry may be sent
// again after a crash, and paying an fsync per answer would bound the drain
// by the disk instead of the network. It marks the entry delivered in
// memory, where Head, Entries and Len stop seeing it at once, and leaves it
// on disk. A group commit deletes every marked entry in one transaction:
// when FlushAfter marks are waiting, when the marked entry is a KindStart
// (a Start sent twice opens a second transaction at the CSMS, so its
// acknowledgement is kept as prompt as Ack's), on Flush (the drain flushes
// whenever it waits or stops), and in passing within every Enqueue, Ack and
// Fail transaction, which commit anyway. A crash before the group commit
// brings the marked entries back, in order, to be sent again: a duplicate,
// never a loss. An entry leaves the disk only once it was acknowledged,
// dropped by the size policy or dead-lettered, and Fail's attempt count is
// durable when Fail returns.
//
// # Layout
//
// Under the top-level bucket (QueueOptions.Bucket) the sub-bucket "pending"
// maps the big-endian uint64 Seq to an encoded Entry, so that bbolt's key
// order is FIFO order; "dead" holds dead letters under the same keys. Seq
// comes from the top-level bucket's sequence and so never repeats, across
// restarts too.
//
// # Size policy
//
// Kinds rank KindMeter < KindOther < KindStart = KindStop. When an Enqueue
// would make the queue longer than MaxEntries, the oldest entries of the
// lowest rank present are dropped until the new entry fits, the new entry
// itself counting as the youngest of its kind:
//   - older KindMeter entries are dropped first, then older KindOther ones;
//   - a new KindMeter entry is rejected with ErrQueueFull when no older
//     KindMeter entry can go, and a new KindOther entry when no older
//     KindMeter or KindOther entry can go;
//   - KindStart and KindStop are never dropped nor rejected, so the queue
//     exceeds MaxEntries only while it holds (nearly) nothing but those.
//
// Dropped counts both the dropped and the rejected entries. A rejected
// Enqueue changes nothing on disk. Entries marked delivered are deleted
// first in the same transaction, so they never count against MaxEntries and
// the policy never drops (nor counts) one.
//
// # Concurrency
//
// A Queue is safe for concurrent use: typically the adapter enqueues from
// the station's goroutine while the transport's drain calls Head,
// MarkDelivered, Fail and Flush from another. Writes to one Queue are serialized;
// Head, Entries and DeadLetters read a consistent snapshot without waiting
// for them. Only one Queue may be open on a given bucket at a time, as it
// keeps counts and delivered marks in memory.
type Queue struct {
	db         *bbolt.DB
	bucket     []byte
	max        int
	flushAfter int
	clock      clock.Clock
	changed    chan struct{} // capacity 1; a pending value means "enqueued since last receive"

	// mu serializes this Queue's write transactions and guards kinds and
	// scanFrom, which mirror what those transactions committed, and the
	// changes to marks. Lock order: mu, then marksMu.
	mu sync.Mutex
	// kinds counts the entries in the pending bucket on disk per EntryKind,
	// marked ones included.
	kinds [numKinds]int
	// scanFrom[k] is a Seq below which no pending entry of kind k exists:
	// entries are only ever appended with a larger Seq, so the oldest entry
	// of a kind can be found from there without rescanning the front of the
	// queue on every drop.
	scanFrom [numKinds]uint64

	// marksMu guards marks for readers that do not hold mu (Head, Entries);
	// writers of marks hold both mu and marksMu.
	marksMu sync.RWMutex
	// marks holds the Seq and kind of every entry marked delivered but
	// still on disk, until a group commit deletes them.
	marks map[uint64]EntryKind

	length  atomic.Int64  // pending entries not marked delivered, published after each change
	dropped atomic.Uint64 // entries lost to the size policy since OpenQueue

	// policyMu guards maxAttempts and retryInterval, which SetRetryPolicy
	// changes while the drain calls Fail.
	policyMu      sync.Mutex
	maxAttempts   int
	retryInterval time.Duration
}

// numKinds is one past the highest valid EntryKind.
const numKinds = int(KindMeter) + 1

// OpenQueue opens (creating if needed) the queue in db. The caller owns db
// and closes it after it stops using the Queue; the Queue holds no resources
// of its own.
func OpenQueue(db *bbolt.DB, opts QueueOptions) (*Queue, error) {
	q := &Queue{
		db:         db,
		bucket:     []byte(opts.Bucket),
		max:        opts.MaxEntries,
		flushAfter: opts.FlushAfter,
		clock:      clock.Or(opts.Clock),
		changed:    make(chan struct{}, 1),
		marks:      make(map[uint64]EntryKind),
	}
	if len(q.bucket) == 0 {
		q.bucket = []byte(defaultQueueBucket)
	}
	if q.max <= 0 {
		q.max = defaultMaxEntries
	}
	if q.flushAfter <= 0 {
		q.flushAfter = defaultFlushAfter
	}
	q.SetRetryPolicy(opts.MaxAttempts, opts.RetryInterval)

	err := db.Update(func(tx *bbolt.Tx) error {
		top, err := tx.CreateBucketIfNotExists(q.bucket)
		if err != nil {
			return err
		}
		if _, err := top.CreateBucketIfNotExists(deadBucket); err != nil {
			return err
		}
		pending, err := top.CreateBucketIfNotExists(pendingBucket)
		if err != nil {
			return err
		}
		// Counting needs only the kind byte, not a full decode.
		return pending.ForEach(func(k, v []byte) error {
			kind, err := peekKind(v)
			if err != nil {
				return fmt.Errorf("seq %d: %w", seqOf(k), err)
			}
			q.kinds[kind]++
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("open queue %q: %w", q.bucket, err)
	}
	q.publishLength()
	return q, nil
}

// Enqueue appends e (its Seq is assigned) and returns once it is durable:
// the returned Entry is what was stored. A zero EnqueuedAt is set from the
// clock; Attempts is stored as given. When the queue is full the size policy
// (see Queue) may drop older entries in the same transaction, or reject e
// with ErrQueueFull. The same transaction deletes the entries marked
// delivered, unless it is rolled back.
func (q *Queue) Enqueue(e Entry) (Entry, error) {
	if e.Action == "" || int(e.Kind) >= numKinds {
		return e, fmt.Errorf("enqueue %q kind %d: %w", e.Action, e.Kind, ErrInvalidEntry)
	}
	if e.EnqueuedAt.IsZero() {
		e.EnqueuedAt = q.clock.Now()
	}

	q.mu.Lock()
	defer q.mu.Unlock()
	// Work on copies and publish them only after the commit, so that a
	// rolled-back transaction leaves the in-memory mirror untouched.
	kinds, scanFrom := q.kinds, q.scanFrom
	var dropped int
	err := q.db.Update(func(tx *bbolt.Tx) error {
		top, pending, err := q.buckets(tx)
		if err != nil {
			return err
		}
		// Marked entries go first, so that the policy below sees only
		// what is still to be sent.
		if err := q.deleteMarked(pending, &kinds); err != nil {
			return err
		}
		if dropped, err = q.makeRoom(pending, e.Kind, &kinds, &scanFrom); err != nil {
			return err
		}
		seq, err := top.NextSequence()
		if err != nil {
			return err
		}
		e.Seq = seq
		if err := pending.Put(seqKey(seq), encodeEntry(e)); err != nil {
			return err
		}
		kinds[e.Kind]++
		return nil
	})
	if errors.Is(err, ErrQueueFull) {
		q.dropped.Add(1)
	}
	if err != nil {
		return e, fmt.Errorf("enqueue %s: %w", e.Action, err)
	}
	q.kinds, q.scanFrom = kinds, scanFrom
	q.clearMarks()
	q.publishLength()
	q.dropped.Add(uint64(dropped))
	select {
	case q.changed <- struct{}{}:
	default: // a signal is already pending; the drain will see this entry too
	}
	return e, nil
}

// Head returns the oldest entry that is neither dead-lettered nor marked
// delivered, and false when there is none. The returned Entry is a copy
// owned by the caller.
func (q *Queue) Head() (Entry, bool, error) {
	var (
		e  Entry
		ok bool
	)
	err := q.viewPending(func(pending *bbolt.Bucket, marked func(k []byte) bool) error {
		// Marked entries are few (FlushAfter at most, unless flushes
		// fail) and the drain marks from the front: skipping them is a
		// short walk.
		c := pending.Cursor()
		k, v := c.First()
		for k != nil && marked(k) {
			k, v = c.Next()
		}
		if k == nil {
			return nil
		}
		var err error
		e, err = decodeEntry(k, v)
		ok = err == nil
		return err
	})
	if err != nil {
		return Entry{}, false, fmt.Errorf("queue head: %w", err)
	}
	return e, ok, nil
}

// Ack removes the delivered entry seq and returns once that is durable,
// along with every entry marked delivered before. Acknowledging an entry
// that is no longer pending (acknowledged before, or dropped by the size
// policy while it was in flight) is not an error, so that a caller may
// repeat an Ack after a failed one; an entry marked delivered is simply made
// durable.
func (q *Queue) Ack(seq uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	kinds := q.kinds
	err := q.db.Update(func(tx *bbolt.Tx) error {
		_, pending, err := q.buckets(tx)
		if err != nil {
			return err
		}
		if err := q.deleteMarked(pending, &kinds); err != nil {
			return err
		}
		// A marked seq is gone by now, like one acknowledged before.
		v := pending.Get(seqKey(seq))
		if v == nil {
			return nil
		}
		kind, err := peekKind(v)
		if err != nil {
			return err
		}
		kinds[kind]--
		return pending.Delete(seqKey(seq))
	})
	if err != nil {
		return fmt.Errorf("queue ack %d: %w", seq, err)
	}
	q.kinds = kinds
	q.clearMarks()
	q.publishLength()
	return nil
}

// publishLength stores the number of entries still to be sent: those on
// disk less those marked delivered. The caller holds q.mu (or, in
// OpenQueue, is the only user).
func (q *Queue) publishLength() {
	n := -len(q.marks)
	for _, c := range q.kinds {
		n += c
	}
	q.length.Store(int64(n))
}

// Len returns the number of entries waiting (dead letters and entries
// marked delivered excluded). It takes constant time and does not wait for a
// write in progress.
func (q *Queue) Len() int { return int(q.length.Load()) }

// Dropped returns how many entries the size policy has dropped or rejected
// since OpenQueue (see Queue), for the status API and metrics. It is not
// persisted.
func (q *Queue) Dropped() uint64 { return q.dropped.Load() }

// Changed returns a channel that receives (without blocking the sender, at
// most one pending signal) whenever an entry is enqueued. The signal is sent
// after the commit, so a receiver that then calls Head sees the entry. The
// channel lives as long as the Queue and is never closed.
func (q *Queue) Changed() <-chan struct{} { return q.changed }

// Find reports whether an entry of the given kind with key and action is
// waiting (marked-delivered ones excluded), without copying payloads: the
// OCPP adapter asks it at every session start and end, and a charger that
// was offline for weeks may hold tens of thousands of entries.
func (q *Queue) Find(kind EntryKind, key, action string) (bool, error) {
	found := false
	err := q.viewPending(func(pending *bbolt.Bucket, marked func(k []byte) bool) error {
		c := pending.Cursor()
		for k, v := c.First(); k != nil && !found; k, v = c.Next() {
			if marked(k) {
				continue
			}
			if kv, err := peekKind(v); err != nil || kv != kind {
				continue // a corrupt entry is Head's and Entries' to report
			}
			_, _, fields, _, err := splitEntry(k, v)
			if err != nil {
				continue
			}
			found = string(fields[1]) == action && string(fields[2]) == key
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("queue find: %w", err)
	}
	return found, nil
}

// Entries returns the pending entries in delivery order, those marked
// delivered excluded, for tests, drills and diagnostics. It reads the whole
// queue: not for the hot path. The slice and its entries are owned by the
// caller.
func (q *Queue) Entries() ([]Entry, error) {
	var out []Entry
	err := q.viewPending(func(pending *bbolt.Bucket, marked func(k []byte) bool) error {
		return pending.ForEach(func(k, v []byte) error {
			if marked(k) {
				return nil
			}
			e, err := decodeEntry(k, v)
			if err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("queue entries: %w", err)
	}
	return out, nil
}

// viewPending runs read in a read-only transaction on the pending bucket,
// with marked reporting whether the entry under key k is marked delivered.
// The marks are held still for the whole read: a group commit deletes its
// entries on disk before it forgets their marks, so an entry this snapshot
// holds that a group commit has deleted is still marked here, and the read
// never mistakes an acknowledged entry for one to send.
func (q *Queue) viewPending(read func(pending *bbolt.Bucket, marked func(k []byte) bool) error) error {
	q.marksMu.RLock()
	defer q.marksMu.RUnlock()
	marked := func(k []byte) bool {
		_, ok := q.marks[seqOf(k)]
		return ok
	}
	return q.db.View(func(tx *bbolt.Tx) error {
		_, pending, err := q.buckets(tx)
		if err != nil {
			return err
		}
		return read(pending, marked)
	})
}

// buckets returns the top-level and pending buckets, which OpenQueue created.
func (q *Queue) buckets(tx *bbolt.Tx) (top, pending *bbolt.Bucket, err error) {
	top = tx.Bucket(q.bucket)
	if top == nil {
		return nil, nil, fmt.Errorf("bucket %q missing", q.bucket)
	}
	pending = top.Bucket(pendingBucket)
	if pending == nil {
		return nil, nil, fmt.Errorf("bucket %q missing", pendingBucket)
	}
	return top, pending, nil
}
