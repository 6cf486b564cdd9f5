package ocpp16

import (
	"errors"
	"strings"
	"time"

	"github.com/evsed/evsed/ocppclient/authlist"
	"github.com/evsed/evsed/station"
)

// Local Auth List Management (OCPP 1.6 sections 3.5.3, 5.10 and 5.15): the
// CSMS's list lives in an authlist.List in the adapter's database.
//
// While LocalAuthListEnabled is false the list is neither used nor
// updated: SendLocalList answers NotSupported and GetLocalListVersion -1,
// the value 1.6 reserves for a charge point without a list; the stored
// list is kept for when the key is set again.

// sendLocalList applies a SendLocalList.
func (c *Charger) sendLocalList(r *SendLocalListRequest) *SendLocalListResponse {
	answer := func(s UpdateStatus) *SendLocalListResponse { return &SendLocalListResponse{Status: s} }
	if !c.cfg.Bool(KeyLocalAuthListEnabled) {
		return answer(UpdateStatusNotSupported)
	}
	if n, most := len(r.LocalAuthorizationList), c.cfg.Int(KeySendLocalListMaxLength); n > most {
		c.log.Warn("ocpp16 SendLocalList refused: too many entries", "entries", n, "max", most)
		return answer(UpdateStatusFailed)
	}
	kind := authlist.Differential
	if r.UpdateType == UpdateTypeFull {
		kind = authlist.Full
	}
	changes := make([]authlist.Change, 0, len(r.LocalAuthorizationList))
	for _, e := range r.LocalAuthorizationList {
		ch := authlist.Change{Token: e.IDTag}
		if e.IdTagInfo != nil {
			ch.Info = &authlist.Info{Status: authlist.Status(e.IdTagInfo.Status), GroupToken: e.IdTagInfo.ParentIDTag}
			if e.IdTagInfo.ExpiryDate != nil {
				ch.Info.Expiry = e.IdTagInfo.ExpiryDate.Time
			}
		}
		changes = append(changes, ch)
	}
	err := c.list.Update(kind, r.ListVersion, changes, c.cfg.Int(KeyLocalAuthListMaxLength))
	switch {
	case err == nil:
		c.log.Info("ocpp16 local list updated", "type", r.UpdateType, "version", r.ListVersion, "entries", c.list.Len())
		return answer(UpdateStatusAccepted)
	case errors.Is(err, authlist.ErrVersionMismatch):
		c.log.Info("ocpp16 SendLocalList: version mismatch", "version", r.ListVersion, "have", c.list.Version())
		return answer(UpdateStatusVersionMismatch)
	default:
		c.log.Warn("ocpp16 SendLocalList failed", "type", r.UpdateType, "version", r.ListVersion, "err", err)
		return answer(UpdateStatusFailed)
	}
}

// localListVersion answers GetLocalListVersion.
func (c *Charger) localListVersion() *GetLocalListVersionResponse {
	if !c.cfg.Bool(KeyLocalAuthListEnabled) {
		return &GetLocalListVersionResponse{ListVersion: -1}
	}
	return &GetLocalListVersionResponse{ListVersion: c.list.Version()}
}

// listVerdict is what the local list says of an id tag, when it is enabled
// and holds the tag. An entry past its expiry date reads as Expired.
func (c *Charger) listVerdict(idTag string, now time.Time) (station.AuthResult, bool) {
	if !c.cfg.Bool(KeyLocalAuthListEnabled) {
		return station.AuthResult{}, false
	}
	e, ok := c.list.Lookup(idTag, "", now)
	if !ok {
		return station.AuthResult{}, false
	}
	return station.AuthResult{Status: station.AuthStatus(e.Status), ParentIDTag: e.GroupToken, Offline: true}, true
}

// inList reports whether the local list holds idTag (whatever its status):
// the authorization cache does not keep such tags, since the list takes
// precedence.
func (c *Charger) inList(idTag string) bool {
	if !c.cfg.Bool(KeyLocalAuthListEnabled) || strings.TrimSpace(idTag) == "" {
		return false
	}
	_, ok := c.list.Lookup(idTag, "", c.clk.Now())
	return ok
}
