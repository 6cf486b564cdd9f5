package ocpp201

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/firmware"
	"github.com/evsed/evsed/ocppclient/logupload"
	"github.com/evsed/evsed/ocppclient/secevents"
)

// Firmware management (functional block L) and log upload (N01) on the
// version-neutral machinery of packages firmware and logupload. Their
// status notifications go through the durable queue, in order with
// everything else: a CSMS following an update sees every step, also
// those reached while offline.

// FirmwareUpdater is the firmware updater as the adapter uses it;
// *firmware.Updater satisfies it.
type FirmwareUpdater interface {
	Start(ctx context.Context, req firmware.Request) (canceled bool, err error)
	Last() firmware.Notice
}

// LogUploader is the log uploader as the adapter uses it;
// *logupload.Uploader satisfies it.
type LogUploader interface {
	Start(ctx context.Context, req logupload.Request) (fileName string, canceled bool, err error)
	Last() logupload.Notice
}

var (
	_ FirmwareUpdater = (*firmware.Updater)(nil)
	_ LogUploader     = (*logupload.Uploader)(nil)
)

// defaultRetryInterval is the pause between download or upload attempts
// when the CSMS gives none.
const defaultRetryInterval = time.Minute

// retries turns the optional retries and retryInterval (s) of a request
// into the machinery's values.
func retries(n, interval *int) (int, time.Duration) {
	r, d := 0, defaultRetryInterval
	if n != nil && *n > 0 {
		r = *n
	}
	if interval != nil && *interval > 0 {
		d = time.Duration(*interval) * time.Second
	}
	return r, d
}

// needs returns the CALLERROR of a request whose machinery the station
// lacks.
func needs(action, what string) error {
	return ocppclient.Errorf(ocppclient.NotSupported, "%s: this charging station has no %s", action, what)
}

// FirmwareOrigin tags the firmware requests of this adapter
// (firmware.Request.Origin), so that the agent routes their notices here
// even after a restart resumed them.
const FirmwareOrigin = "ocpp2.0.1"

// updateFirmware answers an UpdateFirmware (L01, L02): a signed update's
// signing certificate is checked against the manufacturer roots before
// the answer (InvalidCertificate otherwise, with the security event
// InvalidFirmwareSigningCertificate), the signature over the image before
// anything is installed. An update replacing a running one is
// AcceptedCanceled.
func (c *Charger) updateFirmware(fw FirmwareUpdater, r *UpdateFirmwareRequest) *UpdateFirmwareResponse {
	n, d := retries(r.Retries, r.RetryInterval)
	req := firmware.Request{
		ID: r.RequestID, Location: r.Firmware.Location, RetrieveAt: r.Firmware.RetrieveDateTime.Time,
		Retries: n, RetryInterval: d,
		SigningCertificate: []byte(r.Firmware.SigningCertificate), Signature: r.Firmware.Signature,
		Origin: FirmwareOrigin,
	}
	if r.Firmware.InstallDateTime != nil {
		req.InstallAt = r.Firmware.InstallDateTime.Time
	}
	if req.Signed() != (req.Signature != "") {
		return &UpdateFirmwareResponse{Status: UpdateFirmwareStatusRejected, StatusInfo: statusInfo("InvalidSignature", "signingCertificate and signature go together")}
	}
	canceled, err := fw.Start(context.WithoutCancel(c.runContext()), req)
	switch {
	case errors.Is(err, firmware.ErrInvalidCertificate):
		c.SecurityEvent(secevents.InvalidFirmwareSigningCertificate, err.Error())
		return &UpdateFirmwareResponse{Status: UpdateFirmwareStatusInvalidCertificate}
	case err != nil:
		c.log.Warn("ocpp201 UpdateFirmware rejected", "request", r.RequestID, "err", err)
		return &UpdateFirmwareResponse{Status: UpdateFirmwareStatusRejected, StatusInfo: statusInfo("Rejected", err.Error())}
	case canceled:
		return &UpdateFirmwareResponse{Status: UpdateFirmwareStatusAcceptedCanceled}
	}
	c.log.Info("ocpp201 firmware update scheduled", "request", r.RequestID, "location", req.Location, "retrieve", req.RetrieveAt)
	return &UpdateFirmwareResponse{Status: UpdateFirmwareStatusAccepted}
}

// FirmwareNotice is the firmware updater's OnStatus: it queues a
// FirmwareStatusNotification with the update's requestId, and raises the
// security event of a refused signature.
func (c *Charger) FirmwareNotice(n firmware.Notice) {
	if n.Status == firmware.InvalidSignature {
		c.SecurityEvent(secevents.InvalidFirmwareSignature, errText(n.Err))
	}
	st := FirmwareStatus(n.Status)
	if !st.IsValid() {
		c.log.Warn("ocpp201 firmware status without a 2.0.1 name", "status", n.Status)
		return
	}
	req := &FirmwareStatusNotificationRequest{Status: st}
	if st != FirmwareStatusIdle {
		id := n.RequestID
		req.RequestID = &id
	}
	c.queueNotification(ActionFirmwareStatusNotification, req)
}

// FirmwareInstalled reports an update that took effect with a restart
// (the new binary runs and has registered): Installed with its requestId,
// and the critical security event FirmwareUpdated.
func (c *Charger) FirmwareInstalled(requestID int) {
	c.queueNotification(ActionFirmwareStatusNotification,
		&FirmwareStatusNotificationRequest{Status: FirmwareStatusInstalled, RequestID: &requestID})
	c.SecurityEvent(secevents.FirmwareUpdated, fmt.Sprintf("firmware of request %d installed and running", requestID))
}

// getLog answers a GetLog (N01): an upload of the diagnostics or the
// security log, within oldestTimestamp and latestTimestamp.
func (c *Charger) getLog(logs LogUploader, r *GetLogRequest) *GetLogResponse {
	n, d := retries(r.Retries, r.RetryInterval)
	sources := c.opts.DiagnosticsLogs
	if r.LogType == LogKindSecurityLog {
		sources = nil
		if c.opts.SecurityLogSource != nil {
			sources = []logupload.Source{c.opts.SecurityLogSource}
		}
	}
	req := logupload.Request{ID: r.RequestID, Location: r.Log.RemoteLocation, Retries: n, RetryInterval: d, Sources: sources}
	if r.Log.OldestTimestamp != nil {
		req.From = r.Log.OldestTimestamp.Time
	}
	if r.Log.LatestTimestamp != nil {
		req.To = r.Log.LatestTimestamp.Time
	}
	name, canceled, err := logs.Start(context.WithoutCancel(c.runContext()), req)
	switch {
	case err != nil:
		c.log.Warn("ocpp201 GetLog rejected", "request", r.RequestID, "err", err)
		return &GetLogResponse{Status: LogStatusRejected, StatusInfo: statusInfo("Rejected", err.Error())}
	case canceled:
		return &GetLogResponse{Status: LogStatusAcceptedCanceled, Filename: truncate(name, 255)}
	}
	return &GetLogResponse{Status: LogStatusAccepted, Filename: truncate(name, 255)}
}

// LogNotice is the log uploader's OnStatus: it queues a
// LogStatusNotification with the upload's requestId.
func (c *Charger) LogNotice(n logupload.Notice) {
	st := UploadLogStatus(n.Status.Log())
	if !st.IsValid() {
		c.log.Warn("ocpp201 log status without a 2.0.1 name", "status", n.Status)
		return
	}
	req := &LogStatusNotificationRequest{Status: st}
	if st != UploadLogStatusIdle {
		id := n.RequestID
		req.RequestID = &id
	}
	c.queueNotification(ActionLogStatusNotification, req)
}

// triggeredFirmware is what a trigger reports of the firmware (L01.FR.25):
// the running update's status and requestId, Idle when none runs.
func (c *Charger) triggeredFirmware() *FirmwareStatusNotificationRequest {
	req := &FirmwareStatusNotificationRequest{Status: FirmwareStatusIdle}
	if c.opts.Firmware == nil {
		return req
	}
	if n := c.opts.Firmware.Last(); n.Status != "" && !n.Status.Final() && FirmwareStatus(n.Status).IsValid() {
		id := n.RequestID
		req.Status, req.RequestID = FirmwareStatus(n.Status), &id
	}
	return req
}

// triggeredLog is what a trigger reports of the log upload (N01.FR.18):
// the running upload's status and requestId, Idle when none runs.
func (c *Charger) triggeredLog() *LogStatusNotificationRequest {
	req := &LogStatusNotificationRequest{Status: UploadLogStatusIdle}
	if c.opts.Logs == nil {
		return req
	}
	if n := c.opts.Logs.Last(); n.Status != "" && !n.Status.Final() {
		id := n.RequestID
		req.Status, req.RequestID = UploadLogStatus(n.Status.Log()), &id
	}
	return req
}

// errText is err's text, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
