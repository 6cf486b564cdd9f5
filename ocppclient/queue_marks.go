package ocppclient

import "fmt"

// MarkDelivered acknowledges the delivered entry seq without waiting for
// the disk: Head, Entries and Len skip it at once. With the log the
// acknowledgement is written to the file at once and made durable by a
// later sync; without it, it is held in memory until the next group commit
// (see Queue, Durability). Either way a power cut before then brings the
// entry back to be sent again. Marking an entry that is no longer pending,
// or marking it twice, is not an error and changes nothing. An error from
// the write or sync the mark triggered may leave the mark forgotten: the
// entry then comes back, to be sent again.
func (q *Queue) MarkDelivered(seq uint64) error {
	_, err := q.update(syncNever, func() (*change, error) {
		r, found, err := q.locateLocked(seq)
		if err != nil || !found {
			return nil, err
		}
		return &change{remove: []removal{r}}, nil
	})
	if err != nil {
		return fmt.Errorf("queue mark %d: %w", seq, err)
	}
	return nil
}

// Flush makes every acknowledgement durable and returns once it is: with
// the log, one fdatasync if anything was written since the last one;
// without it, one transaction that deletes the entries marked delivered.
// With nothing to make durable it does nothing.
func (q *Queue) Flush() error {
	q.mu.Lock()
	idle := (q.log == nil && len(q.done) == 0) || (q.log != nil && q.log.synced == q.log.tail && q.log.broken == nil)
	q.mu.Unlock()
	if idle {
		return nil
	}
	if _, err := q.update(syncAlways, func() (*change, error) { return &change{}, nil }); err != nil {
		return fmt.Errorf("queue flush: %w", err)
	}
	return nil
}

// settle is what the drain does when it is about to wait: without a log it
// flushes, so that an idle charger keeps no delivered entry to send again
// after a crash; with the log the acknowledgements are in the file already,
// safe from a crash of the process, and their fdatasync rides on the next
// change's (or the kernel's writeback), so that a charger reporting a
// sample every few seconds syncs once per sample, not twice.
func (q *Queue) settle() error {
	if q.log != nil {
		return nil
	}
	return q.Flush()
}
