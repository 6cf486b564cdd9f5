package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/evsed/evsed/boards"
	"github.com/evsed/evsed/cmd/evsed/internal/agent"
	"github.com/evsed/evsed/cmd/evsed/internal/config"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/ocppclient/ocpp16"
	"github.com/evsed/evsed/station"
	"go.yaml.in/yaml/v3"
	"periph.io/x/conn/v3/physic"
)

// commissioning gathers what the page's commissioning view shows: the
// board and its connectors as wired (after the config's overrides), the
// effective configuration (the API masks its secrets), the OCPP keys and
// the meters and RCDs its test buttons reach.
func commissioning(cfg *config.Config, b *openedBoard, conns []station.ConnectorConfig, ag *agent.Agent) *localapi.Commissioning {
	c := &localapi.Commissioning{
		Version: version,
		Board:   localapi.BoardInfo{Name: b.Board.Name(), Simulated: b.Sim != nil},
		Config:  configTree(cfg),
		Meters:  map[int]meter.Meter{},
		RCDs:    map[int]hal.RCD{},
		OCPPKeys: func(ctx context.Context) ([]localapi.OCPPKey, error) {
			return ocppKeys(ctx, ag.Charger)
		},
	}
	for _, info := range boards.List() {
		if info.Name == b.Board.Name() {
			c.Board.Description = info.Description
		}
	}
	if text, err := boards.Show(cfg.Board); err == nil {
		c.Board.File = text
	}
	for _, cc := range conns {
		hw := cc.Hardware
		info := localapi.HardwareInfo{
			ID:          hw.ID,
			MaxCurrentA: float64(hw.MaxCurrent) / float64(physic.Ampere),
			Phases:      hw.Phases,
			Lock:        hw.Lock != nil,
			RCD:         hw.RCD != nil,
		}
		if cc.Meter != nil {
			info.Meter = cc.Meter.String()
			c.Meters[hw.ID] = cc.Meter
		}
		if hw.RCD != nil {
			c.RCDs[hw.ID] = hw.RCD
		}
		c.Board.Connectors = append(c.Board.Connectors, info)
	}
	return c
}

// configTree turns the effective configuration into maps and scalars
// under the config file's key names; nil when it cannot.
func configTree(cfg *config.Config) any {
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		return nil
	}
	var tree any
	if err := yaml.Unmarshal(raw, &tree); err != nil {
		return nil
	}
	return tree
}

// ocppKeys reads the OCPP configuration keys as a CSMS would, through the
// adapter's GetConfiguration handler: write-only keys come back without a
// value.
func ocppKeys(ctx context.Context, ch *ocpp16.Charger) ([]localapi.OCPPKey, error) {
	resp, err := ch.HandleCall(ctx, ocpp16.ActionGetConfiguration, json.RawMessage(`{}`))
	if err != nil {
		return nil, fmt.Errorf("read OCPP keys: %w", err)
	}
	conf, ok := resp.(*ocpp16.GetConfigurationResponse)
	if !ok {
		return nil, fmt.Errorf("read OCPP keys: unexpected answer %T", resp)
	}
	out := make([]localapi.OCPPKey, 0, len(conf.ConfigurationKey))
	for _, k := range conf.ConfigurationKey {
		out = append(out, localapi.OCPPKey{Key: k.Key, Value: k.Value, Readonly: k.Readonly})
	}
	return out, nil
}
