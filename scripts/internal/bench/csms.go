package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/evsed/evsed/ocppclient/ocpptest"
	"github.com/evsed/evsed/ocppclient/ocpptest/csms201"
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

// serveCSMS201Arg makes the program ocpp-go's 2.0.1 CSMS instead.
const serveCSMS201Arg = "serve-csms-201"

// serveCSMS201 runs ocpp-go's 2.0.1 CSMS (through csms201) until its stdin
// closes, after writing its URL as ocpptest.StartProcess expects.
func serveCSMS201() int {
	c, err := csms201.Start(csms201.Options{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench csms 2.0.1: %v\n", err)
		return 1
	}
	defer c.Stop()
	fmt.Println(c.URL())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// startCSMS starts this program as a CSMS of version ocpp ("1.6" or
// "2.0.1") and waits for its URL; its logs go to logPath.
func startCSMS(ctx context.Context, ocpp, logPath string) (*ocpptest.Process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	arg := serveCSMSArg
	if ocpp == "2.0.1" {
		arg = serveCSMS201Arg
	}
	p, err := ocpptest.StartProcess(ctx, self, []string{arg}, logf)
	if err != nil {
		return nil, fmt.Errorf("%w (see its log %s)", err, logPath)
	}
	return p, nil
}
