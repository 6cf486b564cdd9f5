package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/certstore"
	"github.com/evsed/evsed/ocppclient/logupload"
	"github.com/evsed/evsed/ocppclient/ocpp16"
	"github.com/evsed/evsed/ocppclient/ocpp201"
	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/ocppclient/secevents"
	"github.com/evsed/evsed/station"
)

// shared is the version-neutral machinery both adapters use.
type shared struct {
	fw             ocpp16.FirmwareUpdater
	logs           ocpp16.LogUploader
	diagnostics    []logupload.Source
	securitySource logupload.Source
}

// newVersions builds the versions CSMS.Protocols offers, in that order:
// 1.6 on the Charger built already, 2.0.1 on a device model, a queue and
// an adapter of its own, both on the machinery in m.
func (a *Agent) newVersions(o Options, m shared) (*versions, error) {
	protocols := o.CSMS.Protocols
	if len(protocols) == 0 {
		protocols = []string{OCPP16}
	}
	var list []*version
	for _, name := range protocols {
		switch name {
		case OCPP16:
			list = append(list, &version{name: name, adapter: a.Charger, queue: a.queue})
		case OCPP201:
			v, err := a.newOCPP201(o, m)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		default:
			return nil, fmt.Errorf("OCPP subprotocol %q is not supported (want %s or %s)", name, OCPP16, OCPP201)
		}
	}
	return newVersions(o.DB, o.BucketPrefix+"agent", list)
}

// newOCPP201 opens the 2.0.1 device model, queue and adapter. The device
// model's initial values come from Options.Variables and the CSMS
// options; the transport's security settings stay in the 1.6 keys (see
// variableChanged), which both versions share.
func (a *Agent) newOCPP201(o Options, m shared) (*version, error) {
	p := o.BucketPrefix
	initial := map[devicemodel.Ref]string{}
	// The 1.6 keys of the configuration file say how the station behaves
	// whichever version the CSMS speaks (offline authorization, sampling,
	// timeouts): their 2.0.1 variables start from them, unless the ocpp201
	// block sets those itself.
	mapped := map[devicemodel.Ref]string{}
	for key, value := range o.OCPPKeys {
		if name, ok := variableOfKey[key]; ok {
			ref, err := devicemodel.ParseRef(name)
			if err != nil {
				return nil, fmt.Errorf("ocpp201 variable of %s: %w", key, err)
			}
			initial[ref], mapped[ref] = value, value
		}
	}
	for k, v := range o.Variables {
		ref, err := devicemodel.ParseRef(k)
		if err != nil {
			return nil, fmt.Errorf("ocpp201 variable: %w", err)
		}
		initial[ref] = v
		delete(mapped, ref)
	}
	if pw, ok := a.keys.Value(ocpp16.KeyAuthorizationKey); ok && pw != "" {
		initial[devicemodel.BasicAuthPassword] = pw
	}
	initial[devicemodel.SecurityProfile] = strconv.Itoa(a.keys.Int(ocpp16.KeySecurityProfile))
	shape := devicemodel.Shape{
		EVSEs:      len(o.Connectors),
		VendorName: o.Identity.ChargePointVendor,
		Model:      o.Identity.ChargePointModel,
		Identity:   o.ID,
		Voltage:    o.Voltage,
		Currency:   o.Currency,
		// Slots for SetNetworkProfile: the CSMS's migration target and
		// a spare, beside csms.url of the configuration.
		NetworkProfileSlots: 3,
	}
	vars, err := openVariables(o.DB, p+"ocpp201-variables", devicemodel.Standard(shape), initial, mapped, a.log)
	if err != nil {
		return nil, err
	}
	a.vars201 = vars
	queue, err := ocppclient.OpenQueue(o.DB, ocppclient.QueueOptions{
		Bucket:        p + "queue201",
		MaxAttempts:   vars.Int(devicemodel.MessageAttemptsTxEvent),
		RetryInterval: vars.Seconds(devicemodel.MessageAttemptIntervalTxEvent),
		Clock:         a.clk,
		NoLog:         o.NoQueueLog,
		LogSize:       a.logSize(OCPP201),
	})
	if err != nil {
		return nil, err
	}
	a.Charger201, err = ocpp201.New(ocpp201.Options{
		Identity: ocpp201.Identity{
			Model:           o.Identity.ChargePointModel,
			VendorName:      o.Identity.ChargePointVendor,
			SerialNumber:    o.Identity.ChargePointSerialNumber,
			FirmwareVersion: o.Identity.FirmwareVersion,
			ICCID:           o.Identity.Iccid,
			IMSI:            o.Identity.Imsi,
		},
		NumEVSEs:         len(o.Connectors),
		DB:               o.DB,
		Bucket:           p + "ocpp201",
		Variables:        vars,
		Queue:            queue,
		Clock:            a.clk,
		Logger:           a.log,
		OnVariableChange: a.variableChanged,
		OnReset: func() {
			if o.OnReset != nil {
				o.OnReset(true) // 2.0.1 knows no soft reset
			}
		},
		Location:          o.Location,
		Voltage:           o.Voltage,
		SiteLimit:         o.SiteLimit,
		Security:          o.Security,
		Certificates:      certificateStore201(o.Certificates),
		SecurityLog:       securityLog201(o.SecurityLog),
		Firmware:          m.fw,
		Logs:              m.logs,
		DiagnosticsLogs:   m.diagnostics,
		SecurityLogSource: m.securitySource,
		OnClientCertificate: func() {
			a.certificateChanged()
		},
	})
	if err != nil {
		return nil, err
	}
	return &version{name: OCPP201, adapter: a.Charger201, queue: queue}, nil
}

// variableChanged takes a 2.0.1 variable the binary owns into the key
// both versions' connections read: the Basic auth password and the
// websocket ping interval. (SecurityProfile changes in 2.0.1 through
// SetNetworkProfile, which this agent does not act on yet.) The 1.6 key
// store's own rules apply, and its change hook reconnects as for a 1.6
// ChangeConfiguration.
func (a *Agent) variableChanged(ref devicemodel.Ref, value string) {
	var key string
	switch ref {
	case devicemodel.NetworkConfigurationPriority:
		a.networkPriorityChanged()
		return
	case devicemodel.BasicAuthPassword:
		key = ocpp16.KeyAuthorizationKey
	case devicemodel.WebSocketPingInterval:
		key = ocpp16.KeyWebSocketPingInterval
	default:
		return
	}
	if st := a.keys.Set(key, value); st != ocpp16.ConfigurationStatusAccepted {
		a.log.Warn("agent: a 2.0.1 variable the connection uses was not taken", "variable", ref.String(), "status", st)
	}
}

// activate makes v, the version the CSMS chose, the one the station
// reports to; when that changes, the station's behaviour follows the new
// version's settings.
func (a *Agent) activate(ctx context.Context, v *version) {
	changed, first, dropped, err := a.versions.activate(v)
	if err != nil {
		a.log.Error("agent: remember the OCPP version", "version", v.name, "err", err)
	}
	if dropped > 0 {
		a.log.Info("ocpp: the first CSMS speaks "+v.name+"; the other versions' copies of the offline messages dropped", "dropped", dropped)
	}
	if !changed {
		return
	}
	var waiting []string
	for _, other := range a.versions.list {
		if other != v && other.queue.Len() > 0 {
			waiting = append(waiting, other.name+": "+strconv.Itoa(other.queue.Len()))
		}
	}
	a.log.Info("ocpp: the CSMS speaks "+v.name+"; the station reports in it from now on", "kept_queued", waiting)
	if !first {
		// A later change of version: the adapter heard no status while
		// another version was active. The statuses of now, before it
		// registers and sends them.
		if snap, err := a.Station.Status(ctx); err == nil {
			for _, c := range snap.Connectors {
				v.adapter.StatusChanged(station.StatusChange{Connector: c.ID, Status: c.Status, Error: c.Error, At: a.clk.Now()})
			}
		}
	}
	if err := a.Station.SetConfig(ctx, v.adapter.StationConfig(a.behaviour)); err != nil {
		a.log.Error("agent: station settings of "+v.name, "err", err)
	}
}

// certificateStore201 and securityLog201 turn a nil pointer into a nil
// interface, which the adapter takes for "none".
func certificateStore201(s *certstore.Store) ocpp201.CertificateStore {
	if s == nil {
		return nil
	}
	return s
}

func securityLog201(l *secevents.Log) ocpp201.SecurityLog {
	if l == nil {
		return nil
	}
	return l
}

// networkProfile returns the 2.0.1 network profile to connect with: the
// first slot of NetworkConfigurationPriority that holds a profile
// (SetNetworkProfile) and has not failed since the start, while the
// charger speaks 2.0.1. None means csms.url of the configuration.
func (a *Agent) networkProfile() (int, ocpp201.NetworkConnectionProfile, bool) {
	if a.Charger201 == nil || a.versions.current().name != OCPP201 {
		return 0, ocpp201.NetworkConnectionProfile{}, false
	}
	for _, v := range a.vars201.List(devicemodel.NetworkConfigurationPriority) {
		slot, err := strconv.Atoi(v)
		if err != nil {
			continue
		}
		a.mu.Lock()
		bad := a.badSlots[slot]
		a.mu.Unlock()
		if bad {
			continue
		}
		p, found, err := a.Charger201.NetworkProfile(slot)
		if err != nil {
			a.log.Error("agent: read network profile", "slot", slot, "err", err)
			continue
		}
		if found && p.OCPPCSMSURL != "" {
			return slot, p, true
		}
	}
	return 0, ocpp201.NetworkConnectionProfile{}, false
}

// networkPriorityChanged reconnects with the profile the new
// NetworkConfigurationPriority puts first, on trial: a slot that fails
// fallbackAttempts connections in a row is skipped from then on, and the
// next one (at last csms.url) is tried, as B10 of OCPP 2.0.1 asks.
func (a *Agent) networkPriorityChanged() {
	a.mu.Lock()
	a.redial = true
	if a.trial == nil {
		a.trial = a.slotTrial()
	}
	a.mu.Unlock()
	a.replace()
}

// slotTrial is the trial of the network profile slot the next Client
// uses; its undo marks that slot failed and puts the next one on trial.
// Called under mu.
func (a *Agent) slotTrial() *settingsTrial {
	return &settingsTrial{what: "the CSMS's network profile", undo: func() error {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.netSlot == 0 {
			return nil // csms.url: nothing further to fall back to
		}
		if a.badSlots == nil {
			a.badSlots = map[int]bool{}
		}
		a.badSlots[a.netSlot] = true
		a.trial = a.slotTrial() // the next slot, or csms.url, on trial in its turn
		return nil
	}}
}

// variableOfKey names the 2.0.1 variable a 1.6 configuration key of the
// same meaning sets initially (see newOCPP201).
var variableOfKey = map[string]string{
	ocpp16.KeyHeartbeatInterval:                 "OCPPCommCtrlr/HeartbeatInterval",
	ocpp16.KeyWebSocketPingInterval:             "OCPPCommCtrlr/WebSocketPingInterval",
	ocpp16.KeyTransactionMessageAttempts:        "OCPPCommCtrlr/MessageAttempts[TransactionEvent]",
	ocpp16.KeyTransactionMessageRetryInterval:   "OCPPCommCtrlr/MessageAttemptInterval[TransactionEvent]",
	ocpp16.KeyUnlockConnectorOnEVSideDisconnect: "OCPPCommCtrlr/UnlockOnEVSideDisconnect",
	ocpp16.KeyLocalAuthorizeOffline:             "AuthCtrlr/LocalAuthorizeOffline",
	ocpp16.KeyLocalPreAuthorize:                 "AuthCtrlr/LocalPreAuthorize",
	ocpp16.KeyAllowOfflineTxForUnknownID:        "AuthCtrlr/OfflineTxForUnknownIdEnabled",
	ocpp16.KeyAuthorizeRemoteTxRequests:         "AuthCtrlr/AuthorizeRemoteStart",
	ocpp16.KeyAuthorizationCacheEnabled:         "AuthCacheCtrlr/Enabled",
	ocpp16.KeyLocalAuthListEnabled:              "LocalAuthListCtrlr/Enabled",
	ocpp16.KeyConnectionTimeOut:                 "TxCtrlr/EVConnectionTimeOut",
	ocpp16.KeyStopTransactionOnEVSideDisconnect: "TxCtrlr/StopTxOnEVSideDisconnect",
	ocpp16.KeyStopTransactionOnInvalidID:        "TxCtrlr/StopTxOnInvalidId",
	ocpp16.KeyMeterValueSampleInterval:          "SampledDataCtrlr/TxUpdatedInterval",
	ocpp16.KeyMeterValuesSampledData:            "SampledDataCtrlr/TxUpdatedMeasurands",
	ocpp16.KeyStopTxnSampledData:                "SampledDataCtrlr/TxEndedMeasurands",
	ocpp16.KeyClockAlignedDataInterval:          "AlignedDataCtrlr/Interval",
	ocpp16.KeyMeterValuesAlignedData:            "AlignedDataCtrlr/Measurands",
	ocpp16.KeyStopTxnAlignedData:                "AlignedDataCtrlr/TxEndedMeasurands",
}

// openVariables opens the device model with initial values; a value taken
// from a 1.6 key (mapped) that the 2.0.1 variable does not accept is left
// out with a warning rather than keeping the agent from starting.
func openVariables(db *bbolt.DB, bucket string, defs []devicemodel.Definition, initial, mapped map[devicemodel.Ref]string, log *slog.Logger) (*devicemodel.Model, error) {
	for {
		m, err := devicemodel.Open(db, bucket, defs, initial)
		if err == nil || !errors.Is(err, devicemodel.ErrBadValue) {
			return m, err
		}
		dropped := false
		for ref := range mapped {
			if strings.HasPrefix(err.Error(), ref.String()+":") {
				log.Warn("agent: a 1.6 key's value does not suit its 2.0.1 variable; the variable keeps its default", "variable", ref.String(), "err", err)
				delete(initial, ref)
				delete(mapped, ref)
				dropped = true
			}
		}
		if !dropped {
			return nil, err
		}
	}
}

// spareLogSize is the log of a queue whose version is not expected to
// speak: the copies written before the first registration, or the
// messages of a CSMS that changed version, until the next start. The
// primary version's queue gets the default (256 KiB), allocated up front:
// two of those would take half of a small data partition for one copy
// that is dropped at the first registration.
const spareLogSize = 16 << 10

// logSize returns the queue log size for version name.
func (a *Agent) logSize(name string) int {
	if name == a.primary {
		return 0 // the queue's default
	}
	return spareLogSize
}

// primaryVersion is the version expected to speak: the one a CSMS chose
// last (persisted in bucket by versions.activate), else the first of
// protocols (1.6 when none).
func primaryVersion(db *bbolt.DB, bucket string, protocols []string) (string, error) {
	if len(protocols) == 0 {
		protocols = []string{OCPP16}
	}
	primary := protocols[0]
	err := db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket([]byte(bucket)); b != nil {
			if v := string(b.Get(versionKey)); slices.Contains(protocols, v) {
				primary = v
			}
		}
		return nil
	})
	return primary, err
}
