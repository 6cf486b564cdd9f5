// Command drill runs evsed's fault drills: repeatable, seeded, time-bounded
// runs of the real binary (built once into a temporary directory) on the
// simulated board against a loopback CSMS (ocpptest), each breaking one
// thing on purpose and then checking the CSMS's ledger.
//
//	go run ./scripts/internal/drill [--seed S] [--cycles N] [--quick] [name...]
//
// Drills: kill9, silentdrop, disk, csmserror (all by default). Each prints
// one line; the exit status is 1 if any drill lost a message or failed, 2 on
// a bad command line. Run it from the module root (scripts/drill does).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// drill is one named fault scenario.
type drill struct {
	name string
	// cycles is the default repetition count in full and in quick mode.
	cycles, quickCycles int
	run                 func(ctx context.Context, e *env) result
}

var drills = []drill{
	{"kill9", 200, 20, runKill9},
	{"silentdrop", 5, 2, runSilentDrop},
	{"disk", 1, 1, runDisk},
	{"csmserror", 1, 1, runCSMSError},
}

// result is a drill's one-line outcome.
type result struct {
	cycles   int
	sessions int
	ledger   ledgerCounts
	failures []string // why the drill failed, beyond lost messages
	detail   string   // measurements worth a glance (times, RSS)
}

func (r result) passed() bool { return len(r.failures) == 0 && r.ledger.lost() == 0 }

func (r result) line(name string) string {
	verdict := "PASS"
	if !r.passed() {
		verdict = "FAIL"
	}
	l := r.ledger
	s := fmt.Sprintf("%-10s cycles=%d sessions=%d expected=%d received=%d lost=%d duplicated=%d %s",
		name, r.cycles, r.sessions, l.expected(), l.received(), l.lost(), l.duplicated(), verdict)
	if r.detail != "" {
		s += " " + r.detail
	}
	if len(r.failures) > 0 {
		s += " failures: " + strings.Join(r.failures, "; ")
	}
	return s
}

// env is what every drill shares: the binary, the run's settings, a
// scratch directory and the processes to stop on the way out.
type env struct {
	bin     string
	tmp     string
	seed    int64
	cycles  int
	quick   bool
	verbose io.Writer // progress notes; io.Discard unless -v
	procs   *procSet
}

func main() {
	os.Exit(mainErr())
}

func mainErr() int {
	fs := flag.NewFlagSet("drill", flag.ContinueOnError)
	seed := fs.Int64("seed", 1, "seed of every random choice (kill moments, outages, sessions)")
	cycles := fs.Int("cycles", 0, "repetitions per drill; 0 means the drill's default (kill9: 200, 20 with --quick)")
	quick := fs.Bool("quick", false, "short runs: fewer cycles and shorter windows")
	verbose := fs.Bool("v", false, "print progress and keep the scratch directory (agent logs)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	selected := drills
	if fs.NArg() > 0 {
		selected = nil
		for _, name := range fs.Args() {
			i := slices.IndexFunc(drills, func(d drill) bool { return d.name == name })
			if i < 0 {
				fmt.Fprintf(os.Stderr, "drill: unknown drill %q (have kill9, silentdrop, disk, csmserror)\n", name)
				return 2
			}
			selected = append(selected, drills[i])
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tmp, err := os.MkdirTemp("", "evsed-drill-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "drill:", err)
		return 1
	}
	e := &env{tmp: tmp, seed: *seed, quick: *quick, verbose: io.Discard, procs: newProcSet()}
	if *verbose {
		e.verbose = os.Stderr
	}
	// Whatever happens, no agent outlives the drill.
	defer e.procs.killAll()
	defer func() {
		if *verbose {
			fmt.Fprintln(os.Stderr, "drill: scratch directory kept:", tmp)
			return
		}
		os.RemoveAll(tmp)
	}()

	e.bin = filepath.Join(tmp, "evsed")
	build := exec.CommandContext(ctx, "go", "build", "-o", e.bin, "./cmd/evsed")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "drill: go build ./cmd/evsed (run from the module root):", err)
		return 1
	}

	mode := "full"
	if *quick {
		mode = "quick"
	}
	fmt.Printf("# evsed fault drills %s seed=%d mode=%s\n", time.Now().UTC().Format("2006-01-02"), *seed, mode)
	code := 0
	for _, d := range selected {
		if ctx.Err() != nil {
			code = 1
			break
		}
		e.cycles = *cycles
		if e.cycles <= 0 {
			e.cycles = d.cycles
			if *quick {
				e.cycles = d.quickCycles
			}
		}
		start := time.Now()
		r := d.run(ctx, e)
		e.procs.killAll()
		if ctx.Err() != nil {
			r.failures = append(r.failures, "interrupted")
		}
		fmt.Printf("%s (%s)\n", r.line(d.name), time.Since(start).Round(time.Second))
		if !r.passed() {
			code = 1
		}
	}
	return code
}

// note prints a progress line with -v.
func (e *env) note(format string, args ...any) {
	fmt.Fprintf(e.verbose, "  "+format+"\n", args...)
}
