package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func noEnv(string) string { return "" }

func ptr[T any](v T) *T { return &v }

func TestDefaults(t *testing.T) {
	c, err := Load("", Overrides{}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("Load with nothing =\n%+v\nwant\n%+v", *c, want)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"id", c.Station.ID, "CP001"},
		{"board", c.Board, "sim"},
		{"data_dir", c.DataDir, "./evsed-data"},
		{"api.listen", c.API.Listen, "127.0.0.1:8090"},
		{"log_level", c.LogLevel, "info"},
		{"protocols", c.CSMS.Protocols, []string{"ocpp2.0.1", "ocpp1.6"}},
		{"security_profile", c.CSMS.SecurityProfile, 0},
		{"free charging standalone", c.FreeChargingEnabled(), true},
		{"watchdog.interval", c.Watchdog.Interval, time.Second},
		{"watchdog.budget", c.Watchdog.Budget, 5 * time.Second},
		{"station.max_current_a", c.Station.MaxCurrentA, 0.0},
		{"station.time_zone", c.Station.Location(), time.UTC},
		{"station.voltage_v", c.Station.VoltageV, 230.0},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	// An empty file is the same as no file.
	empty := writeFile(t, t.TempDir(), "empty.yaml", "")
	if c2, err := Load(empty, Overrides{}, noEnv); err != nil || !reflect.DeepEqual(*c2, want) {
		t.Errorf("empty file: %+v, %v", c2, err)
	}
}

func TestFileAndOverrides(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "pw", "s3cret\n")
	writeFile(t, dir, "ca.pem", "x")
	path := writeFile(t, dir, "evsed.yaml", `
station:
  id: CP-42
  vendor: Acme
  model: Wallbox 2
  serial: SN1
  firmware: 1.2.3
  free_charging: false
  max_current_a: 40
  time_zone: Europe/Berlin
  voltage_v: 240
board: boards/mine.yaml
data_dir: data
log_level: debug
api:
  listen: 127.0.0.1:9000
csms:
  url: wss://csms.example/ocpp
  security_profile: 2
  password_file: pw
  ca_file: ca.pem
ocpp:
  HeartbeatInterval: "300"
ocpp201:
  OCPPCommCtrlr/HeartbeatInterval: "120"
connectors:
  1: {max_current_a: 16, phases: 1}
  2: {max_current_a: 32}
`)
	tests := []struct {
		name  string
		o     Overrides
		check func(t *testing.T, c *Config)
	}{
		{name: "file values", check: func(t *testing.T, c *Config) {
			want := Station{ID: "CP-42", Vendor: "Acme", Model: "Wallbox 2", Serial: "SN1", Firmware: "1.2.3", FreeCharging: ptr(false),
				MaxCurrentA: 40, TimeZone: "Europe/Berlin", VoltageV: 240}
			if !reflect.DeepEqual(c.Station, want) {
				t.Errorf("station = %+v, want %+v", c.Station, want)
			}
			if c.Board != filepath.Join(dir, "boards/mine.yaml") || c.DataDir != filepath.Join(dir, "data") {
				t.Errorf("paths not resolved against the file: board %q data %q", c.Board, c.DataDir)
			}
			if c.CSMS.Password != "s3cret" || c.CSMS.CAFile != filepath.Join(dir, "ca.pem") {
				t.Errorf("csms = %+v", c.CSMS)
			}
			if c.API.Listen != "127.0.0.1:9000" || c.LogLevel != "debug" || c.OCPP["HeartbeatInterval"] != "300" {
				t.Errorf("api %q log %q ocpp %v", c.API.Listen, c.LogLevel, c.OCPP)
			}
			if c.OCPP201["OCPPCommCtrlr/HeartbeatInterval"] != "120" {
				t.Errorf("ocpp201 %v", c.OCPP201)
			}
			wantConn := map[int]Connector{1: {MaxCurrentA: 16, Phases: 1}, 2: {MaxCurrentA: 32}}
			if !reflect.DeepEqual(c.Connectors, wantConn) {
				t.Errorf("connectors = %v, want %v", c.Connectors, wantConn)
			}
			if c.FreeChargingEnabled() {
				t.Error("free charging on although the file turns it off")
			}
		}},
		{name: "flags override", o: Overrides{
			Board: ptr("other"), CSMSURL: ptr("wss://b.example/x"), ID: ptr("CP-9"),
			DataDir: ptr("/var/lib/evsed"), APIListen: ptr("127.0.0.1:1"), LogLevel: ptr("warn"),
		}, check: func(t *testing.T, c *Config) {
			got := []string{c.Board, c.CSMS.URL, c.Station.ID, c.DataDir, c.API.Listen, c.LogLevel}
			want := []string{"other", "wss://b.example/x", "CP-9", "/var/lib/evsed", "127.0.0.1:1", "warn"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
			if c.Station.Vendor != "Acme" {
				t.Errorf("a flag reset an unrelated key: vendor %q", c.Station.Vendor)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(path, tt.o, noEnv)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestFreeCharging(t *testing.T) {
	tests := []struct {
		name string
		file string
		url  *string
		want bool
	}{
		{name: "standalone default", want: true},
		{name: "with csms default", url: ptr("ws://127.0.0.1:9/ocpp"), want: false},
		{name: "forced on with csms", file: "station: {free_charging: true}", url: ptr("ws://127.0.0.1:9/ocpp"), want: true},
		{name: "forced off standalone", file: "station: {free_charging: false}", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "c.yaml", tt.file)
			c, err := Load(path, Overrides{CSMSURL: tt.url}, noEnv)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.FreeChargingEnabled(); got != tt.want {
				t.Errorf("FreeChargingEnabled = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	pwFile := writeFile(t, dir, "pw", "from-file\r\n")
	tests := []struct {
		name    string
		file    string
		env     string
		want    string
		wantErr string
	}{
		{name: "inline", file: "csms: {password: inline}", want: "inline"},
		{name: "file", file: "csms: {password_file: " + pwFile + "}", want: "from-file"},
		{name: "env beats file", file: "csms: {password_file: " + pwFile + "}", env: "from-env", want: "from-env"},
		{name: "env beats inline", file: "csms: {password: inline}", env: "from-env", want: "from-env"},
		{name: "env alone", env: "from-env", want: "from-env"},
		{name: "both in file", file: "csms: {password: a, password_file: " + pwFile + "}", wantErr: "both set"},
		{name: "unreadable file", file: "csms: {password_file: missing}", wantErr: "password_file"},
		{name: "empty file", file: "csms: {password_file: " + writeFile(t, dir, "empty", "\n") + "}", wantErr: "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "c.yaml", tt.file)
			getenv := func(k string) string {
				if k == PasswordEnv {
					return tt.env
				}
				return ""
			}
			c, err := Load(path, Overrides{}, getenv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.CSMS.Password != tt.want {
				t.Errorf("password = %q, want %q", c.CSMS.Password, tt.want)
			}
		})
	}
}

func TestValidation(t *testing.T) {
	dir := t.TempDir()
	cert := writeFile(t, dir, "c.pem", "x")
	key := writeFile(t, dir, "k.pem", "x")
	tests := []struct {
		name    string
		file    string
		o       Overrides
		wantErr string
	}{
		{name: "unknown top-level key", file: "bord: sim", wantErr: `unknown key "bord"`},
		{name: "unknown nested key", file: "csms:\n  uri: ws://x", wantErr: `unknown key "uri"`},
		{name: "bad yaml", file: "board: [", wantErr: "c.yaml"},
		{name: "wrong type", file: "csms: {security_profile: high}", wantErr: "line 1: cannot unmarshal"},
		{name: "two documents", file: "board: a\n---\nboard: b", wantErr: "more than one"},
		{name: "http url", file: "csms: {url: 'http://x/ocpp'}", wantErr: "scheme must be ws or wss"},
		{name: "url without host", file: "csms: {url: 'ws:///ocpp'}", wantErr: "no host"},
		{name: "profile out of range", file: "csms: {security_profile: 4}", wantErr: "want 0, 1, 2 or 3"},
		{name: "profile 2 over ws", file: "csms: {url: 'ws://x/o', security_profile: 2, password: p}", wantErr: "needs a wss:// url"},
		{name: "profile 3 over ws", file: "csms: {url: 'ws://x/o', security_profile: 3, cert_file: " + cert + ", key_file: " + key + "}", wantErr: "needs a wss:// url"},
		{name: "profile 1 without password", file: "csms: {url: 'ws://x/o', security_profile: 1}", wantErr: "needs a password"},
		{name: "profile 3 without cert", file: "csms: {url: 'wss://x/o', security_profile: 3}", wantErr: "needs csms.cert_file"},
		{name: "cert without key", file: "csms: {url: 'wss://x/o', cert_file: " + cert + "}", wantErr: "go together"},
		{name: "missing ca file", file: "csms: {url: 'wss://x/o', ca_file: nope.pem}", wantErr: "csms.ca_file"},
		{name: "unsupported protocol", file: "csms: {protocols: [ocpp2.0]}", wantErr: `"ocpp2.0" is not supported`},
		{name: "no protocols", file: "csms: {protocols: []}", wantErr: "at least one"},
		{name: "bad 2.0.1 variable", file: "ocpp201: {'HeartbeatInterval': '60'}", wantErr: "ocpp201: devicemodel"},
		{name: "bad flag url", o: Overrides{CSMSURL: ptr("localhost:9000")}, wantErr: "csms.url"},
		{name: "empty id", o: Overrides{ID: ptr("")}, wantErr: "station.id"},
		{name: "bad log level", o: Overrides{LogLevel: ptr("loud")}, wantErr: "log_level"},
		{name: "bad listen", o: Overrides{APIListen: ptr("8090")}, wantErr: "api.listen"},
		{name: "empty board", file: "board: ''", wantErr: "board must not be empty"},
		{name: "current too low", file: "connectors: {1: {max_current_a: 5}}", wantErr: "connectors.1.max_current_a"},
		{name: "bad phases", file: "connectors: {2: {phases: 2}}", wantErr: "connectors.2.phases"},
		{name: "connector zero", file: "connectors: {0: {phases: 1}}", wantErr: "ids start at 1"},
		{name: "meters not supported", file: "meters: {1: {driver: modbus, address: 'rtu:/dev/x#1'}}", wantErr: "not supported yet"},
		{name: "valid profile 3", file: "csms: {url: 'wss://x/o', security_profile: 3, cert_file: " + cert + ", key_file: " + key + "}"},
		{name: "valid profile 1", file: "csms: {url: 'ws://x/o', security_profile: 1, password: p}"},
		{name: "watchdog interval too short", file: "watchdog: {interval: 1ms}", wantErr: "watchdog.interval 1ms"},
		{name: "watchdog budget not above interval", file: "watchdog: {interval: 2s, budget: 2s}", wantErr: "watchdog.budget 2s"},
		{name: "watchdog budget below default interval", file: "watchdog: {budget: 500ms}", wantErr: "watchdog.budget 500ms"},
		{name: "watchdog budget too long", file: "watchdog: {budget: 1h}", wantErr: "watchdog.budget 1h0m0s"},
		{name: "site limit below 6 A", file: "station: {max_current_a: 5}", wantErr: "station.max_current_a 5"},
		{name: "site limit", file: "station: {max_current_a: 63}"},
		{name: "unknown time zone", file: "station: {time_zone: Mars/Olympus}", wantErr: "station.time_zone"},
		{name: "empty time zone", file: "station: {time_zone: ''}", wantErr: "station.time_zone"},
		{name: "time zone", file: "station: {time_zone: Europe/Berlin}"},
		{name: "voltage too low", file: "station: {voltage_v: 12}", wantErr: "station.voltage_v 12"},
		{name: "voltage", file: "station: {voltage_v: 120}"},
		{name: "watchdog duration without unit", file: "watchdog: {interval: 5}", wantErr: "cannot unmarshal"},
		{name: "watchdog unknown key", file: "watchdog: {timeout: 5s}", wantErr: `unknown key "timeout"`},
		{name: "valid watchdog", file: "watchdog: {interval: 200ms, budget: 2s}"},
		{name: "grid meter without fuse", file: "station: {grid: {meter: {driver: sim}}}", wantErr: "station.grid.meter needs station.grid.fuse_a"},
		{name: "fuse without grid meter", file: "station: {grid: {fuse_a: 25}}", wantErr: "station.grid.fuse_a needs station.grid.meter"},
		{name: "margin above fuse", file: "station: {grid: {fuse_a: 25, margin_a: 25, meter: {driver: sim}}}", wantErr: "station.grid.margin_a 25"},
		{name: "negative fallback", file: "station: {grid: {fuse_a: 25, fallback_a: -1, meter: {driver: sim}}}", wantErr: "station.grid.fallback_a -1"},
		{name: "pv without grid meter", file: "connectors: {1: {mode: pv}}", wantErr: "connectors.1.mode pv"},
		{name: "unknown mode", file: "connectors: {1: {mode: turbo}}", wantErr: `connectors.1.mode "turbo"`},
		{name: "valid energy management", file: "station: {grid: {fuse_a: 25, margin_a: 2, timeout: 10s, fallback_a: 6, meter: {driver: sim, house: {}}}, limit_input_a: 6, solar: {start_a: 7, stop_a: 4.5, min_on: 5m}}\nconnectors: {1: {mode: pv}, 2: {mode: minpv}}"},
		{name: "unknown solar key", file: "station: {solar: {start: 7}}", wantErr: `unknown key "start"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "c.yaml", tt.file)
			_, err := Load(path, tt.o, noEnv)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("err = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"), Overrides{}, noEnv)
	if err == nil || !strings.Contains(err.Error(), "none.yaml") {
		t.Errorf("err = %v, want one naming the file", err)
	}
}

func TestUnknownKeyNamesFile(t *testing.T) {
	path := writeFile(t, t.TempDir(), "named.yaml", "api: {port: 1}")
	_, err := Load(path, Overrides{}, noEnv)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `"port"`) {
		t.Errorf("err = %v, want one naming %s and the key", err, path)
	}
}

func TestAPIAccess(t *testing.T) {
	dir := t.TempDir()
	pwFile := writeFile(t, dir, "api-pw", "from the file\n")
	tests := []struct {
		name     string
		file     string
		flag     string // --api
		env      string // EVSED_API_PASSWORD
		wantPW   string
		wantErr  string
		wantNoPW bool
	}{
		{name: "loopback without password", file: "api: {listen: '127.0.0.1:8090'}", wantNoPW: true},
		{name: "localhost without password", file: "api: {listen: 'localhost:8090'}", wantNoPW: true},
		{name: "IPv6 loopback without password", file: "api: {listen: '[::1]:8090'}", wantNoPW: true},
		{name: "all interfaces without password", file: "api: {listen: '0.0.0.0:8090'}", wantErr: "not a loopback address"},
		{name: "empty host without password", file: "api: {listen: ':8090'}", wantErr: "set api.password or api.password_file"},
		{name: "LAN flag without password", flag: "192.168.1.20:8090", wantErr: "not a loopback address"},
		{name: "all interfaces with password", file: "api: {listen: '0.0.0.0:8090', password: 'long enough'}", wantPW: "long enough"},
		{name: "all interfaces with password file", file: "api: {listen: '0.0.0.0:8090', password_file: " + pwFile + "}", wantPW: "from the file"},
		{name: "environment wins", file: "api: {listen: '0.0.0.0:8090', password: 'long enough'}", env: "from the env!", wantPW: "from the env!"},
		{name: "both in file", file: "api: {password: 'long enough', password_file: " + pwFile + "}", wantErr: "api.password and api.password_file are both set"},
		{name: "short password", file: "api: {password: short}", wantErr: "at least 8 characters"},
		{name: "relative password file", file: "api: {listen: '0.0.0.0:1', password_file: api-pw}", wantPW: "from the file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, dir, "c.yaml", tt.file)
			}
			var o Overrides
			if tt.flag != "" {
				o.APIListen = &tt.flag
			}
			env := func(k string) string {
				if k == APIPasswordEnv {
					return tt.env
				}
				return ""
			}
			c, err := Load(path, o, env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.API.Password != tt.wantPW || (tt.wantNoPW && c.API.Password != "") {
				t.Errorf("api password = %q, want %q", c.API.Password, tt.wantPW)
			}
		})
	}
}
