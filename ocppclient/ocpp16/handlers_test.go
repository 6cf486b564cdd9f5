package ocpp16

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/station"
)

func TestHandleCall(t *testing.T) {
	tests := []struct {
		name    string
		keys    map[string]string
		setup   func(r *rig)
		action  string
		payload string
		want    string   // the answer as JSON
		calls   []string // station calls, in order, background work included
		resets  []bool
		check   func(t *testing.T, r *rig)
	}{
		{name: "change availability of one connector", action: ActionChangeAvailability,
			payload: `{"connectorId":2,"type":"Inoperative"}`, want: `{"status":"Accepted"}`,
			calls: []string{fmtCall("SetAvailability", 2, false)}},
		{name: "change availability of the station", action: ActionChangeAvailability,
			payload: `{"connectorId":0,"type":"Operative"}`, want: `{"status":"Accepted"}`,
			calls: []string{fmtCall("SetAvailability", 0, true)}},
		{name: "change availability while charging is scheduled", action: ActionChangeAvailability,
			setup:   func(r *rig) { r.st.avail = station.AvailabilityScheduled },
			payload: `{"connectorId":1,"type":"Inoperative"}`, want: `{"status":"Scheduled"}`,
			calls: []string{fmtCall("SetAvailability", 1, false)}},
		{name: "change availability of a missing connector", action: ActionChangeAvailability,
			payload: `{"connectorId":3,"type":"Inoperative"}`, want: `{"status":"Rejected"}`},

		{name: "change a station key", action: ActionChangeConfiguration,
			payload: `{"key":"MeterValueSampleInterval","value":"15"}`, want: `{"status":"Accepted"}`,
			calls: []string{"SetConfig"},
			check: func(t *testing.T, r *rig) {
				if got := r.st.cfg.MeterSampleInterval; got != 15*time.Second {
					t.Errorf("station MeterSampleInterval = %v", got)
				}
				if got := r.cfg.Int(KeyMeterValueSampleInterval); got != 15 {
					t.Errorf("stored value %d", got)
				}
			}},
		{name: "change a boolean station key", action: ActionChangeConfiguration,
			payload: `{"key":"StopTransactionOnInvalidId","value":"false"}`, want: `{"status":"Accepted"}`,
			setup: func(r *rig) { r.st.cfg.StopTransactionOnInvalidID = true },
			calls: []string{"SetConfig"},
			check: func(t *testing.T, r *rig) {
				if r.st.cfg.StopTransactionOnInvalidID {
					t.Error("station still stops on invalid id")
				}
			}},
		{name: "change retry policy", action: ActionChangeConfiguration,
			payload: `{"key":"TransactionMessageAttempts","value":"1"}`, want: `{"status":"Accepted"}`,
			check: func(t *testing.T, r *rig) {
				// One attempt: the first CALLERROR dead-letters.
				e, err := r.queue.Enqueue(ocppclient.Entry{Kind: ocppclient.KindOther, Action: ActionDataTransfer})
				if err != nil {
					t.Fatal(err)
				}
				if _, dead, err := r.queue.Fail(e.Seq); !dead || err != nil {
					t.Errorf("Fail after TransactionMessageAttempts=1: dead=%v err=%v", dead, err)
				}
			}},
		{name: "change authorization key", action: ActionChangeConfiguration,
			payload: `{"key":"AuthorizationKey","value":"0123456789abcdef0123"}`, want: `{"status":"Accepted"}`,
			check: func(t *testing.T, r *rig) {
				if v, _ := r.cfg.Value(KeyAuthorizationKey); v != "0123456789abcdef0123" {
					t.Errorf("AuthorizationKey = %q", v)
				}
			}},
		{name: "change a read-only key", action: ActionChangeConfiguration,
			payload: `{"key":"NumberOfConnectors","value":"4"}`, want: `{"status":"Rejected"}`},
		{name: "change an unknown key", action: ActionChangeConfiguration,
			payload: `{"key":"Foo","value":"1"}`, want: `{"status":"NotSupported"}`},

		{name: "get configuration", action: ActionGetConfiguration,
			payload: `{"key":["HeartbeatInterval","Nope"]}`,
			want:    `{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"3600"}],"unknownKey":["Nope"]}`},
		{name: "data transfer", action: ActionDataTransfer, payload: `{"vendorId":"acme"}`, want: `{"status":"UnknownVendorId"}`},
		{name: "clear cache", action: ActionClearCache, payload: `{}`, want: `{"status":"Accepted"}`},

		{name: "remote start on a chosen connector", action: ActionRemoteStartTransaction,
			payload: `{"connectorId":2,"idTag":"APP"}`, want: `{"status":"Accepted"}`,
			calls: []string{fmtCall("Start", 2, "APP", true, true)}},
		{name: "remote start picks the first free connector", action: ActionRemoteStartTransaction,
			setup:   func(r *rig) { r.st.snap.Connectors[0].Status = station.Charging },
			payload: `{"idTag":"APP"}`, want: `{"status":"Accepted"}`,
			calls: []string{fmtCall("Start", 2, "APP", true, true)}},
		{name: "remote start authorized when configured", action: ActionRemoteStartTransaction,
			keys:    map[string]string{KeyAuthorizeRemoteTxRequests: "true"},
			setup:   func(r *rig) { r.st.snap.Connectors[0].Status = station.Preparing },
			payload: `{"idTag":"APP"}`, want: `{"status":"Accepted"}`,
			calls: []string{fmtCall("Start", 1, "APP", true, false)}},
		{name: "remote start on a busy connector", action: ActionRemoteStartTransaction,
			setup:   func(r *rig) { r.st.snap.Connectors[1].Status = station.Charging },
			payload: `{"connectorId":2,"idTag":"APP"}`, want: `{"status":"Rejected"}`},
		{name: "remote start with every connector busy", action: ActionRemoteStartTransaction,
			setup: func(r *rig) {
				r.st.snap.Connectors[0].Status = station.Faulted
				r.st.snap.Connectors[1].Status = station.Unavailable
			},
			payload: `{"idTag":"APP"}`, want: `{"status":"Rejected"}`},

		{name: "remote stop of a running transaction", action: ActionRemoteStopTransaction,
			setup: func(r *rig) {
				if err := r.c.tx.Put("sess-7", 77); err != nil {
					r.t.Fatal(err)
				}
			},
			payload: `{"transactionId":77}`, want: `{"status":"Accepted"}`,
			calls: []string{fmtCall("StopSession", "sess-7", station.ReasonRemote)}},
		{name: "remote stop the station refuses", action: ActionRemoteStopTransaction,
			setup: func(r *rig) {
				r.st.stopErr = station.ErrNoSession
				if err := r.c.tx.Put("sess-7", 77); err != nil {
					r.t.Fatal(err)
				}
			},
			payload: `{"transactionId":77}`, want: `{"status":"Rejected"}`,
			calls: []string{fmtCall("StopSession", "sess-7", station.ReasonRemote)}},
		{name: "remote stop of an unknown transaction", action: ActionRemoteStopTransaction,
			payload: `{"transactionId":5}`, want: `{"status":"Rejected"}`},

		{name: "soft reset", action: ActionReset, payload: `{"type":"Soft"}`, want: `{"status":"Accepted"}`,
			calls: []string{fmtCall("Reset", station.ReasonSoftReset)}, resets: []bool{false}},
		{name: "hard reset", action: ActionReset, payload: `{"type":"Hard"}`, want: `{"status":"Accepted"}`,
			calls: []string{fmtCall("Reset", station.ReasonHardReset)}, resets: []bool{true}},

		{name: "unlock", action: ActionUnlockConnector, payload: `{"connectorId":1}`, want: `{"status":"Unlocked"}`,
			calls: []string{fmtCall("Unlock", 1)}},
		{name: "unlock fails", action: ActionUnlockConnector, payload: `{"connectorId":2}`,
			setup: func(r *rig) { r.st.unlock = station.UnlockFailed },
			want:  `{"status":"UnlockFailed"}`, calls: []string{fmtCall("Unlock", 2)}},
		{name: "unlock a missing connector", action: ActionUnlockConnector, payload: `{"connectorId":9}`,
			want: `{"status":"NotSupported"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.keys)
			if tc.setup != nil {
				tc.setup(r)
			}
			resp, err := r.c.HandleCall(context.Background(), tc.action, json.RawMessage(tc.payload))
			if err != nil {
				t.Fatalf("HandleCall: %v", err)
			}
			r.c.background.Wait()
			got, err := json.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("answer = %s, want %s", got, tc.want)
			}
			if err := Validate(resp); err != nil {
				t.Errorf("answer breaks the schema: %v", err)
			}
			if calls := r.st.Calls(); !slices.Equal(calls, tc.calls) {
				t.Errorf("station calls = %v, want %v", calls, tc.calls)
			}
			if !slices.Equal(r.resets, tc.resets) {
				t.Errorf("OnReset calls = %v, want %v", r.resets, tc.resets)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// Bad and unknown requests are answered with exactly the CallError of the
// package's decoder, and reach neither the station nor the config store.
func TestHandleCallRejectsBadRequests(t *testing.T) {
	tests := []struct {
		name    string
		action  string
		payload string
		code    ocppclient.ErrorCode
	}{
		{"not json", ActionReset, `{"type":`, ocppclient.FormationViolation},
		{"unknown field", ActionReset, `{"type":"Soft","extra":1}`, ocppclient.FormationViolation},
		{"missing field", ActionRemoteStopTransaction, `{}`, ocppclient.OccurenceConstraintViolation},
		{"wrong type", ActionUnlockConnector, `{"connectorId":"1"}`, ocppclient.TypeConstraintViolation},
		{"bad enum", ActionChangeAvailability, `{"connectorId":1,"type":"Sideways"}`, ocppclient.PropertyConstraintViolation},
		{"too long id tag", ActionRemoteStartTransaction, `{"idTag":"123456789012345678901"}`, ocppclient.PropertyConstraintViolation},
		{"key too long", ActionChangeConfiguration, `{"key":"` + strings.Repeat("k", 51) + `","value":"1"}`, ocppclient.PropertyConstraintViolation},
		{"decoded action, bad payload", ActionReserveNow, `{}`, ocppclient.OccurenceConstraintViolation},
		{"unknown action", "Teleport", `{}`, ocppclient.NotImplemented},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			resp, err := r.c.HandleCall(context.Background(), tc.action, json.RawMessage(tc.payload))
			var ce *ocppclient.CallError
			if !errors.As(err, &ce) || resp != nil {
				t.Fatalf("HandleCall = %v, %v; want a CallError", resp, err)
			}
			if ce.Code != tc.code {
				t.Errorf("code = %s, want %s (%s)", ce.Code, tc.code, ce.Description)
			}
			_, want := DecodeRequest(tc.action, json.RawMessage(tc.payload))
			if err.Error() != want.Error() {
				t.Errorf("error = %v, want the decoder's %v", err, want)
			}
			r.c.background.Wait()
			if calls := r.st.Calls(); len(calls) != 0 {
				t.Errorf("station was called: %v", calls)
			}
		})
	}
}

func TestHandleCallWithoutStation(t *testing.T) {
	r := newRig(t, nil)
	r.c.SetStation(nil)
	_, err := r.c.HandleCall(context.Background(), ActionUnlockConnector, json.RawMessage(`{"connectorId":1}`))
	var ce *ocppclient.CallError
	if !errors.As(err, &ce) || ce.Code != ocppclient.InternalError {
		t.Errorf("HandleCall without station = %v, want InternalError", err)
	}
}
