package ocppclient

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"
)

// decodeAll decodes every entry of b in key order.
func decodeAll(b *bbolt.Bucket) ([]Entry, error) {
	var out []Entry
	err := b.ForEach(func(k, v []byte) error {
		e, err := decodeEntry(k, v)
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// seqKey is the bucket key of seq: big-endian, so byte order is numeric order.
func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// seqOf is the inverse of seqKey; it returns 0 for a malformed key.
func seqOf(k []byte) uint64 {
	if len(k) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k)
}

// entryFormat is the first byte of every stored value; a new layout gets a
// new number so that old files stay readable.
const entryFormat = 1

// encodeEntry lays e out as: format byte, kind byte, uvarint attempts,
// uvarint-prefixed EnqueuedAt (time.MarshalBinary, which keeps the zone
// offset), uvarint-prefixed Action, uvarint-prefixed Key, then the Payload
// to the end. Seq is the key and is not repeated.
func encodeEntry(e Entry) []byte {
	at, err := e.EnqueuedAt.MarshalBinary()
	if err != nil {
		// Only a zone offset that is not whole minutes fails; keep the
		// instant in UTC rather than refuse a billing record.
		at, _ = e.EnqueuedAt.UTC().MarshalBinary()
	}
	b := make([]byte, 0, 2+4*binary.MaxVarintLen64+len(at)+len(e.Action)+len(e.Key)+len(e.Payload))
	b = append(b, entryFormat, byte(e.Kind))
	b = binary.AppendUvarint(b, uint64(max(e.Attempts, 0)))
	b = appendBytes(b, at)
	b = appendBytes(b, []byte(e.Action))
	b = appendBytes(b, []byte(e.Key))
	return append(b, e.Payload...)
}

// appendBytes appends field to b with a uvarint length prefix.
func appendBytes(b, field []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(field))), field...)
}

// peekKind returns the kind of an encoded entry without decoding the rest.
func peekKind(v []byte) (EntryKind, error) {
	if len(v) < 2 || v[0] != entryFormat || int(v[1]) >= numKinds {
		return 0, ErrCorruptEntry
	}
	return EntryKind(v[1]), nil
}

// decodeEntry decodes the value v stored under key k. v belongs to bbolt and
// is valid only during the transaction, so everything is copied out.
func decodeEntry(k, v []byte) (Entry, error) {
	kind, attempts, fields, payload, err := splitEntry(k, v)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Seq: seqOf(k), Kind: kind, Attempts: attempts}
	if err := e.EnqueuedAt.UnmarshalBinary(fields[0]); err != nil {
		return Entry{}, fmt.Errorf("seq %d time: %w", e.Seq, ErrCorruptEntry)
	}
	e.Action, e.Key = string(fields[1]), string(fields[2])
	if len(payload) > 0 {
		e.Payload = bytes.Clone(payload)
	}
	return e, nil
}

// splitEntry parses a stored entry in place: the time, action and key
// fields and the payload are sub-slices of v, valid as long as v is (the
// bbolt transaction).
func splitEntry(k, v []byte) (kind EntryKind, attempts int, fields [3][]byte, payload []byte, err error) {
	seq := seqOf(k)
	kind, err = peekKind(v)
	if err != nil || len(k) != 8 {
		return 0, 0, fields, nil, fmt.Errorf("seq %d: %w", seq, ErrCorruptEntry)
	}
	rest := v[2:]
	n, w := binary.Uvarint(rest)
	if w <= 0 || n > uint64(^uint(0)>>1) {
		return 0, 0, fields, nil, fmt.Errorf("seq %d attempts: %w", seq, ErrCorruptEntry)
	}
	attempts, rest = int(n), rest[w:]
	for i := range fields {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > uint64(len(rest)-w) {
			return 0, 0, fields, nil, fmt.Errorf("seq %d field %d: %w", seq, i, ErrCorruptEntry)
		}
		fields[i], rest = rest[w:w+int(n)], rest[w+int(n):]
	}
	return kind, attempts, fields, rest, nil
}
