package gateway

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/playout"
	"github.com/hark-intercom/hark/jitter"
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
	// talkerIdle: after this long without a frame from a talker, any
	// sequence number starts its stream afresh.
	talkerIdle = 1500 * time.Millisecond
	// releaseGrace is how long after a transmission's end frame, or the
	// relay saying the talker stopped, WAV listeners get it (frames still
	// in flight may arrive just after).
	releaseGrace = 150 * time.Millisecond
	// talkerForget: a talker silent this long is forgotten (its decoder
	// freed) when the next new talker appears. The relay gives a new
	// sender id to every login, so a channel watched for months would
	// otherwise keep a decoder for every reconnection that ever talked.
	talkerForget = 30 * time.Second
)

// hub decodes the voice of one channel once and fans it out to the browser
// sessions in that channel. Every member's relay session receives the same
// datagrams, so the hub keeps the first copy of each frame and drops the
// rest. The frames it keeps go to a playout.Mixer, the jitter buffers and
// playout of the talk client (see live.go), whose tick loop sends each
// talker's audio to the members. Safe for concurrent use.
type hub struct {
	srv *Server
	id  uint16
	mix *playout.Mixer

	// wake (capacity 1) tells the tick loop that a frame came; quit is
	// closed when the hub is empty and done.
	wake chan struct{}
	quit chan struct{}

	mu         sync.Mutex
	members    map[*session]struct{} // guarded by mu
	talkers    map[uint32]*talker    // guarded by mu
	wavMembers int                   // guarded by mu: members with playback "wav"
	running    bool                  // guarded by mu: the tick loop was started
	closed     bool                  // guarded by mu: quit is closed

	// Used only by the tick loop (see live.go):
	loop liveLoop
}

// talker is one sender's state at the hub; guarded by hub.mu.
type talker struct {
	last     uint16 // newest sequence number accepted
	window   uint64 // bit i: sequence last-i was accepted
	lastSeen time.Time
	priority bool // the newest frame asked for priority (a page)
	active   bool // a transmission is under way (no end frame since its last frame)
	released bool // the relay said the talker stopped
	// streaming: the members got the start of the talker's audio and not
	// its end yet; pend is audio of the stream not sent yet (less than
	// outFrame) and pendFlags the flags it goes with (set and used by the
	// tick loop).
	streaming bool
	pend      []int16
	pendFlags byte
	// offDone are talkerOff's callbacks waiting for the stream's end.
	offDone []func()
	// For WAV members (see wavout.go): the transmission's frames so far
	// and their samples, where the last one sent as WAV ended, and the
	// timer that sends it after releaseGrace.
	wav        []VoiceFrame
	wavSamples int
	wavEnd     uint32
	wavEndSet  bool
	wavTimer   *time.Timer
}

func newHub(srv *Server, id uint16) *hub {
	return &hub{srv: srv, id: id, members: map[*session]struct{}{}, talkers: map[uint32]*talker{},
		mix:  playout.New(playout.Config{FrameSamples: liveTickSamples, IdleTimeout: talkerForget, Logger: srv.log}),
		wake: make(chan struct{}, 1), quit: make(chan struct{})}
}

func (h *hub) add(s *session) {
	h.mu.Lock()
	if _, ok := h.members[s]; !ok && s.playback == "wav" {
		h.wavMembers++
	}
	h.members[s] = struct{}{}
	h.mu.Unlock()
}

// remove drops a member and reports whether the hub is now empty; an
// empty hub is done (its tick loop ends).
func (h *hub) remove(s *session) bool {
	h.mu.Lock()
	if _, ok := h.members[s]; ok && s.playback == "wav" {
		h.wavMembers--
	}
	delete(h.members, s)
	empty := len(h.members) == 0
	var waiting []func()
	if empty {
		for _, t := range h.talkers {
			if t.wavTimer != nil {
				t.wavTimer.Stop()
			}
			waiting = append(waiting, t.offDone...)
		}
		h.talkers = map[uint32]*talker{}
		if !h.closed {
			h.closed = true
			close(h.quit)
		}
	}
	h.mu.Unlock()
	for _, f := range waiting {
		f()
	}
	return empty
}

// accept reports whether seq is new for t and records it.
func (t *talker) accept(seq uint16, start bool, now time.Time) bool {
	if t.window == 0 || now.Sub(t.lastSeen) > talkerIdle {
		t.last, t.window = seq, 1
		return true
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
		return true
	case d > -64:
		// A duplicate (another member's copy), or a frame that came
		// after a later one: new if its bit is not set (the jitter
		// buffer puts it in its place or counts it late).
		bit := uint64(1) << uint(-d)
		if t.window&bit != 0 {
			return false
		}
		t.window |= bit
		return true
	default:
		// Far in the past: a very late copy, or a new sequence space if the
		// talker reconnected (then it starts a transmission).
		if !start {
			return false
		}
		t.last, t.window = seq, 1
		return true
	}
}

// push takes a voice frame received by a member's relay session.
func (h *hub) push(f VoiceFrame) {
	now := time.Now()
	arrival := f.Arrival
	if arrival.IsZero() {
		arrival = now
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	t := h.talkers[f.Header.Sender]
	if t == nil {
		h.forgetIdleLocked(now)
		t = &talker{}
		h.talkers[f.Header.Sender] = t
	}
	start := f.Header.Flags&proto.FlagStart != 0
	if !t.accept(f.Header.Seq, start, now) {
		h.mu.Unlock()
		h.srv.m.voiceDup.Inc()
		return
	}
	t.lastSeen = now
	if start {
		t.released = false
	}
	t.priority = f.Header.Flags&proto.FlagPriority != 0
	end := f.Header.Flags&proto.FlagEnd != 0
	t.active = !end
	if h.wavMembers > 0 {
		h.keepWAVLocked(f, t, start, end)
	}
	h.mix.Push(f.Header.Sender, jitter.Packet{
		Seq: f.Header.Seq, Timestamp: f.Header.Timestamp, Duration: uint32(f.Header.Duration),
		Start: start, End: end,
		Payload: f.Opus, Arrival: arrival,
	})
	if !h.running {
		h.running = true
		go h.run()
	}
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// talkerOff is the relay saying a talker stopped. The end frame usually
// comes first; when it was lost (the relay may take the floor release before
// the last datagram), the stream ends as soon as the talker's audio runs
// out instead of after the jitter buffer gives up waiting for more.
//
// done (may be nil) is called once the members have been sent the end of
// the talker's stream, at once if none is under way: a session tells its
// page that the talker stopped from it, since the page plays out what it
// has and ends the stream when told, and the hub's jitter buffer still
// holds the last of the audio when the relay says so. It is called
// without h.mu held, from the tick loop or the caller's goroutine.
func (h *hub) talkerOff(sender uint32, done func()) {
	h.mu.Lock()
	t := h.talkers[sender]
	if t != nil {
		t.released = true
		if len(t.wav) > 0 {
			h.armWAVLocked(sender, t)
		}
	}
	wait := t != nil && (t.streaming || t.active) && !h.closed && done != nil
	if wait {
		t.offDone = append(t.offDone, done)
	}
	h.mu.Unlock()
	if !wait && done != nil {
		done()
	}
}

// keepWAVLocked keeps a frame for WAV members; called with h.mu held.
func (h *hub) keepWAVLocked(f VoiceFrame, t *talker, start, end bool) {
	if start {
		if len(t.wav) > 0 {
			// The previous transmission's end was lost.
			h.flushWAVLocked(f.Header.Sender, t)
		}
		t.wavEndSet = false // a new transmission may number its samples anew
	}
	if t.wavEndSet && int32(f.Header.Timestamp-t.wavEnd) < 0 {
		return // a late frame of a transmission already sent
	}
	if d := int(f.Header.Duration); t.wavSamples+d <= maxWAVSamples {
		t.wav = append(t.wav, f)
		t.wavSamples += d
	}
	if end {
		h.armWAVLocked(f.Header.Sender, t)
	}
}

// armWAVLocked sends t's transmission to WAV members after releaseGrace;
// called with h.mu held.
func (h *hub) armWAVLocked(sender uint32, t *talker) {
	if t.wavTimer != nil {
		t.wavTimer.Reset(releaseGrace)
		return
	}
	t.wavTimer = time.AfterFunc(releaseGrace, func() {
		h.mu.Lock()
		if h.talkers[sender] == t && len(t.wav) > 0 {
			h.flushWAVLocked(sender, t)
		}
		h.mu.Unlock()
	})
}

// flushWAVLocked hands t's transmission so far to the WAV members; called
// with h.mu held.
func (h *hub) flushWAVLocked(sender uint32, t *talker) {
	frames := t.wav
	t.wav, t.wavSamples = nil, 0
	for i, f := range frames {
		e := f.Header.Timestamp + uint32(f.Header.Duration)
		if i == 0 && !t.wavEndSet || int32(e-t.wavEnd) > 0 {
			t.wavEnd, t.wavEndSet = e, true
		}
	}
	var members []*session
	for s := range h.members {
		if s.playback == "wav" {
			members = append(members, s)
		}
	}
	if len(members) > 0 && len(frames) > 0 {
		go h.sendWAV(sender, frames, members)
	}
}

// forgetIdleLocked drops talkers silent for talkerForget; called with h.mu
// held. (The mixer forgets their decoders after as long.)
func (h *hub) forgetIdleLocked(now time.Time) {
	for id, t := range h.talkers {
		if !t.active && !t.streaming && now.Sub(t.lastSeen) >= talkerForget {
			if t.wavTimer != nil {
				t.wavTimer.Stop()
			}
			delete(h.talkers, id)
		}
	}
}

// pcmMessage builds a binary PCM message of channel (the voice id of the
// channel the audio comes from; proto.WhisperChannel for a call, 0 for a
// replay).
func pcmMessage(kind, flags byte, channel uint16, talker uint32, pcm []int16) []byte {
	b := make([]byte, binHeaderLen+2*len(pcm))
	b[0], b[1] = kind, flags
	binary.LittleEndian.PutUint16(b[2:], channel)
	binary.LittleEndian.PutUint32(b[4:], talker)
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[binHeaderLen+2*i:], uint16(v))
	}
	return b
}
