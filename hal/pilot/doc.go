// Package pilot drives and senses the IEC 61851-1 control pilot (CP) of one
// connector through periph.io, and reads the proximity pilot (PP) of a
// socket's cable.
//
// # Assumed circuit
//
// Output: a GPIO with hardware PWM (on a Raspberry Pi GPIO12, 13, 18 or 19)
// feeds a non-inverting op-amp stage supplied from +12 V and -12 V: pin high
// gives +12 V on the CP (through the 1 kΩ source resistor), pin low gives
// -12 V. An optional enable pin gates that stage's supply; New drives the PWM
// pin low first and only then asserts enable, so the vehicle never sees the
// undefined level of a booting board, and Halt keeps enable asserted (a
// disabled stage would float the CP towards 0 V, state E, which is worse than
// F).
//
// Sensing: two ADC channels behind the CP front end, one holding the
// positive peak (the high side of the PWM) and one the negative peak (the low
// side). The front end scales and shifts the ±12 V signal into the ADC's range;
// Divider undoes that. A plain multiplexed ADC such as the ADS1115 (860
// samples/s at most) cannot resolve a 1 kHz square wave, hence the peak
// detectors. The high side is read on every sample; the low side, needed only
// for the diode check, on every DiodeEvery-th sample, which keeps the sample
// period short.
//
// # Sensing, debounce and the driver-level interlock
//
// Run samples on its own goroutine, on timers of the injected clock. A
// sample's CP state is hal.StateForVoltage of the high side; the debounced
// state changes after Debounce equal consecutive samples, and only changes are
// reported (hal.PilotChanged). A sample outside every band (noise at a band
// edge, or an ADC error) breaks the run of equal samples.
//
// Independently of the debounced state, the driver opens the connector's
// contactor (SetInterlock) once Debounce consecutive samples are not in C or
// D, before and whatever the station decides: the worst-case C->B latency is
// Debounce sample periods plus one ADC conversion (see Latency).
package pilot
