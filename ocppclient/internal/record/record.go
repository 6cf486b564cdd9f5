// Package record is the compact binary form in which the version-neutral
// OCPP stores (the local authorization list, the charging profiles) keep
// their entries in bbolt: varints, length-prefixed strings, times and
// floats, appended to a byte slice and read back by a Reader whose first
// error sticks, so that a decoder reads every field and checks once.
//
// The encodings, which stored data depends on and which must not change:
//
//	uvarint, varint   encoding/binary's
//	string            uvarint(len) | bytes
//	time              byte 0 (the zero Time), or 1 | varint(Unix seconds) | uvarint(nanoseconds)
//	float             the 8 bytes big endian of its IEEE 754 bits
package record

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// AppendString appends s, length first.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendTime appends t to the second and nanosecond; the zero Time is one
// byte.
func AppendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// AppendFloat appends v exactly.
func AppendFloat(b []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(b, math.Float64bits(v))
}

// Reader reads one stored record. Values in bbolt live in its memory map
// and are valid only during the transaction: what Reader returns is copied
// out. After the first malformed field every read returns the zero value
// and Err the error, which wraps the corrupt error given to NewReader and
// names the record and the field.
type Reader struct {
	b       []byte
	err     error
	corrupt error
	kind    string
}

// NewReader reads b, a record of the kind named (for errors: "entry",
// "profile"); its errors wrap corrupt.
func NewReader(b []byte, corrupt error, kind string) *Reader {
	return &Reader{b: b, corrupt: corrupt, kind: kind}
}

// Fail records that field is malformed, unless an error came first.
func (r *Reader) Fail(field string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s %s", r.corrupt, r.kind, field)
	}
}

// Err returns the first error.
func (r *Reader) Err() error { return r.err }

// Len is the number of bytes left.
func (r *Reader) Len() int { return len(r.b) }

// Done fails the record if bytes are left over, and returns Err.
func (r *Reader) Done() error {
	if r.err == nil && len(r.b) != 0 {
		r.Fail("trailing bytes")
	}
	return r.err
}

// Byte reads one byte.
func (r *Reader) Byte(field string) byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.Fail(field)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.Fail(field)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Varint reads a signed varint.
func (r *Reader) Varint(field string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.Fail(field)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Int reads a varint that must fit an int.
func (r *Reader) Int(field string) int {
	v := r.Varint(field)
	if int64(int(v)) != v {
		r.Fail(field)
		return 0
	}
	return int(v)
}

// Float reads a float.
func (r *Reader) Float(field string) float64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 8 {
		r.Fail(field)
		return 0
	}
	v := math.Float64frombits(binary.BigEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

// Time reads a time, in UTC.
func (r *Reader) Time(field string) time.Time {
	switch r.Byte(field) {
	case 0:
		return time.Time{}
	case 1:
		sec := r.Varint(field)
		ns := r.Uvarint(field)
		if ns >= uint64(time.Second) {
			r.Fail(field)
			return time.Time{}
		}
		return time.Unix(sec, int64(ns)).UTC()
	}
	r.Fail(field)
	return time.Time{}
}

// String reads a string, copied out of the record.
func (r *Reader) String(field string) string {
	n := r.Uvarint(field)
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.Fail(field)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
