package ocpp201

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.etcd.io/bbolt"
	"periph.io/x/conn/v3/physic"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/station"
)

// fakeStation stands in for the station: it records the commands and
// answers from a snapshot of n idle connectors.
type fakeStation struct {
	mu    sync.Mutex
	snap  station.Snapshot
	calls []string
	avail station.AvailabilityResult
	// limits is the latest schedule SetLimits gave each connector.
	limits map[int]station.LimitSchedule
	// reserve answers Reserve; "" refuses with an error. reservations
	// are those accepted and not cancelled.
	reserve      station.ReservationResult
	reservations []station.Reservation
}

func newFakeStation(n int) *fakeStation {
	s := &fakeStation{avail: station.AvailabilityAccepted, limits: map[int]station.LimitSchedule{}, reserve: station.ReservationAccepted}
	for i := 1; i <= n; i++ {
		s.snap.Connectors = append(s.snap.Connectors, station.ConnectorSnapshot{ID: i, Status: station.Available,
			Phases: 3, MaxCurrent: 32 * physic.Ampere})
	}
	return s
}

func (s *fakeStation) record(format string, args ...any) {
	s.mu.Lock()
	s.calls = append(s.calls, fmt.Sprintf(format, args...))
	s.mu.Unlock()
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
func (s *fakeStation) Start(_ context.Context, n int, tag string, o station.StartOptions) error {
	s.record("Start %d %s remote=%v skip=%v", n, tag, o.Remote, o.SkipAuthorization)
	return nil
}
func (s *fakeStation) StopSession(_ context.Context, id string, r station.StopReason) error {
	s.record("StopSession %s %s", id, r)
	return nil
}
func (s *fakeStation) Deauthorize(_ context.Context, id string) error {
	s.record("Deauthorize %s", id)
	return nil
}
func (s *fakeStation) AttachTransactionID(_ context.Context, id, tx string) error {
	s.record("Attach %s", id)
	return nil
}
func (s *fakeStation) SetAvailability(_ context.Context, n int, a bool) (station.AvailabilityResult, error) {
	s.record("SetAvailability %d %v", n, a)
	return s.avail, nil
}
func (s *fakeStation) Unlock(_ context.Context, n int) (station.UnlockResult, error) {
	s.record("Unlock %d", n)
	return station.Unlocked, nil
}
func (s *fakeStation) Reset(_ context.Context, r station.StopReason) error {
	s.record("Reset %s", r)
	return nil
}
func (s *fakeStation) SetConfig(context.Context, station.Config) error { return nil }
func (s *fakeStation) Config(context.Context) (station.Config, error) {
	return station.DefaultConfig(), nil
}
func (s *fakeStation) SetLimits(_ context.Context, n int, l station.LimitSchedule) error {
	s.mu.Lock()
	s.limits[n] = l
	s.mu.Unlock()
	return nil
}

// limitNow is the current connector n was last limited to at t
// (station.NoLimit when none).
func (s *fakeStation) limitNow(n int, t time.Time) physic.ElectricCurrent {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := station.NoLimit
	for _, st := range s.limits[n] {
		if !st.At.After(t) {
			cur = st.Current
		}
	}
	return cur
}

func (s *fakeStation) Reserve(_ context.Context, r station.Reservation) (station.ReservationResult, error) {
	s.record("Reserve %d %d %s %s", r.ID, r.Connector, r.IDTag, r.ParentIDTag)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reserve == "" {
		return "", errors.New("no")
	}
	if s.reserve == station.ReservationAccepted {
		s.reservations = append(s.reservations, r)
	}
	return s.reserve, nil
}

func (s *fakeStation) CancelReservation(_ context.Context, id int) (bool, error) {
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

// sent is one CALL the Charger made.
type sent struct {
	action  string
	payload json.RawMessage
}

// fakeCaller answers the Charger's CALLs as a CSMS would.
type fakeCaller struct {
	mu     sync.Mutex
	calls  []sent
	answer func(action string, req json.RawMessage) (any, error)
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
	out, err := answer(action, b)
	if err != nil {
		return err
	}
	ob, _ := json.Marshal(out)
	return json.Unmarshal(ob, resp)
}

func (f *fakeCaller) Calls(actions ...string) []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sent
	for _, c := range f.calls {
		if len(actions) == 0 || containsString(actions, c.action) {
			out = append(out, c)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// csmsAnswers accepts everything, with boot status given by boot.
func csmsAnswers(boot func() RegistrationStatus) func(string, json.RawMessage) (any, error) {
	return func(action string, _ json.RawMessage) (any, error) {
		now := NewDateTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		switch action {
		case ActionBootNotification:
			return &BootNotificationResponse{CurrentTime: now, Interval: 60, Status: boot()}, nil
		case ActionHeartbeat:
			return &HeartbeatResponse{CurrentTime: now}, nil
		case ActionAuthorize:
			return &AuthorizeResponse{IDTokenInfo: IDTokenInfo{Status: AuthorizationStatusAccepted}}, nil
		case ActionTransactionEvent:
			return &TransactionEventResponse{}, nil
		case ActionSignCertificate:
			return &SignCertificateResponse{Status: GenericStatusAccepted}, nil
		}
		return struct{}{}, nil
	}
}

// rig is a Charger on a real bbolt, device model and queue, a fake
// station and caller, and a fake clock.
type rig struct {
	t      *testing.T
	db     *bbolt.DB
	dir    string
	clk    *clock.Fake
	st     *fakeStation
	caller *fakeCaller
	vars   *devicemodel.Model
	queue  *ocppclient.Queue
	ch     *Charger
	online bool
	mu     sync.Mutex
	// answered are the Charger's answers to HandleCall, for the
	// conformance check.
	answered []sent
	// mod, when set, changes the Options before New.
	mod func(*Options)
}

func newRig(t *testing.T, initial map[devicemodel.Ref]string) *rig {
	t.Helper()
	return newRigWith(t, initial, nil)
}

// newRigWith is newRig with mod applied to the Options.
func newRigWith(t *testing.T, initial map[devicemodel.Ref]string, mod func(*Options)) *rig {
	t.Helper()
	r := &rig{t: t, dir: t.TempDir(), clk: clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)), st: newFakeStation(2), mod: mod}
	r.caller = &fakeCaller{answer: csmsAnswers(func() RegistrationStatus { return RegistrationStatusAccepted })}
	r.open(initial)
	t.Cleanup(func() {
		r.ch.background.Wait()
		r.checkConformance()
		r.queue.Close()
		r.db.Close()
	})
	return r
}

func (r *rig) open(initial map[devicemodel.Ref]string) {
	t := r.t
	db, err := bbolt.Open(filepath.Join(r.dir, "evsed.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.db = db
	if r.vars, err = devicemodel.Open(db, "devicemodel", devicemodel.Standard(devicemodel.Shape{EVSEs: 2}), initial); err != nil {
		t.Fatal(err)
	}
	if r.queue, err = ocppclient.OpenQueue(db, ocppclient.QueueOptions{LogPath: filepath.Join(r.dir, "queue.log")}); err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Station: r.st, Identity: Identity{Model: "sim", VendorName: "evsed", SerialNumber: "SN-1"}, NumEVSEs: 2, DB: db,
		Variables: r.vars, Queue: r.queue, Clock: r.clk, Logger: slog.New(slog.DiscardHandler),
	}
	if r.mod != nil {
		r.mod(&opts)
	}
	r.ch, err = New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r.ch.SetTransport(r.caller, r.isOnline)
}

// reopen simulates a restart on the same files.
func (r *rig) reopen() {
	r.ch.background.Wait()
	r.queue.Close()
	r.db.Close()
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
	if !v {
		r.ch.Disconnected(true, nil)
	}
}

// register boots the Charger (Accepted) and marks it online.
func (r *rig) register() {
	r.t.Helper()
	r.setOnline(true)
	if err := r.ch.OnConnect(context.Background(), r.caller); err != nil {
		r.t.Fatal(err)
	}
}

// handle sends a CALL to the Charger and returns the JSON answer (a
// FollowUp's Then runs after) or the CallError.
func (r *rig) handle(action string, payload string) (json.RawMessage, *ocppclient.CallError) {
	r.t.Helper()
	out, err := r.ch.HandleCall(context.Background(), action, json.RawMessage(payload))
	if err != nil {
		var ce *ocppclient.CallError
		if !errors.As(err, &ce) {
			r.t.Fatalf("%s: non-CallError %v", action, err)
		}
		return nil, ce
	}
	b, merr := json.Marshal(out)
	if merr != nil {
		r.t.Fatal(merr)
	}
	r.mu.Lock()
	r.answered = append(r.answered, sent{action, b})
	r.mu.Unlock()
	if f, ok := out.(ocppclient.FollowUp); ok && f.Then != nil {
		f.Then(context.Background())
	}
	return b, nil
}

// deliver drains the queue through the Charger's hooks as the transport
// would, returning the payloads sent.
func (r *rig) deliver() []TransactionEventRequest {
	r.t.Helper()
	var out []TransactionEventRequest
	for {
		e, ok, err := r.queue.Head()
		if err != nil {
			r.t.Fatal(err)
		}
		if !ok {
			return out
		}
		p, err := r.ch.Prepare(e)
		if err != nil {
			r.t.Fatal(err)
		}
		var raw json.RawMessage
		if err := r.caller.Call(context.Background(), e.Action, json.RawMessage(p), &raw); err != nil {
			r.t.Fatal(err)
		}
		if err := r.ch.Delivered(e, raw); err != nil {
			r.t.Fatal(err)
		}
		if err := r.queue.Ack(e.Seq); err != nil {
			r.t.Fatal(err)
		}
		var req TransactionEventRequest
		if e.Action == ActionTransactionEvent {
			if err := json.Unmarshal(p, &req); err != nil {
				r.t.Fatal(err)
			}
			out = append(out, req)
		}
	}
}

// schemaDir is where the official schemas are found relative to this
// package; OCPP_SCHEMAS overrides it.
func schemaPath() string {
	if d := os.Getenv("OCPP_SCHEMAS"); d != "" {
		return filepath.Join(d, "ocpp2_0_1.json")
	}
	return filepath.Join("..", "..", "..", "shared", "ocpp-schemas", "ocpp2_0_1.json")
}

type schemas map[string]*jsonschema.Schema

func loadSchemas(t *testing.T) (schemas, bool) {
	t.Helper()
	data, err := os.ReadFile(schemaPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	if err := json.Unmarshal(data, &docs); err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	var ids []string
	for _, d := range docs {
		id, _ := d["$id"].(string)
		b, _ := json.Marshal(d)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	out := schemas{}
	for _, id := range ids {
		s, err := c.Compile(id)
		if err != nil {
			t.Fatalf("compile %s: %v", id, err)
		}
		out[id] = s
	}
	return out, true
}

func (s schemas) validate(id string, payload []byte) error {
	sch, ok := s[id]
	if !ok {
		return fmt.Errorf("no schema %s", id)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// checkConformance validates every CALL the Charger sent and every answer
// it gave in this test against the official schemas, when present.
func (r *rig) checkConformance() {
	t := r.t
	s, ok := loadSchemas(t)
	if !ok {
		t.Logf("official OCPP 2.0.1 schemas not found at %s: schema conformance not checked", schemaPath())
		return
	}
	n := 0
	for _, c := range r.caller.Calls() {
		n++
		if err := s.validate("urn:"+c.action+".req", c.payload); err != nil {
			t.Errorf("sent %s breaks the schema: %v\n%s", c.action, err, c.payload)
		}
	}
	r.mu.Lock()
	answered := append([]sent(nil), r.answered...)
	r.mu.Unlock()
	for _, c := range answered {
		n++
		if err := s.validate("urn:"+c.action+".conf", c.payload); err != nil {
			t.Errorf("answer to %s breaks the schema: %v\n%s", c.action, err, c.payload)
		}
	}
	t.Logf("%d messages checked against the schemas", n)
}

// queued returns the payloads of the queued entries of action.
func (r *rig) queued(action string) []json.RawMessage {
	r.t.Helper()
	entries, err := r.queue.Entries()
	if err != nil {
		r.t.Fatal(err)
	}
	var out []json.RawMessage
	for _, e := range entries {
		if e.Action == action {
			out = append(out, e.Payload)
		}
	}
	return out
}
