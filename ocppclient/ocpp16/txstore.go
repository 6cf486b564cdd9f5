package ocpp16

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.etcd.io/bbolt"
)

// Sub-buckets of the adapter's top-level bucket (Options.Bucket).
var (
	// txBucket maps a station session id to its txRecord.
	txBucket = []byte("tx")
	// txByIDBucket maps a decimal transactionId back to the session id, for
	// RemoteStopTransaction. Entries go when the StopTransaction is answered.
	txByIDBucket = []byte("txbyid")
)

// txRetention is how long a session's transactionId is kept after its
// StopTransaction was answered. The queue acknowledges an entry only after
// Delivered returns, so a crash in between resends the StopTransaction, and
// Prepare must still find the id then; a day is far more than that window
// while keeping the bucket small on a busy charger.
const txRetention = 24 * time.Hour

// errNoTxID reports a session whose StartTransaction has not been answered
// (or was abandoned), so no transactionId can be patched in.
var errNoTxID = errors.New("ocpp16: no transactionId for session")

// txRecord is what txBucket stores per session, JSON-encoded so that fields
// can be added without a format switch.
type txRecord struct {
	TransactionID int `json:"transactionId"`
	// StoppedAt is set when the StopTransaction was answered; the record is
	// purged txRetention later. Zero while the transaction runs.
	StoppedAt time.Time `json:"stoppedAt,omitzero"`
}

// txStore is the durable map from the station's session ids to the
// transactionIds the CSMS assigned. Every method runs in its own bbolt
// transaction, fsync'd on commit, so a stored id survives kill -9. It is safe
// for concurrent use (bbolt serializes writers).
type txStore struct {
	db *bbolt.DB
	// top is the name of the top-level bucket; a string, made a []byte
	// for each lookup on the stack, rather than a copy held on the heap.
	top string
}

// openTxStore creates the buckets under top if needed.
func openTxStore(db *bbolt.DB, top string) (*txStore, error) {
	s := &txStore{db: db, top: top}
	err := db.Update(func(tx *bbolt.Tx) error {
		_, err := subBuckets(tx, s.top, true, txBucket, txByIDBucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open transaction store %q: %w", top, err)
	}
	return s, nil
}

// subBuckets returns the named sub-buckets of the top-level bucket top,
// creating them (and top) when create is set; otherwise a missing bucket is
// an error.
func subBuckets(tx *bbolt.Tx, top string, create bool, names ...[]byte) ([]*bbolt.Bucket, error) {
	var (
		t   *bbolt.Bucket
		err error
	)
	if create {
		if t, err = tx.CreateBucketIfNotExists([]byte(top)); err != nil {
			return nil, err
		}
	} else if t = tx.Bucket([]byte(top)); t == nil {
		return nil, fmt.Errorf("bucket %q missing", top)
	}
	out := make([]*bbolt.Bucket, len(names))
	for i, n := range names {
		if create {
			out[i], err = t.CreateBucketIfNotExists(n)
		} else if out[i] = t.Bucket(n); out[i] == nil {
			err = fmt.Errorf("bucket %q missing", n)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Put records that session got transactionID. It returns once the record is
// synced to disk.
func (s *txStore) Put(session string, transactionID int) error {
	rec, err := json.Marshal(txRecord{TransactionID: transactionID})
	if err != nil {
		return err
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		b, err := subBuckets(tx, s.top, false, txBucket, txByIDBucket)
		if err != nil {
			return err
		}
		if err := b[0].Put([]byte(session), rec); err != nil {
			return err
		}
		return b[1].Put([]byte(strconv.Itoa(transactionID)), []byte(session))
	})
	if err != nil {
		return fmt.Errorf("store transactionId %d of session %s: %w", transactionID, session, err)
	}
	return nil
}

// TransactionID returns the id of session, or an error wrapping errNoTxID.
func (s *txStore) TransactionID(session string) (int, error) {
	var rec txRecord
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := subBuckets(tx, s.top, false, txBucket)
		if err != nil {
			return err
		}
		v := b[0].Get([]byte(session))
		if v == nil {
			return errNoTxID
		}
		return json.Unmarshal(v, &rec)
	})
	if err != nil {
		return 0, fmt.Errorf("session %s: %w", session, err)
	}
	return rec.TransactionID, nil
}

// record returns session's record and whether there is one.
func (s *txStore) record(session string) (txRecord, bool, error) {
	var (
		rec   txRecord
		found bool
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := subBuckets(tx, s.top, false, txBucket)
		if err != nil {
			return err
		}
		v := b[0].Get([]byte(session))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &rec)
	})
	if err != nil {
		return txRecord{}, false, fmt.Errorf("session %s: %w", session, err)
	}
	return rec, found, nil
}

// Session returns the session of a running transaction, and false when the
// id is unknown or its StopTransaction has been answered.
func (s *txStore) Session(transactionID int) (string, bool, error) {
	var session string
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := subBuckets(tx, s.top, false, txByIDBucket)
		if err != nil {
			return err
		}
		session = string(b[0].Get([]byte(strconv.Itoa(transactionID))))
		return nil
	})
	if err != nil {
		return "", false, fmt.Errorf("look up transaction %d: %w", transactionID, err)
	}
	return session, session != "", nil
}

// Stopped marks session's transaction as ended at now: RemoteStop no longer
// finds it, and the record is purged after txRetention. Records of other
// sessions past their retention are purged in the same transaction, which
// keeps the store bounded without a janitor goroutine.
func (s *txStore) Stopped(session string, now time.Time) error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := subBuckets(tx, s.top, false, txBucket, txByIDBucket)
		if err != nil {
			return err
		}
		// bbolt forbids changing a bucket inside its ForEach: collect, then
		// write.
		var (
			expired [][]byte
			stopped *txRecord
		)
		err = b[0].ForEach(func(k, v []byte) error {
			var rec txRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				// A record we cannot read can never be patched in;
				// dropping it beats failing every Stop.
				expired = append(expired, append([]byte(nil), k...))
				return nil
			}
			switch {
			case string(k) == session && rec.StoppedAt.IsZero():
				rec.StoppedAt = now
				stopped = &rec
			case !rec.StoppedAt.IsZero() && now.Sub(rec.StoppedAt) > txRetention:
				expired = append(expired, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range expired {
			if err := b[0].Delete(k); err != nil {
				return err
			}
		}
		if stopped == nil {
			return nil
		}
		if err := b[1].Delete([]byte(strconv.Itoa(stopped.TransactionID))); err != nil {
			return err
		}
		enc, err := json.Marshal(stopped)
		if err != nil {
			return err
		}
		return b[0].Put([]byte(session), enc)
	})
	if err != nil {
		return fmt.Errorf("mark session %s stopped: %w", session, err)
	}
	return nil
}
