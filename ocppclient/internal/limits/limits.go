// Package limits hands the schedule engine's composite schedules to the
// station, the same way for every OCPP version: one schedule per
// connector from its Tx and TxDefault profiles, and one for the station
// (connector 0) from its ChargePointMax / ChargingStationMax profiles.
package limits

import (
	"context"
	"fmt"
	"math"
	"time"

	"periph.io/x/conn/v3/physic"

	"github.com/evsed/evsed/ocppclient/smartcharging"
	"github.com/evsed/evsed/station"
)

// Setter is the part of the station the limits go to.
type Setter interface {
	SetLimits(ctx context.Context, connector int, s station.LimitSchedule) error
}

// Query is the part of every evaluation that does not depend on the
// connector.
type Query struct {
	Start    time.Time
	Duration time.Duration
	Location *time.Location
	Voltage  float64 // V, as smartcharging.Query.Voltage
}

// Apply evaluates the profiles (eval) for every connector of snap and
// for the station, in amperes, and sets the resulting schedules; session
// gives a connector's running session for its Tx profiles. It stops at
// the first refusal, naming the connector.
func Apply(ctx context.Context, st Setter, snap station.Snapshot, q Query,
	session func(station.ConnectorSnapshot) *smartcharging.Session,
	eval func(smartcharging.Query) smartcharging.Curve) error {
	base := smartcharging.Query{Start: q.Start, Duration: q.Duration, Unit: smartcharging.Amperes,
		Location: q.Location, Voltage: q.Voltage}
	own := []smartcharging.Purpose{smartcharging.PurposeTxDefault, smartcharging.PurposeTx}
	for _, cs := range snap.Connectors {
		cq := base
		cq.Connector, cq.Phases, cq.Session, cq.Purposes = cs.ID, cs.Phases, session(cs), own
		if err := st.SetLimits(ctx, cs.ID, Schedule(eval(cq))); err != nil {
			return fmt.Errorf("connector %d: %w", cs.ID, err)
		}
	}
	sq := base
	sq.Connector, sq.Phases, sq.Purposes = 0, StationPhases(snap), []smartcharging.Purpose{smartcharging.PurposeStationMax}
	if err := st.SetLimits(ctx, 0, Schedule(eval(sq))); err != nil {
		return fmt.Errorf("connector 0: %w", err)
	}
	return nil
}

// Schedule turns a curve in amperes into the station's schedule, to the
// 0.1 A the profiles are given in.
func Schedule(cv smartcharging.Curve) station.LimitSchedule {
	out := make(station.LimitSchedule, 0, len(cv.Steps))
	for _, s := range cv.Steps {
		step := station.LimitStep{At: s.At, Current: station.NoLimit}
		if !math.IsInf(s.Limit, 1) {
			step.Current = tenths(s.Limit)
		}
		if s.MinRate > 0 {
			step.MinCurrent = tenths(s.MinRate)
		}
		out = append(out, step)
	}
	return out
}

func tenths(a float64) physic.ElectricCurrent {
	return physic.ElectricCurrent(math.Round(a*10)) * 100 * physic.MilliAmpere
}

// StationPhases is the station's phase count for its own limit: the most
// any connector uses (at least 1).
func StationPhases(snap station.Snapshot) int {
	n := 1
	for _, cs := range snap.Connectors {
		n = max(n, cs.Phases)
	}
	return n
}
