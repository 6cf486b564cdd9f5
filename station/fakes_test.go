package station

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/sim"
	"github.com/evsed/evsed/meter"
	"go.etcd.io/bbolt"
	"periph.io/x/conn/v3/physic"
)

// Fakes of the hardware, meter, reporter and authorizer. Each records what
// the station commanded; tests change their exported-by-method state to
// simulate the world and then tell the station through Event.

type fakePilot struct {
	mu          sync.Mutex // guards all fields
	id          int
	sensed      hal.PilotState
	offered     physic.ElectricCurrent
	unavailable bool
	halted      bool
	// clk, when set, stamps every change of the PWM into history; wall,
	// when set too, stamps it with the wall clock as well (benchmarks).
	clk     clock.Clock
	wall    clock.Clock
	history []pwmChange
}

// pwmChange is a change of the current a pilot offers (0: no PWM).
type pwmChange struct {
	at   time.Time
	a    physic.ElectricCurrent
	wall time.Time // with fakePilot.wall
}

// note records the PWM now offered if it changed; p.mu is held.
func (p *fakePilot) note() {
	if p.clk == nil {
		return
	}
	a := p.offered
	if p.unavailable || a < hal.MinOffer {
		a = 0
	}
	if n := len(p.history); n > 0 && p.history[n-1].a == a {
		return
	}
	ch := pwmChange{at: p.clk.Now(), a: a}
	if p.wall != nil {
		ch.wall = p.wall.Now()
	}
	p.history = append(p.history, ch)
}

// changes returns the PWM history.
func (p *fakePilot) changes() []pwmChange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]pwmChange(nil), p.history...)
}

func (p *fakePilot) String() string { return fmt.Sprintf("connector %d pilot", p.id) }
func (p *fakePilot) Halt() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.halted, p.unavailable, p.offered = true, true, 0
	p.note()
	return nil
}
func (p *fakePilot) Offer(a physic.ElectricCurrent) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.offered, p.unavailable = a, false
	p.note()
	return nil
}
func (p *fakePilot) Unavailable() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.offered, p.unavailable = 0, true
	p.note()
	return nil
}
func (p *fakePilot) State() hal.PilotState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sensed
}
func (p *fakePilot) set(s hal.PilotState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sensed = s
}

// pwm returns the current the pilot offers (0: no PWM).
func (p *fakePilot) pwm() physic.ElectricCurrent {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unavailable || p.offered < hal.MinOffer {
		return 0
	}
	return p.offered
}

type fakeContactor struct {
	mu     sync.Mutex // guards all fields
	id     int
	closed bool
	closes int
	halted bool
	// check, when set, runs at every Close with the world as the fakes see
	// it; a non-empty answer is a safety violation, recorded in violations.
	check      func() string
	violations []string
	// clk, when set, stamps every commanded change into switches.
	clk      clock.Clock
	switches []switchChange
}

// switchChange is a commanded change of a contactor.
type switchChange struct {
	at     time.Time
	closed bool
}

// note records a change of the commanded state; c.mu is held.
func (c *fakeContactor) note(closed bool) {
	if c.clk == nil || c.closed == closed {
		return
	}
	c.switches = append(c.switches, switchChange{c.clk.Now(), closed})
}

// history returns the contactor's commanded changes.
func (c *fakeContactor) history() []switchChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]switchChange(nil), c.switches...)
}

func (c *fakeContactor) String() string { return fmt.Sprintf("connector %d contactor", c.id) }
func (c *fakeContactor) Halt() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.note(false)
	c.closed, c.halted = false, true
	return nil
}
func (c *fakeContactor) Close() error {
	c.mu.Lock()
	check := c.check
	c.mu.Unlock()
	var v string
	if check != nil {
		v = check()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v != "" {
		c.violations = append(c.violations, v)
	}
	c.note(true)
	c.closed = true
	c.closes++
	return nil
}
func (c *fakeContactor) Open() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.note(false)
	c.closed = false
	return nil
}
func (c *fakeContactor) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

type fakeLock struct {
	mu      sync.Mutex // guards all fields
	id      int
	locked  bool
	fail    bool // Lock returns an error
	slips   bool // Lock returns nil but does not engage: Locked stays false
	halted  bool
	unlocks int
}

func (l *fakeLock) String() string { return fmt.Sprintf("connector %d lock", l.id) }
func (l *fakeLock) Halt() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.halted = true
	return nil
}
func (l *fakeLock) Lock() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail {
		return errors.New("motor stalled")
	}
	l.locked = !l.slips
	return nil
}
func (l *fakeLock) Unlock() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.locked = false
	l.unlocks++
	return nil
}
func (l *fakeLock) Locked() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.locked
}
func (l *fakeLock) setFail(f bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fail = f
}
func (l *fakeLock) setSlips(s bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.slips = s
}

type fakeRCD struct {
	mu      sync.Mutex // guards all fields
	id      int
	tripped bool
	halted  bool
}

func (r *fakeRCD) String() string { return fmt.Sprintf("connector %d rcd", r.id) }
func (r *fakeRCD) Halt() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.halted = true
	return nil
}
func (r *fakeRCD) Tripped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tripped
}
func (r *fakeRCD) SelfTest(context.Context) error { return nil }
func (r *fakeRCD) set(t bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tripped = t
}

// fakeMeter's energy register advances only when the test says so.
type fakeMeter struct {
	mu     sync.Mutex // guards all fields
	energy meter.Energy
	fail   bool
	reads  int
	failed int // consecutive failed reads
	// draw, when set, is the current per phase the meter measures on 3
	// phases (FieldCurrent), asked at every read.
	draw func() physic.ElectricCurrent
}

func (m *fakeMeter) String() string { return "fake meter" }
func (m *fakeMeter) Read(context.Context) (meter.Reading, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.fail {
		m.failed++
		return meter.Reading{}, fmt.Errorf("read: %w", meter.ErrNoResponse)
	}
	m.failed = 0
	r := meter.Reading{Fields: meter.FieldEnergyImport, EnergyImport: m.energy}
	if m.draw != nil {
		a := m.draw()
		r.Fields |= meter.FieldCurrent
		r.Phases = 3
		r.Current = [3]physic.ElectricCurrent{a, a, a}
	}
	return r, nil
}
func (m *fakeMeter) set(e meter.Energy, fail bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.energy, m.fail = e, fail
}

// recReporter records facts. failStarts makes that many SessionStarted
// calls fail first; gate, when set, blocks StatusChanged until closed.
type recReporter struct {
	mu         sync.Mutex // guards all fields
	statuses   []StatusChange
	starts     []SessionStart
	samples    []Sample
	ends       []SessionEnd
	failStarts int
	down       bool // SessionStarted fails while set
	startCalls int
	gate       chan struct{}
	// atStart, when set, runs at every SessionStarted call (before the
	// answer) and may record a violation.
	atStart func()
}

func (r *recReporter) StatusChanged(s StatusChange) {
	r.mu.Lock()
	gate := r.gate
	r.mu.Unlock()
	if gate != nil {
		<-gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses = append(r.statuses, s)
}
func (r *recReporter) SessionStarted(_ context.Context, s SessionStart) error {
	r.mu.Lock()
	f := r.atStart
	r.mu.Unlock()
	if f != nil {
		f()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.startCalls++
	if r.down {
		return errors.New("queue unavailable")
	}
	if r.failStarts > 0 {
		r.failStarts--
		return errors.New("queue write failed")
	}
	r.starts = append(r.starts, s)
	return nil
}
func (r *recReporter) SampleTaken(_ context.Context, s Sample) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, s)
	return nil
}
func (r *recReporter) SessionEnded(_ context.Context, s SessionEnd) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ends = append(r.ends, s)
	return nil
}

func (r *recReporter) endsCopy() []SessionEnd {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]SessionEnd(nil), r.ends...)
}
func (r *recReporter) startsCopy() []SessionStart {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]SessionStart(nil), r.starts...)
}
func (r *recReporter) samplesCopy() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Sample(nil), r.samples...)
}
func (r *recReporter) statusesCopy() []StatusChange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]StatusChange(nil), r.statuses...)
}

// fakeAuth answers from a table; unknown tokens are Accepted.
type fakeAuth struct {
	mu    sync.Mutex // guards all fields
	table map[string]AuthResult
	calls []string
}

func (a *fakeAuth) Authorize(_ context.Context, tag string) (AuthResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, tag)
	if r, ok := a.table[tag]; ok {
		return r, nil
	}
	return AuthResult{Status: AuthAccepted}, nil
}
func (a *fakeAuth) callCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.calls)
}

// hw is one connector's fakes.
type hw struct {
	pilot     *fakePilot
	contactor *fakeContactor
	lock      *fakeLock // nil without lock
	rcd       *fakeRCD
	meter     *fakeMeter // nil without meter
}

// rig runs a Station on fakes in virtual time.
type rig struct {
	t     testing.TB
	clk   *clock.Fake
	st    *Station
	hw    []*hw
	rep   *recReporter
	auth  *fakeAuth
	stop  context.CancelFunc
	done  chan error
	ended bool
	// grid is the house's grid meter of a rig with rigOpts.house.
	grid *sim.GridMeter
	// limits records the LimitChange facts of a rig with rigOpts.limits.
	limits *limitRec
}

// evDraw is what connector h's fake vehicle draws per phase: what the
// pilot offers, up to evMax, while it is in C or D behind a closed
// contactor. The fake vehicles follow a new offer at once.
func evDraw(h *hw, evMax physic.ElectricCurrent) physic.ElectricCurrent {
	if !h.contactor.Closed() || !h.pilot.State().VehicleReady() {
		return 0
	}
	return min(h.pilot.pwm(), evMax)
}

// rigOpts shape a rig; the zero value is one connector with lock and meter.
type rigOpts struct {
	n        int
	noLock   bool
	noMeter  bool
	cfg      *Config // nil: DefaultConfig
	db       *bbolt.DB
	pilot    hal.PilotState // sensed at start; 0 means A
	auth     map[string]AuthResult
	rep      *recReporter
	clk      *clock.Fake
	energy   meter.Energy // meter register at start
	noSettle bool
	// meterEvery is Options.MeterReadInterval; 0 means the default.
	meterEvery time.Duration
	inline     bool // Options.InlineMeterReads
	// siteLimit is Options.SiteLimit.
	siteLimit physic.ElectricCurrent
	// energyFile is Options.EnergyFile.
	energyFile string
	// maxCurrent is every connector's rating; 0 means 32 A.
	maxCurrent physic.ElectricCurrent
	// grid is Options.Grid; with house set and no grid.Meter the rig's
	// grid meter is the house's, with the fake vehicles as the charger
	// (see rig.evDraw), and every fake meter measures its vehicle's
	// current.
	grid  GridOptions
	house *sim.House
	// solar, modes, limitInput and inputLimit are Options.Solar, the
	// connectors' modes (by index; missing means fast), Options.LimitInput
	// and Options.InputLimit.
	solar      SolarConfig
	modes      []ChargeMode
	limitInput hal.Input
	inputLimit physic.ElectricCurrent
	// evMax is what every fake vehicle draws at most per phase; 0 means
	// 32 A.
	evMax physic.ElectricCurrent
	// limits makes the Reporter a LimitReporter (rig.limits).
	limits bool
	// display is every connector's hal.Display; nil means none. loc is
	// Options.Location.
	display hal.Display
	loc     *time.Location
}

// limitRec is a recReporter that records LimitChange facts too.
type limitRec struct {
	*recReporter
	mu      sync.Mutex // guards changes
	changes []LimitChange
}

// LimitChanged implements LimitReporter.
func (r *limitRec) LimitChanged(c LimitChange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, c)
}

func (r *limitRec) changesCopy() []LimitChange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]LimitChange(nil), r.changes...)
}

// t0 is the rigs' start time: 10:07:30 UTC, not on a 15-minute boundary.
var t0 = time.Date(2026, 3, 1, 10, 7, 30, 0, time.UTC)

func newRig(t testing.TB, o rigOpts) *rig {
	t.Helper()
	if o.n == 0 {
		o.n = 1
	}
	cfg := DefaultConfig()
	if o.cfg != nil {
		cfg = *o.cfg
	}
	if o.pilot == 0 {
		o.pilot = hal.PilotA
	}
	if o.house != nil && o.clk == nil {
		o.clk, _ = o.house.Clock().(*clock.Fake)
	}
	r := &rig{t: t, clk: o.clk, rep: o.rep, auth: &fakeAuth{table: o.auth}, done: make(chan error, 1)}
	if r.clk == nil {
		r.clk = clock.NewFake(t0)
	}
	if r.rep == nil {
		r.rep = &recReporter{}
	}
	var ccs []ConnectorConfig
	for i := 1; i <= o.n; i++ {
		h := &hw{
			pilot:     &fakePilot{id: i, sensed: o.pilot, clk: r.clk},
			contactor: &fakeContactor{id: i, clk: r.clk},
			rcd:       &fakeRCD{id: i},
		}
		cc := ConnectorConfig{Hardware: hal.Connector{
			ID: i, Pilot: h.pilot, Contactor: h.contactor, RCD: h.rcd,
			MaxCurrent: cmp.Or(o.maxCurrent, 32*physic.Ampere), Phases: 3,
			Display: o.display,
		}}
		if !o.noLock {
			h.lock = &fakeLock{id: i}
			cc.Hardware.Lock = h.lock
		}
		if !o.noMeter {
			h.meter = &fakeMeter{energy: o.energy}
			if o.house != nil {
				evMax := cmp.Or(o.evMax, 32*physic.Ampere)
				h.meter.draw = func() physic.ElectricCurrent { return evDraw(h, evMax) }
			}
			cc.Meter = h.meter
		}
		if i <= len(o.modes) {
			cc.Mode = o.modes[i-1]
		}
		r.hw = append(r.hw, h)
		ccs = append(ccs, cc)
	}
	if o.house != nil && o.grid.Meter == nil {
		evMax := cmp.Or(o.evMax, 32*physic.Ampere)
		r.grid = sim.NewGridMeter(o.house, func() [3]physic.ElectricCurrent {
			var sum physic.ElectricCurrent
			for _, h := range r.hw {
				sum += evDraw(h, evMax)
			}
			return [3]physic.ElectricCurrent{sum, sum, sum}
		})
		o.grid.Meter = r.grid
	}
	var rep Reporter = r.rep
	if o.limits {
		r.limits = &limitRec{recReporter: r.rep}
		rep = r.limits
	}
	st, err := New(Options{
		ID: "test", Connectors: ccs, Reporter: rep, Authorizer: r.auth,
		Config: cfg, DB: o.db, Clock: r.clk, Logger: slog.New(slog.DiscardHandler),
		MeterReadInterval: o.meterEvery, InlineMeterReads: o.inline, SiteLimit: o.siteLimit,
		EnergyFile: o.energyFile, Grid: o.grid, Solar: o.solar,
		LimitInput: o.limitInput, InputLimit: o.inputLimit, Location: o.loc,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.st = st
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() { r.done <- st.Run(ctx) }()
	t.Cleanup(r.shutdown)
	if !o.noSettle {
		r.settle()
	}
	return r
}

// shutdown stops Run and waits for it.
func (r *rig) shutdown() {
	if r.ended {
		return
	}
	r.ended = true
	r.stop()
	if err := <-r.done; err != nil {
		r.t.Errorf("Run: %v", err)
	}
}

// settle waits until the station is quiet. The real-time bound only turns
// a hang into a failure; no assertion depends on it.
func (r *rig) settle() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.st.settle(ctx, true); err != nil {
		r.t.Fatalf("settle: %v", err)
	}
}

// ctx is a context for requests, with the same hang guard as settle.
func (r *rig) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	r.t.Cleanup(cancel)
	return ctx
}

// pilot senses state s on connector n and tells the station.
func (r *rig) pilot(n int, s hal.PilotState) {
	r.hw[n-1].pilot.set(s)
	r.st.Event(hal.Event{Connector: n, Kind: hal.PilotChanged, Pilot: s})
	r.settle()
}

// event sends a hardware event.
func (r *rig) event(ev hal.Event) {
	r.st.Event(ev)
	r.settle()
}

// advance moves virtual time and lets the station catch up.
func (r *rig) advance(d time.Duration) {
	r.clk.Advance(d)
	r.settle()
}

// conn returns connector n's snapshot.
func (r *rig) conn(n int) ConnectorSnapshot {
	r.t.Helper()
	snap, err := r.st.Status(r.ctx())
	if err != nil {
		r.t.Fatalf("Status: %v", err)
	}
	return snap.Connectors[n-1]
}

// want is an expected connector state after a step.
type want struct {
	status  Status
	code    ErrorCode // "" means NoError
	closed  bool      // contactor, as the fake saw it
	session bool
}

// check compares connector n with w, for both the station's view and the
// fake hardware's.
func (r *rig) check(step string, n int, w want) {
	r.t.Helper()
	c := r.conn(n)
	code := w.code
	if code == "" {
		code = NoError
	}
	if c.Status != w.status || c.Error != code {
		r.t.Errorf("%s: connector %d status %s/%s, want %s/%s", step, n, c.Status, c.Error, w.status, code)
	}
	if got := r.hw[n-1].contactor.Closed(); got != w.closed {
		r.t.Errorf("%s: connector %d contactor closed=%v, want %v", step, n, got, w.closed)
	}
	if c.Contactor != r.hw[n-1].contactor.Closed() {
		r.t.Errorf("%s: snapshot contactor %v differs from hardware", step, c.Contactor)
	}
	if (c.Session != nil) != w.session {
		r.t.Errorf("%s: connector %d session=%v, want %v", step, n, c.Session != nil, w.session)
	}
}

// scenario step: an input, then a virtual-time offset, then the expected
// state of connector 1.
type step struct {
	name  string
	do    func(r *rig)
	after time.Duration
	want  want
}

// play runs steps in order on r.
func (r *rig) play(steps []step) {
	r.t.Helper()
	for _, s := range steps {
		if s.do != nil {
			s.do(r)
		}
		if s.after > 0 {
			r.advance(s.after)
		}
		r.check(s.name, 1, s.want)
	}
}

// Step inputs.
func plug(s hal.PilotState) func(*rig) { return func(r *rig) { r.pilot(1, s) } }

func card(tag string, wantErr error) func(*rig) {
	return func(r *rig) {
		r.t.Helper()
		if err := r.st.PresentCard(r.ctx(), 1, tag); !errors.Is(err, wantErr) {
			r.t.Fatalf("PresentCard(%s) = %v, want %v", tag, err, wantErr)
		}
		r.settle()
	}
}

func start(tag string, o StartOptions, wantErr error) func(*rig) {
	return func(r *rig) {
		r.t.Helper()
		if err := r.st.Start(r.ctx(), 1, tag, o); !errors.Is(err, wantErr) {
			r.t.Fatalf("Start(%s) = %v, want %v", tag, err, wantErr)
		}
		r.settle()
	}
}

func raise(k hal.EventKind) func(*rig) {
	return func(r *rig) { r.event(hal.Event{Connector: 1, Kind: k}) }
}

func clear(k hal.EventKind) func(*rig) {
	return func(r *rig) { r.event(hal.Event{Connector: 1, Kind: hal.FaultCleared, Cleared: k}) }
}

func nothing(*rig) {}
