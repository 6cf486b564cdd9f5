package localapi

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/station"
	"periph.io/x/conn/v3/physic"
)

// fakeDCSim is a simulated DC board: it takes the DC fault kinds.
type fakeDCSim struct{ fakeSim }

func (*fakeDCSim) FaultKinds() []string { return DCFaultKinds() }

func TestFaultKindsOfTheBoard(t *testing.T) {
	tests := []struct {
		name     string
		dc       bool
		kind     string
		wantCode int
	}{
		{"ac rcd", false, FaultRCD, 200},
		{"ac diode", false, FaultDiode, 200},
		{"ac isolation refused", false, FaultIsolation, 400},
		{"ac estop refused", false, FaultEmergencyStop, 400},
		{"dc isolation", true, FaultIsolation, 200},
		{"dc precharge", true, FaultPrecharge, 200},
		{"dc module", true, FaultModule, 200},
		{"dc weld", true, FaultWeld, 200},
		{"dc meter", true, FaultMeter, 200},
		{"dc estop", true, FaultEmergencyStop, 200},
		{"dc clear", true, FaultClear, 200},
		{"dc rcd refused", true, FaultRCD, 400},
		{"dc diode refused", true, FaultDiode, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStation{}
			var sim Sim = &fakeSim{st: st}
			if tt.dc {
				sim = &fakeDCSim{fakeSim{st: st}}
			}
			srv, err := New(Options{Station: st, Sim: sim, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, apiRequest(srv, "POST", "/api/v1/sim/connectors/1/fault", `{"kind":"`+tt.kind+`"}`))
			if rec.Code != tt.wantCode {
				t.Fatalf("code %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			want := []string{"fault 1 " + tt.kind}
			if tt.wantCode != 200 {
				want = nil
				if !strings.Contains(rec.Body.String(), "want one of") {
					t.Errorf("error %s does not list the kinds", rec.Body)
				}
			}
			if got := st.Calls(); !slices.Equal(got, want) {
				t.Errorf("calls %q, want %q", got, want)
			}
		})
	}
}

func TestStatusDCConnector(t *testing.T) {
	dcReading := meter.Reading{DC: true, Phases: 1,
		Fields:       meter.FieldEnergyImport | meter.FieldPower | meter.FieldCurrent | meter.FieldVoltage,
		EnergyImport: 2500 * meter.WattHour, Power: 68800 * physic.Watt,
		Current: [3]physic.ElectricCurrent{200 * physic.Ampere}, Voltage: [3]physic.ElectricPotential{344 * physic.Volt}}
	tests := []struct {
		name string
		dc   *station.DCStatus
		want map[string]any // the "dc" object; nil: absent
	}{
		{name: "charging", dc: &station.DCStatus{
			Step: hal.DCCharging, SoC: 23, TargetVoltage: 410 * physic.Volt, TargetCurrent: 250 * physic.Ampere,
			PresentVoltage: 344 * physic.Volt, PresentCurrent: 200 * physic.Ampere,
			OfferedCurrent: 200 * physic.Ampere, OfferedPower: 120 * physic.KiloWatt, Demanded: 200 * physic.Ampere,
			Isolation: 5 * physic.MegaOhm, IsolationStatus: hal.IsolationValid,
			EVMaxVoltage: 410 * physic.Volt, EVMaxCurrent: 250 * physic.Ampere,
		}, want: map[string]any{
			"step": "Charging", "soc": 23.0, "targetVoltageV": 410.0, "targetCurrentA": 250.0,
			"presentVoltageV": 344.0, "presentCurrentA": 200.0, "offeredCurrentA": 200.0, "offeredPowerW": 120000.0,
			"isolationOhm": 5e6, "isolationStatus": "Valid", "evMaxVoltageV": 410.0, "evMaxCurrentA": 250.0,
			"evMaxPowerW": 0.0, "reason": "",
		}},
		{name: "soc unknown after a fault", dc: &station.DCStatus{
			Step: hal.DCFinished, SoC: -1, IsolationStatus: hal.IsolationInvalid, Reason: station.DCIsolationFault,
		}, want: map[string]any{
			"step": "Finished", "soc": nil, "targetVoltageV": 0.0, "targetCurrentA": 0.0,
			"presentVoltageV": 0.0, "presentCurrentA": 0.0, "offeredCurrentA": 0.0, "offeredPowerW": 0.0,
			"isolationOhm": 0.0, "isolationStatus": "Invalid", "evMaxVoltageV": 0.0, "evMaxCurrentA": 0.0,
			"evMaxPowerW": 0.0, "reason": "IsolationFault",
		}},
		{name: "soc zero is known", dc: &station.DCStatus{Step: hal.DCCharging, SoC: 0, IsolationStatus: hal.IsolationWarning},
			want: map[string]any{
				"step": "Charging", "soc": 0.0, "targetVoltageV": 0.0, "targetCurrentA": 0.0,
				"presentVoltageV": 0.0, "presentCurrentA": 0.0, "offeredCurrentA": 0.0, "offeredPowerW": 0.0,
				"isolationOhm": 0.0, "isolationStatus": "Warning", "evMaxVoltageV": 0.0, "evMaxCurrentA": 0.0,
				"evMaxPowerW": 0.0, "reason": "",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStation{snap: station.Snapshot{Connectors: []station.ConnectorSnapshot{
				{ID: 1, Status: station.Charging, Pilot: hal.PilotC, Meter: dcReading, DC: tt.dc},
				{ID: 2, Status: station.Available, Pilot: hal.PilotA},
			}}}
			srv, err := New(Options{Station: st, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, apiRequest(srv, "GET", "/api/v1/status", ""))
			var got struct {
				Connectors []map[string]any `json:"connectors"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Connectors) != 2 {
				t.Fatalf("status %s: %v", rec.Body, err)
			}
			if dc := got.Connectors[0]["dc"]; !reflect.DeepEqual(dc, tt.want) {
				t.Errorf("dc =\n%v\nwant\n%v", dc, tt.want)
			}
			wantMeter := map[string]any{"energyWh": 2500.0, "powerW": 68800.0, "currentA": []any{200.0, 0.0, 0.0},
				"dc": true, "voltageV": 344.0}
			if m := got.Connectors[0]["meter"]; !reflect.DeepEqual(m, wantMeter) {
				t.Errorf("meter = %v, want %v", m, wantMeter)
			}
			// An AC connector has neither the dc object nor DC meter fields.
			if _, ok := got.Connectors[1]["dc"]; ok {
				t.Errorf("AC connector has a dc object: %v", got.Connectors[1])
			}
			m := got.Connectors[1]["meter"].(map[string]any)
			if _, ok := m["voltageV"]; ok {
				t.Errorf("AC meter has voltageV: %v", m)
			}
		})
	}
}
