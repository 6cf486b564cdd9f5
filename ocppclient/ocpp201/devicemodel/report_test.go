package devicemodel

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// names returns the report's variables as Ref strings, attribute types
// other than Actual appended.
func names(rd []ReportData) []string {
	var out []string
	for _, d := range rd {
		s := RefOf(d.Component, d.Variable).String()
		for _, a := range d.VariableAttribute[1:] {
			s += "+" + string(a.Type)
		}
		out = append(out, s)
	}
	return out
}

// openStandard opens the standard table of a two-EVSE station.
func openStandard(t *testing.T) *Model {
	t.Helper()
	db, _ := openDB(t)
	m, err := Open(db, bucket, Standard(Shape{EVSEs: 2, VendorName: "evsed", Model: "sim-2", Identity: "CS-1"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReportBases(t *testing.T) {
	m := openStandard(t)
	if err := m.Update(EVSEProblem(2), "true"); err != nil {
		t.Fatal(err)
	}
	if err := m.Update(ConnectorAvailabilityState(2, 1), "Faulted"); err != nil {
		t.Fatal(err)
	}
	full, err := m.Report(FullInventory)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != len(Standard(Shape{EVSEs: 2})) {
		t.Errorf("FullInventory has %d variables, the table %d", len(full), len(Standard(Shape{EVSEs: 2})))
	}
	for i, d := range m.Definitions() {
		if got := RefOf(full[i].Component, full[i].Variable); got != RefOf(d.Component, d.Variable) {
			t.Fatalf("FullInventory[%d] = %s, want table order (%s)", i, got, RefOf(d.Component, d.Variable))
		}
	}

	cfg, err := m.Report(ConfigurationInventory)
	if err != nil {
		t.Fatal(err)
	}
	got := names(cfg)
	for _, want := range []string{"OCPPCommCtrlr/HeartbeatInterval", "SecurityCtrlr/BasicAuthPassword", "TxCtrlr/TxStartPoint"} {
		if !slices.Contains(got, want) {
			t.Errorf("ConfigurationInventory lacks %s", want)
		}
	}
	for _, d := range cfg {
		writable := false
		for _, a := range d.VariableAttribute {
			writable = writable || a.Mutability != ReadOnly
		}
		if !writable {
			t.Errorf("ConfigurationInventory lists read-only %s", RefOf(d.Component, d.Variable))
		}
	}

	sum, err := m.Report(SummaryInventory)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ChargingStation/AvailabilityState",
		"EVSE@1/AvailabilityState", "Connector@1.1/AvailabilityState",
		"EVSE@2/AvailabilityState", "EVSE@2/Problem", "Connector@2.1/AvailabilityState",
	}
	if !slices.Equal(names(sum), want) {
		t.Errorf("SummaryInventory = %q, want %q", names(sum), want)
	}
	if v := sum[5].VariableAttribute[0].Value; v != "Faulted" {
		t.Errorf("connector 2 AvailabilityState in the summary = %q", v)
	}

	if _, err := m.Report("EverythingInventory"); !errors.Is(err, ErrUnknownReportBase) {
		t.Errorf("unknown base: %v, want ErrUnknownReportBase", err)
	}
}

func TestReportAttributes(t *testing.T) {
	db, _ := openDB(t)
	m := openTest(t, db, nil)
	m.Set(ctl, Variable{Name: "Secret"}, "", "0123456789abcdef")
	rd := m.Query(nil, []ComponentVariable{
		{Component: ctl, Variable: &Variable{Name: "Secret"}},
		{Component: ctl, Variable: &Variable{Name: "Limit"}},
		{Component: ctl, Variable: &Variable{Name: "Name"}},
	})
	if len(rd) != 3 {
		t.Fatalf("got %q", names(rd))
	}
	b, err := json.Marshal(rd)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`"variable":{"name":"Limit"},"variableAttribute":[{"type":"Actual","value":"10","mutability":"ReadWrite","persistent":true,"constant":false},{"type":"MinSet","value":"5"`,
		`"variableAttribute":[{"type":"Actual","mutability":"WriteOnly","persistent":true,"constant":false}]`, // no value
		`{"type":"Actual","value":"","mutability":"ReadWrite"`,                                                // empty value sent as ""
		`"variableCharacteristics":{"dataType":"integer","minLimit":0,"maxLimit":100,"supportsMonitoring":false}`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("report JSON lacks %s\n%s", want, s)
		}
	}
	if strings.Contains(s, "0123456789abcdef") {
		t.Error("report carries the write-only value")
	}
}

func TestQuery(t *testing.T) {
	m := openStandard(t)
	if err := m.Update(ConnectorProblem(1, 1), "true"); err != nil {
		t.Fatal(err)
	}
	m.Set(Component{Name: SmartChargingCtrlr}, Variable{Name: "Enabled"}, "", "false")
	v := func(name, inst string) *Variable { return &Variable{Name: name, Instance: inst} }
	evse := func(id int, conn *int) *EVSE { return &EVSE{ID: id, ConnectorID: conn} }
	tests := []struct {
		name     string
		criteria []string
		cvs      []ComponentVariable
		want     []string // nil: compare count only with wantN
		wantN    int
	}{
		{"component only", nil, []ComponentVariable{{Component: Component{Name: "ReservationCtrlr"}}},
			[]string{"ReservationCtrlr/Available", "ReservationCtrlr/Enabled", "ReservationCtrlr/NonEvseSpecific"}, 0},
		{"component and variable, any case", nil, []ComponentVariable{{Component: Component{Name: "ocppcommctrlr"}, Variable: v("heartbeatinterval", "")}},
			[]string{"OCPPCommCtrlr/HeartbeatInterval"}, 0},
		{"variable without instance names every instance", nil, []ComponentVariable{{Component: Component{Name: "DeviceDataCtrlr"}, Variable: v("ItemsPerMessage", "")}},
			[]string{"DeviceDataCtrlr/ItemsPerMessage[GetReport]", "DeviceDataCtrlr/ItemsPerMessage[GetVariables]", "DeviceDataCtrlr/ItemsPerMessage[SetVariables]"}, 0},
		{"variable instance", nil, []ComponentVariable{{Component: Component{Name: "DeviceDataCtrlr"}, Variable: v("ItemsPerMessage", "GetVariables")}},
			[]string{"DeviceDataCtrlr/ItemsPerMessage[GetVariables]"}, 0},
		{"component without EVSE names it on every EVSE", nil, []ComponentVariable{{Component: Component{Name: "EVSE"}, Variable: v("Power", "")}},
			[]string{"EVSE@1/Power", "EVSE@2/Power"}, 0},
		{"EVSE given", nil, []ComponentVariable{{Component: Component{Name: "EVSE", EVSE: evse(2, nil)}, Variable: v("Power", "")}},
			[]string{"EVSE@2/Power"}, 0},
		{"connector given", nil, []ComponentVariable{{Component: Component{Name: "Connector", EVSE: evse(2, &one)}, Variable: v("ConnectorType", "")}},
			[]string{"Connector@2.1/ConnectorType"}, 0},
		{"EVSE without connectorId names no connector", nil, []ComponentVariable{{Component: Component{Name: "Connector", EVSE: evse(2, nil)}}}, []string{}, 0},
		{"unknown component", nil, []ComponentVariable{{Component: Component{Name: "NoCtrlr"}}}, []string{}, 0},
		{"component instance must match", nil, []ComponentVariable{{Component: Component{Name: "TxCtrlr", Instance: "X"}}}, []string{}, 0},
		{"several filters, table order, once each", nil, []ComponentVariable{
			{Component: Component{Name: "TxCtrlr"}, Variable: v("TxStopPoint", "")},
			{Component: Component{Name: "OCPPCommCtrlr"}, Variable: v("ResetRetries", "")},
			{Component: Component{Name: "TxCtrlr"}, Variable: v("TxStopPoint", "")},
		}, []string{"OCPPCommCtrlr/ResetRetries", "TxCtrlr/TxStopPoint"}, 0},
		{"Problem", []string{CriterionProblem}, nil, []string{
			"Connector@1.1/AvailabilityState", "Connector@1.1/Available", "Connector@1.1/ConnectorType",
			"Connector@1.1/Problem", "Connector@1.1/SupplyPhases",
		}, 0},
		{"Problem and a filter", []string{CriterionProblem}, []ComponentVariable{{Component: Component{Name: "Connector"}, Variable: v("Problem", "")}},
			[]string{"Connector@1.1/Problem"}, 0},
		{"Enabled: a disabled controller is left out", []string{CriterionEnabled}, []ComponentVariable{{Component: Component{Name: "SmartChargingCtrlr"}}, {Component: Component{Name: "ReservationCtrlr"}, Variable: v("Enabled", "")}},
			[]string{"ReservationCtrlr/Enabled"}, 0},
		{"Enabled is met without an Enabled variable", []string{CriterionEnabled}, []ComponentVariable{{Component: Component{Name: "TxCtrlr"}, Variable: v("TxStartPoint", "")}},
			[]string{"TxCtrlr/TxStartPoint"}, 0},
		{"criteria are alternatives", []string{CriterionProblem, CriterionEnabled}, []ComponentVariable{{Component: Component{Name: "SmartChargingCtrlr"}, Variable: v("Enabled", "")}, {Component: Component{Name: "Connector"}, Variable: v("Problem", "")}},
			// Connector 2 has no Enabled variable, so it is enabled.
			[]string{"Connector@1.1/Problem", "Connector@2.1/Problem"}, 0},
		{"unknown criterion", []string{"Happy"}, nil, []string{}, 0},
		{"Available", []string{CriterionAvailable}, nil, nil, len(Standard(Shape{EVSEs: 2}))},
		{"no filter at all", nil, nil, nil, len(Standard(Shape{EVSEs: 2}))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := m.Query(tc.criteria, tc.cvs)
			if tc.want == nil {
				if len(got) != tc.wantN {
					t.Errorf("%d variables, want %d", len(got), tc.wantN)
				}
				return
			}
			if n := names(got); !slices.Equal(n, tc.want) && (len(n) != 0 || len(tc.want) != 0) {
				t.Errorf("Query = %q, want %q", n, tc.want)
			}
		})
	}
}
