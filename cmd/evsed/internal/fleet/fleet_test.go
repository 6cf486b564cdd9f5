package fleet

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/evsed/evsed/ocppclient/ocpptest"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"go.etcd.io/bbolt"
)

// testWait bounds the waits of these tests: it turns a hang into a failure
// and asserts nothing about speed.
const testWait = 60 * time.Second

func TestPlanIsDeterministic(t *testing.T) {
	sc := Scenario{PlugRate: 4}
	a, err := Plan(sc, 42, 3, 2, 2, 20)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Plan(sc, 42, 3, 2, 2, 20)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different plans:\n%v\n%v", a, b)
	}
	for _, other := range []struct {
		name                    string
		seed                    uint64
		index, connector, conns int
	}{
		{"other seed", 43, 3, 2, 2},
		{"other station", 42, 4, 2, 2},
		{"other connector", 42, 3, 1, 2},
	} {
		c, _ := Plan(sc, other.seed, other.index, other.connector, other.conns, 20)
		if slices.Equal(a, c) {
			t.Errorf("%s gives the same plan", other.name)
		}
	}
	def, _ := sc.withDefaults()
	for i, s := range a {
		if s.Swipe < def.SwipeMin || s.Swipe > def.SwipeMax || s.Charge < def.ChargeMin || s.Charge > def.ChargeMax || s.Idle < 0 {
			t.Errorf("session %d %+v outside the scenario's bounds", i, s)
		}
		if len(s.Tag) == 0 || len(s.Tag) > 20 {
			t.Errorf("session %d tag %q: want 1-20 characters", i, s.Tag)
		}
	}
}

// TestPlanRate checks that the idle times make the asked plug rate: over
// many sessions the mean cycle of a connector is Connectors/PlugRate hours,
// within 10 %.
func TestPlanRate(t *testing.T) {
	sc := Scenario{PlugRate: 3}
	plan, err := Plan(sc, 1, 0, 1, 2, 4000)
	if err != nil {
		t.Fatal(err)
	}
	var total time.Duration
	for _, s := range plan[1:] { // the first one starts mid-cycle
		total += s.Idle + s.Swipe + s.Charge
	}
	mean := total / time.Duration(len(plan)-1)
	want := 40 * time.Minute // 2 connectors / 3 per hour
	if mean < want*9/10 || mean > want*11/10 {
		t.Fatalf("mean cycle %v, want about %v", mean, want)
	}
}

func TestHistogram(t *testing.T) {
	prev := -1
	for d := time.Duration(0); d < 10*time.Second; d = d*11/10 + time.Microsecond {
		b := bucket(d)
		if b < prev {
			t.Fatalf("bucket(%v) = %d, below the previous %d", d, b, prev)
		}
		prev = b
		if u := upper(b); u < d.Truncate(time.Microsecond) || (b > 0 && upper(b-1) >= d.Truncate(time.Microsecond)) {
			t.Fatalf("%v in bucket %d with upper bound %v (previous %v)", d, b, u, upper(b-1))
		}
	}
	var h Histogram
	for i := 1; i <= 100; i++ {
		h[bucket(time.Duration(i)*time.Millisecond)]++
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}} {
		got := h.Quantile(c.q)
		if got < c.want || got > c.want*9/8 {
			t.Errorf("Quantile(%g) = %v, want %v within one bucket (12.5 %%)", c.q, got, c.want)
		}
	}
	if (&Histogram{}).Quantile(0.5) != 0 {
		t.Error("empty histogram has a median")
	}
}

// TestFleetAgainstCSMS runs 5 stations of 2 connectors against a real
// CSMS with a fast scenario of 2 sessions per connector, then checks the
// CSMS's records: every station registered, each StartTransaction has
// exactly one StopTransaction with its id, the id tags are the plan's, and
// the fleet's counts match what the CSMS recorded.
func TestFleetAgainstCSMS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs stations against a CSMS for seconds; skipped with -short")
	}
	csms, err := ocpptest.Start(ocpptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(csms.Stop)
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "fleet.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	const stations, conns, sessions, seed = 5, 2, 2, 7
	sc := Scenario{
		PlugRate: 3600, SwipeMin: 50 * time.Millisecond, SwipeMax: 300 * time.Millisecond,
		ChargeMin: 1500 * time.Millisecond, ChargeMax: 2500 * time.Millisecond, Sessions: sessions,
	}
	f, err := New(Options{
		CSMSURL: csms.URL(), Stations: stations, Connectors: conns, IDPrefix: "T", Seed: seed,
		Scenario: sc, Ramp: 200 * time.Millisecond, DB: db, DrainOnStop: 5 * time.Second,
		MeterReadInterval: 500 * time.Millisecond,
		OCPPKeys:          map[string]string{"MeterValueSampleInterval": "1", "ClockAlignedDataInterval": "0"},
		Logger:            slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := f.IDs()
	if want := []string{"T1", "T2", "T3", "T4", "T5"}; !slices.Equal(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	// Wait until every connector played its sessions and the CSMS holds
	// a StopTransaction for every StartTransaction the fleet had answered.
	settled := poll(func() bool {
		recs, s := csms.Records(), f.Snapshot()
		starts, stops := count(recs, core.StartTransactionFeatureName), count(recs, core.StopTransactionFeatureName)
		return s.Unplugs == stations*conns*sessions && starts > 0 && starts == stops &&
			s.SessionsStarted() == uint64(starts) && s.SessionsActive() == 0
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(testWait):
		t.Fatal("Run did not return")
	}
	snap := f.Snapshot()
	if !settled {
		t.Fatalf("scenario did not settle: %+v", snap)
	}

	recs := csms.Records()
	for _, id := range ids {
		if n := countFrom(recs, id, core.BootNotificationFeatureName); n != 1 {
			t.Errorf("%s sent %d BootNotifications, want 1", id, n)
		}
	}
	// Each StartTransaction has exactly one StopTransaction with its id,
	// and its id tag is one the plan gave that connector.
	plans := map[string][]string{}
	for i, id := range ids {
		for c := 1; c <= conns; c++ {
			p, err := Plan(sc, seed, i, c, conns, sessions)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range p {
				plans[id+"/"+strconv.Itoa(c)] = append(plans[id+"/"+strconv.Itoa(c)], s.Tag)
			}
		}
	}
	open := map[int]string{}
	for _, r := range recs {
		switch r.Action {
		case core.StartTransactionFeatureName:
			req, tx := ocpptest.StartRequest(r)
			if _, dup := open[tx]; dup {
				t.Errorf("transaction %d started twice", tx)
			}
			open[tx] = r.ChargePoint
			if key := r.ChargePoint + "/" + strconv.Itoa(req.ConnectorId); !slices.Contains(plans[key], req.IdTag) {
				t.Errorf("%s started with tag %s, not in its plan %v", key, req.IdTag, plans[key])
			}
		case core.StopTransactionFeatureName:
			req := r.Request.(*core.StopTransactionRequest)
			cp, ok := open[req.TransactionId]
			switch {
			case !ok:
				t.Errorf("StopTransaction of unknown or already stopped transaction %d", req.TransactionId)
			case cp != r.ChargePoint:
				t.Errorf("transaction %d started by %s, stopped by %s", req.TransactionId, cp, r.ChargePoint)
			}
			if req.Reason != core.ReasonEVDisconnected {
				t.Errorf("transaction %d stopped with reason %q, want EVDisconnected", req.TransactionId, req.Reason)
			}
			delete(open, req.TransactionId)
		}
	}
	if len(open) != 0 {
		t.Errorf("transactions without StopTransaction: %v", open)
	}

	// The fleet's counts are the CSMS's.
	if snap.Registered != 0 || snap.Started != stations {
		t.Errorf("after Run: %d registered, %d started; want 0 and %d", snap.Registered, snap.Started, stations)
	}
	for _, action := range []string{
		core.BootNotificationFeatureName, core.AuthorizeFeatureName, core.StartTransactionFeatureName,
		core.MeterValuesFeatureName, core.StopTransactionFeatureName,
	} {
		if got, want := snap.Action(action).OK, uint64(count(recs, action)); got != want {
			t.Errorf("fleet counted %d %s answered, the CSMS recorded %d", got, action, want)
		}
	}
	if snap.Action(core.MeterValuesFeatureName).OK == 0 {
		t.Error("no MeterValues: sessions did not meter")
	}
	if snap.Plugs != stations*conns*sessions || snap.Swipes != snap.Plugs || snap.SimErrors != 0 {
		t.Errorf("scenario steps: %d plugs, %d swipes, %d refused; want %d, %d, 0",
			snap.Plugs, snap.Swipes, snap.SimErrors, stations*conns*sessions, stations*conns*sessions)
	}
}

// TestFleetRegistersAll checks the live counts while running: every station
// connects and registers.
func TestFleetRegistersAll(t *testing.T) {
	if testing.Short() {
		t.Skip("runs stations against a CSMS; skipped with -short")
	}
	csms, err := ocpptest.Start(ocpptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(csms.Stop)
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "fleet.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f, err := New(Options{CSMSURL: csms.URL(), Stations: 20, Connectors: 1, DB: db, Ramp: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	if !poll(func() bool { return f.Snapshot().Registered == 20 }) {
		t.Fatalf("not every station registered: %+v", f.Snapshot())
	}
	s := f.Snapshot()
	if s.Connected != 20 || s.Started != 20 || s.Action(core.BootNotificationFeatureName).OK != 20 {
		t.Errorf("snapshot %+v: want 20 connected, started and booted", s)
	}
}

// poll checks cond every 20 ms until it holds (true) or testWait passes
// (false). The fleet counts an answer after the CSMS recorded its request,
// so a wait on the CSMS's records alone could miss the last count.
func poll(cond func() bool) bool {
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func count(recs []ocpptest.Record, action string) int {
	n := 0
	for _, r := range recs {
		if r.Action == action {
			n++
		}
	}
	return n
}

func countFrom(recs []ocpptest.Record, cp, action string) int {
	n := 0
	for _, r := range recs {
		if r.Action == action && r.ChargePoint == cp {
			n++
		}
	}
	return n
}

func TestParseGCPercent(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"100", 100, true},
		{"25", 25, true},
		{"0", 0, true},
		{"off", -1, true},
		{"OFF", -1, true},
		{"-1", 0, false},
		{"", 0, false},
		{"50%", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseGCPercent(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseGCPercent(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseMemoryLimit(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1048576", 1 << 20, true},
		{"512B", 512, true},
		{"64KiB", 64 << 10, true},
		{"800MiB", 800 << 20, true},
		{"2GiB", 2 << 30, true},
		{"1TiB", 1 << 40, true},
		{"0", 0, false},
		{"-5MiB", 0, false},
		{"1.5GiB", 0, false},
		{"10MB", 0, false},
		{"GiB", 0, false},
		{"9999999TiB", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseMemoryLimit(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseMemoryLimit(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
