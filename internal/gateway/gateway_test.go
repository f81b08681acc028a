package gateway

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/internal/webm"
	"github.com/hark-intercom/hark/jitter"
	"github.com/hark-intercom/hark/proto"
)

// waitLimit only keeps a broken test from hanging; nothing is timed.
const waitLimit = 20 * time.Second

func startGateway(t *testing.T, r *fakeRelay, mod func(*Config)) (*Server, string) {
	srv, url, _ := startGatewayAddr(t, r, mod)
	return srv, url
}

func startGatewayAddr(t *testing.T, r *fakeRelay, mod func(*Config)) (*Server, string, string) {
	t.Helper()
	cfg := Config{Dialer: r, AudioQueue: 2000}
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(cfg)
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
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv, "ws://" + ln.Addr().String() + "/ws", ln.Addr().String()
}

type wsClient struct {
	t     *testing.T
	c     *websocket.Conn
	json  chan map[string]any
	audio chan []byte
	done  chan struct{}
	rerr  error // why reading ended; set before done is closed
}

// err is why the connection ended (after done is closed).
func (w *wsClient) err() error {
	<-w.done
	return w.rerr
}

func dialWS(t *testing.T, url string, login map[string]any) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	w := &wsClient{t: t, c: c, json: make(chan map[string]any, 4096), audio: make(chan []byte, 8192), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			typ, b, err := c.Read(context.Background())
			if err != nil {
				w.rerr = err
				return
			}
			if typ == websocket.MessageText {
				var m map[string]any
				if json.Unmarshal(b, &m) == nil {
					w.json <- m
				}
			} else {
				w.audio <- b
			}
		}
	}()
	t.Cleanup(func() { c.CloseNow(); <-w.done })
	if login != nil {
		w.send(login)
	}
	return w
}

func (w *wsClient) send(v any) {
	w.t.Helper()
	b, _ := json.Marshal(v)
	if err := w.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

func (w *wsClient) sendBin(b []byte) error {
	return w.c.Write(context.Background(), websocket.MessageBinary, b)
}

// expect waits for a JSON message of type typ matching pred (nil: any).
func (w *wsClient) expect(typ string, pred func(map[string]any) bool) map[string]any {
	w.t.Helper()
	timeout := time.After(waitLimit)
	for {
		select {
		case m := <-w.json:
			if m["t"] == typ && (pred == nil || pred(m)) {
				return m
			}
		case <-w.done:
			// The reader queues every message before it sees the close, but
			// select picks at random among ready cases: look at what is
			// still queued before calling the connection closed.
			for {
				select {
				case m := <-w.json:
					if m["t"] == typ && (pred == nil || pred(m)) {
						return m
					}
					continue
				default:
				}
				break
			}
			w.t.Fatalf("connection closed while waiting for %q", typ)
		case <-timeout:
			w.t.Fatalf("no %q message", typ)
		}
	}
}

// collectTransmission gathers PCM frames until one carries the end flag.
func (w *wsClient) collectTransmission() (pcm []int16, talker uint32) {
	w.t.Helper()
	timeout := time.After(waitLimit)
	for {
		select {
		case b := <-w.audio:
			if len(b) < binHeaderLen || b[0] != binPCM {
				w.t.Fatalf("unexpected binary message kind %d", b[0])
			}
			talker = binary.LittleEndian.Uint32(b[4:])
			for i := binHeaderLen; i+1 < len(b); i += 2 {
				pcm = append(pcm, int16(binary.LittleEndian.Uint16(b[i:])))
			}
			if b[1]&binFlagEnd != 0 {
				return pcm, talker
			}
		case <-timeout:
			w.t.Fatalf("transmission did not end (%d samples so far)", len(pcm))
		}
	}
}

func login(name string) map[string]any { return map[string]any{"t": "login", "name": name} }

func sourcePCM(t *testing.T) []int16 {
	t.Helper()
	a, err := wav.ReadFile("../webm/testdata/source.wav")
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := wav.ToMono48k(a)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// sendLive sends pcm as a microphone would: 20 ms every 20 ms. (Sent
// faster than real time, the voice reaches listeners' jitter buffers, the
// gateway's too, as a burst they take for a stalled network.)
func (w *wsClient) sendLive(pcm []int16) {
	tk := time.NewTicker(20 * time.Millisecond)
	defer tk.Stop()
	for i := 0; i < len(pcm); i += 960 {
		if i > 0 {
			<-tk.C
		}
		_ = w.sendBin(pcmMsg(0, pcm[i:min(i+960, len(pcm))]))
	}
}

func pcmMsg(seq uint32, pcm []int16) []byte {
	b := make([]byte, binHeaderLen+2*len(pcm))
	b[0] = binPCM
	binary.LittleEndian.PutUint32(b[4:], seq)
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[binHeaderLen+2*i:], uint16(v))
	}
	return b
}

func decodeAll(t *testing.T, frames []VoiceFrame) []int16 {
	t.Helper()
	dec, err := codec.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	var out []int16
	buf := make([]int16, codec.MaxPacketSamples)
	for _, f := range frames {
		n, err := dec.Decode(f.Opus, buf)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		out = append(out, buf[:n]...)
	}
	return out
}

// relayFrames waits for the frames of one transmission (up to the end flag).
func relayFrames(t *testing.T, r *fakeRelay) []VoiceFrame {
	t.Helper()
	var fs []VoiceFrame
	timeout := time.After(waitLimit)
	for {
		select {
		case f := <-r.sentCh:
			fs = append(fs, f)
			if f.Header.Flags&proto.FlagEnd != 0 {
				return fs
			}
		case <-timeout:
			t.Fatalf("relay saw no end of transmission (%d frames)", len(fs))
		}
	}
}

func TestLoginPresenceTextRing(t *testing.T) {
	r := newFakeRelay()
	_, url := startGateway(t, r, nil)
	a := dialWS(t, url, login("ann"))
	w := a.expect("welcome", nil)
	if w["name"] != "ann" {
		t.Fatalf("welcome %v", w)
	}
	a.expect("joined", func(m map[string]any) bool { return m["channel"] == "lobby" })
	b := dialWS(t, url, map[string]any{"t": "login", "name": "bob", "channel": "lobby"})
	b.expect("joined", nil)
	a.expect("presence", func(m map[string]any) bool { return len(m["users"].([]any)) == 2 })

	b.send(map[string]any{"t": "text", "text": "hello ann"})
	m := a.expect("text", nil)
	if m["from"] != "bob" || m["text"] != "hello ann" {
		t.Fatalf("text %v", m)
	}
	a.send(map[string]any{"t": "text", "text": "psst", "to": "bob"})
	b.expect("text", func(m map[string]any) bool { return m["to"] == "bob" && m["text"] == "psst" })
	a.send(map[string]any{"t": "ring"})
	b.expect("ring", func(m map[string]any) bool { return m["from"] == "ann" })
	a.expect("ring", nil)

	// Channel switch.
	b.send(map[string]any{"t": "join", "channel": "ops"})
	b.expect("joined", func(m map[string]any) bool { return m["channel"] == "ops" })
	b.send(map[string]any{"t": "join", "channel": "nope"})
	b.expect("error", func(m map[string]any) bool { return m["code"] == "join" })

	b.send(map[string]any{"t": "ping", "n": 7})
	b.expect("pong", func(m map[string]any) bool { return m["n"] == float64(7) })
}

func TestAuthRefused(t *testing.T) {
	r := newFakeRelay()
	r.password = "secret"
	_, url := startGateway(t, r, nil)
	a := dialWS(t, url, map[string]any{"t": "login", "name": "ann", "password": "wrong"})
	a.expect("error", func(m map[string]any) bool { return m["code"] == "auth" })
	ok := dialWS(t, url, map[string]any{"t": "login", "name": "ann", "password": "secret"})
	ok.expect("welcome", nil)
	bad := dialWS(t, url, map[string]any{"t": "hello"})
	bad.expect("error", func(m map[string]any) bool { return m["code"] == "login" })
}

// TestBrowserLoginLimit: the relay sees every browser come from the
// gateway, so the gateway limits wrong passwords per browser address and
// name: after five, even the right password waits (and the relay is not
// asked); somebody else logging in from there is not affected.
func TestBrowserLoginLimit(t *testing.T) {
	r := newFakeRelay()
	r.password = "secret"
	_, url := startGateway(t, r, nil)
	for i := 0; i < 5; i++ {
		a := dialWS(t, url, map[string]any{"t": "login", "name": "ann", "password": "wrong"})
		a.expect("error", func(m map[string]any) bool { return m["code"] == "auth" })
	}
	a := dialWS(t, url, map[string]any{"t": "login", "name": "ann", "password": "secret"})
	m := a.expect("error", func(m map[string]any) bool { return m["code"] == "ratelimit" })
	t.Log(m["text"])
	bob := dialWS(t, url, map[string]any{"t": "login", "name": "bob", "password": "secret"})
	bob.expect("welcome", nil)
}

// TestPCMPath: browser PCM frames are encoded, reach the relay, and come back
// decoded to another browser; both compared with the source.
func TestPCMPath(t *testing.T) {
	for _, rate := range []int{48000, 44100} {
		t.Run(itoa(rate), func(t *testing.T) {
			r := newFakeRelay()
			_, url := startGateway(t, r, nil)
			a := dialWS(t, url, login("ann"))
			a.expect("joined", nil)
			b := dialWS(t, url, login("bob"))
			b.expect("joined", nil)

			src := sourcePCM(t)
			in := src
			if rate != 48000 {
				var err error
				a, _ := wav.ReadFile("../webm/testdata/source.wav")
				if in, err = wav.ToMono(a, rate); err != nil {
					t.Fatal(err)
				}
			}
			a.send(map[string]any{"t": "talk", "on": true, "format": "pcm", "rate": rate})
			a.expect("floor", func(m map[string]any) bool { return m["granted"] == true })
			frame := rate / 50
			for i, seq := 0, uint32(0); i < len(in); i, seq = i+frame, seq+1 {
				if err := a.sendBin(pcmMsg(seq, in[i:min(i+frame, len(in))])); err != nil {
					t.Fatal(err)
				}
			}
			a.send(map[string]any{"t": "talk", "on": false})

			frames := relayFrames(t, r)
			for _, f := range frames[:len(frames)-1] {
				if f.Header.Duration != 960 {
					t.Fatalf("frame of %d samples, want 960", f.Header.Duration)
				}
			}
			if want := len(src) / 960; len(frames) < want {
				t.Fatalf("relay got %d frames, want at least %d", len(frames), want)
			}
			relayed := decodeAll(t, frames)
			c, lag := audiotest.EnvelopeCorrelation(src, relayed, 48000)
			t.Logf("relay side: %d frames, envelope r=%.3f lag=%v", len(frames), c, lag)
			if c < 0.9 {
				t.Fatalf("relay side envelope correlation %.3f < 0.9", c)
			}

			heard, talker := b.collectTransmission()
			t.Logf("browser side: %d samples from talker %d", len(heard), talker)
			// The clip reaches the hub faster than real time (all of it
			// sent at once): all of it must be played, not shed as
			// latency. The correlation below scores only what was played,
			// and passed when the hub kept 0.5-1.1 s of the 6.4 s.
			if len(heard) < len(src)*9/10 {
				t.Errorf("browser side: %v of audio heard, the clip is %v", time.Duration(len(heard))*time.Second/48000, time.Duration(len(src))*time.Second/48000)
			}
			audiotest.Judge(t, "browser", src, heard, 48000, 0.9)
			a.expect("talking", func(m map[string]any) bool { return m["name"] == "ann" && m["on"] == false })
		})
	}
}

func readChunks(t *testing.T) [][]byte {
	names, _ := filepath.Glob("../webm/testdata/webm-20ms.chunks/*.bin")
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatal("no WebM chunks")
	}
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// TestMediaPath: Chromium's WebM chunks are demuxed and forwarded untouched.
func TestMediaPath(t *testing.T) {
	r := newFakeRelay()
	_, url := startGateway(t, r, nil)
	a := dialWS(t, url, login("ann"))
	a.expect("joined", nil)
	b := dialWS(t, url, login("bob"))
	b.expect("joined", nil)

	chunks := readChunks(t)
	all, err := webm.NewWebM(webm.Config{}).Push(bytes.Join(chunks, nil))
	if err != nil {
		t.Fatal(err)
	}
	// Chromium's default 128 kbit/s makes a few packets larger than a
	// datagram can carry; the gateway splits those into their three 20 ms
	// frames (the page asks for less).
	var want []webm.Packet
	split := 0
	for _, p := range all {
		if len(p.Data) <= proto.MaxVoicePayload {
			want = append(want, p)
			continue
		}
		frames, per, err := codec.SplitFrames(p.Data, nil)
		if err != nil || len(frames) != 3 {
			t.Fatalf("a large packet of the recording: %d frames, %v", len(frames), err)
		}
		for _, f := range frames {
			want = append(want, webm.Packet{Data: f, Samples: per})
		}
		split++
	}
	if split == 0 {
		t.Fatal("the recording has no packet too large for a datagram (the test needs one)")
	}
	a.send(map[string]any{"t": "talk", "on": true, "format": "webm"})
	a.expect("floor", nil) // (a browser does not wait; the test sends faster than real time)
	for _, c := range chunks {
		if err := a.sendBin(append([]byte{binMedia}, c...)); err != nil {
			t.Fatal(err)
		}
	}
	a.send(map[string]any{"t": "talk", "on": false})
	frames := relayFrames(t, r)
	if len(frames) != len(want)+1 {
		t.Fatalf("relay got %d frames, want %d + the end frame", len(frames), len(want))
	}
	for i, p := range want {
		if !bytes.Equal(frames[i].Opus, p.Data) || int(frames[i].Header.Duration) != p.Samples {
			t.Fatalf("frame %d was changed (or has the wrong duration)", i)
		}
	}
	t.Logf("%d packets too large for a datagram were split into 20 ms frames", split)
	heard, _ := b.collectTransmission()
	t.Logf("MediaRecorder path: %d packets forwarded untouched", len(want))
	audiotest.Judge(t, "browser", sourcePCM(t), heard, 48000, 0.8)
}

func TestBusy(t *testing.T) {
	r := newFakeRelay()
	_, url := startGateway(t, r, nil)
	a := dialWS(t, url, login("ann"))
	a.expect("joined", nil)
	b := dialWS(t, url, login("bob"))
	b.expect("joined", nil)
	a.send(map[string]any{"t": "talk", "on": true, "format": "pcm", "rate": 48000})
	a.expect("floor", nil)
	b.expect("talking", func(m map[string]any) bool { return m["name"] == "ann" && m["on"] == true })
	b.send(map[string]any{"t": "talk", "on": true, "format": "pcm", "rate": 48000})
	m := b.expect("busy", nil)
	if m["holder"] != "ann" {
		t.Fatalf("busy %v", m)
	}
	// Audio sent while denied is dropped; the floor stays with ann.
	_ = b.sendBin(pcmMsg(0, make([]int16, 960)))
	b.send(map[string]any{"t": "talk", "on": false})
	a.send(map[string]any{"t": "talk", "on": false})
	b.expect("talking", func(m map[string]any) bool { return m["name"] == "ann" && m["on"] == false })
	b.send(map[string]any{"t": "talk", "on": true, "format": "pcm", "rate": 48000})
	b.expect("floor", func(m map[string]any) bool { return m["granted"] == true })
}

// TestOpusPath: Opus packets encoded by the page (WebCodecs) reach the relay
// untouched; a packet that is not Opus is refused with an error and does not
// end the transmission.
func TestOpusPath(t *testing.T) {
	r := newFakeRelay()
	srv, url := startGateway(t, r, nil)
	a := dialWS(t, url, login("ann"))
	a.expect("joined", nil)
	b := dialWS(t, url, login("bob"))
	b.expect("joined", nil)
	src := sourcePCM(t)
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960, FEC: true})
	if err != nil {
		t.Fatal(err)
	}
	var sent [][]byte
	a.send(map[string]any{"t": "talk", "on": true, "format": "opus"})
	a.expect("floor", nil)
	// In real time, as the page's encoder makes them (see sendLive).
	tk := time.NewTicker(20 * time.Millisecond)
	defer tk.Stop()
	for i := 0; i+960 <= len(src); i += 960 {
		if i > 0 {
			<-tk.C
		}
		sent = append(sent, sendOpus(t, a, enc, src[i:i+960]))
		if i == 960*10 {
			// Not Opus: a TOC byte announcing code-3 with no frame count.
			if err := a.sendBin([]byte{binOpus, 0, 0, 0, 0, 0, 0, 0, 0x03}); err != nil {
				t.Fatal(err)
			}
		}
	}
	a.send(map[string]any{"t": "talk", "on": false})
	if e := a.expect("error", nil); e["code"] != "opus" {
		t.Fatalf("bad packet: %v", e)
	}
	relayGot(t, r, sent)
	heard, _ := b.collectTransmission()
	t.Logf("Opus (WebCodecs) path: %d packets forwarded untouched; the gateway's jitter buffer: %+v", len(sent), hubStats(srv))
	audiotest.Judge(t, "browser", src, heard, 48000, 0.8)
}

// TestPageRole: the welcome lists the user's roles; a user with the page
// role pages, one without is refused by the gateway (the relay is not asked).
func TestPageRole(t *testing.T) {
	r := newFakeRelay()
	r.pagers = map[string]bool{"boss": true}
	_, url := startGateway(t, r, nil)
	boss := dialWS(t, url, login("boss"))
	if w := boss.expect("welcome", nil); fmt.Sprint(w["roles"]) != "[page]" {
		t.Fatalf("boss's welcome %v: want roles [page]", w)
	}
	ann := dialWS(t, url, login("ann"))
	if w := ann.expect("welcome", nil); fmt.Sprint(w["roles"]) != "[]" {
		t.Fatalf("ann's welcome %v: want roles []", w)
	}
	ann.expect("joined", nil)
	ann.send(map[string]any{"t": "talk", "on": true, "format": "pcm", "rate": 48000, "page": true})
	e := ann.expect("error", nil)
	if e["code"] != "forbidden" || !strings.Contains(e["text"].(string), "page role") {
		t.Fatalf("forged page: %v", e)
	}
	ann.expect("floor", func(m map[string]any) bool { return m["granted"] == false })

	boss.expect("joined", nil)
	boss.send(map[string]any{"t": "talk", "on": true, "format": "pcm", "rate": 48000, "page": true})
	boss.expect("floor", func(m map[string]any) bool { return m["granted"] == true })
	ann.expect("page", func(m map[string]any) bool { return m["from"] == "boss" && m["on"] == true })
	r.mu.Lock()
	pages := fmt.Sprint(r.pages)
	r.mu.Unlock()
	if pages != "[boss]" {
		t.Fatalf("the relay was asked to page by %s, want [boss]", pages)
	}
}

// TestBadInput: nothing a browser sends hurts its own session's other
// traffic or anyone else.
func TestBadInput(t *testing.T) {
	r := newFakeRelay()
	srv, url := startGateway(t, r, func(c *Config) { c.MaxClipBytes = 1 << 20 })
	a := dialWS(t, url, login("ann"))
	a.expect("joined", nil)
	b := dialWS(t, url, login("bob"))
	b.expect("joined", nil)
	alive := func(w *wsClient, n int) {
		w.t.Helper()
		w.send(map[string]any{"t": "ping", "n": n})
		w.expect("pong", func(m map[string]any) bool { return m["n"] == float64(n) })
	}

	// JSON that is not ours.
	a.send(map[string]any{"t": "hack", "x": 1})
	a.expect("error", func(m map[string]any) bool { return m["code"] == "json" })
	if err := a.c.Write(context.Background(), websocket.MessageText, []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	a.expect("error", func(m map[string]any) bool { return m["code"] == "json" })
	alive(a, 1)

	// Garbage and truncated WebM.
	a.send(map[string]any{"t": "talk", "on": true, "format": "webm"})
	_ = a.sendBin(append([]byte{binMedia}, []byte("this is not a webm file at all")...))
	a.expect("error", func(m map[string]any) bool { return m["code"] == "format" })
	a.send(map[string]any{"t": "talk", "on": false})
	chunks := readChunks(t)
	a.send(map[string]any{"t": "talk", "on": true, "format": "webm"})
	for _, c := range chunks[:5] {
		_ = a.sendBin(append([]byte{binMedia}, c...))
	}
	_ = a.sendBin(append([]byte{binMedia}, 0xA3, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0)) // huge block
	a.expect("error", func(m map[string]any) bool { return m["code"] == "format" })
	a.send(map[string]any{"t": "talk", "on": false})
	alive(a, 2)

	// A WAV whose header lies about its size, and one that is not a WAV.
	var buf bytes.Buffer
	_ = wav.Encode(&buf, 16000, 1, make([]int16, 1600))
	lying := buf.Bytes()
	binary.LittleEndian.PutUint32(lying[40:], 0x7FFFFFF0) // data size far beyond the file
	_ = a.sendBin(append([]byte{binWAV}, lying...))
	a.expect("clip", nil) // accepted as truncated: 0.1 s is sent
	_ = a.sendBin(append([]byte{binWAV}, []byte("RIFF....WAVEjunk")...))
	a.expect("error", func(m map[string]any) bool { return m["code"] == "wav" })
	// An oversized PCM message is refused, the session goes on.
	_ = a.sendBin(append([]byte{binPCM}, make([]byte, 100<<10)...))
	a.expect("error", func(m map[string]any) bool { return m["code"] == "size" })
	alive(a, 3)

	// A 100 MB message: that session is closed, the other one is fine.
	big := make([]byte, 100<<20)
	big[0] = binWAV
	_ = a.sendBin(big)
	select {
	case <-a.done:
	case <-time.After(waitLimit):
		t.Fatal("a 100 MB message did not close the session")
	}
	b.expect("user", func(m map[string]any) bool {
		return m["kind"] == "offline" && m["user"].(map[string]any)["name"] == "ann"
	})
	alive(b, 4)
	_ = srv
}

// TestClip: a WAV clip at 16 kHz is resampled, encoded and paced.
func TestClip(t *testing.T) {
	r := newFakeRelay()
	_, url := startGateway(t, r, nil)
	a := dialWS(t, url, login("ann"))
	a.expect("joined", nil)
	b := dialWS(t, url, login("bob"))
	b.expect("joined", nil)
	src := sourcePCM(t)[:48000*2]
	var buf bytes.Buffer
	if err := wav.EncodeFrom(&buf, wav.Format{Rate: 16000, Channels: 2, Bits: 16}, src, 48000); err != nil {
		t.Fatal(err)
	}
	_ = a.sendBin(append([]byte{binWAV}, buf.Bytes()...))
	frames := relayFrames(t, r)
	if len(frames) < 100 {
		t.Fatalf("clip: %d frames, want 100 (2 s)", len(frames))
	}
	a.expect("clip", nil)
	heard, _ := b.collectTransmission()
	t.Logf("clip: %d frames", len(frames))
	audiotest.Judge(t, "browser", src, heard, 48000, 0.9)
}

// TestWAVPlayback: a browser asking for WAV gets one blob per transmission.
func TestWAVPlayback(t *testing.T) {
	r := newFakeRelay()
	_, url := startGateway(t, r, nil)
	a := dialWS(t, url, login("ann"))
	a.expect("joined", nil)
	b := dialWS(t, url, map[string]any{"t": "login", "name": "bob", "playback": "wav"})
	b.expect("joined", nil)
	src := sourcePCM(t)
	a.send(map[string]any{"t": "talk", "on": true, "format": "pcm", "rate": 48000})
	a.sendLive(src)
	a.send(map[string]any{"t": "talk", "on": false})
	select {
	case m := <-b.audio:
		if m[0] != binWAV {
			t.Fatalf("kind %d, want WAV", m[0])
		}
		au, err := wav.Decode(bytes.NewReader(m[binHeaderLen:]))
		if err != nil {
			t.Fatal(err)
		}
		pcm, _ := wav.ToMono48k(au)
		c, _ := audiotest.EnvelopeCorrelation(src, pcm, 48000)
		t.Logf("WAV blob: %.2f s of %.2f s sent, r=%.3f", au.Duration().Seconds(), float64(len(src))/48000, c)
		if c < 0.9 {
			t.Fatalf("correlation %.3f", c)
		}
	case <-time.After(waitLimit):
		t.Fatal("no WAV blob")
	}
}

func TestServesPage(t *testing.T) {
	r := newFakeRelay()
	_, _, addr := startGatewayAddr(t, r, nil)
	for _, p := range []string{"/", "/app.js", "/play-worklet.js", "/capture-worklet.js", "/style.css"} {
		resp, err := http.Get("http://" + addr + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", p, resp.Status)
		}
	}
}

// hubStats returns the jitter buffer counters of srv's channel hubs.
func hubStats(srv *Server) jitter.Stats {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	var js jitter.Stats
	for _, h := range srv.hubs {
		js = h.mix.Stats().Jitter
	}
	return js
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestDecodeOnce: two browsers listening in one channel cost one decode per frame.
func TestDecodeOnce(t *testing.T) {
	r := newFakeRelay()
	srv, url := startGateway(t, r, nil)
	a := dialWS(t, url, login("ann"))
	a.expect("joined", nil)
	b := dialWS(t, url, login("bob"))
	b.expect("joined", nil)
	c := dialWS(t, url, login("cat"))
	c.expect("joined", nil)
	src := sourcePCM(t)[:48000]
	a.send(map[string]any{"t": "talk", "on": true, "format": "pcm", "rate": 48000})
	a.expect("floor", nil)
	a.sendLive(src)
	a.send(map[string]any{"t": "talk", "on": false})
	frames := relayFrames(t, r)
	pb, _ := b.collectTransmission()
	pc, _ := c.collectTransmission()
	t.Logf("the gateway's jitter buffer: %+v", hubStats(srv))
	// Both hear the one stream the hub decoded. (How much of what was
	// sent is heard depends on how the sender, fake relay and gateway,
	// all in this process, kept time: the gateway's jitter buffer treats
	// their stalls on a busy machine as network jitter.)
	if !slices.Equal(pb, pc) || len(pb) < len(src)/2 {
		t.Fatalf("bob heard %d samples, cat %d (the same: %v), sent %d", len(pb), len(pc), slices.Equal(pb, pc), len(src))
	}
	// Each frame reached the hub twice (through bob's and cat's relay
	// sessions) and went to the jitter buffer once: played, and decoded
	// then, or (on a busy machine) late or dropped to catch up.
	dec, dup := counterValue(t, srv.m.decoded), counterValue(t, srv.m.voiceDup)
	js := hubStats(srv)
	t.Logf("%d frames: decoded %v, duplicates dropped %v, jitter buffer played %d, late %d, dropped %d",
		len(frames), dec, dup, js.Played, js.Late, js.Dropped)
	if dup != float64(len(frames)) || js.Received != uint64(len(frames)) || dec != float64(js.Played) ||
		js.Played+js.Late+js.Dropped != uint64(len(frames)) {
		t.Fatalf("decoded %v and dropped %v duplicates of %d frames (the jitter buffer got %d, played %d, late %d, dropped %d); want each frame decoded once",
			dec, dup, len(frames), js.Received, js.Played, js.Late, js.Dropped)
	}
}

// TestOggPath: Firefox-style Ogg/Opus is demuxed and forwarded untouched.
func TestOggPath(t *testing.T) {
	r := newFakeRelay()
	_, url := startGateway(t, r, nil)
	a := dialWS(t, url, login("ann"))
	a.expect("joined", nil)
	ogg, err := os.ReadFile("../webm/testdata/ffmpeg-20ms.ogg")
	if err != nil {
		t.Fatal(err)
	}
	want, err := webm.NewOgg(webm.Config{}).Push(ogg)
	if err != nil {
		t.Fatal(err)
	}
	a.send(map[string]any{"t": "talk", "on": true, "format": "ogg"})
	a.expect("floor", nil)
	for i := 0; i < len(ogg); i += 500 {
		_ = a.sendBin(append([]byte{binMedia}, ogg[i:min(i+500, len(ogg))]...))
	}
	a.send(map[string]any{"t": "talk", "on": false})
	frames := relayFrames(t, r)
	if len(frames) != len(want)+1 {
		t.Fatalf("relay got %d frames, want %d + end", len(frames), len(want))
	}
	for i, p := range want {
		if !bytes.Equal(frames[i].Opus, p.Data) || frames[i].Header.Duration != 960 {
			t.Fatalf("frame %d changed", i)
		}
	}
}

// TestMP4Path: Safari's fragmented MP4 with Opus (here WebKitGTK's
// recording) is demuxed and forwarded untouched; its AAC recording is
// refused with a sentence for a person, and counted.
func TestMP4Path(t *testing.T) {
	r := newFakeRelay()
	srv, url := startGateway(t, r, nil)
	a := dialWS(t, url, login("ann"))
	a.expect("joined", nil)
	mp4, err := os.ReadFile("../webm/testdata/webkit-opus.mp4")
	if err != nil {
		t.Fatal(err)
	}
	want, err := webm.NewMP4(webm.Config{}).Push(mp4)
	if err != nil {
		t.Fatal(err)
	}
	a.send(map[string]any{"t": "talk", "on": true, "format": "mp4"})
	a.expect("floor", nil)
	for i := 0; i < len(mp4); i += 700 {
		_ = a.sendBin(append([]byte{binMedia}, mp4[i:min(i+700, len(mp4))]...))
	}
	a.send(map[string]any{"t": "talk", "on": false})
	frames := relayFrames(t, r)
	if len(frames) != len(want)+1 {
		t.Fatalf("relay got %d frames, want %d + end", len(frames), len(want))
	}
	for i, p := range want {
		if !bytes.Equal(frames[i].Opus, p.Data) || frames[i].Header.Duration != 960 {
			t.Fatalf("frame %d changed", i)
		}
	}

	aac, err := os.ReadFile("../webm/testdata/webkit-aac.mp4")
	if err != nil {
		t.Fatal(err)
	}
	a.send(map[string]any{"t": "talk", "on": true, "format": "mp4"})
	a.expect("floor", nil)
	_ = a.sendBin(append([]byte{binMedia}, aac[:2000]...))
	a.expect("error", func(m map[string]any) bool {
		text, _ := m["text"].(string)
		return strings.Contains(text, "does not decode AAC")
	})
	if v := counterValue(t, srv.m.badInput.WithLabelValues("media")); v != 1 {
		t.Errorf("bad media counted %v times, want 1", v)
	}
}

// TestNoLeaks: after Close, every goroutine of the gateway and its sessions is gone.
func TestNoLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	r := newFakeRelay()
	srv, err := New(Config{Dialer: r})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), ln) }()
	url := "ws://" + ln.Addr().String() + "/ws"
	ctx := context.Background()
	for _, name := range []string{"ann", "bob"} {
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(login(name))
		_ = c.Write(ctx, websocket.MessageText, b)
		if _, _, err := c.Read(ctx); err != nil { // welcome
			t.Fatal(err)
		}
		b, _ = json.Marshal(map[string]any{"t": "talk", "on": true, "format": "webm"})
		_ = c.Write(ctx, websocket.MessageText, b)
		defer c.CloseNow()
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	limit := time.After(waitLimit)
	for runtime.NumGoroutine() > before+1 { // +1: the test's websocket clients may linger until CloseNow
		select {
		case <-tick.C:
		case <-limit:
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left (before: %d):\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
	}
}

// TestShortPressHeard: the floor policy (client.Floor) through the
// gateway: what the browser sent before the relay granted the floor is
// held and sent on the grant, also when the button was released before
// the grant; then the transmission ends and the page is told.
func TestShortPressHeard(t *testing.T) {
	r := newFakeRelay()
	r.talkGate = make(chan struct{})
	_, url := startGateway(t, r, nil)
	a := dialWS(t, url, login("ann"))
	a.expect("joined", nil)
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960})
	if err != nil {
		t.Fatal(err)
	}
	src := sourcePCM(t)
	a.send(map[string]any{"t": "talk", "on": true, "format": "opus"})
	var sent [][]byte
	for i := range 5 {
		sent = append(sent, sendOpus(t, a, enc, src[i*960:(i+1)*960]))
	}
	a.send(map[string]any{"t": "talk", "on": false})
	a.send(map[string]any{"t": "ping"})
	a.expect("pong", nil) // the gateway has handled the press, the audio and the release
	close(r.talkGate)     // the grant comes after the release
	a.expect("floor", func(m map[string]any) bool { return m["granted"] == true && m["state"] == "idle" })
	relayGot(t, r, sent)
}

// sendOpus encodes pcm and sends it as the page's WebCodecs path does; it
// returns the packet.
func sendOpus(t *testing.T, a *wsClient, enc *codec.Encoder, pcm []int16) []byte {
	t.Helper()
	pkt, err := enc.Encode(pcm, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := append(make([]byte, binHeaderLen), pkt...)
	msg[0] = binOpus
	if err := a.sendBin(msg); err != nil {
		t.Fatal(err)
	}
	return pkt
}

// TestPressAgainBeforeTheAnswer: released and pressed again before the
// relay answered, the page keeps its one request: on the grant both
// presses' audio goes out in order, and the transmission stays on the air
// until the second release.
func TestPressAgainBeforeTheAnswer(t *testing.T) {
	r := newFakeRelay()
	r.talkGate = make(chan struct{})
	_, url := startGateway(t, r, nil)
	a := dialWS(t, url, login("ann"))
	a.expect("joined", nil)
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960})
	if err != nil {
		t.Fatal(err)
	}
	src := sourcePCM(t)
	var sent [][]byte
	for press := range 2 {
		a.send(map[string]any{"t": "talk", "on": true, "format": "opus"})
		for i := range 3 {
			sent = append(sent, sendOpus(t, a, enc, src[(press*3+i)*960:(press*3+i+1)*960]))
		}
		if press == 0 {
			a.send(map[string]any{"t": "talk", "on": false})
		}
	}
	a.send(map[string]any{"t": "ping"})
	a.expect("pong", nil)
	close(r.talkGate)
	a.expect("floor", func(m map[string]any) bool { return m["granted"] == true && m["state"] == "talking" })
	a.send(map[string]any{"t": "talk", "on": false})
	relayGot(t, r, sent)
}

// TestBusyPressStillHears: a page that pressed into a busy floor (and
// holds the button) still hears the talker: only a press on the air
// keeps a page from hearing the channel.
func TestBusyPressStillHears(t *testing.T) {
	r := newFakeRelay()
	_, url := startGateway(t, r, nil)
	a := dialWS(t, url, login("ann"))
	a.expect("joined", nil)
	b := dialWS(t, url, login("bob"))
	b.expect("joined", nil)
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960})
	if err != nil {
		t.Fatal(err)
	}
	b.send(map[string]any{"t": "talk", "on": true, "format": "opus"})
	b.expect("floor", func(m map[string]any) bool { return m["granted"] == true })
	a.send(map[string]any{"t": "talk", "on": true, "format": "opus"})
	a.expect("busy", func(m map[string]any) bool { return m["holder"] == "bob" })
	src := sourcePCM(t)
	tk := time.NewTicker(20 * time.Millisecond)
	defer tk.Stop()
	for i := range 50 { // 1 s, in real time
		sendOpus(t, b, enc, src[i*960:(i+1)*960])
		<-tk.C
	}
	b.send(map[string]any{"t": "talk", "on": false})
	heard, _ := a.collectTransmission()
	if len(heard) < 48000/2 {
		t.Fatalf("ann, holding a busy button, heard %d samples of bob's second", len(heard))
	}
}

// relayGot checks that the relay got the Opus packets sent, in order and
// unchanged (20 ms each), then the end frame.
func relayGot(t *testing.T, r *fakeRelay, sent [][]byte) {
	t.Helper()
	frames := relayFrames(t, r)
	if len(frames) != len(sent)+1 {
		t.Fatalf("relay got %d frames, want the %d sent + the end frame", len(frames), len(sent))
	}
	for i, p := range sent {
		if !bytes.Equal(frames[i].Opus, p) || frames[i].Header.Duration != 960 {
			t.Fatalf("frame %d was changed or is out of order", i)
		}
	}
}
