// Package ocppclient is the OCPP-J transport of a charge point: one websocket
// to the CSMS, CALL / CALLRESULT / CALLERROR framing, at most one outbound
// CALL in flight, call timeouts, keepalive pings, reconnection with
// exponential back-off and jitter, security profiles 1 to 3, and a durable
// queue for the messages that must never be lost: a bbolt database with a
// small append-only log beside it, so that a queued message costs the
// flash one block, not a tree commit (see Queue).
//
// The package is version-neutral: the OCPP 1.6 and 2.0.1 adapters
// (sub-packages) supply the subprotocol, the handshake run after each connect
// (BootNotification), the inbound CALL handler and the hooks that patch queued
// messages with ids assigned later.
//
// A Client is built with New and driven by Run, which keeps one connection
// up until its context ends: dial, OnConnect, then the queue drain and
// ordinary Calls share one sender slot, while inbound CALLs are answered
// each on its own goroutine; an answer may carry a follow-up (WithFollowUp)
// that runs only once it has been written, for the messages OCPP wants sent
// after an answer (TriggerMessage). Every inbound frame is validated by
// ParseFrame; a bad one is answered with the CALLERROR OCPP-J names, or
// dropped when it carries no usable message id, and the connection stays
// up. Queued messages refused or left unanswered are retried after growing
// waits and, after TransactionMessageAttempts, kept aside in a dead-letter
// bucket, never deleted. All waiting
// (call timeouts, keepalive, back-off, queue retries) goes through
// Options.Clock, so tests run in virtual time.
package ocppclient
