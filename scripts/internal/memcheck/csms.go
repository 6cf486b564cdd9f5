package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/evsed/evsed/ocppclient/ocpptest"
)

// serveCSMSArg makes the program a CSMS instead. The central system records
// every request it receives, refused ones included, so it must live in a
// process of its own: otherwise its ledger would be counted as the agent's
// heap.
const serveCSMSArg = "serve-csms"

// serveCSMS runs ocpptest's central system as a child process of this
// program, obeying "failall on|off" and "silent on|off" on stdin, until
// stdin closes.
func serveCSMS() int {
	if err := ocpptest.ServeProcess(ocpptest.Options{}, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "memcheck csms: %v\n", err)
		return 1
	}
	return 0
}

// startCSMS starts this program as a CSMS and waits for its URL; the
// child's stderr goes to stderr.
func startCSMS(ctx context.Context, stderr io.Writer) (*ocpptest.Process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return ocpptest.StartProcess(ctx, self, []string{serveCSMSArg}, stderr)
}
