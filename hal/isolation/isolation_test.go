package isolation

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter/modbus"
	mb "github.com/simonvetter/modbus"
	"periph.io/x/conn/v3/physic"
)

// device is a simulated ISOMETER behind a real Modbus TCP server
// (simonvetter/modbus's, as the meter/modbus tests use).
type device struct {
	mu     sync.Mutex // guards regs and silent
	regs   map[uint16]uint16
	silent bool
}

func (d *device) HandleCoils(*mb.CoilsRequest) ([]bool, error) { return nil, mb.ErrIllegalFunction }
func (d *device) HandleDiscreteInputs(*mb.DiscreteInputsRequest) ([]bool, error) {
	return nil, mb.ErrIllegalFunction
}
func (d *device) HandleInputRegisters(*mb.InputRegistersRequest) ([]uint16, error) {
	return nil, mb.ErrIllegalFunction // the ISOMETER's values are holding registers
}
func (d *device) HandleHoldingRegisters(req *mb.HoldingRegistersRequest) ([]uint16, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if req.IsWrite || req.UnitId != 3 {
		return nil, mb.ErrIllegalFunction
	}
	if d.silent {
		return nil, mb.ErrGWTargetFailedToRespond
	}
	out := make([]uint16, req.Quantity)
	for i := range out {
		out[i] = d.regs[req.Addr+uint16(i)]
	}
	return out, nil
}

// channel sets channel 1: the resistance as a float32 (high word first),
// the alarm and test type byte and the range and unit byte.
func (d *device) channel(ohms float32, att, ru uint8) {
	d.mu.Lock()
	defer d.mu.Unlock()
	bits := math.Float32bits(ohms)
	d.regs = map[uint16]uint16{1000: uint16(bits >> 16), 1001: uint16(bits), 1002: uint16(att)<<8 | uint16(ru), 1003: 71}
}

func serve(t *testing.T, d *device) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv, err := mb.NewServer(&mb.ServerConfiguration{URL: "tcp://" + addr, MaxClients: 2}, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	return "tcp://" + addr
}

type events struct {
	mu sync.Mutex
	l  []hal.Event
}

func (e *events) sink(ev hal.Event) { e.mu.Lock(); e.l = append(e.l, ev); e.mu.Unlock() }
func (e *events) take() []hal.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.l
	e.l = nil
	return l
}

const ohmUnit = 0x02 // R&U: unit ohm, actual value

func TestBenderChannel(t *testing.T) {
	d := &device{}
	bus, err := modbus.NewBus(serve(t, d), &modbus.Options{Timeout: time.Second, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	clk := clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	model, err := Lookup("bender-iso")
	if err != nil {
		t.Fatal(err)
	}
	ev := &events{}
	m, err := New(Options{Bus: bus, Unit: 3, Model: model, Connector: 1, Sink: ev.sink, Clock: clk, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		ohms    float32
		att, ru uint8
		valid   bool
		want    physic.ElectricResistance
		events  []hal.EventKind
	}{
		{"healthy", 1.5e6, 0, ohmUnit, true, 1500 * physic.KiloOhm, nil},
		{"prewarning is no alarm", 400e3, 1, ohmUnit, true, 400 * physic.KiloOhm, nil},
		{"alarm", 40e3, 5, ohmUnit, true, 40 * physic.KiloOhm, []hal.EventKind{hal.IsolationAlarm}},
		{"alarm goes on: no second event", 35e3, 5, ohmUnit, true, 35 * physic.KiloOhm, nil},
		{"alarm ends", 2e6, 0, ohmUnit, true, 2 * physic.MegaOhm, []hal.EventKind{hal.FaultCleared}},
		{"value above the range is valid", 50e6, 0, 0x80 | ohmUnit, true, 50 * physic.MegaOhm, nil},
		{"invalid value", 0, 0, 0xC0 | ohmUnit, false, 0, nil},
		{"device error", 1e6, 2, ohmUnit, false, 0, nil},
		{"not a number", float32(math.NaN()), 0, ohmUnit, false, 0, nil},
	} {
		d.channel(tc.ohms, tc.att, tc.ru)
		clk.Advance(time.Second)
		if err := m.Poll(ctx); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		r := m.Reading()
		if r.Valid != tc.valid || r.Resistance != tc.want || !r.At.Equal(clk.Now()) {
			t.Errorf("%s: reading %+v, want valid %v %v at %v", tc.name, r, tc.valid, tc.want, clk.Now())
		}
		var kinds []hal.EventKind
		for _, e := range ev.take() {
			kinds = append(kinds, e.Kind)
			if e.Connector != 1 || e.Kind == hal.FaultCleared && e.Cleared != hal.IsolationAlarm {
				t.Errorf("%s: event %+v", tc.name, e)
			}
		}
		if len(kinds) != len(tc.events) || len(kinds) > 0 && kinds[0] != tc.events[0] {
			t.Errorf("%s: events %v, want %v", tc.name, kinds, tc.events)
		}
	}

	// A device that stops answering: the last value holds for three polls,
	// then it is no longer valid.
	d.channel(1e6, 0, ohmUnit)
	if err := m.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	d.silent = true
	d.mu.Unlock()
	clk.Advance(2 * time.Second)
	if err := m.Poll(ctx); err == nil {
		t.Fatal("poll of a silent device succeeded")
	}
	if !m.Reading().Valid {
		t.Error("reading invalid 2 s after the last answer")
	}
	clk.Advance(1500 * time.Millisecond)
	if m.Reading().Valid {
		t.Error("reading still valid 3.5 s after the last answer")
	}

	// The unit is the monitor's.
	if _, err := New(Options{Bus: bus, Unit: 3, Model: model}); !errors.Is(err, modbus.ErrUnitInUse) {
		t.Errorf("second monitor on unit 3: %v", err)
	}
}

func TestModelsValidate(t *testing.T) {
	for _, n := range Names() {
		m, err := Lookup(n)
		if err != nil || m.Validate() != nil || m.Title == "" {
			t.Errorf("%s: %v %v", n, err, m.Validate())
		}
	}
	if _, err := Lookup("nosuch"); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("Lookup(nosuch) = %v", err)
	}
	for _, mutate := range []func(m *Model){
		func(m *Model) { m.Name = "" },
		func(m *Model) { m.Function = "coil" },
		func(m *Model) { m.Resistance.Words = 0 },
		func(m *Model) { m.Resistance.Type = modbus.Int64 },
		func(m *Model) { m.Resistance.ValueWord = 3 },
		func(m *Model) { m.Resistance.Scale = 0 },
		func(m *Model) { m.Resistance.Alarm.Word = 9 },
		func(m *Model) { m.Poll = -time.Second },
	} {
		m := *benderISO
		mutate(&m)
		if err := m.Validate(); !errors.Is(err, ErrModel) {
			t.Errorf("mutated model %+v accepted", m)
		}
	}
}
