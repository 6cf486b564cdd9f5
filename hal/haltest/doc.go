// Package haltest holds small fakes of the hal interfaces for other
// packages' tests, in the spirit of periph's gpiotest: a Pilot whose sensed
// state the test sets, a Contactor, Lock, RCD and Indicator that record
// every command, and a Board that delivers the events a test emits.
//
// Fakes that share a Log record their calls in one sequence, so that a test
// can assert the order of commands across parts ("the contactor opened
// before the pilot went to -12 V"). Events records what a board reports, for
// tests that drive a real or simulated board. The simulated board in hal/sim
// is the richer double, with an EV model and the driver's safety rules; these
// fakes enforce nothing unless told to fail.
package haltest
