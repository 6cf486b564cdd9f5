// Package config reads evsed's YAML configuration file, applies the
// command-line overrides, resolves secrets and validates the result.
//
// Every key is optional; Defaults documents what an absent key means, and
// docs/configuration.md lists them. Unknown keys are errors, so that a typo does not
// silently fall back to a default.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"go.yaml.in/yaml/v3"
)

// PasswordEnv is the environment variable that, when set, supplies the CSMS
// basic-auth password and takes precedence over csms.password and
// csms.password_file.
const PasswordEnv = "EVSED_CSMS_PASSWORD"

// APIPasswordEnv is the environment variable that, when set, supplies the
// local API's password and takes precedence over api.password and
// api.password_file; `evsed ctl` reads it too.
const APIPasswordEnv = "EVSED_API_PASSWORD"

// MinAPIPasswordLen is the shortest local API password accepted: the page
// may face a shared network.
const MinAPIPasswordLen = 8

// SupportedProtocols lists the OCPP subprotocols evsed can offer.
func SupportedProtocols() []string { return []string{"ocpp1.6", "ocpp2.0.1"} }

// Config is the whole configuration. Paths are as given, resolved against
// the config file's directory when they came from the file.
type Config struct {
	Station Station `yaml:"station"`
	// Board is a built-in board name or a board file path; default "sim".
	Board string `yaml:"board"`
	// DataDir holds the database; default "./evsed-data".
	DataDir string `yaml:"data_dir"`
	// LogLevel is debug, info, warn or error; default "info".
	LogLevel string `yaml:"log_level"`
	API      API    `yaml:"api"`
	CSMS     CSMS   `yaml:"csms"`
	// Watchdog configures the software watchdog of the station loop.
	Watchdog Watchdog `yaml:"watchdog"`
	// OCPP holds initial OCPP configuration-key values (e.g.
	// HeartbeatInterval: "300"), applied by the OCPP adapter.
	OCPP map[string]string `yaml:"ocpp"`
	// OCPP201 holds initial OCPP 2.0.1 variable values, keyed
	// "Component/Variable" (e.g. "OCPPCommCtrlr/HeartbeatInterval: 300";
	// an instance in brackets, an EVSE after "@": "EVSE@1/Power"), used
	// when the CSMS offered 2.0.1 and never set the variable.
	OCPP201 map[string]string `yaml:"ocpp201"`
	// Connectors overrides the board's connectors, by connector id.
	Connectors map[int]Connector `yaml:"connectors"`
	// Meters binds external meters to connectors, by connector id. Reserved:
	// no binding is supported yet, so the map must be empty.
	Meters map[int]MeterBinding `yaml:"meters"`
}

// Station is the station's identity and behaviour.
type Station struct {
	// ID is the charge point identity; default "CP001".
	ID string `yaml:"id"`
	// Vendor and Model are reported in BootNotification; defaults "evsed"
	// and "evsed".
	Vendor string `yaml:"vendor"`
	Model  string `yaml:"model"`
	// Serial is the charge point serial number; default "".
	Serial string `yaml:"serial"`
	// Firmware is the reported firmware version; "" means the evsed version.
	Firmware string `yaml:"firmware"`
	// FreeCharging starts a session on every plug-in without a card. Nil
	// (absent) means true when no CSMS is configured and false otherwise.
	FreeCharging *bool `yaml:"free_charging"`
	// MaxCurrentA is the most current per phase, in amperes, that every
	// connector together may draw: the site's fuse or the charger's supply,
	// shared among the connectors that charge; 0 (default) means no limit
	// beyond each connector's own.
	MaxCurrentA float64 `yaml:"max_current_a"`
	// TimeZone is the IANA name of the station's time zone (e.g.
	// "Europe/Berlin"), the wall clock of the CSMS's daily and weekly
	// charging profiles; default "UTC". "Local" is the system's zone.
	TimeZone string `yaml:"time_zone"`
	// VoltageV is the nominal phase voltage, in volts, that converts power
	// limits (W) into currents (A) and back; default 230.
	VoltageV float64 `yaml:"voltage_v"`
	// Grid is the grid meter at the house connection and the main fuse
	// (dynamic load balancing, solar surplus; see docs/energy.md).
	Grid Grid `yaml:"grid"`
	// LimitInputA is the most every connector together may draw per phase
	// while the board's limit input (the grid operator's signal) is
	// active; default 0 (charging paused while it is).
	LimitInputA float64 `yaml:"limit_input_a"`
	// Solar tunes the pv and minpv modes.
	Solar Solar `yaml:"solar"`
	// Currency is the ISO 4217 code of the CSMS's prices and costs shown
	// to the driver (California Pricing carries none); default "".
	Currency string `yaml:"currency"`
}

// Grid is the site's connection to the grid.
type Grid struct {
	// FuseA is the main fuse per phase, in amperes; 0 (default) means no
	// grid meter logic. Required with Meter.
	FuseA float64 `yaml:"fuse_a"`
	// MarginA is kept free below the fuse; default 1 A.
	MarginA *float64 `yaml:"margin_a"`
	// Timeout is how long the grid meter may go without a fresh reading
	// before the fallback applies; default 5s.
	Timeout time.Duration `yaml:"timeout"`
	// FallbackA is what every connector together may draw per phase
	// while the grid meter is lost; default 6 A.
	FallbackA *float64 `yaml:"fallback_a"`
	// Meter is the grid meter's block: the keys of a board file's meter
	// block (driver modbus or can), or driver sim with a house on the
	// simulated board.
	Meter map[string]any `yaml:"meter"`
}

// Solar tunes the solar modes; zero fields keep the defaults of
// docs/energy.md.
type Solar struct {
	StartA              float64       `yaml:"start_a"`
	StopA               float64       `yaml:"stop_a"`
	StartDelay          time.Duration `yaml:"start_delay"`
	StopDelay           time.Duration `yaml:"stop_delay"`
	MinOn               time.Duration `yaml:"min_on"`
	MinOff              time.Duration `yaml:"min_off"`
	PhaseSwitchPause    time.Duration `yaml:"phase_switch_pause"`
	PhaseSwitchInterval time.Duration `yaml:"phase_switch_interval"`
}

// Location returns the station's time zone (validated by Load).
func (s Station) Location() *time.Location {
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// API configures the local HTTP API and the web page.
type API struct {
	// Listen is the host:port to listen on; default "127.0.0.1:8090". An
	// address that is not loopback needs a password.
	Listen string `yaml:"listen"`
	// Password protects the API and the page (HTTP Basic or the page's
	// login); "" means none, allowed only on a loopback Listen. At most
	// one of Password and PasswordFile may be set; APIPasswordEnv
	// overrides both. After Load it holds the resolved password.
	Password string `yaml:"password"`
	// PasswordFile is a file holding the password (trailing newline
	// ignored).
	PasswordFile string `yaml:"password_file"`
}

// Watchdog configures the software watchdog: evsed asks the station loop
// for its status every Interval and, when no answer came within Budget,
// halts the board and exits non-zero so that the service manager starts a
// fresh process. Durations are written as "1s", "500ms".
type Watchdog struct {
	// Interval is the time between two questions; default 1s.
	Interval time.Duration `yaml:"interval"`
	// Budget is how long one question may stay unanswered; default 5s. It
	// must exceed Interval: an answer late by less than an interval is
	// load, not a hang.
	Budget time.Duration `yaml:"budget"`
}

// Bounds of the watchdog keys. Below MinWatchdogInterval the questions
// themselves load the loop; above MaxWatchdogBudget a hung loop would
// hold the hardware for longer than anyone would wait at a charger.
const (
	MinWatchdogInterval = 10 * time.Millisecond
	MaxWatchdogBudget   = 10 * time.Minute
)

// CSMS configures the link to the back end.
type CSMS struct {
	// URL is the CSMS endpoint (ws:// or wss://), without the charge point
	// id; "" means standalone.
	URL string `yaml:"url"`
	// Protocols are the subprotocols offered, in order of preference;
	// default ["ocpp2.0.1", "ocpp1.6"]: the CSMS picks.
	Protocols []string `yaml:"protocols"`
	// SecurityProfile is 0..3 (OCPP security profiles); default 0.
	SecurityProfile int `yaml:"security_profile"`
	// AllowBasicAuthOverWS lets the CSMS raise the security profile to 1
	// (HTTP Basic auth over plain ws://, the password readable on the
	// network) with ChangeConfiguration; default false, since profile 1 is
	// for networks the operator trusts and says so. security_profile: 1
	// here says so too.
	AllowBasicAuthOverWS bool `yaml:"allow_basic_auth_over_ws"`
	// Password is the basic-auth password (profiles 1 and 2). At most one of
	// Password and PasswordFile may be set; PasswordEnv overrides both.
	// After Load it holds the resolved password.
	Password string `yaml:"password"`
	// PasswordFile is a file holding the password (trailing newline
	// ignored).
	PasswordFile string `yaml:"password_file"`
	// CAFile is a PEM bundle of CAs that sign the CSMS certificate; "" means
	// the system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the client certificate and key (profile 3).
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Connector overrides one connector of the board. Zero fields keep the
// board's values.
type Connector struct {
	// MaxCurrentA lowers the most the connector offers, in amperes per
	// phase (6..80); it cannot exceed the board's rating.
	MaxCurrentA float64 `yaml:"max_current_a"`
	// Phases is 1 or 3.
	Phases int `yaml:"phases"`
	// Mode is fast (default), pv (solar surplus only) or minpv (6 A plus
	// the surplus); pv and minpv need station.grid.meter.
	Mode string `yaml:"mode"`
}

// MeterBinding is reserved for binding an external meter to a connector.
type MeterBinding struct {
	// Driver names the meter driver (e.g. "modbus").
	Driver string `yaml:"driver"`
	// Address is the driver-specific address of the meter.
	Address string `yaml:"address"`
}

// Overrides are command-line values; nil fields leave the file's values.
type Overrides struct {
	Board, CSMSURL, ID, DataDir, APIListen, LogLevel *string
}

// Defaults returns the configuration used when no file and no flag says
// otherwise. FreeCharging stays nil: it depends on whether a CSMS is set.
func Defaults() Config {
	return Config{
		Station:  Station{ID: "CP001", Vendor: "evsed", Model: "evsed", TimeZone: "UTC", VoltageV: 230},
		Board:    "sim",
		DataDir:  "./evsed-data",
		LogLevel: "info",
		API:      API{Listen: "127.0.0.1:8090"},
		CSMS:     CSMS{Protocols: []string{"ocpp2.0.1", "ocpp1.6"}},
		Watchdog: Watchdog{Interval: time.Second, Budget: 5 * time.Second},
	}
}

// FreeChargingEnabled reports whether sessions start without a card: the
// station.free_charging value, or, when absent, true exactly when no CSMS is
// configured (a standalone charger has nobody to ask).
func (c *Config) FreeChargingEnabled() bool {
	if c.Station.FreeCharging != nil {
		return *c.Station.FreeCharging
	}
	return c.CSMS.URL == ""
}

// Load reads the file at path ("" means no file), applies o, resolves the
// CSMS password (getenv is os.Getenv in production) and validates the
// result.
func Load(path string, o Overrides, getenv func(string) string) (*Config, error) {
	c := Defaults()
	if path != "" {
		if err := c.readFile(path); err != nil {
			return nil, err
		}
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&c.Board, o.Board)
	set(&c.CSMS.URL, o.CSMSURL)
	set(&c.Station.ID, o.ID)
	set(&c.DataDir, o.DataDir)
	set(&c.API.Listen, o.APIListen)
	set(&c.LogLevel, o.LogLevel)
	if err := c.resolvePassword(getenv); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// unknownField rewrites yaml's "field x not found in type T" into words
// that name the key.
var unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

// readFile decodes path over c strictly and resolves the file's relative
// paths against its directory.
func (c *Config) readFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	// Paths the file sets are relative to it; default paths are not.
	// Blank them for the decode, and put back the ones the file left
	// alone.
	paths := []*string{&c.DataDir, &c.CSMS.PasswordFile, &c.CSMS.CAFile, &c.CSMS.CertFile, &c.CSMS.KeyFile, &c.API.PasswordFile}
	defaults := make([]string, len(paths))
	for i, p := range paths {
		defaults[i], *p = *p, ""
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		msg := unknownField.ReplaceAllString(err.Error(), `unknown key "$1"`)
		return fmt.Errorf("config %s: %s", path, msg)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: more than one YAML document", path)
	}
	dir := filepath.Dir(path)
	for i, p := range paths {
		switch {
		case *p == "":
			*p = defaults[i]
		case !filepath.IsAbs(*p):
			*p = filepath.Join(dir, *p)
		}
	}
	// A board given as a path (it has a separator or a YAML extension) is
	// relative to the file too; a bare name is a built-in board.
	if strings.ContainsRune(c.Board, filepath.Separator) || isYAML(c.Board) {
		if !filepath.IsAbs(c.Board) {
			c.Board = filepath.Join(dir, c.Board)
		}
	}
	return nil
}

func isYAML(name string) bool {
	ext := filepath.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

// resolvePassword sets c.CSMS.Password and c.API.Password from the
// environment, the password file or the file's password key, in that order
// of precedence.
func (c *Config) resolvePassword(getenv func(string) string) error {
	if err := resolveSecret("csms", &c.CSMS.Password, c.CSMS.PasswordFile, PasswordEnv, getenv); err != nil {
		return err
	}
	return resolveSecret("api", &c.API.Password, c.API.PasswordFile, APIPasswordEnv, getenv)
}

// resolveSecret resolves one password: env wins, then file, then the
// value the config file gave.
func resolveSecret(section string, password *string, file, env string, getenv func(string) string) error {
	if *password != "" && file != "" {
		return fmt.Errorf("config: %s.password and %s.password_file are both set; use one", section, section)
	}
	if getenv != nil {
		if v := getenv(env); v != "" {
			*password = v
			return nil
		}
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("config: %s.password_file: %w", section, err)
		}
		*password = strings.TrimRight(string(b), "\r\n")
		if *password == "" {
			return fmt.Errorf("config: %s.password_file %s is empty", section, file)
		}
	}
	return nil
}

// validate checks every key.
func (c *Config) validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.Station.ID == "" || len(c.Station.ID) > 48 {
		add("station.id must be 1 to 48 characters, got %q", c.Station.ID)
	}
	if a := c.Station.MaxCurrentA; a != 0 && (a < 6 || a > 2000) {
		add("station.max_current_a %g: want 0 (no limit) or 6 to 2000 (A)", a)
	}
	if _, err := time.LoadLocation(c.Station.TimeZone); err != nil || c.Station.TimeZone == "" {
		add("station.time_zone %q: want an IANA time zone name such as Europe/Berlin, UTC or Local", c.Station.TimeZone)
	}
	if v := c.Station.VoltageV; v < 100 || v > 480 {
		add("station.voltage_v %g: want 100 to 480 (V)", v)
	}
	g := c.Station.Grid
	switch {
	case g.FuseA < 0 || g.FuseA > 2000:
		add("station.grid.fuse_a %g: want 0 (none) or up to 2000 (A)", g.FuseA)
	case g.Meter != nil && g.FuseA == 0:
		add("station.grid.meter needs station.grid.fuse_a, the main fuse per phase")
	case g.FuseA != 0 && g.Meter == nil:
		add("station.grid.fuse_a needs station.grid.meter, the meter at the house connection")
	}
	if m := g.MarginA; m != nil && (*m < 0 || g.FuseA != 0 && *m >= g.FuseA) {
		add("station.grid.margin_a %g: want 0 up to below the fuse", *m)
	}
	if f := g.FallbackA; f != nil && *f < 0 {
		add("station.grid.fallback_a %g: want 0 or more (A)", *f)
	}
	if g.Timeout < 0 {
		add("station.grid.timeout %v: want a positive duration", g.Timeout)
	}
	if cur := c.Station.Currency; cur != "" && !regexp.MustCompile(`^[A-Z]{3}$`).MatchString(cur) {
		add("station.currency %q: want an ISO 4217 code such as EUR or USD", cur)
	}
	if a := c.Station.LimitInputA; a < 0 {
		add("station.limit_input_a %g: want 0 or more (A)", a)
	}
	if c.Board == "" {
		add("board must not be empty")
	}
	if c.DataDir == "" {
		add("data_dir must not be empty")
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		add("log_level %q: want debug, info, warn or error", c.LogLevel)
	}
	if _, _, err := net.SplitHostPort(c.API.Listen); err != nil {
		add("api.listen %q: want host:port", c.API.Listen)
	} else if !localapi.LoopbackAddr(c.API.Listen) && c.API.Password == "" {
		add("api.listen %q is not a loopback address, and the local API drives the charger: set api.password or api.password_file (or %s) so that the page and the API ask for it, or listen on 127.0.0.1", c.API.Listen, APIPasswordEnv)
	}
	if p := c.API.Password; p != "" && len(p) < MinAPIPasswordLen {
		add("api.password: want at least %d characters", MinAPIPasswordLen)
	}
	errs = append(errs, c.CSMS.validate()...)
	errs = append(errs, c.Watchdog.validate()...)
	for id, cc := range c.Connectors {
		if id < 1 {
			add("connectors: id %d: connector ids start at 1", id)
		}
		if cc.MaxCurrentA != 0 && (cc.MaxCurrentA < 6 || cc.MaxCurrentA > 80) {
			add("connectors.%d.max_current_a %g: want 6 to 80 (A)", id, cc.MaxCurrentA)
		}
		if cc.Phases != 0 && cc.Phases != 1 && cc.Phases != 3 {
			add("connectors.%d.phases %d: want 1 or 3", id, cc.Phases)
		}
		switch cc.Mode {
		case "", "fast":
		case "pv", "minpv":
			if c.Station.Grid.Meter == nil {
				add("connectors.%d.mode %s charges from the solar surplus the grid meter sees: set station.grid.meter and station.grid.fuse_a", id, cc.Mode)
			}
		default:
			add("connectors.%d.mode %q: want fast, pv or minpv", id, cc.Mode)
		}
	}
	if len(c.Meters) > 0 {
		add("meters: external meter bindings are not supported yet; remove the key to use the board's meters")
	}
	for k := range c.OCPP {
		if k == "" {
			add("ocpp: empty configuration key")
		}
	}
	for k := range c.OCPP201 {
		if _, err := devicemodel.ParseRef(k); err != nil {
			add("ocpp201: %v", err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

func (w *Watchdog) validate() []error {
	var errs []error
	if w.Interval < MinWatchdogInterval {
		errs = append(errs, fmt.Errorf("watchdog.interval %s: want at least %s", w.Interval, MinWatchdogInterval))
	}
	if w.Budget <= w.Interval || w.Budget > MaxWatchdogBudget {
		errs = append(errs, fmt.Errorf("watchdog.budget %s: want more than watchdog.interval (%s) and at most %s", w.Budget, w.Interval, MaxWatchdogBudget))
	}
	return errs
}

func (cs *CSMS) validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if cs.SecurityProfile < 0 || cs.SecurityProfile > 3 {
		add("csms.security_profile %d: want 0, 1, 2 or 3", cs.SecurityProfile)
	}
	if len(cs.Protocols) == 0 {
		add("csms.protocols must list at least one of %v", SupportedProtocols())
	}
	for _, p := range cs.Protocols {
		if !slices.Contains(SupportedProtocols(), p) {
			add("csms.protocols: %q is not supported, want one of %v", p, SupportedProtocols())
		}
	}
	if cs.URL == "" {
		return errs
	}
	u, err := url.Parse(cs.URL)
	switch {
	case err != nil:
		add("csms.url %q: %v", cs.URL, err)
		return errs
	case u.Scheme != "ws" && u.Scheme != "wss":
		add("csms.url %q: scheme must be ws or wss", cs.URL)
	case u.Host == "":
		add("csms.url %q: no host", cs.URL)
	}
	if cs.SecurityProfile >= 2 && u.Scheme != "wss" {
		add("csms.security_profile %d needs a wss:// url, got %q", cs.SecurityProfile, cs.URL)
	}
	if (cs.SecurityProfile == 1 || cs.SecurityProfile == 2) && cs.Password == "" {
		add("csms.security_profile %d needs a password (csms.password, csms.password_file or %s)", cs.SecurityProfile, PasswordEnv)
	}
	if cs.SecurityProfile == 3 && (cs.CertFile == "" || cs.KeyFile == "") {
		add("csms.security_profile 3 needs csms.cert_file and csms.key_file")
	}
	if (cs.CertFile == "") != (cs.KeyFile == "") {
		add("csms.cert_file and csms.key_file go together")
	}
	for _, f := range []struct{ key, path string }{
		{"csms.ca_file", cs.CAFile}, {"csms.cert_file", cs.CertFile}, {"csms.key_file", cs.KeyFile},
	} {
		if f.path == "" {
			continue
		}
		if fh, err := os.Open(f.path); err != nil {
			add("%s: %v", f.key, err)
		} else {
			fh.Close()
		}
	}
	return errs
}
