package ocpp201

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/transactions"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/types"
	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/ocppclient/ocpptest/csms201"
	"github.com/evsed/evsed/station"
	"github.com/evsed/evsed/station/tariff"
)

// TestIntegrationPricing runs block I against ocpp-go's 2.0.1 CSMS over
// loopback websockets: the driver's tariff from the AuthorizeResponse on
// the free connectors (I01), the TariffFallbackMessage on the others
// (I04), the personalMessage of the Started answer, CostUpdated (I02),
// the running cost and updatedPersonalMessage of an Updated answer (I02,
// I06) and the final cost of the Ended answer (I03), each checked on the
// station's display.
func TestIntegrationPricing(t *testing.T) {
	if testing.Short() {
		t.Skip("real websockets")
	}
	const (
		member   = "Member 0.25 USD/kWh"
		fallback = "0.40 USD/kWh"
		offPeak  = "Off-peak from 22:00: 0.20 USD/kWh"
	)
	csms, err := csms201.Start(csms201.Options{
		HeartbeatInterval: time.Hour,
		PersonalMessage: func(token string) *types.MessageContent {
			if token != "MEMBER" {
				return nil
			}
			return &types.MessageContent{Format: types.MessageFormatUTF8, Language: "en", Content: member}
		},
		Cost: func(req *transactions.TransactionEventRequest) (*float64, *types.MessageContent) {
			switch {
			case req.EventType == transactions.TransactionEventEnded:
				v := 2.05
				return &v, &types.MessageContent{Format: types.MessageFormatUTF8, Content: "Thank you: 2.05 USD"}
			case req.TriggerReason == transactions.TriggerReasonMeterValuePeriodic:
				v := 1.10
				return &v, &types.MessageContent{Format: types.MessageFormatUTF8, Content: offPeak}
			}
			return nil, nil
		},
	})
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
	vars, err := devicemodel.Open(db, "devicemodel", devicemodel.Standard(devicemodel.Shape{EVSEs: 2, Currency: "USD"}),
		map[devicemodel.Ref]string{devicemodel.TariffFallbackMessage: fallback})
	if err != nil {
		t.Fatal(err)
	}
	queue, err := ocppclient.OpenQueue(db, ocppclient.QueueOptions{LogPath: filepath.Join(dir, "queue.log")})
	if err != nil {
		t.Fatal(err)
	}
	defer queue.Close()
	log := slog.New(slog.DiscardHandler)
	ds := &displayStation{fakeStation: newFakeStation(2), shown: map[int]*shownDisplay{}}
	ch, err := New(Options{Identity: Identity{Model: "sim", VendorName: "evsed"}, NumEVSEs: 2, DB: db, Variables: vars, Queue: queue, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ch.SetStation(ds)
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
		t.Fatalf("not registered; records %v", actions(csms.Records()))
	}
	waitDisplay(t, ds, "online", func() bool { on, _ := ds.lastOnline(); return on })
	waitDisplay(t, ds, "the fallback on connector 2", func() bool { return ds.display(2).text == fallback })

	if res, err := ch.Authorize(ctx, "MEMBER"); err != nil || res.Status != station.AuthAccepted {
		t.Fatalf("Authorize = %+v, %v", res, err)
	}
	for n := 1; n <= 2; n++ {
		if d := ds.display(n); d.text != member || d.lang != "en" {
			t.Errorf("after Authorize connector %d shows %+v, want the member tariff", n, d)
		}
	}
	now := clock.Real{}.Now()
	ds.setSession(1, "s1", "MEMBER")
	if err := ch.SessionStarted(ctx, station.SessionStart{Connector: 1, SessionID: "s1", IDTag: "MEMBER", MeterStart: 1000 * meter.WattHour, At: now}); err != nil {
		t.Fatal(err)
	}
	if d := ds.display(2); d.text != fallback {
		t.Errorf("connector 2 shows %q after the member started on 1, want the fallback", d.text)
	}
	if !csms.WaitFor(waitLimit, func(recs []csms201.Record) bool { return len(filter(recs, "TransactionEvent")) >= 1 }) {
		t.Fatal("no TransactionEvent Started")
	}
	txID := filter(csms.Records(), "TransactionEvent")[0].Request.(*transactions.TransactionEventRequest).TransactionInfo.TransactionID

	if _, err := csms.CostUpdated("CS1", 0.80, txID); err != nil {
		t.Fatalf("CostUpdated: %v", err)
	}
	waitDisplay(t, ds, "CostUpdated's running cost", func() bool {
		d := ds.display(1)
		return d.running != nil && d.running.Amount == tariff.FromFloat(0.80) && d.running.Currency == "USD"
	})
	if _, err := csms.CostUpdated("CS1", 5, "not-a-transaction"); err != nil {
		t.Errorf("CostUpdated of an unknown transaction answered %v, want an empty answer", err)
	}

	at := clock.Real{}.Now()
	if err := ch.SampleTaken(ctx, station.Sample{Connector: 1, SessionID: "s1", Context: station.ContextPeriodic, Reading: reading(1800, at), At: at}); err != nil {
		t.Fatal(err)
	}
	waitDisplay(t, ds, "the Updated answer's cost and message", func() bool {
		d := ds.display(1)
		return d.text == offPeak && d.running != nil && d.running.Amount == tariff.FromFloat(1.10)
	})

	ds.setSession(1, "", "")
	if err := ch.SessionEnded(ctx, station.SessionEnd{Connector: 1, SessionID: "s1", IDTag: "MEMBER", MeterStop: 2400 * meter.WattHour, At: clock.Real{}.Now(),
		Reason: station.ReasonLocal, End: reading(2400, clock.Real{}.Now())}); err != nil {
		t.Fatal(err)
	}
	waitDisplay(t, ds, "the Ended answer's final cost", func() bool {
		d := ds.display(1)
		return d.final != nil && d.final.Amount == tariff.FromFloat(2.05) && d.final.Currency == "USD" && d.text == "Thank you: 2.05 USD"
	})
	if d := ds.display(2); d.running != nil || d.final != nil {
		t.Errorf("connector 2 got costs: %+v", d)
	}
}

// waitDisplay polls cond until it holds or waitLimit passes.
func waitDisplay(t *testing.T, ds *displayStation, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(waitLimit); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("display never showed %s: %+v / %+v", what, ds.display(1), ds.display(2))
		}
	}
}
