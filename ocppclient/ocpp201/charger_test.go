package ocpp201

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/station"
)

func TestNewValidatesOptions(t *testing.T) {
	r := newRig(t, nil)
	base := r.ch.opts
	for _, tc := range []struct {
		name string
		mod  func(*Options)
	}{
		{"no EVSEs", func(o *Options) { o.NumEVSEs = 0 }},
		{"no DB", func(o *Options) { o.DB = nil }},
		{"no variables", func(o *Options) { o.Variables = nil }},
		{"no queue", func(o *Options) { o.Queue = nil }},
		{"no model", func(o *Options) { o.Identity.Model = "" }},
		{"long vendor", func(o *Options) { o.Identity.VendorName = strings.Repeat("v", 51) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			tc.mod(&o)
			if _, err := New(o); err == nil {
				t.Error("New accepted the options")
			}
		})
	}
}

func TestBootPendingThenAccepted(t *testing.T) {
	r := newRig(t, nil)
	var boots atomic.Int32
	r.caller.answer = csmsAnswers(func() RegistrationStatus {
		if boots.Add(1) == 1 {
			return RegistrationStatusPending
		}
		return RegistrationStatusAccepted
	})
	r.setOnline(true)
	done := make(chan error, 1)
	go func() { done <- r.ch.OnConnect(context.Background(), r.caller) }()
	for r.ch.Registration() != "Pending" {
		time.Sleep(time.Millisecond)
	}
	// While Pending: the device model may be read, a remote start not.
	if _, ce := r.handle(ActionGetVariables, `{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}`); ce != nil {
		t.Errorf("GetVariables while Pending: %v", ce)
	}
	if _, ce := r.handle(ActionRequestStartTransaction, `{"idToken":{"idToken":"A","type":"Central"},"remoteStartId":1}`); ce == nil || ce.Code != ocppclient.SecurityError {
		t.Errorf("RequestStartTransaction while Pending = %v, want SecurityError", ce)
	}
	for r.clk.Pending() == 0 {
		time.Sleep(time.Millisecond)
	}
	r.clk.Advance(60 * time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := r.ch.Registration(); got != "Accepted" {
		t.Errorf("Registration = %q", got)
	}
	boot := r.caller.Calls(ActionBootNotification)
	if len(boot) != 2 {
		t.Fatalf("%d BootNotifications, want 2", len(boot))
	}
	var req BootNotificationRequest
	_ = json.Unmarshal(boot[0].payload, &req)
	if req.Reason != BootReasonPowerUp || req.ChargingStation.Model != "sim" || req.ChargingStation.VendorName != "evsed" {
		t.Errorf("BootNotification = %+v", req)
	}
	if got := r.vars.Int(devicemodel.HeartbeatInterval); got != 60 {
		t.Errorf("HeartbeatInterval = %d, want the 60 of the answer", got)
	}
	if n := len(r.caller.Calls(ActionStatusNotification)); n != 2 {
		t.Errorf("%d StatusNotifications after boot, want one per EVSE", n)
	}
}

func TestVariables(t *testing.T) {
	r := newRig(t, nil)
	r.register()
	for _, tc := range []struct {
		name, action, payload, want string
		code                        ocppclient.ErrorCode
	}{
		{"set heartbeat", ActionSetVariables, `{"setVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"},"attributeValue":"120"}]}`, `"attributeStatus":"Accepted"`, ""},
		{"get heartbeat", ActionGetVariables, `{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}`, `"attributeValue":"120"`, ""},
		{"unknown component", ActionGetVariables, `{"getVariableData":[{"component":{"name":"NoSuchCtrlr"},"variable":{"name":"X"}}]}`, `"attributeStatus":"UnknownComponent"`, ""},
		{"bad tx point", ActionSetVariables, `{"setVariableData":[{"component":{"name":"TxCtrlr"},"variable":{"name":"TxStartPoint"},"attributeValue":"Sometime"}]}`, `"attributeStatus":"Rejected"`, ""},
		{"read-only", ActionSetVariables, `{"setVariableData":[{"component":{"name":"DeviceDataCtrlr"},"variable":{"name":"ItemsPerMessage","instance":"GetReport"},"attributeValue":"3"}]}`, `"attributeStatus":"Rejected"`, ""},
		{"too many items", ActionGetVariables, `{"getVariableData":[` + strings.TrimSuffix(strings.Repeat(`{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}},`, 51), ",") + `]}`, "", OccurrenceConstraintViolation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ce := r.handle(tc.action, tc.payload)
			if tc.code != "" {
				if ce == nil || ce.Code != tc.code {
					t.Fatalf("answer %s / %v, want CALLERROR %s", got, ce, tc.code)
				}
				return
			}
			if ce != nil || !strings.Contains(string(got), tc.want) {
				t.Errorf("answer %s / %v, want %s", got, ce, tc.want)
			}
		})
	}
}

func TestGetBaseReportInParts(t *testing.T) {
	r := newRig(t, nil)
	r.register()
	got, ce := r.handle(ActionGetBaseReport, `{"requestId":7,"reportBase":"FullInventory"}`)
	if ce != nil || !strings.Contains(string(got), `"Accepted"`) {
		t.Fatalf("GetBaseReport = %s, %v", got, ce)
	}
	all, _ := r.vars.Report("FullInventory")
	parts := r.caller.Calls(ActionNotifyReport)
	per := r.vars.Int(devicemodel.ItemsPerMessageGetReport)
	if want := (len(all) + per - 1) / per; len(parts) != want {
		t.Fatalf("%d NotifyReport parts, want %d for %d items", len(parts), want, len(all))
	}
	items := 0
	for i, p := range parts {
		var req NotifyReportRequest
		if err := json.Unmarshal(p.payload, &req); err != nil {
			t.Fatal(err)
		}
		tbc := req.Tbc != nil && *req.Tbc
		if req.RequestID != 7 || req.SeqNo != i || tbc != (i < len(parts)-1) || len(req.ReportData) > per {
			t.Errorf("part %d: requestId %d seqNo %d tbc %v items %d", i, req.RequestID, req.SeqNo, tbc, len(req.ReportData))
		}
		items += len(req.ReportData)
	}
	if items != len(all) {
		t.Errorf("%d items reported, want %d", items, len(all))
	}
	if got, _ := r.handle(ActionGetReport, `{"requestId":8,"componentVariable":[{"component":{"name":"NoSuchCtrlr"}}]}`); !strings.Contains(string(got), "EmptyResultSet") {
		t.Errorf("GetReport of nothing = %s", got)
	}
}

func reading(wh float64, at time.Time) meter.Reading {
	return meter.Reading{Time: at, Fields: meter.FieldEnergyImport | meter.FieldPower, EnergyImport: meter.Energy(wh * float64(meter.WattHour)), Power: 7000e9}
}

func TestTransactionLifecycle(t *testing.T) {
	r := newRig(t, nil) // TxStartPoint PowerPathClosed, TxStopPoint EVConnected,Authorized
	r.register()
	ctx := context.Background()
	now := r.clk.Now()
	r.ch.StatusChanged(station.StatusChange{Connector: 1, Status: station.Preparing, At: now})
	if r.queue.Len() != 0 {
		t.Fatal("a transaction started at the plug, before the start point")
	}
	if err := r.ch.SessionStarted(ctx, station.SessionStart{Connector: 1, SessionID: "s1", IDTag: "04A1B2C3", MeterStart: 1000 * meter.WattHour, At: now}); err != nil {
		t.Fatal(err)
	}
	r.ch.StatusChanged(station.StatusChange{Connector: 1, Status: station.Charging, At: now.Add(time.Second)})
	if err := r.ch.SampleTaken(ctx, station.Sample{Connector: 1, SessionID: "s1", Context: station.ContextPeriodic, Reading: reading(1500, now.Add(time.Minute)), At: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := r.ch.SessionEnded(ctx, station.SessionEnd{Connector: 1, SessionID: "s1", IDTag: "04A1B2C3", MeterStop: 2000 * meter.WattHour, At: now.Add(2 * time.Minute), Reason: station.ReasonLocal,
		End: reading(2000, now.Add(2*time.Minute))}); err != nil {
		t.Fatal(err)
	}
	evs := r.deliver()
	want := []struct {
		kind    TransactionEventKind
		trigger TriggerReason
	}{
		{TransactionEventKindStarted, TriggerReasonAuthorized},
		{TransactionEventKindUpdated, TriggerReasonChargingStateChanged},
		{TransactionEventKindUpdated, TriggerReasonMeterValuePeriodic},
		{TransactionEventKindEnded, TriggerReasonStopAuthorized},
	}
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(evs), len(want), evs)
	}
	id := evs[0].TransactionInfo.TransactionID
	for i, ev := range evs {
		if ev.EventType != want[i].kind || ev.TriggerReason != want[i].trigger || ev.SeqNo != i || ev.TransactionInfo.TransactionID != id {
			t.Errorf("event %d = %s %s seq %d tx %s, want %s %s seq %d", i, ev.EventType, ev.TriggerReason, ev.SeqNo, ev.TransactionInfo.TransactionID, want[i].kind, want[i].trigger, i)
		}
		if ev.Offline != nil {
			t.Errorf("event %d offline while online", i)
		}
	}
	if len(id) == 0 || len(id) > 36 {
		t.Errorf("transactionId %q", id)
	}
	if e := evs[0]; e.EVSE == nil || e.EVSE.ID != 1 || e.IDToken == nil || e.IDToken.IDToken != "04A1B2C3" || e.IDToken.Type != IDTokenKindISO14443 {
		t.Errorf("Started = %+v", e)
	}
	if e := evs[1]; e.TransactionInfo.ChargingState != ChargingStateCharging {
		t.Errorf("Updated chargingState = %q", e.TransactionInfo.ChargingState)
	}
	if e := evs[2]; len(e.MeterValue) != 1 || e.MeterValue[0].SampledValue[0].Value != 1500 || e.MeterValue[0].SampledValue[0].Context != ReadingContextSamplePeriodic {
		t.Errorf("meter Updated = %+v", e.MeterValue)
	}
	if e := evs[3]; e.TransactionInfo.StoppedReason != ReasonLocal || len(e.MeterValue) == 0 {
		t.Errorf("Ended = %+v", e)
	}
}

func TestTransactionFromEVConnectedOutlivesSession(t *testing.T) {
	r := newRig(t, map[devicemodel.Ref]string{devicemodel.TxStartPoint: "EVConnected", devicemodel.TxStopPoint: "EVConnected"})
	r.register()
	ctx := context.Background()
	now := r.clk.Now()
	r.ch.StatusChanged(station.StatusChange{Connector: 2, Status: station.Preparing, At: now})
	if err := r.ch.SessionStarted(ctx, station.SessionStart{Connector: 2, SessionID: "s2", IDTag: "CARD", At: now}); err != nil {
		t.Fatal(err)
	}
	if err := r.ch.SessionEnded(ctx, station.SessionEnd{Connector: 2, SessionID: "s2", IDTag: "CARD", At: now, Reason: station.ReasonLocal}); err != nil {
		t.Fatal(err)
	}
	r.ch.StatusChanged(station.StatusChange{Connector: 2, Status: station.Finishing, At: now})
	r.ch.StatusChanged(station.StatusChange{Connector: 2, Status: station.Available, At: now})
	evs := r.deliver()
	var got []string
	for _, e := range evs {
		got = append(got, string(e.EventType)+"/"+string(e.TriggerReason))
	}
	want := "Started/CablePluggedIn Updated/Authorized Updated/StopAuthorized Ended/EVCommunicationLost"
	if strings.Join(got, " ") != want {
		t.Errorf("events %v, want %s", got, want)
	}
	if len(evs) == 4 && (evs[1].IDToken == nil || evs[3].TransactionInfo.StoppedReason != ReasonLocal) {
		t.Errorf("authorization event %+v, end %+v", evs[1], evs[3])
	}
}

func TestOfflineEventsAndRestartKeepSeqNo(t *testing.T) {
	r := newRig(t, nil)
	r.register()
	ctx := context.Background()
	now := r.clk.Now()
	if err := r.ch.SessionStarted(ctx, station.SessionStart{Connector: 1, SessionID: "s1", IDTag: "T", At: now}); err != nil {
		t.Fatal(err)
	}
	first := r.deliver()
	r.setOnline(false)
	if err := r.ch.SampleTaken(ctx, station.Sample{Connector: 1, SessionID: "s1", Context: station.ContextPeriodic, Reading: reading(10, now), At: now}); err != nil {
		t.Fatal(err)
	}
	r.reopen() // power cut with one event queued
	if err := r.ch.SessionEnded(ctx, station.SessionEnd{Connector: 1, SessionID: "s1", At: now, Reason: station.ReasonPowerLoss}); err != nil {
		t.Fatal(err)
	}
	r.setOnline(true)
	rest := r.deliver()
	if len(first) != 1 || len(rest) != 2 {
		t.Fatalf("events %d then %d, want 1 then 2", len(first), len(rest))
	}
	id := first[0].TransactionInfo.TransactionID
	if rest[0].Offline == nil || !*rest[0].Offline || rest[0].SeqNo != 1 {
		t.Errorf("offline Updated = %+v", rest[0])
	}
	if e := rest[1]; e.EventType != TransactionEventKindEnded || e.TransactionInfo.TransactionID != id || e.SeqNo <= 1 || e.TransactionInfo.StoppedReason != ReasonPowerLoss {
		t.Errorf("Ended after restart = %+v (tx %s)", e, id)
	}
}

func TestResetAndRemoteControl(t *testing.T) {
	r := newRig(t, nil)
	r.register()
	ctx := context.Background()
	got, _ := r.handle(ActionRequestStartTransaction, `{"idToken":{"idToken":"APP","type":"Central"},"remoteStartId":42,"evseId":1}`)
	if !strings.Contains(string(got), `"Accepted"`) {
		t.Fatalf("RequestStartTransaction = %s", got)
	}
	r.ch.background.Wait()
	if calls := r.st.Calls(); len(calls) == 0 || calls[len(calls)-1] != "Start 1 APP remote=true skip=true" {
		t.Errorf("station calls %v", calls)
	}
	if err := r.ch.SessionStarted(ctx, station.SessionStart{Connector: 1, SessionID: "s1", IDTag: "APP", At: r.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	evs := r.deliver()
	if len(evs) != 1 || evs[0].TriggerReason != TriggerReasonRemoteStart || evs[0].TransactionInfo.RemoteStartID == nil || *evs[0].TransactionInfo.RemoteStartID != 42 {
		t.Fatalf("Started = %+v", evs)
	}
	tx := evs[0].TransactionInfo.TransactionID
	for _, tc := range []struct{ action, payload, want string }{
		{ActionGetTransactionStatus, `{"transactionId":"` + tx + `"}`, `"ongoingIndicator":true`},
		{ActionUnlockConnector, `{"evseId":1,"connectorId":1}`, "OngoingAuthorizedTransaction"},
		{ActionUnlockConnector, `{"evseId":3,"connectorId":1}`, "UnknownConnector"},
		{ActionReset, `{"type":"OnIdle"}`, "Scheduled"},
		{ActionReset, `{"type":"Immediate","evseId":1}`, "Rejected"},
		{ActionTriggerMessage, `{"requestedMessage":"BootNotification"}`, "Rejected"},
		{ActionTriggerMessage, `{"requestedMessage":"SignV2GCertificate"}`, "NotImplemented"},
		{ActionTriggerMessage, `{"requestedMessage":"TransactionEvent","evse":{"id":1}}`, "Accepted"},
		{ActionRequestStopTransaction, `{"transactionId":"nope"}`, "Rejected"},
		{ActionRequestStopTransaction, `{"transactionId":"` + tx + `"}`, "Accepted"},
		{ActionChangeAvailability, `{"operationalStatus":"Inoperative","evse":{"id":9}}`, "Rejected"},
		{ActionSetNetworkProfile, `{"configurationSlot":1,"connectionData":{"ocppVersion":"OCPP20","ocppTransport":"JSON","ocppCsmsUrl":"wss://x/ocpp","messageTimeout":30,"securityProfile":2,"ocppInterface":"Wired0"}}`, "Rejected"},
		{ActionSetNetworkProfile, `{"configurationSlot":1,"connectionData":{"ocppVersion":"OCPP20","ocppTransport":"JSON","ocppCsmsUrl":"ws://x/ocpp","messageTimeout":30,"securityProfile":0,"ocppInterface":"Wired0"}}`, "Accepted"},
		{ActionDataTransfer, `{"vendorId":"acme"}`, "UnknownVendorId"},
	} {
		got, ce := r.handle(tc.action, tc.payload)
		if ce != nil || !strings.Contains(string(got), tc.want) {
			t.Errorf("%s %s = %s, %v; want %s", tc.action, tc.payload, got, ce, tc.want)
		}
	}
	if calls := r.st.Calls(); calls[len(calls)-1] != "StopSession s1 Remote" {
		t.Errorf("station calls %v", calls)
	}
	if _, ok, _ := r.ch.NetworkProfile(1); !ok {
		t.Error("network profile not stored")
	}
	// The scheduled reset runs once the transaction has ended.
	if err := r.ch.SessionEnded(ctx, station.SessionEnd{Connector: 1, SessionID: "s1", At: r.clk.Now(), Reason: station.ReasonRemote}); err != nil {
		t.Fatal(err)
	}
	r.ch.background.Wait()
	r.ch.background.Wait()
	if calls := r.st.Calls(); calls[len(calls)-1] != "Reset HardReset" {
		t.Errorf("station calls %v, want the scheduled reset", calls)
	}
	if reason, _ := r.ch.store.bootReason(); reason != BootReasonScheduledReset {
		t.Errorf("next boot reason %q", reason)
	}
	r.deliver()
}

// TestMalformedFrames checks the CALLERROR of OCPP-J 2.0.1 for each kind
// of bad payload.
func TestMalformedFrames(t *testing.T) {
	r := newRig(t, nil)
	r.register()
	for _, tc := range []struct {
		name, action, payload string
		code                  ocppclient.ErrorCode
	}{
		{"not JSON", ActionReset, `{"type":`, FormatViolation},
		{"not an object", ActionReset, `[1]`, FormatViolation},
		{"unknown field", ActionReset, `{"type":"Immediate","hard":true}`, FormatViolation},
		{"wrong type", ActionReset, `{"type":1}`, TypeConstraintViolation},
		{"integer as string", ActionUnlockConnector, `{"evseId":"1","connectorId":1}`, TypeConstraintViolation},
		{"fraction", ActionUnlockConnector, `{"evseId":1.5,"connectorId":1}`, TypeConstraintViolation},
		{"null", ActionReset, `{"type":null}`, TypeConstraintViolation},
		{"missing required", ActionReset, `{}`, OccurrenceConstraintViolation},
		{"empty list", ActionGetVariables, `{"getVariableData":[]}`, OccurrenceConstraintViolation},
		{"unknown enum", ActionReset, `{"type":"Hard"}`, PropertyConstraintViolation},
		{"too long", ActionRequestStopTransaction, `{"transactionId":"` + strings.Repeat("x", 37) + `"}`, PropertyConstraintViolation},
		{"bad date-time", ActionSendLocalList, `{"versionNumber":1,"updateType":"Full","localAuthorizationList":[{"idToken":{"idToken":"a","type":"Central"},"idTokenInfo":{"status":"Accepted","cacheExpiryDateTime":"tomorrow"}}]}`, TypeConstraintViolation},
		{"customData without vendorId", ActionReset, `{"type":"Immediate","customData":{}}`, OccurrenceConstraintViolation},
		{"profile without schedule", ActionSetChargingProfile, `{"evseId":1,"chargingProfile":{"id":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Relative","chargingSchedule":[]}}`, OccurrenceConstraintViolation},
		{"profile purpose unknown", ActionSetChargingProfile, `{"evseId":1,"chargingProfile":{"id":1,"stackLevel":0,"chargingProfilePurpose":"Max","chargingProfileKind":"Relative","chargingSchedule":[{"id":1,"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":6}]}]}}`, PropertyConstraintViolation},
		{"limit as string", ActionSetChargingProfile, `{"evseId":1,"chargingProfile":{"id":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Relative","chargingSchedule":[{"id":1,"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":"6"}]}]}}`, TypeConstraintViolation},
		{"composite without evse", ActionGetCompositeSchedule, `{"duration":60}`, OccurrenceConstraintViolation},
		{"profiles criterion missing", ActionGetChargingProfiles, `{"requestId":1}`, OccurrenceConstraintViolation},
		{"clear with unknown field", ActionClearChargingProfile, `{"id":1}`, FormatViolation},
		{"reserve bad expiry", ActionReserveNow, `{"id":1,"expiryDateTime":"soon","idToken":{"idToken":"A","type":"Central"}}`, TypeConstraintViolation},
		{"reserve bad connector type", ActionReserveNow, `{"id":1,"expiryDateTime":"2030-01-01T00:00:00Z","idToken":{"idToken":"A","type":"Central"},"connectorType":"Schuko"}`, PropertyConstraintViolation},
		{"cancel without id", ActionCancelReservation, `{}`, OccurrenceConstraintViolation},
		{"certificate too long", ActionInstallCertificate, `{"certificateType":"CSMSRootCertificate","certificate":"` + strings.Repeat("x", 5501) + `"}`, PropertyConstraintViolation},
		{"certificate type unknown", ActionInstallCertificate, `{"certificateType":"Root","certificate":"x"}`, PropertyConstraintViolation},
		{"delete without hash data", ActionDeleteCertificate, `{}`, OccurrenceConstraintViolation},
		{"installed ids empty list", ActionGetInstalledCertificateIds, `{"certificateType":[]}`, OccurrenceConstraintViolation},
		{"chain as number", ActionCertificateSigned, `{"certificateChain":1}`, TypeConstraintViolation},
		{"firmware without location", ActionUpdateFirmware, `{"requestId":1,"firmware":{"retrieveDateTime":"2030-01-01T00:00:00Z"}}`, OccurrenceConstraintViolation},
		{"firmware retries fraction", ActionUpdateFirmware, `{"requestId":1,"retries":1.5,"firmware":{"location":"https://x","retrieveDateTime":"2030-01-01T00:00:00Z"}}`, TypeConstraintViolation},
		{"log type unknown", ActionGetLog, `{"requestId":1,"logType":"All","log":{"remoteLocation":"https://x"}}`, PropertyConstraintViolation},
		{"log location too long", ActionGetLog, `{"requestId":1,"logType":"DiagnosticsLog","log":{"remoteLocation":"` + strings.Repeat("x", 513) + `"}}`, PropertyConstraintViolation},
		{"cost without transaction", ActionCostUpdated, `{"totalCost":1.5}`, OccurrenceConstraintViolation},
		{"cost without total", ActionCostUpdated, `{"transactionId":"t1"}`, OccurrenceConstraintViolation},
		{"cost as string", ActionCostUpdated, `{"totalCost":"1.50","transactionId":"t1"}`, TypeConstraintViolation},
		{"cost transaction too long", ActionCostUpdated, `{"totalCost":1,"transactionId":"` + strings.Repeat("x", 37) + `"}`, PropertyConstraintViolation},
		{"cost with unknown field", ActionCostUpdated, `{"totalCost":1,"transactionId":"t1","currency":"EUR"}`, FormatViolation},
		{"unknown action", "Frobnicate", `{}`, ocppclient.NotImplemented},
		{"unsupported action", ActionSetDisplayMessage, `{}`, ocppclient.NotSupported},
		{"station-sent action", ActionBootNotification, `{}`, ocppclient.NotSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ce := r.handle(tc.action, tc.payload)
			if ce == nil || ce.Code != tc.code {
				t.Errorf("CALLERROR %v, want %s", ce, tc.code)
			}
		})
	}
	// customData is allowed everywhere.
	if _, ce := r.handle(ActionClearCache, `{"customData":{"vendorId":"acme","x":1}}`); ce != nil {
		t.Errorf("customData refused: %v", ce)
	}
}

func TestActionTable(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range Actions() {
		if seen[a.Action] {
			t.Errorf("%s listed twice", a.Action)
		}
		seen[a.Action] = true
		if a.Doc == "" || a.Block == "" {
			t.Errorf("%s lacks doc or block", a.Action)
		}
		inbound := a.Direction != ToCSMS
		if a.Support == Supported && inbound && a.newRequest == nil {
			t.Errorf("%s supported inbound without a request type", a.Action)
		}
	}
	if len(seen) != 64 {
		t.Errorf("%d actions, OCPP 2.0.1 has 64", len(seen))
	}
}

// A Started event the queue refuses (a full disk; here a closed queue)
// leaves no transaction and no session behind: the station reports the
// start again, and that report must start the transaction with seqNo 0,
// not be taken for a repeat.
func TestStartRefusedByTheQueueIsRetried(t *testing.T) {
	r := newRig(t, nil)
	r.register()
	ctx := context.Background()
	now := r.clk.Now()
	start := station.SessionStart{Connector: 1, SessionID: "s1", IDTag: "CARD", MeterStart: 1000 * meter.WattHour, At: now}
	r.ch.StatusChanged(station.StatusChange{Connector: 1, Status: station.Preparing, At: now})
	if err := r.queue.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.ch.SessionStarted(ctx, start); err == nil {
		t.Fatal("SessionStarted succeeded on a closed queue")
	}
	if e := r.ch.evses[1]; e.tx != nil || e.session != "" || e.authorized {
		t.Fatalf("after the refused start: tx %v session %q authorized %v; want none left", e.tx, e.session, e.authorized)
	}
	// Room again: a queue on the same files takes the station's retry.
	q, err := ocppclient.OpenQueue(r.db, ocppclient.QueueOptions{LogPath: filepath.Join(r.dir, "queue.log")})
	if err != nil {
		t.Fatal(err)
	}
	r.queue, r.ch.queue = q, q
	if err := r.ch.SessionStarted(ctx, start); err != nil {
		t.Fatal(err)
	}
	started := r.queued(ActionTransactionEvent)
	if len(started) != 1 {
		t.Fatalf("%d TransactionEvents queued after the retry, want the Started", len(started))
	}
	var ev TransactionEventRequest
	if err := json.Unmarshal(started[0], &ev); err != nil {
		t.Fatal(err)
	}
	if ev.EventType != TransactionEventKindStarted || ev.SeqNo != 0 || ev.IDToken == nil || ev.IDToken.IDToken != "CARD" {
		t.Errorf("queued %s seq %d token %+v, want Started seq 0 with the card", ev.EventType, ev.SeqNo, ev.IDToken)
	}
}
