package devicemodel

import (
	"fmt"
	"strconv"
	"time"
)

// Update sets the Actual value of r as the station sees it: a ReadOnly
// value the adapter keeps (AvailabilityState, Entries, CertificateEntries,
// ActiveNetworkProfile, SecurityProfile after a network profile switch) or a
// value it puts back on its own (a fallback). Mutability, MinSet/MaxSet and
// the validator do not apply; type, limits and ValuesList do
// (ErrBadValue). The value takes effect at once, also for a RebootRequired
// variable; it is written only if the attribute is Persistent, not
// Constant, and changed. OnChange is not called.
func (m *Model) Update(r Ref, value string) error {
	e := m.lookup(r)
	if e == nil {
		return fmt.Errorf("update %s: %w", r, ErrUnknownVariable)
	}
	cv, err := e.accept(0, value, true)
	if err != nil {
		return fmt.Errorf("update %s: %w: %v", e.ref, ErrBadValue, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.vals[0] == cv && e.running == cv {
		return nil
	}
	if e.attr(0).stored() && e.vals[0] != cv {
		if err := m.persist(e.ref, Actual, cv); err != nil {
			return fmt.Errorf("devicemodel: update %s: %w", e.ref, err)
		}
	}
	e.vals[0], e.running = cv, cv
	return nil
}

// Live makes fn the source of r's Actual value, called on every read
// (Get, reports, the typed reads), for values that change all the time:
// ClockCtrlr.DateTime, EVSE.Power. The attribute must be ReadOnly; fn must
// be quick, safe for concurrent use, and must not call the Model's Set.
// nil removes the source.
func (m *Model) Live(r Ref, fn func() string) error {
	e := m.lookup(r)
	if e == nil {
		return fmt.Errorf("live %s: %w", r, ErrUnknownVariable)
	}
	if e.attr(0).mutability() != ReadOnly {
		return fmt.Errorf("live %s: %w: only a ReadOnly value can be live", e.ref, ErrBadDefinition)
	}
	m.mu.Lock()
	e.live = fn
	m.mu.Unlock()
	return nil
}

// actual returns the Actual value the typed reads see; "" for an unknown
// Ref.
func (m *Model) actual(r Ref) string {
	e := m.lookup(r)
	if e == nil {
		return ""
	}
	m.mu.Lock()
	v, live := e.running, e.live
	m.mu.Unlock()
	if live != nil {
		return live()
	}
	return v
}

// String returns r's Actual value, WriteOnly ones included (the transport
// needs BasicAuthPassword); "" for an unknown Ref.
func (m *Model) String(r Ref) string { return m.actual(r) }

// Int returns r's Actual value as an integer, a decimal truncated toward
// zero; 0 for an unknown Ref or a value that is no number.
func (m *Model) Int(r Ref) int {
	v := m.actual(r)
	if n, err := strconv.Atoi(v); err == nil {
		return n
	}
	f, _ := strconv.ParseFloat(v, 64)
	return int(f)
}

// Float returns r's Actual value as a number; 0 for an unknown Ref or a
// value that is no number.
func (m *Model) Float(r Ref) float64 {
	f, _ := strconv.ParseFloat(m.actual(r), 64)
	return f
}

// Bool returns whether r's Actual value is "true"; false for an unknown Ref.
func (m *Model) Bool(r Ref) bool { return m.actual(r) == "true" }

// Seconds returns r's Actual value, a number of seconds, as a duration; 0
// for an unknown Ref.
func (m *Model) Seconds(r Ref) time.Duration {
	return time.Duration(m.Float(r) * float64(time.Second))
}

// List returns the items of r's comma-separated Actual value, in order; nil
// for an empty list or an unknown Ref. The slice is the caller's.
func (m *Model) List(r Ref) []string { return splitList(m.actual(r)) }

// Definitions returns the model's table, in report order. The slice is the
// caller's; its Definitions share their Attributes with the model, which
// must not be changed.
func (m *Model) Definitions() []Definition {
	return append([]Definition(nil), m.defs...)
}

// Known reports whether r names a variable of the model.
func (m *Model) Known(r Ref) bool { return m.lookup(r) != nil }
