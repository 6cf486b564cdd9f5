package sdnotify

import (
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// listen opens a unixgram socket in a fresh temporary directory, as the
// service manager would, and returns its path and a function that reads
// one datagram as its KEY=VALUE lines.
func listen(t *testing.T) (string, func() []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return path, func() []string {
		t.Helper()
		buf := make([]byte, 4096)
		n, _, err := conn.ReadFromUnix(buf)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(string(buf[:n]), "\n")
	}
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestNotifySendsOneDatagramPerCall(t *testing.T) {
	path, read := listen(t)
	n, err := FromEnv(env(map[string]string{SocketEnv: path}))
	if err != nil || n == nil {
		t.Fatalf("FromEnv = %v, %v", n, err)
	}
	sends := [][]string{
		{Ready},
		{Watchdog},
		{Stopping, "STATUS=halting the board"},
	}
	for _, s := range sends {
		if err := n.Notify(s...); err != nil {
			t.Fatalf("Notify(%q): %v", s, err)
		}
		if got := read(); !reflect.DeepEqual(got, s) {
			t.Errorf("datagram = %q, want %q", got, s)
		}
	}
}

func TestNotifyRejectsMalformedStates(t *testing.T) {
	path, _ := listen(t)
	n, _ := FromEnv(env(map[string]string{SocketEnv: path}))
	for _, s := range [][]string{nil, {"READY"}, {"STATUS=a\nREADY=1"}} {
		if err := n.Notify(s...); err == nil {
			t.Errorf("Notify(%q) = nil, want an error", s)
		}
	}
}

func TestNoSocketIsANoOp(t *testing.T) {
	n, err := FromEnv(env(nil))
	if err != nil || n != nil {
		t.Fatalf("FromEnv without %s = %v, %v; want nil, nil", SocketEnv, n, err)
	}
	if err := n.Notify(Ready); err != nil {
		t.Errorf("nil Notifier: %v", err)
	}
}

func TestFromEnvErrors(t *testing.T) {
	if _, err := FromEnv(env(map[string]string{SocketEnv: "vsock:2:1234"})); err == nil {
		t.Error("vsock address accepted")
	}
	// A socket nobody listens on is reported at send time.
	n, err := FromEnv(env(map[string]string{SocketEnv: filepath.Join(t.TempDir(), "gone.sock")}))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(Ready); err == nil {
		t.Error("Notify to a missing socket = nil, want an error")
	}
}

func TestWatchdogTimeout(t *testing.T) {
	const pid = 4242
	tests := []struct {
		name    string
		env     map[string]string
		want    time.Duration
		ok      bool
		wantErr bool
	}{
		{name: "unset", env: nil},
		{name: "set", env: map[string]string{WatchdogUsecEnv: "15000000"}, want: 15 * time.Second, ok: true},
		{name: "for this pid", env: map[string]string{WatchdogUsecEnv: "500000", WatchdogPIDEnv: "4242"}, want: 500 * time.Millisecond, ok: true},
		{name: "for another pid", env: map[string]string{WatchdogUsecEnv: "500000", WatchdogPIDEnv: "1"}},
		{name: "bad pid", env: map[string]string{WatchdogUsecEnv: "500000", WatchdogPIDEnv: "x"}, wantErr: true},
		{name: "zero", env: map[string]string{WatchdogUsecEnv: "0"}, wantErr: true},
		{name: "not a number", env: map[string]string{WatchdogUsecEnv: "15s"}, wantErr: true},
		{name: "overflow", env: map[string]string{WatchdogUsecEnv: "9223372036854775807"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := WatchdogTimeout(env(tt.env), pid)
			if (err != nil) != tt.wantErr || got != tt.want || ok != tt.ok {
				t.Errorf("WatchdogTimeout = %v, %v, %v; want %v, %v, error %v", got, ok, err, tt.want, tt.ok, tt.wantErr)
			}
		})
	}
}
