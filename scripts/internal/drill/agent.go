package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/evsed/evsed/localapi"
)

// waitLimit bounds every wait on the agent or the CSMS: it turns a hang into
// a failure and says nothing about how fast a step should be.
const waitLimit = 60 * time.Second

// procSet remembers the processes a drill started, so that each is stopped
// (its whole process group) however the drill ends.
type procSet struct {
	mu    sync.Mutex // guards procs
	procs map[int]*exec.Cmd
}

func newProcSet() *procSet { return &procSet{procs: map[int]*exec.Cmd{}} }

func (p *procSet) add(c *exec.Cmd) {
	p.mu.Lock()
	p.procs[c.Process.Pid] = c
	p.mu.Unlock()
}

func (p *procSet) remove(c *exec.Cmd) {
	p.mu.Lock()
	delete(p.procs, c.Process.Pid)
	p.mu.Unlock()
}

// killAll sends SIGKILL to the process group of every process still listed.
func (p *procSet) killAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pid := range p.procs {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		delete(p.procs, pid)
	}
}

// agentConfig is what a drill sets in the agent's config file.
type agentConfig struct {
	id       string
	dataDir  string
	csmsURL  string
	free     bool
	ocppKeys map[string]string
}

// agent is one evsed process at a time over a data directory that outlives
// it, with every run's stderr appended to one log file.
type agent struct {
	e       *env
	config  string
	logPath string
	api     *localapi.Client

	mu      sync.Mutex // guards cmd, exited, exitErr
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited; exitErr is then set
	exitErr error
}

// newAgent writes the config file under dir and returns a stopped agent.
func newAgent(e *env, dir string, c agentConfig) (*agent, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	var y strings.Builder
	fmt.Fprintf(&y, "station:\n  id: %s\n  free_charging: %v\n", c.id, c.free)
	fmt.Fprintf(&y, "data_dir: %q\napi:\n  listen: %s\nlog_level: debug\n", c.dataDir, addr)
	if c.csmsURL != "" {
		fmt.Fprintf(&y, "csms:\n  url: %s\n", c.csmsURL)
	}
	keys := map[string]string{
		// Samples every second so that a cycle of a second or two has
		// some; the other intervals are shortened for the same reason.
		"MeterValueSampleInterval":        "1",
		"HeartbeatInterval":               "30",
		"WebSocketPingInterval":           "5",
		"TransactionMessageRetryInterval": "1",
	}
	for k, v := range c.ocppKeys {
		keys[k] = v
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	y.WriteString("ocpp:\n")
	for _, k := range names {
		fmt.Fprintf(&y, "  %s: %q\n", k, keys[k])
	}
	path := filepath.Join(dir, "evsed.yaml")
	if err := os.WriteFile(path, []byte(y.String()), 0o600); err != nil {
		return nil, err
	}
	api, err := localapi.NewClient(addr, nil)
	if err != nil {
		return nil, err
	}
	return &agent{e: e, config: path, logPath: filepath.Join(dir, "evsed.log"), api: api}, nil
}

// freeAddr returns a loopback address with a port free at the time of the
// call.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// launch starts the process without waiting for its API.
func (a *agent) launch() error {
	log, err := os.OpenFile(a.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	fmt.Fprintf(log, "---- drill: start %s\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(a.e.bin, "run", "--config", a.config)
	// The log file itself, not a pipe: what the agent wrote before a
	// kill -9 is in the file, nothing is left in a buffer of ours.
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	a.e.procs.add(cmd)
	exited := make(chan struct{})
	a.mu.Lock()
	a.cmd, a.exited, a.exitErr = cmd, exited, nil
	a.mu.Unlock()
	go func() {
		err := cmd.Wait()
		a.e.procs.remove(cmd)
		a.mu.Lock()
		a.exitErr = err
		a.mu.Unlock()
		close(exited)
	}()
	return nil
}

// start launches the agent and waits until its API answers.
func (a *agent) start(ctx context.Context) error {
	if err := a.launch(); err != nil {
		return err
	}
	_, err := a.waitStatus(ctx, "the local API", func(localapi.Status) bool { return true })
	return err
}

// pid returns the running process's id, 0 when none runs.
func (a *agent) pid() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cmd == nil {
		return 0
	}
	return a.cmd.Process.Pid
}

// kill ends the agent with SIGKILL, as a power cut would, and waits for it.
func (a *agent) kill() {
	a.mu.Lock()
	cmd, exited := a.cmd, a.exited
	a.cmd = nil
	a.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
}

// stop ends the agent with SIGTERM and returns its exit error (nil: exit
// 0); it kills it if it has not exited within waitLimit.
func (a *agent) stop() error {
	a.mu.Lock()
	cmd, exited := a.cmd, a.exited
	a.cmd = nil
	a.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(waitLimit):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		return errors.New("did not exit after SIGTERM")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.exitErr
}

// waitExit waits up to limit for the process to exit by itself and returns
// its exit code and whether it exited.
func (a *agent) waitExit(limit time.Duration) (code int, exited bool) {
	a.mu.Lock()
	cmd, done := a.cmd, a.exited
	a.mu.Unlock()
	if cmd == nil {
		return 0, false
	}
	select {
	case <-done:
	case <-time.After(limit):
		return 0, false
	}
	a.mu.Lock()
	a.cmd = nil
	a.mu.Unlock()
	return cmd.ProcessState.ExitCode(), true
}

// running reports whether the process is alive.
func (a *agent) running() bool {
	a.mu.Lock()
	done := a.exited
	has := a.cmd != nil
	a.mu.Unlock()
	if !has {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// status fetches the local API status with a short timeout.
func (a *agent) status(ctx context.Context) (localapi.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return a.api.Status(ctx)
}

// waitStatus polls the status until cond holds, the process exits or
// waitLimit passes.
func (a *agent) waitStatus(ctx context.Context, what string, cond func(localapi.Status) bool) (localapi.Status, error) {
	deadline := time.Now().Add(waitLimit)
	var last error
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return localapi.Status{}, ctx.Err()
		}
		st, err := a.status(ctx)
		if err == nil && cond(st) {
			return st, nil
		}
		last = err
		if !a.running() {
			return st, fmt.Errorf("waiting for %s: the agent exited", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return localapi.Status{}, fmt.Errorf("waiting for %s: not within %v (last error: %v)", what, waitLimit, last)
}

// do runs one local API call with a short timeout.
func (a *agent) do(ctx context.Context, f func(ctx context.Context, c *localapi.Client) error) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return f(ctx, a.api)
}

// drained waits until the CSMS link is registered, nothing is queued and no
// session runs: the end state in which the ledger is checked.
func (a *agent) drained(ctx context.Context) error {
	_, err := a.waitStatus(ctx, "an empty queue", func(st localapi.Status) bool {
		if st.Station.OCPP.Registration != "Accepted" || !st.Station.OCPP.Connected || st.Station.OCPP.Queued != 0 {
			return false
		}
		for _, c := range st.Connectors {
			if c.Session != nil {
				return false
			}
		}
		return true
	})
	return err
}

// unplugAll unplugs every simulated EV, ignoring connectors with none.
func (a *agent) unplugAll(ctx context.Context, n int) {
	for i := 1; i <= n; i++ {
		_ = a.do(ctx, func(ctx context.Context, c *localapi.Client) error { return c.Unplug(ctx, i) })
	}
}

// logText returns every run's log so far.
func (a *agent) logText() string {
	b, _ := os.ReadFile(a.logPath)
	return string(b)
}

// rssKiB reads the resident set size of pid from /proc, in KiB.
func rssKiB(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				return strconv.Atoi(f[0])
			}
		}
	}
	return 0, errors.New("no VmRSS")
}
