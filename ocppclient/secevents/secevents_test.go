package secevents_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/ocppclient/secevents"
)

func TestCatalogue(t *testing.T) {
	critical := map[secevents.Type]bool{
		secevents.FirmwareUpdated: true, secevents.SettingSystemTime: true,
		secevents.StartupOfTheDevice: true, secevents.ResetOrReboot: true,
		secevents.SecurityLogWasCleared: true, secevents.MemoryExhaustion: true,
		secevents.TamperDetectionActivated: true,
	}
	names16 := map[secevents.Type]string{
		secevents.FailedToAuthenticateAtCsms:        "FailedToAuthenticateAtCentralSystem",
		secevents.CsmsFailedToAuthenticate:          "CentralSystemFailedToAuthenticate",
		secevents.InvalidCsmsCertificate:            "InvalidCentralSystemCertificate",
		secevents.InvalidChargingStationCertificate: "InvalidChargePointCertificate",
	}
	types := secevents.Types()
	if len(types) != 18 {
		t.Fatalf("%d types, want the 18 of the whitepaper", len(types))
	}
	for _, ty := range types {
		if !ty.Known() {
			t.Errorf("%s not known", ty)
		}
		if ty.Critical() != critical[ty] {
			t.Errorf("%s: Critical = %v", ty, ty.Critical())
		}
		want16 := string(ty)
		if n, ok := names16[ty]; ok {
			want16 = n
		}
		if ty.OCPP16() != want16 || ty.OCPP201() != string(ty) {
			t.Errorf("%s: names %q / %q", ty, ty.OCPP16(), ty.OCPP201())
		}
		if len(ty.OCPP16()) > 50 {
			t.Errorf("%s: longer than the 50 characters of the schema", ty)
		}
		for _, n := range []string{ty.OCPP16(), ty.OCPP201()} {
			if got, ok := secevents.ParseType(n); !ok || got != ty {
				t.Errorf("ParseType(%q) = %v, %v", n, got, ok)
			}
		}
	}
	if ty, ok := secevents.ParseType("VendorThing"); ok || ty.Critical() || ty.OCPP16() != "VendorThing" {
		t.Errorf("vendor type: %v %v", ty, ok)
	}
}

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func TestLogRotation(t *testing.T) {
	dir := t.TempDir()
	l, err := secevents.OpenLog(secevents.LogOptions{Dir: dir, MaxBytes: 1024, Files: 3})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		e := secevents.Event{Type: secevents.InvalidMessages, Time: t0.Add(time.Duration(i) * time.Minute), TechInfo: fmt.Sprintf("event %03d", i)}
		if _, err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "security.log*"))
	if len(files) != 3 {
		t.Fatalf("files %v, want 3", files)
	}
	var total int64
	for _, f := range files {
		fi, _ := os.Stat(f)
		if fi.Size() > 1024 {
			t.Errorf("%s: %d bytes, above MaxBytes", f, fi.Size())
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", f, fi.Mode().Perm())
		}
		total += fi.Size()
	}
	all, err := l.Read(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 || len(all) == n {
		t.Fatalf("%d events kept of %d: rotation dropped none or all", len(all), n)
	}
	last := all[len(all)-1]
	if last.TechInfo != fmt.Sprintf("event %03d", n-1) {
		t.Fatalf("newest event %q", last.TechInfo)
	}
	for i := 1; i < len(all); i++ {
		if !all[i].Time.After(all[i-1].Time) {
			t.Fatalf("events out of order at %d", i)
		}
	}
	first := n - len(all) // the kept events are the newest ones, contiguous
	if all[0].TechInfo != fmt.Sprintf("event %03d", first) {
		t.Fatalf("oldest kept %q, want event %03d", all[0].TechInfo, first)
	}

	// A window across the files.
	from, to := t0.Add(time.Duration(first+5)*time.Minute), t0.Add(time.Duration(n-5)*time.Minute)
	win, err := l.Read(from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(win) != n-5-(first+5)+1 || !win[0].Time.Equal(from) || !win[len(win)-1].Time.Equal(to) {
		t.Fatalf("window: %d events from %v to %v", len(win), win[0].Time, win[len(win)-1].Time)
	}
	var buf bytes.Buffer
	if _, err := l.WriteWindow(&buf, from, to); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(buf.String(), "\n"); lines != len(win) {
		t.Fatalf("WriteWindow wrote %d lines, want %d", lines, len(win))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened, the log goes on from where it was; a torn last line is
	// skipped.
	f, _ := os.OpenFile(filepath.Join(dir, "security.log"), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"time":"2026-03-01T`)
	f.Close()
	l2, err := secevents.OpenLog(secevents.LogOptions{Dir: dir, MaxBytes: 1024, Files: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	again, _ := l2.Read(time.Time{}, time.Time{})
	if len(again) != len(all) {
		t.Fatalf("after reopen %d events, want %d", len(again), len(all))
	}
}

func TestLogAppendAndClear(t *testing.T) {
	clk := clock.NewFake(t0)
	l, err := secevents.OpenLog(secevents.LogOptions{Dir: t.TempDir(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	long := strings.Repeat("é", 200) // 400 bytes
	got, err := l.Append(secevents.Event{Type: secevents.FirmwareUpdated, Time: t0, TechInfo: long})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.TechInfo) > secevents.MaxTechInfo || !strings.HasPrefix(long, got.TechInfo) || len(got.TechInfo) < secevents.MaxTechInfo-1 {
		t.Fatalf("TechInfo cut to %d bytes", len(got.TechInfo))
	}
	stamped, err := l.Append(secevents.Event{Type: secevents.StartupOfTheDevice})
	if err != nil || !stamped.Time.Equal(t0) {
		t.Fatalf("event without a time stamped %v, %v", stamped.Time, err)
	}
	clk.Advance(time.Hour)
	ev, err := l.Clear()
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != secevents.SecurityLogWasCleared || !ev.Time.Equal(t0.Add(time.Hour)) || !ev.Critical() {
		t.Fatalf("Clear returned %+v", ev)
	}
	all, _ := l.Read(time.Time{}, time.Time{})
	if len(all) != 1 || all[0].Type != secevents.SecurityLogWasCleared {
		t.Fatalf("after Clear: %+v", all)
	}
}
