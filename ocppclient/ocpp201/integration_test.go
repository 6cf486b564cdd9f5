package ocpp201

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/availability"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/provisioning"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/transactions"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/types"
	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/ocppclient/ocpptest/csms201"
	"github.com/evsed/evsed/station"
)

// waitLimit bounds each wait over real websockets: a failsafe, not a
// performance assertion.
const waitLimit = 10 * time.Second

// TestIntegrationWithCSMS runs the Charger with the real transport and
// queue against ocpp-go's 2.0.1 CSMS over loopback websockets: a boot
// Pending then Accepted, status notifications, Get/SetVariables and a
// base report, a remote start and stop with TransactionEvents in order,
// and a CSMS outage mid-session whose events arrive after the reconnect,
// offline, in order and once.
func TestIntegrationWithCSMS(t *testing.T) {
	if testing.Short() {
		t.Skip("real websockets")
	}
	csms, err := csms201.Start(csms201.Options{PendingBoots: 1, HeartbeatInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer csms.Stop()
	dir := t.TempDir()
	db, err := bbolt.Open(filepath.Join(dir, "evsed.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	vars, err := devicemodel.Open(db, "devicemodel", devicemodel.Standard(devicemodel.Shape{EVSEs: 2}), nil)
	if err != nil {
		t.Fatal(err)
	}
	queue, err := ocppclient.OpenQueue(db, ocppclient.QueueOptions{LogPath: filepath.Join(dir, "queue.log")})
	if err != nil {
		t.Fatal(err)
	}
	defer queue.Close()
	log := slog.New(slog.DiscardHandler)
	st := newFakeStation(2)
	ch, err := New(Options{Identity: Identity{Model: "sim", VendorName: "evsed"}, NumEVSEs: 2, DB: db, Variables: vars, Queue: queue, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ch.SetStation(st)
	client, err := ocppclient.New(ocppclient.Options{
		URL: csms.URL(), ChargePointID: "CS1", Subprotocols: []string{"ocpp2.0.1"},
		Handler: ch, Hooks: ch, OnConnect: ch.OnConnect, OnDisconnect: ch.Disconnected, Queue: queue, Logger: log,
		BackoffMin: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ch.SetTransport(client, client.Registered)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = client.Run(ctx) })
	wg.Go(func() { _ = ch.Run(ctx) })
	defer func() {
		cancel()
		wg.Wait()
		ch.background.Wait()
	}()

	if !csms.WaitFor(waitLimit, func(recs []csms201.Record) bool { return len(filter(recs, "StatusNotification")) >= 2 }) {
		t.Fatalf("no status notifications; records %v", actions(csms.Records()))
	}
	if got := actions(csms.Records())[:2]; got[0] != "BootNotification" || got[1] != "BootNotification" {
		t.Errorf("first messages %v, want two BootNotifications (Pending, Accepted)", got)
	}
	for _, r := range filter(csms.Records(), "StatusNotification") {
		if req := r.Request.(*availability.StatusNotificationRequest); req.ConnectorStatus != availability.ConnectorStatusAvailable || req.ConnectorID != 1 {
			t.Errorf("StatusNotification %+v", req)
		}
	}

	// Device model.
	sv, err := csms.SetVariables("CS1", provisioning.SetVariableData{Component: typesComponent("SampledDataCtrlr"),
		Variable: typesVariable("TxUpdatedInterval"), AttributeValue: "30"})
	if err != nil || sv.SetVariableResult[0].AttributeStatus != provisioning.SetVariableStatusAccepted {
		t.Fatalf("SetVariables = %+v, %v", sv, err)
	}
	gv, err := csms.GetVariables("CS1", provisioning.GetVariableData{Component: typesComponent("SampledDataCtrlr"), Variable: typesVariable("TxUpdatedInterval")})
	if err != nil || gv.GetVariableResult[0].AttributeValue != "30" {
		t.Fatalf("GetVariables = %+v, %v", gv, err)
	}
	br, err := csms.GetBaseReport("CS1", 5, provisioning.ReportTypeFullInventory)
	if err != nil || br.Status != types.GenericDeviceModelStatusAccepted {
		t.Fatalf("GetBaseReport = %+v, %v", br, err)
	}
	if !csms.WaitFor(waitLimit, func(recs []csms201.Record) bool {
		parts := filter(recs, "NotifyReport")
		return len(parts) > 0 && !boolOf(parts[len(parts)-1].Request.(*provisioning.NotifyReportRequest).Tbc)
	}) {
		t.Fatal("no complete report")
	}
	for i, r := range filter(csms.Records(), "NotifyReport") {
		if req := r.Request.(*provisioning.NotifyReportRequest); req.RequestID != 5 || req.SeqNo != i {
			t.Errorf("NotifyReport %d: requestId %d seqNo %d", i, req.RequestID, req.SeqNo)
		}
	}

	// Remote start; the station plays its part.
	rs, err := csms.RequestStart("CS1", 1, 77, "APP")
	if err != nil || rs.Status != "Accepted" {
		t.Fatalf("RequestStart = %+v, %v", rs, err)
	}
	now := clock.Real{}.Now()
	ch.StatusChanged(station.StatusChange{Connector: 1, Status: station.Charging, At: now})
	if err := ch.SessionStarted(ctx, station.SessionStart{Connector: 1, SessionID: "s1", IDTag: "APP", At: now}); err != nil {
		t.Fatal(err)
	}
	if !csms.WaitFor(waitLimit, func(recs []csms201.Record) bool { return len(filter(recs, "TransactionEvent")) >= 1 }) {
		t.Fatal("no TransactionEvent Started")
	}
	started := filter(csms.Records(), "TransactionEvent")[0].Request.(*transactions.TransactionEventRequest)
	if started.TriggerReason != transactions.TriggerReasonRemoteStart || started.TransactionInfo.RemoteStartID == nil || *started.TransactionInfo.RemoteStartID != 77 {
		t.Errorf("Started = %+v", started)
	}
	txID := started.TransactionInfo.TransactionID

	// The CSMS goes away mid-session; events queue offline. Once the
	// Started was answered: a CSMS gone between recording it and
	// answering gets it again after the reconnect (at least once).
	for deadline := time.Now().Add(waitLimit); queue.Len() > 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the Started event was never answered")
		}
	}
	csms.Stop()
	for client.Registered() {
		time.Sleep(5 * time.Millisecond)
	}
	for i := range 3 {
		at := clock.Real{}.Now()
		if err := ch.SampleTaken(ctx, station.Sample{Connector: 1, SessionID: "s1", Context: station.ContextPeriodic, Reading: reading(float64(100*(i+1)), at), At: at}); err != nil {
			t.Fatal(err)
		}
	}
	if err := csms.Restart(); err != nil {
		t.Fatal(err)
	}
	if !csms.WaitFor(waitLimit, func(recs []csms201.Record) bool { return len(filter(recs, "TransactionEvent")) >= 4 }) {
		t.Fatalf("offline events not delivered; records %v", actions(csms.Records()))
	}
	rstop, err := csms.RequestStop("CS1", txID)
	if err != nil || rstop.Status != "Accepted" {
		t.Fatalf("RequestStop = %+v, %v", rstop, err)
	}
	if err := ch.SessionEnded(ctx, station.SessionEnd{Connector: 1, SessionID: "s1", At: clock.Real{}.Now(), Reason: station.ReasonRemote}); err != nil {
		t.Fatal(err)
	}
	if !csms.WaitFor(waitLimit, func(recs []csms201.Record) bool { return len(filter(recs, "TransactionEvent")) >= 5 }) {
		t.Fatal("no Ended")
	}
	evs := filter(csms.Records(), "TransactionEvent")
	if len(evs) != 5 {
		t.Fatalf("%d TransactionEvents, want 5 (once each)", len(evs))
	}
	for i, r := range evs {
		req := r.Request.(*transactions.TransactionEventRequest)
		offline := req.Offline
		if req.SequenceNo != i || req.TransactionInfo.TransactionID != txID || offline != (i >= 1 && i <= 3) {
			t.Errorf("event %d: %s seq %d offline %v", i, req.EventType, req.SequenceNo, offline)
		}
	}
	if last := evs[4].Request.(*transactions.TransactionEventRequest); last.EventType != transactions.TransactionEventEnded || last.TransactionInfo.StoppedReason != transactions.ReasonRemote {
		t.Errorf("Ended = %+v", last)
	}
	if dead, err := queue.DeadLetters(); err != nil || len(dead) != 0 {
		t.Errorf("dead letters %v, %v", dead, err)
	}
}

func filter(recs []csms201.Record, action string) []csms201.Record {
	var out []csms201.Record
	for _, r := range recs {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

func actions(recs []csms201.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Action
	}
	return out
}

func boolOf(b bool) bool { return b }

func typesComponent(name string) types.Component { return types.Component{Name: name} }
func typesVariable(name string) types.Variable   { return types.Variable{Name: name} }
