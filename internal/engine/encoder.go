package engine

import (
	"fmt"

	"github.com/hraban/opus"

	"github.com/hark-intercom/hark/internal/codec"
)

// DefaultComplexity is the Opus encoder complexity the engine uses when
// Config.Complexity is 0, and LowComplexityBitrate the bitrate it then uses
// when Config.Bitrate is 0.
//
// The encoder is the largest single cost of a talking box. libopus
// defaults to complexity 10, two to four times the CPU of low complexities
// for speech with little audible gain on an intercom. Below complexity 2
// SILK uses its plain noise-shaping quantiser instead of the delayed-
// decision one, which libopus rates at about a fifth of the bitrate: at
// 24 kbit/s with in-band FEC and 10 % planned loss it then falls back to
// narrowband (nothing above 4 kHz), but 4 kbit/s more keep it wideband.
// BenchmarkEncoderComplexity (espeak-ng speech, 20 ms frames, FEC on; 2-core
// EPYC VM): complexity 3 at 24 kbit/s 121–147 µs per frame, log-spectral
// distance 9.1 dB; complexity 1 at 24 kbit/s 58–67 µs but 21.4 dB
// (narrowband); complexity 1 at 28 kbit/s 85–87 µs, 8.5 dB (wideband, FEC on
// the same frames). So: complexity 1 at 28 kbit/s, a third less CPU than 3
// at 24 kbit/s, for a little better sound and 6 bytes more per frame.
const DefaultComplexity = 1

// LowComplexityBitrate is the default bitrate below complexity 2 (see
// DefaultComplexity); from 2 up it is codec.DefaultBitrate.
const LowComplexityBitrate = 28000

// opusEncoder is a VOIP-mode 48 kHz mono encoder with a chosen complexity
// (package codec keeps libopus's default). Not safe for concurrent use.
type opusEncoder struct {
	enc   *opus.Encoder
	frame int
}

var _ codec.FrameEncoder = (*opusEncoder)(nil)

func newOpusEncoder(frame, bitrate int, fec bool, lossPerc, complexity int) (*opusEncoder, error) {
	if !codec.ValidFrameSamples(frame) {
		return nil, fmt.Errorf("opus cannot encode frames of %d samples", frame)
	}
	if complexity == 0 {
		complexity = DefaultComplexity
	}
	if complexity < 1 || complexity > 10 {
		return nil, fmt.Errorf("opus complexity %d: use 1 to 10", complexity)
	}
	if bitrate == 0 {
		bitrate = codec.DefaultBitrate
		if complexity < 2 {
			bitrate = LowComplexityBitrate
		}
	}
	if lossPerc == 0 {
		lossPerc = codec.DefaultLossPerc
	}
	enc, err := opus.NewEncoder(codec.SampleRate, codec.Channels, opus.AppVoIP)
	if err != nil {
		return nil, err
	}
	for _, set := range []func() error{
		func() error { return enc.SetBitrate(bitrate) },
		func() error { return enc.SetComplexity(complexity) },
		func() error { return enc.SetInBandFEC(fec) },
		func() error {
			if fec {
				return enc.SetPacketLossPerc(lossPerc)
			}
			return nil
		},
	} {
		if err := set(); err != nil {
			return nil, err
		}
	}
	return &opusEncoder{enc: enc, frame: frame}, nil
}

// Encode encodes exactly FrameSamples samples and appends the packet to out.
func (e *opusEncoder) Encode(pcm []int16, out []byte) ([]byte, error) {
	if len(pcm) != e.frame {
		return out, fmt.Errorf("opus: %d samples, want %d", len(pcm), e.frame)
	}
	if cap(out)-len(out) < codec.MaxPacketBytes {
		out = append(make([]byte, 0, len(out)+codec.MaxPacketBytes), out...)
	}
	buf := out[len(out) : len(out)+codec.MaxPacketBytes : len(out)+codec.MaxPacketBytes]
	n, err := e.enc.Encode(pcm, buf)
	if err != nil {
		return out, err
	}
	return out[:len(out)+n], nil
}

// FrameSamples is the frame length.
func (e *opusEncoder) FrameSamples() int { return e.frame }
