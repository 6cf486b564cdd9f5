package ocpp16

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/certstore"
)

// Certificate management of the security whitepaper: the CSMS installs,
// lists and deletes root certificates, and rotates the charge point's
// client certificate (ExtendedTriggerMessage SignChargePointCertificate ->
// SignCertificate -> CertificateSigned). The store is version-neutral
// (certstore); this file maps 1.6's messages onto it.

// CertificateStore is the certificate store as the adapter uses it;
// *certstore.Store satisfies it.
type CertificateStore interface {
	SecurityReadiness
	Install(u certstore.Use, data []byte) (certstore.HashData, error)
	List(u certstore.Use, a certstore.HashAlgorithm) ([]certstore.Entry, error)
	Delete(h certstore.HashData, tlsInUse bool) (certstore.Use, error)
	CreateCSR(subj certstore.CSRSubject) ([]byte, error)
	InstallClientChain(chain []byte) error
}

var _ CertificateStore = (*certstore.Store)(nil)

// certificateUse maps a 1.6 CertificateUse to the store's.
func certificateUse(u CertificateUse) certstore.Use {
	switch u {
	case CertificateUseCentralSystemRootCertificate:
		return certstore.CSMSRoot
	case CertificateUseManufacturerRootCertificate:
		return certstore.ManufacturerRoot
	}
	return 0
}

// certificates returns the store, or the CALLERROR of a charger that has
// none: the whitepaper's messages are then not supported.
func (c *Charger) certificates(action string) (CertificateStore, error) {
	if c.opts.Certificates == nil {
		return nil, ocppclient.Errorf(ocppclient.NotSupported, "%s: this charger has no certificate store", action)
	}
	return c.opts.Certificates, nil
}

// installCertificate answers an InstallCertificate: Rejected for a
// certificate the store refuses (not a CA, expired, weak key, store
// full), Failed when it could not be stored.
func (c *Charger) installCertificate(store CertificateStore, r *InstallCertificateRequest) *InstallCertificateResponse {
	h, err := store.Install(certificateUse(r.CertificateType), []byte(r.Certificate))
	switch {
	case err == nil:
		c.log.Info("ocpp16 certificate installed", "type", r.CertificateType, "serial", h.SerialNumber)
		return &InstallCertificateResponse{Status: InstallCertificateStatusAccepted}
	case errors.Is(err, certstore.ErrInvalid), errors.Is(err, certstore.ErrExpired),
		errors.Is(err, certstore.ErrWeakKey), errors.Is(err, certstore.ErrFull):
		c.log.Warn("ocpp16 InstallCertificate rejected", "type", r.CertificateType, "err", err)
		return &InstallCertificateResponse{Status: InstallCertificateStatusRejected}
	default:
		c.log.Error("ocpp16 InstallCertificate failed", "type", r.CertificateType, "err", err)
		return &InstallCertificateResponse{Status: InstallCertificateStatusFailed}
	}
}

// installedCertificates answers a GetInstalledCertificateIds, with SHA-256
// hash data (the algorithm the CSMS then names in DeleteCertificate).
func (c *Charger) installedCertificates(store CertificateStore, r *GetInstalledCertificateIdsRequest) *GetInstalledCertificateIdsResponse {
	entries, err := store.List(certificateUse(r.CertificateType), certstore.SHA256)
	if err != nil {
		c.log.Warn("ocpp16 GetInstalledCertificateIds", "type", r.CertificateType, "err", err)
	}
	if len(entries) == 0 {
		return &GetInstalledCertificateIdsResponse{Status: GetInstalledCertificateStatusNotFound}
	}
	out := &GetInstalledCertificateIdsResponse{Status: GetInstalledCertificateStatusAccepted}
	for _, e := range entries {
		out.CertificateHashData = append(out.CertificateHashData, CertificateHashData{
			HashAlgorithm:  HashAlgorithm(e.HashData.Algorithm),
			IssuerNameHash: e.HashData.IssuerNameHash,
			IssuerKeyHash:  e.HashData.IssuerKeyHash,
			SerialNumber:   e.HashData.SerialNumber,
		})
	}
	return out
}

// deleteCertificate answers a DeleteCertificate: the CSMS root the
// connection's TLS relies on (profile 2 or 3) is kept, Failed.
func (c *Charger) deleteCertificate(store CertificateStore, r *DeleteCertificateRequest) *DeleteCertificateResponse {
	h := r.CertificateHashData
	_, err := store.Delete(certstore.HashData{
		Algorithm:      certstore.HashAlgorithm(h.HashAlgorithm),
		IssuerNameHash: h.IssuerNameHash,
		IssuerKeyHash:  h.IssuerKeyHash,
		SerialNumber:   h.SerialNumber,
	}, c.cfg.Int(KeySecurityProfile) >= 2)
	switch {
	case err == nil:
		c.log.Info("ocpp16 certificate deleted", "serial", h.SerialNumber)
		return &DeleteCertificateResponse{Status: DeleteCertificateStatusAccepted}
	case errors.Is(err, certstore.ErrNotFound):
		return &DeleteCertificateResponse{Status: DeleteCertificateStatusNotFound}
	default:
		c.log.Warn("ocpp16 DeleteCertificate failed", "serial", h.SerialNumber, "err", err)
		return &DeleteCertificateResponse{Status: DeleteCertificateStatusFailed}
	}
}

// certificateSigned answers a CertificateSigned: the chain is installed as
// the client certificate when it is for the key of our last CSR and
// chains to an installed CSMS root; the connection then moves to it (see
// Options.OnClientCertificate).
func (c *Charger) certificateSigned(store CertificateStore, r *CertificateSignedRequest) any {
	if n, max := utf8.RuneCountInString(r.CertificateChain), c.cfg.Int(KeyCertificateSignedMaxChainSize); n > max {
		c.log.Warn("ocpp16 CertificateSigned rejected: chain too long", "chars", n, "max", max)
		return &CertificateSignedResponse{Status: CertificateSignedStatusRejected}
	}
	if err := store.InstallClientChain([]byte(r.CertificateChain)); err != nil {
		c.log.Warn("ocpp16 CertificateSigned rejected", "err", err)
		return &CertificateSignedResponse{Status: CertificateSignedStatusRejected}
	}
	c.log.Info("ocpp16 client certificate installed")
	then := c.opts.OnClientCertificate
	if then == nil {
		return &CertificateSignedResponse{Status: CertificateSignedStatusAccepted}
	}
	// After the answer: the reconnect closes this connection.
	return ocppclient.WithFollowUp(&CertificateSignedResponse{Status: CertificateSignedStatusAccepted},
		func(context.Context) { then() })
}

// RenewClientCertificate starts the rotation of the client certificate
// as a triggered SignChargePointCertificate does: a new key, a CSR for it
// in a SignCertificate. The agent calls it when the certificate nears its
// expiry. Without a store, or offline, it does nothing.
func (c *Charger) RenewClientCertificate(ctx context.Context) {
	c.signCertificate(ctx)
}

// signCertificate creates a key pair and a CSR for it (CN = the charge
// point's serial number, O = CpoName) and sends it to the CSMS in a
// SignCertificate; the signed certificate comes back in a
// CertificateSigned.
func (c *Charger) signCertificate(ctx context.Context) {
	store, err := c.certificates(ActionSignCertificate)
	if err != nil {
		return
	}
	cn := c.csrCommonName()
	if cn == "" {
		c.log.Error("ocpp16 SignCertificate: no serial number configured for the certificate's common name")
		return
	}
	cpo, _ := c.cfg.Value(KeyCpoName)
	csr, err := store.CreateCSR(certstore.CSRSubject{CommonName: cn, Organization: cpo})
	if err != nil {
		c.log.Error("ocpp16 SignCertificate: certificate signing request", "err", err)
		return
	}
	var resp SignCertificateResponse
	c.sendTriggered(ctx, ActionSignCertificate, &SignCertificateRequest{CSR: string(csr)}, &resp)
	if resp.Status != "" {
		c.log.Info("ocpp16 SignCertificate answered", "status", resp.Status)
	}
}

// csrCommonName is the common name of the charge point's certificate: its
// serial number (chargePointSerialNumber, else chargeBoxSerialNumber).
func (c *Charger) csrCommonName() string {
	if s := c.opts.Identity.ChargePointSerialNumber; s != "" {
		return s
	}
	return c.opts.Identity.ChargeBoxSerialNumber
}

// extendedTrigger answers an ExtendedTriggerMessage: the messages it
// shares with TriggerMessage as TriggerMessage does, plus a new client
// certificate (SignChargePointCertificate) and the log and signed
// firmware notifications (Idle when no upload or update runs).
func (c *Charger) extendedTrigger(r *ExtendedTriggerMessageRequest) any {
	answer := func(s TriggerMessageStatus) *ExtendedTriggerMessageResponse {
		return &ExtendedTriggerMessageResponse{Status: s}
	}
	if r.ConnectorID != nil && (*r.ConnectorID < 0 || *r.ConnectorID > c.connectors()) {
		return answer(TriggerMessageStatusRejected)
	}
	var then func(ctx context.Context)
	switch r.RequestedMessage {
	case ExtendedMessageTriggerBootNotification, ExtendedMessageTriggerHeartbeat,
		ExtendedMessageTriggerMeterValues, ExtendedMessageTriggerStatusNotification:
		res := c.triggerMessage(&TriggerMessageRequest{RequestedMessage: MessageTrigger(r.RequestedMessage), ConnectorID: r.ConnectorID})
		return extendedAnswer(res)
	case ExtendedMessageTriggerSignChargePointCertificate:
		if _, err := c.certificates(ActionSignCertificate); err != nil || c.csrCommonName() == "" {
			return answer(TriggerMessageStatusRejected)
		}
		then = c.signCertificate
	case ExtendedMessageTriggerLogStatusNotification:
		then = func(ctx context.Context) {
			req := &LogStatusNotificationRequest{Status: UploadLogStatus(c.triggeredLogStatus().Log())}
			if req.Status != UploadLogStatusIdle {
				id := c.opts.Logs.Last().RequestID
				req.RequestID = &id
			}
			c.sendTriggered(ctx, ActionLogStatusNotification, req, &LogStatusNotificationResponse{})
		}
	case ExtendedMessageTriggerFirmwareStatusNotification:
		then = func(ctx context.Context) {
			req := &SignedFirmwareStatusNotificationRequest{Status: SignedFirmwareStatus(c.triggeredFirmwareStatus())}
			if req.Status != SignedFirmwareStatusIdle {
				id := c.opts.Firmware.Last().RequestID
				req.RequestID = &id
			}
			c.sendTriggered(ctx, ActionSignedFirmwareStatusNotification, req, &SignedFirmwareStatusNotificationResponse{})
		}
	default:
		return answer(TriggerMessageStatusNotImplemented)
	}
	c.log.Info("ocpp16 ExtendedTriggerMessage accepted", "message", r.RequestedMessage, "connector", r.ConnectorID)
	return ocppclient.WithFollowUp(answer(TriggerMessageStatusAccepted), then)
}

// extendedAnswer turns triggerMessage's answer (a *TriggerMessageResponse,
// alone or with a follow-up) into an ExtendedTriggerMessage's, keeping the
// follow-up.
func extendedAnswer(res any) any {
	if f, ok := res.(ocppclient.FollowUp); ok {
		return ocppclient.WithFollowUp(extendedAnswer(f.Response), f.Then)
	}
	if t, ok := res.(*TriggerMessageResponse); ok {
		return &ExtendedTriggerMessageResponse{Status: t.Status}
	}
	return &ExtendedTriggerMessageResponse{Status: TriggerMessageStatusRejected}
}
