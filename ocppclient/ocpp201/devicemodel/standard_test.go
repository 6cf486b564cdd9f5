package devicemodel

import (
	"fmt"
	"strings"
	"testing"

	"periph.io/x/conn/v3/physic"
)

// specVar is a variable of a standardized component as OCPP 2.0.1 Part 2
// (Appendices section 3, and the "referenced components and variables" of
// the functional blocks) describes it: its data type, unit and, when the
// specification fixes it, its mutability.
type specVar struct {
	component, variable, instance string
	dataType                      DataType
	unit                          string
	mutability                    Mutability // "" when the specification leaves it open
}

// requiredVars are the variables the specification marks Required for the
// controllers and physical components evsed implements. EVSE and Connector
// rows stand for every EVSE and connector. Written from the specification,
// not from the table under test.
var requiredVars = []specVar{
	{"OCPPCommCtrlr", "FileTransferProtocols", "", TypeMemberList, "", ReadOnly},
	{"OCPPCommCtrlr", "MessageTimeout", "Default", TypeInteger, "s", ""},
	{"OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent", TypeInteger, "s", ReadWrite},
	{"OCPPCommCtrlr", "MessageAttempts", "TransactionEvent", TypeInteger, "", ReadWrite},
	{"OCPPCommCtrlr", "NetworkConfigurationPriority", "", TypeSequenceList, "", ReadWrite},
	{"OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "", TypeInteger, "", ReadWrite},
	{"OCPPCommCtrlr", "OfflineThreshold", "", TypeInteger, "s", ReadWrite},
	{"OCPPCommCtrlr", "ResetRetries", "", TypeInteger, "", ReadWrite},
	{"OCPPCommCtrlr", "RetryBackOffRandomRange", "", TypeInteger, "s", ReadWrite},
	{"OCPPCommCtrlr", "RetryBackOffRepeatTimes", "", TypeInteger, "", ReadWrite},
	{"OCPPCommCtrlr", "RetryBackOffWaitMinimum", "", TypeInteger, "s", ReadWrite},
	{"OCPPCommCtrlr", "UnlockOnEVSideDisconnect", "", TypeBoolean, "", ""},
	{"SecurityCtrlr", "CertificateEntries", "", TypeInteger, "", ReadOnly},
	{"SecurityCtrlr", "OrganizationName", "", TypeString, "", ReadWrite},
	{"SecurityCtrlr", "SecurityProfile", "", TypeInteger, "", ReadOnly},
	{"AuthCtrlr", "AuthorizeRemoteStart", "", TypeBoolean, "", ""},
	{"AuthCtrlr", "LocalAuthorizeOffline", "", TypeBoolean, "", ""},
	{"AuthCtrlr", "LocalPreAuthorize", "", TypeBoolean, "", ""},
	{"LocalAuthListCtrlr", "Entries", "", TypeInteger, "", ReadOnly},
	{"LocalAuthListCtrlr", "ItemsPerMessage", "", TypeInteger, "", ReadOnly},
	{"LocalAuthListCtrlr", "BytesPerMessage", "", TypeInteger, "", ReadOnly},
	{"TxCtrlr", "EVConnectionTimeOut", "", TypeInteger, "s", ReadWrite},
	{"TxCtrlr", "StopTxOnEVSideDisconnect", "", TypeBoolean, "", ""},
	{"TxCtrlr", "StopTxOnInvalidId", "", TypeBoolean, "", ""},
	{"TxCtrlr", "TxStartPoint", "", TypeMemberList, "", ""},
	{"TxCtrlr", "TxStopPoint", "", TypeMemberList, "", ""},
	{"SampledDataCtrlr", "TxEndedMeasurands", "", TypeMemberList, "", ""},
	{"SampledDataCtrlr", "TxEndedInterval", "", TypeInteger, "s", ""},
	{"SampledDataCtrlr", "TxStartedMeasurands", "", TypeMemberList, "", ""},
	{"SampledDataCtrlr", "TxUpdatedMeasurands", "", TypeMemberList, "", ""},
	{"SampledDataCtrlr", "TxUpdatedInterval", "", TypeInteger, "s", ""},
	{"AlignedDataCtrlr", "Measurands", "", TypeMemberList, "", ""},
	{"AlignedDataCtrlr", "Interval", "", TypeInteger, "s", ""},
	{"AlignedDataCtrlr", "TxEndedMeasurands", "", TypeMemberList, "", ""},
	{"AlignedDataCtrlr", "TxEndedInterval", "", TypeInteger, "s", ""},
	{"SmartChargingCtrlr", "Entries", "ChargingProfiles", TypeInteger, "", ReadOnly},
	{"SmartChargingCtrlr", "LimitChangeSignificance", "", TypeDecimal, "", ReadWrite},
	{"SmartChargingCtrlr", "PeriodsPerSchedule", "", TypeInteger, "", ReadOnly},
	{"SmartChargingCtrlr", "ProfileStackLevel", "", TypeInteger, "", ReadOnly},
	{"SmartChargingCtrlr", "RateUnit", "", TypeMemberList, "", ReadOnly},
	{"DeviceDataCtrlr", "ItemsPerMessage", "GetReport", TypeInteger, "", ReadOnly},
	{"DeviceDataCtrlr", "ItemsPerMessage", "GetVariables", TypeInteger, "", ReadOnly},
	{"DeviceDataCtrlr", "ItemsPerMessage", "SetVariables", TypeInteger, "", ReadOnly},
	{"DeviceDataCtrlr", "BytesPerMessage", "GetReport", TypeInteger, "", ReadOnly},
	{"DeviceDataCtrlr", "BytesPerMessage", "GetVariables", TypeInteger, "", ReadOnly},
	{"DeviceDataCtrlr", "BytesPerMessage", "SetVariables", TypeInteger, "", ReadOnly},
	{"ClockCtrlr", "DateTime", "", TypeDateTime, "", ReadOnly},
	{"ClockCtrlr", "TimeSource", "", TypeSequenceList, "", ""},
	{"TariffCostCtrlr", "Currency", "", TypeString, "", ""},
	{"TariffCostCtrlr", "TariffFallbackMessage", "", TypeString, "", ""},
	{"TariffCostCtrlr", "TotalCostFallbackMessage", "", TypeString, "", ""},
	{"ChargingStation", "AvailabilityState", "", TypeOptionList, "", ReadOnly},
	{"ChargingStation", "Available", "", TypeBoolean, "", ReadOnly},
	{"ChargingStation", "SupplyPhases", "", TypeInteger, "", ReadOnly},
	{"EVSE", "AvailabilityState", "", TypeOptionList, "", ReadOnly},
	{"EVSE", "Available", "", TypeBoolean, "", ReadOnly},
	{"EVSE", "Power", "", TypeDecimal, "W", ReadOnly},
	{"EVSE", "SupplyPhases", "", TypeInteger, "", ReadOnly},
	{"Connector", "AvailabilityState", "", TypeOptionList, "", ReadOnly},
	{"Connector", "Available", "", TypeBoolean, "", ReadOnly},
	{"Connector", "ConnectorType", "", TypeString, "", ReadOnly},
	{"Connector", "SupplyPhases", "", TypeInteger, "", ReadOnly},
}

// productionVars are optional variables a production charger is
// configured with, which evsed must have too.
var productionVars = []specVar{
	{"OCPPCommCtrlr", "HeartbeatInterval", "", TypeInteger, "s", ReadWrite},
	{"OCPPCommCtrlr", "WebSocketPingInterval", "", TypeInteger, "s", ReadWrite},
	{"OCPPCommCtrlr", "ActiveNetworkProfile", "", TypeInteger, "", ReadOnly},
	{"SecurityCtrlr", "BasicAuthPassword", "", TypeString, "", WriteOnly},
	{"SecurityCtrlr", "Identity", "", TypeString, "", ""},
	{"SecurityCtrlr", "MaxCertificateChainSize", "", TypeInteger, "", ReadOnly},
	{"SecurityCtrlr", "AdditionalRootCertificateCheck", "", TypeBoolean, "", ReadOnly},
	{"AuthCtrlr", "OfflineTxForUnknownIdEnabled", "", TypeBoolean, "", ""},
	{"AuthCacheCtrlr", "Enabled", "", TypeBoolean, "", ""},
	{"AuthCacheCtrlr", "LifeTime", "", TypeInteger, "s", ""},
	{"AuthCacheCtrlr", "Storage", "", TypeInteger, "B", ReadOnly},
	{"AuthCacheCtrlr", "Policy", "", TypeOptionList, "", ""},
	{"LocalAuthListCtrlr", "Enabled", "", TypeBoolean, "", ""},
	{"LocalAuthListCtrlr", "Storage", "", TypeInteger, "B", ReadOnly},
	{"TxCtrlr", "MaxEnergyOnInvalidId", "", TypeInteger, "Wh", ""},
	{"TxCtrlr", "TxBeforeAcceptedEnabled", "", TypeBoolean, "", ""},
	{"SmartChargingCtrlr", "Enabled", "", TypeBoolean, "", ""},
	{"ReservationCtrlr", "Enabled", "", TypeBoolean, "", ""},
	{"ReservationCtrlr", "NonEvseSpecific", "", TypeBoolean, "", ""},
	{"DeviceDataCtrlr", "ConfigurationValueSize", "", TypeInteger, "", ReadOnly},
	{"DeviceDataCtrlr", "ReportingValueSize", "", TypeInteger, "", ReadOnly},
	{"TariffCostCtrlr", "Available", "Tariff", TypeBoolean, "", ReadOnly},
	{"TariffCostCtrlr", "Available", "Cost", TypeBoolean, "", ReadOnly},
	{"TariffCostCtrlr", "Enabled", "Tariff", TypeBoolean, "", ""},
	{"TariffCostCtrlr", "Enabled", "Cost", TypeBoolean, "", ""},
	{"ChargingStation", "Problem", "", TypeBoolean, "", ReadOnly},
	{"ChargingStation", "VendorName", "", TypeString, "", ReadOnly},
	{"ChargingStation", "Model", "", TypeString, "", ReadOnly},
}

// refsFor returns the Refs v stands for in a station of evses EVSEs.
func (v specVar) refsFor(evses int) []Ref {
	r := Ref{Component: v.component, Variable: v.variable, VariableInstance: v.instance}
	switch v.component {
	case "EVSE", "Connector":
		var out []Ref
		for id := 1; id <= evses; id++ {
			r.EVSE = id
			if v.component == "Connector" {
				r.Connector = 1
			}
			out = append(out, r)
		}
		return out
	}
	return []Ref{r}
}

func TestStandardHasRequiredVariables(t *testing.T) {
	for _, evses := range []int{1, 3} {
		defs := map[Ref]Definition{}
		for _, d := range Standard(Shape{EVSEs: evses}) {
			defs[RefOf(d.Component, d.Variable)] = d
		}
		for _, group := range []struct {
			name string
			vars []specVar
		}{{"required", requiredVars}, {"production", productionVars}} {
			for _, v := range group.vars {
				for _, r := range v.refsFor(evses) {
					t.Run(fmt.Sprintf("%d EVSEs/%s/%s", evses, group.name, r), func(t *testing.T) {
						d, ok := defs[r]
						if !ok {
							t.Fatal("missing")
						}
						if d.Characteristics.DataType != v.dataType {
							t.Errorf("dataType %s, want %s", d.Characteristics.DataType, v.dataType)
						}
						if v.unit != "" && d.Characteristics.Unit != v.unit {
							t.Errorf("unit %q, want %q", d.Characteristics.Unit, v.unit)
						}
						if v.mutability != "" && d.Attributes[0].Mutability != v.mutability {
							t.Errorf("mutability %s, want %s", d.Attributes[0].Mutability, v.mutability)
						}
						if d.Attributes[0].Type != Actual {
							t.Errorf("first attribute %s, want Actual", d.Attributes[0].Type)
						}
					})
				}
			}
		}
		// No EVSE or connector beyond the shape.
		if _, ok := defs[EVSEPower(evses+1)]; ok {
			t.Errorf("%d EVSEs: table has EVSE %d", evses, evses+1)
		}
	}
}

func TestStandardShape(t *testing.T) {
	shape := Shape{
		EVSEs: 2, Phases: 3, MaxCurrent: 16 * physic.Ampere, VendorName: "evsed", Model: "pi-ac22", Identity: "CS-7",
		Connectors: []ConnectorShape{{}, {Phases: 1, MaxCurrent: 32 * physic.Ampere, ConnectorType: "cType2"}},
	}
	db, _ := openDB(t)
	m, err := Open(db, bucket, Standard(shape), map[Ref]string{HeartbeatInterval: "300"})
	if err != nil {
		t.Fatal(err)
	}
	maxLimit := func(r Ref) float64 {
		for _, d := range m.Definitions() {
			if RefOf(d.Component, d.Variable) == r {
				return *d.Characteristics.MaxLimit
			}
		}
		t.Fatalf("no %s", r)
		return 0
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"EVSE 1 power limit", maxLimit(EVSEPower(1)), 3 * 230 * 16.0},
		{"EVSE 2 power limit", maxLimit(EVSEPower(2)), 1 * 230 * 32.0},
		{"EVSE 2 phases", m.Int(EVSEVariable(2, "SupplyPhases")), 1},
		{"connector 1 type", m.String(ConnectorVariable(1, 1, "ConnectorType")), "sType2"},
		{"connector 2 type", m.String(ConnectorVariable(2, 1, "ConnectorType")), "cType2"},
		{"station phases", m.Int(StationSupplyPhases), 3},
		{"identity", m.String(Identity), "CS-7"},
		{"organization defaults to vendor", m.String(OrganizationName), "evsed"},
		{"initial value", m.Seconds(HeartbeatInterval).Seconds(), 300.0},
		{"TxStartPoint", m.String(TxStartPoint), "PowerPathClosed"},
		{"TxStopPoint", m.String(TxStopPoint), "EVConnected,Authorized"},
		{"NetworkConfigurationPriority", m.String(NetworkConfigurationPriority), "1"},
		{"MessageTimeout", m.Seconds(MessageTimeout).Seconds(), 30.0},
		{"SecurityProfile", m.Int(SecurityProfile), 0},
		{"Currency defaults to EUR", m.String(Currency), "EUR"},
		{"cost enabled", m.Bool(CostEnabled), true},
		{"tariff enabled", m.Bool(TariffEnabled), true},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestStandardRules(t *testing.T) {
	m := openStandard(t)
	tests := []struct {
		name string
		c, v string
		inst string
		val  string
		st   SetStatus
	}{
		{"TxStartPoint empty", TxCtrlr, "TxStartPoint", "", "", SetRejected},
		{"TxStartPoint with a point evsed lacks", TxCtrlr, "TxStartPoint", "", "ParkingBayOccupancy", SetRejected},
		{"TxStartPoint", TxCtrlr, "TxStartPoint", "", "EVConnected,Authorized", SetAccepted},
		{"password too short", SecurityCtrlr, "BasicAuthPassword", "", "short", SetRejected},
		{"password", SecurityCtrlr, "BasicAuthPassword", "", "0123456789ABCDEFabcdef", SetAccepted},
		{"security profile is read-only", SecurityCtrlr, "SecurityProfile", "", "3", SetRejected},
		{"priority of an unknown slot", OCPPCommCtrlr, "NetworkConfigurationPriority", "", "1,3", SetRejected},
		{"priority", OCPPCommCtrlr, "NetworkConfigurationPriority", "", "2,1", SetAccepted},
		{"measurand the meter lacks", SampledDataCtrlr, "TxUpdatedMeasurands", "", "Temperature", SetRejected},
		{"a DC connector's measurands", SampledDataCtrlr, "TxUpdatedMeasurands", "", "SoC,Power.Offered,Current.Offered", SetAccepted},
		{"measurands", SampledDataCtrlr, "TxUpdatedMeasurands", "", "Voltage,Current.Import", SetAccepted},
		{"no attempts", OCPPCommCtrlr, "MessageAttempts", "TransactionEvent", "0", SetRejected},
		{"time source", ClockCtrlr, "TimeSource", "", "RealTimeClock,NTP", SetAccepted},
		{"file transfer protocols are fixed", OCPPCommCtrlr, "FileTransferProtocols", "", "HTTPS", SetRejected},
		{"currency", TariffCostCtrlr, "Currency", "", "USD", SetAccepted},
		{"currency not ISO 4217", TariffCostCtrlr, "Currency", "", "usd", SetRejected},
		{"currency too long", TariffCostCtrlr, "Currency", "", "EURO", SetRejected},
		{"tariff fallback", TariffCostCtrlr, "TariffFallbackMessage", "", "0.30 EUR/kWh", SetAccepted},
		{"tariff fallback too long", TariffCostCtrlr, "TariffFallbackMessage", "", strings.Repeat("x", 513), SetRejected},
		{"cost available is fixed", TariffCostCtrlr, "Available", "Cost", "false", SetRejected},
		{"cost enabled", TariffCostCtrlr, "Enabled", "Cost", "false", SetAccepted},
	}
	for _, tc := range tests {
		st, reason := m.Set(Component{Name: tc.c}, Variable{Name: tc.v, Instance: tc.inst}, "", tc.val)
		if st != tc.st {
			t.Errorf("%s: Set = %s (%s), want %s", tc.name, st, reason, tc.st)
		}
	}
	db, _ := openDB(t)
	if _, err := Open(db, bucket, Standard(Shape{ConnectorType: "sType9"}), nil); err == nil {
		t.Error("a table with an unknown connector type opened")
	}
}
