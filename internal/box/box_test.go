package box

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audio"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/engine"
	"github.com/hark-intercom/hark/internal/gpio"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
# a box
relay = intercom.lan
user = frontdoor
password-file = /etc/hark/password
frame = 10ms
mute = join, leave
ptt-evdev = "USB Foot Switch"  # a comment
ptt-evdev-key = BTN_0
ptt-gpio-line = GPIO17
ptt-gpio-bias = pull-down
ptt-gpio-active-low = no
ptt-gpio-debounce = 15ms
led-connected = GPIO5
led-ring = GPIO19
ring-led-for = 30s
vad = yes
vad-preroll = 300ms
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Relay != "intercom.lan" || cfg.User != "frontdoor" || cfg.FrameSamples != 480 ||
		!cfg.Mute.Has(engine.CueJoin) || cfg.Mute.Has(engine.CueRing) ||
		cfg.EvdevDevice != "USB Foot Switch" || cfg.EvdevKey != "BTN_0" || cfg.ButtonLine != "GPIO17" ||
		cfg.Button.Bias != gpio.BiasPullDown || cfg.Button.ActiveLow || cfg.Button.Debounce != 15*time.Millisecond ||
		cfg.RingFor != 30*time.Second || !cfg.VAD || cfg.VADPreRoll != 300*time.Millisecond {
		t.Errorf("parsed %+v", cfg)
	}
	lines, idx := cfg.leds()
	if strings.Join(lines, ",") != "GPIO5,GPIO19" || idx != [numLEDs]int{0, -1, -1, 1} {
		t.Errorf("leds %v %v", lines, idx)
	}

	for _, bad := range []struct{ text, want string }{
		{"relay = x\nuser = y\n", "no push-to-talk input"},
		{"user = y\nvad = yes\n", "relay is not set"},
		{"relay = x\nuser = y\nvad = yes\nbuton = 3\n", "line 4: buton: unknown setting"},
		{"relay = x\nrelay = y\n", "line 2: relay is already set on line 1"},
		{"relay x\n", "line 1: expected key = value"},
		{"relay = x\nuser = y\nvad = maybe\n", `line 3: vad: "maybe" is not yes or no`},
		{"relay = x\nuser = y\nvad = yes\nframe = 30ms\n", "use 20ms or 10ms"},
		{"relay = x\nuser = y\nvad = yes\nmute = bell\n", `unknown sound "bell"`},
	} {
		_, err := ParseConfig([]byte(bad.text))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want %q", bad.text, err, bad.want)
		}
	}
}

func TestDeployExampleParses(t *testing.T) {
	if _, err := LoadConfig(filepath.Join("..", "deploy", "box.conf")); err != nil {
		t.Fatal(err)
	}
}

// fakeLEDs records the LED lines' values.
type fakeLEDs struct {
	mu     sync.Mutex
	values uint64
	change chan struct{} // capacity 1
}

func (f *fakeLEDs) SetValues(values, mask uint64) error {
	f.mu.Lock()
	f.values = f.values&^mask | values&mask
	f.mu.Unlock()
	select {
	case f.change <- struct{}{}:
	default:
	}
	return nil
}

// waitFor waits until ok holds for the LED values.
func (f *fakeLEDs) waitFor(t *testing.T, what string, ok func(v uint64) bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		f.mu.Lock()
		v := f.values
		f.mu.Unlock()
		if ok(v) {
			return
		}
		select {
		case <-f.change:
		case <-timeout:
			t.Fatalf("the LEDs never showed %s (values %04b)", what, v)
		}
	}
}

// fakeButton is a push-to-talk source the test presses.
type fakeButton struct{ press chan bool }

func (b *fakeButton) Run(ctx context.Context, set func(bool)) error {
	pressed := false
	for {
		select {
		case <-ctx.Done():
			if pressed {
				set(false)
			}
			return nil
		case p := <-b.press:
			if p != pressed {
				pressed = p
				set(p)
			}
		}
	}
}

func TestBoxTalksRingsAndLights(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	bob := r.Dial(t, "bob", "")
	bob.Join(t, "lobby")

	cfg, err := ParseConfig([]byte("relay = " + r.Addr + "\nuser = door\nfingerprint = " + r.Fingerprint +
		"\nlog-level = debug\nvad = yes\nled-connected = 1\nled-talking = 2\nled-receiving = 3\nled-ring = 4\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.KnownRelaysFile = filepath.Join(t.TempDir(), "known")
	capt, err := audio.NewCapture(audio.CaptureConfig{Options: audio.Options{Backend: "null"}})
	if err != nil {
		t.Fatal(err)
	}
	leds := &fakeLEDs{change: make(chan struct{}, 1)}
	button := &fakeButton{press: make(chan bool)}
	logs := &logBuffer{change: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, Deps{
			Capture: capt,
			Playback: func(fill audio.FillFunc) (audio.Device, error) {
				return audio.NewPlayback(audio.PlaybackConfig{Options: audio.Options{Backend: "null"}, Fill: fill})
			},
			PTT:  button,
			LEDs: leds,
			Out:  logs,
		})
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
	}
	defer stop()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})

	const connected, talking, ring = 1 << 0, 1 << 1, 1 << 3
	// The connected LED blinks while connecting: wait for the log line.
	logs.waitFor(t, "msg=connected relay=")
	leds.waitFor(t, "connected", func(v uint64) bool { return v&connected != 0 })
	relaytest.Wait(t, bob, func(m *proto.PresenceChange) bool { return m.User.Name == "door" })

	button.press <- true
	logs.waitFor(t, "msg=talking")
	leds.waitFor(t, "talking", func(v uint64) bool { return v&talking != 0 })
	relaytest.Wait(t, bob, func(m *proto.Talking) bool { return m.Name == "door" && m.Talking })
	h, _ := bob.RecvVoice(t)
	if h.Flags&proto.FlagStart == 0 {
		t.Errorf("first voice frame without the start flag: %+v", h)
	}
	button.press <- false
	leds.waitFor(t, "not talking", func(v uint64) bool { return v&talking == 0 })
	relaytest.Wait(t, bob, func(m *proto.Talking) bool { return m.Name == "door" && !m.Talking })

	bob.MustSend(t, &proto.Ring{Text: "visitor"})
	leds.waitFor(t, "ring", func(v uint64) bool { return v&ring != 0 })

	stop()
	leds.waitFor(t, "all off", func(v uint64) bool { return v == 0 })
	out := logs.String()
	for _, want := range []string{"box started", "connected", "talking", "stopped talking", "ring", "visitor"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
	checkNoLeaks(t)
}

// TestBoxRetriesRefusedLogin: a refused login (no such user yet) is retried
// until the administrator adds the user.
func TestBoxRetriesRefusedLogin(t *testing.T) {
	r := relaytest.Start(t)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig([]byte("relay = " + r.Addr + "\nuser = door\nfingerprint = " + r.Fingerprint +
		"\npassword-file = " + pw + "\nvad = yes\nled-connected = 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.KnownRelaysFile = filepath.Join(t.TempDir(), "known")
	leds := &fakeLEDs{change: make(chan struct{}, 1)}
	refused := make(chan struct{})
	var once sync.Once
	deps := nullAudio(t, Deps{
		PTT:    &fakeButton{press: make(chan bool)},
		LEDs:   leds,
		Client: func(c *client.Config) { c.MinBackoff = 20 * time.Millisecond },
		Out:    signalWriter{"cannot log in", func() { once.Do(func() { close(refused) }) }},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, deps) }()
	select {
	case <-refused:
	case <-time.After(10 * time.Second):
		t.Fatal("the refused login was not logged")
	}
	r.AddUser("door", "secret", 0)
	leds.waitFor(t, "connected", func(v uint64) bool { return v&1 != 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkNoLeaks(t)
}

// logBuffer collects the box's log and signals each write.
type logBuffer struct {
	mu     sync.Mutex
	b      strings.Builder // guarded by mu
	change chan struct{}   // capacity 1
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b.Write(p)
	l.mu.Unlock()
	select {
	case l.change <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor waits until the log contains s.
func (l *logBuffer) waitFor(t *testing.T, s string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for !strings.Contains(l.String(), s) {
		select {
		case <-l.change:
		case <-timeout:
			t.Fatalf("the log never said %q", s)
		}
	}
}

// signalWriter calls f when a write contains s.
type signalWriter struct {
	s string
	f func()
}

func (w signalWriter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.s) {
		w.f()
	}
	return len(p), nil
}

// checkNoLeaks fails t if goroutines of the box or engine are still running
// after up to 5 s.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tk := time.NewTicker(10 * time.Millisecond)
	defer tk.Stop()
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "internal/box.") && !strings.Contains(g, "box.checkNoLeaks") && !strings.Contains(g, "testing.tRunner") ||
				strings.Contains(g, "engine.(*Engine)") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines leaked:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		<-tk.C
	}
}

// TestBoxReplacedWaits: a login with the box's name elsewhere takes over its
// session (two boxes configured with one name). The box says so and waits
// before taking it back, longer each time, instead of the two replacing
// each other in a tight loop.
// (With accounts: in open mode the relay refuses a name that is online.)
func TestBoxReplacedWaits(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("door", "pw", 0)
	cfg, err := ParseConfig([]byte("relay = " + r.Addr + "\nuser = door\npassword = pw\nfingerprint = " + r.Fingerprint + "\nvad = yes\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.KnownRelaysFile = filepath.Join(t.TempDir(), "known")
	logs := &logBuffer{change: make(chan struct{}, 1)}
	deps := nullAudio(t, Deps{
		PTT:    &fakeButton{press: make(chan bool)},
		Client: func(c *client.Config) { c.MinBackoff = 20 * time.Millisecond },
		Out:    logs,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, deps) }()
	const took = "took over this box's session"
	for i := 1; i <= 3; i++ {
		for strings.Count(logs.String(), "msg=connected relay=") < i {
			select {
			case <-logs.change:
			case <-time.After(10 * time.Second):
				t.Fatalf("the box did not log in a %d. time", i)
			}
		}
		other := r.Dial(t, "door", "pw") // takes the name over
		for strings.Count(logs.String(), took) < i {
			select {
			case <-logs.change:
			case <-time.After(10 * time.Second):
				t.Fatalf("replacement %d was not logged:\n%s", i, logs.String())
			}
		}
		other.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var waits []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, took) {
			_, w, _ := strings.Cut(line, " in=")
			waits = append(waits, w)
		}
	}
	t.Logf("waits before logging in again: %v", waits)
	if len(waits) != 3 || waits[0] != "20ms" || waits[1] != "40ms" || waits[2] != "80ms" {
		t.Errorf("waits %v, want 20ms 40ms 80ms (doubling while sessions end soon)", waits)
	}
	checkNoLeaks(t)
}

// nullAudio gives d miniaudio's null capture and playback devices.
func nullAudio(t *testing.T, d Deps) Deps {
	t.Helper()
	capt, err := audio.NewCapture(audio.CaptureConfig{Options: audio.Options{Backend: "null"}})
	if err != nil {
		t.Fatal(err)
	}
	d.Capture = capt
	d.Playback = func(fill audio.FillFunc) (audio.Device, error) {
		return audio.NewPlayback(audio.PlaybackConfig{Options: audio.Options{Backend: "null"}, Fill: fill})
	}
	return d
}

// TestBoxAlarmAndPageButton: an alarm blinks the ring LED until the talk
// button acknowledges it; the page button pages every channel.
func TestBoxAlarmAndPageButton(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	bob := r.Dial(t, "bob", "")
	bob.Join(t, "lobby")
	cfg, err := ParseConfig([]byte("relay = " + r.Addr + "\nuser = door\nfingerprint = " + r.Fingerprint +
		"\nvad = yes\nled-ring = 4\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.KnownRelaysFile = filepath.Join(t.TempDir(), "known")
	leds := &fakeLEDs{change: make(chan struct{}, 1)}
	button := &fakeButton{press: make(chan bool)}
	page := &fakeButton{press: make(chan bool)}
	logs := &logBuffer{change: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, nullAudio(t, Deps{PTT: button, Page: page, LEDs: leds, Out: logs})) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})
	logs.waitFor(t, "msg=connected relay=")

	bob.MustSend(t, &proto.Ring{Text: "fire", Flags: proto.RingAlarm})
	logs.waitFor(t, "ALARM")
	leds.waitFor(t, "alarm", func(v uint64) bool { return v&1 != 0 })
	button.press <- true
	ack := relaytest.Wait(t, bob, func(m *proto.AlarmAck) bool { return m.Name == "door" })
	if !ack.Over {
		t.Errorf("door was the only station: %+v", ack)
	}
	button.press <- false
	leds.waitFor(t, "alarm off", func(v uint64) bool { return v&1 == 0 })
	relaytest.Wait(t, bob, func(m *proto.Talking) bool { return m.Name == "door" && !m.Talking })

	page.press <- true
	relaytest.Wait(t, bob, func(m *proto.Page) bool { return m.FromName == "door" && m.Active })
	page.press <- false
	relaytest.Wait(t, bob, func(m *proto.Page) bool { return m.FromName == "door" && !m.Active })
}
