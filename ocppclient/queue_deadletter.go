package ocppclient

import (
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Fail records a failed attempt to deliver entry seq: a CALLERROR answer,
// or no answer within the call timeout (the drain counts both; a connection
// lost with the CALL in flight is no attempt). It returns the wait before
// the next attempt (attempts * RetryInterval) or, once MaxAttempts is
// reached, deadLettered=true: the entry has moved to the dead-letter bucket.
// The new attempt count is durable when Fail returns, and so are the
// acknowledgements marked before (the same transaction deletes the marked
// entries). An entry that is no longer pending, or marked delivered, gives
// an error wrapping ErrNotFound.
func (q *Queue) Fail(seq uint64) (wait time.Duration, deadLettered bool, err error) {
	q.policyMu.Lock()
	maxAttempts, interval := q.maxAttempts, q.retryInterval
	q.policyMu.Unlock()

	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.marks[seq]; ok {
		return 0, false, fmt.Errorf("queue fail %d: marked delivered: %w", seq, ErrNotFound)
	}
	var e Entry
	kinds := q.kinds
	err = q.db.Update(func(tx *bbolt.Tx) error {
		top, pending, err := q.buckets(tx)
		if err != nil {
			return err
		}
		if err := q.deleteMarked(pending, &kinds); err != nil {
			return err
		}
		key := seqKey(seq)
		v := pending.Get(key)
		if v == nil {
			return ErrNotFound
		}
		if e, err = decodeEntry(key, v); err != nil {
			return err
		}
		e.Attempts++
		if e.Attempts < maxAttempts {
			return pending.Put(key, encodeEntry(e))
		}
		deadLettered = true
		dead, err := deadOf(top)
		if err != nil {
			return err
		}
		if err := dead.Put(key, encodeEntry(e)); err != nil {
			return err
		}
		return pending.Delete(key)
	})
	if err != nil {
		return 0, false, fmt.Errorf("queue fail %d: %w", seq, err)
	}
	if deadLettered {
		kinds[e.Kind]--
	}
	q.kinds = kinds
	q.clearMarks()
	q.publishLength()
	if deadLettered {
		return 0, true, nil
	}
	return time.Duration(e.Attempts) * interval, false, nil
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
	q.policyMu.Lock()
	defer q.policyMu.Unlock()
	q.maxAttempts, q.retryInterval = maxAttempts, interval
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
