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

// Authorize implements station.Authorizer (C01): with LocalPreAuthorize
// a token the local list accepts is accepted without a round trip;
// otherwise the CSMS is asked. Offline, LocalAuthorizeOffline lets the
// local list answer, and OfflineTxForUnknownIdEnabled accepts a token it
// does not hold.
func (c *Charger) Authorize(ctx context.Context, idTag string) (station.AuthResult, error) {
	now := c.clk.Now()
	entry, listed := c.listLookup(idTag)
	if listed && c.boolVar(refLocalPreAuthorize) && entry.Status == authlist.Accepted && (entry.Expiry.IsZero() || now.Before(entry.Expiry)) {
		return station.AuthResult{Status: station.AuthAccepted, ParentIDTag: entry.GroupToken, Offline: true}, nil
	}
	caller := c.transport()
	if caller != nil {
		var resp AuthorizeResponse
		err := call(ctx, caller, ActionAuthorize, &AuthorizeRequest{IDToken: IDToken{IDToken: idTag, Type: tokenKind(idTag)}}, &resp)
		if err == nil {
			return authResult(resp.IDTokenInfo, false), nil
		}
		var ce *ocppclient.CallError
		if errors.As(err, &ce) || ctx.Err() != nil {
			return station.AuthResult{}, err
		}
		c.log.Info("ocpp201 Authorize failed; deciding offline", "err", err)
	}
	if listed && c.boolVar(refLocalAuthorizeOffline) {
		return authResult(IDTokenInfo{Status: AuthorizationStatus(entry.Status)}, true), nil
	}
	if !listed && c.boolVar(refOfflineTxForUnknownID) {
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

// cacheToken would record a verdict in the authorization cache; the
// cache is not implemented yet (AuthCacheCtrlr), so verdicts are not
// kept.
func (c *Charger) cacheToken(string, IDTokenInfo) {}

// ClearCache empties the authorization cache (which holds nothing yet).
func (c *Charger) ClearCache() error { return nil }

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
