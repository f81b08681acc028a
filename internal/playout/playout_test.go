package playout

import (
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/jitter"
)

var t0 = time.Unix(1_700_000_000, 0)

// fakeDecoder outputs payload[1]*100 for every sample of a packet, -1 for
// concealment and -2 for FEC recovery.
type fakeDecoder struct{}

func (fakeDecoder) Decode(pkt []byte, pcm []int16) (int, error) {
	n, err := codec.PacketSamples(pkt)
	if err != nil {
		return 0, err
	}
	for i := range pcm[:n] {
		pcm[i] = int16(pkt[1]) * 100
	}
	return n, nil
}

func (fakeDecoder) DecodePLC(pcm []int16) (int, error) {
	for i := range pcm {
		pcm[i] = -1
	}
	return len(pcm), nil
}

func (fakeDecoder) DecodeFEC(pkt []byte, pcm []int16) (int, error) {
	for i := range pcm {
		pcm[i] = -2
	}
	return len(pcm), nil
}

// newFake makes a mixer with the fake decoder, without time-stretching:
// these tests check that every packet's marker comes out for exactly its
// duration (time-stretching is tested on speech in stretch_test.go).
func newFake(frame int, opts ...jitter.Option) *Mixer {
	return New(Config{
		FrameSamples:  frame,
		NoTimeStretch: true,
		NewDecoder:    func() (codec.FrameDecoder, error) { return fakeDecoder{}, nil },
		JitterOptions: opts,
		IdleTimeout:   5 * time.Second,
	})
}

// toc returns a TOC byte for a SILK NB packet of the given duration.
func toc(samples int) byte {
	switch samples {
	case 480:
		return 0 << 3
	case 960:
		return 1 << 3
	case 2880:
		return 3 << 3
	}
	panic("no toc")
}

// stream makes packets of the given durations with amplitude markers 1, 2, …
func stream(durs []int, seq0 uint16) []jitter.Packet {
	var ps []jitter.Packet
	var ts uint32
	var at time.Duration
	for i, d := range durs {
		at += time.Duration(d) * time.Second / 48000
		ps = append(ps, jitter.Packet{Seq: seq0 + uint16(i), Timestamp: ts, Start: i == 0, End: i == len(durs)-1,
			Payload: []byte{toc(d), byte(i%100 + 1)}, Arrival: t0.Add(at)})
		ts += uint32(d)
	}
	return ps
}

// run pushes packets at their arrival times and ticks every frame until
// end, returning the concatenated output and each tick's active talkers.
func run(m *Mixer, frame int, talkers map[uint32][]jitter.Packet, end time.Duration) ([]int16, [][]uint32) {
	tick := time.Duration(frame) * time.Second / 48000
	var out []int16
	var actives [][]uint32
	idx := map[uint32]int{}
	buf := make([]int16, frame)
	for now := time.Duration(0); now < end; now += tick {
		for id, ps := range talkers {
			for idx[id] < len(ps) && !ps[idx[id]].Arrival.After(t0.Add(now)) {
				m.Push(id, ps[idx[id]])
				idx[id]++
			}
		}
		a := m.Tick(t0.Add(now), buf)
		out = append(out, buf...)
		actives = append(actives, append([]uint32(nil), a...))
	}
	return out, actives
}

func TestSixtyMsPacketsOnTwentyMsTicks(t *testing.T) {
	for _, frame := range []int{480, 960} {
		durs := []int{2880, 2880, 960, 960, 960, 2880, 480, 480, 2880}
		m := newFake(frame)
		out, actives := run(m, frame, map[uint32][]jitter.Packet{7: stream(durs, 65530)}, 2*time.Second)
		// The output must contain each packet's marker for exactly its
		// duration, in order, with nothing concealed.
		var got []int16
		var runs []int
		for _, v := range out {
			if v == 0 {
				continue
			}
			if len(got) == 0 || got[len(got)-1] != v {
				got = append(got, v)
				runs = append(runs, 0)
			}
			runs[len(runs)-1]++
		}
		if len(got) != len(durs) {
			t.Fatalf("frame %d: got %d segments %v, want %d", frame, len(got), got, len(durs))
		}
		for i, d := range durs {
			if got[i] != int16(i+1)*100 || runs[i] != d {
				t.Errorf("frame %d: segment %d = %d x %d, want %d x %d", frame, i, got[i], runs[i], (i+1)*100, d)
			}
		}
		sawActive := false
		for _, a := range actives {
			if len(a) == 1 && a[0] == 7 {
				sawActive = true
			}
		}
		if !sawActive || len(actives[len(actives)-1]) != 0 {
			t.Errorf("active talkers wrong: first %v last %v", actives[0], actives[len(actives)-1])
		}
		s := m.Stats()
		if s.Jitter.Played != uint64(len(durs)) || s.Jitter.Concealed != 0 || s.Talkers != 1 {
			t.Errorf("stats %+v", s)
		}
	}
}

func TestMixTwoTalkersAndClip(t *testing.T) {
	m := newFake(960)
	a := stream([]int{960, 960, 960}, 0)
	b := stream([]int{960, 960, 960}, 100)
	for i := range b {
		b[i].Payload[1] = 100 // 10000 each
	}
	out, actives := run(m, 960, map[uint32][]jitter.Packet{1: a, 2: b}, time.Second)
	sawBoth := false
	for k, act := range actives {
		if len(act) == 2 {
			sawBoth = true
			frame := out[k*960 : (k+1)*960]
			if frame[0] <= 10000 {
				t.Errorf("mixed sample %d, want > 10000", frame[0])
			}
		}
	}
	if !sawBoth {
		t.Fatal("never heard both talkers at once")
	}
	// Soft clipping: never wraps, stays monotonic.
	prev := int16(math.MinInt16)
	for v := int32(-200000); v <= 200000; v += 50 {
		c := softClip(v)
		if c < prev {
			t.Fatalf("softClip not monotonic at %d", v)
		}
		prev = c
	}
	if softClip(1000) != 1000 || softClip(1<<30) < 32000 || softClip(-(1<<30)) > -32000 {
		t.Fatal("softClip limits wrong")
	}
}

func TestSilenceWhenNobodyTalks(t *testing.T) {
	m := newFake(480)
	out := make([]int16, 480)
	for i := range out {
		out[i] = 5
	}
	if a := m.Tick(t0, out); len(a) != 0 {
		t.Fatalf("active %v", a)
	}
	for _, v := range out {
		if v != 0 {
			t.Fatal("not silent")
		}
	}
}

func TestTickTalkersAndMixSkip(t *testing.T) {
	m := newFake(960)
	m.Push(1, stream([]int{960}, 0)[0])
	m.Push(2, stream([]int{960}, 50)[0])
	var frames []TalkerFrame
	for now := t0; len(frames) == 0 || !frames[0].Active; now = now.Add(20 * time.Millisecond) {
		frames = m.TickTalkers(now)
		if now.Sub(t0) > time.Second {
			t.Fatal("talkers never became active")
		}
	}
	if len(frames) != 2 || frames[0].Talker != 1 || frames[1].Talker != 2 {
		t.Fatalf("frames %+v", frames)
	}
	out := make([]int16, 960)
	Mix(out, frames, func(id uint32) bool { return id == 1 })
	if out[0] != frames[1].PCM[0] {
		t.Fatalf("Mix with skip = %d, want talker 2 only (%d)", out[0], frames[1].PCM[0])
	}
}

func TestIdleTalkerForgotten(t *testing.T) {
	m := newFake(960)
	out, _ := run(m, 960, map[uint32][]jitter.Packet{9: stream([]int{960, 960}, 0)}, 500*time.Millisecond)
	_ = out
	if m.Stats().Talkers != 1 {
		t.Fatal("talker not created")
	}
	buf := make([]int16, 960)
	m.Tick(t0.Add(10*time.Second), buf)
	s := m.Stats()
	if s.Talkers != 0 || s.TalkersRemoved != 1 || s.Jitter.Played != 2 {
		t.Fatalf("stats after idle %+v", s)
	}
}

func TestRealOpusThroughMixer(t *testing.T) {
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960, FEC: true})
	if err != nil {
		t.Fatal(err)
	}
	m := New(Config{FrameSamples: 480})
	const frames = 50
	var ps []jitter.Packet
	for i := 0; i < frames; i++ {
		pcm := make([]int16, 960)
		for k := range pcm {
			pcm[k] = int16(8000 * math.Sin(2*math.Pi*440*float64(i*960+k)/48000))
		}
		pkt, err := enc.Encode(pcm, nil)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, jitter.Packet{Seq: uint16(i), Timestamp: uint32(i * 960), Start: i == 0, End: i == frames-1,
			Payload: pkt, Arrival: t0.Add(time.Duration(i+1) * 20 * time.Millisecond)})
	}
	out, _ := run(m, 480, map[uint32][]jitter.Packet{3: ps}, 2*time.Second)
	var energy float64
	for _, v := range out {
		energy += float64(v) * float64(v)
	}
	rms := math.Sqrt(energy / float64(frames*960))
	if rms < 3000 || rms > 8000 {
		t.Fatalf("decoded RMS %.0f, want about 5657 (a 8000-peak sine)", rms)
	}
	if s := m.Stats(); s.DecodeErrors != 0 || s.Jitter.Played != frames {
		t.Fatalf("stats %+v", s)
	}
}

func TestConcurrentPushAndTick(t *testing.T) {
	m := newFake(480)
	ps := stream(make960(500), 0)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, p := range ps {
			m.Push(uint32(i%3), p)
		}
	}()
	buf := make([]int16, 480)
	for i := 0; i < 2000; i++ {
		m.Tick(t0.Add(time.Duration(i)*10*time.Millisecond), buf)
		_ = m.Stats()
	}
	wg.Wait()
}

func make960(n int) []int {
	d := make([]int, n)
	for i := range d {
		d[i] = 960
	}
	return d
}

// BenchmarkTickGlue measures the mixer's own cost per 20 ms tick for three
// talkers (fake decoder, so Opus is not included).
func BenchmarkTickGlue(b *testing.B) {
	m := newFake(960)
	out := make([]int16, 960)
	payload := []byte{toc(960), 7}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		for id := uint32(1); id <= 3; id++ {
			m.Push(id, jitter.Packet{Seq: uint16(i), Timestamp: uint32(i * 960), Start: i == 0, Payload: payload, Arrival: now})
		}
		m.Tick(now, out)
		i++
	}
}

// TestQuietLead: the mixer drops only the quiet start of what the jitter
// buffer allows it to skip, keeping 2.5 ms before the first loud sample.
func TestQuietLead(t *testing.T) {
	tk := &talker{level: 0.1} // recent speech at -20 dBFS: threshold -40 dBFS
	pcm := make([]int16, 480)
	for i := range pcm {
		pcm[i] = 100 // -50 dBFS hiss
	}
	if got := tk.quietLead(pcm); got != len(pcm) {
		t.Errorf("all quiet: may drop %d of %d", got, len(pcm))
	}
	pcm[300] = 8000
	if got := tk.quietLead(pcm); got != 300-120 {
		t.Errorf("a click at sample 300: may drop %d, want %d (2.5 ms kept before it)", got, 300-120)
	}
	pcm[50] = -8000
	if got := tk.quietLead(pcm); got != 0 {
		t.Errorf("a click at sample 50: may drop %d, want 0", got)
	}
}

func TestMixGains(t *testing.T) {
	a := TalkerFrame{Talker: 1, PCM: []int16{1000, -1000, 400}}
	b := TalkerFrame{Talker: 2, PCM: []int16{100, 100, 100}}
	out := make([]int16, 3)
	MixGains(out, []TalkerFrame{a, b}, func(id uint32) float32 {
		if id == 1 {
			return 0.5
		}
		return 0
	})
	if want := []int16{500, -500, 200}; !slices.Equal(out, want) {
		t.Errorf("half and muted: %v, want %v", out, want)
	}
	MixGains(out, []TalkerFrame{b}, func(uint32) float32 { return 0 })
	if want := []int16{0, 0, 0}; !slices.Equal(out, want) {
		t.Errorf("one muted talker: %v", out)
	}
	MixGains(out, []TalkerFrame{b}, func(uint32) float32 { return 100 }) // capped at MaxGain
	if want := []int16{400, 400, 400}; !slices.Equal(out, want) {
		t.Errorf("capped: %v", out)
	}
	Mix(out, []TalkerFrame{a, b}, func(id uint32) bool { return id == 2 })
	if want := []int16{1000, -1000, 400}; !slices.Equal(out, want) {
		t.Errorf("Mix with skip: %v", out)
	}
}
