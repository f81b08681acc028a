// Package vad detects voice activity for hands-free ("auto detect")
// transmission. It looks at short frames (10 or 20 ms) and combines:
//
//   - the energy in the speech band (about 200–4000 Hz, after band-pass
//     filtering), compared with an adaptive noise floor that drops at once
//     to quieter frames, follows rising noise in frames without speech
//     (traffic passing by), and creeps up slowly during speech (so a fan
//     switched on while someone talks is learned within seconds, while the
//     speech itself does not lift the floor);
//   - the zero-crossing rate, compared with its value in noise: voiced
//     speech lowers it, which lets weaker voiced frames count in hiss-like
//     noise;
//
// then applies an attack (a few speech-like frames before opening, so that
// a click does not open the gate) and a hangover (the gate stays open for
// 300 ms after the last speech-like frame, so that word endings and short
// pauses are not clipped).
package vad

import (
	"math"
	"time"
)

// Config tunes a Detector. The zero value is usable (48 kHz defaults).
type Config struct {
	// SampleRate of the frames; 0 means 48000.
	SampleRate int
	// Threshold is how far above the noise floor (in dB, in the speech
	// band) a frame must be to count as speech; 0 means 6 dB.
	Threshold float64
	// Attack is how many of the last three frames must be speech-like for
	// the gate to open (1 to 3); 0 means 2, so that a click alone does not
	// open it.
	Attack int
	// Hangover keeps the gate open after the last speech-like frame; 0
	// means 300 ms.
	Hangover time.Duration
	// FloorRise is how fast the floor follows louder frames without speech,
	// as the time constant of that smoothing; 0 means 150 ms.
	FloorRise time.Duration
	// FloorCreep is the same during speech-like frames; 0 means 5 s.
	FloorCreep time.Duration
	// MinLevel (dBFS, speech band) below which nothing is speech; 0 means -65.
	MinLevel float64
}

func (c Config) withDefaults() Config {
	if c.SampleRate <= 0 {
		c.SampleRate = 48000
	}
	if c.Threshold <= 0 {
		c.Threshold = 6
	}
	if c.Attack <= 0 || c.Attack > 3 {
		c.Attack = min(max(c.Attack, 2), 3)
	}
	if c.Hangover <= 0 {
		c.Hangover = 300 * time.Millisecond
	}
	if c.FloorRise <= 0 {
		c.FloorRise = 150 * time.Millisecond
	}
	if c.FloorCreep <= 0 {
		c.FloorCreep = 5 * time.Second
	}
	if c.MinLevel == 0 {
		c.MinLevel = -65
	}
	return c
}

// biquad is a direct-form-I second-order section (RBJ cookbook).
type biquad struct {
	b0, b1, b2, a1, a2 float64
	x1, x2, y1, y2     float64
}

func newBiquad(highpass bool, f0, rate float64) biquad {
	w := 2 * math.Pi * f0 / rate
	cw, sw := math.Cos(w), math.Sin(w)
	alpha := sw / math.Sqrt2 // sin(w)/(2Q) with Q = 1/sqrt(2)
	var b0, b1, b2 float64
	if highpass {
		b0, b1, b2 = (1+cw)/2, -(1 + cw), (1+cw)/2
	} else {
		b0, b1, b2 = (1-cw)/2, 1-cw, (1-cw)/2
	}
	a0 := 1 + alpha
	return biquad{b0: b0 / a0, b1: b1 / a0, b2: b2 / a0, a1: -2 * cw / a0, a2: (1 - alpha) / a0}
}

func (q *biquad) step(x float64) float64 {
	y := q.b0*x + q.b1*q.x1 + q.b2*q.x2 - q.a1*q.y1 - q.a2*q.y2
	q.x2, q.x1 = q.x1, x
	q.y2, q.y1 = q.y1, y
	return y
}

// Features are the measurements of the last frame, for meters and tuning.
type Features struct {
	Level  float64 // speech-band level, dBFS
	Floor  float64 // noise floor estimate, dBFS
	ZCR    float64 // zero crossings per sample, full band
	ZCRRef float64 // zero-crossing rate of the noise
	Speech bool    // this frame looked like speech
	Open   bool    // gate state after this frame
}

// Detector decides, frame by frame, whether someone is speaking. Not safe
// for concurrent use; frames may have any length, but 10–20 ms works best.
type Detector struct {
	cfg  Config
	filt [3]biquad // two high-pass at 200 Hz, one low-pass at 4 kHz

	noise float64 // noise floor, dB

	zcrRef    float64 // running zero-crossing rate in non-speech frames
	recent    [3]bool // speech-like flags of the last three frames
	holdLeft  int     // samples of hangover left
	hangover  int     // hangover in samples
	open      bool
	frames    int
	lastValue float64 // last input sample of the previous frame, for ZCR
	last      Features
}

// New returns a Detector with the gate closed.
func New(cfg Config) *Detector {
	cfg = cfg.withDefaults()
	r := float64(cfg.SampleRate)
	d := &Detector{cfg: cfg}
	d.filt[0] = newBiquad(true, 200, r)
	d.filt[1] = newBiquad(true, 200, r)
	d.filt[2] = newBiquad(false, 4000, r)
	d.hangover = int(cfg.Hangover.Seconds() * r)
	return d
}

// Open reports the gate state.
func (d *Detector) Open() bool { return d.open }

// Last returns the features of the last frame.
func (d *Detector) Last() Features { return d.last }

// smoothing returns the per-frame weight of an exponential smoothing with
// time constant tc for a frame of n samples.
func (d *Detector) smoothing(tc time.Duration, n int) float64 {
	return 1 - math.Exp(-float64(n)/(tc.Seconds()*float64(d.cfg.SampleRate)))
}

// Process analyses one frame and returns whether the gate is open (send
// this frame). It does not keep frame.
func (d *Detector) Process(frame []int16) bool {
	if len(frame) == 0 {
		return d.open
	}
	var band float64
	crossings := 0
	prev := d.lastValue
	for _, s := range frame {
		x := float64(s)
		if (x >= 0) != (prev >= 0) {
			crossings++
		}
		prev = x
		y := d.filt[2].step(d.filt[1].step(d.filt[0].step(x)))
		band += y * y
	}
	d.lastValue = prev
	n := float64(len(frame))
	level := 10 * math.Log10(band/n/(32768*32768)+1e-12)
	zcr := float64(crossings) / n
	d.frames++

	if d.frames == 1 {
		d.noise = level
	}
	floor := d.noise
	above := level - floor
	th := d.cfg.Threshold
	speech := level > d.cfg.MinLevel && d.frames > 1 &&
		(above >= th || (above >= th/2 && d.zcrRef > 0 && zcr < 0.6*d.zcrRef))

	// Update the noise floor after deciding.
	switch {
	case level < d.noise:
		d.noise += 0.5 * (level - d.noise)
	case !speech:
		d.noise += d.smoothing(d.cfg.FloorRise, len(frame)) * (level - d.noise)
	default:
		d.noise += d.smoothing(d.cfg.FloorCreep, len(frame)) * (level - d.noise)
	}
	if !speech && !d.open {
		if d.zcrRef == 0 {
			d.zcrRef = zcr
		}
		d.zcrRef += 0.05 * (zcr - d.zcrRef)
	}

	copy(d.recent[1:], d.recent[:2])
	d.recent[0] = speech
	count := 0
	for _, r := range d.recent {
		if r {
			count++
		}
	}
	if speech && (d.open || count >= d.cfg.Attack) {
		d.open = true
		d.holdLeft = d.hangover
	} else if d.open {
		d.holdLeft -= len(frame)
		if d.holdLeft <= 0 {
			d.open = false
		}
	}
	d.last = Features{Level: level, Floor: floor, ZCR: zcr, ZCRRef: d.zcrRef, Speech: speech, Open: d.open}
	return d.open
}
