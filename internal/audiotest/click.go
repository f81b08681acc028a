package audiotest

import (
	"math"
	"time"
)

// Click parameters: a 1.5 kHz burst that starts at its peak (-1 dBFS) and
// decays with a 1.5 ms time constant, 8 ms long. The instant attack gives a
// sharp onset; the tone keeps enough energy in the voice band to survive
// Opus at speech bit rates.
const (
	clickFreq = 1500.0
	clickTau  = 1.5e-3
	clickLen  = 8 * time.Millisecond
	clickPeak = 0.89
)

// MakeClick returns one click at rate Hz (a new slice). Its onset is its
// first sample.
func MakeClick(rate int) []int16 {
	n := int(int64(rate) * int64(clickLen) / int64(time.Second))
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / float64(rate)
		v := clickPeak * math.Cos(2*math.Pi*clickFreq*t) * math.Exp(-t/clickTau)
		out[i] = int16(math.Round(v * 32767))
	}
	return out
}

// ClickTrack returns total of silence at rate Hz with a click (see
// [MakeClick]) whose onset is at each of the given times. Clicks that do not
// fit are cut at the end.
func ClickTrack(rate int, total time.Duration, at ...time.Duration) []int16 {
	out := make([]int16, int(int64(rate)*int64(total)/int64(time.Second)))
	c := MakeClick(rate)
	for _, t := range at {
		i := int(int64(rate) * int64(t) / int64(time.Second))
		if i < 0 || i >= len(out) {
			continue
		}
		copy(out[i:], c)
	}
	return out
}

// FindClick returns the onset of the first click in pcm: the time where
// |sample| first reaches threshold (a fraction of full scale, e.g. 0.25),
// interpolated between samples for sub-sample precision. ok is false when
// no sample reaches the threshold.
func FindClick[S Sample](pcm []S, rate int, threshold float64) (onset time.Duration, ok bool) {
	ts := FindClicks(pcm, rate, threshold, 0)
	if len(ts) == 0 {
		return 0, false
	}
	return ts[0], true
}

// FindClicks returns the onsets of all clicks in pcm (see [FindClick]); after
// each onset, samples within deadTime (default 50 ms when 0) are ignored so
// that one click's ringing is not counted again.
func FindClicks[S Sample](pcm []S, rate int, threshold float64, deadTime time.Duration) []time.Duration {
	if deadTime <= 0 {
		deadTime = 50 * time.Millisecond
	}
	scale := scaleOf(pcm)
	dead := int(int64(rate) * int64(deadTime) / int64(time.Second))
	var out []time.Duration
	for i := 0; i < len(pcm); i++ {
		a := math.Abs(float64(pcm[i]) * scale)
		if a < threshold {
			continue
		}
		pos := float64(i)
		if i > 0 {
			p := math.Abs(float64(pcm[i-1]) * scale)
			if a > p {
				pos = float64(i-1) + (threshold-p)/(a-p)
			}
		}
		out = append(out, time.Duration(pos/float64(rate)*float64(time.Second)))
		i += dead
	}
	return out
}
