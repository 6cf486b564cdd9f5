package ocpp16

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/certstore"
	"github.com/evsed/evsed/ocppclient/certstore/certtest"
	"github.com/evsed/evsed/ocppclient/firmware"
	"github.com/evsed/evsed/ocppclient/logupload"
	"github.com/evsed/evsed/ocppclient/secevents"
)

// A charger without the machinery answers the firmware and log requests
// NotSupported, as for an action it does not implement.
func TestFirmwareAndLogsNeedTheirMachinery(t *testing.T) {
	r := newRig(t, nil)
	for action, payload := range map[string]string{
		ActionUpdateFirmware:       `{"location":"https://fw.example/1","retrieveDate":"2026-03-01T12:00:00Z"}`,
		ActionSignedUpdateFirmware: `{"requestId":1,"firmware":{"location":"https://x","retrieveDateTime":"2026-03-01T12:00:00Z","signingCertificate":"p","signature":"s"}}`,
		ActionGetDiagnostics:       `{"location":"https://x/"}`,
		ActionGetLog:               `{"logType":"SecurityLog","requestId":1,"log":{"remoteLocation":"https://x"}}`,
	} {
		_, err := r.c.HandleCall(context.Background(), action, json.RawMessage(payload))
		var ce *ocppclient.CallError
		if !errors.As(err, &ce) || ce.Code != ocppclient.NotSupported {
			t.Errorf("%s: %v, want NotSupported", action, err)
		}
	}
}

// firmwareRig is a rig with a real firmware updater (manufacturer root in
// a real certificate store, the executable-replacing hook on a file in a
// temporary directory) and a security log.
type firmwareRig struct {
	*rig
	signer *certtest.Cert
	bin    string
	log    *secevents.Log
}

func newFirmwareRig(t *testing.T) *firmwareRig {
	t.Helper()
	r := newRig(t, nil)
	root := certtest.MustRoot(certtest.Spec{Name: "Maker root", CA: true})
	store, err := certstore.Open(certstore.Options{Dir: filepath.Join(t.TempDir(), "certs"), Clock: r.clk})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Install(certstore.ManufacturerRoot, root.PEM()); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "evsed")
	if err := os.WriteFile(bin, []byte("old binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	log, err := secevents.OpenLog(secevents.LogOptions{Dir: filepath.Join(t.TempDir(), "security"), Clock: r.clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	u, err := firmware.New(firmware.Options{
		Dir: filepath.Join(t.TempDir(), "download"), Installer: &firmware.Executable{Path: bin}, Roots: store,
		Idle: firmware.IdleFunc(func(context.Context) error { return nil }), Clock: r.clk,
		OnStatus: func(n firmware.Notice) { r.c.FirmwareNotice(n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	r.c.opts.Firmware, r.c.opts.SecurityLog = u, log
	return &firmwareRig{rig: r, signer: root.MustIssue(certtest.Spec{Name: "Maker signing", CodeSigning: true}), bin: bin, log: log}
}

// signImage returns the base64 signature of image by c's key over its
// SHA-256, as SignedUpdateFirmware carries it.
func signImage(t *testing.T, c *certtest.Cert, image []byte) string {
	t.Helper()
	d := sha256.Sum256(image)
	sig, err := c.Key.Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// notifications waits until the queue holds a notification of action
// with a final status (one of final), and returns the statuses queued
// for action, in order.
func (r *rig) notifications(action string, final ...string) []string {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		entries, err := r.queue.Entries()
		if err != nil {
			r.t.Fatal(err)
		}
		var statuses []string
		for _, e := range entries {
			if e.Action != action {
				continue
			}
			var v struct {
				Status string `json:"status"`
			}
			if err := json.Unmarshal(e.Payload, &v); err != nil {
				r.t.Fatal(err)
			}
			statuses = append(statuses, v.Status)
		}
		if len(statuses) > 0 && slices.Contains(final, statuses[len(statuses)-1]) {
			return statuses
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s statuses %v: none of %v", action, statuses, final)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// securityEvents returns the types in the security log.
func (f *firmwareRig) securityEvents() []secevents.Type {
	f.t.Helper()
	events, err := f.log.Read(time.Time{}, t0.Add(time.Hour))
	if err != nil {
		f.t.Fatal(err)
	}
	var out []secevents.Type
	for _, e := range events {
		out = append(out, e.Type)
	}
	return out
}

// SignedUpdateFirmware end to end on the real updater: a signed image
// from an HTTP server is downloaded, verified and installed in place of
// the executable, each step a SignedFirmwareStatusNotification queued with
// the request id; a tampered image is refused before anything is
// installed (InvalidSignature, with its security event); a signing
// certificate from an unknown maker is refused in the answer
// (InvalidCertificate, with its security event).
func TestSignedUpdateFirmware(t *testing.T) {
	image := bytes.Repeat([]byte("evsed image v2\n"), 2048)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body := image
		if req.URL.Path == "/tampered.bin" {
			body = append(slices.Clone(image[:len(image)-1]), 'X')
		}
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	request := func(id int, path string, signer *certtest.Cert, sig string) string {
		b, _ := json.Marshal(SignedUpdateFirmwareRequest{RequestID: id, Firmware: Firmware{
			Location: srv.URL + path, RetrieveDateTime: NewDateTime(t0), SigningCertificate: string(signer.PEM()), Signature: sig,
		}})
		return string(b)
	}

	t.Run("installed", func(t *testing.T) {
		f := newFirmwareRig(t)
		resp, _ := f.handle(ActionSignedUpdateFirmware, request(7, "/fw.bin", f.signer, signImage(t, f.signer, image)))
		if got := status(t, resp); got != "Accepted" {
			t.Fatalf("answer %s, want Accepted", got)
		}
		got := f.notifications(ActionSignedFirmwareStatusNotification, "Installed", "InstallationFailed")
		want := []string{"Downloading", "Downloaded", "SignatureVerified", "Installing", "Installed"}
		if !slices.Equal(got, want) {
			t.Errorf("statuses %v, want %v", got, want)
		}
		entries, _ := f.queue.Entries()
		for _, e := range entries {
			if e.Action == ActionSignedFirmwareStatusNotification && !strings.Contains(string(e.Payload), `"requestId":7`) {
				t.Errorf("notification without the request id: %s", e.Payload)
			}
		}
		if b, _ := os.ReadFile(f.bin); !bytes.Equal(b, image) {
			t.Error("the executable was not replaced by the image")
		}
	})

	t.Run("tampered image", func(t *testing.T) {
		f := newFirmwareRig(t)
		resp, _ := f.handle(ActionSignedUpdateFirmware, request(8, "/tampered.bin", f.signer, signImage(t, f.signer, image)))
		if got := status(t, resp); got != "Accepted" {
			t.Fatalf("answer %s, want Accepted (the signature is checked on the image)", got)
		}
		got := f.notifications(ActionSignedFirmwareStatusNotification, "InvalidSignature", "Installed")
		if got[len(got)-1] != "InvalidSignature" {
			t.Fatalf("statuses %v, want InvalidSignature last", got)
		}
		if b, _ := os.ReadFile(f.bin); string(b) != "old binary" {
			t.Error("a tampered image was installed")
		}
		if !slices.Contains(f.securityEvents(), secevents.InvalidFirmwareSignature) {
			t.Errorf("security log %v, want InvalidFirmwareSignature", f.securityEvents())
		}
	})

	t.Run("unknown maker", func(t *testing.T) {
		f := newFirmwareRig(t)
		stranger := certtest.MustRoot(certtest.Spec{Name: "not the maker", CA: true}).MustIssue(certtest.Spec{Name: "s", CodeSigning: true})
		resp, _ := f.handle(ActionSignedUpdateFirmware, request(9, "/fw.bin", stranger, signImage(t, stranger, image)))
		if got := status(t, resp); got != "InvalidCertificate" {
			t.Fatalf("answer %s, want InvalidCertificate", got)
		}
		if !slices.Contains(f.securityEvents(), secevents.InvalidFirmwareSigningCertificate) {
			t.Errorf("security log %v, want InvalidFirmwareSigningCertificate", f.securityEvents())
		}
	})
}

// UpdateFirmware (unsigned) reports the Core statuses, and a location the
// charger cannot fetch (ftp) as DownloadFailed right after the answer.
func TestUpdateFirmware(t *testing.T) {
	image := []byte("evsed image v3")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(image) }))
	defer srv.Close()
	f := newFirmwareRig(t)
	resp, then := f.handle(ActionUpdateFirmware, `{"location":"`+srv.URL+`/fw.bin","retrieveDate":"2026-03-01T12:00:00Z"}`)
	if b, _ := json.Marshal(resp); string(b) != "{}" || then != nil {
		t.Fatalf("answer %s (follow-up %v), want {}", b, then != nil)
	}
	got := f.notifications(ActionFirmwareStatusNotification, "Installed", "InstallationFailed")
	want := []string{"Downloading", "Downloaded", "Installing", "Installed"}
	if !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}

	g := newFirmwareRig(t)
	_, then = g.handle(ActionUpdateFirmware, `{"location":"ftp://fw.example/fw.bin","retrieveDate":"2026-03-01T12:00:00Z"}`)
	if then == nil {
		t.Fatal("no DownloadFailed follow-up for an ftp location")
	}
	then(context.Background())
	if got := g.notifications(ActionFirmwareStatusNotification, "DownloadFailed"); len(got) != 1 {
		t.Errorf("statuses %v, want DownloadFailed only", got)
	}
}

// GetLog and GetDiagnostics on the real uploader: the archive reaches the
// server with the requested log, the answer names the file, and the
// statuses are queued with the request id (GetLog).
func TestLogUploads(t *testing.T) {
	var mu sync.Mutex
	uploads := map[string][]string{} // path -> archive entry names
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		tr := tar.NewReader(zr)
		var names []string
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			names = append(names, h.Name)
			_, _ = io.Copy(io.Discard, tr)
		}
		mu.Lock()
		uploads[req.URL.Path] = names
		mu.Unlock()
	}))
	defer srv.Close()

	r := newRig(t, nil)
	log, err := secevents.OpenLog(secevents.LogOptions{Dir: filepath.Join(t.TempDir(), "security"), Clock: r.clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	if _, err := log.Append(secevents.Event{Type: secevents.StartupOfTheDevice, Time: t0}); err != nil {
		t.Fatal(err)
	}
	u, err := logupload.New(logupload.Options{Dir: filepath.Join(t.TempDir(), "upload"), Prefix: "CP1", Clock: r.clk,
		OnStatus: func(n logupload.Notice) { r.c.LogNotice(n) }})
	if err != nil {
		t.Fatal(err)
	}
	r.c.opts.Logs, r.c.opts.SecurityLogSource, r.c.opts.DiagnosticsLogs = u, log, []logupload.Source{log}

	resp, _ := r.handle(ActionGetLog, `{"logType":"SecurityLog","requestId":5,"log":{"remoteLocation":"`+srv.URL+`/security/"}}`)
	answer := resp.(*GetLogResponse)
	if answer.Status != LogStatusAccepted || !strings.HasPrefix(answer.Filename, "CP1") {
		t.Fatalf("GetLog answer %+v", answer)
	}
	if got := r.notifications(ActionLogStatusNotification, "Uploaded", "UploadFailure"); !slices.Equal(got, []string{"Uploading", "Uploaded"}) {
		t.Errorf("log statuses %v", got)
	}
	entries, _ := r.queue.Entries()
	for _, e := range entries {
		if e.Action == ActionLogStatusNotification && !strings.Contains(string(e.Payload), `"requestId":5`) {
			t.Errorf("LogStatusNotification without the request id: %s", e.Payload)
		}
	}
	mu.Lock()
	got := uploads["/security/"+answer.Filename]
	mu.Unlock()
	if len(got) != 1 || got[0] != log.Name() {
		t.Errorf("security log archive holds %v, want [%s]", got, log.Name())
	}

	resp, _ = r.handle(ActionGetDiagnostics, `{"location":"`+srv.URL+`/diag/"}`)
	diag := resp.(*GetDiagnosticsResponse)
	if diag.FileName == "" {
		t.Fatal("GetDiagnostics named no file")
	}
	if got := r.notifications(ActionDiagnosticsStatusNotification, "Uploaded", "UploadFailed"); !slices.Equal(got, []string{"Uploading", "Uploaded"}) {
		t.Errorf("diagnostics statuses %v", got)
	}
}
