package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/proto"
)

// Listening to several channels (key l) and calling one person (keys w and
// W). Both need a Client that can monitor (Monitorer) and an Engine that
// can call (CallEngine); *client.Client and *engine.Engine are both.

// Monitorer is a Client that can hear other channels besides its own.
type Monitorer interface {
	Monitor(ctx context.Context, channels []string) ([]proto.ChannelInfo, error)
	Monitored() []proto.ChannelInfo
}

// CallEngine is an Engine that can hold a call to one person and set a
// channel's volume.
type CallEngine interface {
	PressCall(to string, pressed bool)
	SetChannelVolume(name string, gain float64)
	ChannelVolume(name string) float64
}

// Keyboard modes of this file.
const (
	modeListen mode = 100 + iota // ticking channels to hear
	modeCall                     // typing whom W calls
)

// monitoredMsg is the relay's answer to a change of the monitored set.
type monitoredMsg struct {
	chs []proto.ChannelInfo
	err error
}

// listening reports whether channel name is monitored.
func (m *model) listening(name string) bool {
	return slices.ContainsFunc(m.monitored, func(c proto.ChannelInfo) bool { return c.Name == name })
}

// listenKey toggles a channel by its number; Enter or Esc ends.
func (m *model) listenKey(k tea.KeyMsg) tea.Cmd {
	switch k.Type {
	case tea.KeyEsc, tea.KeyEnter:
		m.mode = modeNormal
		return nil
	case tea.KeyRunes:
		chans := m.welcome.Channels
		if len(k.Runes) != 1 {
			return nil
		}
		n := int(k.Runes[0] - '0')
		if n < 1 || n > len(chans) || n > 9 {
			m.flash = fmt.Sprintf("press a channel's number (1 to %d) to tick or untick it, Enter when done", min(len(chans), 9))
			return nil
		}
		name := chans[n-1].Name
		var want []string
		for _, c := range m.monitored {
			if c.Name != name {
				want = append(want, c.Name)
			}
		}
		if !m.listening(name) {
			if name == m.channel.Name && m.inChan {
				m.flash = "you are in " + name + ": you hear it anyway"
				return nil
			}
			want = append(want, name)
		}
		return m.monitor(want)
	}
	return nil
}

// monitor asks the relay to hear channels besides ours.
func (m *model) monitor(want []string) tea.Cmd {
	mon, ok := m.cfg.Client.(Monitorer)
	if !ok {
		m.flash = "this connection cannot listen to other channels"
		return nil
	}
	ctx := m.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTime)
		defer cancel()
		chs, err := mon.Monitor(ctx, want)
		return monitoredMsg{chs, err}
	}
}

func (m *model) monitoredDone(msg monitoredMsg) {
	if msg.err != nil {
		m.flash = "could not change the channels you listen to: " + msg.err.Error()
		return
	}
	m.monitored = msg.chs
	if len(msg.chs) == 0 {
		m.flash = "listening to your channel only"
		return
	}
	m.flash = "also listening to " + m.monitoredNames()
}

func (m *model) monitoredNames() string {
	names := make([]string, len(m.monitored))
	for i, c := range m.monitored {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// listenPrompt draws the channels with their ticks.
func (m *model) listenPrompt() string {
	var parts []string
	for i, c := range m.welcome.Channels {
		if i >= 9 {
			break
		}
		tick := "[ ]"
		switch {
		case c.Name == m.channel.Name && m.inChan:
			tick = "[•]"
		case m.listening(c.Name):
			tick = "[x]"
		}
		parts = append(parts, fmt.Sprintf("%d%s%s", i+1, tick, c.Name))
	}
	return "listen: " + strings.Join(parts, " ") + " (number ticks, Enter done)"
}

// callKey reads whom W calls.
func (m *model) callKey(k tea.KeyMsg) tea.Cmd {
	switch k.Type {
	case tea.KeyEsc:
		m.mode, m.input = modeNormal, nil
		return nil
	case tea.KeyEnter:
		// One name, several (bob, carol), or role:page: a group call.
		names := client.Callees(strings.ReplaceAll(string(m.input), "@", ""))
		m.mode, m.input = modeNormal, nil
		if len(names) == 0 {
			return nil
		}
		if len(names) == 1 && names[0] == m.welcome.Name {
			m.flash = "that is you: call someone else"
			return nil
		}
		if err := accounts.CheckCallees(names, m.welcome.Name); err != nil {
			m.flash = err.Error()
			return nil
		}
		for _, name := range names {
			if !strings.HasPrefix(name, proto.GroupCallRole) && !slices.ContainsFunc(m.roster.Users(), func(u proto.UserInfo) bool { return u.Name == name }) {
				m.flash = name + " is not online: a call reaches only someone who is"
				return nil
			}
		}
		m.callTo = strings.Join(names, ", ")
		m.flash = "hold W to talk to " + m.callTo + " alone"
		return nil
	}
	m.edit(k)
	return nil
}

// callPress handles a W key: held, it talks to m.callTo alone.
func (m *model) callPress() tea.Cmd {
	ce, ok := m.cfg.Engine.(CallEngine)
	if !ok {
		m.flash = "this connection cannot call one person"
		return nil
	}
	if m.callTo == "" {
		m.flash = "press w first to pick whom to call"
		return nil
	}
	if pressed, changed := m.hold.Key(time.Now()); changed {
		ce.PressCall(m.callTo, pressed)
		if pressed {
			m.stopReplay("replay stopped: you are calling")
			m.flash = "talking to " + m.callTo + " alone while you hold W"
		}
	}
	return m.expireCmd()
}

// whisperEvent shows a call to or from us (m.calls keeps the one on the air).
func (m *model) whisperEvent(at time.Time, w *proto.Whisper) {
	m.calls.Apply(w, m.welcome.Name)
	if from, to := client.CallParties(w, m.welcome.Name, "you"); w.Active {
		m.addLine(1, at, "CALL "+from+" → "+to+" (nobody else hears it)")
		if to == "you" {
			m.stopReplay("replay stopped: " + from + " is calling you")
		}
	}
}

// talkingElsewhere notes who talks in a monitored channel.
func (m *model) talkingElsewhere(t *proto.Talking) {
	if m.heard == nil {
		m.heard = map[uint16]string{}
	}
	if t.Talking {
		m.heard[t.Channel] = t.Name
	} else if m.heard[t.Channel] == t.Name {
		delete(m.heard, t.Channel)
	}
}

// heardLine lists who talks in monitored channels, for the floor line.
func (m *model) heardLine() string {
	var parts []string
	for _, c := range m.monitored {
		if n, ok := m.heard[c.ID]; ok {
			parts = append(parts, c.Name+": "+n)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "   also hearing " + strings.Join(parts, ", ")
}

// channelVolume handles "v #channel LEVEL" (pct < 0: show the volume).
func (m *model) channelVolume(name string, pct float64) {
	ce, ok := m.cfg.Engine.(CallEngine)
	if !ok {
		m.flash = "this connection cannot set a channel's volume"
		return
	}
	if !slices.ContainsFunc(m.welcome.Channels, func(c proto.ChannelInfo) bool { return c.Name == name }) {
		m.flash = "there is no channel " + name
		return
	}
	if pct < 0 {
		m.flash = fmt.Sprintf("channel %s's volume is %.0f%%", name, 100*ce.ChannelVolume(name))
		return
	}
	ce.SetChannelVolume(name, pct/100)
	if pct == 0 {
		m.flash = "channel " + name + " is silent for you (v #" + name + " reset to hear it again)"
	} else {
		m.flash = fmt.Sprintf("channel %s's volume is now %.0f%%", name, pct)
	}
}
