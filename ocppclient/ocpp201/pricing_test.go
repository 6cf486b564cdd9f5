package ocpp201

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/station"
	"github.com/evsed/evsed/station/tariff"
)

// displayStation is a fakeStation with a driver display: it merges the
// updates per connector as the station does and records the online
// states and the default tariff.
type displayStation struct {
	*fakeStation
	dmu     sync.Mutex // guards the fields below
	shown   map[int]*shownDisplay
	online  []bool
	tariff  *tariff.Tariff
	updates int
}

type shownDisplay struct {
	text, lang, offline string
	running, final      *station.DisplayCost
}

var _ PriceDisplay = (*displayStation)(nil)

func (s *displayStation) UpdateDisplay(_ context.Context, n int, u station.DisplayUpdate) error {
	snap, _ := s.Status(context.Background())
	s.dmu.Lock()
	defer s.dmu.Unlock()
	s.updates++
	for _, cs := range snap.Connectors {
		if n != 0 && cs.ID != n {
			continue
		}
		d := s.shown[cs.ID]
		if d == nil {
			d = &shownDisplay{}
			s.shown[cs.ID] = d
		}
		set := func(dst, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&d.text, u.PriceText)
		set(&d.lang, u.Language)
		set(&d.offline, u.OfflinePriceText)
		if u.RunningCost != nil && cs.Session != nil {
			rc := *u.RunningCost
			d.running = &rc
		}
		if u.FinalCost != nil {
			fc := *u.FinalCost
			d.final = &fc
		}
	}
	return nil
}

func (s *displayStation) SetTariff(_ context.Context, n int, t *tariff.Tariff) error {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	if n == 0 {
		s.tariff = t
	}
	return nil
}

func (s *displayStation) SetOnline(_ context.Context, online bool) error {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	s.online = append(s.online, online)
	return nil
}

// display returns a copy of what connector n shows.
func (s *displayStation) display(n int) shownDisplay {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	if d := s.shown[n]; d != nil {
		return *d
	}
	return shownDisplay{}
}

func (s *displayStation) lastOnline() (bool, bool) {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	if len(s.online) == 0 {
		return false, false
	}
	return s.online[len(s.online)-1], true
}

// setSession puts a session of tag on connector n (nil tag: none).
func (s *displayStation) setSession(n int, id, tag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tag == "" {
		s.snap.Connectors[n-1].Session = nil
		return
	}
	s.snap.Connectors[n-1].Session = &station.SessionSnapshot{ID: id, IDTag: tag}
}

// newPricingRig is a rig whose station has a driver display.
func newPricingRig(t *testing.T, initial map[devicemodel.Ref]string, mod func(*Options)) (*rig, *displayStation) {
	t.Helper()
	var ds *displayStation
	r := newRigWith(t, initial, func(o *Options) {
		ds = &displayStation{fakeStation: o.Station.(*fakeStation), shown: map[int]*shownDisplay{}}
		o.Station = ds
		if mod != nil {
			mod(o)
		}
	})
	return r, ds
}

// csmsCosts answers as csmsAnswers, with TransactionEvent answers from te
// and Authorize answers from auth.
func csmsCosts(auth func(token string) AuthorizeResponse, te func(req TransactionEventRequest) TransactionEventResponse) func(string, json.RawMessage) (any, error) {
	base := csmsAnswers(func() RegistrationStatus { return RegistrationStatusAccepted })
	return func(action string, payload json.RawMessage) (any, error) {
		switch {
		case action == ActionAuthorize && auth != nil:
			var req AuthorizeRequest
			if err := json.Unmarshal(payload, &req); err != nil {
				return nil, err
			}
			resp := auth(req.IDToken.IDToken)
			return &resp, nil
		case action == ActionTransactionEvent && te != nil:
			var req TransactionEventRequest
			if err := json.Unmarshal(payload, &req); err != nil {
				return nil, err
			}
			resp := te(req)
			return &resp, nil
		}
		return base(action, payload)
	}
}

func message(format MessageFormat, lang, content string) *MessageContent {
	return &MessageContent{Format: format, Language: lang, Content: content}
}

func costOf(v float64) *float64 { return &v }

// startSession plays a session start on connector n as the station
// reports it.
func startSession(t *testing.T, r *rig, ds *displayStation, n int, id, tag string) {
	t.Helper()
	ds.setSession(n, id, tag)
	if err := r.ch.SessionStarted(context.Background(), station.SessionStart{Connector: n, SessionID: id, IDTag: tag, MeterStart: 1000 * meter.WattHour, At: r.clk.Now()}); err != nil {
		t.Fatal(err)
	}
}

func endSession(t *testing.T, r *rig, ds *displayStation, n int, id, tag string) {
	t.Helper()
	ds.setSession(n, "", "")
	if err := r.ch.SessionEnded(context.Background(), station.SessionEnd{Connector: n, SessionID: id, IDTag: tag, MeterStop: 3000 * meter.WattHour,
		At: r.clk.Now(), Reason: station.ReasonEVDisconnected, End: reading(3000, r.clk.Now())}); err != nil {
		t.Fatal(err)
	}
}

const fallback = "Charging 0.40 EUR/kWh"

// TestAuthorizePersonalMessage: the personalMessage of an Authorize
// answer is the driver's tariff, shown before the session on the free
// connectors and kept on the session's connector (I01); the other
// connectors go back to TariffFallbackMessage (I04).
func TestAuthorizePersonalMessage(t *testing.T) {
	r, ds := newPricingRig(t, map[devicemodel.Ref]string{devicemodel.TariffFallbackMessage: fallback}, nil)
	r.caller.answer = csmsCosts(func(token string) AuthorizeResponse {
		switch token {
		case "MEMBER":
			return AuthorizeResponse{IDTokenInfo: IDTokenInfo{Status: AuthorizationStatusAccepted, PersonalMessage: message(MessageFormatUTF8, "de", "Mitglied: 0,25 EUR/kWh")}}
		case "HTMLCARD":
			return AuthorizeResponse{IDTokenInfo: IDTokenInfo{Status: AuthorizationStatusAccepted, PersonalMessage: message(MessageFormatHTML, "en", "<b>Guest</b><br>0.45&nbsp;EUR/kWh")}}
		case "BLOCKED":
			return AuthorizeResponse{IDTokenInfo: IDTokenInfo{Status: AuthorizationStatusBlocked, PersonalMessage: message(MessageFormatASCII, "en", "Blocked")}}
		}
		return AuthorizeResponse{IDTokenInfo: IDTokenInfo{Status: AuthorizationStatusAccepted}}
	}, nil)
	r.register()
	ctx, cancel := context.WithCancel(context.Background())
	stop := r.ch.Start(ctx)
	defer func() { cancel(); stop() }()
	r.ch.background.Wait()
	for n := 1; n <= 2; n++ {
		if got := ds.display(n).text; got != fallback {
			t.Fatalf("connector %d before any driver shows %q, want the fallback", n, got)
		}
	}

	steps := []struct {
		name      string
		do        func()
		want1     string
		wantLang1 string
		want2     string
		wantLang2 string
	}{
		{"blocked token's message not shown", func() { r.ch.Authorize(ctx, "BLOCKED") }, fallback, "", fallback, ""},
		{"member authorized: both free connectors", func() { r.ch.Authorize(ctx, "MEMBER") }, "Mitglied: 0,25 EUR/kWh", "de", "Mitglied: 0,25 EUR/kWh", "de"},
		{"member starts on 1: 2 back to the fallback", func() { startSession(t, r, ds, 1, "s1", "MEMBER") }, "Mitglied: 0,25 EUR/kWh", "de", fallback, ""},
		{"HTML is shown as text", func() { r.ch.Authorize(ctx, "HTMLCARD") }, "Mitglied: 0,25 EUR/kWh", "de", "Guest 0.45 EUR/kWh", "en"},
		{"member presents the card again: its connector", func() {
			r.caller.answer = csmsCosts(func(string) AuthorizeResponse {
				return AuthorizeResponse{IDTokenInfo: IDTokenInfo{Status: AuthorizationStatusAccepted, PersonalMessage: message(MessageFormatUTF8, "de", "Danke")}}
			}, nil)
			r.ch.Authorize(ctx, "MEMBER")
		}, "Danke", "de", "Guest 0.45 EUR/kWh", "en"},
	}
	for _, s := range steps {
		s.do()
		if d := ds.display(1); d.text != s.want1 || d.lang != s.wantLang1 {
			t.Errorf("%s: connector 1 shows %q (%s), want %q (%s)", s.name, d.text, d.lang, s.want1, s.wantLang1)
		}
		if d := ds.display(2); d.text != s.want2 || d.lang != s.wantLang2 {
			t.Errorf("%s: connector 2 shows %q (%s), want %q (%s)", s.name, d.text, d.lang, s.want2, s.wantLang2)
		}
	}
	r.deliver()
}

// TestTariffDisabled: with TariffCostCtrlr.Enabled[Tariff] false no text
// reaches the display; switching it on shows the fallback.
func TestTariffDisabled(t *testing.T) {
	r, ds := newPricingRig(t, map[devicemodel.Ref]string{devicemodel.TariffFallbackMessage: fallback, devicemodel.TariffEnabled: "false"}, nil)
	r.caller.answer = csmsCosts(func(string) AuthorizeResponse {
		return AuthorizeResponse{IDTokenInfo: IDTokenInfo{Status: AuthorizationStatusAccepted, PersonalMessage: message(MessageFormatUTF8, "en", "Member price")}}
	}, nil)
	r.register()
	ctx, cancel := context.WithCancel(context.Background())
	stop := r.ch.Start(ctx)
	defer func() { cancel(); stop() }()
	r.ch.background.Wait()
	r.ch.Authorize(ctx, "MEMBER")
	if got := ds.display(1).text; got != "" {
		t.Fatalf("tariffs disabled, connector 1 shows %q", got)
	}
	if got, ce := r.handle(ActionSetVariables, `{"setVariableData":[{"component":{"name":"TariffCostCtrlr"},"variable":{"name":"Enabled","instance":"Tariff"},"attributeValue":"true"}]}`); ce != nil {
		t.Fatalf("SetVariables: %v %s", ce, got)
	}
	r.ch.background.Wait()
	if got := ds.display(2).text; got != fallback {
		t.Errorf("tariffs enabled, connector 2 shows %q, want the fallback", got)
	}
}

// TestFallbackVariables: TariffFallbackMessage and
// OfflineTariffFallbackMessage reach the display at Start and when
// SetVariables changes them; the online state follows the connection.
func TestFallbackVariables(t *testing.T) {
	r, ds := newPricingRig(t, map[devicemodel.Ref]string{
		devicemodel.TariffFallbackMessage:        fallback,
		devicemodel.OfflineTariffFallbackMessage: "Offline: 0.40 EUR/kWh",
		devicemodel.Currency:                     "CHF",
	}, func(o *Options) {
		t := tariff.Simple("", tariff.FromFloat(0.40), 0, 0, 0, 0)
		o.Tariff = &t
	})
	ctx, cancel := context.WithCancel(context.Background())
	stop := r.ch.Start(ctx)
	defer func() { cancel(); stop() }()
	r.ch.background.Wait()
	if on, ok := ds.lastOnline(); ok {
		t.Errorf("Start set the display's online state to %v before any connection", on)
	}
	r.setOnline(false) // a failed connection attempt
	r.ch.background.Wait()
	if on, ok := ds.lastOnline(); !ok || on {
		t.Errorf("after a failed attempt the display's online state is %v (set %v), want offline", on, ok)
	}
	r.register()
	r.ch.background.Wait()
	if on, _ := ds.lastOnline(); !on {
		t.Error("registered, the display is offline")
	}
	d := ds.display(1)
	if d.text != fallback || d.offline != "Offline: 0.40 EUR/kWh" {
		t.Errorf("connector 1 = %+v", d)
	}
	ds.dmu.Lock()
	tf := ds.tariff
	ds.dmu.Unlock()
	if tf == nil || tf.Currency != "CHF" || len(tf.Energy) != 1 || tf.Energy[0].Amount != tariff.FromFloat(0.40) {
		t.Errorf("default tariff %+v, want 0.40/kWh in CHF", tf)
	}
	if _, ce := r.handle(ActionSetVariables, `{"setVariableData":[{"component":{"name":"TariffCostCtrlr"},"variable":{"name":"TariffFallbackMessage"},"attributeValue":"New: 0.35 EUR/kWh"}]}`); ce != nil {
		t.Fatal(ce)
	}
	r.ch.background.Wait()
	if got := ds.display(2).text; got != "New: 0.35 EUR/kWh" {
		t.Errorf("after SetVariables connector 2 shows %q", got)
	}
	ds.dmu.Lock()
	before := ds.updates
	ds.dmu.Unlock()
	r.ch.applyPrices(ctx) // nothing changed: no update
	ds.dmu.Lock()
	after := ds.updates
	ds.dmu.Unlock()
	if after != before {
		t.Errorf("an unchanged configuration made %d display updates", after-before)
	}
	r.setOnline(false)
	r.ch.background.Wait()
	if on, _ := ds.lastOnline(); on {
		t.Error("disconnected, the display is online")
	}
}

// TestTransactionEventCosts: the answers' totalCost is the running cost
// during the transaction (I02) and the final cost at its end (I03), in
// TariffCostCtrlr.Currency; idTokenInfo.personalMessage and
// updatedPersonalMessage are the driver's text (I01, I06).
func TestTransactionEventCosts(t *testing.T) {
	r, ds := newPricingRig(t, map[devicemodel.Ref]string{devicemodel.TariffFallbackMessage: fallback, devicemodel.Currency: "USD"}, nil)
	r.caller.answer = csmsCosts(nil, func(req TransactionEventRequest) TransactionEventResponse {
		switch {
		case req.EventType == TransactionEventKindStarted:
			return TransactionEventResponse{TotalCost: costOf(1.00), IDTokenInfo: &IDTokenInfo{Status: AuthorizationStatusAccepted, PersonalMessage: message(MessageFormatUTF8, "en", "0.25 USD/kWh + 1.00 USD")}}
		case req.EventType == TransactionEventKindEnded:
			return TransactionEventResponse{TotalCost: costOf(2.05), UpdatedPersonalMessage: message(MessageFormatUTF8, "en", "Thank you")}
		case req.TriggerReason == TriggerReasonMeterValuePeriodic:
			return TransactionEventResponse{TotalCost: costOf(1.60), UpdatedPersonalMessage: message(MessageFormatUTF8, "en", "From 12:00 0.30 USD/kWh")}
		}
		return TransactionEventResponse{}
	})
	r.register()
	ctx := context.Background()
	startSession(t, r, ds, 1, "s1", "04A1B2C3")
	r.deliver()
	d := ds.display(1)
	if d.text != "0.25 USD/kWh + 1.00 USD" || d.running == nil || d.running.Amount != tariff.FromFloat(1.00) || d.running.Currency != "USD" || !d.running.At.Equal(r.clk.Now()) {
		t.Fatalf("after Started: %+v running %+v", d, d.running)
	}
	r.clk.Advance(time.Minute)
	if err := r.ch.SampleTaken(ctx, station.Sample{Connector: 1, SessionID: "s1", Context: station.ContextPeriodic, Reading: reading(1600, r.clk.Now()), At: r.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	r.deliver()
	d = ds.display(1)
	if d.text != "From 12:00 0.30 USD/kWh" || d.running == nil || d.running.Amount != tariff.FromFloat(1.60) {
		t.Fatalf("after Updated: %+v running %+v", d, d.running)
	}
	if d.final != nil {
		t.Errorf("final cost %+v during the transaction", d.final)
	}
	endSession(t, r, ds, 1, "s1", "04A1B2C3")
	r.deliver()
	d = ds.display(1)
	if d.text != "Thank you" || d.final == nil || d.final.Amount != tariff.FromFloat(2.05) || d.final.Currency != "USD" {
		t.Fatalf("after Ended: %+v final %+v", d, d.final)
	}
	if got := ds.display(2); got.running != nil || got.final != nil || got.text != "" {
		t.Errorf("connector 2 = %+v, want untouched", got)
	}
}

// TestCostsDisabled: with TariffCostCtrlr.Enabled[Cost] false no cost
// reaches the display, and CostUpdated is still answered.
func TestCostsDisabled(t *testing.T) {
	r, ds := newPricingRig(t, map[devicemodel.Ref]string{devicemodel.CostEnabled: "false", devicemodel.TotalCostFallbackMessage: "Cost by e-mail"}, nil)
	r.caller.answer = csmsCosts(nil, func(TransactionEventRequest) TransactionEventResponse {
		return TransactionEventResponse{TotalCost: costOf(3)}
	})
	r.register()
	startSession(t, r, ds, 1, "s1", "04A1B2C3")
	r.deliver()
	id := r.ch.openTransaction(1)
	if got, ce := r.handle(ActionCostUpdated, `{"totalCost":4.5,"transactionId":"`+id+`"}`); ce != nil || string(got) != `{}` {
		t.Fatalf("CostUpdated = %s, %v", got, ce)
	}
	endSession(t, r, ds, 1, "s1", "04A1B2C3")
	r.deliver()
	if d := ds.display(1); d.running != nil || d.final != nil || d.text != "" {
		t.Errorf("costs disabled, connector 1 = %+v", d)
	}
}

// TestCostUpdated: CostUpdated is the running cost of an ongoing
// transaction (I02); the answer is empty whatever it names, and a
// transaction that is not ongoing changes no display.
func TestCostUpdated(t *testing.T) {
	r, ds := newPricingRig(t, nil, nil)
	r.register()
	startSession(t, r, ds, 2, "s2", "04A1B2C3")
	r.deliver()
	id := r.ch.openTransaction(2)
	tests := []struct {
		name, payload string
		want          *tariff.Money // the running cost on connector 2 after it
	}{
		{"ongoing transaction", `{"totalCost":1.5,"transactionId":"` + id + `"}`, ptr(tariff.FromFloat(1.5))},
		{"again, higher", `{"totalCost":2.25,"transactionId":"` + id + `"}`, ptr(tariff.FromFloat(2.25))},
		{"unknown transaction", `{"totalCost":9,"transactionId":"nope"}`, ptr(tariff.FromFloat(2.25))},
		{"negative cost", `{"totalCost":-1,"transactionId":"` + id + `"}`, ptr(tariff.FromFloat(2.25))},
		{"customData", `{"totalCost":3,"transactionId":"` + id + `","customData":{"vendorId":"acme"}}`, ptr(tariff.FromFloat(3))},
	}
	for _, tc := range tests {
		got, ce := r.handle(ActionCostUpdated, tc.payload)
		if ce != nil || string(got) != `{}` {
			t.Errorf("%s: answer %s, %v; want {}", tc.name, got, ce)
			continue
		}
		d := ds.display(2)
		if d.running == nil || d.running.Amount != *tc.want || d.running.Currency != "EUR" {
			t.Errorf("%s: running cost %+v, want %v EUR", tc.name, d.running, *tc.want)
		}
	}
	if d := ds.display(1); d.running != nil {
		t.Errorf("connector 1 got a running cost %+v", d.running)
	}
}

func ptr[T any](v T) *T { return &v }

// TestTotalCostFallback: a transaction that ends offline shows
// TotalCostFallbackMessage until the Ended answer brings the cost (I05);
// an Ended answer without totalCost shows it too.
func TestTotalCostFallback(t *testing.T) {
	const costMsg = "Your receipt follows by e-mail"
	r, ds := newPricingRig(t, map[devicemodel.Ref]string{devicemodel.TariffFallbackMessage: fallback, devicemodel.TotalCostFallbackMessage: costMsg}, nil)
	withCost := true
	r.caller.answer = csmsCosts(nil, func(req TransactionEventRequest) TransactionEventResponse {
		if req.EventType == TransactionEventKindEnded && withCost {
			return TransactionEventResponse{TotalCost: costOf(0)} // free
		}
		return TransactionEventResponse{}
	})
	r.register()
	startSession(t, r, ds, 1, "s1", "04A1B2C3")
	r.deliver()
	r.setOnline(false)
	endSession(t, r, ds, 1, "s1", "04A1B2C3")
	r.ch.background.Wait()
	if d := ds.display(1); d.text != costMsg || d.final != nil {
		t.Fatalf("ended offline: %+v, want the total cost fallback", d)
	}
	r.register()
	r.deliver()
	d := ds.display(1)
	if d.final == nil || d.final.Amount != 0 || d.text != fallback {
		t.Fatalf("Ended answered with 0.00: %+v final %+v, want a final cost of 0 and the tariff text back", d, d.final)
	}

	// Online, but the CSMS sends no cost.
	withCost = false
	startSession(t, r, ds, 1, "s2", "04A1B2C3")
	r.deliver()
	if d := ds.display(1); d.text != fallback {
		t.Fatalf("new session shows %q", d.text)
	}
	endSession(t, r, ds, 1, "s2", "04A1B2C3")
	r.deliver()
	if d := ds.display(1); d.text != costMsg {
		t.Errorf("Ended answered without totalCost: %q, want the total cost fallback", d.text)
	}
}

// TestLateFinalCost: the answer to an Ended event queued offline comes
// after the next driver started on the connector; its cost and text do
// not reach that driver's display.
func TestLateFinalCost(t *testing.T) {
	r, ds := newPricingRig(t, map[devicemodel.Ref]string{devicemodel.TariffFallbackMessage: fallback}, nil)
	r.caller.answer = csmsCosts(nil, func(req TransactionEventRequest) TransactionEventResponse {
		if req.EventType == TransactionEventKindEnded {
			return TransactionEventResponse{TotalCost: costOf(7), UpdatedPersonalMessage: message(MessageFormatUTF8, "en", "Goodbye")}
		}
		return TransactionEventResponse{}
	})
	r.register()
	startSession(t, r, ds, 1, "s1", "04A1B2C3")
	r.deliver()
	r.setOnline(false)
	endSession(t, r, ds, 1, "s1", "04A1B2C3")
	startSession(t, r, ds, 1, "s2", "0A0B0C0D")
	r.register()
	r.deliver()
	if d := ds.display(1); d.final != nil || d.text == "Goodbye" {
		t.Errorf("the last driver's answer reached the next one: %+v", d)
	}
}

func TestStripHTML(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"<p>0.30 &euro;/kWh</p><p>idle 1 &euro;/h</p>", "0.30 €/kWh idle 1 €/h"},
		{"a<br/>b", "a b"},
		{"<b>bold</b> text", "bold text"},
		{"broken <tag", "broken"},
		{"x &lt; y", "x < y"},
	} {
		if got := stripHTML(tc.in); got != tc.want {
			t.Errorf("stripHTML(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
