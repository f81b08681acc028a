package audio

import "sync/atomic"

// CaptureConfig configures a Capture.
type CaptureConfig struct {
	Options
	// Queue is how many periods may wait for the consumer before new ones
	// are dropped; 0 means 16 (160 ms at 10 ms periods).
	Queue int
}

// Capture records mono 48 kHz int16 audio in fixed periods. Create it with
// NewCapture, then Start it, then receive from Frames.
//
// The audio thread copies each period into a buffer and offers it to the
// Frames channel without blocking; when the channel is full the period is
// dropped and counted (CaptureStats.Dropped). All methods are safe for
// concurrent use.
type Capture struct {
	core
	frames  chan []int16
	free    chan []int16
	period  int
	periods atomic.Uint64
	dropped atomic.Uint64
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
	return func(_, in []byte, _ uint32) {
		s := int16s(in)
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
