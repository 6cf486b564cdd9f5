package devicemodel

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// EVSE is EVSEType: an EVSE of the station (ID from 1) and optionally one
// of its connectors (ConnectorID from 1).
type EVSE struct {
	ID          int  `json:"id"`
	ConnectorID *int `json:"connectorId,omitempty"`
}

// Component is ComponentType: a physical or logical part of the station.
// An empty Instance means none; a nil EVSE means the component is not
// tied to an EVSE.
type Component struct {
	Name     string `json:"name"`
	Instance string `json:"instance,omitempty"`
	EVSE     *EVSE  `json:"evse,omitempty"`
}

// Variable is VariableType: a variable of a component. An empty Instance
// means none.
type Variable struct {
	Name     string `json:"name"`
	Instance string `json:"instance,omitempty"`
}

// ComponentVariable is ComponentVariableType, the filter of a GetReport: a
// component, and optionally one of its variables.
type ComponentVariable struct {
	Component Component `json:"component"`
	Variable  *Variable `json:"variable,omitempty"`
}

// AttributeType is AttributeEnumType: which value of a variable is meant.
type AttributeType string

// Attribute types. The empty AttributeType stands for Actual wherever an
// attribute type is taken, as the schemas default it.
const (
	// Actual is the value in effect.
	Actual AttributeType = "Actual"
	// Target is the value the component is driven to.
	Target AttributeType = "Target"
	// MinSet is the lowest value Actual and Target may be set to.
	MinSet AttributeType = "MinSet"
	// MaxSet is the highest value Actual and Target may be set to.
	MaxSet AttributeType = "MaxSet"
)

// attrIndex returns the slot of a in an attribute array, -1 for an unknown
// type. The empty type is Actual.
func attrIndex(a AttributeType) int {
	switch a {
	case Actual, "":
		return 0
	case Target:
		return 1
	case MinSet:
		return 2
	case MaxSet:
		return 3
	}
	return -1
}

// attrTypes lists the attribute types by slot.
var attrTypes = [4]AttributeType{Actual, Target, MinSet, MaxSet}

// Mutability is MutabilityEnumType: who may read and write an attribute.
type Mutability string

// Mutabilities.
const (
	// ReadOnly attributes are set by the station (Model.Update) or the
	// config file; a SetVariables is Rejected.
	ReadOnly Mutability = "ReadOnly"
	// WriteOnly attributes may be set but never read back (passwords): a
	// GetVariables is Rejected and reports carry no value.
	WriteOnly Mutability = "WriteOnly"
	// ReadWrite attributes may be read and set by the CSMS.
	ReadWrite Mutability = "ReadWrite"
)

// DataType is DataEnumType: the type of a variable's values.
type DataType string

// Data types, as the 2.0.1 schemas spell them.
const (
	// TypeString values are free text; MaxLimit bounds their length.
	TypeString DataType = "string"
	// TypeDecimal values are decimal numbers within MinLimit..MaxLimit.
	TypeDecimal DataType = "decimal"
	// TypeInteger values are integers within MinLimit..MaxLimit.
	TypeInteger DataType = "integer"
	// TypeDateTime values are RFC 3339 date-times.
	TypeDateTime DataType = "dateTime"
	// TypeBoolean values are "true" or "false".
	TypeBoolean DataType = "boolean"
	// TypeOptionList values are one item of ValuesList.
	TypeOptionList DataType = "OptionList"
	// TypeSequenceList values are an ordered list of distinct items of
	// ValuesList, comma-separated (a priority order).
	TypeSequenceList DataType = "SequenceList"
	// TypeMemberList values are an unordered set of distinct items of
	// ValuesList, comma-separated.
	TypeMemberList DataType = "MemberList"
)

// VariableAttribute is VariableAttributeType: one attribute of a variable as
// a report gives it.
type VariableAttribute struct {
	Type       AttributeType `json:"type,omitempty"`
	Value      string        `json:"value,omitempty"`
	Mutability Mutability    `json:"mutability,omitempty"`
	Persistent bool          `json:"persistent"`
	Constant   bool          `json:"constant"`
}

// MarshalJSON writes the attribute with its value, also an empty one,
// except for a WriteOnly attribute, whose value is never sent: the schema
// lets value be omitted only when mutability is WriteOnly, so that an empty
// value must be sent as "".
func (a VariableAttribute) MarshalJSON() ([]byte, error) {
	type wire struct {
		Type       AttributeType `json:"type,omitempty"`
		Value      *string       `json:"value,omitempty"`
		Mutability Mutability    `json:"mutability,omitempty"`
		Persistent bool          `json:"persistent"`
		Constant   bool          `json:"constant"`
	}
	w := wire{Type: a.Type, Mutability: a.Mutability, Persistent: a.Persistent, Constant: a.Constant}
	if a.Mutability != WriteOnly {
		w.Value = &a.Value
	}
	return json.Marshal(w)
}

// VariableCharacteristics is VariableCharacteristicsType: the fixed
// properties of a variable. Unit is one of the standardized units of
// measure ("s", "W", "A", "Percent", "B", ...), empty when the value has
// none. MaxLimit of a string or list type is the most characters the value
// may have.
type VariableCharacteristics struct {
	Unit               string   `json:"unit,omitempty"`
	DataType           DataType `json:"dataType"`
	MinLimit           *float64 `json:"minLimit,omitempty"`
	MaxLimit           *float64 `json:"maxLimit,omitempty"`
	ValuesList         string   `json:"valuesList,omitempty"`
	SupportsMonitoring bool     `json:"supportsMonitoring"`
}

// ReportData is ReportDataType: one variable of one component in a
// NotifyReport.
type ReportData struct {
	Component               Component                `json:"component"`
	Variable                Variable                 `json:"variable"`
	VariableAttribute       []VariableAttribute      `json:"variableAttribute"`
	VariableCharacteristics *VariableCharacteristics `json:"variableCharacteristics,omitempty"`
}

// GetStatus is GetVariableStatusEnumType, the answer to one GetVariableData.
type GetStatus string

// Get statuses.
const (
	GetAccepted                  GetStatus = "Accepted"
	GetRejected                  GetStatus = "Rejected"
	GetUnknownComponent          GetStatus = "UnknownComponent"
	GetUnknownVariable           GetStatus = "UnknownVariable"
	GetNotSupportedAttributeType GetStatus = "NotSupportedAttributeType"
)

// SetStatus is SetVariableStatusEnumType, the answer to one SetVariableData.
type SetStatus string

// Set statuses.
const (
	SetAccepted                  SetStatus = "Accepted"
	SetRejected                  SetStatus = "Rejected"
	SetUnknownComponent          SetStatus = "UnknownComponent"
	SetUnknownVariable           SetStatus = "UnknownVariable"
	SetNotSupportedAttributeType SetStatus = "NotSupportedAttributeType"
	SetRebootRequired            SetStatus = "RebootRequired"
)

// Report bases of GetBaseReport (ReportBaseEnumType).
const (
	ConfigurationInventory = "ConfigurationInventory"
	FullInventory          = "FullInventory"
	SummaryInventory       = "SummaryInventory"
)

// Component criteria of GetReport (ComponentCriterionEnumType).
const (
	CriterionActive    = "Active"
	CriterionAvailable = "Available"
	CriterionEnabled   = "Enabled"
	CriterionProblem   = "Problem"
)

// Value sizes of the 2.0.1 schemas: GetVariableResult.attributeValue and
// VariableAttribute.value have at most MaxReportValueLen characters,
// SetVariableData.attributeValue at most MaxSetValueLen.
const (
	MaxReportValueLen = 2500
	MaxSetValueLen    = 1000
)

// Errors of Open, Update, Live and Report, wrapped with the variable or
// value at fault.
var (
	// ErrUnknownVariable: a Ref names no variable of the model.
	ErrUnknownVariable = errors.New("devicemodel: unknown component or variable")
	// ErrBadValue: a value is not valid for its variable.
	ErrBadValue = errors.New("devicemodel: invalid value")
	// ErrBadDefinition: a definition has no Actual attribute, repeats an
	// attribute, is given twice, or its default is not a valid value.
	ErrBadDefinition = errors.New("devicemodel: invalid definition")
	// ErrUnknownReportBase: Report was asked for a base it does not know;
	// the adapter answers the GetBaseReport NotSupported.
	ErrUnknownReportBase = errors.New("devicemodel: unknown report base")
)

// Ref names one variable of one component, compactly: EVSE and Connector
// are 0 for none (EVSE and connector ids start at 1). Refs compare with ==
// only when spelled as the table spells names; the Model looks them up
// without regard to case.
type Ref struct {
	Component         string
	ComponentInstance string
	EVSE              int
	Connector         int
	Variable          string
	VariableInstance  string
}

// RefOf returns the Ref of variable v of component c. An EVSE or connector
// id below 1 is kept as it is given, so that it names no variable.
func RefOf(c Component, v Variable) Ref {
	r := Ref{Component: c.Name, ComponentInstance: c.Instance, Variable: v.Name, VariableInstance: v.Instance}
	if c.EVSE != nil {
		r.EVSE = c.EVSE.ID
		if r.EVSE == 0 {
			r.EVSE = -1 // evse given with id 0: no such EVSE, and not "none"
		}
		if c.EVSE.ConnectorID != nil {
			r.Connector = *c.EVSE.ConnectorID
			if r.Connector == 0 {
				r.Connector = -1
			}
		}
	}
	return r
}

// ComponentOf returns r's component in wire form. The result is the
// caller's.
func (r Ref) ComponentOf() Component {
	c := Component{Name: r.Component, Instance: r.ComponentInstance}
	if r.EVSE != 0 {
		c.EVSE = &EVSE{ID: r.EVSE}
		if r.Connector != 0 {
			id := r.Connector
			c.EVSE.ConnectorID = &id
		}
	}
	return c
}

// VariableOf returns r's variable in wire form.
func (r Ref) VariableOf() Variable {
	return Variable{Name: r.Variable, Instance: r.VariableInstance}
}

// fold returns r with names and instances in lower case: the key under
// which the Model finds it.
func (r Ref) fold() Ref {
	r.Component = strings.ToLower(r.Component)
	r.ComponentInstance = strings.ToLower(r.ComponentInstance)
	r.Variable = strings.ToLower(r.Variable)
	r.VariableInstance = strings.ToLower(r.VariableInstance)
	return r
}

// componentKey returns the part of a folded Ref that names the component.
func (r Ref) componentKey() Ref {
	r.Variable, r.VariableInstance = "", ""
	return r
}

// String returns r as Component[instance]@evse.connector/Variable[instance],
// the form of log lines and of the keys in the bbolt bucket.
func (r Ref) String() string {
	var b strings.Builder
	b.WriteString(r.Component)
	if r.ComponentInstance != "" {
		b.WriteString("[" + r.ComponentInstance + "]")
	}
	if r.EVSE != 0 {
		b.WriteString("@" + strconv.Itoa(r.EVSE))
		if r.Connector != 0 {
			b.WriteString("." + strconv.Itoa(r.Connector))
		}
	}
	b.WriteString("/" + r.Variable)
	if r.VariableInstance != "" {
		b.WriteString("[" + r.VariableInstance + "]")
	}
	return b.String()
}

// ParseRef parses the form Ref.String writes,
// Component[instance]@evse.connector/Variable[instance], where the
// instances, the EVSE and the connector are optional: the spelling of
// device model variables in the config file ("OCPPCommCtrlr/HeartbeatInterval",
// "OCPPCommCtrlr/MessageTimeout[Default]", "EVSE@1/Power").
func ParseRef(s string) (Ref, error) {
	bad := func() (Ref, error) {
		return Ref{}, fmt.Errorf("devicemodel: %q is not Component[instance]@evse.connector/Variable[instance]", s)
	}
	comp, vari, ok := strings.Cut(s, "/")
	if !ok {
		return bad()
	}
	var r Ref
	if at := strings.LastIndexByte(comp, '@'); at >= 0 {
		evse, conn, hasConn := strings.Cut(comp[at+1:], ".")
		n, err := strconv.Atoi(evse)
		if err != nil || n < 1 {
			return bad()
		}
		r.EVSE = n
		if hasConn {
			if n, err = strconv.Atoi(conn); err != nil || n < 1 {
				return bad()
			}
			r.Connector = n
		}
		comp = comp[:at]
	}
	var err1, err2 error
	r.Component, r.ComponentInstance, err1 = nameInstance(comp)
	r.Variable, r.VariableInstance, err2 = nameInstance(vari)
	if err1 != nil || err2 != nil {
		return bad()
	}
	return r, nil
}

// nameInstance splits "Name[instance]" or "Name".
func nameInstance(s string) (name, inst string, err error) {
	name, rest, ok := strings.Cut(s, "[")
	if ok {
		if !strings.HasSuffix(rest, "]") || len(rest) < 2 {
			return "", "", errors.New("bad instance")
		}
		inst = rest[:len(rest)-1]
	}
	if name == "" || strings.ContainsAny(name, "[]@/") || strings.ContainsAny(inst, "[]/") {
		return "", "", errors.New("bad name")
	}
	return name, inst, nil
}
