// Package ocppclient is the OCPP-J transport of a charge point: one websocket
// to the CSMS, CALL / CALLRESULT / CALLERROR framing, at most one outbound
// CALL in flight, call timeouts, keepalive pings, reconnection with
// exponential back-off and jitter, security profiles 1 and 2, and a durable
// bbolt-backed queue for the messages that must never be lost.
//
// The package is version-neutral: the OCPP 1.6 and 2.0.1 adapters
// (sub-packages) supply the subprotocol, the handshake run after each connect
// (BootNotification), the inbound CALL handler and the hooks that patch queued
// messages with ids assigned later.
package ocppclient
