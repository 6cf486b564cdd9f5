package smartcharging

import (
	"errors"
	"math"
	"testing"
	"time"
)

// limits are the 1.6 adapter's defaults.
var limits = Limits{MaxStackLevel: 8, MaxPeriods: 24, MaxInstalled: 16, Units: []RateUnit{Amperes, Watts}}

func TestValidate(t *testing.T) {
	ok := txDefault(1, 1, 0).periods(0*h, 16, h, 10)
	mod := func(f func(p *Profile)) Profile {
		p := ok.P().clone()
		f(&p)
		return p
	}
	many := make([]Period, 25)
	for i := range many {
		many[i] = Period{Start: time.Duration(i) * time.Minute, Limit: 10}
	}
	tests := []struct {
		name string
		p    Profile
		l    Limits
		want error // nil, or the specific sentinel
	}{
		{"valid", ok.P(), limits, nil},
		{"valid StationMax", stationMax(1, 8).limit(40).P(), limits, nil},
		{"valid Tx bound", txProf(1, 2, 0).limit(16).tx("17").P(), limits, nil},
		{"valid Relative", txDefault(1, 0, 0).relative().limit(16).dur(h).P(), limits, nil},
		{"valid Recurring", txDefault(1, 0, 0).recurring(RecurWeekly).limit(16).P(), limits, nil},
		{"valid 24 periods", mod(func(p *Profile) { p.Schedule.Periods = many[:24] }), limits, nil},
		{"valid W only", ok.unit(Watts).P(), Limits{MaxPeriods: 24, Units: []RateUnit{Watts}}, nil},
		{"unknown purpose", mod(func(p *Profile) { p.Purpose = 0 }), limits, ErrPurpose},
		{"unknown kind", mod(func(p *Profile) { p.Kind = 4 }), limits, ErrPurpose},
		{"unknown recurrency", mod(func(p *Profile) { p.Recurrency = 3 }), limits, ErrPurpose},
		{"negative connector", mod(func(p *Profile) { p.Connector = -1 }), limits, ErrConnector},
		{"StationMax on a connector", stationMax(1, 0).limit(40).onConnector(1).P(), limits, ErrConnector},
		{"Tx on connector 0", txProf(1, 0, 0).limit(16).P(), limits, ErrConnector},
		{"transaction on TxDefault", ok.tx("17").P(), limits, ErrTransaction},
		{"negative stack level", mod(func(p *Profile) { p.StackLevel = -1 }), limits, ErrStackLevel},
		{"stack level above max", mod(func(p *Profile) { p.StackLevel = 9 }), limits, ErrStackLevel},
		{"stack level at max", mod(func(p *Profile) { p.StackLevel = 8 }), limits, nil},
		{"Recurring without recurrency", ok.recurring(RecurNone).P(), limits, ErrRecurrence},
		{"Recurring without start", ok.recurring(RecurDaily).start(time.Time{}).P(), limits, ErrRecurrence},
		{"recurrency on Absolute", mod(func(p *Profile) { p.Recurrency = RecurDaily }), limits, ErrRecurrence},
		{"validTo before validFrom", ok.valid(t0.Add(h), t0).P(), limits, ErrValidity},
		{"validTo equal to validFrom", ok.valid(t0, t0).P(), limits, ErrValidity},
		{"validTo alone", ok.valid(time.Time{}, t0).P(), limits, nil},
		{"negative duration", ok.dur(-time.Second).P(), limits, ErrValidity},
		{"unit not allowed", ok.unit(Watts).P(), Limits{MaxPeriods: 24, Units: []RateUnit{Amperes}}, ErrUnit},
		{"unknown unit", ok.unit(0).P(), limits, ErrUnit},
		{"no period", mod(func(p *Profile) { p.Schedule.Periods = nil }), limits, ErrPeriods},
		{"too many periods", mod(func(p *Profile) { p.Schedule.Periods = many }), limits, ErrPeriods},
		{"first period not at 0", mod(func(p *Profile) { p.Schedule.Periods[0].Start = time.Second }), limits, ErrPeriods},
		{"periods not increasing", mod(func(p *Profile) { p.Schedule.Periods[1].Start = 0 }), limits, ErrPeriods},
		{"phases above 3", mod(func(p *Profile) { p.Schedule.Periods[1].Phases = 4 }), limits, ErrPeriods},
		{"negative phases", mod(func(p *Profile) { p.Schedule.Periods[1].Phases = -1 }), limits, ErrPeriods},
		{"negative limit", mod(func(p *Profile) { p.Schedule.Periods[1].Limit = -1 }), limits, ErrLimit},
		{"NaN limit", mod(func(p *Profile) { p.Schedule.Periods[0].Limit = math.NaN() }), limits, ErrLimit},
		{"infinite limit", mod(func(p *Profile) { p.Schedule.Periods[0].Limit = math.Inf(1) }), limits, ErrLimit},
		{"zero limit", mod(func(p *Profile) { p.Schedule.Periods[0].Limit = 0 }), limits, nil},
		{"negative minimum rate", ok.minRate(-0.1).P(), limits, ErrLimit},
		{"zero Limits admit nothing", ok.P(), Limits{}, ErrUnit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate(tt.l)
			switch {
			case tt.want == nil && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("error %v, want %v", err, tt.want)
			case tt.want != nil && !errors.Is(err, ErrInvalid):
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if err == nil && !tt.p.wellFormed() {
				t.Errorf("valid but not well formed")
			}
		})
	}
}

// TestValidateZeroLimits: a zero Limits refuses, whatever the first check
// that fails.
func TestValidateZeroLimits(t *testing.T) {
	p := stationMax(1, 0).limit(10).P()
	if err := p.Validate(Limits{MaxPeriods: 24}); !errors.Is(err, ErrUnit) {
		t.Errorf("no units allowed: %v", err)
	}
	if err := p.Validate(Limits{Units: []RateUnit{Amperes}}); !errors.Is(err, ErrPeriods) {
		t.Errorf("no periods allowed: %v", err)
	}
}

func TestEnumStrings(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{PurposeStationMax.String(), "StationMax"}, {PurposeTxDefault.String(), "TxDefault"}, {PurposeTx.String(), "Tx"},
		{Purpose(9).String(), "Purpose(9)"},
		{KindAbsolute.String(), "Absolute"}, {KindRecurring.String(), "Recurring"}, {KindRelative.String(), "Relative"},
		{Kind(0).String(), "Kind(0)"},
		{RecurNone.String(), ""}, {RecurDaily.String(), "Daily"}, {RecurWeekly.String(), "Weekly"},
		{Recurrency(7).String(), "Recurrency(7)"},
		{Amperes.String(), "A"}, {Watts.String(), "W"}, {RateUnit(0).String(), "RateUnit(0)"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
