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
		{ActionCertificateSigned, "A", ToStation, NotSupported, "not yet: no certificate store wired (block A)", req[CertificateSignedRequest], resp[CertificateSignedResponse]},
		{ActionSecurityEventNotification, "A", ToCSMS, NotSupported, "not yet sent (block A)", nil, resp[SecurityEventNotificationResponse]},
		{ActionSignCertificate, "A", ToCSMS, NotSupported, "not yet sent (block A)", nil, resp[SignCertificateResponse]},
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
		{ActionAuthorize, "C", ToCSMS, Supported, "asks the CSMS about an id token unless the local list answers (LocalPreAuthorize); offline: LocalAuthorizeOffline, OfflineTxForUnknownIdEnabled", nil, resp[AuthorizeResponse]},
		{ActionClearCache, "C", ToStation, Supported, "Accepted; the authorization cache is not implemented yet, so there is nothing to clear", req[ClearCacheRequest], resp[ClearCacheResponse]},
		// D Local authorization list management.
		{ActionGetLocalListVersion, "D", ToStation, Supported, "the local list's version (0: none)", req[GetLocalListVersionRequest], resp[GetLocalListVersionResponse]},
		{ActionSendLocalList, "D", ToStation, Supported, "Full or Differential update of the local list", req[SendLocalListRequest], resp[SendLocalListResponse]},
		// E Transactions.
		{ActionGetTransactionStatus, "E", ToStation, Supported, "whether a transaction is ongoing and whether its messages are still queued", req[GetTransactionStatusRequest], resp[GetTransactionStatusResponse]},
		{ActionTransactionEvent, "E", ToCSMS, Supported, "Started/Updated/Ended per TxStartPoint and TxStopPoint, durable and in order, offline=true when queued offline", nil, resp[TransactionEventResponse]},
		// F Remote control.
		{ActionRequestStartTransaction, "F", ToStation, Supported, "starts a session (remoteStartId in the TransactionEvent, triggerReason RemoteStart); with a chargingProfile it is Rejected until smart charging is wired", req[RequestStartTransactionRequest], resp[RequestStartTransactionResponse]},
		{ActionRequestStopTransaction, "F", ToStation, Supported, "stops the session of a transactionId", req[RequestStopTransactionRequest], resp[RequestStopTransactionResponse]},
		{ActionTriggerMessage, "F", ToStation, Supported, "BootNotification (while Pending), Heartbeat, StatusNotification, MeterValues, TransactionEvent, FirmwareStatusNotification, LogStatusNotification; others NotImplemented", req[TriggerMessageRequest], resp[TriggerMessageResponse]},
		{ActionUnlockConnector, "F", ToStation, Supported, "unlocks a connector without an authorized transaction", req[UnlockConnectorRequest], resp[UnlockConnectorResponse]},
		// G Availability.
		{ActionChangeAvailability, "G", ToStation, Supported, "station, EVSE or connector Operative/Inoperative; Scheduled while a transaction runs", req[ChangeAvailabilityRequest], resp[ChangeAvailabilityResponse]},
		{ActionStatusNotification, "G", ToCSMS, Supported, "connector status (Available, Occupied, Reserved, Unavailable, Faulted) on change and after every connect", nil, resp[StatusNotificationResponse]},
		// H Reservation.
		{ActionCancelReservation, "H", ToStation, NotSupported, "not yet: reservations are not wired (block H)", req[CancelReservationRequest], resp[CancelReservationResponse]},
		{ActionReservationStatusUpdate, "H", ToCSMS, NotSupported, "not yet sent (block H)", nil, resp[ReservationStatusUpdateResponse]},
		{ActionReserveNow, "H", ToStation, NotSupported, "not yet: reservations are not wired (block H)", req[ReserveNowRequest], resp[ReserveNowResponse]},
		// I Tariff and cost.
		{ActionCostUpdated, "I", ToStation, NotSupported, "tariff and cost are not implemented", nil, nil},
		// J Metering.
		{ActionMeterValues, "J", ToCSMS, Supported, "clock-aligned meter values outside transactions (AlignedDataCtrlr), best effort", nil, resp[MeterValuesResponse]},
		// K Smart charging.
		{ActionClearChargingProfile, "K", ToStation, NotSupported, "not yet: smart charging is not wired (block K)", req[ClearChargingProfileRequest], resp[ClearChargingProfileResponse]},
		{ActionClearedChargingLimit, "K", ToCSMS, NotSupported, "no external charging limits are reported", nil, nil},
		{ActionGetChargingProfiles, "K", ToStation, NotSupported, "not yet: smart charging is not wired (block K)", req[GetChargingProfilesRequest], resp[GetChargingProfilesResponse]},
		{ActionGetCompositeSchedule, "K", ToStation, NotSupported, "not yet: smart charging is not wired (block K)", req[GetCompositeScheduleRequest], resp[GetCompositeScheduleResponse]},
		{ActionNotifyChargingLimit, "K", ToCSMS, NotSupported, "no external charging limits are reported", nil, nil},
		{ActionNotifyEVChargingNeeds, "K", ToCSMS, NotSupported, "no ISO 15118 charging needs", nil, nil},
		{ActionNotifyEVChargingSchedule, "K", ToCSMS, NotSupported, "no ISO 15118 charging schedules", nil, nil},
		{ActionReportChargingProfiles, "K", ToCSMS, NotSupported, "not yet sent (block K)", nil, resp[ReportChargingProfilesResponse]},
		{ActionSetChargingProfile, "K", ToStation, NotSupported, "not yet: smart charging is not wired (block K)", req[SetChargingProfileRequest], resp[SetChargingProfileResponse]},
		// L Firmware management.
		{ActionFirmwareStatusNotification, "L", ToCSMS, Supported, "sent when triggered, with status Idle (no firmware updater wired yet)", nil, resp[FirmwareStatusNotificationResponse]},
		{ActionPublishFirmware, "L", ToStation, NotSupported, "no local controller", nil, nil},
		{ActionPublishFirmwareStatusNotification, "L", ToCSMS, NotSupported, "no local controller", nil, nil},
		{ActionUnpublishFirmware, "L", ToStation, NotSupported, "no local controller", nil, nil},
		{ActionUpdateFirmware, "L", ToStation, NotSupported, "not yet: no firmware updater wired (block L)", req[UpdateFirmwareRequest], resp[UpdateFirmwareResponse]},
		// M ISO 15118 certificate management.
		{ActionDeleteCertificate, "M", ToStation, NotSupported, "not yet: no certificate store wired", req[DeleteCertificateRequest], resp[DeleteCertificateResponse]},
		{ActionGet15118EVCertificate, "M", ToCSMS, NotSupported, "no ISO 15118", nil, nil},
		{ActionGetCertificateStatus, "M", ToCSMS, NotSupported, "no OCSP checks of ISO 15118 certificates", nil, nil},
		{ActionGetInstalledCertificateIds, "M", ToStation, NotSupported, "not yet: no certificate store wired", req[GetInstalledCertificateIdsRequest], resp[GetInstalledCertificateIdsResponse]},
		{ActionInstallCertificate, "M", ToStation, NotSupported, "not yet: no certificate store wired", req[InstallCertificateRequest], resp[InstallCertificateResponse]},
		// N Diagnostics.
		{ActionClearVariableMonitoring, "N", ToStation, NotSupported, "no monitoring", nil, nil},
		{ActionCustomerInformation, "N", ToStation, NotSupported, "no customer information", nil, nil},
		{ActionGetLog, "N", ToStation, NotSupported, "not yet: no log uploader wired (block N)", req[GetLogRequest], resp[GetLogResponse]},
		{ActionGetMonitoringReport, "N", ToStation, NotSupported, "no monitoring", nil, nil},
		{ActionLogStatusNotification, "N", ToCSMS, Supported, "sent when triggered, with status Idle (no log uploader wired yet)", nil, resp[LogStatusNotificationResponse]},
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
	ActionCostUpdated                       = "CostUpdated"
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
