package modbus

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"
)

// Assumptions for the serial timing figures.
const (
	timingBaud = 9600
	// bitsPerChar: 8N1 is start + 8 data + stop = 10 bits. (8E1 or 8N2,
	// the Modbus specification's 11-bit frame, is 10 % slower.)
	bitsPerChar = 10
	// meterLatency is the time a meter takes to start answering once it has
	// seen the end of a request; 20 ms is typical of DIN-rail meters
	// (datasheets allow up to 50-100 ms).
	meterLatency = 20 * time.Millisecond
)

// rtuReadTime is the time one Read holds a serial line: per request, the
// request and answer characters, a 3.5-character silence after each frame
// (RTU framing), and the meter's latency.
func rtuReadTime(reqs []request, baud, bits int, latency time.Duration) time.Duration {
	char := float64(bits) / float64(baud) // seconds per character
	var s float64
	for _, q := range reqs {
		chars := rtuRequestBytes + rtuResponseBytes + 2*float64(q.Qty)
		s += chars*char + 2*3.5*char + latency.Seconds()
	}
	return time.Duration(math.Round(s * 1e9))
}

// TestTiming prints, per shipped model, the request frames and bytes of one
// Read and its duration on a 9600 baud 8N1 line, next to the same figures
// when only contiguous registers are merged (MaxGap 0). Run with -v.
func TestTiming(t *testing.T) {
	t.Logf("9600 baud, 8N1 (%d bits/char, %.4f ms/char), 3.5-char gaps, meter latency %v",
		bitsPerChar, 1e3*bitsPerChar/float64(timingBaud), meterLatency)
	t.Logf("%-8s %6s %9s %9s %11s | %17s %11s", "model", "frames", "RTU bytes", "TCP bytes", "9600 8N1",
		"contiguous frames", "9600 8N1")
	for _, name := range Names() {
		m, _ := Lookup(name)
		reqs := plan(m)
		rtu, tcp := wireBytes(reqs)
		contiguous := *m
		contiguous.MaxGap = 0
		creqs := plan(&contiguous)
		t.Logf("%-8s %6d %9d %9d %11v | %17d %11v", name, len(reqs), rtu, tcp,
			rtuReadTime(reqs, timingBaud, bitsPerChar, meterLatency).Round(10*time.Microsecond),
			len(creqs), rtuReadTime(creqs, timingBaud, bitsPerChar, meterLatency).Round(10*time.Microsecond))
	}
	// Hand-computed checks: the SDM630 reads 76 registers in one request,
	// 8 + 5 + 152 = 165 characters; ABB two requests of 8 and 59 registers.
	char := 10.0 / 9600 // s
	for _, tc := range []struct {
		m         *Model
		frames    int
		rtu, tcp  int
		wantRound time.Duration
	}{
		{sdm630, 1, 165, 173, time.Duration((165*char + 7*char + 0.020) * 1e9)},
		{abbB23, 2, 29 + 131, 37 + 139, time.Duration((160*char + 14*char + 0.040) * 1e9)},
		{em340, 1, 173, 181, time.Duration((173*char + 7*char + 0.020) * 1e9)},
	} {
		reqs := plan(tc.m)
		rtu, tcp := wireBytes(reqs)
		got := rtuReadTime(reqs, 9600, 10, 20*time.Millisecond)
		if len(reqs) != tc.frames || rtu != tc.rtu || tcp != tc.tcp || (got-tc.wantRound).Abs() > time.Microsecond {
			t.Errorf("%s: %d frames, %d/%d bytes, %v; want %d, %d/%d, %v",
				tc.m.Name, len(reqs), rtu, tcp, got, tc.frames, tc.rtu, tc.tcp, tc.wantRound)
		}
	}
}

// BenchmarkReadTCP measures a full Read of each model over loopback Modbus
// TCP and reports the median per Read besides the mean ns/op.
func BenchmarkReadTCP(b *testing.B) {
	s := newSim()
	url := serveTCP(b, s)
	bus, err := NewBus(url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer bus.Close()
	for i, name := range Names() {
		m, _ := Lookup(name)
		s.load(b, uint8(i+1), m, truth(m))
		mt, err := NewMeter(bus, m, i+1, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				if _, err := mt.Read(ctx); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "median-ns/read")
			b.ReportMetric(float64(len(plan(m))), "frames/read")
		})
	}
}
