package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/cmd/evsed/internal/config"
	"github.com/evsed/evsed/cmd/evsed/internal/sdnotify"
)

// fakeLoop stands in for the station loop: it reports every question on
// calls and answers at once, or never (until ctx ends) once hung.
type fakeLoop struct {
	calls chan struct{}
	hung  atomic.Bool
}

func newFakeLoop() *fakeLoop { return &fakeLoop{calls: make(chan struct{}, 100)} }

func (f *fakeLoop) probe(ctx context.Context) error {
	f.calls <- struct{}{}
	if f.hung.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// logSink is a slog.Handler that hands every message to a channel, so that
// a test can wait for a goroutine to have reached a point it logs.
type logSink chan string

func (s logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s logSink) Handle(_ context.Context, r slog.Record) error {
	s <- r.Message
	return nil
}
func (s logSink) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s logSink) WithGroup(string) slog.Handler      { return s }

// waitLog returns once a message containing sub was logged.
func waitLog(t *testing.T, logs logSink, sub string) {
	t.Helper()
	for m := range logs {
		if strings.Contains(m, sub) {
			return
		}
	}
}

// rig is a group with one idle component under supervision, on a fake
// clock, with recorded halts and exits.
type rig struct {
	clk    *clock.Fake
	loop   *fakeLoop
	logs   logSink
	g      *group
	cancel context.CancelFunc
	halts  atomic.Int32
	exits  chan int
	stop   func()
}

var testWatchdog = config.Watchdog{Interval: time.Second, Budget: 5 * time.Second}

// newRig starts the rig; with hung, the loop never answers, not even the
// first question.
func newRig(t *testing.T, hung bool, n *sdnotify.Notifier, systemd time.Duration, components ...func(ctx context.Context) error) *rig {
	t.Helper()
	r := &rig{
		clk:   clock.NewFake(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)),
		loop:  newFakeLoop(),
		logs:  make(logSink, 1000),
		exits: make(chan int, 10),
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.loop.hung.Store(hung)
	halt := func() { r.halts.Add(1) }
	r.g = newGroup(ctx, halt)
	r.g.Go("idle", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	for i, c := range components {
		r.g.Go(fmt.Sprint("component ", i), c)
	}
	r.stop = supervise(r.g, supervision{
		Watchdog:        testWatchdog,
		Probe:           r.loop.probe,
		Halt:            halt,
		Notifier:        n,
		SystemdWatchdog: systemd,
		Clock:           r.clk,
		Logger:          slog.New(r.logs),
		Exit:            func(code int) { r.exits <- code },
	})
	t.Cleanup(func() {
		r.cancel()
		r.g.Wait()
		r.stop()
	})
	return r
}

func TestWatchdogHaltsAndExitsWhenTheLoopHangs(t *testing.T) {
	r := newRig(t, true, nil, 0)
	<-r.loop.calls // the first question is asked at once, and hangs
	r.clk.Advance(testWatchdog.Budget - time.Millisecond)
	if len(r.exits) != 0 || r.halts.Load() != 0 {
		t.Fatalf("within the budget: %d exits, %d halts; want none", len(r.exits), r.halts.Load())
	}
	// The deadline fires inside Advance, on this goroutine.
	r.clk.Advance(time.Millisecond)
	if len(r.exits) != 1 {
		t.Fatalf("%d exits at the budget, want 1", len(r.exits))
	}
	if code := <-r.exits; code != exitError {
		t.Errorf("exit code %d, want %d", code, exitError)
	}
	if r.halts.Load() == 0 {
		t.Error("exited without halting the board")
	}
	waitLog(t, r.logs, "the station loop has not answered: halting the board and exiting")
	// One hung question fires once, however long it hangs.
	r.clk.Advance(10 * testWatchdog.Budget)
	if len(r.exits) != 0 {
		t.Errorf("%d more exits, want none", len(r.exits))
	}
}

func TestWatchdogQuietWhileTheLoopAnswers(t *testing.T) {
	r := newRig(t, false, nil, 0)
	for range 30 {
		<-r.loop.calls
		r.clk.Advance(testWatchdog.Interval)
	}
	<-r.loop.calls
	if len(r.exits) != 0 || r.halts.Load() != 0 {
		t.Errorf("%d exits, %d halts while the loop answers; want none", len(r.exits), r.halts.Load())
	}
}

// notifySocket listens like the service manager and returns the Notifier
// that reaches it and a function reading the next datagram.
func notifySocket(t *testing.T) (*sdnotify.Notifier, func() string) {
	t.Helper()
	path, read := listenNotify(t)
	n, err := sdnotify.FromEnv(func(k string) string {
		if k == sdnotify.SocketEnv {
			return path
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, read
}

// listenNotify opens the service manager's socket in a temporary directory
// and returns its path and a function reading the next datagram.
func listenNotify(t *testing.T) (string, func() string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return path, func() string {
		t.Helper()
		buf := make([]byte, 512)
		m, _, err := conn.ReadFromUnix(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:m])
	}
}

func expect(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("datagram %q, want %q", got, want)
	}
}

func TestSystemdNotifications(t *testing.T) {
	n, read := notifySocket(t)
	// WatchdogSec=2s: a ping every second.
	r := newRig(t, false, n, 2*time.Second)
	<-r.loop.calls
	expect(t, read(), "READY=1")
	for range 3 {
		r.clk.Advance(time.Second)
		<-r.loop.calls
		expect(t, read(), "WATCHDOG=1")
	}
	// The loop hangs on the question asked at +4s; the last answered one
	// was asked at +3s, so pings go on up to +7s and stop at +8s.
	r.loop.hung.Store(true)
	r.clk.Advance(time.Second)
	<-r.loop.calls
	expect(t, read(), "WATCHDOG=1")
	for range 3 {
		r.clk.Advance(time.Second)
		expect(t, read(), "WATCHDOG=1")
	}
	r.clk.Advance(time.Second)
	waitLog(t, r.logs, "withholding watchdog pings")
	// Nothing was sent since: the next datagram is the one for the stop.
	r.cancel()
	expect(t, read(), "STOPPING=1")
	if len(r.exits) != 0 {
		t.Errorf("software watchdog fired before its budget")
	}
}

func TestSystemdNoStoppingOnReset(t *testing.T) {
	n, read := notifySocket(t)
	reset := make(chan struct{})
	r := newRig(t, false, n, 2*time.Second, func(ctx context.Context) error {
		select {
		case <-reset:
			return errReset
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	<-r.loop.calls
	expect(t, read(), "READY=1")
	close(reset)
	waitLog(t, r.logs, "not sending STOPPING=1")
	r.clk.Advance(time.Second)
	expect(t, read(), "WATCHDOG=1")
	if err := r.g.Wait(); !errors.Is(err, errReset) {
		t.Errorf("group error %v, want the reset", err)
	}
}

func TestSystemdWithoutWatchdog(t *testing.T) {
	n, read := notifySocket(t)
	r := newRig(t, false, n, 0)
	<-r.loop.calls
	expect(t, read(), "READY=1")
	r.clk.Advance(time.Minute)
	r.cancel()
	expect(t, read(), "STOPPING=1")
}

// panicEnv makes the test binary, run by TestPanicHaltsTheBoard, panic in
// the place it names instead of running tests.
const panicEnv = "EVSED_TEST_PANIC_IN"

// TestPanicHaltsTheBoard runs this test binary again, panicking in a
// component of the group and in the watchdog, and checks that the board is
// halted before the process dies of the panic.
func TestPanicHaltsTheBoard(t *testing.T) {
	if where := os.Getenv(panicEnv); where != "" {
		panicIn(where)
		return
	}
	for _, where := range []string{"component", "watchdog"} {
		t.Run(where, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestPanicHaltsTheBoard$")
			cmd.Env = append(os.Environ(), panicEnv+"="+where)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Fatalf("child: %v, want a non-zero exit\n%s", err, out)
			}
			s := string(out)
			h, p := strings.Index(s, "board halted"), strings.Index(s, "panic: boom")
			if h < 0 || p < 0 || h > p {
				t.Errorf("want the halt before the panic, got\n%s", s)
			}
		})
	}
}

// panicIn panics in a group component or in the watchdog's question.
func panicIn(where string) {
	halt := func() { fmt.Println("board halted") }
	g := newGroup(context.Background(), halt)
	switch where {
	case "component":
		g.Go("station", func(context.Context) error { panic("boom") })
	case "watchdog":
		g.Go("station", func(ctx context.Context) error { <-ctx.Done(); return nil })
		supervise(g, supervision{
			Watchdog: testWatchdog,
			Probe:    func(context.Context) error { panic("boom") },
			Halt:     halt,
			Clock:    clock.Real{},
			Exit:     os.Exit,
		})
	}
	g.Wait()
}

// TestRunNotifiesSystemd runs the real wiring (sim board, station, local
// API) under a fake service manager: READY=1 once the station answers,
// WATCHDOG=1 pings while it runs, STOPPING=1 when it stops.
func TestRunNotifiesSystemd(t *testing.T) {
	path, read := listenNotify(t)
	t.Setenv(sdnotify.SocketEnv, path)
	t.Setenv(sdnotify.WatchdogUsecEnv, "20000000") // WatchdogSec=20s
	t.Setenv(sdnotify.WatchdogPIDEnv, "")
	data, api := t.TempDir(), freeAddr(t)
	cfg, err := config.Load("", config.Overrides{DataDir: &data, APIListen: &api}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Watchdog = config.Watchdog{Interval: 10 * time.Millisecond, Budget: time.Minute}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runStation(ctx, cfg, slog.New(slog.DiscardHandler)) }()
	expect(t, read(), "READY=1")
	cancel()
	// Pings may still come in between; the stop is announced before
	// runStation returns.
	for m := read(); m != "STOPPING=1"; m = read() {
		expect(t, m, "WATCHDOG=1")
	}
	if err := <-done; err != nil {
		t.Errorf("runStation: %v", err)
	}
}
