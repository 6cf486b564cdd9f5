package ocppclient_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient"
)

// queueT0 is the fake clock's start in these tests.
var queueT0 = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

// queueOpenDB opens (creating) the bbolt file at path with default options,
// as the binary does, and closes it at the end of the test. Closing twice is
// harmless, so tests that simulate a restart may close it earlier.
func queueOpenDB(t testing.TB, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatalf("bbolt.Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// queueOpen opens a queue in a fresh database file under t.TempDir and
// returns both with the file's path.
func queueOpen(t testing.TB, opts ocppclient.QueueOptions) (*ocppclient.Queue, *bbolt.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "queue.db")
	db := queueOpenDB(t, path)
	q := queueMust(t, db, opts)
	return q, db, path
}

func queueMust(t testing.TB, db *bbolt.DB, opts ocppclient.QueueOptions) *ocppclient.Queue {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = clock.NewFake(queueT0)
	}
	q, err := ocppclient.OpenQueue(db, opts)
	if err != nil {
		t.Fatalf("OpenQueue: %v", err)
	}
	return q
}

// queueEntry builds an entry of kind whose payload names i, so that tests
// can tell entries apart by payload.
func queueEntry(kind ocppclient.EntryKind, i int) ocppclient.Entry {
	return ocppclient.Entry{
		Kind:    kind,
		Action:  [...]string{"DataTransfer", "StartTransaction", "StopTransaction", "MeterValues"}[kind],
		Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
		Key:     fmt.Sprintf("session-%d", i%7),
	}
}

func queueEnqueue(t testing.TB, q *ocppclient.Queue, e ocppclient.Entry) ocppclient.Entry {
	t.Helper()
	got, err := q.Enqueue(e)
	if err != nil {
		t.Fatalf("Enqueue(%s %s): %v", e.Action, e.Payload, err)
	}
	return got
}

func queueEntries(t testing.TB, q *ocppclient.Queue) []ocppclient.Entry {
	t.Helper()
	es, err := q.Entries()
	if err != nil {
		t.Fatalf("Entries: %v", err)
	}
	return es
}

// queueSameEntries fails unless got and want hold the same entries in the
// same order, every field compared (times with Equal).
func queueSameEntries(t testing.TB, got, want []ocppclient.Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d:\ngot  %s\nwant %s", len(got), len(want), queueDescribe(got), queueDescribe(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || g.Kind != w.Kind || g.Action != w.Action || g.Key != w.Key ||
			g.Attempts != w.Attempts || !bytes.Equal(g.Payload, w.Payload) || !g.EnqueuedAt.Equal(w.EnqueuedAt) {
			t.Fatalf("entry %d:\ngot  %+v\nwant %+v", i, g, w)
		}
	}
}

func queueDescribe(es []ocppclient.Entry) string {
	var b bytes.Buffer
	for _, e := range es {
		fmt.Fprintf(&b, "%d:%s%s ", e.Seq, e.Action, e.Payload)
	}
	return b.String()
}

// queueCrashImage copies the database and log files of q as a power cut
// would leave them now, and opens a queue with opts on the copy: whatever
// q holds only in memory, or wrote without a sync, is lost.
func queueCrashImage(t *testing.T, q *ocppclient.Queue, opts ocppclient.QueueOptions) *ocppclient.Queue {
	t.Helper()
	return queueImage(t, q, opts, false)
}

// queueImage copies q's files as a power cut (killed false) or a kill -9
// (killed true) would leave them now and opens a queue with opts on the
// copy.
func queueImage(t *testing.T, q *ocppclient.Queue, opts ocppclient.QueueOptions, killed bool) *ocppclient.Queue {
	t.Helper()
	path := filepath.Join(t.TempDir(), "crash.db")
	if _, err := ocppclient.CrashImageForTest(q, path, killed); err != nil {
		t.Fatalf("crash image: %v", err)
	}
	return queueMust(t, queueOpenDB(t, path), opts)
}

// queueHead returns the head entry, failing the test on an error or an
// empty queue.
func queueHead(t *testing.T, q *ocppclient.Queue) ocppclient.Entry {
	t.Helper()
	e, ok, err := q.Head()
	if err != nil || !ok {
		t.Fatalf("Head = %v, %v; want an entry", ok, err)
	}
	return e
}

func queueMark(t *testing.T, q *ocppclient.Queue, seq uint64) {
	t.Helper()
	if err := q.MarkDelivered(seq); err != nil {
		t.Fatalf("MarkDelivered(%d): %v", seq, err)
	}
}

// queueWithout returns es less the entries whose Seq is in seqs.
func queueWithout(es []ocppclient.Entry, seqs ...uint64) []ocppclient.Entry {
	var out []ocppclient.Entry
	for _, e := range es {
		if !slices.Contains(seqs, e.Seq) {
			out = append(out, e)
		}
	}
	return out
}

func TestQueueFIFO(t *testing.T) {
	for _, n := range []int{1, 2, 700} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			q, _, _ := queueOpen(t, ocppclient.QueueOptions{})
			var want []ocppclient.Entry
			for i := range n {
				e := queueEnqueue(t, q, queueEntry(ocppclient.EntryKind(i%4), i))
				if len(want) > 0 && e.Seq <= want[len(want)-1].Seq {
					t.Fatalf("seq %d after %d: not increasing", e.Seq, want[len(want)-1].Seq)
				}
				if !e.EnqueuedAt.Equal(queueT0) {
					t.Fatalf("EnqueuedAt = %v, want the clock's %v", e.EnqueuedAt, queueT0)
				}
				want = append(want, e)
			}
			if q.Len() != n {
				t.Fatalf("Len = %d, want %d", q.Len(), n)
			}
			queueSameEntries(t, queueEntries(t, q), want)
			// Drain as the transport does: Head, then Ack.
			var got []ocppclient.Entry
			for {
				e, ok, err := q.Head()
				if err != nil {
					t.Fatalf("Head: %v", err)
				}
				if !ok {
					break
				}
				got = append(got, e)
				if err := q.Ack(e.Seq); err != nil {
					t.Fatalf("Ack(%d): %v", e.Seq, err)
				}
			}
			queueSameEntries(t, got, want)
			if q.Len() != 0 {
				t.Fatalf("Len after drain = %d, want 0", q.Len())
			}
		})
	}
}

// TestQueueDurable closes the database file and opens it again, as after a
// power cut, and checks that everything enqueued is there, unchanged and in
// order, and that Seq keeps increasing past every number handed out before.
func TestQueueDurable(t *testing.T) {
	q, db, path := queueOpen(t, ocppclient.QueueOptions{})
	stamped := time.Date(2024, 12, 31, 23, 59, 59, 0, time.FixedZone("CET", 3600))
	inputs := []ocppclient.Entry{
		{Kind: ocppclient.KindStart, Action: "StartTransaction", Key: "s1", Payload: json.RawMessage(`{"connectorId":1,"idTag":"ABC","meterStart":0}`)},
		{Kind: ocppclient.KindMeter, Action: "MeterValues", Key: "s1", Payload: json.RawMessage(`{"connectorId":1,"meterValue":[]}`), EnqueuedAt: stamped},
		{Kind: ocppclient.KindOther, Action: "DataTransfer", Payload: json.RawMessage(`{"vendorId":"é€ \u0000"}`), Attempts: 1},
		{Kind: ocppclient.KindStop, Action: "StopTransaction", Key: "s1", Payload: json.RawMessage(`{"transactionId":0,"meterStop":1234}`)},
		{Kind: ocppclient.KindOther, Action: "Heartbeat"}, // no payload, no key
	}
	var want []ocppclient.Entry
	for _, in := range inputs {
		want = append(want, queueEnqueue(t, q, in))
	}
	if !want[1].EnqueuedAt.Equal(stamped) {
		t.Fatalf("explicit EnqueuedAt replaced: %v", want[1].EnqueuedAt)
	}
	// An acknowledged entry: its Seq must not be handed out again.
	gone := queueEnqueue(t, q, queueEntry(ocppclient.KindMeter, 99))
	if err := q.Ack(gone.Seq); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = queueOpenDB(t, path)
	q = queueMust(t, db, ocppclient.QueueOptions{})
	if q.Len() != len(want) {
		t.Fatalf("Len after reopen = %d, want %d", q.Len(), len(want))
	}
	queueSameEntries(t, queueEntries(t, q), want)
	next := queueEnqueue(t, q, queueEntry(ocppclient.KindMeter, 100))
	if next.Seq <= gone.Seq {
		t.Fatalf("Seq after reopen = %d, want > %d (last handed out)", next.Seq, gone.Seq)
	}
}

// TestQueueRestartMidDrain acknowledges part of the queue, restarts, and
// checks that the rest is delivered in order and nothing acknowledged comes
// back.
func TestQueueRestartMidDrain(t *testing.T) {
	for _, acked := range []int{0, 1, 4, 10} {
		t.Run(fmt.Sprint(acked), func(t *testing.T) {
			q, db, path := queueOpen(t, ocppclient.QueueOptions{})
			var all []ocppclient.Entry
			for i := range 10 {
				all = append(all, queueEnqueue(t, q, queueEntry(ocppclient.EntryKind(i%4), i)))
			}
			for i := range acked {
				e, ok, err := q.Head()
				if err != nil || !ok || e.Seq != all[i].Seq {
					t.Fatalf("Head = %d, %v, %v; want seq %d", e.Seq, ok, err, all[i].Seq)
				}
				if err := q.Ack(e.Seq); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			q = queueMust(t, queueOpenDB(t, path), ocppclient.QueueOptions{})
			rest := all[acked:]
			if q.Len() != len(rest) {
				t.Fatalf("Len = %d, want %d", q.Len(), len(rest))
			}
			queueSameEntries(t, queueEntries(t, q), rest)
			e, ok, err := q.Head()
			switch {
			case err != nil:
				t.Fatal(err)
			case len(rest) == 0 && ok:
				t.Fatalf("Head = %d on an empty queue", e.Seq)
			case len(rest) > 0 && (!ok || e.Seq != rest[0].Seq):
				t.Fatalf("Head = %d, %v; want %d", e.Seq, ok, rest[0].Seq)
			}
		})
	}
}

func TestQueueSharedDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fleet.db")
	db := queueOpenDB(t, path)
	a := queueMust(t, db, ocppclient.QueueOptions{Bucket: "cp-a", MaxAttempts: 1})
	b := queueMust(t, db, ocppclient.QueueOptions{Bucket: "cp-b", MaxEntries: 1})
	a1 := queueEnqueue(t, a, queueEntry(ocppclient.KindStart, 1))
	a2 := queueEnqueue(t, a, queueEntry(ocppclient.KindMeter, 2))
	b1 := queueEnqueue(t, b, queueEntry(ocppclient.KindMeter, 3))
	b2 := queueEnqueue(t, b, queueEntry(ocppclient.KindMeter, 4)) // drops b1 only
	if a1.Seq != 1 || b1.Seq != 1 || b2.Seq != 2 {
		t.Fatalf("seqs a1=%d b1=%d b2=%d; each bucket numbers from 1", a1.Seq, b1.Seq, b2.Seq)
	}
	if err := a.Ack(a1.Seq); err != nil {
		t.Fatal(err)
	}
	if _, dead, err := a.Fail(a2.Seq); err != nil || !dead {
		t.Fatalf("Fail = %v, %v; want dead letter", dead, err)
	}
	if err := b.Ack(a1.Seq); err != nil { // same number, other queue: b's entry 1 is already gone
		t.Fatal(err)
	}
	queueSameEntries(t, queueEntries(t, a), nil)
	queueSameEntries(t, queueEntries(t, b), []ocppclient.Entry{b2})
	if a.Len() != 0 || b.Len() != 1 || a.Dropped() != 0 || b.Dropped() != 1 {
		t.Fatalf("a: Len %d Dropped %d; b: Len %d Dropped %d", a.Len(), a.Dropped(), b.Len(), b.Dropped())
	}
	if dl, err := b.DeadLetters(); err != nil || len(dl) != 0 {
		t.Fatalf("b dead letters = %v, %v; want none", queueDescribe(dl), err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = queueOpenDB(t, path)
	a = queueMust(t, db, ocppclient.QueueOptions{Bucket: "cp-a"})
	b = queueMust(t, db, ocppclient.QueueOptions{Bucket: "cp-b"})
	if a.Len() != 0 || b.Len() != 1 {
		t.Fatalf("after reopen: a.Len %d, b.Len %d; want 0, 1", a.Len(), b.Len())
	}
	a2.Attempts = 1
	dl, err := a.DeadLetters()
	if err != nil {
		t.Fatal(err)
	}
	queueSameEntries(t, dl, []ocppclient.Entry{a2})
}

func TestQueueChanged(t *testing.T) {
	q, _, _ := queueOpen(t, ocppclient.QueueOptions{})
	select {
	case <-q.Changed():
		t.Fatal("signal before any Enqueue")
	default:
	}
	// Three enqueues nobody listens to must neither block nor pile up.
	for i := range 3 {
		queueEnqueue(t, q, queueEntry(ocppclient.KindMeter, i))
	}
	select {
	case <-q.Changed():
	default:
		t.Fatal("no signal after Enqueue")
	}
	select {
	case <-q.Changed():
		t.Fatal("more than one pending signal")
	default:
	}
	// Ack and Fail do not signal.
	e, _, _ := q.Head()
	if err := q.Ack(e.Seq); err != nil {
		t.Fatal(err)
	}
	e, _, _ = q.Head()
	if _, _, err := q.Fail(e.Seq); err != nil {
		t.Fatal(err)
	}
	select {
	case <-q.Changed():
		t.Fatal("signal after Ack/Fail")
	default:
	}
}

func TestQueueErrors(t *testing.T) {
	q, db, _ := queueOpen(t, ocppclient.QueueOptions{})
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"enqueue without action", func() error { _, err := q.Enqueue(ocppclient.Entry{Kind: ocppclient.KindMeter}); return err }(), ocppclient.ErrInvalidEntry},
		{"enqueue unknown kind", func() error {
			_, err := q.Enqueue(ocppclient.Entry{Kind: ocppclient.KindMeter + 1, Action: "X"})
			return err
		}(), ocppclient.ErrInvalidEntry},
		{"fail unknown seq", func() error { _, _, err := q.Fail(42); return err }(), ocppclient.ErrNotFound},
		{"ack unknown seq", q.Ack(42), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.want) || (tt.want == nil && tt.err != nil) {
				t.Fatalf("err = %v, want %v", tt.err, tt.want)
			}
		})
	}
	if q.Len() != 0 {
		t.Fatalf("Len = %d after rejected calls, want 0", q.Len())
	}

	// A value this code did not write is reported, not misread.
	t.Run("corrupt value", func(t *testing.T) {
		err := db.Update(func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte("queue")).Bucket([]byte("pending")).Put(make([]byte, 8), []byte{9, 9, 9})
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := q.Head(); !errors.Is(err, ocppclient.ErrCorruptEntry) {
			t.Fatalf("Head: %v, want ErrCorruptEntry", err)
		}
		if _, err := ocppclient.OpenQueue(db, ocppclient.QueueOptions{}); !errors.Is(err, ocppclient.ErrCorruptEntry) {
			t.Fatalf("OpenQueue: %v, want ErrCorruptEntry", err)
		}
	})
}

// TestQueueConcurrent enqueues from one goroutine while another drains with
// Head/Ack, waiting on Changed when empty, as the transport does. Run with
// -race.
func TestQueueConcurrent(t *testing.T) {
	const n = 300
	q, _, _ := queueOpen(t, ocppclient.QueueOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	producerFailed := make(chan struct{}) // closed so that the drain stops waiting
	wg.Go(func() {
		for i := range n {
			if _, err := q.Enqueue(queueEntry(ocppclient.EntryKind(i%4), i)); err != nil {
				errs <- err
				close(producerFailed)
				return
			}
			if i%50 == 0 {
				q.SetRetryPolicy(3+i%2, time.Second) // races with nothing but Fail
			}
		}
	})
	var got []ocppclient.Entry
	wg.Go(func() {
		for len(got) < n {
			e, ok, err := q.Head()
			if err != nil {
				errs <- err
				return
			}
			if !ok {
				select {
				case <-q.Changed():
				case <-producerFailed:
					return
				}
				continue
			}
			_ = q.Len() // read concurrently with the writer
			if err := q.Ack(e.Seq); err != nil {
				errs <- err
				return
			}
			got = append(got, e)
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
	if q.Len() != 0 {
		t.Fatalf("Len = %d, want 0", q.Len())
	}
}

// Find sees a waiting entry by kind, key and action, not a delivered one
// (marked, then flushed or not), and survives a reopen of the file.
func TestQueueFind(t *testing.T) {
	q, db, path := queueOpen(t, ocppclient.QueueOptions{})
	enqueue := func(kind ocppclient.EntryKind, action, key string) uint64 {
		t.Helper()
		e, err := q.Enqueue(ocppclient.Entry{Kind: kind, Action: action, Key: key, Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		return e.Seq
	}
	find := func(kind ocppclient.EntryKind, key, action string) bool {
		t.Helper()
		ok, err := q.Find(kind, key, action)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	startA := enqueue(ocppclient.KindStart, "StartTransaction", "A")
	enqueue(ocppclient.KindMeter, "MeterValues", "A")
	enqueue(ocppclient.KindStop, "StopTransaction", "A")
	enqueue(ocppclient.KindStart, "StartTransaction", "B")

	cases := []struct {
		kind        ocppclient.EntryKind
		key, action string
		want        bool
	}{
		{ocppclient.KindStart, "A", "StartTransaction", true},
		{ocppclient.KindStop, "A", "StopTransaction", true},
		{ocppclient.KindStart, "B", "StartTransaction", true},
		{ocppclient.KindStop, "B", "StopTransaction", false},
		{ocppclient.KindStart, "C", "StartTransaction", false},
		{ocppclient.KindStart, "A", "StopTransaction", false}, // kind and action must both match
	}
	for _, c := range cases {
		if got := find(c.kind, c.key, c.action); got != c.want {
			t.Errorf("Find(%d, %s, %s) = %v, want %v", c.kind, c.key, c.action, got, c.want)
		}
	}
	if err := q.MarkDelivered(startA); err != nil {
		t.Fatal(err)
	}
	if find(ocppclient.KindStart, "A", "StartTransaction") {
		t.Error("Find sees a StartTransaction marked delivered")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	q = queueMust(t, queueOpenDB(t, path), ocppclient.QueueOptions{})
	if find(ocppclient.KindStart, "A", "StartTransaction") || !find(ocppclient.KindStop, "A", "StopTransaction") {
		t.Error("after a reopen Find disagrees with what was delivered and what waits")
	}
}
