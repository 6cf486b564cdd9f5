package can

import (
	"encoding/binary"
	"fmt"
	"time"

	"periph.io/x/conn/v3/physic"
)

// IVT-S result numbers: the n-th result is sent on ResultBase+n with mux
// byte n.
const (
	ivtCurrent     = iota // mA
	ivtU1                 // mV
	ivtU2                 // mV
	ivtU3                 // mV
	ivtTemperature        // 0.1 °C
	ivtPower              // W
	ivtCharge             // As
	ivtEnergy             // Wh
	ivtResults
)

// IVT-S defaults.
const (
	// IVTSResultBase is the factory identifier of the current result; the
	// other results follow it.
	IVTSResultBase = 0x521
	// IVTSCommandID is the factory identifier the shunt takes commands on.
	IVTSCommandID = 0x411

	ivtSetMode = 0x34 // SET_MODE command byte
)

// ivtDefaultCycles are the cycle times assumed when IVTSOptions.Cycles
// leaves one at zero: 20 ms for the current and 60 ms for the voltages (the
// shunt's factory settings), 100 ms for the rest. Shunts are often
// reconfigured; set Cycles to what yours sends.
var ivtDefaultCycles = [ivtResults]time.Duration{
	20 * time.Millisecond, 60 * time.Millisecond, 60 * time.Millisecond, 60 * time.Millisecond,
	100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond,
}

// IVTSOptions configure an IVTS decoder. The zero value (or nil) is the
// factory configuration, U1 as the output voltage, shunt mounted forwards.
type IVTSOptions struct {
	// ResultBase is the identifier of the current result (result 0); the
	// results 1..7 (U1, U2, U3, temperature, power, charge, energy) are
	// expected on ResultBase+1..+7, standard 11-bit frames. Zero means
	// IVTSResultBase (0x521).
	ResultBase uint32
	// CommandID is where SetMode sends. Zero means IVTSCommandID (0x411).
	CommandID uint32
	// OutputVoltage picks the voltage input (1, 2 or 3) that measures the
	// charger's output; the others become AuxVoltage channels. Zero means 1.
	OutputVoltage int
	// Reversed negates current, power, charge and energy, for a shunt
	// mounted against the direction of energy flow to the vehicle. The
	// shunt counts energy positive in its arrow's direction; evsed bills a
	// positive counter as energy imported by the vehicle.
	Reversed bool
	// Cycles are the send intervals of the eight results in result order;
	// zero entries take the defaults (20 ms current, 60 ms voltages,
	// 100 ms others).
	Cycles [8]time.Duration
}

// IVTS decodes the cyclic result frames of an Isabellenhuette IVT-S shunt.
// It is immutable after NewIVTS and safe for concurrent use.
//
// Each result frame carries 6 bytes: byte 0 is the result number (mux,
// 0..7), byte 1 the message counter (low nibble) and status (high nibble:
// bit 4 overcurrent detection, bit 5 this result out of range or its
// channel in error, bit 6 a measurement error in any channel, bit 7 a
// system error), bytes 2..5 the value, a big-endian signed 32-bit integer
// in the result's unit (mA, mV, 0.1 °C, W, As, Wh).
type IVTS struct {
	opts     IVTSOptions
	channels []Channel
	ids      []uint32
}

var _ Decoder = (*IVTS)(nil)

// NewIVTS returns a decoder for an IVT-S configured as o says; o may be nil.
func NewIVTS(o *IVTSOptions) (*IVTS, error) {
	d := &IVTS{}
	if o != nil {
		d.opts = *o
	}
	if d.opts.ResultBase == 0 {
		d.opts.ResultBase = IVTSResultBase
	}
	if d.opts.CommandID == 0 {
		d.opts.CommandID = IVTSCommandID
	}
	if d.opts.OutputVoltage == 0 {
		d.opts.OutputVoltage = 1
	}
	if d.opts.ResultBase+ivtResults-1 > 0x7FF || d.opts.CommandID > 0x7FF {
		return nil, fmt.Errorf("%w: ivt-s ids 0x%X..0x%X and 0x%X must be 11-bit", ErrConfig,
			d.opts.ResultBase, d.opts.ResultBase+ivtResults-1, d.opts.CommandID)
	}
	if d.opts.CommandID >= d.opts.ResultBase && d.opts.CommandID < d.opts.ResultBase+ivtResults {
		return nil, fmt.Errorf("%w: ivt-s command id 0x%X is a result id", ErrConfig, d.opts.CommandID)
	}
	if d.opts.OutputVoltage < 1 || d.opts.OutputVoltage > 3 {
		return nil, fmt.Errorf("%w: ivt-s output voltage U%d, want U1, U2 or U3", ErrConfig, d.opts.OutputVoltage)
	}
	names := [ivtResults]string{"I", "U1", "U2", "U3", "T", "W", "As", "Wh"}
	quantities := [ivtResults]Quantity{Current, AuxVoltage, AuxVoltage, AuxVoltage, Temperature, Power, Charge, Energy}
	quantities[d.opts.OutputVoltage] = Voltage
	for i := range ivtResults {
		cycle := d.opts.Cycles[i]
		if cycle < 0 {
			return nil, fmt.Errorf("%w: ivt-s cycle of %s is negative", ErrConfig, names[i])
		}
		if cycle == 0 {
			cycle = ivtDefaultCycles[i]
		}
		d.opts.Cycles[i] = cycle
		d.channels = append(d.channels, Channel{Name: names[i], Quantity: quantities[i], Cycle: cycle})
		d.ids = append(d.ids, d.opts.ResultBase+uint32(i))
	}
	return d, nil
}

// Channels implements Decoder: I, U1, U2, U3, T, W, As, Wh, in that order.
func (d *IVTS) Channels() []Channel { return d.channels }

// IDs implements Decoder: the eight result identifiers.
func (d *IVTS) IDs() []uint32 { return d.ids }

// Decode implements Decoder.
func (d *IVTS) Decode(f Frame) (Sample, bool, error) {
	if f.Extended || f.Remote || f.ID < d.opts.ResultBase || f.ID >= d.opts.ResultBase+ivtResults {
		return Sample{}, false, nil
	}
	n := int(f.ID - d.opts.ResultBase)
	if len(f.Data) < 6 {
		return Sample{}, true, fmt.Errorf("ivt-s frame 0x%X: %d data bytes, want 6", f.ID, len(f.Data))
	}
	if int(f.Data[0]) != n {
		return Sample{}, true, fmt.Errorf("ivt-s frame 0x%X: mux 0x%02X, want 0x%02X", f.ID, f.Data[0], n)
	}
	raw := int64(int32(binary.BigEndian.Uint32(f.Data[2:6])))
	if d.opts.Reversed && (n == ivtCurrent || n == ivtPower || n == ivtCharge || n == ivtEnergy) {
		raw = -raw // in int64: the negation of math.MinInt32 fits
	}
	var v int64
	switch n {
	case ivtCurrent:
		v = raw * int64(physic.MilliAmpere)
	case ivtU1, ivtU2, ivtU3:
		v = raw * int64(physic.MilliVolt)
	case ivtTemperature:
		v = raw*int64(physic.Kelvin)/10 + int64(physic.ZeroCelsius)
	case ivtPower:
		v = raw * int64(physic.Watt)
	case ivtCharge:
		v = raw * int64(physic.Ampere) // A·s to nA·s
	case ivtEnergy:
		v = raw * 1000 // Wh to mWh
	}
	b := f.Data[1]
	var st Status
	if b&0x10 != 0 {
		st |= StatusOvercurrent
	}
	if b&0x20 != 0 {
		st |= StatusChannelError
	}
	if b&0x40 != 0 {
		st |= StatusMeasurementError
	}
	if b&0x80 != 0 {
		st |= StatusSystemError
	}
	return Sample{Channel: n, Value: v, Status: st, Seq: b & 0x0F}, true, nil
}

// SetMode sends the IVT-S SET_MODE command: run starts the cyclic results,
// !run stops them. The frame is 0x34, mode (1 run, 0 stop), then 0x01, the
// mode after power-up, kept at run so that a shunt stopped once does not
// come back silent after a power cycle, and zero padding to 8 bytes. The
// shunt's answer (on its response identifier) is not awaited: the results
// starting or stopping is the answer the Meter sees.
func (d *IVTS) SetMode(src FrameSource, run bool) error {
	mode := byte(0)
	if run {
		mode = 1
	}
	f := Frame{ID: d.opts.CommandID, Data: []byte{ivtSetMode, mode, 0x01, 0, 0, 0, 0, 0}}
	if err := src.Send(f); err != nil {
		return fmt.Errorf("ivt-s set mode: %w", err)
	}
	return nil
}
