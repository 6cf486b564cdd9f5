// Package isolation reads insulation monitoring devices (IMDs, IEC 61557-8)
// on a DC charger's output over Modbus, as hal.IsolationMonitor values.
//
// A Model is the device's register map, as data: where the insulation
// resistance is, how its value is encoded, and which bits carry the
// device's alarm and the validity of the value. The first shipped model,
// "bender-iso", is the measured-value channel layout Bender documents for
// its ISOMETER 425/525 families (isoCHA425HV, isoEV425, isoHV525 ...):
// channels of four holding registers from 1000, each an IEEE 754 float
// (high word first), a word whose high byte is the alarm and test type
// (bits 0-2: 0 no alarm, 1 prewarning, 2 device error, 4 warning, 5
// alarm) and whose low byte is the range and unit (bits 0-4 the unit, 2 for
// ohm; bits 6-7 0 actual value, 1 "below", 2 "above", 3 invalid), and a
// channel description code. Channel 1 is the insulation resistance.
//
// A Monitor polls one device (one unit id) on a meter/modbus Bus, which it
// may share with the DC meter: the Bus serializes the line. It keeps the
// latest measurement for Reading (no I/O there), marks it invalid when the
// device stops answering, and reports the device's own alarm as
// hal.IsolationAlarm events (and its end as FaultCleared) through the sink
// it was given. Starting a measurement, self-tests and the devices'
// thresholds are configured with the maker's tools; the station applies
// its own thresholds to the resistance (station.DCConfig).
package isolation
