package station

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"

	"github.com/evsed/evsed/meter"
)

// energyFile keeps, for each connector, the energy register of the latest
// sample of its running session: the floor of the session's MeterStop if
// the next run finds a meter that reads less (a meter replaced or reset
// while the station was down, or a simulated meter, which starts from 0).
//
// It is a small file beside the database, written in place and never
// fsync'd: a sample costs a write into the page cache, which the kernel
// writes back with the rest every half minute or so, instead of an fsync'd
// database commit of four pages. The value survives a crash or kill -9 (the
// page cache survives the process); after a power cut it may lag by that
// writeback delay, which matters only when the meter reads less as well.
//
// Layout: one slot of energySlot bytes per connector, connector n at
// (n-1)*energySlot: magic "EVSE", format byte 1, the session id's length
// and bytes (at most energyIDMax), the register in mWh as int64 little
// endian, then the CRC-32C of everything before it in the slot. A slot
// that does not check is ignored.
type energyFile struct {
	f   *os.File
	buf [energySlot]byte // the slot being written; the journal is the only writer
}

const (
	energySlot  = 64
	energyIDMax = energySlot - 4 - 1 - 1 - 8 - 4
)

var energyCRC = crc32.MakeTable(crc32.Castagnoli)

// openEnergyFile opens (creating) the file at path.
func openEnergyFile(path string) (*energyFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("station: energy file: %w", err)
	}
	return &energyFile{f: f}, nil
}

// put records the register of connector n's session.
func (e *energyFile) put(n int, session string, energy meter.Energy) error {
	if n < 1 || len(session) > energyIDMax {
		return fmt.Errorf("station: energy file: connector %d session %q does not fit", n, session)
	}
	b := e.buf[:0]
	b = append(b, 'E', 'V', 'S', 'E', 1, byte(len(session)))
	b = append(b, session...)
	b = binary.LittleEndian.AppendUint64(b, uint64(energy))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, energyCRC))
	if _, err := e.f.WriteAt(b, int64(n-1)*energySlot); err != nil {
		return fmt.Errorf("station: energy file: %w", err)
	}
	return nil
}

// get returns what connector n's slot holds, if it checks.
func (e *energyFile) get(n int) (session string, energy meter.Energy, ok bool) {
	var b [energySlot]byte
	k, err := e.f.ReadAt(b[:], int64(n-1)*energySlot)
	if err != nil && k < 6 {
		return "", 0, false
	}
	if string(b[:4]) != "EVSE" || b[4] != 1 || int(b[5]) > energyIDMax {
		return "", 0, false
	}
	end := 6 + int(b[5]) + 8
	if end+4 > k || binary.LittleEndian.Uint32(b[end:]) != crc32.Checksum(b[:end], energyCRC) {
		return "", 0, false
	}
	return string(b[6 : 6+int(b[5])]), meter.Energy(binary.LittleEndian.Uint64(b[end-8:])), true
}

// close closes the file.
func (e *energyFile) close() error {
	if e == nil {
		return nil
	}
	return e.f.Close()
}
