package ocpptest

import (
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp"
	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ws"
)

// The harness is checked with ocpp-go's own charge point, so that evsed's
// integration tests rest on a CSMS known to talk to a third-party client.
func TestCSMSRecordsPendingBootAndTransactions(t *testing.T) {
	csms, err := Start(Options{PendingBoots: 1, Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer csms.Stop()

	wsc := ws.NewClient()
	wsc.SetBasicAuth("CPX", "s3cret")
	cp := ocpp16.NewChargePoint("CPX", nil, wsc)
	if err := cp.Start(csms.URL()); err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer cp.Stop()

	conf, err := cp.BootNotification("model", "vendor")
	if err != nil || conf.Status != core.RegistrationStatusPending {
		t.Fatalf("first boot = %+v, %v; want Pending", conf, err)
	}
	conf, err = cp.BootNotification("model", "vendor")
	if err != nil || conf.Status != core.RegistrationStatusAccepted || conf.Interval != 300 {
		t.Fatalf("second boot = %+v, %v; want Accepted/300", conf, err)
	}
	start, err := cp.StartTransaction(1, "TAG1", 100, types.NewDateTime(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if got := csms.TransactionID(0); got != start.TransactionId || got == 0 {
		t.Fatalf("TransactionID(0) = %d, charge point got %d", got, start.TransactionId)
	}
	req, id := StartRequest(csms.Records(core.StartTransactionFeatureName)[0])
	if req.IdTag != "TAG1" || req.MeterStart != 100 || id != start.TransactionId {
		t.Fatalf("recorded start %+v id %d", req, id)
	}
	if !csms.WaitConnected("CPX", 2*time.Second) {
		t.Fatal("CSMS does not see the charge point as connected")
	}
}

func TestCSMSRejectsWrongPassword(t *testing.T) {
	csms, err := Start(Options{Password: "right"})
	if err != nil {
		t.Fatal(err)
	}
	defer csms.Stop()
	wsc := ws.NewClient()
	wsc.SetBasicAuth("CPY", "wrong")
	cp := ocpp16.NewChargePoint("CPY", nil, wsc)
	if err := cp.Start(csms.URL()); err == nil {
		cp.Stop()
		t.Fatal("connected with a wrong password")
	}
}

func TestCSMSRestartKeepsRecordsAndPort(t *testing.T) {
	csms, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer csms.Stop()
	url := csms.URL()
	cp := ocpp16.NewChargePoint("CPZ", nil, nil)
	if err := cp.Start(url); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.Heartbeat(); err != nil {
		t.Fatal(err)
	}
	cp.Stop()
	csms.Stop()
	if err := csms.Restart(); err != nil {
		t.Fatal(err)
	}
	if csms.URL() != url {
		t.Fatalf("URL changed across restart: %s -> %s", url, csms.URL())
	}
	cp2 := ocpp16.NewChargePoint("CPZ", nil, nil)
	if err := cp2.Start(url); err != nil {
		t.Fatal(err)
	}
	defer cp2.Stop()
	if _, err := cp2.Heartbeat(); err != nil {
		t.Fatal(err)
	}
	if n := len(csms.Records(core.HeartbeatFeatureName)); n != 2 {
		t.Fatalf("%d heartbeats recorded across the restart, want 2", n)
	}
}

func TestCSMSFailAllAnswersCallError(t *testing.T) {
	csms, err := Start(Options{FailAll: true})
	if err != nil {
		t.Fatal(err)
	}
	defer csms.Stop()
	cp := ocpp16.NewChargePoint("CPW", nil, nil)
	if err := cp.Start(csms.URL()); err != nil {
		t.Fatal(err)
	}
	defer cp.Stop()
	if _, err := cp.Heartbeat(); err == nil {
		t.Fatal("Heartbeat succeeded while FailAll")
	}
	csms.SetFailAll(false)
	if _, err := cp.Heartbeat(); err != nil {
		t.Fatalf("Heartbeat after FailAll off: %v", err)
	}
}

func TestCSMSSilentHoldsCallsUntilReleased(t *testing.T) {
	csms, err := Start(Options{Silent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer csms.Stop()
	cp := ocpp16.NewChargePoint("CPS", nil, nil)
	if err := cp.Start(csms.URL()); err != nil {
		t.Fatal(err)
	}
	defer cp.Stop()
	answered := make(chan error, 1)
	if err := cp.SendRequestAsync(core.NewHeartbeatRequest(), func(_ ocpp.Response, err error) {
		answered <- err
	}); err != nil {
		t.Fatal(err)
	}
	held := csms.WaitFor(10*time.Second, func([]Record) bool {
		csms.mu.Lock()
		defer csms.mu.Unlock()
		return csms.held == 1
	})
	if !held {
		t.Fatal("the Heartbeat never reached the silent CSMS")
	}
	select {
	case err := <-answered:
		t.Fatalf("silent CSMS answered the Heartbeat: %v", err)
	default:
	}
	if n := len(csms.Records()); n != 0 {
		t.Fatalf("%d records while silent, want 0", n)
	}
	csms.SetSilent(false)
	if err := <-answered; err == nil {
		t.Error("the held Heartbeat was answered with success, want the late CALLERROR")
	}
	if _, err := cp.Heartbeat(); err != nil {
		t.Fatalf("Heartbeat after silence: %v", err)
	}
	if n := len(csms.Records(core.HeartbeatFeatureName)); n != 1 {
		t.Fatalf("%d heartbeats recorded, want 1 (the one after silence)", n)
	}
}
