package chademo

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/meter/can"
	"github.com/evsed/evsed/meter/can/cantest"
	"periph.io/x/conn/v3/physic"
)

// The tests run at frame level through cantest.Source: AF_CAN is not
// available on every machine the tests run on.

type rig struct {
	t   *testing.T
	clk *clock.Fake
	bus *cantest.Source
	v   *Vehicle

	mu     sync.Mutex // guards events
	events int
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, clk: clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)), bus: cantest.NewSource()}
	var err error
	r.v, err = New(Options{Bus: r.bus, Connector: 2, Clock: r.clk, Logger: slog.New(slog.DiscardHandler),
		Sink: func(e hal.Event) {
			if e.Kind != hal.VehicleChanged || e.Connector != 2 {
				t.Errorf("event %+v", e)
			}
			r.mu.Lock()
			r.events++
			r.mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.v.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	for len(r.bus.Sent()) < 2 { // Run's first cycle
		time.Sleep(time.Millisecond)
	}
	return r
}

func (r *rig) takeEvents() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.events
	r.events = 0
	return n
}

// ev sends the EV's three frames: maximum 410 V, 40.0 kWh, and the request.
func (r *rig) ev(targetV uint16, reqA, faults, status, soc byte) {
	r.t.Helper()
	err := r.bus.Deliver(
		can.Frame{ID: 0x100, Data: []byte{0, 0, 0, 0, 0x9A, 0x01, 100, 0}},
		can.Frame{ID: 0x101, Data: []byte{0, 0xFF, 90, 30, 0, 0x90, 0x01, 0}},
		can.Frame{ID: 0x102, Data: []byte{2, byte(targetV), byte(targetV >> 8), reqA, faults, status, soc, 0}},
	)
	if err != nil {
		r.t.Fatal(err)
	}
}

func TestRequest(t *testing.T) {
	r := newRig(t)
	if req := r.v.Request(); req.Communicating || req.SoC != -1 {
		t.Fatalf("before any frame: %+v", req)
	}
	for _, tc := range []struct {
		name   string
		status byte
		faults byte
		want   func(req hal.VehicleRequest) bool
	}{
		{"enabled, contactor open", evEnabled | evOpen, 0, func(q hal.VehicleRequest) bool {
			return q.Communicating && q.Ready && !q.Closed && !q.Stop && q.Error == ""
		}},
		{"contactor closed", evEnabled, 0, func(q hal.VehicleRequest) bool { return q.Ready && q.Closed }},
		{"shift lever out of park", evEnabled | evNotParked, 0, func(q hal.VehicleRequest) bool { return !q.Ready && !q.Stop }},
		{"high battery temperature", evEnabled, 1 << 3, func(q hal.VehicleRequest) bool { return q.Error == "high battery temperature" }},
		{"charging system fault", evEnabled | evSysFault, 1 << 0, func(q hal.VehicleRequest) bool {
			return q.Error == "battery overvoltage, charging system fault"
		}},
		{"normal stop request", evEnabled | evStopReq, 0, func(q hal.VehicleRequest) bool { return q.Stop && !q.Ready }},
		{"permission withdrawn", evOpen, 0, func(q hal.VehicleRequest) bool { return q.Stop && !q.Ready }},
	} {
		r.ev(400, 120, tc.faults, tc.status, 55)
		req := r.v.Request()
		if !tc.want(req) {
			t.Errorf("%s: %+v", tc.name, req)
		}
		if req.TargetVoltage != 400*physic.Volt || req.TargetCurrent != 120*physic.Ampere || req.MaxVoltage != 410*physic.Volt ||
			req.SoC != 55 || req.MaxCurrent != 0 {
			t.Errorf("%s: values %+v", tc.name, req)
		}
		if n := r.takeEvents(); n == 0 {
			t.Errorf("%s: no VehicleChanged", tc.name)
		}
	}
	if c := r.v.Capacity(); c != 40*meter.KiloWattHour {
		t.Errorf("capacity %v", c)
	}
	// The same frames again change nothing: no event.
	r.ev(400, 120, 0, evOpen, 55)
	if n := r.takeEvents(); n != 0 {
		t.Errorf("%d events for unchanged frames", n)
	}
	// Silence: gone after a second, seen at the next cycle.
	r.clk.Advance(1100 * time.Millisecond)
	if err := r.v.Tick(); err != nil {
		t.Fatal(err)
	}
	if req := r.v.Request(); req.Communicating {
		t.Errorf("after 1.1 s of silence: %+v", req)
	}
	if n := r.takeEvents(); n == 0 {
		t.Error("no VehicleChanged for the silence")
	}
	// A new EV: its first frames without permission are no stop.
	r.v.ResetSession()
	r.ev(380, 0, 0, evOpen, 20)
	if req := r.v.Request(); req.Stop || req.Ready || !req.Communicating {
		t.Errorf("new EV before permission: %+v", req)
	}
}

func TestChargerFrames(t *testing.T) {
	r := newRig(t)
	r.ev(400, 120, 0, evEnabled, 55)
	r.v.Report(hal.ChargerReport{Step: hal.DCCharging, PresentVoltage: 398 * physic.Volt, PresentCurrent: 118500 * physic.MilliAmpere,
		MaxVoltage: 500 * physic.Volt, MaxCurrent: 300 * physic.Ampere, Locked: true})
	if err := r.v.Tick(); err != nil {
		t.Fatal(err)
	}
	sent := r.bus.Sent()
	c108, c109 := sent[len(sent)-2], sent[len(sent)-1]
	// 500 V = 0x01F4, 300 A clamps to 255, threshold the EV's 410 V.
	if c108.ID != 0x108 || string(c108.Data) != string([]byte{1, 0xF4, 0x01, 0xFF, 0x9A, 0x01, 0, 0}) {
		t.Errorf("0x108 %#x % x", c108.ID, c108.Data)
	}
	// protocol 2, 398 V = 0x018E, 118 A, energizing and locked.
	if c109.ID != 0x109 || string(c109.Data) != string([]byte{2, 0x8E, 0x01, 118, 0, chEnergizing | chLocked, 0xFF, 0xFF}) {
		t.Errorf("0x109 %#x % x", c109.ID, c109.Data)
	}
	r.v.Report(hal.ChargerReport{Step: hal.DCPowerDown, Stop: true, Fault: true, MaxVoltage: 350 * physic.Volt})
	if err := r.v.Tick(); err != nil {
		t.Fatal(err)
	}
	sent = r.bus.Sent()
	if st := sent[len(sent)-1].Data[5]; st != chFault|chSysFault|chStop|chIncompat {
		t.Errorf("stop with fault, EV above the charger: status %08b", st)
	}
	if err := r.v.Halt(); err != nil {
		t.Fatal(err)
	}
	sent = r.bus.Sent()
	if st := sent[len(sent)-1].Data[5]; st&chStop == 0 {
		t.Errorf("Halt sent status %08b", st)
	}
}
