// Package audio opens sound cards through miniaudio (github.com/gen2brain/malgo)
// for the talk client: capture and playback at 48 kHz mono int16 in fixed
// periods (10 ms by default), device listing and choice by name or id, and
// automatic reopening of a device that disappears (a USB headset unplugged and
// plugged back) without restarting the client.
//
// The audio thread never runs Go code (unless Options.Direct): it copies
// samples between the device and a lock-free ring and wakes a goroutine
// through a pipe (ring.c). That goroutine hands captured periods to a
// buffered channel, dropping (and counting) them when the consumer is slow,
// or to a handler (Capture.Handle), and fills the playback ring from a
// FillFunc one period ahead of the device (up to three after underruns).
//
// Waking Go costs far more CPU than moving the samples, so the audio thread
// wakes it only when there is a whole chunk of work: a frame of capture
// (Capture.Handle) or room for a frame of playback (Playback.SetChunk), and
// not at all while the stream is paused (Pause, Resume): a paused capture
// only measures the level, a paused playback plays silence.
//
// Tests use miniaudio's null backend (Backend "null", which is malgo.Backend(14);
// malgo.BackendNull is 13, the custom backend in the bundled miniaudio, and fails)
// and a fake backend behind the small backend interface for the reopen logic.
package audio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Stream format shared by every device of this package.
const (
	SampleRate   = 48000 // samples per second
	Channels     = 1     // mono
	PeriodFrames = 480   // default period: 10 ms at 48 kHz
)

// Kind tells capture from playback.
type Kind int

// Device kinds.
const (
	KindCapture Kind = iota + 1
	KindPlayback
)

func (k Kind) String() string {
	switch k {
	case KindCapture:
		return "capture"
	case KindPlayback:
		return "playback"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Device is what the client starts and stops; *Capture and *Playback implement it.
type Device interface {
	// Start opens the device and keeps it open (reopening it when it
	// disappears and comes back) until ctx ends or Close is called.
	Start(ctx context.Context) error
	// Close stops the device and waits for its goroutines. Safe to call twice.
	Close() error
}

// Input is a capture device as its consumer sees it (a seam for fakes).
type Input interface {
	Device
	// Frames delivers captured periods; see Capture.Frames.
	Frames() <-chan []int16
	// Recycle hands a period back for reuse; optional.
	Recycle([]int16)
}

// FillFunc fills out with the next samples to play and returns how many it
// wrote; the rest of out is played as silence. len(out) is the period size.
// It runs on the stream's pump goroutine (or, with Options.Direct, on the
// audio thread itself), once per period: it must return promptly (no
// blocking, no I/O, no lock held long by others) and must not keep out.
type FillFunc func(out []int16) int

// DeviceInfo describes one device as `talk devices` lists it.
type DeviceInfo struct {
	Kind    Kind
	Name    string // human readable, from the driver
	ID      string // stable id: printable (ALSA "hw:1,0", PulseAudio sink name) or hex of the raw id
	Default bool   // the system's default device of its kind

	raw any // backend specific handle used to open the device
}

func (d DeviceInfo) String() string {
	def := ""
	if d.Default {
		def = " (default)"
	}
	return fmt.Sprintf("%s %q id=%s%s", d.Kind, d.Name, d.ID, def)
}

// Options are shared by capture and playback devices. The zero value opens
// the system default device with the automatic backend choice.
type Options struct {
	// Backend is "" or "auto" (the platform's real backends in miniaudio's
	// order: PulseAudio, ALSA, JACK on Linux), or one of "alsa", "pulse",
	// "jack", "oss", "coreaudio", "wasapi", "null" (no sound card: silence in,
	// sound discarded, real-time pacing; for tests and benchmarks).
	Backend string
	// Device picks the device: "" for the system default, else an exact id
	// (as printed by `talk devices`) or a case-insensitive part of its name.
	Device string
	// PeriodFrames is the period in samples; 0 means PeriodFrames (10 ms).
	PeriodFrames int
	// Periods is the device buffer length in periods; 0 means 2.
	Periods int
	// WaitForDevice makes Start succeed when the device is missing: it is
	// then opened as soon as it appears (box mode with a USB sound card).
	WaitForDevice bool
	// RetryMin and RetryMax bound the backoff between reopen attempts;
	// 0 means 200 ms and 5 s.
	RetryMin, RetryMax time.Duration
	// StallTimeout: a started device that makes no callback for this long is
	// treated as lost and reopened. 0 means 2 s; negative disables.
	StallTimeout time.Duration
	// Direct makes miniaudio's audio thread call into Go for every period
	// (FillFunc runs on it), instead of going through a ring buffer and a
	// goroutine. It saves one period of playback latency but costs several
	// percent of a core: each call from a foreign thread keeps the Go
	// runtime's sysmon thread busy.
	Direct bool
	// Logger receives device losses and reopenings; nil discards.
	Logger *slog.Logger

	backend backend // tests inject a fake; nil means malgo
}

func (o Options) withDefaults() Options {
	if o.PeriodFrames <= 0 {
		o.PeriodFrames = PeriodFrames
	}
	if o.Periods <= 0 {
		o.Periods = 2
	}
	if o.RetryMin <= 0 {
		o.RetryMin = 200 * time.Millisecond
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 5 * time.Second
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = o.RetryMin
	}
	if o.StallTimeout == 0 {
		o.StallTimeout = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// ErrNoDevice means no device matches the requested name or id (or there is
// no device of that kind at all).
var ErrNoDevice = errors.New("no such audio device")

// ErrAmbiguous means a device name matches several devices.
var ErrAmbiguous = errors.New("audio device name is ambiguous")

// List returns the capture devices followed by the playback devices of the
// given backend ("" for automatic).
func List(ctx context.Context, backendName string) ([]DeviceInfo, error) {
	b, err := newMalgoBackend(backendName, nil)
	if err != nil {
		return nil, err
	}
	return listWith(ctx, b)
}

func listWith(ctx context.Context, b backend) ([]DeviceInfo, error) {
	var all []DeviceInfo
	for _, k := range []Kind{KindCapture, KindPlayback} {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ds, err := b.devices(k)
		if err != nil {
			return nil, fmt.Errorf("listing %s devices: %w", k, err)
		}
		all = append(all, ds...)
	}
	return all, nil
}

// Select picks the device matching want among devs (all of one kind):
// "" is the default (nil result), then an exact id, then an exact name
// (case-insensitive), then a unique case-insensitive substring of the name.
func Select(devs []DeviceInfo, kind Kind, want string) (*DeviceInfo, error) {
	if want == "" {
		return nil, nil
	}
	for i := range devs {
		if devs[i].ID == want {
			return &devs[i], nil
		}
	}
	lw := strings.ToLower(want)
	for i := range devs {
		if strings.ToLower(devs[i].Name) == lw {
			return &devs[i], nil
		}
	}
	var matches []*DeviceInfo
	for i := range devs {
		if strings.Contains(strings.ToLower(devs[i].Name), lw) {
			matches = append(matches, &devs[i])
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		var names []string
		for _, d := range devs {
			names = append(names, fmt.Sprintf("%q (id %s)", d.Name, d.ID))
		}
		avail := "there are none"
		if len(names) > 0 {
			avail = "available: " + strings.Join(names, ", ")
		}
		return nil, fmt.Errorf("%w: no %s device has %q in its name or as its id; %s", ErrNoDevice, kind, want, avail)
	default:
		var names []string
		for _, d := range matches {
			names = append(names, fmt.Sprintf("%q (id %s)", d.Name, d.ID))
		}
		return nil, fmt.Errorf("%w: %q matches several %s devices: %s; give more of the name or the id", ErrAmbiguous, want, kind, strings.Join(names, ", "))
	}
}
