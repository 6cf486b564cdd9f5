package modbus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	mb "github.com/simonvetter/modbus"
)

// Options tune a Bus. The zero value (or a nil *Options) gives the defaults
// documented on each field.
type Options struct {
	// Timeout bounds one request, from sending it to the end of the answer.
	// Zero means 500 ms: a meter answers within 20-100 ms, and a 125-register
	// answer takes 270 ms at 9600 baud. Opening a TCP connection to an
	// unreachable host is bounded separately, by the client's 5 s dial
	// timeout.
	Timeout time.Duration
	// Attempts is how many times a request is sent before it fails, so a
	// silent meter holds the bus at most Timeout × Attempts per Read. Zero
	// means 2.
	Attempts int
	// FrameDelay is the quiet time kept between the end of one exchange and
	// the next request, on top of the 3.5 character times RTU framing
	// requires (those are always kept). Some RS-485 converters and slow
	// meters need 10-50 ms. Zero means none.
	FrameDelay time.Duration
	// Clock times FrameDelay and timestamps readings; nil means clock.Real.
	// Timeouts inside the Modbus client run on real time.
	Clock clock.Clock
	// Logger receives retries and reconnections at debug level; nil
	// discards them.
	Logger *slog.Logger
}

// withDefaults returns a copy of o with the documented defaults filled in.
func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Timeout <= 0 {
		c.Timeout = 500 * time.Millisecond
	}
	if c.Attempts <= 0 {
		c.Attempts = 2
	}
	c.Clock = clock.Or(c.Clock)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Bus owns one Modbus connection (a serial line, a TCP connection to a
// Modbus TCP device or gateway, or a TCP connection to a serial converter
// carrying RTU frames) and serializes the requests of every Meter on it.
// The connection opens on the first request and reopens after a failure.
// A Bus is safe for concurrent use.
type Bus struct {
	name string // scheme and address, e.g. "rtu:/dev/ttyUSB0"
	conf mb.ClientConfiguration
	tcp  bool // Modbus TCP framing: transaction ids protect against late answers
	opts Options

	// turn holds one token; whoever holds it owns the wire and the fields
	// below. A channel, not a mutex, so that waiting honours ctx.
	turn    chan struct{}
	client  *mb.ModbusClient // nil until opened, and after a failure
	lastEnd time.Time        // end of the last exchange, for FrameDelay
	closed  bool

	mu    sync.Mutex     // guards units
	units map[uint8]bool // unit ids claimed by meters
}

// NewBus parses rawURL and returns a Bus for it; it does not touch the
// line until the first request. URL forms:
//
//	rtu:///dev/ttyUSB0?baud=9600&parity=N&stop=1&data=8
//	tcp://host:502
//	rtuovertcp://host:port?baud=9600
//
// Serial defaults are 9600 baud, 8 data bits, no parity, 1 stop bit (8N1,
// what Eastron, ABB and Carlo Gavazzi meters ship with or accept). The TCP
// port defaults to 502. For rtuovertcp, baud is the converter's serial speed,
// used to keep the RTU inter-frame gaps.
func NewBus(rawURL string, o *Options) (*Bus, error) {
	opts := o.withDefaults()
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrURL, err)
	}
	b := &Bus{
		opts:  opts,
		turn:  make(chan struct{}, 1),
		units: make(map[uint8]bool),
		conf: mb.ClientConfiguration{
			Timeout: opts.Timeout,
			Logger:  slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
		},
	}
	if o == nil || o.Logger == nil {
		// The client logs every timeout, to stdout unless told otherwise.
		b.conf.Logger = log.New(io.Discard, "", 0)
	}
	q := u.Query()
	allowed := map[string]bool{}
	switch u.Scheme {
	case "rtu":
		if u.Host != "" || u.Path == "" {
			return nil, fmt.Errorf("%w %q: want rtu:///path/to/device", ErrURL, rawURL)
		}
		b.name = "rtu:" + u.Path
		b.conf.URL = "rtu://" + u.Path
		allowed = map[string]bool{"baud": true, "parity": true, "stop": true, "data": true}
		if err := serialParams(q, &b.conf); err != nil {
			return nil, fmt.Errorf("%w %q: %v", ErrURL, rawURL, err)
		}
	case "tcp", "rtuovertcp":
		if u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("%w %q: want %s://host:port", ErrURL, rawURL, u.Scheme)
		}
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "502")
		}
		b.name = u.Scheme + ":" + host
		b.conf.URL = u.Scheme + "://" + host
		b.tcp = u.Scheme == "tcp"
		if !b.tcp {
			allowed = map[string]bool{"baud": true}
			if err := serialParams(q, &b.conf); err != nil {
				return nil, fmt.Errorf("%w %q: %v", ErrURL, rawURL, err)
			}
		}
	default:
		return nil, fmt.Errorf("%w %q: scheme must be rtu, tcp or rtuovertcp", ErrURL, rawURL)
	}
	for k := range q {
		if !allowed[k] {
			return nil, fmt.Errorf("%w %q: unknown parameter %q", ErrURL, rawURL, k)
		}
	}
	return b, nil
}

// serialParams fills the serial settings of c from URL query values.
func serialParams(q url.Values, c *mb.ClientConfiguration) error {
	num := func(key string, def uint, ok func(uint) bool) (uint, error) {
		s := q.Get(key)
		if s == "" {
			return def, nil
		}
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil || !ok(uint(n)) {
			return 0, fmt.Errorf("bad %s %q", key, s)
		}
		return uint(n), nil
	}
	var err error
	if c.Speed, err = num("baud", 9600, func(n uint) bool { return n >= 300 && n <= 4000000 }); err != nil {
		return err
	}
	if c.DataBits, err = num("data", 8, func(n uint) bool { return n == 7 || n == 8 }); err != nil {
		return err
	}
	if c.StopBits, err = num("stop", 1, func(n uint) bool { return n == 1 || n == 2 }); err != nil {
		return err
	}
	switch p := q.Get("parity"); p {
	case "", "N", "n":
		c.Parity = mb.PARITY_NONE
	case "E", "e":
		c.Parity = mb.PARITY_EVEN
	case "O", "o":
		c.Parity = mb.PARITY_ODD
	default:
		return fmt.Errorf("bad parity %q, want N, E or O", p)
	}
	return nil
}

// String returns the bus's scheme and address, e.g. "rtu:/dev/ttyUSB0".
func (b *Bus) String() string { return b.name }

// UnitRange returns the unit ids a meter on b may have: 1..247 on a serial
// line (0 is the broadcast address and 248..255 are reserved there) and
// 0..255 over Modbus TCP, where gateways use the whole byte.
func (b *Bus) UnitRange() (lo, hi int) {
	if b.tcp {
		return 0, 255
	}
	return 1, 247
}

// claim reserves unit for one meter.
func (b *Bus) claim(unit uint8) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.units[unit] {
		return fmt.Errorf("%w: %s#%d", ErrUnitInUse, b.name, unit)
	}
	b.units[unit] = true
	return nil
}

// Claim reserves unit for a device other than a Meter (an isolation
// monitor on the meters' line): no Meter or second device may take it.
func (b *Bus) Claim(unit int) error {
	lo, hi := b.UnitRange()
	if unit < lo || unit > hi {
		return fmt.Errorf("modbus: unit id %d on %s, want %d..%d", unit, b, lo, hi)
	}
	return b.claim(uint8(unit))
}

// ReadRegisters reads qty registers of function f from addr at unit, in
// the bus's turn with its timeout, retries and frame delay, for drivers of
// devices that are not meters. The words are returned as the device sent
// them. A request without an answer wraps ErrNoAnswer; a Modbus exception
// that retrying cannot cure is returned as is.
func (b *Bus) ReadRegisters(ctx context.Context, unit int, f Function, addr, qty uint16) ([]uint16, error) {
	if f != Input && f != Holding {
		return nil, fmt.Errorf("modbus: unknown function %q", f)
	}
	if qty == 0 || qty > 125 || int(addr)+int(qty) > 0x10000 {
		return nil, fmt.Errorf("modbus: %d registers from %#04x", qty, addr)
	}
	lo, hi := b.UnitRange()
	if unit < lo || unit > hi {
		return nil, fmt.Errorf("modbus: unit id %d on %s, want %d..%d", unit, b, lo, hi)
	}
	data, err := b.read(ctx, uint8(unit), request{Function: f, Addr: addr, Qty: qty})
	if err != nil {
		return nil, fmt.Errorf("modbus read %s#%d %#04x: %w", b, unit, addr, err)
	}
	out := make([]uint16, qty)
	for i := range out {
		out[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
	}
	return out, nil
}

// Close waits for the request on the wire, if any, and closes the
// connection. Later requests fail with ErrClosed.
func (b *Bus) Close() error {
	b.turn <- struct{}{}
	defer func() { <-b.turn }()
	b.closed = true
	return b.drop()
}

// drop closes the connection so that the next request reopens it; the
// caller holds the turn.
func (b *Bus) drop() error {
	if b.client == nil {
		return nil
	}
	err := b.client.Close()
	b.client = nil
	return err
}

// read fetches q.Qty registers from unit and returns their wire bytes. It
// holds the bus for at most Timeout × Attempts plus FrameDelays. A request
// without a valid answer returns an error wrapping ErrNoAnswer; a Modbus
// exception that retrying cannot cure (illegal function, address or value:
// a wrong model) returns that exception.
func (b *Bus) read(ctx context.Context, unit uint8, q request) ([]byte, error) {
	select {
	case b.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-b.turn }()
	if b.closed {
		return nil, ErrClosed
	}
	var err error
	for attempt := 1; attempt <= b.opts.Attempts; attempt++ {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err := b.pause(ctx); err != nil {
			return nil, err
		}
		var data []byte
		data, err = b.exchange(unit, q)
		b.lastEnd = b.opts.Clock.Now()
		if err == nil {
			return data, nil
		}
		if permanent(err) {
			return nil, err
		}
		b.opts.Logger.Debug("modbus request failed", "bus", b.name, "unit", unit,
			"addr", q.Addr, "qty", q.Qty, "attempt", attempt, "err", err)
	}
	return nil, fmt.Errorf("%w after %d attempts: %w", ErrNoAnswer, b.opts.Attempts, err)
}

// pause keeps FrameDelay after the last exchange; the caller holds the turn.
func (b *Bus) pause(ctx context.Context) error {
	if b.opts.FrameDelay <= 0 || b.lastEnd.IsZero() {
		return nil
	}
	wait := b.lastEnd.Add(b.opts.FrameDelay).Sub(b.opts.Clock.Now())
	if wait <= 0 {
		return nil
	}
	t := b.opts.Clock.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// exchange sends one request and reads its answer, opening the connection
// first if needed; the caller holds the turn.
func (b *Bus) exchange(unit uint8, q request) ([]byte, error) {
	if b.client == nil {
		c, err := mb.NewClient(&b.conf)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", b.name, err)
		}
		if err := c.Open(); err != nil {
			return nil, fmt.Errorf("open %s: %w", b.name, err)
		}
		b.client = c
	}
	if err := b.client.SetUnitId(unit); err != nil {
		return nil, err
	}
	kind := mb.INPUT_REGISTER
	if q.Function == Holding {
		kind = mb.HOLDING_REGISTER
	}
	data, err := b.client.ReadRawBytes(q.Addr, 2*q.Qty, kind)
	switch {
	case err == nil || permanent(err):
	case b.tcp && errors.Is(err, mb.ErrRequestTimedOut):
		// Modbus TCP matches answers by transaction id, so a late answer
		// is skipped and the connection stays usable.
	default:
		// On a serial line (or RTU over TCP) a late answer would be taken
		// for the answer to the next request; reopening discards it. Any
		// other error leaves the connection in an unknown state.
		_ = b.drop()
	}
	if err != nil {
		return nil, err
	}
	if len(data) != 2*int(q.Qty) {
		return nil, fmt.Errorf("answer of %d bytes, want %d", len(data), 2*q.Qty)
	}
	return data, nil
}

// permanent reports whether err is a Modbus exception that retrying cannot
// cure: the meter answered, but not to this model's map. Busy and gateway
// exceptions are worth another attempt.
func permanent(err error) bool {
	return errors.Is(err, mb.ErrIllegalFunction) ||
		errors.Is(err, mb.ErrIllegalDataAddress) ||
		errors.Is(err, mb.ErrIllegalDataValue)
}
