package ocpp16

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"time"

	"github.com/evsed/evsed/station/tariff"
)

// The Open Charge Alliance's "California Pricing" extension of OCPP 1.6
// carries prices and costs in DataTransfer messages of one vendor id, each
// with its JSON object as the string data (see docs/pricing.md).
const (
	// CostMsgVendorID is the DataTransfer vendorId of the extension.
	CostMsgVendorID = "org.openchargealliance.costmsg"

	// MessageIDs from the CSMS.
	CostMsgSetUserPrice = "SetUserPrice"
	CostMsgRunningCost  = "RunningCost"
	CostMsgFinalCost    = "FinalCost"
	// CostMsgConnectorUnplugged is sent by the charge point (with
	// CustomIdleFeeAfterStop) when the cable leaves after the transaction
	// ended.
	CostMsgConnectorUnplugged = "ConnectorUnplugged"
)

// Cost states of a RunningCost.
const (
	CostStateCharging = "Charging"
	CostStateIdle     = "Idle"
)

// errCostMsg is wrapped by every rule a costmsg payload breaks.
var errCostMsg = errors.New("ocpp16 costmsg")

// PriceTextExtra is a text in another language than the main one.
type PriceTextExtra struct {
	// Format is the message format (ASCII, HTML, URI, UTF8); "" means
	// UTF8.
	Format string `json:"format,omitempty"`
	// Language is the RFC 5646 code.
	Language string `json:"language"`
	Content  string `json:"content"`
}

// ChargingPrice is the simple price of California Pricing: per kWh, per
// hour of charging and once per session, in the currency's units.
type ChargingPrice struct {
	KWhPrice  float64 `json:"kWhPrice"`
	HourPrice float64 `json:"hourPrice"`
	FlatFee   float64 `json:"flatFee"`
}

// IdlePrice is the price per hour of idle time after graceMinutes.
type IdlePrice struct {
	GraceMinutes int     `json:"graceMinutes"`
	HourPrice    float64 `json:"hourPrice"`
}

// NextPeriod is a price that applies from AtTime on.
type NextPeriod struct {
	AtTime        DateTime       `json:"atTime"`
	ChargingPrice *ChargingPrice `json:"chargingPrice,omitempty"`
	IdlePrice     *IdlePrice     `json:"idlePrice,omitempty"`
}

// TriggerMeterValue asks for a MeterValues when the first of its
// conditions holds: a time, a session energy, a power crossing, or a
// connector status.
type TriggerMeterValue struct {
	AtTime      *DateTime           `json:"atTime,omitempty"`
	AtEnergyKWh *float64            `json:"atEnergykWh,omitempty"`
	AtPowerKW   *float64            `json:"atPowerkW,omitempty"`
	AtCPStatus  []ChargePointStatus `json:"atCPStatus,omitempty"`
}

// SetUserPrice is the price text of one driver, sent once the CSMS knows
// the id token (after Authorize), before the transaction.
type SetUserPrice struct {
	IDToken        string           `json:"idToken"`
	PriceText      string           `json:"priceText"`
	PriceTextExtra []PriceTextExtra `json:"priceTextExtra,omitempty"`
}

// RunningCost is the cost so far of a transaction, with the prices in
// force and the triggers of the next MeterValues.
type RunningCost struct {
	TransactionID int      `json:"transactionId"`
	Timestamp     DateTime `json:"timestamp"`
	// MeterValue is the energy register (Wh) the cost is based on.
	MeterValue *int    `json:"meterValue,omitempty"`
	Cost       float64 `json:"cost"`
	// State is Charging or Idle; "" means Charging.
	State             string             `json:"state,omitempty"`
	ChargingPrice     *ChargingPrice     `json:"chargingPrice,omitempty"`
	IdlePrice         *IdlePrice         `json:"idlePrice,omitempty"`
	NextPeriod        *NextPeriod        `json:"nextPeriod,omitempty"`
	TriggerMeterValue *TriggerMeterValue `json:"triggerMeterValue,omitempty"`
	PriceText         string             `json:"priceText,omitempty"`
	PriceTextExtra    []PriceTextExtra   `json:"priceTextExtra,omitempty"`
	QRCodeText        string             `json:"qrCodeText,omitempty"`
}

// FinalCost is a transaction's cost once it has ended.
type FinalCost struct {
	TransactionID  int              `json:"transactionId"`
	Cost           float64          `json:"cost"`
	PriceText      string           `json:"priceText,omitempty"`
	PriceTextExtra []PriceTextExtra `json:"priceTextExtra,omitempty"`
	QRCodeText     string           `json:"qrCodeText,omitempty"`
}

// ConnectorUnplugged tells the CSMS when the cable left after the
// transaction ended, for an idle fee after the stop.
type ConnectorUnplugged struct {
	TransactionID int      `json:"transactionId"`
	Timestamp     DateTime `json:"timestamp"`
}

// DefaultPrice is the value of the DefaultPrice key: the texts shown before
// a driver is known (and while offline), and the price the charge point
// computes the running cost with when it has no other.
type DefaultPrice struct {
	PriceText        string         `json:"priceText"`
	PriceTextOffline string         `json:"priceTextOffline,omitempty"`
	ChargingPrice    *ChargingPrice `json:"chargingPrice,omitempty"`
}

// DefaultPriceText is the value of a DefaultPriceText,<language> key.
type DefaultPriceText struct {
	PriceText        string `json:"priceText"`
	PriceTextOffline string `json:"priceTextOffline,omitempty"`
}

// Longest texts accepted: a display shows a few lines, and a CSMS that
// sends more is broken.
const (
	maxPriceText = 1000
	maxQRCode    = 1000
)

// decodeCostMsg parses a costmsg data string into v (a pointer) and checks
// it with v's check method. Unknown members are ignored: the extension has
// grown over its versions, and a member this charger does not know must
// not make it refuse the prices it does.
func decodeCostMsg(data string, v interface{ check() error }) error {
	if err := json.Unmarshal([]byte(data), v); err != nil {
		return fmt.Errorf("%w: data: %v", errCostMsg, err)
	}
	return v.check()
}

func checkTexts(text string, extra []PriceTextExtra) error {
	if len([]rune(text)) > maxPriceText {
		return fmt.Errorf("%w: priceText longer than %d characters", errCostMsg, maxPriceText)
	}
	for _, e := range extra {
		if e.Language == "" || len([]rune(e.Content)) > maxPriceText {
			return fmt.Errorf("%w: priceTextExtra needs a language and at most %d characters", errCostMsg, maxPriceText)
		}
		if e.Format != "" && !slices.Contains([]string{"ASCII", "HTML", "URI", "UTF8"}, e.Format) {
			return fmt.Errorf("%w: priceTextExtra format %q", errCostMsg, e.Format)
		}
	}
	return nil
}

func checkAmount(name string, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e9 {
		return fmt.Errorf("%w: %s %v is not a price", errCostMsg, name, f)
	}
	return nil
}

func (p *ChargingPrice) check() error {
	if p == nil {
		return nil
	}
	for _, a := range []struct {
		n string
		v float64
	}{{"kWhPrice", p.KWhPrice}, {"hourPrice", p.HourPrice}, {"flatFee", p.FlatFee}} {
		if err := checkAmount(a.n, a.v); err != nil {
			return err
		}
	}
	return nil
}

func (p *IdlePrice) check() error {
	if p == nil {
		return nil
	}
	if p.GraceMinutes < 0 {
		return fmt.Errorf("%w: negative graceMinutes", errCostMsg)
	}
	return checkAmount("idlePrice.hourPrice", p.HourPrice)
}

func (m *SetUserPrice) check() error {
	if m.IDToken == "" {
		return fmt.Errorf("%w: SetUserPrice without idToken", errCostMsg)
	}
	if len(m.IDToken) > 36 {
		return fmt.Errorf("%w: idToken longer than 36 characters", errCostMsg)
	}
	return checkTexts(m.PriceText, m.PriceTextExtra)
}

func (m *RunningCost) check() error {
	if m.TransactionID == 0 {
		return fmt.Errorf("%w: RunningCost without transactionId", errCostMsg)
	}
	if err := checkAmount("cost", m.Cost); err != nil {
		return err
	}
	if m.State != "" && m.State != CostStateCharging && m.State != CostStateIdle {
		return fmt.Errorf("%w: state %q, want Charging or Idle", errCostMsg, m.State)
	}
	if err := m.ChargingPrice.check(); err != nil {
		return err
	}
	if err := m.IdlePrice.check(); err != nil {
		return err
	}
	if n := m.NextPeriod; n != nil {
		if n.AtTime.IsZero() {
			return fmt.Errorf("%w: nextPeriod without atTime", errCostMsg)
		}
		if err := n.ChargingPrice.check(); err != nil {
			return err
		}
		if err := n.IdlePrice.check(); err != nil {
			return err
		}
	}
	if tr := m.TriggerMeterValue; tr != nil {
		if e := tr.AtEnergyKWh; e != nil && (*e < 0 || math.IsNaN(*e) || math.IsInf(*e, 0)) {
			return fmt.Errorf("%w: atEnergykWh %v", errCostMsg, *e)
		}
		if p := tr.AtPowerKW; p != nil && (*p < 0 || math.IsNaN(*p) || math.IsInf(*p, 0)) {
			return fmt.Errorf("%w: atPowerkW %v", errCostMsg, *p)
		}
		for _, s := range tr.AtCPStatus {
			if !s.IsValid() {
				return fmt.Errorf("%w: atCPStatus %q", errCostMsg, s)
			}
		}
	}
	if len(m.QRCodeText) > maxQRCode {
		return fmt.Errorf("%w: qrCodeText longer than %d", errCostMsg, maxQRCode)
	}
	return checkTexts(m.PriceText, m.PriceTextExtra)
}

func (m *FinalCost) check() error {
	if m.TransactionID == 0 {
		return fmt.Errorf("%w: FinalCost without transactionId", errCostMsg)
	}
	if err := checkAmount("cost", m.Cost); err != nil {
		return err
	}
	if len(m.QRCodeText) > maxQRCode {
		return fmt.Errorf("%w: qrCodeText longer than %d", errCostMsg, maxQRCode)
	}
	return checkTexts(m.PriceText, m.PriceTextExtra)
}

func (m *DefaultPrice) check() error {
	if err := checkTexts(m.PriceText, nil); err != nil {
		return err
	}
	if err := checkTexts(m.PriceTextOffline, nil); err != nil {
		return err
	}
	return m.ChargingPrice.check()
}

func (m *DefaultPriceText) check() error {
	if err := checkTexts(m.PriceText, nil); err != nil {
		return err
	}
	return checkTexts(m.PriceTextOffline, nil)
}

// parseDefaultPrice parses a DefaultPrice value; "" is no default price.
func parseDefaultPrice(v string) (*DefaultPrice, error) {
	if v == "" {
		return nil, nil
	}
	var dp DefaultPrice
	if err := decodeCostMsg(v, &dp); err != nil {
		return nil, err
	}
	return &dp, nil
}

// simpleTariff is the tariff of a California Pricing price.
func simpleTariff(currency string, cp *ChargingPrice, idle *IdlePrice) tariff.Tariff {
	var kwh, hour, flat, idleHour tariff.Money
	var grace time.Duration
	if cp != nil {
		kwh, hour, flat = tariff.FromFloat(cp.KWhPrice), tariff.FromFloat(cp.HourPrice), tariff.FromFloat(cp.FlatFee)
	}
	if idle != nil {
		idleHour, grace = tariff.FromFloat(idle.HourPrice), time.Duration(idle.GraceMinutes)*time.Minute
	}
	return tariff.Simple(currency, kwh, hour, flat, idleHour, grace)
}

// timeOffsetRE is the form of TimeOffset values: +hh:mm or -hh:mm.
var timeOffsetRE = regexp.MustCompile(`^[+-]([01][0-9]|2[0-3]):[0-5][0-9]$`)

// parseTimeOffset converts a TimeOffset value to seconds east of UTC.
func parseTimeOffset(v string) (int, error) {
	if !timeOffsetRE.MatchString(v) {
		return 0, fmt.Errorf("%q is not a time offset (+hh:mm)", v)
	}
	h := int(v[1]-'0')*10 + int(v[2]-'0')
	m := int(v[4]-'0')*10 + int(v[5]-'0')
	s := h*3600 + m*60
	if v[0] == '-' {
		s = -s
	}
	return s, nil
}
