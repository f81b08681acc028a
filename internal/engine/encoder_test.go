package engine

import (
	"strconv"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/codec"
)

// BenchmarkEncoderComplexity encodes espeak-ng speech with the engine's
// encoder at several complexities (20 ms frames, default bitrate, FEC on),
// decodes it and reports the encoding CPU per frame and, as a rough quality
// check, the envelope correlation (audiotest) of the decoded speech with the
// original.
//
//	go test -run '^$' -bench EncoderComplexity ./internal/engine
func BenchmarkEncoderComplexity(b *testing.B) {
	speech := audiotest.Speech(b, "Hello, this is the front door. Could somebody please come down and open it? Thank you.")
	const frame = 960
	n := len(speech) / frame * frame
	for _, cx := range []int{1, 3, 5, 10} {
		b.Run("complexity"+strconv.Itoa(cx), func(b *testing.B) {
			enc, err := newOpusEncoder(frame, 0, true, 0, cx)
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
			b.ReportMetric(float64(encTime.Microseconds())/float64(frames), "enc-µs/frame")
			b.ReportMetric(100*float64(encTime)/float64(time.Duration(frames)*20*time.Millisecond), "enc-cpu-%")
			b.ReportMetric(float64(bytes)/float64(frames), "bytes/frame")
			b.ReportMetric(corr, "env-corr")
		})
	}
}
