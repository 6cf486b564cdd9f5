package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/ocppclient/ocpptest"
)

// silentPing is the WebSocketPingInterval of the silentdrop drill, in
// seconds: the agent must notice a dead path within two of them (one ping
// unanswered, checked at the next tick).
const silentPing = 2

// runSilentDrop makes the path to the CSMS go silent (no FIN, no RST) while
// sessions run, and checks that the agent notices within its ping budget,
// reconnects through a fresh connection once the path is back, and loses no
// transaction message across it.
func runSilentDrop(ctx context.Context, e *env) result {
	r := result{cycles: e.cycles}
	rng := rand.New(rand.NewPCG(uint64(e.seed), 2))
	csms, err := ocpptest.Start(ocpptest.Options{})
	if err != nil {
		r.failures = append(r.failures, err.Error())
		return r
	}
	defer csms.Stop()
	u, _ := url.Parse(csms.URL())
	px, err := startProxy(u.Host)
	if err != nil {
		r.failures = append(r.failures, err.Error())
		return r
	}
	defer px.close()
	const cp = "CPSILENT"
	dir := filepath.Join(e.tmp, "silentdrop")
	a, err := newAgent(e, dir, agentConfig{
		id: cp, dataDir: filepath.Join(dir, "data"), csmsURL: "ws://" + px.addr() + u.Path, free: true,
		ocppKeys: map[string]string{"WebSocketPingInterval": strconv.Itoa(silentPing)},
	})
	if err != nil {
		r.failures = append(r.failures, err.Error())
		return r
	}
	fail := func(format string, args ...any) { r.failures = append(r.failures, fmt.Sprintf(format, args...)) }
	if err := a.start(ctx); err != nil {
		fail("start: %v", err)
		return r
	}
	registered := func(st localapi.Status) bool {
		return st.Station.OCPP.Connected && st.Station.OCPP.Registration == "Accepted"
	}
	if _, err := a.waitStatus(ctx, "registration", registered); err != nil {
		fail("%v", err)
		return r
	}
	// Connector 1 charges through every drop, so samples are in flight
	// when the path dies; connector 2 starts and ends a session inside
	// each drop.
	plugCharge := func(n int) {
		_ = a.do(ctx, func(ctx context.Context, c *localapi.Client) error { return c.Plug(ctx, n) })
		_ = a.do(ctx, func(ctx context.Context, c *localapi.Client) error { return c.Charge(ctx, n) })
	}
	plugCharge(1)
	budget := 2*silentPing*time.Second + time.Second
	var worstDetect, worstReconnect time.Duration
	for i := 0; i < e.cycles && ctx.Err() == nil; i++ {
		// Seeded: where in the ping period the path dies.
		time.Sleep(time.Second + time.Duration(rng.Int64N(int64(silentPing*time.Second))))
		for len(px.agentClosed) > 0 {
			<-px.agentClosed
		}
		before := px.acceptCount()
		t0 := time.Now()
		px.setBlackhole(true, nil)
		go plugCharge(2)

		// Detection: the agent closes its side of the dead connection
		// and reports itself offline.
		var detect time.Duration
		select {
		case at := <-px.agentClosed:
			detect = at.Sub(t0)
		case <-time.After(waitLimit):
			fail("cycle %d: the agent never dropped the silent connection", i)
			px.setBlackhole(false, nil)
			return r
		}
		if _, err := a.waitStatus(ctx, "offline", func(st localapi.Status) bool { return !st.Station.OCPP.Connected }); err != nil {
			fail("cycle %d: %v", i, err)
		}
		if detect > budget {
			fail("cycle %d: silence noticed after %v, budget %v", i, detect.Round(time.Millisecond), budget)
		}
		worstDetect = max(worstDetect, detect)
		_ = a.do(ctx, func(ctx context.Context, c *localapi.Client) error { return c.Unplug(ctx, 2) })

		// The path comes back: the agent must reconnect on a new
		// connection (the dead one never forwards again).
		time.Sleep(time.Duration(rng.Int64N(int64(time.Second))))
		t1 := time.Now()
		px.setBlackhole(false, func() {
			csms.WaitFor(10*time.Second, func([]ocpptest.Record) bool { return !csms.Connected(cp) })
		})
		if _, err := a.waitStatus(ctx, "reconnection", registered); err != nil {
			fail("cycle %d: %v", i, err)
			return r
		}
		reconnect := time.Since(t1)
		worstReconnect = max(worstReconnect, reconnect)
		if px.acceptCount() == before {
			fail("cycle %d: registered again without a new connection", i)
		}
		e.note("silentdrop cycle %d: noticed after %v, registered %v after the path came back",
			i, detect.Round(time.Millisecond), reconnect.Round(time.Millisecond))
	}
	a.unplugAll(ctx, simConnectors)
	if err := a.drained(ctx); err != nil {
		fail("%v", err)
	}
	if err := a.stop(); err != nil {
		fail("SIGTERM: %v", err)
	}
	counts, fails := ledger(csms, cp, parseLog(a.logText()))
	r.ledger, r.sessions = counts, counts.expStart
	r.failures = append(r.failures, fails...)
	r.detail = fmt.Sprintf("ping=%ds detect_max=%v (budget %v) reconnect_max=%v",
		silentPing, worstDetect.Round(time.Millisecond), budget, worstReconnect.Round(time.Millisecond))
	return r
}
