package devicemodel

import (
	"fmt"
	"strconv"
	"sync"
	"unicode/utf8"

	"go.etcd.io/bbolt"
)

// Definition is one variable of one component: a row of the device model's
// table.
type Definition struct {
	Component Component
	Variable  Variable
	// Attributes are the attribute types the variable has, each at most
	// once, Actual among them; reports list them in this order.
	Attributes []AttributeDefinition
	// Characteristics are reported as they are and bound every value.
	Characteristics VariableCharacteristics
	// RebootRequired says a change takes effect only at the next start: a
	// Set is stored and answered RebootRequired, Get and reports show the
	// new value, and the typed reads keep the value the Model was opened
	// with until it is opened again.
	RebootRequired bool

	// check applies a rule beyond the characteristics to an accepted value
	// (already canonical); loading is true for defaults, initial and
	// persisted values and for Update, where rules about changes do not
	// apply.
	check func(value string, loading bool) error
}

// AttributeDefinition is one attribute of a variable.
type AttributeDefinition struct {
	Type AttributeType
	// Mutability is who may read and write the attribute; empty means
	// ReadWrite, as the schema defaults it.
	Mutability Mutability
	// Persistent attributes keep their value across restarts; the Model
	// stores them unless they are also Constant.
	Persistent bool
	// Constant attributes never change while the station runs: their value
	// comes from the default or the config file only.
	Constant bool
	// Default is the value before the config file or the CSMS set one.
	Default string
}

// mutability returns a's mutability, ReadWrite when left empty.
func (a AttributeDefinition) mutability() Mutability {
	if a.Mutability == "" {
		return ReadWrite
	}
	return a.Mutability
}

// stored reports whether the Model writes a's values to the database.
func (a AttributeDefinition) stored() bool { return a.Persistent && !a.Constant }

// entry is the state of one Definition in a Model.
type entry struct {
	def *Definition // points into Model.defs
	ref Ref         // canonical spelling
	// slot maps an attribute type (attrIndex) to its index in
	// def.Attributes, -1 when the variable lacks it.
	slot [4]int
	// The fields below are guarded by Model.mu.
	vals [4]string // current values by attribute type
	// running is the Actual value the typed reads return: vals[0], except
	// for a RebootRequired variable set since Open.
	running string
	live    func() string // computes Actual on each read, nil if none
}

func (e *entry) attr(i int) *AttributeDefinition { return &e.def.Attributes[e.slot[i]] }

// Model holds the current values of a device model's variables, persisted
// in one bbolt bucket (Ref.String, with "#Type" for attributes other than
// Actual -> value). It is safe for concurrent use. The definitions are fixed
// at Open.
type Model struct {
	db     *bbolt.DB
	bucket []byte
	defs   []Definition
	ents   []entry
	index  map[Ref]int  // folded Ref -> index into ents
	comps  map[Ref]bool // folded component keys of the known components

	// setMu serializes Set, including its validator and OnChange calls, so
	// that hooks see changes in the order they were made.
	setMu sync.Mutex

	mu        sync.Mutex // guards the entries' values and the hooks below
	validator func(r Ref, value string) error
	onChange  func(r Ref, value string)
}

// Open builds the model of defs, whose values live in bucket of db (created
// if needed; nothing is written when it exists). Each attribute takes, in
// order of precedence, its persisted value (set over OCPP or by Update),
// its value in initial (the config file, for Actual attributes of any
// mutability, looked up without regard to case), or its Default: as in the
// 1.6 configuration, what the CSMS set last wins over the config file, and a
// Constant or non-Persistent attribute is never stored, so that initial
// always decides it. An initial value for an unknown variable or an invalid
// one is an error (ErrUnknownVariable, ErrBadValue); a persisted value that
// is no longer valid, or whose variable is gone, is ignored. defs and
// initial are not retained.
func Open(db *bbolt.DB, bucket string, defs []Definition, initial map[Ref]string) (*Model, error) {
	m := &Model{db: db, bucket: []byte(bucket), index: map[Ref]int{}, comps: map[Ref]bool{}}
	m.defs = make([]Definition, len(defs))
	m.ents = make([]entry, len(defs))
	keys := map[string][2]int{} // storage key -> entry, attribute slot
	for i := range defs {
		d := &m.defs[i]
		*d = defs[i]
		d.Attributes = append([]AttributeDefinition(nil), defs[i].Attributes...)
		e := &m.ents[i]
		e.def, e.ref = d, RefOf(d.Component, d.Variable)
		if err := e.init(); err != nil {
			return nil, err
		}
		k := e.ref.fold()
		if _, dup := m.index[k]; dup {
			return nil, fmt.Errorf("%s: %w: defined twice", e.ref, ErrBadDefinition)
		}
		m.index[k] = i
		m.comps[k.componentKey()] = true
		for _, a := range d.Attributes {
			if a.stored() {
				keys[storageKey(e.ref, a.Type)] = [2]int{i, attrIndex(a.Type)}
			}
		}
	}
	for r, v := range initial {
		i, ok := m.index[r.fold()]
		if !ok {
			return nil, fmt.Errorf("%s: %w", r, ErrUnknownVariable)
		}
		e := &m.ents[i]
		cv, err := e.accept(0, v, true)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %v", e.ref, ErrBadValue, err)
		}
		e.vals[0] = cv
	}
	load := func(tx *bbolt.Tx) error {
		b := tx.Bucket(m.bucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			at, ok := keys[string(k)]
			if !ok {
				return nil
			}
			e := &m.ents[at[0]]
			if cv, err := e.accept(at[1], string(v), true); err == nil {
				e.vals[at[1]] = cv
			}
			return nil
		})
	}
	exists := false
	err := db.View(func(tx *bbolt.Tx) error {
		exists = tx.Bucket(m.bucket) != nil
		return load(tx)
	})
	if err == nil && !exists {
		err = db.Update(func(tx *bbolt.Tx) error {
			_, err := tx.CreateBucketIfNotExists(m.bucket)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("devicemodel: open bucket %q: %w", bucket, err)
	}
	for i := range m.ents {
		m.ents[i].running = m.ents[i].vals[0]
	}
	return m, nil
}

// init checks e's definition and sets its slots and default values.
func (e *entry) init() error {
	e.slot = [4]int{-1, -1, -1, -1}
	d := e.def
	for j, a := range d.Attributes {
		i := attrIndex(a.Type)
		if i < 0 || e.slot[i] >= 0 {
			return fmt.Errorf("%s: %w: attribute type %q unknown or repeated", e.ref, ErrBadDefinition, a.Type)
		}
		switch a.mutability() {
		case ReadOnly, WriteOnly, ReadWrite:
		default:
			return fmt.Errorf("%s: %w: mutability %q", e.ref, ErrBadDefinition, a.Mutability)
		}
		e.slot[i] = j
	}
	if e.slot[0] < 0 {
		return fmt.Errorf("%s: %w: no Actual attribute", e.ref, ErrBadDefinition)
	}
	for i := range e.slot {
		if e.slot[i] < 0 {
			continue
		}
		v, err := e.accept(i, e.attr(i).Default, true)
		if err != nil {
			return fmt.Errorf("%s: %w: default %q: %v", e.ref, ErrBadDefinition, e.attr(i).Default, err)
		}
		e.vals[i] = v
	}
	return nil
}

// accept checks value for attribute slot i of e and returns its canonical
// form. MinSet and MaxSet rules are Set's.
func (e *entry) accept(i int, value string, loading bool) (string, error) {
	// An empty WriteOnly value is no password: allowed as a default.
	if value == "" && loading && e.attr(i).mutability() == WriteOnly {
		return "", nil
	}
	v, err := checkValue(&e.def.Characteristics, value)
	if err != nil {
		return "", err
	}
	if e.def.check != nil && i == 0 {
		if err := e.def.check(v, loading); err != nil {
			return "", err
		}
	}
	return v, nil
}

// storageKey is the bbolt key of attribute a of r.
func storageKey(r Ref, a AttributeType) string {
	if a == Actual || a == "" {
		return r.String()
	}
	return r.String() + "#" + string(a)
}

// find resolves a component and variable as GetVariables and SetVariables
// name them: the component must match exactly, instance and EVSE (and
// connector) included, where an absent instance or EVSE is one of their own
// (B05, B06). It returns the entry, or the status saying why there is none.
func (m *Model) find(c Component, v Variable) (*entry, GetStatus) {
	k := RefOf(c, v).fold()
	if i, ok := m.index[k]; ok {
		return &m.ents[i], GetAccepted
	}
	if m.comps[k.componentKey()] {
		return nil, GetUnknownVariable
	}
	return nil, GetUnknownComponent
}

// lookup resolves a Ref; nil when unknown.
func (m *Model) lookup(r Ref) *entry {
	if i, ok := m.index[r.fold()]; ok {
		return &m.ents[i]
	}
	return nil
}

// Get answers one GetVariableData (B06): the value of attribute a (empty
// means Actual) of variable v of component c, at most ReportingValueSize and
// 2500 characters long. A WriteOnly attribute is Rejected.
func (m *Model) Get(c Component, v Variable, a AttributeType) (value string, st GetStatus) {
	e, st := m.find(c, v)
	if e == nil {
		return "", st
	}
	i := attrIndex(a)
	if i < 0 || e.slot[i] < 0 {
		return "", GetNotSupportedAttributeType
	}
	if e.attr(i).mutability() == WriteOnly {
		return "", GetRejected
	}
	m.mu.Lock()
	value, live := e.vals[i], e.live
	m.mu.Unlock()
	if live != nil && i == 0 {
		value = live()
	}
	return truncate(value, m.reportingSize()), GetAccepted
}

// reportingSize is the most characters of a reported value.
func (m *Model) reportingSize() int {
	n := MaxReportValueLen
	if s := m.Int(ReportingValueSize); s > 0 && s < n {
		n = s
	}
	return n
}

// configurationSize is the most characters of a value to set.
func (m *Model) configurationSize() int {
	n := MaxSetValueLen
	if s := m.Int(ConfigurationValueSize); s > 0 && s < n {
		n = s
	}
	return n
}

// SetValidator sets the adapter's rules for values (raising a security
// level needs certificates, a network slot must hold a profile, ...). fn is
// called by Set for a value that passed the table's checks, for any
// attribute type, with the canonical Ref and value; an error rejects the
// Set with the error's text as reason. fn runs on the goroutine that called
// Set; it may read the model but must not call Set. nil removes it.
func (m *Model) SetValidator(fn func(r Ref, value string) error) {
	m.mu.Lock()
	m.validator = fn
	m.mu.Unlock()
}

// OnChange sets the function called after each change Set accepts
// (Accepted or RebootRequired), for any attribute type, with the canonical
// Ref and value, once the value is stored, so that the adapter applies it
// (new intervals, a reconnect). A Set to the value already held, and
// Update, do not call it. fn runs on the goroutine that called Set; it may
// read the model but must not call Set. nil removes it.
func (m *Model) OnChange(fn func(r Ref, value string)) {
	m.mu.Lock()
	m.onChange = fn
	m.mu.Unlock()
}

// Set answers one SetVariableData (B05): it sets attribute a (empty means
// Actual) of variable v of component c to value. UnknownComponent,
// UnknownVariable and NotSupportedAttributeType say what is missing;
// Rejected, with a reason for the attributeStatusInfo, goes to a value
// longer than ConfigurationValueSize or 1000 characters, a ReadOnly
// attribute, a value that is not of the variable's type, outside its limits
// or its ValuesList, an Actual or Target outside MinSet..MaxSet, a MinSet
// above MaxSet (or the reverse), a value the validator refuses, or a
// failure to store it. Otherwise the value is stored (written only if
// Persistent and changed), OnChange runs, and the answer is RebootRequired
// or Accepted.
func (m *Model) Set(c Component, v Variable, a AttributeType, value string) (st SetStatus, reason string) {
	e, gst := m.find(c, v)
	if e == nil {
		return SetStatus(gst), ""
	}
	i := attrIndex(a)
	if i < 0 || e.slot[i] < 0 {
		return SetNotSupportedAttributeType, ""
	}
	if n := m.configurationSize(); utf8.RuneCountInString(value) > n {
		return SetRejected, fmt.Sprintf("value longer than %d characters", n)
	}
	if e.attr(i).mutability() == ReadOnly {
		return SetRejected, "read-only"
	}
	m.setMu.Lock()
	defer m.setMu.Unlock()
	m.mu.Lock()
	cv, err := e.accept(i, value, false)
	if err == nil {
		err = e.checkRange(i, cv)
	}
	validate := m.validator
	m.mu.Unlock()
	if err == nil && validate != nil {
		err = validate(e.ref, cv)
	}
	if err != nil {
		return SetRejected, truncate(err.Error(), 512)
	}
	done := SetAccepted
	if e.def.RebootRequired {
		done = SetRebootRequired
	}
	m.mu.Lock()
	if e.vals[i] == cv {
		m.mu.Unlock()
		return done, ""
	}
	if e.attr(i).stored() {
		if err := m.persist(e.ref, e.attr(i).Type, cv); err != nil {
			m.mu.Unlock()
			return SetRejected, truncate("storage: "+err.Error(), 512)
		}
	}
	e.vals[i] = cv
	if i == 0 && !e.def.RebootRequired {
		e.running = cv
	}
	hook := m.onChange
	m.mu.Unlock()
	if hook != nil {
		hook(e.ref, cv)
	}
	return done, ""
}

// checkRange applies MinSet and MaxSet to a numeric value v for attribute
// slot i. m.mu is held.
func (e *entry) checkRange(i int, v string) error {
	if !numeric(&e.def.Characteristics) {
		return nil
	}
	num := func(s string) (float64, bool) {
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil && s != ""
	}
	x, _ := num(v)
	bound := func(j int) (float64, bool) {
		if e.slot[j] < 0 {
			return 0, false
		}
		return num(e.vals[j])
	}
	lo, hasLo := bound(2)
	hi, hasHi := bound(3)
	switch i {
	case 0, 1:
		if hasLo && x < lo {
			return fmt.Errorf("%v is below MinSet %v", x, lo)
		}
		if hasHi && x > hi {
			return fmt.Errorf("%v is above MaxSet %v", x, hi)
		}
	case 2:
		if hasHi && x > hi {
			return fmt.Errorf("MinSet %v is above MaxSet %v", x, hi)
		}
	case 3:
		if hasLo && x < lo {
			return fmt.Errorf("MaxSet %v is below MinSet %v", x, lo)
		}
	}
	if i >= 2 {
		for _, j := range []int{0, 1} {
			cur, ok := bound(j)
			if ok && ((i == 2 && cur < x) || (i == 3 && cur > x)) {
				return fmt.Errorf("%s %v would leave the %s value %v out of range", attrTypes[i], x, attrTypes[j], cur)
			}
		}
	}
	return nil
}

// persist writes v as attribute a of r. m.mu is held.
func (m *Model) persist(r Ref, a AttributeType, v string) error {
	return m.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(m.bucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(storageKey(r, a)), []byte(v))
	})
}
