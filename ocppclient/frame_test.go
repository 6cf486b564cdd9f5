package ocppclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseFrame(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Frame // when wantCode is ""
		// wantCode and wantID describe the *FrameError; wantID "" means the
		// frame cannot be answered.
		wantCode ErrorCode
		wantID   string
	}{
		{name: "call", in: `[2,"a1","Heartbeat",{}]`,
			want: Frame{Type: MsgCall, ID: "a1", Action: "Heartbeat", Payload: json.RawMessage(`{}`)}},
		{name: "call with spaces", in: " [ 2 , \"a1\" , \"Reset\" , {\"type\":\"Soft\"} ] ",
			want: Frame{Type: MsgCall, ID: "a1", Action: "Reset", Payload: json.RawMessage(`{"type":"Soft"}`)}},
		{name: "callresult", in: `[3,"a2",{"status":"Accepted"}]`,
			want: Frame{Type: MsgCallResult, ID: "a2", Payload: json.RawMessage(`{"status":"Accepted"}`)}},
		{name: "callerror", in: `[4,"a3","NotSupported","no",{"x":1}]`,
			want: Frame{Type: MsgCallError, ID: "a3", Err: &CallError{Code: NotSupported, Description: "no", Details: json.RawMessage(`{"x":1}`)}}},
		{name: "callerror without details", in: `[4,"a3","GenericError",""]`,
			want: Frame{Type: MsgCallError, ID: "a3", Err: &CallError{Code: GenericError}}},

		{name: "not json", in: `hello`, wantCode: ProtocolError},
		{name: "truncated", in: `[2,"a1","Heartbeat",{`, wantCode: ProtocolError},
		{name: "object", in: `{"a":1}`, wantCode: ProtocolError},
		{name: "empty array", in: `[]`, wantCode: ProtocolError},
		{name: "only type", in: `[2]`, wantCode: ProtocolError},
		{name: "numeric id", in: `[2,5,"Reset",{}]`, wantCode: ProtocolError},
		{name: "empty id", in: `[2,"","Reset",{}]`, wantCode: ProtocolError},
		{name: "type as string", in: `["2","m1","Reset",{}]`, wantCode: ProtocolError, wantID: "m1"},
		{name: "type as float", in: `[2.5,"m2","Reset",{}]`, wantCode: ProtocolError, wantID: "m2"},
		{name: "type null", in: `[null,"m2","Reset",{}]`, wantCode: ProtocolError, wantID: "m2"},
		{name: "unknown type", in: `[7,"m3","Reset",{}]`, wantCode: ProtocolError, wantID: "m3"},
		{name: "call too short", in: `[2,"m4","Reset"]`, wantCode: ProtocolError, wantID: "m4"},
		{name: "call too long", in: `[2,"m5","Reset",{},{}]`, wantCode: ProtocolError, wantID: "m5"},
		{name: "action not string", in: `[2,"m6",7,{}]`, wantCode: ProtocolError, wantID: "m6"},
		{name: "empty action", in: `[2,"m6","",{}]`, wantCode: ProtocolError, wantID: "m6"},
		{name: "payload array", in: `[2,"m7","Reset",[]]`, wantCode: FormationViolation, wantID: "m7"},
		{name: "payload string", in: `[2,"m8","Reset","x"]`, wantCode: FormationViolation, wantID: "m8"},
		{name: "payload null", in: `[2,"m9","Reset",null]`, wantCode: FormationViolation, wantID: "m9"},
		{name: "callresult short", in: `[3,"r1"]`, wantCode: ProtocolError, wantID: "r1"},
		{name: "callresult payload number", in: `[3,"r2",5]`, wantCode: FormationViolation, wantID: "r2"},
		{name: "callerror code number", in: `[4,"e1",5,"",{}]`, wantCode: ProtocolError, wantID: "e1"},
		{name: "callerror details array", in: `[4,"e2","GenericError","",[]]`, wantCode: FormationViolation, wantID: "e2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFrame([]byte(tc.in))
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("ParseFrame: %v", err)
				}
				if !framesEqual(got, tc.want) {
					t.Fatalf("got %+v, want %+v", got, tc.want)
				}
				return
			}
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("got %+v, %v; want *FrameError", got, err)
			}
			if fe.Code != tc.wantCode || fe.ID != tc.wantID {
				t.Fatalf("got code %s id %q, want %s %q (%v)", fe.Code, fe.ID, tc.wantCode, tc.wantID, fe)
			}
		})
	}
}

// TestParseFrameMessageIDLength checks the 36-character limit on message
// ids at its edge. The limit counts characters (Unicode code points), not
// bytes: 36 two-byte or four-byte characters pass, a 37th of any width does
// not. A CALL with a long id must come back as a ProtocolError under that
// same id (never reach a handler); an answer with one is an error too, of
// its type, so that the connection drops it.
func TestParseFrameMessageIDLength(t *testing.T) {
	tests := []struct {
		name   string
		typ    MessageType
		id     string
		wantOK bool
	}{
		{"call 36 ascii", MsgCall, strings.Repeat("a", 36), true},
		{"call 37 ascii", MsgCall, strings.Repeat("a", 37), false},
		{"call uuid", MsgCall, "123e4567-e89b-12d3-a456-426614174000", true},
		{"call uuid and one", MsgCall, "123e4567-e89b-12d3-a456-426614174000x", false},
		{"call 36 two-byte", MsgCall, strings.Repeat("é", 36), true}, // 72 bytes
		{"call 37 two-byte", MsgCall, strings.Repeat("é", 37), false},
		{"call 36 four-byte", MsgCall, strings.Repeat("😀", 36), true}, // 144 bytes
		{"call 35 ascii and a four-byte", MsgCall, strings.Repeat("a", 35) + "😀", true},
		{"call 36 ascii and a four-byte", MsgCall, strings.Repeat("a", 36) + "😀", false},
		{"call 1", MsgCall, "a", true},
		{"callresult 36", MsgCallResult, strings.Repeat("r", 36), true},
		{"callresult 37", MsgCallResult, strings.Repeat("r", 37), false},
		{"callerror 36", MsgCallError, strings.Repeat("e", 36), true},
		{"callerror 37", MsgCallError, strings.Repeat("e", 37), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := Frame{Type: tc.typ, ID: tc.id, Action: "Heartbeat", Err: &CallError{Code: GenericError}}
			b, err := in.Encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseFrame(b)
			if tc.wantOK {
				if err != nil || got.ID != tc.id || got.Type != tc.typ {
					t.Fatalf("ParseFrame(%s) = %v %q, %v; want it accepted", b, got.Type, got.ID, err)
				}
				return
			}
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseFrame(%s) = %+v, %v; want *FrameError", b, got, err)
			}
			if fe.Code != ProtocolError || fe.ID != tc.id || fe.Type != tc.typ {
				t.Fatalf("got %s %q type %v, want ProtocolError with the id echoed and type %v", fe.Code, fe.ID, fe.Type, tc.typ)
			}
		})
	}
}

func TestFrameEncode(t *testing.T) {
	tests := []struct {
		name string
		in   Frame
		want string
	}{
		{"call", Frame{Type: MsgCall, ID: "1", Action: "Heartbeat"}, `[2,"1","Heartbeat",{}]`},
		{"callresult", Frame{Type: MsgCallResult, ID: "1", Payload: json.RawMessage(`{"a": 1}`)}, `[3,"1",{"a":1}]`},
		{"callerror", Frame{Type: MsgCallError, ID: "1", Err: Errorf(NotImplemented, "x %d", 1)},
			`[4,"1","NotImplemented","x 1",{}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.in.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Fatalf("got %s, want %s", b, tc.want)
			}
		})
	}
	for _, bad := range []Frame{{Type: 9, ID: "1"}, {Type: MsgCallError, ID: "1"}} {
		if b, err := bad.Encode(); err == nil {
			t.Errorf("Encode(%+v) = %s, want error", bad, b)
		}
	}
}

// framesEqual compares frames, payloads as compact JSON.
func framesEqual(a, b Frame) bool {
	if a.Type != b.Type || a.ID != b.ID || a.Action != b.Action || !jsonEqual(a.Payload, b.Payload) {
		return false
	}
	if (a.Err == nil) != (b.Err == nil) {
		return false
	}
	if a.Err != nil {
		return a.Err.Code == b.Err.Code && a.Err.Description == b.Err.Description &&
			jsonEqual(orEmpty(a.Err.Details), orEmpty(b.Err.Details))
	}
	return true
}

func jsonEqual(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// FuzzParseFrame checks that no input makes ParseFrame panic, that errors
// are always *FrameError, and that every accepted frame survives an
// encode/parse round trip unchanged.
func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{
		`[2,"a1","Heartbeat",{}]`,
		`[2,"a1","BootNotification",{"chargePointVendor":"evsed","chargePointModel":"x"}]`,
		`[3,"a2",{"status":"Accepted","currentTime":"2025-06-01T12:00:00Z","interval":300}]`,
		`[4,"a3","NotSupported","no",{"x":[1,2]}]`,
		`[4,"a3","GenericError",""]`,
		`[2,"a1","Heartbeat"]`,
		`[2,"a1",{},{}]`,
		`["2","a1","Heartbeat",{}]`,
		`[2.0,"a1","Heartbeat",{}]`,
		`[9,"a1"]`,
		`[2,"a1","Reset",[]]`,
		`[2,"a1","Reset","\u0000"]`,
		`[]`,
		`{}`,
		`null`,
		`[2,"a1","Heartbeat",{`,
		"\xff\xfe",
		`[2,"\ud800","x",{}]`,
		`[2,"123456789012345678901234567890123456","Heartbeat",{}]`,
		`[2,"1234567890123456789012345678901234567","Heartbeat",{}]`,
		`[3,"1234567890123456789012345678901234567",{}]`,
		`[2,"éééééééééééééééééééééééééééééééééééé","Heartbeat",{}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		fr, err := ParseFrame(in)
		if err != nil {
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not *FrameError", err, err)
			}
			if fe.Code != ProtocolError && fe.Code != FormationViolation {
				t.Fatalf("unexpected code %s", fe.Code)
			}
			return
		}
		if n := utf8.RuneCountInString(fr.ID); n > maxMessageIDLen {
			t.Fatalf("accepted a message id of %d characters: %q", n, fr.ID)
		}
		b, err := fr.Encode()
		if err != nil {
			t.Fatalf("Encode(%+v): %v", fr, err)
		}
		again, err := ParseFrame(b)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", b, err)
		}
		if !framesEqual(fr, again) {
			t.Fatalf("round trip changed the frame:\n%+v\n%+v", fr, again)
		}
	})
}

// FuzzFrameCodecMatchesEncodingJSON checks the hand-written paths of
// ParseFrame and Encode against encoding/json, which they stand in for:
// the same elements and errors as json.Unmarshal into a []json.RawMessage,
// the same strings as json.Unmarshal into a string, and the same bytes as
// encoding the frame through encoding/json.
func FuzzFrameCodecMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`[2,"a1","Heartbeat",{}]`,
		` [ 2 , "a1" , "Reset" , {"type" : "Soft"} ] `,
		`[3,"a2",{"s":"]}\"[{","n":[1,{"a":[]}],"t":true,"z":null}]`,
		`[4,"a3","NotSupported","no \"way\"",{"x":[1,2]}]`,
		`[4,"a3","GenericError",""]`,
		`[2,"a\u00e9","Heart\tbeat",{}]`,
		`[2,"a\\b","x",{}]`,
		`[2,"<&>","x",{"h":"<b>"}]`,
		`[2,"\u2028","x",{}]`,
		"[2,\"\xff\",\"x\",{}]",
		`[2,-0,1e3,true,false,null,"x"]`,
		`[[],[[]],{},""]`,
		`[1]`, `[]`, `{}`, `null`, `"x"`, `[2,"a1"`, `[2,,]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, gotErr := frameElements(in)
		var want []json.RawMessage
		wantErr := json.Unmarshal(in, &want)
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("frameElements(%q) error %v, json.Unmarshal %v", in, gotErr, wantErr)
		}
		if len(got) != len(want) {
			t.Fatalf("frameElements(%q) = %q, json.Unmarshal %q", in, got, want)
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("element %d of %q: %q, json.Unmarshal %q", i, in, got[i], want[i])
			}
			var gs, ws string
			gerr, werr := decodeString(got[i], &gs), json.Unmarshal(want[i], &ws)
			if (gerr == nil) != (werr == nil) || gs != ws {
				t.Fatalf("decodeString(%q) = %q, %v; json.Unmarshal %q, %v", got[i], gs, gerr, ws, werr)
			}
		}
		fr, err := ParseFrame(in)
		if err != nil {
			return
		}
		for _, x := range []Frame{fr, {Type: MsgCall, ID: fr.ID, Action: "A", Payload: fr.Payload},
			{Type: MsgCallError, ID: fr.ID, Err: &CallError{Code: ErrorCode(fr.ID), Description: fr.Action, Details: fr.Payload}}} {
			plain, ok := x.encodePlain()
			viaJSON, err := x.encodeJSON()
			if ok && (err != nil || !bytes.Equal(plain, viaJSON)) {
				t.Fatalf("encodePlain(%+v) = %s, encodeJSON %s, %v", x, plain, viaJSON, err)
			}
		}
	})
}
