package ocppclient

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"
)

// change is what one queue operation does to the queue, built from the
// state under q.mu and then made part of it (see update): written to the
// log as records, or committed to bbolt by a fold.
type change struct {
	// add is a new entry (Enqueue); its seq is assigned when the change
	// is made part of the queue.
	add *tailEntry
	// remove lists the entries leaving the queue: acknowledged, dropped
	// by the size policy, dead-lettered.
	remove []removal
	// attempts is a new attempt count (Fail).
	attempts *attemptsChange
	// dead is an entry for the dead-letter bucket, also in remove; only a
	// fold writes it.
	dead *Entry
}

// removal is an entry leaving the queue.
type removal struct {
	seq    uint64
	kind   EntryKind
	inBase bool // in bbolt, else in the tail
}

// attemptsChange is the new attempt count of one entry.
type attemptsChange struct {
	removal
	n     int
	value []byte // the entry re-encoded with n
}

// syncMode says when an update waits for the disk.
type syncMode int

const (
	// syncAlways: the change is durable when update returns.
	syncAlways syncMode = iota
	// syncNever: the change is written to the log (with one) and becomes
	// durable with a later sync; without a log it stays in memory until a
	// fold.
	syncNever
)

// appendFill is the pending bucket's bbolt FillPercent in folds.
const appendFill = 0.9

// foldDone bounds how many entries in bbolt may have left the queue since
// the last fold: Head and the size policy step over them, and a fold is
// cheap next to that many steps.
const foldDone = 1024

// update builds a change with build (under q.mu) and makes it part of the
// queue: with the log, when the change fits, it is applied in memory and its
// records appended at once, and written (and with syncAlways synced) after
// q.mu is released, so that other callers can append theirs meanwhile and
// share the fdatasync; otherwise (no log, log full, a dead letter, a
// broken log) it is built again under wmu and folded into bbolt with
// everything the log holds. A nil change from build does nothing; an empty
// one only syncs. update returns the change as applied.
func (q *Queue) update(mode syncMode, build func() (*change, error)) (*change, error) {
	q.mu.Lock()
	if err := q.usableLocked(); err != nil {
		q.mu.Unlock()
		return nil, err
	}
	c, err := build()
	if err != nil || c == nil {
		q.mu.Unlock()
		return c, err
	}
	if l := q.log; l != nil && l.broken == nil && c.dead == nil && len(q.done) < foldDone {
		recs := l.records(c, q.nextSeq)
		if int64(len(recs)) <= l.size/4 && l.fits(len(recs)) {
			if c.add != nil {
				c.add.seq = q.nextSeq
				q.nextSeq++
			}
			end, ep := l.append(recs)
			q.applyLocked(c, end)
			background := false
			if mode == syncNever && c.add == nil && len(c.remove) > 0 {
				l.bufMarks++
				switch {
				case c.remove[0].kind == KindStart || q.flushAfter == 1:
					mode = syncAlways
				case l.unsyncedMarks() >= int(q.flushAfter) && !l.syncing:
					// The drain does not wait for this one: the sync runs
					// while the next message goes out.
					background, l.syncing = true, true
				}
			}
			q.publishLength()
			q.mu.Unlock()
			if err := q.commit(end, ep, mode == syncAlways); err != nil {
				if background {
					q.mu.Lock()
					l.syncing = false
					q.mu.Unlock()
				}
				return nil, err
			}
			if background {
				q.bg.Go(func() { q.syncMarks(end, ep) })
			}
			return c, nil
		}
	}
	q.mu.Unlock()
	if q.log == nil && mode == syncNever {
		return q.markInMemory(build)
	}

	q.wmu.Lock()
	defer q.wmu.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.usableLocked(); err != nil {
		return nil, err
	}
	if err := q.repairLocked(); err != nil {
		return nil, err
	}
	if c, err = build(); err != nil || c == nil {
		return c, err
	}
	if err := q.foldLocked(c); err != nil {
		return nil, err
	}
	return c, nil
}

// syncMarks is the background sync of acknowledgements, first up to end
// (appended in epoch ep), then again while FlushAfter more have gathered
// meanwhile. A failure is the next change's to see: the log is repaired,
// and the acknowledgements it lost come back.
func (q *Queue) syncMarks(end int64, ep *logEpoch) {
	l := q.log
	for {
		_ = q.commit(end, ep, true)
		q.mu.Lock()
		if l.unsyncedMarks() < int(q.flushAfter) || l.broken != nil || q.closed {
			l.syncing = false
			q.mu.Unlock()
			return
		}
		end, ep = l.tail, l.epoch
		q.mu.Unlock()
	}
}

// markInMemory is update for an acknowledgement without a log: the entry
// leaves the queue in memory, and a fold deletes it from bbolt with the
// others once FlushAfter have gathered or at once for a KindStart.
func (q *Queue) markInMemory(build func() (*change, error)) (*change, error) {
	q.mu.Lock()
	c, err := build()
	if err != nil || c == nil {
		q.mu.Unlock()
		return c, err
	}
	q.applyLocked(c, 0)
	q.publishLength()
	start := slices.ContainsFunc(c.remove, func(r removal) bool { return r.kind == KindStart })
	if len(q.done) < int(q.flushAfter) && !start {
		q.mu.Unlock()
		return c, nil
	}
	q.mu.Unlock()
	return c, q.Flush()
}

// applyLocked makes c part of the in-memory state; end is the log position
// past c's records (0 when a fold commits c). The caller holds q.mu.
func (q *Queue) applyLocked(c *change, end int64) {
	for _, r := range c.remove {
		if r.seq == q.headHint.seq {
			q.headHint = removal{}
		}
		if r.inBase {
			q.done.add(r.seq)
			delete(q.attempts, r.seq)
			q.baseKinds[r.kind]--
			continue
		}
		if i, ok := q.tailIndex(r.seq); ok {
			q.tail = slices.Delete(q.tail, i, i+1)
			q.tailKinds[r.kind]--
		}
	}
	if a := c.attempts; a != nil {
		if a.inBase {
			q.noteAttempts(a.seq, a.n)
		} else if i, ok := q.tailIndex(a.seq); ok {
			q.tail[i].value = a.value
		}
	}
	if c.add != nil {
		c.add.end = end
		q.tail = append(q.tail, *c.add)
		q.tailKinds[c.add.kind]++
	}
}

// tailIndex finds seq in the tail. The caller holds q.mu.
func (q *Queue) tailIndex(seq uint64) (int, bool) {
	return slices.BinarySearchFunc(q.tail, seq, func(t tailEntry, seq uint64) int {
		switch {
		case t.seq < seq:
			return -1
		case t.seq > seq:
			return 1
		}
		return 0
	})
}

// locateLocked finds the waiting entry seq (marked or acknowledged ones are
// not found). The caller holds q.mu.
func (q *Queue) locateLocked(seq uint64) (removal, bool, error) {
	if i, ok := q.tailIndex(seq); ok {
		return removal{seq: seq, kind: q.tail[i].kind}, true, nil
	}
	if q.done.has(seq) || q.baseWaiting() == 0 {
		return removal{}, false, nil
	}
	if seq == q.headHint.seq {
		return q.headHint, true, nil
	}
	r := removal{seq: seq, inBase: true}
	found := false
	err := q.viewBase(func(pending *bbolt.Bucket) error {
		v := pending.Get(seqKey(seq))
		if v == nil {
			return nil
		}
		var err error
		r.kind, err = peekKind(v)
		found = err == nil
		return err
	})
	return r, found, err
}

// noteAttempts records n as the attempt count of the bbolt entry seq until
// the next fold. The caller holds q.mu.
func (q *Queue) noteAttempts(seq uint64, n int) {
	if q.attempts == nil {
		q.attempts = make(map[uint64]int)
	}
	q.attempts[seq] = n
}

// seqSet is a set of Seqs, kept sorted. The queue's set of entries gone
// from bbolt since the last fold is one: it stays small (a fold empties
// it, and the drain folds as it goes idle without the log; foldDone bounds
// it with the log), acknowledgements mostly come in Seq order, so that
// adding is appending, and a map's table would cost every idle queue of
// the fleet simulator a few hundred bytes.
type seqSet []uint64

// has reports whether seq is in s.
func (s seqSet) has(seq uint64) bool {
	_, ok := slices.BinarySearch(s, seq)
	return ok
}

// add puts seq in s.
func (s *seqSet) add(seq uint64) {
	if i, ok := slices.BinarySearch(*s, seq); !ok {
		*s = slices.Insert(*s, i, seq)
	}
}

// foldLocked commits, in one bbolt transaction, everything the log holds
// and c (nil: nothing more), and starts the log's next generation. On
// success the in-memory state is what bbolt holds, and every record
// appended so far counts as synced; on failure nothing changed. The caller
// holds q.wmu and q.mu.
func (q *Queue) foldLocked(c *change) error {
	if c == nil {
		c = &change{}
	}
	removedTail := map[uint64]bool{}
	for _, r := range c.remove {
		if !r.inBase {
			removedTail[r.seq] = true
		}
	}
	last := q.nextSeq - 1
	if c.add != nil {
		c.add.seq = q.nextSeq
		last = c.add.seq
	}
	var gen uint64
	if q.log != nil {
		gen = q.log.gen + 1
	}
	err := q.db.Update(func(tx *bbolt.Tx) error {
		top, pending, err := q.buckets(tx)
		if err != nil {
			return err
		}
		// Entries are only ever added at the end: let the pages fill up
		// instead of splitting them half full, which halves the file of a
		// queue that grows offline and the pages each fold writes.
		pending.FillPercent = appendFill
		for _, seq := range q.done {
			if err := pending.Delete(seqKey(seq)); err != nil {
				return err
			}
		}
		for _, r := range c.remove {
			if r.inBase {
				if err := pending.Delete(seqKey(r.seq)); err != nil {
					return err
				}
			}
		}
		for seq, n := range q.attempts {
			if err := setAttempts(pending, seq, n); err != nil {
				return err
			}
		}
		for _, t := range q.tail {
			if removedTail[t.seq] {
				continue
			}
			if err := pending.Put(seqKey(t.seq), t.value); err != nil {
				return err
			}
		}
		if a := c.attempts; a != nil {
			if err := pending.Put(seqKey(a.seq), a.value); err != nil {
				return err
			}
		}
		if c.dead != nil {
			dead, err := deadOf(top)
			if err != nil {
				return err
			}
			if err := dead.Put(seqKey(c.dead.Seq), encodeEntry(*c.dead)); err != nil {
				return err
			}
		}
		if c.add != nil {
			if err := pending.Put(seqKey(c.add.seq), c.add.value); err != nil {
				return err
			}
		}
		if last > top.Sequence() {
			if err := top.SetSequence(last); err != nil {
				return err
			}
		}
		if q.log != nil {
			return top.Put(logGenKey, binary.BigEndian.AppendUint64(nil, gen))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if c.add != nil {
		q.nextSeq++
	}
	q.applyLocked(c, 0)
	for k := range q.baseKinds {
		q.baseKinds[k] += q.tailKinds[k]
		q.tailKinds[k] = 0
	}
	q.tail, q.ahead = nil, nil
	q.done = q.done[:0]
	clear(q.attempts)
	q.headHint = removal{}
	if l := q.log; l != nil {
		l.gen = gen
		l.buf = nil
		l.base = l.tail
		l.written, l.synced = l.tail, l.tail
		l.bufMarks, l.writtenMarks = 0, 0
		l.broken = nil
	}
	q.publishLength()
	return nil
}

// setAttempts rewrites the stored entry seq with attempt count n; a missing
// entry is left alone.
func setAttempts(pending *bbolt.Bucket, seq uint64, n int) error {
	k := seqKey(seq)
	v := pending.Get(k)
	if v == nil {
		return nil
	}
	e, err := decodeEntry(k, v)
	if err != nil {
		return err
	}
	e.Attempts = n
	return pending.Put(k, encodeEntry(e))
}

// loadLocked replaces the in-memory state with what bbolt and the log's
// first limit bytes (-1: all of it) hold, and reports whether the log
// added anything. The caller holds q.wmu and q.mu.
func (q *Queue) loadLocked(limit int64) (replayed bool, err error) {
	q.baseKinds, q.tailKinds = [numKinds]int32{}, [numKinds]int32{}
	q.scanFrom, q.headFrom, q.headHint = [numKinds]uint64{}, 0, removal{}
	q.done = q.done[:0]
	clear(q.attempts)
	q.tail, q.ahead = nil, nil
	var logData []byte
	if q.log != nil {
		if logData, err = q.log.read(limit); err != nil {
			return false, err
		}
	}
	err = q.viewBase(func(pending *bbolt.Bucket) error {
		// Counting needs only the kind byte, not a full decode.
		err := pending.ForEach(func(k, v []byte) error {
			kind, err := peekKind(v)
			if err != nil {
				return fmt.Errorf("seq %d: %w", seqOf(k), err)
			}
			q.baseKinds[kind]++
			return nil
		})
		if err != nil {
			return err
		}
		top := pending.Tx().Bucket([]byte(q.bucket))
		floor := top.Sequence() + 1
		q.nextSeq = max(q.nextSeq, floor)
		if q.log == nil {
			return nil
		}
		q.log.gen = 0 // matches no record: nothing to replay
		if v := top.Get(logGenKey); len(v) == 8 {
			q.log.gen = binary.BigEndian.Uint64(v)
		}
		var next uint64
		replayed, next = q.replay(pending, logData, floor)
		// Never hand out a Seq again, not even one whose record a failed
		// write may have left behind.
		q.nextSeq = max(q.nextSeq, next)
		return nil
	})
	return replayed, err
}

// replay applies the log's records of the current generation, up to the
// first that is torn, fails its CRC, belongs to another generation or does
// not follow from the ones before (an entry whose Seq does not grow). It
// reports whether any record was applied, and the Seq after the last entry
// (at least floor, the lowest an entry of the log may have). The caller
// holds q.wmu and q.mu.
func (q *Queue) replay(pending *bbolt.Bucket, data []byte, floor uint64) (replayed bool, next uint64) {
	next = floor
	for len(data) > 0 {
		typ, seq, body, n, ok := parseRecord(data, q.log.gen)
		if !ok {
			break
		}
		data = data[n:]
		switch typ {
		case recEntry:
			kind, err := peekKind(body)
			if err != nil || seq < next {
				return replayed, next
			}
			if _, _, _, _, err := splitEntry(seqKey(seq), body); err != nil {
				return replayed, next
			}
			q.tail = append(q.tail, tailEntry{seq: seq, kind: kind, value: slices.Clone(body)})
			q.tailKinds[kind]++
			next = seq + 1
		case recDone:
			if i, ok := q.tailIndex(seq); ok {
				q.tailKinds[q.tail[i].kind]--
				q.tail = slices.Delete(q.tail, i, i+1)
			} else if kind, ok := q.baseKind(pending, seq); ok {
				q.done.add(seq)
				delete(q.attempts, seq)
				q.baseKinds[kind]--
			}
		case recAttempts:
			a, w := binary.Uvarint(body)
			if w <= 0 || a > uint64(^uint(0)>>1) {
				return replayed, next
			}
			if i, ok := q.tailIndex(seq); ok {
				if e, err := decodeEntry(seqKey(seq), q.tail[i].value); err == nil {
					e.Attempts = int(a)
					q.tail[i].value = encodeEntry(e)
				}
			} else if _, ok := q.baseKind(pending, seq); ok {
				q.noteAttempts(seq, int(a))
			}
		default:
			return replayed, next
		}
		replayed = true
	}
	return replayed, next
}

// baseKind returns the kind of the waiting bbolt entry seq, false when
// there is none.
func (q *Queue) baseKind(pending *bbolt.Bucket, seq uint64) (EntryKind, bool) {
	if q.done.has(seq) {
		return 0, false
	}
	v := pending.Get(seqKey(seq))
	if v == nil {
		return 0, false
	}
	kind, err := peekKind(v)
	return kind, err == nil
}

// repairLocked, after a write or sync of the log failed, forgets what was
// not synced and folds the rest into bbolt; with an intact log it does
// nothing. The caller holds q.wmu and q.mu.
func (q *Queue) repairLocked() error {
	l := q.log
	if l == nil || l.broken == nil {
		return nil
	}
	broken := l.broken
	if _, err := q.loadLocked(l.synced - l.base); err != nil {
		return errors.Join(broken, err)
	}
	if err := q.foldLocked(nil); err != nil {
		// Stay broken: the state in memory is the synced one, and the
		// next change tries to fold again.
		l.broken = broken
		return errors.Join(broken, err)
	}
	return nil
}
