// Package station owns the connectors of one charging station and their
// sessions, and keeps the hardware safe whatever happens.
//
// One goroutine at a time (the loop) owns all state: hardware events, meter
// readings, timer expiries, authorization answers and commands from the
// local API or the OCPP adapter all arrive as messages in its inbox, and are
// handled one by one, in order, on a goroutine that runs while messages are
// waiting (Run, or Launch for callers that keep no goroutine per station).
// Safety decisions are taken in that loop without waiting for the network
// or the disk; facts for the outside world go to a Reporter on a goroutine
// of their own, through an unbounded queue, so a slow Reporter never delays
// the loop.
//
// The package knows nothing about OCPP versions or wire formats: statuses,
// error codes and stop reasons carry the OCPP 1.6 names because they are the
// lingua franca of chargers, and adapters map them.
//
// # Safety
//
// After every input the loop derives what each connector's hardware should
// do and commands only the changes, opening the contactor before it lowers
// the PWM and offering before it closes. The contactor is closed only while
// the CP is in C or D, the PWM offers at least 6 A (the connector's
// MaxCurrent, capped by a limit: the hook for smart charging), the session
// is authorized and its start durable (Reporter.SessionStarted returned
// nil), no fault is active and the lock, if any, reports engaged.
//
// A fault (RCD trip, welded or failed contactor, diode fault, CP in E or an
// F the station did not drive itself, lock failure, meterFailLimit
// consecutive failed meter reads) opens the contactor at once, drives the
// pilot to -12 V (Pilot.Unavailable) and reports Faulted with its error
// code. A fault does not end the session: no energy flows until it clears,
// then the session carries on. For a failing meter this is the safe choice:
// energy that cannot be measured is not delivered, and billing stays exact.
// Hardware faults clear on a FaultCleared event; a CP fault clears when the
// CP returns to A-D; a diode or lock fault also clears on unplug. A welded
// contactor clears only when the hardware says so, and keeps the plug locked.
//
// # Statuses and sessions
//
// Statuses follow OCPP 1.6. A vehicle plugged in without authorization
// leaves the connector Preparing until a token arrives or the vehicle
// leaves: ConnectionTimeout applies only to an authorization waiting for a
// plug, as OCPP 1.6 defines ConnectionTimeOut. An Unavailable connector keeps
// a steady +12 V so that plugging in is still seen; unavailability requested
// during a session is Scheduled for its end.
//
// # Energy management
//
// Besides the CSMS's limits (SetLimits) and the load sharing, the station
// follows the site (see docs/energy.md): with Options.Grid, a grid meter
// read with the connectors' meters gives the other loads per phase, and
// the main fuse less them (and a margin) caps what every connector
// together may draw, falling to a fallback current when the meter is
// lost; SetExternalLimit and Options.LimitInput add limits from outside;
// the solar modes (ConnectorConfig.Mode, SetChargeMode) charge from the
// surplus, switching phases where the board has a phase relay. The lowest
// limit wins, and ConnectorSnapshot.Reason says which one.
//
// # DC connectors
//
// A connector whose hardware has a DC block runs the IEC 61851-23 sequence
// instead of offering current by PWM (see dc.go and docs/dc.md): once a
// session is durable and authorized it goes Parameters, CableCheck,
// PreCharge, Charging; whatever ends the energy goes PowerDown,
// WeldingDetection, Finished, so that the current is down before the
// contactors open and the plug is released only below 60 V. Every step has
// a timeout (DCConfig) whose expiry ends the session with a DCReason. An
// emergency stop, an insulation fault, a supply fault or a welded contactor
// turns the supply off and opens the contactors at once, faults the
// connector and ends the session. ConnectorSnapshot.DC and Sample.DC carry
// the step, the vehicle's SoC and targets, the present and offered values
// and the insulation resistance.
//
// # Prices and costs
//
// Each connector keeps what its driver sees (DriverDisplay in the
// snapshot, and on the connector's hal.Display): the price text, the
// running cost, the final cost and a QR code, which an adapter sets with
// UpdateDisplay. The station prices every session itself with the tariff
// engine (package tariff) from the tariff SetTariff gave it, so that the
// display has a running cost while the back end is unreachable
// (SetOnline): the back end's last cost plus what the engine computed
// since. Screens reach the displays on a goroutine of their own, since a
// bus transfer takes milliseconds.
//
// # Persistence
//
// With Options.DB the journal goroutine records a session once its start is
// durable and forgets it once its end is; it also keeps each connector's
// availability and, when Run returns (or Reset completes), a clean-stop
// marker. At the next Run a recorded session resumes when
// Config.ResumeSessionsAfterRestart is set and the pilot reports a vehicle;
// otherwise it ends with ReasonReboot (marker present) or ReasonPowerLoss,
// with MeterStop from the connector's first reading.
package station
