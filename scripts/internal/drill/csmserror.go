package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"time"

	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/ocppclient/ocpptest"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"go.etcd.io/bbolt"
)

// retryInterval is the drill's TransactionMessageRetryInterval: the wait
// after the n-th CALLERROR of a queued message is n times it.
const retryInterval = time.Second

// runCSMSError runs sessions against a CSMS that first answers every call
// with a CALLERROR and then answers nothing at all, each for half of the
// window, then recovers. The agent must back off as configured, lose
// nothing, and not grow in memory.
func runCSMSError(ctx context.Context, e *env) result {
	r := result{cycles: e.cycles}
	window, every := 10*time.Minute, 5*time.Second
	if e.quick {
		window, every = 60*time.Second, 2*time.Second
	}
	rng := rand.New(rand.NewPCG(uint64(e.seed), 4))
	fail := func(format string, args ...any) { r.failures = append(r.failures, fmt.Sprintf(format, args...)) }
	csms, err := ocpptest.Start(ocpptest.Options{})
	if err != nil {
		fail("%v", err)
		return r
	}
	defer csms.Stop()
	const cp = "CPERR"
	dir := filepath.Join(e.tmp, "csmserror")
	data := filepath.Join(dir, "data")
	a, err := newAgent(e, dir, agentConfig{
		id: cp, dataDir: data, csmsURL: csms.URL(), free: true,
		ocppKeys: map[string]string{
			"TransactionMessageRetryInterval": fmt.Sprint(int(retryInterval / time.Second)),
			// Enough attempts that no message is dead-lettered within
			// the window (the default, 3, gives up after ~6 s of
			// CALLERRORs by design, and the drill would count those as
			// lost).
			"TransactionMessageAttempts": "100",
		},
	})
	if err != nil {
		fail("%v", err)
		return r
	}
	if err := a.start(ctx); err != nil {
		fail("start: %v", err)
		return r
	}
	if _, err := a.waitStatus(ctx, "registration", func(st localapi.Status) bool {
		return st.Station.OCPP.Registration == "Accepted"
	}); err != nil {
		fail("%v", err)
		return r
	}
	do := func(f func(ctx context.Context, c *localapi.Client) error) { _ = a.do(ctx, f) }
	do(func(ctx context.Context, c *localapi.Client) error { return c.Plug(ctx, 1) })
	do(func(ctx context.Context, c *localapi.Client) error { return c.Charge(ctx, 1) })

	pid := a.pid()
	var rss []int
	var rssAt []time.Duration
	begin := time.Now()
	failFrom, silentFrom := begin, begin.Add(window/2)
	csms.SetFailAll(true)
	silent := false
	nextSample := begin
	nextToggle := begin.Add(time.Duration(rng.Int64N(int64(10 * time.Second))))
	plugged := false
	for time.Since(begin) < window && ctx.Err() == nil {
		now := time.Now()
		if !silent && now.After(silentFrom) {
			csms.SetFailAll(false)
			csms.SetSilent(true)
			silent = true
		}
		if now.After(nextSample) {
			if kib, err := rssKiB(pid); err == nil {
				rss = append(rss, kib)
				rssAt = append(rssAt, now.Sub(begin))
			}
			nextSample = nextSample.Add(every)
		}
		// Connector 2 starts and ends sessions at seeded moments, so
		// Starts and Stops queue up behind the refused messages.
		if now.After(nextToggle) {
			if plugged {
				do(func(ctx context.Context, c *localapi.Client) error { return c.Unplug(ctx, 2) })
			} else {
				do(func(ctx context.Context, c *localapi.Client) error { return c.Plug(ctx, 2) })
				do(func(ctx context.Context, c *localapi.Client) error { return c.Charge(ctx, 2) })
			}
			plugged = !plugged
			nextToggle = now.Add(2*time.Second + time.Duration(rng.Int64N(int64(10*time.Second))))
		}
		if !a.running() {
			fail("the agent exited during the window")
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
	st, _ := a.status(ctx)
	queuedAtEnd := st.Station.OCPP.Queued

	// Recovery.
	csms.SetSilent(false)
	a.unplugAll(ctx, simConnectors)
	if err := a.drained(ctx); err != nil {
		fail("after recovery: %v", err)
	}
	if err := a.stop(); err != nil {
		fail("SIGTERM: %v", err)
	}
	dead, err := deadLetters(filepath.Join(data, "evsed.db"))
	if err != nil {
		fail("read dead letters: %v", err)
	}
	if dead > 0 {
		fail("%d entries in the dead-letter bucket", dead)
	}
	log := parseLog(a.logText())
	counts, fails := ledger(csms, cp, log)
	r.ledger, r.sessions = counts, counts.expStart
	r.failures = append(r.failures, fails...)

	gaps := backoffGaps(csms.Records(), cp, failFrom, silentFrom)
	for k, g := range gaps {
		// The n-th wait is n*retryInterval; allow for scheduling.
		if want := time.Duration(k+1) * retryInterval; g < want*8/10 {
			fail("CALLERROR back-off: wait %d was %v, want about %v", k+1, g.Round(10*time.Millisecond), want)
			break
		}
	}
	first, last, peak, slope := rssSummary(rss, rssAt)
	if peak > 2*first+16<<10 {
		fail("RSS grew from %d to %d KiB", first, peak)
	}
	r.detail = fmt.Sprintf("window=%v callerror_backoff=[%s] queued_at_end=%d dead_letters=%d rss_kib first=%d last=%d max=%d slope=%+.0fKiB/min samples=%d",
		window, fmtGaps(gaps), queuedAtEnd, dead, first, last, peak, slope, len(rss))
	return r
}

// backoffGaps returns the waits between the CALLERROR'd attempts of the
// queued message the CSMS saw most often between from and to.
func backoffGaps(recs []ocpptest.Record, cp string, from, to time.Time) []time.Duration {
	attempts := map[string][]time.Time{}
	best := ""
	for _, r := range recs {
		if r.ChargePoint != cp || r.At.Before(from) || r.At.After(to) {
			continue
		}
		var key string
		switch req := r.Request.(type) {
		case *core.MeterValuesRequest:
			if req.TransactionId == nil || len(req.MeterValue) == 0 {
				continue
			}
			key = fmt.Sprintf("mv|%d|%s", *req.TransactionId, stamp(req.MeterValue[0].Timestamp))
		case *core.StopTransactionRequest:
			key = fmt.Sprintf("stop|%d", req.TransactionId)
		default:
			if r.Action != core.StartTransactionFeatureName {
				continue
			}
			s, _ := ocpptest.StartRequest(r)
			key = fmt.Sprintf("start|%d|%s", s.ConnectorId, stamp(s.Timestamp))
		}
		attempts[key] = append(attempts[key], r.At)
		if len(attempts[key]) > len(attempts[best]) {
			best = key
		}
	}
	var gaps []time.Duration
	a := attempts[best]
	for i := 1; i < len(a); i++ {
		gaps = append(gaps, a[i].Sub(a[i-1]))
	}
	return gaps
}

func fmtGaps(gaps []time.Duration) string {
	s := make([]string, len(gaps))
	for i, g := range gaps {
		s[i] = fmt.Sprintf("%.1fs", g.Seconds())
	}
	return strings.Join(s, " ")
}

// rssSummary returns the first, last and largest sample and the
// least-squares slope in KiB per minute.
func rssSummary(kib []int, at []time.Duration) (first, last, peak int, slope float64) {
	if len(kib) == 0 {
		return 0, 0, 0, 0
	}
	first, last = kib[0], kib[len(kib)-1]
	var sx, sy, sxx, sxy float64
	for i, v := range kib {
		peak = max(peak, v)
		x, y := at[i].Minutes(), float64(v)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	n := float64(len(kib))
	if d := n*sxx - sx*sx; d > 0 {
		slope = (n*sxy - sx*sy) / d
	}
	return first, last, peak, slope
}

// deadLetters counts the entries in the queue's dead-letter bucket of a
// stopped agent's database (layout: queue/dead, see ocppclient.Queue).
func deadLetters(path string) (int, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	n := 0
	err = db.View(func(tx *bbolt.Tx) error {
		top := tx.Bucket([]byte("queue"))
		if top == nil {
			return nil
		}
		if dead := top.Bucket([]byte("dead")); dead != nil {
			n = dead.Stats().KeyN
		}
		return nil
	})
	return n, err
}
