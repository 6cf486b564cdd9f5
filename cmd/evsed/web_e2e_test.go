package main

// Browser tests of the web page: the real evsed binary on the simulated
// board, the page in a real headless Chromium driven over the DevTools
// protocol (chromedp). They need a Chromium; without one they fail and say
// how to install it.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserWait bounds each browser step: it only turns a hang into a
// failure.
const browserWait = 15 * time.Second

// chromiumPath finds the browser: $EVSED_CHROME, or a Chromium or Chrome on
// the PATH.
func chromiumPath(t *testing.T) string {
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
		"(Debian/Ubuntu: apt-get install -y chromium; .ci/run does this) " +
		"or set EVSED_CHROME to a Chrome or Chromium binary")
	return ""
}

// browser is one headless Chromium tab that records the page's JavaScript
// errors.
type browser struct {
	ctx context.Context

	mu     sync.Mutex // guards errors
	errors []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 1000),
		chromedp.Flag("no-proxy-server", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	b := &browser{ctx: ctx}
	// Start the browser now, so that a broken one fails here.
	if err := chromedp.Do(ctx); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start Chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// A refused request shows in the browser's log as a failed
			// resource; the page shows those errors itself, and the
			// tests provoke some on purpose.
			if (m.Type == chromedp.ConsoleError && m.Source != "network") || m.IsException() {
				b.mu.Lock()
				b.errors = append(b.errors, m.String())
				b.mu.Unlock()
			}
		}
	})
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		wg.Wait()
	})
	return b
}

// run runs steps with browserWait as the bound; what names the step.
func (b *browser) run(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		page, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("%s: %v\npage text:\n%s", what, err, page)
	}
}

// text returns the text of the element sel selects.
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// waitJS waits until the JavaScript expression is true.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	poll := chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(browserWait))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := poll(ctx, t)
		return chromedp.Void{}, err
	}
}

// click clicks the element a CSS selector selects.
func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

// jsErrors returns the JavaScript errors seen so far.
func (b *browser) jsErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// field is the JavaScript for the text of a connector card's field.
func field(n int, f string) string {
	return fmt.Sprintf(`document.querySelector('#c%d [data-f=%s]')`, n, f)
}

func TestWebPageDrivesSimulatedCharger(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test runs the binary and Chromium; skipped with -short")
	}
	began := time.Now()
	b := newBrowser(t)
	a := newAgent(t, agentConfig{Free: true})
	a.start()

	b.run(t, "open the page",
		chromedp.Navigate("http://"+a.addr+"/"),
		waitJS(field(1, "status")+` && `+field(1, "status")+`.textContent === 'Available'`),
		waitJS(`document.getElementById('stream').textContent === 'live'`),
	)
	// An error is shown where the control is: charging an unplugged
	// vehicle is refused.
	b.run(t, "see a refused control's error",
		click(`#c2 [data-a=charge]`),
		waitJS(field(2, "result")+`.textContent.startsWith('Charge failed:')`),
	)
	b.run(t, "plug in and charge from the page",
		click(`#c1 [data-a=plug]`),
		waitJS(field(1, "result")+`.textContent === 'Plug: done'`),
		click(`#c1 [data-a=charge]`),
		waitJS(field(1, "result")+`.textContent === 'Charge: done'`),
	)
	// The stream, not a reload, brings the new state: within a few
	// seconds, the status and a power above zero.
	charging := time.Now()
	b.run(t, "see Charging and power",
		waitJS(field(1, "status")+`.textContent === 'Charging' && Number(`+field(1, "power")+`.dataset.w) > 0`),
	)
	if d := time.Since(charging); d > 5*time.Second {
		t.Errorf("the page showed Charging after %v, want within a few seconds", d)
	}
	power, session := b.text(t, `#c1 [data-f=power]`), b.text(t, `#c1 [data-f=idTag]`)
	if !strings.HasSuffix(power, "W") || session != "FREE" {
		t.Errorf("power %q, id tag %q; want a power in W or kW and the free-charging tag FREE", power, session)
	}
	if shot := os.Getenv("EVSED_WEB_SCREENSHOT"); shot != "" {
		screenshot(t, b, shot)
	}

	b.run(t, "inject an RCD fault from the page",
		chromedp.SetValue(chromedp.CSS(`#c1 [data-f=faultKind]`), "rcd"),
		click(`#c1 [data-a=fault]`),
		waitJS(field(1, "result")+`.textContent === 'Inject fault: done'`),
		waitJS(field(1, "status")+`.textContent === 'Faulted' && !`+field(1, "fault")+`.hidden`),
	)
	// The commissioning view: board, masked configuration, OCPP keys.
	b.run(t, "open the commissioning view",
		click(`#tab-commissioning`),
		waitJS(`document.querySelector('#comm-keys tbody').children.length > 10`),
		click(`#comm-hw tbody tr:first-child button`),
		waitJS(`document.querySelector('#comm-hw tbody tr:first-child .result').textContent.includes('Test meter: passed')`),
	)
	config, keys := b.text(t, `#comm-config`), b.text(t, `#comm-keys`)
	if !strings.Contains(config, `"listen"`) || !strings.Contains(keys, "HeartbeatInterval") {
		t.Errorf("commissioning view lacks the config or the OCPP keys:\n%s\n%s", config, keys)
	}
	// On a phone the page fits the screen's width: nothing to scroll
	// sideways, and the controls still there.
	b.run(t, "the live view on a phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
		click(`#tab-live`),
		waitJS(`!document.getElementById('view-live').hidden`),
		waitJS(`document.documentElement.scrollWidth <= window.innerWidth`),
		waitJS(`document.querySelector('#c1 [data-a=stop]').getBoundingClientRect().right <= window.innerWidth`),
	)
	if errs := b.jsErrors(); len(errs) > 0 {
		t.Errorf("JavaScript errors on the page: %q", errs)
	}
	t.Logf("browser test took %v", time.Since(began).Round(time.Millisecond))
}

// screenshot waits $EVSED_WEB_SCREENSHOT_AFTER (default 0), so that the
// chart has some history, and saves the page as a PNG at path, as a phone
// shows it next to it (NAME-phone.png), and its commissioning view
// (NAME-commissioning.png).
func screenshot(t *testing.T, b *browser, path string) {
	if d, err := time.ParseDuration(os.Getenv("EVSED_WEB_SCREENSHOT_AFTER")); err == nil {
		// A second vehicle that charges, then pauses, for a fuller picture.
		b.run(t, "plug connector 2",
			click(`#c2 [data-a=plug]`),
			waitJS(field(2, "result")+`.textContent === 'Plug: done'`),
			click(`#c2 [data-a=charge]`))
		time.Sleep(d / 2)
		b.run(t, "pause connector 2", click(`#c2 [data-a=pause]`))
		time.Sleep(d / 2)
		// Zoom the charts in on the minutes the test ran.
		b.run(t, "zoom the charts", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('[data-f=range]').forEach((s) => {
			s.value = '600'; s.dispatchEvent(new Event('change')); })`))
	}
	save := func(path string, shot chromedp.Action[[]byte]) {
		png, err := chromedp.Run(b.ctx, shot)
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot saved to %s", path)
	}
	save(path, chromedp.FullScreenshot(100))
	b.run(t, "phone-sized window", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), chromedp.Sleep(300*time.Millisecond))
	save(strings.TrimSuffix(path, ".png")+"-phone.png", chromedp.FullScreenshot(100))
	b.run(t, "desktop window again", chromedp.EmulateViewport(1280, 1000), chromedp.Sleep(300*time.Millisecond))
	// The board and the meters; not the configuration below them, whose
	// paths are the test's temporary ones.
	b.run(t, "the commissioning view",
		click(`#tab-commissioning`),
		waitJS(`document.querySelector('#comm-keys tbody').children.length > 10`),
		chromedp.EmulateViewport(1280, 540), chromedp.Sleep(300*time.Millisecond))
	save(strings.TrimSuffix(path, ".png")+"-commissioning.png", chromedp.CaptureScreenshot())
	b.run(t, "desktop window", chromedp.EmulateViewport(1280, 1000))
	b.run(t, "back to the live view", click(`#tab-live`), waitJS(`!document.getElementById('view-live').hidden`))
}

func TestWebPageAccessRules(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test runs the binary and Chromium; skipped with -short")
	}
	chromiumPath(t) // fail first when there is no browser
	bin := e2eBinary(t)
	dir := t.TempDir()
	_, port, err := net.SplitHostPort(freeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	everywhere := net.JoinHostPort("0.0.0.0", port)

	// No password: refused, with a message that says what to do.
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "run", "--api", everywhere, "--data", filepath.Join(dir, "data"))
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "EVSED_API_PASSWORD=")
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitError {
			t.Errorf("evsed run --api %s without a password: %v, want exit %d", everywhere, err, exitError)
		}
	case <-time.After(e2eWait):
		cmd.Process.Kill()
		t.Fatalf("evsed run --api %s without a password did not stop", everywhere)
	}
	if msg := stderr.String(); !strings.Contains(msg, "api.password") || !strings.Contains(msg, "not a loopback address") {
		t.Errorf("stderr = %q, want it to say a non-loopback address needs api.password", msg)
	}

	// With a password: it serves, the API asks for it and the page shows
	// its login form, which lets the right password in.
	const password = "correct horse battery"
	cfgPath := filepath.Join(dir, "evsed.yaml")
	pwFile := filepath.Join(dir, "api-password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("data_dir: %s\napi:\n  listen: %s\n  password_file: %s\n", filepath.Join(dir, "data"), everywhere, pwFile)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	run := exec.Command(bin, "run", "--config", cfgPath)
	out := &lockedBuffer{b: &logs}
	run.Stdout, run.Stderr = out, out
	run.Env = append(os.Environ(), "EVSED_API_PASSWORD=")
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		run.Process.Kill()
		_ = run.Wait()
		if t.Failed() {
			out.mu.Lock()
			t.Logf("evsed logs:\n%s", logs.String())
			out.mu.Unlock()
		}
	})
	// Only loopback traffic: the test reaches the 0.0.0.0 listener on
	// 127.0.0.1.
	local := "http://" + net.JoinHostPort("127.0.0.1", port)
	var code int
	for deadline := time.Now().Add(e2eWait); ; {
		resp, err := http.Get(local + "/api/v1/status")
		if err == nil {
			resp.Body.Close()
			code = resp.StatusCode
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API on %s did not answer: %v", everywhere, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/status without the password: %d, want 401", code)
	}

	b := newBrowser(t)
	b.run(t, "the page asks for the password",
		chromedp.Navigate(local+"/"),
		chromedp.WaitVisible(chromedp.ID("login")),
		waitJS(`document.getElementById('view-live').hidden`),
	)
	b.run(t, "a wrong password is refused",
		chromedp.SendKeys(chromedp.ID("password"), "not the password"),
		click(`#login-form button[type=submit]`),
		waitJS(`document.getElementById('login-result').textContent.includes('wrong password')`),
	)
	b.run(t, "the right password lets in",
		chromedp.SetValue(chromedp.ID("password"), password),
		click(`#login-form button[type=submit]`),
		waitJS(field(1, "status")+` && `+field(1, "status")+`.textContent === 'Available'`),
		waitJS(`document.getElementById('login').hidden && document.getElementById('stream').textContent === 'live'`),
		click(`#c1 [data-a=plug]`),
		waitJS(field(1, "result")+`.textContent === 'Plug: done'`),
	)
	if errs := b.jsErrors(); len(errs) > 0 {
		t.Errorf("JavaScript errors on the page: %q", errs)
	}
}

// lockedBuffer is an io.Writer safe for a process's stdout and stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
