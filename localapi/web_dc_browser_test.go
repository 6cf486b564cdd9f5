package localapi

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/meter"
	"github.com/evsed/evsed/station"
	"periph.io/x/conn/v3/physic"
)

// The web page shows a DC connector's block (SoC bar, step, output,
// isolation) and offers the DC fault kinds there; an AC connector beside
// it keeps its own.
func TestWebPageDCConnector(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test runs Chromium; skipped with -short")
	}
	dc := func(soc int, step hal.DCStep, iso hal.IsolationStatus) station.Snapshot {
		return station.Snapshot{Connectors: []station.ConnectorSnapshot{
			{ID: 1, Status: station.Charging, Pilot: hal.PilotC, Contactor: true,
				Meter: meter.Reading{DC: true, Power: 68800 * physic.Watt, Current: [3]physic.ElectricCurrent{200 * physic.Ampere},
					Voltage: [3]physic.ElectricPotential{344 * physic.Volt}},
				DC: &station.DCStatus{Step: step, SoC: soc, PresentVoltage: 344 * physic.Volt, PresentCurrent: 200 * physic.Ampere,
					TargetVoltage: 410 * physic.Volt, TargetCurrent: 250 * physic.Ampere,
					OfferedCurrent: 200 * physic.Ampere, OfferedPower: 120 * physic.KiloWatt,
					Isolation: 5 * physic.MegaOhm, IsolationStatus: iso}},
			{ID: 2, Status: station.Available, Pilot: hal.PilotA},
		}}
	}
	st := &fakeStation{snap: dc(23, hal.DCCharging, hal.IsolationValid)}
	srv, err := New(Options{Station: st, Sim: &fakeDCSim{fakeSim{st: st}}, StationID: "CPDC", Board: "sim-dc", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	base := runServer(t, srv)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("no-proxy-server", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	var jsErrors []string
	var jsMu sync.Mutex // guards jsErrors
	var listening sync.WaitGroup
	listening.Go(func() {
		for m, err := range chromedp.Console(bctx) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				jsMu.Lock()
				jsErrors = append(jsErrors, m.String())
				jsMu.Unlock()
			}
		}
	})
	defer listening.Wait()
	defer cancelTab()
	until := func(expr string) chromedp.Action[chromedp.Void] {
		poll := chromedp.Poll[bool](expr, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := poll(ctx, tg)
			return chromedp.Void{}, err
		}
	}
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 15*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			text, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("%s: %v\npage text:\n%s", what, err, text)
		}
	}
	field := func(n int, f string) string {
		return `document.querySelector('#c` + string(rune('0'+n)) + ` [data-f=` + f + `]')`
	}

	step("see the DC block of connector 1",
		chromedp.Navigate(base+"/"),
		until(`!!document.querySelector('#c1') && !!document.querySelector('#c2')`),
		until(`!`+field(1, "dc")+`.hidden && `+field(2, "dc")+`.hidden`),
		until(field(1, "soc")+`.textContent === 'SoC 23 %' && `+field(1, "socBar")+`.style.width === '23%'`),
		until(field(1, "dcStep")+`.textContent === 'Charging'`),
		until(field(1, "dcOutput")+`.textContent === '344 V · 200 A · 68.80 kW'`),
		until(field(1, "dcOffered")+`.textContent === '200 A · 120.00 kW'`),
		until(field(1, "dcIsolation")+`.textContent === 'Valid · 5.0 MΩ'`),
		// The fault menu: DC kinds on the DC connector, AC kinds beside.
		until(`[...`+field(1, "faultKind")+`.options].map((o) => o.value).join() === 'isolation,precharge,module,weld,meter,estop'`),
		until(`[...`+field(2, "faultKind")+`.options].map((o) => o.value).join() === 'rcd,weld,diode,meter'`),
	)

	st.setSnap(dc(24, hal.DCPowerDown, hal.IsolationWarning))
	step("follow the SoC and the step through the event stream",
		until(field(1, "soc")+`.textContent === 'SoC 24 %' && `+field(1, "dcStep")+`.textContent === 'PowerDown'`),
		until(field(1, "dcIsolation")+`.className === 'iso-Warning'`),
	)

	unknown := dc(-1, hal.DCFinished, hal.IsolationInvalid)
	unknown.Connectors[0].DC.Reason = station.DCIsolationFault
	st.setSnap(unknown)
	step("an unknown SoC leaves the bar empty",
		until(field(1, "soc")+`.textContent === 'SoC —' && `+field(1, "socBar")+`.style.width === '0%'`),
		until(field(1, "dcReason")+`.textContent === 'IsolationFault'`),
	)
	jsMu.Lock()
	defer jsMu.Unlock()
	if len(jsErrors) > 0 {
		t.Errorf("JavaScript errors on the page: %q", jsErrors)
	}
}
