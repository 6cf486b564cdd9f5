package chademo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/meter/can"
	"periph.io/x/conn/v3/physic"
)

// Frame identifiers.
const (
	IDEVLimits   uint32 = 0x100
	IDEVTimes    uint32 = 0x101
	IDEVRequest  uint32 = 0x102
	IDChargerCap uint32 = 0x108
	IDChargerSt  uint32 = 0x109
)

// period is the CHAdeMO cycle of both sides.
const period = 100 * time.Millisecond

// protocol is the control protocol number the charger announces at most
// (CHAdeMO 1.0 uses 2).
const protocol = 2

// Options configure a Vehicle.
type Options struct {
	// Bus is the connector's CAN bus (CHAdeMO has one per connector).
	Bus can.FrameSource
	// Connector is the connector, for events; Sink receives VehicleChanged
	// when the request's flags change (nil: none).
	Connector int
	Sink      hal.Sink
	// Timeout is how long the EV may stay silent before it counts as
	// gone; 0 means 1 s.
	Timeout time.Duration
	// Lines are the connector's sequence wires; nil when the board drives
	// them itself. With them, Ready also needs the permission line, the
	// permission line withdrawn is a Stop, Report drives d1 and d2 from
	// the step, and Plug presents the lines as the connector's hal.Pilot.
	Lines *Lines
	// Clock stamps frames and paces the charger's; nil: the wall clock.
	Clock  clock.Clock
	Logger *slog.Logger
}

// Vehicle is the EV at a CHAdeMO connector. Safe for concurrent use.
type Vehicle struct {
	o Options

	mu       sync.Mutex // guards everything below
	seen     [3]time.Time
	maxV     physic.ElectricPotential
	capacity meter.Energy
	proto    uint8
	targetV  physic.ElectricPotential
	targetI  physic.ElectricCurrent
	faults   uint8
	status   uint8
	soc      int
	enabled  bool // charge permission was given in this session
	rep      hal.ChargerReport
	last     hal.VehicleRequest
	lines    lines // zero without Options.Lines

	plug *Plug // nil without Options.Lines
}

var _ hal.Vehicle = (*Vehicle)(nil)

// New returns a Vehicle on o.Bus; nothing is sent before Run.
func New(o Options) (*Vehicle, error) {
	if o.Bus == nil {
		return nil, errors.New("chademo: a bus is required")
	}
	o.Clock = clock.Or(o.Clock)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	v := &Vehicle{o: o, rep: hal.ChargerReport{Step: hal.DCIdle}, last: hal.VehicleRequest{SoC: -1}}
	if o.Lines != nil {
		if err := o.Lines.validate(); err != nil {
			return nil, err
		}
		v.lines.Lines = *o.Lines
		if err := v.lines.drive(false, false); err != nil {
			return nil, err
		}
		v.plug = &Plug{v: v}
		v.plug.state = v.plug.read()
	}
	return v, nil
}

// IDs returns the EV's frame identifiers, for a socket's receive filter.
func (v *Vehicle) IDs() []uint32 { return []uint32{IDEVLimits, IDEVTimes, IDEVRequest} }

// String implements hal.Resource.
func (v *Vehicle) String() string {
	return fmt.Sprintf("CHAdeMO vehicle at connector %d", v.o.Connector)
}

// Halt implements hal.Resource: the charger's frames say stop from now on,
// and d1 and d2 (with Options.Lines) go off.
func (v *Vehicle) Halt() error {
	v.mu.Lock()
	v.rep.Stop, v.rep.PresentCurrent = true, 0
	var err error
	if v.plug != nil {
		v.lines.unavailable = true
		err = v.lines.drive(false, false)
	}
	v.mu.Unlock()
	return errors.Join(err, v.Tick())
}

// Report implements hal.Vehicle. With Options.Lines it also drives d1 and
// d2 when the step calls for a change: a pin write, no bus traffic.
func (v *Vehicle) Report(r hal.ChargerReport) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rep = r
	if v.plug == nil {
		return
	}
	if err := v.lines.drive(v.lines.want(r)); err != nil {
		v.o.Logger.Error("CHAdeMO sequence lines", "connector", v.o.Connector, "err", err)
	}
}

// Request implements hal.Vehicle.
func (v *Vehicle) Request() hal.VehicleRequest {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.requestLocked(v.o.Clock.Now())
}

// Status flags of 0x102.
const (
	evEnabled    = 1 << 0
	evNotParked  = 1 << 1
	evSysFault   = 1 << 2
	evOpen       = 1 << 3
	evStopReq    = 1 << 4
	chEnergizing = 1 << 0
	chFault      = 1 << 1
	chLocked     = 1 << 2
	chIncompat   = 1 << 3
	chSysFault   = 1 << 4
	chStop       = 1 << 5
)

var faultNames = [...]string{"battery overvoltage", "battery undervoltage", "battery current deviation",
	"high battery temperature", "battery voltage deviation"}

func (v *Vehicle) requestLocked(now time.Time) hal.VehicleRequest {
	for _, t := range v.seen {
		if t.IsZero() || now.Sub(t) > v.o.Timeout {
			return hal.VehicleRequest{SoC: -1}
		}
	}
	st := v.status
	// With the lines, the permission wire must agree with the frame's flag.
	permitted := v.plug == nil || v.lines.Permission.Active()
	r := hal.VehicleRequest{
		Communicating: true,
		Ready:         st&evEnabled != 0 && permitted && st&evNotParked == 0 && st&evStopReq == 0,
		Closed:        st&evOpen == 0,
		Stop:          st&evStopReq != 0 || v.enabled && st&evEnabled == 0 || v.lines.granted && !permitted,
		SoC:           v.soc,
		MaxVoltage:    v.maxV,
		TargetVoltage: v.targetV,
		TargetCurrent: v.targetI,
	}
	var errs []string
	for i, n := range faultNames {
		if v.faults&(1<<i) != 0 {
			errs = append(errs, n)
		}
	}
	if st&evSysFault != 0 {
		errs = append(errs, "charging system fault")
	}
	r.Error = strings.Join(errs, ", ")
	return r
}

// Run receives the EV's frames and sends the charger's every 100 ms until
// ctx ends (then it returns nil) or the bus fails.
func (v *Vehicle) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recvErr := make(chan error, 1)
	go func() {
		for {
			f, err := v.o.Bus.Recv(ctx)
			if err != nil {
				if ctx.Err() != nil {
					err = nil
				}
				recvErr <- err
				cancel()
				return
			}
			v.receive(f)
		}
	}()
	for {
		if err := v.Tick(); err != nil && ctx.Err() == nil {
			v.o.Logger.Warn("CHAdeMO send failed", "connector", v.o.Connector, "err", err)
		}
		if !clock.Sleep(ctx, v.o.Clock, period) {
			break
		}
	}
	return <-recvErr
}

// Tick sends 0x108 and 0x109 from the last report, and raises
// VehicleChanged when the EV fell silent since the last look. Run calls it
// every 100 ms.
func (v *Vehicle) Tick() error {
	v.mu.Lock()
	now := v.o.Clock.Now()
	changed := v.noteLocked(now)
	r := v.rep
	proto := min(v.proto, protocol)
	threshold := v.maxV
	if threshold == 0 {
		threshold = r.MaxVoltage
	}
	incompatible := v.maxV > 0 && r.MaxVoltage > 0 && v.targetV > r.MaxVoltage
	v.mu.Unlock()
	if changed {
		v.event()
	}

	c108 := make([]byte, 8)
	c108[0] = 1 // the station checks the EV side too (its welding check)
	putV(c108[1:], r.MaxVoltage)
	c108[3] = amps(r.MaxCurrent)
	putV(c108[4:], threshold)

	c109 := make([]byte, 8)
	c109[0] = proto
	putV(c109[1:], r.PresentVoltage)
	c109[3] = amps(r.PresentCurrent)
	var st byte
	if r.Step == hal.DCCharging {
		st |= chEnergizing
	}
	if r.Fault {
		st |= chFault | chSysFault
	}
	if r.Locked {
		st |= chLocked
	}
	if incompatible {
		st |= chIncompat
	}
	if r.Stop {
		st |= chStop
	}
	c109[5] = st
	c109[6], c109[7] = 0xFF, 0xFF // remaining time: not estimated
	return errors.Join(
		v.o.Bus.Send(can.Frame{ID: IDChargerCap, Data: c108}),
		v.o.Bus.Send(can.Frame{ID: IDChargerSt, Data: c109}),
	)
}

// noteLocked remembers the request and reports whether a flag changed.
func (v *Vehicle) noteLocked(now time.Time) bool {
	r := v.requestLocked(now)
	l := v.last
	v.last = r
	return r.Communicating != l.Communicating || r.Ready != l.Ready || r.Closed != l.Closed ||
		r.Stop != l.Stop || r.Error != l.Error
}

func (v *Vehicle) event() {
	if s := v.o.Sink; s != nil {
		s(hal.Event{Connector: v.o.Connector, Kind: hal.VehicleChanged, Detail: "CHAdeMO"})
	}
}

// receive takes one frame from the EV.
func (v *Vehicle) receive(f can.Frame) {
	if f.Extended || f.Remote || len(f.Data) < 8 {
		return
	}
	d := f.Data
	now := v.o.Clock.Now()
	v.mu.Lock()
	switch f.ID {
	case IDEVLimits:
		v.maxV = getV(d[4:])
		v.seen[0] = now
	case IDEVTimes:
		v.capacity = meter.Energy(uint16(d[5])|uint16(d[6])<<8) * meter.KiloWattHour / 10
		v.seen[1] = now
	case IDEVRequest:
		v.proto = d[0]
		v.targetV = getV(d[1:])
		v.targetI = physic.ElectricCurrent(d[3]) * physic.Ampere
		v.faults, v.status = d[4], d[5]
		v.soc = min(int(d[6]), 100)
		if v.status&evEnabled != 0 {
			v.enabled = true
		}
		v.seen[2] = now
	default:
		v.mu.Unlock()
		return
	}
	changed := v.noteLocked(now)
	v.mu.Unlock()
	if changed {
		v.event()
	}
}

// Capacity returns the battery capacity the EV gave (0 when none).
func (v *Vehicle) Capacity() meter.Energy {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.capacity
}

// ResetSession forgets the charge permission history: call it when the
// plug is pulled, so that the next EV's first "not enabled" is no stop.
func (v *Vehicle) ResetSession() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.enabled, v.lines.granted = false, false
	v.seen = [3]time.Time{}
}

func getV(b []byte) physic.ElectricPotential {
	return physic.ElectricPotential(uint16(b[0])|uint16(b[1])<<8) * physic.Volt
}

func putV(b []byte, v physic.ElectricPotential) {
	n := max(0, min(int64(v/physic.Volt), 0xFFFF))
	b[0], b[1] = byte(n), byte(n>>8)
}

func amps(a physic.ElectricCurrent) byte { return byte(max(0, min(int64(a/physic.Ampere), 0xFF))) }
