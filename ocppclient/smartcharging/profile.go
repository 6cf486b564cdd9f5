package smartcharging

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Errors of Validate, Store.Install and OpenStore. They are wrapped with
// detail (the profile id and what is wrong); test with errors.Is. Every
// error of Validate wraps ErrInvalid and one of the more specific
// sentinels below it, so that an adapter may answer all of them alike
// (1.6 SetChargingProfile Rejected) or tell them apart.
var (
	// ErrInvalid: the profile breaks one of the rules of Validate.
	ErrInvalid = errors.New("smartcharging: invalid profile")

	// ErrPurpose: the purpose, the kind or the recurrency is none of the
	// known values.
	ErrPurpose = errors.New("unknown purpose, kind or recurrency")
	// ErrConnector: a negative connector, a StationMax profile on a
	// connector other than 0, or a Tx profile on connector 0.
	ErrConnector = errors.New("connector not allowed")
	// ErrStackLevel: the stack level is negative or above
	// Limits.MaxStackLevel.
	ErrStackLevel = errors.New("stack level out of range")
	// ErrUnit: the rate unit is not among Limits.Units.
	ErrUnit = errors.New("rate unit not allowed")
	// ErrPeriods: no period, more than Limits.MaxPeriods, a first period
	// not starting at 0, start offsets not strictly increasing, or a
	// number of phases outside 0..3.
	ErrPeriods = errors.New("bad periods")
	// ErrLimit: a limit or the minimum rate is negative, infinite or NaN.
	ErrLimit = errors.New("bad limit")
	// ErrRecurrence: a Recurring profile without a start or a recurrency,
	// or a recurrency on a profile that is not Recurring.
	ErrRecurrence = errors.New("bad recurrence")
	// ErrValidity: ValidTo not after ValidFrom, or a negative duration.
	ErrValidity = errors.New("bad validity or duration")
	// ErrTransaction: a transaction binding on a profile whose purpose is
	// not Tx.
	ErrTransaction = errors.New("transaction id on a profile that is not Tx")

	// ErrTooMany: installing the profile would leave more than
	// Limits.MaxInstalled profiles installed (counted after the
	// replacement). It does not wrap ErrInvalid: the profile is fine, the
	// store is full.
	ErrTooMany = errors.New("smartcharging: too many profiles installed")
	// ErrCorrupt: the store's bucket holds data this package did not
	// write, or a storage format it does not know.
	ErrCorrupt = errors.New("smartcharging: corrupt store")
)

// Purpose is what a profile limits. The zero Purpose is none of them:
// Validate refuses it, and a Filter reads it as "any purpose".
type Purpose uint8

// Purposes, in OCPP's terms.
const (
	// PurposeStationMax caps the station as a whole (1.6
	// ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile). It is
	// installed on connector 0 only.
	PurposeStationMax Purpose = iota + 1
	// PurposeTxDefault is the default for new and running transactions,
	// of one connector or, on connector 0, of every connector (1.6
	// TxDefaultProfile, 2.0.1 TxDefaultProfile).
	PurposeTxDefault
	// PurposeTx limits the running transaction of one connector (1.6
	// TxProfile, 2.0.1 TxProfile). It is never on connector 0.
	PurposeTx
)

// String returns a short name of p, for logs and errors.
func (p Purpose) String() string {
	switch p {
	case PurposeStationMax:
		return "StationMax"
	case PurposeTxDefault:
		return "TxDefault"
	case PurposeTx:
		return "Tx"
	}
	return fmt.Sprintf("Purpose(%d)", uint8(p))
}

// Kind says where a profile's schedule starts. The zero Kind is none of
// them.
type Kind uint8

// Kinds of profile.
const (
	// KindAbsolute starts at Schedule.Start, or when it is not given at
	// Profile.Installed.
	KindAbsolute Kind = iota + 1
	// KindRecurring starts at Schedule.Start and starts again every day or
	// week (Profile.Recurrency) at the same local wall-clock time.
	KindRecurring
	// KindRelative starts when the connector's transaction starts;
	// Schedule.Start is ignored.
	KindRelative
)

// String returns the OCPP name of k.
func (k Kind) String() string {
	switch k {
	case KindAbsolute:
		return "Absolute"
	case KindRecurring:
		return "Recurring"
	case KindRelative:
		return "Relative"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Recurrency is how often a Recurring profile starts again. The zero value,
// RecurNone, is the only one allowed on profiles of other kinds.
type Recurrency uint8

// Recurrencies.
const (
	// RecurNone: the profile does not recur.
	RecurNone Recurrency = iota
	// RecurDaily: every day, at the local wall-clock time of the start.
	RecurDaily
	// RecurWeekly: every week, on the weekday and at the local wall-clock
	// time of the start.
	RecurWeekly
)

// String returns the OCPP name of r ("" for RecurNone).
func (r Recurrency) String() string {
	switch r {
	case RecurNone:
		return ""
	case RecurDaily:
		return "Daily"
	case RecurWeekly:
		return "Weekly"
	}
	return fmt.Sprintf("Recurrency(%d)", uint8(r))
}

// RateUnit is the unit of a schedule's limits. The zero RateUnit is none of
// them: Validate refuses it, and a Query reads it as Amperes.
//
// Limits are plain float64 values rather than typed quantities because
// their unit is data: a CSMS chooses it per schedule, and a Curve carries
// the unit its numbers are in.
type RateUnit uint8

// Rate units.
const (
	// Amperes: a current per phase, in A (OCPP "A").
	Amperes RateUnit = iota + 1
	// Watts: a power over all phases together, in W (OCPP "W").
	Watts
)

// String returns the OCPP name of u ("A" or "W").
func (u RateUnit) String() string {
	switch u {
	case Amperes:
		return "A"
	case Watts:
		return "W"
	}
	return fmt.Sprintf("RateUnit(%d)", uint8(u))
}

// Period is one step of a schedule: from Start on (until the next period's
// Start, or the end of the schedule) the rate is at most Limit.
type Period struct {
	// Start is the offset from the start of the schedule; the first
	// period starts at 0. OCPP counts it in whole seconds.
	Start time.Duration
	// Limit is the highest rate, in the schedule's unit (A per phase or W
	// in total).
	Limit float64
	// Phases is the number of phases the EV may use (1.6 numberPhases);
	// 0 when not given, which OCPP reads as 3.
	Phases int
}

// Schedule is a profile's charging schedule.
type Schedule struct {
	// Start is the start of an Absolute or Recurring schedule (OCPP
	// startSchedule); the zero Time when not given. Relative schedules
	// ignore it.
	Start time.Time
	// Duration is how long the schedule lasts from its start; 0 when not
	// given: the last period then lasts until the profile's validity ends
	// or, for a Recurring profile, until the next recurrence.
	Duration time.Duration
	// Unit is the unit of Limit and MinRate.
	Unit RateUnit
	// Periods are the steps, in order of Start. Validate requires at least
	// one, the first starting at 0.
	Periods []Period
	// MinRate is the lowest rate the EV charges at efficiently, in Unit
	// (OCPP minChargingRate); 0 when not given.
	MinRate float64
}

// Profile is a charging profile, in the terms both OCPP versions share.
// The adapters translate their wire types to and from it.
type Profile struct {
	// ID identifies the profile (1.6 chargingProfileId, 2.0.1 id).
	ID int
	// Connector is the connector (2.0.1: EVSE) the profile is installed
	// on; 0 is the station as a whole.
	Connector int
	// StackLevel orders profiles of one purpose: the highest that applies
	// wins. It is at least 0.
	StackLevel int
	// Purpose is what the profile limits.
	Purpose Purpose
	// Kind says where the schedule starts.
	Kind Kind
	// Recurrency is set for Recurring profiles only.
	Recurrency Recurrency
	// ValidFrom and ValidTo bound when the profile applies, ValidFrom
	// included and ValidTo excluded; the zero Time leaves that side open.
	ValidFrom, ValidTo time.Time
	// TransactionID binds a Tx profile to one transaction; "" binds it to
	// whatever transaction runs on its connector. Only Tx profiles carry
	// one. (1.6 transaction ids are integers; the adapter formats them.)
	TransactionID string
	// Schedule is the profile's charging schedule.
	Schedule Schedule
	// Installed is when the profile was installed; it anchors an Absolute
	// schedule that has no Start. Store.Install sets it.
	Installed time.Time
}

// Limits are the station's bounds on profiles, which the adapter takes
// from its configuration (1.6 ChargeProfileMaxStackLevel,
// ChargingScheduleMaxPeriods, MaxChargingProfilesInstalled,
// ChargingScheduleAllowedChargingRateUnit; 2.0.1 the SmartChargingCtrlr
// variables). Every field is taken literally: the zero Limits admits no
// profile, so that a forgotten field fails closed instead of letting a
// CSMS fill the flash.
type Limits struct {
	// MaxStackLevel is the highest stack level allowed.
	MaxStackLevel int
	// MaxPeriods is the most periods a schedule may have.
	MaxPeriods int
	// MaxInstalled is the most profiles the Store holds; Validate does not
	// use it.
	MaxInstalled int
	// Units are the rate units allowed.
	Units []RateUnit
}

// Validate checks p against the rules both OCPP versions share and against
// l (see the package documentation); the error wraps ErrInvalid and a more
// specific sentinel. It does not check whether a Tx profile's connector has
// a transaction, nor Limits.MaxInstalled: the former is the adapter's to
// know, the latter the Store's.
func (p Profile) Validate(l Limits) error {
	bad := func(kind error, format string, args ...any) error {
		return fmt.Errorf("%w: profile %d: %w: %s", ErrInvalid, p.ID, kind, fmt.Sprintf(format, args...))
	}
	switch {
	case p.Purpose < PurposeStationMax || p.Purpose > PurposeTx:
		return bad(ErrPurpose, "purpose %d", uint8(p.Purpose))
	case p.Kind < KindAbsolute || p.Kind > KindRelative:
		return bad(ErrPurpose, "kind %d", uint8(p.Kind))
	case p.Recurrency > RecurWeekly:
		return bad(ErrPurpose, "recurrency %d", uint8(p.Recurrency))
	case p.Connector < 0:
		return bad(ErrConnector, "connector %d", p.Connector)
	case p.Purpose == PurposeStationMax && p.Connector != 0:
		return bad(ErrConnector, "a StationMax profile on connector %d, not 0", p.Connector)
	case p.Purpose == PurposeTx && p.Connector == 0:
		return bad(ErrConnector, "a Tx profile on connector 0")
	case p.TransactionID != "" && p.Purpose != PurposeTx:
		return bad(ErrTransaction, "transaction %q on a %s profile", p.TransactionID, p.Purpose)
	case p.StackLevel < 0 || p.StackLevel > l.MaxStackLevel:
		return bad(ErrStackLevel, "stack level %d, allowed 0..%d", p.StackLevel, l.MaxStackLevel)
	case p.Kind == KindRecurring && p.Recurrency == RecurNone:
		return bad(ErrRecurrence, "a Recurring profile without a recurrency")
	case p.Kind == KindRecurring && p.Schedule.Start.IsZero():
		return bad(ErrRecurrence, "a Recurring profile without a start")
	case p.Kind != KindRecurring && p.Recurrency != RecurNone:
		return bad(ErrRecurrence, "recurrency %s on a %s profile", p.Recurrency, p.Kind)
	case !p.ValidFrom.IsZero() && !p.ValidTo.IsZero() && !p.ValidTo.After(p.ValidFrom):
		return bad(ErrValidity, "validTo %s not after validFrom %s", p.ValidTo.Format(time.RFC3339), p.ValidFrom.Format(time.RFC3339))
	case p.Schedule.Duration < 0:
		return bad(ErrValidity, "negative duration %s", p.Schedule.Duration)
	case !slices.Contains(l.Units, p.Schedule.Unit):
		return bad(ErrUnit, "unit %s, allowed %v", p.Schedule.Unit, l.Units)
	case !validRate(p.Schedule.MinRate):
		return bad(ErrLimit, "minimum rate %v", p.Schedule.MinRate)
	}
	ps := p.Schedule.Periods
	switch {
	case len(ps) == 0:
		return bad(ErrPeriods, "no period")
	case len(ps) > l.MaxPeriods:
		return bad(ErrPeriods, "%d periods, at most %d", len(ps), l.MaxPeriods)
	case ps[0].Start != 0:
		return bad(ErrPeriods, "first period starts at %s, not 0", ps[0].Start)
	}
	for i, pe := range ps {
		switch {
		case i > 0 && pe.Start <= ps[i-1].Start:
			return bad(ErrPeriods, "period %d starts at %s, not after %s", i, pe.Start, ps[i-1].Start)
		case pe.Phases < 0 || pe.Phases > 3:
			return bad(ErrPeriods, "period %d: %d phases", i, pe.Phases)
		case !validRate(pe.Limit):
			return bad(ErrLimit, "period %d: limit %v", i, pe.Limit)
		}
	}
	return nil
}

// validRate reports whether v is a usable limit or minimum rate.
func validRate(v float64) bool {
	return v >= 0 && !math.IsInf(v, 0) // NaN fails v >= 0
}

// wellFormed reports whether p has the structure Evaluate relies on: known
// enumerations and unit, periods starting at 0 in strictly increasing
// order, a non-negative duration. Evaluate skips other profiles rather
// than guess what they mean.
func (p *Profile) wellFormed() bool {
	s := &p.Schedule
	if p.Purpose < PurposeStationMax || p.Purpose > PurposeTx ||
		p.Kind < KindAbsolute || p.Kind > KindRelative ||
		s.Unit < Amperes || s.Unit > Watts ||
		s.Duration < 0 || len(s.Periods) == 0 || s.Periods[0].Start != 0 {
		return false
	}
	if p.Kind == KindRecurring && (s.Start.IsZero() || (p.Recurrency != RecurDaily && p.Recurrency != RecurWeekly)) {
		return false
	}
	for i := 1; i < len(s.Periods); i++ {
		if s.Periods[i].Start <= s.Periods[i-1].Start {
			return false
		}
	}
	return true
}

// clone returns a copy of p that shares no memory with it.
func (p Profile) clone() Profile {
	p.Schedule.Periods = slices.Clone(p.Schedule.Periods)
	return p
}
