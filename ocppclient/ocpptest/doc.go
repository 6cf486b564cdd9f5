// Package ocpptest runs a real OCPP 1.6 central system for tests, drills and
// benchmarks: ocpp-go's, a CSMS that evsed did not write, wrapped so that a
// test can see every message a charge point sent, script the answers (boot
// Pending then Accepted, authorization and parentIdTag per id tag, CALLERROR
// on every call), send CSMS-initiated requests, and take the server away and
// bring it back on the same port.
//
// The CSMS-initiated requests cover the Core profile (csms.go) and the
// optional ones (profiles.go): Smart Charging, Local Auth List Management,
// Reservation, Remote Trigger and Firmware Management. Each wrapper sends
// one request, waits for the answer and returns ocpp-go's confirmation, or
// the CALLERROR or timeout as an error. The messages a charge point sends
// are recorded for the Core and Firmware Management profiles, the only ones
// with charge-point-initiated messages; ConnectorStatus and WaitStatus read
// the StatusNotifications, which is what a reservation test watches.
//
// It listens on 127.0.0.1 only. It is not part of the agent: nothing outside
// tests, benchmarks and scripts imports it.
package ocpptest
