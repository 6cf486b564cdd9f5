package ocppclient

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/gorilla/websocket"
)

// Defaults for zero Options fields.
const (
	defaultCallTimeout = 30 * time.Second
	defaultBackoffMin  = time.Second
	defaultBackoffMax  = 5 * time.Minute
)

// State is where the Client stands with the CSMS.
type State int

// States, in the order a connection goes through them.
const (
	StateOffline    State = iota // not running, or waiting to reconnect
	StateConnecting              // websocket handshake in progress
	StateConnected               // websocket up, OnConnect not done yet
	StateRegistered              // OnConnect succeeded: Call is open, the queue drains
)

// String implements fmt.Stringer.
func (s State) String() string {
	switch s {
	case StateOffline:
		return "offline"
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateRegistered:
		return "registered"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Status is a snapshot of the Client for the status API.
type Status struct {
	State State
	// Subprotocol is the one the CSMS chose; "" while not connected.
	Subprotocol string
	// Queued is the number of durable messages waiting (0 without a Queue).
	Queued int
	// LastError is the most recent connection or delivery error, nil if none
	// so far; LastErrorAt is when it happened (Options.Clock time).
	LastError   error
	LastErrorAt time.Time
}

// Connected reports whether the websocket is up.
func (s Status) Connected() bool { return s.State >= StateConnected }

// Registered reports whether OnConnect has succeeded on the current
// connection.
func (s Status) Registered() bool { return s.State == StateRegistered }

// Client is the OCPP-J transport of one charge point. Build it with New and
// drive it with Run; Call, Connected, Registered and Status are safe for
// concurrent use from any goroutine.
type Client struct {
	opts   Options // with defaults filled in; read-only after New
	clk    clock.Clock
	log    *slog.Logger
	url    string
	header http.Header // handshake headers; cloned per dial
	dialer *websocket.Dialer

	// rand returns jitter in [0, 1); replaced by tests for determinism.
	rand func() float64

	idPrefix string        // random per Client, so that ids differ across restarts
	idSeq    atomic.Uint64 // message id counter

	// slot holds one token while an outbound CALL is in flight: OCPP-J
	// allows only one, shared by Call, OnConnect and the queue drain.
	// Blocked senders are served in arrival order, so a Call waiting while
	// the queue drains gets the slot after the current entry.
	slot chan struct{}
	// waiting counts callers blocked on slot; tests use it to know that a
	// Call is queued behind the one in flight.
	waiting atomic.Int32

	running atomic.Bool // Run has been called

	mu          sync.Mutex // guards state, conn, subprotocol, lastErr, lastErrAt
	state       State
	conn        *conn // the current connection, nil when offline
	subprotocol string
	lastErr     error
	lastErrAt   time.Time
}

var _ Caller = (*Client)(nil)

// New checks opts, fills in defaults and returns a Client ready to Run.
func New(opts Options) (*Client, error) {
	if opts.ChargePointID == "" {
		return nil, errors.New("ocppclient: ChargePointID is required")
	}
	if len(opts.Subprotocols) == 0 {
		return nil, errors.New("ocppclient: at least one subprotocol is required")
	}
	u, err := endpointURL(opts.URL, opts.ChargePointID)
	if err != nil {
		return nil, err
	}
	secure := strings.HasPrefix(u, "wss://")
	switch p := opts.SecurityProfile; {
	case p < 0 || p > 3:
		return nil, fmt.Errorf("ocppclient: unknown security profile %d", p)
	case p >= 2 && !secure:
		return nil, fmt.Errorf("ocppclient: security profile %d needs a wss:// URL, got %q", p, opts.URL)
	case (p == 1 || p == 2) && opts.Password == "":
		return nil, fmt.Errorf("ocppclient: security profile %d needs a password", p)
	case p == 3 && (opts.TLS == nil || len(opts.TLS.Certificates) == 0 && opts.TLS.GetClientCertificate == nil):
		return nil, errors.New("ocppclient: security profile 3 needs a client certificate in TLS")
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = defaultCallTimeout
	}
	if opts.BackoffMin <= 0 {
		opts.BackoffMin = defaultBackoffMin
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = defaultBackoffMax
	}
	if opts.BackoffMax < opts.BackoffMin {
		return nil, fmt.Errorf("ocppclient: BackoffMax %v is below BackoffMin %v", opts.BackoffMax, opts.BackoffMin)
	}
	if opts.PingInterval < 0 {
		opts.PingInterval = 0
	}
	opts.Subprotocols = slices.Clone(opts.Subprotocols)
	opts.Clock = clock.Or(opts.Clock)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}

	header := http.Header{}
	if opts.SecurityProfile == 1 || opts.SecurityProfile == 2 {
		cred := base64.StdEncoding.EncodeToString([]byte(opts.ChargePointID + ":" + opts.Password))
		header.Set("Authorization", "Basic "+cred)
	}
	dialer := &websocket.Dialer{
		Subprotocols:    opts.Subprotocols,
		ReadBufferSize:  opts.ReadBufferSize,
		WriteBufferSize: opts.WriteBufferSize,
	}
	if opts.WriteBufferPool != nil {
		dialer.WriteBufferPool = opts.WriteBufferPool
	}
	if secure {
		dialer.TLSClientConfig = tlsConfig(opts.TLS)
	}
	return &Client{
		opts:     opts,
		clk:      opts.Clock,
		log:      opts.Logger.With("cp", opts.ChargePointID),
		url:      u,
		header:   header,
		dialer:   dialer,
		rand:     rand.Float64,
		idPrefix: fmt.Sprintf("%08x", rand.Uint32()),
		slot:     make(chan struct{}, 1),
	}, nil
}

// tlsConfig returns a copy of cfg that allows nothing older than TLS 1.2.
func tlsConfig(cfg *tls.Config) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{}
	} else {
		cfg = cfg.Clone()
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

// endpointURL appends the path-escaped charge point id to base as its last
// path segment.
func endpointURL(base, id string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("ocppclient: URL %q: %w", base, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return "", fmt.Errorf("ocppclient: URL %q: scheme must be ws or wss", base)
	}
	if u.Host == "" {
		return "", fmt.Errorf("ocppclient: URL %q has no host", base)
	}
	u.RawPath = strings.TrimRight(u.EscapedPath(), "/") + "/" + url.PathEscape(id)
	u.Path = strings.TrimRight(u.Path, "/") + "/" + id
	return u.String(), nil
}

// Run connects and stays connected until ctx ends: it dials, runs
// OnConnect, drains the queue and answers the CSMS, and after any failure
// (refused handshake, 401, OnConnect error, lost connection, keepalive
// timeout) waits a back-off delay and starts over. A charger never gives
// up. Run returns nil once ctx is done and every goroutine it started has
// ended; it may be called only once.
func (c *Client) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("ocppclient: Run called twice")
	}
	attempt := 0
	for {
		registered, err := c.session(ctx)
		c.setOffline()
		if ctx.Err() != nil {
			return nil
		}
		if registered {
			attempt = 0
		}
		c.noteErr(err)
		d := backoff(attempt, c.opts.BackoffMin, c.opts.BackoffMax, c.rand())
		attempt++
		if errors.Is(err, ErrUnauthorized) {
			c.log.Error("ocpp connect refused: check the charge point id and password (AuthorizationKey)",
				"err", err, "retry_in", d)
		} else {
			c.log.Warn("ocpp disconnected", "err", err, "retry_in", d)
		}
		if !clock.Sleep(ctx, c.clk, d) {
			return nil
		}
	}
}

// session runs one connection from dial to loss. It reports whether
// OnConnect succeeded on it and why it ended.
func (c *Client) session(ctx context.Context) (registered bool, err error) {
	c.setState(StateConnecting)
	cn, err := c.dial(ctx)
	if err != nil {
		return false, err
	}
	defer cn.shutdown(errors.New("session ended"))
	c.mu.Lock()
	c.conn, c.state, c.subprotocol = cn, StateConnected, cn.ws.Subprotocol()
	c.mu.Unlock()
	c.log.Info("ocpp connected", "url", c.url, "subprotocol", cn.ws.Subprotocol())
	cn.start()

	if c.opts.OnConnect != nil {
		if err := c.opts.OnConnect(cn.ctx, boundCaller{c: c, cn: cn}); err != nil {
			if cause := cn.cause(); cause != nil {
				return false, fmt.Errorf("ocpp: OnConnect: %w (connection: %v)", err, cause)
			}
			return false, fmt.Errorf("ocpp: OnConnect: %w", err)
		}
	}
	c.mu.Lock()
	if cn.cause() == nil {
		c.state = StateRegistered
		registered = true
	}
	c.mu.Unlock()
	if !registered {
		return false, cn.cause()
	}
	c.log.Info("ocpp registered")
	if c.opts.Queue != nil {
		// The drain runs on this goroutine, which would otherwise only
		// wait for cn to close: drain returns once it does. One goroutine
		// per connection fewer, and thousands in the fleet simulator.
		c.drain(cn)
	}
	<-cn.done
	return true, cn.cause()
}

// dial performs the websocket handshake, bounded by CallTimeout on the
// injected clock.
func (c *Client) dial(ctx context.Context) (*conn, error) {
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := c.clk.AfterFunc(c.opts.CallTimeout, cancel)
	defer t.Stop()

	ws, resp, err := c.dialer.DialContext(dctx, c.url, c.header.Clone())
	if err != nil {
		switch {
		case resp != nil && resp.StatusCode == http.StatusUnauthorized:
			return nil, fmt.Errorf("%w: %s as %q", ErrUnauthorized, c.url, c.opts.ChargePointID)
		case resp != nil:
			return nil, fmt.Errorf("ocpp: dial %s: HTTP %d: %w", c.url, resp.StatusCode, err)
		case dctx.Err() != nil && ctx.Err() == nil:
			return nil, fmt.Errorf("ocpp: dial %s: no handshake within %v", c.url, c.opts.CallTimeout)
		}
		return nil, fmt.Errorf("ocpp: dial %s: %w", c.url, err)
	}
	// gorilla takes whatever the server puts in Sec-WebSocket-Protocol.
	if p := ws.Subprotocol(); !slices.Contains(c.opts.Subprotocols, p) {
		_ = ws.Close()
		return nil, fmt.Errorf("%w: offered %v, server chose %q", ErrNoSubprotocol, c.opts.Subprotocols, p)
	}
	return newConn(c, ctx, ws), nil
}

func (c *Client) setState(s State) {
	c.mu.Lock()
	c.state = s
	c.mu.Unlock()
}

func (c *Client) setOffline() {
	c.mu.Lock()
	c.state, c.conn, c.subprotocol = StateOffline, nil, ""
	c.mu.Unlock()
}

// noteErr records err for Status; nil is ignored.
func (c *Client) noteErr(err error) {
	if err == nil {
		return
	}
	now := c.clk.Now()
	c.mu.Lock()
	c.lastErr, c.lastErrAt = err, now
	c.mu.Unlock()
}

// Connected reports whether the websocket is up (OnConnect may still be
// running).
func (c *Client) Connected() bool { return c.Status().Connected() }

// Registered reports whether OnConnect has succeeded on the current
// connection, i.e. whether Call can send.
func (c *Client) Registered() bool { return c.Status().Registered() }

// Status returns a snapshot for the status API.
func (c *Client) Status() Status {
	c.mu.Lock()
	s := Status{State: c.state, Subprotocol: c.subprotocol, LastError: c.lastErr, LastErrorAt: c.lastErrAt}
	c.mu.Unlock()
	if c.opts.Queue != nil {
		s.Queued = c.opts.Queue.Len()
	}
	return s
}

// registeredConn returns the current connection if OnConnect succeeded on
// it, else nil.
func (c *Client) registeredConn() *conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != StateRegistered {
		return nil
	}
	return c.conn
}

// Call implements Caller. It returns ErrOffline unless the websocket is up
// and OnConnect has succeeded; otherwise it waits for the sender slot (at
// most one CALL is in flight), sends, and waits for the answer or the call
// timeout. If ctx ends first, Call returns ctx's error at once, but the slot
// stays taken until the CALL is answered or times out, so that the CSMS
// never sees two CALLs in flight.
func (c *Client) Call(ctx context.Context, action string, req, resp any) error {
	if !c.Registered() {
		return ErrOffline
	}
	return c.call(ctx, nil, action, req, resp)
}

// boundCaller is the Caller given to OnConnect: it sends on one connection
// before that connection is registered.
type boundCaller struct {
	c  *Client
	cn *conn
}

// Call implements Caller.
func (b boundCaller) Call(ctx context.Context, action string, req, resp any) error {
	return b.c.call(ctx, b.cn, action, req, resp)
}

func (c *Client) call(ctx context.Context, cn *conn, action string, req, resp any) error {
	payload, err := marshalPayload(req)
	if err != nil {
		return fmt.Errorf("ocpp: %s: %w", action, err)
	}
	res, err := c.roundTrip(ctx, cn, action, payload)
	if err != nil {
		return err
	}
	if resp == nil {
		return nil
	}
	if err := json.Unmarshal(res, resp); err != nil {
		return fmt.Errorf("ocpp: %s response: %w", action, err)
	}
	return nil
}

// roundTrip sends one CALL on cn (nil: the current registered connection)
// under the sender slot and returns the CALLRESULT payload. A CALLERROR is
// returned as *CallError.
func (c *Client) roundTrip(ctx context.Context, cn *conn, action string, payload json.RawMessage) (json.RawMessage, error) {
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	release := func() { <-c.slot }
	if cn == nil {
		cn = c.registeredConn()
		if cn == nil {
			release()
			return nil, ErrOffline
		}
	}
	p, err := cn.startCall(action, payload)
	if err != nil {
		release()
		return nil, err
	}
	select {
	case <-p.done:
		release()
	case <-ctx.Done():
		go func() {
			<-p.done
			release()
		}()
		return nil, ctx.Err()
	}
	return p.res, p.err
}

// acquire takes the sender slot, waiting in arrival order behind other
// callers, or returns ctx's error.
func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.slot <- struct{}{}:
		return nil
	default:
	}
	c.waiting.Add(1)
	defer c.waiting.Add(-1)
	select {
	case c.slot <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newID returns a message id unique within this Client and unlikely to
// repeat across restarts: at most 8+1+20 = 29 characters, within
// maxMessageIDLen.
func (c *Client) newID() string {
	return fmt.Sprintf("%s-%d", c.idPrefix, c.idSeq.Add(1))
}

// backoff returns the delay before reconnect attempt n (0 for the first
// retry after a failure): lo doubled n times, capped at hi, scaled by a
// jitter factor 0.75 + 0.5*r for r in [0, 1), and finally kept within
// [lo, hi]. Jitter spreads a fleet's reconnects after a CSMS outage.
func backoff(n int, lo, hi time.Duration, r float64) time.Duration {
	d := lo
	for i := 0; i < n && d < hi; i++ {
		d *= 2
	}
	d = time.Duration(float64(min(d, hi)) * (0.75 + 0.5*r))
	return max(lo, min(d, hi))
}
