package ocppclient

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/evsed/evsed/clock"
)

// ErrorCode is an OCPP-J RPC error code. The 1.6 spellings are kept as they
// are on the wire (FormationViolation, OccurenceConstraintViolation).
type ErrorCode string

// RPC error codes of OCPP-J 1.6 section 4.2.3.
const (
	NotImplemented               ErrorCode = "NotImplemented"
	NotSupported                 ErrorCode = "NotSupported"
	InternalError                ErrorCode = "InternalError"
	ProtocolError                ErrorCode = "ProtocolError"
	SecurityError                ErrorCode = "SecurityError"
	FormationViolation           ErrorCode = "FormationViolation"
	PropertyConstraintViolation  ErrorCode = "PropertyConstraintViolation"
	OccurenceConstraintViolation ErrorCode = "OccurenceConstraintViolation"
	TypeConstraintViolation      ErrorCode = "TypeConstraintViolation"
	GenericError                 ErrorCode = "GenericError"
)

// RPC error codes OCPP-J 2.0.1 spells or names differently (section
// 4.3): the transport answers with these on an ocpp2.0.1 connection.
const (
	FormatViolation               ErrorCode = "FormatViolation"
	OccurrenceConstraintViolation ErrorCode = "OccurrenceConstraintViolation"
	RpcFrameworkError             ErrorCode = "RpcFrameworkError"
	MessageTypeNotSupported       ErrorCode = "MessageTypeNotSupported"
)

// spelling201 maps the 1.6 names to 2.0.1's.
var spelling201 = map[ErrorCode]ErrorCode{
	FormationViolation:           FormatViolation,
	OccurenceConstraintViolation: OccurrenceConstraintViolation,
}

// codeFor returns code as the subprotocol spells it: OCPP-J 2.0.1 fixed
// 1.6's FormationViolation and OccurenceConstraintViolation, and names
// an unreadable RPC frame RpcFrameworkError (frame says the error is of
// the frame, not of a payload). Other subprotocols keep 1.6's names.
func codeFor(subprotocol string, code ErrorCode, frame bool) ErrorCode {
	if !strings.HasPrefix(subprotocol, "ocpp2") {
		return code
	}
	if frame && code == ProtocolError {
		return RpcFrameworkError
	}
	if c, ok := spelling201[code]; ok {
		return c
	}
	return code
}

// CallError is an RPC error: a handler returns one to answer a CALL with a
// CALLERROR, and Call returns one when the CSMS answered with a CALLERROR.
type CallError struct {
	Code        ErrorCode
	Description string
	Details     json.RawMessage // nil is sent as {}
}

// Error implements error. A nil *CallError reads "<nil>", so that logging
// the last error of an abandoned entry that timed out (see
// DeliveryHooks.Abandoned) cannot panic.
func (e *CallError) Error() string {
	if e == nil {
		return "<nil>"
	}
	return fmt.Sprintf("ocpp: CALLERROR %s: %s", e.Code, e.Description)
}

// Errorf builds a CallError with a formatted description.
func Errorf(code ErrorCode, format string, args ...any) *CallError {
	return &CallError{Code: code, Description: fmt.Sprintf(format, args...)}
}

// Handler answers the CSMS's CALLs. HandleCall runs on its own goroutine per
// call, concurrently with outbound CALLs; it returns the response payload
// (marshalled with encoding/json) or an error. A *CallError becomes that
// CALLERROR; any other error becomes InternalError. An action the handler
// does not know must return NotImplemented (NotSupported where the action is
// known but not supported). A response that must be followed by a CALL of
// the charge point's own, only once the CSMS has it (TriggerMessage), is
// returned wrapped by WithFollowUp. ctx is the connection's: it ends when
// the connection closes.
type Handler interface {
	HandleCall(ctx context.Context, action string, payload json.RawMessage) (any, error)
}

// FollowUp is a Handler result that carries work to run once the answer is
// out. OCPP 1.6 TriggerMessage needs it: the charge point SHALL send the
// TriggerMessage answer first and only then the message asked for, and a
// handler that started that CALL itself would race its own answer.
//
// Then runs exactly once if the CALLRESULT carrying Response was written to
// the connection, and never otherwise: not when the handler returned an
// error or Response could not be encoded (the CSMS gets a CALLERROR
// instead), nor when the connection closed before the answer could be
// written, nor when the write failed. A CALL that Then makes on the same
// connection therefore reaches the CSMS after the answer.
//
// Then runs on the goroutine that served the CALL, after the connection
// stopped counting that CALL as being handled, so it may block: a
// Client.Call from it waits for the sender slot behind the CALL in flight
// like any other. ctx is the connection's context, done once the
// connection closes (possibly already when Then starts, if it closed right
// after the answer was written); Then must return promptly once ctx is done,
// because the connection's shutdown, and so Run's return, waits for it.
// Passing ctx to Client.Call does that. Client.Call returns ErrOffline while
// OnConnect has not yet succeeded. A panic in Then is recovered and logged.
type FollowUp struct {
	// Response is the CALLRESULT payload, as a Handler would return it
	// without a follow-up; nil is sent as {}.
	Response any
	// Then is the work to run once the answer is written; nil means none.
	Then func(ctx context.Context)
}

// WithFollowUp returns a Handler result that answers the CALL with resp
// and, once that CALLRESULT has been written, runs then (see FollowUp).
func WithFollowUp(resp any, then func(ctx context.Context)) FollowUp {
	return FollowUp{Response: resp, Then: then}
}

// MarshalJSON encodes Response alone: the Client sends it so, and code that
// encodes a Handler's result itself (an adapter's unit test) sees the same
// answer.
func (f FollowUp) MarshalJSON() ([]byte, error) { return json.Marshal(f.Response) }

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, action string, payload json.RawMessage) (any, error)

// HandleCall implements Handler.
func (f HandlerFunc) HandleCall(ctx context.Context, action string, payload json.RawMessage) (any, error) {
	return f(ctx, action, payload)
}

// Caller sends one CALL and waits for its answer: resp is filled from the
// CALLRESULT payload; a CALLERROR comes back as *CallError; no answer within
// the call timeout as an error wrapping ErrTimeout.
type Caller interface {
	Call(ctx context.Context, action string, req, resp any) error
}

// EntryKind classifies a queued message for the queue's size policy.
type EntryKind uint8

// Entry kinds. Start and Stop are never dropped.
const (
	KindOther EntryKind = iota
	KindStart           // StartTransaction / TransactionEvent(Started)
	KindStop            // StopTransaction / TransactionEvent(Ended)
	KindMeter           // transaction MeterValues / TransactionEvent(Updated)
)

// Entry is one durable message.
type Entry struct {
	// Seq orders the queue; assigned by Enqueue, increasing.
	Seq    uint64
	Kind   EntryKind
	Action string
	// Payload is the request as queued; DeliveryHooks.Prepare may rewrite it
	// at send time (e.g. to fill in a transactionId assigned later).
	Payload json.RawMessage
	// Key groups the entries of one session (the station's session id), so
	// that hooks can patch them.
	Key string
	// Attempts counts the failed attempts so far: CALLERROR answers and
	// CALLs left unanswered within the call timeout (a connection lost
	// with the CALL in flight does not count).
	Attempts   int
	EnqueuedAt time.Time
}

// DeliveryHooks let an adapter take part in draining the queue.
type DeliveryHooks interface {
	// Prepare returns the payload to send for e, called just before each
	// attempt.
	Prepare(e Entry) (json.RawMessage, error)
	// Delivered is called with the CALLRESULT payload once e is answered,
	// before e is removed from the queue; the adapter records ids here. An
	// error leaves e at the head of the queue to be sent again.
	Delivered(e Entry, resp json.RawMessage) error
	// Abandoned is called when e has failed TransactionMessageAttempts
	// times (CALLERROR answers and call timeouts together, see
	// Entry.Attempts) and has been moved to the dead-letter bucket (kept
	// on disk, no longer sent). last is the CALLERROR of the final
	// attempt, or nil when that attempt timed out. e is the entry as it
	// was before the final attempt: e.Attempts is one less than the
	// count stored with the dead letter.
	Abandoned(e Entry, last *CallError)
}

// Options configure a Client. Zero values are documented per field.
type Options struct {
	// URL is the CSMS endpoint, ws:// or wss://; the charge point id is
	// appended as the last path segment. Required.
	URL string
	// ChargePointID identifies the charger. Required.
	ChargePointID string
	// Subprotocols offered in the handshake, in order of preference, e.g.
	// ["ocpp1.6"]. Required.
	Subprotocols []string
	// SecurityProfile is 0 (none), 1 (HTTP Basic over ws), 2 (Basic over
	// wss with server certificate check) or 3 (wss with client certificate).
	SecurityProfile int
	// Password is the AuthorizationKey sent as HTTP Basic password with the
	// charge point id as user (profiles 1 and 2).
	Password string
	// TLS configures wss (CA pool, client certificate); nil means system
	// roots. The client enforces TLS >= 1.2 and, for TLS 1.2, the security
	// whitepaper's cipher suites unless TLS names its own.
	TLS *tls.Config
	// TLSFor, when set, is called at every wss dial for the configuration
	// to use instead of TLS, so that roots and a client certificate
	// installed meanwhile (the certificate store) are used from the next
	// connection on; an error fails the dial.
	TLSFor func() (*tls.Config, error)
	// PingInterval is the websocket ping period (WebSocketPingInterval); 0
	// disables pings. A missing pong within the interval drops the
	// connection.
	PingInterval time.Duration
	// CallTimeout bounds the wait for a CALLRESULT, and the websocket
	// handshake; 0 means 30 s.
	CallTimeout time.Duration
	// BackoffMin and BackoffMax bound the reconnect delay, which doubles from
	// BackoffMin up to BackoffMax with +-25 % jitter, the result kept within
	// [BackoffMin, BackoffMax]; zero means 1 s and 5 min. The delay starts
	// again from BackoffMin once OnConnect has succeeded.
	BackoffMin, BackoffMax time.Duration
	// Handler answers inbound CALLs; nil answers every CALL NotImplemented.
	Handler Handler
	// OnConnect runs after every successful websocket connect, before the
	// queue drains and before Call is allowed for others: the adapter sends
	// BootNotification through c (retrying while Pending) and returns nil
	// once registered. An error drops the connection and reconnects with
	// back-off.
	OnConnect func(ctx context.Context, c Caller) error
	// OnDisconnect, when set, is called once for every connection attempt
	// that ended while the Client runs on (not for the one Stop ends):
	// registered says whether OnConnect had succeeded on it, err is why it
	// ended (a refused dial, a 401, an OnConnect error, a lost
	// connection). It runs before the back-off starts and must not block;
	// it may call Stop. The agent counts failed attempts with it to fall
	// back from connection settings that do not work.
	OnDisconnect func(registered bool, err error)
	// Queue is drained in order after OnConnect succeeds; nil means no
	// durable messages.
	Queue *Queue
	// Hooks take part in draining Queue; nil sends payloads as queued.
	Hooks DeliveryHooks
	// Adapters, when set, says who speaks each of Subprotocols: the one
	// the CSMS chooses in the handshake answers its CALLs, registers and
	// has its queue drained on that connection, so that one Client offers
	// OCPP 1.6 and 2.0.1 and the CSMS decides. Every subprotocol offered
	// needs an entry; Handler, OnConnect, Queue and Hooks above are then
	// not used.
	Adapters map[string]Adapter
	// Clock is the time source; nil means the wall clock.
	Clock clock.Clock
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger

	// ReadBufferSize and WriteBufferSize are the websocket I/O buffer sizes,
	// in bytes, held for the connection's lifetime; 0 means 4096 each. A
	// frame larger than a buffer still goes through, in several reads or
	// writes. The fleet simulator sets them small: it holds thousands of
	// connections in one process.
	ReadBufferSize, WriteBufferSize int
	// WriteBufferPool, when set, lends the write buffer for each message
	// instead of keeping one per connection; share one (a *sync.Pool does)
	// among many Clients that use the same WriteBufferSize. Nil keeps a
	// buffer per connection.
	WriteBufferPool BufferPool
	// OnCall, when set, is called once for every outbound CALL that was
	// sent, when it completes (answered, refused, timed out or lost with the
	// connection), from the goroutine that completed it. It must not block;
	// the fleet simulator counts calls and latencies with it.
	OnCall func(CallDone)
}

// Adapter is what speaks one OCPP version on a connection (see
// Options.Adapters); its fields mean what Options' fields of the same
// names do.
type Adapter struct {
	Handler   Handler
	OnConnect func(ctx context.Context, c Caller) error
	Queue     *Queue
	Hooks     DeliveryHooks
}

// BufferPool lends byte buffers; *sync.Pool satisfies it. Get returns nil
// when the pool is empty.
type BufferPool interface {
	Get() any
	Put(any)
}

// CallDone describes a completed outbound CALL, for Options.OnCall.
type CallDone struct {
	Action string
	// Latency is from sending the CALL to its completion, on Options.Clock.
	Latency time.Duration
	// Err is nil for a CALLRESULT, a *CallError for a CALLERROR, or an
	// error wrapping ErrTimeout or ErrOffline.
	Err error
}

// Errors of the transport.
var (
	// ErrOffline: there is no registered connection to send on.
	ErrOffline = fmt.Errorf("ocpp: offline")
	// ErrTimeout: no answer to a CALL within the call timeout.
	ErrTimeout = fmt.Errorf("ocpp: call timed out")
	// ErrUnauthorized: the CSMS refused the handshake with HTTP 401 (wrong
	// ChargePointID or Password). The client keeps retrying with back-off.
	ErrUnauthorized = fmt.Errorf("ocpp: CSMS rejected the credentials (HTTP 401)")
	// ErrNoSubprotocol: the CSMS accepted the websocket but chose none of
	// Options.Subprotocols. The client keeps retrying with back-off.
	ErrNoSubprotocol = fmt.Errorf("ocpp: CSMS chose none of the offered subprotocols")
)
