package devicemodel

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
)

func TestParseRef(t *testing.T) {
	good := []struct {
		in   string
		want Ref
	}{
		{"OCPPCommCtrlr/HeartbeatInterval", HeartbeatInterval},
		{"OCPPCommCtrlr/MessageTimeout[Default]", MessageTimeout},
		{"EVSE@2/Power", EVSEPower(2)},
		{"Connector@2.1/AvailabilityState", ConnectorAvailabilityState(2, 1)},
		{"TestCtrlr[Two]@3/Interval[x]", Ref{Component: "TestCtrlr", ComponentInstance: "Two", EVSE: 3, Variable: "Interval", VariableInstance: "x"}},
	}
	for _, tc := range good {
		got, err := ParseRef(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if s := got.String(); s != tc.in {
			t.Errorf("String of ParseRef(%q) = %q", tc.in, s)
		}
	}
	for _, in := range []string{"", "HeartbeatInterval", "/X", "C/", "C@0/X", "C@1.0/X", "C@x/X", "C[a/X", "C/X[", "C/X[]", "C[a]b/X"} {
		if r, err := ParseRef(in); err == nil {
			t.Errorf("ParseRef(%q) = %+v, want an error", in, r)
		}
	}
}

func TestRefWireForm(t *testing.T) {
	for _, r := range []Ref{HeartbeatInterval, MessageTimeout, EVSEPower(1), ConnectorProblem(2, 1)} {
		if got := RefOf(r.ComponentOf(), r.VariableOf()); got != r {
			t.Errorf("RefOf(ComponentOf(%s)) = %s", r, got)
		}
	}
	b, _ := json.Marshal(ConnectorProblem(2, 1).ComponentOf())
	if string(b) != `{"name":"Connector","evse":{"id":2,"connectorId":1}}` {
		t.Errorf("connector component JSON = %s", b)
	}
	b, _ = json.Marshal(HeartbeatInterval.ComponentOf())
	if string(b) != `{"name":"OCPPCommCtrlr"}` {
		t.Errorf("controller component JSON = %s", b)
	}
}

func TestVariableAttributeJSON(t *testing.T) {
	tests := []struct {
		a    VariableAttribute
		want string
	}{
		{VariableAttribute{Type: Actual, Value: "", Mutability: ReadOnly}, `{"type":"Actual","value":"","mutability":"ReadOnly","persistent":false,"constant":false}`},
		{VariableAttribute{Type: Actual, Value: "x", Mutability: WriteOnly, Persistent: true}, `{"type":"Actual","mutability":"WriteOnly","persistent":true,"constant":false}`},
	}
	for _, tc := range tests {
		b, err := json.Marshal(tc.a)
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", tc.a, b, err, tc.want)
		}
	}
	var back VariableAttribute
	if err := json.Unmarshal([]byte(tests[0].want), &back); err != nil || back != tests[0].a {
		t.Errorf("Unmarshal = %+v, %v", back, err)
	}
}

// TestConcurrentUse runs Sets, Updates, Gets, reports and typed reads at
// once; run with -race.
func TestConcurrentUse(t *testing.T) {
	m := openStandard(t)
	if err := m.Live(ClockDateTime, func() string { return "2026-11-25T01:02:03Z" }); err != nil {
		t.Fatal(err)
	}
	m.OnChange(func(r Ref, v string) { _ = m.String(r) })
	m.SetValidator(func(r Ref, v string) error { _ = m.Int(HeartbeatInterval); return nil })
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				switch g {
				case 0:
					m.Set(Component{Name: OCPPCommCtrlr}, Variable{Name: "HeartbeatInterval"}, "", fmt.Sprint(60+i))
				case 1:
					m.Update(EVSEAvailabilityState(1), []string{"Available", "Occupied"}[i%2])
				case 2:
					m.Report(FullInventory)
					m.Query([]string{CriterionProblem}, nil)
				case 3:
					m.Get(Component{Name: ClockCtrlr}, Variable{Name: "DateTime"}, "")
					_ = m.Seconds(HeartbeatInterval)
				}
			}
		}()
	}
	wg.Wait()
	if got := m.Int(HeartbeatInterval); got != 109 {
		t.Errorf("HeartbeatInterval = %d, want the last value set, 109", got)
	}
}
