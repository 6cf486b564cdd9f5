package pilot

import (
	"context"
	"fmt"

	"periph.io/x/conn/v3/analog"
	"periph.io/x/conn/v3/physic"
)

// Divider undoes the front end between the pilot line and the ADC input:
// the line's voltage is (adc - Offset) * Num / Den. A CP front end that maps
// -12..+12 V onto 0..3.3 V has Offset 1.65 V and Num/Den 24/3.3. The zero
// value is invalid; Scale builds one from a ratio.
type Divider struct {
	Offset physic.ElectricPotential
	Num    int64
	Den    int64
}

// Scale returns the divider with the given offset and a ratio given in
// millionths (7272727 for 7.272727 line volts per ADC volt), the resolution
// board files use.
func Scale(offset physic.ElectricPotential, ratioMicro int64) Divider {
	return Divider{Offset: offset, Num: ratioMicro, Den: 1_000_000}
}

// Line converts an ADC input voltage to the line's. Nano-volt arithmetic on
// int64 stays exact for ADC inputs up to ±9 V at ratios up to 1000.
func (d Divider) Line(adc physic.ElectricPotential) physic.ElectricPotential {
	return physic.ElectricPotential(int64(adc-d.Offset) * d.Num / d.Den)
}

// Analog is a Channel over any periph analog pin (an ADS1x15 channel, a
// board's own ADC) and a Divider.
type Analog struct {
	pin analog.PinADC
	div Divider
}

var _ Channel = (*Analog)(nil)

// NewAnalog reads pin through div.
func NewAnalog(pin analog.PinADC, div Divider) (*Analog, error) {
	if pin == nil || div.Den == 0 || div.Num == 0 {
		return nil, fmt.Errorf("pilot: analog channel needs a pin and a non-zero divider ratio")
	}
	return &Analog{pin: pin, div: div}, nil
}

// Read implements Channel. periph's analog reads take no context; ctx is
// checked before the conversion starts.
func (a *Analog) Read(ctx context.Context) (physic.ElectricPotential, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s, err := a.pin.Read()
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", a.pin, err)
	}
	return a.div.Line(s.V), nil
}

// String names the pin.
func (a *Analog) String() string { return a.pin.String() }
