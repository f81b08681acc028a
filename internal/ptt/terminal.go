package ptt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// HoldConfig tunes how a terminal key becomes push-to-talk.
//
// Terminals send characters, not key presses and releases. While a key is
// held, the terminal sends it once, then after the keyboard's repeat delay
// (typically 250–660 ms) again and again at the repeat rate (typically
// 25–33 per second). Hold mode therefore starts talking at the first
// character and stops when the characters stop: when no repeat came within
// InitialTimeout after the first one, or within RepeatTimeout after a
// repeat. A quick tap talks for InitialTimeout. If talking stops about half
// a second into every hold, the keyboard's repeat delay is longer than
// InitialTimeout: raise it.
//
// Toggle mode: press the key once to start talking and again to stop;
// repeats of a held key are ignored, so a second press counts only after
// the key was released for longer than the timeouts above.
type HoldConfig struct {
	Toggle bool
	// InitialTimeout is the wait for the first auto-repeat; 0 means 700 ms.
	InitialTimeout time.Duration
	// RepeatTimeout is the wait for the next repeat once repeating; 0 means
	// 150 ms. It grows to twice the observed repeat interval for slow repeat rates.
	RepeatTimeout time.Duration
}

func (c HoldConfig) withDefaults() HoldConfig {
	if c.InitialTimeout <= 0 {
		c.InitialTimeout = 700 * time.Millisecond
	}
	if c.RepeatTimeout <= 0 {
		c.RepeatTimeout = 150 * time.Millisecond
	}
	return c
}

// Hold turns the arrival times of a talk key into talk state. It is a pure
// state machine driven by the caller's clock, for the terminal source and
// for terminal UIs that read keys themselves: call Key for each talk key,
// and Expire at Deadline. The zero value is not ready: use NewHold. Not safe
// for concurrent use.
type Hold struct {
	cfg      HoldConfig
	pressed  bool      // talk state reported to the user
	held     bool      // the key is considered physically held
	lastKey  time.Time // arrival of the last talk key
	repeats  int       // repeats seen in the current hold
	deadline time.Time
}

// NewHold returns a Hold in the released state.
func NewHold(cfg HoldConfig) *Hold { return &Hold{cfg: cfg.withDefaults()} }

// Pressed reports the talk state.
func (h *Hold) Pressed() bool { return h.pressed }

// Key records an arrival of the talk key at now and returns the talk state
// and whether it changed.
func (h *Hold) Key(now time.Time) (pressed, changed bool) {
	was := h.pressed
	if !h.held {
		h.held = true
		h.repeats = 0
		h.deadline = now.Add(h.cfg.InitialTimeout)
		if h.cfg.Toggle {
			h.pressed = !h.pressed
		} else {
			h.pressed = true
		}
	} else {
		gap := now.Sub(h.lastKey)
		h.repeats++
		timeout := h.cfg.RepeatTimeout
		if h.repeats > 1 {
			// Between repeats (not after the initial delay): adapt to slow
			// repeat rates.
			timeout = max(timeout, 2*gap)
		}
		h.deadline = now.Add(timeout)
	}
	h.lastKey = now
	return h.pressed, h.pressed != was
}

// Deadline returns when Expire must be called next; zero if no timeout is pending.
func (h *Hold) Deadline() time.Time {
	if !h.held {
		return time.Time{}
	}
	return h.deadline
}

// Expire handles the timeout: call it at or after Deadline. It returns the
// talk state and whether it changed.
func (h *Hold) Expire(now time.Time) (pressed, changed bool) {
	if !h.held || now.Before(h.deadline) {
		return h.pressed, false
	}
	h.held = false
	if h.cfg.Toggle {
		return h.pressed, false
	}
	h.pressed = false
	return false, true
}

// Release forces the released state (e.g. when the terminal loses focus).
func (h *Hold) Release() (changed bool) {
	was := h.pressed
	h.pressed, h.held = false, false
	return was
}

// Key names understood by ParseKey and produced by SplitKeys, besides
// single printable characters ("a", "`", "ü").
var termKeys = map[string]string{
	" ": "space", "\r": "enter", "\n": "enter", "\t": "tab", "\x7f": "backspace", "\x1b": "esc",
	"\x1b[A": "up", "\x1b[B": "down", "\x1b[C": "right", "\x1b[D": "left",
	"\x1bOA": "up", "\x1bOB": "down", "\x1bOC": "right", "\x1bOD": "left",
	"\x1b[H": "home", "\x1b[F": "end", "\x1b[1~": "home", "\x1b[4~": "end",
	"\x1b[2~": "insert", "\x1b[3~": "delete", "\x1b[5~": "pgup", "\x1b[6~": "pgdown",
	"\x1bOP": "f1", "\x1bOQ": "f2", "\x1bOR": "f3", "\x1bOS": "f4",
	"\x1b[11~": "f1", "\x1b[12~": "f2", "\x1b[13~": "f3", "\x1b[14~": "f4",
	"\x1b[15~": "f5", "\x1b[17~": "f6", "\x1b[18~": "f7", "\x1b[19~": "f8",
	"\x1b[20~": "f9", "\x1b[21~": "f10", "\x1b[23~": "f11", "\x1b[24~": "f12",
}

// SplitKeys splits terminal input into keys: escape sequences (CSI and SS3)
// and single characters, named as in ParseKey ("space", "f5", "ctrl+c",
// "alt+x", "a"). Unknown escape sequences are returned as "esc" followed by
// their bytes. An escape sequence cut at the end of b is returned as is.
func SplitKeys(b []byte) []string {
	var keys []string
	for len(b) > 0 {
		n := 1
		switch {
		case b[0] == 0x1b && len(b) >= 2 && b[1] == '[':
			n = 2
			for n < len(b) && b[n] >= 0x20 && b[n] <= 0x3f { // parameters, intermediates
				n++
			}
			if n < len(b) && b[n] >= 0x40 && b[n] <= 0x7e {
				n++
			}
		case b[0] == 0x1b && len(b) >= 3 && b[1] == 'O':
			n = 3
		case b[0] == 0x1b && len(b) >= 2 && b[1] != 0x1b:
			_, size := utf8.DecodeRune(b[1:])
			keys = append(keys, "alt+"+keyName(string(b[1:1+size])))
			b = b[1+size:]
			continue
		case b[0] >= 0x80:
			_, n = utf8.DecodeRune(b)
		}
		keys = append(keys, keyName(string(b[:n])))
		b = b[n:]
	}
	return keys
}

func keyName(s string) string {
	if name, ok := termKeys[s]; ok {
		return name
	}
	if len(s) == 1 && s[0] < 0x20 {
		return "ctrl+" + string(rune('a'+s[0]-1))
	}
	if strings.HasPrefix(s, "\x1b") {
		return "esc" + s[1:]
	}
	return s
}

// ParseKey checks a talk-key name: "space" (the default when empty), "enter",
// "tab", "f1"…"f12", "insert", arrows ("up"…), or a single printable
// character. Names are case-insensitive except single characters.
func ParseKey(name string) (string, error) {
	if name == "" {
		return "space", nil
	}
	if utf8.RuneCountInString(name) == 1 {
		if name == " " {
			return "space", nil
		}
		if r, _ := utf8.DecodeRuneInString(name); r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("talk key %q is a control character; use a name such as space or f5", name)
		}
		return name, nil
	}
	l := strings.ToLower(name)
	for _, n := range termKeys {
		if n == l {
			return l, nil
		}
	}
	return "", fmt.Errorf("unknown talk key %q; use a single character or one of space, enter, tab, f1…f12, insert, delete, home, end, pgup, pgdown, up, down, left, right", name)
}

// ErrInterrupted is returned by Terminal.Run when the user pressed Ctrl-C or Ctrl-D.
var ErrInterrupted = errors.New("interrupted from the keyboard")

// Terminal is a push-to-talk key in a terminal (see HoldConfig for how
// holding a key is detected and for toggle mode).
type Terminal struct {
	// In is the terminal input in raw mode (see OpenTerminal). If In has a
	// Cancel() bool method (as OpenTerminal's has), Run cancels its pending
	// Read and waits for it before returning; otherwise that Read finishes
	// on the next input, which is then lost.
	In io.Reader
	// Key is the talk key as accepted by ParseKey; "" means space.
	Key string
	// Hold configures hold and toggle modes.
	Hold HoldConfig
	// OtherKey, if set, receives every other key (named as by SplitKeys)
	// from Run's goroutine.
	OtherKey func(key string)
}

type canceler interface{ Cancel() bool }

// Run reads keys until ctx ends, In ends (io.EOF: returns nil) or the user
// presses Ctrl-C or Ctrl-D (returns ErrInterrupted).
func (t *Terminal) Run(ctx context.Context, set func(bool)) error {
	key, err := ParseKey(t.Key)
	if err != nil {
		return err
	}
	type chunk struct {
		keys []string
		err  error
	}
	chunks := make(chan chunk)
	stop := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		buf := make([]byte, 256)
		for {
			n, err := t.In.Read(buf)
			c := chunk{keys: SplitKeys(buf[:n]), err: err}
			select {
			case chunks <- c:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		// A cancelable reader returns from Read once canceled: wait for
		// it, so that nobody reads the terminal after Run returned (and
		// the caller may close or reuse it).
		if c, ok := t.In.(canceler); ok {
			c.Cancel()
			<-readerDone
		}
	}()
	h := NewHold(t.Hold)
	e := edge{set: set}
	defer e.to(false)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var tc <-chan time.Time
		if d := h.Deadline(); !d.IsZero() {
			timer.Reset(time.Until(d))
			tc = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case now := <-tc:
			p, _ := h.Expire(now)
			e.to(p)
		case c := <-chunks:
			now := time.Now()
			for _, k := range c.keys {
				switch k {
				case key:
					p, _ := h.Key(now)
					e.to(p)
				case "ctrl+c", "ctrl+d":
					return ErrInterrupted
				default:
					if t.OtherKey != nil {
						t.OtherKey(k)
					}
				}
			}
			if c.err == io.EOF {
				return nil
			}
			if c.err != nil {
				return fmt.Errorf("reading the terminal: %w", c.err)
			}
		}
	}
}
