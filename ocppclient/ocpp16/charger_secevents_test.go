package ocpp16

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/evsed/evsed/ocppclient/secevents"
)

// Every security event lands in the security log; a critical one is also
// queued durably as a SecurityEventNotification with its 1.6 name, and a
// Reset from the CSMS raises ResetOrReboot.
func TestSecurityEvents(t *testing.T) {
	r := newRig(t, nil)
	log, err := secevents.OpenLog(secevents.LogOptions{Dir: filepath.Join(t.TempDir(), "security"), Clock: r.clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	r.c.opts.SecurityLog = log

	r.c.SecurityEvent(secevents.InvalidMessages, "frame with a 40-character message id")
	r.c.SecurityEvent(secevents.StartupOfTheDevice, "evsed dev")
	entries, err := r.queue.Entries()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Action != ActionSecurityEventNotification {
		t.Fatalf("queue %v, want one SecurityEventNotification (the critical event only)", entries)
	}
	var req SecurityEventNotificationRequest
	if err := json.Unmarshal(entries[0].Payload, &req); err != nil {
		t.Fatal(err)
	}
	if req.Type != "StartupOfTheDevice" || req.TechInfo != "evsed dev" || !req.Timestamp.Equal(t0) {
		t.Errorf("queued %+v", req)
	}
	if err := Validate(&req); err != nil {
		t.Errorf("queued notification breaks the schema rules: %v", err)
	}

	resp, _ := r.handle(ActionReset, `{"type":"Soft"}`)
	if got := status(t, resp); got != "Accepted" {
		t.Fatal(got)
	}
	r.c.background.Wait()
	logged, err := log.Read(t0.Add(-time.Hour), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var types []secevents.Type
	for _, e := range logged {
		types = append(types, e.Type)
	}
	want := []secevents.Type{secevents.InvalidMessages, secevents.StartupOfTheDevice, secevents.ResetOrReboot}
	if len(types) != len(want) {
		t.Fatalf("security log %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Errorf("security log %v, want %v", types, want)
			break
		}
	}
	if n := r.queue.Len(); n != 2 {
		t.Errorf("%d queued after the reset, want 2 (StartupOfTheDevice, ResetOrReboot)", n)
	}
}
