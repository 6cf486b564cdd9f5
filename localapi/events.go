package localapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// The events stream, GET /api/v1/events, is Server-Sent Events
// (text/event-stream) with three event types, each one JSON object on one
// data line (see docs/web.md):
//
//	event: status   the whole GET /api/v1/status body; sent first, then
//	                whenever it changes (at most once per SampleInterval)
//	event: point    a PointEvent: one finished history step of a connector
//	event: log      a LogLine, as it is logged (when the server has logs)
//
// Lines starting with ':' are keep-alives, sent every keepAlive.

// Stream limits.
const (
	// maxStreams bounds the open event streams; more answer 503.
	maxStreams = 32
	// streamBuffer is how many events may wait for a slow client; one more
	// and the server closes its stream (the browser reconnects and starts
	// again from a fresh status).
	streamBuffer = 64
	// keepAlive is the period of the comment lines that keep idle proxies
	// and NAT tables from dropping the stream and detect gone clients.
	keepAlive = 15 * time.Second
	// streamWriteTimeout bounds one write to a stream client.
	streamWriteTimeout = 10 * time.Second
	// retryMillis is the reconnect delay the stream asks EventSource for.
	retryMillis = 2000
)

// hub fans events out to the open streams.
type hub struct {
	mu   sync.Mutex // guards subs, last
	subs map[chan []byte]struct{}
	// last is the latest status event, sent to every new stream first.
	last []byte
}

func newHub() *hub { return &hub{subs: map[chan []byte]struct{}{}} }

// frame formats one SSE event.
func frame(event string, data []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(event) + len(data) + 16)
	fmt.Fprintf(&b, "event: %s\ndata: ", event)
	b.Write(data)
	b.WriteString("\n\n")
	return b.Bytes()
}

// errTooManyStreams is the answer when maxStreams are open.
var errTooManyStreams = fmt.Errorf("too many event streams open (%d)", maxStreams)

// subscribe opens a stream: its channel and the latest status frame, nil
// before the first one.
func (h *hub) subscribe() (chan []byte, []byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) >= maxStreams {
		return nil, nil, errTooManyStreams
	}
	ch := make(chan []byte, streamBuffer)
	h.subs[ch] = struct{}{}
	return ch, h.last, nil
}

// unsubscribe closes a stream that is still open.
func (h *hub) unsubscribe(ch chan []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[ch]; ok {
		delete(h.subs, ch)
		close(ch)
	}
}

// publish sends f to every stream, closing those that fell behind. A
// status frame also becomes the one new streams start with.
func (h *hub) publish(f []byte, status bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if status {
		h.last = f
	}
	for ch := range h.subs {
		select {
		case ch <- f:
		default:
			delete(h.subs, ch)
			close(ch)
		}
	}
}

// forget drops the latest status frame, once it may be stale.
func (h *hub) forget() {
	h.mu.Lock()
	h.last = nil
	h.mu.Unlock()
}

// streams returns the number of open streams.
func (h *hub) streams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// feed reads the station's status every SampleInterval (and soon after
// each command), publishes status changes, history points and new log
// lines, until ctx ends. It is the one goroutine that samples the station
// for the page; the history fills whether a page is open or not.
func (s *Server) feed(ctx context.Context) {
	// Sampled every SampleInterval while a stream is open; with none,
	// once per history step, which is all the history needs: a status
	// read costs allocations, and a charger spends most of its life with
	// nobody watching.
	t := time.NewTimer(s.opts.SampleInterval)
	defer t.Stop()
	var lastStatus []byte
	var lastLog uint64
	for {
		s.sample(ctx, &lastStatus)
		if s.opts.Logs != nil && s.opts.Logs.ring.latest() != lastLog {
			if s.hub.streams() == 0 {
				// A new stream's page reads the lines it missed from the
				// commissioning view.
				lastLog = s.opts.Logs.ring.latest()
			}
			for _, l := range s.opts.Logs.Lines(lastLog) {
				lastLog = l.Seq
				if b, err := json.Marshal(l); err == nil {
					s.hub.publish(frame("log", b), false)
				}
			}
		}
		every := s.opts.SampleInterval
		if s.hub.streams() == 0 {
			every = max(every, s.opts.HistoryStep)
		}
		t.Reset(every)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// sample reads the status once, feeds the history and publishes what
// changed. last is the previous status body.
func (s *Server) sample(ctx context.Context, last *[]byte) {
	ctx, cancel := context.WithTimeout(ctx, max(s.opts.SampleInterval, time.Second))
	defer cancel()
	snap, err := s.opts.Station.Status(ctx)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			s.log.Debug("local API: status sample", "err", err)
		}
		return
	}
	st := s.statusOf(snap)
	points := s.history.observe(time.Now(), st)
	if s.hub.streams() == 0 {
		// Nobody listens: keep the history, skip the encoding (a charger
		// spends most of its life so), and have the next stream start
		// from a fresh status.
		s.hub.forget()
		*last = nil
		return
	}
	for _, p := range points {
		if b, err := json.Marshal(p); err == nil {
			s.hub.publish(frame("point", b), false)
		}
	}
	b, err := json.Marshal(st)
	if err != nil || bytes.Equal(b, *last) {
		return
	}
	*last = b
	s.hub.publish(frame("status", b), true)
}

// kickSoon asks the feed for an early sample shortly after a command, so
// that the page shows its effect without waiting for the next tick. The
// short delay lets the board's events reach the station first.
func (s *Server) kickSoon() {
	time.AfterFunc(kickDelay, func() {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	})
}

// kickDelay is how long after a command the feed samples again.
const kickDelay = 50 * time.Millisecond

// events serves GET /api/v1/events.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	ch, first, err := s.hub.subscribe()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	defer s.hub.unsubscribe(ch)
	// The feed samples slowly while nobody watches: back to its pace now.
	select {
	case s.kick <- struct{}{}:
	default:
	}
	if first == nil {
		// The feed has not sampled yet: start from a status of our own.
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
		snap, err := s.opts.Station.Status(ctx)
		cancel()
		if err != nil {
			s.fail(w, fmt.Errorf("status: %w", err))
			return
		}
		b, _ := json.Marshal(s.statusOf(snap))
		first = frame("status", b)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	// Tell buffering reverse proxies (nginx) to pass events at once.
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	// The server's ReadTimeout must not end a stream that has nothing more
	// to read.
	_ = rc.SetReadDeadline(time.Time{})
	write := func(b []byte) bool {
		// The server's WriteTimeout is for ordinary answers; a stream
		// sets a deadline per write instead. Recorders in tests do not
		// support deadlines; that is fine.
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(append(fmt.Appendf(nil, "retry: %d\n\n", retryMillis), first...)) {
		return
	}
	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	for {
		select {
		case f, ok := <-ch:
			if !ok {
				return // fell behind: the client reconnects
			}
			if !write(f) {
				return
			}
		case <-ping.C:
			if !write([]byte(": keep-alive\n\n")) {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.stopStreams:
			return
		}
	}
}
