package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/cmd/evsed/internal/config"
	"github.com/evsed/evsed/cmd/evsed/internal/sdnotify"
	"github.com/evsed/evsed/station"
)

// haltWait bounds how long a firing watchdog waits for the board's Halt
// before it exits anyway: a loop hung on a bus may take Halt down with it,
// and a fresh process drives every output to its safe level when it opens
// the board.
const haltWait = 2 * time.Second

// watchdog asks the station loop a cheap question (its status) every
// interval and calls onStuck when one question stays unanswered for budget.
// The loop is the only goroutine that commands the contactor on the
// station's behalf, so a loop that no longer answers no longer keeps the
// hardware safe.
type watchdog struct {
	probe            func(ctx context.Context) error
	interval, budget time.Duration
	clk              clock.Clock
	onStuck          func()

	ready     chan struct{} // closed at the first answer
	readyOnce sync.Once
	// answered is the clk time, in Unix nanoseconds, at which the last
	// answered question was asked: the loop was alive at least then. The
	// time of asking rather than of answering keeps Alive conservative.
	// Written by Run, read by Alive from any goroutine.
	answered atomic.Int64
}

func newWatchdog(probe func(context.Context) error, c config.Watchdog, clk clock.Clock, onStuck func()) *watchdog {
	w := &watchdog{probe: probe, interval: c.Interval, budget: c.Budget, clk: clock.Or(clk), onStuck: onStuck, ready: make(chan struct{})}
	// Until the first answer, the start counts as one: the loop gets a
	// budget to come up.
	w.answered.Store(w.clk.Now().UnixNano())
	return w
}

// Run asks until ctx ends. Questions do not overlap: while one is
// unanswered no other is asked, and its deadline fires onStuck once.
func (w *watchdog) Run(ctx context.Context) {
	for {
		// Both timers are armed before the question, so that a test which
		// sees the question knows the clock's next events.
		asked := w.clk.Now()
		next := w.clk.NewTimer(w.interval)
		deadline := w.clk.AfterFunc(w.budget, w.onStuck)
		// An error other than ctx's means the loop has ended
		// (station.ErrStopped): it halted the hardware on its way out and
		// the group is stopping, so it counts as an answer, not as a hang.
		_ = w.probe(ctx)
		deadline.Stop()
		if ctx.Err() != nil {
			next.Stop()
			return
		}
		w.answered.Store(asked.UnixNano())
		w.readyOnce.Do(func() { close(w.ready) })
		select {
		case <-ctx.Done():
			next.Stop()
			return
		case <-next.C():
		}
	}
}

// Ready is closed once the loop has answered for the first time.
func (w *watchdog) Ready() <-chan struct{} { return w.ready }

// Alive reports whether the loop answered a question asked within the
// last budget.
func (w *watchdog) Alive() bool {
	return w.clk.Now().Sub(time.Unix(0, w.answered.Load())) < w.budget
}

// supervision is what supervise needs besides the group.
type supervision struct {
	Watchdog config.Watchdog
	// Probe asks the station loop for a cheap answer.
	Probe func(ctx context.Context) error
	// Halt puts the board in its safe state; it may be called while the
	// loop is hung and more than once.
	Halt func()
	// Notifier reaches the service manager; nil when there is none.
	Notifier *sdnotify.Notifier
	// SystemdWatchdog is the service manager's watchdog timeout; 0 means
	// none (no WATCHDOG=1 pings).
	SystemdWatchdog time.Duration
	// Clock times the questions and pings; nil means the wall clock.
	Clock clock.Clock
	// Logger receives the watchdog's logs; nil means slog.Default().
	Logger *slog.Logger
	// Exit ends the process with a code; os.Exit in production.
	Exit func(code int)
}

// supervisionFromEnv returns the production supervision of st: the wall
// clock, os.Exit, and systemd's notify socket and watchdog timeout from the
// environment. A malformed environment is logged and leaves that part out:
// it must not stop a charger.
func supervisionFromEnv(c config.Watchdog, st *station.Station, halt func(), log *slog.Logger) supervision {
	s := supervision{
		Watchdog: c,
		Probe: func(ctx context.Context) error {
			_, err := st.Status(ctx)
			return err
		},
		Halt:   halt,
		Clock:  clock.Real{},
		Logger: log,
		Exit:   os.Exit,
	}
	n, err := sdnotify.FromEnv(os.Getenv)
	if err != nil {
		log.Warn("systemd notifications off", "err", err)
		return s
	}
	s.Notifier = n
	if n == nil {
		return s
	}
	timeout, ok, err := sdnotify.WatchdogTimeout(os.Getenv, os.Getpid())
	if err != nil {
		log.Warn("systemd watchdog pings off", "err", err)
	}
	if ok {
		s.SystemdWatchdog = timeout
	}
	return s
}

// supervise runs the software watchdog of g's station and, with a service
// manager, its notifications: READY=1 at the loop's first answer,
// WATCHDOG=1 every half systemd watchdog timeout while the loop answers,
// STOPPING=1 when g starts to stop (except for a CSMS reset, after which
// the process re-executes itself and stays the service's main process).
//
// They run beside g rather than in it, so that they keep watching while
// g's components stop: a loop that hangs on its way out is caught too.
// Call the returned function once g.Wait has returned.
func supervise(g *group, s supervision) (stop func()) {
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	clk := clock.Or(s.Clock)
	wd := newWatchdog(s.Probe, s.Watchdog, clk, func() {
		log.Error("watchdog: the station loop has not answered: halting the board and exiting for the service manager to restart evsed",
			"budget", s.Watchdog.Budget)
		haltWithin(s.Halt, clk, log)
		s.Exit(exitError)
	})
	if s.SystemdWatchdog > 0 && s.SystemdWatchdog <= s.Watchdog.Budget {
		log.Warn("systemd WatchdogSec is not above watchdog.budget: systemd may kill evsed before evsed halts the board",
			"systemd", s.SystemdWatchdog, "budget", s.Watchdog.Budget)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	goHalting(&wg, s.Halt, func() { wd.Run(ctx) })
	if s.Notifier != nil {
		goHalting(&wg, s.Halt, func() {
			notify(ctx, notifyParams{
				n: s.Notifier, wd: wd, ping: s.SystemdWatchdog / 2, clk: clk, log: log,
				stopping: g.ctx.Done(),
				reset:    func() bool { return errors.Is(g.Err(), errReset) },
			})
		})
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// goHalting runs f in a goroutine counted by wg; a panic in f halts the
// board before it crashes the process, as in group.Go.
func goHalting(wg *sync.WaitGroup, halt func(), f func()) {
	wg.Go(func() {
		defer func() {
			if r := recover(); r != nil {
				halt()
				panic(r)
			}
		}()
		f()
	})
}

// haltWithin calls halt and waits at most haltWait for it.
func haltWithin(halt func(), clk clock.Clock, log *slog.Logger) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		halt()
	}()
	t := clk.NewTimer(haltWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C():
		log.Error("watchdog: board halt did not return; exiting anyway", "waited", haltWait)
	}
}

// notifyParams are notify's inputs.
type notifyParams struct {
	n        *sdnotify.Notifier
	wd       *watchdog
	ping     time.Duration // 0: no WATCHDOG=1
	clk      clock.Clock
	log      *slog.Logger
	stopping <-chan struct{} // closed when the group starts to stop
	reset    func() bool     // whether it stops for a CSMS reset
}

// notify sends the service manager's notifications until ctx ends.
func notify(ctx context.Context, p notifyParams) {
	send := func(state string) {
		if err := p.n.Notify(state); err != nil {
			p.log.Warn("systemd notify", "state", state, "err", err)
		}
	}
	stopping := p.stopping
	select {
	case <-p.wd.Ready():
	case <-stopping:
	case <-ctx.Done():
		return
	}
	// A nil channel never fires: no pings without a systemd watchdog.
	var tick <-chan time.Time
	var t clock.Timer
	if p.ping > 0 {
		// Armed before READY=1 is sent, so that a test which reads READY=1
		// knows the next event of the clock.
		t = p.clk.NewTimer(p.ping)
		defer t.Stop()
		tick = t.C()
	}
	select {
	case <-stopping:
	default:
		send(sdnotify.Ready)
	}
	withheld := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-stopping:
			if p.reset() {
				// The process re-executes itself and tells READY=1 again;
				// until then, it keeps pinging while the loop answers.
				p.log.Info("systemd: restarting in place after a reset; not sending STOPPING=1")
				stopping = nil
				continue
			}
			send(sdnotify.Stopping)
			return
		case <-tick:
			// Re-armed before the send, for the same reason as above.
			t.Reset(p.ping)
			if p.wd.Alive() {
				withheld = false
				send(sdnotify.Watchdog)
			} else if !withheld {
				withheld = true
				p.log.Warn("systemd: the station loop is not answering; withholding watchdog pings")
			}
		}
	}
}
