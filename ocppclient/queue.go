package ocppclient

import (
	"errors"
	"time"

	"go.etcd.io/bbolt"
)

// QueueOptions configure a Queue. Zero values are documented per field.
type QueueOptions struct {
	// Bucket is the top-level bucket in the database; "" means "queue".
	Bucket string
	// MaxEntries bounds the queue: past it the oldest KindMeter and KindOther
	// entries are dropped to make room; Start and Stop entries are never
	// dropped, so the queue can exceed the bound when it holds only those.
	// 0 means 100000.
	MaxEntries int
	// MaxAttempts is TransactionMessageAttempts: after this many CALLERROR
	// answers an entry moves to the dead-letter bucket. 0 means 3.
	MaxAttempts int
	// RetryInterval is TransactionMessageRetryInterval: the wait after the
	// n-th CALLERROR is n * RetryInterval. 0 means 60 s.
	RetryInterval time.Duration
}

// Queue is a durable FIFO of Entries in a bbolt database: Enqueue returns
// only after the entry is synced to disk, and entries survive restarts and
// kill -9 until Ack removes them.
type Queue struct {
	db   *bbolt.DB
	opts QueueOptions
}

var errQueueTODO = errors.New("ocppclient: queue not implemented yet")

// OpenQueue opens (creating if needed) the queue in db.
func OpenQueue(db *bbolt.DB, opts QueueOptions) (*Queue, error) {
	return &Queue{db: db, opts: opts}, nil
}

// Enqueue appends e (its Seq is assigned) and returns once it is durable.
func (q *Queue) Enqueue(e Entry) (Entry, error) { return e, errQueueTODO }

// Head returns the oldest entry that is not dead-lettered, and false when the
// queue is empty. The returned Entry is a copy owned by the caller.
func (q *Queue) Head() (Entry, bool, error) { return Entry{}, false, errQueueTODO }

// Ack removes the delivered entry seq.
func (q *Queue) Ack(seq uint64) error { return errQueueTODO }

// Fail records a CALLERROR answer to entry seq. It returns the wait before
// the next attempt (attempts * RetryInterval) or, once MaxAttempts is
// reached, deadLettered=true: the entry has moved to the dead-letter bucket.
func (q *Queue) Fail(seq uint64) (wait time.Duration, deadLettered bool, err error) {
	return 0, false, errQueueTODO
}

// Len returns the number of entries waiting (dead letters excluded).
func (q *Queue) Len() int { return 0 }

// Changed returns a channel that receives (without blocking the sender, at
// most one pending signal) whenever an entry is enqueued.
func (q *Queue) Changed() <-chan struct{} { return nil }

// SetRetryPolicy changes MaxAttempts and RetryInterval at run time (the
// TransactionMessageAttempts and ...RetryInterval configuration keys).
func (q *Queue) SetRetryPolicy(maxAttempts int, interval time.Duration) {}

// DeadLetters returns the entries that exhausted their attempts, oldest
// first.
func (q *Queue) DeadLetters() ([]Entry, error) { return nil, errQueueTODO }
