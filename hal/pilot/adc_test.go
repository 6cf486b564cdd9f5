package pilot_test

// The ADS1115 path runs periph's real ads1x15 driver against
// i2ctest.Playback (no I2C bus on this machine): the recorded bus traffic
// is what the chip would see, and Playback fails the test on any other.

import (
	"context"
	"testing"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/pilot"
	"github.com/evsed/evsed/hal/pilot/pilottest"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/devices/v3/ads1x15"
)

func TestADS1115Channel(t *testing.T) {
	// Front end: CP -12..+12 V onto 0..3.3 V, i.e. 1.65 V + CP * 1.65/12.
	// +6 V (state C) reaches the ADC as 2.475 V: raw 19800 at the 4.096 V
	// full scale.
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x48, W: []byte{0x01, 0xC3, 0xE3}}, // single shot, AIN0, ±4.096 V, 860 SPS
		{Addr: 0x48, W: []byte{0x00}, R: []byte{0x4D, 0x58}},
	}}
	dev, err := ads1x15.NewADS1115(bus, &ads1x15.Opts{I2cAddress: 0x48})
	if err != nil {
		t.Fatal(err)
	}
	pin, err := dev.PinForChannel(ads1x15.Channel0, 4096*physic.MilliVolt, 860*physic.Hertz, ads1x15.SaveEnergy)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := pilot.NewAnalog(pin, pilot.Scale(1650*physic.MilliVolt, 7_272_727))
	if err != nil {
		t.Fatal(err)
	}
	v, err := ch.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := v - 6*physic.Volt; d < -physic.MilliVolt || d > physic.MilliVolt {
		t.Fatalf("read %v, want 6 V within 1 mV", v)
	}
	if s := hal.StateForVoltage(v); s != hal.PilotC {
		t.Fatalf("state %v, want C", s)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDividerLine(t *testing.T) {
	d := pilot.Scale(1650*physic.MilliVolt, 7_272_727)
	cases := []struct {
		adc, want physic.ElectricPotential
	}{
		{3300 * physic.MilliVolt, 12 * physic.Volt},
		{1650 * physic.MilliVolt, 0},
		{0, -12 * physic.Volt},
	}
	for _, c := range cases {
		if got := d.Line(c.adc); got-c.want > physic.MilliVolt || c.want-got > physic.MilliVolt {
			t.Errorf("Line(%v) = %v, want %v", c.adc, got, c.want)
		}
	}
}

func TestProximity(t *testing.T) {
	// PP pulled up to 3.3 V through 330 Ω; the node reads
	// 3.3 V * R / (R + 330 Ω).
	node := func(r float64) physic.ElectricPotential {
		return physic.ElectricPotential(3.3 * r / (r + 330) * float64(physic.Volt))
	}
	cases := []struct {
		name string
		v    physic.ElectricPotential
		want physic.ElectricCurrent
	}{
		{"no cable (open)", 3300 * physic.MilliVolt, 0},
		{"1.5 kΩ: 13 A", node(1500), 13 * physic.Ampere},
		{"680 Ω: 20 A", node(680), 20 * physic.Ampere},
		{"220 Ω: 32 A", node(220), 32 * physic.Ampere},
		{"100 Ω: 63 A", node(100), 63 * physic.Ampere},
		{"1.5 kΩ +20 %: 13 A", node(1800), 13 * physic.Ampere},
		{"short: invalid", 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := pilot.NewProximity(pilottest.NewChannel(c.v), 3300*physic.MilliVolt, 330*physic.Ohm)
			if err != nil {
				t.Fatal(err)
			}
			a, err := p.Ampacity(context.Background())
			if err != nil || a != c.want {
				t.Fatalf("Ampacity = %v, %v; want %v", a, err, c.want)
			}
		})
	}
}
