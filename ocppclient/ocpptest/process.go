package ocpptest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// A CSMS in a process of its own keeps its memory (it records every
// request) out of the figures of the agent it serves: benchmarks and
// drills that read an agent's RSS run it so. The child calls ServeProcess;
// the parent drives it through a Process.

// ServeProcess runs a CSMS with opts on a free loopback port, writes its URL
// as the first line of out, then obeys one command a line from in
// ("failall on|off", "silent on|off"), answering each with "ok", until in
// closes: the parent closes it, or dies and the kernel does.
func ServeProcess(opts Options, in io.Reader, out io.Writer) error {
	c, err := Start(opts)
	if err != nil {
		return err
	}
	defer c.Stop()
	fmt.Fprintln(out, c.URL())
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		what, onOff, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		on := onOff == "on"
		switch what {
		case "failall":
			c.SetFailAll(on)
		case "silent":
			c.SetSilent(on)
		default:
			fmt.Fprintf(out, "unknown command %q\n", sc.Text())
			continue
		}
		fmt.Fprintln(out, "ok")
	}
	return sc.Err()
}

// Process is a CSMS served by a child process (see ServeProcess).
type Process struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	url     string
	answers chan string // lines the child writes after its URL

	mu sync.Mutex // serializes commands
}

// processWait bounds the wait for the child's URL and for each answer: it
// only turns a hung child into an error.
const processWait = 30 * time.Second

// StartProcess runs exe with args, which must make it call ServeProcess,
// and waits for the CSMS's URL. The child's stderr goes to stderr (nil
// discards it).
func StartProcess(ctx context.Context, exe string, args []string, stderr io.Writer) (*Process, error) {
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = stderr
	cmd.WaitDelay = 10 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, stdin: stdin, answers: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.answers <- strings.TrimSpace(sc.Text())
		}
		close(p.answers)
	}()
	select {
	case p.url = <-p.answers:
	case <-time.After(processWait):
	}
	if !strings.HasPrefix(p.url, "ws://") {
		p.Stop()
		return nil, errors.New("ocpptest: the CSMS process did not start")
	}
	return p, nil
}

// URL is the endpoint a charge point connects to.
func (p *Process) URL() string { return p.url }

// Set sends one command ("failall" or "silent") and waits for its answer.
func (p *Process) Set(what string, on bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := "off"
	if on {
		v = "on"
	}
	if _, err := fmt.Fprintf(p.stdin, "%s %s\n", what, v); err != nil {
		return fmt.Errorf("ocpptest: %s %s: %w", what, v, err)
	}
	select {
	case a, ok := <-p.answers:
		if !ok || a != "ok" {
			return fmt.Errorf("ocpptest: %s %s: answer %q", what, v, a)
		}
		return nil
	case <-time.After(processWait):
		return fmt.Errorf("ocpptest: %s %s: no answer", what, v)
	}
}

// Stop closes the child's stdin, which ends it, and waits for it.
func (p *Process) Stop() {
	_ = p.stdin.Close()
	_ = p.cmd.Wait()
}
