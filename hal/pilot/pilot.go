package pilot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// Defaults of Options.
const (
	// DefaultSampleRate is the CP sampling rate when Options.SampleRate is 0:
	// 500 Hz, a 2 ms period, which an ADS1115 at 860 samples/s keeps up with
	// for the high side plus an occasional low-side read.
	DefaultSampleRate = 500 * physic.Hertz
	// DefaultDebounce is the number of equal consecutive samples when
	// Options.Debounce is 0.
	DefaultDebounce = 3
	// DefaultDiodeEvery is how often the low side is read when
	// Options.DiodeEvery is 0: every 10th sample.
	DefaultDiodeEvery = 10
	// Frequency is the PWM frequency IEC 61851-1 prescribes.
	Frequency = physic.KiloHertz
)

// Errors of the pilot driver.
var (
	// ErrRunning means Run was called while another Run of the pilot runs.
	ErrRunning = errors.New("pilot: already running")
	// ErrNoCable means a current was offered while the proximity pilot reads
	// no valid cable: the pilot holds +12 V (no PWM) instead.
	ErrNoCable = errors.New("pilot: no valid cable on the proximity pilot")
)

// Channel is one analog input of the CP or PP front end, read as the voltage
// at the pilot line (the divider already undone). Read may block for one ADC
// conversion; it is called from one goroutine at a time.
type Channel interface {
	Read(ctx context.Context) (physic.ElectricPotential, error)
}

// Opener is what the driver-level interlock needs of a contactor;
// hal.Contactor satisfies it.
type Opener interface {
	Open() error
}

// Cable reports the ampacity of the plugged cable; see Proximity and Fixed.
type Cable interface {
	// Ampacity returns the cable's rating, or 0 when no valid cable is
	// sensed.
	Ampacity(ctx context.Context) (physic.ElectricCurrent, error)
}

// Options configure a Pilot. Zero values mean the documented defaults.
type Options struct {
	// Connector is the 1-based connector ID the events carry.
	Connector int
	// PWM is the pin feeding the ±12 V stage; it must have hardware PWM.
	// Required.
	PWM gpio.PinOut
	// Enable gates the ±12 V stage; nil means the stage has no enable.
	Enable gpio.PinOut
	// EnableActive is the level that enables the stage (gpio.Low, the zero
	// value, or gpio.High).
	EnableActive gpio.Level
	// High reads the CP positive peak. Required.
	High Channel
	// Low reads the CP negative peak; nil disables the diode check.
	Low Channel
	// SampleRate is how often the high side is sampled; 0 means
	// DefaultSampleRate.
	SampleRate physic.Frequency
	// Debounce is how many equal consecutive samples change the state; 0
	// means DefaultDebounce.
	Debounce int
	// DiodeEvery reads the low side on every n-th sample; 0 means
	// DefaultDiodeEvery.
	DiodeEvery int
	// MaxCurrent caps Offer (connector wiring and contactor rating); 0 means
	// hal.MaxOffer.
	MaxCurrent physic.ElectricCurrent
	// Cable is read when a vehicle connects and caps Offer; nil means none
	// (a tethered cable whose rating MaxCurrent already includes).
	Cable Cable
	// Clock times the sampling; nil means the wall clock.
	Clock clock.Clock
	// Logger receives warnings (ADC errors); nil means slog.Default().
	Logger *slog.Logger
}

// output is what the ±12 V stage drives.
type output uint8

const (
	outNegative output = iota // steady -12 V: state F
	outStandby                // steady +12 V, no PWM
	outPWM                    // 1 kHz PWM
)

// Pilot is one connector's control pilot: PWM output and sensing. It is safe
// for concurrent use; Run samples on its own goroutine.
type Pilot struct {
	conn       int
	name       string
	pwm        gpio.PinOut
	enable     gpio.PinOut
	enActive   gpio.Level
	high, low  Channel
	period     time.Duration
	debounce   int
	diodeEvery int
	max        physic.ElectricCurrent
	cable      Cable
	clk        clock.Clock
	log        *slog.Logger

	// mu guards the fields below. It is held across pin writes (fast
	// register or ioctl writes) but never while reading the ADC or calling
	// the sink.
	mu        sync.Mutex
	out       output
	duty      hal.DutyPerMille // with outPWM
	state     hal.PilotState   // debounced
	interlock Opener           // nil until SetInterlock
	cableMax  physic.ElectricCurrent
	cableRead bool // cableMax holds a reading for the present vehicle
	running   bool

	// Sampler state, owned by the Run goroutine.
	cp hal.Debouncer[hal.PilotState] // the debounced CP state; state mirrors it
	// armed is false once Debounce samples in a row were outside C/D (the
	// interlock opened); one sample in C or D re-arms it at once, so that a
	// contactor closed again after noise is guarded from the next sample on.
	armed  hal.Debouncer[bool]
	lowOK  hal.Debouncer[bool] // the low side passes hal.DiodeOK; false: DiodeFault reported
	n      int                 // samples taken, for DiodeEvery
	adcErr bool                // the last high-side read failed (logs once per outage)
}

var _ hal.Pilot = (*Pilot)(nil)

// New builds the pilot and drives -12 V (state F, EVSE not available) before
// enabling the ±12 V stage; the station offers current when it is ready.
func New(o Options) (*Pilot, error) {
	if o.PWM == nil || o.High == nil {
		return nil, errors.New("pilot: PWM pin and high-side channel are required")
	}
	if o.SampleRate == 0 {
		o.SampleRate = DefaultSampleRate
	}
	if o.SampleRate < physic.Hertz || o.SampleRate > 10*physic.KiloHertz {
		return nil, fmt.Errorf("pilot: sample rate %v, want 1 Hz-10 kHz", o.SampleRate)
	}
	if o.Debounce == 0 {
		o.Debounce = DefaultDebounce
	}
	if o.DiodeEvery == 0 {
		o.DiodeEvery = DefaultDiodeEvery
	}
	if o.Debounce < 1 || o.DiodeEvery < 1 {
		return nil, fmt.Errorf("pilot: debounce %d and diode interval %d must be positive", o.Debounce, o.DiodeEvery)
	}
	if o.MaxCurrent == 0 {
		o.MaxCurrent = hal.MaxOffer
	}
	p := &Pilot{
		conn:       o.Connector,
		name:       fmt.Sprintf("connector %d pilot", o.Connector),
		pwm:        o.PWM,
		enable:     o.Enable,
		enActive:   o.EnableActive,
		high:       o.High,
		low:        o.Low,
		period:     o.SampleRate.Period(),
		debounce:   o.Debounce,
		diodeEvery: o.DiodeEvery,
		max:        o.MaxCurrent,
		cable:      o.Cable,
		clk:        clock.Or(o.Clock),
		log:        o.Logger,
		cp:         hal.NewDebouncer(hal.PilotUnknown, o.Debounce),
		armed:      hal.NewDebouncer(true, o.Debounce),
		lowOK:      hal.NewDebouncer(true, o.Debounce),
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.log = p.log.With("connector", o.Connector)
	if err := p.pwm.Out(gpio.Low); err != nil {
		return nil, fmt.Errorf("%s: drive -12 V: %w", p.name, err)
	}
	if p.enable != nil {
		if err := p.enable.Out(p.enActive); err != nil {
			return nil, fmt.Errorf("%s: enable stage: %w", p.name, err)
		}
	}
	return p, nil
}

// Latency is the worst-case time from the CP leaving C or D to the
// driver-level interlock opening the contactor: Debounce sample periods (the
// change lands just after a sample), not counting the ADC conversion and the
// relay's mechanical release.
func (p *Pilot) Latency() time.Duration { return time.Duration(p.debounce) * p.period }

// SetInterlock names the contactor the driver opens when the CP leaves C/D,
// on a diode fault and on ADC failure. Call it before Run; nil removes it.
func (p *Pilot) SetInterlock(c Opener) {
	p.mu.Lock()
	p.interlock = c
	p.mu.Unlock()
}

// String implements hal.Resource.
func (p *Pilot) String() string { return p.name }

// Halt implements hal.Pilot: -12 V (state F), the stage stays enabled.
func (p *Pilot) Halt() error { return p.Unavailable() }

// State implements hal.Pilot.
func (p *Pilot) State() hal.PilotState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// Duty returns the running PWM duty, and false when no PWM runs.
func (p *Pilot) Duty() (hal.DutyPerMille, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.duty, p.out == outPWM
}

// Offer implements hal.Pilot. The current is capped at MaxCurrent and at the
// cable's ampacity; with a Cable that reads no valid cable it holds +12 V and
// returns ErrNoCable.
func (p *Pilot) Offer(a physic.ElectricCurrent) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	a = min(a, p.max)
	var noCable bool
	if p.cable != nil && p.cableRead {
		noCable = p.cableMax == 0 && a >= hal.MinOffer
		a = min(a, p.cableMax)
	}
	d, ok := hal.DutyFor(a)
	if !ok {
		if err := p.pwm.Out(gpio.High); err != nil {
			return fmt.Errorf("%s: drive +12 V: %w", p.name, err)
		}
		p.out, p.duty = outStandby, 0
		if noCable {
			return fmt.Errorf("%s: %w", p.name, ErrNoCable)
		}
		return nil
	}
	duty := gpio.Duty(int64(d) * int64(gpio.DutyMax) / 1000)
	if err := p.pwm.PWM(duty, Frequency); err != nil {
		// A pin without hardware PWM, or a PWM block in use: fall back to
		// the safe -12 V rather than leave the last level.
		p.out, p.duty = outNegative, 0
		return errors.Join(fmt.Errorf("%s: PWM %v: %w", p.name, d, err), p.pwm.Out(gpio.Low))
	}
	p.out, p.duty = outPWM, d
	return nil
}

// Unavailable implements hal.Pilot: steady -12 V.
func (p *Pilot) Unavailable() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out, p.duty = outNegative, 0
	if err := p.pwm.Out(gpio.Low); err != nil {
		return fmt.Errorf("%s: drive -12 V: %w", p.name, err)
	}
	return nil
}

// Run samples the CP until ctx ends, reporting changes to sink from its own
// goroutine; it returns nil then. The first debounced state is reported like
// any change. Only one Run may run at a time.
func (p *Pilot) Run(ctx context.Context, sink hal.Sink) error {
	p.mu.Lock()
	if p.running {
		p.mu.Unlock()
		return ErrRunning
	}
	p.running = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.running = false
		p.mu.Unlock()
	}()
	// Keep the rate (Rest false): the ADC conversions count against the
	// period, which is what Latency promises.
	s := hal.Sampler{Period: p.period, Clock: p.clk}
	return s.Run(ctx, sink, p.sample)
}

// sample takes one sample and returns the events it causes; it runs on the
// Run goroutine only.
func (p *Pilot) sample(ctx context.Context) []hal.Event {
	var evs []hal.Event
	v, err := p.high.Read(ctx)
	s := hal.StateForVoltage(v)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		s = hal.PilotUnknown
		if !p.adcErr {
			p.log.Warn("CP high side read failed", "err", err)
		}
	} else if p.adcErr {
		p.log.Info("CP high side reads again")
	}
	p.adcErr = err != nil

	// Interlock: Debounce consecutive samples outside C/D open the
	// contactor, whether or not they agree on a state; it is a debounce of
	// "ready" in one direction only, so a ready sample is Set at once.
	if s.VehicleReady() {
		p.armed.Set(true)
	} else if p.armed.Sample(false) {
		p.openInterlock("CP left C/D")
	}

	// Debounce: a state counts after Debounce equal samples; a sample in
	// no band breaks the run. Persistent ADC failure (the interlock has
	// opened on it) makes the state Unknown at once so the station sees it.
	prev := p.cp.Value()
	var changed bool
	switch {
	case err != nil && !p.armed.Value():
		changed = p.cp.Set(hal.PilotUnknown)
	case s == hal.PilotUnknown:
		p.cp.Break()
	default:
		changed = p.cp.Sample(s)
	}
	if changed {
		state := p.cp.Value()
		p.mu.Lock()
		p.state = state
		p.mu.Unlock()
		detail := fmt.Sprintf("CP %v -> %v at %v", prev, state, v)
		if err != nil {
			detail = "CP ADC failed: " + err.Error()
		}
		evs = append(evs, hal.Event{Connector: p.conn, Kind: hal.PilotChanged, Pilot: state, Detail: detail})
		if state.VehicleConnected() && !prev.VehicleConnected() {
			p.readCable(ctx)
		} else if !state.VehicleConnected() {
			p.mu.Lock()
			p.cableRead = false
			p.mu.Unlock()
		}
	}

	// The diode check is a sub-rate of the same sampler, not a Sampler of
	// its own: the low-side read shares the ADC, whose Channels are read
	// from one goroutine at a time, and it must stay in step with the high
	// side's samples (DiodeEvery counts them).
	p.n++
	if p.low != nil && p.n%p.diodeEvery == 0 {
		evs = append(evs, p.checkDiode(ctx)...)
	}
	return evs
}

// checkDiode reads the low side while PWM runs with a vehicle connected, and
// reports a DiodeFault (and opens the contactor) after Debounce bad reads in
// a row, a FaultCleared after Debounce good ones.
func (p *Pilot) checkDiode(ctx context.Context) []hal.Event {
	p.mu.Lock()
	active := p.out == outPWM && p.state.VehicleConnected()
	p.mu.Unlock()
	if !active {
		// Without PWM the low side means nothing: restart the count, keep
		// a reported fault until good reads clear it.
		p.lowOK.Break()
		return nil
	}
	low, err := p.low.Read(ctx)
	if err != nil {
		return nil // the high side's handling covers a failing ADC
	}
	if !p.lowOK.Sample(hal.DiodeOK(low)) {
		return nil
	}
	if !p.lowOK.Value() {
		p.openInterlock("diode fault")
		return []hal.Event{{Connector: p.conn, Kind: hal.DiodeFault, Detail: fmt.Sprintf("CP low side at %v, want -12 V", low)}}
	}
	return []hal.Event{{Connector: p.conn, Kind: hal.FaultCleared, Cleared: hal.DiodeFault, Detail: "CP low side back at -12 V"}}
}

// readCable reads the proximity pilot for the vehicle that just connected.
func (p *Pilot) readCable(ctx context.Context) {
	if p.cable == nil {
		return
	}
	a, err := p.cable.Ampacity(ctx)
	if err != nil {
		p.log.Warn("proximity pilot read failed; offering nothing", "err", err)
		a = 0
	}
	p.mu.Lock()
	p.cableMax, p.cableRead = a, true
	p.mu.Unlock()
}

// openInterlock opens the interlocked contactor, if any.
func (p *Pilot) openInterlock(why string) {
	p.mu.Lock()
	c := p.interlock
	p.mu.Unlock()
	if c == nil {
		return
	}
	if err := c.Open(); err != nil {
		p.log.Error("interlock: opening the contactor failed", "why", why, "err", err)
	}
}
