package ocpptest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ws"
)

// Options script the CSMS's behaviour. The zero value accepts every boot,
// every id tag, and does not ask for a password.
type Options struct {
	// Password, when set, requires HTTP Basic auth with the charge point id
	// as user and this password (security profiles 1 and 2).
	Password string
	// TLS, when set, serves wss:// (security profiles 2 and 3) with the
	// server certificate and key in these PEM files; with ClientCAs set
	// too it requires a client certificate issued by one of them
	// (profile 3).
	TLS *TLSOptions
	// HeartbeatInterval is returned in BootNotification.conf; 0 means 300 s.
	HeartbeatInterval time.Duration
	// PendingBoots answers the first n BootNotifications of each charge point
	// Pending (with a 1 s interval) before accepting.
	PendingBoots int
	// Authorize decides id tags; nil accepts all.
	Authorize func(idTag string) types.AuthorizationStatus
	// Parent gives the parentIdTag (group) returned with every verdict on
	// idTag, in Authorize.conf and StartTransaction.conf: what a charge
	// point needs to honour a reservation made for a parentIdTag. nil, or
	// "", returns none.
	Parent func(idTag string) string
	// FailAll answers every call from a charge point with a CALLERROR
	// (InternalError) while true; change it with SetFailAll.
	FailAll bool
	// Silent leaves every call from a charge point unanswered while true,
	// while the websocket stays up (pings are still answered): a CSMS whose
	// application hangs. Calls received while silent are not recorded; when
	// silence ends (SetSilent(false) or Stop) they are answered with a
	// CALLERROR that comes too late for the charge point, which has timed
	// them out. Change it with SetSilent.
	Silent bool
}

// TLSOptions make the CSMS serve over TLS; see Options.TLS.
type TLSOptions struct {
	CertFile, KeyFile string
	ClientCAs         *x509.CertPool
}

// Record is one request a charge point sent, as the CSMS decoded it.
type Record struct {
	ChargePoint string
	Action      string
	// Request is the decoded request: *core.XxxRequest for the Core
	// profile (StartTransaction: see StartRequest), and
	// *firmware.DiagnosticsStatusNotificationRequest or
	// *firmware.FirmwareStatusNotificationRequest for the Firmware
	// Management profile.
	Request any
	At      time.Time
	// Refused is true when the call was answered with a CALLERROR
	// (FailAll): the charge point will send it again.
	Refused bool
}

// CSMS is a running central system. Its methods are safe for concurrent use.
type CSMS struct {
	port int

	mu      sync.Mutex // guards the fields below
	opts    Options
	cs      ocpp16.CentralSystem
	records []Record
	boots   map[string]int // BootNotifications seen per charge point
	nextTx  int
	conns   map[string]bool
	changed chan struct{} // closed and replaced on every new record
	// unsilence is closed when silence ends; nil while not silent.
	unsilence chan struct{}
	held      int // calls waiting for silence to end; tests read it
}

// Start runs a CSMS on a free loopback port.
func Start(opts Options) (*CSMS, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c := &CSMS{port: port, opts: opts, boots: map[string]int{}, nextTx: 1000,
		conns: map[string]bool{}, changed: make(chan struct{})}
	if opts.Silent {
		c.unsilence = make(chan struct{})
	}
	if err := c.Restart(); err != nil {
		return nil, err
	}
	return c, nil
}

// freePort asks the kernel for an unused loopback port. ocpp-go's server
// takes a port number, not a listener, so there is a short window in which
// another process could take it; tests on one machine accept that.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("ocpptest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL is the endpoint a charge point connects to (its id is appended).
func (c *CSMS) URL() string {
	scheme := "ws"
	if c.opts.TLS != nil {
		scheme = "wss"
	}
	return scheme + "://127.0.0.1:" + strconv.Itoa(c.port) + "/ocpp"
}

// Restart brings a stopped CSMS back on the same port, keeping its records
// and transaction ids: the same back end after an outage. It waits until the
// port accepts connections.
func (c *CSMS) Restart() error {
	c.mu.Lock()
	if c.cs != nil {
		c.mu.Unlock()
		return errors.New("ocpptest: already running")
	}
	server := ws.NewServer()
	if t := c.opts.TLS; t != nil {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if t.ClientCAs != nil {
			cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, t.ClientCAs
		}
		server = ws.NewTLSServer(t.CertFile, t.KeyFile, cfg)
	}
	// No read deadline from the server side: keepalive is the charge
	// point's job (WebSocketPingInterval), and tests stop the clock.
	server.SetTimeoutConfig(ws.ServerTimeoutConfig{WriteWait: 10 * time.Second})
	if c.opts.Password != "" {
		want := c.opts.Password
		server.SetBasicAuthHandler(func(user, pass string) bool { return pass == want && user != "" })
	}
	// With no endpoint given, ocpp-go registers every 1.6 profile, so that
	// the CSMS-initiated calls of all of them can be sent; the handlers are
	// for the profiles with calls a charge point initiates.
	cs := ocpp16.NewCentralSystem(nil, server)
	h := &handler{c: c}
	cs.SetCoreHandler(h)
	cs.SetFirmwareManagementHandler(h)
	cs.SetNewChargePointHandler(func(cp ocpp16.ChargePointConnection) { c.setConnected(cp.ID(), true) })
	cs.SetChargePointDisconnectedHandler(func(cp ocpp16.ChargePointConnection) { c.setConnected(cp.ID(), false) })
	c.cs = cs
	c.mu.Unlock()

	go cs.Start(c.port, "/ocpp/{id}")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(c.port), 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("ocpptest: server did not listen on port %d", c.port)
}

// Stop takes the CSMS away: connections are closed and the port stops
// answering until Restart.
func (c *CSMS) Stop() {
	c.mu.Lock()
	cs := c.cs
	c.cs = nil
	for id := range c.conns {
		c.conns[id] = false
	}
	// Release the handlers held by silence, so that none outlives the
	// server; the setting itself stays for after Restart.
	if c.unsilence != nil {
		close(c.unsilence)
		c.unsilence = make(chan struct{})
	}
	c.mu.Unlock()
	if cs != nil {
		cs.Stop()
	}
}

// SetSilent switches silence (see Options.Silent) on or off.
func (c *CSMS) SetSilent(v bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opts.Silent = v
	switch {
	case v && c.unsilence == nil:
		c.unsilence = make(chan struct{})
	case !v && c.unsilence != nil:
		close(c.unsilence)
		c.unsilence = nil
	}
}

// errSilenced answers, too late, a call held by silence.
var errSilenced = errors.New("ocpptest: answered after a silence")

// SetFailAll switches CALLERROR answers on or off.
func (c *CSMS) SetFailAll(v bool) {
	c.mu.Lock()
	c.opts.FailAll = v
	c.mu.Unlock()
}

// Connected reports whether the charge point has an open websocket.
func (c *CSMS) Connected(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conns[id]
}

func (c *CSMS) setConnected(id string, v bool) {
	c.mu.Lock()
	c.conns[id] = v
	c.notifyLocked()
	c.mu.Unlock()
}

func (c *CSMS) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Records returns a copy of every request received so far, in order; with
// actions given, only those actions.
func (c *CSMS) Records(actions ...string) []Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Record
	for _, r := range c.records {
		if len(actions) == 0 || contains(actions, r.Action) {
			out = append(out, r)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// WaitFor polls cond with the current records until it holds or timeout
// passes (real time: the CSMS runs on the wall clock); it reports whether cond
// held.
func (c *CSMS) WaitFor(timeout time.Duration, cond func(records []Record) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		recs := append([]Record(nil), c.records...)
		ch := c.changed
		c.mu.Unlock()
		if cond(recs) {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

// WaitConnected waits until the charge point id has an open websocket.
func (c *CSMS) WaitConnected(id string, timeout time.Duration) bool {
	return c.WaitFor(timeout, func([]Record) bool { return c.Connected(id) })
}

func (c *CSMS) record(cp, action string, req any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	// ocpp-go runs each handler on its own goroutine, so holding one here
	// blocks neither the connection's reader nor its pongs.
	if release := c.unsilence; release != nil {
		c.held++
		c.notifyLocked()
		c.mu.Unlock()
		<-release
		c.mu.Lock()
		c.held--
		return errSilenced
	}
	c.records = append(c.records, Record{ChargePoint: cp, Action: action, Request: req, At: time.Now(), Refused: c.opts.FailAll})
	c.notifyLocked()
	if c.opts.FailAll {
		return errors.New("ocpptest: scripted failure")
	}
	return nil
}

func (c *CSMS) central() (ocpp16.CentralSystem, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cs == nil {
		return nil, errors.New("ocpptest: CSMS stopped")
	}
	return c.cs, nil
}

// callTimeout bounds the synchronous CSMS-initiated requests below.
const callTimeout = 10 * time.Second

// call sends a CSMS-initiated request and waits for the answer.
func call[T any](c *CSMS, send func(cs ocpp16.CentralSystem, cb func(*T, error)) error) (*T, error) {
	cs, err := c.central()
	if err != nil {
		return nil, err
	}
	type result struct {
		v   *T
		err error
	}
	done := make(chan result, 1)
	if err := send(cs, func(v *T, err error) { done <- result{v, err} }); err != nil {
		return nil, err
	}
	select {
	case r := <-done:
		return r.v, r.err
	case <-time.After(callTimeout):
		return nil, errors.New("ocpptest: no answer from the charge point")
	}
}

// RemoteStart sends RemoteStartTransaction.
func (c *CSMS) RemoteStart(cp string, connector int, idTag string) (*core.RemoteStartTransactionConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*core.RemoteStartTransactionConfirmation, error)) error {
		return cs.RemoteStartTransaction(cp, cb, idTag, func(r *core.RemoteStartTransactionRequest) {
			if connector > 0 {
				r.ConnectorId = &connector
			}
		})
	})
}

// RemoteStop sends RemoteStopTransaction.
func (c *CSMS) RemoteStop(cp string, transactionID int) (*core.RemoteStopTransactionConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*core.RemoteStopTransactionConfirmation, error)) error {
		return cs.RemoteStopTransaction(cp, cb, transactionID)
	})
}

// ChangeConfiguration sends ChangeConfiguration.
func (c *CSMS) ChangeConfiguration(cp, key, value string) (*core.ChangeConfigurationConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*core.ChangeConfigurationConfirmation, error)) error {
		return cs.ChangeConfiguration(cp, cb, key, value)
	})
}

// GetConfiguration sends GetConfiguration.
func (c *CSMS) GetConfiguration(cp string, keys ...string) (*core.GetConfigurationConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*core.GetConfigurationConfirmation, error)) error {
		return cs.GetConfiguration(cp, cb, keys)
	})
}

// ChangeAvailability sends ChangeAvailability.
func (c *CSMS) ChangeAvailability(cp string, connector int, t core.AvailabilityType) (*core.ChangeAvailabilityConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*core.ChangeAvailabilityConfirmation, error)) error {
		return cs.ChangeAvailability(cp, cb, connector, t)
	})
}

// Reset sends Reset.
func (c *CSMS) Reset(cp string, t core.ResetType) (*core.ResetConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*core.ResetConfirmation, error)) error {
		return cs.Reset(cp, cb, t)
	})
}

// UnlockConnector sends UnlockConnector.
func (c *CSMS) UnlockConnector(cp string, connector int) (*core.UnlockConnectorConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*core.UnlockConnectorConfirmation, error)) error {
		return cs.UnlockConnector(cp, cb, connector)
	})
}

// DataTransfer sends a DataTransfer of vendorID; messageID "" leaves it
// out, and data is sent as the JSON string it is (as vendor extensions
// such as the Open Charge Alliance's California Pricing carry their JSON
// objects), "" leaving it out too.
func (c *CSMS) DataTransfer(cp, vendorID, messageID, data string) (*core.DataTransferConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*core.DataTransferConfirmation, error)) error {
		return cs.DataTransfer(cp, cb, vendorID, func(r *core.DataTransferRequest) {
			r.MessageId = messageID
			if data != "" {
				r.Data = data
			}
		})
	})
}

// TransactionID returns the id the CSMS gave the n-th StartTransaction it
// received (0-based), or 0.
func (c *CSMS) TransactionID(n int) int {
	starts := c.Records(core.StartTransactionFeatureName)
	if n < 0 || n >= len(starts) {
		return 0
	}
	return starts[n].Request.(*startRecord).TransactionID
}

// startRecord is how a StartTransaction is recorded: the request and the id
// it was given.
type startRecord struct {
	*core.StartTransactionRequest
	TransactionID int
}

// StartRequest returns the request and assigned id of a StartTransaction
// record. The request's ReservationId is the reservation the charge point
// says the transaction used (nil: none).
func StartRequest(r Record) (*core.StartTransactionRequest, int) {
	s := r.Request.(*startRecord)
	return s.StartTransactionRequest, s.TransactionID
}

// handler answers the Core profile calls of every charge point.
type handler struct{ c *CSMS }

var _ core.CentralSystemHandler = (*handler)(nil)

func (h *handler) OnAuthorize(cp string, req *core.AuthorizeRequest) (*core.AuthorizeConfirmation, error) {
	if err := h.c.record(cp, core.AuthorizeFeatureName, req); err != nil {
		return nil, err
	}
	return core.NewAuthorizationConfirmation(h.idTagInfo(req.IdTag)), nil
}

// idTagInfo is the CSMS's verdict on idTag (Options.Authorize and Parent).
func (h *handler) idTagInfo(idTag string) *types.IdTagInfo {
	h.c.mu.Lock()
	auth, parent := h.c.opts.Authorize, h.c.opts.Parent
	h.c.mu.Unlock()
	info := &types.IdTagInfo{Status: types.AuthorizationStatusAccepted}
	if auth != nil {
		info.Status = auth(idTag)
	}
	if parent != nil {
		info.ParentIdTag = parent(idTag)
	}
	return info
}

func (h *handler) OnBootNotification(cp string, req *core.BootNotificationRequest) (*core.BootNotificationConfirmation, error) {
	if err := h.c.record(cp, core.BootNotificationFeatureName, req); err != nil {
		return nil, err
	}
	h.c.mu.Lock()
	h.c.boots[cp]++
	pending := h.c.boots[cp] <= h.c.opts.PendingBoots
	interval := h.c.opts.HeartbeatInterval
	h.c.mu.Unlock()
	now := types.NewDateTime(time.Now())
	if pending {
		return core.NewBootNotificationConfirmation(now, 1, core.RegistrationStatusPending), nil
	}
	if interval == 0 {
		interval = 300 * time.Second
	}
	return core.NewBootNotificationConfirmation(now, int(interval/time.Second), core.RegistrationStatusAccepted), nil
}

func (h *handler) OnDataTransfer(cp string, req *core.DataTransferRequest) (*core.DataTransferConfirmation, error) {
	if err := h.c.record(cp, core.DataTransferFeatureName, req); err != nil {
		return nil, err
	}
	return core.NewDataTransferConfirmation(core.DataTransferStatusUnknownVendorId), nil
}

func (h *handler) OnHeartbeat(cp string, req *core.HeartbeatRequest) (*core.HeartbeatConfirmation, error) {
	if err := h.c.record(cp, core.HeartbeatFeatureName, req); err != nil {
		return nil, err
	}
	return core.NewHeartbeatConfirmation(types.NewDateTime(time.Now())), nil
}

func (h *handler) OnMeterValues(cp string, req *core.MeterValuesRequest) (*core.MeterValuesConfirmation, error) {
	if err := h.c.record(cp, core.MeterValuesFeatureName, req); err != nil {
		return nil, err
	}
	return core.NewMeterValuesConfirmation(), nil
}

func (h *handler) OnStatusNotification(cp string, req *core.StatusNotificationRequest) (*core.StatusNotificationConfirmation, error) {
	if err := h.c.record(cp, core.StatusNotificationFeatureName, req); err != nil {
		return nil, err
	}
	return core.NewStatusNotificationConfirmation(), nil
}

func (h *handler) OnStartTransaction(cp string, req *core.StartTransactionRequest) (*core.StartTransactionConfirmation, error) {
	h.c.mu.Lock()
	h.c.nextTx++
	id := h.c.nextTx
	h.c.mu.Unlock()
	if err := h.c.record(cp, core.StartTransactionFeatureName, &startRecord{req, id}); err != nil {
		return nil, err
	}
	return core.NewStartTransactionConfirmation(h.idTagInfo(req.IdTag), id), nil
}

func (h *handler) OnStopTransaction(cp string, req *core.StopTransactionRequest) (*core.StopTransactionConfirmation, error) {
	if err := h.c.record(cp, core.StopTransactionFeatureName, req); err != nil {
		return nil, err
	}
	return core.NewStopTransactionConfirmation(), nil
}
