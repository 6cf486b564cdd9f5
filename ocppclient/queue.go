package ocppclient

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/clock"
)

// Defaults of QueueOptions and SetRetryPolicy.
const (
	defaultQueueBucket   = "queue"
	defaultMaxEntries    = 100000
	defaultMaxAttempts   = 3
	defaultRetryInterval = 60 * time.Second
	defaultFlushAfter    = 64
	defaultLogSize       = 256 << 10
)

// Names inside the queue's top-level bucket. The top-level bucket's own
// sequence is the highest Seq ever handed out and folded into bbolt, so
// that a Seq is never reused, whether the entry is pending, acknowledged or
// dead-lettered.
var (
	pendingBucket = []byte("pending")
	deadBucket    = []byte("dead")
	// logGenKey holds the generation of the log's valid records (see
	// Queue, Storage), a big-endian uint64, random when the log is first
	// used.
	logGenKey = []byte("loggen")
)

// Errors of the queue. Functions wrap them with context; test with errors.Is.
var (
	// ErrQueueFull: the queue is at QueueOptions.MaxEntries and the new entry
	// has the lowest priority of everything it would have to displace (see
	// Queue for the size policy). Nothing was written.
	ErrQueueFull = errors.New("ocpp: queue full")
	// ErrNotFound: no pending entry has the given Seq (it was acknowledged,
	// marked delivered, dead-lettered or dropped by the size policy).
	ErrNotFound = errors.New("ocpp: queue entry not found")
	// ErrInvalidEntry: Enqueue was given an entry without Action or with an
	// unknown Kind.
	ErrInvalidEntry = errors.New("ocpp: invalid queue entry")
	// ErrCorruptEntry: a stored value could not be decoded.
	ErrCorruptEntry = errors.New("ocpp: corrupt queue entry")
	// ErrQueueClosed: the Queue was closed, or its database was.
	ErrQueueClosed = errors.New("ocpp: queue closed")
)

// QueueOptions configure a Queue. Zero values are documented per field.
type QueueOptions struct {
	// Bucket is the top-level bucket in the database; "" means "queue".
	// Several Queues may share one database with different buckets.
	Bucket string
	// MaxEntries bounds the queue: past it the oldest KindMeter and KindOther
	// entries are dropped to make room; Start and Stop entries are never
	// dropped, so the queue can exceed the bound when it holds only those.
	// See Queue for the full policy. 0 means 100000.
	MaxEntries int
	// MaxAttempts is TransactionMessageAttempts: after this many failed
	// attempts (see Fail: CALLERROR answers and call timeouts) an entry
	// moves to the dead-letter bucket. 0 means 3.
	MaxAttempts int
	// RetryInterval is TransactionMessageRetryInterval: the wait after the
	// n-th failed attempt is n * RetryInterval. 0 means 60 s.
	RetryInterval time.Duration
	// Clock stamps Entry.EnqueuedAt when the caller left it zero; nil means
	// the wall clock.
	Clock clock.Clock
	// FlushAfter is how many MarkDelivered acknowledgements may wait before
	// they are made durable on their own (see Queue, Durability): with the
	// log, acknowledgements written but not yet fsync'd, an fdatasync in
	// the background keeping fewer than FlushAfter of them unsynced (once
	// it is done); without it, acknowledgements held in memory, the
	// FlushAfter-th committing them. 0 means 64; 1 makes every
	// MarkDelivered as durable as Ack.
	FlushAfter int
	// LogPath is the file of the queue's append-only log (see Queue,
	// Storage). "" means the database's path followed by "." and the
	// bucket name (characters other than letters, digits, '-' and '_'
	// %-escaped) and ".log", e.g. evsed.db.queue.log. The file belongs to
	// the database: keep, copy and delete them together.
	LogPath string
	// LogSize is the log file's size in bytes, allocated (written with
	// zeros) when the file is created; a larger existing file keeps its
	// size. 0 means 256 KiB; it is rounded up to whole 4 KiB blocks, at
	// least two.
	LogSize int
	// NoLog keeps the whole queue in bbolt, one commit per durable change,
	// as a database opened with NoSync does anyway (see Queue, Storage).
	NoLog bool
}

// Queue is a durable FIFO of Entries: Enqueue returns only after the entry
// is synced to disk, and entries survive restarts, kill -9 and power cuts
// until an acknowledgement removes them.
//
// # Storage
//
// The entries live in a bbolt database, and every change to them since the
// last fold in a small append-only log file beside it (QueueOptions.LogPath):
// an enqueued entry, an acknowledgement, a new attempt count, each one
// record with a CRC, appended at the log's end. A change then costs the
// storage one small write (with an fdatasync when it must be durable) where
// a bbolt commit rewrites a page of every level of the tree, the freelist
// and the meta page: one 4 KiB block per queued MeterValues, its
// acknowledgement riding along, instead of two bbolt commits of about
// 16 KiB at the device each (32 KiB by /proc/PID/io write_bytes;
// BenchmarkQueueCommit). The file is allocated once, written with zeros, so
// that an append overwrites a block in place and needs no allocation of
// its own.
//
// When the log is full, when a change goes to the dead-letter bucket, when
// an entry is too large for the log, when many acknowledgements of entries
// in bbolt have gathered, and when the Queue opens, one bbolt transaction
// folds the log's net effect into the database (new entries still waiting
// put, acknowledged ones deleted, attempt counts updated) and starts a new
// generation of the log: its records carry their generation, the database
// holds the current one, and records of an older generation are ignored,
// so that the fold is atomic and the file is reused from its start without
// erasing it. On open the log is read up to its first record that is
// incomplete, fails its CRC or belongs to another generation (a power cut
// may leave a torn last record), and folded.
//
// A database opened with NoSync, and a Queue with NoLog, keep no log:
// every durable change is one bbolt commit. That is the fleet simulator's
// case, where nothing is synced anyway.
//
// # Durability
//
// Enqueue, Ack, Fail and Flush return once their change is durable: the
// log's fdatasync or the fold's bbolt commit (skipped, as bbolt does, when
// the database has NoSync set). Concurrent callers share one fdatasync
// (group commit): whoever syncs, syncs every record written before.
//
// MarkDelivered is the drain's acknowledgement, and it does not wait for
// the disk: delivery is at least once, and an fsync per answer would bound
// the drain by the disk instead of the network. Head, Entries and Len stop
// seeing the entry at once. With the log, the acknowledgement is written
// to the file at once (a write(2), no fsync): it survives a crash of the
// process (kill -9 included), as the kernel holds it, and becomes durable
// against power loss with the next fdatasync: the next Enqueue, Ack, Fail
// or Flush, the one started in the background whenever FlushAfter are
// unsynced (the drain goes on meanwhile), or the kernel's own writeback
// (within about 30 s on Linux by default). The acknowledgement of a
// KindStart, and with FlushAfter 1 every one, waits for its fdatasync: a
// Start sent twice opens a second transaction at the CSMS. Without the
// log, marks are held in
// memory and deleted in one commit when FlushAfter have gathered, with a
// KindStart, on Flush and in passing within every other commit.
//
// So after kill -9 a message is sent again only if the kill came between
// the CSMS's answer and its acknowledgement's write; after a power cut only
// if it was answered since the last sync; never is one lost. An entry
// leaves the queue only once it was acknowledged, dropped by the size
// policy or dead-lettered, and Fail's attempt count is durable when Fail
// returns.
//
// An Enqueue, Ack or Fail that returns an error has changed nothing: after
// a write or fdatasync error on the log the Queue forgets whatever it had
// not synced (acknowledgements marked since then come back, to be sent
// again) and folds what was synced into bbolt before it writes anything
// else.
//
// # Layout
//
// Under the top-level bucket (QueueOptions.Bucket) the sub-bucket "pending"
// maps the big-endian uint64 Seq to an encoded Entry, so that bbolt's key
// order is FIFO order; "dead" holds dead letters under the same keys, and
// the key "loggen" the log's generation. Entries newer than the last fold
// are in the log only, and every Seq there is above those in bbolt.
//
// # Size policy
//
// Kinds rank KindMeter < KindOther < KindStart = KindStop. When an Enqueue
// would make the queue longer than MaxEntries, the oldest entries of the
// lowest rank present are dropped until the new entry fits, the new entry
// itself counting as the youngest of its kind:
//   - older KindMeter entries are dropped first, then older KindOther ones;
//   - a new KindMeter entry is rejected with ErrQueueFull when no older
//     KindMeter entry can go, and a new KindOther entry when no older
//     KindMeter or KindOther entry can go;
//   - KindStart and KindStop are never dropped nor rejected, so the queue
//     exceeds MaxEntries only while it holds (nearly) nothing but those.
//
// Dropped counts both the dropped and the rejected entries. A rejected
// Enqueue changes nothing on disk. Entries marked delivered never count
// against MaxEntries and the policy never drops (nor counts) one.
//
// # Concurrency
//
// A Queue is safe for concurrent use: typically the adapter enqueues from
// the station's goroutine while the transport's drain calls Head,
// MarkDelivered, Fail and Flush from another. Readers (Head, Entries, Find)
// wait for other callers' updates of the in-memory state and for folds, not
// for the log's fdatasync. Only one Queue may be open on a given bucket at
// a time, as it keeps the log's state in memory; the Queue is usable while
// its database is open, and Close releases the log file.
type Queue struct {
	db *bbolt.DB
	// bucket is the top-level bucket's name; a string, made a []byte for
	// each lookup on the stack, rather than a copy of the name held on the
	// heap (the fleet simulator holds thousands of Queues).
	bucket string
	// max and flushAfter are QueueOptions' MaxEntries and FlushAfter,
	// capped at math.MaxInt32: the fleet simulator holds thousands of
	// Queues, and the small fields are packed.
	max, flushAfter int32
	clock           clock.Clock

	// log is the append-only log; nil without one (NoLog, NoSync).
	log *queueLog

	// smu serializes the log's syncs, wmu its writes and the folds, so that
	// records are written while a sync runs. Lock order: smu, wmu, mu.
	smu, wmu sync.Mutex
	// bg is the background sync of acknowledgements, if one runs.
	bg sync.WaitGroup
	// mu guards the in-memory state below and the log's positions and
	// buffer, and orders changes: a change is built and applied under mu,
	// then written (see update).
	mu sync.Mutex
	// baseKinds counts the entries in bbolt's pending bucket that are still
	// waiting (not in done), per EntryKind. (32 bits, as tailKinds: two
	// billion entries would not fit the flash.)
	baseKinds [numKinds]int32
	// done holds the Seq of the entries in bbolt that left the queue
	// (acknowledged, marked, dropped) since the last fold, which deletes
	// them from bbolt.
	done seqSet
	// attempts holds the new attempt counts of entries in bbolt since the
	// last fold; nil until the first.
	attempts map[uint64]int
	// tail holds the entries enqueued since the last fold, in Seq order;
	// they are in the log only. Always empty without a log.
	tail      []tailEntry
	tailKinds [numKinds]int32
	// nextSeq is the Seq the next entry gets.
	nextSeq uint64
	// scanFrom[k] is a Seq below which no waiting entry of kind k exists
	// in bbolt: entries are only ever added with a larger Seq, so the
	// oldest entry of a kind can be found from there without rescanning
	// the front of the queue on every drop.
	scanFrom [numKinds]uint64
	// headFrom is a Seq below which no entry in bbolt is waiting, for the
	// same reason: Head seeks there.
	headFrom uint64
	// headHint is the entry in bbolt Head returned last, while it is
	// waiting (seq 0: none), so that the drain's MarkDelivered or Fail of
	// it finds it without a read transaction.
	headHint removal
	// ahead holds copies of the waiting bbolt entries from the head on,
	// as Head read them in one transaction (at most headAhead), so that
	// draining a backlog costs one read transaction per headAhead entries
	// rather than one per entry. Entries in bbolt change only when a fold
	// or a reload rewrites them, which empties it; entries that left the
	// queue since are skipped through done. nil when Head found no more.
	ahead []Entry
	// closed is set by Close. enqueued is guarded by watchMu (see below);
	// they share a word with maxAttempts.
	closed   bool
	enqueued bool
	// maxAttempts and retryInterval are the retry policy, which
	// SetRetryPolicy changes while the drain calls Fail.
	maxAttempts   int32
	retryInterval time.Duration

	length  atomic.Int64  // waiting entries readers can see, published after each change
	dropped atomic.Uint64 // entries lost to the size policy since OpenQueue

	// watchMu guards watchers, the Clients Enqueue kicks once an entry
	// is durable (see watch), changed and enqueued. The slice is replaced,
	// never changed, so that Enqueue calls them without the lock.
	watchMu  sync.Mutex
	watchers []*Client
	// changed is Changed's channel (capacity 1; a pending value means
	// "enqueued since last receive"), made at the first Changed: the
	// drain does not use it (see watch). enqueued says an entry was
	// enqueued since OpenQueue, so that a channel made later starts with
	// the signal it would have held.
	changed chan struct{}
}

// tailEntry is an entry newer than the last fold.
type tailEntry struct {
	seq  uint64
	kind EntryKind
	// value is the entry as bbolt would store it (encodeEntry); replaced,
	// never modified, when its attempt count changes.
	value []byte
	// end is the log position just past the entry's record: readers see
	// the entry once the log is synced up to there.
	end int64
}

// numKinds is one past the highest valid EntryKind.
const numKinds = int(KindMeter) + 1

// OpenQueue opens (creating if needed) the queue in db and its log, reads
// the log and folds it into db. The caller owns db and closes it after
// closing the Queue.
func OpenQueue(db *bbolt.DB, opts QueueOptions) (*Queue, error) {
	q := &Queue{
		db:         db,
		bucket:     opts.Bucket,
		max:        int32(min(opts.MaxEntries, math.MaxInt32)),
		flushAfter: int32(min(opts.FlushAfter, math.MaxInt32)),
		clock:      clock.Or(opts.Clock),
	}
	if len(q.bucket) == 0 {
		q.bucket = defaultQueueBucket
	}
	if q.max <= 0 {
		q.max = defaultMaxEntries
	}
	if q.flushAfter <= 0 {
		q.flushAfter = defaultFlushAfter
	}
	q.SetRetryPolicy(opts.MaxAttempts, opts.RetryInterval)
	useLog := !opts.NoLog && !db.NoSync
	logPath := opts.LogPath
	if logPath == "" {
		logPath = defaultLogPath(db.Path(), q.bucket)
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		top, err := tx.CreateBucketIfNotExists([]byte(q.bucket))
		if err != nil {
			return err
		}
		if _, err := top.CreateBucketIfNotExists(deadBucket); err != nil {
			return err
		}
		if _, err = top.CreateBucketIfNotExists(pendingBucket); err != nil {
			return err
		}
		if useLog && top.Get(logGenKey) == nil {
			// A random first generation: a log file that belonged to
			// another database (one deleted and made anew beside it) then
			// holds no record this one would read.
			return top.Put(logGenKey, binary.BigEndian.AppendUint64(nil, rand.Uint64()>>1+1))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open queue %q: %w", q.bucket, err)
	}
	switch _, statErr := os.Stat(logPath); {
	case useLog:
		if q.log, err = openLog(logPath, opts.LogSize); err != nil {
			return nil, fmt.Errorf("open queue %q: %w", q.bucket, err)
		}
	case statErr == nil:
		// Without a log now, but one from an earlier run is there: fold
		// what it holds, then leave it.
		if q.log, err = openLog(logPath, 1); err != nil {
			return nil, fmt.Errorf("open queue %q: %w", q.bucket, err)
		}
	}
	q.wmu.Lock()
	defer q.wmu.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	replayed, err := q.loadLocked(-1)
	if err == nil && replayed {
		// Start a new generation now: a torn record at the end of the
		// old one is then never followed by new ones.
		err = q.foldLocked(nil)
	}
	if q.log != nil && (err != nil || !useLog) {
		if cerr := q.log.f.Close(); err == nil {
			err = cerr
		}
		q.log = nil
	}
	if err != nil {
		return nil, fmt.Errorf("open queue %q: %w", q.bucket, err)
	}
	q.publishLength()
	return q, nil
}

// Close makes every acknowledgement durable and closes the log file. Call
// it once nothing else uses the Queue (the drain has stopped); it is not
// usable afterwards (ErrQueueClosed), and closing twice does nothing.
func (q *Queue) Close() error {
	q.bg.Wait()
	q.smu.Lock()
	defer q.smu.Unlock()
	q.wmu.Lock()
	defer q.wmu.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil
	}
	if q.log == nil {
		if len(q.done) > 0 {
			if err := q.foldLocked(nil); err != nil {
				return fmt.Errorf("queue close: %w", err)
			}
		}
		q.closed = true
		return nil
	}
	q.closed = true
	var err error
	if len(q.log.buf) > 0 {
		_, err = q.log.f.WriteAt(q.log.buf, q.log.written-q.log.base)
	}
	if err == nil && q.log.synced < q.log.tail && !q.db.NoSync {
		err = fdatasync(q.log.f)
	}
	if cerr := q.log.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("queue close: %w", err)
	}
	return nil
}

// Enqueue appends e (its Seq is assigned) and returns once it is durable:
// the returned Entry is what was stored. A zero EnqueuedAt is set from the
// clock; Attempts is stored as given. When the queue is full the size policy
// (see Queue) may drop older entries in the same change, or reject e with
// ErrQueueFull.
func (q *Queue) Enqueue(e Entry) (Entry, error) {
	if e.Action == "" || int(e.Kind) >= numKinds {
		return e, fmt.Errorf("enqueue %q kind %d: %w", e.Action, e.Kind, ErrInvalidEntry)
	}
	if e.EnqueuedAt.IsZero() {
		e.EnqueuedAt = q.clock.Now()
	}
	value := encodeEntry(e)
	c, err := q.update(syncAlways, func() (*change, error) {
		victims, err := q.victimsLocked(e.Kind)
		if err != nil {
			return nil, err
		}
		return &change{add: &tailEntry{kind: e.Kind, value: value}, remove: victims}, nil
	})
	if errors.Is(err, ErrQueueFull) {
		q.dropped.Add(1)
	}
	if err != nil {
		return e, fmt.Errorf("enqueue %s: %w", e.Action, err)
	}
	e.Seq = c.add.seq
	q.dropped.Add(uint64(len(c.remove)))
	q.watchMu.Lock()
	changed, watchers := q.changed, q.watchers
	q.enqueued = true
	q.watchMu.Unlock()
	select {
	case changed <- struct{}{}: // (nil until the first Changed: no receiver)
	default: // a signal is already pending; a receiver will see this entry too
	}
	for _, c := range watchers {
		c.kick()
	}
	return e, nil
}

// watch has c's kick called after every Enqueue, once the entry is
// durable (as the Changed signal is sent), until unwatch: a Client starts
// its drain from it rather than keep a goroutine waiting on Changed. (The
// Client itself rather than a function: nothing to allocate.)
func (q *Queue) watch(c *Client) {
	q.watchMu.Lock()
	q.watchers = append(slices.Clip(q.watchers), c)
	q.watchMu.Unlock()
}

// unwatch ends watch(c).
func (q *Queue) unwatch(c *Client) {
	q.watchMu.Lock()
	q.watchers = slices.DeleteFunc(slices.Clone(q.watchers), func(o *Client) bool { return o == c })
	q.watchMu.Unlock()
}

// Head returns the oldest entry that is neither dead-lettered nor marked
// delivered, and false when there is none. The returned Entry is a copy
// owned by the caller.
func (q *Queue) Head() (Entry, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.usableLocked(); err != nil {
		return Entry{}, false, fmt.Errorf("queue head: %w", err)
	}
	if e, ok := q.aheadLocked(); ok {
		return e, true, nil
	}
	var (
		e  Entry
		ok bool
	)
	err := q.viewBase(func(pending *bbolt.Bucket) error {
		// Entries below headFrom are gone; the few acknowledged but not
		// yet folded ones are skipped. Entries in bbolt come before the
		// tail's.
		c := pending.Cursor()
		k, v := c.Seek(seqKey(q.headFrom))
		for k != nil && q.isDone(k) {
			k, v = c.Next()
		}
		if k == nil {
			if len(q.tail) == 0 || !q.visible(q.tail[0]) {
				return nil
			}
			k, v = seqKey(q.tail[0].seq), q.tail[0].value
		} else {
			q.headFrom = seqOf(k)
		}
		var err error
		e, err = q.decodeBase(k, v)
		ok = err == nil
		if ok && e.Seq == q.headFrom {
			q.headHint = removal{seq: e.Seq, kind: e.Kind, inBase: true}
			q.readAhead(c, e)
		}
		return err
	})
	if err != nil {
		return Entry{}, false, fmt.Errorf("queue head: %w", err)
	}
	return e, ok, nil
}

// headAhead is how many bbolt entries Head reads at once when there are
// that many: enough to spread a transaction's cost thin, few enough that
// a backlog's copies stay a few KiB.
const headAhead = 16

// readAhead fills q.ahead with head, the bbolt entry Head is about to
// return, and the waiting ones after it under c, when there are any. The
// caller holds q.mu, in Head's read transaction.
func (q *Queue) readAhead(c *bbolt.Cursor, head Entry) {
	q.ahead = q.ahead[:0]
	for k, v := c.Next(); k != nil && len(q.ahead) < headAhead-1; k, v = c.Next() {
		if q.isDone(k) {
			continue
		}
		e, err := decodeEntry(k, v)
		if err != nil {
			break // Head reports it when it gets there
		}
		q.ahead = append(q.ahead, e)
	}
	if len(q.ahead) == 0 {
		q.ahead = nil // a queue that drains one by one keeps no buffer
		return
	}
	head.Payload = bytes.Clone(head.Payload)
	q.ahead = slices.Insert(q.ahead, 0, head)
}

// aheadLocked returns the head from q.ahead when it holds it: its first
// entry that has not left the queue, with the attempts counted since the
// last fold, as a copy the caller owns. The caller holds q.mu.
func (q *Queue) aheadLocked() (Entry, bool) {
	for len(q.ahead) > 0 && q.done.has(q.ahead[0].Seq) {
		q.ahead = q.ahead[1:]
	}
	if len(q.ahead) == 0 {
		q.ahead = nil
		return Entry{}, false
	}
	e := q.ahead[0]
	if n, ok := q.attempts[e.Seq]; ok {
		e.Attempts = n
	}
	e.Payload = bytes.Clone(e.Payload)
	q.headFrom = e.Seq
	q.headHint = removal{seq: e.Seq, kind: e.Kind, inBase: true}
	return e, true
}

// Ack removes the delivered entry seq and returns once that is durable,
// along with every entry marked delivered before. Acknowledging an entry
// that is no longer pending (acknowledged before, or dropped by the size
// policy while it was in flight) is not an error, so that a caller may
// repeat an Ack after a failed one; an entry marked delivered is simply made
// durable.
func (q *Queue) Ack(seq uint64) error {
	_, err := q.update(syncAlways, func() (*change, error) {
		r, found, err := q.locateLocked(seq)
		if err != nil || !found {
			// Nothing to remove; the update still syncs the marks.
			return &change{}, err
		}
		return &change{remove: []removal{r}}, nil
	})
	if err != nil {
		return fmt.Errorf("queue ack %d: %w", seq, err)
	}
	return nil
}

// Len returns the number of entries waiting (dead letters and entries
// marked delivered excluded). It takes constant time and does not wait for a
// write in progress.
func (q *Queue) Len() int { return int(q.length.Load()) }

// Dropped returns how many entries the size policy has dropped or rejected
// since OpenQueue (see Queue), for the status API and metrics. It is not
// persisted.
func (q *Queue) Dropped() uint64 { return q.dropped.Load() }

// Changed returns a channel that receives (without blocking the sender, at
// most one pending signal) whenever an entry is enqueued. The signal is sent
// after the entry is durable, so a receiver that then calls Head sees it.
// The channel lives as long as the Queue and is never closed.
func (q *Queue) Changed() <-chan struct{} {
	q.watchMu.Lock()
	defer q.watchMu.Unlock()
	if q.changed == nil {
		q.changed = make(chan struct{}, 1)
		if q.enqueued {
			q.changed <- struct{}{}
		}
	}
	return q.changed
}

// Find reports whether an entry of the given kind with key and action is
// waiting (marked-delivered ones excluded), without copying payloads: the
// OCPP adapter asks it at every session start and end, and a charger that
// was offline for weeks may hold tens of thousands of entries.
func (q *Queue) Find(kind EntryKind, key, action string) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.usableLocked(); err != nil {
		return false, fmt.Errorf("queue find: %w", err)
	}
	match := func(k, v []byte) bool {
		if kv, err := peekKind(v); err != nil || kv != kind {
			return false // a corrupt entry is Head's and Entries' to report
		}
		_, _, fields, _, err := splitEntry(k, v)
		return err == nil && string(fields[1]) == action && string(fields[2]) == key
	}
	for _, t := range q.tail {
		if q.visible(t) && match(seqKey(t.seq), t.value) {
			return true, nil
		}
	}
	if q.baseKinds[kind] == 0 {
		return false, nil
	}
	found := false
	err := q.viewBase(func(pending *bbolt.Bucket) error {
		c := pending.Cursor()
		for k, v := c.Seek(seqKey(q.headFrom)); k != nil && !found; k, v = c.Next() {
			found = !q.isDone(k) && match(k, v)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("queue find: %w", err)
	}
	return found, nil
}

// Entries returns the pending entries in delivery order, those marked
// delivered excluded, for tests, drills and diagnostics. It reads the whole
// queue: not for the hot path. The slice and its entries are owned by the
// caller.
func (q *Queue) Entries() ([]Entry, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.usableLocked(); err != nil {
		return nil, fmt.Errorf("queue entries: %w", err)
	}
	var out []Entry
	err := q.viewBase(func(pending *bbolt.Bucket) error {
		return pending.ForEach(func(k, v []byte) error {
			if q.isDone(k) {
				return nil
			}
			e, err := q.decodeBase(k, v)
			if err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	for _, t := range q.tail {
		if err != nil || !q.visible(t) {
			break
		}
		var e Entry
		if e, err = decodeEntry(seqKey(t.seq), t.value); err == nil {
			out = append(out, e)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("queue entries: %w", err)
	}
	return out, nil
}

// publishLength stores the number of entries readers can see. The caller
// holds q.mu.
func (q *Queue) publishLength() {
	n := q.baseWaiting()
	if k := len(q.tail); k > 0 && q.visible(q.tail[k-1]) {
		// The usual case, and the tail's entries are visible in order:
		// all of them are.
		n += k
	} else {
		for _, t := range q.tail {
			if !q.visible(t) {
				break
			}
			n++
		}
	}
	q.length.Store(int64(n))
}

// baseWaiting is the number of waiting entries in bbolt. The caller holds
// q.mu.
func (q *Queue) baseWaiting() int {
	n := 0
	for _, c := range q.baseKinds {
		n += int(c)
	}
	return n
}

// visible reports whether readers may see t: its record is synced (an
// entry in the tail becomes readable only once durable, so that the drain
// never sends what a failed fdatasync may lose). The caller holds q.mu.
func (q *Queue) visible(t tailEntry) bool { return q.log == nil || t.end <= q.log.synced }

// isDone reports whether the bbolt entry under key k has left the queue
// since the last fold. The caller holds q.mu.
func (q *Queue) isDone(k []byte) bool {
	return q.done.has(seqOf(k))
}

// decodeBase decodes the bbolt entry (k, v) with its attempt count as
// changed since the last fold. The caller holds q.mu.
func (q *Queue) decodeBase(k, v []byte) (Entry, error) {
	e, err := decodeEntry(k, v)
	if n, ok := q.attempts[e.Seq]; ok && err == nil {
		e.Attempts = n
	}
	return e, err
}

// viewBase runs read in a read-only transaction on the pending bucket.
func (q *Queue) viewBase(read func(pending *bbolt.Bucket) error) error {
	return q.db.View(func(tx *bbolt.Tx) error {
		_, pending, err := q.buckets(tx)
		if err != nil {
			return err
		}
		return read(pending)
	})
}

// usableLocked reports ErrQueueClosed after Close. The caller holds q.mu.
func (q *Queue) usableLocked() error {
	if q.closed {
		return ErrQueueClosed
	}
	return nil
}

// buckets returns the top-level and pending buckets, which OpenQueue created.
func (q *Queue) buckets(tx *bbolt.Tx) (top, pending *bbolt.Bucket, err error) {
	top = tx.Bucket([]byte(q.bucket))
	if top == nil {
		return nil, nil, fmt.Errorf("bucket %q missing", q.bucket)
	}
	pending = top.Bucket(pendingBucket)
	if pending == nil {
		return nil, nil, fmt.Errorf("bucket %q missing", pendingBucket)
	}
	return top, pending, nil
}
