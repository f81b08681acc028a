package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// grant gives the page's origin a permission without the browser's
// question (as if the person had said yes).
func (b *browser) grant(origin, name string) {
	b.t.Helper()
	run(b, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingGranted, Origin: origin})
		return err
	}))
}

// background minimizes the browser's window, so that the page is really
// hidden (document.visibilityState "hidden"); it returns a function that
// restores the window.
func (b *browser) background() func() {
	b.t.Helper()
	var win cdpbrowser.WindowID
	set := func(state cdpbrowser.WindowState) {
		run(b, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if win == 0 {
				r, err := cdp.Call(ctx, t, cdpbrowser.GetWindowForTarget, cdpbrowser.GetWindowForTargetParams{})
				if err != nil {
					return err
				}
				win = r.WindowID
			}
			_, err := cdp.Call(ctx, t, cdpbrowser.SetWindowBounds, cdpbrowser.SetWindowBoundsParams{WindowID: win, Bounds: &cdpbrowser.Bounds{WindowState: state}})
			return err
		}))
	}
	set(cdpbrowser.WindowStateMinimized)
	return func() { set(cdpbrowser.WindowStateNormal) }
}

// waitHidden is waitFor for a hidden page, where animation frames (which
// waitFor polls on) do not run: it polls on a timer.
func (b *browser) waitHidden(cond string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*waitLimit+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(2*waitLimit))); err != nil {
		b.t.Fatalf("browser: waiting for %s: %v\npwa: %v", cond, err, pwaState(b))
	}
}

func pwaState(b *browser) map[string]any {
	b.t.Helper()
	return run(b, chromedp.Evaluate[map[string]any](`harkPWA.state()`))
}

// TestBrowserPWA: the page is an installable app (Chromium finds no
// installability error in its manifest, icons and service worker); after
// login it keeps the screen on, offers alerts with a button (the browser's
// question comes from that tap), shows rings, texts and pages as system
// notifications while the page is hidden, a headset button talks through
// the Media Session, and the installed shell opens without the gateway and
// says there is no connection.
func TestBrowserPWA(t *testing.T) {
	st := startStack(t)
	cl := dialCLI(t, st, "cli")

	// The manifest and icons as the gateway serves them.
	res, err := http.Get(st.base + "/manifest.webmanifest")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/manifest+json" {
		t.Errorf("manifest Content-Type %q, want application/manifest+json", ct)
	}
	var man struct {
		Icons []struct{ Src, Sizes string }
	}
	if err := json.Unmarshal(body, &man); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	for _, ic := range man.Icons {
		r, err := http.Get(st.base + "/" + ic.Src)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/png" {
			t.Errorf("icon %s: %d %s", ic.Src, r.StatusCode, r.Header.Get("Content-Type"))
		}
	}

	b := newPhone(t, micFile)
	b.grant(st.base, "screen-wake-lock")
	b.open(st.base + "/")
	b.waitFor(`window.harkPWA && harkPWA.state().sw === 'registered' && harkPWA.state().controlled && harkPWA.state().net === 'ok'`)
	errs := run(b, chromedp.Action[*page.GetInstallabilityErrorsResult](func(ctx context.Context, t *chromedp.Target) (*page.GetInstallabilityErrorsResult, error) {
		r, err := cdp.Call(ctx, t, page.GetInstallabilityErrors, cdp.Empty{})
		return &r, err
	}))
	for _, e := range errs.InstallabilityErrors {
		t.Errorf("Chromium says the page is not installable: %s", e.ErrorID)
	}

	// No alerts question before login; after it, a card with a button.
	b.waitFor(`document.getElementById('alertsAsk').classList.contains('hidden')`)
	b.eval(`harkTest.login('ann', '')`)
	b.waitFor(`harkTest.state().channel === 'lobby' && harkPWA.state().wake === 'on' && harkPWA.state().media === 'on' && !document.getElementById('alertsAsk').classList.contains('hidden')`)
	if st := pwaState(b); !strings.Contains(strings.Join(toStrings(st["mediaActions"]), ","), "play") {
		t.Errorf("no Media Session play handler: %v", st["mediaActions"])
	}
	b.screenshot("phone-alerts-ask.png")
	b.grant(st.base, "notifications") // the person says yes to the question the tap brings
	b.eval(`document.getElementById('alertsOn').click()`)
	b.waitFor(`document.getElementById('alertsAsk').classList.contains('hidden') && harkPWA.state().alerts === 'granted'`)

	// In the background: a ring, a text and a page become notifications.
	closeTab := b.background() // the page really is hidden: the window is minimized
	b.waitHidden(`document.visibilityState === 'hidden' && harkPWA.state().hidden && harkPWA.state().wake === 'off'`)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := cl.c.Ring(ctx, "loading dock"); err != nil {
		t.Fatal(err)
	}
	if err := cl.c.Text(ctx, "", "truck is here"); err != nil {
		t.Fatal(err)
	}
	b.waitHidden(`harkPWA.state().notified.map(n => n.kind + ':' + n.title + ':' + n.body).join('|') === 'ring:cli is ringing everyone:loading dock|text:cli:truck is here'`)
	got := run(b, chromedp.Evaluate[[]string](`navigator.serviceWorker.getRegistration().then(r => r.getNotifications()).then(l => l.map(n => n.title + ': ' + n.body))`, chromedp.EvalAwaitPromise))
	if strings.Join(got, "|") != "cli is ringing everyone: loading dock|cli: truck is here" {
		t.Errorf("the system shows the notifications %q", got)
	}
	closeTab()
	// Back in front: the screen is kept on again, and a text in the
	// foreground is no notification.
	b.waitFor(`document.visibilityState === 'visible' && harkPWA.state().wake === 'on'`)

	// The headset button: press to talk, press again to stop.
	b.eval(`harkPWA.mediaAction('play')`)
	b.waitFor(`harkTest.state().floor === 'talking'`)
	b.eval(`harkPWA.mediaAction('pause')`)
	<-cl.ended

	// The gateway is gone: the app still opens and says so.
	st.gw.Close()
	b.open(st.base + "/")
	b.waitFor(`window.harkPWA && harkPWA.state().net === 'offline' && !document.getElementById('netState').classList.contains('hidden') && document.getElementById('loginBtn').disabled`)
	if txt := run(b, chromedp.Evaluate[string](`document.getElementById('netState').textContent`)); !strings.Contains(txt, "No connection to the intercom") {
		t.Errorf("offline text %q", txt)
	}
	b.screenshot("phone-offline.png")
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
