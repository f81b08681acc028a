package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	"github.com/coder/websocket"
)

// The page in the three browser engines people use: Chromium (Chrome,
// Edge, Android), Firefox (Gecko) and WebKit (Safari, and every browser on
// an iPhone). Each engine is driven by its own protocol: Chromium by CDP
// (chromedp), Firefox by WebDriver BiDi, WebKitGTK by W3C WebDriver
// (WebKitWebDriver, in a virtual X display); the tests see one interface.
// Chromium and Firefox have a fake microphone playing
// ../webm/testdata/source.wav: Chromium's own (--use-file-for-fake-audio-capture,
// from the moment the page opens the microphone); Firefox records from a
// private PulseAudio server whose default source is the monitor of a null
// sink that the test plays the file into (enginePage.playMic). WebKitGTK
// lists no PulseAudio source here (its GStreamer device monitor finds none:
// getUserMedia fails with OverconstrainedError), so it records from its
// mock capture device, a tone.

// engine is a browser with one page.
type engine interface {
	// Open loads url and waits until it has loaded.
	Open(url string) error
	// Eval runs a JavaScript expression in the page, waits for it if it is
	// a promise, and returns its value as JSON; it gives up after limit.
	Eval(js string, limit time.Duration) (json.RawMessage, error)
	// Screenshot returns a PNG of the page's viewport.
	Screenshot() ([]byte, error)
	Close()
}

// enginePage is an engine in a test: every failure names the engine.
type enginePage struct {
	t     *testing.T
	name  string
	e     engine
	pulse *pulseServer // nil for Chromium
	wav   bool         // the microphone plays micFile (else a tone)
}

// playMic starts the fake microphone's WAV file: Chromium plays it over
// and over from the moment the page opened the microphone; for the others
// it is played into the PulseAudio microphone now, once. The channel is
// closed when the file has been played (nil for Chromium).
func (p *enginePage) playMic() <-chan struct{} {
	p.t.Helper()
	if p.pulse == nil {
		return nil
	}
	played, err := p.pulse.play(p.t, micFile)
	if err != nil {
		p.fatalf("playing %s into the microphone: %v", micFile, err)
	}
	return played
}

// waitMicPlayed waits until the page has captured the whole clip (n
// samples) that playMic started (played; nil for Chromium, whose file
// loops from the start).
func (p *enginePage) waitMicPlayed(played <-chan struct{}, n int) {
	p.t.Helper()
	if played == nil {
		p.waitFor(fmt.Sprintf(`harkTest.state().stats.capSamples >= %d`, n+48000/5))
		return
	}
	// PulseAudio's microphone is late by up to a second or so on a
	// loaded machine: 1.5 s more after the file ended.
	<-played
	got := 0
	p.eval(`harkTest.state().stats.capSamples`, &got)
	p.waitFor(fmt.Sprintf(`harkTest.state().stats.capSamples >= %d`, got+48000*3/2))
}

func (p *enginePage) fatalf(format string, args ...any) {
	p.t.Helper()
	if l, ok := p.e.(interface{ Log() string }); ok {
		out := l.Log()
		if len(out) > 4000 {
			out = "…" + out[len(out)-4000:]
		}
		format += "\nthe browser's output:\n%s"
		args = append(args, out)
	}
	p.t.Fatalf("[%s] "+format, append([]any{p.name}, args...)...)
}

func (p *enginePage) open(url string) {
	p.t.Helper()
	if err := p.e.Open(url); err != nil {
		p.fatalf("opening %s: %v", url, err)
	}
}

// eval runs js and unmarshals its value into out (nil: ignore it). An
// evaluation left unanswered for 15 s is asked again (see waitFor), so js
// must be safe to run twice (the test hooks are: a second press while
// pressed does nothing).
func (p *enginePage) eval(js string, out any) {
	p.t.Helper()
	var raw json.RawMessage
	var err error
	for start := time.Now(); ; {
		raw, err = p.e.Eval(js, 15*time.Second)
		if err == nil || !errors.Is(err, errNoAnswer) || time.Since(start) > evalLimit {
			break
		}
		p.t.Logf("[%s] no answer to %.60q within 15 s: asking again", p.name, js)
	}
	if err != nil {
		p.fatalf("%s: %v", js, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			p.fatalf("%s: result %s: %v", js, raw, err)
		}
	}
}

// errNoAnswer: the browser did not answer a command in time.
var errNoAnswer = errors.New("no answer")

// evalLimit is a hang guard for one evaluation: a loaded machine is slow.
const evalLimit = 6 * waitLimit

// waitFor waits until the JavaScript condition is true, asking the page
// every 50 ms. One question left unanswered for 10 s is asked again (a
// loaded machine may be that slow).
//
// Firefox: a page whose main thread is stuck answers nothing, and Firefox
// logs "MessageHandlerFrameParent ping for command script.evaluateExpression
// … timed out" every 10 s. That was seen in about 1 run of 4 of the longer
// flows, and the cause was the test hook: harkTest.state() read
// AudioContext.outputLatency, which Firefox answers with a synchronous call
// to its audio server (AudioIPC, cubeb) from the page's main thread; in the
// stuck runs (gdb, three of three) that call never returned, the audio
// graph's thread (GraphRunner) waited on a lock and the audio callback
// thread waited on the graph. Ask a page nothing that reaches the audio
// device (outputLatency, getOutputTimestamp) in a polled condition:
// harkTest.latency() and stopRecording({wall: true}) do it once, in Chromium.
func (p *enginePage) waitFor(cond string) {
	p.t.Helper()
	js := `(() => { try { return !!(` + cond + `); } catch (e) { return false; } })()`
	deadline := time.Now().Add(2 * waitLimit)
	var lastErr error
	for time.Now().Before(deadline) {
		var ok bool
		raw, err := p.e.Eval(js, 10*time.Second)
		if err == nil {
			err = json.Unmarshal(raw, &ok)
		}
		if ok {
			return
		}
		if err != nil {
			lastErr = err
		}
		time.Sleep(50 * time.Millisecond) // between questions, not a wait for an event
	}
	var state string
	raw, _ := p.e.Eval(`(window.harkTest ? JSON.stringify(harkTest.state()) + '\nlast events: ' + JSON.stringify(harkTest.events().slice(-20)) : 'no harkTest') +
  (window.harkPWA ? '\npwa: ' + JSON.stringify(harkPWA.state()) : '') +
  (window.HarkHistory ? '\nhistory: ' + JSON.stringify(HarkHistory.test.state()) + '\nhistory events: ' + JSON.stringify(HarkHistory.test.events().slice(-20)) : '')`, 10*time.Second)
	json.Unmarshal(raw, &state)
	p.fatalf("waiting for %s: not true after %v (last error: %v)\npage state: %s", cond, 2*waitLimit, lastErr, state)
}

// login opens the page at url and logs in as name with the login form.
func (p *enginePage) login(url, name, password string) {
	p.t.Helper()
	p.open(url)
	p.waitFor(`window.harkTest !== undefined`)
	p.eval(fmt.Sprintf(`harkTest.login(%q, %q)`, name, password), nil)
}

// stopRecording stops the page's output recording (harkTest.startRecording)
// and returns what the page played, 48 kHz mono.
func (p *enginePage) stopRecording() []int16 {
	p.t.Helper()
	var got struct {
		PCM  string `json:"pcm"`
		Rate int    `json:"rate"`
	}
	p.eval(`harkTest.stopRecording()`, &got)
	if got.Rate != 48000 {
		p.fatalf("the page's audio runs at %d Hz, not 48000", got.Rate)
	}
	return decodePCM(p.t, got.PCM)
}

// pointer sends a pointer event of type typ ("pointerdown", "pointerup")
// to the element with that id, as a finger or mouse on it does. It is a
// DOM event, the same in every engine (each protocol has its own input
// commands); the element's own handlers run as for real input.
func (p *enginePage) pointer(id, typ string) {
	p.t.Helper()
	p.eval(fmt.Sprintf(`(() => { const el = document.getElementById(%q); const r = el.getBoundingClientRect();
  return el.dispatchEvent(new PointerEvent(%q, {bubbles: true, cancelable: true, pointerId: 1, pointerType: 'touch', isPrimary: true, button: 0,
    buttons: %q === 'pointerdown' ? 1 : 0, clientX: r.x + r.width / 2, clientY: r.y + r.height / 2})); })()`, id, typ, typ), nil)
}

func (p *enginePage) screenshot(name string) {
	p.t.Helper()
	dir := os.Getenv("HARK_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := p.e.Screenshot()
	if err != nil {
		p.fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// newEngine starts the named engine ("chromium", "firefox", "webkit") with
// a phone-sized viewport (390×844 CSS pixels), or skips the test when the
// engine is not installed (make deps-browsers installs them).
func newEngine(t *testing.T, name string) *enginePage {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	var e engine
	var err error
	var pulse *pulseServer
	switch name {
	case "chromium":
		b := newBrowserMic(t, micFile, "", 390, 844) // the file over and over
		run(b, chromedp.Action[chromedp.Void](chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch)))
		e = &chromiumEngine{b: b}
	case "firefox":
		if pulse, err = startPulse(t); err == nil {
			e, err = startFirefox(t, pulse.server)
		}
	case "webkit":
		if pulse, err = startPulse(t); err == nil {
			e, err = startWebKit(t, pulse.server)
		}
	default:
		t.Fatalf("unknown engine %q", name)
	}
	if err != nil {
		var missing *missingError
		if errors.As(err, &missing) {
			t.Skipf("[%s] %v", name, err)
		}
		t.Fatalf("[%s] starting the browser: %v", name, err)
	}
	t.Cleanup(e.Close)
	return &enginePage{t: t, name: name, e: e, pulse: pulse, wav: name != "webkit"}
}

// missingError says that a browser is not installed.
type missingError struct{ what, pkg string }

func (m *missingError) Error() string {
	return fmt.Sprintf("%s is not installed (make deps-browsers, or apt-get install -y %s)", m.what, m.pkg)
}

func lookPath(name, pkg string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		if _, serr := os.Stat(name); serr == nil {
			return name, nil
		}
		return "", &missingError{name, pkg}
	}
	return p, nil
}

// ---------- PulseAudio ----------

// pulseServer is a private PulseAudio server for one browser.
type pulseServer struct {
	server string // the PULSE_SERVER value for the browser's environment
}

// startPulse starts a private PulseAudio server for engines that need a
// sound server to run their audio at all (Firefox, WebKitGTK): a null sink
// (a sound card that plays into nothing) for the page's sound, and the
// fake microphone: the default source is the monitor of a second null
// sink, hark_mic, that play writes into.
func startPulse(t *testing.T) (*pulseServer, error) {
	exe, err := lookPath("pulseaudio", "pulseaudio")
	if err != nil {
		return nil, err
	}
	if _, err := lookPath("pactl", "pulseaudio-utils"); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "hark-pulse-") // short: a socket path has at most 107 bytes
	if err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, "native")
	cmd := exec.Command(exe, "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit", "--use-pid-file=no",
		"--load=module-native-protocol-unix auth-anonymous=1 socket="+sock,
		"--load=module-null-sink sink_name=hark_out",
		"--load=module-null-sink sink_name=hark_mic",
		"-v")
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+dir, "HOME="+dir)
	log := &lockedBuffer{}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = log, io.MultiWriter(log, pw)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); pw.Close(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(waitLimit):
			cmd.Process.Kill()
			<-done
		}
		os.RemoveAll(dir)
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Daemon startup complete") {
				ready <- true
				io.Copy(io.Discard, pr)
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			return nil, fmt.Errorf("pulseaudio stopped: %s", log)
		}
	case <-time.After(2 * waitLimit):
		return nil, fmt.Errorf("pulseaudio did not start: %s", log)
	}
	ps := &pulseServer{server: "unix:" + sock}
	for _, args := range [][]string{{"set-default-sink", "hark_out"}, {"set-default-source", "hark_mic.monitor"}} {
		if out, err := exec.Command("pactl", append([]string{"-s", ps.server}, args...)...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("pactl %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return ps, nil
}

// play starts playing a WAV file into the fake microphone (it runs on
// after play returns, for as long as the file lasts); the channel is
// closed when it has been played.
func (ps *pulseServer) play(t *testing.T, file string) (<-chan struct{}, error) {
	exe, err := lookPath("paplay", "pulseaudio-utils")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-s", ps.server, "--device=hark_mic", "--latency-msec=20", file)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done, played := make(chan error, 1), make(chan struct{})
	go func() { done <- cmd.Wait(); close(played) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		if err := <-done; err != nil && out.String() != "" {
			t.Logf("paplay: %v: %s", err, out.String())
		}
	})
	return played, nil
}

// ---------- Chromium (CDP) ----------

type chromiumEngine struct{ b *browser }

func (c *chromiumEngine) Open(url string) error {
	_, err := chromedp.Run(c.b.ctx, chromedp.Action[chromedp.Void](chromedp.Navigate(url)))
	return err
}

func (c *chromiumEngine) Eval(js string, limit time.Duration) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(c.b.ctx, limit)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](jsonExpr(js), chromedp.EvalAwaitPromise))
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: %v", errNoAnswer, err)
	}
	return json.RawMessage(s), err
}

func (c *chromiumEngine) Screenshot() ([]byte, error) {
	return chromedp.Run(c.b.ctx, chromedp.CaptureScreenshot())
}

func (c *chromiumEngine) Close() {}

// jsonExpr wraps an expression so that it evaluates to its value as JSON
// (null for undefined), after waiting for it if it is a promise.
func jsonExpr(js string) string {
	return `(async () => { const v = await (` + js + `); return v === undefined ? 'null' : JSON.stringify(v); })()`
}

// ---------- Firefox (WebDriver BiDi) ----------

// firefoxPrefs: the microphone without a question (PulseAudio's default
// source, see startPulse), sound without a click, notifications allowed,
// and nothing that phones home.
const firefoxPrefs = `
user_pref("media.navigator.permission.disabled", true);
user_pref("media.autoplay.default", 0);
user_pref("media.autoplay.block-webaudio", false);
user_pref("permissions.default.desktop-notification", 1);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("app.update.disabledForTesting", true);
user_pref("browser.aboutwelcome.enabled", false);
user_pref("network.http.http3.enable", false);
user_pref("extensions.autoDisableScopes", 0);
user_pref("fission.autostart", false);
user_pref("dom.ipc.processCount", 1);
user_pref("browser.tabs.remote.separatePrivilegedContentProcess", false);
`

type firefoxEngine struct {
	cmd  *exec.Cmd
	done chan struct{}
	bidi *bidiConn
	ctx  string // the browsing context (tab)
	log  *lockedBuffer
}

func startFirefox(t *testing.T, pulse string) (*firefoxEngine, error) {
	exe, err := lookPath("firefox-esr", "firefox-esr")
	if err != nil {
		if p, err2 := lookPath("firefox", "firefox-esr"); err2 == nil {
			exe, err = p, nil
		} else {
			return nil, err
		}
	}
	profile := t.TempDir()
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(firefoxPrefs), 0o644); err != nil {
		return nil, err
	}
	f := &firefoxEngine{done: make(chan struct{}), log: &lockedBuffer{}}
	f.cmd = exec.Command(exe, "--headless", "--no-remote", "--profile", profile, "--remote-debugging-port=0", "about:blank")
	f.cmd.Env = append(os.Environ(), "MOZ_CRASHREPORTER_DISABLE=1", "PULSE_SERVER="+pulse)
	pr, pw := io.Pipe()
	f.cmd.Stdout, f.cmd.Stderr = io.MultiWriter(f.log, pw), io.MultiWriter(f.log, pw)
	if err := f.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { f.cmd.Wait(); pw.Close(); close(f.done) }()
	// Firefox says where WebDriver BiDi listens.
	found := make(chan string, 1)
	go func() {
		buf := make([]byte, 4096)
		var acc []byte
		sent := false
		for {
			n, err := pr.Read(buf)
			acc = append(acc, buf[:n]...)
			if i := bytes.Index(acc, []byte("WebDriver BiDi listening on ")); i >= 0 && !sent {
				if j := bytes.IndexByte(acc[i:], '\n'); j >= 0 {
					found <- strings.TrimSpace(string(acc[i+len("WebDriver BiDi listening on ") : i+j]))
					sent = true
				}
			}
			if err != nil {
				return
			}
		}
	}()
	var url string
	select {
	case url = <-found:
	case <-f.done:
		return nil, fmt.Errorf("firefox stopped: %s", f.log)
	case <-time.After(2 * waitLimit):
		f.Close()
		return nil, fmt.Errorf("firefox did not start WebDriver BiDi: %s", f.log)
	}
	f.bidi, err = dialBiDi(url + "/session")
	if err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.bidi.call("session.new", map[string]any{"capabilities": map[string]any{}}); err != nil {
		f.Close()
		return nil, err
	}
	res, err := f.bidi.call("browsingContext.getTree", map[string]any{})
	if err != nil {
		f.Close()
		return nil, err
	}
	var tree struct {
		Contexts []struct{ Context string } `json:"contexts"`
	}
	if err := json.Unmarshal(res, &tree); err != nil || len(tree.Contexts) == 0 {
		f.Close()
		return nil, fmt.Errorf("no browsing context in %s", res)
	}
	f.ctx = tree.Contexts[0].Context
	if _, err := f.bidi.call("browsingContext.setViewport", map[string]any{"context": f.ctx,
		"viewport": map[string]any{"width": 390, "height": 844}, "devicePixelRatio": 3}); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Log is what Firefox printed.
func (f *firefoxEngine) Log() string { return f.log.String() }

func (f *firefoxEngine) Open(url string) error {
	_, err := f.bidi.call("browsingContext.navigate", map[string]any{"context": f.ctx, "url": url, "wait": "complete"})
	return err
}

func (f *firefoxEngine) Eval(js string, limit time.Duration) (json.RawMessage, error) {
	res, err := f.bidi.callLimit(limit, "script.evaluate", map[string]any{"expression": jsonExpr(js), "target": map[string]any{"context": f.ctx},
		"awaitPromise": true, "resultOwnership": "none"})
	if err != nil {
		return nil, err
	}
	var r struct {
		Type   string `json:"type"`
		Result struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return nil, err
	}
	if r.Type == "exception" {
		return nil, fmt.Errorf("exception: %s", r.ExceptionDetails.Text)
	}
	return json.RawMessage(r.Result.Value), nil
}

func (f *firefoxEngine) Screenshot() ([]byte, error) {
	res, err := f.bidi.call("browsingContext.captureScreenshot", map[string]any{"context": f.ctx})
	if err != nil {
		return nil, err
	}
	var r struct{ Data string }
	if err := json.Unmarshal(res, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}

func (f *firefoxEngine) Close() {
	if f.bidi != nil {
		f.bidi.call("browser.close", map[string]any{}) // ends the process
		f.bidi.close()
	}
	select {
	case <-f.done:
	case <-time.After(waitLimit):
		f.cmd.Process.Kill()
		<-f.done
	}
}

// bidiConn is a WebDriver BiDi connection: commands with ids, answered in
// any order; events are ignored.
type bidiConn struct {
	c       *websocket.Conn
	mu      sync.Mutex // guards next, waiting
	next    int
	waiting map[int]chan bidiAnswer
	readErr chan struct{}
	err     error // set before readErr is closed
}

type bidiAnswer struct {
	Type    string          `json:"type"`
	ID      *int            `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
}

func dialBiDi(url string) (*bidiConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("WebDriver BiDi at %s: %w", url, err)
	}
	c.SetReadLimit(64 << 20) // screenshots
	b := &bidiConn{c: c, waiting: map[int]chan bidiAnswer{}, readErr: make(chan struct{})}
	go b.read()
	return b, nil
}

func (b *bidiConn) read() {
	for {
		_, data, err := b.c.Read(context.Background())
		if err != nil {
			b.err = err
			close(b.readErr)
			return
		}
		var a bidiAnswer
		if json.Unmarshal(data, &a) != nil || a.ID == nil {
			continue // an event
		}
		b.mu.Lock()
		ch := b.waiting[*a.ID]
		delete(b.waiting, *a.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- a
		}
	}
}

func (b *bidiConn) call(method string, params any) (json.RawMessage, error) {
	return b.callLimit(evalLimit, method, params)
}

// callLimit is call that gives up after limit.
func (b *bidiConn) callLimit(limit time.Duration, method string, params any) (json.RawMessage, error) {
	b.mu.Lock()
	b.next++
	id := b.next
	ch := make(chan bidiAnswer, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	msg, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := b.c.Write(ctx, websocket.MessageText, msg); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	defer func() {
		b.mu.Lock()
		delete(b.waiting, id) // an answer that comes later is dropped
		b.mu.Unlock()
	}()
	select {
	case a := <-ch:
		if a.Type == "error" {
			return nil, fmt.Errorf("%s: %s: %s", method, a.Error, a.Message)
		}
		return a.Result, nil
	case <-b.readErr:
		return nil, fmt.Errorf("%s: the connection closed: %v", method, b.err)
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", method, errNoAnswer)
	}
}

func (b *bidiConn) close() { b.c.Close(websocket.StatusNormalClosure, "") }

// ---------- WebKit (WebKitGTK's MiniBrowser through WebKitWebDriver) ----------

const miniBrowser = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"

type webkitEngine struct {
	xvfb, driver *exec.Cmd
	xdone, ddone chan struct{}
	base         string // http://127.0.0.1:PORT/session/ID
	log          *lockedBuffer
}

func startWebKit(t *testing.T, pulse string) (*webkitEngine, error) {
	driver, err := lookPath("WebKitWebDriver", "webkit2gtk-driver")
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(miniBrowser); err != nil {
		return nil, &missingError{miniBrowser, "webkit2gtk-driver"}
	}
	xvfb, err := lookPath("Xvfb", "xvfb")
	if err != nil {
		return nil, err
	}
	w := &webkitEngine{xdone: make(chan struct{}), ddone: make(chan struct{}), log: &lockedBuffer{}}
	// A virtual display; Xvfb writes the display number it took to fd 3.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	w.xvfb = exec.Command(xvfb, "-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp")
	w.xvfb.ExtraFiles = []*os.File{pw}
	w.xvfb.Stderr = w.log
	if err := w.xvfb.Start(); err != nil {
		return nil, err
	}
	pw.Close()
	go func() { w.xvfb.Wait(); close(w.xdone) }()
	disp := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(pr, 32))
		pr.Close()
		disp <- strings.TrimSpace(string(b))
	}()
	var display string
	select {
	case display = <-disp:
	case <-time.After(2 * waitLimit):
	}
	if display == "" {
		w.Close()
		return nil, fmt.Errorf("Xvfb gave no display: %s", w.log)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		w.Close()
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	w.driver = exec.Command(driver, fmt.Sprintf("--port=%d", port))
	w.driver.Env = append(os.Environ(), "DISPLAY=:"+display, "LIBGL_ALWAYS_SOFTWARE=1", "PULSE_SERVER="+pulse)
	w.driver.Stdout, w.driver.Stderr = w.log, w.log
	if err := w.driver.Start(); err != nil {
		w.Close()
		return nil, err
	}
	go func() { w.driver.Wait(); close(w.ddone) }()
	root := fmt.Sprintf("http://127.0.0.1:%d", port)
	// Wait for the driver to answer (it says nothing when it listens).
	deadline := time.Now().Add(2 * waitLimit)
	for {
		res, err := http.Get(root + "/status")
		if err == nil {
			res.Body.Close()
			break
		}
		select {
		case <-w.ddone:
			w.Close()
			return nil, fmt.Errorf("WebKitWebDriver stopped: %s", w.log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			w.Close()
			return nil, fmt.Errorf("WebKitWebDriver did not answer: %s", w.log)
		}
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"webkitgtk:browserOptions": map[string]any{"binary": miniBrowser, "args": []string{
			"--automation", "--enable-media-stream=true", "--enable-mock-capture-devices=true", "--enable-webaudio=true",
			"--enable-mediasource=true", "--autoplay-policy=allow", "--media-playback-requires-user-gesture=false",
		}},
	}}}
	var sess struct {
		SessionID string `json:"sessionId"`
	}
	if err := wdCall("POST", root+"/session", caps, &sess); err != nil {
		w.Close()
		return nil, fmt.Errorf("new session: %v\n%s", err, w.log)
	}
	w.base = root + "/session/" + sess.SessionID
	if err := wdCall("POST", w.base+"/timeouts", map[string]any{"script": (6 * waitLimit).Milliseconds(), "pageLoad": (3 * waitLimit).Milliseconds()}, nil); err != nil {
		w.Close()
		return nil, err
	}
	// 390×844 CSS pixels inside the window: the window is larger by its
	// toolbar, measured once.
	if err := wdCall("POST", w.base+"/window/rect", map[string]any{"width": 390, "height": 844}, nil); err != nil {
		w.Close()
		return nil, err
	}
	var inner [2]int
	raw, err := w.Eval(`[innerWidth, innerHeight]`, evalLimit)
	if err == nil {
		err = json.Unmarshal(raw, &inner)
	}
	if err != nil {
		w.Close()
		return nil, err
	}
	if inner != [2]int{390, 844} {
		wdCall("POST", w.base+"/window/rect", map[string]any{"width": 390 + 390 - inner[0], "height": 844 + 844 - inner[1]}, nil)
		raw, err = w.Eval(`[innerWidth, innerHeight]`, evalLimit)
		if err == nil {
			err = json.Unmarshal(raw, &inner)
		}
	}
	if err != nil || inner != [2]int{390, 844} {
		t.Logf("[webkit] the page is %v CSS pixels, not 390×844: MiniBrowser's window is no narrower (%v)", inner, err)
	}
	return w, nil
}

// wdClient talks to WebKitWebDriver; each request has its own limit.
var wdClient = &http.Client{}

// wdCall makes one W3C WebDriver request and unmarshals its value.
func wdCall(method, url string, body, out any) error {
	return wdCallLimit(evalLimit, method, url, body, out)
}

// wdCallLimit is wdCall that gives up after limit.
func wdCallLimit(limit time.Duration, method, url string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := wdClient.Do(req)
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s %s: %w: %v", method, url, errNoAnswer, err)
	}
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var v struct {
		Value json.RawMessage `json:"value"`
	}
	data, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, data)
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, v.Value)
	}
	if out != nil {
		return json.Unmarshal(v.Value, out)
	}
	return nil
}

// Log is what Xvfb, WebKitWebDriver and MiniBrowser printed.
func (w *webkitEngine) Log() string { return w.log.String() }

func (w *webkitEngine) Open(url string) error {
	return wdCall("POST", w.base+"/url", map[string]any{"url": url}, nil)
}

func (w *webkitEngine) Eval(js string, limit time.Duration) (json.RawMessage, error) {
	script := `const done = arguments[arguments.length - 1];
(` + jsonExpr(js) + `).then((v) => done({ok: v}), (e) => done({err: String(e && e.stack || e)}));`
	var r struct {
		OK  *string `json:"ok"`
		Err string  `json:"err"`
	}
	if err := wdCallLimit(limit, "POST", w.base+"/execute/async", map[string]any{"script": script, "args": []any{}}, &r); err != nil {
		return nil, err
	}
	if r.OK == nil {
		return nil, fmt.Errorf("exception: %s", r.Err)
	}
	return json.RawMessage(*r.OK), nil
}

func (w *webkitEngine) Screenshot() ([]byte, error) {
	var s string
	if err := wdCall("GET", w.base+"/screenshot", nil, &s); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(s)
}

func (w *webkitEngine) Close() {
	if w.base != "" {
		wdCall("DELETE", w.base, nil, nil)
	}
	for _, p := range []struct {
		cmd  *exec.Cmd
		done chan struct{}
	}{{w.driver, w.ddone}, {w.xvfb, w.xdone}} {
		if p.cmd == nil || p.cmd.Process == nil {
			continue
		}
		p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(waitLimit):
			p.cmd.Process.Kill()
			<-p.done
		}
	}
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 1<<20 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
