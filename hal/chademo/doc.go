// Package chademo is the vehicle side of a CHAdeMO DC connector over CAN:
// a hal.Vehicle that reads the EV's frames and sends the charger's.
//
// # Frames
//
// From the EV, every 100 ms (multi-byte values little endian):
//
//	0x100  bytes 4-5 maximum battery voltage (1 V), byte 6 charged rate
//	       reference constant (%)
//	0x101  byte 1 maximum charging time (10 s; 0xFF: see byte 2), byte 2
//	       maximum charging time (min), byte 3 estimated charging time (min),
//	       bytes 5-6 battery capacity (0.1 kWh, optional)
//	0x102  byte 0 control protocol number, bytes 1-2 target battery voltage
//	       (1 V), byte 3 charging current request (1 A), byte 4 fault flags
//	       (bit 0 battery overvoltage, 1 battery undervoltage, 2 battery
//	       current deviation, 3 high battery temperature, 4 battery voltage
//	       deviation), byte 5 status flags (bit 0 vehicle charging enabled,
//	       1 shift lever not in park, 2 charging system fault, 3 EV
//	       contactor open, 4 normal stop request), byte 6 charged rate (%)
//
// From the charger, every 100 ms, what the station last reported:
//
//	0x108  byte 0 EV contactor welding detection supported, bytes 1-2
//	       available output voltage (1 V), byte 3 available output current
//	       (1 A), bytes 4-5 threshold voltage (1 V: the EV's maximum)
//	0x109  byte 0 control protocol number, bytes 1-2 present output voltage
//	       (1 V), byte 3 present charging current (1 A), byte 5 status flags
//	       (bit 0 charger energizing, 1 charger malfunction, 2 connector
//	       locked, 3 battery incompatible, 4 charging system malfunction, 5
//	       charger stop control), bytes 6-7 remaining charging time
//
// # Mapping to the DC sequence
//
// The EV communicates once 0x100, 0x101 and 0x102 have all arrived within
// Options.Timeout (default 1 s, ten cycles). Ready is "charging enabled",
// with the shift lever in park and no normal stop request; Closed is the
// EV contactor status bit clear; Stop the normal stop request, or charge
// permission withdrawn after it was given; any fault flag, or the charging
// system fault bit, is Error. The target battery voltage is TargetVoltage
// in every step: CHAdeMO's EV closes its contactors when the charger tells
// it to, and the precharge's test current limits the current then. The EV
// gives no maximum current, so MaxCurrent is 0 (the request is the limit).
//
// # Sequence lines
//
// The CHAdeMO sequence signals are wires, not frames: Options.Lines gives
// the Vehicle the charger's outputs d1 (charge sequence signal 1, pin 2)
// and d2 (signal 2, pin 10) and the inputs vehicle charge permission (pin
// 4, the EV's switch k) and connector proximity detection (pin 7, j).
// Report then drives d1 from Parameters until the welding check is over
// and d2 from PreCharge (the insulation test passed) until the power down
// is over, both off on a fault; Ready also needs the permission line, and
// the line withdrawn after it was given is a Stop. Plug presents the
// inputs to the station as the connector's hal.Pilot (A unplugged, B
// plugged in, C with permission), with PilotChanged events from its Poll
// and the contactors opened when it leaves C.
package chademo
