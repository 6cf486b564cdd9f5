package agent

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/evsed/evsed/ocppclient/firmware"
	"github.com/evsed/evsed/ocppclient/ocpptest"
	"github.com/evsed/evsed/ocppclient/ocpptest/csms201"
	"github.com/evsed/evsed/ocppclient/secevents"
	ocppfw "github.com/lorenzodonini/ocpp-go/ocpp1.6/firmware"
	diag201 "github.com/lorenzodonini/ocpp-go/ocpp2.0.1/diagnostics"
	fw201 "github.com/lorenzodonini/ocpp-go/ocpp2.0.1/firmware"
	types201 "github.com/lorenzodonini/ocpp-go/ocpp2.0.1/types"
)

// statusesOf returns the statuses of the FirmwareStatusNotification or
// DiagnosticsStatusNotification records, in order.
func statusesOf(recs []ocpptest.Record) []string {
	var out []string
	for _, r := range recs {
		switch req := r.Request.(type) {
		case *ocppfw.FirmwareStatusNotificationRequest:
			out = append(out, string(req.Status))
		case *ocppfw.DiagnosticsStatusNotificationRequest:
			out = append(out, string(req.Status))
		}
	}
	return out
}

// A CSMS we did not write (ocpp-go's central system) updates the firmware
// and fetches the diagnostics of the agent: UpdateFirmware downloads the
// image from an HTTP server, installs it in place of the executable (the
// default hook, on a file in a temporary directory) once no session runs,
// and reports every step in FirmwareStatusNotifications; GetDiagnostics
// uploads an archive and reports Uploading, Uploaded.
func TestFirmwareAndDiagnosticsFromCSMS(t *testing.T) {
	image := bytes.Repeat([]byte("evsed v9\n"), 1000)
	uploaded := make(chan int, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = w.Write(image)
			return
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(r.Body)
		uploaded <- b.Len()
	}))
	defer srv.Close()
	csms, err := ocpptest.Start(ocpptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer csms.Stop()
	bin := filepath.Join(t.TempDir(), "evsed")
	if err := os.WriteFile(bin, []byte("old"), 0o755); err != nil {
		t.Fatal(err)
	}
	log, err := secevents.OpenLog(secevents.LogOptions{Dir: filepath.Join(t.TempDir(), "security")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	a := newAgent(t, "CPFW", csms.URL(), func(o *Options) {
		o.Firmware = FirmwareOptions{Dir: filepath.Join(t.TempDir(), "fw"), Installer: &firmware.Executable{Path: bin}}
		o.Logs = LogOptions{Dir: filepath.Join(t.TempDir(), "logs")}
		o.SecurityLog = log // the diagnostics' one source here
	})
	launch(t, a)
	if !waitRegistered(a) {
		t.Fatal("the agent did not register")
	}

	if _, err := csms.UpdateFirmware("CPFW", srv.URL+"/fw.bin", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	want := []string{"Downloading", "Downloaded", "Installing", "Installed"}
	if !csms.WaitFor(waitLimit, func(recs []ocpptest.Record) bool {
		return len(statusesOf(filterAction(recs, "FirmwareStatusNotification"))) >= len(want)
	}) {
		t.Fatalf("FirmwareStatusNotifications %v, want %v", statusesOf(csms.Records("FirmwareStatusNotification")), want)
	}
	if got := statusesOf(csms.Records("FirmwareStatusNotification")); !slices.Equal(got, want) {
		t.Errorf("FirmwareStatusNotifications %v, want %v", got, want)
	}
	if b, _ := os.ReadFile(bin); !bytes.Equal(b, image) {
		t.Error("the executable was not replaced")
	}
	// The new binary is on trial until it has run and registered: a
	// charger started on it (here a second agent on the same executable)
	// confirms it at its first registration and reports Installed, with
	// the critical FirmwareUpdated security event.
	exe := &firmware.Executable{Path: bin}
	if !exe.Pending() {
		t.Fatal("no trial marker after the install")
	}
	next := newAgent(t, "CPFWNEXT", csms.URL(), func(o *Options) {
		o.Firmware = FirmwareOptions{Dir: filepath.Join(t.TempDir(), "fw"), Installer: exe}
	})
	launch(t, next)
	if !csms.WaitFor(waitLimit, func(recs []ocpptest.Record) bool {
		for _, r := range recs {
			if r.ChargePoint == "CPFWNEXT" && r.Action == "FirmwareStatusNotification" {
				return true
			}
		}
		return false
	}) {
		t.Fatal("the restarted charger did not report Installed")
	}
	var fromNext []ocpptest.Record
	for _, r := range csms.Records("FirmwareStatusNotification") {
		if r.ChargePoint == "CPFWNEXT" {
			fromNext = append(fromNext, r)
		}
	}
	if got := statusesOf(fromNext); !slices.Equal(got, []string{"Installed"}) {
		t.Errorf("the restarted charger reported %v, want [Installed]", got)
	}
	if exe.Pending() {
		t.Error("the new binary is still on trial after registering")
	}

	conf, err := csms.GetDiagnostics("CPFW", srv.URL+"/diag/")
	if err != nil || conf.FileName == "" {
		t.Fatalf("GetDiagnostics = %+v, %v; want a file name", conf, err)
	}
	select {
	case n := <-uploaded:
		if n == 0 {
			t.Error("an empty archive was uploaded")
		}
	case <-time.After(waitLimit):
		t.Fatal("nothing was uploaded")
	}
	if !csms.WaitFor(waitLimit, func(recs []ocpptest.Record) bool {
		got := statusesOf(filterAction(recs, "DiagnosticsStatusNotification"))
		return len(got) >= 2 && got[len(got)-1] == "Uploaded"
	}) {
		t.Fatalf("DiagnosticsStatusNotifications %v, want Uploading, Uploaded", statusesOf(csms.Records("DiagnosticsStatusNotification")))
	}
}

// filterAction keeps the records of one action.
func filterAction(recs []ocpptest.Record, action string) []ocpptest.Record {
	var out []ocpptest.Record
	for _, r := range recs {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

// The same over OCPP 2.0.1 against ocpp-go's 2.0.1 CSMS: UpdateFirmware
// (not signed, L02) downloads, installs in place of the executable and
// reports each step with its requestId in FirmwareStatusNotification; GetLog
// uploads the diagnostics archive and reports LogStatusNotification.
func TestFirmwareAndLogsFrom201CSMS(t *testing.T) {
	image := bytes.Repeat([]byte("evsed v10\n"), 1000)
	uploaded := make(chan int, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = w.Write(image)
			return
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(r.Body)
		uploaded <- b.Len()
	}))
	defer srv.Close()
	csms, err := csms201.Start(csms201.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer csms.Stop()
	bin := filepath.Join(t.TempDir(), "evsed")
	if err := os.WriteFile(bin, []byte("old"), 0o755); err != nil {
		t.Fatal(err)
	}
	log, err := secevents.OpenLog(secevents.LogOptions{Dir: filepath.Join(t.TempDir(), "security")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	a := newAgent(t, "CPFW201", csms.URL(), func(o *Options) {
		o.CSMS.Protocols = []string{OCPP201}
		o.Firmware = FirmwareOptions{Dir: filepath.Join(t.TempDir(), "fw"), Installer: &firmware.Executable{Path: bin}}
		o.Logs = LogOptions{Dir: filepath.Join(t.TempDir(), "logs")}
		o.SecurityLog = log
	})
	launch(t, a)
	if !waitRegistered(a) {
		t.Fatal("the agent did not register")
	}

	retrieve := types201.NewDateTime(time.Now().Add(-time.Minute))
	resp, err := csms.Send("CPFW201", &fw201.UpdateFirmwareRequest{RequestID: 3, Firmware: fw201.Firmware{Location: srv.URL + "/fw.bin", RetrieveDateTime: retrieve}})
	if err != nil || resp.(*fw201.UpdateFirmwareResponse).Status != fw201.UpdateFirmwareStatusAccepted {
		t.Fatalf("UpdateFirmware = %+v, %v", resp, err)
	}
	statuses := func() []string {
		var out []string
		for _, r := range csms.Records("FirmwareStatusNotification") {
			n := r.Request.(*fw201.FirmwareStatusNotificationRequest)
			if n.RequestID != nil && *n.RequestID == 3 {
				out = append(out, string(n.Status))
			}
		}
		return out
	}
	want := []string{"Downloading", "Downloaded", "Installing", "Installed"}
	if !waitFor(func() bool { return len(statuses()) >= len(want) }) || !slices.Equal(statuses(), want) {
		t.Fatalf("FirmwareStatusNotifications of request 3: %v, want %v", statuses(), want)
	}
	if b, _ := os.ReadFile(bin); !bytes.Equal(b, image) {
		t.Error("the executable was not replaced")
	}

	logResp, err := csms.Send("CPFW201", &diag201.GetLogRequest{LogType: diag201.LogTypeDiagnostics, RequestID: 4,
		Log: diag201.LogParameters{RemoteLocation: srv.URL + "/logs/"}})
	if err != nil || logResp.(*diag201.GetLogResponse).Status != diag201.LogStatusAccepted || logResp.(*diag201.GetLogResponse).Filename == "" {
		t.Fatalf("GetLog = %+v, %v", logResp, err)
	}
	select {
	case n := <-uploaded:
		if n == 0 {
			t.Error("an empty archive was uploaded")
		}
	case <-time.After(waitLimit):
		t.Fatal("nothing was uploaded")
	}
	logStatuses := func() []string {
		var out []string
		for _, r := range csms.Records("LogStatusNotification") {
			n := r.Request.(*diag201.LogStatusNotificationRequest)
			if n.RequestID == 4 {
				out = append(out, string(n.Status))
			}
		}
		return out
	}
	if !waitFor(func() bool { return slices.Contains(logStatuses(), "Uploaded") }) {
		t.Fatalf("LogStatusNotifications of request 4: %v, want Uploading then Uploaded", logStatuses())
	}
}
