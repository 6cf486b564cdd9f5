package ocppclient_test

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/ocppclient"
)

// benchMeterPayload is one MeterValues sample as a charging session queues
// it: energy and power.
const benchMeterPayload = `{"connectorId":1,"transactionId":12345,"meterValue":[{"timestamp":"2025-03-14T15:09:26Z","sampledValue":[{"value":"12345.6","measurand":"Energy.Active.Import.Register","unit":"Wh"},{"value":"7360","measurand":"Power.Active.Import","unit":"W"}]}]}`

// BenchmarkEnqueue measures durable enqueues into a real file, the rate at
// which a station can record transaction messages:
//
//   - serial: one goroutine, each Enqueue waiting for its own fdatasync;
//   - parallel: 16 goroutines per GOMAXPROCS at once, whose enqueues share
//     fdatasyncs (group commit);
//   - bbolt-serial, bbolt-parallel: the same without the log (NoLog), one
//     bbolt commit per Enqueue, as before the log and as a NoSync database
//     keeps it.
//
// msgs/s is the figure to compare; msgs/sync, with the log, how many
// enqueues an fdatasync carried on average.
func BenchmarkEnqueue(b *testing.B) {
	e := queueEntry(ocppclient.KindMeter, 0)
	e.Payload = json.RawMessage(benchMeterPayload)
	for _, v := range []struct {
		name     string
		noLog    bool
		parallel bool
	}{
		{"serial", false, false},
		{"parallel", false, true},
		{"bbolt-serial", true, false},
		{"bbolt-parallel", true, true},
	} {
		b.Run(v.name, func(b *testing.B) {
			q, _, _ := queueOpen(b, ocppclient.QueueOptions{NoLog: v.noLog, MaxEntries: 1 << 30})
			var syncs0 uint64
			if !v.noLog {
				syncs0 = ocppclient.LogSyncsForTest(q)
			}
			enqueue := func() {
				if _, err := q.Enqueue(e); err != nil {
					b.Error(err)
				}
			}
			if v.parallel {
				b.SetParallelism(16)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						enqueue()
					}
				})
			} else {
				for b.Loop() {
					enqueue()
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			if !v.noLog {
				if syncs := ocppclient.LogSyncsForTest(q) - syncs0; syncs > 0 {
					b.ReportMetric(float64(b.N)/float64(syncs), "msgs/sync")
				}
			}
		})
	}
}

// BenchmarkQueueCommit measures where the storage writes of the queue's
// share of one meter sample go, for flash-wear work: one cycle is what the
// agent does per MeterValues while connected to a CSMS that keeps up:
// Enqueue (durable), then the drain's Head, MarkDelivered and, as the
// queue runs empty, what the drain does before it waits (nothing with the
// log, whose acknowledgement rides on the next Enqueue's fdatasync; a
// Flush, the group commit, without it). The station's own session
// checkpoint is not part of it. Each variant opens a fresh bbolt file in
// b.TempDir, as bbolt applies Options.PageSize only when it creates the
// file:
//
//   - log: the queue's append-only log beside the database (the default);
//   - bbolt: NoLog, every durable change one bbolt commit (the options the
//     binary used before the log: nil);
//   - bbolt-page1k: NoLog, PageSize 1024;
//   - bbolt-nofreelistsync: NoLog, NoFreelistSync true (the freelist is
//     not written at commit but rebuilt by scanning the file on open);
//   - bbolt-page1k-nofreelistsync: both.
//
// Metrics, per cycle unless named otherwise:
//
//   - commits/cycle: bbolt write transactions committed (the meta page's
//     txid); with the log, the folds' share.
//   - pages/commit: bbolt pages written per commit, the meta page included
//     (TxStats.PageCount counts the others: every dirty B+tree page, written
//     copy-on-write to a new place, and the freelist page).
//   - writes/commit: bbolt's write calls per commit (a run of contiguous
//     pages is one).
//   - written-B/cycle: bytes handed to write system calls (/proc/self/io
//     wchar), which is pages times the page size for bbolt, the records'
//     bytes for the log.
//   - storage-B/cycle: bytes this process caused to be sent to storage
//     (/proc/self/io write_bytes). Linux counts them when a page-cache
//     folio turns dirty, the whole folio, so where the page cache holds
//     large folios (ext4 on recent kernels) it can far exceed what reaches
//     the device; the file system's journal is never in it. 0 on a RAM file
//     system: run with TMPDIR on the device of interest.
//   - device-B/cycle: sectors written to the block device holding the file
//     (/sys/dev/block/M:m/stat), times 512: what the device received,
//     journal included, but from every writer on the machine during the
//     loop, so meaningful only on an otherwise idle device.
//
// The /proc and /sys figures are Linux's; where they cannot be read they
// are skipped with a log line.
func BenchmarkQueueCommit(b *testing.B) {
	for _, v := range []struct {
		name  string
		noLog bool
		opts  *bbolt.Options
	}{
		{"log", false, nil},
		{"bbolt", true, nil},
		{"bbolt-page1k", true, &bbolt.Options{PageSize: 1024}},
		{"bbolt-nofreelistsync", true, &bbolt.Options{NoFreelistSync: true}},
		{"bbolt-page1k-nofreelistsync", true, &bbolt.Options{PageSize: 1024, NoFreelistSync: true}},
	} {
		b.Run(v.name, func(b *testing.B) { benchQueueCycle(b, v.opts, v.noLog) })
	}
}

func benchQueueCycle(b *testing.B, opts *bbolt.Options, noLog bool) {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "queue.db"), 0o600, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	if opts != nil && opts.PageSize != 0 && db.Info().PageSize != opts.PageSize {
		b.Fatalf("page size %d, want %d", db.Info().PageSize, opts.PageSize)
	}
	q := queueMust(b, db, ocppclient.QueueOptions{NoLog: noLog})
	e := ocppclient.Entry{Kind: ocppclient.KindMeter, Action: "MeterValues", Key: "session-1",
		Payload: json.RawMessage(benchMeterPayload)}
	cycle := func() {
		if _, err := q.Enqueue(e); err != nil {
			b.Fatal(err)
		}
		h, ok, err := q.Head()
		if err != nil || !ok {
			b.Fatalf("Head = %v, %v", ok, err)
		}
		if err := q.MarkDelivered(h.Seq); err != nil {
			b.Fatal(err)
		}
		if noLog {
			if err := q.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	// Warm up: the file has grown and the freelist holds the pages that
	// copy-on-write frees, as on a charger that has run for a while.
	for range 64 {
		cycle()
	}

	dev, devErr := blockDevice(db.Path())
	io0, ioErr := readProcIO()
	sec0, secErr := sectorsWritten(dev, devErr)
	st0, tx0 := db.Stats(), lastTxID(b, db)
	for b.Loop() {
		cycle()
	}
	io1, ioErr1 := readProcIO()
	sec1, secErr1 := sectorsWritten(dev, devErr)
	st1, tx1 := db.Stats(), lastTxID(b, db)

	n := float64(b.N)
	commits := float64(tx1 - tx0)
	ts := st1.Sub(&st0).TxStats
	b.ReportMetric(commits/n, "commits/cycle")
	if commits > 0 {
		b.ReportMetric((float64(ts.GetPageCount())+commits)/commits, "pages/commit")
		b.ReportMetric(float64(ts.GetWrite())/commits, "writes/commit")
	}
	if secErr = cmp.Or(secErr, secErr1); secErr != nil {
		b.Logf("device writes not measured: %v", secErr)
	} else {
		b.ReportMetric(float64(sec1-sec0)*512/n, "device-B/cycle")
	}
	if ioErr = cmp.Or(ioErr, ioErr1); ioErr != nil {
		b.Logf("bytes written not measured: %v", ioErr)
		return
	}
	wchar, storage := io1["wchar"]-io0["wchar"], io1["write_bytes"]-io0["write_bytes"]
	b.ReportMetric(float64(wchar)/n, "written-B/cycle")
	b.ReportMetric(float64(storage)/n, "storage-B/cycle")
	if storage == 0 && wchar > 0 {
		b.Logf("nothing reached a block device: %s is probably on a RAM file system; set TMPDIR to a directory on disk", db.Path())
	}
}

// blockDevice returns the "major:minor" of the device whose file system
// holds path: the mount in /proc/self/mountinfo with the longest mount
// point above it.
func blockDevice(path string) (string, error) {
	path, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err
	}
	raw, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("mount table unreadable: %w", err)
	}
	dev, best := "", ""
	for line := range strings.Lines(string(raw)) {
		// id parent major:minor root mountpoint options ... (proc(5)); a
		// space in the mount point is written \040.
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mnt := strings.ReplaceAll(f[4], `\040`, " ")
		rel, err := filepath.Rel(mnt, path)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") || len(mnt) < len(best) {
			continue
		}
		dev, best = f[2], mnt
	}
	if dev == "" {
		return "", fmt.Errorf("no mount holds %s", path)
	}
	return dev, nil
}

// sectorsWritten returns the 512-byte sectors written so far to dev, from
// its statistics in /sys (the block layer's stat file: the seventh field);
// devErr, when set, is returned as is.
func sectorsWritten(dev string, devErr error) (int64, error) {
	if devErr != nil {
		return 0, devErr
	}
	raw, err := os.ReadFile("/sys/dev/block/" + dev + "/stat")
	if err != nil {
		return 0, fmt.Errorf("device %s (a RAM or network file system has none): %w", dev, err)
	}
	f := strings.Fields(string(raw))
	if len(f) < 7 {
		return 0, fmt.Errorf("device %s: short stat %q", dev, raw)
	}
	return strconv.ParseInt(f[6], 10, 64)
}

// lastTxID returns the id of the last committed write transaction: a read
// transaction sees the meta page's, and every commit adds one.
func lastTxID(b *testing.B, db *bbolt.DB) int {
	b.Helper()
	tx, err := db.Begin(false)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	return tx.ID()
}

// readProcIO returns this process's I/O counters from /proc/self/io, by
// name, in bytes.
func readProcIO() (map[string]int64, error) {
	raw, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return nil, fmt.Errorf("/proc/self/io unreadable (not Linux, or no task I/O accounting): %w", err)
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		name, value, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(value)), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("/proc/self/io %s: %w", name, err)
		}
		out[string(name)] = n
	}
	for _, k := range []string{"wchar", "write_bytes"} {
		if _, ok := out[k]; !ok {
			return nil, fmt.Errorf("/proc/self/io has no %s", k)
		}
	}
	return out, nil
}

// BenchmarkOpenFullQueue measures the start-up of a charger whose queue is
// full (100,000 MeterValues, after weeks offline): bbolt.Open plus
// OpenQueue, which counts the entries by kind. With NoFreelistSync the
// database keeps no freelist on disk and bbolt rebuilds it on open by
// reading every page's header, the cost that option trades for one page
// less per commit.
func BenchmarkOpenFullQueue(b *testing.B) {
	const entries = 100000
	for _, v := range []struct {
		name string
		opts bbolt.Options
	}{
		{"default", bbolt.Options{}},
		{"nofreelistsync", bbolt.Options{NoFreelistSync: true}},
	} {
		b.Run(v.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "full.db")
			fill := v.opts
			fill.NoSync = true
			db, err := bbolt.Open(path, 0o600, &fill)
			if err != nil {
				b.Fatal(err)
			}
			q := queueMust(b, db, ocppclient.QueueOptions{MaxEntries: entries})
			e := ocppclient.Entry{Kind: ocppclient.KindMeter, Action: "MeterValues", Key: "session-1",
				Payload: json.RawMessage(benchMeterPayload)}
			for range entries {
				if _, err := q.Enqueue(e); err != nil {
					b.Fatal(err)
				}
			}
			if err := db.Sync(); err != nil {
				b.Fatal(err)
			}
			if err := db.Close(); err != nil {
				b.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				opts := v.opts
				db, err := bbolt.Open(path, 0o600, &opts)
				if err != nil {
					b.Fatal(err)
				}
				q, err := ocppclient.OpenQueue(db, ocppclient.QueueOptions{MaxEntries: entries})
				if err != nil {
					b.Fatal(err)
				}
				if q.Len() != entries {
					b.Fatalf("Len = %d", q.Len())
				}
				_ = q.Close()
				_ = db.Close()
			}
			b.ReportMetric(float64(fi.Size())/(1<<20), "db-MiB")
		})
	}
}
