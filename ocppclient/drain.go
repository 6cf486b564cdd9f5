package ocppclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/evsed/evsed/clock"
)

// kick makes sure the queue drains on the registered connection: it starts
// a drain goroutine unless one runs, which then looks at the queue again
// before it ends. The queue calls it after every Enqueue, and connect once
// the connection is registered.
func (c *Client) kick() {
	cn := c.registeredConn()
	if cn == nil || cn.ad.Queue == nil {
		return
	}
	cn.mu.Lock()
	cn.kicked = true
	start := !cn.draining && cn.err == nil
	if start {
		// The conn is open, so the reader holds it: taking a hold is safe.
		cn.draining = true
		cn.holds++
	}
	cn.mu.Unlock()
	if start {
		go c.drain(cn)
	}
}

// idle ends a drain that found the queue empty, unless a kick came since
// it last looked; it reports whether the drain ends.
func (cn *conn) idle() bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.kicked {
		return false
	}
	cn.draining = false
	return true
}

// drain sends the durable queue on cn, oldest first and one entry at a
// time, until the queue is empty or cn closes. kick starts it on each
// registered connection and after every Enqueue; whatever is not
// acknowledged when cn closes stays at the head and is sent again on the
// next connection, so delivery is at least once.
//
// An answered entry is marked delivered (Queue.MarkDelivered), which costs
// no fsync: with the queue's log the acknowledgement is written at once and
// synced with the next change; without it the queue deletes marked entries
// in batches, and drain flushes them whenever it is about to wait (queue
// empty, retry pause), so that an idle charger keeps no acknowledged entry
// to send again after a crash. Either way the session's end flushes them
// (see Client.ended).
//
// A CALLERROR answer and a timeout (no answer within CallTimeout while cn
// stays up) are failed attempts alike: Queue.Fail counts them on the entry's
// durable attempt count, drain waits n * RetryInterval after the n-th, and
// the MaxAttempts-th moves the entry to the dead-letter bucket, where it is
// kept (Hooks.Abandoned is told), and the queue moves on. cn closing with
// the CALL in flight is no attempt: the link failed, not the CSMS, and the
// entry stays at the head for the next connection.
//
// Between entries drain gives the sender slot back, so an ordinary Call
// (a Heartbeat, an Authorize) waiting for it goes out before the next entry;
// queued entries themselves never overtake each other.
func (c *Client) drain(cn *conn) {
	defer cn.release()
	q, hooks, ctx := cn.ad.Queue, cn.ad.Hooks, context.Context(cn)
	// retry is the pause after a local failure (disk, hooks) before the
	// head entry is tried again; a CALLERROR or a timeout waits as Fail
	// says instead.
	retry := c.opts.BackoffMin
	// flush makes the marks durable, on the way out; settle is what the
	// queue does before a wait (see Queue.settle). A failure is logged and
	// left to the next group commit.
	flush := func(e Entry, f func() error) {
		if err := f(); err != nil {
			c.drainErr(fmt.Errorf("ocpp queue flush: %w", err), e)
		}
	}
	// pause waits d after settling, and reports false when ctx ended.
	pause := func(d time.Duration, e Entry) bool {
		flush(e, q.settle)
		return clock.Sleep(ctx, c.clk, d)
	}
	for {
		cn.mu.Lock()
		cn.kicked = false
		cn.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		e, ok, err := q.Head()
		if err != nil {
			c.drainErr(fmt.Errorf("ocpp queue head: %w", err), e)
			if !pause(retry, e) {
				return
			}
			continue
		}
		if !ok {
			flush(e, q.settle)
			if cn.idle() {
				return
			}
			continue
		}

		payload := e.Payload
		if hooks != nil {
			if payload, err = hooks.Prepare(e); err != nil {
				c.drainErr(fmt.Errorf("ocpp queue prepare: %w", err), e)
				if !pause(retry, e) {
					return
				}
				continue
			}
		}
		if len(payload) == 0 {
			payload = json.RawMessage("{}")
		}

		res, err := c.roundTrip(ctx, cn, e.Action, payload)
		var ce *CallError
		switch {
		case err == nil:
			if hooks != nil {
				if err := hooks.Delivered(e, res); err != nil {
					// The CSMS has it, but the adapter could not record
					// the answer: send again (at least once) after a pause.
					c.drainErr(fmt.Errorf("ocpp queue delivered hook: %w", err), e)
					if !pause(retry, e) {
						return
					}
					continue
				}
			}
			// At least once: the mark needs no fsync before the next
			// entry goes out (see Queue, Durability).
			if err := q.MarkDelivered(e.Seq); err != nil {
				c.drainErr(fmt.Errorf("ocpp queue ack: %w", err), e)
				if !pause(retry, e) {
					return
				}
			}
		case errors.As(err, &ce) && e.Kind == KindOther && (ce.Code == NotImplemented || ce.Code == NotSupported):
			// A message outside the transaction ones (a security event)
			// that this CSMS does not implement: asking again cannot
			// help and would hold back every entry behind it, and the
			// dead-letter bucket, never emptied, would gain one at every
			// start. It is dropped, durably, as answered.
			if aerr := q.Ack(e.Seq); aerr != nil {
				c.drainErr(fmt.Errorf("ocpp queue drop: %w", aerr), e)
				if !pause(retry, e) {
					return
				}
				continue
			}
			c.log.Warn("ocpp queued message dropped: the CSMS does not implement it",
				"seq", e.Seq, "action", e.Action, "err", ce)
		case errors.As(err, &ce) || errors.Is(err, ErrTimeout):
			// A refusal and a CALL left unanswered on a live connection
			// are both failed attempts (TransactionMessageAttempts), on
			// one durable count: a CSMS that has stopped answering is
			// not hammered, and the entry is dead-lettered in the end
			// instead of blocking the queue for ever. ce is nil for a
			// timeout.
			wait, dead, ferr := q.Fail(e.Seq)
			if ferr != nil {
				c.drainErr(fmt.Errorf("ocpp queue fail: %w", ferr), e)
				wait = retry
			}
			if dead {
				c.log.Error("ocpp queued message abandoned", "seq", e.Seq, "action", e.Action,
					"attempts", e.Attempts+1, "err", err)
				if hooks != nil {
					hooks.Abandoned(e, ce)
				}
				continue
			}
			if ce != nil {
				c.log.Warn("ocpp queued message refused, will retry", "seq", e.Seq, "action", e.Action,
					"attempts", e.Attempts+1, "err", ce, "retry_in", wait)
			} else {
				c.log.Warn("ocpp queued message unanswered, will retry", "seq", e.Seq, "action", e.Action,
					"attempts", e.Attempts+1, "err", err, "retry_in", wait)
				c.noteErr(err)
			}
			if !pause(wait, e) {
				return
			}
		default:
			// Connection lost or shutting down: the entry stays at the
			// head for the next connection.
			if ctx.Err() == nil && cn.cause() == nil {
				// A local error (e.g. encoding); do not spin on it.
				c.drainErr(err, e)
				if !pause(retry, e) {
					return
				}
				continue
			}
			return
		}
	}
}

// drainErr logs a delivery problem with entry e and records it for Status.
func (c *Client) drainErr(err error, e Entry) {
	c.log.Warn("ocpp queue", "err", err, "seq", e.Seq, "action", e.Action)
	c.noteErr(err)
}
