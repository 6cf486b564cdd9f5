package ocpp201

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evsed/evsed/ocppclient/ocpp201/devicemodel"
	"github.com/evsed/evsed/station"
)

// The device model variables the adapter reads, under short local names
// (the predeclared Refs of package devicemodel).
var (
	refHeartbeatInterval        = devicemodel.HeartbeatInterval
	refMessageAttempts          = devicemodel.MessageAttemptsTxEvent
	refMessageAttemptInterval   = devicemodel.MessageAttemptIntervalTxEvent
	refNetworkPriority          = devicemodel.NetworkConfigurationPriority
	refTxStartPoint             = devicemodel.TxStartPoint
	refTxStopPoint              = devicemodel.TxStopPoint
	refEVConnectionTimeOut      = devicemodel.EVConnectionTimeOut
	refStopTxOnEVSideDisconnect = devicemodel.StopTxOnEVSideDisconnect
	refStopTxOnInvalidID        = devicemodel.StopTxOnInvalidID
	refTxStartedMeasurands      = devicemodel.SampledDataTxStartedMeasurands
	refTxUpdatedMeasurands      = devicemodel.SampledDataTxUpdatedMeasurands
	refTxUpdatedInterval        = devicemodel.SampledDataTxUpdatedInterval
	refTxEndedMeasurands        = devicemodel.SampledDataTxEndedMeasurands
	refAlignedMeasurands        = devicemodel.AlignedDataMeasurands
	refAlignedInterval          = devicemodel.AlignedDataInterval
	refAlignedTxEndedMeasurands = devicemodel.AlignedDataTxEndedMeasurands
	refAuthorizeRemoteStart     = devicemodel.AuthorizeRemoteStart
	refLocalAuthorizeOffline    = devicemodel.LocalAuthorizeOffline
	refLocalPreAuthorize        = devicemodel.LocalPreAuthorize
	refOfflineTxForUnknownID    = devicemodel.OfflineTxForUnknownIDEnabled
	refLocalListEnabled         = devicemodel.LocalAuthListEnabled
	refItemsPerMessageGetReport = devicemodel.ItemsPerMessageGetReport
	refItemsPerMessageGetVars   = devicemodel.ItemsPerMessageGetVariables
	refItemsPerMessageSetVars   = devicemodel.ItemsPerMessageSetVariables
	refBytesPerMessageGetReport = devicemodel.BytesPerMessageGetReport
	refBytesPerMessageGetVars   = devicemodel.BytesPerMessageGetVariables
	refBytesPerMessageSetVars   = devicemodel.BytesPerMessageSetVariables
	refSecurityProfile          = devicemodel.SecurityProfile
)

// Typed reads of the device model. A variable the model does not hold
// reads as its zero value: every rule of the adapter has a safe zero.

func (c *Charger) intVar(r devicemodel.Ref) int            { return c.vars.Int(r) }
func (c *Charger) boolVar(r devicemodel.Ref) bool          { return c.vars.Bool(r) }
func (c *Charger) seconds(r devicemodel.Ref) time.Duration { return c.vars.Seconds(r) }
func (c *Charger) listVar(r devicemodel.Ref) []string {
	var out []string
	for _, v := range c.vars.List(r) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// sameVar reports whether a and b name the same variable; component and
// variable names are compared without regard to case, as the
// specification says for them.
func sameVar(a, b devicemodel.Ref) bool {
	return strings.EqualFold(a.Component, b.Component) && strings.EqualFold(a.ComponentInstance, b.ComponentInstance) &&
		a.EVSE == b.EVSE && a.Connector == b.Connector &&
		strings.EqualFold(a.Variable, b.Variable) && strings.EqualFold(a.VariableInstance, b.VariableInstance)
}

// txPoints are the values TxStartPoint and TxStopPoint take.
var txPoints = []string{"ParkingBayOccupancy", "EVConnected", "Authorized", "DataSigned", "PowerPathClosed", "EnergyTransfer"}

// validateVariable is the model's validator: the rules of values the
// adapter interprets, on top of the model's own type checks.
func (c *Charger) validateVariable(r devicemodel.Ref, value string) error {
	switch {
	case sameVar(r, refTxStartPoint), sameVar(r, refTxStopPoint):
		if strings.TrimSpace(value) == "" {
			return fmt.Errorf("at least one point is needed")
		}
		for v := range strings.SplitSeq(value, ",") {
			ok := false
			for _, p := range txPoints {
				ok = ok || strings.TrimSpace(v) == p
			}
			if !ok {
				return fmt.Errorf("%q is not a transaction point", v)
			}
		}
	case sameVar(r, refTxUpdatedMeasurands), sameVar(r, refTxStartedMeasurands), sameVar(r, refTxEndedMeasurands),
		sameVar(r, refAlignedMeasurands), sameVar(r, refAlignedTxEndedMeasurands):
		for v := range strings.SplitSeq(value, ",") {
			if v = strings.TrimSpace(v); v != "" && !Measurand(v).IsValid() {
				return fmt.Errorf("%q is not a measurand", v)
			}
		}
	case sameVar(r, refNetworkPriority):
		for v := range strings.SplitSeq(value, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not a configuration slot", v)
			}
			if ok, err := c.store.hasNetworkProfile(n); (err != nil || !ok) && !slices.Contains(c.listVar(refNetworkPriority), strconv.Itoa(n)) {
				return fmt.Errorf("configuration slot %d holds no network profile", n)
			}
		}
	case sameVar(r, refHeartbeatInterval), sameVar(r, refTxUpdatedInterval), sameVar(r, refAlignedInterval),
		sameVar(r, refMessageAttemptInterval), sameVar(r, refMessageAttempts), sameVar(r, refEVConnectionTimeOut):
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a non-negative integer", value)
		}
	}
	return nil
}

// variableChanged is the model's OnChange hook: it applies a change live
// and tells the binary.
func (c *Charger) variableChanged(r devicemodel.Ref, value string) {
	switch {
	case sameVar(r, refHeartbeatInterval):
		c.scheduleHeartbeat()
	case sameVar(r, refMessageAttempts), sameVar(r, refMessageAttemptInterval):
		c.applyRetryPolicy()
	case sameVar(r, refTxUpdatedInterval), sameVar(r, refAlignedInterval), sameVar(r, refEVConnectionTimeOut),
		sameVar(r, refStopTxOnEVSideDisconnect), sameVar(r, refStopTxOnInvalidID):
		c.applyStationConfig()
	case pricingVariable(r):
		ctx := c.runContext()
		c.background.Go(func() { c.applyPrices(ctx) })
	}
	if c.opts.OnVariableChange != nil {
		c.opts.OnVariableChange(r, value)
	}
}

// applyStationConfig pushes the station-behaviour variables to the
// station.
func (c *Charger) applyStationConfig() {
	st, err := c.station()
	if err != nil {
		return
	}
	ctx := context.Background()
	cur, err := st.Config(ctx)
	if err != nil {
		c.log.Warn("ocpp201 read station config", "err", err)
		return
	}
	if err := st.SetConfig(ctx, c.StationConfig(cur)); err != nil {
		c.log.Warn("ocpp201 apply station config", "err", err)
	}
}

// StationConfig returns base with the fields the 2.0.1 device model
// governs replaced by the variables' values: TxUpdatedInterval (periodic
// samples), AlignedDataCtrlr.Interval (clock-aligned samples),
// EVConnectionTimeOut, StopTxOnEVSideDisconnect (which also unlocks the
// cable) and StopTxOnInvalidId. The binary builds the station's initial
// Config with it.
func (c *Charger) StationConfig(base station.Config) station.Config {
	base.MeterSampleInterval = c.seconds(refTxUpdatedInterval)
	base.ClockAlignedInterval = c.seconds(refAlignedInterval)
	if d := c.seconds(refEVConnectionTimeOut); d > 0 {
		base.ConnectionTimeout = d
	}
	base.StopTransactionOnEVSideDisconnect = c.boolVar(refStopTxOnEVSideDisconnect)
	base.UnlockConnectorOnEVSideDisconnect = c.boolVar(refStopTxOnEVSideDisconnect)
	base.StopTransactionOnInvalidID = c.boolVar(refStopTxOnInvalidID)
	return base
}

// liveVariables makes the ReadOnly values the adapter keeps in memory the
// source of their Actual value, so that keeping them costs no commit:
// SmartChargingCtrlr.Entries, AuthCacheCtrlr.Storage and
// SecurityCtrlr.CertificateEntries. A model without one of them is fine.
func (c *Charger) liveVariables() {
	for _, v := range []struct {
		ref devicemodel.Ref
		fn  func() string
	}{
		{refSmartEntries, c.smartEntries},
		{refAuthCacheStorage, c.cache.bytes},
		{refCertificateEntries, c.certificateEntries},
	} {
		if err := c.vars.Live(v.ref, v.fn); err != nil {
			c.log.Debug("ocpp201 live variable", "variable", v.ref.String(), "err", err)
		}
	}
}
