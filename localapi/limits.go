package localapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/evsed/evsed/station"
	"periph.io/x/conn/v3/physic"
)

// Energy management from outside (see docs/energy.md): an external limit
// for a connector or the whole station, from an energy manager or the
// grid operator, and each connector's charge mode.
//
//	POST /api/v1/limits                  {"connector": 0, "currentA": 10, "until": "2026-12-06T18:00:00Z", "source": "hems"}
//	POST /api/v1/limits                  {"connector": 0, "clear": true}
//	POST /api/v1/connectors/{n}/mode     {"mode": "fast" | "pv" | "minpv"}

// Limiter is the part of the station these routes drive; *station.Station
// satisfies it. A Station without it answers them 501.
type Limiter interface {
	SetExternalLimit(ctx context.Context, n int, e station.ExternalLimit) error
	ClearExternalLimit(ctx context.Context, n int) error
	SetChargeMode(ctx context.Context, n int, m station.ChargeMode) error
}

var _ Limiter = (*station.Station)(nil)

// LimitBody is the body of POST /api/v1/limits.
type LimitBody struct {
	// Connector is the connector the limit is for; 0 is the whole station
	// (every connector together, per phase).
	Connector int `json:"connector"`
	// CurrentA is the most that may be drawn per phase, in amperes; below
	// 6 the connector pauses.
	CurrentA float64 `json:"currentA"`
	// Until is when the limit lapses (RFC 3339); absent: until cleared.
	Until *time.Time `json:"until,omitempty"`
	// Source names who set it, shown in status (e.g. "hems", "14a").
	Source string `json:"source,omitempty"`
	// Clear removes the connector's (or station's) limit; CurrentA and
	// Until are then ignored.
	Clear bool `json:"clear,omitempty"`
}

// maxSourceLen bounds LimitBody.Source.
const maxSourceLen = 32

// modeBody is the body of POST /api/v1/connectors/{n}/mode.
type modeBody struct {
	Mode string `json:"mode"`
}

// limiter returns the station as a Limiter, or answers 501.
func (s *Server) limiter(w http.ResponseWriter) (Limiter, bool) {
	l, ok := s.opts.Station.(Limiter)
	if !ok {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("this station takes no external limits"))
	}
	return l, ok
}

func (s *Server) setLimit(w http.ResponseWriter, r *http.Request) {
	l, ok := s.limiter(w)
	if !ok {
		return
	}
	var body LimitBody
	if !s.decode(w, r, &body, true) {
		return
	}
	if body.Connector < 0 {
		writeError(w, http.StatusBadRequest, fmt.Errorf("connector %d: want 0 (the station) or a connector number", body.Connector))
		return
	}
	if len(body.Source) > maxSourceLen {
		writeError(w, http.StatusBadRequest, fmt.Errorf("source: at most %d characters", maxSourceLen))
		return
	}
	if body.Clear {
		s.do(w, r, fmt.Sprintf("clear the limit of connector %d", body.Connector), func(ctx context.Context) error {
			return l.ClearExternalLimit(ctx, body.Connector)
		})
		return
	}
	if body.CurrentA < 0 || body.CurrentA > 2000 {
		writeError(w, http.StatusBadRequest, fmt.Errorf("currentA %g: want 0 to 2000", body.CurrentA))
		return
	}
	e := station.ExternalLimit{Current: physic.ElectricCurrent(body.CurrentA * float64(physic.Ampere)), Source: body.Source}
	if body.Until != nil {
		e.Until = *body.Until
	}
	s.do(w, r, fmt.Sprintf("limit connector %d", body.Connector), func(ctx context.Context) error {
		return l.SetExternalLimit(ctx, body.Connector, e)
	})
}

func (s *Server) setMode(w http.ResponseWriter, r *http.Request) {
	l, ok := s.limiter(w)
	if !ok {
		return
	}
	n, ok := connectorNumber(w, r)
	if !ok {
		return
	}
	var body modeBody
	if !s.decode(w, r, &body, true) {
		return
	}
	s.do(w, r, fmt.Sprintf("mode of connector %d", n), func(ctx context.Context) error {
		return l.SetChargeMode(ctx, n, station.ChargeMode(body.Mode))
	})
}
