package gateway

import (
	"time"

	"github.com/hark-intercom/hark/internal/playout"
)

// The hub's live voice: the frames a hub keeps go to a playout.Mixer (one
// jitter buffer, Opus decoder and time-stretching playout per talker, the
// same as the talk client's), and a tick loop per hub takes each talker's
// audio out of it every 20 ms and sends it to the members in frames of 20
// ms (outFrame), one stream per talker (flagged start, end and priority);
// WAV members get each transmission whole when it is over (wavout.go). So
// a gateway far from its relay smooths out the network's jitter, losses
// and reordering as a talk client does, and browsers receive audio at an
// even pace; their own small buffer only has to cover the websocket.
//
// The loop runs while any talker has audio to play and sleeps otherwise
// (push wakes it); it ends when the hub is empty.

const (
	// liveTick is the loop's period, liveTickSamples of audio per talker:
	// one frame for the browsers. (talk ticks every 10 ms. With 10 ms
	// ticks here, on a machine at load 12-20 the loop's irregular wake-ups
	// made the jitter buffers conceal and resume from late packets by
	// turns, hundreds of times a minute; a consumer whose tick is as long
	// as a packet neither resumes nor squeezes unless the next packet is
	// there, which keeps the gateway steady at up to 10 ms more delay.)
	liveTickSamples = outFrame
	liveTick        = liveTickSamples * time.Second / 48000
	// liveCatchUp: a loop that fell behind (a busy machine) runs the
	// ticks it missed at once, so the audio keeps its pace, for up to
	// this much; beyond, it starts the schedule again from now (as the
	// playout.Clock of its ticks jumps to the wall clock).
	liveCatchUp = 250 * time.Millisecond
)

// liveLoop is the tick loop's own state; used only by it.
type liveLoop struct {
	clock   playout.Clock // the time handed to the jitter buffers
	members []*session    // the PCM members
	msgs    [][]byte      // this tick's messages
	senders []uint32      // the talker of each message
	done    []func()      // talkerOff callbacks of the streams that ended
	stats   playout.Stats // the mixer's counters at the last tick, for the metrics
}

// run is the hub's tick loop.
func (h *hub) run() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	next := time.Now()
	for {
		wall := time.Now()
		if wall.Sub(next) > liveCatchUp {
			next = wall
		}
		idle := h.tick(h.loop.clock.Tick(wall, liveTick))
		if idle {
			select {
			case <-h.wake:
			case <-h.quit:
				return
			case <-h.srv.ctx.Done():
				return
			}
			next = time.Now()
			h.loop.clock = playout.Clock{} // starts again from the wall clock
			continue
		}
		next = next.Add(liveTick)
		if wait := time.Until(next); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-h.quit:
				return
			case <-h.srv.ctx.Done():
				return
			}
		}
	}
}

// tick takes liveTickSamples of every talker's audio out of the mixer and
// sends it to the members once it makes a frame (or the stream ends or
// pauses). It reports whether every talker is idle.
func (h *hub) tick(now time.Time) (idle bool) {
	frames := h.mix.TickTalkers(now)
	l := &h.loop
	idle = true
	h.mu.Lock()
	l.members = l.members[:0]
	for s := range h.members {
		if s.playback != "wav" {
			l.members = append(l.members, s)
		}
	}
	l.msgs = l.msgs[:0]
	l.senders = l.senders[:0]
	l.done = l.done[:0]
	for _, f := range frames {
		if !f.Idle {
			idle = false
		}
		t := h.talkers[f.Talker]
		if t == nil {
			continue // forgotten, or the hub emptied
		}
		var flags byte
		if t.priority {
			flags |= binFlagPriority
		}
		end, flush := false, false
		switch {
		case f.Active:
			if !t.streaming {
				t.streaming = true
				t.pendFlags |= binFlagStart
				t.pend = t.pend[:0]
			}
			t.pend = append(t.pend, f.PCM...)
			end = f.Idle
		case t.streaming && (f.Idle || t.released && h.drained(f.Talker)):
			// The talker's audio ran out: the transmission is over (its
			// end packet played, the buffer gave up waiting, or the relay
			// said the talker stopped and nothing is left to play).
			end = true
		case t.streaming && len(t.pend) > 0:
			flush = true // a silence in the stream: send what waits
		case !t.streaming && f.Idle && len(t.offDone) > 0:
			// Nothing of the talker's last frames was played.
			l.done = append(l.done, t.offDone...)
			t.offDone = nil
			continue
		default:
			continue
		}
		if end {
			t.streaming = false
			t.pendFlags |= binFlagEnd
			l.done = append(l.done, t.offDone...)
			t.offDone = nil
			if len(t.wav) > 0 {
				h.flushWAVLocked(f.Talker, t)
			}
		} else if len(t.pend) < outFrame && !flush {
			continue
		}
		if len(l.members) > 0 {
			l.msgs = append(l.msgs, pcmMessage(binPCM, flags|t.pendFlags, h.id, f.Talker, t.pend))
			l.senders = append(l.senders, f.Talker)
		}
		t.pend, t.pendFlags = t.pend[:0], 0
	}
	h.mu.Unlock()

	for i, msg := range l.msgs {
		for _, s := range l.members {
			if !s.transmitting.Load() && s.sessionID != l.senders[i] {
				s.queueAudio(msg)
			}
		}
	}
	for i, f := range l.done {
		f()
		l.done[i] = nil
	}
	if len(frames) > 0 {
		h.countStats()
	}
	return idle
}

// drained reports whether the talker's jitter buffer holds no packets.
func (h *hub) drained(talker uint32) bool {
	st, ok := h.mix.TalkerStats(talker)
	return !ok || st.BufferedPackets == 0
}

// countStats adds what the mixer did since the last tick to the metrics.
func (h *hub) countStats() {
	st := h.mix.Stats()
	prev := &h.loop.stats
	j, pj := &st.Jitter, &prev.Jitter
	if d := j.Played - pj.Played; d > 0 {
		h.srv.m.decoded.Add(float64(d))
	}
	if d := st.DecodeErrors - prev.DecodeErrors; d > 0 {
		h.srv.m.decodeErrors.Add(float64(d))
	}
	// Concealment comes in pieces of any length: counted in 20 ms frames.
	if d := float64(j.ConcealedSamples-pj.ConcealedSamples)/outFrame + float64(j.FECRecovered-pj.FECRecovered); d > 0 {
		h.srv.m.concealed.Add(d)
	}
	*prev = st
}
