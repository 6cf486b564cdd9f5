package ocpp201

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/bbolt"
	"periph.io/x/conn/v3/physic"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/authlist"
	"github.com/evsed/evsed/ocppclient/logupload"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/ocppclient/smartcharging"
	"github.com/evsed/evsed/station"
	"github.com/evsed/evsed/station/tariff"
)

// Station is the part of *station.Station the adapter drives; the same
// methods as the 1.6 adapter's Station, so that one station serves either.
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

// Identity is the chargingStation of BootNotification. Model (at most 20
// characters) and VendorName (at most 50) are required; the rest is sent
// when not empty.
type Identity struct {
	Model           string
	VendorName      string
	SerialNumber    string
	FirmwareVersion string
	ICCID           string
	IMSI            string
}

// Options configure a Charger. Zero values are documented per field.
type Options struct {
	// Station is driven by the CSMS's requests; nil at New is allowed,
	// then call SetStation before the transport runs.
	Station Station
	// Identity is sent in BootNotification.
	Identity Identity
	// NumEVSEs is the number of EVSEs (ids 1..n), one connector (id 1)
	// each; EVSE n is the station's connector n. Required.
	NumEVSEs int
	// DB holds the adapter's state (transactions, authorization cache,
	// local list, charging profiles, network profiles). Required; open
	// it without NoSync.
	DB *bbolt.DB
	// Bucket is the top-level bucket of that state; "" means "ocpp201".
	Bucket string
	// Variables is the device model, opened by the agent. Required. The
	// Charger takes its OnChange hook and its validator.
	Variables *devicemodel.Model
	// Queue receives the transaction messages. Required.
	Queue *ocppclient.Queue
	// Clock is the time source; nil means the wall clock.
	Clock clock.Clock
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
	// OnVariableChange, when set, is called after an accepted change of a
	// variable (SetVariables, or the Charger's own updates) for what the
	// binary owns: SecurityCtrlr.SecurityProfile, BasicAuthPassword,
	// OCPPCommCtrlr.WebSocketPingInterval, NetworkConfigurationPriority.
	OnVariableChange func(ref devicemodel.Ref, value string)
	// OnReset is called once a Reset was accepted and the sessions have
	// ended; the binary restarts the process. nil only ends the sessions.
	OnReset func()
	// Location is the station's time zone for recurring charging
	// profiles; nil means UTC.
	Location *time.Location
	// Voltage is the nominal phase voltage for converting W limits into
	// A; 0 means 230 V.
	Voltage physic.ElectricPotential
	// SiteLimit is the station's own limit per phase; 0 means none.
	// GetCompositeSchedule includes it.
	SiteLimit physic.ElectricCurrent
	// Security says whether the certificates a security profile needs are
	// installed; a network profile with security profile 2 or 3 is
	// Rejected unless it says they are. Nil means Certificates; with
	// neither every profile above 1 is Rejected.
	Security SecurityReadiness
	// Certificates is the certificate store of InstallCertificate,
	// GetInstalledCertificateIds, DeleteCertificate, SignCertificate and
	// CertificateSigned; nil answers them NotSupported. Pass a nil
	// interface, not a nil *certstore.Store.
	Certificates CertificateStore
	// SecurityLog, when set, keeps every security event (see
	// Charger.SecurityEvent); nil keeps none locally, and the critical
	// ones still go to the CSMS.
	SecurityLog SecurityLog
	// Firmware runs UpdateFirmware; its OnStatus must be
	// Charger.FirmwareNotice. Nil answers it NotSupported.
	Firmware FirmwareUpdater
	// Logs runs GetLog; its OnStatus must be Charger.LogNotice. Nil
	// answers it NotSupported.
	Logs LogUploader
	// DiagnosticsLogs are what a GetLog of the DiagnosticsLog uploads (the
	// agent's logs, the security log); SecurityLogSource is what a GetLog
	// of the SecurityLog uploads.
	DiagnosticsLogs   []logupload.Source
	SecurityLogSource logupload.Source
	// OnClientCertificate, when set, is called after a CertificateSigned
	// installed a new charging station certificate and its answer went
	// out: the agent reconnects so that the new certificate is presented.
	OnClientCertificate func()
	// Tariff, when set, becomes the station's default tariff at Start:
	// the prices the station estimates a cost with while the CSMS is
	// unreachable or sends none (2.0.1 carries no prices). Its Currency
	// "" means TariffCostCtrlr.Currency. Nil leaves the station's default
	// tariff as it is.
	Tariff *tariff.Tariff
}

// SecurityReadiness is what the adapter asks before it accepts a higher
// security profile.
type SecurityReadiness interface {
	// ProfileReady returns nil when the station holds what security
	// profile n needs, otherwise why not.
	ProfileReady(n int) error
}

// minBootRetry is the wait before resending a BootNotification answered
// Pending or Rejected with interval 0.
const minBootRetry = 10 * time.Second

// Charger is the OCPP 2.0.1 adapter of one charging station: it turns the
// station's facts into 2.0.1 messages (station.Reporter), authorizes id
// tokens (station.Authorizer), answers the CSMS (ocppclient.Handler),
// takes part in draining the queue (ocppclient.DeliveryHooks), registers
// on connect (OnConnect) and sends heartbeats and statuses (Start, Run).
// All methods are safe for concurrent use.
type Charger struct {
	opts   Options
	clk    clock.Clock
	log    *slog.Logger
	vars   *devicemodel.Model
	queue  *ocppclient.Queue
	store  *store
	list   *authlist.List
	cache  *authCache
	smart  *smartcharging.Store
	status *statusTracker
	// profilesMax is the most charging profiles held (the maxLimit of
	// SmartChargingCtrlr.Entries).
	profilesMax int
	// sc is the smart-charging state (smart.go).
	sc smartState
	// resv is the reservations watched (reservation.go).
	resv resvState
	// pricing is the tariff and cost state (pricing.go).
	pricing pricingState

	// txMu serializes the transaction state machine (the Reporter's
	// calls, remote starts, and Delivered) and guards txs.
	txMu sync.Mutex
	// evses is the transaction state per EVSE, index EVSE id (0 unused).
	evses []*evseState

	// mu guards the fields below.
	mu           sync.Mutex
	st           Station
	caller       ocppclient.Caller
	online       func() bool
	registration RegistrationStatus
	// accepted is set once a BootNotification was Accepted in this
	// process; later connects do not boot again.
	accepted bool
	// connected says OnConnect succeeded on the current connection and
	// no Disconnected came since: TransactionEvents queued meanwhile are
	// not offline.
	connected bool
	// bootCaller is the connection being registered while not Accepted,
	// for the messages a Pending registration may send (NotifyReport,
	// triggered BootNotification); bootNow makes it retry at once.
	bootCaller ocppclient.Caller
	bootNow    chan struct{}
	// bootReason is the reason of the next BootNotification.
	bootReason BootReason
	// runCtx is the context of Start while started, else nil.
	runCtx         context.Context
	heartbeatTimer clock.Timer
	// sending and resend drive the status sender goroutine.
	sending, resend bool
	senders         sync.WaitGroup
	// pendingReset is a Reset OnIdle waiting for the transactions to end;
	// nil when none.
	pendingReset *ResetRequest
	// pendingAvail are ChangeAvailability requests Scheduled until the
	// EVSE's transaction ends, by EVSE id (0: station).
	pendingAvail map[int]OperationalStatus
	// csrPending says a SignCertificate was accepted and no
	// CertificateSigned came yet; csrTimer sends it again.
	csrPending bool
	csrTimer   clock.Timer
	// background tracks goroutines started for work after an answer.
	background sync.WaitGroup
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
	case opts.NumEVSEs < 1:
		return nil, errors.New("ocpp201: NumEVSEs must be at least 1")
	case opts.DB == nil:
		return nil, errors.New("ocpp201: no DB")
	case opts.Variables == nil:
		return nil, errors.New("ocpp201: no Variables")
	case opts.Queue == nil:
		return nil, errors.New("ocpp201: no Queue")
	case opts.Identity.Model == "" || opts.Identity.VendorName == "":
		return nil, errors.New("ocpp201: Identity needs Model and VendorName")
	}
	if opts.Bucket == "" {
		opts.Bucket = "ocpp201"
	}
	c := &Charger{
		opts:         opts,
		clk:          clock.Or(opts.Clock),
		log:          opts.Logger,
		vars:         opts.Variables,
		queue:        opts.Queue,
		st:           opts.Station,
		pendingAvail: map[int]OperationalStatus{},
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if _, err := c.bootRequest(BootReasonPowerUp); err != nil {
		return nil, fmt.Errorf("ocpp201: %w", err)
	}
	var err error
	if c.store, err = openStore(opts.DB, opts.Bucket); err != nil {
		return nil, fmt.Errorf("ocpp201: %w", err)
	}
	if c.cache, err = openAuthCache(c.store, maxLimitOf(opts.Variables, refAuthCacheStorage, 1<<20)); err != nil {
		return nil, fmt.Errorf("ocpp201: %w", err)
	}
	if c.list, err = authlist.Open(opts.DB, opts.Bucket+".locallist"); err != nil {
		return nil, fmt.Errorf("ocpp201: %w", err)
	}
	if c.smart, err = smartcharging.OpenStore(opts.DB, opts.Bucket+".profiles"); err != nil {
		return nil, fmt.Errorf("ocpp201: %w", err)
	}
	c.bootReason = BootReasonPowerUp
	if r, err := c.store.bootReason(); err != nil {
		c.log.Warn("ocpp201 stored boot reason", "err", err)
	} else if r != "" {
		c.bootReason = r
	}
	c.profilesMax = maxLimitOf(c.vars, refSmartEntries, defaultProfilesMax)
	c.status = newStatusTracker(opts.NumEVSEs, c.kickStatuses)
	if err := c.recoverTransactions(); err != nil {
		return nil, fmt.Errorf("ocpp201: %w", err)
	}
	c.applyRetryPolicy()
	if err := c.loadReservations(); err != nil {
		return nil, fmt.Errorf("ocpp201: %w", err)
	}
	c.liveVariables()
	c.vars.SetValidator(c.validateVariable)
	c.vars.OnChange(c.variableChanged)
	return c, nil
}

// SetStation sets the station the CSMS's requests drive. Call it before
// the transport runs.
func (c *Charger) SetStation(s Station) {
	c.mu.Lock()
	c.st = s
	c.mu.Unlock()
}

// SetTransport sets the Caller for the CALLs the Charger starts on its own
// and a function that reports whether it is registered (normally
// (*ocppclient.Client).Registered; nil when the Caller answers ErrOffline
// itself). Until then the Charger behaves as offline.
func (c *Charger) SetTransport(caller ocppclient.Caller, online func() bool) {
	c.mu.Lock()
	c.caller, c.online = caller, online
	c.mu.Unlock()
	c.status.wake()
}

// Registration returns the status of the last BootNotification answer
// ("Accepted", "Pending", "Rejected"), or "" before the first one.
func (c *Charger) Registration() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.registration)
}

// Disconnected tells the Charger that the connection ended; pass it (or
// call it from) ocppclient.Options.OnDisconnect. TransactionEvents queued
// from then on carry offline=true until the next OnConnect.
func (c *Charger) Disconnected(registered bool, err error) {
	c.mu.Lock()
	c.connected = false
	c.mu.Unlock()
	c.setOnline(false)
}

func (c *Charger) station() (Station, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st == nil {
		return nil, errors.New("ocpp201: no station set")
	}
	return c.st, nil
}

// transport returns the Caller for ordinary CALLs if registered on a live
// connection, or nil.
func (c *Charger) transport() ocppclient.Caller {
	c.mu.Lock()
	caller, online, accepted := c.caller, c.online, c.accepted
	c.mu.Unlock()
	if caller == nil || !accepted || (online != nil && !online()) {
		return nil
	}
	return caller
}

// isOnline reports whether a message sent now goes out on a registered
// connection (for the offline flag of TransactionEvent).
func (c *Charger) isOnline() bool {
	c.mu.Lock()
	connected := c.connected
	c.mu.Unlock()
	return connected && c.transport() != nil
}

// call sends one CALL and decodes the answer with the validating decoder.
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
// BootNotification until Accepted (B01-B03), waiting the interval the
// CSMS gives (10 s for 0) after Pending or Rejected; while Pending the
// Handler answers the requests the specification allows then. Later
// connects skip it. Then it reports every connector's status. It returns
// nil once registered.
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
	c.mu.Lock()
	c.connected = true
	c.mu.Unlock()
	c.setOnline(true)
	return nil
}

func (c *Charger) bootRequest(reason BootReason) (*BootNotificationRequest, error) {
	id := c.opts.Identity
	req := &BootNotificationRequest{
		Reason: reason,
		ChargingStation: ChargingStation{
			Model:           id.Model,
			VendorName:      id.VendorName,
			SerialNumber:    id.SerialNumber,
			FirmwareVersion: id.FirmwareVersion,
		},
	}
	if id.ICCID != "" || id.IMSI != "" {
		req.ChargingStation.Modem = &Modem{Iccid: id.ICCID, Imsi: id.IMSI}
	}
	if err := req.Validate(); err != nil {
		return nil, fmt.Errorf("BootNotification: identity: %w", err)
	}
	return req, nil
}

// boot sends BootNotification until it is accepted.
func (c *Charger) boot(ctx context.Context, caller ocppclient.Caller) error {
	bootNow := make(chan struct{}, 1)
	c.mu.Lock()
	c.bootCaller, c.bootNow = caller, bootNow
	reason := c.bootReason
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.bootCaller, c.bootNow = nil, nil
		c.mu.Unlock()
	}()
	for {
		req, err := c.bootRequest(reason)
		if err != nil {
			return err
		}
		var resp BootNotificationResponse
		if err := call(ctx, caller, ActionBootNotification, req, &resp); err != nil {
			return err
		}
		interval := time.Duration(resp.Interval) * time.Second
		c.mu.Lock()
		c.registration = resp.Status
		if resp.Status == RegistrationStatusAccepted {
			c.accepted = true
		}
		c.mu.Unlock()
		c.log.Info("ocpp201 boot notification answered", "status", resp.Status, "interval", interval, "reason", reason)
		if resp.Status == RegistrationStatusAccepted {
			if interval > 0 {
				if err := c.vars.Update(refHeartbeatInterval, strconv.Itoa(resp.Interval)); err != nil {
					c.log.Warn("ocpp201 heartbeat interval from BootNotification not stored", "err", err)
				}
			}
			if reason != BootReasonPowerUp {
				if err := c.store.setBootReason(""); err != nil {
					c.log.Warn("ocpp201 clear boot reason", "err", err)
				}
			}
			c.scheduleHeartbeat()
			c.status.wake()
			return nil
		}
		if interval <= 0 {
			interval = minBootRetry
		}
		t := c.clk.NewTimer(interval)
		select {
		case <-t.C():
		case <-bootNow:
			t.Stop()
			reason = BootReasonTriggered
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// Run sends heartbeats and status notifications until ctx ends; it is
// Start and waiting for ctx.
func (c *Charger) Run(ctx context.Context) error {
	stop := c.Start(ctx)
	<-ctx.Done()
	stop()
	return nil
}

// Start sends heartbeats and status notifications until ctx ends, on
// clock timers and a goroutine that lives only while statuses are to be
// sent, and returns at once. stop, called once ctx has ended, waits for a
// send in progress and disarms the heartbeat.
func (c *Charger) Start(ctx context.Context) (stop func()) {
	c.mu.Lock()
	c.runCtx = ctx
	c.mu.Unlock()
	c.scheduleHeartbeat()
	c.kickStatuses()
	c.background.Go(func() { c.applyAllLimits(ctx) })
	// The prices reach the station once its loop runs; its online state
	// follows OnConnect and Disconnected (which a failed attempt calls
	// too), so that a 1.6 adapter started beside this one on the same
	// station is not contradicted before either connects.
	c.background.Go(func() { c.applyPrices(ctx) })
	c.armReservations()
	return func() {
		c.senders.Wait()
		c.stopLimits()
		c.stopReservations()
		c.mu.Lock()
		if c.csrTimer != nil {
			c.csrTimer.Stop()
			c.csrTimer = nil
		}
		c.runCtx = nil
		if c.heartbeatTimer != nil {
			c.heartbeatTimer.Stop()
			c.heartbeatTimer = nil
		}
		c.mu.Unlock()
	}
}

// scheduleHeartbeat (re)arms the heartbeat timer for HeartbeatInterval;
// 0 disables heartbeats.
func (c *Charger) scheduleHeartbeat() {
	d := c.seconds(refHeartbeatInterval)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.runCtx == nil || c.runCtx.Err() != nil || d <= 0 {
		if c.heartbeatTimer != nil {
			c.heartbeatTimer.Stop()
			c.heartbeatTimer = nil
		}
		return
	}
	if c.heartbeatTimer == nil {
		c.heartbeatTimer = c.clk.AfterFunc(d, c.heartbeat)
	} else {
		c.heartbeatTimer.Reset(d)
	}
}

func (c *Charger) heartbeat() {
	c.mu.Lock()
	ctx := c.runCtx
	c.mu.Unlock()
	if ctx == nil {
		return
	}
	if caller := c.transport(); caller != nil {
		if err := call(ctx, caller, ActionHeartbeat, &HeartbeatRequest{}, &HeartbeatResponse{}); err != nil && ctx.Err() == nil {
			c.log.Warn("ocpp201 heartbeat", "err", err)
		}
	}
	c.scheduleHeartbeat()
}

// runContext is Start's context while started, else a background one.
func (c *Charger) runContext() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.runCtx == nil {
		return context.Background()
	}
	return c.runCtx
}

// applyRetryPolicy sets the queue's retry policy from OCPPCommCtrlr
// MessageAttempts and MessageAttemptInterval (instance TransactionEvent).
func (c *Charger) applyRetryPolicy() {
	c.queue.SetRetryPolicy(c.intVar(refMessageAttempts), c.seconds(refMessageAttemptInterval))
}
