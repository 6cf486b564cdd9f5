// Package can reads energy meters that talk CAN, such as the DC shunts
// (current and voltage sensors with energy counters) of DC chargers.
//
// # Structure
//
// A FrameSource is the CAN interface: SocketCAN on Linux (through
// github.com/go-daq/canbus, with kernel filters on the meter's
// identifiers), or cantest.Source in tests. A Decoder knows one meter
// model's frames and turns each into a Sample of one of its Channels. A
// Meter ties the two: Run receives frames in one goroutine and keeps the
// latest Sample of each channel with its receive time (from the injected
// clock); Read builds a meter.Reading from them without touching the bus.
//
// # Freshness
//
// CAN meters send their values cyclically. A value received more than
// Options.StaleCycles (default 3) of its channel's cycles ago, and at least
// Options.MinStale (default 100 ms), is stale: it is left out of the
// Reading. If the energy counter is stale or was never received, Read fails
// with an error wrapping meter.ErrNoResponse ("stale reading reported").
//
// # Sanity
//
// The energy counter is the billing register. Read fails with
// meter.ErrImplausible if it is negative or went below the value of the last
// good Read (until Rebase), and with a *StatusError (ErrStatus) if the meter
// flagged a value the Reading carries with a channel, measurement or system
// error. The overcurrent flag does not fail a Read: the value is valid, and
// the flag is visible through Values.
//
// # Isabellenhuette IVT-S
//
// IVTS decodes the eight cyclic results of an IVT-S, by default on
// identifiers 0x521 (current, mA), 0x522..0x524 (voltages U1..U3, mV),
// 0x525 (temperature, 0.1 °C), 0x526 (power, W), 0x527 (charge counter,
// As) and 0x528 (energy counter, Wh); IVTSOptions.ResultBase moves the
// block. Each frame: byte 0 the result number 0..7 (checked against the
// identifier), byte 1 a message counter (bits 0-3) and status bits (bit 4
// overcurrent detection, bit 5 this result's channel error or out of range,
// bit 6 measurement error, bit 7 system error), bytes 2..5 the value as a
// big-endian signed 32-bit integer. The Reading carries the energy counter
// as EnergyImport (1 Wh resolution), the power, the current as Current[0]
// and the output voltage (U1 unless IVTSOptions.OutputVoltage says
// otherwise) as Voltage[0].
//
// The shunt counts current, power, charge and energy positive in the
// direction of the arrow on its body. evsed bills a positive energy counter
// as energy delivered to the vehicle; a shunt mounted the other way round
// needs IVTSOptions.Reversed, which negates those four results (without it
// its counter goes negative, and Read reports it as implausible).
//
// Of the shunt's commands only SET_MODE (0x34, to the command identifier
// 0x411 by default) is implemented, as IVTS.SetMode, to start or stop the
// cyclic results; configuring the shunt (cycle times, identifiers) is left
// to the maker's tools, and IVTSOptions.Cycles must then match.
//
// # Adding a CAN meter
//
//  1. Write a Decoder: Channels lists what the meter sends with each
//     value's Quantity (which fixes the unit of Sample.Value: nA, nV, nW,
//     mWh, nC, nK) and its send cycle; IDs lists its frame identifiers;
//     Decode turns one frame into a Sample, mapping the meter's status bits
//     onto Status. At least one channel must be an Energy counter. The
//     first channel of each of Current, Voltage, Power and Energy feeds the
//     Reading.
//  2. Test it against recorded frames written as byte literals, and run it
//     in a Meter fed by cantest.Source.
//  3. Add a Model to the catalogue in decoder.go so that configuration can
//     name it; Lookup and Names serve it from there.
//
// Meter, freshness, sanity checks and the SocketCAN transport are shared:
// a new meter needs none of them rewritten.
package can
