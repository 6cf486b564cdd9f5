package ocpp16

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/ocppclient"
)

type malformedCase struct {
	name    string
	action  string
	payload string
	code    ocppclient.ErrorCode
	// schemaRejects: the official schema rejects the payload too (false
	// for parse errors, unknown actions and rules the schema states only
	// in prose).
	schemaRejects bool
}

func malformedCases() []malformedCase {
	long := func(n int) string { return strings.Repeat("x", n) }
	const (
		fv = ocppclient.FormationViolation
		tv = ocppclient.TypeConstraintViolation
		ov = ocppclient.OccurenceConstraintViolation
		pv = ocppclient.PropertyConstraintViolation
	)
	profile := func(inner string) string {
		return `{"idTag":"T","chargingProfile":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Absolute",` + inner + `}}`
	}
	schedule := func(inner string) string {
		return profile(`"chargingSchedule":{"chargingRateUnit":"A",` + inner + `}`)
	}
	return []malformedCase{
		// Structure.
		{"broken JSON", ActionReset, `{"type":`, fv, false},
		{"empty payload", ActionReset, ``, fv, false},
		{"array payload", ActionReset, `[]`, fv, true},
		{"string payload", ActionClearCache, `"x"`, fv, true},
		{"null payload", ActionClearCache, `null`, fv, true},
		{"invalid UTF-8", ActionRemoteStartTransaction, "{\"idTag\":\"\xff\"}", fv, false},
		{"trailing data", ActionReset, `{"type":"Hard"} {}`, fv, false},
		{"additional property", ActionReset, `{"type":"Hard","force":true}`, fv, true},
		{"additional property empty schema", ActionClearCache, `{"x":1}`, fv, true},
		{"nested additional property", ActionRemoteStartTransaction, schedule(`"chargingSchedulePeriod":[{"startPeriod":0,"limit":16,"x":1}]`), fv, true},
		// Actions.
		{"unknown action", "FlyToTheMoon", `{}`, ocppclient.NotImplemented, false},
		{"lower-case action", "reset", `{"type":"Hard"}`, ocppclient.NotImplemented, false},
		{"other profile ReserveNow", ActionReserveNow, `{}`, ocppclient.NotSupported, false},
		{"other profile SetChargingProfile", ActionSetChargingProfile, `{}`, ocppclient.NotSupported, false},
		{"other profile TriggerMessage", ActionTriggerMessage, `{"requestedMessage":"Heartbeat"}`, ocppclient.NotSupported, false},
		{"other profile GetDiagnostics", ActionGetDiagnostics, `{}`, ocppclient.NotSupported, false},
		{"other profile UpdateFirmware", ActionUpdateFirmware, `{}`, ocppclient.NotSupported, false},
		{"other profile SendLocalList", ActionSendLocalList, `{}`, ocppclient.NotSupported, false},
		{"other profile GetLocalListVersion", ActionGetLocalListVersion, `{}`, ocppclient.NotSupported, false},
		{"other profile CancelReservation", ActionCancelReservation, `{}`, ocppclient.NotSupported, false},
		{"other profile ClearChargingProfile", ActionClearChargingProfile, `{}`, ocppclient.NotSupported, false},
		{"other profile GetCompositeSchedule", ActionGetCompositeSchedule, `{}`, ocppclient.NotSupported, false},
		{"security InstallCertificate", ActionInstallCertificate, `{}`, ocppclient.NotSupported, false},
		{"charge point action Heartbeat", ActionHeartbeat, `{}`, ocppclient.NotSupported, false},
		{"charge point action BootNotification", ActionBootNotification, `{}`, ocppclient.NotSupported, false},
		// Required fields.
		{"Reset without type", ActionReset, `{}`, ov, true},
		{"ChangeAvailability without type", ActionChangeAvailability, `{"connectorId":1}`, ov, true},
		{"ChangeAvailability without connectorId", ActionChangeAvailability, `{"type":"Operative"}`, ov, true},
		{"ChangeConfiguration without key", ActionChangeConfiguration, `{"value":"1"}`, ov, true},
		{"ChangeConfiguration without value", ActionChangeConfiguration, `{"key":"HeartbeatInterval"}`, ov, true},
		{"DataTransfer without vendorId", ActionDataTransfer, `{"messageId":"m"}`, ov, true},
		{"RemoteStart without idTag", ActionRemoteStartTransaction, `{"connectorId":1}`, ov, true},
		{"RemoteStop without transactionId", ActionRemoteStopTransaction, `{}`, ov, true},
		{"UnlockConnector without connectorId", ActionUnlockConnector, `{}`, ov, true},
		{"profile without schedule", ActionRemoteStartTransaction, profile(`"validFrom":"2026-11-25T00:00:00Z"`), ov, true},
		{"schedule without periods", ActionRemoteStartTransaction, schedule(`"duration":60`), ov, true},
		{"period without limit", ActionRemoteStartTransaction, schedule(`"chargingSchedulePeriod":[{"startPeriod":0}]`), ov, true},
		// Types.
		{"type is a number", ActionReset, `{"type":1}`, tv, true},
		{"type is null", ActionReset, `{"type":null}`, tv, true},
		{"connectorId is a string", ActionChangeAvailability, `{"connectorId":"1","type":"Operative"}`, tv, true},
		{"connectorId is an object", ActionUnlockConnector, `{"connectorId":{}}`, tv, true},
		{"transactionId is a boolean", ActionRemoteStopTransaction, `{"transactionId":true}`, tv, true},
		{"idTag is a number", ActionRemoteStartTransaction, `{"idTag":1234}`, tv, true},
		{"key is a string not a list", ActionGetConfiguration, `{"key":"HeartbeatInterval"}`, tv, true},
		{"key item is a number", ActionGetConfiguration, `{"key":["HeartbeatInterval",5]}`, tv, true},
		{"chargingProfile is an array", ActionRemoteStartTransaction, `{"idTag":"T","chargingProfile":[]}`, tv, true},
		{"limit is a string", ActionRemoteStartTransaction, schedule(`"chargingSchedulePeriod":[{"startPeriod":0,"limit":"16"}]`), tv, true},
		{"periods is an object", ActionRemoteStartTransaction, schedule(`"chargingSchedulePeriod":{}`), tv, true},
		{"validFrom is not a dateTime", ActionRemoteStartTransaction, profile(`"validFrom":"yesterday","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[]}`), tv, true},
		{"data is an object", ActionDataTransfer, `{"vendorId":"v","data":{"a":1}}`, tv, true},
		// Values.
		{"bad ResetType", ActionReset, `{"type":"Medium"}`, pv, true},
		{"enum is case-sensitive", ActionReset, `{"type":"hard"}`, pv, true},
		{"bad AvailabilityType", ActionChangeAvailability, `{"connectorId":0,"type":"Broken"}`, pv, true},
		{"empty enum", ActionChangeAvailability, `{"connectorId":0,"type":""}`, pv, true},
		{"bad purpose", ActionRemoteStartTransaction, `{"idTag":"T","chargingProfile":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"Any","chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[]}}}`, pv, true},
		{"bad rate unit", ActionRemoteStartTransaction, profile(`"chargingSchedule":{"chargingRateUnit":"kW","chargingSchedulePeriod":[]}`), pv, true},
		{"idTag over 20", ActionRemoteStartTransaction, `{"idTag":"` + long(21) + `"}`, pv, true},
		{"idTag 21 code points", ActionRemoteStartTransaction, `{"idTag":"` + strings.Repeat("ä", 21) + `"}`, pv, true},
		{"key over 50", ActionChangeConfiguration, `{"key":"` + long(51) + `","value":"1"}`, pv, true},
		{"value over 500", ActionChangeConfiguration, `{"key":"k","value":"` + long(501) + `"}`, pv, true},
		{"vendorId over 255", ActionDataTransfer, `{"vendorId":"` + long(256) + `"}`, pv, true},
		{"messageId over 50", ActionDataTransfer, `{"vendorId":"v","messageId":"` + long(51) + `"}`, pv, true},
		{"key item over 50", ActionGetConfiguration, `{"key":["` + long(51) + `"]}`, pv, true},
		{"fractional connectorId", ActionChangeAvailability, `{"connectorId":1.5,"type":"Operative"}`, pv, true},
		{"fractional transactionId", ActionRemoteStopTransaction, `{"transactionId":0.5}`, pv, true},
		{"transactionId over 32 bits", ActionRemoteStopTransaction, `{"transactionId":2147483648}`, pv, false},
		{"transactionId huge", ActionRemoteStopTransaction, `{"transactionId":1e400}`, pv, false},
		{"negative connectorId", ActionChangeAvailability, `{"connectorId":-1,"type":"Operative"}`, pv, false},
		{"UnlockConnector connector 0", ActionUnlockConnector, `{"connectorId":0}`, pv, false},
		{"RemoteStart connector 0", ActionRemoteStartTransaction, `{"connectorId":0,"idTag":"T"}`, pv, false},
		{"negative stackLevel", ActionRemoteStartTransaction, `{"idTag":"T","chargingProfile":{"chargingProfileId":1,"stackLevel":-1,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[]}}}`, pv, false},
		{"limit not a multiple of 0.1", ActionRemoteStartTransaction, schedule(`"chargingSchedulePeriod":[{"startPeriod":0,"limit":16.05}]`), pv, true},
		{"minChargingRate not a multiple of 0.1", ActionRemoteStartTransaction, schedule(`"chargingSchedulePeriod":[],"minChargingRate":0.01`), pv, true},
	}
}

func TestDecodeRequestMalformed(t *testing.T) {
	for _, tc := range malformedCases() {
		t.Run(tc.name, func(t *testing.T) {
			v, err := DecodeRequest(tc.action, json.RawMessage(tc.payload))
			var ce *ocppclient.CallError
			if !errors.As(err, &ce) {
				t.Fatalf("DecodeRequest = %v, %v; want CallError %s", v, err, tc.code)
			}
			if ce.Code != tc.code {
				t.Errorf("code %s (%s), want %s", ce.Code, ce.Description, tc.code)
			}
			if v != nil {
				t.Errorf("value %v returned with an error", v)
			}
		})
	}
}

func TestDecodeRequestValid(t *testing.T) {
	at := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		action  string
		payload string
		want    any
	}{
		{"ChangeAvailability", ActionChangeAvailability, `{"connectorId":0,"type":"Inoperative"}`,
			&ChangeAvailabilityRequest{ConnectorID: 0, Type: AvailabilityTypeInoperative}},
		{"integer written 2.0", ActionChangeAvailability, `{"connectorId":2.0,"type":"Operative"}`,
			&ChangeAvailabilityRequest{ConnectorID: 2, Type: AvailabilityTypeOperative}},
		{"integer written 1e0", ActionUnlockConnector, `{"connectorId":1e0}`, &UnlockConnectorRequest{ConnectorID: 1}},
		{"fields in any order, spaces", ActionChangeConfiguration, " {\n \"value\" : \"300\", \"key\":\"HeartbeatInterval\" } \n",
			&ChangeConfigurationRequest{Key: "HeartbeatInterval", Value: "300"}},
		{"ClearCache", ActionClearCache, `{}`, &ClearCacheRequest{}},
		{"DataTransfer minimal", ActionDataTransfer, `{"vendorId":"v"}`, &DataTransferRequest{VendorID: "v"}},
		{"GetConfiguration all", ActionGetConfiguration, `{}`, &GetConfigurationRequest{}},
		{"GetConfiguration keys", ActionGetConfiguration, `{"key":["A","B"]}`, &GetConfigurationRequest{Key: []string{"A", "B"}}},
		{"RemoteStart idTag of 20 code points", ActionRemoteStartTransaction, `{"idTag":"` + strings.Repeat("ä", 20) + `"}`,
			&RemoteStartTransactionRequest{IDTag: strings.Repeat("ä", 20)}},
		{"RemoteStart with profile", ActionRemoteStartTransaction,
			`{"connectorId":1,"idTag":"T","chargingProfile":{"chargingProfileId":3,"stackLevel":1,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative",` +
				`"validFrom":"2026-11-25T01:00:00+01:00","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16.1,"numberPhases":3}],"minChargingRate":6}}}`,
			&RemoteStartTransactionRequest{ConnectorID: ptr(1), IDTag: "T", ChargingProfile: &ChargingProfile{
				ChargingProfileID: 3, StackLevel: 1, ChargingProfilePurpose: ChargingProfilePurposeTxProfile, ChargingProfileKind: ChargingProfileKindRelative,
				ValidFrom: NewDateTimePtr(at.In(time.FixedZone("", 3600))),
				ChargingSchedule: ChargingSchedule{ChargingRateUnit: ChargingRateUnitA,
					ChargingSchedulePeriod: []ChargingSchedulePeriod{{StartPeriod: 0, Limit: 16.1, NumberPhases: ptr(3)}}, MinChargingRate: ptr(6.0)},
			}}},
		{"RemoteStop negative id", ActionRemoteStopTransaction, `{"transactionId":-5}`, &RemoteStopTransactionRequest{TransactionID: -5}},
		{"Reset", ActionReset, `{"type":"Soft"}`, &ResetRequest{Type: ResetTypeSoft}},
		{"UnlockConnector", ActionUnlockConnector, `{"connectorId":2}`, &UnlockConnectorRequest{ConnectorID: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeRequest(tc.action, json.RawMessage(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			// DateTime values compare by instant.
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(tc.want)
			if reflect.TypeOf(got) != reflect.TypeOf(tc.want) || string(gb) != string(wb) {
				t.Errorf("got %T %s\nwant %T %s", got, gb, tc.want, wb)
			}
		})
	}
}

func TestDecodeResponse(t *testing.T) {
	tests := []struct {
		name    string
		action  string
		payload string
		code    ocppclient.ErrorCode // "" for success
	}{
		{"BootNotification", ActionBootNotification, `{"status":"Accepted","currentTime":"2026-11-25T01:02:03Z","interval":300}`, ""},
		{"BootNotification Pending", ActionBootNotification, `{"status":"Pending","currentTime":"2026-11-25T01:02:03.123456+02:00","interval":0}`, ""},
		{"BootNotification without interval", ActionBootNotification, `{"status":"Accepted","currentTime":"2026-11-25T01:02:03Z"}`, ocppclient.OccurenceConstraintViolation},
		{"BootNotification bad time", ActionBootNotification, `{"status":"Accepted","currentTime":"25.11.2026","interval":300}`, ocppclient.TypeConstraintViolation},
		{"BootNotification time without zone", ActionBootNotification, `{"status":"Accepted","currentTime":"2026-11-25T01:02:03","interval":300}`, ocppclient.TypeConstraintViolation},
		{"BootNotification bad status", ActionBootNotification, `{"status":"OK","currentTime":"2026-11-25T01:02:03Z","interval":300}`, ocppclient.PropertyConstraintViolation},
		{"Authorize", ActionAuthorize, `{"idTagInfo":{"status":"Blocked","parentIdTag":"P","expiryDate":"2027-01-01T00:00:00Z"}}`, ""},
		{"Authorize without status", ActionAuthorize, `{"idTagInfo":{}}`, ocppclient.OccurenceConstraintViolation},
		{"Authorize parent over 20", ActionAuthorize, `{"idTagInfo":{"status":"Accepted","parentIdTag":"` + strings.Repeat("p", 21) + `"}}`, ocppclient.PropertyConstraintViolation},
		{"Heartbeat", ActionHeartbeat, `{"currentTime":"2026-11-25T01:02:03.456Z"}`, ""},
		{"MeterValues", ActionMeterValues, `{}`, ""},
		{"MeterValues with field", ActionMeterValues, `{"status":"Accepted"}`, ocppclient.FormationViolation},
		{"StartTransaction", ActionStartTransaction, `{"idTagInfo":{"status":"Accepted"},"transactionId":7}`, ""},
		{"StartTransaction string id", ActionStartTransaction, `{"idTagInfo":{"status":"Accepted"},"transactionId":"7"}`, ocppclient.TypeConstraintViolation},
		{"StatusNotification", ActionStatusNotification, `{}`, ""},
		{"StopTransaction empty", ActionStopTransaction, `{}`, ""},
		{"DataTransfer", ActionDataTransfer, `{"status":"UnknownVendorId"}`, ""},
		{"broken", ActionHeartbeat, `{`, ocppclient.FormationViolation},
		{"unknown action", "Nope", `{}`, ocppclient.NotImplemented},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			into := newResponse(tc.action)
			if into == nil {
				into = new(HeartbeatResponse)
			}
			before, _ := json.Marshal(into)
			err := DecodeResponse(tc.action, json.RawMessage(tc.payload), into)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *ocppclient.CallError
			if !errors.As(err, &ce) || ce.Code != tc.code {
				t.Fatalf("err = %v, want code %s", err, tc.code)
			}
			if after, _ := json.Marshal(into); string(after) != string(before) {
				t.Errorf("into changed on error: %s", after)
			}
		})
	}
}

func TestDecodeResponseWrongTarget(t *testing.T) {
	payload := json.RawMessage(`{"currentTime":"2026-11-25T01:02:03Z"}`)
	for name, into := range map[string]any{
		"other type":   new(BootNotificationResponse),
		"not pointer":  HeartbeatResponse{},
		"nil pointer":  (*HeartbeatResponse)(nil),
		"nil":          nil,
		"request type": new(HeartbeatRequest),
	} {
		t.Run(name, func(t *testing.T) {
			err := DecodeResponse(ActionHeartbeat, payload, into)
			var ce *ocppclient.CallError
			if err == nil || errors.As(err, &ce) {
				t.Errorf("err = %v, want a plain error", err)
			}
		})
	}
	var hb HeartbeatResponse
	if err := DecodeResponse(ActionHeartbeat, payload, &hb); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 25, 1, 2, 3, 0, time.UTC); !hb.CurrentTime.Equal(want) {
		t.Errorf("currentTime %v, want %v", hb.CurrentTime, want)
	}
}

func TestValidateOutbound(t *testing.T) {
	at := NewDateTime(time.Date(2026, 11, 25, 1, 2, 3, 0, time.UTC))
	tests := []struct {
		name string
		msg  interface{ Validate() error }
		code ocppclient.ErrorCode // "" for valid
	}{
		{"boot ok", &BootNotificationRequest{ChargePointVendor: "evsed", ChargePointModel: "sim"}, ""},
		{"boot vendor too long", &BootNotificationRequest{ChargePointVendor: strings.Repeat("v", 21), ChargePointModel: "sim"}, ocppclient.PropertyConstraintViolation},
		{"boot firmware too long", &BootNotificationRequest{ChargePointVendor: "v", ChargePointModel: "m", FirmwareVersion: strings.Repeat("1", 51)}, ocppclient.PropertyConstraintViolation},
		{"status without error code", &StatusNotificationRequest{ConnectorID: 1, Status: ChargePointStatusAvailable}, ocppclient.PropertyConstraintViolation},
		{"status negative connector", &StatusNotificationRequest{ConnectorID: -1, ErrorCode: ChargePointErrorCodeNoError, Status: ChargePointStatusAvailable}, ocppclient.PropertyConstraintViolation},
		{"status info too long", &StatusNotificationRequest{ConnectorID: 1, ErrorCode: ChargePointErrorCodeNoError, Status: ChargePointStatusAvailable, Info: strings.Repeat("i", 51)}, ocppclient.PropertyConstraintViolation},
		{"start connector 0", &StartTransactionRequest{ConnectorID: 0, IDTag: "T", Timestamp: at}, ocppclient.PropertyConstraintViolation},
		{"start idTag too long", &StartTransactionRequest{ConnectorID: 1, IDTag: strings.Repeat("t", 21), Timestamp: at}, ocppclient.PropertyConstraintViolation},
		{"meter values nil list", &MeterValuesRequest{ConnectorID: 1}, ocppclient.TypeConstraintViolation},
		{"meter values bad measurand", &MeterValuesRequest{ConnectorID: 1, MeterValue: []MeterValue{{Timestamp: at, SampledValue: []SampledValue{{Value: "1", Measurand: "Energy"}}}}}, ocppclient.PropertyConstraintViolation},
		{"stop bad reason", &StopTransactionRequest{Timestamp: at, TransactionID: 1, Reason: "Bored"}, ocppclient.PropertyConstraintViolation},
		{"stop ok", &StopTransactionRequest{Timestamp: at, TransactionID: 1, Reason: ReasonEVDisconnected}, ""},
		{"config answer value too long", &GetConfigurationResponse{ConfigurationKey: []KeyValue{{Key: "k", Value: ptr(strings.Repeat("v", 501))}}}, ocppclient.PropertyConstraintViolation},
		{"change config answer empty", &ChangeConfigurationResponse{}, ocppclient.PropertyConstraintViolation},
		{"unlock answer ok", &UnlockConnectorResponse{Status: UnlockStatusUnlocked}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.msg.Validate()
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *ocppclient.CallError
			if !errors.As(err, &ce) || ce.Code != tc.code {
				t.Fatalf("err = %v, want code %s", err, tc.code)
			}
		})
	}
	if err := Validate(nil); err == nil {
		t.Error("Validate(nil) = nil")
	}
	if err := Validate(42); err == nil {
		t.Error("Validate(42) = nil")
	}
}

// TestRulesParse makes sure every message type's tags parse.
func TestRulesParse(t *testing.T) {
	var walk func(reflect.Type)
	visited := map[reflect.Type]bool{}
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == dateTimeType || visited[typ] {
			return
		}
		visited[typ] = true
		fs, err := structFields(typ)
		if err != nil {
			t.Error(err)
		}
		for _, f := range fs {
			walk(typ.Field(f.index).Type)
		}
	}
	for _, typ := range messageTypes() {
		walk(typ)
	}
	if _, err := parseRules("required,bogus=1"); err == nil {
		t.Error("unknown rule accepted")
	}
	if _, err := parseRules("max=x"); err == nil {
		t.Error("bad max accepted")
	}
}
