// Package ocpptest runs a real OCPP 1.6 central system for tests, drills and
// benchmarks: ocpp-go's, a CSMS that evsed did not write, wrapped so that a
// test can see every message a charge point sent, script the answers (boot
// Pending then Accepted, authorization per id tag, CALLERROR on every call),
// send CSMS-initiated requests, and take the server away and bring it back on
// the same port.
//
// It listens on 127.0.0.1 only. It is not part of the agent: nothing outside
// tests, benchmarks and scripts imports it.
package ocpptest
