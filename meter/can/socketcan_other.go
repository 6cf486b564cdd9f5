//go:build !linux

package can

import "context"

// SocketCAN is a FrameSource on a Linux SocketCAN interface. On this OS it
// cannot be opened: OpenSocketCAN returns ErrUnsupported.
type SocketCAN struct{}

var _ FrameSource = (*SocketCAN)(nil)

// OpenSocketCAN returns ErrUnsupported: SocketCAN is Linux only.
func OpenSocketCAN(iface string, ids []uint32) (*SocketCAN, error) { return nil, ErrUnsupported }

// String returns "".
func (s *SocketCAN) String() string { return "" }

// Recv implements FrameSource; it always fails.
func (s *SocketCAN) Recv(ctx context.Context) (Frame, error) { return Frame{}, ErrUnsupported }

// Send implements FrameSource; it always fails.
func (s *SocketCAN) Send(f Frame) error { return ErrUnsupported }

// Close does nothing.
func (s *SocketCAN) Close() error { return nil }
