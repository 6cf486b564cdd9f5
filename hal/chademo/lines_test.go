package chademo

import (
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter/can"
	"github.com/evsed/evsed/meter/can/cantest"
)

// The lines are plain values here: the board's GPIO drivers (relay
// inputs, pin outputs) are tested with periphboard and boards.

type fakeOut struct {
	mu  sync.Mutex // guards on, log
	on  bool
	log []bool
}

func (o *fakeOut) Set(on bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.on = on
	o.log = append(o.log, on)
	return nil
}

func (o *fakeOut) get() bool { o.mu.Lock(); defer o.mu.Unlock(); return o.on }

type fakeIn struct {
	mu sync.Mutex // guards on
	on bool
}

func (i *fakeIn) String() string { return "in" }
func (i *fakeIn) Halt() error    { return nil }
func (i *fakeIn) Active() bool   { i.mu.Lock(); defer i.mu.Unlock(); return i.on }
func (i *fakeIn) set(on bool)    { i.mu.Lock(); i.on = on; i.mu.Unlock() }

type opener struct{ opened int }

func (o *opener) Open() error { o.opened++; return nil }

type lineRig struct {
	v            *Vehicle
	bus          *cantest.Source
	d1, d2       *fakeOut
	perm, prox   *fakeIn
	clk          *clock.Fake
	deliverFrame func(status byte)
}

func newLineRig(t *testing.T) *lineRig {
	t.Helper()
	r := &lineRig{bus: cantest.NewSource(), d1: &fakeOut{}, d2: &fakeOut{}, perm: &fakeIn{}, prox: &fakeIn{},
		clk: clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))}
	v, err := New(Options{Bus: r.bus, Connector: 1, Clock: r.clk, Logger: slog.New(slog.DiscardHandler),
		Lines: &Lines{D1: r.d1, D2: r.d2, Permission: r.perm, Proximity: r.prox}})
	if err != nil {
		t.Fatal(err)
	}
	r.v = v
	// Without Run: the frames go straight to receive.
	r.deliverFrame = func(status byte) {
		v.receive(can.Frame{ID: 0x100, Data: []byte{0, 0, 0, 0, 0x9A, 0x01, 100, 0}})
		v.receive(can.Frame{ID: 0x101, Data: make([]byte, 8)})
		v.receive(can.Frame{ID: 0x102, Data: []byte{2, 0x7C, 0x01, 0, 0, status, 40, 0}})
	}
	return r
}

func TestNewLinesNeedEveryWire(t *testing.T) {
	_, err := New(Options{Bus: cantest.NewSource(), Lines: &Lines{D1: &fakeOut{}, D2: &fakeOut{}, Permission: &fakeIn{}}})
	if err == nil {
		t.Fatal("lines without proximity accepted")
	}
	r := newLineRig(t)
	if r.d1.get() || r.d2.get() || len(r.d1.log) != 1 || len(r.d2.log) != 1 {
		t.Fatalf("New: d1 %v, d2 %v: want both written off once", r.d1.log, r.d2.log)
	}
}

func TestLinesFollowTheStep(t *testing.T) {
	for _, tc := range []struct {
		step   hal.DCStep
		fault  bool
		d1, d2 bool
	}{
		{hal.DCIdle, false, false, false},
		{hal.DCAuthorize, false, false, false},
		{hal.DCParameters, false, true, false},
		{hal.DCCableCheck, false, true, false},
		{hal.DCPreCharge, false, true, true},
		{hal.DCCharging, false, true, true},
		{hal.DCCharging, true, false, false},
		{hal.DCPowerDown, false, true, true},
		{hal.DCWeldingCheck, false, true, false},
		{hal.DCFinished, false, false, false},
	} {
		r := newLineRig(t)
		r.v.Report(hal.ChargerReport{Step: tc.step, Fault: tc.fault})
		if r.d1.get() != tc.d1 || r.d2.get() != tc.d2 {
			t.Errorf("%s fault=%v: d1 %v d2 %v, want %v %v", tc.step, tc.fault, r.d1.get(), r.d2.get(), tc.d1, tc.d2)
		}
	}
}

func TestLinesOrderAndUnavailable(t *testing.T) {
	r := newLineRig(t)
	p := r.v.Plug()
	r.v.Report(hal.ChargerReport{Step: hal.DCCharging})
	if !r.d1.get() || !r.d2.get() {
		t.Fatal("charging without d1 and d2")
	}
	// Unavailable (the station's fault path) drops both until Offer.
	if err := p.Unavailable(); err != nil {
		t.Fatal(err)
	}
	r.v.Report(hal.ChargerReport{Step: hal.DCCharging})
	if r.d1.get() || r.d2.get() {
		t.Fatal("d1 or d2 on while unavailable")
	}
	if err := p.Offer(0); err != nil {
		t.Fatal(err)
	}
	if !r.d1.get() || !r.d2.get() {
		t.Fatal("Offer did not restore the step's lines")
	}
	// Halt: both off, and the report says stop.
	if err := r.v.Halt(); err != nil {
		t.Fatal(err)
	}
	if r.d1.get() || r.d2.get() {
		t.Fatal("d1 or d2 on after Halt")
	}
	// Writes only where a line changes: d1 on, off, on, off; d2 likewise.
	if len(r.d1.log) != 5 || len(r.d2.log) != 5 {
		t.Errorf("writes d1 %v, d2 %v", r.d1.log, r.d2.log)
	}
}

func TestPlugStatesAndPermission(t *testing.T) {
	r := newLineRig(t)
	p := r.v.Plug()
	k := &opener{}
	p.SetInterlock(k)
	if p.State() != hal.PilotA {
		t.Fatalf("state %v, want A", p.State())
	}
	poll := func(want ...hal.PilotState) {
		t.Helper()
		evs := p.Poll()
		if len(evs) != len(want) {
			t.Fatalf("events %+v, want %v", evs, want)
		}
		for i, e := range evs {
			if e.Kind != hal.PilotChanged || e.Pilot != want[i] || e.Connector != 1 {
				t.Fatalf("event %+v, want PilotChanged %v", e, want[i])
			}
		}
	}
	poll()
	r.prox.set(true)
	poll(hal.PilotB)
	// The CAN flag says enabled, the wire not yet: not ready, no stop.
	r.deliverFrame(evEnabled | evOpen)
	if q := r.v.Request(); q.Ready || q.Stop || !q.Communicating {
		t.Fatalf("flag without the wire: %+v", q)
	}
	r.perm.set(true)
	poll(hal.PilotC)
	if q := r.v.Request(); !q.Ready || q.Stop {
		t.Fatalf("flag and wire: %+v", q)
	}
	// The wire withdrawn: a stop, and the contactors open before the event.
	r.perm.set(false)
	poll(hal.PilotB)
	if k.opened != 1 {
		t.Fatalf("interlock opened %d times, want 1", k.opened)
	}
	if q := r.v.Request(); q.Ready || !q.Stop {
		t.Fatalf("wire withdrawn: %+v", q)
	}
	// Unplugged: the next EV starts afresh.
	r.prox.set(false)
	poll(hal.PilotA)
	r.prox.set(true)
	poll(hal.PilotB)
	r.deliverFrame(evEnabled | evOpen)
	if q := r.v.Request(); q.Stop {
		t.Fatalf("a new plug-in inherited the stop: %+v", q)
	}
	if k.opened != 1 {
		t.Fatalf("interlock opened %d times for states that were never C", k.opened)
	}
}

type failOut struct{}

func (failOut) Set(bool) error { return errors.New("pin gone") }

func TestLinesWriteErrors(t *testing.T) {
	_, err := New(Options{Bus: cantest.NewSource(), Lines: &Lines{D1: failOut{}, D2: &fakeOut{}, Permission: &fakeIn{}, Proximity: &fakeIn{}}})
	if err == nil {
		t.Fatal("New with a failing d1 succeeded")
	}
}
