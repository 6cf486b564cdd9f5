// These declarations follow the OCPP 2.0.1 JSON schemas one to one (they were
// first derived from ocpp2_0_1.json): change them only with the schemas at hand,
// and the conformance tests check every message against them.

package ocpp201

import "encoding/json"

// Action names of OCPP 2.0.1 as they appear in CALL frames.
const (
	ActionAuthorize                  = "Authorize"
	ActionBootNotification           = "BootNotification"
	ActionCancelReservation          = "CancelReservation"
	ActionCertificateSigned          = "CertificateSigned"
	ActionChangeAvailability         = "ChangeAvailability"
	ActionClearCache                 = "ClearCache"
	ActionClearChargingProfile       = "ClearChargingProfile"
	ActionCostUpdated                = "CostUpdated"
	ActionDataTransfer               = "DataTransfer"
	ActionDeleteCertificate          = "DeleteCertificate"
	ActionFirmwareStatusNotification = "FirmwareStatusNotification"
	ActionGetBaseReport              = "GetBaseReport"
	ActionGetChargingProfiles        = "GetChargingProfiles"
	ActionGetCompositeSchedule       = "GetCompositeSchedule"
	ActionGetInstalledCertificateIds = "GetInstalledCertificateIds"
	ActionGetLocalListVersion        = "GetLocalListVersion"
	ActionGetLog                     = "GetLog"
	ActionGetReport                  = "GetReport"
	ActionGetTransactionStatus       = "GetTransactionStatus"
	ActionGetVariables               = "GetVariables"
	ActionHeartbeat                  = "Heartbeat"
	ActionInstallCertificate         = "InstallCertificate"
	ActionLogStatusNotification      = "LogStatusNotification"
	ActionMeterValues                = "MeterValues"
	ActionNotifyReport               = "NotifyReport"
	ActionReportChargingProfiles     = "ReportChargingProfiles"
	ActionRequestStartTransaction    = "RequestStartTransaction"
	ActionRequestStopTransaction     = "RequestStopTransaction"
	ActionReservationStatusUpdate    = "ReservationStatusUpdate"
	ActionReserveNow                 = "ReserveNow"
	ActionReset                      = "Reset"
	ActionSecurityEventNotification  = "SecurityEventNotification"
	ActionSendLocalList              = "SendLocalList"
	ActionSetChargingProfile         = "SetChargingProfile"
	ActionSetNetworkProfile          = "SetNetworkProfile"
	ActionSetVariables               = "SetVariables"
	ActionSignCertificate            = "SignCertificate"
	ActionStatusNotification         = "StatusNotification"
	ActionTransactionEvent           = "TransactionEvent"
	ActionTriggerMessage             = "TriggerMessage"
	ActionUnlockConnector            = "UnlockConnector"
	ActionUpdateFirmware             = "UpdateFirmware"
)

// AuthorizeRequest is the payload of a Authorize (urn:Authorize.req).
type AuthorizeRequest struct {
	IDToken                     IDToken           `json:"idToken" ocpp:"required"`
	Certificate                 string            `json:"certificate,omitempty" ocpp:"max=5500"`
	Iso15118CertificateHashData []OCSPRequestData `json:"iso15118CertificateHashData,omitempty" ocpp:"minItems=1,maxItems=4"`
}

// Validate checks m against the rules of its schema.
func (m *AuthorizeRequest) Validate() error { return Validate(m) }

// AuthorizeResponse is the payload of the answer to a Authorize (urn:Authorize.conf).
type AuthorizeResponse struct {
	IDTokenInfo       IDTokenInfo                `json:"idTokenInfo" ocpp:"required"`
	CertificateStatus AuthorizeCertificateStatus `json:"certificateStatus,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *AuthorizeResponse) Validate() error { return Validate(m) }

// BootNotificationRequest is the payload of a BootNotification (urn:BootNotification.req).
type BootNotificationRequest struct {
	ChargingStation ChargingStation `json:"chargingStation" ocpp:"required"`
	Reason          BootReason      `json:"reason" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *BootNotificationRequest) Validate() error { return Validate(m) }

// BootNotificationResponse is the payload of the answer to a BootNotification (urn:BootNotification.conf).
type BootNotificationResponse struct {
	CurrentTime DateTime           `json:"currentTime" ocpp:"required"`
	Interval    int                `json:"interval" ocpp:"required"`
	Status      RegistrationStatus `json:"status" ocpp:"required"`
	StatusInfo  *StatusInfo        `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *BootNotificationResponse) Validate() error { return Validate(m) }

// CancelReservationRequest is the payload of a CancelReservation (urn:CancelReservation.req).
type CancelReservationRequest struct {
	ReservationID int `json:"reservationId" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *CancelReservationRequest) Validate() error { return Validate(m) }

// CancelReservationResponse is the payload of the answer to a CancelReservation (urn:CancelReservation.conf).
type CancelReservationResponse struct {
	Status     CancelReservationStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo             `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *CancelReservationResponse) Validate() error { return Validate(m) }

// CertificateSignedRequest is the payload of a CertificateSigned (urn:CertificateSigned.req).
type CertificateSignedRequest struct {
	CertificateChain string                `json:"certificateChain" ocpp:"required,max=10000"`
	CertificateType  CertificateSigningUse `json:"certificateType,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *CertificateSignedRequest) Validate() error { return Validate(m) }

// CertificateSignedResponse is the payload of the answer to a CertificateSigned (urn:CertificateSigned.conf).
type CertificateSignedResponse struct {
	Status     CertificateSignedStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo             `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *CertificateSignedResponse) Validate() error { return Validate(m) }

// ChangeAvailabilityRequest is the payload of a ChangeAvailability (urn:ChangeAvailability.req).
type ChangeAvailabilityRequest struct {
	EVSE              *EVSE             `json:"evse,omitempty"`
	OperationalStatus OperationalStatus `json:"operationalStatus" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *ChangeAvailabilityRequest) Validate() error { return Validate(m) }

// ChangeAvailabilityResponse is the payload of the answer to a ChangeAvailability (urn:ChangeAvailability.conf).
type ChangeAvailabilityResponse struct {
	Status     ChangeAvailabilityStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo              `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *ChangeAvailabilityResponse) Validate() error { return Validate(m) }

// ClearCacheRequest is the payload of a ClearCache (urn:ClearCache.req).
type ClearCacheRequest struct {
}

// Validate checks m against the rules of its schema.
func (m *ClearCacheRequest) Validate() error { return Validate(m) }

// ClearCacheResponse is the payload of the answer to a ClearCache (urn:ClearCache.conf).
type ClearCacheResponse struct {
	Status     ClearCacheStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo      `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *ClearCacheResponse) Validate() error { return Validate(m) }

// ClearChargingProfileRequest is the payload of a ClearChargingProfile (urn:ClearChargingProfile.req).
type ClearChargingProfileRequest struct {
	ChargingProfileID       *int                  `json:"chargingProfileId,omitempty"`
	ChargingProfileCriteria *ClearChargingProfile `json:"chargingProfileCriteria,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *ClearChargingProfileRequest) Validate() error { return Validate(m) }

// ClearChargingProfileResponse is the payload of the answer to a ClearChargingProfile (urn:ClearChargingProfile.conf).
type ClearChargingProfileResponse struct {
	Status     ClearChargingProfileStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo                `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *ClearChargingProfileResponse) Validate() error { return Validate(m) }

// CostUpdatedRequest is the payload of a CostUpdated (urn:CostUpdated.req).
type CostUpdatedRequest struct {
	TotalCost     float64 `json:"totalCost" ocpp:"required"`
	TransactionID string  `json:"transactionId" ocpp:"required,max=36"`
}

// Validate checks m against the rules of its schema.
func (m *CostUpdatedRequest) Validate() error { return Validate(m) }

// CostUpdatedResponse is the payload of the answer to a CostUpdated (urn:CostUpdated.conf).
type CostUpdatedResponse struct{}

// Validate checks m against the rules of its schema.
func (m *CostUpdatedResponse) Validate() error { return Validate(m) }

// DataTransferRequest is the payload of a DataTransfer (urn:DataTransfer.req).
type DataTransferRequest struct {
	MessageID string          `json:"messageId,omitempty" ocpp:"max=50"`
	Data      json.RawMessage `json:"data,omitempty"`
	VendorID  string          `json:"vendorId" ocpp:"required,max=255"`
}

// Validate checks m against the rules of its schema.
func (m *DataTransferRequest) Validate() error { return Validate(m) }

// DataTransferResponse is the payload of the answer to a DataTransfer (urn:DataTransfer.conf).
type DataTransferResponse struct {
	Status     DataTransferStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo        `json:"statusInfo,omitempty"`
	Data       json.RawMessage    `json:"data,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *DataTransferResponse) Validate() error { return Validate(m) }

// DeleteCertificateRequest is the payload of a DeleteCertificate (urn:DeleteCertificate.req).
type DeleteCertificateRequest struct {
	CertificateHashData CertificateHashData `json:"certificateHashData" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *DeleteCertificateRequest) Validate() error { return Validate(m) }

// DeleteCertificateResponse is the payload of the answer to a DeleteCertificate (urn:DeleteCertificate.conf).
type DeleteCertificateResponse struct {
	Status     DeleteCertificateStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo             `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *DeleteCertificateResponse) Validate() error { return Validate(m) }

// FirmwareStatusNotificationRequest is the payload of a FirmwareStatusNotification (urn:FirmwareStatusNotification.req).
type FirmwareStatusNotificationRequest struct {
	Status    FirmwareStatus `json:"status" ocpp:"required"`
	RequestID *int           `json:"requestId,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *FirmwareStatusNotificationRequest) Validate() error { return Validate(m) }

// FirmwareStatusNotificationResponse is the payload of the answer to a FirmwareStatusNotification (urn:FirmwareStatusNotification.conf).
type FirmwareStatusNotificationResponse struct {
}

// Validate checks m against the rules of its schema.
func (m *FirmwareStatusNotificationResponse) Validate() error { return Validate(m) }

// GetBaseReportRequest is the payload of a GetBaseReport (urn:GetBaseReport.req).
type GetBaseReportRequest struct {
	RequestID  int        `json:"requestId" ocpp:"required"`
	ReportBase ReportBase `json:"reportBase" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *GetBaseReportRequest) Validate() error { return Validate(m) }

// GetBaseReportResponse is the payload of the answer to a GetBaseReport (urn:GetBaseReport.conf).
type GetBaseReportResponse struct {
	Status     GenericDeviceModelStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo              `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *GetBaseReportResponse) Validate() error { return Validate(m) }

// GetChargingProfilesRequest is the payload of a GetChargingProfiles (urn:GetChargingProfiles.req).
type GetChargingProfilesRequest struct {
	RequestID       int                      `json:"requestId" ocpp:"required"`
	EVSEID          *int                     `json:"evseId,omitempty"`
	ChargingProfile ChargingProfileCriterion `json:"chargingProfile" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *GetChargingProfilesRequest) Validate() error { return Validate(m) }

// GetChargingProfilesResponse is the payload of the answer to a GetChargingProfiles (urn:GetChargingProfiles.conf).
type GetChargingProfilesResponse struct {
	Status     GetChargingProfileStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo              `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *GetChargingProfilesResponse) Validate() error { return Validate(m) }

// GetCompositeScheduleRequest is the payload of a GetCompositeSchedule (urn:GetCompositeSchedule.req).
type GetCompositeScheduleRequest struct {
	Duration         int              `json:"duration" ocpp:"required"`
	ChargingRateUnit ChargingRateUnit `json:"chargingRateUnit,omitempty"`
	EVSEID           int              `json:"evseId" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *GetCompositeScheduleRequest) Validate() error { return Validate(m) }

// GetCompositeScheduleResponse is the payload of the answer to a GetCompositeSchedule (urn:GetCompositeSchedule.conf).
type GetCompositeScheduleResponse struct {
	Status     GenericStatus      `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo        `json:"statusInfo,omitempty"`
	Schedule   *CompositeSchedule `json:"schedule,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *GetCompositeScheduleResponse) Validate() error { return Validate(m) }

// GetInstalledCertificateIdsRequest is the payload of a GetInstalledCertificateIds (urn:GetInstalledCertificateIds.req).
type GetInstalledCertificateIdsRequest struct {
	CertificateType []GetCertificateIDUse `json:"certificateType,omitempty" ocpp:"minItems=1"`
}

// Validate checks m against the rules of its schema.
func (m *GetInstalledCertificateIdsRequest) Validate() error { return Validate(m) }

// GetInstalledCertificateIdsResponse is the payload of the answer to a GetInstalledCertificateIds (urn:GetInstalledCertificateIds.conf).
type GetInstalledCertificateIdsResponse struct {
	Status                   GetInstalledCertificateStatus `json:"status" ocpp:"required"`
	StatusInfo               *StatusInfo                   `json:"statusInfo,omitempty"`
	CertificateHashDataChain []CertificateHashDataChain    `json:"certificateHashDataChain,omitempty" ocpp:"minItems=1"`
}

// Validate checks m against the rules of its schema.
func (m *GetInstalledCertificateIdsResponse) Validate() error { return Validate(m) }

// GetLocalListVersionRequest is the payload of a GetLocalListVersion (urn:GetLocalListVersion.req).
type GetLocalListVersionRequest struct {
}

// Validate checks m against the rules of its schema.
func (m *GetLocalListVersionRequest) Validate() error { return Validate(m) }

// GetLocalListVersionResponse is the payload of the answer to a GetLocalListVersion (urn:GetLocalListVersion.conf).
type GetLocalListVersionResponse struct {
	VersionNumber int `json:"versionNumber" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *GetLocalListVersionResponse) Validate() error { return Validate(m) }

// GetLogRequest is the payload of a GetLog (urn:GetLog.req).
type GetLogRequest struct {
	Log           LogParameters `json:"log" ocpp:"required"`
	LogType       LogKind       `json:"logType" ocpp:"required"`
	RequestID     int           `json:"requestId" ocpp:"required"`
	Retries       *int          `json:"retries,omitempty"`
	RetryInterval *int          `json:"retryInterval,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *GetLogRequest) Validate() error { return Validate(m) }

// GetLogResponse is the payload of the answer to a GetLog (urn:GetLog.conf).
type GetLogResponse struct {
	Status     LogStatus   `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo `json:"statusInfo,omitempty"`
	Filename   string      `json:"filename,omitempty" ocpp:"max=255"`
}

// Validate checks m against the rules of its schema.
func (m *GetLogResponse) Validate() error { return Validate(m) }

// GetReportRequest is the payload of a GetReport (urn:GetReport.req).
type GetReportRequest struct {
	ComponentVariable []ComponentVariable  `json:"componentVariable,omitempty" ocpp:"minItems=1"`
	RequestID         int                  `json:"requestId" ocpp:"required"`
	ComponentCriteria []ComponentCriterion `json:"componentCriteria,omitempty" ocpp:"minItems=1,maxItems=4"`
}

// Validate checks m against the rules of its schema.
func (m *GetReportRequest) Validate() error { return Validate(m) }

// GetReportResponse is the payload of the answer to a GetReport (urn:GetReport.conf).
type GetReportResponse struct {
	Status     GenericDeviceModelStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo              `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *GetReportResponse) Validate() error { return Validate(m) }

// GetTransactionStatusRequest is the payload of a GetTransactionStatus (urn:GetTransactionStatus.req).
type GetTransactionStatusRequest struct {
	TransactionID string `json:"transactionId,omitempty" ocpp:"max=36"`
}

// Validate checks m against the rules of its schema.
func (m *GetTransactionStatusRequest) Validate() error { return Validate(m) }

// GetTransactionStatusResponse is the payload of the answer to a GetTransactionStatus (urn:GetTransactionStatus.conf).
type GetTransactionStatusResponse struct {
	OngoingIndicator *bool `json:"ongoingIndicator,omitempty"`
	MessagesInQueue  bool  `json:"messagesInQueue" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *GetTransactionStatusResponse) Validate() error { return Validate(m) }

// GetVariablesRequest is the payload of a GetVariables (urn:GetVariables.req).
type GetVariablesRequest struct {
	GetVariableData []GetVariableData `json:"getVariableData" ocpp:"required,minItems=1"`
}

// Validate checks m against the rules of its schema.
func (m *GetVariablesRequest) Validate() error { return Validate(m) }

// GetVariablesResponse is the payload of the answer to a GetVariables (urn:GetVariables.conf).
type GetVariablesResponse struct {
	GetVariableResult []GetVariableResult `json:"getVariableResult" ocpp:"required,minItems=1"`
}

// Validate checks m against the rules of its schema.
func (m *GetVariablesResponse) Validate() error { return Validate(m) }

// HeartbeatRequest is the payload of a Heartbeat (urn:Heartbeat.req).
type HeartbeatRequest struct {
}

// Validate checks m against the rules of its schema.
func (m *HeartbeatRequest) Validate() error { return Validate(m) }

// HeartbeatResponse is the payload of the answer to a Heartbeat (urn:Heartbeat.conf).
type HeartbeatResponse struct {
	CurrentTime DateTime `json:"currentTime" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *HeartbeatResponse) Validate() error { return Validate(m) }

// InstallCertificateRequest is the payload of a InstallCertificate (urn:InstallCertificate.req).
type InstallCertificateRequest struct {
	CertificateType InstallCertificateUse `json:"certificateType" ocpp:"required"`
	Certificate     string                `json:"certificate" ocpp:"required,max=5500"`
}

// Validate checks m against the rules of its schema.
func (m *InstallCertificateRequest) Validate() error { return Validate(m) }

// InstallCertificateResponse is the payload of the answer to a InstallCertificate (urn:InstallCertificate.conf).
type InstallCertificateResponse struct {
	Status     InstallCertificateStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo              `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *InstallCertificateResponse) Validate() error { return Validate(m) }

// LogStatusNotificationRequest is the payload of a LogStatusNotification (urn:LogStatusNotification.req).
type LogStatusNotificationRequest struct {
	Status    UploadLogStatus `json:"status" ocpp:"required"`
	RequestID *int            `json:"requestId,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *LogStatusNotificationRequest) Validate() error { return Validate(m) }

// LogStatusNotificationResponse is the payload of the answer to a LogStatusNotification (urn:LogStatusNotification.conf).
type LogStatusNotificationResponse struct {
}

// Validate checks m against the rules of its schema.
func (m *LogStatusNotificationResponse) Validate() error { return Validate(m) }

// MeterValuesRequest is the payload of a MeterValues (urn:MeterValues.req).
type MeterValuesRequest struct {
	EVSEID     int          `json:"evseId" ocpp:"required"`
	MeterValue []MeterValue `json:"meterValue" ocpp:"required,minItems=1"`
}

// Validate checks m against the rules of its schema.
func (m *MeterValuesRequest) Validate() error { return Validate(m) }

// MeterValuesResponse is the payload of the answer to a MeterValues (urn:MeterValues.conf).
type MeterValuesResponse struct {
}

// Validate checks m against the rules of its schema.
func (m *MeterValuesResponse) Validate() error { return Validate(m) }

// NotifyReportRequest is the payload of a NotifyReport (urn:NotifyReport.req).
type NotifyReportRequest struct {
	RequestID   int          `json:"requestId" ocpp:"required"`
	GeneratedAt DateTime     `json:"generatedAt" ocpp:"required"`
	ReportData  []ReportData `json:"reportData,omitempty" ocpp:"minItems=1"`
	Tbc         *bool        `json:"tbc,omitempty"`
	SeqNo       int          `json:"seqNo" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *NotifyReportRequest) Validate() error { return Validate(m) }

// NotifyReportResponse is the payload of the answer to a NotifyReport (urn:NotifyReport.conf).
type NotifyReportResponse struct {
}

// Validate checks m against the rules of its schema.
func (m *NotifyReportResponse) Validate() error { return Validate(m) }

// ReportChargingProfilesRequest is the payload of a ReportChargingProfiles (urn:ReportChargingProfiles.req).
type ReportChargingProfilesRequest struct {
	RequestID           int                 `json:"requestId" ocpp:"required"`
	ChargingLimitSource ChargingLimitSource `json:"chargingLimitSource" ocpp:"required"`
	ChargingProfile     []ChargingProfile   `json:"chargingProfile" ocpp:"required,minItems=1"`
	Tbc                 *bool               `json:"tbc,omitempty"`
	EVSEID              int                 `json:"evseId" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *ReportChargingProfilesRequest) Validate() error { return Validate(m) }

// ReportChargingProfilesResponse is the payload of the answer to a ReportChargingProfiles (urn:ReportChargingProfiles.conf).
type ReportChargingProfilesResponse struct {
}

// Validate checks m against the rules of its schema.
func (m *ReportChargingProfilesResponse) Validate() error { return Validate(m) }

// RequestStartTransactionRequest is the payload of a RequestStartTransaction (urn:RequestStartTransaction.req).
type RequestStartTransactionRequest struct {
	EVSEID          *int             `json:"evseId,omitempty"`
	GroupIDToken    *IDToken         `json:"groupIdToken,omitempty"`
	IDToken         IDToken          `json:"idToken" ocpp:"required"`
	RemoteStartID   int              `json:"remoteStartId" ocpp:"required"`
	ChargingProfile *ChargingProfile `json:"chargingProfile,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *RequestStartTransactionRequest) Validate() error { return Validate(m) }

// RequestStartTransactionResponse is the payload of the answer to a RequestStartTransaction (urn:RequestStartTransaction.conf).
type RequestStartTransactionResponse struct {
	Status        RequestStartStopStatus `json:"status" ocpp:"required"`
	StatusInfo    *StatusInfo            `json:"statusInfo,omitempty"`
	TransactionID string                 `json:"transactionId,omitempty" ocpp:"max=36"`
}

// Validate checks m against the rules of its schema.
func (m *RequestStartTransactionResponse) Validate() error { return Validate(m) }

// RequestStopTransactionRequest is the payload of a RequestStopTransaction (urn:RequestStopTransaction.req).
type RequestStopTransactionRequest struct {
	TransactionID string `json:"transactionId" ocpp:"required,max=36"`
}

// Validate checks m against the rules of its schema.
func (m *RequestStopTransactionRequest) Validate() error { return Validate(m) }

// RequestStopTransactionResponse is the payload of the answer to a RequestStopTransaction (urn:RequestStopTransaction.conf).
type RequestStopTransactionResponse struct {
	Status     RequestStartStopStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo            `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *RequestStopTransactionResponse) Validate() error { return Validate(m) }

// ReservationStatusUpdateRequest is the payload of a ReservationStatusUpdate (urn:ReservationStatusUpdate.req).
type ReservationStatusUpdateRequest struct {
	ReservationID           int                     `json:"reservationId" ocpp:"required"`
	ReservationUpdateStatus ReservationUpdateStatus `json:"reservationUpdateStatus" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *ReservationStatusUpdateRequest) Validate() error { return Validate(m) }

// ReservationStatusUpdateResponse is the payload of the answer to a ReservationStatusUpdate (urn:ReservationStatusUpdate.conf).
type ReservationStatusUpdateResponse struct {
}

// Validate checks m against the rules of its schema.
func (m *ReservationStatusUpdateResponse) Validate() error { return Validate(m) }

// ReserveNowRequest is the payload of a ReserveNow (urn:ReserveNow.req).
type ReserveNowRequest struct {
	ID             int           `json:"id" ocpp:"required"`
	ExpiryDateTime DateTime      `json:"expiryDateTime" ocpp:"required"`
	ConnectorType  ConnectorKind `json:"connectorType,omitempty"`
	IDToken        IDToken       `json:"idToken" ocpp:"required"`
	EVSEID         *int          `json:"evseId,omitempty"`
	GroupIDToken   *IDToken      `json:"groupIdToken,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *ReserveNowRequest) Validate() error { return Validate(m) }

// ReserveNowResponse is the payload of the answer to a ReserveNow (urn:ReserveNow.conf).
type ReserveNowResponse struct {
	Status     ReserveNowStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo      `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *ReserveNowResponse) Validate() error { return Validate(m) }

// ResetRequest is the payload of a Reset (urn:Reset.req).
type ResetRequest struct {
	Type   ResetKind `json:"type" ocpp:"required"`
	EVSEID *int      `json:"evseId,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *ResetRequest) Validate() error { return Validate(m) }

// ResetResponse is the payload of the answer to a Reset (urn:Reset.conf).
type ResetResponse struct {
	Status     ResetStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *ResetResponse) Validate() error { return Validate(m) }

// SecurityEventNotificationRequest is the payload of a SecurityEventNotification (urn:SecurityEventNotification.req).
type SecurityEventNotificationRequest struct {
	Type      string   `json:"type" ocpp:"required,max=50"`
	Timestamp DateTime `json:"timestamp" ocpp:"required"`
	TechInfo  string   `json:"techInfo,omitempty" ocpp:"max=255"`
}

// Validate checks m against the rules of its schema.
func (m *SecurityEventNotificationRequest) Validate() error { return Validate(m) }

// SecurityEventNotificationResponse is the payload of the answer to a SecurityEventNotification (urn:SecurityEventNotification.conf).
type SecurityEventNotificationResponse struct {
}

// Validate checks m against the rules of its schema.
func (m *SecurityEventNotificationResponse) Validate() error { return Validate(m) }

// SendLocalListRequest is the payload of a SendLocalList (urn:SendLocalList.req).
type SendLocalListRequest struct {
	LocalAuthorizationList []AuthorizationData `json:"localAuthorizationList,omitempty" ocpp:"minItems=1"`
	VersionNumber          int                 `json:"versionNumber" ocpp:"required"`
	UpdateType             UpdateKind          `json:"updateType" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *SendLocalListRequest) Validate() error { return Validate(m) }

// SendLocalListResponse is the payload of the answer to a SendLocalList (urn:SendLocalList.conf).
type SendLocalListResponse struct {
	Status     SendLocalListStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo         `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *SendLocalListResponse) Validate() error { return Validate(m) }

// SetChargingProfileRequest is the payload of a SetChargingProfile (urn:SetChargingProfile.req).
type SetChargingProfileRequest struct {
	EVSEID          int             `json:"evseId" ocpp:"required"`
	ChargingProfile ChargingProfile `json:"chargingProfile" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *SetChargingProfileRequest) Validate() error { return Validate(m) }

// SetChargingProfileResponse is the payload of the answer to a SetChargingProfile (urn:SetChargingProfile.conf).
type SetChargingProfileResponse struct {
	Status     ChargingProfileStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo           `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *SetChargingProfileResponse) Validate() error { return Validate(m) }

// SetNetworkProfileRequest is the payload of a SetNetworkProfile (urn:SetNetworkProfile.req).
type SetNetworkProfileRequest struct {
	ConfigurationSlot int                      `json:"configurationSlot" ocpp:"required"`
	ConnectionData    NetworkConnectionProfile `json:"connectionData" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *SetNetworkProfileRequest) Validate() error { return Validate(m) }

// SetNetworkProfileResponse is the payload of the answer to a SetNetworkProfile (urn:SetNetworkProfile.conf).
type SetNetworkProfileResponse struct {
	Status     SetNetworkProfileStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo             `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *SetNetworkProfileResponse) Validate() error { return Validate(m) }

// SetVariablesRequest is the payload of a SetVariables (urn:SetVariables.req).
type SetVariablesRequest struct {
	SetVariableData []SetVariableData `json:"setVariableData" ocpp:"required,minItems=1"`
}

// Validate checks m against the rules of its schema.
func (m *SetVariablesRequest) Validate() error { return Validate(m) }

// SetVariablesResponse is the payload of the answer to a SetVariables (urn:SetVariables.conf).
type SetVariablesResponse struct {
	SetVariableResult []SetVariableResult `json:"setVariableResult" ocpp:"required,minItems=1"`
}

// Validate checks m against the rules of its schema.
func (m *SetVariablesResponse) Validate() error { return Validate(m) }

// SignCertificateRequest is the payload of a SignCertificate (urn:SignCertificate.req).
type SignCertificateRequest struct {
	Csr             string                `json:"csr" ocpp:"required,max=5500"`
	CertificateType CertificateSigningUse `json:"certificateType,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *SignCertificateRequest) Validate() error { return Validate(m) }

// SignCertificateResponse is the payload of the answer to a SignCertificate (urn:SignCertificate.conf).
type SignCertificateResponse struct {
	Status     GenericStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo   `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *SignCertificateResponse) Validate() error { return Validate(m) }

// StatusNotificationRequest is the payload of a StatusNotification (urn:StatusNotification.req).
type StatusNotificationRequest struct {
	Timestamp       DateTime        `json:"timestamp" ocpp:"required"`
	ConnectorStatus ConnectorStatus `json:"connectorStatus" ocpp:"required"`
	EVSEID          int             `json:"evseId" ocpp:"required"`
	ConnectorID     int             `json:"connectorId" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *StatusNotificationRequest) Validate() error { return Validate(m) }

// StatusNotificationResponse is the payload of the answer to a StatusNotification (urn:StatusNotification.conf).
type StatusNotificationResponse struct {
}

// Validate checks m against the rules of its schema.
func (m *StatusNotificationResponse) Validate() error { return Validate(m) }

// TransactionEventRequest is the payload of a TransactionEvent (urn:TransactionEvent.req).
type TransactionEventRequest struct {
	EventType          TransactionEventKind `json:"eventType" ocpp:"required"`
	MeterValue         []MeterValue         `json:"meterValue,omitempty" ocpp:"minItems=1"`
	Timestamp          DateTime             `json:"timestamp" ocpp:"required"`
	TriggerReason      TriggerReason        `json:"triggerReason" ocpp:"required"`
	SeqNo              int                  `json:"seqNo" ocpp:"required"`
	Offline            *bool                `json:"offline,omitempty"`
	NumberOfPhasesUsed *int                 `json:"numberOfPhasesUsed,omitempty"`
	CableMaxCurrent    *int                 `json:"cableMaxCurrent,omitempty"`
	ReservationID      *int                 `json:"reservationId,omitempty"`
	TransactionInfo    Transaction          `json:"transactionInfo" ocpp:"required"`
	EVSE               *EVSE                `json:"evse,omitempty"`
	IDToken            *IDToken             `json:"idToken,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *TransactionEventRequest) Validate() error { return Validate(m) }

// TransactionEventResponse is the payload of the answer to a TransactionEvent (urn:TransactionEvent.conf).
type TransactionEventResponse struct {
	TotalCost              *float64        `json:"totalCost,omitempty"`
	ChargingPriority       *int            `json:"chargingPriority,omitempty"`
	IDTokenInfo            *IDTokenInfo    `json:"idTokenInfo,omitempty"`
	UpdatedPersonalMessage *MessageContent `json:"updatedPersonalMessage,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *TransactionEventResponse) Validate() error { return Validate(m) }

// TriggerMessageRequest is the payload of a TriggerMessage (urn:TriggerMessage.req).
type TriggerMessageRequest struct {
	EVSE             *EVSE          `json:"evse,omitempty"`
	RequestedMessage MessageTrigger `json:"requestedMessage" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *TriggerMessageRequest) Validate() error { return Validate(m) }

// TriggerMessageResponse is the payload of the answer to a TriggerMessage (urn:TriggerMessage.conf).
type TriggerMessageResponse struct {
	Status     TriggerMessageStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo          `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *TriggerMessageResponse) Validate() error { return Validate(m) }

// UnlockConnectorRequest is the payload of a UnlockConnector (urn:UnlockConnector.req).
type UnlockConnectorRequest struct {
	EVSEID      int `json:"evseId" ocpp:"required"`
	ConnectorID int `json:"connectorId" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *UnlockConnectorRequest) Validate() error { return Validate(m) }

// UnlockConnectorResponse is the payload of the answer to a UnlockConnector (urn:UnlockConnector.conf).
type UnlockConnectorResponse struct {
	Status     UnlockStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo  `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *UnlockConnectorResponse) Validate() error { return Validate(m) }

// UpdateFirmwareRequest is the payload of a UpdateFirmware (urn:UpdateFirmware.req).
type UpdateFirmwareRequest struct {
	Retries       *int     `json:"retries,omitempty"`
	RetryInterval *int     `json:"retryInterval,omitempty"`
	RequestID     int      `json:"requestId" ocpp:"required"`
	Firmware      Firmware `json:"firmware" ocpp:"required"`
}

// Validate checks m against the rules of its schema.
func (m *UpdateFirmwareRequest) Validate() error { return Validate(m) }

// UpdateFirmwareResponse is the payload of the answer to a UpdateFirmware (urn:UpdateFirmware.conf).
type UpdateFirmwareResponse struct {
	Status     UpdateFirmwareStatus `json:"status" ocpp:"required"`
	StatusInfo *StatusInfo          `json:"statusInfo,omitempty"`
}

// Validate checks m against the rules of its schema.
func (m *UpdateFirmwareResponse) Validate() error { return Validate(m) }
