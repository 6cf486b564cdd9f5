package ocpp201

import (
	"context"
	"errors"

	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/authlist"
	"github.com/evsed/evsed/station"
)

// Authorization (functional block C) and the local list (D).

// Authorize implements station.Authorizer (C01, C10, C12, C13, C15). The
// local list (LocalAuthListCtrlr.Enabled) and the authorization cache
// (AuthCacheCtrlr.Enabled) are the local sources, the list taking
// precedence (a token it holds is judged by it alone):
//
//   - with LocalPreAuthorize, a token a local source holds as Accepted
//     (and not expired) is accepted at once, without asking the CSMS;
//   - when registered, Authorize decides, and its idTokenInfo updates the
//     cache (not for tokens the list holds);
//   - offline (not registered, or no answer): with LocalAuthorizeOffline
//     the local verdict decides, so that expired and blocked entries
//     refuse; a token neither source knows is accepted with
//     OfflineTxForUnknownIdEnabled and Invalid otherwise.
//
// The group token (groupIdToken) is the result's ParentIDTag, so that the
// station lets a token of the same group stop the session. Every answer
// not from the CSMS has Offline set.
func (c *Charger) Authorize(ctx context.Context, idTag string) (station.AuthResult, error) {
	now := c.clk.Now()
	var (
		local station.AuthResult
		known bool
	)
	if entry, listed := c.listLookup(idTag); listed {
		info := IDTokenInfo{Status: AuthorizationStatus(entry.Status)}
		if entry.Status == authlist.Accepted && !entry.Expiry.IsZero() && !now.Before(entry.Expiry) {
			info.Status = AuthorizationStatusExpired
		}
		if entry.GroupToken != "" {
			info.GroupIDToken = &IDToken{IDToken: entry.GroupToken, Type: IDTokenKind(entry.GroupTokenType)}
		}
		local, known = authResult(info, true), true
	} else if e, ok := c.cache.lookup(idTag, now, c.boolVar(refAuthCacheEnabled)); ok {
		local, known = station.AuthResult{Status: authResult(IDTokenInfo{Status: e.Status}, true).Status, ParentIDTag: e.Group, Offline: true}, true
	}
	if known && local.Status == station.AuthAccepted && c.boolVar(refLocalPreAuthorize) {
		return local, nil
	}
	caller := c.transport()
	if caller != nil {
		var resp AuthorizeResponse
		err := call(ctx, caller, ActionAuthorize, &AuthorizeRequest{IDToken: IDToken{IDToken: idTag, Type: tokenKind(idTag)}}, &resp)
		if err == nil {
			c.cacheToken(idTag, resp.IDTokenInfo)
			c.authorized(ctx, idTag, resp.IDTokenInfo)
			return authResult(resp.IDTokenInfo, false), nil
		}
		var ce *ocppclient.CallError
		if errors.As(err, &ce) || ctx.Err() != nil {
			return station.AuthResult{}, err
		}
		c.log.Info("ocpp201 Authorize failed; deciding offline", "err", err)
	}
	switch {
	case known && c.boolVar(refLocalAuthorizeOffline):
		return local, nil
	case !known && c.boolVar(refOfflineTxForUnknownID):
		return station.AuthResult{Status: station.AuthAccepted, Offline: true}, nil
	}
	return station.AuthResult{Status: station.AuthInvalid, Offline: true}, nil
}

func (c *Charger) listLookup(token string) (authlist.Entry, bool) {
	if !c.boolVar(refLocalListEnabled) {
		return authlist.Entry{}, false
	}
	e, ok := c.list.Lookup(token, string(tokenKind(token)), c.clk.Now())
	if !ok {
		e, ok = c.list.Lookup(token, string(IDTokenKindISO14443), c.clk.Now())
	}
	return e, ok
}

// authResult maps an IdTokenInfo; 2.0.1 statuses without a 1.6
// counterpart are Invalid.
func authResult(info IDTokenInfo, offline bool) station.AuthResult {
	out := station.AuthResult{Offline: offline}
	switch info.Status {
	case AuthorizationStatusAccepted:
		out.Status = station.AuthAccepted
	case AuthorizationStatusBlocked:
		out.Status = station.AuthBlocked
	case AuthorizationStatusExpired:
		out.Status = station.AuthExpired
	case AuthorizationStatusConcurrentTx:
		out.Status = station.AuthConcurrentTx
	default:
		out.Status = station.AuthInvalid
	}
	if info.GroupIDToken != nil {
		out.ParentIDTag = info.GroupIDToken.IDToken
	}
	return out
}

// cacheToken records a CSMS verdict on token (from an Authorize or a
// TransactionEvent answer) in the authorization cache when the cache is
// enabled and the local list does not hold the token (C10.FR.04: the
// list takes precedence, so a cache entry for it would never be read).
func (c *Charger) cacheToken(token string, info IDTokenInfo) {
	if !c.boolVar(refAuthCacheEnabled) {
		return
	}
	if _, listed := c.listLookup(token); listed {
		return
	}
	now := c.clk.Now()
	e := cacheEntry{Status: info.Status, Stored: now, Expiry: now.Add(c.seconds(refAuthCacheLifeTime))}
	if info.CacheExpiryDateTime != nil {
		e.Expiry = info.CacheExpiryDateTime.Time
	}
	if info.GroupIDToken != nil {
		e.Group = info.GroupIDToken.IDToken
	}
	if err := c.cache.store(token, e); err != nil {
		c.log.Warn("ocpp201 authorization cache", "err", err)
	}
}

// ClearCache empties the authorization cache, as ClearCache does.
func (c *Charger) ClearCache() error { return c.cache.clear() }

// sendLocalList applies SendLocalList (D01, D02) to the local list.
func (c *Charger) sendLocalList(r *SendLocalListRequest) *SendLocalListResponse {
	kind := authlist.Full
	if r.UpdateType == UpdateKindDifferential {
		kind = authlist.Differential
	}
	changes := make([]authlist.Change, 0, len(r.LocalAuthorizationList))
	for _, d := range r.LocalAuthorizationList {
		ch := authlist.Change{Token: d.IDToken.IDToken, TokenType: string(d.IDToken.Type)}
		if d.IDTokenInfo != nil {
			info := &authlist.Info{Status: authlist.Status(d.IDTokenInfo.Status), EVSEs: d.IDTokenInfo.EVSEID}
			if d.IDTokenInfo.CacheExpiryDateTime != nil {
				info.Expiry = d.IDTokenInfo.CacheExpiryDateTime.Time
			}
			if g := d.IDTokenInfo.GroupIDToken; g != nil {
				info.GroupToken, info.GroupTokenType = g.IDToken, string(g.Type)
			}
			ch.Info = info
		}
		changes = append(changes, ch)
	}
	err := c.list.Update(kind, r.VersionNumber, changes, localListMax)
	switch {
	case err == nil:
		return &SendLocalListResponse{Status: SendLocalListStatusAccepted}
	case errors.Is(err, authlist.ErrVersionMismatch):
		return &SendLocalListResponse{Status: SendLocalListStatusVersionMismatch}
	default:
		c.log.Warn("ocpp201 SendLocalList", "err", err)
		return &SendLocalListResponse{Status: SendLocalListStatusFailed, StatusInfo: statusInfo("Failed", err.Error())}
	}
}

// localListMax is the most entries the local list holds.
const localListMax = 10000

// stationSnapshot reads per-EVSE values from a snapshot.
type stationSnapshot struct{ s station.Snapshot }

func (s *stationSnapshot) reading(n int) (meter.Reading, bool) {
	for _, cs := range s.s.Connectors {
		if cs.ID == n {
			return cs.Meter, true
		}
	}
	return meter.Reading{}, false
}
