package audiotest

import (
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"
)

// Real-time audio in tests: behaviour in `make test`, figures in
// `make test-audio`.
//
// A test that plays speech through real processes or real sockets in real
// time (the end-to-end tests, the gateway's browser tests) scores the same
// code differently from run to run: the machine's load moves the adaptive
// jitter buffer, and with it the realigned correlation, by ±0.1. Asserting
// a quality target on each such run makes a suite that fails without
// anything being wrong. So such tests call [Judge] (or [Figure]):
//
//   - In the default run (`make test`) it asserts behaviour only: the
//     recording is the same speech, correlation ≥ [SameSpeech], a floor that
//     missing words, the wrong clip, noise or silence do not reach, while
//     every working run is far above it.
//   - With HARK_AUDIO_SCORES set to a file (`make test-audio`, which runs the
//     scenarios several times), each score is appended to that file as one
//     JSON line ([Score]), and internal/tools/audioreport checks the quality
//     target on the median of each scenario's runs and reports the worst.
//
// Deterministic quality checks (simulated networks, recorded arrivals,
// offline encode/decode) do not use this: they keep strict thresholds in
// `make test`.

// SameSpeech is the correlation a real-time recording must reach in the
// default test run: it is the same speech. Other speech scores 0.30–0.35,
// noise 0.19–0.41 and silence 0 (TestSameSpeechFloor), while working runs
// score 0.8–0.99. A recording that lost 30 % of its speech scores
// 0.30–0.84, so the floor catches a path that loses most of it, not one
// that loses some: that is what make test-audio's targets are for.
const SameSpeech = 0.5

// ScoresEnv names the environment variable that, when set to a file path,
// makes [Judge] and [Figure] append each figure to that file.
const ScoresEnv = "HARK_AUDIO_SCORES"

// Score is one line of the scores file: one figure of one run of one
// scenario.
type Score struct {
	Scenario string  `json:"scenario"` // the test's name, plus a suffix where one test measures several things
	Value    float64 `json:"value"`
	Unit     string  `json:"unit,omitempty"`   // "" for a correlation, "ms" for a delay
	Target   float64 `json:"target,omitempty"` // the median must reach it (0: a figure without target)
	// Lower is true where smaller is better (delays): the median must then
	// be at most Target.
	Lower bool `json:"lower,omitempty"`
	// Beats names a scenario whose median this one's median must exceed
	// (FEC against no FEC).
	Beats string    `json:"beats,omitempty"`
	Time  time.Time `json:"time"`
}

var scoresMu sync.Mutex // serialises appends from parallel tests of one process

// Recording reports whether this run records figures (make test-audio).
func Recording() bool { return os.Getenv(ScoresEnv) != "" }

// Judge scores a recording made in real time against its reference with
// the realigned envelope correlation (as [RequireCorrelation] does, which
// logs the details and saves both files on failure). The test fails only
// below [SameSpeech]; target is the quality the scenario is meant to reach,
// which `make test-audio` checks on the median of several runs. The
// scenario is the test's name plus suffix (may be empty). It returns the
// score.
func Judge(t testing.TB, suffix string, ref, got []int16, rate int, target float64) float64 {
	t.Helper()
	corr, _ := RequireCorrelation(t, ref, got, rate, SameSpeech)
	if corr < target {
		t.Logf("below this scenario's quality target %.2f in this run (make test-audio checks the target on the median of several runs)", target)
	}
	Figure(t, Score{Scenario: scenarioName(t, suffix), Value: corr, Target: target})
	return corr
}

// Figure appends s to the scores file when figures are being recorded
// (make test-audio) and does nothing otherwise. Scenario defaults to the
// test's name; Time to now. A file that cannot be written fails the test:
// a figure lost silently would make the report lie.
func Figure(t testing.TB, s Score) {
	t.Helper()
	path := os.Getenv(ScoresEnv)
	if path == "" {
		return
	}
	if s.Scenario == "" {
		s.Scenario = t.Name()
	}
	if s.Time.IsZero() {
		s.Time = time.Now().UTC()
	}
	line, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("encoding figure %+v: %v", s, err)
	}
	scoresMu.Lock()
	defer scoresMu.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err == nil {
		_, err = f.Write(append(line, '\n'))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Fatalf("recording the figure in %s (%s): %v", path, ScoresEnv, err)
	}
}

func scenarioName(t testing.TB, suffix string) string {
	if suffix == "" {
		return t.Name()
	}
	return t.Name() + "/" + suffix
}
