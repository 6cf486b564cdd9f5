package devicemodel

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"periph.io/x/conn/v3/physic"
)

// Shape is what the standard table depends on: the station's build and
// identity. Zero fields take the defaults their comments give.
type Shape struct {
	// EVSEs is the number of EVSEs, ids 1..EVSEs, with one connector each
	// (connector id 1). Below 1 means 1.
	EVSEs int
	// Connectors overrides Phases, MaxCurrent and ConnectorType per EVSE:
	// Connectors[i] is EVSE i+1's. Zero fields of an override take the
	// station's value; EVSEs past the slice take the station's values.
	Connectors []ConnectorShape
	// Phases is the number of supply phases of the station and of each
	// EVSE: 1 or 3. 0 means 3.
	Phases int
	// MaxCurrent is the most current per phase an EVSE offers. 0 means 32 A.
	MaxCurrent physic.ElectricCurrent
	// Voltage is the nominal phase-to-neutral voltage, with which EVSE
	// power is reckoned. 0 means 230 V.
	Voltage physic.ElectricPotential
	// ConnectorType is a ConnectorEnumType value ("sType2", "cType2",
	// ...). Empty means sType2, a Type 2 socket.
	ConnectorType string
	// VendorName and Model are the station's, as in BootNotification.
	VendorName, Model string
	// Identity is the station identity, the last part of the CSMS URL.
	Identity string
	// OrganizationName is the O of certificate signing requests; empty
	// means VendorName.
	OrganizationName string
	// Measurands are the measurands the meter readings fill, the values
	// the measurand lists may take; nil means DefaultMeasurands.
	Measurands []string
	// NetworkProfileSlots is the number of network connection profile
	// slots, numbered from 1, that NetworkConfigurationPriority orders. 0
	// means 2.
	NetworkProfileSlots int
	// LocalAuthListMax, ChargingProfilesMax and CertificatesMax bound the
	// local list's entries, the installed charging profiles and the
	// installed certificates (the MaxLimit of the Entries variables). 0
	// means 1000, 16 and 16.
	LocalAuthListMax, ChargingProfilesMax, CertificatesMax int
	// Currency is the ISO 4217 code of the prices and costs the CSMS
	// sends (TariffCostCtrlr.Currency's default). Empty means "EUR".
	Currency string
}

// ConnectorShape is one EVSE's build, where it differs from the station's.
type ConnectorShape struct {
	Phases        int
	MaxCurrent    physic.ElectricCurrent
	ConnectorType string
}

// defaultMeasurands are the measurands an evsed meter reading, or a DC
// connector's status (SoC, Power.Offered, Current.Offered), carries, the
// same as the 1.6 adapter samples. Read-only.
var defaultMeasurands = []string{
	"Energy.Active.Import.Register",
	"Energy.Active.Export.Register",
	"Power.Active.Import",
	"Current.Import",
	"Voltage",
	"Frequency",
	"Power.Factor",
	"SoC",
	"Power.Offered",
	"Current.Offered",
}

// DefaultMeasurands returns the measurands an evsed meter reading (or a DC
// connector's status) carries, the values the measurand lists take when
// Shape.Measurands is nil. The slice is the caller's.
func DefaultMeasurands() []string { return slices.Clone(defaultMeasurands) }

// connectorTypes are the values of ConnectorEnumType (ReserveNow). Read-only.
var connectorTypes = []string{
	"cCCS1", "cCCS2", "cG105", "cTesla", "cType1", "cType2", "s309-1P-16A", "s309-1P-32A",
	"s309-3P-16A", "s309-3P-32A", "sBS1361", "sCEE-7-7", "sType2", "sType3", "Other1PhMax16A",
	"Other1PhOver16A", "Other3Ph", "Pan", "wInductive", "wResonant", "Undetermined", "Unknown",
}

// Attribute kinds of the table's rows. All are Actual attributes.
var (
	// rw: set by the CSMS, kept across restarts.
	rw = func(def string) AttributeDefinition {
		return AttributeDefinition{Type: Actual, Mutability: ReadWrite, Persistent: true, Default: def}
	}
	// wo: set by the CSMS, never read back, kept across restarts.
	wo = func(def string) AttributeDefinition {
		return AttributeDefinition{Type: Actual, Mutability: WriteOnly, Persistent: true, Default: def}
	}
	// fixed: the firmware's or the config file's, constant while running.
	fixed = func(def string) AttributeDefinition {
		return AttributeDefinition{Type: Actual, Mutability: ReadOnly, Persistent: true, Constant: true, Default: def}
	}
	// state: kept by the adapter with Update or Live, lost at restart
	// (the adapter sets it again).
	state = func(def string) AttributeDefinition {
		return AttributeDefinition{Type: Actual, Mutability: ReadOnly, Default: def}
	}
	// kept: kept by the adapter with Update, and stored by the model.
	kept = func(def string) AttributeDefinition {
		return AttributeDefinition{Type: Actual, Mutability: ReadOnly, Persistent: true, Default: def}
	}
)

// Characteristics of the table's rows.
func boolean() VariableCharacteristics { return VariableCharacteristics{DataType: TypeBoolean} }

func integer(lo, hi float64) VariableCharacteristics {
	return VariableCharacteristics{DataType: TypeInteger, MinLimit: limit(lo), MaxLimit: limit(hi)}
}

func seconds(lo, hi float64) VariableCharacteristics {
	ch := integer(lo, hi)
	ch.Unit = "s"
	return ch
}

func text(maxLen float64) VariableCharacteristics {
	return VariableCharacteristics{DataType: TypeString, MaxLimit: limit(maxLen)}
}

func list(dt DataType, values ...string) VariableCharacteristics {
	return VariableCharacteristics{DataType: dt, ValuesList: strings.Join(values, ",")}
}

// nonEmpty is the check of lists that must name at least one item.
func nonEmpty(v string, _ bool) error {
	if len(splitList(v)) == 0 {
		return errors.New("the list must not be empty")
	}
	return nil
}

// checkPassword applies the 2.0.1 rule for BasicAuthPassword: 16 to 40
// characters. Any printable ASCII is accepted, since it is the HTTP Basic
// password as it is; an empty value (no password) only from the config
// file.
func checkPassword(v string, loading bool) error {
	if loading && v == "" {
		return nil
	}
	if len(v) < 16 || len(v) > 40 {
		return fmt.Errorf("BasicAuthPassword must have 16 to 40 characters, has %d", len(v))
	}
	for _, r := range v {
		if r < 0x20 || r > 0x7e {
			return errors.New("BasicAuthPassword must be printable ASCII")
		}
	}
	return nil
}

// checkCurrency applies ISO 4217 to TariffCostCtrlr.Currency: three
// capital letters.
func checkCurrency(v string, _ bool) error {
	if len(v) != 3 || strings.IndexFunc(v, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return fmt.Errorf("%q is not an ISO 4217 currency code", v)
	}
	return nil
}

func checkConnectorType(v string, _ bool) error {
	if !slices.Contains(connectorTypes, v) {
		return fmt.Errorf("%q is not a ConnectorEnumType value", v)
	}
	return nil
}

// row is a Definition with one Actual attribute.
func row(c Component, name, inst string, ch VariableCharacteristics, a AttributeDefinition) Definition {
	return Definition{Component: c, Variable: Variable{Name: name, Instance: inst}, Attributes: []AttributeDefinition{a}, Characteristics: ch}
}

// checked returns d with rule check.
func checked(d Definition, check func(string, bool) error) Definition {
	d.check = check
	return d
}

// Standard returns the device model of an evsed station of shape s, in
// report order: every variable OCPP 2.0.1 Part 2 Appendices marks required
// for the controllers OCPPCommCtrlr, SecurityCtrlr, AuthCtrlr,
// AuthCacheCtrlr, LocalAuthListCtrlr, TxCtrlr, SampledDataCtrlr,
// AlignedDataCtrlr, SmartChargingCtrlr, ReservationCtrlr, DeviceDataCtrlr,
// ClockCtrlr and TariffCostCtrlr and for the ChargingStation, EVSE and Connector
// components, and the optional ones a production charger is configured
// with. The defaults are what evsed ships; the config file overrides them
// through Open's initial values. The slice is the caller's.
func Standard(s Shape) []Definition {
	s = s.withDefaults()
	comm := Component{Name: OCPPCommCtrlr}
	sec := Component{Name: SecurityCtrlr}
	auth := Component{Name: AuthCtrlr}
	cache := Component{Name: AuthCacheCtrlr}
	local := Component{Name: LocalAuthListCtrlr}
	tx := Component{Name: TxCtrlr}
	sampled := Component{Name: SampledDataCtrlr}
	aligned := Component{Name: AlignedDataCtrlr}
	smart := Component{Name: SmartChargingCtrlr}
	resv := Component{Name: ReservationCtrlr}
	data := Component{Name: DeviceDataCtrlr}
	clk := Component{Name: ClockCtrlr}
	cost := Component{Name: TariffCostCtrlr}
	cs := Component{Name: ChargingStation}

	slots := make([]string, s.NetworkProfileSlots)
	for i := range slots {
		slots[i] = strconv.Itoa(i + 1)
	}
	measurands := list(TypeMemberList, s.Measurands...)
	pct := VariableCharacteristics{DataType: TypeDecimal, Unit: "Percent", MinLimit: limit(0), MaxLimit: limit(100)}
	bytes := func(hi float64) VariableCharacteristics { ch := integer(0, hi); ch.Unit = "B"; return ch }
	availability := list(TypeOptionList, "Available", "Occupied", "Reserved", "Unavailable", "Faulted")
	// Where evsed can do only some of what the specification lists, the
	// ValuesList says what it can, so that a CSMS cannot set the rest.
	// No ParkingBayOccupancy (no bay sensor) and no DataSigned (no signed
	// meter values).
	txPoints := list(TypeMemberList, "EVConnected", "Authorized", "PowerPathClosed", "EnergyTransfer")
	const maxInt32 = math.MaxInt32

	defs := []Definition{
		row(comm, "ActiveNetworkProfile", "", integer(1, float64(len(slots))), state(slots[0])),
		// Firmware and log uploads speak HTTP and HTTPS only.
		row(comm, "FileTransferProtocols", "", list(TypeMemberList, "HTTP", "HTTPS"), fixed("HTTP,HTTPS")),
		row(comm, "HeartbeatInterval", "", seconds(0, maxInt32), rw("3600")),
		row(comm, "MessageTimeout", "Default", seconds(1, 3600), fixed("30")),
		row(comm, "MessageAttemptInterval", "TransactionEvent", seconds(0, 86400), rw("60")),
		// At least one attempt: a value of 0 would drop transaction
		// messages unsent, which evsed never does.
		row(comm, "MessageAttempts", "TransactionEvent", integer(1, 100), rw("3")),
		checked(row(comm, "NetworkConfigurationPriority", "", list(TypeSequenceList, slots...), rw(slots[0])), nonEmpty),
		row(comm, "NetworkProfileConnectionAttempts", "", integer(1, 100), rw("3")),
		row(comm, "OfflineThreshold", "", seconds(0, 86400), rw("60")),
		row(comm, "ResetRetries", "", integer(0, 100), rw("3")),
		row(comm, "RetryBackOffRandomRange", "", seconds(0, 3600), rw("10")),
		row(comm, "RetryBackOffRepeatTimes", "", integer(0, 100), rw("5")),
		row(comm, "RetryBackOffWaitMinimum", "", seconds(0, 3600), rw("5")),
		row(comm, "UnlockOnEVSideDisconnect", "", boolean(), rw("true")),
		row(comm, "WebSocketPingInterval", "", seconds(0, 86400), rw("60")),

		row(sec, "AdditionalRootCertificateCheck", "", boolean(), fixed("false")),
		checked(row(sec, "BasicAuthPassword", "", text(40), wo("")), checkPassword),
		row(sec, "CertificateEntries", "", integer(0, float64(s.CertificatesMax)), state("0")),
		row(sec, "CertSigningRepeatTimes", "", integer(0, 100), rw("3")),
		row(sec, "CertSigningWaitMinimum", "", seconds(1, 86400), rw("60")),
		row(sec, "Identity", "", text(48), fixed(s.Identity)),
		row(sec, "MaxCertificateChainSize", "", integer(1, 10000), fixed("10000")),
		row(sec, "OrganizationName", "", text(64), rw(s.OrganizationName)),
		// ReadOnly in 2.0.1: a new profile comes with SetNetworkProfile and
		// NetworkConfigurationPriority, and the adapter updates this once
		// connected with it. 0 (no security) is not a 2.0.1 profile; it
		// serves test CSMSes on a bench.
		row(sec, "SecurityProfile", "", integer(0, 3), kept("0")),

		row(auth, "AuthorizeRemoteStart", "", boolean(), rw("false")),
		row(auth, "LocalAuthorizeOffline", "", boolean(), rw("true")),
		row(auth, "LocalPreAuthorize", "", boolean(), rw("false")),
		row(auth, "OfflineTxForUnknownIdEnabled", "", boolean(), rw("false")),

		row(cache, "Available", "", boolean(), fixed("true")),
		row(cache, "Enabled", "", boolean(), rw("true")),
		row(cache, "LifeTime", "", seconds(1, 31536000), rw("604800")),
		// The cache drops the entry written longest ago.
		row(cache, "Policy", "", list(TypeOptionList, "FIFO"), fixed("FIFO")),
		row(cache, "Storage", "", bytes(1<<20), state("0")),

		row(local, "Available", "", boolean(), fixed("true")),
		row(local, "BytesPerMessage", "", integer(1, 1<<20), fixed("65536")),
		row(local, "Enabled", "", boolean(), rw("true")),
		row(local, "Entries", "", integer(0, float64(s.LocalAuthListMax)), state("0")),
		row(local, "ItemsPerMessage", "", integer(1, 10000), fixed("100")),
		row(local, "Storage", "", bytes(1<<24), state("0")),

		row(tx, "EVConnectionTimeOut", "", seconds(1, 3600), rw("60")),
		row(tx, "MaxEnergyOnInvalidId", "", VariableCharacteristics{DataType: TypeInteger, Unit: "Wh", MinLimit: limit(0), MaxLimit: limit(maxInt32)}, rw("0")),
		row(tx, "StopTxOnEVSideDisconnect", "", boolean(), rw("true")),
		row(tx, "StopTxOnInvalidId", "", boolean(), rw("true")),
		row(tx, "TxBeforeAcceptedEnabled", "", boolean(), rw("false")),
		// The transaction starts when energy can flow: EV connected,
		// authorized and the contactor closed, as the station's session
		// and the 1.6 StartTransaction do. A stray swipe or an idle plug
		// makes no empty transaction, and meterStart is the register when
		// delivery can begin (E01-E03). The stop point is where the
		// session ends: unplugged or deauthorized; PowerPathClosed would
		// end it each time the EV pauses (C->B opens the contactor).
		checked(row(tx, "TxStartPoint", "", txPoints, rw("PowerPathClosed")), nonEmpty),
		checked(row(tx, "TxStopPoint", "", txPoints, rw("EVConnected,Authorized")), nonEmpty),

		// TxEndedInterval 0: the Ended event carries the final values, not
		// a series (which would make a long session's last message large).
		row(sampled, "TxEndedInterval", "", seconds(0, 86400), rw("0")),
		row(sampled, "TxEndedMeasurands", "", measurands, rw("Energy.Active.Import.Register")),
		row(sampled, "TxStartedMeasurands", "", measurands, rw("Energy.Active.Import.Register")),
		row(sampled, "TxUpdatedInterval", "", seconds(0, 86400), rw("60")),
		row(sampled, "TxUpdatedMeasurands", "", measurands, rw("Energy.Active.Import.Register,Power.Active.Import")),

		row(aligned, "Interval", "", seconds(0, 86400), rw("900")),
		row(aligned, "Measurands", "", measurands, rw("Energy.Active.Import.Register")),
		row(aligned, "TxEndedInterval", "", seconds(0, 86400), rw("0")),
		row(aligned, "TxEndedMeasurands", "", measurands, rw("")),

		row(smart, "Available", "", boolean(), fixed("true")),
		row(smart, "Enabled", "", boolean(), rw("true")),
		row(smart, "Entries", "ChargingProfiles", integer(0, float64(s.ChargingProfilesMax)), state("0")),
		row(smart, "LimitChangeSignificance", "", pct, rw("10")),
		row(smart, "PeriodsPerSchedule", "", integer(1, 1000), fixed("24")),
		row(smart, "Phases3to1", "", boolean(), fixed("false")),
		row(smart, "ProfileStackLevel", "", integer(0, 1000), fixed("10")),
		row(smart, "RateUnit", "", list(TypeMemberList, "A", "W"), fixed("A,W")),

		row(resv, "Available", "", boolean(), fixed("true")),
		row(resv, "Enabled", "", boolean(), rw("true")),
		row(resv, "NonEvseSpecific", "", boolean(), fixed("true")),

		row(data, "BytesPerMessage", "GetReport", integer(1, 1<<20), fixed("65536")),
		row(data, "BytesPerMessage", "GetVariables", integer(1, 1<<20), fixed("65536")),
		row(data, "BytesPerMessage", "SetVariables", integer(1, 1<<20), fixed("65536")),
		row(data, "ConfigurationValueSize", "", integer(1, MaxSetValueLen), fixed(strconv.Itoa(MaxSetValueLen))),
		row(data, "ItemsPerMessage", "GetReport", integer(1, 1000), fixed("50")),
		row(data, "ItemsPerMessage", "GetVariables", integer(1, 1000), fixed("50")),
		row(data, "ItemsPerMessage", "SetVariables", integer(1, 1000), fixed("50")),
		row(data, "ReportingValueSize", "", integer(1, MaxReportValueLen), fixed(strconv.Itoa(MaxReportValueLen))),

		// DateTime is Live: the adapter reads its clock. The default only
		// shows that it has not.
		row(clk, "DateTime", "", VariableCharacteristics{DataType: TypeDateTime}, state("1970-01-01T00:00:00Z")),
		checked(row(clk, "TimeSource", "", list(TypeSequenceList, "Heartbeat", "NTP", "RealTimeClock"), rw("NTP,Heartbeat")), nonEmpty),

		// Tariff: the driver's tariff text (personalMessage of
		// Authorize and TransactionEvent answers, updatedPersonalMessage)
		// and TariffFallbackMessage reach the driver display. Cost:
		// totalCost and CostUpdated do, and TotalCostFallbackMessage. The
		// station keeps the display in its status even without a screen,
		// so both are Available on every build. The texts are at most a
		// MessageContentType's content (512 characters).
		// OfflineTariffFallbackMessage is not in the 2.0.1 appendix: it is
		// OCPP 2.1's, which the OCA's California Pricing guide for 2.0.1
		// uses too; shown instead of the tariff texts while offline.
		row(cost, "Available", "Cost", boolean(), fixed("true")),
		row(cost, "Available", "Tariff", boolean(), fixed("true")),
		checked(row(cost, "Currency", "", text(3), rw(s.Currency)), checkCurrency),
		row(cost, "Enabled", "Cost", boolean(), rw("true")),
		row(cost, "Enabled", "Tariff", boolean(), rw("true")),
		row(cost, "OfflineTariffFallbackMessage", "", text(512), rw("")),
		row(cost, "TariffFallbackMessage", "", text(512), rw("")),
		row(cost, "TotalCostFallbackMessage", "", text(512), rw("")),

		row(cs, "AvailabilityState", "", availability, state("Available")),
		row(cs, "Available", "", boolean(), fixed("true")),
		row(cs, "Model", "", text(20), fixed(s.Model)),
		row(cs, "Problem", "", boolean(), state("false")),
		row(cs, "SupplyPhases", "", integer(0, 3), fixed(strconv.Itoa(s.Phases))),
		row(cs, "VendorName", "", text(50), fixed(s.VendorName)),
	}
	for id := 1; id <= s.EVSEs; id++ {
		c := s.connector(id)
		evse := Component{Name: EVSEComponent, EVSE: &EVSE{ID: id}}
		one := 1
		conn := Component{Name: ConnectorComponent, EVSE: &EVSE{ID: id, ConnectorID: &one}}
		watts := float64(c.Phases) * float64(s.Voltage) / float64(physic.Volt) * float64(c.MaxCurrent) / float64(physic.Ampere)
		power := VariableCharacteristics{DataType: TypeDecimal, Unit: "W", MinLimit: limit(0), MaxLimit: limit(math.Round(watts))}
		defs = append(defs,
			row(evse, "AvailabilityState", "", availability, state("Available")),
			row(evse, "Available", "", boolean(), fixed("true")),
			row(evse, "Power", "", power, state("0")),
			row(evse, "Problem", "", boolean(), state("false")),
			row(evse, "SupplyPhases", "", integer(0, 3), fixed(strconv.Itoa(c.Phases))),

			row(conn, "AvailabilityState", "", availability, state("Available")),
			row(conn, "Available", "", boolean(), fixed("true")),
			checked(row(conn, "ConnectorType", "", text(20), fixed(c.ConnectorType)), checkConnectorType),
			row(conn, "Problem", "", boolean(), state("false")),
			row(conn, "SupplyPhases", "", integer(0, 3), fixed(strconv.Itoa(c.Phases))),
		)
	}
	return defs
}

// withDefaults returns s with its zero fields set to their defaults.
func (s Shape) withDefaults() Shape {
	s.EVSEs = max(s.EVSEs, 1)
	if s.Phases == 0 {
		s.Phases = 3
	}
	if s.MaxCurrent == 0 {
		s.MaxCurrent = 32 * physic.Ampere
	}
	if s.Voltage == 0 {
		s.Voltage = 230 * physic.Volt
	}
	if s.ConnectorType == "" {
		s.ConnectorType = "sType2"
	}
	if s.OrganizationName == "" {
		s.OrganizationName = s.VendorName
	}
	if s.Measurands == nil {
		s.Measurands = defaultMeasurands
	}
	if s.NetworkProfileSlots < 1 {
		s.NetworkProfileSlots = 2
	}
	if s.LocalAuthListMax < 1 {
		s.LocalAuthListMax = 1000
	}
	if s.ChargingProfilesMax < 1 {
		s.ChargingProfilesMax = 16
	}
	if s.CertificatesMax < 1 {
		s.CertificatesMax = 16
	}
	if s.Currency == "" {
		s.Currency = "EUR"
	}
	return s
}

// connector returns EVSE id's build, overrides applied.
func (s Shape) connector(id int) ConnectorShape {
	c := ConnectorShape{Phases: s.Phases, MaxCurrent: s.MaxCurrent, ConnectorType: s.ConnectorType}
	if id-1 < len(s.Connectors) {
		o := s.Connectors[id-1]
		if o.Phases != 0 {
			c.Phases = o.Phases
		}
		if o.MaxCurrent != 0 {
			c.MaxCurrent = o.MaxCurrent
		}
		if o.ConnectorType != "" {
			c.ConnectorType = o.ConnectorType
		}
	}
	return c
}
