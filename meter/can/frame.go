package can

import "context"

// Frame is one classic CAN data frame as the meter drivers see it: the
// transport's own frame type stays behind FrameSource.
type Frame struct {
	// ID is the 11-bit (standard) or 29-bit (Extended) identifier, without
	// flag bits.
	ID uint32
	// Extended marks a 29-bit identifier.
	Extended bool
	// Remote marks a remote transmission request (no data).
	Remote bool
	// Data is the payload, 0..8 bytes. A received frame's Data belongs to
	// the receiver; Send does not keep it.
	Data []byte
}

// FrameSource is a CAN interface as a meter uses it: frames in, commands
// out. SocketCAN (Linux) implements it, and so does cantest.Source, which
// the tests use because AF_CAN is not available everywhere they run.
type FrameSource interface {
	// Recv blocks until a frame arrives, the source fails or ctx ends (then
	// it returns ctx.Err()). One goroutine calls Recv at a time.
	Recv(ctx context.Context) (Frame, error)
	// Send queues f for transmission. It may be called concurrently with
	// Recv.
	Send(f Frame) error
}
