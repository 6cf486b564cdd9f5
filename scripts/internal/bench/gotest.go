package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// benchResults maps "pkg.BenchmarkName/sub" (pkg relative to the module,
// GOMAXPROCS suffix removed) to unit to one value per run.
type benchResults map[string]map[string][]float64

const module = "github.com/evsed/evsed/"

// goBench runs `go test -run ^$ -bench re` on pkgs and parses every
// benchmark line, -count runs of each.
func goBench(ctx context.Context, re, benchtime string, count int, pkgs ...string) (benchResults, error) {
	args := append([]string{"test", "-run", "^$", "-bench", re, "-benchtime", benchtime,
		"-count", strconv.Itoa(count)}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), err, lastLines(string(out), 5))
	}
	return parseBench(string(out)), nil
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseBench reads go test's benchmark output: "pkg: ..." lines name the
// package of the lines that follow; a result line is the name, the
// iterations, then value-unit pairs.
func parseBench(out string) benchResults {
	res := benchResults{}
	pkg := ""
	for _, l := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(l, "pkg: "); ok {
			pkg = strings.TrimPrefix(strings.TrimSpace(p), module)
			continue
		}
		f := strings.Fields(l)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := pkg + "." + procsSuffix.ReplaceAllString(f[0], "")
		if res[name] == nil {
			res[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			res[name][f[i+1]] = append(res[name][f[i+1]], v)
		}
	}
	return res
}

// get returns the values of name's unit, or an error naming what is missing.
func (r benchResults) get(name, unit string) ([]float64, error) {
	v := r[name][unit]
	if len(v) == 0 {
		return nil, fmt.Errorf("no %s from %s in the go test output", unit, name)
	}
	return v, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " / ")
}

// safety runs the BenchmarkSafety of the driver (hal/sim) and of the
// station loop and adds p50/p99/max per event kind.
func safety(ctx context.Context, t *table, m mode) {
	// The sim has no state E, and F is what the station drives there, so
	// the driver's cases are C->B, C->A and its two fault inputs.
	cases := []struct{ name, measure string }{
		{"hal/sim.BenchmarkSafety/CtoB", "safety, sim driver: CP C->B"},
		{"hal/sim.BenchmarkSafety/CtoA", "safety, sim driver: CP C->A"},
		{"hal/sim.BenchmarkSafety/RCD", "safety, sim driver: RCD trip"},
		{"hal/sim.BenchmarkSafety/diode", "safety, sim driver: diode fault"},
		{"station.BenchmarkSafety/CtoB", "safety, station loop: CP C->B"},
		{"station.BenchmarkSafety/CtoE", "safety, station loop: CP C->E"},
		{"station.BenchmarkSafety/CtoF", "safety, station loop: CP C->F"},
		{"station.BenchmarkSafety/RCD", "safety, station loop: RCD trip"},
	}
	if ctx.Err() != nil {
		return
	}
	progress("safety benchmarks: %d x %d events per case", m.safetyRuns, safetyEvents)
	res, err := goBench(ctx, "^BenchmarkSafety$", fmt.Sprintf("%dx", safetyEvents), m.safetyRuns, "./hal/sim/", "./station/")
	for _, c := range cases {
		if err != nil {
			t.fail(c.measure, err)
			continue
		}
		p50, err50 := res.get(c.name, "p50-ns/event")
		p99, err99 := res.get(c.name, "p99-ns/event")
		mx, errMax := res.get(c.name, "max-ns/event")
		if err := errors.Join(err50, err99, errMax); err != nil {
			t.fail(c.measure, err)
			continue
		}
		how := "driver's control call, contactor opened inside it"
		if strings.HasPrefix(c.name, "station.") {
			how = "hal event posted -> Contactor.Open called"
		}
		t.add(c.measure, fmt.Sprintf("p50 %s / p99 %s / max %s µs", micros(median(p50)), micros(median(p99)), micros(slices.Max(mx))),
			fmt.Sprintf("%s; %d events x %d runs, median p50/p99, max of all", how, safetyEvents, len(p50)))
	}
}

// queue runs the durable queue benchmarks of ocppclient: enqueue with
// fsync, and the drain to ocpp-go's central system next to ocpp-go's own
// charge point, in one go test run so that they share its conditions.
func queue(ctx context.Context, t *table, m mode) {
	if ctx.Err() != nil {
		return
	}
	progress("queue benchmarks: %d runs of %d messages", m.queueRuns, m.queueMsgs)
	res, err := goBench(ctx, "^Benchmark(Enqueue|Drain)$/^(serial|parallel|bbolt-serial|evsed|evsed-nosync|ocpp-go|evsed-2.0.1)$", fmt.Sprintf("%dx", m.queueMsgs), m.queueRuns, "./ocppclient/")
	runs := fmt.Sprintf("%d msgs x %d runs, median", m.queueMsgs, m.queueRuns)
	rows := []struct{ name, measure, how string }{
		{"ocppclient.BenchmarkEnqueue/serial", "queue enqueue (fsync), one writer", "one record appended to the queue's log and fdatasync'd per message"},
		{"ocppclient.BenchmarkEnqueue/parallel", "queue enqueue (fsync), 16 writers per core", "group commit: concurrent enqueues share the log's fdatasync"},
		{"ocppclient.BenchmarkEnqueue/bbolt-serial", "queue enqueue (fsync), without the log", "NoLog: one fsync'd bbolt commit per message, as before the log"},
		{"ocppclient.BenchmarkDrain/evsed", "queue drain, evsed", "MeterValues to ocpp-go CSMS on loopback, 1 CALL in flight, acks written to the log, synced per 64"},
		{"ocppclient.BenchmarkDrain/evsed-nosync", "queue drain, evsed without fsync", "as above with the database's fsync off (the agent never runs so)"},
		{"ocppclient.BenchmarkDrain/ocpp-go", "queue drain, ocpp-go charge point", "peer: ocpp-go's client, same MeterValues sequentially, nothing persisted"},
		{"ocppclient.BenchmarkDrain/evsed-2.0.1", "queue drain, evsed, OCPP 2.0.1", "TransactionEvent Updated with the same sample to ocpp-go's 2.0.1 CSMS, as evsed above"},
	}
	rates := map[string][]float64{}
	for _, r := range rows {
		if err != nil {
			t.fail(r.measure, err)
			continue
		}
		v, err := res.get(r.name, "msgs/s")
		if err != nil {
			t.fail(r.measure, err)
			continue
		}
		rates[r.name] = v
		t.add(r.measure, rate(median(v)), r.how+"; "+runs)
	}
	peer := rates["ocppclient.BenchmarkDrain/ocpp-go"]
	for _, r := range []struct{ name, measure string }{
		{"ocppclient.BenchmarkDrain/evsed", "drain ratio evsed / ocpp-go"},
		{"ocppclient.BenchmarkDrain/evsed-nosync", "drain ratio evsed without fsync / ocpp-go"},
	} {
		v := rates[r.name]
		if len(v) == 0 || len(v) != len(peer) {
			t.fail(r.measure, errors.New("drain figures missing"))
			continue
		}
		// The variants run in turn within each run: pair them by run.
		ratios := make([]float64, len(v))
		for i := range v {
			ratios[i] = v[i] / peer[i]
		}
		t.add(r.measure, fmt.Sprintf("%.2f", median(ratios)), "median of the per-run ratios; above 1 is faster than the peer")
	}
}
