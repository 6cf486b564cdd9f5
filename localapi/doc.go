// Package localapi is evsed's local HTTP API and web page: a small JSON
// interface, an event stream and an embedded page through which people,
// scripts and `evsed ctl` look at the station and drive it (local
// start/stop, and the simulated EV and card reader of a simulated board),
// and through which an installer commissions it.
//
// The Server depends only on the narrow interfaces it declares (Station, Sim
// and an OCPP status function) and on the plain values of Commissioning, so
// it can be tested with small fakes and wired to the real station by the
// binary. Client speaks to a Server over HTTP and has one method per route.
//
// Routes (JSON unless said; errors are {"error": "..."} with a 4xx/5xx
// code; see docs/local-api.md and docs/web.md):
//
//	GET  /api/v1/status
//	POST /api/v1/connectors/{n}/start       {"idTag": "..."}
//	POST /api/v1/connectors/{n}/stop
//	POST /api/v1/sim/connectors/{n}/plug | charge | pause | unplug
//	POST /api/v1/sim/connectors/{n}/swipe   {"idTag": "..."}
//	POST /api/v1/sim/connectors/{n}/fault   {"kind": "rcd|weld|diode|meter|clear"}
//	GET  /api/v1/events                     Server-Sent Events: status, point, log
//	GET  /api/v1/history                    power and offered current, last hour
//	GET  /api/v1/commissioning              board, readings, masked config, OCPP keys, logs
//	POST /api/v1/connectors/{n}/test-meter | test-rcd
//	GET  /api/v1/session                    access state and the request token
//	POST /api/v1/login                      {"password": "..."}; POST /api/v1/logout
//	GET  /, /ui/...                         the web page (embedded, HTML/CSS/JS)
//
// Access: without Options.Password the server serves loopback only (Run
// refuses other addresses) and answers only loopback Host names; with it,
// the /api/ routes want the password (HTTP Basic or the login cookie).
// Every state-changing request carries the request token in TokenHeader.
//
// One goroutine of Run samples the station's status every SampleInterval:
// it feeds the events stream and the history, so that neither a page nor
// a script polls, and the history fills while no page is open.
package localapi
