package sim

import (
	"math"
	"math/bits"
	"time"

	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// perMilliWattHour is one mWh in the integrator's unit, nW·ns:
// 1 mW (1e6 nW) for 1 h (3.6e12 ns). It fits an int64 (< 9.22e18).
const perMilliWattHour uint64 = 1e6 * 3600e9

// Integrator accumulates the energy of a piecewise-constant power exactly.
// Positive power counts into the import register, negative power into the
// export register. The zero value starts at the zero time with both registers
// at 0 and no power; call Reset first to anchor it to a clock.
//
// An Integrator is a plain value and not safe for concurrent use: its owner
// guards it.
type Integrator struct {
	at       time.Time    // end of the interval integrated so far
	power    physic.Power // power since at
	imp, exp meter.Energy
	// remImp and remExp carry the part of the registers below one mWh, in
	// nW·ns; always < perMilliWattHour.
	remImp, remExp uint64
}

// Reset sets the registers to imp and exp (no carried remainder) at time at,
// keeping the current power.
func (g *Integrator) Reset(at time.Time, imp, exp meter.Energy) {
	g.at, g.imp, g.exp, g.remImp, g.remExp = at, imp, exp, 0, 0
}

// Advance integrates the current power up to now. A now before the last
// point (a wall clock stepped back) moves the anchor back without counting
// energy for the negative interval.
func (g *Integrator) Advance(now time.Time) {
	d := now.Sub(g.at)
	g.at = now
	if d <= 0 || g.power == 0 {
		return
	}
	if g.power > 0 {
		accumulate(uint64(g.power), uint64(d), &g.imp, &g.remImp)
	} else {
		accumulate(uint64(-g.power), uint64(d), &g.exp, &g.remExp)
	}
}

// SetPower integrates up to now with the old power, then switches to p.
func (g *Integrator) SetPower(now time.Time, p physic.Power) {
	g.Advance(now)
	g.power = p
}

// Power returns the power since the last SetPower.
func (g *Integrator) Power() physic.Power { return g.power }

// Import returns the import register as of the last Advance or SetPower.
func (g *Integrator) Import() meter.Energy { return g.imp }

// Export returns the export register as of the last Advance or SetPower.
func (g *Integrator) Export() meter.Energy { return g.exp }

// Until returns how long after the last Advance or SetPower the import
// register reaches target at the current power, rounded up to the next
// nanosecond so that advancing by the result reaches it for certain. It
// returns 0, true when target is already reached, and false when the current
// power never reaches it (no import, or beyond the range of a Duration).
func (g *Integrator) Until(target meter.Energy) (time.Duration, bool) {
	if g.imp >= target {
		return 0, true
	}
	if g.power <= 0 {
		return 0, false
	}
	// The register reaches target once power*d + remImp >= need*perMilliWattHour.
	need := uint64(target - g.imp)
	hi, lo := bits.Mul64(need, perMilliWattHour)
	var borrow uint64
	lo, borrow = bits.Sub64(lo, g.remImp, 0)
	hi -= borrow
	p := uint64(g.power)
	if hi >= p {
		return 0, false // the quotient would not fit 64 bits
	}
	q, r := bits.Div64(hi, lo, p)
	if r != 0 {
		q++
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	return time.Duration(q), true
}

// accumulate adds p (nW) for d (ns) to the register e and its remainder rem.
func accumulate(p, d uint64, e *meter.Energy, rem *uint64) {
	hi, lo := bits.Mul64(p, d)
	// Div64 needs hi < divisor, also after adding rem (< divisor) with carry;
	// products that large (gigawatts for years) are split in halves.
	if hi >= perMilliWattHour-1 {
		h := d / 2
		accumulate(p, h, e, rem)
		accumulate(p, d-h, e, rem)
		return
	}
	var carry uint64
	lo, carry = bits.Add64(lo, *rem, 0)
	hi += carry
	q, r := bits.Div64(hi, lo, perMilliWattHour)
	*e += meter.Energy(q)
	*rem = r
}
