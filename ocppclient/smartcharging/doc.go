// Package smartcharging is the charging-profile schedule engine of a
// charge point: it checks and keeps the profiles a CSMS installs
// (SetChargingProfile, ClearChargingProfile; OCPP 1.6 sections 3.13 and
// 5.16, OCPP 2.0.1 functional block K) and computes from them the limit in
// force on a connector at any time, for GetCompositeSchedule and for the
// station that drives the pilot signal.
//
// The package is version-neutral: the 1.6 and the 2.0.1 adapters translate
// their wire types to Profile and Query, and Curve back to theirs. It knows
// no wire format and no station type, and it keeps no clock: every instant
// it uses is given to it.
//
// # Purposes and stacking
//
// A profile has one of three purposes. StationMax (1.6
// ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile) is installed on
// connector 0 and caps the station as a whole. TxDefault is the default for
// the transactions of one connector, or, on connector 0, of every
// connector. Tx is bound to the running transaction of one connector, never
// connector 0.
//
// Within one purpose the profiles contest by stack level: at each instant
// the applicable profile with the highest StackLevel wins. A profile
// applies at t when ValidFrom <= t < ValidTo (an absent side is open) and
// its schedule covers t: t is at or after the schedule's start and, when
// the schedule has a Duration, before start + Duration. Where the winner's
// schedule has ended, or has not begun, the next lower profile applies.
//
// For connector N the TxDefault candidates are the TxDefault profiles of N
// and those of connector 0; at the same stack level N's own wins. A Tx
// profile is a candidate only while the connector has a transaction (the
// Query's Session) and only for it: a profile bound to another transaction
// id does not apply, one bound to none ("") applies to whatever
// transaction runs. Where a Tx profile applies, TxDefault is ignored.
//
// The limit in force on connector N at t is then
//
//	min(StationMax(t), Tx(t) if a Tx profile applies, else TxDefault(t))
//
// where a purpose with no applicable profile sets no limit (a Step's Limit
// is then math.Inf(1)). Evaluated for connector 0, the station, only
// StationMax counts. Where the two profiles in force disagree on the
// number of phases, the smaller number given holds; where they disagree on
// the minimum rate, the larger.
//
// A Store keeps at most one profile per connector, purpose and stack level,
// so a tie at one stack level cannot arise from it. Evaluate, which takes
// any slice, breaks one by the lower limit, then by the order of the slice.
//
// # Where a schedule starts
//
// An Absolute schedule starts at Schedule.Start or, when it has none, at
// the time it was installed (Profile.Installed, which Store.Install sets).
//
// A Relative schedule starts when the connector's transaction started
// (Session.Start). Without a transaction it starts at the start of the
// query: "if a transaction started now". A Relative StationMax profile
// thus starts with the transaction of the connector it is evaluated for,
// and, evaluated for connector 0, at the query's start.
//
// A Recurring schedule starts at Schedule.Start, which it requires, and
// again every day (RecurDaily) or week (RecurWeekly) at the same local
// wall-clock time, in the station's time zone (Query.Location; nil is UTC).
// It does not apply before Schedule.Start. Each recurrence lasts until
// start + Duration or until the next recurrence starts, whichever comes
// first; without a Duration the last period lasts until the next
// recurrence. Period offsets are elapsed time from the recurrence's start.
//
// Across a change of daylight saving time a day is 23 or 25 hours long, and
// the recurrences keep to the wall clock. A schedule of 24 hours that
// starts daily at 00:00 in Europe/Berlin is cut after 23 hours on the day
// the clocks go forward, when the next recurrence starts; on the day they
// go back, the day's 25th hour has no limit from the profile (unless the
// schedule has no Duration, in which case its last period runs on until
// the next midnight). A wall-clock time that the
// change skips (02:30 in spring in Berlin) is read with the offset in force
// before the change (03:30 CEST); one that occurs twice (02:30 in autumn)
// is its first occurrence. The first recurrence starts at Schedule.Start
// itself.
//
// # Units
//
// Limits are in amperes (per phase) or watts (over all phases), as each
// schedule says, and Evaluate converts them to the unit the query asks
// for, using a nominal phase voltage (Query.Voltage, DefaultVoltage 230 V)
// and the number of phases the connector has (Query.Phases, DefaultPhases
// 3). Watts become amperes divided by voltage × the connector's phases: the
// EV may draw on every phase the connector has, so the current per phase
// must keep the power at or below the profile's. Amperes become watts
// multiplied by voltage × min(numberPhases of the period, the connector's
// phases), with an absent numberPhases read as 3 as both OCPP versions do.
// Converted limits are rounded down to a multiple of 0.1 (OCPP limits have
// one decimal), never up. See Convert.
//
// # Curves
//
// The result of Evaluate is a Curve: piecewise-constant steps over the
// query's range, in order, with equal neighbours merged. Min, Sum and Cap
// combine curves; At reads one at an instant; Periods gives the offsets
// and limits a GetCompositeSchedule answer lists. An adapter answers
// GetCompositeSchedule for connector N with Evaluate for N capped by the
// connector's hardware limit, and for connector 0 with the minimum of the
// StationMax curve and the sum, over the connectors, of their Tx/TxDefault
// curves (Query.Purposes) each capped by its hardware limit: the total the
// grid connection may expect. To drive the hardware it evaluates, in
// amperes, each connector's Tx/TxDefault curve and the station's StationMax
// curve over a horizon and arms timers at the step boundaries.
//
// # Validation and installation
//
// Profile.Validate checks what both versions require: at least one period,
// the first starting at 0, starts strictly increasing, at most
// Limits.MaxPeriods; limits and minimum rate finite and not negative;
// numberPhases 0 to 3; stack level 0 to Limits.MaxStackLevel; a unit among
// Limits.Units; StationMax on connector 0 only and Tx never on it; a
// Recurring profile with a start and a recurrency, and a recurrency on
// Recurring profiles only; a transaction id on Tx profiles only; ValidTo
// after ValidFrom when both are given; a duration not negative. Whether a
// Tx profile's connector has a transaction is the adapter's to check.
//
// Store.Install replaces the installed profile with the same id, wherever
// it was, and the one with the same connector, purpose and stack level,
// then refuses to hold more than Limits.MaxInstalled profiles (counted
// after the replacement). Store.Clear removes the profile with an id, or
// every profile that matches all criteria given among connector, purpose
// and stack level; Store.ClearTx drops the Tx profiles of a connector when
// its transaction ends, and Store.ClearExpired those whose validity has
// ended.
//
// # Storage
//
// The profiles live in one bbolt bucket, and in memory, from which every
// read is answered: evaluating reads no disk. Every change is one bbolt
// read-write transaction, hence one commit (none when nothing changes); it
// is applied whole or not at all, also across a crash or a power cut, and
// it is on disk when the call returns, provided the database was not
// opened with NoSync. Refused changes write nothing.
//
// Layout of the bucket:
//
//	<bucket>/format              one byte, the storage format (1)
//	<bucket>/profiles/<id>       the profiles (see codec.go), keyed by id
package smartcharging
