package logupload

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeJournalctl writes a journalctl stand-in (this machine runs no
// systemd journal) that records its arguments and prints two lines, or
// fails when asked for unit "broken".
func fakeJournalctl(t *testing.T) (cmd, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	cmd = filepath.Join(dir, "journalctl")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + "\n" +
		"[ \"$2\" = broken ] && { echo 'No journal files were found.' >&2; exit 1; }\n" +
		"echo '2026-12-07T01:00:00+00:00 pi evsed[42]: time=2026-12-07T01:00:00Z level=INFO msg=\"ocpp registered\"'\n" +
		"echo '2026-12-07T01:00:05+00:00 pi evsed[42]: time=2026-12-07T01:00:05Z level=WARN msg=\"meter slow\"'\n"
	if err := os.WriteFile(cmd, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return cmd, argsFile
}

// The journal source runs journalctl for the unit and the window, in UTC
// to the second with the end rounded up, and copies its lines.
func TestJournalWindow(t *testing.T) {
	cmd, argsFile := fakeJournalctl(t)
	j := &Journal{Entry: "evsed.log", Unit: "evsed", Command: cmd}
	from := time.Date(2026, 12, 7, 2, 0, 0, 0, time.FixedZone("CET", 3600))
	to := time.Date(2026, 12, 7, 1, 30, 0, 500, time.UTC)
	var out bytes.Buffer
	n, err := j.WriteWindow(&out, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(out.Len()) || !strings.Contains(out.String(), "ocpp registered") || strings.Count(out.String(), "\n") != 2 {
		t.Errorf("wrote %d bytes %q", n, out.String())
	}
	args, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	want := "--unit\nevsed\n--output\nshort-iso\n--no-pager\n--quiet\n--utc\n--since\n2026-12-07 01:00:00\n--until\n2026-12-07 01:30:01\n"
	if string(args) != want {
		t.Errorf("journalctl args\n%s\nwant\n%s", args, want)
	}

	// Open sides ask for everything.
	if _, err := j.WriteWindow(&out, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if args, _ := os.ReadFile(argsFile); strings.Contains(string(args), "--since") || strings.Contains(string(args), "--until") {
		t.Errorf("open window passed bounds: %s", args)
	}
}

// A journalctl that fails is an error that says why (its stderr), for the
// upload to report UploadFailed.
func TestJournalFailure(t *testing.T) {
	cmd, _ := fakeJournalctl(t)
	j := &Journal{Entry: "evsed.log", Unit: "broken", Command: cmd}
	_, err := j.WriteWindow(&bytes.Buffer{}, time.Time{}, time.Time{})
	if err == nil || !strings.Contains(err.Error(), "No journal files") {
		t.Fatalf("err = %v, want journalctl's message", err)
	}
}

// UnderSystemd needs the journal stream systemd hands a service.
func TestUnderSystemd(t *testing.T) {
	t.Setenv("JOURNAL_STREAM", "")
	if UnderSystemd() {
		t.Error("UnderSystemd without JOURNAL_STREAM")
	}
}
