package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/availability"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/transactions"
	types201 "github.com/lorenzodonini/ocpp-go/ocpp2.0.1/types"

	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/ocppclient/ocpptest"
	"github.com/evsed/evsed/ocppclient/ocpptest/csms201"
)

// DC charging end to end: the real binary on the simulated DC charger
// (board sim-dc) charges the simulated EV from 20 % while the CSMS sees
// the SoC rise in the meter values, until an isolation fault opens the
// contactors, faults the connector and ends the transaction.

// dcSoCWait bounds the wait for the SoC to rise by one percent: the sim-dc
// EV's 60 kWh battery takes 600 Wh for it, about 31 s at the board's
// 200 A and 345 V, after the cable check and the precharge.
const dcSoCWait = 90 * time.Second

// dcMeasurands are the measurands a DC scenario samples.
const dcMeasurands = "Energy.Active.Import.Register,SoC,Voltage,Current.Import,Power.Active.Import,Power.Offered,Current.Offered"

// dcCharge plugs the EV into connector 1 of a sim-dc agent, swipes a card
// and lets the EV ask for energy, then waits for the DC sequence to reach
// Charging with the contactors closed.
func dcCharge(a *e2eAgent) localapi.Status {
	a.t.Helper()
	st := a.waitStatus("the DC connector", func(st localapi.Status) bool {
		return len(st.Connectors) == 1 && st.Connectors[0].DC != nil && st.Connectors[0].Status == "Available"
	})
	if st.Station.Board != "sim-dc" {
		a.t.Errorf("board %q, want sim-dc", st.Station.Board)
	}
	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 1) })
	a.do("swipe", func(ctx context.Context) error { return a.api.Swipe(ctx, 1, "TAGDC") })
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 1) })
	return a.waitStatus("DC charging", func(st localapi.Status) bool {
		c := st.Connectors[0]
		return c.Status == "Charging" && c.DC != nil && c.DC.Step == "Charging" && c.Contactor && c.DC.PresentCurrentA > 1
	})
}

// dcIsolationFault injects the isolation fault and waits for the agent to
// open the contactors and fault the connector.
func dcIsolationFault(a *e2eAgent) {
	a.t.Helper()
	a.do("isolation fault", func(ctx context.Context) error { return a.api.Fault(ctx, 1, localapi.FaultIsolation) })
	st := a.waitStatus("the isolation fault", func(st localapi.Status) bool {
		c := st.Connectors[0]
		return c.Status == "Faulted" && !c.Contactor && strings.HasPrefix(c.Fault, "GroundFailure")
	})
	if c := st.Connectors[0]; c.Session != nil || c.DC.Reason != "IsolationFault" {
		a.t.Errorf("after the fault: session %+v, DC reason %q; want no session, IsolationFault", c.Session, c.DC.Reason)
	}
}

// risingSoC reports whether socs has a later value above an earlier one.
func risingSoC(socs []float64) bool {
	for i := range socs {
		for _, later := range socs[i+1:] {
			if later > socs[i] {
				return true
			}
		}
	}
	return false
}

func TestE2EDCChargingOCPP16(t *testing.T) {
	t.Parallel() // mostly waiting for the battery: the two DC scenarios share the wait
	const cp = "CPDC16"
	csms := startCSMS(t, ocpptest.Options{})
	a := newAgent(t, agentConfig{ID: cp, CSMSURL: csms.URL(), extraYAML: "board: sim-dc\n",
		OCPPKeys: map[string]string{"MeterValuesSampledData": dcMeasurands, "MeterValueSampleInterval": "2"}})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool { return st.Station.OCPP.Registration == "Accepted" })
	st := dcCharge(a)
	if soc := st.Connectors[0].DC.SoC; soc == nil || *soc < 20 || *soc > 21 {
		t.Errorf("SoC at the start of the charge %v, want 20 %%", soc)
	}

	// The CSMS sees the SoC rise: at least two samples of the transaction,
	// a later one with a higher SoC, starting from the EV's 20 %.
	var socs []float64
	txSamples := func() []*core.MeterValuesRequest {
		var out []*core.MeterValuesRequest
		for _, r := range fromCP(csms.Records(core.MeterValuesFeatureName), cp) {
			if req := r.Request.(*core.MeterValuesRequest); req.TransactionId != nil {
				out = append(out, req)
			}
		}
		return out
	}
	if !csms.WaitFor(dcSoCWait, func([]ocpptest.Record) bool {
		socs = socs[:0]
		for _, req := range txSamples() {
			for _, mv := range req.MeterValue {
				for _, sv := range mv.SampledValue {
					if sv.Measurand == types.MeasurandSoC {
						v, err := strconv.ParseFloat(sv.Value, 64)
						if err == nil {
							socs = append(socs, v)
						}
					}
				}
			}
		}
		return risingSoC(socs)
	}) {
		t.Fatalf("SoC values %v within %v: want a rise", socs, dcSoCWait)
	}
	if socs[0] != 20 {
		t.Errorf("first SoC %v, want the EV's 20 %%", socs[0])
	}
	seen := map[types.Measurand]bool{}
	for _, req := range txSamples() {
		for _, sv := range req.MeterValue[0].SampledValue {
			seen[sv.Measurand] = true
			switch sv.Measurand {
			case types.MeasurandSoC:
				if sv.Location != types.LocationEV || sv.Unit != types.UnitOfMeasurePercent {
					t.Errorf("SoC %+v, want Percent at the EV", sv)
				}
			case types.MeasurandVoltage, types.MeasurandCurrentImport, types.MeasurandPowerActiveImport:
				if sv.Phase != "" {
					t.Errorf("DC %s with phase %s", sv.Measurand, sv.Phase)
				}
			}
		}
	}
	for _, m := range []types.Measurand{types.MeasurandVoltage, types.MeasurandCurrentImport, types.MeasurandPowerOffered, types.MeasurandCurrentOffered} {
		if !seen[m] {
			t.Errorf("no %s in the transaction's meter values (saw %v)", m, seen)
		}
	}

	dcIsolationFault(a)
	stops := waitRecords(t, csms, cp, core.StopTransactionFeatureName, 1)
	if req := stops[0].Request.(*core.StopTransactionRequest); req.Reason != core.ReasonOther {
		t.Errorf("StopTransaction reason %q, want Other", req.Reason)
	}
	if !csms.WaitFor(e2eWait, func([]ocpptest.Record) bool {
		for _, r := range fromCP(csms.Records(core.StatusNotificationFeatureName), cp) {
			req := r.Request.(*core.StatusNotificationRequest)
			if req.ConnectorId == 1 && req.Status == core.ChargePointStatusFaulted && req.ErrorCode == core.GroundFailure {
				return true
			}
		}
		return false
	}) {
		t.Error("no StatusNotification Faulted GroundFailure for connector 1")
	}
	starts, _, stopped := checkTransactionRecords(t, csms, cp)
	if starts != 1 || stopped != 1 {
		t.Errorf("%d StartTransaction, %d StopTransaction; want one each", starts, stopped)
	}
	a.stop()
}

func TestE2EDCChargingOCPP201(t *testing.T) {
	t.Parallel()
	const cs = "CPDC201"
	csms := startCSMS201(t, csms201.Options{})
	a := newAgent(t, agentConfig{ID: cs, CSMSURL: csms.URL(), Protocols: []string{"ocpp2.0.1"}, extraYAML: "board: sim-dc\n",
		OCPP201: map[string]string{"SampledDataCtrlr/TxUpdatedInterval": "2", "SampledDataCtrlr/TxUpdatedMeasurands": dcMeasurands}})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool {
		return st.Station.OCPP.Registration == "Accepted" && st.Station.OCPP.Version == "ocpp2.0.1"
	})
	dcCharge(a)

	var socs []float64
	if !csms.WaitFor(dcSoCWait, func([]csms201.Record) bool {
		socs = socs[:0]
		for _, ev := range txEvents(csms, cs) {
			for _, mv := range ev.MeterValue {
				for _, sv := range mv.SampledValue {
					if sv.Measurand == types201.MeasurandSoC {
						socs = append(socs, sv.Value)
					}
				}
			}
		}
		return risingSoC(socs)
	}) {
		t.Fatalf("SoC values %v within %v: want a rise", socs, dcSoCWait)
	}
	if socs[0] != 20 {
		t.Errorf("first SoC %v, want the EV's 20 %%", socs[0])
	}

	dcIsolationFault(a)
	ended := waitTxEvent(t, csms, cs, "Ended", eventType(transactions.TransactionEventEnded))
	if r := ended.TransactionInfo.StoppedReason; r != transactions.ReasonGroundFault {
		t.Errorf("stoppedReason %q, want GroundFault", r)
	}
	if !csms.WaitFor(e2eWait, func([]csms201.Record) bool {
		for _, r := range csms.Records("StatusNotification") {
			req := r.Request.(*availability.StatusNotificationRequest)
			if r.Station == cs && req.EvseID == 1 && req.ConnectorStatus == availability.ConnectorStatusFaulted {
				return true
			}
		}
		return false
	}) {
		t.Error("no StatusNotification Faulted for EVSE 1")
	}
	checkTransaction(t, csms, cs, ended.TransactionInfo.TransactionID, true)
	a.stop()
}
