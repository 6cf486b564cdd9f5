package record

import (
	"errors"
	"math"
	"testing"
	"time"

	"encoding/binary"
)

var errCorrupt = errors.New("corrupt")

func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 6, 12, 0, 0, 123456789, time.UTC)
	b := []byte{7}
	b = binary.AppendVarint(b, -42)
	b = binary.AppendUvarint(b, 300)
	b = AppendString(b, "04AB cd")
	b = AppendString(b, "")
	b = AppendTime(b, at)
	b = AppendTime(b, time.Time{})
	b = AppendFloat(b, 16.1)
	b = AppendFloat(b, math.Inf(1))
	r := NewReader(b, errCorrupt, "test")
	if v := r.Byte("b"); v != 7 {
		t.Errorf("byte %d", v)
	}
	if v := r.Int("i"); v != -42 {
		t.Errorf("int %d", v)
	}
	if v := r.Uvarint("u"); v != 300 {
		t.Errorf("uvarint %d", v)
	}
	if s1, s2 := r.String("s1"), r.String("s2"); s1 != "04AB cd" || s2 != "" {
		t.Errorf("strings %q %q", s1, s2)
	}
	if t1, t2 := r.Time("t1"), r.Time("t2"); !t1.Equal(at) || !t2.IsZero() {
		t.Errorf("times %v %v", t1, t2)
	}
	if f1, f2 := r.Float("f1"), r.Float("f2"); f1 != 16.1 || !math.IsInf(f2, 1) {
		t.Errorf("floats %v %v", f1, f2)
	}
	if err := r.Done(); err != nil {
		t.Error(err)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		read func(r *Reader)
	}{
		{"empty byte", nil, func(r *Reader) { r.Byte("f") }},
		{"short float", []byte{1, 2, 3}, func(r *Reader) { r.Float("f") }},
		{"string longer than the record", AppendString(nil, "abc")[:2], func(r *Reader) { r.String("f") }},
		{"bad time flag", []byte{2}, func(r *Reader) { r.Time("f") }},
		{"nanoseconds out of range", binary.AppendUvarint(binary.AppendVarint([]byte{1}, 0), 1e9), func(r *Reader) { r.Time("f") }},
		{"varint cut", []byte{0x80}, func(r *Reader) { r.Varint("f") }},
		{"trailing bytes", []byte{1, 2}, func(r *Reader) { r.Byte("f") }},
	}
	for _, tc := range tests {
		r := NewReader(tc.b, errCorrupt, "test")
		tc.read(r)
		if err := r.Done(); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: %v, want an error wrapping the corrupt error", tc.name, err)
		}
	}
	// The first error sticks: later reads give zero values.
	r := NewReader([]byte{0x80, 0x80}, errCorrupt, "test")
	r.Varint("first")
	if v := r.Byte("second"); v != 0 || r.Err() == nil || r.Err().Error() != "corrupt: test first" {
		t.Errorf("after an error: %d, %v", v, r.Err())
	}
}
