package station

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/evsed/evsed/hal"
	"pgregory.net/rapid"
)

// world is what the property test knows independently of the station: the
// faults it injected and not yet cleared, and the sessions it deauthorized.
// It is only touched on the loop goroutine (see rig.world), so that a change
// of the world and the station learning of it are one step.
type world struct {
	welded, switchFailed, diode, lockFault bool
	deauthorized                           map[string]bool
}

// inLoop runs f on the loop goroutine and waits for it.
func (r *rig) inLoop(f func(l *loop)) {
	r.t.Helper()
	if err := r.st.call(r.ctx(), func(l *loop, done func(error)) { f(l); done(nil) }); err != nil {
		r.t.Fatalf("inLoop: %v", err)
	}
}

// quiet waits until no authorization or meter read is in flight; the
// journal may still be retrying (the Reporter can be down).
func (r *rig) quiet() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.st.settle(ctx, false); err != nil {
		r.t.Fatalf("settle: %v", err)
	}
}

// unsafe returns why connector 1's contactor may not be closed now, or "".
// It runs on the loop goroutine: at every Close (from the fake contactor)
// and after every step.
func unsafe(l *loop, h *hw, rep *recReporter, w *world) string {
	var why []string
	if s := h.pilot.State(); !s.VehicleReady() {
		why = append(why, "CP "+s.String())
	}
	if a := h.pilot.pwm(); a < hal.MinOffer {
		why = append(why, fmt.Sprintf("PWM offers %v", a))
	}
	if !h.lock.Locked() {
		why = append(why, "lock open")
	}
	if h.rcd.Tripped() {
		why = append(why, "RCD tripped")
	}
	if w.welded || w.switchFailed || w.diode || w.lockFault {
		why = append(why, fmt.Sprintf("fault %+v", *w))
	}
	sess := l.conns[0].sess
	switch {
	case sess == nil:
		why = append(why, "no session")
	case w.deauthorized[sess.id]:
		why = append(why, "session deauthorized")
	case !slices.ContainsFunc(rep.startsCopy(), func(s SessionStart) bool { return s.SessionID == sess.id }):
		why = append(why, "session start not recorded")
	}
	if len(why) == 0 {
		return ""
	}
	return fmt.Sprint(why)
}

// TestSafetyProperty drives random event sequences and checks, at every
// contactor Close and after every step, that the contactor is closed only
// while the CP is in C/D, the PWM offers >= 6 A, the lock is engaged, no
// fault is active and an authorized session's start has been recorded.
func TestSafetyProperty(t *testing.T) {
	runs, charged := 0, 0
	defer func() {
		// The property is vacuous if the contactor never closes.
		if runs > 20 && charged == 0 {
			t.Errorf("the contactor closed in none of %d runs", runs)
		}
		t.Logf("%d runs, %d with the contactor closed after some step", runs, charged)
	}()
	rapid.Check(t, func(rt *rapid.T) {
		runs++
		cfg := Config{
			ConnectionTimeout:                 rapid.SampledFrom([]time.Duration{0, 30 * time.Second}).Draw(rt, "timeout"),
			FreeCharging:                      rapid.Bool().Draw(rt, "free"),
			StopTransactionOnEVSideDisconnect: rapid.Bool().Draw(rt, "stopOnDisconnect"),
			UnlockConnectorOnEVSideDisconnect: rapid.Bool().Draw(rt, "unlockOnDisconnect"),
			StopTransactionOnInvalidID:        rapid.Bool().Draw(rt, "stopOnInvalid"),
			MeterSampleInterval:               time.Minute,
		}
		r := newRig(t, rigOpts{cfg: &cfg, auth: map[string]AuthResult{"BAD": {Status: AuthInvalid}}})
		defer r.shutdown()
		h := r.hw[0]
		w := &world{deauthorized: map[string]bool{}}
		var lp *loop
		r.inLoop(func(l *loop) { lp = l })
		h.contactor.mu.Lock()
		h.contactor.check = func() string { return unsafe(lp, h, r.rep, w) }
		h.contactor.mu.Unlock()

		// world posts a change of the world together with the event that
		// tells the station about it.
		change := func(f func(), ev *hal.Event) {
			r.inLoop(func(l *loop) {
				f()
				if ev != nil {
					l.onEvent(*ev)
				}
			})
		}
		pilots := []hal.PilotState{hal.PilotA, hal.PilotB, hal.PilotC, hal.PilotD, hal.PilotE, hal.PilotF}
		faults := []hal.EventKind{hal.RCDTripped, hal.ContactorWelded, hal.ContactorFailed, hal.DiodeFault, hal.LockFailed}
		ctx := r.ctx()

		actions := map[string]func(*rapid.T){
			"pilot": func(rt *rapid.T) {
				p := rapid.SampledFrom(pilots).Draw(rt, "pilot")
				if rapid.IntRange(0, 2).Draw(rt, "ready") == 0 {
					p = hal.PilotC
				}
				change(func() {
					h.pilot.set(p)
					if p == hal.PilotA {
						w.diode, w.lockFault = false, false
					}
				}, &hal.Event{Connector: 1, Kind: hal.PilotChanged, Pilot: p})
			},
			"card": func(rt *rapid.T) {
				_ = r.st.PresentCard(ctx, rapid.IntRange(0, 1).Draw(rt, "reader"), rapid.SampledFrom([]string{"A", "B", "BAD"}).Draw(rt, "tag"))
			},
			"start": func(rt *rapid.T) {
				_ = r.st.Start(ctx, 1, rapid.SampledFrom([]string{"A", "BAD"}).Draw(rt, "tag"),
					StartOptions{Remote: true, SkipAuthorization: rapid.Bool().Draw(rt, "skip")})
			},
			"stop": func(rt *rapid.T) { _ = r.st.Stop(ctx, 1, ReasonRemote) },
			"deauthorize": func(rt *rapid.T) {
				r.inLoop(func(l *loop) {
					if s := l.conns[0].sess; s != nil {
						if err := l.deauthorize(s.id); err == nil && !l.cfg.StopTransactionOnInvalidID {
							w.deauthorized[s.id] = true
						}
					}
				})
			},
			"fault": func(rt *rapid.T) {
				k := rapid.SampledFrom(faults).Draw(rt, "fault")
				change(func() {
					switch k {
					case hal.RCDTripped:
						h.rcd.set(true)
					case hal.ContactorWelded:
						w.welded = true
					case hal.ContactorFailed:
						w.switchFailed = true
					case hal.DiodeFault:
						w.diode = true
					case hal.LockFailed:
						w.lockFault = true
						h.lock.mu.Lock()
						h.lock.locked = false
						h.lock.mu.Unlock()
					}
				}, &hal.Event{Connector: 1, Kind: k})
			},
			"clear": func(rt *rapid.T) {
				k := rapid.SampledFrom(append([]hal.EventKind{0}, faults...)).Draw(rt, "cleared")
				change(func() {
					if k == 0 || k == hal.RCDTripped {
						h.rcd.set(false)
					}
					if k == 0 || k == hal.ContactorWelded {
						w.welded = false
					}
					if k == 0 || k == hal.ContactorFailed {
						w.switchFailed = false
					}
					if k == 0 || k == hal.DiodeFault {
						w.diode = false
					}
					if k == 0 || k == hal.LockFailed {
						w.lockFault = false
					}
				}, &hal.Event{Connector: 1, Kind: hal.FaultCleared, Cleared: k})
			},
			// Trouble is drawn one time in four, so that sessions also run.
			"lockJams": func(rt *rapid.T) { h.lock.setFail(rapid.IntRange(0, 3).Draw(rt, "jam") == 0) },
			"meter":    func(rt *rapid.T) { h.meter.set(0, rapid.IntRange(0, 3).Draw(rt, "meterFails") == 0) },
			"reporter": func(rt *rapid.T) {
				down := rapid.IntRange(0, 3).Draw(rt, "down") == 0
				r.rep.mu.Lock()
				r.rep.down = down
				r.rep.mu.Unlock()
			},
			"advance": func(rt *rapid.T) {
				r.clk.Advance(time.Duration(rapid.IntRange(0, 90).Draw(rt, "seconds")) * time.Second)
			},
			"availability": func(rt *rapid.T) {
				_, _ = r.st.SetAvailability(ctx, rapid.IntRange(0, 1).Draw(rt, "which"), rapid.Bool().Draw(rt, "on"))
			},
			"unlock": func(rt *rapid.T) { _, _ = r.st.Unlock(ctx, 1) },
			"config": func(rt *rapid.T) {
				c := cfg
				c.StopTransactionOnInvalidID = rapid.Bool().Draw(rt, "stopOnInvalid")
				c.StopTransactionOnEVSideDisconnect = rapid.Bool().Draw(rt, "stopOnDisconnect")
				c.FreeCharging = rapid.Bool().Draw(rt, "free")
				_ = r.st.SetConfig(ctx, c)
			},
		}
		// Weights: plugging and presenting tokens often enough that
		// sessions charge, faults and stops often enough to interrupt them.
		weight := map[string]int{"pilot": 6, "card": 3, "start": 2, "advance": 2, "clear": 2}
		var names []string
		for n := range actions {
			for range max(1, weight[n]) {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		closedOnce := false
		steps := rapid.IntRange(10, 80).Draw(rt, "steps")
		for i := range steps {
			name := rapid.SampledFrom(names).Draw(rt, "action")
			actions[name](rt)
			r.quiet()
			var why string // found on the loop, reported here: rt must not fail off its goroutine
			r.inLoop(func(l *loop) {
				if !h.contactor.Closed() {
					return
				}
				closedOnce = true
				why = unsafe(l, h, r.rep, w)
				h.meter.mu.Lock()
				if h.meter.failed >= meterFailLimit {
					why += " meter failing"
				}
				h.meter.mu.Unlock()
			})
			if why != "" {
				rt.Fatalf("step %d (%s): contactor closed although %s", i, name, why)
			}
			h.contactor.mu.Lock()
			v := slices.Clone(h.contactor.violations)
			h.contactor.mu.Unlock()
			if len(v) > 0 {
				rt.Fatalf("step %d (%s): contactor closed although %v", i, name, v)
			}
		}
		if closedOnce {
			charged++
		}
	})
}
