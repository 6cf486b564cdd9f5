package main

import (
	"runtime"
	"testing"
	"time"
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

// The trimmer trims at its first look, then only when the file-backed
// RSS grew by more than its slack since the last trim, measured after
// that trim. The looks are called directly: what is tested is the rule,
// not the timer.
func TestTrimmerTrimsOnGrowth(t *testing.T) {
	const mib = 1 << 20
	resident := []int64{
		10 * mib, 3 * mib, // first look: trims, 3 MiB left
		3*mib + mib/2,    // grew by half the slack: no trim
		5 * mib, 3 * mib, // grew by 2 MiB: trims
		3 * mib, // steady
	}
	trims := 0
	tr := &trimmer{
		every: time.Hour, slack: mib,
		trim: func() (int, error) { trims++; return 1, nil },
		resident: func() (int64, error) {
			v := resident[0]
			resident = resident[1:]
			return v, nil
		},
	}
	tr.start(time.Hour)
	defer tr.stop()
	for look, want := range []int{1, 1, 2, 2} {
		tr.look()
		if trims != want {
			t.Fatalf("after look %d: %d trims, want %d", look+1, trims, want)
		}
	}
	if tr.trimmed != 3*mib {
		t.Errorf("trimmed mark %d, want the 3 MiB measured after the last trim", tr.trimmed)
	}
}

// fileResident reads a plausible figure on Linux: a running test binary
// has file-backed pages.
func TestFileResident(t *testing.T) {
	n, err := fileResident()
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "linux" && n <= 0 {
		t.Fatalf("fileResident %d, want > 0", n)
	}
}
