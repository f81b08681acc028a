package engine

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audio"
	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// station is an engine connected to a test relay through the client
// library, playing on miniaudio's null backend.
type station struct {
	e      *Engine
	c      *client.Client
	states chan State
	done   chan error
	cancel context.CancelFunc
}

type stationConfig struct {
	name       string
	channel    string
	frame      int
	capture    audio.Input // nil: the null backend's capture (silence)
	mute       CueSet
	onVoice    func(h proto.VoiceHeader, opus []byte, at time.Time)
	lowLatency bool // Config.LowLatency
	// wallClock plays on wallPlayback instead of the null backend.
	wallClock bool
	onPlay    func(at time.Time, p []int16) // sees every played period, on the audio thread
	// preRoll sets Config.PreRoll; onCapture (or a no-op) keeps the
	// capture running while idle, as voice activation does.
	preRoll   time.Duration
	onCapture func(p []int16)
}

func nullOpts() audio.Options { return audio.Options{Backend: "null"} }

func startStation(t testing.TB, r *relaytest.Relay, sc stationConfig) *station {
	t.Helper()
	capt := sc.capture
	if capt == nil {
		c, err := audio.NewCapture(audio.CaptureConfig{Options: nullOpts()})
		if err != nil {
			t.Fatal(err)
		}
		capt = c
	}
	s := &station{states: make(chan State, 1000), done: make(chan error, 1)}
	e, err := New(Config{
		LowLatency:   sc.lowLatency,
		FrameSamples: sc.frame,
		PreRoll:      sc.preRoll,
		OnCapture:    sc.onCapture,
		Capture:      capt,
		Mute:         sc.mute,
		Playback: func(fill audio.FillFunc) (audio.Device, error) {
			if sc.wallClock {
				return newWallPlayback(fill, sc.onPlay), nil
			}
			f := fill
			var pb *audio.Playback // set before the device starts
			if sc.onPlay != nil {
				var next time.Time // audio goroutine only
				f = func(out []int16) int {
					// When the period being filled will be heard (the
					// device's own estimate: the wait for the callback
					// that takes it, what is queued before it, one
					// period of device buffer).
					at := time.Now().Add(pb.OutputDelay())
					n := fill(out)
					if at.Before(next) {
						at = next
					}
					next = at.Add(period)
					sc.onPlay(at, out)
					return n
				}
			}
			p, err := audio.NewPlayback(audio.PlaybackConfig{Options: nullOpts(), Fill: f})
			pb = p
			return p, err
		},
		OnState: func(st State) {
			select {
			case s.states <- st:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.e = e
	c, err := client.Dial(testCtx(t), client.Config{
		Relay: r.Addr, Name: sc.name, Channel: sc.channel, Fingerprint: r.Fingerprint,
		KnownRelaysFile: filepath.Join(t.TempDir(), "known"),
		OnVoice: func(h proto.VoiceHeader, opus []byte, at time.Time) {
			if sc.onVoice != nil {
				sc.onVoice(h, opus, at)
			}
			e.Voice(h, opus, at)
		},
		OnEvent: e.Event,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.c = c
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	done := s.done
	go func() { done <- e.Run(ctx, ClientFloor(c)) }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *station) stop(t testing.TB) {
	s.cancel()
	if s.done != nil {
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
		s.done = nil
	}
	s.c.Close()
}

// pollUntil polls cond (every 10 ms: counters change without an event to
// wait for) until it holds, for at most 10 s, a safety net and not a
// measurement; it returns either way and the caller checks what it waited
// for.
func pollUntil(t testing.TB, cond func() bool) {
	t.Helper()
	tk := time.NewTicker(10 * time.Millisecond)
	defer tk.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tk.C:
		case <-deadline:
			return
		}
	}
}

func (s *station) waitState(t testing.TB, what string, ok func(State) bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case st := <-s.states:
			if ok(st) {
				return
			}
		case <-timeout:
			t.Fatalf("never reached state %q (now %v)", what, s.e.State())
		}
	}
}

// TestThroughRelay runs two engines on the null backend through a real
// relay: alice holds the talk key with a tone on her microphone, bob hears it.
func TestThroughRelay(t *testing.T) {
	for _, frame := range []int{480, 960} {
		t.Run(time.Duration(frame*int(time.Second)/48000).String(), func(t *testing.T) {
			r := relaytest.Start(t, relaytest.Open())
			heard := make(chan struct{})
			var once sync.Once
			bob := startStation(t, r, stationConfig{name: "bob", frame: frame,
				onPlay: func(_ time.Time, p []int16) {
					if energy(p) > 1e9 { // a tone, not cues (bob plays none here) nor silence
						once.Do(func() { close(heard) })
					}
				}})
			alice := startStation(t, r, stationConfig{name: "alice", frame: frame,
				capture: newRealtimeCapture(sine)})
			alice.e.Press(true)
			alice.waitState(t, "talking", func(s State) bool { return s.Talking })
			bob.waitState(t, "receiving", func(s State) bool { return s.Receiving })
			select {
			case <-heard:
			case <-time.After(10 * time.Second):
				t.Fatal("bob never heard alice's tone")
			}
			alice.e.Press(false)
			bob.waitState(t, "quiet", func(s State) bool { return !s.Receiving })
			alice.stop(t)
			bob.stop(t)
			checkNoLeaks(t)
		})
	}
}

// TestPreRollThroughRelay sends a transmission that starts with 240 ms of
// pre-roll (twelve frames at once) through a real relay: every frame
// arrives and is played, none is dropped as late, by the relay's rate
// limit or by either side's queues.
func TestPreRollThroughRelay(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	bob := startStation(t, r, stationConfig{name: "bob", frame: 960, mute: AllCues})
	captured := make(chan struct{}, 1000)
	alice := startStation(t, r, stationConfig{name: "alice", frame: 960, mute: AllCues,
		capture: newRealtimeCapture(sine), preRoll: 250 * time.Millisecond,
		onCapture: func([]int16) { captured <- struct{}{} }})
	for range 40 { // 400 ms of tone before the press
		<-captured
	}
	alice.e.Press(true)
	alice.waitState(t, "talking", func(s State) bool { return s.Talking })
	bob.waitState(t, "receiving", func(s State) bool { return s.Receiving })
	for range 100 { // a second of live tone
		<-captured
	}
	alice.e.Press(false)
	alice.waitState(t, "idle", func(s State) bool { return !s.Talking })
	alice.stop(t) // her transmission has ended: FramesSent is final
	a := alice.e.Stats()
	// Bob going quiet does not mean he has everything: a frame held up
	// for more than 100 ms (a busy machine) makes him quiet too. Wait
	// for the frames themselves (+1: the end-of-transmission frame the
	// client adds); a missing one fails below.
	pollUntil(t, func() bool { return bob.e.Stats().Playout.Jitter.Received >= a.FramesSent+1 })
	bob.waitState(t, "quiet", func(s State) bool { return !s.Receiving })
	bob.stop(t)
	b := bob.e.Stats()
	t.Logf("alice sent %d frames (%d pre-roll); bob %+v", a.FramesSent, a.PreRollFrames, b.Playout.Jitter)
	if a.PreRollFrames != 12 {
		t.Errorf("alice sent %d pre-roll frames, want 12 (240 ms)", a.PreRollFrames)
	}
	j := b.Playout.Jitter
	// +1: the end-of-transmission frame the client adds.
	if j.Received != a.FramesSent+1 || j.Late != 0 {
		t.Errorf("bob received %d of %d frames, %d late", j.Received, a.FramesSent+1, j.Late)
	}
	if j.Played+j.Dropped < a.FramesSent {
		t.Errorf("bob played %d and dropped %d of %d frames", j.Played, j.Dropped, a.FramesSent)
	}
	checkNoLeaks(t)
}

// clickEvery is the spacing of the clicks of the mouth-to-ear measurement,
// in 10 ms capture periods.
const clickEvery = 100

// measureMouthToEar sends clicks from alice's fake microphone (one at the
// start of every clickEvery-th period; see realtimeCapture for its wall time)
// and finds them in what bob's null playback device is handed. It returns
// one delay per click heard: from the click's spoken wall time to the wall
// time it leaves the loudspeaker, taken as bob's playback callback time plus
// one period (a device plays the period it asks for after the one it is
// playing: a two-period buffer) plus the click's offset in the period.
func measureMouthToEar(t testing.TB, frame, clicks int, wallClock, lowLatency bool) []time.Duration {
	r := relaytest.Start(t, relaytest.Open())
	click := audiotest.MakeClick(48000)
	hits := make(chan time.Time, clicks+10)
	var dead int // audio thread only: periods to skip after a hit
	var arrMu sync.Mutex
	var arrivals []time.Duration // arrival − timestamp, relative
	var t0 time.Time
	// In verbose runs a second decoder finds the clicks in the packets as
	// they arrive: the delay splits into sender + network and receiver.
	var probe codec.FrameDecoder
	var inPkt []time.Time // when each click's packet arrived, less the audio after the click in it
	if testing.Verbose() {
		d, err := codec.NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		probe = d
	}
	bob := startStation(t, r, stationConfig{name: "bob", frame: frame, mute: AllCues, wallClock: wallClock, lowLatency: lowLatency,
		onVoice: func(h proto.VoiceHeader, opus []byte, at time.Time) {
			arrMu.Lock()
			defer arrMu.Unlock()
			if probe != nil && h.Duration > 0 {
				pcm := make([]int16, h.Duration)
				if n, err := probe.Decode(opus, pcm); err == nil {
					if on, ok := audiotest.FindClick(pcm[:n], 48000, 0.25); ok {
						// The packet ends (h.Duration - on) after the click.
						inPkt = append(inPkt, at.Add(-(time.Duration(h.Duration)*time.Second/48000 - on)))
					}
				}
			}
			if t0.IsZero() {
				t0 = at.Add(-time.Duration(h.Timestamp) * time.Second / 48000)
			}
			arrivals = append(arrivals, at.Sub(t0)-time.Duration(h.Timestamp)*time.Second/48000)
		},
		onPlay: func(at time.Time, p []int16) {
			if dead > 0 {
				dead--
				return
			}
			if on, ok := audiotest.FindClick(p, 48000, 0.25); ok {
				hits <- at.Add(on)
				dead = clickEvery / 2
			}
		}})
	const first = 20 // let the transmission settle before the first click
	capt := newRealtimeCapture(func(n int, p []int16) {
		if n >= first && (n-first)%clickEvery == 0 {
			copy(p, click)
		}
	})
	alice := startStation(t, r, stationConfig{name: "alice", frame: frame, capture: capt})
	alice.e.Press(true)
	alice.waitState(t, "talking", func(s State) bool { return s.Talking })
	bob.waitState(t, "receiving", func(s State) bool { return s.Receiving })

	var heard []time.Time
	// A safety net: a click lost on the way (a frame the jitter buffer drops
	// to catch up with a slow device clock) is replaced by the next one.
	timeout := time.After(20*time.Second + time.Duration(clicks*clickEvery)*period)
collect:
	for len(heard) < clicks {
		select {
		case h := <-hits:
			heard = append(heard, h)
		case <-timeout:
			break collect
		}
	}
	alice.e.Press(false)
	if testing.Verbose() {
		t.Logf("alice %+v", alice.e.Stats())
		t.Logf("bob %+v", bob.e.Stats())
	}
	alice.stop(t)
	bob.stop(t)
	// Match each hit to the latest click spoken before it.
	var spoken []time.Time
	for n := first; n < first+(clicks+20)*clickEvery; n += clickEvery {
		spoken = append(spoken, capt.spokenAt(n))
	}
	var delays []time.Duration
	for _, h := range heard {
		i := sort.Search(len(spoken), func(i int) bool { return spoken[i].After(h) }) - 1
		if i >= 0 {
			delays = append(delays, h.Sub(spoken[i]))
		}
	}
	if testing.Verbose() {
		arrMu.Lock()
		a := slices.Clone(arrivals)
		arrMu.Unlock()
		mn := slices.Min(a)
		for i := range a {
			a[i] -= mn
		}
		slices.Sort(a)
		t.Logf("arrival jitter: p50 %v p90 %v p99 %v max %v", a[len(a)/2], a[len(a)*9/10], a[len(a)*99/100], a[len(a)-1])
		t.Logf("delays in order: %v", delays)
		var send, recv []time.Duration
		for _, a := range inPkt {
			i := sort.Search(len(spoken), func(i int) bool { return spoken[i].After(a) }) - 1
			if i < 0 {
				continue
			}
			send = append(send, a.Sub(spoken[i]))
			for _, h := range heard {
				if h.After(a) && h.Sub(spoken[i]) < time.Second {
					recv = append(recv, h.Sub(a))
					break
				}
			}
		}
		t.Logf("click to its packet's arrival (frame, encode, network): %v", send)
		t.Logf("arrival to loudspeaker (jitter buffer, mixing, device queue): %v", recv)
	}
	slices.Sort(delays)
	return delays
}

func TestMouthToEarClicksArrive(t *testing.T) {
	d := measureMouthToEar(t, 480, 3, false, false)
	if len(d) != 3 {
		t.Fatalf("heard %d of 3 clicks", len(d))
	}
	for _, x := range d {
		if x <= 0 || x > time.Duration(clickEvery)*10*time.Millisecond {
			t.Fatalf("a click was matched to the wrong one: delay %v", x)
		}
	}
	t.Logf("delays %v", d)
	checkNoLeaks(t)
}

// BenchmarkMouthToEar reports the mouth-to-ear delay in real time through
// the relay on loopback (see measureMouthToEar), for 10 and 20 ms frames,
// playing on miniaudio's null backend ("null"; "null-lowlatency" with
// Config.LowLatency, playback filled per period) and on a fake device with an
// exact clock ("wallclock"; the null backend's clock runs a few per cent
// slow, which the jitter buffer must absorb by dropping frames).
// Run with -benchtime=1x; each run sends 30 clicks, one a second, so a
// delay up to a second is matched to the right click.
func BenchmarkMouthToEar(b *testing.B) {
	for _, dev := range []string{"null", "null-lowlatency", "wallclock"} {
		for _, frame := range []int{480, 960} {
			b.Run(dev+"/"+time.Duration(frame*int(time.Second)/48000).String(), func(b *testing.B) {
				var all []time.Duration
				for range b.N {
					all = append(all, measureMouthToEar(b, frame, 10, dev == "wallclock", dev == "null-lowlatency")...)
				}
				if len(all) == 0 {
					b.Fatal("no click heard")
				}
				slices.Sort(all)
				ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
				b.ReportMetric(ms(all[len(all)/2]), "ms-median")
				b.ReportMetric(ms(all[len(all)*95/100]), "ms-p95")
				b.ReportMetric(ms(all[len(all)-1]), "ms-max")
				b.ReportMetric(ms(all[0]), "ms-min")
				b.ReportMetric(float64(len(all)), "clicks")
			})
		}
	}
}
