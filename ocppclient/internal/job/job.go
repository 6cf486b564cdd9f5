// Package job keeps one background job at a time (a firmware update, a
// log upload): a new one replaces the one running, which is cancelled
// and waited for first.
package job

import (
	"context"
	"sync"
)

// Runner is the slot of one job. The zero value is ready; it is safe for
// concurrent use, but callers that Cancel and then Go serialize those two
// steps themselves, so that no other job slips in between.
type Runner struct {
	mu     sync.Mutex // guards cancel and done
	cancel context.CancelFunc
	done   chan struct{} // closed when the job ends; nil before the first
}

// Go runs fn on its own goroutine under a context derived from ctx, which
// Cancel ends. A job still running must have been cancelled first.
func (r *Runner) Go(ctx context.Context, fn func(ctx context.Context)) {
	jctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	r.mu.Lock()
	r.cancel, r.done = cancel, done
	r.mu.Unlock()
	go func() {
		defer close(done)
		defer cancel()
		fn(jctx)
	}()
}

// Cancel ends the running job, if any, and waits for its goroutine; it
// reports whether one was running.
func (r *Runner) Cancel() bool {
	r.mu.Lock()
	cancel, done := r.cancel, r.done
	r.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
	}
	cancel()
	<-done
	return true
}

// Wait blocks until the running job, if any, has ended.
func (r *Runner) Wait() {
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	if done != nil {
		<-done
	}
}
