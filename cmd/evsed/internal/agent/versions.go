package agent

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/firmware"
	"github.com/evsed/evsed/ocppclient/logupload"
	"github.com/evsed/evsed/ocppclient/secevents"
	"github.com/evsed/evsed/station"
)

// The subprotocols evsed speaks.
const (
	OCPP16  = "ocpp1.6"
	OCPP201 = "ocpp2.0.1"
)

// adapter is what the agent needs of an OCPP version's adapter: the
// station's reporter and authorizer, the transport's handler, hooks and
// registration, and the start and stop of its own work. *ocpp16.Charger
// and *ocpp201.Charger are adapters.
type adapter interface {
	station.Reporter
	station.Authorizer
	ocppclient.Handler
	ocppclient.DeliveryHooks
	OnConnect(ctx context.Context, caller ocppclient.Caller) error
	SetTransport(caller ocppclient.Caller, online func() bool)
	Disconnected(registered bool, err error)
	Registration() string
	StationConfig(base station.Config) station.Config
	Start(ctx context.Context) (stop func())
}

// version is one OCPP version the agent offers: its adapter and the queue
// its transaction messages wait in. Each version has a queue of its own,
// since a message is written in one version's words.
type version struct {
	name    string
	adapter adapter
	queue   *ocppclient.Queue
}

// versions is the station's one Reporter and Authorizer whatever the CSMS
// speaks: it passes every fact to the active version, the one the CSMS
// chose at the last registration (persisted, so that facts of a charger
// that restarts offline are written for the CSMS that will read them).
//
// Before the first registration ever the CSMS's version is unknown: then
// every version writes the session facts in its own queue, and the first
// registration keeps the chosen version's and empties the others, so that
// a charger that charges before it ever reached its CSMS loses nothing,
// whichever version that CSMS speaks. (Authorization, meanwhile, is the
// first offered version's, offline.)
//
// A CSMS that changes its version later, while messages of the other one
// are queued, leaves them in that version's queue, on disk: they go out if
// a CSMS of that version comes back, since one version's transaction
// cannot be told in the other's messages.
type versions struct {
	list   []*version // in the order offered
	active atomic.Pointer[version]
	// chosen says a CSMS has chosen a version (at a registration, now or
	// in an earlier run); until then facts go to every version. fanout is
	// held (read) while a fact goes to every version and (write) while
	// the first choice empties the others' queues, so that no copy lands
	// in a queue after it was emptied.
	chosen atomic.Bool
	fanout sync.RWMutex
	// written remembers, for a fact some versions wrote and others did
	// not (a full disk), which ones did: the station reports it again
	// until all have, and a version that has it must not queue it twice.
	// Used only before the first choice.
	writtenMu sync.Mutex
	written   map[factKey][]*version
	db        *bbolt.DB
	bucket    string
}

// versionKey holds the name of the active version in the agent's bucket.
var versionKey = []byte("ocpp-version")

// newVersions makes list the versions offered and activates the one
// persisted in bucket, else the first.
func newVersions(db *bbolt.DB, bucket string, list []*version) (*versions, error) {
	vs := &versions{list: list, db: db, bucket: bucket}
	vs.active.Store(list[0])
	err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		if v := vs.find(string(b.Get(versionKey))); v != nil {
			vs.active.Store(v)
			vs.chosen.Store(true)
		}
		return nil
	})
	return vs, err
}

func (vs *versions) find(name string) *version {
	for _, v := range vs.list {
		if v.name == name {
			return v
		}
	}
	return nil
}

// current returns the active version.
func (vs *versions) current() *version { return vs.active.Load() }

// activate makes v the active version, persisting the choice when it
// changed (once per change of CSMS, not per connection), and reports
// whether it changed and whether it is the first choice ever, which also
// empties the other versions' queues of what they wrote meanwhile (see
// versions); dropped says how many entries that was.
func (vs *versions) activate(v *version) (changed, first bool, dropped int, err error) {
	if vs.chosen.Load() {
		if vs.active.Swap(v) == v {
			return false, false, 0, nil
		}
	} else {
		vs.fanout.Lock()
		defer vs.fanout.Unlock()
		first = !vs.chosen.Load()
		vs.active.Store(v)
	}
	if first {
		vs.chosen.Store(true)
		for _, other := range vs.list {
			if other != v {
				n, err := dropQueued(other.queue)
				dropped += n
				if err != nil {
					return true, first, dropped, err
				}
			}
		}
	}
	return true, first, dropped, vs.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(vs.bucket))
		if err != nil {
			return err
		}
		return b.Put(versionKey, []byte(v.name))
	})
}

// queued is the number of messages waiting in every version's queue.
func (vs *versions) queued() int {
	n := 0
	for _, v := range vs.list {
		n += v.queue.Len()
	}
	return n
}

// StatusChanged implements station.Reporter for the versions that write
// the session facts (see report): a status change can be a transaction
// event (2.0.1 starts a transaction at EVConnected), which only the
// version whose CSMS will read it may queue. A version that becomes
// active later hears the statuses of the moment then (Agent.activate).
func (vs *versions) StatusChanged(s station.StatusChange) {
	_ = vs.report(factKey{}, func(a adapter) error { a.StatusChanged(s); return nil })
}

// SessionStarted, SampleTaken and SessionEnded implement station.Reporter
// for the active version, or for every version before a CSMS chose one.
func (vs *versions) SessionStarted(ctx context.Context, s station.SessionStart) error {
	return vs.report(factKey{kind: 's', session: s.SessionID}, func(a adapter) error { return a.SessionStarted(ctx, s) })
}

func (vs *versions) SampleTaken(ctx context.Context, s station.Sample) error {
	key := factKey{kind: 'm', session: s.SessionID, connector: s.Connector, at: s.At.UnixNano(), context: s.Context}
	return vs.report(key, func(a adapter) error { return a.SampleTaken(ctx, s) })
}

func (vs *versions) SessionEnded(ctx context.Context, s station.SessionEnd) error {
	return vs.report(factKey{kind: 'e', session: s.SessionID}, func(a adapter) error { return a.SessionEnded(ctx, s) })
}

// factKey tells a fact the station reports again from a new one.
type factKey struct {
	kind      byte
	session   string
	connector int
	at        int64
	context   station.SampleContext
}

// report passes a fact to the versions that write it; the fact is durable
// once each has. Before the first choice a version that wrote the fact
// when another failed is not given it again when the station retries
// (key: the fact; the zero key for one that cannot fail).
func (vs *versions) report(key factKey, f func(adapter) error) error {
	if vs.chosen.Load() {
		return f(vs.current().adapter)
	}
	vs.fanout.RLock()
	defer vs.fanout.RUnlock()
	if vs.chosen.Load() { // chosen while this waited
		return f(vs.current().adapter)
	}
	vs.writtenMu.Lock()
	done := vs.written[key]
	vs.writtenMu.Unlock()
	var errs []error
	for _, v := range vs.list {
		if slices.Contains(done, v) {
			continue
		}
		if err := f(v.adapter); err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, v)
	}
	vs.writtenMu.Lock()
	defer vs.writtenMu.Unlock()
	if len(errs) == 0 || key == (factKey{}) {
		delete(vs.written, key)
	} else {
		if vs.written == nil {
			vs.written = map[factKey][]*version{}
		}
		vs.written[key] = done
	}
	return errors.Join(errs...)
}

// dropQueued empties q: the entries a version wrote before the CSMS chose
// another. They are marked delivered and made durable at once.
func dropQueued(q *ocppclient.Queue) (int, error) {
	entries, err := q.Entries()
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		if err := q.MarkDelivered(e.Seq); err != nil {
			return 0, err
		}
	}
	return len(entries), q.Flush()
}

// Authorize implements station.Authorizer with the active version.
func (vs *versions) Authorize(ctx context.Context, idTag string) (station.AuthResult, error) {
	return vs.current().adapter.Authorize(ctx, idTag)
}

// transport is the transport's side of v: onConnect registers it.
func (v *version) transport(onConnect func(ctx context.Context, v *version, c ocppclient.Caller) error) ocppclient.Adapter {
	return ocppclient.Adapter{
		Handler: v.adapter,
		Hooks:   v.adapter,
		Queue:   v.queue,
		OnConnect: func(ctx context.Context, c ocppclient.Caller) error {
			return onConnect(ctx, v, c)
		},
	}
}

// securityMachinery is what an adapter does for the security, firmware
// and log machinery the agent runs for both versions. *ocpp16.Charger has
// all of it; an adapter without it (a version still being built) is
// skipped, and the machinery's work stays in its own logs.
type securityMachinery interface {
	SecurityEvent(t secevents.Type, techInfo string)
	FirmwareNotice(n firmware.Notice)
	FirmwareInstalled(requestID int)
	LogNotice(n logupload.Notice)
	RenewClientCertificate(ctx context.Context)
}

// machinery returns the security machinery of the active version: a
// firmware update or log upload was asked for by the CSMS of that version,
// and a security event goes to the CSMS in use.
func (a *Agent) machinery() securityMachinery {
	if m, ok := a.versions.current().adapter.(securityMachinery); ok {
		return m
	}
	return noMachinery{}
}

// machineryOf returns the security machinery of the version named
// origin (a firmware request's Origin: the version that accepted it, also
// after a restart resumed it), else of the active version.
func (a *Agent) machineryOf(origin string) securityMachinery {
	if v := a.versions.find(origin); v != nil {
		if m, ok := v.adapter.(securityMachinery); ok {
			return m
		}
		return noMachinery{}
	}
	return a.machinery()
}

// securityEvent reports a security event to the active version's CSMS
// (the security log has it either way).
func (a *Agent) securityEvent(t secevents.Type, techInfo string) {
	a.machinery().SecurityEvent(t, techInfo)
}

// noMachinery stands in for an adapter without the security machinery.
type noMachinery struct{}

func (noMachinery) SecurityEvent(secevents.Type, string)   {}
func (noMachinery) FirmwareNotice(firmware.Notice)         {}
func (noMachinery) FirmwareInstalled(int)                  {}
func (noMachinery) LogNotice(logupload.Notice)             {}
func (noMachinery) RenewClientCertificate(context.Context) {}
