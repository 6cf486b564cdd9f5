package ocpp16

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaDir is where the official OCPP JSON schemas live: the shared folder
// beside the repository root.
const schemaDir = "../../../shared/ocpp-schemas"

// schemaSet is the OCPP 1.6 schemas, compiled and raw, by $id
// ("urn:BootNotification.req").
type schemaSet struct {
	compiled map[string]*jsonschema.Schema
	raw      map[string]map[string]any
}

// loadSchemas reads ocpp1_6.json or skips the test when it is absent.
func loadSchemas(t *testing.T) schemaSet {
	t.Helper()
	path := filepath.Join(schemaDir, "ocpp1_6.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("official OCPP 1.6 schemas not found at %s: schema conformance not checked", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	if err := json.Unmarshal(data, &docs); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	set := schemaSet{compiled: map[string]*jsonschema.Schema{}, raw: map[string]map[string]any{}}
	for _, d := range docs {
		id, _ := d["$id"].(string)
		// Re-read each document through the library's own decoder, which
		// keeps numbers exact (multipleOf 0.1).
		b, _ := json.Marshal(d)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("schema %s: %v", id, err)
		}
		set.raw[id] = d
	}
	for id := range set.raw {
		s, err := c.Compile(id)
		if err != nil {
			t.Fatalf("compile %s: %v", id, err)
		}
		set.compiled[id] = s
	}
	return set
}

// validateJSON checks a payload against the schema with the given $id.
func (s schemaSet) validateJSON(t *testing.T, id string, payload []byte) error {
	t.Helper()
	sch, ok := s.compiled[id]
	if !ok {
		t.Fatalf("no schema %s", id)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// sample is one message value and the schema it must satisfy.
type sample struct {
	action string
	kind   string // "req" or "conf"
	msg    any
}

func (s sample) id() string { return "urn:" + s.action + "." + s.kind }

func ptr[T any](v T) *T { return &v }

// samples returns representative values of every message the package has
// types for, using every value of every enumeration at least once.
func samples() []sample {
	at := NewDateTime(time.Date(2026, 11, 25, 1, 2, 3, 456e6, time.UTC))
	info := IdTagInfo{ExpiryDate: NewDateTimePtr(at.Add(24 * time.Hour)), ParentIDTag: "PARENT-01", Status: AuthorizationStatusAccepted}
	out := []sample{
		{ActionAuthorize, "req", &AuthorizeRequest{IDTag: "04A1B2C3D4E5F6"}},
		{ActionBootNotification, "req", &BootNotificationRequest{ChargePointVendor: "evsed", ChargePointModel: "sim-2"}},
		{ActionBootNotification, "req", &BootNotificationRequest{
			ChargePointVendor: "evsed", ChargePointModel: "pi-ac22", ChargePointSerialNumber: "SN-0001",
			ChargeBoxSerialNumber: "CB-0001", FirmwareVersion: "1.2.3", Iccid: "8949000000000000000", Imsi: "262010000000000",
			MeterType: "SDM630", MeterSerialNumber: "M-42",
		}},
		{ActionChangeConfiguration, "req", &ChangeConfigurationRequest{Key: KeyHeartbeatInterval, Value: "300"}},
		{ActionClearCache, "req", &ClearCacheRequest{}},
		{ActionDataTransfer, "req", &DataTransferRequest{VendorID: "org.evsed"}},
		{ActionDataTransfer, "req", &DataTransferRequest{VendorID: "org.evsed", MessageID: "ping", Data: `{"x":1}`}},
		{ActionDataTransfer, "conf", &DataTransferResponse{Status: DataTransferStatusAccepted, Data: "pong"}},
		{ActionGetConfiguration, "req", &GetConfigurationRequest{}},
		{ActionGetConfiguration, "req", &GetConfigurationRequest{Key: []string{KeyHeartbeatInterval, "Foo"}}},
		{ActionGetConfiguration, "conf", &GetConfigurationResponse{}},
		{ActionGetConfiguration, "conf", &GetConfigurationResponse{
			ConfigurationKey: []KeyValue{
				{Key: KeyHeartbeatInterval, Readonly: false, Value: ptr("300")},
				{Key: KeyAuthorizationKey, Readonly: false},
				{Key: KeyNumberOfConnectors, Readonly: true, Value: ptr("2")},
			},
			UnknownKey: []string{"Foo"},
		}},
		{ActionHeartbeat, "req", &HeartbeatRequest{}},
		{ActionHeartbeat, "conf", &HeartbeatResponse{CurrentTime: at}},
		{ActionMeterValues, "conf", &MeterValuesResponse{}},
		{ActionRemoteStartTransaction, "req", &RemoteStartTransactionRequest{IDTag: "TAG"}},
		{ActionRemoteStopTransaction, "req", &RemoteStopTransactionRequest{TransactionID: 42}},
		{ActionStartTransaction, "req", &StartTransactionRequest{ConnectorID: 1, IDTag: "TAG", MeterStart: 1234, Timestamp: at}},
		{ActionStartTransaction, "req", &StartTransactionRequest{ConnectorID: 2, IDTag: "TAG", MeterStart: 0, ReservationID: ptr(7), Timestamp: at}},
		{ActionStartTransaction, "conf", &StartTransactionResponse{IdTagInfo: info, TransactionID: 42}},
		{ActionStatusNotification, "conf", &StatusNotificationResponse{}},
		{ActionStopTransaction, "req", &StopTransactionRequest{MeterStop: 5678, Timestamp: at, TransactionID: 42}},
		{ActionStopTransaction, "conf", &StopTransactionResponse{}},
		{ActionStopTransaction, "conf", &StopTransactionResponse{IdTagInfo: &info}},
		{ActionUnlockConnector, "req", &UnlockConnectorRequest{ConnectorID: 1}},
	}
	for _, v := range authorizationStatusValues {
		out = append(out, sample{ActionAuthorize, "conf", &AuthorizeResponse{IdTagInfo: IdTagInfo{Status: v}}})
	}
	for _, v := range registrationStatusValues {
		out = append(out, sample{ActionBootNotification, "conf", &BootNotificationResponse{Status: v, CurrentTime: at, Interval: 300}})
	}
	for _, v := range availabilityTypeValues {
		out = append(out, sample{ActionChangeAvailability, "req", &ChangeAvailabilityRequest{ConnectorID: 0, Type: v}})
	}
	for _, v := range availabilityStatusValues {
		out = append(out, sample{ActionChangeAvailability, "conf", &ChangeAvailabilityResponse{Status: v}})
	}
	for _, v := range configurationStatusValues {
		out = append(out, sample{ActionChangeConfiguration, "conf", &ChangeConfigurationResponse{Status: v}})
	}
	for _, v := range clearCacheStatusValues {
		out = append(out, sample{ActionClearCache, "conf", &ClearCacheResponse{Status: v}})
	}
	for _, v := range dataTransferStatusValues {
		out = append(out, sample{ActionDataTransfer, "conf", &DataTransferResponse{Status: v}})
	}
	for _, v := range remoteStartStopStatusValues {
		out = append(out,
			sample{ActionRemoteStartTransaction, "conf", &RemoteStartTransactionResponse{Status: v}},
			sample{ActionRemoteStopTransaction, "conf", &RemoteStopTransactionResponse{Status: v}})
	}
	for _, v := range resetTypeValues {
		out = append(out, sample{ActionReset, "req", &ResetRequest{Type: v}})
	}
	for _, v := range resetStatusValues {
		out = append(out, sample{ActionReset, "conf", &ResetResponse{Status: v}})
	}
	for _, v := range unlockStatusValues {
		out = append(out, sample{ActionUnlockConnector, "conf", &UnlockConnectorResponse{Status: v}})
	}
	for _, st := range chargePointStatusValues {
		for _, ec := range chargePointErrorCodeValues {
			out = append(out, sample{ActionStatusNotification, "req", &StatusNotificationRequest{ConnectorID: 1, ErrorCode: ec, Status: st}})
		}
	}
	out = append(out, sample{ActionStatusNotification, "req", &StatusNotificationRequest{
		ConnectorID: 0, ErrorCode: ChargePointErrorCodeGroundFailure, Info: "RCD tripped", Status: ChargePointStatusFaulted,
		Timestamp: &at, VendorID: "org.evsed", VendorErrorCode: "RCD-30mA",
	}})
	for _, v := range reasonValues {
		out = append(out, sample{ActionStopTransaction, "req", &StopTransactionRequest{
			IDTag: "TAG", MeterStop: 5678, Timestamp: at, TransactionID: 42, Reason: v,
			TransactionData: []MeterValue{{Timestamp: at, SampledValue: []SampledValue{{Value: "5678", Context: ReadingContextTransactionEnd}}}},
		}})
	}
	// MeterValues: one sampled value per value of each sampled-value enum.
	var svs []SampledValue
	for _, v := range readingContextValues {
		svs = append(svs, SampledValue{Value: "1", Context: v})
	}
	for _, v := range valueFormatValues {
		svs = append(svs, SampledValue{Value: "1", Format: v})
	}
	for _, v := range measurandValues {
		svs = append(svs, SampledValue{Value: "1.5", Measurand: v})
	}
	for _, v := range phaseValues {
		svs = append(svs, SampledValue{Value: "230.1", Measurand: MeasurandVoltage, Phase: v})
	}
	for _, v := range locationValues {
		svs = append(svs, SampledValue{Value: "1", Location: v})
	}
	for _, v := range unitOfMeasureValues {
		svs = append(svs, SampledValue{Value: "1", Unit: v})
	}
	out = append(out,
		sample{ActionMeterValues, "req", &MeterValuesRequest{ConnectorID: 1, TransactionID: ptr(42), MeterValue: []MeterValue{{Timestamp: at, SampledValue: svs}}}},
		sample{ActionMeterValues, "req", &MeterValuesRequest{ConnectorID: 0, MeterValue: []MeterValue{
			{Timestamp: at, SampledValue: []SampledValue{{Value: "100"}}},
			{Timestamp: NewDateTime(at.Add(time.Minute)), SampledValue: []SampledValue{}},
		}}},
	)
	// RemoteStartTransaction with charging profiles covering their enums.
	for i, purpose := range chargingProfilePurposeValues {
		kind := chargingProfileKindValues[i%len(chargingProfileKindValues)]
		unit := chargingRateUnitValues[i%len(chargingRateUnitValues)]
		p := &ChargingProfile{
			ChargingProfileID: i + 1, StackLevel: i, ChargingProfilePurpose: purpose, ChargingProfileKind: kind,
			ChargingSchedule: ChargingSchedule{
				ChargingRateUnit:       unit,
				ChargingSchedulePeriod: []ChargingSchedulePeriod{{StartPeriod: 0, Limit: 16}, {StartPeriod: 600, Limit: 6.1, NumberPhases: ptr(1)}},
			},
		}
		out = append(out, sample{ActionRemoteStartTransaction, "req", &RemoteStartTransactionRequest{ConnectorID: ptr(1), IDTag: "TAG", ChargingProfile: p}})
	}
	for _, rk := range recurrencyKindValues {
		p := &ChargingProfile{
			ChargingProfileID: 9, TransactionID: ptr(42), StackLevel: 0,
			ChargingProfilePurpose: ChargingProfilePurposeTxProfile, ChargingProfileKind: ChargingProfileKindRecurring,
			RecurrencyKind: rk, ValidFrom: &at, ValidTo: NewDateTimePtr(at.Add(time.Hour)),
			ChargingSchedule: ChargingSchedule{
				Duration: ptr(3600), StartSchedule: &at, ChargingRateUnit: ChargingRateUnitW,
				ChargingSchedulePeriod: []ChargingSchedulePeriod{{StartPeriod: 0, Limit: 7400.5}},
				MinChargingRate:        ptr(1380.0),
			},
		}
		out = append(out, sample{ActionRemoteStartTransaction, "req", &RemoteStartTransactionRequest{IDTag: "TAG", ChargingProfile: p}})
	}
	out = append(out, profileSamples(at, info)...)
	return append(out, securitySamples(at)...)
}

// profileSamples returns representative values of the messages of the
// Smart Charging, Local Auth List Management, Reservation and Remote
// Trigger profiles and of the Firmware Management notifications, using
// every value of their enumerations at least once.
func profileSamples(at DateTime, info IdTagInfo) []sample {
	schedule := ChargingSchedule{
		Duration: ptr(86400), StartSchedule: &at, ChargingRateUnit: ChargingRateUnitA,
		ChargingSchedulePeriod: []ChargingSchedulePeriod{{StartPeriod: 0, Limit: 32}, {StartPeriod: 3600, Limit: 6.3, NumberPhases: ptr(1)}},
		MinChargingRate:        ptr(6.0),
	}
	out := []sample{
		{ActionClearChargingProfile, "req", &ClearChargingProfileRequest{}},
		{ActionClearChargingProfile, "req", &ClearChargingProfileRequest{ID: ptr(12)}},
		{ActionGetCompositeSchedule, "req", &GetCompositeScheduleRequest{ConnectorID: 0, Duration: 3600}},
		{ActionGetCompositeSchedule, "conf", &GetCompositeScheduleResponse{Status: GetCompositeScheduleStatusRejected}},
		{ActionGetCompositeSchedule, "conf", &GetCompositeScheduleResponse{
			Status: GetCompositeScheduleStatusAccepted, ConnectorID: ptr(1), ScheduleStart: &at, ChargingSchedule: &schedule,
		}},
		{ActionSendLocalList, "req", &SendLocalListRequest{ListVersion: 1, UpdateType: UpdateTypeFull}},
		{ActionSendLocalList, "req", &SendLocalListRequest{ListVersion: 2, UpdateType: UpdateTypeDifferential, LocalAuthorizationList: []AuthorizationData{
			{IDTag: "04A1B2C3D4E5F6", IdTagInfo: &info},
			{IDTag: "REMOVED"},
		}}},
		{ActionGetLocalListVersion, "req", &GetLocalListVersionRequest{}},
		{ActionGetLocalListVersion, "conf", &GetLocalListVersionResponse{ListVersion: -1}},
		{ActionGetLocalListVersion, "conf", &GetLocalListVersionResponse{ListVersion: 17}},
		{ActionReserveNow, "req", &ReserveNowRequest{ConnectorID: 0, ExpiryDate: at, IDTag: "TAG", ReservationID: 7}},
		{ActionReserveNow, "req", &ReserveNowRequest{ConnectorID: 2, ExpiryDate: at, IDTag: "TAG", ParentIDTag: "PARENT-01", ReservationID: 8}},
		{ActionCancelReservation, "req", &CancelReservationRequest{ReservationID: 7}},
		{ActionTriggerMessage, "req", &TriggerMessageRequest{RequestedMessage: MessageTriggerStatusNotification, ConnectorID: ptr(0)}},
		{ActionDiagnosticsStatusNotification, "conf", &DiagnosticsStatusNotificationResponse{}},
		{ActionFirmwareStatusNotification, "conf", &FirmwareStatusNotificationResponse{}},
	}
	for i, purpose := range chargingProfilePurposeValues {
		p := ChargingProfile{
			ChargingProfileID: 20 + i, StackLevel: i, ChargingProfilePurpose: purpose,
			ChargingProfileKind: ChargingProfileKindAbsolute, ChargingSchedule: schedule,
		}
		if purpose == ChargingProfilePurposeTxProfile {
			p.TransactionID = ptr(42)
		}
		out = append(out,
			sample{ActionSetChargingProfile, "req", &SetChargingProfileRequest{ConnectorID: i, CsChargingProfiles: p}},
			sample{ActionClearChargingProfile, "req", &ClearChargingProfileRequest{ConnectorID: ptr(i), ChargingProfilePurpose: purpose, StackLevel: ptr(i)}})
	}
	for _, rk := range recurrencyKindValues {
		out = append(out, sample{ActionSetChargingProfile, "req", &SetChargingProfileRequest{ConnectorID: 0, CsChargingProfiles: ChargingProfile{
			ChargingProfileID: 30, StackLevel: 8, ChargingProfilePurpose: ChargingProfilePurposeTxDefaultProfile,
			ChargingProfileKind: ChargingProfileKindRecurring, RecurrencyKind: rk, ValidFrom: &at, ValidTo: NewDateTimePtr(at.Add(30 * 24 * time.Hour)),
			ChargingSchedule: ChargingSchedule{
				StartSchedule: &at, ChargingRateUnit: ChargingRateUnitW,
				ChargingSchedulePeriod: []ChargingSchedulePeriod{{StartPeriod: 0, Limit: 11000}, {StartPeriod: 7 * 3600, Limit: 4140.1}},
			},
		}}})
	}
	for _, unit := range chargingRateUnitValues {
		out = append(out, sample{ActionGetCompositeSchedule, "req", &GetCompositeScheduleRequest{ConnectorID: 1, Duration: 600, ChargingRateUnit: unit}})
	}
	for _, v := range chargingProfileStatusValues {
		out = append(out, sample{ActionSetChargingProfile, "conf", &SetChargingProfileResponse{Status: v}})
	}
	for _, v := range clearChargingProfileStatusValues {
		out = append(out, sample{ActionClearChargingProfile, "conf", &ClearChargingProfileResponse{Status: v}})
	}
	for _, v := range updateStatusValues {
		out = append(out, sample{ActionSendLocalList, "conf", &SendLocalListResponse{Status: v}})
	}
	for _, v := range authorizationStatusValues {
		out = append(out, sample{ActionSendLocalList, "req", &SendLocalListRequest{ListVersion: 3, UpdateType: UpdateTypeFull,
			LocalAuthorizationList: []AuthorizationData{{IDTag: "TAG-" + string(v), IdTagInfo: &IdTagInfo{Status: v}}}}})
	}
	for _, v := range reservationStatusValues {
		out = append(out, sample{ActionReserveNow, "conf", &ReserveNowResponse{Status: v}})
	}
	for _, v := range cancelReservationStatusValues {
		out = append(out, sample{ActionCancelReservation, "conf", &CancelReservationResponse{Status: v}})
	}
	for _, v := range messageTriggerValues {
		out = append(out,
			sample{ActionTriggerMessage, "req", &TriggerMessageRequest{RequestedMessage: v}},
			sample{ActionTriggerMessage, "req", &TriggerMessageRequest{RequestedMessage: v, ConnectorID: ptr(1)}})
	}
	for _, v := range triggerMessageStatusValues {
		out = append(out, sample{ActionTriggerMessage, "conf", &TriggerMessageResponse{Status: v}})
	}
	for _, v := range diagnosticsStatusValues {
		out = append(out, sample{ActionDiagnosticsStatusNotification, "req", &DiagnosticsStatusNotificationRequest{Status: v}})
	}
	for _, v := range firmwareStatusValues {
		out = append(out, sample{ActionFirmwareStatusNotification, "req", &FirmwareStatusNotificationRequest{Status: v}})
	}
	return out
}

// TestConformanceSchemas validates every sample against the official
// schema, and checks that the package's own decoding accepts it and gives
// back the same value.
func TestConformanceSchemas(t *testing.T) {
	schemas := loadSchemas(t)
	for i, s := range samples() {
		b, err := json.Marshal(s.msg)
		if err != nil {
			t.Fatalf("%d %s: marshal: %v", i, s.id(), err)
		}
		if err := schemas.validateJSON(t, s.id(), b); err != nil {
			t.Errorf("%d %s: %s\nschema: %v", i, s.id(), b, err)
		}
		if err := Validate(s.msg); err != nil {
			t.Errorf("%d %s: Validate: %v", i, s.id(), err)
		}
		var got any
		if s.kind == "req" && newInboundRequest(s.action) != nil {
			got, err = DecodeRequest(s.action, b)
		} else {
			got = reflect.New(reflect.TypeOf(s.msg).Elem()).Interface()
			err = decodeAny(s.action, s.kind, b, got)
		}
		if err != nil {
			t.Errorf("%d %s: decode %s: %v", i, s.id(), b, err)
			continue
		}
		b2, _ := json.Marshal(got)
		if !bytes.Equal(b, b2) {
			t.Errorf("%d %s: round trip\n got %s\nwant %s", i, s.id(), b2, b)
		}
	}
}

// decodeAny decodes any message: responses through DecodeResponse,
// charge-point requests through the package's validator directly.
func decodeAny(action, kind string, payload []byte, into any) error {
	if kind == "conf" && newResponse(action) != nil {
		return DecodeResponse(action, payload, into)
	}
	if ce := decode(payload, reflect.ValueOf(into)); ce != nil {
		return ce
	}
	return nil
}

// TestConformanceEnumsCovered makes sure samples() uses every value of every
// enumeration that appears in a message.
func TestConformanceEnumsCovered(t *testing.T) {
	seen := map[reflect.Type]map[string]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.String:
			if _, ok := v.Interface().(enumValue); ok {
				if seen[v.Type()] == nil {
					seen[v.Type()] = map[string]bool{}
				}
				seen[v.Type()][v.String()] = true
			}
		}
	}
	for _, s := range samples() {
		walk(reflect.ValueOf(s.msg))
	}
	enums := []interface{ enumValues() []string }{
		ChargePointStatus(""), ChargePointErrorCode(""), Reason(""), AuthorizationStatus(""),
		RegistrationStatus(""), AvailabilityType(""), AvailabilityStatus(""), ConfigurationStatus(""),
		ResetType(""), ResetStatus(""), RemoteStartStopStatus(""), UnlockStatus(""), ClearCacheStatus(""),
		DataTransferStatus(""), ReadingContext(""), ValueFormat(""), Measurand(""), Phase(""),
		Location(""), UnitOfMeasure(""), ChargingProfilePurpose(""), ChargingProfileKind(""),
		RecurrencyKind(""), ChargingRateUnit(""), ChargingProfileStatus(""), ClearChargingProfileStatus(""),
		GetCompositeScheduleStatus(""), UpdateType(""), UpdateStatus(""), ReservationStatus(""),
		CancelReservationStatus(""), MessageTrigger(""), TriggerMessageStatus(""), DiagnosticsStatus(""),
		FirmwareStatus(""), CertificateSignedStatus(""), DeleteCertificateStatus(""), HashAlgorithm(""),
		ExtendedMessageTrigger(""), CertificateUse(""), GetInstalledCertificateStatus(""), LogType(""),
		LogStatus(""), InstallCertificateStatus(""), UploadLogStatus(""), GenericStatus(""),
		SignedFirmwareStatus(""), UpdateFirmwareStatus(""),
	}
	for _, e := range enums {
		typ := reflect.TypeOf(e)
		for _, v := range e.enumValues() {
			if !seen[typ][v] {
				t.Errorf("%s value %q is not used by any sample", typ.Name(), v)
			}
		}
	}
}

// messageTypes maps the schema $id of every message the package has types
// for to its Go type.
func messageTypes() map[string]reflect.Type {
	msgs := []struct {
		action    string
		req, conf any
	}{
		{ActionAuthorize, AuthorizeRequest{}, AuthorizeResponse{}},
		{ActionBootNotification, BootNotificationRequest{}, BootNotificationResponse{}},
		{ActionChangeAvailability, ChangeAvailabilityRequest{}, ChangeAvailabilityResponse{}},
		{ActionChangeConfiguration, ChangeConfigurationRequest{}, ChangeConfigurationResponse{}},
		{ActionClearCache, ClearCacheRequest{}, ClearCacheResponse{}},
		{ActionDataTransfer, DataTransferRequest{}, DataTransferResponse{}},
		{ActionGetConfiguration, GetConfigurationRequest{}, GetConfigurationResponse{}},
		{ActionHeartbeat, HeartbeatRequest{}, HeartbeatResponse{}},
		{ActionMeterValues, MeterValuesRequest{}, MeterValuesResponse{}},
		{ActionRemoteStartTransaction, RemoteStartTransactionRequest{}, RemoteStartTransactionResponse{}},
		{ActionRemoteStopTransaction, RemoteStopTransactionRequest{}, RemoteStopTransactionResponse{}},
		{ActionReset, ResetRequest{}, ResetResponse{}},
		{ActionStartTransaction, StartTransactionRequest{}, StartTransactionResponse{}},
		{ActionStatusNotification, StatusNotificationRequest{}, StatusNotificationResponse{}},
		{ActionStopTransaction, StopTransactionRequest{}, StopTransactionResponse{}},
		{ActionUnlockConnector, UnlockConnectorRequest{}, UnlockConnectorResponse{}},
		{ActionSetChargingProfile, SetChargingProfileRequest{}, SetChargingProfileResponse{}},
		{ActionClearChargingProfile, ClearChargingProfileRequest{}, ClearChargingProfileResponse{}},
		{ActionGetCompositeSchedule, GetCompositeScheduleRequest{}, GetCompositeScheduleResponse{}},
		{ActionSendLocalList, SendLocalListRequest{}, SendLocalListResponse{}},
		{ActionGetLocalListVersion, GetLocalListVersionRequest{}, GetLocalListVersionResponse{}},
		{ActionReserveNow, ReserveNowRequest{}, ReserveNowResponse{}},
		{ActionCancelReservation, CancelReservationRequest{}, CancelReservationResponse{}},
		{ActionTriggerMessage, TriggerMessageRequest{}, TriggerMessageResponse{}},
		{ActionDiagnosticsStatusNotification, DiagnosticsStatusNotificationRequest{}, DiagnosticsStatusNotificationResponse{}},
		{ActionFirmwareStatusNotification, FirmwareStatusNotificationRequest{}, FirmwareStatusNotificationResponse{}},
	}
	msgs = append(msgs, securityMessages...)
	m := map[string]reflect.Type{}
	for _, c := range msgs {
		m["urn:"+c.action+".req"] = reflect.TypeOf(c.req)
		m["urn:"+c.action+".conf"] = reflect.TypeOf(c.conf)
	}
	return m
}

// TestConformanceStructure compares each Go message type with its schema
// field by field: names, JSON types, required-ness, maxLength and enum
// values. The schema may not be stricter than the Go rules anywhere.
func TestConformanceStructure(t *testing.T) {
	schemas := loadSchemas(t)
	for id, typ := range messageTypes() {
		raw, ok := schemas.raw[id]
		if !ok {
			t.Errorf("no schema %s", id)
			continue
		}
		compareSchema(t, id, raw, raw, typ, rules{})
	}
}

// compareSchema compares the schema s, part of the document root (for its
// "#/definitions/..." references), with the Go type typ and its rules r.
func compareSchema(t *testing.T, path string, root, s map[string]any, typ reflect.Type, r rules) {
	t.Helper()
	if ref, ok := s["$ref"].(string); ok {
		defs, _ := root["definitions"].(map[string]any)
		d, ok := defs[strings.TrimPrefix(ref, "#/definitions/")].(map[string]any)
		if !ok {
			t.Errorf("%s: unresolved $ref %s", path, ref)
			return
		}
		s = d
	}
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if ml, ok := s["maxLength"].(float64); ok && int(ml) != r.max {
		t.Errorf("%s: maxLength %v, Go rule max=%d", path, ml, r.max)
	}
	if ml, ok := s["maxLength"]; !ok && r.max != 0 && typ.Kind() == reflect.String {
		t.Errorf("%s: no maxLength in schema (%v), Go rule max=%d", path, ml, r.max)
	}
	if mo, ok := s["multipleOf"].(float64); ok && mo != r.step {
		t.Errorf("%s: multipleOf %v, Go rule step=%v", path, mo, r.step)
	}
	switch s["type"] {
	case "object":
		if typ.Kind() != reflect.Struct || typ == dateTimeType {
			t.Errorf("%s: object in schema, Go %s", path, typ)
			return
		}
		if s["additionalProperties"] != false {
			t.Errorf("%s: schema allows additional properties, the validator does not", path)
		}
		fs, err := structFields(typ)
		if err != nil {
			t.Fatal(err)
		}
		props, _ := s["properties"].(map[string]any)
		var required []string
		for _, v := range asSlice(s["required"]) {
			required = append(required, v.(string))
		}
		for _, f := range fs {
			if f.rules.required != slices.Contains(required, f.name) {
				t.Errorf("%s.%s: required in schema %v, in Go %v", path, f.name, !f.rules.required, f.rules.required)
			}
			ps, ok := props[f.name].(map[string]any)
			if !ok {
				t.Errorf("%s.%s: not in schema", path, f.name)
				continue
			}
			compareSchema(t, path+"."+f.name, root, ps, typ.Field(f.index).Type, f.rules)
		}
		for name := range props {
			if !slices.ContainsFunc(fs, func(f field) bool { return f.name == name }) {
				t.Errorf("%s.%s: in schema, not in Go", path, name)
			}
		}
	case "array":
		if typ.Kind() != reflect.Slice {
			t.Errorf("%s: array in schema, Go %s", path, typ)
			return
		}
		items, _ := s["items"].(map[string]any)
		item := r
		item.required = false
		compareSchema(t, path+"[]", root, items, typ.Elem(), item)
	case "string":
		if s["format"] == "date-time" {
			if typ != dateTimeType {
				t.Errorf("%s: date-time in schema, Go %s", path, typ)
			}
			return
		}
		if typ.Kind() != reflect.String {
			t.Errorf("%s: string in schema, Go %s", path, typ)
			return
		}
		e, isEnum := reflect.Zero(typ).Interface().(interface{ enumValues() []string })
		want := asSlice(s["enum"])
		if isEnum != (want != nil) {
			t.Errorf("%s: enum in schema %v, Go type %s", path, want != nil, typ)
			return
		}
		if isEnum {
			var ws []string
			for _, v := range want {
				ws = append(ws, v.(string))
			}
			got := e.enumValues()
			slices.Sort(ws)
			slices.Sort(got)
			if !slices.Equal(ws, got) {
				t.Errorf("%s: enum\nschema %s\n    Go %s", path, strings.Join(ws, ","), strings.Join(got, ","))
			}
		}
	case "integer":
		if k := typ.Kind(); k != reflect.Int && k != reflect.Int32 && k != reflect.Int64 {
			t.Errorf("%s: integer in schema, Go %s", path, typ)
		}
	case "number":
		if typ.Kind() != reflect.Float64 {
			t.Errorf("%s: number in schema, Go %s", path, typ)
		}
	case "boolean":
		if typ.Kind() != reflect.Bool {
			t.Errorf("%s: boolean in schema, Go %s", path, typ)
		}
	default:
		t.Errorf("%s: unexpected schema type %v", path, s["type"])
	}
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// TestConformanceRejects checks that payloads the package rejects for a
// reason the schema expresses are rejected by the schema too, so that the
// two agree on what "invalid" means.
func TestConformanceRejects(t *testing.T) {
	schemas := loadSchemas(t)
	for _, tc := range malformedCases() {
		if !tc.schemaRejects {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			if err := schemas.validateJSON(t, "urn:"+tc.action+".req", []byte(tc.payload)); err == nil {
				t.Errorf("schema accepts %s", tc.payload)
			}
		})
	}
}

// TestConformanceCoverage checks that the routing tables and the message
// types agree: every action with a response type has both types, with the
// types newResponse and newInboundRequest return, and every OCPP 1.6
// schema belongs to a known action.
func TestConformanceCoverage(t *testing.T) {
	types := messageTypes()
	for id, typ := range types {
		action, kind, _ := strings.Cut(strings.TrimPrefix(id, "urn:"), ".")
		var got any
		switch kind {
		case "conf":
			got = newResponse(action)
		case "req":
			got = newInboundRequest(action)
			if got == nil {
				continue // a charge point's own request
			}
		}
		if got == nil && notYetRouted[action] {
			continue // see TestSecurityMessagesNotSupportedYet
		}
		if got == nil || reflect.TypeOf(got).Elem() != typ {
			t.Errorf("%s: routed to %T, want *%s", id, got, typ.Name())
		}
	}
	for _, action := range []string{
		ActionSetChargingProfile, ActionClearChargingProfile, ActionGetCompositeSchedule,
		ActionSendLocalList, ActionGetLocalListVersion, ActionReserveNow, ActionCancelReservation,
		ActionTriggerMessage, ActionDiagnosticsStatusNotification, ActionFirmwareStatusNotification,
	} {
		if types["urn:"+action+".req"] == nil || types["urn:"+action+".conf"] == nil {
			t.Errorf("%s: no message types", action)
		}
	}
	schemas := loadSchemas(t)
	for id := range schemas.raw {
		action, _, _ := strings.Cut(strings.TrimPrefix(id, "urn:"), ".")
		if !knownAction(action) {
			t.Errorf("%s: action %s is not known", id, action)
		}
		if (newResponse(action) != nil || notYetRouted[action]) && types[id] == nil {
			t.Errorf("%s: the action is routed but has no type in messageTypes", id)
		}
	}
}
