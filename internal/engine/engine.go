// Package engine is the talk client's live, full-duplex audio engine:
//
//	push-to-talk source → capture device → Opus encoder → floor (Transmission)
//	relay voice → per-talker jitter buffer + decoder → mixer (+ local cues) → playback device
//
// The local cues (ring, busy tone on a refused press, talk-permit beep on a
// grant, roger beep when another talker ends, join/leave, message) are
// generated in code and mixed into the playback; each can be muted. The
// engine reports its state (talking, receiving…) for LEDs and user
// interfaces, and the captured level for a meter.
//
// Devices, the floor and the push-to-talk input sit behind small interfaces
// (audio.Input, a playback constructor, Floor, ptt.Source), so the engine runs
// on miniaudio's null backend or on fakes in tests.
//
// Timing: playback mixes on the device's pump goroutine (or audio thread),
// one device period (10 ms) at a time, a frame (Config.FrameSamples) of
// periods per wake-up, so a decoded frame goes out in the next callbacks
// after its jitter-buffer deadline. Capture periods are collected into
// frames of Config.FrameSamples (10 or 20 ms) and encoded as soon as a frame
// is full.
//
// CPU: with the devices of package audio the process wakes once per frame
// for capture and once per frame for playback, never per device period,
// and the frame is encoded on the capture device's own goroutine (no
// hand-off). When idle it does not wake at all: capture is paused while
// not talking (unless Config.OnCapture needs every period; the level meter
// is measured on the audio thread), and playback is paused once nothing has
// been heard or played for a second, until voice or a cue arrives.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hark-intercom/hark/internal/audio"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/playout"
	"github.com/hark-intercom/hark/internal/ptt"
	"github.com/hark-intercom/hark/jitter"
	"github.com/hark-intercom/hark/proto"
)

// DefaultVADPreRoll is the pre-roll (Config.PreRoll) talk and the box use
// with voice activation: the detector needs 20–30 ms of speech to open, a
// soft first consonant starts quieter than that, and the floor is granted
// a round trip later (tens of milliseconds over the Internet).
const DefaultVADPreRoll = 250 * time.Millisecond

// Transmitter is a held floor; *client.Transmission implements it. It is
// the shared push-to-talk machine's transmission (client.Floor), which the
// engine drives.
type Transmitter = client.FloorTx

// Floor is the engine's view of the connection: asking for the floor and
// knowing our own session id (to ignore our own events). ClientFloor adapts a
// *client.Client.
type Floor interface {
	// Talk asks for the floor; an error (e.g. *client.BusyError) refuses it.
	Talk(ctx context.Context) (Transmitter, error)
	// Session is our session id on the relay (0 when unknown).
	Session() uint32
}

// EchoFloor is a Floor that can also run an echo test (the relay plays the
// transmission back to this client alone); SwitchFloor is one.
type EchoFloor interface {
	Echo(ctx context.Context) (Transmitter, error)
}

// ClientFloor adapts a client to Floor (a SwitchFloor set to c).
func ClientFloor(c *client.Client) Floor {
	f := &SwitchFloor{}
	f.Set(c)
	return f
}

// SwitchFloor is a Floor (an EchoFloor, a PageFloor and a CallFloor too)
// on the client set last: the box sets each new connection, and nil
// while it has none (a press is then refused with
// client.ErrNotConnected). The zero value has no client; safe for
// concurrent use.
type SwitchFloor struct{ c atomic.Pointer[client.Client] }

// Set makes c the client of the presses to come (nil: none).
func (f *SwitchFloor) Set(c *client.Client) { f.c.Store(c) }

// Client returns the client set, or nil.
func (f *SwitchFloor) Client() *client.Client { return f.c.Load() }

// open asks the current client for a transmission.
func (f *SwitchFloor) open(ask func(c *client.Client) (*client.Transmission, error)) (Transmitter, error) {
	c := f.c.Load()
	if c == nil {
		return nil, client.ErrNotConnected
	}
	return client.AsFloorTx(ask(c))
}

func (f *SwitchFloor) Talk(ctx context.Context) (Transmitter, error) {
	return f.open(func(c *client.Client) (*client.Transmission, error) { return c.Talk(ctx) })
}

func (f *SwitchFloor) Page(ctx context.Context) (Transmitter, error) {
	return f.open(func(c *client.Client) (*client.Transmission, error) { return c.Page(ctx) })
}

func (f *SwitchFloor) Echo(ctx context.Context) (Transmitter, error) {
	return f.open(func(c *client.Client) (*client.Transmission, error) { return c.Echo(ctx) })
}

func (f *SwitchFloor) Whisper(ctx context.Context, to string) (Transmitter, error) {
	return f.open(func(c *client.Client) (*client.Transmission, error) { return c.Whisper(ctx, to) })
}

func (f *SwitchFloor) Session() uint32 {
	if c := f.c.Load(); c != nil {
		return c.Welcome().Session
	}
	return 0
}

// PlaybackFunc opens (but does not start) the playback device, which must
// pull its samples from fill. With package audio:
//
//	func(fill audio.FillFunc) (audio.Device, error) {
//		return audio.NewPlayback(audio.PlaybackConfig{Options: opts, Fill: fill})
//	}
type PlaybackFunc func(fill audio.FillFunc) (audio.Device, error)

// Config configures New. Capture and Playback are required.
type Config struct {
	// FrameSamples is the Opus frame length at 48 kHz: 960 (20 ms, the
	// default when 0) or 480 (10 ms, lower delay, more packets).
	FrameSamples int
	// Bitrate in bit/s; 0 means the codec's default (LowComplexityBitrate
	// below complexity 2).
	Bitrate int
	// NoFEC turns off Opus in-band forward error correction (on by default).
	NoFEC bool
	// LossPerc is the packet loss the encoder plans for; 0: codec default.
	LossPerc int
	// Complexity is the Opus encoder complexity, 1 (least CPU) to 10
	// (libopus's default); 0 means DefaultComplexity.
	Complexity int

	// Capture is the microphone (an *audio.Capture, or a fake). The engine
	// starts it in Run and closes it when Run returns.
	Capture audio.Input
	// Playback opens the speaker. Run starts and closes it.
	Playback PlaybackFunc
	// LowLatency fills the playback one device period (10 ms) per wake-up
	// instead of a whole frame. With 20 ms frames that plays voice up to
	// 10 ms sooner (the mouth-to-ear benchmark on the null device: median
	// 72 ms with whole frames, 57 ms without) but wakes the process twice
	// as often for playback (about half a per cent of a core more here).
	// No difference with 10 ms frames.
	LowLatency bool
	// PlaybackPeriod is the period of the playback device in samples; 0
	// means audio.PeriodFrames (10 ms). Other lengths work, with a copy.
	PlaybackPeriod int

	// PTT is the push-to-talk input; nil means none (use Press).
	PTT ptt.Source

	// Mute lists the cues not to play (the zero value plays them all).
	Mute CueSet

	// OnState is called with the new state on every change, from the
	// engine's control goroutine, never concurrently. It must not block
	// for long and must not call Run. Nil: nobody is told.
	OnState func(State)
	// OnCapture, if set, sees every captured period (10 ms, even when the
	// device delivers whole frames) on the capture goroutine (e.g. for
	// voice activity detection), before it is encoded. It must not keep
	// the slice nor block. Setting it keeps the capture running while idle.
	OnCapture func(period []int16)
	// PreRoll, when the capture runs while idle (OnCapture set), keeps this
	// much of the most recent audio and sends it at the start of each
	// transmission, before the live audio: a voice-activity detector opens
	// only after the first syllable has begun, and the floor is granted a
	// round trip later, so without it the start of every sentence is lost.
	// Listeners hear the whole sentence, up to PreRoll later than live at
	// first; their jitter buffers catch up in the pauses (skipping the
	// quiet start of the pre-roll first). It is rounded down to whole
	// frames; 0 sends nothing from before the grant.
	PreRoll time.Duration
	// PreRollIf, if set, is asked on the capture goroutine at the start of
	// each transmission (after OnCapture saw the period) whether to send
	// the pre-roll; talk and the box pass the voice detector's state, so a
	// button pressed in silence sends nothing from before the press.
	PreRollIf func() bool

	// JitterOptions tune every talker's jitter buffer (see package jitter).
	JitterOptions []jitter.Option
	// NewDecoder makes one Opus decoder per talker; nil: codec.NewDecoder.
	NewDecoder func() (codec.FrameDecoder, error)
	// EndTimeout bounds ending a transmission; 0 means 2 s.
	EndTimeout time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
}

// State is what the engine is doing, for LEDs and user interfaces.
type State struct {
	Pressed    bool // the talk input is pressed
	Requesting bool // waiting for the relay to grant the floor
	Talking    bool // we hold the floor and our microphone is on the air
	Busy       bool // the floor was refused (busy tone) while pressed
	Receiving  bool // someone else is audible
	Alarm      bool // an alarm rings here that this station has not acknowledged
	Muted      bool // the user muted their microphone: presses do not talk
	Deafened   bool // the user turned every talker off (cues still play)
}

func (s State) String() string {
	switch {
	case s.Talking:
		return "talking"
	case s.Busy:
		return "busy"
	case s.Requesting:
		return "requesting"
	case s.Receiving:
		return "receiving"
	}
	return "idle"
}

// Stats are the engine's counters.
type Stats struct {
	CapturePeriods uint64 // periods received from the capture device
	FramesSent     uint64 // Opus frames handed to a transmission
	EncodeErrors   uint64 // frames the encoder refused (dropped)
	SendErrors     uint64 // frames a transmission refused (it then ended)
	Grants         uint64 // presses that got the floor
	Denials        uint64 // presses refused (busy or error)
	CuesDropped    uint64 // cue requests dropped (queue full)
	PreRollFrames  uint64 // frames sent from the pre-roll (Config.PreRoll)
	PlaybackTicks  uint64 // playback periods mixed
	Playout        playout.Stats
	Floor          client.FloorStats // the push-to-talk floor: frames held while requesting, dropped
}

// Engine is the running audio engine. Create it with New, then Run it once.
// Its methods are safe for concurrent use.
type Engine struct {
	cfg    Config
	log    *slog.Logger
	mix    *playout.Mixer
	player *player
	enc    codec.FrameEncoder // capture goroutine only
	cs     capState           // capture goroutine only

	floor atomic.Pointer[Floor] // set by Run
	// fl is the push-to-talk state machine (client.Floor, shared with the
	// gateway): the control goroutine presses and releases it, the
	// capture side hands it frames, and its changes play the cues.
	fl *client.Floor

	// Press, the PTT source and the receiving flag wake the control
	// goroutine; talking is wanted while either input is pressed.
	manual atomic.Bool
	srcOn  atomic.Bool
	wake   chan struct{} // capacity 1
	recv   atomic.Bool   // written by the audio thread

	level atomic.Uint64 // float64 bits of the last period's dBFS

	// Optional device capabilities (package audio's devices have them;
	// fakes may not). capCtl and capLevel are set by New; playCtl by Run.
	capCtl   pausable // non-nil: capture is paused while not talking
	capLevel leveler
	playCtl  atomic.Pointer[pausableRef]
	activity atomic.Uint64 // bumped by voice and cues: wakes a paused playback

	// Audio thread only: staging for device periods that differ from
	// tick, and the playout clock (see mixTick).
	tick       int
	stage      []int16
	stageOff   int
	clock      playout.Clock // the time handed to the jitter buffers
	quietTicks int           // consecutive silent ticks without activity
	seenAct    uint64        // activity at the last tick

	mu sync.Mutex
	// guarded by mu:
	state   State
	roster  client.Roster      // who is where, for join/leave cues and volumes
	volumes map[string]float32 // per-person volume by user name (absent: 1)
	// per-channel volume by channel name (absent: 1), and the voice ids of
	// the channels by name (from Joined and Monitoring)
	chanVolumes map[string]float32
	chanIDs     map[string]uint16
	alarms      client.Alarms // alarms ringing here, not acknowledged (its own lock)

	running   atomic.Bool
	pressKind atomic.Int32 // what the next press asks for: pressTalk, pressEcho, pressPage
	muted     atomic.Bool  // SetMuted
	deaf      atomic.Bool  // SetDeafened
	// gains maps session ids to volumes other than 1, rebuilt (under mu)
	// when volumes or the roster change; read by the audio thread.
	gains atomic.Pointer[map[uint32]float32]
	// chanGains maps channel ids to volumes other than 1 (rebuilt under
	// mu); talkerChan maps talkers to the channel of their last frames
	// (replaced under talkerMu when one changes). Both read by the audio
	// thread (intercom.go).
	chanGains  atomic.Pointer[map[uint16]float32]
	talkerChan atomic.Pointer[map[uint32]uint16]
	talkerMu   sync.Mutex
	callTo     atomic.Pointer[string] // whom the next pressCall calls
	now        func() time.Time       // the playout clock; tests replace it before Run

	capturePeriods, encodeErrors, cuesDropped, playbackTicks atomic.Uint64
	preRollFrames                                            atomic.Uint64
}

// pausable is a device that can stop waking the process (audio.Capture,
// audio.Playback).
type pausable interface {
	Pause()
	Resume()
	Paused() bool
}

type pausableRef struct{ p pausable }

// leveler is a capture device that measures its own level (audio.Capture).
type leveler interface{ Level() float64 }

// frameHandler is a capture device that can call a function with every
// frame on its own goroutine (audio.Capture).
type frameHandler interface {
	Handle(frames int, h func(frame []int16)) error
}

// chunker is a playback device that can be filled a frame at a time
// (audio.Playback).
type chunker interface{ SetChunk(frames int) error }

// quietAfter is how long playback keeps running after the last voice packet
// or cue with nothing audible before it pauses; longer than the jitter
// buffers' longest delay (1 s by default), and the pause also waits for
// their queues to be empty.
const quietAfter = 2 * time.Second

// New checks cfg and returns an engine; nothing is opened before Run.
func New(cfg Config) (*Engine, error) {
	if cfg.Capture == nil {
		return nil, errors.New("engine: no capture device")
	}
	if cfg.Playback == nil {
		return nil, errors.New("engine: no playback device")
	}
	if cfg.FrameSamples == 0 {
		cfg.FrameSamples = 960
	}
	if cfg.FrameSamples != 480 && cfg.FrameSamples != 960 {
		return nil, fmt.Errorf("engine: frames of %d samples: use 480 (10 ms) or 960 (20 ms)", cfg.FrameSamples)
	}
	if cfg.PlaybackPeriod <= 0 {
		cfg.PlaybackPeriod = audio.PeriodFrames
	}
	if cfg.EndTimeout <= 0 {
		cfg.EndTimeout = 2 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	enc, err := newOpusEncoder(cfg.FrameSamples, cfg.Bitrate, !cfg.NoFEC, cfg.LossPerc, cfg.Complexity)
	if err != nil {
		return nil, fmt.Errorf("engine: opus encoder: %w", err)
	}
	e := &Engine{
		cfg:    cfg,
		log:    log,
		player: newPlayer(),
		enc:    enc,
		wake:   make(chan struct{}, 1),
		tick:   cfg.PlaybackPeriod,
		now:    time.Now,
	}
	e.fl = client.NewFloor(client.FloorConfig{EndTimeout: cfg.EndTimeout, OnChange: e.floorChanged, Logger: log})
	e.mix = playout.New(playout.Config{FrameSamples: cfg.PlaybackPeriod, NewDecoder: cfg.NewDecoder,
		JitterOptions: cfg.JitterOptions, Logger: log})
	e.capLevel, _ = cfg.Capture.(leveler)
	if p, ok := cfg.Capture.(pausable); ok && cfg.OnCapture == nil {
		if _, direct := cfg.Capture.(frameHandler); direct {
			e.capCtl = p
		}
	}
	e.stage = make([]int16, cfg.PlaybackPeriod)
	e.stageOff = len(e.stage)
	e.level.Store(math.Float64bits(math.Inf(-1)))
	return e, nil
}

// DeviceError is a sound card that could not be opened or started (Run
// returns it).
type DeviceError struct {
	What string // e.g. "starting the playback device"
	Err  error
}

func (e *DeviceError) Error() string { return e.What + ": " + e.Err.Error() }
func (e *DeviceError) Unwrap() error { return e.Err }

// Press sets the talk input: true asks for the floor (and talks once it is
// granted), false releases it. Use it from a user interface that reads keys
// itself. Config.PTT is a second input: the engine talks while either is
// pressed. It never blocks.
func (e *Engine) Press(pressed bool) {
	e.manual.Store(pressed)
	e.poke()
}

// PressEcho is Press for an echo test ("test my microphone"): while
// pressed the microphone goes to the relay alone, which plays it back to
// this client after the release (see client.Client.Echo). The playback is
// heard like any talker. A floor that cannot echo refuses with the busy
// tone. It never blocks.
func (e *Engine) PressEcho(pressed bool) { e.pressAs(pressEcho, pressed) }

// PressPage is Press for a live page: while pressed the microphone is heard
// in every channel, over anyone talking (the page role is needed; without
// it, or with a floor that cannot page, the busy tone says no). It never
// blocks.
func (e *Engine) PressPage(pressed bool) { e.pressAs(pressPage, pressed) }

// What a press asks for (Engine.pressKind).
const (
	pressTalk int32 = iota
	pressEcho
	pressPage
	pressCall
)

func (e *Engine) pressAs(kind int32, pressed bool) {
	if pressed {
		e.pressKind.Store(kind)
	}
	e.manual.Store(pressed)
	e.poke()
}

// PageFloor is a Floor that can also page every channel; SwitchFloor is
// one.
type PageFloor interface {
	Page(ctx context.Context) (Transmitter, error)
}

// alarm loops the alarm cue while any alarm rings here (c: what an alarm
// message changed).
func (e *Engine) alarm(c client.AlarmChange) {
	switch {
	case c.Rang && c.Ringing == 1:
		e.cue(cueCmd{cue: CueAlarm, loop: true})
	case c.Stopped && c.Ringing == 0:
		e.cue(cueCmd{cue: CueAlarm, stop: true})
	}
	e.poke()
}

// SetMuted mutes or unmutes the microphone: while muted, presses do not
// talk (a transmission on the air ends). It never blocks.
func (e *Engine) SetMuted(muted bool) {
	e.muted.Store(muted)
	e.poke()
}

// SetDeafened turns every talker off (true) or on again. Cues (rings,
// texts, the busy tone) still play. It never blocks.
func (e *Engine) SetDeafened(deaf bool) {
	e.deaf.Store(deaf)
	e.poke()
}

// SetVolume sets the volume of one person by user name: 1 as received, 0
// muted, up to playout.MaxGain. It lasts for the engine's life, across
// that person's reconnections.
func (e *Engine) SetVolume(name string, gain float64) {
	e.mu.Lock()
	setGain(&e.volumes, name, gain)
	e.rebuildGainsLocked()
	e.mu.Unlock()
}

// Volume returns the volume SetVolume set for a person (1 if none).
func (e *Engine) Volume(name string) float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return gainOf(e.volumes, name)
}

// setGain sets name's gain in *m, clamped to 0..playout.MaxGain; 1 (as
// received) removes the entry. The caller guards *m.
func setGain(m *map[string]float32, name string, gain float64) {
	g := float32(min(max(gain, 0), playout.MaxGain))
	if *m == nil {
		*m = map[string]float32{}
	}
	if g == 1 {
		delete(*m, name)
	} else {
		(*m)[name] = g
	}
}

// gainOf is name's gain in m (1 when it has none).
func gainOf(m map[string]float32, name string) float64 {
	if g, ok := m[name]; ok {
		return float64(g)
	}
	return 1
}

// rebuildGainsLocked maps the volumes by name to the sessions online now.
// Called with e.mu held.
func (e *Engine) rebuildGainsLocked() {
	if len(e.volumes) == 0 {
		e.gains.Store(nil)
		return
	}
	g := map[uint32]float32{}
	for _, u := range e.roster.Users() {
		if v, ok := e.volumes[u.Name]; ok {
			g[u.Session] = v
		}
	}
	e.gains.Store(&g)
}

// gain is the mixer's volume per talker (audio thread).
func (e *Engine) gain(talker uint32) float32 {
	if e.deaf.Load() {
		return 0
	}
	c := e.channelGain(talker)
	if g := e.gains.Load(); g != nil {
		if v, ok := (*g)[talker]; ok {
			return v * c
		}
	}
	return c
}

// pttSet is the PTT source's set function.
func (e *Engine) pttSet(pressed bool) {
	e.srcOn.Store(pressed)
	e.poke()
}

func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Level returns the level of the last captured period in dBFS (-Inf for
// silence or before the first period).
func (e *Engine) Level() float64 {
	if e.capLevel != nil {
		return e.capLevel.Level()
	}
	return math.Float64frombits(e.level.Load())
}

// State returns the current state.
func (e *Engine) State() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state
}

// Stats returns the counters.
func (e *Engine) Stats() Stats {
	fs := e.fl.Stats()
	return Stats{
		CapturePeriods: e.capturePeriods.Load(),
		FramesSent:     fs.FramesSent,
		EncodeErrors:   e.encodeErrors.Load(),
		SendErrors:     fs.SendFailed,
		Grants:         fs.Grants,
		Denials:        fs.Refusals,
		CuesDropped:    e.cuesDropped.Load(),
		PreRollFrames:  e.preRollFrames.Load(),
		PlaybackTicks:  e.playbackTicks.Load(),
		Playout:        e.mix.Stats(),
		Floor:          fs,
	}
}

// Play plays a cue now (unless muted). It never blocks.
func (e *Engine) Play(c Cue) { e.cue(cueCmd{cue: c}) }

func (e *Engine) cue(c cueCmd) {
	if e.cfg.Mute.Has(c.cue) && !c.stop {
		return
	}
	if !e.player.send(c) {
		e.cuesDropped.Add(1)
		return
	}
	e.wakePlayback()
}

// wakePlayback resumes a paused playback after new voice or a cue (see
// mixTick for the other half of this handshake).
func (e *Engine) wakePlayback() {
	e.activity.Add(1)
	if r := e.playCtl.Load(); r != nil && r.p.Paused() {
		r.p.Resume()
	}
}

// Voice takes a voice frame from the relay; it fits client.Config.OnVoice.
// It copies opus and never blocks.
func (e *Engine) Voice(h proto.VoiceHeader, opus []byte, arrival time.Time) {
	if f := e.floor.Load(); f != nil && h.Sender != 0 && h.Sender == (*f).Session() && h.Flags&proto.FlagEcho == 0 {
		return // our own voice, should the relay ever echo it
	}
	e.noteTalkerChannel(h.Sender, h.Channel)
	e.mix.Push(h.Sender, jitter.Packet{
		Seq: h.Seq, Timestamp: h.Timestamp, Duration: uint32(h.Duration),
		Start: h.Flags&proto.FlagStart != 0, End: h.Flags&proto.FlagEnd != 0,
		Payload: append([]byte(nil), opus...), Arrival: arrival,
	})
	e.wakePlayback()
}

// Event takes an event of the client (client.Config.OnEvent) and plays the
// matching cue: ring, text message, someone joining or leaving our channel,
// another talker's end of transmission. It never blocks.
func (e *Engine) Event(ev client.Event) {
	var self uint32
	if f := e.floor.Load(); f != nil {
		self = (*f).Session()
	}
	switch m := ev.Msg.(type) {
	case *proto.Ring:
		if c := e.alarms.Apply(m, self); c.About {
			e.alarm(c)
			return
		}
		if m.From != self || self == 0 {
			e.Play(CueRing)
		}
	case *proto.AlarmAck:
		e.alarm(e.alarms.Apply(m, self))
	case *proto.Text:
		if m.From != self || self == 0 {
			e.Play(CueMessage)
		}
	case *proto.Talking:
		if !m.Talking && m.Session != self {
			e.Play(CueRoger)
		}
	case *proto.Whisper:
		if m.Active && m.To == self && self != 0 {
			e.Play(CueCall)
		}
	case *proto.Monitoring:
		e.mu.Lock()
		e.noteChannelsLocked(m.Channels...)
		e.mu.Unlock()
	case *proto.Presence, *proto.Joined:
		e.mu.Lock()
		if j, ok := m.(*proto.Joined); ok {
			e.noteChannelsLocked(j.ChannelInfo)
		}
		e.roster.SetSelf(self)
		e.roster.Apply(m)
		e.rebuildGainsLocked()
		e.mu.Unlock()
	case *proto.PresenceChange:
		e.mu.Lock()
		e.roster.SetSelf(self)
		cs := e.roster.Apply(m)
		e.rebuildGainsLocked()
		e.mu.Unlock()
		for _, c := range cs {
			switch {
			case c.Came:
				e.Play(CueJoin)
			case c.Went:
				e.Play(CueLeave)
			}
		}
	}
}

// fill is the playback callback (audio thread): mix the talkers of one
// tick, then the cues.
func (e *Engine) fill(out []int16) int {
	if len(out) == e.tick && e.stageOff == len(e.stage) {
		e.mixTick(out)
		return len(out)
	}
	for d := out; len(d) > 0; {
		if e.stageOff == len(e.stage) {
			e.mixTick(e.stage)
			e.stageOff = 0
		}
		n := copy(d, e.stage[e.stageOff:])
		e.stageOff += n
		d = d[n:]
	}
	return len(out)
}

func (e *Engine) mixTick(out []int16) {
	act := e.activity.Load()
	active := e.mix.TickGains(e.clock.Tick(e.now(), time.Duration(e.tick)*time.Second/48000), out, e.gain)
	e.playbackTicks.Add(1)
	if r := len(active) > 0; r != e.recv.Load() {
		e.recv.Store(r)
		e.poke()
	}
	e.player.mix(out)
	if len(active) > 0 || len(e.player.voices) > 0 || act != e.seenAct {
		e.quietTicks, e.seenAct = 0, act
		return
	}
	e.quietTicks++
	if time.Duration(e.quietTicks)*time.Duration(e.tick)*time.Second/48000 < quietAfter {
		return
	}
	e.quietTicks = 0
	r := e.playCtl.Load()
	if r == nil || e.mix.Stats().Jitter.BufferedPackets != 0 {
		return
	}
	// Nothing to play: stop waking up. Voice and cues bump activity and
	// then resume a paused playback; pausing and then checking activity
	// here means one of the two sides always sees the other.
	r.p.Pause()
	if e.activity.Load() != act {
		r.p.Resume()
	}
}

// Run opens the devices, runs the push-to-talk input and the audio until ctx
// ends, then ends any transmission, closes the devices and returns nil.
// It returns early with an error if a device cannot be started or the
// push-to-talk input fails for good. Run may be called once.
func (e *Engine) Run(ctx context.Context, floor Floor) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("engine: Run called twice")
	}
	if floor == nil {
		return errors.New("engine: no floor")
	}
	e.floor.Store(&floor)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The capture's handler is set and it is paused before the playback
	// starts: a duplex device (audio.Link) opens with the playback.
	capt := e.cfg.Capture
	h, direct := capt.(frameHandler)
	if direct {
		if err := h.Handle(e.cfg.FrameSamples, e.captured); err != nil {
			capt.Close()
			return &DeviceError{What: "starting the capture device", Err: err}
		}
	}
	if e.capCtl != nil {
		// Paused until we talk: an idle engine is not woken by the
		// microphone (the level is measured on the audio thread).
		e.capCtl.Pause()
	}
	play, err := e.cfg.Playback(e.fill)
	if err != nil {
		capt.Close()
		return &DeviceError{What: "opening the playback device", Err: err}
	}
	if c, ok := play.(chunker); ok && !e.cfg.LowLatency {
		if err := c.SetChunk(e.cfg.FrameSamples); err != nil {
			play.Close()
			capt.Close()
			return &DeviceError{What: "opening the playback device", Err: err}
		}
	}
	if p, ok := play.(pausable); ok {
		e.playCtl.Store(&pausableRef{p})
	}
	if err := play.Start(ctx); err != nil {
		play.Close()
		capt.Close()
		return &DeviceError{What: "starting the playback device", Err: err}
	}
	defer play.Close()
	if err := capt.Start(ctx); err != nil {
		capt.Close()
		return &DeviceError{What: "starting the capture device", Err: err}
	}

	var wg sync.WaitGroup
	capDone := make(chan struct{})
	if direct {
		close(capDone) // frames arrive through e.captured
	} else {
		wg.Go(func() {
			defer close(capDone)
			e.captureLoop()
		})
	}
	pttErr := make(chan error, 1)
	if e.cfg.PTT != nil {
		wg.Go(func() {
			err := e.cfg.PTT.Run(ctx, e.pttSet)
			if err != nil && ctx.Err() == nil {
				pttErr <- err
			}
		})
	}
	err = e.control(ctx, floor, pttErr)
	cancel()
	e.cfg.Capture.Close()
	<-capDone
	wg.Wait()
	return err
}

// control is the engine's input loop; it runs on Run's goroutine. It
// presses and releases the push-to-talk floor (client.Floor, which holds
// the policy: see floorChanged for the cues) and publishes the state.
func (e *Engine) control(ctx context.Context, floor Floor, pttErr <-chan error) error {
	var st State
	publish := func() {
		fs := e.fl.State()
		st.Requesting = fs == client.FloorRequesting || fs == client.FloorReleasing
		st.Talking = fs == client.FloorTalking
		st.Busy = fs == client.FloorBusy || fs == client.FloorRefused || fs == client.FloorCut
		st.Receiving = e.recv.Load()
		st.Muted = e.muted.Load()
		st.Alarm = e.alarms.Len() > 0
		st.Deafened = e.deaf.Load()
		e.mu.Lock()
		changed := st != e.state
		e.state = st
		e.mu.Unlock()
		if changed && e.cfg.OnState != nil {
			e.cfg.OnState(st)
		}
	}
	var runErr error
	lastKind, lastTo := pressTalk, "" // what the last press asked for
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-pttErr:
			runErr = fmt.Errorf("push-to-talk input: %w", err)
			break loop
		case <-e.wake:
			want := (e.manual.Load() || e.srcOn.Load()) && !e.muted.Load()
			if want != st.Pressed {
				st.Pressed = want
				if !want {
					e.fl.Release()
				} else {
					kind, to := e.pressKind.Swap(pressTalk), ""
					if p := e.callTo.Load(); kind == pressCall && p != nil {
						to = *p
					}
					if e.fl.State() == client.FloorReleasing && (kind != lastKind || to != lastTo) {
						// Pressed for another kind of transmission (a page
						// after a talk, another callee) while the last
						// press waits for its answer: that press gives way
						// (its held words are dropped and counted), as in
						// the gateway, instead of going on as the old kind.
						e.log.Info("pressed for another kind of transmission before the last short press was answered: its words are not sent")
						e.fl.Abort(errors.New("pressed again for another kind of transmission"))
					}
					lastKind, lastTo = kind, to
					if e.fl.Press(e.request(floor, kind)) && e.capCtl != nil {
						e.capCtl.Resume() // audio said while the request is out is held; see captured
					}
				}
			}
		}
		publish()
	}
	// Shutting down: end any transmission (and the busy tone).
	<-e.fl.Close()
	st.Pressed = false
	publish()
	return runErr
}

// request is the floor request for a press of kind.
func (e *Engine) request(floor Floor, kind int32) client.FloorRequest {
	ef, canEcho := floor.(EchoFloor)
	pf, canPage := floor.(PageFloor)
	cf, canCall := floor.(CallFloor)
	to := e.callTo.Load()
	switch {
	case kind == pressCall && canCall && to != nil:
		return func(ctx context.Context) (Transmitter, error) { return cf.Whisper(ctx, *to) }
	case kind == pressEcho && canEcho:
		return ef.Echo
	case kind == pressPage && canPage:
		return pf.Page
	case kind != pressTalk:
		return func(context.Context) (Transmitter, error) {
			return nil, errors.New("this connection cannot page, call one person or run an echo test")
		}
	}
	return floor.Talk
}

// floorChanged plays the cues of the floor's changes (client.Floor's
// OnChange: in order, from any goroutine, never blocking): the talk-permit
// beep on a grant, the busy tone while a refused or cut press is held (once
// when a short press's request was refused after the release), and wakes
// the control goroutine to publish the state.
func (e *Engine) floorChanged(c client.FloorChange) {
	busy := func(s client.FloorState) bool {
		return s == client.FloorBusy || s == client.FloorRefused || s == client.FloorCut
	}
	switch {
	case c.From == client.FloorRequesting && c.To == client.FloorTalking:
		e.Play(CueTalkPermit)
	case busy(c.To):
		e.cue(cueCmd{cue: CueBusy, loop: true})
	case busy(c.From):
		e.cue(cueCmd{cue: CueBusy, stop: true})
	case c.From == client.FloorReleasing && c.To == client.FloorIdle && c.Err != nil:
		e.Play(CueBusy) // the short press's words were not sent
	}
	if c.Err != nil {
		var be *client.BusyError
		switch {
		case errors.As(c.Err, &be):
			e.log.Info("the floor is busy", "holder", be.Holder)
		case c.Cause == client.FloorCauseAborted:
		case c.Cause == client.FloorCauseRefused:
			e.log.Warn("could not start talking", "err", c.Err)
		default:
			e.log.Warn("the transmission stopped", "cause", c.Cause.String(), "err", c.Err)
		}
	}
	e.poke()
}

// capState is the capture side's state: owned by whichever goroutine
// delivers captured audio (captureLoop, or the device calling captured).
type capState struct {
	frame []int16
	pkt   []byte
	// press and on are the floor's Wants at the last period: a new press
	// (or on again) is a new transmission.
	press uint64
	on    bool
	// pre is the pre-roll ring (Config.PreRoll): preN samples end at
	// prePos (exclusive, modulo len(pre)). Filled while not talking.
	pre          []int16
	prePos, preN int
}

// keep adds a period to the pre-roll ring, overwriting the oldest audio.
func (cs *capState) keep(p []int16) {
	if len(cs.pre) == 0 {
		return
	}
	if len(p) > len(cs.pre) {
		p = p[len(p)-len(cs.pre):]
	}
	for len(p) > 0 {
		n := copy(cs.pre[cs.prePos:], p)
		cs.prePos = (cs.prePos + n) % len(cs.pre)
		p = p[n:]
		cs.preN = min(cs.preN+n, len(cs.pre))
	}
}

// preRoll calls f with the pre-roll's whole frames of frame samples, oldest
// first (the oldest partial frame is left out), and empties the ring.
func (cs *capState) preRoll(frame int, f func(fr []int16) bool) {
	n := cs.preN - cs.preN%frame
	cs.preN = 0
	pos := (cs.prePos - n + len(cs.pre)) % max(len(cs.pre), 1)
	buf := cs.frame[:0]
	for ; n > 0; n -= frame {
		buf = buf[:0]
		for len(buf) < frame {
			k := min(frame-len(buf), len(cs.pre)-pos)
			buf = append(buf, cs.pre[pos:pos+k]...)
			pos = (pos + k) % len(cs.pre)
		}
		if !f(buf) {
			return
		}
	}
}

// captureLoop reads capture periods from a channel-only capture device
// until it closes.
func (e *Engine) captureLoop() {
	in := e.cfg.Capture
	for period := range in.Frames() {
		e.process(period)
		in.Recycle(period)
	}
}

// captured takes a frame from a capture device that calls back (on its
// goroutine), and pauses the device again when the floor takes no audio.
func (e *Engine) captured(frame []int16) {
	e.process(frame)
	if e.capCtl != nil {
		if _, on := e.fl.Wants(); !on {
			e.capCtl.Pause()
			if _, on := e.fl.Wants(); on { // a press came meanwhile: control may have missed the pause
				e.capCtl.Resume()
			}
		}
	}
}

// process measures the level of a captured period and, while the floor
// takes audio (requesting: held; talking: sent), encodes and hands it
// frames.
func (e *Engine) process(period []int16) {
	cs := &e.cs
	if cs.frame == nil {
		cs.frame = make([]int16, 0, e.cfg.FrameSamples)
		cs.pkt = make([]byte, 0, codec.MaxPacketBytes)
		if e.cfg.PreRoll > 0 && e.capCtl == nil {
			n := int(e.cfg.PreRoll.Seconds()*48000) / e.cfg.FrameSamples * e.cfg.FrameSamples
			cs.pre = make([]int16, n)
		}
	}
	e.capturePeriods.Add(1)
	if e.capLevel == nil {
		e.level.Store(math.Float64bits(audio.LevelDBFS(period)))
	}
	if e.cfg.OnCapture != nil {
		// In device periods (10 ms) whatever the delivery size, as the
		// voice activity detector is tuned for.
		for p := period; len(p) > 0; {
			n := min(len(p), audio.PeriodFrames)
			e.cfg.OnCapture(p[:n])
			p = p[n:]
		}
	}
	press, on := e.fl.Wants()
	if press != cs.press || on != cs.on {
		cs.frame = cs.frame[:0] // a new transmission starts with a fresh frame
		if cs.on {
			cs.preN = 0 // what was captured while talking was sent
		}
		cs.press, cs.on = press, on
		if on && cs.preN > 0 && (e.cfg.PreRollIf == nil || e.cfg.PreRollIf()) {
			// A new transmission: first what was said just before it.
			sent, ok := 0, true
			cs.preRoll(e.cfg.FrameSamples, func(fr []int16) bool {
				if ok = e.send(fr); ok {
					sent++
				}
				return ok
			})
			e.preRollFrames.Add(uint64(sent))
			cs.frame = cs.frame[:0]
			if !ok {
				return // the floor took no more
			}
		}
	}
	if !on {
		cs.keep(period)
		return
	}
	for p := period; len(p) > 0; {
		n := min(len(p), e.cfg.FrameSamples-len(cs.frame))
		cs.frame = append(cs.frame, p[:n]...)
		p = p[n:]
		if len(cs.frame) < e.cfg.FrameSamples {
			continue
		}
		ok := e.send(cs.frame)
		cs.frame = cs.frame[:0]
		if _, on := e.fl.Wants(); !ok && !on {
			return // cut or released
		}
	}
}

// send encodes one frame and hands it to the floor (capture goroutine). It
// returns false if the frame was not taken (an encoder error, or the
// floor was cut or released meanwhile).
func (e *Engine) send(frame []int16) bool {
	cs := &e.cs
	out, err := e.enc.Encode(frame, cs.pkt[:0])
	if err != nil {
		e.encodeErrors.Add(1)
		e.log.Warn("encoding a frame", "err", err)
		return false
	}
	return e.fl.Audio(out, e.cfg.FrameSamples)
}
