package web

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// workletHarness runs play-worklet.js's processor in node, outside a
// browser: AudioWorkletProcessor, registerProcessor and sampleRate are
// stood in for, frames are posted as the page posts them and process() is
// called as the audio thread calls it (128 samples at a time), on the
// harness's own clock. The test's scenario (put at /*SCENARIO*/) sets what arrives
// when. It prints one JSON line: the loud samples that went in and came out,
// and the processor's counters.
const workletHarness = `
const fs = require('fs'), vm = require('vm');
globalThis.sampleRate = 48000;
let Proc;
globalThis.registerProcessor = (name, cls) => { Proc = cls; };
globalThis.AudioWorkletProcessor = class { constructor() { this.port = { postMessage: (m) => { if (m.stats) last = m.stats; } }; } };
let last = null;
vm.runInThisContext(fs.readFileSync('play-worklet.js', 'utf8'));
const p = new Proc({ processorOptions: { inputRate: 48000 } });

// Speech-like input: words of a 300 Hz tone (amplitude 0.3) 300 ms long,
// with 200 ms pauses of silence between them, cut into 20 ms frames.
const FRAME = 960, frames = [];
let loudIn = 0;
for (let f = 0; f < 150; f++) {
  const pcm = new Int16Array(FRAME);
  for (let i = 0; i < FRAME; i++) {
    const t = f * FRAME + i, inWord = (t % 24000) < 14400;
    const v = inWord ? 0.3 * Math.sin(2 * Math.PI * 300 * t / 48000) : 0;
    pcm[i] = Math.round(v * 32767);
    if (Math.abs(v) > 0.1) loudIn++;
  }
  frames.push(pcm);
}
// The scenario: arrival[f] is the process() call (2.67 ms each) at which frame f
// is posted.
const arrival = [];
/*SCENARIO*/
let loudOut = 0, next = 0;
const out = [[new Float32Array(128)]];
for (let call = 0; next < frames.length || call < arrival[frames.length - 1] + 1500; call++) {
  while (next < frames.length && arrival[next] <= call) {
    p.port.onmessage({ data: { talker: 7, flags: (next === 0 ? 1 : 0) | (next === frames.length - 1 ? 2 : 0), pcm: frames[next] } });
    next++;
  }
  p.process([], out);
  for (const v of out[0][0]) if (Math.abs(v) > 0.1) loudOut++;
}
p.report();
console.log(JSON.stringify({ loudIn, loudOut, stats: last }));
`

type workletResult struct {
	LoudIn, LoudOut int
	Stats           struct {
		Target, Queued, Underruns, Trimmed, Skipped int
	}
}

func runWorklet(t *testing.T, scenario string) workletResult {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed (make deps-test installs it: apt-get install -y nodejs)")
	}
	cmd := exec.Command(node, "-e", strings.Replace(workletHarness, "/*SCENARIO*/", scenario, 1))
	cmd.Dir = "." // play-worklet.js is beside this test
	outb, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, outb)
	}
	var r workletResult
	lines := strings.Split(strings.TrimSpace(string(outb)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("harness output %q: %v", outb, err)
	}
	t.Logf("loud samples in %d, out %d; counters %+v", r.LoudIn, r.LoudOut, r.Stats)
	return r
}

// TestPlayWorkletBurstCostsNoWord: a stream that stalls for 400 ms and then
// delivers its backlog at once (a phone's network, or a busy main thread
// posting late frames together) is caught up by skipping pauses, not by
// cutting words: every loud sample that went in comes out, and the backlog
// is worked off (the stream ends near its target delay, not 400 ms behind).
func TestPlayWorkletBurstCostsNoWord(t *testing.T) {
	// Frames every 7.5 calls (20 ms), except that frames 40-59 are held back
	// and arrive together with frame 60.
	r := runWorklet(t, `for (let f = 0; f < 150; f++) arrival.push(Math.floor((f >= 40 && f < 60 ? 60 : f) * 7.5));`)
	if r.Stats.Trimmed != 0 {
		t.Errorf("the player cut the backlog %d times: words were lost (loud samples in %d, out %d)", r.Stats.Trimmed, r.LoudIn, r.LoudOut)
	}
	if r.LoudOut < r.LoudIn*99/100 {
		t.Errorf("played %d loud samples of %d: speech was lost", r.LoudOut, r.LoudIn)
	}
	if r.Stats.Skipped == 0 {
		t.Errorf("no pause was skipped: the 400 ms backlog was never worked off")
	}
}

// TestPlayWorkletCutsARunawayBacklog: a stream with no pause at all whose
// backlog is far over the target (1 s behind) is still cut, so delay cannot
// build up without bound on a continuous sound.
func TestPlayWorkletCutsARunawayBacklog(t *testing.T) {
	// The first 60 frames arrive at once, 1.2 s of audio, then frames come
	// steadily; the input has pauses, but they are 300 ms apart and the
	// backlog is over the cut.
	r := runWorklet(t, `for (let f = 0; f < 150; f++) arrival.push(f < 60 ? 0 : Math.floor((f - 59) * 7.5));`)
	if r.Stats.Trimmed == 0 {
		t.Errorf("a 1.2 s backlog was never cut: the delay was left to build up")
	}
}
