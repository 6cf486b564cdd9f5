package ocpp201

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/station"
)

// allowedBeforeAccepted are the requests a CSMS may send while the
// registration is Pending (B02): the device model and a triggered
// BootNotification.
func allowedBeforeAccepted(req any) bool {
	switch r := req.(type) {
	case *GetVariablesRequest, *SetVariablesRequest, *GetBaseReportRequest, *GetReportRequest:
		return true
	case *TriggerMessageRequest:
		return r.RequestedMessage == MessageTriggerBootNotification
	}
	return false
}

// HandleCall implements ocppclient.Handler: it decodes and validates the
// CSMS's CALL with DecodeRequest (whose CallError answers a bad payload,
// an unsupported or an unknown action) and carries it out. Before the
// BootNotification is Accepted only the requests B02 allows are served;
// the others are answered with the CALLERROR SecurityError.
func (c *Charger) HandleCall(ctx context.Context, action string, payload json.RawMessage) (any, error) {
	req, err := DecodeRequest(action, payload)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	accepted := c.accepted
	c.mu.Unlock()
	if !accepted && !allowedBeforeAccepted(req) {
		return nil, ocppclient.Errorf(ocppclient.SecurityError, "%s is not allowed before the BootNotification is accepted", action)
	}
	switch r := req.(type) {
	case *GetVariablesRequest:
		return c.getVariables(r)
	case *SetVariablesRequest:
		return c.setVariables(r)
	case *GetBaseReportRequest:
		return c.getBaseReport(r), nil
	case *GetReportRequest:
		return c.getReport(r)
	case *SetNetworkProfileRequest:
		return c.setNetworkProfile(r), nil
	case *TriggerMessageRequest:
		return c.triggerMessage(r), nil
	case *GetTransactionStatusRequest:
		return c.transactionStatus(r), nil
	case *ClearCacheRequest:
		return c.clearCache(), nil
	case *CostUpdatedRequest:
		return c.costUpdated(ctx, r), nil
	case *DataTransferRequest:
		c.log.Info("ocpp201 DataTransfer from CSMS", "vendorId", r.VendorID, "messageId", r.MessageID)
		return &DataTransferResponse{Status: DataTransferStatusUnknownVendorId}, nil
	case *SendLocalListRequest:
		return c.sendLocalList(r), nil
	case *GetLocalListVersionRequest:
		return &GetLocalListVersionResponse{VersionNumber: c.list.Version()}, nil
	case *GetChargingProfilesRequest:
		return c.getChargingProfiles(r), nil
	case *ClearChargingProfileRequest:
		return c.clearChargingProfile(ctx, r), nil
	case *InstallCertificateRequest:
		store, err := c.certificates(action)
		if err != nil {
			return nil, err
		}
		return c.installCertificate(store, r), nil
	case *GetInstalledCertificateIdsRequest:
		store, err := c.certificates(action)
		if err != nil {
			return nil, err
		}
		return c.installedCertificates(store, r), nil
	case *DeleteCertificateRequest:
		store, err := c.certificates(action)
		if err != nil {
			return nil, err
		}
		return c.deleteCertificate(store, r), nil
	case *CertificateSignedRequest:
		store, err := c.certificates(action)
		if err != nil {
			return nil, err
		}
		return c.certificateSigned(store, r), nil
	case *UpdateFirmwareRequest:
		if c.opts.Firmware == nil {
			return nil, needs(action, "firmware updater")
		}
		return c.updateFirmware(c.opts.Firmware, r), nil
	case *GetLogRequest:
		if c.opts.Logs == nil {
			return nil, needs(action, "log uploader")
		}
		return c.getLog(c.opts.Logs, r), nil
	}
	st, err := c.station()
	if err != nil {
		return nil, ocppclient.Errorf(ocppclient.InternalError, "station not ready")
	}
	switch r := req.(type) {
	case *ResetRequest:
		return c.reset(ctx, st, r), nil
	case *RequestStartTransactionRequest:
		return c.requestStart(ctx, st, r), nil
	case *RequestStopTransactionRequest:
		return c.requestStop(ctx, st, r), nil
	case *UnlockConnectorRequest:
		return c.unlock(ctx, st, r), nil
	case *ChangeAvailabilityRequest:
		return c.changeAvailability(ctx, st, r), nil
	case *SetChargingProfileRequest:
		return c.setChargingProfile(ctx, st, r), nil
	case *GetCompositeScheduleRequest:
		return c.getCompositeSchedule(ctx, st, r), nil
	case *ReserveNowRequest:
		return c.reserveNow(ctx, st, r), nil
	case *CancelReservationRequest:
		return c.cancelReservation(ctx, st, r), nil
	}
	return nil, ocppclient.Errorf(ocppclient.NotSupported, "action %s is not supported", action)
}

// statusInfo is a StatusInfo with a reason code (at most 20 characters)
// and a free text for people.
func statusInfo(code, info string) *StatusInfo {
	return &StatusInfo{ReasonCode: truncate(code, 20), AdditionalInfo: truncate(info, 512)}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// Device model conversions.

func toModelComponent(cp Component) devicemodel.Component {
	out := devicemodel.Component{Name: cp.Name, Instance: cp.Instance}
	if cp.EVSE != nil {
		out.EVSE = &devicemodel.EVSE{ID: cp.EVSE.ID, ConnectorID: cp.EVSE.ConnectorID}
	}
	return out
}

func toModelVariable(v Variable) devicemodel.Variable {
	return devicemodel.Variable{Name: v.Name, Instance: v.Instance}
}

// checkSize answers a request whose item count or encoded size exceeds
// the device model's limits (ItemsPerMessage, BytesPerMessage) with the
// CALLERROR the specification names; 0 means no limit.
func (c *Charger) checkSize(action string, items int, itemsRef, bytesRef devicemodel.Ref, msg any) error {
	if limit := c.intVar(itemsRef); limit > 0 && items > limit {
		return ocppclient.Errorf(OccurrenceConstraintViolation, "%s carries %d items, at most %d allowed (ItemsPerMessage%s)", action, items, limit, action)
	}
	if limit := c.intVar(bytesRef); limit > 0 {
		if b, err := json.Marshal(msg); err == nil && len(b) > limit {
			return ocppclient.Errorf(FormatViolation, "%s is %d bytes, at most %d allowed (BytesPerMessage%s)", action, len(b), limit, action)
		}
	}
	return nil
}

// getVariables reads each requested variable from the device model (B06).
func (c *Charger) getVariables(r *GetVariablesRequest) (any, error) {
	if err := c.checkSize(ActionGetVariables, len(r.GetVariableData), refItemsPerMessageGetVars, refBytesPerMessageGetVars, r); err != nil {
		return nil, err
	}
	out := &GetVariablesResponse{GetVariableResult: make([]GetVariableResult, 0, len(r.GetVariableData))}
	for _, d := range r.GetVariableData {
		attr := d.AttributeType
		value, st := c.vars.Get(toModelComponent(d.Component), toModelVariable(d.Variable), devicemodel.AttributeType(attr))
		res := GetVariableResult{AttributeStatus: GetVariableStatus(st), AttributeType: attr, Component: d.Component, Variable: d.Variable}
		if !res.AttributeStatus.IsValid() {
			res.AttributeStatus = GetVariableStatusRejected
		}
		if res.AttributeStatus == GetVariableStatusAccepted {
			res.AttributeValue = truncate(value, 2500)
		}
		out.GetVariableResult = append(out.GetVariableResult, res)
	}
	return out, nil
}

// setVariables writes each variable (B05): the model checks mutability
// and type, and says RebootRequired where a change takes effect only
// after a reboot; the adapter's validator adds its own rules.
func (c *Charger) setVariables(r *SetVariablesRequest) (any, error) {
	if err := c.checkSize(ActionSetVariables, len(r.SetVariableData), refItemsPerMessageSetVars, refBytesPerMessageSetVars, r); err != nil {
		return nil, err
	}
	out := &SetVariablesResponse{SetVariableResult: make([]SetVariableResult, 0, len(r.SetVariableData))}
	for _, d := range r.SetVariableData {
		st, reason := c.vars.Set(toModelComponent(d.Component), toModelVariable(d.Variable), devicemodel.AttributeType(d.AttributeType), d.AttributeValue)
		res := SetVariableResult{AttributeStatus: SetVariableStatus(st), AttributeType: d.AttributeType, Component: d.Component, Variable: d.Variable}
		if !res.AttributeStatus.IsValid() {
			res.AttributeStatus = SetVariableStatusRejected
		}
		if reason != "" {
			res.AttributeStatusInfo = statusInfo(string(res.AttributeStatus), reason)
		}
		c.log.Info("ocpp201 SetVariables", "component", d.Component.Name, "variable", d.Variable.Name, "status", res.AttributeStatus)
		out.SetVariableResult = append(out.SetVariableResult, res)
	}
	return out, nil
}

// toReportData converts the model's report data, which has the schema's
// JSON shape.
func toReportData(in any) ([]ReportData, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	var out []ReportData
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// getBaseReport answers at once and sends the report after the answer
// (B07).
func (c *Charger) getBaseReport(r *GetBaseReportRequest) any {
	data, err := c.vars.Report(string(r.ReportBase))
	if err != nil {
		c.log.Info("ocpp201 GetBaseReport not supported", "base", r.ReportBase, "err", err)
		return &GetBaseReportResponse{Status: GenericDeviceModelStatusNotSupported}
	}
	items, err := toReportData(data)
	if err != nil {
		c.log.Error("ocpp201 GetBaseReport", "err", err)
		return &GetBaseReportResponse{Status: GenericDeviceModelStatusRejected}
	}
	id := r.RequestID
	return ocppclient.WithFollowUp(&GetBaseReportResponse{Status: GenericDeviceModelStatusAccepted},
		func(ctx context.Context) { c.sendReport(ctx, id, items) })
}

// getReport answers a GetReport (B08): EmptyResultSet when nothing
// matches, else Accepted and the report after the answer.
func (c *Charger) getReport(r *GetReportRequest) (any, error) {
	if err := c.checkSize(ActionGetReport, len(r.ComponentVariable), refItemsPerMessageGetReport, refBytesPerMessageGetReport, r); err != nil {
		return nil, err
	}
	criteria := make([]string, len(r.ComponentCriteria))
	for i, cr := range r.ComponentCriteria {
		criteria[i] = string(cr)
	}
	cvs := make([]devicemodel.ComponentVariable, 0, len(r.ComponentVariable))
	for _, cv := range r.ComponentVariable {
		// The model's ComponentVariable has the schema's JSON shape.
		b, err := json.Marshal(cv)
		if err != nil {
			return nil, err
		}
		var m devicemodel.ComponentVariable
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("ocpp201 GetReport: %w", err)
		}
		cvs = append(cvs, m)
	}
	items, err := toReportData(c.vars.Query(criteria, cvs))
	if err != nil {
		c.log.Error("ocpp201 GetReport", "err", err)
		return &GetReportResponse{Status: GenericDeviceModelStatusRejected}, nil
	}
	if len(items) == 0 {
		return &GetReportResponse{Status: GenericDeviceModelStatusEmptyResultSet}, nil
	}
	id := r.RequestID
	return ocppclient.WithFollowUp(&GetReportResponse{Status: GenericDeviceModelStatusAccepted},
		func(ctx context.Context) { c.sendReport(ctx, id, items) }), nil
}

// sendReport sends items in NotifyReport parts of at most
// ItemsPerMessageGetReport items (all in one when 0): seqNo from 0, tbc on
// every part but the last. A report is current information, not queued.
func (c *Charger) sendReport(ctx context.Context, requestID int, items []ReportData) {
	per := c.intVar(refItemsPerMessageGetReport)
	if per <= 0 {
		per = len(items)
	}
	generated := NewDateTime(c.clk.Now())
	for seq := 0; len(items) > 0; seq++ {
		n := min(per, len(items))
		part := items[:n]
		items = items[n:]
		req := &NotifyReportRequest{RequestID: requestID, GeneratedAt: generated, SeqNo: seq, ReportData: part}
		if len(items) > 0 {
			t := true
			req.Tbc = &t
		}
		if err := c.sendNow(ctx, ActionNotifyReport, req, &NotifyReportResponse{}); err != nil {
			c.log.Warn("ocpp201 NotifyReport", "requestId", requestID, "seqNo", seq, "err", err)
			return
		}
	}
}

// sendNow sends a CALL on the registered connection or, while the
// registration is Pending, on the one being registered.
func (c *Charger) sendNow(ctx context.Context, action string, req interface{ Validate() error }, resp any) error {
	if err := req.Validate(); err != nil {
		return fmt.Errorf("%s breaks the schema: %w", action, err)
	}
	caller := c.transport()
	if caller == nil {
		c.mu.Lock()
		caller = c.bootCaller
		c.mu.Unlock()
	}
	if caller == nil {
		return ocppclient.ErrOffline
	}
	return call(ctx, caller, action, req, resp)
}

// reset answers a Reset (B11, B12). A reset of one EVSE is Rejected: the
// station resets as a whole. OnIdle while a transaction is open is
// Scheduled and runs once the last one has ended.
func (c *Charger) reset(ctx context.Context, st Station, r *ResetRequest) *ResetResponse {
	if r.EVSEID != nil && *r.EVSEID != 0 {
		return &ResetResponse{Status: ResetStatusRejected, StatusInfo: statusInfo("UnsupportedRequest", "EVSEs cannot be reset one by one")}
	}
	if r.Type == ResetKindOnIdle && c.anyTransaction() {
		c.mu.Lock()
		c.pendingReset = r
		c.mu.Unlock()
		c.log.Info("ocpp201 reset scheduled for when the transactions end")
		return &ResetResponse{Status: ResetStatusScheduled}
	}
	c.startReset(context.WithoutCancel(ctx), st, BootReasonRemoteReset)
	return &ResetResponse{Status: ResetStatusAccepted}
}

// startReset ends the sessions and hands over to OnReset, after the
// answer; the next BootNotification carries reason.
func (c *Charger) startReset(ctx context.Context, st Station, reason BootReason) {
	if err := c.store.setBootReason(reason); err != nil {
		c.log.Warn("ocpp201 store boot reason", "err", err)
	}
	c.background.Go(func() {
		c.log.Warn("ocpp201 reset requested by the CSMS", "reason", reason)
		if err := st.Reset(ctx, station.ReasonHardReset); err != nil {
			c.log.Error("ocpp201 reset: station", "err", err)
		}
		if c.opts.OnReset != nil {
			c.opts.OnReset()
		}
	})
}

// runScheduled runs a Reset OnIdle once no transaction is open.
func (c *Charger) runScheduled(int) {
	c.mu.Lock()
	pending := c.pendingReset
	c.mu.Unlock()
	if pending == nil || c.anyTransaction() {
		return
	}
	st, err := c.station()
	if err != nil {
		return
	}
	c.mu.Lock()
	c.pendingReset = nil
	c.mu.Unlock()
	c.startReset(context.Background(), st, BootReasonScheduledReset)
}

// maxNetworkSlot bounds the configuration slots SetNetworkProfile takes.
const maxNetworkSlot = 8

// setNetworkProfile stores a connection profile in a slot (B09). The
// binary uses it once NetworkConfigurationPriority lists the slot.
func (c *Charger) setNetworkProfile(r *SetNetworkProfileRequest) *SetNetworkProfileResponse {
	reject := func(code, why string) *SetNetworkProfileResponse {
		c.log.Info("ocpp201 SetNetworkProfile rejected", "slot", r.ConfigurationSlot, "why", why)
		return &SetNetworkProfileResponse{Status: SetNetworkProfileStatusRejected, StatusInfo: statusInfo(code, why)}
	}
	p := r.ConnectionData
	current := c.intVar(refSecurityProfile)
	switch {
	case r.ConfigurationSlot < 1 || r.ConfigurationSlot > maxNetworkSlot:
		return reject("InvalidSlot", fmt.Sprintf("configuration slots are 1 to %d", maxNetworkSlot))
	case p.OCPPTransport != OCPPTransportJSON:
		return reject("UnsupportedTransport", "only OCPP-J (JSON) is spoken")
	case p.OCPPVersion != OCPPVersionOCPP20 && p.OCPPVersion != OCPPVersionOCPP16:
		return reject("UnsupportedVersion", "OCPP 1.6 and 2.0.1 are spoken")
	case p.SecurityProfile < 0 || p.SecurityProfile > 3:
		return reject("InvalidProfile", "security profiles are 0 to 3")
	case p.SecurityProfile < current:
		return reject("InvalidProfile", fmt.Sprintf("security profile %d is below the current %d", p.SecurityProfile, current))
	case p.SecurityProfile == 0 && !strings.HasPrefix(p.OCPPCSMSURL, "ws://") && !strings.HasPrefix(p.OCPPCSMSURL, "wss://"):
		return reject("InvalidURL", "the CSMS URL must be ws:// or wss://")
	case p.SecurityProfile >= 2 && !strings.HasPrefix(p.OCPPCSMSURL, "wss://"):
		return reject("InvalidURL", "security profiles 2 and 3 need wss://")
	}
	if p.SecurityProfile >= 2 {
		ready := c.readiness()
		if ready == nil {
			return reject("NoCertificate", "no certificate store")
		}
		if err := ready.ProfileReady(p.SecurityProfile); err != nil {
			return reject("NoCertificate", err.Error())
		}
	}
	if err := c.store.putNetworkProfile(r.ConfigurationSlot, p); err != nil {
		c.log.Error("ocpp201 SetNetworkProfile", "err", err)
		return &SetNetworkProfileResponse{Status: SetNetworkProfileStatusFailed}
	}
	c.log.Info("ocpp201 network profile stored", "slot", r.ConfigurationSlot, "url", p.OCPPCSMSURL, "securityProfile", p.SecurityProfile)
	return &SetNetworkProfileResponse{Status: SetNetworkProfileStatusAccepted}
}

// transactionStatus answers GetTransactionStatus (E14).
func (c *Charger) transactionStatus(r *GetTransactionStatusRequest) *GetTransactionStatusResponse {
	entries, err := c.queue.Entries()
	if err != nil {
		c.log.Warn("ocpp201 GetTransactionStatus", "err", err)
	}
	queued := false
	for _, e := range entries {
		if e.Action == ActionTransactionEvent && (r.TransactionID == "" || e.Key == r.TransactionID) {
			queued = true
		}
	}
	out := &GetTransactionStatusResponse{MessagesInQueue: queued}
	if r.TransactionID != "" {
		_, _, ok := c.findTransaction(r.TransactionID)
		out.OngoingIndicator = &ok
	}
	return out
}

// requestStart answers RequestStartTransaction (F01, F02) from a snapshot
// and then asks the station to start; the session's first event carries
// triggerReason RemoteStart and the remoteStartId.
func (c *Charger) requestStart(ctx context.Context, st Station, r *RequestStartTransactionRequest) *RequestStartTransactionResponse {
	rejected := func(why string) *RequestStartTransactionResponse {
		c.log.Info("ocpp201 RequestStartTransaction rejected", "why", why)
		return &RequestStartTransactionResponse{Status: RequestStartStopStatusRejected, StatusInfo: statusInfo("Rejected", why)}
	}
	if r.EVSEID != nil && (*r.EVSEID < 1 || *r.EVSEID > c.opts.NumEVSEs) {
		return rejected("unknown EVSE")
	}
	snap, err := st.Status(ctx)
	if err != nil {
		return rejected("station status unavailable")
	}
	n := 0
	for _, cs := range snap.Connectors {
		if r.EVSEID != nil && cs.ID != *r.EVSEID {
			continue
		}
		if cs.Session == nil && (cs.Status == station.Available || cs.Status == station.Preparing || cs.Status == station.Reserved) {
			n = cs.ID
			break
		}
	}
	if n == 0 {
		return rejected("no EVSE free")
	}
	if r.ChargingProfile != nil {
		if err := c.acceptRemoteProfile(n, r.IDToken.IDToken, r.ChargingProfile); err != nil {
			return rejected("charging profile: " + err.Error())
		}
	}
	token := r.IDToken.IDToken
	c.txMu.Lock()
	e := c.evse(n)
	e.remote = &remoteStart{id: r.RemoteStartID, token: token}
	txID := ""
	if e.tx != nil {
		txID = e.tx.id
	}
	c.txMu.Unlock()
	opts := station.StartOptions{Remote: true, SkipAuthorization: !c.boolVar(refAuthorizeRemoteStart)}
	bg := context.WithoutCancel(ctx)
	c.background.Go(func() {
		if err := st.Start(bg, n, token, opts); err != nil {
			c.log.Info("ocpp201 remote start refused by the station", "evse", n, "err", err)
			c.txMu.Lock()
			if e.remote != nil && e.remote.id == r.RemoteStartID {
				e.remote = nil
			}
			c.txMu.Unlock()
		}
	})
	return &RequestStartTransactionResponse{Status: RequestStartStopStatusAccepted, TransactionID: txID}
}

// requestStop answers RequestStopTransaction (F03): the session of the
// transaction is stopped; a transaction without a session (begun at
// EVConnected) ends at once.
func (c *Charger) requestStop(ctx context.Context, st Station, r *RequestStopTransactionRequest) *RequestStopTransactionResponse {
	rejected := &RequestStopTransactionResponse{Status: RequestStartStopStatusRejected}
	n, session, ok := c.findTransaction(r.TransactionID)
	if !ok {
		return rejected
	}
	if session == "" {
		c.txMu.Lock()
		defer c.txMu.Unlock()
		e := c.evse(n)
		if e.tx == nil || e.tx.id != r.TransactionID {
			return rejected
		}
		if err := c.emit(n, e, event{kind: TransactionEventKindEnded, trigger: TriggerReasonRemoteStop, at: c.clk.Now(), reason: ReasonRemote}); err != nil {
			c.log.Error("ocpp201 RequestStopTransaction", "err", err)
			return rejected
		}
		return &RequestStopTransactionResponse{Status: RequestStartStopStatusAccepted}
	}
	if err := st.StopSession(ctx, session, station.ReasonRemote); err != nil {
		c.log.Info("ocpp201 RequestStopTransaction refused", "transactionId", r.TransactionID, "err", err)
		return rejected
	}
	return &RequestStopTransactionResponse{Status: RequestStartStopStatusAccepted}
}

// unlock answers UnlockConnector (F05).
func (c *Charger) unlock(ctx context.Context, st Station, r *UnlockConnectorRequest) *UnlockConnectorResponse {
	if r.EVSEID < 1 || r.EVSEID > c.opts.NumEVSEs || r.ConnectorID != 1 {
		return &UnlockConnectorResponse{Status: UnlockStatusUnknownConnector}
	}
	c.txMu.Lock()
	authorized := c.evse(r.EVSEID).authorized
	c.txMu.Unlock()
	if authorized {
		return &UnlockConnectorResponse{Status: UnlockStatusOngoingAuthorizedTransaction}
	}
	res, err := st.Unlock(ctx, r.EVSEID)
	switch {
	case errors.Is(err, station.ErrNoConnector):
		return &UnlockConnectorResponse{Status: UnlockStatusUnknownConnector}
	case err != nil:
		c.log.Warn("ocpp201 UnlockConnector", "evse", r.EVSEID, "err", err)
		return &UnlockConnectorResponse{Status: UnlockStatusUnlockFailed}
	case res == station.Unlocked:
		return &UnlockConnectorResponse{Status: UnlockStatusUnlocked}
	}
	return &UnlockConnectorResponse{Status: UnlockStatusUnlockFailed}
}

// changeAvailability answers ChangeAvailability (G03, G04) through the
// station, which schedules a change to Inoperative of an EVSE in use
// until its session ends.
func (c *Charger) changeAvailability(ctx context.Context, st Station, r *ChangeAvailabilityRequest) *ChangeAvailabilityResponse {
	n := 0
	if r.EVSE != nil {
		n = r.EVSE.ID
		if n < 0 || n > c.opts.NumEVSEs || (r.EVSE.ConnectorID != nil && (*r.EVSE.ConnectorID != 1 || n == 0)) {
			return &ChangeAvailabilityResponse{Status: ChangeAvailabilityStatusRejected, StatusInfo: statusInfo("UnknownEvse", "no such EVSE or connector")}
		}
	}
	res, err := st.SetAvailability(ctx, n, r.OperationalStatus == OperationalStatusOperative)
	if err != nil {
		c.log.Warn("ocpp201 ChangeAvailability", "evse", n, "err", err)
		return &ChangeAvailabilityResponse{Status: ChangeAvailabilityStatusRejected}
	}
	out := ChangeAvailabilityStatus(res)
	if !out.IsValid() {
		out = ChangeAvailabilityStatusRejected
	}
	return &ChangeAvailabilityResponse{Status: out}
}

// triggerMessage answers TriggerMessage (F06) and returns the follow-up
// that sends the message once the answer is out.
func (c *Charger) triggerMessage(r *TriggerMessageRequest) any {
	answer := func(s TriggerMessageStatus) *TriggerMessageResponse { return &TriggerMessageResponse{Status: s} }
	evses := []int{}
	if r.EVSE != nil {
		if r.EVSE.ID < 1 || r.EVSE.ID > c.opts.NumEVSEs || (r.EVSE.ConnectorID != nil && *r.EVSE.ConnectorID != 1) {
			return answer(TriggerMessageStatusRejected)
		}
		evses = append(evses, r.EVSE.ID)
	} else {
		for n := 1; n <= c.opts.NumEVSEs; n++ {
			evses = append(evses, n)
		}
	}
	var then func(ctx context.Context)
	switch r.RequestedMessage {
	case MessageTriggerBootNotification:
		c.mu.Lock()
		accepted, bootNow := c.accepted, c.bootNow
		c.mu.Unlock()
		if accepted || bootNow == nil {
			return answer(TriggerMessageStatusRejected)
		}
		then = func(context.Context) {
			select {
			case bootNow <- struct{}{}:
			default:
			}
		}
	case MessageTriggerHeartbeat:
		then = func(ctx context.Context) {
			if err := c.sendNow(ctx, ActionHeartbeat, &HeartbeatRequest{}, &HeartbeatResponse{}); err != nil {
				c.log.Warn("ocpp201 triggered Heartbeat", "err", err)
			}
			c.scheduleHeartbeat()
		}
	case MessageTriggerStatusNotification:
		then = func(ctx context.Context) {
			for _, n := range evses {
				p, ok := c.status.latest(n)
				if !ok {
					continue
				}
				if err := c.sendNow(ctx, ActionStatusNotification, statusRequest(p, c.clk.Now()), &StatusNotificationResponse{}); err != nil {
					c.log.Warn("ocpp201 triggered StatusNotification", "evse", n, "err", err)
					return
				}
				c.status.markSent(n, p.version)
			}
		}
	case MessageTriggerMeterValues:
		then = func(ctx context.Context) { c.triggeredMeterValues(ctx, evses) }
	case MessageTriggerTransactionEvent:
		any := false
		for _, n := range evses {
			any = any || c.openTransaction(n) != ""
		}
		if !any {
			return answer(TriggerMessageStatusRejected)
		}
		then = func(ctx context.Context) { c.triggeredTransactionEvents(ctx, evses) }
	case MessageTriggerFirmwareStatusNotification:
		then = func(ctx context.Context) {
			if err := c.sendNow(ctx, ActionFirmwareStatusNotification, c.triggeredFirmware(), &FirmwareStatusNotificationResponse{}); err != nil {
				c.log.Warn("ocpp201 triggered FirmwareStatusNotification", "err", err)
			}
		}
	case MessageTriggerLogStatusNotification:
		then = func(ctx context.Context) {
			if err := c.sendNow(ctx, ActionLogStatusNotification, c.triggeredLog(), &LogStatusNotificationResponse{}); err != nil {
				c.log.Warn("ocpp201 triggered LogStatusNotification", "err", err)
			}
		}
	case MessageTriggerSignChargingStationCertificate:
		if c.opts.Certificates == nil || c.csrCommonName() == "" {
			return answer(TriggerMessageStatusRejected)
		}
		then = func(ctx context.Context) { c.signCertificate(ctx, 0) }
	default:
		return answer(TriggerMessageStatusNotImplemented)
	}
	return ocppclient.WithFollowUp(answer(TriggerMessageStatusAccepted), then)
}

// triggeredMeterValues sends the latest reading of each EVSE
// (AlignedDataCtrlr.Measurands, context Trigger).
func (c *Charger) triggeredMeterValues(ctx context.Context, evses []int) {
	st, err := c.station()
	if err != nil {
		return
	}
	snap, err := st.Status(ctx)
	if err != nil {
		c.log.Warn("ocpp201 triggered MeterValues", "err", err)
		return
	}
	want := c.measurands(refAlignedMeasurands)
	if len(want) == 0 {
		want = []Measurand{MeasurandEnergyActiveImportRegister}
	}
	for _, cs := range snap.Connectors {
		if !containsInt(evses, cs.ID) {
			continue
		}
		values := meterValuesDC(cs.Meter, cs.DC, snap.At, ReadingContextTrigger, want)
		if len(values) == 0 {
			continue
		}
		if err := c.sendNow(ctx, ActionMeterValues, &MeterValuesRequest{EVSEID: cs.ID, MeterValue: values}, &MeterValuesResponse{}); err != nil {
			c.log.Warn("ocpp201 triggered MeterValues", "evse", cs.ID, "err", err)
			return
		}
	}
}

// triggeredTransactionEvents queues an Updated event with trigger Trigger
// for each open transaction among evses, with the latest reading.
func (c *Charger) triggeredTransactionEvents(ctx context.Context, evses []int) {
	var snap *stationSnapshot
	if st, err := c.station(); err == nil {
		if s, err := st.Status(ctx); err == nil {
			snap = &stationSnapshot{s}
		}
	}
	want := c.measurands(refTxUpdatedMeasurands)
	c.txMu.Lock()
	defer c.txMu.Unlock()
	for _, n := range evses {
		e := c.evse(n)
		if e == nil || e.tx == nil {
			continue
		}
		ev := event{kind: TransactionEventKindUpdated, trigger: TriggerReasonTrigger, at: c.clk.Now()}
		if snap != nil {
			if r, ok := snap.reading(n); ok {
				ev.values = meterValues(r, ev.at, ReadingContextTrigger, want)
			}
		}
		if err := c.emit(n, e, ev); err != nil {
			c.log.Warn("ocpp201 triggered TransactionEvent", "evse", n, "err", err)
		}
	}
}

func containsInt(list []int, n int) bool {
	for _, v := range list {
		if v == n {
			return true
		}
	}
	return false
}

// clearCache empties the authorization cache (C11); with the cache
// disabled the answer is Rejected (C11.FR.04).
func (c *Charger) clearCache() *ClearCacheResponse {
	if !c.boolVar(refAuthCacheEnabled) {
		return &ClearCacheResponse{Status: ClearCacheStatusRejected, StatusInfo: statusInfo("Disabled", "the authorization cache is disabled")}
	}
	if err := c.ClearCache(); err != nil {
		c.log.Warn("ocpp201 ClearCache", "err", err)
		return &ClearCacheResponse{Status: ClearCacheStatusRejected}
	}
	return &ClearCacheResponse{Status: ClearCacheStatusAccepted}
}
