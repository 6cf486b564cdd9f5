package ocpp201

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/station"
)

func TestAuthorizationCache(t *testing.T) {
	r := newRig(t, map[devicemodel.Ref]string{devicemodel.AuthCacheLifeTime: "3600"})
	r.register()
	ctx := context.Background()
	expiry := NewDateTimePtr(r.clk.Now().Add(10 * time.Minute))
	r.caller.answer = func(action string, req json.RawMessage) (any, error) {
		if action == ActionAuthorize {
			var a AuthorizeRequest
			_ = json.Unmarshal(req, &a)
			switch a.IDToken.IDToken {
			case "GROUPED":
				return &AuthorizeResponse{IDTokenInfo: IDTokenInfo{Status: AuthorizationStatusAccepted, GroupIDToken: &IDToken{IDToken: "FLEET", Type: IDTokenKindCentral}}}, nil
			case "SHORT":
				return &AuthorizeResponse{IDTokenInfo: IDTokenInfo{Status: AuthorizationStatusAccepted, CacheExpiryDateTime: expiry}}, nil
			case "BLOCKED":
				return &AuthorizeResponse{IDTokenInfo: IDTokenInfo{Status: AuthorizationStatusBlocked}}, nil
			}
		}
		if action == ActionTransactionEvent && strings.Contains(string(req), `"idToken"`) {
			return &TransactionEventResponse{IDTokenInfo: &IDTokenInfo{Status: AuthorizationStatusAccepted}}, nil
		}
		return csmsAnswers(func() RegistrationStatus { return RegistrationStatusAccepted })(action, req)
	}
	for _, tag := range []string{"GROUPED", "SHORT", "BLOCKED"} {
		if _, err := r.ch.Authorize(ctx, tag); err != nil {
			t.Fatal(err)
		}
	}
	if v := r.vars.String(devicemodel.AuthCacheStorage); v == "0" || v == "" {
		t.Errorf("AuthCacheCtrlr.Storage = %q with three entries", v)
	}
	r.setOnline(false)
	check := func(when string, cases map[string]station.AuthResult) {
		t.Helper()
		for tag, want := range cases {
			got, err := r.ch.Authorize(ctx, tag)
			if err != nil || got.Status != want.Status || got.ParentIDTag != want.ParentIDTag || !got.Offline {
				t.Errorf("%s: Authorize(%s) = %+v, %v; want %+v offline", when, tag, got, err, want)
			}
		}
	}
	check("offline", map[string]station.AuthResult{
		"GROUPED": {Status: station.AuthAccepted, ParentIDTag: "FLEET"},
		"SHORT":   {Status: station.AuthAccepted},
		"BLOCKED": {Status: station.AuthBlocked},
		"UNKNOWN": {Status: station.AuthInvalid},
	})
	r.clk.Advance(11 * time.Minute) // past SHORT's cacheExpiryDateTime
	check("after the cache expiry", map[string]station.AuthResult{"SHORT": {Status: station.AuthExpired}, "GROUPED": {Status: station.AuthAccepted, ParentIDTag: "FLEET"}})
	r.clk.Advance(time.Hour) // past LifeTime
	check("after LifeTime", map[string]station.AuthResult{"GROUPED": {Status: station.AuthExpired, ParentIDTag: "FLEET"}})
	// A TransactionEvent answer's idTokenInfo updates the cache.
	if err := r.ch.SessionStarted(ctx, station.SessionStart{Connector: 1, SessionID: "s1", IDTag: "TXTOKEN", At: r.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	r.setOnline(true)
	r.deliver()
	r.setOnline(false)
	check("from a TransactionEvent", map[string]station.AuthResult{"TXTOKEN": {Status: station.AuthAccepted}})
	if got, _ := r.handle(ActionClearCache, `{}`); !strings.Contains(string(got), "Accepted") {
		t.Fatalf("ClearCache = %s", got)
	}
	check("after ClearCache", map[string]station.AuthResult{"TXTOKEN": {Status: station.AuthInvalid}, "BLOCKED": {Status: station.AuthInvalid}})
	if v := r.vars.String(devicemodel.AuthCacheStorage); v != "0" {
		t.Errorf("AuthCacheCtrlr.Storage = %q after ClearCache", v)
	}
}

func TestAuthorizationCacheDisabledAndPreAuthorize(t *testing.T) {
	r := newRig(t, map[devicemodel.Ref]string{devicemodel.LocalPreAuthorize: "true"})
	r.register()
	ctx := context.Background()
	if _, err := r.ch.Authorize(ctx, "CARD"); err != nil {
		t.Fatal(err)
	}
	n := len(r.caller.Calls(ActionAuthorize))
	// LocalPreAuthorize: a cached Accepted token is not asked again.
	if got, _ := r.ch.Authorize(ctx, "CARD"); got.Status != station.AuthAccepted || !got.Offline || len(r.caller.Calls(ActionAuthorize)) != n {
		t.Errorf("pre-authorized = %+v after %d Authorize calls, want %d", got, len(r.caller.Calls(ActionAuthorize)), n)
	}
	if st, _ := r.vars.Set(devicemodel.Component{Name: "AuthCacheCtrlr"}, devicemodel.Variable{Name: "Enabled"}, "", "false"); st != devicemodel.SetAccepted {
		t.Fatalf("disable cache: %s", st)
	}
	if got, _ := r.handle(ActionClearCache, `{}`); !strings.Contains(string(got), "Rejected") {
		t.Errorf("ClearCache with the cache disabled = %s", got)
	}
	r.setOnline(false)
	if got, _ := r.ch.Authorize(ctx, "CARD"); got.Status != station.AuthInvalid {
		t.Errorf("offline with the cache disabled = %+v", got)
	}
}

func TestReservations(t *testing.T) {
	r := newRig(t, nil)
	r.register()
	ctx := context.Background()
	exp := r.clk.Now().Add(30 * time.Minute).UTC().Format(time.RFC3339)
	for _, tc := range []struct{ name, payload, want, call string }{
		{"one EVSE", `{"id":1,"expiryDateTime":"` + exp + `","idToken":{"idToken":"A","type":"Central"},"evseId":1}`, "Accepted", "Reserve 1 1 A "},
		{"any EVSE, grouped", `{"id":2,"expiryDateTime":"` + exp + `","idToken":{"idToken":"B","type":"Central"},"groupIdToken":{"idToken":"G","type":"Central"}}`, "Accepted", "Reserve 2 0 B G"},
		{"unknown EVSE", `{"id":3,"expiryDateTime":"` + exp + `","idToken":{"idToken":"C","type":"Central"},"evseId":7}`, "Rejected", ""},
		{"connector type absent", `{"id":4,"expiryDateTime":"` + exp + `","idToken":{"idToken":"C","type":"Central"},"evseId":1,"connectorType":"cCCS2"}`, "Rejected", ""},
		{"connector type present", `{"id":5,"expiryDateTime":"` + exp + `","idToken":{"idToken":"C","type":"Central"},"evseId":2,"connectorType":"sType2"}`, "Accepted", "Reserve 5 2 C "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(r.st.Calls())
			got, ce := r.handle(ActionReserveNow, tc.payload)
			if ce != nil || !strings.Contains(string(got), `"`+tc.want+`"`) {
				t.Fatalf("= %s, %v; want %s", got, ce, tc.want)
			}
			calls := r.st.Calls()[before:]
			if (tc.call == "") != (len(calls) == 0) || (tc.call != "" && calls[0] != tc.call) {
				t.Errorf("station calls %q, want %q", calls, tc.call)
			}
		})
	}
	if got, _ := r.handle(ActionCancelReservation, `{"reservationId":5}`); !strings.Contains(string(got), "Accepted") {
		t.Errorf("CancelReservation = %s", got)
	}
	if got, _ := r.handle(ActionCancelReservation, `{"reservationId":5}`); !strings.Contains(string(got), "Rejected") {
		t.Errorf("CancelReservation again = %s", got)
	}
	// Reservation 1 is used by a session: its id is in the TransactionEvent.
	r.st.CancelReservation(ctx, 1)
	if err := r.ch.SessionStarted(ctx, station.SessionStart{Connector: 1, SessionID: "s1", IDTag: "A", At: r.clk.Now(), ReservationID: 1}); err != nil {
		t.Fatal(err)
	}
	r.ch.background.Wait()
	evs := r.deliver()
	if len(evs) != 1 || evs[0].ReservationID == nil || *evs[0].ReservationID != 1 {
		t.Fatalf("Started %+v, want reservationId 1", evs)
	}
	// Reservation 2 expires: the station drops it, the CSMS hears Expired.
	r.st.CancelReservation(ctx, 2)
	r.clk.Advance(31 * time.Minute)
	r.ch.background.Wait()
	var updates []ReservationStatusUpdateRequest
	for _, p := range r.queued(ActionReservationStatusUpdate) {
		var u ReservationStatusUpdateRequest
		_ = json.Unmarshal(p, &u)
		updates = append(updates, u)
	}
	if len(updates) != 1 || updates[0].ReservationID != 2 || updates[0].ReservationUpdateStatus != ReservationUpdateStatusExpired {
		t.Errorf("updates %+v, want reservation 2 Expired only", updates)
	}
	// One removed early by the station (its EVSE faulted) is Removed.
	got, _ := r.handle(ActionReserveNow, `{"id":9,"expiryDateTime":"`+r.clk.Now().Add(time.Hour).UTC().Format(time.RFC3339)+`","idToken":{"idToken":"D","type":"Central"},"evseId":2}`)
	if !strings.Contains(string(got), "Accepted") {
		t.Fatalf("ReserveNow = %s", got)
	}
	r.st.CancelReservation(ctx, 9)
	r.ch.StatusChanged(station.StatusChange{Connector: 2, Status: station.Faulted, At: r.clk.Now()})
	r.ch.background.Wait()
	last := r.queued(ActionReservationStatusUpdate)
	if len(last) != 2 || !strings.Contains(string(last[1]), `"Removed"`) || !strings.Contains(string(last[1]), `"reservationId":9`) {
		t.Errorf("updates %s, want reservation 9 Removed", last)
	}
	r.deliver()
}

func TestReservationsDisabled(t *testing.T) {
	r := newRig(t, map[devicemodel.Ref]string{devicemodel.ReservationEnabled: "false"})
	r.register()
	got, _ := r.handle(ActionReserveNow, `{"id":1,"expiryDateTime":"2030-01-01T00:00:00Z","idToken":{"idToken":"A","type":"Central"},"evseId":1}`)
	if !strings.Contains(string(got), "Rejected") || len(r.st.Calls()) != 0 {
		t.Errorf("ReserveNow while disabled = %s, station calls %v", got, r.st.Calls())
	}
}
