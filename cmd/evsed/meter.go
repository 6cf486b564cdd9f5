package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/evsed/evsed/meter/can"
	"github.com/evsed/evsed/meter/modbus"
)

// cmdMeter implements `evsed meter`: commissioning helpers that talk to a
// meter directly, without a running station.
func cmdMeter(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, "evsed meter: missing command (read or models)\n", usageText)
		return exitUsage
	}
	switch verb, rest := args[0], args[1:]; verb {
	case "read":
		return meterRead(rest, stdout, stderr)
	case "models":
		return meterModels(rest, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "evsed meter: unknown command %q\n%s", verb, usageText)
		return exitUsage
	}
}

// meterRead reads a Modbus meter once and prints the reading.
func meterRead(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("evsed meter read", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bus := fs.String("bus", "", "Modbus `URL`: rtu:///dev/ttyUSB0?baud=9600&parity=N, tcp://host:502 or rtuovertcp://host:port")
	model := fs.String("model", "", "meter model `NAME` (see `evsed meter models`)")
	unit := fs.Int("unit", 1, "Modbus unit id `N` of the meter (1-247 on a serial line)")
	timeout := fs.Duration("timeout", 500*time.Millisecond, "wait this long for each answer; a silent meter is asked twice")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "evsed meter read: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	switch {
	case *bus == "" || *model == "":
		fmt.Fprint(stderr, "evsed meter read: --bus and --model are required\n")
		fs.Usage()
		return exitUsage
	case *timeout <= 0:
		fmt.Fprintf(stderr, "evsed meter read: --timeout must be positive, got %v\n", *timeout)
		return exitUsage
	case *unit < 0 || *unit > 255:
		fmt.Fprintf(stderr, "evsed meter read: --unit %d out of range 0-255\n", *unit)
		return exitUsage
	}
	if _, err := can.Lookup(*model); err == nil {
		fmt.Fprintf(stderr, "evsed meter read: %s is a CAN meter; meter read reads Modbus meters only\n", *model)
		return exitUsage
	}
	// The bus gives each request Timeout, twice, and a TCP connect 5 s;
	// the deadline only stops a retry from starting after that.
	ctx, cancel := context.WithTimeout(context.Background(), 2**timeout+6*time.Second)
	defer cancel()
	r, err := modbus.ReadOnce(ctx, *bus, *model, *unit, &modbus.Options{Timeout: *timeout})
	if err != nil {
		fmt.Fprintf(stderr, "evsed meter read: %v\n", err)
		if errors.Is(err, modbus.ErrUnknownModel) || errors.Is(err, modbus.ErrURL) {
			return exitUsage
		}
		return exitError
	}
	fmt.Fprint(stdout, modbus.Format(r))
	return exitOK
}

// meterModels lists the meter models evsed ships, Modbus and CAN.
func meterModels(args []string, stdout, stderr io.Writer) int {
	if len(args) != 0 {
		fmt.Fprintf(stderr, "evsed meter models: takes no arguments\n%s", usageText)
		return exitUsage
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tBUS\tDESCRIPTION")
	for _, name := range modbus.Names() {
		m, err := modbus.Lookup(name)
		if err != nil {
			continue // unreachable: Names lists what Lookup finds
		}
		fmt.Fprintf(tw, "%s\tmodbus\t%s\n", m.Name, m.Title)
	}
	for _, name := range can.Names() {
		m, err := can.Lookup(name)
		if err != nil {
			continue
		}
		fmt.Fprintf(tw, "%s\tcan\t%s\n", m.Name, m.Title)
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "evsed meter models: %v\n", err)
		return exitError
	}
	return exitOK
}
