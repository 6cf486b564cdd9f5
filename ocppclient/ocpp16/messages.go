package ocpp16

// Action names of OCPP 1.6 as they appear in CALL frames.
const (
	// Core profile.
	ActionAuthorize              = "Authorize"
	ActionBootNotification       = "BootNotification"
	ActionChangeAvailability     = "ChangeAvailability"
	ActionChangeConfiguration    = "ChangeConfiguration"
	ActionClearCache             = "ClearCache"
	ActionDataTransfer           = "DataTransfer"
	ActionGetConfiguration       = "GetConfiguration"
	ActionHeartbeat              = "Heartbeat"
	ActionMeterValues            = "MeterValues"
	ActionRemoteStartTransaction = "RemoteStartTransaction"
	ActionRemoteStopTransaction  = "RemoteStopTransaction"
	ActionReset                  = "Reset"
	ActionStartTransaction       = "StartTransaction"
	ActionStatusNotification     = "StatusNotification"
	ActionStopTransaction        = "StopTransaction"
	ActionUnlockConnector        = "UnlockConnector"

	// Smart Charging profile.
	ActionClearChargingProfile = "ClearChargingProfile"
	ActionGetCompositeSchedule = "GetCompositeSchedule"
	ActionSetChargingProfile   = "SetChargingProfile"

	// Local Auth List Management profile.
	ActionGetLocalListVersion = "GetLocalListVersion"
	ActionSendLocalList       = "SendLocalList"

	// Reservation profile.
	ActionCancelReservation = "CancelReservation"
	ActionReserveNow        = "ReserveNow"

	// Remote Trigger profile.
	ActionTriggerMessage = "TriggerMessage"

	// Firmware Management profile.
	ActionDiagnosticsStatusNotification = "DiagnosticsStatusNotification"
	ActionFirmwareStatusNotification    = "FirmwareStatusNotification"
	ActionGetDiagnostics                = "GetDiagnostics"
	ActionUpdateFirmware                = "UpdateFirmware"

	// Security whitepaper.
	ActionCertificateSigned                = "CertificateSigned"
	ActionDeleteCertificate                = "DeleteCertificate"
	ActionExtendedTriggerMessage           = "ExtendedTriggerMessage"
	ActionGetInstalledCertificateIds       = "GetInstalledCertificateIds"
	ActionGetLog                           = "GetLog"
	ActionInstallCertificate               = "InstallCertificate"
	ActionLogStatusNotification            = "LogStatusNotification"
	ActionSecurityEventNotification        = "SecurityEventNotification"
	ActionSignCertificate                  = "SignCertificate"
	ActionSignedFirmwareStatusNotification = "SignedFirmwareStatusNotification"
	ActionSignedUpdateFirmware             = "SignedUpdateFirmware"
)

// Core requests a charge point sends, and their answers.

// AuthorizeRequest asks the CSMS whether an id tag may charge.
type AuthorizeRequest struct {
	IDTag string `json:"idTag" ocpp:"required,max=20"`
}

// AuthorizeResponse answers an AuthorizeRequest.
type AuthorizeResponse struct {
	IdTagInfo IdTagInfo `json:"idTagInfo" ocpp:"required"`
}

// BootNotificationRequest registers the charge point after each connect.
type BootNotificationRequest struct {
	ChargePointVendor       string `json:"chargePointVendor" ocpp:"required,max=20"`
	ChargePointModel        string `json:"chargePointModel" ocpp:"required,max=20"`
	ChargePointSerialNumber string `json:"chargePointSerialNumber,omitempty" ocpp:"max=25"`
	ChargeBoxSerialNumber   string `json:"chargeBoxSerialNumber,omitempty" ocpp:"max=25"`
	FirmwareVersion         string `json:"firmwareVersion,omitempty" ocpp:"max=50"`
	Iccid                   string `json:"iccid,omitempty" ocpp:"max=20"`
	Imsi                    string `json:"imsi,omitempty" ocpp:"max=20"`
	MeterType               string `json:"meterType,omitempty" ocpp:"max=25"`
	MeterSerialNumber       string `json:"meterSerialNumber,omitempty" ocpp:"max=25"`
}

// BootNotificationResponse answers a BootNotificationRequest.
type BootNotificationResponse struct {
	Status      RegistrationStatus `json:"status" ocpp:"required"`
	CurrentTime DateTime           `json:"currentTime" ocpp:"required"`
	// Interval is the heartbeat interval (Accepted) or the delay before
	// the next BootNotification (Pending, Rejected), in seconds; 0 means
	// the charge point chooses.
	Interval int `json:"interval" ocpp:"required"`
}

// DataTransferRequest carries vendor-specific data, in either direction.
type DataTransferRequest struct {
	VendorID  string `json:"vendorId" ocpp:"required,max=255"`
	MessageID string `json:"messageId,omitempty" ocpp:"max=50"`
	Data      string `json:"data,omitempty"`
}

// DataTransferResponse answers a DataTransferRequest.
type DataTransferResponse struct {
	Status DataTransferStatus `json:"status" ocpp:"required"`
	Data   string             `json:"data,omitempty"`
}

// HeartbeatRequest tells the CSMS the charge point is alive and asks for
// the time.
type HeartbeatRequest struct{}

// HeartbeatResponse answers a HeartbeatRequest.
type HeartbeatResponse struct {
	CurrentTime DateTime `json:"currentTime" ocpp:"required"`
}

// MeterValuesRequest reports meter samples of a connector (0: the main
// meter), within a transaction or not.
type MeterValuesRequest struct {
	ConnectorID int `json:"connectorId" ocpp:"required,min=0"`
	// TransactionID is nil for samples outside a transaction.
	TransactionID *int         `json:"transactionId,omitempty"`
	MeterValue    []MeterValue `json:"meterValue" ocpp:"required"`
}

// MeterValuesResponse answers a MeterValuesRequest.
type MeterValuesResponse struct{}

// StartTransactionRequest reports a transaction that has started.
type StartTransactionRequest struct {
	ConnectorID int    `json:"connectorId" ocpp:"required,min=1"`
	IDTag       string `json:"idTag" ocpp:"required,max=20"`
	// MeterStart is the energy register at the start, in Wh.
	MeterStart int `json:"meterStart" ocpp:"required"`
	// ReservationID is the reservation this transaction ends; nil if none.
	ReservationID *int     `json:"reservationId,omitempty"`
	Timestamp     DateTime `json:"timestamp" ocpp:"required"`
}

// StartTransactionResponse answers a StartTransactionRequest.
type StartTransactionResponse struct {
	IdTagInfo     IdTagInfo `json:"idTagInfo" ocpp:"required"`
	TransactionID int       `json:"transactionId" ocpp:"required"`
}

// StatusNotificationRequest reports a connector's (0: the charge point's)
// status.
type StatusNotificationRequest struct {
	ConnectorID     int                  `json:"connectorId" ocpp:"required,min=0"`
	ErrorCode       ChargePointErrorCode `json:"errorCode" ocpp:"required"`
	Info            string               `json:"info,omitempty" ocpp:"max=50"`
	Status          ChargePointStatus    `json:"status" ocpp:"required"`
	Timestamp       *DateTime            `json:"timestamp,omitempty"`
	VendorID        string               `json:"vendorId,omitempty" ocpp:"max=255"`
	VendorErrorCode string               `json:"vendorErrorCode,omitempty" ocpp:"max=50"`
}

// StatusNotificationResponse answers a StatusNotificationRequest.
type StatusNotificationResponse struct{}

// StopTransactionRequest reports a transaction that has ended.
type StopTransactionRequest struct {
	// IDTag is the tag that stopped the transaction; empty when it was not
	// stopped by a tag.
	IDTag string `json:"idTag,omitempty" ocpp:"max=20"`
	// MeterStop is the energy register at the end, in Wh.
	MeterStop     int      `json:"meterStop" ocpp:"required"`
	Timestamp     DateTime `json:"timestamp" ocpp:"required"`
	TransactionID int      `json:"transactionId" ocpp:"required"`
	// Reason is empty for Local, the specification's default.
	Reason          Reason       `json:"reason,omitempty"`
	TransactionData []MeterValue `json:"transactionData,omitempty"`
}

// StopTransactionResponse answers a StopTransactionRequest.
type StopTransactionResponse struct {
	// IdTagInfo is present when the request carried an id tag.
	IdTagInfo *IdTagInfo `json:"idTagInfo,omitempty"`
}

// Core requests a CSMS sends, and their answers.

// ChangeAvailabilityRequest makes a connector (0: the whole charge point)
// operative or inoperative.
type ChangeAvailabilityRequest struct {
	ConnectorID int              `json:"connectorId" ocpp:"required,min=0"`
	Type        AvailabilityType `json:"type" ocpp:"required"`
}

// ChangeAvailabilityResponse answers a ChangeAvailabilityRequest.
type ChangeAvailabilityResponse struct {
	Status AvailabilityStatus `json:"status" ocpp:"required"`
}

// ChangeConfigurationRequest sets a configuration key.
type ChangeConfigurationRequest struct {
	Key   string `json:"key" ocpp:"required,max=50"`
	Value string `json:"value" ocpp:"required,max=500"`
}

// ChangeConfigurationResponse answers a ChangeConfigurationRequest.
type ChangeConfigurationResponse struct {
	Status ConfigurationStatus `json:"status" ocpp:"required"`
}

// ClearCacheRequest empties the authorization cache.
type ClearCacheRequest struct{}

// ClearCacheResponse answers a ClearCacheRequest.
type ClearCacheResponse struct {
	Status ClearCacheStatus `json:"status" ocpp:"required"`
}

// GetConfigurationRequest reads configuration keys; no keys means all.
type GetConfigurationRequest struct {
	Key []string `json:"key,omitempty" ocpp:"max=50"`
}

// GetConfigurationResponse answers a GetConfigurationRequest.
type GetConfigurationResponse struct {
	ConfigurationKey []KeyValue `json:"configurationKey,omitempty"`
	UnknownKey       []string   `json:"unknownKey,omitempty" ocpp:"max=50"`
}

// RemoteStartTransactionRequest asks the charge point to start a
// transaction.
type RemoteStartTransactionRequest struct {
	// ConnectorID is nil when the charge point may choose.
	ConnectorID     *int             `json:"connectorId,omitempty" ocpp:"min=1"`
	IDTag           string           `json:"idTag" ocpp:"required,max=20"`
	ChargingProfile *ChargingProfile `json:"chargingProfile,omitempty"`
}

// RemoteStartTransactionResponse answers a RemoteStartTransactionRequest.
type RemoteStartTransactionResponse struct {
	Status RemoteStartStopStatus `json:"status" ocpp:"required"`
}

// RemoteStopTransactionRequest asks the charge point to stop a
// transaction.
type RemoteStopTransactionRequest struct {
	TransactionID int `json:"transactionId" ocpp:"required"`
}

// RemoteStopTransactionResponse answers a RemoteStopTransactionRequest.
type RemoteStopTransactionResponse struct {
	Status RemoteStartStopStatus `json:"status" ocpp:"required"`
}

// ResetRequest asks the charge point to reboot.
type ResetRequest struct {
	Type ResetType `json:"type" ocpp:"required"`
}

// ResetResponse answers a ResetRequest.
type ResetResponse struct {
	Status ResetStatus `json:"status" ocpp:"required"`
}

// UnlockConnectorRequest asks the charge point to release a connector's
// lock.
type UnlockConnectorRequest struct {
	ConnectorID int `json:"connectorId" ocpp:"required,min=1"`
}

// UnlockConnectorResponse answers an UnlockConnectorRequest.
type UnlockConnectorResponse struct {
	Status UnlockStatus `json:"status" ocpp:"required"`
}

// Validate methods: each checks the message against the rules of its
// schema (see Validate).

// Validate checks r against the Authorize.req rules.
func (r *AuthorizeRequest) Validate() error { return Validate(r) }

// Validate checks r against the Authorize.conf rules.
func (r *AuthorizeResponse) Validate() error { return Validate(r) }

// Validate checks r against the BootNotification.req rules.
func (r *BootNotificationRequest) Validate() error { return Validate(r) }

// Validate checks r against the BootNotification.conf rules.
func (r *BootNotificationResponse) Validate() error { return Validate(r) }

// Validate checks r against the ChangeAvailability.req rules.
func (r *ChangeAvailabilityRequest) Validate() error { return Validate(r) }

// Validate checks r against the ChangeAvailability.conf rules.
func (r *ChangeAvailabilityResponse) Validate() error { return Validate(r) }

// Validate checks r against the ChangeConfiguration.req rules.
func (r *ChangeConfigurationRequest) Validate() error { return Validate(r) }

// Validate checks r against the ChangeConfiguration.conf rules.
func (r *ChangeConfigurationResponse) Validate() error { return Validate(r) }

// Validate checks r against the ClearCache.req rules.
func (r *ClearCacheRequest) Validate() error { return Validate(r) }

// Validate checks r against the ClearCache.conf rules.
func (r *ClearCacheResponse) Validate() error { return Validate(r) }

// Validate checks r against the DataTransfer.req rules.
func (r *DataTransferRequest) Validate() error { return Validate(r) }

// Validate checks r against the DataTransfer.conf rules.
func (r *DataTransferResponse) Validate() error { return Validate(r) }

// Validate checks r against the GetConfiguration.req rules.
func (r *GetConfigurationRequest) Validate() error { return Validate(r) }

// Validate checks r against the GetConfiguration.conf rules.
func (r *GetConfigurationResponse) Validate() error { return Validate(r) }

// Validate checks r against the Heartbeat.req rules.
func (r *HeartbeatRequest) Validate() error { return Validate(r) }

// Validate checks r against the Heartbeat.conf rules.
func (r *HeartbeatResponse) Validate() error { return Validate(r) }

// Validate checks r against the MeterValues.req rules.
func (r *MeterValuesRequest) Validate() error { return Validate(r) }

// Validate checks r against the MeterValues.conf rules.
func (r *MeterValuesResponse) Validate() error { return Validate(r) }

// Validate checks r against the RemoteStartTransaction.req rules.
func (r *RemoteStartTransactionRequest) Validate() error { return Validate(r) }

// Validate checks r against the RemoteStartTransaction.conf rules.
func (r *RemoteStartTransactionResponse) Validate() error { return Validate(r) }

// Validate checks r against the RemoteStopTransaction.req rules.
func (r *RemoteStopTransactionRequest) Validate() error { return Validate(r) }

// Validate checks r against the RemoteStopTransaction.conf rules.
func (r *RemoteStopTransactionResponse) Validate() error { return Validate(r) }

// Validate checks r against the Reset.req rules.
func (r *ResetRequest) Validate() error { return Validate(r) }

// Validate checks r against the Reset.conf rules.
func (r *ResetResponse) Validate() error { return Validate(r) }

// Validate checks r against the StartTransaction.req rules.
func (r *StartTransactionRequest) Validate() error { return Validate(r) }

// Validate checks r against the StartTransaction.conf rules.
func (r *StartTransactionResponse) Validate() error { return Validate(r) }

// Validate checks r against the StatusNotification.req rules.
func (r *StatusNotificationRequest) Validate() error { return Validate(r) }

// Validate checks r against the StatusNotification.conf rules.
func (r *StatusNotificationResponse) Validate() error { return Validate(r) }

// Validate checks r against the StopTransaction.req rules.
func (r *StopTransactionRequest) Validate() error { return Validate(r) }

// Validate checks r against the StopTransaction.conf rules.
func (r *StopTransactionResponse) Validate() error { return Validate(r) }

// Validate checks r against the UnlockConnector.req rules.
func (r *UnlockConnectorRequest) Validate() error { return Validate(r) }

// Validate checks r against the UnlockConnector.conf rules.
func (r *UnlockConnectorResponse) Validate() error { return Validate(r) }
