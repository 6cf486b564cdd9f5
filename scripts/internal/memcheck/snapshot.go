package main

import (
	"bufio"
	"cmp"
	"encoding/gob"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// snapshot is the process's memory at one moment, with what the agent had
// done by then.
type snapshot struct {
	label string
	at    time.Time

	// From /proc/self, before any forced GC: what the drill's VmRSS sees.
	rssKiB, anonKiB, fileKiB int
	// dbRssKiB is the resident part of the bbolt file's mapping.
	dbRssKiB int
	// rssLowKiB is VmRSS after a GC and returning free pages to the OS:
	// what the process needs, without the garbage the GC pacing allows.
	rssLowKiB int

	// After two GCs: live heap.
	heapAlloc, heapInuse, heapObjects, stackInuse, sys, buckHash uint64
	goroutines                                                   int

	// The agent.
	queued     int
	calls      int64
	refused    int64
	timedOut   int64
	dbFileSize int64
	dbStats    bbolt.Stats

	// harnessBytes and harnessObjects are the part of the live heap that
	// this program's own frames allocated (its goroutines, buffers), not the
	// agent's; the profile records themselves go to a file.
	harnessBytes, harnessObjects int64

	records string         // runtime.MemProfile records (gob), read back by the report
	gor     map[string]int // goroutines by their innermost module frame
	pprof   string         // heap profile in pprof format
}

// take records a snapshot into profileDir. It forces two garbage collections, so that the
// heap profile reflects the live heap (profiles lag one cycle).
func take(label string, a *agent, profileDir string) (snapshot, error) {
	s := snapshot{label: label, at: time.Now()}
	var err error
	if s.rssKiB, s.anonKiB, s.fileKiB, err = procStatus(); err != nil {
		return s, err
	}
	s.dbRssKiB = mappedRss(a.dbPath)

	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s.heapAlloc, s.heapInuse, s.heapObjects, s.stackInuse, s.sys, s.buckHash = m.HeapAlloc, m.HeapInuse, m.HeapObjects, m.StackInuse, m.Sys, m.BuckHashSys
	s.goroutines = runtime.NumGoroutine()
	recs := memProfile()
	for _, r := range recs {
		if isHarness(r.Stack()) {
			s.harnessBytes += r.InUseBytes()
			s.harnessObjects += r.InUseObjects()
		}
	}
	// Kept on disk rather than in memory, so that earlier snapshots do not
	// count as live heap in later ones.
	s.records = fmt.Sprintf("%s/heap-%s-%s.gob", profileDir, a.id, label)
	if err := writeRecords(s.records, recs); err != nil {
		return s, err
	}
	recs = nil
	s.gor = goroutinesBySite()
	s.pprof = fmt.Sprintf("%s/heap-%s-%s.pb.gz", profileDir, a.id, label)
	if err := writeProfile(s.pprof); err != nil {
		return s, err
	}
	debug.FreeOSMemory()
	if s.rssLowKiB, _, _, err = procStatus(); err != nil {
		return s, err
	}

	s.queued = a.queue.Len()
	s.calls, s.refused, s.timedOut = a.calls.total(), a.calls.refused.Load(), a.calls.timedOut.Load()
	if fi, err := os.Stat(a.dbPath); err == nil {
		s.dbFileSize = fi.Size()
	}
	s.dbStats = a.db.Stats()
	return s, nil
}

func writeProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeRecords(path string, recs []runtime.MemProfileRecord) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := gob.NewEncoder(f).Encode(recs); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readRecords(path string) ([]runtime.MemProfileRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []runtime.MemProfileRecord
	err = gob.NewDecoder(f).Decode(&recs)
	return recs, err
}

// procStatus reads VmRSS, RssAnon and RssFile (KiB) of this process.
func procStatus() (rss, anon, file int, err error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		switch k {
		case "VmRSS":
			rss = n
		case "RssAnon":
			anon = n
		case "RssFile":
			file = n
		}
	}
	return rss, anon, file, sc.Err()
}

// mappedRss sums the Rss (KiB) of this process's mappings of path: bbolt's
// read-only mmap of its file, counted in RssFile.
func mappedRss(path string) int {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in, total := false, 0
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			// A mapping header: address perms offset dev inode [path].
			in = len(fields) >= 6 && fields[5] == path
			continue
		}
		if in && len(fields) >= 2 && fields[0] == "Rss:" {
			n, _ := strconv.Atoi(fields[1])
			total += n
		}
	}
	return total
}

// memProfile returns the heap profile records (all of them, including
// stacks with nothing in use, so that a diff sees frees too).
func memProfile() []runtime.MemProfileRecord {
	n, _ := runtime.MemProfile(nil, true)
	for {
		recs := make([]runtime.MemProfileRecord, n+64)
		m, ok := runtime.MemProfile(recs, true)
		if ok {
			return recs[:m]
		}
		n = m
	}
}

// modulePrefix marks the frames that belong to evsed itself.
const modulePrefix = "github.com/evsed/evsed/"

// harnessPrefix marks this program's own frames, which are not the agent's.
const harnessPrefix = "main."

// site names an allocation stack: its innermost frame outside the runtime,
// and the innermost evsed frame above it when that is a different one.
func site(stk []uintptr) string {
	frames := runtime.CallersFrames(stk)
	var top, own string
	for {
		f, more := frames.Next()
		fn := f.Function
		if top == "" && fn != "" && !strings.HasPrefix(fn, "runtime.") {
			top = short(fn) + ":" + strconv.Itoa(f.Line)
		}
		if strings.HasPrefix(fn, modulePrefix) || strings.HasPrefix(fn, harnessPrefix) {
			own = short(fn) + ":" + strconv.Itoa(f.Line)
			break
		}
		if !more {
			break
		}
	}
	switch {
	case top == "":
		return "runtime"
	case own == "" || own == top:
		return top
	}
	return top + " <- " + own
}

// isHarness reports whether a stack's innermost own frame is this
// program's rather than the agent's.
func isHarness(stk []uintptr) bool {
	frames := runtime.CallersFrames(stk)
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, harnessPrefix) {
			return true
		}
		if strings.HasPrefix(f.Function, modulePrefix) || !more {
			return false
		}
	}
}

// short drops the module path from a function name.
func short(fn string) string {
	fn = strings.TrimPrefix(fn, modulePrefix)
	if i := strings.LastIndex(fn, "/"); i >= 0 && !strings.HasPrefix(fn, "ocppclient") && !strings.HasPrefix(fn, "station") {
		// Third-party packages: keep the last path element.
		fn = fn[i+1:]
	}
	return fn
}

// siteDelta is the change of the live heap at one allocation site.
type siteDelta struct {
	site        string
	bytes, objs int64
	allocObjs   int64 // objects allocated at the site during the window
}

// heapDiff compares the in-use heap per allocation site between two
// profiles taken with runtime.MemProfile.
func heapDiff(a, b []runtime.MemProfileRecord) []siteDelta {
	type key [32]uintptr
	type use struct{ bytes, objs, allocs int64 }
	// The runtime keeps one record per stack and object size: sum them.
	before := map[key]use{}
	for _, r := range a {
		u := before[r.Stack0]
		before[r.Stack0] = use{u.bytes + r.InUseBytes(), u.objs + r.InUseObjects(), u.allocs + r.AllocObjects}
	}
	after := map[key]use{}
	stacks := map[key][]uintptr{}
	for _, r := range b {
		u := after[r.Stack0]
		after[r.Stack0] = use{u.bytes + r.InUseBytes(), u.objs + r.InUseObjects(), u.allocs + r.AllocObjects}
		stacks[r.Stack0] = r.Stack()
	}
	bySite := map[string]*siteDelta{}
	add := func(stk []uintptr, bytes, objs, allocs int64) {
		if bytes == 0 && objs == 0 && allocs == 0 {
			return
		}
		s := site(stk)
		d := bySite[s]
		if d == nil {
			d = &siteDelta{site: s}
			bySite[s] = d
		}
		d.bytes += bytes
		d.objs += objs
		d.allocObjs += allocs
	}
	for k, v := range after {
		u := before[k]
		add(stacks[k], v.bytes-u.bytes, v.objs-u.objs, v.allocs-u.allocs)
	}
	for _, r := range a {
		if _, ok := after[r.Stack0]; !ok {
			add(r.Stack(), -r.InUseBytes(), -r.InUseObjects(), 0)
		}
	}
	out := make([]siteDelta, 0, len(bySite))
	for _, d := range bySite {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(x, y siteDelta) int { return cmp.Compare(y.bytes, x.bytes) })
	return out
}

// goroutinesBySite counts the live goroutines by their innermost evsed (or
// harness) frame, else their innermost frame.
func goroutinesBySite() map[string]int {
	n := runtime.NumGoroutine()
	var recs []runtime.StackRecord
	for {
		recs = make([]runtime.StackRecord, n+16)
		m, ok := runtime.GoroutineProfile(recs)
		if ok {
			recs = recs[:m]
			break
		}
		n = m
	}
	out := map[string]int{}
	for _, r := range recs {
		out[site(r.Stack())]++
	}
	return out
}

// printGoroutineDiff prints the sites whose goroutine count changed.
func printGoroutineDiff(w io.Writer, a, b map[string]int) {
	var keys []string
	for k := range a {
		if a[k] != b[k] {
			keys = append(keys, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok && b[k] != 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		fmt.Fprintf(w, "    goroutines: same sites, same counts\n")
		return
	}
	for _, k := range keys {
		fmt.Fprintf(w, "    goroutines %+d (%d -> %d) at %s\n", b[k]-a[k], a[k], b[k], k)
	}
}
