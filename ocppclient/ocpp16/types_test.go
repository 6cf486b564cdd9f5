package ocpp16

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDateTimeMarshal(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{"UTC with millis", time.Date(2026, 11, 25, 1, 2, 3, 456e6, time.UTC), `"2026-11-25T01:02:03.456Z"`},
		{"whole second", time.Date(2026, 11, 25, 1, 2, 3, 0, time.UTC), `"2026-11-25T01:02:03.000Z"`},
		{"finer digits truncated", time.Date(2026, 11, 25, 1, 2, 3, 456999999, time.UTC), `"2026-11-25T01:02:03.456Z"`},
		{"offset converted to UTC", time.Date(2026, 11, 25, 2, 2, 3, 0, time.FixedZone("CET", 3600)), `"2026-11-25T01:02:03.000Z"`},
		{"zero value", time.Time{}, `"0001-01-01T00:00:00.000Z"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(NewDateTime(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("got %s, want %s", b, tc.want)
			}
		})
	}
}

func TestDateTimeUnmarshal(t *testing.T) {
	want := time.Date(2026, 11, 25, 1, 2, 3, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want time.Time // zero: error expected
	}{
		{"Z no fraction", `"2026-11-25T01:02:03Z"`, want},
		{"Z millis", `"2026-11-25T01:02:03.456Z"`, want.Add(456 * time.Millisecond)},
		{"Z one digit", `"2026-11-25T01:02:03.1Z"`, want.Add(100 * time.Millisecond)},
		{"Z nanos", `"2026-11-25T01:02:03.123456789Z"`, want.Add(123456789)},
		{"positive offset", `"2026-11-25T02:02:03+01:00"`, want},
		{"negative offset with fraction", `"2026-11-24T20:02:03.5-05:00"`, want.Add(500 * time.Millisecond)},
		{"no zone", `"2026-11-25T01:02:03"`, time.Time{}},
		{"date only", `"2026-11-25"`, time.Time{}},
		{"space separator", `"2026-11-25 01:02:03Z"`, time.Time{}},
		{"empty", `""`, time.Time{}},
		{"number", `1764032523`, time.Time{}},
		{"null", `null`, time.Time{}},
		{"year out of range after offset", `"9999-12-31T23:00:00-02:00"`, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d DateTime
			err := json.Unmarshal([]byte(tc.in), &d)
			if tc.want.IsZero() {
				if err == nil {
					t.Errorf("parsed %s as %v, want error", tc.in, d)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !d.Equal(tc.want) {
				t.Errorf("got %v, want %v", d.Time, tc.want)
			}
		})
	}
}

func TestDateTimeRoundTrip(t *testing.T) {
	type msg struct {
		Required DateTime  `json:"required"`
		Optional *DateTime `json:"optional,omitempty"`
	}
	for _, in := range []string{
		`{"required":"2026-11-25T01:02:03.456Z"}`,
		`{"required":"2026-11-25T01:02:03.456Z","optional":"2000-02-29T23:59:59.999Z"}`,
	} {
		var m msg
		if err := json.Unmarshal([]byte(in), &m); err != nil {
			t.Fatal(err)
		}
		out, _ := json.Marshal(m)
		if string(out) != in {
			t.Errorf("round trip %s -> %s", in, out)
		}
	}
}
