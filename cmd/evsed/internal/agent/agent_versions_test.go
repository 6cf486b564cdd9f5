package agent

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/provisioning"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/transactions"
	types201 "github.com/lorenzodonini/ocpp-go/ocpp2.0.1/types"

	"github.com/evsed/evsed/ocppclient/firmware"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/station"

	halsim "github.com/evsed/evsed/hal/sim"
	"github.com/evsed/evsed/ocppclient/ocpptest"
	"github.com/evsed/evsed/ocppclient/ocpptest/csms201"
)

// A charger offering both versions, in either order, speaks the one the
// CSMS picks: it registers in it, the local API says so, and a charging
// session is reported in that version's messages (TransactionEvent for
// 2.0.1, StartTransaction for 1.6). A CSMS that speaks only one version
// is what a real deployment meets.
func TestCSMSChoosesTheVersion(t *testing.T) {
	for _, offered := range [][]string{{OCPP201, OCPP16}, {OCPP16, OCPP201}} {
		for _, csmsVersion := range []string{OCPP201, OCPP16} {
			name := strings.Join(offered, ",") + " to " + csmsVersion
			t.Run(name, func(t *testing.T) {
				var url string
				var started func() bool
				if csmsVersion == OCPP201 {
					csms, err := csms201.Start(csms201.Options{})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(csms.Stop)
					url = csms.URL()
					started = func() bool {
						return csms.WaitFor(waitLimit, func(recs []csms201.Record) bool {
							for _, r := range recs {
								if ev, ok := r.Request.(*transactions.TransactionEventRequest); ok && ev.EventType == transactions.TransactionEventStarted {
									return true
								}
							}
							return false
						})
					}
				} else {
					csms, err := ocpptest.Start(ocpptest.Options{})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(csms.Stop)
					url = csms.URL()
					started = func() bool {
						return csms.WaitFor(waitLimit, func(recs []ocpptest.Record) bool {
							for _, r := range recs {
								if r.Action == "StartTransaction" {
									return true
								}
							}
							return false
						})
					}
				}
				var board *halsim.Board
				a := newAgent(t, "CPV", url, func(o *Options) {
					o.CSMS.Protocols = offered
					board = o.Board.(*halsim.Board)
				})
				if a.Charger201 == nil {
					t.Fatal("no 2.0.1 adapter although 2.0.1 is offered")
				}
				launch(t, a)
				if !waitRegistered(a) {
					t.Fatalf("no registration with a %s CSMS", csmsVersion)
				}
				if info := a.OCPPInfo(); info.Version != csmsVersion || !info.Connected {
					t.Fatalf("ocpp info %+v, want connected in %s", info, csmsVersion)
				}
				if err := board.Plug(1); err != nil {
					t.Fatal(err)
				}
				if err := board.Swipe(1, "TAG1"); err != nil {
					t.Fatal(err)
				}
				if err := board.Charge(1); err != nil {
					t.Fatal(err)
				}
				if !started() {
					t.Fatalf("no transaction start reached the %s CSMS", csmsVersion)
				}
				if other := otherVersion(a, csmsVersion); other.queue.Len() != 0 {
					t.Errorf("%s queue holds %d messages, want none: the station reports to the CSMS's version", other.name, other.queue.Len())
				}
			})
		}
	}
}

func otherVersion(a *Agent, name string) *version {
	for _, v := range a.versions.list {
		if v.name != name {
			return v
		}
	}
	return nil
}

// The version the CSMS chose is remembered: a charger restarting while
// its CSMS is unreachable reports its sessions in that version, not in
// the first one offered.
func TestVersionRemembered(t *testing.T) {
	db := openDB(t)
	csms, err := csms201.Start(csms201.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := newAgentOn(t, db, "CPMEM", csms.URL(), func(o *Options) { o.CSMS.Protocols = []string{OCPP16, OCPP201} })
	if got := a.versions.current().name; got != OCPP16 {
		t.Fatalf("before any registration the active version is %s, want the first offered", got)
	}
	stop := launchStoppable(t, a)
	if !waitRegistered(a) {
		t.Fatal("no registration")
	}
	stop()
	csms.Stop()

	b := newAgentOn(t, db, "CPMEM", csms.URL(), func(o *Options) { o.CSMS.Protocols = []string{OCPP16, OCPP201} })
	if got := b.versions.current().name; got != OCPP201 {
		t.Errorf("after a restart the active version is %s, want %s, the CSMS's", got, OCPP201)
	}
	if info := b.OCPPInfo(); info.Version != OCPP201 || info.Connected {
		t.Errorf("ocpp info offline %+v, want version %s, not connected", info, OCPP201)
	}
}

// launchStoppable runs a until the returned stop is called (or the test
// ends).
func launchStoppable(t *testing.T, a *Agent) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	wait := a.Launch(ctx)
	done := false
	stop = func() {
		if done {
			return
		}
		done = true
		cancel()
		if err := wait(); err != nil {
			t.Errorf("wait = %v, want nil", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// setNetworkProfile has csms store a profile for url in slot and put the
// slots of priority first.
func setNetworkProfile(t *testing.T, csms *csms201.CSMS, st string, slot int, url, priority string) {
	t.Helper()
	resp, err := csms.Send(st, &provisioning.SetNetworkProfileRequest{ConfigurationSlot: slot, ConnectionData: provisioning.NetworkConnectionProfile{
		OCPPVersion: provisioning.OCPPVersion20, OCPPTransport: provisioning.OCPPTransportJSON, CSMSUrl: url,
		MessageTimeout: 30, SecurityProfile: 0, OCPPInterface: provisioning.OCPPInterfaceWired0,
	}})
	if err != nil || resp.(*provisioning.SetNetworkProfileResponse).Status != provisioning.SetNetworkProfileStatusAccepted {
		t.Fatalf("SetNetworkProfile slot %d = %+v, %v", slot, resp, err)
	}
	set, err := csms.SetVariables(st, provisioning.SetVariableData{Component: types201.Component{Name: "OCPPCommCtrlr"},
		Variable: types201.Variable{Name: "NetworkConfigurationPriority"}, AttributeValue: priority})
	if err != nil || set.SetVariableResult[0].AttributeStatus != provisioning.SetVariableStatusAccepted {
		t.Fatalf("SetVariables NetworkConfigurationPriority %s = %+v, %v", priority, set, err)
	}
}

// A 2.0.1 CSMS migrates the charger to another CSMS (B09, B10): a
// network profile in slot 2 and NetworkConfigurationPriority "2,1" make
// it reconnect there. A profile whose endpoint does not answer is given
// up after fallbackAttempts connections, and the charger is back on the
// endpoint that worked.
func TestNetworkProfileMigration(t *testing.T) {
	first, err := csms201.Start(csms201.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(first.Stop)
	second, err := csms201.Start(csms201.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(second.Stop)
	a := newAgent(t, "CPNET", first.URL(), func(o *Options) { o.CSMS.Protocols = []string{OCPP201} })
	launch(t, a)
	if !waitRegistered(a) {
		t.Fatal("no registration with the first CSMS")
	}

	setNetworkProfile(t, first, "CPNET", 2, second.URL(), "2,1")
	if !waitFor(func() bool { return second.Connected("CPNET") && a.registered() }) {
		t.Fatal("the charger did not move to the CSMS of slot 2")
	}

	// Slot 3 points nowhere: tried, given up, and the charger is back.
	setNetworkProfile(t, second, "CPNET", 3, "ws://127.0.0.1:1/ocpp", "3,2")
	if !waitFor(func() bool { a.mu.Lock(); defer a.mu.Unlock(); return a.badSlots[3] }) {
		t.Fatal("the dead endpoint of slot 3 was never given up")
	}
	if !waitFor(func() bool { return second.Connected("CPNET") && a.registered() }) {
		t.Fatal("the charger is not back on slot 2 after slot 3 failed")
	}
}

// waitFor polls cond until it holds or waitLimit passes.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(waitLimit); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// A charger offering both versions charges before it ever reached its
// CSMS: both versions write the session, and the first registration keeps
// what the CSMS's version wrote (delivered: the start and the end) and
// drops the other copy. Either version's CSMS gets the session.
func TestSessionBeforeFirstRegistration(t *testing.T) {
	for _, csmsVersion := range []string{OCPP16, OCPP201} {
		t.Run(csmsVersion, func(t *testing.T) {
			var url string
			var restart func() error
			var delivered func() bool
			if csmsVersion == OCPP16 {
				csms, err := ocpptest.Start(ocpptest.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(csms.Stop)
				csms.Stop()
				url, restart = csms.URL(), csms.Restart
				delivered = func() bool {
					return len(csms.Records("StartTransaction")) == 1 && len(csms.Records("StopTransaction")) == 1
				}
			} else {
				csms, err := csms201.Start(csms201.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(csms.Stop)
				csms.Stop()
				url, restart = csms.URL(), csms.Restart
				delivered = func() bool {
					var started, ended int
					for _, r := range csms.Records("TransactionEvent") {
						switch r.Request.(*transactions.TransactionEventRequest).EventType {
						case transactions.TransactionEventStarted:
							started++
						case transactions.TransactionEventEnded:
							ended++
						}
					}
					return started == 1 && ended == 1
				}
			}
			var board *halsim.Board
			a := newAgent(t, "CPFIRST", url, func(o *Options) {
				o.CSMS.Protocols = []string{OCPP201, OCPP16}
				o.Behaviour.FreeCharging = true
				board = o.Board.(*halsim.Board)
			})
			launch(t, a)
			for _, step := range []func(int) error{board.Plug, board.Charge} {
				if err := step(1); err != nil {
					t.Fatal(err)
				}
			}
			if !waitFor(func() bool {
				return a.versions.find(OCPP16).queue.Len() > 0 && a.versions.find(OCPP201).queue.Len() > 0
			}) {
				t.Fatal("the offline session was not written by both versions")
			}
			if err := board.Unplug(1); err != nil {
				t.Fatal(err)
			}
			if err := restart(); err != nil {
				t.Fatal(err)
			}
			if !waitFor(delivered) {
				t.Fatalf("the %s CSMS did not get the offline session's start and end once", csmsVersion)
			}
			if !waitFor(func() bool { return a.versions.queued() == 0 }) {
				t.Errorf("%d messages still queued; the other version's copy should be dropped", a.versions.queued())
			}
		})
	}
}

// The 1.6 keys of the configuration file start the 2.0.1 variables of the
// same meaning, so a charger behaves the same whichever version its CSMS
// speaks; the ocpp201 block wins where it says otherwise.
func TestKeysStartVariables(t *testing.T) {
	keys := map[string]string{}
	for key := range variableOfKey {
		keys[key] = map[string]string{
			"HeartbeatInterval": "120", "WebSocketPingInterval": "20", "TransactionMessageAttempts": "5",
			"TransactionMessageRetryInterval": "30", "ConnectionTimeOut": "45", "MeterValueSampleInterval": "15",
			"ClockAlignedDataInterval": "900", "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import",
			"StopTxnSampledData": "Energy.Active.Import.Register", "MeterValuesAlignedData": "Energy.Active.Import.Register",
			"StopTxnAlignedData": "Energy.Active.Import.Register",
		}[key]
		if keys[key] == "" {
			keys[key] = "true"
		}
	}
	a := newAgent(t, "CPKEYS", "", func(o *Options) {
		o.CSMS.Protocols = []string{OCPP201, OCPP16}
		o.OCPPKeys = keys
		o.Variables = map[string]string{"TxCtrlr/EVConnectionTimeOut": "99"}
	})
	for key, name := range variableOfKey {
		ref, _ := devicemodel.ParseRef(name)
		want := keys[key]
		switch key {
		case "ConnectionTimeOut":
			want = "99" // the ocpp201 block wins
		}
		if got := a.vars201.String(ref); got != want {
			t.Errorf("%s from %s = %q, want %q", name, key, got, want)
		}
	}
}

// A value from a 1.6 key that its 2.0.1 variable does not take is left
// out (the variable keeps its default) instead of keeping the agent from
// starting; a bad value of the ocpp201 block itself is an error.
func TestOpenVariablesLeavesOutBadKeys(t *testing.T) {
	defs := devicemodel.Standard(devicemodel.Shape{EVSEs: 1})
	hb, _ := devicemodel.ParseRef("OCPPCommCtrlr/HeartbeatInterval")
	tx, _ := devicemodel.ParseRef("TxCtrlr/EVConnectionTimeOut")
	log := slog.New(slog.DiscardHandler)
	m, err := openVariables(openDB(t), "vars", defs, map[devicemodel.Ref]string{hb: "soon", tx: "40"}, map[devicemodel.Ref]string{hb: "soon", tx: "40"}, log)
	if err != nil {
		t.Fatal(err)
	}
	if m.String(hb) != "3600" || m.String(tx) != "40" {
		t.Errorf("HeartbeatInterval %q, EVConnectionTimeOut %q; want the default 3600 and 40", m.String(hb), m.String(tx))
	}
	if _, err := openVariables(openDB(t), "vars", defs, map[devicemodel.Ref]string{hb: "soon"}, nil, log); err == nil {
		t.Error("a bad value of the ocpp201 block itself was taken")
	}
}

// countingAdapter counts the samples it queues and fails while full is set
// (a full disk); the rest of adapter is never called here.
type countingAdapter struct {
	adapter
	samples int
	full    bool
}

func (c *countingAdapter) SampleTaken(context.Context, station.Sample) error {
	if c.full {
		return errors.New("no space left on device")
	}
	c.samples++
	return nil
}

// Before the first choice a sample one version could not write is
// reported again by the station: the version that wrote it must not queue
// it twice (a MeterValues sent twice), and the fact counts as written once
// both have it.
func TestFanOutRetriesOnlyTheVersionThatFailed(t *testing.T) {
	ok, full := &countingAdapter{}, &countingAdapter{full: true}
	vs := &versions{list: []*version{{name: OCPP16, adapter: ok}, {name: OCPP201, adapter: full}}}
	vs.active.Store(vs.list[0])
	s := station.Sample{Connector: 1, SessionID: "s1", At: time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)}
	if err := vs.SampleTaken(context.Background(), s); err == nil {
		t.Fatal("a sample one version could not write counts as written")
	}
	if err := vs.SampleTaken(context.Background(), s); err == nil {
		t.Fatal("still full, yet written")
	}
	full.full = false
	if err := vs.SampleTaken(context.Background(), s); err != nil {
		t.Fatalf("retry with room: %v", err)
	}
	if ok.samples != 1 || full.samples != 1 {
		t.Errorf("queued %d and %d times, want once each", ok.samples, full.samples)
	}
	if len(vs.written) != 0 {
		t.Errorf("%d facts remembered after all versions wrote them", len(vs.written))
	}
	// A new sample goes to both again.
	s.At = s.At.Add(10 * time.Second)
	if err := vs.SampleTaken(context.Background(), s); err != nil || ok.samples != 2 || full.samples != 2 {
		t.Errorf("next sample: %v, queued %d and %d", err, ok.samples, full.samples)
	}
}

// The version expected to speak gets the full queue log, the other a
// spare one: before any registration the first offered, afterwards the
// one the CSMS chose, across a restart.
func TestPrimaryVersionGetsTheFullLog(t *testing.T) {
	db := openDB(t)
	offered := []string{OCPP201, OCPP16}
	if p, err := primaryVersion(db, "agent", offered); err != nil || p != OCPP201 {
		t.Fatalf("before any choice: %q, %v; want the first offered", p, err)
	}
	vs, err := newVersions(db, "agent", []*version{{name: OCPP201, queue: nil}, {name: OCPP16, queue: nil}})
	if err != nil {
		t.Fatal(err)
	}
	vs.chosen.Store(true) // no queues to empty here
	if _, _, _, err := vs.activate(vs.list[1]); err != nil {
		t.Fatal(err)
	}
	p, err := primaryVersion(db, "agent", offered)
	if err != nil || p != OCPP16 {
		t.Fatalf("after a 1.6 CSMS chose: %q, %v; want ocpp1.6", p, err)
	}
	a := &Agent{primary: p}
	if a.logSize(OCPP16) != 0 || a.logSize(OCPP201) != spareLogSize {
		t.Errorf("log sizes 1.6 %d, 2.0.1 %d; want the default (0) and %d", a.logSize(OCPP16), a.logSize(OCPP201), spareLogSize)
	}
}

// machineAdapter records the firmware notices it is given.
type machineAdapter struct {
	adapter
	noMachinery
	notices []firmware.Notice
}

func (m *machineAdapter) FirmwareNotice(n firmware.Notice) { m.notices = append(m.notices, n) }

// A firmware notice goes to the version whose CSMS asked for the update
// (its Origin), also when another version is active by then (a restart
// resumed it under another CSMS); a notice without an origin goes to the
// active version.
func TestFirmwareNoticesFollowTheirOrigin(t *testing.T) {
	v16, v201 := &machineAdapter{}, &machineAdapter{}
	a := &Agent{versions: &versions{list: []*version{{name: OCPP201, adapter: v201}, {name: OCPP16, adapter: v16}}}}
	a.versions.active.Store(a.versions.list[0]) // 2.0.1 speaks now
	a.machineryOf(OCPP16).FirmwareNotice(firmware.Notice{RequestID: 1})
	a.machineryOf("").FirmwareNotice(firmware.Notice{RequestID: 2})
	if len(v16.notices) != 1 || v16.notices[0].RequestID != 1 {
		t.Errorf("1.6 got %+v, want the notice of its own request 1", v16.notices)
	}
	if len(v201.notices) != 1 || v201.notices[0].RequestID != 2 {
		t.Errorf("2.0.1 got %+v, want the notice without an origin", v201.notices)
	}
}
