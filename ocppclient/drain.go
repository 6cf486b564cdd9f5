package ocppclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/evsed/evsed/clock"
)

// drain sends the durable queue on cn, oldest first and one entry at a
// time, until cn closes. It runs on each registered connection; whatever is
// not acknowledged when cn closes stays at the head and is sent again on the
// next connection, so delivery is at least once.
//
// An answered entry is marked delivered (Queue.MarkDelivered), which costs
// no fsync: with the queue's log the acknowledgement is written at once and
// synced with the next change; without it the queue deletes marked entries
// in batches, and drain flushes them whenever it is about to wait (queue
// empty, retry pause), so that an idle charger keeps no acknowledged entry
// to send again after a crash. Either way drain flushes when it stops.
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
	q, ctx := c.opts.Queue, cn.ctx
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
	defer flush(Entry{}, q.Flush)
	// pause waits d after settling, and reports false when ctx ended.
	pause := func(d time.Duration, e Entry) bool {
		flush(e, q.settle)
		return clock.Sleep(ctx, c.clk, d)
	}
	for {
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
			select {
			case <-q.Changed():
				continue
			case <-ctx.Done():
				return
			}
		}

		payload := e.Payload
		if c.opts.Hooks != nil {
			if payload, err = c.opts.Hooks.Prepare(e); err != nil {
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
			if c.opts.Hooks != nil {
				if err := c.opts.Hooks.Delivered(e, res); err != nil {
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
				if c.opts.Hooks != nil {
					c.opts.Hooks.Abandoned(e, ce)
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
