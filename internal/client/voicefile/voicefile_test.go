package voicefile

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/jitter"
	"github.com/hark-intercom/hark/proto"
)

// loopSink stamps frames like a client and hands them straight to a
// recorder, recording when each was sent.
type loopSink struct {
	rec   *Recorder
	seq   uint16
	ts    uint32
	times []time.Time
}

func (s *loopSink) Send(opus []byte, samples int) error {
	h := proto.VoiceHeader{Sender: 9, Seq: s.seq, Timestamp: s.ts, Duration: uint16(samples)}
	if len(s.times) == 0 {
		h.Flags = proto.FlagStart
	}
	s.seq++
	s.ts += uint32(samples)
	now := time.Now()
	s.times = append(s.times, now)
	if s.rec != nil {
		s.rec.OnVoice(h, opus, now)
	}
	return nil
}

func tone(n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		// 440 Hz, amplitude modulated at 3 Hz so the envelope has shape.
		am := 0.5 + 0.5*math.Sin(2*math.Pi*3*float64(i)/48000)
		pcm[i] = int16(8000 * am * math.Sin(2*math.Pi*440*float64(i)/48000))
	}
	return pcm
}

func TestSendPacesFrames(t *testing.T) {
	for _, frame := range []int{960, 480} {
		synctest.Test(t, func(t *testing.T) {
			var s loopSink
			var sample0 time.Time
			pcm := tone(48000/2 + 100) // 0.5 s and a bit: the last frame is partial
			n, err := Send(t.Context(), &s, pcm, SendConfig{FrameSamples: frame, FEC: true, OnStart: func(t0 time.Time) { sample0 = t0 }})
			want := (len(pcm) + frame - 1) / frame
			if err != nil || n != want || len(s.times) != want {
				t.Fatalf("frame %d: sent %d (%d), %v; want %d", frame, n, len(s.times), err, want)
			}
			period := time.Duration(frame) * time.Second / 48000
			for i, at := range s.times {
				if d := at.Sub(sample0); d != time.Duration(i+1)*period {
					t.Fatalf("frame %d sent at +%v, want +%v", i, d, time.Duration(i+1)*period)
				}
			}
		})
	}
}

func TestSendStopsOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 110*time.Millisecond)
		defer cancel()
		var s loopSink
		n, err := Send(ctx, &s, tone(48000), SendConfig{})
		if err == nil || n != 5 {
			t.Errorf("sent %d frames, err %v; want 5 and the context's error", n, err)
		}
	})
}

// memFile is an in-memory io.WriteSeeker.
type memFile struct {
	b   []byte
	off int64
}

func (m *memFile) Write(p []byte) (int, error) {
	if need := int(m.off) + len(p); need > len(m.b) {
		m.b = append(m.b, make([]byte, need-len(m.b))...)
	}
	copy(m.b[m.off:], p)
	m.off += int64(len(p))
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case 0:
		m.off = off
	case 1:
		m.off += off
	case 2:
		m.off = int64(len(m.b)) + off
	}
	return m.off, nil
}

func TestSendToRecorder(t *testing.T) {
	for _, frame := range []int{960, 480} {
		synctest.Test(t, func(t *testing.T) {
			var f memFile
			w, err := wav.NewWriter(&f, 48000, 1)
			if err != nil {
				t.Fatal(err)
			}
			var recStart, sendStart time.Time
			var actives [][]uint32
			rec := NewRecorder(w, RecordConfig{FrameSamples: frame,
				OnStart:  func(t0 time.Time) { recStart = t0 },
				OnActive: func(a []uint32) { actives = append(actives, a) }})
			pcm := append(make([]int16, 4800), tone(48000)...)
			done := make(chan int64)
			go func() {
				n, err := rec.Run(t.Context(), 2*time.Second)
				if err != nil {
					t.Error(err)
				}
				done <- n
			}()
			synctest.Wait()
			if _, err := Send(t.Context(), &loopSink{rec: rec}, pcm, SendConfig{FrameSamples: frame, FEC: true, OnStart: func(t0 time.Time) { sendStart = t0 }}); err != nil {
				t.Fatal(err)
			}
			n := <-done
			if n != 96000 {
				t.Errorf("recorded %d samples, want 96000 (2 s in real time)", n)
			}
			w.Close()
			a, err := wav.Decode(bytes.NewReader(f.b))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := wav.ToMono48k(a)
			if len(got) != 96000 {
				t.Fatalf("file holds %d samples", len(got))
			}
			corr, lag := audiotest.EnvelopeCorrelation(pcm, got, 48000)
			delay := lag + recStart.Sub(sendStart)
			t.Logf("frame %d: correlation %.3f, lag in file %v, mouth-to-ear (fake clock, no network) %v", frame, corr, lag, delay)
			if corr < 0.9 {
				t.Errorf("correlation %.3f < 0.9", corr)
			}
			if len(actives) < 2 || len(actives[0]) != 1 || actives[0][0] != 9 || len(actives[len(actives)-1]) != 0 {
				t.Errorf("active talker changes %v: want [9] then []", actives)
			}
		})
	}
}

func TestRecorderFileValidWhenInterrupted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.wav")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	synctest.Test(t, func(t *testing.T) {
		w, _ := wav.NewWriter(fh, 48000, 1)
		rec := NewRecorder(w, RecordConfig{})
		ctx, cancel := context.WithTimeout(t.Context(), 510*time.Millisecond)
		defer cancel()
		n, err := rec.Run(ctx, 0)
		if err != nil || n != 26*960 {
			t.Fatalf("recorded %d, %v; want %d", n, err, 26*960)
		}
		// Not closed: the flush at the end must leave a valid file.
		a, err := wav.ReadFile(path)
		if err != nil || a.Frames() != 26*960 {
			t.Fatalf("interrupted file: %v frames, %v", a, err)
		}
	})
}

// stallSink stamps frames like a client. While stalled it holds them back,
// as a stalled process's network reader would, and releases them 1 ms after
// the stall ends, each stamped with the time it is read.
type stallSink struct {
	loopSink
	mu      sync.Mutex // guards stalled, pending
	stalled bool
	pending []func()
}

func (s *stallSink) Send(opus []byte, samples int) error {
	h := proto.VoiceHeader{Sender: 9, Seq: s.seq, Timestamp: s.ts, Duration: uint16(samples)}
	if s.seq == 0 {
		h.Flags = proto.FlagStart
	}
	s.seq++
	s.ts += uint32(samples)
	payload := append([]byte(nil), opus...)
	push := func() { s.rec.OnVoice(h, payload, time.Now()) }
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stalled {
		s.pending = append(s.pending, push)
		return nil
	}
	push()
	return nil
}

// stall holds the calling goroutine (the recorder's tick loop) and the
// sink's deliveries for d.
func (s *stallSink) stall(d time.Duration) {
	s.mu.Lock()
	s.stalled = true
	s.mu.Unlock()
	time.Sleep(d)
	s.mu.Lock()
	s.stalled = false
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	go func() {
		// The network reader wakes up a moment after the tick loop.
		time.Sleep(time.Millisecond)
		for _, push := range pending {
			push()
		}
	}()
}

// TestRecorderStallDrainsBeforeCatchingUp: when the recorder's process
// stalls in the middle of speech, the ticks it missed must not run before
// the packets that queued up meanwhile are pushed: otherwise the jitter
// buffer conceals their slots and then finds them late (dropped, or resumed
// from, which shifts the rest of the recording). Nor are the delayed
// arrivals network jitter to learn from. The buffer must decide exactly as
// it does without the stall.
func TestRecorderStallDrainsBeforeCatchingUp(t *testing.T) {
	for _, frame := range []int{960, 480} {
		calm := recordWithStall(t, frame, 0)
		stalled := recordWithStall(t, frame, 120*time.Millisecond)
		t.Logf("frame %d without a stall: %+v", frame, calm)
		t.Logf("frame %d with a 120 ms stall: %+v", frame, stalled)
		if stalled.ConcealedSamples != calm.ConcealedSamples || stalled.Late != calm.Late || stalled.Dropped != calm.Dropped ||
			stalled.Resumed != calm.Resumed || stalled.Stretched != calm.Stretched || stalled.Played != calm.Played {
			t.Errorf("frame %d: a stall of the recorder changed the buffer's decisions: played %d (%d without), concealed %d samples (%d), late %d (%d), dropped %d (%d), resumed %d (%d), stretched %d (%d)",
				frame, stalled.Played, calm.Played, stalled.ConcealedSamples, calm.ConcealedSamples, stalled.Late, calm.Late,
				stalled.Dropped, calm.Dropped, stalled.Resumed, calm.Resumed, stalled.Stretched, calm.Stretched)
		}
		if stalled.TargetDelay != calm.TargetDelay {
			t.Errorf("frame %d: target delay %v after the stall, %v without: the buffer took the recorder's stall for network jitter",
				frame, stalled.TargetDelay, calm.TargetDelay)
		}
	}
}

// recordWithStall sends 2 s of tone to a recorder whose process stalls for
// d half a second into the recording, and returns the buffer's stats.
func recordWithStall(t *testing.T, frame int, d time.Duration) (st jitter.Stats) {
	synctest.Test(t, func(t *testing.T) {
		sink := &stallSink{}
		fw := &stallWriter{after: 24000, stall: func() {
			if d > 0 {
				sink.stall(d)
			}
		}}
		w, err := wav.NewWriter(fw, 48000, 1)
		if err != nil {
			t.Fatal(err)
		}
		rec := NewRecorder(w, RecordConfig{FrameSamples: frame})
		sink.rec = rec
		pcm := append(make([]int16, 4800), tone(2*48000)...)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := rec.Run(t.Context(), 3*time.Second); err != nil {
				t.Error(err)
			}
		}()
		synctest.Wait()
		if _, err := Send(t.Context(), sink, pcm, SendConfig{FrameSamples: frame, FEC: true}); err != nil {
			t.Fatal(err)
		}
		<-done
		w.Close()
		st = rec.Stats().Jitter
	})
	return st
}

// stallWriter is a memFile that calls stall once, from the writing
// goroutine, when more than after bytes have been written.
type stallWriter struct {
	memFile
	after int
	stall func()
	done  bool
}

func (s *stallWriter) Write(p []byte) (int, error) {
	n, err := s.memFile.Write(p)
	if !s.done && len(s.b) > s.after {
		s.done = true
		s.stall()
	}
	return n, err
}

func TestPacerDue(t *testing.T) {
	t0 := time.Unix(1000, 0)
	p := Pacer{Start: t0, Period: 20 * time.Millisecond}
	for _, c := range []struct {
		at   time.Duration
		want int
	}{{-time.Second, 0}, {0, 0}, {19 * time.Millisecond, 0}, {20 * time.Millisecond, 1}, {999 * time.Millisecond, 49}, {time.Second, 50}} {
		if got := p.Due(t0.Add(c.at)); got != c.want {
			t.Errorf("at %v: %d due, want %d", c.at, got, c.want)
		}
	}
	p.Lead = 60 * time.Millisecond
	if got := p.Due(t0); got != 3 {
		t.Errorf("with a 60 ms lead, %d due at the start, want 3", got)
	}
	if got := (Pacer{}).Due(t0); got != 0 {
		t.Errorf("the zero Pacer has %d due", got)
	}
}
