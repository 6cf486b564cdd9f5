package authlist

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestEntryRoundTrip(t *testing.T) {
	cases := []struct {
		name             string
		token, tokenType string
		info             Info
	}{
		{"1.6 minimal", "04A1B2", "", Info{Status: Accepted}},
		{"1.6 full", "04A1B2", "", Info{Status: Blocked, GroupToken: "PARENT", Expiry: time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)}},
		{"2.0.1", "urn:uuid:1234", "Central", Info{Status: NotAtThisTime, GroupToken: "G", GroupTokenType: "Local", EVSEs: []int{0, 1, 1 << 40}}},
		{"before 1970", "old", "", Info{Status: Expired, Expiry: time.Date(1969, 7, 20, 20, 17, 40, 999999999, time.UTC)}},
		{"non-ASCII", "Ärger", "", Info{Status: Accepted}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeEntry(encodeEntry(tc.token, tc.tokenType, &tc.info))
			if err != nil {
				t.Fatal(err)
			}
			want := Entry{Token: tc.token, TokenType: tc.tokenType, Info: tc.info}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip = %+v, want %+v", got, want)
			}
		})
	}
}

// Every truncation of a valid value, and a few forgeries, read as
// ErrCorrupt and never panic.
func TestDecodeCorrupt(t *testing.T) {
	v := encodeEntry("TAG", "eMAID", &Info{Status: Accepted, GroupToken: "G", Expiry: time.Unix(1e9, 5), EVSEs: []int{2, 3}})
	for n := range len(v) {
		if _, err := decodeEntry(v[:n]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("value cut to %d bytes: %v, want ErrCorrupt", n, err)
		}
	}
	forged := map[string][]byte{
		"trailing byte":   append(bytes.Clone(v), 0),
		"unknown format":  append([]byte{2}, v[1:]...),
		"string too long": {entryFormat, 200, 'A'},
		"bad status":      encodeEntry("T", "", &Info{Status: "Nope"}),
		"nanoseconds":     append(encodeEntry("T", "", &Info{Status: Accepted})[:6], 1, 0, 0x80, 0x94, 0xeb, 0xdc, 0x03, 0),
		"EVSE count":      append(encodeEntry("T", "", &Info{Status: Accepted})[:len(encodeEntry("T", "", &Info{Status: Accepted}))-1], 0xff, 0x01),
	}
	for name, b := range forged {
		if _, err := decodeEntry(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry("TAG", "", &Info{Status: Accepted}))
	f.Add(encodeEntry("TAG", "eMAID", &Info{Status: Blocked, GroupToken: "G", Expiry: time.Unix(1e9, 5), EVSEs: []int{1}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b)
		if err != nil {
			return
		}
		// What decodes survives a round trip unchanged. (The bytes may
		// differ: a varint can be written in more than its shortest form.)
		again, err := decodeEntry(encodeEntry(e.Token, e.TokenType, &e.Info))
		if err != nil || !reflect.DeepEqual(again, e) {
			t.Fatalf("decoded %+v, after a round trip %+v, %v", e, again, err)
		}
	})
}

func TestKeyFolding(t *testing.T) {
	same := [][2]string{
		{"abc", "ABC"},
		{"04a1B2", "04A1b2"},
		{"straße", "STRAßE"},
		{"k", "\u212a"}, // Kelvin sign
		{"ǅ", "ǆ"},      // title case digraph
		{"σ", "ς"},      // final sigma folds with sigma
	}
	for _, p := range same {
		if a, b := appendKey(nil, "", p[0]), appendKey(nil, "", p[1]); !bytes.Equal(a, b) {
			t.Errorf("%q and %q have different keys %x, %x", p[0], p[1], a, b)
		}
	}
	differ := [][3]string{
		{"", "ab", "AC"},
		{"", "ss", "ß"},  // full case folding would merge them; OCPP tokens compare simply
		{"A", "B", "AB"}, // the type's length prefix keeps ("A","B") from ("","AB") and ("AB","")
	}
	for _, p := range differ {
		if a, b := appendKey(nil, p[0], p[1]), appendKey(nil, "", p[2]); bytes.Equal(a, b) {
			t.Errorf("(%q, %q) and (\"\", %q) share key %x", p[0], p[1], p[2], a)
		}
	}
	if bytes.Equal(appendKey(nil, "AB", ""), appendKey(nil, "A", "B")) {
		t.Error("type and token boundary is ambiguous")
	}
}
