// Command memcheck tells a memory leak of the agent from memory that its
// durable queue legitimately takes while a CSMS refuses or ignores
// transaction messages (the csmserror drill's fault).
//
// It runs one agent in this process, wired as `evsed run` wires it (sim
// board and meters, station, OCPP 1.6 adapter, bbolt queue, OCPP-J
// transport; the drill's keys: samples every second,
// TransactionMessageRetryInterval 1 s, TransactionMessageAttempts 100),
// against ocpptest's CSMS in a child process, so that the CSMS's own
// ledger is not counted. Connector 1 charges throughout; connector 2
// plugs, charges and leaves at seeded moments.
//
//   - control: a healthy CSMS for one window; the queue stays near empty.
//   - fault: CALLERROR for every call (FailAll) for one window, then no
//     answers at all (Silent) for another, then recovery until the queue
//     has drained.
//
// At each phase boundary it records VmRSS (anon, file, and the resident
// part of the bbolt mapping), the live Go heap after two GCs (HeapInuse,
// HeapObjects), StackInuse, the goroutines by site and a heap profile
// (runtime.MemProfile, every allocation with -memprofilerate 1), and prints
// the deltas, the deltas per queued entry and per CALL, and the allocation
// sites whose live heap grew most. Growth that follows the queued entries
// (bbolt pages, its freelist) is the queue; growth in goroutines, timers or
// live objects that follows the number of CALLs or retries is a leak.
//
//	go run ./scripts/internal/memcheck [-window 3m] [-runs control,fault] [-out DIR] [-pprof]
//
// scripts/memcheck builds and runs it from the module root.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/evsed/evsed/ocppclient/ocpptest"
)

// settings are the command line.
type settings struct {
	window, settle time.Duration
	seed           int64
	top            int
	out            string
	pprof          bool
	verbose        bool
	stderr         io.Writer
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == serveCSMSArg {
		os.Exit(serveCSMS())
	}
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("memcheck", flag.ContinueOnError)
	var s settings
	fs.DurationVar(&s.window, "window", 3*time.Minute, "length of each measured phase")
	fs.DurationVar(&s.settle, "settle", 20*time.Second, "pause after registration (and after the CSMS turns faulty) before the first snapshot")
	fs.Int64Var(&s.seed, "seed", 1, "seed of connector 2's plug/unplug moments")
	fs.IntVar(&s.top, "top", 12, "number of allocation sites to print per phase")
	fs.StringVar(&s.out, "out", "", "`DIR` for the heap profiles (default: a temporary directory, removed at exit)")
	fs.BoolVar(&s.pprof, "pprof", false, "also print `go tool pprof -top -diff_base` of the profiles (needs the go command)")
	fs.BoolVar(&s.verbose, "v", false, "agent and CSMS logs on stderr")
	runs := fs.String("runs", "control,fault", "runs to do, comma-separated: control, fault")
	rate := fs.Int("memprofilerate", 1, "runtime.MemProfileRate: 1 records every allocation")
	inProcess := fs.Bool("inprocess", false, "do the runs in this process (by default each run gets a fresh process, so that one run's memory does not count in the next)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if !*inProcess {
		return runEach(strings.Split(*runs, ","))
	}
	runtime.MemProfileRate = *rate
	s.stderr = io.Discard
	if s.verbose {
		s.stderr = os.Stderr
	}
	if s.out == "" {
		dir, err := os.MkdirTemp("", "memcheck-")
		if err != nil {
			fmt.Fprintf(os.Stderr, "memcheck: %v\n", err)
			return 1
		}
		defer os.RemoveAll(dir)
		s.out = dir
	} else if err := os.MkdirAll(s.out, 0o750); err != nil {
		fmt.Fprintf(os.Stderr, "memcheck: %v\n", err)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	csms, err := startCSMS(ctx, s.stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "memcheck: %v\n", err)
		return 1
	}
	defer csms.Stop()

	fmt.Printf("memcheck %s: window=%v settle=%v seed=%d memprofilerate=%d GOGC=%s %s/%s, CSMS in a child process\n",
		time.Now().Format("2006-01-02"), s.window, s.settle, s.seed, *rate, envOr("GOGC", "100"), runtime.GOOS, runtime.GOARCH)
	status := 0
	for _, r := range strings.Split(*runs, ",") {
		var err error
		switch strings.TrimSpace(r) {
		case "control":
			err = controlRun(ctx, s, csms)
		case "fault":
			err = faultRun(ctx, s, csms)
		default:
			err = fmt.Errorf("unknown run %q", r)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "memcheck: %s: %v\n", r, err)
			status = 1
		}
		if ctx.Err() != nil {
			return 1
		}
	}
	return status
}

// runEach runs this program once per run, in a fresh process, with the
// same flags.
func runEach(runs []string) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "memcheck: %v\n", err)
		return 1
	}
	status := 0
	for _, r := range runs {
		cmd := exec.Command(self, append(slices.Clone(os.Args[1:]), "-inprocess", "-runs", r)...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "memcheck: run %s: %v\n", r, err)
			status = 1
		}
	}
	return status
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// session is one run's agent with its workload.
type session struct {
	s      settings
	a      *agent
	stopWL context.CancelFunc
	wlDone chan struct{}
	snaps  []snapshot
}

// begin builds and starts an agent against csms, waits for its
// registration and starts the workload.
func begin(ctx context.Context, s settings, csms *ocpptest.Process, id string) (*session, error) {
	dir := filepath.Join(s.out, id)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(s.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := newAgent(id, dir, csms.URL(), log)
	if err != nil {
		return nil, err
	}
	a.start()
	if err := a.waitRegistered(ctx, 30*time.Second); err != nil {
		_ = a.stop()
		return nil, err
	}
	wctx, stopWL := context.WithCancel(ctx)
	ss := &session{s: s, a: a, stopWL: stopWL, wlDone: make(chan struct{})}
	go func() {
		defer close(ss.wlDone)
		workload(wctx, a, s.seed)
	}()
	return ss, nil
}

// workload charges on connector 1 throughout and plugs, charges and
// unplugs connector 2 at seeded moments (every 2-12 s), as the drill does,
// so that Starts and Stops queue up between the samples.
func workload(ctx context.Context, a *agent, seed int64) {
	rng := rand.New(rand.NewPCG(uint64(seed), 4))
	_ = a.sim.Plug(1)
	_ = a.sim.Charge(1)
	plugged := false
	for sleep(ctx, 2*time.Second+time.Duration(rng.Int64N(int64(10*time.Second)))) {
		if plugged {
			_ = a.sim.Unplug(2)
		} else {
			_ = a.sim.Plug(2)
			_ = a.sim.Charge(2)
		}
		plugged = !plugged
	}
}

// endWorkload stops the workload with every EV gone.
func (ss *session) endWorkload() {
	ss.stopWL()
	<-ss.wlDone
	_ = ss.a.sim.Unplug(1)
	_ = ss.a.sim.Unplug(2)
}

func (ss *session) snap(label string) error {
	sn, err := take(label, ss.a, ss.s.out)
	if err != nil {
		return err
	}
	ss.snaps = append(ss.snaps, sn)
	return nil
}

// wait runs the window, printing a progress sample (no forced GC) every
// 30 s.
func (ss *session) wait(ctx context.Context, d time.Duration, what string) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		step := min(30*time.Second, time.Until(end))
		if !sleep(ctx, step) {
			return false
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		rss, anon, file, _ := procStatus()
		fmt.Printf("    ~ %-8s +%-5s rss=%d anon=%d file=%d db_rss=%d KiB heap_inuse=%d KiB goroutines=%d queued=%d calls=%d\n",
			what, time.Since(end.Add(-d)).Round(time.Second), rss, anon, file, mappedRss(ss.a.dbPath),
			m.HeapInuse>>10, runtime.NumGoroutine(), ss.a.queue.Len(), ss.a.calls.total())
	}
	return true
}

func controlRun(ctx context.Context, s settings, csms *ocpptest.Process) error {
	fmt.Printf("\nrun control: healthy CSMS for %v\n", s.window)
	ss, err := begin(ctx, s, csms, "CPCTL")
	if err != nil {
		return err
	}
	defer ss.a.stop()
	if !sleep(ctx, s.settle) {
		return ctx.Err()
	}
	if err := ss.snap("start"); err != nil {
		return err
	}
	if !ss.wait(ctx, s.window, "healthy") {
		return ctx.Err()
	}
	if err := ss.snap("end"); err != nil {
		return err
	}
	ss.endWorkload()
	if err := ss.a.waitDrained(ctx, 2*time.Minute); err != nil {
		return err
	}
	if err := ss.snap("drained"); err != nil {
		return err
	}
	ss.report(0, 1, "healthy")
	ss.report(1, 2, "drained")
	ss.table()
	return nil
}

func faultRun(ctx context.Context, s settings, csms *ocpptest.Process) error {
	fmt.Printf("\nrun fault: CALLERROR for every call for %v, then no answers for %v, then recovery\n", s.window, s.window)
	ss, err := begin(ctx, s, csms, "CPERR")
	if err != nil {
		return err
	}
	defer ss.a.stop()
	defer func() { _ = csms.Set("failall", false); _ = csms.Set("silent", false) }()
	if err := csms.Set("failall", true); err != nil {
		return err
	}
	if !sleep(ctx, s.settle) {
		return ctx.Err()
	}
	if err := ss.snap("failall-start"); err != nil {
		return err
	}
	if !ss.wait(ctx, s.window, "failall") {
		return ctx.Err()
	}
	if err := ss.snap("failall-end"); err != nil {
		return err
	}
	if err := csms.Set("failall", false); err != nil {
		return err
	}
	if err := csms.Set("silent", true); err != nil {
		return err
	}
	if !ss.wait(ctx, s.window, "silent") {
		return ctx.Err()
	}
	if err := ss.snap("silent-end"); err != nil {
		return err
	}
	ss.endWorkload()
	if err := csms.Set("silent", false); err != nil {
		return err
	}
	if err := ss.a.waitDrained(ctx, 5*time.Minute); err != nil {
		return err
	}
	if err := ss.snap("drained"); err != nil {
		return err
	}
	ss.report(0, 1, "failall")
	ss.report(1, 2, "silent")
	ss.report(0, 2, "fault (both)")
	ss.report(2, 3, "recovery")
	ss.table()
	return nil
}

// table prints every snapshot of the run.
func (ss *session) table() {
	fmt.Printf("  snapshots (KiB unless noted; heap after two GCs; rss_low after returning free pages):\n")
	fmt.Printf("    %-14s %7s %7s %7s %7s %7s %10s %10s %8s %6s %5s %6s %8s %6s %7s %7s\n",
		"", "rss", "anon", "file", "db_rss", "rss_low", "agent_heap", "heap_inuse", "objects", "stack", "gor", "queued", "db_file", "calls", "refused", "timeout")
	for _, s := range ss.snaps {
		fmt.Printf("    %-14s %7d %7d %7d %7d %7d %10d %10d %8d %6d %5d %6d %8d %6d %7d %7d\n",
			s.label, s.rssKiB, s.anonKiB, s.fileKiB, s.dbRssKiB, s.rssLowKiB, s.agentBytes()>>10, s.heapInuse>>10,
			s.agentObjects(), s.stackInuse>>10, s.goroutines, s.queued, s.dbFileSize>>10, s.calls, s.refused, s.timedOut)
	}
}

// report prints the deltas between snapshots i and j and the allocation
// sites whose live heap grew.
func (ss *session) report(i, j int, phase string) {
	a, b := ss.snaps[i], ss.snaps[j]
	dq := b.queued - a.queued
	dc := b.calls - a.calls
	fmt.Printf("  %s (%s -> %s, %v):\n", phase, a.label, b.label, b.at.Sub(a.at).Round(time.Second))
	fmt.Printf("    VmRSS %+d KiB (anon %+d, file %+d, of which bbolt mapping %+d); after FreeOSMemory %+d KiB\n",
		b.rssKiB-a.rssKiB, b.anonKiB-a.anonKiB, b.fileKiB-a.fileKiB, b.dbRssKiB-a.dbRssKiB, b.rssLowKiB-a.rssLowKiB)
	fmt.Printf("    live heap %+d KiB (agent %+d B, harness %+d B), HeapInuse %+d KiB, HeapObjects %+d (agent %+d), StackInuse %+d KiB, goroutines %+d, profiler buckets %+d KiB\n",
		kib(b.heapAlloc, a.heapAlloc), b.agentBytes()-a.agentBytes(), b.harnessBytes-a.harnessBytes, kib(b.heapInuse, a.heapInuse),
		int64(b.heapObjects)-int64(a.heapObjects), b.agentObjects()-a.agentObjects(),
		kib(b.stackInuse, a.stackInuse), b.goroutines-a.goroutines, kib(b.buckHash, a.buckHash))
	fmt.Printf("    queued %+d (now %d), db file %+d KiB (now %d KiB, %d free + %d pending pages, freelist %d B), CALLs %d (%d refused, %d timed out)\n",
		dq, b.queued, (b.dbFileSize-a.dbFileSize)>>10, b.dbFileSize>>10, b.dbStats.FreePageN, b.dbStats.PendingPageN,
		b.dbStats.FreelistInuse, dc, b.refused-a.refused, b.timedOut-a.timedOut)
	dh := float64(b.agentBytes() - a.agentBytes())
	do := float64(b.agentObjects() - a.agentObjects())
	if dq != 0 {
		fmt.Printf("    per queued entry: live heap %+.0f B, objects %+.1f, db file %+.0f B\n",
			dh/float64(dq), do/float64(dq), float64(b.dbFileSize-a.dbFileSize)/float64(dq))
	}
	if dc != 0 {
		fmt.Printf("    per CALL: live heap %+.0f B, objects %+.2f\n", dh/float64(dc), do/float64(dc))
	}
	printGoroutineDiff(os.Stdout, a.gor, b.gor)
	ra, err := readRecords(a.records)
	if err != nil {
		fmt.Printf("    heap profile %s: %v\n", a.records, err)
		return
	}
	rb, err := readRecords(b.records)
	if err != nil {
		fmt.Printf("    heap profile %s: %v\n", b.records, err)
		return
	}
	var agentSites []siteDelta
	for _, d := range heapDiff(ra, rb) {
		if !strings.Contains(d.site, harnessPrefix) {
			agentSites = append(agentSites, d)
		}
	}
	fmt.Printf("    live heap by allocation site (bytes, objects; objects allocated during the phase):\n")
	for _, d := range topSites(agentSites, ss.s.top) {
		fmt.Printf("      %+9d B %+7d obj (%7d allocs)  %s\n", d.bytes, d.objs, d.allocObjs, d.site)
	}
	if ss.s.pprof {
		cmd := exec.Command("go", "tool", "pprof", "-top", "-inuse_space", "-nodecount=15", `-ignore=^main\.`, "-diff_base="+a.pprof, b.pprof)
		out, err := cmd.CombinedOutput()
		if err != nil {
			fmt.Printf("    go tool pprof: %v\n", err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			fmt.Printf("      | %s\n", l)
		}
	}
}

// topSites returns the n sites that grew most and, after them, the n that
// shrank most.
func topSites(d []siteDelta, n int) []siteDelta {
	var grew, shrank []siteDelta
	for _, x := range d {
		switch {
		case x.bytes > 0 || (x.bytes == 0 && x.objs > 0):
			grew = append(grew, x)
		case x.bytes < 0:
			shrank = append(shrank, x)
		}
	}
	grew = grew[:min(n, len(grew))]
	slices.Reverse(shrank)
	shrank = shrank[:min(n/3, len(shrank))]
	return append(grew, shrank...)
}

// agentBytes is the live heap without the harness's part.
func (s snapshot) agentBytes() int64 { return int64(s.heapAlloc) - s.harnessBytes }

// agentObjects is HeapObjects without the harness's part.
func (s snapshot) agentObjects() int64 { return int64(s.heapObjects) - s.harnessObjects }

func kib(b, a uint64) int64 { return (int64(b) - int64(a)) / 1024 }
