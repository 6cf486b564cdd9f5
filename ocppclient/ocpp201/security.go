package ocpp201

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/certstore"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/ocppclient/secevents"
)

// Security (functional block A) and the certificate messages of block M
// that concern the station's own roots: the store is version-neutral
// (certstore); this file maps 2.0.1's messages onto it. Security events go
// to the security log and, the critical ones, to the CSMS as
// SecurityEventNotification through the durable queue, so that one raised
// offline arrives once the connection is back.

var (
	refCertificateEntries = devicemodel.CertificateEntries
	refCertSigningRepeat  = devicemodel.CertSigningRepeatTimes
	refCertSigningWait    = devicemodel.CertSigningWaitMinimum
	refMaxChainSize       = devicemodel.MaxCertificateChainSize
	refOrganizationName   = devicemodel.OrganizationName
)

// CertificateStore is the certificate store as the adapter uses it;
// *certstore.Store satisfies it (the same methods as the 1.6 adapter's
// CertificateStore, so that one store serves either).
type CertificateStore interface {
	SecurityReadiness
	Install(u certstore.Use, data []byte) (certstore.HashData, error)
	List(u certstore.Use, a certstore.HashAlgorithm) ([]certstore.Entry, error)
	Delete(h certstore.HashData, tlsInUse bool) (certstore.Use, error)
	CreateCSR(subj certstore.CSRSubject) ([]byte, error)
	InstallClientChain(chain []byte) error
}

// SecurityLog keeps security events locally; *secevents.Log satisfies it.
type SecurityLog interface {
	Append(e secevents.Event) (secevents.Event, error)
}

var (
	_ CertificateStore = (*certstore.Store)(nil)
	_ SecurityLog      = (*secevents.Log)(nil)
)

// certificates returns the store, or the CALLERROR of a station that has
// none: the certificate messages are then not supported.
func (c *Charger) certificates(action string) (CertificateStore, error) {
	if c.opts.Certificates == nil {
		return nil, ocppclient.Errorf(ocppclient.NotSupported, "%s: this charging station has no certificate store", action)
	}
	return c.opts.Certificates, nil
}

// readiness is what SetNetworkProfile asks: Options.Security, else the
// certificate store.
func (c *Charger) readiness() SecurityReadiness {
	if c.opts.Security != nil {
		return c.opts.Security
	}
	if c.opts.Certificates != nil {
		return c.opts.Certificates
	}
	return nil
}

// installUse maps an InstallCertificateUse; 0 for the ISO 15118 roots.
func installUse(u InstallCertificateUse) certstore.Use {
	switch u {
	case InstallCertificateUseCSMSRootCertificate:
		return certstore.CSMSRoot
	case InstallCertificateUseManufacturerRootCertificate:
		return certstore.ManufacturerRoot
	}
	return 0
}

// getUse maps a GetCertificateIdUse; 0 for the ISO 15118 ones.
func getUse(u GetCertificateIDUse) certstore.Use {
	switch u {
	case GetCertificateIDUseCSMSRootCertificate:
		return certstore.CSMSRoot
	case GetCertificateIDUseManufacturerRootCertificate:
		return certstore.ManufacturerRoot
	}
	return 0
}

// installCertificate answers an InstallCertificate (M05): Rejected for a
// certificate the store refuses (not a CA, expired, weak key, store full)
// and for the ISO 15118 roots, Failed when it could not be stored.
func (c *Charger) installCertificate(store CertificateStore, r *InstallCertificateRequest) *InstallCertificateResponse {
	use := installUse(r.CertificateType)
	if use == 0 {
		return &InstallCertificateResponse{Status: InstallCertificateStatusRejected, StatusInfo: statusInfo("NotSupported", "no ISO 15118 certificates")}
	}
	h, err := store.Install(use, []byte(r.Certificate))
	switch {
	case err == nil:
		c.log.Info("ocpp201 certificate installed", "type", r.CertificateType, "serial", h.SerialNumber)
		return &InstallCertificateResponse{Status: InstallCertificateStatusAccepted}
	case errors.Is(err, certstore.ErrInvalid), errors.Is(err, certstore.ErrExpired),
		errors.Is(err, certstore.ErrWeakKey), errors.Is(err, certstore.ErrFull):
		c.log.Warn("ocpp201 InstallCertificate rejected", "type", r.CertificateType, "err", err)
		return &InstallCertificateResponse{Status: InstallCertificateStatusRejected, StatusInfo: statusInfo("InvalidCertificate", err.Error())}
	default:
		c.log.Error("ocpp201 InstallCertificate failed", "type", r.CertificateType, "err", err)
		return &InstallCertificateResponse{Status: InstallCertificateStatusFailed}
	}
}

// installedCertificates answers a GetInstalledCertificateIds (M03) with
// SHA-256 hash data, for the types asked (all when none).
func (c *Charger) installedCertificates(store CertificateStore, r *GetInstalledCertificateIdsRequest) *GetInstalledCertificateIdsResponse {
	types := r.CertificateType
	if len(types) == 0 {
		types = []GetCertificateIDUse{GetCertificateIDUseCSMSRootCertificate, GetCertificateIDUseManufacturerRootCertificate}
	}
	out := &GetInstalledCertificateIdsResponse{Status: GetInstalledCertificateStatusNotFound}
	for _, t := range types {
		use := getUse(t)
		if use == 0 {
			continue
		}
		entries, err := store.List(use, certstore.SHA256)
		if err != nil {
			c.log.Warn("ocpp201 GetInstalledCertificateIds", "type", t, "err", err)
		}
		for _, e := range entries {
			out.CertificateHashDataChain = append(out.CertificateHashDataChain, CertificateHashDataChain{
				CertificateType:     t,
				CertificateHashData: hashData(e.HashData),
			})
		}
	}
	if len(out.CertificateHashDataChain) > 0 {
		out.Status = GetInstalledCertificateStatusAccepted
	}
	return out
}

func hashData(h certstore.HashData) CertificateHashData {
	return CertificateHashData{HashAlgorithm: HashAlgorithm(h.Algorithm), IssuerNameHash: h.IssuerNameHash,
		IssuerKeyHash: h.IssuerKeyHash, SerialNumber: h.SerialNumber}
}

// deleteCertificate answers a DeleteCertificate (M04): the CSMS root the
// connection's TLS relies on (profile 2 or 3) is kept, Failed.
func (c *Charger) deleteCertificate(store CertificateStore, r *DeleteCertificateRequest) *DeleteCertificateResponse {
	h := r.CertificateHashData
	_, err := store.Delete(certstore.HashData{Algorithm: certstore.HashAlgorithm(h.HashAlgorithm),
		IssuerNameHash: h.IssuerNameHash, IssuerKeyHash: h.IssuerKeyHash, SerialNumber: h.SerialNumber},
		c.intVar(refSecurityProfile) >= 2)
	switch {
	case err == nil:
		c.log.Info("ocpp201 certificate deleted", "serial", h.SerialNumber)
		return &DeleteCertificateResponse{Status: DeleteCertificateStatusAccepted}
	case errors.Is(err, certstore.ErrNotFound):
		return &DeleteCertificateResponse{Status: DeleteCertificateStatusNotFound}
	default:
		c.log.Warn("ocpp201 DeleteCertificate failed", "serial", h.SerialNumber, "err", err)
		return &DeleteCertificateResponse{Status: DeleteCertificateStatusFailed, StatusInfo: statusInfo("Failed", err.Error())}
	}
}

// certificateEntries is the Actual value of SecurityCtrlr.CertificateEntries:
// the root certificates installed.
func (c *Charger) certificateEntries() string {
	if c.opts.Certificates == nil {
		return "0"
	}
	n := 0
	for _, u := range []certstore.Use{certstore.CSMSRoot, certstore.ManufacturerRoot} {
		if es, err := c.opts.Certificates.List(u, certstore.SHA256); err == nil {
			n += len(es)
		}
	}
	return strconv.Itoa(n)
}

// certificateSigned answers a CertificateSigned (A02, A03): the chain is
// installed as the charging station certificate when it is for the key
// of our last CSR and chains to an installed CSMS root; the connection
// then moves to it (Options.OnClientCertificate, after the answer).
func (c *Charger) certificateSigned(store CertificateStore, r *CertificateSignedRequest) any {
	rejected := func(code, why string) *CertificateSignedResponse {
		c.log.Warn("ocpp201 CertificateSigned rejected", "why", why)
		return &CertificateSignedResponse{Status: CertificateSignedStatusRejected, StatusInfo: statusInfo(code, why)}
	}
	if r.CertificateType == CertificateSigningUseV2GCertificate {
		return rejected("NotSupported", "no ISO 15118 certificates")
	}
	if n, limit := utf8.RuneCountInString(r.CertificateChain), c.intVar(refMaxChainSize); limit > 0 && n > limit {
		return rejected("ChainTooLong", fmt.Sprintf("chain of %d characters, at most %d", n, limit))
	}
	if err := store.InstallClientChain([]byte(r.CertificateChain)); err != nil {
		return rejected("InvalidCertificate", err.Error())
	}
	c.mu.Lock()
	c.csrPending = false
	if c.csrTimer != nil {
		c.csrTimer.Stop()
		c.csrTimer = nil
	}
	c.mu.Unlock()
	c.log.Info("ocpp201 charging station certificate installed")
	then := c.opts.OnClientCertificate
	if then == nil {
		return &CertificateSignedResponse{Status: CertificateSignedStatusAccepted}
	}
	return ocppclient.WithFollowUp(&CertificateSignedResponse{Status: CertificateSignedStatusAccepted},
		func(context.Context) { then() })
}

// RenewClientCertificate starts the renewal of the charging station
// certificate (A02) as a triggered SignChargingStationCertificate does: a
// new key, a CSR for it in a SignCertificate, sent again after
// CertSigningWaitMinimum (doubling) up to CertSigningRepeatTimes while no
// CertificateSigned comes. The agent calls it when the certificate nears
// its expiry. Without a store, or offline, it does nothing.
func (c *Charger) RenewClientCertificate(ctx context.Context) {
	c.signCertificate(ctx, 0)
}

// csrCommonName is the common name of the station's certificate: its
// serial number, else SecurityCtrlr.Identity.
func (c *Charger) csrCommonName() string {
	if s := c.opts.Identity.SerialNumber; s != "" {
		return s
	}
	return c.vars.String(devicemodel.Identity)
}

// signCertificate sends a SignCertificate with a new CSR (CN the serial
// number, O OrganizationName); attempt counts the repeats.
func (c *Charger) signCertificate(ctx context.Context, attempt int) {
	store, err := c.certificates(ActionSignCertificate)
	if err != nil {
		return
	}
	cn := c.csrCommonName()
	if cn == "" {
		c.log.Error("ocpp201 SignCertificate: no serial number for the certificate's common name")
		return
	}
	csr, err := store.CreateCSR(certstore.CSRSubject{CommonName: cn, Organization: c.vars.String(refOrganizationName)})
	if err != nil {
		c.log.Error("ocpp201 SignCertificate: certificate signing request", "err", err)
		return
	}
	var resp SignCertificateResponse
	req := &SignCertificateRequest{Csr: string(csr), CertificateType: CertificateSigningUseChargingStationCertificate}
	if err := c.sendNow(ctx, ActionSignCertificate, req, &resp); err != nil {
		c.log.Warn("ocpp201 SignCertificate", "err", err)
		return
	}
	c.log.Info("ocpp201 SignCertificate answered", "status", resp.Status)
	if resp.Status != GenericStatusAccepted || attempt >= c.intVar(refCertSigningRepeat) {
		return
	}
	wait := c.seconds(refCertSigningWait) << attempt
	if wait <= 0 {
		wait = time.Minute
	}
	c.mu.Lock()
	c.csrPending = true
	if c.csrTimer != nil {
		c.csrTimer.Stop()
	}
	c.csrTimer = c.clk.AfterFunc(wait, func() {
		c.mu.Lock()
		pending := c.csrPending
		c.csrTimer = nil
		c.mu.Unlock()
		if pending {
			c.signCertificate(c.runContext(), attempt+1)
		}
	})
	c.mu.Unlock()
}

// SetSecurityProfile records the security profile the connection now
// uses (SecurityCtrlr.SecurityProfile, ReadOnly for the CSMS): the agent
// calls it after it moved to a network profile of another security
// profile. It raises the security event
// ReconfigurationOfSecurityParameters when the value changes.
func (c *Charger) SetSecurityProfile(n int) error {
	if c.intVar(refSecurityProfile) == n {
		return nil
	}
	if err := c.vars.Update(refSecurityProfile, strconv.Itoa(n)); err != nil {
		return fmt.Errorf("ocpp201: %w", err)
	}
	c.SecurityEvent(secevents.ReconfigurationOfSecurityParameters, fmt.Sprintf("security profile %d", n))
	return nil
}

// SecurityEvent records a security event of type t with techInfo (free
// text for the operator; no secrets): in Options.SecurityLog when there is
// one and, for a critical event, queued for the CSMS as a
// SecurityEventNotification. It is safe for concurrent use and never
// blocks on the network.
func (c *Charger) SecurityEvent(t secevents.Type, techInfo string) {
	e := secevents.Event{Type: t, Time: c.clk.Now(), TechInfo: techInfo}
	if l := c.opts.SecurityLog; l != nil {
		var err error
		if e, err = l.Append(e); err != nil {
			c.log.Error("ocpp201 security log", "event", t, "err", err)
		}
	}
	c.log.Warn("ocpp201 security event", "event", t, "tech_info", e.TechInfo, "critical", e.Critical())
	if !e.Critical() {
		return
	}
	c.queueNotification(ActionSecurityEventNotification, &SecurityEventNotificationRequest{
		Type: truncate(e.Type.OCPP201(), 50), Timestamp: NewDateTime(e.Time), TechInfo: truncate(e.TechInfo, 255)})
}

// queueNotification puts a notification in the durable queue (KindOther:
// in order with everything else, also across reconnects and restarts),
// after checking it against its schema's rules.
func (c *Charger) queueNotification(action string, req interface{ Validate() error }) {
	err := req.Validate()
	var payload []byte
	if err == nil {
		payload, err = json.Marshal(req)
	}
	if err == nil {
		_, err = c.queue.Enqueue(ocppclient.Entry{Kind: ocppclient.KindOther, Action: action, Payload: payload})
	}
	if err != nil {
		c.log.Error("ocpp201 notification not queued", "action", action, "err", err)
	}
}
