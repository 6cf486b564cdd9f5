package ocpp16

// Messages of the Firmware Management profile that a CSMS sends
// (GetDiagnostics, UpdateFirmware) and of the OCPP 1.6 security whitepaper
// (edition 3): certificates, signed firmware, logs and security events.
// Field rules follow the official schemas, as for the other profiles.
//
// The types are complete and checked against the schemas; the charge
// point answers these requests NotSupported until the certificate store,
// firmware and log machinery are wired to them (see knownAction), so they
// are not yet routed by DecodeRequest.

// Firmware Management: requests a CSMS sends, and their answers.

// GetDiagnosticsRequest asks the charge point to upload its diagnostics
// (the logs of the window StartTime..StopTime, either end open) to
// Location.
type GetDiagnosticsRequest struct {
	// Location is the absolute URI to upload to.
	Location string `json:"location" ocpp:"required"`
	// Retries is how many times to try again after a failed upload; nil
	// lets the charge point choose.
	Retries *int `json:"retries,omitempty"`
	// RetryInterval is the pause between attempts, in seconds; nil lets
	// the charge point choose.
	RetryInterval *int      `json:"retryInterval,omitempty"`
	StartTime     *DateTime `json:"startTime,omitempty"`
	StopTime      *DateTime `json:"stopTime,omitempty"`
}

// GetDiagnosticsResponse answers a GetDiagnosticsRequest: FileName is the
// name of the file that will be uploaded, empty when there is nothing to
// upload.
type GetDiagnosticsResponse struct {
	FileName string `json:"fileName,omitempty" ocpp:"max=255"`
}

// UpdateFirmwareRequest asks the charge point to download the firmware at
// Location from RetrieveDate on and install it (unsigned, the Core
// Firmware Management flow).
type UpdateFirmwareRequest struct {
	// Location is the absolute URI of the firmware image.
	Location string `json:"location" ocpp:"required"`
	// Retries is how many times to try the download again; nil lets the
	// charge point choose.
	Retries      *int     `json:"retries,omitempty"`
	RetrieveDate DateTime `json:"retrieveDate" ocpp:"required"`
	// RetryInterval is the pause between download attempts, in seconds;
	// nil lets the charge point choose.
	RetryInterval *int `json:"retryInterval,omitempty"`
}

// UpdateFirmwareResponse answers an UpdateFirmwareRequest; the progress
// follows in FirmwareStatusNotifications.
type UpdateFirmwareResponse struct{}

// Certificates.

// CertificateHashData identifies a certificate the way OCSP does: hashes
// of its issuer's name and public key, and its serial number.
type CertificateHashData struct {
	HashAlgorithm HashAlgorithm `json:"hashAlgorithm" ocpp:"required"`
	// IssuerNameHash is the hex-encoded hash of the DER-encoded issuer
	// distinguished name.
	IssuerNameHash string `json:"issuerNameHash" ocpp:"required,max=128"`
	// IssuerKeyHash is the hex-encoded hash of the issuer's public key
	// (the subjectPublicKey bit string, without tag and length).
	IssuerKeyHash string `json:"issuerKeyHash" ocpp:"required,max=128"`
	// SerialNumber is the certificate's serial number in hex, without
	// leading zeros.
	SerialNumber string `json:"serialNumber" ocpp:"required,max=40"`
}

// InstallCertificateRequest installs a root certificate (PEM).
type InstallCertificateRequest struct {
	CertificateType CertificateUse `json:"certificateType" ocpp:"required"`
	Certificate     string         `json:"certificate" ocpp:"required,max=5500"`
}

// InstallCertificateResponse answers an InstallCertificateRequest.
type InstallCertificateResponse struct {
	Status InstallCertificateStatus `json:"status" ocpp:"required"`
}

// GetInstalledCertificateIdsRequest asks for the root certificates of one
// kind the charge point holds.
type GetInstalledCertificateIdsRequest struct {
	CertificateType CertificateUse `json:"certificateType" ocpp:"required"`
}

// GetInstalledCertificateIdsResponse answers a
// GetInstalledCertificateIdsRequest: NotFound, without hash data, when
// there is no certificate of that kind (the schema wants at least one
// item when the list is present).
type GetInstalledCertificateIdsResponse struct {
	CertificateHashData []CertificateHashData         `json:"certificateHashData,omitempty"`
	Status              GetInstalledCertificateStatus `json:"status" ocpp:"required"`
}

// DeleteCertificateRequest removes the root certificate with the given
// hash data.
type DeleteCertificateRequest struct {
	CertificateHashData CertificateHashData `json:"certificateHashData" ocpp:"required"`
}

// DeleteCertificateResponse answers a DeleteCertificateRequest.
type DeleteCertificateResponse struct {
	Status DeleteCertificateStatus `json:"status" ocpp:"required"`
}

// SignCertificateRequest sends the CSMS a certificate signing request
// (PEM) for the charge point's client certificate; the signed chain comes
// back in a CertificateSignedRequest.
type SignCertificateRequest struct {
	CSR string `json:"csr" ocpp:"required,max=5500"`
}

// SignCertificateResponse answers a SignCertificateRequest.
type SignCertificateResponse struct {
	Status GenericStatus `json:"status" ocpp:"required"`
}

// CertificateSignedRequest delivers the signed client certificate chain
// (PEM, the charge point's certificate first).
type CertificateSignedRequest struct {
	CertificateChain string `json:"certificateChain" ocpp:"required,max=10000"`
}

// CertificateSignedResponse answers a CertificateSignedRequest.
type CertificateSignedResponse struct {
	Status CertificateSignedStatus `json:"status" ocpp:"required"`
}

// Signed firmware.

// Firmware describes a signed firmware image.
type Firmware struct {
	// Location is the URI of the image.
	Location         string    `json:"location" ocpp:"required,max=512"`
	RetrieveDateTime DateTime  `json:"retrieveDateTime" ocpp:"required"`
	InstallDateTime  *DateTime `json:"installDateTime,omitempty"`
	// SigningCertificate is the PEM certificate whose key signed the
	// image; it must chain to a ManufacturerRootCertificate.
	SigningCertificate string `json:"signingCertificate" ocpp:"required,max=5500"`
	// Signature is the base64-encoded signature of the image.
	Signature string `json:"signature" ocpp:"required,max=800"`
}

// SignedUpdateFirmwareRequest asks the charge point to download, verify
// and install a signed firmware image.
type SignedUpdateFirmwareRequest struct {
	// Retries is how many times to try the download again; nil lets the
	// charge point choose.
	Retries *int `json:"retries,omitempty"`
	// RetryInterval is the pause between download attempts, in seconds;
	// nil lets the charge point choose.
	RetryInterval *int     `json:"retryInterval,omitempty"`
	RequestID     int      `json:"requestId" ocpp:"required"`
	Firmware      Firmware `json:"firmware" ocpp:"required"`
}

// SignedUpdateFirmwareResponse answers a SignedUpdateFirmwareRequest.
type SignedUpdateFirmwareResponse struct {
	Status UpdateFirmwareStatus `json:"status" ocpp:"required"`
}

// SignedFirmwareStatusNotificationRequest reports the state of a signed
// firmware update; RequestID is the SignedUpdateFirmware's (nil for Idle,
// the answer to a trigger with no update under way).
type SignedFirmwareStatusNotificationRequest struct {
	Status    SignedFirmwareStatus `json:"status" ocpp:"required"`
	RequestID *int                 `json:"requestId,omitempty"`
}

// SignedFirmwareStatusNotificationResponse answers a
// SignedFirmwareStatusNotificationRequest.
type SignedFirmwareStatusNotificationResponse struct{}

// Logs.

// LogParameters says where to upload a log and which part of it.
type LogParameters struct {
	RemoteLocation  string    `json:"remoteLocation" ocpp:"required,max=512"`
	OldestTimestamp *DateTime `json:"oldestTimestamp,omitempty"`
	LatestTimestamp *DateTime `json:"latestTimestamp,omitempty"`
}

// GetLogRequest asks the charge point to upload its diagnostics or
// security log.
type GetLogRequest struct {
	Log       LogParameters `json:"log" ocpp:"required"`
	LogType   LogType       `json:"logType" ocpp:"required"`
	RequestID int           `json:"requestId" ocpp:"required"`
	// Retries is how many times to try the upload again; nil lets the
	// charge point choose.
	Retries *int `json:"retries,omitempty"`
	// RetryInterval is the pause between attempts, in seconds; nil lets
	// the charge point choose.
	RetryInterval *int `json:"retryInterval,omitempty"`
}

// GetLogResponse answers a GetLogRequest: Filename is the name of the file
// that will be uploaded.
type GetLogResponse struct {
	Status   LogStatus `json:"status" ocpp:"required"`
	Filename string    `json:"filename,omitempty" ocpp:"max=255"`
}

// LogStatusNotificationRequest reports the state of a log upload;
// RequestID is the GetLog's (nil for Idle).
type LogStatusNotificationRequest struct {
	Status    UploadLogStatus `json:"status" ocpp:"required"`
	RequestID *int            `json:"requestId,omitempty"`
}

// LogStatusNotificationResponse answers a LogStatusNotificationRequest.
type LogStatusNotificationResponse struct{}

// Security events and triggers.

// SecurityEventNotificationRequest reports a security event; Type is one
// of the whitepaper's event names (FirmwareUpdated, InvalidMessages, ...).
type SecurityEventNotificationRequest struct {
	Type      string   `json:"type" ocpp:"required,max=50"`
	Timestamp DateTime `json:"timestamp" ocpp:"required"`
	// TechInfo is free-form detail for the operator.
	TechInfo string `json:"techInfo,omitempty" ocpp:"max=255"`
}

// SecurityEventNotificationResponse answers a
// SecurityEventNotificationRequest.
type SecurityEventNotificationResponse struct{}

// ExtendedTriggerMessageRequest asks the charge point to send a message,
// the security ones included; ConnectorID (nil: all, or the charge point)
// narrows StatusNotification and MeterValues.
type ExtendedTriggerMessageRequest struct {
	RequestedMessage ExtendedMessageTrigger `json:"requestedMessage" ocpp:"required"`
	ConnectorID      *int                   `json:"connectorId,omitempty"`
}

// ExtendedTriggerMessageResponse answers an ExtendedTriggerMessageRequest.
type ExtendedTriggerMessageResponse struct {
	Status TriggerMessageStatus `json:"status" ocpp:"required"`
}
