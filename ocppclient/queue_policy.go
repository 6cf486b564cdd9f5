package ocppclient

import (
	"fmt"
	"slices"

	"go.etcd.io/bbolt"
)

// victimsLocked applies the size policy (see Queue) before an entry of kind
// joins the queue: it returns the oldest entries of the lowest rank present
// to drop until one more fits, or ErrQueueFull when the newcomer itself
// ranks lowest of what is left. It changes nothing but the scan hints. The
// caller holds q.mu.
func (q *Queue) victimsLocked(kind EntryKind) ([]removal, error) {
	total := 0
	var kinds [numKinds]int
	for k := range kinds {
		kinds[k] = int(q.baseKinds[k]) + int(q.tailKinds[k])
		total += kinds[k]
	}
	var victims []removal
	// Drop by rank until the newcomer fits; stop at its own rank, since it
	// is the youngest of its kind.
	for _, victim := range [...]EntryKind{KindMeter, KindOther} {
		// Entries in bbolt are older than those in the tail.
		inBase := int(q.baseKinds[victim])
		for total+1 > int(q.max) && kinds[victim] > 0 {
			var (
				r   removal
				err error
			)
			if inBase > 0 {
				r, err = q.oldestInBase(victim, victims)
				inBase--
			} else {
				r, err = q.oldestInTail(victim, victims)
			}
			if err != nil {
				return nil, err
			}
			victims = append(victims, r)
			kinds[victim]--
			total--
		}
		if total+1 > int(q.max) && kind == victim {
			return nil, ErrQueueFull
		}
	}
	return victims, nil
}

// oldestInBase returns the oldest waiting entry of kind in bbolt that is
// not among chosen, starting the scan at q.scanFrom[kind] and advancing it
// to the entry found. The caller knows that such an entry exists and holds
// q.mu.
func (q *Queue) oldestInBase(kind EntryKind, chosen []removal) (removal, error) {
	r := removal{kind: kind, inBase: true}
	err := q.viewBase(func(pending *bbolt.Bucket) error {
		c := pending.Cursor()
		for k, v := c.Seek(seqKey(q.scanFrom[kind])); k != nil; k, v = c.Next() {
			got, err := peekKind(v)
			if err != nil {
				return fmt.Errorf("seq %d: %w", seqOf(k), err)
			}
			seq := seqOf(k)
			if got != kind || q.isDone(k) || slices.ContainsFunc(chosen, func(c removal) bool { return c.seq == seq }) {
				continue
			}
			r.seq = seq
			// Every entry of kind before the first pick has left the
			// queue, so the hint stays a lower bound whether or not this
			// change is made; later picks do not move it.
			if !slices.ContainsFunc(chosen, func(c removal) bool { return c.kind == kind }) {
				q.scanFrom[kind] = seq
			}
			return nil
		}
		return fmt.Errorf("no entry of kind %d after seq %d: %w", kind, q.scanFrom[kind], ErrCorruptEntry)
	})
	return r, err
}

// oldestInTail returns the oldest entry of kind in the tail that is not
// among chosen. The caller knows that such an entry exists and holds q.mu.
func (q *Queue) oldestInTail(kind EntryKind, chosen []removal) (removal, error) {
	for _, t := range q.tail {
		if t.kind == kind && !slices.ContainsFunc(chosen, func(c removal) bool { return c.seq == t.seq }) {
			return removal{seq: t.seq, kind: kind}, nil
		}
	}
	return removal{}, fmt.Errorf("no entry of kind %d in the log: %w", kind, ErrCorruptEntry)
}
