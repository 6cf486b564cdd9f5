package station

import (
	"context"
	"time"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// Status is a connector's status. The values are the OCPP 1.6
// ChargePointStatus names, which the local API shows as they are; the OCPP
// 2.0.1 adapter maps them to its own enumeration.
type Status string

// Connector statuses.
const (
	Available     Status = "Available"
	Preparing     Status = "Preparing"
	Charging      Status = "Charging"
	SuspendedEV   Status = "SuspendedEV"
	SuspendedEVSE Status = "SuspendedEVSE"
	Finishing     Status = "Finishing"
	Reserved      Status = "Reserved"
	Unavailable   Status = "Unavailable"
	Faulted       Status = "Faulted"
)

// ErrorCode says why a connector is Faulted (or warns while it is not). The
// values are the OCPP 1.6 ChargePointErrorCode names.
type ErrorCode string

// Error codes the station raises.
const (
	NoError              ErrorCode = "NoError"
	ConnectorLockFailure ErrorCode = "ConnectorLockFailure"
	EVCommunicationError ErrorCode = "EVCommunicationError" // diode fault, state E/F from the vehicle
	GroundFailure        ErrorCode = "GroundFailure"        // RCD trip
	InternalError        ErrorCode = "InternalError"
	OtherError           ErrorCode = "OtherError"
	PowerMeterFailure    ErrorCode = "PowerMeterFailure"
	PowerSwitchFailure   ErrorCode = "PowerSwitchFailure" // welded or failed contactor
	ReaderFailure        ErrorCode = "ReaderFailure"
)

// StopReason says why a session ended. The values are the OCPP 1.6 Reason
// names.
type StopReason string

// Stop reasons.
const (
	ReasonDeAuthorized   StopReason = "DeAuthorized"
	ReasonEmergencyStop  StopReason = "EmergencyStop"
	ReasonEVDisconnected StopReason = "EVDisconnected"
	ReasonHardReset      StopReason = "HardReset"
	ReasonLocal          StopReason = "Local"
	ReasonOther          StopReason = "Other"
	ReasonPowerLoss      StopReason = "PowerLoss"
	ReasonReboot         StopReason = "Reboot"
	ReasonRemote         StopReason = "Remote"
	ReasonSoftReset      StopReason = "SoftReset"
	ReasonUnlockCommand  StopReason = "UnlockCommand"
)

// SampleContext says why a meter sample was taken (OCPP ReadingContext).
type SampleContext string

// Sample contexts.
const (
	ContextPeriodic         SampleContext = "Sample.Periodic"
	ContextClock            SampleContext = "Sample.Clock"
	ContextTransactionBegin SampleContext = "Transaction.Begin"
	ContextTransactionEnd   SampleContext = "Transaction.End"
)

// Facts the station emits. Each carries the station's clock time at which it
// became true. They are values: the receiver may keep them.

// StatusChange reports a connector's new status. Connector 0 is the station
// as a whole (Unavailable or Faulted for every connector).
type StatusChange struct {
	Connector int
	Status    Status
	Error     ErrorCode
	Info      string // free text, e.g. the fault detail; may be empty
	At        time.Time
}

// SessionStart reports a session that has started: authorized and plugged in.
type SessionStart struct {
	Connector int
	// SessionID is the station's own id of the session, unique for the
	// station's lifetime (also across restarts); adapters key transaction ids
	// by it.
	SessionID     string
	IDTag         string
	MeterStart    meter.Energy
	At            time.Time
	ReservationID int // 0 when none
}

// Sample reports a meter reading. SessionID is empty outside a session (a
// clock-aligned sample of an idle connector).
type Sample struct {
	Connector int
	SessionID string
	Context   SampleContext
	Reading   meter.Reading
	At        time.Time
	// DC is the vehicle's and the charger's side of a DC connector at the
	// sample (SoC, offered current and power); nil on AC connectors.
	DC *DCStatus
}

// SessionEnd reports a session that has ended.
type SessionEnd struct {
	Connector int
	SessionID string
	// IDTag is the token that stopped the session; empty when it was not
	// stopped by a token.
	IDTag     string
	MeterStop meter.Energy
	At        time.Time
	Reason    StopReason
	// Begin and End are the readings at the start and end of the session, for
	// adapters that send them as transaction data.
	Begin, End meter.Reading
	// DCReason, on a DC connector, says why the DC sequence ended the
	// session (the vehicle stopped, a step timed out, a fault); "" when
	// something else did (Reason says what) or on AC.
	DCReason DCReason
}

// Reporter receives the station's facts, in the order they happened, from a
// single goroutine that is not the station loop: a slow Reporter never delays
// a safety decision.
//
// The session methods must return only once the fact is durable (written to
// the adapter's queue and synced); the station treats a session step as done
// only then, and a non-nil error as "not recorded, retry".
type Reporter interface {
	StatusChanged(StatusChange)
	SessionStarted(ctx context.Context, s SessionStart) error
	SampleTaken(ctx context.Context, s Sample) error
	SessionEnded(ctx context.Context, s SessionEnd) error
}

// AuthStatus is the answer to an authorization request (OCPP
// AuthorizationStatus names).
type AuthStatus string

// Authorization answers.
const (
	AuthAccepted     AuthStatus = "Accepted"
	AuthBlocked      AuthStatus = "Blocked"
	AuthExpired      AuthStatus = "Expired"
	AuthInvalid      AuthStatus = "Invalid"
	AuthConcurrentTx AuthStatus = "ConcurrentTx"
)

// AuthResult is an Authorizer's answer.
type AuthResult struct {
	Status AuthStatus
	// ParentIDTag groups tokens: a session started by one token may be
	// stopped by another with the same parent.
	ParentIDTag string
	// Offline is true when the answer came from a local cache or list, or
	// from an offline policy, rather than from the CSMS.
	Offline bool
}

// Authorizer decides whether an id token may charge. The station calls it
// off its loop; Authorize may block on the network and must honour ctx.
type Authorizer interface {
	Authorize(ctx context.Context, idTag string) (AuthResult, error)
}

// Config is the station behaviour that a CSMS or the config file may change at
// run time (see Station.SetConfig). The zero value is a valid, strict
// configuration; DefaultConfig is what a new charger ships with.
type Config struct {
	// ConnectionTimeout is how long an authorization waits for a plug, and a
	// plug waits for an authorization, before the pending start is dropped.
	ConnectionTimeout time.Duration
	// FreeCharging starts a session on every plug-in without authorization
	// (standalone chargers); id tag FreeIDTag.
	FreeCharging bool
	// StopTransactionOnEVSideDisconnect ends the session when the vehicle
	// unplugs; when false the session is suspended (SuspendedEV) until it
	// is stopped otherwise.
	StopTransactionOnEVSideDisconnect bool
	// UnlockConnectorOnEVSideDisconnect releases the socket lock when the
	// vehicle unplugs.
	UnlockConnectorOnEVSideDisconnect bool
	// StopTransactionOnInvalidID ends a session whose token the CSMS later
	// reports invalid (e.g. a StartTransaction answered Invalid); when false
	// the session is suspended (SuspendedEVSE, no energy offered).
	StopTransactionOnInvalidID bool
	// MeterSampleInterval is the period of Sample.Periodic samples during a
	// session; 0 disables them.
	MeterSampleInterval time.Duration
	// ClockAlignedInterval is the period of Sample.Clock samples, aligned to
	// midnight UTC; 0 disables them.
	ClockAlignedInterval time.Duration
	// ResumeSessionsAfterRestart keeps a session that was running when the
	// station stopped (power cut, crash) going if the vehicle is still
	// plugged in; when false such sessions end with ReasonPowerLoss (after a
	// crash or power cut) or ReasonReboot (after an orderly restart).
	ResumeSessionsAfterRestart bool
}

// FreeIDTag is the id tag of sessions started in free-charging mode.
const FreeIDTag = "FREE"

// DefaultConfig returns the configuration a new charger ships with.
func DefaultConfig() Config {
	return Config{
		ConnectionTimeout:                 60 * time.Second,
		StopTransactionOnEVSideDisconnect: true,
		UnlockConnectorOnEVSideDisconnect: true,
		StopTransactionOnInvalidID:        true,
		MeterSampleInterval:               60 * time.Second,
		ClockAlignedInterval:              15 * time.Minute,
	}
}

// ConnectorConfig binds a connector's hardware to its meter.
type ConnectorConfig struct {
	Hardware hal.Connector
	Meter    meter.Meter // nil: the connector has no meter (energy reads 0)
	// Mode is the connector's charge mode at start (SetChargeMode changes
	// it); "" means ModeFast. The solar modes need Options.Grid.Meter.
	Mode ChargeMode
}

// Snapshot is the station's state at one moment, as the local API shows it.
type Snapshot struct {
	At         time.Time
	Connectors []ConnectorSnapshot
	// Site is the grid meter, the budget every connector together may
	// draw and the station-wide limits.
	Site SiteSnapshot
}

// ConnectorSnapshot is one connector's state.
type ConnectorSnapshot struct {
	ID      int
	Status  Status
	Error   ErrorCode
	Pilot   hal.PilotState
	Offered physic.ElectricCurrent
	// MaxCurrent is the connector's rating per phase (board and config);
	// Limit is the most its own limit schedule allows now, at most
	// MaxCurrent (the station-wide share may offer less: Offered).
	MaxCurrent, Limit physic.ElectricCurrent
	// Phases is 1 or 3: the connector's wiring. ActivePhases is what it
	// connects now: Phases, or 1 while a phase relay holds a three-phase
	// connector on one phase.
	Phases       int
	ActivePhases int
	Contactor    bool // closed
	// ReservationID is the reservation holding the connector; 0 when none.
	ReservationID int
	Fault         string
	Session       *SessionSnapshot // nil when no session
	Meter         meter.Reading    // the latest reading
	// Mode is the charge mode (never "").
	Mode ChargeMode
	// Target is what the limits allow the connector now, which Offered
	// reaches once the rise delay allows; Reason says which limit sets
	// it, and ReasonInfo says more, for people. Without a session whose
	// vehicle is plugged in, Target is 0 and Reason "".
	Target     physic.ElectricCurrent
	Reason     LimitReason
	ReasonInfo string
	// External is the connector's external limit; nil when none.
	External *ExternalLimit
	// Solar is the solar state in modes pv and minpv; nil in fast.
	Solar *SolarSnapshot
	// Display is what the connector shows its driver (prices and costs,
	// see UpdateDisplay); nil when nothing is known.
	Display *DriverDisplay
	// DC is the DC sequence's state; nil on AC connectors.
	DC *DCStatus
}

// SessionSnapshot is a session's state.
type SessionSnapshot struct {
	ID            string
	IDTag         string
	TransactionID string // as attached by the adapter; empty until known
	Energy        meter.Energy
	StartedAt     time.Time
}

// AvailabilityResult answers SetAvailability (OCPP AvailabilityStatus names).
type AvailabilityResult string

// Availability answers.
const (
	AvailabilityAccepted  AvailabilityResult = "Accepted"
	AvailabilityRejected  AvailabilityResult = "Rejected"
	AvailabilityScheduled AvailabilityResult = "Scheduled" // applied when the running session ends
)

// UnlockResult answers Unlock (OCPP UnlockStatus names).
type UnlockResult string

// Unlock answers.
const (
	Unlocked     UnlockResult = "Unlocked"
	UnlockFailed UnlockResult = "UnlockFailed"
	NotSupported UnlockResult = "NotSupported"
)

// StartOptions qualify a start request.
type StartOptions struct {
	// Remote marks a start requested by the CSMS.
	Remote bool
	// SkipAuthorization starts without asking the Authorizer (a remote start
	// with AuthorizeRemoteTxRequests false).
	SkipAuthorization bool
}
