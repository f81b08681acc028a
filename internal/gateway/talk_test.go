package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/wav"
)

// These tests run the real `talk` command (built once per test binary)
// against an in-process relay, with the page in headless chromium on the
// other side: "browser talks, talk record hears it" and "talk send talks,
// the browser hears it". They also print mouth-to-ear delays, measured with
// clicks in the audio (see clickSpeech), for BENCHMARKS.md:
//
//	go test ./internal/gateway -run 'BrowserToTalk|TalkToBrowser' -v

var talkBuild struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if talkBuild.dir != "" {
		os.RemoveAll(talkBuild.dir)
	}
	os.Exit(code)
}

// talkBinary returns the path of the `talk` binary the tests run:
// $HARK_TEST_BIN/talk when make test built it once for all its test
// processes (internal/scripts/test.sh), else cmd/talk built once per test
// binary.
func talkBinary(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("HARK_TEST_BIN"); dir != "" {
		return filepath.Join(dir, "talk")
	}
	talkBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "hark-gateway-talk-")
		if err != nil {
			talkBuild.err = err
			return
		}
		talkBuild.dir = dir
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "talk"), "github.com/hark-intercom/hark/cmd/talk").CombinedOutput()
		if err != nil {
			talkBuild.err = fmt.Errorf("building talk: %v\n%s", err, out)
		}
	})
	if talkBuild.err != nil {
		t.Fatal(talkBuild.err)
	}
	return filepath.Join(talkBuild.dir, "talk")
}

// talkProc is a running `talk` whose output lines are kept and can be
// waited for.
type talkProc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd

	mu     sync.Mutex // guards lines, notify
	lines  []string
	notify chan struct{} // closed and replaced when a line arrives

	exited chan struct{} // closed when the process has exited and its output is read
	code   int           // exit code, valid after exited
}

// startTalk runs `talk VERB --relay … --fingerprint … --user USER args…`
// against the stack's relay, with no HARK_* settings from the environment
// and a private HOME.
func startTalk(t *testing.T, st *stack, verb, user string, args ...string) *talkProc {
	t.Helper()
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HARK_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+home, "HARK_KNOWN_RELAYS="+filepath.Join(home, "known_relays"))
	a := append([]string{verb, "--relay", st.relay.Addr, "--fingerprint", st.relay.Fingerprint, "--user", user}, args...)
	p := &talkProc{t: t, name: "talk " + strings.Join(a, " "), notify: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(talkBinary(t), a...)
	p.cmd.Env = env
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", p.name, err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	for _, r := range []io.Reader{stdout, stderr} {
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				p.mu.Lock()
				p.lines = append(p.lines, sc.Text())
				close(p.notify)
				p.notify = make(chan struct{})
				p.mu.Unlock()
			}
		}()
	}
	go func() {
		wg.Wait()
		err := p.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("output of %s (exit %d):\n  %s", p.name, p.code, strings.Join(p.output(), "\n  "))
		}
	})
	return p
}

func (p *talkProc) output() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// waitLine waits for a line at index ≥ from matching re and returns its index
// and submatches; the test fails if the process exits or waitLimit passes.
func (p *talkProc) waitLine(from int, re *regexp.Regexp) (int, []string) {
	p.t.Helper()
	deadline := time.After(2 * waitLimit)
	for {
		p.mu.Lock()
		lines, notify := p.lines, p.notify
		p.mu.Unlock()
		for i := from; i < len(lines); i++ {
			if m := re.FindStringSubmatch(lines[i]); m != nil {
				return i, m
			}
		}
		select {
		case <-notify:
		case <-p.exited:
			p.mu.Lock()
			n := len(p.lines)
			p.mu.Unlock()
			if n == len(lines) {
				p.t.Fatalf("%s exited (%d) without printing a line matching %q", p.name, p.code, re)
			}
		case <-deadline:
			p.t.Fatalf("%s printed no line matching %q", p.name, re)
		}
	}
}

// wait waits for the exit and returns the exit code.
func (p *talkProc) wait() int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.code
	case <-time.After(2 * waitLimit):
		p.t.Fatalf("%s did not exit", p.name)
	}
	return -1
}

// sample0 is the wall time of sample 0 that talk send and talk record log.
func (p *talkProc) sample0() time.Time {
	p.t.Helper()
	_, m := p.waitLine(0, regexp.MustCompile(`sample0_unix_ns=(\d+)`))
	ns, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		p.t.Fatal(err)
	}
	return time.Unix(0, ns)
}

var (
	reRecording = regexp.MustCompile(`^recording channel `)
	reHearing   = regexp.MustCompile(`msg=hearing talkers="?([^"]*)"?`)
	reSilence   = regexp.MustCompile(`msg=silence`)
)

// clickSpeech writes the test's microphone and `talk send` file: a click at
// 0.3 s, the speech of ../webm/testdata/source.wav (which has 0.5 s of
// silence at each end), and a click 0.1 s after it. It returns the file, its
// samples and the clicks' onsets. The clicks mark the same instants at both
// ends for the mouth-to-ear figures.
func clickSpeech(t *testing.T) (string, []int16, [2]time.Duration) {
	t.Helper()
	src := sourcePCM(t)
	pre := audiotest.ClickTrack(48000, 600*time.Millisecond, 300*time.Millisecond)
	post := audiotest.ClickTrack(48000, 600*time.Millisecond, 100*time.Millisecond)
	pcm := append(append(append([]int16(nil), pre...), src...), post...)
	clicks := [2]time.Duration{300 * time.Millisecond, time.Duration(len(pre)+len(src))*time.Second/48000 + 100*time.Millisecond}
	path := filepath.Join(t.TempDir(), "mic.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := wav.Encode(f, 48000, 1, pcm); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, pcm, clicks
}

// readRecording reads a `talk record` file.
func readRecording(t *testing.T, path string) []int16 {
	t.Helper()
	a, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := wav.ToMono48k(a)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// clickThreshold is the level (of full scale) at which a click is found;
// the page's worklets use the same (ONSET in web/*-worklet.js).
const clickThreshold = 0.2

// firstLast returns the first and last of onsets found with dead time 0.3 s.
func firstLast(pcm []int16) ([2]time.Duration, bool) {
	on := audiotest.FindClicks(pcm, 48000, clickThreshold, 300*time.Millisecond)
	if len(on) < 2 {
		return [2]time.Duration{}, false
	}
	return [2]time.Duration{on[0], on[len(on)-1]}, true
}

// wallMs turns a page's wall-clock milliseconds into a time.
func wallMs(ms float64) time.Time { return time.Unix(0, int64(ms*1e6)) }

// TestBrowserToTalk: the page talks (fake microphone), `talk record` hears it,
// for the low-latency paths (AudioWorklet PCM encoded by the gateway, and
// Opus encoded in the page with WebCodecs) and the MediaRecorder path.
func TestBrowserToTalk(t *testing.T) {
	for _, path := range []string{"worklet", "webcodecs", "mediarecorder"} {
		t.Run(path, func(t *testing.T) { testBrowserToTalk(t, path) })
	}
}

func testBrowserToTalk(t *testing.T, path string) {
	needChromium(t)
	testBrowserToTalkOn(t, startStack(t), path, "websocket")
}

// testBrowserToTalkOn is testBrowserToTalk on stack st, checking that the
// page uses transport ("websocket" or "webtransport").
func testBrowserToTalkOn(t *testing.T, st *stack, path, transport string) {
	mic, ref, clicks := clickSpeech(t)
	// Two recorders: one with the default adaptive buffer (as low as the
	// network allows) gives the mouth-to-ear figure; one with a 200 ms
	// buffer (what --buffer is for: a recording needs no low delay) is
	// checked against the source, so that a hiccup of a busy machine (a
	// late burst that the low buffer plays as a gap and a shift) does not
	// fail the check of what the page sent.
	out := filepath.Join(t.TempDir(), "heard.wav")
	rec := startTalk(t, st, "record", "listener", "-v", "--out", out)
	outB := filepath.Join(t.TempDir(), "heard-buffered.wav")
	recB := startTalk(t, st, "record", "buffered", "-v", "--buffer", "200ms", "--out", outB)
	rec.waitLine(0, reRecording)
	recB.waitLine(0, reRecording)
	sample0 := rec.sample0()

	b := newBrowser(t, mic, 1280, 800)
	b.login(st.base+"/?path="+path, "web", "")
	b.waitFor(`window.harkTest && harkTest.state().channel === 'lobby'`)
	if tr := run(b, chromedp.Evaluate[string](`harkTest.state().transport`)); tr != transport {
		t.Fatalf("the page uses %q, want %q", tr, transport)
	}
	// Press with a real input event: the space bar (worklet) or the mouse on
	// the big button (mediarecorder).
	var x, y float64
	if path != "mediarecorder" {
		run(b, chromedp.Action[chromedp.Void](keyAction(input.DispatchKeyEventTypeKeyDown)))
	} else {
		pos := run(b, chromedp.Evaluate[[]float64](`(() => { const r = document.getElementById('ptt').getBoundingClientRect(); return [r.x + r.width/2, r.y + r.height/2]; })()`))
		x, y = pos[0], pos[1]
		run(b, chromedp.Action[chromedp.Void](chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x, y, chromedp.ButtonType(input.MouseButtonLeft), chromedp.ClickCount(1))))
	}
	b.waitFor(`harkTest.state().floor === 'talking'`)
	if tp := run(b, chromedp.Evaluate[string](`harkTest.state().txPath`)); tp != path {
		t.Fatalf("the page sends with %q, want %q", tp, path)
	}
	// Hold until the page has captured the whole file and a little more.
	b.waitFor(fmt.Sprintf(`harkTest.state().stats.capSamples >= %d`, len(ref)+48000/5))
	if path != "mediarecorder" {
		run(b, chromedp.Action[chromedp.Void](keyAction(input.DispatchKeyEventTypeKeyUp)))
	} else {
		run(b, chromedp.Action[chromedp.Void](chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x, y, chromedp.ButtonType(input.MouseButtonLeft), chromedp.ClickCount(1))))
	}
	// The recorders heard the page and then silence: the transmission is in the files.
	for _, r := range []*talkProc{rec, recB} {
		i := 0
		for {
			j, m := r.waitLine(i, reHearing)
			i = j + 1
			if strings.Contains(m[1], "web") {
				break
			}
		}
		r.waitLine(i, reSilence)
		r.cmd.Process.Signal(os.Interrupt)
		if code := r.wait(); code != 0 {
			t.Fatalf("talk record exited with %d", code)
		}
	}
	sent := run(b, chromedp.Evaluate[int](`harkTest.state().stats.sentFrames`))
	t.Logf("%s path over %s: the page sent %d frames, the relay received %d from everyone", path, transport, sent, st.relay.Stats().FramesIn)
	got := readRecording(t, out)
	cLow, _ := audiotest.EnvelopeCorrelation(ref, got, 48000)
	gotB := readRecording(t, outB)
	c, lag := audiotest.EnvelopeCorrelation(ref, gotB, 48000)
	t.Logf("%s path over %s: talk record --buffer 200ms wrote %.2f s, envelope r=%.3f, lag %v (adaptive buffer: r=%.3f)", path, transport, float64(len(gotB))/48000, c, lag, cLow)
	audiotest.Figure(t, audiotest.Score{Scenario: t.Name() + "/adaptive-buffer", Value: cLow})

	// Mouth-to-ear: from the page's capture of each click (wall clock) to
	// its place in the recording (talk record's sample-0 wall time + offset).
	capOn := run(b, chromedp.Evaluate[[]float64](`harkTest.captureOnsets()`))
	heard, ok := firstLast(got)
	if spacing := heard[1] - heard[0]; ok && (spacing < clicks[1]-clicks[0]-200*time.Millisecond || spacing > clicks[1]-clicks[0]+500*time.Millisecond) {
		// The first onset found is not the first click: the recording lost it.
		t.Logf("%s path over %s: no first-click figure: the adaptive recording lost the first click (onsets %v apart, sent %v apart)", path, transport, spacing.Round(time.Millisecond), clicks[1]-clicks[0])
		if len(capOn) >= 2 {
			// The last onset is still the last click.
			t.Logf("%s path over %s: mouth-to-ear browser → talk record: last click %v", path, transport,
				sample0.Add(heard[1]).Sub(wallMs(capOn[len(capOn)-1])).Round(100*time.Microsecond))
		}
	} else if len(capOn) >= 2 && ok {
		mouth := [2]time.Time{wallMs(capOn[0]), wallMs(capOn[len(capOn)-1])}
		ear := [2]time.Time{sample0.Add(heard[0]), sample0.Add(heard[1])}
		t.Logf("%s path over %s: mouth-to-ear browser → talk record: first click %v, last click %v (click spacing: sent %v, captured %v, heard %v)",
			path, transport, ear[0].Sub(mouth[0]).Round(100*time.Microsecond), ear[1].Sub(mouth[1]).Round(100*time.Microsecond),
			(clicks[1] - clicks[0]).Round(time.Millisecond), mouth[1].Sub(mouth[0]).Round(time.Millisecond), (heard[1] - heard[0]).Round(time.Millisecond))
	} else {
		t.Logf("%s path: clicks not found for the delay figure (page %d onsets, recording ok=%v)", path, len(capOn), ok)
	}
	audiotest.Judge(t, "", ref, gotB, 48000, 0.8)
}

// TestTalkToBrowser: `talk send` talks, the page plays it; the page records
// its own output (MediaStreamAudioDestinationNode tap) and the test compares
// it with the file sent. Playback "pcm" is the live AudioWorklet path, "wav"
// the whole-transmission fallback.
func TestTalkToBrowser(t *testing.T) {
	for _, playback := range []string{"pcm", "wav"} {
		t.Run(playback, func(t *testing.T) { testTalkToBrowser(t, playback) })
	}
}

func testTalkToBrowser(t *testing.T, playback string) {
	needChromium(t)
	testTalkToBrowserOn(t, startStack(t), playback, "websocket")
}

// testTalkToBrowserOn is testTalkToBrowser on stack st, checking that the
// page uses transport ("websocket" or "webtransport").
func testTalkToBrowserOn(t *testing.T, st *stack, playback, transport string) {
	file, ref, clicks := clickSpeech(t)
	b := newBrowser(t, micFile, 1280, 800)
	b.login(st.base+"/?playback="+playback, "web", "")
	b.waitFor(`window.harkTest && harkTest.state().channel === 'lobby' && harkTest.state().ctxState === 'running'`)
	if tr := run(b, chromedp.Evaluate[string](`harkTest.state().transport`)); tr != transport {
		t.Fatalf("the page uses %q, want %q", tr, transport)
	}
	b.eval(`harkTest.startRecording()`)
	snd := startTalk(t, st, "send", "talker", "-v", file)
	if code := snd.wait(); code != 0 {
		t.Fatalf("talk send exited with %d", code)
	}
	sample0 := snd.sample0()
	lat := run(b, chromedp.Evaluate[[]float64](`[harkTest.latency().base || 0, harkTest.latency().output || 0]`))
	t.Logf("%s playback: the page's audio context reports baseLatency %.1f ms, outputLatency %.1f ms", playback, lat[0]*1000, lat[1]*1000)
	if playback == "wav" {
		// The whole transmission arrives as one WAV after its end; wait until it has played.
		b.waitFor(`harkTest.state().stats.wavBlobs > 0 && harkTest.state().stats.wavPlayed > 0`)
	} else {
		// The talker is gone and the player has played out its buffer.
		b.waitFor(`harkTest.state().talkers.length === 0 && harkTest.state().stats.drained > 0`)
	}
	rec := run(b, chromedp.Evaluate[struct {
		PCM       string    `json:"pcm"`
		Rate      int       `json:"rate"`
		Onsets    []float64 `json:"onsetWalls"`
		TapOnsets []float64 `json:"tapOnsetWalls"`
	}](`harkTest.stopRecording({wall: true})`, chromedp.EvalAwaitPromise))
	pcm := decodePCM(t, rec.PCM)
	if rec.Rate != 48000 {
		t.Fatalf("page plays at %d Hz", rec.Rate)
	}
	c, lag := audiotest.EnvelopeCorrelation(ref, pcm, 48000)
	t.Logf("%s playback: page recorded %.2f s, envelope r=%.3f, lag %v", playback, float64(len(pcm))/48000, c, lag)

	// Mouth-to-ear: talk send's sample-0 wall time + the click's place in
	// the file → the wall time the page's output plays the click.
	if n := len(rec.Onsets); n >= 2 {
		mouth := [2]time.Time{sample0.Add(clicks[0]), sample0.Add(clicks[1])}
		ear := [2]time.Time{wallMs(rec.Onsets[0]), wallMs(rec.Onsets[n-1])}
		tap := ""
		if m := len(rec.TapOnsets); m >= 2 {
			tap = fmt.Sprintf(" (at the MediaStream tap: %v, %v)", wallMs(rec.TapOnsets[0]).Sub(mouth[0]).Round(100*time.Microsecond),
				wallMs(rec.TapOnsets[m-1]).Sub(mouth[1]).Round(100*time.Microsecond))
		}
		t.Logf("%s playback over %s: mouth-to-ear talk send → page output: first click %v, last click %v%s (click spacing: sent %v, played %v)",
			playback, transport, ear[0].Sub(mouth[0]).Round(100*time.Microsecond), ear[1].Sub(mouth[1]).Round(100*time.Microsecond), tap,
			(clicks[1] - clicks[0]).Round(time.Millisecond), ear[1].Sub(ear[0]).Round(time.Millisecond))
	} else {
		t.Logf("%s playback: clicks not found at the page's output (%d onsets)", playback, len(rec.Onsets))
	}
	audiotest.Judge(t, "", ref, pcm, 48000, 0.8)
}
