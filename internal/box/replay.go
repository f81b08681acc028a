package box

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/history"
	"github.com/hark-intercom/hark/internal/ptt"
	"github.com/hark-intercom/hark/proto"
)

// replaySource is the configured replay button.
func replaySource(cfg Config, log *slog.Logger) ptt.Source {
	return buttonSource(cfg, cfg.ReplayButton, cfg.ReplayDevice, "replay-button", log)
}

// missed logs what the box missed (the relay's catch-up at login) and keeps
// the transmissions of its channel, and pages, for the replay button; a
// missed ring blinks the ring LED.
func (b *box) missed(h *proto.History) {
	if h.Flags&proto.HistoryMissed == 0 {
		return
	}
	// The login's catch-up can come while client.Dial has not returned
	// yet: the box cannot ask the client its channel, and the missed
	// transmissions would not be kept (1 in 8 runs of
	// TestBoxMissedTransmissionAndReplayButton). It waits for
	// missedEarly. Checked under mu, which missedEarly takes after the
	// client is set, so none is left behind.
	b.mu.Lock()
	c := b.floor.Client()
	if c == nil {
		b.early = append(b.early, h)
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	ch, _ := c.Channel()
	channel := ch.Name
	rang := false
	b.mu.Lock()
	for _, it := range h.Items {
		b.log.Info("missed", "at", time.UnixMilli(it.Time).Format(time.DateTime), "item", history.Describe(it, b.cfg.User))
		switch {
		case it.Kind == proto.ItemRing:
			rang = true
		case history.Playable(it) && (it.Kind == proto.ItemPage || it.Channel == channel):
			if !slices.ContainsFunc(b.unheard, func(x proto.HistoryItem) bool { return x.ID == it.ID }) {
				b.unheard = append(b.unheard, it)
			}
		}
	}
	n := len(b.unheard)
	b.mu.Unlock()
	if n > 0 {
		b.log.Info("missed transmissions to play", "count", n, "replay_button", b.cfg.ReplayButton != "")
	}
	if rang {
		b.ring()
	}
	b.show()
}

// missedEarly handles the catch-ups that missed put aside; the run loop
// calls it once the client is set.
func (b *box) missedEarly() {
	b.mu.Lock()
	early := b.early
	b.early = nil
	b.mu.Unlock()
	for _, h := range early {
		b.missed(h)
	}
}

// replayPressed plays the last missed transmission, or stops the replay
// under way. Without missed ones it plays the channel's last transmission.
func (b *box) replayPressed(ctx context.Context) {
	c := b.floor.Client()
	b.mu.Lock()
	if b.replay != nil {
		b.mu.Unlock()
		b.stopReplay("stopped by the replay button")
		return
	}
	if c == nil {
		b.mu.Unlock()
		b.log.Warn("replay button: not connected to the relay")
		return
	}
	if st := b.audio.State(); st.Receiving || st.Talking {
		b.mu.Unlock()
		b.log.Info("replay button: the channel is busy; press again when it is quiet")
		return
	}
	var it proto.HistoryItem
	missed := len(b.unheard) > 0
	if missed {
		it = b.unheard[len(b.unheard)-1]
	}
	rctx, cancel := context.WithCancel(ctx)
	b.replay = cancel
	b.mu.Unlock()
	go func() {
		defer func() {
			b.mu.Lock()
			b.replay = nil
			b.mu.Unlock()
			cancel()
		}()
		if !missed {
			ch, _ := c.Channel()
			lctx, lcancel := context.WithTimeout(rctx, 10*time.Second)
			latest, ok, err := history.Latest(lctx, c, ch.Name)
			lcancel()
			if err != nil || !ok {
				b.log.Info("replay button: nothing to play", "err", err)
				return
			}
			it = latest
		}
		b.log.Info("replaying", "item", history.Describe(it, b.cfg.User))
		err := history.Replay(rctx, c, it.ID, b.audio.Voice)
		var re *client.RelayError
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			return // stopReplay said why; a missed one stays unheard
		case errors.As(err, &re) && re.Code == proto.CodeNotFound:
			b.log.Warn("replay: the relay no longer keeps this transmission", "err", err)
		default:
			b.log.Warn("replay failed; press again to retry", "err", err)
			return
		}
		b.mu.Lock()
		b.unheard = slices.DeleteFunc(b.unheard, func(x proto.HistoryItem) bool { return x.ID == it.ID })
		b.mu.Unlock()
		b.show()
	}()
}

// stopReplay stops the replay under way, if any, and logs why.
func (b *box) stopReplay(why string) {
	b.mu.Lock()
	stop := b.replay
	b.replay = nil
	b.mu.Unlock()
	if stop != nil {
		stop()
		b.log.Info("replay stopped", "why", why)
	}
}
