package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/evsed/evsed/ocppclient/ocpptest"
)

// serveCSMSArg makes the program a CSMS instead. The central system records
// every request it receives, refused ones included, so it must live in a
// process of its own: otherwise its ledger would be counted as the agent's
// heap.
const serveCSMSArg = "serve-csms"

// serveCSMS runs ocpptest's central system on a free loopback port, prints
// its URL on stdout, and obeys one command per line on stdin ("failall
// on|off", "silent on|off"), answering each with "ok". It stops when stdin
// closes: the parent closes it, or dies and the kernel does.
func serveCSMS() int {
	c, err := ocpptest.Start(ocpptest.Options{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "memcheck csms: %v\n", err)
		return 1
	}
	defer c.Stop()
	fmt.Println(c.URL())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		what, onOff, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		on := onOff == "on"
		switch what {
		case "failall":
			c.SetFailAll(on)
		case "silent":
			c.SetSilent(on)
		default:
			fmt.Printf("unknown command %q\n", sc.Text())
			continue
		}
		fmt.Println("ok")
	}
	return 0
}

// csmsProc is a running serve-csms child.
type csmsProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string

	mu      sync.Mutex // serializes commands
	answers chan string
}

// startCSMS starts this program as a CSMS and waits for its URL; its logs
// go to stderr of the child, which is discarded unless verbose.
func startCSMS(ctx context.Context, stderr io.Writer) (*csmsProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, serveCSMSArg)
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
	p := &csmsProc{cmd: cmd, stdin: stdin, answers: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.answers <- strings.TrimSpace(sc.Text())
		}
		close(p.answers)
	}()
	select {
	case p.url = <-p.answers:
	case <-time.After(30 * time.Second):
	}
	if !strings.HasPrefix(p.url, "ws://") {
		p.stop()
		return nil, errors.New("the CSMS child did not start")
	}
	return p, nil
}

// set sends one command ("failall", "silent") and waits for its answer.
func (p *csmsProc) set(what string, on bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := "off"
	if on {
		v = "on"
	}
	if _, err := fmt.Fprintf(p.stdin, "%s %s\n", what, v); err != nil {
		return fmt.Errorf("csms %s %s: %w", what, v, err)
	}
	select {
	case a, ok := <-p.answers:
		if !ok || a != "ok" {
			return fmt.Errorf("csms %s %s: answer %q", what, v, a)
		}
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("csms %s %s: no answer", what, v)
	}
}

// stop closes the child's stdin, which ends it, and waits.
func (p *csmsProc) stop() {
	_ = p.stdin.Close()
	_ = p.cmd.Wait()
}
