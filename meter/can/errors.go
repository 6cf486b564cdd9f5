package can

import "errors"

// Errors of this package. Meter.Read also wraps meter.ErrNoResponse and
// meter.ErrImplausible, as meter.Meter documents.
var (
	// ErrStatus is wrapped by a StatusError: the meter flagged a value it
	// sent as erroneous.
	ErrStatus = errors.New("can: meter reports an error")
	// ErrConfig is wrapped by every configuration error.
	ErrConfig = errors.New("can: invalid meter configuration")
	// ErrUnknownModel is returned by Lookup for a name it does not ship.
	ErrUnknownModel = errors.New("can: unknown meter model")
	// ErrClosed is returned by a closed FrameSource.
	ErrClosed = errors.New("can: interface closed")
	// ErrUnsupported is returned by OpenSocketCAN where there is no
	// SocketCAN (any OS but Linux).
	ErrUnsupported = errors.New("can: SocketCAN needs Linux")
)

// StatusError reports the status flags a meter sent with a value that a
// Read needed.
type StatusError struct {
	Channel string // e.g. "Wh"
	Status  Status
}

// Error implements error.
func (e *StatusError) Error() string {
	return "can: meter reports " + e.Status.String() + " on " + e.Channel
}

// Unwrap returns ErrStatus.
func (e *StatusError) Unwrap() error { return ErrStatus }
