package engine

import (
	"log/slog"

	"github.com/hark-intercom/hark/internal/audio"
)

// DeviceOptions chooses the sound cards for OpenDevices.
type DeviceOptions struct {
	// Backend is an audio backend name (see audio.BackendNames); "" is
	// automatic, "null" is no sound card (silence in, sound discarded).
	Backend string
	// Capture and Playback pick the devices by id or name as `talk devices`
	// lists them; "" is the system default.
	Capture, Playback string
	// WaitForDevice starts even when a device is missing and opens it when
	// it appears (box mode).
	WaitForDevice bool
	// Separate opens capture and playback as two devices even when they
	// are the same sound card (by default they are opened as one duplex
	// device when Capture == Playback, which costs less CPU; a card that
	// cannot do duplex is opened as two anyway).
	Separate bool
	Logger   *slog.Logger
}

// OpenDevices returns the capture device and playback constructor for
// Config.Capture and Config.Playback. Nothing is opened before Engine.Run.
func OpenDevices(o DeviceOptions) (audio.Input, PlaybackFunc, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := func(dev, kind string) audio.Options {
		return audio.Options{Backend: o.Backend, Device: dev, WaitForDevice: o.WaitForDevice,
			Logger: log.With("device", kind)}
	}
	capt, err := audio.NewCapture(audio.CaptureConfig{Options: opts(o.Capture, "capture")})
	if err != nil {
		return nil, nil, err
	}
	popts := opts(o.Playback, "playback")
	play := func(fill audio.FillFunc) (audio.Device, error) {
		p, err := audio.NewPlayback(audio.PlaybackConfig{Options: popts, Fill: fill})
		if err != nil {
			return nil, err
		}
		if o.Capture == o.Playback && !o.Separate {
			// The same sound card (or both defaults): one duplex device,
			// one audio thread and one wake-up per frame for both.
			audio.Link(capt, p)
		}
		return p, nil
	}
	return capt, play, nil
}
