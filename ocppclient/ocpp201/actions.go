package ocpp201

// Support says how the adapter handles an OCPP 2.0.1 action.
type Support string

// Support levels.
const (
	// Supported: the adapter sends the message (CS->CSMS) or answers it
	// with the behaviour the specification asks (CSMS->CS).
	Supported Support = "Supported"
	// NotSupported: the action belongs to a functional block the adapter
	// does not implement; a CALL of it is answered with the CALLERROR
	// NotSupported, and the adapter never sends it.
	NotSupported Support = "NotSupported"
)

// Direction says who sends an action's CALL.
type Direction string

// Directions.
const (
	ToStation Direction = "CSMS->CS"
	ToCSMS    Direction = "CS->CSMS"
	Both      Direction = "both"
)

// ActionInfo is one row of the adapter's conformance table.
type ActionInfo struct {
	Action string
	// Block is the functional block letter of the specification (A
	// Security ... Q Bidirectional), "P" for DataTransfer.
	Block     string
	Direction Direction
	Support   Support
	// Doc says in a line what the adapter does with it.
	Doc string
	// newRequest returns a new inbound request value (CSMS->CS actions
	// the adapter decodes); nil otherwise.
	newRequest func() any
	// newResponse returns a new response value for actions the adapter
	// sends or answers; nil otherwise.
	newResponse func() any
}

// Actions returns every action of OCPP 2.0.1 with the adapter's support,
// in the order of the specification's functional blocks. The slice is
// new on every call.
func Actions() []ActionInfo {
	return []ActionInfo{
		// A Security.
		{ActionCertificateSigned, "A", ToStation, Supported, "installs the charging station certificate chain (key of the last CSR, chains to a CSMS root, MaxCertificateChainSize); OnClientCertificate after the answer; NotSupported without a certificate store", req[CertificateSignedRequest], resp[CertificateSignedResponse]},
		{ActionSecurityEventNotification, "A", ToCSMS, Supported, "every critical security event, through the durable queue", nil, resp[SecurityEventNotificationResponse]},
		{ActionSignCertificate, "A", ToCSMS, Supported, "a CSR for a new key (CN serial number, O OrganizationName) on TriggerMessage SignChargingStationCertificate or RenewClientCertificate; repeated per CertSigningWaitMinimum and CertSigningRepeatTimes", nil, resp[SignCertificateResponse]},
		// B Provisioning.
		{ActionBootNotification, "B", ToCSMS, Supported, "sent on every connect until Accepted, with the boot reason; retried after interval while Pending or Rejected", nil, resp[BootNotificationResponse]},
		{ActionGetBaseReport, "B", ToStation, Supported, "answers, then reports the device model in NotifyReport parts of ItemsPerMessageGetReport items", req[GetBaseReportRequest], resp[GetBaseReportResponse]},
		{ActionGetReport, "B", ToStation, Supported, "as GetBaseReport for the given component variables and criteria; EmptyResultSet when nothing matches", req[GetReportRequest], resp[GetReportResponse]},
		{ActionGetVariables, "B", ToStation, Supported, "reads device model variables; more than ItemsPerMessageGetVariables items is a CALLERROR OccurrenceConstraintViolation", req[GetVariablesRequest], resp[GetVariablesResponse]},
		{ActionHeartbeat, "B", ToCSMS, Supported, "sent every HeartbeatInterval while registered", nil, resp[HeartbeatResponse]},
		{ActionNotifyReport, "B", ToCSMS, Supported, "the parts of a report asked for by GetBaseReport or GetReport (requestId, seqNo, tbc)", nil, resp[NotifyReportResponse]},
		{ActionReset, "B", ToStation, Supported, "Immediate or OnIdle, station-wide or per EVSE; OnIdle with a transaction running is Scheduled", req[ResetRequest], resp[ResetResponse]},
		{ActionSetNetworkProfile, "B", ToStation, Supported, "stores a connection profile in a configuration slot of NetworkConfigurationPriority's range", req[SetNetworkProfileRequest], resp[SetNetworkProfileResponse]},
		{ActionSetVariables, "B", ToStation, Supported, "writes device model variables (RebootRequired where the model says so); more than ItemsPerMessageSetVariables is a CALLERROR", req[SetVariablesRequest], resp[SetVariablesResponse]},
		// C Authorization.
		{ActionAuthorize, "C", ToCSMS, Supported, "asks the CSMS about an id token unless the local list answers (LocalPreAuthorize); offline: LocalAuthorizeOffline, OfflineTxForUnknownIdEnabled; an accepted token's personalMessage is the driver's tariff text (I01)", nil, resp[AuthorizeResponse]},
		{ActionClearCache, "C", ToStation, Supported, "empties the authorization cache; Rejected while AuthCacheCtrlr.Enabled is false", req[ClearCacheRequest], resp[ClearCacheResponse]},
		// D Local authorization list management.
		{ActionGetLocalListVersion, "D", ToStation, Supported, "the local list's version (0: none)", req[GetLocalListVersionRequest], resp[GetLocalListVersionResponse]},
		{ActionSendLocalList, "D", ToStation, Supported, "Full or Differential update of the local list", req[SendLocalListRequest], resp[SendLocalListResponse]},
		// E Transactions.
		{ActionGetTransactionStatus, "E", ToStation, Supported, "whether a transaction is ongoing and whether its messages are still queued", req[GetTransactionStatusRequest], resp[GetTransactionStatusResponse]},
		{ActionTransactionEvent, "E", ToCSMS, Supported, "Started/Updated/Ended per TxStartPoint and TxStopPoint, durable and in order, offline=true when queued offline; the answers' totalCost (running, final on Ended), updatedPersonalMessage and personalMessage reach the driver display (I02, I03, I06)", nil, resp[TransactionEventResponse]},
		// F Remote control.
		{ActionRequestStartTransaction, "F", ToStation, Supported, "starts a session (remoteStartId in the TransactionEvent, triggerReason RemoteStart); a chargingProfile (TxProfile, no transactionId) is installed for the transaction", req[RequestStartTransactionRequest], resp[RequestStartTransactionResponse]},
		{ActionRequestStopTransaction, "F", ToStation, Supported, "stops the session of a transactionId", req[RequestStopTransactionRequest], resp[RequestStopTransactionResponse]},
		{ActionTriggerMessage, "F", ToStation, Supported, "BootNotification (while Pending), Heartbeat, StatusNotification, MeterValues, TransactionEvent, FirmwareStatusNotification and LogStatusNotification (the running job's status and requestId, else Idle), SignChargingStationCertificate; others NotImplemented", req[TriggerMessageRequest], resp[TriggerMessageResponse]},
		{ActionUnlockConnector, "F", ToStation, Supported, "unlocks a connector without an authorized transaction", req[UnlockConnectorRequest], resp[UnlockConnectorResponse]},
		// G Availability.
		{ActionChangeAvailability, "G", ToStation, Supported, "station, EVSE or connector Operative/Inoperative; Scheduled while a transaction runs", req[ChangeAvailabilityRequest], resp[ChangeAvailabilityResponse]},
		{ActionStatusNotification, "G", ToCSMS, Supported, "connector status (Available, Occupied, Reserved, Unavailable, Faulted) on change and after every connect", nil, resp[StatusNotificationResponse]},
		// H Reservation.
		{ActionCancelReservation, "H", ToStation, Supported, "ends a reservation the station holds; Rejected for an unknown id", req[CancelReservationRequest], resp[CancelReservationResponse]},
		{ActionReservationStatusUpdate, "H", ToCSMS, Supported, "Expired or Removed for a reservation that ended unused, through the durable queue", nil, resp[ReservationStatusUpdateResponse]},
		{ActionReserveNow, "H", ToStation, Supported, "reserves an EVSE, or any with ReservationCtrlr.NonEvseSpecific, for a token or its group; connectorType checked; reservationId in the TransactionEvent that uses it", req[ReserveNowRequest], resp[ReserveNowResponse]},
		// I Tariff and cost.
		{ActionCostUpdated, "I", ToStation, Supported, "the running cost of an ongoing transaction on its EVSE's driver display, in TariffCostCtrlr.Currency, while TariffCostCtrlr.Enabled[Cost]; always answered (the answer has no status), an unknown transaction only logged", req[CostUpdatedRequest], resp[CostUpdatedResponse]},
		// J Metering.
		{ActionMeterValues, "J", ToCSMS, Supported, "clock-aligned meter values outside transactions (AlignedDataCtrlr), best effort", nil, resp[MeterValuesResponse]},
		// K Smart charging.
		{ActionClearChargingProfile, "K", ToStation, Supported, "clears the profile of an id, or every profile matching EVSE, purpose and stack level; Unknown when none", req[ClearChargingProfileRequest], resp[ClearChargingProfileResponse]},
		{ActionClearedChargingLimit, "K", ToCSMS, NotSupported, "no external charging limits are reported", nil, nil},
		{ActionGetChargingProfiles, "K", ToStation, Supported, "NoProfiles, or Accepted and the matching profiles in ReportChargingProfiles (source CSO), one per EVSE", req[GetChargingProfilesRequest], resp[GetChargingProfilesResponse]},
		{ActionGetCompositeSchedule, "K", ToStation, Supported, "the limits in force from now for the duration, EVSE 0 or n, in A or W (RateUnit), capped by the ratings and the site limit", req[GetCompositeScheduleRequest], resp[GetCompositeScheduleResponse]},
		{ActionNotifyChargingLimit, "K", ToCSMS, NotSupported, "no external charging limits are reported", nil, nil},
		{ActionNotifyEVChargingNeeds, "K", ToCSMS, NotSupported, "no ISO 15118 charging needs", nil, nil},
		{ActionNotifyEVChargingSchedule, "K", ToCSMS, NotSupported, "no ISO 15118 charging schedules", nil, nil},
		{ActionReportChargingProfiles, "K", ToCSMS, Supported, "the profiles GetChargingProfiles asks for, tbc on all parts but the last", nil, resp[ReportChargingProfilesResponse]},
		{ActionSetChargingProfile, "K", ToStation, Supported, "installs a profile (K01 rules, SmartChargingCtrlr limits) and hands the station its limits; Rejected while SmartChargingCtrlr.Enabled is false", req[SetChargingProfileRequest], resp[SetChargingProfileResponse]},
		// L Firmware management.
		{ActionFirmwareStatusNotification, "L", ToCSMS, Supported, "every step of an update with its requestId, through the durable queue; when triggered, the running update's status or Idle", nil, resp[FirmwareStatusNotificationResponse]},
		{ActionPublishFirmware, "L", ToStation, NotSupported, "no local controller", nil, nil},
		{ActionPublishFirmwareStatusNotification, "L", ToCSMS, NotSupported, "no local controller", nil, nil},
		{ActionUnpublishFirmware, "L", ToStation, NotSupported, "no local controller", nil, nil},
		{ActionUpdateFirmware, "L", ToStation, Supported, "signed or not; retries, retrieve and install times; InvalidCertificate for a signing certificate no manufacturer root vouches for; NotSupported without a firmware updater", req[UpdateFirmwareRequest], resp[UpdateFirmwareResponse]},
		// M ISO 15118 certificate management.
		{ActionDeleteCertificate, "M", ToStation, Supported, "deletes a root certificate; the CSMS root TLS relies on is kept (Failed); NotSupported without a certificate store", req[DeleteCertificateRequest], resp[DeleteCertificateResponse]},
		{ActionGet15118EVCertificate, "M", ToCSMS, NotSupported, "no ISO 15118", nil, nil},
		{ActionGetCertificateStatus, "M", ToCSMS, NotSupported, "no OCSP checks of ISO 15118 certificates", nil, nil},
		{ActionGetInstalledCertificateIds, "M", ToStation, Supported, "the CSMS and manufacturer roots, SHA-256 hash data; NotSupported without a certificate store", req[GetInstalledCertificateIdsRequest], resp[GetInstalledCertificateIdsResponse]},
		{ActionInstallCertificate, "M", ToStation, Supported, "installs a CSMS or manufacturer root (ISO 15118 roots Rejected); NotSupported without a certificate store", req[InstallCertificateRequest], resp[InstallCertificateResponse]},
		// N Diagnostics.
		{ActionClearVariableMonitoring, "N", ToStation, NotSupported, "no monitoring", nil, nil},
		{ActionCustomerInformation, "N", ToStation, NotSupported, "no customer information", nil, nil},
		{ActionGetLog, "N", ToStation, Supported, "uploads the diagnostics or the security log within the timestamps, with retries; NotSupported without a log uploader", req[GetLogRequest], resp[GetLogResponse]},
		{ActionGetMonitoringReport, "N", ToStation, NotSupported, "no monitoring", nil, nil},
		{ActionLogStatusNotification, "N", ToCSMS, Supported, "every step of an upload with its requestId, through the durable queue; when triggered, the running upload's status or Idle", nil, resp[LogStatusNotificationResponse]},
		{ActionNotifyCustomerInformation, "N", ToCSMS, NotSupported, "no customer information", nil, nil},
		{ActionNotifyEvent, "N", ToCSMS, NotSupported, "no monitoring events", nil, nil},
		{ActionNotifyMonitoringReport, "N", ToCSMS, NotSupported, "no monitoring", nil, nil},
		{ActionSetMonitoringBase, "N", ToStation, NotSupported, "no monitoring", nil, nil},
		{ActionSetMonitoringLevel, "N", ToStation, NotSupported, "no monitoring", nil, nil},
		{ActionSetVariableMonitoring, "N", ToStation, NotSupported, "no monitoring", nil, nil},
		// O Display message.
		{ActionClearDisplayMessage, "O", ToStation, NotSupported, "no display messages", nil, nil},
		{ActionGetDisplayMessages, "O", ToStation, NotSupported, "no display messages", nil, nil},
		{ActionNotifyDisplayMessages, "O", ToCSMS, NotSupported, "no display messages", nil, nil},
		{ActionSetDisplayMessage, "O", ToStation, NotSupported, "no display messages", nil, nil},
		// P Data transfer.
		{ActionDataTransfer, "P", Both, Supported, "no vendor extensions: every vendorId is UnknownVendorId", req[DataTransferRequest], resp[DataTransferResponse]},
	}
}

// Actions of 2.0.1 that have no message types in this package.
const (
	ActionClearDisplayMessage               = "ClearDisplayMessage"
	ActionClearVariableMonitoring           = "ClearVariableMonitoring"
	ActionClearedChargingLimit              = "ClearedChargingLimit"
	ActionCustomerInformation               = "CustomerInformation"
	ActionGet15118EVCertificate             = "Get15118EVCertificate"
	ActionGetCertificateStatus              = "GetCertificateStatus"
	ActionGetDisplayMessages                = "GetDisplayMessages"
	ActionGetMonitoringReport               = "GetMonitoringReport"
	ActionNotifyChargingLimit               = "NotifyChargingLimit"
	ActionNotifyCustomerInformation         = "NotifyCustomerInformation"
	ActionNotifyDisplayMessages             = "NotifyDisplayMessages"
	ActionNotifyEVChargingNeeds             = "NotifyEVChargingNeeds"
	ActionNotifyEVChargingSchedule          = "NotifyEVChargingSchedule"
	ActionNotifyEvent                       = "NotifyEvent"
	ActionNotifyMonitoringReport            = "NotifyMonitoringReport"
	ActionPublishFirmware                   = "PublishFirmware"
	ActionPublishFirmwareStatusNotification = "PublishFirmwareStatusNotification"
	ActionSetDisplayMessage                 = "SetDisplayMessage"
	ActionSetMonitoringBase                 = "SetMonitoringBase"
	ActionSetMonitoringLevel                = "SetMonitoringLevel"
	ActionSetVariableMonitoring             = "SetVariableMonitoring"
	ActionUnpublishFirmware                 = "UnpublishFirmware"
)

func req[T any]() any  { return new(T) }
func resp[T any]() any { return new(T) }

// lookupAction returns the table row of action.
func lookupAction(action string) (ActionInfo, bool) {
	for _, a := range Actions() {
		if a.Action == action {
			return a, true
		}
	}
	return ActionInfo{}, false
}

// newInboundRequest returns a new request value for a supported CSMS->CS
// action, or nil.
func newInboundRequest(action string) any {
	a, ok := lookupAction(action)
	if !ok || a.Support != Supported || a.newRequest == nil {
		return nil
	}
	return a.newRequest()
}

// newResponse returns a new response value for an action the adapter
// sends or answers, or nil.
func newResponse(action string) any {
	a, ok := lookupAction(action)
	if !ok || a.newResponse == nil {
		return nil
	}
	return a.newResponse()
}
