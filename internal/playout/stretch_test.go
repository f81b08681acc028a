package playout

import (
	"math"
	"math/cmplx"
	"slices"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/netsim"
	"github.com/hark-intercom/hark/jitter"
)

// Spectral distance (test helper): how far the short-time spectra of got
// are from those of ref, in dB. got is cut into 1024-sample Hann-windowed
// frames every 512 samples; each frame with speech in it (within 40 dB of
// got's loudest frame) is compared with the best-matching frame of ref
// within ±30 ms of where it maps to in time (got may be stretched or
// squeezed, and a codec delays its output): the log-spectral distance,
// the RMS over frequency bins up to 8 kHz of the difference of their
// levels in dB, each level floored 60 dB below the frame's loudest bin so
// that inaudible bins do not count. The result is its mean over frames.
const (
	sdFrame  = 1024
	sdHop    = 512
	sdSearch = 48 * 30 // ±30 ms
	sdStep   = 48      // 1 ms
	sdBins   = sdFrame * 8000 / 48000
)

// spectralDistances returns the mean spectral distance (above) and its
// 95th percentile over frames.
func spectralDistances(ref, got []int16) (mean, p95 float64) {
	win := make([]float64, sdFrame)
	for i := range win {
		win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/sdFrame)
	}
	spec := func(x []int16, at int) ([]float64, float64) {
		buf := make([]complex128, sdFrame)
		var e float64
		for i := range buf {
			v := 0.0
			if k := at + i; k >= 0 && k < len(x) {
				v = float64(x[k]) / 32768
			}
			e += v * v
			buf[i] = complex(v*win[i], 0)
		}
		audiotest.FFT(buf, false)
		db := make([]float64, sdBins)
		top := -300.0
		for k := range db {
			db[k] = 20 * math.Log10(cmplx.Abs(buf[k+1])+1e-12)
			top = max(top, db[k])
		}
		for k := range db {
			db[k] = max(db[k], top-60)
		}
		return db, e
	}
	// ref spectra every sdStep samples.
	refSpec := map[int][]float64{}
	refAt := func(at int) []float64 {
		if s, ok := refSpec[at]; ok {
			return s
		}
		s, _ := spec(ref, at)
		refSpec[at] = s
		return s
	}
	type frame struct {
		at int
		s  []float64
		e  float64
	}
	var frames []frame
	loudest := 0.0
	for at := 0; at+sdFrame <= len(got); at += sdHop {
		s, e := spec(got, at)
		frames = append(frames, frame{at, s, e})
		loudest = max(loudest, e)
	}
	var ds []float64
	scale := float64(len(ref)) / float64(len(got))
	for _, f := range frames {
		if f.e < loudest*1e-4 {
			continue
		}
		centre := int(float64(f.at)*scale) / sdStep * sdStep
		best := math.Inf(1)
		for off := -sdSearch; off <= sdSearch; off += sdStep {
			r := refAt(centre + off)
			var d float64
			for k, v := range f.s {
				x := v - r[k]
				d += x * x
			}
			best = min(best, math.Sqrt(d/sdBins))
		}
		ds = append(ds, best)
	}
	if len(ds) == 0 {
		return 0, 0
	}
	var sum float64
	for _, d := range ds {
		sum += d
	}
	slices.Sort(ds)
	return sum / float64(len(ds)), ds[len(ds)*95/100]
}

// opusFrames encodes pcm in 20 ms Opus packets.
func opusFrames(t *testing.T, pcm []int16) [][]byte {
	t.Helper()
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960})
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	for off := 0; off+960 <= len(pcm); off += 960 {
		p, err := enc.Encode(pcm[off:off+960], nil)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, append([]byte(nil), p...))
	}
	return pkts
}

// playStretched decodes pkts as the mixer does, asking the stretcher for
// perPacket samples (> 0 longer, < 0 shorter) with every packet and
// letting it act at most once per 10 ms tick, and returns the output.
func playStretched(t *testing.T, pkts [][]byte, perPacket int) ([]int16, *stretcher) {
	t.Helper()
	dec, err := codec.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	var tk talker
	pcm := make([]int16, codec.MaxPacketSamples)
	var fifo, out []int16
	rd, next := 0, 0
	for next < len(pkts) || len(fifo)-rd >= 480 {
		stretched := false
		for len(fifo)-rd < 480 && next < len(pkts) {
			n, err := dec.Decode(pkts[next], pcm)
			if err != nil {
				t.Fatal(err)
			}
			next++
			tk.quiet(pcm[:n])
			fifo = append(fifo, pcm[:n]...)
			tk.tsm.request(perPacket)
			if !stretched && tk.tsm.pending() {
				var k int
				fifo, k = tk.tsm.apply(fifo, rd, 32768*max(quietFloor, quietRatio*tk.level))
				stretched = k != 0
			}
		}
		if len(fifo)-rd < 480 {
			break
		}
		out = append(out, fifo[rd:rd+480]...)
		rd += 480
	}
	return out, &tk.tsm
}

// TestTimeStretchInaudible: decoded speech stretched or squeezed by 5 %
// stays within 1 dB of plain decoding in spectral distance to the
// original (mean over frames, and 95th percentile), and the length changes
// by the 5 % asked.
func TestTimeStretchInaudible(t *testing.T) {
	speech := audiotest.Speech(t, "The quick brown fox jumps over the lazy dog. Push to talk, then let go.")
	pkts := opusFrames(t, speech)
	plain, _ := playStretched(t, pkts, 0)
	dPlain, p95Plain := spectralDistances(speech, plain)
	t.Logf("plain decoding: %d samples, spectral distance %.2f dB (95th percentile of frames %.2f dB)", len(plain), dPlain, p95Plain)
	for _, pct := range []int{5, -5} {
		out, st := playStretched(t, pkts, 960*pct/100)
		d, p95 := spectralDistances(speech, out)
		ratio := float64(len(out)) / float64(len(plain))
		t.Logf("%+d %%: %d samples (%.3f × plain), %d periods, %d samples, spectral distance %.2f dB (%+.2f dB), 95th percentile %.2f dB",
			pct, len(out), ratio, st.ops, st.samples, d, d-dPlain, p95)
		if want := 1 + float64(pct)/100; math.Abs(ratio-want) > 0.01 {
			t.Errorf("%+d %%: output %.3f × plain decoding, want %.2f", pct, ratio, want)
		}
		if d > dPlain+1 {
			t.Errorf("%+d %%: spectral distance %.2f dB, plain decoding %.2f dB: more than 1 dB apart", pct, d, dPlain)
		}
		if p95 > p95Plain+1 {
			t.Errorf("%+d %%: 95th percentile of the spectral distance %.2f dB, plain decoding %.2f dB: more than 1 dB apart", pct, p95, p95Plain)
		}
	}
	// The measure tells a careless stretch apart: cutting 5 ms every
	// 100 ms without looking for a period or cross-fading clicks, and
	// the frames with the clicks are far off (the mean hides them: +0.8
	// dB on this speech, the 95th percentile +3.7 dB).
	var cut []int16
	for off := 0; off < len(plain); off += 4800 {
		cut = append(cut, plain[off:min(off+4560, len(plain))]...)
	}
	dCut, p95Cut := spectralDistances(speech, cut)
	t.Logf("5 %% by blind cuts: spectral distance %.2f dB (%+.2f dB), 95th percentile %.2f dB", dCut, dCut-dPlain, p95Cut)
	if p95Cut <= p95Plain+1 {
		t.Errorf("blind cuts: 95th percentile %.2f dB, plain decoding %.2f dB: the measure cannot tell them apart", p95Cut, p95Plain)
	}
}

// BenchmarkTickOneTalker: the mixer's cost per 10 ms tick for one talker
// on a steady stream (fake decoder), with time-stretching on and off; on
// a steady stream the buffer asks for nothing, so this is its cost when
// inactive.
func BenchmarkTickOneTalker(b *testing.B) {
	for _, c := range []struct {
		name string
		off  bool
	}{{"time-stretch-on", false}, {"time-stretch-off", true}} {
		b.Run(c.name, func(b *testing.B) {
			m := New(Config{FrameSamples: 480, NoTimeStretch: c.off,
				NewDecoder: func() (codec.FrameDecoder, error) { return fakeDecoder{}, nil }})
			out := make([]int16, 480)
			payload := []byte{toc(960), 7}
			i := 0
			tick := func() {
				now := t0.Add(time.Duration(i) * 10 * time.Millisecond)
				if i%2 == 0 {
					m.Push(1, jitter.Packet{Seq: uint16(i / 2), Timestamp: uint32(i / 2 * 960), Start: i == 0, Payload: payload, Arrival: now})
				}
				m.Tick(now, out)
				i++
			}
			for range 500 { // settle at the target (after pauseWait, 3 s)
				tick()
			}
			ops := m.Stats().TimeStretchOps
			b.ReportAllocs()
			for b.Loop() {
				tick()
			}
			if s := m.Stats(); s.TimeStretchOps != ops {
				b.Fatalf("%d pitch periods moved on a steady stream", s.TimeStretchOps-ops)
			}
		})
	}
}

// speechDecoder "decodes" every packet into the next piece of a speech
// recording (no Opus cost), so time-stretching has real speech to search.
type speechDecoder struct {
	speech []int16
	pos    int
}

func (d *speechDecoder) next(pcm []int16) {
	for len(pcm) > 0 {
		k := copy(pcm, d.speech[d.pos:])
		pcm = pcm[k:]
		d.pos = (d.pos + k) % len(d.speech)
	}
}

func (d *speechDecoder) Decode(pkt []byte, pcm []int16) (int, error) {
	n, err := codec.PacketSamples(pkt)
	if err != nil {
		return 0, err
	}
	d.next(pcm[:n])
	return n, nil
}
func (d *speechDecoder) DecodePLC(pcm []int16) (int, error) { d.next(pcm); return len(pcm), nil }
func (d *speechDecoder) DecodeFEC(pkt []byte, pcm []int16) (int, error) {
	d.next(pcm)
	return len(pcm), nil
}

// BenchmarkTickStretching: the mixer's cost per 10 ms tick for one talker
// of speech (a decoder that costs nothing, so Opus is not counted) over 60 s
// of the bufferbloat network, whose delay ramps up and collapses every
// 13.75 s: the buffer asks for time-stretching most of the time
// ("periods/tick" is how often a pitch period was moved: at most one per
// packet, so every other tick with 20 ms packets).
func BenchmarkTickStretching(b *testing.B) {
	speech := audiotest.Speech(b, "The quick brown fox jumps over the lazy dog. Push to talk, then let go.")
	k, err := netsim.KindByName("bufferbloat")
	if err != nil {
		b.Fatal(err)
	}
	tr := netsim.Generate(netsim.Talker{Length: 60 * time.Second}, netsim.NewLink(k.Link(1)))
	payload := []byte{toc(960), 7}
	out := make([]int16, 480)
	var ticks, ops int64
	var st Stats
	b.ReportAllocs()
	for b.Loop() {
		m := New(Config{FrameSamples: 480, NewDecoder: func() (codec.FrameDecoder, error) { return &speechDecoder{speech: speech}, nil }})
		end := tr.Arrivals[len(tr.Arrivals)-1].Arrive + time.Second
		ai := 0
		for now := time.Duration(0); now < end; now += 10 * time.Millisecond {
			for ; ai < len(tr.Arrivals) && tr.Arrivals[ai].Arrive <= now; ai++ {
				a := tr.Arrivals[ai]
				s := tr.Sent[a.Index]
				m.Push(1, jitter.Packet{Seq: s.Seq, Timestamp: s.Timestamp, Start: s.Start, End: s.End,
					Payload: payload, Arrival: t0.Add(a.Arrive)})
			}
			m.Tick(t0.Add(now), out)
			ticks++
		}
		st = m.Stats()
		ops += int64(st.TimeStretchOps)
	}
	b.ReportMetric(float64(st.Jitter.Late+st.Jitter.Dropped), "lost/run")
	b.ReportMetric(float64(st.Jitter.ConcealedSamples)/480, "concealed-ticks/run")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(ticks), "ns/tick")
	b.ReportMetric(float64(ops)/float64(ticks), "periods/tick")
}

// BenchmarkStretchApply: one pitch period found and removed from 30 ms of
// decoded speech (the cost of a tick when time-stretching is active).
func BenchmarkStretchApply(b *testing.B) {
	speech := audiotest.Speech(b, "The quick brown fox jumps over the lazy dog.")
	seg := speech[len(speech)/2 : len(speech)/2+1440]
	buf := make([]int16, 0, 4096)
	var s stretcher
	b.ReportAllocs()
	for b.Loop() {
		buf = append(buf[:0], seg...)
		s.debt = -480
		buf, _ = s.apply(buf, 0, 0)
	}
}

// TestTimeStretchThroughMixer: speech over the bufferbloat network (the
// delay ramps up by 40 ms/s to 350 ms and collapses, every 13.75 s),
// through the mixer with its pause hints, on 10 ms ticks. With
// time-stretching the buffer stretches speech up the ramps and squeezes
// it back after each collapse (or sheds it in pauses); without, it
// conceals up the ramps and loses packets as late.
func TestTimeStretchThroughMixer(t *testing.T) {
	one := audiotest.Speech(t, "The quick brown fox jumps over the lazy dog. Push to talk, then let go.")
	var speech []int16
	for len(speech) < 30*48000 {
		speech = append(speech, one...)
	}
	pkts := opusFrames(t, speech)
	k, err := netsim.KindByName("bufferbloat")
	if err != nil {
		t.Fatal(err)
	}
	tr := netsim.Generate(netsim.Talker{Length: time.Duration(len(pkts)) * 20 * time.Millisecond}, netsim.NewLink(k.Link(1)))
	plain, stretched := mixTrace(tr, pkts, true), mixTrace(tr, pkts, false)
	for _, r := range []struct {
		name string
		s    Stats
	}{{"without time-stretching", plain}, {"with time-stretching", stretched}} {
		j := r.s.Jitter
		t.Logf("%s: %d periods (%+d samples), late %d, dropped %d, concealed %.2f%%, skipped %d samples, mean delay %v",
			r.name, r.s.TimeStretchOps, r.s.TimeStretchSamples, j.Late, j.Dropped,
			100*float64(j.ConcealedSamples)/float64(len(pkts)*960), j.SkippedSamples, j.MeanDelay)
	}
	if stretched.TimeStretchOps == 0 {
		t.Fatal("no pitch period was moved")
	}
	// Frames are dropped only in pauses (quiet); a packet late for its
	// slot is resumed from (77 were lost mid-speech when the pause hints
	// forbade that), and the ramps are stretched, not concealed.
	if j := stretched.Jitter; j.Late > 3 || float64(j.ConcealedSamples) > 0.015*float64(len(pkts)*960) {
		t.Errorf("with time-stretching %d frames late, %d samples concealed", j.Late, j.ConcealedSamples)
	}
	lost := func(s Stats) uint64 { return s.Jitter.Late + s.Jitter.Dropped }
	if lost(stretched) >= lost(plain) || stretched.Jitter.ConcealedSamples >= plain.Jitter.ConcealedSamples {
		t.Errorf("with time-stretching %d frames late or dropped and %d samples concealed, without %d and %d",
			lost(stretched), stretched.Jitter.ConcealedSamples, lost(plain), plain.Jitter.ConcealedSamples)
	}
}
