package station

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/sim"
	"github.com/evsed/evsed/meter"
	"pgregory.net/rapid"
)

// markPrefix starts the id tags of the marker cards that markedBoard keeps
// from the station.
const markPrefix = "\x00mark-"

// mark is a marker card seen by markedBoard's sink, with the number of
// events handed to the station before it.
type mark struct {
	tag       string
	forwarded int
}

// markedBoard is the simulated board with a sink that swallows marker
// cards: the board delivers events in order, so once a marker swiped after
// a step has come through, every event of the step has reached the
// station's inbox. It offers the station Run only, which delivers from one
// goroutine.
type markedBoard struct {
	b     *sim.Board
	marks chan mark
}

var _ hal.Board = (*markedBoard)(nil)

func (m *markedBoard) String() string              { return m.b.String() }
func (m *markedBoard) Name() string                { return m.b.Name() }
func (m *markedBoard) Connectors() []hal.Connector { return m.b.Connectors() }
func (m *markedBoard) Halt() error                 { return m.b.Halt() }

// Run implements hal.Board.
func (m *markedBoard) Run(ctx context.Context, sink hal.Sink) error {
	forwarded := 0 // touched by Run's goroutine only
	return m.b.Run(ctx, func(ev hal.Event) {
		if ev.Kind == hal.CardPresented && strings.HasPrefix(ev.IDTag, markPrefix) {
			select {
			case m.marks <- mark{ev.IDTag, forwarded}:
			case <-ctx.Done():
			}
			return
		}
		forwarded++
		sink(ev)
	})
}

// countingMeter counts the consecutive failed reads of the simulated meter,
// which the station must turn into a fault after meterFailLimit.
type countingMeter struct {
	meter.Meter
	mu     sync.Mutex // guards failed
	failed int
}

// Read implements meter.Meter.
func (m *countingMeter) Read(ctx context.Context) (meter.Reading, error) {
	r, err := m.Meter.Read(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.failed++
	} else {
		m.failed = 0
	}
	return r, err
}

func (m *countingMeter) failures() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failed
}

// simRun is one run of TestSafetyPropertySim: the real station on the
// simulated board, both in virtual time.
type simRun struct {
	rt    *rapid.T
	t     *testing.T
	board *sim.Board
	mb    *markedBoard
	st    *Station
	rep   *recReporter
	meter *countingMeter
	ctx   context.Context

	// repDown is set once the Reporter went down in this run: the journal
	// may then wait for a retry on the virtual clock, so steps settle
	// without waiting for it.
	repDown bool

	marks     int // marker cards swiped
	forwarded int // events forwarded up to the last marker
	step      int
	// deauthorized are the sessions the test deauthorized while
	// StopTransactionOnInvalidID was off (they go on, suspended).
	deauthorized map[string]bool
	// weldKnown: the simulated contactor is welded and was seen commanded
	// open since, so the board has reported the weld. A weld under a
	// closed contactor shows only when it is commanded open.
	weldKnown  bool
	closedOnce bool
	dangerous  map[string]int
}

// sync waits until the board and the station are quiet: it swipes a marker,
// waits for it to come through the board's sink, lets the station settle,
// and repeats until a round brings no new event (the station's reaction to
// an event may make the board report another, e.g. PWM taking an EV from B
// to C).
func (s *simRun) sync() {
	s.t.Helper()
	for round := 1; ; round++ {
		if round > 50 {
			s.rt.Fatalf("step %d: the board and the station do not settle", s.step)
		}
		s.marks++
		tag := fmt.Sprintf("%s%d", markPrefix, s.marks)
		if err := s.board.Swipe(1, tag); err != nil {
			s.rt.Fatalf("step %d: marker: %v", s.step, err)
		}
		var m mark
		select {
		case m = <-s.mb.marks:
		case <-s.ctx.Done():
			s.rt.Fatalf("step %d: marker %q did not come through", s.step, tag)
		}
		if m.tag != tag {
			s.rt.Fatalf("step %d: marker %q came through, want %q", s.step, m.tag, tag)
		}
		fresh := m.forwarded - s.forwarded
		s.forwarded = m.forwarded
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := s.st.settle(ctx, !s.repDown)
		cancel()
		if err != nil {
			s.rt.Fatalf("step %d: settle: %v", s.step, err)
		}
		// The first round's events may have come before the action's
		// consequences were posted; from the second on, an empty round
		// means nothing is left.
		if round > 1 && fresh == 0 {
			return
		}
	}
}

// state returns the simulated connector's state.
func (s *simRun) state() sim.ConnectorState {
	st, err := s.board.State(1)
	if err != nil {
		s.rt.Fatalf("State: %v", err)
	}
	return st
}

// do runs one step, waits for quiet and checks the invariant; see
// propRun.do for dangerous and mustOpen.
func (s *simRun) do(kind string, dangerous, mustOpen bool, f func() error) {
	s.step++
	if dangerous && s.state().Closed {
		s.dangerous[kind]++
	}
	_ = f() // refusals (Charge while unplugged, ...) are part of the game
	s.sync()
	s.check(kind, mustOpen)
}

// check verifies, from the simulated board's own view of the contactor,
// that it is closed only while the rules allow, and that the station's view
// agrees with the board's. It reads both on the loop goroutine, so that
// they are one moment.
func (s *simRun) check(kind string, mustOpen bool) {
	var why []string // found on the loop, reported here: rt must not fail off its goroutine
	err := s.st.call(s.ctx, func(l *loop, done func(error)) {
		defer done(nil)
		b, err := s.board.State(1)
		if err != nil {
			why = append(why, err.Error())
			return
		}
		c := l.conns[0]
		if b.Welded && !b.Closed {
			s.weldKnown = true
		}
		if !b.Welded {
			s.weldKnown = false
		}
		if b.Closed {
			s.closedOnce = true
			if u := s.unsafe(l, b); u != "" {
				why = append(why, "contactor closed although "+u)
			}
			if mustOpen {
				why = append(why, "contactor still closed")
			}
		}
		if c.closed != b.Closed {
			why = append(why, fmt.Sprintf("station believes contactor closed=%v, board %v", c.closed, b.Closed))
		}
		if n := s.meter.failures(); b.RCDTripped || s.weldKnown || n >= meterFailLimit {
			if b.PWM {
				why = append(why, fmt.Sprintf("fault active (RCD %v, weld %v, meter fails %d) but PWM on", b.RCDTripped, s.weldKnown, n))
			}
			if c.status != Faulted {
				why = append(why, fmt.Sprintf("fault active (RCD %v, weld %v, meter fails %d) but status %s", b.RCDTripped, s.weldKnown, n, c.status))
			}
		}
	})
	if err != nil {
		s.rt.Fatalf("step %d: %v", s.step, err)
	}
	if len(why) > 0 {
		s.rt.Fatalf("step %d (%s): %s", s.step, kind, strings.Join(why, "; "))
	}
}

// unsafe returns why the board's closed contactor may not be closed, or "".
func (s *simRun) unsafe(l *loop, b sim.ConnectorState) string {
	var why []string
	if !b.Pilot.VehicleReady() {
		why = append(why, "CP "+b.Pilot.String())
	}
	if !b.PWM || b.Offered < hal.MinOffer {
		why = append(why, fmt.Sprintf("PWM %v offers %v", b.PWM, b.Offered))
	}
	if !b.Locked {
		why = append(why, "lock open")
	}
	if b.RCDTripped {
		why = append(why, "RCD tripped")
	}
	if b.DiodeFault {
		why = append(why, "diode fault")
	}
	if s.weldKnown {
		why = append(why, "welded")
	}
	if n := s.meter.failures(); n >= meterFailLimit {
		why = append(why, fmt.Sprintf("meter failed %d reads in a row", n))
	}
	sess := l.conns[0].sess
	switch {
	case sess == nil:
		why = append(why, "no session")
	case s.deauthorized[sess.id]:
		why = append(why, "session deauthorized")
	case !slices.ContainsFunc(s.rep.startsCopy(), func(st SessionStart) bool { return st.SessionID == sess.id }):
		why = append(why, "session start not recorded")
	}
	if len(why) == 0 {
		return ""
	}
	return fmt.Sprint(why)
}

// session returns the id of connector 1's session, or "".
func (s *simRun) session() string {
	snap, err := s.st.Status(s.ctx)
	if err != nil {
		s.rt.Fatalf("Status: %v", err)
	}
	if c := snap.Connectors[0]; c.Session != nil {
		return c.Session.ID
	}
	return ""
}

// charge is the macro that gets runs to a closed contactor: plug in,
// authorize unless a session runs (by card at the board's reader, or by
// remote start, before or after plugging in) and ask for energy.
func (s *simRun) charge(rt *rapid.T) {
	tag := rapid.SampledFrom([]string{"A", "A", "A", "B", "BAD"}).Draw(rt, "tag")
	how := rapid.SampledFrom([]string{"swipe", "swipe first", "remote", "none"}).Draw(rt, "how")
	authorize := func() {
		if s.session() != "" {
			return // the session's own card would stop it
		}
		switch how {
		case "swipe", "swipe first":
			s.do("swipe", false, false, func() error { return s.board.Swipe(1, tag) })
		case "remote":
			s.do("remote start", false, false, func() error { return s.st.Start(s.ctx, 1, tag, StartOptions{Remote: true}) })
		}
	}
	if how == "swipe first" {
		authorize()
	}
	if !s.state().Plugged {
		s.do("plug", false, false, func() error { return s.board.Plug(1) })
	}
	if how != "swipe first" {
		authorize()
	}
	s.do("EV charges", false, false, func() error { return s.board.Charge(1) })
}

// simKinds are the dangerous steps the sim property test reports.
var simKinds = []string{"pause", "unplug", "fault rcd", "fault weld", "fault diode", "fault meter",
	"unavailable", "deauthorize", "reset", "config", "remote stop", "swipe", "unlock", "advance"}

// TestSafetyPropertySim drives the real station on the simulated board in
// virtual time with random EV actions, faults, cards and CSMS requests, and
// checks after every step, from the board's own view of its contactor,
// that it is closed only while the CP is in C/D, the PWM offers >= 6 A, the
// lock is engaged, no known fault is active and a session whose start was
// recorded and that was not deauthorized runs; that the station's view of
// the contactor agrees with the board's; and that a known fault has the PWM
// off and the connector Faulted.
func TestSafetyPropertySim(t *testing.T) {
	cov := &coverage{fromClosed: map[string]int{}}
	defer cov.report(t, simKinds)
	rapid.Check(t, func(rt *rapid.T) {
		cfg := Config{
			ConnectionTimeout:                 rapid.SampledFrom([]time.Duration{30 * time.Second, 60 * time.Second}).Draw(rt, "timeout"),
			FreeCharging:                      rapid.IntRange(0, 3).Draw(rt, "free") == 0,
			StopTransactionOnEVSideDisconnect: rapid.Bool().Draw(rt, "stopOnDisconnect"),
			UnlockConnectorOnEVSideDisconnect: rapid.Bool().Draw(rt, "unlockOnDisconnect"),
			StopTransactionOnInvalidID:        rapid.Bool().Draw(rt, "stopOnInvalid"),
			MeterSampleInterval:               time.Minute,
		}
		trouble := rapid.SampledFrom([]int{0, 0, 1, 2}).Draw(rt, "trouble")
		// A small battery makes the EV go from C to B by itself.
		capacity := rapid.SampledFrom([]meter.Energy{0, 0, 300 * meter.WattHour}).Draw(rt, "capacity")

		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // hang guard only
		defer cancel()
		clk := clock.NewFake(t0)
		quiet := slog.New(slog.DiscardHandler)
		board, err := sim.New(sim.Options{Connectors: 1, Clock: clk, Logger: quiet, EV: sim.EV{Capacity: capacity}})
		if err != nil {
			t.Fatal(err)
		}
		b := &markedBoard{b: board, marks: make(chan mark)}
		s := &simRun{rt: rt, t: t, board: board, mb: b, rep: &recReporter{}, ctx: ctx,
			meter:        &countingMeter{Meter: board.Meter(1)},
			deauthorized: map[string]bool{}, dangerous: map[string]int{}}
		s.st, err = New(Options{
			ID: "sim", Connectors: []ConnectorConfig{{Hardware: board.Connectors()[0], Meter: s.meter}},
			Board: b, Reporter: s.rep, Authorizer: &fakeAuth{table: map[string]AuthResult{"BAD": {Status: AuthInvalid}}},
			Config: cfg, Clock: clk, Logger: quiet,
			// Reads on the loop make the number of reads per clock step,
			// and so when a failing meter faults, the same in every replay:
			// rapid can then shrink a failure.
			InlineMeterReads: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.st.Run(runCtx) }()
		defer func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}()
		s.sync()
		timeout := cfg.ConnectionTimeout

		fault := func(k sim.FaultKind) func() error { return func() error { return board.Fault(1, k) } }
		actions := []action{
			{"advance", 5, 4, func(rt *rapid.T) {
				d := rapid.SampledFrom(advances(timeout)).Draw(rt, "advance")
				s.do("advance", true, false, func() error { clk.Advance(d); return nil })
			}},
			{"charge", 12, 1, s.charge},
			{"pause", 1, 3, func(*rapid.T) { s.do("pause", true, true, func() error { return board.Pause(1) }) }},
			{"resume", 2, 0, func(*rapid.T) { s.do("resume", false, false, func() error { return board.Charge(1) }) }},
			{"unplug", 1, 2, func(*rapid.T) { s.do("unplug", true, true, func() error { return board.Unplug(1) }) }},
			{"plug", 1, 0, func(*rapid.T) { s.do("plug", false, false, func() error { return board.Plug(1) }) }},
			// A weld shows only when the contactor is commanded open; the
			// other faults open it at once.
			{"fault", 2 * trouble, 6, func(rt *rapid.T) {
				k := rapid.SampledFrom([]sim.FaultKind{sim.FaultRCD, sim.FaultWeld, sim.FaultDiode, sim.FaultMeter}).Draw(rt, "fault")
				mustOpen := k == sim.FaultRCD || k == sim.FaultDiode
				s.do("fault "+string(k), true, mustOpen, fault(k))
			}},
			{"clear", 2 + trouble, 1, func(*rapid.T) { s.do("clear", false, false, fault(sim.FaultClear)) }},
			{"deauthorize", 1, 2, func(*rapid.T) {
				id := s.session()
				s.do("deauthorize", true, false, func() error {
					err := s.st.Deauthorize(s.ctx, id)
					if err == nil && !cfg.StopTransactionOnInvalidID {
						s.deauthorized[id] = true
					}
					return err
				})
			}},
			{"remote stop", 1, 2, func(*rapid.T) {
				s.do("remote stop", true, true, func() error { return s.st.Stop(s.ctx, 1, ReasonRemote) })
			}},
			{"swipe", 1, 3, func(rt *rapid.T) {
				tag := rapid.SampledFrom([]string{"A", "B", "BAD"}).Draw(rt, "card")
				s.do("swipe", true, false, func() error { return board.Swipe(1, tag) })
			}},
			{"availability", 1, 4, func(rt *rapid.T) {
				which := rapid.IntRange(0, 1).Draw(rt, "which")
				on := rapid.Bool().Draw(rt, "on")
				kind := "available"
				if !on {
					kind = "unavailable"
				}
				s.do(kind, !on, false, func() error { _, err := s.st.SetAvailability(s.ctx, which, on); return err })
			}},
			{"unlock", 1, 2, func(*rapid.T) {
				s.do("unlock", true, true, func() error { _, err := s.st.Unlock(s.ctx, 1); return err })
			}},
			{"reset", 1, 2, func(rt *rapid.T) {
				reason := rapid.SampledFrom([]StopReason{ReasonSoftReset, ReasonHardReset}).Draw(rt, "reset")
				// Not through Reset, which waits for the journal: with the
				// Reporter down that wait lasts until the clock moves.
				s.do("reset", true, true, func() error {
					return s.st.call(s.ctx, func(l *loop, done func(error)) { l.reset(reason, func(error) {}); done(nil) })
				})
			}},
			{"reporter", trouble, trouble, func(rt *rapid.T) {
				down := rapid.Bool().Draw(rt, "down")
				s.do("reporter", false, false, func() error {
					s.rep.mu.Lock()
					s.rep.down = down
					s.rep.mu.Unlock()
					s.repDown = s.repDown || down
					return nil
				})
			}},
			{"config", 1, 2, func(rt *rapid.T) {
				c := cfg
				c.ConnectionTimeout = rapid.SampledFrom([]time.Duration{30 * time.Second, 60 * time.Second}).Draw(rt, "newTimeout")
				c.StopTransactionOnInvalidID = rapid.Bool().Draw(rt, "newStopOnInvalid")
				c.StopTransactionOnEVSideDisconnect = rapid.Bool().Draw(rt, "newStopOnDisconnect")
				c.UnlockConnectorOnEVSideDisconnect = rapid.Bool().Draw(rt, "newUnlockOnDisconnect")
				c.FreeCharging = rapid.Bool().Draw(rt, "newFree")
				s.do("config", true, false, func() error { return s.st.SetConfig(s.ctx, c) })
				cfg, timeout = c, c.ConnectionTimeout
			}},
		}
		steps := rapid.IntRange(10, 50).Draw(rt, "steps")
		for range steps {
			pick(rt, actions, s.state().Closed).do(rt)
		}
		cov.runs++
		if s.closedOnce {
			cov.closed++
		}
		if len(s.dangerous) > 0 {
			cov.dangerous++
		}
		for k, n := range s.dangerous {
			cov.fromClosed[k] += n
		}
	})
}
