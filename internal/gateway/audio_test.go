package gateway

import (
	"bytes"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/hraban/opus"

	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/internal/webm"
	"github.com/hark-intercom/hark/proto"
)

// sentBy returns the frames a session sent to the fake relay and when.
func sentBy(r *fakeRelay, session uint32) ([]VoiceFrame, []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent[session]), slices.Clone(r.sentAt[session])
}

// A burst of recording (Firefox hands over an Ogg page of ~280 ms at once;
// here 2 s in one go) is sent on at the pace of its own timestamps, not
// all at once: no frame leaves before its time.
func TestMediaPaced(t *testing.T) {
	r := newFakeRelay()
	_, url := startGateway(t, r, nil)
	a := dialWS(t, url, login("ann"))
	w := a.expect("welcome", nil)
	a.expect("joined", nil)
	ogg, err := os.ReadFile("../webm/testdata/ffmpeg-20ms.ogg")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := webm.NewOgg(webm.Config{}).Push(ogg)
	if len(want) < 20 {
		t.Fatalf("only %d packets in the test's part of the recording", len(want))
	}
	a.send(map[string]any{"t": "talk", "on": true, "format": "ogg"})
	a.expect("floor", nil)
	if err := a.sendBin(append([]byte{binMedia}, ogg...)); err != nil {
		t.Fatal(err)
	}
	a.send(map[string]any{"t": "talk", "on": false})
	frames := relayFrames(t, r)
	if len(frames) != len(want)+1 {
		t.Fatalf("relay got %d frames, want %d + end", len(frames), len(want))
	}
	sent, at := sentBy(r, uint32(w["session"].(float64)))
	for i, p := range want {
		if !bytes.Equal(sent[i].Opus, p.Data) {
			t.Fatalf("frame %d changed", i)
		}
		// A lower bound only: a busy machine makes frames later, never
		// earlier. 2 ms for the timer's granularity.
		due := time.Duration(p.Timestamp-want[0].Timestamp) * time.Second / codec.SampleRate
		if got := at[i].Sub(at[0]); got < due-2*time.Millisecond {
			t.Fatalf("frame %d left %v after the first, before its time (%v): the burst was not paced", i, got, due)
		}
	}
	t.Logf("%d packets of %v paced over %v", len(want),
		time.Duration(want[len(want)-1].Timestamp-want[0].Timestamp)*time.Second/codec.SampleRate, at[len(want)-1].Sub(at[0]))
}

// encodeFrames returns n 20 ms Opus frames (TOC byte included) of speech at
// bitrate that share one TOC byte.
func encodeFrames(t *testing.T, n, bitrate int) [][]byte {
	t.Helper()
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960, Bitrate: bitrate})
	if err != nil {
		t.Fatal(err)
	}
	src := sourcePCM(t)
	var out [][]byte
	for i := 48000 / 2; i+960 <= len(src) && len(out) < n; i += 960 {
		p, err := enc.Encode(src[i:i+960], nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) > 0 && p[0] != out[0][0] {
			continue
		}
		out = append(out, p)
	}
	if len(out) < n {
		t.Fatalf("no %d frames with one TOC", n)
	}
	return out
}

// Opus packets too large for a datagram are not lost: one of three frames
// (60 ms, as Chromium's MediaRecorder makes them) is split into its frames
// untouched; a single frame too large is re-encoded; both are counted.
func TestOpusTooLargeForADatagram(t *testing.T) {
	r := newFakeRelay()
	srv, url := startGateway(t, r, nil)
	a := dialWS(t, url, login("ann"))
	a.expect("joined", nil)
	three := encodeFrames(t, 3, 160000)
	multi := []byte{three[0][0] | 3, 3} // code 3, CBR would need equal frames: VBR
	multi[1] |= 0x80
	for _, f := range three[:2] {
		multi = appendFrameLen(multi, len(f)-1)
	}
	for _, f := range three {
		multi = append(multi, f[1:]...)
	}
	singles := stereoFrames(t, 10)
	if len(multi) <= proto.MaxVoicePayload || len(singles[0]) <= proto.MaxVoicePayload {
		t.Fatalf("test packets of %d and %d bytes fit a datagram", len(multi), len(singles[0]))
	}
	a.send(map[string]any{"t": "talk", "on": true, "format": "opus"})
	a.expect("floor", nil)
	for _, p := range append([][]byte{multi}, singles...) {
		msg := append(make([]byte, binHeaderLen), p...)
		msg[0] = binOpus
		if err := a.sendBin(msg); err != nil {
			t.Fatal(err)
		}
	}
	a.send(map[string]any{"t": "talk", "on": false})
	frames := relayFrames(t, r)
	if len(frames) != 3+len(singles)+1 {
		t.Fatalf("relay got %d frames, want 3 split + %d re-encoded + end", len(frames), len(singles))
	}
	for i := range 3 {
		if !bytes.Equal(frames[i].Opus[1:], three[i][1:]) || frames[i].Opus[0] != three[i][0] || frames[i].Header.Duration != 960 {
			t.Errorf("split frame %d is not the frame sent", i)
		}
	}
	re := frames[3 : 3+len(singles)]
	for i, f := range re {
		if len(f.Opus) > proto.MaxVoicePayload || f.Header.Duration != 960 {
			t.Errorf("re-encoded frame %d: %d bytes, %d samples", i, len(f.Opus), f.Header.Duration)
		}
	}
	// The re-encoded frames sound like the ones sent (as loud, within
	// what a codec at a twentieth of the bitrate does to noise).
	var sent []VoiceFrame
	for _, p := range singles {
		sent = append(sent, VoiceFrame{Opus: p})
	}
	want, got := energy(decodeAll(t, sent)), energy(decodeAll(t, re))
	t.Logf("energy of the re-encoded frames: %.2f of the sent ones", got/want)
	if got < want/4 || got > want*4 {
		t.Errorf("the re-encoded frames do not sound like the sent ones: energy %v, sent %v", got, want)
	}
	if s, rr := counter(t, srv, "hark_gateway_voice_repacked_total", "split"), counter(t, srv, "hark_gateway_voice_repacked_total", "reencode"); s != 1 || rr != float64(len(singles)) {
		t.Errorf("repacked counted split %v, re-encoded %v; want 1 and %d", s, rr, len(singles))
	}
	for len(a.json) > 0 {
		if m := <-a.json; m["t"] == "error" {
			t.Errorf("the page was told %v", m)
		}
	}
}

// stereoFrames returns n 20 ms Opus frames (code 0) of stereo noise at
// 510 kbit/s: about 1275 bytes, frames no split makes small enough (the
// gateway's own encoder, mono, cannot make one that large).
func stereoFrames(t *testing.T, n int) [][]byte {
	t.Helper()
	enc, err := opus.NewEncoder(48000, 2, opus.AppAudio)
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.SetBitrate(510000); err != nil {
		t.Fatal(err)
	}
	// Noise below 4 kHz (the band every Opus mode keeps), different in
	// the two channels so that they cost bits.
	rnd := rand.New(rand.NewPCG(1, 2))
	pcm := make([]int16, 2*960)
	var lp [2]float64
	var frames [][]byte
	for range n {
		for i := range pcm {
			c := i % 2
			lp[c] += 0.4 * (float64(rnd.IntN(60000)-30000) - lp[c])
			pcm[i] = int16(lp[c])
		}
		out := make([]byte, 1500)
		k, err := enc.Encode(pcm, out)
		if err != nil {
			t.Fatal(err)
		}
		if out[0]&3 != 0 {
			t.Fatalf("a code %d packet", out[0]&3)
		}
		frames = append(frames, out[:k])
	}
	return frames
}

func appendFrameLen(b []byte, n int) []byte {
	if n < 252 {
		return append(b, byte(n))
	}
	first := 252 + (n-252)%4
	return append(b, byte(first), byte((n-first)/4))
}

func energy(pcm []int16) float64 {
	var e float64
	for _, v := range pcm {
		e += float64(v) * float64(v)
	}
	return e
}

// A WAV clip over 1 MiB (up to the gateway's limit) is sent, not refused as
// "faster than real time"; the welcome tells the page the limit.
func TestLargeClip(t *testing.T) {
	r := newFakeRelay()
	_, url := startGateway(t, r, func(c *Config) { c.MaxClipBytes = 3 << 20 })
	a := dialWS(t, url, login("ann"))
	if w := a.expect("welcome", nil); w["max_clip_bytes"] != float64(3<<20) {
		t.Errorf("welcome says max_clip_bytes %v", w["max_clip_bytes"])
	}
	a.expect("joined", nil)
	src := sourcePCM(t)
	var pcm []int16
	for len(pcm)*2 < 3<<19 { // 1.5 MiB of samples
		pcm = append(pcm, src...)
	}
	var buf bytes.Buffer
	if err := wav.Encode(&buf, 48000, 1, pcm); err != nil {
		t.Fatal(err)
	}
	if err := a.sendBin(append([]byte{binWAV}, buf.Bytes()...)); err != nil {
		t.Fatal(err)
	}
	// The clip plays in real time (16 s): its first frames are enough.
	n := 0
	timeout := time.After(waitLimit)
	for n < 10 {
		select {
		case <-r.sentCh:
			n++
		case m := <-a.json:
			if m["t"] == "error" {
				t.Fatalf("a %d-byte clip was refused: %v", buf.Len(), m)
			}
		case <-timeout:
			t.Fatal("the clip was not sent")
		}
	}
}

// The pacer releases packets by their timestamps from the first one's
// arrival; after a stall of the browser the late packets go at once and
// the clock keeps its place; a browser that stays behind the clock moves
// it; timestamp jumps are smoothed over; what waits is bounded.
func TestPacer(t *testing.T) {
	var p pacer
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	var out []int64
	emit := func(o []byte, _ int) { out = append(out, int64(o[0])) }
	pk := func(id int) pacedPacket {
		return pacedPacket{opus: []byte{byte(id)}, samples: 960, ts: 48000 + int64(id)*960}
	}
	release := func(at time.Time, want ...int64) {
		t.Helper()
		out = out[:0]
		p.release(at, emit)
		if !slices.Equal(out, want) {
			t.Fatalf("at %v: released %v, want %v", at.Sub(t0), out, want)
		}
	}
	for i := range 3 {
		p.push(pk(i), t0) // a burst of 60 ms
	}
	release(ms(0), 0)
	release(ms(19))
	release(ms(20), 1)
	release(ms(40), 2)
	if _, ok := p.next(); ok {
		t.Fatal("the queue is not empty")
	}
	// The browser stalls: packets 3 and 4 come 500 ms after their time,
	// together. They go at once.
	p.push(pk(3), ms(560))
	p.push(pk(4), ms(560))
	release(ms(560), 3, 4)
	// The browser stays 480 ms behind: its packets go as they come, and
	// after a window the clock follows it.
	for i := 5; i < 20; i++ {
		at := ms(560 + (i-4)*20)
		p.push(pk(i), at)
		release(at, int64(i))
	}
	// On the moved clock a burst is paced again: packet 20 is due as it
	// comes, at 880, the next two 20 and 40 ms later.
	for i := 20; i < 23; i++ {
		p.push(pk(i), ms(880))
	}
	release(ms(880), 20)
	release(ms(899))
	release(ms(900), 21)
	// A jump of the timestamps while packets wait: the packet follows
	// the last one.
	p.push(pacedPacket{opus: []byte{23}, samples: 960, ts: 10_000_000}, ms(900))
	release(ms(920), 22)
	if at, _ := p.next(); !at.Equal(ms(940)) {
		t.Fatalf("next due at %v", at.Sub(t0))
	}
	release(ms(940), 23)
	// A browser far faster than real time loses its oldest audio.
	dropped := 0
	for i := range 600 { // 12 s at once
		dropped += p.push(pk(100+i), ms(1000))
	}
	if want := 2 * 48000; dropped != want {
		t.Fatalf("dropped %d samples, want %d", dropped, want)
	}
}

// A recorder that starts with a backlog (half a second handed over at
// once, then a packet every 20 ms as it is recorded) is not kept that late
// for the whole transmission: the pacer catches up within a few seconds.
func TestPacerCatchesUpWithABacklog(t *testing.T) {
	var p pacer
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	arrived := map[int]time.Time{}
	now := 0
	var worst time.Duration
	emit := func(o []byte, _ int) {
		if wait := ms(now).Sub(arrived[int(o[0])]); now > 3000 {
			worst = max(worst, wait)
		}
	}
	for now = 500; now <= 4000; now += 10 {
		// Packet k (k < 200) holds [20k, 20k+20) ms of audio; those
		// recorded before 500 ms all come then, the rest as recorded.
		for k := 0; k*20+20 <= now; k++ {
			if _, ok := arrived[k]; !ok {
				arrived[k] = ms(now)
				p.push(pacedPacket{opus: []byte{byte(k)}, samples: 960, ts: int64(k) * 960}, ms(now))
			}
		}
		p.release(ms(now), emit)
	}
	t.Logf("the last packets waited up to %v (a backlog of 480 ms at the start)", worst)
	if worst > 60*time.Millisecond {
		t.Errorf("packets still wait %v after 3 s: the pacer kept the backlog", worst)
	}
}
