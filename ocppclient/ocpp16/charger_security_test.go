package ocpp16

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/evsed/evsed/clock"
)

// readiness is a SecurityReadiness with a fixed answer: profiles up to
// ready are ready.
type readiness struct{ ready int }

func (r readiness) ProfileReady(n int) error {
	if n > r.ready {
		return fmt.Errorf("profile %d: certificates missing", n)
	}
	return nil
}

// TestSecurityProfileNeedsCertificates raises SecurityProfile over OCPP:
// to 2 or 3 only when the certificate store says their certificates are
// installed, and never over a charger without a store.
func TestSecurityProfileNeedsCertificates(t *testing.T) {
	key := map[string]string{KeyAuthorizationKey: "0123456789abcdef0123"}
	tests := []struct {
		name     string
		security SecurityReadiness
		allow1   bool // the configuration allows profile 1
		steps    []struct{ value, want string }
	}{
		{"no store", nil, true, []struct{ value, want string }{{"1", "Accepted"}, {"2", "Rejected"}, {"3", "Rejected"}}},
		{"profile 1 not allowed", readiness{3}, false, []struct{ value, want string }{{"1", "Rejected"}, {"2", "Accepted"}}},
		{"roots only", readiness{2}, false, []struct{ value, want string }{{"2", "Accepted"}, {"3", "Rejected"}}},
		{"client certificate too", readiness{3}, false, []struct{ value, want string }{{"3", "Accepted"}, {"2", "Rejected"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &rig{t: t, path: filepath.Join(t.TempDir(), "evsed.db"), clk: clock.NewFake(t0), st: newFakeStation(2),
				security: tc.security, allowProfile1: tc.allow1}
			r.caller = newFakeCaller(csmsAnswers())
			r.open(key)
			for _, s := range tc.steps {
				resp, _ := r.handle(ActionChangeConfiguration, `{"key":"SecurityProfile","value":"`+s.value+`"}`)
				if got := status(t, resp); got != s.want {
					t.Errorf("SecurityProfile -> %s: %s, want %s", s.value, got, s.want)
				}
			}
		})
	}
}

// TestRestoreLowersAndPersists restores a lower SecurityProfile (the
// agent's fallback from settings that failed): allowed, unlike a change,
// kept across a restart, and without the change hook.
func TestRestoreLowersAndPersists(t *testing.T) {
	r := newRig(t, map[string]string{KeyAuthorizationKey: "0123456789abcdef0123"})
	if st := r.cfg.Set(KeySecurityProfile, "2"); st != ConfigurationStatusAccepted {
		t.Fatalf("Set 2: %s", st)
	}
	if st := r.cfg.Set(KeySecurityProfile, "1"); st != ConfigurationStatusRejected {
		t.Fatalf("Set 1 after 2: %s, want Rejected", st)
	}
	hooked := false
	r.cfg.OnChange(func(string, string) { hooked = true })
	if err := r.cfg.Restore(KeySecurityProfile, "1"); err != nil {
		t.Fatal(err)
	}
	if hooked {
		t.Error("Restore ran the change hook")
	}
	if err := r.cfg.Restore(KeySecurityProfile, "9"); err == nil {
		t.Error("Restore took 9, out of range")
	}
	if err := r.cfg.Restore("NoSuchKey", "1"); err == nil {
		t.Error("Restore took an unknown key")
	}
	r.reopen()
	if v, _ := r.cfg.Value(KeySecurityProfile); v != "1" {
		t.Errorf("SecurityProfile after restart %q, want 1", v)
	}
}
