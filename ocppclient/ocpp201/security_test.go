package ocpp201

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/certstore"
	"github.com/evsed/evsed/ocppclient/firmware"
	"github.com/evsed/evsed/ocppclient/logupload"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/ocppclient/secevents"
)

// fakeCerts is a certificate store holding roots by serial number.
type fakeCerts struct {
	mu     sync.Mutex
	roots  map[string]certstore.Use
	chains []string
	csrs   []certstore.CSRSubject
}

func (f *fakeCerts) ProfileReady(int) error { return nil }
func (f *fakeCerts) Install(u certstore.Use, data []byte) (certstore.HashData, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !strings.HasPrefix(string(data), "CERT ") {
		return certstore.HashData{}, certstore.ErrInvalid
	}
	serial := strings.TrimPrefix(string(data), "CERT ")
	f.roots[serial] = u
	return certstore.HashData{Algorithm: certstore.SHA256, SerialNumber: serial}, nil
}
func (f *fakeCerts) List(u certstore.Use, a certstore.HashAlgorithm) ([]certstore.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []certstore.Entry
	for s, v := range f.roots {
		if v == u {
			out = append(out, certstore.Entry{Use: u, HashData: certstore.HashData{Algorithm: a, IssuerNameHash: "aa", IssuerKeyHash: "bb", SerialNumber: s}})
		}
	}
	return out, nil
}
func (f *fakeCerts) Delete(h certstore.HashData, tlsInUse bool) (certstore.Use, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.roots[h.SerialNumber]
	if !ok {
		return 0, certstore.ErrNotFound
	}
	delete(f.roots, h.SerialNumber)
	return u, nil
}
func (f *fakeCerts) CreateCSR(s certstore.CSRSubject) ([]byte, error) {
	f.mu.Lock()
	f.csrs = append(f.csrs, s)
	f.mu.Unlock()
	return []byte("-----BEGIN CERTIFICATE REQUEST-----\nX\n-----END CERTIFICATE REQUEST-----\n"), nil
}
func (f *fakeCerts) InstallClientChain(chain []byte) error {
	if !strings.HasPrefix(string(chain), "CHAIN") {
		return errors.New("not for our key")
	}
	f.mu.Lock()
	f.chains = append(f.chains, string(chain))
	f.mu.Unlock()
	return nil
}

// fakeSecLog keeps events.
type fakeSecLog struct {
	mu     sync.Mutex
	events []secevents.Event
}

func (l *fakeSecLog) Append(e secevents.Event) (secevents.Event, error) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
	return e, nil
}

func TestCertificates(t *testing.T) {
	certs := &fakeCerts{roots: map[string]certstore.Use{}}
	seclog := &fakeSecLog{}
	var switched sync.WaitGroup
	switched.Add(1)
	r := newRigWith(t, map[devicemodel.Ref]string{devicemodel.OrganizationName: "ACME"}, func(o *Options) {
		o.Certificates, o.SecurityLog = certs, seclog
		o.OnClientCertificate = switched.Done
	})
	r.register()
	for _, tc := range []struct{ action, payload, want string }{
		{ActionGetInstalledCertificateIds, `{}`, `"NotFound"`},
		{ActionInstallCertificate, `{"certificateType":"CSMSRootCertificate","certificate":"CERT 01"}`, `"Accepted"`},
		{ActionInstallCertificate, `{"certificateType":"ManufacturerRootCertificate","certificate":"CERT 02"}`, `"Accepted"`},
		{ActionInstallCertificate, `{"certificateType":"CSMSRootCertificate","certificate":"junk"}`, `"Rejected"`},
		{ActionInstallCertificate, `{"certificateType":"V2GRootCertificate","certificate":"CERT 03"}`, `"Rejected"`},
		{ActionGetInstalledCertificateIds, `{"certificateType":["ManufacturerRootCertificate"]}`, `"serialNumber":"02"`},
		{ActionGetInstalledCertificateIds, `{"certificateType":["V2GCertificateChain"]}`, `"NotFound"`},
		{ActionDeleteCertificate, `{"certificateHashData":{"hashAlgorithm":"SHA256","issuerNameHash":"aa","issuerKeyHash":"bb","serialNumber":"02"}}`, `"Accepted"`},
		{ActionDeleteCertificate, `{"certificateHashData":{"hashAlgorithm":"SHA256","issuerNameHash":"aa","issuerKeyHash":"bb","serialNumber":"02"}}`, `"NotFound"`},
		{ActionTriggerMessage, `{"requestedMessage":"SignChargingStationCertificate"}`, `"Accepted"`},
		{ActionCertificateSigned, `{"certificateChain":"bad"}`, `"Rejected"`},
		{ActionCertificateSigned, `{"certificateChain":"CHAIN","certificateType":"V2GCertificate"}`, `"Rejected"`},
		{ActionCertificateSigned, `{"certificateChain":"CHAIN"}`, `"Accepted"`},
	} {
		got, ce := r.handle(tc.action, tc.payload)
		if ce != nil || !strings.Contains(string(got), tc.want) {
			t.Errorf("%s %s = %s, %v; want %s", tc.action, tc.payload, got, ce, tc.want)
		}
	}
	switched.Wait()
	if v := r.vars.String(devicemodel.CertificateEntries); v != "1" {
		t.Errorf("CertificateEntries = %q, want 1", v)
	}
	signs := r.caller.Calls(ActionSignCertificate)
	if len(signs) != 1 || len(certs.csrs) != 1 || certs.csrs[0].CommonName != "SN-1" || certs.csrs[0].Organization != "ACME" {
		t.Errorf("SignCertificate %d, CSR subjects %+v", len(signs), certs.csrs)
	}
	if len(certs.chains) != 1 {
		t.Errorf("chains installed %v", certs.chains)
	}
	// A critical security event goes to the log and the queue; a
	// non-critical one only to the log.
	r.ch.SecurityEvent(secevents.InvalidMessages, "x")
	r.ch.SecurityEvent(secevents.FirmwareUpdated, "1.2")
	q := r.queued(ActionSecurityEventNotification)
	if len(seclog.events) != 2 || len(q) != 1 || !strings.Contains(string(q[0]), `"FirmwareUpdated"`) {
		t.Errorf("log %v, queued %s", seclog.events, q)
	}
	if err := r.ch.SetSecurityProfile(2); err != nil || r.vars.String(devicemodel.SecurityProfile) != "2" {
		t.Errorf("SetSecurityProfile: %v, %s", err, r.vars.String(devicemodel.SecurityProfile))
	}
	r.deliver()
}

func TestSignCertificateRepeats(t *testing.T) {
	certs := &fakeCerts{roots: map[string]certstore.Use{}}
	r := newRigWith(t, map[devicemodel.Ref]string{devicemodel.CertSigningRepeatTimes: "2", devicemodel.CertSigningWaitMinimum: "10"},
		func(o *Options) { o.Certificates = certs })
	r.register()
	r.ch.RenewClientCertificate(context.Background())
	for _, wait := range []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second} {
		r.clk.Advance(wait)
	}
	if n := len(r.caller.Calls(ActionSignCertificate)); n != 3 {
		t.Errorf("%d SignCertificate, want 3 (one and two repeats)", n)
	}
}

func TestCertificatesWithoutStore(t *testing.T) {
	r := newRig(t, nil)
	r.register()
	for _, a := range []string{ActionInstallCertificate, ActionCertificateSigned} {
		payload := `{"certificateType":"CSMSRootCertificate","certificate":"CERT 01"}`
		if a == ActionCertificateSigned {
			payload = `{"certificateChain":"CHAIN"}`
		}
		if _, ce := r.handle(a, payload); ce == nil || ce.Code != ocppclient.NotSupported {
			t.Errorf("%s without a store: %v, want NotSupported", a, ce)
		}
	}
	if got, _ := r.handle(ActionTriggerMessage, `{"requestedMessage":"SignChargingStationCertificate"}`); !strings.Contains(string(got), "Rejected") {
		t.Errorf("trigger without a store = %s", got)
	}
}

// fakeUpdater is a firmware updater that answers by script.
type fakeUpdater struct {
	mu   sync.Mutex
	reqs []firmware.Request
	err  error
	last firmware.Notice
}

func (f *fakeUpdater) Start(_ context.Context, req firmware.Request) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, req)
	if f.err != nil {
		return false, f.err
	}
	canceled := f.last.Status != "" && !f.last.Status.Final()
	f.last = firmware.Notice{RequestID: req.ID, Status: firmware.DownloadScheduled}
	return canceled, nil
}
func (f *fakeUpdater) Last() firmware.Notice { f.mu.Lock(); defer f.mu.Unlock(); return f.last }

type fakeUploader struct {
	mu   sync.Mutex
	reqs []logupload.Request
	last logupload.Notice
}

func (f *fakeUploader) Start(_ context.Context, req logupload.Request) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(req.Sources) == 0 {
		return "", false, logupload.ErrNoSources
	}
	f.reqs = append(f.reqs, req)
	f.last = logupload.Notice{RequestID: req.ID, Status: logupload.Uploading}
	return "log.tar.gz", false, nil
}
func (f *fakeUploader) Last() logupload.Notice { f.mu.Lock(); defer f.mu.Unlock(); return f.last }

type fakeSource struct{}

func (fakeSource) Name() string { return "agent.log" }
func (fakeSource) WriteWindow(w io.Writer, from, to time.Time) (int64, error) {
	return 0, nil
}

func TestFirmwareAndLogs(t *testing.T) {
	fw, logs := &fakeUpdater{}, &fakeUploader{}
	r := newRigWith(t, nil, func(o *Options) {
		o.Firmware, o.Logs = fw, logs
		o.DiagnosticsLogs = []logupload.Source{fakeSource{}}
	})
	r.register()
	update := `{"requestId":4,"retries":2,"retryInterval":30,"firmware":{"location":"https://fw/x.bin","retrieveDateTime":"2026-03-01T11:00:00Z","installDateTime":"2026-03-01T12:00:00Z"}}`
	for _, tc := range []struct{ action, payload, want string }{
		{ActionTriggerMessage, `{"requestedMessage":"FirmwareStatusNotification"}`, "Accepted"},
		{ActionUpdateFirmware, update, `"Accepted"`},
		{ActionTriggerMessage, `{"requestedMessage":"FirmwareStatusNotification"}`, "Accepted"},
		{ActionUpdateFirmware, strings.Replace(update, `"requestId":4`, `"requestId":5`, 1), `"AcceptedCanceled"`},
		{ActionUpdateFirmware, strings.Replace(update, `"installDateTime"`, `"signature":"c2ln","installDateTime"`, 1), `"Rejected"`},
		{ActionGetLog, `{"requestId":8,"logType":"SecurityLog","log":{"remoteLocation":"https://logs/"}}`, `"Rejected"`},
		{ActionGetLog, `{"requestId":9,"logType":"DiagnosticsLog","log":{"remoteLocation":"https://logs/","oldestTimestamp":"2026-02-01T00:00:00Z"},"retries":1}`, `"filename":"log.tar.gz"`},
		{ActionTriggerMessage, `{"requestedMessage":"LogStatusNotification"}`, "Accepted"},
	} {
		got, ce := r.handle(tc.action, tc.payload)
		if ce != nil || !strings.Contains(string(got), tc.want) {
			t.Errorf("%s %s = %s, %v; want %s", tc.action, tc.payload, got, ce, tc.want)
		}
	}
	if len(fw.reqs) < 1 || fw.reqs[0].ID != 4 || fw.reqs[0].Retries != 2 || fw.reqs[0].RetryInterval != 30*time.Second || fw.reqs[0].InstallAt.IsZero() {
		t.Errorf("firmware requests %+v", fw.reqs)
	}
	trig := r.caller.Calls(ActionFirmwareStatusNotification)
	if len(trig) != 2 || !strings.Contains(string(trig[0].payload), `"Idle"`) || !strings.Contains(string(trig[1].payload), `"status":"DownloadScheduled","requestId":4`) {
		t.Errorf("triggered firmware notifications %v", trig)
	}
	if lt := r.caller.Calls(ActionLogStatusNotification); len(lt) != 1 || !strings.Contains(string(lt[0].payload), `"status":"Uploading","requestId":9`) {
		t.Errorf("triggered log notifications %v", lt)
	}
	if len(logs.reqs) != 1 || logs.reqs[0].From.IsZero() || logs.reqs[0].Retries != 1 {
		t.Errorf("log requests %+v", logs.reqs)
	}
	// Notices go to the queue with their requestId.
	r.ch.FirmwareNotice(firmware.Notice{RequestID: 5, Status: firmware.Downloading})
	r.ch.FirmwareNotice(firmware.Notice{RequestID: 5, Status: firmware.InvalidSignature, Err: errors.New("bad")})
	r.ch.FirmwareInstalled(5)
	r.ch.LogNotice(logupload.Notice{RequestID: 9, Status: logupload.UploadFailed})
	var statuses []string
	for _, p := range r.queued(ActionFirmwareStatusNotification) {
		var n FirmwareStatusNotificationRequest
		_ = json.Unmarshal(p, &n)
		if n.RequestID == nil || *n.RequestID != 5 {
			t.Errorf("notification without requestId 5: %s", p)
		}
		statuses = append(statuses, string(n.Status))
	}
	if strings.Join(statuses, ",") != "Downloading,InvalidSignature,Installed" {
		t.Errorf("firmware statuses %v", statuses)
	}
	want := 1 // FirmwareUpdated
	if secevents.InvalidFirmwareSignature.Critical() {
		want++
	}
	if q := r.queued(ActionSecurityEventNotification); len(q) != want || !strings.Contains(string(q[len(q)-1]), "FirmwareUpdated") {
		t.Errorf("security events queued %s, want %d", q, want)
	}
	if q := r.queued(ActionLogStatusNotification); len(q) != 1 || !strings.Contains(string(q[0]), `"UploadFailure"`) {
		t.Errorf("log notifications %s", q)
	}
	// An invalid signing certificate.
	fw.err = firmware.ErrInvalidCertificate
	if got, _ := r.handle(ActionUpdateFirmware, strings.Replace(update, `"installDateTime"`, `"signingCertificate":"PEM","signature":"c2ln","installDateTime"`, 1)); !strings.Contains(string(got), "InvalidCertificate") {
		t.Errorf("UpdateFirmware with a bad certificate = %s", got)
	}
	r.deliver()
}

func TestFirmwareAndLogsWithoutMachinery(t *testing.T) {
	r := newRig(t, nil)
	r.register()
	if _, ce := r.handle(ActionUpdateFirmware, `{"requestId":4,"firmware":{"location":"https://fw/x.bin","retrieveDateTime":"2026-03-01T11:00:00Z"}}`); ce == nil || ce.Code != ocppclient.NotSupported {
		t.Errorf("UpdateFirmware without an updater: %v", ce)
	}
	if _, ce := r.handle(ActionGetLog, `{"requestId":8,"logType":"SecurityLog","log":{"remoteLocation":"https://logs/"}}`); ce == nil || ce.Code != ocppclient.NotSupported {
		t.Errorf("GetLog without an uploader: %v", ce)
	}
}
