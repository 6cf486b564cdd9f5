package localapi

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/evsed/evsed/station"
)

// limitStation is a fakeStation that takes external limits and modes,
// answering as the station does for what it refuses.
type limitStation struct{ fakeStation }

func (l *limitStation) SetExternalLimit(_ context.Context, n int, e station.ExternalLimit) error {
	if n > 2 {
		return fmt.Errorf("connector %d: %w", n, station.ErrNoConnector)
	}
	return l.record("limit %d %v until %v by %q", n, e.Current, e.Until.UTC().Format("15:04"), e.Source)
}

func (l *limitStation) ClearExternalLimit(_ context.Context, n int) error {
	return l.record("clear %d", n)
}

func (l *limitStation) SetChargeMode(_ context.Context, n int, m station.ChargeMode) error {
	switch m {
	case station.ModeFast, station.ModePV, station.ModeMinPV:
	default:
		return fmt.Errorf("%q: %w", m, station.ErrInvalidMode)
	}
	if m != station.ModeFast {
		return fmt.Errorf("connector %d: %w", n, station.ErrNoGridMeter)
	}
	return l.record("mode %d %s", n, m)
}

// The limits and mode routes: what reaches the station, and the answer to
// each refusal, from the request checks and from the station.
func TestLimitRoutes(t *testing.T) {
	tests := []struct {
		name, path, body string
		wantCode         int
		wantCall         string
	}{
		{"station limit with expiry", "/api/v1/limits", `{"connector":0,"currentA":10,"until":"2026-12-06T18:00:00Z","source":"hems"}`, 200, `limit 0 10A until 18:00 by "hems"`},
		{"connector limit", "/api/v1/limits", `{"connector":2,"currentA":6.5}`, 200, `limit 2 6.500A until 00:00 by ""`},
		{"clear", "/api/v1/limits", `{"connector":1,"clear":true}`, 200, "clear 1"},
		{"negative current", "/api/v1/limits", `{"connector":1,"currentA":-1}`, 400, ""},
		{"negative connector", "/api/v1/limits", `{"connector":-1,"currentA":10}`, 400, ""},
		{"unknown connector", "/api/v1/limits", `{"connector":9,"currentA":10}`, 404, ""},
		{"unknown field", "/api/v1/limits", `{"connector":1,"amps":10}`, 400, ""},
		{"source too long", "/api/v1/limits", `{"connector":1,"currentA":10,"source":"` + strings.Repeat("s", 33) + `"}`, 400, ""},
		{"mode fast", "/api/v1/connectors/1/mode", `{"mode":"fast"}`, 200, "mode 1 fast"},
		{"mode pv without a grid meter", "/api/v1/connectors/1/mode", `{"mode":"pv"}`, 409, ""},
		{"unknown mode", "/api/v1/connectors/1/mode", `{"mode":"turbo"}`, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := &limitStation{}
			srv, err := New(Options{Station: st, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, apiRequest(srv, "POST", tc.path, tc.body))
			if rec.Code != tc.wantCode {
				t.Fatalf("code %d (%s), want %d", rec.Code, rec.Body, tc.wantCode)
			}
			calls := st.Calls()
			if tc.wantCall == "" && len(calls) != 0 || tc.wantCall != "" && (len(calls) != 1 || calls[0] != tc.wantCall) {
				t.Errorf("station calls %q, want %q", calls, tc.wantCall)
			}
		})
	}
}

// A station that takes no external limits answers 501, not 404: the
// route exists.
func TestLimitRoutesWithoutLimiter(t *testing.T) {
	srv, err := New(Options{Station: &fakeStation{}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, apiRequest(srv, "POST", "/api/v1/limits", `{"connector":0,"currentA":10}`))
	if rec.Code != 501 {
		t.Errorf("code %d, want 501", rec.Code)
	}
}
