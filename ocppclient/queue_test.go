package ocppclient_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
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

// queueFail is one Fail call and what it should answer.
type queueFail struct {
	wait time.Duration
	dead bool
}

func TestQueueFail(t *testing.T) {
	tests := []struct {
		name     string
		opts     ocppclient.QueueOptions
		policy   func(q *ocppclient.Queue) // applied after the first Fail, if set
		want     []queueFail
		attempts int // stored attempts of the dead letter
	}{{
		name: "defaults",
		want: []queueFail{{60 * time.Second, false}, {120 * time.Second, false}, {0, true}},
	}, {
		name: "configured",
		opts: ocppclient.QueueOptions{MaxAttempts: 5, RetryInterval: 7 * time.Second},
		want: []queueFail{{7 * time.Second, false}, {14 * time.Second, false}, {21 * time.Second, false}, {28 * time.Second, false}, {0, true}},
	}, {
		name: "one attempt",
		opts: ocppclient.QueueOptions{MaxAttempts: 1},
		want: []queueFail{{0, true}},
	}, {
		name:   "policy raised at run time",
		policy: func(q *ocppclient.Queue) { q.SetRetryPolicy(4, time.Second) },
		want:   []queueFail{{60 * time.Second, false}, {2 * time.Second, false}, {3 * time.Second, false}, {0, true}},
	}, {
		name:   "policy lowered below attempts made",
		opts:   ocppclient.QueueOptions{MaxAttempts: 10, RetryInterval: time.Minute},
		policy: func(q *ocppclient.Queue) { q.SetRetryPolicy(1, time.Second) },
		want:   []queueFail{{time.Minute, false}, {0, true}},
	}, {
		name:   "zero policy means defaults",
		opts:   ocppclient.QueueOptions{MaxAttempts: 10, RetryInterval: time.Second},
		policy: func(q *ocppclient.Queue) { q.SetRetryPolicy(0, 0) },
		want:   []queueFail{{time.Second, false}, {120 * time.Second, false}, {0, true}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _, _ := queueOpen(t, tt.opts)
			victim := queueEnqueue(t, q, queueEntry(ocppclient.KindStart, 1))
			other := queueEnqueue(t, q, queueEntry(ocppclient.KindStop, 2))
			for i, want := range tt.want {
				wait, dead, err := q.Fail(victim.Seq)
				if err != nil {
					t.Fatalf("Fail #%d: %v", i+1, err)
				}
				if wait != want.wait || dead != want.dead {
					t.Fatalf("Fail #%d = %v, %v; want %v, %v", i+1, wait, dead, want.wait, want.dead)
				}
				if !dead {
					head, _, err := q.Head()
					if err != nil || head.Seq != victim.Seq || head.Attempts != i+1 {
						t.Fatalf("Head after Fail #%d = seq %d attempts %d (%v); want seq %d attempts %d",
							i+1, head.Seq, head.Attempts, err, victim.Seq, i+1)
					}
				}
				if i == 0 && tt.policy != nil {
					tt.policy(q)
				}
			}
			// The dead letter left the queue but is kept, with its attempts.
			dl, err := q.DeadLetters()
			if err != nil {
				t.Fatal(err)
			}
			victim.Attempts = len(tt.want)
			queueSameEntries(t, dl, []ocppclient.Entry{victim})
			queueSameEntries(t, queueEntries(t, q), []ocppclient.Entry{other})
			if q.Len() != 1 {
				t.Fatalf("Len = %d, want 1", q.Len())
			}
			if _, _, err := q.Fail(victim.Seq); !errors.Is(err, ocppclient.ErrNotFound) {
				t.Fatalf("Fail on a dead letter: %v, want ErrNotFound", err)
			}
		})
	}
}

// TestQueueAttemptsDurable checks that attempts and dead letters survive a
// restart.
func TestQueueAttemptsDurable(t *testing.T) {
	q, db, path := queueOpen(t, ocppclient.QueueOptions{MaxAttempts: 2})
	a := queueEnqueue(t, q, queueEntry(ocppclient.KindStart, 1))
	b := queueEnqueue(t, q, queueEntry(ocppclient.KindStop, 2))
	if _, _, err := q.Fail(a.Seq); err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.Fail(a.Seq); err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.Fail(b.Seq); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	q = queueMust(t, queueOpenDB(t, path), ocppclient.QueueOptions{MaxAttempts: 2})
	a.Attempts, b.Attempts = 2, 1
	dl, err := q.DeadLetters()
	if err != nil {
		t.Fatal(err)
	}
	queueSameEntries(t, dl, []ocppclient.Entry{a})
	queueSameEntries(t, queueEntries(t, q), []ocppclient.Entry{b})
	if q.Len() != 1 {
		t.Fatalf("Len = %d, want 1", q.Len())
	}
}

func TestQueueSizePolicy(t *testing.T) {
	const (
		O = ocppclient.KindOther
		S = ocppclient.KindStart
		E = ocppclient.KindStop
		M = ocppclient.KindMeter
	)
	tests := []struct {
		name    string
		max     int
		seed    []ocppclient.EntryKind // enqueued first, payload n = index
		add     ocppclient.EntryKind   // then this one, payload n = len(seed)
		want    []int                  // payload numbers left, in order
		full    bool                   // add rejected with ErrQueueFull
		dropped uint64
	}{
		{name: "room left", max: 4, seed: []ocppclient.EntryKind{M, M, M}, add: M, want: []int{0, 1, 2, 3}},
		{name: "oldest meter goes first", max: 3, seed: []ocppclient.EntryKind{S, O, M}, add: E, want: []int{0, 1, 3}, dropped: 1},
		{name: "oldest of several meters", max: 3, seed: []ocppclient.EntryKind{M, O, M}, add: S, want: []int{1, 2, 3}, dropped: 1},
		{name: "meter replaces meter", max: 3, seed: []ocppclient.EntryKind{S, M, E}, add: M, want: []int{0, 2, 3}, dropped: 1},
		{name: "other when no meter", max: 3, seed: []ocppclient.EntryKind{S, O, E}, add: S, want: []int{0, 2, 3}, dropped: 1},
		{name: "other replaces other", max: 3, seed: []ocppclient.EntryKind{O, S, O}, add: O, want: []int{1, 2, 3}, dropped: 1},
		{name: "meter never displaces other", max: 3, seed: []ocppclient.EntryKind{S, O, E}, add: M, want: []int{0, 1, 2}, full: true, dropped: 1},
		{name: "meter rejected among starts", max: 2, seed: []ocppclient.EntryKind{S, E}, add: M, want: []int{0, 1}, full: true, dropped: 1},
		{name: "other rejected among starts", max: 2, seed: []ocppclient.EntryKind{E, S}, add: O, want: []int{0, 1}, full: true, dropped: 1},
		{name: "start beyond bound", max: 2, seed: []ocppclient.EntryKind{S, E}, add: S, want: []int{0, 1, 2}},
		{name: "stop beyond bound", max: 1, seed: []ocppclient.EntryKind{S, S, E}, add: E, want: []int{0, 1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "queue.db")
			db := queueOpenDB(t, path)
			// Seed without a bound, then apply the bound under test.
			seed := queueMust(t, db, ocppclient.QueueOptions{})
			var all []ocppclient.Entry
			for i, k := range tt.seed {
				all = append(all, queueEnqueue(t, seed, queueEntry(k, i)))
			}
			q := queueMust(t, db, ocppclient.QueueOptions{MaxEntries: tt.max})
			added, err := q.Enqueue(queueEntry(tt.add, len(tt.seed)))
			if tt.full != errors.Is(err, ocppclient.ErrQueueFull) || (!tt.full && err != nil) {
				t.Fatalf("Enqueue: %v, want full=%v", err, tt.full)
			}
			if err == nil {
				all = append(all, added)
			}
			var want []ocppclient.Entry
			for _, n := range tt.want {
				want = append(want, all[n])
			}
			queueSameEntries(t, queueEntries(t, q), want)
			if q.Len() != len(tt.want) {
				t.Fatalf("Len = %d, want %d", q.Len(), len(tt.want))
			}
			if q.Dropped() != tt.dropped {
				t.Fatalf("Dropped = %d, want %d", q.Dropped(), tt.dropped)
			}
		})
	}
}

// TestQueueSizePolicyLongRun keeps a bounded queue under a stream of mixed
// entries against a model of the policy: meters and others dropped oldest
// first, meters and then others rejected once nothing below them is left,
// start/stop always kept, beyond the bound if need be.
func TestQueueSizePolicyLongRun(t *testing.T) {
	const bound = 20
	q, _, _ := queueOpen(t, ocppclient.QueueOptions{MaxEntries: bound})
	// A model of the policy over payload numbers.
	var model []ocppclient.Entry
	var dropped, rejected uint64
	for i := range 400 {
		kind := ocppclient.KindMeter
		switch {
		case i%20 == 0:
			kind = ocppclient.KindStart
		case i%20 == 19:
			kind = ocppclient.KindStop
		case i%10 == 5:
			kind = ocppclient.KindOther
		}
		e, err := q.Enqueue(queueEntry(kind, i))
		victim, reject := -1, false
		if len(model) >= bound {
			for _, k := range []ocppclient.EntryKind{ocppclient.KindMeter, ocppclient.KindOther} {
				for j, m := range model {
					if m.Kind == k {
						victim = j
						break
					}
				}
				if victim >= 0 {
					break
				}
				if kind == k {
					reject = true
					break
				}
			}
		}
		if reject != errors.Is(err, ocppclient.ErrQueueFull) || (!reject && err != nil) {
			t.Fatalf("entry %d (kind %d): Enqueue: %v, want rejected=%v", i, kind, err, reject)
		}
		switch {
		case reject:
			rejected++
		case victim >= 0:
			model = append(model[:victim], model[victim+1:]...)
			dropped++
			fallthrough
		default:
			model = append(model, e)
		}
		if q.Len() != len(model) {
			t.Fatalf("after %d: Len = %d, want %d", i, q.Len(), len(model))
		}
	}
	queueSameEntries(t, queueEntries(t, q), model)
	if q.Dropped() != dropped+rejected {
		t.Fatalf("Dropped = %d, want %d", q.Dropped(), dropped+rejected)
	}
	// The stream must have exercised every branch of the policy.
	if dropped == 0 || rejected == 0 || len(model) <= bound {
		t.Fatalf("dropped %d, rejected %d, final length %d: stream too tame", dropped, rejected, len(model))
	}
	starts := 0
	for _, e := range model {
		if e.Kind == ocppclient.KindStart || e.Kind == ocppclient.KindStop {
			starts++
		}
	}
	if starts != 400/20*2 {
		t.Fatalf("%d start/stop entries kept, want all %d", starts, 400/20*2)
	}
}

// TestQueueLoweredBound reopens a queue with a smaller bound than it holds:
// the next Enqueue drops as many as needed at once.
func TestQueueLoweredBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	db := queueOpenDB(t, path)
	seed := queueMust(t, db, ocppclient.QueueOptions{})
	var all []ocppclient.Entry
	for i, k := range []ocppclient.EntryKind{ocppclient.KindMeter, ocppclient.KindOther, ocppclient.KindMeter, ocppclient.KindStart, ocppclient.KindMeter, ocppclient.KindOther} {
		all = append(all, queueEnqueue(t, seed, queueEntry(k, i)))
	}
	q := queueMust(t, db, ocppclient.QueueOptions{MaxEntries: 3})
	all = append(all, queueEnqueue(t, q, queueEntry(ocppclient.KindStop, 6)))
	// Three meters go, then the oldest other: 7 entries down to 3.
	queueSameEntries(t, queueEntries(t, q), []ocppclient.Entry{all[3], all[5], all[6]})
	if q.Dropped() != 4 || q.Len() != 3 {
		t.Fatalf("Dropped = %d, Len = %d; want 4, 3", q.Dropped(), q.Len())
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

// BenchmarkEnqueue measures durable enqueues (one fsync'd bbolt commit each)
// into a real file, the rate at which a station can record transaction
// messages.
func BenchmarkEnqueue(b *testing.B) {
	q, _, _ := queueOpen(b, ocppclient.QueueOptions{})
	e := queueEntry(ocppclient.KindMeter, 0)
	e.Payload = json.RawMessage(`{"connectorId":1,"transactionId":12345,"meterValue":[{"timestamp":"2025-03-14T15:09:26Z","sampledValue":[{"value":"12345.6","measurand":"Energy.Active.Import.Register","unit":"Wh"},{"value":"7360","measurand":"Power.Active.Import","unit":"W"}]}]}`)
	for b.Loop() {
		if _, err := q.Enqueue(e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// queueCrashImage copies the database file as it is on disk now, as a power
// cut would leave it, and opens a queue on the copy: whatever the Queue
// holds only in memory is lost.
func queueCrashImage(t *testing.T, db *bbolt.DB, opts ocppclient.QueueOptions) *ocppclient.Queue {
	t.Helper()
	path := filepath.Join(t.TempDir(), "crash.db")
	if err := db.View(func(tx *bbolt.Tx) error { return tx.CopyFile(path, 0o600) }); err != nil {
		t.Fatalf("copy database: %v", err)
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

// TestQueueMarkDelivered walks a queue with marks taken at the head and out
// of order, across group commits (FlushAfter, Enqueue, Ack, Fail, Flush), and
// checks after every step that Head, Len and Entries skip exactly the marked
// entries, in order.
func TestQueueMarkDelivered(t *testing.T) {
	q, db, _ := queueOpen(t, ocppclient.QueueOptions{FlushAfter: 3})
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
	crashed := queueCrashImage(t, db, ocppclient.QueueOptions{})
	if crashed.Len() != 0 {
		t.Fatalf("after crash: Len = %d, want 0: %s", crashed.Len(), queueDescribe(queueEntries(t, crashed)))
	}
}

// TestQueueMarkDeliveredCrash marks part of the queue and takes the file as
// a power cut would leave it: exactly the marked entries that no group
// commit deleted come back, in order, before the rest; nothing else is lost
// or repeated. After Flush, none come back.
func TestQueueMarkDeliveredCrash(t *testing.T) {
	const flushAfter = 4
	for _, marked := range []int{0, 1, 3, 4, 5, 9, 12} {
		t.Run(fmt.Sprint(marked), func(t *testing.T) {
			q, db, _ := queueOpen(t, ocppclient.QueueOptions{FlushAfter: flushAfter})
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
			crashed := queueCrashImage(t, db, ocppclient.QueueOptions{})
			queueSameEntries(t, queueEntries(t, crashed), all[flushed:])
			if crashed.Len() != len(all)-flushed {
				t.Fatalf("after crash: Len = %d, want %d", crashed.Len(), len(all)-flushed)
			}
			if marked > flushed {
				if e := queueHead(t, crashed); e.Seq != all[flushed].Seq {
					t.Fatalf("after crash: Head = seq %d, want the oldest unflushed mark %d", e.Seq, all[flushed].Seq)
				}
			}

			if err := q.Flush(); err != nil {
				t.Fatal(err)
			}
			queueSameEntries(t, queueEntries(t, queueCrashImage(t, db, ocppclient.QueueOptions{})), all[marked:])
		})
	}
}

// TestQueueMarkStartIsDurable: a marked StartTransaction is deleted from
// disk at once, with the marks before it, since sending it again would open
// a second transaction at the CSMS.
func TestQueueMarkStartIsDurable(t *testing.T) {
	q, db, _ := queueOpen(t, ocppclient.QueueOptions{})
	meter := queueEnqueue(t, q, queueEntry(ocppclient.KindMeter, 0))
	start := queueEnqueue(t, q, queueEntry(ocppclient.KindStart, 1))
	rest := queueEnqueue(t, q, queueEntry(ocppclient.KindMeter, 2))
	queueMark(t, q, meter.Seq)
	queueSameEntries(t, queueEntries(t, queueCrashImage(t, db, ocppclient.QueueOptions{})),
		[]ocppclient.Entry{meter, start, rest})
	queueMark(t, q, start.Seq)
	queueSameEntries(t, queueEntries(t, queueCrashImage(t, db, ocppclient.QueueOptions{})),
		[]ocppclient.Entry{rest})
}

// TestQueueFailKeepsMarksDurable: Fail's transaction commits the attempt
// and the marks before it, so a crash right after loses neither.
func TestQueueFailKeepsMarksDurable(t *testing.T) {
	q, db, _ := queueOpen(t, ocppclient.QueueOptions{MaxAttempts: 2})
	a := queueEnqueue(t, q, queueEntry(ocppclient.KindMeter, 0))
	b := queueEnqueue(t, q, queueEntry(ocppclient.KindStop, 1))
	c := queueEnqueue(t, q, queueEntry(ocppclient.KindOther, 2))
	queueMark(t, q, a.Seq)
	if _, _, err := q.Fail(b.Seq); err != nil {
		t.Fatal(err)
	}
	crashed := queueCrashImage(t, db, ocppclient.QueueOptions{})
	b.Attempts = 1
	queueSameEntries(t, queueEntries(t, crashed), []ocppclient.Entry{b, c})
	if _, dead, err := q.Fail(b.Seq); err != nil || !dead {
		t.Fatalf("second Fail = %v, %v; want dead letter", dead, err)
	}
	crashed = queueCrashImage(t, db, ocppclient.QueueOptions{})
	b.Attempts = 2
	dl, err := crashed.DeadLetters()
	if err != nil {
		t.Fatal(err)
	}
	queueSameEntries(t, dl, []ocppclient.Entry{b})
	queueSameEntries(t, queueEntries(t, crashed), []ocppclient.Entry{c})
}

// TestQueueSizePolicyWithMarks runs the size policy of
// TestQueueSizePolicyLongRun while entries are marked delivered, at the
// head and further back: marked entries must neither count against the
// bound nor be dropped (nor counted as dropped), whatever the policy does,
// and a crash at the end must bring back exactly the marks no commit took,
// merged in order with what is still to send.
func TestQueueSizePolicyWithMarks(t *testing.T) {
	const bound = 12
	q, db, _ := queueOpen(t, ocppclient.QueueOptions{MaxEntries: bound, FlushAfter: 1000})
	var (
		model     []ocppclient.Entry // still to send, in order
		unflushed []ocppclient.Entry // marked since the last commit
		dropped   uint64
		rejected  int
		marked    int
		// rejections while marks waited: the rollback must keep them
		rejectedWithMarks int
		beyond            int // Stops kept past the bound
	)
	mark := func(j int) {
		if j >= len(model) {
			return
		}
		queueMark(t, q, model[j].Seq)
		unflushed = append(unflushed, model[j])
		model = slices.Delete(model, j, j+1)
		marked++
	}
	for i := range 400 {
		kind := ocppclient.KindMeter
		switch {
		case i%20 == 0:
			kind = ocppclient.KindStop // a Start would commit the marks at once
		case i%20 == 19:
			kind = ocppclient.KindStop
		case i%10 == 5:
			kind = ocppclient.KindOther
		}
		// Fewer marks than Start/Stop entries arrive, so that these pile
		// up past the bound and the rejections happen.
		if i%23 == 1 {
			mark(0)
		}
		if i%29 == 3 {
			mark(2)
		}
		e, err := q.Enqueue(queueEntry(kind, i))
		victim, reject := -1, false
		if len(model) >= bound {
			for _, k := range []ocppclient.EntryKind{ocppclient.KindMeter, ocppclient.KindOther} {
				if victim = slices.IndexFunc(model, func(m ocppclient.Entry) bool { return m.Kind == k }); victim >= 0 {
					break
				}
				if kind == k {
					reject = true
					break
				}
			}
		}
		if reject != errors.Is(err, ocppclient.ErrQueueFull) || (!reject && err != nil) {
			t.Fatalf("entry %d (kind %d): Enqueue: %v, want rejected=%v", i, kind, err, reject)
		}
		switch {
		case reject:
			rejected++
			dropped++
			if len(unflushed) > 0 {
				rejectedWithMarks++ // the rolled-back transaction kept them on disk
			}
		case victim >= 0:
			model = slices.Delete(model, victim, victim+1)
			dropped++
			fallthrough
		default:
			if len(model) >= bound {
				beyond++
			}
			model = append(model, e)
			unflushed = nil
		}
		if q.Len() != len(model) || q.Dropped() != dropped {
			t.Fatalf("after %d: Len = %d, Dropped = %d; want %d, %d", i, q.Len(), q.Dropped(), len(model), dropped)
		}
		if i%25 == 0 {
			queueSameEntries(t, queueEntries(t, q), model)
		}
	}
	mark(0)
	mark(3)
	if q.Len() != len(model) {
		t.Fatalf("Len = %d, want %d", q.Len(), len(model))
	}
	queueSameEntries(t, queueEntries(t, q), model)
	// The stream must have exercised every branch with marks pending.
	if rejectedWithMarks == 0 || dropped == uint64(rejected) || marked < 20 || beyond == 0 {
		t.Fatalf("rejected %d (%d with marks waiting), dropped %d, marked %d, kept past the bound %d: stream too tame",
			rejected, rejectedWithMarks, dropped, marked, beyond)
	}

	onDisk := slices.SortedFunc(slices.Values(append(slices.Clone(model), unflushed...)),
		func(a, b ocppclient.Entry) int { return cmp.Compare(a.Seq, b.Seq) })
	crashed := queueCrashImage(t, db, ocppclient.QueueOptions{MaxEntries: bound})
	queueSameEntries(t, queueEntries(t, crashed), onDisk)
	if err := q.Flush(); err != nil {
		t.Fatal(err)
	}
	queueSameEntries(t, queueEntries(t, queueCrashImage(t, db, ocppclient.QueueOptions{})), model)
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
