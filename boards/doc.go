// Package boards turns a board name or board file into the hardware values
// the station drives: a hal.Board and a meter per connector.
//
// Boards are described by YAML board files. The shipped ones (files/*.yaml,
// embedded: sim, rpi-ads1115, rpi-relay) are listed by List; Open also takes
// the path of a board file of one's own. Load validates a file completely
// before any pin is touched, and answers every mistake with a line naming
// the file, the key path and what is wrong, e.g.
//
//	boards/x.yaml: connectors[0].contactor.out.pin: pin GPIO18 used twice (already connectors[0].pilot.pwm)
//
// A file with platform sim builds the simulated board (hal/sim); platform
// raspberrypi builds real drivers through hal/periphboard. Meter bindings
// are carried through as Built.MeterBindings for the meter packages. The
// shipped files document their schema by example.
package boards
