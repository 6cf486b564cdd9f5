package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The storage figures: what `evsed run` writes to storage while it charges,
// for the flash-wear budget (at most 4 MB per charging hour with one
// session and 6 MB with two, at MeterValueSampleInterval 10 s).
//
// # What is counted
//
//   - write_bytes of /proc/PID/io: what the agent's process made dirty in
//     the page cache, to be written to storage (Linux counts a page each
//     time it turns dirty, the whole folio where the page cache uses large
//     ones, and never the file system's journal). The agent's stdout and
//     stderr are a pipe to this program, as they are to journald under
//     systemd, so this is the data dir alone; the log text is counted
//     apart.
//   - device: 512-byte sectors written to the block device holding the
//     data dir, from /sys/block/DEV/stat. It holds the ext4 journal and
//     every other writer of that device, so it is taken only from a device
//     of the agent's own: as root, the data dir is put on a fresh 256 MiB
//     ext4 image (4 KiB blocks, journal, mounted noatime) on a loop device;
//     otherwise it is n/a.
//   - bbolt commits: the database's last transaction id, read from its
//     meta pages, which every commit advances by one.
//
// # Windows
//
// Each window spans a whole number of sample intervals and starts in the
// middle of the longest quiet stretch of the agent's write_bytes over one
// interval, so that it holds exactly that many samples of every session
// and no sample is cut by its edges. Per message is per meter sample of a
// session (each queues one MeterValues); per hour is the window's rate.
//
// # Breakdown
//
// Where the bytes go is told apart by running the agent in variants that
// each leave out one writer, one session charging each, and taking
// differences of their write_bytes (and device) rates:
//
//   - as shipped (CSMS connected): everything;
//   - standalone (no CSMS): MeterValues are queued but never sent, so no
//     acknowledgement is written: as shipped minus standalone is the
//     acknowledgements' share (drain marks and their flush commits);
//   - no MeterValues (MeterValuesSampledData empty): the station still
//     checkpoints every sample of its session but nothing is queued:
//     standalone minus this is the queue's enqueues, this minus idle the
//     station's checkpoints;
//   - idle (as shipped, no session): everything else.
//
// Differences of noisy figures can come out slightly negative; they are
// printed as measured. write_bytes moves in whole page-cache folios (4 KiB
// and up), and where a bbolt commit's pages fall varies, so a difference
// is good to about one folio per message over a short window; the totals
// are measured, not summed. Two rows project the write_bytes totals
// without the station's per-sample checkpoint (as shipped minus its share
// per session), for the work on the station; the device's are not
// projected, as ext4 commits its journal every 5 s for whatever was
// written meanwhile (a file's times change with every write): writes close
// in time share a journal commit, and the device's shares do not add up.

// storageVariant is one configuration of `evsed run` and the phases measured
// on it: the number of sessions charging in each, in order.
type storageVariant struct {
	name   string
	opts   agentOptions
	phases []int
}

// storageCounters are the agent's cumulative counters at one moment.
type storageCounters struct {
	at         time.Time
	writeBytes int64  // /proc/PID/io write_bytes
	sectors    int64  // device sectors written; 0 without a device of its own
	txid       uint64 // bbolt's last transaction id
	logBytes   int64  // bytes of log text on stdout and stderr
}

// storagePhase is one measured window.
type storagePhase struct {
	sessions int
	samples  int // meter samples of sessions in the window, all sessions together
	d        storageCounters
	elapsed  time.Duration
}

func (p storagePhase) perHour(v int64) float64 { return float64(v) / p.elapsed.Hours() }

// storage runs the variants and adds the storage rows: totals for one and
// two sessions, then the breakdown of one session's.
func storage(ctx context.Context, t *table, bin, dir string, window time.Duration, ocpp string) {
	measures := []string{"storage idle", "storage 1 session", "storage 2 sessions", "storage breakdown, 1 session"}
	if ctx.Err() != nil {
		return
	}
	if bin == "" {
		for _, m := range measures {
			t.fail(m, errors.New("no evsed binary for this machine"))
		}
		return
	}
	if _, err := os.Stat("/proc/self/io"); err != nil {
		for _, m := range measures {
			t.fail(m, errors.New("needs Linux /proc/PID/io"))
		}
		return
	}
	samples := max(1, int(window/meterSampleInterval))
	window = time.Duration(samples) * meterSampleInterval

	base := filepath.Join(dir, "storage")
	if err := os.MkdirAll(base, 0o750); err != nil {
		t.fail(measures[0], err)
		return
	}
	dataRoot, dev := base, ""
	mnt, d, undo, devErr := scratchDevice(ctx, base)
	if devErr == nil {
		defer undo()
		dataRoot, dev = mnt, d
		progress("storage: data dirs on %s, a device of their own", dev)
	} else {
		progress("storage: device figures n/a: %v", devErr)
	}

	variants := []storageVariant{
		{name: "as shipped", phases: []int{0, 1, 2}},
		// Without a CSMS nobody authorizes a card: free charging.
		{name: "standalone", opts: agentOptions{standalone: true, free: true}, phases: []int{1}},
		{name: "no MeterValues", opts: agentOptions{keys: map[string]string{"MeterValuesSampledData": ""}}, phases: []int{1}},
	}
	got := map[string][]storagePhase{}
	for i, v := range variants {
		if ctx.Err() != nil {
			return
		}
		vdir := filepath.Join(base, strconv.Itoa(i))
		if err := os.MkdirAll(vdir, 0o750); err != nil {
			t.fail(measures[0], err)
			return
		}
		v.opts.dataDir = filepath.Join(dataRoot, "data"+strconv.Itoa(i))
		v.opts.ocpp = ocpp
		progress("storage, %s: %d s windows", v.name, int(window.Seconds()))
		phases, err := storageVariantRun(ctx, bin, vdir, dev, v, samples)
		if err != nil {
			err = fmt.Errorf("%s: %w", v.name, err)
			if i == 0 {
				for _, m := range measures {
					t.fail(m, err)
				}
				return
			}
			for _, p := range got["as shipped"] {
				storageRows(t, p, dev, devErr)
			}
			t.fail(measures[3], err)
			return
		}
		got[v.name] = phases
	}

	shipped := got["as shipped"]
	for _, p := range shipped {
		storageRows(t, p, dev, devErr)
	}
	storageBreakdown(t, shipped[0], shipped[1], shipped[2], got["standalone"][0], got["no MeterValues"][0], dev != "")
}

// storageVariantRun starts the agent of v, measures each of its phases and
// stops it.
func storageVariantRun(ctx context.Context, bin, dir, dev string, v storageVariant, samples int) ([]storagePhase, error) {
	start := time.Now()
	a, err := startAgent(ctx, bin, dir, v.opts)
	if err != nil {
		return nil, err
	}
	defer a.stop()
	var out []storagePhase
	charging := 0
	// Start-up leaves dirty pages that are not synced (file times, the
	// database's growth), which the kernel writes back after 30 s: wait
	// for that before the first window, so that it is not counted.
	settle := 35*time.Second - time.Since(start)
	for _, n := range v.phases {
		for charging < n {
			charging++
			progress("storage, %s: starting charging session %d", v.name, charging)
			if err := a.charge(ctx, charging); err != nil {
				return nil, err
			}
		}
		// Past the session's start and its first sample, into the steady
		// state (the window then waits for a quiet moment too).
		if !sleep(ctx, max(settle, 15*time.Second)) {
			return nil, ctx.Err()
		}
		settle = 0
		p, err := a.storageWindow(ctx, dev, samples)
		if err != nil {
			return nil, errors.Join(err, a.exited())
		}
		if err := a.stillCharging(ctx, n); err != nil {
			return nil, err
		}
		p.sessions, p.samples = n, n*samples
		out = append(out, p)
	}
	return out, nil
}

// storageWindow measures samples sample intervals of the running agent,
// starting in its quietest moment (see the storage doc).
func (a *agentProc) storageWindow(ctx context.Context, dev string, samples int) (storagePhase, error) {
	start, err := a.quietMoment(ctx)
	if err != nil {
		return storagePhase{}, err
	}
	if !sleep(ctx, time.Until(start)) {
		return storagePhase{}, ctx.Err()
	}
	c0, err := a.counters(dev)
	if err != nil {
		return storagePhase{}, err
	}
	if !sleep(ctx, time.Until(c0.at.Add(time.Duration(samples)*meterSampleInterval))) {
		return storagePhase{}, ctx.Err()
	}
	c1, err := a.counters(dev)
	if err != nil {
		return storagePhase{}, err
	}
	return storagePhase{
		d: storageCounters{
			writeBytes: c1.writeBytes - c0.writeBytes,
			sectors:    c1.sectors - c0.sectors,
			txid:       c1.txid - c0.txid,
			logBytes:   c1.logBytes - c0.logBytes,
		},
		elapsed: c1.at.Sub(c0.at),
	}, nil
}

// quietMoment watches the agent's write_bytes for one sample interval and
// returns the next time, modulo the interval, in the middle of the longest
// stretch without a write; now if it wrote nothing.
func (a *agentProc) quietMoment(ctx context.Context) (time.Time, error) {
	const step = 20 * time.Millisecond
	pid := a.cmd.Process.Pid
	t0 := time.Now()
	last, err := procIO(pid, "write_bytes")
	if err != nil {
		return time.Time{}, err
	}
	var writes []time.Duration // offsets into the interval
	for time.Since(t0) < meterSampleInterval {
		if !sleep(ctx, step) {
			return time.Time{}, ctx.Err()
		}
		v, err := procIO(pid, "write_bytes")
		if err != nil {
			return time.Time{}, err
		}
		if v != last {
			writes = append(writes, time.Since(t0))
			last = v
		}
	}
	if len(writes) == 0 {
		return time.Now(), nil
	}
	slices.Sort(writes)
	// The gaps between successive writes, the last one wrapping around.
	best, bestLen := time.Duration(0), time.Duration(-1)
	for i, w := range writes {
		next := meterSampleInterval + writes[0]
		if i+1 < len(writes) {
			next = writes[i+1]
		}
		if g := next - w; g > bestLen {
			best, bestLen = w+g/2, g
		}
	}
	at := t0.Add(best % meterSampleInterval)
	for at.Before(time.Now()) {
		at = at.Add(meterSampleInterval)
	}
	return at, nil
}

// counters reads the agent's storage counters now.
func (a *agentProc) counters(dev string) (storageCounters, error) {
	c := storageCounters{at: time.Now(), logBytes: a.logBytes.n.Load()}
	var err error
	if c.writeBytes, err = procIO(a.cmd.Process.Pid, "write_bytes"); err != nil {
		return c, err
	}
	if dev != "" {
		if c.sectors, err = sectorsWritten(dev); err != nil {
			return c, err
		}
	}
	if c.txid, err = bboltTxID(filepath.Join(a.dataDir, "evsed.db")); err != nil {
		return c, err
	}
	return c, nil
}

// storageRows adds the totals of one phase of the agent as shipped.
func storageRows(t *table, p storagePhase, dev string, devErr error) {
	name := "storage idle"
	target := ""
	switch p.sessions {
	case 1:
		name, target = "storage 1 session", ", target <= 4 MB/h"
	case 2:
		name, target = "storage 2 sessions", ", target <= 6 MB/h"
	}
	how := fmt.Sprintf("%s window", p.elapsed.Round(time.Second))
	if p.samples > 0 {
		how = fmt.Sprintf("%d samples (%d x %d sessions) in a %s window; bbolt commits %.2f/sample",
			p.samples, p.samples/p.sessions, p.sessions, p.elapsed.Round(time.Second), float64(p.d.txid)/float64(p.samples))
	} else {
		how += fmt.Sprintf("; bbolt commits %d", p.d.txid)
	}
	t.add(name+", write_bytes", storageFigure(p, p.d.writeBytes), "/proc/PID/io write_bytes; "+how+target)
	if dev == "" {
		t.fail(name+", device", fmt.Errorf("%v", devErr))
	} else {
		t.add(name+", device", storageFigure(p, p.d.sectors*512),
			"sectors written to "+dev+" (ext4 4 KiB blocks, journal, noatime; data dir alone)"+target)
	}
	t.add(name+", log text", fmt.Sprintf("%.3f MB/h", p.perHour(p.d.logBytes)/1e6),
		"stdout+stderr at the default log level, not in the figures above (journald's under systemd)")
}

// storageFigure formats bytes written in a phase per hour and per sample.
func storageFigure(p storagePhase, v int64) string {
	s := fmt.Sprintf("%.2f MB/h", p.perHour(v)/1e6)
	if p.samples > 0 {
		s += fmt.Sprintf(", %.1f KiB/msg", float64(v)/float64(p.samples)/1024)
	}
	return s
}

// storageBreakdown adds where one session's bytes go, from the variants'
// differences (see the storage doc).
func storageBreakdown(t *table, idle, shipped, shipped2, standalone, noMV storagePhase, device bool) {
	type metric struct {
		name string
		of   func(storagePhase) int64
	}
	metrics := []metric{{"write_bytes", func(p storagePhase) int64 { return p.d.writeBytes }}}
	if device {
		metrics = append(metrics, metric{"device", func(p storagePhase) int64 { return p.d.sectors * 512 }})
	}
	for _, m := range metrics {
		rate := func(p storagePhase) float64 { return p.perHour(m.of(p)) }
		commits := func(p storagePhase) float64 { return p.perHour(int64(p.d.txid)) }
		samplesPerHour := shipped.perHour(int64(shipped.samples))
		parts := []struct {
			what       string
			bytes, txs float64
			how        string
		}{
			{"queue enqueues", rate(standalone) - rate(noMV), commits(standalone) - commits(noMV), "standalone - no MeterValues"},
			{"queue acknowledgements", rate(shipped) - rate(standalone), commits(shipped) - commits(standalone), "as shipped - standalone"},
			{"station checkpoints", rate(noMV) - rate(idle), commits(noMV) - commits(idle), "no MeterValues - idle"},
			{"other (idle agent)", rate(idle), commits(idle), "idle, as shipped"},
		}
		for _, p := range parts {
			t.add(fmt.Sprintf("storage breakdown, 1 session, %s: %s", m.name, p.what),
				fmt.Sprintf("%.2f MB/h, %.1f KiB/msg", p.bytes/1e6, p.bytes/samplesPerHour/1024),
				fmt.Sprintf("%s; bbolt commits %.2f/msg", p.how, p.txs/samplesPerHour))
		}
		if m.name != "write_bytes" {
			// The device's journal commits are shared by writes close in
			// time, so its shares do not add up per session.
			continue
		}
		checkpoint := parts[2].bytes // per hour of one session
		for _, p := range []storagePhase{shipped, shipped2} {
			rest := rate(p) - float64(p.sessions)*checkpoint
			t.add(fmt.Sprintf("storage %d session(s) without station checkpoints, %s (projected)", p.sessions, m.name),
				fmt.Sprintf("%.2f MB/h, %.1f KiB/msg", rest/1e6, rest/p.perHour(int64(p.samples))/1024),
				fmt.Sprintf("as shipped minus %d x the checkpoints' share above", p.sessions))
		}
	}
}

// procIO returns one counter of /proc/PID/io, in bytes.
func procIO(pid int, key string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, err
	}
	for l := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(l, ":")
		if ok && k == key {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/io: no %s", pid, key)
}

// sectorsWritten returns the 512-byte sectors written so far to the block
// device dev (a name under /sys/block): the seventh field of its stat.
func sectorsWritten(dev string) (int64, error) {
	data, err := os.ReadFile("/sys/block/" + dev + "/stat")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(data))
	if len(f) < 7 {
		return 0, fmt.Errorf("/sys/block/%s/stat: short", dev)
	}
	return strconv.ParseInt(f[6], 10, 64)
}

// bbolt's meta page, as its file format lays it out: the page header (16
// bytes), then magic, version, page size, flags, root bucket (root page
// and sequence), freelist page, high-water page, transaction id, and an
// FNV-1a checksum of what precedes it. Pages 0 and 1 hold one each, written
// alternately, so the valid one with the higher id is the last commit.
const (
	bboltMagic       = 0xED0CDAED
	bboltMetaOff     = 16
	bboltPageSizeOff = bboltMetaOff + 8
	bboltTxIDOff     = bboltMetaOff + 48
	bboltSumOff      = bboltMetaOff + 56
)

// bboltTxID reads the id of the last committed transaction of the bbolt
// file at path without opening it as a database (the agent holds its
// lock); a meta page caught mid-write fails its checksum and the other one
// counts.
func bboltTxID(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	meta := func(off int64) (txid uint64, pageSize uint32, ok bool) {
		b := make([]byte, bboltSumOff+8)
		if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
			return 0, 0, false
		}
		if binary.LittleEndian.Uint32(b[bboltMetaOff:]) != bboltMagic {
			return 0, 0, false
		}
		h := fnv.New64a()
		h.Write(b[bboltMetaOff:bboltSumOff])
		if h.Sum64() != binary.LittleEndian.Uint64(b[bboltSumOff:]) {
			return 0, 0, false
		}
		return binary.LittleEndian.Uint64(b[bboltTxIDOff:]), binary.LittleEndian.Uint32(b[bboltPageSizeOff:]), true
	}
	tx0, size, ok0 := meta(0)
	if !ok0 {
		// Meta 0 torn: meta 1 sits one page further, and pages are 4 KiB
		// on every platform evsed runs on unless set otherwise.
		size = 4096
	}
	tx1, _, ok1 := meta(int64(size))
	switch {
	case ok0 && ok1:
		return max(tx0, tx1), nil
	case ok0:
		return tx0, nil
	case ok1:
		return tx1, nil
	}
	return 0, fmt.Errorf("%s: no valid bbolt meta page", path)
}
