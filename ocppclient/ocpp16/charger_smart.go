package ocpp16

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient/internal/limits"
	"github.com/evsed/evsed/ocppclient/smartcharging"
	"github.com/evsed/evsed/station"
	"periph.io/x/conn/v3/physic"
)

// Smart Charging (OCPP 1.6 sections 3.13, 5.5, 5.7, 5.16 and 5.11 for
// RemoteStartTransaction's profile). The profiles live in a
// smartcharging.Store (version-neutral: stacking, recurrence, units); the
// adapter maps 1.6's wire types onto it, checks what only 1.6 knows (a Tx
// profile needs a transaction on its connector, with the right id), answers
// GetCompositeSchedule, and drives the station: after every change of the
// profiles, at every session start and end, and once a day, it computes in
// amperes each connector's own limit (Tx or TxDefault) and the station's
// (ChargePointMaxProfile) over limitsHorizon and hands them to the station
// (station.SetLimits), which applies each step at its boundary on its own
// timer and shares the station's limit among the connectors that charge.
//
// A Tx profile is bound to the station's session id rather than to the 1.6
// transactionId, which a transaction started offline gets only later; a
// SetChargingProfile that names a transactionId is checked against the id
// the CSMS gave that session.
//
// Conversions between W and A use the nominal phase voltage
// (Options.Voltage, 230 V by default) and the connector's phases: a power
// limit divided by voltage x phases gives the current per phase that keeps
// the power at or below it whichever phases the EV uses (see
// smartcharging.Convert).

// limitsHorizon is how far ahead the station is given its limits, and
// limitsRefresh how often they are computed again when nothing changes:
// a recurring profile has no end, and the station holds the last step of
// what it was given.
const (
	limitsHorizon = 48 * time.Hour
	limitsRefresh = 24 * time.Hour
)

// smartState is the adapter's smart-charging state. Its mutex serializes
// the computation and hand-over of the limits, so that the station never
// ends up with an older computation than the latest.
type smartState struct {
	profiles *smartcharging.Store

	mu sync.Mutex // guards the fields below; held while limits are pushed
	// more is what a charger with charging profiles needs, made at the
	// first profile: most chargers never get one, and the fleet simulator
	// holds thousands.
	more *smartMore
}

// smartMore is the part of smartState that only profiles need.
type smartMore struct {
	// remote holds the charging profile of an accepted
	// RemoteStartTransaction until its session starts, by connector.
	remote map[int]remoteProfile
	// refresh fires the next daily computation; nil when none was ever
	// armed.
	refresh clock.Timer
	// limited says the station holds limits computed from profiles: the
	// last computation had profiles installed. Without profiles, and
	// limited false, the station has no limits of ours to compute again.
	limited bool
}

// moreLocked returns s.more, made now if there is none. s.mu is held.
func (s *smartState) moreLocked() *smartMore {
	if s.more == nil {
		s.more = &smartMore{}
	}
	return s.more
}

// remoteProfile is a RemoteStartTransaction's TxProfile waiting for the
// session it is for.
type remoteProfile struct {
	idTag   string
	profile smartcharging.Profile
	expires time.Time
}

// profileLimits are the Smart Charging keys as smartcharging.Limits.
func (c *Charger) profileLimits() smartcharging.Limits {
	l := smartcharging.Limits{
		MaxStackLevel: c.cfg.Int(KeyChargeProfileMaxStackLevel),
		MaxPeriods:    c.cfg.Int(KeyChargingScheduleMaxPeriods),
		MaxInstalled:  c.cfg.Int(KeyMaxChargingProfilesInstalled),
	}
	for _, u := range c.cfg.ChargingRateUnits() {
		l.Units = append(l.Units, rateUnit(u))
	}
	return l
}

// rateUnit maps a 1.6 unit to the engine's.
func rateUnit(u ChargingRateUnit) smartcharging.RateUnit {
	if u == ChargingRateUnitW {
		return smartcharging.Watts
	}
	return smartcharging.Amperes
}

// toProfile maps a 1.6 charging profile installed on connector n; the
// transaction binding is the caller's.
func toProfile(n int, p ChargingProfile) smartcharging.Profile {
	out := smartcharging.Profile{
		ID:         p.ChargingProfileID,
		Connector:  n,
		StackLevel: p.StackLevel,
	}
	switch p.ChargingProfilePurpose {
	case ChargingProfilePurposeChargePointMaxProfile:
		out.Purpose = smartcharging.PurposeStationMax
	case ChargingProfilePurposeTxDefaultProfile:
		out.Purpose = smartcharging.PurposeTxDefault
	case ChargingProfilePurposeTxProfile:
		out.Purpose = smartcharging.PurposeTx
	}
	switch p.ChargingProfileKind {
	case ChargingProfileKindAbsolute:
		out.Kind = smartcharging.KindAbsolute
	case ChargingProfileKindRecurring:
		out.Kind = smartcharging.KindRecurring
	case ChargingProfileKindRelative:
		out.Kind = smartcharging.KindRelative
	}
	switch p.RecurrencyKind {
	case RecurrencyKindDaily:
		out.Recurrency = smartcharging.RecurDaily
	case RecurrencyKindWeekly:
		out.Recurrency = smartcharging.RecurWeekly
	}
	if p.ValidFrom != nil {
		out.ValidFrom = p.ValidFrom.Time
	}
	if p.ValidTo != nil {
		out.ValidTo = p.ValidTo.Time
	}
	s := p.ChargingSchedule
	out.Schedule.Unit = rateUnit(s.ChargingRateUnit)
	if s.StartSchedule != nil {
		out.Schedule.Start = s.StartSchedule.Time
	}
	if s.Duration != nil {
		out.Schedule.Duration = secondsDuration(*s.Duration)
	}
	if s.MinChargingRate != nil {
		out.Schedule.MinRate = *s.MinChargingRate
	}
	for _, sp := range s.ChargingSchedulePeriod {
		pp := smartcharging.Period{Start: secondsDuration(sp.StartPeriod), Limit: sp.Limit}
		if sp.NumberPhases != nil {
			pp.Phases = *sp.NumberPhases
		}
		out.Schedule.Periods = append(out.Schedule.Periods, pp)
	}
	return out
}

// checkPhases refuses a numberPhases outside 1..3, which no schema rule
// bounds.
func checkPhases(p ChargingProfile) error {
	for _, sp := range p.ChargingSchedule.ChargingSchedulePeriod {
		if sp.NumberPhases != nil && (*sp.NumberPhases < 1 || *sp.NumberPhases > 3) {
			return errors.New("numberPhases must be 1, 2 or 3")
		}
	}
	if p.TransactionID != nil && p.ChargingProfilePurpose != ChargingProfilePurposeTxProfile {
		return errors.New("transactionId is only for TxProfile")
	}
	if p.RecurrencyKind != "" && p.ChargingProfileKind != ChargingProfileKindRecurring {
		return errors.New("recurrencyKind is only for Recurring profiles")
	}
	return nil
}

// setChargingProfile answers a SetChargingProfile.
func (c *Charger) setChargingProfile(ctx context.Context, st Station, r *SetChargingProfileRequest) *SetChargingProfileResponse {
	rejected := &SetChargingProfileResponse{Status: ChargingProfileStatusRejected}
	n, cp := r.ConnectorID, r.CsChargingProfiles
	log := c.log.With("connector", n, "profile", cp.ChargingProfileID, "purpose", cp.ChargingProfilePurpose)
	if n > c.connectors() {
		log.Info("ocpp16 SetChargingProfile rejected: no such connector")
		return rejected
	}
	if err := checkPhases(cp); err != nil {
		log.Info("ocpp16 SetChargingProfile rejected", "err", err)
		return rejected
	}
	p := toProfile(n, cp)
	if p.Purpose == smartcharging.PurposeTx && n > 0 {
		snap, err := st.Status(ctx)
		if err != nil {
			log.Warn("ocpp16 SetChargingProfile: station status", "err", err)
			return rejected
		}
		sess := snap.Connectors[n-1].Session
		if sess == nil {
			log.Info("ocpp16 SetChargingProfile rejected: TxProfile without a transaction on the connector")
			return rejected
		}
		if cp.TransactionID != nil {
			tx, err := c.tx.TransactionID(sess.ID)
			if err != nil || tx != *cp.TransactionID {
				log.Info("ocpp16 SetChargingProfile rejected: not the connector's transaction",
					"transactionId", *cp.TransactionID, "running", tx)
				return rejected
			}
		}
		p.TransactionID = sess.ID
	}
	// Expired profiles can never apply again: they must not count
	// against MaxChargingProfilesInstalled.
	if _, err := c.smart.profiles.ClearExpired(c.clk.Now()); err != nil {
		log.Warn("ocpp16 clear expired charging profiles", "err", err)
	}
	if err := c.smart.profiles.Install(p, c.clk.Now(), c.profileLimits()); err != nil {
		log.Info("ocpp16 SetChargingProfile rejected", "err", err)
		return rejected
	}
	log.Info("ocpp16 charging profile installed", "stackLevel", cp.StackLevel, "kind", cp.ChargingProfileKind)
	c.refreshLimits(ctx)
	return &SetChargingProfileResponse{Status: ChargingProfileStatusAccepted}
}

// clearChargingProfile answers a ClearChargingProfile.
func (c *Charger) clearChargingProfile(ctx context.Context, r *ClearChargingProfileRequest) *ClearChargingProfileResponse {
	f := smartcharging.Filter{ID: r.ID, Connector: r.ConnectorID, StackLevel: r.StackLevel}
	if r.ChargingProfilePurpose != "" {
		f.Purpose = toProfile(0, ChargingProfile{ChargingProfilePurpose: r.ChargingProfilePurpose}).Purpose
	}
	n, err := c.smart.profiles.Clear(f)
	if err != nil {
		c.log.Warn("ocpp16 ClearChargingProfile", "err", err)
	}
	if n == 0 {
		return &ClearChargingProfileResponse{Status: ClearChargingProfileStatusUnknown}
	}
	c.log.Info("ocpp16 charging profiles cleared", "count", n)
	c.refreshLimits(ctx)
	return &ClearChargingProfileResponse{Status: ClearChargingProfileStatusAccepted}
}

// getCompositeSchedule answers a GetCompositeSchedule: for a connector,
// the lower of the station's limit and the connector's own, capped by its
// rating and the site limit; for connector 0, the total the grid
// connection may expect: the lower of the station's limit (and the site
// limit) and the sum of every connector's own limit, each capped by its
// rating. Where nothing limits, the answer gives those ratings. The
// schedule starts now, in the unit asked for (Amperes when none is given
// and both are allowed).
func (c *Charger) getCompositeSchedule(ctx context.Context, st Station, r *GetCompositeScheduleRequest) *GetCompositeScheduleResponse {
	rejected := &GetCompositeScheduleResponse{Status: GetCompositeScheduleStatusRejected}
	units := c.cfg.ChargingRateUnits()
	unit := r.ChargingRateUnit
	if unit == "" && len(units) > 0 {
		unit = units[0]
	}
	if r.ConnectorID > c.connectors() || !slices.Contains(units, unit) {
		return rejected
	}
	snap, err := st.Status(ctx)
	if err != nil {
		c.log.Warn("ocpp16 GetCompositeSchedule: station status", "err", err)
		return rejected
	}
	now := c.clk.Now().Truncate(time.Second)
	d := secondsDuration(r.Duration)
	evalFor := max(d, time.Second) // a zero duration still answers the limit now
	u := rateUnit(unit)
	query := func(n int, phases int, purposes []smartcharging.Purpose) smartcharging.Query {
		q := smartcharging.Query{Connector: n, Start: now, Duration: evalFor, Unit: u,
			Location: c.opts.Location, Voltage: c.voltage(), Phases: phases, Purposes: purposes}
		if n > 0 {
			q.Session = sessionOf(snap.Connectors[n-1])
		}
		return q
	}
	site := math.Inf(1)
	if c.opts.SiteLimit > 0 {
		site = c.fromCurrent(c.opts.SiteLimit, u, limits.StationPhases(snap))
	}
	var curve smartcharging.Curve
	if n := r.ConnectorID; n > 0 {
		cs := snap.Connectors[n-1]
		curve = c.smart.profiles.Evaluate(query(n, cs.Phases, nil)).
			Cap(c.fromCurrent(cs.MaxCurrent, u, cs.Phases)).Cap(site)
	} else {
		own := []smartcharging.Purpose{smartcharging.PurposeTxDefault, smartcharging.PurposeTx}
		var sum []smartcharging.Curve
		for _, cs := range snap.Connectors {
			sum = append(sum, c.smart.profiles.Evaluate(query(cs.ID, cs.Phases, own)).
				Cap(c.fromCurrent(cs.MaxCurrent, u, cs.Phases)))
		}
		stationCap := c.smart.profiles.Evaluate(query(0, limits.StationPhases(snap), nil)).Cap(site)
		curve = smartcharging.Min(stationCap, smartcharging.Sum(sum...))
	}
	sched := &ChargingSchedule{
		Duration:         &r.Duration,
		StartSchedule:    NewDateTimePtr(now),
		ChargingRateUnit: unit,
	}
	for _, p := range curve.Periods() {
		sp := ChargingSchedulePeriod{StartPeriod: int(p.Start / time.Second), Limit: tenth(p.Limit)}
		if p.Phases > 0 {
			ph := p.Phases
			sp.NumberPhases = &ph
		}
		sched.ChargingSchedulePeriod = append(sched.ChargingSchedulePeriod, sp)
	}
	if len(curve.Steps) > 0 && curve.Steps[0].MinRate > 0 {
		mr := tenth(curve.Steps[0].MinRate)
		sched.MinChargingRate = &mr
	}
	n := r.ConnectorID
	return &GetCompositeScheduleResponse{
		Status: GetCompositeScheduleStatusAccepted, ConnectorID: &n,
		ScheduleStart: NewDateTimePtr(now), ChargingSchedule: sched,
	}
}

// tenth rounds v down to one decimal, exactly as the schema's multipleOf
// 0.1 wants it written (the engine's values are already multiples of 0.1,
// up to binary rounding).
func tenth(v float64) float64 { return math.Floor(v*10+1e-6) / 10 }

// voltage is the nominal phase voltage in V.
func (c *Charger) voltage() float64 {
	if c.opts.Voltage <= 0 {
		return smartcharging.DefaultVoltage
	}
	return float64(c.opts.Voltage) / float64(physic.Volt)
}

// fromCurrent converts a current per phase into unit u for phases phases.
func (c *Charger) fromCurrent(a physic.ElectricCurrent, u smartcharging.RateUnit, phases int) float64 {
	amps := float64(a) / float64(physic.Ampere)
	return smartcharging.Convert(amps, smartcharging.Amperes, u, phases, 0, c.voltage())
}

// sessionOf is a connector's running session for the engine, keyed by the
// station's session id (see the binding of Tx profiles).
func sessionOf(cs station.ConnectorSnapshot) *smartcharging.Session {
	if cs.Session == nil {
		return nil
	}
	return &smartcharging.Session{Start: cs.Session.StartedAt, TransactionID: cs.Session.ID}
}

// acceptRemoteProfile checks a RemoteStartTransaction's charging profile
// (5.11: purpose TxProfile) and keeps it for the session it starts on
// connector n.
func (c *Charger) acceptRemoteProfile(n int, idTag string, cp *ChargingProfile) error {
	if cp.ChargingProfilePurpose != ChargingProfilePurposeTxProfile {
		return errors.New("the charging profile of RemoteStartTransaction must be a TxProfile")
	}
	bare := *cp
	bare.TransactionID = nil // no transaction exists yet: the session binds it
	if err := checkPhases(bare); err != nil {
		return err
	}
	p := toProfile(n, bare)
	if err := p.Validate(c.profileLimits()); err != nil {
		return err
	}
	c.smart.mu.Lock()
	defer c.smart.mu.Unlock()
	more := c.smart.moreLocked()
	if more.remote == nil {
		more.remote = map[int]remoteProfile{}
	}
	// The start waits at most ConnectionTimeOut for a plug, and the
	// authorization at most half a minute before that.
	expires := c.clk.Now().Add(c.cfg.Duration(KeyConnectionTimeOut) + time.Minute)
	more.remote[n] = remoteProfile{idTag: idTag, profile: p, expires: expires}
	return nil
}

// sessionStartedLimits installs the TxProfile a RemoteStartTransaction
// brought for this session, and gives the station the limits of the new
// transaction (Relative profiles start now) before its energy flows.
func (c *Charger) sessionStartedLimits(ctx context.Context, s station.SessionStart) {
	var (
		rp remoteProfile
		ok bool
	)
	c.smart.mu.Lock()
	if more := c.smart.more; more != nil {
		if rp, ok = more.remote[s.Connector]; ok {
			delete(more.remote, s.Connector)
		}
	}
	c.smart.mu.Unlock()
	if ok && rp.idTag == s.IDTag && !c.clk.Now().After(rp.expires) {
		p := rp.profile
		p.TransactionID = s.SessionID
		if err := c.smart.profiles.Install(p, c.clk.Now(), c.profileLimits()); err != nil {
			c.log.Warn("ocpp16 TxProfile of RemoteStartTransaction not installed", "connector", s.Connector, "err", err)
		} else {
			c.log.Info("ocpp16 TxProfile of RemoteStartTransaction installed", "connector", s.Connector, "profile", p.ID)
		}
	}
	c.refreshLimits(ctx)
}

// sessionEndedLimits drops the connector's TxProfiles, which end with the
// transaction, and gives the station the limits without them.
func (c *Charger) sessionEndedLimits(ctx context.Context, s station.SessionEnd) {
	if n, err := c.smart.profiles.ClearTx(s.Connector); err != nil {
		c.log.Warn("ocpp16 clear TxProfiles", "connector", s.Connector, "err", err)
	} else if n > 0 {
		c.log.Info("ocpp16 TxProfiles ended with the transaction", "connector", s.Connector, "count", n)
	}
	c.refreshLimits(ctx)
}

// startLimits drops the Tx profiles whose session no longer runs (the
// process stopped between a session's end and the clearing of its
// profiles), then hands the installed profiles to the station.
func (c *Charger) startLimits(ctx context.Context) {
	st, err := c.station()
	if err != nil {
		return
	}
	snap, err := st.Status(ctx)
	if err != nil {
		return
	}
	for _, p := range c.smart.profiles.Profiles() {
		if p.Purpose != smartcharging.PurposeTx {
			continue
		}
		if n := p.Connector; n >= 1 && n <= len(snap.Connectors) {
			if s := snap.Connectors[n-1].Session; s != nil && s.ID == p.TransactionID {
				continue
			}
		}
		id := p.ID
		if _, err := c.smart.profiles.Clear(smartcharging.Filter{ID: &id}); err != nil {
			c.log.Warn("ocpp16 clear stale TxProfile", "profile", id, "err", err)
		} else {
			c.log.Info("ocpp16 TxProfile of an ended transaction cleared", "profile", id, "connector", p.Connector)
		}
	}
	c.refreshLimits(ctx)
}

// refreshLimits computes the limits of every connector and of the station
// over limitsHorizon, in amperes, hands them to the station, and arms the
// next daily computation. Without a station (or when it has stopped) it
// does nothing: the next change or Start computes them again.
func (c *Charger) refreshLimits(ctx context.Context) {
	st, err := c.station()
	if err != nil {
		return
	}
	c.smart.mu.Lock()
	defer c.smart.mu.Unlock()
	installed := c.smart.profiles.Len() > 0
	if !installed && (c.smart.more == nil || !c.smart.more.limited) {
		// Most chargers never get a profile: nothing to hand over, and no
		// daily timer to keep for it.
		return
	}
	snap, err := st.Status(ctx)
	if err != nil {
		if !errors.Is(err, station.ErrStopped) && ctx.Err() == nil {
			c.log.Warn("ocpp16 limits: station status", "err", err)
		}
		return
	}
	q := limits.Query{Start: c.clk.Now(), Duration: limitsHorizon, Location: c.opts.Location, Voltage: c.voltage()}
	if err := limits.Apply(ctx, st, snap, q, sessionOf, c.smart.profiles.Evaluate); err != nil {
		c.log.Warn("ocpp16 limits", "err", err)
		return
	}
	more := c.smart.moreLocked()
	more.limited = installed
	if !installed {
		// The station's limits are cleared: nothing to refresh.
		if more.refresh != nil {
			more.refresh.Stop()
		}
		return
	}
	// Re-armed rather than replaced, as the heartbeat's timer.
	if more.refresh != nil {
		more.refresh.Reset(limitsRefresh)
	} else {
		more.refresh = c.clk.AfterFunc(limitsRefresh, func() { c.refreshLimits(context.Background()) })
	}
}

// stopLimits disarms the daily computation.
func (c *Charger) stopLimits() {
	c.smart.mu.Lock()
	defer c.smart.mu.Unlock()
	if more := c.smart.more; more != nil && more.refresh != nil {
		more.refresh.Stop()
		more.refresh = nil
	}
}
