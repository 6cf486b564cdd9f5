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
	setProfile := func(inner string) string {
		return `{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute",` + inner + `}}`
	}
	setSchedule := func(inner string) string {
		return setProfile(`"chargingSchedule":{"chargingRateUnit":"W",` + inner + `}`)
	}
	localList := func(entries string) string {
		return `{"listVersion":2,"updateType":"Differential","localAuthorizationList":[` + entries + `]}`
	}
	reserve := func(fields string) string {
		return `{"connectorId":1,"reservationId":7,` + fields + `}`
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
		{"Firmware Management UpdateFirmware without retrieveDate", ActionUpdateFirmware, `{"location":"https://fw.example/1"}`, ocppclient.OccurenceConstraintViolation, true},
		{"security SignedUpdateFirmware without firmware", ActionSignedUpdateFirmware, `{"requestId":1}`, ocppclient.OccurenceConstraintViolation, true},
		{"security GetLog without log", ActionGetLog, `{"requestId":1,"logType":"SecurityLog"}`, ocppclient.OccurenceConstraintViolation, true},
		{"security InstallCertificate missing field", ActionInstallCertificate, `{"certificateType":"CentralSystemRootCertificate"}`,
			ocppclient.OccurenceConstraintViolation, true},
		{"security ExtendedTriggerMessage unknown message", ActionExtendedTriggerMessage, `{"requestedMessage":"DiagnosticsStatusNotification"}`,
			ocppclient.PropertyConstraintViolation, true},
		{"charge point action Heartbeat", ActionHeartbeat, `{}`, ocppclient.NotSupported, false},
		{"charge point action BootNotification", ActionBootNotification, `{}`, ocppclient.NotSupported, false},
		{"charge point action DiagnosticsStatusNotification", ActionDiagnosticsStatusNotification, `{"status":"Idle"}`, ocppclient.NotSupported, false},
		{"charge point action FirmwareStatusNotification", ActionFirmwareStatusNotification, `{"status":"Idle"}`, ocppclient.NotSupported, false},
		// Structure of the other profiles' requests.
		{"SetChargingProfile nested additional property", ActionSetChargingProfile, setSchedule(`"chargingSchedulePeriod":[],"x":1`), fv, true},
		{"SetChargingProfile profile under RemoteStart's name", ActionSetChargingProfile, `{"connectorId":1,"chargingProfile":{}}`, fv, true},
		{"GetLocalListVersion with a field", ActionGetLocalListVersion, `{"listVersion":1}`, fv, true},
		{"SendLocalList status outside idTagInfo", ActionSendLocalList, localList(`{"idTag":"A","status":"Accepted"}`), fv, true},
		{"TriggerMessage additional property", ActionTriggerMessage, `{"requestedMessage":"Heartbeat","evse":{"id":1}}`, fv, true},
		{"ReserveNow payload is an array", ActionReserveNow, `[]`, fv, true},
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
		{"SetChargingProfile without csChargingProfiles", ActionSetChargingProfile, `{"connectorId":1}`, ov, true},
		{"SetChargingProfile without connectorId", ActionSetChargingProfile, `{"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxProfile",` +
			`"chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[]}}}`, ov, true},
		{"SetChargingProfile profile without stackLevel", ActionSetChargingProfile, `{"connectorId":0,"csChargingProfiles":{"chargingProfileId":1,"chargingProfilePurpose":"TxProfile",` +
			`"chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[]}}}`, ov, true},
		{"SetChargingProfile schedule without unit", ActionSetChargingProfile, setProfile(`"chargingSchedule":{"chargingSchedulePeriod":[]}`), ov, true},
		{"SetChargingProfile period without startPeriod", ActionSetChargingProfile, setSchedule(`"chargingSchedulePeriod":[{"limit":16}]`), ov, true},
		{"GetCompositeSchedule without duration", ActionGetCompositeSchedule, `{"connectorId":1}`, ov, true},
		{"GetCompositeSchedule without connectorId", ActionGetCompositeSchedule, `{"duration":60}`, ov, true},
		{"SendLocalList without updateType", ActionSendLocalList, `{"listVersion":1}`, ov, true},
		{"SendLocalList without listVersion", ActionSendLocalList, `{"updateType":"Full"}`, ov, true},
		{"SendLocalList entry without idTag", ActionSendLocalList, localList(`{"idTagInfo":{"status":"Accepted"}}`), ov, true},
		{"SendLocalList idTagInfo without status", ActionSendLocalList, localList(`{"idTag":"A","idTagInfo":{"parentIdTag":"P"}}`), ov, true},
		{"ReserveNow without expiryDate", ActionReserveNow, reserve(`"idTag":"T"`), ov, true},
		{"ReserveNow without idTag", ActionReserveNow, reserve(`"expiryDate":"2026-11-25T10:00:00Z"`), ov, true},
		{"ReserveNow without reservationId", ActionReserveNow, `{"connectorId":1,"expiryDate":"2026-11-25T10:00:00Z","idTag":"T"}`, ov, true},
		{"CancelReservation without reservationId", ActionCancelReservation, `{}`, ov, true},
		{"TriggerMessage without requestedMessage", ActionTriggerMessage, `{"connectorId":1}`, ov, true},
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
		{"ReserveNow expiryDate not RFC 3339", ActionReserveNow, reserve(`"idTag":"T","expiryDate":"2026-11-25 10:00:00"`), tv, true},
		{"ReserveNow expiryDate without zone", ActionReserveNow, reserve(`"idTag":"T","expiryDate":"2026-11-25T10:00:00"`), tv, true},
		{"ReserveNow expiryDate a date only", ActionReserveNow, reserve(`"idTag":"T","expiryDate":"2026-11-25"`), tv, true},
		{"ReserveNow expiryDate is a number", ActionReserveNow, reserve(`"idTag":"T","expiryDate":1764064800`), tv, true},
		{"SetChargingProfile csChargingProfiles is an array", ActionSetChargingProfile, `{"connectorId":1,"csChargingProfiles":[]}`, tv, true},
		{"SetChargingProfile validTo not RFC 3339", ActionSetChargingProfile, setProfile(`"validTo":"tomorrow","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[]}`), tv, true},
		{"SetChargingProfile limit is null", ActionSetChargingProfile, setSchedule(`"chargingSchedulePeriod":[{"startPeriod":0,"limit":null}]`), tv, true},
		{"ClearChargingProfile id is a string", ActionClearChargingProfile, `{"id":"1"}`, tv, true},
		{"GetCompositeSchedule duration is null", ActionGetCompositeSchedule, `{"connectorId":1,"duration":null}`, tv, true},
		{"SendLocalList list is an object", ActionSendLocalList, `{"listVersion":1,"updateType":"Full","localAuthorizationList":{}}`, tv, true},
		{"SendLocalList entry is a string", ActionSendLocalList, localList(`"TAG"`), tv, true},
		{"TriggerMessage connectorId is a string", ActionTriggerMessage, `{"requestedMessage":"MeterValues","connectorId":"1"}`, tv, true},
		{"CancelReservation reservationId is a boolean", ActionCancelReservation, `{"reservationId":false}`, tv, true},
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
		{"SetChargingProfile limit 1.25", ActionSetChargingProfile, setSchedule(`"chargingSchedulePeriod":[{"startPeriod":0,"limit":1.25}]`), pv, true},
		{"SetChargingProfile minChargingRate 0.05", ActionSetChargingProfile, setSchedule(`"chargingSchedulePeriod":[],"minChargingRate":0.05`), pv, true},
		{"SetChargingProfile negative stackLevel", ActionSetChargingProfile, `{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":-1,"chargingProfilePurpose":"TxProfile",` +
			`"chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[]}}}`, pv, false},
		{"SetChargingProfile negative connectorId", ActionSetChargingProfile, `{"connectorId":-1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxProfile",` +
			`"chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[]}}}`, pv, false},
		{"SetChargingProfile negative startPeriod", ActionSetChargingProfile, setSchedule(`"chargingSchedulePeriod":[{"startPeriod":-60,"limit":16}]`), pv, false},
		{"SetChargingProfile negative duration", ActionSetChargingProfile, setSchedule(`"duration":-1,"chargingSchedulePeriod":[]`), pv, false},
		{"SetChargingProfile bad kind", ActionSetChargingProfile, setProfile(`"chargingProfileKind":"Once","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[]}`), pv, true},
		{"SetChargingProfile bad recurrencyKind", ActionSetChargingProfile, setProfile(`"recurrencyKind":"Monthly","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[]}`), pv, true},
		{"SetChargingProfile fractional chargingProfileId", ActionSetChargingProfile, `{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1.5,"stackLevel":0,"chargingProfilePurpose":"TxProfile",` +
			`"chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[]}}}`, pv, true},
		{"ClearChargingProfile negative stackLevel", ActionClearChargingProfile, `{"stackLevel":-1}`, pv, false},
		{"ClearChargingProfile negative connectorId", ActionClearChargingProfile, `{"connectorId":-2}`, pv, false},
		{"ClearChargingProfile bad purpose", ActionClearChargingProfile, `{"chargingProfilePurpose":"ChargingStationMaxProfile"}`, pv, true},
		{"ClearChargingProfile empty purpose", ActionClearChargingProfile, `{"chargingProfilePurpose":""}`, pv, true},
		{"GetCompositeSchedule negative duration", ActionGetCompositeSchedule, `{"connectorId":1,"duration":-60}`, pv, false},
		{"GetCompositeSchedule negative connectorId", ActionGetCompositeSchedule, `{"connectorId":-1,"duration":60}`, pv, false},
		{"GetCompositeSchedule bad unit", ActionGetCompositeSchedule, `{"connectorId":1,"duration":60,"chargingRateUnit":"kW"}`, pv, true},
		{"SendLocalList bad updateType", ActionSendLocalList, `{"listVersion":1,"updateType":"Partial"}`, pv, true},
		{"SendLocalList fractional listVersion", ActionSendLocalList, `{"listVersion":1.5,"updateType":"Full"}`, pv, true},
		{"SendLocalList idTag over 20", ActionSendLocalList, localList(`{"idTag":"` + long(21) + `"}`), pv, true},
		{"SendLocalList parentIdTag over 20", ActionSendLocalList, localList(`{"idTag":"A","idTagInfo":{"status":"Accepted","parentIdTag":"` + long(21) + `"}}`), pv, true},
		{"SendLocalList bad status", ActionSendLocalList, localList(`{"idTag":"A","idTagInfo":{"status":"Allowed"}}`), pv, true},
		{"ReserveNow idTag over 20", ActionReserveNow, reserve(`"expiryDate":"2026-11-25T10:00:00Z","idTag":"` + long(21) + `"`), pv, true},
		{"ReserveNow parentIdTag over 20", ActionReserveNow, reserve(`"expiryDate":"2026-11-25T10:00:00Z","idTag":"T","parentIdTag":"` + long(21) + `"`), pv, true},
		{"ReserveNow negative connectorId", ActionReserveNow, `{"connectorId":-1,"expiryDate":"2026-11-25T10:00:00Z","idTag":"T","reservationId":7}`, pv, false},
		{"ReserveNow fractional reservationId", ActionReserveNow, `{"connectorId":1,"expiryDate":"2026-11-25T10:00:00Z","idTag":"T","reservationId":7.5}`, pv, true},
		{"CancelReservation reservationId over 32 bits", ActionCancelReservation, `{"reservationId":4294967296}`, pv, false},
		{"TriggerMessage unknown requestedMessage", ActionTriggerMessage, `{"requestedMessage":"StartTransaction"}`, pv, true},
		{"TriggerMessage whitepaper-only requestedMessage", ActionTriggerMessage, `{"requestedMessage":"LogStatusNotification"}`, pv, true},
		{"TriggerMessage requestedMessage is case-sensitive", ActionTriggerMessage, `{"requestedMessage":"heartbeat"}`, pv, true},
		{"TriggerMessage negative connectorId", ActionTriggerMessage, `{"requestedMessage":"StatusNotification","connectorId":-1}`, pv, false},
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
		{"SetChargingProfile", ActionSetChargingProfile,
			`{"connectorId":0,"csChargingProfiles":{"chargingProfileId":12,"stackLevel":3,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Recurring",` +
				`"recurrencyKind":"Daily","chargingSchedule":{"duration":86400,"startSchedule":"2026-11-25T00:00:00Z","chargingRateUnit":"W",` +
				`"chargingSchedulePeriod":[{"startPeriod":0,"limit":11000},{"startPeriod":28800,"limit":1.2,"numberPhases":1}]}}}`,
			&SetChargingProfileRequest{ConnectorID: 0, CsChargingProfiles: ChargingProfile{
				ChargingProfileID: 12, StackLevel: 3, ChargingProfilePurpose: ChargingProfilePurposeTxDefaultProfile,
				ChargingProfileKind: ChargingProfileKindRecurring, RecurrencyKind: RecurrencyKindDaily,
				ChargingSchedule: ChargingSchedule{Duration: ptr(86400), StartSchedule: NewDateTimePtr(at), ChargingRateUnit: ChargingRateUnitW,
					ChargingSchedulePeriod: []ChargingSchedulePeriod{{StartPeriod: 0, Limit: 11000}, {StartPeriod: 28800, Limit: 1.2, NumberPhases: ptr(1)}}},
			}}},
		{"SetChargingProfile duration 0", ActionSetChargingProfile,
			`{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"transactionId":42,"stackLevel":0,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative",` +
				`"chargingSchedule":{"duration":0,"chargingRateUnit":"A","chargingSchedulePeriod":[]}}}`,
			&SetChargingProfileRequest{ConnectorID: 1, CsChargingProfiles: ChargingProfile{
				ChargingProfileID: 1, TransactionID: ptr(42), ChargingProfilePurpose: ChargingProfilePurposeTxProfile, ChargingProfileKind: ChargingProfileKindRelative,
				ChargingSchedule: ChargingSchedule{Duration: ptr(0), ChargingRateUnit: ChargingRateUnitA, ChargingSchedulePeriod: []ChargingSchedulePeriod{}},
			}}},
		{"ClearChargingProfile everything", ActionClearChargingProfile, `{}`, &ClearChargingProfileRequest{}},
		{"ClearChargingProfile criteria", ActionClearChargingProfile, `{"connectorId":0,"chargingProfilePurpose":"ChargePointMaxProfile","stackLevel":0}`,
			&ClearChargingProfileRequest{ConnectorID: ptr(0), ChargingProfilePurpose: ChargingProfilePurposeChargePointMaxProfile, StackLevel: ptr(0)}},
		{"ClearChargingProfile by id", ActionClearChargingProfile, `{"id":-4}`, &ClearChargingProfileRequest{ID: ptr(-4)}},
		{"GetCompositeSchedule", ActionGetCompositeSchedule, `{"connectorId":0,"duration":0}`, &GetCompositeScheduleRequest{}},
		{"GetCompositeSchedule in watts", ActionGetCompositeSchedule, `{"connectorId":2,"duration":3600,"chargingRateUnit":"W"}`,
			&GetCompositeScheduleRequest{ConnectorID: 2, Duration: 3600, ChargingRateUnit: ChargingRateUnitW}},
		{"SendLocalList Full without list", ActionSendLocalList, `{"listVersion":0,"updateType":"Full"}`,
			&SendLocalListRequest{ListVersion: 0, UpdateType: UpdateTypeFull}},
		{"SendLocalList Full entry without idTagInfo (schema allows)", ActionSendLocalList, `{"listVersion":3,"updateType":"Full","localAuthorizationList":[{"idTag":"A"}]}`,
			&SendLocalListRequest{ListVersion: 3, UpdateType: UpdateTypeFull, LocalAuthorizationList: []AuthorizationData{{IDTag: "A"}}}},
		{"SendLocalList Differential", ActionSendLocalList,
			`{"listVersion":4,"updateType":"Differential","localAuthorizationList":[{"idTag":"A"},{"idTag":"B","idTagInfo":{"status":"Blocked","parentIdTag":"P","expiryDate":"2026-11-25T00:00:00Z"}}]}`,
			&SendLocalListRequest{ListVersion: 4, UpdateType: UpdateTypeDifferential, LocalAuthorizationList: []AuthorizationData{
				{IDTag: "A"}, {IDTag: "B", IdTagInfo: &IdTagInfo{Status: AuthorizationStatusBlocked, ParentIDTag: "P", ExpiryDate: NewDateTimePtr(at)}}}}},
		{"GetLocalListVersion", ActionGetLocalListVersion, `{}`, &GetLocalListVersionRequest{}},
		{"ReserveNow", ActionReserveNow, `{"connectorId":0,"expiryDate":"2026-11-25T01:00:00.5+01:00","idTag":"T","parentIdTag":"P","reservationId":7}`,
			&ReserveNowRequest{ConnectorID: 0, ExpiryDate: NewDateTime(at.Add(500 * time.Millisecond)), IDTag: "T", ParentIDTag: "P", ReservationID: 7}},
		{"CancelReservation", ActionCancelReservation, `{"reservationId":7}`, &CancelReservationRequest{ReservationID: 7}},
		{"TriggerMessage all connectors", ActionTriggerMessage, `{"requestedMessage":"StatusNotification"}`,
			&TriggerMessageRequest{RequestedMessage: MessageTriggerStatusNotification}},
		{"TriggerMessage charge point itself", ActionTriggerMessage, `{"requestedMessage":"StatusNotification","connectorId":0}`,
			&TriggerMessageRequest{RequestedMessage: MessageTriggerStatusNotification, ConnectorID: ptr(0)}},
		{"TriggerMessage firmware status", ActionTriggerMessage, `{"requestedMessage":"FirmwareStatusNotification","connectorId":1}`,
			&TriggerMessageRequest{RequestedMessage: MessageTriggerFirmwareStatusNotification, ConnectorID: ptr(1)}},
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
		{"SetChargingProfile", ActionSetChargingProfile, `{"status":"NotSupported"}`, ""},
		{"SetChargingProfile bad status", ActionSetChargingProfile, `{"status":"Unknown"}`, ocppclient.PropertyConstraintViolation},
		{"ClearChargingProfile", ActionClearChargingProfile, `{"status":"Unknown"}`, ""},
		{"GetCompositeSchedule rejected", ActionGetCompositeSchedule, `{"status":"Rejected"}`, ""},
		{"GetCompositeSchedule", ActionGetCompositeSchedule, `{"status":"Accepted","connectorId":1,"scheduleStart":"2026-11-25T00:00:00Z",` +
			`"chargingSchedule":{"duration":600,"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}}`, ""},
		{"GetCompositeSchedule limit 1.25", ActionGetCompositeSchedule, `{"status":"Accepted",` +
			`"chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":1.25}]}}`, ocppclient.PropertyConstraintViolation},
		{"SendLocalList", ActionSendLocalList, `{"status":"VersionMismatch"}`, ""},
		{"GetLocalListVersion unsupported", ActionGetLocalListVersion, `{"listVersion":-1}`, ""},
		{"GetLocalListVersion below -1", ActionGetLocalListVersion, `{"listVersion":-2}`, ocppclient.PropertyConstraintViolation},
		{"ReserveNow", ActionReserveNow, `{"status":"Occupied"}`, ""},
		{"CancelReservation without status", ActionCancelReservation, `{}`, ocppclient.OccurenceConstraintViolation},
		{"TriggerMessage", ActionTriggerMessage, `{"status":"NotImplemented"}`, ""},
		{"DiagnosticsStatusNotification", ActionDiagnosticsStatusNotification, `{}`, ""},
		{"DiagnosticsStatusNotification with field", ActionDiagnosticsStatusNotification, `{"status":"Accepted"}`, ocppclient.FormationViolation},
		{"FirmwareStatusNotification", ActionFirmwareStatusNotification, `{}`, ""},
		{"FirmwareStatusNotification not an object", ActionFirmwareStatusNotification, `[]`, ocppclient.FormationViolation},
		{"UpdateFirmware", ActionUpdateFirmware, `{}`, ""},
		{"UpdateFirmware with a field its schema lacks", ActionUpdateFirmware, `{"status":"Accepted"}`, ocppclient.FormationViolation},
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
		{"diagnostics status ok", &DiagnosticsStatusNotificationRequest{Status: DiagnosticsStatusIdle}, ""},
		{"diagnostics status empty", &DiagnosticsStatusNotificationRequest{}, ocppclient.PropertyConstraintViolation},
		{"firmware status ok", &FirmwareStatusNotificationRequest{Status: FirmwareStatusInstallationFailed}, ""},
		{"firmware status bad", &FirmwareStatusNotificationRequest{Status: "Flashing"}, ocppclient.PropertyConstraintViolation},
		{"local list version unsupported", &GetLocalListVersionResponse{ListVersion: -1}, ""},
		{"local list version below -1", &GetLocalListVersionResponse{ListVersion: -2}, ocppclient.PropertyConstraintViolation},
		{"composite schedule ok", &GetCompositeScheduleResponse{Status: GetCompositeScheduleStatusAccepted, ConnectorID: ptr(0),
			ScheduleStart: NewDateTimePtr(at.Time), ChargingSchedule: &ChargingSchedule{ChargingRateUnit: ChargingRateUnitW,
				ChargingSchedulePeriod: []ChargingSchedulePeriod{{StartPeriod: 0, Limit: 3680.5}}}}, ""},
		{"composite schedule limit 1.25", &GetCompositeScheduleResponse{Status: GetCompositeScheduleStatusAccepted,
			ChargingSchedule: &ChargingSchedule{ChargingRateUnit: ChargingRateUnitA, ChargingSchedulePeriod: []ChargingSchedulePeriod{{Limit: 1.25}}}},
			ocppclient.PropertyConstraintViolation},
		{"composite schedule nil periods", &GetCompositeScheduleResponse{Status: GetCompositeScheduleStatusAccepted,
			ChargingSchedule: &ChargingSchedule{ChargingRateUnit: ChargingRateUnitA}}, ocppclient.TypeConstraintViolation},
		{"trigger answer empty", &TriggerMessageResponse{}, ocppclient.PropertyConstraintViolation},
		{"reserve answer ok", &ReserveNowResponse{Status: ReservationStatusFaulted}, ""},
		{"send local list answer ok", &SendLocalListResponse{Status: UpdateStatusFailed}, ""},
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
