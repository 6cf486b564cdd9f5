package ocpp16

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/station"
	"github.com/evsed/evsed/station/tariff"
	"periph.io/x/conn/v3/physic"
)

// PriceDisplay is the part of *station.Station that shows the driver
// prices and costs. A Station without it (a test's) answers every costmsg
// DataTransfer Rejected.
type PriceDisplay interface {
	UpdateDisplay(ctx context.Context, connector int, u station.DisplayUpdate) error
	SetTariff(ctx context.Context, connector int, t *tariff.Tariff) error
	SetOnline(ctx context.Context, online bool) error
}

var _ PriceDisplay = (*station.Station)(nil)

// Bounds and periods of the pricing state.
const (
	// maxUserPrices bounds the SetUserPrice texts kept for drivers whose
	// transaction has not started: one per driver at the charger, and a
	// few whose start never came.
	maxUserPrices = 8
	// triggerPoll is how often an armed atEnergykWh or atPowerkW trigger
	// looks at the meter.
	triggerPoll = time.Second
	// powerHysteresis is the band around an atPowerkW threshold, as a
	// fraction of it (at least minHysteresis), that the power must leave
	// before a crossing counts: a power that hovers at the threshold does
	// not fire the trigger with every sample.
	powerHysteresis = 0.05
	minHysteresis   = 100 * physic.Watt
)

// pricingState is the California Pricing state of a Charger, made at its
// first use (see Charger.prices).
type pricingState struct {
	mu sync.Mutex // guards the fields below
	// userPrices are SetUserPrice texts waiting for their transaction,
	// oldest first.
	userPrices []userPrice
	// triggers are the armed triggerMeterValue of each connector.
	triggers map[int]*meterTrigger
	// next fires the nextPeriod prices of each connector.
	next map[int]clock.Timer
	// ended is the last ended session of each connector that had one, in
	// no order: a slice rather than a map, as a charger has a handful of
	// connectors.
	ended []endedSession
}

// prices returns the Charger's pricing state, made now if create is set
// and it has none yet; nil when it has none and create is not set (no
// price message, no ended session so far: nothing to look at).
func (c *Charger) prices(create bool) *pricingState {
	p := c.pricing.Load()
	if p == nil && create {
		c.pricing.CompareAndSwap(nil, &pricingState{}) // or another goroutine's
		p = c.pricing.Load()
	}
	return p
}

// endedAt returns the index in p.ended of connector n's last session, -1
// when it has none. p.mu is held.
func (p *pricingState) endedAt(n int) int {
	return slices.IndexFunc(p.ended, func(e endedSession) bool { return e.connector == n })
}

type userPrice struct {
	idTag, text, lang string
}

// endedSession is a connector's last session, for FinalCost and
// ConnectorUnplugged.
type endedSession struct {
	connector int
	session   string
	// unplug says the vehicle was still plugged in when the session
	// ended, so that its leaving is a ConnectorUnplugged.
	unplug bool
}

// meterTrigger is one connector's armed triggerMeterValue.
type meterTrigger struct {
	connector int
	session   string
	timer     clock.Timer // atTime; nil when none
	poll      clock.Timer // energy and power; nil when neither
	energy    meter.Energy
	hasEnergy bool
	power     physic.Power
	hasPower  bool
	// side is where the power was last seen: -1 below the band, +1 above,
	// 0 not yet seen outside it.
	side     int
	statuses []station.Status
	stopped  bool
}

func (t *meterTrigger) stop() {
	t.stopped = true
	if t.timer != nil {
		t.timer.Stop()
	}
	if t.poll != nil {
		t.poll.Stop()
	}
}

// display returns the station as a PriceDisplay, or nil.
func (c *Charger) display() (Station, PriceDisplay) {
	st, err := c.station()
	if err != nil {
		return nil, nil
	}
	d, _ := st.(PriceDisplay)
	return st, d
}

// costMessage answers a DataTransfer of the costmsg vendor.
func (c *Charger) costMessage(ctx context.Context, r *DataTransferRequest) *DataTransferResponse {
	rejected := &DataTransferResponse{Status: DataTransferStatusRejected}
	var err error
	switch r.MessageID {
	case CostMsgSetUserPrice:
		err = c.setUserPrice(ctx, r.Data)
	case CostMsgRunningCost:
		err = c.runningCost(ctx, r.Data)
	case CostMsgFinalCost:
		err = c.finalCost(ctx, r.Data)
	default:
		c.log.Info("ocpp16 costmsg: unknown messageId", "messageId", r.MessageID)
		return &DataTransferResponse{Status: DataTransferStatusUnknownMessageId}
	}
	if err != nil {
		c.log.Info("ocpp16 costmsg rejected", "messageId", r.MessageID, "err", err)
		return rejected
	}
	return &DataTransferResponse{Status: DataTransferStatusAccepted}
}

// errNoDisplay: the station cannot show prices.
var errNoDisplay = errors.New("ocpp16 costmsg: the station has no price display")

// pickText returns the text in the display's language: with
// CustomMultiLanguageMessages the extra text of Language if there is one,
// else the main text (whose language the CSMS did not say).
func (c *Charger) pickText(main string, extra []PriceTextExtra) (text, lang string) {
	want := c.language()
	if c.cfg.Bool(KeyCustomMultiLanguageMessages) {
		for _, e := range extra {
			if strings.EqualFold(e.Language, want) {
				return e.Content, want
			}
		}
	}
	return main, ""
}

// language is the display language (the Language key).
func (c *Charger) language() string {
	v, _ := c.cfg.Value(KeyLanguage)
	return v
}

// setUserPrice shows a driver's price: on the connector of the driver's
// running session, or, before the transaction, on every connector without
// one, and keeps it for the session that the driver's token starts.
func (c *Charger) setUserPrice(ctx context.Context, data string) error {
	var m SetUserPrice
	if err := decodeCostMsg(data, &m); err != nil {
		return err
	}
	st, d := c.display()
	if d == nil {
		return errNoDisplay
	}
	text, lang := c.pickText(m.PriceText, m.PriceTextExtra)
	snap, err := st.Status(ctx)
	if err != nil {
		return fmt.Errorf("ocpp16 SetUserPrice: station status: %w", err)
	}
	u := station.DisplayUpdate{PriceText: &text, Language: &lang}
	for _, cs := range snap.Connectors {
		if cs.Session != nil && cs.Session.IDTag == m.IDToken {
			return d.UpdateDisplay(ctx, cs.ID, u)
		}
	}
	ps := c.prices(true)
	ps.mu.Lock()
	ps.userPrices = slices.DeleteFunc(ps.userPrices, func(p userPrice) bool { return p.idTag == m.IDToken })
	ps.userPrices = append(ps.userPrices, userPrice{m.IDToken, text, lang})
	if n := len(ps.userPrices); n > maxUserPrices {
		ps.userPrices = slices.Delete(ps.userPrices, 0, n-maxUserPrices)
	}
	ps.mu.Unlock()
	for _, cs := range snap.Connectors {
		if cs.Session == nil {
			if err := d.UpdateDisplay(ctx, cs.ID, u); err != nil {
				return err
			}
		}
	}
	return nil
}

// runningSession finds the connector of a running transaction.
func (c *Charger) runningSession(ctx context.Context, st Station, txID int) (connector int, session string, err error) {
	session, ok, err := c.tx.Session(txID)
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return 0, "", fmt.Errorf("%w: unknown transaction %d", errCostMsg, txID)
	}
	snap, err := st.Status(ctx)
	if err != nil {
		return 0, "", err
	}
	for _, cs := range snap.Connectors {
		if cs.Session != nil && cs.Session.ID == session {
			return cs.ID, session, nil
		}
	}
	return 0, session, nil
}

// runningCost shows a running transaction's cost, adopts its prices for
// the station's own estimate (now and from nextPeriod.atTime) and arms its
// triggers.
func (c *Charger) runningCost(ctx context.Context, data string) error {
	var m RunningCost
	if err := decodeCostMsg(data, &m); err != nil {
		return err
	}
	st, d := c.display()
	if d == nil {
		return errNoDisplay
	}
	n, session, err := c.runningSession(ctx, st, m.TransactionID)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: transaction %d is not running", errCostMsg, m.TransactionID)
	}
	at := m.Timestamp.Time
	if at.IsZero() {
		at = c.clk.Now()
	}
	u := station.DisplayUpdate{RunningCost: &station.DisplayCost{Amount: tariff.FromFloat(m.Cost), Currency: c.opts.Currency, At: at}}
	if m.PriceText != "" || len(m.PriceTextExtra) > 0 {
		text, lang := c.pickText(m.PriceText, m.PriceTextExtra)
		u.PriceText, u.Language = &text, &lang
	}
	if m.QRCodeText != "" {
		u.QRCode = &m.QRCodeText
	}
	if m.ChargingPrice != nil || m.IdlePrice != nil {
		t := simpleTariff(c.opts.Currency, m.ChargingPrice, m.IdlePrice)
		if err := d.SetTariff(ctx, n, &t); err != nil {
			return err
		}
	}
	if err := d.UpdateDisplay(ctx, n, u); err != nil {
		return err
	}
	c.scheduleNextPeriod(n, m)
	if m.TriggerMeterValue != nil {
		c.armTrigger(n, session, *m.TriggerMeterValue)
	}
	return nil
}

// scheduleNextPeriod applies nextPeriod's prices at its atTime (those it
// leaves out stay as they are).
func (c *Charger) scheduleNextPeriod(n int, m RunningCost) {
	np := m.NextPeriod
	ps := c.prices(np != nil)
	if ps == nil {
		return // nothing scheduled before either
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if old := ps.next[n]; old != nil {
		old.Stop()
		delete(ps.next, n)
	}
	if np == nil {
		return
	}
	cp, idle := m.ChargingPrice, m.IdlePrice
	if np.ChargingPrice != nil {
		cp = np.ChargingPrice
	}
	if np.IdlePrice != nil {
		idle = np.IdlePrice
	}
	t := simpleTariff(c.opts.Currency, cp, idle)
	if ps.next == nil {
		ps.next = map[int]clock.Timer{}
	}
	ps.next[n] = c.clk.AfterFunc(max(np.AtTime.Sub(c.clk.Now()), 0), func() {
		if _, d := c.display(); d != nil {
			if err := d.SetTariff(context.Background(), n, &t); err != nil {
				c.log.Warn("ocpp16 nextPeriod prices", "connector", n, "err", err)
			}
		}
	})
}

// finalCost shows an ended (or ending) transaction's cost.
func (c *Charger) finalCost(ctx context.Context, data string) error {
	var m FinalCost
	if err := decodeCostMsg(data, &m); err != nil {
		return err
	}
	st, d := c.display()
	if d == nil {
		return errNoDisplay
	}
	n, _, err := c.runningSession(ctx, st, m.TransactionID)
	if err != nil && !errors.Is(err, errCostMsg) {
		return err
	}
	if n == 0 {
		n = c.endedConnector(m.TransactionID)
	}
	if n == 0 {
		return fmt.Errorf("%w: transaction %d ended on no connector this charger knows", errCostMsg, m.TransactionID)
	}
	u := station.DisplayUpdate{FinalCost: &station.DisplayCost{Amount: tariff.FromFloat(m.Cost), Currency: c.opts.Currency, At: c.clk.Now()}}
	if m.PriceText != "" || len(m.PriceTextExtra) > 0 {
		text, lang := c.pickText(m.PriceText, m.PriceTextExtra)
		u.PriceText, u.Language = &text, &lang
	}
	if m.QRCodeText != "" {
		u.QRCode = &m.QRCodeText
	}
	return d.UpdateDisplay(ctx, n, u)
}

// armTrigger replaces connector n's trigger with tr.
func (c *Charger) armTrigger(n int, session string, tr TriggerMeterValue) {
	t := &meterTrigger{connector: n, session: session}
	if e := tr.AtEnergyKWh; e != nil {
		t.energy, t.hasEnergy = meter.Energy(*e*float64(meter.KiloWattHour)+0.5), true
	}
	if p := tr.AtPowerKW; p != nil {
		t.power, t.hasPower = physic.Power(*p*float64(physic.KiloWatt)), true
	}
	for _, s := range tr.AtCPStatus {
		t.statuses = append(t.statuses, station.Status(s))
	}
	ps := c.prices(true)
	ps.mu.Lock()
	if old := ps.triggers[n]; old != nil {
		old.stop()
	}
	if ps.triggers == nil {
		ps.triggers = map[int]*meterTrigger{}
	}
	ps.triggers[n] = t
	if at := tr.AtTime; at != nil {
		t.timer = c.clk.AfterFunc(max(at.Sub(c.clk.Now()), 0), func() { c.fireTrigger(t, "atTime") })
	}
	if t.hasEnergy || t.hasPower {
		t.poll = c.clk.AfterFunc(0, func() { c.pollTrigger(t) })
	}
	ps.mu.Unlock()
}

// pollTrigger looks at the meter for t's energy and power conditions, and
// looks again triggerPoll later while any is still armed.
func (c *Charger) pollTrigger(t *meterTrigger) {
	st, err := c.station()
	if err != nil {
		return
	}
	snap, err := st.Status(context.Background())
	if err != nil || t.connector > len(snap.Connectors) {
		return
	}
	cs := snap.Connectors[t.connector-1]
	ps := c.prices(true) // (made by armTrigger)
	ps.mu.Lock()
	if t.stopped || ps.triggers[t.connector] != t {
		ps.mu.Unlock()
		return
	}
	var why string
	if t.hasEnergy && cs.Session != nil && cs.Session.Energy >= t.energy {
		t.hasEnergy = false // once
		why = "atEnergykWh"
	}
	if t.hasPower {
		h := max(physic.Power(float64(t.power)*powerHysteresis), minHysteresis)
		side := t.side
		switch p := cs.Meter.Power; {
		case p >= t.power+h:
			side = 1
		case p <= t.power-h:
			side = -1
		}
		if t.side != 0 && side != t.side {
			why = "atPowerkW"
		}
		t.side = side
	}
	if t.hasEnergy || t.hasPower {
		t.poll = c.clk.AfterFunc(triggerPoll, func() { c.pollTrigger(t) })
	}
	ps.mu.Unlock()
	if why != "" {
		c.fireTrigger(t, why)
	}
}

// fireTrigger queues a MeterValues of t's transaction with the meter's
// latest reading.
func (c *Charger) fireTrigger(t *meterTrigger, why string) {
	ps := c.prices(true) // (made by armTrigger)
	ps.mu.Lock()
	stopped := t.stopped
	ps.mu.Unlock()
	if stopped {
		return
	}
	st, err := c.station()
	if err != nil {
		return
	}
	snap, err := st.Status(context.Background())
	if err != nil || t.connector > len(snap.Connectors) {
		return
	}
	cs := snap.Connectors[t.connector-1]
	want := c.cfg.Measurands(KeyMeterValuesSampledData)
	if t.hasPower && !slices.Contains(want, MeasurandPowerActiveImport) {
		want = append(want, MeasurandPowerActiveImport)
	}
	values := sampledValues(cs.Meter, ReadingContextTrigger, want)
	if len(values) == 0 {
		c.log.Info("ocpp16 triggerMeterValue: nothing to report", "connector", t.connector, "trigger", why)
		return
	}
	req := &MeterValuesRequest{
		ConnectorID: t.connector,
		MeterValue:  []MeterValue{{Timestamp: NewDateTime(sampleTime(snap.At, cs.Meter)), SampledValue: values}},
	}
	c.log.Info("ocpp16 triggerMeterValue fired", "connector", t.connector, "trigger", why)
	if err := c.enqueue(ocppclient.KindMeter, ActionMeterValues, t.session, req); err != nil {
		c.log.Warn("ocpp16 triggerMeterValue", "connector", t.connector, "err", err)
	}
}

// pricingSessionStarted shows the driver's SetUserPrice text, if one came
// before the transaction.
func (c *Charger) pricingSessionStarted(ctx context.Context, s station.SessionStart) {
	ps := c.prices(false)
	if ps == nil {
		return // no user price, no ended session
	}
	ps.mu.Lock()
	var up *userPrice
	if i := slices.IndexFunc(ps.userPrices, func(p userPrice) bool { return p.idTag == s.IDTag }); i >= 0 {
		p := ps.userPrices[i]
		up = &p
		ps.userPrices = slices.Delete(ps.userPrices, i, i+1)
	}
	if i := ps.endedAt(s.Connector); i >= 0 {
		ps.ended = slices.Delete(ps.ended, i, i+1)
	}
	ps.mu.Unlock()
	if up == nil {
		return
	}
	if _, d := c.display(); d != nil {
		if err := d.UpdateDisplay(ctx, s.Connector, station.DisplayUpdate{PriceText: &up.text, Language: &up.lang}); err != nil {
			c.log.Warn("ocpp16 user price", "connector", s.Connector, "err", err)
		}
	}
}

// pricingSessionEnded disarms the connector's trigger and next prices and
// remembers the session for FinalCost and ConnectorUnplugged.
func (c *Charger) pricingSessionEnded(s station.SessionEnd) {
	ps := c.prices(true)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if t := ps.triggers[s.Connector]; t != nil {
		t.stop()
		delete(ps.triggers, s.Connector)
	}
	if t := ps.next[s.Connector]; t != nil {
		t.Stop()
		delete(ps.next, s.Connector)
	}
	e := endedSession{connector: s.Connector, session: s.SessionID, unplug: s.Reason != station.ReasonEVDisconnected}
	if i := ps.endedAt(s.Connector); i >= 0 {
		ps.ended[i] = e
	} else {
		ps.ended = append(ps.ended, e)
	}
}

// pricingStatus fires an atCPStatus trigger, and queues ConnectorUnplugged
// when a connector whose transaction ended becomes Available (the cable
// left) with CustomIdleFeeAfterStop.
func (c *Charger) pricingStatus(s station.StatusChange) {
	ps := c.prices(false)
	if ps == nil {
		return // no trigger armed, no session ended
	}
	ps.mu.Lock()
	t := ps.triggers[s.Connector]
	fire := t != nil && slices.Contains(t.statuses, s.Status)
	var e endedSession
	i := ps.endedAt(s.Connector)
	unplugged := i >= 0 && ps.ended[i].unplug && s.Status == station.Available
	if unplugged {
		ps.ended[i].unplug = false
		e = ps.ended[i]
	}
	ps.mu.Unlock()
	if fire {
		c.fireTrigger(t, "atCPStatus")
	}
	if unplugged && c.cfg.Bool(KeyCustomIdleFeeAfterStop) {
		c.queueUnplugged(e.session, s.At)
	}
}

// queueUnplugged queues a ConnectorUnplugged of session durably; its
// transactionId is filled in at send time when it is not known yet.
func (c *Charger) queueUnplugged(session string, at time.Time) {
	id, _ := c.tx.TransactionID(session)
	req, err := unpluggedRequest(id, at)
	if err == nil {
		err = c.enqueue(ocppclient.KindOther, ActionDataTransfer, session, req)
	}
	if err != nil {
		c.log.Warn("ocpp16 ConnectorUnplugged not queued", "session", session, "err", err)
	}
}

func unpluggedRequest(txID int, at time.Time) (*DataTransferRequest, error) {
	data, err := json.Marshal(ConnectorUnplugged{TransactionID: txID, Timestamp: NewDateTime(at)})
	if err != nil {
		return nil, err
	}
	return &DataTransferRequest{VendorID: CostMsgVendorID, MessageID: CostMsgConnectorUnplugged, Data: string(data)}, nil
}

// prepareUnplugged fills in the transactionId of a queued
// ConnectorUnplugged that was queued before its transaction had one.
func (c *Charger) prepareUnplugged(e ocppclient.Entry) (json.RawMessage, error) {
	var req DataTransferRequest
	if err := json.Unmarshal(e.Payload, &req); err != nil || req.MessageID != CostMsgConnectorUnplugged {
		return e.Payload, nil
	}
	var m ConnectorUnplugged
	if err := json.Unmarshal([]byte(req.Data), &m); err != nil || m.TransactionID != 0 {
		return e.Payload, nil
	}
	id, err := c.tx.TransactionID(e.Key)
	switch {
	case errors.Is(err, errNoTxID):
		id = unknownTxID
	case err != nil:
		return nil, err
	}
	out, err := unpluggedRequest(id, m.Timestamp.Time)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// applyDefaultPrice shows DefaultPrice (or DefaultPriceText,<Language>)
// on the connectors without a session, makes its priceTextOffline every
// connector's offline text, and makes its chargingPrice the station's
// default tariff, which prices sessions that have no other (offline ones).
func (c *Charger) applyDefaultPrice(ctx context.Context) {
	st, d := c.display()
	if d == nil {
		return
	}
	v, _ := c.cfg.Value(KeyDefaultPrice)
	dp, err := parseDefaultPrice(v)
	if err != nil {
		c.log.Warn("ocpp16 DefaultPrice", "err", err)
		return
	}
	var text, offline, lang string
	var t *tariff.Tariff
	if dp != nil {
		text, offline = dp.PriceText, dp.PriceTextOffline
		if dp.ChargingPrice != nil {
			tt := simpleTariff(c.opts.Currency, dp.ChargingPrice, nil)
			t = &tt
		}
	}
	if c.cfg.Bool(KeyCustomMultiLanguageMessages) {
		if lv, _ := c.cfg.Value(KeyDefaultPriceTextPrefix + c.language()); lv != "" {
			var dt DefaultPriceText
			if decodeCostMsg(lv, &dt) == nil {
				text, lang = dt.PriceText, c.language()
				if dt.PriceTextOffline != "" {
					offline = dt.PriceTextOffline
				}
			}
		}
	}
	if err := d.SetTariff(ctx, 0, t); err != nil {
		c.log.Warn("ocpp16 default tariff", "err", err)
	}
	if err := d.UpdateDisplay(ctx, 0, station.DisplayUpdate{OfflinePriceText: &offline}); err != nil {
		c.log.Warn("ocpp16 default price", "err", err)
		return
	}
	snap, err := st.Status(ctx)
	if err != nil {
		return
	}
	for _, cs := range snap.Connectors {
		if cs.Session == nil {
			if err := d.UpdateDisplay(ctx, cs.ID, station.DisplayUpdate{PriceText: &text, Language: &lang}); err != nil {
				c.log.Warn("ocpp16 default price", "connector", cs.ID, "err", err)
			}
		}
	}
}

// pricingKey reports whether a change of key changes the default price.
func pricingKey(key string) bool {
	return key == KeyDefaultPrice || key == KeyLanguage || key == KeyCustomMultiLanguageMessages ||
		strings.HasPrefix(key, KeyDefaultPriceTextPrefix)
}

// setOnline tells the station whether the CSMS is reachable, for the
// offline price text and the station's own cost estimate. It does not
// wait: the transport calls it from its connection callbacks. One
// goroutine at a time tells the station, the latest state last.
func (c *Charger) setOnline(online bool) {
	c.onlineWant.Store(online)
	if !c.onlineSending.CompareAndSwap(false, true) {
		return // the running sender will see the new state
	}
	c.background.Go(func() {
		for {
			v := c.onlineWant.Load()
			if _, d := c.display(); d != nil {
				if err := d.SetOnline(c.runContext(), v); err != nil && !errors.Is(err, station.ErrStopped) {
					c.log.Warn("ocpp16 display online state", "err", err)
				}
			}
			c.onlineSending.Store(false)
			if c.onlineWant.Load() == v || !c.onlineSending.CompareAndSwap(false, true) {
				return
			}
		}
	})
}

// Disconnected tells the Charger that the connection to the CSMS is lost,
// so that the driver display shows the offline price text and the
// station's own running cost; pass it (or call it from)
// ocppclient.Options.OnDisconnect. OnConnect marks the charger online
// again once registered.
func (c *Charger) Disconnected(registered bool, err error) {
	c.setOnline(false)
}

// DisplayZone is the time zone of the driver display at now from the
// TimeOffset keys: TimeOffset, or TimeOffsetNextTransition from
// NextTimeOffsetTransitionDateTime on.
func (c *Charger) DisplayZone(now time.Time) *time.Location {
	off, _ := c.cfg.Value(KeyTimeOffset)
	if at, _ := c.cfg.Value(KeyNextTimeOffsetTransitionDateTime); at != "" {
		if next, _ := c.cfg.Value(KeyTimeOffsetNextTransition); next != "" {
			if t, err := ParseDateTime(at); err == nil && !now.Before(t.Time) {
				off = next
			}
		}
	}
	s, err := parseTimeOffset(off)
	if err != nil {
		return time.UTC
	}
	return time.FixedZone("UTC"+off, s)
}

// endedConnector returns the connector whose last session was transaction
// txID (whose StopTransaction may have been answered already), or 0.
func (c *Charger) endedConnector(txID int) int {
	ps := c.prices(false)
	if ps == nil {
		return 0
	}
	ps.mu.Lock()
	ended := slices.Clone(ps.ended)
	ps.mu.Unlock()
	for _, e := range ended {
		if tx, err := c.tx.TransactionID(e.session); err == nil && tx == txID {
			return e.connector
		}
	}
	return 0
}
