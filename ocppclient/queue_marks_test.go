package ocppclient_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/evsed/evsed/ocppclient"
)

// TestQueueMarkDelivered walks a queue with marks taken at the head and out
// of order, across group commits (FlushAfter, Enqueue, Ack, Fail, Flush), and
// checks after every step that Head, Len and Entries skip exactly the marked
// entries, in order.
func TestQueueMarkDelivered(t *testing.T) {
	q, _, _ := queueOpen(t, ocppclient.QueueOptions{FlushAfter: 3})
	var all []ocppclient.Entry
	for i := range 8 {
		all = append(all, queueEnqueue(t, q, queueEntry(ocppclient.KindMeter, i)))
	}
	want := all
	check := func(step string) {
		t.Helper()
		if q.Len() != len(want) {
			t.Fatalf("%s: Len = %d, want %d", step, q.Len(), len(want))
		}
		queueSameEntries(t, queueEntries(t, q), want)
		e, ok, err := q.Head()
		switch {
		case err != nil:
			t.Fatalf("%s: Head: %v", step, err)
		case len(want) == 0 && ok:
			t.Fatalf("%s: Head = seq %d, want none", step, e.Seq)
		case len(want) > 0 && (!ok || e.Seq != want[0].Seq):
			t.Fatalf("%s: Head = seq %d (%v), want %d", step, e.Seq, ok, want[0].Seq)
		}
	}
	check("start")

	queueMark(t, q, all[0].Seq)
	want = queueWithout(want, all[0].Seq)
	check("head marked")

	queueMark(t, q, all[0].Seq) // twice: no change
	queueMark(t, q, 9999)       // never enqueued: no change
	check("repeated and unknown marks")

	queueMark(t, q, all[3].Seq) // out of order: the head stays
	want = queueWithout(want, all[3].Seq)
	check("middle marked")

	if _, _, err := q.Fail(all[3].Seq); !errors.Is(err, ocppclient.ErrNotFound) {
		t.Fatalf("Fail of a marked entry: %v, want ErrNotFound", err)
	}
	check("fail of a marked entry")

	queueMark(t, q, all[1].Seq) // third mark: group commit
	want = queueWithout(want, all[1].Seq)
	check("flushed after three marks")

	// Enqueue commits marks in passing; the new entry goes to the tail.
	queueMark(t, q, all[2].Seq)
	want = queueWithout(want, all[2].Seq)
	added := queueEnqueue(t, q, queueEntry(ocppclient.KindOther, 8))
	want = append(want, added)
	check("enqueue after a mark")

	// A durable Ack of a marked entry changes no count.
	queueMark(t, q, all[4].Seq)
	want = queueWithout(want, all[4].Seq)
	if err := q.Ack(all[4].Seq); err != nil {
		t.Fatal(err)
	}
	check("ack of a marked entry")

	// Fail of another entry commits the marks too, and counts its attempt.
	queueMark(t, q, all[5].Seq)
	want = queueWithout(want, all[5].Seq)
	if _, dead, err := q.Fail(all[6].Seq); err != nil || dead {
		t.Fatalf("Fail = %v, %v", dead, err)
	}
	want[0].Attempts = 1
	check("fail after a mark")

	for len(want) > 0 {
		queueMark(t, q, queueHead(t, q).Seq)
		want = want[1:]
		check("drain")
	}
	if err := q.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := q.Flush(); err != nil { // nothing left to flush
		t.Fatal(err)
	}
	check("flushed")
	// Every commit above was durable: a crash now brings nothing back.
	crashed := queueCrashImage(t, q, ocppclient.QueueOptions{})
	if crashed.Len() != 0 {
		t.Fatalf("after crash: Len = %d, want 0: %s", crashed.Len(), queueDescribe(queueEntries(t, crashed)))
	}
}

// TestQueueMarkDeliveredCrash marks part of the queue and takes the files
// as a power cut would leave them: the marked entries that no sync (with
// the log) or group commit (without) made durable come back, in order,
// before the rest; nothing else is lost or repeated. Without the log every
// FlushAfter-th mark commits those before it; with it, syncs in the
// background keep fewer than FlushAfter marks unsynced (once the sync under
// way is done). After Flush, none come back.
func TestQueueMarkDeliveredCrash(t *testing.T) {
	const flushAfter = 4
	for _, noLog := range []bool{true, false} {
		for _, marked := range []int{0, 1, 3, 4, 5, 9, 12} {
			t.Run(fmt.Sprintf("%s/%d", map[bool]string{true: "bbolt", false: "log"}[noLog], marked), func(t *testing.T) {
				q, _, _ := queueOpen(t, ocppclient.QueueOptions{FlushAfter: flushAfter, NoLog: noLog})
				var all []ocppclient.Entry
				for i := range 12 {
					// No KindStart: marking one commits at once (see
					// TestQueueMarkStartIsDurable).
					kind := [...]ocppclient.EntryKind{ocppclient.KindMeter, ocppclient.KindOther, ocppclient.KindStop}[i%3]
					all = append(all, queueEnqueue(t, q, queueEntry(kind, i)))
				}
				for i := range marked {
					e := queueHead(t, q)
					if e.Seq != all[i].Seq {
						t.Fatalf("Head = seq %d, want %d", e.Seq, all[i].Seq)
					}
					queueMark(t, q, e.Seq)
				}
				if q.Len() != len(all)-marked {
					t.Fatalf("Len = %d, want %d", q.Len(), len(all)-marked)
				}

				flushed := marked / flushAfter * flushAfter
				crashed := queueCrashImage(t, q, ocppclient.QueueOptions{})
				got := queueEntries(t, crashed)
				durable := len(all) - len(got)
				if durable > marked || durable <= marked-flushAfter || (noLog && durable != flushed) {
					t.Fatalf("after crash %d marks durable of %d, want %d without the log, more than %d with it",
						durable, marked, flushed, marked-flushAfter)
				}
				queueSameEntries(t, got, all[durable:])
				if crashed.Len() != len(got) {
					t.Fatalf("after crash: Len = %d, want %d", crashed.Len(), len(got))
				}

				if err := q.Flush(); err != nil {
					t.Fatal(err)
				}
				queueSameEntries(t, queueEntries(t, queueCrashImage(t, q, ocppclient.QueueOptions{})), all[marked:])
			})
		}
	}
}

// TestQueueMarkStartIsDurable: a marked StartTransaction is deleted from
// disk at once, with the marks before it, since sending it again would open
// a second transaction at the CSMS.
func TestQueueMarkStartIsDurable(t *testing.T) {
	q, _, _ := queueOpen(t, ocppclient.QueueOptions{})
	meter := queueEnqueue(t, q, queueEntry(ocppclient.KindMeter, 0))
	start := queueEnqueue(t, q, queueEntry(ocppclient.KindStart, 1))
	rest := queueEnqueue(t, q, queueEntry(ocppclient.KindMeter, 2))
	queueMark(t, q, meter.Seq)
	queueSameEntries(t, queueEntries(t, queueCrashImage(t, q, ocppclient.QueueOptions{})),
		[]ocppclient.Entry{meter, start, rest})
	queueMark(t, q, start.Seq)
	queueSameEntries(t, queueEntries(t, queueCrashImage(t, q, ocppclient.QueueOptions{})),
		[]ocppclient.Entry{rest})
}

// TestQueueFailKeepsMarksDurable: Fail's transaction commits the attempt
// and the marks before it, so a crash right after loses neither.
func TestQueueFailKeepsMarksDurable(t *testing.T) {
	q, _, _ := queueOpen(t, ocppclient.QueueOptions{MaxAttempts: 2})
	a := queueEnqueue(t, q, queueEntry(ocppclient.KindMeter, 0))
	b := queueEnqueue(t, q, queueEntry(ocppclient.KindStop, 1))
	c := queueEnqueue(t, q, queueEntry(ocppclient.KindOther, 2))
	queueMark(t, q, a.Seq)
	if _, _, err := q.Fail(b.Seq); err != nil {
		t.Fatal(err)
	}
	crashed := queueCrashImage(t, q, ocppclient.QueueOptions{})
	b.Attempts = 1
	queueSameEntries(t, queueEntries(t, crashed), []ocppclient.Entry{b, c})
	if _, dead, err := q.Fail(b.Seq); err != nil || !dead {
		t.Fatalf("second Fail = %v, %v; want dead letter", dead, err)
	}
	crashed = queueCrashImage(t, q, ocppclient.QueueOptions{})
	b.Attempts = 2
	dl, err := crashed.DeadLetters()
	if err != nil {
		t.Fatal(err)
	}
	queueSameEntries(t, dl, []ocppclient.Entry{b})
	queueSameEntries(t, queueEntries(t, crashed), []ocppclient.Entry{c})
}

// TestQueueConcurrentMarks enqueues from one goroutine while another drains
// with Head and MarkDelivered, flushing when the queue is empty, and a third
// reads Len and Entries: no reader may see an entry the drain had marked
// before the read began, however the group commits interleave. Run with
// -race.
func TestQueueConcurrentMarks(t *testing.T) {
	const n = 300
	q, db, path := queueOpen(t, ocppclient.QueueOptions{FlushAfter: 7})
	var (
		wg          sync.WaitGroup
		markedUpTo  atomic.Uint64 // every Seq up to this one is marked
		drainDone   = make(chan struct{})
		errs        = make(chan error, 3)
		producerErr = make(chan struct{}) // closed so that the drain stops waiting
	)
	wg.Go(func() {
		for i := range n {
			if _, err := q.Enqueue(queueEntry(ocppclient.EntryKind(i%4), i)); err != nil {
				errs <- err
				close(producerErr)
				return
			}
		}
	})
	var got []ocppclient.Entry
	wg.Go(func() {
		defer close(drainDone)
		for len(got) < n {
			e, ok, err := q.Head()
			if err != nil {
				errs <- err
				return
			}
			if !ok {
				if err := q.Flush(); err != nil {
					errs <- err
					return
				}
				select {
				case <-q.Changed():
				case <-producerErr:
					return
				}
				continue
			}
			if err := q.MarkDelivered(e.Seq); err != nil {
				errs <- err
				return
			}
			markedUpTo.Store(e.Seq)
			got = append(got, e)
		}
	})
	wg.Go(func() {
		for {
			select {
			case <-drainDone:
				return
			default:
			}
			before := markedUpTo.Load()
			es, err := q.Entries()
			if err != nil {
				errs <- err
				return
			}
			for i, e := range es {
				if e.Seq <= before || (i > 0 && e.Seq <= es[i-1].Seq) {
					errs <- fmt.Errorf("Entries after marks up to %d holds %s", before, queueDescribe(es))
					return
				}
			}
			if l := q.Len(); l < 0 || l > n {
				errs <- fmt.Errorf("Len = %d", l)
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, e := range got {
		if want := fmt.Sprintf(`{"n":%d}`, i); string(e.Payload) != want || e.Seq != uint64(i+1) {
			t.Fatalf("delivery %d = seq %d %s; want seq %d %s", i, e.Seq, e.Payload, i+1, want)
		}
	}
	if err := q.Flush(); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 0 {
		t.Fatalf("Len = %d, want 0", q.Len())
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	q = queueMust(t, queueOpenDB(t, path), ocppclient.QueueOptions{})
	if q.Len() != 0 {
		t.Fatalf("after reopen: Len = %d, want 0: %s", q.Len(), queueDescribe(queueEntries(t, q)))
	}
}
