package engine

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audio"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/tones"
	"github.com/hark-intercom/hark/proto"
)

// Whisper makes fakeFloor a CallFloor: calls take answers from calls.
func (f *fakeFloor) Whisper(ctx context.Context, to string) (Transmitter, error) {
	f.called <- to
	select {
	case a := <-f.calls:
		return a()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestChannelVolumes: a talker's volume is the channel's times the
// person's, by the channel of the talker's frames; a call is not turned
// down with the caller's channel.
func TestChannelVolumes(t *testing.T) {
	h := start(t, nil)
	h.e.Event(client.Event{Msg: &proto.Joined{ChannelInfo: proto.ChannelInfo{Name: "lobby", ID: 1}}})
	h.e.Event(client.Event{Msg: &proto.Monitoring{Channels: []proto.ChannelInfo{{Name: "ops", ID: 2}, {Name: "dock", ID: 3}}}})
	h.e.Event(client.Event{Msg: &proto.Presence{Users: []proto.UserInfo{
		{Session: 7, Name: "me", Channel: "lobby"}, {Session: 3, Name: "otto", Channel: "ops"}, {Session: 4, Name: "dora", Channel: "dock"}}}})
	pkt := []byte{0xF8, 0xFF, 0xFE}
	now := time.Now()
	h.e.Voice(proto.VoiceHeader{Flags: proto.FlagStart, Channel: 2, Sender: 3, Seq: 1, Duration: 960}, pkt, now)
	h.e.Voice(proto.VoiceHeader{Flags: proto.FlagStart, Channel: 3, Sender: 4, Seq: 1, Duration: 960}, pkt, now)
	h.e.SetChannelVolume("ops", 0.25)
	h.e.SetVolume("otto", 2)
	if g3, g4 := h.e.gain(3), h.e.gain(4); g3 != 0.5 || g4 != 1 {
		t.Errorf("gains otto %v dora %v, want 0.5 and 1", g3, g4)
	}
	if h.e.ChannelVolume("ops") != 0.25 || h.e.ChannelVolume("dock") != 1 {
		t.Errorf("channel volumes %v %v", h.e.ChannelVolume("ops"), h.e.ChannelVolume("dock"))
	}
	// otto calls: the call is heard at his own volume, not ops'.
	h.e.Voice(proto.VoiceHeader{Flags: proto.FlagStart, Channel: proto.WhisperChannel, Sender: 3, Seq: 2, Duration: 960}, pkt, now)
	if g := h.e.gain(3); g != 2 {
		t.Errorf("otto's call at %v, want 2 (his volume, not the channel's)", g)
	}
	h.e.SetChannelVolume("ops", 1)
	h.e.Voice(proto.VoiceHeader{Channel: 2, Sender: 3, Seq: 3, Duration: 960}, pkt, now)
	if g := h.e.gain(3); g != 2 {
		t.Errorf("ops reset: otto at %v", g)
	}
}

// TestCallCueAndPressCall: a call to this station plays the call cue
// (not one from us, not one to someone else); PressCall calls the named
// user, and a refusal sounds the busy tone.
func TestCallCueAndPressCall(t *testing.T) {
	h := start(t, nil)
	h.e.Press(false)
	h.play.pull(t) // Run has the floor (our session)
	h.e.Event(client.Event{Msg: &proto.Whisper{From: 3, FromName: "bob", To: 9, ToName: "carol", Active: true}})
	h.e.Event(client.Event{Msg: &proto.Whisper{From: 7, FromName: "me", To: 3, ToName: "bob", Active: true}})
	if energy(h.play.pull(t)) != 0 {
		t.Error("a call not to us played the call cue")
	}
	h.e.Event(client.Event{Msg: &proto.Whisper{From: 3, FromName: "bob", To: 7, ToName: "me", Active: true}})
	if got := h.play.pull(t); !slices.Equal(got, tones.Call()[:audio.PeriodFrames]) {
		t.Error("a call to us did not play the call cue")
	}

	h.floor.calls = make(chan func() (Transmitter, error), 2)
	h.floor.called = make(chan string, 2)
	tx := newFakeTx()
	h.floor.calls <- func() (Transmitter, error) { return tx, nil }
	h.e.PressCall("frontdesk", true)
	h.waitState(t, "calling", func(s State) bool { return s.Talking })
	if to := <-h.floor.called; to != "frontdesk" {
		t.Errorf("called %q", to)
	}
	h.e.PressCall("frontdesk", false)
	<-tx.ended
	h.waitState(t, "idle", func(s State) bool { return !s.Talking && !s.Pressed })
	h.floor.calls <- func() (Transmitter, error) {
		return nil, &client.RelayError{Code: proto.CodeNoUser, Text: "frontdesk is not online"}
	}
	h.e.PressCall("frontdesk", true)
	h.waitState(t, "refused", func(s State) bool { return s.Busy })
	h.e.PressCall("frontdesk", false)
	if len(h.floor.answers) != 0 {
		t.Error("a call press asked for the channel's floor")
	}
}
