package ocpp16

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/evsed/evsed/ocppclient"
)

// FuzzDecodeRequest feeds arbitrary actions and payloads to DecodeRequest.
// Decoding must never panic, must fail only with a *ocppclient.CallError,
// and a request it accepts must pass Validate and survive a marshal/decode
// round trip unchanged.
func FuzzDecodeRequest(f *testing.F) {
	seeds := []struct{ action, payload string }{
		{ActionReset, `{"type":"Hard"}`},
		{ActionReset, `{"type":"Soft","x":1}`},
		{ActionReset, `{"type":`},
		{ActionChangeAvailability, `{"connectorId":0,"type":"Inoperative"}`},
		{ActionChangeAvailability, `{"connectorId":1.5,"type":"Operative"}`},
		{ActionChangeAvailability, `{"connectorId":-1,"type":"Operative"}`},
		{ActionChangeConfiguration, `{"key":"MeterValuesSampledData","value":"Energy.Active.Import.Register,Voltage"}`},
		{ActionClearCache, `{}`},
		{ActionDataTransfer, `{"vendorId":"org.evsed","messageId":"m","data":"\u00e4\u0000"}`},
		{ActionGetConfiguration, `{"key":["HeartbeatInterval","AuthorizationKey"]}`},
		{ActionGetConfiguration, `{"key":null}`},
		{ActionRemoteStartTransaction, `{"connectorId":1,"idTag":"04A1B2C3","chargingProfile":{"chargingProfileId":1,"stackLevel":0,` +
			`"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Absolute","validFrom":"2026-11-25T01:02:03.456+01:00",` +
			`"chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16.1,"numberPhases":1}],"minChargingRate":6.0}}}`},
		{ActionRemoteStartTransaction, `{"idTag":"123456789012345678901"}`},
		{ActionRemoteStopTransaction, `{"transactionId":1e3}`},
		{ActionRemoteStopTransaction, `{"transactionId":99999999999999999999}`},
		{ActionUnlockConnector, `{"connectorId":1}`},
		{ActionUnlockConnector, `[1]`},
		{ActionReserveNow, `{}`},
		{ActionReserveNow, `{"connectorId":0,"expiryDate":"2026-11-25T10:00:00.123+01:00","idTag":"T","parentIdTag":"P","reservationId":7}`},
		{ActionReserveNow, `{"connectorId":1,"expiryDate":"25/11/2026 10:00","idTag":"T","reservationId":7}`},
		{ActionCancelReservation, `{"reservationId":-7}`},
		{ActionSetChargingProfile, `{"connectorId":0,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":2,"chargingProfilePurpose":"TxDefaultProfile",` +
			`"chargingProfileKind":"Recurring","recurrencyKind":"Weekly","validTo":"2027-01-01T00:00:00Z","chargingSchedule":{"duration":604800,` +
			`"startSchedule":"2026-11-23T00:00:00Z","chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":7400},{"startPeriod":3600,"limit":1380.1,"numberPhases":1}]}}}`},
		{ActionSetChargingProfile, `{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxProfile",` +
			`"chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":1.25}]}}}`},
		{ActionSetChargingProfile, `{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":-1,"chargingProfilePurpose":"TxProfile",` +
			`"chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[]}}}`},
		{ActionSetChargingProfile, `{"connectorId":1}`},
		{ActionClearChargingProfile, `{"id":3,"connectorId":0,"chargingProfilePurpose":"ChargePointMaxProfile","stackLevel":-1}`},
		{ActionGetCompositeSchedule, `{"connectorId":1,"duration":86400,"chargingRateUnit":"A"}`},
		{ActionSendLocalList, `{"listVersion":5,"updateType":"Differential","localAuthorizationList":[{"idTag":"A"},` +
			`{"idTag":"B","idTagInfo":{"status":"Expired","expiryDate":"2026-01-01T00:00:00Z","parentIdTag":"P"}}]}`},
		{ActionSendLocalList, `{"listVersion":1,"updateType":"Full","localAuthorizationList":[]}`},
		{ActionGetLocalListVersion, `{}`},
		{ActionTriggerMessage, `{"requestedMessage":"StatusNotification","connectorId":0}`},
		{ActionTriggerMessage, `{"requestedMessage":"SignChargePointCertificate"}`},
		{ActionDiagnosticsStatusNotification, `{"status":"Idle"}`},
		{"Unknown", `{}`},
	}
	for _, s := range seeds {
		f.Add(s.action, []byte(s.payload))
	}
	f.Fuzz(func(t *testing.T, action string, payload []byte) {
		v, err := DecodeRequest(action, payload)
		if err != nil {
			var ce *ocppclient.CallError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not a CallError", err, err)
			}
			if v != nil {
				t.Fatalf("value %v returned with error %v", v, err)
			}
			return
		}
		if err := Validate(v); err != nil {
			t.Fatalf("decoded %s %s fails Validate: %v", action, payload, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal %T: %v", v, err)
		}
		v2, err := DecodeRequest(action, b)
		if err != nil {
			t.Fatalf("re-decode %s (from %s): %v", b, payload, err)
		}
		b2, _ := json.Marshal(v2)
		if !bytes.Equal(b, b2) {
			t.Fatalf("round trip not stable:\n%s\n%s", b, b2)
		}
	})
}
