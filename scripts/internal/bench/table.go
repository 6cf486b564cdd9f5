package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// table collects the rows in the order they are measured.
type table struct {
	rows   [][3]string // measure, result, conditions
	failed bool        // some row is n/a
}

func (t *table) add(measure, result, conditions string) {
	t.rows = append(t.rows, [3]string{measure, result, conditions})
}

// fail records a figure that could not be measured, with the reason.
func (t *table) fail(measure string, err error) {
	t.failed = true
	t.add(measure, "n/a", "could not measure: "+oneLine(err.Error()))
	progress("%s: %v", measure, err)
}

// print writes the table as Markdown with padded columns, readable in a
// terminal and pasteable into the README as it is.
func (t *table) print(w io.Writer) {
	head := [3]string{"Measure", "Result", "Conditions"}
	width := [3]int{}
	for _, r := range append([][3]string{head}, t.rows...) {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	line := func(r [3]string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range r {
			fmt.Fprintf(&b, " %s%s |", c, strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(head)
	line([3]string{strings.Repeat("-", width[0]), strings.Repeat("-", width[1]), strings.Repeat("-", width[2])})
	for _, r := range t.rows {
		line(r)
	}
}

// header states when, where and how the figures were taken.
func header(m mode, started time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "evsed scripts/bench, %s mode, %s\n", m.name, started.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "machine: %s, nproc %d, %s/%s, kernel %s, %s\n",
		cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, kernel(), runtime.Version())
	fmt.Fprintf(&b, "source: %s; temp dir %s on %s\n", revision(), os.TempDir(), fsType(os.TempDir()))
	fmt.Fprintf(&b, "RSS/CPU: `evsed run` on the sim board speaking OCPP %s, ocpp-go's %s CSMS in its own process on loopback, "+
		"sample interval %s, sessions via the local API; %s window per phase\n", m.ocpp, m.ocpp, meterSampleInterval, m.window)
	return b.String()
}

// cpuModel is the first "model name" of /proc/cpuinfo (arm kernels may
// only have "Hardware" or "CPU part"); "unknown" elsewhere.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, key := range []string{"model name", "Hardware", "Model", "CPU part"} {
		for _, l := range strings.Split(string(data), "\n") {
			k, v, ok := strings.Cut(l, ":")
			if ok && strings.TrimSpace(k) == key {
				return strings.TrimSpace(v)
			}
		}
	}
	return "unknown CPU"
}

func kernel() string {
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}

// revision names the commit measured. It uses only a read-only git command
// (describe --dirty would refresh the index of a tree others work in).
func revision() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "commit unknown"
	}
	return "commit " + strings.TrimSpace(string(out)) + " (plus any uncommitted changes)"
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// mib formats a byte count.
func mib(bytes float64) string { return fmt.Sprintf("%.1f MiB", bytes/(1<<20)) }

// micros formats nanoseconds as microseconds with three significant digits.
func micros(ns float64) string {
	us := ns / 1e3
	switch {
	case us < 10:
		return fmt.Sprintf("%.2f", us)
	case us < 100:
		return fmt.Sprintf("%.1f", us)
	}
	return fmt.Sprintf("%.0f", us)
}

// rate formats messages per second.
func rate(v float64) string {
	if v < 100 {
		return fmt.Sprintf("%.1f msgs/s", v)
	}
	return fmt.Sprintf("%.0f msgs/s", v)
}
