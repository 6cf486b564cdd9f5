// Package boards turns a board name or board file into the hardware values
// the station drives: a hal.Board and a meter per connector.
//
// Boards are described by YAML board files. The shipped ones (files/*.yaml,
// embedded: sim, sim-dc, rpi-ads1115, rpi-relay, rpi-dc-example) are listed by List; Open also takes
// the path of a board file of one's own. Load validates a file completely
// before any pin, bus or socket is touched, and answers every mistake with a
// line naming the file, the key path and what is wrong, e.g.
//
//	boards/x.yaml: connectors[0].contactor.out.pin: pin GPIO18 used twice (already connectors[0].pilot.pwm)
//
// A file with platform sim builds the simulated board (hal/sim) with a
// simulated meter per connector; platform raspberrypi builds real drivers
// through hal/periphboard and the meters its connectors' meter blocks bind.
// The shipped files document their schema by example.
//
// # Meters
//
// A connector's meter block names its driver; a connector without one has
// no meter.
//
// driver: modbus, a meter of meter/modbus:
//
//	meter:
//	  driver: modbus
//	  model: sdm630          # a shipped model (evsed meter models), or generic
//	  bus: "rtu:///dev/ttyUSB0?baud=9600&parity=N"   # or tcp://host:502, rtuovertcp://host:port?baud=9600
//	  unit: 1                # Modbus address: 1-247 on a serial line, 0-255 over TCP
//	  timeout: 500ms         # per request (default 500ms)
//	  attempts: 2            # sends per request (default 2)
//	  frame_delay: 20ms      # extra quiet time between requests (default none)
//	  fail_after: 3          # misses in a row before the meter counts as failed (default 3)
//	  max_power: 24kW        # bound of the energy sanity check (default 50kW)
//
// Meters on one RS-485 line (or one TCP gateway) write the same bus URL, each
// with its own unit, and share one modbus.Bus that serializes them: one owner
// per physical line. timeout, attempts and frame_delay are the line's; any
// meter on it may state them, and stated values must agree. Model generic
// spells out its registers (modbus.GenericConfig, validated like a shipped
// map):
//
//	meter:
//	  driver: modbus
//	  model: generic
//	  bus: tcp://192.0.2.10:502
//	  unit: 3
//	  generic:
//	    phases: 1
//	    registers:
//	      - {quantity: energy_import, addr: 0x10, function: holding, type: uint32, scale: 0.01, unit: kWh}
//	      - {quantity: power, addr: 0x12, function: holding, type: int32, scale: 1, unit: W}
//
// driver: can, a meter of meter/can on a SocketCAN interface (which must be
// up at the meter's bit rate before evsed starts):
//
//	meter:
//	  driver: can
//	  model: ivt-s
//	  interface: can0
//	  base_id: 0x521         # identifier of the first result (default 0x521)
//	  command_id: 0x411      # where commands go (default 0x411)
//	  output_voltage: 1      # the input U1-U3 that measures the output (default 1)
//	  reversed: false        # shunt mounted against the flow to the vehicle
//	  stale_cycles: 3        # send cycles a value stays fresh (default 3)
//	  min_stale: 100ms       # and at least this long (default 100ms)
//
// Meters on one interface share one socket; their identifiers must not
// overlap. A DC charger with an IVT-S per outlet binds it this way. On a DC
// connector the meter must measure DC: a Modbus DC map (pzem017, generic
// with dc: true) or a CAN shunt.
//
// driver: sim is a stand-in that always reads 0 W and an unchanging
// register, for bench tests of a board without its meter.
//
// # Grid meter
//
// OpenOptions.GridMeter is the meter at the site's grid connection, from
// the configuration, with the keys of a connector's meter block. Open
// checks it against the board's meters and builds it with them
// (Built.GridMeter): one on a connector meter's RS-485 line shares that
// line's bus. On the simulated board it is driver sim with a house block,
// the simulated house of hal/sim (Built.House); see grid.go for its keys.
//
// # Phase switch
//
// A three-phase connector may have a relay that switches it between one
// and three phases, for charging from a small solar surplus (see
// station's solar modes). The relay's output selects one phase when at its
// active level (high unless stated); the driver refuses to switch while
// the contactor is closed:
//
//	phase_switch: {driver: relay, out: {pin: GPIO6, active: high}}
//
// A simulated board gets one on every three-phase outlet with
// sim.phase_switch: true.
//
// # Limit input
//
// A real board's top-level limit_input is the GPIO of the grid operator's
// limit signal (a ripple control receiver's or a section 14a control box's
// contact), active low unless stated:
//
//	limit_input: {pin: GPIO5, active: low}
//
// Built.LimitInput is it (station.Options.LimitInput); the simulated board
// always has one, set from the simulation.
//
// # Displays
//
// A driver display shows prices and costs (hal.Connector.Display). A
// connector's own is its display block; one that several connectors share
// is an entry of the board's top-level displays with the connectors it
// serves (all of them when the list is left out), and then shows the
// connector's number with each screen:
//
//	display: {driver: ssd1306, bus: "1", address: 0x3c}     # SSD1306 128x64 OLED, 0x3c or 0x3d
//	display: {driver: aip31068, bus: "1", address: 0x3e, rows: 2, cols: 16}   # LCD: 2x16, 2x20 or 4x20
//
//	displays:
//	  - {driver: ssd1306, bus: "1", address: 0x3d, connectors: [1, 2]}
//
// address is the 7-bit address (a module labelled 0x78 is at 0x3c). The
// bus is the one the pilot's ADS1115 is on, opened once and shared
// (OpenOptions.I2C). A connector has one display at most, and two displays
// on a bus have different addresses. Open builds the displays once the
// outputs are safe, fails when one does not answer, and Board.Halt blanks
// them after the safety parts.
//
// # DC connectors
//
// A real board's connector with a dc block is a DC connector: power
// modules over CAN (hal/dcpower, the message set by name or file), an
// isolation monitor over Modbus (hal/isolation), the two contactor poles
// with their mirror contacts and an emergency stop on GPIO, and the
// vehicle: CHAdeMO over CAN with its sequence lines d1, d2, permission and
// proximity on GPIO (hal/chademo). It has no max_current, phases, pilot,
// cable, contactor or phase_switch; meter, rcd, lock, indicator and
// display are as on AC. The keys are in docs/hardware.md and the shipped
// rpi-dc-example (an example, not a product):
//
//	dc:
//	  max_voltage: 500V
//	  max_current: 125A
//	  max_power: 50kW
//	  power: {bus: can0, family: example, modules: [1, 2]}
//	  isolation: {bus: "rtu:///dev/ttyUSB0", model: bender-iso, unit: 3}
//	  contactors: {driver: relay, plus: {pin: GPIO17}, minus: {pin: GPIO27},
//	               feedback_plus: {pin: GPIO22}, feedback_minus: {pin: GPIO23}}
//	  emergency_stop: {pin: GPIO24, active: high}
//	  vehicle: {protocol: chademo, bus: can1, d1: {pin: GPIO5}, d2: {pin: GPIO6},
//	            permission: {pin: GPIO13}, proximity: {pin: GPIO19}}
//
// The isolation monitor shares a meter's Modbus line (one Bus, units
// distinct across meters and monitors). Power modules may share a CAN
// interface with other connectors' modules and with CAN meters when their
// identifiers differ; a vehicle's bus is its own. Open gives periphboard
// one view per part of the sockets and lines the meter set owns, so
// RunMeters, which pumps the sockets, must run beside Board.Run.
//
// # Lifetime
//
// Open returns a Built. Its caller runs Built.Board.Run and Built.RunMeters
// (the receive loops of CAN meters) in their own goroutines under one
// context; on exit it cancels that context, waits for both, calls
// Built.Board.Halt and then Built.Close, which closes the Modbus buses and
// CAN sockets.
package boards
