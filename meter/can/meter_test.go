package can_test

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/meter/can"
	"github.com/evsed/evsed/meter/can/cantest"
	"periph.io/x/conn/v3/physic"
)

// This kernel has no AF_CAN (and CI machines rarely have vcan), so the
// Meter is tested through cantest.Source, a frame-level fake that
// implements can.FrameSource exactly as the SocketCAN adapter does.

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// ivt builds an IVT-S result frame with the default identifiers: result n
// (0 current .. 7 energy), status byte st, value v.
func ivt(n int, st byte, v int32) can.Frame {
	d := []byte{byte(n), st, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(d[2:], uint32(v))
	return can.Frame{ID: can.IVTSResultBase + uint32(n), Data: d}
}

const (
	rI, rU1, rU2, rU3, rT, rW, rAs, rWh = 0, 1, 2, 3, 4, 5, 6, 7
)

// all is one cycle of every result: 32 A, 400 V, 12.8 kW, 1234 Wh.
func all() []can.Frame {
	return []can.Frame{
		ivt(rI, 0, 32_000), ivt(rU1, 0, 400_000), ivt(rU2, 0, 12_000), ivt(rU3, 0, 0),
		ivt(rT, 0, 253), ivt(rW, 0, 12_800), ivt(rAs, 0, 3600), ivt(rWh, 0, 1234),
	}
}

// rig is a Meter running on a fake source in virtual time.
type rig struct {
	m     *can.Meter
	src   *cantest.Source
	clk   *clock.Fake
	errc  chan error
	close func()
}

func newRig(t *testing.T, io *can.IVTSOptions, o *can.Options) *rig {
	t.Helper()
	d, err := can.NewIVTS(io)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{src: cantest.NewSource(), clk: clock.NewFake(t0), errc: make(chan error, 1)}
	opts := can.Options{Name: "ivt-s@test"}
	if o != nil {
		opts = *o
	}
	opts.Clock = r.clk
	if r.m, err = can.New(r.src, d, &opts); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { r.errc <- r.m.Run(ctx) }()
	r.close = cancel
	t.Cleanup(func() {
		cancel()
		if err := <-r.errc; err != nil {
			t.Errorf("Run = %v after cancel, want nil", err)
		}
	})
	return r
}

func (r *rig) deliver(t *testing.T, frames ...can.Frame) {
	t.Helper()
	if err := r.src.Deliver(frames...); err != nil {
		t.Fatal(err)
	}
}

// step is one moment of a scenario: the clock moves by advance, then the
// frames arrive.
type step struct {
	advance time.Duration
	frames  []can.Frame
}

func TestMeterScenarios(t *testing.T) {
	full := meter.FieldEnergyImport | meter.FieldPower | meter.FieldCurrent | meter.FieldVoltage
	tests := []struct {
		name       string
		ivt        *can.IVTSOptions
		steps      []step
		wantFields meter.Field
		wantTime   time.Duration // of the reading, after t0
		wantErr    error         // errors.Is target; nil: success
		errHas     string
		check      func(t *testing.T, r meter.Reading)
	}{
		{
			name:       "one cycle of every result",
			steps:      []step{{0, all()}},
			wantFields: full,
			check: func(t *testing.T, r meter.Reading) {
				if r.EnergyImport != 1234*meter.WattHour || r.Power != 12800*physic.Watt ||
					r.Current[0] != 32*physic.Ampere || r.Voltage[0] != 400*physic.Volt || r.Phases != 1 {
					t.Errorf("reading %+v", r)
				}
			},
		},
		{
			name:    "nothing received",
			steps:   nil,
			wantErr: meter.ErrNoResponse,
			errHas:  "no Wh frame received",
		},
		{
			name:    "energy counter frame stops: stale reading reported",
			steps:   []step{{0, all()}, {90 * time.Millisecond, all()[:7]}, {90 * time.Millisecond, all()[:7]}, {90 * time.Millisecond, all()[:7]}, {90 * time.Millisecond, all()[:7]}},
			wantErr: meter.ErrNoResponse,
			errHas:  "stale reading reported",
		},
		{
			name:  "energy counter within 3 cycles is fresh",
			steps: []step{{0, all()}, {300 * time.Millisecond, nil}},
			// 300 ms on, the current (bound 100 ms) and voltage (180 ms) are
			// stale; power and energy (300 ms, bound inclusive) are not.
			wantFields: meter.FieldEnergyImport | meter.FieldPower,
			check: func(t *testing.T, r meter.Reading) {
				if r.Time != t0 {
					t.Errorf("Time %v, want the energy frame's receive time %v", r.Time, t0)
				}
			},
		},
		{
			name:    "energy counter one tick past 3 cycles",
			steps:   []step{{0, all()}, {300*time.Millisecond + time.Nanosecond, nil}},
			wantErr: meter.ErrNoResponse,
			errHas:  "stale reading reported",
		},
		{
			name: "missing current frame leaves the current out",
			// 150 ms on: the current (bound 100 ms) is stale, U1 (180 ms) is not.
			steps:      []step{{0, all()}, {150 * time.Millisecond, []can.Frame{ivt(rW, 0, 100), ivt(rWh, 0, 1235)}}},
			wantFields: meter.FieldEnergyImport | meter.FieldPower | meter.FieldVoltage,
			wantTime:   150 * time.Millisecond,
			check: func(t *testing.T, r meter.Reading) {
				if r.EnergyImport != 1235*meter.WattHour || r.Power != 100*physic.Watt {
					t.Errorf("reading %+v, want the latest values", r)
				}
			},
		},
		{
			name:       "U2 as output voltage",
			ivt:        &can.IVTSOptions{OutputVoltage: 2},
			steps:      []step{{0, all()}},
			wantFields: full,
			check: func(t *testing.T, r meter.Reading) {
				if r.Voltage[0] != 12*physic.Volt {
					t.Errorf("voltage %v, want U2's 12 V", r.Voltage[0])
				}
			},
		},
		{
			name:       "reversed shunt",
			ivt:        &can.IVTSOptions{Reversed: true},
			steps:      []step{{0, []can.Frame{ivt(rI, 0, -32_000), ivt(rW, 0, -12_800), ivt(rWh, 0, -1234)}}},
			wantFields: meter.FieldEnergyImport | meter.FieldPower | meter.FieldCurrent,
			check: func(t *testing.T, r meter.Reading) {
				if r.EnergyImport != 1234*meter.WattHour || r.Power != 12800*physic.Watt || r.Current[0] != 32*physic.Ampere {
					t.Errorf("reading %+v, want positive values", r)
				}
			},
		},
		{
			name:       "negative counter is implausible",
			steps:      []step{{0, []can.Frame{ivt(rW, 0, -12_800), ivt(rWh, 0, -1234)}}},
			wantErr:    meter.ErrImplausible,
			errHas:     "mounted reversed",
			wantFields: meter.FieldPower,
		},
		{
			name:    "system error on the energy counter",
			steps:   []step{{0, []can.Frame{ivt(rWh, 0x81, 1234)}}},
			wantErr: can.ErrStatus,
			errHas:  "system-error on Wh",
		},
		{
			name:    "channel error on the current",
			steps:   []step{{0, []can.Frame{ivt(rI, 0x20, 0), ivt(rWh, 0, 1234)}}},
			wantErr: can.ErrStatus,
			errHas:  "channel-error on I",
		},
		{
			name:       "error flag on a stale value does not matter",
			steps:      []step{{0, []can.Frame{ivt(rI, 0x40, 0)}}, {time.Second, []can.Frame{ivt(rWh, 0, 1234)}}},
			wantFields: meter.FieldEnergyImport,
			wantTime:   time.Second,
		},
		{
			name:       "error flag on an unused channel does not matter",
			steps:      []step{{0, []can.Frame{ivt(rU3, 0x20, 0), ivt(rWh, 0, 1234)}}},
			wantFields: meter.FieldEnergyImport,
		},
		{
			name:       "overcurrent flag is not an error",
			steps:      []step{{0, []can.Frame{ivt(rI, 0x10, 90_000), ivt(rWh, 0, 1234)}}},
			wantFields: meter.FieldEnergyImport | meter.FieldCurrent,
		},
		{
			name:       "malformed frame is dropped",
			steps:      []step{{0, []can.Frame{ivt(rWh, 0, 1234), {ID: 0x528, Data: []byte{0x07, 0, 0, 0}}}}},
			wantFields: meter.FieldEnergyImport,
			check: func(t *testing.T, r meter.Reading) {
				if r.EnergyImport != 1234*meter.WattHour {
					t.Errorf("energy %v, want the last good frame's", r.EnergyImport)
				}
			},
		},
		{
			name:       "other traffic is ignored",
			steps:      []step{{0, []can.Frame{ivt(rWh, 0, 1234), {ID: 0x100, Data: []byte{7, 0, 0, 0, 0, 0}}}}},
			wantFields: meter.FieldEnergyImport,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rg := newRig(t, tt.ivt, nil)
			for _, s := range tt.steps {
				rg.clk.Advance(s.advance)
				rg.deliver(t, s.frames...)
			}
			r, err := rg.m.Read(context.Background())
			if tt.wantErr == nil && err != nil {
				t.Fatalf("Read: %v", err)
			}
			if tt.wantErr != nil && (!errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.errHas)) {
				t.Fatalf("Read error %v, want %v with %q", err, tt.wantErr, tt.errHas)
			}
			if r.Fields != tt.wantFields {
				t.Errorf("Fields %b, want %b", r.Fields, tt.wantFields)
			}
			if tt.wantFields != 0 && !r.Time.Equal(t0.Add(tt.wantTime)) {
				t.Errorf("Time %v, want t0+%v", r.Time, tt.wantTime)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestMeterEnergyBackwards(t *testing.T) {
	rg := newRig(t, nil, nil)
	ctx := context.Background()
	rg.deliver(t, ivt(rWh, 0, 1000))
	if _, err := rg.m.Read(ctx); err != nil {
		t.Fatal(err)
	}
	rg.deliver(t, ivt(rWh, 0, 999), ivt(rW, 0, 5))
	r, err := rg.m.Read(ctx)
	if !errors.Is(err, meter.ErrImplausible) || !strings.Contains(err.Error(), "went back") {
		t.Fatalf("Read after the counter went back: %v, want ErrImplausible", err)
	}
	if r.Fields != meter.FieldPower || r.Power != 5*physic.Watt {
		t.Errorf("implausible reading %+v, want the power without the energy", r)
	}
	// The last good counter stays the reference: a recovery is accepted...
	rg.deliver(t, ivt(rWh, 0, 1000))
	if _, err := rg.m.Read(ctx); err != nil {
		t.Errorf("Read after recovery: %v", err)
	}
	// ...and a reset shunt needs a Rebase.
	rg.deliver(t, ivt(rWh, 0, 3))
	if _, err := rg.m.Read(ctx); !errors.Is(err, meter.ErrImplausible) {
		t.Errorf("Read after a reset: %v, want ErrImplausible", err)
	}
	rg.m.Rebase()
	if r, err := rg.m.Read(ctx); err != nil || r.EnergyImport != 3*meter.WattHour {
		t.Errorf("Read after Rebase = %v, %v; want 3 Wh", r.EnergyImport, err)
	}
}

func TestMeterStalenessOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    can.Options
		ivt     can.IVTSOptions
		age     time.Duration
		wantErr bool
	}{
		{"default bound 3 cycles", can.Options{}, can.IVTSOptions{}, 300 * time.Millisecond, false},
		{"default bound exceeded", can.Options{}, can.IVTSOptions{}, 301 * time.Millisecond, true},
		{"5 cycles", can.Options{StaleCycles: 5}, can.IVTSOptions{}, 500 * time.Millisecond, false},
		{"5 cycles exceeded", can.Options{StaleCycles: 5}, can.IVTSOptions{}, 501 * time.Millisecond, true},
		{"slow counter", can.Options{}, can.IVTSOptions{Cycles: [8]time.Duration{rWh: time.Second}}, 3 * time.Second, false},
		{"fast counter floored by MinStale", can.Options{}, can.IVTSOptions{Cycles: [8]time.Duration{rWh: 10 * time.Millisecond}}, 100 * time.Millisecond, false},
		{"fast counter without floor", can.Options{MinStale: -1}, can.IVTSOptions{Cycles: [8]time.Duration{rWh: 10 * time.Millisecond}}, 31 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rg := newRig(t, &tt.ivt, &tt.opts)
			rg.deliver(t, ivt(rWh, 0, 1))
			rg.clk.Advance(tt.age)
			_, err := rg.m.Read(context.Background())
			if gotErr := errors.Is(err, meter.ErrNoResponse); gotErr != tt.wantErr {
				t.Errorf("Read after %v: %v, want stale %v", tt.age, err, tt.wantErr)
			}
		})
	}
}

func TestMeterValues(t *testing.T) {
	rg := newRig(t, nil, nil)
	rg.deliver(t, all()...)
	rg.deliver(t, can.Frame{ID: 0x525, Data: []byte{0x04, 0x00, 0x00}}) // malformed
	rg.clk.Advance(150 * time.Millisecond)
	vals := rg.m.Values()
	if len(vals) != 8 {
		t.Fatalf("%d values, want 8", len(vals))
	}
	temp := vals[rT]
	if temp.Channel.Name != "T" || physic.Temperature(temp.Sample.Value) != physic.ZeroCelsius+25300*physic.MilliKelvin || !temp.Fresh {
		t.Errorf("temperature %+v", temp)
	}
	if cur := vals[rI]; cur.Fresh || !cur.Received.Equal(t0) {
		t.Errorf("current %+v: want stale, received at t0", cur)
	}
	if n := rg.m.BadFrames(); n != 1 {
		t.Errorf("BadFrames = %d, want 1", n)
	}
}

func TestMeterRunStopsOnSourceError(t *testing.T) {
	d, _ := can.NewIVTS(nil)
	src := cantest.NewSource()
	m, err := can.New(src, d, &can.Options{Name: "ivt-s@can9", Clock: clock.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- m.Run(context.Background()) }()
	down := errors.New("network is down")
	if err := src.Fail(down); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, down) || !strings.Contains(err.Error(), "ivt-s@can9") {
		t.Errorf("Run = %v, want the source's error with the meter's name", err)
	}
}

func TestMeterReadHonoursContext(t *testing.T) {
	rg := newRig(t, nil, nil)
	rg.deliver(t, ivt(rWh, 0, 1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := rg.m.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled ctx = %v", err)
	}
}

// noEnergy is a Decoder without an energy counter.
type noEnergy struct{}

func (noEnergy) Channels() []can.Channel {
	return []can.Channel{{Name: "I", Quantity: can.Current, Cycle: time.Second}}
}
func (noEnergy) IDs() []uint32                              { return []uint32{1} }
func (noEnergy) Decode(can.Frame) (can.Sample, bool, error) { return can.Sample{}, false, nil }

func TestNewErrors(t *testing.T) {
	if _, err := can.New(cantest.NewSource(), noEnergy{}, nil); !errors.Is(err, can.ErrConfig) {
		t.Errorf("New without an energy channel = %v, want ErrConfig", err)
	}
}
