package ocppclient_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"go.etcd.io/bbolt"
	"pgregory.net/rapid"

	"github.com/evsed/evsed/ocppclient"
)

// queueModel is what a queue must hold: the waiting entries in order, the
// dead letters, and the acknowledgements a power cut may undo.
type queueModel struct {
	waiting, dead []ocppclient.Entry
	// unsynced are the entries marked delivered since the last change that
	// made acknowledgements durable: a power cut brings them back.
	unsynced []ocppclient.Entry
	maxSeq   uint64 // the highest Seq handed out so far
}

// synced records a change that made every acknowledgement durable.
func (m *queueModel) synced() { m.unsynced = nil }

// powerCut undoes the acknowledgements that were not durable: the last
// len(m.unsynced)-durable of them, as a background sync may have covered
// the first ones.
func (m *queueModel) powerCut(durable int) {
	m.waiting = append(m.waiting, m.unsynced[durable:]...)
	slices.SortFunc(m.waiting, func(a, b ocppclient.Entry) int { return int(a.Seq) - int(b.Seq) })
	m.unsynced = nil
}

// enqueue applies the size policy to the model and reports whether e is
// rejected.
func (m *queueModel) enqueue(e ocppclient.Entry, bound int) (rejected bool, victims int) {
	for len(m.waiting)+1 > bound {
		victim := -1
		for _, k := range []ocppclient.EntryKind{ocppclient.KindMeter, ocppclient.KindOther} {
			victim = slices.IndexFunc(m.waiting, func(w ocppclient.Entry) bool { return w.Kind == k })
			if victim >= 0 {
				break
			}
			if e.Kind == k {
				return true, victims
			}
		}
		if victim < 0 {
			break
		}
		m.waiting = slices.Delete(m.waiting, victim, victim+1)
		victims++
	}
	return false, victims
}

// queueRig is a queue under test with its database, reopened across
// restarts and crashes.
type queueRig struct {
	t    *rapid.T
	dir  string
	opts ocppclient.QueueOptions
	path string // the database file in use
	db   *bbolt.DB
	q    *ocppclient.Queue
	n    int // images made so far, for fresh names
}

func (r *queueRig) open(path string) {
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		r.t.Fatalf("bbolt.Open: %v", err)
	}
	q, err := ocppclient.OpenQueue(db, r.opts)
	if err != nil {
		r.t.Fatalf("OpenQueue: %v", err)
	}
	r.path, r.db, r.q = path, db, q
}

func (r *queueRig) close() {
	if err := r.q.Close(); err != nil {
		r.t.Fatalf("Close: %v", err)
	}
	if err := r.db.Close(); err != nil {
		r.t.Fatalf("db.Close: %v", err)
	}
}

// crash replaces the queue by one opened on an image of its files.
func (r *queueRig) crash(killed bool) {
	r.n++
	path := filepath.Join(r.dir, fmt.Sprintf("image%d.db", r.n))
	if _, err := ocppclient.CrashImageForTest(r.q, path, killed); err != nil {
		r.t.Fatalf("crash image: %v", err)
	}
	r.close()
	r.open(path)
}

// durableMarks returns how many of m.unsynced, oldest first, the queue
// holds as acknowledged: the rest came back. Which ones the syncs covered
// is the queue's to say, within the rule that they are the oldest.
func (r *queueRig) durableMarks(m *queueModel) int {
	got, err := r.q.Entries()
	if err != nil {
		r.t.Fatalf("Entries: %v", err)
	}
	for durable := range len(m.unsynced) + 1 {
		want := append(slices.Clone(m.waiting), m.unsynced[durable:]...)
		slices.SortFunc(want, func(a, b ocppclient.Entry) int { return int(a.Seq) - int(b.Seq) })
		if slices.EqualFunc(got, want, sameEntry) {
			return durable
		}
	}
	r.t.Fatalf("after the crash\ngot  %s\nwant %s plus a suffix of the unsynced marks %s",
		queueDescribe(got), queueDescribe(m.waiting), queueDescribe(m.unsynced))
	return 0
}

// check compares the queue with the model.
func (r *queueRig) check(m *queueModel, step string) {
	if r.q.Len() != len(m.waiting) {
		r.t.Fatalf("%s: Len = %d, want %d", step, r.q.Len(), len(m.waiting))
	}
	h, ok, err := r.q.Head()
	switch {
	case err != nil:
		r.t.Fatalf("%s: Head: %v", step, err)
	case ok != (len(m.waiting) > 0):
		r.t.Fatalf("%s: Head ok = %v with %d waiting", step, ok, len(m.waiting))
	case ok && !sameEntry(h, m.waiting[0]):
		r.t.Fatalf("%s: Head = %+v, want %+v", step, h, m.waiting[0])
	}
	got, err := r.q.Entries()
	if err != nil {
		r.t.Fatalf("%s: Entries: %v", step, err)
	}
	if !slices.EqualFunc(got, m.waiting, sameEntry) {
		r.t.Fatalf("%s: Entries\ngot  %s\nwant %s", step, queueDescribe(got), queueDescribe(m.waiting))
	}
	dead, err := r.q.DeadLetters()
	if err != nil {
		r.t.Fatalf("%s: DeadLetters: %v", step, err)
	}
	if !slices.EqualFunc(dead, m.dead, sameEntry) {
		r.t.Fatalf("%s: DeadLetters\ngot  %s\nwant %s", step, queueDescribe(dead), queueDescribe(m.dead))
	}
}

func sameEntry(g, w ocppclient.Entry) bool {
	return g.Seq == w.Seq && g.Kind == w.Kind && g.Action == w.Action && g.Key == w.Key &&
		g.Attempts == w.Attempts && bytes.Equal(g.Payload, w.Payload) && g.EnqueuedAt.Equal(w.EnqueuedAt)
}

// TestQueueProperties runs random sequences of every operation, restarts,
// kill -9 and power cuts against a model, with and without the log, with
// a log small enough to fold often and entries large enough to bypass it:
// after every step the queue holds exactly the model's entries in order,
// nothing durable is lost, an acknowledgement comes back only after a
// power cut and only if it was not yet durable, and no Seq is handed out
// twice.
func TestQueueProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		opts := ocppclient.QueueOptions{
			NoLog:       rapid.Bool().Draw(rt, "noLog"),
			LogSize:     rapid.SampledFrom([]int{8 << 10, 16 << 10}).Draw(rt, "logSize"),
			FlushAfter:  rapid.SampledFrom([]int{1, 3}).Draw(rt, "flushAfter"),
			MaxEntries:  rapid.SampledFrom([]int{6, 40}).Draw(rt, "maxEntries"),
			MaxAttempts: 2,
		}
		r := &queueRig{t: rt, dir: t.TempDir(), opts: opts}
		r.open(filepath.Join(r.dir, "queue.db"))
		defer func() { r.close() }()
		m := &queueModel{}
		n := 0
		steps := rapid.IntRange(1, 120).Draw(rt, "steps")
		for step := range steps {
			op := rapid.SampledFrom([]string{"enqueue", "enqueue", "enqueue", "enqueue", "mark", "mark", "mark",
				"ack", "fail", "flush", "restart", "kill", "power cut"}).Draw(rt, "op")
			name := fmt.Sprintf("step %d %s", step, op)
			switch op {
			case "enqueue":
				kind := ocppclient.EntryKind(rapid.IntRange(0, 3).Draw(rt, "kind"))
				size := rapid.SampledFrom([]int{1, 40, 300, 3000}).Draw(rt, "size")
				e := queueEntry(kind, n)
				e.Payload = json.RawMessage(fmt.Sprintf(`{"n":%d,"pad":%q}`, n, bytes.Repeat([]byte("x"), size)))
				n++
				rejected, _ := m.enqueue(e, opts.MaxEntries)
				got, err := r.q.Enqueue(e)
				if rejected {
					if !errors.Is(err, ocppclient.ErrQueueFull) {
						rt.Fatalf("%s: Enqueue = %v, want ErrQueueFull", name, err)
					}
					break
				}
				if err != nil {
					rt.Fatalf("%s: Enqueue: %v", name, err)
				}
				if got.Seq <= m.maxSeq {
					rt.Fatalf("%s: Seq %d after %d was handed out", name, got.Seq, m.maxSeq)
				}
				m.maxSeq = got.Seq
				m.waiting = append(m.waiting, got)
				m.synced()
			case "mark", "ack", "fail":
				if len(m.waiting) == 0 {
					continue
				}
				head := m.waiting[0]
				switch op {
				case "mark":
					if err := r.q.MarkDelivered(head.Seq); err != nil {
						rt.Fatalf("%s: %v", name, err)
					}
					m.waiting = m.waiting[1:]
					m.unsynced = append(m.unsynced, head)
					// Durable on return; otherwise a later, perhaps
					// background, sync makes it so (see powerCut).
					if opts.FlushAfter == 1 || head.Kind == ocppclient.KindStart {
						m.synced()
					}
				case "ack":
					if err := r.q.Ack(head.Seq); err != nil {
						rt.Fatalf("%s: %v", name, err)
					}
					m.waiting = m.waiting[1:]
					m.synced()
				case "fail":
					_, dead, err := r.q.Fail(head.Seq)
					if err != nil {
						rt.Fatalf("%s: %v", name, err)
					}
					head.Attempts++
					if dead != (head.Attempts >= opts.MaxAttempts) {
						rt.Fatalf("%s: dead-lettered = %v at attempt %d", name, dead, head.Attempts)
					}
					if dead {
						m.waiting = m.waiting[1:]
						m.dead = append(m.dead, head)
					} else {
						m.waiting[0] = head
					}
					m.synced()
				}
			case "flush":
				if err := r.q.Flush(); err != nil {
					rt.Fatalf("%s: %v", name, err)
				}
				m.synced()
			case "restart":
				r.close()
				r.open(r.path)
				m.synced()
			case "kill":
				r.crash(true)
				if opts.NoLog {
					// The marks were in memory only.
					m.powerCut(r.durableMarks(m))
				} else {
					m.synced()
				}
			case "power cut":
				r.crash(false)
				m.powerCut(r.durableMarks(m))
			}
			r.check(m, name)
		}
	})
}

// TestQueueLogTornTail cuts the log short at every kind of place after its
// last durable record (as a power cut during the write of the next one
// would) and fills the rest with zeros or garbage: the queue opens with
// exactly the durable entries, and entries enqueued after that survive a
// second crash, so that nothing of the torn generation comes back.
func TestQueueLogTornTail(t *testing.T) {
	for _, fill := range []byte{0, 0xa5} {
		for _, cut := range []string{"before", "in header", "in body", "last byte missing", "complete"} {
			t.Run(fmt.Sprintf("%s/fill %#x", cut, fill), func(t *testing.T) {
				q, _, _ := queueOpen(t, ocppclient.QueueOptions{})
				var want []ocppclient.Entry
				for i := range 3 {
					want = append(want, queueEnqueue(t, q, queueEntry(ocppclient.KindMeter, i)))
				}
				before := ocppclient.LogSyncedForTest(q)
				last := queueEnqueue(t, q, queueEntry(ocppclient.KindStop, 3))
				after := ocppclient.LogSyncedForTest(q)
				at := map[string]int64{"before": before, "in header": before + 5, "in body": before + 30,
					"last byte missing": after - 1, "complete": after}[cut]
				if cut == "complete" {
					want = append(want, last)
				}
				path := filepath.Join(t.TempDir(), "torn.db")
				logPath, err := ocppclient.CrashImageForTest(q, path, true)
				if err != nil {
					t.Fatal(err)
				}
				data, err := os.ReadFile(logPath)
				if err != nil {
					t.Fatal(err)
				}
				for i := at; i < int64(len(data)); i++ {
					data[i] = fill
				}
				if err := os.WriteFile(logPath, data, 0o600); err != nil {
					t.Fatal(err)
				}
				db := queueOpenDB(t, path)
				torn := queueMust(t, db, ocppclient.QueueOptions{})
				queueSameEntries(t, queueEntries(t, torn), want)
				want = append(want, queueEnqueue(t, torn, queueEntry(ocppclient.KindOther, 4)))
				again := queueImage(t, torn, ocppclient.QueueOptions{}, false)
				queueSameEntries(t, queueEntries(t, again), want)
			})
		}
	}
}

// TestQueueKillKeepsAcks: with the log, acknowledgements are written at
// once, so a kill -9 brings none back, while a power cut brings back those
// not yet synced (FlushAfter 64: all of them here).
func TestQueueKillKeepsAcks(t *testing.T) {
	q, _, _ := queueOpen(t, ocppclient.QueueOptions{})
	var all []ocppclient.Entry
	for i := range 5 {
		all = append(all, queueEnqueue(t, q, queueEntry(ocppclient.KindMeter, i)))
	}
	for _, e := range all[:3] {
		queueMark(t, q, e.Seq)
	}
	queueSameEntries(t, queueEntries(t, queueImage(t, q, ocppclient.QueueOptions{}, true)), all[3:])
	queueSameEntries(t, queueEntries(t, queueImage(t, q, ocppclient.QueueOptions{}, false)), all)
}

// TestQueueGroupCommit enqueues from many goroutines at once: every entry
// is durable when its Enqueue returns, none is lost or numbered twice. Run
// with -race.
func TestQueueGroupCommit(t *testing.T) {
	const writers, each = 8, 40
	q, _, _ := queueOpen(t, ocppclient.QueueOptions{LogSize: 16 << 10})
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seqs = map[uint64]bool{}
	)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e, err := q.Enqueue(queueEntry(ocppclient.KindMeter, w*each+i))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seqs[e.Seq] {
					t.Errorf("seq %d handed out twice", e.Seq)
				}
				seqs[e.Seq] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	crashed := queueCrashImage(t, q, ocppclient.QueueOptions{})
	es := queueEntries(t, crashed)
	if len(es) != writers*each || crashed.Len() != writers*each {
		t.Fatalf("after a power cut %d entries (Len %d), want %d", len(es), crashed.Len(), writers*each)
	}
	for i, e := range es {
		if !seqs[e.Seq] || (i > 0 && e.Seq <= es[i-1].Seq) {
			t.Fatalf("entry %d: seq %d out of order or never returned", i, e.Seq)
		}
	}
}

// TestQueueLogUpgrade opens with the log a queue that was kept in bbolt
// alone: its entries come first, in order, then the new ones.
func TestQueueLogUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	db := queueOpenDB(t, path)
	old := queueMust(t, db, ocppclient.QueueOptions{NoLog: true})
	var want []ocppclient.Entry
	for i := range 4 {
		want = append(want, queueEnqueue(t, old, queueEntry(ocppclient.EntryKind(i%4), i)))
	}
	queueMark(t, old, want[0].Seq) // committed by Close
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	want = want[1:]
	if _, err := os.Stat(path + ".queue.log"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a queue without log made %s: %v", path+".queue.log", err)
	}
	q := queueMust(t, db, ocppclient.QueueOptions{})
	want = append(want, queueEnqueue(t, q, queueEntry(ocppclient.KindMeter, 9)))
	queueSameEntries(t, queueEntries(t, q), want)
	queueSameEntries(t, queueEntries(t, queueCrashImage(t, q, ocppclient.QueueOptions{})), want)
	if _, err := os.Stat(path + ".queue.log"); err != nil {
		t.Fatalf("no log beside the database: %v", err)
	}
}

// TestQueueNoSyncHasNoLog: a database that does not sync keeps the whole
// queue, as nothing would be gained by a log.
func TestQueueNoSyncHasNoLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	q := queueMust(t, db, ocppclient.QueueOptions{})
	e := queueEnqueue(t, q, queueEntry(ocppclient.KindMeter, 0))
	queueSameEntries(t, queueEntries(t, q), []ocppclient.Entry{e})
	if _, err := os.Stat(path + ".queue.log"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("log beside a NoSync database: %v", err)
	}
}

// TestQueueClosed: after Close the queue refuses work, and closing twice
// is harmless.
func TestQueueClosed(t *testing.T) {
	q, _, _ := queueOpen(t, ocppclient.QueueOptions{})
	e := queueEnqueue(t, q, queueEntry(ocppclient.KindMeter, 0))
	for range 2 {
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
	}
	calls := []struct {
		name string
		err  error
	}{
		{"Enqueue", func() error { _, err := q.Enqueue(queueEntry(ocppclient.KindMeter, 1)); return err }()},
		{"Head", func() error { _, _, err := q.Head(); return err }()},
		{"MarkDelivered", q.MarkDelivered(e.Seq)},
		{"Ack", q.Ack(e.Seq)},
		{"Fail", func() error { _, _, err := q.Fail(e.Seq); return err }()},
	}
	for _, c := range calls {
		if !errors.Is(c.err, ocppclient.ErrQueueClosed) {
			t.Errorf("%s after Close: %v, want ErrQueueClosed", c.name, c.err)
		}
	}
}

// TestQueueLogLeftBehind covers a log file the database does not expect:
// one left by a run with the log, opened now without (its entries are
// folded into bbolt, not lost), and one that belonged to a database since
// deleted and made anew (none of its entries appear).
func TestQueueLogLeftBehind(t *testing.T) {
	t.Run("opened without the log", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "queue.db")
		db := queueOpenDB(t, path)
		q := queueMust(t, db, ocppclient.QueueOptions{})
		want := []ocppclient.Entry{queueEnqueue(t, q, queueEntry(ocppclient.KindStart, 0)),
			queueEnqueue(t, q, queueEntry(ocppclient.KindMeter, 1))}
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		plain := queueMust(t, db, ocppclient.QueueOptions{NoLog: true})
		queueSameEntries(t, queueEntries(t, plain), want)
	})
	t.Run("database made anew", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "queue.db")
		db := queueOpenDB(t, path)
		q := queueMust(t, db, ocppclient.QueueOptions{})
		queueEnqueue(t, q, queueEntry(ocppclient.KindStart, 0))
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		fresh := queueMust(t, queueOpenDB(t, path), ocppclient.QueueOptions{})
		if es := queueEntries(t, fresh); len(es) != 0 {
			t.Fatalf("a new database shows %s from the old one's log", queueDescribe(es))
		}
	})
}
