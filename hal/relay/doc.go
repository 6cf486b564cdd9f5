// Package relay drives the GPIO parts of a connector through periph.io: the
// contactor (a relay output with an optional mirror-contact feedback input),
// the RCD monitor (a fault input and an optional self-test output), the
// socket lock (a pulsed motor or a held actuator, with optional feedback)
// and the status LEDs.
//
// Every part is a hal Resource whose Halt is safe: the contactor opens, the
// RCD test output releases, the lock motor stops (a lock stays where it is),
// the LEDs go off. Inputs are not edge-driven: Watch polls every Poller on
// timers of the injected clock, so tests run in virtual time and a missed
// edge cannot hide a fault; a poll reports only changes.
//
// Active levels are configurable for every pin, because relay boards and
// RCD modules come both ways.
package relay
