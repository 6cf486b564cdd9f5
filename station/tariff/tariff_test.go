package tariff

import (
	"testing"
	"time"
	_ "time/tzdata" // the DST cases need Europe/Berlin on any host

	"github.com/evsed/evsed/meter"
	"pgregory.net/rapid"
)

// step is one input of a scenario: at offset from the start, the register
// reads energy (kWh) and, when state is set, the session changes state.
type step struct {
	at     time.Duration
	energy float64
	state  State
}

func kWh(f float64) meter.Energy { return meter.Energy(f * float64(meter.KiloWattHour)) }

func money(f float64) Money { return FromFloat(f) }

func TestSessionCost(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	night := Conditions{From: Clock(22, 0), To: Clock(6, 0)}
	day := Conditions{From: Clock(6, 0), To: Clock(22, 0)}
	dayNight := Tariff{Energy: []Price{{money(0.20), night}, {money(0.40), Conditions{}}}}
	utc21 := time.Date(2026, 3, 2, 21, 0, 0, 0, time.UTC) // a Monday
	tests := []struct {
		name   string
		tariff Tariff
		loc    *time.Location
		start  time.Time
		steps  []step
		want   Money // Total
		check  func(t *testing.T, c Cost)
	}{
		{"energy only", Tariff{Energy: []Price{{Amount: money(0.30)}}}, nil, utc21,
			[]step{{at: time.Hour, energy: 10}}, money(3.00), nil},
		{"charging time 90 min", Tariff{ChargingTime: []Price{{Amount: money(2)}}}, nil, utc21,
			[]step{{at: 90 * time.Minute}}, money(3.00), nil},
		{"flat fee once", Simple("EUR", 0, 0, money(1), 0, 0), nil, utc21,
			[]step{{at: time.Hour, energy: 5}, {at: 2 * time.Hour, energy: 9}}, money(1), nil},
		{"simple 1.6 price", Simple("USD", money(0.25), money(1.5), money(0.5), 0, 0), nil, utc21,
			[]step{{at: 2 * time.Hour, energy: 12}}, money(0.5 + 3 + 3), nil},
		{"time of day split within one sample", dayNight, nil, utc21,
			[]step{{at: 2 * time.Hour, energy: 20}}, money(10*0.40 + 10*0.20), nil},
		{"sample exactly at the boundary", dayNight, nil, utc21,
			[]step{{at: time.Hour, energy: 10}, {at: 2 * time.Hour, energy: 20}}, money(10*0.40 + 10*0.20), nil},
		{"just before the boundary", dayNight, nil, utc21,
			[]step{{at: time.Hour - time.Second, energy: 10}}, money(4.00), nil},
		{"night wraps midnight into the morning", dayNight, nil, time.Date(2026, 3, 3, 5, 0, 0, 0, time.UTC),
			[]step{{at: time.Hour, energy: 1}, {at: 2 * time.Hour, energy: 2}}, money(0.20 + 0.40), nil},
		{"min cost raises", Tariff{Energy: []Price{{Amount: money(0.30)}}, MinCost: money(1)}, nil, utc21,
			[]step{{at: time.Hour, energy: 0.5}}, money(1), func(t *testing.T, c Cost) {
				if c.Energy != money(0.15) {
					t.Errorf("energy part %v, want 0.15", c.Energy)
				}
			}},
		{"max cost caps", Tariff{Energy: []Price{{Amount: money(0.50)}}, MaxCost: money(5)}, nil, utc21,
			[]step{{at: time.Hour, energy: 30}}, money(5), nil},
		{"idle after grace", Simple("EUR", 0, 0, 0, money(1), 30*time.Minute), nil, utc21,
			[]step{{at: time.Hour, state: Idle}, {at: 3 * time.Hour}}, money(1.5), func(t *testing.T, c Cost) {
				if c.IdleFor != 90*time.Minute {
					t.Errorf("idle for %v, want 1h30m", c.IdleFor)
				}
			}},
		{"idle grace restarts with each stretch", Simple("EUR", 0, 0, 0, money(1), 30*time.Minute), nil, utc21,
			[]step{{state: Idle}, {at: time.Hour, state: Charging}, {at: 2 * time.Hour, state: Idle}, {at: 3 * time.Hour}}, money(1), nil},
		{"weekend price", Tariff{Energy: []Price{
			{money(0.10), Conditions{Days: []time.Weekday{time.Saturday, time.Sunday}}}, {Amount: money(0.30)}}}, nil,
			time.Date(2026, 3, 7, 23, 0, 0, 0, time.UTC),                            // Saturday 23:00
			[]step{{at: 2 * time.Hour, energy: 2}, {at: 26 * time.Hour, energy: 4}}, // to Monday 01:00
			money(0.20 + 2*23.0/24*0.10 + 2*1.0/24*0.30), nil},                      // Sunday to 24:00, then Monday
		{"DST spring forward: 5 hours from 00:00 to 06:00", Tariff{ChargingTime: []Price{{Amount: money(1)}}}, berlin,
			time.Date(2026, 3, 29, 0, 0, 0, 0, berlin),
			[]step{{at: 5 * time.Hour}}, money(5), nil},
		{"DST spring forward: day price from 06:00 wall clock", Tariff{ChargingTime: []Price{
			{money(1), night}, {money(2), day}}}, berlin,
			time.Date(2026, 3, 29, 0, 0, 0, 0, berlin),
			[]step{{at: 7 * time.Hour}}, money(5*1 + 2*2), nil},
		{"DST fall back: 7 hours from 00:00 to 06:00", Tariff{ChargingTime: []Price{{money(1), night}, {money(2), day}}}, berlin,
			time.Date(2026, 10, 25, 0, 0, 0, 0, berlin),
			[]step{{at: 8 * time.Hour}}, money(7*1 + 2*1), nil},
		{"tax added", Tariff{Energy: []Price{{Amount: money(1)}}, TaxRate: 1900}, nil, utc21,
			[]step{{at: time.Hour, energy: 10}}, money(10), func(t *testing.T, c Cost) {
				if c.TotalWithTax != money(11.9) {
					t.Errorf("with tax %v, want 11.90", c.TotalWithTax)
				}
			}},
		{"register going back adds nothing", Tariff{Energy: []Price{{Amount: money(1)}}}, nil, utc21,
			[]step{{at: time.Hour, energy: 2}, {at: 2 * time.Hour, energy: 1}, {at: 3 * time.Hour, energy: 2}}, money(3), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.tariff.Validate(); err != nil {
				t.Fatal(err)
			}
			s := NewSession(tc.tariff, tc.loc, tc.start, 0, Charging)
			for _, st := range tc.steps {
				at := tc.start.Add(st.at)
				s.Update(at, kWh(st.energy))
				if st.state != 0 {
					s.SetState(at, st.state)
				}
			}
			c := s.Cost()
			// A millionth of rounding per part is the engine's promise.
			if d := c.Total - tc.want; d < -4 || d > 4 {
				t.Errorf("total %d (%v), want %d (%v); cost %+v", c.Total, c.Total, tc.want, tc.want, c)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		t    Tariff
		ok   bool
	}{
		{"zero is free", Tariff{}, true},
		{"negative energy", Tariff{Energy: []Price{{Amount: -1}}}, false},
		{"negative min", Tariff{MinCost: -1}, false},
		{"max below min", Tariff{MinCost: 5, MaxCost: 4}, false},
		{"max without min", Tariff{MaxCost: 4}, true},
		{"time of day past midnight", Tariff{Energy: []Price{{Amount: 1, Conditions: Conditions{To: Clock(25, 0)}}}}, false},
	}
	for _, tc := range tests {
		if err := tc.t.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestMoneyFormat(t *testing.T) {
	tests := []struct {
		m    Money
		dec  int
		want string
	}{
		{3_319_999, 2, "3.31"}, {0, 2, "0.00"}, {Unit, 0, "1"}, {-1_500_000, 1, "-1.5"}, {123, 6, "0.000123"},
	}
	for _, tc := range tests {
		if got := tc.m.Format(tc.dec); got != tc.want {
			t.Errorf("Money(%d).Format(%d) = %q, want %q", tc.m, tc.dec, got, tc.want)
		}
	}
	if FromFloat(0.1+0.2) != 300_000 {
		t.Errorf("FromFloat(0.1+0.2) = %d", FromFloat(0.1+0.2))
	}
}

// The cost never decreases as energy and time grow, and the total is always
// the sum of its parts within the bounds.
func TestCostProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		price := func(label string) Money { return Money(rapid.Int64Range(0, 2*int64(Unit)).Draw(t, label)) }
		tod := func(label string) TimeOfDay { return Clock(rapid.IntRange(0, 23).Draw(t, label), 0) }
		tr := Tariff{
			Energy:       []Price{{price("e1"), Conditions{From: tod("ef"), To: tod("et")}}, {Amount: price("e2")}},
			ChargingTime: []Price{{price("c1"), Conditions{From: tod("cf"), To: tod("ct")}}, {Amount: price("c2")}},
			IdleTime:     []Price{{Amount: price("i")}},
			IdleGrace:    time.Duration(rapid.IntRange(0, 60).Draw(t, "grace")) * time.Minute,
			FixedFee:     []Price{{Amount: price("f")}},
			MinCost:      price("min"),
		}
		if rapid.Bool().Draw(t, "capped") {
			tr.MaxCost = tr.MinCost + price("max")
		}
		locs := []*time.Location{time.UTC, time.FixedZone("X", 5*3600+1800)}
		loc := locs[rapid.IntRange(0, 1).Draw(t, "loc")]
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rapid.Int64Range(0, 365*24*3600).Draw(t, "start")) * time.Second)
		e := meter.Energy(rapid.Int64Range(0, 1e9).Draw(t, "register"))
		s := NewSession(tr, loc, at, e, Charging)
		prev := s.Cost()
		for i := range rapid.IntRange(1, 40).Draw(t, "steps") {
			_ = i
			at = at.Add(time.Duration(rapid.Int64Range(0, 6*3600).Draw(t, "dt")) * time.Second)
			e += meter.Energy(rapid.Int64Range(0, 20_000_000).Draw(t, "dE"))
			if rapid.IntRange(0, 4).Draw(t, "toggle") == 0 {
				s.SetState(at, State(rapid.IntRange(1, 2).Draw(t, "state")))
			} else {
				s.Update(at, e)
			}
			c := s.Cost()
			sum := c.Energy + c.ChargingTime + c.IdleTime + c.Fixed
			want := max(sum, tr.MinCost)
			if tr.MaxCost > 0 {
				want = min(want, tr.MaxCost)
			}
			if c.Total != want {
				t.Fatalf("total %d is not the bounded sum %d of its parts %+v", c.Total, want, c)
			}
			if c.Total < prev.Total || c.Energy < prev.Energy || c.ChargingTime < prev.ChargingTime ||
				c.IdleTime < prev.IdleTime || c.Delivered < prev.Delivered {
				t.Fatalf("cost went down: %+v then %+v", prev, c)
			}
			prev = c
		}
	})
}

// BenchmarkUpdate is one cost update per meter sample (1 s apart) with a
// time-of-day tariff.
func BenchmarkUpdate(b *testing.B) {
	tr := Tariff{
		Energy:       []Price{{money(0.20), Conditions{From: Clock(22, 0), To: Clock(6, 0)}}, {Amount: money(0.40)}},
		ChargingTime: []Price{{Amount: money(1)}},
	}
	at := time.Date(2026, 3, 2, 21, 0, 0, 0, time.UTC)
	s := NewSession(tr, time.UTC, at, 0, Charging)
	var e meter.Energy
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(time.Second)
		e += 3 * meter.WattHour
		s.Update(at, e)
	}
	if s.Cost().Total <= 0 {
		b.Fatal("no cost")
	}
}
