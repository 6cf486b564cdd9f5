package ocpp16

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/secevents"
	"github.com/evsed/evsed/station"
)

// HandleCall implements ocppclient.Handler: it decodes and validates the
// CSMS's CALL with DecodeRequest (whose CallError is the answer to a bad
// payload, an unsupported or an unknown action) and turns it into station
// commands. Requests that the specification answers before acting
// (RemoteStartTransaction, Reset) are carried out on their own goroutine
// after the answer is decided. A DataTransfer of California Pricing's
// vendor goes to costMessage; other vendors are UnknownVendorId.
func (c *Charger) HandleCall(ctx context.Context, action string, payload json.RawMessage) (any, error) {
	req, err := DecodeRequest(action, payload)
	if err != nil {
		if action == ActionTriggerMessage && unknownTrigger(payload) {
			// 5.17: a requested message the charge point does not know
			// is answered NotImplemented, not with a CALLERROR.
			return &TriggerMessageResponse{Status: TriggerMessageStatusNotImplemented}, nil
		}
		return nil, err
	}
	if r, ok := req.(*DataTransferRequest); ok && r.VendorID == CostMsgVendorID {
		return c.costMessage(ctx, r), nil
	}
	if r, ok := req.(*DataTransferRequest); ok {
		// No other vendor extensions: the answer needs no station.
		c.log.Info("ocpp16 DataTransfer from CSMS", "vendorId", r.VendorID, "messageId", r.MessageID)
		return &DataTransferResponse{Status: DataTransferStatusUnknownVendorId}, nil
	}
	switch r := req.(type) {
	case *ChangeConfigurationRequest:
		if err := c.profileReady(r.Key, r.Value); err != nil {
			c.log.Warn("ocpp16 ChangeConfiguration rejected", "key", r.Key, "err", err)
			return &ChangeConfigurationResponse{Status: ConfigurationStatusRejected}, nil
		}
		// Set persists and runs the change hook, which applies the value.
		st := c.cfg.Set(r.Key, r.Value)
		c.log.Info("ocpp16 ChangeConfiguration", "key", r.Key, "status", st)
		return &ChangeConfigurationResponse{Status: st}, nil
	case *GetConfigurationRequest:
		known, unknown := c.cfg.Get(r.Key)
		return &GetConfigurationResponse{ConfigurationKey: known, UnknownKey: unknown}, nil
	case *ClearCacheRequest:
		if err := c.ClearCache(); err != nil {
			c.log.Warn("ocpp16 ClearCache", "err", err)
			return &ClearCacheResponse{Status: ClearCacheStatusRejected}, nil
		}
		return &ClearCacheResponse{Status: ClearCacheStatusAccepted}, nil
	case *TriggerMessageRequest:
		return c.triggerMessage(r), nil
	case *ExtendedTriggerMessageRequest:
		return c.extendedTrigger(r), nil
	case *UpdateFirmwareRequest:
		if c.opts.Firmware == nil {
			return nil, needs(action, "firmware updater")
		}
		return c.updateFirmware(c.opts.Firmware, r), nil
	case *SignedUpdateFirmwareRequest:
		if c.opts.Firmware == nil {
			return nil, needs(action, "firmware updater")
		}
		return c.signedUpdateFirmware(c.opts.Firmware, r), nil
	case *GetDiagnosticsRequest:
		if c.opts.Logs == nil {
			return nil, needs(action, "log uploader")
		}
		return c.getDiagnostics(c.opts.Logs, r), nil
	case *GetLogRequest:
		if c.opts.Logs == nil {
			return nil, needs(action, "log uploader")
		}
		return c.getLog(c.opts.Logs, r), nil
	case *InstallCertificateRequest, *GetInstalledCertificateIdsRequest, *DeleteCertificateRequest, *CertificateSignedRequest:
		store, err := c.certificates(action)
		if err != nil {
			return nil, err
		}
		switch r := req.(type) {
		case *InstallCertificateRequest:
			return c.installCertificate(store, r), nil
		case *GetInstalledCertificateIdsRequest:
			return c.installedCertificates(store, r), nil
		case *DeleteCertificateRequest:
			return c.deleteCertificate(store, r), nil
		case *CertificateSignedRequest:
			return c.certificateSigned(store, r), nil
		}
	case *SendLocalListRequest:
		return c.sendLocalList(r), nil
	case *GetLocalListVersionRequest:
		return c.localListVersion(), nil
	}

	st, err := c.station()
	if err != nil {
		return nil, ocppclient.Errorf(ocppclient.InternalError, "station not ready")
	}
	switch r := req.(type) {
	case *ChangeAvailabilityRequest:
		return c.changeAvailability(ctx, st, r), nil
	case *RemoteStartTransactionRequest:
		return c.remoteStart(ctx, st, r), nil
	case *RemoteStopTransactionRequest:
		return c.remoteStop(ctx, st, r), nil
	case *ResetRequest:
		c.reset(ctx, st, r.Type)
		return &ResetResponse{Status: ResetStatusAccepted}, nil
	case *UnlockConnectorRequest:
		return c.unlock(ctx, st, r.ConnectorID), nil
	case *SetChargingProfileRequest:
		return c.setChargingProfile(ctx, st, r), nil
	case *ClearChargingProfileRequest:
		return c.clearChargingProfile(ctx, r), nil
	case *GetCompositeScheduleRequest:
		return c.getCompositeSchedule(ctx, st, r), nil
	case *ReserveNowRequest:
		return c.reserveNow(ctx, st, r), nil
	case *CancelReservationRequest:
		return c.cancelReservation(ctx, st, r), nil
	}
	// DecodeRequest knows an action this switch does not: a newer decoder.
	return nil, ocppclient.Errorf(ocppclient.NotSupported, "action %s is not supported", action)
}

func (c *Charger) changeAvailability(ctx context.Context, st Station, r *ChangeAvailabilityRequest) *ChangeAvailabilityResponse {
	if r.ConnectorID > c.connectors() {
		return &ChangeAvailabilityResponse{Status: AvailabilityStatusRejected}
	}
	res, err := st.SetAvailability(ctx, r.ConnectorID, r.Type == AvailabilityTypeOperative)
	if err != nil {
		c.log.Warn("ocpp16 ChangeAvailability", "connector", r.ConnectorID, "err", err)
		return &ChangeAvailabilityResponse{Status: AvailabilityStatusRejected}
	}
	out := AvailabilityStatus(res)
	if !out.IsValid() {
		out = AvailabilityStatusRejected
	}
	return &ChangeAvailabilityResponse{Status: out}
}

// startable reports whether a connector in status s can take a remote
// start: idle (Available), plugged in and waiting for a token (Preparing),
// or Reserved (the station then starts only for the reservation's token).
func startable(s station.Status) bool {
	return s == station.Available || s == station.Preparing || s == station.Reserved
}

// remoteStart answers from a status snapshot and then asks the station to
// start, since 1.6 answers RemoteStartTransaction before the transaction
// exists. A charging profile in the request must be a TxProfile within the
// Smart Charging limits (else Rejected); it is installed for the session
// the start begins (see sessionStartedLimits).
func (c *Charger) remoteStart(ctx context.Context, st Station, r *RemoteStartTransactionRequest) *RemoteStartTransactionResponse {
	rejected := &RemoteStartTransactionResponse{Status: RemoteStartStopStatusRejected}
	snap, err := st.Status(ctx)
	if err != nil {
		c.log.Warn("ocpp16 RemoteStartTransaction: station status", "err", err)
		return rejected
	}
	// A connector reserved for another tag cannot take the start. Without
	// AuthorizeRemoteTxRequests the tag's group is unknown, so only the
	// reservation's own tag matches; with it, the station decides once the
	// tag is authorized.
	var reservations []station.Reservation
	if snapHasReservation(snap) {
		if reservations, err = st.Reservations(ctx); err != nil {
			c.log.Warn("ocpp16 RemoteStartTransaction: reservations", "err", err)
			return rejected
		}
	}
	authorize := c.cfg.Bool(KeyAuthorizeRemoteTxRequests)
	connector := 0
	for _, cs := range snap.Connectors {
		if r.ConnectorID != nil && cs.ID != *r.ConnectorID {
			continue
		}
		if !authorize && !reservationAdmits(reservations, cs, r.IDTag) {
			continue
		}
		if startable(cs.Status) && cs.Session == nil {
			connector = cs.ID
			break
		}
	}
	if connector == 0 {
		c.log.Info("ocpp16 RemoteStartTransaction rejected: no free connector", "connector", r.ConnectorID)
		return rejected
	}
	if r.ChargingProfile != nil {
		if err := c.acceptRemoteProfile(connector, r.IDTag, r.ChargingProfile); err != nil {
			c.log.Info("ocpp16 RemoteStartTransaction rejected: charging profile", "err", err)
			return rejected
		}
	}
	opts := station.StartOptions{Remote: true, SkipAuthorization: !c.cfg.Bool(KeyAuthorizeRemoteTxRequests)}
	idTag := r.IDTag
	bg := context.WithoutCancel(ctx) // the start outlives the CALL
	c.background.Go(func() {
		if err := st.Start(bg, connector, idTag, opts); err != nil {
			c.log.Info("ocpp16 remote start refused by the station", "connector", connector, "err", err)
		}
	})
	return &RemoteStartTransactionResponse{Status: RemoteStartStopStatusAccepted}
}

func (c *Charger) remoteStop(ctx context.Context, st Station, r *RemoteStopTransactionRequest) *RemoteStopTransactionResponse {
	rejected := &RemoteStopTransactionResponse{Status: RemoteStartStopStatusRejected}
	session, ok, err := c.tx.Session(r.TransactionID)
	if err != nil {
		c.log.Warn("ocpp16 RemoteStopTransaction", "transactionId", r.TransactionID, "err", err)
		return rejected
	}
	if !ok {
		return rejected
	}
	if err := st.StopSession(ctx, session, station.ReasonRemote); err != nil {
		c.log.Info("ocpp16 RemoteStopTransaction refused", "transactionId", r.TransactionID, "err", err)
		return rejected
	}
	return &RemoteStopTransactionResponse{Status: RemoteStartStopStatusAccepted}
}

// reset ends the sessions with the reset's reason (their StopTransactions
// are durable when Station.Reset returns) and then hands over to OnReset,
// which restarts the process. It runs after the answer, as the
// specification wants the Reset.conf sent first.
func (c *Charger) reset(ctx context.Context, st Station, t ResetType) {
	hard := t == ResetTypeHard
	reason := station.ReasonSoftReset
	if hard {
		reason = station.ReasonHardReset
	}
	bg := context.WithoutCancel(ctx)
	c.background.Go(func() {
		c.log.Warn("ocpp16 reset requested by the CSMS", "type", t)
		c.SecurityEvent(secevents.ResetOrReboot, string(t)+" reset requested by the CSMS")
		if err := st.Reset(bg, reason); err != nil {
			// Restart anyway: sessions the station could not end resume
			// or end as PowerLoss after the restart.
			c.log.Error("ocpp16 reset: station", "err", err)
		}
		if c.opts.OnReset != nil {
			c.opts.OnReset(hard)
		}
	})
}

func (c *Charger) unlock(ctx context.Context, st Station, connector int) *UnlockConnectorResponse {
	if connector > c.connectors() {
		return &UnlockConnectorResponse{Status: UnlockStatusNotSupported}
	}
	res, err := st.Unlock(ctx, connector)
	switch {
	case errors.Is(err, station.ErrNoConnector):
		return &UnlockConnectorResponse{Status: UnlockStatusNotSupported}
	case err != nil:
		c.log.Warn("ocpp16 UnlockConnector", "connector", connector, "err", err)
		return &UnlockConnectorResponse{Status: UnlockStatusUnlockFailed}
	}
	out := UnlockStatus(res)
	if !out.IsValid() {
		out = UnlockStatusUnlockFailed
	}
	return &UnlockConnectorResponse{Status: out}
}

// snapHasReservation reports whether a reservation holds any connector.
func snapHasReservation(snap station.Snapshot) bool {
	for _, cs := range snap.Connectors {
		if cs.ReservationID != 0 || cs.Status == station.Reserved {
			return true
		}
	}
	return false
}

// reservationAdmits reports whether idTag, by itself (its group unknown),
// may start on cs under the reservations: the connector's own reservation
// must be for it, and a connector Reserved for the connector-0
// reservations needs one of them to be.
func reservationAdmits(rs []station.Reservation, cs station.ConnectorSnapshot, idTag string) bool {
	match := func(r station.Reservation) bool { return r.IDTag == idTag || r.ParentIDTag == idTag }
	if r, held := reservedFor(rs, cs.ID); held {
		return match(r)
	}
	if cs.Status != station.Reserved {
		return true
	}
	for _, r := range rs {
		if r.Connector == 0 && match(r) {
			return true
		}
	}
	return false
}

// unknownTrigger reports whether a TriggerMessage payload that failed to
// decode is well formed but for a requestedMessage outside the 1.6
// enumeration (say a message of ExtendedTriggerMessage): the same payload
// with a known message decodes.
func unknownTrigger(payload json.RawMessage) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(payload, &obj) != nil {
		return false
	}
	var name string
	if json.Unmarshal(obj["requestedMessage"], &name) != nil || MessageTrigger(name).IsValid() {
		return false
	}
	obj["requestedMessage"] = json.RawMessage(`"Heartbeat"`)
	fixed, err := json.Marshal(obj)
	if err != nil {
		return false
	}
	_, err = DecodeRequest(ActionTriggerMessage, fixed)
	return err == nil
}

// profileReady checks a change of SecurityProfile to 1 against
// Options.AllowProfile1 and one to 2 or 3 against the certificates
// installed (Options.Security); other changes pass, and the Config's own
// rules (the profile only rises, 1 and 2 need an AuthorizationKey) apply
// in Set.
func (c *Charger) profileReady(key, value string) error {
	if !strings.EqualFold(key, KeySecurityProfile) {
		return nil
	}
	n, err := strconv.Atoi(value)
	if err == nil && n == 1 && !c.allowProfile1 && c.cfg.Int(KeySecurityProfile) != 1 {
		return errors.New("security profile 1 sends the password over plain ws; the configuration does not allow it (csms.allow_basic_auth_over_ws)")
	}
	if err != nil || n < 2 {
		return nil // Set judges it
	}
	ready := c.opts.Security
	if ready == nil && c.opts.Certificates != nil {
		ready = c.opts.Certificates
	}
	if ready == nil {
		return fmt.Errorf("security profile %d needs certificates, and this charger has no certificate store", n)
	}
	return ready.ProfileReady(n)
}
