package smartcharging

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// The stored form of a profile (the value under its key):
//
//	format byte (profileFormat)
//	varint ID, Connector, StackLevel
//	byte Purpose, Kind, Recurrency
//	time ValidFrom, ValidTo, Installed
//	string TransactionID: uvarint(len) | bytes
//	time Schedule.Start; varint Schedule.Duration (ns); byte Unit;
//	float Schedule.MinRate
//	uvarint number of periods, then each: varint Start (ns), float Limit,
//	varint Phases
//
// where a time is a byte 0 (the zero Time) or 1 followed by varint(Unix
// seconds) and uvarint(nanoseconds), and a float is the 8 bytes big endian
// of its IEEE 754 bits. A profile of 24 periods takes some 300 bytes.
const profileFormat = 1

// profileKey is the key of the profile with id: 8 bytes big endian with
// the sign bit flipped, so that keys sort as ids do.
func profileKey(id int) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(int64(id))^(1<<63))
}

// encodeProfile returns the stored form of p.
func encodeProfile(p *Profile) []byte {
	b := make([]byte, 0, 64+len(p.TransactionID)+20*len(p.Schedule.Periods))
	b = append(b, profileFormat)
	b = binary.AppendVarint(b, int64(p.ID))
	b = binary.AppendVarint(b, int64(p.Connector))
	b = binary.AppendVarint(b, int64(p.StackLevel))
	b = append(b, byte(p.Purpose), byte(p.Kind), byte(p.Recurrency))
	b = appendTime(b, p.ValidFrom)
	b = appendTime(b, p.ValidTo)
	b = appendTime(b, p.Installed)
	b = binary.AppendUvarint(b, uint64(len(p.TransactionID)))
	b = append(b, p.TransactionID...)
	s := &p.Schedule
	b = appendTime(b, s.Start)
	b = binary.AppendVarint(b, int64(s.Duration))
	b = append(b, byte(s.Unit))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(s.MinRate))
	b = binary.AppendUvarint(b, uint64(len(s.Periods)))
	for _, pe := range s.Periods {
		b = binary.AppendVarint(b, int64(pe.Start))
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(pe.Limit))
		b = binary.AppendVarint(b, int64(pe.Phases))
	}
	return b
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// decoder reads a stored value; the first error sticks. Values live in
// bbolt's memory map, valid only during the transaction: everything read
// is copied out.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: profile %s", ErrCorrupt, what)
	}
}

func (d *decoder) byte(what string) byte {
	if d.err != nil || len(d.b) == 0 {
		d.fail(what)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// int reads a varint that must fit an int.
func (d *decoder) int(what string) int {
	v := d.varint(what)
	if int64(int(v)) != v {
		d.fail(what)
		return 0
	}
	return int(v)
}

func (d *decoder) float(what string) float64 {
	if d.err != nil || len(d.b) < 8 {
		d.fail(what)
		return 0
	}
	v := math.Float64frombits(binary.BigEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *decoder) time(what string) time.Time {
	switch d.byte(what) {
	case 0:
		return time.Time{}
	case 1:
		sec := d.varint(what)
		ns := d.uvarint(what)
		if ns >= 1e9 {
			d.fail(what)
			return time.Time{}
		}
		return time.Unix(sec, int64(ns)).UTC()
	}
	d.fail(what)
	return time.Time{}
}

func (d *decoder) str(what string) string {
	n := d.uvarint(what)
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.fail(what)
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// decodeProfile parses a stored value into a Profile that owns its memory.
func decodeProfile(v []byte) (Profile, error) {
	d := decoder{b: v}
	if f := d.byte("format"); d.err == nil && f != profileFormat {
		return Profile{}, fmt.Errorf("%w: profile format %d", ErrCorrupt, f)
	}
	var p Profile
	p.ID = d.int("id")
	p.Connector = d.int("connector")
	p.StackLevel = d.int("stack level")
	p.Purpose = Purpose(d.byte("purpose"))
	p.Kind = Kind(d.byte("kind"))
	p.Recurrency = Recurrency(d.byte("recurrency"))
	p.ValidFrom = d.time("valid from")
	p.ValidTo = d.time("valid to")
	p.Installed = d.time("installed")
	p.TransactionID = d.str("transaction id")
	s := &p.Schedule
	s.Start = d.time("start")
	s.Duration = time.Duration(d.varint("duration"))
	s.Unit = RateUnit(d.byte("unit"))
	s.MinRate = d.float("minimum rate")
	n := d.uvarint("period count")
	// Each period takes at least 10 bytes: a bound that keeps a corrupt
	// count from allocating much.
	if d.err == nil && n > uint64(len(d.b))/10 {
		d.fail("period count")
	}
	if d.err == nil && n > 0 {
		s.Periods = make([]Period, n)
		for i := range s.Periods {
			s.Periods[i] = Period{
				Start:  time.Duration(d.varint("period start")),
				Limit:  d.float("period limit"),
				Phases: d.int("period phases"),
			}
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return Profile{}, d.err
	}
	return p, nil
}
