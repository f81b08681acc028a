package tui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/ptt"
	"github.com/hark-intercom/hark/proto"
)

// monitorClient is a fakeClient that can monitor.
type monitorClient struct {
	*fakeClient
	sets [][]string
}

func (c *monitorClient) Monitor(_ context.Context, chs []string) ([]proto.ChannelInfo, error) {
	c.sets = append(c.sets, chs)
	var out []proto.ChannelInfo
	for _, n := range chs {
		for _, ch := range c.Welcome().Channels {
			if ch.Name == n {
				out = append(out, ch)
			}
		}
	}
	return out, nil
}
func (c *monitorClient) Monitored() []proto.ChannelInfo { return nil }

// callEngine is a fakeEngine that can call and set channel volumes.
type callEngine struct {
	*fakeEngine
	calls   []string // "to|pressed"
	chanVol map[string]float64
}

func (e *callEngine) PressCall(to string, p bool) {
	e.calls = append(e.calls, to+"|"+map[bool]string{true: "on", false: "off"}[p])
}
func (e *callEngine) SetChannelVolume(n string, g float64) {
	if e.chanVol == nil {
		e.chanVol = map[string]float64{}
	}
	e.chanVol[n] = g
}
func (e *callEngine) ChannelVolume(n string) float64 { return e.chanVol[n] }

func newIntercomModel(t *testing.T) (*model, *monitorClient, *callEngine) {
	fc := &monitorClient{fakeClient: &fakeClient{}}
	fe := &callEngine{fakeEngine: &fakeEngine{}}
	m := newModel(Config{Client: fc, Engine: fe, Hold: ptt.HoldConfig{Toggle: true}}, "space", context.Background())
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	m.Update(eventMsg{client.Event{Msg: &proto.Presence{Users: []proto.UserInfo{
		{Session: 1, Name: "alice", Channel: "lobby"}, {Session: 2, Name: "bob", Channel: "lobby"}, {Session: 3, Name: "otto", Channel: "ops"}}}}})
	return m, fc, fe
}

// TestListenKeys: l then a channel's number ticks it (the relay is asked
// for the new set), again unticks it; the header and the floor line show
// the monitored channel and who talks there, without taking our floor.
func TestListenKeys(t *testing.T) {
	m, fc, _ := newIntercomModel(t)
	run(m, m.keyPress(key("l")))
	if !strings.Contains(m.View(), "listen: 1[•]lobby 2[ ]ops") {
		t.Fatalf("listen prompt:\n%s", m.View())
	}
	run(m, m.keyPress(key("2")))
	if len(fc.sets) != 1 || !slices.Equal(fc.sets[0], []string{"ops"}) {
		t.Fatalf("monitor requests %v", fc.sets)
	}
	if !strings.Contains(m.View(), "2[x]ops") || !strings.Contains(m.View(), "#lobby (ptt) +ops") {
		t.Fatalf("after ticking ops:\n%s", m.View())
	}
	run(m, m.keyPress(key("1")))
	if len(fc.sets) != 1 || !strings.Contains(m.flash, "you hear it anyway") {
		t.Fatalf("ticking our own channel: %v %q", fc.sets, m.flash)
	}
	run(m, m.keyPress(key("enter")))
	m.Update(eventMsg{client.Event{Msg: &proto.Talking{Channel: 2, Session: 3, Name: "otto", Talking: true}}})
	if fl := m.floorLine(); !strings.Contains(fl, "Floor: free") || !strings.Contains(fl, "also hearing ops: otto") {
		t.Fatalf("floor line %q", fl)
	}
	run(m, m.keyPress(key("l")))
	run(m, m.keyPress(key("2")))
	if len(fc.sets) != 2 || len(fc.sets[1]) != 0 || strings.Contains(m.View(), "+ops") {
		t.Fatalf("unticking: %v\n%s", fc.sets, m.View())
	}
}

// TestCallKeys: w picks whom to call (someone online), W talks to them
// alone; a call to us is shown as "bob → you"; v #ops 30 sets a channel's
// volume.
func TestCallKeys(t *testing.T) {
	m, _, fe := newIntercomModel(t)
	run(m, m.keyPress(key("W")))
	if len(fe.calls) != 0 || !strings.Contains(m.flash, "press w first") {
		t.Fatalf("W with nobody picked: %v %q", fe.calls, m.flash)
	}
	for _, k := range []string{"w", "z", "e", "d", "enter"} {
		run(m, m.keyPress(key(k)))
	}
	if !strings.Contains(m.flash, "zed is not online") {
		t.Fatalf("calling someone offline: %q", m.flash)
	}
	for _, k := range []string{"w", "b", "o", "b", "enter"} {
		run(m, m.keyPress(key(k)))
	}
	run(m, m.keyPress(key("W"))) // toggle mode: on
	m.expire(m.hold.Deadline())
	run(m, m.keyPress(key("W"))) // off
	if !slices.Equal(fe.calls, []string{"bob|on", "bob|off"}) {
		t.Fatalf("calls %v", fe.calls)
	}
	if len(fe.presses) != 0 {
		t.Fatalf("W talked in the channel: %v", fe.presses)
	}
	m.Update(eventMsg{client.Event{Time: time.Now(), Msg: &proto.Whisper{From: 2, FromName: "bob", To: 1, ToName: "alice", Active: true}}})
	if !strings.Contains(m.View(), "CALL bob → you") || !strings.Contains(m.floorLine(), "CALL bob → you") {
		t.Fatalf("a call to us:\n%s", m.View())
	}
	m.Update(eventMsg{client.Event{Msg: &proto.Whisper{From: 2, FromName: "bob", To: 1, ToName: "alice"}}})
	if strings.Contains(m.floorLine(), "CALL") {
		t.Fatalf("the call ended: %q", m.floorLine())
	}
	for _, k := range []string{"v", "#", "o", "p", "s", " ", "3", "0", "enter"} {
		run(m, m.keyPress(key(k)))
	}
	if fe.chanVol["ops"] != 0.3 {
		t.Fatalf("channel volumes %v (%q)", fe.chanVol, m.flash)
	}
}

// TestCallAGroup: w takes several names (bob, otto) or a role (role:page);
// W then calls them all; someone offline among them is refused.
func TestCallAGroup(t *testing.T) {
	m, _, fe := newIntercomModel(t)
	typeLine := func(s string) {
		run(m, m.keyPress(key("w")))
		for _, r := range s {
			run(m, m.keyPress(key(string(r))))
		}
		run(m, m.keyPress(key("enter")))
	}
	typeLine("bob,zed")
	if !strings.Contains(m.flash, "zed is not online") || m.callTo != "" {
		t.Fatalf("a group with someone offline: %q (calls %q)", m.flash, m.callTo)
	}
	typeLine("role:nurses")
	if !strings.Contains(m.flash, "no role") {
		t.Fatalf("an unknown role: %q", m.flash)
	}
	typeLine("bob,otto")
	if m.callTo != "bob, otto" || !strings.Contains(m.flash, "bob, otto alone") {
		t.Fatalf("group picked: %q, %q", m.callTo, m.flash)
	}
	run(m, m.keyPress(key("W")))
	if !slices.Equal(fe.calls, []string{"bob, otto|on"}) {
		t.Fatalf("calls %v", fe.calls)
	}
	m.expire(m.hold.Deadline())
	run(m, m.keyPress(key("W")))
	typeLine("role:page")
	if m.callTo != "role:page" {
		t.Fatalf("a role: %q, %q", m.callTo, m.flash)
	}
}
