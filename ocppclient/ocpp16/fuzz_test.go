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
