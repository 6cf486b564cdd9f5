package ocpp201

import (
	"encoding/json"
	"fmt"
	"strconv"

	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/ocppclient/smartcharging"
)

// Sub-buckets of the adapter's top-level bucket.
var (
	// txBucket maps a transactionId to its txRecord.
	txBucket = []byte("tx")
	// metaBucket holds single values (the next boot reason).
	metaBucket = []byte("meta")
	// netBucket maps a configuration slot (decimal) to the
	// NetworkConnectionProfile SetNetworkProfile stored there (JSON).
	netBucket = []byte("network")
	// wireBucket maps a charging profile id (decimal) to the
	// storedProfile SetChargingProfile installed, for
	// ReportChargingProfiles; the engine's store holds what applies.
	wireBucket = []byte("profiles")
)

var keyBootReason = []byte("bootReason")

// txRecord is what the store keeps of a transaction once its Started
// event was delivered: enough to go on after a restart. seqHi bounds the
// seqNos already used: every seqNo of the transaction that has left the
// queue is below it, so a restart continues at max(seqHi, the highest
// queued seqNo + 1) and never reuses one. Delivered raises it in steps of
// seqReserve, one commit per seqReserve events.
type txRecord struct {
	EVSE    int    `json:"evse"`
	Session string `json:"session,omitempty"`
	SeqHi   int    `json:"seqHi"`
	Ended   bool   `json:"ended,omitempty"`
}

const seqReserve = 64

// store is the adapter's bbolt state. Every write is one transaction.
type store struct {
	db  *bbolt.DB
	top []byte
}

func openStore(db *bbolt.DB, top string) (*store, error) {
	s := &store{db: db, top: []byte(top)}
	err := db.Update(func(tx *bbolt.Tx) error {
		t, err := tx.CreateBucketIfNotExists(s.top)
		if err != nil {
			return err
		}
		for _, n := range [][]byte{txBucket, metaBucket, netBucket, wireBucket, cacheBucket, resvBucket} {
			if _, err := t.CreateBucketIfNotExists(n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open store %q: %w", top, err)
	}
	return s, nil
}

func (s *store) bucket(tx *bbolt.Tx, name []byte) (*bbolt.Bucket, error) {
	t := tx.Bucket(s.top)
	if t == nil {
		return nil, fmt.Errorf("bucket %q missing", s.top)
	}
	b := t.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("bucket %q missing", name)
	}
	return b, nil
}

func (s *store) view(name []byte, f func(*bbolt.Bucket) error) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		b, err := s.bucket(tx, name)
		if err != nil {
			return err
		}
		return f(b)
	})
}

func (s *store) update(name []byte, f func(*bbolt.Bucket) error) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b, err := s.bucket(tx, name)
		if err != nil {
			return err
		}
		return f(b)
	})
}

func (s *store) putTx(id string, r txRecord) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := s.update(txBucket, func(b *bbolt.Bucket) error { return b.Put([]byte(id), v) }); err != nil {
		return fmt.Errorf("store transaction %s: %w", id, err)
	}
	return nil
}

// deleteTx forgets an ended transaction whose Ended event was delivered.
func (s *store) deleteTx(id string) error {
	return s.update(txBucket, func(b *bbolt.Bucket) error { return b.Delete([]byte(id)) })
}

func (s *store) txRecords() (map[string]txRecord, error) {
	out := map[string]txRecord{}
	err := s.view(txBucket, func(b *bbolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			var r txRecord
			if json.Unmarshal(v, &r) == nil {
				out[string(k)] = r
			}
			return nil
		})
	})
	return out, err
}

func (s *store) txRecord(id string) (txRecord, bool, error) {
	var (
		r     txRecord
		found bool
	)
	err := s.view(txBucket, func(b *bbolt.Bucket) error {
		v := b.Get([]byte(id))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &r)
	})
	return r, found, err
}

func (s *store) bootReason() (BootReason, error) {
	var r BootReason
	err := s.view(metaBucket, func(b *bbolt.Bucket) error {
		r = BootReason(b.Get(keyBootReason))
		return nil
	})
	return r, err
}

// setBootReason records the reason of the next boot; "" clears it.
func (s *store) setBootReason(r BootReason) error {
	return s.update(metaBucket, func(b *bbolt.Bucket) error {
		if r == "" {
			if b.Get(keyBootReason) == nil {
				return nil
			}
			return b.Delete(keyBootReason)
		}
		return b.Put(keyBootReason, []byte(r))
	})
}

func (s *store) putNetworkProfile(slot int, p NetworkConnectionProfile) error {
	v, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.update(netBucket, func(b *bbolt.Bucket) error { return b.Put([]byte(strconv.Itoa(slot)), v) })
}

// NetworkProfile returns the connection profile stored in a configuration
// slot by SetNetworkProfile, and whether there is one.
func (c *Charger) NetworkProfile(slot int) (NetworkConnectionProfile, bool, error) {
	var (
		p     NetworkConnectionProfile
		found bool
	)
	err := c.store.view(netBucket, func(b *bbolt.Bucket) error {
		v := b.Get([]byte(strconv.Itoa(slot)))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &p)
	})
	return p, found, err
}

func (s *store) hasNetworkProfile(slot int) (bool, error) {
	var found bool
	err := s.view(netBucket, func(b *bbolt.Bucket) error {
		found = b.Get([]byte(strconv.Itoa(slot))) != nil
		return nil
	})
	return found, err
}

// storedProfile is a charging profile as the CSMS set it, with its EVSE.
type storedProfile struct {
	EVSE    int             `json:"evse"`
	Profile ChargingProfile `json:"profile"`
}

// syncProfiles makes the wire bucket hold the profiles the engine holds:
// it drops the others and, when add is not nil, writes add. One commit,
// none when nothing changes.
func (s *store) syncProfiles(held []smartcharging.Profile, add *storedProfile) error {
	keep := map[string]bool{}
	for _, p := range held {
		keep[strconv.Itoa(p.ID)] = true
	}
	var gone [][]byte
	err := s.view(wireBucket, func(b *bbolt.Bucket) error {
		return b.ForEach(func(k, _ []byte) error {
			if !keep[string(k)] && (add == nil || string(k) != strconv.Itoa(add.Profile.ID)) {
				gone = append(gone, append([]byte(nil), k...))
			}
			return nil
		})
	})
	if err != nil || (len(gone) == 0 && add == nil) {
		return err
	}
	return s.update(wireBucket, func(b *bbolt.Bucket) error {
		for _, k := range gone {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		if add == nil {
			return nil
		}
		v, err := json.Marshal(add)
		if err != nil {
			return err
		}
		return b.Put([]byte(strconv.Itoa(add.Profile.ID)), v)
	})
}

// storedProfiles returns the wire profiles by id.
func (s *store) storedProfiles() (map[int]storedProfile, error) {
	out := map[int]storedProfile{}
	err := s.view(wireBucket, func(b *bbolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			id, err := strconv.Atoi(string(k))
			var p storedProfile
			if err == nil && json.Unmarshal(v, &p) == nil {
				out[id] = p
			}
			return nil
		})
	})
	return out, err
}
