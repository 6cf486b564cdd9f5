package modbus

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/evsed/evsed/meter"
)

// decoder turns the wire bytes of one Register into base units of its
// Reading field (mWh, nW, nA, nV, µHz; 1 for the power factor).
type decoder struct {
	reg Register
	mul *big.Rat // base units per raw count: Scale × baseUnits
	// intMul is mul when it is a whole number (all shipped integer maps), so
	// that integer registers decode with one checked multiplication.
	intMul int64
}

func newDecoder(r Register) (decoder, error) {
	per, ok := baseUnits(r.Quantity, r.Unit)
	if !ok {
		return decoder{}, fmt.Errorf("unit %q does not measure %s", r.Unit, r.Quantity)
	}
	// The shortest decimal of a float64 scale is what its author wrote
	// (0.01, not 0.01000000000000000020816681711721685), so the product
	// with the unit is exact.
	scale, ok := new(big.Rat).SetString(strconv.FormatFloat(r.Scale, 'g', -1, 64))
	if !ok || scale.Sign() <= 0 {
		return decoder{}, fmt.Errorf("scale %v, want > 0", r.Scale)
	}
	d := decoder{reg: r, mul: scale.Mul(scale, new(big.Rat).SetInt64(per))}
	if d.mul.IsInt() && d.mul.Num().IsInt64() {
		d.intMul = d.mul.Num().Int64()
	}
	return d, nil
}

// raw assembles the register's words (big-endian bytes within each word, as
// Modbus defines) into one unsigned value in the register's word order.
func (d decoder) raw(b []byte) uint64 {
	n := d.reg.Type.Words()
	var v uint64
	for i := range n {
		w := i
		if d.reg.Order == LittleWords {
			w = n - 1 - i // the most significant word comes last
		}
		v = v<<16 | uint64(binary.BigEndian.Uint16(b[2*w:]))
	}
	return v
}

// value returns the register as an exact rational in base units, and the
// register's resolution there (one raw count, or one float32 ulp) rounded up.
func (d decoder) value(b []byte) (*big.Rat, int64, error) {
	u := d.raw(b)
	var x *big.Rat
	switch d.reg.Type {
	case Int16:
		x = new(big.Rat).SetInt64(int64(int16(u)))
	case Uint16, Uint32:
		x = new(big.Rat).SetInt64(int64(u))
	case Int32:
		x = new(big.Rat).SetInt64(int64(int32(u)))
	case Int64:
		x = new(big.Rat).SetInt64(int64(u))
	case Uint64:
		x = new(big.Rat).SetInt(new(big.Int).SetUint64(u))
	case Float32:
		f := math.Float32frombits(uint32(u))
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return nil, 0, fmt.Errorf("%w: %s register %#04x holds %v", meter.ErrImplausible, d.reg.Quantity, d.reg.Addr, f)
		}
		// The shortest decimal that round-trips the float32 is the value
		// the meter computed and displays: 12345.678 kWh reads as
		// 12345678 Wh, not as the float's binary value 12345.677734375.
		x, _ = new(big.Rat).SetString(strconv.FormatFloat(float64(f), 'g', -1, 32))
		ulp := float64(math.Nextafter32(float32(math.Abs(float64(f))), float32(math.Inf(1))) - float32(math.Abs(float64(f))))
		mul, _ := d.mul.Float64()
		return x.Mul(x, d.mul), int64(math.Ceil(ulp * mul)), nil
	default:
		return nil, 0, fmt.Errorf("unknown type %q", d.reg.Type)
	}
	step, _ := d.mul.Float64()
	return x.Mul(x, d.mul), int64(math.Ceil(step)), nil
}

// base returns the register rounded to the nearest base unit (half away
// from zero) and its resolution in base units.
func (d decoder) base(b []byte) (int64, int64, error) {
	if d.intMul != 0 && d.reg.Type != Float32 && d.reg.Type != Uint64 {
		// Fast, exact path for integer registers with a whole multiplier.
		var v int64
		switch d.reg.Type {
		case Int16:
			v = int64(int16(d.raw(b)))
		case Int32:
			v = int64(int32(d.raw(b)))
		default:
			v = int64(d.raw(b))
		}
		if v != 0 && (v > math.MaxInt64/abs(d.intMul) || v < -math.MaxInt64/abs(d.intMul)) {
			return 0, 0, d.overflow()
		}
		return v * d.intMul, d.intMul, nil
	}
	x, step, err := d.value(b)
	if err != nil {
		return 0, 0, err
	}
	n, ok := roundRat(x)
	if !ok {
		return 0, 0, d.overflow()
	}
	return n, step, nil
}

// float returns the register in base units as a float64 (power factor).
func (d decoder) float(b []byte) (float64, error) {
	x, _, err := d.value(b)
	if err != nil {
		return 0, err
	}
	f, _ := x.Float64()
	return f, nil
}

func (d decoder) overflow() error {
	return fmt.Errorf("%w: %s register %#04x out of range", meter.ErrImplausible, d.reg.Quantity, d.reg.Addr)
}

// roundRat rounds x to the nearest integer, halves away from zero, and
// reports whether the result fits an int64.
func roundRat(x *big.Rat) (int64, bool) {
	q, r := new(big.Int).QuoRem(x.Num(), x.Denom(), new(big.Int))
	// |r|*2 >= den means the fraction is at least one half.
	if r.Sign() != 0 && new(big.Int).Lsh(new(big.Int).Abs(r), 1).Cmp(x.Denom()) >= 0 {
		q.Add(q, big.NewInt(int64(x.Sign())))
	}
	if !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
