package csms201

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp"
	ocpp2 "github.com/lorenzodonini/ocpp-go/ocpp2.0.1"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/authorization"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/availability"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/diagnostics"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/firmware"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/meter"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/provisioning"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/remotecontrol"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/reservation"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/security"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/tariffcost"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/transactions"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/types"
	"github.com/lorenzodonini/ocpp-go/ws"
)

// Options script the CSMS. The zero value accepts every boot and token.
type Options struct {
	// HeartbeatInterval is returned in BootNotificationResponse; 0 means
	// 300 s.
	HeartbeatInterval time.Duration
	// PendingBoots answers the first n BootNotifications of each station
	// Pending (interval 1 s) before accepting.
	PendingBoots int
	// Authorize decides tokens, in AuthorizeResponse and in the
	// idTokenInfo of TransactionEventResponse; nil accepts all.
	Authorize func(idToken string) types.AuthorizationStatus
	// PersonalMessage is the idTokenInfo.personalMessage of the
	// AuthorizeResponse and TransactionEventResponse for a token (the
	// driver's tariff, I01); nil, or a nil answer, sends none.
	PersonalMessage func(idToken string) *types.MessageContent
	// Cost answers a TransactionEvent with a totalCost (the running cost,
	// the final one for an Ended event: I02, I03) and an
	// updatedPersonalMessage (I06); nil, or nil answers, send neither.
	Cost func(req *transactions.TransactionEventRequest) (totalCost *float64, updated *types.MessageContent)
}

// Record is one request a station sent, as the CSMS decoded it: a
// *provisioning.BootNotificationRequest, *transactions.TransactionEventRequest, ...
type Record struct {
	Station string
	Action  string
	Request ocpp.Request
	At      time.Time
}

// CSMS is a running central system; its methods are safe for concurrent
// use.
type CSMS struct {
	port int

	mu      sync.Mutex // guards the fields below
	opts    Options
	cs      ocpp2.CSMS
	records []Record
	boots   map[string]int
	conns   map[string]bool
	changed chan struct{} // closed and replaced on every change
}

// Start runs a CSMS on a free loopback port.
func Start(opts Options) (*CSMS, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("csms201: free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	c := &CSMS{port: port, opts: opts, boots: map[string]int{}, conns: map[string]bool{}, changed: make(chan struct{})}
	if err := c.Restart(); err != nil {
		return nil, err
	}
	return c, nil
}

// URL is the endpoint a station connects to (its id is appended).
func (c *CSMS) URL() string { return "ws://127.0.0.1:" + strconv.Itoa(c.port) + "/ocpp" }

// Restart brings a stopped CSMS back on the same port, keeping its
// records, and waits until the port accepts connections.
func (c *CSMS) Restart() error {
	c.mu.Lock()
	if c.cs != nil {
		c.mu.Unlock()
		return errors.New("csms201: already running")
	}
	server := ws.NewServer()
	server.SetTimeoutConfig(ws.ServerTimeoutConfig{WriteWait: 10 * time.Second})
	cs := ocpp2.NewCSMS(nil, server)
	h := &handler{c: c}
	cs.SetProvisioningHandler(h)
	cs.SetAvailabilityHandler(h)
	cs.SetAuthorizationHandler(h)
	cs.SetTransactionsHandler(h)
	cs.SetMeterHandler(h)
	cs.SetSmartChargingHandler(h)
	cs.SetReservationHandler(h)
	cs.SetSecurityHandler(h)
	cs.SetFirmwareHandler(h)
	cs.SetDiagnosticsHandler(h)
	cs.SetTariffCostHandler(h)
	cs.SetNewChargingStationHandler(func(s ocpp2.ChargingStationConnection) { c.setConnected(s.ID(), true) })
	cs.SetChargingStationDisconnectedHandler(func(s ocpp2.ChargingStationConnection) { c.setConnected(s.ID(), false) })
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
	return fmt.Errorf("csms201: server did not listen on port %d", c.port)
}

// Stop takes the CSMS away until Restart.
func (c *CSMS) Stop() {
	c.mu.Lock()
	cs := c.cs
	c.cs = nil
	for id := range c.conns {
		c.conns[id] = false
	}
	c.mu.Unlock()
	if cs != nil {
		cs.Stop()
	}
}

// Connected reports whether station id has an open websocket.
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

// Records returns a copy of the requests received so far, in order; with
// actions given, only those.
func (c *CSMS) Records(actions ...string) []Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Record
	for _, r := range c.records {
		if len(actions) == 0 || slices.Contains(actions, r.Action) {
			out = append(out, r)
		}
	}
	return out
}

// WaitFor polls cond with the records until it holds or timeout passes
// (wall clock); it reports whether cond held.
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

func (c *CSMS) record(st string, req ocpp.Request) {
	c.mu.Lock()
	c.records = append(c.records, Record{Station: st, Action: req.GetFeatureName(), Request: req, At: time.Now()})
	c.notifyLocked()
	c.mu.Unlock()
}

func (c *CSMS) verdict(token string) types.AuthorizationStatus {
	c.mu.Lock()
	auth := c.opts.Authorize
	c.mu.Unlock()
	if auth == nil {
		return types.AuthorizationStatusAccepted
	}
	return auth(token)
}

// callTimeout bounds the CSMS-initiated calls.
const callTimeout = 10 * time.Second

// Send sends a CSMS-initiated request to station st and waits for the
// answer; a CALLERROR comes back as an *ocpp.Error.
func (c *CSMS) Send(st string, req ocpp.Request) (ocpp.Response, error) {
	c.mu.Lock()
	cs := c.cs
	c.mu.Unlock()
	if cs == nil {
		return nil, errors.New("csms201: CSMS stopped")
	}
	type result struct {
		r   ocpp.Response
		err error
	}
	done := make(chan result, 1)
	if err := cs.SendRequestAsync(st, req, func(r ocpp.Response, err error) { done <- result{r, err} }); err != nil {
		return nil, err
	}
	select {
	case r := <-done:
		return r.r, r.err
	case <-time.After(callTimeout):
		return nil, errors.New("csms201: no answer from the station")
	}
}

func send[T ocpp.Response](c *CSMS, st string, req ocpp.Request) (T, error) {
	var zero T
	r, err := c.Send(st, req)
	if err != nil {
		return zero, err
	}
	out, ok := r.(T)
	if !ok {
		return zero, fmt.Errorf("csms201: answer %T, want %T", r, zero)
	}
	return out, nil
}

// GetVariables sends GetVariables.
func (c *CSMS) GetVariables(st string, data ...provisioning.GetVariableData) (*provisioning.GetVariablesResponse, error) {
	return send[*provisioning.GetVariablesResponse](c, st, provisioning.NewGetVariablesRequest(data))
}

// SetVariables sends SetVariables.
func (c *CSMS) SetVariables(st string, data ...provisioning.SetVariableData) (*provisioning.SetVariablesResponse, error) {
	return send[*provisioning.SetVariablesResponse](c, st, provisioning.NewSetVariablesRequest(data))
}

// GetBaseReport sends GetBaseReport.
func (c *CSMS) GetBaseReport(st string, requestID int, base provisioning.ReportBaseType) (*provisioning.GetBaseReportResponse, error) {
	return send[*provisioning.GetBaseReportResponse](c, st, provisioning.NewGetBaseReportRequest(requestID, base))
}

// Reset sends Reset.
func (c *CSMS) Reset(st string, t provisioning.ResetType) (*provisioning.ResetResponse, error) {
	return send[*provisioning.ResetResponse](c, st, provisioning.NewResetRequest(t))
}

// RequestStart sends RequestStartTransaction for evse (0: any).
func (c *CSMS) RequestStart(st string, evse, remoteStartID int, token string) (*remotecontrol.RequestStartTransactionResponse, error) {
	req := remotecontrol.NewRequestStartTransactionRequest(remoteStartID, types.IdToken{IdToken: token, Type: types.IdTokenTypeCentral})
	if evse > 0 {
		req.EvseID = &evse
	}
	return send[*remotecontrol.RequestStartTransactionResponse](c, st, req)
}

// RequestStop sends RequestStopTransaction.
func (c *CSMS) RequestStop(st, transactionID string) (*remotecontrol.RequestStopTransactionResponse, error) {
	return send[*remotecontrol.RequestStopTransactionResponse](c, st, remotecontrol.NewRequestStopTransactionRequest(transactionID))
}

// TriggerMessage sends TriggerMessage.
func (c *CSMS) TriggerMessage(st string, m remotecontrol.MessageTrigger) (*remotecontrol.TriggerMessageResponse, error) {
	return send[*remotecontrol.TriggerMessageResponse](c, st, remotecontrol.NewTriggerMessageRequest(m))
}

// ChangeAvailability sends ChangeAvailability for evse (0: the station).
func (c *CSMS) ChangeAvailability(st string, evse int, s availability.OperationalStatus) (*availability.ChangeAvailabilityResponse, error) {
	req := availability.NewChangeAvailabilityRequest(s)
	if evse > 0 {
		req.Evse = &types.EVSE{ID: evse}
	}
	return send[*availability.ChangeAvailabilityResponse](c, st, req)
}

// handler answers the station's requests.
type handler struct{ c *CSMS }

func (h *handler) OnBootNotification(st string, req *provisioning.BootNotificationRequest) (*provisioning.BootNotificationResponse, error) {
	h.c.record(st, req)
	h.c.mu.Lock()
	h.c.boots[st]++
	pending := h.c.boots[st] <= h.c.opts.PendingBoots
	interval := h.c.opts.HeartbeatInterval
	h.c.mu.Unlock()
	now := types.NewDateTime(time.Now())
	if pending {
		return provisioning.NewBootNotificationResponse(now, 1, provisioning.RegistrationStatusPending), nil
	}
	if interval == 0 {
		interval = 300 * time.Second
	}
	return provisioning.NewBootNotificationResponse(now, int(interval/time.Second), provisioning.RegistrationStatusAccepted), nil
}

func (h *handler) OnNotifyReport(st string, req *provisioning.NotifyReportRequest) (*provisioning.NotifyReportResponse, error) {
	h.c.record(st, req)
	return provisioning.NewNotifyReportResponse(), nil
}

func (h *handler) OnHeartbeat(st string, req *availability.HeartbeatRequest) (*availability.HeartbeatResponse, error) {
	h.c.record(st, req)
	return availability.NewHeartbeatResponse(*types.NewDateTime(time.Now())), nil
}

func (h *handler) OnStatusNotification(st string, req *availability.StatusNotificationRequest) (*availability.StatusNotificationResponse, error) {
	h.c.record(st, req)
	return availability.NewStatusNotificationResponse(), nil
}

func (h *handler) OnAuthorize(st string, req *authorization.AuthorizeRequest) (*authorization.AuthorizeResponse, error) {
	h.c.record(st, req)
	return authorization.NewAuthorizationResponse(h.c.tokenInfo(req.IdToken.IdToken)), nil
}

func (h *handler) OnTransactionEvent(st string, req *transactions.TransactionEventRequest) (*transactions.TransactionEventResponse, error) {
	h.c.record(st, req)
	resp := transactions.NewTransactionEventResponse()
	if req.IDToken != nil {
		info := h.c.tokenInfo(req.IDToken.IdToken)
		resp.IDTokenInfo = &info
	}
	h.c.mu.Lock()
	cost := h.c.opts.Cost
	h.c.mu.Unlock()
	if cost != nil {
		resp.TotalCost, resp.UpdatedPersonalMessage = cost(req)
	}
	return resp, nil
}

// tokenInfo is the idTokenInfo of token: the verdict and the personal
// message of the Options.
func (c *CSMS) tokenInfo(token string) types.IdTokenInfo {
	info := types.IdTokenInfo{Status: c.verdict(token)}
	c.mu.Lock()
	pm := c.opts.PersonalMessage
	c.mu.Unlock()
	if pm != nil {
		info.PersonalMessage = pm(token)
	}
	return info
}

// CostUpdated sends CostUpdated: the running cost of a transaction.
func (c *CSMS) CostUpdated(st string, totalCost float64, transactionID string) (*tariffcost.CostUpdatedResponse, error) {
	return send[*tariffcost.CostUpdatedResponse](c, st, tariffcost.NewCostUpdatedRequest(totalCost, transactionID))
}

func (h *handler) OnMeterValues(st string, req *meter.MeterValuesRequest) (*meter.MeterValuesResponse, error) {
	h.c.record(st, req)
	return meter.NewMeterValuesResponse(), nil
}

// SetChargingProfile sends SetChargingProfile.
func (c *CSMS) SetChargingProfile(st string, evse int, p *types.ChargingProfile) (*smartcharging.SetChargingProfileResponse, error) {
	return send[*smartcharging.SetChargingProfileResponse](c, st, smartcharging.NewSetChargingProfileRequest(evse, p))
}

// GetChargingProfiles sends GetChargingProfiles; the profiles come back in
// ReportChargingProfiles records.
func (c *CSMS) GetChargingProfiles(st string, requestID int, evse *int, criterion smartcharging.ChargingProfileCriterion) (*smartcharging.GetChargingProfilesResponse, error) {
	req := smartcharging.NewGetChargingProfilesRequest(criterion)
	req.RequestID = requestID
	req.EvseID = evse
	return send[*smartcharging.GetChargingProfilesResponse](c, st, req)
}

// ClearChargingProfile sends ClearChargingProfile for a profile id.
func (c *CSMS) ClearChargingProfile(st string, id int) (*smartcharging.ClearChargingProfileResponse, error) {
	req := smartcharging.NewClearChargingProfileRequest()
	req.ChargingProfileID = &id
	return send[*smartcharging.ClearChargingProfileResponse](c, st, req)
}

// GetCompositeSchedule sends GetCompositeSchedule.
func (c *CSMS) GetCompositeSchedule(st string, evse, duration int, unit types.ChargingRateUnitType) (*smartcharging.GetCompositeScheduleResponse, error) {
	req := smartcharging.NewGetCompositeScheduleRequest(duration, evse)
	req.ChargingRateUnit = unit
	return send[*smartcharging.GetCompositeScheduleResponse](c, st, req)
}

// ReserveNow sends ReserveNow for evse (0: any EVSE).
func (c *CSMS) ReserveNow(st string, id, evse int, token string, expiry time.Time) (*reservation.ReserveNowResponse, error) {
	req := reservation.NewReserveNowRequest(id, types.NewDateTime(expiry), types.IdToken{IdToken: token, Type: types.IdTokenTypeCentral})
	if evse > 0 {
		req.EvseID = &evse
	}
	return send[*reservation.ReserveNowResponse](c, st, req)
}

// CancelReservation sends CancelReservation.
func (c *CSMS) CancelReservation(st string, id int) (*reservation.CancelReservationResponse, error) {
	return send[*reservation.CancelReservationResponse](c, st, reservation.NewCancelReservationRequest(id))
}

// CertificateSigned sends CertificateSigned with a PEM chain.
func (c *CSMS) CertificateSigned(st, chain string) (*security.CertificateSignedResponse, error) {
	return send[*security.CertificateSignedResponse](c, st, security.NewCertificateSignedRequest(chain))
}

func (h *handler) OnClearedChargingLimit(st string, req *smartcharging.ClearedChargingLimitRequest) (*smartcharging.ClearedChargingLimitResponse, error) {
	h.c.record(st, req)
	return smartcharging.NewClearedChargingLimitResponse(), nil
}

func (h *handler) OnNotifyChargingLimit(st string, req *smartcharging.NotifyChargingLimitRequest) (*smartcharging.NotifyChargingLimitResponse, error) {
	h.c.record(st, req)
	return smartcharging.NewNotifyChargingLimitResponse(), nil
}

func (h *handler) OnNotifyEVChargingNeeds(st string, req *smartcharging.NotifyEVChargingNeedsRequest) (*smartcharging.NotifyEVChargingNeedsResponse, error) {
	h.c.record(st, req)
	return smartcharging.NewNotifyEVChargingNeedsResponse(smartcharging.EVChargingNeedsStatusRejected), nil
}

func (h *handler) OnNotifyEVChargingSchedule(st string, req *smartcharging.NotifyEVChargingScheduleRequest) (*smartcharging.NotifyEVChargingScheduleResponse, error) {
	h.c.record(st, req)
	return smartcharging.NewNotifyEVChargingScheduleResponse(types.GenericStatusRejected), nil
}

func (h *handler) OnReportChargingProfiles(st string, req *smartcharging.ReportChargingProfilesRequest) (*smartcharging.ReportChargingProfilesResponse, error) {
	h.c.record(st, req)
	return smartcharging.NewReportChargingProfilesResponse(), nil
}

func (h *handler) OnReservationStatusUpdate(st string, req *reservation.ReservationStatusUpdateRequest) (*reservation.ReservationStatusUpdateResponse, error) {
	h.c.record(st, req)
	return reservation.NewReservationStatusUpdateResponse(), nil
}

func (h *handler) OnSecurityEventNotification(st string, req *security.SecurityEventNotificationRequest) (*security.SecurityEventNotificationResponse, error) {
	h.c.record(st, req)
	return security.NewSecurityEventNotificationResponse(), nil
}

func (h *handler) OnSignCertificate(st string, req *security.SignCertificateRequest) (*security.SignCertificateResponse, error) {
	h.c.record(st, req)
	return security.NewSignCertificateResponse(types.GenericStatusAccepted), nil
}

func (h *handler) OnFirmwareStatusNotification(st string, req *firmware.FirmwareStatusNotificationRequest) (*firmware.FirmwareStatusNotificationResponse, error) {
	h.c.record(st, req)
	return firmware.NewFirmwareStatusNotificationResponse(), nil
}

func (h *handler) OnPublishFirmwareStatusNotification(st string, req *firmware.PublishFirmwareStatusNotificationRequest) (*firmware.PublishFirmwareStatusNotificationResponse, error) {
	h.c.record(st, req)
	return firmware.NewPublishFirmwareStatusNotificationResponse(), nil
}

func (h *handler) OnLogStatusNotification(st string, req *diagnostics.LogStatusNotificationRequest) (*diagnostics.LogStatusNotificationResponse, error) {
	h.c.record(st, req)
	return diagnostics.NewLogStatusNotificationResponse(), nil
}

func (h *handler) OnNotifyCustomerInformation(st string, req *diagnostics.NotifyCustomerInformationRequest) (*diagnostics.NotifyCustomerInformationResponse, error) {
	h.c.record(st, req)
	return diagnostics.NewNotifyCustomerInformationResponse(), nil
}

func (h *handler) OnNotifyEvent(st string, req *diagnostics.NotifyEventRequest) (*diagnostics.NotifyEventResponse, error) {
	h.c.record(st, req)
	return diagnostics.NewNotifyEventResponse(), nil
}

func (h *handler) OnNotifyMonitoringReport(st string, req *diagnostics.NotifyMonitoringReportRequest) (*diagnostics.NotifyMonitoringReportResponse, error) {
	h.c.record(st, req)
	return diagnostics.NewNotifyMonitoringReportResponse(), nil
}
