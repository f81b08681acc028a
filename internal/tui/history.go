package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hark-intercom/hark/internal/history"
	"github.com/hark-intercom/hark/proto"
)

// missed shows the relay's catch-up (what happened while the user was
// away, at start and after a reconnection) under a marker, each item at
// its own time.
func (m *model) missed(at time.Time, h *proto.History) {
	if h.Flags&proto.HistoryAway != 0 {
		// Transmissions said while reconnecting: the session plays them
		// (history.AwayPlayer).
		for _, it := range h.Items {
			if history.Playable(it) {
				m.addLine(2, time.UnixMilli(it.Time), "missed while reconnecting, played now: "+history.Describe(it, m.welcome.Name))
			}
		}
		if h.More {
			m.addLine(2, at, "── more was said while reconnecting: talk history lists it ──")
		}
		return
	}
	if h.Flags&proto.HistoryMissed == 0 || len(h.Items) == 0 {
		return
	}
	m.addLine(2, at, fmt.Sprintf("── while you were away (%d) ──", len(h.Items)))
	voice := 0
	for _, it := range h.Items {
		kind := 0
		switch it.Kind {
		case proto.ItemRing, proto.ItemPage:
			kind = 1
		case proto.ItemVoice:
			kind = 2
			voice++
		}
		if it.From == m.welcome.Name {
			kind = 3
		}
		m.addLine(kind, time.UnixMilli(it.Time), history.Describe(it, m.welcome.Name))
		if it.Kind == proto.ItemRing {
			m.lastRing = fmt.Sprintf("%s rang at %s", it.From, time.UnixMilli(it.Time).Format("15:04:05"))
		}
	}
	switch {
	case h.More:
		m.addLine(2, at, "── more than fit here: talk history lists everything ──")
	case voice > 0 && m.cfg.Replay != nil:
		m.addLine(2, at, "── p plays the last transmission ──")
	default:
		m.addLine(2, at, "── end of what you missed ──")
	}
}

// sendText sends a text and reports what became of it.
func (m *model) sendText(to, text string) tea.Cmd {
	ctx := m.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTime)
		defer cancel()
		if s, ok := m.cfg.Client.(TextSender); ok {
			ack, err := s.SendText(ctx, to, text)
			return textMsg{to: to, ack: ack, err: err}
		}
		return textMsg{to: to, err: m.cfg.Client.Text(ctx, to, text)}
	}
}

func (m *model) textSent(t textMsg) {
	switch {
	case t.err != nil:
		m.flash = "text not sent: " + t.err.Error()
	case t.ack.Status == proto.TextWaiting:
		m.waiting[t.ack.ClientID] = t.to
		m.flash = "waiting: " + t.to + " is offline; the relay delivers the text when they log in"
	case t.to != "" && t.ack.Status == proto.TextDelivered:
		m.flash = "delivered to " + t.to
	}
}

// replay plays the last transmission of the channel again, or stops the
// one playing.
func (m *model) replay() tea.Cmd {
	if m.replayStop != nil {
		m.stopReplay("replay stopped")
		return nil
	}
	r := m.cfg.Replay
	if r == nil {
		m.flash = "this relay keeps no transmissions to play again"
		return nil
	}
	if m.floor != "" && m.floor != "you" || m.paging != "" {
		m.flash = "someone is talking: play it again once the channel is quiet"
		return nil
	}
	ctx, cancel := context.WithCancel(m.ctx)
	m.replayStop = cancel
	m.replayEpoch++
	epoch := m.replayEpoch
	channel := m.channel.Name
	m.flash = "looking for the last transmission…"
	return func() tea.Msg {
		lctx, lcancel := context.WithTimeout(ctx, requestTime)
		defer lcancel()
		it, ok, err := r.Latest(lctx, channel)
		if err == nil && !ok {
			err = errors.New("nothing to play: no transmission of #" + channel + " is stored")
		}
		return replayFoundMsg{epoch: epoch, item: it, ctx: ctx, err: err}
	}
}

// replayFound starts playing what replay found.
func (m *model) replayFound(f replayFoundMsg) tea.Cmd {
	if f.epoch != m.replayEpoch || m.replayStop == nil {
		return nil // stopped meanwhile
	}
	if f.err != nil {
		m.replayEnded(replayMsg{epoch: f.epoch, err: f.err})
		return nil
	}
	m.flash = "playing: " + history.Describe(f.item, m.welcome.Name) + " (" + time.UnixMilli(f.item.Time).Format("15:04") + "; p or Esc stops)"
	r, ctx, epoch := m.cfg.Replay, f.ctx, f.epoch
	return func() tea.Msg {
		return replayMsg{epoch: epoch, err: r.Play(ctx, f.item.ID)}
	}
}

func (m *model) replayEnded(r replayMsg) {
	if r.epoch != m.replayEpoch {
		return // an earlier replay, already stopped
	}
	stopped := m.replayStop == nil
	if !stopped {
		m.replayStop()
	}
	m.replayStop = nil
	switch {
	case r.err == nil:
		m.flash = "replay finished"
	case errors.Is(r.err, context.Canceled) && stopped:
		// stopReplay said why
	default:
		m.flash = "replay failed: " + r.err.Error()
	}
}

// stopReplay stops the replay under way, if any, and says why.
func (m *model) stopReplay(why string) {
	if m.replayStop == nil {
		return
	}
	m.replayStop()
	m.replayStop = nil
	m.flash = why
}

// clock is a message's time: the time of day, with the date in front when
// it is not today (missed items can be days old).
func clock(t time.Time) string {
	now := time.Now()
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04")
	}
	return t.Format("Jan 2 15:04")
}
