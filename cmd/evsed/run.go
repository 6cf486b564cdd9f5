package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/cmd/evsed/internal/agent"
	"github.com/evsed/evsed/cmd/evsed/internal/config"
	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/ocppclient/ocpp16"
	"github.com/evsed/evsed/station"
	"go.etcd.io/bbolt"
	"go.yaml.in/yaml/v3"
	"periph.io/x/conn/v3/physic"
)

// cmdRun implements `evsed run`: it runs the station until SIGINT or
// SIGTERM and exits 0 after an orderly stop.
func cmdRun(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("evsed run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "YAML config `FILE` (every key optional)")
	flags := map[string]*string{
		"board":     fs.String("board", "", "built-in board `NAME` or board FILE (default sim)"),
		"csms":      fs.String("csms", "", "CSMS `URL` (ws:// or wss://); empty runs standalone"),
		"id":        fs.String("id", "", "charge point `ID` (default CP001)"),
		"data":      fs.String("data", "", "data `DIR` (default ./evsed-data)"),
		"api":       fs.String("api", "", "local API listen `ADDR` (default 127.0.0.1:8090)"),
		"log-level": fs.String("log-level", "", "log `LEVEL`: debug, info, warn or error (default info)"),
	}
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "evsed run: unexpected argument %q\n%s", fs.Arg(0), usageText)
		return exitUsage
	}
	// Only flags given on the command line override the file.
	var o config.Overrides
	targets := map[string]**string{
		"board": &o.Board, "csms": &o.CSMSURL, "id": &o.ID,
		"data": &o.DataDir, "api": &o.APIListen, "log-level": &o.LogLevel,
	}
	fs.Visit(func(f *flag.Flag) {
		if t, ok := targets[f.Name]; ok {
			*t = flags[f.Name]
		}
	})
	cfg, err := config.Load(*cfgPath, o, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "evsed run: %v\n", err)
		return exitError
	}
	// The page shows the latest log lines: keep them in a ring on the way
	// to stderr.
	log := slog.New(localapi.NewLogBuffer(newLogger(stderr, cfg.LogLevel).Handler(), logLines))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = runStation(ctx, cfg, log)
	if errors.Is(err, errReset) || errors.Is(err, errRolledBack) {
		// A CSMS Reset, a firmware update to start or a rollback from
		// one: the sessions have ended and everything is closed.
		// Start afresh in the same process slot, so that a charger run
		// from a terminal comes back as one under systemd would.
		stop()
		return reexec(log)
	}
	if err != nil {
		log.Error("evsed stopped", "err", err)
		return exitError
	}
	log.Info("evsed stopped")
	return exitOK
}

// newLogger returns a text logger on w at level (validated by config).
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// logLines is how many recent log lines the page can show.
const logLines = 300

// dbLockTimeout bounds the wait for the database file lock: a second evsed
// on the same data dir fails with a clear error instead of hanging.
const dbLockTimeout = 2 * time.Second

// openDB opens (creating) the bbolt database in dir, fsync'd on every
// commit. NoFreelistSync leaves the freelist out of every commit (one page
// of four or five written to the SD card) and has bbolt rebuild it by
// scanning the file on open instead: 10 to 15 ms more for a full queue
// (100,000 entries, 48 MiB) on a desktop core, and no loss of safety: the
// file holds what was committed, and etcd and containerd run so for
// robustness, a freelist read back from disk being one more thing that can
// be corrupt. Existing files switch over at their next commit, and a binary
// without the option rebuilds the freelist on open as well. The queue's
// log file sits beside the database (see ocppclient.Queue).
func openDB(dir string) (*bbolt.DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	path := filepath.Join(dir, "evsed.db")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: dbLockTimeout, NoFreelistSync: true})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("database %s is locked: is another evsed running on data dir %s?", path, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	return db, nil
}

// runStation wires the board, the station, the local API and (with a CSMS)
// the OCPP link, runs them until ctx ends or one of them fails, and returns
// once the hardware is halted and the database closed.
func runStation(ctx context.Context, cfg *config.Config, log *slog.Logger) (err error) {
	db, err := openDB(cfg.DataDir)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
	}()

	var gridMeter []byte
	if m := cfg.Station.Grid.Meter; m != nil {
		if gridMeter, err = yaml.Marshal(m); err != nil {
			return fmt.Errorf("station.grid.meter: %w", err)
		}
	}
	b, err := openBoard(cfg.Board, log, gridMeter)
	if err != nil {
		return err
	}
	halt := func() {
		if herr := b.Board.Halt(); herr != nil {
			log.Error("halt board", "err", herr)
		}
	}
	// The hardware goes to its safe state however we leave: normally (the
	// station halts it too; Halt may be called more than once) and on a
	// panic of this goroutine, which then carries on.
	defer func() {
		if r := recover(); r != nil {
			halt()
			panic(r)
		}
		halt()
		if cerr := b.Close(); cerr != nil {
			log.Error("close meter buses", "err", cerr)
		}
	}()

	conns, err := connectorConfigs(b, cfg.Connectors)
	if err != nil {
		return err
	}
	tlsCfg, err := csmsTLS(cfg.CSMS)
	if err != nil {
		return err
	}
	behaviour := station.DefaultConfig()
	behaviour.FreeCharging = cfg.FreeChargingEnabled()
	firmware := cfg.Station.Firmware
	if firmware == "" {
		firmware = version
	}
	resets := make(chan bool, 1)
	sec, err := openSecurity(cfg, log, func() {
		// A firmware update installed a new binary (no session runs):
		// restart into it as after a soft reset.
		select {
		case resets <- false:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := sec.log.Close(); cerr != nil {
			log.Error("close the security log", "err", cerr)
		}
	}()
	if err := sec.checkBoot(); err != nil {
		return err
	}
	// The log ring, when the logger has one (evsed run installs it).
	logs, _ := log.Handler().(*localapi.LogBuffer)
	ao := agent.Options{
		ID: cfg.Station.ID,
		Identity: ocpp16.Identity{
			ChargePointVendor:       cfg.Station.Vendor,
			ChargePointModel:        cfg.Station.Model,
			ChargePointSerialNumber: cfg.Station.Serial,
			FirmwareVersion:         firmware,
		},
		Connectors: conns,
		Board:      b.Board,
		Behaviour:  behaviour,
		OCPPKeys:   cfg.OCPP,
		Variables:  cfg.OCPP201,
		CSMS: agent.CSMS{
			URL:                  cfg.CSMS.URL,
			Protocols:            cfg.CSMS.Protocols,
			SecurityProfile:      cfg.CSMS.SecurityProfile,
			AllowBasicAuthOverWS: cfg.CSMS.AllowBasicAuthOverWS,
			Password:             cfg.CSMS.Password,
			TLS:                  tlsCfg,
		},
		SiteLimit:   physic.ElectricCurrent(cfg.Station.MaxCurrentA * float64(physic.Ampere)),
		Grid:        gridOptions(cfg.Station.Grid, b.GridMeter),
		Solar:       solarConfig(cfg.Station.Solar),
		LimitInput:  b.LimitInput,
		InputLimit:  amps(cfg.Station.LimitInputA),
		Location:    cfg.Station.Location(),
		Voltage:     physic.ElectricPotential(cfg.Station.VoltageV * float64(physic.Volt)),
		Currency:    cfg.Station.Currency,
		DB:          db,
		EnergyFile:  db.Path() + ".energy",
		DrainOnStop: drainOnStop,
		Clock:       clock.Real{},
		Logger:      log,
		OnReset: func(hard bool) {
			select {
			case resets <- hard:
			default:
			}
		},
	}
	sec.agentOptions(&ao, cfg.DataDir, logs)
	ag, err := agent.New(ao)
	if err != nil {
		return err
	}
	api, err := localapi.New(localapi.Options{
		StationID:     cfg.Station.ID,
		Board:         b.Board.Name(),
		Sim:           b.Sim,
		Station:       ag.Station,
		OCPP:          ag.OCPPInfo,
		Logger:        log,
		CSMSURL:       cfg.CSMS.URL,
		Password:      cfg.API.Password,
		Logs:          logs,
		Commissioning: func() *localapi.Commissioning { return commissioning(cfg, b, conns, ag) },
	})
	if err != nil {
		return err
	}
	// Listen before anything runs, so that a taken port fails at once.
	ln, err := net.Listen("tcp", cfg.API.Listen)
	if err != nil {
		return fmt.Errorf("local API: %w", err)
	}

	log.Info("evsed starting", "version", version, "id", cfg.Station.ID, "board", b.Board.Name(),
		"connectors", len(conns), "data", cfg.DataDir, "csms", cfg.CSMS.URL, "free_charging", behaviour.FreeCharging)
	g := newGroup(ctx, halt)
	g.Go("station", func(ctx context.Context) error { return ag.Run(ctx) })
	g.Go("local API", func(ctx context.Context) error { return api.Run(ctx, ln) })
	g.Go("meters", func(ctx context.Context) error {
		if err := b.RunMeters(ctx); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	})
	g.Go("reset", func(ctx context.Context) error {
		select {
		case hard := <-resets:
			// The sessions have ended; leave so that the service manager
			// (systemd Restart=always) starts a fresh process.
			log.Warn("reset requested by the CSMS: stopping for a restart", "hard", hard)
			return errReset
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	stopSupervising := supervise(g, supervisionFromEnv(cfg.Watchdog, ag.Station, halt, log))
	err = g.Wait()
	stopSupervising()
	return err
}

// connectorConfigs pairs the board's connectors with their meters and
// applies the config file's overrides, which may only lower a connector's
// rating.
func connectorConfigs(b *openedBoard, over map[int]config.Connector) ([]station.ConnectorConfig, error) {
	hw := b.Board.Connectors()
	known := make(map[int]bool, len(hw))
	out := make([]station.ConnectorConfig, 0, len(hw))
	for _, c := range hw {
		known[c.ID] = true
		if o, ok := over[c.ID]; ok {
			if o.MaxCurrentA != 0 {
				a := physic.ElectricCurrent(o.MaxCurrentA * float64(physic.Ampere))
				if a > c.MaxCurrent {
					return nil, fmt.Errorf("connectors.%d.max_current_a %g A exceeds the board's rating %s", c.ID, o.MaxCurrentA, c.MaxCurrent)
				}
				c.MaxCurrent = a
			}
			if o.Phases != 0 {
				c.Phases = o.Phases
			}
		}
		out = append(out, station.ConnectorConfig{Hardware: c, Meter: b.Meters[c.ID], Mode: station.ChargeMode(over[c.ID].Mode)})
	}
	for id := range over {
		if !known[id] {
			return nil, fmt.Errorf("connectors.%d: board %s has no connector %d", id, b.Board.Name(), id)
		}
	}
	return out, nil
}

// group runs the station's components under one context: the first to
// return (they all run until ctx ends) cancels the others, and a panic in
// any of them halts the hardware before it propagates.
type group struct {
	ctx    context.Context
	cancel context.CancelFunc
	halt   func()
	wg     sync.WaitGroup

	mu  sync.Mutex // guards err
	err error
}

func newGroup(ctx context.Context, halt func()) *group {
	ctx, cancel := context.WithCancel(ctx)
	return &group{ctx: ctx, cancel: cancel, halt: halt}
}

// Go runs f in a goroutine; name prefixes its error.
func (g *group) Go(name string, f func(ctx context.Context) error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				g.halt()
				panic(r)
			}
		}()
		err := f(g.ctx)
		if err == nil && g.ctx.Err() == nil {
			err = errors.New("stopped unexpectedly")
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			g.mu.Lock()
			if g.err == nil {
				g.err = fmt.Errorf("%s: %w", name, err)
			}
			g.mu.Unlock()
		}
		g.cancel()
	}()
}

// Wait returns once every component has returned, with the first error.
func (g *group) Wait() error {
	g.wg.Wait()
	g.cancel()
	return g.err
}

// Err returns the first component error so far: nil while they all run,
// and once set it stays. It is set before the others are cancelled.
func (g *group) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// errReset ends runStation after a CSMS Reset.
var errReset = errors.New("reset requested by the CSMS")

// drainOnStop is how long an orderly stop waits for a connected CSMS to take
// the queued messages; they stay on disk either way.
const drainOnStop = 3 * time.Second

// reexec replaces the process with a fresh evsed with the same arguments.
func reexec(log *slog.Logger) int {
	exe, err := os.Executable()
	if err == nil {
		log.Info("evsed restarting after reset")
		err = syscall.Exec(exe, os.Args, os.Environ())
	}
	log.Error("restart after reset failed; exiting for the service manager to restart", "err", err)
	return exitError
}

// csmsTLS builds the TLS settings of a wss connection from the CA and
// client certificate files; nil means the system roots and no client
// certificate.
func csmsTLS(c config.CSMS) (*tls.Config, error) {
	if c.CAFile == "" && c.CertFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("csms.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("csms.ca_file %s: no PEM certificate found", c.CAFile)
		}
		cfg.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("csms.cert_file/key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// amps converts a config value in amperes.
func amps(a float64) physic.ElectricCurrent {
	return physic.ElectricCurrent(a * float64(physic.Ampere))
}

// Defaults of station.grid (docs/energy.md): a margin below the fuse and
// the current every connector together may draw while the grid meter is
// lost.
const (
	defaultGridMarginA   = 1
	defaultGridFallbackA = 6
)

// gridOptions turns station.grid into the station's options; m is the
// grid meter the board opened from station.grid.meter.
func gridOptions(g config.Grid, m meter.Meter) station.GridOptions {
	if m == nil {
		return station.GridOptions{}
	}
	margin, fallback := float64(defaultGridMarginA), float64(defaultGridFallbackA)
	if g.MarginA != nil {
		margin = *g.MarginA
	}
	if g.FallbackA != nil {
		fallback = *g.FallbackA
	}
	return station.GridOptions{Meter: m, Fuse: amps(g.FuseA), Margin: amps(margin), Timeout: g.Timeout, Fallback: amps(fallback)}
}

// solarConfig turns station.solar into the station's; zero fields keep
// the station's defaults.
func solarConfig(s config.Solar) station.SolarConfig {
	return station.SolarConfig{
		StartCurrent: amps(s.StartA), StopCurrent: amps(s.StopA),
		StartDelay: s.StartDelay, StopDelay: s.StopDelay,
		MinOnTime: s.MinOn, MinOffTime: s.MinOff,
		PhaseSwitchPause: s.PhaseSwitchPause, PhaseSwitchInterval: s.PhaseSwitchInterval,
	}
}
