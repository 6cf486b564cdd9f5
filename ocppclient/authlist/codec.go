package authlist

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"

	"github.com/evsed/evsed/ocppclient/internal/record"
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
		b = record.AppendString(b, s)
	}
	b = record.AppendTime(b, info.Expiry)
	b = binary.AppendUvarint(b, uint64(len(info.EVSEs)))
	for _, id := range info.EVSEs {
		b = binary.AppendUvarint(b, uint64(id))
	}
	return b
}

// decodeEntry parses a stored value into an Entry that owns its memory.
func decodeEntry(v []byte) (Entry, error) {
	d := record.NewReader(v, ErrCorrupt, "entry")
	if f := d.Byte("format"); d.Err() == nil && f != entryFormat {
		return Entry{}, fmt.Errorf("%w: entry format %d", ErrCorrupt, f)
	}
	var e Entry
	e.Token = d.String("token")
	e.TokenType = d.String("token type")
	e.Status = Status(d.String("status"))
	e.GroupToken = d.String("group token")
	e.GroupTokenType = d.String("group token type")
	e.Expiry = d.Time("expiry")
	n := d.Uvarint("EVSE count")
	if d.Err() == nil && n > uint64(d.Len()) { // each id takes a byte at least
		d.Fail("EVSE count")
	}
	if d.Err() == nil && n > 0 {
		e.EVSEs = make([]int, n)
		for i := range e.EVSEs {
			id := d.Uvarint("EVSE id")
			if id > uint64(math.MaxInt) {
				d.Fail("EVSE id")
			}
			e.EVSEs[i] = int(id)
		}
	}
	if d.Err() == nil && !e.Status.Valid() {
		d.Fail("status")
	}
	if err := d.Done(); err != nil {
		return Entry{}, err
	}
	return e, nil
}
