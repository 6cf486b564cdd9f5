package ocpp16

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/station"
)

// authBucket is the sub-bucket of the adapter's top-level bucket that holds
// the authorization cache: id tag -> cacheEntry (JSON).
var authBucket = []byte("authcache")

// maxCacheEntries bounds the authorization cache. A public charger sees a
// few thousand distinct cards in its life at most; past the bound the entry
// written longest ago goes, as section 3.5.1 leaves eviction to the charge
// point.
const maxCacheEntries = 2000

// cacheEntry is the idTagInfo the CSMS last gave for a tag.
type cacheEntry struct {
	Status AuthorizationStatus `json:"status"`
	Parent string              `json:"parent,omitempty"`
	// Expiry is the tag's expiryDate; zero when the CSMS gave none.
	Expiry time.Time `json:"expiry,omitzero"`
	// Stored is when the entry was written, for eviction.
	Stored time.Time `json:"stored"`
}

// authCache is the Authorization Cache of OCPP 1.6 section 3.5.1, in bbolt so
// that it survives restarts (and power cuts, which is when it matters). It
// is safe for concurrent use.
//
// It is a view of the Charger's txStore: both keep their sub-buckets under
// the same top-level bucket of the same database, so one value (db, top)
// serves the two, which saves the fleet simulator an allocation and a copy
// of the bucket name per charger.
type authCache txStore

// openAuthCache creates the cache bucket under s's top-level bucket if
// needed, and returns the cache kept there.
func openAuthCache(s *txStore) (*authCache, error) {
	c := (*authCache)(s)
	err := c.db.Update(func(tx *bbolt.Tx) error {
		_, err := subBuckets(tx, c.top, true, authBucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open authorization cache %q: %w", c.top, err)
	}
	return c, nil
}

// Lookup returns the cached verdict on idTag and whether there is one. An
// entry past its expiry date reads as Expired, as the specification asks
// the cache to mark it.
func (c *authCache) Lookup(idTag string, now time.Time) (cacheEntry, bool, error) {
	var (
		e  cacheEntry
		ok bool
	)
	err := c.db.View(func(tx *bbolt.Tx) error {
		b, err := subBuckets(tx, c.top, false, authBucket)
		if err != nil {
			return err
		}
		v := b[0].Get([]byte(idTag))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &e)
	})
	if err != nil {
		return cacheEntry{}, false, fmt.Errorf("authorization cache lookup: %w", err)
	}
	if ok && e.Status == AuthorizationStatusAccepted && !e.Expiry.IsZero() && !now.Before(e.Expiry) {
		e.Status = AuthorizationStatusExpired
	}
	return e, ok, nil
}

// Store records the CSMS's verdict info on idTag at now.
func (c *authCache) Store(idTag string, info IdTagInfo, now time.Time) error {
	e := cacheEntry{Status: info.Status, Parent: info.ParentIDTag, Stored: now}
	if info.ExpiryDate != nil {
		e.Expiry = info.ExpiryDate.Time
	}
	enc, err := json.Marshal(e)
	if err != nil {
		return err
	}
	err = c.db.Update(func(tx *bbolt.Tx) error {
		b, err := subBuckets(tx, c.top, false, authBucket)
		if err != nil {
			return err
		}
		cache := b[0]
		if cache.Get([]byte(idTag)) == nil && cache.Stats().KeyN >= maxCacheEntries {
			if err := evictOldest(cache); err != nil {
				return err
			}
		}
		return cache.Put([]byte(idTag), enc)
	})
	if err != nil {
		return fmt.Errorf("authorization cache store: %w", err)
	}
	return nil
}

// evictOldest deletes the entry stored longest ago. It scans the bucket,
// which happens only when a new tag arrives at a full cache.
func evictOldest(cache *bbolt.Bucket) error {
	var (
		oldest []byte
		at     time.Time
	)
	err := cache.ForEach(func(k, v []byte) error {
		var e cacheEntry
		if json.Unmarshal(v, &e) != nil {
			e = cacheEntry{} // unreadable: evict it first
		}
		if oldest == nil || e.Stored.Before(at) {
			oldest, at = append([]byte(nil), k...), e.Stored
		}
		return nil
	})
	if err != nil || oldest == nil {
		return err
	}
	return cache.Delete(oldest)
}

// Clear empties the cache (ClearCache.req).
func (c *authCache) Clear() error {
	err := c.db.Update(func(tx *bbolt.Tx) error {
		top := tx.Bucket([]byte(c.top))
		if top == nil {
			return fmt.Errorf("bucket %q missing", c.top)
		}
		if err := top.DeleteBucket(authBucket); err != nil {
			return err
		}
		_, err := top.CreateBucket(authBucket)
		return err
	})
	if err != nil {
		return fmt.Errorf("clear authorization cache: %w", err)
	}
	return nil
}

// Authorize implements station.Authorizer, following OCPP 1.6 sections
// 3.5 and 5.2 and the keys LocalPreAuthorize, LocalAuthListEnabled,
// AuthorizationCacheEnabled, LocalAuthorizeOffline and
// AllowOfflineTxForUnknownId. The local list and the cache are the local
// sources, the list taking precedence (a tag it holds is judged by it
// alone):
//
//   - with LocalPreAuthorize, a tag a local source holds as Accepted (and
//     not expired) is accepted at once, without asking the CSMS;
//   - when registered, Authorize.req decides, and its idTagInfo updates the
//     cache (not for tags the list holds);
//   - offline (not registered, ErrOffline, no answer in time, or an answer
//     that breaks the schema): with LocalAuthorizeOffline the local verdict
//     decides, so that expired and blocked entries refuse; a tag neither
//     source knows is accepted with AllowOfflineTxForUnknownId and Invalid
//     otherwise.
//
// Every answer not from the CSMS has Offline set. The error is ctx's when
// it ends; other failures fall back to the offline rules.
func (c *Charger) Authorize(ctx context.Context, idTag string) (station.AuthResult, error) {
	now := c.clk.Now()
	local, known := c.listVerdict(idTag, now)
	if !known && c.cfg.Bool(KeyAuthorizationCacheEnabled) {
		cached, ok, err := c.auth.Lookup(idTag, now)
		if err != nil {
			c.log.Warn("ocpp16 authorization cache", "err", err)
		}
		if ok {
			local, known = station.AuthResult{Status: station.AuthStatus(cached.Status), ParentIDTag: cached.Parent, Offline: true}, true
		}
	}
	if known && local.Status == station.AuthAccepted && c.cfg.Bool(KeyLocalPreAuthorize) {
		return local, nil
	}

	if caller := c.transport(); caller != nil {
		var resp AuthorizeResponse
		err := call(ctx, caller, ActionAuthorize, &AuthorizeRequest{IDTag: idTag}, &resp)
		if err == nil {
			c.updateCache(idTag, resp.IdTagInfo)
			return station.AuthResult{
				Status:      station.AuthStatus(resp.IdTagInfo.Status),
				ParentIDTag: resp.IdTagInfo.ParentIDTag,
			}, nil
		}
		if ctx.Err() != nil {
			return station.AuthResult{}, ctx.Err()
		}
		c.log.Warn("ocpp16 Authorize failed; deciding offline", "err", err)
	}

	switch {
	case known && c.cfg.Bool(KeyLocalAuthorizeOffline):
		return local, nil
	case !known && c.cfg.Bool(KeyAllowOfflineTxForUnknownID):
		return station.AuthResult{Status: station.AuthAccepted, Offline: true}, nil
	}
	return station.AuthResult{Status: station.AuthInvalid, Offline: true}, nil
}

// updateCache stores a CSMS verdict when the cache is enabled and the
// local list does not hold the tag (the list takes precedence, so a cache
// entry for it would never be read).
func (c *Charger) updateCache(idTag string, info IdTagInfo) {
	if !c.cfg.Bool(KeyAuthorizationCacheEnabled) || c.inList(idTag) {
		return
	}
	if err := c.auth.Store(idTag, info, c.clk.Now()); err != nil {
		c.log.Warn("ocpp16 authorization cache", "err", err)
	}
}

// ClearCache empties the authorization cache, as ClearCache.req does.
func (c *Charger) ClearCache() error { return c.auth.Clear() }
