package smartcharging

import (
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func openDB(t testing.TB, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// newStore opens a store in a fresh database file.
func newStore(t testing.TB) (*Store, *bbolt.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "evsed.db")
	db := openDB(t, path)
	t.Cleanup(func() { db.Close() })
	s, err := OpenStore(db, "profiles")
	if err != nil {
		t.Fatal(err)
	}
	return s, db, path
}

// lastTxID is the id of the database's last committed write transaction:
// it counts commits.
func lastTxID(t testing.TB, db *bbolt.DB) int {
	t.Helper()
	tx, err := db.Begin(false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	return tx.ID()
}

// ids lists the ids of the installed profiles.
func ids(s *Store) []int {
	var out []int
	for _, p := range s.Profiles() {
		out = append(out, p.ID)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func TestStoreInstall(t *testing.T) {
	full := make([]prof, 16)
	for i := range full {
		full[i] = txDefault(100+i, i, 0).limit(16)
	}
	tests := []struct {
		name    string
		before  []prof
		install prof
		l       Limits
		want    error
		wantIDs []int
	}{
		{"into an empty store", nil, txDefault(1, 1, 0).limit(16), limits, nil, []int{1}},
		{"beside others", []prof{txDefault(1, 1, 0).limit(16), txDefault(2, 2, 0).limit(16)},
			txDefault(3, 1, 1).limit(10), limits, nil, []int{1, 2, 3}},
		{"replaces by id, wherever it was", []prof{txDefault(1, 1, 0).limit(16), stationMax(2, 3).limit(40)},
			txDefault(2, 2, 5).limit(10), limits, nil, []int{1, 2}},
		{"replaces by connector, purpose and stack level", []prof{txDefault(1, 1, 0).limit(16), txDefault(2, 2, 0).limit(16)},
			txDefault(3, 1, 0).limit(10), limits, nil, []int{2, 3}},
		{"same stack level, other purpose: kept", []prof{txDefault(1, 1, 0).limit(16)},
			txProf(2, 1, 0).limit(10), limits, nil, []int{1, 2}},
		{"same stack level, other connector: kept", []prof{txDefault(1, 0, 0).limit(16)},
			txDefault(2, 1, 0).limit(10), limits, nil, []int{1, 2}},
		{"replaces both the id and the stack level", []prof{txDefault(1, 1, 0).limit(16), txDefault(2, 1, 1).limit(16), txDefault(3, 2, 0).limit(16)},
			txDefault(1, 1, 1).limit(10), limits, nil, []int{1, 3}},
		{"refused: stack level", nil, txDefault(1, 1, 9).limit(16), limits, ErrStackLevel, nil},
		{"refused: periods", nil, txDefault(1, 1, 0).periods(0*h, 16, 0*h, 10), limits, ErrPeriods, nil},
		{"refused: unit", nil, txDefault(1, 1, 0).limit(16).unit(Watts),
			Limits{MaxStackLevel: 8, MaxPeriods: 24, MaxInstalled: 16, Units: []RateUnit{Amperes}}, ErrUnit, nil},
		{"refused: invalid leaves the old one", []prof{txDefault(1, 1, 0).limit(16)},
			txDefault(1, 1, 0).limit(-1), limits, ErrLimit, []int{1}},
		{"refused: too many", full, txDefault(1, 1, 1).limit(16), limits, ErrTooMany, ids16()},
		{"full store: a replacement fits", full, txDefault(1, 3, 0).limit(16), limits, nil, slices.Concat([]int{1}, without(ids16(), 103))},
		{"full store: an id replacement fits", full, txDefault(105, 1, 1).limit(16), limits, nil, ids16()},
		{"MaxInstalled 0", nil, txDefault(1, 1, 0).limit(16), Limits{MaxStackLevel: 8, MaxPeriods: 24, Units: []RateUnit{Amperes}}, ErrTooMany, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, db, _ := newStore(t)
			for _, p := range tt.before {
				if err := s.Install(p.P(), t0, limits); err != nil {
					t.Fatal(err)
				}
			}
			commits := lastTxID(t, db)
			err := s.Install(tt.install.P(), t0.Add(h), tt.l)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Install: %v, want %v", err, tt.want)
			}
			wantCommits := commits
			if err == nil {
				wantCommits++
			}
			if got := lastTxID(t, db); got != wantCommits {
				t.Errorf("%d commits, want %d", got-commits, wantCommits-commits)
			}
			if got := ids(s); !slices.Equal(got, tt.wantIDs) {
				t.Errorf("installed %v, want %v", got, tt.wantIDs)
			}
			if s.Len() != len(tt.wantIDs) {
				t.Errorf("Len %d, want %d", s.Len(), len(tt.wantIDs))
			}
			if err == nil {
				var got Profile
				for _, p := range s.Profiles() {
					if p.ID == tt.install.ID {
						got = p
					}
				}
				want := tt.install.P()
				want.Installed = t0.Add(h)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("installed\n%+v\nwant\n%+v", got, want)
				}
			}
		})
	}
}

func ids16() []int {
	out := make([]int, 16)
	for i := range out {
		out[i] = 100 + i
	}
	return out
}

func without(s []int, v int) []int {
	return slices.DeleteFunc(slices.Clone(s), func(x int) bool { return x == v })
}

func TestStoreClear(t *testing.T) {
	installed := []prof{
		stationMax(1, 0).limit(40),
		txDefault(2, 0, 0).limit(32),
		txDefault(3, 1, 0).limit(16),
		txDefault(4, 1, 1).limit(10),
		txDefault(5, 2, 1).limit(10),
		txProf(6, 1, 1).limit(8),
		txProf(7, 2, 0).limit(8),
	}
	tests := []struct {
		name    string
		f       Filter
		removed int
		left    []int
	}{
		{"all", Filter{}, 7, nil},
		{"by id", Filter{ID: ptr(4)}, 1, []int{1, 2, 3, 5, 6, 7}},
		{"by id, other criteria ignored", Filter{ID: ptr(4), Connector: ptr(2), Purpose: PurposeTx}, 1, []int{1, 2, 3, 5, 6, 7}},
		{"by unknown id", Filter{ID: ptr(99), Connector: ptr(1)}, 0, []int{1, 2, 3, 4, 5, 6, 7}},
		{"by connector", Filter{Connector: ptr(1)}, 3, []int{1, 2, 5, 7}},
		{"by connector 0: the station's own", Filter{Connector: ptr(0)}, 2, []int{3, 4, 5, 6, 7}},
		{"by purpose", Filter{Purpose: PurposeTxDefault}, 4, []int{1, 6, 7}},
		{"by stack level", Filter{StackLevel: ptr(1)}, 3, []int{1, 2, 3, 7}},
		{"by all three", Filter{Connector: ptr(1), Purpose: PurposeTxDefault, StackLevel: ptr(1)}, 1, []int{1, 2, 3, 5, 6, 7}},
		{"by connector and purpose", Filter{Connector: ptr(2), Purpose: PurposeTx}, 1, []int{1, 2, 3, 4, 5, 6}},
		{"nothing matches", Filter{Connector: ptr(3)}, 0, []int{1, 2, 3, 4, 5, 6, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, db, _ := newStore(t)
			for _, p := range installed {
				if err := s.Install(p.P(), t0, limits); err != nil {
					t.Fatal(err)
				}
			}
			commits := lastTxID(t, db)
			n, err := s.Clear(tt.f)
			if err != nil || n != tt.removed {
				t.Fatalf("Clear = %d, %v; want %d", n, err, tt.removed)
			}
			wantCommits := commits
			if n > 0 {
				wantCommits++
			}
			if got := lastTxID(t, db); got != wantCommits {
				t.Errorf("%d commits, want %d", got-commits, wantCommits-commits)
			}
			if got := ids(s); !slices.Equal(got, tt.left) {
				t.Errorf("left %v, want %v", got, tt.left)
			}
		})
	}
}

func TestStoreClearTx(t *testing.T) {
	s, _, _ := newStore(t)
	for _, p := range []prof{txDefault(1, 1, 0).limit(16), txProf(2, 1, 0).limit(8), txProf(3, 1, 1).limit(8).tx("9"), txProf(4, 2, 0).limit(8)} {
		if err := s.Install(p.P(), t0, limits); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.ClearTx(1); n != 2 || err != nil {
		t.Fatalf("ClearTx(1) = %d, %v; want 2", n, err)
	}
	if got := ids(s); !slices.Equal(got, []int{1, 4}) {
		t.Errorf("left %v", got)
	}
	if n, err := s.ClearTx(1); n != 0 || err != nil {
		t.Errorf("again: %d, %v; want 0", n, err)
	}
}

func TestStoreReopen(t *testing.T) {
	loc := berlin(t)
	s, db, path := newStore(t)
	in := []Profile{
		stationMax(1, 2).periods(0*h, 40.5, 90*m, 32).minRate(6).valid(time.Date(2025, 6, 1, 0, 0, 0, 0, loc), time.Time{}).P(),
		txDefault(-7, 0, 0).recurring(RecurWeekly).start(time.Date(2025, 6, 2, 7, 15, 0, 123, loc)).dur(36*h).unit(Watts).
			periods(0*h, 11000, h, 7360).phases(1, 1).P(),
		txProf(2, 1, 3).relative().limit(16).tx("tx-42").valid(t0, t0.Add(48*h)).P(),
		txDefault(3, 2, 0).installed(time.Time{}).limit(0).P(),
	}
	for i, p := range in {
		if err := s.Install(p, t0.Add(time.Duration(i)*time.Second), limits); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Clear(Filter{ID: ptr(3)}); err != nil {
		t.Fatal(err)
	}
	before := s.Profiles()
	q := Query{Connector: 1, Start: t0, Duration: 48 * h, Location: loc, Session: &Session{Start: t0, TransactionID: "tx-42"}}
	curveBefore := s.Evaluate(q)
	db.Close()

	db = openDB(t, path)
	defer db.Close()
	s2, err := OpenStore(db, "profiles")
	if err != nil {
		t.Fatal(err)
	}
	after := s2.Profiles()
	if !reflect.DeepEqual(before, after) {
		t.Errorf("after reopening\n%+v\nbefore\n%+v", after, before)
	}
	if len(after) != 3 {
		t.Errorf("%d profiles, want 3", len(after))
	}
	for i, p := range after {
		want := in[[]int{1, 0, 2}[i]] // sorted by id: -7, 1, 2
		if p.ID != want.ID || !p.Schedule.Start.Equal(want.Schedule.Start) || !p.ValidFrom.Equal(want.ValidFrom) ||
			!reflect.DeepEqual(p.Schedule.Periods, want.Schedule.Periods) || p.TransactionID != want.TransactionID {
			t.Errorf("profile %d after reopening: %+v, installed %+v", i, p, want)
		}
	}
	if got := s2.Evaluate(q); render(got) != render(curveBefore) {
		t.Errorf("curve after reopening %s, before %s", render(got), render(curveBefore))
	}
	// And it goes on from there.
	if err := s2.Install(txDefault(1, 2, 0).limit(10).P(), t0, limits); err != nil {
		t.Fatal(err)
	}
	if got := ids(s2); !slices.Equal(got, []int{-7, 1, 2}) {
		t.Errorf("after a replacement %v", got)
	}
}

func TestStoreProfilesIsACopy(t *testing.T) {
	s, _, _ := newStore(t)
	p := txDefault(1, 1, 0).periods(0*h, 16, h, 10).P()
	if err := s.Install(p, t0, limits); err != nil {
		t.Fatal(err)
	}
	p.Schedule.Periods[0].Limit = 99 // the caller's memory is its own
	got := s.Profiles()
	got[0].Schedule.Periods[1].Limit = 99
	if again := s.Profiles(); again[0].Schedule.Periods[0].Limit != 16 || again[0].Schedule.Periods[1].Limit != 10 {
		t.Errorf("store shares memory: %+v", again[0].Schedule.Periods)
	}
}

func TestStoreOpenErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(tx *bbolt.Tx) error
	}{
		{"data without format", func(tx *bbolt.Tx) error {
			b, _ := tx.CreateBucket([]byte("profiles"))
			return b.Put([]byte("x"), []byte("y"))
		}},
		{"unknown format", func(tx *bbolt.Tx) error {
			b, _ := tx.CreateBucket([]byte("profiles"))
			return b.Put(formatKey, []byte{9})
		}},
		{"garbage profile", func(tx *bbolt.Tx) error {
			b, _ := tx.CreateBucket([]byte("profiles"))
			_ = b.Put(formatKey, []byte{storeFormat})
			pb, _ := b.CreateBucket(profilesKey)
			return pb.Put(profileKey(1), []byte{profileFormat, 2, 3})
		}},
		{"profile under another id", func(tx *bbolt.Tx) error {
			b, _ := tx.CreateBucket([]byte("profiles"))
			_ = b.Put(formatKey, []byte{storeFormat})
			pb, _ := b.CreateBucket(profilesKey)
			p := txDefault(2, 1, 0).limit(16).P()
			return pb.Put(profileKey(1), encodeProfile(&p))
		}},
		{"trailing bytes", func(tx *bbolt.Tx) error {
			b, _ := tx.CreateBucket([]byte("profiles"))
			_ = b.Put(formatKey, []byte{storeFormat})
			pb, _ := b.CreateBucket(profilesKey)
			p := txDefault(1, 1, 0).limit(16).P()
			return pb.Put(profileKey(1), append(encodeProfile(&p), 0))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, filepath.Join(t.TempDir(), "evsed.db"))
			defer db.Close()
			if err := db.Update(tt.setup); err != nil {
				t.Fatal(err)
			}
			if _, err := OpenStore(db, "profiles"); !errors.Is(err, ErrCorrupt) {
				t.Errorf("OpenStore: %v, want ErrCorrupt", err)
			}
		})
	}
	db := openDB(t, filepath.Join(t.TempDir(), "evsed.db"))
	defer db.Close()
	if _, err := OpenStore(db, ""); err == nil {
		t.Errorf("empty bucket name accepted")
	}
	if _, err := OpenStore(nil, "x"); err == nil {
		t.Errorf("nil database accepted")
	}
	commits := lastTxID(t, db)
	if _, err := OpenStore(db, "profiles"); err != nil {
		t.Fatal(err)
	}
	if lastTxID(t, db) != commits {
		t.Errorf("OpenStore wrote")
	}
}

// TestCodecTruncated checks that every truncation of a stored profile is
// refused as corrupt, not read as something else.
func TestCodecTruncated(t *testing.T) {
	p := txProf(7, 1, 2).relative().periods(0*h, 16, h, 10.5).phases(1, 1).tx("abc").valid(t0, t0.Add(h)).minRate(6).P()
	p.Installed = t0
	v := encodeProfile(&p)
	got, err := decodeProfile(v)
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for n := range len(v) {
		if _, err := decodeProfile(v[:n]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%d of %d bytes: %v", n, len(v), err)
		}
	}
}

func TestStoreConcurrent(t *testing.T) {
	s, _, _ := newStore(t)
	l := limits
	l.MaxInstalled = 1000
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				p := txDefault(w*100+i, w+1, i%9).periods(0*h, 16, h, float64(i)).P()
				if err := s.Install(p, t0, l); err != nil {
					t.Error(err)
					return
				}
				if i%5 == 4 {
					if _, err := s.Clear(Filter{ID: ptr(w*100 + i - 1)}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				c := s.Evaluate(Query{Connector: 1, Start: t0, Duration: 2 * h})
				if len(c.Steps) == 0 {
					t.Error("no steps")
					return
				}
				_ = s.Profiles()
			}
		}()
	}
	wg.Wait()
	// Each worker: 25 installs onto 9 stack levels of its connector, each
	// replacing the last at its level, then some cleared.
	for _, p := range s.Profiles() {
		if p.ID%100 >= 25 {
			t.Errorf("unexpected id %d", p.ID)
		}
	}
	if n := s.Len(); n == 0 || n > 36 {
		t.Errorf("%d profiles", n)
	}
}

func TestStoreClearExpired(t *testing.T) {
	s, db, _ := newStore(t)
	for _, p := range []prof{
		txDefault(1, 1, 0).limit(16),
		txDefault(2, 1, 1).limit(16).valid(time.Time{}, t0.Add(h)),
		txDefault(3, 1, 2).limit(16).valid(t0, t0.Add(2*h)),
		txDefault(4, 1, 3).limit(16).valid(t0.Add(3*h), time.Time{}),
	} {
		if err := s.Install(p.P(), t0, limits); err != nil {
			t.Fatal(err)
		}
	}
	commits := lastTxID(t, db)
	if n, err := s.ClearExpired(t0.Add(h - time.Nanosecond)); n != 0 || err != nil {
		t.Errorf("before any expiry: %d, %v", n, err)
	}
	if lastTxID(t, db) != commits {
		t.Errorf("a commit with nothing expired")
	}
	if n, err := s.ClearExpired(t0.Add(2 * h)); n != 2 || err != nil {
		t.Errorf("ClearExpired = %d, %v; want 2 (validTo is excluded)", n, err)
	}
	if got := ids(s); !slices.Equal(got, []int{1, 4}) {
		t.Errorf("left %v", got)
	}
}
