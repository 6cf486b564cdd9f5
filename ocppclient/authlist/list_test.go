package authlist

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func openDB(t testing.TB, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// newList opens a list in a fresh database file.
func newList(t testing.TB) (*List, *bbolt.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "evsed.db")
	db := openDB(t, path)
	t.Cleanup(func() { db.Close() })
	l, err := Open(db, "authlist")
	if err != nil {
		t.Fatal(err)
	}
	return l, db, path
}

func put(token string, s Status) Change { return Change{Token: token, Info: &Info{Status: s}} }
func del(token string) Change           { return Change{Token: token} }

// step is one Update call and what it must return.
type step struct {
	kind    Kind
	version int
	changes []Change
	max     int
	want    error // nil or a sentinel
}

// contents reads every entry as token -> status, straight from the bucket.
func contents(t testing.TB, l *List) map[string]Status {
	t.Helper()
	out := map[string]Status{}
	err := l.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(l.bucket)
		if b == nil || b.Bucket(entriesKey) == nil {
			return nil
		}
		return b.Bucket(entriesKey).ForEach(func(k, v []byte) error {
			e, err := decodeEntry(v)
			if err != nil {
				return err
			}
			out[e.TokenType+"/"+e.Token] = e.Status
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// lastTxID is the id of the database's last committed write transaction.
func lastTxID(t testing.TB, db *bbolt.DB) int {
	t.Helper()
	tx, err := db.Begin(false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	return tx.ID()
}

func TestUpdate(t *testing.T) {
	const big = 100
	cases := []struct {
		name        string
		steps       []step
		wantVersion int
		want        map[string]Status
	}{
		{
			name: "full replaces the list",
			steps: []step{
				{Full, 3, []Change{put("A", Accepted), put("B", Blocked)}, big, nil},
				{Full, 4, []Change{put("C", Accepted)}, big, nil},
			},
			wantVersion: 4,
			want:        map[string]Status{"/C": Accepted},
		},
		{
			name: "full without changes empties the list, version 0",
			steps: []step{
				{Full, 3, []Change{put("A", Accepted)}, big, nil},
				{Full, 9, nil, big, nil},
			},
			wantVersion: 0,
			want:        map[string]Status{},
		},
		{
			name: "full may lower the version",
			steps: []step{
				{Full, 7, []Change{put("A", Accepted)}, big, nil},
				{Full, 2, []Change{put("B", Accepted)}, big, nil},
			},
			wantVersion: 2,
			want:        map[string]Status{"/B": Accepted},
		},
		{
			name: "differential adds, updates and removes",
			steps: []step{
				{Full, 1, []Change{put("A", Accepted), put("B", Accepted), put("C", Accepted)}, big, nil},
				{Differential, 2, []Change{put("D", Accepted), put("B", Blocked), del("C"), del("nobody")}, big, nil},
			},
			wantVersion: 2,
			want:        map[string]Status{"/A": Accepted, "/B": Blocked, "/D": Accepted},
		},
		{
			name: "differential on an empty list",
			steps: []step{
				{Differential, 5, []Change{put("A", Accepted)}, big, nil},
			},
			wantVersion: 5,
			want:        map[string]Status{"/A": Accepted},
		},
		{
			name: "differential that empties the list resets the version",
			steps: []step{
				{Full, 5, []Change{put("A", Accepted)}, big, nil},
				{Differential, 6, []Change{del("A")}, big, nil},
				{Differential, 1, []Change{put("B", Accepted)}, big, nil},
			},
			wantVersion: 1,
			want:        map[string]Status{"/B": Accepted},
		},
		{
			name: "differential without changes moves the version",
			steps: []step{
				{Full, 5, []Change{put("A", Accepted)}, big, nil},
				{Differential, 8, nil, big, nil},
			},
			wantVersion: 8,
			want:        map[string]Status{"/A": Accepted},
		},
		{
			name: "version mismatch: equal, lower, zero",
			steps: []step{
				{Full, 5, []Change{put("A", Accepted)}, big, nil},
				{Differential, 5, []Change{put("B", Accepted)}, big, ErrVersionMismatch},
				{Differential, 4, []Change{put("B", Accepted)}, big, ErrVersionMismatch},
				{Differential, 0, nil, big, ErrVersionMismatch},
			},
			wantVersion: 5,
			want:        map[string]Status{"/A": Accepted},
		},
		{
			name: "differential version 0 on an empty list",
			steps: []step{
				{Differential, 0, []Change{put("A", Accepted)}, big, ErrVersionMismatch},
			},
			wantVersion: 0,
			want:        map[string]Status{},
		},
		{
			name: "full too long changes nothing",
			steps: []step{
				{Full, 1, []Change{put("A", Accepted)}, 2, nil},
				{Full, 2, []Change{put("B", Accepted), put("C", Accepted), put("D", Accepted)}, 2, ErrTooLong},
			},
			wantVersion: 1,
			want:        map[string]Status{"/A": Accepted},
		},
		{
			name: "differential too long changes nothing",
			steps: []step{
				{Full, 1, []Change{put("A", Accepted), put("B", Accepted)}, 2, nil},
				{Differential, 2, []Change{put("A", Blocked), put("C", Accepted)}, 2, ErrTooLong},
			},
			wantVersion: 1,
			want:        map[string]Status{"/A": Accepted, "/B": Accepted},
		},
		{
			name: "differential at the limit: replace and swap fit",
			steps: []step{
				{Full, 1, []Change{put("A", Accepted), put("B", Accepted)}, 2, nil},
				{Differential, 2, []Change{put("A", Blocked)}, 2, nil},
				{Differential, 3, []Change{put("C", Accepted), del("B")}, 2, nil},
			},
			wantVersion: 3,
			want:        map[string]Status{"/A": Blocked, "/C": Accepted},
		},
		{
			name: "max length 0 holds only the empty list",
			steps: []step{
				{Full, 1, []Change{put("A", Accepted)}, 0, ErrTooLong},
				{Differential, 1, []Change{put("A", Accepted)}, -1, ErrTooLong},
				{Full, 1, nil, 0, nil},
			},
			wantVersion: 0,
			want:        map[string]Status{},
		},
		{
			name: "token types keep entries apart",
			steps: []step{
				{Full, 1, []Change{
					{Token: "A", TokenType: "ISO14443", Info: &Info{Status: Accepted}},
					{Token: "A", TokenType: "eMAID", Info: &Info{Status: Blocked}},
				}, big, nil},
			},
			wantVersion: 1,
			want:        map[string]Status{"ISO14443/A": Accepted, "eMAID/A": Blocked},
		},
		{
			name: "a new spelling replaces the old one",
			steps: []step{
				{Full, 1, []Change{put("04abcd", Accepted)}, big, nil},
				{Differential, 2, []Change{put("04ABCD", Blocked)}, big, nil},
			},
			wantVersion: 2,
			want:        map[string]Status{"/04ABCD": Blocked},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, _, _ := newList(t)
			for i, s := range tc.steps {
				err := l.Update(s.kind, s.version, s.changes, s.max)
				if s.want == nil && err != nil || s.want != nil && !errors.Is(err, s.want) {
					t.Fatalf("step %d: Update = %v, want %v", i, err, s.want)
				}
			}
			if got := l.Version(); got != tc.wantVersion {
				t.Errorf("Version = %d, want %d", got, tc.wantVersion)
			}
			if got := l.Len(); got != len(tc.want) {
				t.Errorf("Len = %d, want %d", got, len(tc.want))
			}
			if got := contents(t, l); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("list = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUpdateInvalid(t *testing.T) {
	long := func(n int) string {
		b := make([]rune, n)
		for i := range b {
			b[i] = 'é' // two bytes: the bound counts code points
		}
		return string(b)
	}
	cases := []struct {
		name    string
		kind    Kind
		version int
		changes []Change
	}{
		{"unknown kind", 0, 2, nil},
		{"negative version", Full, -1, nil},
		{"full version 0 with entries", Full, 0, []Change{put("A", Accepted)}},
		{"empty token", Differential, 2, []Change{put("", Accepted)}},
		{"empty token in a removal", Differential, 2, []Change{del("")}},
		{"token twice", Differential, 2, []Change{put("A", Accepted), del("A")}},
		{"token twice in two cases", Full, 2, []Change{put("ab", Accepted), put("AB", Blocked)}},
		{"full entry without info", Full, 2, []Change{put("A", Accepted), del("B")}},
		{"unknown status", Full, 2, []Change{put("A", "Maybe")}},
		{"empty status", Full, 2, []Change{put("A", "")}},
		{"token too long", Full, 2, []Change{put(long(MaxTokenLen+1), Accepted)}},
		{"type too long", Full, 2, []Change{{Token: "A", TokenType: long(MaxTokenTypeLen + 1), Info: &Info{Status: Accepted}}}},
		{"token not UTF-8", Full, 2, []Change{put("A\xff", Accepted)}},
		{"group token too long", Full, 2, []Change{{Token: "A", Info: &Info{Status: Accepted, GroupToken: long(MaxTokenLen + 1)}}}},
		{"group type without token", Full, 2, []Change{{Token: "A", Info: &Info{Status: Accepted, GroupTokenType: "Central"}}}},
		{"negative EVSE", Full, 2, []Change{{Token: "A", Info: &Info{Status: Accepted, EVSEs: []int{1, -1}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, db, _ := newList(t)
			if err := l.Update(Full, 1, []Change{put("OLD", Accepted)}, 10); err != nil {
				t.Fatal(err)
			}
			writes := writesOf(db)
			err := l.Update(tc.kind, tc.version, tc.changes, 10)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Update = %v, want ErrInvalid", err)
			}
			if w := writesOf(db); w != writes {
				t.Errorf("a refused update wrote %d pages", w-writes)
			}
			if got, want := contents(t, l), map[string]Status{"/OLD": Accepted}; !reflect.DeepEqual(got, want) || l.Version() != 1 {
				t.Errorf("list = %v version %d, want %v version 1", got, l.Version(), want)
			}
		})
	}
	// The bounds themselves are allowed.
	l, _, _ := newList(t)
	edge := []Change{{Token: long(MaxTokenLen), TokenType: long(MaxTokenTypeLen), Info: &Info{Status: Accepted, GroupToken: long(MaxTokenLen)}}}
	if err := l.Update(Full, 1, edge, 1); err != nil {
		t.Fatalf("tokens at the bounds: %v", err)
	}
}

func TestUpdateIsOneCommit(t *testing.T) {
	l, db, _ := newList(t)
	changes := make([]Change, 500)
	for i := range changes {
		changes[i] = put(fmt.Sprintf("TAG%04d", i), Accepted)
	}
	for _, s := range []step{
		{Full, 1, changes, 1000, nil},
		{Differential, 2, changes[:100], 1000, nil},
		{Full, 3, nil, 1000, nil},
	} {
		before := lastTxID(t, db)
		if err := l.Update(s.kind, s.version, s.changes, s.max); err != nil {
			t.Fatal(err)
		}
		if n := lastTxID(t, db) - before; n != 1 {
			t.Errorf("%s update of %d changes took %d commits, want 1", s.kind, len(s.changes), n)
		}
	}
	// Refusals after the checks that need the stored list roll back: no
	// commit.
	before := lastTxID(t, db)
	if err := l.Update(Differential, 0, nil, 1000); !errors.Is(err, ErrVersionMismatch) {
		t.Fatal(err)
	}
	if err := l.Update(Differential, 9, changes, 10); !errors.Is(err, ErrTooLong) {
		t.Fatal(err)
	}
	if n := lastTxID(t, db) - before; n != 0 {
		t.Errorf("refused updates committed %d times", n)
	}
}

func TestLookup(t *testing.T) {
	l, _, _ := newList(t)
	exp := t0.Add(time.Hour)
	err := l.Update(Full, 1, []Change{
		{Token: "04A1B2C3", Info: &Info{Status: Accepted, GroupToken: "FLEET", Expiry: exp}},
		{Token: "blocked", Info: &Info{Status: Blocked, Expiry: exp}},
		{Token: "forever", Info: &Info{Status: Accepted}},
		{Token: "Ärger-K", Info: &Info{Status: Accepted}},
		{Token: "emaid-1", TokenType: "eMAID", Info: &Info{Status: NoCredit}},
	}, 10)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, token, tokenType string
		now                    time.Time
		want                   Status
		found                  bool
	}{
		{"before expiry", "04A1B2C3", "", t0, Accepted, true},
		{"other case", "04a1b2c3", "", t0, Accepted, true},
		{"just before expiry", "04A1B2C3", "", exp.Add(-time.Nanosecond), Accepted, true},
		{"at expiry", "04A1B2C3", "", exp, Expired, true},
		{"after expiry", "04A1B2C3", "", exp.Add(time.Hour), Expired, true},
		{"blocked past expiry", "blocked", "", exp.Add(time.Hour), Expired, true},
		{"no expiry", "forever", "", t0.AddDate(100, 0, 0), Accepted, true},
		{"unicode folding", "äRGER-\u212a", "", t0, Accepted, true}, // Kelvin sign folds with k
		{"type must match", "emaid-1", "", t0, "", false},
		{"with its type", "EMAID-1", "eMAID", t0, NoCredit, true},
		{"unknown", "nobody", "", t0, "", false},
		{"empty", "", "", t0, "", false},
		{"not UTF-8", "04A1B2C3\xff", "", t0, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := l.Lookup(tc.token, tc.tokenType, tc.now)
			if ok != tc.found || e.Status != tc.want {
				t.Fatalf("Lookup(%q, %q) = %+v, %v; want status %q, %v", tc.token, tc.tokenType, e, ok, tc.want, tc.found)
			}
		})
	}
	e, _ := l.Lookup("04a1b2c3", "", t0)
	want := Entry{Token: "04A1B2C3", Info: Info{Status: Accepted, GroupToken: "FLEET", Expiry: exp}}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("entry = %+v, want %+v", e, want)
	}
}

func TestLookupOnEmptyDatabase(t *testing.T) {
	l, _, _ := newList(t)
	if _, ok := l.Lookup("A", "", t0); ok {
		t.Error("found a token in a list never written")
	}
	if l.Version() != 0 || l.Len() != 0 {
		t.Errorf("new list: version %d, len %d; want 0, 0", l.Version(), l.Len())
	}
}

func TestReopen(t *testing.T) {
	l, db, path := newList(t)
	exp := time.Date(9999, 12, 31, 23, 59, 59, 123456789, time.FixedZone("CET", 3600))
	full := Change{Token: "Tag-1", TokenType: "ISO14443", Info: &Info{
		Status: ConcurrentTx, GroupToken: "Group", GroupTokenType: "Central", Expiry: exp, EVSEs: []int{1, 3, 300},
	}}
	if err := l.Update(Full, 41, []Change{full, put("other", Accepted)}, 10); err != nil {
		t.Fatal(err)
	}
	if err := l.Update(Differential, 42, []Change{del("other")}, 10); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db2 := openDB(t, path)
	defer db2.Close()
	l2, err := Open(db2, "authlist")
	if err != nil {
		t.Fatal(err)
	}
	if l2.Version() != 42 || l2.Len() != 1 {
		t.Fatalf("reopened: version %d, len %d; want 42, 1", l2.Version(), l2.Len())
	}
	e, ok := l2.Lookup("TAG-1", "ISO14443", t0)
	want := Entry{Token: "Tag-1", TokenType: "ISO14443", Info: *full.Info}
	want.Expiry = exp.UTC()
	if !ok || !reflect.DeepEqual(e, want) {
		t.Fatalf("reopened entry = %+v, %v; want %+v", e, ok, want)
	}
	if err := l2.Update(Differential, 42, nil, 10); !errors.Is(err, ErrVersionMismatch) {
		t.Errorf("the version did not survive: %v", err)
	}
}

// An update that fails midway, by an error (a disk that refuses a page) or a
// panic, leaves the list it found, also on disk.
func TestFailedUpdateLeavesOldList(t *testing.T) {
	old := []Change{put("A", Accepted), put("B", Accepted), put("C", Blocked)}
	oldList := map[string]Status{"/A": Accepted, "/B": Accepted, "/C": Blocked}
	bigFull := make([]Change, 300)
	for i := range bigFull {
		bigFull[i] = put(fmt.Sprintf("N%03d", i), Accepted)
	}
	cases := []struct {
		name    string
		kind    Kind
		changes []Change
		panics  bool
	}{
		{"full, error", Full, bigFull, false},
		{"full, panic", Full, bigFull, true},
		{"differential, error", Differential, []Change{del("A"), put("B", Blocked), put("D", Accepted), put("E", Accepted)}, false},
		{"differential, panic", Differential, []Change{del("A"), put("B", Blocked), put("D", Accepted), put("E", Accepted)}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, db, path := newList(t)
			if err := l.Update(Full, 7, old, 1000); err != nil {
				t.Fatal(err)
			}
			boom := errors.New("disk gave up")
			mid := len(tc.changes) / 2
			l.afterChange = func(i int) error {
				if i < mid {
					return nil
				}
				if tc.panics {
					panic(boom)
				}
				return boom
			}
			err := func() (err error) {
				defer func() {
					if r := recover(); r != nil {
						err = r.(error)
					}
				}()
				return l.Update(tc.kind, 8, tc.changes, 1000)
			}()
			if !errors.Is(err, boom) {
				t.Fatalf("Update = %v, want the injected failure", err)
			}
			l.afterChange = nil
			check := func(l *List, when string) {
				t.Helper()
				if got := contents(t, l); !reflect.DeepEqual(got, oldList) || l.Version() != 7 || l.Len() != 3 {
					t.Fatalf("%s: list %v version %d len %d; want %v version 7 len 3", when, got, l.Version(), l.Len(), oldList)
				}
			}
			check(l, "after the failure")
			db.Close()
			db2 := openDB(t, path)
			defer db2.Close()
			l2, err := Open(db2, "authlist")
			if err != nil {
				t.Fatal(err)
			}
			check(l2, "reopened")
			// The list still takes updates.
			if err := l2.Update(tc.kind, 8, tc.changes, 1000); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A power cut in the middle of an update leaves on disk what the last
// commit left: the database file is copied, as a kill -9 would leave it,
// while the update has written half its entries.
func TestPowerCutDuringUpdate(t *testing.T) {
	for _, kind := range []Kind{Full, Differential} {
		t.Run(kind.String(), func(t *testing.T) {
			l, db, path := newList(t)
			if err := l.Update(Full, 1, []Change{put("A", Accepted), put("B", Accepted)}, 100); err != nil {
				t.Fatal(err)
			}
			cut := filepath.Join(filepath.Dir(path), "cut.db")
			var copyErr error
			l.afterChange = func(i int) error {
				if i == 1 {
					// A read transaction opened and closed before the
					// write one commits: bbolt allows that in one goroutine.
					copyErr = db.View(func(tx *bbolt.Tx) error { return tx.CopyFile(cut, 0o600) })
				}
				return nil
			}
			changes := []Change{put("C", Accepted), del("A"), put("D", Accepted)}
			if kind == Full {
				changes[1] = put("A", Blocked)
			}
			if err := l.Update(kind, 2, changes, 100); err != nil {
				t.Fatal(err)
			}
			if copyErr != nil {
				t.Fatal(copyErr)
			}
			cdb := openDB(t, cut)
			defer cdb.Close()
			cl, err := Open(cdb, "authlist")
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]Status{"/A": Accepted, "/B": Accepted}
			if got := contents(t, cl); !reflect.DeepEqual(got, want) || cl.Version() != 1 || cl.Len() != 2 {
				t.Fatalf("after the cut: %v version %d len %d; want %v version 1 len 2", got, cl.Version(), cl.Len(), want)
			}
		})
	}
}

func TestOpenRefusesForeignBucket(t *testing.T) {
	cases := []struct {
		name string
		fill func(b *bbolt.Bucket) error
	}{
		{"data without format", func(b *bbolt.Bucket) error { return b.Put([]byte("x"), []byte("y")) }},
		{"unknown format", func(b *bbolt.Bucket) error { return b.Put(formatKey, []byte{9}) }},
		{"format without version", func(b *bbolt.Bucket) error { return b.Put(formatKey, []byte{storeFormat}) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t, filepath.Join(t.TempDir(), "x.db"))
			defer db.Close()
			err := db.Update(func(tx *bbolt.Tx) error {
				b, err := tx.CreateBucket([]byte("authlist"))
				if err != nil {
					return err
				}
				return tc.fill(b)
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Open(db, "authlist"); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open = %v, want ErrCorrupt", err)
			}
		})
	}
	db := openDB(t, filepath.Join(t.TempDir(), "y.db"))
	defer db.Close()
	if _, err := Open(db, ""); err == nil {
		t.Error("Open with an empty bucket name succeeded")
	}
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("empty")); return err }); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(db, "empty"); err != nil {
		t.Errorf("an empty bucket is an empty list, got %v", err)
	}
}

// Lookups beside Updates see one whole list or the other: Full updates
// swap two lists of 20 tokens, and a reader never sees a count other than
// 20 nor an entry it cannot read. The race detector checks the rest.
func TestConcurrentUse(t *testing.T) {
	l, _, _ := newList(t)
	var lists [2][]Change
	for p := range lists {
		for i := range 20 {
			lists[p] = append(lists[p], put(fmt.Sprintf("P%d-%02d", p, i), Accepted))
		}
	}
	if err := l.Update(Full, 2, lists[0], 100); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, tok := range []string{"p0-07", "p1-07"} {
					if e, ok := l.Lookup(tok, "", t0); ok && e.Status != Accepted {
						errs <- fmt.Errorf("Lookup(%s) = %+v", tok, e)
						return
					}
				}
				if n := l.Len(); n != 20 {
					errs <- fmt.Errorf("Len = %d between full updates of 20", n)
					return
				}
			}
		}()
	}
	for v := 3; v < 60; v++ {
		if err := l.Update(Full, v, lists[v%2], 100); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	keys := make([]string, 0, 20)
	for k := range contents(t, l) {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) != 20 || keys[0] != "/P1-00" {
		t.Errorf("final list %v, want list 1", keys)
	}
}

// writesOf is the number of pages the database has written so far.
func writesOf(db *bbolt.DB) int64 {
	s := db.Stats()
	return s.TxStats.GetWrite()
}
