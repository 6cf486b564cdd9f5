// Package sim is a simulated energy meter. It does not measure anything
// itself: the thing it meters (the simulated board's EV model, or a test)
// pushes every change of voltage and current with Update, and the meter
// integrates the power between changes over its injected clock.
//
// The energy registers are exact: power (nW) times time (ns) is accumulated in
// 128-bit integer arithmetic and only whole milliwatt-hours move into the
// register, with the remainder carried over, so that reading the meter often
// or rarely gives the same register value and no energy is lost to rounding.
// Integrator is that arithmetic on its own, for other simulators that need to
// know how much energy has flowed (the simulated EV's battery).
package sim
