package ocppclient

import (
	"fmt"

	"go.etcd.io/bbolt"
)

// MarkDelivered acknowledges the delivered entry seq in memory: Head,
// Entries and Len skip it at once, but it stays on disk until the next
// group commit (see Queue, Durability), so a crash before then brings it
// back to be sent again. Marking an entry that is no longer pending, or
// marking it twice, is not an error and changes nothing. An error from the
// group commit that the mark triggered leaves the mark in place (the entry
// counts as delivered and stays on disk); the next group commit tries again.
func (q *Queue) MarkDelivered(seq uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.marks[seq]; ok {
		return nil
	}
	var (
		kind  EntryKind
		found bool
	)
	err := q.db.View(func(tx *bbolt.Tx) error {
		_, pending, err := q.buckets(tx)
		if err != nil {
			return err
		}
		v := pending.Get(seqKey(seq))
		if v == nil {
			return nil
		}
		kind, err = peekKind(v)
		found = err == nil
		return err
	})
	if err != nil {
		return fmt.Errorf("queue mark %d: %w", seq, err)
	}
	if !found {
		return nil
	}
	q.marksMu.Lock()
	q.marks[seq] = kind
	q.marksMu.Unlock()
	q.publishLength()
	if len(q.marks) < q.flushAfter && kind != KindStart {
		return nil
	}
	if err := q.flushLocked(); err != nil {
		return fmt.Errorf("queue mark %d: %w", seq, err)
	}
	return nil
}

// Flush deletes every entry marked delivered from disk in one transaction
// and returns once that is durable. With no marks it does nothing.
func (q *Queue) Flush() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.flushLocked(); err != nil {
		return fmt.Errorf("queue flush: %w", err)
	}
	return nil
}

// flushLocked is the group commit. The caller holds q.mu.
func (q *Queue) flushLocked() error {
	if len(q.marks) == 0 {
		return nil
	}
	kinds := q.kinds
	err := q.db.Update(func(tx *bbolt.Tx) error {
		_, pending, err := q.buckets(tx)
		if err != nil {
			return err
		}
		return q.deleteMarked(pending, &kinds)
	})
	if err != nil {
		return err
	}
	q.kinds = kinds
	q.clearMarks()
	return nil
}

// deleteMarked deletes the marked entries from pending and counts them out
// of kinds, a copy the caller publishes (with clearMarks) only once the
// transaction has committed. The caller holds q.mu.
func (q *Queue) deleteMarked(pending *bbolt.Bucket, kinds *[numKinds]int) error {
	for seq, kind := range q.marks {
		key := seqKey(seq)
		// Only this Queue deletes from its bucket, and it unmarks whatever
		// it deletes, so a marked entry is on disk; checking keeps the
		// counts right should that ever break.
		if pending.Get(key) == nil {
			continue
		}
		if err := pending.Delete(key); err != nil {
			return err
		}
		kinds[kind]--
	}
	return nil
}

// clearMarks forgets every mark, after a commit that deleted the marked
// entries. The caller holds q.mu.
func (q *Queue) clearMarks() {
	if len(q.marks) == 0 {
		return
	}
	q.marksMu.Lock()
	clear(q.marks)
	q.marksMu.Unlock()
}
