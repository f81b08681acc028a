package engine

import (
	"fmt"

	"github.com/hraban/opus"

	"github.com/hark-intercom/hark/internal/codec"
)

// DefaultComplexity is the Opus encoder complexity the engine uses when
// Config.Complexity is 0. libopus defaults to 10, which costs two to four
// times the CPU for speech at 24 kbit/s with little audible gain on an
// intercom. BenchmarkEncoderComplexity (espeak-ng speech, 20 ms frames, FEC
// on; loaded 2-core EPYC VM) gave, for complexity 1 / 3 / 5 / 10: encoding
// 72 / 147 / 183 / 352 µs per frame, log-spectral distance 21.5 / 9.1 /
// 8.8 / 8.3 dB (100 Hz–8 kHz; complexity 1 with FEC falls back to a
// narrower band: 7.9 dB below 4 kHz, like 5), envelope correlation 0.992 /
// 0.995 / 0.994 / 0.995. 3 keeps the full band at four fifths of the CPU of
// 5, the largest single cost of a talking box.
const DefaultComplexity = 3

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
