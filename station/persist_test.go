package station

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"go.etcd.io/bbolt"
)

func openDB(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// A session running when the station stops is resumed or ended by the next
// run, with a real bbolt file.
func TestRestartWithSessionInDB(t *testing.T) {
	resume := DefaultConfig()
	resume.ResumeSessionsAfterRestart = true
	tests := []struct {
		name   string
		cfg    Config
		crash  bool           // remove the clean-stop marker, as kill -9 would leave it
		pilot  hal.PilotState // sensed when the second run starts
		resume bool
		reason StopReason // when not resumed
	}{
		{name: "resume", cfg: resume, pilot: hal.PilotC, resume: true},
		{name: "resume wanted, vehicle gone", cfg: resume, pilot: hal.PilotA, reason: ReasonReboot},
		{name: "orderly restart", cfg: DefaultConfig(), pilot: hal.PilotC, reason: ReasonReboot},
		{name: "power loss", cfg: DefaultConfig(), crash: true, pilot: hal.PilotC, reason: ReasonPowerLoss},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "evsed.db")
			db := openDB(t, path)
			clk := clock.NewFake(t0) // shared by both runs
			cfg := tc.cfg
			r1 := newRig(t, rigOpts{db: db, cfg: &cfg, clk: clk, energy: 1000 * meter.WattHour})
			first := r1.charging(1, "A")
			if err := r1.st.AttachTransactionID(r1.ctx(), first.Session.ID, "tx-7"); err != nil {
				t.Fatal(err)
			}
			r1.settle()
			r1.shutdown()
			if tc.crash {
				if err := db.Update(func(tx *bbolt.Tx) error { return tx.Bucket([]byte("station")).Delete(cleanKey) }); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			db = openDB(t, path)
			defer db.Close()
			clk.Advance(time.Minute)
			r2 := newRig(t, rigOpts{db: db, cfg: &cfg, clk: clk, pilot: tc.pilot, energy: 1800 * meter.WattHour})
			c := r2.conn(1)
			ends := r2.rep.endsCopy()
			if len(r2.rep.startsCopy()) != 0 {
				t.Error("second run reported a new SessionStarted")
			}
			if tc.resume {
				if c.Session == nil || c.Session.ID != first.Session.ID || c.Session.TransactionID != "tx-7" {
					t.Fatalf("session not resumed: %+v", c.Session)
				}
				if c.Session.Energy != 800*meter.WattHour {
					t.Errorf("resumed energy %v, want 800 Wh", c.Session.Energy)
				}
				r2.check("resumed", 1, want{status: Charging, closed: true, session: true})
				if len(ends) != 0 {
					t.Errorf("ends %+v", ends)
				}
				return
			}
			if c.Session != nil {
				t.Fatalf("session resumed: %+v", c.Session)
			}
			if len(ends) != 1 {
				t.Fatalf("%d ends, want 1", len(ends))
			}
			e := ends[0]
			if e.SessionID != first.Session.ID || e.Reason != tc.reason || e.MeterStop != 1800*meter.WattHour || e.Begin.EnergyImport != 1000*meter.WattHour {
				t.Errorf("end %+v, want %s, %s, MeterStop 1800 Wh", e, first.Session.ID, tc.reason)
			}
			r2.shutdown()
			sv, err := store{db: db, bucket: []byte("station")}.load()
			if err != nil {
				t.Fatal(err)
			}
			if len(sv.sessions) != 0 {
				t.Errorf("ended session still stored: %+v", sv.sessions)
			}
		})
	}
}

// Availability survives a restart.
func TestAvailabilityPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "evsed.db")
	db := openDB(t, path)
	defer db.Close()
	r1 := newRig(t, rigOpts{db: db})
	if _, err := r1.st.SetAvailability(r1.ctx(), 1, false); err != nil {
		t.Fatal(err)
	}
	r1.settle()
	r1.shutdown()
	r2 := newRig(t, rigOpts{db: db})
	r2.check("after restart", 1, want{status: Unavailable})
}

func TestSamples(t *testing.T) {
	cfg := DefaultConfig() // periodic 60 s, clock-aligned 15 min
	r := newRig(t, rigOpts{cfg: &cfg, energy: 1000 * meter.WattHour})
	c := r.charging(1, "A")
	r.hw[0].meter.set(1500*meter.WattHour, false)
	r.advance(7*time.Minute + 30*time.Second) // to 10:15:00 UTC
	r.hw[0].meter.set(2000*meter.WattHour, false)
	r.advance(2 * time.Second)
	if err := r.st.Stop(r.ctx(), 1, ReasonLocal); err != nil {
		t.Fatal(err)
	}
	r.settle()
	r.pilot(1, hal.PilotA)
	r.advance(15 * time.Minute) // 10:30:00: an idle clock-aligned sample

	count := map[SampleContext]int{}
	for _, s := range r.rep.samplesCopy() {
		count[s.Context]++
		switch s.Context {
		case ContextClock:
			if s.At.UTC().Minute()%15 != 0 || s.At.Second() != 0 {
				t.Errorf("clock sample at %v, not on a 15-minute boundary", s.At)
			}
			if wantSession := s.At.Before(t0.Add(10 * time.Minute)); (s.SessionID == c.Session.ID) != wantSession {
				t.Errorf("clock sample at %v has session %q", s.At, s.SessionID)
			}
		case ContextTransactionBegin:
			if s.Reading.EnergyImport != 1000*meter.WattHour {
				t.Errorf("begin reading %v", s.Reading.EnergyImport)
			}
		case ContextTransactionEnd:
			if s.Reading.EnergyImport != 2000*meter.WattHour {
				t.Errorf("end reading %v", s.Reading.EnergyImport)
			}
		}
	}
	want := map[SampleContext]int{ContextTransactionBegin: 1, ContextPeriodic: 7, ContextClock: 2, ContextTransactionEnd: 1}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%d %s samples, want %d", count[k], k, n)
		}
	}
	starts, ends := r.rep.startsCopy(), r.rep.endsCopy()
	if len(starts) != 1 || starts[0].MeterStart != 1000*meter.WattHour {
		t.Errorf("starts %+v", starts)
	}
	if len(ends) != 1 || ends[0].MeterStop != 2000*meter.WattHour {
		t.Errorf("ends %+v", ends)
	}
}

func TestNextAligned(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		now      time.Time
		interval time.Duration
		want     time.Duration
	}{
		{"mid period", day.Add(10*time.Hour + 7*time.Minute + 30*time.Second), 15 * time.Minute, 7*time.Minute + 30*time.Second},
		{"on a boundary", day.Add(10 * time.Hour), 15 * time.Minute, 15 * time.Minute},
		{"cut at midnight", day.Add(23*time.Hour + 50*time.Minute), 7 * time.Hour, 10 * time.Minute},
		{"other zone", time.Date(2026, 3, 1, 1, 10, 0, 0, time.FixedZone("CET", 3600)), time.Hour, 50 * time.Minute},
		{"disabled", day, 0, 0},
	}
	for _, tc := range tests {
		if got := nextAligned(tc.now, tc.interval); got != tc.want {
			t.Errorf("%s: nextAligned = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A meter that reads less after a power cut than the session already
// recorded (reset or replaced while the station was down, or a simulated
// meter that starts from zero) does not shrink the bill: the session ends at
// the last recorded sample's register.
func TestRestartMeterBehindRecordedEnergy(t *testing.T) {
	for _, withFile := range []bool{false, true} {
		t.Run(map[bool]string{false: "checkpoints in the database", true: "checkpoints in the energy file"}[withFile], func(t *testing.T) {
			dir := t.TempDir()
			db := openDB(t, filepath.Join(dir, "evsed.db"))
			energyFile := ""
			if withFile {
				energyFile = filepath.Join(dir, "evsed.db.energy")
			}
			clk := clock.NewFake(t0)
			cfg := DefaultConfig()
			r1 := newRig(t, rigOpts{db: db, cfg: &cfg, clk: clk, energy: 1000 * meter.WattHour, energyFile: energyFile})
			first := r1.charging(1, "A")
			r1.hw[0].meter.set(1500*meter.WattHour, false)
			r1.advance(2 * time.Second)                         // the sampler reads 1500 Wh
			r1.advance(cfg.MeterSampleInterval - 2*time.Second) // a periodic sample records it
			stats := db.Stats()
			commits := stats.TxStats.GetWrite()
			r1.hw[0].meter.set(1600*meter.WattHour, false)
			r1.advance(2 * time.Second)                         // read
			r1.advance(cfg.MeterSampleInterval - 2*time.Second) // another sample: 1600 Wh
			if withFile {
				after := db.Stats()
				if n := after.TxStats.GetWrite() - commits; n != 0 {
					t.Errorf("a sample wrote %d database pages; the energy file takes the checkpoint", n)
				}
			}
			r1.shutdown()
			if err := db.Update(func(tx *bbolt.Tx) error { return tx.Bucket([]byte("station")).Delete(cleanKey) }); err != nil {
				t.Fatal(err)
			}

			r2 := newRig(t, rigOpts{db: db, cfg: &cfg, clk: clk, pilot: hal.PilotA, energy: 0, energyFile: energyFile})
			ends := r2.rep.endsCopy()
			if len(ends) != 1 {
				t.Fatalf("%d ends, want 1", len(ends))
			}
			if e := ends[0]; e.SessionID != first.Session.ID || e.Reason != ReasonPowerLoss || e.MeterStop != 1600*meter.WattHour {
				t.Errorf("end %+v, want %s PowerLoss at the recorded 1600 Wh", e, first.Session.ID)
			}
			r2.shutdown()
			db.Close()
		})
	}
}

// A slot of the energy file that does not check (torn, another format) is
// ignored, and one connector's slot does not disturb another's.
func TestEnergyFileSlots(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e")
	f, err := openEnergyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	if _, _, ok := f.get(1); ok {
		t.Error("empty file has a slot")
	}
	if err := f.put(2, "0123456789abcdef", 42*meter.WattHour); err != nil {
		t.Fatal(err)
	}
	if err := f.put(1, "s1", 7*meter.WattHour); err != nil {
		t.Fatal(err)
	}
	if id, e, ok := f.get(2); !ok || id != "0123456789abcdef" || e != 42*meter.WattHour {
		t.Errorf("slot 2: %q %v %v", id, e, ok)
	}
	if id, e, ok := f.get(1); !ok || id != "s1" || e != 7*meter.WattHour {
		t.Errorf("slot 1: %q %v %v", id, e, ok)
	}
	// Flip one byte of slot 1's register.
	if _, err := f.f.WriteAt([]byte{0xff}, 8+1); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := f.get(1); ok {
		t.Error("a corrupt slot was read")
	}
	if _, _, ok := f.get(2); !ok {
		t.Error("slot 2 lost with slot 1")
	}
	if err := f.put(1, string(make([]byte, energyIDMax+1)), 1); err == nil {
		t.Error("an over-long session id fit")
	}
}

// Sampling intervals changed while a session runs take effect at once: a
// clock-aligned interval set to 5 s gives samples on the next 5 s boundary
// and every 5 s after, a sample interval set to 0 stops the periodic
// samples, and one set to 10 s starts them 10 s after the change.
func TestSamplingIntervalsChangeLive(t *testing.T) {
	cfg := DefaultConfig() // periodic 60 s, clock-aligned 15 min
	r := newRig(t, rigOpts{cfg: &cfg, energy: 1000 * meter.WattHour})
	c := r.charging(1, "A")
	r.advance(2500 * time.Millisecond) // 10:07:32.5
	cfg.MeterSampleInterval = 0
	cfg.ClockAlignedInterval = 5 * time.Second
	if err := r.st.SetConfig(r.ctx(), cfg); err != nil {
		t.Fatal(err)
	}
	for range 25 { // 25 s in 1 s steps, as the meter is read
		r.advance(time.Second)
	}
	var clockAt []time.Duration
	for _, s := range r.rep.samplesCopy() {
		switch s.Context {
		case ContextPeriodic:
			t.Errorf("periodic sample at %v with the sample interval at 0", s.At.Sub(t0))
		case ContextClock:
			clockAt = append(clockAt, s.At.Sub(t0))
			if s.SessionID != c.Session.ID {
				t.Errorf("clock sample without the session")
			}
		}
	}
	// t0 is 10:07:30: boundaries at +5 s, +10 s, ... after the change at +2.5 s.
	want := []time.Duration{5 * time.Second, 10 * time.Second, 15 * time.Second, 20 * time.Second, 25 * time.Second}
	if len(clockAt) != len(want) {
		t.Fatalf("clock samples at %v, want %v", clockAt, want)
	}
	for i := range want {
		if clockAt[i] != want[i] {
			t.Errorf("clock sample %d at %v, want %v", i, clockAt[i], want[i])
		}
	}

	cfg.MeterSampleInterval = 10 * time.Second
	cfg.ClockAlignedInterval = 0
	if err := r.st.SetConfig(r.ctx(), cfg); err != nil {
		t.Fatal(err)
	}
	changed := r.clk.Now()
	before := len(r.rep.samplesCopy())
	for range 25 {
		r.advance(time.Second)
	}
	var periodic []time.Duration
	for _, s := range r.rep.samplesCopy()[before:] {
		if s.Context == ContextClock {
			t.Errorf("clock sample at %v with the aligned interval at 0", s.At.Sub(t0))
		}
		if s.Context == ContextPeriodic {
			periodic = append(periodic, s.At.Sub(changed))
		}
	}
	if len(periodic) != 2 || periodic[0] != 10*time.Second || periodic[1] != 20*time.Second {
		t.Errorf("periodic samples %v after the change, want at 10 s and 20 s", periodic)
	}
}
