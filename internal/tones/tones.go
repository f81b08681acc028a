// Package tones generates Hark's local signalling sounds in code, as 48 kHz
// mono 16-bit PCM. Every tone burst starts and ends with a 5 ms raised-cosine
// ramp, so nothing clicks, and no sound exceeds -6 dBFS.
//
// The telephone-like sounds follow the conventions people know:
//
//   - [Ring]: British-style double ring, 400 + 450 Hz, 0.4 s on, 0.2 s off,
//     0.4 s on; [RingCycle] adds the 2 s pause for looping.
//   - [Busy]: the European (CEPT) busy tone, 425 Hz, 0.5 s on, 0.5 s off. It
//     is used when the floor is denied ("someone else is talking").
//
// The intercom cues are short and distinct: [TalkPermit] (rising two-note
// chirp: speak now), [Roger] (falling two-note: end of transmission),
// [Join]/[Leave] (soft rising/falling fifths), [Message] (three-note chime),
// [PageAlert] (louder rising chime before a page), [Denied] (two low buzzes:
// not allowed), [Call] (a double knock of high pips: someone talks to you
// alone).
//
// Every function returns a new slice that the caller owns. [Loop] plays a
// sound repeatedly in fixed-size frames.
package tones

import (
	"math"
	"time"
)

// Rate is the sample rate of every sound in this package.
const Rate = 48000

// ramp is the fade-in/fade-out length of every burst.
const ramp = 5 * time.Millisecond

func samples(d time.Duration) int { return int(int64(d) * Rate / int64(time.Second)) }

// burst returns a tone that is the sum of freqs (equal parts) with peak
// amplitude amp (full scale 1), raised-cosine ramps at both ends, and an
// optional exponential decay (time constant decay, 0 for none).
func burst(d time.Duration, amp float64, decay time.Duration, freqs ...float64) []int16 {
	n := samples(d)
	r := samples(ramp)
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / Rate
		var v float64
		for _, f := range freqs {
			v += math.Sin(2 * math.Pi * f * t)
		}
		v *= amp / float64(len(freqs))
		if decay > 0 {
			v *= math.Exp(-t / decay.Seconds())
		}
		switch {
		case i < r:
			v *= 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(r))
		case i >= n-r:
			v *= 0.5 - 0.5*math.Cos(math.Pi*float64(n-1-i)/float64(r))
		}
		out[i] = int16(math.Round(v * 32767))
	}
	return out
}

func gap(d time.Duration) []int16 { return make([]int16, samples(d)) }

func join(parts ...[]int16) []int16 {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]int16, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Levels (peak, full scale 1).
const (
	ringLevel = 0.5  // -6 dBFS: must be heard across a room
	busyLevel = 0.35 // -9 dBFS
	cueLevel  = 0.3  // -10.5 dBFS
	softLevel = 0.2  // -14 dBFS: presence changes should not startle
)

// Ring returns one double ring: 400 + 450 Hz, 0.4 s on, 0.2 s off, 0.4 s
// on (1.0 s, no trailing silence).
func Ring() []int16 {
	on := burst(400*time.Millisecond, ringLevel, 0, 400, 450)
	return join(on, gap(200*time.Millisecond), on)
}

// RingCycle returns [Ring] followed by 2 s of silence (3 s): loop it for
// continuous ringing with the familiar cadence.
func RingCycle() []int16 { return join(Ring(), gap(2*time.Second)) }

// Alarm returns one cycle of the alarm tone: 960 Hz and 770 Hz
// alternating, 0.25 s each, twice (1.0 s), louder than a ring. Loop it
// until the alarm is acknowledged.
func Alarm() []int16 {
	hi := burst(250*time.Millisecond, ringLevel, 0, 960)
	lo := burst(250*time.Millisecond, ringLevel, 0, 770)
	return join(hi, lo, hi, lo)
}

// Busy returns one cadence of the European busy tone: 425 Hz, 0.5 s on,
// 0.5 s off (1.0 s). Loop it, or use [BusyFor].
func Busy() []int16 {
	return join(burst(500*time.Millisecond, busyLevel, 0, 425), gap(500*time.Millisecond))
}

// BusyFor returns n cadences of the busy tone (n ≥ 1).
func BusyFor(n int) []int16 {
	b := Busy()
	out := make([]int16, 0, len(b)*max(n, 1))
	for i := 0; i < max(n, 1); i++ {
		out = append(out, b...)
	}
	return out
}

// TalkPermit returns the "speak now" cue played when the floor is granted:
// 880 Hz for 50 ms, 20 ms pause, 1320 Hz for 70 ms (140 ms).
func TalkPermit() []int16 {
	return join(burst(50*time.Millisecond, cueLevel, 0, 880), gap(20*time.Millisecond),
		burst(70*time.Millisecond, cueLevel, 0, 1320))
}

// Roger returns the end-of-transmission cue: 1320 Hz for 60 ms then
// 990 Hz for 90 ms (150 ms), the reverse motion of [TalkPermit].
func Roger() []int16 {
	return join(burst(60*time.Millisecond, cueLevel, 0, 1320), burst(90*time.Millisecond, cueLevel, 0, 990))
}

// Join returns the cue for someone joining the channel: a soft rising
// fifth, 523 Hz then 784 Hz (C5–G5), 80 ms each.
func Join() []int16 {
	return join(burst(80*time.Millisecond, softLevel, 0, 523.25), burst(80*time.Millisecond, softLevel, 0, 783.99))
}

// Leave returns the cue for someone leaving: the falling fifth, 784 Hz then
// 523 Hz, 80 ms each.
func Leave() []int16 {
	return join(burst(80*time.Millisecond, softLevel, 0, 783.99), burst(80*time.Millisecond, softLevel, 0, 523.25))
}

// Message returns the text-message notification: a three-note chime
// (E6, G6, C7) with bell-like decay, about 0.5 s.
func Message() []int16 {
	note := func(f float64, d time.Duration) []int16 {
		return burst(d, cueLevel, 120*time.Millisecond, f, 2*f) // fundamental + octave: bell-like
	}
	return join(note(1318.5, 110*time.Millisecond), note(1568.0, 110*time.Millisecond), note(2093.0, 280*time.Millisecond))
}

// PageAlert returns the attention chime played before a page (a priority
// announcement to every channel): three rising bell notes, G5–C6–E6, about
// 0.75 s, louder than the other cues.
func PageAlert() []int16 {
	note := func(f float64) []int16 {
		return burst(250*time.Millisecond, ringLevel, 150*time.Millisecond, f, 2*f)
	}
	return join(note(783.99), note(1046.5), note(1318.5))
}

// Call returns the cue for an incoming call (someone talks to you alone):
// a quick "knock-knock" of two high double pips, 1175 Hz with its octave,
// 60 ms on, 40 ms off, twice, a pause of 120 ms, and again (about 0.5 s).
// It is unlike a ring (low, long), a message (falling bell decay) or the
// talk permit (one rising pair).
func Call() []int16 {
	pip := burst(60*time.Millisecond, cueLevel, 0, 1174.66, 2349.32)
	knock := join(pip, gap(40*time.Millisecond), pip)
	return join(knock, gap(120*time.Millisecond), knock)
}

// Denied returns the refusal cue (not allowed, e.g. paging without the
// page role): two short low buzzes, 330 Hz with its third harmonic, 120 ms
// each with a 60 ms pause (300 ms).
func Denied() []int16 {
	b := burst(120*time.Millisecond, cueLevel, 0, 330, 990)
	return join(b, gap(60*time.Millisecond), b)
}

// Loop plays a sound repeatedly, frame by frame, for a playback loop that
// pulls fixed-size frames (e.g. 960 samples = 20 ms). The zero value is
// silent. A Loop is not safe for concurrent use.
type Loop struct {
	pcm []int16
	pos int
}

// NewLoop returns a Loop over pcm, which it does not modify (and which the
// caller must not modify while the Loop is in use).
func NewLoop(pcm []int16) *Loop { return &Loop{pcm: pcm} }

// Read fills dst with the next samples of the sound, wrapping around at its
// end, and returns len(dst). An empty Loop fills dst with silence.
func (l *Loop) Read(dst []int16) int {
	if len(l.pcm) == 0 {
		clear(dst)
		return len(dst)
	}
	for i := 0; i < len(dst); {
		n := copy(dst[i:], l.pcm[l.pos:])
		i += n
		l.pos = (l.pos + n) % len(l.pcm)
	}
	return len(dst)
}

// Reset restarts the sound from its beginning.
func (l *Loop) Reset() { l.pos = 0 }
