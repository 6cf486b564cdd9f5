package station

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/evsed/evsed/meter"
	"go.etcd.io/bbolt"
)

// Layout of the station's bucket:
//
//	<bucket>/sessions/<session id>   JSON sessionRecord of a running session
//	<bucket>/availability/<n>        "1" operative, "0" inoperative
//	<bucket>/reservations/<id>       JSON Reservation in force
//	<bucket>/clean                   present after an orderly stop
var (
	sessionsBucket = []byte("sessions")
	availBucket    = []byte("availability")
	resvBucket     = []byte("reservations")
	cleanKey       = []byte("clean")
)

// sessionRecord is a running session as persisted.
type sessionRecord struct {
	ID            string       `json:"id"`
	Connector     int          `json:"connector"`
	IDTag         string       `json:"idTag"`
	ParentIDTag   string       `json:"parentIdTag,omitempty"`
	MeterStart    meter.Energy `json:"meterStartMilliWh"`
	StartedAt     time.Time    `json:"startedAt"`
	TransactionID string       `json:"transactionId,omitempty"`
	// LastEnergy is the energy register of the session's last recorded
	// sample: the floor of its MeterStop if a restart finds a meter that
	// reads less (a meter reset or replaced while the station was down).
	LastEnergy meter.Energy `json:"lastEnergyMilliWh,omitempty"`
	// StartPending: saved before the Reporter recorded the session's
	// start, which it may or may not have done when a power cut found
	// this; the next run reports the start again before ending the
	// session, so the Reporter never keeps a start that nobody stops.
	StartPending bool `json:"startPending,omitempty"`
}

// saved is what a previous run left in the store.
type saved struct {
	sessions     []sessionRecord
	avail        map[int]bool
	reservations []Reservation
	clean        bool // the previous run stopped in order
}

// store persists sessions and availability in a bbolt bucket. The zero
// value (nil db) keeps nothing. Its methods are called from the journal
// goroutine, and load/markClean from Run while the journal is not running.
type store struct {
	db     *bbolt.DB
	bucket []byte
	// energy, when set, takes the per-sample energy checkpoints instead of
	// db (Options.EnergyFile).
	energy *energyFile
}

// update runs f on the station's bucket, creating it.
func (st store) update(f func(b *bbolt.Bucket) error) error {
	if st.db == nil {
		return nil
	}
	return st.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(st.bucket)
		if err != nil {
			return err
		}
		return f(b)
	})
}

// load reads what the previous run left and removes the clean marker: a
// crash from now on must not look orderly.
func (st store) load() (saved, error) {
	sv := saved{avail: map[int]bool{}}
	err := st.update(func(b *bbolt.Bucket) error {
		sv.clean = b.Get(cleanKey) != nil
		if err := b.Delete(cleanKey); err != nil {
			return err
		}
		if sb := b.Bucket(sessionsBucket); sb != nil {
			err := sb.ForEach(func(k, v []byte) error {
				var r sessionRecord
				if err := json.Unmarshal(v, &r); err != nil {
					return fmt.Errorf("session %s: %w", k, err)
				}
				sv.sessions = append(sv.sessions, r)
				return nil
			})
			if err != nil {
				return err
			}
		}
		if rb := b.Bucket(resvBucket); rb != nil {
			err := rb.ForEach(func(k, v []byte) error {
				var r Reservation
				if err := json.Unmarshal(v, &r); err != nil {
					return fmt.Errorf("reservation %s: %w", k, err)
				}
				sv.reservations = append(sv.reservations, r)
				return nil
			})
			if err != nil {
				return err
			}
		}
		if st.energy != nil {
			for i := range sv.sessions {
				r := &sv.sessions[i]
				if id, e, ok := st.energy.get(r.Connector); ok && id == r.ID && e > r.LastEnergy {
					r.LastEnergy = e
				}
			}
		}
		if ab := b.Bucket(availBucket); ab != nil {
			return ab.ForEach(func(k, v []byte) error {
				n, err := strconv.Atoi(string(k))
				if err != nil {
					return nil // not ours: ignore
				}
				sv.avail[n] = string(v) != "0"
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return saved{}, fmt.Errorf("station: load state: %w", err)
	}
	return sv, nil
}

// saveSession records a running session and, in the same transaction,
// removes the clean marker (a Reset followed by a new session and a crash).
func (st store) saveSession(r sessionRecord) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return st.update(func(b *bbolt.Bucket) error {
		sb, err := b.CreateBucketIfNotExists(sessionsBucket)
		if err != nil {
			return err
		}
		if err := b.Delete(cleanKey); err != nil {
			return err
		}
		return sb.Put([]byte(r.ID), v)
	})
}

// deleteSession forgets an ended session.
func (st store) deleteSession(id string) error {
	return st.update(func(b *bbolt.Bucket) error {
		if sb := b.Bucket(sessionsBucket); sb != nil {
			return sb.Delete([]byte(id))
		}
		return nil
	})
}

// setTransactionID updates a persisted session; unknown ids are ignored.
func (st store) setTransactionID(id, tx string) error {
	return st.updateSession(id, func(r *sessionRecord) { r.TransactionID = tx })
}

// setLastEnergy records the energy register of a session's last recorded
// sample; unknown ids are ignored.
func (st store) setLastEnergy(id string, e meter.Energy) error {
	return st.updateSession(id, func(r *sessionRecord) {
		if e > r.LastEnergy {
			r.LastEnergy = e
		}
	})
}

// updateSession applies f to a persisted session; unknown ids are ignored.
func (st store) updateSession(id string, f func(*sessionRecord)) error {
	return st.update(func(b *bbolt.Bucket) error {
		sb := b.Bucket(sessionsBucket)
		if sb == nil {
			return nil
		}
		v := sb.Get([]byte(id))
		if v == nil {
			return nil
		}
		var r sessionRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		f(&r)
		nv, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return sb.Put([]byte(id), nv)
	})
}

// saveAvailability records connector n's availability.
func (st store) saveAvailability(n int, on bool) error {
	v := []byte("0")
	if on {
		v = []byte("1")
	}
	return st.update(func(b *bbolt.Bucket) error {
		ab, err := b.CreateBucketIfNotExists(availBucket)
		if err != nil {
			return err
		}
		return ab.Put([]byte(strconv.Itoa(n)), v)
	})
}

// markClean records an orderly stop.
func (st store) markClean() error {
	return st.update(func(b *bbolt.Bucket) error { return b.Put(cleanKey, []byte("1")) })
}

// saveReservation records a reservation in force, or forgets it (del).
func (st store) saveReservation(r Reservation, del bool) error {
	key := []byte(strconv.Itoa(r.ID))
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return st.update(func(b *bbolt.Bucket) error {
		rb, err := b.CreateBucketIfNotExists(resvBucket)
		if err != nil {
			return err
		}
		if del {
			return rb.Delete(key)
		}
		return rb.Put(key, v)
	})
}
