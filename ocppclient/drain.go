package ocppclient

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/evsed/evsed/clock"
)

// drain sends the durable queue on cn, oldest first and one entry at a
// time, until cn closes. It runs on each registered connection; whatever is
// not acknowledged when cn closes stays at the head and is sent again on the
// next connection, so delivery is at least once.
//
// Between entries drain gives the sender slot back, so an ordinary Call
// (a Heartbeat, an Authorize) waiting for it goes out before the next entry;
// queued entries themselves never overtake each other.
func (c *Client) drain(cn *conn) {
	q, ctx := c.opts.Queue, cn.ctx
	// retry is the pause after a local failure (disk, hooks) or a timeout,
	// before the head entry is tried again.
	retry := c.opts.BackoffMin
	for {
		e, ok, err := q.Head()
		if err != nil {
			c.drainErr(fmt.Errorf("ocpp queue head: %w", err), e)
			if !clock.Sleep(ctx, c.clk, retry) {
				return
			}
			continue
		}
		if !ok {
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
				if !clock.Sleep(ctx, c.clk, retry) {
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
					if !clock.Sleep(ctx, c.clk, retry) {
						return
					}
					continue
				}
			}
			if err := q.Ack(e.Seq); err != nil {
				c.drainErr(fmt.Errorf("ocpp queue ack: %w", err), e)
				if !clock.Sleep(ctx, c.clk, retry) {
					return
				}
			}
		case errors.As(err, &ce):
			wait, dead, ferr := q.Fail(e.Seq)
			if ferr != nil {
				c.drainErr(fmt.Errorf("ocpp queue fail: %w", ferr), e)
				wait = retry
			}
			if dead {
				c.log.Error("ocpp queued message abandoned", "seq", e.Seq, "action", e.Action, "err", ce)
				if c.opts.Hooks != nil {
					c.opts.Hooks.Abandoned(e, ce)
				}
				continue
			}
			c.log.Warn("ocpp queued message refused, will retry", "seq", e.Seq, "action", e.Action,
				"err", ce, "retry_in", wait)
			if !clock.Sleep(ctx, c.clk, wait) {
				return
			}
		case errors.Is(err, ErrTimeout):
			c.drainErr(err, e)
			if !clock.Sleep(ctx, c.clk, retry) {
				return
			}
		default:
			// Connection lost or shutting down: the entry stays at the
			// head for the next connection.
			if ctx.Err() == nil && cn.cause() == nil {
				// A local error (e.g. encoding); do not spin on it.
				c.drainErr(err, e)
				if !clock.Sleep(ctx, c.clk, retry) {
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
