package ocpp16

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/certstore"
	"github.com/evsed/evsed/ocppclient/certstore/certtest"
)

// newCertRig is a rig whose Charger has a real certificate store in a
// temporary directory, on the rig's virtual clock, and a serial number.
func newCertRig(t *testing.T, initial map[string]string) *rig {
	t.Helper()
	clk := clock.NewFake(t0)
	store, err := certstore.Open(certstore.Options{Dir: filepath.Join(t.TempDir(), "certs"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, path: filepath.Join(t.TempDir(), "evsed.db"), clk: clk, st: newFakeStation(2),
		certs: store, serial: "SN-0042"}
	r.caller = newFakeCaller(csmsAnswers())
	r.open(initial)
	return r
}

// pemOf returns a certificate's PEM as a JSON string.
func pemOf(t *testing.T, c *certtest.Cert) string {
	t.Helper()
	b, err := json.Marshal(string(c.PEM()))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A charger without a certificate store does not support the
// whitepaper's certificate messages, and says so with the OCPP-J code.
func TestCertificateMessagesWithoutStore(t *testing.T) {
	r := newRig(t, nil)
	for action, payload := range map[string]string{
		ActionInstallCertificate:         `{"certificateType":"CentralSystemRootCertificate","certificate":"x"}`,
		ActionGetInstalledCertificateIds: `{"certificateType":"CentralSystemRootCertificate"}`,
		ActionCertificateSigned:          `{"certificateChain":"x"}`,
	} {
		_, err := r.c.HandleCall(context.Background(), action, json.RawMessage(payload))
		var ce *ocppclient.CallError
		if !errors.As(err, &ce) || ce.Code != ocppclient.NotSupported {
			t.Errorf("%s: %v, want NotSupported", action, err)
		}
	}
	resp, _ := r.handle(ActionExtendedTriggerMessage, `{"requestedMessage":"SignChargePointCertificate"}`)
	if got := status(t, resp); got != "Rejected" {
		t.Errorf("trigger SignChargePointCertificate without a store: %s, want Rejected", got)
	}
}

// Roots go in, come out as hash data the CSMS can name, and go away again,
// except the CSMS root a TLS profile relies on.
func TestInstallListDeleteCertificates(t *testing.T) {
	r := newCertRig(t, map[string]string{KeyAuthorizationKey: "0123456789abcdef0123"})
	root := certtest.MustRoot(certtest.Spec{Name: "CSMS root", CA: true})
	leaf := root.MustIssue(certtest.Spec{Name: "not a CA", Server: true})
	for _, tc := range []struct {
		name, payload, want string
	}{
		{"root", `{"certificateType":"CentralSystemRootCertificate","certificate":` + pemOf(t, root) + `}`, "Accepted"},
		{"not a CA", `{"certificateType":"ManufacturerRootCertificate","certificate":` + pemOf(t, leaf) + `}`, "Rejected"},
		{"garbage", `{"certificateType":"ManufacturerRootCertificate","certificate":"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"}`, "Rejected"},
	} {
		resp, _ := r.handle(ActionInstallCertificate, tc.payload)
		if got := status(t, resp); got != tc.want {
			t.Errorf("install %s: %s, want %s", tc.name, got, tc.want)
		}
	}

	resp, _ := r.handle(ActionGetInstalledCertificateIds, `{"certificateType":"ManufacturerRootCertificate"}`)
	if got := status(t, resp); got != "NotFound" {
		t.Errorf("manufacturer roots: %s, want NotFound", got)
	}
	resp, _ = r.handle(ActionGetInstalledCertificateIds, `{"certificateType":"CentralSystemRootCertificate"}`)
	ids := resp.(*GetInstalledCertificateIdsResponse)
	want, err := certstore.ComputeHashData(root.Cert, root.Cert, certstore.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if ids.Status != GetInstalledCertificateStatusAccepted || len(ids.CertificateHashData) != 1 {
		t.Fatalf("CSMS roots: %+v, want the one installed", ids)
	}
	got := ids.CertificateHashData[0]
	if got.HashAlgorithm != HashAlgorithmSHA256 || got.IssuerNameHash != want.IssuerNameHash ||
		got.IssuerKeyHash != want.IssuerKeyHash || got.SerialNumber != want.SerialNumber {
		t.Errorf("hash data %+v, want %+v", got, want)
	}
	del, err := json.Marshal(DeleteCertificateRequest{CertificateHashData: got})
	if err != nil {
		t.Fatal(err)
	}

	// Profile 2 relies on the only CSMS root: it stays.
	if st := r.cfg.Set(KeySecurityProfile, "2"); st != ConfigurationStatusAccepted {
		t.Fatalf("SecurityProfile 2: %s", st)
	}
	resp, _ = r.handle(ActionDeleteCertificate, string(del))
	if got := status(t, resp); got != "Failed" {
		t.Errorf("delete the root in use: %s, want Failed", got)
	}
	if err := r.cfg.Restore(KeySecurityProfile, "1"); err != nil {
		t.Fatal(err)
	}
	resp, _ = r.handle(ActionDeleteCertificate, string(del))
	if got := status(t, resp); got != "Accepted" {
		t.Errorf("delete over profile 1: %s, want Accepted", got)
	}
	resp, _ = r.handle(ActionDeleteCertificate, string(del))
	if got := status(t, resp); got != "NotFound" {
		t.Errorf("delete again: %s, want NotFound", got)
	}
}

// The client certificate rotation of the whitepaper, end to end through
// the adapter: the CSMS triggers SignChargePointCertificate, the charger
// sends a CSR for a key it made (CN = serial number, O = CpoName), the
// CSMS's CA signs it, and CertificateSigned installs it and has the
// connection move to it. A chain for another key, or from an unknown CA,
// is Rejected.
func TestClientCertificateRotation(t *testing.T) {
	r := newCertRig(t, map[string]string{KeyCpoName: "Example CPO"})
	r.register()
	moved := 0
	r.onCert = func() { moved++ }
	ca := certtest.MustRoot(certtest.Spec{Name: "CPO CA", CA: true})
	resp, _ := r.handle(ActionInstallCertificate, `{"certificateType":"CentralSystemRootCertificate","certificate":`+pemOf(t, ca)+`}`)
	if got := status(t, resp); got != "Accepted" {
		t.Fatalf("install the CA: %s", got)
	}

	resp, then := r.handle(ActionExtendedTriggerMessage, `{"requestedMessage":"SignChargePointCertificate"}`)
	if got := status(t, resp); got != "Accepted" || then == nil {
		t.Fatalf("trigger: %s (follow-up %v), want Accepted with a follow-up", got, then != nil)
	}
	then(context.Background())
	calls := r.caller.Calls(ActionSignCertificate)
	if len(calls) != 1 {
		t.Fatalf("%d SignCertificate sent, want 1", len(calls))
	}
	var req SignCertificateRequest
	if err := json.Unmarshal(calls[0].Payload, &req); err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode([]byte(req.CSR))
	if b == nil {
		t.Fatalf("CSR is not PEM: %q", req.CSR)
	}
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if csr.Subject.CommonName != "SN-0042" || len(csr.Subject.Organization) != 1 || csr.Subject.Organization[0] != "Example CPO" {
		t.Errorf("CSR subject %v, want CN=SN-0042, O=Example CPO", csr.Subject)
	}

	stranger := certtest.MustRoot(certtest.Spec{Name: "someone else", CA: true})
	foreign, _, err := stranger.SignCSR([]byte(req.CSR), t0.Add(-time.Hour), t0.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	signed, _, err := ca.SignCSR([]byte(req.CSR), t0.Add(-time.Hour), t0.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	chain := func(c *certtest.Cert) string {
		b, _ := json.Marshal(CertificateSignedRequest{CertificateChain: string(c.ChainPEM())})
		return string(b)
	}
	resp, _ = r.handle(ActionCertificateSigned, chain(foreign))
	if got := status(t, resp); got != "Rejected" {
		t.Errorf("chain from an unknown CA: %s, want Rejected", got)
	}
	resp, then = r.handle(ActionCertificateSigned, chain(signed))
	if got := status(t, resp); got != "Accepted" {
		t.Fatalf("signed chain: %s, want Accepted", got)
	}
	if moved != 0 {
		t.Error("the connection moved before the answer went out")
	}
	if then == nil {
		t.Fatal("no follow-up to move the connection to the new certificate")
	}
	then(context.Background())
	if moved != 1 {
		t.Errorf("OnClientCertificate called %d times, want 1", moved)
	}
	long := `{"certificateChain":"` + strings.Repeat("A", 10001) + `"}`
	if _, err := DecodeRequest(ActionCertificateSigned, json.RawMessage(long)); err == nil {
		t.Error("a chain longer than the schema's 10000 characters was decoded")
	}
}

// ExtendedTriggerMessage covers TriggerMessage's messages and the idle
// log and signed-firmware notifications.
func TestExtendedTriggerMessage(t *testing.T) {
	r := newCertRig(t, nil)
	r.register()
	for _, tc := range []struct {
		msg, action string
	}{
		{"Heartbeat", ActionHeartbeat},
		{"LogStatusNotification", ActionLogStatusNotification},
		{"FirmwareStatusNotification", ActionSignedFirmwareStatusNotification},
	} {
		resp, then := r.handle(ActionExtendedTriggerMessage, `{"requestedMessage":"`+tc.msg+`"}`)
		if got := status(t, resp); got != "Accepted" || then == nil {
			t.Fatalf("%s: %s, want Accepted with a follow-up", tc.msg, got)
		}
		then(context.Background())
		calls := r.caller.Calls(tc.action)
		if len(calls) == 0 {
			t.Fatalf("%s: no %s sent", tc.msg, tc.action)
		}
		if tc.action != ActionHeartbeat && !strings.Contains(string(calls[len(calls)-1].Payload), `"status":"Idle"`) {
			t.Errorf("%s: %s, want status Idle", tc.action, calls[len(calls)-1].Payload)
		}
	}
	resp, _ := r.handle(ActionExtendedTriggerMessage, `{"requestedMessage":"StatusNotification","connectorId":7}`)
	if got := status(t, resp); got != "Rejected" {
		t.Errorf("StatusNotification of connector 7: %s, want Rejected", got)
	}
}
