package authlist

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
	"unicode"
	"unicode/utf8"
)

// Keys and values of the entries bucket.
//
// A key is uvarint(len(type)) | type | folded token. The length prefix
// keeps (type, token) pairs apart without forbidding any byte in either;
// the folded token maps every rune to the smallest rune of its simple case
// folding orbit (the equivalence strings.EqualFold uses), so two spellings
// of one token meet on one key.
//
// A value is a version byte (entryFormat), then the strings token, type,
// status, group token and group type, each uvarint(len) | bytes; then the
// expiry, a byte 0 (none) or 1 followed by varint(Unix seconds) and
// uvarint(nanoseconds); then uvarint(number of EVSE ids) and each id as a
// uvarint. Little in it is fixed-size, so a typical 1.6 entry takes 20 to
// 30 bytes of flash.
const entryFormat = 1

// appendKey appends the key of (tokenType, token) to b.
func appendKey(b []byte, tokenType, token string) []byte {
	b = binary.AppendUvarint(b, uint64(len(tokenType)))
	b = append(b, tokenType...)
	for i := 0; i < len(token); {
		c := token[i]
		if c < utf8.RuneSelf {
			// ASCII, nearly every token: the orbit's smallest member of a
			// letter is its upper case.
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(token[i:])
		b = utf8.AppendRune(b, foldRune(r))
		i += n
	}
	return b
}

// foldRune returns the smallest rune that folds to the same as r.
func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < least {
			least = f
		}
	}
	return least
}

// encodeEntry returns the stored form of an entry.
func encodeEntry(token, tokenType string, info *Info) []byte {
	b := make([]byte, 0, 32+len(token)+len(tokenType)+len(info.GroupToken)+len(info.GroupTokenType))
	b = append(b, entryFormat)
	for _, s := range [...]string{token, tokenType, string(info.Status), info.GroupToken, info.GroupTokenType} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	if info.Expiry.IsZero() {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = binary.AppendVarint(b, info.Expiry.Unix())
		b = binary.AppendUvarint(b, uint64(info.Expiry.Nanosecond()))
	}
	b = binary.AppendUvarint(b, uint64(len(info.EVSEs)))
	for _, id := range info.EVSEs {
		b = binary.AppendUvarint(b, uint64(id))
	}
	return b
}

// decoder reads a stored value; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: entry %s", ErrCorrupt, what)
	}
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

// str copies a string out of the value: the value lives in the memory map
// and is valid only during the transaction.
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

func (d *decoder) byte(what string) byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail(what)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// decodeEntry parses a stored value into an Entry that owns its memory.
func decodeEntry(v []byte) (Entry, error) {
	d := decoder{b: v}
	if f := d.byte("format"); d.err == nil && f != entryFormat {
		return Entry{}, fmt.Errorf("%w: entry format %d", ErrCorrupt, f)
	}
	var e Entry
	e.Token = d.str("token")
	e.TokenType = d.str("token type")
	e.Status = Status(d.str("status"))
	e.GroupToken = d.str("group token")
	e.GroupTokenType = d.str("group token type")
	switch d.byte("expiry flag") {
	case 0:
	case 1:
		sec := d.varint("expiry")
		nsec := d.uvarint("expiry")
		if nsec >= uint64(time.Second) {
			d.fail("expiry")
		}
		e.Expiry = time.Unix(sec, int64(nsec)).UTC()
	default:
		d.fail("expiry flag")
	}
	n := d.uvarint("EVSE count")
	if d.err == nil && n > uint64(len(d.b)) { // each id takes a byte at least
		d.fail("EVSE count")
	}
	if d.err == nil && n > 0 {
		e.EVSEs = make([]int, n)
		for i := range e.EVSEs {
			id := d.uvarint("EVSE id")
			if id > uint64(math.MaxInt) {
				d.fail("EVSE id")
			}
			e.EVSEs[i] = int(id)
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err == nil && !e.Status.Valid() {
		d.fail("status")
	}
	if d.err != nil {
		return Entry{}, d.err
	}
	return e, nil
}
