// Package dcpower drives the power modules of a DC charger over CAN: a
// Group of modules in parallel behind one hal.PowerSupply.
//
// # Message sets as data
//
// A module family's CAN messages are a MessageSet, read from YAML: the
// command frame the charger sends each module every period (voltage and
// current setpoints, on/off, constants), the status frame each module sends
// (measured voltage and current, fault bits), how a module's address goes
// into the identifiers, and one module's ratings. Each field names its
// bytes, byte order, sign and scale, so that a vendor adds a family with a
// file (ParseMessageSet, or a file beside the shipped ones) and no code.
// The shipped set "example" is evsed's own reference layout, used by the
// tests and as a template; it is not a vendor's protocol.
//
// # Group
//
// A Group owns the modules at the given addresses on one FrameSource
// (meter/can's SocketCAN, or cantest.Source in tests: the CAN sockets this
// package's tests would need are not available everywhere they run, so
// they work at frame level through the fake). Run receives the status
// frames and sends every module its command each period; Set and Off send
// the new commands at once as well (a socket write, no wait for an
// answer), and Limits and Output read the Group's state, never the bus. The current
// setpoint is shared evenly among the modules online; a module is online
// while its status frames arrive (within the set's timeout) without fault
// bits. A module that faults or falls silent while the output is on is
// reported through the Fault callback, which a board turns into a
// hal.SupplyFault event.
package dcpower
