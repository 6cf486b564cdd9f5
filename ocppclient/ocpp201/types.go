// These declarations follow the OCPP 2.0.1 JSON schemas one to one (they were
// first derived from ocpp2_0_1.json): change them only with the schemas at hand,
// and the conformance tests check every message against them.

package ocpp201

import "encoding/json"

var _ json.RawMessage

// APN is the schema's APNType.
type APN struct {
	APN                     string            `json:"apn" ocpp:"required,max=512"`
	APNUserName             string            `json:"apnUserName,omitempty" ocpp:"max=20"`
	APNPassword             string            `json:"apnPassword,omitempty" ocpp:"max=20"`
	SimPin                  *int              `json:"simPin,omitempty"`
	PreferredNetwork        string            `json:"preferredNetwork,omitempty" ocpp:"max=6"`
	UseOnlyPreferredNetwork *bool             `json:"useOnlyPreferredNetwork,omitempty"`
	APNAuthentication       APNAuthentication `json:"apnAuthentication" ocpp:"required"`
}

// AdditionalInfo is the schema's AdditionalInfoType.
type AdditionalInfo struct {
	AdditionalIDToken string `json:"additionalIdToken" ocpp:"required,max=36"`
	Type              string `json:"type" ocpp:"required,max=50"`
}

// AuthorizationData is the schema's AuthorizationData.
type AuthorizationData struct {
	IDToken     IDToken      `json:"idToken" ocpp:"required"`
	IDTokenInfo *IDTokenInfo `json:"idTokenInfo,omitempty"`
}

// CertificateHashData is the schema's CertificateHashDataType.
type CertificateHashData struct {
	HashAlgorithm  HashAlgorithm `json:"hashAlgorithm" ocpp:"required"`
	IssuerNameHash string        `json:"issuerNameHash" ocpp:"required,max=128"`
	IssuerKeyHash  string        `json:"issuerKeyHash" ocpp:"required,max=128"`
	SerialNumber   string        `json:"serialNumber" ocpp:"required,max=40"`
}

// CertificateHashDataChain is the schema's CertificateHashDataChainType.
type CertificateHashDataChain struct {
	CertificateHashData      CertificateHashData   `json:"certificateHashData" ocpp:"required"`
	CertificateType          GetCertificateIDUse   `json:"certificateType" ocpp:"required"`
	ChildCertificateHashData []CertificateHashData `json:"childCertificateHashData,omitempty" ocpp:"minItems=1,maxItems=4"`
}

// ChargingProfile is the schema's ChargingProfileType.
type ChargingProfile struct {
	ID                     int                    `json:"id" ocpp:"required"`
	StackLevel             int                    `json:"stackLevel" ocpp:"required"`
	ChargingProfilePurpose ChargingProfilePurpose `json:"chargingProfilePurpose" ocpp:"required"`
	ChargingProfileKind    ChargingProfileKind    `json:"chargingProfileKind" ocpp:"required"`
	RecurrencyKind         RecurrencyKind         `json:"recurrencyKind,omitempty"`
	ValidFrom              *DateTime              `json:"validFrom,omitempty"`
	ValidTo                *DateTime              `json:"validTo,omitempty"`
	ChargingSchedule       []ChargingSchedule     `json:"chargingSchedule" ocpp:"required,minItems=1,maxItems=3"`
	TransactionID          string                 `json:"transactionId,omitempty" ocpp:"max=36"`
}

// ChargingProfileCriterion is the schema's ChargingProfileCriterionType.
type ChargingProfileCriterion struct {
	ChargingProfilePurpose ChargingProfilePurpose `json:"chargingProfilePurpose,omitempty"`
	StackLevel             *int                   `json:"stackLevel,omitempty"`
	ChargingProfileID      []int                  `json:"chargingProfileId,omitempty" ocpp:"minItems=1"`
	ChargingLimitSource    []ChargingLimitSource  `json:"chargingLimitSource,omitempty" ocpp:"minItems=1,maxItems=4"`
}

// ChargingSchedule is the schema's ChargingScheduleType.
type ChargingSchedule struct {
	ID                     int                      `json:"id" ocpp:"required"`
	StartSchedule          *DateTime                `json:"startSchedule,omitempty"`
	Duration               *int                     `json:"duration,omitempty"`
	ChargingRateUnit       ChargingRateUnit         `json:"chargingRateUnit" ocpp:"required"`
	ChargingSchedulePeriod []ChargingSchedulePeriod `json:"chargingSchedulePeriod" ocpp:"required,minItems=1,maxItems=1024"`
	MinChargingRate        *float64                 `json:"minChargingRate,omitempty"`
	SalesTariff            *SalesTariff             `json:"salesTariff,omitempty"`
}

// ChargingSchedulePeriod is the schema's ChargingSchedulePeriodType.
type ChargingSchedulePeriod struct {
	StartPeriod  int     `json:"startPeriod" ocpp:"required"`
	Limit        float64 `json:"limit" ocpp:"required"`
	NumberPhases *int    `json:"numberPhases,omitempty"`
	PhaseToUse   *int    `json:"phaseToUse,omitempty"`
}

// ChargingStation is the schema's ChargingStationType.
type ChargingStation struct {
	SerialNumber    string `json:"serialNumber,omitempty" ocpp:"max=25"`
	Model           string `json:"model" ocpp:"required,max=20"`
	Modem           *Modem `json:"modem,omitempty"`
	VendorName      string `json:"vendorName" ocpp:"required,max=50"`
	FirmwareVersion string `json:"firmwareVersion,omitempty" ocpp:"max=50"`
}

// ClearChargingProfile is the schema's ClearChargingProfileType.
type ClearChargingProfile struct {
	EVSEID                 *int                   `json:"evseId,omitempty"`
	ChargingProfilePurpose ChargingProfilePurpose `json:"chargingProfilePurpose,omitempty"`
	StackLevel             *int                   `json:"stackLevel,omitempty"`
}

// Component is the schema's ComponentType.
type Component struct {
	EVSE     *EVSE  `json:"evse,omitempty"`
	Name     string `json:"name" ocpp:"required,max=50"`
	Instance string `json:"instance,omitempty" ocpp:"max=50"`
}

// ComponentVariable is the schema's ComponentVariableType.
type ComponentVariable struct {
	Component Component `json:"component" ocpp:"required"`
	Variable  *Variable `json:"variable,omitempty"`
}

// CompositeSchedule is the schema's CompositeScheduleType.
type CompositeSchedule struct {
	ChargingSchedulePeriod []ChargingSchedulePeriod `json:"chargingSchedulePeriod" ocpp:"required,minItems=1"`
	EVSEID                 int                      `json:"evseId" ocpp:"required"`
	Duration               int                      `json:"duration" ocpp:"required"`
	ScheduleStart          DateTime                 `json:"scheduleStart" ocpp:"required"`
	ChargingRateUnit       ChargingRateUnit         `json:"chargingRateUnit" ocpp:"required"`
}

// ConsumptionCost is the schema's ConsumptionCostType.
type ConsumptionCost struct {
	StartValue float64 `json:"startValue" ocpp:"required"`
	Cost       []Cost  `json:"cost" ocpp:"required,minItems=1,maxItems=3"`
}

// Cost is the schema's CostType.
type Cost struct {
	CostKind         CostKind `json:"costKind" ocpp:"required"`
	Amount           int      `json:"amount" ocpp:"required"`
	AmountMultiplier *int     `json:"amountMultiplier,omitempty"`
}

// EVSE is the schema's EVSEType.
type EVSE struct {
	ID          int  `json:"id" ocpp:"required"`
	ConnectorID *int `json:"connectorId,omitempty"`
}

// Firmware is the schema's FirmwareType.
type Firmware struct {
	Location           string    `json:"location" ocpp:"required,max=512"`
	RetrieveDateTime   DateTime  `json:"retrieveDateTime" ocpp:"required"`
	InstallDateTime    *DateTime `json:"installDateTime,omitempty"`
	SigningCertificate string    `json:"signingCertificate,omitempty" ocpp:"max=5500"`
	Signature          string    `json:"signature,omitempty" ocpp:"max=800"`
}

// GetVariableData is the schema's GetVariableDataType.
type GetVariableData struct {
	AttributeType Attribute `json:"attributeType,omitempty"`
	Component     Component `json:"component" ocpp:"required"`
	Variable      Variable  `json:"variable" ocpp:"required"`
}

// GetVariableResult is the schema's GetVariableResultType.
type GetVariableResult struct {
	AttributeStatusInfo *StatusInfo       `json:"attributeStatusInfo,omitempty"`
	AttributeStatus     GetVariableStatus `json:"attributeStatus" ocpp:"required"`
	AttributeType       Attribute         `json:"attributeType,omitempty"`
	AttributeValue      string            `json:"attributeValue,omitempty" ocpp:"max=2500"`
	Component           Component         `json:"component" ocpp:"required"`
	Variable            Variable          `json:"variable" ocpp:"required"`
}

// IDToken is the schema's IdTokenType.
type IDToken struct {
	AdditionalInfo []AdditionalInfo `json:"additionalInfo,omitempty" ocpp:"minItems=1"`
	IDToken        string           `json:"idToken" ocpp:"required,max=36"`
	Type           IDTokenKind      `json:"type" ocpp:"required"`
}

// IDTokenInfo is the schema's IdTokenInfoType.
type IDTokenInfo struct {
	Status              AuthorizationStatus `json:"status" ocpp:"required"`
	CacheExpiryDateTime *DateTime           `json:"cacheExpiryDateTime,omitempty"`
	ChargingPriority    *int                `json:"chargingPriority,omitempty"`
	Language1           string              `json:"language1,omitempty" ocpp:"max=8"`
	EVSEID              []int               `json:"evseId,omitempty" ocpp:"minItems=1"`
	GroupIDToken        *IDToken            `json:"groupIdToken,omitempty"`
	Language2           string              `json:"language2,omitempty" ocpp:"max=8"`
	PersonalMessage     *MessageContent     `json:"personalMessage,omitempty"`
}

// LogParameters is the schema's LogParametersType.
type LogParameters struct {
	RemoteLocation  string    `json:"remoteLocation" ocpp:"required,max=512"`
	OldestTimestamp *DateTime `json:"oldestTimestamp,omitempty"`
	LatestTimestamp *DateTime `json:"latestTimestamp,omitempty"`
}

// MessageContent is the schema's MessageContentType.
type MessageContent struct {
	Format   MessageFormat `json:"format" ocpp:"required"`
	Language string        `json:"language,omitempty" ocpp:"max=8"`
	Content  string        `json:"content" ocpp:"required,max=512"`
}

// MeterValue is the schema's MeterValueType.
type MeterValue struct {
	SampledValue []SampledValue `json:"sampledValue" ocpp:"required,minItems=1"`
	Timestamp    DateTime       `json:"timestamp" ocpp:"required"`
}

// Modem is the schema's ModemType.
type Modem struct {
	Iccid string `json:"iccid,omitempty" ocpp:"max=20"`
	Imsi  string `json:"imsi,omitempty" ocpp:"max=20"`
}

// NetworkConnectionProfile is the schema's NetworkConnectionProfileType.
type NetworkConnectionProfile struct {
	APN             *APN          `json:"apn,omitempty"`
	OCPPVersion     OCPPVersion   `json:"ocppVersion" ocpp:"required"`
	OCPPTransport   OCPPTransport `json:"ocppTransport" ocpp:"required"`
	OCPPCSMSURL     string        `json:"ocppCsmsUrl" ocpp:"required,max=512"`
	MessageTimeout  int           `json:"messageTimeout" ocpp:"required"`
	SecurityProfile int           `json:"securityProfile" ocpp:"required"`
	OCPPInterface   OCPPInterface `json:"ocppInterface" ocpp:"required"`
	VPN             *VPN          `json:"vpn,omitempty"`
}

// OCSPRequestData is the schema's OCSPRequestDataType.
type OCSPRequestData struct {
	HashAlgorithm  HashAlgorithm `json:"hashAlgorithm" ocpp:"required"`
	IssuerNameHash string        `json:"issuerNameHash" ocpp:"required,max=128"`
	IssuerKeyHash  string        `json:"issuerKeyHash" ocpp:"required,max=128"`
	SerialNumber   string        `json:"serialNumber" ocpp:"required,max=40"`
	ResponderURL   string        `json:"responderURL" ocpp:"required,max=512"`
}

// RelativeTimeInterval is the schema's RelativeTimeIntervalType.
type RelativeTimeInterval struct {
	Start    int  `json:"start" ocpp:"required"`
	Duration *int `json:"duration,omitempty"`
}

// ReportData is the schema's ReportDataType.
type ReportData struct {
	Component               Component                `json:"component" ocpp:"required"`
	Variable                Variable                 `json:"variable" ocpp:"required"`
	VariableAttribute       []VariableAttribute      `json:"variableAttribute" ocpp:"required,minItems=1,maxItems=4"`
	VariableCharacteristics *VariableCharacteristics `json:"variableCharacteristics,omitempty"`
}

// SalesTariff is the schema's SalesTariffType.
type SalesTariff struct {
	ID                     int                `json:"id" ocpp:"required"`
	SalesTariffDescription string             `json:"salesTariffDescription,omitempty" ocpp:"max=32"`
	NumEPriceLevels        *int               `json:"numEPriceLevels,omitempty"`
	SalesTariffEntry       []SalesTariffEntry `json:"salesTariffEntry" ocpp:"required,minItems=1,maxItems=1024"`
}

// SalesTariffEntry is the schema's SalesTariffEntryType.
type SalesTariffEntry struct {
	RelativeTimeInterval RelativeTimeInterval `json:"relativeTimeInterval" ocpp:"required"`
	EPriceLevel          *int                 `json:"ePriceLevel,omitempty" ocpp:"min=0"`
	ConsumptionCost      []ConsumptionCost    `json:"consumptionCost,omitempty" ocpp:"minItems=1,maxItems=3"`
}

// SampledValue is the schema's SampledValueType.
type SampledValue struct {
	Value            float64           `json:"value" ocpp:"required"`
	Context          ReadingContext    `json:"context,omitempty"`
	Measurand        Measurand         `json:"measurand,omitempty"`
	Phase            Phase             `json:"phase,omitempty"`
	Location         Location          `json:"location,omitempty"`
	SignedMeterValue *SignedMeterValue `json:"signedMeterValue,omitempty"`
	UnitOfMeasure    *UnitOfMeasure    `json:"unitOfMeasure,omitempty"`
}

// SetVariableData is the schema's SetVariableDataType.
type SetVariableData struct {
	AttributeType  Attribute `json:"attributeType,omitempty"`
	AttributeValue string    `json:"attributeValue" ocpp:"required,max=1000"`
	Component      Component `json:"component" ocpp:"required"`
	Variable       Variable  `json:"variable" ocpp:"required"`
}

// SetVariableResult is the schema's SetVariableResultType.
type SetVariableResult struct {
	AttributeType       Attribute         `json:"attributeType,omitempty"`
	AttributeStatus     SetVariableStatus `json:"attributeStatus" ocpp:"required"`
	AttributeStatusInfo *StatusInfo       `json:"attributeStatusInfo,omitempty"`
	Component           Component         `json:"component" ocpp:"required"`
	Variable            Variable          `json:"variable" ocpp:"required"`
}

// SignedMeterValue is the schema's SignedMeterValueType.
type SignedMeterValue struct {
	SignedMeterData string `json:"signedMeterData" ocpp:"required,max=2500"`
	SigningMethod   string `json:"signingMethod" ocpp:"required,max=50"`
	EncodingMethod  string `json:"encodingMethod" ocpp:"required,max=50"`
	PublicKey       string `json:"publicKey" ocpp:"required,max=2500"`
}

// StatusInfo is the schema's StatusInfoType.
type StatusInfo struct {
	ReasonCode     string `json:"reasonCode" ocpp:"required,max=20"`
	AdditionalInfo string `json:"additionalInfo,omitempty" ocpp:"max=512"`
}

// Transaction is the schema's TransactionType.
type Transaction struct {
	TransactionID     string        `json:"transactionId" ocpp:"required,max=36"`
	ChargingState     ChargingState `json:"chargingState,omitempty"`
	TimeSpentCharging *int          `json:"timeSpentCharging,omitempty"`
	StoppedReason     Reason        `json:"stoppedReason,omitempty"`
	RemoteStartID     *int          `json:"remoteStartId,omitempty"`
}

// UnitOfMeasure is the schema's UnitOfMeasureType.
type UnitOfMeasure struct {
	Unit       string `json:"unit,omitempty" ocpp:"max=20"`
	Multiplier *int   `json:"multiplier,omitempty"`
}

// VPN is the schema's VPNType.
type VPN struct {
	Server   string  `json:"server" ocpp:"required,max=512"`
	User     string  `json:"user" ocpp:"required,max=20"`
	Group    string  `json:"group,omitempty" ocpp:"max=20"`
	Password string  `json:"password" ocpp:"required,max=20"`
	Key      string  `json:"key" ocpp:"required,max=255"`
	Type     VPNKind `json:"type" ocpp:"required"`
}

// Variable is the schema's VariableType.
type Variable struct {
	Name     string `json:"name" ocpp:"required,max=50"`
	Instance string `json:"instance,omitempty" ocpp:"max=50"`
}

// VariableAttribute is the schema's VariableAttributeType.
type VariableAttribute struct {
	Type       Attribute  `json:"type,omitempty"`
	Value      string     `json:"value,omitempty" ocpp:"max=2500"`
	Mutability Mutability `json:"mutability,omitempty"`
	Persistent *bool      `json:"persistent,omitempty"`
	Constant   *bool      `json:"constant,omitempty"`
}

// VariableCharacteristics is the schema's VariableCharacteristicsType.
type VariableCharacteristics struct {
	Unit               string   `json:"unit,omitempty" ocpp:"max=16"`
	DataType           DataKind `json:"dataType" ocpp:"required"`
	MinLimit           *float64 `json:"minLimit,omitempty"`
	MaxLimit           *float64 `json:"maxLimit,omitempty"`
	ValuesList         string   `json:"valuesList,omitempty" ocpp:"max=1000"`
	SupportsMonitoring bool     `json:"supportsMonitoring" ocpp:"required"`
}
