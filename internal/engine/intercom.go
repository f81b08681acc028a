package engine

import (
	"context"
	"maps"

	"github.com/hark-intercom/hark/proto"
)

// Monitored channels and calls (proto.Monitor, proto.WhisperStart).
//
// Voice of the monitored channels reaches Voice like the joined channel's;
// the mixer mixes every talker, and each talker's volume is the person's
// (SetVolume) times the channel's (SetChannelVolume): the engine notes the
// channel of each talker's frames as they come. A call to this station
// plays CueCall when it starts and is heard at full volume whatever its
// caller's channel's volume. PressCall holds a call to one user.

// CallFloor is a Floor that can also call one user; SwitchFloor is one.
type CallFloor interface {
	Whisper(ctx context.Context, to string) (Transmitter, error)
}

// PressCall is Press for a call: while pressed the microphone is heard by
// the user named to alone (see client.Client.Whisper). A refusal (the user
// is not online, someone else calls them) sounds the busy tone; the reason
// is logged and reaches the client's events. It never blocks.
func (e *Engine) PressCall(to string, pressed bool) {
	if pressed {
		e.callTo.Store(&to)
	}
	e.pressAs(pressCall, pressed)
}

// SetChannelVolume sets the volume of everyone heard in a channel, by
// name: 1 as received, 0 silent, up to playout.MaxGain. It applies on top
// of each person's volume, to the joined channel and to monitored ones.
func (e *Engine) SetChannelVolume(name string, gain float64) {
	e.mu.Lock()
	setGain(&e.chanVolumes, name, gain)
	e.rebuildChanGainsLocked()
	e.mu.Unlock()
}

// ChannelVolume returns the volume SetChannelVolume set for a channel (1
// if none).
func (e *Engine) ChannelVolume(name string) float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return gainOf(e.chanVolumes, name)
}

// noteChannels records the voice ids of channels by name, from Joined and
// Monitoring. Called with e.mu held.
func (e *Engine) noteChannelsLocked(chs ...proto.ChannelInfo) {
	if e.chanIDs == nil {
		e.chanIDs = map[string]uint16{}
	}
	for _, ch := range chs {
		e.chanIDs[ch.Name] = ch.ID
	}
	e.rebuildChanGainsLocked()
}

// rebuildChanGainsLocked maps channel volumes by name to voice ids.
// Called with e.mu held.
func (e *Engine) rebuildChanGainsLocked() {
	if len(e.chanVolumes) == 0 {
		e.chanGains.Store(nil)
		return
	}
	g := map[uint16]float32{}
	for name, v := range e.chanVolumes {
		if id, ok := e.chanIDs[name]; ok {
			g[id] = v
		}
	}
	e.chanGains.Store(&g)
}

// noteTalkerChannel remembers the channel of a talker's frames (datagram
// goroutine). The map is replaced only when a talker's channel changes,
// so a frame costs one lookup and no allocation.
func (e *Engine) noteTalkerChannel(talker uint32, ch uint16) {
	if m := e.talkerChan.Load(); m != nil {
		if c, ok := (*m)[talker]; ok && c == ch {
			return
		}
	}
	e.talkerMu.Lock()
	defer e.talkerMu.Unlock()
	var m map[uint32]uint16
	if old := e.talkerChan.Load(); old != nil {
		if len(*old) > 4096 { // talkers come and go: do not grow for ever
			m = map[uint32]uint16{}
		} else {
			m = maps.Clone(*old)
		}
	} else {
		m = map[uint32]uint16{}
	}
	m[talker] = ch
	e.talkerChan.Store(&m)
}

// channelGain is the volume of the channel a talker's frames come from
// (audio thread).
func (e *Engine) channelGain(talker uint32) float32 {
	g := e.chanGains.Load()
	if g == nil {
		return 1
	}
	m := e.talkerChan.Load()
	if m == nil {
		return 1
	}
	ch, ok := (*m)[talker]
	if !ok {
		return 1
	}
	if v, ok := (*g)[ch]; ok {
		return v
	}
	return 1
}
