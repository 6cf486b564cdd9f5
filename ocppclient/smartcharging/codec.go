package smartcharging

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/evsed/evsed/ocppclient/internal/record"
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
	b = record.AppendTime(b, p.ValidFrom)
	b = record.AppendTime(b, p.ValidTo)
	b = record.AppendTime(b, p.Installed)
	b = record.AppendString(b, p.TransactionID)
	s := &p.Schedule
	b = record.AppendTime(b, s.Start)
	b = binary.AppendVarint(b, int64(s.Duration))
	b = append(b, byte(s.Unit))
	b = record.AppendFloat(b, s.MinRate)
	b = binary.AppendUvarint(b, uint64(len(s.Periods)))
	for _, pe := range s.Periods {
		b = binary.AppendVarint(b, int64(pe.Start))
		b = record.AppendFloat(b, pe.Limit)
		b = binary.AppendVarint(b, int64(pe.Phases))
	}
	return b
}

// decodeProfile parses a stored value into a Profile that owns its memory.
func decodeProfile(v []byte) (Profile, error) {
	d := record.NewReader(v, ErrCorrupt, "profile")
	if f := d.Byte("format"); d.Err() == nil && f != profileFormat {
		return Profile{}, fmt.Errorf("%w: profile format %d", ErrCorrupt, f)
	}
	var p Profile
	p.ID = d.Int("id")
	p.Connector = d.Int("connector")
	p.StackLevel = d.Int("stack level")
	p.Purpose = Purpose(d.Byte("purpose"))
	p.Kind = Kind(d.Byte("kind"))
	p.Recurrency = Recurrency(d.Byte("recurrency"))
	p.ValidFrom = d.Time("valid from")
	p.ValidTo = d.Time("valid to")
	p.Installed = d.Time("installed")
	p.TransactionID = d.String("transaction id")
	s := &p.Schedule
	s.Start = d.Time("start")
	s.Duration = time.Duration(d.Varint("duration"))
	s.Unit = RateUnit(d.Byte("unit"))
	s.MinRate = d.Float("minimum rate")
	n := d.Uvarint("period count")
	// Each period takes at least 10 bytes: a bound that keeps a corrupt
	// count from allocating much.
	if d.Err() == nil && n > uint64(d.Len())/10 {
		d.Fail("period count")
	}
	if d.Err() == nil && n > 0 {
		s.Periods = make([]Period, n)
		for i := range s.Periods {
			s.Periods[i] = Period{
				Start:  time.Duration(d.Varint("period start")),
				Limit:  d.Float("period limit"),
				Phases: d.Int("period phases"),
			}
		}
	}
	if err := d.Done(); err != nil {
		return Profile{}, err
	}
	return p, nil
}
