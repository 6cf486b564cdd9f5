package devicemodel

import (
	"fmt"
	"strings"
)

// values returns the current values of every entry, in table order, live
// Actual values computed.
func (m *Model) values() [][4]string {
	out := make([][4]string, len(m.ents))
	live := make([]func() string, len(m.ents))
	m.mu.Lock()
	for i := range m.ents {
		out[i] = m.ents[i].vals
		live[i] = m.ents[i].live
	}
	m.mu.Unlock()
	for i, fn := range live {
		if fn != nil {
			out[i][0] = fn()
		}
	}
	return out
}

// reportData returns entry i in report form with values vals: every
// attribute it has, in table order, WriteOnly ones without a value and the
// others cut to size characters.
func (m *Model) reportData(i int, vals [4]string, size int) ReportData {
	e := &m.ents[i]
	rd := ReportData{
		Component: e.ref.ComponentOf(),
		Variable:  e.ref.VariableOf(),
	}
	for _, a := range e.def.Attributes {
		va := VariableAttribute{Type: a.Type, Mutability: a.mutability(), Persistent: a.Persistent, Constant: a.Constant}
		if va.Type == "" {
			va.Type = Actual
		}
		if va.Mutability != WriteOnly {
			va.Value = truncate(vals[attrIndex(a.Type)], size)
		}
		rd.VariableAttribute = append(rd.VariableAttribute, va)
	}
	ch := e.def.Characteristics
	if ch.MinLimit != nil {
		ch.MinLimit = limit(*ch.MinLimit)
	}
	if ch.MaxLimit != nil {
		ch.MaxLimit = limit(*ch.MaxLimit)
	}
	rd.VariableCharacteristics = &ch
	return rd
}

// problemFlags are the variables whose Actual value "true" puts a
// component in a SummaryInventory: the standardized variables that report
// an abnormal state.
var problemFlags = [...]string{"problem", "tripped", "overload", "fallback"}

// Report returns the report a GetBaseReport asks for (B07), in table order,
// whole: the adapter splits it into NotifyReport messages.
//
//   - FullInventory: every variable.
//   - ConfigurationInventory: the variables the CSMS can set, i.e. with a
//     ReadWrite or WriteOnly attribute.
//   - SummaryInventory: the AvailabilityState of the station, of each EVSE
//     and of each connector, and every Problem, Tripped, Overload or
//     Fallback variable that is true: availability and problem conditions.
//
// Another base is ErrUnknownReportBase. The slice and its contents are the
// caller's.
func (m *Model) Report(base string) ([]ReportData, error) {
	var keep func(e *entry, vals [4]string) bool
	switch base {
	case FullInventory:
		keep = func(*entry, [4]string) bool { return true }
	case ConfigurationInventory:
		keep = func(e *entry, _ [4]string) bool {
			for _, a := range e.def.Attributes {
				if a.mutability() != ReadOnly {
					return true
				}
			}
			return false
		}
	case SummaryInventory:
		keep = func(e *entry, vals [4]string) bool {
			name := strings.ToLower(e.ref.Variable)
			if name == "availabilitystate" {
				return true
			}
			for _, f := range problemFlags {
				if name == f && vals[0] == "true" {
					return true
				}
			}
			return false
		}
	default:
		return nil, fmt.Errorf("report %q: %w", base, ErrUnknownReportBase)
	}
	vals := m.values()
	size := m.reportingSize()
	var out []ReportData
	for i := range m.ents {
		if keep(&m.ents[i], vals[i]) {
			out = append(out, m.reportData(i, vals[i], size))
		}
	}
	return out, nil
}

// Query returns the report a GetReport asks for (B08), in table order, each
// variable once, whole. With no criteria and no componentVariables it is
// the full inventory.
//
// criteria (ComponentCriterionEnumType values) keep the components that
// meet at least one of them: Available, Enabled or Active is met by a
// component whose variable of that name is "true" or that has no such
// variable (a component without an Enabled variable cannot be disabled),
// Problem only by a Problem variable that is "true". An unknown criterion
// is met by none.
//
// cvs, when given, keep the variables one of them names. A
// ComponentVariable names a component as GetVariables does (name and
// instance without regard to case, an absent instance is the component's
// without instance, an EVSE given with or without connectorId must match),
// except that a component given without EVSE names it on every EVSE and
// connector and at station level; without a variable it names all the
// component's variables, and a variable without instance names all its
// instances.
func (m *Model) Query(criteria []string, cvs []ComponentVariable) []ReportData {
	vals := m.values()
	size := m.reportingSize()
	var out []ReportData
	for i := range m.ents {
		e := &m.ents[i]
		if len(criteria) > 0 && !m.meets(e.ref, criteria, vals) {
			continue
		}
		if len(cvs) > 0 && !matchesAny(e.ref, cvs) {
			continue
		}
		out = append(out, m.reportData(i, vals[i], size))
	}
	return out
}

// meets reports whether the component of r meets any of criteria, with the
// values vals.
func (m *Model) meets(r Ref, criteria []string, vals [][4]string) bool {
	for _, c := range criteria {
		var implicit bool
		switch c {
		case CriterionActive, CriterionAvailable, CriterionEnabled:
			implicit = true
		case CriterionProblem:
		default:
			continue
		}
		flag := r
		flag.Variable, flag.VariableInstance = c, ""
		i, ok := m.index[flag.fold()]
		if !ok {
			if implicit {
				return true
			}
			continue
		}
		if vals[i][0] == "true" {
			return true
		}
	}
	return false
}

// matchesAny reports whether one of cvs names r (see Query).
func matchesAny(r Ref, cvs []ComponentVariable) bool {
	for _, cv := range cvs {
		c := cv.Component
		if !strings.EqualFold(c.Name, r.Component) || !strings.EqualFold(c.Instance, r.ComponentInstance) {
			continue
		}
		if c.EVSE != nil {
			want := RefOf(c, Variable{})
			if want.EVSE != r.EVSE || want.Connector != r.Connector {
				continue
			}
		}
		if v := cv.Variable; v != nil {
			if !strings.EqualFold(v.Name, r.Variable) {
				continue
			}
			if v.Instance != "" && !strings.EqualFold(v.Instance, r.VariableInstance) {
				continue
			}
		}
		return true
	}
	return false
}
