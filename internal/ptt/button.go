package ptt

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hark-intercom/hark/internal/gpio"
)

// Debouncer cleans up a bouncing contact. It reports the first edge at
// once (no added delay when the button goes down), then ignores changes for
// Window; if the level at the end of the window differs from what it
// reported, it reports that (so a release during the window is not lost).
// A pure state machine driven by the caller's clock; not safe for
// concurrent use. The zero value is released with no window.
type Debouncer struct {
	Window    time.Duration
	reported  bool
	level     bool
	lockUntil time.Time
}

// Reset sets the current level (for the state read when the line is opened).
func (d *Debouncer) Reset(level bool) { d.reported, d.level, d.lockUntil = level, level, time.Time{} }

// Edge records a change of the raw level at now.
func (d *Debouncer) Edge(level bool, now time.Time) (out, changed bool) {
	d.level = level
	if now.Before(d.lockUntil) || level == d.reported {
		return d.reported, false
	}
	d.reported = level
	d.lockUntil = now.Add(d.Window)
	return level, true
}

// Deadline returns when Expire must be called; zero if nothing is pending.
func (d *Debouncer) Deadline() time.Time {
	if d.level == d.reported {
		return time.Time{}
	}
	return d.lockUntil
}

// Expire settles a change that happened during the window.
func (d *Debouncer) Expire(now time.Time) (out, changed bool) {
	if now.Before(d.lockUntil) || d.level == d.reported {
		return d.reported, false
	}
	d.reported = d.level
	d.lockUntil = now.Add(d.Window)
	return d.reported, true
}

// Button is push-to-talk from a GPIO input line (a button on a Raspberry
// Pi intercom box). Configure the line's active-low, bias and kernel
// debounce when opening it (gpio.InputConfig); Button adds software
// debounce on top, for kernels and chips without debounce support.
type Button struct {
	// Open requests the line, e.g. with GPIOLine.
	Open func() (gpio.Input, error)
	// Debounce is the software debounce window; 0 means 20 ms, negative none.
	Debounce time.Duration

	bad atomic.Uint64
}

// BadEvents counts line events that could not be decoded and were skipped.
func (b *Button) BadEvents() uint64 { return b.bad.Load() }

// Run watches the line; see Source. A failing line (the chip went away)
// ends Run with the error.
func (b *Button) Run(ctx context.Context, set func(bool)) error {
	in, err := b.Open()
	if err != nil {
		return err
	}
	window := b.Debounce
	if window == 0 {
		window = 20 * time.Millisecond
	}
	if window < 0 {
		window = 0
	}
	type evt struct {
		e   gpio.LineEvent
		err error
	}
	events := make(chan evt)
	stop := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			e, err := in.ReadEvent()
			select {
			case events <- evt{e, err}:
			case <-stop:
				return
			}
			if err != nil && !errors.Is(err, gpio.ErrBadEvent) {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		in.Close() // unblocks ReadEvent
		<-readerDone
	}()
	e := edge{set: set}
	defer e.to(false)
	d := Debouncer{Window: window}
	v, err := in.Value()
	if err != nil {
		return fmt.Errorf("reading the push-to-talk button: %w", err)
	}
	d.Reset(v)
	e.to(v)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var tc <-chan time.Time
		if dl := d.Deadline(); !dl.IsZero() {
			timer.Reset(time.Until(dl))
			tc = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case now := <-tc:
			p, _ := d.Expire(now)
			e.to(p)
		case ev := <-events:
			if errors.Is(ev.err, gpio.ErrBadEvent) {
				b.bad.Add(1) // skip it; the line still works
				continue
			}
			if ev.err != nil {
				return fmt.Errorf("push-to-talk button: %w", ev.err)
			}
			p, _ := d.Edge(ev.e.Rising(), time.Now())
			e.to(p)
		}
	}
}
