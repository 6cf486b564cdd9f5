// Command bench measures evsed and prints one table: the stripped binary
// sizes per target, the memory and CPU of `evsed run` on the simulated
// board against a loopback CSMS in another process, the safety reaction of
// the driver and of the station loop, and the durable queue's rates next to
// a peer built on ocpp-go. scripts/bench builds and runs it from the module
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
}

var (
	fullMode  = mode{name: "full", window: 60 * time.Second, settle: 5 * time.Second, safetyRuns: 5, queueRuns: 5, queueMsgs: 2000}
	quickMode = mode{name: "quick", window: 10 * time.Second, settle: 2 * time.Second, safetyRuns: 3, queueRuns: 3, queueMsgs: 1000}
)

// safetyEvents is the number of events per safety benchmark run.
const safetyEvents = 10000

func main() {
	if len(os.Args) > 1 && os.Args[1] == serveCSMSArg {
		os.Exit(serveCSMS())
	}
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("scripts/bench", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "shorter windows (10 s) and fewer repeats, for a fast run")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: scripts/bench [--quick]\n\nPrints a table of evsed's sizes, memory, CPU, safety reaction and queue rates.\n\n")
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
	host := sizes(ctx, t, tmp)
	agent(ctx, t, host, tmp, m)
	safety(ctx, t, m)
	queue(ctx, t, m)
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
