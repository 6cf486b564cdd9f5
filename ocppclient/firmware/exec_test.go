package firmware_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/evsed/evsed/ocppclient/firmware"
)

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestExecutableInstallRollback(t *testing.T) {
	dir := t.TempDir()
	bin, image := filepath.Join(dir, "evsed"), filepath.Join(dir, "download.img")
	writeFile(t, bin, "v1", 0o755)
	writeFile(t, image, "v2", 0o600)
	restarted := false
	exe := &firmware.Executable{Path: bin, MaxBoots: 2, Restart: func(context.Context) error { restarted = true; return nil }}
	out, err := exe.Install(context.Background(), image, firmware.Request{ID: 42})
	if err != nil || out != firmware.Rebooting || !restarted {
		t.Fatalf("Install = %v, %v (restarted %v)", out, err, restarted)
	}
	if readFile(t, bin) != "v2" || readFile(t, bin+".prev") != "v1" || !exe.Pending() {
		t.Fatal("not replaced with the previous kept and a marker")
	}
	// Two starts of the new binary are allowed, the third rolls back.
	for i := range 2 {
		if rb, err := exe.CheckBoot(); err != nil || rb {
			t.Fatalf("boot %d: rolled back %v, %v", i+1, rb, err)
		}
		if id, ok := exe.PendingRequest(); !ok || id != 42 {
			t.Fatalf("boot %d: PendingRequest = %d, %v", i+1, id, ok)
		}
	}
	rb, err := exe.CheckBoot()
	if err != nil || !rb {
		t.Fatalf("boot 3: rolled back %v, %v", rb, err)
	}
	if readFile(t, bin) != "v1" || exe.Pending() {
		t.Fatal("rollback did not restore v1 and clear the marker")
	}
	if _, ok := exe.PendingRequest(); ok {
		t.Fatal("PendingRequest after rollback")
	}
	if rb, err := exe.CheckBoot(); rb || err != nil {
		t.Fatalf("CheckBoot with nothing pending = %v, %v", rb, err)
	}

	// Confirmed, the new binary stays.
	writeFile(t, image, "v3", 0o600)
	exe.Restart = nil
	if out, err := exe.Install(context.Background(), image, firmware.Request{}); err != nil || out != firmware.Done {
		t.Fatalf("Install without restart = %v, %v", out, err)
	}
	if err := exe.Confirm(); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if rb, _ := exe.CheckBoot(); rb {
			t.Fatal("a confirmed binary was rolled back")
		}
	}
	if readFile(t, bin) != "v3" {
		t.Fatal("confirmed binary replaced")
	}
}

func TestExecutableVerifyFails(t *testing.T) {
	dir := t.TempDir()
	bin, image := filepath.Join(dir, "evsed"), filepath.Join(dir, "download.img")
	writeFile(t, bin, "v1", 0o755)
	writeFile(t, image, "broken", 0o600)
	exe := &firmware.Executable{Path: bin, Verify: func(_ context.Context, p string) error {
		if readFile(t, p) == "broken" {
			return errors.New("does not start")
		}
		return nil
	}}
	if _, err := exe.Install(context.Background(), image, firmware.Request{}); !errors.Is(err, firmware.ErrVerification) {
		t.Fatalf("Install = %v, want ErrVerification", err)
	}
	if readFile(t, bin) != "v1" || exe.Pending() {
		t.Fatal("a failed verification touched the binary")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "evsed.*")); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}
