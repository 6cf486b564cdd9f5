package main

import (
	"context"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/provisioning"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/remotecontrol"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/transactions"
	types201 "github.com/lorenzodonini/ocpp-go/ocpp2.0.1/types"

	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/ocppclient/ocpptest/csms201"
)

// The real binary against ocpp-go's 2.0.1 CSMS, a back end that speaks no
// 1.6: the charger offers both versions and speaks 2.0.1 because the CSMS
// chose it. The 1.6 scenarios of e2e_test.go run against the 1.6 CSMS in
// the same test run, with the same binary.

// both is what a charger that speaks either version offers, 2.0.1 first.
var both = []string{"ocpp2.0.1", "ocpp1.6"}

// fast201 samples every second, so that a session of a few seconds has
// Updated events.
var fast201 = map[string]string{"SampledDataCtrlr/TxUpdatedInterval": "1"}

func startCSMS201(t *testing.T, opts csms201.Options) *csms201.CSMS {
	t.Helper()
	csms, err := csms201.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(csms.Stop)
	return csms
}

// txEvents returns the TransactionEvents of station st in the order the
// CSMS received them.
func txEvents(csms *csms201.CSMS, st string) []*transactions.TransactionEventRequest {
	var out []*transactions.TransactionEventRequest
	for _, r := range csms.Records("TransactionEvent") {
		if r.Station == st {
			out = append(out, r.Request.(*transactions.TransactionEventRequest))
		}
	}
	return out
}

// waitTxEvent waits for a TransactionEvent of st that ok accepts.
func waitTxEvent(t *testing.T, csms *csms201.CSMS, st, what string, ok func(*transactions.TransactionEventRequest) bool) *transactions.TransactionEventRequest {
	t.Helper()
	var found *transactions.TransactionEventRequest
	if !csms.WaitFor(e2eWait, func([]csms201.Record) bool {
		for _, ev := range txEvents(csms, st) {
			if ok(ev) {
				found = ev
				return true
			}
		}
		return false
	}) {
		t.Fatalf("no TransactionEvent %s from %s; got %d events", what, st, len(txEvents(csms, st)))
	}
	return found
}

func eventType(want transactions.TransactionEvent) func(*transactions.TransactionEventRequest) bool {
	return func(ev *transactions.TransactionEventRequest) bool { return ev.EventType == want }
}

// checkTransaction checks the events of one transaction as a CSMS sees
// them: exactly one Started first and one Ended last, one transactionId,
// and seqNo 0, 1, 2, ... with none missing or repeated; across a restart
// (contiguous false) seqNo only has to rise strictly from 0.
func checkTransaction(t *testing.T, csms *csms201.CSMS, st, txID string, contiguous bool) []*transactions.TransactionEventRequest {
	t.Helper()
	var evs []*transactions.TransactionEventRequest
	resent := 0
	for _, ev := range txEvents(csms, st) {
		if ev.TransactionInfo.TransactionID != txID {
			continue
		}
		if n := len(evs); n > 0 && evs[n-1].SequenceNo == ev.SequenceNo && evs[n-1].EventType == ev.EventType &&
			evs[n-1].Timestamp.Equal(ev.Timestamp.Time) {
			// The CALL in flight when the connection went: sent again
			// after the reconnect (at least once), the same event.
			resent++
			continue
		}
		evs = append(evs, ev)
	}
	if resent > 1 {
		t.Errorf("transaction %s: %d events sent twice, want at most the one in flight at an outage", txID, resent)
	}
	if len(evs) < 2 {
		t.Fatalf("transaction %s: %d events, want Started ... Ended", txID, len(evs))
	}
	for i, ev := range evs {
		switch {
		case i == 0 && ev.SequenceNo != 0:
			t.Errorf("transaction %s starts at seqNo %d, want 0", txID, ev.SequenceNo)
		case i > 0 && contiguous && ev.SequenceNo != evs[i-1].SequenceNo+1,
			i > 0 && ev.SequenceNo <= evs[i-1].SequenceNo:
			t.Errorf("transaction %s event %d (%s): seqNo %d after %d", txID, i, ev.EventType, ev.SequenceNo, evs[i-1].SequenceNo)
		}
		switch {
		case i == 0 && ev.EventType != transactions.TransactionEventStarted,
			i == len(evs)-1 && ev.EventType != transactions.TransactionEventEnded,
			i > 0 && i < len(evs)-1 && ev.EventType != transactions.TransactionEventUpdated:
			t.Errorf("transaction %s event %d is %s", txID, i, ev.EventType)
		}
	}
	return evs
}

// A session by card: the boot answered Pending then Accepted, the
// statuses, Authorize, and the transaction's events in order with seqNo
// 0..n, energy rising, the card in the event that carries it.
func TestE2E201SessionByCard(t *testing.T) {
	csms := startCSMS201(t, csms201.Options{PendingBoots: 1, HeartbeatInterval: time.Minute})
	a := newAgent(t, agentConfig{ID: "CP201", CSMSURL: csms.URL(), Protocols: both, OCPP201: fast201})
	a.start()
	st := a.waitStatus("registration", func(st localapi.Status) bool {
		return st.Station.OCPP.Registration == "Accepted" && st.Station.OCPP.Connected
	})
	if st.Station.OCPP.Version != "ocpp2.0.1" {
		t.Errorf("ocpp version %q, want ocpp2.0.1", st.Station.OCPP.Version)
	}
	if boots := csms.Records("BootNotification"); len(boots) < 2 {
		t.Errorf("%d BootNotifications, want a Pending one and an Accepted one", len(boots))
	} else if b := boots[0].Request.(*provisioning.BootNotificationRequest); b.Reason != provisioning.BootReasonPowerUp || b.ChargingStation.VendorName == "" {
		t.Errorf("BootNotification %+v, want reason PowerUp and a vendor", b)
	}
	if !csms.WaitFor(e2eWait, func(recs []csms201.Record) bool { return len(csms.Records("StatusNotification")) >= 2 }) {
		t.Fatal("no StatusNotification for the two connectors")
	}

	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 1) })
	a.do("swipe", func(ctx context.Context) error { return a.api.Swipe(ctx, 1, "TAG1") })
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 1) })
	a.waitStatus("charging", connectorStatus(1, "Charging"))
	if auth := csms.Records("Authorize"); len(auth) == 0 {
		t.Error("no Authorize for the card")
	}
	started := waitTxEvent(t, csms, "CP201", "Started", eventType(transactions.TransactionEventStarted))
	txID := started.TransactionInfo.TransactionID
	if started.Evse == nil || started.Evse.ID != 1 {
		t.Errorf("Started evse %+v, want EVSE 1", started.Evse)
	}
	a.waitStatus("the transaction id in the status", func(st localapi.Status) bool {
		s := st.Connectors[0].Session
		return s != nil && s.TransactionID == txID
	})
	waitTxEvent(t, csms, "CP201", "Updated with a meter value", func(ev *transactions.TransactionEventRequest) bool {
		return ev.EventType == transactions.TransactionEventUpdated && len(ev.MeterValue) > 0
	})
	a.do("unplug", func(ctx context.Context) error { return a.api.Unplug(ctx, 1) })
	ended := waitTxEvent(t, csms, "CP201", "Ended", eventType(transactions.TransactionEventEnded))
	if ended.TransactionInfo.StoppedReason != transactions.ReasonEVDisconnected {
		t.Errorf("Ended stoppedReason %q, want EVDisconnected", ended.TransactionInfo.StoppedReason)
	}
	evs := checkTransaction(t, csms, "CP201", txID, true)
	card := false
	for _, ev := range evs {
		card = card || ev.IDToken != nil && ev.IDToken.IdToken == "TAG1"
		if ev.Offline {
			t.Errorf("event %d flagged offline on a charger that never lost its CSMS", ev.SequenceNo)
		}
	}
	if !card {
		t.Error("no event of the transaction carries the card TAG1")
	}
	a.waitStatus("queue drained", func(st localapi.Status) bool { return st.Station.OCPP.Queued == 0 })
	a.stop()
}

// RequestStartTransaction and RequestStopTransaction: the remoteStartId
// in the transaction, the stop reason Remote, the contactor open.
func TestE2E201RemoteStartStop(t *testing.T) {
	csms := startCSMS201(t, csms201.Options{})
	a := newAgent(t, agentConfig{ID: "CP201R", CSMSURL: csms.URL(), Protocols: both})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool { return st.Station.OCPP.Registration == "Accepted" })
	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 2) })
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 2) })
	resp, err := csms.RequestStart("CP201R", 2, 77, "REMOTE1")
	if err != nil || resp.Status != remotecontrol.RequestStartStopStatusAccepted {
		t.Fatalf("RequestStartTransaction = %+v, %v; want Accepted", resp, err)
	}
	a.waitStatus("charging", connectorStatus(2, "Charging"))
	started := waitTxEvent(t, csms, "CP201R", "Started", eventType(transactions.TransactionEventStarted))
	txID := started.TransactionInfo.TransactionID
	remote := false
	for _, ev := range txEvents(csms, "CP201R") {
		id := ev.TransactionInfo.RemoteStartID
		remote = remote || ev.TriggerReason == transactions.TriggerReasonRemoteStart && id != nil && *id == 77
	}
	if !remote {
		t.Error("no event with triggerReason RemoteStart and remoteStartId 77")
	}
	if resp, err := csms.RequestStop("CP201R", "no-such-transaction"); err != nil || resp.Status != remotecontrol.RequestStartStopStatusRejected {
		t.Errorf("RequestStop of an unknown transaction = %+v, %v; want Rejected", resp, err)
	}
	if resp, err := csms.RequestStop("CP201R", txID); err != nil || resp.Status != remotecontrol.RequestStartStopStatusAccepted {
		t.Fatalf("RequestStopTransaction = %+v, %v; want Accepted", resp, err)
	}
	ended := waitTxEvent(t, csms, "CP201R", "Ended", eventType(transactions.TransactionEventEnded))
	if ended.TransactionInfo.StoppedReason != transactions.ReasonRemote {
		t.Errorf("Ended stoppedReason %q, want Remote", ended.TransactionInfo.StoppedReason)
	}
	a.waitStatus("contactor open after the remote stop", func(st localapi.Status) bool { return !st.Connectors[1].Contactor })
	checkTransaction(t, csms, "CP201R", txID, true)
}

// The CSMS goes away mid-session, the charger is killed (a power cut) and
// restarted while it is still away, then the CSMS comes back: every event
// arrives once, in order, seqNo without gap or repeat, the ones written
// while offline flagged offline, and the transaction ends.
func TestE2E201OutageAndKill(t *testing.T) {
	csms := startCSMS201(t, csms201.Options{})
	a := newAgent(t, agentConfig{ID: "CP201K", CSMSURL: csms.URL(), Protocols: both, Free: true, OCPP201: fast201})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool { return st.Station.OCPP.Registration == "Accepted" })
	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 1) })
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 1) })
	started := waitTxEvent(t, csms, "CP201K", "Started", eventType(transactions.TransactionEventStarted))
	txID := started.TransactionInfo.TransactionID
	waitTxEvent(t, csms, "CP201K", "Updated", eventType(transactions.TransactionEventUpdated))

	csms.Stop()
	q0 := a.waitStatus("disconnect", func(st localapi.Status) bool { return !st.Station.OCPP.Connected }).Station.OCPP.Queued
	// Events written once the charger knows it is offline: two samples.
	a.waitStatus("events queued offline", func(st localapi.Status) bool { return st.Station.OCPP.Queued >= q0+2 })
	a.kill()
	a.start()
	st := a.waitStatus("the session ended after the power cut", func(st localapi.Status) bool {
		return st.Connectors[0].Session == nil
	})
	if st.Station.OCPP.Version != "ocpp2.0.1" {
		t.Errorf("offline after the restart the version is %q, want ocpp2.0.1, the CSMS's", st.Station.OCPP.Version)
	}

	if err := csms.Restart(); err != nil {
		t.Fatal(err)
	}
	ended := waitTxEvent(t, csms, "CP201K", "Ended", eventType(transactions.TransactionEventEnded))
	a.waitStatus("queue drained", func(st localapi.Status) bool { return st.Station.OCPP.Queued == 0 })
	evs := checkTransaction(t, csms, "CP201K", txID, true)
	// The simulated car is gone after the power cut: the session ends as
	// power lost, or as the car gone if the station resumed it first.
	if r := ended.TransactionInfo.StoppedReason; !ended.Offline || r != transactions.ReasonPowerLoss && r != transactions.ReasonEVDisconnected {
		t.Errorf("Ended offline %v stoppedReason %q, want written offline, PowerLoss or EVDisconnected", ended.Offline, r)
	}
	offline := 0
	for _, ev := range evs {
		if ev.Offline {
			offline++
		}
	}
	if offline < 2 {
		t.Errorf("%d events flagged offline, want those queued during the outage (at least 2)", offline)
	}
	a.stop()
}

// The device model over the wire: GetVariables, SetVariables of a
// writable variable (persisted: read back after a restart), a read-only
// one Rejected, an unknown component, the heartbeat interval taken from
// the boot answer, and GetBaseReport answered with NotifyReport parts.
func TestE2E201Variables(t *testing.T) {
	csms := startCSMS201(t, csms201.Options{})
	a := newAgent(t, agentConfig{ID: "CP201V", CSMSURL: csms.URL(), Protocols: both})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool { return st.Station.OCPP.Registration == "Accepted" })

	comm := types201.Component{Name: "OCPPCommCtrlr"}
	set, err := csms.SetVariables("CP201V",
		provisioning.SetVariableData{Component: types201.Component{Name: "TxCtrlr"}, Variable: types201.Variable{Name: "EVConnectionTimeOut"}, AttributeValue: "123"},
		provisioning.SetVariableData{Component: types201.Component{Name: "SecurityCtrlr"}, Variable: types201.Variable{Name: "SecurityProfile"}, AttributeValue: "3"},
		provisioning.SetVariableData{Component: types201.Component{Name: "NoSuchCtrlr"}, Variable: types201.Variable{Name: "X"}, AttributeValue: "1"},
	)
	if err != nil || len(set.SetVariableResult) != 3 {
		t.Fatalf("SetVariables = %+v, %v", set, err)
	}
	for i, want := range []provisioning.SetVariableStatus{provisioning.SetVariableStatusAccepted, provisioning.SetVariableStatusRejected, provisioning.SetVariableStatusUnknownComponent} {
		if got := set.SetVariableResult[i].AttributeStatus; got != want {
			t.Errorf("SetVariables item %d: %s, want %s", i, got, want)
		}
	}

	a.kill()
	a.start()
	a.waitStatus("registration after the restart", func(st localapi.Status) bool {
		return st.Station.OCPP.Registration == "Accepted" && st.Station.OCPP.Connected
	})
	get, err := csms.GetVariables("CP201V",
		provisioning.GetVariableData{Component: types201.Component{Name: "TxCtrlr"}, Variable: types201.Variable{Name: "EVConnectionTimeOut"}},
		provisioning.GetVariableData{Component: comm, Variable: types201.Variable{Name: "HeartbeatInterval"}})
	if err != nil || len(get.GetVariableResult) != 2 || get.GetVariableResult[0].AttributeValue != "123" {
		t.Fatalf("GetVariables EVConnectionTimeOut after a restart = %+v, %v; want 123", get, err)
	}
	// The boot answer's interval is the heartbeat interval (B01).
	if v := get.GetVariableResult[1].AttributeValue; v != "300" {
		t.Errorf("HeartbeatInterval %q, want 300 from the BootNotificationResponse", v)
	}

	rep, err := csms.GetBaseReport("CP201V", 5, provisioning.ReportTypeFullInventory)
	if err != nil || rep.Status != types201.GenericDeviceModelStatusAccepted {
		t.Fatalf("GetBaseReport = %+v, %v", rep, err)
	}
	var items int
	if !csms.WaitFor(e2eWait, func(recs []csms201.Record) bool {
		items = 0
		last := false
		for _, r := range csms.Records("NotifyReport") {
			n := r.Request.(*provisioning.NotifyReportRequest)
			if n.RequestID == 5 {
				items += len(n.ReportData)
				last = last || !n.Tbc
			}
		}
		return last
	}) {
		t.Fatal("no last NotifyReport part (tbc false) for request 5")
	}
	if items < 50 {
		t.Errorf("FullInventory reported %d variables, want the whole device model", items)
	}
}

// A TxDefaultProfile for every EVSE limits the simulated EV's current: the
// pilot offers the profile's 10 A instead of the connector's 32 A, during
// the session the CSMS started remotely, and a cleared profile gives the
// current back.
func TestE2E201ProfileLimitsTheEV(t *testing.T) {
	csms := startCSMS201(t, csms201.Options{})
	a := newAgent(t, agentConfig{ID: "CP201P", CSMSURL: csms.URL(), Protocols: both})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool { return st.Station.OCPP.Registration == "Accepted" })
	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 1) })
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 1) })
	if resp, err := csms.RequestStart("CP201P", 1, 5, "APP1"); err != nil || resp.Status != remotecontrol.RequestStartStopStatusAccepted {
		t.Fatalf("RequestStartTransaction = %+v, %v", resp, err)
	}
	a.waitStatus("charging at the connector's 32 A", func(st localapi.Status) bool {
		return st.Connectors[0].Status == "Charging" && st.Connectors[0].OfferedA == 32
	})

	profile := types201.NewChargingProfile(7, 0, types201.ChargingProfilePurposeTxDefaultProfile, types201.ChargingProfileKindAbsolute,
		[]types201.ChargingSchedule{*types201.NewChargingSchedule(1, types201.ChargingRateUnitAmperes, types201.NewChargingSchedulePeriod(0, 10))})
	start := types201.NewDateTime(time.Now().Add(-time.Minute))
	profile.ChargingSchedule[0].StartSchedule = start
	resp, err := csms.SetChargingProfile("CP201P", 0, profile)
	if err != nil || resp.Status != "Accepted" {
		t.Fatalf("SetChargingProfile = %+v, %v", resp, err)
	}
	a.waitStatus("the EV limited to 10 A", func(st localapi.Status) bool { return st.Connectors[0].OfferedA == 10 })

	clear, err := csms.ClearChargingProfile("CP201P", 7)
	if err != nil || clear.Status != "Accepted" {
		t.Fatalf("ClearChargingProfile = %+v, %v", clear, err)
	}
	a.waitStatus("the connector's 32 A back", func(st localapi.Status) bool { return st.Connectors[0].OfferedA == 32 })
}
