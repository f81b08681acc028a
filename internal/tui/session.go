package tui

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/engine"
	"github.com/hark-intercom/hark/internal/history"
	"github.com/hark-intercom/hark/proto"
)

// SessionConfig configures RunSession.
type SessionConfig struct {
	// Client configures the connection. RunSession sets OnEvent and OnVoice
	// (and Reconnect: the UI keeps trying after a lost connection).
	Client client.Config
	// Engine configures the audio. RunSession sets OnState. Leave PTT nil
	// unless another input (evdev, VAD) should talk too: the UI's talk key
	// always works.
	Engine engine.Config
	// UI configures the screen; Client and Engine are set by RunSession.
	UI Config
	// OnDialing, if set, is called before connecting (e.g. to print
	// "connecting…" while the screen is not up yet).
	OnDialing func(relay string)
}

// RunSession connects to the relay, starts the audio engine and shows the
// UI until the user quits or ctx ends. It is what `talk` with no verb runs.
func RunSession(ctx context.Context, cfg SessionConfig) error {
	ui := &UI{wake: make(chan struct{}, 1)}
	ecfg := cfg.Engine
	ecfg.OnState = ui.EngineState
	eng, err := engine.New(ecfg)
	if err != nil {
		return err
	}
	ccfg := cfg.Client
	ccfg.Reconnect = true
	// What was said while reconnecting is played once back (the screen
	// lists it, see missed).
	var away atomic.Pointer[history.AwayPlayer]
	ccfg.OnEvent = func(ev client.Event) {
		eng.Event(ev)
		ui.Event(ev)
		if h, ok := ev.Msg.(*proto.History); ok {
			if p := away.Load(); p != nil {
				p.Add(h)
			}
		}
	}
	ccfg.OnVoice = eng.Voice
	if cfg.OnDialing != nil {
		cfg.OnDialing(ccfg.Relay)
	}
	c, err := client.Dial(ctx, ccfg)
	if err != nil {
		return err
	}
	defer c.Close()

	ucfg := cfg.UI
	ucfg.Client, ucfg.Engine = c, eng
	if c.HasHistory() {
		ucfg.Replay = NewReplayer(c, eng)
	}
	u, err := New(ucfg)
	if err != nil {
		return err
	}
	// Keep the events already posted to the placeholder.
	ui.mu.Lock()
	u.pending = ui.pending
	ui.pending = nil
	ui.mu.Unlock()
	ui.mu.Lock()
	ui.forward = u
	ui.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ap := history.NewAwayPlayer(c, eng.Voice, history.AwayConfig{Hears: c.Hears})
	away.Store(ap)
	go ap.Run(ctx)
	engErr := make(chan error, 1)
	go func() {
		err := eng.Run(ctx, engine.ClientFloor(c))
		if err != nil {
			cancel() // no sound card: say so instead of a silent screen
		}
		engErr <- err
	}()
	ended := make(chan struct{})
	go func() {
		select {
		case <-c.Done(): // kicked, or replaced by a login elsewhere
			close(ended)
			cancel()
		case <-ctx.Done():
		}
	}()
	uiErr := u.Run(ctx)
	cancel()
	err = <-engErr
	if uiErr != nil {
		return uiErr
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("audio: %w", err)
	}
	select {
	case <-ended:
		if err := c.Err(); err != nil {
			return err // says why: kicked, replaced, or the password no longer works
		}
		return errors.New("the relay ended the session")
	default:
	}
	return nil
}

// NewReplayer returns the Replayer of a client and an engine: transmissions
// are fetched from the relay and played through the engine's playout, as
// live voice is (the box uses it too).
func NewReplayer(c *client.Client, eng *engine.Engine) Replayer { return replayer{c, eng} }

type replayer struct {
	c   *client.Client
	eng *engine.Engine
}

func (r replayer) Latest(ctx context.Context, channel string) (proto.HistoryItem, bool, error) {
	return history.Latest(ctx, r.c, channel)
}

func (r replayer) Play(ctx context.Context, id uint64) error {
	return history.Replay(ctx, r.c, id, r.eng.Voice)
}
