package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/evsed/evsed/cmd/evsed/internal/config"
	"github.com/evsed/evsed/localapi"
)

// cmdCtl implements `evsed ctl`: one local API call per invocation.
func cmdCtl(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("evsed ctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := fs.String("api", "127.0.0.1:8090", "`ADDR` of the local API (host:port or http://host:port)")
	asJSON := fs.Bool("json", false, "status: print the raw JSON instead of a table")
	// A start may wait for an authorization; the server bounds that at 30 s.
	timeout := fs.Duration("timeout", 40*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fmt.Fprint(stderr, "evsed ctl: missing command\n", usageText)
		return exitUsage
	}
	verb, rest := rest[0], rest[1:]
	if verb == "status" && len(rest) > 0 {
		// Accept `ctl status --json` as well as `ctl --json status`.
		sfs := flag.NewFlagSet("evsed ctl status", flag.ContinueOnError)
		sfs.SetOutput(stderr)
		sfs.BoolVar(asJSON, "json", *asJSON, "print the raw JSON instead of a table")
		if err := sfs.Parse(rest); err != nil {
			return parseExit(err)
		}
		rest = sfs.Args()
	}
	call, err := ctlCall(verb, rest)
	if err != nil {
		fmt.Fprintf(stderr, "evsed ctl: %v\n%s", err, usageText)
		return exitUsage
	}
	client, err := localapi.NewClient(*api, &http.Client{})
	if err != nil {
		fmt.Fprintf(stderr, "evsed ctl: %v\n", err)
		return exitUsage
	}
	// An API that listens beyond loopback has a password (api.password).
	if pw := os.Getenv(config.APIPasswordEnv); pw != "" {
		client.SetPassword(pw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if verb == "status" {
		err = ctlStatus(ctx, client, *asJSON, stdout)
	} else if err = call(ctx, client); err == nil {
		fmt.Fprintln(stdout, "ok")
	}
	if err != nil {
		fmt.Fprintf(stderr, "evsed ctl %s: %v\n", verb, err)
		return exitError
	}
	return exitOK
}

// parseExit maps a flag parse error to an exit code: -h is not a failure.
func parseExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// ctlCall checks the arguments of verb and returns the client call to make.
// For "status" the call is nil: ctlStatus handles it.
func ctlCall(verb string, args []string) (func(context.Context, *localapi.Client) error, error) {
	switch verb {
	case "limit":
		return ctlLimit(args)
	case "mode":
		if len(args) != 2 {
			return nil, fmt.Errorf("mode takes 2 arguments (N fast|pv|minpv), got %d", len(args))
		}
		conn, err := strconv.Atoi(args[0])
		if err != nil || conn < 1 {
			return nil, fmt.Errorf("mode: bad connector number %q", args[0])
		}
		return func(ctx context.Context, c *localapi.Client) error { return c.SetMode(ctx, conn, args[1]) }, nil
	}
	want := map[string]int{
		"status": 0, "plug": 1, "charge": 1, "pause": 1, "unplug": 1, "stop": 1,
		"swipe": 2, "start": 2, "fault": 2,
	}
	n, known := want[verb]
	if !known {
		return nil, fmt.Errorf("unknown command %q", verb)
	}
	if len(args) != n {
		return nil, fmt.Errorf("%s takes %d argument(s), got %d", verb, n, len(args))
	}
	if verb == "status" {
		return nil, nil
	}
	conn, err := strconv.Atoi(args[0])
	if err != nil || conn < 1 {
		return nil, fmt.Errorf("%s: bad connector number %q", verb, args[0])
	}
	var arg string
	if n == 2 {
		arg = args[1]
	}
	calls := map[string]func(context.Context, *localapi.Client) error{
		"plug":   func(ctx context.Context, c *localapi.Client) error { return c.Plug(ctx, conn) },
		"charge": func(ctx context.Context, c *localapi.Client) error { return c.Charge(ctx, conn) },
		"pause":  func(ctx context.Context, c *localapi.Client) error { return c.Pause(ctx, conn) },
		"unplug": func(ctx context.Context, c *localapi.Client) error { return c.Unplug(ctx, conn) },
		"stop":   func(ctx context.Context, c *localapi.Client) error { return c.Stop(ctx, conn) },
		"swipe":  func(ctx context.Context, c *localapi.Client) error { return c.Swipe(ctx, conn, arg) },
		"start":  func(ctx context.Context, c *localapi.Client) error { return c.Start(ctx, conn, arg) },
		"fault":  func(ctx context.Context, c *localapi.Client) error { return c.Fault(ctx, conn, arg) },
	}
	return calls[verb], nil
}

// ctlLimit parses `limit N A [UNTIL]` and `limit N clear`: N 0 is the
// whole station; UNTIL is an RFC 3339 time or a duration from now.
func ctlLimit(args []string) (func(context.Context, *localapi.Client) error, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, fmt.Errorf("limit takes N A [UNTIL] or N clear, got %d argument(s)", len(args))
	}
	conn, err := strconv.Atoi(args[0])
	if err != nil || conn < 0 {
		return nil, fmt.Errorf("limit: bad connector number %q (0 is the station)", args[0])
	}
	body := localapi.LimitBody{Connector: conn, Source: "ctl"}
	if args[1] == "clear" {
		if len(args) != 2 {
			return nil, errors.New("limit N clear takes no UNTIL")
		}
		body.Clear = true
	} else {
		if body.CurrentA, err = strconv.ParseFloat(args[1], 64); err != nil || body.CurrentA < 0 {
			return nil, fmt.Errorf("limit: bad current %q (amperes)", args[1])
		}
		if len(args) == 3 {
			until, err := parseUntil(args[2], time.Now())
			if err != nil {
				return nil, err
			}
			body.Until = &until
		}
	}
	return func(ctx context.Context, c *localapi.Client) error { return c.SetLimit(ctx, body) }, nil
}

// parseUntil reads an RFC 3339 time, or a duration from now ("2h").
func parseUntil(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("limit: bad UNTIL %q: want an RFC 3339 time or a duration such as 2h", s)
}

// ctlStatus prints the status as a table, or as the server's JSON.
func ctlStatus(ctx context.Context, c *localapi.Client, asJSON bool, w io.Writer) error {
	if asJSON {
		raw, err := c.StatusJSON(ctx)
		if err != nil {
			return err
		}
		_, err = w.Write(raw)
		return err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	return printStatus(w, st)
}

// printStatus writes st as a human-readable table.
func printStatus(w io.Writer, st localapi.Status) error {
	o := st.Station.OCPP
	link := "standalone (no CSMS)"
	if o.Version != "" {
		state := "offline"
		if o.Connected {
			state = "connected"
		}
		reg := o.Registration
		if reg == "" {
			reg = "not registered"
		}
		link = fmt.Sprintf("%s %s, %s", o.Version, state, reg)
	}
	fmt.Fprintf(w, "station %s  board %s  ocpp: %s  queued %d\n\n", st.Station.ID, st.Station.Board, link, o.Queued)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONN\tSTATUS\tPILOT\tOFFERED\tCONTACTOR\tENERGY\tPOWER\tSESSION\tFAULT")
	for _, c := range st.Connectors {
		contactor := "open"
		if c.Contactor {
			contactor = "closed"
		}
		session := "-"
		if s := c.Session; s != nil {
			tx := s.TransactionID
			if tx == "" {
				tx = "-"
			}
			session = fmt.Sprintf("%s tag=%s tx=%s %.1fWh since %s", s.ID, s.IDTag, tx, s.EnergyWh,
				s.StartedAt.Local().Format(time.TimeOnly))
		}
		fault := c.Fault
		if fault == "" {
			fault = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%.1f A\t%s\t%.1f Wh\t%.0f W\t%s\t%s\n",
			c.ID, c.Status, c.Pilot, c.OfferedA, contactor, c.Meter.EnergyWh, c.Meter.PowerW, session,
			strings.ReplaceAll(fault, "\t", " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range st.Connectors {
		if c.DC != nil {
			if _, err := fmt.Fprintln(w, dcLine(c.ID, c.DC)); err != nil {
				return err
			}
		}
	}
	return nil
}

// dcLine is the status line of a DC connector's sequence: its step, the
// vehicle's SoC, what the output delivers and offers, and the isolation.
func dcLine(id int, d *localapi.DC) string {
	soc := "?"
	if d.SoC != nil {
		soc = strconv.Itoa(*d.SoC)
	}
	line := fmt.Sprintf("DC %d: step %s  SoC %s %%  %.0f V %.1f A %.1f kW  offered %.1f A", id, d.Step, soc,
		d.PresentVoltageV, d.PresentCurrentA, d.PresentVoltageV*d.PresentCurrentA/1000, d.OfferedCurrentA)
	if d.OfferedPowerW > 0 {
		line += fmt.Sprintf(" %.1f kW", d.OfferedPowerW/1000)
	}
	line += "  isolation " + d.IsolationStatus
	if d.IsolationOhm > 0 {
		line += fmt.Sprintf(" %.0f kOhm", d.IsolationOhm/1000)
	}
	if d.Reason != "" {
		line += "  ended: " + d.Reason
	}
	return line
}
