package ocpp16

import (
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/station"
	"go.etcd.io/bbolt"
	"periph.io/x/conn/v3/physic"
)

// openTestDB opens a fresh bbolt file in a temporary directory.
func openTestDB(t *testing.T) (*bbolt.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "evsed.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func mustOpenConfig(t *testing.T, db *bbolt.DB, initial map[string]string) *Config {
	t.Helper()
	c, err := OpenConfig(db, "ocpp16-config", initial)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConfigDefaults(t *testing.T) {
	db, _ := openTestDB(t)
	c := mustOpenConfig(t, db, nil)
	for _, d := range KeyDefs() {
		v, ok := c.Value(d.Name)
		if !ok || v != d.Default {
			t.Errorf("%s = %q, %v; want default %q", d.Name, v, ok, d.Default)
		}
	}
	if got := c.Duration(KeyHeartbeatInterval); got != time.Hour {
		t.Errorf("HeartbeatInterval = %v", got)
	}
	if !c.Bool(KeyStopTransactionOnEVSideDisconnect) || c.Bool(KeyLocalPreAuthorize) {
		t.Error("boolean defaults wrong")
	}
	if got := c.Measurands(KeyMeterValuesSampledData); !slices.Equal(got, []Measurand{MeasurandEnergyActiveImportRegister}) {
		t.Errorf("MeterValuesSampledData = %v", got)
	}
	if got := c.List(KeyStopTxnSampledData); got != nil {
		t.Errorf("StopTxnSampledData = %q, want empty", got)
	}
	if c.Int("NoSuchKey") != 0 || c.Bool("NoSuchKey") || c.List("NoSuchKey") != nil {
		t.Error("unknown key getters not zero")
	}
}

func TestConfigDefaultsValid(t *testing.T) {
	db, _ := openTestDB(t)
	c := mustOpenConfig(t, db, nil)
	for _, d := range KeyDefs() {
		if d.Access == WriteOnly {
			continue
		}
		if _, err := c.validate(&d, d.Default, true); err != nil {
			t.Errorf("%s default %q: %v", d.Name, d.Default, err)
		}
	}
}

func TestConfigInitial(t *testing.T) {
	db, _ := openTestDB(t)
	c := mustOpenConfig(t, db, map[string]string{
		"numberofconnectors":      "2", // any case
		KeyHeartbeatInterval:      "120",
		KeyConnectorPhaseRotation: "1.RST,2.RTS",
		KeyAuthorizationKey:       "0123456789abcdef0123",
		KeySecurityProfile:        "1",
	})
	if c.Int(KeyNumberOfConnectors) != 2 || c.Int(KeyHeartbeatInterval) != 120 {
		t.Errorf("initial values not applied: %d %d", c.Int(KeyNumberOfConnectors), c.Int(KeyHeartbeatInterval))
	}
	if v, _ := c.Value(KeyAuthorizationKey); v != "0123456789abcdef0123" {
		t.Errorf("AuthorizationKey = %q", v)
	}

	bad := []struct {
		name    string
		initial map[string]string
		want    error
	}{
		{"unknown key", map[string]string{"HeartBeatIntervall": "1"}, ErrUnknownKey},
		{"bad int", map[string]string{KeyHeartbeatInterval: "soon"}, ErrBadValue},
		{"bad bool", map[string]string{KeyLocalPreAuthorize: "yes"}, ErrBadValue},
		{"measurand list too long for its MaxLength", map[string]string{
			KeyMeterValuesSampledDataMaxLength: "1", KeyMeterValuesSampledData: "Voltage,Frequency"}, ErrBadValue},
		{"phase rotation beyond connectors", map[string]string{KeyConnectorPhaseRotation: "3.RST"}, ErrBadValue},
		{"short AuthorizationKey", map[string]string{KeyAuthorizationKey: "short"}, ErrBadValue},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTestDB(t)
			if _, err := OpenConfig(db, "cfg", tc.initial); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestConfigSet(t *testing.T) {
	db, _ := openTestDB(t)
	c := mustOpenConfig(t, db, map[string]string{KeyNumberOfConnectors: "2", KeyMeterValuesSampledDataMaxLength: "3"})
	tests := []struct {
		key, value string
		want       ConfigurationStatus
		stored     string // canonical value after an accepted change
	}{
		{KeyHeartbeatInterval, "300", ConfigurationStatusAccepted, "300"},
		{"heartbeatinterval", " 0120", ConfigurationStatusAccepted, "120"},
		{KeyHeartbeatInterval, "-1", ConfigurationStatusRejected, ""},
		{KeyHeartbeatInterval, "1.5", ConfigurationStatusRejected, ""},
		{KeyHeartbeatInterval, "", ConfigurationStatusRejected, ""},
		{KeyLightIntensity, "101", ConfigurationStatusRejected, ""},
		{KeyLocalPreAuthorize, "TRUE", ConfigurationStatusAccepted, "true"},
		{KeyLocalPreAuthorize, "1", ConfigurationStatusRejected, ""},
		{KeyTransactionMessageAttempts, "0", ConfigurationStatusRejected, ""},
		{KeyMeterValuesSampledData, "Energy.Active.Import.Register, Voltage,Current.Import", ConfigurationStatusAccepted,
			"Energy.Active.Import.Register,Voltage,Current.Import"},
		{KeyMeterValuesSampledData, "Voltage,Current.Import,Frequency,Power.Factor", ConfigurationStatusRejected, ""},
		{KeyMeterValuesSampledData, "Temperature", ConfigurationStatusRejected, ""}, // valid Measurand, not supported
		{KeyMeterValuesSampledData, "SoC", ConfigurationStatusAccepted, "SoC"},      // a DC connector's
		{KeyMeterValuesSampledData, "Energy", ConfigurationStatusRejected, ""},      // not a Measurand
		{KeyMeterValuesSampledData, "voltage", ConfigurationStatusRejected, ""},     // enum is case-sensitive
		{KeyStopTxnSampledData, "", ConfigurationStatusAccepted, ""},
		{KeyConnectorPhaseRotation, "0.RST,1.RST,2.TSR", ConfigurationStatusAccepted, "0.RST,1.RST,2.TSR"},
		{KeyConnectorPhaseRotation, "1.XYZ", ConfigurationStatusRejected, ""},
		{KeyConnectorPhaseRotation, "RST", ConfigurationStatusRejected, ""},
		{KeyNumberOfConnectors, "3", ConfigurationStatusRejected, ""},
		{KeyGetConfigurationMaxKeys, "10", ConfigurationStatusRejected, ""},
		{KeySupportedFeatureProfiles, "Core,SmartCharging", ConfigurationStatusRejected, ""},
		{KeySupportedFeatureProfiles, ImplementedFeatureProfiles, ConfigurationStatusRejected, ""},
		{KeyLocalAuthListEnabled, "FALSE", ConfigurationStatusAccepted, "false"},
		{KeyLocalAuthListEnabled, "no", ConfigurationStatusRejected, ""},
		{KeyLocalAuthListEnabled, "true", ConfigurationStatusAccepted, "true"},
		{KeyWebSocketPingInterval, "30", ConfigurationStatusAccepted, "30"},
		{"NoSuchKey", "1", ConfigurationStatusNotSupported, ""},
		{KeySecurityProfile, "1", ConfigurationStatusRejected, ""}, // no AuthorizationKey yet
		{KeyAuthorizationKey, "too-short", ConfigurationStatusRejected, ""},
		{KeyAuthorizationKey, "0123456789abcdef\x01", ConfigurationStatusRejected, ""},
		{KeyAuthorizationKey, "00112233445566778899aabbccddeeff00112233", ConfigurationStatusAccepted, "00112233445566778899aabbccddeeff00112233"},
		{KeySecurityProfile, "2", ConfigurationStatusAccepted, "2"},
		{KeySecurityProfile, "1", ConfigurationStatusRejected, ""}, // only upwards
		{KeySecurityProfile, "4", ConfigurationStatusRejected, ""},
		{KeySecurityProfile, "2", ConfigurationStatusAccepted, "2"},
	}
	var changes []string
	c.OnChange(func(k, v string) {
		if _, ok := c.Value(k); !ok { // the hook may read the config
			t.Errorf("hook: %s unknown", k)
		}
		changes = append(changes, k+"="+v)
	})
	var wantChanges []string
	for _, tc := range tests {
		before, _ := c.Value(tc.key)
		got := c.Set(tc.key, tc.value)
		if got != tc.want {
			t.Errorf("Set(%s, %q) = %s, want %s", tc.key, tc.value, got, tc.want)
			continue
		}
		after, _ := c.Value(tc.key)
		switch got {
		case ConfigurationStatusAccepted, ConfigurationStatusRebootRequired:
			if after != tc.stored {
				t.Errorf("Set(%s, %q): stored %q, want %q", tc.key, tc.value, after, tc.stored)
			}
			wantChanges = append(wantChanges, c.lookup(tc.key).Name+"="+tc.stored)
		default:
			if after != before {
				t.Errorf("Set(%s, %q) = %s changed the value to %q", tc.key, tc.value, got, after)
			}
		}
	}
	if !slices.Equal(changes, wantChanges) {
		t.Errorf("hook saw\n%q\nwant\n%q", changes, wantChanges)
	}
}

func TestConfigPersistence(t *testing.T) {
	db, path := openTestDB(t)
	initial := map[string]string{KeyHeartbeatInterval: "120", KeyNumberOfConnectors: "2"}
	c := mustOpenConfig(t, db, initial)
	if s := c.Set(KeyHeartbeatInterval, "900"); s != ConfigurationStatusAccepted {
		t.Fatal(s)
	}
	if s := c.Set(KeyAuthorizationKey, "0123456789abcdef"); s != ConfigurationStatusAccepted {
		t.Fatal(s)
	}
	c.Set(KeyMeterValueSampleInterval, "-5") // rejected: not persisted
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db2, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	// The config file now says 60 and 3 connectors: the CSMS's 900 wins
	// over the file, the read-only key follows the file.
	c2 := mustOpenConfig(t, db2, map[string]string{KeyHeartbeatInterval: "60", KeyNumberOfConnectors: "3"})
	if got := c2.Int(KeyHeartbeatInterval); got != 900 {
		t.Errorf("HeartbeatInterval after reopen = %d, want 900", got)
	}
	if got := c2.Int(KeyNumberOfConnectors); got != 3 {
		t.Errorf("NumberOfConnectors after reopen = %d, want 3", got)
	}
	if v, _ := c2.Value(KeyAuthorizationKey); v != "0123456789abcdef" {
		t.Errorf("AuthorizationKey after reopen = %q", v)
	}
	if got := c2.Int(KeyMeterValueSampleInterval); got != 60 {
		t.Errorf("MeterValueSampleInterval = %d, want default 60", got)
	}

	// Stale or foreign entries in the bucket are ignored.
	if err := db2.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("ocpp16-config"))
		if err := b.Put([]byte(KeyHeartbeatInterval), []byte("not a number")); err != nil {
			return err
		}
		if err := b.Put([]byte(KeyNumberOfConnectors), []byte("7")); err != nil {
			return err
		}
		return b.Put([]byte("RemovedKey"), []byte("x"))
	}); err != nil {
		t.Fatal(err)
	}
	c3 := mustOpenConfig(t, db2, initial)
	if c3.Int(KeyHeartbeatInterval) != 120 || c3.Int(KeyNumberOfConnectors) != 2 {
		t.Errorf("stale entries applied: %d %d", c3.Int(KeyHeartbeatInterval), c3.Int(KeyNumberOfConnectors))
	}
}

func TestConfigGet(t *testing.T) {
	db, _ := openTestDB(t)
	c := mustOpenConfig(t, db, map[string]string{KeyGetConfigurationMaxKeys: "3", KeyAuthorizationKey: "0123456789abcdef"})

	all, unknown := c.Get(nil)
	if len(all) != len(KeyDefs()) || unknown != nil {
		t.Fatalf("Get(nil): %d keys, unknown %q", len(all), unknown)
	}
	for _, kv := range all {
		d := c.lookup(kv.Key)
		switch {
		case d.Name == KeyAuthorizationKey:
			if kv.Value != nil || kv.Readonly {
				t.Errorf("AuthorizationKey readable: %+v", kv)
			}
		case kv.Value == nil:
			t.Errorf("%s without value", kv.Key)
		case kv.Readonly != (d.Access == ReadOnly):
			t.Errorf("%s readonly %v, access %s", kv.Key, kv.Readonly, d.Access)
		}
	}
	if err := (&GetConfigurationResponse{ConfigurationKey: all}).Validate(); err != nil {
		t.Errorf("full answer invalid: %v", err)
	}

	tests := []struct {
		name        string
		keys        []string
		wantKnown   []string // key=value, or key for no value
		wantUnknown []string
	}{
		{"known and unknown", []string{"heartbeatinterval", "Foo"}, []string{"HeartbeatInterval=3600"}, []string{"Foo"}},
		{"authorization key hidden", []string{KeyAuthorizationKey}, []string{"AuthorizationKey"}, nil},
		{"repeats collapse", []string{KeyNumberOfConnectors, "NUMBEROFCONNECTORS", KeyNumberOfConnectors}, []string{"NumberOfConnectors=1"}, nil},
		{"max keys", []string{"A", KeyBlinkRepeat, "B", KeyLightIntensity}, []string{"BlinkRepeat=3"}, []string{"A", "B"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			known, unknown := c.Get(tc.keys)
			var got []string
			for _, kv := range known {
				s := kv.Key
				if kv.Value != nil {
					s += "=" + *kv.Value
				}
				got = append(got, s)
			}
			if !slices.Equal(got, tc.wantKnown) || !slices.Equal(unknown, tc.wantUnknown) {
				t.Errorf("Get(%q) = %q, %q; want %q, %q", tc.keys, got, unknown, tc.wantKnown, tc.wantUnknown)
			}
		})
	}
}

func TestConfigRebootRequired(t *testing.T) {
	db, _ := openTestDB(t)
	defs := KeyDefs()
	for i := range defs {
		if defs[i].Name == KeyWebSocketPingInterval {
			defs[i].Reboot = true
		}
	}
	c, err := openConfig(db, "cfg", nil, defs)
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Set(KeyWebSocketPingInterval, "10"); s != ConfigurationStatusRebootRequired {
		t.Errorf("Set = %s, want RebootRequired", s)
	}
	if c.Int(KeyWebSocketPingInterval) != 10 {
		t.Error("value not stored")
	}
}

func TestConfigKeyTable(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range KeyDefs() {
		if seen[strings.ToLower(d.Name)] {
			t.Errorf("%s listed twice", d.Name)
		}
		seen[strings.ToLower(d.Name)] = true
		if d.MaxLengthKey != "" && !slices.ContainsFunc(KeyDefs(), func(o KeyDef) bool { return o.Name == d.MaxLengthKey && o.Access == ReadOnly }) {
			t.Errorf("%s: MaxLengthKey %s is not a read-only key", d.Name, d.MaxLengthKey)
		}
		if d.Type == TypeInt && d.Min > d.Max {
			t.Errorf("%s: empty range", d.Name)
		}
	}
	if len(seen) != 61 {
		t.Errorf("%d keys, want 33 Core keys + 3 Local Auth List + 1 Reservation + 5 Smart Charging + 6 security keys"+
			" + 13 California Pricing keys", len(seen))
	}
}

func TestConfigConcurrent(t *testing.T) {
	db, _ := openTestDB(t)
	c := mustOpenConfig(t, db, nil)
	c.OnChange(func(k, v string) { _ = c.Int(k) })
	done := make(chan struct{})
	for i := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for j := range 20 {
				c.Set(KeyHeartbeatInterval, strconv.Itoa(i*100+j))
				c.Get([]string{KeyHeartbeatInterval})
				_ = c.Duration(KeyHeartbeatInterval)
			}
		}()
	}
	for range 4 {
		<-done
	}
	if n := c.Int(KeyHeartbeatInterval); n%100 != 19 {
		t.Errorf("HeartbeatInterval = %d, want a goroutine's last value", n)
	}
}

// TestConfigMeasurandsSampled checks that every measurand the config
// accepts is one the adapter turns into sampled values.
func TestConfigMeasurandsSampled(t *testing.T) {
	r := meter.Reading{
		Fields: meter.FieldEnergyImport | meter.FieldEnergyExport | meter.FieldPower | meter.FieldPowerPhases |
			meter.FieldCurrent | meter.FieldVoltage | meter.FieldFrequency | meter.FieldPowerFactor,
		Phases: 3,
	}
	dc := &station.DCStatus{SoC: 50, OfferedCurrent: 100 * physic.Ampere, OfferedPower: 50 * physic.KiloWatt}
	for _, m := range measurandValues {
		got := len(sampledValuesDC(r, dc, ReadingContextSamplePeriodic, []Measurand{m})) > 0
		if got != MeasurandSupported(m) {
			t.Errorf("%s: sampled %v, supported by config %v", m, got, MeasurandSupported(m))
		}
	}
}

// The keys of the Local Auth List Management, Reservation and Smart
// Charging profiles: defaults, typed getters and read-only answers.
func TestConfigProfileKeys(t *testing.T) {
	db, _ := openTestDB(t)
	c := mustOpenConfig(t, db, nil)
	ints := []struct {
		key  string
		want int
	}{
		{KeyLocalAuthListMaxLength, 1000},
		{KeySendLocalListMaxLength, 100},
		{KeyChargeProfileMaxStackLevel, 10},
		{KeyChargingScheduleMaxPeriods, 24},
		{KeyMaxChargingProfilesInstalled, 16},
	}
	for _, tc := range ints {
		if got := c.Int(tc.key); got != tc.want {
			t.Errorf("%s = %d, want %d", tc.key, got, tc.want)
		}
	}
	bools := []struct {
		key  string
		want bool
	}{
		{KeyLocalAuthListEnabled, true},
		{KeyReserveConnectorZeroSupported, true},
		{KeyConnectorSwitch3to1PhaseSupported, false},
	}
	for _, tc := range bools {
		if got := c.Bool(tc.key); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.key, got, tc.want)
		}
	}
	if got := c.List(KeyChargingScheduleAllowedChargingRateUnit); !slices.Equal(got, []string{"Current", "Power"}) {
		t.Errorf("ChargingScheduleAllowedChargingRateUnit = %q", got)
	}
	if got := c.ChargingRateUnits(); !slices.Equal(got, []ChargingRateUnit{ChargingRateUnitA, ChargingRateUnitW}) {
		t.Errorf("ChargingRateUnits = %q", got)
	}
	if got := c.List(KeySupportedFeatureProfiles); !slices.Equal(got, []string{"Core", "LocalAuthListManagement", "Reservation", "SmartCharging", "RemoteTrigger"}) {
		t.Errorf("SupportedFeatureProfiles = %q", got)
	}

	// Every new key but LocalAuthListEnabled is read-only: a change is
	// Rejected, even to a valid value, and leaves the value alone.
	readOnly := []struct{ key, value string }{
		{KeyLocalAuthListMaxLength, "500"},
		{KeySendLocalListMaxLength, "50"},
		{KeyReserveConnectorZeroSupported, "false"},
		{KeyChargeProfileMaxStackLevel, "3"},
		{KeyChargingScheduleAllowedChargingRateUnit, "Current"},
		{KeyChargingScheduleMaxPeriods, "10"},
		{KeyConnectorSwitch3to1PhaseSupported, "true"},
		{KeyMaxChargingProfilesInstalled, "4"},
		{KeySupportedFeatureProfiles, "Core"},
		{"supportedfeatureprofiles", "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"},
	}
	for _, tc := range readOnly {
		before, _ := c.Value(tc.key)
		if got := c.Set(tc.key, tc.value); got != ConfigurationStatusRejected {
			t.Errorf("Set(%s, %q) = %s, want Rejected", tc.key, tc.value, got)
		}
		if after, _ := c.Value(tc.key); after != before {
			t.Errorf("Set(%s, %q) changed the value to %q", tc.key, tc.value, after)
		}
	}
	known, _ := c.Get([]string{KeyLocalAuthListEnabled, KeyChargeProfileMaxStackLevel, KeySupportedFeatureProfiles})
	want := []KeyValue{
		{Key: KeyLocalAuthListEnabled, Readonly: false, Value: ptr("true")},
		{Key: KeyChargeProfileMaxStackLevel, Readonly: true, Value: ptr("10")},
		{Key: KeySupportedFeatureProfiles, Readonly: true, Value: ptr(ImplementedFeatureProfiles)},
	}
	if len(known) != len(want) {
		t.Fatalf("Get = %+v", known)
	}
	for i := range want {
		if known[i].Key != want[i].Key || known[i].Readonly != want[i].Readonly || *known[i].Value != *want[i].Value {
			t.Errorf("Get[%d] = %s %v %s, want %s %v %s", i, known[i].Key, known[i].Readonly, *known[i].Value, want[i].Key, want[i].Readonly, *want[i].Value)
		}
	}
}

// Initial values of the profiles' keys from the config file: valid ones
// are applied (canonically), invalid ones are errors.
func TestConfigProfileKeysInitial(t *testing.T) {
	good := []struct {
		name    string
		initial map[string]string
		key     string
		want    string
	}{
		{"list length", map[string]string{KeyLocalAuthListMaxLength: "5000"}, KeyLocalAuthListMaxLength, "5000"},
		{"send list length", map[string]string{"sendlocallistmaxlength": "1"}, KeySendLocalListMaxLength, "1"},
		{"list disabled", map[string]string{KeyLocalAuthListEnabled: "False"}, KeyLocalAuthListEnabled, "false"},
		{"no reservation of connector 0", map[string]string{KeyReserveConnectorZeroSupported: "false"}, KeyReserveConnectorZeroSupported, "false"},
		{"stack level 0", map[string]string{KeyChargeProfileMaxStackLevel: "0"}, KeyChargeProfileMaxStackLevel, "0"},
		{"one period", map[string]string{KeyChargingScheduleMaxPeriods: "1"}, KeyChargingScheduleMaxPeriods, "1"},
		{"many profiles", map[string]string{KeyMaxChargingProfilesInstalled: "1000"}, KeyMaxChargingProfilesInstalled, "1000"},
		{"phase switching", map[string]string{KeyConnectorSwitch3to1PhaseSupported: "TRUE"}, KeyConnectorSwitch3to1PhaseSupported, "true"},
		{"current only", map[string]string{KeyChargingScheduleAllowedChargingRateUnit: "Current"}, KeyChargingScheduleAllowedChargingRateUnit, "Current"},
		{"power only", map[string]string{KeyChargingScheduleAllowedChargingRateUnit: " Power "}, KeyChargingScheduleAllowedChargingRateUnit, "Power"},
		{"power first", map[string]string{KeyChargingScheduleAllowedChargingRateUnit: "Power, Current"}, KeyChargingScheduleAllowedChargingRateUnit, "Power,Current"},
		{"feature profiles as implemented", map[string]string{KeySupportedFeatureProfiles: ImplementedFeatureProfiles},
			KeySupportedFeatureProfiles, ImplementedFeatureProfiles},
		{"feature profiles in another order", map[string]string{KeySupportedFeatureProfiles: "RemoteTrigger, SmartCharging,Reservation,LocalAuthListManagement,Core"},
			KeySupportedFeatureProfiles, ImplementedFeatureProfiles},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTestDB(t)
			c := mustOpenConfig(t, db, tc.initial)
			if got, _ := c.Value(tc.key); got != tc.want {
				t.Errorf("%s = %q, want %q", tc.key, got, tc.want)
			}
		})
	}

	bad := []struct {
		name    string
		initial map[string]string
	}{
		{"list length 0", map[string]string{KeyLocalAuthListMaxLength: "0"}},
		{"list length too large", map[string]string{KeyLocalAuthListMaxLength: "10001"}},
		{"send list length 0", map[string]string{KeySendLocalListMaxLength: "0"}},
		{"send list length not a number", map[string]string{KeySendLocalListMaxLength: "many"}},
		{"list enabled not a boolean", map[string]string{KeyLocalAuthListEnabled: "1"}},
		{"reservation not a boolean", map[string]string{KeyReserveConnectorZeroSupported: "yes"}},
		{"negative stack level", map[string]string{KeyChargeProfileMaxStackLevel: "-1"}},
		{"stack level too large", map[string]string{KeyChargeProfileMaxStackLevel: "101"}},
		{"no periods", map[string]string{KeyChargingScheduleMaxPeriods: "0"}},
		{"no profiles", map[string]string{KeyMaxChargingProfilesInstalled: "0"}},
		{"phase switching not a boolean", map[string]string{KeyConnectorSwitch3to1PhaseSupported: "sometimes"}},
		{"rate unit A", map[string]string{KeyChargingScheduleAllowedChargingRateUnit: "A"}},
		{"rate unit W", map[string]string{KeyChargingScheduleAllowedChargingRateUnit: "Current,W"}},
		{"rate unit lower case", map[string]string{KeyChargingScheduleAllowedChargingRateUnit: "current"}},
		{"rate unit twice", map[string]string{KeyChargingScheduleAllowedChargingRateUnit: "Current,Current"}},
		{"rate unit empty item", map[string]string{KeyChargingScheduleAllowedChargingRateUnit: "Current,"}},
		{"no rate unit", map[string]string{KeyChargingScheduleAllowedChargingRateUnit: ""}},
		{"feature profiles Core only", map[string]string{KeySupportedFeatureProfiles: "Core"}},
		{"feature profiles empty", map[string]string{KeySupportedFeatureProfiles: ""}},
		{"feature profiles claim FirmwareManagement", map[string]string{
			KeySupportedFeatureProfiles: ImplementedFeatureProfiles + ",FirmwareManagement"}},
		{"feature profiles repeat one", map[string]string{
			KeySupportedFeatureProfiles: "Core,Core,LocalAuthListManagement,Reservation,SmartCharging"}},
		{"feature profiles unknown name", map[string]string{KeySupportedFeatureProfiles: "Core,Teleport"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTestDB(t)
			if _, err := OpenConfig(db, "cfg", tc.initial); !errors.Is(err, ErrBadValue) {
				t.Errorf("err = %v, want %v", err, ErrBadValue)
			}
		})
	}
}

// The error for an overridden SupportedFeatureProfiles says what the key
// is fixed to and why.
func TestConfigFeatureProfilesFixed(t *testing.T) {
	db, _ := openTestDB(t)
	_, err := OpenConfig(db, "cfg", map[string]string{"SupportedFeatureProfiles": "Core,FirmwareManagement"})
	if !errors.Is(err, ErrBadValue) {
		t.Fatalf("err = %v, want %v", err, ErrBadValue)
	}
	for _, want := range []string{KeySupportedFeatureProfiles, "fixed", ImplementedFeatureProfiles, "implements", "Core,FirmwareManagement"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	for _, name := range []string{ProfileCore, ProfileLocalAuthListManagement, ProfileReservation, ProfileSmartCharging, ProfileRemoteTrigger} {
		if !ProfileImplemented(name) {
			t.Errorf("%s not implemented", name)
		}
	}
	for _, name := range []string{ProfileFirmwareManagement, "core", ""} {
		if ProfileImplemented(name) {
			t.Errorf("%q implemented", name)
		}
	}

	// A stored value is never applied to a read-only key, this one
	// included.
	if err := db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("cfg"))
		if err != nil {
			return err
		}
		return b.Put([]byte(KeySupportedFeatureProfiles), []byte("Core"))
	}); err != nil {
		t.Fatal(err)
	}
	c, err := OpenConfig(db, "cfg", nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Value(KeySupportedFeatureProfiles); v != ImplementedFeatureProfiles {
		t.Errorf("SupportedFeatureProfiles = %q after a stored override", v)
	}
}
