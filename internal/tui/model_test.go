package tui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/mattn/go-runewidth"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/engine"
	"github.com/hark-intercom/hark/internal/ptt"
	"github.com/hark-intercom/hark/proto"
)

type fakeClient struct {
	mu    sync.Mutex
	texts []string // "to|text"
	rings int
	joins []string
	// alarms raised, alarms acknowledged
	alarms int
	acks   []uint32
}

func (c *fakeClient) Text(_ context.Context, to, text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.texts = append(c.texts, to+"|"+text)
	return nil
}
func (c *fakeClient) Ring(context.Context, string) error {
	c.mu.Lock()
	c.rings++
	c.mu.Unlock()
	return nil
}
func (c *fakeClient) Alarm(context.Context, string) error {
	c.mu.Lock()
	c.alarms++
	c.mu.Unlock()
	return nil
}
func (c *fakeClient) AckAlarm(id uint32) error {
	c.mu.Lock()
	c.acks = append(c.acks, id)
	c.mu.Unlock()
	return nil
}
func (c *fakeClient) Join(_ context.Context, ch string) (proto.ChannelInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.joins = append(c.joins, ch)
	return proto.ChannelInfo{Name: ch, ID: 2, Mode: proto.ModeOpen}, nil
}
func (c *fakeClient) Channel() (proto.ChannelInfo, bool) {
	return proto.ChannelInfo{Name: "lobby", ID: 1}, true
}
func (c *fakeClient) Welcome() proto.Welcome {
	return proto.Welcome{Session: 1, Name: "alice",
		Channels: []proto.ChannelInfo{{Name: "lobby", ID: 1}, {Name: "ops", ID: 2, Mode: proto.ModeOpen}}}
}
func (c *fakeClient) Relay() string       { return "relay.example:4275" }
func (c *fakeClient) State() client.State { return client.StateConnected }

type fakeEngine struct {
	presses, echoes, pages []bool
	muted, deaf            bool
	volumes                map[string]float64
}

func (e *fakeEngine) Press(p bool)       { e.presses = append(e.presses, p) }
func (e *fakeEngine) PressEcho(p bool)   { e.echoes = append(e.echoes, p) }
func (e *fakeEngine) PressPage(p bool)   { e.pages = append(e.pages, p) }
func (e *fakeEngine) SetMuted(b bool)    { e.muted = b }
func (e *fakeEngine) SetDeafened(b bool) { e.deaf = b }
func (e *fakeEngine) SetVolume(n string, g float64) {
	if e.volumes == nil {
		e.volumes = map[string]float64{}
	}
	e.volumes[n] = g
}
func (e *fakeEngine) Volume(n string) float64 {
	if g, ok := e.volumes[n]; ok {
		return g
	}
	return 1
}
func (e *fakeEngine) Level() float64      { return -20 }
func (e *fakeEngine) State() engine.State { return engine.State{} }

func newTestModel(t *testing.T, hold ptt.HoldConfig) (*model, *fakeClient, *fakeEngine) {
	fc, fe := &fakeClient{}, &fakeEngine{}
	m := newModel(Config{Client: fc, Engine: fe, Hold: hold}, "space", context.Background())
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	return m, fc, fe
}

// run executes a command as the program would (batches are not used here).
func run(m *model, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	if msg := cmd(); msg != nil {
		if _, ok := msg.(expireMsg); ok {
			return // timers are driven by hand in these tests
		}
		m.Update(msg)
	}
}

func key(s string) tea.KeyMsg {
	switch s {
	case " ":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func TestViewFits80x24(t *testing.T) {
	m, _, _ := newTestModel(t, ptt.HoldConfig{})
	m.Update(eventMsg{client.Event{Msg: &proto.Presence{Users: []proto.UserInfo{
		{Session: 1, Name: "alice", Channel: "lobby"},
		{Session: 2, Name: "a-very-long-user-name-indeed", Channel: "lobby", Talking: true},
		{Session: 3, Name: "carol", Channel: "ops"}}}}})
	for i := range 40 {
		m.Update(eventMsg{client.Event{Msg: &proto.Text{From: 2, FromName: "bob", Time: time.Now().UnixMilli(),
			Text: strings.Repeat("long message ", 1+i%7)}}})
	}
	m.Update(eventMsg{client.Event{Msg: &proto.Ring{From: 3, FromName: "carol", Text: "lunch"}}})
	v := m.View()
	lines := strings.Split(v, "\n")
	if len(lines) != 24 {
		t.Errorf("%d lines, want 24:\n%s", len(lines), v)
	}
	for i, l := range lines {
		if w := runewidth.StringWidth(l); w > 80 {
			t.Errorf("line %d is %d cells wide: %q", i, w, l)
		}
	}
	for _, want := range []string{"alice@relay.example:4275", "#lobby (ptt)", "Online (3)", "▶ a-very-long-u",
		"Floor: a-very-long-user-name-indeed is talking", "** RING from carol: lunch **", "last ring: carol rang"} {
		if !strings.Contains(v, want) {
			t.Errorf("the screen lacks %q:\n%s", want, v)
		}
	}
}

func TestHoldAndToggleKeys(t *testing.T) {
	// Hold: the first space talks; the timeout releases.
	m, _, fe := newTestModel(t, ptt.HoldConfig{})
	run(m, m.keyPress(key(" ")))
	run(m, m.keyPress(key("   "))) // auto-repeats read at once
	if len(fe.presses) != 1 || !fe.presses[0] {
		t.Fatalf("presses %v after holding space", fe.presses)
	}
	m.expire(m.hold.Deadline())
	if len(fe.presses) != 2 || fe.presses[1] {
		t.Fatalf("presses %v after the repeats stopped", fe.presses)
	}

	// Toggle: press, (repeats ignored), timeout keeps talking, press again stops.
	m, _, fe = newTestModel(t, ptt.HoldConfig{Toggle: true})
	run(m, m.keyPress(key(" ")))
	m.expire(m.hold.Deadline())
	if len(fe.presses) != 1 || !fe.presses[0] {
		t.Fatalf("toggle: presses %v after one press", fe.presses)
	}
	run(m, m.keyPress(key(" ")))
	if len(fe.presses) != 2 || fe.presses[1] {
		t.Fatalf("toggle: presses %v after the second press", fe.presses)
	}
}

func TestTextChannelRingKeys(t *testing.T) {
	m, fc, fe := newTestModel(t, ptt.HoldConfig{})
	run(m, m.keyPress(key(" "))) // talking…
	run(m, m.keyPress(key("t"))) // …typing releases the talk key
	if len(fe.presses) != 2 || fe.presses[1] {
		t.Errorf("presses %v: typing did not release talk", fe.presses)
	}
	for _, k := range []string{"h", "i", " ", "a", "l", "l"} {
		run(m, m.keyPress(key(k)))
	}
	if !strings.Contains(m.View(), "> hi all█") {
		t.Errorf("the input line is not shown:\n%s", m.View())
	}
	run(m, m.keyPress(key("enter")))
	run(m, m.keyPress(key("t")))
	for _, k := range []string{"@", "b", "o", "b", " ", "y", "o"} {
		run(m, m.keyPress(key(k)))
	}
	run(m, m.keyPress(key("enter")))
	run(m, m.keyPress(key("r")))
	run(m, m.keyPress(key("c")))
	run(m, m.keyPress(key("2")))
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if strings.Join(fc.texts, ";") != "|hi all;bob|yo" || fc.rings != 1 || strings.Join(fc.joins, ",") != "ops" {
		t.Errorf("texts %q rings %d joins %v", fc.texts, fc.rings, fc.joins)
	}
	if !strings.Contains(m.View(), "#ops (open)") {
		t.Errorf("the channel did not change:\n%s", m.View())
	}
}

func TestBusyShown(t *testing.T) {
	m, _, _ := newTestModel(t, ptt.HoldConfig{})
	m.Update(eventMsg{client.Event{Msg: &proto.Talking{Session: 2, Name: "bob", Talking: true}}})
	m.Update(engineMsg{engine.State{Pressed: true, Busy: true}})
	if v := m.View(); !strings.Contains(v, "Floor: BUSY — bob is talking") {
		t.Errorf("busy not shown:\n%s", v)
	}
	m.Update(eventMsg{client.Event{State: client.StateReconnecting, Err: context.DeadlineExceeded}})
	if v := m.View(); !strings.Contains(v, "[RECONNECTING]") || !strings.Contains(v, "deadline exceeded") {
		t.Errorf("reconnecting not shown:\n%s", v)
	}
}

// TestMicTestKey: e starts a microphone test (an echo press, releasing a
// held talk key first), its timer ends the recording, and a second e while
// recording does nothing.
func TestMicTestKey(t *testing.T) {
	m, _, fe := newTestModel(t, ptt.HoldConfig{})
	run(m, m.keyPress(key(" "))) // talking…
	if cmd := m.keyPress(key("e")); cmd == nil {
		t.Fatal("no timer for the end of the test")
	}
	if len(fe.presses) != 2 || fe.presses[1] || len(fe.echoes) != 1 || !fe.echoes[0] {
		t.Fatalf("presses %v, echoes %v after e", fe.presses, fe.echoes)
	}
	if !strings.Contains(m.View(), "microphone test: speak now") {
		t.Errorf("no instruction on the screen:\n%s", m.View())
	}
	if cmd := m.keyPress(key("e")); cmd != nil || len(fe.echoes) != 1 {
		t.Errorf("a second e started another test: %v", fe.echoes)
	}
	m.Update(echoDoneMsg{})
	if len(fe.echoes) != 2 || fe.echoes[1] {
		t.Errorf("echoes %v after the timer", fe.echoes)
	}
	if !strings.Contains(m.View(), "playing back") {
		t.Errorf("screen:\n%s", m.View())
	}
}

// TestMuteDeafenVolumeKeys: m and d toggle the engine's mute and deafen
// and say so; v sets a person's volume by name.
func TestMuteDeafenVolumeKeys(t *testing.T) {
	m, _, fe := newTestModel(t, ptt.HoldConfig{})
	run(m, m.keyPress(key("m")))
	if !fe.muted || !strings.Contains(m.View(), "MUTED") {
		t.Errorf("m: muted %v\n%s", fe.muted, m.View())
	}
	run(m, m.keyPress(key("m")))
	if fe.muted {
		t.Error("a second m did not unmute")
	}
	run(m, m.keyPress(key("d")))
	if !fe.deaf || !strings.Contains(m.View(), "DEAFENED") {
		t.Errorf("d: deaf %v\n%s", fe.deaf, m.View())
	}
	typeLine := func(s string) {
		run(m, m.keyPress(key("v")))
		run(m, m.keyPress(key(s)))
		run(m, m.keyPress(key("enter")))
	}
	typeLine("bob 50")
	if fe.volumes["bob"] != 0.5 || !strings.Contains(m.flash, "bob's volume is now 50%") {
		t.Errorf("bob 50: %v, %q", fe.volumes, m.flash)
	}
	typeLine("carol mute")
	if g, ok := fe.volumes["carol"]; !ok || g != 0 || !strings.Contains(m.flash, "carol is muted for you") {
		t.Errorf("carol mute: %v, %q", fe.volumes, m.flash)
	}
	typeLine("bob")
	if !strings.Contains(m.flash, "bob's volume is 50%") {
		t.Errorf("bob: %q", m.flash)
	}
	typeLine("bob loud")
	if fe.volumes["bob"] != 0.5 || !strings.Contains(m.flash, "percentage from 0 to 400") {
		t.Errorf("bob loud: %v, %q", fe.volumes, m.flash)
	}
}

// TestAlarmKeys: an alarm shows and stays until this station's
// acknowledgement comes back; a acknowledges the newest; ! raises one.
func TestAlarmKeys(t *testing.T) {
	m, fc, _ := newTestModel(t, ptt.HoldConfig{})
	now := time.Now()
	m.Update(eventMsg{client.Event{Time: now, Msg: &proto.Ring{From: 2, FromName: "bob", Text: "fire", Flags: proto.RingAlarm, Alarm: 9, Time: now.UnixMilli()}}})
	lines := func() string {
		var b strings.Builder
		for _, l := range m.lines {
			b.WriteString(l.text + "\n")
		}
		return b.String()
	}
	v := m.View()
	for _, want := range []string{"ALARM — press a", "a ACKNOWLEDGE ALARM"} {
		if !strings.Contains(v, want) {
			t.Errorf("no %q on the screen:\n%s", want, v)
		}
	}
	if !strings.Contains(lines(), "ALARM from bob: fire — press a to acknowledge") {
		t.Errorf("messages:\n%s", lines())
	}
	run(m, m.keyPress(key("a")))
	if len(fc.acks) != 1 || fc.acks[0] != 9 {
		t.Fatalf("acks %v", fc.acks)
	}
	m.Update(eventMsg{client.Event{Time: now, Msg: &proto.AlarmAck{Alarm: 9, Session: 3, Name: "carol", Pending: 1}}})
	if !strings.Contains(lines(), "carol acknowledged the alarm (1 station(s) still ringing)") || m.alarms.Len() != 1 {
		t.Errorf("after carol's ack:\n%s", lines())
	}
	m.Update(eventMsg{client.Event{Time: now, Msg: &proto.AlarmAck{Alarm: 9, Session: 1, Name: "alice", Pending: 0, Over: true}}})
	if m.alarms.Len() != 0 || strings.Contains(m.View(), "ALARM —") {
		t.Errorf("the alarm stays after our acknowledgement:\n%s", m.View())
	}
	run(m, m.keyPress(key("!")))
	if fc.alarms != 1 {
		t.Errorf("! raised %d alarms", fc.alarms)
	}
}

// TestPageKey: holding shift-P pages; the hold's timeout releases it.
func TestPageKey(t *testing.T) {
	m, _, fe := newTestModel(t, ptt.HoldConfig{})
	run(m, m.keyPress(key("P")))
	run(m, m.keyPress(key("PPP")))
	if len(fe.pages) != 1 || !fe.pages[0] || len(fe.presses) != 0 {
		t.Fatalf("pages %v, presses %v", fe.pages, fe.presses)
	}
	m.expire(m.hold.Deadline())
	if len(fe.presses) != 1 || fe.presses[0] {
		t.Fatalf("release: presses %v", fe.presses)
	}
}
