package modbus

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/evsed/evsed/meter"
	"periph.io/x/conn/v3/physic"
)

// ReadOnce opens busURL (see NewBus), reads the shipped model at unit once
// and closes the bus: for commissioning, where a person checks wiring, unit
// id and model. A meter that does not answer fails at once with an error
// wrapping meter.ErrNoResponse. opts may be nil.
func ReadOnce(ctx context.Context, busURL, model string, unit int, opts *Options) (meter.Reading, error) {
	m, err := Lookup(model)
	if err != nil {
		return meter.Reading{}, err
	}
	b, err := NewBus(busURL, opts)
	if err != nil {
		return meter.Reading{}, err
	}
	defer b.Close()
	mt, err := NewMeter(b, m, unit, &MeterOptions{FailAfter: 1})
	if err != nil {
		return meter.Reading{}, err
	}
	return mt.Read(ctx)
}

// Format prints r for a person, one value per line, only the fields r
// carries, exactly: energy in kWh to the mWh ("12345.678 kWh"), power in W,
// voltage in V, current in A, frequency in Hz.
func Format(r meter.Reading) string {
	var sb strings.Builder
	line := func(name, format string, args ...any) {
		fmt.Fprintf(&sb, "%-14s %s\n", name, fmt.Sprintf(format, args...))
	}
	if !r.Time.IsZero() {
		line("time", "%s", r.Time.Format("2006-01-02 15:04:05.000 MST"))
	}
	phases := r.Phases
	if phases < 1 || phases > 3 {
		phases = 3
	}
	if r.Fields.Has(meter.FieldEnergyImport) {
		line("energy import", "%s kWh", decimal(int64(r.EnergyImport), int64(meter.KiloWattHour), 3))
	}
	if r.Fields.Has(meter.FieldEnergyExport) {
		line("energy export", "%s kWh", decimal(int64(r.EnergyExport), int64(meter.KiloWattHour), 3))
	}
	if r.Fields.Has(meter.FieldPower) {
		line("power", "%s W", decimal(int64(r.Power), int64(physic.Watt), 1))
	}
	perPhase := func(name string, f meter.Field, unit string, per int64, v func(i int) int64) {
		if !r.Fields.Has(f) {
			return
		}
		parts := make([]string, phases)
		for i := range parts {
			parts[i] = fmt.Sprintf("L%d %s %s", i+1, decimal(v(i), per, 1), unit)
		}
		line(name, "%s", strings.Join(parts, "  "))
	}
	perPhase("power/phase", meter.FieldPowerPhases, "W", int64(physic.Watt), func(i int) int64 { return int64(r.PowerPhase[i]) })
	perPhase("voltage", meter.FieldVoltage, "V", int64(physic.Volt), func(i int) int64 { return int64(r.Voltage[i]) })
	perPhase("current", meter.FieldCurrent, "A", int64(physic.Ampere), func(i int) int64 { return int64(r.Current[i]) })
	if r.Fields.Has(meter.FieldFrequency) {
		line("frequency", "%s Hz", decimal(int64(r.Frequency), int64(physic.Hertz), 1))
	}
	if r.Fields.Has(meter.FieldPowerFactor) {
		line("power factor", "%.3f", float64(r.PowerFactor))
	}
	return sb.String()
}

// decimal formats v/per exactly (per a power of ten), with at least minDec
// decimals and trailing zeros beyond them trimmed: decimal(12345678000,
// 1e6, 3) is "12345.678".
func decimal(v, per int64, minDec int) string {
	sign := ""
	if v < 0 {
		sign = "-"
	}
	whole, frac := v/per, v%per
	if whole < 0 {
		whole = -whole
	}
	if frac < 0 {
		frac = -frac
	}
	digits := len(strconv.FormatInt(per, 10)) - 1
	s := strings.TrimRight(fmt.Sprintf("%0*d", digits, frac), "0")
	for len(s) < minDec {
		s += "0"
	}
	if s == "" {
		return fmt.Sprintf("%s%d", sign, whole)
	}
	return fmt.Sprintf("%s%d.%s", sign, whole, s)
}
