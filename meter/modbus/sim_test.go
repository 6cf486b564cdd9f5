package modbus

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/evsed/evsed/meter"
	mb "github.com/simonvetter/modbus"
	"periph.io/x/conn/v3/physic"
)

// This file holds the simulated meters the tests read: a register image per
// unit id, served by simonvetter/modbus's TCP server or by rtuServer, a
// Modbus RTU slave written here for serial lines.

// device is one simulated meter.
type device struct {
	regs     map[Function]map[uint16]uint16 // unset registers read as 0
	silent   bool                           // ignore requests, as a dead meter does
	requests int                            // requests addressed to this unit
}

// sim is a set of simulated meters on one bus. Safe for concurrent use.
type sim struct {
	mu    sync.Mutex // guards units and everything in them
	units map[uint8]*device
}

func newSim() *sim { return &sim{units: make(map[uint8]*device)} }

// load sets unit's registers to r encoded per m.
func (s *sim) load(t testing.TB, unit uint8, m *Model, r meter.Reading) {
	t.Helper()
	img := encodeReading(t, m, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.units[unit]
	if d == nil {
		d = &device{}
		s.units[unit] = d
	}
	d.regs = img
}

func (s *sim) setSilent(unit uint8, silent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.units[unit].silent = silent
}

func (s *sim) requests(unit uint8) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.units[unit].requests
}

// read answers a read request; answer is false when nothing must be sent.
func (s *sim) read(unit uint8, fn Function, addr, qty uint16) (vals []uint16, answer bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.units[unit]
	if d == nil {
		return nil, false, nil
	}
	d.requests++
	if d.silent {
		return nil, false, nil
	}
	if int(addr)+int(qty) > 0x10000 {
		return nil, true, mb.ErrIllegalDataAddress
	}
	vals = make([]uint16, qty)
	for i := range vals {
		vals[i] = d.regs[fn][addr+uint16(i)]
	}
	return vals, true, nil
}

// tcpHandler serves a sim through simonvetter/modbus's server.
type tcpHandler struct{ s *sim }

func (h tcpHandler) HandleCoils(*mb.CoilsRequest) ([]bool, error) { return nil, mb.ErrIllegalFunction }
func (h tcpHandler) HandleDiscreteInputs(*mb.DiscreteInputsRequest) ([]bool, error) {
	return nil, mb.ErrIllegalFunction
}

func (h tcpHandler) HandleHoldingRegisters(req *mb.HoldingRegistersRequest) ([]uint16, error) {
	if req.IsWrite {
		return nil, mb.ErrIllegalFunction
	}
	return h.serve(req.UnitId, Holding, req.Addr, req.Quantity)
}

func (h tcpHandler) HandleInputRegisters(req *mb.InputRegistersRequest) ([]uint16, error) {
	return h.serve(req.UnitId, Input, req.Addr, req.Quantity)
}

func (h tcpHandler) serve(unit uint8, fn Function, addr, qty uint16) ([]uint16, error) {
	vals, answer, err := h.s.read(unit, fn, addr, qty)
	if !answer {
		// A Modbus TCP gateway answers for a unit that stays silent.
		return nil, mb.ErrGWTargetFailedToRespond
	}
	return vals, err
}

// serveTCP starts a Modbus TCP server for s on a free loopback port and
// returns its tcp:// URL.
func serveTCP(t testing.TB, s *sim) string {
	t.Helper()
	// Find a free port: the server takes a URL, not a listener.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv, err := mb.NewServer(&mb.ServerConfiguration{URL: "tcp://" + addr, MaxClients: 4}, tcpHandler{s})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	return "tcp://" + addr
}

// rtuServer is a Modbus RTU slave for functions 3 and 4 over a byte stream
// (a pty master or a TCP connection). It frames requests by length, since a
// read request is always 8 bytes, and resynchronizes on a bad CRC by
// dropping one byte.
type rtuServer struct {
	s        *sim
	mu       sync.Mutex // guards the counters below
	frames   int        // valid requests received
	bytesIn  int        // request bytes of valid frames
	bytesOut int        // bytes sent
}

func (rs *rtuServer) counts() (frames, bytes int) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.frames, rs.bytesIn + rs.bytesOut
}

func (rs *rtuServer) reset() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.frames, rs.bytesIn, rs.bytesOut = 0, 0, 0
}

// serve answers requests on rw until reading fails.
func (rs *rtuServer) serve(rw io.ReadWriter) {
	var buf [8]byte
	n := 0
	for {
		if _, err := io.ReadFull(rw, buf[n:]); err != nil {
			return
		}
		if crc16(buf[:6]) != binary.LittleEndian.Uint16(buf[6:]) {
			copy(buf[:], buf[1:])
			n = 7
			continue
		}
		n = 0
		unit, fc := buf[0], buf[1]
		addr, qty := binary.BigEndian.Uint16(buf[2:]), binary.BigEndian.Uint16(buf[4:])
		rs.mu.Lock()
		rs.frames++
		rs.bytesIn += len(buf)
		rs.mu.Unlock()
		var out []byte
		switch fc {
		case 3, 4:
			fn := Holding
			if fc == 4 {
				fn = Input
			}
			vals, answer, err := rs.s.read(unit, fn, addr, qty)
			if !answer {
				continue
			}
			if err != nil {
				out = []byte{unit, fc | 0x80, 2}
				break
			}
			out = []byte{unit, fc, byte(2 * len(vals))}
			for _, v := range vals {
				out = binary.BigEndian.AppendUint16(out, v)
			}
		default:
			out = []byte{unit, fc | 0x80, 1}
		}
		out = binary.LittleEndian.AppendUint16(out, crc16(out))
		if _, err := rw.Write(out); err != nil {
			return
		}
		rs.mu.Lock()
		rs.bytesOut += len(out)
		rs.mu.Unlock()
	}
}

// crc16 is the Modbus RTU CRC (polynomial 0xA001 reflected, initial 0xFFFF),
// sent low byte first.
func crc16(b []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, c := range b {
		crc ^= uint16(c)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xA001
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

// encodeReading builds the register image a meter of model m shows when it
// measures r. It inverts the model's scales independently of the decoder:
// integer registers must hold the value exactly, float32 registers hold the
// nearest float32.
func encodeReading(t testing.TB, m *Model, r meter.Reading) map[Function]map[uint16]uint16 {
	t.Helper()
	img := map[Function]map[uint16]uint16{Input: {}, Holding: {}}
	for _, reg := range m.Registers {
		per, _ := baseUnits(reg.Quantity, reg.Unit)
		var base *big.Rat // value in base units
		switch reg.Quantity {
		case EnergyImport:
			base = new(big.Rat).SetInt64(int64(r.EnergyImport))
		case EnergyExport:
			base = new(big.Rat).SetInt64(int64(r.EnergyExport))
		case PowerTotal:
			base = new(big.Rat).SetInt64(int64(r.Power))
		case PowerPhase:
			base = new(big.Rat).SetInt64(int64(r.PowerPhase[reg.Phase-1]))
		case Current:
			base = new(big.Rat).SetInt64(int64(r.Current[reg.Phase-1]))
		case Voltage:
			base = new(big.Rat).SetInt64(int64(r.Voltage[reg.Phase-1]))
		case Frequency:
			base = new(big.Rat).SetInt64(int64(r.Frequency))
		case PowerFactor:
			base, _ = new(big.Rat).SetString(strconv.FormatFloat(float64(r.PowerFactor), 'g', -1, 64))
		}
		scale, _ := new(big.Rat).SetString(strconv.FormatFloat(reg.Scale, 'g', -1, 64))
		raw := base.Quo(base, scale.Mul(scale, new(big.Rat).SetInt64(per)))
		var bits uint64
		if reg.Type == Float32 {
			f, _ := raw.Float64()
			bits = uint64(math.Float32bits(float32(f)))
		} else {
			if !raw.IsInt() {
				t.Fatalf("%s %s: %v is not a whole number of register steps", m.Name, reg.Quantity, raw)
			}
			if raw.Sign() < 0 {
				bits = uint64(raw.Num().Int64()) // two's complement, cut to the type's width below
			} else {
				bits = raw.Num().Uint64()
			}
		}
		n := reg.Type.Words()
		for i := range n {
			w := uint16(bits >> (16 * (n - 1 - i))) // i-th word, most significant first
			pos := i
			if reg.Order == LittleWords {
				pos = n - 1 - i
			}
			img[reg.Function][reg.Addr+uint16(pos)] = w
		}
	}
	return img
}

// truth is what each simulated meter measures in the model tests, chosen to
// be exactly representable in the model's registers: signed power on L3,
// a float32 energy with 8 significant digits, a uint64 energy past 2^32
// counts for ABB, an int32 with both words in use for the EM340.
func truth(m *Model) meter.Reading {
	r := meter.Reading{
		Fields:       m.Fields(),
		Phases:       m.Phases,
		EnergyImport: 12345678 * meter.WattHour, // 12345.678 kWh
		EnergyExport: 1200 * meter.WattHour,
		Power:        29806 * physic.Watt / 10,
		PowerPhase:   [3]physic.Power{23005 * physic.Watt / 10, 21804 * physic.Watt / 10, -15003 * physic.Watt / 10},
		Current:      [3]physic.ElectricCurrent{1025 * physic.Ampere / 100, 950 * physic.Ampere / 100, 1175 * physic.Ampere / 100},
		Voltage:      [3]physic.ElectricPotential{2301 * physic.Volt / 10, 2312 * physic.Volt / 10, 2298 * physic.Volt / 10},
		Frequency:    501 * physic.Hertz / 10,
		PowerFactor:  0.987,
	}
	switch m.Name {
	case "abb-b23", "abb-b24":
		r.EnergyImport = 5000000001 * 10 * meter.WattHour // 50 000 000.01 kWh: 5e9+1 counts of 0.01 kWh
	case "em340":
		r.EnergyImport = 123456 * 100 * meter.WattHour // 12345.6 kWh: 0x0001E240 counts of 0.1 kWh
	}
	if m.Phases == 1 {
		r.Power = r.PowerPhase[0]
		for i := 1; i < 3; i++ {
			r.PowerPhase[i], r.Current[i], r.Voltage[i] = 0, 0, 0
		}
	}
	if m.DC {
		// A DC meter measures what its fields say, and nothing else.
		r.DC = true
		f := m.Fields()
		if !f.Has(meter.FieldEnergyExport) {
			r.EnergyExport = 0
		}
		if !f.Has(meter.FieldPowerPhases) {
			r.PowerPhase = [3]physic.Power{}
		}
		if !f.Has(meter.FieldFrequency) {
			r.Frequency = 0
		}
		if !f.Has(meter.FieldPowerFactor) {
			r.PowerFactor = 0
		}
	}
	return r
}

// sameReading reports the first difference between got and want, ignoring
// Time.
func sameReading(got, want meter.Reading) error {
	got.Time = want.Time
	if got != want {
		return errors.New("reading differs:\n got " + Format(got) + "\nwant " + Format(want))
	}
	return nil
}

// serveRTUOverTCP serves s as RTU frames over TCP on a free loopback port,
// as a serial-to-Ethernet converter does, and returns its rtuovertcp:// URL.
func serveRTUOverTCP(t testing.TB, s *sim) (string, *rtuServer) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs := &rtuServer{s: s}
	var wg sync.WaitGroup
	conns := make(chan net.Conn, 16)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- c
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				rs.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		close(conns)
		for c := range conns {
			c.Close()
		}
		wg.Wait()
	})
	return "rtuovertcp://" + l.Addr().String() + "?baud=115200", rs
}
