package localapi

import (
	"net/http"
	"slices"
	"sync"
	"time"
)

// History is the body of GET /api/v1/history: per connector, power and
// offered current over the last HistoryLength, one point per HistoryStep.
type History struct {
	// StepSeconds is the time one point covers.
	StepSeconds float64 `json:"stepSeconds"`
	// LengthSeconds is how far back the history reaches at most.
	LengthSeconds float64 `json:"lengthSeconds"`
	// Connectors holds one series per connector, by id.
	Connectors []Series `json:"connectors"`
	// Now is the server's time when the history was taken.
	Now time.Time `json:"now"`
}

// Series is one connector's history.
type Series struct {
	ID int `json:"id"`
	// Points are oldest first.
	Points []Point `json:"points"`
}

// Point is one step of a connector's history: the mean of the samples
// taken during the step that starts at T.
type Point struct {
	// T is the start of the step, in Unix milliseconds.
	T int64 `json:"t"`
	// PowerW is the mean active power, in watts.
	PowerW float64 `json:"powerW"`
	// OfferedA is the mean current offered on the pilot, in amperes.
	OfferedA float64 `json:"offeredA"`
}

// PointEvent is the data of a "point" event: a finished step.
type PointEvent struct {
	Connector int `json:"connector"`
	Point
}

// history keeps, per connector, a ring of finished steps and the step
// being accumulated. One point costs 12 bytes: an hour at 5 s steps is
// 8.6 KiB per connector.
type history struct {
	step time.Duration
	size int // points per connector

	mu    sync.Mutex // guards conns
	conns []*series  // by connector id - 1
}

type series struct {
	id  int
	pts []histPoint // ring; capacity size
	nxt int         // where the next point goes once full

	// The step being accumulated: it starts at cur (Unix ms), and holds n
	// samples summing to sumP (W) and sumA (A).
	cur        int64
	n          int
	sumP, sumA float64
}

type histPoint struct {
	t        int64 // Unix ms
	powerW   float32
	offeredA float32
}

func newHistory(step, length time.Duration) *history {
	size := int(length / step)
	if size < 1 {
		size = 1
	}
	return &history{step: step, size: size}
}

// observe adds one status sample taken at now and returns the steps it
// finished.
func (h *history) observe(now time.Time, st Status) []PointEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	start := now.Truncate(h.step).UnixMilli()
	var done []PointEvent
	for _, c := range st.Connectors {
		if c.ID < 1 || c.ID > 1000 {
			continue
		}
		for len(h.conns) < c.ID {
			h.conns = append(h.conns, &series{id: len(h.conns) + 1, pts: make([]histPoint, 0, h.size)})
		}
		s := h.conns[c.ID-1]
		if s.n > 0 && start != s.cur {
			p := histPoint{t: s.cur, powerW: float32(s.sumP / float64(s.n)), offeredA: float32(s.sumA / float64(s.n))}
			s.push(p)
			done = append(done, PointEvent{Connector: s.id, Point: p.api()})
			s.n, s.sumP, s.sumA = 0, 0, 0
		}
		s.cur = start
		s.n++
		s.sumP += c.Meter.PowerW
		s.sumA += c.OfferedA
	}
	return done
}

func (s *series) push(p histPoint) {
	if len(s.pts) < cap(s.pts) {
		s.pts = append(s.pts, p)
		return
	}
	s.pts[s.nxt] = p
	s.nxt = (s.nxt + 1) % len(s.pts)
}

func (p histPoint) api() Point {
	return Point{T: p.t, PowerW: float64(p.powerW), OfferedA: float64(p.offeredA)}
}

// snapshot returns the finished steps of the last length before now.
func (h *history) snapshot(now time.Time) History {
	h.mu.Lock()
	defer h.mu.Unlock()
	oldest := now.Add(-time.Duration(h.size) * h.step).UnixMilli()
	out := History{StepSeconds: h.step.Seconds(), LengthSeconds: (time.Duration(h.size) * h.step).Seconds(),
		Connectors: make([]Series, 0, len(h.conns)), Now: now.UTC()}
	for _, s := range h.conns {
		pts := make([]Point, 0, len(s.pts))
		for i := range s.pts {
			p := s.pts[(s.nxt+i)%len(s.pts)]
			if p.t >= oldest {
				pts = append(pts, p.api())
			}
		}
		// Steps are pushed in time order unless the wall clock went back.
		slices.SortStableFunc(pts, func(a, b Point) int { return int(a.T - b.T) })
		out.Connectors = append(out.Connectors, Series{ID: s.id, Points: pts})
	}
	return out
}

func (s *Server) historyHandler(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.history.snapshot(time.Now()))
}
