package station

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/internal/lazylog"
	"go.etcd.io/bbolt"
	"periph.io/x/conn/v3/physic"
)

// Options configure a Station. Zero values are documented per field.
type Options struct {
	// ID names the station in logs.
	ID string
	// Connectors are the outlets, in ID order (IDs 1..n). Required; each
	// connector's Hardware.MaxCurrent must be positive.
	Connectors []ConnectorConfig
	// Board, when set, is run by Run with the station's Event method as its
	// Sink, and halted when Run returns. Nil means the caller runs the board
	// (or feeds events) itself and passes them to Event. A board that also
	// has a method Start(hal.Sink) (stop func(), err error), as the
	// simulated one does, is started with it instead and costs the station
	// no goroutine while it has nothing to report.
	Board hal.Board
	// Reporter receives facts; nil discards them.
	Reporter Reporter
	// Authorizer decides id tokens; nil accepts every token (as FreeCharging
	// would, but still keyed by the presented token).
	Authorizer Authorizer
	// Config is the initial behaviour; the zero value is strict, see
	// DefaultConfig.
	Config Config
	// DB persists sessions across restarts; nil keeps them in memory only.
	DB *bbolt.DB
	// Bucket is the top-level bucket name in DB; "" means "station". The
	// fleet simulator gives each station its own.
	Bucket string
	// EnergyFile, when set, is the path of a small file beside DB that
	// keeps each running session's latest energy register, written in
	// place without fsync at every sample (see energyFile). "" records it
	// in DB instead, one fsync'd commit per sample: too many writes for an
	// SD card, fine for a database opened without fsync (the fleet
	// simulator's). The register is the floor of a session's MeterStop
	// when the next run finds a meter that reads less.
	EnergyFile string
	// Clock is the time source; nil means the wall clock.
	Clock clock.Clock
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
	// MeterReadInterval is how often each connector's meter is read; 0
	// means 1 s. Samples, session starts and ends use the latest reading,
	// so a longer interval makes them up to that much older; the fleet
	// simulator trades that for CPU with thousands of simulated meters.
	MeterReadInterval time.Duration
	// InlineMeterReads reads the meters on the station's loop instead of
	// on a sampler goroutine per meter. Set it only for meters whose Read
	// never blocks (simulated ones: the fleet simulator saves a goroutine
	// per connector); a meter behind a bus would delay safety decisions.
	InlineMeterReads bool
	// SiteLimit is the most current per phase that every connector together
	// may be offered (the site's fuse or the charger's supply), shared among
	// them by the load sharing (see SetLimits); 0 means no limit beyond each
	// connector's own.
	SiteLimit physic.ElectricCurrent
	// Grid configures dynamic load management from a meter at the site's
	// grid connection (the main fuse less the other loads, shared by the
	// load sharing, with a fallback current when the meter is lost); the
	// zero value turns it off. See GridOptions.
	Grid GridOptions
	// Solar tunes the solar charge modes (ConnectorConfig.Mode,
	// SetChargeMode); the zero value is the defaults of SolarConfig.
	Solar SolarConfig
	// LimitInput is the board's digital input that forces a reduced
	// current (a grid operator's control signal, a ripple control
	// receiver): while it is active every connector together may draw at
	// most InputLimit per phase. Nil means the board has none. Its
	// changes arrive as hal.InputChanged events on the station's Event.
	LimitInput hal.Input
	// InputLimit is the most every connector together may draw per phase
	// while LimitInput is active; 0 means nothing (charging blocked, as a
	// classic utility lock does). German section 14a controllable devices
	// must keep at least 4.2 kW: 6 A on three phases.
	InputLimit physic.ElectricCurrent
	// InboxSize is how many inputs (hardware events, timer expiries, API
	// requests, acknowledgements) may wait for the loop before their
	// senders block; 0 means 256. Every slot costs 8 bytes whether used or
	// not: the fleet simulator, whose stations see a few inputs a minute,
	// takes a smaller one. Senders are never the loop itself, so a small
	// inbox slows bursts down but cannot deadlock.
	InboxSize int
	// Location is the time zone of the tariffs' times of day (see
	// SetTariff); nil means UTC.
	Location *time.Location
	// DC tunes the DC sequence of connectors with Hardware.DC; the zero
	// value is the defaults of DCConfig.
	DC DCConfig
}

// defaultInboxSize bounds how many messages may wait for the loop before a
// sender blocks (Options.InboxSize). The loop itself never blocks, so
// senders wait at most for the messages ahead of them.
const defaultInboxSize = 256

// Station is one charging station. Build it with New, start it with Run; all
// other methods are safe for concurrent use and talk to the loop.
type Station struct {
	// opts is what New was given, with its defaults filled in: Clock,
	// Logger (see logger), Reporter and Authorizer are never nil, and DC
	// has its defaults. The station keeps this one copy
	// rather than copies beside it: the fleet simulator holds thousands.
	opts Options
	// limitRep is opts.Reporter when it is a LimitReporter, else nil.
	limitRep LimitReporter

	// inbox carries every input of the loop, in order. Closures run on the
	// loop goroutine with exclusive access to the state.
	inbox chan msg
	// loopDone is closed when the loop goroutine has returned: senders stop
	// waiting and requests answer ErrStopped.
	loopDone chan struct{}
	// started guards against running the station twice; stopReq is set
	// by Shutdown.
	started, stopReq atomic.Bool
	// active is held (true) by the one goroutine that may run the loop:
	// Launch while it boots, then serve while inputs are waiting. New sets
	// it, so that inputs before Launch wait in the inbox.
	active atomic.Bool
	// loop is the running station's state, set by Launch before it hands
	// the loop to serve; read only by the goroutine holding active.
	loop *loop

	// intervals mirrors the sampling intervals of the current Config for
	// clock callbacks, which run off the loop (written by the loop only).
	intervals struct {
		periodic, aligned atomic.Int64 // nanoseconds; 0 = disabled
	}

	// screens carries screens to the connectors' displays, off the loop.
	screens screenQueue
}

// New checks opts and builds a Station. Nothing touches the hardware before
// Run.
func New(opts Options) (*Station, error) {
	if len(opts.Connectors) == 0 {
		return nil, errors.New("station: no connectors")
	}
	for i, c := range opts.Connectors {
		hw := c.Hardware
		if hw.ID != i+1 {
			return nil, fmt.Errorf("station: connector %d has id %d, want %d", i+1, hw.ID, i+1)
		}
		if hw.Pilot == nil || hw.Contactor == nil {
			return nil, fmt.Errorf("station: connector %d: pilot and contactor are required", hw.ID)
		}
		if hw.MaxCurrent <= 0 {
			return nil, fmt.Errorf("station: connector %d: MaxCurrent must be positive", hw.ID)
		}
		if hw.DC != nil {
			if err := hw.DC.Validate(); err != nil {
				return nil, fmt.Errorf("station: connector %d: %w", hw.ID, err)
			}
		}
		if !c.Mode.valid() {
			return nil, fmt.Errorf("station: connector %d: %w: %q", hw.ID, ErrInvalidMode, c.Mode)
		}
		if c.Mode.solar() && opts.Grid.Meter == nil {
			return nil, fmt.Errorf("station: connector %d: mode %s: %w", hw.ID, c.Mode, ErrNoGridMeter)
		}
	}
	if g := opts.Grid; g.Meter != nil {
		switch {
		case g.Fuse <= 0:
			return nil, errors.New("station: grid meter without a positive main fuse (Grid.Fuse)")
		case g.Margin < 0 || g.Fallback < 0 || g.Timeout < 0:
			return nil, errors.New("station: negative grid margin, fallback or timeout")
		case g.Margin >= g.Fuse:
			return nil, fmt.Errorf("station: grid margin %v leaves nothing of the %v fuse", g.Margin, g.Fuse)
		}
	}
	if sc := opts.Solar.withDefaults(); sc.StopCurrent >= sc.StartCurrent {
		return nil, fmt.Errorf("station: solar stop current %v must be below the start current %v", sc.StopCurrent, sc.StartCurrent)
	}
	if opts.InputLimit < 0 {
		return nil, errors.New("station: negative InputLimit")
	}
	s := &Station{
		opts:     opts,
		inbox:    make(chan msg, cmp.Or(max(opts.InboxSize, 0), defaultInboxSize)),
		loopDone: make(chan struct{}),
	}
	s.active.Store(true)
	s.opts.DC = opts.DC.withDefaults()
	s.opts.Clock = clock.Or(opts.Clock)
	if s.opts.Logger == nil {
		s.opts.Logger = slog.Default()
	}
	if s.opts.Reporter == nil {
		s.opts.Reporter = discard{}
	}
	s.limitRep, _ = s.opts.Reporter.(LimitReporter)
	if s.opts.Authorizer == nil {
		s.opts.Authorizer = acceptAll{}
	}
	return s, nil
}

// logger is the station's logger: opts.Logger with the station's id. It is
// derived for each line rather than kept, as the connectors' are: a
// station logs a line now and then, and the fleet simulator holds
// thousands of them.
func (s *Station) logger() *slog.Logger {
	return lazylog.With(s.opts.Logger, "station", s.opts.ID)
}

// Event is the station's hal.Sink: it hands a hardware event to the loop. It
// may be called from any goroutine, before Run (it then waits for Run) or
// after (it then drops the event).
func (s *Station) Event(ev hal.Event) {
	s.post(func(l *loop) { l.onEvent(ev) })
}

// Status returns a snapshot of every connector.
func (s *Station) Status(ctx context.Context) (Snapshot, error) {
	var snap Snapshot
	err := s.call(ctx, func(l *loop, done func(error)) {
		snap = l.snapshot()
		done(nil)
	})
	if err != nil {
		// The loop may still write snap if ctx ended first; do not read it.
		return Snapshot{}, err
	}
	return snap, nil
}

// Start requests a session on connector for idTag: it authorizes the token
// (unless o.SkipAuthorization) and returns once the station has accepted or
// refused the request; the session itself begins when the vehicle is plugged
// in (possibly already), or the request lapses after ConnectionTimeout.
func (s *Station) Start(ctx context.Context, connector int, idTag string, o StartOptions) error {
	return s.call(ctx, func(l *loop, done func(error)) {
		l.requestStart(connector, idTag, o, done)
	})
}

// PresentCard handles a token read at connector (0 = a station-wide reader):
// it stops the session that token (or its parent group) started, or else
// requests a start as Start would. A station-wide read that stops nothing
// goes to the lowest connector where a vehicle waits for authorization, or
// else to the lowest idle one.
func (s *Station) PresentCard(ctx context.Context, connector int, idTag string) error {
	return s.call(ctx, func(l *loop, done func(error)) {
		l.presentCard(connector, idTag, done)
	})
}

// Stop ends the session on connector with reason. Without a session it
// cancels a pending start instead, or returns ErrNoSession.
func (s *Station) Stop(ctx context.Context, connector int, reason StopReason) error {
	return s.call(ctx, func(l *loop, done func(error)) {
		done(l.stopConnector(connector, reason))
	})
}

// StopSession ends the session with the given id with reason.
func (s *Station) StopSession(ctx context.Context, sessionID string, reason StopReason) error {
	return s.call(ctx, func(l *loop, done func(error)) {
		c := l.sessionConn(sessionID)
		if c == nil {
			done(ErrNoSession)
			return
		}
		l.endSession(c, reason, "")
		done(nil)
	})
}

// Deauthorize handles a late refusal of a running session's token (a
// StartTransaction answered Invalid): per Config.StopTransactionOnInvalidID
// the session ends with ReasonDeAuthorized or is suspended.
func (s *Station) Deauthorize(ctx context.Context, sessionID string) error {
	return s.call(ctx, func(l *loop, done func(error)) {
		done(l.deauthorize(sessionID))
	})
}

// AttachTransactionID records the id an adapter's back end gave a session,
// for status snapshots; it is persisted with the session.
func (s *Station) AttachTransactionID(ctx context.Context, sessionID, transactionID string) error {
	return s.call(ctx, func(l *loop, done func(error)) {
		c := l.sessionConn(sessionID)
		if c == nil {
			done(ErrNoSession)
			return
		}
		c.sess.txID = transactionID
		l.emit(txFact{sessionID: sessionID, txID: transactionID})
		done(nil)
	})
}

// SetAvailability makes connector (0 = all) Available or Unavailable. While a
// session runs the change is Scheduled for when it ends.
func (s *Station) SetAvailability(ctx context.Context, connector int, available bool) (AvailabilityResult, error) {
	var res AvailabilityResult
	err := s.call(ctx, func(l *loop, done func(error)) {
		var err error
		res, err = l.setAvailability(connector, available)
		done(err)
	})
	if err != nil {
		return "", err
	}
	return res, nil
}

// Unlock releases connector's socket lock, ending its session first
// (ReasonUnlockCommand). A connector without a lock answers NotSupported.
func (s *Station) Unlock(ctx context.Context, connector int) (UnlockResult, error) {
	var res UnlockResult
	err := s.call(ctx, func(l *loop, done func(error)) {
		var err error
		res, err = l.unlock(connector)
		done(err)
	})
	if err != nil {
		return "", err
	}
	return res, nil
}

// Reset ends every session with reason (SoftReset, HardReset, Reboot) and
// returns once their ends are durable (the Reporter's SessionEnded calls have
// returned nil); the caller then restarts the process. The next Run treats
// the restart as orderly.
func (s *Station) Reset(ctx context.Context, reason StopReason) error {
	return s.call(ctx, func(l *loop, done func(error)) {
		l.reset(reason, done)
	})
}

// SetConfig replaces the behaviour configuration; running timers adopt the
// new intervals at their next expiry.
func (s *Station) SetConfig(ctx context.Context, c Config) error {
	return s.call(ctx, func(l *loop, done func(error)) {
		l.setConfig(c)
		done(nil)
	})
}

// Config returns the current behaviour configuration.
func (s *Station) Config(ctx context.Context) (Config, error) {
	var c Config
	err := s.call(ctx, func(l *loop, done func(error)) {
		c = l.cfg
		done(nil)
	})
	if err != nil {
		return Config{}, err
	}
	return c, nil
}

// discard is the Reporter of a station without one.
type discard struct{}

func (discard) StatusChanged(StatusChange)                         {}
func (discard) SessionStarted(context.Context, SessionStart) error { return nil }
func (discard) SampleTaken(context.Context, Sample) error          { return nil }
func (discard) SessionEnded(context.Context, SessionEnd) error     { return nil }

// acceptAll is the Authorizer of a station without one.
type acceptAll struct{}

func (acceptAll) Authorize(context.Context, string) (AuthResult, error) {
	return AuthResult{Status: AuthAccepted}, nil
}
