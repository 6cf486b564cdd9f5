package dcpower

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter/can"
	"github.com/evsed/evsed/meter/can/cantest"
	"periph.io/x/conn/v3/physic"
)

// These tests work at frame level through cantest.Source: the kernels they
// run on need not have AF_CAN (SocketCAN), and a fake bus lets a test hand
// each frame to the receive loop and see every frame sent.

type rig struct {
	t      *testing.T
	clk    *clock.Fake
	bus    *cantest.Source
	g      *Group
	mu     sync.Mutex // guards faults
	faults []string
}

func newRig(t *testing.T, addrs ...int) *rig {
	t.Helper()
	set, err := Lookup("example")
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, clk: clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)), bus: cantest.NewSource()}
	r.g, err = New(Options{Set: set, Addresses: addrs, Bus: r.bus, Clock: r.clk, Logger: slog.New(slog.DiscardHandler),
		Fault: func(d string) { r.mu.Lock(); r.faults = append(r.faults, d); r.mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	// Run's first period sends every module its (off) command; wait for
	// it, so that it does not race the test's own commands.
	for len(r.bus.Sent()) < len(addrs) {
		time.Sleep(time.Millisecond)
	}
	return r
}

// status delivers a status frame of module a: voltage and current in 0.1
// steps, fault bits.
func (r *rig) status(a int, dv, da uint16, fault uint16) {
	r.t.Helper()
	f := can.Frame{ID: 0x680 | uint32(a), Data: []byte{byte(dv >> 8), byte(dv), byte(da >> 8), byte(da), byte(fault >> 8), byte(fault), 0, 0}}
	if err := r.bus.Deliver(f); err != nil {
		r.t.Fatal(err)
	}
}

// last returns the last command sent to each module.
func (r *rig) last() map[uint32][]byte {
	out := map[uint32][]byte{}
	for _, f := range r.bus.Sent() {
		out[f.ID] = f.Data
	}
	return out
}

func (r *rig) takeFaults() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.faults
	r.faults = nil
	return f
}

func TestGroupSharesTheSetpoint(t *testing.T) {
	r := newRig(t, 1, 2, 3)
	if lim := r.g.Limits(); lim != (hal.SupplyLimits{}) {
		t.Fatalf("limits before any module spoke: %+v", lim)
	}
	// Nothing online: a Set commands every module off.
	if err := r.g.Set(400*physic.Volt, 60*physic.Ampere); err != nil {
		t.Fatal(err)
	}
	for id, d := range r.last() {
		if d[4] != 0 {
			t.Errorf("module %#x commanded on while offline: % x", id, d)
		}
	}
	for a := 1; a <= 3; a++ {
		r.status(a, 4000, 0, 0)
	}
	want := hal.SupplyLimits{MinVoltage: 150 * physic.Volt, MaxVoltage: 1000 * physic.Volt, MaxCurrent: 150 * physic.Ampere, MaxPower: 90 * physic.KiloWatt}
	if lim := r.g.Limits(); lim != want {
		t.Errorf("limits %+v, want %+v", lim, want)
	}
	if err := r.g.Set(400*physic.Volt, 60*physic.Ampere); err != nil {
		t.Fatal(err)
	}
	cmds := r.last()
	for a := uint32(1); a <= 3; a++ {
		// 400.0 V = 4000 (0x0FA0), 20.0 A = 200 (0x00C8), on, the constant.
		if got, want := cmds[0x600|a], []byte{0x0F, 0xA0, 0x00, 0xC8, 1, 0, 0, 0xA5}; string(got) != string(want) {
			t.Errorf("module %d command % x, want % x", a, got, want)
		}
	}
	r.status(1, 4005, 201, 0)
	r.status(2, 4002, 199, 0)
	r.status(3, 3998, 200, 0)
	if v, i := r.g.Output(); v != 4005*physic.Volt/10 || i != 600*physic.Ampere/10 {
		t.Errorf("output %v %v, want 400.5 V 60 A", v, i)
	}
	if err := r.g.Off(); err != nil {
		t.Fatal(err)
	}
	for id, d := range r.last() {
		if d[4] != 0 || d[0] != 0 || d[2] != 0 {
			t.Errorf("module %#x after Off: % x", id, d)
		}
	}
	if f := r.takeFaults(); len(f) != 0 {
		t.Errorf("faults %v", f)
	}
}

func TestGroupLosesModules(t *testing.T) {
	r := newRig(t, 1, 2, 3)
	for a := 1; a <= 3; a++ {
		r.status(a, 4000, 100, 0)
	}
	if err := r.g.Set(400*physic.Volt, 90*physic.Ampere); err != nil {
		t.Fatal(err)
	}
	// Module 2 flags a fault: it drops out, the others take its share.
	r.status(2, 0, 0, 0x0004)
	if lim := r.g.Limits(); lim.MaxCurrent != 100*physic.Ampere {
		t.Errorf("limits with module 2 faulted: %+v", lim)
	}
	if err := r.g.Tick(); err != nil {
		t.Fatal(err)
	}
	cmds := r.last()
	if d := cmds[0x602]; d[4] != 0 {
		t.Errorf("faulted module commanded on: % x", d)
	}
	if d := cmds[0x601]; d[2] != 0x01 || d[3] != 0xC2 { // 45.0 A = 450
		t.Errorf("module 1 command % x, want 45 A", d)
	}
	if f := r.takeFaults(); len(f) != 1 || !strings.Contains(f[0], "module 2 fault") {
		t.Errorf("faults %v, want module 2's", f)
	}
	// Module 3 falls silent for longer than the set's 500 ms.
	r.clk.Advance(300 * time.Millisecond)
	r.status(1, 4000, 450, 0)
	r.clk.Advance(300 * time.Millisecond)
	if err := r.g.Tick(); err != nil {
		t.Fatal(err)
	}
	if f := r.takeFaults(); len(f) != 1 || !strings.Contains(f[0], "module 3 silent") {
		t.Errorf("faults %v, want module 3's silence", f)
	}
	if lim := r.g.Limits(); lim.MaxCurrent != 50*physic.Ampere {
		t.Errorf("limits with one module left: %+v", lim)
	}
	// Reported once, not at every tick.
	if err := r.g.Tick(); err != nil {
		t.Fatal(err)
	}
	if f := r.takeFaults(); len(f) != 0 {
		t.Errorf("faults reported again: %v", f)
	}
	// Frames of other identifiers and unknown modules change nothing.
	if err := r.bus.Deliver(can.Frame{ID: 0x685, Data: make([]byte, 8)}, can.Frame{ID: 0x123, Data: make([]byte, 8)},
		can.Frame{ID: 0x681, Data: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	if lim := r.g.Limits(); lim.MaxCurrent != 50*physic.Ampere {
		t.Errorf("limits after foreign frames: %+v", lim)
	}
}

func TestSendErrors(t *testing.T) {
	r := newRig(t, 1)
	r.bus.SetSendError(errors.New("bus off"))
	if err := r.g.Set(400*physic.Volt, physic.Ampere); err == nil || !strings.Contains(err.Error(), "bus off") {
		t.Errorf("Set on a failing bus = %v", err)
	}
}

func TestMessageSets(t *testing.T) {
	if _, err := shippedSets(); err != nil {
		t.Fatal(err)
	}
	if n := Names(); len(n) == 0 || n[0] != "example" {
		t.Fatalf("shipped sets %v", n)
	}
	base, _ := Lookup("example")
	for _, tc := range []struct {
		name   string
		mutate func(s *MessageSet)
	}{
		{"no name", func(s *MessageSet) { s.Name = "" }},
		{"timeout within the period", func(s *MessageSet) { s.TimeoutMS = 100 }},
		{"no ratings", func(s *MessageSet) { s.Module.MaxCurrent = 0 }},
		{"address bits in the id", func(s *MessageSet) { s.Command.ID = 0x601 }},
		{"11-bit id overflow", func(s *MessageSet) { s.Status.ID = 0x1000 }},
		{"no address bits", func(s *MessageSet) { s.Status.AddressMask = 0 }},
		{"length 9", func(s *MessageSet) { s.Command.Length = 9 }},
		{"unknown field", func(s *MessageSet) { s.Command.Fields[0].Name = "volts" }},
		{"field outside the frame", func(s *MessageSet) { s.Command.Fields[0].Byte = 7 }},
		{"size 3", func(s *MessageSet) { s.Command.Fields[0].Size = 3 }},
		{"overlap", func(s *MessageSet) { s.Command.Fields[1].Byte = 1 }},
		{"no scale", func(s *MessageSet) { s.Status.Fields[0].Scale = 0 }},
		{"fault without mask", func(s *MessageSet) { s.Status.Fields[2].Mask = 0 }},
		{"no current", func(s *MessageSet) { s.Status.Fields = s.Status.Fields[:1] }},
		{"same ids", func(s *MessageSet) { s.Status.ID = s.Command.ID }},
	} {
		s, _ := Lookup("example")
		tc.mutate(s)
		if err := s.Validate(); !errors.Is(err, ErrMessageSet) {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if err := base.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseMessageSet([]byte("name: x\nspeed: 3\n")); !errors.Is(err, ErrMessageSet) {
		t.Errorf("unknown key: %v", err)
	}
	// A vendor's file: 29-bit identifiers, little-endian signed current
	// with an offset, address in bits 8-15.
	vendor := `
name: vendor
extended: true
module: {min_voltage_v: 200, max_voltage_v: 750, max_current_a: 40, max_power_w: 20000}
command:
  id: 0x18010000
  address_shift: 8
  address_mask: 0xFF
  length: 8
  fields:
    - {name: voltage, byte: 0, size: 4, little: true, scale: 0.001}
    - {name: current, byte: 4, size: 2, little: true, signed: true, scale: 0.01, offset: -100}
    - {name: on, byte: 6, size: 1, on: 0x55, off: 0xAA}
status:
  id: 0x18020000
  address_shift: 8
  address_mask: 0xFF
  length: 8
  fields:
    - {name: voltage, byte: 0, size: 4, little: true, scale: 0.001}
    - {name: current, byte: 4, size: 2, little: true, signed: true, scale: 0.01, offset: -100}
`
	s, err := ParseMessageSet([]byte(vendor))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Command.field("current")
	data := make([]byte, 8)
	c.put(data, c.encode(25.5)) // (25.5 + 100) / 0.01 = 12550 = 0x3106
	if data[4] != 0x06 || data[5] != 0x31 || c.decode(data) != 25.5 {
		t.Errorf("current field % x decodes to %v", data, c.decode(data))
	}
	if id := s.Command.id(0x2A); id != 0x18012A00 {
		t.Errorf("command id %#x", id)
	}
	if a, ok := s.Status.address(0x18022A00); !ok || a != 0x2A {
		t.Errorf("status address %d %v", a, ok)
	}
	if _, ok := s.Status.address(0x18032A00); ok {
		t.Error("foreign id taken for a status")
	}
}
