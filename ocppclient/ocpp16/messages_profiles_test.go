package ocpp16

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/evsed/evsed/ocppclient"
)

// profileRequests returns valid requests of every action of the Smart
// Charging, Local Auth List Management, Reservation and Remote Trigger
// profiles.
func profileRequests() []struct{ action, payload string } {
	return []struct{ action, payload string }{
		{ActionSetChargingProfile, `{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile",` +
			`"chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}}}`},
		{ActionClearChargingProfile, `{}`},
		{ActionGetCompositeSchedule, `{"connectorId":1,"duration":3600}`},
		{ActionSendLocalList, `{"listVersion":1,"updateType":"Full","localAuthorizationList":[{"idTag":"A","idTagInfo":{"status":"Accepted"}}]}`},
		{ActionGetLocalListVersion, `{}`},
		{ActionReserveNow, `{"connectorId":1,"expiryDate":"2026-11-25T10:00:00Z","idTag":"T","reservationId":7}`},
		{ActionCancelReservation, `{"reservationId":7}`},
		{ActionTriggerMessage, `{"requestedMessage":"Heartbeat"}`},
	}
}

// Every request of these profiles is handled: the answer is no CALLERROR
// and passes the schema rules of its response type.
func TestHandleCallProfilesAnswered(t *testing.T) {
	for _, tc := range profileRequests() {
		t.Run(tc.action, func(t *testing.T) {
			r := newRig(t, nil)
			resp, err := r.c.HandleCall(context.Background(), tc.action, json.RawMessage(tc.payload))
			if err != nil {
				t.Fatalf("HandleCall: %v", err)
			}
			if f, ok := resp.(ocppclient.FollowUp); ok {
				resp = f.Response
			}
			v, ok := resp.(interface{ Validate() error })
			if !ok {
				t.Fatalf("answer %T has no Validate", resp)
			}
			if err := v.Validate(); err != nil {
				t.Errorf("answer %+v breaks the schema: %v", resp, err)
			}
			r.c.background.Wait()
		})
	}
}

// answerCaller is a transport whose CSMS answers every CALL with answer.
type answerCaller struct {
	answer string
	action string // the last action sent
	req    json.RawMessage
}

func (a *answerCaller) Call(_ context.Context, action string, req, resp any) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	a.action, a.req = action, b
	return json.Unmarshal([]byte(a.answer), resp)
}

// The charge point can send the Firmware Management notifications, and
// their answers are checked like any other.
func TestSendFirmwareManagementNotifications(t *testing.T) {
	tests := []struct {
		name    string
		action  string
		req     interface{ Validate() error }
		resp    any
		answer  string
		wantReq string
		code    ocppclient.ErrorCode // "" for success
	}{
		{"diagnostics idle", ActionDiagnosticsStatusNotification, &DiagnosticsStatusNotificationRequest{Status: DiagnosticsStatusIdle},
			&DiagnosticsStatusNotificationResponse{}, `{}`, `{"status":"Idle"}`, ""},
		{"firmware installed", ActionFirmwareStatusNotification, &FirmwareStatusNotificationRequest{Status: FirmwareStatusInstalled},
			&FirmwareStatusNotificationResponse{}, `{}`, `{"status":"Installed"}`, ""},
		{"answer with a field", ActionFirmwareStatusNotification, &FirmwareStatusNotificationRequest{Status: FirmwareStatusDownloading},
			&FirmwareStatusNotificationResponse{}, `{"status":"Accepted"}`, `{"status":"Downloading"}`, ocppclient.FormationViolation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.req.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			c := &answerCaller{answer: tc.answer}
			err := call(context.Background(), c, tc.action, tc.req, tc.resp)
			if c.action != tc.action || string(c.req) != tc.wantReq {
				t.Errorf("sent %s %s, want %s %s", c.action, c.req, tc.action, tc.wantReq)
			}
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *ocppclient.CallError
			if !errors.As(err, &ce) || ce.Code != tc.code {
				t.Errorf("err = %v, want code %s", err, tc.code)
			}
		})
	}
}
