package history

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/hark-intercom/hark/proto"
)

// AwayQueue bounds the transmissions an AwayPlayer keeps waiting to be
// played (the relay sends at most 20 at a reconnection, and one more for
// each that was under way).
const AwayQueue = 64

// AwayPlayer plays the transmissions a client missed while it was
// reconnecting (a *proto.History event with proto.HistoryAway) one after
// another, in the order they were said, into a front end's playout
// through the same sink as live voice (see Replay: as talker
// ReplayTalker). Every front end uses it: `talk record` writes them to its
// file, the others play them.
//
// Make it with NewAwayPlayer, hand it the events with Add (it never
// blocks) and run Run on a goroutine of its own. Safe for concurrent use.
type AwayPlayer struct {
	f    Fetcher
	sink VoiceSink
	cfg  AwayConfig

	q       chan proto.HistoryItem
	played  atomic.Uint64
	skipped atomic.Uint64
}

// AwayConfig is what a front end tells an AwayPlayer; every field may be
// left zero.
type AwayConfig struct {
	// Hears reports whether the front end hears a channel (its own and
	// those it monitors): transmissions of other channels are skipped.
	// nil hears every channel. Pages are always heard.
	Hears func(channel string) bool
	// Say is told what happens, in words for the user: a transmission
	// starts playing, could not be played, or was skipped. nil says
	// nothing.
	Say func(line string)
}

// NewAwayPlayer returns a player that fetches with f and plays into sink.
func NewAwayPlayer(f Fetcher, sink VoiceSink, cfg AwayConfig) *AwayPlayer {
	return &AwayPlayer{f: f, sink: sink, cfg: cfg, q: make(chan proto.HistoryItem, AwayQueue)}
}

// Add queues the transmissions of h (a History with proto.HistoryAway;
// others are ignored) that can be played and are in a channel the front
// end hears. A full queue skips the rest (counted, said). It never blocks.
func (p *AwayPlayer) Add(h *proto.History) {
	if h.Flags&proto.HistoryAway == 0 {
		return
	}
	if h.More {
		p.say("more was said while reconnecting than is played again here (the oldest): \"talk history\" lists it")
	}
	for _, it := range h.Items {
		if !Playable(it) || it.Kind != proto.ItemPage && p.cfg.Hears != nil && !p.cfg.Hears(it.Channel) {
			continue
		}
		select {
		case p.q <- it:
		default:
			p.skipped.Add(1)
			p.say("missed while reconnecting, too many to play again: " + Describe(it, ""))
		}
	}
}

// Run plays the queued transmissions until ctx ends.
func (p *AwayPlayer) Run(ctx context.Context) {
	for {
		var it proto.HistoryItem
		select {
		case it = <-p.q:
		case <-ctx.Done():
			return
		}
		p.say("missed while reconnecting, playing it now: " + Describe(it, ""))
		if err := Replay(ctx, p.f, it.ID, p.sink); err != nil {
			if ctx.Err() != nil {
				return
			}
			p.skipped.Add(1)
			p.say(fmt.Sprintf("could not play what was missed while reconnecting (%s): %v", Describe(it, ""), err))
			continue
		}
		p.played.Add(1)
	}
}

// Stats returns how many transmissions were played and how many were
// skipped (queue full, or the fetch failed).
func (p *AwayPlayer) Stats() (played, skipped uint64) {
	return p.played.Load(), p.skipped.Load()
}

func (p *AwayPlayer) say(line string) {
	if p.cfg.Say != nil {
		p.cfg.Say(line)
	}
}
