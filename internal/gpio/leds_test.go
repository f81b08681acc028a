package gpio

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type write struct {
	at         time.Duration
	bits, mask uint64
}

type fakeOutputs struct {
	mu     sync.Mutex // guards writes, fail
	start  time.Time
	writes []write
	fail   error
}

func (f *fakeOutputs) SetValues(v, m uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.writes = append(f.writes, write{time.Since(f.start), v, m})
	return nil
}

func (f *fakeOutputs) take() []write {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.writes
	f.writes = nil
	return w
}

func TestPatternAt(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		p    Pattern
		at   time.Duration
		lit  bool
		next time.Duration
	}{
		{Off, 5 * time.Second, false, 0},
		{On, 5 * time.Second, true, 0},
		{SlowBlink, 0, true, 500 * ms},
		{SlowBlink, 499 * ms, true, 1 * ms},
		{SlowBlink, 500 * ms, false, 500 * ms},
		{SlowBlink, 1250 * ms, true, 250 * ms},
		{DoubleBlink, 130 * ms, false, 110 * ms},
		{DoubleBlink, 250 * ms, true, 110 * ms},
		{DoubleBlink, 400 * ms, false, 600 * ms},
		{Pattern{Steps: []time.Duration{100 * ms}}, 150 * ms, false, 50 * ms},
		{Pattern{Steps: []time.Duration{-1, 5}}, 0, false, 0},
	}
	for _, c := range cases {
		lit, next := c.p.at(c.at)
		if lit != c.lit || next != c.next {
			t.Errorf("%+v at %v = %v, %v; want %v, %v", c.p, c.at, lit, next, c.lit, c.next)
		}
	}
}

func TestLEDsRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		out := &fakeOutputs{start: time.Now()}
		leds := NewLEDs(out, 4)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- leds.Run(ctx) }()
		synctest.Wait()
		if w := out.take(); len(w) != 1 || w[0] != (write{0, 0, 0xf}) {
			t.Fatalf("initial writes %+v, want all off once", w)
		}
		leds.Set(0, On)
		leds.Set(3, SlowBlink)
		synctest.Wait()
		if w := out.take(); len(w) != 1 || w[0].bits != 0b1001 {
			t.Fatalf("after Set: %+v", w)
		}
		time.Sleep(2100 * time.Millisecond)
		w := out.take()
		want := []write{{500 * time.Millisecond, 0b0001, 0xf}, {1000 * time.Millisecond, 0b1001, 0xf}, {1500 * time.Millisecond, 0b0001, 0xf}, {2000 * time.Millisecond, 0b1001, 0xf}}
		if len(w) != len(want) {
			t.Fatalf("blink writes %+v, want %+v", w, want)
		}
		for i := range w {
			if w[i] != want[i] {
				t.Fatalf("write %d = %+v, want %+v", i, w[i], want[i])
			}
		}
		leds.Set(3, SlowBlink) // same pattern: no restart, no write
		leds.Set(9, On)        // out of range: ignored
		synctest.Wait()
		if w := out.take(); len(w) != 0 {
			t.Fatalf("unexpected writes %+v", w)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if w := out.take(); len(w) != 1 || w[0].bits != 0 {
			t.Fatalf("LEDs not turned off at the end: %+v", w)
		}
	})
}

func TestLEDsWriteError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		out := &fakeOutputs{fail: errors.New("line released")}
		err := NewLEDs(out, 2).Run(t.Context())
		if err == nil {
			t.Fatal("no error")
		}
	})
}
