package station

import "errors"

// Errors returned by Station methods.
var (
	// ErrNoConnector: the connector id does not exist.
	ErrNoConnector = errors.New("station: no such connector")
	// ErrBusy: the connector already has a session or a pending start.
	ErrBusy = errors.New("station: connector busy")
	// ErrUnavailable: the connector is Unavailable or Faulted.
	ErrUnavailable = errors.New("station: connector unavailable")
	// ErrNoSession: there is no session to stop.
	ErrNoSession = errors.New("station: no session")
	// ErrNotAuthorized: the id tag was refused.
	ErrNotAuthorized = errors.New("station: not authorized")
	// ErrReserved: a reservation holds the connector for another id tag.
	ErrReserved = errors.New("station: connector reserved for another id tag")
	// ErrStopped: the station loop has stopped.
	ErrStopped = errors.New("station: stopped")
)

// ErrCancelled: a start request was withdrawn (Stop, Reset) before it began.
var ErrCancelled = errors.New("station: start cancelled")

// Errors of the energy management (SetExternalLimit, SetChargeMode).
var (
	// ErrInvalidLimit: a negative or already expired external limit.
	ErrInvalidLimit = errors.New("station: invalid limit")
	// ErrInvalidMode: a charge mode other than fast, pv and minpv.
	ErrInvalidMode = errors.New("station: invalid charge mode")
	// ErrNoGridMeter: a solar mode was asked for without a grid meter
	// (Options.Grid.Meter) to see the surplus.
	ErrNoGridMeter = errors.New("station: solar modes need a grid meter")
)
