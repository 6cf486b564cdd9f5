package can_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/meter/can"
	"github.com/evsed/evsed/meter/can/cantest"
	"periph.io/x/conn/v3/physic"
)

// Recorded IVT-S result frames, written out byte by byte as they appear on
// the bus, and what they must decode to.
func TestIVTSDecode(t *testing.T) {
	const zeroC = int64(physic.ZeroCelsius)
	tests := []struct {
		name   string
		opts   *can.IVTSOptions
		frame  can.Frame
		want   can.Sample
		ignore bool   // not the shunt's frame
		errHas string // malformed
	}{
		{name: "current positive", frame: can.Frame{ID: 0x521, Data: []byte{0x00, 0x03, 0x00, 0x00, 0x04, 0xD2}},
			want: can.Sample{Channel: 0, Value: 1234 * int64(physic.MilliAmpere), Seq: 3}},
		{name: "current negative, sign extended", frame: can.Frame{ID: 0x521, Data: []byte{0x00, 0x04, 0xFF, 0xFF, 0xFB, 0x2E}},
			want: can.Sample{Channel: 0, Value: -1234 * int64(physic.MilliAmpere), Seq: 4}},
		{name: "current minus one", frame: can.Frame{ID: 0x521, Data: []byte{0x00, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF}},
			want: can.Sample{Channel: 0, Value: -int64(physic.MilliAmpere), Seq: 15}},
		{name: "U1 400 V", frame: can.Frame{ID: 0x522, Data: []byte{0x01, 0x00, 0x00, 0x06, 0x1A, 0x80}},
			want: can.Sample{Channel: 1, Value: 400 * int64(physic.Volt)}},
		{name: "U3 with 8-byte frame", frame: can.Frame{ID: 0x524, Data: []byte{0x03, 0x01, 0x00, 0x00, 0x00, 0x0C, 0xAA, 0x55}},
			want: can.Sample{Channel: 3, Value: 12 * int64(physic.MilliVolt), Seq: 1}},
		{name: "temperature 25.3 C", frame: can.Frame{ID: 0x525, Data: []byte{0x04, 0x00, 0x00, 0x00, 0x00, 0xFD}},
			want: can.Sample{Channel: 4, Value: zeroC + 25_300_000_000}},
		{name: "temperature -12.5 C", frame: can.Frame{ID: 0x525, Data: []byte{0x04, 0x00, 0xFF, 0xFF, 0xFF, 0x83}},
			want: can.Sample{Channel: 4, Value: zeroC - 12_500_000_000}},
		{name: "power max int32", frame: can.Frame{ID: 0x526, Data: []byte{0x05, 0x00, 0x7F, 0xFF, 0xFF, 0xFF}},
			want: can.Sample{Channel: 5, Value: 2147483647 * int64(physic.Watt)}},
		{name: "power min int32", frame: can.Frame{ID: 0x526, Data: []byte{0x05, 0x00, 0x80, 0x00, 0x00, 0x00}},
			want: can.Sample{Channel: 5, Value: -2147483648 * int64(physic.Watt)}},
		{name: "charge 3600 As", frame: can.Frame{ID: 0x527, Data: []byte{0x06, 0x02, 0x00, 0x00, 0x0E, 0x10}},
			want: can.Sample{Channel: 6, Value: 3600 * int64(physic.Ampere), Seq: 2}},
		{name: "energy max int32", frame: can.Frame{ID: 0x528, Data: []byte{0x07, 0x00, 0x7F, 0xFF, 0xFF, 0xFF}},
			want: can.Sample{Channel: 7, Value: 2147483647 * 1000}},
		{name: "energy reversed, min int32 negates without overflow", opts: &can.IVTSOptions{Reversed: true},
			frame: can.Frame{ID: 0x528, Data: []byte{0x07, 0x00, 0x80, 0x00, 0x00, 0x00}},
			want:  can.Sample{Channel: 7, Value: 2147483648 * 1000}},
		{name: "current reversed", opts: &can.IVTSOptions{Reversed: true},
			frame: can.Frame{ID: 0x521, Data: []byte{0x00, 0x00, 0x00, 0x00, 0x04, 0xD2}},
			want:  can.Sample{Channel: 0, Value: -1234 * int64(physic.MilliAmpere)}},
		{name: "voltage not reversed", opts: &can.IVTSOptions{Reversed: true},
			frame: can.Frame{ID: 0x522, Data: []byte{0x01, 0x00, 0x00, 0x06, 0x1A, 0x80}},
			want:  can.Sample{Channel: 1, Value: 400 * int64(physic.Volt)}},
		{name: "all status bits", frame: can.Frame{ID: 0x528, Data: []byte{0x07, 0xF5, 0x00, 0x00, 0x00, 0x01}},
			want: can.Sample{Channel: 7, Value: 1000, Seq: 5,
				Status: can.StatusOvercurrent | can.StatusChannelError | can.StatusMeasurementError | can.StatusSystemError}},
		{name: "overcurrent only", frame: can.Frame{ID: 0x521, Data: []byte{0x00, 0x1A, 0x00, 0x00, 0x00, 0x00}},
			want: can.Sample{Channel: 0, Seq: 10, Status: can.StatusOvercurrent}},
		{name: "system error only", frame: can.Frame{ID: 0x526, Data: []byte{0x05, 0x80, 0x00, 0x00, 0x00, 0x00}},
			want: can.Sample{Channel: 5, Status: can.StatusSystemError}},
		{name: "moved base", opts: &can.IVTSOptions{ResultBase: 0x600},
			frame: can.Frame{ID: 0x607, Data: []byte{0x07, 0x00, 0x00, 0x00, 0x00, 0x2A}},
			want:  can.Sample{Channel: 7, Value: 42_000}},
		{name: "below the block", frame: can.Frame{ID: 0x520, Data: []byte{0x00, 0, 0, 0, 0, 0}}, ignore: true},
		{name: "above the block", frame: can.Frame{ID: 0x529, Data: []byte{0x08, 0, 0, 0, 0, 0}}, ignore: true},
		{name: "default id with moved base", opts: &can.IVTSOptions{ResultBase: 0x600},
			frame: can.Frame{ID: 0x521, Data: []byte{0x00, 0, 0, 0, 0, 1}}, ignore: true},
		{name: "extended frame", frame: can.Frame{ID: 0x521, Extended: true, Data: []byte{0x00, 0, 0, 0, 0, 1}}, ignore: true},
		{name: "remote frame", frame: can.Frame{ID: 0x521, Remote: true}, ignore: true},
		{name: "short frame", frame: can.Frame{ID: 0x528, Data: []byte{0x07, 0x00, 0x00, 0x00, 0x01}}, errHas: "5 data bytes"},
		{name: "mux mismatch", frame: can.Frame{ID: 0x528, Data: []byte{0x06, 0x00, 0x00, 0x00, 0x00, 0x01}}, errHas: "mux 0x06"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := can.NewIVTS(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got, ok, err := d.Decode(tt.frame)
			switch {
			case tt.ignore:
				if ok || err != nil {
					t.Fatalf("Decode = %+v, %v, %v; want the frame ignored", got, ok, err)
				}
			case tt.errHas != "":
				if !ok || err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("Decode = %v, %v; want an error containing %q", ok, err, tt.errHas)
				}
			default:
				if !ok || err != nil {
					t.Fatalf("Decode = %v, %v", ok, err)
				}
				if got != tt.want {
					t.Errorf("Decode = %+v, want %+v", got, tt.want)
				}
			}
		})
	}
}

func TestIVTSChannels(t *testing.T) {
	d, err := can.NewIVTS(&can.IVTSOptions{OutputVoltage: 2, Cycles: [8]time.Duration{7: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range d.Channels() {
		got = append(got, c.Name+":"+c.Quantity.String()+":"+c.Cycle.String())
	}
	want := []string{"I:current:20ms", "U1:aux-voltage:60ms", "U2:voltage:60ms", "U3:aux-voltage:60ms",
		"T:temperature:100ms", "W:power:100ms", "As:charge:100ms", "Wh:energy:1s"}
	if !slices.Equal(got, want) {
		t.Errorf("Channels = %v, want %v", got, want)
	}
	if ids := d.IDs(); !slices.Equal(ids, []uint32{0x521, 0x522, 0x523, 0x524, 0x525, 0x526, 0x527, 0x528}) {
		t.Errorf("IDs = %#x", ids)
	}
}

func TestNewIVTSErrors(t *testing.T) {
	tests := []struct {
		name string
		opts can.IVTSOptions
	}{
		{"output voltage U4", can.IVTSOptions{OutputVoltage: 4}},
		{"output voltage negative", can.IVTSOptions{OutputVoltage: -1}},
		{"results past 11 bits", can.IVTSOptions{ResultBase: 0x7F9}},
		{"command id past 11 bits", can.IVTSOptions{CommandID: 0x800}},
		{"command id among results", can.IVTSOptions{CommandID: 0x525}},
		{"negative cycle", can.IVTSOptions{Cycles: [8]time.Duration{3: -time.Millisecond}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := can.NewIVTS(&tt.opts); !errors.Is(err, can.ErrConfig) {
				t.Errorf("can.NewIVTS = %v, want ErrConfig", err)
			}
		})
	}
	if _, err := can.NewIVTS(&can.IVTSOptions{ResultBase: 0x7F8}); err != nil {
		t.Errorf("highest base 0x7F8: %v", err)
	}
}

func TestIVTSSetMode(t *testing.T) {
	tests := []struct {
		name string
		opts *can.IVTSOptions
		run  bool
		want can.Frame
	}{
		{"run", nil, true, can.Frame{ID: 0x411, Data: []byte{0x34, 0x01, 0x01, 0, 0, 0, 0, 0}}},
		{"stop", nil, false, can.Frame{ID: 0x411, Data: []byte{0x34, 0x00, 0x01, 0, 0, 0, 0, 0}}},
		{"moved command id", &can.IVTSOptions{CommandID: 0x412}, true, can.Frame{ID: 0x412, Data: []byte{0x34, 0x01, 0x01, 0, 0, 0, 0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := can.NewIVTS(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			src := cantest.NewSource()
			if err := d.SetMode(src, tt.run); err != nil {
				t.Fatal(err)
			}
			sent := src.Sent()
			if len(sent) != 1 || sent[0].ID != tt.want.ID || !slices.Equal(sent[0].Data, tt.want.Data) {
				t.Errorf("sent %+v, want %+v", sent, tt.want)
			}
		})
	}
	d, _ := can.NewIVTS(nil)
	src := cantest.NewSource()
	boom := errors.New("tx queue full")
	src.SetSendError(boom)
	if err := d.SetMode(src, true); !errors.Is(err, boom) {
		t.Errorf("SetMode with a failing send = %v, want %v", err, boom)
	}
}

func TestStatusString(t *testing.T) {
	tests := []struct {
		s    can.Status
		want string
	}{
		{0, "ok"},
		{can.StatusOvercurrent, "overcurrent"},
		{can.StatusChannelError | can.StatusSystemError, "channel-error|system-error"},
		{can.StatusMeasurementError | 0x40, "measurement-error|0x40"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("Status(%#x).String() = %q, want %q", uint8(tt.s), got, tt.want)
		}
	}
}

func TestLookup(t *testing.T) {
	m, err := can.Lookup("ivt-s")
	if err != nil {
		t.Fatal(err)
	}
	d, err := m.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := can.New(cantest.NewSource(), d, nil); err != nil {
		t.Errorf("shipped model does not make a Meter: %v", err)
	}
	if _, err := can.Lookup("nope"); !errors.Is(err, can.ErrUnknownModel) || !strings.Contains(err.Error(), "ivt-s") {
		t.Errorf("can.Lookup(nope) = %v, want can.ErrUnknownModel listing ivt-s", err)
	}
}
