package ocpptest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp"
	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/firmware"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/localauth"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/remotetrigger"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/reservation"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ws"
)

// fakeCP is ocpp-go's charge point with scripted handlers for the optional
// profiles: it keeps the last request of each action and answers as the
// comments of its methods say. Messages it sends of its own accord (a
// triggered one, a status change) go out on goroutines of their own, since
// ocpp-go runs a handler on the connection's reader.
type fakeCP struct {
	// ChargePointHandler is nil: of the Core calls only
	// RemoteStartTransaction reaches the fake in these tests.
	core.ChargePointHandler

	id string
	cp ocpp16.ChargePoint

	mu   sync.Mutex // guards got and errs
	got  map[string]ocpp.Request
	errs []error
	wg   sync.WaitGroup // messages sent of the fake's own accord
}

// listVersion is the local list version the fake reports.
const listVersion = 7

// startFakeCP connects a fake charge point to csms; it disconnects when the
// test ends, after its own messages were answered.
func startFakeCP(t *testing.T, csms *CSMS, id string, profiles bool) *fakeCP {
	t.Helper()
	f := &fakeCP{id: id, got: map[string]ocpp.Request{}}
	f.cp = ocpp16.NewChargePoint(id, nil, ws.NewClient())
	f.cp.SetCoreHandler(f)
	if profiles {
		f.cp.SetSmartChargingHandler(f)
		f.cp.SetLocalAuthListHandler(f)
		f.cp.SetReservationHandler(f)
		f.cp.SetRemoteTriggerHandler(f)
		f.cp.SetFirmwareManagementHandler(f)
	}
	if err := f.cp.Start(csms.URL()); err != nil {
		t.Fatalf("connect %s: %v", id, err)
	}
	t.Cleanup(func() {
		f.wg.Wait()
		f.cp.Stop()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, err := range f.errs {
			t.Errorf("%s: %v", id, err)
		}
	})
	if !csms.WaitConnected(id, 5*time.Second) {
		t.Fatalf("the CSMS does not see %s", id)
	}
	return f
}

func (f *fakeCP) saw(action string, req ocpp.Request) {
	f.mu.Lock()
	f.got[action] = req
	f.mu.Unlock()
}

// last returns the last request of action the fake received, or nil.
func (f *fakeCP) last(action string) ocpp.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.got[action]
}

// later sends a message of the fake's own accord, after its handler returned.
func (f *fakeCP) later(send func() error) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		if err := send(); err != nil {
			f.mu.Lock()
			f.errs = append(f.errs, err)
			f.mu.Unlock()
		}
	}()
}

// OnRemoteStartTransaction accepts.
func (f *fakeCP) OnRemoteStartTransaction(r *core.RemoteStartTransactionRequest) (*core.RemoteStartTransactionConfirmation, error) {
	f.saw(core.RemoteStartTransactionFeatureName, r)
	return core.NewRemoteStartTransactionConfirmation(types.RemoteStartStopStatusAccepted), nil
}

// OnDataTransfer accepts the costmsg vendor's messages and answers
// others UnknownVendorId.
func (f *fakeCP) OnDataTransfer(r *core.DataTransferRequest) (*core.DataTransferConfirmation, error) {
	f.saw(core.DataTransferFeatureName, r)
	if r.VendorId != "org.openchargealliance.costmsg" {
		return core.NewDataTransferConfirmation(core.DataTransferStatusUnknownVendorId), nil
	}
	return core.NewDataTransferConfirmation(core.DataTransferStatusAccepted), nil
}

// OnSetChargingProfile accepts.
func (f *fakeCP) OnSetChargingProfile(r *smartcharging.SetChargingProfileRequest) (*smartcharging.SetChargingProfileConfirmation, error) {
	f.saw(smartcharging.SetChargingProfileFeatureName, r)
	return smartcharging.NewSetChargingProfileConfirmation(smartcharging.ChargingProfileStatusAccepted), nil
}

// OnClearChargingProfile knows no profile 404.
func (f *fakeCP) OnClearChargingProfile(r *smartcharging.ClearChargingProfileRequest) (*smartcharging.ClearChargingProfileConfirmation, error) {
	f.saw(smartcharging.ClearChargingProfileFeatureName, r)
	if r.Id != nil && *r.Id == 404 {
		return smartcharging.NewClearChargingProfileConfirmation(smartcharging.ClearChargingProfileStatusUnknown), nil
	}
	return smartcharging.NewClearChargingProfileConfirmation(smartcharging.ClearChargingProfileStatusAccepted), nil
}

// OnGetCompositeSchedule answers a flat 16 A for the connector asked.
func (f *fakeCP) OnGetCompositeSchedule(r *smartcharging.GetCompositeScheduleRequest) (*smartcharging.GetCompositeScheduleConfirmation, error) {
	f.saw(smartcharging.GetCompositeScheduleFeatureName, r)
	conf := smartcharging.NewGetCompositeScheduleConfirmation(smartcharging.GetCompositeScheduleStatusAccepted)
	conf.ConnectorId = &r.ConnectorId
	conf.ChargingSchedule = types.NewChargingSchedule(types.ChargingRateUnitAmperes, types.NewChargingSchedulePeriod(0, 16))
	return conf, nil
}

// OnGetLocalListVersion reports listVersion.
func (f *fakeCP) OnGetLocalListVersion(r *localauth.GetLocalListVersionRequest) (*localauth.GetLocalListVersionConfirmation, error) {
	f.saw(localauth.GetLocalListVersionFeatureName, r)
	return localauth.NewGetLocalListVersionConfirmation(listVersion), nil
}

// OnSendLocalList refuses a Differential update that does not go past
// listVersion.
func (f *fakeCP) OnSendLocalList(r *localauth.SendLocalListRequest) (*localauth.SendLocalListConfirmation, error) {
	f.saw(localauth.SendLocalListFeatureName, r)
	if r.UpdateType == localauth.UpdateTypeDifferential && r.ListVersion <= listVersion {
		return localauth.NewSendLocalListConfirmation(localauth.UpdateStatusVersionMismatch), nil
	}
	return localauth.NewSendLocalListConfirmation(localauth.UpdateStatusAccepted), nil
}

// OnReserveNow accepts and reports the connector Reserved.
func (f *fakeCP) OnReserveNow(r *reservation.ReserveNowRequest) (*reservation.ReserveNowConfirmation, error) {
	f.saw(reservation.ReserveNowFeatureName, r)
	f.later(func() error {
		_, err := f.cp.StatusNotification(r.ConnectorId, core.NoError, core.ChargePointStatusReserved)
		return err
	})
	return reservation.NewReserveNowConfirmation(reservation.ReservationStatusAccepted), nil
}

// OnCancelReservation knows only reservation 5, and makes its connector 1
// Available again.
func (f *fakeCP) OnCancelReservation(r *reservation.CancelReservationRequest) (*reservation.CancelReservationConfirmation, error) {
	f.saw(reservation.CancelReservationFeatureName, r)
	if r.ReservationId != 5 {
		return reservation.NewCancelReservationConfirmation(reservation.CancelReservationStatusRejected), nil
	}
	f.later(func() error {
		_, err := f.cp.StatusNotification(1, core.NoError, core.ChargePointStatusAvailable)
		return err
	})
	return reservation.NewCancelReservationConfirmation(reservation.CancelReservationStatusAccepted), nil
}

// OnTriggerMessage sends the firmware notifications and StatusNotification
// it is asked for, and answers NotImplemented for the rest.
func (f *fakeCP) OnTriggerMessage(r *remotetrigger.TriggerMessageRequest) (*remotetrigger.TriggerMessageConfirmation, error) {
	f.saw(remotetrigger.TriggerMessageFeatureName, r)
	var send func() error
	switch r.RequestedMessage {
	case firmware.DiagnosticsStatusNotificationFeatureName:
		send = func() error {
			_, err := f.cp.DiagnosticsStatusNotification(firmware.DiagnosticsStatusIdle)
			return err
		}
	case firmware.FirmwareStatusNotificationFeatureName:
		send = func() error {
			_, err := f.cp.FirmwareStatusNotification(firmware.FirmwareStatusIdle)
			return err
		}
	case core.StatusNotificationFeatureName:
		if r.ConnectorId == nil {
			break
		}
		n := *r.ConnectorId
		send = func() error {
			_, err := f.cp.StatusNotification(n, core.NoError, core.ChargePointStatusAvailable)
			return err
		}
	}
	if send == nil {
		return remotetrigger.NewTriggerMessageConfirmation(remotetrigger.TriggerMessageStatusNotImplemented), nil
	}
	f.later(send)
	return remotetrigger.NewTriggerMessageConfirmation(remotetrigger.TriggerMessageStatusAccepted), nil
}

// OnGetDiagnostics names the file it will upload.
func (f *fakeCP) OnGetDiagnostics(r *firmware.GetDiagnosticsRequest) (*firmware.GetDiagnosticsConfirmation, error) {
	f.saw(firmware.GetDiagnosticsFeatureName, r)
	conf := firmware.NewGetDiagnosticsConfirmation()
	conf.FileName = "diagnostics.txt"
	return conf, nil
}

// OnUpdateFirmware acknowledges.
func (f *fakeCP) OnUpdateFirmware(r *firmware.UpdateFirmwareRequest) (*firmware.UpdateFirmwareConfirmation, error) {
	f.saw(firmware.UpdateFirmwareFeatureName, r)
	return firmware.NewUpdateFirmwareConfirmation(), nil
}

func startCSMS(t *testing.T, opts Options) *CSMS {
	t.Helper()
	csms, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(csms.Stop)
	return csms
}

// Each wrapper sends the request it is given to a charge point that speaks
// every profile, and returns the charge point's answer.
func TestProfileCalls(t *testing.T) {
	csms := startCSMS(t, Options{})
	f := startFakeCP(t, csms, "CPP1", true)

	profile := types.NewChargingProfile(3, 1, types.ChargingProfilePurposeTxProfile, types.ChargingProfileKindRelative,
		types.NewChargingSchedule(types.ChargingRateUnitAmperes, types.NewChargingSchedulePeriod(0, 10)))
	expiry := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	list := []localauth.AuthorizationData{
		{IdTag: "TAG1", IdTagInfo: types.NewIdTagInfo(types.AuthorizationStatusAccepted)},
		{IdTag: "TAG2"},
	}
	cases := []struct {
		name   string
		call   func() (ocpp.Response, error)
		action string
		// wantReq is the request the charge point must have received.
		wantReq ocpp.Request
		// wantConf is the answer the wrapper must return.
		wantConf ocpp.Response
	}{
		{
			name:     "RemoteStartWithProfile",
			call:     func() (ocpp.Response, error) { return csms.RemoteStartWithProfile(f.id, 2, "TAG1", profile) },
			action:   core.RemoteStartTransactionFeatureName,
			wantReq:  &core.RemoteStartTransactionRequest{ConnectorId: new(2), IdTag: "TAG1", ChargingProfile: profile},
			wantConf: core.NewRemoteStartTransactionConfirmation(types.RemoteStartStopStatusAccepted),
		},
		{
			name:     "RemoteStartWithProfile, any connector",
			call:     func() (ocpp.Response, error) { return csms.RemoteStartWithProfile(f.id, 0, "TAG1", profile) },
			action:   core.RemoteStartTransactionFeatureName,
			wantReq:  &core.RemoteStartTransactionRequest{IdTag: "TAG1", ChargingProfile: profile},
			wantConf: core.NewRemoteStartTransactionConfirmation(types.RemoteStartStopStatusAccepted),
		},
		{
			name: "DataTransfer with a JSON object as its string data",
			call: func() (ocpp.Response, error) {
				return csms.DataTransfer(f.id, "org.openchargealliance.costmsg", "FinalCost", `{"transactionId":7,"cost":2.05}`)
			},
			action:   core.DataTransferFeatureName,
			wantReq:  &core.DataTransferRequest{VendorId: "org.openchargealliance.costmsg", MessageId: "FinalCost", Data: `{"transactionId":7,"cost":2.05}`},
			wantConf: core.NewDataTransferConfirmation(core.DataTransferStatusAccepted),
		},
		{
			name:     "DataTransfer without messageId or data",
			call:     func() (ocpp.Response, error) { return csms.DataTransfer(f.id, "com.example", "", "") },
			action:   core.DataTransferFeatureName,
			wantReq:  &core.DataTransferRequest{VendorId: "com.example"},
			wantConf: core.NewDataTransferConfirmation(core.DataTransferStatusUnknownVendorId),
		},
		{
			name:     "SetChargingProfile",
			call:     func() (ocpp.Response, error) { return csms.SetChargingProfile(f.id, 1, profile) },
			action:   smartcharging.SetChargingProfileFeatureName,
			wantReq:  smartcharging.NewSetChargingProfileRequest(1, profile),
			wantConf: smartcharging.NewSetChargingProfileConfirmation(smartcharging.ChargingProfileStatusAccepted),
		},
		{
			name:     "ClearChargingProfile, everything",
			call:     func() (ocpp.Response, error) { return csms.ClearChargingProfile(f.id, ProfileFilter{}) },
			action:   smartcharging.ClearChargingProfileFeatureName,
			wantReq:  &smartcharging.ClearChargingProfileRequest{},
			wantConf: smartcharging.NewClearChargingProfileConfirmation(smartcharging.ClearChargingProfileStatusAccepted),
		},
		{
			name: "ClearChargingProfile, by every criterion",
			call: func() (ocpp.Response, error) {
				return csms.ClearChargingProfile(f.id, ProfileFilter{ID: new(8), Connector: new(0), Purpose: types.ChargingProfilePurposeTxDefaultProfile, StackLevel: new(2)})
			},
			action:   smartcharging.ClearChargingProfileFeatureName,
			wantReq:  &smartcharging.ClearChargingProfileRequest{Id: new(8), ConnectorId: new(0), ChargingProfilePurpose: types.ChargingProfilePurposeTxDefaultProfile, StackLevel: new(2)},
			wantConf: smartcharging.NewClearChargingProfileConfirmation(smartcharging.ClearChargingProfileStatusAccepted),
		},
		{
			name:     "ClearChargingProfile, unknown",
			call:     func() (ocpp.Response, error) { return csms.ClearChargingProfile(f.id, ProfileFilter{ID: new(404)}) },
			action:   smartcharging.ClearChargingProfileFeatureName,
			wantReq:  &smartcharging.ClearChargingProfileRequest{Id: new(404)},
			wantConf: smartcharging.NewClearChargingProfileConfirmation(smartcharging.ClearChargingProfileStatusUnknown),
		},
		{
			name: "GetCompositeSchedule",
			call: func() (ocpp.Response, error) {
				return csms.GetCompositeSchedule(f.id, 1, time.Hour+500*time.Millisecond, types.ChargingRateUnitWatts)
			},
			action:  smartcharging.GetCompositeScheduleFeatureName,
			wantReq: &smartcharging.GetCompositeScheduleRequest{ConnectorId: 1, Duration: 3600, ChargingRateUnit: types.ChargingRateUnitWatts},
			wantConf: &smartcharging.GetCompositeScheduleConfirmation{Status: smartcharging.GetCompositeScheduleStatusAccepted, ConnectorId: new(1),
				ChargingSchedule: types.NewChargingSchedule(types.ChargingRateUnitAmperes, types.NewChargingSchedulePeriod(0, 16))},
		},
		{
			name:    "GetCompositeSchedule, no unit",
			call:    func() (ocpp.Response, error) { return csms.GetCompositeSchedule(f.id, 0, time.Minute, "") },
			action:  smartcharging.GetCompositeScheduleFeatureName,
			wantReq: &smartcharging.GetCompositeScheduleRequest{ConnectorId: 0, Duration: 60},
			wantConf: &smartcharging.GetCompositeScheduleConfirmation{Status: smartcharging.GetCompositeScheduleStatusAccepted, ConnectorId: new(0),
				ChargingSchedule: types.NewChargingSchedule(types.ChargingRateUnitAmperes, types.NewChargingSchedulePeriod(0, 16))},
		},
		{
			name:     "SendLocalList, full",
			call:     func() (ocpp.Response, error) { return csms.SendLocalList(f.id, 3, localauth.UpdateTypeFull, list[:1]) },
			action:   localauth.SendLocalListFeatureName,
			wantReq:  &localauth.SendLocalListRequest{ListVersion: 3, UpdateType: localauth.UpdateTypeFull, LocalAuthorizationList: list[:1]},
			wantConf: localauth.NewSendLocalListConfirmation(localauth.UpdateStatusAccepted),
		},
		{
			name:     "SendLocalList, full and empty",
			call:     func() (ocpp.Response, error) { return csms.SendLocalList(f.id, 0, localauth.UpdateTypeFull, nil) },
			action:   localauth.SendLocalListFeatureName,
			wantReq:  &localauth.SendLocalListRequest{ListVersion: 0, UpdateType: localauth.UpdateTypeFull},
			wantConf: localauth.NewSendLocalListConfirmation(localauth.UpdateStatusAccepted),
		},
		{
			name: "SendLocalList, differential with a removal",
			call: func() (ocpp.Response, error) {
				return csms.SendLocalList(f.id, 8, localauth.UpdateTypeDifferential, list)
			},
			action:   localauth.SendLocalListFeatureName,
			wantReq:  &localauth.SendLocalListRequest{ListVersion: 8, UpdateType: localauth.UpdateTypeDifferential, LocalAuthorizationList: list},
			wantConf: localauth.NewSendLocalListConfirmation(localauth.UpdateStatusAccepted),
		},
		{
			name: "SendLocalList, version mismatch",
			call: func() (ocpp.Response, error) {
				return csms.SendLocalList(f.id, 7, localauth.UpdateTypeDifferential, list)
			},
			action:   localauth.SendLocalListFeatureName,
			wantReq:  &localauth.SendLocalListRequest{ListVersion: 7, UpdateType: localauth.UpdateTypeDifferential, LocalAuthorizationList: list},
			wantConf: localauth.NewSendLocalListConfirmation(localauth.UpdateStatusVersionMismatch),
		},
		{
			name:     "GetLocalListVersion",
			call:     func() (ocpp.Response, error) { return csms.GetLocalListVersion(f.id) },
			action:   localauth.GetLocalListVersionFeatureName,
			wantReq:  localauth.NewGetLocalListVersionRequest(),
			wantConf: localauth.NewGetLocalListVersionConfirmation(listVersion),
		},
		{
			name:     "ReserveNow",
			call:     func() (ocpp.Response, error) { return csms.ReserveNow(f.id, 1, expiry, "TAG1", "GROUP", 5) },
			action:   reservation.ReserveNowFeatureName,
			wantReq:  &reservation.ReserveNowRequest{ConnectorId: 1, ExpiryDate: types.NewDateTime(expiry), IdTag: "TAG1", ParentIdTag: "GROUP", ReservationId: 5},
			wantConf: reservation.NewReserveNowConfirmation(reservation.ReservationStatusAccepted),
		},
		{
			name:     "ReserveNow without parent",
			call:     func() (ocpp.Response, error) { return csms.ReserveNow(f.id, 0, expiry, "TAG2", "", 6) },
			action:   reservation.ReserveNowFeatureName,
			wantReq:  &reservation.ReserveNowRequest{ConnectorId: 0, ExpiryDate: types.NewDateTime(expiry), IdTag: "TAG2", ReservationId: 6},
			wantConf: reservation.NewReserveNowConfirmation(reservation.ReservationStatusAccepted),
		},
		{
			name:     "CancelReservation",
			call:     func() (ocpp.Response, error) { return csms.CancelReservation(f.id, 5) },
			action:   reservation.CancelReservationFeatureName,
			wantReq:  reservation.NewCancelReservationRequest(5),
			wantConf: reservation.NewCancelReservationConfirmation(reservation.CancelReservationStatusAccepted),
		},
		{
			name:     "CancelReservation, unknown",
			call:     func() (ocpp.Response, error) { return csms.CancelReservation(f.id, 99) },
			action:   reservation.CancelReservationFeatureName,
			wantReq:  reservation.NewCancelReservationRequest(99),
			wantConf: reservation.NewCancelReservationConfirmation(reservation.CancelReservationStatusRejected),
		},
		{
			name:     "TriggerMessage, whole charge point",
			call:     func() (ocpp.Response, error) { return csms.TriggerMessage(f.id, core.HeartbeatFeatureName, nil) },
			action:   remotetrigger.TriggerMessageFeatureName,
			wantReq:  remotetrigger.NewTriggerMessageRequest(core.HeartbeatFeatureName),
			wantConf: remotetrigger.NewTriggerMessageConfirmation(remotetrigger.TriggerMessageStatusNotImplemented),
		},
		{
			name: "TriggerMessage, connector 0",
			call: func() (ocpp.Response, error) {
				return csms.TriggerMessage(f.id, core.StatusNotificationFeatureName, new(0))
			},
			action:   remotetrigger.TriggerMessageFeatureName,
			wantReq:  &remotetrigger.TriggerMessageRequest{RequestedMessage: core.StatusNotificationFeatureName, ConnectorId: new(0)},
			wantConf: remotetrigger.NewTriggerMessageConfirmation(remotetrigger.TriggerMessageStatusAccepted),
		},
		{
			name:     "UpdateFirmware",
			call:     func() (ocpp.Response, error) { return csms.UpdateFirmware(f.id, "http://127.0.0.1/fw.bin", expiry) },
			action:   firmware.UpdateFirmwareFeatureName,
			wantReq:  firmware.NewUpdateFirmwareRequest("http://127.0.0.1/fw.bin", types.NewDateTime(expiry)),
			wantConf: firmware.NewUpdateFirmwareConfirmation(),
		},
		{
			name:     "GetDiagnostics",
			call:     func() (ocpp.Response, error) { return csms.GetDiagnostics(f.id, "ftp://127.0.0.1/diag") },
			action:   firmware.GetDiagnosticsFeatureName,
			wantReq:  firmware.NewGetDiagnosticsRequest("ftp://127.0.0.1/diag"),
			wantConf: &firmware.GetDiagnosticsConfirmation{FileName: "diagnostics.txt"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conf, err := tc.call()
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if !sameJSON(t, conf, tc.wantConf) {
				t.Errorf("answer %s, want %s", jsonOf(t, conf), jsonOf(t, tc.wantConf))
			}
			if got := f.last(tc.action); !sameJSON(t, got, tc.wantReq) {
				t.Errorf("charge point received %s, want %s", jsonOf(t, got), jsonOf(t, tc.wantReq))
			}
		})
	}
}

// A charge point that does not implement a profile answers its calls with
// a CALLERROR, and the wrapper returns it; so does a call to a charge
// point that is not connected.
func TestProfileCallErrors(t *testing.T) {
	csms := startCSMS(t, Options{})
	f := startFakeCP(t, csms, "CPCORE", false)
	conf, err := csms.SetChargingProfile(f.id, 1, types.NewChargingProfile(1, 0, types.ChargingProfilePurposeTxDefaultProfile,
		types.ChargingProfileKindRelative, types.NewChargingSchedule(types.ChargingRateUnitAmperes, types.NewChargingSchedulePeriod(0, 6))))
	var callErr *ocpp.Error
	if !errors.As(err, &callErr) || conf != nil {
		t.Errorf("SetChargingProfile to a Core-only charge point = %+v, %v; want a CALLERROR", conf, err)
	}
	if _, err := csms.GetLocalListVersion("NOBODY"); err == nil {
		t.Error("GetLocalListVersion to a charge point that is not connected succeeded")
	}
}

// A triggered DiagnosticsStatusNotification or FirmwareStatusNotification
// is answered and recorded.
func TestTriggeredFirmwareNotificationsAreRecorded(t *testing.T) {
	csms := startCSMS(t, Options{})
	f := startFakeCP(t, csms, "CPFW", true)
	cases := []struct {
		action string
		want   any
	}{
		{firmware.DiagnosticsStatusNotificationFeatureName, firmware.NewDiagnosticsStatusNotificationRequest(firmware.DiagnosticsStatusIdle)},
		{firmware.FirmwareStatusNotificationFeatureName, firmware.NewFirmwareStatusNotificationRequest(firmware.FirmwareStatusIdle)},
	}
	for _, tc := range cases {
		t.Run(tc.action, func(t *testing.T) {
			conf, err := csms.TriggerMessage(f.id, remotetrigger.MessageTrigger(tc.action), nil)
			if err != nil || conf.Status != remotetrigger.TriggerMessageStatusAccepted {
				t.Fatalf("TriggerMessage = %+v, %v", conf, err)
			}
			ok := csms.WaitFor(5*time.Second, func(rs []Record) bool { return len(filter(rs, tc.action)) == 1 })
			if !ok {
				t.Fatalf("no %s recorded: %+v", tc.action, csms.Records())
			}
			r := csms.Records(tc.action)[0]
			if r.ChargePoint != f.id || r.Refused || !reflect.DeepEqual(r.Request, tc.want) {
				t.Errorf("record %+v, want request %+v from %s", r, tc.want, f.id)
			}
		})
	}
}

func filter(rs []Record, action string) []Record {
	var out []Record
	for _, r := range rs {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

// A reservation as a test sees it: ReserveNow, the connector Reserved, the
// StartTransaction that uses the reservation (with the parentIdTag the CSMS
// gives), and a cancelled one.
func TestReservationHelpers(t *testing.T) {
	csms := startCSMS(t, Options{Parent: func(idTag string) string {
		if idTag == "MEMBER" {
			return "GROUP"
		}
		return ""
	}})
	f := startFakeCP(t, csms, "CPRES", true)
	if _, ok := csms.ConnectorStatus(f.id, 1); ok {
		t.Fatal("a status before any StatusNotification")
	}
	conf, err := csms.ReserveNow(f.id, 1, time.Now().Add(time.Hour), "OWNER", "GROUP", 5)
	if err != nil || conf.Status != reservation.ReservationStatusAccepted {
		t.Fatalf("ReserveNow = %+v, %v", conf, err)
	}
	if !csms.WaitStatus(f.id, 1, core.ChargePointStatusReserved, 5*time.Second) {
		t.Fatalf("connector 1 not Reserved: %+v", csms.Records())
	}
	if s, ok := csms.ConnectorStatus(f.id, 1); !ok || s != core.ChargePointStatusReserved {
		t.Errorf("ConnectorStatus = %q, %v", s, ok)
	}
	if _, ok := csms.ConnectorStatus(f.id, 2); ok {
		t.Error("connector 2 has a status it never reported")
	}

	auth, err := f.cp.Authorize("MEMBER")
	if err != nil || auth.IdTagInfo.ParentIdTag != "GROUP" {
		t.Fatalf("Authorize(MEMBER) = %+v, %v; want parent GROUP", auth, err)
	}
	start, err := f.cp.StartTransaction(1, "MEMBER", 0, types.NewDateTime(time.Now()), func(r *core.StartTransactionRequest) {
		r.ReservationId = new(5)
	})
	if err != nil || start.IdTagInfo.ParentIdTag != "GROUP" {
		t.Fatalf("StartTransaction = %+v, %v; want parent GROUP", start, err)
	}
	req, id := StartRequest(csms.Records(core.StartTransactionFeatureName)[0])
	if req.ReservationId == nil || *req.ReservationId != 5 || id != start.TransactionId {
		t.Errorf("recorded start %+v (id %d), want reservation 5 and id %d", req, id, start.TransactionId)
	}

	if conf, err := csms.CancelReservation(f.id, 5); err != nil || conf.Status != reservation.CancelReservationStatusAccepted {
		t.Fatalf("CancelReservation = %+v, %v", conf, err)
	}
	if !csms.WaitStatus(f.id, 1, core.ChargePointStatusAvailable, 5*time.Second) {
		t.Fatalf("connector 1 not Available after the cancel: %+v", csms.Records())
	}
}

// sameJSON compares two messages by their JSON form, which is what crossed
// the wire (ocpp-go's decoded DateTimes carry no monotonic clock and may
// differ in location from the originals).
func sameJSON(t *testing.T, a, b any) bool {
	return jsonOf(t, a) == jsonOf(t, b)
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	if v == nil || reflect.ValueOf(v).IsNil() {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%T%s", v, b)
}
