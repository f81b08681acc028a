package history

import (
	"context"
	"errors"
	"time"

	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/proto"
)

// ReplayTalker is the talker id under which a Player feeds a replay into a
// playout: no relay session has it (sessions count up from 1).
const ReplayTalker uint32 = 0xFFFFFFF0

// VoiceSink takes voice frames as they would come from the relay, e.g.
// engine.Engine.Voice. It must copy opus if it keeps it and must not block.
type VoiceSink func(h proto.VoiceHeader, opus []byte, arrival time.Time)

// Play feeds a stored transmission into sink as one talker (ReplayTalker),
// each packet at its offset in real time, so that it goes through the same
// jitter buffer, decoder and mixer as live voice. Packets come in batches
// from batches (as client.FetchFunc delivers them) until it is closed; a
// batch that comes late is fed at once (the jitter buffer takes it as
// late voice). The first frame carries the start flag, the last the end
// flag. Play returns when the last packet was fed, or with ctx's error
// when ctx ends first (a live transmission interrupting the replay); the
// playout then ends the replay's talker on its own once its frames ran
// out (at most its jitter buffer's delay later).
func Play(ctx context.Context, batches <-chan []proto.RecPacket, sink VoiceSink) error {
	var (
		t0      time.Time
		seq     uint16
		pending *proto.RecPacket // held back one packet so the last gets the end flag
		first   = true
		timer   *time.Timer
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	feed := func(p proto.RecPacket, last bool) error {
		if t0.IsZero() {
			t0 = time.Now()
		}
		due := t0.Add(time.Duration(p.Offset) * time.Millisecond)
		if d := time.Until(due); d > 0 {
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			select {
			case <-timer.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		ns, err := codec.PacketSamples(p.Opus)
		if err != nil {
			ns = 960
		}
		h := proto.VoiceHeader{Sender: ReplayTalker, Seq: seq, Timestamp: p.Offset * (SampleRate / 1000), Duration: uint16(ns)}
		if first {
			h.Flags |= proto.FlagStart
			first = false
		}
		if last {
			h.Flags |= proto.FlagEnd
		}
		seq++
		sink(h, p.Opus, time.Now())
		return nil
	}
	for {
		var batch []proto.RecPacket
		var ok bool
		select {
		case batch, ok = <-batches:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !ok {
			if pending != nil {
				return feed(*pending, true)
			}
			return nil
		}
		for i := range batch {
			if pending != nil {
				if err := feed(*pending, false); err != nil {
					return err
				}
			}
			pending = &batch[i]
		}
	}
}

// PlayAll is Play for packets already fetched.
func PlayAll(ctx context.Context, packets []proto.RecPacket, sink VoiceSink) error {
	ch := make(chan []proto.RecPacket, 1)
	ch <- packets
	close(ch)
	return Play(ctx, ch, sink)
}

// Fetcher fetches a stored transmission packet batch by packet batch;
// *client.Client implements it.
type Fetcher interface {
	FetchFunc(ctx context.Context, id uint64, fn func([]proto.RecPacket) error) (proto.HistoryItem, error)
}

// Replay fetches transmission id and plays it into sink as it arrives
// (see Play): the replay starts with the first packets, not after the
// last. It returns when the last packet was fed (the sound is then still
// in the playout's jitter buffer), or early with ctx's error (a live
// transmission interrupting) or the fetch's.
func Replay(ctx context.Context, f Fetcher, id uint64, sink VoiceSink) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []proto.RecPacket, 64)
	fetchErr := make(chan error, 1)
	go func() {
		defer close(batches)
		_, err := f.FetchFunc(ctx, id, func(p []proto.RecPacket) error {
			select {
			case batches <- p:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		fetchErr <- err
	}()
	playErr := Play(ctx, batches, sink)
	cancel() // stops the fetch if Play ended first
	ferr := <-fetchErr
	if playErr != nil {
		if ferr != nil && !errors.Is(ferr, context.Canceled) {
			return ferr // the fetch failing is what ended it
		}
		return playErr
	}
	return ferr
}

// Querier lists history; *client.Client implements it.
type Querier interface {
	History(ctx context.Context, q proto.HistoryQuery) ([]proto.HistoryItem, bool, error)
}

// PlayableKinds selects transmissions and pages in a proto.HistoryQuery.
const PlayableKinds = 1<<proto.ItemVoice | 1<<proto.ItemPage

// Latest returns the newest stored transmission of channel, or page, that
// can be played; ok is false when the relay keeps none.
func Latest(ctx context.Context, q Querier, channel string) (it proto.HistoryItem, ok bool, err error) {
	items, _, err := q.History(ctx, proto.HistoryQuery{Kinds: PlayableKinds, Limit: 50})
	if err != nil {
		return proto.HistoryItem{}, false, err
	}
	for _, it := range items { // newest first
		if Playable(it) && (it.Kind == proto.ItemPage || it.Channel == channel) {
			return it, true, nil
		}
	}
	return proto.HistoryItem{}, false, nil
}
