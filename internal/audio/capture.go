package audio

import (
	"errors"
	"math"
	"sync/atomic"
)

// CaptureConfig configures a Capture.
type CaptureConfig struct {
	Options
	// Queue is how many periods may wait for the consumer before new ones
	// are dropped; 0 means 16 (160 ms at 10 ms periods).
	Queue int
}

// Capture records mono 48 kHz int16 audio in fixed periods. Create it with
// NewCapture, then Start it, then receive from Frames (or, set before Start,
// have a Handler called with every period).
//
// The audio thread copies each period into a buffer and offers it to the
// Frames channel without blocking; when the channel is full the period is
// dropped and counted (CaptureStats.Dropped). All methods are safe for
// concurrent use.
type Capture struct {
	core
	frames  chan []int16
	free    chan []int16
	period  int                 // samples per delivery; set before Start
	handler func(frame []int16) // set before Start; nil: the Frames channel
	periods atomic.Uint64
	dropped atomic.Uint64
	level   atomic.Uint64 // float64 bits of the last callback's mean square (non-ring streams)
	resumes atomic.Uint64 // Resume calls: a partial period from before a pause is dropped
}

var _ Input = (*Capture)(nil)

// CaptureStats are counters since NewCapture.
type CaptureStats struct {
	Periods   uint64 // periods handed to the consumer
	Dropped   uint64 // periods dropped because the consumer was behind
	Overrun   uint64 // samples the device delivered into a full ring (the pump goroutine was behind)
	Losses    uint64 // times the device was lost (stopped, unplugged or stalled)
	Reopens   uint64 // times it was opened again
	Callbacks uint64 // audio-thread callbacks
}

// NewCapture checks cfg and returns a stopped Capture; the device is opened
// by Start.
func NewCapture(cfg CaptureConfig) (*Capture, error) {
	c := &Capture{}
	q := cfg.Queue
	if q <= 0 {
		q = 16
	}
	c.frames = make(chan []int16, q)
	c.free = make(chan []int16, q+2)
	if err := c.core.init(KindCapture, cfg.Options, c.newData, func() { close(c.frames) }); err != nil {
		return nil, err
	}
	c.period = c.core.opts.PeriodFrames
	return c, nil
}

// Handle makes the capture call h with every frames samples captured,
// instead of sending them to Frames. h runs on the stream's own goroutine
// (or, with Options.Direct, on the audio thread), one call at a time; it
// must return within a few milliseconds (encoding a frame is fine; no
// network waits) and must not keep frame. On ring streams (the default) the
// process is woken once per frames samples rather than once per device
// period, which saves CPU when frames is a multiple of the period. Call
// Handle before Start (and before starting a Linked playback); frames 0
// keeps the device period.
func (c *Capture) Handle(frames int, h func(frame []int16)) error {
	if frames < 0 || frames > 48000 {
		return errors.New("audio: capture delivery of a bad size")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return errors.New("audio: Handle called after Start")
	}
	if c.link != nil {
		c.link.mu.Lock()
		st := c.link.state
		c.link.mu.Unlock()
		if st != linkPending {
			return errors.New("audio: Handle called after the linked playback started")
		}
	}
	if frames > 0 {
		c.period = frames
		c.chunk = frames
	}
	c.handler = h
	return nil
}

// Pause stops delivering captured audio until Resume: nothing reaches the
// handler or Frames and, on ring streams, the process is not woken at all.
// The device keeps running (Level still works) and what it captures while
// paused is discarded. Safe from any goroutine, including the handler.
func (c *Capture) Pause() { c.setPaused(true) }

// Resume undoes Pause; audio captured from now on is delivered. Cheap when
// not paused; safe from any goroutine.
func (c *Capture) Resume() {
	if !c.paused.Load() {
		return
	}
	if c.setPaused(false) {
		c.resumes.Add(1)
	}
}

// Paused reports whether the capture is paused.
func (c *Capture) Paused() bool { return c.paused.Load() }

// Level returns the RMS level of the device's last callback in dBFS (-Inf
// for silence or before the first), measured even while paused.
func (c *Capture) Level() float64 {
	ms := math.Float64frombits(c.level.Load())
	if l := c.cur.Load(); l != nil {
		if m, ok := l.s.(interface{ meanSquare() float64 }); ok {
			ms = m.meanSquare()
		}
	}
	return 10 * math.Log10(ms)
}

// Frames delivers one period (PeriodFrames samples) per receive. The slice
// belongs to the receiver, who may hand it back through Recycle when done.
// The channel is closed after the device is closed (Close or the Start
// context ending).
func (c *Capture) Frames() <-chan []int16 { return c.frames }

// Recycle returns a period received from Frames for reuse, saving an
// allocation on the audio thread. The caller must not use buf afterwards.
// Optional; buffers of the wrong size are ignored.
func (c *Capture) Recycle(buf []int16) {
	if cap(buf) < c.period {
		return
	}
	select {
	case c.free <- buf[:c.period]:
	default:
	}
}

// Stats returns the counters.
func (c *Capture) Stats() CaptureStats {
	return CaptureStats{
		Periods:   c.periods.Load(),
		Dropped:   c.dropped.Load(),
		Overrun:   c.xruns(),
		Losses:    c.losses.Load(),
		Reopens:   c.reopens.Load(),
		Callbacks: c.callbacks.Load(),
	}
}

// newData returns the data callback of one stream: it regroups whatever
// frame counts the device delivers into whole periods.
func (c *Capture) newData() func(out, in []byte, frames uint32) {
	acc := make([]int16, c.period)
	n := 0
	resumes := c.resumes.Load()
	_, ring := c.b.(*ringBackend)
	return func(_, in []byte, _ uint32) {
		s := int16s(in)
		if !ring && len(s) > 0 {
			var sum float64
			for _, v := range s {
				sum += float64(v) * float64(v)
			}
			c.level.Store(math.Float64bits(sum / float64(len(s)) / (32768.0 * 32768.0)))
		}
		if c.paused.Load() {
			return
		}
		if r := c.resumes.Load(); r != resumes {
			resumes, n = r, 0 // drop a partial period from before the pause
		}
		for len(s) > 0 {
			k := copy(acc[n:], s)
			n += k
			s = s[k:]
			if n == len(acc) {
				c.deliver(acc)
				n = 0
			}
		}
	}
}

func (c *Capture) deliver(p []int16) {
	if c.handler != nil {
		c.periods.Add(1)
		c.handler(p)
		return
	}
	var buf []int16
	select {
	case buf = <-c.free:
	default:
		buf = make([]int16, c.period)
	}
	copy(buf, p)
	select {
	case c.frames <- buf:
		c.periods.Add(1)
	default:
		c.dropped.Add(1)
		select {
		case c.free <- buf:
		default:
		}
	}
}
