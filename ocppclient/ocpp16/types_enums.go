package ocpp16

import "slices"

// The enumerations of OCPP 1.6. Each type has an IsValid method; the
// validator checks every enum-typed field with it, so an enum's values are
// listed once, here. Constant names are the type name followed by the value
// with punctuation dropped (MeasurandEnergyActiveImportRegister).

// ChargePointStatus is a connector's (or, for connector 0, the charge
// point's) status in StatusNotification.
type ChargePointStatus string

// ChargePointStatus values.
const (
	ChargePointStatusAvailable     ChargePointStatus = "Available"
	ChargePointStatusPreparing     ChargePointStatus = "Preparing"
	ChargePointStatusCharging      ChargePointStatus = "Charging"
	ChargePointStatusSuspendedEVSE ChargePointStatus = "SuspendedEVSE"
	ChargePointStatusSuspendedEV   ChargePointStatus = "SuspendedEV"
	ChargePointStatusFinishing     ChargePointStatus = "Finishing"
	ChargePointStatusReserved      ChargePointStatus = "Reserved"
	ChargePointStatusUnavailable   ChargePointStatus = "Unavailable"
	ChargePointStatusFaulted       ChargePointStatus = "Faulted"
)

var chargePointStatusValues = [...]ChargePointStatus{
	ChargePointStatusAvailable,
	ChargePointStatusPreparing,
	ChargePointStatusCharging,
	ChargePointStatusSuspendedEVSE,
	ChargePointStatusSuspendedEV,
	ChargePointStatusFinishing,
	ChargePointStatusReserved,
	ChargePointStatusUnavailable,
	ChargePointStatusFaulted,
}

// IsValid reports whether v is a ChargePointStatus of OCPP 1.6.
func (v ChargePointStatus) IsValid() bool { return slices.Contains(chargePointStatusValues[:], v) }

func (ChargePointStatus) enumValues() []string { return enumStrings(chargePointStatusValues[:]) }

// ChargePointErrorCode is the error code of a StatusNotification; NoError
// when there is none.
type ChargePointErrorCode string

// ChargePointErrorCode values.
const (
	ChargePointErrorCodeConnectorLockFailure ChargePointErrorCode = "ConnectorLockFailure"
	ChargePointErrorCodeEVCommunicationError ChargePointErrorCode = "EVCommunicationError"
	ChargePointErrorCodeGroundFailure        ChargePointErrorCode = "GroundFailure"
	ChargePointErrorCodeHighTemperature      ChargePointErrorCode = "HighTemperature"
	ChargePointErrorCodeInternalError        ChargePointErrorCode = "InternalError"
	ChargePointErrorCodeLocalListConflict    ChargePointErrorCode = "LocalListConflict"
	ChargePointErrorCodeNoError              ChargePointErrorCode = "NoError"
	ChargePointErrorCodeOtherError           ChargePointErrorCode = "OtherError"
	ChargePointErrorCodeOverCurrentFailure   ChargePointErrorCode = "OverCurrentFailure"
	ChargePointErrorCodePowerMeterFailure    ChargePointErrorCode = "PowerMeterFailure"
	ChargePointErrorCodePowerSwitchFailure   ChargePointErrorCode = "PowerSwitchFailure"
	ChargePointErrorCodeReaderFailure        ChargePointErrorCode = "ReaderFailure"
	ChargePointErrorCodeResetFailure         ChargePointErrorCode = "ResetFailure"
	ChargePointErrorCodeUnderVoltage         ChargePointErrorCode = "UnderVoltage"
	ChargePointErrorCodeOverVoltage          ChargePointErrorCode = "OverVoltage"
	ChargePointErrorCodeWeakSignal           ChargePointErrorCode = "WeakSignal"
)

var chargePointErrorCodeValues = [...]ChargePointErrorCode{
	ChargePointErrorCodeConnectorLockFailure,
	ChargePointErrorCodeEVCommunicationError,
	ChargePointErrorCodeGroundFailure,
	ChargePointErrorCodeHighTemperature,
	ChargePointErrorCodeInternalError,
	ChargePointErrorCodeLocalListConflict,
	ChargePointErrorCodeNoError,
	ChargePointErrorCodeOtherError,
	ChargePointErrorCodeOverCurrentFailure,
	ChargePointErrorCodePowerMeterFailure,
	ChargePointErrorCodePowerSwitchFailure,
	ChargePointErrorCodeReaderFailure,
	ChargePointErrorCodeResetFailure,
	ChargePointErrorCodeUnderVoltage,
	ChargePointErrorCodeOverVoltage,
	ChargePointErrorCodeWeakSignal,
}

// IsValid reports whether v is a ChargePointErrorCode of OCPP 1.6.
func (v ChargePointErrorCode) IsValid() bool {
	return slices.Contains(chargePointErrorCodeValues[:], v)
}

func (ChargePointErrorCode) enumValues() []string { return enumStrings(chargePointErrorCodeValues[:]) }

// Reason is why a transaction was stopped (StopTransaction).
type Reason string

// Reason values.
const (
	ReasonEmergencyStop  Reason = "EmergencyStop"
	ReasonEVDisconnected Reason = "EVDisconnected"
	ReasonHardReset      Reason = "HardReset"
	ReasonLocal          Reason = "Local"
	ReasonOther          Reason = "Other"
	ReasonPowerLoss      Reason = "PowerLoss"
	ReasonReboot         Reason = "Reboot"
	ReasonRemote         Reason = "Remote"
	ReasonSoftReset      Reason = "SoftReset"
	ReasonUnlockCommand  Reason = "UnlockCommand"
	ReasonDeAuthorized   Reason = "DeAuthorized"
)

var reasonValues = [...]Reason{
	ReasonEmergencyStop,
	ReasonEVDisconnected,
	ReasonHardReset,
	ReasonLocal,
	ReasonOther,
	ReasonPowerLoss,
	ReasonReboot,
	ReasonRemote,
	ReasonSoftReset,
	ReasonUnlockCommand,
	ReasonDeAuthorized,
}

// IsValid reports whether v is a Reason of OCPP 1.6.
func (v Reason) IsValid() bool { return slices.Contains(reasonValues[:], v) }

func (Reason) enumValues() []string { return enumStrings(reasonValues[:]) }

// AuthorizationStatus is the CSMS's verdict on an id tag (IdTagInfo).
type AuthorizationStatus string

// AuthorizationStatus values.
const (
	AuthorizationStatusAccepted     AuthorizationStatus = "Accepted"
	AuthorizationStatusBlocked      AuthorizationStatus = "Blocked"
	AuthorizationStatusExpired      AuthorizationStatus = "Expired"
	AuthorizationStatusInvalid      AuthorizationStatus = "Invalid"
	AuthorizationStatusConcurrentTx AuthorizationStatus = "ConcurrentTx"
)

var authorizationStatusValues = [...]AuthorizationStatus{
	AuthorizationStatusAccepted,
	AuthorizationStatusBlocked,
	AuthorizationStatusExpired,
	AuthorizationStatusInvalid,
	AuthorizationStatusConcurrentTx,
}

// IsValid reports whether v is a AuthorizationStatus of OCPP 1.6.
func (v AuthorizationStatus) IsValid() bool { return slices.Contains(authorizationStatusValues[:], v) }

func (AuthorizationStatus) enumValues() []string { return enumStrings(authorizationStatusValues[:]) }

// RegistrationStatus is the answer to a BootNotification.
type RegistrationStatus string

// RegistrationStatus values.
const (
	RegistrationStatusAccepted RegistrationStatus = "Accepted"
	RegistrationStatusPending  RegistrationStatus = "Pending"
	RegistrationStatusRejected RegistrationStatus = "Rejected"
)

var registrationStatusValues = [...]RegistrationStatus{
	RegistrationStatusAccepted,
	RegistrationStatusPending,
	RegistrationStatusRejected,
}

// IsValid reports whether v is a RegistrationStatus of OCPP 1.6.
func (v RegistrationStatus) IsValid() bool { return slices.Contains(registrationStatusValues[:], v) }

func (RegistrationStatus) enumValues() []string { return enumStrings(registrationStatusValues[:]) }

// AvailabilityType is the availability a ChangeAvailability asks for.
type AvailabilityType string

// AvailabilityType values.
const (
	AvailabilityTypeInoperative AvailabilityType = "Inoperative"
	AvailabilityTypeOperative   AvailabilityType = "Operative"
)

var availabilityTypeValues = [...]AvailabilityType{
	AvailabilityTypeInoperative,
	AvailabilityTypeOperative,
}

// IsValid reports whether v is a AvailabilityType of OCPP 1.6.
func (v AvailabilityType) IsValid() bool { return slices.Contains(availabilityTypeValues[:], v) }

func (AvailabilityType) enumValues() []string { return enumStrings(availabilityTypeValues[:]) }

// AvailabilityStatus is the answer to a ChangeAvailability.
type AvailabilityStatus string

// AvailabilityStatus values.
const (
	AvailabilityStatusAccepted  AvailabilityStatus = "Accepted"
	AvailabilityStatusRejected  AvailabilityStatus = "Rejected"
	AvailabilityStatusScheduled AvailabilityStatus = "Scheduled"
)

var availabilityStatusValues = [...]AvailabilityStatus{
	AvailabilityStatusAccepted,
	AvailabilityStatusRejected,
	AvailabilityStatusScheduled,
}

// IsValid reports whether v is a AvailabilityStatus of OCPP 1.6.
func (v AvailabilityStatus) IsValid() bool { return slices.Contains(availabilityStatusValues[:], v) }

func (AvailabilityStatus) enumValues() []string { return enumStrings(availabilityStatusValues[:]) }

// ConfigurationStatus is the answer to a ChangeConfiguration.
type ConfigurationStatus string

// ConfigurationStatus values.
const (
	ConfigurationStatusAccepted       ConfigurationStatus = "Accepted"
	ConfigurationStatusRejected       ConfigurationStatus = "Rejected"
	ConfigurationStatusRebootRequired ConfigurationStatus = "RebootRequired"
	ConfigurationStatusNotSupported   ConfigurationStatus = "NotSupported"
)

var configurationStatusValues = [...]ConfigurationStatus{
	ConfigurationStatusAccepted,
	ConfigurationStatusRejected,
	ConfigurationStatusRebootRequired,
	ConfigurationStatusNotSupported,
}

// IsValid reports whether v is a ConfigurationStatus of OCPP 1.6.
func (v ConfigurationStatus) IsValid() bool { return slices.Contains(configurationStatusValues[:], v) }

func (ConfigurationStatus) enumValues() []string { return enumStrings(configurationStatusValues[:]) }

// ResetType is the kind of reset a Reset asks for.
type ResetType string

// ResetType values.
const (
	ResetTypeHard ResetType = "Hard"
	ResetTypeSoft ResetType = "Soft"
)

var resetTypeValues = [...]ResetType{
	ResetTypeHard,
	ResetTypeSoft,
}

// IsValid reports whether v is a ResetType of OCPP 1.6.
func (v ResetType) IsValid() bool { return slices.Contains(resetTypeValues[:], v) }

func (ResetType) enumValues() []string { return enumStrings(resetTypeValues[:]) }

// ResetStatus is the answer to a Reset.
type ResetStatus string

// ResetStatus values.
const (
	ResetStatusAccepted ResetStatus = "Accepted"
	ResetStatusRejected ResetStatus = "Rejected"
)

var resetStatusValues = [...]ResetStatus{
	ResetStatusAccepted,
	ResetStatusRejected,
}

// IsValid reports whether v is a ResetStatus of OCPP 1.6.
func (v ResetStatus) IsValid() bool { return slices.Contains(resetStatusValues[:], v) }

func (ResetStatus) enumValues() []string { return enumStrings(resetStatusValues[:]) }

// RemoteStartStopStatus is the answer to a RemoteStartTransaction or
// RemoteStopTransaction.
type RemoteStartStopStatus string

// RemoteStartStopStatus values.
const (
	RemoteStartStopStatusAccepted RemoteStartStopStatus = "Accepted"
	RemoteStartStopStatusRejected RemoteStartStopStatus = "Rejected"
)

var remoteStartStopStatusValues = [...]RemoteStartStopStatus{
	RemoteStartStopStatusAccepted,
	RemoteStartStopStatusRejected,
}

// IsValid reports whether v is a RemoteStartStopStatus of OCPP 1.6.
func (v RemoteStartStopStatus) IsValid() bool {
	return slices.Contains(remoteStartStopStatusValues[:], v)
}

func (RemoteStartStopStatus) enumValues() []string {
	return enumStrings(remoteStartStopStatusValues[:])
}

// UnlockStatus is the answer to an UnlockConnector.
type UnlockStatus string

// UnlockStatus values.
const (
	UnlockStatusUnlocked     UnlockStatus = "Unlocked"
	UnlockStatusUnlockFailed UnlockStatus = "UnlockFailed"
	UnlockStatusNotSupported UnlockStatus = "NotSupported"
)

var unlockStatusValues = [...]UnlockStatus{
	UnlockStatusUnlocked,
	UnlockStatusUnlockFailed,
	UnlockStatusNotSupported,
}

// IsValid reports whether v is a UnlockStatus of OCPP 1.6.
func (v UnlockStatus) IsValid() bool { return slices.Contains(unlockStatusValues[:], v) }

func (UnlockStatus) enumValues() []string { return enumStrings(unlockStatusValues[:]) }

// ClearCacheStatus is the answer to a ClearCache.
type ClearCacheStatus string

// ClearCacheStatus values.
const (
	ClearCacheStatusAccepted ClearCacheStatus = "Accepted"
	ClearCacheStatusRejected ClearCacheStatus = "Rejected"
)

var clearCacheStatusValues = [...]ClearCacheStatus{
	ClearCacheStatusAccepted,
	ClearCacheStatusRejected,
}

// IsValid reports whether v is a ClearCacheStatus of OCPP 1.6.
func (v ClearCacheStatus) IsValid() bool { return slices.Contains(clearCacheStatusValues[:], v) }

func (ClearCacheStatus) enumValues() []string { return enumStrings(clearCacheStatusValues[:]) }

// DataTransferStatus is the answer to a DataTransfer.
type DataTransferStatus string

// DataTransferStatus values.
const (
	DataTransferStatusAccepted         DataTransferStatus = "Accepted"
	DataTransferStatusRejected         DataTransferStatus = "Rejected"
	DataTransferStatusUnknownMessageId DataTransferStatus = "UnknownMessageId"
	DataTransferStatusUnknownVendorId  DataTransferStatus = "UnknownVendorId"
)

var dataTransferStatusValues = [...]DataTransferStatus{
	DataTransferStatusAccepted,
	DataTransferStatusRejected,
	DataTransferStatusUnknownMessageId,
	DataTransferStatusUnknownVendorId,
}

// IsValid reports whether v is a DataTransferStatus of OCPP 1.6.
func (v DataTransferStatus) IsValid() bool { return slices.Contains(dataTransferStatusValues[:], v) }

func (DataTransferStatus) enumValues() []string { return enumStrings(dataTransferStatusValues[:]) }

// ReadingContext is why a sampled value was taken.
type ReadingContext string

// ReadingContext values.
const (
	ReadingContextInterruptionBegin ReadingContext = "Interruption.Begin"
	ReadingContextInterruptionEnd   ReadingContext = "Interruption.End"
	ReadingContextSampleClock       ReadingContext = "Sample.Clock"
	ReadingContextSamplePeriodic    ReadingContext = "Sample.Periodic"
	ReadingContextTransactionBegin  ReadingContext = "Transaction.Begin"
	ReadingContextTransactionEnd    ReadingContext = "Transaction.End"
	ReadingContextTrigger           ReadingContext = "Trigger"
	ReadingContextOther             ReadingContext = "Other"
)

var readingContextValues = [...]ReadingContext{
	ReadingContextInterruptionBegin,
	ReadingContextInterruptionEnd,
	ReadingContextSampleClock,
	ReadingContextSamplePeriodic,
	ReadingContextTransactionBegin,
	ReadingContextTransactionEnd,
	ReadingContextTrigger,
	ReadingContextOther,
}

// IsValid reports whether v is a ReadingContext of OCPP 1.6.
func (v ReadingContext) IsValid() bool { return slices.Contains(readingContextValues[:], v) }

func (ReadingContext) enumValues() []string { return enumStrings(readingContextValues[:]) }

// ValueFormat is how a sampled value is encoded: Raw (a decimal number) or
// SignedData.
type ValueFormat string

// ValueFormat values.
const (
	ValueFormatRaw        ValueFormat = "Raw"
	ValueFormatSignedData ValueFormat = "SignedData"
)

var valueFormatValues = [...]ValueFormat{
	ValueFormatRaw,
	ValueFormatSignedData,
}

// IsValid reports whether v is a ValueFormat of OCPP 1.6.
func (v ValueFormat) IsValid() bool { return slices.Contains(valueFormatValues[:], v) }

func (ValueFormat) enumValues() []string { return enumStrings(valueFormatValues[:]) }

// Measurand is what a sampled value measures; also the items of the
// MeterValues*Data and StopTxn*Data configuration keys.
type Measurand string

// Measurand values.
const (
	MeasurandEnergyActiveExportRegister   Measurand = "Energy.Active.Export.Register"
	MeasurandEnergyActiveImportRegister   Measurand = "Energy.Active.Import.Register"
	MeasurandEnergyReactiveExportRegister Measurand = "Energy.Reactive.Export.Register"
	MeasurandEnergyReactiveImportRegister Measurand = "Energy.Reactive.Import.Register"
	MeasurandEnergyActiveExportInterval   Measurand = "Energy.Active.Export.Interval"
	MeasurandEnergyActiveImportInterval   Measurand = "Energy.Active.Import.Interval"
	MeasurandEnergyReactiveExportInterval Measurand = "Energy.Reactive.Export.Interval"
	MeasurandEnergyReactiveImportInterval Measurand = "Energy.Reactive.Import.Interval"
	MeasurandPowerActiveExport            Measurand = "Power.Active.Export"
	MeasurandPowerActiveImport            Measurand = "Power.Active.Import"
	MeasurandPowerOffered                 Measurand = "Power.Offered"
	MeasurandPowerReactiveExport          Measurand = "Power.Reactive.Export"
	MeasurandPowerReactiveImport          Measurand = "Power.Reactive.Import"
	MeasurandPowerFactor                  Measurand = "Power.Factor"
	MeasurandCurrentImport                Measurand = "Current.Import"
	MeasurandCurrentExport                Measurand = "Current.Export"
	MeasurandCurrentOffered               Measurand = "Current.Offered"
	MeasurandVoltage                      Measurand = "Voltage"
	MeasurandFrequency                    Measurand = "Frequency"
	MeasurandTemperature                  Measurand = "Temperature"
	MeasurandSoC                          Measurand = "SoC"
	MeasurandRPM                          Measurand = "RPM"
)

var measurandValues = [...]Measurand{
	MeasurandEnergyActiveExportRegister,
	MeasurandEnergyActiveImportRegister,
	MeasurandEnergyReactiveExportRegister,
	MeasurandEnergyReactiveImportRegister,
	MeasurandEnergyActiveExportInterval,
	MeasurandEnergyActiveImportInterval,
	MeasurandEnergyReactiveExportInterval,
	MeasurandEnergyReactiveImportInterval,
	MeasurandPowerActiveExport,
	MeasurandPowerActiveImport,
	MeasurandPowerOffered,
	MeasurandPowerReactiveExport,
	MeasurandPowerReactiveImport,
	MeasurandPowerFactor,
	MeasurandCurrentImport,
	MeasurandCurrentExport,
	MeasurandCurrentOffered,
	MeasurandVoltage,
	MeasurandFrequency,
	MeasurandTemperature,
	MeasurandSoC,
	MeasurandRPM,
}

// IsValid reports whether v is a Measurand of OCPP 1.6.
func (v Measurand) IsValid() bool { return slices.Contains(measurandValues[:], v) }

func (Measurand) enumValues() []string { return enumStrings(measurandValues[:]) }

// Phase is the phase (or phases, for line-to-line values) a sampled value
// applies to.
type Phase string

// Phase values.
const (
	PhaseL1   Phase = "L1"
	PhaseL2   Phase = "L2"
	PhaseL3   Phase = "L3"
	PhaseN    Phase = "N"
	PhaseL1N  Phase = "L1-N"
	PhaseL2N  Phase = "L2-N"
	PhaseL3N  Phase = "L3-N"
	PhaseL1L2 Phase = "L1-L2"
	PhaseL2L3 Phase = "L2-L3"
	PhaseL3L1 Phase = "L3-L1"
)

var phaseValues = [...]Phase{
	PhaseL1,
	PhaseL2,
	PhaseL3,
	PhaseN,
	PhaseL1N,
	PhaseL2N,
	PhaseL3N,
	PhaseL1L2,
	PhaseL2L3,
	PhaseL3L1,
}

// IsValid reports whether v is a Phase of OCPP 1.6.
func (v Phase) IsValid() bool { return slices.Contains(phaseValues[:], v) }

func (Phase) enumValues() []string { return enumStrings(phaseValues[:]) }

// Location is where a sampled value was measured.
type Location string

// Location values.
const (
	LocationCable  Location = "Cable"
	LocationEV     Location = "EV"
	LocationInlet  Location = "Inlet"
	LocationOutlet Location = "Outlet"
	LocationBody   Location = "Body"
)

var locationValues = [...]Location{
	LocationCable,
	LocationEV,
	LocationInlet,
	LocationOutlet,
	LocationBody,
}

// IsValid reports whether v is a Location of OCPP 1.6.
func (v Location) IsValid() bool { return slices.Contains(locationValues[:], v) }

func (Location) enumValues() []string { return enumStrings(locationValues[:]) }

// UnitOfMeasure is the unit of a sampled value. Both Celcius (the 1.6
// spelling) and Celsius (added by the errata) are valid.
type UnitOfMeasure string

// UnitOfMeasure values.
const (
	UnitOfMeasureWh         UnitOfMeasure = "Wh"
	UnitOfMeasureKWh        UnitOfMeasure = "kWh"
	UnitOfMeasureVarh       UnitOfMeasure = "varh"
	UnitOfMeasureKvarh      UnitOfMeasure = "kvarh"
	UnitOfMeasureW          UnitOfMeasure = "W"
	UnitOfMeasureKW         UnitOfMeasure = "kW"
	UnitOfMeasureVA         UnitOfMeasure = "VA"
	UnitOfMeasureKVA        UnitOfMeasure = "kVA"
	UnitOfMeasureVar        UnitOfMeasure = "var"
	UnitOfMeasureKvar       UnitOfMeasure = "kvar"
	UnitOfMeasureA          UnitOfMeasure = "A"
	UnitOfMeasureV          UnitOfMeasure = "V"
	UnitOfMeasureK          UnitOfMeasure = "K"
	UnitOfMeasureCelcius    UnitOfMeasure = "Celcius"
	UnitOfMeasureCelsius    UnitOfMeasure = "Celsius"
	UnitOfMeasureFahrenheit UnitOfMeasure = "Fahrenheit"
	UnitOfMeasurePercent    UnitOfMeasure = "Percent"
)

var unitOfMeasureValues = [...]UnitOfMeasure{
	UnitOfMeasureWh,
	UnitOfMeasureKWh,
	UnitOfMeasureVarh,
	UnitOfMeasureKvarh,
	UnitOfMeasureW,
	UnitOfMeasureKW,
	UnitOfMeasureVA,
	UnitOfMeasureKVA,
	UnitOfMeasureVar,
	UnitOfMeasureKvar,
	UnitOfMeasureA,
	UnitOfMeasureV,
	UnitOfMeasureK,
	UnitOfMeasureCelcius,
	UnitOfMeasureCelsius,
	UnitOfMeasureFahrenheit,
	UnitOfMeasurePercent,
}

// IsValid reports whether v is a UnitOfMeasure of OCPP 1.6.
func (v UnitOfMeasure) IsValid() bool { return slices.Contains(unitOfMeasureValues[:], v) }

func (UnitOfMeasure) enumValues() []string { return enumStrings(unitOfMeasureValues[:]) }

// ChargingProfilePurpose is what a charging profile is for.
type ChargingProfilePurpose string

// ChargingProfilePurpose values.
const (
	ChargingProfilePurposeChargePointMaxProfile ChargingProfilePurpose = "ChargePointMaxProfile"
	ChargingProfilePurposeTxDefaultProfile      ChargingProfilePurpose = "TxDefaultProfile"
	ChargingProfilePurposeTxProfile             ChargingProfilePurpose = "TxProfile"
)

var chargingProfilePurposeValues = [...]ChargingProfilePurpose{
	ChargingProfilePurposeChargePointMaxProfile,
	ChargingProfilePurposeTxDefaultProfile,
	ChargingProfilePurposeTxProfile,
}

// IsValid reports whether v is a ChargingProfilePurpose of OCPP 1.6.
func (v ChargingProfilePurpose) IsValid() bool {
	return slices.Contains(chargingProfilePurposeValues[:], v)
}

func (ChargingProfilePurpose) enumValues() []string {
	return enumStrings(chargingProfilePurposeValues[:])
}

// ChargingProfileKind is how a charging profile's schedule is anchored in time.
type ChargingProfileKind string

// ChargingProfileKind values.
const (
	ChargingProfileKindAbsolute  ChargingProfileKind = "Absolute"
	ChargingProfileKindRecurring ChargingProfileKind = "Recurring"
	ChargingProfileKindRelative  ChargingProfileKind = "Relative"
)

var chargingProfileKindValues = [...]ChargingProfileKind{
	ChargingProfileKindAbsolute,
	ChargingProfileKindRecurring,
	ChargingProfileKindRelative,
}

// IsValid reports whether v is a ChargingProfileKind of OCPP 1.6.
func (v ChargingProfileKind) IsValid() bool { return slices.Contains(chargingProfileKindValues[:], v) }

func (ChargingProfileKind) enumValues() []string { return enumStrings(chargingProfileKindValues[:]) }

// RecurrencyKind is the period of a Recurring charging profile.
type RecurrencyKind string

// RecurrencyKind values.
const (
	RecurrencyKindDaily  RecurrencyKind = "Daily"
	RecurrencyKindWeekly RecurrencyKind = "Weekly"
)

var recurrencyKindValues = [...]RecurrencyKind{
	RecurrencyKindDaily,
	RecurrencyKindWeekly,
}

// IsValid reports whether v is a RecurrencyKind of OCPP 1.6.
func (v RecurrencyKind) IsValid() bool { return slices.Contains(recurrencyKindValues[:], v) }

func (RecurrencyKind) enumValues() []string { return enumStrings(recurrencyKindValues[:]) }

// ChargingRateUnit is the unit of a charging schedule's limits: A (amperes
// per phase) or W (watts).
type ChargingRateUnit string

// ChargingRateUnit values.
const (
	ChargingRateUnitA ChargingRateUnit = "A"
	ChargingRateUnitW ChargingRateUnit = "W"
)

var chargingRateUnitValues = [...]ChargingRateUnit{
	ChargingRateUnitA,
	ChargingRateUnitW,
}

// IsValid reports whether v is a ChargingRateUnit of OCPP 1.6.
func (v ChargingRateUnit) IsValid() bool { return slices.Contains(chargingRateUnitValues[:], v) }

func (ChargingRateUnit) enumValues() []string { return enumStrings(chargingRateUnitValues[:]) }

// ChargingProfileStatus is the answer to a SetChargingProfile.
type ChargingProfileStatus string

// ChargingProfileStatus values.
const (
	ChargingProfileStatusAccepted     ChargingProfileStatus = "Accepted"
	ChargingProfileStatusRejected     ChargingProfileStatus = "Rejected"
	ChargingProfileStatusNotSupported ChargingProfileStatus = "NotSupported"
)

var chargingProfileStatusValues = [...]ChargingProfileStatus{
	ChargingProfileStatusAccepted,
	ChargingProfileStatusRejected,
	ChargingProfileStatusNotSupported,
}

// IsValid reports whether v is a ChargingProfileStatus of OCPP 1.6.
func (v ChargingProfileStatus) IsValid() bool {
	return slices.Contains(chargingProfileStatusValues[:], v)
}

func (ChargingProfileStatus) enumValues() []string {
	return enumStrings(chargingProfileStatusValues[:])
}

// ClearChargingProfileStatus is the answer to a ClearChargingProfile;
// Unknown when no profile matched.
type ClearChargingProfileStatus string

// ClearChargingProfileStatus values.
const (
	ClearChargingProfileStatusAccepted ClearChargingProfileStatus = "Accepted"
	ClearChargingProfileStatusUnknown  ClearChargingProfileStatus = "Unknown"
)

var clearChargingProfileStatusValues = [...]ClearChargingProfileStatus{
	ClearChargingProfileStatusAccepted,
	ClearChargingProfileStatusUnknown,
}

// IsValid reports whether v is a ClearChargingProfileStatus of OCPP 1.6.
func (v ClearChargingProfileStatus) IsValid() bool {
	return slices.Contains(clearChargingProfileStatusValues[:], v)
}

func (ClearChargingProfileStatus) enumValues() []string {
	return enumStrings(clearChargingProfileStatusValues[:])
}

// GetCompositeScheduleStatus is the answer to a GetCompositeSchedule.
type GetCompositeScheduleStatus string

// GetCompositeScheduleStatus values.
const (
	GetCompositeScheduleStatusAccepted GetCompositeScheduleStatus = "Accepted"
	GetCompositeScheduleStatusRejected GetCompositeScheduleStatus = "Rejected"
)

var getCompositeScheduleStatusValues = [...]GetCompositeScheduleStatus{
	GetCompositeScheduleStatusAccepted,
	GetCompositeScheduleStatusRejected,
}

// IsValid reports whether v is a GetCompositeScheduleStatus of OCPP 1.6.
func (v GetCompositeScheduleStatus) IsValid() bool {
	return slices.Contains(getCompositeScheduleStatusValues[:], v)
}

func (GetCompositeScheduleStatus) enumValues() []string {
	return enumStrings(getCompositeScheduleStatusValues[:])
}

// UpdateType says whether a SendLocalList replaces the local authorization
// list (Full) or changes it (Differential).
type UpdateType string

// UpdateType values.
const (
	UpdateTypeDifferential UpdateType = "Differential"
	UpdateTypeFull         UpdateType = "Full"
)

var updateTypeValues = [...]UpdateType{
	UpdateTypeDifferential,
	UpdateTypeFull,
}

// IsValid reports whether v is an UpdateType of OCPP 1.6.
func (v UpdateType) IsValid() bool { return slices.Contains(updateTypeValues[:], v) }

func (UpdateType) enumValues() []string { return enumStrings(updateTypeValues[:]) }

// UpdateStatus is the answer to a SendLocalList.
type UpdateStatus string

// UpdateStatus values.
const (
	UpdateStatusAccepted        UpdateStatus = "Accepted"
	UpdateStatusFailed          UpdateStatus = "Failed"
	UpdateStatusNotSupported    UpdateStatus = "NotSupported"
	UpdateStatusVersionMismatch UpdateStatus = "VersionMismatch"
)

var updateStatusValues = [...]UpdateStatus{
	UpdateStatusAccepted,
	UpdateStatusFailed,
	UpdateStatusNotSupported,
	UpdateStatusVersionMismatch,
}

// IsValid reports whether v is an UpdateStatus of OCPP 1.6.
func (v UpdateStatus) IsValid() bool { return slices.Contains(updateStatusValues[:], v) }

func (UpdateStatus) enumValues() []string { return enumStrings(updateStatusValues[:]) }

// ReservationStatus is the answer to a ReserveNow.
type ReservationStatus string

// ReservationStatus values.
const (
	ReservationStatusAccepted    ReservationStatus = "Accepted"
	ReservationStatusFaulted     ReservationStatus = "Faulted"
	ReservationStatusOccupied    ReservationStatus = "Occupied"
	ReservationStatusRejected    ReservationStatus = "Rejected"
	ReservationStatusUnavailable ReservationStatus = "Unavailable"
)

var reservationStatusValues = [...]ReservationStatus{
	ReservationStatusAccepted,
	ReservationStatusFaulted,
	ReservationStatusOccupied,
	ReservationStatusRejected,
	ReservationStatusUnavailable,
}

// IsValid reports whether v is a ReservationStatus of OCPP 1.6.
func (v ReservationStatus) IsValid() bool { return slices.Contains(reservationStatusValues[:], v) }

func (ReservationStatus) enumValues() []string { return enumStrings(reservationStatusValues[:]) }

// CancelReservationStatus is the answer to a CancelReservation.
type CancelReservationStatus string

// CancelReservationStatus values.
const (
	CancelReservationStatusAccepted CancelReservationStatus = "Accepted"
	CancelReservationStatusRejected CancelReservationStatus = "Rejected"
)

var cancelReservationStatusValues = [...]CancelReservationStatus{
	CancelReservationStatusAccepted,
	CancelReservationStatusRejected,
}

// IsValid reports whether v is a CancelReservationStatus of OCPP 1.6.
func (v CancelReservationStatus) IsValid() bool {
	return slices.Contains(cancelReservationStatusValues[:], v)
}

func (CancelReservationStatus) enumValues() []string {
	return enumStrings(cancelReservationStatusValues[:])
}

// MessageTrigger is the message a TriggerMessage asks the charge point to
// send.
type MessageTrigger string

// MessageTrigger values.
const (
	MessageTriggerBootNotification              MessageTrigger = "BootNotification"
	MessageTriggerDiagnosticsStatusNotification MessageTrigger = "DiagnosticsStatusNotification"
	MessageTriggerFirmwareStatusNotification    MessageTrigger = "FirmwareStatusNotification"
	MessageTriggerHeartbeat                     MessageTrigger = "Heartbeat"
	MessageTriggerMeterValues                   MessageTrigger = "MeterValues"
	MessageTriggerStatusNotification            MessageTrigger = "StatusNotification"
)

var messageTriggerValues = [...]MessageTrigger{
	MessageTriggerBootNotification,
	MessageTriggerDiagnosticsStatusNotification,
	MessageTriggerFirmwareStatusNotification,
	MessageTriggerHeartbeat,
	MessageTriggerMeterValues,
	MessageTriggerStatusNotification,
}

// IsValid reports whether v is a MessageTrigger of OCPP 1.6.
func (v MessageTrigger) IsValid() bool { return slices.Contains(messageTriggerValues[:], v) }

func (MessageTrigger) enumValues() []string { return enumStrings(messageTriggerValues[:]) }

// TriggerMessageStatus is the answer to a TriggerMessage.
type TriggerMessageStatus string

// TriggerMessageStatus values.
const (
	TriggerMessageStatusAccepted       TriggerMessageStatus = "Accepted"
	TriggerMessageStatusRejected       TriggerMessageStatus = "Rejected"
	TriggerMessageStatusNotImplemented TriggerMessageStatus = "NotImplemented"
)

var triggerMessageStatusValues = [...]TriggerMessageStatus{
	TriggerMessageStatusAccepted,
	TriggerMessageStatusRejected,
	TriggerMessageStatusNotImplemented,
}

// IsValid reports whether v is a TriggerMessageStatus of OCPP 1.6.
func (v TriggerMessageStatus) IsValid() bool {
	return slices.Contains(triggerMessageStatusValues[:], v)
}

func (TriggerMessageStatus) enumValues() []string { return enumStrings(triggerMessageStatusValues[:]) }

// DiagnosticsStatus is the state of a diagnostics upload
// (DiagnosticsStatusNotification).
type DiagnosticsStatus string

// DiagnosticsStatus values.
const (
	DiagnosticsStatusIdle         DiagnosticsStatus = "Idle"
	DiagnosticsStatusUploaded     DiagnosticsStatus = "Uploaded"
	DiagnosticsStatusUploadFailed DiagnosticsStatus = "UploadFailed"
	DiagnosticsStatusUploading    DiagnosticsStatus = "Uploading"
)

var diagnosticsStatusValues = [...]DiagnosticsStatus{
	DiagnosticsStatusIdle,
	DiagnosticsStatusUploaded,
	DiagnosticsStatusUploadFailed,
	DiagnosticsStatusUploading,
}

// IsValid reports whether v is a DiagnosticsStatus of OCPP 1.6.
func (v DiagnosticsStatus) IsValid() bool { return slices.Contains(diagnosticsStatusValues[:], v) }

func (DiagnosticsStatus) enumValues() []string { return enumStrings(diagnosticsStatusValues[:]) }

// FirmwareStatus is the state of a firmware update
// (FirmwareStatusNotification).
type FirmwareStatus string

// FirmwareStatus values.
const (
	FirmwareStatusDownloaded         FirmwareStatus = "Downloaded"
	FirmwareStatusDownloadFailed     FirmwareStatus = "DownloadFailed"
	FirmwareStatusDownloading        FirmwareStatus = "Downloading"
	FirmwareStatusIdle               FirmwareStatus = "Idle"
	FirmwareStatusInstallationFailed FirmwareStatus = "InstallationFailed"
	FirmwareStatusInstalling         FirmwareStatus = "Installing"
	FirmwareStatusInstalled          FirmwareStatus = "Installed"
)

var firmwareStatusValues = [...]FirmwareStatus{
	FirmwareStatusDownloaded,
	FirmwareStatusDownloadFailed,
	FirmwareStatusDownloading,
	FirmwareStatusIdle,
	FirmwareStatusInstallationFailed,
	FirmwareStatusInstalling,
	FirmwareStatusInstalled,
}

// IsValid reports whether v is a FirmwareStatus of OCPP 1.6.
func (v FirmwareStatus) IsValid() bool { return slices.Contains(firmwareStatusValues[:], v) }

func (FirmwareStatus) enumValues() []string { return enumStrings(firmwareStatusValues[:]) }

// Security whitepaper (edition 3) enumerations.

// CertificateSignedStatus is the answer to a CertificateSigned: whether the
// charge point installed the new client certificate.
type CertificateSignedStatus string

// CertificateSignedStatus values.
const (
	CertificateSignedStatusAccepted CertificateSignedStatus = "Accepted"
	CertificateSignedStatusRejected CertificateSignedStatus = "Rejected"
)

var certificateSignedStatusValues = [...]CertificateSignedStatus{
	CertificateSignedStatusAccepted,
	CertificateSignedStatusRejected,
}

// IsValid reports whether v is a CertificateSignedStatus of the OCPP 1.6
// security whitepaper.
func (v CertificateSignedStatus) IsValid() bool {
	return slices.Contains(certificateSignedStatusValues[:], v)
}

func (CertificateSignedStatus) enumValues() []string {
	return enumStrings(certificateSignedStatusValues[:])
}

// DeleteCertificateStatus is the answer to a DeleteCertificate.
type DeleteCertificateStatus string

// DeleteCertificateStatus values.
const (
	DeleteCertificateStatusAccepted DeleteCertificateStatus = "Accepted"
	DeleteCertificateStatusFailed   DeleteCertificateStatus = "Failed"
	DeleteCertificateStatusNotFound DeleteCertificateStatus = "NotFound"
)

var deleteCertificateStatusValues = [...]DeleteCertificateStatus{
	DeleteCertificateStatusAccepted,
	DeleteCertificateStatusFailed,
	DeleteCertificateStatusNotFound,
}

// IsValid reports whether v is a DeleteCertificateStatus of the OCPP 1.6
// security whitepaper.
func (v DeleteCertificateStatus) IsValid() bool {
	return slices.Contains(deleteCertificateStatusValues[:], v)
}

func (DeleteCertificateStatus) enumValues() []string {
	return enumStrings(deleteCertificateStatusValues[:])
}

// HashAlgorithm is the hash function of a CertificateHashData.
type HashAlgorithm string

// HashAlgorithm values.
const (
	HashAlgorithmSHA256 HashAlgorithm = "SHA256"
	HashAlgorithmSHA384 HashAlgorithm = "SHA384"
	HashAlgorithmSHA512 HashAlgorithm = "SHA512"
)

var hashAlgorithmValues = [...]HashAlgorithm{
	HashAlgorithmSHA256,
	HashAlgorithmSHA384,
	HashAlgorithmSHA512,
}

// IsValid reports whether v is a HashAlgorithm of the OCPP 1.6 security
// whitepaper.
func (v HashAlgorithm) IsValid() bool { return slices.Contains(hashAlgorithmValues[:], v) }

func (HashAlgorithm) enumValues() []string { return enumStrings(hashAlgorithmValues[:]) }

// ExtendedMessageTrigger is the message an ExtendedTriggerMessage asks for.
type ExtendedMessageTrigger string

// ExtendedMessageTrigger values.
const (
	ExtendedMessageTriggerBootNotification           ExtendedMessageTrigger = "BootNotification"
	ExtendedMessageTriggerLogStatusNotification      ExtendedMessageTrigger = "LogStatusNotification"
	ExtendedMessageTriggerFirmwareStatusNotification ExtendedMessageTrigger = "FirmwareStatusNotification"
	ExtendedMessageTriggerHeartbeat                  ExtendedMessageTrigger = "Heartbeat"
	ExtendedMessageTriggerMeterValues                ExtendedMessageTrigger = "MeterValues"
	ExtendedMessageTriggerSignChargePointCertificate ExtendedMessageTrigger = "SignChargePointCertificate"
	ExtendedMessageTriggerStatusNotification         ExtendedMessageTrigger = "StatusNotification"
)

var extendedMessageTriggerValues = [...]ExtendedMessageTrigger{
	ExtendedMessageTriggerBootNotification,
	ExtendedMessageTriggerLogStatusNotification,
	ExtendedMessageTriggerFirmwareStatusNotification,
	ExtendedMessageTriggerHeartbeat,
	ExtendedMessageTriggerMeterValues,
	ExtendedMessageTriggerSignChargePointCertificate,
	ExtendedMessageTriggerStatusNotification,
}

// IsValid reports whether v is a ExtendedMessageTrigger of the OCPP 1.6
// security whitepaper.
func (v ExtendedMessageTrigger) IsValid() bool {
	return slices.Contains(extendedMessageTriggerValues[:], v)
}

func (ExtendedMessageTrigger) enumValues() []string {
	return enumStrings(extendedMessageTriggerValues[:])
}

// CertificateUse is the kind of a root certificate the CSMS installs, lists
// or deletes.
type CertificateUse string

// CertificateUse values.
const (
	CertificateUseCentralSystemRootCertificate CertificateUse = "CentralSystemRootCertificate"
	CertificateUseManufacturerRootCertificate  CertificateUse = "ManufacturerRootCertificate"
)

var certificateUseValues = [...]CertificateUse{
	CertificateUseCentralSystemRootCertificate,
	CertificateUseManufacturerRootCertificate,
}

// IsValid reports whether v is a CertificateUse of the OCPP 1.6 security
// whitepaper.
func (v CertificateUse) IsValid() bool { return slices.Contains(certificateUseValues[:], v) }

func (CertificateUse) enumValues() []string { return enumStrings(certificateUseValues[:]) }

// GetInstalledCertificateStatus is the answer to a GetInstalledCertificateIds.
type GetInstalledCertificateStatus string

// GetInstalledCertificateStatus values.
const (
	GetInstalledCertificateStatusAccepted GetInstalledCertificateStatus = "Accepted"
	GetInstalledCertificateStatusNotFound GetInstalledCertificateStatus = "NotFound"
)

var getInstalledCertificateStatusValues = [...]GetInstalledCertificateStatus{
	GetInstalledCertificateStatusAccepted,
	GetInstalledCertificateStatusNotFound,
}

// IsValid reports whether v is a GetInstalledCertificateStatus of the OCPP
// 1.6 security whitepaper.
func (v GetInstalledCertificateStatus) IsValid() bool {
	return slices.Contains(getInstalledCertificateStatusValues[:], v)
}

func (GetInstalledCertificateStatus) enumValues() []string {
	return enumStrings(getInstalledCertificateStatusValues[:])
}

// LogType is the log a GetLog asks for.
type LogType string

// LogType values.
const (
	LogTypeDiagnosticsLog LogType = "DiagnosticsLog"
	LogTypeSecurityLog    LogType = "SecurityLog"
)

var logTypeValues = [...]LogType{
	LogTypeDiagnosticsLog,
	LogTypeSecurityLog,
}

// IsValid reports whether v is a LogType of the OCPP 1.6 security whitepaper.
func (v LogType) IsValid() bool { return slices.Contains(logTypeValues[:], v) }

func (LogType) enumValues() []string { return enumStrings(logTypeValues[:]) }

// LogStatus is the answer to a GetLog; AcceptedCanceled when it replaces an
// upload under way.
type LogStatus string

// LogStatus values.
const (
	LogStatusAccepted         LogStatus = "Accepted"
	LogStatusRejected         LogStatus = "Rejected"
	LogStatusAcceptedCanceled LogStatus = "AcceptedCanceled"
)

var logStatusValues = [...]LogStatus{
	LogStatusAccepted,
	LogStatusRejected,
	LogStatusAcceptedCanceled,
}

// IsValid reports whether v is a LogStatus of the OCPP 1.6 security whitepaper.
func (v LogStatus) IsValid() bool { return slices.Contains(logStatusValues[:], v) }

func (LogStatus) enumValues() []string { return enumStrings(logStatusValues[:]) }

// InstallCertificateStatus is the answer to an InstallCertificate.
type InstallCertificateStatus string

// InstallCertificateStatus values.
const (
	InstallCertificateStatusAccepted InstallCertificateStatus = "Accepted"
	InstallCertificateStatusFailed   InstallCertificateStatus = "Failed"
	InstallCertificateStatusRejected InstallCertificateStatus = "Rejected"
)

var installCertificateStatusValues = [...]InstallCertificateStatus{
	InstallCertificateStatusAccepted,
	InstallCertificateStatusFailed,
	InstallCertificateStatusRejected,
}

// IsValid reports whether v is a InstallCertificateStatus of the OCPP 1.6
// security whitepaper.
func (v InstallCertificateStatus) IsValid() bool {
	return slices.Contains(installCertificateStatusValues[:], v)
}

func (InstallCertificateStatus) enumValues() []string {
	return enumStrings(installCertificateStatusValues[:])
}

// UploadLogStatus is the state of a log upload in LogStatusNotification;
// Idle when none is under way.
type UploadLogStatus string

// UploadLogStatus values.
const (
	UploadLogStatusBadMessage            UploadLogStatus = "BadMessage"
	UploadLogStatusIdle                  UploadLogStatus = "Idle"
	UploadLogStatusNotSupportedOperation UploadLogStatus = "NotSupportedOperation"
	UploadLogStatusPermissionDenied      UploadLogStatus = "PermissionDenied"
	UploadLogStatusUploaded              UploadLogStatus = "Uploaded"
	UploadLogStatusUploadFailure         UploadLogStatus = "UploadFailure"
	UploadLogStatusUploading             UploadLogStatus = "Uploading"
)

var uploadLogStatusValues = [...]UploadLogStatus{
	UploadLogStatusBadMessage,
	UploadLogStatusIdle,
	UploadLogStatusNotSupportedOperation,
	UploadLogStatusPermissionDenied,
	UploadLogStatusUploaded,
	UploadLogStatusUploadFailure,
	UploadLogStatusUploading,
}

// IsValid reports whether v is a UploadLogStatus of the OCPP 1.6 security
// whitepaper.
func (v UploadLogStatus) IsValid() bool { return slices.Contains(uploadLogStatusValues[:], v) }

func (UploadLogStatus) enumValues() []string { return enumStrings(uploadLogStatusValues[:]) }

// GenericStatus is an Accepted or Rejected answer (SignCertificate).
type GenericStatus string

// GenericStatus values.
const (
	GenericStatusAccepted GenericStatus = "Accepted"
	GenericStatusRejected GenericStatus = "Rejected"
)

var genericStatusValues = [...]GenericStatus{
	GenericStatusAccepted,
	GenericStatusRejected,
}

// IsValid reports whether v is a GenericStatus of the OCPP 1.6 security
// whitepaper.
func (v GenericStatus) IsValid() bool { return slices.Contains(genericStatusValues[:], v) }

func (GenericStatus) enumValues() []string { return enumStrings(genericStatusValues[:]) }

// SignedFirmwareStatus is the state of a signed firmware update in
// SignedFirmwareStatusNotification; Idle when none is under way.
type SignedFirmwareStatus string

// SignedFirmwareStatus values.
const (
	SignedFirmwareStatusDownloaded                SignedFirmwareStatus = "Downloaded"
	SignedFirmwareStatusDownloadFailed            SignedFirmwareStatus = "DownloadFailed"
	SignedFirmwareStatusDownloading               SignedFirmwareStatus = "Downloading"
	SignedFirmwareStatusDownloadScheduled         SignedFirmwareStatus = "DownloadScheduled"
	SignedFirmwareStatusDownloadPaused            SignedFirmwareStatus = "DownloadPaused"
	SignedFirmwareStatusIdle                      SignedFirmwareStatus = "Idle"
	SignedFirmwareStatusInstallationFailed        SignedFirmwareStatus = "InstallationFailed"
	SignedFirmwareStatusInstalling                SignedFirmwareStatus = "Installing"
	SignedFirmwareStatusInstalled                 SignedFirmwareStatus = "Installed"
	SignedFirmwareStatusInstallRebooting          SignedFirmwareStatus = "InstallRebooting"
	SignedFirmwareStatusInstallScheduled          SignedFirmwareStatus = "InstallScheduled"
	SignedFirmwareStatusInstallVerificationFailed SignedFirmwareStatus = "InstallVerificationFailed"
	SignedFirmwareStatusInvalidSignature          SignedFirmwareStatus = "InvalidSignature"
	SignedFirmwareStatusSignatureVerified         SignedFirmwareStatus = "SignatureVerified"
)

var signedFirmwareStatusValues = [...]SignedFirmwareStatus{
	SignedFirmwareStatusDownloaded,
	SignedFirmwareStatusDownloadFailed,
	SignedFirmwareStatusDownloading,
	SignedFirmwareStatusDownloadScheduled,
	SignedFirmwareStatusDownloadPaused,
	SignedFirmwareStatusIdle,
	SignedFirmwareStatusInstallationFailed,
	SignedFirmwareStatusInstalling,
	SignedFirmwareStatusInstalled,
	SignedFirmwareStatusInstallRebooting,
	SignedFirmwareStatusInstallScheduled,
	SignedFirmwareStatusInstallVerificationFailed,
	SignedFirmwareStatusInvalidSignature,
	SignedFirmwareStatusSignatureVerified,
}

// IsValid reports whether v is a SignedFirmwareStatus of the OCPP 1.6
// security whitepaper.
func (v SignedFirmwareStatus) IsValid() bool {
	return slices.Contains(signedFirmwareStatusValues[:], v)
}

func (SignedFirmwareStatus) enumValues() []string { return enumStrings(signedFirmwareStatusValues[:]) }

// UpdateFirmwareStatus is the answer to a SignedUpdateFirmware.
type UpdateFirmwareStatus string

// UpdateFirmwareStatus values.
const (
	UpdateFirmwareStatusAccepted           UpdateFirmwareStatus = "Accepted"
	UpdateFirmwareStatusRejected           UpdateFirmwareStatus = "Rejected"
	UpdateFirmwareStatusAcceptedCanceled   UpdateFirmwareStatus = "AcceptedCanceled"
	UpdateFirmwareStatusInvalidCertificate UpdateFirmwareStatus = "InvalidCertificate"
	UpdateFirmwareStatusRevokedCertificate UpdateFirmwareStatus = "RevokedCertificate"
)

var updateFirmwareStatusValues = [...]UpdateFirmwareStatus{
	UpdateFirmwareStatusAccepted,
	UpdateFirmwareStatusRejected,
	UpdateFirmwareStatusAcceptedCanceled,
	UpdateFirmwareStatusInvalidCertificate,
	UpdateFirmwareStatusRevokedCertificate,
}

// IsValid reports whether v is a UpdateFirmwareStatus of the OCPP 1.6
// security whitepaper.
func (v UpdateFirmwareStatus) IsValid() bool {
	return slices.Contains(updateFirmwareStatusValues[:], v)
}

func (UpdateFirmwareStatus) enumValues() []string { return enumStrings(updateFirmwareStatusValues[:]) }

// enumStrings returns the string forms of vals, for tests that compare an
// enumeration with the schema.
func enumStrings[T ~string](vals []T) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}
