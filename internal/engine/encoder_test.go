package engine

import (
	"math"
	"math/cmplx"
	"strconv"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/codec"
)

// BenchmarkEncoderComplexity encodes espeak-ng speech with the engine's
// encoder at several complexities (20 ms frames, the engine's default
// bitrate for each complexity unless named, FEC on;
// "nofec" without in-band FEC), decodes it and reports the encoding CPU per
// frame and two quality checks against the original: the envelope
// correlation (audiotest; coarse, it hardly tells codecs apart) and the
// log-spectral distance in dB over 20 ms frames with speech, 100 Hz–8 kHz
// (lower is better; about 1 dB is hard to hear).
//
//	go test -run '^$' -bench EncoderComplexity ./internal/engine
func BenchmarkEncoderComplexity(b *testing.B) {
	speech := audiotest.Speech(b, "Hello, this is the front door. Could somebody please come down and open it? Thank you.")
	const frame = 960
	n := len(speech) / frame * frame
	type ecase struct {
		cx      int
		fec     bool
		bitrate int // 0: the engine's default for cx
	}
	for _, c := range []ecase{{1, true, 0}, {1, true, 24000}, {2, true, 0}, {3, true, 0}, {5, true, 0}, {10, true, 0}, {1, false, 0}, {5, false, 0}} {
		cx := c.cx
		name := "complexity" + strconv.Itoa(cx)
		if c.bitrate != 0 {
			name += "-" + strconv.Itoa(c.bitrate/1000) + "k"
		}
		if !c.fec {
			name += "-nofec"
		}
		b.Run(name, func(b *testing.B) {
			enc, err := newOpusEncoder(frame, c.bitrate, c.fec, 0, cx)
			if err != nil {
				b.Fatal(err)
			}
			dec, err := codec.NewDecoder()
			if err != nil {
				b.Fatal(err)
			}
			out := make([]int16, 0, n)
			pkt := make([]byte, 0, codec.MaxPacketBytes)
			pcm := make([]int16, frame)
			var bytes int
			var encTime time.Duration
			frames := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				out = out[:0]
				for off := 0; off+frame <= n; off += frame {
					t0 := time.Now()
					p, err := enc.Encode(speech[off:off+frame], pkt[:0])
					encTime += time.Since(t0)
					if err != nil {
						b.Fatal(err)
					}
					bytes += len(p)
					frames++
					got, err := dec.Decode(p, pcm)
					if err != nil {
						b.Fatal(err)
					}
					out = append(out, pcm[:got]...)
				}
			}
			b.StopTimer()
			corr, _ := audiotest.EnvelopeCorrelation(speech[:n], out, 48000)
			b.ReportMetric(logSpectralDistance(speech[:n], out[len(out)-n:]), "lsd-dB")
			b.ReportMetric(float64(encTime.Microseconds())/float64(frames), "enc-µs/frame")
			b.ReportMetric(100*float64(encTime)/float64(time.Duration(frames)*20*time.Millisecond), "enc-cpu-%")
			b.ReportMetric(float64(bytes)/float64(frames), "bytes/frame")
			b.ReportMetric(corr, "env-corr")
		})
	}
}

// logSpectralDistance returns the mean log-spectral distance in dB between
// ref and got (the same length), over 20 ms Hann-windowed frames where ref
// is within 40 dB of its loudest frame, between 100 Hz and 8 kHz. got is
// first aligned to ref (codec delay) by waveform cross-correlation.
func logSpectralDistance(ref, got []int16) float64 {
	const frame, nfft = 960, 1024
	lag, best := 0, math.Inf(-1)
	for l := 0; l < 1200; l++ { // Opus delays by a few ms
		var c float64
		for i := 0; i+l < len(got) && i < len(ref); i += 7 {
			c += float64(ref[i]) * float64(got[i+l])
		}
		if c > best {
			lag, best = l, c
		}
	}
	got = got[lag:]
	spec := func(x []int16) []float64 {
		buf := make([]complex128, nfft)
		for i, v := range x {
			w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(len(x)-1))
			buf[i] = complex(float64(v)*w, 0)
		}
		audiotest.FFT(buf, false)
		p := make([]float64, nfft/2)
		for i := range p {
			a := cmplx.Abs(buf[i])
			p[i] = 10 * math.Log10(a*a+1)
		}
		return p
	}
	lo, hi := 100*nfft/48000, 8000*nfft/48000
	var energies []float64
	for off := 0; off+frame <= len(got) && off+frame <= len(ref); off += frame {
		var e float64
		for _, v := range ref[off : off+frame] {
			e += float64(v) * float64(v)
		}
		energies = append(energies, 10*math.Log10(e+1))
	}
	loudest := math.Inf(-1)
	for _, e := range energies {
		loudest = math.Max(loudest, e)
	}
	var sum float64
	var count int
	for k, e := range energies {
		if e < loudest-40 {
			continue
		}
		a, b := spec(ref[k*frame:(k+1)*frame]), spec(got[k*frame:(k+1)*frame])
		var d float64
		for i := lo; i < hi; i++ {
			d += (a[i] - b[i]) * (a[i] - b[i])
		}
		sum += math.Sqrt(d / float64(hi-lo))
		count++
	}
	if count == 0 {
		return math.NaN()
	}
	return sum / float64(count)
}
