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
	"time"

	"github.com/evsed/evsed/ocppclient/ocpptest"
)

// serveCSMSArg makes the program a CSMS instead: the agent's memory is
// measured from /proc, so the central system must live in a process of its
// own.
const serveCSMSArg = "serve-csms"

// serveCSMS runs ocpp-go's central system (through ocpptest) on a free
// loopback port, prints its URL on stdout, and serves until stdin closes:
// the parent closes it, or dies and the kernel does.
func serveCSMS() int {
	c, err := ocpptest.Start(ocpptest.Options{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench csms: %v\n", err)
		return 1
	}
	fmt.Println(c.URL())
	_, _ = io.Copy(io.Discard, os.Stdin)
	c.Stop()
	return 0
}

// csmsProc is a running serve-csms child.
type csmsProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
}

// startCSMS starts this program as a CSMS and waits for its URL; its logs
// go to logPath.
func startCSMS(ctx context.Context, logPath string) (*csmsProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.CommandContext(ctx, self, serveCSMSArg)
	cmd.Stderr = logf
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
	p := &csmsProc{cmd: cmd, stdin: stdin}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case p.url = <-line:
	case <-time.After(30 * time.Second):
	}
	if !strings.HasPrefix(p.url, "ws://") {
		p.stop()
		return nil, errors.New("the CSMS did not start (see its log " + logPath + ")")
	}
	return p, nil
}

// stop closes the child's stdin, which ends it, and waits.
func (p *csmsProc) stop() {
	_ = p.stdin.Close()
	_ = p.cmd.Wait()
}
