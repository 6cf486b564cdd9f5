package modbus

import "errors"

// Errors of this package. Read also wraps meter.ErrNoResponse and
// meter.ErrImplausible, as meter.Meter documents.
var (
	// ErrMissed is wrapped by Meter.Read when a request got no answer but
	// the meter has not yet missed MeterOptions.FailAfter reads in a row:
	// skip this sample, no alarm yet.
	ErrMissed = errors.New("modbus: meter missed a reading")
	// ErrModel is wrapped by every model validation error.
	ErrModel = errors.New("modbus: invalid meter model")
	// ErrUnknownModel is returned by Lookup for a name it does not ship.
	ErrUnknownModel = errors.New("modbus: unknown meter model")
	// ErrURL is wrapped by every bus URL parse error.
	ErrURL = errors.New("modbus: bad bus URL")
	// ErrClosed is returned by requests on a closed Bus.
	ErrClosed = errors.New("modbus: bus closed")
	// ErrUnitInUse is returned when a second meter claims a unit id.
	ErrUnitInUse = errors.New("modbus: unit id already on the bus")
)

// ErrNoAnswer marks a request that got no valid answer after every attempt
// (timeout, broken connection, CRC or framing errors): the Meter counts it
// towards its failure threshold, and Bus.ReadRegisters wraps it.
var ErrNoAnswer = errors.New("modbus: no answer")
