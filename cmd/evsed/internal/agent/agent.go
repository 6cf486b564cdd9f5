// Package agent wires one charging station: the station state machine, the
// OCPP 1.6 adapter with its configuration keys and durable queue, and (when
// a CSMS is configured) the OCPP-J transport. `evsed run` builds one agent;
// the fleet simulator builds many in one process, sharing a database with a
// bucket prefix per station.
package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/ocpp16"
	"github.com/evsed/evsed/station"
	"go.etcd.io/bbolt"
)

// CSMS is the link to the back end. A zero URL means standalone: sessions
// run and transaction messages queue durably until a CSMS is configured.
type CSMS struct {
	URL string
	// Protocols are the subprotocols offered; nil means ["ocpp1.6"].
	Protocols []string
	// SecurityProfile is 0..3.
	SecurityProfile int
	// Password is the initial AuthorizationKey (profiles 1 and 2). A key the
	// CSMS later sets with ChangeConfiguration is persisted and wins.
	Password string
	// TLS configures wss (CA pool, client certificate); nil means system
	// roots.
	TLS *tls.Config
	// BackoffMin and BackoffMax bound the reconnect delay; zero means the
	// transport's defaults (1 s, 5 min).
	BackoffMin, BackoffMax time.Duration
	// Tune, when set, adjusts the transport's options before each Client is
	// built: the fleet simulator shrinks its buffers and observes its
	// CALLs. Nil leaves them as the agent sets them.
	Tune func(*ocppclient.Options)
}

// Options configure an Agent. Zero values are documented per field.
type Options struct {
	// ID is the charge point identity. Required.
	ID string
	// Identity is reported in BootNotification; vendor and model are
	// required.
	Identity ocpp16.Identity
	// Connectors are the outlets with their meters. Required.
	Connectors []station.ConnectorConfig
	// Board is halted when the station stops; nil for boards owned
	// elsewhere.
	Board hal.Board
	// Behaviour is the station behaviour that OCPP keys do not set (e.g.
	// FreeCharging); the keys override the rest.
	Behaviour station.Config
	// OCPPKeys are initial configuration-key values (from the config file),
	// applied when the key was never set before.
	OCPPKeys map[string]string
	// CSMS is the back end; zero URL means standalone.
	CSMS CSMS
	// DB holds every durable state (sessions, queue, keys, transaction ids,
	// authorization cache). It must be opened without NoSync. Required.
	DB *bbolt.DB
	// BucketPrefix is prepended to every bucket name: "" for a single
	// station, a per-station prefix when many share one file.
	BucketPrefix string
	// DrainOnStop bounds how long Run waits, after its context ends, for
	// queued messages to reach a connected CSMS before it closes the
	// connection; 0 means no wait. They stay queued on disk either way.
	DrainOnStop time.Duration
	// Clock is the time source; nil means the wall clock.
	Clock clock.Clock
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
	// OnReset is called after a CSMS Reset ended the sessions; nil ignores
	// it (the sessions still end).
	OnReset func(hard bool)
	// MeterReadInterval is how often the station reads each meter; 0 means
	// the station's default (1 s).
	MeterReadInterval time.Duration
	// InlineMeterReads has the station read its meters on its own loop
	// (see station.Options.InlineMeterReads): only for simulated meters.
	InlineMeterReads bool
}

// Agent is one wired charging station.
type Agent struct {
	// Station is the state machine; the local API talks to it.
	Station *station.Station
	// Charger is the OCPP 1.6 adapter.
	Charger *ocpp16.Charger

	opts   Options
	clk    clock.Clock
	log    *slog.Logger
	keys   *ocpp16.Config
	queue  *ocppclient.Queue
	redial chan struct{} // a key the transport reads at connect changed

	mu     sync.Mutex // guards client
	client *ocppclient.Client
}

// New opens the agent's durable state and builds its parts. Nothing runs and
// no hardware is touched before Run.
func New(o Options) (*Agent, error) {
	if o.ID == "" || o.DB == nil || len(o.Connectors) == 0 {
		return nil, errors.New("agent: ID, DB and Connectors are required")
	}
	a := &Agent{opts: o, clk: clock.Or(o.Clock), log: o.Logger, redial: make(chan struct{}, 1)}
	if a.log == nil {
		a.log = slog.Default()
	}
	initial := map[string]string{}
	for k, v := range o.OCPPKeys {
		initial[k] = v
	}
	initial[ocpp16.KeyNumberOfConnectors] = strconv.Itoa(len(o.Connectors))
	if o.CSMS.Password != "" {
		if _, set := initial[ocpp16.KeyAuthorizationKey]; !set {
			initial[ocpp16.KeyAuthorizationKey] = o.CSMS.Password
		}
	}
	if o.CSMS.SecurityProfile != 0 {
		initial[ocpp16.KeySecurityProfile] = strconv.Itoa(o.CSMS.SecurityProfile)
	}
	p := o.BucketPrefix
	keys, err := ocpp16.OpenConfig(o.DB, p+"ocpp-config", initial)
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", o.ID, err)
	}
	a.keys = keys
	a.queue, err = ocppclient.OpenQueue(o.DB, ocppclient.QueueOptions{
		Bucket:        p + "queue",
		MaxAttempts:   keys.Int(ocpp16.KeyTransactionMessageAttempts),
		RetryInterval: keys.Duration(ocpp16.KeyTransactionMessageRetryInterval),
		Clock:         a.clk,
	})
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", o.ID, err)
	}
	a.Charger, err = ocpp16.New(ocpp16.Options{
		Identity:       o.Identity,
		NumConnectors:  len(o.Connectors),
		DB:             o.DB,
		Bucket:         p + "ocpp16",
		Config:         keys,
		Queue:          a.queue,
		Clock:          a.clk,
		Logger:         a.log,
		OnConfigChange: a.configChanged,
		OnReset:        o.OnReset,
	})
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", o.ID, err)
	}
	a.Station, err = station.New(station.Options{
		ID:         o.ID,
		Connectors: o.Connectors,
		Board:      o.Board,
		Reporter:   a.Charger,
		Authorizer: a.Charger,
		Config:     a.Charger.StationConfig(o.Behaviour),
		DB:         o.DB,
		Bucket:     p + "station",
		Clock:      a.clk,
		Logger:     a.log,

		MeterReadInterval: o.MeterReadInterval,
		InlineMeterReads:  o.InlineMeterReads,
	})
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", o.ID, err)
	}
	a.Charger.SetStation(a.Station)
	return a, nil
}

// configChanged restarts the connection when a key read at connect time
// changed, so that a new AuthorizationKey is used at once.
func (a *Agent) configChanged(key, _ string) {
	switch key {
	case ocpp16.KeyAuthorizationKey, ocpp16.KeySecurityProfile, ocpp16.KeyWebSocketPingInterval:
		select {
		case a.redial <- struct{}{}:
		default:
		}
	}
}

// Run drives the station, the adapter and the transport until ctx ends, then
// stops the station first (hardware halted, facts queued durably), gives a
// connected CSMS up to DrainOnStop to take the queue, and returns.
func (a *Agent) Run(ctx context.Context) error {
	stationCtx, stopStation := context.WithCancel(ctx)
	defer stopStation()
	linkCtx, stopLink := context.WithCancel(context.Background())
	defer stopLink()

	errs := make(chan error, 3)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); errs <- wrap("station", a.Station.Run(stationCtx)) }()
	var linkWG sync.WaitGroup
	linkWG.Add(1)
	go func() { defer linkWG.Done(); errs <- wrap("ocpp adapter", a.Charger.Run(linkCtx)) }()
	if a.opts.CSMS.URL != "" {
		linkWG.Add(1)
		go func() { defer linkWG.Done(); errs <- wrap("ocpp transport", a.runTransport(linkCtx)) }()
	}

	var first error
	select {
	case <-ctx.Done():
	case first = <-errs: // a part failed: stop the rest
	}
	stopStation()
	wg.Wait()
	a.drain()
	stopLink()
	linkWG.Wait()
	return first
}

func wrap(name string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}

// drain waits up to DrainOnStop for the queue to empty while registered.
func (a *Agent) drain() {
	if a.opts.DrainOnStop <= 0 {
		return
	}
	deadline := a.clk.Now().Add(a.opts.DrainOnStop)
	for a.queue.Len() > 0 && a.registered() && a.clk.Now().Before(deadline) {
		t := a.clk.NewTimer(50 * time.Millisecond)
		<-t.C()
	}
}

func (a *Agent) registered() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.client != nil && a.client.Registered()
}

// runTransport runs one Client at a time, building a new one whenever a key
// it reads at connect time changes.
func (a *Agent) runTransport(ctx context.Context) error {
	for {
		client, err := a.newClient()
		if err != nil {
			return err
		}
		a.mu.Lock()
		a.client = client
		a.mu.Unlock()
		a.Charger.SetTransport(client, client.Registered)

		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- client.Run(cctx) }()
		select {
		case <-a.redial:
			a.log.Info("ocpp: connection settings changed, reconnecting")
			cancel()
			<-done
		case err := <-done:
			cancel()
			if ctx.Err() != nil {
				return nil
			}
			return err
		case <-ctx.Done():
			cancel()
			<-done
			return nil
		}
	}
}

func (a *Agent) newClient() (*ocppclient.Client, error) {
	c := a.opts.CSMS
	protocols := c.Protocols
	if len(protocols) == 0 {
		protocols = []string{"ocpp1.6"}
	}
	password, _ := a.keys.Value(ocpp16.KeyAuthorizationKey)
	profile := c.SecurityProfile
	if v, ok := a.keys.Value(ocpp16.KeySecurityProfile); ok {
		if n, err := strconv.Atoi(v); err == nil && n > profile {
			profile = n
		}
	}
	o := ocppclient.Options{
		URL:             c.URL,
		ChargePointID:   a.opts.ID,
		Subprotocols:    protocols,
		SecurityProfile: profile,
		Password:        password,
		TLS:             c.TLS,
		PingInterval:    a.keys.Duration(ocpp16.KeyWebSocketPingInterval),
		BackoffMin:      c.BackoffMin,
		BackoffMax:      c.BackoffMax,
		Handler:         a.Charger,
		Hooks:           a.Charger,
		OnConnect:       a.Charger.OnConnect,
		Queue:           a.queue,
		Clock:           a.clk,
		Logger:          a.log,
	}
	if c.Tune != nil {
		c.Tune(&o)
	}
	return ocppclient.New(o)
}

// OCPPInfo is the ocpp block of the local API's status.
func (a *Agent) OCPPInfo() localapi.OCPPInfo {
	info := localapi.OCPPInfo{Queued: a.queue.Len(), Registration: a.Charger.Registration()}
	a.mu.Lock()
	client := a.client
	a.mu.Unlock()
	if client != nil {
		s := client.Status()
		info.Connected = s.Connected()
		info.Version = s.Subprotocol
		if info.Version == "" {
			info.Version = "ocpp1.6"
		}
	}
	return info
}
