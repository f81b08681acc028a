package engine

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audio"
	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/ptt"
	"github.com/hark-intercom/hark/internal/vad"
)

// pcmEncoder "encodes" a frame as a copy of its samples, so a test can find
// where in the input each sent frame came from.
type pcmEncoder struct {
	frame int
	sent  chan []int16
}

func (p pcmEncoder) Encode(pcm []int16, out []byte) ([]byte, error) {
	p.sent <- slices.Clone(pcm)
	return append(out, 1), nil
}
func (p pcmEncoder) FrameSamples() int { return p.frame }

// TestVoiceActivationKeepsTheFirstSyllable speaks a sentence after half a
// second of room noise into an engine talking by voice activation and
// finds where the first frame it sent starts: with the default pre-roll
// the whole onset of the speech is on the air, without it the detector's
// reaction time is lost. The floor is granted as soon as it is asked for,
// as on a LAN (each period waits for the engine to act on the detector).
func TestVoiceActivationKeepsTheFirstSyllable(t *testing.T) {
	speech := audiotest.Speech(t, "Parcel for the front desk.")
	// Where the speech really starts: the first 10 ms period above -45 dBFS.
	lead := 50 * audio.PeriodFrames
	sig := make([]int16, lead, lead+len(speech))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range sig {
		sig[i] = int16(rng.NormFloat64() * 30) // about -60 dBFS of hiss
	}
	sig = append(sig, speech...)
	for i := lead; i < len(sig); i++ { // hiss under the speech too: every frame is unique
		sig[i] = int16(max(-32768, min(32767, float64(sig[i])+rng.NormFloat64()*30)))
	}
	onset := -1
	for i := lead; i+audio.PeriodFrames <= len(sig); i += audio.PeriodFrames {
		if audio.LevelDBFS(sig[i:i+audio.PeriodFrames]) > -45 {
			onset = i
			break
		}
	}
	if onset < 0 {
		t.Fatal("the generated speech is silent")
	}

	for _, tc := range []struct {
		name    string
		preRoll time.Duration
	}{{"default-preroll", DefaultVADPreRoll}, {"no-preroll", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			v := ptt.NewVAD(vad.Config{})
			seen := make(chan struct{}, 1)
			h := start(t, func(c *Config) {
				c.FrameSamples = 960
				c.PreRoll = tc.preRoll
				c.PreRollIf = v.Open // as talk and the box wire it
				c.PTT = v
				c.OnCapture = func(p []int16) { v.Feed(p); seen <- struct{}{} }
			})
			enc := pcmEncoder{frame: 960, sent: make(chan []int16, len(sig)/960+64)}
			h.e.enc = enc
			tx := newFakeTx()
			h.floor.answers <- func() (Transmitter, error) { return tx, nil }
			after := -1 // periods pushed since the grant
			for i := 0; i+audio.PeriodFrames <= len(sig) && after < 20; i += audio.PeriodFrames {
				h.capt.push(sig[i : i+audio.PeriodFrames])
				<-seen
				switch {
				case after >= 0:
					after++
				case v.Features().Open:
					// Let the engine ask for and get the floor before
					// the next period is captured, as real time would.
					h.waitState(t, "talking", func(s State) bool { return s.Talking })
					after = 0
				}
			}
			h.stop(t)
			var first []int16
			select {
			case first = <-enc.sent:
			default:
				t.Fatal("nothing was sent: the detector never opened")
			}
			at := -1
			for i := 0; i+len(first) <= len(sig); i += audio.PeriodFrames {
				if slices.Equal(sig[i:i+len(first)], first) {
					at = i
					break
				}
			}
			if at < 0 {
				t.Fatal("the first frame sent is not from the input")
			}
			lost := time.Duration(max(0, at-onset)) * time.Second / 48000
			t.Logf("speech starts at %v, the first frame sent at %v: %v of the onset lost; %d pre-roll frames",
				time.Duration(onset)*time.Second/48000, time.Duration(at)*time.Second/48000, lost, h.e.Stats().PreRollFrames)
			if tc.preRoll > 0 && lost > 0 {
				t.Errorf("with a %v pre-roll the first %v of the speech were not sent", tc.preRoll, lost)
			}
			if tc.preRoll == 0 && lost == 0 {
				t.Errorf("without pre-roll nothing of the onset was lost: the test does not show the problem")
			}
		})
	}
}
