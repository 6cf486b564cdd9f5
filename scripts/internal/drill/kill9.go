package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"time"

	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/ocppclient/ocpptest"
)

// simConnectors is the number of connectors of the built-in sim board.
const simConnectors = 2

// runKill9 kills `evsed run` with SIGKILL at a seeded random moment of every
// cycle while simulated EVs plug in, charge and leave and the CSMS goes down
// and comes back at seeded moments; at the end, with the CSMS up and the
// queue drained, the CSMS must hold every session once.
func runKill9(ctx context.Context, e *env) result {
	r := result{cycles: e.cycles}
	rng := rand.New(rand.NewPCG(uint64(e.seed), 9))
	csms, err := ocpptest.Start(ocpptest.Options{})
	if err != nil {
		r.failures = append(r.failures, err.Error())
		return r
	}
	defer csms.Stop()
	dir := filepath.Join(e.tmp, "kill9")
	a, err := newAgent(e, dir, agentConfig{
		id: "CPKILL9", dataDir: filepath.Join(dir, "data"), csmsURL: csms.URL(), free: true,
	})
	if err != nil {
		r.failures = append(r.failures, err.Error())
		return r
	}
	csmsUp, outages := true, 0
	for i := 0; i < e.cycles && ctx.Err() == nil; i++ {
		if err := a.start(ctx); err != nil {
			r.failures = append(r.failures, fmt.Sprintf("cycle %d: %v", i, err))
			return r
		}
		// A cycle is a second or two: a schedule of EV actions and CSMS
		// outages, cut short by the kill.
		length := 500*time.Millisecond + time.Duration(rng.Int64N(int64(1500*time.Millisecond)))
		killAt := time.Duration(rng.Int64N(int64(length)))
		type step struct {
			at time.Duration
			do func()
		}
		var steps []step
		var plugs []time.Duration
		api := func(f func(ctx context.Context, c *localapi.Client) error) func() {
			return func() { _ = a.do(ctx, f) }
		}
		for n := 1; n <= simConnectors; n++ {
			if rng.Float64() < 0.8 {
				plugAt := time.Duration(rng.Int64N(int64(length)))
				plugs = append(plugs, plugAt)
				steps = append(steps,
					step{plugAt, api(func(ctx context.Context, c *localapi.Client) error { return c.Plug(ctx, n) })},
					step{plugAt + 50*time.Millisecond, api(func(ctx context.Context, c *localapi.Client) error { return c.Charge(ctx, n) })})
				if rng.Float64() < 0.4 {
					unplugAt := plugAt + time.Duration(rng.Int64N(int64(length)))
					steps = append(steps, step{unplugAt, api(func(ctx context.Context, c *localapi.Client) error { return c.Unplug(ctx, n) })})
				}
			}
		}
		if rng.Float64() < 0.15 {
			steps = append(steps, step{time.Duration(rng.Int64N(int64(length))), func() {
				if csmsUp {
					csms.Stop()
					outages++
				} else if err := csms.Restart(); err != nil {
					r.failures = append(r.failures, "csms restart: "+err.Error())
				}
				csmsUp = !csmsUp
			}})
		}
		// A third of the kills aim at the few milliseconds after a plug-in,
		// where a session's start is being made durable: the narrowest
		// windows are where power cuts find bugs.
		if len(plugs) > 0 && rng.Float64() < 0.35 {
			killAt = plugs[rng.IntN(len(plugs))] + time.Duration(rng.Int64N(int64(80*time.Millisecond)))
		}
		steps = append(steps, step{killAt, a.kill})
		sort.SliceStable(steps, func(i, j int) bool { return steps[i].at < steps[j].at })
		begin := time.Now()
		for _, s := range steps {
			time.Sleep(time.Until(begin.Add(s.at)))
			if !a.running() && s.at > killAt {
				break
			}
			s.do()
		}
		a.kill()
		e.note("kill9 cycle %d: killed at %v of %v, csms up=%v", i, killAt.Round(time.Millisecond), length.Round(time.Millisecond), csmsUp)
	}
	if !csmsUp {
		if err := csms.Restart(); err != nil {
			r.failures = append(r.failures, "csms restart: "+err.Error())
			return r
		}
	}
	// The last run: the sessions cut by the last kill end (PowerLoss) and
	// everything queued drains.
	if err := a.start(ctx); err != nil {
		r.failures = append(r.failures, "final start: "+err.Error())
		return r
	}
	if err := a.drained(ctx); err != nil {
		r.failures = append(r.failures, err.Error())
	}
	if err := a.stop(); err != nil {
		r.failures = append(r.failures, "SIGTERM: "+err.Error())
	}
	log := parseLog(a.logText())
	counts, fails := ledger(csms, "CPKILL9", log)
	r.ledger, r.sessions = counts, counts.expStart
	r.failures = append(r.failures, fails...)
	r.detail = fmt.Sprintf("csms_outages=%d sessions_not_durable=%d", outages, max(0, len(log.started)-counts.expStart))
	return r
}
