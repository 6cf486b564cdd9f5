package ocpp201

import (
	"context"
	"errors"
	"html"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/station"
	"github.com/evsed/evsed/station/tariff"
)

// Tariff and cost (functional block I, use cases I01-I06).
//
// 2.0.1 has no tariff structure: the CSMS computes the cost and sends the
// driver texts and amounts, which the adapter hands to the station's
// driver display (station.DisplayUpdate):
//
//   - Tariff, while TariffCostCtrlr.Available and Enabled (instance
//     Tariff) are true: the personalMessage of an Authorize answer (I01)
//     is shown on the connector of the token's running session, else on
//     every connector without one and kept for the session the token
//     starts; the idTokenInfo.personalMessage and the
//     updatedPersonalMessage (I06) of a TransactionEvent answer on the
//     transaction's connector. A connector whose driver got no text shows
//     TariffFallbackMessage (I04), and while the CSMS is unreachable
//     OfflineTariffFallbackMessage when it is set.
//   - Cost, while Available and Enabled (instance Cost) are true: the
//     totalCost of the answer to a Started or Updated event and of
//     CostUpdated is the running cost (I02), that of the answer to the
//     Ended event the final cost (I03), both in TariffCostCtrlr.Currency.
//     A transaction that ends while the CSMS is unreachable, or whose
//     Ended answer carries no totalCost, shows TotalCostFallbackMessage
//     (I05) until a totalCost comes.
//
// Offline, the station keeps a number on the display itself: the CSMS's
// last running cost plus what its tariff engine computed since, with
// Options.Tariff as the station's default prices (the display marks it
// estimated); a transaction that ended offline shows the station's own
// final cost until the CSMS's comes.

// PriceDisplay is the part of *station.Station that shows the driver
// prices and costs. A Station without it (a test's) shows nothing, and
// CostUpdated is still answered.
type PriceDisplay interface {
	UpdateDisplay(ctx context.Context, connector int, u station.DisplayUpdate) error
	SetTariff(ctx context.Context, connector int, t *tariff.Tariff) error
	SetOnline(ctx context.Context, online bool) error
}

var _ PriceDisplay = (*station.Station)(nil)

// maxDriverTexts bounds the Authorize texts kept for drivers whose
// session has not started: one per driver at the charger, and a few
// whose start never came.
const maxDriverTexts = 8

// The TariffCostCtrlr variables.
var (
	refTariffAvailable     = devicemodel.TariffAvailable
	refTariffEnabled       = devicemodel.TariffEnabled
	refCostAvailable       = devicemodel.CostAvailable
	refCostEnabled         = devicemodel.CostEnabled
	refCurrency            = devicemodel.Currency
	refTariffFallback      = devicemodel.TariffFallbackMessage
	refOfflineTariffFallbk = devicemodel.OfflineTariffFallbackMessage
	refTotalCostFallback   = devicemodel.TotalCostFallbackMessage
)

// pricingState is the tariff and cost state of a Charger.
type pricingState struct {
	mu sync.Mutex // guards the fields below
	// driverTexts are Authorize texts waiting for their driver's session,
	// oldest first.
	driverTexts []driverText
	// ended is, per EVSE, the transaction that ended there last while no
	// other started since: the one a final cost may still come for.
	ended map[int]string
	// costFallback marks the EVSEs showing TotalCostFallbackMessage.
	costFallback map[int]bool
	// idle and offline are the idle and offline texts last given to the
	// station, so that an unchanged configuration costs no update.
	idle, offline string
	applied       bool

	// onlineWant is the connection state to tell the station;
	// onlineSending says a goroutine is telling it (see setOnline).
	onlineWant, onlineSending atomic.Bool
}

type driverText struct {
	token string
	text  displayText
}

// displayText is a text for the driver and its RFC 5646 language ("" when
// unknown).
type displayText struct {
	text, lang string
}

// textOf is the plain text of a MessageContent: HTML loses its markup
// (the displays show text), the other formats are shown as they are.
func textOf(m *MessageContent) displayText {
	s := m.Content
	if m.Format == MessageFormatHTML {
		s = stripHTML(s)
	}
	return displayText{text: strings.TrimSpace(s), lang: m.Language}
}

// stripHTML removes tags and decodes character references; a <br> or a
// block's end becomes a space.
func stripHTML(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break // an unclosed tag: drop the rest
		}
		tag := strings.ToLower(strings.TrimLeft(s[i+1:i+j], "/ "))
		if strings.HasPrefix(tag, "br") || strings.HasPrefix(tag, "p") || strings.HasPrefix(tag, "div") || strings.HasPrefix(tag, "li") {
			b.WriteByte(' ')
		}
		s = s[i+j+1:]
	}
	return strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
}

// tariffOn and costOn say whether TariffCostCtrlr shows tariffs and
// costs.
func (c *Charger) tariffOn() bool {
	return c.boolVar(refTariffAvailable) && c.boolVar(refTariffEnabled)
}
func (c *Charger) costOn() bool { return c.boolVar(refCostAvailable) && c.boolVar(refCostEnabled) }

// currency is TariffCostCtrlr.Currency.
func (c *Charger) currency() string { return c.vars.String(refCurrency) }

// display returns the station as a PriceDisplay, or nil.
func (c *Charger) display() PriceDisplay {
	st, err := c.station()
	if err != nil {
		return nil
	}
	d, _ := st.(PriceDisplay)
	return d
}

// show hands connector n's update to the display, if there is one.
func (c *Charger) show(ctx context.Context, n int, u station.DisplayUpdate) {
	d := c.display()
	if d == nil {
		return
	}
	if err := d.UpdateDisplay(ctx, n, u); err != nil && !errors.Is(err, station.ErrStopped) && ctx.Err() == nil {
		c.log.Warn("ocpp201 driver display", "evse", n, "err", err)
	}
}

func textUpdate(t displayText) station.DisplayUpdate {
	return station.DisplayUpdate{PriceText: &t.text, Language: &t.lang}
}

// cost is an amount in TariffCostCtrlr.Currency now.
func (c *Charger) cost(amount float64) *station.DisplayCost {
	return &station.DisplayCost{Amount: tariff.FromFloat(amount), Currency: c.currency(), At: c.clk.Now()}
}

// idleText is what a connector without a session shows: the text of the
// driver who authorized last and has not started yet, else
// TariffFallbackMessage; nothing while tariffs are off.
func (c *Charger) idleText() displayText {
	if !c.tariffOn() {
		return displayText{}
	}
	c.pricing.mu.Lock()
	defer c.pricing.mu.Unlock()
	if n := len(c.pricing.driverTexts); n > 0 {
		return c.pricing.driverTexts[n-1].text
	}
	return displayText{text: c.vars.String(refTariffFallback)}
}

// showIdle shows t on every connector without a session.
func (c *Charger) showIdle(ctx context.Context, t displayText) {
	st, err := c.station()
	if err != nil || c.display() == nil {
		return
	}
	snap, err := st.Status(ctx)
	if err != nil {
		return
	}
	for _, cs := range snap.Connectors {
		if cs.Session == nil {
			c.show(ctx, cs.ID, textUpdate(t))
		}
	}
}

// authorized shows the personalMessage of the CSMS's Authorize answer
// for token (I01): on the connector of the token's running session (a
// driver presenting the card again), else on every connector without a
// session, kept for the session the token starts. Only an accepted
// token's text is shown: a refused one starts nothing whose connector
// could keep it.
func (c *Charger) authorized(ctx context.Context, token string, info IDTokenInfo) {
	if info.PersonalMessage == nil || info.Status != AuthorizationStatusAccepted || !c.tariffOn() || c.display() == nil {
		return
	}
	t := textOf(info.PersonalMessage)
	st, err := c.station()
	if err != nil {
		return
	}
	snap, err := st.Status(ctx)
	if err != nil {
		return
	}
	for _, cs := range snap.Connectors {
		if cs.Session != nil && cs.Session.IDTag == token {
			c.show(ctx, cs.ID, textUpdate(t))
			return
		}
	}
	c.pricing.mu.Lock()
	c.pricing.driverTexts = slices.DeleteFunc(c.pricing.driverTexts, func(p driverText) bool { return p.token == token })
	c.pricing.driverTexts = append(c.pricing.driverTexts, driverText{token, t})
	if n := len(c.pricing.driverTexts); n > maxDriverTexts {
		c.pricing.driverTexts = slices.Delete(c.pricing.driverTexts, 0, n-maxDriverTexts)
	}
	c.pricing.mu.Unlock()
	for _, cs := range snap.Connectors {
		if cs.Session == nil {
			c.show(ctx, cs.ID, textUpdate(t))
		}
	}
}

// pricingSessionStarted shows the driver's text on the session's
// connector: the Authorize text kept for the token, else
// TariffFallbackMessage. The connectors without a session that showed the
// driver's text go back to the idle text.
func (c *Charger) pricingSessionStarted(ctx context.Context, s station.SessionStart) {
	c.pricing.mu.Lock()
	delete(c.pricing.ended, s.Connector)
	delete(c.pricing.costFallback, s.Connector)
	i := slices.IndexFunc(c.pricing.driverTexts, func(p driverText) bool { return p.token == s.IDTag })
	var t displayText
	kept := i >= 0
	if kept {
		t = c.pricing.driverTexts[i].text
		c.pricing.driverTexts = slices.Delete(c.pricing.driverTexts, i, i+1)
	}
	c.pricing.mu.Unlock()
	if !c.tariffOn() || c.display() == nil {
		return
	}
	if !kept {
		t = displayText{text: c.vars.String(refTariffFallback)}
	}
	c.show(ctx, s.Connector, textUpdate(t))
	if kept {
		c.showIdle(ctx, c.idleText())
	}
}

// pricingTxEnded records that EVSE n's transaction txID ended, queued
// while offline when offline is set: then the CSMS cannot tell the cost
// now, and the connector shows TotalCostFallbackMessage (I05) until the
// Ended event's answer brings one. txMu is held: the display is updated
// off it.
func (c *Charger) pricingTxEnded(n int, txID string, offline bool) {
	c.pricing.mu.Lock()
	if c.pricing.ended == nil {
		c.pricing.ended = map[int]string{}
	}
	c.pricing.ended[n] = txID
	c.pricing.mu.Unlock()
	if !offline || !c.costOn() || c.display() == nil {
		return
	}
	msg := c.vars.String(refTotalCostFallback)
	if msg == "" {
		return
	}
	c.pricing.mu.Lock()
	if c.pricing.costFallback == nil {
		c.pricing.costFallback = map[int]bool{}
	}
	c.pricing.costFallback[n] = true
	c.pricing.mu.Unlock()
	ctx := c.runContext()
	c.background.Go(func() {
		c.pricing.mu.Lock()
		still := c.pricing.ended[n] == txID && c.pricing.costFallback[n]
		c.pricing.mu.Unlock()
		if still {
			c.show(ctx, n, textUpdate(displayText{text: msg}))
		}
	})
}

// pricingTxStarted forgets EVSE n's ended transaction: a final cost
// that comes for it now belongs to a driver who left. txMu is held.
func (c *Charger) pricingTxStarted(n int) {
	c.pricing.mu.Lock()
	delete(c.pricing.ended, n)
	delete(c.pricing.costFallback, n)
	c.pricing.mu.Unlock()
}

// endedEVSE returns the EVSE whose last ended transaction is txID, or 0.
func (c *Charger) endedEVSE(txID string) int {
	c.pricing.mu.Lock()
	defer c.pricing.mu.Unlock()
	for n, id := range c.pricing.ended {
		if id == txID {
			return n
		}
	}
	return 0
}

// pricingDelivered shows what the answer to a TransactionEvent brings
// for the driver: the texts (I01, I06) and the running or final cost
// (I02, I03), or TotalCostFallbackMessage for an Ended event answered
// without a cost (I05). An answer of a transaction that is neither open
// nor the last one ended on its EVSE changes nothing: its connector
// serves another driver by now.
func (c *Charger) pricingDelivered(ctx context.Context, req *TransactionEventRequest, conf *TransactionEventResponse) {
	if c.display() == nil {
		return
	}
	id := req.TransactionInfo.TransactionID
	ended := req.EventType == TransactionEventKindEnded
	n, _, open := c.findTransaction(id)
	if !open {
		n = c.endedEVSE(id)
	}
	if n == 0 {
		return
	}
	var u station.DisplayUpdate
	var changed bool
	if c.tariffOn() {
		msg := conf.UpdatedPersonalMessage
		if msg == nil && conf.IDTokenInfo != nil {
			msg = conf.IDTokenInfo.PersonalMessage
		}
		if msg != nil {
			u, changed = textUpdate(textOf(msg)), true
		}
	}
	if c.costOn() {
		cost := conf.TotalCost
		if cost != nil && *cost < 0 {
			c.log.Info("ocpp201 negative totalCost ignored", "transactionId", id, "totalCost", *cost)
			cost = nil
		}
		c.pricing.mu.Lock()
		fallbackShown := c.pricing.costFallback[n]
		if ended && cost != nil {
			delete(c.pricing.costFallback, n)
		}
		c.pricing.mu.Unlock()
		switch {
		case cost != nil && ended:
			u.FinalCost, changed = c.cost(*cost), true
			if fallbackShown && u.PriceText == nil && c.tariffOn() {
				// The cost came after all: TotalCostFallbackMessage no
				// longer applies.
				t := displayText{text: c.vars.String(refTariffFallback)}
				u.PriceText, u.Language = &t.text, &t.lang
			}
		case cost != nil && open:
			u.RunningCost, changed = c.cost(*cost), true
		case cost == nil && ended && u.PriceText == nil:
			if msg := c.vars.String(refTotalCostFallback); msg != "" {
				u, changed = textUpdate(displayText{text: msg}), true
			}
		}
	}
	if changed {
		c.show(ctx, n, u)
	}
}

// costUpdated shows the running cost of CostUpdated (I02) on the
// transaction's EVSE. The answer has no status: a transaction that is not
// ongoing here, a negative cost, or costs switched off are logged and
// answered all the same.
func (c *Charger) costUpdated(ctx context.Context, r *CostUpdatedRequest) *CostUpdatedResponse {
	if !c.costOn() {
		c.log.Info("ocpp201 CostUpdated while costs are disabled", "transactionId", r.TransactionID)
		return &CostUpdatedResponse{}
	}
	n, _, ok := c.findTransaction(r.TransactionID)
	switch {
	case !ok:
		c.log.Info("ocpp201 CostUpdated of a transaction that is not ongoing", "transactionId", r.TransactionID)
	case r.TotalCost < 0:
		c.log.Info("ocpp201 CostUpdated with a negative cost ignored", "transactionId", r.TransactionID, "totalCost", r.TotalCost)
	default:
		c.show(ctx, n, station.DisplayUpdate{RunningCost: c.cost(r.TotalCost)})
	}
	return &CostUpdatedResponse{}
}

// applyPrices gives the station what does not depend on a driver: the
// default tariff (Options.Tariff, in TariffCostCtrlr.Currency when it
// names none), OfflineTariffFallbackMessage as every connector's offline
// text, and the idle text on the connectors without a session. Texts that
// did not change since the last call are not sent again.
func (c *Charger) applyPrices(ctx context.Context) {
	d := c.display()
	if d == nil {
		return
	}
	if c.opts.Tariff != nil {
		t := *c.opts.Tariff
		if t.Currency == "" {
			t.Currency = c.currency()
		}
		if err := d.SetTariff(ctx, 0, &t); err != nil && ctx.Err() == nil {
			c.log.Warn("ocpp201 default tariff", "err", err)
		}
	}
	offline := ""
	if c.tariffOn() {
		offline = c.vars.String(refOfflineTariffFallbk)
	}
	idle := c.idleText()
	c.pricing.mu.Lock()
	first := !c.pricing.applied
	sendOffline := offline != c.pricing.offline || (first && offline != "")
	sendIdle := idle.text != c.pricing.idle || (first && idle.text != "")
	c.pricing.applied, c.pricing.offline, c.pricing.idle = true, offline, idle.text
	c.pricing.mu.Unlock()
	if sendOffline {
		c.show(ctx, 0, station.DisplayUpdate{OfflinePriceText: &offline})
	}
	if sendIdle {
		c.showIdle(ctx, idle)
	}
}

// pricingVariable reports whether a change of r changes what applyPrices
// gives the station.
func pricingVariable(r devicemodel.Ref) bool {
	for _, p := range []devicemodel.Ref{refTariffEnabled, refTariffFallback, refOfflineTariffFallbk, refCurrency} {
		if sameVar(r, p) {
			return true
		}
	}
	return false
}

// setOnline tells the station whether the CSMS is reachable, for the
// offline text and the station's own cost estimate. It does not wait:
// the transport calls it from its connection callbacks. One goroutine at
// a time tells the station, the latest state last.
func (c *Charger) setOnline(online bool) {
	c.pricing.onlineWant.Store(online)
	if !c.pricing.onlineSending.CompareAndSwap(false, true) {
		return // the running sender sees the new state
	}
	c.background.Go(func() {
		for {
			v := c.pricing.onlineWant.Load()
			if d := c.display(); d != nil {
				if err := d.SetOnline(c.runContext(), v); err != nil && !errors.Is(err, station.ErrStopped) {
					c.log.Warn("ocpp201 display online state", "err", err)
				}
			}
			c.pricing.onlineSending.Store(false)
			if c.pricing.onlineWant.Load() == v || !c.pricing.onlineSending.CompareAndSwap(false, true) {
				return
			}
		}
	})
}
