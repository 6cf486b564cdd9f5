//go:build linux

package can

import (
	"context"
	"fmt"
	"sync"

	"github.com/go-daq/canbus"
	"golang.org/x/sys/unix"
)

// SocketCAN is a FrameSource on a Linux SocketCAN interface (can0, vcan0),
// through github.com/go-daq/canbus. A reader goroutine started by
// OpenSocketCAN feeds Recv, because a read on the socket cannot be
// cancelled by a context. Safe for concurrent use.
type SocketCAN struct {
	sck    *canbus.Socket
	name   string
	frames chan Frame    // from the reader; closed when it exits
	done   chan struct{} // closed by Close

	mu     sync.Mutex // guards the fields below and Send
	closed bool
	exited bool  // the reader has returned
	err    error // why the reader returned
}

var _ FrameSource = (*SocketCAN)(nil)

// OpenSocketCAN binds a raw CAN socket to the interface iface (which must
// be up, at the meter's bit rate). If ids is not empty, the kernel passes
// only standard data frames with those identifiers: pass the Decoder's
// IDs so that the other traffic on a shared bus costs nothing.
func OpenSocketCAN(iface string, ids []uint32) (*SocketCAN, error) {
	sck, err := canbus.New()
	if err != nil {
		return nil, fmt.Errorf("can open %s: %w", iface, err)
	}
	if err := sck.Bind(iface); err != nil {
		sck.Close()
		return nil, fmt.Errorf("can open %s: %w", iface, err)
	}
	if len(ids) > 0 {
		filters := make([]unix.CanFilter, len(ids))
		for i, id := range ids {
			// Match the identifier and both flags: standard data frames.
			filters[i] = unix.CanFilter{Id: id, Mask: unix.CAN_SFF_MASK | unix.CAN_EFF_FLAG | unix.CAN_RTR_FLAG}
		}
		if err := sck.SetFilters(filters); err != nil {
			sck.Close()
			return nil, fmt.Errorf("can open %s: %w", iface, err)
		}
	}
	s := &SocketCAN{sck: sck, name: iface, frames: make(chan Frame), done: make(chan struct{})}
	go s.read()
	return s, nil
}

// String returns the interface name.
func (s *SocketCAN) String() string { return s.name }

// read moves frames from the socket to Recv until the socket fails or
// Close is called. Linux does not wake a read blocked on a socket that
// another goroutine closes, and closing it under the reader would let the
// descriptor number be reused while the reader still reads it, so the
// reader closes the socket itself once its read returns (at the next
// frame) if Close was called meanwhile.
func (s *SocketCAN) read() {
	defer close(s.frames)
	var err error
loop:
	for {
		var f canbus.Frame
		f, err = s.sck.Recv()
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if err != nil || closed {
			break loop
		}
		if f.Kind == canbus.ERR {
			continue // error frames are not requested; skip if a driver sends them
		}
		fr := Frame{ID: f.ID, Extended: f.Kind == canbus.EFF, Remote: f.Kind == canbus.RTR, Data: f.Data}
		select {
		case s.frames <- fr:
		case <-s.done:
			break loop
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exited = true
	s.err = err
	if s.closed {
		s.sck.Close()
	}
}

// Recv implements FrameSource.
func (s *SocketCAN) Recv(ctx context.Context) (Frame, error) {
	select {
	case f, ok := <-s.frames:
		if ok {
			return f, nil
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || s.err == nil {
			return Frame{}, ErrClosed
		}
		return Frame{}, fmt.Errorf("can receive %s: %w", s.name, s.err)
	case <-s.done:
		return Frame{}, ErrClosed
	case <-ctx.Done():
		return Frame{}, ctx.Err()
	}
}

// Send implements FrameSource. Only standard data frames are sent.
func (s *SocketCAN) Send(f Frame) error {
	if f.Extended || f.Remote || f.ID > 0x7FF || len(f.Data) > 8 {
		return fmt.Errorf("can send %s: only standard data frames of up to 8 bytes (id 0x%X, %d bytes)", s.name, f.ID, len(f.Data))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if _, err := s.sck.Send(canbus.Frame{ID: f.ID, Data: f.Data, Kind: canbus.SFF}); err != nil {
		return fmt.Errorf("can send %s: %w", s.name, err)
	}
	return nil
}

// Close stops Recv and Send at once. The socket itself is released now if
// the reader has stopped, else when its pending read returns.
func (s *SocketCAN) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.done)
	if s.exited {
		return s.sck.Close()
	}
	return nil
}
