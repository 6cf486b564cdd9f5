package ocpp16

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/firmware"
	"github.com/evsed/evsed/ocppclient/logupload"
	"github.com/evsed/evsed/ocppclient/secevents"
)

// Firmware updates (UpdateFirmware, SignedUpdateFirmware) and log uploads
// (GetDiagnostics, GetLog) on the version-neutral machinery of the
// firmware and logupload packages. Their status notifications go through
// the durable queue, in order with everything else: a CSMS following an
// update sees every step, also those reached while offline.

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

// updateFirmware starts a plain (unsigned) update. Its answer has no
// status: a location the charger cannot fetch is reported as
// DownloadFailed right after.
func (c *Charger) updateFirmware(fw FirmwareUpdater, r *UpdateFirmwareRequest) any {
	n, d := retries(r.Retries, r.RetryInterval)
	req := firmware.Request{Location: r.Location, RetrieveAt: r.RetrieveDate.Time, Retries: n, RetryInterval: d, Origin: FirmwareOrigin}
	if _, err := fw.Start(context.WithoutCancel(c.runContext()), req); err != nil {
		c.log.Warn("ocpp16 UpdateFirmware refused", "location", r.Location, "err", err)
		return ocppclient.WithFollowUp(&UpdateFirmwareResponse{}, func(context.Context) {
			c.FirmwareNotice(firmware.Notice{Status: firmware.DownloadFailed, Err: err})
		})
	}
	c.log.Info("ocpp16 firmware update scheduled", "location", r.Location, "retrieve", req.RetrieveAt)
	return &UpdateFirmwareResponse{}
}

// signedUpdateFirmware starts a signed update: the signing certificate is
// checked against the manufacturer roots before the answer, and the
// signature over the image before anything is installed.
func (c *Charger) signedUpdateFirmware(fw FirmwareUpdater, r *SignedUpdateFirmwareRequest) *SignedUpdateFirmwareResponse {
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
	canceled, err := fw.Start(context.WithoutCancel(c.runContext()), req)
	switch {
	case errors.Is(err, firmware.ErrInvalidCertificate):
		c.SecurityEvent(secevents.InvalidFirmwareSigningCertificate, err.Error())
		return &SignedUpdateFirmwareResponse{Status: UpdateFirmwareStatusInvalidCertificate}
	case err != nil:
		c.log.Warn("ocpp16 SignedUpdateFirmware rejected", "request", r.RequestID, "err", err)
		return &SignedUpdateFirmwareResponse{Status: UpdateFirmwareStatusRejected}
	case canceled:
		return &SignedUpdateFirmwareResponse{Status: UpdateFirmwareStatusAcceptedCanceled}
	}
	c.log.Info("ocpp16 signed firmware update scheduled", "request", r.RequestID, "location", req.Location)
	return &SignedUpdateFirmwareResponse{Status: UpdateFirmwareStatusAccepted}
}

// FirmwareOrigin tags the firmware requests of this adapter
// (firmware.Request.Origin), so that the agent routes their notices here
// even after a restart resumed them.
const FirmwareOrigin = "ocpp1.6"

// FirmwareNotice is the firmware updater's OnStatus: it queues the
// notification the update's kind calls for (signed or plain, as the
// request was, also when a restart resumed it), and raises the security
// event of a refused signature.
func (c *Charger) FirmwareNotice(n firmware.Notice) {
	signed := n.Signed
	if n.Status == firmware.InvalidSignature {
		c.SecurityEvent(secevents.InvalidFirmwareSignature, errText(n.Err))
	}
	if signed {
		c.queueNotification(ActionSignedFirmwareStatusNotification,
			&SignedFirmwareStatusNotificationRequest{Status: SignedFirmwareStatus(n.Status), RequestID: &n.RequestID})
		return
	}
	if s, ok := n.Status.Core(); ok {
		c.queueNotification(ActionFirmwareStatusNotification, &FirmwareStatusNotificationRequest{Status: FirmwareStatus(s)})
	}
}

// FirmwareInstalled reports an update that took effect with a restart
// (the new binary runs and has registered): Installed, as a signed
// update's notification when requestID is not 0, and the critical
// security event FirmwareUpdated.
func (c *Charger) FirmwareInstalled(requestID int) {
	if requestID != 0 {
		c.queueNotification(ActionSignedFirmwareStatusNotification,
			&SignedFirmwareStatusNotificationRequest{Status: SignedFirmwareStatusInstalled, RequestID: &requestID})
	} else {
		c.queueNotification(ActionFirmwareStatusNotification, &FirmwareStatusNotificationRequest{Status: FirmwareStatusInstalled})
	}
	c.SecurityEvent(secevents.FirmwareUpdated, fmt.Sprintf("firmware of request %d installed and running", requestID))
}

// getDiagnostics starts an upload of the diagnostics (the agent's logs and
// the security log) and answers with the file's name.
func (c *Charger) getDiagnostics(logs LogUploader, r *GetDiagnosticsRequest) *GetDiagnosticsResponse {
	n, d := retries(r.Retries, r.RetryInterval)
	req := logupload.Request{Location: r.Location, Retries: n, RetryInterval: d, Sources: c.opts.DiagnosticsLogs}
	if r.StartTime != nil {
		req.From = r.StartTime.Time
	}
	if r.StopTime != nil {
		req.To = r.StopTime.Time
	}
	c.mu.Lock()
	c.logRequest = logKindDiagnostics
	c.mu.Unlock()
	name, _, err := logs.Start(context.WithoutCancel(c.runContext()), req)
	if err != nil {
		// No file name: nothing will be uploaded.
		c.log.Warn("ocpp16 GetDiagnostics refused", "location", r.Location, "err", err)
		return &GetDiagnosticsResponse{}
	}
	return &GetDiagnosticsResponse{FileName: name}
}

// getLog starts an upload of the diagnostics or the security log.
func (c *Charger) getLog(logs LogUploader, r *GetLogRequest) *GetLogResponse {
	n, d := retries(r.Retries, r.RetryInterval)
	sources := c.opts.DiagnosticsLogs
	if r.LogType == LogTypeSecurityLog {
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
	c.mu.Lock()
	c.logRequest = logKindLog
	c.mu.Unlock()
	name, canceled, err := logs.Start(context.WithoutCancel(c.runContext()), req)
	switch {
	case err != nil:
		c.log.Warn("ocpp16 GetLog rejected", "request", r.RequestID, "err", err)
		return &GetLogResponse{Status: LogStatusRejected}
	case canceled:
		return &GetLogResponse{Status: LogStatusAcceptedCanceled, Filename: name}
	}
	return &GetLogResponse{Status: LogStatusAccepted, Filename: name}
}

// Kinds of the log upload running (Charger.logRequest).
const (
	logKindDiagnostics = iota + 1
	logKindLog
)

// LogNotice is the log uploader's OnStatus: it queues the notification of
// the running request's kind.
func (c *Charger) LogNotice(n logupload.Notice) {
	c.mu.Lock()
	kind := c.logRequest
	c.mu.Unlock()
	switch kind {
	case logKindDiagnostics:
		c.queueNotification(ActionDiagnosticsStatusNotification,
			&DiagnosticsStatusNotificationRequest{Status: DiagnosticsStatus(n.Status.Diagnostics())})
	case logKindLog:
		c.queueNotification(ActionLogStatusNotification,
			&LogStatusNotificationRequest{Status: UploadLogStatus(n.Status.Log()), RequestID: &n.RequestID})
	}
}

// queueNotification puts a notification in the durable queue, after
// checking it against its schema rules.
func (c *Charger) queueNotification(action string, req any) {
	err := Validate(req)
	var payload []byte
	if err == nil {
		payload, err = json.Marshal(req)
	}
	if err == nil {
		_, err = c.queue.Enqueue(ocppclient.Entry{Kind: ocppclient.KindOther, Action: action, Payload: payload})
	}
	if err != nil {
		c.log.Error("ocpp16 notification not queued", "action", action, "err", err)
	}
}

// errText is err's text, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// triggeredFirmwareStatus is what a trigger reports of the firmware: the
// running update's status, Idle when none runs.
func (c *Charger) triggeredFirmwareStatus() firmware.Status {
	if c.opts.Firmware == nil {
		return firmware.Idle
	}
	if n := c.opts.Firmware.Last(); !n.Status.Final() {
		return n.Status
	}
	return firmware.Idle
}

// triggeredLogStatus is what a trigger reports of the log upload: the
// running upload's status, Idle when none runs.
func (c *Charger) triggeredLogStatus() logupload.Status {
	if c.opts.Logs == nil {
		return logupload.Idle
	}
	if n := c.opts.Logs.Last(); !n.Status.Final() && n.Status != "" {
		return n.Status
	}
	return logupload.Idle
}

// needs returns the CALLERROR of a request whose machinery the charger
// lacks.
func needs(action, what string) error {
	return ocppclient.Errorf(ocppclient.NotSupported, "%s: this charger has no %s", action, what)
}
