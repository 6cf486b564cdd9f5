package ocpp16

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// Names of the configuration keys Config knows: the Core keys of OCPP 1.6
// section 9.1, the keys of the Local Auth List Management (9.2),
// Reservation (9.3) and Smart Charging (9.4) profiles, and the two keys of
// the 1.6 security whitepaper that the transport needs.
const (
	KeyAllowOfflineTxForUnknownID        = "AllowOfflineTxForUnknownId"
	KeyAuthorizationCacheEnabled         = "AuthorizationCacheEnabled"
	KeyAuthorizeRemoteTxRequests         = "AuthorizeRemoteTxRequests"
	KeyBlinkRepeat                       = "BlinkRepeat"
	KeyClockAlignedDataInterval          = "ClockAlignedDataInterval"
	KeyConnectionTimeOut                 = "ConnectionTimeOut"
	KeyConnectorPhaseRotation            = "ConnectorPhaseRotation"
	KeyConnectorPhaseRotationMaxLength   = "ConnectorPhaseRotationMaxLength"
	KeyGetConfigurationMaxKeys           = "GetConfigurationMaxKeys"
	KeyHeartbeatInterval                 = "HeartbeatInterval"
	KeyLightIntensity                    = "LightIntensity"
	KeyLocalAuthorizeOffline             = "LocalAuthorizeOffline"
	KeyLocalPreAuthorize                 = "LocalPreAuthorize"
	KeyMaxEnergyOnInvalidID              = "MaxEnergyOnInvalidId"
	KeyMeterValuesAlignedData            = "MeterValuesAlignedData"
	KeyMeterValuesAlignedDataMaxLength   = "MeterValuesAlignedDataMaxLength"
	KeyMeterValuesSampledData            = "MeterValuesSampledData"
	KeyMeterValuesSampledDataMaxLength   = "MeterValuesSampledDataMaxLength"
	KeyMeterValueSampleInterval          = "MeterValueSampleInterval"
	KeyMinimumStatusDuration             = "MinimumStatusDuration"
	KeyNumberOfConnectors                = "NumberOfConnectors"
	KeyResetRetries                      = "ResetRetries"
	KeyStopTransactionOnEVSideDisconnect = "StopTransactionOnEVSideDisconnect"
	KeyStopTransactionOnInvalidID        = "StopTransactionOnInvalidId"
	KeyStopTxnAlignedData                = "StopTxnAlignedData"
	KeyStopTxnAlignedDataMaxLength       = "StopTxnAlignedDataMaxLength"
	KeyStopTxnSampledData                = "StopTxnSampledData"
	KeyStopTxnSampledDataMaxLength       = "StopTxnSampledDataMaxLength"
	KeySupportedFeatureProfiles          = "SupportedFeatureProfiles"
	KeyTransactionMessageAttempts        = "TransactionMessageAttempts"
	KeyTransactionMessageRetryInterval   = "TransactionMessageRetryInterval"
	KeyUnlockConnectorOnEVSideDisconnect = "UnlockConnectorOnEVSideDisconnect"
	KeyWebSocketPingInterval             = "WebSocketPingInterval"

	// KeyLocalAuthListEnabled switches the use of the local authorization
	// list on and off (Local Auth List Management).
	KeyLocalAuthListEnabled = "LocalAuthListEnabled"
	// KeyLocalAuthListMaxLength is the most entries the local
	// authorization list holds.
	KeyLocalAuthListMaxLength = "LocalAuthListMaxLength"
	// KeySendLocalListMaxLength is the most entries one SendLocalList may
	// carry.
	KeySendLocalListMaxLength = "SendLocalListMaxLength"

	// KeyReserveConnectorZeroSupported says whether a ReserveNow may
	// reserve connector 0, i.e. any connector (Reservation).
	KeyReserveConnectorZeroSupported = "ReserveConnectorZeroSupported"

	// KeyChargeProfileMaxStackLevel is the highest stack level a charging
	// profile may have (Smart Charging).
	KeyChargeProfileMaxStackLevel = "ChargeProfileMaxStackLevel"
	// KeyChargingScheduleAllowedChargingRateUnit lists the units a
	// charging schedule may use: Current (A), Power (W) or both.
	KeyChargingScheduleAllowedChargingRateUnit = "ChargingScheduleAllowedChargingRateUnit"
	// KeyChargingScheduleMaxPeriods is the most periods a charging
	// schedule may have.
	KeyChargingScheduleMaxPeriods = "ChargingScheduleMaxPeriods"
	// KeyConnectorSwitch3to1PhaseSupported says whether the charge point
	// can switch from three phases to one during a transaction.
	KeyConnectorSwitch3to1PhaseSupported = "ConnectorSwitch3to1PhaseSupported"
	// KeyMaxChargingProfilesInstalled is the most charging profiles the
	// charge point holds at once.
	KeyMaxChargingProfilesInstalled = "MaxChargingProfilesInstalled"

	// KeyAuthorizationKey is the HTTP Basic password of security profiles 1
	// and 2 (security whitepaper). It is write-only.
	KeyAuthorizationKey = "AuthorizationKey"
	// KeySecurityProfile is the security profile in use, 0 to 3 (security
	// whitepaper). It may only be raised.
	KeySecurityProfile = "SecurityProfile"
	// KeyCpoName is the organisation (O) of the charge point's certificate
	// signing requests.
	KeyCpoName = "CpoName"
	// KeyCertificateStoreMaxLength is the most root certificates the
	// charge point holds per kind.
	KeyCertificateStoreMaxLength = "CertificateStoreMaxLength"
	// KeyCertificateSignedMaxChainSize is the longest certificateChain a
	// CertificateSigned may carry, in characters.
	KeyCertificateSignedMaxChainSize = "CertificateSignedMaxChainSize"
	// KeyAdditionalRootCertificateCheck says a new CSMS root must be
	// signed by the one it replaces; evsed does not do that check.
	KeyAdditionalRootCertificateCheck = "AdditionalRootCertificateCheck"
)

// Access says who may read and change a configuration key.
type Access uint8

// Access modes.
const (
	// ReadOnly keys are set by the firmware or the config file; a
	// ChangeConfiguration is Rejected.
	ReadOnly Access = iota + 1
	// ReadWrite keys may be read and changed by the CSMS.
	ReadWrite
	// WriteOnly keys may be changed but never read back: GetConfiguration
	// lists them without a value (AuthorizationKey).
	WriteOnly
)

// String returns R, RW or W as in the specification's tables.
func (a Access) String() string {
	switch a {
	case ReadOnly:
		return "R"
	case ReadWrite:
		return "RW"
	case WriteOnly:
		return "W"
	}
	return "Access(" + strconv.Itoa(int(a)) + ")"
}

// KeyType is the type of a configuration key's value.
type KeyType uint8

// Key types.
const (
	// TypeBool values are "true" or "false" (any case on input).
	TypeBool KeyType = iota + 1
	// TypeInt values are decimal integers; intervals are in seconds.
	TypeInt
	// TypeCSL values are comma-separated lists (empty: no items).
	TypeCSL
	// TypeString values are free text.
	TypeString
)

// KeyDef describes one configuration key.
type KeyDef struct {
	Name   string
	Access Access
	Type   KeyType
	// Default is the value before the config file or the CSMS set one.
	Default string
	// Min and Max bound TypeInt values.
	Min, Max int
	// MaxLengthKey names the key that bounds the number of items of a
	// TypeCSL value; empty when unbounded.
	MaxLengthKey string
	// Reboot says a change takes effect only after a reboot:
	// ChangeConfiguration answers RebootRequired. No key of this package
	// needs one, since the adapter applies changes through the OnChange
	// hook.
	Reboot bool
	// check validates a value (already known to be of Type and within
	// Min..Max) against the current values and returns its canonical form.
	// loading is true while OpenConfig applies stored and initial values,
	// where rules about changes (SecurityProfile only rises) do not apply.
	check func(value string, cur func(string) string, loading bool) (string, error)
}

// supportedMeasurands are the measurands a meter.Reading, or a DC
// connector's status, can fill, i.e. those the adapter turns into sampled
// values (sampledValuesDC); keep the two in step. SoC, Power.Offered and
// Current.Offered come from a DC connector only: an AC connector's samples
// go without them. A MeterValues*Data or StopTxn*Data list with any other
// measurand is Rejected.
var supportedMeasurands = [...]Measurand{
	MeasurandEnergyActiveImportRegister,
	MeasurandEnergyActiveExportRegister,
	MeasurandPowerActiveImport,
	MeasurandCurrentImport,
	MeasurandVoltage,
	MeasurandFrequency,
	MeasurandPowerFactor,
	MeasurandSoC,
	MeasurandPowerOffered,
	MeasurandCurrentOffered,
}

// MeasurandSupported reports whether the charge point can sample m, i.e.
// whether m may appear in MeterValuesSampledData and the like.
func MeasurandSupported(m Measurand) bool { return slices.Contains(supportedMeasurands[:], m) }

// Names of the OCPP 1.6 feature profiles, as SupportedFeatureProfiles
// lists them.
const (
	ProfileCore                    = "Core"
	ProfileFirmwareManagement      = "FirmwareManagement"
	ProfileLocalAuthListManagement = "LocalAuthListManagement"
	ProfileReservation             = "Reservation"
	ProfileSmartCharging           = "SmartCharging"
	ProfileRemoteTrigger           = "RemoteTrigger"
)

// ImplementedFeatureProfiles is the value of the SupportedFeatureProfiles
// key: the feature profiles the firmware implements, and the one place that
// says so. Neither the CSMS nor the config file can change the key, since a
// charge point that claimed a profile it does not implement, or hid one it
// does, would mislead the CSMS. FirmwareManagement is not among them:
// UpdateFirmware and GetDiagnostics are answered NotSupported.
const ImplementedFeatureProfiles = ProfileCore + "," + ProfileLocalAuthListManagement + "," +
	ProfileReservation + "," + ProfileSmartCharging + "," + ProfileRemoteTrigger

// ProfileImplemented reports whether the firmware implements the feature
// profile of that name (ProfileCore and the like).
func ProfileImplemented(name string) bool {
	return slices.Contains(splitCSL(ImplementedFeatureProfiles), name)
}

// Items of ChargingScheduleAllowedChargingRateUnit: Current stands for
// ChargingRateUnitA, Power for ChargingRateUnitW (see ChargingRateUnits).
const (
	RateUnitCurrent = "Current"
	RateUnitPower   = "Power"
)

// phaseRotations are the rotations ConnectorPhaseRotation may give.
var phaseRotations = [...]string{"NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR"}

// keyDefs is the table of known keys, in the order GetConfiguration lists
// them. Read-only.
var keyDefs = [...]KeyDef{
	{Name: KeyAllowOfflineTxForUnknownID, Access: ReadWrite, Type: TypeBool, Default: "false"},
	{Name: KeyAuthorizationCacheEnabled, Access: ReadWrite, Type: TypeBool, Default: "true"},
	{Name: KeyAuthorizeRemoteTxRequests, Access: ReadWrite, Type: TypeBool, Default: "false"},
	{Name: KeyBlinkRepeat, Access: ReadWrite, Type: TypeInt, Default: "3", Min: 0, Max: 1000},
	{Name: KeyClockAlignedDataInterval, Access: ReadWrite, Type: TypeInt, Default: "900", Min: 0, Max: 86400},
	{Name: KeyConnectionTimeOut, Access: ReadWrite, Type: TypeInt, Default: "60", Min: 1, Max: 3600},
	{Name: KeyConnectorPhaseRotation, Access: ReadWrite, Type: TypeCSL, Default: "0.Unknown",
		MaxLengthKey: KeyConnectorPhaseRotationMaxLength, check: checkPhaseRotation},
	{Name: KeyConnectorPhaseRotationMaxLength, Access: ReadOnly, Type: TypeInt, Default: "11", Min: 1, Max: 1000},
	{Name: KeyGetConfigurationMaxKeys, Access: ReadOnly, Type: TypeInt, Default: "50", Min: 1, Max: 1000},
	{Name: KeyHeartbeatInterval, Access: ReadWrite, Type: TypeInt, Default: "3600", Min: 0, Max: math.MaxInt32},
	{Name: KeyLightIntensity, Access: ReadWrite, Type: TypeInt, Default: "100", Min: 0, Max: 100},
	{Name: KeyLocalAuthorizeOffline, Access: ReadWrite, Type: TypeBool, Default: "true"},
	{Name: KeyLocalPreAuthorize, Access: ReadWrite, Type: TypeBool, Default: "false"},
	{Name: KeyMaxEnergyOnInvalidID, Access: ReadWrite, Type: TypeInt, Default: "0", Min: 0, Max: math.MaxInt32},
	{Name: KeyMeterValuesAlignedData, Access: ReadWrite, Type: TypeCSL, Default: "Energy.Active.Import.Register",
		MaxLengthKey: KeyMeterValuesAlignedDataMaxLength, check: checkMeasurands},
	{Name: KeyMeterValuesAlignedDataMaxLength, Access: ReadOnly, Type: TypeInt, Default: "10", Min: 0, Max: 100},
	{Name: KeyMeterValuesSampledData, Access: ReadWrite, Type: TypeCSL, Default: "Energy.Active.Import.Register",
		MaxLengthKey: KeyMeterValuesSampledDataMaxLength, check: checkMeasurands},
	{Name: KeyMeterValuesSampledDataMaxLength, Access: ReadOnly, Type: TypeInt, Default: "10", Min: 0, Max: 100},
	{Name: KeyMeterValueSampleInterval, Access: ReadWrite, Type: TypeInt, Default: "60", Min: 0, Max: 86400},
	{Name: KeyMinimumStatusDuration, Access: ReadWrite, Type: TypeInt, Default: "0", Min: 0, Max: 3600},
	{Name: KeyNumberOfConnectors, Access: ReadOnly, Type: TypeInt, Default: "1", Min: 1, Max: 1000},
	{Name: KeyResetRetries, Access: ReadWrite, Type: TypeInt, Default: "3", Min: 0, Max: 100},
	{Name: KeyStopTransactionOnEVSideDisconnect, Access: ReadWrite, Type: TypeBool, Default: "true"},
	{Name: KeyStopTransactionOnInvalidID, Access: ReadWrite, Type: TypeBool, Default: "true"},
	{Name: KeyStopTxnAlignedData, Access: ReadWrite, Type: TypeCSL, Default: "",
		MaxLengthKey: KeyStopTxnAlignedDataMaxLength, check: checkMeasurands},
	{Name: KeyStopTxnAlignedDataMaxLength, Access: ReadOnly, Type: TypeInt, Default: "10", Min: 0, Max: 100},
	{Name: KeyStopTxnSampledData, Access: ReadWrite, Type: TypeCSL, Default: "",
		MaxLengthKey: KeyStopTxnSampledDataMaxLength, check: checkMeasurands},
	{Name: KeyStopTxnSampledDataMaxLength, Access: ReadOnly, Type: TypeInt, Default: "10", Min: 0, Max: 100},
	{Name: KeySupportedFeatureProfiles, Access: ReadOnly, Type: TypeCSL, Default: ImplementedFeatureProfiles, check: checkFeatureProfiles},
	// At least one attempt: a value of 0 would drop transaction messages
	// unsent, which evsed never does.
	{Name: KeyTransactionMessageAttempts, Access: ReadWrite, Type: TypeInt, Default: "3", Min: 1, Max: 100},
	{Name: KeyTransactionMessageRetryInterval, Access: ReadWrite, Type: TypeInt, Default: "60", Min: 0, Max: 86400},
	{Name: KeyUnlockConnectorOnEVSideDisconnect, Access: ReadWrite, Type: TypeBool, Default: "true"},
	{Name: KeyWebSocketPingInterval, Access: ReadWrite, Type: TypeInt, Default: "60", Min: 0, Max: 86400},
	// Local Auth List Management (section 9.2). A list longer than 10000
	// entries would make a Full update one large commit on flash.
	{Name: KeyLocalAuthListEnabled, Access: ReadWrite, Type: TypeBool, Default: "true"},
	{Name: KeyLocalAuthListMaxLength, Access: ReadOnly, Type: TypeInt, Default: "1000", Min: 1, Max: 10000},
	{Name: KeySendLocalListMaxLength, Access: ReadOnly, Type: TypeInt, Default: "100", Min: 1, Max: 10000},
	// Reservation (section 9.3).
	{Name: KeyReserveConnectorZeroSupported, Access: ReadOnly, Type: TypeBool, Default: "true"},
	// Smart Charging (section 9.4). A maximum stack level of 0 still
	// allows one profile per purpose, at level 0; the other limits need at
	// least one for Smart Charging to work at all.
	{Name: KeyChargeProfileMaxStackLevel, Access: ReadOnly, Type: TypeInt, Default: "10", Min: 0, Max: 100},
	{Name: KeyChargingScheduleAllowedChargingRateUnit, Access: ReadOnly, Type: TypeCSL, Default: RateUnitCurrent + "," + RateUnitPower,
		check: checkRateUnits},
	{Name: KeyChargingScheduleMaxPeriods, Access: ReadOnly, Type: TypeInt, Default: "24", Min: 1, Max: 1000},
	{Name: KeyConnectorSwitch3to1PhaseSupported, Access: ReadOnly, Type: TypeBool, Default: "false"},
	{Name: KeyMaxChargingProfilesInstalled, Access: ReadOnly, Type: TypeInt, Default: "16", Min: 1, Max: 1000},
	// Security whitepaper.
	{Name: KeyAuthorizationKey, Access: WriteOnly, Type: TypeString, Default: "", check: checkAuthorizationKey},
	{Name: KeySecurityProfile, Access: ReadWrite, Type: TypeInt, Default: "0", Min: 0, Max: 3, check: checkSecurityProfile},
	{Name: KeyCpoName, Access: ReadWrite, Type: TypeString, Default: ""},
	{Name: KeyCertificateStoreMaxLength, Access: ReadOnly, Type: TypeInt, Default: "16", Min: 1, Max: 1000},
	{Name: KeyCertificateSignedMaxChainSize, Access: ReadOnly, Type: TypeInt, Default: "10000", Min: 1, Max: 10000},
	{Name: KeyAdditionalRootCertificateCheck, Access: ReadOnly, Type: TypeBool, Default: "false"},
}

// allKeyDefs is keyDefs followed by the California Pricing keys. Read-only.
var allKeyDefs = append(slices.Clone(keyDefs[:]), pricingKeyDefs()...)

// KeyDefs returns the descriptions of the keys Config knows, in
// GetConfiguration order. The slice is the caller's.
func KeyDefs() []KeyDef { return slices.Clone(allKeyDefs) }

// Errors of OpenConfig, wrapped with the key at fault.
var (
	// ErrUnknownKey: an initial value names a key Config does not know.
	ErrUnknownKey = errors.New("ocpp16: unknown configuration key")
	// ErrBadValue: an initial value is not valid for its key.
	ErrBadValue = errors.New("ocpp16: invalid configuration value")
)

// Config is the charge point's OCPP 1.6 configuration: the values of the
// keys of KeyDefs, persisted in one bbolt bucket (key name -> value). It is
// safe for concurrent use. Key names are case-insensitive on input (they are
// CiString50 in GetConfiguration and ChangeConfiguration) and canonical on
// output.
type Config struct {
	db *bbolt.DB
	// bucket is the name of the configuration's bucket; a string, made a
	// []byte for each lookup on the stack, rather than a copy held on the
	// heap (the fleet simulator holds thousands of Configs).
	bucket string
	defs   []KeyDef

	// setMu serializes Set, including its OnChange call, so that hooks see
	// changes in the order they were made.
	setMu sync.Mutex

	mu sync.Mutex // guards the fields below
	// changed holds the canonical value of every key whose value is not
	// its default, in defs order; the other keys have their KeyDef's
	// Default. Most keys of most chargers keep their default, and the
	// fleet simulator holds thousands of Configs: a map of every key's
	// value would cost each of them a few KiB for the same strings.
	changed  []keyValue
	onChange func(key, value string)
}

// keyValue is a key's value that differs from its default.
type keyValue struct {
	def   int // index into Config.defs
	value string
}

// OpenConfig loads the configuration from bucket in db (created if needed).
// Each key takes, in order of precedence, its persisted value (set by the
// CSMS), its value in initial (the config file's `ocpp` section, canonical or
// any-case key names), or its default. A read-only key is never persisted,
// so initial always decides it. An initial value for an unknown key or an
// invalid one is an error (ErrUnknownKey, ErrBadValue); a persisted value
// that is no longer valid, or that belongs to a key no longer known, is
// ignored. initial is not retained.
func OpenConfig(db *bbolt.DB, bucket string, initial map[string]string) (*Config, error) {
	return openConfig(db, bucket, initial, allKeyDefs)
}

func openConfig(db *bbolt.DB, bucket string, initial map[string]string, defs []KeyDef) (*Config, error) {
	c := &Config{db: db, bucket: bucket, defs: defs}
	// Read-only keys first: the CSL MaxLength keys bound other values.
	names := make([]string, 0, len(initial))
	for k := range initial {
		names = append(names, k)
	}
	readOnly := func(k string) bool { d := c.lookup(k); return d != nil && d.Access == ReadOnly }
	slices.SortFunc(names, func(a, b string) int {
		ra, rb := readOnly(a), readOnly(b)
		switch {
		case ra && !rb:
			return -1
		case rb && !ra:
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, k := range names {
		d := c.lookup(k)
		if d == nil {
			return nil, fmt.Errorf("ocpp16: config key %q: %w", k, ErrUnknownKey)
		}
		v, err := c.validate(d, initial[k], true)
		if err != nil {
			return nil, fmt.Errorf("ocpp16: config key %s: %w: %v", d.Name, ErrBadValue, err)
		}
		c.put(d, v)
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(c.bucket))
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			d := c.lookup(string(k))
			if d == nil || d.Access == ReadOnly {
				return nil
			}
			if cv, err := c.validate(d, string(v), true); err == nil {
				c.put(d, cv)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("ocpp16: open config bucket %q: %w", bucket, err)
	}
	return c, nil
}

// lookup finds a key's definition, ignoring case; nil when unknown. The
// result points into c.defs.
func (c *Config) lookup(key string) *KeyDef {
	for i := range c.defs {
		if strings.EqualFold(c.defs[i].Name, key) {
			return &c.defs[i]
		}
	}
	return nil
}

// get returns the current value of d, which points into c.defs. c.mu must
// be held, or c not yet shared.
func (c *Config) get(d *KeyDef) string {
	for _, kv := range c.changed {
		if &c.defs[kv.def] == d {
			return kv.value
		}
	}
	return d.Default
}

// valueOf returns the current value of the key named name (canonical
// spelling), "" for an unknown key. c.mu must be held, or c not yet shared.
func (c *Config) valueOf(name string) string {
	for i := range c.defs {
		if c.defs[i].Name == name {
			return c.get(&c.defs[i])
		}
	}
	return ""
}

// put makes v the current value of d, which points into c.defs, keeping
// only values that differ from the default. c.mu must be held, or c not
// yet shared.
func (c *Config) put(d *KeyDef, v string) {
	i := 0
	for &c.defs[i] != d {
		i++
	}
	at, found := slices.BinarySearchFunc(c.changed, i, func(kv keyValue, i int) int { return kv.def - i })
	switch {
	case v == d.Default && found:
		c.changed = slices.Delete(c.changed, at, at+1)
	case v == d.Default:
	case found:
		c.changed[at].value = v
	default:
		c.changed = slices.Insert(c.changed, at, keyValue{def: i, value: v})
	}
}

// validate checks value for d and returns its canonical form. c.mu must be
// held, or c not yet shared.
func (c *Config) validate(d *KeyDef, value string, loading bool) (string, error) {
	v := value
	switch d.Type {
	case TypeBool:
		switch {
		case strings.EqualFold(value, "true"):
			v = "true"
		case strings.EqualFold(value, "false"):
			v = "false"
		default:
			return "", fmt.Errorf("%q is not a boolean", value)
		}
	case TypeInt:
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			return "", fmt.Errorf("%q is not an integer", value)
		}
		if n < d.Min || n > d.Max {
			return "", fmt.Errorf("%d is outside %d..%d", n, d.Min, d.Max)
		}
		v = strconv.Itoa(n)
	case TypeCSL:
		items := splitCSL(value)
		if d.MaxLengthKey != "" {
			limit, _ := strconv.Atoi(c.valueOf(d.MaxLengthKey))
			if len(items) > limit {
				return "", fmt.Errorf("%d items, at most %d allowed (%s)", len(items), limit, d.MaxLengthKey)
			}
		}
		v = strings.Join(items, ",")
	}
	if d.check != nil {
		return d.check(v, c.valueOf, loading)
	}
	return v, nil
}

// splitCSL splits a comma-separated list, trimming spaces around items.
// An empty or blank list has no items.
func splitCSL(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	items := strings.Split(s, ",")
	for i, it := range items {
		items[i] = strings.TrimSpace(it)
	}
	return items
}

func checkMeasurands(v string, _ func(string) string, _ bool) (string, error) {
	for _, it := range splitCSL(v) {
		m := Measurand(it)
		if !m.IsValid() {
			return "", fmt.Errorf("%q is not a Measurand", it)
		}
		if !MeasurandSupported(m) {
			return "", fmt.Errorf("measurand %s is not supported", it)
		}
	}
	return v, nil
}

func checkPhaseRotation(v string, cur func(string) string, _ bool) (string, error) {
	n, _ := strconv.Atoi(cur(KeyNumberOfConnectors))
	for _, it := range splitCSL(v) {
		conn, rot, ok := strings.Cut(it, ".")
		id, err := strconv.Atoi(conn)
		if !ok || err != nil || id < 0 || id > n {
			return "", fmt.Errorf("%q: want <connector 0..%d>.<rotation>", it, n)
		}
		if !slices.Contains(phaseRotations[:], rot) {
			return "", fmt.Errorf("%q: unknown rotation %q", it, rot)
		}
	}
	return v, nil
}

// checkFeatureProfiles accepts only the implemented profiles, each once, in
// any order (the value is canonicalized to ImplementedFeatureProfiles): the
// key reports what the firmware does, which configuration cannot change.
func checkFeatureProfiles(v string, _ func(string) string, _ bool) (string, error) {
	items := splitCSL(v)
	same := len(items) == len(splitCSL(ImplementedFeatureProfiles))
	for i, it := range items {
		if !ProfileImplemented(it) || slices.Contains(items[:i], it) {
			same = false
		}
	}
	if !same {
		return "", fmt.Errorf("%s is fixed to %q, the feature profiles this firmware implements; it cannot be set to %q",
			KeySupportedFeatureProfiles, ImplementedFeatureProfiles, v)
	}
	return ImplementedFeatureProfiles, nil
}

// checkRateUnits accepts a non-empty list of Current and Power, each at
// most once: a Smart Charging charge point must take schedules in some
// unit, and the specification names no other.
func checkRateUnits(v string, _ func(string) string, _ bool) (string, error) {
	items := splitCSL(v)
	if len(items) == 0 {
		return "", fmt.Errorf("want %s, %s or both", RateUnitCurrent, RateUnitPower)
	}
	for i, it := range items {
		if it != RateUnitCurrent && it != RateUnitPower {
			return "", fmt.Errorf("%q is not a charging rate unit (%s or %s)", it, RateUnitCurrent, RateUnitPower)
		}
		if slices.Contains(items[:i], it) {
			return "", fmt.Errorf("%s listed twice", it)
		}
	}
	return v, nil
}

// checkAuthorizationKey applies the whitepaper's rule of at least 16 bytes,
// with the 40-character maximum of its hexadecimal form as upper bound. Any
// printable ASCII is accepted (hex digits included), since the value is
// used as the HTTP Basic password as it is.
func checkAuthorizationKey(v string, _ func(string) string, loading bool) (string, error) {
	if loading && v == "" {
		return v, nil // no password configured
	}
	if len(v) < 16 || len(v) > 40 {
		return "", fmt.Errorf("AuthorizationKey must have 16 to 40 characters, has %d", len(v))
	}
	for _, r := range v {
		if r < 0x20 || r > 0x7e {
			return "", errors.New("AuthorizationKey must be printable ASCII")
		}
	}
	return v, nil
}

// checkSecurityProfile applies the whitepaper's rules: the profile may only
// be raised, and profiles 1 and 2 need an AuthorizationKey. The certificates
// that profiles 2 and 3 need are the adapter's to check before it calls Set.
func checkSecurityProfile(v string, cur func(string) string, loading bool) (string, error) {
	if loading {
		return v, nil
	}
	n, _ := strconv.Atoi(v)
	old, _ := strconv.Atoi(cur(KeySecurityProfile))
	if n < old {
		return "", fmt.Errorf("security profile %d is lower than the current %d", n, old)
	}
	if (n == 1 || n == 2) && cur(KeyAuthorizationKey) == "" {
		return "", fmt.Errorf("security profile %d needs an AuthorizationKey", n)
	}
	return v, nil
}

// OnChange sets the function called after each accepted change (Accepted
// or RebootRequired), with the canonical key name and value, so that the
// adapter applies it live (new intervals, a reconnect for AuthorizationKey
// and SecurityProfile). fn runs on the goroutine that called Set, after the
// value is persisted; it may read c but must not call Set. nil removes the
// hook.
func (c *Config) OnChange(fn func(key, value string)) {
	c.mu.Lock()
	c.onChange = fn
	c.mu.Unlock()
}

// Set changes a key as a ChangeConfiguration does and returns its answer:
// NotSupported for an unknown key, Rejected for a read-only key, an invalid
// value or a failure to persist it, RebootRequired or Accepted once the
// value is persisted and the OnChange hook has run.
func (c *Config) Set(key, value string) ConfigurationStatus {
	d := c.lookup(key)
	if d == nil {
		return ConfigurationStatusNotSupported
	}
	if d.Access == ReadOnly {
		return ConfigurationStatusRejected
	}
	c.setMu.Lock()
	defer c.setMu.Unlock()
	c.mu.Lock()
	v, err := c.validate(d, value, false)
	if err == nil {
		err = c.persist(d, v)
	}
	if err != nil {
		c.mu.Unlock()
		return ConfigurationStatusRejected
	}
	c.put(d, v)
	hook := c.onChange
	c.mu.Unlock()
	if hook != nil {
		hook(d.Name, v)
	}
	if d.Reboot {
		return ConfigurationStatusRebootRequired
	}
	return ConfigurationStatusAccepted
}

// Restore puts back a value the key held before, as the charge point
// decides on its own (the fallback from connection settings that failed):
// the rules of loading apply, not those of a change (SecurityProfile may
// go down), the value is persisted, and the OnChange hook is not called.
func (c *Config) Restore(key, value string) error {
	d := c.lookup(key)
	if d == nil {
		return fmt.Errorf("ocpp16: restore %s: unknown key", key)
	}
	c.setMu.Lock()
	defer c.setMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	v, err := c.validate(d, value, true)
	if err != nil {
		return fmt.Errorf("ocpp16: restore %s: %w", d.Name, err)
	}
	if err := c.persist(d, v); err != nil {
		return fmt.Errorf("ocpp16: restore %s: %w", d.Name, err)
	}
	c.put(d, v)
	return nil
}

// persist writes v as d's value to the database. c.mu is held.
func (c *Config) persist(d *KeyDef, v string) error {
	return c.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(c.bucket))
		if b == nil {
			return fmt.Errorf("bucket %q missing", c.bucket)
		}
		return b.Put([]byte(d.Name), []byte(v))
	})
}

// Get answers a GetConfiguration: with no keys, every known key; otherwise
// the requested keys, in request order without repeats, of which at most
// GetConfigurationMaxKeys are answered (the rest are ignored). Known keys
// come back with their canonical name and value, except write-only keys
// (AuthorizationKey), which come back without a value: the whitepaper makes
// them unreadable. Unknown keys come back as requested.
func (c *Config) Get(keys []string) (known []KeyValue, unknown []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kv := func(d *KeyDef) KeyValue {
		out := KeyValue{Key: d.Name, Readonly: d.Access == ReadOnly}
		if d.Access != WriteOnly {
			v := c.get(d)
			out.Value = &v
		}
		return out
	}
	if len(keys) == 0 {
		for i := range c.defs {
			known = append(known, kv(&c.defs[i]))
		}
		return known, nil
	}
	limit, _ := strconv.Atoi(c.valueOf(KeyGetConfigurationMaxKeys))
	var seen []string
	for _, k := range keys {
		if len(seen) == limit {
			break
		}
		if slices.ContainsFunc(seen, func(s string) bool { return strings.EqualFold(s, k) }) {
			continue
		}
		seen = append(seen, k)
		if d := c.lookup(k); d != nil {
			known = append(known, kv(d))
		} else {
			unknown = append(unknown, k)
		}
	}
	return known, unknown
}

// Value returns a key's current value, write-only keys included (the
// transport needs the AuthorizationKey), and whether the key is known.
func (c *Config) Value(key string) (string, bool) {
	d := c.lookup(key)
	if d == nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.get(d), true
}

// Bool returns a TypeBool key's value; false for an unknown key.
func (c *Config) Bool(key string) bool {
	v, _ := c.Value(key)
	return v == "true"
}

// Int returns a TypeInt key's value; 0 for an unknown key.
func (c *Config) Int(key string) int {
	v, _ := c.Value(key)
	n, _ := strconv.Atoi(v)
	return n
}

// Duration returns a TypeInt key that counts seconds (the intervals and
// timeouts) as a duration; 0 for an unknown key.
func (c *Config) Duration(key string) time.Duration {
	return time.Duration(c.Int(key)) * time.Second
}

// List returns the items of a TypeCSL key; nil for an empty list or an
// unknown key. The slice is the caller's.
func (c *Config) List(key string) []string {
	v, _ := c.Value(key)
	return splitCSL(v)
}

// ChargingRateUnits returns the charging rate units
// ChargingScheduleAllowedChargingRateUnit allows (Current: A, Power: W), in
// the order listed.
func (c *Config) ChargingRateUnits() []ChargingRateUnit {
	var out []ChargingRateUnit
	for _, it := range c.List(KeyChargingScheduleAllowedChargingRateUnit) {
		switch it {
		case RateUnitCurrent:
			out = append(out, ChargingRateUnitA)
		case RateUnitPower:
			out = append(out, ChargingRateUnitW)
		}
	}
	return out
}

// Measurands returns the items of a measurand list key
// (MeterValuesSampledData and the like).
func (c *Config) Measurands(key string) []Measurand {
	items := c.List(key)
	if items == nil {
		return nil
	}
	out := make([]Measurand, len(items))
	for i, it := range items {
		out[i] = Measurand(it)
	}
	return out
}
