package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/ocppclient/ocpptest"
)

// meterSampleInterval is the agent's MeterValueSampleInterval during the
// run: short enough that the charging windows include queued, fsync'd
// MeterValues drained to the CSMS, as a CSMS commonly asks for.
const meterSampleInterval = 10 * time.Second

// userHZ is the unit of utime and stime in /proc/PID/stat: USER_HZ, which
// the kernel fixes at 100 for user space on every architecture evsed runs
// on, whatever its internal tick rate.
const userHZ = 100

// agent runs `evsed run` on the simulated board against a CSMS in another
// process and adds its memory and CPU, idle and with one and two charging
// sessions driven through the local API.
func agent(ctx context.Context, t *table, bin, dir string, m mode) {
	phases := []string{"idle", "1 session charging", "2 sessions charging"}
	failAll := func(err error) {
		for _, ph := range phases {
			t.fail("RSS "+ph, err)
			t.fail("CPU "+ph, err)
		}
	}
	if ctx.Err() != nil {
		return
	}
	if bin == "" {
		failAll(errors.New("no evsed binary for this machine"))
		return
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		failAll(errors.New("needs Linux /proc"))
		return
	}
	a, err := startAgent(ctx, bin, dir, agentOptions{ocpp: m.ocpp})
	if err != nil {
		failAll(err)
		return
	}
	defer a.stop()

	for n, ph := range phases {
		if n > 0 {
			progress("starting charging session %d", n)
			if err := a.charge(ctx, n); err != nil {
				for _, ph := range phases[n:] {
					t.fail("RSS "+ph, err)
					t.fail("CPU "+ph, err)
				}
				return
			}
		}
		progress("settling %s, then measuring %s (%s)", m.settle, ph, m.window)
		if !sleep(ctx, m.settle) {
			return
		}
		w, err := a.window(ctx, m.window)
		if err == nil {
			err = a.stillCharging(ctx, n)
		}
		if err != nil {
			t.fail("RSS "+ph, err)
			t.fail("CPU "+ph, err)
			continue
		}
		t.add("RSS "+ph, fmt.Sprintf("%s (anon %s, file %s; peak %s)", mib(w.rss), mib(w.anon), mib(w.file), mib(w.hwm)),
			fmt.Sprintf("VmRSS median of 1 s samples over %s (anon: heap and stacks; file: executable pages; peak: VmHWM since start)", m.window))
		t.add("CPU "+ph, fmt.Sprintf("%.2f %% of one core", 100*w.cpu.Seconds()/w.elapsed.Seconds()),
			fmt.Sprintf("utime+stime: %s in %s (10 ms ticks)", w.cpu.Round(time.Millisecond), w.elapsed.Round(100*time.Millisecond)))
	}
}

// agentProc is a running `evsed run` with its CSMS.
type agentProc struct {
	cmd  *exec.Cmd
	api  *localapi.Client
	csms *ocpptest.Process // nil when standalone
	log  string
	// logBytes counts what evsed wrote to its stdout and stderr: they are a
	// pipe that this program copies to log, as journald would take them
	// under systemd, so that evsed's own storage counters hold only its
	// data dir.
	logBytes *countingWriter
	dataDir  string
	free     bool       // free charging: no card swiped
	done     chan error // the result of cmd.Wait
}

// agentOptions vary `evsed run` between measurements. The zero value is
// the agent of the RSS and CPU phases: CSMS on loopback, data dir in dir.
type agentOptions struct {
	// dataDir is evsed's data dir; "" means dir/evsed-data.
	dataDir string
	// standalone runs without a CSMS, so that the queue is never drained.
	standalone bool
	// keys are OCPP configuration keys on top of MeterValueSampleInterval.
	keys map[string]string
	// free sets station.free_charging: sessions start without a card.
	free bool
	// ocpp is the version spoken, "1.6" (also for "") or "2.0.1".
	ocpp string
}

func startAgent(ctx context.Context, bin, dir string, o agentOptions) (*agentProc, error) {
	progress("starting the CSMS and evsed run")
	var csms *ocpptest.Process
	stopCSMS := func() {
		if csms != nil {
			csms.Stop()
		}
	}
	if !o.standalone {
		var err error
		if csms, err = startCSMS(ctx, o.ocpp, filepath.Join(dir, "csms.log")); err != nil {
			return nil, err
		}
	}
	addr, err := freeAddr()
	if err != nil {
		stopCSMS()
		return nil, err
	}
	if o.dataDir == "" {
		o.dataDir = filepath.Join(dir, "evsed-data")
	}
	keys := map[string]string{"MeterValueSampleInterval": strconv.Itoa(int(meterSampleInterval / time.Second))}
	for k, v := range o.keys {
		keys[k] = v
	}
	var yaml strings.Builder
	fmt.Fprintf(&yaml, "station:\n  id: BENCH\n  free_charging: %v\ndata_dir: %s\napi:\n  listen: %s\n", o.free, o.dataDir, addr)
	if csms != nil {
		fmt.Fprintf(&yaml, "csms:\n  url: %s\n", csms.URL())
		if o.ocpp == "2.0.1" {
			// The sample interval of 1.6's MeterValueSampleInterval.
			fmt.Fprintf(&yaml, "  protocols: [ocpp2.0.1]\nocpp201:\n  SampledDataCtrlr/TxUpdatedInterval: %q\n",
				strconv.Itoa(int(meterSampleInterval/time.Second)))
		}
	}
	yaml.WriteString("ocpp:\n")
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		fmt.Fprintf(&yaml, "  %s: %q\n", k, keys[k])
	}
	cfg := filepath.Join(dir, "evsed.yaml")
	if err := os.WriteFile(cfg, []byte(yaml.String()), 0o600); err != nil {
		stopCSMS()
		return nil, err
	}
	logPath := filepath.Join(dir, "evsed.log")
	logf, err := os.Create(logPath)
	if err != nil {
		stopCSMS()
		return nil, err
	}
	logBytes := &countingWriter{w: logf}
	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg)
	// Not an *os.File: exec copies both through a pipe until evsed exits.
	cmd.Stdout, cmd.Stderr = logBytes, logBytes
	// An interrupted run stops evsed the orderly way, as systemd would.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	if err := cmd.Start(); err != nil {
		logf.Close()
		stopCSMS()
		return nil, err
	}
	api, _ := localapi.NewClient(addr, nil)
	a := &agentProc{cmd: cmd, api: api, csms: csms, log: logPath, logBytes: logBytes,
		dataDir: o.dataDir, free: o.free, done: make(chan error, 1)}
	go func() {
		err := cmd.Wait()
		logf.Close()
		a.done <- err
	}()
	err = a.waitStatus(ctx, "start-up", func(st localapi.Status) bool {
		if csms == nil {
			return true
		}
		return st.Station.OCPP.Connected && st.Station.OCPP.Registration == "Accepted"
	})
	if err != nil {
		a.stop()
		return nil, err
	}
	return a, nil
}

// countingWriter passes writes on to w and counts their bytes; the count
// may be read while exec's copying goroutine writes.
type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// stop ends evsed with SIGTERM, as systemd does, then the CSMS.
func (a *agentProc) stop() {
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-a.done:
		a.done <- err
	case <-time.After(20 * time.Second):
		_ = a.cmd.Process.Kill()
		a.done <- <-a.done
	}
	if a.csms != nil {
		a.csms.Stop()
	}
}

// exited reports evsed's end, with the tail of its log.
func (a *agentProc) exited() error {
	select {
	case err := <-a.done:
		a.done <- err // stop waits for it too
		return fmt.Errorf("evsed exited (%v): %s", err, tail(a.log))
	default:
		return nil
	}
}

// charge starts a session on connector n as a driver would: plug in, card,
// the EV asks for energy; it returns once the connector is Charging.
func (a *agentProc) charge(ctx context.Context, n int) error {
	tag := "BENCH" + strconv.Itoa(n)
	steps := []struct {
		what string
		do   func(context.Context) error
	}{
		{"plug", func(ctx context.Context) error { return a.api.Plug(ctx, n) }},
		{"swipe", func(ctx context.Context) error { return a.api.Swipe(ctx, n, tag) }},
		{"charge", func(ctx context.Context) error { return a.api.Charge(ctx, n) }},
	}
	for _, s := range steps {
		if s.what == "swipe" && a.free {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := s.do(cctx)
		cancel()
		if err != nil {
			return fmt.Errorf("%s %d: %w", s.what, n, err)
		}
	}
	return a.waitStatus(ctx, fmt.Sprintf("connector %d Charging", n), func(st localapi.Status) bool {
		return charging(st, n)
	})
}

// stillCharging checks that the first n connectors kept charging through a
// window, so that the figures are those of what the table says.
func (a *agentProc) stillCharging(ctx context.Context, n int) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := a.api.Status(cctx)
	if err != nil {
		return err
	}
	if a.csms != nil && !st.Station.OCPP.Connected {
		return errors.New("the CSMS connection dropped during the window")
	}
	for i := 1; i <= n; i++ {
		if !charging(st, i) {
			return fmt.Errorf("connector %d stopped charging during the window", i)
		}
	}
	return nil
}

func charging(st localapi.Status, n int) bool {
	return len(st.Connectors) >= n && st.Connectors[n-1].Status == "Charging" && st.Connectors[n-1].Contactor
}

// waitStatus polls the local API until ok holds; the bound only turns a
// hang into an error.
func (a *agentProc) waitStatus(ctx context.Context, what string, ok func(localapi.Status) bool) error {
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if err := a.exited(); err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := a.api.Status(cctx)
		cancel()
		if err == nil && ok(st) {
			return nil
		}
		last = err
		if !sleep(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("no %s within 60 s (last error: %v): %s", what, last, tail(a.log))
}

// windowResult is one measuring window: memory in bytes, CPU time used
// in the elapsed wall time.
type windowResult struct {
	rss, hwm     float64
	anon, file   float64 // medians of RssAnon and RssFile+RssShmem
	cpu, elapsed time.Duration
}

// window samples evsed's memory every second for d and takes its CPU time
// over d.
func (a *agentProc) window(ctx context.Context, d time.Duration) (windowResult, error) {
	pid := a.cmd.Process.Pid
	cpu0, err := cpuTicks(pid)
	if err != nil {
		return windowResult{}, err
	}
	t0 := time.Now()
	var rss, anon, file []float64
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for time.Since(t0) < d {
		select {
		case <-ctx.Done():
			return windowResult{}, ctx.Err()
		case <-tick.C:
		}
		v, err := procStatusKB(pid, "VmRSS")
		if err != nil {
			return windowResult{}, errors.Join(err, a.exited())
		}
		rss = append(rss, v*1024)
		// The split tells the heap and stacks (anon) from the pages of
		// the executable and of files (file), which the kernel can drop
		// and read back: the two are reduced by different means.
		an, err1 := procStatusKB(pid, "RssAnon")
		fi, err2 := procStatusKB(pid, "RssFile")
		sh, err3 := procStatusKB(pid, "RssShmem")
		if err := errors.Join(err1, err2, err3); err != nil {
			return windowResult{}, errors.Join(err, a.exited())
		}
		anon, file = append(anon, an*1024), append(file, (fi+sh)*1024)
	}
	cpu1, err := cpuTicks(pid)
	if err != nil {
		return windowResult{}, err
	}
	elapsed := time.Since(t0)
	hwm, err := procStatusKB(pid, "VmHWM")
	if err != nil {
		return windowResult{}, err
	}
	cpu := time.Duration(cpu1-cpu0) * time.Second / userHZ
	return windowResult{rss: median(rss), hwm: hwm * 1024, anon: median(anon), file: median(file), cpu: cpu, elapsed: elapsed}, nil
}

// cpuTicks returns utime+stime of pid (all its threads) in USER_HZ ticks.
func cpuTicks(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// the fields after the last ')' start with field 3 (state).
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseUint(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return utime + stime, nil
}

// procStatusKB returns a "key: N kB" line of /proc/PID/status.
func procStatusKB(pid int, key string) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok || k != key {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/status %s: %w", pid, key, err)
		}
		return n, nil
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, key)
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// tail returns the last lines of a log file, for error messages.
func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no log)"
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.Join(lines[max(0, len(lines)-3):], " / ")
}

// sleep waits d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
