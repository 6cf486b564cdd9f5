package ocppclient_test

import (
	"cmp"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/evsed/evsed/ocppclient"
)

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

// TestQueueSizePolicyWithMarks runs the size policy of
// TestQueueSizePolicyLongRun while entries are marked delivered, at the
// head and further back: marked entries must neither count against the
// bound nor be dropped (nor counted as dropped), whatever the policy does,
// and a crash at the end must bring back exactly the marks no commit took,
// merged in order with what is still to send.
func TestQueueSizePolicyWithMarks(t *testing.T) {
	const bound = 12
	q, _, _ := queueOpen(t, ocppclient.QueueOptions{MaxEntries: bound, FlushAfter: 1000})
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
	crashed := queueCrashImage(t, q, ocppclient.QueueOptions{MaxEntries: bound})
	queueSameEntries(t, queueEntries(t, crashed), onDisk)
	if err := q.Flush(); err != nil {
		t.Fatal(err)
	}
	queueSameEntries(t, queueEntries(t, queueCrashImage(t, q, ocppclient.QueueOptions{})), model)
}
