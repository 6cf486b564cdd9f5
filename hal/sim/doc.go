// Package sim is a simulated EVSE board: N connectors, each with a pilot,
// contactor, lock, RCD and indicator implementing the hal interfaces, an EV
// model that plugs, asks for energy, pauses and unplugs on command, and a
// simulated meter (meter/sim) fed with the current the EV draws.
//
// The control methods (Plug, Charge, Pause, Unplug, Swipe, Fault) are what the
// local API's /sim routes and tests call. The hal parts are what the station
// drives. Both act on one model guarded by one mutex per board, so every
// method is safe for concurrent use and sees a consistent state.
//
// # EV model
//
// The sensed CP state is F while the pilot drives -12 V, A while unplugged, C
// while the EV asks for energy (Charge) and has seen PWM, B otherwise. An EV
// asked to charge waits in B until PWM appears, then goes to C and stays
// there when the PWM stops (as a slow EV would: the contactor driver's 6 s
// rule below is what protects it). The EV draws min(offered, EV max) per phase
// on min(EV phases, connector phases) phases, only in C and with the
// contactor electrically closed; the offered current is what the EV reads
// back from the duty cycle, so it has the duty cycle's 0.1 % quantization.
// With a battery capacity set, the EV goes back to B by itself once that much
// energy has flowed since it was plugged in.
//
// # Driver-level safety
//
// Like a real driver, the simulated contactor enforces the interlock itself:
// Close fails with hal.ErrInterlock unless the sensed state is C or D, the
// pilot offers at least 6 A by PWM and neither an RCD nor a diode fault is
// active. The driver opens the contactor on its own, before the station
// reacts, when the sensed state leaves C/D (C->B, ->A, or -12 V driven), on an
// RCD or diode fault, and 6 s after the PWM stopped while the EV stays in C.
// A welded contactor stays electrically closed whatever its command, and
// reports ContactorWelded whenever it is commanded open.
//
// # Events
//
// Events go to the hal.Sink given to Run, in the order they happened, from
// Run's goroutine and never while the board's lock is held: the sink may hand
// them to a station loop that calls back into the pilot and contactor. Events
// that happen while Run is not running wait in the queue (up to a bound) and
// are delivered when it runs. Run starts by reporting every connector's
// current CP state.
//
// Time (the 6 s rule, the battery) comes from the injected clock, so tests
// run in virtual time with clock.Fake.
//
// # The DC charger
//
// DCBoard (NewDC, board "sim-dc") is a simulated DC charger: CCS connectors
// whose hal.Connector.DC holds a supply of parallel power modules, an
// isolation monitor, a cable voltmeter and the EV (hal.Vehicle), with DC
// contactors that have feedback, a lock, a DC meter and a board-wide
// emergency stop. Its EV has a battery whose open-circuit voltage rises with
// the state of charge, asks for less current above DCEV.TaperFrom and stops
// at its target; it closes its contactors once the precharge has matched its
// voltage. The model steps in DCOptions.Step increments on the board's clock
// while anything is under way. Its faults are FaultIsolation,
// FaultPrecharge, FaultModule, FaultWeld, FaultMeter and FaultEmergencyStop;
// docs/dc.md describes the model.
package sim
