package ptt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

// encodeEvent writes a struct input_event as the kernel does (little-endian).
func encodeEvent(size int, sec, usec int64, typ, code uint16, value int32) []byte {
	b := make([]byte, size)
	le := binary.LittleEndian
	w := size/2 - 4
	if w == 8 {
		le.PutUint64(b, uint64(sec))
		le.PutUint64(b[8:], uint64(usec))
	} else {
		le.PutUint32(b, uint32(sec))
		le.PutUint32(b[4:], uint32(usec))
	}
	le.PutUint16(b[2*w:], typ)
	le.PutUint16(b[2*w+2:], code)
	le.PutUint32(b[2*w+4:], uint32(value))
	return b
}

// keyPress is what a USB keyboard sends for one key transition: MSC_SCAN,
// EV_KEY and SYN_REPORT.
func keyPress(size int, t int64, code uint16, value int32) []byte {
	var b []byte
	b = append(b, encodeEvent(size, 1700000000+t/1000, (t%1000)*1000, 0x04, 0x04, 0x70000+int32(code))...) // EV_MSC MSC_SCAN
	b = append(b, encodeEvent(size, 1700000000+t/1000, (t%1000)*1000, EvKey, code, value)...)
	b = append(b, encodeEvent(size, 1700000000+t/1000, (t%1000)*1000, EvSyn, SynReport, 0)...)
	return b
}

func TestEventSizes(t *testing.T) {
	if EventSize(8) != 24 || EventSize(4) != 16 {
		t.Fatal("event sizes")
	}
	if NativeEventSize != 24 && NativeEventSize != 16 {
		t.Fatalf("native size %d", NativeEventSize)
	}
}

func TestDecodeEvent(t *testing.T) {
	for _, size := range []int{24, 16} {
		b := encodeEvent(size, 1700000123, 456789, EvKey, 183, KeyDown)
		e, err := DecodeEvent(b, size)
		if err != nil {
			t.Fatal(err)
		}
		want := InputEvent{Time: time.Unix(1700000123, 456789000), Type: EvKey, Code: 183, Value: 1}
		if e != want {
			t.Errorf("size %d: %+v, want %+v", size, e, want)
		}
		if _, err := DecodeEvent(b[:size-1], size); err == nil {
			t.Errorf("size %d: short event accepted", size)
		}
	}
	if _, err := DecodeEvent(make([]byte, 32), 32); err == nil {
		t.Fatal("size 32 accepted")
	}
}

func TestEventReaderSplitReads(t *testing.T) {
	for _, size := range []int{24, 16} {
		var stream []byte
		for i := 0; i < 10; i++ {
			stream = append(stream, keyPress(size, int64(i*100), 57, int32(i%3))...)
		}
		er := NewEventReader(iotest.OneByteReader(bytes.NewReader(stream)), size)
		n := 0
		for {
			e, err := er.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if n%3 == 1 && (e.Type != EvKey || e.Code != 57 || e.Value != int32(n/3%3)) {
				t.Fatalf("event %d: %+v", n, e)
			}
			n++
		}
		if n != 30 {
			t.Fatalf("size %d: %d events, want 30", size, n)
		}
		er = NewEventReader(bytes.NewReader(stream[:size+5]), size)
		er.Next()
		if _, err := er.Next(); err != io.ErrUnexpectedEOF {
			t.Fatalf("truncated stream: %v", err)
		}
	}
}

func TestKeyCode(t *testing.T) {
	for in, want := range map[string]uint16{"KEY_SPACE": 57, "space": 57, "f13": 183, "BTN_0": 0x100, "0x2c0": 0x2c0, "183": 183, "btn_trigger": 0x120} {
		if got, err := KeyCode(in); err != nil || got != want {
			t.Errorf("KeyCode(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "KEY_NOPE", "0", "0x300"} {
		if _, err := KeyCode(bad); err == nil {
			t.Errorf("KeyCode(%q) accepted", bad)
		}
	}
	if KeyName(0x130) != "BTN_A" || KeyName(0x2ff) != "0x2ff" {
		t.Fatalf("KeyName: %s %s", KeyName(0x130), KeyName(0x2ff))
	}
}

// fakeDev is an input device backed by a real byte stream (pipe or file).
type fakeDev struct {
	io.ReadCloser
	devName string
	keys    []uint16
	mu      sync.Mutex // guards down, grabbed
	down    map[uint16]bool
	grabbed bool
}

func (f *fakeDev) name() (string, error)         { return f.devName, nil }
func (f *fakeDev) hasKey(c uint16) (bool, error) { return slices.Contains(f.keys, c), nil }
func (f *fakeDev) keyDown(c uint16) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down[c], nil
}
func (f *fakeDev) grab() error              { f.mu.Lock(); f.grabbed = true; f.mu.Unlock(); return nil }
func (f *fakeDev) setDown(c uint16, v bool) { f.mu.Lock(); f.down[c] = v; f.mu.Unlock() }

// changes runs src and returns a channel of its set calls.
func runSource(t *testing.T, ctx context.Context, src Source) (<-chan bool, <-chan error) {
	ch := make(chan bool, 64)
	errc := make(chan error, 1)
	go func() { errc <- src.Run(ctx, func(p bool) { ch <- p }) }()
	return ch, errc
}

func expect(t *testing.T, ch <-chan bool, want bool) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("got pressed=%v, want %v", got, want)
		}
	case <-time.After(10 * time.Second): // hang guard only
		t.Fatalf("no change to %v", want)
	}
}

func TestEvdevPipe(t *testing.T) {
	for _, size := range []int{24, 16} {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		pedal := &fakeDev{ReadCloser: pr, devName: "PCsensor FootSwitch", keys: []uint16{0x100}, down: map[uint16]bool{}}
		kbd := &fakeDev{ReadCloser: io.NopCloser(bytes.NewReader(nil)), devName: "AT Translated Set 2 keyboard", keys: []uint16{57}, down: map[uint16]bool{}}
		opened := make(chan string, 4)
		src := &Evdev{Device: "footswitch", Key: "BTN_0", Grab: true, EventSize: size,
			list: func() ([]string, error) { return []string{"/dev/input/event0", "/dev/input/event7"}, nil },
			open: func(p string) (evdevFile, error) {
				opened <- p
				if p == "/dev/input/event7" {
					return pedal, nil
				}
				return kbd, nil
			}}
		ctx, cancel := context.WithCancel(t.Context())
		ch, errc := runSource(t, ctx, src)
		pw.Write(keyPress(size, 0, 0x100, KeyDown))
		expect(t, ch, true)
		pw.Write(keyPress(size, 500, 0x100, KeyRepeat))
		pw.Write(keyPress(size, 530, 57, KeyUp)) // another key
		pw.Write(keyPress(size, 900, 0x100, KeyUp))
		expect(t, ch, false)
		// Overflow: the release is lost in the kernel; the state is read afresh.
		pw.Write(keyPress(size, 1000, 0x100, KeyDown))
		expect(t, ch, true)
		pedal.setDown(0x100, false)
		pw.Write(encodeEvent(size, 1700000001, 0, EvSyn, SynDropped, 0))
		pw.Write(keyPress(size, 1100, 0x100, KeyDown)) // stale, inside the dropped packet
		expect(t, ch, false)
		pw.Write(keyPress(size, 1200, 0x100, KeyDown))
		expect(t, ch, true)
		cancel()
		expect(t, ch, false) // released when Run ends
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if !pedal.grabbed {
			t.Fatal("not grabbed")
		}
		pw.Close()
	}
}

func TestEvdevUnplugAndReturn(t *testing.T) {
	pr1, pw1, _ := os.Pipe()
	pr2, pw2, _ := os.Pipe()
	var mu sync.Mutex
	present := true
	devs := []*fakeDev{
		{ReadCloser: pr1, devName: "USB PTT", keys: []uint16{183}, down: map[uint16]bool{}},
		{ReadCloser: pr2, devName: "USB PTT", keys: []uint16{183}, down: map[uint16]bool{183: true}},
	}
	n := 0
	src := &Evdev{Key: "KEY_F13", RetryMin: time.Millisecond, RetryMax: time.Millisecond,
		list: func() ([]string, error) {
			mu.Lock()
			defer mu.Unlock()
			if !present {
				return nil, nil
			}
			return []string{"/dev/input/event3"}, nil
		},
		open: func(p string) (evdevFile, error) {
			mu.Lock()
			defer mu.Unlock()
			if !present || n >= len(devs) {
				return nil, os.ErrNotExist
			}
			n++
			return devs[n-1], nil
		}}
	ctx, cancel := context.WithCancel(t.Context())
	ch, errc := runSource(t, ctx, src)
	pw1.Write(keyPress(NativeEventSize, 0, 183, KeyDown))
	expect(t, ch, true)
	mu.Lock()
	present = false
	mu.Unlock()
	pw1.Close() // unplugged while held: talk must stop
	expect(t, ch, false)
	mu.Lock()
	present = true
	mu.Unlock()
	// Back, with the key already held: the initial state is read.
	expect(t, ch, true)
	pw2.Write(keyPress(NativeEventSize, 0, 183, KeyUp))
	expect(t, ch, false)
	select {
	case err := <-errc:
		t.Fatalf("Run ended: %v", err)
	default:
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	pw2.Close()
}

func TestEvdevFile(t *testing.T) {
	// A file standing in for the device: a recorded session.
	var rec []byte
	for i := 0; i < 5; i++ {
		rec = append(rec, keyPress(NativeEventSize, int64(i*1000), 57, KeyDown)...)
		rec = append(rec, keyPress(NativeEventSize, int64(i*1000+300), 57, KeyRepeat)...)
		rec = append(rec, keyPress(NativeEventSize, int64(i*1000+600), 57, KeyUp)...)
	}
	path := t.TempDir() + "/event0"
	if err := os.WriteFile(path, rec, 0o600); err != nil {
		t.Fatal(err)
	}
	var got []bool
	ctx, cancel := context.WithCancel(t.Context())
	opens := 0
	src := &Evdev{Device: path, open: func(p string) (evdevFile, error) {
		opens++
		if opens > 1 { // after EOF the "device" is gone: stop
			cancel()
			return nil, os.ErrNotExist
		}
		f, err := os.Open(p)
		return &fakeDev{ReadCloser: f, down: map[uint16]bool{}}, err
	}, RetryMin: time.Millisecond}
	if err := src.Run(ctx, func(p bool) { got = append(got, p) }); err != nil {
		t.Fatal(err)
	}
	want := []bool{true, false, true, false, true, false, true, false, true, false}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

func TestEvdevErrors(t *testing.T) {
	src := &Evdev{Device: "pedal", list: func() ([]string, error) { return []string{"/dev/input/event0"}, nil },
		open: func(string) (evdevFile, error) {
			return &fakeDev{ReadCloser: io.NopCloser(nil), devName: "Power Button"}, nil
		}}
	err := src.Run(t.Context(), func(bool) {})
	if !errors.Is(err, errNoInputDevice) {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
	if err := (&Evdev{Key: "KEY_WHATEVER"}).Run(t.Context(), func(bool) {}); err == nil {
		t.Fatal("unknown key accepted")
	}
	if err := (&Evdev{EventSize: 20}).Run(t.Context(), func(bool) {}); err == nil {
		t.Fatal("bad event size accepted")
	}
}

func TestListInputDevices(t *testing.T) {
	devs, err := ListInputDevices()
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) == 0 {
		t.Skip("skipping: no /dev/input/event* on this machine")
	}
	for _, d := range devs {
		t.Log(d.Path, d.Name)
	}
}

// TestEvdevProbe: the setup check finds the device by name and reports
// one that lacks the configured key (it would never talk).
func TestEvdevProbe(t *testing.T) {
	dev := func(name string, keys ...uint16) func(string) (evdevFile, error) {
		return func(string) (evdevFile, error) {
			return &fakeDev{ReadCloser: io.NopCloser(bytes.NewReader(nil)), devName: name, keys: keys, down: map[uint16]bool{}}, nil
		}
	}
	list := func() ([]string, error) { return []string{"/dev/input/event4"}, nil }
	desc, err := (&Evdev{Device: "footswitch", Key: "BTN_0", list: list, open: dev("PCsensor FootSwitch", 0x100)}).Probe()
	if err != nil || !strings.Contains(desc, "/dev/input/event4") || !strings.Contains(desc, "BTN_0") {
		t.Fatalf("Probe = %q, %v", desc, err)
	}
	_, err = (&Evdev{Device: "footswitch", Key: "KEY_F13", list: list, open: dev("PCsensor FootSwitch", 0x100)}).Probe()
	if err == nil || !strings.Contains(err.Error(), "has no key KEY_F13") {
		t.Fatalf("a device without the key: %v", err)
	}
	t.Log(err)
	if _, err := (&Evdev{Device: "pedal", list: list, open: dev("Power Button", 116)}).Probe(); !errors.Is(err, errNoInputDevice) {
		t.Fatalf("no matching device: %v", err)
	}
}
