package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/ocppclient/ocpptest"
)

// exitLimit bounds how long an agent that cannot use its database may take
// to give up: it must exit, not hang.
const exitLimit = 15 * time.Second

// runDisk checks storage failures: a data dir with no space at start, a
// database file that is not one, a disk that fills up during a session, and
// whether a service unit would keep a failing agent from restarting in a
// tight loop.
func runDisk(ctx context.Context, e *env) result {
	r := result{cycles: 1}
	var notes []string
	fail := func(format string, args ...any) { r.failures = append(r.failures, fmt.Sprintf(format, args...)) }
	dir := filepath.Join(e.tmp, "disk")

	// 1. No space at start.
	mnt := filepath.Join(dir, "full")
	mounted := mountTmpfs(mnt, "64k") == nil
	if mounted {
		defer syscall.Unmount(mnt, syscall.MNT_DETACH)
		data := filepath.Join(mnt, "data")
		if err := os.MkdirAll(data, 0o750); err != nil {
			fail("mkdir: %v", err)
		}
		if err := fill(filepath.Join(mnt, "filler")); err != nil {
			fail("fill: %v", err)
		}
		code, msg := startFails(ctx, e, filepath.Join(dir, "a"), data)
		notes = append(notes, fmt.Sprintf("full-at-start: exit=%d %q", code, msg))
		if code != 1 || !strings.Contains(msg, "no space left on device") {
			fail("full disk at start: exit %d, message %q; want exit 1 naming the full disk", code, msg)
		}
	} else {
		// Without privileges for a tmpfs, a data dir path that is a file
		// stands in for storage that cannot be used.
		notes = append(notes, "tmpfs mount not permitted: data dir is a file instead")
		file := filepath.Join(dir, "not-a-dir")
		os.MkdirAll(dir, 0o750)
		os.WriteFile(file, []byte("x"), 0o600)
		code, msg := startFails(ctx, e, filepath.Join(dir, "a"), file)
		notes = append(notes, fmt.Sprintf("data-dir-is-file: exit=%d %q", code, msg))
		if code != 1 || !strings.Contains(msg, "data dir") {
			fail("data dir is a file: exit %d, message %q; want exit 1 naming the data dir", code, msg)
		}
	}

	// 2. A database file whose meta pages are garbage.
	corrupt := filepath.Join(dir, "corrupt")
	if err := makeDB(ctx, e, filepath.Join(dir, "b0"), corrupt); err != nil {
		fail("prepare database: %v", err)
	} else {
		if err := garble(filepath.Join(corrupt, "evsed.db")); err != nil {
			fail("corrupt database: %v", err)
		}
		code, msg := startFails(ctx, e, filepath.Join(dir, "b"), corrupt)
		notes = append(notes, fmt.Sprintf("corrupt-db: exit=%d %q", code, msg))
		if code != 1 || !strings.Contains(msg, "evsed.db") {
			fail("corrupt database: exit %d, message %q; want exit 1 naming the database", code, msg)
		}
	}

	// 3. The service unit, if the installer ships one, must space restarts.
	unit, ok := checkUnit()
	notes = append(notes, "unit: "+unit)
	if !ok {
		fail("a service unit restarts without RestartSec or StartLimit*: %s", unit)
	}

	// 4. The disk fills up during a session.
	if mounted {
		c, note, fails := diskFillsDuringSession(ctx, e, filepath.Join(dir, "during"))
		r.ledger, r.sessions = c, c.expStart
		r.failures = append(r.failures, fails...)
		notes = append(notes, note)
	} else {
		notes = append(notes, "fills-during-session: skipped (no tmpfs)")
	}
	r.detail = strings.Join(notes, "; ")
	return r
}

// mountTmpfs mounts a tmpfs of the given size (mount(8) syntax) on dir.
func mountTmpfs(dir, size string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	return syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size)
}

// fill writes path until the file system is full.
func fill(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, chunk := range []int{64 << 10, 4 << 10, 512} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					return err
				}
				break
			}
		}
	}
	return nil
}

// startFails runs an agent on data, which it cannot use, and returns its
// exit code (-1: it did not exit within exitLimit) and its error line.
func startFails(ctx context.Context, e *env, dir, data string) (int, string) {
	a, err := newAgent(e, dir, agentConfig{id: "CPDISK", dataDir: data})
	if err != nil {
		return -1, err.Error()
	}
	if err := a.launch(); err != nil {
		return -1, err.Error()
	}
	code, exited := a.waitExit(exitLimit)
	if !exited {
		a.kill()
		return -1, "still running"
	}
	msg := ""
	for _, l := range strings.Split(a.logText(), "\n") {
		if strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:") {
			return code, "PANIC: " + l
		}
		if strings.Contains(l, "level=ERROR") || strings.HasPrefix(l, "evsed run:") {
			msg = l
		}
	}
	if i := strings.Index(msg, "err="); i >= 0 {
		msg = msg[i+len("err="):]
		if u, err := strconv.Unquote(msg); err == nil {
			msg = u
		}
	}
	return code, strings.ReplaceAll(msg, e.tmp, "$TMP")
}

// makeDB creates a real database in data by running the agent once.
func makeDB(ctx context.Context, e *env, dir, data string) error {
	a, err := newAgent(e, dir, agentConfig{id: "CPDISK", dataDir: data})
	if err != nil {
		return err
	}
	if err := a.start(ctx); err != nil {
		a.kill()
		return err
	}
	return a.stop()
}

// garble overwrites both bbolt meta pages (the first two 4 KiB pages).
func garble(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	junk := make([]byte, 8192)
	for i := range junk {
		junk[i] = byte(i*7 + 13)
	}
	_, err = f.WriteAt(junk, 0)
	return err
}

// checkUnit looks for systemd units under scripts/ and reports their
// restart settings; ok is false when a unit restarts without RestartSec or
// without a StartLimit, which would let a failing agent loop.
func checkUnit() (note string, ok bool) {
	var notes []string
	ok = true
	filepath.WalkDir("scripts", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".service") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		var got []string
		for _, key := range []string{"Restart", "RestartSec", "StartLimitIntervalSec", "StartLimitBurst"} {
			v := "unset"
			for _, l := range strings.Split(string(b), "\n") {
				if rest, found := strings.CutPrefix(strings.TrimSpace(l), key+"="); found {
					v = rest
				}
			}
			if v == "unset" && key != "Restart" {
				ok = false
			}
			got = append(got, key+"="+v)
		}
		notes = append(notes, path+" "+strings.Join(got, " "))
		return nil
	})
	if len(notes) == 0 {
		return "no systemd unit under scripts/ (RestartSec/StartLimit* not checked)", true
	}
	return strings.Join(notes, ", "), ok
}

// diskFillsDuringSession charges on a small tmpfs with the CSMS away (so
// the queue grows), fills the disk, and checks that the agent keeps running,
// opens the contactor when the EV leaves, logs the write errors, and once
// space is back delivers everything.
func diskFillsDuringSession(ctx context.Context, e *env, dir string) (ledgerCounts, string, []string) {
	var fails []string
	fail := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	mnt := filepath.Join(dir, "mnt")
	if err := mountTmpfs(mnt, "1m"); err != nil {
		return ledgerCounts{}, "", []string{"mount: " + err.Error()}
	}
	defer syscall.Unmount(mnt, syscall.MNT_DETACH)
	csms, err := ocpptest.Start(ocpptest.Options{})
	if err != nil {
		return ledgerCounts{}, "", []string{err.Error()}
	}
	defer csms.Stop()
	csms.Stop()
	const cp = "CPFULL"
	// Every measurand the simulated meters give makes each sample some
	// 1.5 KB: the queue's log fills in a minute or two on a full disk.
	keys := map[string]string{"MeterValuesSampledData": "Energy.Active.Import.Register,Energy.Active.Export.Register," +
		"Power.Active.Import,Current.Import,Voltage,Frequency,Power.Factor"}
	a, err := newAgent(e, dir, agentConfig{id: cp, dataDir: filepath.Join(mnt, "data"), csmsURL: csms.URL(), free: true, ocppKeys: keys})
	if err != nil {
		return ledgerCounts{}, "", []string{err.Error()}
	}
	defer a.kill()
	if err := a.start(ctx); err != nil {
		return ledgerCounts{}, "", []string{err.Error()}
	}
	for n := 1; n <= simConnectors; n++ {
		_ = a.do(ctx, func(ctx context.Context, c *localapi.Client) error { return c.Plug(ctx, n) })
		_ = a.do(ctx, func(ctx context.Context, c *localapi.Client) error { return c.Charge(ctx, n) })
	}
	if _, err := a.waitStatus(ctx, "samples queued", func(st localapi.Status) bool {
		return st.Station.OCPP.Queued >= 6 && st.Connectors[0].Contactor
	}); err != nil {
		return ledgerCounts{}, "", []string{err.Error()}
	}
	filler := filepath.Join(mnt, "filler")
	if err := fill(filler); err != nil {
		fail("fill: %v", err)
	}
	// The queue's log file is allocated in advance and takes messages on
	// a full disk until it is full itself; the database does not. A
	// session that ends and one that starts make the station write to it.
	last := simConnectors
	_ = a.do(ctx, func(ctx context.Context, c *localapi.Client) error { return c.Unplug(ctx, last) })
	_ = a.do(ctx, func(ctx context.Context, c *localapi.Client) error { return c.Plug(ctx, last) })
	_ = a.do(ctx, func(ctx context.Context, c *localapi.Client) error { return c.Charge(ctx, last) })
	// Wait for the agent to hit the full disk: at the latest when the
	// queue's log is full and its contents must go to the database.
	const fullLimit = 5 * time.Minute
	deadline := time.Now().Add(fullLimit)
	for !strings.Contains(a.logText(), "no space left on device") && time.Now().Before(deadline) && a.running() {
		time.Sleep(100 * time.Millisecond)
	}
	hit := strings.Contains(a.logText(), "no space left on device")
	if !hit {
		fail("no write error logged within %v of the disk filling up", fullLimit)
	}
	time.Sleep(3 * time.Second) // let it run on a full disk for a while
	if !a.running() {
		fail("the agent exited on a full disk")
		return ledgerCounts{}, "fills-during-session: agent died", fails
	}
	// Safety must not wait for the disk: the EV leaves, the contactor opens.
	_ = a.do(ctx, func(ctx context.Context, c *localapi.Client) error { return c.Unplug(ctx, 1) })
	if _, err := a.waitStatus(ctx, "contactor open after unplug on a full disk", func(st localapi.Status) bool {
		return !st.Connectors[0].Contactor
	}); err != nil {
		fail("%v", err)
	}
	errLines := strings.Count(a.logText(), "no space left on device")

	// Space comes back, then the CSMS: everything must arrive. The
	// journal's retry back-off may be up to a minute by now.
	if err := os.Remove(filler); err != nil {
		fail("remove filler: %v", err)
	}
	if err := csms.Restart(); err != nil {
		fail("csms restart: %v", err)
	}
	a.unplugAll(ctx, simConnectors)
	if err := a.drained(ctx); err != nil {
		if err2 := a.drained(ctx); err2 != nil {
			fail("%v", err2)
		}
	}
	if !a.running() {
		fail("the agent exited after space came back")
	}
	if err := a.stop(); err != nil {
		fail("SIGTERM: %v", err)
	}
	counts, lf := ledger(csms, cp, parseLog(a.logText()))
	fails = append(fails, lf...)
	return counts, fmt.Sprintf("fills-during-session: alive, %d ENOSPC log lines, resumed", errLines), fails
}
