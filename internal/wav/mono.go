package wav

import (
	"fmt"

	"github.com/hark-intercom/hark/internal/resample"
)

// Mono returns the channels of a averaged into one (a new slice, full
// scale ±1).
func Mono(a *Audio) []float32 {
	n := a.Frames()
	out := make([]float32, n)
	if len(a.Samples) == 0 {
		return out
	}
	if len(a.Samples) == 1 {
		copy(out, a.Samples[0])
		return out
	}
	g := 1 / float32(len(a.Samples))
	for _, ch := range a.Samples {
		for i, v := range ch[:n] {
			out[i] += v
		}
	}
	for i := range out {
		out[i] *= g
	}
	return out
}

// ToMono downmixes a (averaging its channels) and resamples it to rate Hz,
// returning 16-bit samples (rounded, clipped). The result is a new slice.
func ToMono(a *Audio, rate int) ([]int16, error) {
	if a == nil {
		return nil, fmt.Errorf("wav: no audio")
	}
	m := Mono(a)
	if a.SampleRate != rate {
		var err error
		if m, err = resample.Float32(m, a.SampleRate, rate); err != nil {
			return nil, err
		}
	}
	out := make([]int16, len(m))
	for i, v := range m {
		out[i] = resample.ClipInt16(v * 32768)
	}
	return out, nil
}

// ToMono48k is ToMono(a, 48000): the 48 kHz mono 16-bit PCM that Hark
// sends. It fails only for an Audio with an unsupported sample rate, which
// [Decode] never returns.
func ToMono48k(a *Audio) ([]int16, error) { return ToMono(a, 48000) }
