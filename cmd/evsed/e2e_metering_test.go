package main

import (
	"context"
	"testing"
	"time"

	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/ocppclient/ocpptest"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
)

// Configuration keys changed while connected take effect at once: with
// MeterValueSampleInterval set to 0 and ClockAlignedDataInterval to 5 by
// ChangeConfiguration, a card session sends Sample.Clock MeterValues every
// 5 s, stamped on the 5 s boundaries, with the measurands of
// MeterValuesAlignedData, and no Sample.Periodic ones.
func TestE2EClockAlignedDataChangedLive(t *testing.T) {
	csms := startCSMS(t, ocpptest.Options{})
	a := newAgent(t, agentConfig{ID: "CPALIGN", CSMSURL: csms.URL(), OCPPKeys: map[string]string{
		"MeterValueSampleInterval": "10",
		"ClockAlignedDataInterval": "900",
		"MeterValuesAlignedData":   "Energy.Active.Import.Register,Power.Active.Import",
	}})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool { return st.Station.OCPP.Registration == "Accepted" })
	for _, kv := range [][2]string{{"MeterValueSampleInterval", "0"}, {"ClockAlignedDataInterval", "5"}} {
		conf, err := csms.ChangeConfiguration("CPALIGN", kv[0], kv[1])
		if err != nil || conf.Status != core.ConfigurationStatusAccepted {
			t.Fatalf("ChangeConfiguration %s=%s: %+v, %v", kv[0], kv[1], conf, err)
		}
	}
	changed := time.Now()
	a.do("swipe", func(ctx context.Context) error { return a.api.Swipe(ctx, 1, "TAG1") })
	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 1) })
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 1) })
	a.waitStatus("charging", connectorStatus(1, "Charging"))

	// Three clock-aligned samples of the transaction: at most 15 s + 5 s.
	var clock []*core.MeterValuesRequest
	ok := csms.WaitFor(e2eWait, func([]ocpptest.Record) bool {
		clock = clock[:0]
		for _, r := range fromCP(csms.Records(core.MeterValuesFeatureName), "CPALIGN") {
			req := r.Request.(*core.MeterValuesRequest)
			if req.TransactionId != nil && contextOf(req) == types.ReadingContextSampleClock {
				clock = append(clock, req)
			}
		}
		return len(clock) >= 3
	})
	if !ok {
		t.Fatalf("%d Sample.Clock MeterValues of the transaction within %v, want 3", len(clock), e2eWait)
	}
	var prev time.Time
	for i, req := range clock {
		ts := req.MeterValue[0].Timestamp.Time
		if ts.Nanosecond() != 0 || ts.Second()%5 != 0 {
			t.Errorf("sample %d stamped %s, not on a 5 s boundary", i, ts.Format(time.RFC3339Nano))
		}
		if i > 0 && ts.Sub(prev) != 5*time.Second {
			t.Errorf("sample %d is %v after the previous one, want 5 s", i, ts.Sub(prev))
		}
		prev = ts
		measurands := map[types.Measurand]bool{}
		for _, sv := range req.MeterValue[0].SampledValue {
			m := sv.Measurand
			if m == "" {
				m = types.MeasurandEnergyActiveImportRegister
			}
			measurands[m] = true
		}
		if !measurands[types.MeasurandEnergyActiveImportRegister] || !measurands[types.MeasurandPowerActiveImport] || len(measurands) != 2 {
			t.Errorf("sample %d measurands %v, want those of MeterValuesAlignedData", i, measurands)
		}
	}
	for _, r := range fromCP(csms.Records(core.MeterValuesFeatureName), "CPALIGN") {
		if req := r.Request.(*core.MeterValuesRequest); contextOf(req) == types.ReadingContextSamplePeriodic && r.At.After(changed) {
			t.Errorf("a Sample.Periodic MeterValues at %v with MeterValueSampleInterval 0", r.At)
		}
	}
	a.stop()
}

// contextOf is the reading context of a MeterValues (its first value's;
// absent means Sample.Periodic).
func contextOf(req *core.MeterValuesRequest) types.ReadingContext {
	if len(req.MeterValue) == 0 || len(req.MeterValue[0].SampledValue) == 0 {
		return ""
	}
	if c := req.MeterValue[0].SampledValue[0].Context; c != "" {
		return c
	}
	return types.ReadingContextSamplePeriodic
}
