package ocpp16

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/station"
	"github.com/evsed/evsed/station/tariff"
	"periph.io/x/conn/v3/physic"
)

// UpdateDisplay implements PriceDisplay on the fake station: the update
// lands in the snapshot's connectors as the real station would show it
// (without its own cost estimate).
func (s *fakeStation) UpdateDisplay(_ context.Context, n int, u station.DisplayUpdate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ownConnectors()
	for i := range s.snap.Connectors {
		cs := &s.snap.Connectors[i]
		if n != 0 && cs.ID != n {
			continue
		}
		d := &station.DriverDisplay{}
		if cs.Display != nil {
			*d = *cs.Display
		}
		cs.Display = d
		if u.Language != nil {
			d.Language = *u.Language
		}
		if u.PriceText != nil {
			d.PriceText = *u.PriceText
		}
		if u.QRCode != nil {
			d.QRCode = *u.QRCode
		}
		if u.RunningCost != nil && cs.Session != nil {
			rc := *u.RunningCost
			d.RunningCost = &rc
		}
		if u.FinalCost != nil {
			fc := *u.FinalCost
			d.FinalCost = &fc
		}
	}
	return nil
}

// ownConnectors gives the snapshot a connector slice of its own, so that
// changing it does not touch the snapshots Status handed out (their
// readers hold no lock). s.mu is held.
func (s *fakeStation) ownConnectors() {
	s.snap.Connectors = append([]station.ConnectorSnapshot(nil), s.snap.Connectors...)
}

// SetTariff implements PriceDisplay on the fake station.
func (s *fakeStation) SetTariff(_ context.Context, n int, t *tariff.Tariff) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tariffs == nil {
		s.tariffs = map[int]*tariff.Tariff{}
	}
	s.tariffs[n] = t
	return nil
}

// SetOnline implements PriceDisplay on the fake station.
func (s *fakeStation) SetOnline(_ context.Context, online bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.online = &online
	return nil
}

func (s *fakeStation) display(n int) station.DriverDisplay {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.snap.Connectors[n-1].Display; d != nil {
		return *d
	}
	return station.DriverDisplay{}
}

func (s *fakeStation) tariff(n int) (*tariff.Tariff, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tariffs[n]
	return t, ok
}

// costMsg sends a costmsg DataTransfer and returns the answer's status.
func (r *rig) costMsg(messageID string, data any) string {
	r.t.Helper()
	var s string
	switch d := data.(type) {
	case string:
		s = d
	default:
		b, err := json.Marshal(d)
		if err != nil {
			r.t.Fatal(err)
		}
		s = string(b)
	}
	req, err := json.Marshal(DataTransferRequest{VendorID: CostMsgVendorID, MessageID: messageID, Data: s})
	if err != nil {
		r.t.Fatal(err)
	}
	resp, _ := r.handle(ActionDataTransfer, string(req))
	return status(r.t, resp)
}

// withTx gives connector n a running session with transaction id tx, as
// a delivered StartTransaction would.
func (r *rig) withTx(n int, session, idTag string, tx int) {
	r.t.Helper()
	r.withSession(n, session, t0)
	r.st.mu.Lock()
	r.st.ownConnectors()
	sess := *r.st.snap.Connectors[n-1].Session
	sess.IDTag = idTag
	r.st.snap.Connectors[n-1].Session = &sess
	r.st.mu.Unlock()
	if err := r.c.tx.Put(session, tx); err != nil {
		r.t.Fatal(err)
	}
}

// endSession reports the end of connector n's session and removes it from
// the fake station's snapshot.
func (r *rig) endSession(n int, session string, reason station.StopReason) {
	r.t.Helper()
	if err := r.c.SessionEnded(context.Background(), station.SessionEnd{Connector: n, SessionID: session, At: r.clk.Now(), Reason: reason}); err != nil {
		r.t.Fatal(err)
	}
	r.st.mu.Lock()
	r.st.ownConnectors()
	r.st.snap.Connectors[n-1].Session = nil
	r.st.snap.Connectors[n-1].Status = station.Finishing
	r.st.mu.Unlock()
}

// queued returns the entries waiting in the queue, oldest first.
func (r *rig) queued() []ocppclient.Entry {
	r.t.Helper()
	out, err := r.queue.Entries()
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func countAction(es []ocppclient.Entry, action string) int {
	n := 0
	for _, e := range es {
		if e.Action == action {
			n++
		}
	}
	return n
}

func TestCostMsgRules(t *testing.T) {
	running := `{"transactionId":55,"timestamp":"2026-03-01T12:00:00Z","meterValue":1200,"cost":1.25,"state":"Charging"}`
	tests := []struct {
		name, messageID, data, want string
	}{
		{"user price", CostMsgSetUserPrice, `{"idToken":"TAG","priceText":"0.30/kWh"}`, "Accepted"},
		{"user price without idToken", CostMsgSetUserPrice, `{"priceText":"0.30/kWh"}`, "Rejected"},
		{"user price with an empty idToken", CostMsgSetUserPrice, `{"idToken":"","priceText":"x"}`, "Rejected"},
		{"user price extra without language", CostMsgSetUserPrice, `{"idToken":"T","priceText":"x","priceTextExtra":[{"content":"y"}]}`, "Rejected"},
		{"malformed JSON", CostMsgSetUserPrice, `{"idToken":`, "Rejected"},
		{"data not an object", CostMsgRunningCost, `[1,2]`, "Rejected"},
		{"running cost", CostMsgRunningCost, running, "Accepted"},
		{"running cost with unknown members", CostMsgRunningCost,
			`{"transactionId":55,"timestamp":"2026-03-01T12:00:00Z","cost":1.25,"state":"Idle","futureMember":true}`, "Accepted"},
		{"running cost of an unknown transaction", CostMsgRunningCost, strings.Replace(running, "55", "77", 1), "Rejected"},
		{"running cost of an ended transaction", CostMsgRunningCost, strings.Replace(running, "55", "56", 1), "Rejected"},
		{"running cost without transaction", CostMsgRunningCost, `{"timestamp":"2026-03-01T12:00:00Z","cost":1}`, "Rejected"},
		{"running cost in a bad state", CostMsgRunningCost, strings.Replace(running, `"Charging"`, `"Parked"`, 1), "Rejected"},
		{"negative cost", CostMsgRunningCost, strings.Replace(running, "1.25", "-1", 1), "Rejected"},
		{"negative kWh price", CostMsgRunningCost,
			`{"transactionId":55,"timestamp":"2026-03-01T12:00:00Z","cost":1,"state":"Charging","chargingPrice":{"kWhPrice":-0.3}}`, "Rejected"},
		{"trigger on an unknown status", CostMsgRunningCost,
			`{"transactionId":55,"timestamp":"2026-03-01T12:00:00Z","cost":1,"state":"Charging","triggerMeterValue":{"atCPStatus":["Parked"]}}`, "Rejected"},
		{"next period without atTime", CostMsgRunningCost,
			`{"transactionId":55,"timestamp":"2026-03-01T12:00:00Z","cost":1,"nextPeriod":{"chargingPrice":{"kWhPrice":0.4}}}`, "Rejected"},
		{"final cost of a running transaction", CostMsgFinalCost, `{"transactionId":55,"cost":3.5}`, "Accepted"},
		{"final cost of an ended transaction", CostMsgFinalCost, `{"transactionId":56,"cost":3.5,"qrCodeText":"https://r.example/56"}`, "Accepted"},
		{"final cost of an unknown transaction", CostMsgFinalCost, `{"transactionId":77,"cost":3.5}`, "Rejected"},
		{"final cost without cost is zero", CostMsgFinalCost, `{"transactionId":56}`, "Accepted"},
		{"final cost without transaction", CostMsgFinalCost, `{"cost":3.5}`, "Rejected"},
		{"unknown message", "Tariff", `{}`, "UnknownMessageId"},
	}
	r := newRig(t, nil)
	r.withTx(1, "s-55", "TAG", 55)
	r.withTx(2, "s-56", "OTHER", 56)
	r.endSession(2, "s-56", station.ReasonLocal)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.costMsg(tc.messageID, tc.data); got != tc.want {
				t.Errorf("%s %s = %s, want %s", tc.messageID, tc.data, got, tc.want)
			}
		})
	}
	// Another vendor is still unknown.
	resp, _ := r.handle(ActionDataTransfer, `{"vendorId":"com.example","messageId":"RunningCost","data":"{}"}`)
	if got := status(t, resp); got != "UnknownVendorId" {
		t.Errorf("other vendor: %s", got)
	}
}

// A station that cannot show prices refuses the prices.
func TestCostMsgWithoutDisplay(t *testing.T) {
	r := newRig(t, nil)
	r.c.SetStation(plainStation{r.st})
	if got := r.costMsg(CostMsgSetUserPrice, `{"idToken":"TAG","priceText":"x"}`); got != "Rejected" {
		t.Errorf("SetUserPrice without a display: %s", got)
	}
}

// plainStation hides the fake's PriceDisplay methods.
type plainStation struct{ Station }

func TestDefaultPriceKey(t *testing.T) {
	r := newRig(t, map[string]string{KeyDefaultPrice: `{"priceText":"0.25 EUR/kWh","priceTextOffline":"0.25 EUR/kWh offline","chargingPrice":{"kWhPrice":0.25,"hourPrice":0,"flatFee":0}}`})
	r.c.opts.Currency = "EUR"
	r.c.applyDefaultPrice(context.Background())
	if d := r.st.display(1); d.PriceText != "0.25 EUR/kWh" {
		t.Errorf("initial DefaultPrice shows %q", d.PriceText)
	}
	tr, ok := r.st.tariff(0)
	if !ok || tr == nil || len(tr.Energy) != 1 || tr.Energy[0].Amount != tariff.FromFloat(0.25) || tr.Currency != "EUR" {
		t.Fatalf("default tariff %+v", tr)
	}
	steps := []struct {
		name, value, want, shown string
		kWh                      float64 // the default tariff's energy price after; -1: none
	}{
		{"valid change", `{"priceText":"0.40/kWh","chargingPrice":{"kWhPrice":0.4,"hourPrice":1,"flatFee":0.5}}`, "Accepted", "0.40/kWh", 0.4},
		{"malformed JSON", `{"priceText":`, "Rejected", "0.40/kWh", 0.4},
		{"not an object", `"0.50/kWh"`, "Rejected", "0.40/kWh", 0.4},
		{"negative price", `{"priceText":"free money","chargingPrice":{"kWhPrice":-1}}`, "Rejected", "0.40/kWh", 0.4},
		{"text only", `{"priceText":"ask the operator"}`, "Accepted", "ask the operator", -1},
		{"cleared", ``, "Accepted", "", -1},
	}
	for _, s := range steps {
		resp, _ := r.handle(ActionChangeConfiguration, fmt.Sprintf(`{"key":"DefaultPrice","value":%q}`, s.value))
		if got := status(t, resp); got != s.want {
			t.Errorf("%s: ChangeConfiguration = %s, want %s", s.name, got, s.want)
		}
		if d := r.st.display(2); d.PriceText != s.shown {
			t.Errorf("%s: shows %q, want %q", s.name, d.PriceText, s.shown)
		}
		tr, _ := r.st.tariff(0)
		switch {
		case s.kWh < 0 && tr != nil:
			t.Errorf("%s: default tariff %+v, want none", s.name, tr)
		case s.kWh >= 0 && (tr == nil || tr.Energy[0].Amount != tariff.FromFloat(s.kWh)):
			t.Errorf("%s: default tariff %+v, want %v/kWh", s.name, tr, s.kWh)
		}
	}
	if v, _ := r.cfg.Value(KeyDefaultPrice); v != "" {
		t.Errorf("DefaultPrice kept %q", v)
	}
	if st := r.cfg.Set(KeyCustomDisplayCostAndPrice, "false"); st != ConfigurationStatusRejected {
		t.Errorf("CustomDisplayCostAndPrice change: %s", st)
	}
	if _, err := OpenConfig(r.db, "other", map[string]string{KeyDefaultPrice: "{"}); err == nil {
		t.Error("a malformed DefaultPrice in the config file was accepted")
	}
}

func TestLanguageKeys(t *testing.T) {
	r := newRig(t, map[string]string{
		KeyDefaultPrice:                  `{"priceText":"0.30/kWh","priceTextOffline":"offline 0.30/kWh"}`,
		KeyDefaultPriceTextPrefix + "de": `{"priceText":"0,30 €/kWh","priceTextOffline":"offline 0,30 €/kWh"}`,
	})
	steps := []struct {
		key, value, want string
	}{
		{KeyLanguage, "de", "Accepted"},
		{KeyLanguage, "xx", "Rejected"},
		{KeySupportedLanguages, "en,xx", "Rejected"},
		{KeyDefaultPriceTextPrefix + "fr", `{"priceText":`, "Rejected"},
		{KeyDefaultPriceTextPrefix + "fr", `{"priceText":"0,30 €/kWh"}`, "Accepted"},
		{KeyDefaultPriceTextPrefix + "es", `{"priceText":"x"}`, "NotSupported"},
		{KeyTimeOffset, "+01:00", "Accepted"},
		{KeyTimeOffset, "01:00", "Rejected"},
		{KeyTimeOffset, "+25:00", "Rejected"},
		{KeyNextTimeOffsetTransitionDateTime, "2026-03-29T01:00:00Z", "Accepted"},
		{KeyNextTimeOffsetTransitionDateTime, "tomorrow", "Rejected"},
		{KeyTimeOffsetNextTransition, "+02:00", "Accepted"},
		{KeyCustomIdleFeeAfterStop, "true", "Accepted"},
	}
	for _, s := range steps {
		resp, _ := r.handle(ActionChangeConfiguration, fmt.Sprintf(`{"key":%q,"value":%q}`, s.key, s.value))
		if got := status(t, resp); got != s.want {
			t.Errorf("%s=%s: %s, want %s", s.key, s.value, got, s.want)
		}
	}
	if d := r.st.display(1); d.PriceText != "0,30 €/kWh" || d.Language != "de" {
		t.Errorf("German default text: %+v", d)
	}
	// A driver's price in the display's language, else the main text.
	r.costMsg(CostMsgSetUserPrice, `{"idToken":"TAG","priceText":"0.20/kWh for you","priceTextExtra":[{"format":"UTF8","language":"de","content":"0,20 €/kWh für Sie"}]}`)
	if d := r.st.display(1); d.PriceText != "0,20 €/kWh für Sie" {
		t.Errorf("user price in German: %q", d.PriceText)
	}
	if st := r.cfg.Set(KeyCustomMultiLanguageMessages, "false"); st != ConfigurationStatusAccepted {
		t.Fatal(st)
	}
	r.costMsg(CostMsgSetUserPrice, `{"idToken":"TAG","priceText":"0.20/kWh for you","priceTextExtra":[{"language":"de","content":"0,20 €/kWh für Sie"}]}`)
	if d := r.st.display(1); d.PriceText != "0.20/kWh for you" {
		t.Errorf("without multi-language: %q", d.PriceText)
	}
	// The display's time zone follows the transition.
	before := r.c.DisplayZone(time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC))
	after := r.c.DisplayZone(time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC))
	if _, off := time.Date(2026, 1, 1, 0, 0, 0, 0, before).Zone(); off != 3600 {
		t.Errorf("zone before the transition: %d s", off)
	}
	if _, off := time.Date(2026, 1, 1, 0, 0, 0, 0, after).Zone(); off != 7200 {
		t.Errorf("zone after the transition: %d s", off)
	}
}

// setMeter sets connector n's latest reading in the fake snapshot.
func (r *rig) setMeter(n int, energy meter.Energy, power physic.Power) {
	r.st.mu.Lock()
	defer r.st.mu.Unlock()
	r.st.ownConnectors()
	cs := &r.st.snap.Connectors[n-1]
	cs.Meter = meter.Reading{Time: r.clk.Now(), Fields: meter.FieldEnergyImport | meter.FieldPower, EnergyImport: energy, Power: power}
	if cs.Session != nil {
		sess := *cs.Session
		sess.Energy = energy
		cs.Session = &sess
	}
}

func TestRunningCostTriggers(t *testing.T) {
	r := newRig(t, nil)
	r.withTx(1, "s-55", "TAG", 55)
	r.setMeter(1, 0, 0)
	metered := func() int { return countAction(r.queued(), ActionMeterValues) }
	at := NewDateTime(t0.Add(90 * time.Second)).String()
	if got := r.costMsg(CostMsgRunningCost, fmt.Sprintf(`{"transactionId":55,"timestamp":%q,"cost":0.5,"state":"Charging",`+
		`"triggerMeterValue":{"atTime":%q,"atEnergykWh":2.5}}`, NewDateTime(t0).String(), at)); got != "Accepted" {
		t.Fatal(got)
	}
	r.clk.Advance(60 * time.Second)
	if n := metered(); n != 0 {
		t.Fatalf("%d MeterValues before any trigger", n)
	}
	r.setMeter(1, 2500*meter.WattHour, 7*physic.KiloWatt)
	r.clk.Advance(time.Second)
	if n := metered(); n != 1 {
		t.Fatalf("atEnergykWh: %d MeterValues, want 1", n)
	}
	r.clk.Advance(10 * time.Second)
	if n := metered(); n != 1 {
		t.Fatalf("atEnergykWh fired again: %d", n)
	}
	r.clk.Advance(20 * time.Second)
	if n := metered(); n != 2 {
		t.Fatalf("atTime: %d MeterValues, want 2", n)
	}
	e := r.queued()[1]
	var mv MeterValuesRequest
	if err := json.Unmarshal(e.Payload, &mv); err != nil || mv.ConnectorID != 1 || e.Key != "s-55" || e.Kind != ocppclient.KindMeter ||
		mv.MeterValue[0].SampledValue[0].Context != ReadingContextTrigger {
		t.Errorf("triggered MeterValues %s (%v), session %s kind %v", e.Payload, err, e.Key, e.Kind)
	}

	// Power with hysteresis: 8 kW +- 0.4 kW.
	if got := r.costMsg(CostMsgRunningCost, `{"transactionId":55,"timestamp":"2026-03-01T12:02:00Z","cost":0.9,"state":"Charging",`+
		`"triggerMeterValue":{"atPowerkW":8,"atCPStatus":["SuspendedEV"]}}`); got != "Accepted" {
		t.Fatal(got)
	}
	base := metered()
	for i, kw := range []float64{5, 7.9, 8.05, 7.95, 8.2, 9, 8.1, 7.7, 7.5, 8.1, 7.0} {
		r.setMeter(1, 2600*meter.WattHour, physic.Power(kw*float64(physic.KiloWatt)))
		r.clk.Advance(time.Second)
		want := base
		switch {
		case i >= 8:
			want = base + 2 // 7.5 kW left the band below
		case i >= 5:
			want = base + 1 // 9 kW left it above
		}
		if n := metered(); n != want {
			t.Fatalf("sample %d (%v kW): %d MeterValues, want %d", i, kw, n, want)
		}
	}
	base = metered()
	r.c.StatusChanged(station.StatusChange{Connector: 1, Status: station.SuspendedEV, At: r.clk.Now()})
	r.c.StatusChanged(station.StatusChange{Connector: 2, Status: station.SuspendedEV, At: r.clk.Now()})
	if n := metered(); n != base+1 {
		t.Errorf("atCPStatus: %d MeterValues, want %d", n, base+1)
	}
	// The session's end disarms everything.
	r.endSession(1, "s-55", station.ReasonLocal)
	base = metered()
	r.setMeter(1, 2600*meter.WattHour, 11*physic.KiloWatt)
	r.clk.Advance(5 * time.Second)
	r.c.StatusChanged(station.StatusChange{Connector: 1, Status: station.SuspendedEV, At: r.clk.Now()})
	if n := metered(); n != base {
		t.Errorf("%d MeterValues after the session, want %d", n, base)
	}
}

func TestNextPeriodPrices(t *testing.T) {
	r := newRig(t, nil)
	r.withTx(1, "s-55", "TAG", 55)
	at := NewDateTime(t0.Add(time.Hour)).String()
	if got := r.costMsg(CostMsgRunningCost, fmt.Sprintf(`{"transactionId":55,"timestamp":"2026-03-01T12:00:00Z","cost":0,"state":"Charging",`+
		`"chargingPrice":{"kWhPrice":0.3,"hourPrice":0,"flatFee":0},"idlePrice":{"graceMinutes":15,"hourPrice":6},`+
		`"nextPeriod":{"atTime":%q,"chargingPrice":{"kWhPrice":0.5,"hourPrice":0,"flatFee":0}}}`, at)); got != "Accepted" {
		t.Fatal(got)
	}
	tr, _ := r.st.tariff(1)
	if tr == nil || tr.Energy[0].Amount != tariff.FromFloat(0.3) || tr.IdleGrace != 15*time.Minute || tr.IdleTime[0].Amount != tariff.FromFloat(6) {
		t.Fatalf("connector tariff %+v", tr)
	}
	r.clk.Advance(time.Hour)
	tr, _ = r.st.tariff(1)
	if tr == nil || tr.Energy[0].Amount != tariff.FromFloat(0.5) || tr.IdleTime[0].Amount != tariff.FromFloat(6) {
		t.Errorf("next period tariff %+v", tr)
	}
}

func TestConnectorUnplugged(t *testing.T) {
	tests := []struct {
		name   string
		idle   string
		reason station.StopReason
		want   int
	}{
		{"idle fee after stop", "true", station.ReasonLocal, 1},
		{"key off", "false", station.ReasonLocal, 0},
		{"the unplug ended it", "true", station.ReasonEVDisconnected, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, map[string]string{KeyCustomIdleFeeAfterStop: tc.idle})
			r.withTx(1, "s-55", "TAG", 55)
			r.endSession(1, "s-55", tc.reason)
			r.clk.Advance(20 * time.Minute)
			r.c.StatusChanged(station.StatusChange{Connector: 1, Status: station.Available, At: r.clk.Now()})
			r.c.StatusChanged(station.StatusChange{Connector: 1, Status: station.Preparing, At: r.clk.Now()})
			r.c.StatusChanged(station.StatusChange{Connector: 1, Status: station.Available, At: r.clk.Now()})
			var got []ocppclient.Entry
			for _, e := range r.queued() {
				if e.Action == ActionDataTransfer {
					got = append(got, e)
				}
			}
			if len(got) != tc.want {
				t.Fatalf("%d ConnectorUnplugged queued, want %d", len(got), tc.want)
			}
			if tc.want == 0 {
				return
			}
			if got[0].Kind != ocppclient.KindOther || got[0].Key != "s-55" {
				t.Errorf("entry kind %v key %q", got[0].Kind, got[0].Key)
			}
			payload, err := r.c.Prepare(got[0])
			if err != nil {
				t.Fatal(err)
			}
			var req DataTransferRequest
			var m ConnectorUnplugged
			if err := json.Unmarshal(payload, &req); err != nil || req.VendorID != CostMsgVendorID || req.MessageID != CostMsgConnectorUnplugged {
				t.Fatalf("payload %s (%v)", payload, err)
			}
			if err := json.Unmarshal([]byte(req.Data), &m); err != nil || m.TransactionID != 55 || !m.Timestamp.Equal(t0.Add(20*time.Minute)) {
				t.Errorf("data %s (%v)", req.Data, err)
			}
		})
	}
}

// A ConnectorUnplugged queued before its transaction had an id gets it at
// send time.
func TestConnectorUnpluggedPatched(t *testing.T) {
	r := newRig(t, map[string]string{KeyCustomIdleFeeAfterStop: "true"})
	r.withSession(1, "s-9", t0)
	r.endSession(1, "s-9", station.ReasonRemote)
	r.c.StatusChanged(station.StatusChange{Connector: 1, Status: station.Available, At: r.clk.Now()})
	es := r.queued()
	if len(es) == 0 {
		t.Fatal("nothing queued")
	}
	e := es[len(es)-1]
	if err := r.c.tx.Put("s-9", 909); err != nil {
		t.Fatal(err)
	}
	payload, err := r.c.Prepare(e)
	if err != nil {
		t.Fatal(err)
	}
	var req DataTransferRequest
	_ = json.Unmarshal(payload, &req)
	if !strings.Contains(req.Data, `"transactionId":909`) {
		t.Errorf("data %s, want transactionId 909", req.Data)
	}
}

// The whole flow with the adapter: the driver's price before the card, the
// transaction's running cost with a time trigger that makes the charger
// send a MeterValues, the final cost and receipt after it; offline the
// station is told so. Everything the driver sees is in the station's
// snapshot.
func TestPricingEndToEnd(t *testing.T) {
	r := newRig(t, map[string]string{KeyDefaultPrice: `{"priceText":"0.30 USD/kWh","priceTextOffline":"0.30 USD/kWh (offline)","chargingPrice":{"kWhPrice":0.3,"hourPrice":0,"flatFee":0}}`})
	r.c.opts.Currency = "USD"
	r.register()
	stop := r.c.Start(context.Background())
	defer stop()
	r.c.background.Wait()
	if d := r.st.display(1); d.PriceText != "0.30 USD/kWh" {
		t.Fatalf("default price shown: %+v", d)
	}
	if on := r.st.online; on == nil || !*on {
		t.Errorf("station not told it is online: %v", on)
	}

	// After Authorize the CSMS sends the driver's price, before the card
	// starts anything.
	if got := r.costMsg(CostMsgSetUserPrice, SetUserPrice{IDToken: "CARD1", PriceText: "Member price 0.25 USD/kWh"}); got != "Accepted" {
		t.Fatal(got)
	}
	if d := r.st.display(1); d.PriceText != "Member price 0.25 USD/kWh" {
		t.Errorf("user price before the session: %q", d.PriceText)
	}
	// The driver's session starts on connector 1, which keeps the
	// driver's text.
	r.withSession(1, "s-1", t0)
	if err := r.c.SessionStarted(context.Background(), station.SessionStart{Connector: 1, SessionID: "s-1", IDTag: "CARD1", At: t0}); err != nil {
		t.Fatal(err)
	}
	r.deliver() // StartTransaction -> transaction 101
	txID, err := r.c.tx.TransactionID("s-1")
	if err != nil {
		t.Fatal(err)
	}
	if d := r.st.display(1); d.PriceText != "Member price 0.25 USD/kWh" {
		t.Errorf("user price in the session: %q", d.PriceText)
	}

	// RunningCost with a time trigger.
	trig := NewDateTime(t0.Add(5 * time.Minute))
	rc := RunningCost{TransactionID: txID, Timestamp: NewDateTime(t0.Add(time.Minute)), MeterValue: ptr(1000), Cost: 0.25,
		State: CostStateCharging, ChargingPrice: &ChargingPrice{KWhPrice: 0.25}, TriggerMeterValue: &TriggerMeterValue{AtTime: &trig},
		PriceText: "0.25 USD/kWh, 0.25 USD so far"}
	if got := r.costMsg(CostMsgRunningCost, rc); got != "Accepted" {
		t.Fatal(got)
	}
	d := r.st.display(1)
	if d.RunningCost == nil || d.RunningCost.Amount != tariff.FromFloat(0.25) || d.RunningCost.Currency != "USD" || d.PriceText != rc.PriceText {
		t.Errorf("running cost shown: %+v %+v", d, d.RunningCost)
	}
	if tr, _ := r.st.tariff(1); tr == nil || tr.Energy[0].Amount != tariff.FromFloat(0.25) {
		t.Errorf("session tariff for the offline estimate: %+v", tr)
	}
	r.setMeter(1, 2*meter.KiloWattHour, 7*physic.KiloWatt)
	r.clk.Advance(4 * time.Minute)
	if n := countAction(r.queued(), ActionMeterValues); n != 0 {
		t.Fatalf("%d MeterValues before the trigger time", n)
	}
	r.clk.Advance(time.Minute)
	if n := countAction(r.queued(), ActionMeterValues); n != 1 {
		t.Fatalf("%d MeterValues after the trigger time, want 1", n)
	}
	schemas := loadSchemas(t)
	for _, s := range r.deliver() {
		if s.Action != ActionMeterValues {
			continue
		}
		if err := schemas.validateJSON(t, "urn:MeterValues.req", s.Payload); err != nil {
			t.Errorf("triggered MeterValues %s: %v", s.Payload, err)
		}
		var mv MeterValuesRequest
		if err := json.Unmarshal(s.Payload, &mv); err != nil || mv.TransactionID == nil || *mv.TransactionID != txID {
			t.Errorf("triggered MeterValues %s without the transaction", s.Payload)
		}
	}

	// The connection drops: the station shows its offline text and cost.
	r.c.Disconnected(true, nil)
	r.c.background.Wait()
	if on := r.st.online; on == nil || *on {
		t.Errorf("station not told it is offline")
	}

	// The session ends; FinalCost comes with a receipt.
	r.endSession(1, "s-1", station.ReasonLocal)
	r.deliver()
	fc := FinalCost{TransactionID: txID, Cost: 0.55, PriceText: "Thank you: 0.55 USD", QRCodeText: "https://receipts.example/101"}
	if got := r.costMsg(CostMsgFinalCost, fc); got != "Accepted" {
		t.Fatal(got)
	}
	snap, _ := r.st.Status(context.Background())
	d = *snap.Connectors[0].Display
	if d.FinalCost == nil || d.FinalCost.Amount != tariff.FromFloat(0.55) || d.QRCode != fc.QRCodeText || d.PriceText != fc.PriceText {
		t.Errorf("final cost shown: %+v %+v", d, d.FinalCost)
	}
}
