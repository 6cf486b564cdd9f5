package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestFleetCommandLine checks that `evsed fleet` refuses a wrong command
// line with exit code 2 and a message naming the problem, before it opens
// anything.
func TestFleetCommandLine(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no csms", []string{"--stations", "3"}, "--csms is required"},
		{"no stations", []string{"--csms", "ws://127.0.0.1:1/ocpp"}, "--stations"},
		{"data and memory", []string{"--csms", "ws://127.0.0.1:1/ocpp", "--stations", "1", "--data", "x", "--memory"}, "exclude"},
		{"bad ocpp key", []string{"--csms", "ws://127.0.0.1:1/ocpp", "--stations", "1", "--ocpp", "nokey"}, "KEY=VALUE"},
		{"bad log level", []string{"--csms", "ws://127.0.0.1:1/ocpp", "--stations", "1", "--log-level", "loud"}, "--log-level"},
		{"extra argument", []string{"--csms", "ws://127.0.0.1:1/ocpp", "--stations", "1", "now"}, "unexpected argument"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := evsed(append([]string{"fleet"}, c.args...), &stdout, &stderr); code != exitUsage {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("stderr %q does not mention %q", stderr.String(), c.want)
			}
		})
	}
}
