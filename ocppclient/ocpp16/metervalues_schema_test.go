package ocpp16

// The meter content the station emits, as the real meters produce it,
// through the adapter's queue, in MeterValues.req and in StopTransaction.req
// transaction data: valid against the official 1.6 schema, and carrying the
// phases, units and contexts a CSMS bills and plots by.

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/meter/can"
	"github.com/evsed/evsed/meter/can/cantest"
	"github.com/evsed/evsed/meter/modbus"
	metersim "github.com/evsed/evsed/meter/sim"
	"github.com/evsed/evsed/station"
	"periph.io/x/conn/v3/physic"
)

// meterReading is one reading as a kind of meter delivers it.
type meterReading struct {
	name    string
	r       meter.Reading
	phases  int  // per-phase values the reading carries
	perLine bool // it has per-phase power
	dc      bool // a DC reading: its values carry no phase
	// status is the DC connector's status the samples carry (SoC, offered
	// current and power); nil on AC.
	status *station.DCStatus
}

// meterReadings returns a reading of each kind of meter evsed drives.
func meterReadings(t *testing.T) []meterReading {
	t.Helper()
	// The simulated meter, three phases at 230 V and 16 A for a minute.
	clk := clock.NewFake(t0)
	sim, err := metersim.New(metersim.Options{Clock: clk, Start: 1000 * meter.WattHour})
	if err != nil {
		t.Fatal(err)
	}
	v, a := 230*physic.Volt, 16*physic.Ampere
	sim.Update(metersim.Measurement{Phases: 3, Voltage: [3]physic.ElectricPotential{v, v, v}, Current: [3]physic.ElectricCurrent{a, a, a}})
	clk.Advance(time.Minute)
	simR, err := sim.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// Modbus meters fill exactly the fields of their model's map.
	fields := func(model string) meter.Field {
		m, err := modbus.Lookup(model)
		if err != nil {
			t.Fatal(err)
		}
		return m.Fields()
	}
	sdm630 := meter.Reading{
		Time: t0, Fields: fields("sdm630"), Phases: 3,
		EnergyImport: 1234567 * meter.MilliWattHour, EnergyExport: 12 * meter.WattHour,
		Power:      11040500 * physic.MilliWatt,
		PowerPhase: [3]physic.Power{3680 * physic.Watt, 3700 * physic.Watt, 3660500 * physic.MilliWatt},
		Current:    [3]physic.ElectricCurrent{16050 * physic.MilliAmpere, 15980 * physic.MilliAmpere, 16100 * physic.MilliAmpere},
		Voltage:    [3]physic.ElectricPotential{230100 * physic.MilliVolt, 231200 * physic.MilliVolt, 229800 * physic.MilliVolt},
		Frequency:  50020 * physic.MilliHertz, PowerFactor: 0.987,
	}
	sdm120 := meter.Reading{
		Time: t0, Fields: fields("sdm120"), Phases: 1,
		EnergyImport: 5432100 * meter.MilliWattHour, Power: 3680 * physic.Watt,
		PowerPhase: [3]physic.Power{3680 * physic.Watt},
		Current:    [3]physic.ElectricCurrent{16 * physic.Ampere},
		Voltage:    [3]physic.ElectricPotential{230 * physic.Volt},
		Frequency:  50 * physic.Hertz, PowerFactor: -0.5,
	}
	return []meterReading{
		{"sim", simR, 3, true, false, nil},
		{"sdm630", sdm630, 3, true, false, nil},
		{"sdm120", sdm120, 1, true, false, nil},
		{"ivt-s", ivtsReading(t), 1, false, true, nil},
		{"sim-dc", dcReading, 1, false, true, &dcCharging},
	}
}

// ivtsReading runs an IVT-S meter on a cantest source and reads it after
// one frame of each result: current, voltage, power and energy only.
func ivtsReading(t *testing.T) meter.Reading {
	t.Helper()
	dec, err := can.NewIVTS(nil)
	if err != nil {
		t.Fatal(err)
	}
	src := cantest.NewSource()
	m, err := can.New(src, dec, &can.Options{Clock: clock.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	frame := func(n int, v int32) can.Frame {
		d := []byte{byte(n), 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(d[2:], uint32(v))
		return can.Frame{ID: can.IVTSResultBase + uint32(n), Data: d}
	}
	// 125.5 A at 400.25 V, 50232 W, 7777 Wh (results 0, 1, 5, 7).
	err = src.Deliver(frame(0, 125500), frame(1, 400250), frame(5, 50232), frame(7, 7777))
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r, err := m.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// measurandSets are the MeterValuesSampledData (and aligned, and StopTxn)
// lists tried: each supported measurand alone, and all of them.
func measurandSets() []string {
	var sets []string
	all := make([]string, len(supportedMeasurands))
	for i, m := range supportedMeasurands {
		sets = append(sets, string(m))
		all[i] = string(m)
	}
	return append(sets, strings.Join(all, ","))
}

// allMeasurandsKeys adds to keys the *MaxLength values that let a list
// hold every supported measurand (the defaults allow fewer).
func allMeasurandsKeys(keys map[string]string) map[string]string {
	n := strconv.Itoa(len(supportedMeasurands))
	for _, k := range []string{KeyMeterValuesSampledDataMaxLength, KeyMeterValuesAlignedDataMaxLength, KeyStopTxnSampledDataMaxLength} {
		keys[k] = n
	}
	return keys
}

// sentMessage is one message the adapter queued, as it goes on the wire.
type sentMessage struct {
	what    string // reading, set and action, for failure messages
	action  string
	payload []byte
}

// meterMessages queues, for every reading and measurand set, a MeterValues
// of each context and the StopTransaction of a session, and returns them
// with the transactionId patched in as at send time.
func meterMessages(t *testing.T) []sentMessage {
	t.Helper()
	readings := meterReadings(t)
	var out []sentMessage
	for _, set := range measurandSets() {
		r := newRig(t, allMeasurandsKeys(map[string]string{
			KeyMeterValuesSampledData: set, KeyMeterValuesAlignedData: set, KeyStopTxnSampledData: set,
		}))
		ctx := context.Background()
		what := map[string]string{} // session -> reading
		for i, mr := range readings {
			session := fmt.Sprintf("s%d", i)
			what[session] = mr.name
			for _, sc := range []station.SampleContext{station.ContextTransactionBegin, station.ContextPeriodic, station.ContextClock, station.ContextTransactionEnd} {
				if err := r.c.SampleTaken(ctx, station.Sample{Connector: 1, SessionID: session, Context: sc, Reading: mr.r, At: t0, DC: mr.status}); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.c.SessionEnded(ctx, station.SessionEnd{Connector: 1, SessionID: session, MeterStop: mr.r.EnergyImport,
				At: t0.Add(time.Hour), Reason: station.ReasonEVDisconnected, Begin: mr.r, End: mr.r}); err != nil {
				t.Fatal(err)
			}
		}
		entries, err := r.queue.Entries()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			p, err := patchTransactionID(e.Payload, 42)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, sentMessage{what: fmt.Sprintf("%s with %q", what[e.Key], set), action: e.Action, payload: p})
		}
	}
	return out
}

func TestMeterValuesSchema(t *testing.T) {
	schemas := loadSchemas(t)
	msgs := meterMessages(t)
	for _, m := range msgs {
		if err := schemas.validateJSON(t, "urn:"+m.action+".req", m.payload); err != nil {
			t.Errorf("%s %s: %s\nschema: %v", m.what, m.action, m.payload, err)
		}
	}
	// A control: the schema does look into the sampled values (1.6 has no
	// Hz, which is why frequencies go without a unit).
	for _, m := range msgs {
		bad := strings.Replace(string(m.payload), `"unit":"Wh"`, `"unit":"Hz"`, 1)
		if bad == string(m.payload) {
			continue
		}
		if schemas.validateJSON(t, "urn:"+m.action+".req", []byte(bad)) == nil {
			t.Fatalf("schema accepts unit Hz: %s", bad)
		}
		return
	}
	t.Fatalf("none of %d messages carries an energy in Wh", len(msgs))
}

// wantUnit is the unit of each measurand evsed samples. 1.6 has no unit for
// a frequency (no Hz) and none for a power factor, so neither carries one.
var wantUnit = map[Measurand]UnitOfMeasure{
	MeasurandEnergyActiveImportRegister: UnitOfMeasureWh,
	MeasurandEnergyActiveExportRegister: UnitOfMeasureWh,
	MeasurandPowerActiveImport:          UnitOfMeasureW,
	MeasurandCurrentImport:              UnitOfMeasureA,
	MeasurandVoltage:                    UnitOfMeasureV,
	MeasurandFrequency:                  "",
	MeasurandPowerFactor:                "",
	MeasurandSoC:                        UnitOfMeasurePercent,
	MeasurandPowerOffered:               UnitOfMeasureW,
	MeasurandCurrentOffered:             UnitOfMeasureA,
}

func TestMeterValuesContent(t *testing.T) {
	readings := meterReadings(t)
	all := measurandSets()
	allSet := all[len(all)-1]
	r := newRig(t, allMeasurandsKeys(map[string]string{KeyMeterValuesSampledData: allSet, KeyMeterValuesAlignedData: allSet, KeyStopTxnSampledData: allSet}))
	ctx := context.Background()
	contexts := []station.SampleContext{station.ContextTransactionBegin, station.ContextPeriodic, station.ContextClock, station.ContextTransactionEnd}
	for i, mr := range readings {
		t.Run(mr.name, func(t *testing.T) {
			session := fmt.Sprintf("c%d", i)
			for _, sc := range contexts {
				if err := r.c.SampleTaken(ctx, station.Sample{Connector: 1, SessionID: session, Context: sc, Reading: mr.r, At: t0, DC: mr.status}); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.c.SessionEnded(ctx, station.SessionEnd{Connector: 1, SessionID: session, MeterStop: mr.r.EnergyImport,
				At: t0.Add(time.Hour), Reason: station.ReasonLocal, Begin: mr.r, End: mr.r}); err != nil {
				t.Fatal(err)
			}
			entries, err := r.queue.Entries()
			if err != nil {
				t.Fatal(err)
			}
			// Each MeterValues in its context, then the transaction data's
			// begin and end values.
			var got [][]SampledValue
			for _, e := range entries {
				if e.Key != session {
					continue
				}
				switch e.Action {
				case ActionMeterValues:
					var mv MeterValuesRequest
					if err := json.Unmarshal(e.Payload, &mv); err != nil {
						t.Fatal(err)
					}
					for _, v := range mv.MeterValue {
						got = append(got, v.SampledValue)
					}
				case ActionStopTransaction:
					var st StopTransactionRequest
					if err := json.Unmarshal(e.Payload, &st); err != nil {
						t.Fatal(err)
					}
					for _, v := range st.TransactionData {
						got = append(got, v.SampledValue)
					}
				}
			}
			wantCtx := []ReadingContext{ReadingContextTransactionBegin, ReadingContextSamplePeriodic, ReadingContextSampleClock,
				ReadingContextTransactionEnd, ReadingContextTransactionBegin, ReadingContextTransactionEnd}
			if len(got) != len(wantCtx) {
				t.Fatalf("%d meter values, want %d (4 MeterValues, 2 in the StopTransaction)", len(got), len(wantCtx))
			}
			for k, svs := range got {
				// The StopTransaction's values come from readings alone.
				checkSampledValues(t, mr, wantCtx[k], svs, k < 4)
			}
		})
	}
}

// checkSampledValues checks one MeterValue's sampled values of reading mr;
// withStatus says they carry its DC status too (a sample's, not a
// StopTransaction's).
func checkSampledValues(t *testing.T, mr meterReading, ctx ReadingContext, svs []SampledValue, withStatus bool) {
	t.Helper()
	phases := map[Measurand][]Phase{}
	for _, sv := range svs {
		loc := LocationOutlet
		if sv.Measurand == MeasurandSoC {
			loc = LocationEV // the vehicle's battery
		}
		if sv.Context != ctx || sv.Location != loc {
			t.Errorf("%s %s: context %q location %q, want %s at %s", ctx, sv.Measurand, sv.Context, sv.Location, ctx, loc)
		}
		if u, ok := wantUnit[sv.Measurand]; !ok || sv.Unit != u {
			t.Errorf("%s %s: unit %q, want %q", ctx, sv.Measurand, sv.Unit, u)
		}
		phases[sv.Measurand] = append(phases[sv.Measurand], sv.Phase)
	}
	lines := []Phase{PhaseL1, PhaseL2, PhaseL3}[:mr.phases]
	toNeutral := []Phase{PhaseL1N, PhaseL2N, PhaseL3N}[:mr.phases]
	if mr.dc {
		// A DC shunt's current and voltage are on no AC phase.
		lines, toNeutral = []Phase{""}, []Phase{""}
	}
	want := map[Measurand][]Phase{
		MeasurandEnergyActiveImportRegister: {""},
		MeasurandCurrentImport:              lines,
		MeasurandVoltage:                    toNeutral,
		MeasurandPowerActiveImport:          {""}, // the total, without a phase
	}
	if mr.perLine {
		want[MeasurandPowerActiveImport] = append([]Phase{""}, lines...)
		want[MeasurandFrequency] = []Phase{""}
		want[MeasurandPowerFactor] = []Phase{""}
	}
	if mr.r.Fields.Has(meter.FieldEnergyExport) {
		want[MeasurandEnergyActiveExportRegister] = []Phase{""}
	}
	if mr.status != nil && withStatus {
		want[MeasurandSoC] = []Phase{""}
		want[MeasurandPowerOffered] = []Phase{""}
		want[MeasurandCurrentOffered] = []Phase{""}
	}
	for m, w := range want {
		if !slices.Equal(phases[m], w) {
			t.Errorf("%s %s: phases %q, want %q", ctx, m, phases[m], w)
		}
	}
	for m := range phases {
		if _, ok := want[m]; !ok {
			t.Errorf("%s: %s sampled, but the %s reading does not carry it", ctx, m, mr.name)
		}
	}
}
