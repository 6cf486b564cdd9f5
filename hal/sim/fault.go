package sim

import (
	"fmt"

	"github.com/evsed/evsed/hal"
)

// Injected faults: what a test or the local API's /sim routes break on
// purpose, and the events a real driver would report for it.

// FaultKind is a fault the simulator can inject, by the names the CLI and the
// local API use.
type FaultKind string

// Fault kinds.
const (
	// FaultRCD trips the connector's RCD: RCDTripped event, RCD.Tripped true,
	// contactor opened by the driver.
	FaultRCD FaultKind = "rcd"
	// FaultWeld welds the contactor: it stays electrically closed whatever
	// its command; ContactorWelded is reported when it is commanded open (at
	// once if it is open already).
	FaultWeld FaultKind = "weld"
	// FaultDiode reports a missing or shorted EV diode: DiodeFault event,
	// contactor opened by the driver.
	FaultDiode FaultKind = "diode"
	// FaultMeter makes the connector's meter fail every read with
	// meter.ErrNoResponse. It has no hal event: the station notices by
	// reading.
	FaultMeter FaultKind = "meter"
	// FaultClear clears every fault of the connector and reports
	// FaultCleared (Cleared 0: all kinds).
	FaultClear FaultKind = "clear"
)

// Fault injects (or, with FaultClear, clears) a fault at connector n.
// Injecting a fault that is active already changes nothing and reports
// nothing.
func (b *Board) Fault(n int, kind FaultKind) error {
	return b.do(n, func(c *conn) error {
		switch kind {
		case FaultRCD:
			if c.rcd {
				return nil
			}
			c.rcd = true
			b.emit(hal.Event{Connector: n, Kind: hal.RCDTripped, Detail: "simulated residual current"})
			b.openLocked(c, "RCD tripped")
		case FaultWeld:
			if c.welded {
				return nil
			}
			c.welded = true
			if !c.closed {
				b.emit(hal.Event{Connector: n, Kind: hal.ContactorWelded, Detail: "feedback closed while commanded open"})
			}
		case FaultDiode:
			if c.diode {
				return nil
			}
			c.diode = true
			b.emit(hal.Event{Connector: n, Kind: hal.DiodeFault, Detail: "simulated diode fault"})
			b.openLocked(c, "diode fault")
		case FaultMeter:
			c.meterFail = true
			c.meter.Fail(true)
		case FaultClear:
			c.rcd, c.welded, c.diode, c.meterFail = false, false, false, false
			c.meter.Fail(false)
			b.emit(hal.Event{Connector: n, Kind: hal.FaultCleared, Detail: "simulated faults cleared"})
		default:
			return fmt.Errorf("%w: %q (want rcd, weld, diode, meter or clear)", ErrFaultKind, kind)
		}
		b.debug("simulated fault", "connector", n, "kind", string(kind))
		return nil
	})
}
