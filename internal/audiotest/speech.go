package audiotest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hark-intercom/hark/internal/wav"
)

// SpeechRate is the sample rate of [Speech].
const SpeechRate = 48000

// speechCache holds generated speech by text for the life of the test
// binary (espeak-ng is deterministic).
var speechCache struct {
	mu sync.Mutex
	m  map[string][]int16 // guarded by mu; values never modified
}

// RequireTools fails the test with an install hint if any of the named
// programs is missing from PATH. Hark's tests do not skip for missing
// tools: `make test` installs them.
func RequireTools(t testing.TB, names ...string) {
	t.Helper()
	var missing []string
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("this test needs %s, not found in PATH: install with `apt-get install -y %s` (make test does this)",
			strings.Join(missing, ", "), strings.Join(missing, " "))
	}
}

// Speech returns text spoken by espeak-ng (US English voice) as 48 kHz mono
// 16-bit PCM, with 0.5 s of silence before and after. The result is
// cached per text for the test binary; each call returns a fresh copy.
// It fails the test if espeak-ng or sox is missing.
func Speech(t testing.TB, text string) []int16 {
	t.Helper()
	speechCache.mu.Lock()
	pcm, ok := speechCache.m[text]
	speechCache.mu.Unlock()
	if ok {
		return append([]int16(nil), pcm...)
	}
	RequireTools(t, "espeak-ng", "sox")
	dir := t.TempDir()
	raw := filepath.Join(dir, "espeak.wav")
	out := filepath.Join(dir, "speech.wav")
	run(t, "espeak-ng", "-v", "en-us", "-s", "150", "-w", raw, "--", text)
	run(t, "sox", "-D", raw, "-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer", out, "pad", "0.5", "0.5")
	a, err := wav.ReadFile(out)
	if err != nil {
		t.Fatalf("reading speech made by espeak-ng/sox: %v", err)
	}
	pcm, err = wav.ToMono48k(a)
	if err != nil {
		t.Fatal(err)
	}
	speechCache.mu.Lock()
	if speechCache.m == nil {
		speechCache.m = make(map[string][]int16)
	}
	speechCache.m[text] = pcm
	speechCache.mu.Unlock()
	return append([]int16(nil), pcm...)
}

// SpeechFile writes [Speech] for text as a 48 kHz mono 16-bit WAV in
// t.TempDir and returns its path.
func SpeechFile(t testing.TB, text string) string {
	t.Helper()
	return WriteWAV(t, wav.Format{Rate: SpeechRate, Channels: 1, Bits: 16}, Speech(t, text), SpeechRate)
}

// WriteWAV writes mono 16-bit pcm at rate as a WAV file in format f
// (resampled to f.Rate, copied to every channel; see [wav.EncodeFrom]) in
// t.TempDir and returns its path.
func WriteWAV(t testing.TB, f wav.Format, pcm []int16, rate int) string {
	t.Helper()
	p, err := os.CreateTemp(t.TempDir(), "*.wav")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := wav.EncodeFrom(p, f, pcm, rate); err != nil {
		t.Fatalf("writing %s: %v", f, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	return p.Name()
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
