package gateway

import (
	"bytes"
	"encoding/binary"
	"sync"
	"time"

	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/proto"
)

// Binary message kinds and flags (see the package doc).
const (
	binPCM   = 0x01
	binMedia = 0x02
	binOpus  = 0x04 // browser to gateway: one Opus packet (WebCodecs)
	binWAV   = 0x03

	binFlagStart    = 1
	binFlagEnd      = 2
	binFlagPriority = 4

	binHeaderLen = 8
	outFrame     = 960 // 20 ms at 48 kHz: the PCM frame sent to browsers

	// maxWAVSamples bounds one transmission kept for WAV playback (60 s).
	maxWAVSamples = 60 * codec.SampleRate
	// talkerIdle ends a transmission whose end frame was lost.
	talkerIdle = 1500 * time.Millisecond
	// releaseGrace is how long after the relay says a talker stopped the
	// WAV of a transmission without an end frame is sent (frames still in
	// flight may arrive just after the control message).
	releaseGrace = 150 * time.Millisecond
	// talkerForget: a talker silent this long is forgotten (its decoder
	// freed) when the next new talker appears. The relay gives a new
	// sender id to every login, so a channel watched for months would
	// otherwise keep a decoder for every reconnection that ever talked.
	talkerForget = 30 * time.Second
)

// hub decodes the voice of one channel once and fans it out to the browser
// sessions in that channel. Every member's relay session receives the same
// datagrams, so the hub keeps the first copy of each frame and drops the rest.
// Safe for concurrent use.
type hub struct {
	srv *Server
	id  uint16

	mu      sync.Mutex
	members map[*session]struct{} // guarded by mu
	talkers map[uint32]*talker    // guarded by mu
}

// talker is one sender's decoding state; guarded by hub.mu.
type talker struct {
	dec      *codec.Decoder
	last     uint16 // newest sequence number accepted
	window   uint64 // bit i: sequence last-i was accepted
	lastSeen time.Time
	active   bool
	pcm      []int16 // whole transmission, for WAV playback members
	timer    *time.Timer
	priority bool
	released bool // the relay said the talker stopped; the WAV goes out soon
}

func newHub(srv *Server, id uint16) *hub {
	return &hub{srv: srv, id: id, members: map[*session]struct{}{}, talkers: map[uint32]*talker{}}
}

func (h *hub) add(s *session) {
	h.mu.Lock()
	h.members[s] = struct{}{}
	h.mu.Unlock()
}

// remove drops a member and reports whether the hub is now empty.
func (h *hub) remove(s *session) bool {
	h.mu.Lock()
	delete(h.members, s)
	empty := len(h.members) == 0
	if empty {
		for _, t := range h.talkers {
			if t.timer != nil {
				t.timer.Stop()
			}
		}
		h.talkers = map[uint32]*talker{}
	}
	h.mu.Unlock()
	return empty
}

// accept reports whether seq is new for t and records it; gap is the number
// of frames missing just before it (lost, or not yet arrived).
func (t *talker) accept(seq uint16, start bool, now time.Time) (ok bool, gap int) {
	if t.window == 0 || now.Sub(t.lastSeen) > talkerIdle {
		t.last, t.window = seq, 1
		return true, 0
	}
	d := int16(seq - t.last)
	switch {
	case d > 0:
		if d >= 64 {
			t.window = 1
		} else {
			t.window = t.window<<uint(d) | 1
		}
		t.last = seq
		return true, int(d) - 1
	case d > -64:
		// A duplicate (another member's copy) or a frame older than one
		// already played: drop it either way.
		t.window |= uint64(1) << uint(-d)
		return false, 0
	default:
		// Far in the past: a very late copy, or a new sequence space if the
		// talker reconnected (then it starts a transmission).
		if !start {
			return false, 0
		}
		t.last, t.window = seq, 1
		return true, 0
	}
}

// push takes a voice frame received by a member's relay session.
func (h *hub) push(f VoiceFrame) {
	now := time.Now()
	h.mu.Lock()
	t := h.talkers[f.Header.Sender]
	if t == nil {
		dec, err := codec.NewDecoder()
		if err != nil {
			h.mu.Unlock()
			h.srv.log.Error("cannot create an Opus decoder", "err", err)
			return
		}
		h.forgetIdleLocked(now)
		t = &talker{dec: dec}
		h.talkers[f.Header.Sender] = t
	}
	ok, gap := t.accept(f.Header.Seq, f.Header.Flags&proto.FlagStart != 0, now)
	if !ok {
		h.mu.Unlock()
		h.srv.m.voiceDup.Inc()
		return
	}
	t.lastSeen = now
	start := !t.active || f.Header.Flags&proto.FlagStart != 0
	t.active = true
	if start {
		t.released = false
	}
	t.priority = f.Header.Flags&proto.FlagPriority != 0
	end := f.Header.Flags&proto.FlagEnd != 0

	var pcmBuf [4 * codec.MaxPacketSamples]int16
	n := 0
	if dur := int(f.Header.Duration); t.active && !start && gap > 0 && gap <= 3 && dur > 0 && dur%120 == 0 && dur <= codec.MaxPacketSamples {
		// Conceal lost frames: PLC for all but the last, which the new
		// frame's in-band FEC may recover.
		h.srv.m.concealed.Add(float64(gap))
		for i := 0; i < gap-1; i++ {
			k, _ := t.dec.DecodePLC(pcmBuf[n : n+dur])
			n += k
		}
		k, _ := t.dec.DecodeFEC(f.Opus, pcmBuf[n:n+dur])
		n += k
	}
	k, err := t.dec.Decode(f.Opus, pcmBuf[n:n+codec.MaxPacketSamples])
	if err != nil {
		h.srv.m.decodeErrors.Inc()
		k = 0
	}
	pcm := pcmBuf[:n+k]
	h.srv.m.decoded.Inc()

	var flags byte
	if t.priority {
		flags |= binFlagPriority
	}
	var msgs [][]byte
	for off := 0; off < len(pcm) || (off == 0 && (start || end)); off += outFrame {
		chunk := pcm[off:min(off+outFrame, len(pcm))]
		fl := flags
		if off == 0 && start {
			fl |= binFlagStart
		}
		if end && off+outFrame >= len(pcm) {
			fl |= binFlagEnd
		}
		msgs = append(msgs, pcmMessage(binPCM, fl, f.Header.Sender, chunk))
		if len(pcm) == 0 {
			break
		}
	}

	members := make([]*session, 0, len(h.members))
	wantWAV := false
	for s := range h.members {
		members = append(members, s)
		if s.playback == "wav" {
			wantWAV = true
		}
	}
	var wavMsg []byte
	if wantWAV {
		if start {
			t.pcm = t.pcm[:0]
		}
		if len(t.pcm)+len(pcm) <= maxWAVSamples {
			t.pcm = append(t.pcm, pcm...)
		}
		if end {
			wavMsg = h.wavMessage(f.Header.Sender, t)
		} else {
			h.armIdle(f.Header.Sender, t)
		}
	}
	if end {
		t.active = false
	}
	h.mu.Unlock()

	for _, s := range members {
		if s.transmitting.Load() || s.sessionID == f.Header.Sender {
			continue
		}
		if s.playback == "wav" {
			if wavMsg != nil {
				s.queueAudio(wavMsg)
			}
			continue
		}
		for _, m := range msgs {
			s.queueAudio(m)
		}
	}
}

// armIdle makes sure a WAV transmission is delivered even if its end frame is lost.
func (h *hub) armIdle(sender uint32, t *talker) {
	if t.timer != nil {
		t.timer.Reset(talkerIdle)
		return
	}
	t.timer = time.AfterFunc(talkerIdle, func() {
		h.mu.Lock()
		var msg []byte
		if t.active && (t.released || time.Since(t.lastSeen) >= talkerIdle/2) {
			t.active = false
			msg = h.wavMessage(sender, t)
		}
		var members []*session
		for s := range h.members {
			if s.playback == "wav" {
				members = append(members, s)
			}
		}
		h.mu.Unlock()
		if msg != nil {
			for _, s := range members {
				if !s.transmitting.Load() && s.sessionID != sender {
					s.queueAudio(msg)
				}
			}
		}
	})
}

// talkerOff is the relay saying a talker stopped. The end frame usually
// comes first; when it was lost (the relay may take the floor release before
// the last datagram), WAV listeners get the transmission after releaseGrace
// instead of talkerIdle.
func (h *hub) talkerOff(sender uint32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.talkers[sender]
	if t == nil || !t.active || t.timer == nil {
		return
	}
	t.released = true
	t.timer.Reset(releaseGrace)
}

// forgetIdleLocked drops talkers silent for talkerForget; called with h.mu
// held.
func (h *hub) forgetIdleLocked(now time.Time) {
	for id, t := range h.talkers {
		if !t.active && now.Sub(t.lastSeen) >= talkerForget {
			if t.timer != nil {
				t.timer.Stop()
			}
			delete(h.talkers, id)
		}
	}
}

// wavMessage encodes t's transmission; called with h.mu held.
func (h *hub) wavMessage(sender uint32, t *talker) []byte {
	if len(t.pcm) == 0 {
		return nil
	}
	var buf bytes.Buffer
	hdr := make([]byte, binHeaderLen)
	hdr[0] = binWAV
	binary.LittleEndian.PutUint32(hdr[4:], sender)
	buf.Write(hdr)
	if err := wav.Encode(&buf, codec.SampleRate, 1, t.pcm); err != nil {
		return nil
	}
	t.pcm = nil // up to 60 s of audio: not kept between transmissions
	return buf.Bytes()
}

// pcmMessage builds a binary PCM message.
func pcmMessage(kind, flags byte, talker uint32, pcm []int16) []byte {
	b := make([]byte, binHeaderLen+2*len(pcm))
	b[0], b[1] = kind, flags
	binary.LittleEndian.PutUint32(b[4:], talker)
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[binHeaderLen+2*i:], uint16(v))
	}
	return b
}
