package ocppclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"go.etcd.io/bbolt"
)

// drainQueue opens a real queue in a bbolt file under t.TempDir. Its
// cleanup is registered first, so the database closes after the client
// (registered later) has stopped.
func drainQueue(t *testing.T, clk clock.Clock, opts QueueOptions) *Queue {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "queue.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	opts.Clock = clk
	q, err := OpenQueue(db, opts)
	if err != nil {
		t.Fatalf("OpenQueue: %v", err)
	}
	return q
}

func drainEnqueue(t *testing.T, q *Queue, kind EntryKind, action, payload string) Entry {
	t.Helper()
	e, err := q.Enqueue(Entry{Kind: kind, Action: action, Payload: json.RawMessage(payload), Key: "s1"})
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	return e
}

// txHooks plays the adapter: it records the transactionId of a delivered
// StartTransaction and patches it into later entries of the session.
type txHooks struct {
	mu             sync.Mutex // guards the fields below
	txID           int
	delivered      []string // actions, in delivery order
	abandoned      []string
	abandonedCodes []ErrorCode // "" where the final attempt timed out
	failDelivered  int         // Delivered fails this many more times
}

func (h *txHooks) Prepare(e Entry) (json.RawMessage, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return json.RawMessage(strings.ReplaceAll(string(e.Payload), `"transactionId":0`,
		fmt.Sprintf(`"transactionId":%d`, h.txID))), nil
}

func (h *txHooks) Delivered(e Entry, resp json.RawMessage) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failDelivered > 0 {
		h.failDelivered--
		return errors.New("could not record")
	}
	var r struct{ TransactionID int }
	if err := json.Unmarshal(resp, &r); err != nil {
		return err
	}
	if r.TransactionID != 0 {
		h.txID = r.TransactionID
	}
	h.delivered = append(h.delivered, e.Action)
	return nil
}

func (h *txHooks) Abandoned(e Entry, last *CallError) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.abandoned = append(h.abandoned, e.Action)
	code := ErrorCode("") // the final attempt timed out
	if last != nil {
		code = last.Code
	}
	h.abandonedCodes = append(h.abandonedCodes, code)
}

func (h *txHooks) snapshot() (delivered, abandoned []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.delivered...), append([]string(nil), h.abandoned...)
}

// drainSetup starts a client with a queue filled by fill, and returns the
// server side of the first registered connection.
func drainSetup(t *testing.T, qopts QueueOptions, fill func(q *Queue)) (*Client, *clock.Fake, *fakeCSMS, *csmsConn, *Queue, *txHooks) {
	t.Helper()
	f := newFakeCSMS(t).start()
	opts, clk := testOptions(t, f)
	q := drainQueue(t, clk, qopts)
	fill(q)
	hooks := &txHooks{}
	opts.Queue, opts.Hooks = q, hooks
	c := runClient(t, opts)
	sc := f.accept()
	waitFor(t, "registered", c.Registered)
	return c, clk, f, sc, q, hooks
}

func TestDrainInOrder(t *testing.T) {
	c, _, _, sc, q, hooks := drainSetup(t, QueueOptions{}, func(q *Queue) {
		drainEnqueue(t, q, KindStart, "StartTransaction", `{"connectorId":1,"idTag":"T1"}`)
		drainEnqueue(t, q, KindMeter, "MeterValues", `{"connectorId":1,"transactionId":0}`)
		drainEnqueue(t, q, KindStop, "StopTransaction", `{"transactionId":0,"meterStop":42}`)
	})
	if got := c.Status().Queued; got != 3 {
		t.Fatalf("Status().Queued = %d before any answer", got)
	}
	steps := []struct{ action, wantPayload, answer string }{
		{"StartTransaction", `{"connectorId":1,"idTag":"T1"}`, `{"transactionId":77,"idTagInfo":{"status":"Accepted"}}`},
		{"MeterValues", `{"connectorId":1,"transactionId":77}`, `{}`},
		{"StopTransaction", `{"transactionId":77,"meterStop":42}`, `{}`},
	}
	for _, s := range steps {
		f := sc.nextCall(s.action)
		if string(f.Payload) != s.wantPayload {
			t.Fatalf("%s payload %s, want %s", s.action, f.Payload, s.wantPayload)
		}
		sc.assertQuiet("next entry before " + s.action + " was answered")
		sc.result(f.ID, s.answer)
	}
	waitFor(t, "queue empty", func() bool { return q.Len() == 0 })
	delivered, _ := hooks.snapshot()
	if strings.Join(delivered, ",") != "StartTransaction,MeterValues,StopTransaction" {
		t.Fatalf("delivered %v", delivered)
	}

	// An entry enqueued later wakes the drain.
	drainEnqueue(t, q, KindOther, "DataTransfer", `{"vendorId":"x"}`)
	f := sc.nextCall("DataTransfer")
	sc.result(f.ID, `{"status":"Accepted"}`)
	waitFor(t, "queue empty", func() bool { return q.Len() == 0 && c.Status().Queued == 0 })
}

func TestDrainCallErrorRetryThenAbandon(t *testing.T) {
	const retry = 10 * time.Second
	_, clk, _, sc, q, hooks := drainSetup(t, QueueOptions{MaxAttempts: 2, RetryInterval: retry}, func(q *Queue) {
		drainEnqueue(t, q, KindMeter, "MeterValues", `{"connectorId":1}`)
		drainEnqueue(t, q, KindStop, "StopTransaction", `{"transactionId":5}`)
	})
	f := sc.nextCall("MeterValues")
	sc.send(`[4,"` + f.ID + `","PropertyConstraintViolation","bad",{}]`)

	// The head waits RetryInterval and nothing overtakes it.
	sc.assertQuiet("resend or next entry before the retry interval")
	advanceUntil(t, clk, time.Second, "the resend", func() bool { return len(sc.in) > 0 })
	if now := clk.Now(); now.Sub(testT0) < retry {
		t.Fatalf("resent after %v, want >= %v", now.Sub(testT0), retry)
	}
	g := sc.nextCall("MeterValues")
	if g.ID == f.ID {
		t.Fatal("resend reused the message id")
	}
	sc.send(`[4,"` + g.ID + `","PropertyConstraintViolation","still bad",{}]`)

	// Second CALLERROR: dead-lettered, and the queue moves on at once.
	h := sc.nextCall("StopTransaction")
	sc.result(h.ID, `{}`)
	waitFor(t, "queue empty", func() bool { return q.Len() == 0 })
	delivered, abandoned := hooks.snapshot()
	if strings.Join(abandoned, ",") != "MeterValues" || strings.Join(delivered, ",") != "StopTransaction" {
		t.Fatalf("abandoned %v delivered %v", abandoned, delivered)
	}
	hooks.mu.Lock()
	code := hooks.abandonedCodes[0]
	hooks.mu.Unlock()
	if code != PropertyConstraintViolation {
		t.Fatalf("Abandoned with %s", code)
	}
	dead, err := q.DeadLetters()
	if err != nil || len(dead) != 1 || dead[0].Action != "MeterValues" {
		t.Fatalf("DeadLetters %v %v", dead, err)
	}
}

// A message outside the transaction ones that the CSMS does not
// implement (a 1.6 CSMS without the security extension, answering a
// SecurityEventNotification NotSupported) is dropped at once, without the
// retry pause that would hold back the transaction messages behind it and
// without a dead letter; a transaction message answered so is retried as
// any refusal is.
func TestDrainNotSupportedOtherAbandonedAtOnce(t *testing.T) {
	const retry = time.Hour
	_, clk, _, sc, q, hooks := drainSetup(t, QueueOptions{MaxAttempts: 5, RetryInterval: retry}, func(q *Queue) {
		drainEnqueue(t, q, KindOther, "SecurityEventNotification", `{"type":"ResetOrReboot"}`)
		drainEnqueue(t, q, KindStop, "StopTransaction", `{"transactionId":5}`)
	})
	f := sc.nextCall("SecurityEventNotification")
	sc.send(`[4,"` + f.ID + `","NotSupported","unsupported action",{}]`)
	g := sc.nextCall("StopTransaction") // no clock advance: at once
	sc.send(`[4,"` + g.ID + `","NotImplemented","",{}]`)
	sc.assertQuiet("a transaction message resent before its retry interval")
	advanceUntil(t, clk, time.Minute, "the resend", func() bool { return len(sc.in) > 0 })
	h := sc.nextCall("StopTransaction")
	sc.result(h.ID, `{}`)
	waitFor(t, "queue empty", func() bool { return q.Len() == 0 })
	delivered, abandoned := hooks.snapshot()
	if len(abandoned) != 0 || strings.Join(delivered, ",") != "StopTransaction" {
		t.Fatalf("abandoned %v delivered %v", abandoned, delivered)
	}
	dead, err := q.DeadLetters()
	if err != nil || len(dead) != 0 {
		t.Fatalf("DeadLetters %v %v, want none", dead, err)
	}
}

func TestDrainResendAfterConnectionLoss(t *testing.T) {
	c, clk, fcsms, sc, q, hooks := drainSetup(t, QueueOptions{}, func(q *Queue) {
		drainEnqueue(t, q, KindStart, "StartTransaction", `{"connectorId":1,"idTag":"T1"}`)
	})
	f := sc.nextCall("StartTransaction")
	_ = sc.ws.Close() // the CSMS vanishes before answering
	waitFor(t, "disconnect", func() bool { return !c.Connected() })
	if q.Len() != 1 {
		t.Fatalf("queue length %d after loss, want the entry kept", q.Len())
	}
	advanceUntil(t, clk, time.Second, "reconnect", func() bool { n, _ := fcsms.stats(); return n == 2 })
	sc2 := fcsms.accept()
	g := sc2.nextCall("StartTransaction")
	if string(g.Payload) != string(f.Payload) {
		t.Fatalf("resent %s, want %s", g.Payload, f.Payload)
	}
	sc2.result(g.ID, `{"transactionId":9,"idTagInfo":{"status":"Accepted"}}`)
	waitFor(t, "queue empty", func() bool { return q.Len() == 0 })
	if delivered, _ := hooks.snapshot(); len(delivered) != 1 {
		t.Fatalf("delivered %v, want once", delivered)
	}
}

func TestDrainTimeoutAndHookFailureResend(t *testing.T) {
	_, clk, _, sc, q, hooks := drainSetup(t, QueueOptions{}, func(q *Queue) {
		drainEnqueue(t, q, KindStart, "StartTransaction", `{"connectorId":1,"idTag":"T1"}`)
	})
	hooks.mu.Lock()
	hooks.failDelivered = 1
	hooks.mu.Unlock()

	f := sc.nextCall("StartTransaction")
	clk.Advance(30 * time.Second) // no answer: a timeout, the first failed attempt
	advanceUntil(t, clk, time.Second, "resend a RetryInterval after the timeout", func() bool { return len(sc.in) > 0 })
	g := sc.nextCall("StartTransaction")
	sc.result(f.ID, `{"transactionId":1}`) // the late answer to the first attempt is dropped
	sc.result(g.ID, `{"transactionId":2}`) // Delivered fails once: sent again
	advanceUntil(t, clk, time.Second, "resend after hook failure", func() bool { return len(sc.in) > 0 })
	h := sc.nextCall("StartTransaction")
	sc.result(h.ID, `{"transactionId":3}`)
	waitFor(t, "queue empty", func() bool { return q.Len() == 0 })
	hooks.mu.Lock()
	defer hooks.mu.Unlock()
	if len(hooks.delivered) != 1 || hooks.txID != 3 {
		t.Fatalf("delivered %v txID %d, want one delivery with id 3", hooks.delivered, hooks.txID)
	}
}

func TestDrainLetsCallsThrough(t *testing.T) {
	c, _, _, sc, q, _ := drainSetup(t, QueueOptions{}, func(q *Queue) {
		drainEnqueue(t, q, KindMeter, "MeterValues", `{"connectorId":1,"n":1}`)
		drainEnqueue(t, q, KindMeter, "MeterValues", `{"connectorId":1,"n":2}`)
	})
	first := sc.nextCall("MeterValues")
	hb := callAsync(c, "Heartbeat", nil, nil)
	waitFor(t, "Heartbeat queued behind the entry", func() bool { return c.waiting.Load() == 1 })
	sc.result(first.ID, `{}`)
	h := sc.nextCall("Heartbeat")
	sc.assertQuiet("second entry while the Heartbeat is in flight")
	sc.result(h.ID, `{"currentTime":"2025-06-01T12:00:00Z"}`)
	if err := waitErr(t, hb); err != nil {
		t.Fatal(err)
	}
	second := sc.nextCall("MeterValues")
	if string(second.Payload) != `{"connectorId":1,"n":2}` {
		t.Fatalf("second entry %s", second.Payload)
	}
	sc.result(second.ID, `{}`)
	waitFor(t, "queue empty", func() bool { return q.Len() == 0 })
}

// drainOnDisk returns the Seqs of the entries a power cut now would leave
// in q (bbolt's last commit and the synced part of the log), entries whose
// acknowledgement is not yet durable included.
func drainOnDisk(t *testing.T, q *Queue) []uint64 { return drainImage(t, q, false) }

// drainInImage returns the Seqs of the entries that a kill -9 now would
// leave in q: everything written, synced or not.
func drainInImage(t *testing.T, q *Queue) []uint64 { return drainImage(t, q, true) }

func drainImage(t *testing.T, q *Queue, killed bool) []uint64 {
	t.Helper()
	path := filepath.Join(t.TempDir(), "image.db")
	if _, err := CrashImageForTest(q, path, killed); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	image, err := OpenQueue(db, QueueOptions{Bucket: string(q.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	defer image.Close()
	return image.seqs(t)
}

// seqs returns the Seqs of q's entries.
func (q *Queue) seqs(t *testing.T) []uint64 {
	t.Helper()
	es, err := q.Entries()
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, e := range es {
		seqs = append(seqs, e.Seq)
	}
	return seqs
}

// TestDrainGroupCommit checks that answered entries are marked, not each
// made durable, while more are to be sent. Without the log they leave the
// disk together once the queue is idle. With it their acknowledgements are
// written at once, so that a kill -9 brings none back, and become durable
// against a power cut with the next change's sync, not on their own.
func TestDrainGroupCommit(t *testing.T) {
	for _, noLog := range []bool{true, false} {
		t.Run(map[bool]string{true: "bbolt", false: "log"}[noLog], func(t *testing.T) {
			_, _, _, sc, q, hooks := drainSetup(t, QueueOptions{NoLog: noLog}, func(q *Queue) {
				for i := range 3 {
					drainEnqueue(t, q, KindMeter, "MeterValues", fmt.Sprintf(`{"connectorId":1,"n":%d}`, i))
				}
			})
			for range 2 {
				f := sc.nextCall("MeterValues")
				sc.result(f.ID, `{}`)
			}
			last := sc.nextCall("MeterValues")
			if string(last.Payload) != `{"connectorId":1,"n":2}` {
				t.Fatalf("third entry %s", last.Payload)
			}
			// The drain marked the first two and went on to the third
			// without a sync: all three are still on disk, one is waiting.
			if got := drainOnDisk(t, q); len(got) != 3 || q.Len() != 1 {
				t.Fatalf("on disk %v, Len %d while the third is in flight; want all 3 on disk, Len 1", got, q.Len())
			}
			sc.result(last.ID, `{}`)
			if noLog {
				waitFor(t, "the idle drain's group commit", func() bool { return len(drainOnDisk(t, q)) == 0 })
			} else {
				waitFor(t, "the third acknowledgement", func() bool { return q.Len() == 0 })
				waitFor(t, "the acknowledgements written", func() bool { return len(drainInImage(t, q)) == 0 })
				if got := drainOnDisk(t, q); len(got) != 3 {
					t.Fatalf("after a power cut %v; want the 3 unsynced acknowledgements undone", got)
				}
				next := drainEnqueue(t, q, KindMeter, "MeterValues", `{"connectorId":1,"n":3}`)
				if got := drainOnDisk(t, q); len(got) > 1 || (len(got) == 1 && got[0] != next.Seq) {
					t.Fatalf("after the next Enqueue a power cut leaves %v; want at most seq %d", got, next.Seq)
				}
				sc.result(sc.nextCall("MeterValues").ID, `{}`)
			}
			if q.Len() != 0 {
				waitFor(t, "queue empty", func() bool { return q.Len() == 0 })
			}
			if delivered, _ := hooks.snapshot(); len(delivered) < 3 {
				t.Fatalf("delivered %v, want 3 or more", delivered)
			}
		})
	}
}

// TestDrainCommitsMarksWhenStopping loses the connection with an entry in
// flight: the entries answered before it leave the disk when the drain
// stops, the unanswered one stays.
func TestDrainCommitsMarksWhenStopping(t *testing.T) {
	var all []Entry
	c, _, _, sc, q, _ := drainSetup(t, QueueOptions{}, func(q *Queue) {
		for i := range 3 {
			all = append(all, drainEnqueue(t, q, KindMeter, "MeterValues", fmt.Sprintf(`{"connectorId":1,"n":%d}`, i)))
		}
	})
	for range 2 {
		f := sc.nextCall("MeterValues")
		sc.result(f.ID, `{}`)
	}
	sc.nextCall("MeterValues")
	if got := drainOnDisk(t, q); len(got) != 3 {
		t.Fatalf("on disk %v while the third is in flight; want all 3", got)
	}
	_ = sc.ws.Close()
	waitFor(t, "disconnect", func() bool { return !c.Connected() })
	waitFor(t, "the stopping drain's group commit", func() bool { return len(drainOnDisk(t, q)) == 1 })
	if got := drainOnDisk(t, q); got[0] != all[2].Seq || q.Len() != 1 {
		t.Fatalf("on disk %v, Len %d; want only seq %d, Len 1", got, q.Len(), all[2].Seq)
	}
}

// TestDrainRetrySchedule plays a CSMS that refuses, ignores or drops the
// CALLs of the head entry, in virtual time: after the n-th failed attempt
// (a CALLERROR or a timeout, on one count) the entry goes out again exactly
// n * RetryInterval later and not before; the MaxAttempts-th moves it to
// the dead-letter bucket (kept, Abandoned told) and the next entry goes out
// at once; a connection lost with the CALL in flight is no attempt: the
// entry goes out again on the next connection, its count unchanged.
func TestDrainRetrySchedule(t *testing.T) {
	const (
		refuse = "CALLERROR"
		ignore = "no answer"
		drop   = "connection lost"
		// Sentinels for step.then.
		deadLettered time.Duration = -1 // the next entry goes out at once
		reconnected  time.Duration = -2 // resent on the next connection
	)
	type step struct {
		do   string        // what the CSMS does with the CALL in flight
		then time.Duration // virtual wait before the entry is sent again
	}
	tests := []struct {
		name     string
		attempts int // MaxAttempts
		interval time.Duration
		steps    []step
	}{
		{"timeouts back off and dead-letter", 3, 10 * time.Second, []step{
			{ignore, 10 * time.Second}, {ignore, 20 * time.Second}, {ignore, deadLettered}}},
		{"one attempt", 1, 10 * time.Second, []step{{ignore, deadLettered}}},
		{"CALLERRORs and timeouts count together", 4, 10 * time.Second, []step{
			{refuse, 10 * time.Second}, {ignore, 20 * time.Second}, {refuse, 30 * time.Second}, {ignore, deadLettered}}},
		{"connection loss is no attempt", 3, 10 * time.Second, []step{
			{ignore, 10 * time.Second}, {drop, reconnected}, {drop, reconnected},
			{refuse, 20 * time.Second}, {refuse, deadLettered}}},
		// The csmserror drill's keys: TransactionMessageAttempts 100,
		// TransactionMessageRetryInterval 1 s.
		{"drill policy", 100, time.Second, []step{
			{refuse, time.Second}, {refuse, 2 * time.Second}, {ignore, 3 * time.Second},
			{ignore, 4 * time.Second}, {refuse, 5 * time.Second}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var head Entry
			c, clk, fcsms, sc, q, hooks := drainSetup(t, QueueOptions{MaxAttempts: tc.attempts, RetryInterval: tc.interval},
				func(q *Queue) {
					head = drainEnqueue(t, q, KindMeter, "MeterValues", `{"connectorId":1}`)
					drainEnqueue(t, q, KindStop, "StopTransaction", `{"transactionId":5}`)
				})
			attempts := func() int {
				e, ok, err := q.Head()
				if err != nil || !ok || e.Seq != head.Seq {
					return -1
				}
				return e.Attempts
			}
			f := sc.nextCall("MeterValues")
			failed := 0
			for i, s := range tc.steps {
				switch s.do {
				case refuse:
					sc.send(`[4,"` + f.ID + `","PropertyConstraintViolation","bad",{}]`)
				case ignore:
					clk.Advance(30 * time.Second) // the call timeout
				case drop:
					_ = sc.ws.Close()
					waitFor(t, "disconnect", func() bool { return !c.Connected() })
					n, _ := fcsms.stats()
					advanceUntil(t, clk, time.Second, "reconnect", func() bool { m, _ := fcsms.stats(); return m > n })
					sc = fcsms.accept()
				}
				if s.do != drop {
					failed++
				}
				switch s.then {
				case reconnected:
					f = sc.nextCall("MeterValues")
					if got := attempts(); got != failed {
						t.Fatalf("step %d: attempts %d after the connection loss, want %d", i, got, failed)
					}
				case deadLettered:
					waitFor(t, "Abandoned", func() bool { _, ab := hooks.snapshot(); return len(ab) == 1 })
					before := clk.Now()
					g := sc.nextCall("StopTransaction")
					if clk.Now() != before {
						t.Fatalf("step %d: the next entry waited", i)
					}
					sc.result(g.ID, `{}`)
				default:
					// Fail has committed the count, then the drain arms
					// its pause: the only timer left.
					waitFor(t, fmt.Sprintf("attempt %d counted", failed), func() bool { return attempts() == failed })
					waitFor(t, "the retry pause", func() bool { return clk.Pending() == 1 })
					clk.Advance(s.then - time.Millisecond)
					sc.assertQuiet(fmt.Sprintf("step %d: resent before %v", i, s.then))
					clk.Advance(time.Millisecond)
					f = sc.nextCall("MeterValues")
				}
			}

			dead, err := q.DeadLetters()
			if err != nil {
				t.Fatal(err)
			}
			_, abandoned := hooks.snapshot()
			if tc.steps[len(tc.steps)-1].then != deadLettered {
				if len(dead) != 0 || len(abandoned) != 0 || attempts() != failed {
					t.Fatalf("dead letters %v, abandoned %v, attempts %d; want none, none, %d", dead, abandoned, attempts(), failed)
				}
				return
			}
			if len(dead) != 1 || dead[0].Seq != head.Seq || dead[0].Attempts != tc.attempts {
				t.Fatalf("dead letters %+v, want seq %d with %d attempts", dead, head.Seq, tc.attempts)
			}
			wantCode := ErrorCode("")
			if tc.steps[len(tc.steps)-1].do == refuse {
				wantCode = PropertyConstraintViolation
			}
			hooks.mu.Lock()
			code := hooks.abandonedCodes[0]
			hooks.mu.Unlock()
			if code != wantCode {
				t.Fatalf("Abandoned with %q, want %q", code, wantCode)
			}
			waitFor(t, "queue empty", func() bool { return q.Len() == 0 })
		})
	}
}
