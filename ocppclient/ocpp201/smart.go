package ocpp201

import (
	"context"
	"errors"

	"github.com/evsed/evsed/station"
)

// Smart charging (K) and reservations (H) are not wired to the shared
// engines yet: Actions marks their requests NotSupported, so DecodeRequest
// answers them with that CALLERROR before these handlers run, and a
// RequestStartTransaction with a charging profile is Rejected. The
// handlers below give a well-formed refusal should a row be switched on
// before its engine is wired.

var errNoSmartCharging = errors.New("smart charging is not supported")

func (c *Charger) acceptRemoteProfile(int, *ChargingProfile) error { return errNoSmartCharging }

func (c *Charger) setChargingProfile(context.Context, Station, *SetChargingProfileRequest) any {
	return &SetChargingProfileResponse{Status: ChargingProfileStatusRejected, StatusInfo: statusInfo("NotSupported", errNoSmartCharging.Error())}
}

func (c *Charger) getChargingProfiles(*GetChargingProfilesRequest) any {
	return &GetChargingProfilesResponse{Status: GetChargingProfileStatusNoProfiles}
}

func (c *Charger) clearChargingProfile(context.Context, *ClearChargingProfileRequest) any {
	return &ClearChargingProfileResponse{Status: ClearChargingProfileStatusUnknown}
}

func (c *Charger) getCompositeSchedule(context.Context, Station, *GetCompositeScheduleRequest) any {
	return &GetCompositeScheduleResponse{Status: GenericStatusRejected, StatusInfo: statusInfo("NotSupported", errNoSmartCharging.Error())}
}

func (c *Charger) reserveNow(context.Context, Station, *ReserveNowRequest) any {
	return &ReserveNowResponse{Status: ReserveNowStatusRejected, StatusInfo: statusInfo("NotSupported", "reservations are not supported")}
}

func (c *Charger) cancelReservation(context.Context, Station, *CancelReservationRequest) any {
	return &CancelReservationResponse{Status: CancelReservationStatusRejected}
}

func (c *Charger) sessionStartedLimits(station.SessionStart) {}
func (c *Charger) sessionEndedLimits(station.SessionEnd)     {}
func (c *Charger) applyAllLimits(context.Context)            {}
