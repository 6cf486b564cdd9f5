package ocpp16

import (
	"encoding/json"
	"fmt"
	"time"
)

// Types shared by several messages. Field rules are in the `ocpp` struct
// tags, read by the validator (validate.go):
//
//	required   the field must be present (OccurenceConstraintViolation)
//	max=N      a string (or each string of a list) has at most N code points
//	min=N      an integer or number is at least N
//	step=0.1   a number is a multiple of 0.1
//
// Enum-typed fields are checked with their IsValid method; integer fields
// must hold 32-bit integers.

// DateTime is an OCPP dateTime. It marshals as RFC 3339 in UTC with
// milliseconds ("2026-11-25T01:02:03.456Z"), finer digits truncated, and
// unmarshals any RFC 3339 timestamp, with or without fractional seconds, in
// any offset. The zero value is 0001-01-01T00:00:00.000Z.
type DateTime struct {
	time.Time
}

// dateTimeLayout is the output layout: always three fractional digits.
const dateTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// NewDateTime returns t as a DateTime.
func NewDateTime(t time.Time) DateTime { return DateTime{Time: t} }

// NewDateTimePtr returns a pointer to t as a DateTime, for optional fields.
func NewDateTimePtr(t time.Time) *DateTime { return &DateTime{Time: t} }

// ParseDateTime parses an RFC 3339 timestamp. The second field may carry a
// fraction of any length; the zone is Z or an offset. The time in UTC must
// fall in the years 0000 to 9999.
func ParseDateTime(s string) (DateTime, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return DateTime{}, fmt.Errorf("ocpp16: dateTime %q is not RFC 3339", s)
	}
	// An offset can move a time out of the four-digit years that the
	// output layout can write.
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return DateTime{}, fmt.Errorf("ocpp16: dateTime %q is out of range", s)
	}
	return DateTime{Time: t}, nil
}

// String returns d in the wire format.
func (d DateTime) String() string { return d.UTC().Format(dateTimeLayout) }

// MarshalJSON implements json.Marshaler.
func (d DateTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *DateTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("ocpp16: dateTime must be a JSON string")
	}
	v, err := ParseDateTime(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// IdTagInfo is the CSMS's verdict on an id tag.
type IdTagInfo struct {
	// ExpiryDate is when the tag stops being valid, for the authorization
	// cache; nil when not given.
	ExpiryDate *DateTime `json:"expiryDate,omitempty"`
	// ParentIDTag groups tags; empty when not given.
	ParentIDTag string              `json:"parentIdTag,omitempty" ocpp:"max=20"`
	Status      AuthorizationStatus `json:"status" ocpp:"required"`
}

// SampledValue is one value of a MeterValue. Empty optional fields take the
// specification's defaults: context Sample.Periodic, format Raw, measurand
// Energy.Active.Import.Register, location Outlet, unit Wh (for energy).
type SampledValue struct {
	// Value is the reading as a decimal number (format Raw) or signed data.
	Value     string         `json:"value" ocpp:"required"`
	Context   ReadingContext `json:"context,omitempty"`
	Format    ValueFormat    `json:"format,omitempty"`
	Measurand Measurand      `json:"measurand,omitempty"`
	Phase     Phase          `json:"phase,omitempty"`
	Location  Location       `json:"location,omitempty"`
	Unit      UnitOfMeasure  `json:"unit,omitempty"`
}

// MeterValue is a set of sampled values taken at one time.
type MeterValue struct {
	Timestamp    DateTime       `json:"timestamp" ocpp:"required"`
	SampledValue []SampledValue `json:"sampledValue" ocpp:"required"`
}

// KeyValue is one configuration key in a GetConfiguration answer.
type KeyValue struct {
	Key      string `json:"key" ocpp:"required,max=50"`
	Readonly bool   `json:"readonly" ocpp:"required"`
	// Value is nil for a key that has no value or must not be read
	// (AuthorizationKey).
	Value *string `json:"value,omitempty" ocpp:"max=500"`
}

// ChargingSchedulePeriod is one step of a charging schedule.
type ChargingSchedulePeriod struct {
	// StartPeriod is the offset from the schedule start, in seconds.
	StartPeriod int `json:"startPeriod" ocpp:"required,min=0"`
	// Limit is the maximum rate in the schedule's ChargingRateUnit, with
	// one decimal.
	Limit float64 `json:"limit" ocpp:"required,step=0.1"`
	// NumberPhases is the number of phases that may be used; nil means 3.
	NumberPhases *int `json:"numberPhases,omitempty"`
}

// ChargingSchedule is the schedule of a charging profile.
type ChargingSchedule struct {
	// Duration is the schedule's length in seconds; nil means until the
	// last period ends (or, for a transaction, until it ends). A length
	// is never negative, although the schema does not say so.
	Duration               *int                     `json:"duration,omitempty" ocpp:"min=0"`
	StartSchedule          *DateTime                `json:"startSchedule,omitempty"`
	ChargingRateUnit       ChargingRateUnit         `json:"chargingRateUnit" ocpp:"required"`
	ChargingSchedulePeriod []ChargingSchedulePeriod `json:"chargingSchedulePeriod" ocpp:"required"`
	// MinChargingRate is the lowest rate the EV charges at efficiently, in
	// ChargingRateUnit with one decimal; nil when not given.
	MinChargingRate *float64 `json:"minChargingRate,omitempty" ocpp:"step=0.1"`
}

// ChargingProfile is a Smart Charging profile, installed by
// SetChargingProfile. A RemoteStartTransaction may carry one (of purpose
// TxProfile). Rules that tie fields together (a TransactionID only for a
// TxProfile, a RecurrencyKind only for a Recurring profile) are stated in
// prose only and are the handler's to check: the schema, which decides what
// is accepted on input, has no such rule.
type ChargingProfile struct {
	ChargingProfileID int `json:"chargingProfileId" ocpp:"required"`
	// TransactionID binds a TxProfile to a transaction; nil otherwise.
	TransactionID          *int                   `json:"transactionId,omitempty"`
	StackLevel             int                    `json:"stackLevel" ocpp:"required,min=0"`
	ChargingProfilePurpose ChargingProfilePurpose `json:"chargingProfilePurpose" ocpp:"required"`
	ChargingProfileKind    ChargingProfileKind    `json:"chargingProfileKind" ocpp:"required"`
	// RecurrencyKind is set for Recurring profiles only.
	RecurrencyKind   RecurrencyKind   `json:"recurrencyKind,omitempty"`
	ValidFrom        *DateTime        `json:"validFrom,omitempty"`
	ValidTo          *DateTime        `json:"validTo,omitempty"`
	ChargingSchedule ChargingSchedule `json:"chargingSchedule" ocpp:"required"`
}

// AuthorizationData is one entry of a SendLocalList's local authorization
// list.
type AuthorizationData struct {
	IDTag string `json:"idTag" ocpp:"required,max=20"`
	// IdTagInfo is the tag's verdict. In a Differential update an entry
	// without it removes the tag from the list. The specification's prose
	// requires it in a Full update, the schema does not: as the schema
	// decides what is accepted on input, a Full list with an entry without
	// IdTagInfo decodes, and the handler answers it.
	IdTagInfo *IdTagInfo `json:"idTagInfo,omitempty"`
}
