package station

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/meter"
	"go.etcd.io/bbolt"
)

// A power cut while the Reporter records a session's start must not leave
// a start that no run ever ends. The database is copied (a consistent
// snapshot, as a kill -9 leaves it) from inside SessionStarted: the Reporter
// may already have made the start durable, the station has not yet gone on.
// The next run on that copy must end the session, after reporting its start
// again. Found by scripts/drill kill9.
func TestPowerCutWhileStartIsRecorded(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, filepath.Join(dir, "evsed.db"))
	defer db.Close()
	snapshot := filepath.Join(dir, "cut.db")
	rep := &recReporter{}
	var once sync.Once
	var snapErr error
	rep.atStart = func() {
		once.Do(func() {
			snapErr = db.View(func(tx *bbolt.Tx) error { return tx.CopyFile(snapshot, 0o600) })
		})
	}
	clk := clock.NewFake(t0)
	r1 := newRig(t, rigOpts{db: db, rep: rep, clk: clk, energy: 1000 * meter.WattHour})
	first := r1.charging(1, "A")
	r1.settle()
	r1.shutdown()
	if snapErr != nil {
		t.Fatal(snapErr)
	}

	cut := openDB(t, snapshot)
	defer cut.Close()
	clk.Advance(time.Minute)
	r2 := newRig(t, rigOpts{db: cut, clk: clk, energy: 1200 * meter.WattHour})
	r2.settle()
	starts, ends := r2.rep.startsCopy(), r2.rep.endsCopy()
	if len(ends) != 1 || ends[0].SessionID != first.Session.ID || ends[0].Reason != ReasonPowerLoss {
		t.Fatalf("second run ended %+v, want session %s ended with PowerLoss", ends, first.Session.ID)
	}
	if len(starts) != 1 || starts[0].SessionID != first.Session.ID || starts[0].MeterStart != 1000*meter.WattHour {
		t.Fatalf("second run reported starts %+v, want the start of %s again (MeterStart 1000 Wh)", starts, first.Session.ID)
	}
	r2.shutdown()
}
