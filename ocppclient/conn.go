package ocppclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/gorilla/websocket"
)

// maxFrameSize bounds one inbound websocket message, in bytes. OCPP
// messages are a few KiB; the bound keeps a broken CSMS from exhausting the
// charger's memory.
const maxFrameSize = 1 << 20

// answerGrace bounds how long a conn whose context ended waits for the
// inbound CALLs being handled to be answered before it closes the socket.
// Handlers honour the context, so the wait is normally as long as writing
// the answers; the bound is for a write stuck on a CSMS that reads nothing.
const answerGrace = time.Second

// conn is one websocket connection to the CSMS, from a successful handshake
// until close. A reconnect makes a new conn; nothing carries over except the
// Client's sender slot.
//
// A conn is also the context that OnConnect, the drain loop and inbound
// handlers run under (see Done): it ends when the conn closes and derives
// from no other, since Client.Stop closes the conn itself. Being its own
// context spares each connection a context.WithCancel and that context's
// channel, which the fleet simulator pays for thousands of times.
//
// A context derived from a conn directly (WithCancel, WithTimeout,
// AfterFunc) registers through AfterFunc below at no further cost. One
// derived through a wrapper that hides AfterFunc (WithValue, then
// WithCancel) costs the context package a goroutine that watches Done
// until either ends: derive from the conn itself, or keep such contexts
// short-lived.
type conn struct {
	c  *Client
	ws *websocket.Conn
	// gate is ws's socket as the library reads it, nil on a TLS
	// connection (see frameGate); set before start. messages counts the
	// messages read, for gate.drained; both are the reader's.
	gate     *frameGate
	messages uint64
	// ad speaks the subprotocol the CSMS chose; set before start.
	ad *Adapter

	done chan struct{} // closed by close, after err is set and ws closed

	writeMu sync.Mutex // serializes data frames on ws (gorilla allows one writer)

	mu      sync.Mutex   // guards pending, err, endErr, awaitingPong, timer, pingAt, serving, answered, holds, draining, kicked, afters
	pending *pendingCall // the one outbound CALL awaiting its answer, or nil
	err     error        // why the conn closed; nil while open
	// endErr, when set, is why the session on the conn failed, which says
	// more than err (an OnConnect error); see fail.
	endErr error
	// timer fires tick at the earliest of the next keepalive tick (pingAt,
	// zero when pings are off) and the pending CALL's deadline; nil until
	// the first is armed. One timer for both, re-armed rather than made
	// per CALL: each timer costs an allocation, and a stopped one lingers
	// in the runtime's timer heap.
	timer  clock.Timer
	pingAt time.Time
	// afters are the functions to run once the conn has closed, for
	// contexts derived from it (see AfterFunc); nil when there are none.
	afters *afterFunc
	// answered, when not nil, is closed when serving drops to 0 (see
	// closeWhenAnswered).
	answered chan struct{}
	// serving counts the inbound CALLs being handled and not yet answered.
	serving int32

	// holds counts the goroutines using the conn: the one that dialed it
	// until it is registered, the reader, the inbound handlers and the
	// drain. The reader holds it until the conn has closed, so the count
	// drops to 0 only once the conn is closed and every one of them is
	// done; the goroutine that lets go last ends the session (see
	// Client.ended). A WaitGroup would need a goroutine to wait on it.
	holds int32

	// heard is set by the reader on every frame, ping or pong and cleared at
	// each keepalive tick: silence between two ticks drops the connection.
	heard atomic.Bool
	// awaitingPong says a keepalive ping went out at the last tick.
	awaitingPong bool
	// draining says a drain goroutine runs on the conn; kicked that an
	// entry was enqueued since it last looked (see Client.kick).
	draining, kicked bool
	// registered is set, once, when OnConnect has succeeded on the conn.
	// Written before the dialing goroutine lets go of its hold, read by
	// the one that lets go last.
	registered bool
}

// afterFunc is one function of conn.AfterFunc, in a list.
type afterFunc struct {
	f    func()
	next *afterFunc
}

var _ context.Context = (*conn)(nil)

// Deadline implements context.Context: a conn has none.
func (cn *conn) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done implements context.Context: the channel is closed once the conn has
// closed.
func (cn *conn) Done() <-chan struct{} { return cn.done }

// Err implements context.Context: context.Canceled once the conn has
// closed, nil before.
func (cn *conn) Err() error {
	select {
	case <-cn.done:
		return context.Canceled
	default:
		return nil
	}
}

// Value implements context.Context: a conn carries no values.
func (cn *conn) Value(any) any { return nil }

// AfterFunc runs f on a goroutine of its own once the conn has closed (at
// once if it has); stop unregisters f and reports whether that kept it
// from running. The context package uses it for contexts derived from the
// conn (context.WithCancel, WithTimeout, AfterFunc), which would otherwise
// each take a goroutine to watch Done.
func (cn *conn) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	cn.mu.Lock()
	if cn.Err() != nil {
		cn.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	a.next, cn.afters = cn.afters, a
	cn.mu.Unlock()
	return func() bool {
		cn.mu.Lock()
		defer cn.mu.Unlock()
		for p := &cn.afters; *p != nil; p = &(*p).next {
			if *p == a {
				*p = a.next
				return true
			}
		}
		return false // run, or stopped before
	}
}

// pendingCall is an outbound CALL waiting for its CALLRESULT or CALLERROR.
// res and err are written once, before done is closed; read them only after
// done is closed.
type pendingCall struct {
	id     string
	action string
	done   chan struct{}
	res    json.RawMessage
	err    error
	// deadline is when the call times out, on the Client's clock: the
	// conn's callTimer may fire late for a call already answered, and
	// must not time out the next one.
	deadline time.Time
	sent     time.Time // when the CALL was registered, for Options.OnCall
}

func newConn(c *Client, ws *websocket.Conn) *conn {
	cn := &conn{
		c:     c,
		ws:    ws,
		done:  make(chan struct{}),
		holds: 1, // the dialing goroutine's, see Client.connect
	}
	ws.SetReadLimit(maxFrameSize)
	ws.SetPongHandler(cn.pong)
	ws.SetPingHandler(cn.ping)
	return cn
}

// pong is the websocket's pong handler.
func (cn *conn) pong(string) error {
	cn.heard.Store(true)
	return nil
}

// ping is the websocket's ping handler: it answers with a pong.
func (cn *conn) ping(data string) error {
	cn.heard.Store(true)
	// A zero deadline: the wall clock is not ours to read, and a stuck
	// write is ended by the keepalive closing the socket.
	err := cn.ws.WriteControl(websocket.PongMessage, []byte(data), time.Time{})
	if errors.Is(err, websocket.ErrCloseSent) {
		return nil
	}
	return err
}

// start runs the reader and arms the keepalive. Client.Stop closes the
// conn, once the CALLs being handled are answered (closeWhenAnswered).
func (cn *conn) start() {
	cn.hold()
	if cn.gate != nil {
		go cn.awaitFrames()
	} else {
		go cn.readLoop()
	}
	if d := cn.c.opts.PingInterval; d > 0 {
		now := cn.c.clk.Now()
		cn.mu.Lock()
		if cn.err == nil {
			cn.pingAt = now.Add(d)
			cn.armLocked(now, nil)
		}
		cn.mu.Unlock()
	}
}

// armLocked arms the timer for the earliest of pingAt and the pending
// CALL's deadline, leaving out skip, a call being completed; with
// neither it stops the timer. cn.mu is held.
func (cn *conn) armLocked(now time.Time, skip *pendingCall) {
	next := cn.pingAt
	if p := cn.pending; p != nil && p != skip && (next.IsZero() || p.deadline.Before(next)) {
		next = p.deadline
	}
	switch {
	case next.IsZero():
		if cn.timer != nil {
			cn.timer.Stop()
		}
	case cn.timer == nil:
		cn.timer = cn.c.clk.AfterFunc(next.Sub(now), cn.tick)
	default:
		cn.timer.Reset(next.Sub(now))
	}
}

// tick is the timer's callback: it times out the pending CALL once its
// deadline has passed, and runs the keepalive once pingAt has. The timer
// may fire for a deadline that no longer holds (a call answered
// meanwhile); then tick only re-arms it.
func (cn *conn) tick() {
	now := cn.c.clk.Now()
	cn.mu.Lock()
	if cn.err != nil {
		cn.mu.Unlock()
		return
	}
	p := cn.pending
	if p != nil && now.Before(p.deadline) {
		p = nil
	}
	var ping, drop bool
	d := cn.c.opts.PingInterval
	if !cn.pingAt.IsZero() && !now.Before(cn.pingAt) {
		// Drop the connection if nothing was heard since the previous
		// ping, and otherwise send one.
		heard := cn.heard.Swap(false)
		if cn.awaitingPong && !heard {
			drop = true
		} else {
			cn.awaitingPong, cn.pingAt, ping = true, now.Add(d), true
		}
	}
	if !drop {
		cn.armLocked(now, p)
	}
	cn.mu.Unlock()
	if drop {
		cn.c.log.Warn("ocpp keepalive: no pong, dropping the connection", "interval", d)
		cn.close(fmt.Errorf("keepalive: nothing heard within %v of a ping", d))
		return
	}
	if p != nil {
		timeout := cn.c.opts.CallTimeout
		if cn.finish(p, nil, fmt.Errorf("%s %s: no answer within %v: %w", p.action, p.id, timeout, ErrTimeout)) {
			cn.c.log.Warn("ocpp call timed out", "action", p.action, "msg_id", p.id)
		}
	}
	if ping {
		if err := cn.ws.WriteControl(websocket.PingMessage, nil, time.Time{}); err != nil {
			cn.close(fmt.Errorf("ping: %w", err))
		}
	}
}

// hold counts one more goroutine using the conn. It may be called only by
// a goroutine that holds it already, or with the conn open (the reader
// holds it then).
func (cn *conn) hold() {
	cn.mu.Lock()
	cn.holds++
	cn.mu.Unlock()
}

// release lets go of a hold; the last one ends the session. Inbound
// handlers must honour their context for that to come promptly.
func (cn *conn) release() {
	cn.mu.Lock()
	cn.holds--
	last := cn.holds == 0
	err := cn.endErr
	if err == nil {
		err = cn.err
	}
	cn.mu.Unlock()
	if last {
		var q *Queue
		if cn.ad != nil { // nil only for a conn given up before its session began
			q = cn.ad.Queue
		}
		cn.c.ended(q, cn.registered, err)
	}
}

// fail closes the conn because the session on it failed with err, which
// is what the session's end reports.
func (cn *conn) fail(err error) {
	cn.mu.Lock()
	if cn.endErr == nil {
		cn.endErr = err
	}
	cn.mu.Unlock()
	cn.close(errors.New("session ended"))
}

// closeWhenAnswered closes the conn for Client.Stop: first it
// waits, up to answerGrace, for the inbound CALLs being handled to be
// answered. A handler may well be what ended the context: a
// ChangeConfiguration of a key the connection is made with has the agent
// reconnect, and the CSMS must still get the Accepted that says so.
func (cn *conn) closeWhenAnswered() {
	cn.mu.Lock()
	var answered chan struct{}
	if cn.serving > 0 && cn.err == nil {
		answered = make(chan struct{})
		cn.answered = answered
	}
	cn.mu.Unlock()
	if answered != nil {
		t := cn.c.clk.NewTimer(answerGrace)
		select {
		case <-answered:
		case <-t.C():
		}
		t.Stop()
	}
	cn.close(errStopped)
}

// close ends the connection once; later calls do nothing. The pending CALL,
// if any, fails with an error wrapping ErrOffline.
func (cn *conn) close(cause error) {
	if cause == nil {
		cause = errors.New("closed")
	}
	cn.mu.Lock()
	if cn.err != nil {
		cn.mu.Unlock()
		return
	}
	cn.err = cause
	p := cn.pending
	if cn.timer != nil {
		cn.timer.Stop()
	}
	cn.mu.Unlock()

	_ = cn.ws.Close() // unblocks the reader and any stuck writer
	// Done and the functions of AfterFunc under mu, so that AfterFunc
	// either registers before this or sees Err set.
	cn.mu.Lock()
	close(cn.done)
	afters := cn.afters
	cn.afters = nil
	cn.mu.Unlock()
	for a := afters; a != nil; a = a.next {
		go a.f()
	}
	if p != nil {
		cn.finish(p, nil, fmt.Errorf("%w: connection lost during %s: %v", ErrOffline, p.action, cause))
	}
}

// cause returns why the conn closed, or nil while it is open.
func (cn *conn) cause() error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.err
}

// write sends one text frame.
func (cn *conn) write(b []byte) error {
	cn.writeMu.Lock()
	defer cn.writeMu.Unlock()
	return cn.ws.WriteMessage(websocket.TextMessage, b)
}

// startCall registers a CALL as the pending one, arms its timeout and sends
// it. The caller must hold the Client's sender slot. The returned call
// completes (done closed) on its answer, its timeout or connection loss.
func (cn *conn) startCall(action string, payload json.RawMessage) (*pendingCall, error) {
	id := cn.c.newID()
	b, err := Frame{Type: MsgCall, ID: id, Action: action, Payload: payload}.Encode()
	if err != nil {
		return nil, err
	}
	timeout := cn.c.opts.CallTimeout
	now := cn.c.clk.Now()
	p := &pendingCall{id: id, action: action, done: make(chan struct{}), deadline: now.Add(timeout), sent: now}
	cn.mu.Lock()
	if cn.err != nil {
		err := cn.err
		cn.mu.Unlock()
		return nil, fmt.Errorf("%w: %v", ErrOffline, err)
	}
	if cn.pending != nil {
		// The sender slot makes this impossible; refuse rather than break
		// the one-in-flight rule if a future change gets it wrong.
		cn.mu.Unlock()
		return nil, fmt.Errorf("ocpp: %s: another CALL (%s) is in flight", action, cn.pending.action)
	}
	cn.pending = p
	cn.armLocked(now, nil)
	cn.mu.Unlock()

	cn.c.log.Debug("ocpp send", "type", MsgCall, "action", action, "msg_id", id)
	if err := cn.write(b); err != nil {
		cn.close(fmt.Errorf("write: %w", err))
	}
	return p, nil
}

// finish completes p if it is still the pending call; it reports whether it
// did (a late answer, a timeout racing an answer, or a second close lose).
func (cn *conn) finish(p *pendingCall, res json.RawMessage, err error) bool {
	now := cn.c.clk.Now()
	cn.mu.Lock()
	if cn.pending != p {
		cn.mu.Unlock()
		return false
	}
	cn.pending = nil
	if cn.err == nil {
		cn.armLocked(now, nil) // for the keepalive alone, if at all
	}
	cn.mu.Unlock()
	p.res, p.err = res, err
	if f := cn.c.opts.OnCall; f != nil {
		f(CallDone{Action: p.action, Latency: now.Sub(p.sent), Err: err})
	}
	close(p.done)
	return true
}

// answer completes the pending call with id; false when no call with that
// id is pending (unknown, late or duplicate answer).
func (cn *conn) answer(id string, res json.RawMessage, err error) bool {
	cn.mu.Lock()
	p := cn.pending
	cn.mu.Unlock()
	if p == nil || p.id != id {
		return false
	}
	return cn.finish(p, res, err)
}

// readLoop reads and routes the frames of the connection until it fails;
// on a gated connection, until the socket has nothing more for now (see
// awaitFrames). It holds the reader's hold on the conn.
func (cn *conn) readLoop() {
	for {
		_, b, err := cn.ws.ReadMessage()
		if err != nil {
			cn.close(fmt.Errorf("read: %w", err))
			cn.release()
			return
		}
		cn.heard.Store(true)
		cn.handleFrame(b)
		cn.messages++
		if cn.gate != nil && cn.gate.drained(cn.messages) && !cn.backlog() {
			// Nothing is left in the library's buffer: wait for the
			// socket on a fresh goroutine, whose stack is the smallest,
			// and let this one, grown by the reading, end. (A stack
			// shrinks at a garbage collection only while less than a
			// quarter of it is used, counting an 800-byte margin: never,
			// for a goroutine parked in the library's read.) The hold
			// passes on to it. Otherwise the buffer holds more (the next
			// message, or a control frame), or the queue drains a
			// backlog: read on, on the stack the reading has grown (a
			// fresh one grows again for every answer, which cost the
			// drain a tenth of its rate).
			go cn.awaitFrames()
			return
		}
	}
}

// backlog says the queue holds more than the entry whose answer may just
// have come: the drain's next CALL is about to go out, and its answer to
// come back.
func (cn *conn) backlog() bool {
	q := cn.ad.Queue
	return q != nil && q.Len() > 1
}

// awaitFrames waits until the socket has something to read, then reads it
// (see readLoop); the reader of a gated connection. It parks a few hundred
// bytes deep, within the 2 KB a goroutine starts with.
func (cn *conn) awaitFrames() {
	if err := cn.gate.wait.readable(); err != nil {
		cn.close(fmt.Errorf("read: %w", err))
		cn.release()
		return
	}
	cn.readLoop()
}

// handleFrame validates and routes one inbound message. Nothing a CSMS
// sends may crash the agent: bad frames are answered with a CALLERROR when
// their id can be recovered and dropped otherwise.
func (cn *conn) handleFrame(b []byte) {
	f, err := ParseFrame(b)
	if err != nil {
		var fe *FrameError
		if !errors.As(err, &fe) || fe.ID == "" {
			cn.c.log.Warn("ocpp dropped unreadable frame", "err", err, "frame", truncate(b))
			return
		}
		if fe.Type == MsgCallResult || fe.Type == MsgCallError {
			// A CALLERROR cannot answer an answer; fail the call it was
			// meant for so its caller does not wait for the timeout. One
			// with an over-long id matches none of ours (newID stays
			// within the limit) and is dropped here with the warning.
			if !cn.answer(fe.ID, nil, fmt.Errorf("ocpp: malformed answer: %w", fe)) {
				cn.c.log.Warn("ocpp dropped malformed answer", "msg_id", fe.ID, "err", err)
			}
			return
		}
		cn.c.log.Warn("ocpp rejected malformed frame", "msg_id", fe.ID, "code", fe.Code, "err", err)
		code := codeFor(cn.ws.Subprotocol(), fe.Code, fe.Code == ProtocolError)
		if fe.Type != MsgCall && fe.Type != MsgCallResult && fe.Type != MsgCallError && fe.Type != 0 && code == RpcFrameworkError {
			code = MessageTypeNotSupported // 2.0.1 has a code of its own for it
		}
		cn.reply(Frame{Type: MsgCallError, ID: fe.ID, Err: &CallError{Code: code, Description: fe.Reason}})
		return
	}
	switch f.Type {
	case MsgCall:
		cn.c.log.Debug("ocpp recv", "type", f.Type, "action", f.Action, "msg_id", f.ID)
		cn.mu.Lock()
		closing := cn.err != nil
		if !closing {
			cn.serving++
		}
		cn.mu.Unlock()
		if closing {
			// The connection is going away; the CSMS times the CALL out
			// and sends it again on the next one.
			cn.c.log.Debug("ocpp dropped CALL: connection closing", "action", f.Action, "msg_id", f.ID)
			return
		}
		cn.hold()
		go cn.serve(f)
	case MsgCallResult:
		if !cn.answer(f.ID, f.Payload, nil) {
			cn.c.log.Warn("ocpp dropped CALLRESULT with unknown or stale id", "msg_id", f.ID)
		}
	case MsgCallError:
		if !cn.answer(f.ID, nil, f.Err) {
			cn.c.log.Warn("ocpp dropped CALLERROR with unknown or stale id", "msg_id", f.ID, "code", f.Err.Code)
		}
	}
}

// serve answers one inbound CALL on its own goroutine, then runs the
// answer's follow-up, if any (see FollowUp).
func (cn *conn) serve(f Frame) {
	defer cn.release()
	if then := cn.answerCall(f); then != nil {
		cn.followUp(f, then)
	}
}

// answerCall runs the handler and writes its answer. It returns the
// answer's follow-up when there is one and the CALLRESULT was written, and
// nil otherwise. The CALL counts as handled (served) once it returns, so
// that a follow-up never holds up closeWhenAnswered.
func (cn *conn) answerCall(f Frame) (then func(context.Context)) {
	defer cn.served()
	res, err := cn.dispatch(f)
	switch r := res.(type) {
	case FollowUp:
		res, then = r.Response, r.Then
	case *FollowUp:
		if r != nil {
			res, then = r.Response, r.Then
		}
	}
	var payload json.RawMessage
	if err == nil {
		payload, err = marshalPayload(res)
	}
	if err != nil {
		var ce *CallError
		if !errors.As(err, &ce) {
			cn.c.log.Error("ocpp handler failed", "action", f.Action, "msg_id", f.ID, "err", err)
			// The cause stays in our log; the CSMS learns only that it
			// was ours.
			ce = &CallError{Code: InternalError, Description: "internal error handling " + f.Action}
		}
		if c := codeFor(cn.ws.Subprotocol(), ce.Code, false); c != ce.Code {
			ce = &CallError{Code: c, Description: ce.Description, Details: ce.Details}
		}
		cn.reply(Frame{Type: MsgCallError, ID: f.ID, Err: ce})
		return nil
	}
	if !cn.reply(Frame{Type: MsgCallResult, ID: f.ID, Payload: payload}) {
		return nil
	}
	return then
}

// followUp runs then with the connection's context, turning a panic into a
// log line as dispatch does for handlers.
func (cn *conn) followUp(f Frame, then func(context.Context)) {
	defer func() {
		if r := recover(); r != nil {
			cn.c.log.Error("ocpp follow-up panicked", "action", f.Action, "msg_id", f.ID,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	then(cn)
}

// served counts an inbound CALL as answered (or its answer as lost).
func (cn *conn) served() {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	cn.serving--
	if cn.serving == 0 && cn.answered != nil {
		close(cn.answered)
		cn.answered = nil
	}
}

// dispatch runs the handler, turning a panic into an InternalError.
func (cn *conn) dispatch(f Frame) (res any, err error) {
	h := cn.ad.Handler
	if h == nil {
		return nil, Errorf(NotImplemented, "%s is not implemented", f.Action)
	}
	defer func() {
		if r := recover(); r != nil {
			cn.c.log.Error("ocpp handler panicked", "action", f.Action, "msg_id", f.ID,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			res, err = nil, Errorf(InternalError, "internal error handling %s", f.Action)
		}
	}()
	return h.HandleCall(cn, f.Action, f.Payload)
}

// reply sends an answer and reports whether it was written; on a dead
// connection it is lost, which is what OCPP-J expects (the CSMS times the
// CALL out).
func (cn *conn) reply(f Frame) bool {
	b, err := f.Encode()
	if err != nil {
		cn.c.log.Error("ocpp encode answer", "msg_id", f.ID, "err", err)
		return false
	}
	if err := cn.write(b); err != nil {
		cn.c.log.Debug("ocpp answer lost", "msg_id", f.ID, "err", err)
		cn.close(fmt.Errorf("write: %w", err))
		return false
	}
	return true
}

// marshalPayload encodes v as an OCPP payload, which must be a JSON object;
// nil becomes {}.
func marshalPayload(v any) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("{}"), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("ocpp: encode payload: %w", err)
	}
	if string(b) == "null" {
		return json.RawMessage("{}"), nil
	}
	if !isObject(b) {
		return nil, fmt.Errorf("ocpp: payload %s is not a JSON object", truncate(b))
	}
	return b, nil
}
