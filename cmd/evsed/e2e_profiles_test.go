package main

// End-to-end tests of the Smart Charging, Local Auth List Management,
// Reservation and Remote Trigger profiles: the real binary on the
// simulated board, driven by ocpp-go's central system over loopback
// websockets.

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/ocppclient/ocpptest"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/firmware"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/localauth"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/remotetrigger"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/reservation"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
)

// profile is a charging profile of one period at limit A.
func profile(id, stack int, purpose types.ChargingProfilePurposeType, kind types.ChargingProfileKindType, limit float64) *types.ChargingProfile {
	s := types.NewChargingSchedule(types.ChargingRateUnitAmperes, types.NewChargingSchedulePeriod(0, limit))
	if kind == types.ChargingProfileKindAbsolute {
		s.StartSchedule = types.NewDateTime(time.Now().Add(-time.Minute))
	}
	return types.NewChargingProfile(id, stack, purpose, kind, s)
}

// offered waits until connector n offers a (within 0.05 A) and its simulated
// EV draws the matching power on its 3 phases at 230 V, when it charges.
func (a *e2eAgent) offered(n int, amps float64) localapi.Connector {
	a.t.Helper()
	st := a.waitStatus("connector offering the limit", func(st localapi.Status) bool {
		c := st.Connectors[n-1]
		if math.Abs(c.OfferedA-amps) > 0.05 {
			return false
		}
		return c.Status != "Charging" || math.Abs(c.Meter.PowerW-amps*230*3) < 0.02*amps*230*3+1
	})
	return st.Connectors[n-1]
}

func TestE2ESmartCharging(t *testing.T) {
	csms := startCSMS(t, ocpptest.Options{})
	const cp = "CPSMART"
	a := newAgent(t, agentConfig{ID: cp, CSMSURL: csms.URL()})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool { return st.Station.OCPP.Registration == "Accepted" })

	set := func(connector int, p *types.ChargingProfile, want smartcharging.ChargingProfileStatus) {
		t.Helper()
		conf, err := csms.SetChargingProfile(cp, connector, p)
		if err != nil || conf.Status != want {
			t.Fatalf("SetChargingProfile(%d, %s %d) = %+v, %v; want %s", connector, p.ChargingProfilePurpose, p.ChargingProfileId, conf, err, want)
		}
	}
	// A default for every connector, before any session.
	set(0, profile(1, 0, types.ChargingProfilePurposeTxDefaultProfile, types.ChargingProfileKindAbsolute, 10), smartcharging.ChargingProfileStatusAccepted)
	set(1, profile(2, 0, types.ChargingProfilePurposeChargePointMaxProfile, types.ChargingProfileKindAbsolute, 10), smartcharging.ChargingProfileStatusRejected)
	set(2, profile(3, 0, types.ChargingProfilePurposeTxProfile, types.ChargingProfileKindRelative, 10), smartcharging.ChargingProfileStatusRejected)

	a.do("swipe", func(ctx context.Context) error { return a.api.Swipe(ctx, 1, "TAG1") })
	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 1) })
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 1) })
	a.waitStatus("charging", connectorStatus(1, "Charging"))
	if c := a.offered(1, 10); c.LimitA != 10 {
		t.Errorf("limitA %v, want 10", c.LimitA)
	}
	start := waitRecords(t, csms, cp, core.StartTransactionFeatureName, 1)
	_, txID := ocpptest.StartRequest(start[0])

	comp, err := csms.GetCompositeSchedule(cp, 1, time.Hour, types.ChargingRateUnitAmperes)
	if err != nil || comp.Status != smartcharging.GetCompositeScheduleStatusAccepted || comp.ChargingSchedule == nil ||
		len(comp.ChargingSchedule.ChargingSchedulePeriod) != 1 || comp.ChargingSchedule.ChargingSchedulePeriod[0].Limit != 10 {
		t.Errorf("GetCompositeSchedule(1) = %+v, %v; want one period at 10 A", comp, err)
	}
	if comp, err := csms.GetCompositeSchedule(cp, 5, time.Hour, ""); err != nil || comp.Status != smartcharging.GetCompositeScheduleStatusRejected {
		t.Errorf("GetCompositeSchedule(5) = %+v, %v; want Rejected", comp, err)
	}

	// A TxProfile for the running transaction raises it (within 5 s of
	// the duty's last change), one below 6 A suspends it, and clearing the
	// TxProfiles brings back the default.
	tx := profile(10, 0, types.ChargingProfilePurposeTxProfile, types.ChargingProfileKindRelative, 16)
	tx.TransactionId = txID
	set(1, tx, smartcharging.ChargingProfileStatusAccepted)
	a.offered(1, 16)
	wrong := profile(11, 1, types.ChargingProfilePurposeTxProfile, types.ChargingProfileKindRelative, 16)
	wrong.TransactionId = txID + 1
	set(1, wrong, smartcharging.ChargingProfileStatusRejected)
	set(1, profile(10, 0, types.ChargingProfilePurposeTxProfile, types.ChargingProfileKindRelative, 4), smartcharging.ChargingProfileStatusAccepted)
	a.waitStatus("suspended below 6 A", func(st localapi.Status) bool {
		c := st.Connectors[0]
		return c.Status == "SuspendedEVSE" && c.OfferedA == 0 && c.Session != nil && !c.Contactor
	})
	if stops := fromCP(csms.Records(core.StopTransactionFeatureName), cp); len(stops) != 0 {
		t.Fatalf("a limit below 6 A stopped the transaction")
	}
	clr, err := csms.ClearChargingProfile(cp, ocpptest.ProfileFilter{Purpose: types.ChargingProfilePurposeTxProfile})
	if err != nil || clr.Status != smartcharging.ClearChargingProfileStatusAccepted {
		t.Fatalf("ClearChargingProfile(TxProfile) = %+v, %v", clr, err)
	}
	a.waitStatus("charging again", connectorStatus(1, "Charging"))
	a.offered(1, 10)
	id := 99
	if clr, err := csms.ClearChargingProfile(cp, ocpptest.ProfileFilter{ID: &id}); err != nil || clr.Status != smartcharging.ClearChargingProfileStatusUnknown {
		t.Errorf("ClearChargingProfile(99) = %+v, %v; want Unknown", clr, err)
	}
	// The station-wide limit is shared with a second vehicle.
	set(0, profile(20, 0, types.ChargingProfilePurposeChargePointMaxProfile, types.ChargingProfileKindAbsolute, 16), smartcharging.ChargingProfileStatusAccepted)
	a.offered(1, 10)
	a.do("swipe 2", func(ctx context.Context) error { return a.api.Swipe(ctx, 2, "TAG2") })
	a.do("plug 2", func(ctx context.Context) error { return a.api.Plug(ctx, 2) })
	a.do("charge 2", func(ctx context.Context) error { return a.api.Charge(ctx, 2) })
	a.waitStatus("both share 16 A", func(st localapi.Status) bool {
		c1, c2 := st.Connectors[0], st.Connectors[1]
		return c1.OfferedA == 8 && c2.OfferedA == 8 && c2.Status == "Charging"
	})
	comp0, err := csms.GetCompositeSchedule(cp, 0, time.Hour, types.ChargingRateUnitAmperes)
	if err != nil || comp0.Status != smartcharging.GetCompositeScheduleStatusAccepted ||
		comp0.ChargingSchedule.ChargingSchedulePeriod[0].Limit != 16 {
		t.Errorf("GetCompositeSchedule(0) = %+v, %v; want 16 A", comp0, err)
	}
	a.stop()
}

// A remote start carrying a TxProfile charges at its limit.
func TestE2ERemoteStartWithProfile(t *testing.T) {
	csms := startCSMS(t, ocpptest.Options{})
	const cp = "CPREMOTEP"
	a := newAgent(t, agentConfig{ID: cp, CSMSURL: csms.URL()})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool { return st.Station.OCPP.Registration == "Accepted" })
	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 1) })
	bad := profile(1, 0, types.ChargingProfilePurposeTxDefaultProfile, types.ChargingProfileKindRelative, 7)
	if conf, err := csms.RemoteStartWithProfile(cp, 1, "R1", bad); err != nil || conf.Status != types.RemoteStartStopStatusRejected {
		t.Errorf("RemoteStart with a TxDefaultProfile = %+v, %v; want Rejected", conf, err)
	}
	good := profile(2, 0, types.ChargingProfilePurposeTxProfile, types.ChargingProfileKindRelative, 7)
	if conf, err := csms.RemoteStartWithProfile(cp, 1, "R1", good); err != nil || conf.Status != types.RemoteStartStopStatusAccepted {
		t.Fatalf("RemoteStart with a TxProfile = %+v, %v; want Accepted", conf, err)
	}
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 1) })
	a.waitStatus("charging", connectorStatus(1, "Charging"))
	a.offered(1, 7)
	a.stop()
}

func TestE2EReservation(t *testing.T) {
	csms := startCSMS(t, ocpptest.Options{})
	const cp = "CPRESV"
	a := newAgent(t, agentConfig{ID: cp, CSMSURL: csms.URL()})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool { return st.Station.OCPP.Registration == "Accepted" })
	exp := time.Now().Add(10 * time.Minute)
	reserve := func(connector, id int, tag string, want reservation.ReservationStatus) {
		t.Helper()
		conf, err := csms.ReserveNow(cp, connector, exp, tag, "", id)
		if err != nil || conf.Status != want {
			t.Fatalf("ReserveNow(%d, %s, %d) = %+v, %v; want %s", connector, tag, id, conf, err, want)
		}
	}
	reserve(1, 7, "RTAG", reservation.ReservationStatusAccepted)
	if !csms.WaitStatus(cp, 1, core.ChargePointStatusReserved, e2eWait) {
		t.Fatal("the CSMS never saw connector 1 Reserved")
	}
	reserve(1, 8, "OTHER", reservation.ReservationStatusOccupied)
	// Another tag cannot take the connector.
	ctx, cancel := a.ctx()
	err := a.api.Start(ctx, 1, "OTHER")
	cancel()
	if err == nil {
		t.Fatal("a local start for another tag on the reserved connector succeeded")
	}
	// A cancelled reservation frees its connector.
	reserve(2, 9, "X", reservation.ReservationStatusAccepted)
	if conf, err := csms.CancelReservation(cp, 9); err != nil || conf.Status != reservation.CancelReservationStatusAccepted {
		t.Errorf("CancelReservation(9) = %+v, %v", conf, err)
	}
	if conf, err := csms.CancelReservation(cp, 9); err != nil || conf.Status != reservation.CancelReservationStatusRejected {
		t.Errorf("CancelReservation(9) again = %+v, %v; want Rejected", conf, err)
	}
	if !csms.WaitStatus(cp, 2, core.ChargePointStatusAvailable, e2eWait) {
		t.Error("connector 2 not Available after the cancellation")
	}
	// The reserved tag starts, and its StartTransaction consumes the
	// reservation.
	a.do("swipe", func(ctx context.Context) error { return a.api.Swipe(ctx, 1, "RTAG") })
	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 1) })
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 1) })
	a.waitStatus("charging", connectorStatus(1, "Charging"))
	start := waitRecords(t, csms, cp, core.StartTransactionFeatureName, 1)
	if req, _ := ocpptest.StartRequest(start[0]); req.ReservationId == nil || *req.ReservationId != 7 || req.IdTag != "RTAG" {
		t.Errorf("StartTransaction %+v, want reservationId 7", req)
	}
	if st, _ := a.status(); st.Connectors[0].ReservationID != 0 {
		t.Errorf("reservation still held after its session started")
	}
	reserve(0, 10, "ANY", reservation.ReservationStatusAccepted)
	a.stop()
}

func TestE2ELocalList(t *testing.T) {
	csms := startCSMS(t, ocpptest.Options{Authorize: func(idTag string) types.AuthorizationStatus {
		return types.AuthorizationStatusInvalid // the CSMS knows no tag: only the list admits
	}})
	const cp = "CPLIST"
	a := newAgent(t, agentConfig{ID: cp, CSMSURL: csms.URL(), OCPPKeys: map[string]string{"LocalPreAuthorize": "true"}})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool { return st.Station.OCPP.Registration == "Accepted" })
	entry := func(tag string, s types.AuthorizationStatus) localauth.AuthorizationData {
		return localauth.AuthorizationData{IdTag: tag, IdTagInfo: &types.IdTagInfo{Status: s}}
	}
	send := func(version int, kind localauth.UpdateType, want localauth.UpdateStatus, entries ...localauth.AuthorizationData) {
		t.Helper()
		conf, err := csms.SendLocalList(cp, version, kind, entries)
		if err != nil || conf.Status != want {
			t.Fatalf("SendLocalList(%d, %s) = %+v, %v; want %s", version, kind, conf, err, want)
		}
	}
	send(1, localauth.UpdateTypeFull, localauth.UpdateStatusAccepted, entry("LISTED", types.AuthorizationStatusAccepted), entry("BLOCKED", types.AuthorizationStatusBlocked))
	send(1, localauth.UpdateTypeDifferential, localauth.UpdateStatusVersionMismatch, entry("NEW", types.AuthorizationStatusAccepted))
	send(2, localauth.UpdateTypeDifferential, localauth.UpdateStatusAccepted, entry("NEW", types.AuthorizationStatusAccepted))
	if v, err := csms.GetLocalListVersion(cp); err != nil || v.ListVersion != 2 {
		t.Errorf("GetLocalListVersion = %+v, %v; want 2", v, err)
	}
	// LocalPreAuthorize: a listed tag starts without an Authorize.req.
	a.do("start", func(ctx context.Context) error { return a.api.Start(ctx, 1, "LISTED") })
	if recs := fromCP(csms.Records(core.AuthorizeFeatureName), cp); len(recs) != 0 {
		t.Errorf("%d Authorize.req for a pre-authorized listed tag", len(recs))
	}
	ctx, cancel := a.ctx()
	err := a.api.Start(ctx, 2, "BLOCKED")
	cancel()
	if err == nil {
		t.Error("a blocked tag started")
	}
	if conf, err := csms.ChangeConfiguration(cp, "LocalAuthListEnabled", "false"); err != nil || conf.Status != core.ConfigurationStatusAccepted {
		t.Fatalf("LocalAuthListEnabled=false: %+v, %v", conf, err)
	}
	send(3, localauth.UpdateTypeFull, localauth.UpdateStatusNotSupported)
	a.stop()
}

func TestE2ETriggerMessage(t *testing.T) {
	csms := startCSMS(t, ocpptest.Options{})
	const cp = "CPTRIG"
	a := newAgent(t, agentConfig{ID: cp, CSMSURL: csms.URL(), Free: true})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool { return st.Station.OCPP.Registration == "Accepted" })
	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 1) })
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 1) })
	a.waitStatus("charging", connectorStatus(1, "Charging"))
	one := 1
	tests := []struct {
		msg       remotetrigger.MessageTrigger
		connector *int
		action    string
	}{
		{core.StatusNotificationFeatureName, &one, core.StatusNotificationFeatureName},
		{core.MeterValuesFeatureName, &one, core.MeterValuesFeatureName},
		{core.HeartbeatFeatureName, nil, core.HeartbeatFeatureName},
		{core.BootNotificationFeatureName, nil, core.BootNotificationFeatureName},
		{firmware.DiagnosticsStatusNotificationFeatureName, nil, firmware.DiagnosticsStatusNotificationFeatureName},
		{firmware.FirmwareStatusNotificationFeatureName, nil, firmware.FirmwareStatusNotificationFeatureName},
	}
	for _, tc := range tests {
		before := len(fromCP(csms.Records(tc.action), cp))
		conf, err := csms.TriggerMessage(cp, tc.msg, tc.connector)
		if err != nil || conf.Status != remotetrigger.TriggerMessageStatusAccepted {
			t.Errorf("TriggerMessage(%s) = %+v, %v; want Accepted", tc.msg, conf, err)
			continue
		}
		recs := waitRecords(t, csms, cp, tc.action, before+1)
		if tc.action == core.MeterValuesFeatureName {
			mv := recs[len(recs)-1].Request.(*core.MeterValuesRequest)
			if contextOf(mv) != types.ReadingContextTrigger || mv.TransactionId == nil {
				t.Errorf("triggered MeterValues %+v, want context Trigger in the transaction", mv)
			}
		}
	}
	nine := 9
	if conf, err := csms.TriggerMessage(cp, core.StatusNotificationFeatureName, &nine); err != nil || conf.Status != remotetrigger.TriggerMessageStatusRejected {
		t.Errorf("TriggerMessage for connector 9 = %+v, %v; want Rejected", conf, err)
	}
	// Without a connector: the charge point and every connector.
	before := len(fromCP(csms.Records(core.StatusNotificationFeatureName), cp))
	if conf, err := csms.TriggerMessage(cp, core.StatusNotificationFeatureName, nil); err != nil || conf.Status != remotetrigger.TriggerMessageStatusAccepted {
		t.Fatalf("TriggerMessage(StatusNotification) = %+v, %v", conf, err)
	}
	waitRecords(t, csms, cp, core.StatusNotificationFeatureName, before+3)
	a.stop()
}
