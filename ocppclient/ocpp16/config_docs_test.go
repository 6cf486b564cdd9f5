package ocpp16

import (
	"os"
	"strings"
	"testing"
)

// The configuration-key table of the documentation lists every key, with
// its access and default, so that the two cannot drift apart.
func TestConfigKeysDocumented(t *testing.T) {
	const path = "../../docs/csms.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows[strings.Trim(cells[0], "`")] = cells[1:]
	}
	for _, d := range KeyDefs() {
		row, ok := rows[d.Name]
		if !ok {
			t.Errorf("%s: key %s is not documented", path, d.Name)
			continue
		}
		def := d.Default
		switch {
		case d.Name == KeyNumberOfConnectors:
			def = "the board's"
		case def == "":
			def = `""`
		}
		if row[0] != d.Access.String() || row[1] != def {
			t.Errorf("%s: %s documented as %s, default %s; it is %s, default %s", path, d.Name, row[0], row[1], d.Access, def)
		}
	}
	if len(rows) != len(KeyDefs()) {
		t.Errorf("%s documents %d keys, the firmware has %d", path, len(rows), len(KeyDefs()))
	}
}
