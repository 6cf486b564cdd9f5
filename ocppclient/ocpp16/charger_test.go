package ocpp16

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/station"
	"github.com/evsed/evsed/station/tariff"
	"periph.io/x/conn/v3/physic"
)

// t0 is the virtual start time of every test.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeStation records the commands the adapter gives and answers them as
// scripted. Modify its fields (under mu) to change answers.
type fakeStation struct {
	mu       sync.Mutex // guards everything below
	snap     station.Snapshot
	cfg      station.Config
	avail    station.AvailabilityResult
	unlock   station.UnlockResult
	startErr error
	stopErr  error
	calls    []string // "Method arg..." in order
	done     chan string
	// limits are the schedules SetLimits gave, by connector (0: station).
	limits map[int]station.LimitSchedule
	// reserve answers Reserve; reservations are the accepted ones.
	reserve      station.ReservationResult
	reservations []station.Reservation
	// tariffs are the tariffs SetTariff gave, by connector (0: default);
	// online is what SetOnline said last (nil: never called). Display
	// updates land in snap's connectors (see UpdateDisplay).
	tariffs map[int]*tariff.Tariff
	online  *bool
}

func newFakeStation(n int) *fakeStation {
	s := &fakeStation{avail: station.AvailabilityAccepted, unlock: station.Unlocked, done: make(chan string, 100)}
	for i := 1; i <= n; i++ {
		s.snap.Connectors = append(s.snap.Connectors, station.ConnectorSnapshot{ID: i, Status: station.Available, Error: station.NoError,
			MaxCurrent: 32 * physic.Ampere, Limit: 32 * physic.Ampere, Phases: 3})
	}
	return s
}

func (s *fakeStation) record(call string) {
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()
	s.done <- call
}

func (s *fakeStation) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func (s *fakeStation) Status(context.Context) (station.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap, nil
}

func (s *fakeStation) Start(_ context.Context, connector int, idTag string, o station.StartOptions) error {
	s.record(fmtCall("Start", connector, idTag, o.Remote, o.SkipAuthorization))
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startErr
}

func (s *fakeStation) StopSession(_ context.Context, id string, r station.StopReason) error {
	s.record(fmtCall("StopSession", id, r))
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopErr
}

func (s *fakeStation) Deauthorize(_ context.Context, id string) error {
	s.record(fmtCall("Deauthorize", id))
	return nil
}

func (s *fakeStation) AttachTransactionID(_ context.Context, id, tx string) error {
	s.record(fmtCall("AttachTransactionID", id, tx))
	return nil
}

func (s *fakeStation) SetAvailability(_ context.Context, connector int, available bool) (station.AvailabilityResult, error) {
	s.record(fmtCall("SetAvailability", connector, available))
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.avail, nil
}

func (s *fakeStation) Unlock(_ context.Context, connector int) (station.UnlockResult, error) {
	s.record(fmtCall("Unlock", connector))
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unlock, nil
}

func (s *fakeStation) Reset(_ context.Context, r station.StopReason) error {
	s.record(fmtCall("Reset", r))
	return nil
}

func (s *fakeStation) SetConfig(_ context.Context, c station.Config) error {
	s.mu.Lock()
	s.cfg = c
	s.mu.Unlock()
	s.record("SetConfig")
	return nil
}

func (s *fakeStation) SetLimits(_ context.Context, n int, l station.LimitSchedule) error {
	s.mu.Lock()
	if s.limits == nil {
		s.limits = map[int]station.LimitSchedule{}
	}
	s.limits[n] = l
	s.mu.Unlock()
	return nil
}

// limit returns the schedule SetLimits last gave connector n.
func (s *fakeStation) limit(n int) (station.LimitSchedule, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.limits[n]
	return l, ok
}

func (s *fakeStation) Reserve(_ context.Context, r station.Reservation) (station.ReservationResult, error) {
	s.record(fmtCall("Reserve", r.ID, r.Connector, r.IDTag, r.ParentIDTag))
	s.mu.Lock()
	defer s.mu.Unlock()
	res := s.reserve
	if res == "" {
		res = station.ReservationAccepted
	}
	if res == station.ReservationAccepted {
		s.reservations = append(s.reservations, r)
	}
	return res, nil
}

func (s *fakeStation) CancelReservation(_ context.Context, id int) (bool, error) {
	s.record(fmtCall("CancelReservation", id))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.reservations {
		if r.ID == id {
			s.reservations = append(s.reservations[:i], s.reservations[i+1:]...)
			return true, nil
		}
	}
	return false, nil
}

func (s *fakeStation) Reservations(context.Context) ([]station.Reservation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]station.Reservation(nil), s.reservations...), nil
}

func (s *fakeStation) Config(context.Context) (station.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg, nil
}

func fmtCall(name string, args ...any) string {
	b, _ := json.Marshal(args)
	return name + " " + string(b)
}

// sent is one CALL the fake transport carried.
type sent struct {
	Action  string
	Payload json.RawMessage
}

// fakeCaller is a transport that answers CALLs with answer and records them.
type fakeCaller struct {
	mu     sync.Mutex // guards calls and answer
	calls  []sent
	answer func(action string, req json.RawMessage) (any, error)
	ch     chan sent
}

func newFakeCaller(answer func(action string, req json.RawMessage) (any, error)) *fakeCaller {
	return &fakeCaller{answer: answer, ch: make(chan sent, 100)}
}

func (f *fakeCaller) Call(_ context.Context, action string, req, resp any) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.calls = append(f.calls, sent{action, b})
	answer := f.answer
	f.mu.Unlock()
	f.ch <- sent{action, b}
	out, err := answer(action, b)
	if err != nil {
		return err
	}
	ob, err := json.Marshal(out)
	if err != nil {
		return err
	}
	if resp == nil {
		return nil
	}
	return json.Unmarshal(ob, resp)
}

func (f *fakeCaller) Calls(actions ...string) []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sent
	for _, c := range f.calls {
		if len(actions) == 0 || slices.Contains(actions, c.Action) {
			out = append(out, c)
		}
	}
	return out
}

// next waits for the next CALL; a hang shows up as the test binary's
// timeout with the goroutine dump.
func (f *fakeCaller) next(t *testing.T) sent {
	t.Helper()
	return <-f.ch
}

// csmsAnswers is a CSMS that accepts everything: boots (heartbeat 30 s),
// id tags, and numbers transactions from 100.
func csmsAnswers() func(string, json.RawMessage) (any, error) {
	var mu sync.Mutex
	next := 100
	return func(action string, _ json.RawMessage) (any, error) {
		now := NewDateTime(t0)
		switch action {
		case ActionBootNotification:
			return BootNotificationResponse{Status: RegistrationStatusAccepted, CurrentTime: now, Interval: 30}, nil
		case ActionHeartbeat:
			return HeartbeatResponse{CurrentTime: now}, nil
		case ActionAuthorize:
			return AuthorizeResponse{IdTagInfo: IdTagInfo{Status: AuthorizationStatusAccepted}}, nil
		case ActionStartTransaction:
			mu.Lock()
			next++
			id := next
			mu.Unlock()
			return StartTransactionResponse{IdTagInfo: IdTagInfo{Status: AuthorizationStatusAccepted}, TransactionID: id}, nil
		}
		return struct{}{}, nil
	}
}

// rig is a Charger on a real bbolt file, config store and queue, with a
// fake station, a fake transport and a virtual clock.
type rig struct {
	t      *testing.T
	path   string
	db     *bbolt.DB
	cfg    *Config
	queue  *ocppclient.Queue
	clk    *clock.Fake
	st     *fakeStation
	caller *fakeCaller
	online bool
	mu     sync.Mutex // guards online
	c      *Charger
	resets []bool
	// security, certs, onCert and serial are the Charger's
	// Options.Security, Certificates, OnClientCertificate and serial
	// number, read at each open.
	security SecurityReadiness
	// allowProfile1 is Options.AllowProfile1.
	allowProfile1 bool
	certs         CertificateStore
	onCert        func()
	serial        string
}

// newRig builds a rig with two connectors; initial sets configuration keys.
func newRig(t *testing.T, initial map[string]string) *rig {
	t.Helper()
	return newRigWith(t, initial, nil)
}

// newRigWith is newRig with a certificate store's answer.
func newRigWith(t *testing.T, initial map[string]string, security SecurityReadiness) *rig {
	t.Helper()
	r := &rig{t: t, path: filepath.Join(t.TempDir(), "evsed.db"), clk: clock.NewFake(t0), st: newFakeStation(2), security: security}
	r.caller = newFakeCaller(csmsAnswers())
	r.open(initial)
	return r
}

// open (re)opens the database and builds a new Charger on it, as a restart
// of the process would.
func (r *rig) open(initial map[string]string) {
	t := r.t
	t.Helper()
	db, err := bbolt.Open(r.path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r.db = db
	if r.cfg, err = OpenConfig(db, "config", initial); err != nil {
		t.Fatal(err)
	}
	if r.queue, err = ocppclient.OpenQueue(db, ocppclient.QueueOptions{Clock: r.clk}); err != nil {
		t.Fatal(err)
	}
	r.c, err = New(Options{
		Station:       r.st,
		Identity:      Identity{ChargePointVendor: "evsed", ChargePointModel: "sim", FirmwareVersion: "test", ChargePointSerialNumber: r.serial},
		NumConnectors: 2,
		DB:            db,
		Bucket:        "cp1",
		Config:        r.cfg,
		Queue:         r.queue,
		Clock:         r.clk,
		Logger:        slog.New(slog.DiscardHandler),
		OnReset:       func(hard bool) { r.resets = append(r.resets, hard) },
		Security:      r.security,
		AllowProfile1: r.allowProfile1,
		Certificates:  r.certs,
		OnClientCertificate: func() {
			if r.onCert != nil {
				r.onCert()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.c.SetTransport(r.caller, r.isOnline)
}

// reopen closes the database and opens it again with a new Charger.
func (r *rig) reopen() {
	r.t.Helper()
	if err := r.db.Close(); err != nil {
		r.t.Fatal(err)
	}
	r.open(nil)
}

func (r *rig) isOnline() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.online
}

func (r *rig) setOnline(v bool) {
	r.mu.Lock()
	r.online = v
	r.mu.Unlock()
}

// register runs OnConnect against the always-accepting CSMS and discards
// what it sent.
func (r *rig) register() {
	r.t.Helper()
	// Like the Client, the transport counts as registered only once
	// OnConnect has returned.
	r.setOnline(false)
	if err := r.c.OnConnect(context.Background(), r.caller); err != nil {
		r.t.Fatal(err)
	}
	r.setOnline(true)
	r.drainCalls()
}

// drainCalls forgets the CALLs seen so far.
func (r *rig) drainCalls() {
	for {
		select {
		case <-r.caller.ch:
		default:
			return
		}
	}
}

// deliver plays the transport's drain for every queued entry: Prepare, the
// CSMS's answer, Delivered, Ack. It returns the payloads as sent.
func (r *rig) deliver() []sent {
	r.t.Helper()
	var out []sent
	answer := csmsAnswersFor(r.caller)
	for {
		e, ok, err := r.queue.Head()
		if err != nil {
			r.t.Fatal(err)
		}
		if !ok {
			return out
		}
		payload, err := r.c.Prepare(e)
		if err != nil {
			r.t.Fatalf("Prepare(%s): %v", e.Action, err)
		}
		out = append(out, sent{e.Action, payload})
		resp, err := answer(e.Action, payload)
		if err != nil {
			r.t.Fatal(err)
		}
		b, _ := json.Marshal(resp)
		if err := r.c.Delivered(e, b); err != nil {
			r.t.Fatalf("Delivered(%s): %v", e.Action, err)
		}
		if err := r.queue.Ack(e.Seq); err != nil {
			r.t.Fatal(err)
		}
	}
}

func csmsAnswersFor(f *fakeCaller) func(string, json.RawMessage) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.answer
}

// waitTimers lets the goroutines under test run until n timers are armed on
// the virtual clock.
func waitTimers(clk *clock.Fake, n int) {
	for clk.Pending() < n {
		runtime.Gosched()
	}
}

func TestNewValidatesOptions(t *testing.T) {
	r := newRig(t, nil)
	good := Options{Identity: Identity{ChargePointVendor: "v", ChargePointModel: "m"}, NumConnectors: 1,
		DB: r.db, Config: r.cfg, Queue: r.queue}
	tests := []struct {
		name  string
		patch func(*Options)
		ok    bool
	}{
		{"complete", func(*Options) {}, true},
		{"no connectors", func(o *Options) { o.NumConnectors = 0 }, false},
		{"no db", func(o *Options) { o.DB = nil }, false},
		{"no config", func(o *Options) { o.Config = nil }, false},
		{"no queue", func(o *Options) { o.Queue = nil }, false},
		{"no vendor", func(o *Options) { o.Identity.ChargePointVendor = "" }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := good
			tc.patch(&o)
			_, err := New(o)
			if (err == nil) != tc.ok {
				t.Fatalf("New: err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestOnConnectBootSequence(t *testing.T) {
	tests := []struct {
		name string
		// answers are the BootNotification statuses, in order; the last
		// one must be Accepted.
		answers []RegistrationStatus
		// interval is the interval of every non-final answer, seconds.
		interval int
		wantWait time.Duration
	}{
		{"accepted at once", []RegistrationStatus{RegistrationStatusAccepted}, 0, 0},
		{"pending then accepted", []RegistrationStatus{RegistrationStatusPending, RegistrationStatusAccepted}, 20, 20 * time.Second},
		{"pending with interval 0 waits the minimum", []RegistrationStatus{RegistrationStatusPending, RegistrationStatusAccepted}, 0, minBootRetry},
		{"rejected twice then accepted", []RegistrationStatus{RegistrationStatusRejected, RegistrationStatusRejected, RegistrationStatusAccepted}, 15, 30 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, map[string]string{KeyHeartbeatInterval: "0"})
			var (
				mu    sync.Mutex
				boots int
			)
			base := csmsAnswers()
			r.caller.answer = func(action string, req json.RawMessage) (any, error) {
				if action != ActionBootNotification {
					return base(action, req)
				}
				mu.Lock()
				defer mu.Unlock()
				st := tc.answers[boots]
				boots++
				iv := tc.interval
				if st == RegistrationStatusAccepted {
					iv = 45
				}
				return BootNotificationResponse{Status: st, CurrentTime: NewDateTime(t0), Interval: iv}, nil
			}
			done := make(chan error, 1)
			go func() { done <- r.c.OnConnect(context.Background(), r.caller) }()
			for range len(tc.answers) - 1 {
				r.caller.next(t) // a boot answered Pending/Rejected
				waitTimers(r.clk, 1)
				if got := r.c.Registration(); got != string(tc.answers[0]) {
					t.Errorf("Registration() while waiting = %q", got)
				}
				r.clk.Advance(tc.wantWait / time.Duration(len(tc.answers)-1))
			}
			if err := <-done; err != nil {
				t.Fatalf("OnConnect: %v", err)
			}
			if got := r.c.Registration(); got != "Accepted" {
				t.Errorf("Registration() = %q, want Accepted", got)
			}
			if got := r.clk.Now().Sub(t0); got != tc.wantWait {
				t.Errorf("registered after %v, want %v", got, tc.wantWait)
			}
			if got := r.cfg.Int(KeyHeartbeatInterval); got != 45 {
				t.Errorf("HeartbeatInterval = %d, want 45 from the Accepted answer", got)
			}
			// Nothing but BootNotification before acceptance, then the
			// statuses of connectors 0, 1, 2.
			var actions []string
			var connectors []int
			for _, c := range r.caller.Calls() {
				actions = append(actions, c.Action)
				if c.Action == ActionStatusNotification {
					var req StatusNotificationRequest
					if err := json.Unmarshal(c.Payload, &req); err != nil {
						t.Fatal(err)
					}
					connectors = append(connectors, req.ConnectorID)
				}
			}
			want := len(tc.answers)
			for i, a := range actions {
				if (i < want) != (a == ActionBootNotification) {
					t.Fatalf("actions = %v, want %d boots then statuses", actions, want)
				}
			}
			if len(connectors) != 3 || connectors[0] != 0 || connectors[1] != 1 || connectors[2] != 2 {
				t.Errorf("status notifications for connectors %v, want [0 1 2]", connectors)
			}
			var boot BootNotificationRequest
			if err := json.Unmarshal(r.caller.Calls()[0].Payload, &boot); err != nil {
				t.Fatal(err)
			}
			if boot.ChargePointVendor != "evsed" || boot.ChargePointModel != "sim" || boot.FirmwareVersion != "test" {
				t.Errorf("boot identity = %+v", boot)
			}
		})
	}
}

func TestOnConnectReconnectSkipsBoot(t *testing.T) {
	r := newRig(t, nil)
	r.register()
	r.c.StatusChanged(station.StatusChange{Connector: 1, Status: station.Charging, Error: station.NoError, At: t0})
	if err := r.c.OnConnect(context.Background(), r.caller); err != nil {
		t.Fatal(err)
	}
	if n := len(r.caller.Calls(ActionBootNotification)); n != 1 {
		t.Errorf("%d BootNotifications after a reconnect, want 1", n)
	}
	// The reconnect reports every connector again, with the latest status.
	var got []string
	for _, c := range r.caller.Calls(ActionStatusNotification)[3:] {
		var req StatusNotificationRequest
		_ = json.Unmarshal(c.Payload, &req)
		got = append(got, string(req.Status))
	}
	if len(got) != 3 || got[1] != "Charging" {
		t.Errorf("statuses after reconnect = %v, want connector 1 Charging among 3", got)
	}
}

func TestOnConnectTransportErrorFails(t *testing.T) {
	r := newRig(t, nil)
	r.caller.answer = func(string, json.RawMessage) (any, error) { return nil, ocppclient.ErrTimeout }
	err := r.c.OnConnect(context.Background(), r.caller)
	if !errors.Is(err, ocppclient.ErrTimeout) {
		t.Fatalf("OnConnect = %v, want ErrTimeout", err)
	}
	if r.c.Registration() != "" {
		t.Errorf("Registration() = %q after a failed boot", r.c.Registration())
	}
}

func TestHeartbeatEveryInterval(t *testing.T) {
	r := newRig(t, map[string]string{KeyHeartbeatInterval: "0"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.c.Run(ctx) }()
	r.register() // boot answered with interval 30
	waitTimers(r.clk, 1)
	for i := range 3 {
		r.clk.Advance(30 * time.Second)
		if n := len(r.caller.Calls(ActionHeartbeat)); n != i+1 {
			t.Fatalf("after %d intervals: %d heartbeats", i+1, n)
		}
	}
	// Offline: the timer keeps running, nothing is sent.
	r.setOnline(false)
	r.clk.Advance(30 * time.Second)
	r.setOnline(true)
	// A CSMS change of the interval applies at once.
	if st := r.cfg.Set(KeyHeartbeatInterval, "5"); st != ConfigurationStatusAccepted {
		t.Fatal(st)
	}
	r.clk.Advance(5 * time.Second)
	if n := len(r.caller.Calls(ActionHeartbeat)); n != 4 {
		t.Errorf("%d heartbeats, want 4 (none while offline)", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestStatusLatestWinsAndCoalescesOffline(t *testing.T) {
	r := newRig(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.c.Run(ctx)
	r.register()

	// Online: each change is sent.
	r.c.StatusChanged(station.StatusChange{Connector: 1, Status: station.Preparing, Error: station.NoError, At: t0})
	c := r.caller.next(t)
	var req StatusNotificationRequest
	if err := json.Unmarshal(c.Payload, &req); err != nil || c.Action != ActionStatusNotification {
		t.Fatalf("got %s %s", c.Action, c.Payload)
	}
	if req.ConnectorID != 1 || req.Status != ChargePointStatusPreparing || req.ErrorCode != ChargePointErrorCodeNoError {
		t.Errorf("sent %+v", req)
	}

	// Offline: three changes, nothing sent; the reconnect sends the last.
	r.setOnline(false)
	for _, s := range []station.Status{station.Charging, station.SuspendedEV, station.Finishing} {
		r.c.StatusChanged(station.StatusChange{Connector: 1, Status: s, Error: station.NoError, At: t0})
	}
	r.c.StatusChanged(station.StatusChange{Connector: 2, Status: station.Faulted, Error: station.GroundFailure, Info: "RCD", At: t0})
	before := len(r.caller.Calls())
	if err := r.c.OnConnect(ctx, r.caller); err != nil {
		t.Fatal(err)
	}
	r.setOnline(true)
	got := map[int]StatusNotificationRequest{}
	for _, c := range r.caller.Calls()[before:] {
		var req StatusNotificationRequest
		_ = json.Unmarshal(c.Payload, &req)
		if _, dup := got[req.ConnectorID]; dup {
			t.Errorf("connector %d reported twice", req.ConnectorID)
		}
		got[req.ConnectorID] = req
	}
	if got[1].Status != ChargePointStatusFinishing {
		t.Errorf("connector 1 = %s, want the latest, Finishing", got[1].Status)
	}
	if got[2].Status != ChargePointStatusFaulted || got[2].ErrorCode != ChargePointErrorCodeGroundFailure || got[2].Info != "RCD" {
		t.Errorf("connector 2 = %+v", got[2])
	}
	if len(got) != 3 {
		t.Errorf("reported %d connectors, want 3", len(got))
	}
}

func TestStatusRequestMapping(t *testing.T) {
	tests := []struct {
		name string
		in   station.StatusChange
		want StatusNotificationRequest
	}{
		{"plain", station.StatusChange{Connector: 1, Status: station.Available},
			StatusNotificationRequest{ConnectorID: 1, Status: "Available", ErrorCode: "NoError"}},
		{"fault with info", station.StatusChange{Connector: 2, Status: station.Faulted, Error: station.PowerSwitchFailure, Info: "welded"},
			StatusNotificationRequest{ConnectorID: 2, Status: "Faulted", ErrorCode: "PowerSwitchFailure", Info: "welded"}},
		{"unknown error code", station.StatusChange{Connector: 1, Status: station.Faulted, Error: "Overheat"},
			StatusNotificationRequest{ConnectorID: 1, Status: "Faulted", ErrorCode: "OtherError", VendorErrorCode: "Overheat"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := statusRequest(tc.in)
			if *got != tc.want {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("invalid: %v", err)
			}
		})
	}
}
