// Package box is talk's intercom-box mode (`talk box --config FILE`): no
// terminal; push-to-talk from a Linux input device (a USB button or foot
// pedal, through evdev) and/or a GPIO button, optionally hands-free with voice
// activity detection; LEDs on GPIO lines show connected, talking, receiving
// and ring; the box reconnects forever (it keeps its sound cards open across
// reconnections and waits for a missing USB sound card); it logs to stdout,
// which systemd sends to the journal.
//
// LEDs: connected is lit while logged in and blinks slowly while
// (re)connecting; talking is lit while on the air and blinks fast while the
// floor is refused (someone else is talking); receiving is lit while someone
// is heard; ring double-blinks for RingFor after a ring, and with a relay
// that keeps history stays lit while a transmission the box missed (while
// it was off or disconnected) has not been played: the optional replay
// button plays the last one missed (press again for the one before), or
// when none is left the channel's last transmission. A transmission in
// the channel, or the push-to-talk button, interrupts a replay.
package box

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hark-intercom/hark/internal/audio"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/engine"
	"github.com/hark-intercom/hark/internal/gpio"
	"github.com/hark-intercom/hark/internal/history"
	"github.com/hark-intercom/hark/internal/ptt"
	"github.com/hark-intercom/hark/internal/vad"
	"github.com/hark-intercom/hark/proto"
)

// Deps are the box's seams to hardware; zero fields use the real ones from
// the Config. Tests replace them with fakes.
type Deps struct {
	// Capture and Playback replace the configured sound cards.
	Capture  audio.Input
	Playback engine.PlaybackFunc
	// PTT replaces the configured push-to-talk inputs.
	PTT ptt.Source
	// Replay replaces the configured replay button.
	Replay ptt.Source
	// Page replaces the configured page button.
	Page ptt.Source
	// Call replaces the configured call button.
	Call ptt.Source
	// LEDs replace the configured GPIO LED lines: bit i is the i-th
	// configured LED in the order connected, talking, receiving, ring.
	LEDs gpio.Outputs
	// Client adjusts the client configuration before dialing.
	Client func(*client.Config)
	// Logger replaces the stdout logger.
	Logger *slog.Logger
	// Out is where the default logger writes; nil means os.Stdout.
	Out io.Writer
}

// NewLogger returns the box's logger: text (or JSON) lines at cfg.LogLevel
// on w, without timestamps when w is the journal (systemd adds its own).
func NewLogger(cfg Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if os.Getenv("JOURNAL_STREAM") != "" {
		opts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}
	}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// box is one running box.
type box struct {
	cfg   Config
	log   *slog.Logger
	leds  *gpio.LEDs // nil without LEDs
	idx   [numLEDs]int
	floor *engine.SwitchFloor
	audio *engine.Engine // set before the client connects; replays play through it

	alarms client.Alarms // alarms ringing here, not acknowledged (its own lock)

	mu sync.Mutex
	// guarded by mu:
	conn      client.State
	eng       engine.State
	ringing   bool
	ringTimer *time.Timer
	ringGen   int
	unheard   []proto.HistoryItem // missed transmissions not played yet, oldest first
	early     []*proto.History    // catch-ups that came before the client was handed to the box (see missed)
	replay    context.CancelFunc  // stops the replay under way (nil: none)

	// away plays what was said while the current client was reconnecting
	// (history.AwayPlayer); nil without a client.
	away atomic.Pointer[history.AwayPlayer]
}

// Run runs the box until ctx ends. It returns an error only for a problem
// that retrying cannot fix (a bad config, a missing GPIO chip or line).
func Run(ctx context.Context, cfg Config, deps Deps) error {
	log := deps.Logger
	if log == nil {
		out := deps.Out
		if out == nil {
			out = os.Stdout
		}
		log = NewLogger(cfg, out)
	}
	floor := &engine.SwitchFloor{}
	b := &box{cfg: cfg, log: log, floor: floor}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()

	// LEDs.
	lines, idx := cfg.leds()
	b.idx = idx
	out := deps.LEDs
	if out == nil && len(lines) > 0 {
		o, closeFn, err := openLEDs(cfg, lines)
		if err != nil {
			return err
		}
		defer closeFn()
		out = o
	}
	if out != nil {
		b.leds = gpio.NewLEDs(out, len(lines))
		wg.Go(func() {
			if err := b.leds.Run(ctx); err != nil {
				log.Error("the LEDs stopped working", "err", err)
			}
		})
	}
	defer b.stopRing()

	// Password.
	password, err := password(cfg)
	if err != nil {
		return err
	}

	// Push-to-talk and audio.
	ecfg := engine.Config{FrameSamples: cfg.FrameSamples, Complexity: cfg.Complexity, Mute: cfg.Mute, Logger: log.With("part", "audio"),
		LowLatency: true, // the delay target (≤ 60 ms with 20 ms frames) before the last 0.5 % of a core
		Capture:    deps.Capture, Playback: deps.Playback, OnState: b.engineState}
	if ecfg.Capture == nil || ecfg.Playback == nil {
		capt, play, err := engine.OpenDevices(engine.DeviceOptions{Backend: cfg.AudioBackend,
			Capture: cfg.CaptureDevice, Playback: cfg.PlaybackDevice, WaitForDevice: true, Logger: log})
		if err != nil {
			return err
		}
		if ecfg.Capture == nil {
			ecfg.Capture = capt
		} else {
			capt.Close()
		}
		if ecfg.Playback == nil {
			ecfg.Playback = play
		}
	}
	src := deps.PTT
	if src == nil {
		var srcs []ptt.Source
		if cfg.EvdevDevice != "" {
			srcs = append(srcs, &ptt.Evdev{Device: cfg.EvdevDevice, Key: cfg.EvdevKey, Grab: cfg.EvdevGrab,
				WaitForDevice: true, Logger: log.With("part", "ptt-evdev")})
		}
		if cfg.ButtonLine != "" {
			bcfg := cfg.Button
			bcfg.Consumer = "hark-ptt"
			srcs = append(srcs, &ptt.Button{Open: ptt.GPIOLine(cfg.GPIOChip, cfg.ButtonLine, bcfg)})
		}
		if cfg.VAD {
			v := ptt.NewVAD(vad.Config{})
			ecfg.OnCapture = func(p []int16) { v.Feed(p) }
			ecfg.PreRoll = cfg.VADPreRoll
			ecfg.PreRollIf = v.Open // not for a button pressed in silence
			if ecfg.PreRoll == 0 {
				ecfg.PreRoll = engine.DefaultVADPreRoll
			}
			srcs = append(srcs, v)
		}
		src = ptt.Any(srcs...)
	}
	ecfg.PTT = retrying(src, log)
	eng, err := engine.New(ecfg)
	if err != nil {
		return err
	}
	b.audio = eng
	for name, g := range cfg.Volumes {
		eng.SetChannelVolume(name, g)
		log.Info("channel volume", "channel", name, "percent", math.Round(g*100))
	}
	engDone := make(chan error, 1)
	wg.Go(func() { engDone <- eng.Run(ctx, floor) })

	// The replay button.
	rsrc := deps.Replay
	if rsrc == nil && cfg.ReplayButton != "" {
		rsrc = replaySource(cfg, log)
	}
	if rsrc != nil {
		src := retrying(rsrc, log)
		wg.Go(func() {
			_ = src.Run(ctx, func(pressed bool) {
				if pressed {
					b.replayPressed(ctx)
				}
			})
		})
	}

	// The page button.
	psrc := deps.Page
	if psrc == nil && cfg.PageButton != "" {
		psrc = buttonSource(cfg, cfg.PageButton, cfg.PageDevice, "page-button", log)
	}
	if psrc != nil {
		src := retrying(psrc, log)
		wg.Go(func() { _ = src.Run(ctx, eng.PressPage) })
	}

	// The call button: held, the box talks to cfg.Call alone.
	csrc := deps.Call
	if csrc == nil && cfg.CallButton != "" {
		csrc = buttonSource(cfg, cfg.CallButton, cfg.CallDevice, "call-button", log)
	}
	if csrc != nil && cfg.Call != "" {
		src := retrying(csrc, log)
		to := cfg.Call
		wg.Go(func() { _ = src.Run(ctx, func(pressed bool) { eng.PressCall(to, pressed) }) })
	}

	// The connection, forever.
	ccfg := client.Config{Relay: cfg.Relay, Name: cfg.User, Password: password, Channel: cfg.Channel, Monitor: cfg.Listen,
		Fingerprint: cfg.Fingerprint, KnownRelaysFile: cfg.KnownRelaysFile, Software: "talk box (hark)",
		Logger: log.With("part", "client"), Reconnect: true,
		OnVoice: eng.Voice,
		OnEvent: func(ev client.Event) { eng.Event(ev); b.event(ev) }}
	if deps.Client != nil {
		deps.Client(&ccfg)
	}
	wg.Go(func() { b.connectLoop(ctx, ccfg, floor) })

	log.Info("box started", "relay", cfg.Relay, "user", cfg.User, "channel", cfg.Channel)
	select {
	case <-ctx.Done():
		err = nil
	case err = <-engDone:
		// The engine only stops early when a device cannot be started.
	}
	cancel()
	return err
}

// connectLoop keeps a connection to the relay until ctx ends. The client
// library reconnects after a lost connection by itself; this loop also
// retries refusals (wrong password, unknown channel: an administrator may
// fix them on the relay) and sessions the relay ended (kicked, replaced).
func (b *box) connectLoop(ctx context.Context, ccfg client.Config, floor *engine.SwitchFloor) {
	wait := ccfg.MinBackoff
	if wait <= 0 {
		wait = 5 * time.Second
	}
	for ctx.Err() == nil {
		b.setConn(client.StateConnecting)
		c, err := client.Dial(ctx, ccfg)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.log.Error("cannot log in to the relay; trying again", "err", err, "in", wait)
			if !b.backOff(ctx, &wait) {
				return
			}
			continue
		}
		// The button works from the moment the box says it is connected
		// (log line, LED): the floor first.
		floor.Set(c)
		awayCtx, awayStop := context.WithCancel(ctx)
		ap := history.NewAwayPlayer(c, b.audio.Voice, history.AwayConfig{Hears: c.Hears,
			Say: func(line string) { b.log.Info(line) }})
		b.away.Store(ap)
		go ap.Run(awayCtx)
		b.missedEarly()
		ch, _ := c.Channel()
		b.log.Info("connected", "relay", c.Relay(), "channel", ch.Name)
		b.setConn(client.StateConnected)
		since := time.Now()
		select {
		case <-ctx.Done():
		case <-c.Done():
		}
		floor.Set(nil)
		b.away.Store(nil)
		awayStop()
		c.Close()
		if ctx.Err() != nil {
			return
		}
		// The relay ended the session: kicked by an administrator, or
		// replaced by a login with the same name elsewhere. Two boxes
		// sharing a name would replace each other in a tight loop, so a
		// session that ended soon waits, longer each time.
		if time.Since(since) >= sessionCalm {
			wait = max(ccfg.MinBackoff, 5*time.Second)
		}
		var re *client.RelayError
		if errors.As(c.Err(), &re) && re.Code == proto.CodeReplaced {
			b.log.Error("another box or program logged in as "+ccfg.Name+" and took over this box's session; "+
				"give each box its own user name. Logging in again", "in", wait)
		} else {
			b.log.Warn("the relay ended the session; logging in again", "err", c.Err(), "in", wait)
		}
		if !b.backOff(ctx, &wait) {
			return
		}
	}
}

// backOff shows the box as reconnecting and waits *wait, then doubles it
// (up to a minute). It reports false if ctx ended first.
func (b *box) backOff(ctx context.Context, wait *time.Duration) bool {
	b.setConn(client.StateReconnecting)
	t := time.NewTimer(*wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	}
	*wait = min(*wait*2, time.Minute)
	return true
}

// sessionCalm: a session that lasted this long resets the wait before
// logging in again after the relay ends one.
const sessionCalm = time.Minute

func (b *box) setConn(s client.State) {
	b.mu.Lock()
	b.conn = s
	b.mu.Unlock()
	b.show()
}

func (b *box) engineState(s engine.State) {
	b.mu.Lock()
	prev := b.eng
	b.eng = s
	b.mu.Unlock()
	if s.Pressed && !prev.Pressed {
		b.stopReplay("interrupted: the talk button was pressed")
		b.ackAlarms()
	}
	switch {
	case s.Talking && !prev.Talking:
		b.log.Info("talking")
	case !s.Talking && prev.Talking:
		b.log.Info("stopped talking")
	case s.Busy && !prev.Busy:
		b.log.Info("the floor is busy")
	}
	b.show()
}

// event logs what happens and lights the ring LED.
func (b *box) event(ev client.Event) {
	switch ev.State {
	case client.StateConnected:
		// After a reconnection by the client library. The first
		// connection is shown by connectLoop once Dial has returned.
		if b.floor.Client() != nil {
			b.setConn(ev.State)
		}
		return
	case client.StateReconnecting:
		b.log.Warn("connection to the relay lost; reconnecting", "err", ev.Err)
		b.setConn(ev.State)
		return
	case client.StateClosed:
		return
	}
	if b.alarmEvent(ev.Msg) {
		return
	}
	switch m := ev.Msg.(type) {
	case *proto.Ring:
		b.log.Info("ring", "from", m.FromName, "text", m.Text)
		b.ring()
	case *proto.Text:
		b.log.Info("text", "from", m.FromName, "to", m.To, "text", m.Text)
	case *proto.Talking:
		b.log.Debug("talking", "name", m.Name, "on", m.Talking, "page", m.Priority)
		if m.Talking && m.Session != b.floor.Session() {
			b.stopReplay("interrupted: " + m.Name + " is talking")
		}
	case *proto.History:
		b.missed(m)
		if p := b.away.Load(); p != nil {
			p.Add(m)
		}
	case *proto.Page:
		b.log.Info("page", "from", m.FromName, "on", m.Active)
	case *proto.Monitoring:
		names := make([]string, len(m.Channels))
		for i, ch := range m.Channels {
			names[i] = ch.Name
		}
		b.log.Info("also listening to", "channels", strings.Join(names, ","))
	case *proto.Whisper:
		from, to := client.CallParties(m, b.cfg.User, "this box")
		b.log.Info("call", "from", from, "to", to, "on", m.Active)
		if m.Active && m.To == b.floor.Session() {
			b.stopReplay("interrupted: " + m.FromName + " is calling")
		}
	case *proto.PresenceChange:
		b.log.Debug("presence", "name", m.User.Name, "channel", m.User.Channel, "kind", m.Kind)
	case *proto.Error:
		b.log.Warn("relay", "text", m.Text)
	case *proto.Bye:
		b.log.Warn("the relay ended the session", "text", m.Text)
	}
}

func (b *box) ring() {
	b.mu.Lock()
	b.ringing = true
	b.ringGen++
	gen := b.ringGen
	if b.ringTimer != nil {
		b.ringTimer.Stop()
	}
	b.ringTimer = time.AfterFunc(b.cfg.RingFor, func() {
		b.mu.Lock()
		if b.ringGen == gen {
			b.ringing = false
		}
		b.mu.Unlock()
		b.show()
	})
	b.mu.Unlock()
	b.show()
}

func (b *box) stopRing() {
	b.mu.Lock()
	if b.ringTimer != nil {
		b.ringTimer.Stop()
	}
	b.ringGen++
	b.mu.Unlock()
}

// show sets the LEDs from the state.
func (b *box) show() {
	if b.leds == nil {
		return
	}
	b.mu.Lock()
	conn, eng, ringing, unheard, alarm := b.conn, b.eng, b.ringing, len(b.unheard), b.alarms.Len() > 0
	b.mu.Unlock()
	set := func(role int, p gpio.Pattern) {
		if i := b.idx[role]; i >= 0 {
			b.leds.Set(i, p)
		}
	}
	switch conn {
	case client.StateConnected:
		set(ledConnected, gpio.On)
	case client.StateConnecting, client.StateReconnecting:
		set(ledConnected, gpio.SlowBlink)
	default:
		set(ledConnected, gpio.Off)
	}
	switch {
	case eng.Talking:
		set(ledTalking, gpio.On)
	case eng.Busy:
		set(ledTalking, gpio.FastBlink)
	default:
		set(ledTalking, gpio.Off)
	}
	if eng.Receiving {
		set(ledReceiving, gpio.On)
	} else {
		set(ledReceiving, gpio.Off)
	}
	switch {
	case alarm:
		set(ledRing, gpio.FastBlink)
	case ringing:
		set(ledRing, gpio.DoubleBlink)
	case unheard > 0:
		set(ledRing, gpio.On)
	default:
		set(ledRing, gpio.Off)
	}
}

// openLEDs requests the LED lines on the configured chip.
func openLEDs(cfg Config, lines []string) (gpio.Outputs, func(), error) {
	chip, err := gpio.OpenChip(cfg.GPIOChip)
	if err != nil {
		return nil, nil, fmt.Errorf("LEDs: %w", err)
	}
	defer chip.Close()
	offsets := make([]uint32, len(lines))
	for i, l := range lines {
		if offsets[i], err = chip.FindLine(l); err != nil {
			return nil, nil, fmt.Errorf("LED line %q: %w", l, err)
		}
	}
	out, err := chip.RequestOutputs(offsets, gpio.OutputConfig{Consumer: "hark-leds", ActiveLow: cfg.LEDActiveLow})
	if err != nil {
		return nil, nil, fmt.Errorf("LEDs: %w", err)
	}
	return out, func() { out.Close() }, nil
}

// retrying runs src again after it fails (an unplugged button, a GPIO
// error), with backoff, until ctx ends: a box never gives up its button.
func retrying(src ptt.Source, log *slog.Logger) ptt.Source {
	return ptt.SourceFunc(func(ctx context.Context, set func(bool)) error {
		wait := time.Second
		for {
			err := src.Run(ctx, set)
			if ctx.Err() != nil {
				return nil
			}
			if err == nil {
				err = errors.New("stopped")
			}
			log.Error("push-to-talk input failed; retrying", "err", err, "in", wait)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			wait = min(wait*2, 30*time.Second)
		}
	})
}
