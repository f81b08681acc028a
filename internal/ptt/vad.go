package ptt

import (
	"context"
	"sync"

	"github.com/hark-intercom/hark/internal/vad"
)

// VAD is hands-free push-to-talk: talking while the voice activity
// detector hears speech (the "auto detect" mode). The capture loop hands
// every captured period to Feed; Run reports the gate as talk changes.
//
// Feed decides per frame, so the caller can send exactly the frames Feed
// returned true for. The detector needs about two frames (20 ms at 10 ms
// periods) to open; keeping the last few frames and sending them when the
// gate opens avoids clipping the first syllable.
type VAD struct {
	changes chan bool // cap 1, latest state wins

	mu   sync.Mutex // guards det, open
	det  *vad.Detector
	open bool
}

// NewVAD returns a VAD with the gate closed.
func NewVAD(cfg vad.Config) *VAD {
	return &VAD{det: vad.New(cfg), changes: make(chan bool, 1)}
}

// Feed analyses one frame and returns whether it should be sent. Calls
// must come from one goroutine at a time (the capture loop); Feed never
// blocks on Run. It does not keep frame.
func (v *VAD) Feed(frame []int16) bool {
	v.mu.Lock()
	open := v.det.Process(frame)
	changed := open != v.open
	v.open = open
	v.mu.Unlock()
	if changed {
		// Single producer: after draining, the send cannot block.
		select {
		case <-v.changes:
		default:
		}
		v.changes <- open
	}
	return open
}

// Open reports whether the detector hears voice now (hangover included).
// It is safe for concurrent use.
func (v *VAD) Open() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.open
}

// Features returns the detector's view of the last frame (level, floor),
// e.g. for a level meter.
func (v *VAD) Features() vad.Features {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.det.Last()
}

// Run reports gate changes until ctx ends; see Source. Changes that come
// faster than set returns are merged into the latest state.
func (v *VAD) Run(ctx context.Context, set func(bool)) error {
	e := edge{set: set}
	defer e.to(false)
	for {
		select {
		case <-ctx.Done():
			return nil
		case p := <-v.changes:
			e.to(p)
		}
	}
}
