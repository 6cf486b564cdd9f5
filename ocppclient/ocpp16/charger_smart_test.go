package ocpp16

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/evsed/evsed/station"
	"periph.io/x/conn/v3/physic"
)

// profileJSON builds a csChargingProfiles object: periods are
// startPeriod, limit pairs.
func profileJSON(id, stack int, purpose, kind, unit, extra string, periods ...float64) string {
	ps := ""
	for i := 0; i+1 < len(periods); i += 2 {
		if ps != "" {
			ps += ","
		}
		ps += fmt.Sprintf(`{"startPeriod":%d,"limit":%g}`, int(periods[i]), periods[i+1])
	}
	start := ""
	if kind == "Absolute" || kind == "Recurring" {
		start = `"startSchedule":"` + NewDateTime(t0).String() + `",`
	}
	return fmt.Sprintf(`{"chargingProfileId":%d,"stackLevel":%d,"chargingProfilePurpose":%q,"chargingProfileKind":%q,%s`+
		`"chargingSchedule":{%s"chargingRateUnit":%q,"chargingSchedulePeriod":[%s]}}`, id, stack, purpose, kind, extra, start, unit, ps)
}

func (r *rig) setProfile(connector int, profile string) string {
	r.t.Helper()
	resp, _ := r.handle(ActionSetChargingProfile, fmt.Sprintf(`{"connectorId":%d,"csChargingProfiles":%s}`, connector, profile))
	return status(r.t, resp)
}

// withSession gives connector n a running session.
func (r *rig) withSession(n int, id string, started time.Time) {
	r.st.mu.Lock()
	r.st.snap.Connectors[n-1].Session = &station.SessionSnapshot{ID: id, StartedAt: started}
	r.st.snap.Connectors[n-1].Status = station.Charging
	r.st.mu.Unlock()
}

func TestSetChargingProfileRules(t *testing.T) {
	r := newRig(t, map[string]string{KeyChargingScheduleMaxPeriods: "3", KeyChargeProfileMaxStackLevel: "4",
		KeyChargingScheduleAllowedChargingRateUnit: "Current"})
	r.withSession(2, "sess-2", t0)
	if err := r.c.tx.Put("sess-2", 55); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		connector int
		profile   string
		want      string
	}{
		{"TxDefault on connector 1", 1, profileJSON(1, 0, "TxDefaultProfile", "Absolute", "A", "", 0, 16), "Accepted"},
		{"unknown connector", 3, profileJSON(2, 0, "TxDefaultProfile", "Absolute", "A", "", 0, 16), "Rejected"},
		{"ChargePointMax on a connector", 1, profileJSON(3, 0, "ChargePointMaxProfile", "Absolute", "A", "", 0, 16), "Rejected"},
		{"ChargePointMax on 0", 0, profileJSON(3, 0, "ChargePointMaxProfile", "Absolute", "A", "", 0, 40), "Accepted"},
		{"TxProfile without a transaction", 1, profileJSON(4, 0, "TxProfile", "Relative", "A", "", 0, 10), "Rejected"},
		{"TxProfile on 0", 0, profileJSON(4, 0, "TxProfile", "Relative", "A", "", 0, 10), "Rejected"},
		{"TxProfile of the transaction", 2, profileJSON(4, 0, "TxProfile", "Relative", "A", `"transactionId":55,`, 0, 10), "Accepted"},
		{"TxProfile of another transaction", 2, profileJSON(5, 1, "TxProfile", "Relative", "A", `"transactionId":56,`, 0, 10), "Rejected"},
		{"stack level above the maximum", 1, profileJSON(6, 5, "TxDefaultProfile", "Absolute", "A", "", 0, 16), "Rejected"},
		{"too many periods", 1, profileJSON(7, 1, "TxDefaultProfile", "Absolute", "A", "", 0, 16, 60, 10, 120, 8, 180, 6), "Rejected"},
		{"unit not allowed", 1, profileJSON(8, 1, "TxDefaultProfile", "Absolute", "W", "", 0, 11000), "Rejected"},
		{"first period not at 0", 1, profileJSON(9, 1, "TxDefaultProfile", "Absolute", "A", "", 10, 16), "Rejected"},
		{"recurring without recurrencyKind", 1, profileJSON(10, 1, "TxDefaultProfile", "Recurring", "A", "", 0, 16), "Rejected"},
		{"recurrencyKind on Absolute", 1, profileJSON(10, 1, "TxDefaultProfile", "Absolute", "A", `"recurrencyKind":"Daily",`, 0, 16), "Rejected"},
		{"transactionId on TxDefault", 2, profileJSON(11, 1, "TxDefaultProfile", "Absolute", "A", `"transactionId":55,`, 0, 16), "Rejected"},
		{"daily", 1, profileJSON(12, 2, "TxDefaultProfile", "Recurring", "A", `"recurrencyKind":"Daily",`, 0, 16, 3600, 8), "Accepted"},
	}
	for _, tc := range tests {
		if got := r.setProfile(tc.connector, tc.profile); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	if n := r.c.smart.profiles.Len(); n != 4 {
		t.Errorf("%d profiles installed, want 4", n)
	}
}

// The limits reach the station in amperes, W converted with the phases
// and the nominal voltage, and go when the profile is cleared.
func TestLimitsReachTheStation(t *testing.T) {
	r := newRig(t, nil)
	if got := r.setProfile(1, profileJSON(1, 0, "TxDefaultProfile", "Absolute", "W", "", 0, 11000, 3600, 4140)); got != "Accepted" {
		t.Fatal(got)
	}
	if got := r.setProfile(0, profileJSON(2, 0, "ChargePointMaxProfile", "Absolute", "A", "", 0, 40)); got != "Accepted" {
		t.Fatal(got)
	}
	l1, _ := r.st.limit(1)
	// 11000 W / (230 V x 3) = 15.94 A -> 15.9 A; 4140 W -> 6 A.
	want := station.LimitSchedule{
		{At: t0, Current: 15900 * physic.MilliAmpere},
		{At: t0.Add(time.Hour), Current: 6 * physic.Ampere},
	}
	if len(l1) != len(want) {
		t.Fatalf("connector 1 limits %v, want %v", l1, want)
	}
	for i := range want {
		if !l1[i].At.Equal(want[i].At) || l1[i].Current != want[i].Current {
			t.Errorf("step %d = %v %v, want %v %v", i, l1[i].At, l1[i].Current, want[i].At, want[i].Current)
		}
	}
	if l2, _ := r.st.limit(2); len(l2) != 1 || l2[0].Current != station.NoLimit {
		t.Errorf("connector 2 limits %v, want none", l2)
	}
	if l0, _ := r.st.limit(0); len(l0) != 1 || l0[0].Current != 40*physic.Ampere {
		t.Errorf("station limits %v, want 40 A", l0)
	}
	resp, _ := r.handle(ActionClearChargingProfile, `{"id":1}`)
	if got := status(t, resp); got != "Accepted" {
		t.Fatal(got)
	}
	if l1, _ := r.st.limit(1); len(l1) != 1 || l1[0].Current != station.NoLimit {
		t.Errorf("after clear: %v, want no limit", l1)
	}
	resp, _ = r.handle(ActionClearChargingProfile, `{"id":1}`)
	if got := status(t, resp); got != "Unknown" {
		t.Errorf("clear again: %s, want Unknown", got)
	}
	// Clearing the last profile lifts the station's limit too.
	resp, _ = r.handle(ActionClearChargingProfile, `{}`)
	if got := status(t, resp); got != "Accepted" {
		t.Fatal(got)
	}
	if l0, _ := r.st.limit(0); len(l0) != 1 || l0[0].Current != station.NoLimit {
		t.Errorf("station limits after the last clear %v, want none", l0)
	}
}

func TestClearChargingProfileCriteria(t *testing.T) {
	tests := []struct {
		name, req string
		want      string
		left      int
	}{
		{"all", `{}`, "Accepted", 0},
		{"by id, other criteria ignored", `{"id":2,"connectorId":1}`, "Accepted", 3},
		{"by connector", `{"connectorId":1}`, "Accepted", 2},
		{"connector 0 is the station's own", `{"connectorId":0}`, "Accepted", 3},
		{"by purpose", `{"chargingProfilePurpose":"TxDefaultProfile"}`, "Accepted", 1},
		{"by stack level", `{"stackLevel":1}`, "Accepted", 2},
		{"purpose and stack level", `{"chargingProfilePurpose":"TxDefaultProfile","stackLevel":1}`, "Accepted", 3},
		{"nothing matches", `{"connectorId":2,"stackLevel":9}`, "Unknown", 4},
		{"unknown id", `{"id":99}`, "Unknown", 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			for _, p := range []struct {
				n       int
				profile string
			}{
				{1, profileJSON(1, 0, "TxDefaultProfile", "Absolute", "A", "", 0, 16)},
				{1, profileJSON(2, 1, "TxDefaultProfile", "Absolute", "A", "", 0, 10)},
				{2, profileJSON(3, 0, "TxDefaultProfile", "Absolute", "A", "", 0, 16)},
				{0, profileJSON(4, 1, "ChargePointMaxProfile", "Absolute", "A", "", 0, 40)},
			} {
				if got := r.setProfile(p.n, p.profile); got != "Accepted" {
					t.Fatal(got)
				}
			}
			resp, _ := r.handle(ActionClearChargingProfile, tc.req)
			if got := status(t, resp); got != tc.want {
				t.Errorf("%s, want %s", got, tc.want)
			}
			if n := r.c.smart.profiles.Len(); n != tc.left {
				t.Errorf("%d profiles left, want %d", n, tc.left)
			}
		})
	}
}

func TestGetCompositeSchedule(t *testing.T) {
	r := newRig(t, nil)
	for _, p := range []struct {
		n       int
		profile string
	}{
		{0, profileJSON(1, 0, "TxDefaultProfile", "Absolute", "A", "", 0, 16, 3600, 10)},
		{0, profileJSON(2, 0, "ChargePointMaxProfile", "Absolute", "A", "", 0, 20)},
	} {
		if got := r.setProfile(p.n, p.profile); got != "Accepted" {
			t.Fatal(got)
		}
	}
	type period struct {
		start int
		limit float64
	}
	tests := []struct {
		name string
		req  string
		want string
		ps   []period
		unit ChargingRateUnit
	}{
		{"connector", `{"connectorId":1,"duration":7200}`, "Accepted", []period{{0, 16}, {3600, 10}}, ChargingRateUnitA},
		{"grid connection", `{"connectorId":0,"duration":7200}`, "Accepted", []period{{0, 20}}, ChargingRateUnitA},
		{"in watts", `{"connectorId":1,"duration":7200,"chargingRateUnit":"W"}`, "Accepted", []period{{0, 11040}, {3600, 6900}}, ChargingRateUnitW},
		{"beyond the profile", `{"connectorId":1,"duration":600}`, "Accepted", []period{{0, 16}}, ChargingRateUnitA},
		{"unknown connector", `{"connectorId":3,"duration":60}`, "Rejected", nil, ""},
	}
	for _, tc := range tests {
		resp, _ := r.handle(ActionGetCompositeSchedule, tc.req)
		cs := resp.(*GetCompositeScheduleResponse)
		if string(cs.Status) != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, cs.Status, tc.want)
			continue
		}
		if err := cs.Validate(); err != nil {
			t.Errorf("%s: answer breaks the schema: %v", tc.name, err)
		}
		if tc.want != "Accepted" {
			continue
		}
		s := cs.ChargingSchedule
		var got []period
		for _, p := range s.ChargingSchedulePeriod {
			got = append(got, period{p.StartPeriod, p.Limit})
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.ps) || s.ChargingRateUnit != tc.unit || !cs.ScheduleStart.Equal(t0) {
			t.Errorf("%s: %v %s from %v, want %v %s", tc.name, got, s.ChargingRateUnit, cs.ScheduleStart, tc.ps, tc.unit)
		}
	}
	// Without profiles the answer is the connectors' rating.
	r2 := newRig(t, map[string]string{KeyChargingScheduleAllowedChargingRateUnit: "Power"})
	resp, _ := r2.handle(ActionGetCompositeSchedule, `{"connectorId":1,"duration":60}`)
	cs := resp.(*GetCompositeScheduleResponse)
	if cs.Status != "Accepted" || cs.ChargingSchedule.ChargingRateUnit != ChargingRateUnitW ||
		cs.ChargingSchedule.ChargingSchedulePeriod[0].Limit != 22080 {
		b, _ := json.Marshal(cs)
		t.Errorf("no profiles, Power only: %s, want 22080 W", b)
	}
	resp, _ = r2.handle(ActionGetCompositeSchedule, `{"connectorId":1,"duration":60,"chargingRateUnit":"A"}`)
	if got := status(t, resp); got != "Rejected" {
		t.Errorf("a unit not allowed: %s, want Rejected", got)
	}
}

// A RemoteStartTransaction's TxProfile applies to the session it starts,
// and ends with it; other purposes are refused.
func TestRemoteStartWithProfile(t *testing.T) {
	r := newRig(t, nil)
	resp, _ := r.handle(ActionRemoteStartTransaction, `{"connectorId":1,"idTag":"T","chargingProfile":`+
		profileJSON(1, 0, "TxDefaultProfile", "Relative", "A", "", 0, 8)+`}`)
	if got := status(t, resp); got != "Rejected" {
		t.Errorf("TxDefaultProfile in RemoteStart: %s, want Rejected", got)
	}
	resp, _ = r.handle(ActionRemoteStartTransaction, `{"connectorId":1,"idTag":"T","chargingProfile":`+
		profileJSON(7, 0, "TxProfile", "Relative", "A", "", 0, 8, 600, 12)+`}`)
	if got := status(t, resp); got != "Accepted" {
		t.Fatalf("RemoteStart with TxProfile: %s", got)
	}
	r.c.background.Wait()
	started := t0.Add(10 * time.Second)
	r.clk.Advance(10 * time.Second)
	r.withSession(1, "sess-1", started)
	if err := r.c.SessionStarted(context.Background(), station.SessionStart{Connector: 1, SessionID: "sess-1", IDTag: "T", At: started}); err != nil {
		t.Fatal(err)
	}
	l1, _ := r.st.limit(1)
	if len(l1) != 2 || l1[0].Current != 8*physic.Ampere || !l1[1].At.Equal(started.Add(10*time.Minute)) || l1[1].Current != 12*physic.Ampere {
		t.Fatalf("limits of the remote session %v, want 8 A then 12 A after 10 min", l1)
	}
	if err := r.c.SessionEnded(context.Background(), station.SessionEnd{Connector: 1, SessionID: "sess-1", At: started.Add(time.Hour), Reason: station.ReasonRemote}); err != nil {
		t.Fatal(err)
	}
	if n := r.c.smart.profiles.Len(); n != 0 {
		t.Errorf("%d profiles after the session, want 0 (TxProfiles end with it)", n)
	}
}

// Profiles survive a restart and reach the station when the Charger starts.
func TestProfilesPersist(t *testing.T) {
	r := newRig(t, nil)
	if got := r.setProfile(1, profileJSON(1, 0, "TxDefaultProfile", "Absolute", "A", "", 0, 13)); got != "Accepted" {
		t.Fatal(got)
	}
	r.reopen()
	r.st.mu.Lock()
	r.st.limits = nil
	r.st.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	stop := r.c.Start(ctx)
	r.c.background.Wait()
	cancel()
	stop()
	if l1, ok := r.st.limit(1); !ok || len(l1) != 1 || l1[0].Current != 13*physic.Ampere {
		t.Errorf("limits after a restart %v, want 13 A", l1)
	}
}

// A TxProfile whose session no longer runs when the Charger starts (the
// process stopped before its transaction's end cleared it) is dropped.
func TestStaleTxProfileDroppedAtStart(t *testing.T) {
	r := newRig(t, nil)
	r.withSession(1, "old", t0)
	if got := r.setProfile(1, profileJSON(1, 0, "TxProfile", "Relative", "A", "", 0, 8)); got != "Accepted" {
		t.Fatal(got)
	}
	r.reopen()
	r.st.mu.Lock()
	r.st.snap.Connectors[0].Session = nil
	r.st.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	stop := r.c.Start(ctx)
	r.c.background.Wait()
	cancel()
	stop()
	if n := r.c.smart.profiles.Len(); n != 0 {
		t.Errorf("%d profiles after the restart, want the stale TxProfile gone", n)
	}
}
