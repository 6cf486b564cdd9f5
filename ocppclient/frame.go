package ocppclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MessageType is the MessageTypeId, the first element of every OCPP-J frame.
type MessageType int

// Message types of OCPP-J 1.6 section 4.1.3.
const (
	MsgCall       MessageType = 2 // [2, id, action, payload]
	MsgCallResult MessageType = 3 // [3, id, payload]
	MsgCallError  MessageType = 4 // [4, id, code, description, details]
)

// String returns the name the spec uses for t.
func (t MessageType) String() string {
	switch t {
	case MsgCall:
		return "CALL"
	case MsgCallResult:
		return "CALLRESULT"
	case MsgCallError:
		return "CALLERROR"
	}
	return "MessageType(" + strconv.Itoa(int(t)) + ")"
}

// Frame is one decoded OCPP-J message. Which fields are set depends on Type:
// a CALL has ID, Action and Payload; a CALLRESULT has ID and Payload; a
// CALLERROR has ID and Err. Payload is a JSON object; it aliases the buffer
// given to ParseFrame.
type Frame struct {
	Type    MessageType
	ID      string
	Action  string
	Payload json.RawMessage
	Err     *CallError
}

// FrameError reports an inbound frame that does not follow OCPP-J. When ID is
// not empty the message id could be recovered and the peer should be answered
// with a CALLERROR of Code; otherwise the frame can only be dropped. Type is
// the MessageTypeId when it could be read, else 0.
type FrameError struct {
	Type   MessageType
	ID     string
	Code   ErrorCode
	Reason string
}

// Error implements error.
func (e *FrameError) Error() string {
	if e.ID == "" {
		return "ocpp: bad frame: " + e.Reason
	}
	return fmt.Sprintf("ocpp: bad frame %q: %s: %s", e.ID, e.Code, e.Reason)
}

// maxMessageIDLen is the longest message id OCPP-J allows (1.6 section
// 4.2.1: the UniqueId is a string of at most 36 characters, room for a
// GUID), counted in characters (Unicode code points), not bytes.
const maxMessageIDLen = 36

// ParseFrame decodes and validates one OCPP-J message.
//
// Errors are *FrameError. The codes follow OCPP-J 1.6 section 4.2.3:
// FormationViolation when a payload is there but is not a JSON object (it is
// syntactically wrong for any action), ProtocolError when the frame itself is
// incomplete or malformed (wrong length, wrong element types, unknown
// MessageTypeId, a message id longer than 36 characters).
func ParseFrame(b []byte) (Frame, error) {
	elems, err := frameElements(b)
	if err != nil {
		// Not JSON, or JSON but not an array: no message id to answer to.
		return Frame{}, &FrameError{Code: ProtocolError, Reason: "not a JSON array: " + err.Error()}
	}
	if len(elems) < 2 {
		return Frame{}, &FrameError{Code: ProtocolError, Reason: fmt.Sprintf("%d elements, want at least 2", len(elems))}
	}
	// Recover the id first, so that every later error can be answered.
	var id string
	if err := decodeString(elems[1], &id); err != nil || id == "" {
		return Frame{}, &FrameError{Code: ProtocolError, Reason: "message id is not a non-empty string"}
	}
	bad := func(t MessageType, code ErrorCode, format string, args ...any) (Frame, error) {
		return Frame{}, &FrameError{Type: t, ID: id, Code: code, Reason: fmt.Sprintf(format, args...)}
	}
	t, ok := messageType(elems[0])
	if !ok {
		return bad(0, ProtocolError, "MessageTypeId %s is not an integer", truncate(elems[0]))
	}
	// The limit is in characters, so a multi-byte character counts once;
	// json.Unmarshal has made id valid UTF-8 (bad bytes become U+FFFD, one
	// character each). The id is still echoed in the FrameError: a CALL is
	// answered under the id it came with, or the CSMS could not match the
	// CALLERROR to it. ProtocolError, not FormationViolation or
	// PropertyConstraintViolation: those describe the payload of an action,
	// while the id belongs to the RPC frame, whose malformed elements this
	// package answers with ProtocolError throughout (OCPP-J 2.0.1 names this
	// case RpcFrameworkError, a code 1.6 does not have).
	if n := utf8.RuneCountInString(id); n > maxMessageIDLen {
		return bad(t, ProtocolError, "message id is %d characters, at most %d allowed", n, maxMessageIDLen)
	}
	f := Frame{Type: t, ID: id}
	switch t {
	case MsgCall:
		if len(elems) != 4 {
			return bad(t, ProtocolError, "CALL has %d elements, want 4", len(elems))
		}
		if err := decodeString(elems[2], &f.Action); err != nil || f.Action == "" {
			return bad(t, ProtocolError, "action is not a non-empty string")
		}
		if !isObject(elems[3]) {
			return bad(t, FormationViolation, "payload of %s is not a JSON object", f.Action)
		}
		f.Payload = elems[3]
	case MsgCallResult:
		if len(elems) != 3 {
			return bad(t, ProtocolError, "CALLRESULT has %d elements, want 3", len(elems))
		}
		if !isObject(elems[2]) {
			return bad(t, FormationViolation, "CALLRESULT payload is not a JSON object")
		}
		f.Payload = elems[2]
	case MsgCallError:
		// Details are required by the spec, but an answer without them
		// still tells the caller what went wrong: accept 4 or 5 elements.
		if len(elems) != 4 && len(elems) != 5 {
			return bad(t, ProtocolError, "CALLERROR has %d elements, want 5", len(elems))
		}
		ce := &CallError{}
		var code string
		if err := decodeString(elems[2], &code); err != nil || code == "" {
			return bad(t, ProtocolError, "CALLERROR code is not a non-empty string")
		}
		ce.Code = ErrorCode(code)
		if err := decodeString(elems[3], &ce.Description); err != nil {
			return bad(t, ProtocolError, "CALLERROR description is not a string")
		}
		if len(elems) == 5 {
			if !isObject(elems[4]) {
				return bad(t, FormationViolation, "CALLERROR details are not a JSON object")
			}
			ce.Details = elems[4]
		}
		f.Err = ce
	default:
		return bad(t, ProtocolError, "unknown MessageTypeId %d", int(t))
	}
	return f, nil
}

// Encode returns the wire form of f. A nil Payload is sent as {}, as are nil
// CALLERROR details.
func (f Frame) Encode() ([]byte, error) {
	if b, ok := f.encodePlain(); ok {
		return b, nil
	}
	return f.encodeJSON()
}

// encodePlain is Encode for the frames the drain and the handlers send
// every time: when every string of f is printable ASCII that JSON writes
// as it is (no quote, backslash or control character), the frame is put
// together by hand around the payload, which is compacted and checked as
// encoding/json does for a json.RawMessage. The bytes are those
// encodeJSON writes, without its reflection and buffers; ok is false
// for anything else (other strings, a bad payload, an unknown type), which
// encodeJSON then handles, errors included.
func (f Frame) encodePlain() (b []byte, ok bool) {
	var strs [4]string
	var payload json.RawMessage
	n := 0
	switch f.Type {
	case MsgCall:
		strs[0], strs[1], n, payload = f.ID, f.Action, 2, f.Payload
	case MsgCallResult:
		strs[0], n, payload = f.ID, 1, f.Payload
	case MsgCallError:
		if f.Err == nil {
			return nil, false
		}
		strs[0], strs[1], strs[2], n, payload = f.ID, string(f.Err.Code), f.Err.Description, 3, f.Err.Details
	default:
		return nil, false
	}
	size := len(payload) + 8
	for _, s := range strs[:n] {
		if !plainJSON(s) {
			return nil, false
		}
		size += len(s) + 3
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	buf.WriteByte('[')
	buf.WriteString(strconv.Itoa(int(f.Type)))
	for _, s := range strs[:n] {
		buf.WriteString(`,"`)
		buf.WriteString(s)
		buf.WriteByte('"')
	}
	buf.WriteByte(',')
	if err := json.Compact(buf, orEmpty(payload)); err != nil {
		return nil, false
	}
	buf.WriteByte(']')
	return buf.Bytes(), true
}

// plainJSON reports whether s is written in a JSON string as it is.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// encodeJSON is Encode through encoding/json.
func (f Frame) encodeJSON() ([]byte, error) {
	var v []any
	switch f.Type {
	case MsgCall:
		v = []any{f.Type, f.ID, f.Action, orEmpty(f.Payload)}
	case MsgCallResult:
		v = []any{f.Type, f.ID, orEmpty(f.Payload)}
	case MsgCallError:
		if f.Err == nil {
			return nil, fmt.Errorf("ocpp: encode CALLERROR %q without error", f.ID)
		}
		v = []any{f.Type, f.ID, f.Err.Code, f.Err.Description, orEmpty(f.Err.Details)}
	default:
		return nil, fmt.Errorf("ocpp: encode %v: unknown message type", f.Type)
	}
	// Payloads go out as the adapter wrote them: no HTML escaping of <, >
	// and & that a CSMS would have to undo.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("ocpp: encode %v %q: %w", f.Type, f.ID, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// messageType reads the MessageTypeId: a JSON integer (2, not 2.0 or "2").
// raw is valid JSON, so a decimal integer is all ParseInt needs to take: a
// fraction, an exponent, a string or a literal fails it.
func messageType(raw json.RawMessage) (MessageType, bool) {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	i, err := strconv.ParseInt(string(raw), 10, 32)
	if err != nil {
		return 0, false
	}
	return MessageType(i), true
}

// frameElements splits b, a JSON array, into its elements as json.Unmarshal
// into a []json.RawMessage does, with the same errors, but without the
// decoder's reflection and copies for the valid arrays every frame is: the
// elements then alias b.
func frameElements(b []byte) ([]json.RawMessage, error) {
	if json.Valid(b) {
		if elems, ok := splitArray(b); ok {
			return elems, nil
		}
	}
	var elems []json.RawMessage
	err := json.Unmarshal(b, &elems)
	return elems, err
}

// splitArray returns the elements of b, which must be valid JSON, when it
// is an array; false when it is another value.
func splitArray(b []byte) ([]json.RawMessage, bool) {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '[' {
		return nil, false
	}
	elems := make([]json.RawMessage, 0, 5) // every frame has 3 to 5
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return elems, true
	}
	for i < len(b) {
		end := valueEnd(b, i)
		elems = append(elems, json.RawMessage(b[i:end:end]))
		i = skipSpace(b, end)
		if i == len(b) || b[i] != ',' {
			break // the closing ']' of valid JSON
		}
		i = skipSpace(b, i+1)
	}
	return elems, true
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// valueEnd returns the index just past the JSON value starting at b[i]; b
// is valid JSON.
func valueEnd(b []byte, i int) int {
	depth := 0
	for j := i; j < len(b); j++ {
		switch c := b[j]; c {
		case '"':
			j = stringEnd(b, j) - 1
			if depth == 0 {
				return j + 1
			}
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth <= 0 {
				// depth < 0: the end of the enclosing array after a
				// literal.
				if depth < 0 {
					return j
				}
				return j + 1
			}
		case ',', ' ', '\t', '\r', '\n':
			if depth == 0 {
				return j // the end of a number or literal
			}
		}
	}
	return len(b)
}

// stringEnd returns the index just past the JSON string whose opening quote
// is b[i]; b is valid JSON.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// decodeString decodes the JSON value raw into *s as json.Unmarshal does,
// taking a string without escapes as it is.
func decodeString(raw json.RawMessage, s *string) error {
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' {
		inner := raw[1 : n-1]
		if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			*s = string(inner)
			return nil
		}
	}
	return json.Unmarshal(raw, s)
}

// isObject reports whether raw (already known to be valid JSON) is an object.
func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '{'
}

// orEmpty returns raw, or an empty JSON object when raw is empty.
func orEmpty(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("{}")
	}
	return raw
}

// truncate shortens raw JSON for log and error messages.
func truncate(raw []byte) string {
	const max = 64
	if len(raw) > max {
		return string(raw[:max]) + "..."
	}
	return string(raw)
}
