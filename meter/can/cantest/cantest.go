// Package cantest is a frame-level fake CAN interface for tests of CAN
// meters: a test hands frames to the meter's receive loop one by one and
// knows when each has been handled, and sees what the meter sent.
package cantest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/evsed/evsed/meter/can"
)

// deliveryTimeout bounds how long Deliver waits for the receiver, so that a
// test whose meter is not running fails instead of hanging.
const deliveryTimeout = 10 * time.Second

// delivery is one frame (or error) handed to Recv, with the channel closed
// when the receiver has handled it.
type delivery struct {
	f       can.Frame
	err     error
	handled chan struct{}
}

// Source implements can.FrameSource in memory. Safe for concurrent use; one
// goroutine calls Recv at a time, as FrameSource requires.
type Source struct {
	in chan delivery

	mu      sync.Mutex  // guards the fields below
	pending *delivery   // returned by the last Recv, handled when Recv comes back
	sent    []can.Frame // what Send got
	sendErr error
}

var _ can.FrameSource = (*Source)(nil)

// NewSource returns an idle Source.
func NewSource() *Source { return &Source{in: make(chan delivery)} }

// Recv implements can.FrameSource. Entering Recv again marks the previous
// frame as handled.
func (s *Source) Recv(ctx context.Context) (can.Frame, error) {
	s.mu.Lock()
	if s.pending != nil {
		close(s.pending.handled)
		s.pending = nil
	}
	s.mu.Unlock()
	select {
	case d := <-s.in:
		s.mu.Lock()
		s.pending = &d
		s.mu.Unlock()
		return d.f, d.err
	case <-ctx.Done():
		return can.Frame{}, ctx.Err()
	}
}

// Deliver hands each frame to the receiver in turn and returns once the
// receiver has handled the last one (it came back to Recv). It fails if the
// receiver does not take or handle a frame within 10 s.
func (s *Source) Deliver(frames ...can.Frame) error {
	for _, f := range frames {
		if err := s.hand(delivery{f: f, handled: make(chan struct{})}); err != nil {
			return fmt.Errorf("frame 0x%X: %w", f.ID, err)
		}
	}
	return nil
}

// Fail makes the receiver's pending Recv return err, as a broken interface
// does. It returns once the receiver has taken the error.
func (s *Source) Fail(err error) error {
	d := delivery{err: err, handled: make(chan struct{})}
	select {
	case s.in <- d:
		return nil
	case <-time.After(deliveryTimeout): // real time: only guards against a hang
		return errors.New("cantest: nobody is receiving")
	}
}

// hand passes d to Recv and waits until it is handled.
func (s *Source) hand(d delivery) error {
	// Real time, not a test's fake clock: this only guards against a hang.
	t := time.NewTimer(deliveryTimeout)
	defer t.Stop()
	select {
	case s.in <- d:
	case <-t.C:
		return errors.New("cantest: nobody is receiving")
	}
	select {
	case <-d.handled:
		return nil
	case <-t.C:
		return errors.New("cantest: the receiver did not come back")
	}
}

// Send implements can.FrameSource: it records a copy of f, or returns the
// error set with SetSendError.
func (s *Source) Send(f can.Frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sendErr != nil {
		return s.sendErr
	}
	f.Data = append([]byte(nil), f.Data...)
	s.sent = append(s.sent, f)
	return nil
}

// SetSendError makes later Sends fail with err (nil: succeed again).
func (s *Source) SetSendError(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sendErr = err
}

// Sent returns the frames sent so far. The slice is the caller's.
func (s *Source) Sent() []can.Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]can.Frame(nil), s.sent...)
}
