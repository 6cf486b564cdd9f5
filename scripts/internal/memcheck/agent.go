package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/boards"
	"github.com/evsed/evsed/clock"
	halsim "github.com/evsed/evsed/hal/sim"
	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/ocpp16"
	"github.com/evsed/evsed/station"
)

// ocppKeys are the agent's initial configuration keys: those of the
// csmserror drill (samples every second, 1 s retry interval, 100 attempts so
// that nothing is dead-lettered within the window).
var ocppKeys = map[string]string{
	ocpp16.KeyMeterValueSampleInterval:        "1",
	ocpp16.KeyHeartbeatInterval:               "30",
	ocpp16.KeyWebSocketPingInterval:           "5",
	ocpp16.KeyTransactionMessageRetryInterval: "1",
	ocpp16.KeyTransactionMessageAttempts:      "100",
}

// callCounts counts the agent's outbound CALLs by outcome (Options.OnCall).
type callCounts struct {
	ok, refused, timedOut, lost atomic.Int64
}

func (c *callCounts) done(d ocppclient.CallDone) {
	var ce *ocppclient.CallError
	switch {
	case d.Err == nil:
		c.ok.Add(1)
	case errors.As(d.Err, &ce):
		c.refused.Add(1)
	case errors.Is(d.Err, ocppclient.ErrTimeout):
		c.timedOut.Add(1)
	default:
		c.lost.Add(1)
	}
}

func (c *callCounts) total() int64 {
	return c.ok.Load() + c.refused.Load() + c.timedOut.Load() + c.lost.Load()
}

// agent is one charging station wired as `evsed run` wires it (the binary's
// wiring package is internal to cmd/evsed, so it is rebuilt here from the
// same public packages): sim board and meters, station, OCPP 1.6 adapter
// with its durable queue, OCPP-J transport, one bbolt file.
type agent struct {
	id     string
	dbPath string
	db     *bbolt.DB
	board  *boards.Built
	sim    *halsim.Board
	queue  *ocppclient.Queue
	ch     *ocpp16.Charger
	st     *station.Station
	client *ocppclient.Client
	calls  *callCounts

	stopStation, stopLink context.CancelFunc
	stationWG, linkWG     sync.WaitGroup
}

// newAgent opens a fresh database under dir and builds the agent; nothing
// runs before start.
func newAgent(id, dir, csmsURL string, log *slog.Logger) (*agent, error) {
	a := &agent{id: id, dbPath: filepath.Join(dir, "evsed.db"), calls: &callCounts{}}
	var err error
	// Default options, as the binary opens it: fsync on every commit.
	if a.db, err = bbolt.Open(a.dbPath, 0o600, &bbolt.Options{Timeout: 2 * time.Second}); err != nil {
		return nil, err
	}
	clk := clock.Real{}
	if a.board, err = boards.Open("sim", boards.OpenOptions{Clock: clk, Logger: log}); err != nil {
		return nil, err
	}
	a.sim = a.board.Sim
	var conns []station.ConnectorConfig
	for _, c := range a.board.Board.Connectors() {
		conns = append(conns, station.ConnectorConfig{Hardware: c, Meter: a.board.Meters[c.ID]})
	}
	initial := map[string]string{ocpp16.KeyNumberOfConnectors: strconv.Itoa(len(conns))}
	for k, v := range ocppKeys {
		initial[k] = v
	}
	keys, err := ocpp16.OpenConfig(a.db, "ocpp-config", initial)
	if err != nil {
		return nil, err
	}
	a.queue, err = ocppclient.OpenQueue(a.db, ocppclient.QueueOptions{
		Bucket:        "queue",
		MaxAttempts:   keys.Int(ocpp16.KeyTransactionMessageAttempts),
		RetryInterval: keys.Duration(ocpp16.KeyTransactionMessageRetryInterval),
		Clock:         clk,
	})
	if err != nil {
		return nil, err
	}
	a.ch, err = ocpp16.New(ocpp16.Options{
		Identity:      ocpp16.Identity{ChargePointVendor: "evsed", ChargePointModel: "memcheck"},
		NumConnectors: len(conns),
		DB:            a.db,
		Bucket:        "ocpp16",
		Config:        keys,
		Queue:         a.queue,
		Clock:         clk,
		Logger:        log,
	})
	if err != nil {
		return nil, err
	}
	behaviour := station.DefaultConfig()
	behaviour.FreeCharging = true
	a.st, err = station.New(station.Options{
		ID:         id,
		Connectors: conns,
		Board:      a.board.Board,
		Reporter:   a.ch,
		Authorizer: a.ch,
		Config:     a.ch.StationConfig(behaviour),
		DB:         a.db,
		Bucket:     "station",
		Clock:      clk,
		Logger:     log,
	})
	if err != nil {
		return nil, err
	}
	a.ch.SetStation(a.st)
	a.client, err = ocppclient.New(ocppclient.Options{
		URL:           csmsURL,
		ChargePointID: id,
		Subprotocols:  []string{"ocpp1.6"},
		PingInterval:  keys.Duration(ocpp16.KeyWebSocketPingInterval),
		Handler:       a.ch,
		Hooks:         a.ch,
		OnConnect:     a.ch.OnConnect,
		Queue:         a.queue,
		Clock:         clk,
		Logger:        log,
		OnCall:        a.calls.done,
	})
	if err != nil {
		return nil, err
	}
	a.ch.SetTransport(a.client, a.client.Registered)
	return a, nil
}

// start runs the station, the adapter and the transport.
func (a *agent) start() {
	sctx, stopStation := context.WithCancel(context.Background())
	lctx, stopLink := context.WithCancel(context.Background())
	a.stopStation, a.stopLink = stopStation, stopLink
	a.stationWG.Go(func() { _ = a.st.Run(sctx) })
	a.linkWG.Go(func() { _ = a.ch.Run(lctx) })
	a.linkWG.Go(func() { _ = a.client.Run(lctx) })
}

// waitRegistered waits until the BootNotification was accepted and the
// transport is registered.
func (a *agent) waitRegistered(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if a.ch.Registration() == "Accepted" && a.client.Registered() {
			return nil
		}
		if !sleep(ctx, 50*time.Millisecond) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("%s: not registered within %v", a.id, timeout)
}

// waitDrained waits until the queue is empty.
func (a *agent) waitDrained(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if a.queue.Len() == 0 {
			return nil
		}
		if !sleep(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("%s: %d entries still queued after %v", a.id, a.queue.Len(), timeout)
}

// stop ends the station first (facts queued durably), then the link, as
// the binary does, halts the board and closes the database.
func (a *agent) stop() error {
	a.stopStation()
	a.stationWG.Wait()
	a.stopLink()
	a.linkWG.Wait()
	return errors.Join(a.board.Board.Halt(), a.board.Close(), a.db.Close())
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
