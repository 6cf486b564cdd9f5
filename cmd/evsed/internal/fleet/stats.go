package fleet

import (
	"context"
	"errors"
	"log/slog"
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/ocpp16"
)

// Actions counted separately; every other action counts as actionOther.
var countedActions = [...]string{
	ocpp16.ActionBootNotification,
	ocpp16.ActionHeartbeat,
	ocpp16.ActionStatusNotification,
	ocpp16.ActionAuthorize,
	ocpp16.ActionStartTransaction,
	ocpp16.ActionMeterValues,
	ocpp16.ActionStopTransaction,
}

const (
	actionOther = len(countedActions)
	numActions  = actionOther + 1
)

func actionIndex(action string) int {
	for i, a := range countedActions {
		if a == action {
			return i
		}
	}
	return actionOther
}

// numBuckets is the size of a latency histogram: 16 exact buckets for
// 0-15 µs, then 8 per power of two up to 2^63 µs (12.5 % wide).
const numBuckets = 16 + 60*8

// Histogram counts latencies in log-linear buckets of microseconds. The
// zero value is empty. It is a plain value: copying it takes a snapshot.
type Histogram [numBuckets]uint64

// bucket returns the bucket of a latency.
func bucket(d time.Duration) int {
	v := uint64(max(d, 0) / time.Microsecond)
	if v < 16 {
		return int(v)
	}
	e := bits.Len64(v) - 1 // 4..63
	m := (v >> (e - 3)) & 7
	return 16 + (e-4)*8 + int(m)
}

// upper returns the largest latency bucket i holds.
func upper(i int) time.Duration {
	if i < 16 {
		return time.Duration(i) * time.Microsecond
	}
	e := (i-16)/8 + 4
	m := uint64((i - 16) % 8)
	hi := (8+m+1)<<(e-3) - 1
	return time.Duration(hi) * time.Microsecond
}

// Count returns the number of latencies recorded.
func (h *Histogram) Count() uint64 {
	var n uint64
	for _, c := range h {
		n += c
	}
	return n
}

// Quantile returns the upper bound of the bucket holding the q-quantile
// (0 < q <= 1), or 0 when h is empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = min(max(rank, 1), n)
	var seen uint64
	for i, c := range h {
		seen += c
		if seen >= rank {
			return upper(i)
		}
	}
	return upper(numBuckets - 1)
}

// Sub returns the latencies recorded in h but not in earlier.
func (h *Histogram) Sub(earlier *Histogram) Histogram {
	var out Histogram
	for i := range h {
		out[i] = h[i] - earlier[i]
	}
	return out
}

// counters are the fleet's shared counters, updated with atomics from any
// goroutine.
type counters struct {
	calls      [numActions]atomic.Uint64 // answered with a CALLRESULT
	refused    [numActions]atomic.Uint64 // answered with a CALLERROR
	failed     [numActions]atomic.Uint64 // timed out or lost with the connection
	latency    [numBuckets]atomic.Uint64 // of CALLRESULTs and CALLERRORs
	warnings   atomic.Uint64
	plugs      atomic.Uint64
	swipes     atomic.Uint64
	unplugs    atomic.Uint64
	simErrors  atomic.Uint64
	started    atomic.Int64 // stations whose agent runs
	runErrors  atomic.Uint64
	firstError atomic.Pointer[string]
}

// onCall is every Client's ocppclient.Options.OnCall.
func (c *counters) onCall(d ocppclient.CallDone) {
	i := actionIndex(d.Action)
	var ce *ocppclient.CallError
	switch {
	case d.Err == nil:
		c.calls[i].Add(1)
	case errors.As(d.Err, &ce):
		c.refused[i].Add(1)
	default:
		c.failed[i].Add(1)
		return // no answer: no latency
	}
	c.latency[bucket(d.Latency)].Add(1)
}

// countingHandler counts log records at warning level and above (the
// fleet's "errors" figure) and passes on those its inner handler wants.
type countingHandler struct {
	inner slog.Handler
	n     *atomic.Uint64
}

// Enabled implements slog.Handler.
func (h countingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.inner.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.n.Add(1)
	}
	if h.inner.Enabled(ctx, r.Level) {
		return h.inner.Handle(ctx, r)
	}
	return nil
}

// WithAttrs implements slog.Handler.
func (h countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return countingHandler{h.inner.WithAttrs(as), h.n}
}

// WithGroup implements slog.Handler.
func (h countingHandler) WithGroup(name string) slog.Handler {
	return countingHandler{h.inner.WithGroup(name), h.n}
}

// ActionCounts are the outcomes of one action's CALLs.
type ActionCounts struct {
	Action string
	// OK were answered with a CALLRESULT, Refused with a CALLERROR; Failed
	// got no answer (timeout, connection lost).
	OK, Refused, Failed uint64
}

// Snapshot is what the fleet has seen so far. Counts are cumulative since
// Run started; compare two snapshots with Rates.
type Snapshot struct {
	At time.Time
	// Stations is the fleet's size; Started how many of them run (the
	// ramp-up starts them one by one).
	Stations, Started int
	// Connected stations have their websocket up; Registered ones also
	// have a BootNotification accepted.
	Connected, Registered int
	// Actions counts CALLs per action, in a fixed order; "Other" last.
	Actions []ActionCounts
	// Latency holds the round trips of answered CALLs.
	Latency Histogram
	// Plugs, Swipes and Unplugs count the scenario's steps played.
	Plugs, Swipes, Unplugs uint64
	// Warnings counts log records at warning level or above, from every
	// station; SimErrors counts scenario steps the simulated board refused.
	Warnings, SimErrors uint64
	// Goroutines is runtime.NumGoroutine at the snapshot.
	Goroutines int
}

// Action returns the counts of action ("Other" for the rest).
func (s Snapshot) Action(action string) ActionCounts {
	for _, a := range s.Actions {
		if a.Action == action {
			return a
		}
	}
	return ActionCounts{Action: action}
}

// Calls returns the CALLs completed (answered, refused or failed).
func (s Snapshot) Calls() uint64 {
	var n uint64
	for _, a := range s.Actions {
		n += a.OK + a.Refused + a.Failed
	}
	return n
}

// Errors returns CALLs refused or failed, plus warnings logged and steps
// the simulated board refused.
func (s Snapshot) Errors() uint64 {
	n := s.Warnings + s.SimErrors
	for _, a := range s.Actions {
		n += a.Refused + a.Failed
	}
	return n
}

// SessionsStarted returns the StartTransactions the CSMS acknowledged.
func (s Snapshot) SessionsStarted() uint64 {
	return s.Action(ocpp16.ActionStartTransaction).OK
}

// SessionsActive returns the sessions whose StartTransaction the CSMS
// acknowledged and whose StopTransaction it has not yet.
func (s Snapshot) SessionsActive() uint64 {
	started, stopped := s.SessionsStarted(), s.Action(ocpp16.ActionStopTransaction).OK
	if stopped > started {
		return 0
	}
	return started - stopped
}

// Rates are the figures of the interval between two snapshots.
type Rates struct {
	Interval time.Duration
	// CallsPerSecond counts CALLs completed in the interval.
	CallsPerSecond float64
	// P50 and P99 are the latency quantiles of the CALLs answered in the
	// interval; 0 when none was.
	P50, P99 time.Duration
}

// Rates returns the figures of the interval from earlier to s.
func (s Snapshot) Rates(earlier Snapshot) Rates {
	r := Rates{Interval: s.At.Sub(earlier.At)}
	if r.Interval > 0 {
		r.CallsPerSecond = float64(s.Calls()-earlier.Calls()) / r.Interval.Seconds()
	}
	h := s.Latency.Sub(&earlier.Latency)
	r.P50, r.P99 = h.Quantile(0.5), h.Quantile(0.99)
	return r
}
