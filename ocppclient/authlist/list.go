package authlist

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"go.etcd.io/bbolt"
)

// Keys of the list's bucket (see the package doc for the layout).
var (
	formatKey  = []byte("format")
	versionKey = []byte("version")
	countKey   = []byte("count")
	entriesKey = []byte("entries")
)

// storeFormat is the value under formatKey: the layout of the bucket.
const storeFormat = 1

// List is a Local Authorization List kept in a bbolt bucket. It is safe
// for concurrent use: bbolt serializes Updates, and a Lookup, Version or
// Len running beside an Update sees the list either before or after it,
// never in between. The bucket belongs to the List; open one List per
// bucket.
type List struct {
	db     *bbolt.DB
	bucket []byte

	// afterChange, when set, runs inside Update's transaction after each
	// change has been written, with the change's index; an error or a
	// panic from it fails the update. Tests set it before using the List,
	// to fail an update midway.
	afterChange func(i int) error
}

// Open returns the list kept in bucket, a top-level bucket of db. A missing
// bucket is an empty list, version 0; Open writes nothing (the bucket is
// created by the first Update), so opening costs no commit. It returns an
// error wrapping ErrCorrupt if the bucket holds something else.
//
// Updates are durable when they return only if db was opened without
// NoSync. The List uses db until the caller closes it; do not use the List
// after that.
func Open(db *bbolt.DB, bucket string) (*List, error) {
	if db == nil || bucket == "" {
		return nil, fmt.Errorf("authlist: open: no database or empty bucket name")
	}
	l := &List{db: db, bucket: []byte(bucket)}
	err := db.View(func(tx *bbolt.Tx) error {
		_, err := readMeta(tx.Bucket(l.bucket))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("authlist: open %q: %w", bucket, err)
	}
	return l, nil
}

// meta is the list's version and entry count, as stored.
type meta struct {
	version, count uint64
}

// readMeta reads the version and count of the list in b; a nil or empty
// bucket is an empty list.
func readMeta(b *bbolt.Bucket) (meta, error) {
	if b == nil {
		return meta{}, nil
	}
	f := b.Get(formatKey)
	if f == nil {
		if k, _ := b.Cursor().First(); k != nil {
			return meta{}, fmt.Errorf("%w: bucket holds data but no format", ErrCorrupt)
		}
		return meta{}, nil
	}
	if len(f) != 1 || f[0] != storeFormat {
		return meta{}, fmt.Errorf("%w: unknown storage format %x", ErrCorrupt, f)
	}
	v, c := b.Get(versionKey), b.Get(countKey)
	if len(v) != 8 || len(c) != 8 {
		return meta{}, fmt.Errorf("%w: bad version or count", ErrCorrupt)
	}
	return meta{version: binary.BigEndian.Uint64(v), count: binary.BigEndian.Uint64(c)}, nil
}

// op is a prepared change: the entry's key, and its stored value or nil to
// remove it.
type op struct {
	key, value []byte
}

// Update applies one SendLocalList: a Full update replaces the whole list
// with changes (none gives an empty list); a Differential update applies
// each change to the current list (see Change). version is the list's
// version after the update, and maxLength the most entries the list may
// hold afterwards (0 or less: it may hold none). The adapter checks the
// number of changes per message (1.6 SendLocalListMaxLength, 2.0.1
// ItemsPerMessageSendLocalList) itself; the list does not know it.
//
// The update is one bbolt transaction: when Update returns nil it is
// durable, when it returns an error nothing of it was applied, and a crash
// in between leaves the list as it was before. Errors wrap:
//
//   - ErrInvalid, checked first and before any write: kind is neither Full
//     nor Differential; version is negative; a Full update with entries
//     carries version 0 (reserved for an empty list); a change has an
//     empty token, a token or a type longer than MaxTokenLen or
//     MaxTokenTypeLen, or not valid UTF-8; a token appears twice in the
//     update (in any spelling of its case, with the same type); a Full
//     change has no Info; an Info has a status that is not Valid, an
//     over-long group token or type, or a negative EVSE id.
//   - ErrVersionMismatch: a Differential update whose version is not above
//     Version. A Full update may carry any version, also a lower one: it
//     is how a CSMS starts over.
//   - ErrTooLong: the list would end with more than maxLength entries.
//   - ErrCorrupt, or a bbolt error: the database failed.
func (l *List) Update(kind Kind, version int, changes []Change, maxLength int) error {
	ops, err := prepare(kind, version, changes)
	if err != nil {
		return err
	}
	limit := uint64(max(maxLength, 0))
	if kind == Full && uint64(len(ops)) > limit {
		return fmt.Errorf("%w: %d entries, at most %d", ErrTooLong, len(ops), limit)
	}
	err = l.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(l.bucket)
		if err != nil {
			return err
		}
		m, err := readMeta(b)
		if err != nil {
			return err
		}
		if kind == Differential && uint64(version) <= m.version {
			return fmt.Errorf("%w: differential version %d, list at %d", ErrVersionMismatch, version, m.version)
		}
		n := m.count
		var entries *bbolt.Bucket
		if kind == Full {
			// Dropping the sub-bucket frees its pages in one go, rather
			// than deleting the old entries one by one.
			if b.Bucket(entriesKey) != nil {
				if err := b.DeleteBucket(entriesKey); err != nil {
					return err
				}
			}
			n = 0
			entries, err = b.CreateBucket(entriesKey)
		} else {
			entries, err = b.CreateBucketIfNotExists(entriesKey)
		}
		if err != nil {
			return err
		}
		for i, o := range ops {
			held := kind == Differential && entries.Get(o.key) != nil
			switch {
			case o.value == nil && held:
				if n == 0 {
					return fmt.Errorf("%w: count below the entries held", ErrCorrupt)
				}
				if err := entries.Delete(o.key); err != nil {
					return err
				}
				n--
			case o.value != nil:
				if !held {
					n++
				}
				if err := entries.Put(o.key, o.value); err != nil {
					return err
				}
			}
			if l.afterChange != nil {
				if err := l.afterChange(i); err != nil {
					return err
				}
			}
		}
		if n > limit {
			return fmt.Errorf("%w: %d entries after the update, at most %d", ErrTooLong, n, limit)
		}
		v := uint64(version)
		if n == 0 {
			v = 0 // both versions report an empty list as version 0
		}
		return putMeta(b, meta{version: v, count: n})
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrVersionMismatch), errors.Is(err, ErrTooLong), errors.Is(err, ErrCorrupt):
		return err // already says what and where
	default:
		return fmt.Errorf("authlist: %s update to version %d: %w", kind, version, err)
	}
}

// putMeta writes the format, version and count into b.
func putMeta(b *bbolt.Bucket, m meta) error {
	if err := b.Put(formatKey, []byte{storeFormat}); err != nil {
		return err
	}
	if err := b.Put(versionKey, binary.BigEndian.AppendUint64(nil, m.version)); err != nil {
		return err
	}
	return b.Put(countKey, binary.BigEndian.AppendUint64(nil, m.count))
}

// prepare validates an update (see Update) and encodes its changes.
func prepare(kind Kind, version int, changes []Change) ([]op, error) {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
	}
	if kind != Full && kind != Differential {
		return nil, invalid("unknown kind %d", kind)
	}
	if version < 0 {
		return nil, invalid("negative version %d", version)
	}
	if kind == Full && version == 0 && len(changes) > 0 {
		return nil, invalid("version 0 with %d entries: 0 is the version of an empty list", len(changes))
	}
	seen := make(map[string]int, len(changes))
	ops := make([]op, len(changes))
	for i, c := range changes {
		if why := checkToken(c.Token, c.TokenType); why != "" {
			return nil, invalid("change %d: %s", i, why)
		}
		key := appendKey(nil, c.TokenType, c.Token)
		if j, dup := seen[string(key)]; dup {
			return nil, invalid("change %d repeats the token of change %d", i, j)
		}
		seen[string(key)] = i
		ops[i].key = key
		if c.Info == nil {
			if kind == Full {
				return nil, invalid("change %d: a Full update entry without info", i)
			}
			continue
		}
		if why := checkInfo(c.Info); why != "" {
			return nil, invalid("change %d: %s", i, why)
		}
		ops[i].value = encodeEntry(c.Token, c.TokenType, c.Info)
	}
	return ops, nil
}

// checkToken says what is wrong with a token and its type, or "".
func checkToken(token, tokenType string) string {
	switch {
	case token == "":
		return "empty token"
	case !utf8.ValidString(token) || !utf8.ValidString(tokenType):
		return "token or type not UTF-8"
	case utf8.RuneCountInString(token) > MaxTokenLen:
		return fmt.Sprintf("token longer than %d", MaxTokenLen)
	case utf8.RuneCountInString(tokenType) > MaxTokenTypeLen:
		return fmt.Sprintf("token type longer than %d", MaxTokenTypeLen)
	}
	return ""
}

// checkInfo says what is wrong with info, or "".
func checkInfo(info *Info) string {
	if !info.Status.Valid() {
		return fmt.Sprintf("unknown status %q", info.Status)
	}
	if info.GroupToken != "" || info.GroupTokenType != "" {
		if why := checkToken(info.GroupToken, info.GroupTokenType); why != "" {
			return "group " + why
		}
	}
	for _, id := range info.EVSEs {
		if id < 0 {
			return fmt.Sprintf("negative EVSE id %d", id)
		}
	}
	return ""
}

// Lookup returns the entry of token with tokenType ("" in 1.6) and whether
// the list holds one; the token is compared without regard to case. An
// entry whose Expiry is not after now reads as Expired, whatever status it
// was stored with: its information no longer holds, and the adapter should
// treat the token as the list not vouching for it (as the authorization
// cache does for its own entries). The returned Entry is the caller's.
//
// Lookup reads the database (a read transaction, no write). An entry that
// cannot be read (a closed database, a corrupt value) is reported as not
// held: the caller then authorizes as it would for an unknown token.
func (l *List) Lookup(token, tokenType string, now time.Time) (Entry, bool) {
	if !utf8.ValidString(token) {
		return Entry{}, false // never stored: Update refuses such tokens
	}
	var buf [64]byte
	key := appendKey(buf[:0], tokenType, token)
	var (
		e  Entry
		ok bool
	)
	_ = l.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(l.bucket)
		if b == nil {
			return nil
		}
		entries := b.Bucket(entriesKey)
		if entries == nil {
			return nil
		}
		v := entries.Get(key)
		if v == nil {
			return nil
		}
		var err error
		e, err = decodeEntry(v)
		ok = err == nil
		return nil
	})
	if !ok {
		return Entry{}, false
	}
	if !e.Expiry.IsZero() && !now.Before(e.Expiry) {
		e.Status = Expired
	}
	return e, true
}

// Version returns the list's version: 0 when the list is empty, otherwise
// the version of the update that produced it (at least 1). It is what
// GetLocalListVersion answers (the 1.6 adapter answers -1 itself when the
// list is disabled). A database that cannot be read reads as 0.
func (l *List) Version() int {
	return int(l.meta().version)
}

// Len returns the number of entries, expired ones included; 0 when the
// database cannot be read.
func (l *List) Len() int {
	return int(l.meta().count)
}

// meta reads the stored meta data, zero on any error.
func (l *List) meta() meta {
	var m meta
	_ = l.db.View(func(tx *bbolt.Tx) error {
		var err error
		m, err = readMeta(tx.Bucket(l.bucket))
		return err
	})
	return m
}
