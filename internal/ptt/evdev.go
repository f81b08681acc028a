package ptt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unsafe"
)

// Event types and codes from linux/input-event-codes.h.
const (
	EvSyn      = 0x00
	EvKey      = 0x01
	SynReport  = 0
	SynDropped = 3
)

// Key event values.
const (
	KeyUp     = 0
	KeyDown   = 1
	KeyRepeat = 2
)

// InputEvent is one struct input_event.
type InputEvent struct {
	Time  time.Time
	Type  uint16
	Code  uint16
	Value int32
}

// EventSize returns sizeof(struct input_event) for a userland word size in
// bytes: 24 on 64-bit systems, 16 on 32-bit ones (arm, 386), where the
// timestamp is two 32-bit words.
func EventSize(wordBytes int) int { return 2*wordBytes + 8 }

// NativeEventSize is the event size of the machine this program runs on.
var NativeEventSize = EventSize(int(unsafe.Sizeof(uintptr(0))))

// DecodeEvent decodes one input_event of the given size (16 or 24), little-endian.
func DecodeEvent(b []byte, size int) (InputEvent, error) {
	if size != 16 && size != 24 {
		return InputEvent{}, fmt.Errorf("evdev: event size must be 16 or 24, not %d", size)
	}
	if len(b) < size {
		return InputEvent{}, fmt.Errorf("evdev: short event: %d of %d bytes", len(b), size)
	}
	le := binary.LittleEndian
	var sec, usec int64
	w := size/2 - 4
	if w == 8 {
		sec, usec = int64(le.Uint64(b)), int64(le.Uint64(b[8:]))
	} else {
		sec, usec = int64(int32(le.Uint32(b))), int64(le.Uint32(b[4:]))
	}
	return InputEvent{
		Time:  time.Unix(sec, usec*1000),
		Type:  le.Uint16(b[2*w:]),
		Code:  le.Uint16(b[2*w+2:]),
		Value: int32(le.Uint32(b[2*w+4:])),
	}, nil
}

// EventReader reads input events from a device or any byte stream (a pipe
// or file in tests); it copes with events split across reads. Not safe for
// concurrent use.
type EventReader struct {
	r    io.Reader
	size int
	buf  []byte
	n    int // bytes in buf
	off  int // next event in buf
}

// NewEventReader reads events of the given size (0 means NativeEventSize).
func NewEventReader(r io.Reader, size int) *EventReader {
	if size == 0 {
		size = NativeEventSize
	}
	return &EventReader{r: r, size: size, buf: make([]byte, 64*size)}
}

// Next returns the next event. At the end of the stream it returns io.EOF
// (io.ErrUnexpectedEOF if the stream ends inside an event).
func (er *EventReader) Next() (InputEvent, error) {
	for er.n-er.off < er.size {
		if er.off > 0 {
			er.n = copy(er.buf, er.buf[er.off:er.n])
			er.off = 0
		}
		m, err := er.r.Read(er.buf[er.n:])
		er.n += m
		if err != nil && er.n-er.off < er.size {
			if errors.Is(err, io.EOF) && er.n > 0 {
				return InputEvent{}, io.ErrUnexpectedEOF
			}
			return InputEvent{}, err
		}
	}
	e, err := DecodeEvent(er.buf[er.off:], er.size)
	er.off += er.size
	return e, err
}

// evdevFile is an open input device (or a stand-in in tests).
type evdevFile interface {
	io.ReadCloser
	// name returns the device name (EVIOCGNAME).
	name() (string, error)
	// hasKey reports whether the device can send the key (EVIOCGBIT).
	hasKey(code uint16) (bool, error)
	// keyDown reads the current state of a key (EVIOCGKEY).
	keyDown(code uint16) (bool, error)
	// grab takes the device for this program alone (EVIOCGRAB).
	grab() error
}

// Evdev is push-to-talk from a Linux input device: a key of a keyboard, a
// USB foot pedal or PTT button, a mouse or joystick button. It sees true
// key-down and key-up, also on Wayland, over SSH and without a display.
// Reading /dev/input/event* needs root or membership in the "input" group.
//
// When the device disappears (unplugged), Run releases talk and waits for
// it to come back, reopening it with backoff.
type Evdev struct {
	// Device is a path ("/dev/input/event3", or a stable
	// "/dev/input/by-id/usb-…-event-kbd"), or a part of the device name as
	// `talk devices` lists it ("FootSwitch"). Empty means the first device
	// that has the key.
	Device string
	// Key is the key or button (see KeyCode); "" means KEY_SPACE.
	Key string
	// Grab takes the device exclusively, so that its key presses do not
	// also reach other programs (e.g. a pedal that types letters).
	Grab bool
	// EventSize is sizeof(struct input_event); 0 means this machine's.
	EventSize int
	// WaitForDevice makes Run wait for a missing device instead of failing.
	WaitForDevice bool
	// RetryMin and RetryMax bound the reopen backoff; 0 means 250 ms and 5 s.
	RetryMin, RetryMax time.Duration
	Logger             *slog.Logger

	// For tests: how to list and open devices. Nil means the real ones.
	list func() ([]string, error)
	open func(path string) (evdevFile, error)
}

// InputDevice is an evdev device as ListInputDevices reports it.
type InputDevice struct {
	Path string
	Name string
}

// ListInputDevices lists /dev/input/event* with their names (for `talk
// devices`); devices that cannot be opened are listed with the reason.
func ListInputDevices() ([]InputDevice, error) {
	paths, err := listEventPaths()
	if err != nil {
		return nil, err
	}
	var out []InputDevice
	for _, p := range paths {
		d := InputDevice{Path: p}
		if f, err := openEvdev(p); err != nil {
			d.Name = "(" + err.Error() + ")"
		} else {
			d.Name, _ = f.name()
			f.Close()
		}
		out = append(out, d)
	}
	return out, nil
}

func listEventPaths() ([]string, error) {
	paths, err := filepath.Glob("/dev/input/event*")
	if err != nil {
		return nil, err
	}
	sort.Slice(paths, func(i, j int) bool { // event2 before event10
		if len(paths[i]) != len(paths[j]) {
			return len(paths[i]) < len(paths[j])
		}
		return paths[i] < paths[j]
	})
	return paths, nil
}

var errNoInputDevice = errors.New("no matching input device")

func (d *Evdev) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

// find opens the configured device.
func (d *Evdev) find(code uint16) (evdevFile, string, error) {
	open := d.open
	if open == nil {
		open = openEvdev
	}
	if strings.HasPrefix(d.Device, "/") {
		f, err := open(d.Device)
		return f, d.Device, err
	}
	list := d.list
	if list == nil {
		list = listEventPaths
	}
	paths, err := list()
	if err != nil {
		return nil, "", err
	}
	want := strings.ToLower(d.Device)
	var seen []string
	var firstErr error
	for _, p := range paths {
		f, err := open(p)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		name, _ := f.name()
		ok := want != "" && strings.Contains(strings.ToLower(name), want)
		if want == "" {
			ok, _ = f.hasKey(code)
		}
		if ok {
			return f, p + " (" + name + ")", nil
		}
		seen = append(seen, fmt.Sprintf("%s %q", p, name))
		f.Close()
	}
	what := fmt.Sprintf("no input device has %q in its name", d.Device)
	if want == "" {
		what = "no input device has the key " + KeyName(code)
	}
	if len(seen) == 0 && firstErr != nil {
		return nil, "", fmt.Errorf("%w: %s; the devices could not be opened: %v", errNoInputDevice, what, firstErr)
	}
	if len(seen) == 0 {
		return nil, "", fmt.Errorf("%w: %s; there are no input devices", errNoInputDevice, what)
	}
	return nil, "", fmt.Errorf("%w: %s; devices: %s", errNoInputDevice, what, strings.Join(seen, ", "))
}

// keyCode is the code of Key (KEY_SPACE when empty).
func (d *Evdev) keyCode() (uint16, error) {
	if d.Key == "" {
		return KeyCode("KEY_SPACE")
	}
	return KeyCode(d.Key)
}

// Probe opens the device as Run would, checks that it has the key, and
// closes it again; it returns the device's path and name. It is for setup
// checks (`talk box --check`): a device without the key would never talk.
func (d *Evdev) Probe() (string, error) {
	code, err := d.keyCode()
	if err != nil {
		return "", err
	}
	f, desc, err := d.find(code)
	if err != nil {
		return "", err
	}
	defer f.Close()
	has, err := f.hasKey(code)
	if err != nil {
		return desc, fmt.Errorf("%s: reading its keys: %w", desc, err)
	}
	if !has {
		return desc, fmt.Errorf("%s has no key %s", desc, KeyName(code))
	}
	return desc + ", key " + KeyName(code), nil
}

// Run watches the key; see Source.
func (d *Evdev) Run(ctx context.Context, set func(bool)) error {
	code, err := d.keyCode()
	if err != nil {
		return err
	}
	size := d.EventSize
	if size == 0 {
		size = NativeEventSize
	}
	if size != 16 && size != 24 {
		return fmt.Errorf("evdev event size must be 16 or 24, not %d", size)
	}
	rmin, rmax := d.RetryMin, d.RetryMax
	if rmin <= 0 {
		rmin = 250 * time.Millisecond
	}
	if rmax < rmin {
		rmax = max(rmin, 5*time.Second)
	}
	log := d.logger()
	e := edge{set: set}
	defer e.to(false)
	backoff := rmin
	first := true
	for {
		f, desc, err := d.find(code)
		if err != nil {
			if first && !d.WaitForDevice {
				return err
			}
			if first || backoff == rmin {
				log.Warn("push-to-talk input device not available; waiting for it", "err", err)
			}
			first = false
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			backoff = min(2*backoff, rmax)
			continue
		}
		if !first {
			log.Info("push-to-talk input device is back", "device", desc)
		}
		first = false
		backoff = rmin
		err = d.watch(ctx, f, desc, code, size, &e)
		e.to(false)
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("push-to-talk input device lost; waiting for it to return", "device", desc, "err", err)
		// A closed pipe or file in tests ends with EOF: treat like unplugging.
	}
}

// watch reads one opened device until it fails or ctx ends.
func (d *Evdev) watch(ctx context.Context, f evdevFile, desc string, code uint16, size int, e *edge) error {
	stop := make(chan struct{})
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		select {
		case <-ctx.Done():
		case <-stop:
		}
		f.Close() // unblocks Read
	}()
	defer func() { close(stop); <-closed }()
	if d.Grab {
		if err := f.grab(); err != nil {
			return fmt.Errorf("cannot grab %s (another program grabbed it?): %w", desc, err)
		}
	}
	if down, err := f.keyDown(code); err == nil {
		e.to(down)
	}
	d.logger().Debug("watching push-to-talk key", "device", desc, "key", KeyName(code))
	er := NewEventReader(f, size)
	dropped := false
	for {
		ev, err := er.Next()
		if err != nil {
			return err
		}
		switch {
		case ev.Type == EvSyn && ev.Code == SynDropped:
			// The kernel's buffer overflowed: events until the next
			// SYN_REPORT are incomplete; read the key state afresh then.
			dropped = true
		case ev.Type == EvSyn && ev.Code == SynReport && dropped:
			dropped = false
			if down, err := f.keyDown(code); err == nil {
				e.to(down)
			}
		case dropped:
		case ev.Type == EvKey && ev.Code == code:
			switch ev.Value {
			case KeyDown:
				e.to(true)
			case KeyUp:
				e.to(false)
			}
		}
	}
}
