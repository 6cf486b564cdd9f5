// Command bench measures evsed and prints one table: the stripped binary
// sizes per target, the memory and CPU of `evsed run` on the simulated
// board against a loopback CSMS in another process, the safety reaction of
// the driver and of the station loop, the durable queue's rates next to
// a peer built on ocpp-go, and the bytes `evsed run` writes to storage per
// charging hour and per message with where they go (see storage.go). scripts/bench builds and runs it from the module
// root. It exits 1 only when something could not be measured (the table
// then says n/a and why), 2 on a bad command line.
//
// The Go benchmarks it runs (BenchmarkSafety in station and hal/sim,
// BenchmarkEnqueue and BenchmarkDrain in ocppclient) carry the in-process
// figures, so that they can also be run alone with go test.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// mode is how long and how often to measure.
type mode struct {
	name string
	// window is each memory/CPU phase of `evsed run` (idle, one session,
	// two sessions).
	window time.Duration
	// settle is the pause after a change (start-up, a session begun)
	// before a window opens, so that the window sees the steady state.
	settle time.Duration
	// safetyRuns repeats the 10,000-event safety benchmarks.
	safetyRuns int
	// queueRuns repeats the queue benchmarks; queueMsgs is the number of
	// messages per run.
	queueRuns, queueMsgs int
	// storageWindow is each storage phase (see storage.go), rounded down
	// to whole sample intervals.
	storageWindow time.Duration
	// ocpp is the OCPP version `evsed run` speaks in the agent and
	// storage sections: "1.6" or "2.0.1", with a CSMS that speaks only it.
	ocpp string
}

var (
	fullMode = mode{name: "full", window: 60 * time.Second, settle: 5 * time.Second, safetyRuns: 5, queueRuns: 5, queueMsgs: 2000,
		storageWindow: 60 * time.Second}
	quickMode = mode{name: "quick", window: 10 * time.Second, settle: 2 * time.Second, safetyRuns: 3, queueRuns: 3, queueMsgs: 1000,
		storageWindow: 30 * time.Second}
)

// sections are the parts of a run, in the order they run, as --only names
// them.
var sections = []string{"sizes", "agent", "safety", "queue", "storage"}

// safetyEvents is the number of events per safety benchmark run.
const safetyEvents = 10000

func main() {
	if len(os.Args) > 1 && os.Args[1] == serveCSMSArg {
		os.Exit(serveCSMS())
	}
	if len(os.Args) > 1 && os.Args[1] == serveCSMS201Arg {
		os.Exit(serveCSMS201())
	}
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("scripts/bench", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "shorter windows (10 s, storage 30 s) and fewer repeats, for a fast run")
	only := fs.String("only", "", "comma-separated `sections` to run: "+strings.Join(sections, ",")+" (default all)")
	storageWindow := fs.Duration("storage-window", 0, "length of each storage phase (default 60s, 30s with --quick); e.g. 30m for a soak")
	ocpp := fs.String("ocpp", "1.6", "OCPP `version` evsed speaks in the agent and storage sections: 1.6 or 2.0.1")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: scripts/bench [--quick] [--only sections] [--storage-window D] [--ocpp 1.6|2.0.1]\n\n"+
			"Prints a table of evsed's sizes, memory, CPU, safety reaction, queue rates and storage writes.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "scripts/bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	m := fullMode
	if *quick {
		m = quickMode
	}
	if *storageWindow > 0 {
		m.storageWindow = *storageWindow
	}
	switch *ocpp {
	case "1.6", "2.0.1":
		m.ocpp = *ocpp
	default:
		fmt.Fprintf(os.Stderr, "scripts/bench: --ocpp %q: want 1.6 or 2.0.1\n", *ocpp)
		return 2
	}
	run := map[string]bool{}
	for _, sec := range strings.Split(*only, ",") {
		switch {
		case sec == "":
		case slices.Contains(sections, sec):
			run[sec] = true
		default:
			fmt.Fprintf(os.Stderr, "scripts/bench: unknown section %q (have %s)\n", sec, strings.Join(sections, ", "))
			return 2
		}
	}
	if len(run) == 0 {
		for _, sec := range sections {
			run[sec] = true
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tmp, err := os.MkdirTemp("", "evsed-bench-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "scripts/bench: %v\n", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	started := time.Now()
	t := &table{}
	var host string
	if run["sizes"] {
		host = sizes(ctx, t, tmp)
	} else if run["agent"] || run["storage"] {
		host = hostBinary(ctx, tmp)
	}
	if run["agent"] {
		agent(ctx, t, host, tmp, m)
	}
	if run["safety"] {
		safety(ctx, t, m)
	}
	if run["queue"] {
		queue(ctx, t, m)
	}
	if run["storage"] {
		storage(ctx, t, host, tmp, m.storageWindow, m.ocpp)
	}
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "scripts/bench: interrupted")
		return 1
	}

	fmt.Print(header(m, started))
	fmt.Println()
	t.print(os.Stdout)
	if t.failed {
		fmt.Fprintln(os.Stderr, "scripts/bench: some figures could not be measured (n/a above)")
		return 1
	}
	return 0
}

// progress tells the person waiting what is being measured; the table goes
// to stdout alone.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %s: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
