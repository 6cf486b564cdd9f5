package devicemodel

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaFile is the official OCPP 2.0.1 schema set: the shared folder
// beside the repository root.
var schemaFile = filepath.Join("..", "..", "..", "..", "shared", "ocpp-schemas", "ocpp2_0_1.json")

// compileSchemas compiles the schemas of ids (a $id, optionally with a
// fragment) from the 2.0.1 schema set, or skips the test when the set is
// absent.
func compileSchemas(t *testing.T, ids ...string) map[string]*jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(schemaFile)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("official OCPP 2.0.1 schemas not found at %s: schema conformance not checked", schemaFile)
	}
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	if err := json.Unmarshal(data, &docs); err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, d := range docs {
		id, _ := d["$id"].(string)
		b, _ := json.Marshal(d)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("schema %s: %v", id, err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, id := range ids {
		s, err := c.Compile(id)
		if err != nil {
			t.Fatalf("compile %s: %v", id, err)
		}
		out[id] = s
	}
	return out
}

func validate(t *testing.T, s *jsonschema.Schema, v any) error {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(inst)
}

// TestFullInventorySchema checks every ReportData of the standard table's
// FullInventory, for shapes with one and several EVSEs, against the
// NotifyReport.req schema's ReportDataType, and one NotifyReport carrying
// them all.
func TestFullInventorySchema(t *testing.T) {
	const (
		reportData = "urn:NotifyReport.req#/definitions/ReportDataType"
		notify     = "urn:NotifyReport.req"
	)
	schemas := compileSchemas(t, reportData, notify)
	// The schema is enforced: a variable without attributes fails it.
	if err := validate(t, schemas[reportData], ReportData{Component: Component{Name: "X"}, Variable: Variable{Name: "Y"}}); err == nil {
		t.Fatal("ReportDataType accepts a ReportData without variableAttribute")
	}
	shapes := map[string]Shape{
		"defaults": {},
		"three EVSEs": {EVSEs: 3, VendorName: "evsed", Model: "pi-ac22", Identity: "CS-0001", Phases: 1,
			Connectors: []ConnectorShape{{ConnectorType: "cType2"}}},
	}
	for name, shape := range shapes {
		t.Run(name, func(t *testing.T) {
			db, _ := openDB(t)
			m, err := Open(db, bucket, Standard(shape), nil)
			if err != nil {
				t.Fatal(err)
			}
			m.Set(Component{Name: SecurityCtrlr}, Variable{Name: "BasicAuthPassword"}, "", "0123456789abcdef")
			full, err := m.Report(FullInventory)
			if err != nil {
				t.Fatal(err)
			}
			for _, rd := range full {
				if err := validate(t, schemas[reportData], rd); err != nil {
					t.Errorf("%s: %v", RefOf(rd.Component, rd.Variable), err)
				}
			}
			msg := map[string]any{"requestId": 1, "generatedAt": "2026-11-25T01:02:03Z", "seqNo": 0, "reportData": full}
			if err := validate(t, schemas[notify], msg); err != nil {
				t.Errorf("NotifyReport: %v", err)
			}
		})
	}
}
