package devicemodel

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

const bucket = "devicemodel"

// openDB opens a bbolt file in a fresh temporary directory; path is where,
// for reopening.
func openDB(t *testing.T) (db *bbolt.DB, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "evsed.db")
	return reopenDB(t, path), path
}

func reopenDB(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var (
	ctl    = Component{Name: "TestCtrlr"}
	ctlTwo = Component{Name: "TestCtrlr", Instance: "Two"}
	one    = 1
	two    = 2
	evse1  = Component{Name: "EVSE", EVSE: &EVSE{ID: 1}}
	conn11 = Component{Name: "Connector", EVSE: &EVSE{ID: 1, ConnectorID: &one}}
)

// attrs builds attribute definitions: Actual first, then the others.
func rwAttr(t AttributeType, def string) AttributeDefinition {
	return AttributeDefinition{Type: t, Mutability: ReadWrite, Persistent: true, Default: def}
}

func def(c Component, name, inst string, ch VariableCharacteristics, a ...AttributeDefinition) Definition {
	return Definition{Component: c, Variable: Variable{Name: name, Instance: inst}, Attributes: a, Characteristics: ch}
}

// testDefs is a small table with a variable of every data type and
// mutability, MinSet/MaxSet, instances and EVSE components.
func testDefs() []Definition {
	reboot := def(ctl, "Reboot", "", integer(0, 10), rwAttr(Actual, "1"))
	reboot.RebootRequired = true
	return []Definition{
		def(ctl, "Interval", "", seconds(0, 3600), rwAttr(Actual, "60")),
		def(ctl, "Limit", "", integer(0, 100), rwAttr(Actual, "10"), rwAttr(MinSet, "5"), rwAttr(MaxSet, "20")),
		def(ctl, "Ratio", "", VariableCharacteristics{DataType: TypeDecimal, MinLimit: limit(0), MaxLimit: limit(1)}, rwAttr(Actual, "0.5")),
		def(ctl, "Mode", "", list(TypeOptionList, "Fast", "Slow"), rwAttr(Actual, "Fast")),
		def(ctl, "Members", "", list(TypeMemberList, "A", "B", "C"), rwAttr(Actual, "A")),
		def(ctl, "Order", "", list(TypeSequenceList, "X", "Y", "Z"), rwAttr(Actual, "X,Y")),
		def(ctl, "Flag", "", boolean(), rwAttr(Actual, "false")),
		def(ctl, "When", "", VariableCharacteristics{DataType: TypeDateTime}, rwAttr(Actual, "2026-01-01T00:00:00Z")),
		def(ctl, "Name", "", text(8), rwAttr(Actual, "")),
		def(ctl, "Long", "", VariableCharacteristics{DataType: TypeString}, rwAttr(Actual, "")),
		def(ctl, "Secret", "", text(40), AttributeDefinition{Type: Actual, Mutability: WriteOnly, Persistent: true}),
		def(ctl, "Count", "", integer(0, 1000), state("0")),
		def(ctl, "Kept", "", integer(0, 1000), kept("0")),
		def(ctl, "Volatile", "", integer(0, 1000), AttributeDefinition{Type: Actual, Mutability: ReadWrite, Default: "1"}),
		def(ctl, "Timeout", "Default", seconds(1, 60), rwAttr(Actual, "30")),
		reboot,
		def(ctlTwo, "Interval", "", seconds(0, 3600), rwAttr(Actual, "120")),
		def(evse1, "Power", "", VariableCharacteristics{DataType: TypeDecimal, Unit: "W"}, state("0")),
		def(conn11, "ConnectorType", "", text(20), fixed("sType2")),
	}
}

func openTest(t *testing.T, db *bbolt.DB, initial map[Ref]string) *Model {
	t.Helper()
	m, err := Open(db, bucket, testDefs(), initial)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGetStatuses(t *testing.T) {
	db, _ := openDB(t)
	m := openTest(t, db, nil)
	evse2 := Component{Name: "EVSE", EVSE: &EVSE{ID: 2}}
	evse0 := Component{Name: "EVSE", EVSE: &EVSE{ID: 0}}
	tests := []struct {
		name  string
		c     Component
		v     Variable
		a     AttributeType
		value string
		st    GetStatus
	}{
		{"actual by default", ctl, Variable{Name: "Interval"}, "", "60", GetAccepted},
		{"actual named", ctl, Variable{Name: "Interval"}, Actual, "60", GetAccepted},
		{"names ignore case", Component{Name: "testctrlr"}, Variable{Name: "INTERVAL"}, "", "60", GetAccepted},
		{"component instance", ctlTwo, Variable{Name: "Interval"}, "", "120", GetAccepted},
		{"instance ignores case", Component{Name: "TestCtrlr", Instance: "two"}, Variable{Name: "Interval"}, "", "120", GetAccepted},
		{"MinSet", ctl, Variable{Name: "Limit"}, MinSet, "5", GetAccepted},
		{"MaxSet", ctl, Variable{Name: "Limit"}, MaxSet, "20", GetAccepted},
		{"variable instance", ctl, Variable{Name: "Timeout", Instance: "Default"}, "", "30", GetAccepted},
		{"variable instance missing", ctl, Variable{Name: "Timeout"}, "", "", GetUnknownVariable},
		{"unknown variable instance", ctl, Variable{Name: "Interval", Instance: "X"}, "", "", GetUnknownVariable},
		{"unknown component", Component{Name: "NoCtrlr"}, Variable{Name: "Interval"}, "", "", GetUnknownComponent},
		{"unknown component instance", Component{Name: "TestCtrlr", Instance: "Three"}, Variable{Name: "Interval"}, "", "", GetUnknownComponent},
		{"known component, unknown variable", ctl, Variable{Name: "Nope"}, "", "", GetUnknownVariable},
		{"unknown attribute type for the variable", ctl, Variable{Name: "Interval"}, Target, "", GetNotSupportedAttributeType},
		{"invalid attribute type", ctl, Variable{Name: "Interval"}, "Bogus", "", GetNotSupportedAttributeType},
		{"write-only", ctl, Variable{Name: "Secret"}, "", "", GetRejected},
		{"EVSE component", evse1, Variable{Name: "Power"}, "", "0", GetAccepted},
		{"EVSE component without evse", Component{Name: "EVSE"}, Variable{Name: "Power"}, "", "", GetUnknownComponent},
		{"other EVSE", evse2, Variable{Name: "Power"}, "", "", GetUnknownComponent},
		{"EVSE id 0", evse0, Variable{Name: "Power"}, "", "", GetUnknownComponent},
		{"connector", conn11, Variable{Name: "ConnectorType"}, "", "sType2", GetAccepted},
		{"connector without connectorId", Component{Name: "Connector", EVSE: &EVSE{ID: 1}}, Variable{Name: "ConnectorType"}, "", "", GetUnknownComponent},
		{"EVSE level is not the connector", Component{Name: "EVSE", EVSE: &EVSE{ID: 1, ConnectorID: &one}}, Variable{Name: "Power"}, "", "", GetUnknownComponent},
		{"other connector", Component{Name: "Connector", EVSE: &EVSE{ID: 1, ConnectorID: &two}}, Variable{Name: "ConnectorType"}, "", "", GetUnknownComponent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, st := m.Get(tc.c, tc.v, tc.a)
			if st != tc.st || v != tc.value {
				t.Errorf("Get = %q, %s; want %q, %s", v, st, tc.value, tc.st)
			}
		})
	}
}

func TestSetStatusesAndValidation(t *testing.T) {
	v := func(name string) Variable { return Variable{Name: name} }
	tests := []struct {
		name string
		c    Component
		v    Variable
		a    AttributeType
		in   string
		st   SetStatus
		want string // value read back when not Rejected; "" skips
	}{
		{"integer", ctl, v("Interval"), "", "300", SetAccepted, "300"},
		{"integer canonical", ctl, v("Interval"), Actual, "+0300", SetAccepted, "300"},
		{"integer at max", ctl, v("Interval"), "", "3600", SetAccepted, "3600"},
		{"integer above max", ctl, v("Interval"), "", "3601", SetRejected, ""},
		{"integer below min", ctl, v("Interval"), "", "-1", SetRejected, ""},
		{"integer not a number", ctl, v("Interval"), "", "ten", SetRejected, ""},
		{"integer with decimals", ctl, v("Interval"), "", "1.5", SetRejected, ""},
		{"integer with spaces", ctl, v("Interval"), "", " 5", SetRejected, ""},
		{"decimal", ctl, v("Ratio"), "", "0.25", SetAccepted, "0.25"},
		{"decimal canonical", ctl, v("Ratio"), "", "1.0", SetAccepted, "1"},
		{"decimal above max", ctl, v("Ratio"), "", "1.01", SetRejected, ""},
		{"decimal NaN", ctl, v("Ratio"), "", "NaN", SetRejected, ""},
		{"decimal hex", ctl, v("Ratio"), "", "0x1p-2", SetRejected, ""},
		{"boolean", ctl, v("Flag"), "", "true", SetAccepted, "true"},
		{"boolean any case", ctl, v("Flag"), "", "TRUE", SetAccepted, "true"},
		{"boolean invalid", ctl, v("Flag"), "", "1", SetRejected, ""},
		{"dateTime", ctl, v("When"), "", "2026-11-25T01:02:03.456Z", SetAccepted, "2026-11-25T01:02:03.456Z"},
		{"dateTime invalid", ctl, v("When"), "", "yesterday", SetRejected, ""},
		{"option", ctl, v("Mode"), "", "Slow", SetAccepted, "Slow"},
		{"option any case", ctl, v("Mode"), "", "slow", SetAccepted, "Slow"},
		{"option unknown", ctl, v("Mode"), "", "Medium", SetRejected, ""},
		{"option two values", ctl, v("Mode"), "", "Fast,Slow", SetRejected, ""},
		{"members", ctl, v("Members"), "", "C, a", SetAccepted, "C,A"},
		{"members empty", ctl, v("Members"), "", "", SetAccepted, ""},
		{"members unknown item", ctl, v("Members"), "", "A,D", SetRejected, ""},
		{"members repeated", ctl, v("Members"), "", "A,B,A", SetRejected, ""},
		{"sequence", ctl, v("Order"), "", "Z,X", SetAccepted, "Z,X"},
		{"sequence repeated", ctl, v("Order"), "", "X,X", SetRejected, ""},
		{"string", ctl, v("Name"), "", "héllo", SetAccepted, "héllo"},
		{"string at max length", ctl, v("Name"), "", "12345678", SetAccepted, "12345678"},
		{"string too long", ctl, v("Name"), "", "123456789", SetRejected, ""},
		{"value at 1000 characters", ctl, v("Long"), "", strings.Repeat("é", MaxSetValueLen), SetAccepted, strings.Repeat("é", MaxSetValueLen)},
		{"value over 1000 characters", ctl, v("Long"), "", strings.Repeat("a", MaxSetValueLen+1), SetRejected, ""},
		{"write-only", ctl, v("Secret"), "", "0123456789abcdef", SetAccepted, ""},
		{"read-only", ctl, v("Count"), "", "3", SetRejected, ""},
		{"read-only constant", conn11, v("ConnectorType"), "", "cType2", SetRejected, ""},
		{"MinSet", ctl, v("Limit"), MinSet, "8", SetAccepted, "8"},
		{"MinSet above MaxSet", ctl, v("Limit"), MinSet, "21", SetRejected, ""},
		{"MinSet above Actual", ctl, v("Limit"), MinSet, "11", SetRejected, ""},
		{"MaxSet", ctl, v("Limit"), MaxSet, "15", SetAccepted, "15"},
		{"MaxSet below MinSet", ctl, v("Limit"), MaxSet, "4", SetRejected, ""},
		{"MaxSet below Actual", ctl, v("Limit"), MaxSet, "9", SetRejected, ""},
		{"MaxSet outside limits", ctl, v("Limit"), MaxSet, "101", SetRejected, ""},
		{"Actual within MinSet..MaxSet", ctl, v("Limit"), "", "20", SetAccepted, "20"},
		{"Actual below MinSet", ctl, v("Limit"), "", "4", SetRejected, ""},
		{"Actual above MaxSet", ctl, v("Limit"), "", "21", SetRejected, ""},
		{"unknown component", Component{Name: "NoCtrlr"}, v("Interval"), "", "1", SetUnknownComponent, ""},
		{"unknown variable", ctl, v("Nope"), "", "1", SetUnknownVariable, ""},
		{"unsupported attribute", ctl, v("Interval"), MaxSet, "1", SetNotSupportedAttributeType, ""},
		{"invalid attribute", ctl, v("Interval"), "Bogus", "1", SetNotSupportedAttributeType, ""},
		{"reboot required", ctl, v("Reboot"), "", "2", SetRebootRequired, "2"},
		{"instance", ctlTwo, v("Interval"), "", "7", SetAccepted, "7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openDB(t)
			m := openTest(t, db, nil)
			before, _ := m.Get(tc.c, tc.v, tc.a)
			st, reason := m.Set(tc.c, tc.v, tc.a, tc.in)
			if st != tc.st {
				t.Fatalf("Set(%q) = %s (%s), want %s", tc.in, st, reason, tc.st)
			}
			if st == SetRejected && reason == "" {
				t.Error("Rejected without a reason")
			}
			got, _ := m.Get(tc.c, tc.v, tc.a)
			switch {
			case st == SetRejected && got != before:
				t.Errorf("rejected Set changed the value from %q to %q", before, got)
			case tc.want != "" && got != tc.want:
				t.Errorf("value after Set = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSetHooks(t *testing.T) {
	db, _ := openDB(t)
	m := openTest(t, db, nil)
	var changes []string
	m.OnChange(func(r Ref, v string) {
		// The hook sees the stored value.
		if got := m.String(r); got != v && r.Variable != "Reboot" {
			t.Errorf("hook for %s: model reads %q, hook got %q", r, got, v)
		}
		changes = append(changes, r.String()+"="+v)
	})
	m.SetValidator(func(r Ref, v string) error {
		if r == (Ref{Component: "TestCtrlr", Variable: "Interval"}) && v == "13" {
			return errors.New("13 is unlucky")
		}
		return nil
	})
	if st, reason := m.Set(Component{Name: "TESTCTRLR"}, Variable{Name: "interval"}, "", "13"); st != SetRejected || reason != "13 is unlucky" {
		t.Errorf("validator refusal: %s %q, want Rejected with the validator's text", st, reason)
	}
	if st, _ := m.Set(ctl, Variable{Name: "Interval"}, "", "0014"); st != SetAccepted {
		t.Errorf("Set = %s", st)
	}
	if st, _ := m.Set(ctl, Variable{Name: "Interval"}, "", "14"); st != SetAccepted {
		t.Errorf("unchanged Set = %s, want Accepted", st)
	}
	want := []string{"TestCtrlr/Interval=14"}
	if strings.Join(changes, " ") != strings.Join(want, " ") {
		t.Errorf("OnChange calls %q, want %q (canonical names, once, not for the unchanged value)", changes, want)
	}
}

func TestRebootRequired(t *testing.T) {
	db, path := openDB(t)
	m := openTest(t, db, nil)
	r := Ref{Component: "TestCtrlr", Variable: "Reboot"}
	if st, _ := m.Set(ctl, Variable{Name: "Reboot"}, "", "7"); st != SetRebootRequired {
		t.Fatalf("Set = %s, want RebootRequired", st)
	}
	if v, _ := m.Get(ctl, Variable{Name: "Reboot"}, ""); v != "7" {
		t.Errorf("Get = %q, want the new value 7", v)
	}
	if n := m.Int(r); n != 1 {
		t.Errorf("typed read = %d, want 1 until the next start", n)
	}
	db.Close()
	m = openTest(t, reopenDB(t, path), nil)
	if n := m.Int(r); n != 7 {
		t.Errorf("after restart typed read = %d, want 7", n)
	}
}

func TestPersistence(t *testing.T) {
	db, path := openDB(t)
	m := openTest(t, db, nil)
	sets := []struct {
		c Component
		v string
		a AttributeType
		x string
	}{
		{ctl, "Interval", "", "42"},
		{ctl, "Limit", MaxSet, "50"},
		{ctl, "Secret", "", "0123456789abcdef"},
		{ctl, "Volatile", "", "9"},
		{ctlTwo, "Interval", "", "43"},
	}
	for _, s := range sets {
		if st, reason := m.Set(s.c, Variable{Name: s.v}, s.a, s.x); st != SetAccepted {
			t.Fatalf("Set %s = %s %s", s.v, st, reason)
		}
	}
	if err := m.Update(Ref{Component: "TestCtrlr", Variable: "Kept"}, "5"); err != nil {
		t.Fatal(err)
	}
	if err := m.Update(Ref{Component: "TestCtrlr", Variable: "Count"}, "6"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	m = openTest(t, reopenDB(t, path), nil)
	tests := []struct {
		r    Ref
		want string
	}{
		{Ref{Component: "TestCtrlr", Variable: "Interval"}, "42"},
		{Ref{Component: "TestCtrlr", ComponentInstance: "Two", Variable: "Interval"}, "43"},
		{Ref{Component: "TestCtrlr", Variable: "Secret"}, "0123456789abcdef"},
		{Ref{Component: "TestCtrlr", Variable: "Kept"}, "5"},
		{Ref{Component: "TestCtrlr", Variable: "Count"}, "0"},    // not Persistent
		{Ref{Component: "TestCtrlr", Variable: "Volatile"}, "1"}, // not Persistent
	}
	for _, tc := range tests {
		if got := m.String(tc.r); got != tc.want {
			t.Errorf("%s after reopen = %q, want %q", tc.r, got, tc.want)
		}
	}
	if v, _ := m.Get(ctl, Variable{Name: "Limit"}, MaxSet); v != "50" {
		t.Errorf("MaxSet after reopen = %q, want 50", v)
	}
}

func TestOpenPrecedence(t *testing.T) {
	interval := Ref{Component: "TestCtrlr", Variable: "Interval"}
	count := Ref{Component: "TestCtrlr", Variable: "Count"}
	db, path := openDB(t)
	m := openTest(t, db, map[Ref]string{{Component: "testctrlr", Variable: "interval"}: "100", count: "7"})
	if got := m.Int(interval); got != 100 {
		t.Fatalf("initial value: %d, want 100 (initial wins over the default)", got)
	}
	if got := m.Int(count); got != 7 {
		t.Fatalf("initial value of a read-only variable: %d, want 7", got)
	}
	m.Set(ctl, Variable{Name: "Interval"}, "", "200")
	db.Close()
	m = openTest(t, reopenDB(t, path), map[Ref]string{interval: "100"})
	if got := m.Int(interval); got != 200 {
		t.Errorf("after reopen: %d, want 200 (the value set over OCPP wins over initial)", got)
	}

	bad := []struct {
		name    string
		initial map[Ref]string
		err     error
	}{
		{"unknown variable", map[Ref]string{{Component: "TestCtrlr", Variable: "Nope"}: "1"}, ErrUnknownVariable},
		{"invalid value", map[Ref]string{interval: "soon"}, ErrBadValue},
		{"out of range", map[Ref]string{interval: "99999"}, ErrBadValue},
	}
	for _, tc := range bad {
		db, _ := openDB(t)
		if _, err := Open(db, bucket, testDefs(), tc.initial); !errors.Is(err, tc.err) {
			t.Errorf("%s: Open error %v, want %v", tc.name, err, tc.err)
		}
	}
}

func TestOpenBadDefinitions(t *testing.T) {
	tests := []struct {
		name string
		defs []Definition
	}{
		{"no Actual", []Definition{def(ctl, "X", "", boolean(), rwAttr(Target, "true"))}},
		{"repeated attribute", []Definition{def(ctl, "X", "", boolean(), rwAttr(Actual, "true"), rwAttr(Actual, "true"))}},
		{"unknown attribute", []Definition{def(ctl, "X", "", boolean(), rwAttr("Bogus", "true"))}},
		{"bad mutability", []Definition{def(ctl, "X", "", boolean(), AttributeDefinition{Type: Actual, Mutability: "Sometimes", Default: "true"})}},
		{"bad default", []Definition{def(ctl, "X", "", boolean(), rwAttr(Actual, "yes"))}},
		{"bad data type", []Definition{def(ctl, "X", "", VariableCharacteristics{DataType: "blob"}, rwAttr(Actual, ""))}},
		{"defined twice", []Definition{def(ctl, "X", "", boolean(), rwAttr(Actual, "true")), def(Component{Name: "testctrlr"}, "x", "", boolean(), rwAttr(Actual, "true"))}},
	}
	for _, tc := range tests {
		db, _ := openDB(t)
		if _, err := Open(db, bucket, tc.defs, nil); !errors.Is(err, ErrBadDefinition) {
			t.Errorf("%s: Open error %v, want ErrBadDefinition", tc.name, err)
		}
	}
}

// writes returns how many pages db has written so far.
func writes(db *bbolt.DB) int64 {
	s := db.Stats()
	return s.TxStats.GetWrite()
}

func TestWritesOnlyChanges(t *testing.T) {
	db, path := openDB(t)
	openTest(t, db, nil) // creates the bucket
	db.Close()
	db = reopenDB(t, path)
	w0 := writes(db)
	m := openTest(t, db, map[Ref]string{{Component: "TestCtrlr", Variable: "Interval"}: "100"})
	if w := writes(db); w != w0 {
		t.Fatalf("Open of an existing bucket wrote %d pages", w-w0)
	}
	steps := []struct {
		name  string
		do    func()
		write bool
	}{
		{"Set to a new value", func() { m.Set(ctl, Variable{Name: "Interval"}, "", "5") }, true},
		{"Set to the same value", func() { m.Set(ctl, Variable{Name: "Interval"}, "", "5") }, false},
		{"Set to the same value, other spelling", func() { m.Set(ctl, Variable{Name: "Interval"}, "", "05") }, false},
		{"rejected Set", func() { m.Set(ctl, Variable{Name: "Interval"}, "", "x") }, false},
		{"Set of a volatile value", func() { m.Set(ctl, Variable{Name: "Volatile"}, "", "3") }, false},
		{"Update of a volatile value", func() { m.Update(Ref{Component: "TestCtrlr", Variable: "Count"}, "3") }, false},
		{"Update of a kept value", func() { m.Update(Ref{Component: "TestCtrlr", Variable: "Kept"}, "3") }, true},
		{"Update of a kept value, unchanged", func() { m.Update(Ref{Component: "TestCtrlr", Variable: "Kept"}, "3") }, false},
		{"Gets and reports", func() {
			m.Get(ctl, Variable{Name: "Interval"}, "")
			m.Report(FullInventory)
			m.Query([]string{CriterionProblem}, nil)
		}, false},
	}
	for _, s := range steps {
		before := writes(db)
		s.do()
		if wrote := writes(db) > before; wrote != s.write {
			t.Errorf("%s: wrote %v, want %v", s.name, wrote, s.write)
		}
	}
}

func TestUpdate(t *testing.T) {
	db, _ := openDB(t)
	m := openTest(t, db, nil)
	count := Ref{Component: "TestCtrlr", Variable: "Count"}
	if err := m.Update(count, "12"); err != nil {
		t.Fatal(err)
	}
	if v, st := m.Get(ctl, Variable{Name: "Count"}, ""); v != "12" || st != GetAccepted {
		t.Errorf("Get after Update = %q %s", v, st)
	}
	if err := m.Update(count, "1001"); !errors.Is(err, ErrBadValue) {
		t.Errorf("Update beyond MaxLimit: %v, want ErrBadValue", err)
	}
	if err := m.Update(Ref{Component: "TestCtrlr", Variable: "Nope"}, "1"); !errors.Is(err, ErrUnknownVariable) {
		t.Errorf("Update of an unknown variable: %v, want ErrUnknownVariable", err)
	}
	// Update puts back a value of a writable variable too, bypassing
	// MinSet/MaxSet, and a RebootRequired one takes effect at once.
	if err := m.Update(Ref{Component: "TestCtrlr", Variable: "Limit"}, "99"); err != nil {
		t.Errorf("Update of a ReadWrite variable: %v", err)
	}
	if err := m.Update(Ref{Component: "TestCtrlr", Variable: "Reboot"}, "4"); err != nil || m.Int(Ref{Component: "TestCtrlr", Variable: "Reboot"}) != 4 {
		t.Errorf("Update of a RebootRequired variable: %v, reads %d", err, m.Int(Ref{Component: "TestCtrlr", Variable: "Reboot"}))
	}
}

func TestLiveAndTypedReads(t *testing.T) {
	db, _ := openDB(t)
	m := openTest(t, db, map[Ref]string{{Component: "TestCtrlr", Variable: "Members"}: "B,C"})
	power := Ref{Component: "EVSE", EVSE: 1, Variable: "Power"}
	if err := m.Live(power, func() string { return "7400.5" }); err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Get(evse1, Variable{Name: "Power"}, ""); v != "7400.5" {
		t.Errorf("Get of a live value = %q", v)
	}
	if err := m.Live(Ref{Component: "TestCtrlr", Variable: "Interval"}, func() string { return "1" }); !errors.Is(err, ErrBadDefinition) {
		t.Errorf("Live on a writable variable: %v, want ErrBadDefinition", err)
	}
	if err := m.Live(Ref{Component: "Nope", Variable: "X"}, nil); !errors.Is(err, ErrUnknownVariable) {
		t.Errorf("Live on an unknown variable: %v", err)
	}
	m.Set(ctl, Variable{Name: "Flag"}, "", "true")
	m.Set(ctl, Variable{Name: "Secret"}, "", "0123456789abcdef")
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"Seconds", m.Seconds(Ref{Component: "TestCtrlr", Variable: "Interval"}).Seconds(), 60.0},
		{"Int", m.Int(Ref{Component: "TestCtrlr", Variable: "Limit"}), 10},
		{"Int of a decimal", m.Int(power), 7400},
		{"Float", m.Float(power), 7400.5},
		{"Bool", m.Bool(Ref{Component: "TestCtrlr", Variable: "Flag"}), true},
		{"List", strings.Join(m.List(Ref{Component: "TestCtrlr", Variable: "Members"}), "|"), "B|C"},
		{"String of a write-only value", m.String(Ref{Component: "TestCtrlr", Variable: "Secret"}), "0123456789abcdef"},
		{"unknown Ref", m.String(Ref{Component: "Nope", Variable: "X"}), ""},
		{"unknown Ref Int", m.Int(Ref{Component: "Nope", Variable: "X"}), 0},
		{"unknown Ref List", len(m.List(Ref{Component: "Nope", Variable: "X"})), 0},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestGetTruncatesToReportingValueSize(t *testing.T) {
	defs := append(testDefs(), def(Component{Name: DeviceDataCtrlr}, "ReportingValueSize", "", integer(1, 2500), fixed("2500")))
	db, _ := openDB(t)
	m, err := Open(db, bucket, defs, map[Ref]string{ReportingValueSize: "10"})
	if err != nil {
		t.Fatal(err)
	}
	m.Set(ctl, Variable{Name: "Long"}, "", strings.Repeat("é", 20))
	if v, _ := m.Get(ctl, Variable{Name: "Long"}, ""); v != strings.Repeat("é", 10) {
		t.Errorf("Get = %q, want 10 characters", v)
	}
	rd := m.Query(nil, []ComponentVariable{{Component: ctl, Variable: &Variable{Name: "Long"}}})
	if len(rd) != 1 || rd[0].VariableAttribute[0].Value != strings.Repeat("é", 10) {
		t.Errorf("report = %+v, want the value cut to 10 characters", rd)
	}
}
