package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/color"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/ocppclient/ocpptest"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	goqr "github.com/piglig/go-qr"
)

// costMsgVendor is the DataTransfer vendorId of the Open Charge Alliance's
// California Pricing extension of OCPP 1.6.
const costMsgVendor = "org.openchargealliance.costmsg"

// costMsg sends one California Pricing message from the CSMS; data is
// marshalled to the JSON object the extension carries as a string.
func costMsg(t *testing.T, csms *ocpptest.CSMS, cp, messageID string, data any) core.DataTransferStatus {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := csms.DataTransfer(cp, costMsgVendor, messageID, string(raw))
	if err != nil {
		t.Fatalf("DataTransfer %s: %v", messageID, err)
	}
	return conf.Status
}

// TestE2EDriverPricing: the prices and costs the driver sees, from the
// CSMS through the real binary to the local API, with California Pricing.
// The CSMS sets a default price and a driver's price before the card is
// presented (SetUserPrice), sends the running cost during the session with
// a triggerMeterValue.atTime (a MeterValues of context Trigger comes when
// it fires), and the final cost with a receipt's QR code after it; the
// status shows each, and the QR code's image reads back as the link.
func TestE2EDriverPricing(t *testing.T) {
	const cp = "CPPRICE"
	csms := startCSMS(t, ocpptest.Options{})
	a := newAgent(t, agentConfig{ID: cp, CSMSURL: csms.URL(), stationYAML: "  currency: USD\n",
		// No periodic samples during the test: the trigger's MeterValues
		// is the only one.
		OCPPKeys: map[string]string{"MeterValueSampleInterval": "0"}})
	a.start()
	a.waitStatus("registration", func(st localapi.Status) bool { return st.Station.OCPP.Registration == "Accepted" })
	display := func(st localapi.Status, n int) localapi.Display {
		if len(st.Connectors) < n || st.Connectors[n-1].Display == nil {
			return localapi.Display{}
		}
		return *st.Connectors[n-1].Display
	}

	conf, err := csms.ChangeConfiguration(cp, "DefaultPrice",
		`{"priceText":"0.30 USD/kWh","priceTextOffline":"0.30 USD/kWh (offline)","chargingPrice":{"kWhPrice":0.30,"hourPrice":0,"flatFee":0}}`)
	if err != nil || conf.Status != core.ConfigurationStatusAccepted {
		t.Fatalf("ChangeConfiguration DefaultPrice = %+v, %v; want Accepted", conf, err)
	}
	a.waitStatus("the default price on both connectors", func(st localapi.Status) bool {
		return display(st, 1).PriceText == "0.30 USD/kWh" && display(st, 2).PriceText == "0.30 USD/kWh"
	})

	// The driver's price, before the card: shown at once where no session
	// runs, and kept for the session the card starts.
	const member = "Member price 0.25 USD/kWh + 1.00 USD"
	if s := costMsg(t, csms, cp, "SetUserPrice", map[string]any{"idToken": "CARD1", "priceText": member}); s != core.DataTransferStatusAccepted {
		t.Fatalf("SetUserPrice: %s, want Accepted", s)
	}
	if s := costMsg(t, csms, cp, "SetUserPrice", map[string]any{"priceText": "no token"}); s != core.DataTransferStatusRejected {
		t.Errorf("SetUserPrice without idToken: %s, want Rejected", s)
	}
	a.waitStatus("the member price on both connectors", func(st localapi.Status) bool {
		return display(st, 1).PriceText == member && display(st, 2).PriceText == member
	})

	a.do("swipe", func(ctx context.Context) error { return a.api.Swipe(ctx, 1, "CARD1") })
	a.do("plug", func(ctx context.Context) error { return a.api.Plug(ctx, 1) })
	a.do("charge", func(ctx context.Context) error { return a.api.Charge(ctx, 1) })
	a.waitStatus("charging", connectorStatus(1, "Charging"))
	start := waitRecords(t, csms, cp, core.StartTransactionFeatureName, 1)
	req, txID := ocpptest.StartRequest(start[0])
	if req.IdTag != "CARD1" || req.ConnectorId != 1 {
		t.Fatalf("StartTransaction %+v, want CARD1 on connector 1", req)
	}
	a.waitStatus("the member price with the session", func(st localapi.Status) bool {
		return display(st, 1).PriceText == member && st.Connectors[0].Session != nil
	})

	// The running cost, with a trigger a few seconds ahead.
	now := time.Now().UTC().Truncate(time.Second)
	atTime := now.Add(3 * time.Second)
	running := map[string]any{
		"transactionId": txID, "timestamp": now.Format(time.RFC3339), "meterValue": req.MeterStart + 400,
		"cost": 1.10, "state": "Charging",
		"chargingPrice":     map[string]any{"kWhPrice": 0.25, "hourPrice": 0, "flatFee": 1.00},
		"triggerMeterValue": map[string]any{"atTime": atTime.Format(time.RFC3339)},
	}
	if s := costMsg(t, csms, cp, "RunningCost", running); s != core.DataTransferStatusAccepted {
		t.Fatalf("RunningCost: %s, want Accepted", s)
	}
	unknown := map[string]any{"transactionId": txID + 100, "timestamp": now.Format(time.RFC3339), "cost": 1.0}
	if s := costMsg(t, csms, cp, "RunningCost", unknown); s != core.DataTransferStatusRejected {
		t.Errorf("RunningCost of an unknown transaction: %s, want Rejected", s)
	}
	st := a.waitStatus("the running cost", func(st localapi.Status) bool {
		rc := display(st, 1).RunningCost
		return rc != nil && rc.Amount == 1.10 && !rc.Estimated
	})
	if d := display(st, 1); d.RunningCost.Currency != "USD" || d.RunningCost.Text != "USD 1.10" || d.FinalCost != nil || d.QRCode != "" || d.Offline {
		t.Errorf("display during the session %+v, running cost %+v; want USD 1.10, no final cost, no QR code", d, *d.RunningCost)
	}

	// When atTime comes, a MeterValues of the transaction, context Trigger.
	var trig []*core.MeterValuesRequest
	triggered := func() []*core.MeterValuesRequest {
		var out []*core.MeterValuesRequest
		for _, r := range fromCP(csms.Records(core.MeterValuesFeatureName), cp) {
			if mv := r.Request.(*core.MeterValuesRequest); contextOf(mv) == types.ReadingContextTrigger {
				out = append(out, mv)
			}
		}
		return out
	}
	if !csms.WaitFor(e2eWait, func([]ocpptest.Record) bool { trig = triggered(); return len(trig) > 0 }) {
		t.Fatalf("no MeterValues of context Trigger within %v of atTime %s", e2eWait, atTime)
	}
	mv := trig[0]
	if mv.TransactionId == nil || *mv.TransactionId != txID || mv.ConnectorId != 1 || len(mv.MeterValue) == 0 {
		t.Fatalf("triggered MeterValues %+v, want transaction %d on connector 1", mv, txID)
	}
	if ts := mv.MeterValue[0].Timestamp; ts == nil || ts.Before(atTime) {
		t.Errorf("triggered MeterValues stamped %v, before atTime %s", ts, atTime)
	}

	// The session ends; the CSMS sends the final cost with the receipt.
	a.do("stop", func(ctx context.Context) error { return a.api.Stop(ctx, 1) })
	waitRecords(t, csms, cp, core.StopTransactionFeatureName, 1)
	link := fmt.Sprintf("https://receipts.example/%d", txID)
	final := map[string]any{"transactionId": txID, "cost": 2.05, "priceText": "Thank you: 2.05 USD", "qrCodeText": link}
	if s := costMsg(t, csms, cp, "FinalCost", final); s != core.DataTransferStatusAccepted {
		t.Fatalf("FinalCost: %s, want Accepted", s)
	}
	if s := costMsg(t, csms, cp, "FinalCost", map[string]any{"transactionId": txID + 100, "cost": 1.0}); s != core.DataTransferStatusRejected {
		t.Errorf("FinalCost of an unknown transaction: %s, want Rejected", s)
	}
	st = a.waitStatus("the final cost", func(st localapi.Status) bool {
		fc := display(st, 1).FinalCost
		return fc != nil && fc.Amount == 2.05 && display(st, 1).QRCode != ""
	})
	d := display(st, 1)
	if d.PriceText != "Thank you: 2.05 USD" || d.FinalCost.Text != "USD 2.05" || d.FinalCost.Estimated || d.RunningCost != nil || d.QRCode != link ||
		!strings.HasPrefix(d.QRImage, "/api/v1/connectors/1/qr.svg?v=") {
		t.Errorf("display after the session %+v, final cost %+v; want the thank-you text, USD 2.05, the link and its image", d, *d.FinalCost)
	}

	// The receipt's QR code image reads back as the link.
	ctx, cancel := a.ctx()
	defer cancel()
	svg, err := a.api.QRCodeSVG(ctx, 1)
	if err != nil {
		t.Fatalf("QR code image: %v", err)
	}
	if got, err := readSVGQRCode(svg); err != nil || got != link {
		t.Errorf("the QR code image reads %q, %v; want %q", got, err, link)
	}
	var ae *localapi.APIError
	if _, err := a.api.QRCodeSVG(ctx, 2); !errors.As(err, &ae) || ae.StatusCode != 404 {
		t.Errorf("QR code of connector 2 (none): %v, want 404", err)
	}
	// atTime fires once.
	if n := len(triggered()); n != 1 {
		t.Errorf("%d MeterValues of context Trigger, want 1", n)
	}
	checkTransactionRecords(t, csms, cp)
	a.stop()
}

// readSVGQRCode paints the SVG the API serves for a QR code (a viewBox of
// modules and a path of one-module-high runs) and decodes it with the QR
// library's reader, as a phone's camera would read the page.
func readSVGQRCode(svg []byte) (string, error) {
	var doc struct {
		ViewBox string `xml:"viewBox,attr"`
		Path    struct {
			D string `xml:"d,attr"`
		} `xml:"path"`
	}
	if err := xml.Unmarshal(svg, &doc); err != nil {
		return "", fmt.Errorf("not XML: %w", err)
	}
	var n int
	if _, err := fmt.Sscanf(doc.ViewBox, "0 0 %d %d", &n, &n); err != nil || n <= 0 {
		return "", fmt.Errorf("viewBox %q", doc.ViewBox)
	}
	const scale = 4
	img := image.NewGray(image.Rect(0, 0, n*scale, n*scale))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	runs := regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`).FindAllStringSubmatch(doc.Path.D, -1)
	if len(runs) == 0 {
		return "", errors.New("no dark modules in the path")
	}
	for _, m := range runs {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		w, _ := strconv.Atoi(m[3])
		for py := y * scale; py < (y+1)*scale; py++ {
			for px := x * scale; px < (x+w)*scale; px++ {
				img.SetGray(px, py, color.Gray{})
			}
		}
	}
	return goqr.Decode(img)
}
