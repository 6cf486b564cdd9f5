package ocppclient_test

import (
	"errors"
	"testing"
	"time"

	"github.com/evsed/evsed/ocppclient"
)

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
