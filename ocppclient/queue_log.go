package ocppclient

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// The queue's append-only log (see Queue, Storage). A record is
//
//	crc32c  uint32   of everything after it, through the end of the body
//	length  uint32   of the body
//	gen     uint64   the log generation it belongs to
//	type    byte     recEntry, recDone or recAttempts
//	body    [length] seq uint64, then per type:
//	                 recEntry: the entry as bbolt stores it (encodeEntry)
//	                 recDone: nothing (the entry left the queue)
//	                 recAttempts: uvarint attempt count
//
// all integers little-endian, one record after another from the file's
// start; the first that does not parse ends the log.
const (
	recEntry    byte = 1
	recDone     byte = 2
	recAttempts byte = 3

	logHeaderLen = 4 + 4 + 8 + 1
	// logBlock is the unit the file is allocated and zero-filled in: the
	// page size of the page cache and the block size of the file systems
	// evsed runs on.
	logBlock = 4096
)

var logCRC = crc32.MakeTable(crc32.Castagnoli)

// queueLog is the open log file and where its records end. Positions are
// logical: they only grow, across generations too, and the file offset of
// position p is p - base. Every field but f, path and size is guarded by
// Queue.mu; writes to f are serialized by Queue.wmu, syncs by Queue.smu.
type queueLog struct {
	f    *os.File
	path string
	size int64 // the file's size, the log's capacity in bytes

	gen uint64 // generation of the records appended now
	// buf holds records appended but not yet written to f.
	buf []byte
	// base is the position of the file's start in this generation; tail
	// is the end of the records appended, written the end of those written
	// to f, synced the end of those known durable.
	base, tail, written, synced int64
	// bufMarks and writtenMarks count the acknowledgements not yet
	// synced, in buf and written (see QueueOptions.FlushAfter); syncing
	// is set while a sync they started runs in the background.
	bufMarks, writtenMarks int
	syncing                bool
	// epoch is the current run of appends; a failed write or sync ends it
	// (see commit).
	epoch *logEpoch
	// broken is the failure that made the log's unsynced part unknown;
	// the next change repairs it (see Queue.repairLocked).
	broken error
	// syncs counts the fdatasyncs of the log, for benchmarks.
	syncs uint64
}

// logEpoch is a run of appends that a failure may end: an append of the
// epoch that was not synced before the failure is lost.
type logEpoch struct {
	lost     bool
	lostFrom int64 // the synced position when the failure came
	err      error
}

// defaultLogPath is QueueOptions.LogPath's default for the database at
// dbPath and the bucket.
func defaultLogPath(dbPath, bucket string) string {
	return dbPath + "." + escapeName(bucket) + ".log"
}

// escapeName %-escapes every byte of name but letters, digits, '-' and '_'.
func escapeName(name string) string {
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' {
			out = append(out, c)
			continue
		}
		out = append(out, '%', hex[c>>4], hex[c&15])
	}
	return string(out)
}

// openLog opens the log file at path, creating it at size bytes (0: the
// default) or growing it to that size with zeros, which are written and
// synced, with the directory, before the log is used.
func openLog(path string, size int) (*queueLog, error) {
	want := int64(size)
	if want <= 0 {
		want = defaultLogSize
	}
	want = max(2*logBlock, (want+logBlock-1)/logBlock*logBlock)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("queue log: %w", err)
	}
	l := &queueLog{f: f, path: path, epoch: &logEpoch{}}
	fail := func(err error) (*queueLog, error) {
		_ = f.Close()
		return nil, fmt.Errorf("queue log %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	l.size = fi.Size()
	if l.size < want {
		if err := zeroFill(f, l.size, want); err != nil {
			return fail(err)
		}
		if err := syncDir(filepath.Dir(path)); err != nil {
			return fail(err)
		}
		l.size = want
	}
	adviseRandom(f)
	return l, nil
}

// zeroFill writes zeros to f from from to to and syncs it. Blocks really
// written now are overwritten in place later: an append then costs its
// block alone, with no allocation and no journal entry for it, and cannot
// fail for want of space. It writes one block at a time, so that the page
// cache holds the file in single pages: Linux counts a page made dirty by
// its whole folio in /proc/PID/io write_bytes, and a 300-byte append into a
// large folio would count as a megabyte.
func zeroFill(f *os.File, from, to int64) error {
	zero := make([]byte, logBlock)
	for off := from; off < to; {
		n := min(int64(logBlock)-off%logBlock, to-off)
		if _, err := f.WriteAt(zero[:n], off); err != nil {
			return err
		}
		off += n
	}
	return fdatasync(f)
}

// syncDir makes a new file's directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// read returns the file's first limit bytes (-1: all), as written so far.
func (l *queueLog) read(limit int64) ([]byte, error) {
	if limit < 0 || limit > l.size {
		limit = l.size
	}
	b := make([]byte, limit)
	// (ReadAt of the whole, with read-ahead off: see adviseRandom.)
	if _, err := l.f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("queue log %s: %w", l.path, err)
	}
	return b, nil
}

// records encodes c as log records, the new entry (if any) under seq.
func (l *queueLog) records(c *change, seq uint64) []byte {
	var b []byte
	for _, r := range c.remove {
		b = appendRecord(b, l.gen, recDone, r.seq, nil)
	}
	if a := c.attempts; a != nil {
		b = appendRecord(b, l.gen, recAttempts, a.seq, binary.AppendUvarint(nil, uint64(a.n)))
	}
	if c.add != nil {
		b = appendRecord(b, l.gen, recEntry, seq, c.add.value)
	}
	return b
}

// unsyncedMarks is the number of acknowledgements not yet synced.
func (l *queueLog) unsyncedMarks() int { return l.bufMarks + l.writtenMarks }

// fits reports whether n more bytes of records fit in the file.
func (l *queueLog) fits(n int) bool { return l.tail-l.base+int64(n) <= l.size }

// append adds records to the buffer and returns the position past them
// and the epoch they belong to, for commit.
func (l *queueLog) append(recs []byte) (end int64, ep *logEpoch) {
	l.buf = append(l.buf, recs...)
	l.tail += int64(len(recs))
	return l.tail, l.epoch
}

// appendRecord appends one record to b.
func appendRecord(b []byte, gen uint64, typ byte, seq uint64, rest []byte) []byte {
	start := len(b)
	b = append(b, make([]byte, logHeaderLen)...)
	b = binary.LittleEndian.AppendUint64(b, seq)
	b = append(b, rest...)
	h := b[start:]
	binary.LittleEndian.PutUint32(h[4:], uint32(len(h)-logHeaderLen))
	binary.LittleEndian.PutUint64(h[8:], gen)
	h[16] = typ
	binary.LittleEndian.PutUint32(h, crc32.Checksum(h[4:], logCRC))
	return b
}

// parseRecord reads the record at the start of b, which must belong to
// generation gen; ok is false where the log ends: zeros, a torn or foreign
// record. rest is the body after the seq, a sub-slice of b.
func parseRecord(b []byte, gen uint64) (typ byte, seq uint64, rest []byte, n int, ok bool) {
	if len(b) < logHeaderLen+8 {
		return 0, 0, nil, 0, false
	}
	length := uint64(binary.LittleEndian.Uint32(b[4:]))
	if length < 8 || length > uint64(len(b)-logHeaderLen) {
		return 0, 0, nil, 0, false
	}
	n = logHeaderLen + int(length)
	if crc32.Checksum(b[4:n], logCRC) != binary.LittleEndian.Uint32(b) ||
		binary.LittleEndian.Uint64(b[8:]) != gen {
		return 0, 0, nil, 0, false
	}
	return b[16], binary.LittleEndian.Uint64(b[logHeaderLen:]), b[logHeaderLen+8 : n], n, true
}

// commit writes the log's records up to position end, appended in epoch
// ep, and with sync waits until they are durable: the group commit. Whoever
// writes, writes every record appended so far, and whoever syncs covers
// everything written before, so that the callers waiting behind often find
// theirs done; records are written while another caller's fdatasync runs.
// A write or sync error ends the epoch: the records of ep that were not
// synced are lost, and the caller of each gets the error; the Queue then
// repairs itself (see repairLocked).
func (q *Queue) commit(end int64, ep *logEpoch, sync bool) error {
	if err := q.writeLog(end, ep); err != nil || !sync {
		return err
	}
	return q.syncLog(end, ep)
}

// lostLocked returns ep's error if the record ending at end was lost with
// it. The caller holds q.mu.
func lostLocked(ep *logEpoch, end int64) error {
	if ep.lost && end > ep.lostFrom {
		return ep.err
	}
	return nil
}

// writeLog writes the buffered records unless those up to end are written
// already (or folded into bbolt).
func (q *Queue) writeLog(end int64, ep *logEpoch) error {
	l := q.log
	q.wmu.Lock()
	defer q.wmu.Unlock()
	q.mu.Lock()
	if err := lostLocked(ep, end); err != nil || l.written >= end || l.broken != nil {
		// (A broken log is repaired by now or at the next change, which
		// has kept or lost these records: see ep.)
		q.mu.Unlock()
		return err
	}
	data, off, target, marks := l.buf, l.written-l.base, l.tail, l.bufMarks
	l.buf, l.bufMarks = nil, 0
	q.mu.Unlock()

	_, err := l.f.WriteAt(data, off)

	q.mu.Lock()
	defer q.mu.Unlock()
	if err != nil {
		return q.failLocked(err)
	}
	l.written = target
	l.writtenMarks += marks
	return nil
}

// syncLog makes the records up to end durable unless they are already.
func (q *Queue) syncLog(end int64, ep *logEpoch) error {
	l := q.log
	q.smu.Lock()
	defer q.smu.Unlock()
	q.mu.Lock()
	if err := lostLocked(ep, end); err != nil || l.synced >= end || l.broken != nil {
		q.mu.Unlock()
		return err
	}
	target, marks, skip := l.written, l.writtenMarks, q.db.NoSync
	q.mu.Unlock()

	var err error
	if !skip {
		err = fdatasync(l.f)
	}

	if err != nil {
		q.wmu.Lock()
		defer q.wmu.Unlock()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if err != nil {
		return q.failLocked(err)
	}
	if target > l.synced {
		// (Not so if a fold came meanwhile: it made everything durable.)
		l.synced = target
		l.writtenMarks = max(0, l.writtenMarks-marks)
	}
	l.syncs++
	q.publishLength()
	return nil
}

// failLocked handles a failed write or sync of the log: the epoch ends with
// what was not synced lost, and the Queue repairs itself at once, so that
// readers stop seeing what was lost. The caller holds q.wmu and q.mu.
func (q *Queue) failLocked(err error) error {
	l := q.log
	err = fmt.Errorf("queue log %s: %w", l.path, err)
	l.epoch.lost, l.epoch.lostFrom, l.epoch.err = true, l.synced, err
	l.epoch = &logEpoch{}
	l.broken = err
	if rerr := q.repairLocked(); rerr != nil {
		return rerr
	}
	return err
}
