package main

import (
	"archive/tar"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/evsed/evsed/ocppclient/ocpptest"
	ocppfw "github.com/lorenzodonini/ocpp-go/ocpp1.6/firmware"
)

// The security parts of evsed run, through the real binary and a CSMS we
// did not write: the certificate store and the security log live under the
// data directory with owner-only modes, and GetDiagnostics uploads an
// archive of the recent log lines and the security log, whose statuses the
// CSMS receives.
func TestE2ESecurityPartsAndDiagnostics(t *testing.T) {
	entries := make(chan []string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		tr := tar.NewReader(zr)
		var names []string
		for h, err := tr.Next(); err == nil; h, err = tr.Next() {
			names = append(names, h.Name)
		}
		entries <- names
	}))
	defer srv.Close()
	csms := startCSMS(t, ocpptest.Options{})
	a := newAgent(t, agentConfig{ID: "CPSEC", CSMSURL: csms.URL()})
	a.start()
	if !csms.WaitConnected("CPSEC", e2eWait) {
		t.Fatal("no connection")
	}
	data := filepath.Join(filepath.Dir(a.config), "data")
	for _, d := range []string{"certs", "security"} {
		fi, err := os.Stat(filepath.Join(data, d))
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s mode %v, want owner only", d, fi.Mode().Perm())
		}
	}

	conf, err := csms.GetDiagnostics("CPSEC", srv.URL+"/diag/")
	if err != nil || conf.FileName == "" {
		t.Fatalf("GetDiagnostics = %+v, %v; want a file name", conf, err)
	}
	select {
	case names := <-entries:
		if !slices.Contains(names, "evsed-recent.log") || len(names) < 2 {
			t.Errorf("archive entries %v, want the recent log lines and the security log", names)
		}
	case <-time.After(e2eWait):
		t.Fatal("nothing was uploaded")
	}
	if !csms.WaitFor(e2eWait, func(recs []ocpptest.Record) bool {
		for _, r := range recs {
			if req, ok := r.Request.(*ocppfw.DiagnosticsStatusNotificationRequest); ok && req.Status == ocppfw.DiagnosticsStatusUploaded {
				return true
			}
		}
		return false
	}) {
		t.Fatal("the CSMS got no Uploaded")
	}
}
