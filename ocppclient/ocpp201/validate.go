package ocpp201

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

// RPC error codes that OCPP-J 2.0.1 spells differently from 1.6 (section
// 4.3 of OCPP-J 2.0.1), and the ones it adds. The codes both versions
// share are those of package ocppclient.
const (
	FormatViolation               ocppclient.ErrorCode = "FormatViolation"
	OccurrenceConstraintViolation ocppclient.ErrorCode = "OccurrenceConstraintViolation"
	MessageTypeNotSupported       ocppclient.ErrorCode = "MessageTypeNotSupported"
	RPCFrameworkError             ocppclient.ErrorCode = "RpcFrameworkError"
)

// DecodeRequest decodes and validates the payload of a CALL the CSMS sent.
// It returns a pointer to the action's request type
// (*GetVariablesRequest for "GetVariables"), owned by the caller.
//
// The error is always a *ocppclient.CallError, the CALLERROR to answer
// with: NotImplemented for an action OCPP 2.0.1 does not define,
// NotSupported for one it defines that this package does not take from a
// CSMS (see Actions), else the validation code the package documentation
// describes.
func DecodeRequest(action string, payload json.RawMessage) (any, error) {
	v := newInboundRequest(action)
	if v == nil {
		if _, known := lookupAction(action); known {
			return nil, ocppclient.Errorf(ocppclient.NotSupported, "action %s is not supported", action)
		}
		return nil, ocppclient.Errorf(ocppclient.NotImplemented, "unknown action %q", action)
	}
	if ce := decode(payload, reflect.ValueOf(v)); ce != nil {
		return nil, ce
	}
	return v, nil
}

// DecodeResponse decodes and validates a CALLRESULT payload answering a
// CALL of action into into, a non-nil pointer to the action's response
// type. into is left unchanged when an error is returned. A payload that
// breaks the schema gives a *ocppclient.CallError (logged by the adapter:
// a CALLRESULT is not answered); an into of the wrong type, or an action
// without a response type here, a plain error.
func DecodeResponse(action string, payload json.RawMessage, into any) error {
	want := newResponse(action)
	if want == nil {
		return fmt.Errorf("ocpp201: no response type for action %q", action)
	}
	if reflect.TypeOf(into) != reflect.TypeOf(want) || reflect.ValueOf(into).IsNil() {
		return fmt.Errorf("ocpp201: decode %s response into %T, want non-nil %T", action, into, want)
	}
	tmp := reflect.ValueOf(want)
	if ce := decode(payload, tmp); ce != nil {
		return ce
	}
	reflect.ValueOf(into).Elem().Set(tmp.Elem())
	return nil
}

// Validate checks a message value (a struct or a pointer to one) against
// the rules of its schema by marshalling it and decoding the result with
// the same checks inbound payloads get. A violation is a
// *ocppclient.CallError; a value that does not marshal, a plain error.
func Validate(msg any) error {
	rv := reflect.ValueOf(msg)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return errors.New("ocpp201: validate nil message")
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return fmt.Errorf("ocpp201: validate %T: not a message struct", msg)
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("ocpp201: validate %T: %w", msg, err)
	}
	if ce := decode(b, reflect.New(rv.Type())); ce != nil {
		return ce
	}
	return nil
}

// decode parses payload and fills the struct ptr points to.
func decode(payload []byte, ptr reflect.Value) *ocppclient.CallError {
	if !utf8.Valid(payload) {
		return ocppclient.Errorf(FormatViolation, "payload is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return ocppclient.Errorf(FormatViolation, "payload is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return ocppclient.Errorf(FormatViolation, "payload has data after the JSON object")
	}
	obj, ok := tree.(map[string]any)
	if !ok {
		return ocppclient.Errorf(FormatViolation, "payload is not a JSON object")
	}
	return decodeObject("", obj, ptr.Elem())
}

// rules are one field's constraints, from its `ocpp` struct tag:
// required, max=N (string length in code points), min=N (integer
// minimum), minItems=N and maxItems=N (array length).
type rules struct {
	required           bool
	max                int
	hasMin             bool
	min                int64
	minItems, maxItems int
}

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
		case "minItems":
			r.minItems, err = strconv.Atoi(arg)
		case "maxItems":
			r.maxItems, err = strconv.Atoi(arg)
		default:
			err = fmt.Errorf("unknown rule %q", name)
		}
		if err != nil {
			return r, fmt.Errorf("ocpp tag %q: %w", tag, err)
		}
	}
	return r, nil
}

type field struct {
	index int
	name  string
	rules rules
}

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

type enumValue interface{ IsValid() bool }

var (
	dateTimeType = reflect.TypeFor[DateTime]()
	rawType      = reflect.TypeFor[json.RawMessage]()
)

// customDataKey is the vendor extension every 2.0.1 object may carry; it
// is checked (an object with a vendorId of at most 255 characters) and
// dropped.
const customDataKey = "customData"

func decodeObject(path string, obj map[string]any, out reflect.Value) *ocppclient.CallError {
	fs, err := structFields(out.Type())
	if err != nil {
		return ocppclient.Errorf(ocppclient.InternalError, "%v", err)
	}
	var unknown []string
	for k := range obj {
		if k != customDataKey && !slices.ContainsFunc(fs, func(f field) bool { return f.name == k }) {
			unknown = append(unknown, strconv.Quote(join(path, k)))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return ocppclient.Errorf(FormatViolation, "unknown field %s", strings.Join(unknown, ", "))
	}
	if cd, ok := obj[customDataKey]; ok {
		if ce := checkCustomData(join(path, customDataKey), cd); ce != nil {
			return ce
		}
	}
	for _, f := range fs {
		in, ok := obj[f.name]
		if !ok {
			if f.rules.required {
				return ocppclient.Errorf(OccurrenceConstraintViolation, "required field %s is missing", join(path, f.name))
			}
			continue
		}
		if ce := decodeValue(join(path, f.name), in, out.Field(f.index), f.rules); ce != nil {
			return ce
		}
	}
	return nil
}

func checkCustomData(path string, in any) *ocppclient.CallError {
	obj, ok := in.(map[string]any)
	if !ok {
		return typeError(path, "an object", in)
	}
	v, ok := obj["vendorId"]
	if !ok {
		return ocppclient.Errorf(OccurrenceConstraintViolation, "required field %s.vendorId is missing", path)
	}
	s, ok := v.(string)
	if !ok {
		return typeError(path+".vendorId", "a string", v)
	}
	if utf8.RuneCountInString(s) > 255 {
		return ocppclient.Errorf(PropertyConstraintViolation, "%s.vendorId is longer than 255 characters", path)
	}
	return nil
}

// PropertyConstraintViolation and TypeConstraintViolation are spelled the
// same in both versions.
const (
	PropertyConstraintViolation = ocppclient.PropertyConstraintViolation
	TypeConstraintViolation     = ocppclient.TypeConstraintViolation
)

// OCPP integers are 32-bit.
const (
	minInteger = math.MinInt32
	maxInteger = math.MaxInt32
)

func decodeValue(path string, in any, out reflect.Value, r rules) *ocppclient.CallError {
	t := out.Type()
	if t == rawType {
		b, err := json.Marshal(in)
		if err != nil {
			return ocppclient.Errorf(FormatViolation, "%s: %v", path, err)
		}
		out.SetBytes(b)
		return nil
	}
	if in == nil {
		return ocppclient.Errorf(TypeConstraintViolation, "%s must not be null", path)
	}
	if t == dateTimeType {
		s, ok := in.(string)
		if !ok {
			return typeError(path, "a date-time string", in)
		}
		d, err := ParseDateTime(s)
		if err != nil {
			return ocppclient.Errorf(TypeConstraintViolation, "%s: %q is not an RFC 3339 date-time", path, s)
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
			return ocppclient.Errorf(PropertyConstraintViolation, "%s is longer than %d characters", path, r.max)
		}
		out.SetString(s)
		if e, ok := out.Interface().(enumValue); ok && !e.IsValid() {
			return ocppclient.Errorf(PropertyConstraintViolation, "%s: %q is not a valid %s", path, s, t.Name())
		}
	case reflect.Int:
		n, ok := in.(json.Number)
		if !ok {
			return typeError(path, "an integer", in)
		}
		i, err := parseInteger(n)
		if err != nil {
			return ocppclient.Errorf(TypeConstraintViolation, "%s: %v", path, err)
		}
		if r.hasMin && i < r.min {
			return ocppclient.Errorf(PropertyConstraintViolation, "%s: %d is below %d", path, i, r.min)
		}
		out.SetInt(i)
	case reflect.Float64:
		n, ok := in.(json.Number)
		if !ok {
			return typeError(path, "a number", in)
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return ocppclient.Errorf(PropertyConstraintViolation, "%s: %s is out of range", path, n)
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
		if len(a) < r.minItems || (r.maxItems > 0 && len(a) > r.maxItems) {
			return ocppclient.Errorf(OccurrenceConstraintViolation, "%s has %d items, want %s", path, len(a), itemRange(r))
		}
		s := reflect.MakeSlice(t, len(a), len(a))
		item := rules{max: r.max, hasMin: r.hasMin, min: r.min}
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

func itemRange(r rules) string {
	if r.maxItems > 0 {
		return fmt.Sprintf("%d to %d", r.minItems, r.maxItems)
	}
	return fmt.Sprintf("at least %d", r.minItems)
}

// parseInteger parses a JSON number that must be a 32-bit integer; as in
// JSON Schema, 2.0 and 1e3 are integers.
func parseInteger(n json.Number) (int64, error) {
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(n), 64)
		switch {
		case ferr != nil:
			return 0, fmt.Errorf("%s is out of range", n)
		case f != math.Trunc(f):
			return 0, fmt.Errorf("%s is not an integer", n)
		}
		if f < minInteger || f > maxInteger {
			return 0, fmt.Errorf("%s is out of the 32-bit integer range", n)
		}
		i = int64(f)
	}
	if i < minInteger || i > maxInteger {
		return 0, fmt.Errorf("%s is out of the 32-bit integer range", n)
	}
	return i, nil
}

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
	return ocppclient.Errorf(TypeConstraintViolation, "%s must be %s, not %s", path, want, kind)
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
