package localapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// Commissioning is what the commissioning view shows besides the live
// status. Every field is optional.
type Commissioning struct {
	// Version is the evsed version.
	Version string
	// Board describes the board the station drives.
	Board BoardInfo
	// Config is the effective configuration as a tree of maps, slices and
	// scalars (e.g. decoded from YAML). The server masks secrets in it
	// (see MaskSecrets) before showing it; the caller need not.
	Config any
	// OCPPKeys returns the OCPP configuration keys as a CSMS would read
	// them (write-only keys without a value); nil shows none. It must be
	// safe for concurrent use.
	OCPPKeys func(ctx context.Context) ([]OCPPKey, error)
	// Meters are the connectors' meters, by connector id, for "test
	// meter"; a connector without one has no entry.
	Meters map[int]meter.Meter
	// RCDs are the connectors' residual current monitors, by connector
	// id, for "test RCD"; a connector without one has no entry.
	RCDs map[int]hal.RCD
}

// BoardInfo summarizes a board.
type BoardInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Simulated   bool   `json:"simulated"`
	// File is the board file's text (pins, buses, meters), as `evsed
	// boards show` prints it; "" when unknown.
	File       string         `json:"file"`
	Connectors []HardwareInfo `json:"connectors"`
}

// HardwareInfo describes one connector's hardware.
type HardwareInfo struct {
	ID int `json:"id"`
	// MaxCurrentA is the connector's rating per phase, in amperes, after
	// the configuration's overrides.
	MaxCurrentA float64 `json:"maxCurrentA"`
	Phases      int     `json:"phases"`
	// Lock and RCD say whether the connector has a socket lock and a
	// residual current monitor.
	Lock bool `json:"lock"`
	RCD  bool `json:"rcd"`
	// Meter names the meter (model and address); "" when none.
	Meter string `json:"meter"`
}

// OCPPKey is one OCPP configuration key.
type OCPPKey struct {
	Key string `json:"key"`
	// Value is nil for write-only keys, and masked for secret ones.
	Value    *string `json:"value"`
	Readonly bool    `json:"readonly"`
}

// CommissioningView is the body of GET /api/v1/commissioning.
type CommissioningView struct {
	Version string    `json:"version"`
	Board   BoardInfo `json:"board"`
	// Readings are the connectors' latest meter readings, by connector.
	Readings []ReadingView `json:"readings"`
	// Config is the effective configuration, secrets masked.
	Config any `json:"config"`
	// OCPPKeys are the OCPP configuration keys; OCPPKeysError says why
	// they are missing when they could not be read.
	OCPPKeys      []OCPPKey `json:"ocppKeys"`
	OCPPKeysError string    `json:"ocppKeysError,omitempty"`
	// Logs are the latest log lines, oldest first.
	Logs []LogLine `json:"logs"`
}

// ReadingView is a full meter reading.
type ReadingView struct {
	Connector int `json:"connector"`
	// Time is when the meter was read; zero before the first reading.
	Time        time.Time  `json:"time"`
	Phases      int        `json:"phases"`
	DC          bool       `json:"dc"`
	EnergyWh    float64    `json:"energyWh"`
	ExportWh    float64    `json:"exportWh"`
	PowerW      float64    `json:"powerW"`
	VoltageV    [3]float64 `json:"voltageV"`
	CurrentA    [3]float64 `json:"currentA"`
	FrequencyHz float64    `json:"frequencyHz"`
	PowerFactor float64    `json:"powerFactor"`
}

func readingView(n int, r meter.Reading) ReadingView {
	v := ReadingView{Connector: n, Time: r.Time, Phases: r.Phases, DC: r.DC,
		EnergyWh: r.EnergyImport.Wh(), ExportWh: r.EnergyExport.Wh(),
		PowerW:      float64(r.Power) / float64(physic.Watt),
		FrequencyHz: float64(r.Frequency) / float64(physic.Hertz),
		PowerFactor: float64(r.PowerFactor)}
	if !r.Time.IsZero() {
		v.Time = r.Time.UTC()
	}
	for i := range 3 {
		v.VoltageV[i] = float64(r.Voltage[i]) / float64(physic.Volt)
		v.CurrentA[i] = float64(r.Current[i]) / float64(physic.Ampere)
	}
	return v
}

// Masked replaces a secret's value wherever the API shows configuration.
const Masked = "********"

// secretKey reports whether a configuration key names a secret: its name
// holds "password", "secret", "token" or "authorizationkey" and it is not
// a path to a file that holds one (e.g. password_file).
func secretKey(k string) bool {
	k = strings.ToLower(k)
	if strings.HasSuffix(k, "_file") || strings.HasSuffix(k, "file") {
		return false
	}
	for _, s := range []string{"password", "secret", "token", "authorizationkey", "private_key"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// MaskSecrets returns a copy of v (maps, slices and scalars, as decoded
// from YAML or JSON) with the values of secret keys replaced by Masked,
// an empty value staying empty (so that "not set" still shows), and with
// map keys turned into strings. URLs with a password in them are masked
// too.
func MaskSecrets(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = maskEntry(k, e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			ks := fmt.Sprint(k)
			out[ks] = maskEntry(ks, e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = MaskSecrets(e)
		}
		return out
	case string:
		return maskURL(t)
	default:
		return v
	}
}

func maskEntry(k string, v any) any {
	if !secretKey(k) {
		return MaskSecrets(v)
	}
	switch t := v.(type) {
	case nil:
		return nil
	case string:
		if t == "" {
			return ""
		}
	}
	return Masked
}

// maskURL masks the password of a URL such as ws://cp:secret@host/ocpp.
func maskURL(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	rest := s[i+3:]
	at := strings.IndexByte(rest, '@')
	slash := strings.IndexByte(rest, '/')
	if at < 0 || (slash >= 0 && slash < at) {
		return s
	}
	user := rest[:at]
	if c := strings.IndexByte(user, ':'); c >= 0 {
		user = user[:c] + ":" + Masked
	}
	return s[:i+3] + user + rest[at:]
}

func (s *Server) commissioning(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	snap, err := s.opts.Station.Status(ctx)
	if err != nil {
		s.fail(w, fmt.Errorf("status: %w", err))
		return
	}
	c := s.commissioningInfo()
	view := CommissioningView{Version: c.Version, Board: c.Board, Config: MaskSecrets(c.Config),
		Readings: []ReadingView{}, OCPPKeys: []OCPPKey{}, Logs: []LogLine{}}
	if view.Board.Connectors == nil {
		view.Board.Connectors = []HardwareInfo{}
	}
	for _, cs := range snap.Connectors {
		view.Readings = append(view.Readings, readingView(cs.ID, cs.Meter))
	}
	if c.OCPPKeys != nil {
		keys, err := c.OCPPKeys(ctx)
		if err != nil {
			view.OCPPKeysError = err.Error()
		}
		for _, k := range keys {
			if k.Value != nil && secretKey(k.Key) && *k.Value != "" {
				m := Masked
				k.Value = &m
			}
			view.OCPPKeys = append(view.OCPPKeys, k)
		}
		sort.SliceStable(view.OCPPKeys, func(i, j int) bool { return view.OCPPKeys[i].Key < view.OCPPKeys[j].Key })
	}
	if s.opts.Logs != nil {
		view.Logs = s.opts.Logs.Lines(0)
	}
	writeJSON(w, http.StatusOK, view)
}

// TestResult is the body of a successful test-meter or test-rcd.
type TestResult struct {
	OK bool `json:"ok"`
	// Took is how long the test took, in milliseconds.
	TookMs float64 `json:"tookMs"`
	// Reading is the fresh reading of a meter test.
	Reading *ReadingView `json:"reading,omitempty"`
}

// testMeter serves POST /api/v1/connectors/{n}/test-meter: one fresh
// read of the connector's meter, next to the station's own sampling.
func (s *Server) testMeter(w http.ResponseWriter, r *http.Request) {
	n, ok := s.connectorNoBody(w, r)
	if !ok {
		return
	}
	m := s.commissioningInfo().Meters[n]
	if m == nil {
		writeError(w, http.StatusNotFound, fmt.Errorf("connector %d has no meter to test", n))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), testTimeout)
	defer cancel()
	began := time.Now()
	rd, err := m.Read(ctx)
	took := time.Since(began)
	if err != nil {
		code := http.StatusBadGateway
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, meter.ErrNoResponse) {
			code = http.StatusGatewayTimeout
		}
		writeError(w, code, fmt.Errorf("test meter %s at connector %d: %w", m, n, err))
		return
	}
	v := readingView(n, rd)
	writeJSON(w, http.StatusOK, TestResult{OK: true, TookMs: float64(took.Microseconds()) / 1000, Reading: &v})
}

// testTimeout bounds one meter or RCD test.
const testTimeout = 10 * time.Second

// testRCD serves POST /api/v1/connectors/{n}/test-rcd: the RCD's self
// test, refused while a vehicle is plugged in, the contactor is closed or
// a session runs (a test that trips would cut a charging vehicle off).
func (s *Server) testRCD(w http.ResponseWriter, r *http.Request) {
	n, ok := s.connectorNoBody(w, r)
	if !ok {
		return
	}
	rcd := s.commissioningInfo().RCDs[n]
	if rcd == nil {
		writeError(w, http.StatusNotFound, fmt.Errorf("connector %d has no RCD with a self test", n))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), testTimeout)
	defer cancel()
	snap, err := s.opts.Station.Status(ctx)
	if err != nil {
		s.fail(w, fmt.Errorf("status: %w", err))
		return
	}
	for _, c := range snap.Connectors {
		// With no vehicle plugged in, none can be charging before the test
		// ends: the station closes the contactor only after a plug-in,
		// the vehicle's request and an authorization.
		if c.ID == n && (c.Contactor || c.Session != nil || c.Pilot.VehicleConnected()) {
			writeError(w, http.StatusConflict, fmt.Errorf("connector %d has a vehicle plugged in: test the RCD with none", n))
			return
		}
	}
	began := time.Now()
	if err := rcd.SelfTest(ctx); err != nil {
		writeError(w, http.StatusBadGateway, fmt.Errorf("RCD self test at connector %d failed: %w", n, err))
		return
	}
	s.log.Info("RCD self test passed", "connector", n)
	writeJSON(w, http.StatusOK, TestResult{OK: true, TookMs: float64(time.Since(began).Microseconds()) / 1000})
}
