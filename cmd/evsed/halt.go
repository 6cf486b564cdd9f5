package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/evsed/evsed/cmd/evsed/internal/config"
)

// cmdHalt implements `evsed halt [--config FILE] [--board NAME|FILE]`: it
// opens the board and puts every part in its safe state (contactors open,
// pilot at -12 V), then exits.
//
// `evsed run` halts the board itself whenever it can, but a process that
// dies abruptly (kill -9, the kernel's OOM killer, a panic on a goroutine
// of a library) leaves GPIO levels and a DMA-driven PWM as they were. The
// systemd unit therefore runs `evsed halt` after every stop of the service
// (ExecStopPost), before any restart.
func cmdHalt(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("evsed halt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "YAML config `FILE` naming the board")
	board := fs.String("board", "", "built-in board `NAME` or board FILE (overrides the config)")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "evsed halt: unexpected argument %q\n%s", fs.Arg(0), usageText)
		return exitUsage
	}
	var o config.Overrides
	if *board != "" {
		o.Board = board
	}
	cfg, err := config.Load(*cfgPath, o, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "evsed halt: %v\n", err)
		return exitError
	}
	log := newLogger(stderr, cfg.LogLevel)
	b, err := openBoard(cfg.Board, log, nil)
	if err != nil {
		fmt.Fprintf(stderr, "evsed halt: %v\n", err)
		return exitError
	}
	code := exitOK
	if err := b.Board.Halt(); err != nil {
		fmt.Fprintf(stderr, "evsed halt: board %s: %v\n", b.Board.Name(), err)
		code = exitError
	}
	if err := b.Close(); err != nil {
		fmt.Fprintf(stderr, "evsed halt: close meter buses: %v\n", err)
	}
	if code == exitOK {
		fmt.Fprintf(stdout, "board %s halted\n", b.Board.Name())
	}
	return code
}
