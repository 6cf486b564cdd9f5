package station

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"periph.io/x/conn/v3/physic"
)

// startBoard is a board with Start (an eventStarter, as hal/sim's): it
// hands its sink to the test, records stop and Halt, and fails Start with
// startErr.
type startBoard struct {
	fakeBoard
	startErr error
	mu       sync.Mutex // guards stopped
	stopped  bool
}

func (b *startBoard) Start(sink hal.Sink) (func(), error) {
	if b.startErr != nil {
		return nil, b.startErr
	}
	b.sinks <- sink
	return func() {
		b.mu.Lock()
		b.stopped = true
		b.mu.Unlock()
	}, nil
}

// ended reports whether the board was stopped (Start's stop) and halted.
func (b *startBoard) ended() (stopped, halted bool) {
	b.mu.Lock()
	stopped = b.stopped
	b.mu.Unlock()
	b.fakeBoard.mu.Lock()
	halted = b.halted
	b.fakeBoard.mu.Unlock()
	return stopped, halted
}

func (b *startBoard) Run(context.Context, hal.Sink) error {
	panic("Run called on a board that has Start")
}

// newStartStation builds a station with one connector on b.
func newStartStation(t *testing.T, b *startBoard, rep Reporter, inbox int) (*Station, *fakePilot, *fakeContactor) {
	t.Helper()
	p, c := &fakePilot{id: 1, sensed: hal.PilotA}, &fakeContactor{id: 1}
	b.sinks = make(chan hal.Sink, 1)
	b.conns = []hal.Connector{{ID: 1, Pilot: p, Contactor: c, MaxCurrent: 16 * physic.Ampere}}
	st, err := New(Options{
		Connectors: []ConnectorConfig{{Hardware: b.conns[0]}},
		Board:      b, Reporter: rep, Config: DefaultConfig(),
		Clock: clock.NewFake(t0), Logger: slog.New(slog.DiscardHandler),
		InboxSize: inbox,
	})
	if err != nil {
		t.Fatal(err)
	}
	return st, p, c
}

// Launch returns once booted and handles inputs without a goroutine of its
// own in between: inputs that came before it, from the board's Start and
// from callers, in order; when ctx ends it stops as Run does, with the
// board stopped and halted.
func TestLaunch(t *testing.T) {
	b := &startBoard{}
	rep := &recReporter{}
	st, p, c := newStartStation(t, b, rep, 2)
	// Before Launch: the event waits in the (small) inbox.
	p.set(hal.PilotB)
	st.Event(hal.Event{Connector: 1, Kind: hal.PilotChanged, Pilot: hal.PilotB})

	ctx, cancel := context.WithCancel(context.Background())
	wait, err := st.Launch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sink := <-b.sinks
	r := &rig{t: t, st: st, rep: rep}
	r.settle()
	snap, err := st.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.Connectors[0].Status; got != Preparing {
		t.Fatalf("status %s after the event sent before Launch, want Preparing", got)
	}

	// More inputs than the inbox holds, from the board, each handled.
	if err := st.Start(ctx, 1, "TAG", StartOptions{SkipAuthorization: true}); err != nil {
		t.Fatal(err)
	}
	p.set(hal.PilotC)
	for range 5 {
		sink(hal.Event{Connector: 1, Kind: hal.PilotChanged, Pilot: hal.PilotC})
	}
	r.settle()
	if !c.Closed() {
		t.Fatal("contactor open after an authorized EV asked for energy")
	}
	if _, err := st.Launch(ctx); err == nil {
		t.Error("a second Launch succeeded")
	}

	cancel()
	if err := wait(); err != nil {
		t.Fatalf("wait = %v, want nil", err)
	}
	if c.Closed() {
		t.Error("contactor closed after the station stopped")
	}
	if stopped, halted := b.ended(); !stopped || !halted {
		t.Errorf("board stopped %v, halted %v; want both", stopped, halted)
	}
	if _, err := st.Status(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("Status after the stop = %v, want ErrStopped", err)
	}
}

// A board whose Start fails stops the station, as a failing Run does.
func TestLaunchBoardStartFails(t *testing.T) {
	boom := errors.New("boom")
	b := &startBoard{startErr: boom}
	st, _, _ := newStartStation(t, b, nil, 0)
	wait, err := st.Launch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(); !errors.Is(err, boom) {
		t.Fatalf("wait = %v, want the board's error", err)
	}
}

// Shutdown ends the run as the end of its context does, whether the
// station reads its meters on samplers of its own (which must end too, or
// wait would hang) or inline: the session stays recorded, the hardware is
// halted, requests fail with ErrStopped, and the context is untouched.
func TestShutdown(t *testing.T) {
	for _, inline := range []bool{false, true} {
		name := "samplers"
		if inline {
			name = "inline reads"
		}
		t.Run(name, func(t *testing.T) {
			db := openDB(t, filepath.Join(t.TempDir(), "station.db"))
			defer db.Close()
			r := newRig(t, rigOpts{n: 2, inline: inline, db: db})
			r.charging(1, "A")
			r.st.Shutdown()
			r.ended = true
			if err := <-r.done; err != nil {
				t.Fatalf("Run: %v", err)
			}
			for i, h := range r.hw {
				if h.contactor.Closed() || !h.contactor.halted || !h.pilot.halted {
					t.Errorf("connector %d not halted", i+1)
				}
			}
			if _, err := r.st.Status(context.Background()); !errors.Is(err, ErrStopped) {
				t.Errorf("Status after Shutdown = %v, want ErrStopped", err)
			}
			saved, err := store{db: db, bucket: []byte("station")}.load()
			if err != nil {
				t.Fatal(err)
			}
			if len(saved.sessions) != 1 || saved.sessions[0].IDTag != "A" || !saved.clean {
				t.Errorf("after Shutdown: sessions %+v, clean %v; want the one of A, a clean stop", saved.sessions, saved.clean)
			}
		})
	}
}

// Shutdown before Launch ends the run as soon as it has booted.
func TestShutdownBeforeLaunch(t *testing.T) {
	b := &startBoard{}
	st, _, c := newStartStation(t, b, nil, 0)
	st.Shutdown()
	wait, err := st.Launch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatalf("wait = %v, want nil", err)
	}
	if c.Closed() {
		t.Error("contactor closed")
	}
	if stopped, halted := b.ended(); !stopped || !halted {
		t.Errorf("board stopped %v, halted %v; want both", stopped, halted)
	}
}
