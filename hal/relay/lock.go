package relay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/gpio"
)

// LockOptions configure a Lock: either a motor (LockPin and UnlockPin, each
// pulsed for Pulse) or an actuator (Actuator held at Active while locked).
type LockOptions struct {
	// Connector is the 1-based connector ID the events carry.
	Connector int
	// LockPin and UnlockPin drive a motor's H-bridge, one direction each.
	LockPin, UnlockPin gpio.PinOut
	// Actuator is a single solenoid held while locked.
	Actuator gpio.PinOut
	// Active is the level that drives a motor direction or the actuator.
	Active gpio.Level
	// Pulse is the motor pulse, and how long an actuator gets before its
	// feedback counts; 0 means 300 ms.
	Pulse time.Duration
	// Feedback reads the lock's switch; nil means none (Locked reports the
	// command).
	Feedback gpio.PinIn
	// FeedbackActive is the feedback level meaning "locked".
	FeedbackActive gpio.Level
	// Clock times the pulses; nil means the wall clock.
	Clock clock.Clock
}

// Lock is a socket lock. Lock and Unlock block for one pulse; the type is
// safe for concurrent use, and commands are serialized.
type Lock struct {
	conn          int
	name          string
	lockPin, unlk gpio.PinOut
	act           gpio.PinOut
	active        gpio.Level
	pulse         time.Duration
	fb            gpio.PinIn
	fbAct         gpio.Level
	clk           clock.Clock

	cmd sync.Mutex // serializes Lock and Unlock (held across the pulse)

	mu       sync.Mutex          // guards the fields below
	locked   bool                // commanded state
	settled  bool                // no command in progress: Poll may judge the feedback
	reported hal.Debouncer[bool] // a LockFailed was reported and not yet cleared
}

var (
	_ hal.Lock = (*Lock)(nil)
	_ Poller   = (*Lock)(nil)
)

// NewLock builds the lock and stops the motor (or leaves the actuator
// released); it does not move the lock.
func NewLock(o LockOptions) (*Lock, error) {
	motor := o.LockPin != nil && o.UnlockPin != nil
	if motor == (o.Actuator != nil) || (o.LockPin == nil) != (o.UnlockPin == nil) {
		return nil, errors.New("relay: a lock needs either both motor pins or one actuator pin")
	}
	if o.Pulse == 0 {
		o.Pulse = 300 * time.Millisecond
	}
	l := &Lock{
		conn: o.Connector, name: fmt.Sprintf("connector %d lock", o.Connector),
		lockPin: o.LockPin, unlk: o.UnlockPin, act: o.Actuator, active: o.Active,
		pulse: o.Pulse, fb: o.Feedback, fbAct: o.FeedbackActive, clk: clock.Or(o.Clock),
		settled: true, reported: hal.NewDebouncer(false, changeOnly),
	}
	if err := l.Halt(); err != nil {
		return nil, err
	}
	if l.act != nil {
		if err := l.act.Out(inactive(l.active)); err != nil {
			return nil, fmt.Errorf("%s: actuator: %w", l.name, err)
		}
	}
	if l.fb != nil {
		if err := l.fb.In(gpio.PullNoChange, gpio.NoEdge); err != nil {
			return nil, fmt.Errorf("%s: feedback input: %w", l.name, err)
		}
	}
	return l, nil
}

// String implements hal.Resource.
func (l *Lock) String() string { return l.name }

// Halt implements hal.Lock: a running motor stops; the lock stays where it
// is, and an actuator stays held.
func (l *Lock) Halt() error {
	if l.lockPin == nil {
		return nil
	}
	return errors.Join(l.lockPin.Out(inactive(l.active)), l.unlk.Out(inactive(l.active)))
}

// Lock implements hal.Lock. With feedback, a lock that did not engage
// returns an error wrapping ErrLockFailed.
func (l *Lock) Lock() error { return l.move(true) }

// Unlock implements hal.Lock.
func (l *Lock) Unlock() error { return l.move(false) }

// move drives the lock to the wanted state and checks the feedback.
func (l *Lock) move(lock bool) error {
	l.cmd.Lock()
	defer l.cmd.Unlock()
	l.mu.Lock()
	l.locked, l.settled = lock, false
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.settled = true
		l.mu.Unlock()
	}()
	var err error
	if l.act != nil {
		lv := inactive(l.active)
		if lock {
			lv = l.active
		}
		err = l.act.Out(lv)
		if err == nil {
			err = wait(context.Background(), l.clk, l.pulse)
		}
	} else {
		pin := l.unlk
		if lock {
			pin = l.lockPin
		}
		err = pin.Out(l.active)
		if err == nil {
			err = wait(context.Background(), l.clk, l.pulse)
		}
		err = errors.Join(err, l.Halt())
	}
	if err != nil {
		return fmt.Errorf("%s: %w", l.name, err)
	}
	if l.fb != nil && l.feedbackLocked() != lock {
		return fmt.Errorf("%s: %w: commanded locked=%v", l.name, ErrLockFailed, lock)
	}
	return nil
}

func (l *Lock) feedbackLocked() bool { return l.fb.Read() == l.fbAct }

// Locked implements hal.Lock.
func (l *Lock) Locked() bool {
	if l.fb != nil {
		return l.feedbackLocked()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.locked
}

// Poll implements Poller: with feedback, a lock commanded locked that reads
// unlocked outside a command reports LockFailed (it failed, or released
// under load); locked again reports FaultCleared.
func (l *Lock) Poll() []hal.Event {
	if l.fb == nil {
		return nil
	}
	fb := l.feedbackLocked()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.settled {
		return nil
	}
	if !l.reported.Sample(l.locked && !fb) {
		return nil
	}
	if l.reported.Value() {
		return []hal.Event{{Connector: l.conn, Kind: hal.LockFailed, Detail: "lock feedback reads unlocked"}}
	}
	return []hal.Event{{Connector: l.conn, Kind: hal.FaultCleared, Cleared: hal.LockFailed, Detail: "lock feedback reads locked"}}
}
