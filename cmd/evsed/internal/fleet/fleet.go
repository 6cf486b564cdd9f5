package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/cmd/evsed/internal/agent"
	halsim "github.com/evsed/evsed/hal/sim"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/ocpp16"
	"github.com/evsed/evsed/station"
	"go.etcd.io/bbolt"
)

// Defaults of Options.
const (
	defaultConnectors = 2
	defaultIDPrefix   = "FLEET"
	// defaultRampStep spreads the connects: one station every 5 ms, 200
	// per second.
	defaultRampStep = 5 * time.Millisecond
	// defaultMeterRead is how often a fleet station reads its simulated
	// meters (a real one reads every second).
	defaultMeterRead = 10 * time.Second
	// defaultBufferSize is the websocket write buffer size of a fleet
	// station (lent from a pool shared by every station), and
	// defaultReadBufferSize its read buffer's, which each connection keeps
	// for its lifetime: what a CSMS sends a charge point is mostly answers
	// of a few dozen bytes, and larger frames still pass in several reads.
	defaultBufferSize     = 512
	defaultReadBufferSize = 256
	// inboxSize is a fleet station's inbox (station.Options.InboxSize): a
	// simulated station sees a few inputs a minute, a burst of a few at a
	// plug-in, and the default 256 slots would cost 2 KiB each.
	inboxSize = 16
)

// Options configure a Fleet. Zero values are documented per field.
type Options struct {
	// CSMSURL is the endpoint every station connects to (its id is
	// appended). Required.
	CSMSURL string
	// Password, when set, is every station's basic-auth password
	// (security profile 1).
	Password string
	// Stations is the number of stations. Required.
	Stations int
	// Connectors is the number of connectors per station; 0 means 2.
	Connectors int
	// IDPrefix starts every charge point id, followed by the station's
	// index from 1, zero-padded to the width of Stations; "" means
	// "FLEET".
	IDPrefix string
	// Seed selects the scenario's plan (see Plan).
	Seed uint64
	// Scenario shapes the simulated drivers.
	Scenario Scenario
	// Ramp is the time over which the stations start, evenly spread; 0
	// means 5 ms per station.
	Ramp time.Duration
	// OCPPKeys are initial configuration-key values of every station.
	OCPPKeys map[string]string
	// MeterReadInterval is how often each station reads its simulated
	// meters; 0 means 10 s.
	MeterReadInterval time.Duration
	// BufferSize is every websocket's read and write buffer size in bytes;
	// 0 means 256 for reading and 512 for writing. Write buffers are
	// pooled across the fleet.
	BufferSize int
	// BackoffMin and BackoffMax bound the reconnect delay; zero means the
	// transport's defaults (1 s, 5 min).
	BackoffMin, BackoffMax time.Duration
	// DrainOnStop is how long each station waits at the end of Run for a
	// connected CSMS to take its queued messages; 0 means no wait.
	DrainOnStop time.Duration
	// DB holds every station's durable state, under a bucket prefix per
	// station. Required.
	DB *bbolt.DB
	// Clock is the one clock of every station and of the driver; nil means
	// the wall clock.
	Clock clock.Clock
	// Logger receives every station's logs (each record carries the
	// station's id); nil means slog.Default().
	Logger *slog.Logger
}

// Fleet is a set of simulated stations. Build it with New, run it once with
// Run; Snapshot is safe to call at any time from any goroutine.
type Fleet struct {
	opts     Options
	clk      clock.Clock
	log      *slog.Logger
	members  []*member
	counters *counters
	pool     sync.Pool // websocket write buffers, shared by every station
	// tune sets up every station's transport (ocppclient.Options).
	tune func(*ocppclient.Options)
}

// member is one station of the fleet.
type member struct {
	id    string
	index int
	agent *agent.Agent
	board *halsim.Board
	conns []driven // allocated once: events point into it
}

// driven is one connector's place in the scenario; the driver goroutine
// owns it.
type driven struct {
	m    *member
	n    int // connector number, 1-based
	plan planner
	cur  Session
	done int // sessions played to the end
}

// New builds every station (their durable state is opened in o.DB) without
// starting any.
func New(o Options) (*Fleet, error) {
	switch {
	case o.CSMSURL == "":
		return nil, errors.New("fleet: a CSMS URL is required")
	case o.Stations < 1:
		return nil, fmt.Errorf("fleet: %d stations, want at least 1", o.Stations)
	case o.Connectors < 0:
		return nil, fmt.Errorf("fleet: %d connectors", o.Connectors)
	case o.DB == nil:
		return nil, errors.New("fleet: a database is required")
	}
	if o.Connectors == 0 {
		o.Connectors = defaultConnectors
	}
	if o.IDPrefix == "" {
		o.IDPrefix = defaultIDPrefix
	}
	if o.Ramp <= 0 {
		o.Ramp = time.Duration(o.Stations) * defaultRampStep
	}
	if o.MeterReadInterval <= 0 {
		o.MeterReadInterval = defaultMeterRead
	}
	readSize, writeSize := o.BufferSize, o.BufferSize
	if o.BufferSize <= 0 {
		readSize, writeSize = defaultReadBufferSize, defaultBufferSize
	}
	sc, err := o.Scenario.withDefaults()
	if err != nil {
		return nil, err
	}
	o.Scenario = sc
	if width := len(strconv.Itoa(o.Stations)); len(o.IDPrefix)+width > 20 {
		// Charge point ids end up in idTag-sized fields of some CSMSs and
		// in URLs; OCPP's identity limit is 20 characters.
		return nil, fmt.Errorf("fleet: id prefix %q too long for %d stations (ids are at most 20 characters)", o.IDPrefix, o.Stations)
	}
	f := &Fleet{opts: o, clk: clock.Or(o.Clock), counters: &counters{}}
	// One function for every station's transport, made once: each
	// station would otherwise keep a closure (and its own copy of the
	// OnCall method value).
	onCall := f.counters.onCall
	f.tune = func(co *ocppclient.Options) {
		co.ReadBufferSize, co.WriteBufferSize = readSize, writeSize
		co.WriteBufferPool = &f.pool
		co.OnCall = onCall
	}
	base := o.Logger
	if base == nil {
		base = slog.Default()
	}
	f.log = slog.New(countingHandler{inner: base.Handler(), n: &f.counters.warnings})

	width := len(strconv.Itoa(o.Stations))
	for i := range o.Stations {
		m, err := f.newMember(i, fmt.Sprintf("%s%0*d", o.IDPrefix, width, i+1))
		if err != nil {
			return nil, err
		}
		f.members = append(f.members, m)
	}
	return f, nil
}

// newMember builds station index with id.
func (f *Fleet) newMember(index int, id string) (*member, error) {
	o := f.opts
	board, err := halsim.New(halsim.Options{Name: "sim", Connectors: o.Connectors, Clock: f.clk, Logger: f.log})
	if err != nil {
		return nil, err
	}
	conns := make([]station.ConnectorConfig, 0, o.Connectors)
	for _, c := range board.Connectors() {
		conns = append(conns, station.ConnectorConfig{Hardware: c, Meter: board.Meter(c.ID)})
	}
	behaviour := station.DefaultConfig()
	behaviour.FreeCharging = false
	csms := agent.CSMS{
		URL:        o.CSMSURL,
		Password:   o.Password,
		BackoffMin: o.BackoffMin,
		BackoffMax: o.BackoffMax,
		Tune:       f.tune,
	}
	if o.Password != "" {
		csms.SecurityProfile = 1
	}
	a, err := agent.New(agent.Options{
		ID:                id,
		Identity:          ocpp16.Identity{ChargePointVendor: "evsed", ChargePointModel: "evsed-fleet", ChargePointSerialNumber: id},
		Connectors:        conns,
		Board:             board,
		Behaviour:         behaviour,
		OCPPKeys:          o.OCPPKeys,
		CSMS:              csms,
		DB:                o.DB,
		BucketPrefix:      id + "/",
		DrainOnStop:       o.DrainOnStop,
		Clock:             f.clk,
		Logger:            f.log,
		MeterReadInterval: o.MeterReadInterval,
		// Simulated meters answer at once: no sampler goroutines.
		InlineMeterReads: true,
		InboxSize:        inboxSize,
		NoQueueLog:       true,
	})
	if err != nil {
		return nil, err
	}
	m := &member{id: id, index: index, agent: a, board: board}
	m.conns = make([]driven, o.Connectors)
	for i := range m.conns {
		d := &m.conns[i]
		d.m, d.n = m, i+1
		d.plan.init(&f.opts.Scenario, o.Seed, index, d.n, o.Connectors)
	}
	return m, nil
}

// IDs returns the charge point ids, in station order.
func (f *Fleet) IDs() []string {
	out := make([]string, len(f.members))
	for i, m := range f.members {
		out[i] = m.id
	}
	return out
}

// Run starts the stations over the ramp-up, plays the scenario until ctx
// ends, then stops every station (each halts its board, queues its facts
// durably and waits up to DrainOnStop for the CSMS) and returns. It returns
// an error only when stations stopped on errors of their own; the CSMS
// being unreachable is not one (the stations keep retrying). Run may be
// called once.
func (f *Fleet) Run(ctx context.Context) error {
	agentCtx, stopAgents := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAgents()
	var wg sync.WaitGroup
	d := &driver{f: f, clk: f.clk}
	start := f.clk.Now()
	for i, m := range f.members {
		at := start
		if n := len(f.members); n > 1 {
			at = start.Add(f.opts.Ramp * time.Duration(i) / time.Duration(n))
		}
		d.push(event{at: at, m: m})
	}
	// Launched agents keep no goroutine waiting for them to stop (that
	// would be one goroutine stack more per station); their waits are
	// collected once they all have been told to stop. An agent that stops
	// early on an error (transport options its first connect refuses) is
	// counted and logged then, at the end of the run.
	waits := make([]func() error, len(f.members))
	d.launch = func(m *member) {
		f.counters.started.Add(1)
		waits[m.index] = m.agent.Launch(agentCtx)
	}
	d.run(ctx)
	stopAgents()
	for i, wait := range waits {
		if wait == nil {
			continue // never launched
		}
		m := f.members[i]
		wg.Go(func() {
			if err := wait(); err != nil {
				f.counters.runErrors.Add(1)
				msg := m.id + ": " + err.Error()
				f.counters.firstError.CompareAndSwap(nil, &msg)
				f.log.Error("fleet station stopped", "station", m.id, "err", err)
			}
		})
	}
	wg.Wait()
	if n := f.counters.runErrors.Load(); n > 0 {
		return fmt.Errorf("fleet: %d stations stopped on errors, first %s", n, *f.counters.firstError.Load())
	}
	return nil
}

// RampUp is the time over which Run starts the stations (Options.Ramp,
// or its default).
func (f *Fleet) RampUp() time.Duration { return f.opts.Ramp }

// Snapshot returns the counts so far.
func (f *Fleet) Snapshot() Snapshot {
	c := f.counters
	s := Snapshot{
		At:         f.clk.Now(),
		Stations:   len(f.members),
		Started:    int(c.started.Load()),
		Plugs:      c.plugs.Load(),
		Swipes:     c.swipes.Load(),
		Unplugs:    c.unplugs.Load(),
		Warnings:   c.warnings.Load(),
		SimErrors:  c.simErrors.Load(),
		Goroutines: runtime.NumGoroutine(),
	}
	for i := range numActions {
		name := "Other"
		if i < actionOther {
			name = countedActions[i]
		}
		s.Actions = append(s.Actions, ActionCounts{
			Action: name, OK: c.calls[i].Load(), Refused: c.refused[i].Load(), Failed: c.failed[i].Load(),
		})
	}
	for i := range s.Latency {
		s.Latency[i] = c.latency[i].Load()
	}
	for _, m := range f.members {
		info := m.agent.OCPPInfo()
		if info.Connected {
			s.Connected++
			if info.Registration == string(ocpp16.RegistrationStatusAccepted) {
				s.Registered++
			}
		}
	}
	return s
}
