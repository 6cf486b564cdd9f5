package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/evsed/evsed/station"
)

// Station is the part of *station.Station the API drives.
type Station interface {
	Status(ctx context.Context) (station.Snapshot, error)
	Start(ctx context.Context, connector int, idTag string, o station.StartOptions) error
	Stop(ctx context.Context, connector int, reason station.StopReason) error
	PresentCard(ctx context.Context, connector int, idTag string) error
}

// Sim drives a simulated board's vehicles. Connector numbers are 1-based. An
// unknown connector must give an error wrapping station.ErrNoConnector, and
// an action the simulated vehicle cannot take in its present state one
// wrapping ErrSimState; other errors answer 500.
type Sim interface {
	// Plug connects the vehicle (pilot A -> B).
	Plug(n int) error
	// Charge makes the vehicle ask for energy (B -> C).
	Charge(n int) error
	// Pause makes the vehicle stop asking for energy (C -> B).
	Pause(n int) error
	// Unplug disconnects the vehicle (-> A).
	Unplug(n int) error
	// Fault injects (or, with FaultClear, clears) a fault; kind is one of
	// FaultKinds, or of the Sim's own list when it is a FaultLister.
	Fault(n int, kind string) error
}

// Fault kinds accepted by POST /api/v1/sim/connectors/{n}/fault.
const (
	FaultRCD   = "rcd"   // residual current trip
	FaultWeld  = "weld"  // welded contactor
	FaultDiode = "diode" // missing vehicle diode
	FaultMeter = "meter" // meter stops answering
	FaultClear = "clear" // clear every simulated fault
)

// FaultKinds lists the valid fault kinds of an AC simulated board, in the
// order the docs show them.
func FaultKinds() []string {
	return []string{FaultRCD, FaultWeld, FaultDiode, FaultMeter, FaultClear}
}

// Fault kinds of a simulated DC board (sim-dc), besides FaultWeld,
// FaultMeter and FaultClear (docs/dc.md).
const (
	FaultIsolation     = "isolation" // insulation resistance drops: the monitor alarms
	FaultPrecharge     = "precharge" // the supply falls short during precharge
	FaultModule        = "module"    // a power module trips
	FaultEmergencyStop = "estop"     // the board's emergency stop button (clear releases it)
)

// DCFaultKinds lists the valid fault kinds of a simulated DC board, in the
// order the docs show them.
func DCFaultKinds() []string {
	return []string{FaultIsolation, FaultPrecharge, FaultModule, FaultWeld, FaultMeter, FaultEmergencyStop, FaultClear}
}

// FaultLister is implemented by a Sim whose board takes other fault kinds
// than FaultKinds (a DC board: DCFaultKinds). The fault route accepts the
// kinds it lists; a Sim without it takes FaultKinds.
type FaultLister interface {
	FaultKinds() []string
}

// faultKinds are the fault kinds s accepts.
func faultKinds(s Sim) []string {
	if l, ok := s.(FaultLister); ok {
		return l.FaultKinds()
	}
	return FaultKinds()
}

// ErrSimState is wrapped by Sim errors that refuse an action in the
// simulated vehicle's present state (e.g. charge while unplugged); the API
// answers them with 409.
var ErrSimState = errors.New("localapi: not possible in the simulated vehicle's state")

// MaxIDTagLen is the longest id tag accepted: the OCPP 1.6 IdToken is a
// CiString20.
const MaxIDTagLen = 20

// Options configure a Server. Zero values are documented per field.
type Options struct {
	// Station is the station to show and drive. Required.
	Station Station
	// Sim drives the simulated vehicles; nil means the board is not
	// simulated and every /api/v1/sim route answers 409.
	Sim Sim
	// StationID and Board are shown in the status.
	StationID, Board string
	// OCPP reports the CSMS link for the status; nil means standalone (the
	// zero OCPPInfo). It is called once per status request and must be safe
	// for concurrent use.
	OCPP func() OCPPInfo
	// MaxBodyBytes bounds request bodies; 0 means 4 KiB. Larger bodies get
	// 413.
	MaxBodyBytes int64
	// RequestTimeout bounds how long a request may wait for the station
	// (a start may wait for an authorization); 0 means 30 s.
	RequestTimeout time.Duration
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger

	// CSMSURL is the CSMS address shown in the status (station.ocpp.url),
	// its password masked; "" when standalone.
	CSMSURL string
	// Password, when set, is asked of every API request (see docs/web.md
	// and guard); "" means none, which Run allows only on a loopback
	// address.
	Password string
	// SampleInterval is how often the server reads the station's status
	// for the events stream and the history; 0 means 1 s.
	SampleInterval time.Duration
	// HistoryStep and HistoryLength shape the power and current history:
	// one point per step, as far back as the length; 0 means 5 s and 1 h.
	HistoryStep, HistoryLength time.Duration
	// Logs supplies the recent log lines of the commissioning view and the
	// "log" events; nil shows none.
	Logs *LogBuffer
	// Commissioning describes the board and configuration. It is called
	// once, on the first request that needs it, so that a charger whose
	// page nobody opens does no work for it; nil shows an empty
	// commissioning view and no meter or RCD test.
	Commissioning func() *Commissioning
}

// Server serves the local API. Build it with New; Handler and Run are safe
// for concurrent use.
type Server struct {
	opts    Options
	log     *slog.Logger
	handler http.Handler
	access  *access
	history *history
	hub     *hub
	ui      *ui
	// kick asks the feed for an early sample (capacity 1).
	kick chan struct{}
	// stopStreams is closed when the server shuts down: event streams
	// never go idle, so they end themselves.
	stopStreams chan struct{}
	stopOnce    sync.Once
	// commissioningInfo returns Options.Commissioning's answer, asked once.
	commissioningInfo func() *Commissioning
}

// New checks opts, fills in defaults and builds a Server.
func New(opts Options) (*Server, error) {
	if opts.Station == nil {
		return nil, errors.New("localapi: Options.Station is required")
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 4 << 10
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 30 * time.Second
	}
	if opts.OCPP == nil {
		opts.OCPP = func() OCPPInfo { return OCPPInfo{} }
	}
	if opts.SampleInterval <= 0 {
		opts.SampleInterval = time.Second
	}
	if opts.HistoryStep <= 0 {
		opts.HistoryStep = 5 * time.Second
	}
	if opts.HistoryLength <= 0 {
		opts.HistoryLength = time.Hour
	}
	describe := opts.Commissioning
	if describe == nil {
		describe = func() *Commissioning { return nil }
	}
	opts.CSMSURL = maskURL(opts.CSMSURL)
	s := &Server{opts: opts, log: opts.Logger,
		access:  newAccess(opts.Password, time.Now),
		history: newHistory(opts.HistoryStep, opts.HistoryLength),
		hub:     newHub(), ui: newUI(),
		kick: make(chan struct{}, 1), stopStreams: make(chan struct{}),
		commissioningInfo: sync.OnceValue(func() *Commissioning {
			if c := describe(); c != nil {
				return c
			}
			return &Commissioning{}
		}),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the API's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves on ln until ctx ends, then shuts down gracefully (waiting at
// most 5 s for requests in flight; event streams end at once) and closes
// ln. It also runs the feed that samples the station for the events stream
// and the history. It returns nil after a shutdown caused by ctx, and
// ErrNoPassword, without serving, when ln is not on loopback and no
// Password is set. Call it once.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() && !s.access.protected() {
		ln.Close()
		return fmt.Errorf("local API on %s: %w (set api.password or api.password_file)", ln.Addr(), ErrNoPassword)
	}
	feedCtx, stopFeed := context.WithCancel(ctx)
	var feedDone sync.WaitGroup
	feedDone.Go(func() { s.feed(feedCtx) })
	defer func() {
		stopFeed()
		feedDone.Wait()
	}()
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		// A little more than RequestTimeout, so that a slow station still
		// gets its answer (or its timeout error) written.
		WriteTimeout:   s.opts.RequestTimeout + 5*time.Second,
		IdleTimeout:    60 * time.Second,
		MaxHeaderBytes: 16 << 10,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	srv.RegisterOnShutdown(s.endStreams)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("local API listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		s.endStreams()
		return fmt.Errorf("local API: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutCtx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("local API shutdown: %w", err)
	}
	return nil
}

// endStreams ends every event stream; safe to call more than once.
func (s *Server) endStreams() { s.stopOnce.Do(func() { close(s.stopStreams) }) }

// statusOf converts a snapshot to the status body.
func (s *Server) statusOf(snap station.Snapshot) Status {
	info := s.opts.OCPP()
	info.URL = s.opts.CSMSURL
	return statusFrom(s.opts.StationID, s.opts.Board, info, snap)
}

// routes builds the mux. Each route is registered twice: with its method,
// and without one to answer other methods 405 in JSON (the method-qualified
// pattern is more specific, so it wins for its method).
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(method, path string, h http.HandlerFunc) {
		mux.HandleFunc(method+" "+path, h)
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed, use %s", r.Method, method))
		})
	}
	handle(http.MethodGet, "/api/v1/status", s.status)
	handle(http.MethodPost, "/api/v1/connectors/{n}/start", s.start)
	handle(http.MethodPost, "/api/v1/connectors/{n}/stop", s.stop)
	for action, f := range map[string]func(Sim, int) error{
		"plug":   Sim.Plug,
		"charge": Sim.Charge,
		"pause":  Sim.Pause,
		"unplug": Sim.Unplug,
	} {
		handle(http.MethodPost, "/api/v1/sim/connectors/{n}/"+action, s.simAction(action, f))
	}
	handle(http.MethodPost, "/api/v1/sim/connectors/{n}/swipe", s.swipe)
	handle(http.MethodPost, "/api/v1/sim/connectors/{n}/fault", s.fault)
	handle(http.MethodPost, "/api/v1/limits", s.setLimit)
	handle(http.MethodPost, "/api/v1/connectors/{n}/mode", s.setMode)
	handle(http.MethodGet, "/api/v1/events", s.events)
	handle(http.MethodGet, "/api/v1/history", s.historyHandler)
	handle(http.MethodGet, "/api/v1/commissioning", s.commissioning)
	handle(http.MethodPost, "/api/v1/connectors/{n}/test-meter", s.testMeter)
	handle(http.MethodPost, "/api/v1/connectors/{n}/test-rcd", s.testRCD)
	handle(http.MethodGet, "/api/v1/connectors/{n}/qr.svg", s.qrSVG)
	handle(http.MethodGet, "/api/v1/session", s.session)
	handle(http.MethodPost, "/api/v1/login", s.login)
	handle(http.MethodPost, "/api/v1/logout", s.logout)
	mux.HandleFunc("GET /{$}", s.ui.serve)
	mux.HandleFunc("GET /ui/", s.ui.serve)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Errorf("no route %s %s", r.Method, r.URL.Path))
	})
	return s.logRequests(s.guard(mux))
}

// statusRecorder remembers the status code for the request log.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's writer, for
// the event stream's flushes and write deadlines.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		level := slog.LevelDebug
		if rec.code >= 500 {
			level = slog.LevelWarn
		}
		s.log.Log(r.Context(), level, "local API request", "method", r.Method, "path", r.URL.Path, "status", rec.code)
	})
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	snap, err := s.opts.Station.Status(ctx)
	if err != nil {
		s.fail(w, fmt.Errorf("status: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, s.statusOf(snap))
}

// idTagBody is the body of start and swipe.
type idTagBody struct {
	IDTag string `json:"idTag"`
}

// faultBody is the body of fault.
type faultBody struct {
	Kind string `json:"kind"`
}

// okBody is the body of every successful POST.
type okBody struct {
	OK bool `json:"ok"`
}

func (s *Server) start(w http.ResponseWriter, r *http.Request) {
	n, tag, ok := s.connectorAndTag(w, r)
	if !ok {
		return
	}
	s.do(w, r, fmt.Sprintf("start connector %d", n), func(ctx context.Context) error {
		return s.opts.Station.Start(ctx, n, tag, station.StartOptions{})
	})
}

func (s *Server) stop(w http.ResponseWriter, r *http.Request) {
	n, ok := s.connectorNoBody(w, r)
	if !ok {
		return
	}
	s.do(w, r, fmt.Sprintf("stop connector %d", n), func(ctx context.Context) error {
		return s.opts.Station.Stop(ctx, n, station.ReasonLocal)
	})
}

func (s *Server) simAction(action string, f func(Sim, int) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.simulated(w) {
			return
		}
		n, ok := s.connectorNoBody(w, r)
		if !ok {
			return
		}
		s.do(w, r, fmt.Sprintf("sim %s connector %d", action, n), func(context.Context) error { return f(s.opts.Sim, n) })
	}
}

func (s *Server) swipe(w http.ResponseWriter, r *http.Request) {
	if !s.simulated(w) {
		return
	}
	n, tag, ok := s.connectorAndTag(w, r)
	if !ok {
		return
	}
	s.do(w, r, fmt.Sprintf("card at connector %d", n), func(ctx context.Context) error {
		return s.opts.Station.PresentCard(ctx, n, tag)
	})
}

func (s *Server) fault(w http.ResponseWriter, r *http.Request) {
	if !s.simulated(w) {
		return
	}
	n, ok := connectorNumber(w, r)
	if !ok {
		return
	}
	var body faultBody
	if !s.decode(w, r, &body, true) {
		return
	}
	kinds := faultKinds(s.opts.Sim)
	if !slices.Contains(kinds, body.Kind) {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bad fault kind %q, want one of %v", body.Kind, kinds))
		return
	}
	s.do(w, r, fmt.Sprintf("sim fault %s at connector %d", body.Kind, n), func(context.Context) error { return s.opts.Sim.Fault(n, body.Kind) })
}

// simulated answers 409 and returns false when the board is not simulated.
func (s *Server) simulated(w http.ResponseWriter) bool {
	if s.opts.Sim == nil {
		writeError(w, http.StatusConflict, errors.New("the board is not simulated"))
		return false
	}
	return true
}

// do runs f with the request timeout and answers {"ok": true} or the error,
// prefixed with what.
func (s *Server) do(w http.ResponseWriter, r *http.Request, what string, f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	err := f(ctx)
	s.kickSoon()
	if err != nil {
		s.fail(w, fmt.Errorf("%s: %w", what, err))
		return
	}
	writeJSON(w, http.StatusOK, okBody{OK: true})
}

// connectorAndTag parses {n} and a body with a valid idTag.
func (s *Server) connectorAndTag(w http.ResponseWriter, r *http.Request) (int, string, bool) {
	n, ok := connectorNumber(w, r)
	if !ok {
		return 0, "", false
	}
	var body idTagBody
	if !s.decode(w, r, &body, true) {
		return 0, "", false
	}
	if body.IDTag == "" || len(body.IDTag) > MaxIDTagLen {
		writeError(w, http.StatusBadRequest, fmt.Errorf("idTag must be 1 to %d characters", MaxIDTagLen))
		return 0, "", false
	}
	return n, body.IDTag, true
}

// connectorNoBody parses {n} and accepts an empty body or an empty object.
func (s *Server) connectorNoBody(w http.ResponseWriter, r *http.Request) (int, bool) {
	n, ok := connectorNumber(w, r)
	if !ok {
		return 0, false
	}
	var body struct{}
	return n, s.decode(w, r, &body, false)
}

// connectorNumber parses the {n} path value: a connector id >= 1.
func connectorNumber(w http.ResponseWriter, r *http.Request) (int, bool) {
	raw := r.PathValue("n")
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bad connector number %q: want an integer >= 1", raw))
		return 0, false
	}
	return n, true
}

// decode reads one JSON object into v, rejecting unknown fields, trailing
// data and bodies over the limit. An empty body is an error only when
// required.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any, required bool) bool {
	body := http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) && !required {
		return true
	}
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			err = errors.New("trailing data after the JSON object")
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return true
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("request body over %d bytes", tooBig.Limit))
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, errors.New("bad JSON body: empty"))
	default:
		writeError(w, http.StatusBadRequest, fmt.Errorf("bad JSON body: %w", err))
	}
	return false
}

// fail answers err with the status code its cause calls for.
func (s *Server) fail(w http.ResponseWriter, err error) {
	code := statusCode(err)
	if code >= 500 {
		s.log.Warn("local API error", "err", err)
	}
	writeError(w, code, err)
}

// statusCode maps the station's sentinel errors to HTTP status codes.
func statusCode(err error) int {
	switch {
	case errors.Is(err, station.ErrNoConnector):
		return http.StatusNotFound
	case errors.Is(err, station.ErrNotAuthorized):
		return http.StatusForbidden
	case errors.Is(err, station.ErrBusy), errors.Is(err, station.ErrUnavailable),
		errors.Is(err, station.ErrNoSession), errors.Is(err, station.ErrCancelled),
		errors.Is(err, station.ErrReserved), errors.Is(err, ErrSimState),
		errors.Is(err, station.ErrNoGridMeter):
		return http.StatusConflict
	case errors.Is(err, station.ErrInvalidLimit), errors.Is(err, station.ErrInvalidMode):
		return http.StatusBadRequest
	case errors.Is(err, station.ErrStopped):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	default:
		return http.StatusInternalServerError
	}
}

// errorBody is the body of every error answer.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, errorBody{Error: err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	// The client may be gone; there is no one to tell about a write error.
	_ = json.NewEncoder(w).Encode(v)
}
