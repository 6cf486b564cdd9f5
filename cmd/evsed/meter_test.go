package main

import (
	"bytes"
	"math"
	"strings"
	"sync"
	"testing"

	mb "github.com/simonvetter/modbus"
)

// sdm630Server is a Modbus TCP server (simonvetter/modbus, not our code)
// holding a few SDM630 input registers, float32 high word first, at unit 1.
// Other units do not answer: the server replies as a gateway whose target
// is silent.
type sdm630Server struct {
	mu   sync.Mutex // guards regs
	regs map[uint16]uint16
}

func (s *sdm630Server) set(addr uint16, v float32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := math.Float32bits(v)
	s.regs[addr], s.regs[addr+1] = uint16(b>>16), uint16(b)
}

func (s *sdm630Server) HandleCoils(*mb.CoilsRequest) ([]bool, error) {
	return nil, mb.ErrIllegalFunction
}

func (s *sdm630Server) HandleDiscreteInputs(*mb.DiscreteInputsRequest) ([]bool, error) {
	return nil, mb.ErrIllegalFunction
}

func (s *sdm630Server) HandleHoldingRegisters(*mb.HoldingRegistersRequest) ([]uint16, error) {
	return nil, mb.ErrIllegalFunction
}

func (s *sdm630Server) HandleInputRegisters(req *mb.InputRegistersRequest) ([]uint16, error) {
	if req.UnitId != 1 {
		return nil, mb.ErrGWTargetFailedToRespond
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]uint16, req.Quantity)
	for i := range out {
		out[i] = s.regs[req.Addr+uint16(i)] // unset registers read 0
	}
	return out, nil
}

// serveSDM630 starts the server on loopback and returns its tcp:// URL.
func serveSDM630(t *testing.T) string {
	t.Helper()
	s := &sdm630Server{regs: map[uint16]uint16{}}
	s.set(0x0000, 230.5)    // L1 voltage, V
	s.set(0x0006, 10.25)    // L1 current, A
	s.set(0x0034, 2362.75)  // total power, W
	s.set(0x0048, 12345.25) // import energy, kWh
	s.set(0x004A, 0.5)      // export energy, kWh
	addr := freeAddr(t)
	srv, err := mb.NewServer(&mb.ServerConfiguration{URL: "tcp://" + addr, MaxClients: 2}, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	return "tcp://" + addr
}

func TestMeterCommand(t *testing.T) {
	url := serveSDM630(t)
	closed := "tcp://" + freeAddr(t)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr string
	}{
		{name: "read sdm630 over tcp", args: []string{"meter", "read", "--bus", url, "--model", "sdm630", "--unit", "1"},
			wantStdout: []string{
				"energy import  12345.250 kWh\n",
				"energy export  0.500 kWh\n",
				"power          2362.75 W\n",
				"voltage        L1 230.5 V  L2 0.0 V  L3 0.0 V\n",
				"current        L1 10.25 A",
			}},
		{name: "unit defaults to 1", args: []string{"meter", "read", "--bus", url, "--model", "sdm630"},
			wantStdout: []string{"energy import  12345.250 kWh\n"}},
		{name: "silent unit", args: []string{"meter", "read", "--bus", url, "--model", "sdm630", "--unit", "7", "--timeout", "200ms"},
			wantCode: 1, wantStderr: "no response"},
		{name: "nobody listening", args: []string{"meter", "read", "--bus", closed, "--model", "sdm630", "--timeout", "200ms"},
			wantCode: 1, wantStderr: "no response"},
		{name: "unknown model lists the known ones", args: []string{"meter", "read", "--bus", url, "--model", "sdm999"},
			wantCode: 2, wantStderr: "sdm630"},
		{name: "bad url scheme", args: []string{"meter", "read", "--bus", "http://x", "--model", "sdm630"},
			wantCode: 2, wantStderr: "scheme must be rtu, tcp or rtuovertcp"},
		{name: "bad serial parameter", args: []string{"meter", "read", "--bus", "rtu:///dev/ttyUSB0?parity=X", "--model", "sdm630"},
			wantCode: 2, wantStderr: "bad parity"},
		{name: "can model", args: []string{"meter", "read", "--bus", url, "--model", "ivt-s"},
			wantCode: 2, wantStderr: "CAN meter"},
		{name: "missing bus", args: []string{"meter", "read", "--model", "sdm630"},
			wantCode: 2, wantStderr: "--bus and --model are required"},
		{name: "unit out of range", args: []string{"meter", "read", "--bus", url, "--model", "sdm630", "--unit", "300"},
			wantCode: 2, wantStderr: "out of range"},
		{name: "bad timeout", args: []string{"meter", "read", "--bus", url, "--model", "sdm630", "--timeout", "0s"},
			wantCode: 2, wantStderr: "--timeout must be positive"},
		{name: "extra argument", args: []string{"meter", "read", "--bus", url, "--model", "sdm630", "now"},
			wantCode: 2, wantStderr: `unexpected argument "now"`},
		{name: "read help", args: []string{"meter", "read", "-h"}, wantStderr: "-model"},
		{name: "models", args: []string{"meter", "models"},
			wantStdout: []string{"MODEL", "sdm630  ", "modbus", "sdm120", "ivt-s", "can"}},
		{name: "models with argument", args: []string{"meter", "models", "x"}, wantCode: 2, wantStderr: "takes no arguments"},
		{name: "no verb", args: []string{"meter"}, wantCode: 2, wantStderr: "missing command"},
		{name: "unknown verb", args: []string{"meter", "write"}, wantCode: 2, wantStderr: `unknown command "write"`},
		{name: "usage mentions meter", args: []string{"help"}, wantStdout: []string{"evsed meter   read --bus URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := evsed(tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.wantCode, stderr.String())
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, stderr.String())
			}
			if tt.wantCode != 0 && stdout.Len() != 0 {
				t.Errorf("stdout on failure: %s", stdout.String())
			}
		})
	}
}
