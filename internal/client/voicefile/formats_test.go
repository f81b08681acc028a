package voicefile

import (
	"bytes"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/wav"
)

// TestSendRecordEveryFormatOffline is TestSendRecordEveryFormat without the
// network and the real-time clock: speech written in each format is read
// back as `talk send` reads it (wav.ReadFile, wav.ToMono48k), sent through
// Opus with FEC to a recorder on a fake clock, and the recording compared
// with the file as the e2e test does. The e2e test once scored u8-stereo-22k
// 0.871 where the other formats scored 0.98 and more: if the 8-bit decoding
// (bias), the stereo downmix or the 22 050 → 48 000 Hz resampling were
// wrong, it would show here, deterministically. It does not: the decoded
// file matches the 16-bit speech it was made from (envelope correlation
// 1.000, at the 8-bit quantisation's 33 dB) and the recording scores like
// every other format, so that score came from the run's timing (it is the
// second sender, on the air while nine more processes start), not from the
// format.
func TestSendRecordEveryFormatOffline(t *testing.T) {
	speech := audiotest.Speech(t, "Hello from the hark intercom. One two three.")
	for _, f := range audiotest.WAVFormats {
		t.Run(f.Name, func(t *testing.T) {
			path := audiotest.WriteWAV(t, f.F, speech, audiotest.SpeechRate)
			a, err := wav.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := wav.ToMono48k(a)
			if err != nil {
				t.Fatal(err)
			}
			fileCorr, fileLag := audiotest.EnvelopeCorrelation(speech, ref, 48000)
			got := sendToRecorder(t, ref, 0)
			corr, _ := audiotest.RequireCorrelation(t, ref, got, 48000, 0.97)
			t.Logf("%s: file vs the 16-bit speech %.4f (lag %v, %d vs %d samples), recording vs file %.3f",
				f.Name, fileCorr, fileLag, len(ref), len(speech), corr)
			if fileCorr < 0.99 || fileLag != 0 {
				t.Errorf("%s: the decoded file differs from the speech it was written from: envelope correlation %.4f, lag %v", f.Name, fileCorr, fileLag)
			}
			if d := len(ref) - len(speech); d < -48 || d > 48 { // two resamplings round the length
				t.Errorf("%s: decoded to %d samples at 48 kHz, the speech has %d", f.Name, len(ref), len(speech))
			}
		})
	}
}

// TestSenderStallDuringSendRecord: the sender's process stalls for 300 or
// 800 ms 0.6 s into the speech, as a process on the air while others start
// up does on a busy machine (u8-stereo-22k is the second of eleven senders
// in the e2e test), and then sends the frames it owes in one burst. The
// stall costs its own audio (a 300 ms stall alone brings the score to
// about 0.88, the e2e run's 0.871); the rest of the recording must play at
// the delay it had. Before the jitter buffer kept stalls out of its target,
// it played the rest of the recording 327 ms (826 ms) late, and the scores
// were 0.551 (0.315); now 0.882 (0.699), the rest on time.
func TestSenderStallDuringSendRecord(t *testing.T) {
	speech := audiotest.Speech(t, "Hello from the hark intercom. One two three.")
	path := audiotest.WriteWAV(t, wav.Format{Rate: 22050, Channels: 2, Bits: 8}, speech, audiotest.SpeechRate)
	a, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := wav.ToMono48k(a)
	if err != nil {
		t.Fatal(err)
	}
	_, calmLag := audiotest.EnvelopeCorrelation(ref, sendToRecorder(t, ref, 0), 48000)
	const after = 48000 * 16 / 10 // from 1.6 s on: after the stalls
	for _, d := range []time.Duration{300 * time.Millisecond, 800 * time.Millisecond} {
		got := sendToRecorder(t, ref, d)
		corr, lag := audiotest.EnvelopeCorrelation(ref, got, 48000)
		tail, tailLag := audiotest.EnvelopeCorrelation(ref[after:], got, 48000)
		tailLag -= time.Duration(after) * time.Second / 48000
		t.Logf("sender stalled %v: correlation %.3f, delay %v (%v without the stall); after the stall %.3f at %v", d, corr, lag, calmLag, tail, tailLag)
		if diff := tailLag - calmLag; diff > 10*time.Millisecond || diff < -10*time.Millisecond {
			t.Errorf("sender stalled %v: the recording plays %v late after it, %v without the stall", d, tailLag, calmLag)
		}
		if tail < 0.97 {
			t.Errorf("sender stalled %v: correlation %.3f after the stall", d, tail)
		}
	}
}

// stallingSink is a loopSink whose sender stalls for d (on the test's fake
// clock) when it sends frame 30, 0.6 s into the speech, holding up Send;
// Send then catches up.
type stallingSink struct {
	loopSink
	d time.Duration
}

func (s *stallingSink) Send(opus []byte, samples int) error {
	if s.d > 0 && s.seq == 30 {
		time.Sleep(s.d)
	}
	return s.loopSink.Send(opus, samples)
}

// sendToRecorder sends pcm with Send (20 ms frames, FEC) to a recorder on a
// fake clock and returns the recording; the sender stalls for stall 0.6 s
// in (see stallingSink).
func sendToRecorder(t *testing.T, pcm []int16, stall time.Duration) (got []int16) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		var f memFile
		w, err := wav.NewWriter(&f, 48000, 1)
		if err != nil {
			t.Fatal(err)
		}
		rec := NewRecorder(w, RecordConfig{FrameSamples: 960})
		length := time.Duration(len(pcm))*time.Second/48000 + time.Second
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := rec.Run(t.Context(), length); err != nil {
				t.Error(err)
			}
		}()
		synctest.Wait()
		// Half a period after the recorder: no frame is sent at the
		// very instant of a tick, whose order would be up to the
		// scheduler.
		time.Sleep(10 * time.Millisecond)
		if _, err := Send(t.Context(), &stallingSink{loopSink: loopSink{rec: rec}, d: stall}, pcm, SendConfig{FrameSamples: 960, FEC: true}); err != nil {
			t.Fatal(err)
		}
		<-done
		w.Close()
		a, err := wav.Decode(bytes.NewReader(f.b))
		if err != nil {
			t.Fatal(err)
		}
		got, _ = wav.ToMono48k(a)
	})
	return got
}
