package main

import (
	"runtime"
	"testing"
)

// The trim finds the executable's read-only mappings (code and constants)
// and the kernel takes the advice; the test binary is an executable like
// evsed. RSS figures are the benchmark's (scripts/bench), not a test's.
func TestTrimExecutable(t *testing.T) {
	n, err := trimExecutable()
	if runtime.GOOS != "linux" {
		if n != 0 || err != nil {
			t.Fatalf("off Linux: %d, %v", n, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("trimExecutable: %v", err)
	}
	if n < 1 {
		t.Fatalf("advised %d mappings of the executable, want at least its code", n)
	}
}
