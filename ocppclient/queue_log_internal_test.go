package ocppclient

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"go.etcd.io/bbolt"
)

// TestQueueLogWriteError breaks the log file under a queue (writes fail,
// reads work, as on a device that turned read-only): the Enqueue that hit
// it fails and leaves no trace, the acknowledgement that was not synced
// comes back, the rest is folded into bbolt, and once the file works again
// the queue goes on without reusing the failed entry's Seq.
func TestQueueLogWriteError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	q, err := OpenQueue(db, QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	enqueue := func(n int) (Entry, error) {
		return q.Enqueue(Entry{Kind: KindMeter, Action: "MeterValues", Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))})
	}
	a, err := enqueue(0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := enqueue(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.MarkDelivered(a.Seq); err != nil {
		t.Fatal(err)
	}

	good := q.log.f
	ro, err := os.Open(q.log.path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	setFile := func(f *os.File) {
		q.wmu.Lock()
		defer q.wmu.Unlock()
		q.log.f = f
	}
	setFile(ro)
	if _, err := enqueue(2); err == nil {
		t.Fatal("Enqueue on a read-only log succeeded")
	}
	if got := q.seqs(t); !slices.Equal(got, []uint64{a.Seq, b.Seq}) || q.Len() != 2 {
		t.Fatalf("after the failure: %v (Len %d), want %d %d", got, q.Len(), a.Seq, b.Seq)
	}
	var inBbolt []uint64
	err = db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("queue")).Bucket(pendingBucket).ForEach(func(k, _ []byte) error {
			inBbolt = append(inBbolt, seqOf(k))
			return nil
		})
	})
	if err != nil || !slices.Equal(inBbolt, []uint64{a.Seq, b.Seq}) {
		t.Fatalf("bbolt holds %v (%v), want the synced entries folded in", inBbolt, err)
	}

	setFile(good)
	c, err := enqueue(3)
	if err != nil {
		t.Fatal(err)
	}
	if c.Seq != b.Seq+2 {
		t.Fatalf("Seq after the failed Enqueue = %d, want %d (the failed one's is not reused)", c.Seq, b.Seq+2)
	}
	if got := drainOnDisk(t, q); !slices.Equal(got, []uint64{a.Seq, b.Seq, c.Seq}) {
		t.Fatalf("after a power cut: %v", got)
	}
}
