// Package periphboard assembles a hal.Board from a typed board description
// (Spec) and the drivers of hal/pilot, hal/relay, hal/rfid and hal/display,
// on pins and buses found through periph.io. An I2C bus is opened once and
// shared by every ADS1115 and display on it.
//
// The description comes from a board file (package boards validates it
// completely before New touches any pin). Hardware is reached through Env:
// its zero value initializes periph's host drivers and looks pins and buses
// up by name, which works on Linux boards only; tests inject fake pins,
// ADC channels and card readers instead.
//
// Wiring inside a connector: the contactor's Close is interlocked with the
// pilot's debounced state, and the pilot driver and the RCD open the
// contactor themselves (the driver-level interlock) when the CP leaves C/D,
// on a diode fault, on an ADC failure and on an RCD trip, before the station
// hears of it.
//
// A ConnectorSpec with DC set is a DC connector (hal.DC): its power
// modules (hal/dcpower) and CHAdeMO vehicle (hal/chademo) on CAN
// interfaces from Env.CAN, its isolation monitor (hal/isolation) on a
// Modbus line from Env.Modbus, its two contactor poles (hal/relay with
// mirror contacts) as one hal.Contactor, and its emergency stop. The
// contactors are built first and driven open, the supply stays off until
// told, and CHAdeMO's d1 and d2 are driven off before anything runs. The
// contactors close only while the CHAdeMO plug is in C (permission
// given); the plug leaving C opens them, and a pressed emergency stop
// opens them and turns the supply off, each before its event goes out.
// Halt opens every contactor (AC and DC) first, then turns the supplies
// off, then the rest.
package periphboard
