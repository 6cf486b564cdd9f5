package station

import (
	"testing"
	"time"

	"github.com/evsed/evsed/hal"
)

// Scenario tests: each step is an input, a virtual-time offset and the
// expected state of connector 1 (status, error code, contactor, session).
func TestScenarios(t *testing.T) {
	strict := DefaultConfig()
	strict.StopTransactionOnEVSideDisconnect = false
	strict.StopTransactionOnInvalidID = false
	free := DefaultConfig()
	free.FreeCharging = true

	deauth := func(r *rig) {
		r.t.Helper()
		c := r.conn(1)
		if c.Session == nil {
			r.t.Fatal("deauthorize: no session")
		}
		if err := r.st.Deauthorize(r.ctx(), c.Session.ID); err != nil {
			r.t.Fatal(err)
		}
		r.settle()
	}
	stopSession := func(r *rig) {
		r.t.Helper()
		if err := r.st.StopSession(r.ctx(), r.conn(1).Session.ID, ReasonRemote); err != nil {
			r.t.Fatal(err)
		}
		r.settle()
	}

	tests := []struct {
		name  string
		cfg   *Config
		auth  map[string]AuthResult
		steps []step
	}{
		{name: "plug first, pause and resume, unplug", steps: []step{
			{name: "plug B", do: plug(hal.PilotB), want: want{status: Preparing}},
			{name: "wait past ConnectionTimeout", do: nothing, after: 2 * time.Minute, want: want{status: Preparing}},
			{name: "card", do: card("A", nil), want: want{status: SuspendedEV, session: true}},
			{name: "EV ready", do: plug(hal.PilotC), want: want{status: Charging, closed: true, session: true}},
			{name: "EV pauses", do: plug(hal.PilotB), want: want{status: SuspendedEV, session: true}},
			{name: "EV resumes", do: plug(hal.PilotC), want: want{status: Charging, closed: true, session: true}},
			{name: "unplug", do: plug(hal.PilotA), want: want{status: Available}},
		}},
		{name: "authorize first", steps: []step{
			{name: "card", do: card("A", nil), want: want{status: Preparing}},
			{name: "wait", do: nothing, after: 30 * time.Second, want: want{status: Preparing}},
			{name: "plug C", do: plug(hal.PilotC), want: want{status: Charging, closed: true, session: true}},
			{name: "card again stops", do: card("A", nil), want: want{status: Finishing}},
			{name: "unplug", do: plug(hal.PilotA), want: want{status: Available}},
		}},
		{name: "connection timeout lapses", steps: []step{
			{name: "card", do: card("A", nil), after: 59 * time.Second, want: want{status: Preparing}},
			{name: "timeout", do: nothing, after: time.Second, want: want{status: Available}},
			{name: "late plug", do: plug(hal.PilotC), want: want{status: Preparing}},
		}},
		{name: "remote start and stop", steps: []step{
			{name: "start", do: start("R", StartOptions{Remote: true, SkipAuthorization: true}, nil), want: want{status: Preparing}},
			{name: "busy", do: start("S", StartOptions{Remote: true}, ErrBusy), want: want{status: Preparing}},
			{name: "plug C", do: plug(hal.PilotC), want: want{status: Charging, closed: true, session: true}},
			{name: "stop session", do: stopSession, want: want{status: Finishing}},
			{name: "unplug", do: plug(hal.PilotA), want: want{status: Available}},
		}},
		{name: "invalid id", auth: map[string]AuthResult{"BAD": {Status: AuthInvalid}}, steps: []step{
			{name: "card unplugged", do: card("BAD", ErrNotAuthorized), want: want{status: Available}},
			{name: "plug B", do: plug(hal.PilotB), want: want{status: Preparing}},
			{name: "card plugged", do: card("BAD", ErrNotAuthorized), want: want{status: Preparing}},
			{name: "good card", do: card("OK", nil), want: want{status: SuspendedEV, session: true}},
		}},
		{name: "deauthorize stops", steps: []step{
			{name: "charging", do: func(r *rig) { card("A", nil)(r); plug(hal.PilotC)(r) }, want: want{status: Charging, closed: true, session: true}},
			{name: "deauthorize", do: deauth, want: want{status: Finishing}},
		}},
		{name: "deauthorize suspends", cfg: &strict, steps: []step{
			{name: "charging", do: func(r *rig) { card("A", nil)(r); plug(hal.PilotC)(r) }, want: want{status: Charging, closed: true, session: true}},
			{name: "deauthorize", do: deauth, want: want{status: SuspendedEVSE, session: true}},
			{name: "EV still in C", do: plug(hal.PilotC), after: time.Minute, want: want{status: SuspendedEVSE, session: true}},
		}},
		{name: "EV side disconnect suspends", cfg: &strict, steps: []step{
			{name: "charging", do: func(r *rig) { card("A", nil)(r); plug(hal.PilotC)(r) }, want: want{status: Charging, closed: true, session: true}},
			{name: "unplug", do: plug(hal.PilotA), want: want{status: SuspendedEV, session: true}},
			{name: "replug", do: plug(hal.PilotC), want: want{status: Charging, closed: true, session: true}},
			{name: "stop", do: card("A", nil), want: want{status: Finishing}},
		}},
		{name: "free charging", cfg: &free, steps: []step{
			{name: "plug C", do: plug(hal.PilotC), want: want{status: Charging, closed: true, session: true}},
			{name: "unplug", do: plug(hal.PilotA), want: want{status: Available}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOpts{cfg: tc.cfg, auth: tc.auth})
			r.play(tc.steps)
		})
	}
}

// charging brings connector n of r to Charging with token tag.
func (r *rig) charging(n int, tag string) ConnectorSnapshot {
	r.t.Helper()
	if err := r.st.PresentCard(r.ctx(), n, tag); err != nil {
		r.t.Fatal(err)
	}
	r.pilot(n, hal.PilotC)
	c := r.conn(n)
	if c.Status != Charging || !r.hw[n-1].contactor.Closed() {
		r.t.Fatalf("connector %d not charging: %s", n, c.Status)
	}
	return c
}

func TestFaults(t *testing.T) {
	meterFail := func(r *rig) {
		r.hw[0].meter.set(0, true)
		for range meterFailLimit {
			r.advance(time.Second)
		}
	}
	meterOK := func(r *rig) { r.hw[0].meter.set(0, false); r.advance(time.Second) }
	lockFail := func(r *rig) {
		// The lock lets go under load and will not engage again.
		r.hw[0].lock.setFail(true)
		r.hw[0].lock.mu.Lock()
		r.hw[0].lock.locked = false
		r.hw[0].lock.mu.Unlock()
		raise(hal.LockFailed)(r)
	}
	rcdTrip := func(r *rig) { r.hw[0].rcd.set(true); raise(hal.RCDTripped)(r) }
	rcdReset := func(r *rig) { r.hw[0].rcd.set(false); clear(hal.RCDTripped)(r) }

	tests := []struct {
		name      string
		raise     func(*rig)
		code      ErrorCode
		clear     func(*rig)
		afterWant want // after clear
	}{
		{"RCD", rcdTrip, GroundFailure, rcdReset, want{status: Charging, closed: true, session: true}},
		{"welded", raise(hal.ContactorWelded), PowerSwitchFailure, clear(hal.ContactorWelded), want{status: Charging, closed: true, session: true}},
		{"contactor failed", raise(hal.ContactorFailed), PowerSwitchFailure, clear(0), want{status: Charging, closed: true, session: true}},
		{"diode", raise(hal.DiodeFault), EVCommunicationError, clear(hal.DiodeFault), want{status: Charging, closed: true, session: true}},
		{"state E", plug(hal.PilotE), EVCommunicationError, plug(hal.PilotC), want{status: Charging, closed: true, session: true}},
		{"state F", plug(hal.PilotF), EVCommunicationError, plug(hal.PilotC), want{status: Charging, closed: true, session: true}},
		// The lock still fails, so the session cannot resume after the
		// event clears: it waits, faulted, and never energizes.
		{"lock", lockFail, ConnectorLockFailure, clear(hal.LockFailed), want{status: Faulted, code: ConnectorLockFailure, session: true}},
		{"meter", meterFail, PowerMeterFailure, meterOK, want{status: Charging, closed: true, session: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOpts{})
			r.charging(1, "A")
			tc.raise(r)
			r.check("raised", 1, want{status: Faulted, code: tc.code, session: true})
			if !r.hw[0].pilot.unavailableNow() {
				t.Error("pilot not driven to -12 V under fault")
			}
			tc.clear(r)
			r.check("cleared", 1, tc.afterWant)
		})
	}
}

func (p *fakePilot) unavailableNow() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.unavailable
}

// A welded contactor keeps the connector Faulted whatever else happens,
// and the plug stays locked.
func TestWeldedStaysFaulted(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.charging(1, "A")
	r.event(hal.Event{Connector: 1, Kind: hal.ContactorWelded})
	faulted := want{status: Faulted, code: PowerSwitchFailure}
	r.check("welded", 1, want{status: Faulted, code: PowerSwitchFailure, session: true})
	if err := r.st.Stop(r.ctx(), 1, ReasonLocal); err != nil {
		t.Fatal(err)
	}
	r.settle()
	r.check("stopped", 1, faulted)
	if !r.hw[0].lock.Locked() {
		t.Error("lock released while the contactor is welded")
	}
	if res, err := r.st.Unlock(r.ctx(), 1); err != nil || res != UnlockFailed {
		t.Errorf("Unlock = %v, %v; want UnlockFailed", res, err)
	}
	r.pilot(1, hal.PilotA)
	if res, _ := r.st.SetAvailability(r.ctx(), 1, true); res != AvailabilityAccepted {
		t.Errorf("SetAvailability = %v", res)
	}
	r.event(hal.Event{Connector: 1, Kind: hal.FaultCleared, Cleared: hal.RCDTripped})
	r.advance(time.Hour)
	r.check("an hour later", 1, faulted)
	if err := r.st.Start(r.ctx(), 1, "B", StartOptions{}); err != ErrUnavailable {
		t.Errorf("Start on welded connector = %v, want ErrUnavailable", err)
	}
}

// A lock that refuses to engage faults the connector before the contactor
// could close.
func TestLockRefusesToEngage(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.hw[0].lock.setFail(true)
	card("A", nil)(r)
	r.pilot(1, hal.PilotC)
	r.check("plugged", 1, want{status: Faulted, code: ConnectorLockFailure, session: true})
	if r.hw[0].contactor.closes != 0 {
		t.Error("contactor closed without the lock")
	}
}

func TestAvailability(t *testing.T) {
	r := newRig(t, rigOpts{n: 2})
	ctx := r.ctx()
	res, err := r.st.SetAvailability(ctx, 2, false)
	if err != nil || res != AvailabilityAccepted {
		t.Fatalf("idle: %v %v", res, err)
	}
	r.settle()
	r.check("idle unavailable", 2, want{status: Unavailable})
	if err := r.st.Start(ctx, 2, "A", StartOptions{}); err != ErrUnavailable {
		t.Errorf("Start on Unavailable = %v", err)
	}
	if _, err := r.st.SetAvailability(ctx, 3, false); err != ErrNoConnector {
		t.Errorf("connector 3: %v", err)
	}

	r.charging(1, "A")
	res, err = r.st.SetAvailability(ctx, 0, false)
	if err != nil || res != AvailabilityScheduled {
		t.Fatalf("all with a session: %v %v", res, err)
	}
	r.settle()
	r.check("scheduled", 1, want{status: Charging, closed: true, session: true})
	if st := r.status0(); st != Available {
		t.Errorf("connector 0 = %s before the session ended", st)
	}
	if err := r.st.Stop(ctx, 1, ReasonLocal); err != nil {
		t.Fatal(err)
	}
	r.settle()
	r.check("applied at session end", 1, want{status: Unavailable})
	if st := r.status0(); st != Unavailable {
		t.Errorf("connector 0 = %s, want Unavailable", st)
	}
	if res, _ := r.st.SetAvailability(ctx, 0, true); res != AvailabilityAccepted {
		t.Errorf("back: %v", res)
	}
	r.settle()
	r.check("back, cable of the ended session still in", 1, want{status: Finishing})
	r.check("back", 2, want{status: Available})
	if st := r.status0(); st != Available {
		t.Errorf("connector 0 = %s, want Available", st)
	}
}

// status0 is the last status the reporter got for connector 0.
func (r *rig) status0() Status {
	var st Status
	for _, s := range r.rep.statusesCopy() {
		if s.Connector == 0 {
			st = s.Status
		}
	}
	return st
}

func TestResetReasons(t *testing.T) {
	for _, reason := range []StopReason{ReasonSoftReset, ReasonHardReset, ReasonReboot} {
		t.Run(string(reason), func(t *testing.T) {
			r := newRig(t, rigOpts{n: 2})
			a, b := r.charging(1, "A"), r.charging(2, "B")
			if err := r.st.Reset(r.ctx(), reason); err != nil {
				t.Fatal(err)
			}
			// No settle: Reset itself waits for the ends to be recorded.
			ends := r.rep.endsCopy()
			if len(ends) != 2 {
				t.Fatalf("%d ends recorded when Reset returned, want 2", len(ends))
			}
			got := map[string]StopReason{ends[0].SessionID: ends[0].Reason, ends[1].SessionID: ends[1].Reason}
			if got[a.Session.ID] != reason || got[b.Session.ID] != reason {
				t.Errorf("reasons %v, want %s for both", got, reason)
			}
			for i := range 2 {
				if r.hw[i].contactor.Closed() {
					t.Errorf("connector %d contactor closed after Reset", i+1)
				}
			}
		})
	}
}

func TestCardStops(t *testing.T) {
	group := map[string]AuthResult{
		"A": {Status: AuthAccepted, ParentIDTag: "G"},
		"B": {Status: AuthAccepted, ParentIDTag: "G"},
		"X": {Status: AuthAccepted, ParentIDTag: "H"},
	}
	tests := []struct {
		name    string
		stopper string
		err     error
		stops   bool
	}{
		{"same tag", "A", nil, true},
		{"same group", "B", nil, true},
		{"other group", "X", ErrBusy, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOpts{auth: group})
			r.charging(1, "A")
			if err := r.st.PresentCard(r.ctx(), 1, tc.stopper); err != tc.err {
				t.Fatalf("PresentCard = %v, want %v", err, tc.err)
			}
			r.settle()
			ends := r.rep.endsCopy()
			if !tc.stops {
				r.check("not stopped", 1, want{status: Charging, closed: true, session: true})
				if len(ends) != 0 {
					t.Errorf("ends %v", ends)
				}
				return
			}
			r.check("stopped", 1, want{status: Finishing})
			if len(ends) != 1 || ends[0].Reason != ReasonLocal || ends[0].IDTag != tc.stopper {
				t.Errorf("ends %+v, want one Local by %s", ends, tc.stopper)
			}
		})
	}
}

func TestStartOptions(t *testing.T) {
	r := newRig(t, rigOpts{auth: map[string]AuthResult{"R": {Status: AuthBlocked}}})
	if err := r.st.Start(r.ctx(), 1, "R", StartOptions{Remote: true}); err == nil {
		t.Fatal("Start of a blocked token succeeded")
	}
	if n := r.auth.callCount(); n != 1 {
		t.Fatalf("authorizer asked %d times, want 1", n)
	}
	if err := r.st.Start(r.ctx(), 1, "R", StartOptions{Remote: true, SkipAuthorization: true}); err != nil {
		t.Fatal(err)
	}
	if n := r.auth.callCount(); n != 1 {
		t.Errorf("SkipAuthorization asked the authorizer (%d calls)", n)
	}
	if err := r.st.Start(r.ctx(), 9, "R", StartOptions{}); err != ErrNoConnector {
		t.Errorf("connector 9: %v", err)
	}
	if err := r.st.Stop(r.ctx(), 1, ReasonRemote); err != nil {
		t.Errorf("Stop of a pending start: %v", err)
	}
	if err := r.st.Stop(r.ctx(), 1, ReasonRemote); err != ErrNoSession {
		t.Errorf("Stop without session = %v, want ErrNoSession", err)
	}
	if err := r.st.StopSession(r.ctx(), "nope", ReasonRemote); err != ErrNoSession {
		t.Errorf("StopSession unknown = %v", err)
	}
}

func TestUnlock(t *testing.T) {
	r := newRig(t, rigOpts{})
	c := r.charging(1, "A")
	res, err := r.st.Unlock(r.ctx(), 1)
	if err != nil || res != Unlocked {
		t.Fatalf("Unlock = %v %v", res, err)
	}
	r.settle()
	if r.hw[0].lock.Locked() || r.hw[0].contactor.Closed() {
		t.Error("still locked or closed")
	}
	ends := r.rep.endsCopy()
	if len(ends) != 1 || ends[0].SessionID != c.Session.ID || ends[0].Reason != ReasonUnlockCommand {
		t.Errorf("ends %+v", ends)
	}
	nolock := newRig(t, rigOpts{noLock: true})
	if res, _ := nolock.st.Unlock(nolock.ctx(), 1); res != NotSupported {
		t.Errorf("no lock: %v", res)
	}
}

// A Reporter blocked on a status fact must not delay the contactor opening
// when the EV pauses.
func TestSlowReporterDoesNotDelayOpening(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.charging(1, "A")
	gate := make(chan struct{})
	r.rep.mu.Lock()
	r.rep.gate = gate
	r.rep.mu.Unlock()
	r.hw[0].pilot.set(hal.PilotB)
	r.st.Event(hal.Event{Connector: 1, Kind: hal.PilotChanged, Pilot: hal.PilotB})
	// Status goes through the loop after the event, while the reporter
	// blocks (settle would wait for it).
	if c := r.conn(1); c.Contactor || r.hw[0].contactor.Closed() {
		t.Error("contactor still closed while the reporter is blocked")
	}
	close(gate)
	r.settle()
	r.check("released", 1, want{status: SuspendedEV, session: true})
}

// The contactor waits for SessionStarted to succeed; failures are retried
// with back-off on the station's clock.
func TestStartMustBeDurable(t *testing.T) {
	rep := &recReporter{failStarts: 2}
	r := newRig(t, rigOpts{rep: rep})
	var h *hw
	rep.atStart = func() {
		if h != nil && h.contactor.Closed() {
			t.Error("contactor closed before the start was recorded")
		}
	}
	h = r.hw[0]
	r.hw[0].pilot.set(hal.PilotC)
	r.st.Event(hal.Event{Connector: 1, Kind: hal.PilotChanged, Pilot: hal.PilotC})
	if err := r.st.PresentCard(r.ctx(), 1, "A"); err != nil {
		t.Fatal(err)
	}
	// Move time until the retries succeed; each Advance lets the journal's
	// back-off timer fire.
	for i := 0; i < 200 && !h.contactor.Closed(); i++ {
		r.clk.Advance(time.Second)
		time.Sleep(time.Millisecond) // let the journal goroutine run; not an assertion
	}
	r.settle()
	if !h.contactor.Closed() {
		t.Fatal("contactor never closed")
	}
	rep.mu.Lock()
	calls := rep.startCalls
	rep.mu.Unlock()
	if calls != 3 {
		t.Errorf("SessionStarted called %d times, want 3", calls)
	}
}

// Run halts every resource when it returns, and requests then fail.
func TestRunHaltsOnReturn(t *testing.T) {
	r := newRig(t, rigOpts{n: 2})
	r.charging(1, "A")
	r.shutdown()
	for i, h := range r.hw {
		if h.contactor.Closed() || !h.contactor.halted || !h.pilot.halted || !h.lock.halted || !h.rcd.halted {
			t.Errorf("connector %d not halted", i+1)
		}
	}
	if _, err := r.st.Status(r.ctx()); err != ErrStopped {
		t.Errorf("Status after Run = %v, want ErrStopped", err)
	}
}

// TestMeterReadInterval checks that meters are read once per
// MeterReadInterval (1 s by default), counted in virtual time, by a
// sampler or inline.
func TestMeterReadInterval(t *testing.T) {
	cases := []struct {
		name   string
		every  time.Duration
		inline bool
		want   int // reads during 20 s after the boot read
	}{
		{"default 1 s", 0, false, 20},
		{"10 s", 10 * time.Second, false, 2},
		{"inline, default 1 s", 0, true, 20},
		{"inline, 10 s", 10 * time.Second, true, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, rigOpts{meterEvery: c.every, inline: c.inline})
			m := r.hw[0].meter
			m.mu.Lock()
			before := m.reads
			m.mu.Unlock()
			for range 20 {
				r.advance(time.Second)
			}
			m.mu.Lock()
			got := m.reads - before
			m.mu.Unlock()
			if got != c.want {
				t.Fatalf("%d reads in 20 s, want %d", got, c.want)
			}
		})
	}
}
