package logupload

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// Journal is a Source over the systemd journal of one unit, read with
// journalctl: under systemd the agent's log lines go to the journal (its
// stdout and stderr are a journal stream), which keeps them for days on
// the Pi's own storage policy, so a CSMS asking for last night's logs
// gets last night's lines, not only what the process holds in memory.
type Journal struct {
	// Entry is the name in the archive. Required.
	Entry string
	// Unit is the systemd unit whose lines are read, e.g. "evsed".
	// Required.
	Unit string
	// Command is the journalctl to run; "" means "journalctl" from PATH.
	Command string
	// Timeout bounds one read; 0 means a minute.
	Timeout time.Duration
}

var _ Source = (*Journal)(nil)

// Name implements Source.
func (j *Journal) Name() string { return j.Entry }

// journalTime is the time format journalctl's --since and --until read.
const journalTime = "2006-01-02 15:04:05"

// WriteWindow implements Source: the unit's lines from from to to (to
// the second, journalctl's resolution; open sides unbounded), oldest
// first, each starting with its RFC 3339 time (journalctl's short-iso
// output).
func (j *Journal) WriteWindow(w io.Writer, from, to time.Time) (int64, error) {
	cmd := j.Command
	if cmd == "" {
		cmd = "journalctl"
	}
	timeout := j.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	args := []string{"--unit", j.Unit, "--output", "short-iso", "--no-pager", "--quiet", "--utc"}
	if !from.IsZero() {
		args = append(args, "--since", from.UTC().Format(journalTime))
	}
	if !to.IsZero() {
		// --until is inclusive to the second: round up, so that the
		// lines of to's last second are in.
		args = append(args, "--until", to.UTC().Add(time.Second-time.Nanosecond).Truncate(time.Second).Format(journalTime))
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c := exec.CommandContext(ctx, cmd, args...)
	var stderr bytes.Buffer
	cw := &countWriter{w: w}
	c.Stdout, c.Stderr = cw, &stderr
	if err := c.Run(); err != nil {
		return cw.n, fmt.Errorf("logupload: %s: %s: %w: %s", j.Entry, cmd, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return cw.n, nil
}

// countWriter counts what it passes on.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// UnderSystemd reports whether this process logs to the journal: systemd
// sets JOURNAL_STREAM for a service whose stdout or stderr is a journal
// stream, and journalctl must be there to read it back.
func UnderSystemd() bool {
	if os.Getenv("JOURNAL_STREAM") == "" {
		return false
	}
	_, err := exec.LookPath("journalctl")
	return err == nil
}
