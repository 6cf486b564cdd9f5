package hal

import (
	"fmt"
	"time"

	"periph.io/x/conn/v3/physic"
)

// The DC side of a connector (IEC 61851-23, mode 4): the power supply (one
// or more power modules in parallel), the isolation monitor, the voltage
// sensor on the cable side of the DC contactors, and the vehicle behind one
// interface, whatever protocol it speaks (the simulated EV, CHAdeMO, an ISO
// 15118-2 / DIN 70121 stack). The DC contactor pair is the connector's
// Contactor, its feedback a ContactorFeedback.
//
// Every getter here returns the driver's latest value without I/O: the
// drivers talk to their buses on goroutines of their own, so the station's
// loop may read them at every control step without waiting.

// DCStep is a step of the DC charging sequence, as the station runs it and
// tells the vehicle (Vehicle.Report). The names are version neutral; a
// protocol maps them to its own states (ISO 15118 CableCheck, PreCharge,
// CurrentDemand, WeldingDetection; CHAdeMO's charger status flags).
type DCStep string

// DC steps, in sequence order.
const (
	// DCIdle: nothing plugged in, or nothing under way.
	DCIdle DCStep = "Idle"
	// DCAuthorize: a vehicle is plugged in and no session is authorized yet.
	DCAuthorize DCStep = "Authorize"
	// DCParameters: the session runs; the station waits for the vehicle's
	// charge parameters and for it to ask for energy.
	DCParameters DCStep = "Parameters"
	// DCCableCheck: contactors closed, the supply at the test voltage with a
	// small current limit, the isolation monitor measuring.
	DCCableCheck DCStep = "CableCheck"
	// DCPreCharge: the supply matches the vehicle's battery voltage before
	// the vehicle closes its contactors.
	DCPreCharge DCStep = "PreCharge"
	// DCCharging: current demand: the supply follows the vehicle's target
	// current and voltage within every limit.
	DCCharging DCStep = "Charging"
	// DCPowerDown: the current ramps to zero, the supply turns off.
	DCPowerDown DCStep = "PowerDown"
	// DCWeldingCheck: contactors commanded open; the station waits for the
	// feedback to say open and the cable voltage to fall below 60 V.
	DCWeldingCheck DCStep = "WeldingDetection"
	// DCFinished: the connector is safe and unlocked; the vehicle may leave.
	DCFinished DCStep = "Finished"
)

// SafeVoltage is the cable voltage below which a DC connector may be
// unlocked and is considered de-energized (IEC 61851-23: 60 V DC).
const SafeVoltage = 60 * physic.Volt

// SupplyLimits are what a DC power supply can deliver now.
type SupplyLimits struct {
	MinVoltage physic.ElectricPotential // the least output voltage it regulates
	MaxVoltage physic.ElectricPotential
	MaxCurrent physic.ElectricCurrent
	MaxPower   physic.Power
}

// PowerSupply is the DC source of a connector: one power module, or several
// in parallel behind one driver that shares the setpoint among them. It is a
// constant-voltage, constant-current source: the output rises to the voltage
// setpoint unless the current limit is reached first.
type PowerSupply interface {
	Resource // Halt turns the output off, as Off.
	// Set commands the output on at voltage v with current limit i (and the
	// driver keeps i*v within its power limit). Values beyond Limits are
	// clamped by the driver. It does not wait for the modules to follow.
	Set(v physic.ElectricPotential, i physic.ElectricCurrent) error
	// Off turns the output off (0 A, modules disabled).
	Off() error
	// Limits returns what the modules online can deliver now; the zero
	// value while none is.
	Limits() SupplyLimits
	// Output returns the measured output voltage and current at the modules'
	// terminals (the charger side of the DC contactors).
	Output() (physic.ElectricPotential, physic.ElectricCurrent)
}

// IsolationReading is one insulation resistance measurement of an
// unearthed DC system (IT system): the lower of DC+ and DC- to PE.
type IsolationReading struct {
	Resistance physic.ElectricResistance
	// Valid is false while the monitor has no finished measurement (warming
	// up, or no voltage to measure against).
	Valid bool
	// At is when the measurement finished, on the board's clock: a cable
	// check accepts only measurements taken after the test voltage was
	// reached.
	At time.Time
}

// IsolationMonitor is an insulation monitoring device (IMD, IEC 61557-8)
// on the DC output. A driver also reports IsolationFault events when the
// device's own alarm trips (its relay or status register).
type IsolationMonitor interface {
	Resource // Halt has nothing to make safe.
	// Reading returns the latest measurement.
	Reading() IsolationReading
}

// Voltmeter measures the voltage between the DC poles on the cable side of
// the DC contactors (what the plug carries).
type Voltmeter interface {
	// Voltage returns the latest measured voltage.
	Voltage() physic.ElectricPotential
}

// ContactorFeedback is a contactor with mirror contacts: the state they
// report, which a welding check compares with the command. hal/relay's
// Contactor has it.
type ContactorFeedback interface {
	// FeedbackClosed reports whether the mirror contact says closed.
	FeedbackClosed() bool
}

// VehicleRequest is what the vehicle asks for, as its protocol last told
// the driver. It is the boundary an ISO 15118-2 / DIN 70121 stack attaches
// to: a stack fills it from ChargeParameterDiscoveryReq (the maximum
// limits), CableCheckReq and PreChargeReq / CurrentDemandReq (targets, SoC),
// PowerDeliveryReq (Ready, Closed, Stop) and SessionStopReq (Stop).
type VehicleRequest struct {
	// Communicating is true once the vehicle has given its charge
	// parameters and while it keeps talking; false before, and after the
	// link is lost (a timeout of the protocol).
	Communicating bool
	// Ready: the vehicle asks for energy now (CCS: CP state C and
	// ChargeProgress Start; CHAdeMO: charge permission).
	Ready bool
	// Closed: the vehicle has closed its own contactors onto the cable
	// (after precharge).
	Closed bool
	// Stop: the vehicle asks to end the charge (CCS: PowerDelivery Stop or
	// SessionStop; CHAdeMO: charge permission withdrawn or a stop flag).
	Stop bool
	// Error is a fault the vehicle reports ("" when none): the charge ends.
	Error string
	// SoC is the state of charge in percent, 0-100; -1 when unknown.
	SoC int
	// MaxVoltage, MaxCurrent and MaxPower are the vehicle's maximum limits
	// (0 power: none given).
	MaxVoltage physic.ElectricPotential
	MaxCurrent physic.ElectricCurrent
	MaxPower   physic.Power
	// TargetVoltage is, during precharge, the battery voltage the supply
	// must match, and during current demand the most the vehicle lets the
	// supply rise to (its constant-voltage limit).
	TargetVoltage physic.ElectricPotential
	// TargetCurrent is the current the vehicle asks for now.
	TargetCurrent physic.ElectricCurrent
}

// IsolationStatus is the result of the isolation check the charger reports
// to the vehicle (the names of DIN 70121's isolationLevelType).
type IsolationStatus string

// Isolation statuses.
const (
	IsolationInvalid IsolationStatus = "Invalid" // not measured (yet)
	IsolationValid   IsolationStatus = "Valid"
	IsolationWarning IsolationStatus = "Warning" // charging allowed, resistance low
	IsolationFault   IsolationStatus = "Fault"
)

// ChargerReport is what the charger tells the vehicle: the driver puts it in
// its next messages (CHAdeMO 0x108/0x109, the responses of an ISO 15118
// stack).
type ChargerReport struct {
	Step DCStep
	// PresentVoltage and PresentCurrent are the output measured now.
	PresentVoltage physic.ElectricPotential
	PresentCurrent physic.ElectricCurrent
	// MaxVoltage, MaxCurrent and MaxPower are what the charger can offer
	// now: the supply's limits within the connector's rating and any limit
	// from the back end.
	MaxVoltage physic.ElectricPotential
	MaxCurrent physic.ElectricCurrent
	MaxPower   physic.Power
	// Isolation is the latest isolation status.
	Isolation IsolationStatus
	// Stop: the charger ends the charge (the vehicle should stop asking).
	Stop bool
	// Fault: the charger has a fault; the vehicle must open its contactors.
	Fault bool
	// Locked: the connector's lock holds the plug (CHAdeMO reports it).
	Locked bool
}

// Vehicle is the communication with the vehicle at a DC connector.
// Request and Report do no I/O: the driver's own goroutine exchanges
// messages with the vehicle at the protocol's pace.
type Vehicle interface {
	Resource // Halt tells the vehicle the charge is over (a stop), where it can.
	// Request returns the vehicle's latest request.
	Request() VehicleRequest
	// Report sets what the driver tells the vehicle from now on.
	Report(ChargerReport)
}

// DigitalPilot is a CP generator that can signal 5 % duty: "high-level
// communication required" (IEC 61851-1 annex A), what a CCS DC charger
// drives while it talks to the vehicle. A DC connector's pilot without it
// holds a steady +12 V instead.
type DigitalPilot interface {
	Pilot
	// Digital runs 1 kHz PWM at 5 % duty.
	Digital() error
}

// DC is the DC hardware of a connector; nil on AC connectors. The
// connector's Contactor is the DC contactor pair (ideally with
// ContactorFeedback), its Pilot the CP of a CCS connector (B when plugged
// in, C when the vehicle is ready), or for a protocol without CP (CHAdeMO)
// the driver's plug detection presented as a Pilot.
type DC struct {
	Supply    PowerSupply
	Isolation IsolationMonitor
	Vehicle   Vehicle
	// CableVoltage measures the plug side of the DC contactors; nil means
	// the board has no such sensor, and the supply's output voltage stands
	// in for it (precharge, the 60 V rule).
	CableVoltage Voltmeter
	// EmergencyStop is the connector's emergency stop button; nil when none
	// (or when it is station-wide: its EmergencyStop events carry
	// Connector 0). Active means pressed.
	EmergencyStop Input
	// MaxVoltage, MaxCurrent and MaxPower are the connector's rating
	// (cable, contactors, inlet); the supply may deliver less. Zero means
	// no limit beyond the supply's.
	MaxVoltage physic.ElectricPotential
	MaxCurrent physic.ElectricCurrent
	MaxPower   physic.Power
}

// Validate reports a DC block a station cannot drive.
func (d *DC) Validate() error {
	switch {
	case d.Supply == nil:
		return fmt.Errorf("hal: DC connector without a power supply")
	case d.Isolation == nil:
		return fmt.Errorf("hal: DC connector without an isolation monitor")
	case d.Vehicle == nil:
		return fmt.Errorf("hal: DC connector without a vehicle interface")
	case d.MaxVoltage < 0 || d.MaxCurrent < 0 || d.MaxPower < 0:
		return fmt.Errorf("hal: DC connector with a negative rating")
	}
	return nil
}
