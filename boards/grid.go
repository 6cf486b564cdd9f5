package boards

import (
	"bytes"
	"fmt"
	"time"

	halsim "github.com/evsed/evsed/hal/sim"
	"go.yaml.in/yaml/v3"
	"periph.io/x/conn/v3/physic"
)

// The grid meter: the meter at the site's grid connection, which the
// station's dynamic load management and solar modes read (see
// station.GridOptions). It is declared in the configuration, not in the
// board file (it belongs to the site, not to the charger), with the keys of
// a connector's meter block, and Open builds it with the board's meters:
// a grid meter on the same RS-485 line as the connectors' meters shares
// their modbus.Bus, and is checked against them (its unit, the line's URL
// and timing) as the connectors' meters are against each other.
//
// On the simulated board, driver sim builds the simulated house of hal/sim
// (a base load, a PV roof with clouds) behind a grid meter that sees the
// simulated connectors' currents too:
//
//	driver: sim
//	house:
//	  base: 2A             # the house's load per phase (default 2A)
//	  load_noise: 0.5A     # +- second to second (default none)
//	  pv_peak: 8kW         # the roof at noon under a clear sky (default none)
//	  pv_phases: 3         # the inverter feeds 3 phases, or 1 (L1) (default 3)
//	  clouds: 0.3          # share of the time under a cloud, 0-1 (default 0)
//	  cloud_length: 2m     # how long a cloud lasts (default 2m)
//	  noise: 0.05          # PV output +- second to second, as a share (default 0)
//	  seed: 1              # the same seed, the same weather

// gridKey names the grid meter block in messages.
const gridKey = "grid_meter"

// fileHouse is the simulated house of a sim grid meter.
type fileHouse struct {
	Base        *amps     `yaml:"base"`
	LoadNoise   *amps     `yaml:"load_noise"`
	PVPeak      *watts    `yaml:"pv_peak"`
	PVPhases    int       `yaml:"pv_phases"`
	Clouds      float64   `yaml:"clouds"`
	CloudLength *duration `yaml:"cloud_length"`
	Noise       float64   `yaml:"noise"`
	Seed        uint64    `yaml:"seed"`
}

// parseGridMeter decodes the grid meter block's YAML text strictly.
func parseGridMeter(text []byte) (*fileMeter, error) {
	var fm fileMeter
	dec := yaml.NewDecoder(bytes.NewReader(text))
	dec.KnownFields(true)
	if err := dec.Decode(&fm); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, gridKey, err)
	}
	return &fm, nil
}

// houseOptions turns a validated house block into hal/sim options.
func houseOptions(p *problems, fh *fileHouse) halsim.HouseOptions {
	var o halsim.HouseOptions
	if fh == nil {
		return o
	}
	k := gridKey + ".house"
	if fh.Base != nil {
		a := fh.Base.V
		if a < 0 || a > 1000*physic.Ampere {
			p.add(k+".base", "%v, want 0-1000A", a)
		}
		o.Base = []halsim.LoadStep{{Current: [3]physic.ElectricCurrent{a, a, a}}}
	}
	if fh.LoadNoise != nil {
		if fh.LoadNoise.V < 0 {
			p.add(k+".load_noise", "%v, want >= 0", fh.LoadNoise.V)
		}
		o.LoadNoise = fh.LoadNoise.V
	}
	if fh.PVPeak != nil {
		if fh.PVPeak.V < 0 {
			p.add(k+".pv_peak", "%v, want >= 0", fh.PVPeak.V)
		}
		o.PV.Peak = fh.PVPeak.V
	}
	if fh.PVPhases != 0 && fh.PVPhases != 1 && fh.PVPhases != 3 {
		p.add(k+".pv_phases", "%d, want 1 or 3", fh.PVPhases)
	}
	o.PV.Phases = fh.PVPhases
	if fh.Clouds < 0 || fh.Clouds > 1 {
		p.add(k+".clouds", "%g, want 0-1", fh.Clouds)
	}
	o.PV.Clouds = fh.Clouds
	if fh.CloudLength != nil {
		if fh.CloudLength.D < time.Second {
			p.add(k+".cloud_length", "%v, want at least 1s", fh.CloudLength.D)
		}
		o.PV.CloudLength = fh.CloudLength.D
	}
	if fh.Noise < 0 || fh.Noise >= 1 {
		p.add(k+".noise", "%g, want 0 up to 1", fh.Noise)
	}
	o.PV.Noise = fh.Noise
	o.Seed = fh.Seed
	return o
}
