package audio

import (
	"errors"
	"sync/atomic"
)

// PlaybackConfig configures a Playback.
type PlaybackConfig struct {
	Options
	// Fill supplies the samples to play, one period per call; nil plays
	// silence. See FillFunc for the rules it must follow.
	Fill FillFunc
}

// Playback plays mono 48 kHz int16 audio pulled from a FillFunc in fixed
// periods. All methods are safe for concurrent use.
type Playback struct {
	core
	fill    FillFunc
	period  int
	periods atomic.Uint64
	partial atomic.Uint64
}

var _ Device = (*Playback)(nil)

// PlaybackStats are counters since NewPlayback.
type PlaybackStats struct {
	Periods   uint64 // periods pulled from Fill
	Partial   uint64 // periods Fill did not fill completely (padded with silence)
	Underrun  uint64 // samples the device played as silence because the ring was empty
	Losses    uint64 // times the device was lost
	Reopens   uint64 // times it was opened again
	Callbacks uint64 // audio-thread callbacks
}

// SetChunk asks the stream to call Fill for frames samples at a time
// (in device periods, one call after another) and, on ring streams (the
// default), to wake the process only when there is room for that many: with
// 20 ms of audio per wake-up instead of one 10 ms period, half the wake-ups,
// for up to one chunk less one period more of queued playback. Call it
// before Start; 0 means one period.
func (p *Playback) SetChunk(frames int) error {
	if frames < 0 || frames > 48000 {
		return errors.New("audio: playback chunk of a bad size")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return errors.New("audio: SetChunk called after Start")
	}
	p.chunk = frames
	return nil
}

// Pause stops calling Fill until Resume: the device plays what is queued,
// then silence, and on ring streams the process is not woken at all (no
// underruns are counted). Meant for Fill itself, when it has nothing to
// play; safe from any goroutine.
func (p *Playback) Pause() { p.setPaused(true) }

// Resume undoes Pause and has Fill called again at once. Cheap when not
// paused; safe from any goroutine.
func (p *Playback) Resume() {
	if p.paused.Load() {
		p.setPaused(false)
	}
}

// Paused reports whether playback is paused.
func (p *Playback) Paused() bool { return p.paused.Load() }

// NewPlayback checks cfg and returns a stopped Playback; Start opens the device.
func NewPlayback(cfg PlaybackConfig) (*Playback, error) {
	p := &Playback{fill: cfg.Fill}
	if err := p.core.init(KindPlayback, cfg.Options, p.newData, func() {}); err != nil {
		return nil, err
	}
	p.period = p.core.opts.PeriodFrames
	return p, nil
}

// Stats returns the counters.
func (p *Playback) Stats() PlaybackStats {
	return PlaybackStats{
		Periods:   p.periods.Load(),
		Partial:   p.partial.Load(),
		Underrun:  p.xruns(),
		Losses:    p.losses.Load(),
		Reopens:   p.reopens.Load(),
		Callbacks: p.callbacks.Load(),
	}
}

// newData returns the data callback of one stream: it calls Fill with whole
// periods whatever frame counts the device asks for.
func (p *Playback) newData() func(out, in []byte, frames uint32) {
	stage := make([]int16, p.period)
	off := len(stage)
	return func(out, _ []byte, _ uint32) {
		d := int16s(out)
		if p.paused.Load() {
			clear(d)
			off = len(stage)
			return
		}
		for len(d) > 0 {
			if off == len(stage) {
				n := 0
				if p.fill != nil {
					n = max(0, min(p.fill(stage), len(stage)))
				}
				if n < len(stage) {
					clear(stage[n:])
					p.partial.Add(1)
				}
				p.periods.Add(1)
				off = 0
			}
			k := copy(d, stage[off:])
			off += k
			d = d[k:]
		}
	}
}
