package audio

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"unsafe"

	"github.com/gen2brain/malgo"
)

// backend is the seam between the device supervisor and miniaudio; tests
// replace it with a fake.
type backend interface {
	// devices lists the devices of one kind, freshly enumerated.
	devices(kind Kind) ([]DeviceInfo, error)
	// open initialises (but does not start) a stream on dev, or on the
	// default device when dev is nil. cb.data runs on the audio thread;
	// cb.stopped runs when the stream stops for any reason.
	open(kind Kind, dev *DeviceInfo, p streamParams, cb streamCallbacks) (stream, error)
}

type streamParams struct {
	periodFrames int
	periods      int
	// chunk is how many frames the consumer wants per wake-up (a capture
	// delivery, a playback fill); 0 means one period. Only ring streams
	// use it: the others call back once per device period.
	chunk int
}

type streamCallbacks struct {
	data    func(out, in []byte, frames uint32)
	stopped func()
}

// stream is one opened device.
type stream interface {
	start() error
	// close stops and releases the stream; the data callback is not running
	// and will not run once close returns.
	close()
}

// malgoNull is miniaudio's null backend. malgo.BackendNull (13) is the
// custom backend in the bundled miniaudio.
const malgoNull = malgo.Backend(14)

// autoBackends are the real backends, in miniaudio's priority order,
// leaving out the custom and null backends so that a machine without sound
// gets a clear error rather than silence.
var autoBackends = []malgo.Backend{
	malgo.BackendWasapi, malgo.BackendDsound, malgo.BackendWinmm,
	malgo.BackendCoreaudio, malgo.BackendSndio, malgo.BackendAudio4,
	malgo.BackendOss, malgo.BackendPulseaudio, malgo.BackendAlsa,
	malgo.BackendJack, malgo.BackendAaudio, malgo.BackendOpensl,
	malgo.BackendWebaudio,
}

// BackendNames are the accepted values of Options.Backend.
var BackendNames = []string{"auto", "alsa", "pulse", "jack", "oss", "sndio", "coreaudio", "wasapi", "null"}

func parseBackend(name string) ([]malgo.Backend, error) {
	switch strings.ToLower(name) {
	case "", "auto":
		return autoBackends, nil
	case "alsa":
		return []malgo.Backend{malgo.BackendAlsa}, nil
	case "pulse", "pulseaudio", "pipewire":
		return []malgo.Backend{malgo.BackendPulseaudio}, nil
	case "jack":
		return []malgo.Backend{malgo.BackendJack}, nil
	case "oss":
		return []malgo.Backend{malgo.BackendOss}, nil
	case "sndio":
		return []malgo.Backend{malgo.BackendSndio}, nil
	case "coreaudio":
		return []malgo.Backend{malgo.BackendCoreaudio}, nil
	case "wasapi":
		return []malgo.Backend{malgo.BackendWasapi}, nil
	case "null":
		return []malgo.Backend{malgoNull}, nil
	}
	return nil, fmt.Errorf("unknown audio backend %q; use one of %s", name, strings.Join(BackendNames, ", "))
}

type malgoBackend struct {
	name     string
	backends []malgo.Backend
	log      *slog.Logger
}

func newMalgoBackend(name string, log *slog.Logger) (*malgoBackend, error) {
	bs, err := parseBackend(name)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &malgoBackend{name: name, backends: bs, log: log}, nil
}

func (b *malgoBackend) initContext() (*malgo.AllocatedContext, error) {
	ctx, err := malgo.InitContext(b.backends, malgo.ContextConfig{}, func(msg string) {
		b.log.Debug("miniaudio", "msg", strings.TrimSpace(msg))
	})
	if err != nil {
		name := b.name
		if name == "" {
			name = "auto"
		}
		return nil, fmt.Errorf("no usable audio system (backend %s): %w", name, err)
	}
	return ctx, nil
}

func freeContext(ctx *malgo.AllocatedContext) {
	_ = ctx.Uninit()
	ctx.Free()
}

func malgoKind(k Kind) malgo.DeviceType {
	if k == KindCapture {
		return malgo.Capture
	}
	return malgo.Playback
}

// idString renders a raw device id: as text when it is printable (ALSA,
// PulseAudio, JACK use names), else as malgo's hex form.
func idString(id malgo.DeviceID) string {
	n := len(id)
	for n > 0 && id[n-1] == 0 {
		n--
	}
	printable := n > 0
	for _, c := range id[:n] {
		if c < 0x20 || c > 0x7e {
			printable = false
			break
		}
	}
	if printable {
		return string(id[:n])
	}
	return id.String()
}

func (b *malgoBackend) devices(kind Kind) ([]DeviceInfo, error) {
	ctx, err := b.initContext()
	if err != nil {
		return nil, err
	}
	defer freeContext(ctx)
	infos, err := ctx.Devices(malgoKind(kind))
	if err != nil {
		return nil, err
	}
	out := make([]DeviceInfo, 0, len(infos))
	for _, in := range infos {
		out = append(out, DeviceInfo{
			Kind:    kind,
			Name:    in.Name(),
			ID:      idString(in.ID),
			Default: in.IsDefault != 0,
			raw:     in.ID,
		})
	}
	return out, nil
}

type malgoStream struct {
	ctx *malgo.AllocatedContext
	dev *malgo.Device
	id  *malgo.DeviceID // pinned while the device exists
	pin runtime.Pinner
}

func (b *malgoBackend) open(kind Kind, dev *DeviceInfo, p streamParams, cb streamCallbacks) (stream, error) {
	ctx, err := b.initContext()
	if err != nil {
		return nil, err
	}
	cfg := malgo.DefaultDeviceConfig(malgoKind(kind))
	cfg.SampleRate = SampleRate
	cfg.PeriodSizeInFrames = uint32(p.periodFrames)
	cfg.Periods = uint32(p.periods)
	cfg.PerformanceProfile = malgo.LowLatency
	s := &malgoStream{ctx: ctx}
	sub := malgo.SubConfig{Format: malgo.FormatS16, Channels: Channels}
	if dev != nil {
		raw, ok := dev.raw.(malgo.DeviceID)
		if !ok {
			freeContext(ctx)
			return nil, errors.New("audio: device info was not made by this backend")
		}
		// The C config points at the id: pin it (cgo pointer rules) for
		// the life of the device, in case miniaudio keeps the pointer.
		s.id = &raw
		s.pin.Pin(s.id)
		sub.DeviceID = unsafe.Pointer(s.id)
	}
	if kind == KindCapture {
		cfg.Capture = sub
	} else {
		cfg.Playback = sub
	}
	d, err := malgo.InitDevice(ctx.Context, cfg, malgo.DeviceCallbacks{
		Data: cb.data,
		Stop: cb.stopped,
	})
	if err != nil {
		s.pin.Unpin()
		freeContext(ctx)
		return nil, err
	}
	s.dev = d
	return s, nil
}

func (s *malgoStream) start() error { return s.dev.Start() }

func (s *malgoStream) close() {
	s.dev.Uninit()
	freeContext(s.ctx)
	s.pin.Unpin()
}

// int16s views a byte buffer of native-endian S16 samples as []int16.
func int16s(b []byte) []int16 {
	if len(b) < 2 {
		return nil
	}
	return unsafe.Slice((*int16)(unsafe.Pointer(&b[0])), len(b)/2)
}
