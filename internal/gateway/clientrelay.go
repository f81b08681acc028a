package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/proto"
)

// ClientDialer logs browser users in at a relay with internal/client, one
// client per browser.
type ClientDialer struct {
	// Relay is the relay's "host:port".
	Relay string
	// Fingerprint pins the relay's certificate; "" uses KnownRelaysFile
	// (trust on first use).
	Fingerprint     string
	KnownRelaysFile string
	// Logger receives the clients' logs; nil discards them.
	Logger *slog.Logger
	// Software is sent in the Hello, e.g. "hark-gateway 0.1".
	Software string
}

// voiceQueue is how many received frames wait for the hub per session.
const voiceQueue = 64

// Dial implements Dialer.
func (d *ClientDialer) Dial(ctx context.Context, name, password, channel string) (RelaySession, error) {
	cs := &clientSession{
		events: make(chan RelayEvent, 256),
		voice:  make(chan VoiceFrame, voiceQueue),
		done:   make(chan struct{}),
	}
	cfg := client.Config{
		Relay: d.Relay, Name: name, Password: password, Channel: channel,
		Fingerprint: d.Fingerprint, KnownRelaysFile: d.KnownRelaysFile,
		Software: d.Software, Logger: d.Logger,
		Reconnect: true,
		// The session marks history read once the browser was sent it.
		ManualRead: true,
		OnEvent:    cs.onEvent,
		OnVoice:    cs.onVoice,
	}
	c, err := client.Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	cs.c = c
	return cs, nil
}

// clientSession adapts *client.Client to RelaySession.
type clientSession struct {
	c      *client.Client
	events chan RelayEvent
	voice  chan VoiceFrame
	done   chan struct{} // closed by Close: stops event delivery

	closeOnce sync.Once
	evMu      sync.Mutex // guards evClosed
	evClosed  bool
}

func (cs *clientSession) onEvent(ev client.Event) {
	var re RelayEvent
	switch {
	case ev.Msg != nil:
		re.Msg = ev.Msg
	case ev.State == client.StateConnected:
		re.Link = LinkUp
	case ev.State == client.StateReconnecting:
		re.Link = LinkReconnecting
		re.Err = ev.Err
		if ev.Err != nil {
			re.Text = "The gateway lost the intercom server (" + ev.Err.Error() + ") and is reconnecting…"
		}
	case ev.State == client.StateClosed:
		cs.closeEvents()
		return
	default:
		return
	}
	cs.evMu.Lock()
	closed := cs.evClosed
	cs.evMu.Unlock()
	if closed {
		return
	}
	select {
	case cs.events <- re:
	case <-cs.done:
	}
}

func (cs *clientSession) closeEvents() {
	cs.evMu.Lock()
	if !cs.evClosed {
		cs.evClosed = true
		close(cs.events)
	}
	cs.evMu.Unlock()
}

func (cs *clientSession) onVoice(h proto.VoiceHeader, opus []byte, arrival time.Time) {
	f := VoiceFrame{Header: h, Opus: append([]byte(nil), opus...), Arrival: arrival}
	select {
	case cs.voice <- f:
	default: // the hub is behind: drop rather than block the reader
	}
}

func (cs *clientSession) Welcome() proto.Welcome                       { return cs.c.Welcome() }
func (cs *clientSession) Channel() (proto.ChannelInfo, bool)           { return cs.c.Channel() }
func (cs *clientSession) Events() <-chan RelayEvent                    { return cs.events }
func (cs *clientSession) Voice() <-chan VoiceFrame                     { return cs.voice }
func (cs *clientSession) Text(ctx context.Context, to, t string) error { return cs.c.Text(ctx, to, t) }
func (cs *clientSession) Ring(ctx context.Context, t string) error     { return cs.c.Ring(ctx, t) }
func (cs *clientSession) Alarm(ctx context.Context, t string) error    { return cs.c.Alarm(ctx, t) }
func (cs *clientSession) AckAlarm(id uint32) error                     { return cs.c.AckAlarm(id) }

func (cs *clientSession) Echo(ctx context.Context) (RelayTx, error) {
	return client.AsFloorTx(cs.c.Echo(ctx))
}

func (cs *clientSession) Join(ctx context.Context, channel string) (proto.ChannelInfo, error) {
	return cs.c.Join(ctx, channel)
}

func (cs *clientSession) Talk(ctx context.Context) (RelayTx, error) {
	return client.AsFloorTx(cs.c.Talk(ctx))
}

func (cs *clientSession) Page(ctx context.Context) (RelayTx, error) {
	return client.AsFloorTx(cs.c.Page(ctx))
}

func (cs *clientSession) Close() error {
	cs.closeOnce.Do(func() { close(cs.done) })
	return cs.c.Close()
}
