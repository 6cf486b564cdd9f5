package ocpp201

import (
	"encoding/json"
	"fmt"
	"time"
)

// DateTime is an OCPP 2.0.1 date-time: RFC 3339 in UTC with milliseconds
// on output ("2026-11-25T01:02:03.456Z"), any RFC 3339 timestamp on input.
// The zero value is 0001-01-01T00:00:00.000Z.
type DateTime struct {
	time.Time
}

const dateTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// NewDateTime returns t as a DateTime.
func NewDateTime(t time.Time) DateTime { return DateTime{Time: t} }

// NewDateTimePtr returns a pointer to t as a DateTime, for optional fields.
func NewDateTimePtr(t time.Time) *DateTime { return &DateTime{Time: t} }

// ParseDateTime parses an RFC 3339 timestamp whose UTC year is 0 to 9999.
func ParseDateTime(s string) (DateTime, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return DateTime{}, fmt.Errorf("ocpp201: date-time %q is not RFC 3339", s)
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return DateTime{}, fmt.Errorf("ocpp201: date-time %q is out of range", s)
	}
	return DateTime{Time: t}, nil
}

// String returns d in the wire format.
func (d DateTime) String() string { return d.UTC().Format(dateTimeLayout) }

// MarshalJSON implements json.Marshaler.
func (d DateTime) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// UnmarshalJSON implements json.Unmarshaler.
func (d *DateTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("ocpp201: date-time: %w", err)
	}
	v, err := ParseDateTime(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
