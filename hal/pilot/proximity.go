package pilot

import (
	"context"
	"errors"
	"fmt"

	"periph.io/x/conn/v3/physic"
)

// Cable ampacities coded by the PP resistor (IEC 61851-1 annex B, IEC
// 62196-2), with the resistance bands evsed accepts: the geometric means
// between neighbouring nominal values, so that a ±30 % resistor still reads
// right. Outside the outer bands (open: no cable; near short) the cable is
// invalid.
var ppBands = []struct {
	upTo physic.ElectricResistance // upper limit of the band
	amp  physic.ElectricCurrent
}{
	{50 * physic.Ohm, 0},                    // short: invalid
	{150 * physic.Ohm, 63 * physic.Ampere},  // 100 Ω
	{390 * physic.Ohm, 32 * physic.Ampere},  // 220 Ω
	{1000 * physic.Ohm, 20 * physic.Ampere}, // 680 Ω
	{2700 * physic.Ohm, 13 * physic.Ampere}, // 1.5 kΩ
}

// AmpacityFor returns the cable rating a PP resistance codes, or 0 for none
// (open circuit, short).
func AmpacityFor(r physic.ElectricResistance) physic.ElectricCurrent {
	for _, b := range ppBands {
		if r < b.upTo {
			return b.amp
		}
	}
	return 0
}

// Proximity reads a socket's PP resistor through a pull-up to Supply and an
// ADC channel at the PP node: R = PullUp * V / (Supply - V).
type Proximity struct {
	ch     Channel
	supply physic.ElectricPotential
	pullUp physic.ElectricResistance
}

var _ Cable = (*Proximity)(nil)

// NewProximity returns the PP reader of ch.
func NewProximity(ch Channel, supply physic.ElectricPotential, pullUp physic.ElectricResistance) (*Proximity, error) {
	if ch == nil || supply <= 0 || pullUp <= 0 {
		return nil, errors.New("pilot: proximity needs a channel, a positive supply and a positive pull-up")
	}
	return &Proximity{ch: ch, supply: supply, pullUp: pullUp}, nil
}

// Resistance reads the PP resistance. An open PP (no cable) reads as the
// largest resistance.
func (p *Proximity) Resistance(ctx context.Context) (physic.ElectricResistance, error) {
	v, err := p.ch.Read(ctx)
	if err != nil {
		return 0, fmt.Errorf("proximity: %w", err)
	}
	if v <= 0 {
		return 0, nil
	}
	if v >= p.supply {
		return physic.ElectricResistance(1 << 62), nil
	}
	// Ohm-level precision is plenty: work in ohms and millivolts so the
	// product stays inside int64.
	mv := int64(v / physic.MilliVolt)
	smv := int64(p.supply / physic.MilliVolt)
	if smv <= mv {
		return physic.ElectricResistance(1 << 62), nil
	}
	return physic.ElectricResistance(int64(p.pullUp/physic.Ohm)*mv/(smv-mv)) * physic.Ohm, nil
}

// Ampacity implements Cable.
func (p *Proximity) Ampacity(ctx context.Context) (physic.ElectricCurrent, error) {
	r, err := p.Resistance(ctx)
	if err != nil {
		return 0, err
	}
	return AmpacityFor(r), nil
}

// Fixed is a tethered cable's rating, from the board file.
type Fixed physic.ElectricCurrent

var _ Cable = Fixed(0)

// Ampacity implements Cable.
func (f Fixed) Ampacity(context.Context) (physic.ElectricCurrent, error) {
	return physic.ElectricCurrent(f), nil
}
