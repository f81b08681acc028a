package gateway

import (
	"math"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/proto"
)

// Browser Opus that does not fit a datagram, and MediaRecorder output that
// arrives in bursts. Everything here is owned by the session's loop
// goroutine.

// fitOpus hands emit the Opus packet pkt (samples long, first sample at
// ts) in packets a voice datagram can carry (proto.MaxVoicePayload). A
// packet that fits goes as it is. A larger one of several frames (Chromium's
// MediaRecorder makes 60 ms packets of 1225–1286 bytes) is split into one
// packet per frame without re-encoding (codec.SplitFrames, RFC 6716 §3.2);
// a frame that is still too large is decoded and encoded again at the
// gateway's bitrate. It returns false, having counted and told the page,
// if audio was lost (a packet that is not Opus).
func (s *session) fitOpus(tx *transmission, pkt []byte, samples int, ts int64, emit func(pkt []byte, samples int, ts int64)) bool {
	if len(pkt) <= proto.MaxVoicePayload {
		emit(pkt, samples, ts)
		return true
	}
	frames, per, err := codec.SplitFrames(pkt, nil)
	if err != nil {
		s.lostAudio(tx, "bad_opus", "an audio packet was not valid Opus")
		return false
	}
	if len(frames) > 1 {
		s.srv.m.voiceRepacked.WithLabelValues("split").Inc()
		if !s.splitLogged {
			s.splitLogged = true
			s.log.Info("the browser sends Opus packets too large for a datagram: splitting them into one packet per frame (no re-encoding)",
				"bytes", len(pkt), "frames", len(frames), "limit", proto.MaxVoicePayload)
		}
	}
	ok := true
	for i, f := range frames {
		fts := ts + int64(i*per)
		if len(f) <= proto.MaxVoicePayload {
			emit(f, per, fts)
			continue
		}
		if !s.reencode(tx, f, fts, emit) {
			ok = false
		}
	}
	return ok
}

// reencode decodes one frame too large for a datagram and encodes it again
// in 20 ms packets at the gateway's bitrate. The decoder is the
// transmission's own (it keeps the state of earlier frames it decoded).
func (s *session) reencode(tx *transmission, frame []byte, ts int64, emit func([]byte, int, int64)) bool {
	if tx.dec == nil {
		d, err := codec.NewDecoder()
		if err != nil {
			s.lostAudio(tx, "reencode", "the gateway could not re-encode audio")
			return false
		}
		tx.dec = d
	}
	pcm := make([]int16, codec.MaxPacketSamples)
	n, err := tx.dec.Decode(frame, pcm)
	if err != nil {
		s.lostAudio(tx, "bad_opus", "an audio packet was not valid Opus")
		return false
	}
	enc, err := s.encoder()
	if err != nil {
		s.lostAudio(tx, "reencode", "the gateway could not re-encode audio")
		return false
	}
	s.srv.m.voiceRepacked.WithLabelValues("reencode").Inc()
	if !s.reencodeLogged {
		s.reencodeLogged = true
		s.log.Info("the browser sends Opus frames too large for a datagram: re-encoding them at the gateway's bitrate",
			"bytes", len(frame), "limit", proto.MaxVoicePayload)
	}
	// The frame's samples in 20 ms packets; a rest (a 10 ms frame) waits
	// for the next one, and is sent padded at the end of the transmission.
	tx.rePCM = append(tx.rePCM, pcm[:n]...)
	var out [codec.MaxPacketBytes]byte
	start := ts - int64(len(tx.rePCM)-n)
	for len(tx.rePCM) >= upFrame {
		p, err := enc.Encode(tx.rePCM[:upFrame], out[:0])
		tx.rePCM = tx.rePCM[upFrame:]
		if err != nil {
			s.lostAudio(tx, "reencode", "the gateway could not re-encode audio")
			return false
		}
		emit(p, upFrame, start)
		start += upFrame
	}
	return true
}

// lostAudio counts audio of the browser's that could not be sent, logs it
// once per session and tells the page once per transmission.
func (s *session) lostAudio(tx *transmission, reason, what string) {
	s.srv.m.voiceDropped.WithLabelValues(reason).Inc()
	if !s.lossLogged {
		s.lossLogged = true
		s.log.Warn("audio from the browser was dropped", "reason", reason, "what", what)
	}
	if !tx.lossTold {
		tx.lossTold = true
		s.sendError("audio", "Some of your audio was not sent: "+what+". Try another browser, or choose \"live PCM\" in the menu.")
	}
}

// Pacing of MediaRecorder output. Browsers hand the recording over in
// bursts (Firefox an Ogg page of ~280 ms at once, Chromium a blob per
// timeslice): forwarded as they come, listeners' jitter buffers take the
// bursts for network jitter, conceal the gaps between them and grow. The
// pacer sends each packet when its own timestamp says it is due on a clock
// set by the first packet's arrival: a burst goes out spread over the time
// it holds, a packet that comes late (after a stall of the browser) at
// once, and the clock keeps its place, so a stall adds no delay to what
// follows.
//
// The clock follows the browser's: every paceWindow the pacer looks at
// the packets that arrived. When even the least late of them came more than
// paceSlack after its time, the browser runs behind the clock (the first
// packet came early, or a stall left it behind), and the clock moves back
// to it. When every one of
// them found audio queued ahead of it for more than paceSlack (a standing
// queue, not the spread of a burst, which empties before the next one: a
// recorder that started with a backlog), the clock moves forward by half
// of that, so the backlog drains at a rate listeners follow.
const (
	paceWindow = 250 * time.Millisecond
	paceSlack  = 20 * time.Millisecond
	// paceJump is how far a packet's timestamp may be from following the
	// one queued before it: beyond, it is put right after it.
	paceJump = 200 * time.Millisecond
	// paceMaxQueue bounds the audio waiting to be paced (about 160 kB at
	// 128 kbit/s): a browser that sends more faster than real time loses
	// its oldest audio, counted and told. A packet this far off the clock
	// with nothing queued (a long pause, a jump of the timestamps) starts
	// the clock again.
	paceMaxQueue = 10 * time.Second
)

// pacedPacket is a packet waiting for its time.
type pacedPacket struct {
	opus    []byte
	samples int
	ts      int64 // first sample, 48 kHz, on the browser's clock
}

// pacer releases packets at the pace of their timestamps. The zero value
// is ready; it is owned by the session's loop.
type pacer struct {
	q      []pacedPacket
	queued int       // samples in q
	t0     time.Time // wall time at which timestamp ts0 is due
	ts0    int64
	on     bool // t0 and ts0 are set

	winStart time.Time     // start of the current paceWindow
	standMin time.Duration // smallest wait ahead of an arriving packet in the window
	lateMin  time.Duration // smallest lateness of an arriving packet in the window
}

// due returns the wall time packet p is due.
func (p *pacer) due(pk *pacedPacket) time.Time {
	return p.t0.Add(durationOf(pk.ts - p.ts0))
}

// durationOf is the duration of n samples at 48 kHz (clamped to ±50
// hours, so that absurd timestamps cannot overflow).
func durationOf[T int | int64](n T) time.Duration {
	const limit = 50 * 3600 * codec.SampleRate
	return time.Duration(min(max(int64(n), -limit), limit)) * time.Second / codec.SampleRate
}

// samplesOf is the number of 48 kHz samples in d.
func samplesOf(d time.Duration) int64 { return int64(d) * codec.SampleRate / int64(time.Second) }

// push queues a packet that arrived at now; it returns how many samples
// of the oldest audio were dropped to keep the queue bounded.
func (p *pacer) push(pk pacedPacket, now time.Time) (dropped int) {
	if n := len(p.q); n > 0 {
		// While packets wait, one whose timestamp does not follow the
		// last (a jump either way) is put right after it.
		last := p.q[n-1]
		if end := last.ts + int64(last.samples); pk.ts < last.ts || pk.ts > end+samplesOf(paceJump) {
			pk.ts = end
		}
	}
	if off := now.Sub(p.due(&pk)); !p.on || len(p.q) == 0 && (off > paceMaxQueue || off < -paceMaxQueue) {
		// The first packet, or one far off the clock with nothing
		// queued: it is due now.
		p.t0, p.ts0, p.on = now, pk.ts, true
		p.winStart, p.standMin, p.lateMin = now, math.MaxInt64, math.MaxInt64
	} else {
		stand := time.Duration(0) // how long the audio queued ahead still waits
		if n := len(p.q); n > 0 {
			last := &p.q[n-1]
			stand = max(p.due(last).Add(durationOf(last.samples)).Sub(now), 0)
		}
		p.standMin = min(p.standMin, stand)
		p.lateMin = min(p.lateMin, now.Sub(p.due(&pk)))
		if now.Sub(p.winStart) >= paceWindow {
			switch {
			case p.lateMin > paceSlack:
				p.t0 = p.t0.Add(p.lateMin)
			case p.standMin > paceSlack:
				p.t0 = p.t0.Add(-(p.standMin - paceSlack) / 2)
			}
			p.winStart, p.standMin, p.lateMin = now, math.MaxInt64, math.MaxInt64
		}
	}
	p.q = append(p.q, pk)
	p.queued += pk.samples
	for p.queued > int(samplesOf(paceMaxQueue)) && len(p.q) > 1 {
		dropped += p.q[0].samples
		p.queued -= p.q[0].samples
		p.q = p.q[1:]
	}
	return dropped
}

// release hands emit every packet due at now, in order.
func (p *pacer) release(now time.Time, emit func(opus []byte, samples int)) {
	for len(p.q) > 0 && !p.due(&p.q[0]).After(now) {
		pk := p.q[0]
		p.q[0] = pacedPacket{}
		p.q = p.q[1:]
		p.queued -= pk.samples
		emit(pk.opus, pk.samples)
	}
	if len(p.q) == 0 {
		p.q = nil
	}
}

// flush hands emit every queued packet at once (the transmission ends
// early: a channel change, a lost relay).
func (p *pacer) flush(emit func(opus []byte, samples int)) {
	for _, pk := range p.q {
		emit(pk.opus, pk.samples)
	}
	p.q, p.queued = nil, 0
}

// next returns when the next packet is due; ok is false when none waits.
func (p *pacer) next() (time.Time, bool) {
	if len(p.q) == 0 {
		return time.Time{}, false
	}
	return p.due(&p.q[0]), true
}

// pace queues a media packet of tx for its time and sends what is due.
func (s *session) pace(tx *transmission, opus []byte, samples int, ts int64) {
	now := time.Now()
	if n := tx.pace.push(pacedPacket{opus: append([]byte(nil), opus...), samples: samples, ts: ts}, now); n > 0 {
		s.lostAudio(tx, "pacing", "it arrived faster than real time")
	}
	s.paceTick(now)
}

// paceTick sends the current transmission's packets that are due, and ends
// a released transmission once its last packet is out.
func (s *session) paceTick(now time.Time) {
	tx := s.tx
	if tx == nil {
		return
	}
	tx.pace.release(now, func(opus []byte, samples int) { s.voiceOut(tx, opus, samples) })
	if s.tx == tx && tx.ended && len(tx.pace.q) == 0 {
		s.releaseTx(tx)
	}
}

// tickWait returns how long the loop may wait before calling tick: the
// pacing of a clip (every 20 ms) or of media packets (until the next is
// due). ok is false when nothing is paced.
func (s *session) tickWait(now time.Time) (time.Duration, bool) {
	tx := s.tx
	if tx == nil {
		return 0, false
	}
	if tx.format == "clip" && s.floor.State() == client.FloorTalking {
		return 20 * time.Millisecond, true
	}
	if at, ok := tx.pace.next(); ok {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// tick runs the pacing that tickWait asked for.
func (s *session) tick(now time.Time) {
	s.clipTick(now)
	s.paceTick(now)
}
