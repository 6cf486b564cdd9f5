package ocpp201

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"

	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/station"
)

// profileJSON is a SetChargingProfile payload for evse with one period of
// limit in unit.
func profileJSON(evse, id, stack int, purpose, kind, start, unit string, limit float64, extra string) string {
	sched := `{"id":1,"chargingRateUnit":"` + unit + `","chargingSchedulePeriod":[{"startPeriod":0,"limit":` + jsonNum(limit) + `}]` + start + `}`
	return `{"evseId":` + jsonNum(float64(evse)) + `,"chargingProfile":{"id":` + jsonNum(float64(id)) + `,"stackLevel":` + jsonNum(float64(stack)) +
		`,"chargingProfilePurpose":"` + purpose + `","chargingProfileKind":"` + kind + `"` + extra + `,"chargingSchedule":[` + sched + `]}}`
}

func jsonNum(v float64) string { b, _ := json.Marshal(v); return string(b) }

const startAbs = `,"startSchedule":"2026-03-01T09:00:00Z"`

func TestSetChargingProfileLowersTheLimit(t *testing.T) {
	r := newRig(t, nil)
	r.register()
	now := r.clk.Now()
	got, _ := r.handle(ActionSetChargingProfile, profileJSON(1, 5, 1, "TxDefaultProfile", "Absolute", startAbs, "A", 10, ""))
	if !strings.Contains(string(got), `"Accepted"`) {
		t.Fatalf("SetChargingProfile = %s", got)
	}
	if l := r.st.limitNow(1, now); l != 10*physic.Ampere {
		t.Errorf("EVSE 1 limited to %v, want 10 A", l)
	}
	if l := r.st.limitNow(2, now); l != station.NoLimit {
		t.Errorf("EVSE 2 limited to %v, want none", l)
	}
	// A station-wide cap in W: 6900 W over 3 phases at 230 V is 10 A.
	got, _ = r.handle(ActionSetChargingProfile, profileJSON(0, 6, 0, "ChargingStationMaxProfile", "Absolute", startAbs, "W", 6900, ""))
	if !strings.Contains(string(got), `"Accepted"`) {
		t.Fatalf("SetChargingProfile station max = %s", got)
	}
	if l := r.st.limitNow(0, now); l != 10*physic.Ampere {
		t.Errorf("station limited to %v, want 10 A", l)
	}
	if v := r.vars.String(devicemodel.SmartChargingEntries); v != "2" {
		t.Errorf("SmartChargingCtrlr.Entries = %q, want 2", v)
	}
	for _, tc := range []struct{ payload, want string }{
		{`{"evseId":1,"duration":3600,"chargingRateUnit":"A"}`, `"limit":10`},
		{`{"evseId":2,"duration":3600}`, `"limit":10`},                        // the station cap
		{`{"evseId":0,"duration":60,"chargingRateUnit":"W"}`, `"limit":6900`}, // min(cap, sum)
		{`{"evseId":3,"duration":60}`, `"Rejected"`},                          // no such EVSE
	} {
		got, ce := r.handle(ActionGetCompositeSchedule, tc.payload)
		if ce != nil || !strings.Contains(string(got), tc.want) {
			t.Errorf("GetCompositeSchedule %s = %s, %v; want %s", tc.payload, got, ce, tc.want)
		}
	}
	got, _ = r.handle(ActionClearChargingProfile, `{"chargingProfileId":5}`)
	if !strings.Contains(string(got), `"Accepted"`) {
		t.Fatalf("ClearChargingProfile = %s", got)
	}
	if l := r.st.limitNow(1, now); l != station.NoLimit {
		t.Errorf("EVSE 1 limited to %v after the clear, want none", l)
	}
	got, _ = r.handle(ActionClearChargingProfile, `{"chargingProfileId":5}`)
	if !strings.Contains(string(got), `"Unknown"`) {
		t.Errorf("second ClearChargingProfile = %s, want Unknown", got)
	}
	got, _ = r.handle(ActionClearChargingProfile, `{"chargingProfileCriteria":{"chargingProfilePurpose":"ChargingStationMaxProfile"}}`)
	if !strings.Contains(string(got), `"Accepted"`) || r.st.limitNow(0, now) != station.NoLimit {
		t.Errorf("ClearChargingProfile by purpose = %s, station limit %v", got, r.st.limitNow(0, now))
	}
	if v := r.vars.String(devicemodel.SmartChargingEntries); v != "0" {
		t.Errorf("SmartChargingCtrlr.Entries = %q after the clears", v)
	}
}

func TestSetChargingProfileRules(t *testing.T) {
	r := newRig(t, nil)
	r.register()
	ctx := context.Background()
	if err := r.ch.SessionStarted(ctx, station.SessionStart{Connector: 1, SessionID: "s1", IDTag: "AABBCCDD", At: r.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	tx := r.ch.openTransaction(1)
	if tx == "" {
		t.Fatal("no transaction")
	}
	if got, _ := r.handle(ActionSetChargingProfile, profileJSON(1, 1, 3, "TxDefaultProfile", "Absolute", startAbs, "A", 16, "")); !strings.Contains(string(got), "Accepted") {
		t.Fatalf("base profile = %s", got)
	}
	many := `{"evseId":1,"chargingProfile":{"id":9,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Relative","chargingSchedule":[{"id":1,"chargingRateUnit":"A","chargingSchedulePeriod":[` +
		strings.Repeat(`{"startPeriod":0,"limit":6},`, 0) + periods(25) + `]}]}}`
	for _, tc := range []struct {
		name, payload, want string
	}{
		{"station max on an EVSE", profileJSON(1, 2, 0, "ChargingStationMaxProfile", "Absolute", startAbs, "A", 16, ""), "Rejected"},
		{"station max relative", profileJSON(0, 2, 0, "ChargingStationMaxProfile", "Relative", "", "A", 16, ""), "Rejected"},
		{"TxProfile on EVSE 0", profileJSON(0, 2, 0, "TxProfile", "Relative", "", "A", 16, `,"transactionId":"`+tx+`"`), "Rejected"},
		{"TxProfile without transactionId", profileJSON(1, 2, 0, "TxProfile", "Relative", "", "A", 16, ""), "Rejected"},
		{"TxProfile of another transaction", profileJSON(1, 2, 0, "TxProfile", "Relative", "", "A", 16, `,"transactionId":"nope"`), "Rejected"},
		{"TxProfile on the wrong EVSE", profileJSON(2, 2, 0, "TxProfile", "Relative", "", "A", 16, `,"transactionId":"`+tx+`"`), "Rejected"},
		{"TxProfile of the transaction", profileJSON(1, 2, 0, "TxProfile", "Relative", "", "A", 16, `,"transactionId":"`+tx+`"`), "Accepted"},
		{"external constraints", profileJSON(0, 3, 0, "ChargingStationExternalConstraints", "Absolute", startAbs, "A", 16, ""), "Rejected"},
		{"relative with start", profileJSON(1, 3, 0, "TxDefaultProfile", "Relative", startAbs, "A", 16, ""), "Rejected"},
		{"absolute without start", profileJSON(1, 3, 0, "TxDefaultProfile", "Absolute", "", "A", 16, ""), "Rejected"},
		{"stack level above ProfileStackLevel", profileJSON(1, 3, 11, "TxDefaultProfile", "Absolute", startAbs, "A", 16, ""), "Rejected"},
		{"unknown EVSE", profileJSON(3, 3, 0, "TxDefaultProfile", "Absolute", startAbs, "A", 16, ""), "Rejected"},
		{"recurrency on absolute", profileJSON(1, 3, 0, "TxDefaultProfile", "Absolute", startAbs, "A", 16, `,"recurrencyKind":"Daily"`), "Rejected"},
		{"same stack level, other id", profileJSON(1, 3, 3, "TxDefaultProfile", "Absolute", startAbs, "A", 8, ""), "Rejected"},
		{"same id replaces", profileJSON(1, 1, 3, "TxDefaultProfile", "Absolute", startAbs, "A", 8, ""), "Accepted"},
		{"more periods than PeriodsPerSchedule", many, "Rejected"},
		{"daily recurring in W", profileJSON(0, 4, 2, "TxDefaultProfile", "Recurring", startAbs, "W", 11000, `,"recurrencyKind":"Daily"`), "Accepted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ce := r.handle(ActionSetChargingProfile, tc.payload)
			if ce != nil || !strings.Contains(string(got), `"`+tc.want+`"`) {
				t.Errorf("= %s, %v; want %s", got, ce, tc.want)
			}
		})
	}
	// The TxProfile (16 A) wins over the TxDefault (8 A) on EVSE 1.
	if l := r.st.limitNow(1, r.clk.Now()); l != 16*physic.Ampere {
		t.Errorf("EVSE 1 limited to %v, want the TxProfile's 16 A", l)
	}
	// The TxProfile ends with the transaction.
	if err := r.ch.SessionEnded(ctx, station.SessionEnd{Connector: 1, SessionID: "s1", At: r.clk.Now(), Reason: station.ReasonEVDisconnected}); err != nil {
		t.Fatal(err)
	}
	r.ch.background.Wait()
	if l := r.st.limitNow(1, r.clk.Now()); l != 8*physic.Ampere {
		t.Errorf("EVSE 1 limited to %v after the transaction, want the TxDefault's 8 A", l)
	}
	r.deliver()
}

func periods(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"startPeriod":` + jsonNum(float64(i*60)) + `,"limit":6}`)
	}
	return b.String()
}

func TestSmartChargingDisabled(t *testing.T) {
	r := newRig(t, map[devicemodel.Ref]string{devicemodel.SmartChargingEnabled: "false"})
	r.register()
	got, _ := r.handle(ActionSetChargingProfile, profileJSON(1, 5, 1, "TxDefaultProfile", "Absolute", startAbs, "A", 10, ""))
	if !strings.Contains(string(got), `"Rejected"`) {
		t.Errorf("SetChargingProfile while disabled = %s", got)
	}
}

func TestGetChargingProfilesReports(t *testing.T) {
	r := newRig(t, nil)
	r.register()
	for _, p := range []string{
		profileJSON(1, 5, 1, "TxDefaultProfile", "Absolute", startAbs, "A", 10, ""),
		profileJSON(0, 6, 0, "ChargingStationMaxProfile", "Absolute", startAbs, "A", 20, ""),
		profileJSON(0, 7, 2, "TxDefaultProfile", "Absolute", startAbs, "A", 12, ""),
	} {
		if got, _ := r.handle(ActionSetChargingProfile, p); !strings.Contains(string(got), "Accepted") {
			t.Fatalf("SetChargingProfile = %s", got)
		}
	}
	for _, tc := range []struct {
		name, payload, status string
		reports               map[int][]int // evse -> profile ids
	}{
		{"all", `{"requestId":7,"chargingProfile":{}}`, "Accepted", map[int][]int{0: {6, 7}, 1: {5}}},
		{"by id", `{"requestId":8,"chargingProfile":{"chargingProfileId":[5]}}`, "Accepted", map[int][]int{1: {5}}},
		{"by EVSE 0 and purpose", `{"requestId":9,"evseId":0,"chargingProfile":{"chargingProfilePurpose":"TxDefaultProfile"}}`, "Accepted", map[int][]int{0: {7}}},
		{"by stack level", `{"requestId":10,"chargingProfile":{"stackLevel":1}}`, "Accepted", map[int][]int{1: {5}}},
		{"another source", `{"requestId":11,"chargingProfile":{"chargingLimitSource":["EMS"]}}`, "NoProfiles", nil},
		{"none matches", `{"requestId":12,"chargingProfile":{"chargingProfileId":[99]}}`, "NoProfiles", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(r.caller.Calls(ActionReportChargingProfiles))
			got, ce := r.handle(ActionGetChargingProfiles, tc.payload)
			if ce != nil || !strings.Contains(string(got), `"`+tc.status+`"`) {
				t.Fatalf("= %s, %v; want %s", got, ce, tc.status)
			}
			calls := r.caller.Calls(ActionReportChargingProfiles)[before:]
			if len(calls) != len(tc.reports) {
				t.Fatalf("%d reports, want %d", len(calls), len(tc.reports))
			}
			for i, c := range calls {
				var rep ReportChargingProfilesRequest
				if err := json.Unmarshal(c.payload, &rep); err != nil {
					t.Fatal(err)
				}
				var ids []int
				for _, p := range rep.ChargingProfile {
					ids = append(ids, p.ID)
				}
				want := tc.reports[rep.EVSEID]
				if rep.ChargingLimitSource != ChargingLimitSourceCSO || !equalInts(ids, want) || (rep.Tbc != nil && *rep.Tbc) != (i < len(calls)-1) {
					t.Errorf("report %d: evse %d ids %v source %s tbc %v; want ids %v", i, rep.EVSEID, ids, rep.ChargingLimitSource, rep.Tbc, want)
				}
			}
		})
	}
	// The report gives the profile as it was set, schedule id included.
	var rep ReportChargingProfilesRequest
	_ = json.Unmarshal(r.caller.Calls(ActionReportChargingProfiles)[0].payload, &rep)
	if p := rep.ChargingProfile[0]; p.ChargingSchedule[0].ID != 1 || p.ChargingSchedule[0].StartSchedule == nil {
		t.Errorf("reported profile %+v", p)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRemoteStartWithChargingProfile(t *testing.T) {
	r := newRig(t, nil)
	r.register()
	ctx := context.Background()
	bad := `{"idToken":{"idToken":"APP","type":"Central"},"remoteStartId":1,"evseId":1,"chargingProfile":{"id":30,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Relative","chargingSchedule":[{"id":1,"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":7}]}]}}`
	if got, _ := r.handle(ActionRequestStartTransaction, bad); !strings.Contains(string(got), `"Rejected"`) {
		t.Errorf("RequestStartTransaction with a TxDefaultProfile = %s, want Rejected", got)
	}
	good := strings.Replace(bad, "TxDefaultProfile", "TxProfile", 1)
	if got, _ := r.handle(ActionRequestStartTransaction, good); !strings.Contains(string(got), `"Accepted"`) {
		t.Fatalf("RequestStartTransaction = %s", got)
	}
	r.ch.background.Wait()
	if err := r.ch.SessionStarted(ctx, station.SessionStart{Connector: 1, SessionID: "s1", IDTag: "APP", At: r.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	tx := r.ch.openTransaction(1)
	ps := r.ch.smart.Profiles()
	if len(ps) != 1 || ps[0].ID != 30 || ps[0].TransactionID != tx || tx == "" {
		t.Fatalf("profiles %+v, transaction %q", ps, tx)
	}
	if l := r.st.limitNow(1, r.clk.Now()); l != 7*physic.Ampere {
		t.Errorf("EVSE 1 limited to %v, want 7 A", l)
	}
	if err := r.ch.SessionEnded(ctx, station.SessionEnd{Connector: 1, SessionID: "s1", At: r.clk.Now(), Reason: station.ReasonRemote}); err != nil {
		t.Fatal(err)
	}
	r.ch.background.Wait()
	if n := r.ch.smart.Len(); n != 0 {
		t.Errorf("%d profiles after the transaction, want 0", n)
	}
	if l := r.st.limitNow(1, r.clk.Now()); l != station.NoLimit {
		t.Errorf("EVSE 1 limited to %v after the transaction", l)
	}
	r.deliver()
}

// TestProfilesSurviveRestart checks that profiles and their reports come
// back after a restart and that a TxProfile of a transaction gone is
// dropped.
func TestProfilesSurviveRestart(t *testing.T) {
	r := newRig(t, nil)
	r.register()
	if got, _ := r.handle(ActionSetChargingProfile, profileJSON(1, 5, 1, "TxDefaultProfile", "Absolute", startAbs, "A", 10, "")); !strings.Contains(string(got), "Accepted") {
		t.Fatal(string(got))
	}
	r.reopen()
	r.register()
	ctx, cancel := context.WithCancel(context.Background())
	stop := r.ch.Start(ctx)
	r.ch.background.Wait()
	cancel()
	stop()
	if l := r.st.limitNow(1, r.clk.Now().Add(time.Minute)); l != 10*physic.Ampere {
		t.Errorf("EVSE 1 limited to %v after the restart, want 10 A", l)
	}
	if got, _ := r.handle(ActionGetChargingProfiles, `{"requestId":1,"chargingProfile":{}}`); !strings.Contains(string(got), "Accepted") {
		t.Errorf("GetChargingProfiles after restart = %s", got)
	}
}
