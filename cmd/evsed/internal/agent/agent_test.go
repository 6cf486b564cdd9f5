package agent

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	halsim "github.com/evsed/evsed/hal/sim"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/ocpp16"
	"github.com/evsed/evsed/ocppclient/ocpptest"
	"github.com/evsed/evsed/station"
	"go.etcd.io/bbolt"
)

// waitLimit bounds waits for the real CSMS; a pass never takes it.
const waitLimit = 20 * time.Second

// newAgent builds an agent on a simulated two-connector board with its own
// database, connecting to url ("" for standalone); tune, if any, adjusts
// the options.
func newAgent(t *testing.T, id, url string, tune ...func(*Options)) *Agent {
	t.Helper()
	return newAgentOn(t, openDB(t), id, url, tune...)
}

// openDB opens a bbolt file in a temporary directory, closed at the end of
// the test.
func openDB(t *testing.T) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "agent.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newAgentOn is newAgent on a database of the test's: a restart.
func newAgentOn(t *testing.T, db *bbolt.DB, id, url string, tune ...func(*Options)) *Agent {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	board, err := halsim.New(halsim.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var conns []station.ConnectorConfig
	for _, c := range board.Connectors() {
		conns = append(conns, station.ConnectorConfig{Hardware: c, Meter: board.Meter(c.ID)})
	}
	o := Options{
		ID:         id,
		Identity:   ocpp16.Identity{ChargePointVendor: "evsed", ChargePointModel: "test"},
		Connectors: conns,
		Board:      board,
		Behaviour:  station.DefaultConfig(),
		CSMS:       CSMS{URL: url, BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond},
		DB:         db,
		Logger:     quiet,
		InboxSize:  4,
	}
	for _, f := range tune {
		f(&o)
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// A standalone agent launched runs its station (it answers on its loop)
// and stops cleanly when its context ends.
func TestLaunchStandalone(t *testing.T) {
	a := newAgent(t, "CP1", "")
	ctx, cancel := context.WithCancel(context.Background())
	wait := a.Launch(ctx)
	snap, err := a.Station.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Connectors) != 2 {
		t.Fatalf("status has %d connectors, want 2", len(snap.Connectors))
	}
	cancel()
	if err := wait(); err != nil {
		t.Fatalf("wait = %v, want nil", err)
	}
	if _, err := a.Station.Status(context.Background()); err == nil {
		t.Error("station still answers after the agent stopped")
	}
}

// A change of a key the transport reads at connect time makes the agent
// reconnect with a new Client, after answering the change: the CSMS sees
// Accepted and then a new connection (which reports every connector's
// status again, without a second BootNotification).
func TestReconnectOnTransportKeyChange(t *testing.T) {
	csms, err := ocpptest.Start(ocpptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer csms.Stop()
	a := newAgent(t, "CPKEY", csms.URL())
	ctx, cancel := context.WithCancel(context.Background())
	wait := a.Launch(ctx)
	defer func() {
		cancel()
		if err := wait(); err != nil {
			t.Errorf("wait = %v, want nil", err)
		}
	}()

	statuses := func(n int) func([]ocpptest.Record) bool {
		return func(recs []ocpptest.Record) bool {
			k := 0
			for _, r := range recs {
				if r.Action == "StatusNotification" {
					k++
				}
			}
			return k >= n
		}
	}
	// Connectors 0, 1 and 2 are reported at the first connect.
	if !csms.WaitFor(waitLimit, statuses(3)) {
		t.Fatal("no StatusNotification for every connector after the first connect")
	}
	a.mu.Lock()
	first := a.client
	a.mu.Unlock()

	conf, err := csms.ChangeConfiguration("CPKEY", ocpp16.KeyWebSocketPingInterval, "7")
	if err != nil || string(conf.Status) != "Accepted" {
		t.Fatalf("ChangeConfiguration = %+v, %v; want Accepted", conf, err)
	}
	if !csms.WaitFor(waitLimit, statuses(6)) {
		t.Fatal("no new connection reporting every connector after the key change")
	}
	a.mu.Lock()
	second := a.client
	a.mu.Unlock()
	if second == first {
		t.Error("the agent kept its Client after the key change")
	}
	if n := len(csms.Records("BootNotification")); n != 1 {
		t.Errorf("%d BootNotifications, want 1 (a reconnect does not boot again)", n)
	}
}

// A transport that cannot start (here: a URL without a host) stops the
// station, and wait reports the transport's error without ctx ending.
func TestTransportFailureStopsAgent(t *testing.T) {
	a := newAgent(t, "CPBAD", "ws:///ocpp")
	wait := a.Launch(context.Background())
	err := wait()
	if err == nil || !strings.Contains(err.Error(), "ocpp transport") {
		t.Fatalf("wait = %v, want the transport's error", err)
	}
	if _, err := a.Station.Status(context.Background()); !errors.Is(err, station.ErrStopped) {
		t.Errorf("Status after the failure = %v, want ErrStopped", err)
	}
}

// An orderly stop gives a connected CSMS DrainOnStop to take what is
// queued (the README promises it for evsed run); without it the messages
// stay queued on disk. The CSMS refuses the first attempts, so that the
// messages are still queued, on a 1 s retry, when the stop begins.
func TestStopDrainsQueueWhileConnected(t *testing.T) {
	for _, tc := range []struct {
		name    string
		drain   time.Duration
		wantLen int
	}{
		{"with DrainOnStop", 10 * time.Second, 0},
		{"without", 0, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			csms, err := ocpptest.Start(ocpptest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer csms.Stop()
			id := "CPDRAIN" + strconv.Itoa(int(tc.drain/time.Second))
			a := newAgent(t, id, csms.URL(), func(o *Options) {
				o.DrainOnStop = tc.drain
				o.OCPPKeys = map[string]string{ocpp16.KeyTransactionMessageRetryInterval: "1"}
			})
			ctx, cancel := context.WithCancel(context.Background())
			wait := a.Launch(ctx)
			// Registration is the agent's state, not a CSMS record: poll it.
			for deadline := time.Now().Add(waitLimit); !a.registered(); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					cancel()
					wait()
					t.Fatal("the agent did not register")
				}
			}
			csms.SetFailAll(true)
			for i := range 3 {
				payload := []byte(`{"connectorId":1,"meterValue":[{"timestamp":"2026-11-25T00:00:0` + strconv.Itoa(i) +
					`.000Z","sampledValue":[{"value":"` + strconv.Itoa(i) + `"}]}]}`)
				if _, err := a.queue.Enqueue(ocppclient.Entry{Kind: ocppclient.KindMeter, Action: "MeterValues", Payload: payload}); err != nil {
					t.Fatal(err)
				}
			}
			refused := func(recs []ocpptest.Record) bool {
				for _, r := range recs {
					if r.Action == "MeterValues" && r.Refused {
						return true
					}
				}
				return false
			}
			if !csms.WaitFor(waitLimit, refused) {
				t.Fatal("the CSMS never refused a queued message")
			}
			csms.SetFailAll(false)
			cancel()
			if err := wait(); err != nil {
				t.Fatalf("wait = %v", err)
			}
			if n := a.queue.Len(); n != tc.wantLen {
				t.Errorf("%d messages queued after the stop, want %d", n, tc.wantLen)
			}
		})
	}
}

// waitRegistered polls the agent's registration (its state, not a CSMS
// record) and reports whether it came within waitLimit.
func waitRegistered(a *Agent) bool {
	for deadline := time.Now().Add(waitLimit); !a.registered(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// The CSMS changes the AuthorizationKey to one it then refuses (a typo in
// its back office): the agent tries the new key, and after
// fallbackAttempts refused connections goes back to the key that worked,
// persisted, and is registered again. A key the CSMS accepts stays.
func TestSecuritySettingsFallBack(t *testing.T) {
	const good, typo = "0123456789abcdef0123", "0123456789abcdefXXXX"
	csms, err := ocpptest.Start(ocpptest.Options{Password: good})
	if err != nil {
		t.Fatal(err)
	}
	defer csms.Stop()
	a := newAgent(t, "CPFALL", csms.URL(), func(o *Options) {
		o.CSMS.SecurityProfile, o.CSMS.Password = 1, good
	})
	ctx, cancel := context.WithCancel(context.Background())
	wait := a.Launch(ctx)
	defer func() {
		cancel()
		if err := wait(); err != nil {
			t.Errorf("wait = %v, want nil", err)
		}
	}()
	if !waitRegistered(a) {
		t.Fatal("the agent did not register with the right key")
	}
	a.mu.Lock()
	first := a.client
	a.mu.Unlock()

	conf, err := csms.ChangeConfiguration("CPFALL", ocpp16.KeyAuthorizationKey, typo)
	if err != nil || string(conf.Status) != "Accepted" {
		t.Fatalf("ChangeConfiguration = %+v, %v; want Accepted", conf, err)
	}
	// Registered again, on a Client built after the change: the fall
	// back happened (the typo can never register).
	deadline := time.Now().Add(waitLimit)
	for {
		a.mu.Lock()
		c := a.client
		a.mu.Unlock()
		if c != first && c != nil && c.Registered() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the agent did not come back with the previous key")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if v, _ := a.keys.Value(ocpp16.KeyAuthorizationKey); v != good {
		t.Error("AuthorizationKey after the fall back is not the previous one")
	}
	a.mu.Lock()
	trial := a.trial
	a.mu.Unlock()
	if trial != nil {
		t.Errorf("a trial is still open after the fall back: %+v", trial)
	}
}

// The CSMS raises the security profile of a plain-text connection to 2
// without TLS being possible at that address: the new settings cannot
// connect, and the agent falls back to profile 1, persisted, and is
// registered again (here the readiness check is passed by a store that
// says yes, as if the roots were installed).
func TestSecurityProfileRaiseFallsBack(t *testing.T) {
	const key = "0123456789abcdef0123"
	csms, err := ocpptest.Start(ocpptest.Options{Password: key})
	if err != nil {
		t.Fatal(err)
	}
	defer csms.Stop()
	a := newAgent(t, "CPRAISE", csms.URL(), func(o *Options) {
		o.CSMS.SecurityProfile, o.CSMS.Password = 1, key
		o.Security = readyStore{}
	})
	ctx, cancel := context.WithCancel(context.Background())
	wait := a.Launch(ctx)
	defer func() {
		cancel()
		if err := wait(); err != nil {
			t.Errorf("wait = %v, want nil", err)
		}
	}()
	if !waitRegistered(a) {
		t.Fatal("the agent did not register")
	}
	conf, err := csms.ChangeConfiguration("CPRAISE", ocpp16.KeySecurityProfile, "2")
	if err != nil || string(conf.Status) != "Accepted" {
		t.Fatalf("ChangeConfiguration = %+v, %v; want Accepted", conf, err)
	}
	deadline := time.Now().Add(waitLimit)
	for {
		v, _ := a.keys.Value(ocpp16.KeySecurityProfile)
		if v == "1" && a.registered() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SecurityProfile %s, registered %v: no fall back to 1", v, a.registered())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readyStore says every profile's certificates are installed.
type readyStore struct{}

func (readyStore) ProfileReady(int) error { return nil }
