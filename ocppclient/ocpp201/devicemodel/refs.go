package devicemodel

// Names of the components of the standard table (OCPP 2.0.1 Part 2
// Appendices, section 3).
const (
	OCPPCommCtrlr      = "OCPPCommCtrlr"
	SecurityCtrlr      = "SecurityCtrlr"
	AuthCtrlr          = "AuthCtrlr"
	AuthCacheCtrlr     = "AuthCacheCtrlr"
	LocalAuthListCtrlr = "LocalAuthListCtrlr"
	TxCtrlr            = "TxCtrlr"
	SampledDataCtrlr   = "SampledDataCtrlr"
	AlignedDataCtrlr   = "AlignedDataCtrlr"
	SmartChargingCtrlr = "SmartChargingCtrlr"
	ReservationCtrlr   = "ReservationCtrlr"
	DeviceDataCtrlr    = "DeviceDataCtrlr"
	ClockCtrlr         = "ClockCtrlr"
	TariffCostCtrlr    = "TariffCostCtrlr"
	ChargingStation    = "ChargingStation"
	EVSEComponent      = "EVSE"
	ConnectorComponent = "Connector"
)

// ctrl returns the Ref of variable name (instance inst) of a component that
// has no instance and no EVSE.
func ctrl(component, name, inst string) Ref {
	return Ref{Component: component, Variable: name, VariableInstance: inst}
}

// The variables the adapter reads or keeps, as Refs for the typed reads and
// Update. These are values: never assign to them.
var (
	ActiveNetworkProfile             = ctrl(OCPPCommCtrlr, "ActiveNetworkProfile", "")
	FileTransferProtocols            = ctrl(OCPPCommCtrlr, "FileTransferProtocols", "")
	HeartbeatInterval                = ctrl(OCPPCommCtrlr, "HeartbeatInterval", "")
	MessageTimeout                   = ctrl(OCPPCommCtrlr, "MessageTimeout", "Default")
	MessageAttemptIntervalTxEvent    = ctrl(OCPPCommCtrlr, "MessageAttemptInterval", "TransactionEvent")
	MessageAttemptsTxEvent           = ctrl(OCPPCommCtrlr, "MessageAttempts", "TransactionEvent")
	NetworkConfigurationPriority     = ctrl(OCPPCommCtrlr, "NetworkConfigurationPriority", "")
	NetworkProfileConnectionAttempts = ctrl(OCPPCommCtrlr, "NetworkProfileConnectionAttempts", "")
	OfflineThreshold                 = ctrl(OCPPCommCtrlr, "OfflineThreshold", "")
	ResetRetries                     = ctrl(OCPPCommCtrlr, "ResetRetries", "")
	RetryBackOffRandomRange          = ctrl(OCPPCommCtrlr, "RetryBackOffRandomRange", "")
	RetryBackOffRepeatTimes          = ctrl(OCPPCommCtrlr, "RetryBackOffRepeatTimes", "")
	RetryBackOffWaitMinimum          = ctrl(OCPPCommCtrlr, "RetryBackOffWaitMinimum", "")
	UnlockOnEVSideDisconnect         = ctrl(OCPPCommCtrlr, "UnlockOnEVSideDisconnect", "")
	WebSocketPingInterval            = ctrl(OCPPCommCtrlr, "WebSocketPingInterval", "")

	AdditionalRootCertificateCheck = ctrl(SecurityCtrlr, "AdditionalRootCertificateCheck", "")
	BasicAuthPassword              = ctrl(SecurityCtrlr, "BasicAuthPassword", "")
	CertificateEntries             = ctrl(SecurityCtrlr, "CertificateEntries", "")
	CertSigningRepeatTimes         = ctrl(SecurityCtrlr, "CertSigningRepeatTimes", "")
	CertSigningWaitMinimum         = ctrl(SecurityCtrlr, "CertSigningWaitMinimum", "")
	Identity                       = ctrl(SecurityCtrlr, "Identity", "")
	MaxCertificateChainSize        = ctrl(SecurityCtrlr, "MaxCertificateChainSize", "")
	OrganizationName               = ctrl(SecurityCtrlr, "OrganizationName", "")
	SecurityProfile                = ctrl(SecurityCtrlr, "SecurityProfile", "")

	AuthorizeRemoteStart         = ctrl(AuthCtrlr, "AuthorizeRemoteStart", "")
	LocalAuthorizeOffline        = ctrl(AuthCtrlr, "LocalAuthorizeOffline", "")
	LocalPreAuthorize            = ctrl(AuthCtrlr, "LocalPreAuthorize", "")
	OfflineTxForUnknownIDEnabled = ctrl(AuthCtrlr, "OfflineTxForUnknownIdEnabled", "")

	AuthCacheAvailable = ctrl(AuthCacheCtrlr, "Available", "")
	AuthCacheEnabled   = ctrl(AuthCacheCtrlr, "Enabled", "")
	AuthCacheLifeTime  = ctrl(AuthCacheCtrlr, "LifeTime", "")
	AuthCachePolicy    = ctrl(AuthCacheCtrlr, "Policy", "")
	AuthCacheStorage   = ctrl(AuthCacheCtrlr, "Storage", "")

	LocalAuthListAvailable       = ctrl(LocalAuthListCtrlr, "Available", "")
	LocalAuthListBytesPerMessage = ctrl(LocalAuthListCtrlr, "BytesPerMessage", "")
	LocalAuthListEnabled         = ctrl(LocalAuthListCtrlr, "Enabled", "")
	LocalAuthListEntries         = ctrl(LocalAuthListCtrlr, "Entries", "")
	LocalAuthListItemsPerMessage = ctrl(LocalAuthListCtrlr, "ItemsPerMessage", "")
	LocalAuthListStorage         = ctrl(LocalAuthListCtrlr, "Storage", "")

	EVConnectionTimeOut      = ctrl(TxCtrlr, "EVConnectionTimeOut", "")
	MaxEnergyOnInvalidID     = ctrl(TxCtrlr, "MaxEnergyOnInvalidId", "")
	StopTxOnEVSideDisconnect = ctrl(TxCtrlr, "StopTxOnEVSideDisconnect", "")
	StopTxOnInvalidID        = ctrl(TxCtrlr, "StopTxOnInvalidId", "")
	TxBeforeAcceptedEnabled  = ctrl(TxCtrlr, "TxBeforeAcceptedEnabled", "")
	TxStartPoint             = ctrl(TxCtrlr, "TxStartPoint", "")
	TxStopPoint              = ctrl(TxCtrlr, "TxStopPoint", "")

	SampledDataTxEndedInterval     = ctrl(SampledDataCtrlr, "TxEndedInterval", "")
	SampledDataTxEndedMeasurands   = ctrl(SampledDataCtrlr, "TxEndedMeasurands", "")
	SampledDataTxStartedMeasurands = ctrl(SampledDataCtrlr, "TxStartedMeasurands", "")
	SampledDataTxUpdatedInterval   = ctrl(SampledDataCtrlr, "TxUpdatedInterval", "")
	SampledDataTxUpdatedMeasurands = ctrl(SampledDataCtrlr, "TxUpdatedMeasurands", "")

	AlignedDataInterval          = ctrl(AlignedDataCtrlr, "Interval", "")
	AlignedDataMeasurands        = ctrl(AlignedDataCtrlr, "Measurands", "")
	AlignedDataTxEndedInterval   = ctrl(AlignedDataCtrlr, "TxEndedInterval", "")
	AlignedDataTxEndedMeasurands = ctrl(AlignedDataCtrlr, "TxEndedMeasurands", "")

	SmartChargingAvailable  = ctrl(SmartChargingCtrlr, "Available", "")
	SmartChargingEnabled    = ctrl(SmartChargingCtrlr, "Enabled", "")
	SmartChargingEntries    = ctrl(SmartChargingCtrlr, "Entries", "ChargingProfiles")
	LimitChangeSignificance = ctrl(SmartChargingCtrlr, "LimitChangeSignificance", "")
	PeriodsPerSchedule      = ctrl(SmartChargingCtrlr, "PeriodsPerSchedule", "")
	Phases3to1              = ctrl(SmartChargingCtrlr, "Phases3to1", "")
	ProfileStackLevel       = ctrl(SmartChargingCtrlr, "ProfileStackLevel", "")
	RateUnit                = ctrl(SmartChargingCtrlr, "RateUnit", "")

	ReservationAvailable       = ctrl(ReservationCtrlr, "Available", "")
	ReservationEnabled         = ctrl(ReservationCtrlr, "Enabled", "")
	ReservationNonEvseSpecific = ctrl(ReservationCtrlr, "NonEvseSpecific", "")

	BytesPerMessageGetReport    = ctrl(DeviceDataCtrlr, "BytesPerMessage", "GetReport")
	BytesPerMessageGetVariables = ctrl(DeviceDataCtrlr, "BytesPerMessage", "GetVariables")
	BytesPerMessageSetVariables = ctrl(DeviceDataCtrlr, "BytesPerMessage", "SetVariables")
	ConfigurationValueSize      = ctrl(DeviceDataCtrlr, "ConfigurationValueSize", "")
	ItemsPerMessageGetReport    = ctrl(DeviceDataCtrlr, "ItemsPerMessage", "GetReport")
	ItemsPerMessageGetVariables = ctrl(DeviceDataCtrlr, "ItemsPerMessage", "GetVariables")
	ItemsPerMessageSetVariables = ctrl(DeviceDataCtrlr, "ItemsPerMessage", "SetVariables")
	ReportingValueSize          = ctrl(DeviceDataCtrlr, "ReportingValueSize", "")

	ClockDateTime = ctrl(ClockCtrlr, "DateTime", "")
	TimeSource    = ctrl(ClockCtrlr, "TimeSource", "")

	TariffAvailable              = ctrl(TariffCostCtrlr, "Available", "Tariff")
	CostAvailable                = ctrl(TariffCostCtrlr, "Available", "Cost")
	TariffEnabled                = ctrl(TariffCostCtrlr, "Enabled", "Tariff")
	CostEnabled                  = ctrl(TariffCostCtrlr, "Enabled", "Cost")
	Currency                     = ctrl(TariffCostCtrlr, "Currency", "")
	TariffFallbackMessage        = ctrl(TariffCostCtrlr, "TariffFallbackMessage", "")
	OfflineTariffFallbackMessage = ctrl(TariffCostCtrlr, "OfflineTariffFallbackMessage", "")
	TotalCostFallbackMessage     = ctrl(TariffCostCtrlr, "TotalCostFallbackMessage", "")

	StationAvailabilityState = ctrl(ChargingStation, "AvailabilityState", "")
	StationAvailable         = ctrl(ChargingStation, "Available", "")
	StationModel             = ctrl(ChargingStation, "Model", "")
	StationProblem           = ctrl(ChargingStation, "Problem", "")
	StationSupplyPhases      = ctrl(ChargingStation, "SupplyPhases", "")
	StationVendorName        = ctrl(ChargingStation, "VendorName", "")
)

// EVSEVariable returns the Ref of variable name of EVSE evse (from 1):
// "AvailabilityState", "Available", "Power", "Problem", "SupplyPhases".
func EVSEVariable(evse int, name string) Ref {
	return Ref{Component: EVSEComponent, EVSE: evse, Variable: name}
}

// ConnectorVariable returns the Ref of variable name of connector conn
// (from 1) of EVSE evse: "AvailabilityState", "Available", "ConnectorType",
// "Problem", "SupplyPhases".
func ConnectorVariable(evse, conn int, name string) Ref {
	return Ref{Component: ConnectorComponent, EVSE: evse, Connector: conn, Variable: name}
}

// EVSEAvailabilityState is the AvailabilityState of EVSE evse, which the
// adapter keeps with Update.
func EVSEAvailabilityState(evse int) Ref { return EVSEVariable(evse, "AvailabilityState") }

// EVSEPower is the Power of EVSE evse in W: Actual is the instantaneous
// power (Live or Update), MaxLimit the most the EVSE delivers.
func EVSEPower(evse int) Ref { return EVSEVariable(evse, "Power") }

// EVSEProblem is the Problem flag of EVSE evse ("true" while faulted).
func EVSEProblem(evse int) Ref { return EVSEVariable(evse, "Problem") }

// ConnectorAvailabilityState is the AvailabilityState of connector conn of
// EVSE evse, which the adapter keeps with Update.
func ConnectorAvailabilityState(evse, conn int) Ref {
	return ConnectorVariable(evse, conn, "AvailabilityState")
}

// ConnectorProblem is the Problem flag of connector conn of EVSE evse.
func ConnectorProblem(evse, conn int) Ref { return ConnectorVariable(evse, conn, "Problem") }
