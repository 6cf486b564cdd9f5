package ocpp16

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/authlist"
	"github.com/evsed/evsed/ocppclient/logupload"
	"github.com/evsed/evsed/ocppclient/smartcharging"
	"github.com/evsed/evsed/station"
	"periph.io/x/conn/v3/physic"
)

// Station is the part of *station.Station the adapter drives. It is an
// interface so that tests can stand in for the station.
type Station interface {
	Status(ctx context.Context) (station.Snapshot, error)
	Start(ctx context.Context, connector int, idTag string, o station.StartOptions) error
	StopSession(ctx context.Context, sessionID string, reason station.StopReason) error
	Deauthorize(ctx context.Context, sessionID string) error
	AttachTransactionID(ctx context.Context, sessionID, transactionID string) error
	SetAvailability(ctx context.Context, connector int, available bool) (station.AvailabilityResult, error)
	Unlock(ctx context.Context, connector int) (station.UnlockResult, error)
	Reset(ctx context.Context, reason station.StopReason) error
	SetConfig(ctx context.Context, c station.Config) error
	Config(ctx context.Context) (station.Config, error)
	SetLimits(ctx context.Context, connector int, s station.LimitSchedule) error
	Reserve(ctx context.Context, r station.Reservation) (station.ReservationResult, error)
	CancelReservation(ctx context.Context, id int) (bool, error)
	Reservations(ctx context.Context) ([]station.Reservation, error)
}

// Identity is what BootNotification tells the CSMS about the charger. Vendor
// and model are required (at most 20 characters each); the rest is sent
// when not empty.
type Identity struct {
	ChargePointVendor       string
	ChargePointModel        string
	ChargePointSerialNumber string
	ChargeBoxSerialNumber   string
	FirmwareVersion         string
	Iccid                   string
	Imsi                    string
	MeterType               string
	MeterSerialNumber       string
}

// Options configure a Charger. Zero values are documented per field.
type Options struct {
	// Station is driven by the CSMS's requests. It may be nil at New, since
	// the station itself needs the Charger as its Reporter and Authorizer;
	// then call SetStation before the transport runs.
	Station Station
	// Identity is sent in BootNotification. Vendor and model are required.
	Identity Identity
	// NumConnectors is the number of connectors (ids 1..n). Required.
	NumConnectors int
	// DB holds the transactionId map and the authorization cache. Required.
	// The database must be opened without NoSync: a transactionId is
	// durable when Delivered returns only if commits are fsync'd.
	DB *bbolt.DB
	// Bucket is the top-level bucket of the adapter's state in DB; ""
	// means "ocpp16". The fleet simulator gives each charger its own.
	Bucket string
	// Config is the configuration-key store. Required.
	Config *Config
	// Queue receives the transaction messages. Required.
	Queue *ocppclient.Queue
	// Clock is the time source; nil means the wall clock.
	Clock clock.Clock
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
	// OnConfigChange, when set, is called after the Charger has applied an
	// accepted configuration change (from the CSMS or from SetConfig), for
	// the keys the binary owns: AuthorizationKey and SecurityProfile (used
	// at the next connect), WebSocketPingInterval. The Charger takes the
	// Config's single OnChange hook and forwards through this.
	OnConfigChange func(key, value string)
	// OnReset is called after a Reset.req was accepted and the station has
	// ended its sessions; the binary restarts the process (hard: also
	// re-initialises the hardware). nil ignores resets after ending the
	// sessions.
	OnReset func(hard bool)
	// Location is the station's time zone, in which daily and weekly
	// charging profiles repeat at the same wall-clock time; nil means UTC.
	Location *time.Location
	// Voltage is the nominal phase voltage for converting power limits
	// (W) into currents and back; 0 means 230 V.
	Voltage physic.ElectricPotential
	// SiteLimit is the station's local limit per phase (the site fuse of
	// the config file, which the station's load sharing applies); 0 means
	// none. GetCompositeSchedule includes it.
	SiteLimit physic.ElectricCurrent
	// Security says whether the certificates a security profile needs are
	// installed; a ChangeConfiguration raising SecurityProfile to 2 or 3
	// is Rejected unless it says they are. Nil means Certificates, and
	// with neither every raise to 2 or 3 over OCPP is Rejected (the config
	// file may still set them).
	Security SecurityReadiness
	// AllowProfile1 lets a ChangeConfiguration raise SecurityProfile to 1
	// (Basic auth over plain ws): the security issue allows it only where
	// the configuration says so explicitly. False rejects it.
	AllowProfile1 bool
	// Certificates is the certificate store of the whitepaper's
	// certificate messages (InstallCertificate, GetInstalledCertificateIds,
	// DeleteCertificate, SignCertificate, CertificateSigned); nil answers
	// them NotSupported.
	Certificates CertificateStore
	// SecurityLog, when set, keeps every security event (see
	// Charger.SecurityEvent); nil keeps none locally, and the critical
	// ones still go to the CSMS.
	SecurityLog SecurityLog
	// Firmware runs UpdateFirmware and SignedUpdateFirmware; its OnStatus
	// must be Charger.FirmwareNotice. Nil answers them NotSupported.
	Firmware FirmwareUpdater
	// Logs runs GetDiagnostics and GetLog; its OnStatus must be
	// Charger.LogNotice. Nil answers them NotSupported.
	Logs LogUploader
	// DiagnosticsLogs are what GetDiagnostics and a GetLog of the
	// DiagnosticsLog upload (the agent's logs, the security log);
	// SecurityLogSource is what a GetLog of the SecurityLog uploads.
	DiagnosticsLogs   []logupload.Source
	SecurityLogSource logupload.Source
	// Currency is the ISO 4217 code of the CSMS's prices and costs, which
	// California Pricing messages do not carry; "" shows amounts without
	// one.
	Currency string
	// OnClientCertificate, when set, is called after a CertificateSigned
	// installed a new client certificate and its answer went out: the
	// agent reconnects so that the new certificate is presented.
	OnClientCertificate func()
}

// SecurityReadiness is what the adapter asks the certificate store before
// it accepts a higher security profile.
type SecurityReadiness interface {
	// ProfileReady returns nil when the charge point holds what security
	// profile n needs: for 2 a CSMS root certificate, for 3 also a valid
	// client certificate and its key; otherwise why not.
	ProfileReady(n int) error
}

// minBootRetry is the wait before resending a BootNotification that was
// answered Pending or Rejected with interval 0, where the specification lets
// the charge point choose: long enough not to hammer a back end that is
// still setting the charger up.
const minBootRetry = 10 * time.Second

// Charger is the OCPP 1.6 adapter of one charging station: it turns the
// station's facts into 1.6 messages (station.Reporter), authorizes id tags
// through the CSMS and the authorization cache (station.Authorizer), answers
// the CSMS's requests with station commands (ocppclient.Handler), patches
// and records transaction ids while the queue drains
// (ocppclient.DeliveryHooks), registers on every connect (OnConnect) and
// sends heartbeats and status notifications (Run).
//
// Build it with New; wire it as the station's Reporter and Authorizer and as
// the Client's Handler, Hooks and OnConnect; then call SetStation and
// SetTransport, and Run it. All methods are safe for concurrent use.
type Charger struct {
	opts  settings
	clk   clock.Clock
	log   *slog.Logger
	cfg   *Config
	queue *ocppclient.Queue
	tx    *txStore
	auth  *authCache
	list  *authlist.List
	smart smartState
	// pricing is the California Pricing state (charger_pricing.go), made
	// at its first use: most chargers of the fleet simulator never get a
	// price message.
	pricing atomic.Pointer[pricingState]

	// mu guards the fields below.
	mu sync.Mutex
	// st is the station, set by New or SetStation.
	st Station
	// caller sends ordinary CALLs once registered; nil before SetTransport.
	caller ocppclient.Caller
	// online reports whether the transport is registered; nil means
	// "always", for transports that answer ErrOffline themselves.
	online func() bool

	statuses *statusTracker

	// runCtx is the context of Start (or Run) while started, else nil.
	runCtx context.Context
	// senders tracks the status sender goroutine, so that stopping waits
	// for it.
	senders sync.WaitGroup
	// heartbeatTimer fires the next Heartbeat; nil when none is due.
	heartbeatTimer clock.Timer
	// background tracks the goroutines started for work that must not
	// block its caller (remote start and reset after their answer, idle
	// MeterValues), so that tests can wait for them.
	background sync.WaitGroup

	// booting is the registration under way while the BootNotification
	// is not yet accepted, nil outside one (guarded by mu).
	booting *registration

	// The small fields share two words: the fleet simulator holds
	// thousands of Chargers, and this keeps one within 576 bytes.

	// idleSending admits one best-effort idle MeterValues at a time: a
	// slow CSMS makes later ones drop rather than pile up.
	idleSending atomic.Bool
	// onlineWant is the connection state to tell the station;
	// onlineSending says a goroutine is telling it (see setOnline).
	onlineWant, onlineSending atomic.Bool
	// registration is the last BootNotification answer's status, as
	// regCode has it (guarded by mu).
	registration uint8
	// accepted is set once a BootNotification was accepted in this
	// process: later reconnects do not boot again, since a CSMS may take a
	// BootNotification as a reboot and close the running transactions.
	// Guarded by mu.
	accepted bool
	// sending says a status sender goroutine runs; resend that a change
	// came in since it last looked, so it takes another round. Guarded by
	// mu.
	sending, resend bool
	// logRequest says which kind of log upload started last
	// (logKindDiagnostics, logKindLog; 0: none); guarded by mu. It picks
	// the notifications of the uploader's statuses.
	logRequest uint8
	// allowProfile1 is Options.AllowProfile1; read-only.
	allowProfile1 bool
	// numConnectors is Options.NumConnectors; read-only.
	numConnectors int32
}

// registration is a BootNotification loop under way (see Charger.boot).
type registration struct {
	// caller is the Caller of the connection being registered, for
	// triggered messages.
	caller ocppclient.Caller
	// now (capacity 1) makes the registration retry at once, for a
	// triggered BootNotification.
	now chan struct{}
}

// settings are the Options a Charger uses after New, under their Options
// names; New keeps the others in the Charger's own fields (or not at all).
type settings struct {
	Identity            Identity
	OnConfigChange      func(key, value string)
	OnReset             func(hard bool)
	Location            *time.Location
	Voltage             physic.ElectricPotential
	SiteLimit           physic.ElectricCurrent
	Security            SecurityReadiness
	Certificates        CertificateStore
	SecurityLog         SecurityLog
	Firmware            FirmwareUpdater
	Logs                LogUploader
	DiagnosticsLogs     []logupload.Source
	SecurityLogSource   logupload.Source
	Currency            string
	OnClientCertificate func()
}

// connectors returns Options.NumConnectors.
func (c *Charger) connectors() int { return int(c.numConnectors) }

// regCode returns the code Charger.registration keeps for a
// BootNotification status (validated: one of the three), and
// registrationOf turns it back; 0 is "" (no answer yet).
func regCode(s RegistrationStatus) uint8 {
	switch s {
	case RegistrationStatusAccepted:
		return 1
	case RegistrationStatusPending:
		return 2
	case RegistrationStatusRejected:
		return 3
	}
	return 0
}

func registrationOf(code uint8) RegistrationStatus {
	switch code {
	case 1:
		return RegistrationStatusAccepted
	case 2:
		return RegistrationStatusPending
	case 3:
		return RegistrationStatusRejected
	}
	return ""
}

// Compile-time checks of the roles a Charger plays.
var (
	_ station.Reporter         = (*Charger)(nil)
	_ station.Authorizer       = (*Charger)(nil)
	_ ocppclient.Handler       = (*Charger)(nil)
	_ ocppclient.DeliveryHooks = (*Charger)(nil)
)

// New checks opts and opens the adapter's buckets in opts.DB.
func New(opts Options) (*Charger, error) {
	switch {
	case opts.NumConnectors < 1:
		return nil, errors.New("ocpp16: NumConnectors must be at least 1")
	case opts.NumConnectors > math.MaxInt32:
		return nil, errors.New("ocpp16: NumConnectors is too large")
	case opts.DB == nil:
		return nil, errors.New("ocpp16: no DB")
	case opts.Config == nil:
		return nil, errors.New("ocpp16: no Config")
	case opts.Queue == nil:
		return nil, errors.New("ocpp16: no Queue")
	case opts.Identity.ChargePointVendor == "" || opts.Identity.ChargePointModel == "":
		return nil, errors.New("ocpp16: Identity needs ChargePointVendor and ChargePointModel")
	}
	if opts.Bucket == "" {
		opts.Bucket = "ocpp16"
	}
	c := &Charger{
		opts: settings{
			Identity:            opts.Identity,
			OnConfigChange:      opts.OnConfigChange,
			OnReset:             opts.OnReset,
			Location:            opts.Location,
			Voltage:             opts.Voltage,
			SiteLimit:           opts.SiteLimit,
			Security:            opts.Security,
			Certificates:        opts.Certificates,
			SecurityLog:         opts.SecurityLog,
			Firmware:            opts.Firmware,
			Logs:                opts.Logs,
			DiagnosticsLogs:     opts.DiagnosticsLogs,
			SecurityLogSource:   opts.SecurityLogSource,
			Currency:            opts.Currency,
			OnClientCertificate: opts.OnClientCertificate,
		},
		clk:           clock.Or(opts.Clock),
		log:           opts.Logger,
		cfg:           opts.Config,
		queue:         opts.Queue,
		st:            opts.Station,
		allowProfile1: opts.AllowProfile1,
		numConnectors: int32(opts.NumConnectors),
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.statuses = newStatusTracker(opts.NumConnectors)
	var err error
	if c.tx, err = openTxStore(opts.DB, opts.Bucket); err != nil {
		return nil, fmt.Errorf("ocpp16: %w", err)
	}
	if c.auth, err = openAuthCache(c.tx); err != nil {
		return nil, fmt.Errorf("ocpp16: %w", err)
	}
	if c.list, err = authlist.Open(opts.DB, opts.Bucket+".locallist"); err != nil {
		return nil, fmt.Errorf("ocpp16: %w", err)
	}
	if c.smart.profiles, err = smartcharging.OpenStore(opts.DB, opts.Bucket+".profiles"); err != nil {
		return nil, fmt.Errorf("ocpp16: %w", err)
	}
	c.applyRetryPolicy()
	c.cfg.OnChange(c.configChanged)
	return c, nil
}

// SetStation sets the station the CSMS's requests drive, for binaries that
// build the station after the Charger (the station needs the Charger as its
// Reporter and Authorizer). Call it before the transport runs.
func (c *Charger) SetStation(s Station) {
	c.mu.Lock()
	c.st = s
	c.mu.Unlock()
}

// SetTransport sets the Caller for the CALLs the Charger starts on its own
// (Heartbeat, StatusNotification, Authorize, idle MeterValues) and a
// function that reports whether that Caller is registered (normally
// (*ocppclient.Client).Registered); online may be nil when the Caller
// answers ErrOffline by itself. The Client is built after the Charger
// because it takes the Charger as Handler, Hooks and OnConnect; this breaks
// the cycle. Until SetTransport the Charger behaves as offline.
func (c *Charger) SetTransport(caller ocppclient.Caller, online func() bool) {
	c.mu.Lock()
	c.caller, c.online = caller, online
	c.mu.Unlock()
	c.kickStatuses()
}

// Registration returns the status of the last BootNotification answer
// ("Accepted", "Pending", "Rejected"), or "" before the first one, for the
// status API.
func (c *Charger) Registration() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(registrationOf(c.registration))
}

// station returns the station, or an error when none was set yet.
func (c *Charger) station() (Station, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st == nil {
		return nil, errors.New("ocpp16: no station set")
	}
	return c.st, nil
}

// transport returns the Caller for ordinary CALLs if the charger is
// registered on a live connection, or nil.
func (c *Charger) transport() ocppclient.Caller {
	c.mu.Lock()
	caller, online, accepted := c.caller, c.online, c.accepted
	c.mu.Unlock()
	if caller == nil || !accepted || (online != nil && !online()) {
		return nil
	}
	return caller
}

// call sends one CALL through caller and decodes the answer with the
// package's validating decoder into resp (a pointer to the action's
// response type, or nil), so that an answer breaking the schema is an error
// rather than a half-filled value.
func call(ctx context.Context, caller ocppclient.Caller, action string, req, resp any) error {
	var raw json.RawMessage
	if err := caller.Call(ctx, action, req, &raw); err != nil {
		return err
	}
	if resp == nil {
		return nil
	}
	if err := DecodeResponse(action, raw, resp); err != nil {
		return fmt.Errorf("%s answer: %w", action, err)
	}
	return nil
}

// OnConnect registers the charger on a new connection; pass it as
// ocppclient.Options.OnConnect. The first time in the process it sends
// BootNotification until the CSMS accepts it, waiting the interval the CSMS
// gives (10 s when it gives 0) after Pending or Rejected; while Pending the CSMS
// may already send requests, which the Handler answers. Later connects skip
// the BootNotification. Then it reports the current status of connector 0
// and of every connector. It returns nil once registered, ctx's error when
// ctx ends, and the transport's error when a CALL fails (the Client then
// reconnects).
func (c *Charger) OnConnect(ctx context.Context, caller ocppclient.Caller) error {
	c.mu.Lock()
	accepted := c.accepted
	c.mu.Unlock()
	if !accepted {
		if err := c.boot(ctx, caller); err != nil {
			return err
		}
	}
	if err := c.sendAllStatuses(ctx, caller); err != nil {
		return fmt.Errorf("StatusNotification: %w", err)
	}
	c.setOnline(true)
	return nil
}

// bootRequest is the BootNotification of the charger's identity.
func (c *Charger) bootRequest() (*BootNotificationRequest, error) {
	id := c.opts.Identity
	req := &BootNotificationRequest{
		ChargePointVendor:       id.ChargePointVendor,
		ChargePointModel:        id.ChargePointModel,
		ChargePointSerialNumber: id.ChargePointSerialNumber,
		ChargeBoxSerialNumber:   id.ChargeBoxSerialNumber,
		FirmwareVersion:         id.FirmwareVersion,
		Iccid:                   id.Iccid,
		Imsi:                    id.Imsi,
		MeterType:               id.MeterType,
		MeterSerialNumber:       id.MeterSerialNumber,
	}
	if err := req.Validate(); err != nil {
		// A misconfigured identity never registers; say so plainly.
		return nil, fmt.Errorf("BootNotification: identity: %w", err)
	}
	return req, nil
}

// boot sends BootNotification until it is accepted.
func (c *Charger) boot(ctx context.Context, caller ocppclient.Caller) error {
	req, err := c.bootRequest()
	if err != nil {
		return err
	}
	// A trigger from an earlier connection is stale: this registration
	// listens to its own.
	reg := &registration{caller: caller, now: make(chan struct{}, 1)}
	bootNow := reg.now
	c.mu.Lock()
	c.booting = reg
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.booting = nil
		c.mu.Unlock()
	}()
	for {
		var resp BootNotificationResponse
		if err := call(ctx, caller, ActionBootNotification, req, &resp); err != nil {
			return err
		}
		interval := secondsDuration(resp.Interval)
		c.mu.Lock()
		c.registration = regCode(resp.Status)
		if resp.Status == RegistrationStatusAccepted {
			c.accepted = true
		}
		c.mu.Unlock()
		c.log.Info("ocpp16 boot notification answered", "status", resp.Status, "interval", interval)

		if resp.Status == RegistrationStatusAccepted {
			if interval > 0 {
				c.setHeartbeatInterval(interval)
			}
			c.kickStatuses()
			return nil
		}
		// Pending or Rejected: per section 4.2 wait the interval and try
		// again. Nothing else is sent meanwhile: the queue and Call stay
		// closed until OnConnect returns.
		if interval <= 0 {
			interval = minBootRetry
		}
		t := c.clk.NewTimer(interval)
		select {
		case <-t.C():
		case <-bootNow:
			t.Stop()
			c.log.Info("ocpp16 boot notification triggered by the CSMS")
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// secondsDuration converts an OCPP interval in seconds.
func secondsDuration(s int) time.Duration { return time.Duration(s) * time.Second }

// Run sends heartbeats and status notifications until ctx ends; it returns
// nil then. Start it alongside the transport. It is Start and waiting for
// ctx, for callers that keep a goroutine per part.
func (c *Charger) Run(ctx context.Context) error {
	stop := c.Start(ctx)
	<-ctx.Done()
	stop()
	return nil
}

// Start sends heartbeats and status notifications until ctx ends, as Run
// does, but returns at once: heartbeats run on clock timers and statuses on
// a goroutine that lives only while there are some to send, so that an
// idle charger costs no goroutine (the fleet simulator runs thousands).
// stop, to be called once ctx has ended (it ends nothing by itself), waits
// for a send in progress and disarms the heartbeat. Start may be called
// again after stop.
func (c *Charger) Start(ctx context.Context) (stop func()) {
	c.mu.Lock()
	c.runCtx = ctx
	c.mu.Unlock()
	c.scheduleHeartbeat()
	c.kickStatuses() // changes that came in before Start
	// The installed profiles reach the station once its loop runs (it
	// may start after the Charger).
	c.background.Go(func() { c.startLimits(ctx) })
	c.background.Go(func() { c.applyDefaultPrice(ctx) })
	c.setOnline(c.transport() != nil)
	return func() {
		c.stopLimits()
		c.senders.Wait()
		c.mu.Lock()
		c.runCtx = nil
		if c.heartbeatTimer != nil {
			c.heartbeatTimer.Stop()
			c.heartbeatTimer = nil
		}
		c.mu.Unlock()
	}
}

// setHeartbeatInterval stores the interval a BootNotification.conf gave, so
// that GetConfiguration reports it; the change hook reschedules.
func (c *Charger) setHeartbeatInterval(d time.Duration) {
	if st := c.cfg.Set(KeyHeartbeatInterval, strconv.Itoa(int(d/time.Second))); st != ConfigurationStatusAccepted {
		c.log.Warn("ocpp16 heartbeat interval from BootNotification not stored", "interval", d, "status", st)
	}
}

// scheduleHeartbeat (re)arms the heartbeat timer for HeartbeatInterval from
// now; 0 disables heartbeats. It is a clock AfterFunc rather than a loop so
// that an interval change takes effect the moment it is made.
func (c *Charger) scheduleHeartbeat() {
	d := c.cfg.Duration(KeyHeartbeatInterval)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.runCtx == nil || c.runCtx.Err() != nil || d <= 0 {
		if c.heartbeatTimer != nil {
			c.heartbeatTimer.Stop()
			c.heartbeatTimer = nil
		}
		return
	}
	// One timer, re-armed: a timer stopped and replaced at every beat
	// would linger in the runtime's timer heap for a while, and the fleet
	// simulator has thousands of chargers beating.
	if c.heartbeatTimer == nil {
		c.heartbeatTimer = c.clk.AfterFunc(d, c.heartbeat)
	} else {
		c.heartbeatTimer.Reset(d)
	}
}

// heartbeat sends one Heartbeat if registered, then schedules the next.
// Heartbeats are not queued: one missed while offline means nothing.
func (c *Charger) heartbeat() {
	c.mu.Lock()
	ctx := c.runCtx
	c.mu.Unlock()
	if ctx == nil {
		return
	}
	if caller := c.transport(); caller != nil {
		if err := call(ctx, caller, ActionHeartbeat, &HeartbeatRequest{}, &HeartbeatResponse{}); err != nil && ctx.Err() == nil {
			c.log.Warn("ocpp16 heartbeat", "err", err)
		}
	}
	c.scheduleHeartbeat()
}

// runContext is the context of Start while started, else a background
// one: work that outlives a CSMS request (a firmware update) runs under it.
func (c *Charger) runContext() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.runCtx == nil {
		return context.Background()
	}
	return c.runCtx
}
