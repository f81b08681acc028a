package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/ptt"
	"github.com/hark-intercom/hark/proto"
)

// fakeReplayer's Play blocks until its context ends or done is closed.
type fakeReplayer struct {
	items   []proto.HistoryItem
	started chan uint64
	done    chan struct{}
}

func (r *fakeReplayer) Latest(_ context.Context, channel string) (proto.HistoryItem, bool, error) {
	for _, it := range r.items {
		if it.Channel == channel {
			return it, true, nil
		}
	}
	return proto.HistoryItem{}, false, nil
}

func (r *fakeReplayer) Play(ctx context.Context, id uint64) error {
	r.started <- id
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-r.done:
		return nil
	}
}

func TestMissedShownUnderMarker(t *testing.T) {
	m, _, _ := newTestModel(t, ptt.HoldConfig{})
	now := time.Now()
	then := time.Date(now.Year(), now.Month(), now.Day(), 9, 2, 0, 0, time.Local).UnixMilli()
	missed := &proto.History{Flags: proto.HistoryMissed, Items: []proto.HistoryItem{
		{ID: 4, Kind: proto.ItemText, Time: then, From: "bob", Channel: "lobby", Text: "meeting at ten"},
		{ID: 5, Kind: proto.ItemRing, Time: then, From: "bob"},
		{ID: 6, Kind: proto.ItemVoice, Flags: proto.ItemAudio, Time: then, From: "bob", Channel: "lobby", Duration: 4200},
	}}
	m.Update(eventMsg{client.Event{Msg: missed}})
	// After a reconnection, the marker again.
	m.Update(eventMsg{client.Event{State: client.StateReconnecting}})
	m.Update(eventMsg{client.Event{Msg: &proto.History{Flags: proto.HistoryMissed, Items: []proto.HistoryItem{
		{ID: 7, Kind: proto.ItemPrivate, Time: then, From: "carol", To: "alice", Text: "call me"}}}}})
	// An item from another day says which.
	m.Update(eventMsg{client.Event{Msg: &proto.History{Flags: proto.HistoryMissed, Items: []proto.HistoryItem{
		{ID: 8, Kind: proto.ItemText, Time: time.Date(2020, 3, 4, 5, 6, 0, 0, time.Local).UnixMilli(), From: "dave", Channel: "lobby", Text: "long ago"}}}}})
	// An answer to a query is not catch-up: not shown.
	m.Update(eventMsg{client.Event{Msg: &proto.History{Req: 3, Items: []proto.HistoryItem{{ID: 1, Kind: proto.ItemText, Text: "ancient-item"}}}}})
	v := m.View()
	for _, want := range []string{"-- ── while you were away (3) ──", "09:02 bob in lobby: meeting at ten",
		"09:02 ** ring from bob **", "09:02 -- bob talked in lobby for 4.2s", "── while you were away (1) ──",
		"carol to you (private): call me", "last ring: bob rang at 09:02", "Mar 4 05:06 dave in lobby: long ago"} {
		if !strings.Contains(v, want) {
			t.Errorf("the screen lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "ancient-item") {
		t.Errorf("a query's answer was shown as missed:\n%s", v)
	}
}

func TestRecordedChannelShown(t *testing.T) {
	m, _, _ := newTestModel(t, ptt.HoldConfig{})
	m.Update(eventMsg{client.Event{Msg: &proto.Joined{ChannelInfo: proto.ChannelInfo{Name: "ops", ID: 2, History: proto.HistoryVoice}}}})
	if v := m.View(); !strings.Contains(v, "#ops (ptt) ● recorded") {
		t.Errorf("a channel that keeps voice is not shown as recorded:\n%s", v)
	}
	m.Update(eventMsg{client.Event{Msg: &proto.Joined{ChannelInfo: proto.ChannelInfo{Name: "lobby", ID: 1}}}})
	if v := m.View(); strings.Contains(v, "recorded") {
		t.Errorf("a channel without history is shown as recorded:\n%s", v)
	}
}

// A channel whose rules let this user only listen says so in the header,
// and stops saying it when an admin opens the channel again.
func TestListenOnlyChannelShown(t *testing.T) {
	m, _, _ := newTestModel(t, ptt.HoldConfig{})
	m.Update(eventMsg{client.Event{Msg: &proto.Joined{ChannelInfo: proto.ChannelInfo{Name: "news", ID: 3, Access: proto.AccessNoTalk}}}})
	if v := m.View(); !strings.Contains(v, "#news (ptt) listen only") {
		t.Errorf("a listen-only channel is not shown as such:\n%s", v)
	}
	m.Update(eventMsg{client.Event{Msg: &proto.Joined{ChannelInfo: proto.ChannelInfo{Name: "news", ID: 3}}}})
	if v := m.View(); strings.Contains(v, "listen only") {
		t.Errorf("the channel is still shown listen-only:\n%s", v)
	}
}

func TestReplayKeyAndInterruption(t *testing.T) {
	fr := &fakeReplayer{started: make(chan uint64, 2), done: make(chan struct{}),
		items: []proto.HistoryItem{{ID: 9, Kind: proto.ItemVoice, Flags: proto.ItemAudio, From: "bob", Channel: "lobby", Duration: 3000}}}
	m, _, _ := newTestModel(t, ptt.HoldConfig{})
	m.cfg.Replay = fr
	if v := m.View(); !strings.Contains(v, "p replay") {
		t.Errorf("the key help lacks the replay key:\n%s", v)
	}
	find := m.keyPress(key("p"))
	msg := find().(replayFoundMsg)
	_, playCmd := m.Update(msg)
	if !strings.Contains(m.View(), "playing: bob talked in lobby for 3s") {
		t.Errorf("the replay is not announced:\n%s", m.View())
	}
	ended := make(chan any, 1)
	go func() { ended <- playCmd() }()
	if id := <-fr.started; id != 9 {
		t.Fatalf("played %d, want 9", id)
	}
	// bob talks live: the replay stops.
	m.Update(eventMsg{client.Event{Msg: &proto.Talking{Session: 2, Name: "bob", Talking: true}}})
	r := (<-ended).(replayMsg)
	if r.err != context.Canceled {
		t.Errorf("replay ended with %v, want it cancelled", r.err)
	}
	m.Update(r)
	if v := m.View(); !strings.Contains(v, "replay stopped: bob is talking") {
		t.Errorf("the interruption is not said:\n%s", v)
	}
	// Nothing stored in another channel.
	m.Update(eventMsg{client.Event{Msg: &proto.Talking{Session: 2, Name: "bob", Talking: false}}})
	m.channel.Name = "ops"
	msg = m.keyPress(key("p"))().(replayFoundMsg)
	m.Update(msg)
	if v := m.View(); !strings.Contains(v, "nothing to play") {
		t.Errorf("no transmission: %s", v)
	}
}

func TestWaitingTextThenDelivered(t *testing.T) {
	m, _, _ := newTestModel(t, ptt.HoldConfig{})
	m.Update(textMsg{to: "carol", ack: proto.TextAck{ClientID: 77, ID: 5, Status: proto.TextWaiting}})
	if v := m.View(); !strings.Contains(v, "waiting: carol is offline") {
		t.Errorf("waiting not said:\n%s", v)
	}
	m.Update(eventMsg{client.Event{Msg: &proto.TextAck{ClientID: 77, ID: 5, Status: proto.TextDelivered}}})
	if v := m.View(); !strings.Contains(v, "your text to carol was delivered") {
		t.Errorf("delivery not said:\n%s", v)
	}
}
