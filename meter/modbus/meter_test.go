package modbus

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// TestModelsOverTCP reads every shipped model from a real Modbus TCP server
// on loopback whose registers hold truth(model) encoded per the model.
func TestModelsOverTCP(t *testing.T) {
	s := newSim()
	url := serveTCP(t, s)
	b, err := NewBus(url, &Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i, name := range Names() {
		t.Run(name, func(t *testing.T) {
			m, _ := Lookup(name)
			unit := i + 1
			s.load(t, uint8(unit), m, truth(m))
			mt, err := NewMeter(b, m, unit, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := mt.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := sameReading(got, truth(m)); err != nil {
				t.Error(err)
			}
			if n, want := s.requests(uint8(unit)), len(plan(m)); n != want {
				t.Errorf("%d requests per Read, want %d", n, want)
			}
		})
	}
}

// TestModelsOverSerial reads every shipped model over a pseudo-terminal
// pair, a real serial device to the Modbus client, with an RTU slave on the
// master side; it also counts the frames and bytes on the line.
func TestModelsOverSerial(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			s := newSim()
			url, rs := tr.serve(t, s)
			b, err := NewBus(url, &Options{Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			for i, name := range Names() {
				t.Run(name, func(t *testing.T) {
					m, _ := Lookup(name)
					unit := i + 1
					s.load(t, uint8(unit), m, truth(m))
					mt, err := NewMeter(b, m, unit, nil)
					if err != nil {
						t.Fatal(err)
					}
					rs.reset()
					got, err := mt.Read(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					if err := sameReading(got, truth(m)); err != nil {
						t.Error(err)
					}
					frames, bytes := rs.counts()
					wantBytes, _ := wireBytes(plan(m))
					if frames != len(plan(m)) || bytes != wantBytes {
						t.Errorf("%d frames, %d bytes on the line; want %d, %d", frames, bytes, len(plan(m)), wantBytes)
					}
				})
			}
		})
	}
}

// transports are the RTU links the serial tests run over.
var transports = []struct {
	name  string
	serve func(testing.TB, *sim) (string, *rtuServer)
}{
	{"rtu pty", servePTY},
	{"rtuovertcp", serveRTUOverTCP},
}

// TestSilentMeter puts two meters on one RTU bus, one of which stops
// answering: the other is read every round, the silent one costs exactly
// Attempts requests per round, reports ErrMissed and then ErrNoResponse from
// the FailAfter-th round on, and recovers on its next answer.
func TestSilentMeter(t *testing.T) {
	const attempts, failAfter, rounds = 2, 3, 4
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			s := newSim()
			url, _ := tr.serve(t, s)
			// The timeout is real time inside the Modbus client; short, so
			// the test is quick. Nothing below asserts a duration.
			b, err := NewBus(url, &Options{Timeout: 100 * time.Millisecond, Attempts: attempts})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			good, silent := newTestMeter(t, b, s, 1, sdm630, failAfter), newTestMeter(t, b, s, 2, em340, failAfter)
			ctx := context.Background()
			if _, err := silent.Read(ctx); err != nil {
				t.Fatalf("before going silent: %v", err)
			}
			s.setSilent(2, true)
			for round := 1; round <= rounds; round++ {
				if _, err := good.Read(ctx); err != nil {
					t.Fatalf("round %d: the answering meter failed: %v", round, err)
				}
				before := s.requests(2)
				_, err := silent.Read(ctx)
				if n := s.requests(2) - before; n != attempts {
					t.Errorf("round %d: silent meter got %d requests, want %d (timeout × attempts)", round, n, attempts)
				}
				wantNoResponse := round >= failAfter
				if errors.Is(err, meter.ErrNoResponse) != wantNoResponse || errors.Is(err, ErrMissed) == wantNoResponse {
					t.Errorf("round %d: error %v, want ErrNoResponse %v", round, err, wantNoResponse)
				}
				if silent.Healthy() == wantNoResponse || silent.Failures() != round {
					t.Errorf("round %d: healthy %v, failures %d", round, silent.Healthy(), silent.Failures())
				}
			}
			if !good.Healthy() || good.Failures() != 0 {
				t.Errorf("answering meter: healthy %v, failures %d", good.Healthy(), good.Failures())
			}
			s.setSilent(2, false)
			got, err := silent.Read(ctx)
			if err != nil {
				t.Fatalf("after answering again: %v", err)
			}
			if err := sameReading(got, truth(em340)); err != nil {
				t.Error(err)
			}
			if !silent.Healthy() || silent.Failures() != 0 {
				t.Errorf("after recovery: healthy %v, failures %d", silent.Healthy(), silent.Failures())
			}
		})
	}
}

func newTestMeter(t *testing.T, b *Bus, s *sim, unit int, m *Model, failAfter int) *Meter {
	t.Helper()
	s.load(t, uint8(unit), m, truth(m))
	mt, err := NewMeter(b, m, unit, &MeterOptions{FailAfter: failAfter})
	if err != nil {
		t.Fatal(err)
	}
	return mt
}

// TestGatewaySilentUnit: behind a Modbus TCP gateway a silent meter shows
// as a "target failed to respond" exception, which counts as no answer.
func TestGatewaySilentUnit(t *testing.T) {
	s := newSim()
	b, err := NewBus(serveTCP(t, s), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mt := newTestMeter(t, b, s, 7, abbB23, 1)
	s.setSilent(7, true)
	if _, err := mt.Read(context.Background()); !errors.Is(err, meter.ErrNoResponse) {
		t.Fatalf("Read = %v, want ErrNoResponse", err)
	}
	if mt.Healthy() {
		t.Error("healthy after FailAfter misses")
	}
}

// TestEnergySanity steps a meter's import register through a scenario in
// virtual time: (time offset since the last step, register, expected).
func TestEnergySanity(t *testing.T) {
	s := newSim()
	fake := clock.NewFake(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	b, err := NewBus(serveTCP(t, s), &Options{Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mt, err := NewMeter(b, abbB23, 1, &MeterOptions{MaxPower: 22 * physic.KiloWatt})
	if err != nil {
		t.Fatal(err)
	}
	kWh := func(v float64) meter.Energy { return meter.EnergyFromWh(v * 1000) }
	// At 22 kW × 1.5, one minute allows 0.55 kWh (+ one 0.01 kWh step).
	for _, step := range []struct {
		name     string
		after    time.Duration
		register meter.Energy
		wantBad  bool
		wantKept meter.Energy // last good import after the step
	}{
		{"first reading is the baseline", 0, kWh(1000), false, kWh(1000)},
		{"0.5 kWh in a minute", time.Minute, kWh(1000.5), false, kWh(1000.5)},
		{"backwards", time.Minute, kWh(1000.4), true, kWh(1000.5)},
		{"back to the last good value", time.Minute, kWh(1000.5), false, kWh(1000.5)},
		{"jump of 9.5 kWh in a minute", time.Minute, kWh(1010), true, kWh(1000.5)},
		{"compared with the kept value, not the jump", time.Minute, kWh(1000.6), false, kWh(1000.6)},
		{"same jump, slow enough after half an hour", 30 * time.Minute, kWh(1010), false, kWh(1010)},
		{"unchanged", time.Second, kWh(1010), false, kWh(1010)},
		{"a step just over the limit", time.Minute, kWh(1010.57), true, kWh(1010)},
		{"a step just under the limit", 0, kWh(1010.55), false, kWh(1010.55)},
	} {
		fake.Advance(step.after)
		r := truth(abbB23)
		r.EnergyImport = step.register
		s.load(t, 1, abbB23, r)
		got, err := mt.Read(context.Background())
		if errors.Is(err, meter.ErrImplausible) != step.wantBad {
			t.Fatalf("%s: Read error %v, want implausible %v", step.name, err, step.wantBad)
		}
		if step.wantBad {
			if got.Fields.Has(meter.FieldEnergyImport) || !got.Fields.Has(meter.FieldEnergyExport|meter.FieldPower) {
				t.Errorf("%s: fields %b: want import cleared, export and power kept", step.name, got.Fields)
			}
		} else if got.EnergyImport != step.register {
			t.Errorf("%s: import %v, want %v", step.name, got.EnergyImport, step.register)
		}
		if kept := mt.marks[0].value; kept != step.wantKept {
			t.Errorf("%s: last good import %v, want %v", step.name, kept, step.wantKept)
		}
		if !got.Time.Equal(fake.Now()) {
			t.Errorf("%s: reading time %v, want the injected clock's %v", step.name, got.Time, fake.Now())
		}
	}
	// After a meter swap, Rebase accepts a lower register.
	mt.Rebase()
	r := truth(abbB23)
	r.EnergyImport = kWh(3)
	s.load(t, 1, abbB23, r)
	if _, err := mt.Read(context.Background()); err != nil {
		t.Errorf("after Rebase: %v", err)
	}
}

func TestNewBus(t *testing.T) {
	for _, tc := range []struct {
		url      string
		wantName string
		wantErr  bool
	}{
		{"rtu:///dev/ttyUSB0?baud=9600&parity=N&stop=1", "rtu:/dev/ttyUSB0", false},
		{"rtu:///dev/ttyAMA0?baud=19200&parity=E&data=8", "rtu:/dev/ttyAMA0", false},
		{"tcp://192.0.2.1:502", "tcp:192.0.2.1:502", false},
		{"tcp://meter.local", "tcp:meter.local:502", false},
		{"rtuovertcp://192.0.2.7:8899", "rtuovertcp:192.0.2.7:8899", false},
		{"rtu://dev/ttyUSB0", "", true},
		{"rtu:///dev/ttyUSB0?baud=fast", "", true},
		{"rtu:///dev/ttyUSB0?parity=X", "", true},
		{"rtu:///dev/ttyUSB0?stop=3", "", true},
		{"rtu:///dev/ttyUSB0?bits=8", "", true},
		{"tcp://192.0.2.1:502?baud=9600", "", true},
		{"tcp:///x", "", true},
		{"udp://192.0.2.1:502", "", true},
		{"/dev/ttyUSB0", "", true},
	} {
		b, err := NewBus(tc.url, nil)
		if tc.wantErr {
			if !errors.Is(err, ErrURL) {
				t.Errorf("NewBus(%q) = %v, want ErrURL", tc.url, err)
			}
			continue
		}
		if err != nil || b.String() != tc.wantName {
			t.Errorf("NewBus(%q) = %v, %v; want %s", tc.url, b, err, tc.wantName)
		}
	}
}

func TestNewMeterUnits(t *testing.T) {
	rtu, _ := NewBus("rtu:///dev/null", nil)
	tcp, _ := NewBus("tcp://127.0.0.1:1", nil)
	for _, tc := range []struct {
		bus  *Bus
		unit int
		ok   bool
	}{
		{rtu, 1, true}, {rtu, 247, true}, {rtu, 0, false}, {rtu, 248, false},
		{tcp, 0, true}, {tcp, 255, true}, {tcp, 256, false}, {tcp, -1, false},
	} {
		_, err := NewMeter(tc.bus, sdm630, tc.unit, nil)
		if (err == nil) != tc.ok {
			t.Errorf("NewMeter(%s, unit %d) = %v, want ok %v", tc.bus, tc.unit, err, tc.ok)
		}
	}
	if _, err := NewMeter(rtu, sdm120, 1, nil); !errors.Is(err, ErrUnitInUse) {
		t.Errorf("second meter at unit 1: %v, want ErrUnitInUse", err)
	}
	if m, _ := NewMeter(rtu, sdm120, 2, nil); m.String() != "sdm120@rtu:/dev/null#2" {
		t.Errorf("String = %q", m)
	}
}

func TestReadOnceAndFormat(t *testing.T) {
	s := newSim()
	url := serveTCP(t, s)
	s.load(t, 3, em340, truth(em340))
	r, err := ReadOnce(context.Background(), url, "em340", 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameReading(r, truth(em340)); err != nil {
		t.Error(err)
	}
	out := Format(r)
	for _, want := range []string{
		"energy import  12345.600 kWh\n",
		"energy export  1.200 kWh\n",
		"power          2980.6 W\n",
		"power/phase    L1 2300.5 W  L2 2180.4 W  L3 -1500.3 W\n",
		"voltage        L1 230.1 V  L2 231.2 V  L3 229.8 V\n",
		"current        L1 10.25 A  L2 9.5 A  L3 11.75 A\n",
		"frequency      50.1 Hz\n",
		"power factor   0.987\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Format output lacks %q:\n%s", want, out)
		}
	}
	if _, err := ReadOnce(context.Background(), url, "em340", 9, &Options{Timeout: 100 * time.Millisecond, Attempts: 1}); !errors.Is(err, meter.ErrNoResponse) {
		t.Errorf("absent unit: %v, want ErrNoResponse", err)
	}
	if _, err := ReadOnce(context.Background(), url, "nope", 3, nil); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("unknown model: %v", err)
	}
}

func TestDecimal(t *testing.T) {
	for _, tc := range []struct {
		e    meter.Energy
		want string
	}{
		{0, "0.000 kWh"},
		{12345678 * meter.WattHour, "12345.678 kWh"},
		{1, "0.000001 kWh"},
		{-1500 * meter.WattHour, "-1.500 kWh"},
		{1234567, "1.234567 kWh"},
	} {
		if got := decimal(int64(tc.e), int64(meter.KiloWattHour), 3) + " kWh"; got != tc.want {
			t.Errorf("decimal(%d) = %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestContextCancelled(t *testing.T) {
	s := newSim()
	b, err := NewBus(serveTCP(t, s), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mt := newTestMeter(t, b, s, 1, sdm630, 1)
	// Hold the bus as another meter's request would, so Read waits.
	b.turn <- struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = mt.Read(ctx)
	<-b.turn
	if !errors.Is(err, context.Canceled) || mt.Failures() != 0 {
		t.Errorf("Read = %v with failures %d, want context.Canceled and no failure counted", err, mt.Failures())
	}
}

// TestFrameDelay checks, in virtual time, that a request waits FrameDelay
// after the previous exchange before it goes on the wire.
func TestFrameDelay(t *testing.T) {
	s := newSim()
	fake := clock.NewFake(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	b, err := NewBus(serveTCP(t, s), &Options{FrameDelay: 50 * time.Millisecond, Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mt := newTestMeter(t, b, s, 1, sdm630, 1)
	if _, err := mt.Read(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := mt.Read(context.Background())
		done <- err
	}()
	for fake.Pending() == 0 {
		time.Sleep(time.Millisecond) // wait for the second Read to arm its delay
	}
	if n := s.requests(1); n != 1 {
		t.Fatalf("%d requests before the frame delay ran out, want 1", n)
	}
	fake.Advance(49 * time.Millisecond)
	if fake.Pending() != 1 || s.requests(1) != 1 {
		t.Fatalf("request sent before the frame delay ran out")
	}
	fake.Advance(time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := s.requests(1); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}
