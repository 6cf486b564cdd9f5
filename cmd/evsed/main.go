// Command evsed is the charge-point agent: see the README and docs/cli.md.
//
//	evsed run     run the station (board, sessions, local API, OCPP)
//	evsed ctl     talk to a running evsed through its local API
//	evsed boards  list the built-in boards, show one board file
//	evsed halt    put the board's hardware in its safe state and exit
//	evsed meter   read a meter once, list the meter models (commissioning)
//	evsed version print the version
package main

import (
	"fmt"
	"io"
	"os"
	"time"

	// The time zone database, for the station's time zone (daily charging
	// profiles follow its wall clock): used only where the system has
	// none, as minimal embedded images often do.
	_ "time/tzdata"
)

// startupTrimDelay is how long after `evsed run` starts its executable's
// resident pages are trimmed: long enough for the board, the station, the
// API and a first connection to be up.
const startupTrimDelay = 10 * time.Second

// trimEvery and trimSlack: every trimEvery, the executable is trimmed
// again if the file-backed RSS grew by more than trimSlack since the last
// trim (see trimmer).
const (
	trimEvery = 30 * time.Second
	trimSlack = 1 << 20
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(evsed(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed
	exitUsage = 2 // the command line is wrong
)

const usageText = `usage:
  evsed run     [--config FILE] [--board NAME|FILE] [--csms URL] [--id ID]
                [--data DIR] [--api ADDR] [--log-level debug|info|warn|error]
  evsed ctl     [--api ADDR] [--json] status
  evsed ctl     [--api ADDR] plug|charge|pause|unplug N
  evsed ctl     [--api ADDR] swipe N TAG
  evsed ctl     [--api ADDR] fault N rcd|weld|diode|meter|clear         (AC sim)
  evsed ctl     [--api ADDR] fault N isolation|precharge|module|weld|meter|estop|clear   (sim-dc)
  evsed ctl     [--api ADDR] start N TAG | stop N
  evsed ctl     [--api ADDR] limit N A [UNTIL] | limit N clear   (N 0: the station)
  evsed ctl     [--api ADDR] mode N fast|pv|minpv
  evsed boards  [show NAME|FILE]
  evsed halt    [--config FILE] [--board NAME|FILE]
  evsed meter   read --bus URL --model NAME [--unit N] [--timeout D]
  evsed meter   models
  evsed fleet   --csms URL --stations N [--connectors K] [--id-prefix P]
                [--plug-rate R] [--duration D] [--seed S] [--data DIR | --memory]
                [--password PW]
  evsed version
`

// evsed dispatches to a subcommand and returns the exit code.
func evsed(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "run":
		// Once started, give back the pages start-up touched in the
		// executable (see trimExecutable).
		defer startTrimmer(startupTrimDelay, trimEvery, trimSlack)()
		return cmdRun(rest, stderr)
	case "ctl":
		return cmdCtl(rest, stdout, stderr)
	case "boards":
		return cmdBoards(rest, stdout, stderr)
	case "meter":
		return cmdMeter(rest, stdout, stderr)
	case "halt":
		return cmdHalt(rest, stdout, stderr)
	case "fleet":
		return cmdFleet(rest, stdout, stderr) // trims once the stations are up
	case "version":
		fmt.Fprintln(stdout, "evsed", version)
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
		return exitOK
	default:
		fmt.Fprintf(stderr, "evsed: unknown command %q\n%s", cmd, usageText)
		return exitUsage
	}
}
