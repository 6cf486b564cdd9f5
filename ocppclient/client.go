package ocppclient

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/internal/lazylog"
	"github.com/evsed/evsed/ocppclient/certstore"
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
//
// The fleet simulator holds thousands of Clients in one process, so the
// struct keeps only what is used after New, with the small fields packed
// together (it is 416 bytes, a size class of its own).
type Client struct {
	opts settings // with defaults filled in; read-only after New
	clk  clock.Clock
	log  *slog.Logger
	url  string
	// sec is what a secured connection is made with; nil for security
	// profile 0 over ws://, the fleet simulator's case. The dialer and
	// the headers are made for each dial from it: a Client dials rarely,
	// and the fleet simulator holds thousands.
	sec *security

	// rand returns jitter in [0, 1); replaced by tests for determinism.
	rand func() float64

	idSeq    atomic.Uint64 // message id counter
	idPrefix uint32        // random per Client, so that ids differ across restarts

	// waiting counts callers blocked on the sender slot; tests use it to
	// know that a Call is queued behind the one in flight.
	waiting atomic.Int32

	running atomic.Bool // Run or Launch has been called

	// stopping is set by Stop; state is a State; busy says the sender
	// slot is taken (see acquire). They and attempt are guarded by mu,
	// and share a word with running.
	stopping bool
	state    uint8
	busy     bool
	// attempt counts the connects that failed since the last registered
	// one, up to 255 (guarded by mu).
	attempt uint8

	// stopped is done once the Client has stopped; Launch adds to it
	// before anything else runs. (A WaitGroup rather than a channel closed
	// at the end: it needs no allocation of its own.)
	stopped sync.WaitGroup

	// single is the adapter of Options' own fields, or the one entry of
	// Options.Adapters; more holds the adapters of Options.Adapters in
	// the order of opts.Subprotocols when it has several, and is nil
	// otherwise. (A slice rather than a map: a Client offers one or two;
	// and behind a pointer, as the fleet simulator's offer one.)
	single Adapter
	more   *[]Adapter

	mu   sync.Mutex // guards state, busy, waiters, conn, lastErr, retry, attempt, stopping, dialCancel
	conn *conn      // the current connection, nil when offline
	// waiters are the callers blocked on the sender slot, in arrival
	// order (see acquire).
	waiters []chan struct{}
	// lastErr is the most recent error for Status, nil until the first;
	// replaced, never changed. (A pointer: most Clients never see one.)
	lastErr *noted
	// retry is the back-off timer that starts the next connect; nil while
	// none was armed since the last connect started.
	retry clock.Timer
	// dialCancel aborts the dial under way, nil when none is. The Client
	// stops through it and stopping rather than through contexts derived
	// from Launch's: each of those would cost the fleet simulator a
	// context and its list of children per station.
	dialCancel context.CancelFunc
}

// noted is an error noted for Status, and when it happened.
type noted struct {
	err error
	at  time.Time
}

// settings are the Options a Client uses after New, under their Options
// names; the rest of Options is turned into other fields by New.
type settings struct {
	Subprotocols           []string
	PingInterval           time.Duration
	CallTimeout            time.Duration
	BackoffMin, BackoffMax time.Duration
	OnDisconnect           func(registered bool, err error)
	WriteBufferPool        BufferPool
	OnCall                 func(CallDone)
	// The buffer sizes are kept in 32 bits; New caps them there (a
	// larger buffer per connection makes no sense).
	ReadBufferSize, WriteBufferSize int32
}

// security is the part of Options a secured connection needs.
type security struct {
	// auth is the handshake's Authorization header, "" for none, and tls
	// the TLS configuration of a wss:// URL, nil for ws://.
	auth string
	tls  *tls.Config
	// tlsFor is Options.TLSFor.
	tlsFor func() (*tls.Config, error)
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
	case p == 3 && opts.TLSFor == nil && (opts.TLS == nil || len(opts.TLS.Certificates) == 0 && opts.TLS.GetClientCertificate == nil):
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
	single := Adapter{Handler: opts.Handler, OnConnect: opts.OnConnect, Queue: opts.Queue, Hooks: opts.Hooks}
	var more *[]Adapter
	if opts.Adapters != nil {
		adapters := make([]Adapter, len(opts.Subprotocols))
		for i, p := range opts.Subprotocols {
			a, ok := opts.Adapters[p]
			if !ok {
				return nil, fmt.Errorf("ocppclient: no adapter for the subprotocol %q offered", p)
			}
			adapters[i] = a
		}
		if len(adapters) == 1 {
			single = adapters[0]
		} else {
			more = &adapters
		}
	}
	opts.Clock = clock.Or(opts.Clock)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}

	var sec *security
	if opts.SecurityProfile == 1 || opts.SecurityProfile == 2 {
		sec = &security{auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(opts.ChargePointID+":"+opts.Password))}
	}
	if secure {
		if sec == nil {
			sec = &security{}
		}
		sec.tls, sec.tlsFor = tlsConfig(opts.TLS), opts.TLSFor
	}
	return &Client{
		opts: settings{
			Subprotocols:    opts.Subprotocols,
			PingInterval:    opts.PingInterval,
			CallTimeout:     opts.CallTimeout,
			BackoffMin:      opts.BackoffMin,
			BackoffMax:      opts.BackoffMax,
			OnDisconnect:    opts.OnDisconnect,
			WriteBufferPool: opts.WriteBufferPool,
			OnCall:          opts.OnCall,
			ReadBufferSize:  int32(min(opts.ReadBufferSize, math.MaxInt32)),
			WriteBufferSize: int32(min(opts.WriteBufferSize, math.MaxInt32)),
		},
		clk: opts.Clock,
		// Lazily: the fleet simulator holds thousands of Clients.
		log:      lazylog.With(opts.Logger, "cp", opts.ChargePointID),
		url:      u,
		sec:      sec,
		rand:     rand.Float64,
		idPrefix: rand.Uint32(),
		single:   single,
		more:     more,
	}, nil
}

// adapterFor returns the adapter of a subprotocol the CSMS chose.
func (c *Client) adapterFor(subprotocol string) *Adapter {
	if i := slices.Index(c.opts.Subprotocols, subprotocol); i >= 0 && c.more != nil {
		return &(*c.more)[i]
	}
	return &c.single
}

// queues returns the adapters' queues, each once.
func (c *Client) queues() []*Queue {
	if c.more == nil {
		if c.single.Queue == nil {
			return nil
		}
		return []*Queue{c.single.Queue}
	}
	var qs []*Queue
	for i := range *c.more {
		if q := (*c.more)[i].Queue; q != nil && !slices.Contains(qs, q) {
			qs = append(qs, q)
		}
	}
	return qs
}

// chargePointID returns the charge point id: the last segment of the
// endpoint URL, unescaped (see endpointURL). It is not kept beside the URL:
// only an error message needs it.
func (c *Client) chargePointID() string {
	u, err := url.Parse(c.url)
	if err != nil {
		return ""
	}
	p := u.EscapedPath()
	id, err := url.PathUnescape(p[strings.LastIndexByte(p, '/')+1:])
	if err != nil {
		return ""
	}
	return id
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
	if cfg.CipherSuites == nil {
		// TLS 1.2's suites as the whitepaper lists them; Go fixes TLS
		// 1.3's.
		cfg.CipherSuites = certstore.CipherSuites()
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
// ended; it may be called only once, and not after Launch.
func (c *Client) Run(ctx context.Context) error {
	wait, err := c.Launch(ctx)
	if err != nil {
		return err
	}
	return wait()
}

// Launch starts the Client as Run does and returns at once; wait, which
// may be called once, returns what Run would return once ctx has ended and
// every goroutine the Client started has ended. Launch (or Run) may be
// called once.
//
// A launched Client keeps no goroutine of its own while it waits: a
// registered connection with nothing to send holds only its reader, the
// queue drains on a goroutine that the next Enqueue starts and that ends
// once the queue is empty, and the back-off before a reconnect is a clock
// timer. Dialing and OnConnect run on a goroutine that ends once the
// connection is registered. That is what lets the fleet simulator hold
// thousands of idle connections in one process.
func (c *Client) Launch(ctx context.Context) (wait func() error, err error) {
	if !c.running.CompareAndSwap(false, true) {
		return nil, errors.New("ocppclient: Run or Launch called twice")
	}
	c.stopped.Add(1)
	for _, q := range c.queues() {
		q.watch(c)
	}
	// (No watch at all for a context that never ends, as the agent's.)
	context.AfterFunc(ctx, c.Stop)
	go c.connect()
	return func() error {
		c.stopped.Wait()
		return nil
	}, nil
}

// connect runs one connection from dial to registration, on a goroutine of
// its own that ends there: from then on the connection's reader, its
// inbound handlers and the drain hold it (see conn.hold), and the last of
// them to finish after it closed calls ended. A connection that fails
// before it is registered ends the same way.
func (c *Client) connect() {
	dctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.mu.Lock()
	if c.stopping {
		c.mu.Unlock()
		c.finish()
		return
	}
	c.state, c.dialCancel = uint8(StateConnecting), cancel
	c.mu.Unlock()
	cn, err := c.dial(dctx)
	c.mu.Lock()
	c.dialCancel = nil
	c.mu.Unlock()
	if err != nil {
		c.ended(nil, false, err)
		return
	}
	// The dial's hold (newConn) is this goroutine's until registration.
	defer cn.release()
	c.mu.Lock()
	c.conn, c.state = cn, uint8(StateConnected)
	cn.ad = c.adapterFor(cn.ws.Subprotocol())
	stopping := c.stopping
	c.mu.Unlock()
	if stopping {
		// Stop came during the dial, too late to abort it: the session
		// ends here, through the release above.
		cn.close(errStopped)
		return
	}
	c.log.Info("ocpp connected", "url", c.url, "subprotocol", cn.ws.Subprotocol())
	cn.start()

	if cn.ad.OnConnect != nil {
		if err := cn.ad.OnConnect(cn, boundCaller{c: c, cn: cn}); err != nil {
			if cause := cn.cause(); cause != nil {
				err = fmt.Errorf("ocpp: OnConnect: %w (connection: %v)", err, cause)
			} else {
				err = fmt.Errorf("ocpp: OnConnect: %w", err)
			}
			cn.fail(err)
			return
		}
	}
	c.mu.Lock()
	registered := cn.cause() == nil
	if registered {
		c.state = uint8(StateRegistered)
		cn.registered = true
	}
	c.mu.Unlock()
	if !registered {
		return // the conn closed during OnConnect: its cause is the error
	}
	c.log.Info("ocpp registered")
	c.kick()
}

// ended is a connection's end, or a dial's failure: q is the queue its
// adapter drained (nil for a dial), registered says whether OnConnect had
// succeeded on it, err why it ended. It runs on the
// goroutine that let go of the connection last, and arms the back-off
// timer for the next connect, or stops the Client once ctx has ended.
func (c *Client) ended(q *Queue, registered bool, err error) {
	if registered && q != nil {
		// Whatever the drain acknowledged on the connection becomes
		// durable now, as it did before the connection ended.
		if ferr := q.Flush(); ferr != nil {
			c.drainErr(fmt.Errorf("ocpp queue flush: %w", ferr), Entry{})
		}
	}
	c.setOffline()
	if c.isStopping() {
		c.finish()
		return
	}
	if f := c.opts.OnDisconnect; f != nil {
		f(registered, err)
	}
	c.noteErr(err)
	c.mu.Lock()
	if registered {
		c.attempt = 0
	}
	d := backoff(int(c.attempt), c.opts.BackoffMin, c.opts.BackoffMax, c.rand())
	if c.attempt < math.MaxUint8 {
		c.attempt++ // (more doublings than any BackoffMax needs)
	}
	c.mu.Unlock()
	if errors.Is(err, ErrUnauthorized) {
		c.log.Error("ocpp connect refused: check the charge point id and password (AuthorizationKey)",
			"err", err, "retry_in", d)
	} else {
		c.log.Warn("ocpp disconnected", "err", err, "retry_in", d)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		// Stopped while the above ran: Stop found no timer to stop.
		c.finish()
		return
	}
	// The callback starts a goroutine: a Fake clock runs it inside Advance,
	// which must not dial.
	c.retry = c.clk.AfterFunc(d, func() { go c.connect() })
}

// errStopped is why a connection closed by Stop ended.
var errStopped = errors.New("ocppclient: stopped")

// Stop ends the Client as the end of Launch's context does: a dial under
// way is aborted, a pending back-off timer is stopped, and the connection
// closes once the CSMS's CALLs in hand are answered. Launch's wait returns
// once all of it has ended. Stop may be called more than once, from any
// goroutine.
func (c *Client) Stop() {
	c.mu.Lock()
	if c.stopping {
		c.mu.Unlock()
		return
	}
	c.stopping = true
	t, cn, abort := c.retry, c.conn, c.dialCancel
	c.retry = nil
	c.mu.Unlock()
	if abort != nil {
		abort()
	}
	if cn != nil {
		go cn.closeWhenAnswered()
	}
	if t != nil && t.Stop() {
		c.finish()
	}
}

// isStopping reports whether Stop has been called.
func (c *Client) isStopping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopping
}

// finish marks the Client stopped: nothing of it runs any more. It is
// called once, by whichever path saw the end of Launch's context last.
func (c *Client) finish() {
	for _, q := range c.queues() {
		q.unwatch(c)
	}
	c.stopped.Done()
}

// dial performs the websocket handshake, bounded by CallTimeout on the
// injected clock.
func (c *Client) dial(ctx context.Context) (*conn, error) {
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := c.clk.AfterFunc(c.opts.CallTimeout, cancel)
	defer t.Stop()

	dialer := &websocket.Dialer{
		Subprotocols:    c.opts.Subprotocols,
		ReadBufferSize:  int(c.opts.ReadBufferSize),
		WriteBufferSize: int(c.opts.WriteBufferSize),
	}
	sec := c.sec
	if sec == nil {
		sec = &security{}
	}
	dialer.TLSClientConfig = sec.tls
	if c.opts.WriteBufferPool != nil {
		dialer.WriteBufferPool = c.opts.WriteBufferPool
	}
	// gorilla ends the handshake (and the TLS one) on ctx's deadline only,
	// not on its cancellation: a server that accepts the connection and
	// then says nothing would hold the dial for ever. The socket's
	// deadline, moved to the past when dctx ends, breaks the wait;
	// detach lets go of it once the handshake is over.
	var detach func() bool
	netDial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		detach = context.AfterFunc(dctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
		return nc, nil
	}
	// A plain socket is read through a frameGate, so that the connection
	// can wait for frames on a small stack (see conn.awaitFrames); a TLS
	// one is not: its plaintext may wait in the TLS layer's buffer, where
	// the socket's poller cannot see it.
	var fg *frameGate
	dialer.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := netDial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if fg = gate(nc); fg != nil {
			return fg, nil
		}
		return nc, nil
	}
	if strings.HasPrefix(c.url, "wss://") {
		cfg := sec.tls
		if sec.tlsFor != nil {
			fresh, err := sec.tlsFor()
			if err != nil {
				return nil, fmt.Errorf("ocpp: dial %s: TLS configuration: %w", c.url, err)
			}
			cfg = tlsConfig(fresh)
		}
		// The handshake on our side, so that a failure says how far it
		// got (certstore.HandshakeError): a refused client certificate
		// and a refused cipher suite are different security events.
		dialer.NetDialTLSContext = certstore.DialTLS(cfg, netDial)
	}
	var header http.Header
	if sec.auth != "" {
		header = http.Header{"Authorization": {sec.auth}}
	}
	ws, resp, err := dialer.DialContext(dctx, c.url, header)
	if err == nil && detach != nil && !detach() {
		// dctx ended as the handshake finished: the socket's deadline
		// is in the past.
		_ = ws.Close()
		ws, err = nil, dctx.Err()
	}
	if err != nil {
		switch {
		case resp != nil && resp.StatusCode == http.StatusUnauthorized:
			return nil, fmt.Errorf("%w: %s as %q", ErrUnauthorized, c.url, c.chargePointID())
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
	cn := newConn(c, ws)
	if !strings.HasPrefix(c.url, "wss://") {
		cn.gate = fg
	}
	return cn, nil
}

func (c *Client) setOffline() {
	c.mu.Lock()
	c.state, c.conn = uint8(StateOffline), nil
	c.mu.Unlock()
}

// noteErr records err for Status; nil is ignored.
func (c *Client) noteErr(err error) {
	if err == nil {
		return
	}
	now := c.clk.Now()
	c.mu.Lock()
	c.lastErr = &noted{err: err, at: now}
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
	s := Status{State: State(c.state)}
	if e := c.lastErr; e != nil {
		s.LastError, s.LastErrorAt = e.err, e.at
	}
	if c.conn != nil {
		// The conn is set with StateConnected and cleared going offline.
		s.Subprotocol = c.conn.ws.Subprotocol()
	}
	c.mu.Unlock()
	for _, q := range c.queues() {
		s.Queued += q.Len()
	}
	return s
}

// registeredConn returns the current connection if OnConnect succeeded on
// it, else nil.
func (c *Client) registeredConn() *conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != uint8(StateRegistered) {
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
	if cn == nil {
		cn = c.registeredConn()
		if cn == nil {
			c.release()
			return nil, ErrOffline
		}
	}
	p, err := cn.startCall(action, payload)
	if err != nil {
		c.release()
		return nil, err
	}
	select {
	case <-p.done:
		c.release()
	case <-ctx.Done():
		go func() {
			<-p.done
			c.release()
		}()
		return nil, ctx.Err()
	}
	return p.res, p.err
}

// acquire takes the sender slot, waiting in arrival order behind other
// callers, or returns ctx's error. The slot holds one token while an
// outbound CALL is in flight: OCPP-J allows only one, shared by Call,
// OnConnect and the queue drain; a Call waiting while the queue drains
// gets it after the current entry. (A channel of capacity 1 would do the
// same, but cost every Client about 100 bytes for its lifetime; the fleet
// simulator holds thousands, nearly all of them idle. Here only a caller
// that has to wait makes a channel, for as long as it waits.)
func (c *Client) acquire(ctx context.Context) error {
	c.mu.Lock()
	if !c.busy {
		c.busy = true
		c.mu.Unlock()
		return nil
	}
	w := make(chan struct{})
	c.waiters = append(c.waiters, w)
	c.waiting.Add(1)
	c.mu.Unlock()
	defer c.waiting.Add(-1)
	select {
	case <-w:
		return nil
	case <-ctx.Done():
	}
	c.mu.Lock()
	if i := slices.Index(c.waiters, w); i >= 0 {
		c.waiters = slices.Delete(c.waiters, i, i+1)
		c.mu.Unlock()
		return ctx.Err()
	}
	c.mu.Unlock()
	// Handed the token as ctx ended: it goes to the next one.
	c.release()
	return ctx.Err()
}

// release gives the sender slot back: to the longest waiting caller, if
// any.
func (c *Client) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.waiters) == 0 {
		c.busy = false
		return
	}
	w := c.waiters[0]
	if c.waiters = c.waiters[1:]; len(c.waiters) == 0 {
		c.waiters = nil // let go of the array
	}
	close(w) // the token is w's now
}

// newID returns a message id unique within this Client and unlikely to
// repeat across restarts: at most 8+1+20 = 29 characters, within
// maxMessageIDLen.
func (c *Client) newID() string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 8+1+20)
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, hex[c.idPrefix>>shift&0xf])
	}
	b = append(b, '-')
	return string(strconv.AppendUint(b, c.idSeq.Add(1), 10))
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
