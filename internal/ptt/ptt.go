// Package ptt turns push-to-talk inputs into "talk pressed / released"
// changes behind one small interface, Source:
//
//   - Terminal: a key held in a terminal (from key auto-repeat), or toggled;
//   - Evdev: a key or button of a Linux input device (/dev/input/event*): true
//     key-down and key-up, works on Wayland, over SSH and headless; USB foot
//     pedals and PTT buttons appear there;
//   - Button: a GPIO line (Raspberry Pi) with debounce;
//   - VAD: voice activity detection on the captured audio, for hands-free use.
//
// Any combines several sources (talk while any is pressed).
package ptt

import (
	"context"
	"errors"
	"sync"
)

// Source reports push-to-talk changes.
type Source interface {
	// Run watches the input until ctx ends (then it returns nil) or the
	// input fails for good (then it returns why). It calls set(true) when
	// talking should start and set(false) when it should stop: only on
	// changes, starting from released, always from the goroutine that called
	// Run, never concurrently. If the state is pressed when Run returns, it
	// calls set(false) first, so a failed input never leaves the
	// transmitter on. set must not block for long. A Source runs once at a
	// time.
	Run(ctx context.Context, set func(pressed bool)) error
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context, set func(pressed bool)) error

// Run calls f.
func (f SourceFunc) Run(ctx context.Context, set func(pressed bool)) error { return f(ctx, set) }

// edge filters a state into changes and remembers it for the final release.
type edge struct {
	set     func(bool)
	pressed bool
}

func (e *edge) to(p bool) {
	if p != e.pressed {
		e.pressed = p
		e.set(p)
	}
}

// Any runs all sources and reports pressed while any of them is pressed.
// It returns when ctx ends or when one source fails (stopping the others),
// with that source's error.
func Any(srcs ...Source) Source {
	return SourceFunc(func(ctx context.Context, set func(bool)) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type change struct {
			i       int
			pressed bool
		}
		changes := make(chan change)
		errc := make(chan error, len(srcs))
		var wg sync.WaitGroup
		for i, s := range srcs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.Run(ctx, func(p bool) {
					select {
					case changes <- change{i, p}:
					case <-ctx.Done():
					}
				})
				errc <- err
			}()
		}
		e := edge{set: set}
		state := make([]bool, len(srcs))
		var first error
		running := len(srcs)
		for running > 0 {
			select {
			case c := <-changes:
				state[c.i] = c.pressed
				any := false
				for _, p := range state {
					any = any || p
				}
				e.to(any)
			case err := <-errc:
				running--
				if err != nil && first == nil && !errors.Is(err, context.Canceled) {
					first = err
					cancel()
				}
			}
		}
		wg.Wait()
		e.to(false)
		return first
	})
}
