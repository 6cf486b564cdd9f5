// Package csms201 runs a real OCPP 2.0.1 central system for tests: a thin
// wrapper over ocpp-go v0.19.0's CSMS (package
// github.com/lorenzodonini/ocpp-go/ocpp2.0.1) on a loopback port, shaped
// like package ocpptest is for 1.6. It records every request a charging
// station sends (Records, WaitFor), answers them by script (Options:
// Pending boots, token verdicts, the driver's personal message and the
// transaction costs), and sends the CSMS's own requests with typed calls
// that wait for the answer.
//
// ocpp-go validates every message it receives against its own reading of
// the 2.0.1 schemas, so a station message it cannot accept shows up as a
// CALLERROR answer to the station, not as a record.
package csms201
