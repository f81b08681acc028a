package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/proto"
)

// These tests run the page in headless Debian chromium against a gateway
// and a real relay (in-process). The checks with the real `talk` command are
// in talk_test.go; here internal/client plays a CLI user where only the UI
// matters. The fake microphone plays ../webm/testdata/source.wav (0.5 s
// silence, speech, 0.5 s silence) from the moment the page opens it.

// stack is a relay and a gateway on loopback.
type stack struct {
	relay *relaytest.Relay
	gw    *Server
	base  string // http://127.0.0.1:PORT
}

func startStack(t *testing.T) *stack {
	t.Helper()
	return startStackOn(t, relaytest.Start(t, relaytest.Open()))
}

// startStackOn starts a gateway in front of relay r; opts change its
// configuration.
func startStackOn(t *testing.T, r *relaytest.Relay, opts ...func(*Config)) *stack {
	t.Helper()
	srv, err := New(stackConfig(t, r, opts...))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return &stack{relay: r, gw: srv, base: "http://" + ln.Addr().String()}
}

// stackConfig is the configuration of a test gateway in front of relay r;
// opts change it.
func stackConfig(t *testing.T, r *relaytest.Relay, opts ...func(*Config)) Config {
	t.Helper()
	cfg := Config{
		Dialer: &ClientDialer{Relay: r.Addr, Fingerprint: r.Fingerprint,
			KnownRelaysFile: filepath.Join(t.TempDir(), "known_relays"), Software: "gateway-test"},
	}
	for _, o := range opts {
		o(&cfg)
	}
	if testing.Verbose() && os.Getenv("HARK_TEST_LOG") != "" {
		cfg.Logger = testLogger()
	}
	return cfg
}

// cli is a relay client playing the part of `talk`.
type cli struct {
	c     *client.Client
	mu    sync.Mutex
	voice []timedFrame // guarded by mu
	ended chan struct{}
	once  sync.Once
}

type timedFrame struct {
	h    proto.VoiceHeader
	opus []byte
	at   time.Time
}

func dialCLI(t *testing.T, st *stack, name string) *cli {
	t.Helper()
	return dialCLIAs(t, st, client.Config{Name: name})
}

// dialCLIAs is dialCLI with a login (Name, Password) and a channel of
// cfg; the rest of cfg is set here.
func dialCLIAs(t *testing.T, st *stack, cfg client.Config) *cli {
	t.Helper()
	c := &cli{ended: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	cfg.Relay, cfg.Fingerprint = st.relay.Addr, st.relay.Fingerprint
	cfg.KnownRelaysFile = filepath.Join(t.TempDir(), "known")
	cfg.OnVoice = func(h proto.VoiceHeader, opus []byte, at time.Time) {
		c.mu.Lock()
		c.voice = append(c.voice, timedFrame{h, append([]byte(nil), opus...), at})
		c.mu.Unlock()
		if h.Flags&proto.FlagEnd != 0 {
			c.once.Do(func() { close(c.ended) })
		}
	}
	cl, err := client.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.c = cl
	t.Cleanup(func() { cl.Close() })
	return c
}

func (c *cli) heard(t *testing.T) ([]int16, []timedFrame) {
	c.mu.Lock()
	frames := append([]timedFrame(nil), c.voice...)
	c.mu.Unlock()
	dec, err := codec.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	var pcm []int16
	buf := make([]int16, codec.MaxPacketSamples)
	for _, f := range frames {
		n, err := dec.Decode(f.opus, buf)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		pcm = append(pcm, buf[:n]...)
	}
	return pcm, frames
}

// talk sends pcm as one transmission, paced in real time; it returns when
// each 20 ms frame was handed over (first frame's time returned).
func (c *cli) talk(t *testing.T, pcm []int16) time.Time {
	t.Helper()
	return c.transmit(t, "talk", c.c.Talk, pcm)
}

// page is talk to every channel (`talk page`; the page role).
func (c *cli) page(t *testing.T, pcm []int16) time.Time {
	t.Helper()
	return c.transmit(t, "page", c.c.Page, pcm)
}

// transmit sends pcm as one transmission that open opens (what names it
// in errors).
func (c *cli) transmit(t *testing.T, what string, open func(context.Context) (*client.Transmission, error), pcm []int16) time.Time {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	tx, err := open(ctx)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960, FEC: true})
	if err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	out := make([]byte, 0, codec.MaxPacketBytes)
	for i := 0; i+960 <= len(pcm); i += 960 {
		pkt, err := enc.Encode(pcm[i:i+960], out)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Send(pkt, 960); err != nil {
			t.Fatalf("send: %v", err)
		}
		<-tick.C
	}
	if err := tx.End(ctx); err != nil {
		t.Fatalf("end: %v", err)
	}
	return start
}

type browser struct {
	t   *testing.T
	ctx context.Context
}

func needChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install -y chromium)")
	}
	return p
}

func newBrowser(t *testing.T, mic string, width, height int) *browser {
	t.Helper()
	return newBrowserMic(t, mic, "%noloop", width, height)
}

// newBrowserMic is newBrowser with the fake microphone's file option:
// "%noloop" plays it once, "" over and over.
func newBrowserMic(t *testing.T, mic, loop string, width, height int) *browser {
	t.Helper()
	exe := needChromium(t)
	abs, err := filepath.Abs(mic)
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-audio-capture", abs+loop),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil { // start the browser
		cancelA()
		t.Fatalf("starting chromium: %v", err)
	}
	t.Cleanup(func() { cancelC(); cancelA() })
	b := &browser{t: t, ctx: ctx}
	// The page gets exactly width×height (the window is a little larger).
	run(b, chromedp.Action[chromedp.Void](chromedp.EmulateViewport(int64(width), int64(height))))
	return b
}

// newPhone is a browser the size of a phone: 390×844 CSS pixels at a device
// pixel ratio of 3, with touch.
func newPhone(t *testing.T, mic string) *browser {
	t.Helper()
	b := newBrowser(t, mic, 390, 844)
	run(b, chromedp.Action[chromedp.Void](chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch)))
	return b
}

func run[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*waitLimit)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

func (b *browser) open(url string) {
	b.t.Helper()
	run(b, chromedp.Action[chromedp.Void](chromedp.Navigate(url)))
}

// login opens the page at url and logs in as name with the login form.
func (b *browser) login(url, name, password string) {
	b.t.Helper()
	b.open(url)
	b.waitFor(`window.harkTest !== undefined`)
	b.eval(fmt.Sprintf(`harkTest.login(%q, %q)`, name, password))
}

func (b *browser) eval(js string) {
	b.t.Helper()
	run(b, chromedp.Evaluate[chromedp.Void](js, chromedp.EvalAwaitPromise))
}

// waitFor polls a JS condition until it is true.
func (b *browser) waitFor(cond string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*waitLimit+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(2*waitLimit))); err != nil {
		// Say what the page was doing.
		sctx, scancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer scancel()
		state, _ := chromedp.Run(sctx, chromedp.Evaluate[string](`(window.harkTest ? JSON.stringify(harkTest.state()) : 'no harkTest') + (window.harkPWA ? '\npwa: ' + JSON.stringify(harkPWA.state()) : '')`))
		b.t.Fatalf("browser: waiting for %s: %v\npage state: %s", cond, err, state)
	}
}

func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("HARK_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png := run(b, chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

const micFile = "../webm/testdata/source.wav"

// TestTwoBrowsersAndCLI: presence, talking indicator, floor denial, text and
// ring-all on two pages with a relay client in the channel.
func TestTwoBrowsersAndCLI(t *testing.T) {
	st := startStack(t)
	cl := dialCLI(t, st, "cli")
	ann := newBrowser(t, micFile, 1280, 800)
	bob := newPhone(t, micFile)
	ann.login(st.base+"/", "ann", "")
	bob.login(st.base+"/", "bob", "")
	names := `[...document.querySelectorAll('#users li')].map(l => l.dataset.name)`
	for _, b := range []*browser{ann, bob} {
		b.waitFor(names + `.join(',') === 'ann,bob,cli'`)
	}
	ann.screenshot("desktop-idle.png")
	bob.screenshot("phone-idle.png")

	// cli talks: both pages show it; bob presses and gets the busy banner.
	src := sourcePCM(t)
	done := make(chan struct{})
	go func() { defer close(done); cl.talk(t, src[:48000*3]) }()
	for _, b := range []*browser{ann, bob} {
		b.waitFor(`document.getElementById('air').textContent.includes('cli is talking') && document.querySelector('#users li.talking') && document.querySelector('#users li.talking').dataset.name === 'cli'`)
	}
	ann.screenshot("desktop-talking.png")
	bob.screenshot("phone-talking.png")
	for _, b := range []*browser{ann, bob} {
		b.eval(`harkTest.press()`)
		b.waitFor(`harkTest.state().floor === 'busy' && !document.getElementById('banner').classList.contains('hidden') && document.getElementById('banner').textContent.includes('cli is talking')`)
	}
	for _, b := range []*browser{ann, bob} {
		b.waitFor(`!document.getAnimations().some(a => a.animationName === 'shake')`) // a still picture
	}
	ann.screenshot("desktop-busy.png")
	bob.screenshot("phone-busy.png")
	for _, b := range []*browser{ann, bob} {
		b.eval(`harkTest.release()`)
	}
	<-done
	ann.waitFor(`!document.getElementById('air').textContent.includes('talking')`)

	// Text: to the channel, and privately.
	ann.eval(`document.getElementById('text').value = 'hello from ann'; document.getElementById('textForm').requestSubmit()`)
	for _, b := range []*browser{ann, bob} {
		b.waitFor(`document.getElementById('log').textContent.includes('hello from ann')`)
	}
	ann.eval(`document.getElementById('to').value = 'bob'; document.getElementById('text').value = 'just for bob'; document.getElementById('textForm').requestSubmit()`)
	bob.waitFor(`document.getElementById('log').textContent.includes('just for bob')`)

	// Ring all, from the CLI and from a page.
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := cl.c.Ring(ctx, "meeting"); err != nil {
		t.Fatal(err)
	}
	for _, b := range []*browser{ann, bob} {
		b.waitFor(`document.getElementById('log').textContent.includes('cli rang everyone')`)
	}
	bob.eval(`document.getElementById('ring').click()`)
	for _, b := range []*browser{ann, bob} {
		b.waitFor(`document.getElementById('log').textContent.includes('bob rang everyone') && document.getElementById('banner').textContent.includes('bob is ringing')`)
	}
	ann.screenshot("desktop-text-ring.png")
	bob.screenshot("phone-text-ring.png")
	if got := run(ann, chromedp.Evaluate[int](`harkTest.events().filter(e => e.type === 'msg' && e.t === 'ring').length`)); got < 2 {
		t.Fatalf("ann saw %d rings, want 2", got)
	}
}

// TestBrowserReconnects: the page shows that the gateway is restarting
// (its goodbye) and logs in again by itself when the gateway is back.
func TestBrowserReconnects(t *testing.T) {
	r := newFakeRelay()
	srv, err := New(Config{Dialer: r})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), ln) }()
	b := newPhone(t, micFile)
	d := newBrowser(t, micFile, 1280, 800)
	b.login("http://"+addr+"/", "ann", "")
	d.login("http://"+addr+"/", "bob", "")
	for _, x := range []*browser{b, d} {
		x.waitFor(`window.harkTest && harkTest.state().channel === 'lobby' && document.querySelectorAll('#users li').length === 2`)
	}
	srv.Close()
	<-done
	for _, x := range []*browser{b, d} {
		// The gateway said goodbye: the page says it is restarting.
		x.waitFor(`harkTest.state().conn.includes('wait') && document.getElementById('banner').textContent.includes('The web gateway is restarting') && harkTest.events().some(e => e.type === 'bye' && e.code === 'shutdown')`)
	}
	b.screenshot("phone-reconnecting.png")
	d.screenshot("desktop-reconnecting.png")

	srv2, err := New(Config{Dialer: r})
	if err != nil {
		t.Fatal(err)
	}
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	done2 := make(chan error, 1)
	go func() { done2 <- srv2.Serve(context.Background(), ln2) }()
	t.Cleanup(func() { srv2.Close(); <-done2 })
	for _, x := range []*browser{b, d} {
		x.waitFor(`harkTest.state().conn.includes('ok') && document.getElementById('banner').classList.contains('hidden') && harkTest.state().channel === 'lobby'`)
	}
}

// TestBrowserRelayKilled: the relay dies without a word (kill -9): the page
// says the intercom is reconnecting (the gateway's client noticed the
// silence) instead of showing "connected"; when the relay is back on the
// same port and secret, the page is back in its channel and shows a text
// sent after the restart.
func TestBrowserRelayKilled(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	st := startStackOn(t, r)
	b := newPhone(t, micFile)
	b.login(st.base+"/", "ann", "")
	b.waitFor(`window.harkTest && harkTest.state().channel === 'lobby' && harkTest.state().conn.includes('ok')`)
	r.Kill(t)
	// The gateway's client noticed the silence (not QUIC's 20 s idle
	// timeout) and the page says so.
	// The first words say the relay stopped answering; each failed retry
	// then says why it could not reach it ("the relay is not running
	// there"): a slow page may see only the second (WebKitGTK, once).
	b.waitFor(`harkTest.state().conn.includes('wait') && /stopped answering|not running/.test(document.getElementById('banner').textContent)`)
	r.Restart(t)
	b.waitFor(`harkTest.state().conn.includes('ok') && harkTest.state().channel === 'lobby'`)
	cl := dialCLI(t, st, "cli")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := cl.c.Text(ctx, "", "after the restart"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(`document.getElementById('log').textContent.includes('after the restart')`)
}

// keyAction sends a real space bar key event.
func keyAction(typ input.DispatchKeyEventType) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		p := input.DispatchKeyEventParams{Type: typ, Key: " ", Code: "Space", WindowsVirtualKeyCode: 32, NativeVirtualKeyCode: 32}
		if typ == input.DispatchKeyEventTypeKeyDown {
			p.Text = " "
		}
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, p)
		return err
	})
}

// TestBrowserVOX: with "talk automatically" on, speech alone opens and
// closes a transmission.
func TestBrowserVOX(t *testing.T) {
	st := startStack(t)
	listener := dialCLI(t, st, "listener")
	b := newBrowser(t, micFile, 1280, 800)
	b.login(st.base+"/", "web", "")
	b.waitFor(`window.harkTest && harkTest.state().channel === 'lobby'`)
	b.eval(`document.getElementById('vox').click()`)
	select {
	case <-listener.ended:
	case <-time.After(2 * waitLimit):
		t.Fatal("voice detection sent no complete transmission")
	}
	pcm, frames := listener.heard(t)
	t.Logf("VOX: %d frames", len(frames))
	audiotest.Judge(t, "", sourcePCM(t), pcm, 48000, 0.8)
}

// TestBrowserPaging: a user with the page role gets a "page all" button and
// pages every channel from the page; the other pages show who is paging and
// play it, `talk record` in another channel hears it; a user without the
// role has no button, and the gateway refuses a forged page request.
func TestBrowserPaging(t *testing.T) {
	needChromium(t)
	r := relaytest.Start(t)
	r.AddUser("boss", "pw", proto.RolePage)
	r.AddUser("ann", "pw", 0)
	r.AddUser("rec", "pw", 0)
	st := startStackOn(t, r)
	out := filepath.Join(t.TempDir(), "ops.wav")
	rec := startTalk(t, st, "record", "rec", "--password", "pw", "--channel", "ops", "-v", "--out", out)
	rec.waitLine(0, reRecording)

	boss := newBrowser(t, micFile, 1280, 800)
	ann := newPhone(t, micFile)
	boss.login(st.base+"/", "boss", "pw")
	ann.login(st.base+"/", "ann", "pw")
	hidden := `document.getElementById('page').classList.contains('hidden')`
	boss.waitFor(`window.harkTest && harkTest.state().channel === 'lobby' && !` + hidden)
	ann.waitFor(`window.harkTest && harkTest.state().channel === 'lobby' && ` + hidden)
	ann.waitFor(`[...document.querySelectorAll('#users li')].map(l => l.dataset.name).join(',') === 'ann,boss,rec'`)

	// A forged page request from ann is refused with a clear error.
	ann.eval(`harkTest.send({t: 'talk', on: true, format: 'pcm', rate: 48000, page: true})`)
	ann.waitFor(`harkTest.events().some(e => e.type === 'error' && e.code === 'forbidden') && document.getElementById('banner').textContent.includes('page role')`)

	// boss holds the page button with the mouse.
	ann.eval(`harkTest.mute(); harkTest.startRecording()`) // the page's chime would be in the recording
	pos := run(boss, chromedp.Evaluate[[]float64](`(() => { const r = document.getElementById('page').getBoundingClientRect(); return [r.x + r.width/2, r.y + r.height/2]; })()`))
	run(boss, chromedp.Action[chromedp.Void](chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, pos[0], pos[1], chromedp.ButtonType(input.MouseButtonLeft), chromedp.ClickCount(1))))
	boss.waitFor(`harkTest.state().floor === 'talking' && document.getElementById('air').textContent === 'You are paging everyone' && document.getElementById('page').classList.contains('live')`)
	ann.waitFor(`document.getElementById('banner').className.includes('page') && !document.getElementById('banner').classList.contains('hidden') && document.getElementById('banner').textContent === 'boss is paging everyone' && harkTest.state().stats.recvFrames > 25`)
	ann.screenshot("phone-paging.png")
	boss.screenshot("desktop-paging.png")
	rec.waitLine(0, regexp.MustCompile(`PAGE from boss`))
	src := sourcePCM(t)
	boss.waitFor(fmt.Sprintf(`harkTest.state().stats.capSamples >= %d`, len(src)+48000/5))
	run(boss, chromedp.Action[chromedp.Void](chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, pos[0], pos[1], chromedp.ButtonType(input.MouseButtonLeft), chromedp.ClickCount(1))))
	ann.waitFor(`document.getElementById('banner').classList.contains('hidden') && harkTest.state().talkers.length === 0 && harkTest.state().stats.drained > 0`)
	i := 0
	for {
		j, m := rec.waitLine(i, reHearing)
		i = j + 1
		if strings.Contains(m[1], "boss") {
			break
		}
	}
	rec.waitLine(i, reSilence)

	// ann's page played the page. The pages' counters say which leg
	// suffered if the score is low (capture at boss, playout at ann).
	pcm := ann.stopRecording()
	t.Logf("boss's page: %s", run(boss, chromedp.Evaluate[string](`JSON.stringify(harkTest.state().stats)`)))
	t.Logf("ann's page: %s", run(ann, chromedp.Evaluate[string](`JSON.stringify(harkTest.state().stats)`)))
	t.Log("the page heard the page")
	audiotest.Judge(t, "", src, pcm, 48000, 0.8)
}

// TestBrowserClipLimit: the page learns the gateway's clip limit from the
// welcome, shows it next to the clip picker, and refuses a larger file in
// words before uploading it.
func TestBrowserClipLimit(t *testing.T) {
	needChromium(t)
	r := newFakeRelay()
	_, _, addr := startGatewayAddr(t, r, func(c *Config) { c.MaxClipBytes = 200_000 })
	big := filepath.Join(t.TempDir(), "long.wav")
	pcm := make([]int16, 150_000) // 300 kB and a header
	var buf bytes.Buffer
	if err := wav.Encode(&buf, 48000, 1, pcm); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, micFile, 1280, 800)
	b.login("http://"+addr+"/", "ann", "")
	b.waitFor(`harkTest.state().channel === 'lobby' && document.getElementById('clipLimit').textContent === ', up to 200 kB'`)
	run(b, chromedp.SetUploadFiles(chromedp.CSS("#clip"), []string{big}))
	b.waitFor(`document.getElementById('banner').textContent.includes('this intercom takes clips of up to 200 kB, and "long.wav" is 301 kB') && harkTest.events().some(e => e.type === 'clipTooLarge')`)
}

// stopRecording stops the page's output recording (harkTest.startRecording)
// and returns what the page played, 48 kHz mono.
func (b *browser) stopRecording() []int16 {
	b.t.Helper()
	got := run(b, chromedp.Evaluate[struct {
		PCM string `json:"pcm"`
	}](`harkTest.stopRecording()`, chromedp.EvalAwaitPromise))
	return decodePCM(b.t, got.PCM)
}

// decodePCM decodes base64 little-endian 16-bit samples from the page.
func decodePCM(t testing.TB, b64 string) []int16 {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, len(raw)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return pcm
}
