package ptt

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

const ms = time.Millisecond

// holdRun feeds key arrival offsets (ms) to a Hold, expiring deadlines in
// between and after, and returns the changes as (offset, state) pairs.
func holdRun(cfg HoldConfig, keys []int, until time.Duration) []change {
	t0 := time.Unix(1000, 0)
	h := NewHold(cfg)
	var out []change
	expireUntil := func(t time.Time) {
		for {
			d := h.Deadline()
			if d.IsZero() || d.After(t) {
				return
			}
			if p, ch := h.Expire(d); ch {
				out = append(out, change{d.Sub(t0), p})
			}
		}
	}
	for _, k := range keys {
		now := t0.Add(time.Duration(k) * ms)
		expireUntil(now)
		if p, ch := h.Key(now); ch {
			out = append(out, change{now.Sub(t0), p})
		}
	}
	expireUntil(t0.Add(until))
	return out
}

type change struct {
	at      time.Duration
	pressed bool
}

// autoRepeat returns a key held from start to end: the first character,
// then repeats after delay every interval.
func autoRepeat(start, end, delay, interval int) []int {
	keys := []int{start}
	for t := start + delay; t <= end; t += interval {
		keys = append(keys, t)
	}
	return keys
}

func TestHold(t *testing.T) {
	cases := []struct {
		name string
		cfg  HoldConfig
		keys []int
		want []change
	}{
		{"tap", HoldConfig{}, []int{0}, []change{{0, true}, {700 * ms, false}}},
		{"hold 2 s at 30 Hz", HoldConfig{}, autoRepeat(0, 2000, 500, 33),
			[]change{{0, true}, {(500 + 45*33 + 150) * ms, false}}},
		{"slow repeat 8 Hz", HoldConfig{}, autoRepeat(0, 2000, 600, 125),
			[]change{{0, true}, {(600 + 11*125 + 250) * ms, false}}},
		{"two holds", HoldConfig{}, append(autoRepeat(0, 1000, 500, 40), autoRepeat(1500, 2600, 500, 40)...),
			[]change{{0, true}, {(980 + 150) * ms, false}, {1500 * ms, true}, {(2600 + 150) * ms, false}}},
		{"long repeat delay needs a longer initial timeout", HoldConfig{InitialTimeout: 1100 * ms}, autoRepeat(0, 3000, 1000, 40),
			[]change{{0, true}, {3150 * ms, false}}},
		{"toggle", HoldConfig{Toggle: true}, []int{0, 2000, 4000}, []change{{0, true}, {2000 * ms, false}, {4000 * ms, true}}},
		{"toggle ignores auto-repeat", HoldConfig{Toggle: true}, append(autoRepeat(0, 1500, 500, 33), autoRepeat(3000, 4000, 500, 33)...),
			[]change{{0, true}, {3000 * ms, false}}},
	}
	for _, c := range cases {
		got := holdRun(c.cfg, c.keys, 10*time.Second)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSplitKeys(t *testing.T) {
	in := []byte(" a\x1b[24~\x1bOP\x03\x1bx\x1b[1;5A\r\x7fü\x1b")
	want := []string{"space", "a", "f12", "f1", "ctrl+c", "alt+x", "esc[1;5A", "enter", "backspace", "ü", "esc"}
	if got := SplitKeys(in); !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestParseKey(t *testing.T) {
	for in, want := range map[string]string{"": "space", " ": "space", "F12": "f12", "a": "a", "`": "`", "Insert": "insert"} {
		if got, err := ParseKey(in); err != nil || got != want {
			t.Errorf("ParseKey(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"f13", "hyper", "\x01"} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
}

// recorder collects set calls with their (fake) times.
type recorder struct {
	t0  time.Time
	got []change
}

func (r *recorder) set(p bool) { r.got = append(r.got, change{time.Since(r.t0), p}) }

func TestTerminalRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pr, pw := io.Pipe()
		var others []string
		term := &Terminal{In: pr, Key: "f5", OtherKey: func(k string) { others = append(others, k) }}
		rec := &recorder{t0: time.Now()}
		done := make(chan error)
		go func() { done <- term.Run(t.Context(), rec.set) }()
		// Hold F5 for about a second at 25 Hz, with an unrelated key in between.
		last := 0
		for _, k := range autoRepeat(0, 1000, 500, 40) {
			time.Sleep(time.Duration(k-last) * ms)
			last = k
			pw.Write([]byte("\x1b[15~"))
		}
		pw.Write([]byte("q"))
		time.Sleep(2 * time.Second)
		pw.Write([]byte("\x03")) // Ctrl-C
		if err := <-done; !errors.Is(err, ErrInterrupted) {
			t.Fatalf("Run = %v, want ErrInterrupted", err)
		}
		want := []change{{0, true}, {(980 + 150) * ms, false}}
		if !slices.Equal(rec.got, want) {
			t.Fatalf("changes %v, want %v", rec.got, want)
		}
		if !slices.Equal(others, []string{"q"}) {
			t.Fatalf("other keys %q", others)
		}
		pw.Close()
	})
}

func TestTerminalReleasesOnCancelAndEOF(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pr, pw := io.Pipe()
		ctx, cancel := context.WithCancel(t.Context())
		rec := &recorder{t0: time.Now()}
		done := make(chan error)
		go func() { done <- (&Terminal{In: pr, Hold: HoldConfig{Toggle: true}}).Run(ctx, rec.set) }()
		pw.Write([]byte(" "))
		time.Sleep(time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		want := []change{{0, true}, {time.Second, false}}
		if !slices.Equal(rec.got, want) {
			t.Fatalf("changes %v, want %v", rec.got, want)
		}
		pw.Close() // lets the reader goroutine finish

		pr, pw = io.Pipe()
		go func() { done <- (&Terminal{In: pr}).Run(t.Context(), func(bool) {}) }()
		pw.Close()
		if err := <-done; err != nil {
			t.Fatalf("Run at EOF = %v", err)
		}
	})
}
