package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/station"
	"periph.io/x/conn/v3/physic"
)

// fakeStation records calls and answers with err (or snap for Status).
type fakeStation struct {
	mu    sync.Mutex // guards calls and snap
	calls []string
	snap  station.Snapshot
	err   error
}

// setSnap changes what Status answers.
func (f *fakeStation) setSnap(s station.Snapshot) {
	f.mu.Lock()
	f.snap = s
	f.mu.Unlock()
}

func (f *fakeStation) record(format string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	return f.err
}

func (f *fakeStation) Status(ctx context.Context) (station.Snapshot, error) {
	err := f.record("status")
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap, err
}

func (f *fakeStation) Start(ctx context.Context, n int, tag string, o station.StartOptions) error {
	return f.record("start %d %s remote=%v", n, tag, o.Remote)
}

func (f *fakeStation) Stop(ctx context.Context, n int, reason station.StopReason) error {
	return f.record("stop %d %s", n, reason)
}

func (f *fakeStation) PresentCard(ctx context.Context, n int, tag string) error {
	return f.record("card %d %s", n, tag)
}

func (f *fakeStation) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// fakeSim records calls into the same log as the station.
type fakeSim struct {
	st  *fakeStation
	err error
}

func (f *fakeSim) call(format string, args ...any) error {
	if err := f.st.record(format, args...); err != nil {
		return err
	}
	return f.err
}

func (f *fakeSim) Plug(n int) error               { return f.call("plug %d", n) }
func (f *fakeSim) Charge(n int) error             { return f.call("charge %d", n) }
func (f *fakeSim) Pause(n int) error              { return f.call("pause %d", n) }
func (f *fakeSim) Unplug(n int) error             { return f.call("unplug %d", n) }
func (f *fakeSim) Fault(n int, kind string) error { return f.call("fault %d %s", n, kind) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// apiRequest builds a request as a well-behaved local client sends it: to
// a loopback Host, with the request token on state-changing methods.
func apiRequest(srv *Server, method, path, body string) *http.Request {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Host = "127.0.0.1:8090"
	if !safeMethod(method) {
		req.Header.Set(TokenHeader, srv.access.token)
	}
	return req
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		noSim    bool
		stErr    error // station answer
		simErr   error // sim answer
		wantCode int
		wantErr  string // substring of the error body; "" = success
		wantCall string // the call the fakes saw; "" = none
	}{
		{name: "status", method: "GET", path: "/api/v1/status", wantCode: 200, wantCall: "status"},
		{name: "status stopped", method: "GET", path: "/api/v1/status", stErr: station.ErrStopped, wantCode: 503, wantErr: "stopped", wantCall: "status"},
		{name: "status wrong method", method: "POST", path: "/api/v1/status", wantCode: 405, wantErr: "not allowed"},
		{name: "unknown route", method: "GET", path: "/api/v1/nope", wantCode: 404, wantErr: "no route"},
		{name: "unknown sim action", method: "POST", path: "/api/v1/sim/connectors/1/fly", wantCode: 404, wantErr: "no route"},

		{name: "start", method: "POST", path: "/api/v1/connectors/2/start", body: `{"idTag":"ABC"}`, wantCode: 200, wantCall: "start 2 ABC remote=false"},
		{name: "start wrong method", method: "GET", path: "/api/v1/connectors/2/start", wantCode: 405, wantErr: "use POST"},
		{name: "start bad json", method: "POST", path: "/api/v1/connectors/1/start", body: `{"idTag":`, wantCode: 400, wantErr: "bad JSON"},
		{name: "start empty body", method: "POST", path: "/api/v1/connectors/1/start", wantCode: 400, wantErr: "empty"},
		{name: "start unknown field", method: "POST", path: "/api/v1/connectors/1/start", body: `{"tag":"A"}`, wantCode: 400, wantErr: "unknown field"},
		{name: "start trailing data", method: "POST", path: "/api/v1/connectors/1/start", body: `{"idTag":"A"} {}`, wantCode: 400, wantErr: "trailing"},
		{name: "start empty tag", method: "POST", path: "/api/v1/connectors/1/start", body: `{"idTag":""}`, wantCode: 400, wantErr: "idTag"},
		{name: "start long tag", method: "POST", path: "/api/v1/connectors/1/start", body: `{"idTag":"123456789012345678901"}`, wantCode: 400, wantErr: "idTag"},
		{name: "start bad connector", method: "POST", path: "/api/v1/connectors/x/start", body: `{"idTag":"A"}`, wantCode: 400, wantErr: "bad connector number"},
		{name: "start connector zero", method: "POST", path: "/api/v1/connectors/0/start", body: `{"idTag":"A"}`, wantCode: 400, wantErr: "bad connector number"},
		{name: "start unknown connector", method: "POST", path: "/api/v1/connectors/9/start", body: `{"idTag":"A"}`, stErr: station.ErrNoConnector, wantCode: 404, wantErr: "no such connector", wantCall: "start 9 A remote=false"},
		{name: "start busy", method: "POST", path: "/api/v1/connectors/1/start", body: `{"idTag":"A"}`, stErr: station.ErrBusy, wantCode: 409, wantErr: "busy", wantCall: "start 1 A remote=false"},
		{name: "start unavailable", method: "POST", path: "/api/v1/connectors/1/start", body: `{"idTag":"A"}`, stErr: station.ErrUnavailable, wantCode: 409, wantErr: "unavailable", wantCall: "start 1 A remote=false"},
		{name: "start cancelled", method: "POST", path: "/api/v1/connectors/1/start", body: `{"idTag":"A"}`, stErr: station.ErrCancelled, wantCode: 409, wantErr: "cancelled", wantCall: "start 1 A remote=false"},
		{name: "start on a reserved connector", method: "POST", path: "/api/v1/connectors/1/start", body: `{"idTag":"A"}`, stErr: station.ErrReserved, wantCode: 409, wantErr: "reserved", wantCall: "start 1 A remote=false"},
		{name: "start refused", method: "POST", path: "/api/v1/connectors/1/start", body: `{"idTag":"A"}`, stErr: fmt.Errorf("authorize: %w", station.ErrNotAuthorized), wantCode: 403, wantErr: "not authorized", wantCall: "start 1 A remote=false"},
		{name: "start timeout", method: "POST", path: "/api/v1/connectors/1/start", body: `{"idTag":"A"}`, stErr: context.DeadlineExceeded, wantCode: 504, wantErr: "deadline", wantCall: "start 1 A remote=false"},
		{name: "start other error", method: "POST", path: "/api/v1/connectors/1/start", body: `{"idTag":"A"}`, stErr: errors.New("boom"), wantCode: 500, wantErr: "start connector 1: boom", wantCall: "start 1 A remote=false"},

		{name: "stop", method: "POST", path: "/api/v1/connectors/1/stop", wantCode: 200, wantCall: "stop 1 Local"},
		{name: "stop empty object", method: "POST", path: "/api/v1/connectors/1/stop", body: `{}`, wantCode: 200, wantCall: "stop 1 Local"},
		{name: "stop with junk body", method: "POST", path: "/api/v1/connectors/1/stop", body: `nope`, wantCode: 400, wantErr: "bad JSON"},
		{name: "stop no session", method: "POST", path: "/api/v1/connectors/1/stop", stErr: station.ErrNoSession, wantCode: 409, wantErr: "no session", wantCall: "stop 1 Local"},
		{name: "stop stopped", method: "POST", path: "/api/v1/connectors/1/stop", stErr: station.ErrStopped, wantCode: 503, wantErr: "stopped", wantCall: "stop 1 Local"},
		{name: "stop wrong method", method: "DELETE", path: "/api/v1/connectors/1/stop", wantCode: 405, wantErr: "not allowed"},

		{name: "plug", method: "POST", path: "/api/v1/sim/connectors/1/plug", wantCode: 200, wantCall: "plug 1"},
		{name: "charge", method: "POST", path: "/api/v1/sim/connectors/2/charge", wantCode: 200, wantCall: "charge 2"},
		{name: "pause", method: "POST", path: "/api/v1/sim/connectors/1/pause", wantCode: 200, wantCall: "pause 1"},
		{name: "unplug", method: "POST", path: "/api/v1/sim/connectors/1/unplug", wantCode: 200, wantCall: "unplug 1"},
		{name: "plug wrong method", method: "GET", path: "/api/v1/sim/connectors/1/plug", wantCode: 405, wantErr: "not allowed"},
		{name: "plug not simulated", method: "POST", path: "/api/v1/sim/connectors/1/plug", noSim: true, wantCode: 409, wantErr: "not simulated"},
		{name: "plug bad connector", method: "POST", path: "/api/v1/sim/connectors/-1/plug", wantCode: 400, wantErr: "bad connector number"},
		{name: "plug unknown connector", method: "POST", path: "/api/v1/sim/connectors/7/plug", simErr: fmt.Errorf("sim: %w", station.ErrNoConnector), wantCode: 404, wantErr: "no such connector", wantCall: "plug 7"},
		{name: "charge unplugged", method: "POST", path: "/api/v1/sim/connectors/1/charge", simErr: fmt.Errorf("unplugged: %w", ErrSimState), wantCode: 409, wantErr: "unplugged", wantCall: "charge 1"},

		{name: "swipe", method: "POST", path: "/api/v1/sim/connectors/1/swipe", body: `{"idTag":"CARD1"}`, wantCode: 200, wantCall: "card 1 CARD1"},
		{name: "swipe not simulated", method: "POST", path: "/api/v1/sim/connectors/1/swipe", body: `{"idTag":"CARD1"}`, noSim: true, wantCode: 409, wantErr: "not simulated"},
		{name: "swipe no tag", method: "POST", path: "/api/v1/sim/connectors/1/swipe", body: `{}`, wantCode: 400, wantErr: "idTag"},
		{name: "swipe refused", method: "POST", path: "/api/v1/sim/connectors/1/swipe", body: `{"idTag":"BAD"}`, stErr: station.ErrNotAuthorized, wantCode: 403, wantErr: "not authorized", wantCall: "card 1 BAD"},

		{name: "fault", method: "POST", path: "/api/v1/sim/connectors/1/fault", body: `{"kind":"rcd"}`, wantCode: 200, wantCall: "fault 1 rcd"},
		{name: "fault clear", method: "POST", path: "/api/v1/sim/connectors/2/fault", body: `{"kind":"clear"}`, wantCode: 200, wantCall: "fault 2 clear"},
		{name: "fault bad kind", method: "POST", path: "/api/v1/sim/connectors/1/fault", body: `{"kind":"fire"}`, wantCode: 400, wantErr: "bad fault kind"},
		{name: "fault no body", method: "POST", path: "/api/v1/sim/connectors/1/fault", wantCode: 400, wantErr: "empty"},
		{name: "fault not simulated", method: "POST", path: "/api/v1/sim/connectors/1/fault", body: `{"kind":"rcd"}`, noSim: true, wantCode: 409, wantErr: "not simulated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStation{err: tt.stErr}
			opts := Options{Station: st, StationID: "CP1", Board: "sim", Logger: quiet}
			if !tt.noSim {
				opts.Sim = &fakeSim{st: st, err: tt.simErr}
			}
			srv, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			req := apiRequest(srv, tt.method, tt.path, tt.body)
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)

			if rec.Code != tt.wantCode {
				t.Errorf("code = %d, want %d; body %s", rec.Code, tt.wantCode, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, rec.Body)
			}
			if tt.wantErr != "" {
				msg, _ := body["error"].(string)
				if len(body) != 1 || !strings.Contains(msg, tt.wantErr) {
					t.Errorf("body = %v, want only an error containing %q", body, tt.wantErr)
				}
			} else if tt.method == "POST" && body["ok"] != true {
				t.Errorf("body = %v, want {\"ok\": true}", body)
			}
			if tt.wantCode == 405 && rec.Header().Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
			var want []string
			if tt.wantCall != "" {
				want = []string{tt.wantCall}
			}
			if got := st.Calls(); !slices.Equal(got, want) {
				t.Errorf("calls = %q, want %q", got, want)
			}
		})
	}
}

func TestStatusShape(t *testing.T) {
	started := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	st := &fakeStation{snap: station.Snapshot{Connectors: []station.ConnectorSnapshot{
		{
			ID: 1, Status: station.Charging, Error: station.NoError, Pilot: hal.PilotC,
			Offered: 16 * physic.Ampere, Limit: 20 * physic.Ampere, Contactor: true, ReservationID: 0,
			Session: &station.SessionSnapshot{ID: "s-7", IDTag: "TAG1", TransactionID: "42",
				Energy: 1500 * meter.WattHour, StartedAt: started},
			Meter: meter.Reading{EnergyImport: 12345500 * meter.MilliWattHour, Power: 3680 * physic.Watt,
				Current: [3]physic.ElectricCurrent{16 * physic.Ampere}},
			Mode: station.ModePV, Target: 16 * physic.Ampere, Reason: station.LimitSolar, ReasonInfo: "surplus 16 A",
			External: &station.ExternalLimit{Current: 20 * physic.Ampere, Until: started.Add(time.Hour), Source: "hems"},
			Display: &station.DriverDisplay{Language: "en", PriceText: "0.30 EUR/kWh",
				RunningCost: &station.DisplayCost{Amount: 3310000, Currency: "EUR", Estimated: true}},
		},
		{ID: 2, Status: station.Faulted, Error: station.GroundFailure, Fault: "rcd tripped", Pilot: hal.PilotUnknown,
			ReservationID: 7, Mode: station.ModeFast},
	}, Site: station.SiteSnapshot{GridMeter: true, Grid: [3]physic.ElectricCurrent{-4 * physic.Ampere},
		OtherLoad: [3]physic.ElectricCurrent{-20 * physic.Ampere}, Fuse: 25 * physic.Ampere, Margin: physic.Ampere,
		Available: station.NoLimit}}}
	srv, err := New(Options{Station: st, StationID: "CP9", Board: "sim", Logger: quiet,
		CSMSURL: "ws://cp:hunter2@csms.example/ocpp",
		OCPP: func() OCPPInfo {
			return OCPPInfo{Version: "ocpp1.6", Connected: true, Registration: "Accepted", Queued: 3}
		}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, apiRequest(srv, "GET", "/api/v1/status", ""))
	if rec.Code != 200 {
		t.Fatalf("code %d: %s", rec.Code, rec.Body)
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"station": map[string]any{
			"id": "CP9", "board": "sim",
			"ocpp": map[string]any{"version": "ocpp1.6", "connected": true, "registration": "Accepted", "queued": 3.0,
				"url": "ws://cp:" + Masked + "@csms.example/ocpp"},
		},
		"connectors": []any{
			map[string]any{
				"id": 1.0, "status": "Charging", "pilot": "C", "offeredA": 16.0, "limitA": 20.0, "reservationId": 0.0,
				"contactor": true, "fault": "",
				"session": map[string]any{"id": "s-7", "idTag": "TAG1", "transactionId": "42",
					"energyWh": 1500.0, "startedAt": "2024-05-01T12:00:00Z"},
				"meter": map[string]any{"energyWh": 12345.5, "powerW": 3680.0, "currentA": []any{16.0, 0.0, 0.0}},
				"mode":  "pv", "targetA": 16.0, "reason": "solar", "reasonInfo": "surplus 16 A",
				"external": map[string]any{"currentA": 20.0, "until": "2024-05-01T13:00:00Z", "source": "hems"},
				"display": map[string]any{"language": "en", "priceText": "0.30 EUR/kWh", "offline": false, "finalCost": nil,
					"runningCost": map[string]any{"amount": 3.31, "currency": "EUR", "text": "EUR 3.31", "estimated": true}},
			},
			map[string]any{
				"id": 2.0, "status": "Faulted", "pilot": "?", "offeredA": 0.0, "limitA": 0.0, "reservationId": 7.0,
				"contactor": false,
				"fault":     "GroundFailure: rcd tripped", "session": nil,
				"meter": map[string]any{"energyWh": 0.0, "powerW": 0.0, "currentA": []any{0.0, 0.0, 0.0}},
				"mode":  "fast", "targetA": 0.0, "reason": "", "external": nil, "display": nil,
			},
		},
		"site": map[string]any{"gridMeter": true, "gridA": []any{-4.0, 0.0, 0.0}, "otherLoadA": []any{-20.0, 0.0, 0.0},
			"fuseA": 25.0, "marginA": 1.0, "availableA": nil, "reason": "", "fallback": false, "external": nil,
			"inputActive": false, "inputLimitA": 0.0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("status =\n%v\nwant\n%v", got, want)
	}
}

func TestStatusStandaloneOCPP(t *testing.T) {
	srv, err := New(Options{Station: &fakeStation{}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, apiRequest(srv, "GET", "/api/v1/status", ""))
	var got Status
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Station.OCPP != (OCPPInfo{}) || got.Connectors == nil {
		t.Errorf("status = %+v, want zero OCPP info and an empty (not null) connector list", got)
	}
}

func TestBodyLimit(t *testing.T) {
	tests := []struct {
		name     string
		limit    int64
		body     string
		wantCode int
	}{
		{name: "default limit, small body", body: `{"idTag":"A"}`, wantCode: 200},
		{name: "default limit, 5 KiB body", body: `{"idTag":"` + strings.Repeat("x", 5<<10) + `"}`, wantCode: 413},
		{name: "tiny limit", limit: 8, body: `{"idTag":"A"}`, wantCode: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStation{}
			srv, err := New(Options{Station: st, Logger: quiet, MaxBodyBytes: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, apiRequest(srv, "POST", "/api/v1/connectors/1/start", tt.body))
			if rec.Code != tt.wantCode {
				t.Errorf("code = %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantCode != 200 && len(st.Calls()) != 0 {
				t.Errorf("station called despite a rejected body: %q", st.Calls())
			}
		})
	}
}

func TestNewRequiresStation(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a Station succeeded")
	}
}

func TestRunShutsDownOnCancel(t *testing.T) {
	srv, err := New(Options{Station: &fakeStation{}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status code %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil after cancel", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/api/v1/status"); err == nil {
		t.Error("server still answers after Run returned")
	}
}
