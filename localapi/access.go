package localapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Access rules (see docs/web.md):
//
//   - Without a password the server must listen on loopback (Run refuses
//     anything else), and it answers only requests whose Host is a loopback
//     name or address, so that a web page whose DNS name was rebound to
//     127.0.0.1 cannot read or drive the charger.
//   - With a password every /api/ route except GET /api/v1/session and
//     POST /api/v1/login needs it: HTTP Basic (any user name) or the
//     session cookie that login sets. The page's static files are public:
//     they are the same in every evsed binary and hold no data.
//   - Every state-changing request (any method but GET and HEAD) a browser
//     sends also carries the server's request token in the TokenHeader
//     header. Only a same-origin, authenticated reader of GET
//     /api/v1/session learns it, which a cross-site form or script cannot
//     be. A browser is told by the headers every browser adds and a script
//     does not (Origin, Sec-Fetch-*, the session cookie), so that `curl -X
//     POST` and other programs keep the API's plain contract; they carry
//     the password themselves when one is set.

// TokenHeader is the request header that carries the request token.
const TokenHeader = "X-Evsed-Token"

// SessionCookie is the name of the page's session cookie.
const SessionCookie = "evsed_session"

// Session and login limits.
const (
	// sessionTTL is how long a login lasts.
	sessionTTL = 12 * time.Hour
	// maxSessions bounds the logins kept; the one closest to expiry goes
	// first.
	maxSessions = 64
	// freeFailures is how many wrong passwords in a row are answered at
	// once; after that each one locks logins for twice as long as the
	// previous, from 1 s up to maxLockout.
	freeFailures = 5
	maxLockout   = 5 * time.Minute
)

// ErrNoPassword is returned by Run when asked to serve a non-loopback
// address without Options.Password.
var ErrNoPassword = errors.New("localapi: a non-loopback listen address needs a password")

// access holds the password check, the logins and the request token.
type access struct {
	// passwordHash is the SHA-256 of Options.Password; nil means no
	// password. Comparing hashes in constant time hides the length too.
	passwordHash []byte
	// token is the request token, fixed for the server's lifetime.
	token string
	now   func() time.Time

	mu       sync.Mutex           // guards the fields below
	sessions map[string]time.Time // session id -> expiry
	failures int                  // wrong passwords in a row
	lockedTo time.Time            // no password check before this
}

func newAccess(password string, now func() time.Time) *access {
	a := &access{token: randomID(), now: now, sessions: map[string]time.Time{}}
	if password != "" {
		h := sha256.Sum256([]byte(password))
		a.passwordHash = h[:]
	}
	return a
}

// randomID returns 32 random bytes, base64url: a session id or a token.
func randomID() string {
	var b [32]byte
	// crypto/rand.Read does not fail on the systems Go supports.
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// protected reports whether a password is set.
func (a *access) protected() bool { return a.passwordHash != nil }

// errLockedOut is the answer to a password check during a lockout.
type errLockedOut struct{ wait time.Duration }

func (e errLockedOut) Error() string {
	return fmt.Sprintf("too many wrong passwords: try again in %s", e.wait.Round(time.Second))
}

// checkPassword compares pw with the password in constant time and keeps
// count of failures. It returns nil on a match, errLockedOut during a
// lockout and another error on a mismatch.
func (a *access) checkPassword(pw string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if now.Before(a.lockedTo) {
		return errLockedOut{a.lockedTo.Sub(now)}
	}
	h := sha256.Sum256([]byte(pw))
	if subtle.ConstantTimeCompare(h[:], a.passwordHash) == 1 {
		a.failures = 0
		return nil
	}
	a.failures++
	if n := a.failures - freeFailures; n > 0 {
		lock := maxLockout
		if n < 10 {
			lock = min(time.Second<<(n-1), maxLockout)
		}
		a.lockedTo = now.Add(lock)
	}
	return errors.New("wrong password")
}

// newSession records a login and returns its id.
func (a *access) newSession() string {
	id := randomID()
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	for k, exp := range a.sessions {
		if !now.Before(exp) {
			delete(a.sessions, k)
		}
	}
	for len(a.sessions) >= maxSessions {
		var oldest string
		for k, exp := range a.sessions {
			if oldest == "" || exp.Before(a.sessions[oldest]) {
				oldest = k
			}
		}
		delete(a.sessions, oldest)
	}
	a.sessions[id] = now.Add(sessionTTL)
	return id
}

// validSession reports whether id is a live login.
func (a *access) validSession(id string) bool {
	if id == "" {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.sessions[id]
	return ok && a.now().Before(exp)
}

// endSession forgets a login.
func (a *access) endSession(id string) {
	a.mu.Lock()
	delete(a.sessions, id)
	a.mu.Unlock()
}

// authenticate says whether r may use the protected routes: always without
// a password; with one, a live session cookie or the right Basic password.
// A wrong Basic password (or one during a lockout) is returned as the
// error.
func (a *access) authenticate(r *http.Request) (bool, error) {
	if !a.protected() {
		return true, nil
	}
	if c, err := r.Cookie(SessionCookie); err == nil && a.validSession(c.Value) {
		return true, nil
	}
	if _, pw, ok := r.BasicAuth(); ok {
		if err := a.checkPassword(pw); err != nil {
			return false, err
		}
		return true, nil
	}
	return false, nil
}

// validToken compares a request's token with the server's in constant
// time.
func (a *access) validToken(got string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(a.token)) == 1
}

// loopbackHost reports whether the Host header names this machine by a
// loopback address or "localhost", with or without a port.
func loopbackHost(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if strings.EqualFold(h, "localhost") || strings.HasSuffix(strings.ToLower(h), ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// LoopbackAddr reports whether a listen address (host:port) accepts only
// loopback connections: its host is a loopback IP or "localhost". An
// empty host ("":8090) listens everywhere.
func LoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	return loopbackHost(host)
}

// publicRoute reports whether a route needs no password: the page's files,
// the session probe and the login.
func publicRoute(r *http.Request) bool {
	p := r.URL.Path
	switch {
	case p == "/" || p == "/favicon.ico" || strings.HasPrefix(p, "/ui/"):
		return r.Method == http.MethodGet || r.Method == http.MethodHead
	case p == "/api/v1/session":
		return r.Method == http.MethodGet
	case p == "/api/v1/login":
		return true
	}
	return false
}

// safeMethod reports whether a method only reads.
func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// guard applies the access rules before next.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.access.protected() && !loopbackHost(r.Host) {
			writeError(w, http.StatusMisdirectedRequest, fmt.Errorf("host %q is not a loopback name: without api.password the local API answers only http://127.0.0.1 or http://localhost", r.Host))
			return
		}
		ok, err := s.access.authenticate(r)
		var locked errLockedOut
		switch {
		case errors.As(err, &locked):
			w.Header().Set("Retry-After", fmt.Sprint(int(locked.wait.Seconds())+1))
			writeError(w, http.StatusTooManyRequests, err)
			return
		case !ok && !publicRoute(r):
			// The page asks for the password with its own form; only
			// other clients get the browser's Basic prompt.
			if r.Header.Get(pageHeader) == "" {
				w.Header().Set("WWW-Authenticate", `Basic realm="evsed", charset="UTF-8"`)
			}
			msg := "password required: log in on the page or use HTTP Basic"
			if err != nil {
				msg = err.Error()
			}
			writeError(w, http.StatusUnauthorized, errors.New(msg))
			return
		}
		if !safeMethod(r.Method) && r.URL.Path != "/api/v1/login" && fromBrowser(r) && !s.access.validToken(r.Header.Get(TokenHeader)) {
			writeError(w, http.StatusForbidden, fmt.Errorf("missing or stale request token: send the token of GET /api/v1/session in the %s header", TokenHeader))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// fromBrowser reports whether r was sent by a web browser: browsers add
// Origin to every cross-origin request and to every POST, and Sec-Fetch-*
// to every request (current Chrome, Firefox and Safari), and send the
// session cookie back; a cross-site form or script always comes with
// some of them. A program sends none unless it means to.
func fromBrowser(r *http.Request) bool {
	h := r.Header
	if h.Get("Origin") != "" || h.Get("Sec-Fetch-Site") != "" || h.Get("Sec-Fetch-Mode") != "" {
		return true
	}
	_, err := r.Cookie(SessionCookie)
	return err == nil
}

// pageHeader marks the page's own requests (see guard).
const pageHeader = "X-Evsed-Page"

// SessionInfo is the body of GET /api/v1/session.
type SessionInfo struct {
	// PasswordRequired is true when the API asks for a password.
	PasswordRequired bool `json:"passwordRequired"`
	// Authenticated is true when this request passed the password (or
	// none is required).
	Authenticated bool `json:"authenticated"`
	// Token is the request token for TokenHeader; "" unless
	// Authenticated.
	Token string `json:"token"`
	// StationID names the station (shown on the login form too).
	StationID string `json:"stationId"`
	// Simulated is true on a simulated board (the page shows its
	// controls).
	Simulated bool `json:"simulated"`
}

func (s *Server) session(w http.ResponseWriter, r *http.Request) {
	ok, _ := s.access.authenticate(r)
	info := SessionInfo{PasswordRequired: s.access.protected(), Authenticated: ok, StationID: s.opts.StationID, Simulated: s.opts.Sim != nil}
	if ok {
		info.Token = s.access.token
	}
	writeJSON(w, http.StatusOK, info)
}

// loginBody is the body of POST /api/v1/login.
type loginBody struct {
	Password string `json:"password"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.access.protected() {
		writeError(w, http.StatusConflict, errors.New("no password is set: nothing to log in to"))
		return
	}
	// A cross-site form can post text that parses as JSON, but it cannot
	// set this type without the browser asking first (CORS), which evsed
	// never grants: no other site can try passwords from a visitor's
	// browser, nor lock the owner out.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, errors.New("login wants Content-Type: application/json"))
		return
	}
	var body loginBody
	if !s.decode(w, r, &body, true) {
		return
	}
	if err := s.access.checkPassword(body.Password); err != nil {
		var locked errLockedOut
		if errors.As(err, &locked) {
			w.Header().Set("Retry-After", fmt.Sprint(int(locked.wait.Seconds())+1))
			writeError(w, http.StatusTooManyRequests, err)
			return
		}
		s.log.Warn("local API: wrong password at login", "remote", r.RemoteAddr)
		writeError(w, http.StatusUnauthorized, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: s.access.newSession(), Path: "/",
		MaxAge: int(sessionTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil,
	})
	s.log.Info("local API: login", "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, SessionInfo{PasswordRequired: true, Authenticated: true, Token: s.access.token,
		StationID: s.opts.StationID, Simulated: s.opts.Sim != nil})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		s.access.endSession(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, okBody{OK: true})
}
