// Package fleet runs many simulated charging stations in one process, for
// load tests of a CSMS: `evsed fleet`.
//
// Each station is a full agent (station state machine, OCPP 1.6 adapter,
// durable queue, its own websocket) on a simulated board. What can be shared
// is: one bbolt database with a bucket prefix per station, one clock, one
// logger, one pool of websocket write buffers, and one goroutine (the
// driver) that plays every simulated driver's scenario from a min-heap of
// due actions, instead of a goroutine and a timer per connector.
//
// Goroutine stacks are the largest cost per station after its heap, so a
// running station keeps only two: its transport's (connect, register,
// drain the queue) and its connection's reader. The station loop, its
// journal, the board's events and the adapter's status notifications run
// on goroutines only while they have work (agent.Agent.Launch).
//
// # Scenario
//
// Every connector repeats: idle, plug in, swipe a card after a short delay
// (the station authorizes it through the CSMS and starts the session), the
// EV charges, unplug (the session ends with EVDisconnected). The durations
// and card ids are drawn from a random source seeded by the fleet's seed and
// the connector's place in the fleet, so that a seed names one plan: the
// same seed gives the same durations and ids whatever the size of the fleet
// (see Plan). Only the plan is deterministic; what the stations and the CSMS
// make of it depends on timing.
//
// # Figures
//
// Snapshot counts what the fleet saw: stations connected and registered,
// CALLs completed per action with their latency (from sending the CALL to
// its answer, on the fleet's clock) and outcome, sessions the CSMS
// acknowledged, and log records at warning level or above.
package fleet
