package main

// End-to-end tests: the real evsed binary on the simulated board against a
// CSMS evsed did not write (ocpp-go's central system, wrapped by ocpptest),
// over real websockets on loopback, with real bbolt files. They run in real
// time, with OCPP intervals shortened through the config file so that each
// scenario takes a few seconds.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/ocppclient/ocpptest"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
)

// e2eWait bounds every wait of these tests: it only turns a hang into a
// failure, nothing is asserted about how long a step takes.
const e2eWait = 30 * time.Second

var (
	e2eBinOnce sync.Once
	e2eBin     string
	e2eBinErr  error
)

// e2eBinary builds the binary once for all end-to-end tests.
func e2eBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the binary; skipped with -short")
	}
	e2eBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "evsed-e2e-")
		if err != nil {
			e2eBinErr = err
			return
		}
		e2eBin = filepath.Join(dir, "evsed")
		out, err := exec.Command("go", "build", "-o", e2eBin, ".").CombinedOutput()
		if err != nil {
			e2eBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if e2eBinErr != nil {
		t.Fatal(e2eBinErr)
	}
	return e2eBin
}

// e2eAgent is one evsed process and its data directory, which outlives the
// process so that a restart finds the same database.
type e2eAgent struct {
	t      *testing.T
	bin    string
	config string
	addr   string
	api    *localapi.Client

	mu     sync.Mutex // guards cmd, exited, logs
	cmd    *exec.Cmd
	exited chan error
	logs   *bytes.Buffer
}

// agentConfig is what a scenario sets in the config file.
type agentConfig struct {
	ID       string
	CSMSURL  string
	Password string
	Free     bool
	OCPPKeys map[string]string
	// Protocols are csms.protocols; nil leaves the default.
	Protocols []string
	// OCPP201 are 2.0.1 variables (the config file's ocpp201 block).
	OCPP201   map[string]string
	extraYAML string
	// stationYAML is more keys of the station block, indented by two.
	stationYAML string
}

func newAgent(t *testing.T, c agentConfig) *e2eAgent {
	t.Helper()
	bin := e2eBinary(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	if c.ID == "" {
		c.ID = "CPE2E"
	}
	var y strings.Builder
	fmt.Fprintf(&y, "station:\n  id: %s\n  free_charging: %v\n%s", c.ID, c.Free, c.stationYAML)
	fmt.Fprintf(&y, "data_dir: %s\napi:\n  listen: %s\n", filepath.Join(dir, "data"), addr)
	if c.CSMSURL != "" {
		fmt.Fprintf(&y, "csms:\n  url: %s\n", c.CSMSURL)
		if c.Password != "" {
			fmt.Fprintf(&y, "  security_profile: 1\n  password: %s\n", c.Password)
		}
		if len(c.Protocols) > 0 {
			fmt.Fprintf(&y, "  protocols: [%s]\n", strings.Join(c.Protocols, ", "))
		}
	}
	if len(c.OCPP201) > 0 {
		y.WriteString("ocpp201:\n")
		refs := make([]string, 0, len(c.OCPP201))
		for k := range c.OCPP201 {
			refs = append(refs, k)
		}
		sort.Strings(refs)
		for _, k := range refs {
			fmt.Fprintf(&y, "  %s: %q\n", k, c.OCPP201[k])
		}
	}
	keys := map[string]string{
		"MeterValueSampleInterval": "1",
		"HeartbeatInterval":        "30",
		"WebSocketPingInterval":    "5",
	}
	for k, v := range c.OCPPKeys {
		keys[k] = v
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	y.WriteString("ocpp:\n")
	for _, k := range names {
		fmt.Fprintf(&y, "  %s: %q\n", k, keys[k])
	}
	y.WriteString(c.extraYAML)
	path := filepath.Join(dir, "evsed.yaml")
	if err := os.WriteFile(path, []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	api, err := localapi.NewClient(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := &e2eAgent{t: t, bin: bin, config: path, addr: addr, api: api, logs: &bytes.Buffer{}}
	t.Cleanup(func() {
		a.kill()
		if t.Failed() {
			a.mu.Lock()
			t.Logf("evsed logs:\n%s", a.logs.String())
			a.mu.Unlock()
		}
	})
	return a
}

// start runs the agent and waits for its API to answer.
func (a *e2eAgent) start() {
	a.t.Helper()
	cmd := exec.Command(a.bin, "run", "--config", a.config, "--log-level", "debug")
	a.mu.Lock()
	fmt.Fprintf(a.logs, "---- start\n")
	cmd.Stdout, cmd.Stderr = lockedWriter{&a.mu, a.logs}, lockedWriter{&a.mu, a.logs}
	a.mu.Unlock()
	if err := cmd.Start(); err != nil {
		a.t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	a.mu.Lock()
	a.cmd, a.exited = cmd, exited
	a.mu.Unlock()
	a.waitStatus("the API to answer", func(localapi.Status) bool { return true })
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// kill ends the agent with SIGKILL, as a power cut would.
func (a *e2eAgent) kill() {
	a.mu.Lock()
	cmd, exited := a.cmd, a.exited
	a.cmd = nil
	a.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-exited
}

// stop ends the agent with SIGTERM and checks it exits 0.
func (a *e2eAgent) stop() {
	a.t.Helper()
	a.mu.Lock()
	cmd, exited := a.cmd, a.exited
	a.cmd = nil
	a.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			a.t.Errorf("evsed after SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(e2eWait):
		cmd.Process.Kill()
		a.t.Fatal("evsed did not stop after SIGTERM")
	}
}

func (a *e2eAgent) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// do runs one local API call and fails the test on error.
func (a *e2eAgent) do(what string, f func(ctx context.Context) error) {
	a.t.Helper()
	ctx, cancel := a.ctx()
	defer cancel()
	if err := f(ctx); err != nil {
		a.t.Fatalf("%s: %v", what, err)
	}
}

func (a *e2eAgent) status() (localapi.Status, error) {
	ctx, cancel := a.ctx()
	defer cancel()
	return a.api.Status(ctx)
}

// waitStatus polls the local API until ok accepts the status.
func (a *e2eAgent) waitStatus(what string, ok func(localapi.Status) bool) localapi.Status {
	a.t.Helper()
	deadline := time.Now().Add(e2eWait)
	for {
		a.mu.Lock()
		exited := a.exited
		a.mu.Unlock()
		select {
		case err := <-exited:
			// The process is gone: nothing is left for kill to wait for
			// (it would wait for ever, and the test with it).
			a.mu.Lock()
			a.cmd = nil
			a.mu.Unlock()
			a.t.Fatalf("evsed exited while waiting for %s: %v", what, err)
		default:
		}
		st, err := a.status()
		if err == nil && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("no %s after %v; last status %+v, err %v", what, e2eWait, st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func connectorStatus(n int, want string) func(localapi.Status) bool {
	return func(st localapi.Status) bool { return len(st.Connectors) >= n && st.Connectors[n-1].Status == want }
}

// startCSMS runs a recording CSMS for one test.
func startCSMS(t *testing.T, opts ocpptest.Options) *ocpptest.CSMS {
	t.Helper()
	csms, err := ocpptest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(csms.Stop)
	return csms
}

// waitRecords waits until the CSMS holds n records of action from cp.
func waitRecords(t *testing.T, csms *ocpptest.CSMS, cp, action string, n int) []ocpptest.Record {
	t.Helper()
	var got []ocpptest.Record
	ok := csms.WaitFor(e2eWait, func([]ocpptest.Record) bool {
		got = fromCP(csms.Records(action), cp)
		return len(got) >= n
	})
	if !ok {
		t.Fatalf("CSMS holds %d %s from %s, want >= %d", len(got), action, cp, n)
	}
	return got
}

func fromCP(recs []ocpptest.Record, cp string) []ocpptest.Record {
	var out []ocpptest.Record
	for _, r := range recs {
		if r.ChargePoint == cp {
			out = append(out, r)
		}
	}
	return out
}

// energyOf returns the Energy.Active.Import.Register values of a
// MeterValues request, in Wh.
func energyOf(t *testing.T, req *core.MeterValuesRequest) []float64 {
	t.Helper()
	var out []float64
	for _, mv := range req.MeterValue {
		for _, sv := range mv.SampledValue {
			if sv.Measurand == "" || sv.Measurand == types.MeasurandEnergyActiveImportRegister {
				v, err := strconv.ParseFloat(sv.Value, 64)
				if err != nil {
					t.Fatalf("energy value %q: %v", sv.Value, err)
				}
				if sv.Unit == types.UnitOfMeasureKWh {
					v *= 1000
				}
				out = append(out, v)
			}
		}
	}
	return out
}

// checkTransactionRecords checks the CSMS's record of one charge point's
// transactions: each StartTransaction has exactly one StopTransaction with
// its id, every MeterValues of a transaction carries a known id and arrives
// once, in order, with the energy register never going backwards, within
// [meterStart, meterStop].
func checkTransactionRecords(t *testing.T, csms *ocpptest.CSMS, cp string) (starts, meterValues, stops int) {
	t.Helper()
	all := fromCP(csms.Records(), cp)
	type tx struct {
		start    *core.StartTransactionRequest
		stop     *core.StopTransactionRequest
		lastWh   float64
		lastTime time.Time
	}
	txs := map[int]*tx{}
	seenSample := map[string]bool{}
	for _, r := range all {
		switch r.Action {
		case core.StartTransactionFeatureName:
			req, id := ocpptest.StartRequest(r)
			if _, dup := txs[id]; dup {
				t.Errorf("transaction id %d assigned twice", id)
			}
			txs[id] = &tx{start: req, lastWh: float64(req.MeterStart)}
			starts++
		case core.MeterValuesFeatureName:
			req := r.Request.(*core.MeterValuesRequest)
			if req.TransactionId == nil {
				continue // an idle clock-aligned sample
			}
			x := txs[*req.TransactionId]
			if x == nil {
				t.Errorf("MeterValues for unknown transaction %d", *req.TransactionId)
				continue
			}
			if x.stop != nil {
				t.Errorf("MeterValues for transaction %d after its StopTransaction", *req.TransactionId)
			}
			for _, mv := range req.MeterValue {
				key := fmt.Sprintf("%d@%s", *req.TransactionId, mv.Timestamp.Format(time.RFC3339Nano))
				if seenSample[key] {
					t.Errorf("sample %s delivered twice", key)
				}
				seenSample[key] = true
				if mv.Timestamp.Time.Before(x.lastTime) {
					t.Errorf("transaction %d: sample at %v after one at %v", *req.TransactionId, mv.Timestamp.Time, x.lastTime)
				}
				x.lastTime = mv.Timestamp.Time
			}
			for _, wh := range energyOf(t, req) {
				if wh+0.001 < x.lastWh {
					t.Errorf("transaction %d: energy went back from %.3f to %.3f Wh", *req.TransactionId, x.lastWh, wh)
				}
				x.lastWh = wh
			}
			meterValues++
		case core.StopTransactionFeatureName:
			req := r.Request.(*core.StopTransactionRequest)
			x := txs[req.TransactionId]
			if x == nil {
				t.Errorf("StopTransaction for unknown transaction %d", req.TransactionId)
				continue
			}
			if x.stop != nil {
				t.Errorf("transaction %d stopped twice", req.TransactionId)
			}
			x.stop = req
			if float64(req.MeterStop)+1 < x.lastWh {
				t.Errorf("transaction %d: meterStop %d below the last sample %.3f Wh", req.TransactionId, req.MeterStop, x.lastWh)
			}
			stops++
		}
	}
	for id, x := range txs {
		if x.stop == nil {
			t.Errorf("transaction %d has no StopTransaction", id)
		}
	}
	return starts, meterValues, stops
}

func TestE2EFullSessionWithPendingBoot(t *testing.T) {
	csms := startCSMS(t, ocpptest.Options{PendingBoots: 1})
	a := newAgent(t, agentConfig{ID: "CPFULL", CSMSURL: csms.URL()})
	a.start()
	st := a.waitStatus("registration", func(st localapi.Status) bool {
		return st.Station.OCPP.Registration == "Accepted" && st.Station.OCPP.Connected
	})
	if st.Station.OCPP.Version != "ocpp1.6" {
		t.Errorf("ocpp version %q, want ocpp1.6", st.Station.OCPP.Version)
	}
	boots := waitRecords(t, csms, "CPFULL", core.BootNotificationFeatureName, 2)
	if b := boots[0].Request.(*core.BootNotificationRequest); b.ChargePointVendor == "" || b.ChargePointModel == "" {
		t.Errorf("BootNotification %+v lacks vendor or model", b)
	}
	// Statuses for connector 0, 1 and 2 after registration, nothing before.
	statuses := waitRecords(t, csms, "CPFULL", core.StatusNotificationFeatureName, 3)
	if statuses[0].At.Before(boots[1].At) {
		t.Error("StatusNotification sent before BootNotification was accepted")
	}

	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 1) })
	a.do("swipe", func(ctx context.Context) error { return a.api.Swipe(ctx, 1, "TAG1") })
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 1) })
	a.waitStatus("charging", connectorStatus(1, "Charging"))
	auth := waitRecords(t, csms, "CPFULL", core.AuthorizeFeatureName, 1)
	if req := auth[0].Request.(*core.AuthorizeRequest); req.IdTag != "TAG1" {
		t.Errorf("Authorize idTag %q, want TAG1", req.IdTag)
	}
	start := waitRecords(t, csms, "CPFULL", core.StartTransactionFeatureName, 1)
	req, txID := ocpptest.StartRequest(start[0])
	if req.ConnectorId != 1 || req.IdTag != "TAG1" || req.Timestamp == nil {
		t.Errorf("StartTransaction %+v", req)
	}
	a.waitStatus("the transaction id in the status", func(st localapi.Status) bool {
		s := st.Connectors[0].Session
		return s != nil && s.TransactionID == strconv.Itoa(txID)
	})
	waitRecords(t, csms, "CPFULL", core.MeterValuesFeatureName, 2)
	a.do("unplug", func(ctx context.Context) error { return a.api.Unplug(ctx, 1) })
	stops := waitRecords(t, csms, "CPFULL", core.StopTransactionFeatureName, 1)
	stop := stops[0].Request.(*core.StopTransactionRequest)
	if stop.TransactionId != txID || stop.Reason != core.ReasonEVDisconnected {
		t.Errorf("StopTransaction id %d reason %q, want %d EVDisconnected", stop.TransactionId, stop.Reason, txID)
	}
	if stop.MeterStop <= req.MeterStart {
		t.Errorf("meterStop %d <= meterStart %d after charging at 22 kW", stop.MeterStop, req.MeterStart)
	}
	checkTransactionRecords(t, csms, "CPFULL")

	// The CSMS saw the connector go through the session's statuses.
	var seen []string
	for _, r := range fromCP(csms.Records(core.StatusNotificationFeatureName), "CPFULL") {
		if sn := r.Request.(*core.StatusNotificationRequest); sn.ConnectorId == 1 {
			seen = append(seen, string(sn.Status))
		}
	}
	for _, want := range []string{"Available", "Preparing", "Charging"} {
		if !contains(seen, want) {
			t.Errorf("connector 1 statuses %v lack %s", seen, want)
		}
	}
	a.stop()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestE2ERemoteStartStop(t *testing.T) {
	csms := startCSMS(t, ocpptest.Options{})
	a := newAgent(t, agentConfig{ID: "CPREM", CSMSURL: csms.URL(), OCPPKeys: map[string]string{"AuthorizeRemoteTxRequests": "false"}})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool { return st.Station.OCPP.Registration == "Accepted" })
	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 2) })
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 2) })
	conf, err := csms.RemoteStart("CPREM", 2, "REMOTE1")
	if err != nil || conf.Status != types.RemoteStartStopStatusAccepted {
		t.Fatalf("RemoteStartTransaction = %+v, %v; want Accepted", conf, err)
	}
	a.waitStatus("charging", connectorStatus(2, "Charging"))
	start := waitRecords(t, csms, "CPREM", core.StartTransactionFeatureName, 1)
	req, txID := ocpptest.StartRequest(start[0])
	if req.ConnectorId != 2 || req.IdTag != "REMOTE1" {
		t.Errorf("StartTransaction %+v, want connector 2 REMOTE1", req)
	}
	if n := len(fromCP(csms.Records(core.AuthorizeFeatureName), "CPREM")); n != 0 {
		t.Errorf("%d Authorize calls with AuthorizeRemoteTxRequests=false, want 0", n)
	}
	if conf, err := csms.RemoteStop("CPREM", txID+100); err != nil || conf.Status != types.RemoteStartStopStatusRejected {
		t.Errorf("RemoteStop of an unknown transaction = %+v, %v; want Rejected", conf, err)
	}
	if conf, err := csms.RemoteStop("CPREM", txID); err != nil || conf.Status != types.RemoteStartStopStatusAccepted {
		t.Fatalf("RemoteStopTransaction = %+v, %v; want Accepted", conf, err)
	}
	stops := waitRecords(t, csms, "CPREM", core.StopTransactionFeatureName, 1)
	if stop := stops[0].Request.(*core.StopTransactionRequest); stop.TransactionId != txID || stop.Reason != core.ReasonRemote {
		t.Errorf("StopTransaction %+v, want id %d reason Remote", stop, txID)
	}
	a.waitStatus("contactor open after remote stop", func(st localapi.Status) bool { return !st.Connectors[1].Contactor })
	checkTransactionRecords(t, csms, "CPREM")
}

// TestE2ECSMSOutageMidSession takes the CSMS away while a session meters,
// ends the session offline and brings the CSMS back: every queued message
// arrives once, in order, with the transaction id.
func TestE2ECSMSOutageMidSession(t *testing.T) {
	csms := startCSMS(t, ocpptest.Options{})
	a := newAgent(t, agentConfig{ID: "CPOUT", CSMSURL: csms.URL(), Free: true})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool { return st.Station.OCPP.Registration == "Accepted" })
	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 1) })
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 1) })
	waitRecords(t, csms, "CPOUT", core.MeterValuesFeatureName, 1)
	before := len(fromCP(csms.Records(core.MeterValuesFeatureName), "CPOUT"))

	csms.Stop()
	a.waitStatus("disconnect", func(st localapi.Status) bool { return !st.Station.OCPP.Connected })
	a.waitStatus("samples queued offline", func(st localapi.Status) bool { return st.Station.OCPP.Queued >= 3 })
	a.do("unplug", func(ctx context.Context) error { return a.api.Unplug(ctx, 1) })
	a.waitStatus("stop queued", func(st localapi.Status) bool { return st.Connectors[0].Session == nil })

	if err := csms.Restart(); err != nil {
		t.Fatal(err)
	}
	waitRecords(t, csms, "CPOUT", core.StopTransactionFeatureName, 1)
	a.waitStatus("queue drained", func(st localapi.Status) bool { return st.Station.OCPP.Queued == 0 })
	_, mvs, _ := checkTransactionRecords(t, csms, "CPOUT")
	if mvs < before+3 {
		t.Errorf("%d MeterValues in all, %d before the outage: the offline samples did not arrive", mvs, before)
	}
}

// TestE2EKillRestartOffline kills the agent mid-session while the CSMS is
// away, restarts it still offline, then brings the CSMS back: the session's
// samples and its end (PowerLoss: the simulated car is gone after the power
// cut) arrive with the transaction id assigned before the kill.
func TestE2EKillRestartOffline(t *testing.T) {
	csms := startCSMS(t, ocpptest.Options{})
	a := newAgent(t, agentConfig{ID: "CPKILL", CSMSURL: csms.URL(), Free: true})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool { return st.Station.OCPP.Registration == "Accepted" })
	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 1) })
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 1) })
	start := waitRecords(t, csms, "CPKILL", core.StartTransactionFeatureName, 1)
	_, txID := ocpptest.StartRequest(start[0])
	a.waitStatus("transaction id known", func(st localapi.Status) bool {
		s := st.Connectors[0].Session
		return s != nil && s.TransactionID != ""
	})

	csms.Stop()
	a.waitStatus("samples queued offline", func(st localapi.Status) bool { return st.Station.OCPP.Queued >= 2 })
	a.kill()
	a.start()
	a.waitStatus("the session ended after the power cut", func(st localapi.Status) bool {
		return st.Connectors[0].Session == nil && st.Station.OCPP.Queued >= 3
	})

	if err := csms.Restart(); err != nil {
		t.Fatal(err)
	}
	stops := waitRecords(t, csms, "CPKILL", core.StopTransactionFeatureName, 1)
	stop := stops[0].Request.(*core.StopTransactionRequest)
	if stop.TransactionId != txID || stop.Reason != core.ReasonPowerLoss {
		t.Errorf("StopTransaction id %d reason %q, want %d PowerLoss", stop.TransactionId, stop.Reason, txID)
	}
	a.waitStatus("queue drained", func(st localapi.Status) bool { return st.Station.OCPP.Queued == 0 })
	starts, _, stopsN := checkTransactionRecords(t, csms, "CPKILL")
	if starts != 1 || stopsN != 1 {
		t.Errorf("%d starts and %d stops, want 1 and 1", starts, stopsN)
	}
	a.stop()
}

// TestE2ESessionStartedOffline starts a session before the CSMS has ever
// been reachable: the StartTransaction gets its id once delivered, and the
// session's MeterValues and StopTransaction carry it.
func TestE2ESessionStartedOffline(t *testing.T) {
	csms := startCSMS(t, ocpptest.Options{})
	csms.Stop()
	a := newAgent(t, agentConfig{ID: "CPOFF", CSMSURL: csms.URL(),
		OCPPKeys: map[string]string{"AllowOfflineTxForUnknownId": "true", "LocalAuthorizeOffline": "true"}})
	a.start()
	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 1) })
	a.do("swipe", func(ctx context.Context) error { return a.api.Swipe(ctx, 1, "OFFLINE1") })
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 1) })
	a.waitStatus("charging offline", connectorStatus(1, "Charging"))
	a.waitStatus("samples queued", func(st localapi.Status) bool { return st.Station.OCPP.Queued >= 3 })
	a.do("unplug", func(ctx context.Context) error { return a.api.Unplug(ctx, 1) })

	if err := csms.Restart(); err != nil {
		t.Fatal(err)
	}
	stops := waitRecords(t, csms, "CPOFF", core.StopTransactionFeatureName, 1)
	start := fromCP(csms.Records(core.StartTransactionFeatureName), "CPOFF")
	if len(start) != 1 {
		t.Fatalf("%d StartTransactions, want 1", len(start))
	}
	req, txID := ocpptest.StartRequest(start[0])
	if req.IdTag != "OFFLINE1" {
		t.Errorf("StartTransaction idTag %q, want OFFLINE1", req.IdTag)
	}
	if stop := stops[0].Request.(*core.StopTransactionRequest); stop.TransactionId != txID {
		t.Errorf("StopTransaction id %d, want %d", stop.TransactionId, txID)
	}
	_, mvs, _ := checkTransactionRecords(t, csms, "CPOFF")
	if mvs < 2 {
		t.Errorf("%d MeterValues delivered, want the offline samples", mvs)
	}
}

func TestE2EBasicAuth(t *testing.T) {
	csms := startCSMS(t, ocpptest.Options{Password: "right-password-123"})
	good := newAgent(t, agentConfig{ID: "CPAUTHOK", CSMSURL: csms.URL(), Password: "right-password-123"})
	good.start()
	good.waitStatus("registration with the right password", func(st localapi.Status) bool {
		return st.Station.OCPP.Registration == "Accepted"
	})
	bad := newAgent(t, agentConfig{ID: "CPAUTHBAD", CSMSURL: csms.URL(), Password: "wrong-password-123"})
	bad.start()
	// Give the rejected agent time for several attempts while the good one
	// keeps working; then it must still be unregistered and unknown to the
	// CSMS, and still serving its local API.
	time.Sleep(2 * time.Second)
	st, err := bad.status()
	if err != nil {
		t.Fatalf("rejected agent's API: %v", err)
	}
	if st.Station.OCPP.Connected || st.Station.OCPP.Registration == "Accepted" {
		t.Errorf("agent with a wrong password: %+v, want not connected", st.Station.OCPP)
	}
	if n := len(fromCP(csms.Records(), "CPAUTHBAD")); n != 0 {
		t.Errorf("CSMS recorded %d messages from the agent with a wrong password", n)
	}
	if !strings.Contains(func() string { bad.mu.Lock(); defer bad.mu.Unlock(); return bad.logs.String() }(), "401") {
		t.Error("the rejected agent's log does not mention the 401")
	}
	_ = errors.New
}

// TestE2EConfigurationAndReset changes and reads configuration keys through
// ocpp-go's central system, then resets the station while a session runs:
// the session ends with SoftReset and the agent comes back by itself (a
// second BootNotification) with the changed key persisted.
func TestE2EConfigurationAndReset(t *testing.T) {
	csms := startCSMS(t, ocpptest.Options{})
	a := newAgent(t, agentConfig{ID: "CPRESET", CSMSURL: csms.URL(), Free: true})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool { return st.Station.OCPP.Registration == "Accepted" })

	conf, err := csms.ChangeConfiguration("CPRESET", "MeterValueSampleInterval", "2")
	if err != nil || conf.Status != core.ConfigurationStatusAccepted {
		t.Fatalf("ChangeConfiguration = %+v, %v; want Accepted", conf, err)
	}
	if conf, err := csms.ChangeConfiguration("CPRESET", "NumberOfConnectors", "5"); err != nil || conf.Status != core.ConfigurationStatusRejected {
		t.Errorf("ChangeConfiguration of a read-only key = %+v, %v; want Rejected", conf, err)
	}
	if conf, err := csms.ChangeConfiguration("CPRESET", "NoSuchKey", "1"); err != nil || conf.Status != core.ConfigurationStatusNotSupported {
		t.Errorf("ChangeConfiguration of an unknown key = %+v, %v; want NotSupported", conf, err)
	}
	got, err := csms.GetConfiguration("CPRESET", "MeterValueSampleInterval", "NumberOfConnectors", "AuthorizationKey", "NoSuchKey")
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, kv := range got.ConfigurationKey {
		if kv.Value != nil {
			values[kv.Key] = *kv.Value
		} else {
			values[kv.Key] = "<no value>"
		}
	}
	if values["MeterValueSampleInterval"] != "2" || values["NumberOfConnectors"] != "2" {
		t.Errorf("GetConfiguration values %v, want MeterValueSampleInterval 2 and NumberOfConnectors 2", values)
	}
	if v, ok := values["AuthorizationKey"]; ok && v != "<no value>" {
		t.Errorf("GetConfiguration revealed AuthorizationKey %q", v)
	}
	if len(got.UnknownKey) != 1 || got.UnknownKey[0] != "NoSuchKey" {
		t.Errorf("unknownKey %v, want [NoSuchKey]", got.UnknownKey)
	}

	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 1) })
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 1) })
	waitRecords(t, csms, "CPRESET", core.StartTransactionFeatureName, 1)
	reset, err := csms.Reset("CPRESET", core.ResetTypeSoft)
	if err != nil || reset.Status != core.ResetStatusAccepted {
		t.Fatalf("Reset = %+v, %v; want Accepted", reset, err)
	}
	stops := waitRecords(t, csms, "CPRESET", core.StopTransactionFeatureName, 1)
	if stop := stops[0].Request.(*core.StopTransactionRequest); stop.Reason != core.ReasonSoftReset {
		t.Errorf("StopTransaction reason %q, want SoftReset", stop.Reason)
	}
	waitRecords(t, csms, "CPRESET", core.BootNotificationFeatureName, 2)
	a.waitStatus("registration after the reset", func(st localapi.Status) bool {
		return st.Station.OCPP.Registration == "Accepted" && st.Station.OCPP.Connected
	})
	got, err = csms.GetConfiguration("CPRESET", "MeterValueSampleInterval")
	if err != nil || len(got.ConfigurationKey) != 1 || got.ConfigurationKey[0].Value == nil || *got.ConfigurationKey[0].Value != "2" {
		t.Errorf("after the reset GetConfiguration = %+v, %v; want MeterValueSampleInterval 2", got, err)
	}
	checkTransactionRecords(t, csms, "CPRESET")
	a.stop()
}
