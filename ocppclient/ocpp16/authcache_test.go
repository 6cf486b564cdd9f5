package ocpp16

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/station"
)

func TestAuthorizeMatrix(t *testing.T) {
	const tag = "CARD1"
	accepted := IdTagInfo{Status: AuthorizationStatusAccepted}
	type link int
	const (
		online    link = iota
		notOnline      // transport not registered
		callFails      // the CALL times out
		neverBoot      // no BootNotification accepted yet
	)
	tests := []struct {
		name   string
		keys   map[string]string
		cached *IdTagInfo // in the cache before the test
		link   link
		csms   IdTagInfo // the CSMS's answer when asked
		want   station.AuthResult
		asked  bool // whether Authorize.req must be sent
	}{
		{name: "online accepted", csms: accepted, asked: true,
			want: station.AuthResult{Status: station.AuthAccepted}},
		{name: "online invalid", csms: IdTagInfo{Status: AuthorizationStatusInvalid}, asked: true,
			want: station.AuthResult{Status: station.AuthInvalid}},
		{name: "online with parent", csms: IdTagInfo{Status: AuthorizationStatusAccepted, ParentIDTag: "FLEET"}, asked: true,
			want: station.AuthResult{Status: station.AuthAccepted, ParentIDTag: "FLEET"}},
		{name: "online overrides a cached accept", cached: &accepted, csms: IdTagInfo{Status: AuthorizationStatusBlocked}, asked: true,
			want: station.AuthResult{Status: station.AuthBlocked}},
		{name: "offline unknown tag", link: notOnline,
			want: station.AuthResult{Status: station.AuthInvalid, Offline: true}},
		{name: "offline cached accept", link: notOnline, cached: &IdTagInfo{Status: AuthorizationStatusAccepted, ParentIDTag: "P"},
			want: station.AuthResult{Status: station.AuthAccepted, ParentIDTag: "P", Offline: true}},
		{name: "never registered counts as offline", link: neverBoot, cached: &accepted,
			want: station.AuthResult{Status: station.AuthAccepted, Offline: true}},
		{name: "timeout falls back to the cache", link: callFails, cached: &accepted, asked: true,
			want: station.AuthResult{Status: station.AuthAccepted, Offline: true}},
		{name: "LocalAuthorizeOffline off ignores the cache", link: notOnline, cached: &accepted,
			keys: map[string]string{KeyLocalAuthorizeOffline: "false"},
			want: station.AuthResult{Status: station.AuthInvalid, Offline: true}},
		{name: "AllowOfflineTxForUnknownId accepts unknown", link: notOnline,
			keys: map[string]string{KeyAllowOfflineTxForUnknownID: "true"},
			want: station.AuthResult{Status: station.AuthAccepted, Offline: true}},
		{name: "AllowOfflineTxForUnknownId does not override a known block", link: notOnline,
			cached: &IdTagInfo{Status: AuthorizationStatusBlocked},
			keys:   map[string]string{KeyAllowOfflineTxForUnknownID: "true"},
			want:   station.AuthResult{Status: station.AuthBlocked, Offline: true}},
		{name: "expired cache entry", link: notOnline,
			cached: &IdTagInfo{Status: AuthorizationStatusAccepted, ExpiryDate: NewDateTimePtr(t0.Add(-time.Minute))},
			want:   station.AuthResult{Status: station.AuthExpired, Offline: true}},
		{name: "cache entry not yet expired", link: notOnline,
			cached: &IdTagInfo{Status: AuthorizationStatusAccepted, ExpiryDate: NewDateTimePtr(t0.Add(time.Hour))},
			want:   station.AuthResult{Status: station.AuthAccepted, Offline: true}},
		{name: "cache disabled", link: notOnline, cached: &accepted,
			keys: map[string]string{KeyAuthorizationCacheEnabled: "false"},
			want: station.AuthResult{Status: station.AuthInvalid, Offline: true}},
		{name: "LocalPreAuthorize answers from the cache", cached: &accepted,
			keys: map[string]string{KeyLocalPreAuthorize: "true"},
			want: station.AuthResult{Status: station.AuthAccepted, Offline: true}},
		{name: "LocalPreAuthorize asks for an expired tag", csms: accepted, asked: true,
			cached: &IdTagInfo{Status: AuthorizationStatusAccepted, ExpiryDate: NewDateTimePtr(t0)},
			keys:   map[string]string{KeyLocalPreAuthorize: "true"},
			want:   station.AuthResult{Status: station.AuthAccepted}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.keys)
			if tc.link != neverBoot {
				r.register()
			}
			base := csmsAnswers()
			r.caller.answer = func(action string, req json.RawMessage) (any, error) {
				if action != ActionAuthorize {
					return base(action, req)
				}
				if tc.link == callFails {
					return nil, ocppclient.ErrTimeout
				}
				return AuthorizeResponse{IdTagInfo: tc.csms}, nil
			}
			r.setOnline(tc.link == online || tc.link == callFails)
			if tc.cached != nil {
				// Stored an hour ago, so that "expired" is relative to now.
				if err := r.c.auth.Store(tag, *tc.cached, t0.Add(-time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := r.c.Authorize(context.Background(), tag)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Authorize = %+v, want %+v", got, tc.want)
			}
			asks := r.caller.Calls(ActionAuthorize)
			if (len(asks) > 0) != tc.asked {
				t.Errorf("sent %d Authorize.req, want asked=%v", len(asks), tc.asked)
			}
			if tc.asked && tc.link == online {
				// The CSMS's answer is what the cache now holds.
				e, ok, err := r.c.auth.Lookup(tag, t0)
				if err != nil || !ok || e.Status != tc.csms.Status || e.Parent != tc.csms.ParentIDTag {
					t.Errorf("cache after online answer = %+v, %v, %v; want %+v", e, ok, err, tc.csms)
				}
			}
		})
	}
}

func TestClearCacheForgetsTags(t *testing.T) {
	r := newRig(t, nil)
	for _, tag := range []string{"A", "B"} {
		if err := r.c.auth.Store(tag, IdTagInfo{Status: AuthorizationStatusAccepted}, t0); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := r.c.HandleCall(context.Background(), ActionClearCache, json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.(*ClearCacheResponse).Status; got != ClearCacheStatusAccepted {
		t.Errorf("ClearCache = %s", got)
	}
	for _, tag := range []string{"A", "B"} {
		if _, ok, err := r.c.auth.Lookup(tag, t0); ok || err != nil {
			t.Errorf("tag %s still cached (err %v)", tag, err)
		}
	}
	// The cache still works after being cleared.
	if err := r.c.auth.Store("C", IdTagInfo{Status: AuthorizationStatusAccepted}, t0); err != nil {
		t.Fatal(err)
	}
	got, err := r.c.Authorize(context.Background(), "C")
	if err != nil || got != (station.AuthResult{Status: station.AuthAccepted, Offline: true}) {
		t.Errorf("Authorize after clear = %+v, %v", got, err)
	}
}

func TestAuthCacheEvictsOldest(t *testing.T) {
	r := newRig(t, nil)
	for i := range maxCacheEntries + 1 {
		tag := "T" + strconv.Itoa(i)
		if err := r.c.auth.Store(tag, IdTagInfo{Status: AuthorizationStatusAccepted}, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := r.c.auth.Lookup("T0", t0); ok {
		t.Error("oldest entry survived a full cache")
	}
	if _, ok, _ := r.c.auth.Lookup("T1", t0); !ok {
		t.Error("second oldest entry was evicted too")
	}
}
