package ocppclient

import (
	"fmt"
	"math"
	"time"

	"go.etcd.io/bbolt"
)

// Fail records a failed attempt to deliver entry seq: a CALLERROR answer,
// or no answer within the call timeout (the drain counts both; a connection
// lost with the CALL in flight is no attempt). It returns the wait before
// the next attempt (attempts * RetryInterval) or, once MaxAttempts is
// reached, deadLettered=true: the entry has moved to the dead-letter bucket.
// The new attempt count is durable when Fail returns, and so are the
// acknowledgements marked before. An entry that is no longer pending, or
// marked delivered, gives an error wrapping ErrNotFound.
func (q *Queue) Fail(seq uint64) (wait time.Duration, deadLettered bool, err error) {
	q.mu.Lock()
	maxAttempts, interval := int(q.maxAttempts), q.retryInterval
	q.mu.Unlock()

	var attempts int
	_, err = q.update(syncAlways, func() (*change, error) {
		if q.done.has(seq) {
			return nil, fmt.Errorf("marked delivered: %w", ErrNotFound)
		}
		r, found, err := q.locateLocked(seq)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, ErrNotFound
		}
		e, err := q.entryLocked(r)
		if err != nil {
			return nil, err
		}
		e.Attempts++
		attempts = e.Attempts
		if e.Attempts < maxAttempts {
			deadLettered = false
			return &change{attempts: &attemptsChange{removal: r, n: e.Attempts, value: encodeEntry(e)}}, nil
		}
		deadLettered = true
		return &change{remove: []removal{r}, dead: &e}, nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("queue fail %d: %w", seq, err)
	}
	if deadLettered {
		return 0, true, nil
	}
	return time.Duration(attempts) * interval, false, nil
}

// entryLocked decodes the waiting entry r. The caller holds q.mu.
func (q *Queue) entryLocked(r removal) (Entry, error) {
	if !r.inBase {
		i, _ := q.tailIndex(r.seq)
		return decodeEntry(seqKey(r.seq), q.tail[i].value)
	}
	var e Entry
	err := q.viewBase(func(pending *bbolt.Bucket) error {
		k := seqKey(r.seq)
		v := pending.Get(k)
		if v == nil {
			return ErrNotFound
		}
		var err error
		e, err = q.decodeBase(k, v)
		return err
	})
	return e, err
}

// SetRetryPolicy changes MaxAttempts and RetryInterval at run time (the
// TransactionMessageAttempts and ...RetryInterval configuration keys).
// Values <= 0 mean the defaults, as in QueueOptions. The new policy applies
// from the next Fail; an entry whose attempts already reach a lowered
// maxAttempts is dead-lettered at its next failure.
func (q *Queue) SetRetryPolicy(maxAttempts int, interval time.Duration) {
	if maxAttempts <= 0 {
		maxAttempts = defaultMaxAttempts
	}
	if interval <= 0 {
		interval = defaultRetryInterval
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.maxAttempts, q.retryInterval = int32(min(maxAttempts, math.MaxInt32)), interval
}

// DeadLetters returns the entries that exhausted their attempts, oldest
// first. They are kept on disk for billing reconciliation and never deleted
// by the Queue. The slice and its entries are owned by the caller.
func (q *Queue) DeadLetters() ([]Entry, error) {
	var out []Entry
	err := q.db.View(func(tx *bbolt.Tx) error {
		top, _, err := q.buckets(tx)
		if err != nil {
			return err
		}
		dead, err := deadOf(top)
		if err != nil {
			return err
		}
		out, err = decodeAll(dead)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("queue dead letters: %w", err)
	}
	return out, nil
}

// deadOf returns the dead-letter bucket under top, which OpenQueue created.
func deadOf(top *bbolt.Bucket) (*bbolt.Bucket, error) {
	dead := top.Bucket(deadBucket)
	if dead == nil {
		return nil, fmt.Errorf("bucket %q missing", deadBucket)
	}
	return dead, nil
}
