package audiotest

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The floor of make test's real-time checks must be able to fail: other
// speech, noise and silence stay below it; the same speech with a delay is
// far above it.
func TestSameSpeechFloor(t *testing.T) {
	sp := Speech(t, sentence0)
	for name, got := range map[string][]int16{
		"other speech": Speech(t, sentence1),
		"white noise":  addNoise(silence(4*time.Second), 0.1, 3),
		"silence":      silence(4 * time.Second),
	} {
		if c, _ := EnvelopeCorrelation(sp, concat(silence(300*time.Millisecond), got), rate); c >= SameSpeech {
			t.Errorf("%s scores %.3f, at or above the same-speech floor %.2f", name, c, SameSpeech)
		}
	}
	if c, _ := EnvelopeCorrelation(sp, concat(silence(300*time.Millisecond), sp), rate); c < 0.95 {
		t.Errorf("the same speech delayed scores %.3f", c)
	}
}

// Judge records each figure as one JSON line when HARK_AUDIO_SCORES is set.
func TestJudgeRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scores.jsonl")
	t.Setenv(ScoresEnv, path)
	sp := Speech(t, sentence0)
	c := Judge(t, "clean", sp, concat(silence(100*time.Millisecond), sp), rate, 0.9)
	Figure(t, Score{Scenario: "delay", Value: 42, Unit: "ms", Lower: true, Target: 60})
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []Score
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var s Score
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if len(got) != 2 || got[0].Scenario != t.Name()+"/clean" || got[0].Value != c || got[0].Target != 0.9 ||
		got[1].Scenario != "delay" || !got[1].Lower || got[1].Unit != "ms" {
		t.Fatalf("recorded %+v", got)
	}
}
