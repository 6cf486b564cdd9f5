package station

import (
	"context"
	"sync"
	"time"

	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/station/tariff"
)

// What the driver sees: the price before a session, its running cost during
// it, its final cost and a QR code after it. Adapters set what their back
// end sends (UpdateDisplay) and the prices they know (SetTariff); the
// station prices every session with the tariff engine from the meter, so
// that the display always has a number, online or offline: while the back
// end is unreachable (SetOnline(false)) the running cost is the back end's
// last one plus what the station computed since. The state is version
// neutral and shown in ConnectorSnapshot.Display and on the connector's
// hal.Display.

// DisplayCost is an amount the driver sees.
type DisplayCost struct {
	Amount   tariff.Money
	Currency string // ISO 4217; "" when unknown
	// Estimated says the station computed the amount itself (offline, or
	// without a back end's cost) rather than the back end sending it.
	Estimated bool
	// At is when the amount was true.
	At time.Time
}

// String formats the cost for a display, e.g. "EUR 3.31".
func (c DisplayCost) String() string {
	if c.Currency == "" {
		return c.Amount.Format(2)
	}
	return c.Currency + " " + c.Amount.Format(2)
}

// DriverDisplay is what a connector shows its driver.
type DriverDisplay struct {
	// Language is the RFC 5646 code of the texts; "" when unknown.
	Language string
	// PriceText is the text shown: the offline text while the back end is
	// unreachable, when one is set, else the price text.
	PriceText string
	// RunningCost is the running session's cost; nil without a session or
	// without any price to compute it.
	RunningCost *DisplayCost
	// FinalCost is the last session's cost once it has ended; nil before.
	FinalCost *DisplayCost
	// QRCode is text to show as a QR code; empty for none.
	QRCode string
	// Offline says the back end is unreachable.
	Offline bool
}

// DisplayUpdate changes what connectors show; a nil field leaves its value
// as it is.
type DisplayUpdate struct {
	Language         *string
	PriceText        *string
	OfflinePriceText *string
	// RunningCost is the back end's running cost of the connector's
	// session; ignored without a session.
	RunningCost *DisplayCost
	// FinalCost is the back end's final cost of the connector's last
	// session.
	FinalCost *DisplayCost
	QRCode    *string
}

// pricing is a connector's display and pricing state; nil until an adapter
// sets something or a tariff is known (most fleet connectors never do).
type pricing struct {
	tariff                      *tariff.Tariff // the connector's own, for its session; nil: the station's default
	language, text, offlineText string
	qr                          string
	// engine prices the running session (engineFor is its id).
	engine    *tariff.Session
	engineFor string
	// backend is the back end's running cost, and backendBase what the
	// engine had computed when it came.
	backend     *DisplayCost
	backendBase tariff.Money
	// final is the back end's final cost; localFinal the engine's.
	final, localFinal *DisplayCost
	// shown is what the hal.Display was last given.
	shown    hal.Screen
	shownSet bool
}

// UpdateDisplay changes what connector (0 = every connector) shows.
func (s *Station) UpdateDisplay(ctx context.Context, connector int, u DisplayUpdate) error {
	return s.call(ctx, func(l *loop, done func(error)) {
		conns, err := l.connsFor(connector)
		if err == nil {
			for _, c := range conns {
				l.updateDisplay(c, u)
			}
		}
		done(err)
	})
}

// SetTariff sets the prices of connector's session (the running one from
// now on, else the next one) for the station's own cost estimate; nil goes
// back to the default. Connector 0 sets the default, which prices every
// session without a tariff of its own; nil removes it. A connector's own
// tariff lasts until its session ends.
func (s *Station) SetTariff(ctx context.Context, connector int, t *tariff.Tariff) error {
	if t != nil {
		if err := t.Validate(); err != nil {
			return err
		}
		cp := *t
		t = &cp
	}
	return s.call(ctx, func(l *loop, done func(error)) {
		if connector == 0 {
			l.defaultTariff = t
			for _, c := range l.conns {
				if c.price == nil || c.price.tariff == nil {
					l.retariff(c)
				}
			}
			done(nil)
			return
		}
		c := l.conn(connector)
		if c == nil {
			done(ErrNoConnector)
			return
		}
		l.pricingOf(c).tariff = t
		l.retariff(c)
		done(nil)
	})
}

// SetOnline tells the station whether its back end is reachable: offline,
// displays show the offline price text and the station's own running cost.
func (s *Station) SetOnline(ctx context.Context, online bool) error {
	return s.call(ctx, func(l *loop, done func(error)) {
		if l.offline != !online {
			l.offline = !online
			for _, c := range l.conns {
				l.refreshDisplay(c)
			}
		}
		done(nil)
	})
}

// connsFor returns connector n, or every connector for 0.
func (l *loop) connsFor(n int) ([]*conn, error) {
	if n == 0 {
		return l.conns, nil
	}
	c := l.conn(n)
	if c == nil {
		return nil, ErrNoConnector
	}
	return []*conn{c}, nil
}

// pricingOf returns c's pricing state, making it on first use; it takes
// over what c.bare says (see bareState).
func (l *loop) pricingOf(c *conn) *pricing {
	if c.price == nil {
		c.price = &pricing{}
		if c.bare == bareOnline || c.bare == bareOffline {
			c.price.shown, c.price.shownSet = c.bareScreen(), true
		}
		c.bare = bareNone
	}
	return c.price
}

// bareState stands for a pricing state that holds nothing but what the
// display was last given, while c.price is nil: with nothing set, a screen
// has nothing but the connector and the offline flag. Adapters set empty
// texts at every boot and displays go offline with the back end, so most
// connectors of the fleet simulator would otherwise carry an empty pricing
// for the sake of a flag.
type bareState uint8

const (
	bareNone    bareState = iota // no pricing state at all: no DriverDisplay, the display blank
	bareEmpty                    // an empty one, nothing shown yet
	bareOnline                   // an empty one that showed the screen with Offline false
	bareOffline                  // an empty one that showed the screen with Offline true
)

// bareScreen is the screen of an empty pricing state.
func (c *conn) bareScreen() hal.Screen {
	return hal.Screen{Connector: c.id, Offline: c.bare == bareOffline}
}

// emptyUpdate reports whether u leaves an empty pricing state of c empty.
func emptyUpdate(c *conn, u DisplayUpdate) bool {
	empty := func(v *string) bool { return v == nil || *v == "" }
	return empty(u.Language) && empty(u.PriceText) && empty(u.OfflinePriceText) && empty(u.QRCode) &&
		(u.RunningCost == nil || c.sess == nil) && u.FinalCost == nil
}

func (l *loop) updateDisplay(c *conn, u DisplayUpdate) {
	if c.price == nil && emptyUpdate(c, u) {
		if c.bare == bareNone {
			c.bare = bareEmpty
		}
		l.refreshDisplay(c)
		return
	}
	p := l.pricingOf(c)
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.language, u.Language)
	set(&p.text, u.PriceText)
	set(&p.offlineText, u.OfflinePriceText)
	set(&p.qr, u.QRCode)
	if u.RunningCost != nil && c.sess != nil {
		rc := *u.RunningCost
		rc.Estimated = false
		p.backend = &rc
		if e := l.engine(c); e != nil {
			e.Update(l.s.opts.Clock.Now(), c.reading.EnergyImport)
			p.backendBase = e.Cost().Total
		}
	}
	if u.FinalCost != nil {
		fc := *u.FinalCost
		fc.Estimated = false
		p.final = &fc
	}
	l.refreshDisplay(c)
}

// tariffOf is the tariff that prices c's session; nil when none is known.
func (l *loop) tariffOf(c *conn) *tariff.Tariff {
	if c.price != nil && c.price.tariff != nil {
		return c.price.tariff
	}
	return l.defaultTariff
}

// engine returns the pricing of c's running session, starting it (from the
// session's start, so that a tariff that came late still prices all of it)
// when a tariff is known; nil without a session or a tariff.
func (l *loop) engine(c *conn) *tariff.Session {
	if c.sess == nil {
		return nil
	}
	if c.price != nil && c.price.engine != nil && c.price.engineFor == c.sess.id {
		return c.price.engine
	}
	t := l.tariffOf(c)
	if t == nil {
		return nil
	}
	p := l.pricingOf(c)
	p.engine = tariff.NewSession(*t, l.s.opts.Location, c.sess.startedAt, c.sess.meterStart(), costState(c.status))
	p.engineFor = c.sess.id
	p.engine.Update(l.s.opts.Clock.Now(), c.reading.EnergyImport)
	return p.engine
}

// retariff adopts a changed tariff for c's running session.
func (l *loop) retariff(c *conn) {
	if c.sess == nil || c.price == nil || c.price.engine == nil || c.price.engineFor != c.sess.id {
		l.engine(c)
		l.refreshDisplay(c)
		return
	}
	if t := l.tariffOf(c); t != nil {
		c.price.engine.SetTariff(l.s.opts.Clock.Now(), *t)
	}
	l.refreshDisplay(c)
}

// costState is the tariff state of a session in status s: only Charging
// counts as charging time.
func costState(s Status) tariff.State {
	if s == Charging {
		return tariff.Charging
	}
	return tariff.Idle
}

// priceSessionStarted forgets the last driver's costs and QR code.
func (l *loop) priceSessionStarted(c *conn) {
	if p := c.price; p != nil {
		p.backend, p.final, p.localFinal, p.qr, p.backendBase = nil, nil, nil, "", 0
	}
	l.engine(c)
	l.refreshDisplay(c)
}

// priceSessionEnded keeps the station's final cost of c's session, which
// is still c.sess, ended at now with the register at stop.
func (l *loop) priceSessionEnded(c *conn, now time.Time, stop meter.Energy) {
	e := l.engine(c)
	p := c.price
	if p == nil {
		return
	}
	if e != nil {
		e.Update(now, stop)
		cost := l.estimate(c, e)
		p.localFinal = &cost
	}
	p.engine, p.engineFor, p.backend, p.tariff = nil, "", nil, nil
}

// priceReading prices c's session up to the latest reading.
func (l *loop) priceReading(c *conn) {
	if e := l.engine(c); e != nil {
		e.Update(l.s.opts.Clock.Now(), c.reading.EnergyImport)
		l.refreshDisplay(c)
	}
}

// priceStatus prices the time so far in the old state and what follows in
// the one of c's new status.
func (l *loop) priceStatus(c *conn) {
	if e := l.engine(c); e != nil {
		e.Update(l.s.opts.Clock.Now(), c.reading.EnergyImport)
		e.SetState(l.s.opts.Clock.Now(), costState(c.status))
	}
	l.refreshDisplay(c)
}

// estimate is the station's running cost of c's session: the back end's
// last cost plus what the engine computed since, or the engine's alone.
func (l *loop) estimate(c *conn, e *tariff.Session) DisplayCost {
	cost := e.Cost()
	out := DisplayCost{Amount: cost.Total, Currency: cost.Currency, Estimated: true, At: l.s.opts.Clock.Now()}
	if b := c.price.backend; b != nil {
		out.Amount = b.Amount + max(cost.Total-c.price.backendBase, 0)
		if b.Currency != "" {
			out.Currency = b.Currency
		}
	}
	return out
}

// driverDisplay is what c shows now; nil when nothing is known.
func (l *loop) driverDisplay(c *conn) *DriverDisplay {
	p := c.price
	if p == nil {
		if c.bare == bareNone {
			return nil
		}
		// An empty pricing state (see bareState): what a pricing made
		// for it would show, nothing but the offline flag.
		p = &pricing{}
	}
	d := &DriverDisplay{Language: p.language, PriceText: p.text, QRCode: p.qr, Offline: l.offline}
	if l.offline && p.offlineText != "" {
		d.PriceText = p.offlineText
	}
	if c.sess != nil {
		switch e := l.engine(c); {
		case p.backend != nil && !l.offline, p.backend != nil && e == nil:
			rc := *p.backend
			d.RunningCost = &rc
		case e != nil:
			rc := l.estimate(c, e)
			d.RunningCost = &rc
		}
	} else {
		switch {
		case p.final != nil:
			fc := *p.final
			d.FinalCost = &fc
		case p.localFinal != nil:
			fc := *p.localFinal
			d.FinalCost = &fc
		}
	}
	return d
}

// refreshDisplay hands c's hal.Display what it should show, if that
// changed.
func (l *loop) refreshDisplay(c *conn) {
	if c.hw().Display == nil {
		return
	}
	if c.price == nil {
		want := bareOnline
		if l.offline {
			want = bareOffline
		}
		if c.bare == want || c.bare == bareNone && !l.offline {
			// Shown already, or no pricing state and online: nothing to
			// show, the display stays blank.
			return
		}
		c.bare = want
		l.show(c, c.bareScreen())
		return
	}
	scr := hal.Screen{Connector: c.id, Offline: l.offline}
	if d := l.driverDisplay(c); d != nil {
		scr.Language, scr.PriceText, scr.QRCode = d.Language, d.PriceText, d.QRCode
		switch {
		case d.RunningCost != nil:
			scr.Cost, scr.Estimated = d.RunningCost.String(), d.RunningCost.Estimated
		case d.FinalCost != nil:
			scr.Cost, scr.Estimated, scr.Final = d.FinalCost.String(), d.FinalCost.Estimated, true
		}
	}
	p := l.pricingOf(c)
	if p.shownSet && p.shown == scr {
		return
	}
	p.shown, p.shownSet = scr, true
	l.show(c, scr)
}

// show hands scr to c's display, off the loop.
func (l *loop) show(c *conn, scr hal.Screen) {
	if l.s.screens.push(c.hw().Display, scr, l.s.showScreens) {
		l.displaysInFlight++
	}
}

// screenQueue hands screens to the displays off the loop, since a bus
// transfer may take milliseconds: one goroutine, while some are waiting,
// shows the latest screen of each connector.
type screenQueue struct {
	mu      sync.Mutex // guards the fields below
	pending []pendingScreen
	running bool
}

type pendingScreen struct {
	d   hal.Display
	scr hal.Screen
}

// push queues scr for d, replacing an older screen of the same connector
// still waiting, and starts drain unless it runs. It reports whether the
// screen was added rather than replacing one.
func (q *screenQueue) push(d hal.Display, scr hal.Screen, drain func()) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := range q.pending {
		if q.pending[i].d == d && q.pending[i].scr.Connector == scr.Connector {
			q.pending[i].scr = scr
			return false
		}
	}
	q.pending = append(q.pending, pendingScreen{d, scr})
	if !q.running {
		q.running = true
		go drain()
	}
	return true
}

// pop takes the oldest waiting screen; false (and the drain ends) when
// none waits.
func (q *screenQueue) pop() (pendingScreen, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		q.running = false
		return pendingScreen{}, false
	}
	p := q.pending[0]
	q.pending = q.pending[1:]
	if len(q.pending) == 0 {
		// An empty slice of the old array would keep it (and the
		// screens' strings) for as long as the station runs.
		q.pending = nil
	}
	return p, true
}

// showScreens is the drain of s.screens.
func (s *Station) showScreens() {
	defer s.haltOnPanic()
	for {
		p, ok := s.screens.pop()
		if !ok {
			return
		}
		if err := p.d.Show(p.scr); err != nil {
			s.logger().Warn("station: display", "connector", p.scr.Connector, "err", err)
		}
		s.post(func(l *loop) { l.displaysInFlight-- })
	}
}
