package station

import (
	"testing"
	"time"

	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/physic"
)

// Table tests of the DC sequence, one table per step, on the fakes of
// dc_fakes_test.go in virtual time. Each case starts from a fresh rig with
// free charging (plug-in starts the session) and the world of newDCWorld:
// an EV at 380 V that asks for 450 V at most and talks, a 1000 V / 200 A /
// 150 kW supply and a healthy isolation monitor.

// dcWant is the expected state after a case.
type dcWant struct {
	step    hal.DCStep
	status  Status
	code    ErrorCode // "" means NoError
	reason  DCReason  // DCStatus.Reason
	session bool
	// endReason and endDC, when set, are the one SessionEnd's Reason and
	// DCReason.
	endReason StopReason
	endDC     DCReason
	hw        dcHW
}

func (r *dcRig) expect(name string, w dcWant) {
	r.t.Helper()
	cs := r.conn(1)
	code := w.code
	if code == "" {
		code = NoError
	}
	if cs.DC.Step != w.step || cs.Status != w.status || cs.Error != code || cs.DC.Reason != w.reason || (cs.Session != nil) != w.session {
		r.t.Errorf("%s: step %s status %s/%s reason %q session %v; want %s %s/%s %q %v (fault %q)",
			name, cs.DC.Step, cs.Status, cs.Error, cs.DC.Reason, cs.Session != nil,
			w.step, w.status, code, w.reason, w.session, cs.Fault)
	}
	if got := r.hw(); got != w.hw {
		r.t.Errorf("%s: hardware %v, want %v", name, got, w.hw)
	}
	if w.endReason != "" || w.endDC != "" {
		ends := r.rep.endsCopy()
		if len(ends) != 1 || ends[0].Reason != w.endReason || ends[0].DCReason != w.endDC {
			r.t.Errorf("%s: session ends %+v, want one with %s/%s", name, ends, w.endReason, w.endDC)
		}
	}
}

// The states the steps leave the hardware in.
var (
	hwIdle      = dcHW{}
	hwLocked    = dcHW{locked: true}
	hwTesting   = dcHW{on: true, closed: true, locked: true}
	hwFaultSafe = dcHW{locked: false}
)

// finished is the state after the sequence ended the session with r.
func finished(r DCReason) dcWant {
	return dcWant{step: hal.DCFinished, status: Finishing, reason: r, endReason: ReasonOther, endDC: r, hw: hwIdle}
}

type dcCase struct {
	name  string
	opts  dcRigOpts
	do    func(r *dcRig)
	after time.Duration
	want  dcWant
	// check, when set, looks at more.
	check func(t *testing.T, r *dcRig)
}

func runDCCases(t *testing.T, cases []dcCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newDCRig(t, tc.opts)
			tc.do(r)
			r.run(tc.after)
			r.expect(tc.name, tc.want)
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func plugC(r *dcRig) { r.cp(hal.PilotB); r.cp(hal.PilotC) }

func dcw(f func(w *dcWorld)) dcRigOpts { return dcRigOpts{world: f} }

func TestDCAuthorizeAndParameters(t *testing.T) {
	strict := DefaultConfig()
	runDCCases(t, []dcCase{
		{name: "plugged without authorization waits in Authorize",
			opts: dcRigOpts{cfg: &strict}, do: plugC, after: 5 * time.Minute,
			want: dcWant{step: hal.DCAuthorize, status: Preparing, hw: hwIdle}},
		{name: "a silent vehicle: ParameterTimeout after 60 s",
			opts: dcw(func(w *dcWorld) { w.req.Communicating = false }), do: plugC, after: 60 * time.Second,
			want: finished(DCParameterTimeout)},
		{name: "a silent vehicle is waited for 59 s",
			opts: dcw(func(w *dcWorld) { w.req.Communicating = false }), do: plugC, after: 59 * time.Second,
			want: dcWant{step: hal.DCParameters, status: Preparing, session: true, hw: hwLocked}},
		{name: "a vehicle that talks but is not ready waits without limit",
			opts: dcw(func(w *dcWorld) { w.req.Ready = false }), do: plugC, after: 10 * time.Minute,
			want: dcWant{step: hal.DCParameters, status: SuspendedEV, session: true, hw: hwLocked}},
		{name: "CP in B: no cable check",
			do: func(r *dcRig) { r.cp(hal.PilotB) }, after: 10 * time.Minute,
			want: dcWant{step: hal.DCParameters, status: Preparing, session: true, hw: hwLocked}},
		{name: "a vehicle error ends the session",
			opts: dcw(func(w *dcWorld) { w.req.Error = "battery fault" }), do: plugC, after: time.Second,
			want: finished(DCVehicleError)},
		{name: "a vehicle stop ends the session",
			opts: dcw(func(w *dcWorld) { w.req.Stop = true }), do: plugC, after: time.Second,
			want: finished(DCEVStopped)},
		{name: "a limit of 0 A holds the sequence",
			do: func(r *dcRig) {
				if err := r.st.SetLimits(r.ctx(), 1, LimitSchedule{{At: t0, Current: 0}}); err != nil {
					r.t.Fatal(err)
				}
				plugC(r)
			}, after: 10 * time.Minute,
			want: dcWant{step: hal.DCParameters, status: SuspendedEVSE, session: true, hw: hwLocked}},
		{name: "ready vehicle: cable check",
			do:   plugC,
			want: dcWant{step: hal.DCCableCheck, status: Charging, session: true, hw: hwTesting}},
	})
}

func TestDCCableCheck(t *testing.T) {
	firstSet := func(v physic.ElectricPotential, i physic.ElectricCurrent) func(t *testing.T, r *dcRig) {
		return func(t *testing.T, r *dcRig) {
			r.w.set(func(w *dcWorld) {
				if len(w.sets) == 0 || w.sets[0].v != v || w.sets[0].i != i {
					t.Errorf("first supply command %+v, want %v %v", w.sets, v, i)
				}
			})
		}
	}
	precharge := dcWant{step: hal.DCPreCharge, status: Charging, session: true, hw: hwTesting}
	runDCCases(t, []dcCase{
		{name: "passes at the EV's maximum voltage with the test current",
			do: plugC, after: 2 * time.Second, want: precharge, check: firstSet(450*physic.Volt, 2*physic.Ampere)},
		{name: "the connector's rating caps the test voltage",
			opts: dcRigOpts{rating: hal.DC{MaxVoltage: 400 * physic.Volt}},
			do:   plugC, after: 2 * time.Second, want: precharge, check: firstSet(400*physic.Volt, 2*physic.Ampere)},
		{name: "a low limit caps the test current",
			do: func(r *dcRig) {
				if err := r.st.SetLimits(r.ctx(), 1, LimitSchedule{{At: t0, Current: 1500 * physic.MilliAmpere}}); err != nil {
					r.t.Fatal(err)
				}
				plugC(r)
			}, after: 2 * time.Second, want: precharge, check: firstSet(450*physic.Volt, 1500*physic.MilliAmpere)},
		{name: "test voltage not reached: CableCheckTimeout after 30 s",
			opts: dcw(func(w *dcWorld) { w.stuckShort = 50 * physic.Volt }), do: plugC, after: 30 * time.Second,
			want: finished(DCCableCheckTimeout)},
		{name: "test voltage not reached: still checking at 29.5 s",
			opts: dcw(func(w *dcWorld) { w.stuckShort = 50 * physic.Volt }), do: plugC, after: 29500 * time.Millisecond,
			want: dcWant{step: hal.DCCableCheck, status: Charging, session: true, hw: hwTesting}},
		{name: "no isolation result: CableCheckTimeout",
			opts: dcw(func(w *dcWorld) { w.iso.Valid = false }), do: plugC, after: 30 * time.Second,
			want: finished(DCCableCheckTimeout)},
		{name: "a result from before the test voltage does not count",
			opts: dcw(func(w *dcWorld) { w.iso.At = t0 }), do: plugC, after: 30 * time.Second,
			want: finished(DCCableCheckTimeout)},
		{name: "insulation fault: Faulted GroundFailure, session ended",
			opts: dcw(func(w *dcWorld) { w.iso.Resistance = 40 * physic.KiloOhm }), do: plugC, after: time.Second,
			want: dcWant{step: hal.DCFinished, status: Faulted, code: GroundFailure, reason: DCIsolationFault,
				endReason: ReasonOther, endDC: DCIsolationFault, hw: hwFaultSafe}},
		{name: "insulation warning: charging goes on",
			opts: dcw(func(w *dcWorld) { w.iso.Resistance = 300 * physic.KiloOhm }), do: plugC, after: time.Second,
			want: precharge,
			check: func(t *testing.T, r *dcRig) {
				if st := r.dc().IsolationStatus; st != hal.IsolationWarning {
					t.Errorf("isolation status %s, want Warning", st)
				}
			}},
	})
}

func TestDCPreCharge(t *testing.T) {
	toPreCharge := func(r *dcRig) {
		r.w.set(func(w *dcWorld) { w.req.TargetVoltage = 380 * physic.Volt }) // precharge: the battery's voltage
		plugC(r)
		r.until(hal.DCPreCharge, 5*time.Second)
	}
	lastSet := func(v physic.ElectricPotential, i physic.ElectricCurrent) func(t *testing.T, r *dcRig) {
		return func(t *testing.T, r *dcRig) {
			r.w.set(func(w *dcWorld) {
				if n := len(w.sets); n == 0 || w.sets[n-1].v != v || w.sets[n-1].i != i {
					t.Errorf("supply commands %+v, want the last at %v %v", w.sets, v, i)
				}
			})
		}
	}
	charging := dcWant{step: hal.DCCharging, status: Charging, session: true, hw: hwTesting}
	runDCCases(t, []dcCase{
		{name: "matches the battery voltage with the test current",
			do: toPreCharge, after: time.Second,
			want:  dcWant{step: hal.DCPreCharge, status: Charging, session: true, hw: hwTesting},
			check: lastSet(380*physic.Volt, 2*physic.Ampere)},
		{name: "the EV's precharge current limit is kept",
			do: func(r *dcRig) {
				toPreCharge(r)
				r.world(func(w *dcWorld) { w.req.TargetCurrent = physic.Ampere })
			}, after: 100 * time.Millisecond,
			want:  dcWant{step: hal.DCPreCharge, status: Charging, session: true, hw: hwTesting},
			check: lastSet(380*physic.Volt, physic.Ampere)},
		{name: "the vehicle closes: current demand",
			do: func(r *dcRig) {
				toPreCharge(r)
				r.world(func(w *dcWorld) { w.req.Closed = true })
			}, want: charging},
		{name: "the vehicle never closes: PreChargeTimeout after 10 s",
			do: toPreCharge, after: 10 * time.Second, want: finished(DCPreChargeTimeout)},
		{name: "the vehicle goes silent: VehicleLost after 2 s",
			do: func(r *dcRig) {
				toPreCharge(r)
				r.world(func(w *dcWorld) { w.req.Communicating = false })
			}, after: 2100 * time.Millisecond, want: finished(DCVehicleLost)},
		{name: "a short silence is ridden out",
			do: func(r *dcRig) {
				toPreCharge(r)
				r.world(func(w *dcWorld) { w.req.Communicating = false })
				r.run(1500 * time.Millisecond)
				r.world(func(w *dcWorld) { w.req.Communicating, w.req.Closed = true, true })
			}, want: charging},
	})
}

func TestDCCurrentDemand(t *testing.T) {
	demand := func(i physic.ElectricCurrent) func(t *testing.T, r *dcRig) {
		return func(t *testing.T, r *dcRig) {
			if d := r.dc().Demanded; d != i {
				t.Errorf("demanded %v, want %v", d, i)
			}
			r.w.set(func(w *dcWorld) {
				if w.setI != i {
					t.Errorf("supply set to %v, want %v", w.setI, i)
				}
			})
		}
	}
	target := func(i physic.ElectricCurrent) func(w *dcWorld) {
		return func(w *dcWorld) { w.req.TargetCurrent = i }
	}
	charging := dcWant{step: hal.DCCharging, status: Charging, session: true, hw: hwTesting}
	runDCCases(t, []dcCase{
		{name: "follows the EV's target",
			do: func(r *dcRig) { r.charging(); r.world(target(120 * physic.Ampere)) }, want: charging,
			check: demand(120 * physic.Ampere)},
		{name: "the module limit caps it",
			do: func(r *dcRig) {
				r.charging()
				r.world(func(w *dcWorld) { w.req.TargetCurrent, w.lim.MaxCurrent = 150*physic.Ampere, 80*physic.Ampere })
			}, want: charging, check: demand(80 * physic.Ampere)},
		{name: "the connector's rating caps it",
			opts: dcRigOpts{rating: hal.DC{MaxCurrent: 125 * physic.Ampere}},
			do:   func(r *dcRig) { r.charging(); r.world(target(150 * physic.Ampere)) }, want: charging,
			check: demand(125 * physic.Ampere)},
		{name: "an OCPP limit caps it",
			do: func(r *dcRig) {
				r.charging()
				r.world(target(150 * physic.Ampere))
				if err := r.st.SetLimits(r.ctx(), 1, LimitSchedule{{At: t0, Current: 50 * physic.Ampere}}); err != nil {
					r.t.Fatal(err)
				}
			}, want: charging, check: demand(50 * physic.Ampere)},
		{name: "the power limit caps it at the setpoint voltage",
			opts: dcw(func(w *dcWorld) { w.lim.MaxPower = 20 * physic.KiloWatt }),
			do:   func(r *dcRig) { r.charging(); r.world(target(150 * physic.Ampere)) }, want: charging,
			check: demand(44444 * physic.MilliAmpere)}, // 20 kW / 450 V
		{name: "a limit of 0 A: SuspendedEVSE, nothing demanded",
			do: func(r *dcRig) {
				r.charging()
				r.world(target(150 * physic.Ampere))
				if err := r.st.SetLimits(r.ctx(), 1, LimitSchedule{{At: t0, Current: 0}}); err != nil {
					r.t.Fatal(err)
				}
			}, want: dcWant{step: hal.DCCharging, status: SuspendedEVSE, session: true, hw: hwTesting}, check: demand(0)},
		{name: "the EV stops: power down to Finished",
			do: func(r *dcRig) {
				r.charging()
				r.world(func(w *dcWorld) { w.req.Stop, w.req.Closed = true, false })
			}, after: time.Second, want: finished(DCEVStopped)},
		{name: "the CP leaves C: the EV stopped",
			do: func(r *dcRig) { r.charging(); r.cp(hal.PilotB) }, after: time.Second, want: finished(DCEVStopped)},
		{name: "the vehicle goes silent: VehicleLost",
			do: func(r *dcRig) {
				r.charging()
				r.world(func(w *dcWorld) { w.req.Communicating = false })
			}, after: 3 * time.Second, want: finished(DCVehicleLost)},
		{name: "overvoltage: energy stops",
			do: func(r *dcRig) {
				r.charging()
				r.world(func(w *dcWorld) { w.req.MaxVoltage = 400 * physic.Volt; w.stuckShort = -100 * physic.Volt })
			}, after: 5 * time.Second,
			want: finished(DCOvervoltage)},
		{name: "a remote stop powers down",
			do: func(r *dcRig) {
				r.charging()
				if err := r.st.Stop(r.ctx(), 1, ReasonRemote); err != nil {
					r.t.Fatal(err)
				}
			}, after: time.Second,
			want: dcWant{step: hal.DCFinished, status: Finishing, endReason: ReasonRemote, hw: hwIdle}},
	})
}

// Faults open the contactors and turn the supply off in the same loop
// turn as the event, with no ramp; the session ends.
func TestDCFaultsActAtOnce(t *testing.T) {
	faulted := func(code ErrorCode, r DCReason, sr StopReason, h dcHW) dcWant {
		return dcWant{step: hal.DCFinished, status: Faulted, code: code, reason: r, endReason: sr, endDC: r, hw: h}
	}
	ev := func(e hal.Event) func(r *dcRig) {
		return func(r *dcRig) { r.charging(); r.event(e) }
	}
	runDCCases(t, []dcCase{
		{name: "emergency stop event (station-wide)",
			do:   ev(hal.Event{Kind: hal.EmergencyStop, Active: true}),
			want: faulted(OtherError, DCEmergencyStop, ReasonEmergencyStop, hwFaultSafe)},
		{name: "emergency stop input seen at the next control step",
			do: func(r *dcRig) {
				r.charging()
				r.w.set(func(w *dcWorld) { w.estop = true })
			}, after: 100 * time.Millisecond,
			want: faulted(OtherError, DCEmergencyStop, ReasonEmergencyStop, hwFaultSafe)},
		{name: "isolation alarm",
			do:   ev(hal.Event{Connector: 1, Kind: hal.IsolationAlarm}),
			want: faulted(GroundFailure, DCIsolationFault, ReasonOther, hwFaultSafe)},
		{name: "insulation resistance below the threshold while charging",
			do: func(r *dcRig) {
				r.charging()
				r.w.set(func(w *dcWorld) { w.iso.Resistance = 50 * physic.KiloOhm })
			}, after: 100 * time.Millisecond,
			want: faulted(GroundFailure, DCIsolationFault, ReasonOther, hwFaultSafe)},
		{name: "supply fault",
			do:   ev(hal.Event{Connector: 1, Kind: hal.SupplyFault}),
			want: faulted(InternalError, DCSupplyFault, ReasonOther, hwFaultSafe)},
		{name: "every module offline",
			do: func(r *dcRig) {
				r.charging()
				r.world(func(w *dcWorld) { w.lim = hal.SupplyLimits{} })
			},
			want: faulted(InternalError, DCSupplyFault, ReasonOther, hwFaultSafe)},
		{name: "welded contactor keeps the plug locked",
			do: func(r *dcRig) {
				r.charging()
				r.w.set(func(w *dcWorld) { w.welded = true })
				r.event(hal.Event{Connector: 1, Kind: hal.ContactorWelded})
			}, after: 10 * time.Second,
			want: dcWant{step: hal.DCWeldingCheck, status: Faulted, code: PowerSwitchFailure, reason: DCWeldDetected,
				endReason: ReasonOther, endDC: DCWeldDetected, hw: hwLocked}},
	})
	// The safe state is reached within the event's own loop turn: no
	// virtual time passes in these.
	for _, e := range []hal.Event{
		{Kind: hal.EmergencyStop, Active: true},
		{Connector: 1, Kind: hal.IsolationAlarm},
		{Connector: 1, Kind: hal.SupplyFault},
	} {
		r := newDCRig(t, dcRigOpts{})
		r.charging()
		at := r.clk.Now()
		r.event(e)
		if h := r.hw(); h.on || h.closed {
			t.Errorf("%v: %v right after the event", e.Kind, h)
		}
		r.w.set(func(w *dcWorld) {
			for _, s := range w.sets {
				if s.at.After(at) {
					t.Errorf("%v: supply commanded %+v after the event", e.Kind, s)
				}
			}
		})
	}
}

func TestDCEmergencyStopRelease(t *testing.T) {
	r := newDCRig(t, dcRigOpts{})
	r.charging()
	r.event(hal.Event{Kind: hal.EmergencyStop, Active: true})
	r.run(time.Second)
	// While pressed nothing restarts, whatever the vehicle does.
	r.cp(hal.PilotA)
	r.cp(hal.PilotB)
	r.cp(hal.PilotC)
	r.run(5 * time.Second)
	if cs := r.conn(1); cs.Status != Faulted || cs.Session != nil || r.hw().closed {
		t.Fatalf("pressed: %s session %v hw %v", cs.Status, cs.Session != nil, r.hw())
	}
	r.event(hal.Event{Kind: hal.EmergencyStop, Active: false})
	r.cp(hal.PilotA)
	r.expect("released and unplugged", dcWant{step: hal.DCIdle, status: Available, reason: DCEmergencyStop,
		endReason: ReasonEmergencyStop, endDC: DCEmergencyStop, hw: hwIdle})
	r.cp(hal.PilotB)
	r.cp(hal.PilotC)
	r.until(hal.DCCableCheck, time.Second)
}

// Released with the vehicle still plugged in, free charging does not
// start again by itself: the charge ended, and a new one needs a new plug-in
// (or a token).
func TestDCEmergencyStopReleasedPlugged(t *testing.T) {
	r := newDCRig(t, dcRigOpts{})
	r.charging()
	r.event(hal.Event{Kind: hal.EmergencyStop, Active: true})
	r.run(time.Second)
	r.cp(hal.PilotF) // the station drives -12 V while faulted
	r.event(hal.Event{Kind: hal.EmergencyStop, Active: false})
	r.cp(hal.PilotC)
	r.run(5 * time.Second)
	cs := r.conn(1)
	if cs.Session != nil || cs.DC.Step != hal.DCFinished || r.hw().closed || cs.Status != Preparing {
		t.Fatalf("after release, plugged: %s step %s session %v hw %v", cs.Status, cs.DC.Step, cs.Session != nil, r.hw())
	}
	if err := r.st.Start(r.ctx(), 1, "TAG", StartOptions{}); err != nil {
		t.Fatal(err)
	}
	r.settle()
	r.until(hal.DCCableCheck, time.Second)
}

func TestDCPowerDownAndWelding(t *testing.T) {
	runDCCases(t, []dcCase{
		{name: "current that does not fall: contactors opened after 3 s",
			do: func(r *dcRig) {
				r.charging()
				r.w.set(func(w *dcWorld) { w.draw = 100 * physic.Ampere })
				if err := r.st.Stop(r.ctx(), 1, ReasonLocal); err != nil {
					r.t.Fatal(err)
				}
				r.run(2900 * time.Millisecond)
				if h := r.hw(); !h.closed || h.on {
					r.t.Errorf("at 2.9 s of power down: %v", h)
				}
			}, after: 200 * time.Millisecond,
			want: dcWant{step: hal.DCFinished, status: Finishing, reason: DCPowerDownTimeout, endReason: ReasonLocal, hw: hwIdle}},
		{name: "the EV keeps its contactors closed: cable voltage stays, weld fault",
			do: func(r *dcRig) {
				r.charging()
				r.w.set(func(w *dcWorld) { w.evStuck = true })
				if err := r.st.Stop(r.ctx(), 1, ReasonLocal); err != nil {
					r.t.Fatal(err)
				}
			}, after: 3*time.Second + 5*time.Second + 100*time.Millisecond,
			want: dcWant{step: hal.DCWeldingCheck, status: Faulted, code: PowerSwitchFailure, reason: DCPowerDownTimeout,
				endReason: ReasonLocal, hw: hwLocked},
			check: func(t *testing.T, r *dcRig) {
				if res, err := r.st.Unlock(r.ctx(), 1); err != nil || res != UnlockFailed {
					t.Errorf("Unlock with the cable live = %v, %v", res, err)
				}
			}},
		{name: "welded contactor found by the welding check (feedback)",
			do: func(r *dcRig) {
				r.charging()
				r.w.set(func(w *dcWorld) { w.welded = true })
				r.world(func(w *dcWorld) { w.req.Stop, w.req.Closed = true, false })
			}, after: 5*time.Second + 200*time.Millisecond,
			want: dcWant{step: hal.DCWeldingCheck, status: Faulted, code: PowerSwitchFailure, reason: DCEVStopped,
				endReason: ReasonOther, endDC: DCEVStopped, hw: hwLocked}},
		{name: "the plug stays locked until the welding check passes",
			do: func(r *dcRig) {
				r.charging()
				r.w.set(func(w *dcWorld) { w.evStuck = true })
				if err := r.st.Stop(r.ctx(), 1, ReasonLocal); err != nil {
					r.t.Fatal(err)
				}
				r.run(3100 * time.Millisecond) // power down times out: the EV stays closed
				if !r.hw().locked || r.dc().Step != hal.DCWeldingCheck {
					r.t.Errorf("welding check with the cable live: %v %s", r.hw(), r.dc().Step)
				}
				r.world(func(w *dcWorld) { w.req.Closed = false }) // the EV opens late
			}, after: 100 * time.Millisecond,
			want: dcWant{step: hal.DCFinished, status: Finishing, reason: DCPowerDownTimeout, endReason: ReasonLocal, hw: hwIdle}},
	})
}

// The plug pulled under load (a broken lock): supply off and contactors
// open in the same loop turn as the CP's A.
func TestDCUnplugUnderLoad(t *testing.T) {
	for _, p := range []hal.PilotState{hal.PilotA, hal.PilotE} {
		r := newDCRig(t, dcRigOpts{})
		r.charging()
		r.w.set(func(w *dcWorld) { w.draw = 150 * physic.Ampere; w.evStuck = true })
		r.cp(p)
		if h := r.hw(); h.on || h.closed {
			t.Errorf("CP %s under load: %v", p, h)
		}
		if ends := r.rep.endsCopy(); len(ends) != 1 {
			t.Errorf("CP %s: ends %+v", p, ends)
		}
	}
}

// The orderly end: the supply goes off before the contactors open, and the
// contactors open before the plug is released.
func TestDCOrderlyEndOrder(t *testing.T) {
	r := newDCRig(t, dcRigOpts{})
	r.charging()
	r.world(func(w *dcWorld) { w.req.TargetCurrent = 100 * physic.Ampere })
	r.world(func(w *dcWorld) { w.req.Stop, w.evStuck = true, true }) // the EV opens a moment later
	if h := r.hw(); h.on || !h.closed || !h.locked {
		t.Fatalf("right after the stop: %v, want supply off, contactors closed, locked", h)
	}
	if st := r.dc().Step; st != hal.DCPowerDown {
		t.Fatalf("step %s, want PowerDown", st)
	}
	r.world(func(w *dcWorld) { w.req.Closed = false })
	if h := r.hw(); h.closed || h.locked {
		t.Fatalf("EV open, no current: %v, want open and unlocked", h)
	}
	var last hal.ChargerReport
	r.w.set(func(w *dcWorld) { last = w.reports[len(w.reports)-1] })
	if last.Step != hal.DCFinished || !last.Stop {
		t.Errorf("last report %+v", last)
	}
}

// AC connectors next to a DC one keep their behaviour: the DC connector
// is outside the AC load sharing.
func TestDCNotInACSharing(t *testing.T) {
	r := newDCRig(t, dcRigOpts{})
	r.charging()
	if cs := r.conn(1); cs.Offered != 0 || cs.Pilot != hal.PilotC {
		t.Errorf("DC connector offers %v by PWM (pilot %s)", cs.Offered, cs.Pilot)
	}
	if p := r.pilot.pwm(); p != 0 {
		t.Errorf("DC pilot offers %v A", p)
	}
}
