package station

import (
	"context"
	"fmt"
	"time"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// Energy management on site: dynamic load management from a meter at the
// grid connection, the fallback when that meter is lost, and the reasons
// for the limit in force (see docs/energy.md).
//
// The grid meter is read with the connectors' meters, at every meter tick
// (Options.MeterReadInterval), by a sampler goroutine of its own (or inline
// with InlineMeterReads), and its reading reaches the loop as a message
// like any other. The loop pairs it with the connectors' readings of the
// same tick, so that "other loads = grid - ours" subtracts currents that
// were measured together. From the other loads per phase it derives the
// most our connectors together may draw per phase:
//
//	available = Fuse - Margin - max over the phases of (grid - ours)
//
// which caps the load sharing's budget like Options.SiteLimit does. A lower
// budget applies at once (the shares fall in the same loop turn); a higher
// one waits as every rise does (evReaction). While no fresh reading has
// arrived for Timeout, or before the first one, the budget is Fallback.

// GridOptions configure dynamic load management from a meter at the
// site's grid connection (the house's main fuse). The zero value (no
// Meter) turns it off, and with it the solar modes.
type GridOptions struct {
	// Meter reads the grid connection: current per phase (FieldCurrent),
	// import positive and export negative. A meter that reports current
	// magnitudes only is signed by its per-phase power (FieldPowerPhases)
	// when it has that. Nil turns dynamic load management off.
	Meter meter.Meter
	// Fuse is the main fuse per phase: what the grid connection may carry,
	// every load together. Required (positive) with Meter.
	Fuse physic.ElectricCurrent
	// Margin is kept free below Fuse, for the error of the meters and the
	// loads that switch on between two readings; 0 means none.
	Margin physic.ElectricCurrent
	// Timeout is how long the station goes on without a fresh good reading
	// (errors, no answer, or readings whose Time is older than this) before
	// it falls back to Fallback and warns; 0 means 5 s. The fallback then
	// applies at the latest Timeout after the last fresh reading.
	Timeout time.Duration
	// Fallback is the most every connector together may draw per phase
	// while the meter is lost, and until its first reading; 0 means
	// nothing (every session SuspendedEVSE until readings return). It is
	// the current the site can always spare, whatever the house draws.
	Fallback physic.ElectricCurrent
}

// defaultGridTimeout is GridOptions.Timeout's default: five readings at
// the default interval.
const defaultGridTimeout = 5 * time.Second

// LimitReason says which limit sets a connector's offer (or the site's
// budget) now. The values are what the status shows.
type LimitReason string

// Limit reasons. When several limits are equal the first of this list
// names the reason.
const (
	// LimitExternal: a limit set through SetExternalLimit, or the board's
	// limit input (the grid operator's control signal).
	LimitExternal LimitReason = "external"
	// LimitProfile: the CSMS's charging profiles (SetLimits).
	LimitProfile LimitReason = "profile"
	// LimitSolar: the solar surplus (ModePV, ModeMinPV).
	LimitSolar LimitReason = "solar"
	// LimitSite: the site's supply: Options.SiteLimit, the main fuse less
	// the other loads at the grid meter, or the fallback current while
	// the grid meter is lost.
	LimitSite LimitReason = "site"
	// LimitConnector: the connector's own rating.
	LimitConnector LimitReason = "connector"
)

// limitWhy is a limit with its reason and a detail for people.
type limitWhy struct {
	a      physic.ElectricCurrent
	reason LimitReason
	info   string
}

// lower keeps the lower of w and o; on a tie w stays (the caller considers
// the limits in the order of the LimitReason list).
func (w *limitWhy) lower(o limitWhy) {
	if o.a < w.a {
		*w = o
	}
}

// gridState is the loop's view of the grid meter.
type gridState struct {
	readReq chan struct{} // to the sampler; nil with inline reads
	busy    bool          // a read is with the sampler
	round   uint64        // the meter tick of the read in flight
	// pending is a reading that waits for the connectors' readings of its
	// tick (pendingOK false: none).
	pending   meter.Reading
	pendingOK bool

	have    bool                      // a fresh reading arrived since Run started
	freshAt time.Time                 // Time of the latest fresh reading
	net     [3]physic.ElectricCurrent // per phase at the grid meter
	other   [3]physic.ElectricCurrent // net minus our connectors
	phases  int
	lost    bool // the fallback applies after a loss (warning raised)
	lostAt  time.Time
	lastErr string
	fails   int
}

// noGrid is the grid state of every station without a grid meter: all
// zero, and never written (the code that writes the state runs only with
// a meter), so that those stations do not each carry one.
var noGrid gridState

// gridState returns the loop's grid state: its own with a grid meter,
// noGrid without.
func (l *loop) gridState() *gridState {
	if l.grid == nil {
		return &noGrid
	}
	return l.grid
}

// gridTimeout is the configured budget for fresh readings.
func (l *loop) gridTimeout() time.Duration {
	if t := l.s.opts.Grid.Timeout; t > 0 {
		return t
	}
	return defaultGridTimeout
}

// gridDeadline is when the loss is raised unless a fresh reading comes;
// zero when no grid meter is configured or the loss is raised already.
// Before the first reading the fallback applies anyway, and the loss is
// raised (with its warning) a timeout after the start.
func (l *loop) gridDeadline() time.Time {
	g := l.gridState()
	if l.s.opts.Grid.Meter == nil || g.lost {
		return time.Time{}
	}
	return g.freshAt.Add(l.gridTimeout())
}

// gridCheck raises the loss once the last fresh reading (or the start) is
// older than the budget; apply calls it first, so that the fallback is in
// force from the deadline on.
func (l *loop) gridCheck(now time.Time) {
	g := l.gridState()
	if l.s.opts.Grid.Meter == nil || g.lost {
		return
	}
	if now.Before(g.freshAt.Add(l.gridTimeout())) {
		return
	}
	g.lost, g.lostAt = true, now
	why := g.lastErr
	if why == "" {
		why = "no fresh reading"
	}
	l.s.logger().Warn("station: grid meter lost: fallback current applies",
		"meter", l.s.opts.Grid.Meter.String(), "last_fresh", g.freshAt, "fallback", l.s.opts.Grid.Fallback, "err", why)
}

// gridWarning is the status warning while the fallback applies after a
// loss; "" otherwise.
func (l *loop) gridWarning() string {
	g := l.gridState()
	if !g.lost {
		return ""
	}
	why := g.lastErr
	if why == "" {
		why = "no fresh reading"
	}
	return fmt.Sprintf("grid meter lost since %s (%s): fallback %v per phase",
		g.lostAt.UTC().Format(time.RFC3339), why, l.s.opts.Grid.Fallback)
}

// gridLimit is the most every connector together may draw per phase by
// the grid meter, with its reason; ok is false without a grid meter.
func (l *loop) gridLimit() (limitWhy, bool) {
	o := l.s.opts.Grid
	if o.Meter == nil {
		return limitWhy{}, false
	}
	g := l.gridState()
	if !g.have || g.lost {
		info := "grid meter not read yet: fallback current"
		if g.lost {
			info = "grid meter lost: fallback current"
		}
		return limitWhy{o.Fallback, LimitSite, info}, true
	}
	worst := g.other[0]
	for p := 1; p < g.phases; p++ {
		worst = max(worst, g.other[p])
	}
	a := max(0, o.Fuse-o.Margin-worst)
	return limitWhy{a, LimitSite, fmt.Sprintf("main fuse %v less other loads %v", o.Fuse, worst)}, true
}

// phaseCurrents is what connector c draws per phase: its meter's currents
// when it measures them, else what it is offered on its phases while the
// contactor is closed (the vehicle may draw that much).
func (c *conn) phaseCurrents() [3]physic.ElectricCurrent {
	if c.meter() != nil && c.reading1st && c.reading.Fields.Has(meter.FieldCurrent) {
		return signedCurrents(c.reading)
	}
	var out [3]physic.ElectricCurrent
	if c.closed {
		for p := range c.activePhases() {
			out[p] = c.offered
		}
	}
	return out
}

// signedCurrents returns r's currents per phase, signed by the per-phase
// power when the meter reports magnitudes only.
func signedCurrents(r meter.Reading) [3]physic.ElectricCurrent {
	out := r.Current
	if r.Fields.Has(meter.FieldPowerPhases) {
		for p := range out {
			if r.PowerPhase[p] < 0 && out[p] > 0 {
				out[p] = -out[p]
			}
		}
	}
	return out
}

// readGrid asks the grid sampler for a reading at meter tick round (or
// reads inline); a read still in flight is not queued behind.
func (l *loop) readGrid(round uint64) {
	m := l.s.opts.Grid.Meter
	g := l.gridState()
	if m == nil || g.busy {
		return
	}
	g.busy, g.round = true, round
	l.readsInFlight++
	if g.readReq == nil {
		r, err := m.Read(l.ctx)
		l.onGridReading(r, err)
		return
	}
	g.readReq <- struct{}{} // cannot block: busy keeps it empty
}

// runGridSampler reads the grid meter whenever the loop asks, off the
// loop, each read bounded by readTimeout, until ctx ends.
func (s *Station) runGridSampler(ctx context.Context, m meter.Meter, req <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-req:
		}
		rctx, cancel := context.WithCancel(ctx)
		t := s.opts.Clock.AfterFunc(readTimeout, cancel)
		r, err := m.Read(rctx)
		t.Stop()
		cancel()
		s.post(func(l *loop) { l.onGridReading(r, err) })
	}
}

// onGridReading takes a grid meter reading: a failure is counted (the
// deadline raises the loss), a good one waits for the connectors'
// readings of its tick and is then used.
func (l *loop) onGridReading(r meter.Reading, err error) {
	g := l.gridState()
	g.busy = false
	l.readsInFlight--
	now := l.s.opts.Clock.Now()
	if err == nil && !r.Fields.Has(meter.FieldCurrent) {
		err = fmt.Errorf("grid meter reading has no current per phase")
	}
	if err != nil {
		g.fails++
		g.lastErr = err.Error()
		if g.fails == 1 || g.fails%60 == 0 {
			l.s.logger().Warn("station: grid meter read", "meter", l.s.opts.Grid.Meter.String(), "err", err, "consecutive", g.fails)
		}
		l.apply(nil) // the deadline may have passed meanwhile
		return
	}
	if r.Time.IsZero() {
		r.Time = now
	}
	if !r.Time.After(now.Add(-l.gridTimeout())) {
		g.fails++
		g.lastErr = "stale reading from " + r.Time.UTC().Format(time.RFC3339)
		l.apply(nil)
		return
	}
	g.pending, g.pendingOK = r, true
	l.useGridReading()
}

// useGridReading uses the pending grid reading once no connector's
// reading of the same tick is still in flight.
func (l *loop) useGridReading() {
	g := l.gridState()
	if !g.pendingOK {
		return
	}
	for _, c := range l.conns {
		if c.readBusy && c.readRound == uint32(g.round) {
			return // onReading calls again
		}
	}
	r := g.pending
	g.pending, g.pendingOK = meter.Reading{}, false
	net := signedCurrents(r)
	phases := r.Phases
	if phases < 1 || phases > 3 {
		phases = 3
	}
	var ours [3]physic.ElectricCurrent
	for _, c := range l.conns {
		pc := c.phaseCurrents()
		for p := range ours {
			ours[p] += pc[p]
		}
	}
	g.net, g.phases = net, phases
	for p := range g.other {
		g.other[p] = net[p] - ours[p]
	}
	if g.lost {
		l.s.logger().Info("station: grid meter readings are back", "meter", l.s.opts.Grid.Meter.String(),
			"lost_for", r.Time.Sub(g.lostAt).Round(time.Millisecond))
	}
	g.have, g.lost, g.fails, g.lastErr = true, false, 0, ""
	if r.Time.After(g.freshAt) {
		g.freshAt = r.Time
	}
	l.updateSolar(l.s.opts.Clock.Now())
	l.apply(nil)
}

// SiteSnapshot is the site's state: the grid meter, the budget every
// connector together may draw, and the station-wide limits.
type SiteSnapshot struct {
	// GridMeter says a grid meter is configured; the fields up to Margin
	// are meaningful only then.
	GridMeter bool
	// Fallback says the fallback current applies: the grid meter is lost
	// (Warning says why) or has not been read yet.
	Fallback bool
	// Warning is set while the grid meter is lost; "" when all is well.
	Warning string
	// LastReading is the Time of the latest fresh grid reading.
	LastReading time.Time
	// Grid is the current per phase at the grid meter (import positive,
	// export negative), OtherLoad that less our connectors' currents.
	Grid, OtherLoad [3]physic.ElectricCurrent
	// Fuse and Margin are GridOptions'.
	Fuse, Margin physic.ElectricCurrent
	// Available is the most every connector together may draw per phase
	// now (NoLimit: nothing caps the sum), and Reason and Info say which
	// limit sets it.
	Available physic.ElectricCurrent
	Reason    LimitReason
	Info      string
	// External is the station-wide external limit; nil when none.
	External *ExternalLimit
	// InputActive says the board's limit input forces InputLimit.
	InputActive bool
	InputLimit  physic.ElectricCurrent
}

// siteSnapshot describes the site at now.
func (l *loop) siteSnapshot(now time.Time) SiteSnapshot {
	o := l.s.opts.Grid
	g := l.gridState()
	b := l.budgetWhy(now)
	s := SiteSnapshot{
		GridMeter:   o.Meter != nil,
		Fallback:    o.Meter != nil && (!g.have || g.lost),
		Warning:     l.gridWarning(),
		Grid:        g.net,
		OtherLoad:   g.other,
		Fuse:        o.Fuse,
		Margin:      o.Margin,
		Available:   b.a,
		Reason:      b.reason,
		Info:        b.info,
		InputActive: l.inputActive,
		InputLimit:  l.s.opts.InputLimit,
	}
	if g.have {
		s.LastReading = g.freshAt
	}
	if e := l.stationExt; e != nil && e.activeAt(now) {
		c := *e
		s.External = &c
	}
	return s
}

// limitInputState reads the board's limit input at boot.
func (l *loop) limitInputState() {
	if in := l.s.opts.LimitInput; in != nil {
		l.inputActive = in.Active()
		if l.inputActive {
			l.s.logger().Warn("station: limit input active at start", "input", in.String(), "limit", l.s.opts.InputLimit)
		}
	}
}

// onInput handles a change of the board's limit input.
func (l *loop) onInput(ev hal.Event) {
	if l.inputActive == ev.Active {
		return
	}
	l.inputActive = ev.Active
	if ev.Active {
		l.s.logger().Warn("station: limit input active: reduced current", "limit", l.s.opts.InputLimit, "detail", ev.Detail)
	} else {
		l.s.logger().Info("station: limit input released", "detail", ev.Detail)
	}
	l.apply(nil)
}

// LimitChange reports the limit in force on a connector, or (Connector 0)
// on the site, when its reason or the offer changes: the events stream
// shows it. For connector 0 Offered and Target are the site's Available,
// and Warning is set while the grid meter is lost.
type LimitChange struct {
	Connector int
	Offered   physic.ElectricCurrent
	Target    physic.ElectricCurrent
	Reason    LimitReason
	Info      string
	Warning   string
	At        time.Time
}

// LimitReporter is a Reporter that also wants LimitChange facts; the
// station checks for it once, in New. LimitChanged is called from the
// Reporter's goroutine, in order with the other facts, and must not block.
type LimitReporter interface {
	LimitChanged(LimitChange)
}

// limitFact carries a LimitChange to the journal.
type limitFact struct{ LimitChange }

// limitSeen is what was last reported of a connector's or the site's
// limit, so that only changes are.
type limitSeen struct {
	offered physic.ElectricCurrent
	reason  LimitReason
	warning string
	input   bool
}

// reportLimits emits a LimitChange for every connector, and the site,
// whose reported limit changed; apply calls it once the hardware has been
// commanded. It costs nothing without a LimitReporter.
func (l *loop) reportLimits(now time.Time) {
	if l.s.limitRep == nil {
		return
	}
	for _, c := range l.conns {
		seen := limitSeen{offered: c.offered, reason: c.why.reason}
		if c.limitSeen == nil {
			if seen == (limitSeen{}) {
				continue // as reported: nothing yet
			}
			c.limitSeen = &limitSeen{}
		}
		if seen == *c.limitSeen {
			continue
		}
		*c.limitSeen = seen
		l.emit(limitFact{LimitChange{Connector: c.id, Offered: c.offered, Target: c.target,
			Reason: c.why.reason, Info: c.why.info, At: now}})
	}
	b := l.budgetWhy(now)
	seen := limitSeen{reason: b.reason, warning: l.gridWarning(), input: l.inputActive}
	if g := l.gridState(); b.reason != LimitSite || g.lost || !g.have {
		seen.offered = b.a // a grid budget moves with every reading: only its reason is news
	}
	if l.siteSeen == nil {
		// Made at the first report, so that stations without a
		// LimitReporter do not carry it.
		if seen == (limitSeen{}) {
			return // as reported: nothing yet
		}
		l.siteSeen = &limitSeen{}
	}
	if seen == *l.siteSeen {
		return
	}
	*l.siteSeen = seen
	l.emit(limitFact{LimitChange{Connector: 0, Offered: b.a, Target: b.a, Reason: b.reason, Info: b.info,
		Warning: seen.warning, At: now}})
}
