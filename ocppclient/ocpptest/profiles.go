package ocpptest

import (
	"time"

	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/firmware"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/localauth"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/remotetrigger"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/reservation"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/smartcharging"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
)

// CSMS-initiated calls of the 1.6 profiles beyond Core: Smart Charging,
// Local Auth List Management, Reservation, Remote Trigger and Firmware
// Management. ocpp-go's central system registers every profile; a charge
// point that does not implement one answers with a CALLERROR
// (NotImplemented or NotSupported), which these methods return as the
// error, as they return a missing answer.

// RemoteStartWithProfile sends RemoteStartTransaction with a charging
// profile (a TxProfile, by the specification) for the transaction it asks
// for; connector 0 leaves the choice to the charge point.
func (c *CSMS) RemoteStartWithProfile(cp string, connector int, idTag string, profile *types.ChargingProfile) (*core.RemoteStartTransactionConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*core.RemoteStartTransactionConfirmation, error)) error {
		return cs.RemoteStartTransaction(cp, cb, idTag, func(r *core.RemoteStartTransactionRequest) {
			if connector > 0 {
				r.ConnectorId = &connector
			}
			r.ChargingProfile = profile
		})
	})
}

// SetChargingProfile sends SetChargingProfile for connector (0: the whole
// charge point).
func (c *CSMS) SetChargingProfile(cp string, connector int, profile *types.ChargingProfile) (*smartcharging.SetChargingProfileConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*smartcharging.SetChargingProfileConfirmation, error)) error {
		return cs.SetChargingProfile(cp, cb, connector, profile)
	})
}

// ProfileFilter selects the profiles ClearChargingProfile clears. Each
// field is optional and left out of the request when nil or "": the zero
// ProfileFilter clears every profile.
type ProfileFilter struct {
	ID         *int // chargingProfileId
	Connector  *int // connectorId; 0 is the whole charge point
	Purpose    types.ChargingProfilePurposeType
	StackLevel *int
}

// ClearChargingProfile sends ClearChargingProfile with the fields of f.
func (c *CSMS) ClearChargingProfile(cp string, f ProfileFilter) (*smartcharging.ClearChargingProfileConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*smartcharging.ClearChargingProfileConfirmation, error)) error {
		return cs.ClearChargingProfile(cp, cb, func(r *smartcharging.ClearChargingProfileRequest) {
			r.Id = f.ID
			r.ConnectorId = f.Connector
			r.ChargingProfilePurpose = f.Purpose
			r.StackLevel = f.StackLevel
		})
	})
}

// GetCompositeSchedule sends GetCompositeSchedule for connector over the
// next duration (sent in whole seconds, rounded down); unit "" leaves the
// rate unit to the charge point.
func (c *CSMS) GetCompositeSchedule(cp string, connector int, duration time.Duration, unit types.ChargingRateUnitType) (*smartcharging.GetCompositeScheduleConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*smartcharging.GetCompositeScheduleConfirmation, error)) error {
		return cs.GetCompositeSchedule(cp, cb, connector, int(duration/time.Second), func(r *smartcharging.GetCompositeScheduleRequest) {
			r.ChargingRateUnit = unit
		})
	})
}

// SendLocalList sends SendLocalList. entries may be nil (a Full update to
// an empty list); an entry without IdTagInfo removes its tag in a
// Differential update.
func (c *CSMS) SendLocalList(cp string, version int, updateType localauth.UpdateType, entries []localauth.AuthorizationData) (*localauth.SendLocalListConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*localauth.SendLocalListConfirmation, error)) error {
		return cs.SendLocalList(cp, cb, version, updateType, func(r *localauth.SendLocalListRequest) {
			r.LocalAuthorizationList = entries
		})
	})
}

// GetLocalListVersion sends GetLocalListVersion.
func (c *CSMS) GetLocalListVersion(cp string) (*localauth.GetLocalListVersionConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*localauth.GetLocalListVersionConfirmation, error)) error {
		return cs.GetLocalListVersion(cp, cb)
	})
}

// ReserveNow sends ReserveNow: connector (0: any connector) reserved for
// idTag, or for any tag of group parentIdTag ("" for none), until expiry.
func (c *CSMS) ReserveNow(cp string, connector int, expiry time.Time, idTag, parentIdTag string, reservationID int) (*reservation.ReserveNowConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*reservation.ReserveNowConfirmation, error)) error {
		return cs.ReserveNow(cp, cb, connector, types.NewDateTime(expiry), idTag, reservationID, func(r *reservation.ReserveNowRequest) {
			r.ParentIdTag = parentIdTag
		})
	})
}

// CancelReservation sends CancelReservation.
func (c *CSMS) CancelReservation(cp string, reservationID int) (*reservation.CancelReservationConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*reservation.CancelReservationConfirmation, error)) error {
		return cs.CancelReservation(cp, cb, reservationID)
	})
}

// TriggerMessage sends TriggerMessage for requested (a charge-point
// message name such as core.StatusNotificationFeatureName), for connector
// when it is not nil (0 is the charge point as a whole). The triggered
// message itself arrives later, as a Record.
func (c *CSMS) TriggerMessage(cp string, requested remotetrigger.MessageTrigger, connector *int) (*remotetrigger.TriggerMessageConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*remotetrigger.TriggerMessageConfirmation, error)) error {
		return cs.TriggerMessage(cp, cb, requested, func(r *remotetrigger.TriggerMessageRequest) {
			r.ConnectorId = connector
		})
	})
}

// UpdateFirmware sends UpdateFirmware: fetch the firmware at location from
// retrieve on. The charge point reports progress with
// FirmwareStatusNotification, which is recorded.
func (c *CSMS) UpdateFirmware(cp, location string, retrieve time.Time) (*firmware.UpdateFirmwareConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*firmware.UpdateFirmwareConfirmation, error)) error {
		return cs.UpdateFirmware(cp, cb, location, types.NewDateTime(retrieve))
	})
}

// GetDiagnostics sends GetDiagnostics: upload diagnostics to location. The
// charge point reports progress with DiagnosticsStatusNotification, which is
// recorded.
func (c *CSMS) GetDiagnostics(cp, location string) (*firmware.GetDiagnosticsConfirmation, error) {
	return call(c, func(cs ocpp16.CentralSystem, cb func(*firmware.GetDiagnosticsConfirmation, error)) error {
		return cs.GetDiagnostics(cp, cb, location)
	})
}

// The Firmware Management profile is the only optional 1.6 profile with
// messages a charge point initiates; without this handler ocpp-go answers
// them NotSupported.
var _ firmware.CentralSystemHandler = (*handler)(nil)

func (h *handler) OnDiagnosticsStatusNotification(cp string, req *firmware.DiagnosticsStatusNotificationRequest) (*firmware.DiagnosticsStatusNotificationConfirmation, error) {
	if err := h.c.record(cp, firmware.DiagnosticsStatusNotificationFeatureName, req); err != nil {
		return nil, err
	}
	return firmware.NewDiagnosticsStatusNotificationConfirmation(), nil
}

func (h *handler) OnFirmwareStatusNotification(cp string, req *firmware.FirmwareStatusNotificationRequest) (*firmware.FirmwareStatusNotificationConfirmation, error) {
	if err := h.c.record(cp, firmware.FirmwareStatusNotificationFeatureName, req); err != nil {
		return nil, err
	}
	return firmware.NewFirmwareStatusNotificationConfirmation(), nil
}

// ConnectorStatus returns the status the charge point last reported for
// connector in a StatusNotification, and whether it reported any: after a
// ReserveNow, Reserved; after the reservation is used, cancelled or expired,
// what follows.
func (c *CSMS) ConnectorStatus(cp string, connector int) (core.ChargePointStatus, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return lastStatus(c.records, cp, connector)
}

// lastStatus finds connector's last reported status in records.
func lastStatus(records []Record, cp string, connector int) (core.ChargePointStatus, bool) {
	for i := len(records) - 1; i >= 0; i-- {
		r := records[i]
		if r.ChargePoint != cp || r.Action != core.StatusNotificationFeatureName || r.Refused {
			continue
		}
		if req := r.Request.(*core.StatusNotificationRequest); req.ConnectorId == connector {
			return req.Status, true
		}
	}
	return "", false
}

// WaitStatus waits until the status last reported for connector is want,
// and reports whether it came before timeout.
func (c *CSMS) WaitStatus(cp string, connector int, want core.ChargePointStatus, timeout time.Duration) bool {
	return c.WaitFor(timeout, func(records []Record) bool {
		s, ok := lastStatus(records, cp, connector)
		return ok && s == want
	})
}
