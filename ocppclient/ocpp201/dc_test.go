package ocpp201

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/station"
	"periph.io/x/conn/v3/physic"
)

// dcReading is a DC meter's reading while charging at 200 A and 344 V.
func dcReading(at time.Time) meter.Reading {
	return meter.Reading{Time: at, Fields: meter.FieldEnergyImport | meter.FieldPower | meter.FieldCurrent | meter.FieldVoltage,
		Phases: 1, DC: true, EnergyImport: 2500 * meter.WattHour, Power: 68800 * physic.Watt,
		Current: [3]physic.ElectricCurrent{200 * physic.Ampere}, Voltage: [3]physic.ElectricPotential{344 * physic.Volt}}
}

// dcCharging is a DC connector's status while charging, at soc.
func dcCharging(soc int) *station.DCStatus {
	return &station.DCStatus{Step: hal.DCCharging, SoC: soc, TargetVoltage: 410 * physic.Volt, TargetCurrent: 250 * physic.Ampere,
		PresentVoltage: 344 * physic.Volt, PresentCurrent: 200 * physic.Ampere,
		OfferedCurrent: 200 * physic.Ampere, OfferedPower: 120 * physic.KiloWatt, IsolationStatus: hal.IsolationValid,
		EVMaxVoltage: 410 * physic.Volt, EVMaxCurrent: 250 * physic.Ampere}
}

func TestMeterValuesDC(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	sv := func(m Measurand, v float64, loc Location, unit string) SampledValue {
		return SampledValue{Value: v, Context: ReadingContextSamplePeriodic, Measurand: m, Location: loc, UnitOfMeasure: &UnitOfMeasure{Unit: unit}}
	}
	unknown := dcCharging(-1)
	noPower := dcCharging(50)
	noPower.OfferedPower = 0
	all := []Measurand{MeasurandSoC, MeasurandVoltage, MeasurandCurrentImport, MeasurandPowerActiveImport,
		MeasurandPowerOffered, MeasurandCurrentOffered, MeasurandEnergyActiveImportRegister}
	tests := []struct {
		name string
		dc   *station.DCStatus
		want []Measurand
		out  []SampledValue // nil: no MeterValue
	}{
		{"every DC measurand, in the configured order", dcCharging(23), all, []SampledValue{
			sv(MeasurandSoC, 23, LocationEV, "Percent"),
			sv(MeasurandVoltage, 344, LocationOutlet, "V"),
			sv(MeasurandCurrentImport, 200, LocationOutlet, "A"),
			sv(MeasurandPowerActiveImport, 68800, LocationOutlet, "W"),
			sv(MeasurandPowerOffered, 120000, LocationOutlet, "W"),
			sv(MeasurandCurrentOffered, 200, LocationOutlet, "A"),
			sv(MeasurandEnergyActiveImportRegister, 2500, LocationOutlet, "Wh"),
		}},
		{"SoC unknown is skipped", unknown, []Measurand{MeasurandSoC, MeasurandCurrentOffered},
			[]SampledValue{sv(MeasurandCurrentOffered, 200, LocationOutlet, "A")}},
		{"no power limit: no Power.Offered", noPower, []Measurand{MeasurandPowerOffered}, nil},
		{"AC sample: no DC measurands", nil, []Measurand{MeasurandSoC, MeasurandPowerOffered, MeasurandCurrentOffered}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := meterValuesDC(dcReading(at), tc.dc, at, ReadingContextSamplePeriodic, tc.want)
			if tc.out == nil {
				if got != nil {
					t.Errorf("got %+v, want none", got)
				}
				return
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0].SampledValue, tc.out) {
				t.Errorf("got  %+v\nwant %+v", got, tc.out)
			}
		})
	}
}

func TestDCStoppedReason(t *testing.T) {
	tests := []struct {
		reason  station.StopReason
		dc      station.DCReason
		want    Reason
		trigger TriggerReason
	}{
		{station.ReasonOther, station.DCEVStopped, ReasonStoppedByEV, TriggerReasonChargingStateChanged},
		{station.ReasonOther, station.DCIsolationFault, ReasonGroundFault, TriggerReasonAbnormalCondition},
		{station.ReasonOther, station.DCParameterTimeout, ReasonTimeout, TriggerReasonAbnormalCondition},
		{station.ReasonOther, station.DCCableCheckTimeout, ReasonTimeout, TriggerReasonAbnormalCondition},
		{station.ReasonOther, station.DCPreChargeTimeout, ReasonTimeout, TriggerReasonAbnormalCondition},
		{station.ReasonOther, station.DCPowerDownTimeout, ReasonTimeout, TriggerReasonAbnormalCondition},
		{station.ReasonEmergencyStop, station.DCEmergencyStop, ReasonEmergencyStop, TriggerReasonAbnormalCondition},
		{station.ReasonOther, station.DCWeldDetected, ReasonOther, TriggerReasonAbnormalCondition},
		{station.ReasonOther, station.DCContactorFailure, ReasonOther, TriggerReasonAbnormalCondition},
		{station.ReasonOther, station.DCSupplyFault, ReasonOther, TriggerReasonAbnormalCondition},
		{station.ReasonOther, station.DCVehicleLost, ReasonOther, TriggerReasonEVCommunicationLost},
		{station.ReasonOther, station.DCVehicleError, ReasonOther, TriggerReasonAbnormalCondition},
		{station.ReasonOther, station.DCOvervoltage, ReasonOther, TriggerReasonAbnormalCondition},
		// Without a DC reason the station's reason decides, as on AC.
		{station.ReasonRemote, "", ReasonRemote, TriggerReasonRemoteStop},
		{station.ReasonLocal, "", ReasonLocal, TriggerReasonStopAuthorized},
	}
	for _, tc := range tests {
		t.Run(string(tc.reason)+"/"+string(tc.dc), func(t *testing.T) {
			e := &evseState{connected: true}
			if got := txStoppedReason(tc.reason, tc.dc, e); got != tc.want {
				t.Errorf("stoppedReason %s, want %s", got, tc.want)
			}
			if !tc.want.IsValid() {
				t.Errorf("%s is no ReasonEnumType value", tc.want)
			}
			if got := dcStopTrigger(tc.reason, tc.dc); got != tc.trigger {
				t.Errorf("trigger %s, want %s", got, tc.trigger)
			}
		})
	}
}

func TestFaultDetail(t *testing.T) {
	tests := []struct {
		name     string
		in       station.StatusChange
		wantCode station.ErrorCode
		wantInfo string
		wantOK   bool
	}{
		{"isolation", station.StatusChange{Connector: 1, Status: station.Faulted, Error: station.GroundFailure, Info: "simulated insulation fault"},
			station.GroundFailure, "simulated insulation fault", true},
		{"weld", station.StatusChange{Connector: 1, Status: station.Faulted, Error: station.PowerSwitchFailure, Info: "welded"},
			station.PowerSwitchFailure, "welded", true},
		{"supply", station.StatusChange{Connector: 1, Status: station.Faulted, Error: station.InternalError, Info: "no power module online"},
			station.InternalError, "no power module online", true},
		{"emergency stop", station.StatusChange{Connector: 1, Status: station.Faulted, Error: station.OtherError, Info: "emergency stop"},
			station.OtherError, "emergency stop", true},
		{"a warning while charging", station.StatusChange{Connector: 1, Status: station.Charging, Error: station.PowerMeterFailure, Info: "meter silent"},
			station.PowerMeterFailure, "meter silent", true},
		{"healthy", station.StatusChange{Connector: 1, Status: station.Charging, Error: station.NoError}, "", "", false},
		{"healthy, no code", station.StatusChange{Connector: 1, Status: station.Available}, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, info, ok := faultDetail(tc.in)
			if code != tc.wantCode || info != tc.wantInfo || ok != tc.wantOK {
				t.Errorf("faultDetail = %q %q %v, want %q %q %v", code, info, ok, tc.wantCode, tc.wantInfo, tc.wantOK)
			}
		})
	}
}

// syncBuffer is a log sink for the test's logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A DC transaction: its Updated events carry SoC, Power.Offered and
// Current.Offered; an isolation fault makes the EVSE Faulted (the error
// code in the log) and ends the transaction with GroundFault. The rig
// checks every message against the schemas.
func TestDCTransaction(t *testing.T) {
	logs := &syncBuffer{}
	r := newRigWith(t, map[devicemodel.Ref]string{
		devicemodel.SampledDataTxUpdatedMeasurands: "Energy.Active.Import.Register,SoC,Voltage,Current.Import,Power.Active.Import,Power.Offered,Current.Offered",
		devicemodel.SampledDataTxEndedMeasurands:   "Energy.Active.Import.Register,Voltage,Current.Import",
	}, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	r.register()
	ctx := context.Background()
	now := r.clk.Now()
	r.ch.StatusChanged(station.StatusChange{Connector: 1, Status: station.Preparing, At: now})
	if err := r.ch.SessionStarted(ctx, station.SessionStart{Connector: 1, SessionID: "dc1", IDTag: "04A1B2C3", MeterStart: 2000 * meter.WattHour, At: now}); err != nil {
		t.Fatal(err)
	}
	r.ch.StatusChanged(station.StatusChange{Connector: 1, Status: station.Charging, At: now.Add(time.Second)})
	for i, soc := range []int{20, 21} {
		at := now.Add(time.Duration(i+1) * time.Minute)
		if err := r.ch.SampleTaken(ctx, station.Sample{Connector: 1, SessionID: "dc1", Context: station.ContextPeriodic, Reading: dcReading(at), At: at, DC: dcCharging(soc)}); err != nil {
			t.Fatal(err)
		}
	}
	// The station ends the session before it reports the fault's status.
	faultAt := now.Add(3 * time.Minute)
	if err := r.ch.SessionEnded(ctx, station.SessionEnd{Connector: 1, SessionID: "dc1", MeterStop: 2500 * meter.WattHour, At: faultAt,
		Reason: station.ReasonOther, DCReason: station.DCIsolationFault, End: dcReading(faultAt)}); err != nil {
		t.Fatal(err)
	}
	r.ch.StatusChanged(station.StatusChange{Connector: 1, Status: station.Faulted, Error: station.GroundFailure, Info: "simulated insulation fault", At: faultAt})
	evs := r.deliver()
	var socs []float64
	var ended *TransactionEventRequest
	for i := range evs {
		ev := &evs[i]
		for _, mv := range ev.MeterValue {
			for _, sv := range mv.SampledValue {
				if sv.Measurand == MeasurandSoC {
					if sv.Location != LocationEV || sv.UnitOfMeasure == nil || sv.UnitOfMeasure.Unit != "Percent" {
						t.Errorf("SoC %+v, want Percent at the EV", sv)
					}
					socs = append(socs, sv.Value)
				}
				if sv.Measurand == MeasurandVoltage && sv.Phase != "" {
					t.Errorf("DC voltage with phase %s", sv.Phase)
				}
			}
		}
		if ev.EventType == TransactionEventKindEnded {
			ended = ev
		}
	}
	if !reflect.DeepEqual(socs, []float64{20, 21}) {
		t.Errorf("SoC values %v, want [20 21]", socs)
	}
	if ended == nil {
		t.Fatalf("no Ended event in %+v", evs)
	}
	if ended.TransactionInfo.StoppedReason != ReasonGroundFault || ended.TriggerReason != TriggerReasonAbnormalCondition {
		t.Errorf("Ended stoppedReason %s trigger %s, want GroundFault AbnormalCondition", ended.TransactionInfo.StoppedReason, ended.TriggerReason)
	}
	// The Faulted status: the rig runs no sender goroutine, a reconnect
	// sends every EVSE's latest.
	if err := r.ch.OnConnect(ctx, r.caller); err != nil {
		t.Fatal(err)
	}
	var last StatusNotificationRequest
	for _, c := range r.caller.Calls(ActionStatusNotification) {
		var req StatusNotificationRequest
		if err := json.Unmarshal(c.payload, &req); err != nil {
			t.Fatal(err)
		}
		if req.EVSEID == 1 {
			last = req
		}
	}
	if last.ConnectorStatus != ConnectorStatusFaulted {
		t.Errorf("EVSE 1's last StatusNotification %+v, want Faulted", last)
	}
	if l := logs.String(); !strings.Contains(l, "errorCode=GroundFailure") || !strings.Contains(l, `info="simulated insulation fault"`) {
		t.Errorf("the fault's code and detail are not in the log:\n%s", l)
	}
}
