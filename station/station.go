package station

import (
	"context"
	"errors"
	"log/slog"

	"github.com/evsed/evsed/clock"
	"go.etcd.io/bbolt"
)

// Options configure a Station. Zero values are documented per field.
type Options struct {
	// ID names the station in logs.
	ID string
	// Connectors are the outlets, in ID order (IDs 1..n). Required.
	Connectors []ConnectorConfig
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
	// Clock is the time source; nil means the wall clock.
	Clock clock.Clock
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
}

// Station is one charging station. Build it with New, start it with Run; all
// other methods are safe for concurrent use and talk to the loop.
type Station struct {
	opts Options
}

// New checks opts and builds a Station. Nothing touches the hardware before
// Run.
func New(opts Options) (*Station, error) {
	if len(opts.Connectors) == 0 {
		return nil, errors.New("station: no connectors")
	}
	return &Station{opts: opts}, nil
}

var errTODO = errors.New("station: not implemented yet")

// Run drives the station until ctx ends. On return every connector's hardware
// has been halted and pending facts have been handed to the Reporter.
func (s *Station) Run(ctx context.Context) error { return errTODO }

// Status returns a snapshot of every connector.
func (s *Station) Status(ctx context.Context) (Snapshot, error) { return Snapshot{}, errTODO }

// Start requests a session on connector for idTag: it authorizes the token
// (unless o.SkipAuthorization) and returns once the station has accepted or
// refused the request; the session itself begins when the vehicle is plugged
// in (possibly already), or the request lapses after ConnectionTimeout.
func (s *Station) Start(ctx context.Context, connector int, idTag string, o StartOptions) error {
	return errTODO
}

// PresentCard handles a token read at connector (0 = a station-wide reader):
// it stops the session that token (or its parent group) started, or else
// requests a start as Start would.
func (s *Station) PresentCard(ctx context.Context, connector int, idTag string) error {
	return errTODO
}

// Stop ends the session on connector with reason.
func (s *Station) Stop(ctx context.Context, connector int, reason StopReason) error { return errTODO }

// StopSession ends the session with the given id with reason.
func (s *Station) StopSession(ctx context.Context, sessionID string, reason StopReason) error {
	return errTODO
}

// Deauthorize handles a late refusal of a running session's token (a
// StartTransaction answered Invalid): per Config.StopTransactionOnInvalidID
// the session ends with ReasonDeAuthorized or is suspended.
func (s *Station) Deauthorize(ctx context.Context, sessionID string) error { return errTODO }

// AttachTransactionID records the id an adapter's back end gave a session,
// for status snapshots.
func (s *Station) AttachTransactionID(ctx context.Context, sessionID, transactionID string) error {
	return errTODO
}

// SetAvailability makes connector (0 = all) Available or Unavailable. While a
// session runs the change is Scheduled for when it ends.
func (s *Station) SetAvailability(ctx context.Context, connector int, available bool) (AvailabilityResult, error) {
	return "", errTODO
}

// Unlock releases connector's socket lock, ending its session first
// (ReasonUnlockCommand).
func (s *Station) Unlock(ctx context.Context, connector int) (UnlockResult, error) {
	return "", errTODO
}

// Reset ends every session with reason (SoftReset, HardReset, Reboot) and
// returns once their ends are durable; the caller then restarts the process.
func (s *Station) Reset(ctx context.Context, reason StopReason) error { return errTODO }

// SetConfig replaces the behaviour configuration; running timers adopt the
// new intervals at their next expiry.
func (s *Station) SetConfig(ctx context.Context, c Config) error { return errTODO }

// Config returns the current behaviour configuration.
func (s *Station) Config(ctx context.Context) (Config, error) { return Config{}, errTODO }
