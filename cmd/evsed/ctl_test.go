package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/station"
	"periph.io/x/conn/v3/physic"
)

// fakeStation answers the local API with a fixed snapshot and records calls.
type fakeStation struct {
	mu    sync.Mutex // guards calls
	calls []string
	err   error
}

func (f *fakeStation) rec(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
	return f.err
}

func (f *fakeStation) Status(context.Context) (station.Snapshot, error) {
	return station.Snapshot{Connectors: []station.ConnectorSnapshot{
		{ID: 1, Status: station.Charging, Pilot: hal.PilotC, Offered: 16 * physic.Ampere, Contactor: true,
			Session: &station.SessionSnapshot{ID: "s-1", IDTag: "FREE", Energy: 250 * meter.WattHour,
				StartedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
			Meter: meter.Reading{EnergyImport: 1000 * meter.WattHour, Power: 3680 * physic.Watt}},
		{ID: 2, Status: station.Faulted, Error: station.GroundFailure, Pilot: hal.PilotA},
	}}, f.rec("status")
}

func (f *fakeStation) Start(_ context.Context, n int, tag string, _ station.StartOptions) error {
	return f.rec("start " + itoa(n) + " " + tag)
}

func (f *fakeStation) Stop(_ context.Context, n int, _ station.StopReason) error {
	return f.rec("stop " + itoa(n))
}

func (f *fakeStation) PresentCard(_ context.Context, n int, tag string) error {
	return f.rec("swipe " + itoa(n) + " " + tag)
}

type fakeSim struct{ st *fakeStation }

func (f fakeSim) Plug(n int) error   { return f.st.rec("plug " + itoa(n)) }
func (f fakeSim) Charge(n int) error { return f.st.rec("charge " + itoa(n)) }
func (f fakeSim) Pause(n int) error  { return f.st.rec("pause " + itoa(n)) }
func (f fakeSim) Unplug(n int) error { return f.st.rec("unplug " + itoa(n)) }
func (f fakeSim) Fault(n int, kind string) error {
	return f.st.rec("fault " + itoa(n) + " " + kind)
}

func itoa(n int) string { return strconv.Itoa(n) }

// The energy-management routes (localapi.Limiter).
func (f *fakeStation) SetExternalLimit(_ context.Context, n int, e station.ExternalLimit) error {
	until := "none"
	if !e.Until.IsZero() {
		until = e.Until.UTC().Format(time.RFC3339)
	}
	return f.rec("limit " + itoa(n) + " " + e.Current.String() + " until " + until + " by " + e.Source)
}

func (f *fakeStation) ClearExternalLimit(_ context.Context, n int) error {
	return f.rec("clear " + itoa(n))
}

func (f *fakeStation) SetChargeMode(_ context.Context, n int, m station.ChargeMode) error {
	return f.rec("mode " + itoa(n) + " " + string(m))
}

func (f *fakeStation) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func newAPI(t *testing.T, st *fakeStation) string {
	t.Helper()
	srv, err := localapi.New(localapi.Options{Station: st, Sim: fakeSim{st}, StationID: "CP7", Board: "sim",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs.Listener.Addr().String()
}

func TestCtl(t *testing.T) {
	tests := []struct {
		name       string
		args       []string // after "ctl --api ADDR"
		stErr      error
		wantCode   int
		wantCall   string
		wantStdout []string // substrings
		wantStderr string
	}{
		{name: "plug", args: []string{"plug", "1"}, wantCall: "plug 1", wantStdout: []string{"ok"}},
		{name: "charge", args: []string{"charge", "2"}, wantCall: "charge 2", wantStdout: []string{"ok"}},
		{name: "pause", args: []string{"pause", "1"}, wantCall: "pause 1"},
		{name: "unplug", args: []string{"unplug", "1"}, wantCall: "unplug 1"},
		{name: "swipe", args: []string{"swipe", "1", "CARD"}, wantCall: "swipe 1 CARD"},
		{name: "fault", args: []string{"fault", "2", "rcd"}, wantCall: "fault 2 rcd"},
		{name: "start", args: []string{"start", "1", "TAG"}, wantCall: "start 1 TAG"},
		{name: "stop", args: []string{"stop", "1"}, wantCall: "stop 1"},
		{name: "status table", args: []string{"status"}, wantCall: "status", wantStdout: []string{
			"station CP7", "board sim", "standalone", "Charging", "closed", "16.0 A", "1000.0 Wh", "3680 W",
			"s-1 tag=FREE tx=-", "GroundFailure"}},
		{name: "status json after verb", args: []string{"status", "--json"}, wantCall: "status", wantStdout: []string{`"connectors":[`}},
		{name: "stop without session", args: []string{"stop", "1"}, stErr: station.ErrNoSession, wantCode: 1, wantCall: "stop 1", wantStderr: "HTTP 409"},
		{name: "bad fault kind from server", args: []string{"fault", "1", "fire"}, wantCode: 1, wantStderr: "HTTP 400"},
		{name: "missing verb", args: nil, wantCode: 2, wantStderr: "missing command"},
		{name: "unknown verb", args: []string{"fly", "1"}, wantCode: 2, wantStderr: `unknown command "fly"`},
		{name: "missing connector", args: []string{"plug"}, wantCode: 2, wantStderr: "takes 1 argument"},
		{name: "missing tag", args: []string{"swipe", "1"}, wantCode: 2, wantStderr: "takes 2 argument"},
		{name: "bad connector", args: []string{"plug", "one"}, wantCode: 2, wantStderr: "bad connector number"},
		{name: "zero connector", args: []string{"stop", "0"}, wantCode: 2, wantStderr: "bad connector number"},
		{name: "extra status arg", args: []string{"status", "x"}, wantCode: 2, wantStderr: "takes 0 argument"},
		{name: "station limit", args: []string{"limit", "0", "10"}, wantCall: "limit 0 10A until none by ctl", wantStdout: []string{"ok"}},
		{name: "connector limit until", args: []string{"limit", "2", "6.5", "2026-12-06T18:00:00Z"}, wantCall: "limit 2 6.500A until 2026-12-06T18:00:00Z by ctl"},
		{name: "clear limit", args: []string{"limit", "1", "clear"}, wantCall: "clear 1"},
		{name: "bad limit current", args: []string{"limit", "1", "lots"}, wantCode: 2, wantStderr: "bad current"},
		{name: "bad limit until", args: []string{"limit", "1", "10", "soon"}, wantCode: 2, wantStderr: "bad UNTIL"},
		{name: "mode", args: []string{"mode", "1", "pv"}, wantCall: "mode 1 pv"},
		{name: "mode without connector", args: []string{"mode", "pv"}, wantCode: 2, wantStderr: "mode takes 2 arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStation{err: tt.stErr}
			addr := newAPI(t, st)
			var stdout, stderr bytes.Buffer
			code := evsed(append([]string{"ctl", "--api", addr}, tt.args...), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr %s", code, tt.wantCode, stderr.String())
			}
			for _, s := range tt.wantStdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, stderr.String())
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

func TestCtlStatusJSONIsRaw(t *testing.T) {
	addr := newAPI(t, &fakeStation{})
	var stdout, stderr bytes.Buffer
	if code := evsed([]string{"ctl", "--api", addr, "--json", "status"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var v struct {
		Station    map[string]any   `json:"station"`
		Connectors []map[string]any `json:"connectors"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout.String())
	}
	if v.Station["id"] != "CP7" || len(v.Connectors) != 2 {
		t.Errorf("status = %+v", v)
	}
}

func TestCtlUnreachable(t *testing.T) {
	hs := httptest.NewServer(nil)
	addr := hs.Listener.Addr().String()
	hs.Close()
	var stdout, stderr bytes.Buffer
	if code := evsed([]string{"ctl", "--api", addr, "status"}, &stdout, &stderr); code != 1 {
		t.Errorf("exit %d, want 1; stderr %s", code, stderr.String())
	}
}

func TestCtlPassword(t *testing.T) {
	st := &fakeStation{}
	srv, err := localapi.New(localapi.Options{Station: st, Sim: fakeSim{st}, Password: "open sesame",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	addr := hs.Listener.Addr().String()
	for _, tt := range []struct {
		name, env string
		wantCode  int
		wantErr   string
	}{
		{name: "no password", wantCode: 1, wantErr: "HTTP 401"},
		{name: "wrong password", env: "guess again", wantCode: 1, wantErr: "HTTP 401"},
		{name: "right password", env: "open sesame"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("EVSED_API_PASSWORD", tt.env)
			var stdout, stderr bytes.Buffer
			if code := evsed([]string{"ctl", "--api", addr, "plug", "1"}, &stdout, &stderr); code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
	if got := st.Calls(); !slices.Equal(got, []string{"plug 1"}) {
		t.Errorf("calls = %q, want one plug", got)
	}
}

func TestCtlStatusDC(t *testing.T) {
	soc := 23
	tests := []struct {
		name string
		dc   *localapi.DC
		want []string // substrings of the DC line
		not  []string
	}{
		{name: "charging", dc: &localapi.DC{Step: "Charging", SoC: &soc, PresentVoltageV: 344, PresentCurrentA: 200,
			OfferedCurrentA: 200, OfferedPowerW: 120000, IsolationOhm: 5e6, IsolationStatus: "Valid"},
			want: []string{"DC 1: step Charging", "SoC 23 %", "344 V 200.0 A 68.8 kW", "offered 200.0 A 120.0 kW", "isolation Valid 5000 kOhm"},
			not:  []string{"ended"}},
		{name: "faulted, soc unknown", dc: &localapi.DC{Step: "Finished", IsolationStatus: "Invalid", Reason: "IsolationFault"},
			want: []string{"step Finished", "SoC ? %", "isolation Invalid", "ended: IsolationFault"},
			not:  []string{"kOhm"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			st := localapi.Status{Connectors: []localapi.Connector{{ID: 1, Status: "Charging", DC: tt.dc}, {ID: 2, Status: "Available"}}}
			if err := printStatus(&out, st); err != nil {
				t.Fatal(err)
			}
			var dcLines []string
			for _, l := range strings.Split(out.String(), "\n") {
				if strings.HasPrefix(l, "DC ") {
					dcLines = append(dcLines, l)
				}
			}
			if len(dcLines) != 1 {
				t.Fatalf("DC lines %q, want one (connector 2 is AC):\n%s", dcLines, out.String())
			}
			for _, s := range tt.want {
				if !strings.Contains(dcLines[0], s) {
					t.Errorf("%q lacks %q", dcLines[0], s)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(dcLines[0], s) {
					t.Errorf("%q has %q", dcLines[0], s)
				}
			}
		})
	}
}
