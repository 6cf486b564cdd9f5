package ocpp201

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
)

// The authorization cache (C10-C12; AuthCacheCtrlr): the CSMS's latest
// verdict on each token, in bbolt so that it survives restarts and power
// cuts, which is when it matters. An entry lives until its
// cacheExpiryDateTime or, when the CSMS gave none, LifeTime after it was
// written; an Accepted entry past that reads as Expired. When the cache
// holds cacheMaxEntries tokens or Storage's maxLimit in bytes, the entry
// written longest ago goes (Policy FIFO). Storage's Actual value is the
// bytes the entries take, read live.

var (
	refAuthCacheEnabled  = devicemodel.AuthCacheEnabled
	refAuthCacheLifeTime = devicemodel.AuthCacheLifeTime
	refAuthCacheStorage  = devicemodel.AuthCacheStorage
)

// cacheBucket is the sub-bucket of the adapter's top-level bucket that
// holds the cache: token -> cacheEntry (JSON).
var cacheBucket = []byte("authcache")

// cacheMaxEntries bounds the cache by count; a public charger sees a few
// thousand distinct cards in its life at most.
const cacheMaxEntries = 2000

// cacheEntry is the verdict the CSMS last gave on a token.
type cacheEntry struct {
	Status AuthorizationStatus `json:"status"`
	Group  string              `json:"group,omitempty"`
	// Expiry is when the entry stops being Accepted.
	Expiry time.Time `json:"expiry,omitzero"`
	// Stored is when it was written, for eviction.
	Stored time.Time `json:"stored"`
}

// authCache is the cache over the adapter's store; safe for concurrent
// use.
type authCache struct {
	s *store
	// maxBytes bounds the bytes the entries take (keys and values).
	maxBytes int
	// size is the bytes the entries take now, count how many there are.
	size, count atomic.Int64
}

func openAuthCache(s *store, maxBytes int) (*authCache, error) {
	c := &authCache{s: s, maxBytes: maxBytes}
	err := s.view(cacheBucket, func(b *bbolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			c.size.Add(int64(len(k) + len(v)))
			c.count.Add(1)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("open authorization cache: %w", err)
	}
	return c, nil
}

// lookup returns the cached verdict on token when enabled; an Accepted
// entry past its expiry reads as Expired.
func (c *authCache) lookup(token string, now time.Time, enabled bool) (cacheEntry, bool) {
	if !enabled {
		return cacheEntry{}, false
	}
	var (
		e  cacheEntry
		ok bool
	)
	_ = c.s.view(cacheBucket, func(b *bbolt.Bucket) error {
		if v := b.Get([]byte(token)); v != nil {
			ok = json.Unmarshal(v, &e) == nil
		}
		return nil
	})
	if ok && e.Status == AuthorizationStatusAccepted && !e.Expiry.IsZero() && !now.Before(e.Expiry) {
		e.Status = AuthorizationStatusExpired
	}
	return e, ok
}

// store writes e for token, evicting the oldest entries while the cache
// is full. One commit.
func (c *authCache) store(token string, e cacheEntry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	key := []byte(token)
	return c.s.update(cacheBucket, func(b *bbolt.Bucket) error {
		size, count := c.size.Load(), c.count.Load()
		old := b.Get(key)
		if old != nil {
			size -= int64(len(key) + len(old))
			count--
		}
		add := int64(len(key) + len(v))
		for count > 0 && (count >= cacheMaxEntries || (c.maxBytes > 0 && size+add > int64(c.maxBytes))) {
			freed, err := evictOldest(b, key)
			if err != nil {
				return err
			}
			if freed == 0 {
				break
			}
			size -= int64(freed)
			count--
		}
		if err := b.Put(key, v); err != nil {
			return err
		}
		c.size.Store(size + add)
		c.count.Store(count + 1)
		return nil
	})
}

// evictOldest deletes the entry written longest ago other than keep and
// returns the bytes it took. It scans the bucket, which happens only when
// a token arrives at a full cache.
func evictOldest(b *bbolt.Bucket, keep []byte) (int, error) {
	var (
		oldest []byte
		at     time.Time
		n      int
	)
	err := b.ForEach(func(k, v []byte) error {
		if string(k) == string(keep) {
			return nil
		}
		var e cacheEntry
		if json.Unmarshal(v, &e) != nil {
			e = cacheEntry{} // unreadable: evict it first
		}
		if oldest == nil || e.Stored.Before(at) {
			oldest, at, n = append([]byte(nil), k...), e.Stored, len(k)+len(v)
		}
		return nil
	})
	if err != nil || oldest == nil {
		return 0, err
	}
	return n, b.Delete(oldest)
}

// clear empties the cache. One commit.
func (c *authCache) clear() error {
	err := c.s.update(cacheBucket, func(b *bbolt.Bucket) error {
		var keys [][]byte
		if err := b.ForEach(func(k, _ []byte) error { keys = append(keys, append([]byte(nil), k...)); return nil }); err != nil {
			return err
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("clear authorization cache: %w", err)
	}
	c.size.Store(0)
	c.count.Store(0)
	return nil
}

// bytes is the Actual value of AuthCacheCtrlr.Storage.
func (c *authCache) bytes() string { return fmt.Sprint(c.size.Load()) }
