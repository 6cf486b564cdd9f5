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
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/certstore"
	"github.com/evsed/evsed/ocppclient/firmware"
	"github.com/evsed/evsed/ocppclient/logupload"
	"github.com/evsed/evsed/ocppclient/ocpp16"
	"github.com/evsed/evsed/ocppclient/ocpp201"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/ocppclient/secevents"
	"github.com/evsed/evsed/station"
	"go.etcd.io/bbolt"
	"periph.io/x/conn/v3/physic"
)

// CSMS is the link to the back end. A zero URL means standalone: sessions
// run and transaction messages queue durably until a CSMS is configured.
type CSMS struct {
	URL string
	// Protocols are the subprotocols offered; nil means ["ocpp1.6"].
	Protocols []string
	// SecurityProfile is 0..3.
	SecurityProfile int
	// AllowBasicAuthOverWS lets the CSMS raise SecurityProfile to 1 over
	// OCPP; SecurityProfile 1 implies it.
	AllowBasicAuthOverWS bool
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
	// Security answers whether the certificates of security profiles 2
	// and 3 are installed (the certificate store); nil refuses raising
	// the profile to 2 or 3 over OCPP.
	Security ocpp16.SecurityReadiness
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
	// Variables are initial OCPP 2.0.1 variable values (from the config
	// file), keyed "Component/Variable" as devicemodel.ParseRef reads
	// them, e.g. "OCPPCommCtrlr/HeartbeatInterval"; a value the CSMS set
	// since wins.
	Variables map[string]string
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
	// InboxSize is the station's inbox size (see station.Options.InboxSize);
	// 0 means the station's default.
	InboxSize int
	// EnergyFile is the file of the sessions' per-sample energy
	// checkpoints (see station.Options.EnergyFile); "" keeps them in DB.
	EnergyFile string
	// NoQueueLog keeps the durable queue wholly in bbolt, without its log
	// file beside the database (see ocppclient.QueueOptions.NoLog): for the
	// fleet simulator, whose stations share one database and would
	// otherwise hold one log file each.
	NoQueueLog bool
	// SiteLimit is the most current per phase every connector together may
	// draw (see station.Options.SiteLimit); 0 means none.
	SiteLimit physic.ElectricCurrent
	// Grid, Solar, LimitInput and InputLimit are the site's energy
	// management: the grid meter and main fuse, the solar modes' tuning,
	// and the board's limit input (see the station.Options of the same
	// names); zero values mean none and the defaults.
	Grid       station.GridOptions
	Solar      station.SolarConfig
	LimitInput hal.Input
	InputLimit physic.ElectricCurrent
	// Certificates is the certificate store: the whitepaper's
	// certificate messages, the TLS of security profiles 2 and 3 once it
	// holds a CSMS root, and the client certificate's rotation. Nil
	// leaves them out (and Security, if set, answers for profile raises).
	Certificates *certstore.Store
	// SecurityLog keeps the charger's security events; nil keeps them in
	// the agent's log only (the critical ones still go to the CSMS).
	SecurityLog *secevents.Log
	// Currency is the ISO 4217 code of the CSMS's prices (California
	// Pricing carries none); "" shows amounts without one.
	Currency string
	// Firmware runs UpdateFirmware and SignedUpdateFirmware when its
	// Installer is set (signing certificates are checked against the
	// manufacturer roots of Certificates); zero answers them
	// NotSupported.
	Firmware FirmwareOptions
	// Logs runs GetDiagnostics and GetLog when its Dir is set; zero
	// answers them NotSupported.
	Logs LogOptions
	// Location is the station's time zone, for daily and weekly charging
	// profiles; nil means UTC.
	Location *time.Location
	// Voltage is the nominal phase voltage for power <-> current
	// conversions; 0 means 230 V.
	Voltage physic.ElectricPotential
}

// Agent is one wired charging station.
type Agent struct {
	// Station is the state machine; the local API talks to it.
	Station *station.Station
	// Charger is the OCPP 1.6 adapter. It also keeps the connection's
	// security keys (AuthorizationKey, SecurityProfile), whichever version
	// the CSMS speaks.
	Charger *ocpp16.Charger
	// Charger201 is the OCPP 2.0.1 adapter, nil unless CSMS.Protocols
	// offers ocpp2.0.1.
	Charger201 *ocpp201.Charger

	// id, csms and drainOnStop are what the agent keeps of its Options
	// once built: the fleet simulator holds thousands of agents.
	id          string
	csms        CSMS
	drainOnStop time.Duration
	clk         clock.Clock
	log         *slog.Logger
	keys        *ocpp16.Config
	queue       *ocppclient.Queue
	// versions are the OCPP versions offered, each with its adapter and
	// queue; the station reports to the active one.
	versions  *versions
	behaviour station.Config
	// primary is the version expected to speak: the one a CSMS chose
	// last, else the first offered (see logSize).
	primary string

	mu     sync.Mutex // guards client, stopClient, clientWait, redial, transportErr, stopStation, linkCtx
	client *ocppclient.Client
	// stopClient ends the running Client; nil while none runs or while
	// it is being replaced.
	stopClient func()
	// clientWait waits for the latest Client launched to stop; nil
	// before the first.
	clientWait func() error
	// redial says a key the transport reads at connect changed since the
	// running Client (or the one being built) read them.
	redial bool
	// transportErr is the first error that kept a Client from being
	// built; stopStation stops the station then.
	transportErr error
	stopStation  context.CancelFunc
	// linkCtx is the context of every Client of a launched agent.
	linkCtx context.Context
	// working holds the values of securityKeys the latest Client that
	// registered was built with; nil before the first registration.
	// trial, set when the CSMS changes one of them after that, is the
	// attempt to connect with the new values, which falls back to
	// working after fallbackAttempts failures in a row.
	working *securityValues
	trial   *settingsTrial
	// lastConnEvent is the security event the last failed connection
	// raised, "" after a registration (see connectionEvent).
	lastConnEvent secevents.Type
	// certs is Options.Certificates, renewal the timer of the next look
	// at its client certificate's expiry, and renewing says the looks
	// have started (at the first registration).
	certs    *certstore.Store
	renewal  clock.Timer
	renewing bool
	// installer is Options.Firmware.Installer, and confirmed says its
	// new binary, if any, was looked at after the first registration.
	installer firmware.Installer
	confirmed bool
	// vars201 is the 2.0.1 device model (nil without 2.0.1); netSlot is
	// the 2.0.1 network profile slot the latest Client was built for (0:
	// csms.url), and badSlots the slots that failed fallbackAttempts
	// connections in a row since the start. Guarded by mu.
	vars201  *devicemodel.Model
	netSlot  int
	badSlots map[int]bool
	// updater runs the firmware updates; nil without an installer. Launch
	// resumes the update a previous run left (see firmware.Updater.Resume).
	updater *firmware.Updater
	// startupEvent says Launch raises StartupOfTheDevice: a charger with
	// a security log (evsed run), not a fleet station.
	startupEvent bool
	// replacing tracks the goroutine that, after a change of the
	// connection settings, waits for the old Client to stop and launches
	// the new one: the only goroutine of the agent's own, and only for
	// that long.
	replacing sync.WaitGroup
}

// FirmwareOptions configure firmware updates.
type FirmwareOptions struct {
	// Dir holds the images being downloaded. Required with Installer.
	Dir string
	// Installer puts a verified image in place (firmware.Executable
	// replaces the evsed binary); nil means no firmware updates.
	Installer firmware.Installer
}

// LogOptions configure log uploads.
type LogOptions struct {
	// Dir is where the archives are built; "" means no log uploads.
	Dir string
	// Sources are the agent's logs, uploaded by GetDiagnostics and a
	// DiagnosticsLog GetLog together with the security log.
	Sources []logupload.Source
}

// idlePoll is how often an install waiting for the sessions to end looks
// at the station.
const idlePoll = 30 * time.Second

// waitIdle returns once no connector has a session (an install waits for
// the running sessions to end), or with ctx's error.
func (a *Agent) waitIdle(ctx context.Context) error {
	for {
		snap, err := a.Station.Status(ctx)
		if err != nil {
			return err
		}
		busy := false
		for _, c := range snap.Connectors {
			busy = busy || c.Session != nil
		}
		if !busy {
			return nil
		}
		if !clock.Sleep(ctx, a.clk, idlePoll) {
			return ctx.Err()
		}
	}
}

// newMachinery builds the firmware updater and the log uploader the
// options ask for, reporting to the adapter (a.Charger, set later).
func (a *Agent) newMachinery(o Options) (ocpp16.FirmwareUpdater, ocpp16.LogUploader, error) {
	var fw ocpp16.FirmwareUpdater
	if o.Firmware.Installer != nil {
		var roots firmware.Roots
		if o.Certificates != nil {
			roots = o.Certificates
		}
		u, err := firmware.New(firmware.Options{
			Dir: o.Firmware.Dir, Installer: o.Firmware.Installer, Roots: roots,
			Idle: firmware.IdleFunc(a.waitIdle), Clock: a.clk, Logger: a.log,
			OnStatus: func(n firmware.Notice) { a.machineryOf(n.Origin).FirmwareNotice(n) },
		})
		if err != nil {
			return nil, nil, err
		}
		fw, a.updater = u, u
	}
	var logs ocpp16.LogUploader
	if o.Logs.Dir != "" {
		u, err := logupload.New(logupload.Options{
			Dir: o.Logs.Dir, Prefix: o.ID, Clock: a.clk, Logger: a.log,
			OnStatus: func(n logupload.Notice) { a.machinery().LogNotice(n) },
		})
		if err != nil {
			return nil, nil, err
		}
		logs = u
	}
	return fw, logs, nil
}

// New opens the agent's durable state and builds its parts. Nothing runs and
// no hardware is touched before Run.
func New(o Options) (*Agent, error) {
	if o.ID == "" || o.DB == nil || len(o.Connectors) == 0 {
		return nil, errors.New("agent: ID, DB and Connectors are required")
	}
	a := &Agent{id: o.ID, csms: o.CSMS, drainOnStop: o.DrainOnStop, clk: clock.Or(o.Clock), log: o.Logger,
		certs: o.Certificates, startupEvent: o.SecurityLog != nil, installer: o.Firmware.Installer}
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
	if a.primary, err = primaryVersion(o.DB, p+"agent", o.CSMS.Protocols); err != nil {
		return nil, fmt.Errorf("agent %s: %w", o.ID, err)
	}
	a.queue, err = ocppclient.OpenQueue(o.DB, ocppclient.QueueOptions{
		Bucket:        p + "queue",
		MaxAttempts:   keys.Int(ocpp16.KeyTransactionMessageAttempts),
		RetryInterval: keys.Duration(ocpp16.KeyTransactionMessageRetryInterval),
		Clock:         a.clk,
		NoLog:         o.NoQueueLog,
		LogSize:       a.logSize(OCPP16),
	})
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", o.ID, err)
	}
	fw, logs, err := a.newMachinery(o)
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", o.ID, err)
	}
	diagnostics := slices.Clone(o.Logs.Sources)
	var securitySource logupload.Source
	if o.SecurityLog != nil {
		securitySource = o.SecurityLog
		diagnostics = append(diagnostics, o.SecurityLog)
	}
	a.Charger, err = ocpp16.New(ocpp16.Options{
		Identity:          o.Identity,
		NumConnectors:     len(o.Connectors),
		DB:                o.DB,
		Bucket:            p + "ocpp16",
		Config:            keys,
		Queue:             a.queue,
		Clock:             a.clk,
		Logger:            a.log,
		OnConfigChange:    a.configChanged,
		OnReset:           o.OnReset,
		Location:          o.Location,
		Voltage:           o.Voltage,
		SiteLimit:         o.SiteLimit,
		Security:          o.Security,
		AllowProfile1:     o.CSMS.AllowBasicAuthOverWS || o.CSMS.SecurityProfile == 1,
		Certificates:      certificateStore(o.Certificates),
		SecurityLog:       securityLog(o.SecurityLog),
		Currency:          o.Currency,
		Firmware:          fw,
		Logs:              logs,
		DiagnosticsLogs:   diagnostics,
		SecurityLogSource: securitySource,
		OnClientCertificate: func() {
			a.certificateChanged()
		},
	})
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", o.ID, err)
	}
	if a.versions, err = a.newVersions(o, shared{fw: fw, logs: logs, diagnostics: diagnostics, securitySource: securitySource}); err != nil {
		return nil, fmt.Errorf("agent %s: %w", o.ID, err)
	}
	a.behaviour = o.Behaviour
	a.Station, err = station.New(station.Options{
		ID:         o.ID,
		Connectors: o.Connectors,
		Board:      o.Board,
		Reporter:   a.versions,
		Authorizer: a.versions,
		Config:     a.versions.current().adapter.StationConfig(o.Behaviour),
		DB:         o.DB,
		Bucket:     p + "station",
		Clock:      a.clk,
		Logger:     a.log,

		MeterReadInterval: o.MeterReadInterval,
		InlineMeterReads:  o.InlineMeterReads,
		InboxSize:         o.InboxSize,
		SiteLimit:         o.SiteLimit,
		EnergyFile:        o.EnergyFile,
		Grid:              o.Grid,
		Solar:             o.Solar,
		LimitInput:        o.LimitInput,
		InputLimit:        o.InputLimit,
	})
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", o.ID, err)
	}
	a.Charger.SetStation(a.Station)
	if a.Charger201 != nil {
		a.Charger201.SetStation(a.Station)
	}
	return a, nil
}

// securityKeys are the configuration keys of the connection's security:
// a change of one by the CSMS is tried on a new connection, and undone if
// that connection cannot be made (see settingsTrial).
var securityKeys = [...]string{ocpp16.KeySecurityProfile, ocpp16.KeyAuthorizationKey}

// fallbackAttempts is how many connection attempts in a row may fail with
// new security settings before the agent goes back to the ones that
// worked: enough to ride out a CSMS restarting, few enough that a charger
// given a wrong password or profile is back online within seconds.
const fallbackAttempts = 3

// settingsTrial is a connection with security settings the CSMS changed,
// not yet registered.
type settingsTrial struct {
	what     string       // what is tried, for the log
	undo     func() error // puts back what worked
	failures int          // attempts failed in a row
}

// securityValues are the values of securityKeys, in that order: a
// comparable value rather than a map, which every agent of the fleet
// simulator would keep two of.
type securityValues [len(securityKeys)]string

// securitySettings returns the current values of securityKeys.
func (a *Agent) securitySettings() securityValues {
	var v securityValues
	for i, k := range securityKeys {
		v[i], _ = a.keys.Value(k)
	}
	return v
}

// configChanged restarts the connection when a key read at connect time
// changed, so that a new AuthorizationKey is used at once.
func (a *Agent) configChanged(key, value string) {
	if key == ocpp16.KeySecurityProfile && a.Charger201 != nil {
		// Both versions' connections read the same profile: the 2.0.1
		// device model shows it (SecurityCtrlr.SecurityProfile).
		if n, err := strconv.Atoi(value); err == nil {
			if err := a.Charger201.SetSecurityProfile(n); err != nil {
				a.log.Warn("agent: 2.0.1 security profile", "err", err)
			}
		}
	}
	switch key {
	case ocpp16.KeyAuthorizationKey, ocpp16.KeySecurityProfile, ocpp16.KeyWebSocketPingInterval:
		a.mu.Lock()
		a.redial = true
		if key != ocpp16.KeyWebSocketPingInterval && a.working != nil && a.trial == nil {
			previous := *a.working
			a.trial = &settingsTrial{what: "the CSMS's new connection settings", undo: func() error { return a.restoreKeys(previous) }}
		}
		a.mu.Unlock()
		// The change usually comes from a ChangeConfiguration handler
		// whose answer is yet to be written: the connection closes only
		// once it has been (ocppclient answers the CALLs in hand before
		// it closes on a cancelled context).
		a.replace()
	}
}

// Run drives the station, the adapter and the transport until ctx ends, then
// stops the station first (hardware halted, facts queued durably), gives a
// connected CSMS up to DrainOnStop to take the queue, and returns. A part
// that fails stops the others, and Run returns the first failure.
func (a *Agent) Run(ctx context.Context) error {
	return a.Launch(ctx)()
}

// Launch starts the agent as Run does and returns at once; wait, to be
// called once, returns what Run would return once the agent has stopped
// (after ctx ended or a part failed).
//
// A launched agent keeps one goroutine: its connection's reader. The
// station, the adapter and the transport run on goroutines of their own
// only while they have work (see station.Station.Launch,
// ocpp16.Charger.Start and ocppclient.Client.Launch), which is what lets
// the fleet simulator run thousands of agents in one process.
func (a *Agent) Launch(ctx context.Context) (wait func() error) {
	// The station runs under ctx and is stopped early through Shutdown
	// rather than a context derived for it: that would cost every agent
	// of the fleet simulator some 600 bytes for as long as it runs.
	stopStation := a.Station.Shutdown
	linkCtx, stopLink := context.WithCancel(context.Background())

	stopCharger := a.Charger.Start(linkCtx)
	if a.Charger201 != nil {
		stop16, stop201 := stopCharger, a.Charger201.Start(linkCtx)
		stopCharger = func() { stop201(); stop16() }
	}
	if a.startupEvent {
		// Queued before the first connection: the CSMS learns of every
		// start, however long the charger stays offline.
		a.securityEvent(secevents.StartupOfTheDevice, "evsed started")
	}
	if a.updater != nil {
		// After the adapters have started, so that the resumed phases'
		// notifications can be queued.
		a.updater.Resume(context.WithoutCancel(linkCtx))
	}
	stationWait, err := a.Station.Launch(ctx)
	if err != nil {
		stopStation()
		stopLink()
		stopCharger()
		return func() error { return wrap("station", err) }
	}
	if a.csms.URL != "" {
		a.mu.Lock()
		a.linkCtx, a.stopStation = linkCtx, stopStation
		a.mu.Unlock()
		a.startClient(linkCtx)
	}
	return func() error {
		first := wrap("station", stationWait())
		stopStation()
		a.drain()
		// Under mu, so that replace either has counted its goroutine
		// already or sees linkCtx ended and starts none. A replacement
		// under way sees it too and launches nothing more; then the
		// running Client, if any, is stopped.
		a.mu.Lock()
		stopLink()
		a.mu.Unlock()
		a.replacing.Wait()
		a.mu.Lock()
		stopClient, clientWait, transportErr := a.stopClient, a.clientWait, a.transportErr
		if a.renewal != nil {
			a.renewal.Stop() // linkCtx has ended: it is not armed again
		}
		a.mu.Unlock()
		if stopClient != nil {
			stopClient()
		}
		if clientWait != nil {
			_ = clientWait() // Run returns nil once its context ended
		}
		stopCharger()
		// The first failure wins: a station stopped by a failed
		// transport returns nil.
		if err := wrap("ocpp transport", transportErr); first == nil {
			first = err
		}
		// Every part that used the queues has stopped: make their last
		// acknowledgements durable and close their logs.
		if err := a.queue.Close(); err != nil {
			a.log.Error("agent: close the queue", "err", err)
		}
		for _, v := range a.versions.list {
			if v.queue != a.queue {
				if err := v.queue.Close(); err != nil {
					a.log.Error("agent: close the queue of "+v.name, "err", err)
				}
			}
		}
		return first
	}
}

func wrap(name string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}

// drain waits up to DrainOnStop for the queue to empty while registered.
func (a *Agent) drain() {
	if a.drainOnStop <= 0 {
		return
	}
	deadline := a.clk.Now().Add(a.drainOnStop)
	for a.versions.current().queue.Len() > 0 && a.registered() && a.clk.Now().Before(deadline) {
		t := a.clk.NewTimer(50 * time.Millisecond)
		<-t.C()
	}
}

func (a *Agent) registered() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.client != nil && a.client.Registered()
}

// startClient builds a Client with the keys as they are now and launches
// it under ctx. When a key it read changes meanwhile, it is replaced at
// once (see replace). A Client that cannot be built stops the station.
func (a *Agent) startClient(ctx context.Context) {
	a.mu.Lock()
	a.redial = false // newClient reads the keys as they are from here on
	a.mu.Unlock()
	client, err := a.newClient()
	if err != nil && a.fallBack(err, true) {
		// The new settings cannot even make a Client (a profile the URL
		// does not allow): the previous ones are back, try them.
		client, err = a.newClient()
	}
	if err != nil {
		a.mu.Lock()
		if a.transportErr == nil {
			a.transportErr = err
		}
		stop := a.stopStation
		a.mu.Unlock()
		stop() // a part failed: stop the rest
		return
	}
	for _, v := range a.versions.list {
		v.adapter.SetTransport(client, func() bool { return a.versions.current() == v && client.Registered() })
	}
	if !slices.Contains(a.versions.list, a.versions.find(OCPP16)) {
		a.Charger.SetTransport(client, func() bool { return false }) // not offered: never online
	}
	// Under no context of ctx's: that would give ctx a list of children
	// to keep for the agent's lifetime, for one Client at a time. Launch's
	// wait and replace stop the running Client themselves.
	wait, err := client.Launch(context.Background())
	if err != nil {
		// A Client just built has not been launched before.
		a.log.Error("agent: launch the transport", "err", err)
		return
	}
	a.mu.Lock()
	a.client, a.stopClient, a.clientWait = client, client.Stop, wait
	changed := a.redial
	a.mu.Unlock()
	if changed {
		a.replace() // changed while the client was built
	}
}

// replace stops the running Client and launches a new one once it has
// stopped, from a goroutine that lives that long: the CSMS must never see
// two connections of one charge point.
func (a *Agent) replace() {
	a.mu.Lock()
	stop, wait, ctx := a.stopClient, a.clientWait, a.linkCtx
	if stop == nil || ctx.Err() != nil {
		// None runs, it is being replaced already (the replacement
		// reads the keys after this change), or the agent is stopping
		// (Launch's wait stops it).
		a.mu.Unlock()
		return
	}
	a.stopClient = nil
	a.replacing.Add(1)
	a.mu.Unlock()
	stop()
	go func() {
		defer a.replacing.Done()
		_ = wait()
		a.mu.Lock()
		stopping := ctx.Err() != nil
		a.mu.Unlock()
		if stopping {
			return
		}
		a.log.Info("ocpp: connection settings changed, reconnecting")
		a.startClient(ctx)
	}()
}

// registeredWith records settings as the ones that work, once a Client
// built with them has registered. A Client built before the latest change
// does not end the trial of the new settings.
func (a *Agent) registeredWith(settings securityValues) {
	current := a.securitySettings()
	a.mu.Lock()
	defer a.mu.Unlock()
	if settings != current {
		return
	}
	a.working, a.trial, a.lastConnEvent = &settings, nil, ""
	if !a.renewing && a.certs != nil {
		// The first registration: from now on the CSMS can sign. Not
		// under mu: checkRenewal takes it.
		a.renewing = true
		go a.checkRenewal()
	}
	if b, ok := a.installer.(bootConfirmer); ok && !a.confirmed {
		a.confirmed = true
		go a.confirmFirmware(b)
	}
}

// bootConfirmer is an install hook that keeps a new binary on trial until
// it has registered (firmware.Executable): unconfirmed, it is rolled back
// after a few starts.
type bootConfirmer interface {
	PendingRequest() (int, bool)
	Confirm() error
}

// confirmFirmware runs after the first registration: a binary installed
// by an update and running for the first time has proved it connects, so
// it is confirmed and reported Installed.
func (a *Agent) confirmFirmware(b bootConfirmer) {
	id, pending := b.PendingRequest()
	if !pending {
		return
	}
	if err := b.Confirm(); err != nil {
		a.log.Error("agent: confirm the new firmware", "err", err)
		return
	}
	a.log.Info("agent: new firmware confirmed after registering", "request", id)
	a.machinery().FirmwareInstalled(id)
}

// disconnected is the Client's OnDisconnect: a failed attempt with new
// security settings counts towards the fall back.
func (a *Agent) disconnected(registered bool, err error) {
	for _, v := range a.versions.list {
		v.adapter.Disconnected(registered, err)
	}
	a.connectionEvent(err)
	if !registered && a.fallBack(err, false) {
		a.replace()
	}
}

// fallBack counts a failed attempt (err) of the settings on trial and,
// at fallbackAttempts or at once when they cannot make a Client at all
// (unbuildable), restores the previous ones; it reports whether it did.
// Without a trial it does nothing.
func (a *Agent) fallBack(err error, unbuildable bool) bool {
	a.mu.Lock()
	tr := a.trial
	if tr == nil {
		a.mu.Unlock()
		return false
	}
	tr.failures++
	if tr.failures < fallbackAttempts && !unbuildable {
		a.mu.Unlock()
		return false
	}
	a.trial, a.redial = nil, true
	a.mu.Unlock()
	if uerr := tr.undo(); uerr != nil {
		a.log.Error("agent: put back what worked before "+tr.what, "err", uerr)
	}
	// The values stay out of the log: one of them is a password.
	a.log.Error("ocpp: "+tr.what+" failed; back to what worked before", "attempts", tr.failures, "err", err)
	return true
}

// restoreKeys puts back the values of securityKeys in previous.
func (a *Agent) restoreKeys(previous securityValues) error {
	var errs []error
	for i, k := range securityKeys {
		errs = append(errs, a.keys.Restore(k, previous[i]))
	}
	return errors.Join(errs...)
}

// certificateChanged runs after a CertificateSigned installed a new client
// certificate: with security profile 3 the connection moves to it, on
// trial, and falls back to the previous certificate if it cannot connect.
// Under a lower profile the certificate waits for the profile to rise.
func (a *Agent) certificateChanged() {
	if a.certs == nil || a.keys.Int(ocpp16.KeySecurityProfile) < 3 && a.csms.SecurityProfile < 3 {
		return
	}
	a.mu.Lock()
	a.redial = true
	if a.trial == nil {
		a.trial = &settingsTrial{what: "the new client certificate", undo: a.certs.RollbackClient}
	}
	a.mu.Unlock()
	a.replace()
}

// renewalCheck is how often the agent asks whether the client certificate
// nears its expiry (certstore.Options.RenewBefore says how near).
const renewalCheck = 24 * time.Hour

// checkRenewal asks the CSMS for a new client certificate when the one
// installed nears its expiry, then looks again a day later. It runs from
// the first registration on, on a clock timer.
func (a *Agent) checkRenewal() {
	if a.certs == nil {
		return
	}
	if due, notAfter, err := a.certs.RenewalDue(); err == nil && due {
		a.log.Warn("ocpp: the client certificate expires soon; asking the CSMS for a new one", "not_after", notAfter)
		a.machinery().RenewClientCertificate(context.Background())
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.linkCtx != nil && a.linkCtx.Err() == nil {
		a.renewal = a.clk.AfterFunc(renewalCheck, a.checkRenewal)
	}
}

// connectionEvent raises the security event a failed connection calls for
// (a CSMS certificate that does not verify, a refused TLS version or
// suite, a refused client or password), once per kind until the next
// registration: a charger retrying every few seconds would otherwise
// fill its security log with the same event.
func (a *Agent) connectionEvent(err error) {
	ev, ok := secevents.FromTLSError(err)
	if !ok && errors.Is(err, ocppclient.ErrUnauthorized) {
		ev, ok = secevents.Event{Type: secevents.FailedToAuthenticateAtCsms, TechInfo: "HTTP 401 at the websocket handshake"}, true
	}
	if !ok {
		return
	}
	a.mu.Lock()
	repeated := a.lastConnEvent == ev.Type
	a.lastConnEvent = ev.Type
	a.mu.Unlock()
	if !repeated {
		a.securityEvent(ev.Type, ev.TechInfo)
	}
}

// certificateStore and securityLog turn a nil pointer into a nil
// interface, which the adapter takes for "none".
func certificateStore(s *certstore.Store) ocpp16.CertificateStore {
	if s == nil {
		return nil
	}
	return s
}

func securityLog(l *secevents.Log) ocpp16.SecurityLog {
	if l == nil {
		return nil
	}
	return l
}

func (a *Agent) newClient() (*ocppclient.Client, error) {
	c := a.csms
	settings := a.securitySettings()
	protocols := make([]string, len(a.versions.list))
	adapters := make(map[string]ocppclient.Adapter, len(protocols))
	for i, v := range a.versions.list {
		protocols[i] = v.name
		adapters[v.name] = v.transport(func(ctx context.Context, v *version, caller ocppclient.Caller) error {
			a.activate(ctx, v)
			if err := v.adapter.OnConnect(ctx, caller); err != nil {
				return err
			}
			a.registeredWith(settings)
			return nil
		})
	}
	password, _ := a.keys.Value(ocpp16.KeyAuthorizationKey)
	profile := c.SecurityProfile
	if v, ok := a.keys.Value(ocpp16.KeySecurityProfile); ok {
		if n, err := strconv.Atoi(v); err == nil && n > profile {
			profile = n
		}
	}
	url := c.URL
	slot, np, fromProfile := a.networkProfile()
	if fromProfile {
		// A CSMS that migrated the charger (SetNetworkProfile, then
		// NetworkConfigurationPriority): its endpoint and profile.
		url = np.OCPPCSMSURL
		profile = max(profile, np.SecurityProfile)
	}
	a.mu.Lock()
	a.netSlot = slot
	a.mu.Unlock()
	tlsConf, tlsFor := c.TLS, (func() (*tls.Config, error))(nil)
	if profile >= 2 && a.certs != nil && len(a.certs.Certificates(certstore.CSMSRoot)) > 0 &&
		(profile == 2 || len(a.certs.ClientChain()) > 0) {
		// The store's roots and client certificate, read at every dial:
		// a root or certificate installed over OCPP is used from the
		// next connection on. (Without a root in the store, or for
		// profile 3 without a client certificate in it, the config
		// file's csms.ca_file and cert_file still apply.)
		tlsConf, tlsFor = nil, func() (*tls.Config, error) { return a.certs.TLSConfig(profile) }
	}
	if profile >= 2 && strings.HasPrefix(url, "ws://") {
		// Raised over OCPP from a plain-text profile: the same endpoint,
		// over TLS (1.6 has no key for a second URL).
		url = "wss://" + strings.TrimPrefix(url, "ws://")
	}
	o := ocppclient.Options{
		URL:             url,
		ChargePointID:   a.id,
		Subprotocols:    protocols,
		SecurityProfile: profile,
		Password:        password,
		TLS:             tlsConf,
		TLSFor:          tlsFor,
		PingInterval:    a.keys.Duration(ocpp16.KeyWebSocketPingInterval),
		BackoffMin:      c.BackoffMin,
		BackoffMax:      c.BackoffMax,
		Adapters:        adapters,
		OnDisconnect:    a.disconnected,
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
	active := a.versions.current()
	info := localapi.OCPPInfo{Queued: a.versions.queued(), Registration: active.adapter.Registration(), Version: active.name}
	a.mu.Lock()
	client := a.client
	a.mu.Unlock()
	if client != nil {
		s := client.Status()
		info.Connected = s.Connected()
		if s.Subprotocol != "" {
			info.Version = s.Subprotocol
		}
	}
	return info
}
