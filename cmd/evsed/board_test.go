package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// shippedBoardNames reads the names of the board files in the source tree,
// independently of the boards package, so that a file the package fails to
// load or list is noticed.
func shippedBoardNames(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "..", "boards", "files", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no shipped board files found: %v", err)
	}
	var names []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var head struct {
			Name string `yaml:"name"`
		}
		if err := yaml.Unmarshal(data, &head); err != nil || head.Name == "" {
			t.Fatalf("%s: no name: %v", p, err)
		}
		names = append(names, head.Name)
	}
	return names
}

func TestBoardsListsEveryShippedFile(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := evsed([]string{"boards"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("evsed boards: exit %d, stderr %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
	listed := map[string]string{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 3 {
			t.Errorf("line %q: want name, source and description", l)
			continue
		}
		listed[f[0]] = l
	}
	if first := strings.Fields(lines[0]); len(first) == 0 || first[0] != "sim" {
		t.Errorf("first line %q: want the default board sim first", lines[0])
	}
	names := shippedBoardNames(t)
	if len(lines) != len(names) {
		t.Errorf("%d boards listed, %d files shipped:\n%s", len(lines), len(names), stdout.String())
	}
	for _, n := range names {
		if _, ok := listed[n]; !ok {
			t.Errorf("shipped board %s not listed:\n%s", n, stdout.String())
		}
	}
}

func TestBoardsShow(t *testing.T) {
	for _, name := range shippedBoardNames(t) {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := evsed([]string{"boards", "show", name}, &stdout, &stderr); code != exitOK {
				t.Fatalf("exit %d, stderr %s", code, stderr.String())
			}
			want, err := os.ReadFile(filepath.Join("..", "..", "boards", "files", name+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if stdout.String() != string(want) {
				t.Errorf("boards show %s printed\n%s\nwant the file as shipped\n%s", name, stdout.String(), want)
			}
		})
	}
}

func TestBoardsShowFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "mine.yaml")
	// No trailing newline: show adds one so that the shell prompt stays on
	// its own line.
	text := "name: mine\ndescription: my simulated test rig\nplatform: sim\nsim: {connectors: 1, max_current: 16A, phases: 1}"
	if err := os.WriteFile(good, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: bad\nplatform: toaster\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "own file", args: []string{"boards", "show", good}, wantCode: exitOK, wantStdout: text + "\n"},
		{name: "invalid file", args: []string{"boards", "show", bad}, wantCode: exitError, wantStderr: "bad.yaml"},
		{name: "missing file", args: []string{"boards", "show", filepath.Join(dir, "none.yaml")}, wantCode: exitError, wantStderr: "none.yaml"},
		{name: "unknown name", args: []string{"boards", "show", "nosuch"}, wantCode: exitError, wantStderr: "known boards: sim"},
		{name: "no name", args: []string{"boards", "show"}, wantCode: exitUsage, wantStderr: "want one board NAME or FILE"},
		{name: "two names", args: []string{"boards", "show", "sim", "rpi-relay"}, wantCode: exitUsage, wantStderr: "want one board NAME or FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := evsed(tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr %s", code, tt.wantCode, stderr.String())
			}
			if tt.wantStdout != "" && stdout.String() != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", stdout.String(), tt.wantStdout)
			}
			if tt.wantCode != exitOK && stdout.Len() != 0 {
				t.Errorf("stdout on failure: %q", stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, stderr.String())
			}
		})
	}
}
