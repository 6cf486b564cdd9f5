package main

import (
	"context"
	"fmt"
	"os"

	"github.com/evsed/evsed/ocppclient/ocpptest"
)

// serveCSMSArg makes the program a CSMS instead: the agent's memory is
// measured from /proc, so the central system must live in a process of its
// own.
const serveCSMSArg = "serve-csms"

// serveCSMS runs ocpp-go's central system (through ocpptest) as a child
// process of this program until its stdin closes.
func serveCSMS() int {
	if err := ocpptest.ServeProcess(ocpptest.Options{}, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "bench csms: %v\n", err)
		return 1
	}
	return 0
}

// startCSMS starts this program as a CSMS and waits for its URL; its logs
// go to logPath.
func startCSMS(ctx context.Context, logPath string) (*ocpptest.Process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	p, err := ocpptest.StartProcess(ctx, self, []string{serveCSMSArg}, logf)
	if err != nil {
		return nil, fmt.Errorf("%w (see its log %s)", err, logPath)
	}
	return p, nil
}
