package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/cmd/evsed/internal/fleet"
	"go.etcd.io/bbolt"
)

// fleetDBName is the database file of `evsed fleet --data DIR`.
const fleetDBName = "evsed-fleet.db"

// fleetPageSize is the bbolt page size of a new fleet database (an existing
// one keeps the size it was made with). Every station has a handful of
// small buckets, each a page of its own once it holds sub-buckets or more
// than a quarter of a page, and with the OS's 4 KiB pages most of each
// page is empty. The file's pages are mapped into the process and count
// in its RSS: 512-byte pages make it 2.4 KB per station after a short run
// at 1,000 stations, against 3.6 KB with 1 KiB pages and 11 KB with 4 KiB.
const fleetPageSize = 512

// ocppKeyFlags collects repeated --ocpp KEY=VALUE flags.
type ocppKeyFlags map[string]string

func (k ocppKeyFlags) String() string { return fmt.Sprint(map[string]string(k)) }

func (k ocppKeyFlags) Set(s string) error {
	key, value, ok := strings.Cut(s, "=")
	if !ok || key == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	k[key] = value
	return nil
}

// cmdFleet implements `evsed fleet`: N simulated stations against one CSMS,
// live counts every --report on stdout, a summary at the end (after
// --duration, or on SIGINT/SIGTERM).
func cmdFleet(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("evsed fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	csmsURL := fs.String("csms", "", "CSMS `URL` (ws:// or wss://); each station's id is appended")
	stations := fs.Int("stations", 0, "number of simulated stations `N`")
	conns := fs.Int("connectors", 2, "connectors per station")
	prefix := fs.String("id-prefix", "FLEET", "charge point ids are `PREFIX` + the station's number")
	plugRate := fs.Float64("plug-rate", 2, "plug-ins per station per hour")
	chargeTime := fs.Duration("charge-time", 25*time.Minute, "mean time from card swipe to unplug (uniform in 0.5x-1.5x)")
	duration := fs.Duration("duration", 0, "stop after this long (0: run until SIGINT)")
	seed := fs.Uint64("seed", 1, "seed of the scenario's plan (same seed, same plan)")
	dataDir := fs.String("data", "", "keep the stations' durable state in `DIR`/"+fleetDBName+" (fsync'd)")
	memory := fs.Bool("memory", false, "keep the state in a temporary, unsynced database deleted at exit (default)")
	password := fs.String("password", "", "basic-auth password of every station (security profile 1)")
	ramp := fs.Duration("ramp", 0, "spread the stations' connects over this long (0: 5 ms per station)")
	meterRead := fs.Duration("meter-read", 10*time.Second, "how often each station reads its simulated meters")
	report := fs.Duration("report", 5*time.Second, "print live counts this often")
	logLevel := fs.String("log-level", "warn", "log `LEVEL` of the stations' logs on stderr: debug, info, warn or error")
	memProfile := fs.String("memprofile", "", "write a heap profile to `FILE` when the run ends, before the stations stop")
	gogc := fs.String("gogc", "", "garbage collector target `PERCENT` or off, as GOGC (default: GOGC, else 100); lower saves memory for CPU")
	memLimit := fs.String("memory-limit", "", "soft memory limit `SIZE` of the process, as GOMEMLIMIT (e.g. 800MiB; default: GOMEMLIMIT, else none)")
	keys := ocppKeyFlags{}
	fs.Var(keys, "ocpp", "initial OCPP configuration key of every station, `KEY=VALUE` (repeatable)")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "evsed fleet: "+format+"\n%s", append(a, usageText)...)
		return exitUsage
	}
	switch {
	case fs.NArg() > 0:
		return usage("unexpected argument %q", fs.Arg(0))
	case *csmsURL == "":
		return usage("--csms is required")
	case *stations < 1:
		return usage("--stations must be at least 1")
	case *dataDir != "" && *memory:
		return usage("--data and --memory exclude each other")
	case *chargeTime <= 0 || *report <= 0:
		return usage("--charge-time and --report must be positive")
	}
	switch *logLevel {
	case "debug", "info", "warn", "error":
	default:
		return usage("--log-level %q: want debug, info, warn or error", *logLevel)
	}
	// The GC settings are the process's: the fleet owns it, unlike the
	// packages it runs, which never touch them.
	if *gogc != "" {
		pct, err := fleet.ParseGCPercent(*gogc)
		if err != nil {
			return usage("--gogc: %v", err)
		}
		debug.SetGCPercent(pct)
	}
	if *memLimit != "" {
		limit, err := fleet.ParseMemoryLimit(*memLimit)
		if err != nil {
			return usage("--memory-limit: %v", err)
		}
		debug.SetMemoryLimit(limit)
	}
	if *memProfile != "" {
		// One sample per 4 KiB allocated rather than per 512 KiB: the
		// per-station objects are a few hundred bytes each, and the
		// default rate sees only a fraction of them. Set before anything
		// is built, as the rate applies to later allocations.
		runtime.MemProfileRate = 4 << 10
	}

	db, cleanup, err := openFleetDB(*dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "evsed fleet: %v\n", err)
		return exitError
	}
	defer cleanup()

	log := newLogger(stderr, *logLevel)
	storage := "memory (temporary, not durable)"
	if *dataDir != "" {
		storage = filepath.Join(*dataDir, fleetDBName)
	}
	built := time.Now()
	f, err := fleet.New(fleet.Options{
		CSMSURL:    *csmsURL,
		Password:   *password,
		Stations:   *stations,
		Connectors: *conns,
		IDPrefix:   *prefix,
		Seed:       *seed,
		Scenario: fleet.Scenario{
			PlugRate:  *plugRate,
			ChargeMin: *chargeTime / 2,
			ChargeMax: *chargeTime * 3 / 2,
		},
		Ramp:              *ramp,
		OCPPKeys:          keys,
		MeterReadInterval: *meterRead,
		DrainOnStop:       drainOnStop,
		DB:                db,
		Clock:             clock.Real{},
		Logger:            log,
	})
	if err != nil {
		fmt.Fprintf(stderr, "evsed fleet: %v\n", err)
		return exitError
	}
	if *dataDir != "" {
		// The stations' initial state was written without fsync (see
		// openFleetDB); make it durable before anything counts on it.
		if err := db.Sync(); err != nil {
			fmt.Fprintf(stderr, "evsed fleet: sync database: %v\n", err)
			return exitError
		}
		db.NoSync = false
	}
	fmt.Fprintf(stdout, "evsed fleet: %d stations x %d connectors, ids %s..., csms %s, storage %s, seed %d, built in %v\n",
		*stations, *conns, *prefix, *csmsURL, storage, *seed, time.Since(built).Round(time.Millisecond))

	// The fleet's stations share one executable: the same trim as evsed
	// run's, first once every station has started, as their connects and
	// first registrations touch code the steady state does not run.
	defer startTrimmer(f.RampUp()+startupTrimDelay, trimEvery, trimSlack)()

	sigCtx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		sigCtx, cancel = context.WithTimeout(sigCtx, *duration)
		defer cancel()
	}
	// The fleet stops only after the reporter has taken its last look (and
	// the heap profile), so that they see the stations still running.
	fleetCtx, stopFleet := context.WithCancel(context.Background())
	defer stopFleet()
	runErr := make(chan error, 1)
	go func() { runErr <- f.Run(fleetCtx) }()

	first := f.Snapshot()
	prev := first
	tick := time.NewTicker(*report)
	defer tick.Stop()
	var err2 error
loop:
	for {
		select {
		case <-tick.C:
			s := f.Snapshot()
			printLive(stdout, first, prev, s)
			prev = s
		case <-sigCtx.Done():
			break loop
		case err2 = <-runErr:
			runErr = nil
			break loop
		}
	}
	last := f.Snapshot()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms) // while the stations still run
	if *memProfile != "" {
		if err := writeHeapProfile(*memProfile); err != nil {
			fmt.Fprintf(stderr, "evsed fleet: %v\n", err)
		}
	}
	stopFleet()
	if runErr != nil {
		err2 = <-runErr
	}
	printSummary(stdout, first, last, f.Snapshot(), &ms)
	if err2 != nil {
		fmt.Fprintf(stderr, "evsed fleet: %v\n", err2)
		return exitError
	}
	return exitOK
}

// openFleetDB opens the fleet's database: DIR/evsed-fleet.db when dir is
// set, else a file in a new temporary directory, unsynced and removed by
// cleanup. A durable database is opened with NoSync while the stations are
// built (tens of thousands of small commits) and synced once afterwards by
// the caller; nothing counts on that state before the stations run.
func openFleetDB(dir string) (*bbolt.DB, func(), error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, nil, fmt.Errorf("data dir: %w", err)
		}
		path := filepath.Join(dir, fleetDBName)
		db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: dbLockTimeout, NoSync: true, PageSize: fleetPageSize})
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, nil, fmt.Errorf("database %s is locked: is another evsed fleet running on it?", path)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("database %s: %w", path, err)
		}
		return db, func() { db.Close() }, nil
	}
	tmp, err := os.MkdirTemp("", "evsed-fleet-")
	if err != nil {
		return nil, nil, err
	}
	// NoSync and no freelist sync: commits cost no disk flush. A crash
	// loses the lot, which is the point of --memory: the file is deleted
	// at exit anyway.
	db, err := bbolt.Open(filepath.Join(tmp, fleetDBName), 0o600, &bbolt.Options{NoSync: true, NoFreelistSync: true, PageSize: fleetPageSize})
	if err != nil {
		os.RemoveAll(tmp)
		return nil, nil, err
	}
	return db, func() { db.Close(); os.RemoveAll(tmp) }, nil
}

// printLive prints one line of live counts: the rates and latencies are
// those of the interval since prev.
func printLive(w io.Writer, first, prev, s fleet.Snapshot) {
	r := s.Rates(prev)
	fmt.Fprintf(w, "%5.0fs  stations %d/%d  connected %d  registered %d  sessions %d active %d total  calls/s %.1f  errors %d  p50 %v  p99 %v\n",
		s.At.Sub(first.At).Seconds(), s.Started, s.Stations, s.Connected, s.Registered,
		s.SessionsActive(), s.SessionsStarted(), r.CallsPerSecond, s.Errors(), r.P50, r.P99)
}

// printSummary prints the totals of the run: last and ms are the looks
// taken while the stations still ran, final the one after they stopped.
func printSummary(w io.Writer, first, last, final fleet.Snapshot, ms *runtime.MemStats) {
	r := final.Rates(first)
	fmt.Fprintf(w, "summary after %v:\n", r.Interval.Round(time.Millisecond))
	fmt.Fprintf(w, "  stations %d, started %d, connected %d and registered %d at the end of the run\n",
		final.Stations, final.Started, last.Connected, last.Registered)
	fmt.Fprintf(w, "  scenario: %d plug-ins, %d card swipes, %d unplugs, %d steps refused\n",
		final.Plugs, final.Swipes, final.Unplugs, final.SimErrors)
	fmt.Fprintf(w, "  sessions acknowledged by the CSMS: %d started, %d stopped\n",
		final.SessionsStarted(), final.Action("StopTransaction").OK)
	fmt.Fprintf(w, "  calls %d (%.1f/s), latency p50 %v p99 %v, errors %d (%d warnings logged)\n",
		final.Calls(), r.CallsPerSecond, r.P50, r.P99, final.Errors(), final.Warnings)
	for _, a := range final.Actions {
		if a.OK+a.Refused+a.Failed > 0 {
			fmt.Fprintf(w, "    %-20s ok %d  refused %d  failed %d\n", a.Action, a.OK, a.Refused, a.Failed)
		}
	}
	perStation := float64(last.Goroutines) / float64(max(last.Started, 1))
	n := float64(max(last.Started, 1))
	fmt.Fprintf(w, "  goroutines %d while running (%.1f per station); Go heap in use %d MiB, stacks %d MiB, from the OS %d MiB\n",
		last.Goroutines, perStation, ms.HeapInuse>>20, ms.StackInuse>>20, ms.Sys>>20)
	fmt.Fprintf(w, "  per station: heap in use %.1f KB, stacks %.1f KB, from the OS %.1f KB\n",
		float64(ms.HeapInuse)/n/1000, float64(ms.StackInuse)/n/1000, float64(ms.Sys)/n/1000)
}

// writeHeapProfile writes the heap profile after a GC, so that it shows
// live memory.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("memprofile: %w", err)
	}
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("memprofile: %w", err)
	}
	return f.Close()
}
