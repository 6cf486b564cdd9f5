package localapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// APIError is a non-2xx answer of the API.
type APIError struct {
	// StatusCode is the HTTP status code, e.g. 409.
	StatusCode int
	// Message is the server's {"error": ...} text, or the raw body when it
	// was not JSON.
	Message string
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("%s (HTTP %d)", e.Message, e.StatusCode)
}

// Client calls a Server over HTTP. It fetches the request token that
// state-changing calls need by itself (and again when the server restarted
// and has a new one). Its methods are safe for concurrent use.
type Client struct {
	base     string
	hc       *http.Client
	password string // set by SetPassword before use

	mu    sync.Mutex // guards token
	token string     // the server's request token; "" until fetched
}

// NewClient returns a client for the API at addr, either "host:port" or a
// base URL such as "http://127.0.0.1:8090". A nil hc means
// http.DefaultClient; callers bound each call with ctx.
func NewClient(addr string, hc *http.Client) (*Client, error) {
	base := addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("localapi: bad API address %q: want host:port or http://host:port", addr)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(u.String(), "/"), hc: hc}, nil
}

// SetPassword makes the client send password with HTTP Basic, for a
// server with Options.Password. Call it before the first call.
func (c *Client) SetPassword(password string) { c.password = password }

// Session returns what the server says about this client's access,
// including the request token.
func (c *Client) Session(ctx context.Context) (SessionInfo, error) {
	var info SessionInfo
	raw, err := c.do(ctx, http.MethodGet, "/api/v1/session", nil, "")
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		return info, fmt.Errorf("localapi: decode session: %w", err)
	}
	if !info.Authenticated {
		return info, &APIError{StatusCode: http.StatusUnauthorized, Message: "password required (EVSED_API_PASSWORD)"}
	}
	return info, nil
}

// requestToken returns the cached token, fetching it when fresh is set
// or none is cached.
func (c *Client) requestToken(ctx context.Context, fresh bool) (string, error) {
	c.mu.Lock()
	tok := c.token
	c.mu.Unlock()
	if tok != "" && !fresh {
		return tok, nil
	}
	info, err := c.Session(ctx)
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound {
		// An evsed from before request tokens: it needs none.
		return "", nil
	}
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.token = info.Token
	c.mu.Unlock()
	return info.Token, nil
}

// Status returns the station's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	raw, err := c.StatusJSON(ctx)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, fmt.Errorf("localapi: decode status: %w", err)
	}
	return st, nil
}

// StatusJSON returns the status body as the server sent it.
func (c *Client) StatusJSON(ctx context.Context) (json.RawMessage, error) {
	return c.do(ctx, http.MethodGet, "/api/v1/status", nil, "")
}

// QRCodeSVG returns the SVG image of the QR code connector n shows its
// driver; an *APIError with 404 when it shows none.
func (c *Client) QRCodeSVG(ctx context.Context, n int) ([]byte, error) {
	return c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/connectors/%d/qr.svg", n), nil, "")
}

// Start requests a local start on connector n for idTag.
func (c *Client) Start(ctx context.Context, n int, idTag string) error {
	return c.post(ctx, fmt.Sprintf("/api/v1/connectors/%d/start", n), idTagBody{IDTag: idTag})
}

// Stop ends the session on connector n.
func (c *Client) Stop(ctx context.Context, n int) error {
	return c.post(ctx, fmt.Sprintf("/api/v1/connectors/%d/stop", n), nil)
}

// SetLimit sets an external limit (connector 0: the whole station); see
// LimitBody.
func (c *Client) SetLimit(ctx context.Context, l LimitBody) error {
	return c.post(ctx, "/api/v1/limits", l)
}

// SetMode sets connector n's charge mode: fast, pv or minpv.
func (c *Client) SetMode(ctx context.Context, n int, mode string) error {
	return c.post(ctx, fmt.Sprintf("/api/v1/connectors/%d/mode", n), modeBody{Mode: mode})
}

// Plug plugs the simulated vehicle at connector n in.
func (c *Client) Plug(ctx context.Context, n int) error { return c.sim(ctx, n, "plug", nil) }

// Charge makes the simulated vehicle at connector n ask for energy.
func (c *Client) Charge(ctx context.Context, n int) error { return c.sim(ctx, n, "charge", nil) }

// Pause makes the simulated vehicle at connector n stop asking for energy.
func (c *Client) Pause(ctx context.Context, n int) error { return c.sim(ctx, n, "pause", nil) }

// Unplug unplugs the simulated vehicle at connector n.
func (c *Client) Unplug(ctx context.Context, n int) error { return c.sim(ctx, n, "unplug", nil) }

// Swipe presents idTag to the simulated card reader at connector n.
func (c *Client) Swipe(ctx context.Context, n int, idTag string) error {
	return c.sim(ctx, n, "swipe", idTagBody{IDTag: idTag})
}

// Fault injects (or clears) a simulated fault at connector n; kind is one of
// FaultKinds.
func (c *Client) Fault(ctx context.Context, n int, kind string) error {
	return c.sim(ctx, n, "fault", faultBody{Kind: kind})
}

func (c *Client) sim(ctx context.Context, n int, action string, body any) error {
	return c.post(ctx, fmt.Sprintf("/api/v1/sim/connectors/%d/%s", n, action), body)
}

// post sends a state-changing request with the request token, fetching a
// fresh token and trying once more when the server refused a stale one.
func (c *Client) post(ctx context.Context, path string, body any) error {
	tok, err := c.requestToken(ctx, false)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodPost, path, body, tok)
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusForbidden && strings.Contains(ae.Message, "token") {
		if fresh, terr := c.requestToken(ctx, true); terr == nil && fresh != tok {
			_, err = c.do(ctx, http.MethodPost, path, body, fresh)
		}
	}
	return err
}

// do sends one request and returns the body of a 2xx answer, or an
// *APIError. token, when set, goes in TokenHeader.
func (c *Client) do(ctx context.Context, method, path string, body any, token string) (json.RawMessage, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("localapi: encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("localapi: %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set(TokenHeader, token)
	}
	if c.password != "" {
		req.SetBasicAuth("evsed", c.password)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("localapi: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	// Answers are small; 1 MiB bounds a misbehaving server.
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("localapi: %s %s: read body: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var eb errorBody
		msg := strings.TrimSpace(string(raw))
		if json.Unmarshal(raw, &eb) == nil && eb.Error != "" {
			msg = eb.Error
		}
		return nil, &APIError{StatusCode: resp.StatusCode, Message: msg}
	}
	return raw, nil
}
