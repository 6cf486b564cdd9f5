package ocppclient_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/ocpptest"
	"github.com/evsed/evsed/ocppclient/ocpptest/csms201"
	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
)

// BenchmarkDrain measures how fast queued MeterValues reach a CSMS we did
// not write (ocpp-go's central system, through ocpptest) over a loopback
// websocket, one CALL in flight, and compares it in the same run with a
// peer: a minimal charge point built on ocpp-go's own client sending the
// same messages one after another. One iteration is one message; run with
// -benchtime=Nx to drain N. msgs/s is the figure to compare; ns/op is the
// time per delivered message.
//
//   - evsed: the durable queue drained by ocppclient.Client as the agent
//     runs: acknowledgements written to the queue's log at once and
//     fdatasync'd once per FlushAfter (64).
//   - evsed-nosync: the same with the database's fsync off, which the agent
//     never does; the difference to evsed is the cost of the disk.
//   - ocpp-go: the peer, which persists nothing.
//
// The CSMS runs in the benchmark's process and shares its cores with every
// variant alike.
func BenchmarkDrain(b *testing.B) {
	csms, err := ocpptest.Start(ocpptest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(csms.Stop)
	req := benchMeterValues()
	b.Run("evsed", func(b *testing.B) { benchDrainEvsed(b, csms, req, true) })
	b.Run("evsed-nosync", func(b *testing.B) { benchDrainEvsed(b, csms, req, false) })
	b.Run("ocpp-go", func(b *testing.B) { benchDrainPeer(b, csms, req) })
	b.Run("evsed-2.0.1", func(b *testing.B) { benchDrain201(b) })
}

// benchDrain201 drains TransactionEvent Updated messages carrying the same
// sample to ocpp-go's 2.0.1 CSMS: the 2.0.1 figure beside 1.6's evsed.
func benchDrain201(b *testing.B) {
	csms, err := csms201.Start(csms201.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(csms.Stop)
	payload := []byte(`{"eventType":"Updated","timestamp":"2025-03-14T15:09:26.000Z","triggerReason":"MeterValuePeriodic",` +
		`"seqNo":1,"transactionInfo":{"transactionId":"0f3c2a9e8b7d4c1a","chargingState":"Charging"},` +
		`"meterValue":[{"timestamp":"2025-03-14T15:09:26.000Z","sampledValue":[` +
		`{"value":12345.6,"measurand":"Energy.Active.Import.Register","unitOfMeasure":{"unit":"Wh"}},` +
		`{"value":7360,"measurand":"Power.Active.Import","unitOfMeasure":{"unit":"W"}}]}]}`)
	benchDrainPayload(b, csms.URL(), "ocpp2.0.1", "TransactionEvent", payload)
}

// benchMeterValues is the message both sides send: one sample of energy and
// power, as a charging session reports it.
func benchMeterValues() *core.MeterValuesRequest {
	tx := 12345
	at := types.NewDateTime(time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC))
	req := core.NewMeterValuesRequest(1, []types.MeterValue{{
		Timestamp: at,
		SampledValue: []types.SampledValue{
			{Value: "12345.6", Measurand: types.MeasurandEnergyActiveImportRegister, Unit: types.UnitOfMeasureWh},
			{Value: "7360", Measurand: types.MeasurandPowerActiveImport, Unit: types.UnitOfMeasureW},
		},
	}})
	req.TransactionId = &tx
	return req
}

// benchStuck bounds the waits: it only turns a hang into a failure.
const benchStuck = 2 * time.Minute

// benchCPs numbers the charge points, so that every run connects as a new
// one and the CSMS never sees two connections with one id.
var benchCPs atomic.Int64

func benchCPID(prefix string) string { return fmt.Sprintf("%s-%d", prefix, benchCPs.Add(1)) }

func benchDrainEvsed(b *testing.B, csms *ocpptest.CSMS, req *core.MeterValuesRequest, sync bool) {
	payload, err := json.Marshal(req)
	if err != nil {
		b.Fatal(err)
	}
	benchDrainQueue(b, csms.URL(), "ocpp1.6", core.MeterValuesFeatureName, payload, sync)
}

// benchDrainPayload is benchDrainQueue with fsync on, as the agent runs.
func benchDrainPayload(b *testing.B, url, subprotocol, action string, payload []byte) {
	benchDrainQueue(b, url, subprotocol, action, payload, true)
}

// benchDrainQueue queues b.N copies of payload as action and times their
// drain to the CSMS at url over subprotocol.
func benchDrainQueue(b *testing.B, url, subprotocol, action string, payload []byte, sync bool) {
	q, db, _ := queueOpen(b, ocppclient.QueueOptions{MaxEntries: b.N + 1})
	// Filling is not what is measured: skip the fsync per entry, then make
	// the lot durable at once.
	db.NoSync = true
	for range b.N {
		if _, err := q.Enqueue(ocppclient.Entry{Kind: ocppclient.KindMeter, Action: action,
			Payload: payload, Key: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Sync(); err != nil {
		b.Fatal(err)
	}
	db.NoSync = !sync

	// The drain starts right after OnConnect: the clock starts there, so
	// that the dial and handshake are not counted (nor are they for the
	// peer).
	var start atomic.Pointer[time.Time]
	c, err := ocppclient.New(ocppclient.Options{
		URL:           url,
		ChargePointID: benchCPID("evsed"),
		Subprotocols:  []string{subprotocol},
		Queue:         q,
		Logger:        slog.New(slog.DiscardHandler),
		OnConnect: func(context.Context, ocppclient.Caller) error {
			now := time.Now()
			start.Store(&now)
			return nil
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()

	// Poll the length: the queue signals enqueues, not acknowledgements.
	// A 100 µs step is well below one round trip with its commit.
	deadline := time.Now().Add(benchStuck)
	for q.Len() > 0 {
		if time.Now().After(deadline) {
			b.Fatalf("%d messages still queued after %v (client: %+v)", q.Len(), benchStuck, c.Status())
		}
		time.Sleep(100 * time.Microsecond)
	}
	end := time.Now()
	b.StopTimer()
	s := start.Load()
	if s == nil {
		b.Fatal("queue drained without a connection")
	}
	reportDrain(b, end.Sub(*s))
}

func benchDrainPeer(b *testing.B, csms *ocpptest.CSMS, req *core.MeterValuesRequest) {
	cp := ocpp16.NewChargePoint(benchCPID("ocpp-go"), nil, nil)
	if err := cp.Start(csms.URL()); err != nil {
		b.Fatal(err)
	}
	defer cp.Stop()
	same := func(r *core.MeterValuesRequest) { r.TransactionId = req.TransactionId }
	start := time.Now()
	for range b.N {
		if _, err := cp.MeterValues(req.ConnectorId, req.MeterValue, same); err != nil {
			b.Fatal(err)
		}
	}
	end := time.Now()
	b.StopTimer()
	reportDrain(b, end.Sub(start))
}

// reportDrain reports the rate of b.N messages delivered in d.
func reportDrain(b *testing.B, d time.Duration) {
	b.ReportMetric(float64(b.N)/d.Seconds(), "msgs/s")
	b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "ns/op")
}
