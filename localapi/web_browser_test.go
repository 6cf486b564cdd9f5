package localapi

// The page in a real headless Chromium (chromedp) against a Server on a
// fake station: what the driver sees renders on each connector's card and
// follows the event stream. It needs a Chromium; without one it fails and
// says how to install it (-short skips it).

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/evsed/evsed/station"
	"github.com/evsed/evsed/station/tariff"
)

func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("EVSED_CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium found for the browser test of the web page: install it " +
		"(Debian/Ubuntu: apt-get install -y chromium) or set EVSED_CHROME to a Chrome or Chromium binary")
	return ""
}

func TestWebPageDriverDisplay(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test runs Chromium; skipped with -short")
	}
	running := station.Snapshot{Connectors: []station.ConnectorSnapshot{
		{ID: 1, Status: station.Charging, Session: &station.SessionSnapshot{ID: "s1", IDTag: "CARD1", StartedAt: time.Now()},
			Display: &station.DriverDisplay{PriceText: "Member price 0.25 USD/kWh + 1.00 USD",
				RunningCost: &station.DisplayCost{Amount: tariff.FromFloat(1.10), Currency: "USD"}}},
		{ID: 2, Status: station.Available, Display: &station.DriverDisplay{PriceText: "0.30 USD/kWh (offline)", Offline: true}},
	}}
	st := &fakeStation{snap: running}
	srv, err := New(Options{Station: st, StationID: "CPWEB", Board: "sim", Logger: quiet, SampleInterval: 20 * time.Millisecond})
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
	// Start the browser on the test's context: a step's shorter one would
	// close it with the step.
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
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 15*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			text, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("%s: %v\npage text:\n%s", what, err, text)
		}
	}
	until := func(expr string) chromedp.Action[chromedp.Void] {
		poll := chromedp.Poll[bool](expr, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := poll(ctx, tg)
			return chromedp.Void{}, err
		}
	}
	text := func(n int, f string) string {
		return `(document.querySelector('#c` + string(rune('0'+n)) + ` [data-f=` + f + `]') || {}).textContent`
	}

	step("open the page with a session's running cost",
		chromedp.Navigate(base+"/"),
		until(text(1, "priceText")+` === 'Member price 0.25 USD/kWh + 1.00 USD'`),
		until(text(1, "cost")+` === 'USD 1.10' && `+text(1, "costLabel")+` === 'Running cost'`),
		until(text(2, "priceText")+` === '0.30 USD/kWh (offline)' && `+text(2, "driverNote")+` === 'offline'`),
		until(`document.querySelector('#c1 [data-f=qrBox]').hidden && !document.querySelector('#c1 [data-f=driver]').hidden`),
	)

	// The session ends: the final cost, the thank-you text and the
	// receipt's QR code come through the event stream, no reload.
	const link = "https://receipts.example/101"
	st.setSnap(receiptSnap(link))
	step("see the final cost and the QR code",
		until(text(1, "priceText")+` === 'Thank you: 2.05 USD'`),
		until(text(1, "cost")+` === 'USD 2.05' && `+text(1, "costLabel")+` === 'Final cost'`),
		until(`!document.querySelector('#c1 [data-f=qrBox]').hidden && `+text(1, "qrText")+` === '`+link+`'`),
		// The image loaded: the API served an SVG the page's CSP allows.
		until(`(() => { const i = document.querySelector('#c1 [data-f=qr]');
			return (i.getAttribute('src') || '').startsWith('/api/v1/connectors/1/qr.svg?v=') && i.complete && i.naturalWidth > 0; })()`),
	)
	src, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('#c1 [data-f=qr]').src`))
	if err != nil || src == "" {
		t.Errorf("QR image src %q, %v", src, err)
	}

	// The next session: the QR code goes away.
	st.setSnap(running)
	step("see the QR code go with the next session",
		until(`document.querySelector('#c1 [data-f=qrBox]').hidden && !document.querySelector('#c1 [data-f=qr]').hasAttribute('src')`),
		until(text(1, "cost")+` === 'USD 1.10'`),
	)
	jsMu.Lock()
	defer jsMu.Unlock()
	if len(jsErrors) > 0 {
		t.Errorf("JavaScript errors on the page: %q", jsErrors)
	}
}
