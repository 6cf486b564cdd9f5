// Package localapi is evsed's local HTTP API: a small JSON interface on a
// loopback address through which people, scripts and `evsed ctl` look at the
// station and drive it (local start/stop, and the simulated EV and card
// reader of a simulated board).
//
// The Server depends only on the narrow interfaces it declares (Station, Sim
// and an OCPP status function), so it can be tested with small fakes and
// wired to the real station by the binary. Client speaks to a Server over
// HTTP and has one method per route.
//
// Routes (all JSON; errors are {"error": "..."} with a 4xx/5xx code):
//
//	GET  /api/v1/status
//	POST /api/v1/connectors/{n}/start       {"idTag": "..."}
//	POST /api/v1/connectors/{n}/stop
//	POST /api/v1/sim/connectors/{n}/plug | charge | pause | unplug
//	POST /api/v1/sim/connectors/{n}/swipe   {"idTag": "..."}
//	POST /api/v1/sim/connectors/{n}/fault   {"kind": "rcd|weld|diode|meter|clear"}
package localapi
