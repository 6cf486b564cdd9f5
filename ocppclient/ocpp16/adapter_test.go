package ocpp16

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/station"
)

func reading(wh int64, at time.Time) meter.Reading {
	return meter.Reading{Time: at, Fields: meter.FieldEnergyImport, EnergyImport: meter.Energy(wh) * meter.WattHour}
}

// decodeSent unmarshals a sent payload into v, failing the test on error.
func decodeSent(t *testing.T, s sent, v any) {
	t.Helper()
	if err := json.Unmarshal(s.Payload, v); err != nil {
		t.Fatalf("%s payload %s: %v", s.Action, s.Payload, err)
	}
}

func TestSessionMessagesQueuedDurably(t *testing.T) {
	r := newRig(t, map[string]string{KeyStopTxnSampledData: "Energy.Active.Import.Register"})
	ctx := context.Background()
	begin := reading(1000, t0)
	if err := r.c.SessionStarted(ctx, station.SessionStart{Connector: 1, SessionID: "s1", IDTag: "CARD1",
		MeterStart: 1000*meter.WattHour + 999, At: t0, ReservationID: 7}); err != nil {
		t.Fatal(err)
	}
	if err := r.c.SampleTaken(ctx, station.Sample{Connector: 1, SessionID: "s1", Context: station.ContextPeriodic,
		Reading: reading(1500, t0.Add(time.Minute)), At: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := r.c.SessionEnded(ctx, station.SessionEnd{Connector: 1, SessionID: "s1", MeterStop: 2000 * meter.WattHour,
		At: t0.Add(2 * time.Minute), Reason: station.ReasonLocal, Begin: begin, End: reading(2000, t0.Add(2*time.Minute))}); err != nil {
		t.Fatal(err)
	}
	entries, err := r.queue.Entries()
	if err != nil {
		t.Fatal(err)
	}
	wantKinds := []ocppclient.EntryKind{ocppclient.KindStart, ocppclient.KindMeter, ocppclient.KindStop}
	if len(entries) != 3 {
		t.Fatalf("%d entries queued, want 3", len(entries))
	}
	for i, e := range entries {
		if e.Kind != wantKinds[i] || e.Key != "s1" {
			t.Errorf("entry %d = %s kind %d key %q", i, e.Action, e.Kind, e.Key)
		}
	}

	var start StartTransactionRequest
	decodeSent(t, sent{entries[0].Action, entries[0].Payload}, &start)
	if start.ConnectorID != 1 || start.IDTag != "CARD1" || start.MeterStart != 1000 ||
		start.ReservationID == nil || *start.ReservationID != 7 || !start.Timestamp.Equal(t0) {
		t.Errorf("StartTransaction = %+v", start)
	}
	var mv map[string]any
	decodeSent(t, sent{entries[1].Action, entries[1].Payload}, &mv)
	if _, has := mv["transactionId"]; has {
		t.Errorf("MeterValues queued with a transactionId: %s", entries[1].Payload)
	}
	var stop StopTransactionRequest
	decodeSent(t, sent{entries[2].Action, entries[2].Payload}, &stop)
	if stop.MeterStop != 2000 || stop.Reason != ReasonLocal || len(stop.TransactionData) != 2 {
		t.Fatalf("StopTransaction = %+v", stop)
	}
	for i, want := range []struct {
		ctx   ReadingContext
		value string
	}{{ReadingContextTransactionBegin, "1000"}, {ReadingContextTransactionEnd, "2000"}} {
		sv := stop.TransactionData[i].SampledValue
		if len(sv) != 1 || sv[0].Context != want.ctx || sv[0].Value != want.value {
			t.Errorf("transactionData[%d] = %+v, want %s %s", i, sv, want.ctx, want.value)
		}
	}
}

func TestTransactionIDPatchedAcrossRestart(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	sample := func(session string, wh int64) {
		t.Helper()
		if err := r.c.SampleTaken(ctx, station.Sample{Connector: 1, SessionID: session, Context: station.ContextPeriodic,
			Reading: reading(wh, t0), At: t0}); err != nil {
			t.Fatal(err)
		}
	}
	end := func(connector int, session string) {
		t.Helper()
		if err := r.c.SessionEnded(ctx, station.SessionEnd{Connector: connector, SessionID: session, MeterStop: 5 * meter.WattHour,
			At: t0, Reason: station.ReasonEVDisconnected}); err != nil {
			t.Fatal(err)
		}
	}
	// Session A: its StartTransaction is answered before the restart.
	if err := r.c.SessionStarted(ctx, station.SessionStart{Connector: 1, SessionID: "A", IDTag: "T", At: t0}); err != nil {
		t.Fatal(err)
	}
	r.register()
	first := r.deliver()
	if len(first) != 1 || first[0].Action != ActionStartTransaction {
		t.Fatalf("delivered %v", first)
	}
	if !slices.Contains(r.st.Calls(), fmtCall("AttachTransactionID", "A", "101")) {
		t.Errorf("station calls %v, want AttachTransactionID A 101", r.st.Calls())
	}

	r.reopen()
	// Session B: everything queued before anything is answered, as
	// offline.
	sample("A", 3)
	if err := r.c.SessionStarted(ctx, station.SessionStart{Connector: 2, SessionID: "B", IDTag: "T", At: t0}); err != nil {
		t.Fatal(err)
	}
	sample("B", 4)
	end(1, "A")
	end(2, "B")
	r.register()
	got := r.deliver()
	wantIDs := []struct {
		action string
		id     int // 0: none
	}{
		{ActionMeterValues, 101},
		{ActionStartTransaction, 0},
		{ActionMeterValues, 102},
		{ActionStopTransaction, 101},
		{ActionStopTransaction, 102},
	}
	if len(got) != len(wantIDs) {
		t.Fatalf("delivered %d messages, want %d", len(got), len(wantIDs))
	}
	for i, w := range wantIDs {
		var p struct {
			TransactionID *int `json:"transactionId"`
		}
		decodeSent(t, got[i], &p)
		if got[i].Action != w.action || (w.id == 0) != (p.TransactionID == nil) || (p.TransactionID != nil && *p.TransactionID != w.id) {
			t.Errorf("message %d = %s %s, want %s with transactionId %d", i, got[i].Action, got[i].Payload, w.action, w.id)
		}
	}
	// Both transactions are over: a RemoteStop of them is refused.
	resp, err := r.c.HandleCall(ctx, ActionRemoteStopTransaction, json.RawMessage(`{"transactionId":101}`))
	if err != nil || resp.(*RemoteStopTransactionResponse).Status != RemoteStartStopStatusRejected {
		t.Errorf("RemoteStop of a stopped transaction = %+v, %v", resp, err)
	}
	// A StopTransaction resent after a crash between Delivered and Ack
	// still finds its id.
	payload, err := r.c.Prepare(ocppclient.Entry{Action: ActionStopTransaction, Key: "A", Payload: json.RawMessage(`{"meterStop":5}`)})
	if err != nil || string(payload) != `{"meterStop":5,"transactionId":101}` {
		t.Errorf("Prepare of a resent Stop = %s, %v", payload, err)
	}
}

func TestStartAnsweredInvalidDeauthorizes(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	base := csmsAnswers()
	r.caller.answer = func(action string, req json.RawMessage) (any, error) {
		if action == ActionStartTransaction {
			return StartTransactionResponse{IdTagInfo: IdTagInfo{Status: AuthorizationStatusBlocked}, TransactionID: 9}, nil
		}
		return base(action, req)
	}
	if err := r.c.SessionStarted(ctx, station.SessionStart{Connector: 1, SessionID: "S", IDTag: "BAD", At: t0}); err != nil {
		t.Fatal(err)
	}
	r.register()
	r.deliver()
	want := []string{fmtCall("AttachTransactionID", "S", "9"), fmtCall("Deauthorize", "S")}
	if got := r.st.Calls(); !slices.Equal(got, want) {
		t.Errorf("station calls = %v, want %v", got, want)
	}
	// The verdict reaches the cache too.
	if e, ok, _ := r.c.auth.Lookup("BAD", t0); !ok || e.Status != AuthorizationStatusBlocked {
		t.Errorf("cache = %+v, %v; want Blocked", e, ok)
	}
	// The transaction is known for RemoteStop although refused.
	if s, ok, err := r.c.tx.Session(9); !ok || s != "S" || err != nil {
		t.Errorf("Session(9) = %q, %v, %v", s, ok, err)
	}
}

func TestStartAnswerUnreadableIsRetried(t *testing.T) {
	r := newRig(t, nil)
	e := ocppclient.Entry{Action: ActionStartTransaction, Key: "S", Payload: json.RawMessage(`{"idTag":"T"}`)}
	if err := r.c.Delivered(e, json.RawMessage(`{"transactionId":"x"}`)); err == nil {
		t.Fatal("Delivered accepted a StartTransaction answer without a usable transactionId")
	}
	if _, err := r.c.tx.TransactionID("S"); err == nil {
		t.Error("an id was stored from a bad answer")
	}
}

func TestAbandonedStartLeavesStopSendable(t *testing.T) {
	r := newRig(t, nil)
	r.c.Abandoned(ocppclient.Entry{Action: ActionStartTransaction, Key: "Z"}, ocppclient.Errorf(ocppclient.InternalError, "no"))
	meterPayload := json.RawMessage(`{"connectorId":1,"meterValue":[]}`)
	got, err := r.c.Prepare(ocppclient.Entry{Action: ActionMeterValues, Key: "Z", Payload: meterPayload})
	if err != nil || string(got) != string(meterPayload) {
		t.Errorf("MeterValues without transaction = %s, %v; want unchanged", got, err)
	}
	got, err = r.c.Prepare(ocppclient.Entry{Action: ActionStopTransaction, Key: "Z", Payload: json.RawMessage(`{"meterStop":1}`)})
	if err != nil || string(got) != `{"meterStop":1,"transactionId":-1}` {
		t.Errorf("Stop without transaction = %s, %v", got, err)
	}
}

func TestSamplesWithoutSession(t *testing.T) {
	tests := []struct {
		name   string
		keys   map[string]string
		online bool
		ctx    station.SampleContext
		sends  bool
	}{
		{"online clock-aligned", nil, true, station.ContextClock, true},
		{"offline dropped", nil, false, station.ContextClock, false},
		{"nothing configured", map[string]string{KeyMeterValuesAlignedData: ""}, true, station.ContextClock, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.keys)
			r.register()
			r.setOnline(tc.online)
			if err := r.c.SampleTaken(context.Background(), station.Sample{Connector: 2, Context: tc.ctx,
				Reading: reading(42, t0), At: t0}); err != nil {
				t.Fatal(err)
			}
			if n := r.queue.Len(); n != 0 {
				t.Errorf("idle sample queued %d entries", n)
			}
			if !tc.sends {
				r.c.background.Wait()
				if n := len(r.caller.Calls(ActionMeterValues)); n != 0 {
					t.Errorf("sent %d MeterValues, want none", n)
				}
				return
			}
			got := r.caller.next(t)
			var mv MeterValuesRequest
			decodeSent(t, got, &mv)
			if got.Action != ActionMeterValues || mv.TransactionID != nil || mv.ConnectorID != 2 ||
				len(mv.MeterValue) != 1 || mv.MeterValue[0].SampledValue[0].Value != "42" ||
				mv.MeterValue[0].SampledValue[0].Context != ReadingContextSampleClock {
				t.Errorf("sent %s %s", got.Action, got.Payload)
			}
		})
	}
}

// The station reports a session step again after a power cut between its
// Reporter call and its own bookkeeping; the adapter queues each step once
// per session, whether the first copy is still queued or already answered,
// and even when the repeat says something else (an end first seen as
// EVDisconnected, then as PowerLoss).
func TestSessionStepsQueuedOncePerSession(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	start := station.SessionStart{Connector: 1, SessionID: "S", IDTag: "T", At: t0}
	end := station.SessionEnd{Connector: 1, SessionID: "S", MeterStop: 5 * meter.WattHour, At: t0, Reason: station.ReasonEVDisconnected}
	count := func(action string) int {
		t.Helper()
		entries, err := r.queue.Entries()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range entries {
			if e.Action == action && e.Key == "S" {
				n++
			}
		}
		return n
	}

	for range 2 { // the repeat while the first is still queued
		if err := r.c.SessionStarted(ctx, start); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(ActionStartTransaction); n != 1 {
		t.Fatalf("%d StartTransactions queued, want 1", n)
	}
	r.register()
	if got := r.deliver(); len(got) != 1 || got[0].Action != ActionStartTransaction {
		t.Fatalf("delivered %v, want the one StartTransaction", got)
	}
	if err := r.c.SessionStarted(ctx, start); err != nil { // the repeat after the answer
		t.Fatal(err)
	}
	if n := count(ActionStartTransaction); n != 0 {
		t.Fatalf("a StartTransaction answered before was queued again")
	}

	if err := r.c.SessionEnded(ctx, end); err != nil {
		t.Fatal(err)
	}
	end.Reason = station.ReasonPowerLoss
	if err := r.c.SessionEnded(ctx, end); err != nil {
		t.Fatal(err)
	}
	if n := count(ActionStopTransaction); n != 1 {
		t.Fatalf("%d StopTransactions queued, want 1", n)
	}
	got := r.deliver()
	if len(got) != 1 || got[0].Action != ActionStopTransaction {
		t.Fatalf("delivered %v, want the one StopTransaction", got)
	}
	var stop StopTransactionRequest
	decodeSent(t, got[0], &stop)
	if stop.Reason != ReasonEVDisconnected {
		t.Errorf("StopTransaction reason %s, want the first report's EVDisconnected", stop.Reason)
	}
	if err := r.c.SessionEnded(ctx, end); err != nil { // the repeat after the answer
		t.Fatal(err)
	}
	if n := count(ActionStopTransaction); n != 0 {
		t.Fatalf("a StopTransaction answered before was queued again")
	}
}
