package limits

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"

	"github.com/evsed/evsed/ocppclient/smartcharging"
	"github.com/evsed/evsed/station"
)

type setter struct {
	got    map[int]station.LimitSchedule
	refuse int // connector whose SetLimits fails; -1 none
}

func (s *setter) SetLimits(_ context.Context, n int, ls station.LimitSchedule) error {
	if n == s.refuse {
		return errors.New("station stopped")
	}
	s.got[n] = ls
	return nil
}

// Every connector gets its Tx/TxDefault schedule with its own phases and
// session, the station its StationMax one with the most phases any
// connector uses; limits are rounded to 0.1 A and no limit stays NoLimit.
func TestApply(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	snap := station.Snapshot{Connectors: []station.ConnectorSnapshot{{ID: 1, Phases: 1}, {ID: 2, Phases: 3}}}
	var queries []smartcharging.Query
	eval := func(q smartcharging.Query) smartcharging.Curve {
		queries = append(queries, q)
		if q.Connector == 2 {
			return smartcharging.Curve{Steps: []smartcharging.Step{{At: t0, Limit: math.Inf(1)}}}
		}
		return smartcharging.Curve{Steps: []smartcharging.Step{{At: t0, Limit: 15.96, MinRate: 6.04}}}
	}
	sess := &smartcharging.Session{Start: t0, TransactionID: "tx1"}
	session := func(cs station.ConnectorSnapshot) *smartcharging.Session {
		if cs.ID == 1 {
			return sess
		}
		return nil
	}
	st := &setter{got: map[int]station.LimitSchedule{}, refuse: -1}
	if err := Apply(context.Background(), st, snap, Query{Start: t0, Duration: time.Hour, Voltage: 230}, session, eval); err != nil {
		t.Fatal(err)
	}
	if len(queries) != 3 || queries[0].Session != sess || queries[1].Phases != 3 || queries[2].Connector != 0 || queries[2].Phases != 3 ||
		queries[2].Purposes[0] != smartcharging.PurposeStationMax || queries[0].Unit != smartcharging.Amperes {
		t.Errorf("queries %+v", queries)
	}
	want := station.LimitStep{At: t0, Current: 16 * physic.Ampere, MinCurrent: 6 * physic.Ampere}
	if got := st.got[1]; len(got) != 1 || got[0] != want {
		t.Errorf("connector 1: %+v, want %+v", got, want)
	}
	if got := st.got[2]; len(got) != 1 || got[0].Current != station.NoLimit {
		t.Errorf("connector 2: %+v, want no limit", got)
	}

	st = &setter{got: map[int]station.LimitSchedule{}, refuse: 1}
	err := Apply(context.Background(), st, snap, Query{Start: t0, Duration: time.Hour}, session, eval)
	if err == nil || !strings.Contains(err.Error(), "connector 1") || len(st.got) != 0 {
		t.Errorf("refused: %v, set %v; want an error naming connector 1 and nothing after it", err, st.got)
	}
}
