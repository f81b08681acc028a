package ptt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hark-intercom/hark/internal/gpio"
)

func TestDebouncer(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * ms) }
	d := Debouncer{Window: 20 * ms}
	d.Reset(false)
	var got []change
	step := func(m int, level bool) {
		for dl := d.Deadline(); !dl.IsZero() && !dl.After(at(m)); dl = d.Deadline() {
			if p, ch := d.Expire(dl); ch {
				got = append(got, change{dl.Sub(t0), p})
			}
		}
		if p, ch := d.Edge(level, at(m)); ch {
			got = append(got, change{at(m).Sub(t0), p})
		}
	}
	// Press with bounce, hold, release with bounce.
	for i, m := range []int{100, 101, 103, 104, 107} {
		step(m, i%2 == 0)
	}
	for i, m := range []int{500, 502, 503, 509, 511} {
		step(m, i%2 == 1)
	}
	// A release inside the window after a press is still reported.
	step(800, true)
	step(805, false)
	step(2000, false)
	want := []change{{100 * ms, true}, {500 * ms, false}, {800 * ms, true}, {820 * ms, false}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

// fakeLine is a GPIO input line fed by the test.
type fakeLine struct {
	events chan gpio.LineEvent
	bad    chan struct{}
	mu     sync.Mutex // guards closed
	closed chan struct{}
	value  bool
}

func newFakeLine(v bool) *fakeLine {
	return &fakeLine{events: make(chan gpio.LineEvent), bad: make(chan struct{}), closed: make(chan struct{}), value: v}
}

func (f *fakeLine) Value() (bool, error) { return f.value, nil }
func (f *fakeLine) ReadEvent() (gpio.LineEvent, error) {
	select {
	case e := <-f.events:
		return e, nil
	case <-f.bad:
		return gpio.LineEvent{}, fmt.Errorf("%w: test", gpio.ErrBadEvent)
	case <-f.closed:
		return gpio.LineEvent{}, errors.New("line closed")
	}
}
func (f *fakeLine) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.closed:
	default:
		close(f.closed)
	}
	return nil
}

func (f *fakeLine) edge(rising bool) {
	id := uint32(gpio.EventFallingEdge)
	if rising {
		id = gpio.EventRisingEdge
	}
	f.events <- gpio.LineEvent{ID: id}
}

func TestButtonRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		line := newFakeLine(false)
		rec := &recorder{t0: time.Now()}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		btn := &Button{Open: func() (gpio.Input, error) { return line, nil }}
		go func() { done <- btn.Run(ctx, rec.set) }()
		line.bad <- struct{}{} // skipped and counted
		time.Sleep(100 * ms)
		line.edge(true) // press, bouncing
		line.edge(false)
		line.edge(true)
		time.Sleep(400 * ms)
		line.edge(false) // release, bouncing, ending released
		time.Sleep(2 * ms)
		line.edge(true)
		time.Sleep(1 * ms)
		line.edge(false)
		time.Sleep(time.Second)
		line.edge(true)
		time.Sleep(time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if btn.BadEvents() != 1 {
			t.Errorf("bad events = %d, want 1", btn.BadEvents())
		}
		want := []change{{100 * ms, true}, {500 * ms, false}, {1503 * ms, true}, {2503 * ms, false}}
		if !slices.Equal(rec.got, want) {
			t.Fatalf("got %v want %v", rec.got, want)
		}
	})
}

func TestButtonHeldAtStartAndFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		line := newFakeLine(true)
		rec := &recorder{t0: time.Now()}
		done := make(chan error)
		go func() {
			done <- (&Button{Open: func() (gpio.Input, error) { return line, nil }}).Run(t.Context(), rec.set)
		}()
		time.Sleep(time.Second)
		line.Close() // the line fails
		if err := <-done; err == nil {
			t.Fatal("no error after the line failed")
		}
		want := []change{{0, true}, {time.Second, false}}
		if !slices.Equal(rec.got, want) {
			t.Fatalf("got %v want %v", rec.got, want)
		}
	})
	if err := (&Button{Open: func() (gpio.Input, error) { return nil, errors.New("no chip") }}).Run(context.Background(), func(bool) {}); err == nil {
		t.Fatal("open error not returned")
	}
}

func TestAny(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := newFakeLine(false), newFakeLine(false)
		src := Any(&Button{Open: func() (gpio.Input, error) { return a, nil }, Debounce: -1},
			&Button{Open: func() (gpio.Input, error) { return b, nil }, Debounce: -1})
		rec := &recorder{t0: time.Now()}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- src.Run(ctx, rec.set) }()
		time.Sleep(ms)
		a.edge(true)
		time.Sleep(ms)
		b.edge(true)
		time.Sleep(ms)
		a.edge(false) // b still pressed
		time.Sleep(ms)
		b.edge(false)
		time.Sleep(ms)
		b.edge(true)
		time.Sleep(ms)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		want := []change{{1 * ms, true}, {4 * ms, false}, {5 * ms, true}, {6 * ms, false}}
		if !slices.Equal(rec.got, want) {
			t.Fatalf("got %v want %v", rec.got, want)
		}
	})
}
