package gateway

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/proto"
)

// liveFrame is one voice frame and when it reaches the gateway.
type liveFrame struct {
	f  VoiceFrame
	at time.Time
}

// jitteryFrames encodes pcm in 20 ms Opus frames (in-band FEC on) sent in
// real time from t0, over a network of 30 ms plus 0–80 ms of jitter
// (frames overtake each other) that loses lost of every 100 frames; the
// last frame carries the end flag unless noEnd. Sorted by arrival.
func jitteryFrames(t *testing.T, pcm []int16, t0 time.Time, seed uint64, lost int, noEnd bool) []liveFrame {
	t.Helper()
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960, FEC: true, LossPerc: 5})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	var out []liveFrame
	n := len(pcm) / 960
	for i := 0; i < n; i++ {
		pkt, err := enc.Encode(pcm[i*960:(i+1)*960], nil)
		if err != nil {
			t.Fatal(err)
		}
		var fl proto.VoiceFlags
		if i == 0 {
			fl |= proto.FlagStart
		}
		if i == n-1 && !noEnd {
			fl |= proto.FlagEnd
		}
		if i > 0 && i < n-1 && rng.IntN(100) < lost {
			continue
		}
		sent := t0.Add(time.Duration(i+1) * 20 * time.Millisecond)
		at := sent.Add(30*time.Millisecond + time.Duration(rng.Float64()*rng.Float64()*80*float64(time.Millisecond)))
		out = append(out, liveFrame{at: at, f: VoiceFrame{
			Header:  proto.VoiceHeader{Flags: fl, Channel: 1, Sender: 7, Seq: uint16(i), Timestamp: uint32(i * 960), Duration: 960},
			Opus:    append([]byte(nil), pkt...),
			Arrival: at,
		}})
	}
	slices.SortStableFunc(out, func(a, b liveFrame) int { return a.at.Compare(b.at) })
	return out
}

// liveMsg is a binary message a member got, and the tick it got it at.
type liveMsg struct {
	tick int
	b    []byte
}

// runHub pushes frames into h when they arrive and ticks it every liveTick
// from t0 (the test's clock, not the machine's) until every talker is idle
// after the last frame, and returns what the member queues got.
func runHub(t *testing.T, h *hub, frames []liveFrame, t0 time.Time, members ...*session) map[*session][]liveMsg {
	t.Helper()
	got := map[*session][]liveMsg{}
	for k := 0; ; k++ {
		if k > 100000 {
			t.Fatal("the hub never went idle")
		}
		now := t0.Add(time.Duration(k) * liveTick)
		for len(frames) > 0 && !frames[0].at.After(now) {
			h.push(frames[0].f)
			frames = frames[1:]
		}
		idle := h.tick(now)
		for _, s := range members {
			s.out.mu.Lock()
			for _, m := range s.out.audio {
				got[s] = append(got[s], liveMsg{tick: k, b: m.data})
			}
			s.out.audio = s.out.audio[:0]
			s.out.mu.Unlock()
		}
		if idle && len(frames) == 0 {
			return got
		}
	}
}

// TestHubJitterBuffer: voice reaching the gateway with 0–80 ms of jitter,
// out of order and with losses goes to browsers as one even stream, the
// way the talk client plays it: a start, a frame every tick with none
// missing, an end, all of the speech (lost frames concealed or recovered
// from FEC, late ones put in their place) and nothing else.
func TestHubJitterBuffer(t *testing.T) {
	src := sourcePCM(t)
	src = src[:min(len(src), 3*48000)/960*960]
	t0 := time.Unix(1000, 0)
	frames := jitteryFrames(t, src, t0, 1, 2, false)
	reordered := 0
	for i := 1; i < len(frames); i++ {
		if frames[i].f.Header.Seq < frames[i-1].f.Header.Seq {
			reordered++
		}
	}
	srv, err := New(Config{Dialer: newFakeRelay()})
	if err != nil {
		t.Fatal(err)
	}
	h := newHub(srv, 1)
	h.running = true // ticked by the test
	pcmMember := &session{srv: srv, out: newOutQueue(maxCtlQueue, 100000), playback: "pcm", sessionID: 100}
	wavMember := &session{srv: srv, out: newOutQueue(maxCtlQueue, 100000), playback: "wav", sessionID: 101}
	h.add(pcmMember)
	h.add(wavMember)
	// Every frame comes twice (two members' relay sessions).
	var twice []liveFrame
	for _, f := range frames {
		twice = append(twice, f, f)
	}
	got := runHub(t, h, twice, t0, pcmMember, wavMember)

	var heard []int16
	first, last := -1, -1
	for i, m := range got[pcmMember] {
		b := m.b
		if b[0] != binPCM || binary.LittleEndian.Uint32(b[4:]) != 7 {
			t.Fatalf("message %d: kind %d talker %d", i, b[0], binary.LittleEndian.Uint32(b[4:]))
		}
		n := (len(b) - binHeaderLen) / 2
		if b[1]&binFlagStart != 0 {
			if first >= 0 {
				t.Fatalf("a second start at message %d", i)
			}
			first = m.tick
		}
		if b[1]&binFlagEnd != 0 {
			if last >= 0 {
				t.Fatalf("a second end at message %d", i)
			}
			last = m.tick
		}
		// A frame every tick (outFrame of audio); the end (with what
		// is left) at most as long after the last frame.
		const every = outFrame / liveTickSamples
		if i > 0 && (m.tick-got[pcmMember][i-1].tick != every && b[1]&binFlagEnd == 0 || m.tick-got[pcmMember][i-1].tick > every) {
			t.Fatalf("message %d came at tick %d, after one at tick %d: the stream is not even", i, m.tick, got[pcmMember][i-1].tick)
		}
		if n != outFrame && b[1]&binFlagEnd == 0 {
			t.Fatalf("message %d has %d samples", i, n)
		}
		for k := range n {
			heard = append(heard, int16(binary.LittleEndian.Uint16(b[binHeaderLen+2*k:])))
		}
	}
	if first != got[pcmMember][0].tick || last < 0 {
		t.Fatalf("start at tick %d, end at tick %d", first, last)
	}
	st := h.mix.Stats()
	t.Logf("%d frames (%d overtaken), heard %.2f s of %.2f s from tick %d (%v after the first send): played %d, late %d, FEC %d, concealed %d samples, time-stretched %d samples",
		len(frames), reordered, float64(len(heard))/48000, float64(len(src))/48000, first, time.Duration(first)*liveTick,
		st.Jitter.Played, st.Jitter.Late, st.Jitter.FECRecovered, st.Jitter.ConcealedSamples, st.TimeStretchSamples)
	if reordered == 0 {
		t.Fatal("the network did not reorder anything: the test tests nothing")
	}
	if st.Jitter.Late > 1 {
		t.Errorf("%d frames came too late to be played", st.Jitter.Late)
	}
	if d := float64(len(heard)-len(src)) / float64(len(src)); d < -0.05 || d > 0.1 {
		t.Errorf("heard %d samples for %d sent", len(heard), len(src))
	}
	if c, _ := audiotest.EnvelopeCorrelation(src, heard, 48000); c < 0.9 {
		t.Errorf("envelope correlation with what was sent %.3f, want ≥ 0.9", c)
	}
	if v := counterValue(t, srv.m.voiceDup); v != float64(len(frames)) {
		t.Errorf("%v duplicates counted, want %d", v, len(frames))
	}

	// The WAV member gets the transmission in one blob when it is over:
	// every frame decoded in order, late ones included, losses concealed.
	if w := got[wavMember]; len(w) != 0 {
		t.Fatalf("the WAV member got %d messages while the transmission played", len(w))
	}
	blob := waitAudio(t, wavMember)
	if blob[0] != binWAV || binary.LittleEndian.Uint32(blob[4:]) != 7 {
		t.Fatalf("WAV member got kind %d of talker %d", blob[0], binary.LittleEndian.Uint32(blob[4:]))
	}
	au, err := wav.Decode(bytes.NewReader(blob[binHeaderLen:]))
	if err != nil {
		t.Fatal(err)
	}
	pcm, _ := wav.ToMono48k(au)
	c, _ := audiotest.EnvelopeCorrelation(src, pcm, 48000)
	t.Logf("WAV: %d samples, envelope correlation %.3f", len(pcm), c)
	if len(pcm) != len(src) || c < 0.95 {
		t.Errorf("the WAV blob has %d samples (sent %d), envelope correlation %.3f (want ≥ 0.95)", len(pcm), len(src), c)
	}
}

// waitAudio waits for an audio message on s's queue and takes it.
func waitAudio(t *testing.T, s *session) []byte {
	t.Helper()
	timeout := time.After(waitLimit)
	for {
		s.out.mu.Lock()
		if len(s.out.audio) > 0 {
			b := s.out.audio[0].data
			s.out.audio = s.out.audio[1:]
			s.out.mu.Unlock()
			return b
		}
		s.out.mu.Unlock()
		select {
		case <-s.out.wake:
		case <-timeout:
			t.Fatal("no audio message")
		}
	}
}

// TestHubEndLost: when a transmission's end frame is lost, the stream ends
// once the relay says the talker stopped and its audio has run out, not
// only when the jitter buffer gives up waiting (a second); the session is
// told to pass the news on to its page (talkerOff's callback) only then,
// though the relay said so while the jitter buffer still held the last of
// the audio.
func TestHubEndLost(t *testing.T) {
	src := sourcePCM(t)[:48000]
	t0 := time.Unix(1000, 0)
	frames := jitteryFrames(t, src, t0, 2, 0, true)
	srv, err := New(Config{Dialer: newFakeRelay()})
	if err != nil {
		t.Fatal(err)
	}
	h := newHub(srv, 1)
	h.running = true
	m := &session{srv: srv, out: newOutQueue(maxCtlQueue, 100000), playback: "pcm", sessionID: 100}
	h.add(m)
	lastAt := frames[len(frames)-1].at
	var got []liveMsg
	toldAt, tickNow := -1, 0 // the tick at which talkerOff's callback ran, and the current one
	for k := 0; ; k++ {
		tickNow = k
		now := t0.Add(time.Duration(k) * liveTick)
		for len(frames) > 0 && !frames[0].at.After(now) {
			h.push(frames[0].f)
			frames = frames[1:]
		}
		if len(frames) == 0 && now.Sub(lastAt) < liveTick {
			h.talkerOff(7, func() { toldAt = tickNow })
		}
		h.tick(now)
		m.out.mu.Lock()
		for _, a := range m.out.audio {
			got = append(got, liveMsg{tick: k, b: a.data})
		}
		m.out.audio = m.out.audio[:0]
		m.out.mu.Unlock()
		if n := len(got); n > 0 && got[n-1].b[1]&binFlagEnd != 0 {
			end := t0.Add(time.Duration(k) * liveTick).Sub(lastAt)
			t.Logf("the stream ended %v after the last frame came; talkerOff's callback ran at tick %d, the end was sent at tick %d", end, toldAt, k)
			if toldAt != k {
				t.Errorf("talkerOff's callback ran at tick %d, the stream ended at tick %d: the page would end the stream before its last audio", toldAt, k)
			}
			if end > 300*time.Millisecond {
				t.Fatalf("the stream ended %v after the last frame came and the relay said the talker stopped", end)
			}
			return
		}
		if k > 500 {
			t.Fatal("the stream did not end")
		}
	}
}
