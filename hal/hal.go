package hal

import (
	"context"
	"fmt"

	"periph.io/x/conn/v3/physic"
)

// Resource is anything with a safe state. It mirrors periph's conn.Resource.
type Resource interface {
	// String names the resource for logs, e.g. "connector 1 contactor".
	String() string
	// Halt puts the resource in its safe (inert) state. It must be callable at
	// any time, from any goroutine, more than once, and must not block on I/O
	// longer than the hardware needs.
	Halt() error
}

// PilotState is an IEC 61851-1 control pilot state, as sensed on the high side
// of the CP signal.
type PilotState uint8

// Pilot states. Unknown is the zero value: nothing sensed yet, or a voltage
// outside every band.
const (
	PilotUnknown PilotState = iota
	PilotA                  // +12 V: no vehicle connected
	PilotB                  // +9 V: vehicle connected, not ready
	PilotC                  // +6 V: vehicle ready, charging allowed
	PilotD                  // +3 V: vehicle ready, ventilation required
	PilotE                  // 0 V: EVSE or supply problem (short circuit)
	PilotF                  // -12 V: EVSE not available
)

var pilotNames = [...]string{"?", "A", "B", "C", "D", "E", "F"}

// String returns the one-letter name of the state ("?" for Unknown).
func (s PilotState) String() string {
	if int(s) < len(pilotNames) {
		return pilotNames[s]
	}
	return fmt.Sprintf("PilotState(%d)", uint8(s))
}

// ParsePilotState is the inverse of String for A-F.
func ParsePilotState(s string) (PilotState, error) {
	for i, n := range pilotNames[1:] {
		if n == s {
			return PilotState(i + 1), nil
		}
	}
	return PilotUnknown, fmt.Errorf("hal: unknown pilot state %q", s)
}

// VehicleConnected reports whether the state means a vehicle is plugged in.
func (s PilotState) VehicleConnected() bool { return s == PilotB || s == PilotC || s == PilotD }

// VehicleReady reports whether the vehicle asks for energy (C or D).
func (s PilotState) VehicleReady() bool { return s == PilotC || s == PilotD }

// Pilot is the EVSE side of the control pilot: the +-12 V generator with PWM.
// A pilot driver also senses the CP voltage and reports PilotChanged and
// DiodeFault events through its board's Sink.
type Pilot interface {
	Resource
	// Offer signals the current the vehicle may draw: below MinOffer it stops
	// the PWM and holds a steady +12 V (IEC 61851: "no PWM" = not ready to
	// charge); otherwise it runs 1 kHz PWM at DutyFor(a).
	Offer(a physic.ElectricCurrent) error
	// Unavailable drives a steady -12 V (state F): the EVSE is not available.
	// Halt does the same.
	Unavailable() error
	// State returns the last debounced CP state the driver sensed.
	State() PilotState
}

// Contactor switches the supply to the vehicle.
type Contactor interface {
	Resource
	// Close energizes the connector. Drivers refuse (with ErrInterlock) while
	// their own view of the pilot is not C or D.
	Close() error
	// Open de-energizes the connector. Halt does the same.
	Open() error
	// Closed reports the commanded state.
	Closed() bool
}

// Lock holds a socket's plug in place while a session may energize it.
type Lock interface {
	Resource
	// Lock engages the lock; an error (or a LockFailed event) means the plug
	// is not held and the connector must not be energized.
	Lock() error
	// Unlock releases the plug. Halt does not unlock: a plug locked under a
	// fault stays locked until the contactor is known open.
	Unlock() error
	// Locked reports whether the lock is engaged (feedback where the hardware
	// has it, otherwise the commanded state).
	Locked() bool
}

// RCD is a residual current device monitor. A trip arrives as an RCDTripped
// event; Tripped reports the current level.
type RCD interface {
	Resource
	// Tripped reports whether a residual current fault is active.
	Tripped() bool
	// SelfTest runs the device's test before a session, where it has one.
	SelfTest(ctx context.Context) error
}

// Indication is what a connector's status light shows.
type Indication uint8

// Indications, from idle to fault.
const (
	ShowOff Indication = iota
	ShowAvailable
	ShowOccupied
	ShowCharging
	ShowFault
)

// Indicator is a status light (or none).
type Indicator interface {
	Resource
	Show(Indication) error
}

// Input is a digital input of the board, such as the grid operator's
// control signal that forces a reduced current (a ripple control receiver,
// a section 14a control box). A driver reports its changes as InputChanged
// events (Connector 0); Active reports the current level.
type Input interface {
	Resource // Halt has nothing to make safe for an input.
	// Active reports whether the input is asserted (after the driver's
	// polarity and debounce).
	Active() bool
}

// PhaseSwitch is the relay of a three-phase connector that connects L2 and
// L3 (three phases) or leaves them open (L1 only), so that a solar session
// can charge on one phase from a small surplus. Drivers refuse to switch
// while the connector's contactor is closed (ErrInterlock): switching
// under load wears the relay and confuses the vehicle.
type PhaseSwitch interface {
	Resource // Halt leaves the relay as it is: the contactor's Halt makes the connector safe.
	// SetPhases connects 1 or 3 phases.
	SetPhases(n int) error
	// Phases reports the phases connected (the commanded state).
	Phases() int
}

// Connector is the hardware of one outlet, as a board file wires it. Nil
// Lock, RCD, Indicator and Display mean the outlet has none (a tethered
// cable has no lock).
type Connector struct {
	ID        int // 1-based, as OCPP numbers connectors
	Pilot     Pilot
	Contactor Contactor
	Lock      Lock
	RCD       RCD
	Indicator Indicator
	// MaxCurrent is the most the outlet may offer per phase (wiring, cable,
	// contactor rating).
	MaxCurrent physic.ElectricCurrent
	// Phases is 1 or 3.
	Phases int
	// PhaseSwitch, on a three-phase connector, switches between one and
	// three phases; nil means the phases are fixed.
	PhaseSwitch PhaseSwitch
	// Display shows the driver prices and costs; nil means none. Two
	// connectors may share one.
	Display Display
	// DC, when set, makes this a DC connector (see DC): the station runs
	// the IEC 61851-23 sequence on it instead of offering AC current by
	// PWM. MaxCurrent is then its DC output rating and Phases is ignored.
	DC *DC
}

// Board is a whole EVSE's hardware.
type Board interface {
	Resource // Halt puts every part of every connector in its safe state.
	// Name is the board's name (e.g. "sim").
	Name() string
	// Connectors returns the outlets in ID order. The slice and its values are
	// owned by the board and valid for its lifetime.
	Connectors() []Connector
	// Run starts the board's sampling and reports events to sink until ctx
	// ends. Sink may be called from any goroutine and must not block long.
	Run(ctx context.Context, sink Sink) error
}

// Sink receives hardware events.
type Sink func(Event)

// EventKind says what a driver saw.
type EventKind uint8

// Event kinds.
const (
	// PilotChanged: the debounced CP state changed to Event.Pilot.
	PilotChanged EventKind = iota + 1
	// DiodeFault: the CP low side is not at -12 V while PWM runs.
	DiodeFault
	// RCDTripped: residual current fault.
	RCDTripped
	// ContactorWelded: feedback says closed while commanded open.
	ContactorWelded
	// ContactorFailed: feedback says open while commanded closed.
	ContactorFailed
	// LockFailed: the lock did not engage (or released under load).
	LockFailed
	// CardPresented: an id token was read; Event.IDTag holds it.
	CardPresented
	// FaultCleared: the hardware reports the earlier fault of Event.Cleared
	// kind gone (an RCD reset, a simulated fault cleared).
	FaultCleared
	// InputChanged: a board input (Input) changed to Event.Active; for
	// station-wide inputs Connector is 0.
	InputChanged
	// IsolationAlarm: a DC connector's isolation monitor reports an
	// insulation fault (its alarm relay or status).
	IsolationAlarm
	// SupplyFault: a DC connector's power supply (a power module) failed.
	SupplyFault
	// EmergencyStop: an emergency stop button changed to Event.Active
	// (true: pressed); Connector 0 for a station-wide button.
	EmergencyStop
	// VehicleChanged: a DC connector's vehicle request changed (see
	// Vehicle.Request); a hint to act before the next control step.
	VehicleChanged
)

var eventNames = map[EventKind]string{
	PilotChanged: "PilotChanged", DiodeFault: "DiodeFault", RCDTripped: "RCDTripped",
	ContactorWelded: "ContactorWelded", ContactorFailed: "ContactorFailed",
	LockFailed: "LockFailed", CardPresented: "CardPresented", FaultCleared: "FaultCleared",
	InputChanged: "InputChanged", IsolationAlarm: "IsolationAlarm", SupplyFault: "SupplyFault",
	EmergencyStop: "EmergencyStop", VehicleChanged: "VehicleChanged",
}

// String names the kind.
func (k EventKind) String() string {
	if n, ok := eventNames[k]; ok {
		return n
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is one observation of a driver.
type Event struct {
	// Connector is the 1-based outlet; 0 for station-wide parts (a shared
	// card reader).
	Connector int
	Kind      EventKind
	Pilot     PilotState // with PilotChanged
	IDTag     string     // with CardPresented
	Cleared   EventKind  // with FaultCleared: which fault kind cleared; 0 = all
	Active    bool       // with InputChanged and EmergencyStop: the new level
	Detail    string     // free text for logs
}

// ErrInterlock is returned by a contactor driver asked to close while its own
// safety conditions do not hold.
var ErrInterlock = fmt.Errorf("hal: interlock: conditions for closing the contactor do not hold")
