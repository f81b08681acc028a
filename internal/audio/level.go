package audio

import "math"

// LevelDBFS returns the RMS level of a period in dB relative to full scale
// (0 for a full-scale square wave, -inf for digital silence), for level
// meters. It does not keep frame.
func LevelDBFS(frame []int16) float64 {
	if len(frame) == 0 {
		return math.Inf(-1)
	}
	var sum float64
	for _, s := range frame {
		v := float64(s)
		sum += v * v
	}
	return 10 * math.Log10(sum/float64(len(frame))/(32768.0*32768.0))
}
