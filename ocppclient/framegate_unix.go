//go:build unix

package ocppclient

import (
	"io"
	"net"
	"syscall"
)

// sockWaiter waits on a socket through the runtime's poller, on the
// caller's goroutine: the frames between the caller and the park are few
// (see frameGate).
type sockWaiter struct {
	raw syscall.RawConn
	one [1]byte // readable's probe, kept here so that it costs no allocation
}

// newWaiter returns the waiter of nc's socket, or nil when nc has none.
func newWaiter(nc net.Conn) waiter {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return &sockWaiter{raw: raw}
}

func (w *sockWaiter) peek(p []byte) (n int, err error) {
	rerr := w.raw.Read(func(fd uintptr) bool {
		n, _, err = syscall.Recvfrom(int(fd), p, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return !again(err)
	})
	if rerr != nil {
		return 0, rerr
	}
	if n < 0 {
		n = 0
	}
	if n == 0 && err == nil {
		err = io.EOF
	}
	return n, err
}

func (w *sockWaiter) readable() error {
	return w.raw.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), w.one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Data, the end of the stream or an error: the next read says
		// which.
		return !again(err)
	})
}

// again says a non-blocking call found nothing yet.
func again(err error) bool {
	return err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR
}
