package ocpp16

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/station"
)

// handle runs one CSMS request through HandleCall and returns the answer
// (for a FollowUp, its Response; the follow-up is returned apart).
func (r *rig) handle(action, payload string) (any, func(context.Context)) {
	r.t.Helper()
	resp, err := r.c.HandleCall(context.Background(), action, json.RawMessage(payload))
	if err != nil {
		r.t.Fatalf("%s %s: %v", action, payload, err)
	}
	if f, ok := resp.(ocppclient.FollowUp); ok {
		return f.Response, f.Then
	}
	return resp, nil
}

// status returns the status field of an answer.
func status(t *testing.T, resp any) string {
	t.Helper()
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Status
}

func TestSendLocalList(t *testing.T) {
	r := newRig(t, map[string]string{KeySendLocalListMaxLength: "3", KeyLocalAuthListMaxLength: "4"})
	version := func() int {
		resp, _ := r.handle(ActionGetLocalListVersion, `{}`)
		return resp.(*GetLocalListVersionResponse).ListVersion
	}
	if v := version(); v != 0 {
		t.Fatalf("empty list version %d, want 0", v)
	}
	steps := []struct {
		name, payload, want string
		version             int
	}{
		{"full", `{"listVersion":3,"updateType":"Full","localAuthorizationList":[` +
			`{"idTag":"A","idTagInfo":{"status":"Accepted"}},{"idTag":"B","idTagInfo":{"status":"Blocked"}}]}`, "Accepted", 3},
		{"differential not newer", `{"listVersion":3,"updateType":"Differential","localAuthorizationList":[{"idTag":"C","idTagInfo":{"status":"Accepted"}}]}`,
			"VersionMismatch", 3},
		{"differential", `{"listVersion":4,"updateType":"Differential","localAuthorizationList":[` +
			`{"idTag":"B"},{"idTag":"C","idTagInfo":{"status":"Accepted","parentIdTag":"P"}}]}`, "Accepted", 4},
		{"more than SendLocalListMaxLength", `{"listVersion":5,"updateType":"Differential","localAuthorizationList":[` +
			`{"idTag":"D","idTagInfo":{"status":"Accepted"}},{"idTag":"E","idTagInfo":{"status":"Accepted"}},` +
			`{"idTag":"F","idTagInfo":{"status":"Accepted"}},{"idTag":"G","idTagInfo":{"status":"Accepted"}}]}`, "Failed", 4},
		{"list above LocalAuthListMaxLength", `{"listVersion":5,"updateType":"Differential","localAuthorizationList":[` +
			`{"idTag":"D","idTagInfo":{"status":"Accepted"}},{"idTag":"E","idTagInfo":{"status":"Accepted"}},` +
			`{"idTag":"F","idTagInfo":{"status":"Accepted"}}]}`, "Failed", 4},
		{"full entry without idTagInfo", `{"listVersion":6,"updateType":"Full","localAuthorizationList":[{"idTag":"A"}]}`, "Failed", 4},
		{"full without a list empties it", `{"listVersion":7,"updateType":"Full"}`, "Accepted", 0},
	}
	for _, s := range steps {
		resp, _ := r.handle(ActionSendLocalList, s.payload)
		if got := status(t, resp); got != s.want {
			t.Errorf("%s: %s, want %s", s.name, got, s.want)
		}
		if v := version(); v != s.version {
			t.Errorf("%s: version %d, want %d", s.name, v, s.version)
		}
	}
	if st := r.cfg.Set(KeyLocalAuthListEnabled, "false"); st != ConfigurationStatusAccepted {
		t.Fatal(st)
	}
	resp, _ := r.handle(ActionSendLocalList, `{"listVersion":8,"updateType":"Full","localAuthorizationList":[{"idTag":"A","idTagInfo":{"status":"Accepted"}}]}`)
	if got := status(t, resp); got != "NotSupported" {
		t.Errorf("disabled: %s, want NotSupported", got)
	}
	if v := version(); v != -1 {
		t.Errorf("disabled: version %d, want -1", v)
	}
}

// The local list decides before the cache, accepts at once with
// LocalPreAuthorize, and offline refuses blocked and expired entries even
// when unknown tags would be accepted.
func TestAuthorizeWithLocalList(t *testing.T) {
	r := newRig(t, map[string]string{KeyAllowOfflineTxForUnknownID: "true", KeyLocalPreAuthorize: "true"})
	exp := NewDateTime(t0.Add(time.Hour)).String()
	resp, _ := r.handle(ActionSendLocalList, `{"listVersion":1,"updateType":"Full","localAuthorizationList":[`+
		`{"idTag":"GOOD","idTagInfo":{"status":"Accepted","parentIdTag":"FLEET","expiryDate":"`+exp+`"}},`+
		`{"idTag":"STOLEN","idTagInfo":{"status":"Blocked"}}]}`)
	if status(t, resp) != "Accepted" {
		t.Fatal(resp)
	}
	ctx := context.Background()
	check := func(name, tag string, want station.AuthStatus, parent string, wantCalls int) {
		t.Helper()
		before := len(r.caller.Calls(ActionAuthorize))
		res, err := r.c.Authorize(ctx, tag)
		if err != nil || res.Status != want || res.ParentIDTag != parent {
			t.Errorf("%s: Authorize(%s) = %+v, %v; want %s parent %q", name, tag, res, err, want, parent)
		}
		if got := len(r.caller.Calls(ActionAuthorize)) - before; got != wantCalls {
			t.Errorf("%s: %d Authorize.req sent, want %d", name, got, wantCalls)
		}
	}
	// Offline.
	check("offline listed", "GOOD", station.AuthAccepted, "FLEET", 0)
	check("offline blocked", "STOLEN", station.AuthBlocked, "", 0)
	check("offline unknown", "NEW", station.AuthAccepted, "", 0)
	// Online: an Accepted entry needs no round trip; others ask the CSMS,
	// whose answers for listed tags stay out of the cache.
	r.register()
	check("online pre-authorized", "GOOD", station.AuthAccepted, "FLEET", 0)
	check("online blocked asks", "STOLEN", station.AuthAccepted, "", 1)
	if _, ok, _ := r.c.auth.Lookup("STOLEN", t0); ok {
		t.Error("a listed tag went into the authorization cache")
	}
	// Past the expiry date the entry refuses, offline.
	r.setOnline(false)
	r.clk.Advance(2 * time.Hour)
	check("offline expired", "GOOD", station.AuthExpired, "FLEET", 0)
}

func TestReserveNowAndCancel(t *testing.T) {
	r := newRig(t, map[string]string{KeyReserveConnectorZeroSupported: "false"})
	exp := NewDateTime(t0.Add(time.Hour)).String()
	reserve := func(connector, id int) string {
		resp, _ := r.handle(ActionReserveNow, `{"connectorId":`+itoa(connector)+`,"expiryDate":"`+exp+
			`","idTag":"T","parentIdTag":"P","reservationId":`+itoa(id)+`}`)
		return status(t, resp)
	}
	if got := reserve(3, 1); got != "Rejected" {
		t.Errorf("unknown connector: %s", got)
	}
	if got := reserve(0, 1); got != "Rejected" {
		t.Errorf("connector 0 without ReserveConnectorZeroSupported: %s", got)
	}
	if got := reserve(1, 7); got != "Accepted" {
		t.Errorf("connector 1: %s", got)
	}
	if calls := r.st.Calls(); !slices.Contains(calls, fmtCall("Reserve", 7, 1, "T", "P")) {
		t.Errorf("station calls %v", calls)
	}
	r.st.mu.Lock()
	r.st.reserve = station.ReservationOccupied
	r.st.mu.Unlock()
	if got := reserve(2, 8); got != "Occupied" {
		t.Errorf("occupied: %s", got)
	}
	cancel := func(id int) string {
		resp, _ := r.handle(ActionCancelReservation, `{"reservationId":`+itoa(id)+`}`)
		return status(t, resp)
	}
	if got := cancel(9); got != "Rejected" {
		t.Errorf("cancel unknown: %s", got)
	}
	if got := cancel(7); got != "Accepted" {
		t.Errorf("cancel: %s", got)
	}
}

// A remote start for another tag than the reservation's is rejected (the
// tag's group cannot be known without AuthorizeRemoteTxRequests).
func TestRemoteStartOnReservedConnector(t *testing.T) {
	r := newRig(t, nil)
	r.st.mu.Lock()
	r.st.snap.Connectors[0].Status, r.st.snap.Connectors[0].ReservationID = station.Reserved, 7
	r.st.reservations = []station.Reservation{{ID: 7, Connector: 1, IDTag: "MINE"}}
	r.st.mu.Unlock()
	resp, _ := r.handle(ActionRemoteStartTransaction, `{"connectorId":1,"idTag":"OTHER"}`)
	if got := status(t, resp); got != "Rejected" {
		t.Errorf("other tag: %s, want Rejected", got)
	}
	resp, _ = r.handle(ActionRemoteStartTransaction, `{"connectorId":1,"idTag":"MINE"}`)
	if got := status(t, resp); got != "Accepted" {
		t.Errorf("reserved tag: %s, want Accepted", got)
	}
	r.c.background.Wait()
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestTriggerMessage(t *testing.T) {
	r := newRig(t, nil)
	r.register()
	r.st.mu.Lock()
	r.st.snap.At = t0
	r.st.snap.Connectors[0].Meter = meter.Reading{Time: t0, Fields: meter.FieldEnergyImport, EnergyImport: 1500 * meter.WattHour}
	r.st.snap.Connectors[0].Session = &station.SessionSnapshot{ID: "s1", TransactionID: "77"}
	r.st.mu.Unlock()
	tests := []struct {
		payload string
		want    string
		sent    []string // actions, in order, and for StatusNotification the connectors
	}{
		{`{"requestedMessage":"Heartbeat"}`, "Accepted", []string{"Heartbeat"}},
		{`{"requestedMessage":"BootNotification","connectorId":2}`, "Accepted", []string{"BootNotification"}},
		{`{"requestedMessage":"StatusNotification"}`, "Accepted", []string{"StatusNotification 0", "StatusNotification 1", "StatusNotification 2"}},
		{`{"requestedMessage":"StatusNotification","connectorId":2}`, "Accepted", []string{"StatusNotification 2"}},
		{`{"requestedMessage":"StatusNotification","connectorId":3}`, "Rejected", nil},
		{`{"requestedMessage":"MeterValues","connectorId":1}`, "Accepted", []string{"MeterValues 1"}},
		{`{"requestedMessage":"MeterValues","connectorId":0}`, "Rejected", nil},
		{`{"requestedMessage":"DiagnosticsStatusNotification"}`, "Accepted", []string{"DiagnosticsStatusNotification"}},
		{`{"requestedMessage":"FirmwareStatusNotification"}`, "Accepted", []string{"FirmwareStatusNotification"}},
	}
	for _, tc := range tests {
		r.drainCalls()
		before := len(r.caller.Calls())
		resp, then := r.handle(ActionTriggerMessage, tc.payload)
		if got := status(t, resp); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.payload, got, tc.want)
			continue
		}
		if tc.want != "Accepted" {
			if then != nil {
				t.Errorf("%s: a follow-up for a refused trigger", tc.payload)
			}
			continue
		}
		if got := len(r.caller.Calls()) - before; got != 0 {
			t.Errorf("%s: %d CALLs before the answer was out", tc.payload, got)
		}
		then(context.Background())
		var got []string
		for _, c := range r.caller.Calls()[before:] {
			var v struct {
				ConnectorID   *int         `json:"connectorId"`
				TransactionID *int         `json:"transactionId"`
				Status        string       `json:"status"`
				MeterValue    []MeterValue `json:"meterValue"`
			}
			if err := json.Unmarshal(c.Payload, &v); err != nil {
				t.Fatal(err)
			}
			s := c.Action
			if v.ConnectorID != nil {
				s += " " + itoa(*v.ConnectorID)
			}
			got = append(got, s)
			switch c.Action {
			case ActionMeterValues:
				if v.TransactionID == nil || *v.TransactionID != 77 || len(v.MeterValue) != 1 ||
					v.MeterValue[0].SampledValue[0].Context != ReadingContextTrigger || v.MeterValue[0].SampledValue[0].Value != "1500" {
					t.Errorf("triggered MeterValues %s", c.Payload)
				}
			case ActionDiagnosticsStatusNotification, ActionFirmwareStatusNotification:
				if v.Status != "Idle" {
					t.Errorf("%s status %q, want Idle", c.Action, v.Status)
				}
			}
		}
		if !slices.Equal(got, tc.sent) {
			t.Errorf("%s: sent %v, want %v", tc.payload, got, tc.sent)
		}
	}
}

// While the registration is Pending, a triggered BootNotification is sent
// at once instead of after the interval the CSMS gave.
func TestTriggeredBootWhilePending(t *testing.T) {
	r := newRig(t, nil)
	answers := csmsAnswers()
	boots := 0
	r.caller.mu.Lock()
	r.caller.answer = func(action string, req json.RawMessage) (any, error) {
		if action == ActionBootNotification {
			boots++
			if boots == 1 {
				return BootNotificationResponse{Status: RegistrationStatusPending, CurrentTime: NewDateTime(t0), Interval: 3600}, nil
			}
		}
		return answers(action, req)
	}
	r.caller.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- r.c.OnConnect(context.Background(), r.caller) }()
	if s := r.caller.next(t); s.Action != ActionBootNotification {
		t.Fatalf("first CALL %s", s.Action)
	}
	// The CSMS triggers a StatusNotification and a BootNotification
	// while Pending: both go out without the clock moving.
	_, then := r.handle(ActionTriggerMessage, `{"requestedMessage":"StatusNotification","connectorId":1}`)
	then(context.Background())
	if s := r.caller.next(t); s.Action != ActionStatusNotification {
		t.Fatalf("triggered while pending: %s", s.Action)
	}
	_, then = r.handle(ActionTriggerMessage, `{"requestedMessage":"BootNotification"}`)
	then(context.Background())
	if s := r.caller.next(t); s.Action != ActionBootNotification {
		t.Fatalf("after the trigger: %s", s.Action)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := r.c.Registration(); got != "Accepted" {
		t.Errorf("registration %s", got)
	}
}

// Every configuration key the adapter acts on takes effect when
// ChangeConfiguration is answered, without a restart: none answers
// RebootRequired.
func TestConfigurationChangesApplyLive(t *testing.T) {
	change := func(r *rig, key, value string) {
		t.Helper()
		resp, _ := r.handle(ActionChangeConfiguration, `{"key":"`+key+`","value":"`+value+`"}`)
		if got := status(t, resp); got != "Accepted" {
			t.Fatalf("ChangeConfiguration %s=%s: %s", key, value, got)
		}
	}
	stationKeys := []struct {
		key, value string
		got        func(station.Config) any
		want       any
	}{
		{KeyMeterValueSampleInterval, "0", func(c station.Config) any { return c.MeterSampleInterval }, time.Duration(0)},
		{KeyClockAlignedDataInterval, "5", func(c station.Config) any { return c.ClockAlignedInterval }, 5 * time.Second},
		{KeyConnectionTimeOut, "42", func(c station.Config) any { return c.ConnectionTimeout }, 42 * time.Second},
		{KeyStopTransactionOnEVSideDisconnect, "false", func(c station.Config) any { return c.StopTransactionOnEVSideDisconnect }, false},
		{KeyUnlockConnectorOnEVSideDisconnect, "false", func(c station.Config) any { return c.UnlockConnectorOnEVSideDisconnect }, false},
		{KeyStopTransactionOnInvalidID, "false", func(c station.Config) any { return c.StopTransactionOnInvalidID }, false},
	}
	for _, k := range stationKeys {
		t.Run(k.key, func(t *testing.T) {
			r := newRig(t, nil)
			change(r, k.key, k.value)
			r.st.mu.Lock()
			got := k.got(r.st.cfg)
			r.st.mu.Unlock()
			if got != k.want {
				t.Errorf("station config %v, want %v", got, k.want)
			}
		})
	}
	t.Run(KeyHeartbeatInterval, func(t *testing.T) {
		r := newRig(t, nil)
		r.register() // the CSMS's BootNotification answer set 30 s
		ctx, cancel := context.WithCancel(context.Background())
		stop := r.c.Start(ctx)
		defer func() { cancel(); stop() }()
		change(r, KeyHeartbeatInterval, "7")
		r.clk.Advance(7 * time.Second)
		if s := r.caller.next(t); s.Action != ActionHeartbeat {
			t.Errorf("after 7 s: %s, want a Heartbeat", s.Action)
		}
	})
	t.Run("retry policy", func(t *testing.T) {
		r := newRig(t, nil)
		change(r, KeyTransactionMessageRetryInterval, "5")
		change(r, KeyTransactionMessageAttempts, "2")
		e, err := r.queue.Enqueue(ocppclient.Entry{Kind: ocppclient.KindMeter, Action: ActionMeterValues, Payload: json.RawMessage(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		if wait, dead, err := r.queue.Fail(e.Seq); err != nil || dead || wait != 5*time.Second {
			t.Errorf("first failure: wait %v dead %v err %v, want 5 s", wait, dead, err)
		}
		if _, dead, err := r.queue.Fail(e.Seq); err != nil || !dead {
			t.Errorf("second failure: dead %v err %v, want dead-lettered after 2 attempts", dead, err)
		}
	})
	t.Run("keys read at use", func(t *testing.T) {
		r := newRig(t, nil)
		// AllowOfflineTxForUnknownId decides the next offline Authorize.
		res, _ := r.c.Authorize(context.Background(), "X")
		change(r, KeyAllowOfflineTxForUnknownID, "true")
		res2, _ := r.c.Authorize(context.Background(), "X")
		if res.Status != station.AuthInvalid || res2.Status != station.AuthAccepted {
			t.Errorf("offline unknown tag: %s then %s, want Invalid then Accepted", res.Status, res2.Status)
		}
		// MeterValuesSampledData decides the next sample.
		change(r, KeyMeterValuesSampledData, "Power.Active.Import")
		sample := station.Sample{Connector: 1, SessionID: "s", Context: station.ContextPeriodic, At: t0,
			Reading: meter.Reading{Time: t0, Fields: meter.FieldEnergyImport | meter.FieldPower, EnergyImport: meter.WattHour, Power: 1000}}
		if err := r.c.SampleTaken(context.Background(), sample); err != nil {
			t.Fatal(err)
		}
		entries, _ := r.queue.Entries()
		if len(entries) != 1 || !json.Valid(entries[0].Payload) || !strings.Contains(string(entries[0].Payload), "Power.Active.Import") ||
			strings.Contains(string(entries[0].Payload), "Energy.Active.Import.Register") {
			t.Errorf("sample after the change: %s", entries[0].Payload)
		}
	})
}

// An unknown requested message is answered NotImplemented; a malformed
// request still gets its CALLERROR.
func TestTriggerMessageUnknown(t *testing.T) {
	r := newRig(t, nil)
	resp, err := r.c.HandleCall(context.Background(), ActionTriggerMessage, json.RawMessage(`{"requestedMessage":"SignChargePointCertificate"}`))
	if err != nil || status(t, resp) != "NotImplemented" {
		t.Errorf("unknown message: %v, %v; want NotImplemented", resp, err)
	}
	for _, bad := range []string{`{"requestedMessage":"Nope","connectorId":-1}`, `{"requestedMessage":7}`, `{}`} {
		if _, err := r.c.HandleCall(context.Background(), ActionTriggerMessage, json.RawMessage(bad)); err == nil {
			t.Errorf("%s: no CALLERROR", bad)
		}
	}
}
