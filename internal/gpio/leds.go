package gpio

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Pattern is how an LED shows a state. The zero value is off.
type Pattern struct {
	// Steady keeps the LED lit (used when Steps is empty).
	Steady bool
	// Steps are alternating on and off durations, starting with on,
	// repeated for as long as the pattern is set. An odd count is treated
	// as if the last off step were as long as the first on step.
	Steps []time.Duration
}

// Common patterns.
var (
	Off         = Pattern{}
	On          = Pattern{Steady: true}
	SlowBlink   = Pattern{Steps: []time.Duration{500 * time.Millisecond, 500 * time.Millisecond}}                                                 // e.g. connecting
	FastBlink   = Pattern{Steps: []time.Duration{100 * time.Millisecond, 100 * time.Millisecond}}                                                 // e.g. busy
	DoubleBlink = Pattern{Steps: []time.Duration{120 * time.Millisecond, 120 * time.Millisecond, 120 * time.Millisecond, 640 * time.Millisecond}} // e.g. ring
)

func (p Pattern) equal(q Pattern) bool {
	return p.Steady == q.Steady && slices.Equal(p.Steps, q.Steps)
}

// at returns whether the LED is lit at elapsed time since the pattern was
// set, and how long until that changes (0 = never).
func (p Pattern) at(elapsed time.Duration) (lit bool, next time.Duration) {
	steps := p.Steps
	if len(steps) == 0 {
		return p.Steady, 0
	}
	if len(steps)%2 == 1 {
		steps = append(slices.Clip(steps), steps[0])
	}
	var period time.Duration
	for _, s := range steps {
		if s <= 0 {
			return p.Steady, 0 // malformed: treat as steady
		}
		period += s
	}
	t := elapsed % period
	for i, s := range steps {
		if t < s {
			return i%2 == 0, s - t
		}
		t -= s
	}
	return false, period - t // not reached
}

// LEDs drives a set of output lines (one LED each) with patterns. Set may be
// called from any goroutine; Run does the writing. Writes happen only when
// a line must change, all lines in one SetValues call.
type LEDs struct {
	out  Outputs
	n    int
	wake chan struct{} // cap 1: a pattern changed

	mu    sync.Mutex // guards pats and since
	pats  []Pattern
	since []time.Time
}

// NewLEDs returns LEDs for n lines (bit i of out is LED i), all off.
func NewLEDs(out Outputs, n int) *LEDs {
	return &LEDs{
		out:   out,
		n:     n,
		wake:  make(chan struct{}, 1),
		pats:  make([]Pattern, n),
		since: make([]time.Time, n),
	}
}

// Set shows pattern p on LED i. Setting the pattern it already shows does
// not restart its blinking. Out-of-range indexes are ignored.
func (l *LEDs) Set(i int, p Pattern) {
	if i < 0 || i >= l.n {
		return
	}
	l.mu.Lock()
	if l.pats[i].equal(p) {
		l.mu.Unlock()
		return
	}
	l.pats[i] = p
	l.since[i] = time.Now()
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// state computes the line bits at now and the time until the next change.
func (l *LEDs) state(now time.Time) (bits uint64, next time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, p := range l.pats {
		lit, n := p.at(now.Sub(l.since[i]))
		if lit {
			bits |= 1 << i
		}
		if n > 0 && (next == 0 || n < next) {
			next = n
		}
	}
	return bits, next
}

// Run writes the LEDs until ctx ends, then turns them all off. It returns
// the first write error (the lines are then unusable).
func (l *LEDs) Run(ctx context.Context) error {
	mask := uint64(1)<<l.n - 1
	last := ^uint64(0)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		bits, next := l.state(time.Now())
		if bits != last {
			if err := l.out.SetValues(bits, mask); err != nil {
				return fmt.Errorf("LEDs: %w", err)
			}
			last = bits
		}
		var tc <-chan time.Time
		if next > 0 {
			timer.Reset(next)
			tc = timer.C
		}
		select {
		case <-ctx.Done():
			if last != 0 {
				if err := l.out.SetValues(0, mask); err != nil {
					return fmt.Errorf("LEDs: %w", err)
				}
			}
			return nil
		case <-l.wake:
		case <-tc:
		}
	}
}
