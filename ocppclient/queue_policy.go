package ocppclient

import (
	"fmt"

	"go.etcd.io/bbolt"
)

// makeRoom applies the size policy (see Queue) before an entry of kind
// joins pending: it deletes the oldest entries of the lowest rank present
// until one more fits, and returns how many it deleted, or ErrQueueFull when
// the newcomer itself ranks lowest of what is left. kinds and scanFrom are
// the caller's copies, updated here and published by the caller only once
// the transaction has committed; on ErrQueueFull the caller rolls back. The
// caller holds q.mu.
func (q *Queue) makeRoom(pending *bbolt.Bucket, kind EntryKind, kinds *[numKinds]int, scanFrom *[numKinds]uint64) (dropped int, err error) {
	total := 0
	for _, c := range kinds {
		total += c
	}
	// Drop by rank until the newcomer fits; stop at its own rank, since it
	// is the youngest of its kind.
	for _, victim := range [...]EntryKind{KindMeter, KindOther} {
		for total+1 > q.max && kinds[victim] > 0 {
			seq, err := oldestOfKind(pending, victim, &scanFrom[victim])
			if err != nil {
				return dropped, err
			}
			if err := pending.Delete(seqKey(seq)); err != nil {
				return dropped, err
			}
			kinds[victim]--
			total--
			dropped++
		}
		if total+1 > q.max && kind == victim {
			return dropped, ErrQueueFull
		}
	}
	return dropped, nil
}

// oldestOfKind returns the Seq of the oldest entry of kind in pending,
// starting the scan at *from and advancing *from to the entry found. The
// caller knows that such an entry exists.
func oldestOfKind(pending *bbolt.Bucket, kind EntryKind, from *uint64) (uint64, error) {
	c := pending.Cursor()
	for k, v := c.Seek(seqKey(*from)); k != nil; k, v = c.Next() {
		got, err := peekKind(v)
		if err != nil {
			return 0, fmt.Errorf("seq %d: %w", seqOf(k), err)
		}
		if got == kind {
			*from = seqOf(k)
			return *from, nil
		}
	}
	return 0, fmt.Errorf("no entry of kind %d after seq %d: %w", kind, *from, ErrCorruptEntry)
}
