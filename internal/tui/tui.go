// Package tui is talk's terminal user interface (`talk` with no verb), built
// on github.com/charmbracelet/bubbletea. It shows the relay and channel, the
// connection state, who is online and who is talking, who holds the floor,
// the microphone level, text messages in and out and rings, and takes keys to
// talk, send text, switch channel and ring every station. It fits an 80×24
// terminal and works over SSH (it only needs a terminal, no X or Wayland).
//
// Talking from a terminal: terminals report key presses, never releases.
// In hold mode (the default) the talk key talks while its auto-repeat keeps
// coming (see ptt.HoldConfig); in toggle mode one press starts talking and
// the next stops.
//
// The UI drives the audio engine through the small Engine interface and the
// connection through Client; feed it the client's events with Event and the
// engine's state with EngineState.
package tui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/engine"
	"github.com/hark-intercom/hark/internal/ptt"
	"github.com/hark-intercom/hark/proto"
)

// Client is what the UI needs of the connection; *client.Client implements it.
type Client interface {
	Text(ctx context.Context, to, text string) error
	Ring(ctx context.Context, text string) error
	Alarm(ctx context.Context, text string) error
	AckAlarm(id uint32) error
	Join(ctx context.Context, channel string) (proto.ChannelInfo, error)
	Channel() (proto.ChannelInfo, bool)
	Welcome() proto.Welcome
	Relay() string
	State() client.State
}

// Engine is what the UI needs of the audio engine; *engine.Engine
// implements it.
type Engine interface {
	Press(pressed bool)
	// PressEcho is Press for an echo test: the relay plays what was said
	// back to this client alone after the release.
	PressEcho(pressed bool)
	// PressPage is Press for a live page to every channel.
	PressPage(pressed bool)
	// SetMuted, SetDeafened and SetVolume are the per-person controls
	// (engine.Engine's); Volume reads a person's volume back.
	SetMuted(bool)
	SetDeafened(bool)
	SetVolume(name string, gain float64)
	Volume(name string) float64
	Level() float64
	State() engine.State
}

// Replayer plays the relay's stored transmissions (a relay that keeps
// history); RunSession makes one of the client and the engine.
type Replayer interface {
	// Latest returns the newest stored transmission the user may play in
	// channel, or a page; ok is false when there is none.
	Latest(ctx context.Context, channel string) (it proto.HistoryItem, ok bool, err error)
	// Play plays transmission id through the speaker and returns when the
	// last of it was handed to the playout, or when ctx ends.
	Play(ctx context.Context, id uint64) error
}

// TextSender is a Client that says what became of a text (delivered,
// waiting for an offline user); *client.Client implements it. The UI
// uses it when its Client has it.
type TextSender interface {
	SendText(ctx context.Context, to, text string) (proto.TextAck, error)
}

// Config configures New. Client and Engine are required.
type Config struct {
	Client Client
	Engine Engine
	// Replay plays stored transmissions (the p key); nil when the relay
	// keeps none.
	Replay Replayer
	// TalkKey is the talk key as ptt.ParseKey accepts it; "" means space.
	TalkKey string
	// Hold configures hold and toggle modes (Hold.Toggle for toggle).
	Hold ptt.HoldConfig
	// In and Out are the terminal; nil means standard input and output.
	In  io.Reader
	Out io.Writer
	// NoAltScreen draws in the normal screen instead of the alternate one.
	NoAltScreen bool
	// Logger receives the UI's own problems (never drawn on the screen).
	Logger *slog.Logger
}

// UI is a terminal user interface. Create it with New and Run it once.
// Event and EngineState may be called from any goroutine, before or during
// Run; they never block.
type UI struct {
	cfg Config
	key string

	mu sync.Mutex
	// guarded by mu:
	pending []tea.Msg
	forward *UI // RunSession's placeholder forwards to the real UI

	wake chan struct{} // capacity 1: pending has messages
}

// New checks cfg and returns a UI.
func New(cfg Config) (*UI, error) {
	if cfg.Client == nil || cfg.Engine == nil {
		return nil, errors.New("tui: Client and Engine are required")
	}
	key, err := ptt.ParseKey(cfg.TalkKey)
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &UI{cfg: cfg, key: key, wake: make(chan struct{}, 1)}, nil
}

// Event shows an event of the client (fits client.Config.OnEvent, after
// the engine's own handler).
func (u *UI) Event(ev client.Event) { u.post(eventMsg{ev}) }

// EngineState shows the engine's state (fits engine.Config.OnState).
func (u *UI) EngineState(s engine.State) { u.post(engineMsg{s}) }

// maxPending bounds the messages waiting for the screen; beyond it the
// oldest are dropped (the presence snapshot after a reconnect repairs the
// user list).
const maxPending = 4096

func (u *UI) post(m tea.Msg) {
	u.mu.Lock()
	if f := u.forward; f != nil {
		u.mu.Unlock()
		f.post(m)
		return
	}
	if len(u.pending) >= maxPending {
		u.pending = u.pending[1:]
	}
	u.pending = append(u.pending, m)
	u.mu.Unlock()
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// Run shows the UI until the user quits (q or Ctrl-C) or ctx ends. It
// releases the talk key before returning.
func (u *UI) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := newModel(u.cfg, u.key, ctx)
	// 20 frames a second is plenty for a level meter and text; bubbletea's
	// default of 60 wakes the process three times as often.
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithoutSignalHandler(), tea.WithFPS(20)}
	if !u.cfg.NoAltScreen {
		opts = append(opts, tea.WithAltScreen())
	}
	if u.cfg.In != nil {
		opts = append(opts, tea.WithInput(u.cfg.In))
	}
	if u.cfg.Out != nil {
		opts = append(opts, tea.WithOutput(u.cfg.Out))
	}
	p := tea.NewProgram(m, opts...)

	// Forward posted messages to the program, in order.
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-u.wake:
			}
			u.mu.Lock()
			batch := u.pending
			u.pending = nil
			u.mu.Unlock()
			for _, msg := range batch {
				p.Send(msg) // returns when ctx ends
			}
		}
	})
	select { // deliver what came before Run
	case u.wake <- struct{}{}:
	default:
	}
	_, err := p.Run()
	cancel()
	wg.Wait()
	u.cfg.Engine.Press(false)
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		err = nil // ended from outside (ctx)
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// Messages the program handles besides keys.
type (
	eventMsg  struct{ ev client.Event }
	engineMsg struct{ s engine.State }
	levelMsg  time.Time             // time to redraw the level meter
	expireMsg time.Time             // the hold timeout may have passed
	doneMsg   struct{ note string } // a request finished; note is shown
	joinedMsg struct {
		ch  proto.ChannelInfo
		err error
	}
	textMsg struct { // a text was sent (or not)
		to  string
		ack proto.TextAck
		err error
	}
	replayFoundMsg struct { // the transmission to replay was found (or not)
		epoch int
		item  proto.HistoryItem
		ctx   context.Context // the replay's; cancelled to stop it
		err   error
	}
	replayMsg struct { // a replay ended
		epoch int
		err   error
	}
)
