package ocpp16

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/evsed/evsed/ocppclient"
)

// DecodeRequest decodes and validates the payload of a CALL the CSMS sent to
// the charge point. It returns a pointer to the request type of the action
// (*ChangeAvailabilityRequest for "ChangeAvailability"), owned by the
// caller. The decoded actions are:
//
//   - Core: ChangeAvailability, ChangeConfiguration, ClearCache,
//     DataTransfer, GetConfiguration, RemoteStartTransaction,
//     RemoteStopTransaction, Reset and UnlockConnector;
//   - Smart Charging: SetChargingProfile, ClearChargingProfile and
//     GetCompositeSchedule;
//   - Local Auth List Management: SendLocalList and GetLocalListVersion;
//   - Reservation: ReserveNow and CancelReservation;
//   - Remote Trigger: TriggerMessage;
//   - Firmware Management: GetDiagnostics and UpdateFirmware;
//   - security whitepaper: InstallCertificate, GetInstalledCertificateIds,
//     DeleteCertificate, CertificateSigned, SignedUpdateFirmware, GetLog
//     and ExtendedTriggerMessage.
//
// The error is always a *ocppclient.CallError, to be sent back as the
// CALLERROR: NotSupported for an action OCPP 1.6 (or its security
// whitepaper) defines but this package does not decode, including the actions
// a charge point sends rather than receives; NotImplemented for an unknown
// action; otherwise the validation code described in the package
// documentation.
func DecodeRequest(action string, payload json.RawMessage) (any, error) {
	v := newInboundRequest(action)
	if v == nil {
		if knownAction(action) {
			return nil, ocppclient.Errorf(ocppclient.NotSupported, "action %s is not supported", action)
		}
		return nil, ocppclient.Errorf(ocppclient.NotImplemented, "unknown action %q", action)
	}
	if ce := decode(payload, reflect.ValueOf(v)); ce != nil {
		return nil, ce
	}
	return v, nil
}

// DecodeResponse decodes and validates the payload of a CALLRESULT that
// answers a CALL of the given action into into, which must be a pointer to
// the action's response type (*BootNotificationResponse for
// "BootNotification"). Any action that has a response type is accepted: the
// Core actions, those DecodeRequest decodes, DiagnosticsStatusNotification
// and FirmwareStatusNotification. into is left unchanged when an error is
// returned.
//
// A payload that breaks the schema gives a *ocppclient.CallError with the
// code the package documentation describes (the adapter logs it; a
// CALLRESULT is not answered). An unknown action gives NotImplemented. An
// into of the wrong type is a programming error and gives a plain error.
func DecodeResponse(action string, payload json.RawMessage, into any) error {
	want := newResponse(action)
	if want == nil {
		return ocppclient.Errorf(ocppclient.NotImplemented, "unknown action %q", action)
	}
	if reflect.TypeOf(into) != reflect.TypeOf(want) || reflect.ValueOf(into).IsNil() {
		return fmt.Errorf("ocpp16: decode %s response into %T, want non-nil %T", action, into, want)
	}
	tmp := reflect.ValueOf(want)
	if ce := decode(payload, tmp); ce != nil {
		return ce
	}
	reflect.ValueOf(into).Elem().Set(tmp.Elem())
	return nil
}

// Validate checks a message value (a struct or a pointer to one, normally a
// request or response type of this package) against the rules of its
// schema, by marshalling it and running the same checks that decoding
// applies. A violation is a *ocppclient.CallError; an unmarshallable value a
// plain error.
func Validate(msg any) error {
	rv := reflect.ValueOf(msg)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return errors.New("ocpp16: validate nil message")
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return fmt.Errorf("ocpp16: validate %T: not a message struct", msg)
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("ocpp16: validate %T: %w", msg, err)
	}
	if ce := decode(b, reflect.New(rv.Type())); ce != nil {
		return ce
	}
	return nil
}

// newInboundRequest returns a new request value for an action the CSMS
// sends to a charge point and this package decodes, or nil.
func newInboundRequest(action string) any {
	switch action {
	case ActionCancelReservation:
		return new(CancelReservationRequest)
	case ActionCertificateSigned:
		return new(CertificateSignedRequest)
	case ActionChangeAvailability:
		return new(ChangeAvailabilityRequest)
	case ActionChangeConfiguration:
		return new(ChangeConfigurationRequest)
	case ActionClearCache:
		return new(ClearCacheRequest)
	case ActionClearChargingProfile:
		return new(ClearChargingProfileRequest)
	case ActionDataTransfer:
		return new(DataTransferRequest)
	case ActionDeleteCertificate:
		return new(DeleteCertificateRequest)
	case ActionExtendedTriggerMessage:
		return new(ExtendedTriggerMessageRequest)
	case ActionGetCompositeSchedule:
		return new(GetCompositeScheduleRequest)
	case ActionGetConfiguration:
		return new(GetConfigurationRequest)
	case ActionGetDiagnostics:
		return new(GetDiagnosticsRequest)
	case ActionGetInstalledCertificateIds:
		return new(GetInstalledCertificateIdsRequest)
	case ActionGetLocalListVersion:
		return new(GetLocalListVersionRequest)
	case ActionGetLog:
		return new(GetLogRequest)
	case ActionInstallCertificate:
		return new(InstallCertificateRequest)
	case ActionRemoteStartTransaction:
		return new(RemoteStartTransactionRequest)
	case ActionRemoteStopTransaction:
		return new(RemoteStopTransactionRequest)
	case ActionReserveNow:
		return new(ReserveNowRequest)
	case ActionReset:
		return new(ResetRequest)
	case ActionSendLocalList:
		return new(SendLocalListRequest)
	case ActionSetChargingProfile:
		return new(SetChargingProfileRequest)
	case ActionSignedUpdateFirmware:
		return new(SignedUpdateFirmwareRequest)
	case ActionTriggerMessage:
		return new(TriggerMessageRequest)
	case ActionUnlockConnector:
		return new(UnlockConnectorRequest)
	case ActionUpdateFirmware:
		return new(UpdateFirmwareRequest)
	}
	return nil
}

// newResponse returns a new response value for an action this package has
// types for, in either direction, or nil.
func newResponse(action string) any {
	switch action {
	case ActionAuthorize:
		return new(AuthorizeResponse)
	case ActionBootNotification:
		return new(BootNotificationResponse)
	case ActionCancelReservation:
		return new(CancelReservationResponse)
	case ActionCertificateSigned:
		return new(CertificateSignedResponse)
	case ActionChangeAvailability:
		return new(ChangeAvailabilityResponse)
	case ActionChangeConfiguration:
		return new(ChangeConfigurationResponse)
	case ActionClearCache:
		return new(ClearCacheResponse)
	case ActionClearChargingProfile:
		return new(ClearChargingProfileResponse)
	case ActionDataTransfer:
		return new(DataTransferResponse)
	case ActionDeleteCertificate:
		return new(DeleteCertificateResponse)
	case ActionDiagnosticsStatusNotification:
		return new(DiagnosticsStatusNotificationResponse)
	case ActionExtendedTriggerMessage:
		return new(ExtendedTriggerMessageResponse)
	case ActionFirmwareStatusNotification:
		return new(FirmwareStatusNotificationResponse)
	case ActionGetCompositeSchedule:
		return new(GetCompositeScheduleResponse)
	case ActionGetConfiguration:
		return new(GetConfigurationResponse)
	case ActionGetDiagnostics:
		return new(GetDiagnosticsResponse)
	case ActionGetInstalledCertificateIds:
		return new(GetInstalledCertificateIdsResponse)
	case ActionGetLocalListVersion:
		return new(GetLocalListVersionResponse)
	case ActionGetLog:
		return new(GetLogResponse)
	case ActionHeartbeat:
		return new(HeartbeatResponse)
	case ActionInstallCertificate:
		return new(InstallCertificateResponse)
	case ActionLogStatusNotification:
		return new(LogStatusNotificationResponse)
	case ActionMeterValues:
		return new(MeterValuesResponse)
	case ActionRemoteStartTransaction:
		return new(RemoteStartTransactionResponse)
	case ActionRemoteStopTransaction:
		return new(RemoteStopTransactionResponse)
	case ActionReserveNow:
		return new(ReserveNowResponse)
	case ActionReset:
		return new(ResetResponse)
	case ActionSecurityEventNotification:
		return new(SecurityEventNotificationResponse)
	case ActionSendLocalList:
		return new(SendLocalListResponse)
	case ActionSetChargingProfile:
		return new(SetChargingProfileResponse)
	case ActionSignCertificate:
		return new(SignCertificateResponse)
	case ActionSignedFirmwareStatusNotification:
		return new(SignedFirmwareStatusNotificationResponse)
	case ActionSignedUpdateFirmware:
		return new(SignedUpdateFirmwareResponse)
	case ActionStartTransaction:
		return new(StartTransactionResponse)
	case ActionStatusNotification:
		return new(StatusNotificationResponse)
	case ActionStopTransaction:
		return new(StopTransactionResponse)
	case ActionTriggerMessage:
		return new(TriggerMessageResponse)
	case ActionUnlockConnector:
		return new(UnlockConnectorResponse)
	case ActionUpdateFirmware:
		return new(UpdateFirmwareResponse)
	}
	return nil
}

// knownAction reports whether action is an OCPP 1.6 action (of any
// profile, or of the security whitepaper), in either direction.
func knownAction(action string) bool {
	if newResponse(action) != nil {
		return true
	}
	switch action {
	case ActionCertificateSigned, ActionDeleteCertificate, ActionExtendedTriggerMessage,
		ActionGetDiagnostics, ActionGetInstalledCertificateIds, ActionGetLog,
		ActionInstallCertificate, ActionLogStatusNotification, ActionSecurityEventNotification,
		ActionSignCertificate, ActionSignedFirmwareStatusNotification, ActionSignedUpdateFirmware,
		ActionUpdateFirmware:
		return true
	}
	return false
}

// decode parses payload and fills the struct ptr points to, checking every
// rule. ptr is a non-nil pointer to a struct.
func decode(payload []byte, ptr reflect.Value) *ocppclient.CallError {
	tree, ce := parseJSON(payload)
	if ce != nil {
		return ce
	}
	obj, ok := tree.(map[string]any)
	if !ok {
		return ocppclient.Errorf(ocppclient.FormationViolation, "payload is not a JSON object")
	}
	return decodeObject("", obj, ptr.Elem())
}

// parseJSON parses exactly one JSON value, keeping numbers as json.Number
// so that integers are checked exactly. Of duplicate object keys the last
// one counts, as in encoding/json.
func parseJSON(payload []byte) (any, *ocppclient.CallError) {
	// JSON text is UTF-8 (RFC 8259); encoding/json would quietly replace
	// invalid bytes.
	if !utf8.Valid(payload) {
		return nil, ocppclient.Errorf(ocppclient.FormationViolation, "payload is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, ocppclient.Errorf(ocppclient.FormationViolation, "payload is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, ocppclient.Errorf(ocppclient.FormationViolation, "payload has data after the JSON object")
	}
	return tree, nil
}

// rules are the constraints of one field, from its `ocpp` tag.
type rules struct {
	required bool
	max      int // maximum length in code points; 0: none
	hasMin   bool
	min      int64
	step     float64 // the value must be a multiple of step; 0: none
}

// parseRules parses an `ocpp` struct tag.
func parseRules(tag string) (rules, error) {
	var r rules
	for part := range strings.SplitSeq(tag, ",") {
		name, arg, _ := strings.Cut(part, "=")
		var err error
		switch name {
		case "":
		case "required":
			r.required = true
		case "max":
			r.max, err = strconv.Atoi(arg)
		case "min":
			r.hasMin = true
			r.min, err = strconv.ParseInt(arg, 10, 64)
		case "step":
			r.step, err = strconv.ParseFloat(arg, 64)
		default:
			err = fmt.Errorf("unknown rule %q", name)
		}
		if err != nil {
			return r, fmt.Errorf("ocpp tag %q: %w", tag, err)
		}
	}
	return r, nil
}

// field is one JSON field of a message struct.
type field struct {
	index int
	name  string
	rules rules
}

// structFields lists the JSON fields of struct type t in declaration order.
func structFields(t reflect.Type) ([]field, error) {
	var fs []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		r, err := parseRules(sf.Tag.Get("ocpp"))
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), sf.Name, err)
		}
		fs = append(fs, field{index: i, name: name, rules: r})
	}
	return fs, nil
}

// enumValue is implemented by the enumeration types.
type enumValue interface{ IsValid() bool }

var dateTimeType = reflect.TypeFor[DateTime]()

// OCPP integers are 32-bit; Go's int is 32-bit on the arm boards too.
const (
	minInteger = math.MinInt32
	maxInteger = math.MaxInt32
)

// decodeObject checks obj against the fields of struct out and fills them.
func decodeObject(path string, obj map[string]any, out reflect.Value) *ocppclient.CallError {
	fs, err := structFields(out.Type())
	if err != nil {
		return ocppclient.Errorf(ocppclient.InternalError, "%v", err)
	}
	var unknown []string
	for k := range obj {
		if !slices.ContainsFunc(fs, func(f field) bool { return f.name == k }) {
			unknown = append(unknown, strconv.Quote(join(path, k)))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return ocppclient.Errorf(ocppclient.FormationViolation, "unknown field %s", strings.Join(unknown, ", "))
	}
	for _, f := range fs {
		in, ok := obj[f.name]
		if !ok {
			if f.rules.required {
				return ocppclient.Errorf(ocppclient.OccurenceConstraintViolation, "required field %s is missing", join(path, f.name))
			}
			continue
		}
		if ce := decodeValue(join(path, f.name), in, out.Field(f.index), f.rules); ce != nil {
			return ce
		}
	}
	return nil
}

// decodeValue checks the parsed JSON value in against the Go type of out and
// the rules r, and sets out.
func decodeValue(path string, in any, out reflect.Value, r rules) *ocppclient.CallError {
	t := out.Type()
	if in == nil {
		return ocppclient.Errorf(ocppclient.TypeConstraintViolation, "%s must not be null", path)
	}
	if t == dateTimeType {
		s, ok := in.(string)
		if !ok {
			return typeError(path, "a dateTime string", in)
		}
		d, err := ParseDateTime(s)
		if err != nil {
			return ocppclient.Errorf(ocppclient.TypeConstraintViolation, "%s: %q is not an RFC 3339 dateTime", path, s)
		}
		out.Set(reflect.ValueOf(d))
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if ce := decodeValue(path, in, p.Elem(), r); ce != nil {
			return ce
		}
		out.Set(p)
	case reflect.String:
		s, ok := in.(string)
		if !ok {
			return typeError(path, "a string", in)
		}
		if r.max > 0 && utf8.RuneCountInString(s) > r.max {
			return ocppclient.Errorf(ocppclient.PropertyConstraintViolation, "%s is longer than %d characters", path, r.max)
		}
		out.SetString(s)
		if e, ok := out.Interface().(enumValue); ok && !e.IsValid() {
			return ocppclient.Errorf(ocppclient.PropertyConstraintViolation, "%s: %q is not a valid %s", path, s, t.Name())
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, ok := in.(json.Number)
		if !ok {
			return typeError(path, "an integer", in)
		}
		i, err := parseInteger(n)
		if err != nil {
			return ocppclient.Errorf(ocppclient.PropertyConstraintViolation, "%s: %v", path, err)
		}
		if r.hasMin && i < r.min {
			return ocppclient.Errorf(ocppclient.PropertyConstraintViolation, "%s: %d is below %d", path, i, r.min)
		}
		out.SetInt(i)
	case reflect.Float64:
		n, ok := in.(json.Number)
		if !ok {
			return typeError(path, "a number", in)
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return ocppclient.Errorf(ocppclient.PropertyConstraintViolation, "%s: %s is out of range", path, n)
		}
		if r.hasMin && f < float64(r.min) {
			return ocppclient.Errorf(ocppclient.PropertyConstraintViolation, "%s: %s is below %d", path, n, r.min)
		}
		if r.step > 0 {
			q := f / r.step
			if math.IsInf(q, 0) || math.Abs(q-math.Round(q)) > 1e-9*math.Max(1, math.Abs(q)) {
				return ocppclient.Errorf(ocppclient.PropertyConstraintViolation, "%s: %s is not a multiple of %g", path, n, r.step)
			}
		}
		out.SetFloat(f)
	case reflect.Bool:
		b, ok := in.(bool)
		if !ok {
			return typeError(path, "a boolean", in)
		}
		out.SetBool(b)
	case reflect.Slice:
		a, ok := in.([]any)
		if !ok {
			return typeError(path, "an array", in)
		}
		s := reflect.MakeSlice(t, len(a), len(a))
		item := r
		item.required = false
		for i, v := range a {
			if ce := decodeValue(fmt.Sprintf("%s[%d]", path, i), v, s.Index(i), item); ce != nil {
				return ce
			}
		}
		out.Set(s)
	case reflect.Struct:
		obj, ok := in.(map[string]any)
		if !ok {
			return typeError(path, "an object", in)
		}
		return decodeObject(path, obj, out)
	default:
		return ocppclient.Errorf(ocppclient.InternalError, "%s: unsupported Go type %s", path, t)
	}
	return nil
}

// parseInteger parses a JSON number that must be a 32-bit integer. As in
// JSON Schema, a number with a zero fraction (2.0, 1e3) is an integer.
func parseInteger(n json.Number) (int64, error) {
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(n), 64)
		switch {
		case ferr != nil:
			return 0, fmt.Errorf("%s is out of range", n)
		case f != math.Trunc(f):
			return 0, fmt.Errorf("%s is not an integer", n)
		case f < minInteger || f > maxInteger:
			return 0, fmt.Errorf("%s is out of the 32-bit integer range", n)
		}
		i = int64(f)
	}
	if i < minInteger || i > maxInteger {
		return 0, fmt.Errorf("%s is out of the 32-bit integer range", n)
	}
	return i, nil
}

// typeError reports a JSON value of the wrong type.
func typeError(path, want string, got any) *ocppclient.CallError {
	var kind string
	switch got.(type) {
	case string:
		kind = "a string"
	case json.Number:
		kind = "a number"
	case bool:
		kind = "a boolean"
	case []any:
		kind = "an array"
	case map[string]any:
		kind = "an object"
	default:
		kind = "null"
	}
	return ocppclient.Errorf(ocppclient.TypeConstraintViolation, "%s must be %s, not %s", path, want, kind)
}

// join appends a field name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
