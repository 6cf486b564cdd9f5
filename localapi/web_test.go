package localapi

import (
	"bufio"
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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/station"
	"periph.io/x/conn/v3/physic"
)

// snapWith returns a one-connector snapshot.
func snapWith(status station.Status, power physic.Power, offered physic.ElectricCurrent) station.Snapshot {
	return station.Snapshot{Connectors: []station.ConnectorSnapshot{{
		ID: 1, Status: status, Pilot: hal.PilotC, Offered: offered, Limit: 32 * physic.Ampere,
		Meter: meter.Reading{Power: power},
	}}}
}

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct{ name, data string }

// readEvents parses an event stream into events until it ends, sending
// each on the channel; lines must be "event:", "data:", "retry:", ":" or
// blank, anything else is an error.
func readEvents(t *testing.T, resp *http.Response, out chan<- sseEvent, errc chan<- error) {
	defer close(out)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.name != "" || ev.data != "" {
				out <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if ev.data != "" {
				errc <- errors.New("an event with more than one data line: " + line)
			}
			ev.data = strings.TrimPrefix(line, "data: ")
		case strings.HasPrefix(line, "retry: "), strings.HasPrefix(line, ":"):
		default:
			errc <- errors.New("unexpected line in the event stream: " + line)
		}
	}
}

// runServer runs srv on a loopback listener until the test ends and
// returns its base URL.
func runServer(t *testing.T, srv *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v after cancel, want nil (open streams must not hold up the shutdown)", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// waitEvent returns the next event called name, skipping others.
func waitEvent(t *testing.T, events <-chan sseEvent, errc <-chan error, name string, ok func(data string) bool) string {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, open := <-events:
			if !open {
				t.Fatalf("stream ended while waiting for a %q event", name)
			}
			if ev.name == name && (ok == nil || ok(ev.data)) {
				return ev.data
			}
		case err := <-errc:
			t.Fatal(err)
		case <-timeout:
			t.Fatalf("no %q event within 5 s", name)
		}
	}
}

func TestEventStream(t *testing.T) {
	st := &fakeStation{snap: snapWith(station.Available, 0, 0)}
	logs := NewLogBuffer(quiet.Handler(), 10)
	log := slog.New(logs)
	srv, err := New(Options{Station: st, StationID: "CP1", Board: "sim", Logger: quiet, Logs: logs,
		SampleInterval: 10 * time.Millisecond, HistoryStep: 30 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	base := runServer(t, srv)
	resp, err := http.Get(base + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("events: %d %q, want 200 text/event-stream", resp.StatusCode, ct)
	}
	events, errc := make(chan sseEvent, 100), make(chan error, 10)
	go readEvents(t, resp, events, errc)

	// The first event is the whole status.
	var first Status
	if err := json.Unmarshal([]byte(waitEvent(t, events, errc, "status", nil)), &first); err != nil {
		t.Fatal(err)
	}
	if first.Station.ID != "CP1" || len(first.Connectors) != 1 || first.Connectors[0].Status != "Available" {
		t.Errorf("first status = %+v", first)
	}
	// A change comes as a new status event.
	st.setSnap(snapWith(station.Charging, 7400*physic.Watt, 32*physic.Ampere))
	waitEvent(t, events, errc, "status", func(d string) bool {
		var s Status
		return json.Unmarshal([]byte(d), &s) == nil && s.Connectors[0].Status == "Charging" && s.Connectors[0].Meter.PowerW == 7400
	})
	// A finished history step comes as a point.
	var p PointEvent
	data := waitEvent(t, events, errc, "point", func(d string) bool {
		return json.Unmarshal([]byte(d), &p) == nil && p.PowerW == 7400
	})
	if p.Connector != 1 || p.OfferedA != 32 || p.T <= 0 {
		t.Errorf("point = %s, want connector 1, 32 A and a time", data)
	}
	// A log line comes as a log event.
	log.Info("hello from the test", "connector", 2)
	var l LogLine
	waitEvent(t, events, errc, "log", func(d string) bool {
		return json.Unmarshal([]byte(d), &l) == nil && l.Msg == "hello from the test"
	})
	if l.Attrs != "connector=2" || l.Level != "INFO" || l.Seq == 0 {
		t.Errorf("log line = %+v", l)
	}
	// No change, no status event: only points and keep-alives.
	before := len(st.Calls())
	deadline := time.After(100 * time.Millisecond)
	for done := false; !done; {
		select {
		case ev := <-events:
			if ev.name == "status" {
				t.Errorf("status event without a change: %s", ev.data)
			}
		case <-deadline:
			done = true
		}
	}
	if len(st.Calls()) == before {
		t.Error("the feed stopped sampling the station")
	}
}

func TestEventStreamLimit(t *testing.T) {
	srv, err := New(Options{Station: &fakeStation{}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	base := runServer(t, srv)
	var resps []*http.Response
	defer func() {
		for _, r := range resps {
			r.Body.Close()
		}
	}()
	for i := range maxStreams + 1 {
		resp, err := http.Get(base + "/api/v1/events")
		if err != nil {
			t.Fatal(err)
		}
		resps = append(resps, resp)
		want := http.StatusOK
		if i == maxStreams {
			want = http.StatusServiceUnavailable
		}
		if resp.StatusCode != want {
			t.Fatalf("stream %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}

func TestHubDropsSlowStream(t *testing.T) {
	h := newHub()
	ch, _, err := h.subscribe()
	if err != nil {
		t.Fatal(err)
	}
	for range streamBuffer + 1 {
		h.publish([]byte("x"), false)
	}
	n := 0
	for range ch {
		n++
	}
	if n != streamBuffer || h.streams() != 0 {
		t.Errorf("a stream that fell behind got %d frames and %d streams stay, want %d and 0", n, h.streams(), streamBuffer)
	}
}

func TestHistory(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	type sample struct {
		at      time.Duration
		powerW  float64
		offered float64
	}
	tests := []struct {
		name    string
		step    time.Duration
		length  time.Duration
		samples []sample
		now     time.Duration // of the snapshot
		want    []Point
		wantNew int // points finished by the samples
	}{
		{name: "one step in progress", step: 5 * time.Second, length: time.Hour,
			samples: []sample{{0, 1000, 10}, {time.Second, 3000, 16}}, now: 2 * time.Second, want: []Point{}},
		{name: "a finished step is the mean", step: 5 * time.Second, length: time.Hour,
			samples: []sample{{0, 1000, 10}, {time.Second, 3000, 16}, {5 * time.Second, 0, 0}},
			now:     6 * time.Second, want: []Point{{T: t0.UnixMilli(), PowerW: 2000, OfferedA: 13}}, wantNew: 1},
		{name: "the ring keeps the last length", step: time.Second, length: 3 * time.Second,
			samples: []sample{{0, 1, 6}, {time.Second, 2, 6}, {2 * time.Second, 3, 6}, {3 * time.Second, 4, 6}, {4 * time.Second, 5, 6}, {5 * time.Second, 6, 6}},
			now:     5 * time.Second, wantNew: 5,
			want: []Point{
				{T: t0.Add(2 * time.Second).UnixMilli(), PowerW: 3, OfferedA: 6},
				{T: t0.Add(3 * time.Second).UnixMilli(), PowerW: 4, OfferedA: 6},
				{T: t0.Add(4 * time.Second).UnixMilli(), PowerW: 5, OfferedA: 6},
			}},
		{name: "old points age out", step: time.Second, length: 3 * time.Second,
			samples: []sample{{0, 1, 6}, {time.Second, 2, 6}},
			now:     time.Hour, want: []Point{}, wantNew: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistory(tt.step, tt.length)
			finished := 0
			for _, s := range tt.samples {
				st := Status{Connectors: []Connector{{ID: 1, OfferedA: s.offered, Meter: Meter{PowerW: s.powerW}}}}
				finished += len(h.observe(t0.Add(s.at), st))
			}
			got := h.snapshot(t0.Add(tt.now))
			if len(got.Connectors) != 1 || got.Connectors[0].ID != 1 {
				t.Fatalf("connectors = %+v, want one, id 1", got.Connectors)
			}
			if !reflect.DeepEqual(got.Connectors[0].Points, tt.want) {
				t.Errorf("points = %+v, want %+v", got.Connectors[0].Points, tt.want)
			}
			if finished != tt.wantNew {
				t.Errorf("observe finished %d points, want %d", finished, tt.wantNew)
			}
			if got.StepSeconds != tt.step.Seconds() || got.LengthSeconds != tt.length.Seconds() {
				t.Errorf("step %g s, length %g s", got.StepSeconds, got.LengthSeconds)
			}
		})
	}
}

func TestHistoryEndpoint(t *testing.T) {
	srv, err := New(Options{Station: &fakeStation{}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range 3 {
		srv.history.observe(now.Add(time.Duration(i-3)*5*time.Second), Status{Connectors: []Connector{{ID: 1, Meter: Meter{PowerW: 11000}, OfferedA: 16}, {ID: 2}}})
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, apiRequest(srv, "GET", "/api/v1/history", ""))
	var got struct {
		StepSeconds   float64 `json:"stepSeconds"`
		LengthSeconds float64 `json:"lengthSeconds"`
		Connectors    []struct {
			ID     int              `json:"id"`
			Points []map[string]any `json:"points"`
		} `json:"connectors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
		t.Fatalf("history: %d %v: %s", rec.Code, err, rec.Body)
	}
	if got.StepSeconds != 5 || got.LengthSeconds != 3600 || len(got.Connectors) != 2 {
		t.Fatalf("history = %s", rec.Body)
	}
	if pts := got.Connectors[0].Points; len(pts) != 2 || pts[0]["powerW"] != 11000.0 || pts[0]["offeredA"] != 16.0 || pts[0]["t"] == nil {
		t.Errorf("connector 1 points = %v, want two of 11000 W, 16 A", pts)
	}
}

func TestAccess(t *testing.T) {
	const pw = "open sesame"
	tests := []struct {
		name       string
		password   string // the server's
		method     string
		path       string
		body       string
		host       string // "" = 127.0.0.1:8090
		basic      string // Basic password sent; "" = none
		token      string // "good", "bad" or "" (none)
		page       bool   // sent by the page (X-Evsed-Page)
		origin     string // the Origin header a browser adds; "" = none (a program)
		wantCode   int
		wantCall   bool // the station was driven
		wantPrompt bool // WWW-Authenticate asked for Basic
	}{
		{name: "loopback, no password, read", method: "GET", path: "/api/v1/status", wantCode: 200},
		{name: "loopback, no password, command with token", method: "POST", path: "/api/v1/connectors/1/stop", token: "good", wantCode: 200, wantCall: true},
		{name: "browser command without token", method: "POST", path: "/api/v1/connectors/1/stop", origin: "http://127.0.0.1:8090", wantCode: 403},
		{name: "cross-site form without token", method: "POST", path: "/api/v1/connectors/1/stop", origin: "https://evil.example", wantCode: 403},
		{name: "browser command with a wrong token", method: "POST", path: "/api/v1/connectors/1/stop", origin: "http://127.0.0.1:8090", token: "bad", wantCode: 403},
		{name: "browser sim command without token", method: "POST", path: "/api/v1/sim/connectors/1/plug", origin: "null", wantCode: 403},
		{name: "program command without token (the plain API contract)", method: "POST", path: "/api/v1/connectors/1/stop", wantCode: 200, wantCall: true},
		{name: "program sim command without token", method: "POST", path: "/api/v1/sim/connectors/1/plug", wantCode: 200, wantCall: true},
		{name: "rebound DNS name without password", method: "GET", path: "/api/v1/status", host: "evil.example:8090", wantCode: 421},
		{name: "localhost by name", method: "GET", path: "/api/v1/status", host: "localhost:8090", wantCode: 200},
		{name: "IPv6 loopback", method: "GET", path: "/api/v1/status", host: "[::1]:8090", wantCode: 200},

		{name: "password: read without it", password: pw, method: "GET", path: "/api/v1/status", wantCode: 401, wantPrompt: true},
		{name: "password: the page is not prompted", password: pw, method: "GET", path: "/api/v1/status", page: true, wantCode: 401},
		{name: "password: events without it", password: pw, method: "GET", path: "/api/v1/events", wantCode: 401, wantPrompt: true},
		{name: "password: wrong Basic", password: pw, method: "GET", path: "/api/v1/status", basic: "guess", wantCode: 401, wantPrompt: true},
		{name: "password: right Basic", password: pw, method: "GET", path: "/api/v1/status", basic: pw, wantCode: 200},
		{name: "password: any Host once authenticated", password: pw, method: "GET", path: "/api/v1/status", basic: pw, host: "charger.lan:8090", wantCode: 200},
		{name: "password: right Basic, browser command without token", password: pw, method: "POST", path: "/api/v1/connectors/1/stop", basic: pw, origin: "https://evil.example", wantCode: 403},
		{name: "password: right Basic, program command without token", password: pw, method: "POST", path: "/api/v1/connectors/1/stop", basic: pw, wantCode: 200, wantCall: true},
		{name: "password: right Basic, command with token", password: pw, method: "POST", path: "/api/v1/connectors/1/stop", basic: pw, token: "good", wantCode: 200, wantCall: true},
		{name: "password: token alone is not enough", password: pw, method: "POST", path: "/api/v1/connectors/1/stop", token: "good", wantCode: 401, wantPrompt: true},
		{name: "password: page is public", password: pw, method: "GET", path: "/", host: "charger.lan", wantCode: 200},
		{name: "password: page script is public", password: pw, method: "GET", path: "/ui/app.js", wantCode: 200},
		{name: "password: session probe is public", password: pw, method: "GET", path: "/api/v1/session", wantCode: 200},
		{name: "password: commissioning needs it", password: pw, method: "GET", path: "/api/v1/commissioning", page: true, wantCode: 401},
		{name: "password: history needs it", password: pw, method: "GET", path: "/api/v1/history", page: true, wantCode: 401},
		{name: "login without password set", method: "POST", path: "/api/v1/login", body: `{"password":"x"}`, wantCode: 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStation{}
			srv, err := New(Options{Station: st, Sim: &fakeSim{st: st}, Logger: quiet, Password: tt.password})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			req.Host = "127.0.0.1:8090"
			if tt.host != "" {
				req.Host = tt.host
			}
			if tt.basic != "" {
				req.SetBasicAuth("admin", tt.basic)
			}
			switch tt.token {
			case "good":
				req.Header.Set(TokenHeader, srv.access.token)
			case "bad":
				req.Header.Set(TokenHeader, strings.Repeat("A", len(srv.access.token)))
			}
			if tt.page {
				req.Header.Set(pageHeader, "1")
			}
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			rec := httptest.NewRecorder()
			if tt.path == "/api/v1/events" {
				// A granted stream would never end; this one must not be.
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				req = req.WithContext(ctx)
			}
			srv.Handler().ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Errorf("code = %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			called := false
			for _, c := range st.Calls() {
				called = called || c != "status"
			}
			if called != tt.wantCall {
				t.Errorf("station calls %q; want a command: %v", st.Calls(), tt.wantCall)
			}
			if prompt := rec.Header().Get("WWW-Authenticate") != ""; prompt != tt.wantPrompt {
				t.Errorf("WWW-Authenticate %q, want a prompt: %v", rec.Header().Get("WWW-Authenticate"), tt.wantPrompt)
			}
		})
	}
}

// do sends a request to srv's handler from a loopback client.
func do(srv *Server, method, path, body string, setup func(*http.Request)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Host = "127.0.0.1:8090"
	if setup != nil {
		setup(req)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	return rec
}

func TestLoginSession(t *testing.T) {
	const pw = "open sesame"
	srv, err := New(Options{Station: &fakeStation{}, StationID: "CP7", Logger: quiet, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	var info SessionInfo
	rec := do(srv, "GET", "/api/v1/session", "", nil)
	if err := json.Unmarshal(rec.Body.Bytes(), &info); err != nil {
		t.Fatal(err)
	}
	if info != (SessionInfo{PasswordRequired: true, StationID: "CP7"}) {
		t.Errorf("session before login = %+v, want a password required and no token", info)
	}
	asJSON := func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }
	if rec := do(srv, "POST", "/api/v1/login", `{"password":"nope"}`, asJSON); rec.Code != 401 || len(rec.Result().Cookies()) != 0 {
		t.Errorf("wrong login: %d, cookies %v; want 401 and none", rec.Code, rec.Result().Cookies())
	}
	// What a cross-site text/plain form can send is refused.
	if rec := do(srv, "POST", "/api/v1/login", `{"password":"`+pw+`"}`, func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }); rec.Code != 415 || len(rec.Result().Cookies()) != 0 {
		t.Errorf("login as text/plain: %d, cookies %v; want 415 and none", rec.Code, rec.Result().Cookies())
	}
	rec = do(srv, "POST", "/api/v1/login", `{"password":"`+pw+`"}`, asJSON)
	cookies := rec.Result().Cookies()
	if rec.Code != 200 || len(cookies) != 1 || cookies[0].Name != SessionCookie {
		t.Fatalf("login: %d, cookies %v", rec.Code, cookies)
	}
	c := cookies[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.MaxAge <= 0 {
		t.Errorf("cookie %+v, want HttpOnly, SameSite=Strict and a lifetime", c)
	}
	withCookie := func(r *http.Request) { r.AddCookie(c) }
	rec = do(srv, "GET", "/api/v1/session", "", withCookie)
	if err := json.Unmarshal(rec.Body.Bytes(), &info); err != nil {
		t.Fatal(err)
	}
	if !info.Authenticated || info.Token != srv.access.token {
		t.Errorf("session after login = %+v, want authenticated with the token", info)
	}
	if rec := do(srv, "GET", "/api/v1/status", "", withCookie); rec.Code != 200 {
		t.Errorf("status with the cookie: %d", rec.Code)
	}
	// Logging out is a command: it needs the token, and ends the login.
	if rec := do(srv, "POST", "/api/v1/logout", "", withCookie); rec.Code != 403 {
		t.Errorf("logout without token: %d, want 403", rec.Code)
	}
	rec = do(srv, "POST", "/api/v1/logout", "", func(r *http.Request) { withCookie(r); r.Header.Set(TokenHeader, info.Token) })
	if rec.Code != 200 {
		t.Errorf("logout: %d", rec.Code)
	}
	if rec := do(srv, "GET", "/api/v1/status", "", withCookie); rec.Code != 401 {
		t.Errorf("status with the cookie after logout: %d, want 401", rec.Code)
	}
	if rec := do(srv, "GET", "/api/v1/status", "", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: SessionCookie, Value: "forged"}) }); rec.Code != 401 {
		t.Errorf("status with a forged cookie: %d, want 401", rec.Code)
	}
}

func TestLoginLockout(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	a := newAccess("right password", clock)
	for i := range freeFailures {
		if err := a.checkPassword("wrong"); err == nil || errors.As(err, new(errLockedOut)) {
			t.Fatalf("failure %d: %v, want a plain mismatch", i+1, err)
		}
	}
	// The next failure locks: even the right password waits.
	if err := a.checkPassword("wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
	if err := a.checkPassword("right password"); !errors.As(err, new(errLockedOut)) {
		t.Fatalf("during the lockout: %v, want errLockedOut", err)
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	if err := a.checkPassword("right password"); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	// Success resets the count.
	if err := a.checkPassword("wrong"); err == nil || errors.As(err, new(errLockedOut)) {
		t.Fatalf("after a success: %v, want a plain mismatch", err)
	}
}

func TestSessionsBounded(t *testing.T) {
	a := newAccess("pw", time.Now)
	first := a.newSession()
	for range maxSessions {
		a.newSession()
	}
	if len(a.sessions) != maxSessions || a.validSession(first) {
		t.Errorf("%d sessions kept, first still valid: %v; want %d and the oldest gone", len(a.sessions), a.validSession(first), maxSessions)
	}
}

// addrListener reports a chosen address, to test Run's check without
// listening beyond loopback.
type addrListener struct {
	net.Listener
	addr net.Addr
}

func (l addrListener) Addr() net.Addr { return l.addr }

func TestRunRefusesExposureWithoutPassword(t *testing.T) {
	for _, tt := range []struct {
		name     string
		password string
		ip       string
		wantErr  bool
	}{
		{name: "loopback, no password", ip: "127.0.0.1"},
		{name: "all interfaces, no password", ip: "0.0.0.0", wantErr: true},
		{name: "LAN address, no password", ip: "192.0.2.10", wantErr: true},
		{name: "LAN address with password", password: "long enough", ip: "192.0.2.10"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := New(Options{Station: &fakeStation{}, Logger: quiet, Password: tt.password})
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			fake := addrListener{ln, &net.TCPAddr{IP: net.ParseIP(tt.ip), Port: 8090}}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			err = srv.Run(ctx, fake)
			if got := errors.Is(err, ErrNoPassword); got != tt.wantErr {
				t.Errorf("Run = %v, want ErrNoPassword: %v", err, tt.wantErr)
			}
		})
	}
}

func TestLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8090": true, "[::1]:8090": true, "localhost:8090": true, "127.1.2.3:1": true,
		":8090": false, "0.0.0.0:8090": false, "[::]:8090": false, "192.168.1.5:8090": false, "charger.lan:80": false, "nonsense": false,
	} {
		if got := LoopbackAddr(addr); got != want {
			t.Errorf("LoopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestMaskSecrets(t *testing.T) {
	in := map[string]any{
		"csms": map[string]any{
			"url":           "wss://CP1:hunter2@csms.example/ocpp",
			"password":      "hunter2",
			"password_file": "/etc/evsed/csms-password",
			"key_file":      "/etc/evsed/client.key",
		},
		"api":  map[string]any{"listen": "0.0.0.0:8090", "password": "open sesame", "password_file": ""},
		"ocpp": map[string]any{"AuthorizationKey": "0011223344", "HeartbeatInterval": "300"},
		"connectors": map[any]any{
			1: map[string]any{"max_current_a": 16},
		},
		"list":    []any{map[string]any{"token": "t0k3n"}},
		"station": map[string]any{"id": "CP1", "secret": ""},
	}
	want := map[string]any{
		"csms": map[string]any{
			"url":           "wss://CP1:" + Masked + "@csms.example/ocpp",
			"password":      Masked,
			"password_file": "/etc/evsed/csms-password",
			"key_file":      "/etc/evsed/client.key",
		},
		"api":        map[string]any{"listen": "0.0.0.0:8090", "password": Masked, "password_file": ""},
		"ocpp":       map[string]any{"AuthorizationKey": Masked, "HeartbeatInterval": "300"},
		"connectors": map[string]any{"1": map[string]any{"max_current_a": 16}},
		"list":       []any{map[string]any{"token": Masked}},
		"station":    map[string]any{"id": "CP1", "secret": ""},
	}
	if got := MaskSecrets(in); !reflect.DeepEqual(got, want) {
		t.Errorf("MaskSecrets =\n%v\nwant\n%v", got, want)
	}
	if in["api"].(map[string]any)["password"] != "open sesame" {
		t.Error("MaskSecrets changed its input")
	}
}

// fakeMeter answers Read with r or err.
type fakeMeter struct {
	r   meter.Reading
	err error
}

func (m *fakeMeter) String() string { return "fake-meter@test" }
func (m *fakeMeter) Read(context.Context) (meter.Reading, error) {
	return m.r, m.err
}

// fakeRCD records self tests.
type fakeRCD struct {
	mu    sync.Mutex // guards tests
	tests int
	err   error
}

func (r *fakeRCD) String() string { return "fake-rcd" }
func (r *fakeRCD) Halt() error    { return nil }
func (r *fakeRCD) Tripped() bool  { return false }
func (r *fakeRCD) SelfTest(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tests++
	return r.err
}

func TestCommissioning(t *testing.T) {
	v := "0011223344"
	hb := "300"
	st := &fakeStation{snap: station.Snapshot{Connectors: []station.ConnectorSnapshot{{ID: 1, Status: station.Available,
		Meter: meter.Reading{Power: 230 * physic.Watt, Voltage: [3]physic.ElectricPotential{230 * physic.Volt}, Frequency: 50 * physic.Hertz}}}}}
	logs := NewLogBuffer(quiet.Handler(), 5)
	slog.New(logs).Warn("meter slow", "connector", 1)
	srv, err := New(Options{Station: st, Logger: quiet, Logs: logs, Commissioning: func() *Commissioning {
		return &Commissioning{
			Version: "v1.2.3",
			Board:   BoardInfo{Name: "rpi-relay", File: "name: rpi-relay\n", Connectors: []HardwareInfo{{ID: 1, MaxCurrentA: 16, Phases: 1, RCD: true, Meter: "fake-meter@test"}}},
			Config:  map[string]any{"api": map[string]any{"password": "open sesame"}, "csms": map[string]any{"url": "ws://cp:pw@host/x"}},
			OCPPKeys: func(context.Context) ([]OCPPKey, error) {
				return []OCPPKey{{Key: "HeartbeatInterval", Value: &hb}, {Key: "AuthorizationKey"}, {Key: "SecretThing", Value: &v}}, nil
			},
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	rec := do(srv, "GET", "/api/v1/commissioning", "", nil)
	if rec.Code != 200 {
		t.Fatalf("commissioning: %d %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	for _, secret := range []string{"open sesame", "0011223344", ":pw@"} {
		if strings.Contains(body, secret) {
			t.Errorf("commissioning shows the secret %q: %s", secret, body)
		}
	}
	var view CommissioningView
	if err := json.Unmarshal(rec.Body.Bytes(), &view); err != nil {
		t.Fatal(err)
	}
	if view.Version != "v1.2.3" || view.Board.Name != "rpi-relay" || len(view.Board.Connectors) != 1 {
		t.Errorf("board = %+v", view.Board)
	}
	if len(view.Readings) != 1 || view.Readings[0].PowerW != 230 || view.Readings[0].VoltageV[0] != 230 || view.Readings[0].FrequencyHz != 50 {
		t.Errorf("readings = %+v", view.Readings)
	}
	if len(view.OCPPKeys) != 3 || view.OCPPKeys[0].Key != "AuthorizationKey" || view.OCPPKeys[0].Value != nil ||
		*view.OCPPKeys[2].Value != Masked || *view.OCPPKeys[1].Value != "300" {
		t.Errorf("OCPP keys = %+v, want sorted, write-only without value, secrets masked", view.OCPPKeys)
	}
	if len(view.Logs) != 1 || view.Logs[0].Msg != "meter slow" || view.Logs[0].Level != "WARN" {
		t.Errorf("logs = %+v", view.Logs)
	}
}

func TestCommissioningTests(t *testing.T) {
	session := station.Snapshot{Connectors: []station.ConnectorSnapshot{{ID: 1, Status: station.Charging, Contactor: true,
		Session: &station.SessionSnapshot{ID: "s1"}}}}
	idle := station.Snapshot{Connectors: []station.ConnectorSnapshot{{ID: 1, Status: station.Available, Pilot: hal.PilotA}}}
	plugged := station.Snapshot{Connectors: []station.ConnectorSnapshot{{ID: 1, Status: station.Preparing, Pilot: hal.PilotB}}}
	tests := []struct {
		name     string
		path     string
		snap     station.Snapshot
		meterErr error
		rcdErr   error
		wantCode int
		wantRCD  int // self tests run
	}{
		{name: "meter", path: "/api/v1/connectors/1/test-meter", snap: idle, wantCode: 200},
		{name: "meter during a session", path: "/api/v1/connectors/1/test-meter", snap: session, wantCode: 200},
		{name: "meter silent", path: "/api/v1/connectors/1/test-meter", snap: idle, meterErr: meter.ErrNoResponse, wantCode: 504},
		{name: "no meter", path: "/api/v1/connectors/2/test-meter", snap: idle, wantCode: 404},
		{name: "rcd", path: "/api/v1/connectors/1/test-rcd", snap: idle, wantCode: 200, wantRCD: 1},
		{name: "rcd fails", path: "/api/v1/connectors/1/test-rcd", snap: idle, rcdErr: errors.New("no trip"), wantCode: 502, wantRCD: 1},
		{name: "rcd refused during a session", path: "/api/v1/connectors/1/test-rcd", snap: session, wantCode: 409},
		{name: "rcd refused with a vehicle plugged in", path: "/api/v1/connectors/1/test-rcd", snap: plugged, wantCode: 409},
		{name: "no rcd", path: "/api/v1/connectors/2/test-rcd", snap: idle, wantCode: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcd := &fakeRCD{err: tt.rcdErr}
			m := &fakeMeter{r: meter.Reading{EnergyImport: 1500 * meter.WattHour}, err: tt.meterErr}
			srv, err := New(Options{Station: &fakeStation{snap: tt.snap}, Logger: quiet, Commissioning: func() *Commissioning {
				return &Commissioning{Meters: map[int]meter.Meter{1: m}, RCDs: map[int]hal.RCD{1: rcd}}
			}})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, apiRequest(srv, "POST", tt.path, ""))
			if rec.Code != tt.wantCode {
				t.Errorf("code = %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if rcd.tests != tt.wantRCD {
				t.Errorf("%d RCD self tests, want %d", rcd.tests, tt.wantRCD)
			}
			if tt.wantCode == 200 && strings.HasSuffix(tt.path, "test-meter") && !strings.Contains(rec.Body.String(), `"energyWh":1500`) {
				t.Errorf("meter test body %s, want the fresh reading", rec.Body)
			}
		})
	}
}

func TestLogBuffer(t *testing.T) {
	var next strings.Builder
	b := NewLogBuffer(slog.NewTextHandler(&next, &slog.HandlerOptions{Level: slog.LevelInfo}), 3)
	log := slog.New(b).With("station", "CP1").WithGroup("ocpp")
	log.Debug("dropped: below the level")
	log.Info("one", "n", 1)
	log.Warn("two", "text", "has spaces", slog.Group("g", "k", "v"))
	log.Info("three")
	log.Error("four")
	lines := b.Lines(0)
	if len(lines) != 3 || lines[0].Msg != "two" || lines[2].Msg != "four" || lines[2].Seq != 4 {
		t.Fatalf("lines = %+v, want the last three of four, seq 2..4", lines)
	}
	if want := `station=CP1 ocpp.text="has spaces" ocpp.g.k=v`; lines[0].Attrs != want {
		t.Errorf("attrs = %q, want %q", lines[0].Attrs, want)
	}
	if got := b.Lines(3); len(got) != 1 || got[0].Msg != "four" {
		t.Errorf("Lines(3) = %+v, want only four", got)
	}
	if !strings.Contains(next.String(), "msg=one") || strings.Contains(next.String(), "dropped") {
		t.Errorf("the next handler got %q", next.String())
	}
	slog.New(b).Info(strings.Repeat("x", 5000))
	if l := b.Lines(4); len(l) != 1 || len(l[0].Msg) > maxLogLineBytes+4 {
		t.Errorf("a huge line is kept whole: %d bytes", len(l[0].Msg))
	}
}

func TestUI(t *testing.T) {
	srv, err := New(Options{Station: &fakeStation{}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, wantType, wantBody string }{
		{"/", "text/html", "<title>"},
		{"/ui/app.js", "text/javascript", "EventSource"},
		{"/ui/app.css", "text/css", ":root"},
	} {
		rec := do(srv, "GET", tt.path, "", nil)
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), tt.wantType) || !strings.Contains(rec.Body.String(), tt.wantBody) {
			t.Errorf("GET %s: %d %q, want 200 %s with %q", tt.path, rec.Code, rec.Header().Get("Content-Type"), tt.wantType, tt.wantBody)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: CSP %q", tt.path, csp)
		}
		etag := rec.Header().Get("ETag")
		again := do(srv, "GET", tt.path, "", func(r *http.Request) { r.Header.Set("If-None-Match", etag) })
		if etag == "" || again.Code != http.StatusNotModified {
			t.Errorf("GET %s with its ETag %q: %d, want 304", tt.path, etag, again.Code)
		}
	}
	if rec := do(srv, "GET", "/ui/nope.js", "", nil); rec.Code != 404 {
		t.Errorf("missing file: %d, want 404", rec.Code)
	}
	if n := UISize(); n < 1000 || n > 100<<10 {
		t.Errorf("UISize = %d bytes, want a small page", n)
	}
}

func TestClientTokenAndPassword(t *testing.T) {
	ctx := context.Background()
	const pw = "open sesame"
	st := &fakeStation{}
	var mu sync.Mutex // guards current
	current, err := New(Options{Station: st, Sim: &fakeSim{st: st}, Logger: quiet, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := current.Handler()
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	defer hs.Close()
	c, err := NewClient(hs.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ae *APIError
	if err := c.Plug(ctx, 1); !errors.As(err, &ae) || ae.StatusCode != 401 {
		t.Fatalf("plug without the password: %v, want 401", err)
	}
	c.SetPassword(pw)
	if err := c.Plug(ctx, 1); err != nil {
		t.Fatalf("plug with the password: %v", err)
	}
	// The server restarts with a new token: the client fetches it.
	mu.Lock()
	current, err = New(Options{Station: st, Sim: &fakeSim{st: st}, Logger: quiet, Password: pw})
	mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Unplug(ctx, 1); err != nil {
		t.Fatalf("unplug after a restart: %v", err)
	}
	want := []string{"plug 1", "unplug 1"}
	if got := st.Calls(); !reflect.DeepEqual(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
}

func TestClientAgainstServerWithoutTokens(t *testing.T) {
	// An evsed from before request tokens has no /api/v1/session and
	// takes commands without a token.
	var got []string
	var mu sync.Mutex
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" token="+r.Header.Get(TokenHeader))
		mu.Unlock()
		if r.URL.Path == "/api/v1/session" {
			writeError(w, http.StatusNotFound, errors.New("no route"))
			return
		}
		writeJSON(w, http.StatusOK, okBody{OK: true})
	}))
	defer hs.Close()
	c, err := NewClient(hs.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Plug(context.Background(), 1); err != nil {
		t.Fatalf("plug: %v", err)
	}
	want := []string{"GET /api/v1/session token=", "POST /api/v1/sim/connectors/1/plug token="}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("requests = %q, want %q", got, want)
	}
}

// TestFromBrowser: a browser is told by any of the headers browsers add
// (and a cross-site request cannot drop); a program sends none.
func TestFromBrowser(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header map[string]string
		cookie bool
		want   bool
	}{
		{"program", nil, false, false},
		{"program with a JSON body", map[string]string{"Content-Type": "application/json"}, false, false},
		{"Origin", map[string]string{"Origin": "https://evil.example"}, false, true},
		{"opaque Origin", map[string]string{"Origin": "null"}, false, true},
		{"fetch metadata", map[string]string{"Sec-Fetch-Site": "cross-site"}, false, true},
		{"fetch mode", map[string]string{"Sec-Fetch-Mode": "navigate"}, false, true},
		{"session cookie", nil, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v1/connectors/1/stop", nil)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if tc.cookie {
				r.AddCookie(&http.Cookie{Name: SessionCookie, Value: "x"})
			}
			if got := fromBrowser(r); got != tc.want {
				t.Errorf("fromBrowser = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestLogBufferWindow: the ring as a diagnostics source gives the lines
// of the window only, oldest first.
func TestLogBufferWindow(t *testing.T) {
	var clock time.Time
	b := NewLogBuffer(slog.NewTextHandler(io.Discard, nil), 10)
	log := slog.New(b)
	base := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for i := range 5 {
		clock = base.Add(time.Duration(i) * time.Minute)
		r := slog.NewRecord(clock, slog.LevelInfo, fmt.Sprintf("line %d", i), 0)
		r.AddAttrs(slog.Int("n", i))
		if err := log.Handler().Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	var out strings.Builder
	if _, err := b.WriteWindow(&out, base.Add(time.Minute), base.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	want := "2026-12-06T10:01:00Z INFO line 1 n=1\n2026-12-06T10:02:00Z INFO line 2 n=2\n2026-12-06T10:03:00Z INFO line 3 n=3\n"
	if out.String() != want {
		t.Errorf("window:\n%s\nwant:\n%s", out.String(), want)
	}
}
