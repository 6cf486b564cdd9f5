package localapi

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/evsed/evsed/station"
)

func TestClientAgainstServer(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		noSim    bool
		stErr    error
		call     func(*Client) error
		wantCode int // 0 = success
		wantCall string
	}{
		{name: "start", call: func(c *Client) error { return c.Start(ctx, 1, "TAG") }, wantCall: "start 1 TAG remote=false"},
		{name: "stop", call: func(c *Client) error { return c.Stop(ctx, 2) }, wantCall: "stop 2 Local"},
		{name: "plug", call: func(c *Client) error { return c.Plug(ctx, 1) }, wantCall: "plug 1"},
		{name: "charge", call: func(c *Client) error { return c.Charge(ctx, 1) }, wantCall: "charge 1"},
		{name: "pause", call: func(c *Client) error { return c.Pause(ctx, 1) }, wantCall: "pause 1"},
		{name: "unplug", call: func(c *Client) error { return c.Unplug(ctx, 1) }, wantCall: "unplug 1"},
		{name: "swipe", call: func(c *Client) error { return c.Swipe(ctx, 2, "CARD") }, wantCall: "card 2 CARD"},
		{name: "fault", call: func(c *Client) error { return c.Fault(ctx, 1, "weld") }, wantCall: "fault 1 weld"},
		{name: "status", call: func(c *Client) error { _, err := c.Status(ctx); return err }, wantCall: "status"},
		{name: "stop without session", stErr: station.ErrNoSession, call: func(c *Client) error { return c.Stop(ctx, 1) }, wantCode: 409, wantCall: "stop 1 Local"},
		{name: "plug not simulated", noSim: true, call: func(c *Client) error { return c.Plug(ctx, 1) }, wantCode: 409},
		{name: "bad fault kind", call: func(c *Client) error { return c.Fault(ctx, 1, "x") }, wantCode: 400},
		{name: "bad connector", call: func(c *Client) error { return c.Plug(ctx, 0) }, wantCode: 400},
		{name: "status stopped", stErr: station.ErrStopped, call: func(c *Client) error { _, err := c.Status(ctx); return err }, wantCode: 503, wantCall: "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStation{err: tt.stErr}
			opts := Options{Station: st, Logger: quiet}
			if !tt.noSim {
				opts.Sim = &fakeSim{st: st}
			}
			srv, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(srv.Handler())
			defer hs.Close()
			c, err := NewClient(hs.Listener.Addr().String(), hs.Client())
			if err != nil {
				t.Fatal(err)
			}
			err = tt.call(c)
			var apiErr *APIError
			switch {
			case tt.wantCode == 0 && err != nil:
				t.Errorf("err = %v, want nil", err)
			case tt.wantCode != 0 && !errors.As(err, &apiErr):
				t.Errorf("err = %v, want an *APIError", err)
			case tt.wantCode != 0 && (apiErr.StatusCode != tt.wantCode || apiErr.Message == ""):
				t.Errorf("err = %+v, want code %d with a message", apiErr, tt.wantCode)
			}
			var want []string
			if tt.wantCall != "" {
				want = []string{tt.wantCall}
			}
			if got := st.Calls(); !slices.Equal(got, want) {
				t.Errorf("calls = %q, want %q", got, want)
			}
		})
	}
}

func TestNewClientAddress(t *testing.T) {
	tests := []struct {
		addr    string
		wantErr bool
	}{
		{addr: "127.0.0.1:8090"},
		{addr: "http://127.0.0.1:8090/"},
		{addr: "localhost:1"},
		{addr: "ftp://127.0.0.1:21", wantErr: true},
		{addr: "http://", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			_, err := NewClient(tt.addr, nil)
			if (err != nil) != tt.wantErr {
				t.Errorf("NewClient(%q) err = %v, wantErr %v", tt.addr, err, tt.wantErr)
			}
		})
	}
}

func TestClientUnreachable(t *testing.T) {
	hs := httptest.NewServer(nil)
	addr := hs.Listener.Addr().String()
	hs.Close()
	c, err := NewClient(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Status(context.Background())
	var apiErr *APIError
	if err == nil || errors.As(err, &apiErr) {
		t.Errorf("err = %v, want a transport error", err)
	}
}
