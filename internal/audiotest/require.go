package audiotest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/wav"
)

// RequireCorrelation checks the acceptance metric: the realigned
// envelope correlation of got against ref (both mono 16-bit at rate, see
// [EnvelopeCorrelation]) must be at least minCorr. It logs both the
// realigned and the single-lag score, the global delay and the delay
// changes it found. On failure it also logs the per-segment alignment
// (which segment is delayed how much more than the one before), writes
// ref.wav and got.wav into the test's artifact directory (kept with `go
// test -artifacts`) and fails the test with their paths. It returns the
// realigned score and the global delay.
func RequireCorrelation(t testing.TB, ref, got []int16, rate int, minCorr float64) (corr float64, lag time.Duration) {
	t.Helper()
	a := EnvelopeAlignment(ref, got, rate)
	corr, lag = a.Corr, a.Lag
	t.Logf("realigned envelope correlation %.3f (want >= %.3g; single-lag %.3f), delay %v, %s, reference %v, recording %v",
		corr, minCorr, a.SingleLagCorr, lag, a.changes(), samplesDur(len(ref), rate), samplesDur(len(got), rate))
	if corr >= minCorr {
		return corr, lag
	}
	t.Logf("alignment of the recording with the reference: %v", a)
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
	t.Fatalf("recording does not match the reference: realigned envelope correlation %.3f < %.3g (single-lag %.3f; %s; files: %s %s)",
		corr, minCorr, a.SingleLagCorr, a.changes(), paths[0], paths[1])
	return corr, lag
}

func samplesDur(n, rate int) time.Duration {
	return time.Duration(int64(n) * int64(time.Second) / int64(rate))
}
