package agent

import (
	"context"
	"strings"
	"testing"

	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/transactions"

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
