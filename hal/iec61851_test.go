package hal

import (
	"testing"

	"periph.io/x/conn/v3/physic"
)

func TestDutyFor(t *testing.T) {
	cases := []struct {
		name  string
		a     physic.ElectricCurrent
		want  DutyPerMille
		noPWM bool
	}{
		{"zero is no PWM", 0, 0, true},
		{"just under 6 A is no PWM", 5999 * physic.MilliAmpere, 0, true},
		{"6 A is 10%", 6 * physic.Ampere, 100, false},
		{"10 A is 16.6%", 10 * physic.Ampere, 166, false},
		{"16 A is 26.6%", 16 * physic.Ampere, 266, false},
		{"32 A is 53.3%", 32 * physic.Ampere, 533, false},
		{"51 A is 85%", 51 * physic.Ampere, 850, false},
		{"just over 51 A uses the high range", 52 * physic.Ampere, 848, false},
		{"63 A is 89.2%", 63 * physic.Ampere, 892, false},
		{"80 A is 96%", 80 * physic.Ampere, 960, false},
		{"above 80 A is clamped", 100 * physic.Ampere, 960, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := DutyFor(c.a)
			if ok == c.noPWM {
				t.Fatalf("DutyFor(%v) ok=%v, want %v", c.a, ok, !c.noPWM)
			}
			if got != c.want {
				t.Fatalf("DutyFor(%v) = %v, want %v", c.a, got, c.want)
			}
		})
	}
}

func TestCurrentForInvertsDutyFor(t *testing.T) {
	for a := 6 * physic.Ampere; a <= 80*physic.Ampere; a += physic.Ampere {
		d, _ := DutyFor(a)
		back, ok := CurrentFor(d)
		if !ok {
			t.Fatalf("CurrentFor(%v) not ok (from %v)", d, a)
		}
		// Duty resolution is 0.1 %: 60 mA in the low range, 250 mA in the high
		// one. Just above 51 A the high-range formula yields duties below 85 %,
		// which a vehicle reads with the low-range formula (52 A -> 84.8 % ->
		// 50.88 A): the offer is never more than asked, at most 1.2 A less.
		limit := 250 * physic.MilliAmpere
		if a > 51*physic.Ampere && a < 54*physic.Ampere {
			limit = 1200 * physic.MilliAmpere
		}
		if diff := a - back; diff < 0 || diff > limit {
			t.Fatalf("round trip %v -> %v -> %v", a, d, back)
		}
	}
	for _, d := range []DutyPerMille{0, 79, 971, 1000} {
		if _, ok := CurrentFor(d); ok {
			t.Errorf("CurrentFor(%v) ok, want not assigned", d)
		}
	}
}

func TestStateForVoltageBoundaries(t *testing.T) {
	mv := physic.MilliVolt
	cases := []struct {
		v    physic.ElectricPotential
		want PilotState
	}{
		{12000 * mv, PilotA}, {13100 * mv, PilotA}, {10900 * mv, PilotA}, {13101 * mv, PilotUnknown},
		{10899 * mv, PilotUnknown}, {10100 * mv, PilotB}, {10101 * mv, PilotUnknown}, {9000 * mv, PilotB}, {7900 * mv, PilotB},
		{7899 * mv, PilotUnknown}, {7100 * mv, PilotC}, {6000 * mv, PilotC}, {4900 * mv, PilotC},
		{4899 * mv, PilotUnknown}, {4100 * mv, PilotD}, {3000 * mv, PilotD}, {1900 * mv, PilotD}, {1899 * mv, PilotUnknown},
		{1100 * mv, PilotE}, {0, PilotE}, {-1100 * mv, PilotE}, {-1101 * mv, PilotUnknown},
		{-10900 * mv, PilotF}, {-13100 * mv, PilotF}, {-13101 * mv, PilotUnknown}, {-6000 * mv, PilotUnknown},
	}
	for _, c := range cases {
		if got := StateForVoltage(c.v); got != c.want {
			t.Errorf("StateForVoltage(%v) = %v, want %v", c.v, got, c.want)
		}
	}
}

func TestNominalVoltageIsInItsBand(t *testing.T) {
	for s := PilotA; s <= PilotF; s++ {
		v, ok := NominalVoltage(s)
		if !ok || StateForVoltage(v) != s {
			t.Errorf("NominalVoltage(%v) = %v, %v; maps back to %v", s, v, ok, StateForVoltage(v))
		}
		if p, err := ParsePilotState(s.String()); err != nil || p != s {
			t.Errorf("ParsePilotState(%q) = %v, %v", s.String(), p, err)
		}
	}
}

func TestDiodeOK(t *testing.T) {
	mv := physic.MilliVolt
	for v, want := range map[physic.ElectricPotential]bool{
		-12000 * mv: true, -10900 * mv: true, -13100 * mv: true, -10899 * mv: false, 0: false, 12000 * mv: false,
	} {
		if DiodeOK(v) != want {
			t.Errorf("DiodeOK(%v) = %v, want %v", v, !want, want)
		}
	}
}
