// Package modbus reads energy meters over Modbus RTU (RS-485 serial line),
// Modbus TCP and RTU framing over TCP (serial-to-Ethernet converters).
//
// Meter models are data: a Model lists the registers that carry each value of
// a meter.Reading (address, function, type, word order, scale, unit). The
// shipped models are returned by Lookup; a board file describes any other
// meter with a GenericConfig.
//
// A Bus owns one physical connection and serializes the requests of every
// Meter on it, one unit id per meter, with a per-request timeout, retries and
// an optional inter-frame delay. A Meter plans its reads once (registers of
// one function are fetched with the fewest requests: contiguous runs, and
// runs a model allows to bridge, merged up to 125 registers), decodes them
// exactly (integer registers to the milliwatt-hour, see Register), keeps a
// count of consecutive failures and flags energy registers that run backwards
// or jump faster than the meter's maximum power allows.
//
// ReadOnce and Format serve commissioning: one reading, printed for a person.
package modbus
