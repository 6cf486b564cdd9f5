package ocpp16

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// Every California Pricing message travels as a DataTransfer whose data is
// the message's JSON: the envelope must pass the 1.6 schema and the
// package's validator, and the data must round-trip through the message
// types.
func TestConformanceCostMsg(t *testing.T) {
	schemas := loadSchemas(t)
	at := NewDateTime(time.Date(2026, 11, 25, 1, 2, 3, 456e6, time.UTC))
	next := NewDateTime(at.Add(time.Hour))
	msgs := []struct {
		id  string
		msg any
	}{
		{CostMsgSetUserPrice, &SetUserPrice{IDToken: "CARD1", PriceText: "0.25 EUR/kWh",
			PriceTextExtra: []PriceTextExtra{{Format: "UTF8", Language: "de", Content: "0,25 €/kWh"}}}},
		{CostMsgRunningCost, &RunningCost{TransactionID: 101, Timestamp: at, MeterValue: ptr(1200), Cost: 1.25, State: CostStateCharging,
			ChargingPrice: &ChargingPrice{KWhPrice: 0.25, HourPrice: 1, FlatFee: 0.5}, IdlePrice: &IdlePrice{GraceMinutes: 30, HourPrice: 6},
			NextPeriod:        &NextPeriod{AtTime: next, ChargingPrice: &ChargingPrice{KWhPrice: 0.35}},
			TriggerMeterValue: &TriggerMeterValue{AtTime: &next, AtEnergyKWh: ptr(5.0), AtPowerKW: ptr(8.0), AtCPStatus: []ChargePointStatus{ChargePointStatusSuspendedEV}},
			PriceText:         "1.25 EUR so far", QRCodeText: "https://pay.example/101"}},
		{CostMsgRunningCost, &RunningCost{TransactionID: 101, Timestamp: at, Cost: 0, State: CostStateIdle}},
		{CostMsgFinalCost, &FinalCost{TransactionID: 101, Cost: 3.31, PriceText: "3.31 EUR", QRCodeText: "https://r.example/101"}},
		{CostMsgConnectorUnplugged, &ConnectorUnplugged{TransactionID: 101, Timestamp: at}},
	}
	for _, m := range msgs {
		data, err := json.Marshal(m.msg)
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := m.msg.(interface{ check() error }); ok {
			if err := c.check(); err != nil {
				t.Errorf("%s: check: %v", m.id, err)
			}
		}
		req := &DataTransferRequest{VendorID: CostMsgVendorID, MessageID: m.id, Data: string(data)}
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas.validateJSON(t, "urn:DataTransfer.req", b); err != nil {
			t.Errorf("%s: %s\nschema: %v", m.id, b, err)
		}
		if err := Validate(req); err != nil {
			t.Errorf("%s: Validate: %v", m.id, err)
		}
		got, err := DecodeRequest(ActionDataTransfer, b)
		if err != nil {
			t.Fatalf("%s: decode: %v", m.id, err)
		}
		back := reflect.New(reflect.TypeOf(m.msg).Elem()).Interface()
		if err := json.Unmarshal([]byte(got.(*DataTransferRequest).Data), back); err != nil {
			t.Fatalf("%s: data: %v", m.id, err)
		}
		if b2, _ := json.Marshal(back); !bytes.Equal(b2, data) {
			t.Errorf("%s: round trip\n got %s\nwant %s", m.id, b2, data)
		}
	}
	// The answers a costmsg gets.
	for _, st := range []DataTransferStatus{DataTransferStatusAccepted, DataTransferStatusRejected, DataTransferStatusUnknownMessageId} {
		b, _ := json.Marshal(&DataTransferResponse{Status: st})
		if err := schemas.validateJSON(t, "urn:DataTransfer.conf", b); err != nil {
			t.Errorf("%s: %v", st, err)
		}
	}
}
