package ocpp201

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"periph.io/x/conn/v3/physic"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/internal/limits"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/ocppclient/smartcharging"
	"github.com/evsed/evsed/station"
)

// Smart charging (functional block K) on the version-neutral schedule
// engine (package smartcharging). The adapter maps 2.0.1's wire profiles
// onto the engine's, checks what only 2.0.1 says (K01: a TxProfile names
// the running transaction of its EVSE, a ChargingStationMaxProfile is on
// EVSE 0 and not Relative, Absolute and Recurring schedules have a
// startSchedule and Relative ones none, one schedule per profile without
// ISO 15118, no phaseToUse without Phases3to1, two profiles of one EVSE,
// purpose and stack level may not be valid at the same time), keeps the
// profile as it came for ReportChargingProfiles, and drives the station:
// after every change, at every transaction start and end, and once a day,
// it computes in amperes each EVSE's own limit (Tx or TxDefault) and the
// station's (ChargingStationMaxProfile) over limitsHorizon and hands them to
// the station (station.SetLimits), which applies each step at its boundary.
//
// TxProfiles are bound in the engine to the 2.0.1 transactionId (the
// adapter's own, known from the transaction's first event); they end with
// the transaction. The limits are in the SmartChargingCtrlr variables:
// RateUnit (the units allowed), PeriodsPerSchedule, ProfileStackLevel (the
// highest stack level), Entries (Actual: the profiles installed; its
// maxLimit the most the station holds) and Enabled (false: every
// SetChargingProfile is Rejected and the station gets no limits from
// profiles).
//
// Conversions between W and A use the nominal phase voltage
// (Options.Voltage, 230 V by default) and the EVSE's phases (see
// smartcharging.Convert).

// limitsHorizon is how far ahead the station is given its limits, and
// limitsRefresh how often they are computed again when nothing changes.
const (
	limitsHorizon = 48 * time.Hour
	limitsRefresh = 24 * time.Hour
)

// Device model variables of block K.
var (
	refSmartEnabled       = devicemodel.SmartChargingEnabled
	refSmartEntries       = devicemodel.SmartChargingEntries
	refPeriodsPerSchedule = devicemodel.PeriodsPerSchedule
	refProfileStackLevel  = devicemodel.ProfileStackLevel
	refRateUnit           = devicemodel.RateUnit
	refPhases3to1         = devicemodel.Phases3to1
)

// defaultProfilesMax is the most profiles held when the model does not
// bound SmartChargingCtrlr.Entries.
const defaultProfilesMax = 16

// smartState is the adapter's smart-charging state. Its mutex serializes
// the computation and hand-over of the limits, so that the station never
// ends up with an older computation than the latest.
type smartState struct {
	mu sync.Mutex // guards the fields below; held while limits are pushed
	// remote holds the TxProfile of an accepted RequestStartTransaction
	// until its transaction is known, by EVSE.
	remote map[int]remoteProfile
	// refresh fires the next daily computation; nil when none is armed.
	refresh clock.Timer
	// limited says the station holds limits computed from profiles.
	limited bool
}

// remoteProfile is a RequestStartTransaction's TxProfile waiting for its
// transaction.
type remoteProfile struct {
	token   string
	wire    ChargingProfile
	profile smartcharging.Profile
	expires time.Time
}

// maxLimitOf returns the maxLimit of a variable's characteristics, or def.
func maxLimitOf(vars *devicemodel.Model, r devicemodel.Ref, def int) int {
	for _, d := range vars.Definitions() {
		if sameVar(devicemodel.RefOf(d.Component, d.Variable), r) && d.Characteristics.MaxLimit != nil {
			return int(*d.Characteristics.MaxLimit)
		}
	}
	return def
}

// profileLimits are the SmartChargingCtrlr variables as smartcharging.Limits.
func (c *Charger) profileLimits() smartcharging.Limits {
	l := smartcharging.Limits{
		MaxStackLevel: c.intVar(refProfileStackLevel),
		MaxPeriods:    c.intVar(refPeriodsPerSchedule),
		MaxInstalled:  c.profilesMax,
	}
	for _, u := range c.listVar(refRateUnit) {
		l.Units = append(l.Units, rateUnit(ChargingRateUnit(u)))
	}
	return l
}

// rateUnits are the units RateUnit allows, in its order.
func (c *Charger) rateUnits() []ChargingRateUnit {
	var out []ChargingRateUnit
	for _, u := range c.listVar(refRateUnit) {
		if v := ChargingRateUnit(u); v.IsValid() {
			out = append(out, v)
		}
	}
	return out
}

// rateUnit maps a 2.0.1 unit to the engine's.
func rateUnit(u ChargingRateUnit) smartcharging.RateUnit {
	if u == ChargingRateUnitW {
		return smartcharging.Watts
	}
	return smartcharging.Amperes
}

func secondsDuration(s int) time.Duration { return time.Duration(s) * time.Second }

// toProfile maps a 2.0.1 charging profile set on EVSE evse, checking the
// rules of K01 that the engine does not know. The transaction binding is
// the caller's.
func (c *Charger) toProfile(evse int, p ChargingProfile) (smartcharging.Profile, error) {
	out := smartcharging.Profile{ID: p.ID, Connector: evse, StackLevel: p.StackLevel}
	switch p.ChargingProfilePurpose {
	case ChargingProfilePurposeChargingStationMaxProfile:
		out.Purpose = smartcharging.PurposeStationMax
		if evse != 0 {
			return out, errors.New("a ChargingStationMaxProfile is set on EVSE 0")
		}
		if p.ChargingProfileKind == ChargingProfileKindRelative {
			return out, errors.New("a ChargingStationMaxProfile cannot be Relative")
		}
	case ChargingProfilePurposeTxDefaultProfile:
		out.Purpose = smartcharging.PurposeTxDefault
	case ChargingProfilePurposeTxProfile:
		out.Purpose = smartcharging.PurposeTx
		if evse == 0 {
			return out, errors.New("a TxProfile needs an EVSE")
		}
	default:
		return out, fmt.Errorf("purpose %s cannot be set by the CSMS", p.ChargingProfilePurpose)
	}
	if p.TransactionID != "" && out.Purpose != smartcharging.PurposeTx {
		return out, errors.New("transactionId is only for TxProfile")
	}
	if len(p.ChargingSchedule) != 1 {
		return out, errors.New("one charging schedule per profile (more are for ISO 15118)")
	}
	s := p.ChargingSchedule[0]
	switch p.ChargingProfileKind {
	case ChargingProfileKindAbsolute:
		out.Kind = smartcharging.KindAbsolute
	case ChargingProfileKindRecurring:
		out.Kind = smartcharging.KindRecurring
	case ChargingProfileKindRelative:
		out.Kind = smartcharging.KindRelative
	}
	if (out.Kind == smartcharging.KindRelative) == (s.StartSchedule != nil) {
		return out, errors.New("Absolute and Recurring schedules need a startSchedule, Relative ones none")
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
			if *sp.NumberPhases < 1 || *sp.NumberPhases > 3 {
				return out, errors.New("numberPhases must be 1, 2 or 3")
			}
			pp.Phases = *sp.NumberPhases
		}
		if sp.PhaseToUse != nil && (!c.boolVar(refPhases3to1) || sp.NumberPhases == nil || *sp.NumberPhases != 1) {
			return out, errors.New("phaseToUse needs numberPhases 1 and Phases3to1")
		}
		out.Schedule.Periods = append(out.Schedule.Periods, pp)
	}
	return out, out.Validate(c.profileLimits())
}

// overlaps reports whether a and b are valid at a common instant.
func overlaps(a, b smartcharging.Profile) bool {
	return (a.ValidTo.IsZero() || b.ValidFrom.IsZero() || b.ValidFrom.Before(a.ValidTo)) &&
		(b.ValidTo.IsZero() || a.ValidFrom.IsZero() || a.ValidFrom.Before(b.ValidTo))
}

// conflict returns the installed profile p may not stand beside: another
// id on the same EVSE, purpose and stack level (a TxProfile: of the same
// transaction) valid at the same time (K01.FR.39).
func (c *Charger) conflict(p smartcharging.Profile) (int, bool) {
	for _, q := range c.smart.Profiles() {
		if q.ID != p.ID && q.Connector == p.Connector && q.Purpose == p.Purpose && q.StackLevel == p.StackLevel &&
			(p.Purpose != smartcharging.PurposeTx || q.TransactionID == p.TransactionID) && overlaps(p, q) {
			return q.ID, true
		}
	}
	return 0, false
}

// setChargingProfile answers a SetChargingProfile (K01).
func (c *Charger) setChargingProfile(ctx context.Context, _ Station, r *SetChargingProfileRequest) any {
	cp := r.ChargingProfile
	log := c.log.With("evse", r.EVSEID, "profile", cp.ID, "purpose", cp.ChargingProfilePurpose)
	rejected := func(code, why string) *SetChargingProfileResponse {
		log.Info("ocpp201 SetChargingProfile rejected", "why", why)
		return &SetChargingProfileResponse{Status: ChargingProfileStatusRejected, StatusInfo: statusInfo(code, why)}
	}
	if !c.boolVar(refSmartEnabled) {
		return rejected("NotEnabled", "smart charging is disabled (SmartChargingCtrlr.Enabled)")
	}
	if r.EVSEID < 0 || r.EVSEID > c.opts.NumEVSEs {
		return rejected("UnknownEvse", "no such EVSE")
	}
	p, err := c.toProfile(r.EVSEID, cp)
	if err != nil {
		return rejected("InvalidProfile", err.Error())
	}
	if p.Purpose == smartcharging.PurposeTx {
		if cp.TransactionID == "" {
			return rejected("TxNotFound", "a TxProfile needs the transactionId of the EVSE's transaction")
		}
		if open := c.openTransaction(r.EVSEID); open != cp.TransactionID {
			return rejected("TxNotFound", "transaction "+cp.TransactionID+" is not running on the EVSE")
		}
		p.TransactionID = cp.TransactionID
	}
	if err := c.installProfile(p, r.EVSEID, cp); err != nil {
		return rejected("InvalidProfile", err.Error())
	}
	log.Info("ocpp201 charging profile installed", "stackLevel", cp.StackLevel, "kind", cp.ChargingProfileKind)
	c.refreshLimits(ctx)
	return &SetChargingProfileResponse{Status: ChargingProfileStatusAccepted}
}

// installProfile installs p (the wire form cp, set on evse) after the
// checks every installation shares, and keeps cp for reports.
func (c *Charger) installProfile(p smartcharging.Profile, evse int, cp ChargingProfile) error {
	if id, bad := c.conflict(p); bad {
		return fmt.Errorf("profile %d has the same EVSE, purpose and stack level and overlapping validity", id)
	}
	// Expired profiles can never apply again: they must not count
	// against the Entries bound.
	if _, err := c.smart.ClearExpired(c.clk.Now()); err != nil {
		c.log.Warn("ocpp201 clear expired charging profiles", "err", err)
	}
	if err := c.smart.Install(p, c.clk.Now(), c.profileLimits()); err != nil {
		return err
	}
	if err := c.store.syncProfiles(c.smart.Profiles(), &storedProfile{EVSE: evse, Profile: cp}); err != nil {
		c.log.Warn("ocpp201 keep charging profile for reports", "profile", cp.ID, "err", err)
	}
	return nil
}

// smartEntries is the Actual value of SmartChargingCtrlr.Entries, read
// live so that keeping it costs no commit.
func (c *Charger) smartEntries() string { return strconv.Itoa(c.smart.Len()) }

// afterClear forgets the wire forms of cleared profiles.
func (c *Charger) afterClear() {
	if err := c.store.syncProfiles(c.smart.Profiles(), nil); err != nil {
		c.log.Warn("ocpp201 forget cleared charging profiles", "err", err)
	}
}

// purposeOf maps a wire purpose for filters; ok false for one the engine
// does not hold (ChargingStationExternalConstraints).
func purposeOf(p ChargingProfilePurpose) (smartcharging.Purpose, bool) {
	switch p {
	case "":
		return 0, true
	case ChargingProfilePurposeChargingStationMaxProfile:
		return smartcharging.PurposeStationMax, true
	case ChargingProfilePurposeTxDefaultProfile:
		return smartcharging.PurposeTxDefault, true
	case ChargingProfilePurposeTxProfile:
		return smartcharging.PurposeTx, true
	}
	return 0, false
}

// clearChargingProfile answers a ClearChargingProfile (K10): the profile
// with the id given, else every profile matching all criteria given.
func (c *Charger) clearChargingProfile(ctx context.Context, r *ClearChargingProfileRequest) any {
	unknown := &ClearChargingProfileResponse{Status: ClearChargingProfileStatusUnknown}
	f := smartcharging.Filter{ID: r.ChargingProfileID}
	if cr := r.ChargingProfileCriteria; cr != nil && f.ID == nil {
		purpose, ok := purposeOf(cr.ChargingProfilePurpose)
		if !ok {
			return unknown
		}
		f.Connector, f.Purpose, f.StackLevel = cr.EVSEID, purpose, cr.StackLevel
	}
	n, err := c.smart.Clear(f)
	if err != nil {
		c.log.Warn("ocpp201 ClearChargingProfile", "err", err)
	}
	if n == 0 {
		return unknown
	}
	c.log.Info("ocpp201 charging profiles cleared", "count", n)
	c.afterClear()
	c.refreshLimits(ctx)
	return &ClearChargingProfileResponse{Status: ClearChargingProfileStatusAccepted}
}

// getChargingProfiles answers a GetChargingProfiles (K09): NoProfiles when
// none matches, else Accepted and, after the answer, the profiles in
// ReportChargingProfiles messages, one per EVSE, tbc on all but the last.
// Every profile here was set by the CSMS: chargingLimitSource CSO.
func (c *Charger) getChargingProfiles(r *GetChargingProfilesRequest) any {
	none := &GetChargingProfilesResponse{Status: GetChargingProfileStatusNoProfiles}
	cr := r.ChargingProfile
	if len(cr.ChargingLimitSource) > 0 && !slices.Contains(cr.ChargingLimitSource, ChargingLimitSourceCSO) {
		return none
	}
	purpose, ok := purposeOf(cr.ChargingProfilePurpose)
	if !ok {
		return none
	}
	wire, err := c.store.storedProfiles()
	if err != nil {
		c.log.Warn("ocpp201 GetChargingProfiles", "err", err)
	}
	byEVSE := map[int][]ChargingProfile{}
	var evses []int
	for _, p := range c.smart.Profiles() {
		switch {
		case r.EVSEID != nil && p.Connector != *r.EVSEID,
			purpose != 0 && p.Purpose != purpose,
			cr.StackLevel != nil && p.StackLevel != *cr.StackLevel,
			len(cr.ChargingProfileID) > 0 && !slices.Contains(cr.ChargingProfileID, p.ID):
			continue
		}
		w, ok := wire[p.ID]
		if !ok {
			w = storedProfile{EVSE: p.Connector, Profile: fromProfile(p)}
		}
		if _, seen := byEVSE[p.Connector]; !seen {
			evses = append(evses, p.Connector)
		}
		byEVSE[p.Connector] = append(byEVSE[p.Connector], w.Profile)
	}
	if len(evses) == 0 {
		return none
	}
	slices.Sort(evses)
	id := r.RequestID
	return ocppclient.WithFollowUp(&GetChargingProfilesResponse{Status: GetChargingProfileStatusAccepted}, func(ctx context.Context) {
		for i, n := range evses {
			req := &ReportChargingProfilesRequest{RequestID: id, ChargingLimitSource: ChargingLimitSourceCSO,
				ChargingProfile: byEVSE[n], EVSEID: n}
			if i < len(evses)-1 {
				t := true
				req.Tbc = &t
			}
			if err := c.sendNow(ctx, ActionReportChargingProfiles, req, &ReportChargingProfilesResponse{}); err != nil {
				c.log.Warn("ocpp201 ReportChargingProfiles", "requestId", id, "evse", n, "err", err)
				return
			}
		}
	})
}

// fromProfile rebuilds a wire profile from the engine's, for a profile
// whose wire form was not kept.
func fromProfile(p smartcharging.Profile) ChargingProfile {
	out := ChargingProfile{ID: p.ID, StackLevel: p.StackLevel, TransactionID: p.TransactionID}
	switch p.Purpose {
	case smartcharging.PurposeStationMax:
		out.ChargingProfilePurpose = ChargingProfilePurposeChargingStationMaxProfile
	case smartcharging.PurposeTxDefault:
		out.ChargingProfilePurpose = ChargingProfilePurposeTxDefaultProfile
	default:
		out.ChargingProfilePurpose = ChargingProfilePurposeTxProfile
	}
	switch p.Kind {
	case smartcharging.KindRecurring:
		out.ChargingProfileKind = ChargingProfileKindRecurring
	case smartcharging.KindRelative:
		out.ChargingProfileKind = ChargingProfileKindRelative
	default:
		out.ChargingProfileKind = ChargingProfileKindAbsolute
	}
	switch p.Recurrency {
	case smartcharging.RecurDaily:
		out.RecurrencyKind = RecurrencyKindDaily
	case smartcharging.RecurWeekly:
		out.RecurrencyKind = RecurrencyKindWeekly
	}
	if !p.ValidFrom.IsZero() {
		out.ValidFrom = NewDateTimePtr(p.ValidFrom)
	}
	if !p.ValidTo.IsZero() {
		out.ValidTo = NewDateTimePtr(p.ValidTo)
	}
	s := ChargingSchedule{ID: p.ID, ChargingRateUnit: ChargingRateUnitA}
	if p.Schedule.Unit == smartcharging.Watts {
		s.ChargingRateUnit = ChargingRateUnitW
	}
	if !p.Schedule.Start.IsZero() {
		s.StartSchedule = NewDateTimePtr(p.Schedule.Start)
	}
	if p.Schedule.Duration > 0 {
		d := int(p.Schedule.Duration / time.Second)
		s.Duration = &d
	}
	if p.Schedule.MinRate > 0 {
		m := p.Schedule.MinRate
		s.MinChargingRate = &m
	}
	for _, pe := range p.Schedule.Periods {
		sp := ChargingSchedulePeriod{StartPeriod: int(pe.Start / time.Second), Limit: pe.Limit}
		if pe.Phases > 0 {
			ph := pe.Phases
			sp.NumberPhases = &ph
		}
		s.ChargingSchedulePeriod = append(s.ChargingSchedulePeriod, sp)
	}
	out.ChargingSchedule = []ChargingSchedule{s}
	return out
}

// getCompositeSchedule answers a GetCompositeSchedule (K08): for EVSE n,
// the lower of the station's limit and the EVSE's own, capped by its
// rating and the site limit; for EVSE 0, the total the grid connection
// may expect: the lower of the station's limit (and the site limit) and
// the sum of every EVSE's own limit, each capped by its rating. The
// schedule starts now, in the unit asked for (the first of RateUnit when
// none is given).
func (c *Charger) getCompositeSchedule(ctx context.Context, st Station, r *GetCompositeScheduleRequest) any {
	rejected := func(code, why string) *GetCompositeScheduleResponse {
		return &GetCompositeScheduleResponse{Status: GenericStatusRejected, StatusInfo: statusInfo(code, why)}
	}
	units := c.rateUnits()
	unit := r.ChargingRateUnit
	if unit == "" && len(units) > 0 {
		unit = units[0]
	}
	switch {
	case r.EVSEID < 0 || r.EVSEID > c.opts.NumEVSEs:
		return rejected("UnknownEvse", "no such EVSE")
	case !slices.Contains(units, unit):
		return rejected("UnsupportedRateUnit", "the rate unit is not among SmartChargingCtrlr.RateUnit")
	}
	snap, err := st.Status(ctx)
	if err != nil {
		c.log.Warn("ocpp201 GetCompositeSchedule: station status", "err", err)
		return rejected("InternalError", "station status unavailable")
	}
	now := c.clk.Now().Truncate(time.Second)
	evalFor := max(secondsDuration(r.Duration), time.Second) // a zero duration still answers the limit now
	u := rateUnit(unit)
	sessions := c.txSessions()
	profiles := c.activeProfiles()
	query := func(n, phases int, purposes []smartcharging.Purpose) smartcharging.Query {
		return smartcharging.Query{Connector: n, Start: now, Duration: evalFor, Unit: u, Location: c.opts.Location,
			Voltage: c.voltage(), Phases: phases, Purposes: purposes, Session: sessions[n]}
	}
	site := math.Inf(1)
	if c.opts.SiteLimit > 0 {
		site = c.fromCurrent(c.opts.SiteLimit, u, limits.StationPhases(snap))
	}
	var curve smartcharging.Curve
	if n := r.EVSEID; n > 0 {
		cs, ok := connectorOf(snap, n)
		if !ok {
			return rejected("UnknownEvse", "the station does not report the EVSE")
		}
		curve = smartcharging.Evaluate(profiles, query(n, cs.Phases, nil)).Cap(c.fromCurrent(cs.MaxCurrent, u, cs.Phases)).Cap(site)
	} else {
		own := []smartcharging.Purpose{smartcharging.PurposeTxDefault, smartcharging.PurposeTx}
		var sum []smartcharging.Curve
		for _, cs := range snap.Connectors {
			sum = append(sum, smartcharging.Evaluate(profiles, query(cs.ID, cs.Phases, own)).Cap(c.fromCurrent(cs.MaxCurrent, u, cs.Phases)))
		}
		stationCap := smartcharging.Evaluate(profiles, query(0, limits.StationPhases(snap), nil)).Cap(site)
		curve = smartcharging.Min(stationCap, smartcharging.Sum(sum...))
	}
	sched := &CompositeSchedule{EVSEID: r.EVSEID, Duration: r.Duration, ScheduleStart: NewDateTime(now), ChargingRateUnit: unit}
	for _, p := range curve.Periods() {
		limit := tenth(p.Limit)
		if math.IsInf(p.Limit, 1) {
			limit = 0 // only with no connector rating; never reached with a station
		}
		sp := ChargingSchedulePeriod{StartPeriod: int(p.Start / time.Second), Limit: limit}
		if p.Phases > 0 {
			ph := p.Phases
			sp.NumberPhases = &ph
		}
		sched.ChargingSchedulePeriod = append(sched.ChargingSchedulePeriod, sp)
	}
	if len(sched.ChargingSchedulePeriod) == 0 {
		return rejected("NoSchedule", "no schedule could be computed")
	}
	return &GetCompositeScheduleResponse{Status: GenericStatusAccepted, Schedule: sched}
}

// connectorOf returns connector n of a snapshot.
func connectorOf(snap station.Snapshot, n int) (station.ConnectorSnapshot, bool) {
	for _, cs := range snap.Connectors {
		if cs.ID == n {
			return cs, true
		}
	}
	return station.ConnectorSnapshot{}, false
}

// tenth rounds v down to one decimal (OCPP limits have one), allowing for
// binary rounding of values that are already multiples of 0.1.
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
	return smartcharging.Convert(float64(a)/float64(physic.Ampere), smartcharging.Amperes, u, phases, 0, c.voltage())
}

// activeProfiles are the profiles the limits come from: none while
// SmartChargingCtrlr.Enabled is false.
func (c *Charger) activeProfiles() []smartcharging.Profile {
	if !c.boolVar(refSmartEnabled) {
		return nil
	}
	return c.smart.Profiles()
}

// txSessions returns the open transaction of each EVSE for the engine,
// keyed by EVSE id. It takes txMu.
func (c *Charger) txSessions() map[int]*smartcharging.Session {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	out := map[int]*smartcharging.Session{}
	for n, e := range c.evses {
		if e != nil && e.tx != nil {
			out[n] = &smartcharging.Session{Start: e.tx.started, TransactionID: e.tx.id}
		}
	}
	return out
}

// acceptRemoteProfile checks a RequestStartTransaction's charging profile
// (F01: a TxProfile without a transactionId) and keeps it for the
// transaction the start begins on EVSE n. With smart charging disabled
// the profile is ignored.
func (c *Charger) acceptRemoteProfile(n int, token string, cp *ChargingProfile) error {
	if !c.boolVar(refSmartEnabled) {
		c.log.Info("ocpp201 charging profile of RequestStartTransaction ignored: smart charging disabled", "evse", n)
		return nil
	}
	if cp.ChargingProfilePurpose != ChargingProfilePurposeTxProfile {
		return errors.New("the charging profile of RequestStartTransaction must be a TxProfile")
	}
	if cp.TransactionID != "" {
		return errors.New("no transaction exists yet: transactionId must be absent")
	}
	p, err := c.toProfile(n, *cp)
	if err != nil {
		return err
	}
	c.sc.mu.Lock()
	defer c.sc.mu.Unlock()
	if c.sc.remote == nil {
		c.sc.remote = map[int]remoteProfile{}
	}
	// The start waits at most EVConnectionTimeOut for a plug.
	expires := c.clk.Now().Add(c.seconds(refEVConnectionTimeOut) + time.Minute)
	c.sc.remote[n] = remoteProfile{token: token, wire: *cp, profile: p, expires: expires}
	return nil
}

// transactionLimits installs the TxProfile a RequestStartTransaction
// brought for the transaction txID now authorized by token on EVSE n (""
// when none is open), and gives the station the limits before its energy
// flows. txMu is not held.
func (c *Charger) transactionLimits(ctx context.Context, n int, token, txID string) {
	c.sc.mu.Lock()
	rp, ok := c.sc.remote[n]
	if ok && txID != "" {
		delete(c.sc.remote, n)
	}
	c.sc.mu.Unlock()
	if ok && txID != "" && rp.token == token && !c.clk.Now().After(rp.expires) {
		p := rp.profile
		p.TransactionID = txID
		wire := rp.wire
		wire.TransactionID = txID
		if err := c.installProfile(p, n, wire); err != nil {
			c.log.Warn("ocpp201 TxProfile of RequestStartTransaction not installed", "evse", n, "err", err)
		} else {
			c.log.Info("ocpp201 TxProfile of RequestStartTransaction installed", "evse", n, "profile", p.ID)
		}
	}
	c.refreshLimits(ctx)
}

// transactionEndedLimits drops the TxProfiles of an ended transaction and
// gives the station the limits without them. txMu is not held.
func (c *Charger) transactionEndedLimits(ctx context.Context, txID string) {
	cleared := 0
	for _, p := range c.smart.Profiles() {
		if p.Purpose != smartcharging.PurposeTx || p.TransactionID != txID {
			continue
		}
		id := p.ID
		if n, err := c.smart.Clear(smartcharging.Filter{ID: &id}); err != nil {
			c.log.Warn("ocpp201 clear TxProfile", "profile", id, "err", err)
		} else {
			cleared += n
		}
	}
	if cleared > 0 {
		c.log.Info("ocpp201 TxProfiles ended with the transaction", "transactionId", txID, "count", cleared)
		c.afterClear()
	}
	c.refreshLimits(ctx)
}

// applyAllLimits drops the TxProfiles whose transaction is no longer open
// (the process stopped between a transaction's end and the clearing of its
// profiles), then hands the installed profiles to the station.
func (c *Charger) applyAllLimits(ctx context.Context) {
	open := c.txSessions()
	cleared := 0
	for _, p := range c.smart.Profiles() {
		if p.Purpose != smartcharging.PurposeTx {
			continue
		}
		if s := open[p.Connector]; s != nil && s.TransactionID == p.TransactionID {
			continue
		}
		id := p.ID
		if n, err := c.smart.Clear(smartcharging.Filter{ID: &id}); err == nil {
			cleared += n
		}
	}
	if cleared > 0 {
		c.afterClear()
	}
	c.refreshLimits(ctx)
}

// refreshLimits computes the limits of every EVSE and of the station over
// limitsHorizon, in amperes, hands them to the station, and arms the next
// daily computation. Without a station it does nothing. txMu is not held.
func (c *Charger) refreshLimits(ctx context.Context) {
	st, err := c.station()
	if err != nil {
		return
	}
	c.sc.mu.Lock()
	defer c.sc.mu.Unlock()
	profiles := c.activeProfiles()
	installed := len(profiles) > 0
	if !installed && !c.sc.limited {
		return // nothing to hand over, and no daily timer to keep
	}
	snap, err := st.Status(ctx)
	if err != nil {
		if !errors.Is(err, station.ErrStopped) && ctx.Err() == nil {
			c.log.Warn("ocpp201 limits: station status", "err", err)
		}
		return
	}
	sessions := c.txSessions()
	q := limits.Query{Start: c.clk.Now(), Duration: limitsHorizon, Location: c.opts.Location, Voltage: c.voltage()}
	session := func(cs station.ConnectorSnapshot) *smartcharging.Session { return sessions[cs.ID] }
	eval := func(q smartcharging.Query) smartcharging.Curve { return smartcharging.Evaluate(profiles, q) }
	if err := limits.Apply(ctx, st, snap, q, session, eval); err != nil {
		c.log.Warn("ocpp201 limits", "err", err)
		return
	}
	c.sc.limited = installed
	if !installed {
		if c.sc.refresh != nil {
			c.sc.refresh.Stop()
		}
		return
	}
	if c.sc.refresh != nil {
		c.sc.refresh.Reset(limitsRefresh)
	} else {
		c.sc.refresh = c.clk.AfterFunc(limitsRefresh, func() { c.refreshLimits(c.runContext()) })
	}
}

// stopLimits disarms the daily computation.
func (c *Charger) stopLimits() {
	c.sc.mu.Lock()
	defer c.sc.mu.Unlock()
	if c.sc.refresh != nil {
		c.sc.refresh.Stop()
		c.sc.refresh = nil
	}
}
