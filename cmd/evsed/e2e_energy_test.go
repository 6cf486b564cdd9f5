package main

import (
	"context"
	"testing"
	"time"

	"github.com/evsed/evsed/localapi"
)

// The energy management as an installer configures it, through the real
// binary: a main fuse and a grid meter (the simulated house), a connector
// in pv mode, and an external limit set and cleared through the local
// API, all visible in the status.
func TestE2EEnergyManagement(t *testing.T) {
	a := newAgent(t, agentConfig{
		ID:   "CPENERGY",
		Free: true,
		stationYAML: "  grid:\n    fuse_a: 25\n    margin_a: 2\n    fallback_a: 6\n" +
			"    meter: {driver: sim, house: {base: 4A, pv_peak: 3kW, seed: 7}}\n",
		extraYAML: "connectors:\n  1: {mode: pv}\n",
	})
	a.start()
	st := a.waitStatus("the grid meter read", func(s localapi.Status) bool {
		return s.Site.GridMeter && !s.Site.Fallback
	})
	if st.Site.FuseA != 25 || st.Site.MarginA != 2 {
		t.Errorf("site fuse %g margin %g, want 25 and 2", st.Site.FuseA, st.Site.MarginA)
	}
	if st.Connectors[0].Mode != "pv" || st.Connectors[1].Mode != "fast" {
		t.Errorf("modes %q %q, want pv and fast", st.Connectors[0].Mode, st.Connectors[1].Mode)
	}

	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	a.do("limit the station", func(ctx context.Context) error {
		return a.api.SetLimit(ctx, localapi.LimitBody{Connector: 0, CurrentA: 10, Until: &until, Source: "hems"})
	})
	st = a.waitStatus("the external limit shown", func(s localapi.Status) bool { return s.Site.External != nil })
	if e := st.Site.External; e.CurrentA != 10 || e.Source != "hems" || e.Until == nil || !e.Until.Equal(until) {
		t.Errorf("station external limit %+v, want 10 A from hems until %v", e, until)
	}
	a.do("clear the limit", func(ctx context.Context) error {
		return a.api.SetLimit(ctx, localapi.LimitBody{Connector: 0, Clear: true})
	})
	a.waitStatus("the external limit gone", func(s localapi.Status) bool { return s.Site.External == nil })

	a.do("switch connector 2 to minpv", func(ctx context.Context) error { return a.api.SetMode(ctx, 2, "minpv") })
	a.waitStatus("connector 2 in minpv", func(s localapi.Status) bool { return s.Connectors[1].Mode == "minpv" })
}
