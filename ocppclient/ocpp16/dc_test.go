package ocpp16

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/station"
	"periph.io/x/conn/v3/physic"
)

// dcReading is a DC meter's reading while charging at 200 A and 344 V.
var dcReading = meter.Reading{
	Time: t0, Fields: meter.FieldEnergyImport | meter.FieldPower | meter.FieldCurrent | meter.FieldVoltage,
	Phases: 1, DC: true, EnergyImport: 2500 * meter.WattHour, Power: 68800 * physic.Watt,
	Current: [3]physic.ElectricCurrent{200 * physic.Ampere}, Voltage: [3]physic.ElectricPotential{344 * physic.Volt},
}

// dcCharging is a DC connector's status while charging.
var dcCharging = station.DCStatus{
	Step: hal.DCCharging, SoC: 23, TargetVoltage: 410 * physic.Volt, TargetCurrent: 250 * physic.Ampere,
	PresentVoltage: 344 * physic.Volt, PresentCurrent: 200 * physic.Ampere,
	OfferedCurrent: 200 * physic.Ampere, OfferedPower: 120 * physic.KiloWatt,
	IsolationStatus: hal.IsolationValid, EVMaxVoltage: 410 * physic.Volt, EVMaxCurrent: 250 * physic.Ampere,
}

func TestSampledValuesDC(t *testing.T) {
	sv := func(m Measurand, v string, loc Location, u UnitOfMeasure) SampledValue {
		return SampledValue{Value: v, Context: ReadingContextSamplePeriodic, Measurand: m, Location: loc, Unit: u}
	}
	unknownSoC := dcCharging
	unknownSoC.SoC = -1
	noPowerLimit := dcCharging
	noPowerLimit.OfferedPower = 0
	all := []Measurand{MeasurandSoC, MeasurandVoltage, MeasurandCurrentImport, MeasurandPowerActiveImport,
		MeasurandPowerOffered, MeasurandCurrentOffered, MeasurandEnergyActiveImportRegister}
	tests := []struct {
		name string
		r    meter.Reading
		dc   *station.DCStatus
		want []Measurand
		out  []SampledValue
	}{
		{"every DC measurand, in the configured order", dcReading, &dcCharging, all, []SampledValue{
			sv(MeasurandSoC, "23", LocationEV, UnitOfMeasurePercent),
			sv(MeasurandVoltage, "344", LocationOutlet, UnitOfMeasureV),
			sv(MeasurandCurrentImport, "200", LocationOutlet, UnitOfMeasureA),
			sv(MeasurandPowerActiveImport, "68800", LocationOutlet, UnitOfMeasureW),
			sv(MeasurandPowerOffered, "120000", LocationOutlet, UnitOfMeasureW),
			sv(MeasurandCurrentOffered, "200", LocationOutlet, UnitOfMeasureA),
			sv(MeasurandEnergyActiveImportRegister, "2500", LocationOutlet, UnitOfMeasureWh),
		}},
		{"SoC unknown is skipped", dcReading, &unknownSoC, []Measurand{MeasurandSoC, MeasurandCurrentOffered},
			[]SampledValue{sv(MeasurandCurrentOffered, "200", LocationOutlet, UnitOfMeasureA)}},
		{"SoC 0 is sent", dcReading, &station.DCStatus{SoC: 0}, []Measurand{MeasurandSoC},
			[]SampledValue{sv(MeasurandSoC, "0", LocationEV, UnitOfMeasurePercent)}},
		{"no power limit: no Power.Offered", dcReading, &noPowerLimit, []Measurand{MeasurandPowerOffered}, nil},
		{"offered current zero is sent", dcReading, &station.DCStatus{SoC: -1}, []Measurand{MeasurandCurrentOffered},
			[]SampledValue{sv(MeasurandCurrentOffered, "0", LocationOutlet, UnitOfMeasureA)}},
		{"AC sample: no DC measurands", dcReading, nil, []Measurand{MeasurandSoC, MeasurandPowerOffered, MeasurandCurrentOffered}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sampledValuesDC(tc.r, tc.dc, ReadingContextSamplePeriodic, tc.want)
			if !reflect.DeepEqual(got, tc.out) {
				t.Errorf("got  %+v\nwant %+v", got, tc.out)
			}
			for _, v := range got {
				if err := Validate(&v); err != nil {
					t.Errorf("%+v breaks the schema: %v", v, err)
				}
			}
		})
	}
}

func TestConfigAcceptsDCMeasurands(t *testing.T) {
	r := newRig(t, nil)
	for _, key := range []string{KeyMeterValuesSampledData, KeyMeterValuesAlignedData, KeyStopTxnSampledData, KeyStopTxnAlignedData} {
		v := "Energy.Active.Import.Register,SoC,Power.Offered,Current.Offered"
		if st := r.cfg.Set(key, v); st != ConfigurationStatusAccepted {
			t.Errorf("%s = %s: %s, want Accepted", key, v, st)
		}
	}
	// Measurands evsed never samples are still refused.
	if st := r.cfg.Set(KeyMeterValuesSampledData, "SoC,Temperature"); st != ConfigurationStatusRejected {
		t.Errorf("SoC,Temperature: %s, want Rejected", st)
	}
}

// The DC faults the station raises keep their 1.6 error codes and details
// in StatusNotification.
func TestStatusRequestDCFaults(t *testing.T) {
	tests := []struct {
		name string
		in   station.StatusChange
		want StatusNotificationRequest
	}{
		{"isolation", station.StatusChange{Connector: 1, Status: station.Faulted, Error: station.GroundFailure, Info: "simulated insulation fault"},
			StatusNotificationRequest{ConnectorID: 1, Status: "Faulted", ErrorCode: "GroundFailure", Info: "simulated insulation fault"}},
		{"welded contactor", station.StatusChange{Connector: 1, Status: station.Faulted, Error: station.PowerSwitchFailure, Info: "welding check: contactor feedback closed after opening"},
			StatusNotificationRequest{ConnectorID: 1, Status: "Faulted", ErrorCode: "PowerSwitchFailure", Info: "welding check: contactor feedback closed after ope"}},
		{"contactor failed to close", station.StatusChange{Connector: 1, Status: station.Faulted, Error: station.PowerSwitchFailure, Info: "close: stuck"},
			StatusNotificationRequest{ConnectorID: 1, Status: "Faulted", ErrorCode: "PowerSwitchFailure", Info: "close: stuck"}},
		{"supply", station.StatusChange{Connector: 1, Status: station.Faulted, Error: station.InternalError, Info: "no power module online"},
			StatusNotificationRequest{ConnectorID: 1, Status: "Faulted", ErrorCode: "InternalError", Info: "no power module online"}},
		{"emergency stop", station.StatusChange{Connector: 1, Status: station.Faulted, Error: station.OtherError, Info: "emergency stop"},
			StatusNotificationRequest{ConnectorID: 1, Status: "Faulted", ErrorCode: "OtherError", Info: "emergency stop"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := statusRequest(tc.in)
			if *got != tc.want {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("invalid: %v", err)
			}
		})
	}
}

// A DC session's end: the emergency stop button is EmergencyStop, every
// other reason of the DC sequence Other, and the transaction data carry
// the end reading's DC values.
func TestStopTransactionDCReasons(t *testing.T) {
	tests := []struct {
		reason station.StopReason
		dc     station.DCReason
		want   Reason
	}{
		{station.ReasonEmergencyStop, station.DCEmergencyStop, ReasonEmergencyStop},
		{station.ReasonOther, station.DCIsolationFault, ReasonOther},
		{station.ReasonOther, station.DCWeldDetected, ReasonOther},
		{station.ReasonOther, station.DCEVStopped, ReasonOther},
		{station.ReasonOther, station.DCPreChargeTimeout, ReasonOther},
		{station.ReasonLocal, "", ReasonLocal},
	}
	for _, tc := range tests {
		t.Run(string(tc.dc)+"/"+string(tc.reason), func(t *testing.T) {
			r := newRig(t, map[string]string{KeyStopTxnSampledData: "Energy.Active.Import.Register,Voltage,Current.Import"})
			err := r.c.SessionEnded(context.Background(), station.SessionEnd{Connector: 1, SessionID: "dc1", MeterStop: dcReading.EnergyImport,
				At: t0.Add(time.Hour), Reason: tc.reason, DCReason: tc.dc, Begin: dcReading, End: dcReading})
			if err != nil {
				t.Fatal(err)
			}
			entries, err := r.queue.Entries()
			if err != nil || len(entries) != 1 || entries[0].Action != ActionStopTransaction {
				t.Fatalf("queued %+v, %v; want one StopTransaction", entries, err)
			}
			var req StopTransactionRequest
			if err := json.Unmarshal(entries[0].Payload, &req); err != nil {
				t.Fatal(err)
			}
			if req.Reason != tc.want {
				t.Errorf("reason %s, want %s", req.Reason, tc.want)
			}
			if len(req.TransactionData) != 2 {
				t.Fatalf("transaction data %+v, want begin and end", req.TransactionData)
			}
			for _, sv := range req.TransactionData[1].SampledValue {
				if sv.Phase != "" {
					t.Errorf("DC %s with phase %s", sv.Measurand, sv.Phase)
				}
			}
		})
	}
}

// A DC session's samples through the queue: the MeterValues of each
// context carry SoC, Power.Offered and Current.Offered.
func TestMeterValuesDCSample(t *testing.T) {
	r := newRig(t, map[string]string{KeyMeterValuesSampledData: "SoC,Power.Offered,Current.Offered,Voltage"})
	ctx := context.Background()
	contexts := []station.SampleContext{station.ContextTransactionBegin, station.ContextPeriodic, station.ContextTransactionEnd}
	for i, sc := range contexts {
		dc := dcCharging
		dc.SoC += i
		if err := r.c.SampleTaken(ctx, station.Sample{Connector: 1, SessionID: "dc1", Context: sc, Reading: dcReading, At: t0, DC: &dc}); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := r.queue.Entries()
	if err != nil || len(entries) != len(contexts) {
		t.Fatalf("queued %d, %v; want %d MeterValues", len(entries), err, len(contexts))
	}
	for i, e := range entries {
		var mv MeterValuesRequest
		if err := json.Unmarshal(e.Payload, &mv); err != nil {
			t.Fatal(err)
		}
		got := map[Measurand]SampledValue{}
		for _, sv := range mv.MeterValue[0].SampledValue {
			got[sv.Measurand] = sv
			if string(sv.Context) != string(contexts[i]) {
				t.Errorf("%s in context %s, want %s", sv.Measurand, sv.Context, contexts[i])
			}
		}
		if soc := got[MeasurandSoC]; soc.Value != []string{"23", "24", "25"}[i] || soc.Location != LocationEV || soc.Unit != UnitOfMeasurePercent {
			t.Errorf("sample %d SoC %+v", i, soc)
		}
		if v := got[MeasurandPowerOffered]; v.Value != "120000" || v.Unit != UnitOfMeasureW {
			t.Errorf("sample %d Power.Offered %+v", i, v)
		}
		if v := got[MeasurandCurrentOffered]; v.Value != "200" || v.Unit != UnitOfMeasureA {
			t.Errorf("sample %d Current.Offered %+v", i, v)
		}
		if v := got[MeasurandVoltage]; v.Value != "344" || v.Phase != "" {
			t.Errorf("sample %d Voltage %+v, want 344 without a phase", i, v)
		}
	}
}
