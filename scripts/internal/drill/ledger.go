package main

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/evsed/evsed/ocppclient/ocpptest"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
)

// ledgerCounts compares what the agent queued with what the CSMS holds, per
// transaction message kind.
type ledgerCounts struct {
	// Expected: entries the agent logged as durably queued ("ocpp16
	// queued", which it logs after the fsync).
	expStart, expMeter, expStop int
	// Received: distinct messages at the CSMS, duplicates from
	// at-least-once delivery removed.
	gotStart, gotMeter, gotStop int
	// Dup: copies beyond the first.
	dupStart, dupMeter, dupStop int
}

func (l ledgerCounts) expected() int   { return l.expStart + l.expMeter + l.expStop }
func (l ledgerCounts) received() int   { return l.gotStart + l.gotMeter + l.gotStop }
func (l ledgerCounts) duplicated() int { return l.dupStart + l.dupMeter + l.dupStop }

// lost counts, per kind, the expected messages that did not arrive. More
// received than expected is possible and not a loss: a kill -9 between the
// fsync and the log line leaves an entry queued but unlogged.
func (l ledgerCounts) lost() int {
	return max(0, l.expStart-l.gotStart) + max(0, l.expMeter-l.gotMeter) + max(0, l.expStop-l.gotStop)
}

// agentLog is what the agent's logs say it did.
type agentLog struct {
	// queued maps a queued entry's seq to its action and session.
	queued map[uint64]queuedEntry
	// started lists the sessions the station started, in order.
	started []string
	// abandoned counts transaction messages moved to the dead-letter bucket.
	abandoned int
	// panics counts Go panics and fatal runtime errors in the logs.
	panics int
}

type queuedEntry struct{ action, session string }

// logAttr matches one key=value pair of slog's text format.
var logAttr = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S*)`)

// parseLog reads the agent's text logs.
func parseLog(text string) agentLog {
	out := agentLog{queued: map[uint64]queuedEntry{}}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "fatal error:") {
			out.panics++
			continue
		}
		if !strings.Contains(line, "msg=") {
			continue
		}
		attrs := map[string]string{}
		for _, m := range logAttr.FindAllStringSubmatch(line, -1) {
			v := m[2]
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
			attrs[m[1]] = v
		}
		switch attrs["msg"] {
		case "ocpp16 queued":
			seq, err := strconv.ParseUint(attrs["seq"], 10, 64)
			if err == nil {
				out.queued[seq] = queuedEntry{attrs["action"], attrs["session"]}
			}
		case "station: session started":
			out.started = append(out.started, attrs["session"])
		case "ocpp16 transaction message abandoned after repeated CALLERRORs; kept in the dead-letter bucket":
			out.abandoned++
		}
	}
	return out
}

// ledger checks the CSMS's record of charge point cp against the agent's
// log: every session once started and once stopped, every sample once,
// energy never going back, every transaction id one the CSMS assigned.
// Duplicates (same content) are counted, not failed. It returns the counts
// and the failures found.
func ledger(csms *ocpptest.CSMS, cp string, log agentLog) (ledgerCounts, []string) {
	var l ledgerCounts
	var fail []string
	failf := func(format string, args ...any) {
		if len(fail) < 10 {
			fail = append(fail, fmt.Sprintf(format, args...))
		} else if len(fail) == 10 {
			fail = append(fail, "...")
		}
	}

	// Expected, from the agent's side.
	startOf, stopOf := map[string]bool{}, map[string]bool{}
	for _, q := range log.queued {
		switch q.action {
		case core.StartTransactionFeatureName:
			l.expStart++
			startOf[q.session] = true
		case core.MeterValuesFeatureName:
			l.expMeter++
		case core.StopTransactionFeatureName:
			l.expStop++
			stopOf[q.session] = true
		}
	}
	for s := range startOf {
		if !stopOf[s] {
			failf("session %s: StartTransaction queued, StopTransaction never queued", s)
		}
	}
	for s := range stopOf {
		if !startOf[s] {
			failf("session %s: StopTransaction queued without a StartTransaction", s)
		}
	}

	// Received: a StartTransaction sent twice (the agent died between the
	// answer and its ack) gets two ids for one session; group them.
	type txGroup struct {
		ids     []int
		stopKey string
		stop    *core.StopTransactionRequest
		samples []sample
	}
	groups := map[string]*txGroup{} // by start content
	groupOf := map[int]*txGroup{}   // by transaction id
	seenSample := map[string]bool{}
	seenStop := map[string]bool{}
	for _, r := range csms.Records() {
		if r.ChargePoint != cp {
			continue
		}
		if r.Refused {
			// Answered with a CALLERROR: not taken, and sent again.
			continue
		}
		switch r.Action {
		case core.StartTransactionFeatureName:
			req, id := ocpptest.StartRequest(r)
			key := fmt.Sprintf("c%d|%s|%d|%s", req.ConnectorId, req.IdTag, req.MeterStart, stamp(req.Timestamp))
			g := groups[key]
			if g == nil {
				g = &txGroup{}
				groups[key] = g
				l.gotStart++
			} else {
				l.dupStart++
			}
			g.ids = append(g.ids, id)
			groupOf[id] = g
		case core.MeterValuesFeatureName:
			req := r.Request.(*core.MeterValuesRequest)
			if req.TransactionId == nil {
				continue // an idle sample, sent directly and not queued
			}
			g := groupOf[*req.TransactionId]
			if g == nil {
				failf("MeterValues for transaction %d, which no StartTransaction was given", *req.TransactionId)
				continue
			}
			for _, mv := range req.MeterValue {
				ctx := ""
				if len(mv.SampledValue) > 0 {
					ctx = string(mv.SampledValue[0].Context)
				}
				key := fmt.Sprintf("%d|%s|%s", g.ids[0], stamp(mv.Timestamp), ctx)
				if seenSample[key] {
					l.dupMeter++
					continue
				}
				seenSample[key] = true
				l.gotMeter++
				if wh, ok := energyWh(mv); ok {
					g.samples = append(g.samples, sample{at: timeOf(mv.Timestamp), wh: wh})
				}
			}
		case core.StopTransactionFeatureName:
			req := r.Request.(*core.StopTransactionRequest)
			g := groupOf[req.TransactionId]
			if g == nil {
				failf("StopTransaction for transaction %d, which no StartTransaction was given", req.TransactionId)
				continue
			}
			key := fmt.Sprintf("%d|%d|%s|%s", g.ids[0], req.MeterStop, stamp(req.Timestamp), req.Reason)
			switch {
			case seenStop[key]:
				l.dupStop++
			case g.stop != nil:
				failf("transaction %v stopped twice with different content: %s and %s", g.ids, g.stopKey, key)
			default:
				seenStop[key] = true
				g.stop, g.stopKey = req, key
				l.gotStop++
			}
		}
	}
	for _, g := range groups {
		if g.stop == nil {
			failf("transaction %v has no StopTransaction", g.ids)
			continue
		}
		// Samples may arrive out of time order only if the queue broke
		// FIFO; sort anyway and check the register never goes back.
		sort.Slice(g.samples, func(i, j int) bool { return g.samples[i].at.Before(g.samples[j].at) })
		for i := 1; i < len(g.samples); i++ {
			if g.samples[i].wh+0.5 < g.samples[i-1].wh {
				failf("transaction %v: energy went back from %.1f to %.1f Wh", g.ids, g.samples[i-1].wh, g.samples[i].wh)
				break
			}
		}
		if n := len(g.samples); n > 0 && float64(g.stop.MeterStop)+1 < g.samples[n-1].wh {
			failf("transaction %v: meterStop %d below the last sample %.1f Wh", g.ids, g.stop.MeterStop, g.samples[n-1].wh)
		}
	}
	if log.abandoned > 0 {
		failf("%d transaction messages dead-lettered (not recovered)", log.abandoned)
	}
	if log.panics > 0 {
		failf("%d panics in the agent's logs", log.panics)
	}
	return l, fail
}

type sample struct {
	at time.Time
	wh float64
}

func stamp(t *types.DateTime) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func timeOf(t *types.DateTime) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

// energyWh returns the energy register of a meter value, in Wh.
func energyWh(mv types.MeterValue) (float64, bool) {
	for _, sv := range mv.SampledValue {
		if sv.Measurand != "" && sv.Measurand != types.MeasurandEnergyActiveImportRegister {
			continue
		}
		v, err := strconv.ParseFloat(sv.Value, 64)
		if err != nil {
			return 0, false
		}
		if sv.Unit == types.UnitOfMeasureKWh {
			v *= 1000
		}
		return v, true
	}
	return 0, false
}
