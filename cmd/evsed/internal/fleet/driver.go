package fleet

import (
	"context"
	"time"

	"github.com/evsed/evsed/clock"
)

// step is what the driver does to a connector next.
type step uint8

const (
	stepStart  step = iota // start the station (no connector)
	stepPlug               // plug the EV in
	stepSwipe              // swipe the card; the EV asks for energy
	stepUnplug             // unplug the EV: the session ends
)

// event is one due action: a station to start (c nil) or a connector's step.
type event struct {
	at   time.Time
	m    *member
	c    *driven
	step step
}

// driver plays every connector's scenario from one goroutine: a min-heap
// of due events and one timer for the earliest, rather than a goroutine and
// a timer per connector. Its steps call the simulated boards' control
// methods, which never block, so one slow station cannot hold up the rest.
type driver struct {
	f      *Fleet
	clk    clock.Clock
	heap   []event
	launch func(*member) // starts a station's agent
}

// run plays events as they fall due until ctx ends.
func (d *driver) run(ctx context.Context) {
	t := d.clk.NewTimer(time.Hour)
	defer t.Stop()
	for {
		now := d.clk.Now()
		for len(d.heap) > 0 && !d.heap[0].at.After(now) {
			d.play(d.pop())
		}
		wait := time.Hour // nothing planned: only ctx can end the wait
		if len(d.heap) > 0 {
			wait = d.heap[0].at.Sub(now)
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

// play runs one event and schedules what follows it. Times follow the plan
// (from the event's due time, not from when it ran), so a busy driver does
// not stretch the scenario.
func (d *driver) play(e event) {
	cnt := d.f.counters
	if e.c == nil {
		d.launch(e.m)
		for i := range e.m.conns {
			c := &e.m.conns[i]
			c.cur = c.plan.next()
			d.push(event{at: e.at.Add(c.cur.Idle), m: e.m, c: c, step: stepPlug})
		}
		return
	}
	c, b := e.c, e.m.board
	var err error
	switch e.step {
	case stepPlug:
		err = b.Plug(c.n)
		cnt.plugs.Add(1)
		d.push(event{at: e.at.Add(c.cur.Swipe), m: e.m, c: c, step: stepSwipe})
	case stepSwipe:
		err = b.Swipe(c.n, c.cur.Tag)
		if err == nil {
			err = b.Charge(c.n)
		}
		cnt.swipes.Add(1)
		d.push(event{at: e.at.Add(c.cur.Charge), m: e.m, c: c, step: stepUnplug})
	case stepUnplug:
		err = b.Unplug(c.n)
		cnt.unplugs.Add(1)
		c.done++
		if limit := d.f.opts.Scenario.Sessions; limit == 0 || c.done < limit {
			c.cur = c.plan.next()
			d.push(event{at: e.at.Add(c.cur.Idle), m: e.m, c: c, step: stepPlug})
		}
	}
	if err != nil {
		cnt.simErrors.Add(1)
		d.f.log.Warn("fleet scenario step refused", "station", e.m.id, "connector", c.n, "step", e.step, "err", err)
	}
}

// push adds e to the heap.
func (d *driver) push(e event) {
	d.heap = append(d.heap, e)
	i := len(d.heap) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !d.heap[i].at.Before(d.heap[p].at) {
			break
		}
		d.heap[i], d.heap[p] = d.heap[p], d.heap[i]
		i = p
	}
}

// pop removes and returns the earliest event; the heap must not be empty.
func (d *driver) pop() event {
	h := d.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = event{}
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].at.Before(h[m].at) {
			m = l
		}
		if r < len(h) && h[r].at.Before(h[m].at) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	d.heap = h
	return top
}
