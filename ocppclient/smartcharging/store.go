package smartcharging

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
)

// Keys of the store's bucket (see the package doc for the layout).
var (
	formatKey   = []byte("format")
	profilesKey = []byte("profiles")
)

// storeFormat is the value under formatKey: the layout of the bucket.
const storeFormat = 1

// Store holds the installed profiles in a bbolt bucket, and a copy of them
// in memory from which it answers reads without touching the disk. It is
// safe for concurrent use: writes are serialized, and a read running beside
// a write sees the profiles either before or after it. The bucket belongs
// to the Store; open one Store per bucket.
type Store struct {
	db *bbolt.DB
	// bucket is the name of the store's bucket; a string, made a []byte
	// for each lookup on the stack, rather than a copy held on the heap.
	bucket string

	// wmu serializes writers across the bbolt commit and the swap of
	// profiles, so that the memory copy follows the disk in commit order.
	wmu sync.Mutex
	// profiles is the installed set, sorted by ID; nil for none, as most
	// chargers have (the fleet simulator holds thousands of Stores). The
	// slice it points to and the profiles in it are never modified once
	// stored: a writer builds a new slice and swaps it in after its
	// commit, so readers take no lock and never wait for the disk.
	profiles atomic.Pointer[[]Profile]
}

// OpenStore returns the store kept in bucket, a top-level bucket of db,
// with the profiles installed before (a restart finds them all). A missing
// bucket is an empty store; OpenStore writes nothing (the bucket is created
// by the first Install), so opening costs no commit. It returns an error
// wrapping ErrCorrupt if the bucket holds something else.
//
// Writes are durable when they return only if db was opened without
// NoSync. The Store uses db until the caller closes it; do not use the
// Store after that.
func OpenStore(db *bbolt.DB, bucket string) (*Store, error) {
	if db == nil || bucket == "" {
		return nil, fmt.Errorf("smartcharging: open: no database or empty bucket name")
	}
	s := &Store{db: db, bucket: bucket}
	var ps []Profile
	err := db.View(func(tx *bbolt.Tx) error {
		var err error
		ps, err = load(tx.Bucket([]byte(s.bucket)))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("smartcharging: open %q: %w", bucket, err)
	}
	if len(ps) > 0 {
		s.profiles.Store(&ps)
	}
	return s, nil
}

// installed returns the installed set (see profiles); the caller must not
// modify it.
func (s *Store) installed() []Profile {
	if p := s.profiles.Load(); p != nil {
		return *p
	}
	return nil
}

// load reads the profiles kept in b, sorted by ID; a nil or empty bucket
// holds none.
func load(b *bbolt.Bucket) ([]Profile, error) {
	if b == nil {
		return nil, nil
	}
	f := b.Get(formatKey)
	if f == nil {
		if k, _ := b.Cursor().First(); k != nil {
			return nil, fmt.Errorf("%w: bucket holds data but no format", ErrCorrupt)
		}
		return nil, nil
	}
	if !bytes.Equal(f, []byte{storeFormat}) {
		return nil, fmt.Errorf("%w: unknown storage format %x", ErrCorrupt, f)
	}
	pb := b.Bucket(profilesKey)
	if pb == nil {
		return nil, nil
	}
	var ps []Profile
	err := pb.ForEach(func(k, v []byte) error {
		p, err := decodeProfile(v)
		if err != nil {
			return fmt.Errorf("key %x: %w", k, err)
		}
		if !bytes.Equal(k, profileKey(p.ID)) {
			return fmt.Errorf("%w: key %x holds profile %d", ErrCorrupt, k, p.ID)
		}
		ps = append(ps, p)
		return nil
	})
	return ps, err // keys sort as ids: ps is sorted
}

// Install validates p against l (see Profile.Validate), then installs it
// with Installed set to now, replacing the installed profile with p's ID
// and the one with p's connector, purpose and stack level, if any (1.6
// section 5.16; replacing both keeps one profile per connector, purpose and
// stack level, so that stacking never has to break a tie). It refuses,
// with ErrTooMany, to leave more than l.MaxInstalled profiles.
//
// Install is one bbolt transaction, one commit: when it returns nil the
// profile is installed and durable, when it returns an error nothing
// changed, and a crash in between leaves the store as it was. Invalid
// profiles are refused before any write. The store keeps its own copy of
// p; the caller may reuse p's memory.
func (s *Store) Install(p Profile, now time.Time, l Limits) error {
	if err := p.Validate(l); err != nil {
		return err
	}
	p = p.clone()
	p.Installed = now
	normalizeTimes(&p)

	s.wmu.Lock()
	defer s.wmu.Unlock()
	old := s.installed()
	next := make([]Profile, 0, len(old)+1)
	var gone []int
	for _, q := range old {
		if q.ID == p.ID || (q.Connector == p.Connector && q.Purpose == p.Purpose && q.StackLevel == p.StackLevel) {
			gone = append(gone, q.ID)
			continue
		}
		next = append(next, q)
	}
	if len(next)+1 > l.MaxInstalled {
		return fmt.Errorf("%w: profile %d would be number %d, at most %d", ErrTooMany, p.ID, len(next)+1, l.MaxInstalled)
	}
	i, _ := slices.BinarySearchFunc(next, p.ID, func(q Profile, id int) int { return cmp.Compare(q.ID, id) })
	next = slices.Insert(next, i, p)
	err := s.update(func(b *bbolt.Bucket) error {
		for _, id := range gone {
			if err := b.Delete(profileKey(id)); err != nil {
				return err
			}
		}
		return b.Put(profileKey(p.ID), encodeProfile(&p))
	})
	if err != nil {
		return fmt.Errorf("smartcharging: install profile %d: %w", p.ID, err)
	}
	s.profiles.Store(&next)
	return nil
}

// normalizeTimes gives p's times the form they have after a round trip
// through the disk (UTC, no monotonic reading), so that a restarted store
// returns profiles equal to those it returned before.
func normalizeTimes(p *Profile) {
	for _, t := range []*time.Time{&p.ValidFrom, &p.ValidTo, &p.Installed, &p.Schedule.Start} {
		if t.IsZero() {
			*t = time.Time{}
		} else {
			*t = t.UTC()
		}
	}
}

// Filter selects profiles to clear. A nil pointer or a zero Purpose is a
// criterion not given: it matches any value.
type Filter struct {
	// ID, when given, selects the profile with that id and nothing else:
	// the other criteria are then ignored (1.6 ClearChargingProfile).
	ID *int
	// Connector selects the profiles installed on that connector; 0 is
	// the station's own (not every connector's).
	Connector *int
	// Purpose selects the profiles of that purpose; 0 is any.
	Purpose Purpose
	// StackLevel selects the profiles of that stack level.
	StackLevel *int
}

// matches reports whether f selects p.
func (f Filter) matches(p *Profile) bool {
	if f.ID != nil {
		return p.ID == *f.ID
	}
	return (f.Connector == nil || p.Connector == *f.Connector) &&
		(f.Purpose == 0 || p.Purpose == f.Purpose) &&
		(f.StackLevel == nil || p.StackLevel == *f.StackLevel)
}

// Clear removes every profile f selects (the zero Filter selects all) and
// returns how many it removed; an adapter answers 0 with status Unknown.
// It is one commit, and none when nothing matches.
func (s *Store) Clear(f Filter) (removed int, err error) {
	return s.remove(f.matches)
}

// ClearTx removes the Tx profiles of connector, as the adapter does when
// the connector's transaction ends, and returns how many it removed. It is
// one commit, and none when the connector has no Tx profile.
func (s *Store) ClearTx(connector int) (int, error) {
	return s.remove(func(p *Profile) bool { return p.Purpose == PurposeTx && p.Connector == connector })
}

// ClearExpired removes the profiles whose validity ended at or before now
// (ValidTo not after now), which can never apply again, so that they do
// not count against Limits.MaxInstalled; it returns how many it removed.
// It is one commit, and none when no profile has expired: call it when a
// profile is about to be installed rather than on a timer.
func (s *Store) ClearExpired(now time.Time) (int, error) {
	return s.remove(func(p *Profile) bool { return !p.ValidTo.IsZero() && !p.ValidTo.After(now) })
}

// remove deletes the profiles match selects.
func (s *Store) remove(match func(*Profile) bool) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	old := s.installed()
	next := make([]Profile, 0, len(old))
	var gone []int
	for i := range old {
		if match(&old[i]) {
			gone = append(gone, old[i].ID)
			continue
		}
		next = append(next, old[i])
	}
	if len(gone) == 0 {
		return 0, nil
	}
	err := s.update(func(b *bbolt.Bucket) error {
		for _, id := range gone {
			if err := b.Delete(profileKey(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("smartcharging: clear %d profiles: %w", len(gone), err)
	}
	s.profiles.Store(&next)
	return len(gone), nil
}

// update runs fn on the profiles bucket in one read-write transaction,
// creating the buckets and the format mark as needed. The caller holds wmu.
func (s *Store) update(fn func(*bbolt.Bucket) error) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(s.bucket))
		if err != nil {
			return err
		}
		f := b.Get(formatKey)
		switch {
		case f == nil:
			if err := b.Put(formatKey, []byte{storeFormat}); err != nil {
				return err
			}
		case !bytes.Equal(f, []byte{storeFormat}):
			return fmt.Errorf("%w: unknown storage format %x", ErrCorrupt, f)
		}
		pb, err := b.CreateBucketIfNotExists(profilesKey)
		if err != nil {
			return err
		}
		return fn(pb)
	})
}

// Profiles returns the installed profiles, sorted by ID. The slice and the
// profiles are the caller's: they share no memory with the store.
func (s *Store) Profiles() []Profile {
	ps := s.installed()
	out := make([]Profile, len(ps))
	for i := range ps {
		out[i] = ps[i].clone()
	}
	return out
}

// Len returns the number of installed profiles.
func (s *Store) Len() int {
	return len(s.installed())
}

// Evaluate is Evaluate over the installed profiles, without copying them:
// what an adapter calls for GetCompositeSchedule and to drive the
// hardware. It reads no disk.
func (s *Store) Evaluate(q Query) Curve {
	return Evaluate(s.installed(), q)
}
