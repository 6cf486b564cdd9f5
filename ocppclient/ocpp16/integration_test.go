package ocpp16

import (
	"context"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/ocpptest"
	"github.com/evsed/evsed/station"
)

// waitLimit bounds each wait for the CSMS over real websockets; it is a
// failsafe against a hang, not a performance assertion.
const waitLimit = 10 * time.Second

// TestIntegrationWithCSMS runs the Charger with the real transport and
// queue against ocpp-go's central system over loopback websockets: a boot
// answered Pending then Accepted, the status notifications, and a remote
// start and stop whose transaction messages carry the CSMS's id. The
// station is the fake one: the adapter's side of each station command is
// played by the test.
func TestIntegrationWithCSMS(t *testing.T) {
	if testing.Short() {
		t.Skip("real websockets")
	}
	csms, err := ocpptest.Start(ocpptest.Options{PendingBoots: 1, HeartbeatInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer csms.Stop()

	db, err := bbolt.Open(filepath.Join(t.TempDir(), "evsed.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg, err := OpenConfig(db, "config", map[string]string{KeyNumberOfConnectors: "2"})
	if err != nil {
		t.Fatal(err)
	}
	queue, err := ocppclient.OpenQueue(db, ocppclient.QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	st := newFakeStation(2)
	ch, err := New(Options{
		Identity:      Identity{ChargePointVendor: "evsed", ChargePointModel: "sim"},
		NumConnectors: 2, DB: db, Config: cfg, Queue: queue, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	ch.SetStation(st) // the station is built after the Charger in the binary
	client, err := ocppclient.New(ocppclient.Options{
		URL: csms.URL(), ChargePointID: "CP1", Subprotocols: []string{"ocpp1.6"},
		Handler: ch, Hooks: ch, OnConnect: ch.OnConnect, Queue: queue, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	ch.SetTransport(client, client.Registered)

	clk := clock.Real{} // the CSMS runs on the wall clock
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = client.Run(ctx) })
	wg.Go(func() { _ = ch.Run(ctx) })
	defer func() {
		cancel()
		wg.Wait()
	}()

	// Pending, then Accepted, then connectors 0..2.
	if !csms.WaitFor(waitLimit, func(recs []ocpptest.Record) bool {
		return len(statusConnectors(recs)) >= 3
	}) {
		t.Fatalf("no status notifications; records: %v", actions(csms.Records()))
	}
	recs := csms.Records()
	if got := actions(recs)[:2]; !slices.Equal(got, []string{"BootNotification", "BootNotification"}) {
		t.Errorf("first messages = %v, want two BootNotifications", got)
	}
	if got := statusConnectors(recs); !slices.Equal(got[:3], []int{0, 1, 2}) {
		t.Errorf("status notifications for %v, want 0 1 2", got)
	}
	if ch.Registration() != "Accepted" {
		t.Errorf("Registration() = %q", ch.Registration())
	}

	// Remote start: answered from the snapshot, then the station is asked.
	conf, err := csms.RemoteStart("CP1", 1, "APP")
	if err != nil || conf.Status != "Accepted" {
		t.Fatalf("RemoteStart = %+v, %v", conf, err)
	}
	if got := <-st.done; got != fmtCall("Start", 1, "APP", true, true) {
		t.Errorf("station got %s", got)
	}
	// The station starts the session and reports it.
	now := clk.Now()
	ch.StatusChanged(station.StatusChange{Connector: 1, Status: station.Charging, Error: station.NoError, At: now})
	if err := ch.SessionStarted(ctx, station.SessionStart{Connector: 1, SessionID: "s1", IDTag: "APP", At: now}); err != nil {
		t.Fatal(err)
	}
	if err := ch.SampleTaken(ctx, station.Sample{Connector: 1, SessionID: "s1", Context: station.ContextPeriodic,
		Reading: reading(250, now), At: now}); err != nil {
		t.Fatal(err)
	}
	if got := <-st.done; got != fmtCall("AttachTransactionID", "s1", "1001") {
		t.Errorf("station got %s, want the CSMS's transaction id", got)
	}
	txID := csms.TransactionID(0)

	// Remote stop by that id reaches the session.
	stop, err := csms.RemoteStop("CP1", txID)
	if err != nil || stop.Status != "Accepted" {
		t.Fatalf("RemoteStop = %+v, %v", stop, err)
	}
	if got := <-st.done; got != fmtCall("StopSession", "s1", station.ReasonRemote) {
		t.Errorf("station got %s", got)
	}
	if err := ch.SessionEnded(ctx, station.SessionEnd{Connector: 1, SessionID: "s1", MeterStop: 250 * 1000,
		At: clk.Now(), Reason: station.ReasonRemote}); err != nil {
		t.Fatal(err)
	}
	if !csms.WaitFor(waitLimit, func(recs []ocpptest.Record) bool {
		return len(filter(recs, core.StopTransactionFeatureName)) == 1
	}) {
		t.Fatalf("no StopTransaction; records: %v", actions(csms.Records()))
	}
	mv := filter(csms.Records(), core.MeterValuesFeatureName)
	if len(mv) != 1 || mv[0].Request.(*core.MeterValuesRequest).TransactionId == nil ||
		*mv[0].Request.(*core.MeterValuesRequest).TransactionId != txID {
		t.Errorf("MeterValues = %+v, want one with transactionId %d", mv, txID)
	}
	sreq := filter(csms.Records(), core.StopTransactionFeatureName)[0].Request.(*core.StopTransactionRequest)
	if sreq.TransactionId != txID || sreq.Reason != core.ReasonRemote || sreq.MeterStop != 250 {
		t.Errorf("StopTransaction = %+v", sreq)
	}
	if !csms.WaitFor(waitLimit, func(recs []ocpptest.Record) bool {
		for _, r := range filter(recs, core.StatusNotificationFeatureName) {
			if req := r.Request.(*core.StatusNotificationRequest); req.ConnectorId == 1 && req.Status == core.ChargePointStatusCharging {
				return true
			}
		}
		return false
	}) {
		t.Error("the Charging status never reached the CSMS")
	}
	// The CSMS records a message before answering it; the queue forgets it
	// once the answer is in. A hang here ends in the test timeout.
	for queue.Len() != 0 {
		runtime.Gosched()
	}
	if dead, err := queue.DeadLetters(); err != nil || len(dead) != 0 {
		t.Errorf("dead letters: %v, %v", dead, err)
	}
}

func filter(recs []ocpptest.Record, action string) []ocpptest.Record {
	var out []ocpptest.Record
	for _, r := range recs {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

func actions(recs []ocpptest.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Action
	}
	return out
}

func statusConnectors(recs []ocpptest.Record) []int {
	var out []int
	for _, r := range filter(recs, core.StatusNotificationFeatureName) {
		out = append(out, r.Request.(*core.StatusNotificationRequest).ConnectorId)
	}
	return out
}
