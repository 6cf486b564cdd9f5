package rfid

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"periph.io/x/devices/v3/mfrc522"
)

// UIDReader reads the UID of the card in the field, failing when there is
// none within timeout. *mfrc522.Dev satisfies it.
type UIDReader interface {
	ReadUID(timeout time.Duration) ([]byte, error)
	Halt() error
}

// Options configure a Reader. Zero values mean the documented defaults.
type Options struct {
	// Connector is the connector the events carry; 0 means a station-wide
	// reader.
	Connector int
	// Dev is the chip. Required.
	Dev UIDReader
	// Interval is the time between polls; 0 means 250 ms.
	Interval time.Duration
	// ReadTimeout bounds one poll's wait for a card; 0 means 50 ms.
	ReadTimeout time.Duration
	// Gone is how many empty polls in a row make the last card absent; 0
	// means 2.
	Gone int
	// Clock times the polls; nil means the wall clock.
	Clock clock.Clock
	// Logger receives debug logs; nil means slog.Default().
	Logger *slog.Logger
}

// Reader polls a card reader. Run polls on its own goroutine; Halt may be
// called from any goroutine.
type Reader struct {
	conn     int
	dev      UIDReader
	interval time.Duration
	timeout  time.Duration
	clk      clock.Clock
	log      *slog.Logger

	mu      sync.Mutex // guards running
	running bool

	// Owned by the Run goroutine.
	card hal.Debouncer[string] // tag of the card last reported, "" once absent for Gone polls
	read bool                  // the last poll read a card: the next empty one is logged
}

var _ hal.Resource = (*Reader)(nil)

// New builds a Reader.
func New(o Options) (*Reader, error) {
	if o.Dev == nil {
		return nil, errors.New("rfid: no reader device")
	}
	if o.Interval == 0 {
		o.Interval = 250 * time.Millisecond
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = 50 * time.Millisecond
	}
	if o.Gone == 0 {
		o.Gone = 2
	}
	if o.Interval < 0 || o.ReadTimeout < 0 || o.Gone < 0 {
		return nil, errors.New("rfid: negative interval, timeout or gone count")
	}
	r := &Reader{
		conn: o.Connector, dev: o.Dev, interval: o.Interval, timeout: o.ReadTimeout,
		clk: clock.Or(o.Clock), log: o.Logger, card: hal.NewDebouncer("", o.Gone),
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	return r, nil
}

// String implements hal.Resource.
func (r *Reader) String() string { return fmt.Sprintf("card reader %v", r.dev) }

// Halt implements hal.Resource: the chip powers down.
func (r *Reader) Halt() error { return r.dev.Halt() }

// Tag formats a UID as evsed's id tag: upper-case hex, no separators.
func Tag(uid []byte) string { return strings.ToUpper(hex.EncodeToString(uid)) }

// Run polls until ctx ends and returns nil then; only one Run may run.
func (r *Reader) Run(ctx context.Context, sink hal.Sink) error {
	r.mu.Lock()
	if r.running {
		r.mu.Unlock()
		return errors.New("rfid: already running")
	}
	r.running = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running = false
		r.mu.Unlock()
	}()
	// Rest: a poll blocks up to ReadTimeout waiting for a card, and the
	// reader gets a full Interval of rest after it.
	s := hal.Sampler{Period: r.interval, Rest: true, Clock: r.clk}
	return s.Run(ctx, sink, r.poll)
}

// poll reads once and returns the event to report, if any. A card's
// absence is debounced (Gone empty polls), its presence is not: a UID read
// is a fact, and a new card is reported at once.
func (r *Reader) poll(context.Context) []hal.Event {
	uid, err := r.dev.ReadUID(r.timeout)
	if err != nil || len(uid) == 0 {
		// The chip reports "no card" as a timeout error; a broken reader
		// looks the same, and the log says which.
		if err != nil && r.read {
			r.log.Debug("card reader: no card", "err", err)
		}
		r.read = false
		r.card.Sample("")
		return nil
	}
	r.read = true
	tag := Tag(uid)
	if !r.card.Set(tag) {
		return nil
	}
	return []hal.Event{{Connector: r.conn, Kind: hal.CardPresented, IDTag: tag, Detail: "card presented"}}
}

// *mfrc522.Dev is the reader evsed's board files name.
var _ UIDReader = (*mfrc522.Dev)(nil)
