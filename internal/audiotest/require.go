package audiotest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/wav"
)

// RequireCorrelation checks the acceptance metric: the aligned envelope
// correlation of got against ref (both mono 16-bit at rate) must be at
// least minCorr. It logs the figures and, on failure, writes ref.wav and
// got.wav into the test's artifact directory (kept with `go test
// -artifacts`) and fails the test with their paths.
func RequireCorrelation(t testing.TB, ref, got []int16, rate int, minCorr float64) (corr float64, lag time.Duration) {
	t.Helper()
	corr, lag = EnvelopeCorrelation(ref, got, rate)
	t.Logf("aligned envelope correlation %.3f (want >= %.2f), delay %v, reference %v, recording %v",
		corr, minCorr, lag, samplesDur(len(ref), rate), samplesDur(len(got), rate))
	if corr >= minCorr {
		return corr, lag
	}
	dir := t.ArtifactDir()
	paths := []string{filepath.Join(dir, "ref.wav"), filepath.Join(dir, "got.wav")}
	for i, pcm := range [][]int16{ref, got} {
		w, err := wav.CreateFile(paths[i], rate, 1)
		if err == nil {
			err = w.Write(pcm)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			t.Logf("saving %s: %v", paths[i], err)
		}
	}
	t.Fatalf("recording does not match the reference: correlation %.3f < %.2f (files: %s %s)",
		corr, minCorr, paths[0], paths[1])
	return corr, lag
}

func samplesDur(n, rate int) time.Duration {
	return time.Duration(int64(n) * int64(time.Second) / int64(rate))
}
