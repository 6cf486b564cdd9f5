// These declarations follow the OCPP 2.0.1 JSON schemas one to one (they were
// first derived from ocpp2_0_1.json): change them only with the schemas at hand,
// and the conformance tests check every message against them.

package ocpp201

// APNAuthentication is the schema's APNAuthenticationEnumType.
type APNAuthentication string

// Values of APNAuthentication.
const (
	APNAuthenticationCHAP APNAuthentication = "CHAP"
	APNAuthenticationNONE APNAuthentication = "NONE"
	APNAuthenticationPAP  APNAuthentication = "PAP"
	APNAuthenticationAUTO APNAuthentication = "AUTO"
)

// IsValid reports whether e is a value of the enumeration.
func (e APNAuthentication) IsValid() bool {
	switch e {
	case APNAuthenticationCHAP, APNAuthenticationNONE, APNAuthenticationPAP, APNAuthenticationAUTO:
		return true
	}
	return false
}

// Attribute is the schema's AttributeEnumType.
type Attribute string

// Values of Attribute.
const (
	AttributeActual Attribute = "Actual"
	AttributeTarget Attribute = "Target"
	AttributeMinSet Attribute = "MinSet"
	AttributeMaxSet Attribute = "MaxSet"
)

// IsValid reports whether e is a value of the enumeration.
func (e Attribute) IsValid() bool {
	switch e {
	case AttributeActual, AttributeTarget, AttributeMinSet, AttributeMaxSet:
		return true
	}
	return false
}

// AuthorizationStatus is the schema's AuthorizationStatusEnumType.
type AuthorizationStatus string

// Values of AuthorizationStatus.
const (
	AuthorizationStatusAccepted           AuthorizationStatus = "Accepted"
	AuthorizationStatusBlocked            AuthorizationStatus = "Blocked"
	AuthorizationStatusConcurrentTx       AuthorizationStatus = "ConcurrentTx"
	AuthorizationStatusExpired            AuthorizationStatus = "Expired"
	AuthorizationStatusInvalid            AuthorizationStatus = "Invalid"
	AuthorizationStatusNoCredit           AuthorizationStatus = "NoCredit"
	AuthorizationStatusNotAllowedTypeEVSE AuthorizationStatus = "NotAllowedTypeEVSE"
	AuthorizationStatusNotAtThisLocation  AuthorizationStatus = "NotAtThisLocation"
	AuthorizationStatusNotAtThisTime      AuthorizationStatus = "NotAtThisTime"
	AuthorizationStatusUnknown            AuthorizationStatus = "Unknown"
)

// IsValid reports whether e is a value of the enumeration.
func (e AuthorizationStatus) IsValid() bool {
	switch e {
	case AuthorizationStatusAccepted, AuthorizationStatusBlocked, AuthorizationStatusConcurrentTx, AuthorizationStatusExpired, AuthorizationStatusInvalid, AuthorizationStatusNoCredit, AuthorizationStatusNotAllowedTypeEVSE, AuthorizationStatusNotAtThisLocation, AuthorizationStatusNotAtThisTime, AuthorizationStatusUnknown:
		return true
	}
	return false
}

// AuthorizeCertificateStatus is the schema's AuthorizeCertificateStatusEnumType.
type AuthorizeCertificateStatus string

// Values of AuthorizeCertificateStatus.
const (
	AuthorizeCertificateStatusAccepted               AuthorizeCertificateStatus = "Accepted"
	AuthorizeCertificateStatusSignatureError         AuthorizeCertificateStatus = "SignatureError"
	AuthorizeCertificateStatusCertificateExpired     AuthorizeCertificateStatus = "CertificateExpired"
	AuthorizeCertificateStatusCertificateRevoked     AuthorizeCertificateStatus = "CertificateRevoked"
	AuthorizeCertificateStatusNoCertificateAvailable AuthorizeCertificateStatus = "NoCertificateAvailable"
	AuthorizeCertificateStatusCertChainError         AuthorizeCertificateStatus = "CertChainError"
	AuthorizeCertificateStatusContractCancelled      AuthorizeCertificateStatus = "ContractCancelled"
)

// IsValid reports whether e is a value of the enumeration.
func (e AuthorizeCertificateStatus) IsValid() bool {
	switch e {
	case AuthorizeCertificateStatusAccepted, AuthorizeCertificateStatusSignatureError, AuthorizeCertificateStatusCertificateExpired, AuthorizeCertificateStatusCertificateRevoked, AuthorizeCertificateStatusNoCertificateAvailable, AuthorizeCertificateStatusCertChainError, AuthorizeCertificateStatusContractCancelled:
		return true
	}
	return false
}

// BootReason is the schema's BootReasonEnumType.
type BootReason string

// Values of BootReason.
const (
	BootReasonApplicationReset BootReason = "ApplicationReset"
	BootReasonFirmwareUpdate   BootReason = "FirmwareUpdate"
	BootReasonLocalReset       BootReason = "LocalReset"
	BootReasonPowerUp          BootReason = "PowerUp"
	BootReasonRemoteReset      BootReason = "RemoteReset"
	BootReasonScheduledReset   BootReason = "ScheduledReset"
	BootReasonTriggered        BootReason = "Triggered"
	BootReasonUnknown          BootReason = "Unknown"
	BootReasonWatchdog         BootReason = "Watchdog"
)

// IsValid reports whether e is a value of the enumeration.
func (e BootReason) IsValid() bool {
	switch e {
	case BootReasonApplicationReset, BootReasonFirmwareUpdate, BootReasonLocalReset, BootReasonPowerUp, BootReasonRemoteReset, BootReasonScheduledReset, BootReasonTriggered, BootReasonUnknown, BootReasonWatchdog:
		return true
	}
	return false
}

// CancelReservationStatus is the schema's CancelReservationStatusEnumType.
type CancelReservationStatus string

// Values of CancelReservationStatus.
const (
	CancelReservationStatusAccepted CancelReservationStatus = "Accepted"
	CancelReservationStatusRejected CancelReservationStatus = "Rejected"
)

// IsValid reports whether e is a value of the enumeration.
func (e CancelReservationStatus) IsValid() bool {
	switch e {
	case CancelReservationStatusAccepted, CancelReservationStatusRejected:
		return true
	}
	return false
}

// CertificateSignedStatus is the schema's CertificateSignedStatusEnumType.
type CertificateSignedStatus string

// Values of CertificateSignedStatus.
const (
	CertificateSignedStatusAccepted CertificateSignedStatus = "Accepted"
	CertificateSignedStatusRejected CertificateSignedStatus = "Rejected"
)

// IsValid reports whether e is a value of the enumeration.
func (e CertificateSignedStatus) IsValid() bool {
	switch e {
	case CertificateSignedStatusAccepted, CertificateSignedStatusRejected:
		return true
	}
	return false
}

// CertificateSigningUse is the schema's CertificateSigningUseEnumType.
type CertificateSigningUse string

// Values of CertificateSigningUse.
const (
	CertificateSigningUseChargingStationCertificate CertificateSigningUse = "ChargingStationCertificate"
	CertificateSigningUseV2GCertificate             CertificateSigningUse = "V2GCertificate"
)

// IsValid reports whether e is a value of the enumeration.
func (e CertificateSigningUse) IsValid() bool {
	switch e {
	case CertificateSigningUseChargingStationCertificate, CertificateSigningUseV2GCertificate:
		return true
	}
	return false
}

// ChangeAvailabilityStatus is the schema's ChangeAvailabilityStatusEnumType.
type ChangeAvailabilityStatus string

// Values of ChangeAvailabilityStatus.
const (
	ChangeAvailabilityStatusAccepted  ChangeAvailabilityStatus = "Accepted"
	ChangeAvailabilityStatusRejected  ChangeAvailabilityStatus = "Rejected"
	ChangeAvailabilityStatusScheduled ChangeAvailabilityStatus = "Scheduled"
)

// IsValid reports whether e is a value of the enumeration.
func (e ChangeAvailabilityStatus) IsValid() bool {
	switch e {
	case ChangeAvailabilityStatusAccepted, ChangeAvailabilityStatusRejected, ChangeAvailabilityStatusScheduled:
		return true
	}
	return false
}

// ChargingLimitSource is the schema's ChargingLimitSourceEnumType.
type ChargingLimitSource string

// Values of ChargingLimitSource.
const (
	ChargingLimitSourceEMS   ChargingLimitSource = "EMS"
	ChargingLimitSourceOther ChargingLimitSource = "Other"
	ChargingLimitSourceSO    ChargingLimitSource = "SO"
	ChargingLimitSourceCSO   ChargingLimitSource = "CSO"
)

// IsValid reports whether e is a value of the enumeration.
func (e ChargingLimitSource) IsValid() bool {
	switch e {
	case ChargingLimitSourceEMS, ChargingLimitSourceOther, ChargingLimitSourceSO, ChargingLimitSourceCSO:
		return true
	}
	return false
}

// ChargingProfileKind is the schema's ChargingProfileKindEnumType.
type ChargingProfileKind string

// Values of ChargingProfileKind.
const (
	ChargingProfileKindAbsolute  ChargingProfileKind = "Absolute"
	ChargingProfileKindRecurring ChargingProfileKind = "Recurring"
	ChargingProfileKindRelative  ChargingProfileKind = "Relative"
)

// IsValid reports whether e is a value of the enumeration.
func (e ChargingProfileKind) IsValid() bool {
	switch e {
	case ChargingProfileKindAbsolute, ChargingProfileKindRecurring, ChargingProfileKindRelative:
		return true
	}
	return false
}

// ChargingProfilePurpose is the schema's ChargingProfilePurposeEnumType.
type ChargingProfilePurpose string

// Values of ChargingProfilePurpose.
const (
	ChargingProfilePurposeChargingStationExternalConstraints ChargingProfilePurpose = "ChargingStationExternalConstraints"
	ChargingProfilePurposeChargingStationMaxProfile          ChargingProfilePurpose = "ChargingStationMaxProfile"
	ChargingProfilePurposeTxDefaultProfile                   ChargingProfilePurpose = "TxDefaultProfile"
	ChargingProfilePurposeTxProfile                          ChargingProfilePurpose = "TxProfile"
)

// IsValid reports whether e is a value of the enumeration.
func (e ChargingProfilePurpose) IsValid() bool {
	switch e {
	case ChargingProfilePurposeChargingStationExternalConstraints, ChargingProfilePurposeChargingStationMaxProfile, ChargingProfilePurposeTxDefaultProfile, ChargingProfilePurposeTxProfile:
		return true
	}
	return false
}

// ChargingProfileStatus is the schema's ChargingProfileStatusEnumType.
type ChargingProfileStatus string

// Values of ChargingProfileStatus.
const (
	ChargingProfileStatusAccepted ChargingProfileStatus = "Accepted"
	ChargingProfileStatusRejected ChargingProfileStatus = "Rejected"
)

// IsValid reports whether e is a value of the enumeration.
func (e ChargingProfileStatus) IsValid() bool {
	switch e {
	case ChargingProfileStatusAccepted, ChargingProfileStatusRejected:
		return true
	}
	return false
}

// ChargingRateUnit is the schema's ChargingRateUnitEnumType.
type ChargingRateUnit string

// Values of ChargingRateUnit.
const (
	ChargingRateUnitW ChargingRateUnit = "W"
	ChargingRateUnitA ChargingRateUnit = "A"
)

// IsValid reports whether e is a value of the enumeration.
func (e ChargingRateUnit) IsValid() bool {
	switch e {
	case ChargingRateUnitW, ChargingRateUnitA:
		return true
	}
	return false
}

// ChargingState is the schema's ChargingStateEnumType.
type ChargingState string

// Values of ChargingState.
const (
	ChargingStateCharging      ChargingState = "Charging"
	ChargingStateEVConnected   ChargingState = "EVConnected"
	ChargingStateSuspendedEV   ChargingState = "SuspendedEV"
	ChargingStateSuspendedEVSE ChargingState = "SuspendedEVSE"
	ChargingStateIdle          ChargingState = "Idle"
)

// IsValid reports whether e is a value of the enumeration.
func (e ChargingState) IsValid() bool {
	switch e {
	case ChargingStateCharging, ChargingStateEVConnected, ChargingStateSuspendedEV, ChargingStateSuspendedEVSE, ChargingStateIdle:
		return true
	}
	return false
}

// ClearCacheStatus is the schema's ClearCacheStatusEnumType.
type ClearCacheStatus string

// Values of ClearCacheStatus.
const (
	ClearCacheStatusAccepted ClearCacheStatus = "Accepted"
	ClearCacheStatusRejected ClearCacheStatus = "Rejected"
)

// IsValid reports whether e is a value of the enumeration.
func (e ClearCacheStatus) IsValid() bool {
	switch e {
	case ClearCacheStatusAccepted, ClearCacheStatusRejected:
		return true
	}
	return false
}

// ClearChargingProfileStatus is the schema's ClearChargingProfileStatusEnumType.
type ClearChargingProfileStatus string

// Values of ClearChargingProfileStatus.
const (
	ClearChargingProfileStatusAccepted ClearChargingProfileStatus = "Accepted"
	ClearChargingProfileStatusUnknown  ClearChargingProfileStatus = "Unknown"
)

// IsValid reports whether e is a value of the enumeration.
func (e ClearChargingProfileStatus) IsValid() bool {
	switch e {
	case ClearChargingProfileStatusAccepted, ClearChargingProfileStatusUnknown:
		return true
	}
	return false
}

// ComponentCriterion is the schema's ComponentCriterionEnumType.
type ComponentCriterion string

// Values of ComponentCriterion.
const (
	ComponentCriterionActive    ComponentCriterion = "Active"
	ComponentCriterionAvailable ComponentCriterion = "Available"
	ComponentCriterionEnabled   ComponentCriterion = "Enabled"
	ComponentCriterionProblem   ComponentCriterion = "Problem"
)

// IsValid reports whether e is a value of the enumeration.
func (e ComponentCriterion) IsValid() bool {
	switch e {
	case ComponentCriterionActive, ComponentCriterionAvailable, ComponentCriterionEnabled, ComponentCriterionProblem:
		return true
	}
	return false
}

// ConnectorKind is the schema's ConnectorEnumType.
type ConnectorKind string

// Values of ConnectorKind.
const (
	ConnectorKindCCCS1           ConnectorKind = "cCCS1"
	ConnectorKindCCCS2           ConnectorKind = "cCCS2"
	ConnectorKindCG105           ConnectorKind = "cG105"
	ConnectorKindCTesla          ConnectorKind = "cTesla"
	ConnectorKindCType1          ConnectorKind = "cType1"
	ConnectorKindCType2          ConnectorKind = "cType2"
	ConnectorKindS3091P16A       ConnectorKind = "s309-1P-16A"
	ConnectorKindS3091P32A       ConnectorKind = "s309-1P-32A"
	ConnectorKindS3093P16A       ConnectorKind = "s309-3P-16A"
	ConnectorKindS3093P32A       ConnectorKind = "s309-3P-32A"
	ConnectorKindSBS1361         ConnectorKind = "sBS1361"
	ConnectorKindSCEE77          ConnectorKind = "sCEE-7-7"
	ConnectorKindSType2          ConnectorKind = "sType2"
	ConnectorKindSType3          ConnectorKind = "sType3"
	ConnectorKindOther1PhMax16A  ConnectorKind = "Other1PhMax16A"
	ConnectorKindOther1PhOver16A ConnectorKind = "Other1PhOver16A"
	ConnectorKindOther3Ph        ConnectorKind = "Other3Ph"
	ConnectorKindPan             ConnectorKind = "Pan"
	ConnectorKindWInductive      ConnectorKind = "wInductive"
	ConnectorKindWResonant       ConnectorKind = "wResonant"
	ConnectorKindUndetermined    ConnectorKind = "Undetermined"
	ConnectorKindUnknown         ConnectorKind = "Unknown"
)

// IsValid reports whether e is a value of the enumeration.
func (e ConnectorKind) IsValid() bool {
	switch e {
	case ConnectorKindCCCS1, ConnectorKindCCCS2, ConnectorKindCG105, ConnectorKindCTesla, ConnectorKindCType1, ConnectorKindCType2, ConnectorKindS3091P16A, ConnectorKindS3091P32A, ConnectorKindS3093P16A, ConnectorKindS3093P32A, ConnectorKindSBS1361, ConnectorKindSCEE77, ConnectorKindSType2, ConnectorKindSType3, ConnectorKindOther1PhMax16A, ConnectorKindOther1PhOver16A, ConnectorKindOther3Ph, ConnectorKindPan, ConnectorKindWInductive, ConnectorKindWResonant, ConnectorKindUndetermined, ConnectorKindUnknown:
		return true
	}
	return false
}

// ConnectorStatus is the schema's ConnectorStatusEnumType.
type ConnectorStatus string

// Values of ConnectorStatus.
const (
	ConnectorStatusAvailable   ConnectorStatus = "Available"
	ConnectorStatusOccupied    ConnectorStatus = "Occupied"
	ConnectorStatusReserved    ConnectorStatus = "Reserved"
	ConnectorStatusUnavailable ConnectorStatus = "Unavailable"
	ConnectorStatusFaulted     ConnectorStatus = "Faulted"
)

// IsValid reports whether e is a value of the enumeration.
func (e ConnectorStatus) IsValid() bool {
	switch e {
	case ConnectorStatusAvailable, ConnectorStatusOccupied, ConnectorStatusReserved, ConnectorStatusUnavailable, ConnectorStatusFaulted:
		return true
	}
	return false
}

// CostKind is the schema's CostKindEnumType.
type CostKind string

// Values of CostKind.
const (
	CostKindCarbonDioxideEmission         CostKind = "CarbonDioxideEmission"
	CostKindRelativePricePercentage       CostKind = "RelativePricePercentage"
	CostKindRenewableGenerationPercentage CostKind = "RenewableGenerationPercentage"
)

// IsValid reports whether e is a value of the enumeration.
func (e CostKind) IsValid() bool {
	switch e {
	case CostKindCarbonDioxideEmission, CostKindRelativePricePercentage, CostKindRenewableGenerationPercentage:
		return true
	}
	return false
}

// DataKind is the schema's DataEnumType.
type DataKind string

// Values of DataKind.
const (
	DataKindString       DataKind = "string"
	DataKindDecimal      DataKind = "decimal"
	DataKindInteger      DataKind = "integer"
	DataKindDateTime     DataKind = "dateTime"
	DataKindBoolean      DataKind = "boolean"
	DataKindOptionList   DataKind = "OptionList"
	DataKindSequenceList DataKind = "SequenceList"
	DataKindMemberList   DataKind = "MemberList"
)

// IsValid reports whether e is a value of the enumeration.
func (e DataKind) IsValid() bool {
	switch e {
	case DataKindString, DataKindDecimal, DataKindInteger, DataKindDateTime, DataKindBoolean, DataKindOptionList, DataKindSequenceList, DataKindMemberList:
		return true
	}
	return false
}

// DataTransferStatus is the schema's DataTransferStatusEnumType.
type DataTransferStatus string

// Values of DataTransferStatus.
const (
	DataTransferStatusAccepted         DataTransferStatus = "Accepted"
	DataTransferStatusRejected         DataTransferStatus = "Rejected"
	DataTransferStatusUnknownMessageId DataTransferStatus = "UnknownMessageId"
	DataTransferStatusUnknownVendorId  DataTransferStatus = "UnknownVendorId"
)

// IsValid reports whether e is a value of the enumeration.
func (e DataTransferStatus) IsValid() bool {
	switch e {
	case DataTransferStatusAccepted, DataTransferStatusRejected, DataTransferStatusUnknownMessageId, DataTransferStatusUnknownVendorId:
		return true
	}
	return false
}

// DeleteCertificateStatus is the schema's DeleteCertificateStatusEnumType.
type DeleteCertificateStatus string

// Values of DeleteCertificateStatus.
const (
	DeleteCertificateStatusAccepted DeleteCertificateStatus = "Accepted"
	DeleteCertificateStatusFailed   DeleteCertificateStatus = "Failed"
	DeleteCertificateStatusNotFound DeleteCertificateStatus = "NotFound"
)

// IsValid reports whether e is a value of the enumeration.
func (e DeleteCertificateStatus) IsValid() bool {
	switch e {
	case DeleteCertificateStatusAccepted, DeleteCertificateStatusFailed, DeleteCertificateStatusNotFound:
		return true
	}
	return false
}

// FirmwareStatus is the schema's FirmwareStatusEnumType.
type FirmwareStatus string

// Values of FirmwareStatus.
const (
	FirmwareStatusDownloaded                FirmwareStatus = "Downloaded"
	FirmwareStatusDownloadFailed            FirmwareStatus = "DownloadFailed"
	FirmwareStatusDownloading               FirmwareStatus = "Downloading"
	FirmwareStatusDownloadScheduled         FirmwareStatus = "DownloadScheduled"
	FirmwareStatusDownloadPaused            FirmwareStatus = "DownloadPaused"
	FirmwareStatusIdle                      FirmwareStatus = "Idle"
	FirmwareStatusInstallationFailed        FirmwareStatus = "InstallationFailed"
	FirmwareStatusInstalling                FirmwareStatus = "Installing"
	FirmwareStatusInstalled                 FirmwareStatus = "Installed"
	FirmwareStatusInstallRebooting          FirmwareStatus = "InstallRebooting"
	FirmwareStatusInstallScheduled          FirmwareStatus = "InstallScheduled"
	FirmwareStatusInstallVerificationFailed FirmwareStatus = "InstallVerificationFailed"
	FirmwareStatusInvalidSignature          FirmwareStatus = "InvalidSignature"
	FirmwareStatusSignatureVerified         FirmwareStatus = "SignatureVerified"
)

// IsValid reports whether e is a value of the enumeration.
func (e FirmwareStatus) IsValid() bool {
	switch e {
	case FirmwareStatusDownloaded, FirmwareStatusDownloadFailed, FirmwareStatusDownloading, FirmwareStatusDownloadScheduled, FirmwareStatusDownloadPaused, FirmwareStatusIdle, FirmwareStatusInstallationFailed, FirmwareStatusInstalling, FirmwareStatusInstalled, FirmwareStatusInstallRebooting, FirmwareStatusInstallScheduled, FirmwareStatusInstallVerificationFailed, FirmwareStatusInvalidSignature, FirmwareStatusSignatureVerified:
		return true
	}
	return false
}

// GenericDeviceModelStatus is the schema's GenericDeviceModelStatusEnumType.
type GenericDeviceModelStatus string

// Values of GenericDeviceModelStatus.
const (
	GenericDeviceModelStatusAccepted       GenericDeviceModelStatus = "Accepted"
	GenericDeviceModelStatusRejected       GenericDeviceModelStatus = "Rejected"
	GenericDeviceModelStatusNotSupported   GenericDeviceModelStatus = "NotSupported"
	GenericDeviceModelStatusEmptyResultSet GenericDeviceModelStatus = "EmptyResultSet"
)

// IsValid reports whether e is a value of the enumeration.
func (e GenericDeviceModelStatus) IsValid() bool {
	switch e {
	case GenericDeviceModelStatusAccepted, GenericDeviceModelStatusRejected, GenericDeviceModelStatusNotSupported, GenericDeviceModelStatusEmptyResultSet:
		return true
	}
	return false
}

// GenericStatus is the schema's GenericStatusEnumType.
type GenericStatus string

// Values of GenericStatus.
const (
	GenericStatusAccepted GenericStatus = "Accepted"
	GenericStatusRejected GenericStatus = "Rejected"
)

// IsValid reports whether e is a value of the enumeration.
func (e GenericStatus) IsValid() bool {
	switch e {
	case GenericStatusAccepted, GenericStatusRejected:
		return true
	}
	return false
}

// GetCertificateIDUse is the schema's GetCertificateIdUseEnumType.
type GetCertificateIDUse string

// Values of GetCertificateIDUse.
const (
	GetCertificateIDUseV2GRootCertificate          GetCertificateIDUse = "V2GRootCertificate"
	GetCertificateIDUseMORootCertificate           GetCertificateIDUse = "MORootCertificate"
	GetCertificateIDUseCSMSRootCertificate         GetCertificateIDUse = "CSMSRootCertificate"
	GetCertificateIDUseV2GCertificateChain         GetCertificateIDUse = "V2GCertificateChain"
	GetCertificateIDUseManufacturerRootCertificate GetCertificateIDUse = "ManufacturerRootCertificate"
)

// IsValid reports whether e is a value of the enumeration.
func (e GetCertificateIDUse) IsValid() bool {
	switch e {
	case GetCertificateIDUseV2GRootCertificate, GetCertificateIDUseMORootCertificate, GetCertificateIDUseCSMSRootCertificate, GetCertificateIDUseV2GCertificateChain, GetCertificateIDUseManufacturerRootCertificate:
		return true
	}
	return false
}

// GetChargingProfileStatus is the schema's GetChargingProfileStatusEnumType.
type GetChargingProfileStatus string

// Values of GetChargingProfileStatus.
const (
	GetChargingProfileStatusAccepted   GetChargingProfileStatus = "Accepted"
	GetChargingProfileStatusNoProfiles GetChargingProfileStatus = "NoProfiles"
)

// IsValid reports whether e is a value of the enumeration.
func (e GetChargingProfileStatus) IsValid() bool {
	switch e {
	case GetChargingProfileStatusAccepted, GetChargingProfileStatusNoProfiles:
		return true
	}
	return false
}

// GetInstalledCertificateStatus is the schema's GetInstalledCertificateStatusEnumType.
type GetInstalledCertificateStatus string

// Values of GetInstalledCertificateStatus.
const (
	GetInstalledCertificateStatusAccepted GetInstalledCertificateStatus = "Accepted"
	GetInstalledCertificateStatusNotFound GetInstalledCertificateStatus = "NotFound"
)

// IsValid reports whether e is a value of the enumeration.
func (e GetInstalledCertificateStatus) IsValid() bool {
	switch e {
	case GetInstalledCertificateStatusAccepted, GetInstalledCertificateStatusNotFound:
		return true
	}
	return false
}

// GetVariableStatus is the schema's GetVariableStatusEnumType.
type GetVariableStatus string

// Values of GetVariableStatus.
const (
	GetVariableStatusAccepted                  GetVariableStatus = "Accepted"
	GetVariableStatusRejected                  GetVariableStatus = "Rejected"
	GetVariableStatusUnknownComponent          GetVariableStatus = "UnknownComponent"
	GetVariableStatusUnknownVariable           GetVariableStatus = "UnknownVariable"
	GetVariableStatusNotSupportedAttributeType GetVariableStatus = "NotSupportedAttributeType"
)

// IsValid reports whether e is a value of the enumeration.
func (e GetVariableStatus) IsValid() bool {
	switch e {
	case GetVariableStatusAccepted, GetVariableStatusRejected, GetVariableStatusUnknownComponent, GetVariableStatusUnknownVariable, GetVariableStatusNotSupportedAttributeType:
		return true
	}
	return false
}

// HashAlgorithm is the schema's HashAlgorithmEnumType.
type HashAlgorithm string

// Values of HashAlgorithm.
const (
	HashAlgorithmSHA256 HashAlgorithm = "SHA256"
	HashAlgorithmSHA384 HashAlgorithm = "SHA384"
	HashAlgorithmSHA512 HashAlgorithm = "SHA512"
)

// IsValid reports whether e is a value of the enumeration.
func (e HashAlgorithm) IsValid() bool {
	switch e {
	case HashAlgorithmSHA256, HashAlgorithmSHA384, HashAlgorithmSHA512:
		return true
	}
	return false
}

// IDTokenKind is the schema's IdTokenEnumType.
type IDTokenKind string

// Values of IDTokenKind.
const (
	IDTokenKindCentral         IDTokenKind = "Central"
	IDTokenKindEMAID           IDTokenKind = "eMAID"
	IDTokenKindISO14443        IDTokenKind = "ISO14443"
	IDTokenKindISO15693        IDTokenKind = "ISO15693"
	IDTokenKindKeyCode         IDTokenKind = "KeyCode"
	IDTokenKindLocal           IDTokenKind = "Local"
	IDTokenKindMacAddress      IDTokenKind = "MacAddress"
	IDTokenKindNoAuthorization IDTokenKind = "NoAuthorization"
)

// IsValid reports whether e is a value of the enumeration.
func (e IDTokenKind) IsValid() bool {
	switch e {
	case IDTokenKindCentral, IDTokenKindEMAID, IDTokenKindISO14443, IDTokenKindISO15693, IDTokenKindKeyCode, IDTokenKindLocal, IDTokenKindMacAddress, IDTokenKindNoAuthorization:
		return true
	}
	return false
}

// InstallCertificateStatus is the schema's InstallCertificateStatusEnumType.
type InstallCertificateStatus string

// Values of InstallCertificateStatus.
const (
	InstallCertificateStatusAccepted InstallCertificateStatus = "Accepted"
	InstallCertificateStatusRejected InstallCertificateStatus = "Rejected"
	InstallCertificateStatusFailed   InstallCertificateStatus = "Failed"
)

// IsValid reports whether e is a value of the enumeration.
func (e InstallCertificateStatus) IsValid() bool {
	switch e {
	case InstallCertificateStatusAccepted, InstallCertificateStatusRejected, InstallCertificateStatusFailed:
		return true
	}
	return false
}

// InstallCertificateUse is the schema's InstallCertificateUseEnumType.
type InstallCertificateUse string

// Values of InstallCertificateUse.
const (
	InstallCertificateUseV2GRootCertificate          InstallCertificateUse = "V2GRootCertificate"
	InstallCertificateUseMORootCertificate           InstallCertificateUse = "MORootCertificate"
	InstallCertificateUseCSMSRootCertificate         InstallCertificateUse = "CSMSRootCertificate"
	InstallCertificateUseManufacturerRootCertificate InstallCertificateUse = "ManufacturerRootCertificate"
)

// IsValid reports whether e is a value of the enumeration.
func (e InstallCertificateUse) IsValid() bool {
	switch e {
	case InstallCertificateUseV2GRootCertificate, InstallCertificateUseMORootCertificate, InstallCertificateUseCSMSRootCertificate, InstallCertificateUseManufacturerRootCertificate:
		return true
	}
	return false
}

// Location is the schema's LocationEnumType.
type Location string

// Values of Location.
const (
	LocationBody   Location = "Body"
	LocationCable  Location = "Cable"
	LocationEV     Location = "EV"
	LocationInlet  Location = "Inlet"
	LocationOutlet Location = "Outlet"
)

// IsValid reports whether e is a value of the enumeration.
func (e Location) IsValid() bool {
	switch e {
	case LocationBody, LocationCable, LocationEV, LocationInlet, LocationOutlet:
		return true
	}
	return false
}

// LogKind is the schema's LogEnumType.
type LogKind string

// Values of LogKind.
const (
	LogKindDiagnosticsLog LogKind = "DiagnosticsLog"
	LogKindSecurityLog    LogKind = "SecurityLog"
)

// IsValid reports whether e is a value of the enumeration.
func (e LogKind) IsValid() bool {
	switch e {
	case LogKindDiagnosticsLog, LogKindSecurityLog:
		return true
	}
	return false
}

// LogStatus is the schema's LogStatusEnumType.
type LogStatus string

// Values of LogStatus.
const (
	LogStatusAccepted         LogStatus = "Accepted"
	LogStatusRejected         LogStatus = "Rejected"
	LogStatusAcceptedCanceled LogStatus = "AcceptedCanceled"
)

// IsValid reports whether e is a value of the enumeration.
func (e LogStatus) IsValid() bool {
	switch e {
	case LogStatusAccepted, LogStatusRejected, LogStatusAcceptedCanceled:
		return true
	}
	return false
}

// Measurand is the schema's MeasurandEnumType.
type Measurand string

// Values of Measurand.
const (
	MeasurandCurrentExport                Measurand = "Current.Export"
	MeasurandCurrentImport                Measurand = "Current.Import"
	MeasurandCurrentOffered               Measurand = "Current.Offered"
	MeasurandEnergyActiveExportRegister   Measurand = "Energy.Active.Export.Register"
	MeasurandEnergyActiveImportRegister   Measurand = "Energy.Active.Import.Register"
	MeasurandEnergyReactiveExportRegister Measurand = "Energy.Reactive.Export.Register"
	MeasurandEnergyReactiveImportRegister Measurand = "Energy.Reactive.Import.Register"
	MeasurandEnergyActiveExportInterval   Measurand = "Energy.Active.Export.Interval"
	MeasurandEnergyActiveImportInterval   Measurand = "Energy.Active.Import.Interval"
	MeasurandEnergyActiveNet              Measurand = "Energy.Active.Net"
	MeasurandEnergyReactiveExportInterval Measurand = "Energy.Reactive.Export.Interval"
	MeasurandEnergyReactiveImportInterval Measurand = "Energy.Reactive.Import.Interval"
	MeasurandEnergyReactiveNet            Measurand = "Energy.Reactive.Net"
	MeasurandEnergyApparentNet            Measurand = "Energy.Apparent.Net"
	MeasurandEnergyApparentImport         Measurand = "Energy.Apparent.Import"
	MeasurandEnergyApparentExport         Measurand = "Energy.Apparent.Export"
	MeasurandFrequency                    Measurand = "Frequency"
	MeasurandPowerActiveExport            Measurand = "Power.Active.Export"
	MeasurandPowerActiveImport            Measurand = "Power.Active.Import"
	MeasurandPowerFactor                  Measurand = "Power.Factor"
	MeasurandPowerOffered                 Measurand = "Power.Offered"
	MeasurandPowerReactiveExport          Measurand = "Power.Reactive.Export"
	MeasurandPowerReactiveImport          Measurand = "Power.Reactive.Import"
	MeasurandSoC                          Measurand = "SoC"
	MeasurandVoltage                      Measurand = "Voltage"
)

// IsValid reports whether e is a value of the enumeration.
func (e Measurand) IsValid() bool {
	switch e {
	case MeasurandCurrentExport, MeasurandCurrentImport, MeasurandCurrentOffered, MeasurandEnergyActiveExportRegister, MeasurandEnergyActiveImportRegister, MeasurandEnergyReactiveExportRegister, MeasurandEnergyReactiveImportRegister, MeasurandEnergyActiveExportInterval, MeasurandEnergyActiveImportInterval, MeasurandEnergyActiveNet, MeasurandEnergyReactiveExportInterval, MeasurandEnergyReactiveImportInterval, MeasurandEnergyReactiveNet, MeasurandEnergyApparentNet, MeasurandEnergyApparentImport, MeasurandEnergyApparentExport, MeasurandFrequency, MeasurandPowerActiveExport, MeasurandPowerActiveImport, MeasurandPowerFactor, MeasurandPowerOffered, MeasurandPowerReactiveExport, MeasurandPowerReactiveImport, MeasurandSoC, MeasurandVoltage:
		return true
	}
	return false
}

// MessageFormat is the schema's MessageFormatEnumType.
type MessageFormat string

// Values of MessageFormat.
const (
	MessageFormatASCII MessageFormat = "ASCII"
	MessageFormatHTML  MessageFormat = "HTML"
	MessageFormatURI   MessageFormat = "URI"
	MessageFormatUTF8  MessageFormat = "UTF8"
)

// IsValid reports whether e is a value of the enumeration.
func (e MessageFormat) IsValid() bool {
	switch e {
	case MessageFormatASCII, MessageFormatHTML, MessageFormatURI, MessageFormatUTF8:
		return true
	}
	return false
}

// MessageTrigger is the schema's MessageTriggerEnumType.
type MessageTrigger string

// Values of MessageTrigger.
const (
	MessageTriggerBootNotification                  MessageTrigger = "BootNotification"
	MessageTriggerLogStatusNotification             MessageTrigger = "LogStatusNotification"
	MessageTriggerFirmwareStatusNotification        MessageTrigger = "FirmwareStatusNotification"
	MessageTriggerHeartbeat                         MessageTrigger = "Heartbeat"
	MessageTriggerMeterValues                       MessageTrigger = "MeterValues"
	MessageTriggerSignChargingStationCertificate    MessageTrigger = "SignChargingStationCertificate"
	MessageTriggerSignV2GCertificate                MessageTrigger = "SignV2GCertificate"
	MessageTriggerStatusNotification                MessageTrigger = "StatusNotification"
	MessageTriggerTransactionEvent                  MessageTrigger = "TransactionEvent"
	MessageTriggerSignCombinedCertificate           MessageTrigger = "SignCombinedCertificate"
	MessageTriggerPublishFirmwareStatusNotification MessageTrigger = "PublishFirmwareStatusNotification"
)

// IsValid reports whether e is a value of the enumeration.
func (e MessageTrigger) IsValid() bool {
	switch e {
	case MessageTriggerBootNotification, MessageTriggerLogStatusNotification, MessageTriggerFirmwareStatusNotification, MessageTriggerHeartbeat, MessageTriggerMeterValues, MessageTriggerSignChargingStationCertificate, MessageTriggerSignV2GCertificate, MessageTriggerStatusNotification, MessageTriggerTransactionEvent, MessageTriggerSignCombinedCertificate, MessageTriggerPublishFirmwareStatusNotification:
		return true
	}
	return false
}

// Mutability is the schema's MutabilityEnumType.
type Mutability string

// Values of Mutability.
const (
	MutabilityReadOnly  Mutability = "ReadOnly"
	MutabilityWriteOnly Mutability = "WriteOnly"
	MutabilityReadWrite Mutability = "ReadWrite"
)

// IsValid reports whether e is a value of the enumeration.
func (e Mutability) IsValid() bool {
	switch e {
	case MutabilityReadOnly, MutabilityWriteOnly, MutabilityReadWrite:
		return true
	}
	return false
}

// OCPPInterface is the schema's OCPPInterfaceEnumType.
type OCPPInterface string

// Values of OCPPInterface.
const (
	OCPPInterfaceWired0    OCPPInterface = "Wired0"
	OCPPInterfaceWired1    OCPPInterface = "Wired1"
	OCPPInterfaceWired2    OCPPInterface = "Wired2"
	OCPPInterfaceWired3    OCPPInterface = "Wired3"
	OCPPInterfaceWireless0 OCPPInterface = "Wireless0"
	OCPPInterfaceWireless1 OCPPInterface = "Wireless1"
	OCPPInterfaceWireless2 OCPPInterface = "Wireless2"
	OCPPInterfaceWireless3 OCPPInterface = "Wireless3"
)

// IsValid reports whether e is a value of the enumeration.
func (e OCPPInterface) IsValid() bool {
	switch e {
	case OCPPInterfaceWired0, OCPPInterfaceWired1, OCPPInterfaceWired2, OCPPInterfaceWired3, OCPPInterfaceWireless0, OCPPInterfaceWireless1, OCPPInterfaceWireless2, OCPPInterfaceWireless3:
		return true
	}
	return false
}

// OCPPTransport is the schema's OCPPTransportEnumType.
type OCPPTransport string

// Values of OCPPTransport.
const (
	OCPPTransportJSON OCPPTransport = "JSON"
	OCPPTransportSOAP OCPPTransport = "SOAP"
)

// IsValid reports whether e is a value of the enumeration.
func (e OCPPTransport) IsValid() bool {
	switch e {
	case OCPPTransportJSON, OCPPTransportSOAP:
		return true
	}
	return false
}

// OCPPVersion is the schema's OCPPVersionEnumType.
type OCPPVersion string

// Values of OCPPVersion.
const (
	OCPPVersionOCPP12 OCPPVersion = "OCPP12"
	OCPPVersionOCPP15 OCPPVersion = "OCPP15"
	OCPPVersionOCPP16 OCPPVersion = "OCPP16"
	OCPPVersionOCPP20 OCPPVersion = "OCPP20"
)

// IsValid reports whether e is a value of the enumeration.
func (e OCPPVersion) IsValid() bool {
	switch e {
	case OCPPVersionOCPP12, OCPPVersionOCPP15, OCPPVersionOCPP16, OCPPVersionOCPP20:
		return true
	}
	return false
}

// OperationalStatus is the schema's OperationalStatusEnumType.
type OperationalStatus string

// Values of OperationalStatus.
const (
	OperationalStatusInoperative OperationalStatus = "Inoperative"
	OperationalStatusOperative   OperationalStatus = "Operative"
)

// IsValid reports whether e is a value of the enumeration.
func (e OperationalStatus) IsValid() bool {
	switch e {
	case OperationalStatusInoperative, OperationalStatusOperative:
		return true
	}
	return false
}

// Phase is the schema's PhaseEnumType.
type Phase string

// Values of Phase.
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

// IsValid reports whether e is a value of the enumeration.
func (e Phase) IsValid() bool {
	switch e {
	case PhaseL1, PhaseL2, PhaseL3, PhaseN, PhaseL1N, PhaseL2N, PhaseL3N, PhaseL1L2, PhaseL2L3, PhaseL3L1:
		return true
	}
	return false
}

// ReadingContext is the schema's ReadingContextEnumType.
type ReadingContext string

// Values of ReadingContext.
const (
	ReadingContextInterruptionBegin ReadingContext = "Interruption.Begin"
	ReadingContextInterruptionEnd   ReadingContext = "Interruption.End"
	ReadingContextOther             ReadingContext = "Other"
	ReadingContextSampleClock       ReadingContext = "Sample.Clock"
	ReadingContextSamplePeriodic    ReadingContext = "Sample.Periodic"
	ReadingContextTransactionBegin  ReadingContext = "Transaction.Begin"
	ReadingContextTransactionEnd    ReadingContext = "Transaction.End"
	ReadingContextTrigger           ReadingContext = "Trigger"
)

// IsValid reports whether e is a value of the enumeration.
func (e ReadingContext) IsValid() bool {
	switch e {
	case ReadingContextInterruptionBegin, ReadingContextInterruptionEnd, ReadingContextOther, ReadingContextSampleClock, ReadingContextSamplePeriodic, ReadingContextTransactionBegin, ReadingContextTransactionEnd, ReadingContextTrigger:
		return true
	}
	return false
}

// Reason is the schema's ReasonEnumType.
type Reason string

// Values of Reason.
const (
	ReasonDeAuthorized       Reason = "DeAuthorized"
	ReasonEmergencyStop      Reason = "EmergencyStop"
	ReasonEnergyLimitReached Reason = "EnergyLimitReached"
	ReasonEVDisconnected     Reason = "EVDisconnected"
	ReasonGroundFault        Reason = "GroundFault"
	ReasonImmediateReset     Reason = "ImmediateReset"
	ReasonLocal              Reason = "Local"
	ReasonLocalOutOfCredit   Reason = "LocalOutOfCredit"
	ReasonMasterPass         Reason = "MasterPass"
	ReasonOther              Reason = "Other"
	ReasonOvercurrentFault   Reason = "OvercurrentFault"
	ReasonPowerLoss          Reason = "PowerLoss"
	ReasonPowerQuality       Reason = "PowerQuality"
	ReasonReboot             Reason = "Reboot"
	ReasonRemote             Reason = "Remote"
	ReasonSOCLimitReached    Reason = "SOCLimitReached"
	ReasonStoppedByEV        Reason = "StoppedByEV"
	ReasonTimeLimitReached   Reason = "TimeLimitReached"
	ReasonTimeout            Reason = "Timeout"
)

// IsValid reports whether e is a value of the enumeration.
func (e Reason) IsValid() bool {
	switch e {
	case ReasonDeAuthorized, ReasonEmergencyStop, ReasonEnergyLimitReached, ReasonEVDisconnected, ReasonGroundFault, ReasonImmediateReset, ReasonLocal, ReasonLocalOutOfCredit, ReasonMasterPass, ReasonOther, ReasonOvercurrentFault, ReasonPowerLoss, ReasonPowerQuality, ReasonReboot, ReasonRemote, ReasonSOCLimitReached, ReasonStoppedByEV, ReasonTimeLimitReached, ReasonTimeout:
		return true
	}
	return false
}

// RecurrencyKind is the schema's RecurrencyKindEnumType.
type RecurrencyKind string

// Values of RecurrencyKind.
const (
	RecurrencyKindDaily  RecurrencyKind = "Daily"
	RecurrencyKindWeekly RecurrencyKind = "Weekly"
)

// IsValid reports whether e is a value of the enumeration.
func (e RecurrencyKind) IsValid() bool {
	switch e {
	case RecurrencyKindDaily, RecurrencyKindWeekly:
		return true
	}
	return false
}

// RegistrationStatus is the schema's RegistrationStatusEnumType.
type RegistrationStatus string

// Values of RegistrationStatus.
const (
	RegistrationStatusAccepted RegistrationStatus = "Accepted"
	RegistrationStatusPending  RegistrationStatus = "Pending"
	RegistrationStatusRejected RegistrationStatus = "Rejected"
)

// IsValid reports whether e is a value of the enumeration.
func (e RegistrationStatus) IsValid() bool {
	switch e {
	case RegistrationStatusAccepted, RegistrationStatusPending, RegistrationStatusRejected:
		return true
	}
	return false
}

// ReportBase is the schema's ReportBaseEnumType.
type ReportBase string

// Values of ReportBase.
const (
	ReportBaseConfigurationInventory ReportBase = "ConfigurationInventory"
	ReportBaseFullInventory          ReportBase = "FullInventory"
	ReportBaseSummaryInventory       ReportBase = "SummaryInventory"
)

// IsValid reports whether e is a value of the enumeration.
func (e ReportBase) IsValid() bool {
	switch e {
	case ReportBaseConfigurationInventory, ReportBaseFullInventory, ReportBaseSummaryInventory:
		return true
	}
	return false
}

// RequestStartStopStatus is the schema's RequestStartStopStatusEnumType.
type RequestStartStopStatus string

// Values of RequestStartStopStatus.
const (
	RequestStartStopStatusAccepted RequestStartStopStatus = "Accepted"
	RequestStartStopStatusRejected RequestStartStopStatus = "Rejected"
)

// IsValid reports whether e is a value of the enumeration.
func (e RequestStartStopStatus) IsValid() bool {
	switch e {
	case RequestStartStopStatusAccepted, RequestStartStopStatusRejected:
		return true
	}
	return false
}

// ReservationUpdateStatus is the schema's ReservationUpdateStatusEnumType.
type ReservationUpdateStatus string

// Values of ReservationUpdateStatus.
const (
	ReservationUpdateStatusExpired ReservationUpdateStatus = "Expired"
	ReservationUpdateStatusRemoved ReservationUpdateStatus = "Removed"
)

// IsValid reports whether e is a value of the enumeration.
func (e ReservationUpdateStatus) IsValid() bool {
	switch e {
	case ReservationUpdateStatusExpired, ReservationUpdateStatusRemoved:
		return true
	}
	return false
}

// ReserveNowStatus is the schema's ReserveNowStatusEnumType.
type ReserveNowStatus string

// Values of ReserveNowStatus.
const (
	ReserveNowStatusAccepted    ReserveNowStatus = "Accepted"
	ReserveNowStatusFaulted     ReserveNowStatus = "Faulted"
	ReserveNowStatusOccupied    ReserveNowStatus = "Occupied"
	ReserveNowStatusRejected    ReserveNowStatus = "Rejected"
	ReserveNowStatusUnavailable ReserveNowStatus = "Unavailable"
)

// IsValid reports whether e is a value of the enumeration.
func (e ReserveNowStatus) IsValid() bool {
	switch e {
	case ReserveNowStatusAccepted, ReserveNowStatusFaulted, ReserveNowStatusOccupied, ReserveNowStatusRejected, ReserveNowStatusUnavailable:
		return true
	}
	return false
}

// ResetKind is the schema's ResetEnumType.
type ResetKind string

// Values of ResetKind.
const (
	ResetKindImmediate ResetKind = "Immediate"
	ResetKindOnIdle    ResetKind = "OnIdle"
)

// IsValid reports whether e is a value of the enumeration.
func (e ResetKind) IsValid() bool {
	switch e {
	case ResetKindImmediate, ResetKindOnIdle:
		return true
	}
	return false
}

// ResetStatus is the schema's ResetStatusEnumType.
type ResetStatus string

// Values of ResetStatus.
const (
	ResetStatusAccepted  ResetStatus = "Accepted"
	ResetStatusRejected  ResetStatus = "Rejected"
	ResetStatusScheduled ResetStatus = "Scheduled"
)

// IsValid reports whether e is a value of the enumeration.
func (e ResetStatus) IsValid() bool {
	switch e {
	case ResetStatusAccepted, ResetStatusRejected, ResetStatusScheduled:
		return true
	}
	return false
}

// SendLocalListStatus is the schema's SendLocalListStatusEnumType.
type SendLocalListStatus string

// Values of SendLocalListStatus.
const (
	SendLocalListStatusAccepted        SendLocalListStatus = "Accepted"
	SendLocalListStatusFailed          SendLocalListStatus = "Failed"
	SendLocalListStatusVersionMismatch SendLocalListStatus = "VersionMismatch"
)

// IsValid reports whether e is a value of the enumeration.
func (e SendLocalListStatus) IsValid() bool {
	switch e {
	case SendLocalListStatusAccepted, SendLocalListStatusFailed, SendLocalListStatusVersionMismatch:
		return true
	}
	return false
}

// SetNetworkProfileStatus is the schema's SetNetworkProfileStatusEnumType.
type SetNetworkProfileStatus string

// Values of SetNetworkProfileStatus.
const (
	SetNetworkProfileStatusAccepted SetNetworkProfileStatus = "Accepted"
	SetNetworkProfileStatusRejected SetNetworkProfileStatus = "Rejected"
	SetNetworkProfileStatusFailed   SetNetworkProfileStatus = "Failed"
)

// IsValid reports whether e is a value of the enumeration.
func (e SetNetworkProfileStatus) IsValid() bool {
	switch e {
	case SetNetworkProfileStatusAccepted, SetNetworkProfileStatusRejected, SetNetworkProfileStatusFailed:
		return true
	}
	return false
}

// SetVariableStatus is the schema's SetVariableStatusEnumType.
type SetVariableStatus string

// Values of SetVariableStatus.
const (
	SetVariableStatusAccepted                  SetVariableStatus = "Accepted"
	SetVariableStatusRejected                  SetVariableStatus = "Rejected"
	SetVariableStatusUnknownComponent          SetVariableStatus = "UnknownComponent"
	SetVariableStatusUnknownVariable           SetVariableStatus = "UnknownVariable"
	SetVariableStatusNotSupportedAttributeType SetVariableStatus = "NotSupportedAttributeType"
	SetVariableStatusRebootRequired            SetVariableStatus = "RebootRequired"
)

// IsValid reports whether e is a value of the enumeration.
func (e SetVariableStatus) IsValid() bool {
	switch e {
	case SetVariableStatusAccepted, SetVariableStatusRejected, SetVariableStatusUnknownComponent, SetVariableStatusUnknownVariable, SetVariableStatusNotSupportedAttributeType, SetVariableStatusRebootRequired:
		return true
	}
	return false
}

// TransactionEventKind is the schema's TransactionEventEnumType.
type TransactionEventKind string

// Values of TransactionEventKind.
const (
	TransactionEventKindEnded   TransactionEventKind = "Ended"
	TransactionEventKindStarted TransactionEventKind = "Started"
	TransactionEventKindUpdated TransactionEventKind = "Updated"
)

// IsValid reports whether e is a value of the enumeration.
func (e TransactionEventKind) IsValid() bool {
	switch e {
	case TransactionEventKindEnded, TransactionEventKindStarted, TransactionEventKindUpdated:
		return true
	}
	return false
}

// TriggerMessageStatus is the schema's TriggerMessageStatusEnumType.
type TriggerMessageStatus string

// Values of TriggerMessageStatus.
const (
	TriggerMessageStatusAccepted       TriggerMessageStatus = "Accepted"
	TriggerMessageStatusRejected       TriggerMessageStatus = "Rejected"
	TriggerMessageStatusNotImplemented TriggerMessageStatus = "NotImplemented"
)

// IsValid reports whether e is a value of the enumeration.
func (e TriggerMessageStatus) IsValid() bool {
	switch e {
	case TriggerMessageStatusAccepted, TriggerMessageStatusRejected, TriggerMessageStatusNotImplemented:
		return true
	}
	return false
}

// TriggerReason is the schema's TriggerReasonEnumType.
type TriggerReason string

// Values of TriggerReason.
const (
	TriggerReasonAuthorized           TriggerReason = "Authorized"
	TriggerReasonCablePluggedIn       TriggerReason = "CablePluggedIn"
	TriggerReasonChargingRateChanged  TriggerReason = "ChargingRateChanged"
	TriggerReasonChargingStateChanged TriggerReason = "ChargingStateChanged"
	TriggerReasonDeauthorized         TriggerReason = "Deauthorized"
	TriggerReasonEnergyLimitReached   TriggerReason = "EnergyLimitReached"
	TriggerReasonEVCommunicationLost  TriggerReason = "EVCommunicationLost"
	TriggerReasonEVConnectTimeout     TriggerReason = "EVConnectTimeout"
	TriggerReasonMeterValueClock      TriggerReason = "MeterValueClock"
	TriggerReasonMeterValuePeriodic   TriggerReason = "MeterValuePeriodic"
	TriggerReasonTimeLimitReached     TriggerReason = "TimeLimitReached"
	TriggerReasonTrigger              TriggerReason = "Trigger"
	TriggerReasonUnlockCommand        TriggerReason = "UnlockCommand"
	TriggerReasonStopAuthorized       TriggerReason = "StopAuthorized"
	TriggerReasonEVDeparted           TriggerReason = "EVDeparted"
	TriggerReasonEVDetected           TriggerReason = "EVDetected"
	TriggerReasonRemoteStop           TriggerReason = "RemoteStop"
	TriggerReasonRemoteStart          TriggerReason = "RemoteStart"
	TriggerReasonAbnormalCondition    TriggerReason = "AbnormalCondition"
	TriggerReasonSignedDataReceived   TriggerReason = "SignedDataReceived"
	TriggerReasonResetCommand         TriggerReason = "ResetCommand"
)

// IsValid reports whether e is a value of the enumeration.
func (e TriggerReason) IsValid() bool {
	switch e {
	case TriggerReasonAuthorized, TriggerReasonCablePluggedIn, TriggerReasonChargingRateChanged, TriggerReasonChargingStateChanged, TriggerReasonDeauthorized, TriggerReasonEnergyLimitReached, TriggerReasonEVCommunicationLost, TriggerReasonEVConnectTimeout, TriggerReasonMeterValueClock, TriggerReasonMeterValuePeriodic, TriggerReasonTimeLimitReached, TriggerReasonTrigger, TriggerReasonUnlockCommand, TriggerReasonStopAuthorized, TriggerReasonEVDeparted, TriggerReasonEVDetected, TriggerReasonRemoteStop, TriggerReasonRemoteStart, TriggerReasonAbnormalCondition, TriggerReasonSignedDataReceived, TriggerReasonResetCommand:
		return true
	}
	return false
}

// UnlockStatus is the schema's UnlockStatusEnumType.
type UnlockStatus string

// Values of UnlockStatus.
const (
	UnlockStatusUnlocked                     UnlockStatus = "Unlocked"
	UnlockStatusUnlockFailed                 UnlockStatus = "UnlockFailed"
	UnlockStatusOngoingAuthorizedTransaction UnlockStatus = "OngoingAuthorizedTransaction"
	UnlockStatusUnknownConnector             UnlockStatus = "UnknownConnector"
)

// IsValid reports whether e is a value of the enumeration.
func (e UnlockStatus) IsValid() bool {
	switch e {
	case UnlockStatusUnlocked, UnlockStatusUnlockFailed, UnlockStatusOngoingAuthorizedTransaction, UnlockStatusUnknownConnector:
		return true
	}
	return false
}

// UpdateFirmwareStatus is the schema's UpdateFirmwareStatusEnumType.
type UpdateFirmwareStatus string

// Values of UpdateFirmwareStatus.
const (
	UpdateFirmwareStatusAccepted           UpdateFirmwareStatus = "Accepted"
	UpdateFirmwareStatusRejected           UpdateFirmwareStatus = "Rejected"
	UpdateFirmwareStatusAcceptedCanceled   UpdateFirmwareStatus = "AcceptedCanceled"
	UpdateFirmwareStatusInvalidCertificate UpdateFirmwareStatus = "InvalidCertificate"
	UpdateFirmwareStatusRevokedCertificate UpdateFirmwareStatus = "RevokedCertificate"
)

// IsValid reports whether e is a value of the enumeration.
func (e UpdateFirmwareStatus) IsValid() bool {
	switch e {
	case UpdateFirmwareStatusAccepted, UpdateFirmwareStatusRejected, UpdateFirmwareStatusAcceptedCanceled, UpdateFirmwareStatusInvalidCertificate, UpdateFirmwareStatusRevokedCertificate:
		return true
	}
	return false
}

// UpdateKind is the schema's UpdateEnumType.
type UpdateKind string

// Values of UpdateKind.
const (
	UpdateKindDifferential UpdateKind = "Differential"
	UpdateKindFull         UpdateKind = "Full"
)

// IsValid reports whether e is a value of the enumeration.
func (e UpdateKind) IsValid() bool {
	switch e {
	case UpdateKindDifferential, UpdateKindFull:
		return true
	}
	return false
}

// UploadLogStatus is the schema's UploadLogStatusEnumType.
type UploadLogStatus string

// Values of UploadLogStatus.
const (
	UploadLogStatusBadMessage            UploadLogStatus = "BadMessage"
	UploadLogStatusIdle                  UploadLogStatus = "Idle"
	UploadLogStatusNotSupportedOperation UploadLogStatus = "NotSupportedOperation"
	UploadLogStatusPermissionDenied      UploadLogStatus = "PermissionDenied"
	UploadLogStatusUploaded              UploadLogStatus = "Uploaded"
	UploadLogStatusUploadFailure         UploadLogStatus = "UploadFailure"
	UploadLogStatusUploading             UploadLogStatus = "Uploading"
	UploadLogStatusAcceptedCanceled      UploadLogStatus = "AcceptedCanceled"
)

// IsValid reports whether e is a value of the enumeration.
func (e UploadLogStatus) IsValid() bool {
	switch e {
	case UploadLogStatusBadMessage, UploadLogStatusIdle, UploadLogStatusNotSupportedOperation, UploadLogStatusPermissionDenied, UploadLogStatusUploaded, UploadLogStatusUploadFailure, UploadLogStatusUploading, UploadLogStatusAcceptedCanceled:
		return true
	}
	return false
}

// VPNKind is the schema's VPNEnumType.
type VPNKind string

// Values of VPNKind.
const (
	VPNKindIKEv2 VPNKind = "IKEv2"
	VPNKindIPSec VPNKind = "IPSec"
	VPNKindL2TP  VPNKind = "L2TP"
	VPNKindPPTP  VPNKind = "PPTP"
)

// IsValid reports whether e is a value of the enumeration.
func (e VPNKind) IsValid() bool {
	switch e {
	case VPNKindIKEv2, VPNKindIPSec, VPNKindL2TP, VPNKindPPTP:
		return true
	}
	return false
}
