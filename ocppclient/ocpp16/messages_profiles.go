package ocpp16

// Messages of the Smart Charging, Local Auth List Management, Reservation
// and Remote Trigger profiles, and the two notifications of the Firmware
// Management profile that the charge point sends. Field rules follow the
// official schemas; minimums the specification states only in prose are
// min= rules, as for the Core messages.

// Smart Charging: requests a CSMS sends, and their answers.

// SetChargingProfileRequest installs a charging profile on a connector (0:
// the whole charge point, for ChargePointMaxProfile and TxDefaultProfile).
type SetChargingProfileRequest struct {
	ConnectorID int `json:"connectorId" ocpp:"required,min=0"`
	// CsChargingProfiles is a single profile, despite the plural of its
	// wire name.
	CsChargingProfiles ChargingProfile `json:"csChargingProfiles" ocpp:"required"`
}

// SetChargingProfileResponse answers a SetChargingProfileRequest.
type SetChargingProfileResponse struct {
	Status ChargingProfileStatus `json:"status" ocpp:"required"`
}

// ClearChargingProfileRequest removes the profile with ID, or every profile
// that matches all the criteria given. Absent fields (nil, empty) match
// anything, so an empty request clears every profile.
type ClearChargingProfileRequest struct {
	ID *int `json:"id,omitempty"`
	// ConnectorID 0 selects the profiles of the whole charge point.
	ConnectorID            *int                   `json:"connectorId,omitempty" ocpp:"min=0"`
	ChargingProfilePurpose ChargingProfilePurpose `json:"chargingProfilePurpose,omitempty"`
	StackLevel             *int                   `json:"stackLevel,omitempty" ocpp:"min=0"`
}

// ClearChargingProfileResponse answers a ClearChargingProfileRequest.
type ClearChargingProfileResponse struct {
	Status ClearChargingProfileStatus `json:"status" ocpp:"required"`
}

// GetCompositeScheduleRequest asks for the schedule that results from all
// profiles of a connector (0: the grid connection of the charge point) over
// the coming Duration seconds.
type GetCompositeScheduleRequest struct {
	ConnectorID int `json:"connectorId" ocpp:"required,min=0"`
	// Duration is the length of the requested schedule, in seconds.
	Duration int `json:"duration" ocpp:"required,min=0"`
	// ChargingRateUnit is the unit the answer should use; empty lets the
	// charge point choose.
	ChargingRateUnit ChargingRateUnit `json:"chargingRateUnit,omitempty"`
}

// GetCompositeScheduleResponse answers a GetCompositeScheduleRequest. The
// optional fields are set when Status is Accepted.
type GetCompositeScheduleResponse struct {
	Status           GetCompositeScheduleStatus `json:"status" ocpp:"required"`
	ConnectorID      *int                       `json:"connectorId,omitempty" ocpp:"min=0"`
	ScheduleStart    *DateTime                  `json:"scheduleStart,omitempty"`
	ChargingSchedule *ChargingSchedule          `json:"chargingSchedule,omitempty"`
}

// Local Auth List Management: requests a CSMS sends, and their answers.

// SendLocalListRequest replaces (Full) or changes (Differential) the local
// authorization list. An absent or empty list clears the list in a Full
// update and changes nothing in a Differential one; both decode to a nil or
// empty LocalAuthorizationList, which mean the same.
type SendLocalListRequest struct {
	// ListVersion is the version of the list once the update is applied.
	ListVersion            int                 `json:"listVersion" ocpp:"required"`
	LocalAuthorizationList []AuthorizationData `json:"localAuthorizationList,omitempty"`
	UpdateType             UpdateType          `json:"updateType" ocpp:"required"`
}

// SendLocalListResponse answers a SendLocalListRequest.
type SendLocalListResponse struct {
	Status UpdateStatus `json:"status" ocpp:"required"`
}

// GetLocalListVersionRequest asks for the version of the local
// authorization list.
type GetLocalListVersionRequest struct{}

// GetLocalListVersionResponse answers a GetLocalListVersionRequest.
type GetLocalListVersionResponse struct {
	// ListVersion is the list's version: 0 for an empty list, -1 when the
	// charge point has no local list. The prose gives no meaning to lower
	// values, so the charge point never sends one.
	ListVersion int `json:"listVersion" ocpp:"required,min=-1"`
}

// Reservation: requests a CSMS sends, and their answers.

// ReserveNowRequest reserves a connector (0: any connector, when
// ReserveConnectorZeroSupported) for an id tag until ExpiryDate. A
// request with the ReservationID of an existing reservation replaces it.
type ReserveNowRequest struct {
	ConnectorID int      `json:"connectorId" ocpp:"required,min=0"`
	ExpiryDate  DateTime `json:"expiryDate" ocpp:"required"`
	IDTag       string   `json:"idTag" ocpp:"required,max=20"`
	// ParentIDTag, when set, lets any tag of that group use the
	// reservation.
	ParentIDTag   string `json:"parentIdTag,omitempty" ocpp:"max=20"`
	ReservationID int    `json:"reservationId" ocpp:"required"`
}

// ReserveNowResponse answers a ReserveNowRequest.
type ReserveNowResponse struct {
	Status ReservationStatus `json:"status" ocpp:"required"`
}

// CancelReservationRequest cancels a reservation.
type CancelReservationRequest struct {
	ReservationID int `json:"reservationId" ocpp:"required"`
}

// CancelReservationResponse answers a CancelReservationRequest.
type CancelReservationResponse struct {
	Status CancelReservationStatus `json:"status" ocpp:"required"`
}

// Remote Trigger: the request a CSMS sends, and its answer.

// TriggerMessageRequest asks the charge point to send a message now.
type TriggerMessageRequest struct {
	RequestedMessage MessageTrigger `json:"requestedMessage" ocpp:"required"`
	// ConnectorID is nil when the request applies to every connector
	// (and the charge point itself); it is ignored for messages that are
	// not about a connector. The field table of the specification says
	// connectorId > 0, but its description of the operation asks for the
	// charge point's own StatusNotification with connectorId 0, and the
	// schema allows any integer, so 0 is accepted (only negative ids are
	// not).
	ConnectorID *int `json:"connectorId,omitempty" ocpp:"min=0"`
}

// TriggerMessageResponse answers a TriggerMessageRequest.
type TriggerMessageResponse struct {
	Status TriggerMessageStatus `json:"status" ocpp:"required"`
}

// Firmware Management: notifications a charge point sends, and their
// answers.

// DiagnosticsStatusNotificationRequest reports the state of a diagnostics
// upload; Idle when none is under way (the answer to a TriggerMessage).
type DiagnosticsStatusNotificationRequest struct {
	Status DiagnosticsStatus `json:"status" ocpp:"required"`
}

// DiagnosticsStatusNotificationResponse answers a
// DiagnosticsStatusNotificationRequest.
type DiagnosticsStatusNotificationResponse struct{}

// FirmwareStatusNotificationRequest reports the state of a firmware
// update; Idle when none is under way (the answer to a TriggerMessage).
type FirmwareStatusNotificationRequest struct {
	Status FirmwareStatus `json:"status" ocpp:"required"`
}

// FirmwareStatusNotificationResponse answers a
// FirmwareStatusNotificationRequest.
type FirmwareStatusNotificationResponse struct{}

// Validate methods: each checks the message against the rules of its
// schema (see Validate).

// Validate checks r against the SetChargingProfile.req rules.
func (r *SetChargingProfileRequest) Validate() error { return Validate(r) }

// Validate checks r against the SetChargingProfile.conf rules.
func (r *SetChargingProfileResponse) Validate() error { return Validate(r) }

// Validate checks r against the ClearChargingProfile.req rules.
func (r *ClearChargingProfileRequest) Validate() error { return Validate(r) }

// Validate checks r against the ClearChargingProfile.conf rules.
func (r *ClearChargingProfileResponse) Validate() error { return Validate(r) }

// Validate checks r against the GetCompositeSchedule.req rules.
func (r *GetCompositeScheduleRequest) Validate() error { return Validate(r) }

// Validate checks r against the GetCompositeSchedule.conf rules.
func (r *GetCompositeScheduleResponse) Validate() error { return Validate(r) }

// Validate checks r against the SendLocalList.req rules.
func (r *SendLocalListRequest) Validate() error { return Validate(r) }

// Validate checks r against the SendLocalList.conf rules.
func (r *SendLocalListResponse) Validate() error { return Validate(r) }

// Validate checks r against the GetLocalListVersion.req rules.
func (r *GetLocalListVersionRequest) Validate() error { return Validate(r) }

// Validate checks r against the GetLocalListVersion.conf rules.
func (r *GetLocalListVersionResponse) Validate() error { return Validate(r) }

// Validate checks r against the ReserveNow.req rules.
func (r *ReserveNowRequest) Validate() error { return Validate(r) }

// Validate checks r against the ReserveNow.conf rules.
func (r *ReserveNowResponse) Validate() error { return Validate(r) }

// Validate checks r against the CancelReservation.req rules.
func (r *CancelReservationRequest) Validate() error { return Validate(r) }

// Validate checks r against the CancelReservation.conf rules.
func (r *CancelReservationResponse) Validate() error { return Validate(r) }

// Validate checks r against the TriggerMessage.req rules.
func (r *TriggerMessageRequest) Validate() error { return Validate(r) }

// Validate checks r against the TriggerMessage.conf rules.
func (r *TriggerMessageResponse) Validate() error { return Validate(r) }

// Validate checks r against the DiagnosticsStatusNotification.req rules.
func (r *DiagnosticsStatusNotificationRequest) Validate() error { return Validate(r) }

// Validate checks r against the DiagnosticsStatusNotification.conf rules.
func (r *DiagnosticsStatusNotificationResponse) Validate() error { return Validate(r) }

// Validate checks r against the FirmwareStatusNotification.req rules.
func (r *FirmwareStatusNotificationRequest) Validate() error { return Validate(r) }

// Validate checks r against the FirmwareStatusNotification.conf rules.
func (r *FirmwareStatusNotificationResponse) Validate() error { return Validate(r) }
