// Package hal holds the contracts between the station and the hardware of an
// EVSE: control pilot, contactor, socket lock, RCD, indicator and card reader,
// plus the IEC 61851-1 arithmetic that every pilot driver shares.
//
// Every resource is a Resource whose Halt puts it in its safe state: contactor
// open, PWM off, lock released only where that is safe. Drivers enforce the
// safety rules a second time (a contactor driver refuses to close while its
// connector's pilot is not in C or D), so that a stalled station loop cannot
// keep energy flowing to a car that has left state C.
//
// Drivers report what they see as Events through a Sink; they never call back
// into the station directly.
//
// A DC connector (hal.Connector.DC) adds the parts of IEC 61851-23: the power
// supply (modules in parallel), the isolation monitor, a cable-side voltmeter,
// the emergency stop and the vehicle behind one interface (Vehicle), whatever
// protocol it speaks. Their getters return cached values without I/O, so the
// station's loop may read them at every control step; drivers live in
// hal/dcpower (CAN power modules), hal/isolation (Modbus monitors) and
// hal/chademo, and the simulated DC charger in hal/sim.
//
// Drivers poll their inputs on the injected clock rather than wait for edges,
// all in one way: a Sampler runs the loop (one goroutine, one timer, events
// in order) and a Debouncer settles each sampled value (a new value after N
// equal samples), so that tests run in virtual time with clock.Fake.
package hal
