package ocpp201

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/reservation"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/types"
	"go.etcd.io/bbolt"
	"periph.io/x/conn/v3/physic"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/ocppclient/ocpptest/csms201"
	"github.com/evsed/evsed/station"
)

// TestIntegrationSmartCharging runs the Charger with the real transport
// against ocpp-go's CSMS: a SetChargingProfile lowers the current the
// station offers, GetCompositeSchedule and GetChargingProfiles report it
// (ReportChargingProfiles arrives), ClearChargingProfile lifts it, and a
// reservation is accepted and cancelled.
func TestIntegrationSmartCharging(t *testing.T) {
	if testing.Short() {
		t.Skip("real websockets")
	}
	csms, err := csms201.Start(csms201.Options{HeartbeatInterval: time.Hour})
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
	ch, err := New(Options{Station: st, Identity: Identity{Model: "sim", VendorName: "evsed"}, NumEVSEs: 2, DB: db, Variables: vars, Queue: queue, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
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

	start := types.NewDateTime(clock.Real{}.Now().Add(-time.Minute))
	profile := types.NewChargingProfile(11, 1, types.ChargingProfilePurposeTxDefaultProfile, types.ChargingProfileKindAbsolute,
		[]types.ChargingSchedule{{ID: 1, StartSchedule: start, ChargingRateUnit: types.ChargingRateUnitAmperes,
			ChargingSchedulePeriod: []types.ChargingSchedulePeriod{{StartPeriod: 0, Limit: 12}}}})
	res, err := csms.SetChargingProfile("CS1", 1, profile)
	if err != nil || res.Status != smartcharging.ChargingProfileStatusAccepted {
		t.Fatalf("SetChargingProfile = %+v, %v", res, err)
	}
	if l := st.limitNow(1, clock.Real{}.Now()); l != 12*physic.Ampere {
		t.Errorf("EVSE 1 offered %v, want 12 A", l)
	}
	cs, err := csms.GetCompositeSchedule("CS1", 1, 600, types.ChargingRateUnitAmperes)
	// ocpp-go v0.19.0 reads the schedule in a draft's shape
	// (startDateTime, chargingSchedule), not the official schema's that
	// the adapter answers with (checked in the unit tests): only the
	// status is compared here.
	if err != nil || cs.Status != smartcharging.GetCompositeScheduleStatusAccepted {
		t.Errorf("GetCompositeSchedule = %+v, %v", cs, err)
	}
	gp, err := csms.GetChargingProfiles("CS1", 3, nil, smartcharging.ChargingProfileCriterion{})
	if err != nil || gp.Status != smartcharging.GetChargingProfileStatusAccepted {
		t.Fatalf("GetChargingProfiles = %+v, %v", gp, err)
	}
	if !csms.WaitFor(waitLimit, func(recs []csms201.Record) bool { return len(filter(recs, "ReportChargingProfiles")) >= 1 }) {
		t.Fatal("no ReportChargingProfiles")
	}
	rep := filter(csms.Records(), "ReportChargingProfiles")[0].Request.(*smartcharging.ReportChargingProfilesRequest)
	if rep.RequestID != 3 || rep.EvseID != 1 || len(rep.ChargingProfile) != 1 || rep.ChargingProfile[0].ID != 11 {
		t.Errorf("ReportChargingProfiles = %+v", rep)
	}
	cl, err := csms.ClearChargingProfile("CS1", 11)
	if err != nil || cl.Status != smartcharging.ClearChargingProfileStatusAccepted {
		t.Fatalf("ClearChargingProfile = %+v, %v", cl, err)
	}
	if l := st.limitNow(1, clock.Real{}.Now()); l != station.NoLimit {
		t.Errorf("EVSE 1 offered %v after the clear, want no limit", l)
	}

	rn, err := csms.ReserveNow("CS1", 21, 2, "TAG", clock.Real{}.Now().Add(time.Hour))
	if err != nil || rn.Status != reservation.ReserveNowStatusAccepted {
		t.Fatalf("ReserveNow = %+v, %v", rn, err)
	}
	cr, err := csms.CancelReservation("CS1", 21)
	if err != nil || cr.Status != reservation.CancelReservationStatusAccepted {
		t.Errorf("CancelReservation = %+v, %v", cr, err)
	}
}
